/*
 * ngx_http_oic_auth_module: a credential broker in front of Oracle
 * Integration Cloud.
 *
 *   basic     legacy clients: Basic client credentials in, a cached OCI IAM
 *             client_credentials token (with the configured scope) out
 *   bearer    JWT validation (JWKS, iss, aud, time) and per-route scopes
 *   exchange  an Entra ID user token in, a cached OCI IAM user token out
 *
 * This file is the module's front door: the module and directive tables,
 * the phase handlers (access for main requests, precontent for
 * subrequests, which nginx's access phase skips), the check's dispatch on
 * the Authorization scheme, and init. What each concern owns is listed in
 * src/ngx_http_oic_auth.h; the OAuth and JWT logic lives in the C++ core
 * (include/oic_auth*.h).
 */

#include "src/ngx_http_oic_auth.h"


static ngx_int_t ngx_http_oic_auth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_oic_auth_precontent_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_oic_auth_check(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf);
static ngx_int_t ngx_http_oic_auth_run(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_oic_auth_init_process(ngx_cycle_t *cycle);
static void ngx_http_oic_auth_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_oic_auth_scopes_match[] = {
    { ngx_string("any"), 0 },
    { ngx_string("all"), 1 },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_oic_auth_grants[] = {
    { ngx_string("jwt_bearer"), NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER },
    { ngx_string("token_exchange"), NGX_HTTP_OIC_AUTH_GRANT_TOKEN_EXCHANGE },
    { ngx_null_string, 0 }
};


/*
 * Bounds: a refresh margin longer than any sensible token life means tokens
 * are never cached; a leeway of more than 10 minutes accepts tokens expired
 * long ago; IAM refuses user assertions valid for more than an hour.
 */
static ngx_http_oic_auth_bounds_t  ngx_http_oic_auth_margin_bounds = {
    ngx_http_oic_auth_check_bounds, 0, 3600, "at most 1h"
};

static ngx_http_oic_auth_bounds_t  ngx_http_oic_auth_leeway_bounds = {
    ngx_http_oic_auth_check_bounds, 0, 600, "at most 10m"
};

static ngx_http_oic_auth_bounds_t  ngx_http_oic_auth_lifetime_bounds = {
    ngx_http_oic_auth_check_bounds, 1, 3600, "between 1s and 1h"
};

/* a refusal remembered for longer than an hour outlives any fix */
static ngx_http_oic_auth_bounds_t  ngx_http_oic_auth_negative_bounds = {
    ngx_http_oic_auth_check_bounds, 0, 3600, "at most 1h"
};

static ngx_conf_num_bounds_t  ngx_http_oic_auth_connections_bounds = {
    ngx_conf_check_num_bounds, 1, NGX_HTTP_OIC_AUTH_GUARD_SLOTS
};


#define NGX_HTTP_OIC_AUTH_CONF                                               \
    (NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF)

#define ngx_http_oic_auth_field(f)                                           \
    offsetof(ngx_http_oic_auth_loc_conf_t, f)


static ngx_command_t  ngx_http_oic_auth_commands[] = {

    { ngx_string("oic_auth_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_oic_auth_cache_zone,
      0,
      0,
      NULL },

    { ngx_string("oic_auth_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_redis_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_redis_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_cache"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_token_endpoint"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(token_endpoint),
      NULL },

    { ngx_string("oic_auth_scope"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(scope),
      NULL },

    { ngx_string("oic_auth_refresh_margin"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(refresh_margin),
      &ngx_http_oic_auth_margin_bounds },

    { ngx_string("oic_auth_negative_ttl"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(negative_ttl),
      &ngx_http_oic_auth_negative_bounds },

    { ngx_string("oic_auth_failure_limit"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE12,
      ngx_http_oic_auth_failure_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_iam_rate"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE12,
      ngx_http_oic_auth_iam_rate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_iam_connections"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(connections),
      &ngx_http_oic_auth_connections_bounds },

    { ngx_string("oic_auth_purge_on_status"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_purge_on_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_timeout"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(timeout),
      NULL },

    { ngx_string("oic_auth_ssl_verify"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(ssl_verify),
      NULL },

    { ngx_string("oic_auth_ssl_trusted_certificate"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(ssl_trusted_certificate),
      NULL },

    { ngx_string("oic_auth_realm"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(realm),
      NULL },

    { ngx_string("oic_auth_jwks_uri"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(jwks_uri),
      NULL },

    { ngx_string("oic_auth_jwks_file"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_jwks_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_jwks_refresh"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(jwks_refresh),
      NULL },

    { ngx_string("oic_auth_issuer"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_issuer,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(issuers),
      NULL },

    { ngx_string("oic_auth_audience"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(audiences),
      NULL },

    { ngx_string("oic_auth_algorithms"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_leeway"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(leeway),
      &ngx_http_oic_auth_leeway_bounds },

    { ngx_string("oic_auth_scopes_required"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(scopes_required),
      NULL },

    { ngx_string("oic_auth_scopes_match"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(scopes_match),
      &ngx_http_oic_auth_scopes_match },

    { ngx_string("oic_auth_scope_claims"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(scope_claims),
      NULL },

    { ngx_string("oic_auth_deny_status"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_deny_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_client_id"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(client_id),
      NULL },

    { ngx_string("oic_auth_client_secret_file"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(client_secret_file),
      NULL },

    { ngx_string("oic_auth_assertion_key"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(assertion_key),
      NULL },

    { ngx_string("oic_auth_assertion_certificate"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(assertion_certificate),
      NULL },

    { ngx_string("oic_auth_assertion_kid"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(assertion_kid),
      NULL },

    { ngx_string("oic_auth_assertion_audience"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(assertion_audience),
      NULL },

    { ngx_string("oic_auth_assertion_lifetime"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(assertion_lifetime),
      &ngx_http_oic_auth_lifetime_bounds },

    { ngx_string("oic_auth_exchange_grant"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(exchange_grant),
      &ngx_http_oic_auth_grants },

    { ngx_string("oic_auth_user_claim"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      ngx_http_oic_auth_field(user_claims),
      NULL },

    { ngx_string("oic_auth_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_oic_auth_limit_zone,
      0,
      0,
      NULL },

    { ngx_string("oic_auth_limit"),
      NGX_HTTP_OIC_AUTH_CONF|NGX_CONF_TAKE1234,
      ngx_http_oic_auth_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_oic_auth_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_oic_auth_module_ctx = {
    ngx_http_oic_auth_add_variables,       /* preconfiguration */
    ngx_http_oic_auth_init,                /* postconfiguration */

    ngx_http_oic_auth_create_main_conf,    /* create main configuration */
    ngx_http_oic_auth_init_main_conf,      /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_oic_auth_create_loc_conf,     /* create location configuration */
    ngx_http_oic_auth_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_oic_auth_module = {
    NGX_MODULE_V1,
    &ngx_http_oic_auth_module_ctx,         /* module context */
    ngx_http_oic_auth_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_oic_auth_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_oic_auth_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ---- the phase handlers ---- */

/* Main requests, in the access phase (with satisfy any/all). */
static ngx_int_t
ngx_http_oic_auth_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    if (lcf->modes == 0) {
        if (ngx_http_oic_auth_leave(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    rc = ngx_http_oic_auth_refusal(r, ngx_http_oic_auth_check(r, lcf));
    ngx_http_oic_auth_metrics_request(r, rc);

    return rc;
}


/*
 * The precontent phase, which runs for subrequests too: nginx skips the
 * access phase for them (an auth_request target, an SSI include, a
 * mirror), so the check runs here. For a main request it only looks at
 * what the access phase decided.
 */
static ngx_int_t
ngx_http_oic_auth_precontent_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_oic_auth_ctx_t       *ctx;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    if (r == r->main) {
        if (lcf->modes == 0) {
            return NGX_DECLINED;
        }

        ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);

        if (ctx && ctx->conf == lcf && ctx->state == NGX_HTTP_OIC_AUTH_DONE
            && ctx->status != NGX_OK
            && ngx_http_oic_auth_let_in(r, ctx) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    if (lcf->modes == 0) {
        if (ngx_http_oic_auth_leave(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_DECLINED;
    }

    rc = ngx_http_oic_auth_refusal(r, ngx_http_oic_auth_check(r, lcf));
    ngx_http_oic_auth_metrics_request(r, rc);

    /* NGX_OK would skip the other precontent handlers (try_files, mirror) */

    return (rc == NGX_OK) ? NGX_DECLINED : rc;
}


/*
 * The check for the location lcf: a new one, or the one in progress. A
 * context left from another location (an internal redirect) starts over
 * from the client's own header: the new location's requirements apply.
 */
static ngx_int_t
ngx_http_oic_auth_check(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf)
{
    ngx_http_oic_auth_ctx_t  *ctx;

    ctx = ngx_http_oic_auth_get_ctx(r);

    if (ctx && ctx->conf == lcf) {
        switch (ctx->state) {

        case NGX_HTTP_OIC_AUTH_WAITING:
            return NGX_AGAIN;

        case NGX_HTTP_OIC_AUTH_RETRY:
            ctx->state = NGX_HTTP_OIC_AUTH_NEW;
            return ngx_http_oic_auth_run(r, lcf, ctx);

        case NGX_HTTP_OIC_AUTH_DONE:
            return ngx_http_oic_auth_finish(r, lcf, ctx);

        default:
            break;
        }
    }

    ctx = ngx_http_oic_auth_new_ctx(r, lcf, ctx);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_oic_auth_run(r, lcf, ctx);
}


/* The Authorization scheme picks the mode. */
static ngx_int_t
ngx_http_oic_auth_run(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    if (ctx->mode == NGX_HTTP_OIC_AUTH_BASIC) {
        return ngx_http_oic_auth_basic(r, lcf, ctx);
    }

    if (ctx->mode) {
        return ngx_http_oic_auth_bearer(r, lcf, ctx);
    }

    h = r->headers_in.authorization;

    if (h) {
        p = h->value.data;
        last = p + h->value.len;

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if ((lcf->modes & NGX_HTTP_OIC_AUTH_BASIC)
            && last - p >= 5 && ngx_strncasecmp(p, (u_char *) "Basic", 5) == 0
            && (last - p == 5 || p[5] == ' '))
        {
            ctx->mode = NGX_HTTP_OIC_AUTH_BASIC;
            return ngx_http_oic_auth_basic(r, lcf, ctx);
        }

        if ((lcf->modes & (NGX_HTTP_OIC_AUTH_BEARER|NGX_HTTP_OIC_AUTH_EXCHANGE))
            && last - p >= 6
            && ngx_strncasecmp(p, (u_char *) "Bearer", 6) == 0
            && (last - p == 6 || p[6] == ' ' || p[6] == '\t'))
        {
            ctx->mode = lcf->modes
                        & (NGX_HTTP_OIC_AUTH_BEARER|NGX_HTTP_OIC_AUTH_EXCHANGE);
            return ngx_http_oic_auth_bearer(r, lcf, ctx);
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "oic_auth: no credentials%s",
                  h ? " of an accepted scheme" : "");

    ctx->challenge = lcf->modes;

    return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                  "no_credentials");
}


/* ---- init ---- */

static ngx_int_t
ngx_http_oic_auth_init(ngx_conf_t *cf)
{
    ngx_uint_t                     i;
    ngx_list_part_t               *part;
    ngx_shm_zone_t                *shm_zone;
    ngx_http_handler_pt           *h;
    ngx_http_core_main_conf_t     *cmcf;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    /* every zone named by oic_auth_cache must be defined */

    part = &cf->cycle->shared_memory.part;
    shm_zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            shm_zone = part->elts;
            i = 0;
        }

        if (shm_zone[i].tag == &ngx_http_oic_auth_module
            && shm_zone[i].data == NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"oic_auth_cache\" names an unknown zone "
                               "\"%V\", define it with "
                               "\"oic_auth_cache_zone\"",
                               &shm_zone[i].shm.name);
            return NGX_ERROR;
        }
    }

    /* the http level is never merged into anything: check it here */

    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_oic_auth_module);

    if (ngx_http_oic_auth_check_scopes_level(cf, lcf->modes,
                                             lcf->scopes_required
                                             != NGX_CONF_UNSET_PTR)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_oic_auth_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_oic_auth_precontent_handler;

    if (ngx_http_oic_auth_metrics_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * decoded tokens remember verdicts per location, basic clients' keys
     * are remembered per location: not across configurations
     */
    ngx_oic_jwt_cache_new_conf();
    ngx_http_oic_auth_basic_new_conf();

    return ngx_http_oic_auth_purge_init(cf);
}


static ngx_int_t
ngx_http_oic_auth_init_process(ngx_cycle_t *cycle)
{
    ngx_http_oic_auth_fetch_init();
    ngx_http_oic_auth_jwks_init();
    ngx_oic_jwt_cache_init();

    if (ngx_http_oic_auth_fleet_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_oic_http_init_process(cycle);
}


static void
ngx_http_oic_auth_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_oic_auth_jwks_exit();
    ngx_oic_jwt_cache_exit();
    ngx_http_oic_auth_fleet_exit_process(cycle);
    ngx_oic_http_exit_process(cycle);
}
