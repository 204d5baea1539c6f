/*
 * ngx_http_oic_auth_module: a credential broker in front of Oracle
 * Integration Cloud. Access-phase handler, directives and variables; the
 * OAuth and JWT logic lives in the C++ core (include/oic_auth.h), the
 * event-loop HTTP client in src/ngx_oic_http.c, the shared token cache in
 * src/ngx_oic_cache.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "oic_auth.h"
#include "src/ngx_oic_http.h"
#include "src/ngx_oic_cache.h"


#define NGX_HTTP_OIC_AUTH_BASIC     0x01
#define NGX_HTTP_OIC_AUTH_BEARER    0x02
#define NGX_HTTP_OIC_AUTH_EXCHANGE  0x04

#define NGX_HTTP_OIC_AUTH_POLL_MIN  4        /* ms */
#define NGX_HTTP_OIC_AUTH_POLL_MAX  50       /* ms */
#define NGX_HTTP_OIC_AUTH_LOG_ID    64       /* client id chars in a log line */


typedef struct {
    ngx_uint_t                  modes;
    ngx_shm_zone_t             *zone;
    ngx_str_t                   token_endpoint;
    ngx_str_t                   scope;
    time_t                      refresh_margin;
    ngx_msec_t                  timeout;
    ngx_flag_t                  ssl_verify;
    ngx_str_t                   ssl_trusted_certificate;
    ngx_str_t                   realm;
} ngx_http_oic_auth_loc_conf_t;


typedef enum {
    NGX_HTTP_OIC_AUTH_NEW = 0,
    NGX_HTTP_OIC_AUTH_WAITING,
    NGX_HTTP_OIC_AUTH_DONE
} ngx_http_oic_auth_state_e;


typedef struct ngx_http_oic_auth_fetch_s  ngx_http_oic_auth_fetch_t;

typedef struct {
    ngx_http_request_t         *request;
    ngx_http_oic_auth_state_e   state;
    ngx_int_t                   status;     /* NGX_OK or the HTTP status to answer */
    ngx_uint_t                  challenge;  /* add WWW-Authenticate on 401 */

    u_char                      key[NGX_OIC_KEY_LEN];
    uint32_t                    gen;

    ngx_str_t                   client_id;
    ngx_str_t                   token;
    ngx_str_t                   cache_status;
    ngx_str_t                   error;

    ngx_queue_t                 wait_link;  /* in fetch->waiters */
    ngx_http_oic_auth_fetch_t  *fetch;
    ngx_event_t                 poll;
    ngx_msec_t                  poll_delay;
} ngx_http_oic_auth_ctx_t;


struct ngx_http_oic_auth_fetch_s {
    ngx_queue_t                 queue;      /* in ngx_http_oic_auth_fetches */
    u_char                      key[NGX_OIC_KEY_LEN];
    uint32_t                    gen;
    ngx_shm_zone_t             *zone;       /* NULL: uncached fetch */
    time_t                      margin;
    ngx_queue_t                 waiters;
    ngx_oic_http_t              http;
    u_char                      who[NGX_HTTP_OIC_AUTH_LOG_ID + 32];
};


static ngx_int_t ngx_http_oic_auth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_oic_auth_basic(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_finish(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_fail(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_int_t status, char *error);
static ngx_int_t ngx_http_oic_auth_set_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_int_t ngx_http_oic_auth_challenge(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf);
static ngx_int_t ngx_http_oic_auth_wait(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_oic_cache_rc_e rc, ngx_oic_cache_res_t *res,
    oic_basic_creds_t *creds);
static ngx_int_t ngx_http_oic_auth_start_fetch(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_shm_zone_t *zone, uint32_t gen, oic_basic_creds_t *creds);
static void ngx_http_oic_auth_fetch_done(ngx_oic_http_t *h);
static void ngx_http_oic_auth_poll_handler(ngx_event_t *ev);
static void ngx_http_oic_auth_resume(ngx_http_request_t *r);
static void ngx_http_oic_auth_cleanup(void *data);
static ngx_http_oic_auth_fetch_t *ngx_http_oic_auth_find_fetch(u_char *key,
    uint32_t gen);
static void ngx_http_oic_auth_log_id(u_char *dst, size_t size, ngx_str_t *id);

static void *ngx_http_oic_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_oic_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_oic_auth_mode(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_oic_auth_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_oic_auth_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_oic_auth_init_process(ngx_cycle_t *cycle);
static void ngx_http_oic_auth_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_oic_auth_modes[] = {
    { ngx_string("basic"), NGX_HTTP_OIC_AUTH_BASIC },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_oic_auth_commands[] = {

    { ngx_string("oic_auth_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_cache_zone,
      0,
      0,
      NULL },

    { ngx_string("oic_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_oic_auth_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("oic_auth_token_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_oic_auth_loc_conf_t, token_endpoint),
      NULL },

    { ngx_string("oic_auth_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_oic_auth_loc_conf_t, scope),
      NULL },

    { ngx_string("oic_auth_refresh_margin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_oic_auth_loc_conf_t, refresh_margin),
      NULL },

    { ngx_string("oic_auth_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_oic_auth_loc_conf_t, timeout),
      NULL },

    { ngx_string("oic_auth_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_oic_auth_loc_conf_t, ssl_verify),
      NULL },

    { ngx_string("oic_auth_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_oic_auth_loc_conf_t, ssl_trusted_certificate),
      NULL },

    { ngx_string("oic_auth_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_oic_auth_loc_conf_t, realm),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_oic_auth_module_ctx = {
    ngx_http_oic_auth_add_variables,       /* preconfiguration */
    ngx_http_oic_auth_init,                /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

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


static ngx_str_t  ngx_http_oic_auth_hit = ngx_string("HIT");
static ngx_str_t  ngx_http_oic_auth_miss = ngx_string("MISS");
static ngx_str_t  ngx_http_oic_auth_waited = ngx_string("WAIT");

/* fetches in flight in this worker */
static ngx_queue_t  ngx_http_oic_auth_fetches;


/* ---- the access handler ---- */

static ngx_int_t
ngx_http_oic_auth_handler(ngx_http_request_t *r)
{
    ngx_http_oic_auth_ctx_t       *ctx;
    ngx_http_cleanup_t            *cln;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    if (lcf->modes == 0) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);

    if (ctx) {
        if (ctx->state == NGX_HTTP_OIC_AUTH_WAITING) {
            return NGX_AGAIN;
        }

        return ngx_http_oic_auth_finish(r, lcf, ctx);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_oic_auth_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ngx_queue_init(&ctx->wait_link);
    ngx_http_set_ctx(r, ctx, ngx_http_oic_auth_module);

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_oic_auth_cleanup;
    cln->data = ctx;

    if (lcf->modes & NGX_HTTP_OIC_AUTH_BASIC) {
        return ngx_http_oic_auth_basic(r, lcf, ctx);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_oic_auth_basic(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    u_char               who[NGX_HTTP_OIC_AUTH_LOG_ID];
    ngx_int_t            rc;
    oic_str_t            fields[4];
    oic_basic_rc_t       brc;
    ngx_table_elt_t     *h;
    oic_basic_creds_t    creds;
    ngx_oic_cache_rc_e   crc;
    ngx_oic_cache_req_t  req;
    ngx_oic_cache_res_t  res;

    h = r->headers_in.authorization;

    if (h == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "oic_auth: no credentials");
        ctx->challenge = 1;
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                      "no_credentials");
    }

    brc = oic_basic_parse((char *) h->value.data, h->value.len, &creds);

    if (brc != OIC_BASIC_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "oic_auth: %s Authorization header",
                      brc == OIC_BASIC_NONE ? "no Basic credentials in the"
                                            : "malformed Basic");
        ctx->challenge = 1;
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                 brc == OIC_BASIC_NONE ? "no_credentials"
                                       : "malformed_credentials");
    }

    ctx->client_id.data = ngx_pnalloc(r->pool, creds.client_id_len);
    if (ctx->client_id.data == NULL) {
        oic_basic_creds_free(&creds);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ctx->client_id.data, creds.client_id, creds.client_id_len);
    ctx->client_id.len = creds.client_id_len;

    fields[0].data = (char *) lcf->token_endpoint.data;
    fields[0].len = lcf->token_endpoint.len;
    fields[1].data = creds.client_id;
    fields[1].len = creds.client_id_len;
    fields[2].data = creds.secret;
    fields[2].len = creds.secret_len;
    fields[3].data = (char *) lcf->scope.data;
    fields[3].len = lcf->scope.len;

    oic_cache_key("basic", fields, 4, ctx->key);

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    req.deadline_ms = lcf->timeout + 1000;

    crc = ngx_oic_cache_acquire(lcf->zone, ctx->key, &req, r->pool, &res);

    if (crc == NGX_OIC_CACHE_HIT) {
        oic_basic_creds_free(&creds);

        ngx_http_oic_auth_log_id(who, sizeof(who), &ctx->client_id);
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "oic_auth: cache hit for client \"%s\"", who);

        ctx->cache_status = ngx_http_oic_auth_hit;
        ctx->token = res.value;
        ctx->state = NGX_HTTP_OIC_AUTH_DONE;
        ctx->status = NGX_OK;

        return ngx_http_oic_auth_finish(r, lcf, ctx);
    }

    rc = ngx_http_oic_auth_wait(r, ctx, lcf, crc, &res, &creds);

    oic_basic_creds_free(&creds);

    return rc;
}


/* Park the request on a fetch: its own (MISS), or another one (WAIT). */
static ngx_int_t
ngx_http_oic_auth_wait(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *ctx,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_oic_cache_rc_e rc,
    ngx_oic_cache_res_t *res, oic_basic_creds_t *creds)
{
    ngx_http_oic_auth_fetch_t  *fetch;

    switch (rc) {

    case NGX_OIC_CACHE_OWNER:
    case NGX_OIC_CACHE_NOMEM:
        if (ctx->cache_status.len == 0) {
            ctx->cache_status = ngx_http_oic_auth_miss;
        }

        if (ngx_http_oic_auth_start_fetch(r, ctx, lcf,
                                          rc == NGX_OIC_CACHE_OWNER
                                          ? lcf->zone : NULL,
                                          res->gen, creds)
            != NGX_OK)
        {
            if (rc == NGX_OIC_CACHE_OWNER) {
                ngx_oic_cache_fail(lcf->zone, ctx->key, res->gen,
                                   NGX_HTTP_BAD_GATEWAY, "iam_unavailable",
                                   0, 0);
            }

            return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                          "iam_unavailable");
        }

        break;

    default: /* NGX_OIC_CACHE_WAIT */
        ctx->cache_status = ngx_http_oic_auth_waited;
        ctx->gen = res->gen;

        fetch = ngx_http_oic_auth_find_fetch(ctx->key, res->gen);

        if (fetch) {
            ctx->fetch = fetch;
            ngx_queue_insert_tail(&fetch->waiters, &ctx->wait_link);

        } else {
            /* the fetch runs in another worker: poll the shared entry */
            ctx->poll.handler = ngx_http_oic_auth_poll_handler;
            ctx->poll.data = r;
            ctx->poll.log = r->connection->log;
            ctx->poll_delay = NGX_HTTP_OIC_AUTH_POLL_MIN;
            ngx_add_timer(&ctx->poll, ctx->poll_delay);
        }
    }

    ctx->state = NGX_HTTP_OIC_AUTH_WAITING;
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_oic_auth_start_fetch(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_shm_zone_t *zone, uint32_t gen, oic_basic_creds_t *creds)
{
    char                       *auth, *body;
    u_char                      who[NGX_HTTP_OIC_AUTH_LOG_ID];
    u_char                      hex[9];
    oic_str_t                   values[2];
    ngx_int_t                   rc;
    ngx_oic_http_conf_t         hc;
    ngx_http_oic_auth_fetch_t  *fetch;
    static const char          *names[] = { "grant_type", "scope" };

    fetch = ngx_calloc(sizeof(ngx_http_oic_auth_fetch_t), ngx_cycle->log);
    if (fetch == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(fetch->key, ctx->key, NGX_OIC_KEY_LEN);
    fetch->gen = gen;
    fetch->zone = zone;
    fetch->margin = lcf->refresh_margin;
    ngx_queue_init(&fetch->waiters);

    ngx_http_oic_auth_log_id(who, sizeof(who), &ctx->client_id);
    oic_hex(ctx->key, 4, (char *) hex);
    ngx_snprintf(fetch->who, sizeof(fetch->who), "client \"%s\" (key %s)%Z",
                 who, hex);

    values[0].data = "client_credentials";
    values[0].len = sizeof("client_credentials") - 1;
    values[1].data = lcf->scope.len ? (char *) lcf->scope.data : NULL;
    values[1].len = lcf->scope.len;

    auth = oic_basic_header(creds->client_id, creds->client_id_len,
                            creds->secret, creds->secret_len);
    body = oic_form_body(names, values, 2);

    if (auth == NULL || body == NULL) {
        oic_free(auth);
        oic_free(body);
        ngx_free(fetch);
        return NGX_ERROR;
    }

    ngx_memzero(&hc, sizeof(ngx_oic_http_conf_t));
    hc.url = lcf->token_endpoint;
    hc.body.data = (u_char *) body;
    hc.body.len = ngx_strlen(body);
    hc.authorization.data = (u_char *) auth;
    hc.authorization.len = ngx_strlen(auth);
    hc.timeout = lcf->timeout;
    hc.ssl_verify = lcf->ssl_verify;
    hc.cafile = lcf->ssl_trusted_certificate;
    hc.max_body = OIC_TOKEN_MAX_BODY;

    fetch->http.handler = ngx_http_oic_auth_fetch_done;
    fetch->http.data = fetch;
    fetch->http.log = ngx_cycle->log;

    rc = ngx_oic_http_start(&fetch->http, &hc);

    ngx_explicit_memzero(auth, hc.authorization.len);
    oic_free(auth);
    oic_free(body);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: could not start the token request for %s",
                      fetch->who);
        ngx_free(fetch);
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "oic_auth: token request started for %s", fetch->who);

    ngx_queue_insert_tail(&ngx_http_oic_auth_fetches, &fetch->queue);

    ctx->fetch = fetch;
    ctx->gen = gen;
    ngx_queue_insert_tail(&fetch->waiters, &ctx->wait_link);

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_status(oic_token_rc_t rc, char **code)
{
    switch (rc) {

    case OIC_TOKEN_OK:
        *code = "";
        return NGX_OK;

    case OIC_TOKEN_INVALID_CLIENT:
        *code = "invalid_client";
        return NGX_HTTP_UNAUTHORIZED;

    case OIC_TOKEN_FORBIDDEN:
        *code = "forbidden";
        return NGX_HTTP_FORBIDDEN;

    case OIC_TOKEN_RATE_LIMITED:
        *code = "iam_rate_limited";
        return NGX_HTTP_SERVICE_UNAVAILABLE;

    default:
        *code = "iam_unavailable";
        return NGX_HTTP_BAD_GATEWAY;
    }
}


static void
ngx_http_oic_auth_fetch_done(ngx_oic_http_t *h)
{
    char                       *code;
    time_t                      now, ttl;
    ngx_str_t                   token;
    ngx_int_t                   status;
    ngx_queue_t                *q, waiters;
    oic_token_result_t          tr;
    ngx_http_request_t         *r;
    ngx_http_oic_auth_ctx_t    *ctx;
    ngx_http_oic_auth_fetch_t  *fetch;

    fetch = h->data;
    now = ngx_time();

    if (h->result != 0) {
        ngx_memzero(&tr, sizeof(oic_token_result_t));
        tr.rc = OIC_TOKEN_UPSTREAM_ERROR;
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "oic_auth: token request for %s failed: %s",
                      fetch->who, ngx_oic_http_strerror(h));

    } else {
        oic_token_response_parse(h->status, (char *) h->buf, h->len, &tr);
    }

    status = ngx_http_oic_auth_status(tr.rc, &code);

    if (tr.rc == OIC_TOKEN_OK) {
        token.data = (u_char *) tr.access_token;
        token.len = tr.access_token_len;

        ttl = (time_t) oic_token_ttl(tr.expires_in, fetch->margin);

        if (ttl == 0) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "oic_auth: token for %s not cached: expires_in %L "
                          "with a refresh margin of %T s",
                          fetch->who, tr.expires_in, fetch->margin);
        }

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "oic_auth: token issued for %s, cached for %T s",
                      fetch->who, ttl);

        if (fetch->zone) {
            ngx_oic_cache_complete(fetch->zone, fetch->key, fetch->gen,
                                   &token, now + ttl, now + ttl);
        }

    } else {
        ngx_str_null(&token);

        if (tr.rc != OIC_TOKEN_UPSTREAM_ERROR || h->result == 0) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "oic_auth: token request for %s refused: %s%s%s",
                          fetch->who, tr.reason,
                          tr.error[0] ? ", error " : "", tr.error);
        }

        if (tr.error[0] && tr.rc != OIC_TOKEN_UPSTREAM_ERROR) {
            code = tr.error;
        }

        if (fetch->zone) {
            ngx_oic_cache_fail(fetch->zone, fetch->key, fetch->gen,
                               status, code, 0, 0);
        }
    }

    /* resume the waiters of this worker */

    ngx_queue_remove(&fetch->queue);

    ngx_queue_init(&waiters);

    if (!ngx_queue_empty(&fetch->waiters)) {
        waiters = fetch->waiters;
        waiters.next->prev = &waiters;
        waiters.prev->next = &waiters;
        ngx_queue_init(&fetch->waiters);
    }

    while (!ngx_queue_empty(&waiters)) {
        q = ngx_queue_head(&waiters);
        ngx_queue_remove(q);
        ngx_queue_init(q);

        ctx = ngx_queue_data(q, ngx_http_oic_auth_ctx_t, wait_link);
        r = ctx->request;

        ctx->fetch = NULL;
        ctx->status = status;

        if (status == NGX_OK) {
            ctx->token.data = ngx_pnalloc(r->pool, token.len);
            if (ctx->token.data == NULL) {
                ctx->status = NGX_HTTP_INTERNAL_SERVER_ERROR;

            } else {
                ngx_memcpy(ctx->token.data, token.data, token.len);
                ctx->token.len = token.len;
            }

        } else {
            ctx->challenge = (status == NGX_HTTP_UNAUTHORIZED);
            ctx->error.len = ngx_strlen(code);
            ctx->error.data = ngx_pnalloc(r->pool, ctx->error.len);
            if (ctx->error.data) {
                ngx_memcpy(ctx->error.data, code, ctx->error.len);
            } else {
                ctx->error.len = 0;
            }
        }

        ngx_http_oic_auth_resume(r);
    }

    if (tr.access_token) {
        ngx_explicit_memzero(tr.access_token, tr.access_token_len);
    }

    oic_token_result_free(&tr);
    ngx_oic_http_free(h);
    ngx_free(fetch);
}


static void
ngx_http_oic_auth_poll_handler(ngx_event_t *ev)
{
    size_t                         len;
    ngx_http_request_t            *r;
    ngx_oic_cache_rc_e             rc;
    ngx_oic_cache_req_t            req;
    ngx_oic_cache_res_t            res;
    ngx_http_oic_auth_ctx_t       *ctx;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    r = ev->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    req.gen = ctx->gen;
    req.deadline_ms = lcf->timeout + 1000;

    rc = ngx_oic_cache_acquire(lcf->zone, ctx->key, &req, r->pool, &res);

    switch (rc) {

    case NGX_OIC_CACHE_HIT:
        ctx->token = res.value;
        ctx->status = NGX_OK;
        ngx_http_oic_auth_resume(r);
        return;

    case NGX_OIC_CACHE_FAILED:
        ctx->status = res.status;
        ctx->challenge = (res.status == NGX_HTTP_UNAUTHORIZED);
        len = ngx_strlen(res.error);
        ctx->error.data = ngx_pnalloc(r->pool, len);
        if (ctx->error.data) {
            ngx_memcpy(ctx->error.data, res.error, len);
            ctx->error.len = len;
        }
        ngx_http_oic_auth_resume(r);
        return;

    case NGX_OIC_CACHE_WAIT:
        ctx->gen = res.gen;
        ctx->poll_delay = ngx_min(ctx->poll_delay * 2,
                                  NGX_HTTP_OIC_AUTH_POLL_MAX);
        ngx_add_timer(&ctx->poll, ctx->poll_delay);
        return;

    default:
        /*
         * the owner missed its deadline, or the entry is gone: this request
         * takes the fetch over; the credentials are needed again
         */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "oic_auth: token fetch in another worker did not "
                      "finish in time, fetching again");

        ctx->state = NGX_HTTP_OIC_AUTH_NEW;
        ngx_http_set_ctx(r, NULL, ngx_http_oic_auth_module);
        ngx_http_oic_auth_resume(r);
        return;
    }
}


static void
ngx_http_oic_auth_resume(ngx_http_request_t *r)
{
    ngx_connection_t         *c;
    ngx_http_oic_auth_ctx_t  *ctx;

    c = r->connection;

    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);
    if (ctx) {
        ctx->state = NGX_HTTP_OIC_AUTH_DONE;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_oic_auth_cleanup(void *data)
{
    ngx_http_oic_auth_ctx_t  *ctx = data;

    if (ctx->poll.timer_set) {
        ngx_del_timer(&ctx->poll);
    }

    if (ctx->fetch) {
        /* the fetch goes on for the other waiters and fills the cache */
        ngx_queue_remove(&ctx->wait_link);
        ngx_queue_init(&ctx->wait_link);
        ctx->fetch = NULL;
    }
}


static ngx_http_oic_auth_fetch_t *
ngx_http_oic_auth_find_fetch(u_char *key, uint32_t gen)
{
    ngx_queue_t                *q;
    ngx_http_oic_auth_fetch_t  *f;

    for (q = ngx_queue_head(&ngx_http_oic_auth_fetches);
         q != ngx_queue_sentinel(&ngx_http_oic_auth_fetches);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_oic_auth_fetch_t, queue);

        if (f->gen == gen && ngx_memcmp(f->key, key, NGX_OIC_KEY_LEN) == 0) {
            return f;
        }
    }

    return NULL;
}


/* The answer for a request whose outcome is known. */
static ngx_int_t
ngx_http_oic_auth_finish(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    if (ctx->status != NGX_OK) {
        if (ctx->status == NGX_HTTP_UNAUTHORIZED && ctx->challenge) {
            if (ngx_http_oic_auth_challenge(r, lcf) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        return ctx->status;
    }

    if (ngx_http_oic_auth_set_bearer(r, &ctx->token) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_fail(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *ctx,
    ngx_int_t status, char *error)
{
    ngx_http_oic_auth_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    ctx->state = NGX_HTTP_OIC_AUTH_DONE;
    ctx->status = status;
    ctx->error.data = (u_char *) error;
    ctx->error.len = ngx_strlen(error);

    return ngx_http_oic_auth_finish(r, lcf, ctx);
}


/* Replace the request's Authorization header: proxy_pass forwards it. */
static ngx_int_t
ngx_http_oic_auth_set_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL) {
        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&h->key, "Authorization");
        h->lowcase_key = (u_char *) "authorization";
        h->hash = ngx_hash(ngx_hash(ngx_hash(ngx_hash(ngx_hash(ngx_hash(
                  ngx_hash(ngx_hash(ngx_hash(ngx_hash(ngx_hash(ngx_hash(
                  'a', 'u'), 't'), 'h'), 'o'), 'r'), 'i'), 'z'), 'a'), 't'),
                  'i'), 'o'), 'n');
        r->headers_in.authorization = h;
    }

    p = ngx_pnalloc(r->pool, sizeof("Bearer ") - 1 + token->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h->value.data = p;
    p = ngx_cpymem(p, "Bearer ", sizeof("Bearer ") - 1);
    p = ngx_cpymem(p, token->data, token->len);
    h->value.len = p - h->value.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_challenge(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf)
{
    u_char           *p;
    size_t            len;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    len = sizeof("Basic realm=\"\", charset=\"UTF-8\"") - 1 + lcf->realm.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        h->hash = 0;
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "Basic realm=\"%V\", charset=\"UTF-8\"",
                               &lcf->realm) - p;

    r->headers_out.www_authenticate = h;

    return NGX_OK;
}


/* A client id for a log line: printable ASCII only, truncated, NUL-ended. */
static void
ngx_http_oic_auth_log_id(u_char *dst, size_t size, ngx_str_t *id)
{
    size_t  i, n;

    n = ngx_min(id->len, size - 1);

    for (i = 0; i < n; i++) {
        dst[i] = (id->data[i] >= 0x20 && id->data[i] < 0x7f
                  && id->data[i] != '"') ? id->data[i] : '?';
    }

    dst[n] = '\0';
}


/* ---- variables ---- */

typedef enum {
    NGX_HTTP_OIC_AUTH_VAR_CLIENT_ID = 0,
    NGX_HTTP_OIC_AUTH_VAR_CACHE_STATUS,
    NGX_HTTP_OIC_AUTH_VAR_TOKEN,
    NGX_HTTP_OIC_AUTH_VAR_ERROR
} ngx_http_oic_auth_var_e;


static ngx_int_t
ngx_http_oic_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                *s;
    ngx_http_oic_auth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {
    case NGX_HTTP_OIC_AUTH_VAR_CLIENT_ID:
        s = &ctx->client_id;
        break;
    case NGX_HTTP_OIC_AUTH_VAR_CACHE_STATUS:
        s = &ctx->cache_status;
        break;
    case NGX_HTTP_OIC_AUTH_VAR_TOKEN:
        s = &ctx->token;
        break;
    default:
        s = &ctx->error;
        break;
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_http_variable_t  ngx_http_oic_auth_vars[] = {

    { ngx_string("oic_auth_client_id"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_CLIENT_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_cache_status"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_CACHE_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_token"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_TOKEN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_error"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_ERROR, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_oic_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_oic_auth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* ---- configuration ---- */

static void *
ngx_http_oic_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_oic_auth_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_oic_auth_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->token_endpoint = { 0, NULL };
     *     conf->scope = { 0, NULL };
     *     conf->ssl_trusted_certificate = { 0, NULL };
     *     conf->realm = { 0, NULL };
     */

    conf->modes = NGX_CONF_UNSET_UINT;
    conf->zone = NGX_CONF_UNSET_PTR;
    conf->refresh_margin = NGX_CONF_UNSET;
    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->ssl_verify = NGX_CONF_UNSET;

    return conf;
}


static char *
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

    if (conf->modes == 0) {
        return NGX_CONF_OK;
    }

    if (conf->zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth\" requires \"oic_auth_cache\"");
        return NGX_CONF_ERROR;
    }

    if ((conf->modes & NGX_HTTP_OIC_AUTH_BASIC)
        && conf->token_endpoint.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth basic\" requires "
                           "\"oic_auth_token_endpoint\"");
        return NGX_CONF_ERROR;
    }

    if (conf->timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_timeout\" must be greater than 0");
        return NGX_CONF_ERROR;
    }

    if (conf->ssl_trusted_certificate.len
        && ngx_conf_full_name(cf->cycle, &conf->ssl_trusted_certificate, 1)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
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
                               "invalid value \"%V\", "
                               "it must be \"off\" or \"basic\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (lcf->modes & e->value) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate value \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        lcf->modes |= e->value;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_oic_auth_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char           *p;
    ssize_t           size;
    ngx_str_t        *value, name, s;
    ngx_shm_zone_t   *shm_zone;
    ngx_oic_cache_t  *cache;

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", it must be NAME:SIZE",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) NGX_OIC_CACHE_MIN_SIZE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: %V, "
                           "the minimum is %uzk",
                           &name, &s, (size_t) NGX_OIC_CACHE_MIN_SIZE >> 10);
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_oic_auth_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    cache = ngx_oic_cache_create_ctx(cf->pool);
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_oic_cache_init_zone;
    shm_zone->data = cache;

    return NGX_CONF_OK;
}


static char *
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

    lcf->zone = ngx_shared_memory_add(cf, &value[1], 0,
                                      &ngx_http_oic_auth_module);
    if (lcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* https://, or http:// to a loopback host only */
static char *
ngx_http_oic_auth_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    u_char     *p, *last, *host;
    size_t      len;
    ngx_str_t  *value, *field;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;
    field = (ngx_str_t *) ((char *) conf + cmd->offset);
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

        if (!((len == 5 && ngx_strncmp(host, "[::1]", 5) == 0)
              || (len == 9 && ngx_strncasecmp(host, (u_char *) "localhost", 9)
                              == 0)
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

    (void) field;

    return NGX_CONF_OK;
}


/* ---- init ---- */

static ngx_int_t
ngx_http_oic_auth_init(ngx_conf_t *cf)
{
    ngx_uint_t                  i;
    ngx_list_part_t            *part;
    ngx_shm_zone_t             *shm_zone;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

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

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_oic_auth_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_http_oic_auth_fetches);

    return ngx_oic_http_init_process(cycle);
}


static void
ngx_http_oic_auth_exit_process(ngx_cycle_t *cycle)
{
    ngx_oic_http_exit_process(cycle);
}
