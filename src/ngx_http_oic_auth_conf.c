/*
 * Configuration of oic_auth: the main and location configuration (create,
 * merge and its checks, which run at nginx -t), the mode, zones, URLs and
 * the IAM protection directives. What bearer and exchange validate (issuers,
 * algorithms, keys, claims, the exchange's signer) is configured in
 * ngx_http_oic_auth_conf_jwt.c. Files named in directives (secrets, keys,
 * JWKS) are read once per configuration load.
 */

#include "ngx_http_oic_auth.h"


static char *ngx_http_oic_auth_merge_guard(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf);


static ngx_conf_enum_t  ngx_http_oic_auth_modes[] = {
    { ngx_string("basic"), NGX_HTTP_OIC_AUTH_BASIC },
    { ngx_string("bearer"), NGX_HTTP_OIC_AUTH_BEARER },
    { ngx_string("exchange"), NGX_HTTP_OIC_AUTH_EXCHANGE },
    { ngx_null_string, 0 }
};


void *
ngx_http_oic_auth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_oic_auth_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_oic_auth_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    ngx_http_oic_auth_fleet_create_conf(&mcf->fleet);

    return mcf;
}


char *
ngx_http_oic_auth_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_oic_auth_main_conf_t *mcf = conf;

    return ngx_http_oic_auth_fleet_init_conf(cf, &mcf->fleet);
}


void *
ngx_http_oic_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_oic_auth_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_oic_auth_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc(): all ngx_str_t fields, conf->policy,
     * conf->jwks_key, conf->scopes_text, conf->client_secret, conf->guard,
     * conf->endpoint_key, conf->jwks_endpoint_key
     */

    conf->modes = NGX_CONF_UNSET_UINT;
    conf->zone = NGX_CONF_UNSET_PTR;
    conf->refresh_margin = NGX_CONF_UNSET;
    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->ssl_verify = NGX_CONF_UNSET;

    conf->negative_ttl = NGX_CONF_UNSET;
    conf->failure_limit = NGX_CONF_UNSET_UINT;
    conf->failure_window = NGX_CONF_UNSET;
    conf->budget.rate = NGX_CONF_UNSET_UINT;
    conf->connections = NGX_CONF_UNSET;
    conf->purge_status = NGX_CONF_UNSET_PTR;

    conf->jwks_static = NGX_CONF_UNSET_PTR;
    conf->jwks_refresh = NGX_CONF_UNSET;
    conf->issuers = NGX_CONF_UNSET_PTR;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->algorithms = NGX_CONF_UNSET_UINT;
    conf->leeway = NGX_CONF_UNSET;
    conf->scopes_required = NGX_CONF_UNSET_PTR;
    conf->scopes_match = NGX_CONF_UNSET_UINT;
    conf->scope_claims = NGX_CONF_UNSET_PTR;
    conf->deny_status = NGX_CONF_UNSET_UINT;

    conf->signer = NGX_CONF_UNSET_PTR;
    conf->assertion_lifetime = NGX_CONF_UNSET;
    conf->exchange_grant = NGX_CONF_UNSET_UINT;
    conf->user_claims = NGX_CONF_UNSET_PTR;

    conf->limits = NGX_CONF_UNSET_PTR;

    return conf;
}


/* The realm goes into a quoted-string: no quotes, backslashes, controls. */
static ngx_int_t
ngx_http_oic_auth_check_realm(ngx_conf_t *cf, ngx_str_t *realm)
{
    size_t  i;

    for (i = 0; i < realm->len; i++) {
        if (realm->data[i] == '"' || realm->data[i] == '\\'
            || realm->data[i] < 0x20 || realm->data[i] == 0x7f)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"oic_auth_realm\" \"%V\": quotes, "
                               "backslashes and control characters are not "
                               "allowed", realm);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


char *
ngx_http_oic_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_oic_auth_loc_conf_t  *prev = parent;
    ngx_http_oic_auth_loc_conf_t  *conf = child;

    ngx_conf_merge_uint_value(conf->modes, prev->modes, 0);
    ngx_conf_merge_ptr_value(conf->zone, prev->zone, NULL);
    ngx_conf_merge_str_value(conf->token_endpoint, prev->token_endpoint, "");
    ngx_conf_merge_str_value(conf->scope, prev->scope, "");
    ngx_conf_merge_sec_value(conf->refresh_margin, prev->refresh_margin, 60);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 5000);
    ngx_conf_merge_value(conf->ssl_verify, prev->ssl_verify, 1);
    ngx_conf_merge_str_value(conf->ssl_trusted_certificate,
                             prev->ssl_trusted_certificate, "");
    ngx_conf_merge_str_value(conf->realm, prev->realm, "oic");

    if (ngx_http_oic_auth_check_realm(cf, &conf->realm) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_oic_auth_merge_bearer(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_oic_auth_merge_exchange(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_oic_auth_merge_limits(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->ssl_trusted_certificate.len
        && conf->ssl_trusted_certificate.data
           != prev->ssl_trusted_certificate.data
        && ngx_conf_full_name(cf->cycle, &conf->ssl_trusted_certificate, 1)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_oic_auth_merge_guard(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->modes == 0) {
        return NGX_CONF_OK;
    }

    if (conf->zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth\" requires \"oic_auth_cache\"");
        return NGX_CONF_ERROR;
    }

    if ((conf->modes & (NGX_HTTP_OIC_AUTH_BASIC|NGX_HTTP_OIC_AUTH_EXCHANGE))
        && conf->token_endpoint.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth %s\" requires "
                           "\"oic_auth_token_endpoint\"",
                           (conf->modes & NGX_HTTP_OIC_AUTH_BASIC)
                           ? "basic" : "exchange");
        return NGX_CONF_ERROR;
    }

    /* IAM refuses a token request without a scope: every call would fail */
    if ((conf->modes & (NGX_HTTP_OIC_AUTH_BASIC|NGX_HTTP_OIC_AUTH_EXCHANGE))
        && conf->scope.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth %s\" requires \"oic_auth_scope\"",
                           (conf->modes & NGX_HTTP_OIC_AUTH_BASIC)
                           ? "basic" : "exchange");
        return NGX_CONF_ERROR;
    }

    if (conf->timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_timeout\" must be greater than 0");
        return NGX_CONF_ERROR;
    }

    /* the module-wide state that protects IAM (and the JWKS URIs) */

    conf->guard = ngx_http_oic_auth_guard_zone(cf);
    if (conf->guard == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Protecting IAM: the negative cache, the failure limit, the budget (one
 * per token endpoint and rate: locations that name both the same share
 * it), the connection cap, purges; and the keys of the endpoints' records
 * in the guard zone.
 */
static char *
ngx_http_oic_auth_merge_guard(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf)
{
    u_char     rate[NGX_INT_T_LEN], burst[NGX_INT_T_LEN];
    oic_str_t  fields[3];

    ngx_conf_merge_sec_value(conf->negative_ttl, prev->negative_ttl, 30);
    ngx_conf_merge_uint_value(conf->failure_limit, prev->failure_limit, 10);
    ngx_conf_merge_sec_value(conf->failure_window, prev->failure_window, 60);
    ngx_conf_merge_value(conf->connections, prev->connections, 8);
    ngx_conf_merge_ptr_value(conf->purge_status, prev->purge_status, NULL);

    if (conf->budget.rate == NGX_CONF_UNSET_UINT) {
        if (prev->budget.rate == NGX_CONF_UNSET_UINT) {
            /* 2r/s burst=8: within a free identity domain's 10/s, 150/min */
            conf->budget.rate = 2000;
            conf->budget.burst = 8000;

        } else {
            conf->budget.rate = prev->budget.rate;
            conf->budget.burst = prev->budget.burst;
        }
    }

    if (conf->token_endpoint.len) {
        ngx_http_oic_auth_guard_endpoint_key(&conf->token_endpoint,
                                             conf->endpoint_key);

        fields[0].data = (char *) conf->token_endpoint.data;
        fields[0].len = conf->token_endpoint.len;
        fields[1].data = (char *) rate;
        fields[1].len = ngx_sprintf(rate, "%ui", conf->budget.rate) - rate;
        fields[2].data = (char *) burst;
        fields[2].len = ngx_sprintf(burst, "%ui", conf->budget.burst) - burst;

        oic_cache_key("budget", fields, 3, conf->budget.key);
    }

    if (conf->jwks_uri.len) {
        ngx_http_oic_auth_guard_endpoint_key(&conf->jwks_uri,
                                             conf->jwks_endpoint_key);
    }

    return NGX_CONF_OK;
}


char *
ngx_http_oic_auth_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    ngx_str_t        *value;
    ngx_uint_t        i;
    ngx_conf_enum_t  *e;

    if (lcf->modes != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->modes = 0;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        for (e = ngx_http_oic_auth_modes; e->name.len; e++) {
            if (e->name.len == value[i].len
                && ngx_strcmp(e->name.data, value[i].data) == 0)
            {
                break;
            }
        }

        if (e->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\", it must be \"off\", "
                               "or one or more of \"basic\", \"bearer\", "
                               "\"exchange\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (lcf->modes & e->value) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate value \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        lcf->modes |= e->value;
    }

    if ((lcf->modes & NGX_HTTP_OIC_AUTH_BEARER)
        && (lcf->modes & NGX_HTTP_OIC_AUTH_EXCHANGE))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bearer\" and \"exchange\" cannot be combined: "
                           "both take Bearer tokens");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The shared memory zone of a zone directive's "NAME:SIZE" (at least 8
 * pages), for tag; NULL once an error is logged (a bad argument, a name
 * defined twice).
 */
ngx_shm_zone_t *
ngx_http_oic_auth_zone_add(ngx_conf_t *cf, ngx_str_t *arg, void *tag)
{
    u_char          *p;
    ssize_t          size;
    ngx_str_t        name, s;
    ngx_shm_zone_t  *shm_zone;

    p = (u_char *) ngx_strchr(arg->data, ':');

    if (p == NULL || p == arg->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", it must be NAME:SIZE", arg);
        return NULL;
    }

    name.data = arg->data;
    name.len = p - arg->data;

    s.data = p + 1;
    s.len = arg->data + arg->len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", arg);
        return NULL;
    }

    if (size < (ssize_t) NGX_OIC_CACHE_MIN_SIZE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: %V, the minimum is %uzk",
                           &name, &s, (size_t) NGX_OIC_CACHE_MIN_SIZE >> 10);
        return NULL;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size, tag);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NULL;
    }

    return shm_zone;
}


char *
ngx_http_oic_auth_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t        *value;
    ngx_shm_zone_t   *shm_zone;
    ngx_oic_cache_t  *cache;

    value = cf->args->elts;

    shm_zone = ngx_http_oic_auth_zone_add(cf, &value[1],
                                          &ngx_http_oic_auth_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    cache = ngx_oic_cache_create_ctx(cf->pool);
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_oic_cache_init_zone;
    shm_zone->data = cache;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "fleet") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", it must be "
                               "\"fleet\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_oic_auth_fleet_zone_add(cf, shm_zone) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_oic_auth_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->zone != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        lcf->zone = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "oic_auth_iam_guard") == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone name \"%V\" is reserved by oic_auth",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->zone = ngx_shared_memory_add(cf, &value[1], 0,
                                      &ngx_http_oic_auth_module);
    if (lcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* A URL the module calls: https://, or http:// to a loopback host only. */
char *
ngx_http_oic_auth_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    u_char     *p, *last, *host;
    size_t      len;
    ngx_str_t  *value;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;
    last = value[1].data + value[1].len;

    if (value[1].len > 8
        && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8) == 0)
    {
        host = value[1].data + 8;

    } else if (value[1].len > 7
               && ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) == 0)
    {
        host = value[1].data + 7;

        if (*host == '[') {
            p = ngx_strlchr(host, last, ']');
            len = p ? (size_t) (p + 1 - host) : 0;

        } else {
            for (p = host; p < last && *p != ':' && *p != '/'; p++) {
                /* void */
            }

            len = p - host;
        }

        /* userinfo hides the real host: "http://127.0.0.1:80@example.com/" */
        for (p = host; p < last && *p != '/' && *p != '?' && *p != '#'; p++) {
            if (*p == '@') {
                len = 0;
                break;
            }
        }

        if (!((len == 5 && ngx_strncmp(host, "[::1]", 5) == 0)
              || (len == 9
                  && ngx_strncasecmp(host, (u_char *) "localhost", 9) == 0)
              || (len >= 7 && len <= 15 && ngx_strncmp(host, "127.", 4) == 0
                  && ngx_inet_addr(host, len) != INADDR_NONE)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" \"%V\": plain http is only allowed to "
                               "a loopback host, use https://",
                               &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" \"%V\": invalid URL, "
                           "it must start with https://",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (host == last || *host == '/' || *host == ':') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" \"%V\": no host in URL",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* A list of strings (issuers, audiences, scopes, claim names). */
char *
ngx_http_oic_auth_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value;
    oic_str_t     *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(oic_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": empty value", &cmd->name);
            return NGX_CONF_ERROR;
        }

        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        s->data = (char *) value[i].data;
        s->len = value[i].len;
    }

    return NGX_CONF_OK;
}


/* A time within bounds (post handler of ngx_conf_set_sec_slot). */
char *
ngx_http_oic_auth_check_bounds(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_oic_auth_bounds_t  *b = post;
    time_t                      *tp = data;

    ngx_str_t  *value;

    if (*tp >= b->min && *tp <= b->max) {
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\", \"%V\" must be %s",
                       &value[1], &value[0], b->text);

    return NGX_CONF_ERROR;
}


/* oic_auth_iam_rate off | RATE [burst=N]; RATE as limit_req's: 10r/s, 150r/m */
char *
ngx_http_oic_auth_iam_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    ngx_int_t   rate, burst, scale;
    ngx_str_t  *value;

    if (lcf->budget.rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        lcf->budget.rate = 0;
        lcf->budget.burst = 0;
        return NGX_CONF_OK;
    }

    scale = 0;
    rate = NGX_ERROR;

    if (value[1].len > 3) {
        if (ngx_strncmp(value[1].data + value[1].len - 3, "r/s", 3) == 0) {
            scale = 1;

        } else if (ngx_strncmp(value[1].data + value[1].len - 3, "r/m", 3)
                   == 0)
        {
            scale = 60;
        }

        rate = ngx_atoi(value[1].data, value[1].len - 3);
    }

    if (scale == 0 || rate == NGX_ERROR || rate == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\", it must be like \"10r/s\" "
                           "or \"150r/m\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    burst = 0;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "burst=", 6) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        burst = ngx_atoi(value[2].data + 6, value[2].len - 6);

        if (burst == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid burst value \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    lcf->budget.rate = rate * 1000 / scale;
    lcf->budget.burst = burst * 1000;

    if (lcf->budget.rate == 0) {
        lcf->budget.rate = 1;
    }

    return NGX_CONF_OK;
}


/* oic_auth_failure_limit off | NUMBER TIME; */
char *
ngx_http_oic_auth_failure_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    time_t      window;
    ngx_int_t   n;
    ngx_str_t  *value;

    if (lcf->failure_limit != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (ngx_strcmp(value[1].data, "off") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\", it must be \"off\" or "
                               "a number and a time, e.g. \"10 1m\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        lcf->failure_limit = 0;
        lcf->failure_window = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be a number of "
                           "refusals greater than 0", &value[1]);
        return NGX_CONF_ERROR;
    }

    window = ngx_parse_time(&value[2], 1);

    if (window == (time_t) NGX_ERROR || window == 0 || window > 3600) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", \"%V\" must be a time "
                           "between 1s and 1h", &value[2], &cmd->name);
        return NGX_CONF_ERROR;
    }

    lcf->failure_limit = n;
    lcf->failure_window = window;

    return NGX_CONF_OK;
}


/* oic_auth_purge_on_status CODE ...; (300 to 599) */
char *
ngx_http_oic_auth_purge_on_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i, *code;

    if (lcf->purge_status != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        lcf->purge_status = NULL;
        return NGX_CONF_OK;
    }

    lcf->purge_status = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                         sizeof(ngx_uint_t));
    if (lcf->purge_status == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        n = ngx_atoi(value[i].data, value[i].len);

        if (n < 300 || n > 599) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\", it must be a status "
                               "code between 300 and 599", &value[i]);
            return NGX_CONF_ERROR;
        }

        code = ngx_array_push(lcf->purge_status);
        if (code == NULL) {
            return NGX_CONF_ERROR;
        }

        *code = n;
    }

    return NGX_CONF_OK;
}
