/*
 * Configuration of oic_auth: the location configuration (create, merge and
 * its checks, which run at nginx -t) and the directive setters that are not
 * nginx's stock ones. Files named in directives (secrets, keys, JWKS) are
 * read here, once per configuration load.
 */

#include "ngx_http_oic_auth.h"


static char *ngx_http_oic_auth_merge_bearer(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf);
static char *ngx_http_oic_auth_merge_exchange(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf);
static char *ngx_http_oic_auth_no_algorithm(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *conf);
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


static ngx_array_t *
ngx_http_oic_auth_default_list(ngx_conf_t *cf, ngx_str_t *names, ngx_uint_t n)
{
    ngx_uint_t    i;
    oic_str_t    *s;
    ngx_array_t  *a;

    a = ngx_array_create(cf->pool, n, sizeof(oic_str_t));
    if (a == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        s = ngx_array_push(a);
        s->data = (char *) names[i].data;
        s->len = names[i].len;
    }

    return a;
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

    if (ngx_http_oic_auth_metrics_merge(cf, conf) != NGX_OK) {
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


/*
 * oic_auth_scopes_required where only Basic clients are served would be
 * silently ignored: they get what IAM grants their client id for
 * oic_auth_scope. Inherited from a level where bearer uses it is fine.
 */
ngx_int_t
ngx_http_oic_auth_check_scopes_level(ngx_conf_t *cf, ngx_uint_t modes,
    ngx_uint_t here)
{
    if (modes == NGX_HTTP_OIC_AUTH_BASIC && here) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_scopes_required\" has no effect with "
                           "\"oic_auth basic\": Basic clients get what IAM "
                           "grants them for \"oic_auth_scope\"");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_oic_auth_merge_bearer(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf)
{
    u_char      *p;
    size_t       len;
    oic_str_t    field, *s;
    ngx_uint_t   i, scopes_here;

    static ngx_str_t  scope_claims[] = {
        ngx_string("scope"), ngx_string("scp"), ngx_string("roles")
    };

    scopes_here = (conf->scopes_required != NGX_CONF_UNSET_PTR);

    /*
     * the key set: a level that sets oic_auth_jwks_uri or oic_auth_jwks_file
     * replaces whichever of the two it inherits
     */

    if (conf->jwks_uri.data && conf->jwks_static != NGX_CONF_UNSET_PTR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_jwks_uri\" and \"oic_auth_jwks_file\" "
                           "cannot be used together");
        return NGX_CONF_ERROR;
    }

    if (conf->jwks_uri.data) {
        ngx_str_set(&conf->jwks_file, "");
        conf->jwks_static = NULL;

    } else if (conf->jwks_static != NGX_CONF_UNSET_PTR) {
        ngx_str_set(&conf->jwks_uri, "");

    } else {
        ngx_conf_merge_str_value(conf->jwks_uri, prev->jwks_uri, "");
        ngx_conf_merge_str_value(conf->jwks_file, prev->jwks_file, "");
        ngx_conf_merge_ptr_value(conf->jwks_static, prev->jwks_static, NULL);
    }

    ngx_conf_merge_sec_value(conf->jwks_refresh, prev->jwks_refresh, 3600);
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_uint_value(conf->algorithms, prev->algorithms,
                              OIC_ALG_RS256);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 60);
    ngx_conf_merge_ptr_value(conf->scopes_required, prev->scopes_required,
                             NULL);
    ngx_conf_merge_uint_value(conf->scopes_match, prev->scopes_match, 0);
    ngx_conf_merge_ptr_value(conf->scope_claims, prev->scope_claims, NULL);
    ngx_conf_merge_uint_value(conf->deny_status, prev->deny_status,
                              NGX_HTTP_FORBIDDEN);

    if (conf->scope_claims == NULL) {
        conf->scope_claims = ngx_http_oic_auth_default_list(cf, scope_claims,
                                                            3);
        if (conf->scope_claims == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    conf->policy.issuers = conf->issuers ? conf->issuers->elts : NULL;
    conf->policy.n_issuers = conf->issuers ? conf->issuers->nelts : 0;
    conf->policy.audiences = conf->audiences ? conf->audiences->elts : NULL;
    conf->policy.n_audiences = conf->audiences ? conf->audiences->nelts : 0;
    conf->policy.algorithms = (unsigned) conf->algorithms;
    conf->policy.leeway = conf->leeway;
    conf->policy.scope_claims = conf->scope_claims->elts;
    conf->policy.n_scope_claims = conf->scope_claims->nelts;

    if (conf->scopes_required) {
        s = conf->scopes_required->elts;
        len = 0;

        for (i = 0; i < conf->scopes_required->nelts; i++) {
            len += s[i].len + 1;
        }

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->scopes_text.data = p;

        for (i = 0; i < conf->scopes_required->nelts; i++) {
            if (i) {
                *p++ = ' ';
            }
            p = ngx_cpymem(p, s[i].data, s[i].len);
        }

        conf->scopes_text.len = p - conf->scopes_text.data;
    }

    /* which key set: the cache key of the JWKS, or of the static file */

    if (conf->jwks_uri.len) {
        field.data = (char *) conf->jwks_uri.data;
        field.len = conf->jwks_uri.len;
        oic_cache_key("jwks", &field, 1, conf->jwks_key);

    } else if (conf->jwks_file.len) {
        field.data = (char *) conf->jwks_file.data;
        field.len = conf->jwks_file.len;
        oic_cache_key("jwks_file", &field, 1, conf->jwks_key);
    }

    if (ngx_http_oic_auth_check_scopes_level(cf, conf->modes, scopes_here)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (!(conf->modes & (NGX_HTTP_OIC_AUTH_BEARER|NGX_HTTP_OIC_AUTH_EXCHANGE))
        || conf->modes == NGX_CONF_UNSET_UINT)
    {
        return NGX_CONF_OK;
    }

    if (conf->jwks_uri.len == 0 && conf->jwks_static == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth bearer\" and \"oic_auth exchange\" "
                           "require \"oic_auth_jwks_uri\" or "
                           "\"oic_auth_jwks_file\"");
        return NGX_CONF_ERROR;
    }

    if (conf->audiences == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth bearer\" and \"oic_auth exchange\" "
                           "require \"oic_auth_audience\"");
        return NGX_CONF_ERROR;
    }

    if (conf->issuers == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth bearer\" and \"oic_auth exchange\" "
                           "require \"oic_auth_issuer\" (\"oic_auth_issuer "
                           "any\" accepts every issuer)");
        return NGX_CONF_ERROR;
    }

    if (conf->jwks_static
        && !(conf->algorithms & oic_jwks_algorithms(conf->jwks_static)))
    {
        return ngx_http_oic_auth_no_algorithm(cf, conf);
    }

    return NGX_CONF_OK;
}


/* "RS256 PS256" for a bitmask of algorithms. */
static void
ngx_http_oic_auth_alg_names(u_char *buf, size_t size, unsigned algs)
{
    u_char    *p, *last;
    unsigned   bit;

    p = buf;
    last = buf + size - 1;

    for (bit = 1; bit <= OIC_ALG_ES512; bit <<= 1) {
        if (algs & bit) {
            p = ngx_slprintf(p, last, "%s%s", p == buf ? "" : " ",
                             oic_alg_name(bit));
        }
    }

    *p = '\0';
}


/* No key of the static key set can verify any allowed algorithm. */
static char *
ngx_http_oic_auth_no_algorithm(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *conf)
{
    u_char  allowed[64], served[64];

    ngx_http_oic_auth_alg_names(allowed, sizeof(allowed),
                                (unsigned) conf->algorithms);
    ngx_http_oic_auth_alg_names(served, sizeof(served),
                                oic_jwks_algorithms(conf->jwks_static));

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "no key of \"oic_auth_jwks_file\" \"%V\" can verify "
                       "\"oic_auth_algorithms\" %s (its keys can verify %s)",
                       &conf->jwks_file, allowed, served);

    return NGX_CONF_ERROR;
}


static void
ngx_http_oic_auth_signer_free(void *data)
{
    oic_signer_free(data);
}


static char *
ngx_http_oic_auth_merge_exchange(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf)
{
    char                *secret, err[256];
    ngx_pool_cleanup_t  *cln;

    static ngx_str_t  user_claims[] = {
        ngx_string("upn"), ngx_string("preferred_username"),
        ngx_string("unique_name")
    };

    ngx_conf_merge_str_value(conf->client_id, prev->client_id, "");
    ngx_conf_merge_str_value(conf->client_secret_file,
                             prev->client_secret_file, "");
    ngx_conf_merge_str_value(conf->assertion_key, prev->assertion_key, "");
    ngx_conf_merge_str_value(conf->assertion_certificate,
                             prev->assertion_certificate, "");
    ngx_conf_merge_str_value(conf->assertion_kid, prev->assertion_kid, "");
    ngx_conf_merge_str_value(conf->assertion_audience,
                             prev->assertion_audience,
                             "https://identity.oraclecloud.com/");
    ngx_conf_merge_sec_value(conf->assertion_lifetime,
                             prev->assertion_lifetime, 300);
    ngx_conf_merge_uint_value(conf->exchange_grant, prev->exchange_grant,
                              NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER);
    ngx_conf_merge_ptr_value(conf->user_claims, prev->user_claims, NULL);

    if (conf->user_claims == NULL) {
        conf->user_claims = ngx_http_oic_auth_default_list(cf, user_claims, 3);
        if (conf->user_claims == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* the secret and the key are read once, where they are configured */

    if (conf->client_secret_file.len) {
        if (conf->client_secret_file.data == prev->client_secret_file.data
            && prev->client_secret.len)
        {
            conf->client_secret = prev->client_secret;

        } else {
            if (ngx_conf_full_name(cf->cycle, &conf->client_secret_file, 1)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            secret = oic_read_secret_file(
                                   (char *) conf->client_secret_file.data,
                                   err, sizeof(err));
            if (secret == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"oic_auth_client_secret_file\" \"%V\": %s",
                                   &conf->client_secret_file, err);
                return NGX_CONF_ERROR;
            }

            conf->client_secret.len = ngx_strlen(secret);
            conf->client_secret.data = ngx_pnalloc(cf->pool,
                                                   conf->client_secret.len + 1);
            if (conf->client_secret.data == NULL) {
                oic_free(secret);
                return NGX_CONF_ERROR;
            }

            ngx_memcpy(conf->client_secret.data, secret,
                       conf->client_secret.len + 1);
            ngx_explicit_memzero(secret, conf->client_secret.len);
            oic_free(secret);
        }
    }

    if (conf->signer == NGX_CONF_UNSET_PTR) {
        conf->signer = NULL;

        if (conf->assertion_key.len
            && conf->assertion_key.data == prev->assertion_key.data
            && conf->assertion_certificate.data
               == prev->assertion_certificate.data
            && prev->signer != NGX_CONF_UNSET_PTR && prev->signer)
        {
            conf->signer = prev->signer;

        } else if (conf->assertion_key.len) {
            if (ngx_conf_full_name(cf->cycle, &conf->assertion_key, 1)
                != NGX_OK
                || (conf->assertion_certificate.len
                    && ngx_conf_full_name(cf->cycle,
                                          &conf->assertion_certificate, 1)
                       != NGX_OK))
            {
                return NGX_CONF_ERROR;
            }

            conf->signer = oic_signer_load((char *) conf->assertion_key.data,
                                 conf->assertion_certificate.len
                                 ? (char *) conf->assertion_certificate.data
                                 : NULL,
                                 err, sizeof(err));
            if (conf->signer == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"oic_auth_assertion_key\" \"%V\": %s",
                                   &conf->assertion_key, err);
                return NGX_CONF_ERROR;
            }

            /* freed with the configuration: a reload must not leak it */

            cln = ngx_pool_cleanup_add(cf->pool, 0);
            if (cln == NULL) {
                oic_signer_free(conf->signer);
                conf->signer = NULL;
                return NGX_CONF_ERROR;
            }

            cln->handler = ngx_http_oic_auth_signer_free;
            cln->data = conf->signer;
        }
    }

    if (conf->modes == NGX_CONF_UNSET_UINT
        || !(conf->modes & NGX_HTTP_OIC_AUTH_EXCHANGE))
    {
        return NGX_CONF_OK;
    }

    if (conf->client_id.len == 0 || conf->client_secret.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth exchange\" requires "
                           "\"oic_auth_client_id\" and "
                           "\"oic_auth_client_secret_file\"");
        return NGX_CONF_ERROR;
    }

    if (conf->exchange_grant == NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER
        && (conf->signer == NULL || conf->assertion_kid.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth exchange\" with the jwt_bearer grant "
                           "requires \"oic_auth_assertion_key\" and "
                           "\"oic_auth_assertion_kid\"");
        return NGX_CONF_ERROR;
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

    if (lcf->metrics_handler) {
        return "cannot be used in a location with \"oic_auth_metrics\"";
    }

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


/* oic_auth_issuer ISS ... | any: "any" is an empty list (no check). */
char *
ngx_http_oic_auth_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    char        *rv;
    oic_str_t   *s;
    ngx_uint_t   i;

    rv = ngx_http_oic_auth_list(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    s = lcf->issuers->elts;

    for (i = 0; i < lcf->issuers->nelts; i++) {
        if (s[i].len != 3 || ngx_strncmp(s[i].data, "any", 3) != 0) {
            continue;
        }

        if (lcf->issuers->nelts > 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"any\" cannot be combined with issuers");
            return NGX_CONF_ERROR;
        }

        lcf->issuers->nelts = 0;
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


char *
ngx_http_oic_auth_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    unsigned     alg;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->algorithms != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->algorithms = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        alg = oic_alg_from_name((char *) value[i].data, value[i].len);

        if (alg == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unsupported algorithm \"%V\", use RS256, "
                               "RS384, RS512, PS256, PS384, PS512, ES256, "
                               "ES384 or ES512", &value[i]);
            return NGX_CONF_ERROR;
        }

        lcf->algorithms |= alg;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_oic_auth_jwks_free(void *data)
{
    oic_jwks_free(data);
}


char *
ngx_http_oic_auth_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    char                 err[256];
    u_char              *buf;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t           *value, name;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (lcf->jwks_static != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > OIC_JWKS_MAX_BYTES)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": cannot read, or larger than %d bytes",
                           &name, OIC_JWKS_MAX_BYTES);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, ngx_file_size(&fi));
    ngx_close_file(fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    lcf->jwks_static = oic_jwks_parse((char *) buf, n, err, sizeof(err));
    if (lcf->jwks_static == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_jwks_file\" \"%V\": %s", &name, err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        oic_jwks_free(lcf->jwks_static);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_oic_auth_jwks_free;
    cln->data = lcf->jwks_static;

    lcf->jwks_file = name;

    return NGX_CONF_OK;
}


char *
ngx_http_oic_auth_deny_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (lcf->deny_status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_atoi(value[1].data, value[1].len);

    if (n != NGX_HTTP_FORBIDDEN && n != NGX_HTTP_NOT_FOUND) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be 403 or 404",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->deny_status = n;

    return NGX_CONF_OK;
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
