/*
 * ngx_http_oic_auth_module: a credential broker in front of Oracle
 * Integration Cloud.
 *
 *   basic     legacy clients: Basic client credentials in, a cached OCI IAM
 *             client_credentials token (with the configured scope) out
 *   bearer    JWT validation (JWKS, iss, aud, time) and per-route scopes
 *   exchange  an Entra ID user token in, a cached OCI IAM user token out
 *
 * This file is the nginx glue: directives, the access-phase handler and
 * variables. The OAuth and JWT logic lives in the C++ core
 * (include/oic_auth*.h), the event-loop HTTP client in src/ngx_oic_http.c,
 * the shared cache in src/ngx_oic_cache.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "oic_auth.h"
#include "oic_auth_jwt.h"
#include "src/ngx_oic_http.h"
#include "src/ngx_oic_cache.h"
#include "src/ngx_oic_jwt_cache.h"


#define NGX_HTTP_OIC_AUTH_BASIC     0x01
#define NGX_HTTP_OIC_AUTH_BEARER    0x02
#define NGX_HTTP_OIC_AUTH_EXCHANGE  0x04

#define NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER      0
#define NGX_HTTP_OIC_AUTH_GRANT_TOKEN_EXCHANGE  1

#define NGX_HTTP_OIC_AUTH_POLL_MIN        4     /* ms */
#define NGX_HTTP_OIC_AUTH_POLL_MAX        50    /* ms */
#define NGX_HTTP_OIC_AUTH_GRACE           2000  /* ms added to a wait */
#define NGX_HTTP_OIC_AUTH_LOG_ID          64    /* id chars in a log line */
#define NGX_HTTP_OIC_AUTH_KID_INTERVAL    60    /* s between forced refetches */
#define NGX_HTTP_OIC_AUTH_JWKS_RETRY      60    /* s after a failed refresh */
#define NGX_HTTP_OIC_AUTH_JWKS_KEEP       (30 * 86400)
#define NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY 5     /* s: no keys at all */


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

    /* bearer and exchange: token validation */
    ngx_str_t                   jwks_uri;
    ngx_str_t                   jwks_file;
    oic_jwks_t                 *jwks_static;
    time_t                      jwks_refresh;
    ngx_array_t                *issuers;            /* of oic_str_t */
    ngx_array_t                *audiences;
    ngx_uint_t                  algorithms;
    time_t                      leeway;
    ngx_array_t                *scopes_required;
    ngx_uint_t                  scopes_match;
    ngx_array_t                *scope_claims;
    ngx_uint_t                  deny_status;
    ngx_str_t                   scopes_text;        /* for insufficient_scope */
    oic_jwt_policy_t            policy;
    u_char                      jwks_key[NGX_OIC_KEY_LEN];

    /* exchange */
    ngx_str_t                   client_id;
    ngx_str_t                   client_secret_file;
    ngx_str_t                   client_secret;
    ngx_str_t                   assertion_key;
    ngx_str_t                   assertion_certificate;
    oic_signer_t               *signer;
    ngx_str_t                   assertion_kid;
    ngx_str_t                   assertion_audience;
    time_t                      assertion_lifetime;
    ngx_uint_t                  exchange_grant;
    ngx_array_t                *user_claims;
} ngx_http_oic_auth_loc_conf_t;


typedef enum {
    NGX_HTTP_OIC_AUTH_NEW = 0,
    NGX_HTTP_OIC_AUTH_WAITING,
    NGX_HTTP_OIC_AUTH_RETRY,       /* keys arrived: run the checks again */
    NGX_HTTP_OIC_AUTH_DONE
} ngx_http_oic_auth_state_e;


typedef struct ngx_http_oic_auth_fetch_s  ngx_http_oic_auth_fetch_t;

typedef struct {
    ngx_http_request_t         *request;
    ngx_http_oic_auth_state_e   state;
    ngx_int_t                   status;     /* NGX_OK or the HTTP status */
    ngx_uint_t                  mode;

    /* the answer's WWW-Authenticate: schemes, and a Bearer error */
    ngx_uint_t                  challenge;
    char                       *bearer_error;
    ngx_str_t                   bearer_desc;
    ngx_uint_t                  bearer_scope;

    u_char                      key[NGX_OIC_KEY_LEN];   /* token entry */
    u_char                      wait_key[NGX_OIC_KEY_LEN];
    uint32_t                    gen;
    ngx_uint_t                  wait_jwks;
    ngx_uint_t                  kid_refreshed;

    oic_basic_creds_t          *creds;      /* during the first pass only */
    oic_jwt_t                  *jwt;        /* owned by ngx_oic_jwt_cache */
    ngx_str_t                   bearer;     /* the incoming token */
    u_char                      bearer_hash[NGX_OIC_KEY_LEN];

    ngx_str_t                   client_id;
    ngx_str_t                   user;
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
    ngx_shm_zone_t             *zone;       /* NULL: an uncached fetch */
    ngx_uint_t                  jwks;       /* a JWKS, not a token */
    ngx_uint_t                  exchange;
    time_t                      ttl;        /* JWKS: refresh; token: margin */
    ngx_queue_t                 waiters;
    ngx_oic_http_t              http;
    u_char                      who[NGX_HTTP_OIC_AUTH_LOG_ID + 64];
};


/* a JWKS document parsed by this worker */
typedef struct {
    ngx_queue_t                 queue;
    u_char                      key[NGX_OIC_KEY_LEN];
    uint32_t                    version;
    oic_jwks_t                 *keys;
} ngx_http_oic_auth_keys_t;


static ngx_int_t ngx_http_oic_auth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_oic_auth_run(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_basic(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_bearer(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_verify(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_exchange(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_token(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_keys(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    oic_jwks_t **keys);
static ngx_int_t ngx_http_oic_auth_park(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, u_char *key, uint32_t gen,
    ngx_uint_t jwks);
static ngx_int_t ngx_http_oic_auth_token_request(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_http_conf_t *hc);
static ngx_http_oic_auth_fetch_t *ngx_http_oic_auth_fetch(
    ngx_http_request_t *r, ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_shm_zone_t *zone, u_char *key,
    uint32_t gen, ngx_uint_t jwks);
static void ngx_http_oic_auth_token_done(ngx_oic_http_t *h);
static void ngx_http_oic_auth_jwks_done(ngx_oic_http_t *h);
static void ngx_http_oic_auth_wake(ngx_http_oic_auth_fetch_t *fetch,
    ngx_int_t status, ngx_str_t *token, char *code);
static void ngx_http_oic_auth_poll_handler(ngx_event_t *ev);
static void ngx_http_oic_auth_deadline_handler(ngx_event_t *ev);
static void ngx_http_oic_auth_resume(ngx_http_request_t *r);
static void ngx_http_oic_auth_cleanup(void *data);
static ngx_int_t ngx_http_oic_auth_decode(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    char *err, size_t errlen);
static ngx_int_t ngx_http_oic_auth_finish(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_fail(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_int_t status, char *error);
static ngx_int_t ngx_http_oic_auth_invalid_token(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, char *error, const char *desc);
static ngx_int_t ngx_http_oic_auth_set_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_int_t ngx_http_oic_auth_challenge(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_set_str(ngx_pool_t *pool, ngx_str_t *dst,
    const char *src, size_t len);
static void ngx_http_oic_auth_log_id(u_char *dst, size_t size, u_char *id,
    size_t len);

static void *ngx_http_oic_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_oic_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_oic_auth_merge_bearer(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf);
static char *ngx_http_oic_auth_merge_exchange(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf);
static char *ngx_http_oic_auth_mode(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_oic_auth_deny_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_oic_auth_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_oic_auth_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_oic_auth_init_process(ngx_cycle_t *cycle);
static void ngx_http_oic_auth_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_oic_auth_modes[] = {
    { ngx_string("basic"), NGX_HTTP_OIC_AUTH_BASIC },
    { ngx_string("bearer"), NGX_HTTP_OIC_AUTH_BEARER },
    { ngx_string("exchange"), NGX_HTTP_OIC_AUTH_EXCHANGE },
    { ngx_null_string, 0 }
};


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


#define NGX_HTTP_OIC_AUTH_CONF                                               \
    (NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF)

#define ngx_http_oic_auth_field(f)                                           \
    offsetof(ngx_http_oic_auth_loc_conf_t, f)


static ngx_command_t  ngx_http_oic_auth_commands[] = {

    { ngx_string("oic_auth_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_oic_auth_cache_zone,
      0,
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
      ngx_http_oic_auth_list,
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
      NULL },

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
      NULL },

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

/* this worker's fetches in flight, and its parsed key sets */
static ngx_queue_t  ngx_http_oic_auth_fetches;
static ngx_queue_t  ngx_http_oic_auth_keysets;


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
        switch (ctx->state) {

        case NGX_HTTP_OIC_AUTH_WAITING:
            return NGX_AGAIN;

        case NGX_HTTP_OIC_AUTH_RETRY:
            ctx->state = NGX_HTTP_OIC_AUTH_NEW;
            return ngx_http_oic_auth_run(r, lcf, ctx);

        default:
            return ngx_http_oic_auth_finish(r, lcf, ctx);
        }
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


/* ---- basic: client credentials in, a client_credentials token out ---- */

static ngx_int_t
ngx_http_oic_auth_basic(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_int_t           rc;
    oic_str_t           fields[4];
    oic_basic_rc_t      brc;
    ngx_table_elt_t    *h;
    oic_basic_creds_t   creds;

    ctx->challenge = NGX_HTTP_OIC_AUTH_BASIC;

    h = r->headers_in.authorization;

    brc = oic_basic_parse((char *) h->value.data, h->value.len, &creds);

    if (brc != OIC_BASIC_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "oic_auth: malformed Basic credentials");
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                      "malformed_credentials");
    }

    if (ngx_http_oic_auth_set_str(r->pool, &ctx->client_id, creds.client_id,
                                  creds.client_id_len)
        != NGX_OK)
    {
        oic_basic_creds_free(&creds);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    fields[0].data = (char *) lcf->token_endpoint.data;
    fields[0].len = lcf->token_endpoint.len;
    fields[1].data = creds.client_id;
    fields[1].len = creds.client_id_len;
    fields[2].data = creds.secret;
    fields[2].len = creds.secret_len;
    fields[3].data = (char *) lcf->scope.data;
    fields[3].len = lcf->scope.len;

    oic_cache_key("basic", fields, 4, ctx->key);

    ctx->creds = &creds;
    rc = ngx_http_oic_auth_token(r, lcf, ctx);
    ctx->creds = NULL;

    oic_basic_creds_free(&creds);

    return rc;
}


/* ---- bearer: validate a JWT; exchange: then swap it for an IAM token ---- */

static ngx_int_t
ngx_http_oic_auth_bearer(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    char                 err[256];
    size_t               off, len;
    ngx_int_t            rc;
    oic_jwt_rc_t         jrc;
    ngx_table_elt_t     *h;
    oic_bearer_rc_t      brc;

    ctx->challenge = NGX_HTTP_OIC_AUTH_BEARER;

    if (ctx->jwt == NULL) {
        h = r->headers_in.authorization;

        brc = oic_bearer_parse((char *) h->value.data, h->value.len,
                               &off, &len);

        if (brc != OIC_BEARER_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "oic_auth: malformed Bearer credentials");
            ctx->bearer_error = "invalid_request";
            ngx_str_set(&ctx->bearer_desc, "malformed Authorization header");
            return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                          "invalid_request");
        }

        ctx->bearer.data = h->value.data + off;
        ctx->bearer.len = len;

        rc = ngx_http_oic_auth_decode(r, lcf, ctx, err, sizeof(err));
        if (rc != NGX_OK) {
            return rc;
        }

        /* audience and issuer before any signature work */

        jrc = oic_jwt_check_claims(ctx->jwt, &lcf->policy, ngx_time(),
                                   err, sizeof(err));
        if (jrc != OIC_JWT_OK) {
            return ngx_http_oic_auth_invalid_token(r, ctx, "invalid_token",
                                                   err);
        }
    }

    rc = ngx_http_oic_auth_verify(r, lcf, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    if (lcf->scopes_required
        && !oic_jwt_has_scopes(ctx->jwt, &lcf->policy,
                               lcf->scopes_required->elts,
                               lcf->scopes_required->nelts,
                               (int) lcf->scopes_match))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: token lacks the required scopes \"%V\"",
                      &lcf->scopes_text);

        if (lcf->deny_status == NGX_HTTP_FORBIDDEN) {
            ctx->bearer_error = "insufficient_scope";
            ctx->bearer_scope = 1;
        } else {
            ctx->challenge = 0;
        }

        return ngx_http_oic_auth_fail(r, ctx, lcf->deny_status,
                                      "insufficient_scope");
    }

    if (ctx->mode == NGX_HTTP_OIC_AUTH_EXCHANGE) {
        return ngx_http_oic_auth_exchange(r, lcf, ctx);
    }

    ctx->state = NGX_HTTP_OIC_AUTH_DONE;
    ctx->status = NGX_OK;

    return NGX_OK;
}


/*
 * The decoded token: from this worker's cache when the same token (under the
 * same algorithm allow-list) was seen before, else decoded and remembered.
 */
static ngx_int_t
ngx_http_oic_auth_decode(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    char *err, size_t errlen)
{
    u_char               key[NGX_OIC_KEY_LEN], algs[4];
    oic_str_t            fields[2];
    oic_jwt_t           *jwt;
    oic_jwt_rc_t         jrc;
    ngx_oic_jwt_ref_t   *ref;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    oic_sha256(ctx->bearer.data, ctx->bearer.len, ctx->bearer_hash);

    algs[0] = (u_char) (lcf->algorithms >> 24);
    algs[1] = (u_char) (lcf->algorithms >> 16);
    algs[2] = (u_char) (lcf->algorithms >> 8);
    algs[3] = (u_char) lcf->algorithms;

    fields[0].data = (char *) algs;
    fields[0].len = sizeof(algs);
    fields[1].data = (char *) ctx->bearer_hash;
    fields[1].len = NGX_OIC_KEY_LEN;

    oic_cache_key("decoded", fields, 2, key);

    ref = ngx_oic_jwt_cache_get(key);

    if (ref == NULL) {
        jrc = oic_jwt_decode((char *) ctx->bearer.data, ctx->bearer.len,
                             (unsigned) lcf->algorithms, &jwt, err, errlen);

        if (jrc != OIC_JWT_OK) {
            return ngx_http_oic_auth_invalid_token(r, ctx, "invalid_token",
                                                   err);
        }

        ref = ngx_oic_jwt_cache_put(key, jwt);
        if (ref == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    cln->handler = ngx_oic_jwt_cache_release;
    cln->data = ref;

    ctx->jwt = ref->jwt;

    return NGX_OK;
}


/* The signature, unless this token was verified before (shared memory). */
static ngx_int_t
ngx_http_oic_auth_verify(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    char                 err[256], *why;
    time_t               exp;
    u_char               vkey[NGX_OIC_KEY_LEN];
    ngx_int_t            rc;
    oic_str_t            fields[2];
    oic_jwks_t          *keys;
    oic_jwt_rc_t         jrc;
    ngx_oic_cache_rc_e   crc;
    ngx_oic_cache_res_t  res;

    fields[0].data = (char *) lcf->jwks_key;
    fields[0].len = NGX_OIC_KEY_LEN;
    fields[1].data = (char *) ctx->bearer_hash;
    fields[1].len = NGX_OIC_KEY_LEN;

    oic_cache_key("verified", fields, 2, vkey);

    keys = NULL;

    if (ngx_oic_cache_marked(lcf->zone, vkey)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "oic_auth: signature already verified (cache)");
        return NGX_OK;
    }

    rc = ngx_http_oic_auth_keys(r, lcf, ctx, &keys);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "oic_auth: verifying signature");

    jrc = oic_jwt_verify(ctx->jwt, keys, err, sizeof(err));

    /*
     * a new key: an unknown kid (Entra), or a known kid whose key changed
     * (OCI IAM keeps kid SIGNING_KEY across rotations): one refetch, under
     * the same throttle
     */

    if ((jrc == OIC_JWT_UNKNOWN_KID || jrc == OIC_JWT_BAD_SIGNATURE)
        && lcf->jwks_uri.len && !ctx->kid_refreshed)
    {
        ctx->kid_refreshed = 1;

        why = (jrc == OIC_JWT_UNKNOWN_KID)
              ? "unknown key id" : "signature does not verify";

        crc = ngx_oic_cache_refresh(lcf->zone, lcf->jwks_key,
                                    lcf->timeout + 1000,
                                    NGX_HTTP_OIC_AUTH_KID_INTERVAL, &res);

        if (crc == NGX_OIC_CACHE_OWNER || crc == NGX_OIC_CACHE_WAIT) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "oic_auth: %s, refreshing \"%V\"",
                          why, &lcf->jwks_uri);

            if (crc == NGX_OIC_CACHE_OWNER
                && ngx_http_oic_auth_fetch(r, lcf, ctx, lcf->zone,
                                           lcf->jwks_key, res.gen, 1)
                   == NULL)
            {
                ngx_oic_cache_fail(lcf->zone, lcf->jwks_key, res.gen,
                                   NGX_HTTP_BAD_GATEWAY, "jwks_unavailable",
                                   ngx_time()
                                   + NGX_HTTP_OIC_AUTH_JWKS_RETRY,
                                   ngx_time()
                                   + NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY);
                return ngx_http_oic_auth_invalid_token(r, ctx,
                                                       "invalid_token", err);
            }

            return ngx_http_oic_auth_park(r, ctx, lcf->jwks_key, res.gen, 1);
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "oic_auth: %s, \"%V\" was fetched less "
                      "than %d s ago", why, &lcf->jwks_uri,
                      NGX_HTTP_OIC_AUTH_KID_INTERVAL);
    }

    if (jrc != OIC_JWT_OK) {
        return ngx_http_oic_auth_invalid_token(r, ctx, "invalid_token", err);
    }

    exp = (time_t) oic_jwt_exp(ctx->jwt);

    if (exp > ngx_time()) {
        ngx_oic_cache_mark(lcf->zone, vkey, exp);
    }

    return NGX_OK;
}


/* This worker's parsed key set for the location, fetched when needed. */
static ngx_int_t
ngx_http_oic_auth_keys(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    oic_jwks_t **keys)
{
    char                       err[256];
    oic_jwks_t                *parsed;
    ngx_queue_t               *q;
    ngx_oic_cache_rc_e         rc;
    ngx_oic_cache_req_t        req;
    ngx_oic_cache_res_t        res;
    ngx_http_oic_auth_keys_t  *ks;

    if (lcf->jwks_static) {
        *keys = lcf->jwks_static;
        return NGX_OK;
    }

    ks = NULL;

    for (q = ngx_queue_head(&ngx_http_oic_auth_keysets);
         q != ngx_queue_sentinel(&ngx_http_oic_auth_keysets);
         q = ngx_queue_next(q))
    {
        ks = ngx_queue_data(q, ngx_http_oic_auth_keys_t, queue);

        if (ngx_memcmp(ks->key, lcf->jwks_key, NGX_OIC_KEY_LEN) == 0) {
            break;
        }

        ks = NULL;
    }

    if (ks == NULL) {
        ks = ngx_calloc(sizeof(ngx_http_oic_auth_keys_t), ngx_cycle->log);
        if (ks == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(ks->key, lcf->jwks_key, NGX_OIC_KEY_LEN);
        ngx_queue_insert_tail(&ngx_http_oic_auth_keysets, &ks->queue);
    }

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    req.deadline_ms = lcf->timeout + 1000;
    req.stale_ok = 1;
    req.refresh = 1;
    req.fail_fast = 1;
    req.have_version = ks->keys ? ks->version : 0;

    rc = ngx_oic_cache_acquire(lcf->zone, lcf->jwks_key, &req, r->pool, &res);

    switch (rc) {

    case NGX_OIC_CACHE_HIT:
        if (res.gen) {
            /* stale: refresh in the background, go on with these keys */
            (void) ngx_http_oic_auth_fetch(r, lcf, NULL, lcf->zone,
                                           lcf->jwks_key, res.gen, 1);
        }

        if (ks->keys == NULL || res.version != ks->version) {
            parsed = oic_jwks_parse((char *) res.value.data, res.value.len,
                                    err, sizeof(err));
            if (parsed == NULL) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "oic_auth: cached JWKS of \"%V\" unusable: %s",
                              &lcf->jwks_uri, err);
                return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                              "jwks_unavailable");
            }

            if (ks->keys) {
                oic_jwks_free(ks->keys);
            }

            ks->keys = parsed;
            ks->version = res.version;

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "oic_auth: JWKS version %uD parsed, %uz keys",
                           ks->version, oic_jwks_count(parsed));
        }

        *keys = ks->keys;
        return NGX_OK;

    case NGX_OIC_CACHE_OWNER:
        if (ngx_http_oic_auth_fetch(r, lcf, ctx, lcf->zone, lcf->jwks_key,
                                    res.gen, 1)
            == NULL)
        {
            ngx_oic_cache_fail(lcf->zone, lcf->jwks_key, res.gen,
                               NGX_HTTP_BAD_GATEWAY, "jwks_unavailable",
                               ngx_time() + NGX_HTTP_OIC_AUTH_JWKS_RETRY,
                               ngx_time() + NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY);
            return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                          "jwks_unavailable");
        }

        return ngx_http_oic_auth_park(r, ctx, lcf->jwks_key, res.gen, 1);

    case NGX_OIC_CACHE_WAIT:
        return ngx_http_oic_auth_park(r, ctx, lcf->jwks_key, res.gen, 1);

    case NGX_OIC_CACHE_FAILED:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: no keys: \"%V\" failed less than %d s ago",
                      &lcf->jwks_uri, NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY);
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                      "jwks_unavailable");

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: no room for the JWKS in the cache zone");
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "cache_full");
    }
}


static ngx_int_t
ngx_http_oic_auth_exchange(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    char       *user;
    oic_str_t   fields[5];
    ngx_int_t   rc;

    if (ctx->user.len == 0) {
        user = oic_jwt_first_claim(ctx->jwt, lcf->user_claims->elts,
                                   lcf->user_claims->nelts);
        if (user == NULL || *user == '\0') {
            oic_free(user);
            return ngx_http_oic_auth_invalid_token(r, ctx, "invalid_token",
                                                   "no user claim");
        }

        rc = ngx_http_oic_auth_set_str(r->pool, &ctx->user, user,
                                       ngx_strlen(user));
        oic_free(user);

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    fields[0].data = (char *) lcf->token_endpoint.data;
    fields[0].len = lcf->token_endpoint.len;
    fields[1].data = (char *) lcf->client_id.data;
    fields[1].len = lcf->client_id.len;
    fields[2].data = (char *) ctx->user.data;
    fields[2].len = ctx->user.len;
    fields[3].data = (char *) lcf->scope.data;
    fields[3].len = lcf->scope.len;
    fields[4].data = lcf->exchange_grant ? "token_exchange" : "jwt_bearer";
    fields[4].len = ngx_strlen(fields[4].data);

    oic_cache_key("exchange", fields, 5, ctx->key);

    return ngx_http_oic_auth_token(r, lcf, ctx);
}


/* ---- IAM tokens: from the cache, or fetched once for all waiters ---- */

static ngx_int_t
ngx_http_oic_auth_token(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_oic_cache_rc_e          rc;
    ngx_oic_cache_req_t         req;
    ngx_oic_cache_res_t         res;
    ngx_http_oic_auth_fetch_t  *fetch;

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    req.deadline_ms = lcf->timeout + 1000;

    rc = ngx_oic_cache_acquire(lcf->zone, ctx->key, &req, r->pool, &res);

    switch (rc) {

    case NGX_OIC_CACHE_HIT:
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "oic_auth: token cache hit");

        if (ctx->cache_status.len == 0) {
            ctx->cache_status = ngx_http_oic_auth_hit;
        }

        ctx->token = res.value;
        ctx->state = NGX_HTTP_OIC_AUTH_DONE;
        ctx->status = NGX_OK;

        return ngx_http_oic_auth_finish(r, lcf, ctx);

    case NGX_OIC_CACHE_WAIT:
        ctx->cache_status = ngx_http_oic_auth_waited;
        return ngx_http_oic_auth_park(r, ctx, ctx->key, res.gen, 0);

    default: /* OWNER, or NOMEM: an uncached fetch for this request */
        ctx->cache_status = ngx_http_oic_auth_miss;

        fetch = ngx_http_oic_auth_fetch(r, lcf, ctx,
                                        rc == NGX_OIC_CACHE_OWNER
                                        ? lcf->zone : NULL,
                                        ctx->key, res.gen, 0);
        if (fetch == NULL) {
            if (rc == NGX_OIC_CACHE_OWNER) {
                ngx_oic_cache_fail(lcf->zone, ctx->key, res.gen,
                                   NGX_HTTP_BAD_GATEWAY, "iam_unavailable",
                                   0, 0);
            }

            return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                          "iam_unavailable");
        }

        return ngx_http_oic_auth_park(r, ctx, ctx->key, res.gen, 0);
    }
}


/* Wait for a fetch: this worker's (no polling), or another worker's. */
static ngx_int_t
ngx_http_oic_auth_park(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *ctx,
    u_char *key, uint32_t gen, ngx_uint_t jwks)
{
    ngx_queue_t                   *q;
    ngx_http_oic_auth_fetch_t     *f;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    ngx_memcpy(ctx->wait_key, key, NGX_OIC_KEY_LEN);
    ctx->gen = gen;
    ctx->wait_jwks = jwks;

    ctx->poll.data = r;
    ctx->poll.log = r->connection->log;

    if (ctx->fetch) {
        /* ngx_http_oic_auth_fetch() made it a waiter already: linking it
         * twice would leave a dangling link once the client goes away */
        goto local;
    }

    for (q = ngx_queue_head(&ngx_http_oic_auth_fetches);
         q != ngx_queue_sentinel(&ngx_http_oic_auth_fetches);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_http_oic_auth_fetch_t, queue);

        if (f->gen == gen && ngx_memcmp(f->key, key, NGX_OIC_KEY_LEN) == 0) {
            ctx->fetch = f;
            ngx_queue_insert_tail(&f->waiters, &ctx->wait_link);
            goto local;
        }
    }

    /* the fetch runs in another worker: look at the shared entry */

    ctx->poll.handler = ngx_http_oic_auth_poll_handler;
    ctx->poll_delay = NGX_HTTP_OIC_AUTH_POLL_MIN;
    ngx_add_timer(&ctx->poll, ctx->poll_delay);

    goto parked;

local:

    /*
     * the fetch resumes this request; the timer bounds the wait whatever
     * happens to the fetch, and keeps a worker that is shutting down
     * gracefully (reload) alive until the request has its answer
     */

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    ctx->poll.handler = ngx_http_oic_auth_deadline_handler;
    ngx_add_timer(&ctx->poll, lcf->timeout + NGX_HTTP_OIC_AUTH_GRACE);

parked:

    ctx->state = NGX_HTTP_OIC_AUTH_WAITING;
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


/* Start a token or JWKS request; ctx (may be NULL) becomes its first waiter. */
static ngx_http_oic_auth_fetch_t *
ngx_http_oic_auth_fetch(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_shm_zone_t *zone, u_char *key, uint32_t gen, ngx_uint_t jwks)
{
    u_char                      id[NGX_HTTP_OIC_AUTH_LOG_ID];
    u_char                      hex[9];
    ngx_int_t                   rc;
    ngx_oic_http_conf_t         hc;
    ngx_http_oic_auth_fetch_t  *fetch;

    fetch = ngx_calloc(sizeof(ngx_http_oic_auth_fetch_t), ngx_cycle->log);
    if (fetch == NULL) {
        return NULL;
    }

    ngx_memcpy(fetch->key, key, NGX_OIC_KEY_LEN);
    fetch->gen = gen;
    fetch->zone = zone;
    fetch->jwks = jwks;
    ngx_queue_init(&fetch->waiters);

    ngx_memzero(&hc, sizeof(ngx_oic_http_conf_t));
    hc.timeout = lcf->timeout;
    hc.ssl_verify = lcf->ssl_verify;
    hc.cafile = lcf->ssl_trusted_certificate;

    if (jwks) {
        ngx_http_oic_auth_log_id(id, sizeof(id), lcf->jwks_uri.data,
                                 lcf->jwks_uri.len);
        ngx_snprintf(fetch->who, sizeof(fetch->who), "JWKS \"%s\"%Z", id);

        fetch->ttl = lcf->jwks_refresh;
        fetch->http.handler = ngx_http_oic_auth_jwks_done;
        hc.url = lcf->jwks_uri;
        hc.max_body = OIC_JWKS_MAX_BYTES;
        rc = NGX_OK;

    } else {
        oic_hex(key, 4, (char *) hex);

        if (ctx->mode == NGX_HTTP_OIC_AUTH_BASIC) {
            ngx_http_oic_auth_log_id(id, sizeof(id), ctx->client_id.data,
                                     ctx->client_id.len);
            ngx_snprintf(fetch->who, sizeof(fetch->who),
                         "client \"%s\" (key %s)%Z", id, hex);

        } else {
            ngx_http_oic_auth_log_id(id, sizeof(id), ctx->user.data,
                                     ctx->user.len);
            ngx_snprintf(fetch->who, sizeof(fetch->who),
                         "user \"%s\" (key %s)%Z", id, hex);
            fetch->exchange = 1;
        }

        fetch->ttl = lcf->refresh_margin;
        fetch->http.handler = ngx_http_oic_auth_token_done;
        hc.url = lcf->token_endpoint;
        hc.max_body = OIC_TOKEN_MAX_BODY;

        rc = ngx_http_oic_auth_token_request(r, lcf, ctx, &hc);
    }

    fetch->http.data = fetch;
    fetch->http.log = ngx_cycle->log;

    if (rc == NGX_OK) {
        rc = ngx_oic_http_start(&fetch->http, &hc);
    }

    if (hc.authorization.data) {
        ngx_explicit_memzero(hc.authorization.data, hc.authorization.len);
        oic_free(hc.authorization.data);
    }

    if (hc.body.data) {
        ngx_explicit_memzero(hc.body.data, hc.body.len);
        oic_free(hc.body.data);
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: could not start the request for %s",
                      fetch->who);
        ngx_free(fetch);
        return NULL;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "oic_auth: request started for %s", fetch->who);

    ngx_queue_insert_tail(&ngx_http_oic_auth_fetches, &fetch->queue);

    if (ctx) {
        ngx_memcpy(ctx->wait_key, key, NGX_OIC_KEY_LEN);
        ctx->gen = gen;
        ctx->wait_jwks = jwks;
        ctx->fetch = fetch;
        ngx_queue_insert_tail(&fetch->waiters, &ctx->wait_link);
    }

    return fetch;
}


/* The token request's body and client authentication (malloc'd). */
static ngx_int_t
ngx_http_oic_auth_token_request(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_http_conf_t *hc)
{
    char               *auth, *body, *assertion, err[256];
    ngx_uint_t          n;
    oic_str_t           values[5];
    oic_basic_creds_t  *creds;
    const char         *names[5];

    n = 0;
    assertion = NULL;

    if (ctx->mode == NGX_HTTP_OIC_AUTH_BASIC) {
        creds = ctx->creds;
        auth = oic_basic_header(creds->client_id, creds->client_id_len,
                                creds->secret, creds->secret_len);

        names[n] = "grant_type";
        values[n].data = "client_credentials";
        values[n++].len = sizeof("client_credentials") - 1;

    } else {
        auth = oic_basic_header((char *) lcf->client_id.data,
                                lcf->client_id.len,
                                (char *) lcf->client_secret.data,
                                lcf->client_secret.len);

        if (lcf->exchange_grant == NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER) {
            assertion = oic_assertion_mint(lcf->signer,
                                     (char *) lcf->assertion_kid.data,
                                     (char *) lcf->client_id.data,
                                     (char *) ctx->user.data,
                                     (char *) lcf->assertion_audience.data,
                                     (long long) ngx_time(),
                                     (long long) lcf->assertion_lifetime,
                                     err, sizeof(err));
            if (assertion == NULL) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "oic_auth: cannot sign the user assertion: %s",
                              err);
                oic_free(auth);
                return NGX_ERROR;
            }

            names[n] = "grant_type";
            values[n].data = "urn:ietf:params:oauth:grant-type:jwt-bearer";
            values[n].len = ngx_strlen(values[n].data);
            n++;
            names[n] = "assertion";
            values[n].data = assertion;
            values[n++].len = ngx_strlen(assertion);

        } else {
            names[n] = "grant_type";
            values[n].data = "urn:ietf:params:oauth:grant-type:token-exchange";
            values[n].len = ngx_strlen(values[n].data);
            n++;
            names[n] = "subject_token";
            values[n].data = (char *) ctx->bearer.data;
            values[n++].len = ctx->bearer.len;
            names[n] = "subject_token_type";
            values[n].data = "urn:ietf:params:oauth:token-type:jwt";
            values[n].len = ngx_strlen(values[n].data);
            n++;
            names[n] = "requested_token_type";
            values[n].data = "urn:ietf:params:oauth:token-type:access_token";
            values[n].len = ngx_strlen(values[n].data);
            n++;
        }
    }

    names[n] = "scope";
    values[n].data = lcf->scope.len ? (char *) lcf->scope.data : NULL;
    values[n++].len = lcf->scope.len;

    body = oic_form_body(names, values, n);

    if (assertion) {
        ngx_explicit_memzero(assertion, ngx_strlen(assertion));
        oic_free(assertion);
    }

    if (auth == NULL || body == NULL) {
        oic_free(auth);
        oic_free(body);
        return NGX_ERROR;
    }

    hc->authorization.data = (u_char *) auth;
    hc->authorization.len = ngx_strlen(auth);
    hc->body.data = (u_char *) body;
    hc->body.len = ngx_strlen(body);

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_token_status(ngx_http_oic_auth_fetch_t *fetch,
    oic_token_rc_t rc, char **code)
{
    switch (rc) {

    case OIC_TOKEN_OK:
        *code = "";
        return NGX_OK;

    case OIC_TOKEN_INVALID_CLIENT:
        *code = "invalid_client";

        /* in exchange mode the client is the gateway itself */
        return fetch->exchange ? NGX_HTTP_BAD_GATEWAY : NGX_HTTP_UNAUTHORIZED;

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
ngx_http_oic_auth_token_done(ngx_oic_http_t *h)
{
    char                       *code;
    time_t                      now, ttl;
    ngx_str_t                   token;
    ngx_int_t                   status;
    oic_token_result_t          tr;
    ngx_http_oic_auth_fetch_t  *fetch;

    fetch = h->data;
    now = ngx_time();

    ngx_queue_remove(&fetch->queue);

    if (h->result != 0) {
        ngx_memzero(&tr, sizeof(oic_token_result_t));
        tr.rc = OIC_TOKEN_UPSTREAM_ERROR;
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "oic_auth: token request for %s failed: %s",
                      fetch->who, ngx_oic_http_strerror(h));

    } else {
        oic_token_response_parse(h->status, (char *) h->buf, h->len, &tr);
    }

    status = ngx_http_oic_auth_token_status(fetch, tr.rc, &code);

    ngx_str_null(&token);

    if (tr.rc == OIC_TOKEN_OK) {
        token.data = (u_char *) tr.access_token;
        token.len = tr.access_token_len;

        ttl = (time_t) oic_token_ttl(tr.expires_in, fetch->ttl);

        if (ttl == 0) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "oic_auth: token for %s not cached: expires_in %L "
                          "with a refresh margin of %T s",
                          fetch->who, tr.expires_in, fetch->ttl);
        }

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "oic_auth: token issued for %s, cached for %T s",
                      fetch->who, ttl);

        if (fetch->zone) {
            ngx_oic_cache_complete(fetch->zone, fetch->key, fetch->gen,
                                   &token, now + ttl, now + ttl);
        }

    } else {
        if (h->result == 0) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "oic_auth: token request for %s refused: %s",
                          fetch->who, tr.reason);
        }

        if (tr.error[0] && status != NGX_HTTP_BAD_GATEWAY) {
            code = tr.error;
        }

        if (fetch->zone) {
            ngx_oic_cache_fail(fetch->zone, fetch->key, fetch->gen,
                               status, code, 0, 0);
        }
    }

    ngx_http_oic_auth_wake(fetch, status, &token, code);

    if (tr.access_token) {
        ngx_explicit_memzero(tr.access_token, tr.access_token_len);
    }

    oic_token_result_free(&tr);
    ngx_oic_http_free(h);
    ngx_free(fetch);
}


static void
ngx_http_oic_auth_jwks_done(ngx_oic_http_t *h)
{
    char                        err[256];
    time_t                      now;
    ngx_str_t                   doc;
    ngx_int_t                   status;
    oic_jwks_t                 *keys;
    ngx_http_oic_auth_fetch_t  *fetch;

    fetch = h->data;
    now = ngx_time();
    keys = NULL;

    ngx_queue_remove(&fetch->queue);

    if (h->result != 0) {
        ngx_snprintf((u_char *) err, sizeof(err), "%s%Z",
                     ngx_oic_http_strerror(h));

    } else if (h->status != 200) {
        ngx_snprintf((u_char *) err, sizeof(err), "answered %l%Z", h->status);

    } else {
        keys = oic_jwks_parse((char *) h->buf, h->len, err, sizeof(err));
    }

    if (keys) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "oic_auth: %s fetched, %uz keys",
                      fetch->who, oic_jwks_count(keys));
        oic_jwks_free(keys);

        doc.data = h->buf;
        doc.len = h->len;

        ngx_oic_cache_complete(fetch->zone, fetch->key, fetch->gen, &doc,
                               now + fetch->ttl,
                               now + NGX_HTTP_OIC_AUTH_JWKS_KEEP);
        status = NGX_OK;

    } else {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "oic_auth: %s unavailable: %s; keeping the last good "
                      "keys, if any", fetch->who, err);

        ngx_oic_cache_fail(fetch->zone, fetch->key, fetch->gen,
                           NGX_HTTP_BAD_GATEWAY, "jwks_unavailable",
                           now + NGX_HTTP_OIC_AUTH_JWKS_RETRY,
                           now + NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY);

        /*
         * the waiters look again: old keys may still be there; without
         * them, new requests fail fast until the retry time
         */
        status = NGX_OK;
    }

    ngx_http_oic_auth_wake(fetch, status, NULL, "");

    ngx_oic_http_free(h);
    ngx_free(fetch);
}


/* Resume this worker's requests that waited for a fetch. */
static void
ngx_http_oic_auth_wake(ngx_http_oic_auth_fetch_t *fetch, ngx_int_t status,
    ngx_str_t *token, char *code)
{
    ngx_queue_t               *q, waiters;
    ngx_http_request_t        *r;
    ngx_http_oic_auth_ctx_t   *ctx;

    /* take the list over: resumed requests may finish and be freed */

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

        if (ctx->poll.timer_set) {
            ngx_del_timer(&ctx->poll);
        }

        if (token == NULL && status == NGX_OK) {
            ctx->state = NGX_HTTP_OIC_AUTH_RETRY;

        } else if (status == NGX_OK) {
            ctx->state = NGX_HTTP_OIC_AUTH_DONE;
            ctx->status = NGX_OK;

            if (ngx_http_oic_auth_set_str(r->pool, &ctx->token,
                                          (char *) token->data, token->len)
                != NGX_OK)
            {
                ctx->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

        } else {
            ctx->state = NGX_HTTP_OIC_AUTH_DONE;
            ctx->status = status;
            (void) ngx_http_oic_auth_set_str(r->pool, &ctx->error, code,
                                             ngx_strlen(code));
        }

        ngx_http_oic_auth_resume(r);
    }
}


/* A waiter whose fetch runs in another worker looks at the shared entry. */
static void
ngx_http_oic_auth_poll_handler(ngx_event_t *ev)
{
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
    req.stale_ok = ctx->wait_jwks;

    rc = ngx_oic_cache_acquire(lcf->zone, ctx->wait_key, &req, r->pool, &res);

    if (rc == NGX_OIC_CACHE_WAIT) {
        ctx->gen = res.gen;
        ctx->poll_delay = ngx_min(ctx->poll_delay * 2,
                                  NGX_HTTP_OIC_AUTH_POLL_MAX);
        ngx_add_timer(&ctx->poll, ctx->poll_delay);
        return;
    }

    if (rc == NGX_OIC_CACHE_OWNER) {
        /* this request took over a fetch whose owner missed its deadline */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "oic_auth: a fetch in another worker did not finish "
                      "in time, fetching again");
        ngx_oic_cache_fail(lcf->zone, ctx->wait_key, res.gen,
                           NGX_HTTP_BAD_GATEWAY, "iam_unavailable",
                           ctx->wait_jwks ? ngx_time() : 0, 0);
        ctx->state = NGX_HTTP_OIC_AUTH_RETRY;

    } else if (ctx->wait_jwks) {
        ctx->state = NGX_HTTP_OIC_AUTH_RETRY;

    } else if (rc == NGX_OIC_CACHE_HIT) {
        ctx->state = NGX_HTTP_OIC_AUTH_DONE;
        ctx->status = NGX_OK;
        ctx->token = res.value;

    } else if (rc == NGX_OIC_CACHE_FAILED) {
        ctx->state = NGX_HTTP_OIC_AUTH_DONE;
        ctx->status = res.status;
        (void) ngx_http_oic_auth_set_str(r->pool, &ctx->error,
                                         (char *) res.error,
                                         ngx_strlen(res.error));

    } else {
        ctx->state = NGX_HTTP_OIC_AUTH_RETRY;
    }

    ngx_http_oic_auth_resume(r);
}


/* A local fetch did not resume its waiter in time: should never happen. */
static void
ngx_http_oic_auth_deadline_handler(ngx_event_t *ev)
{
    ngx_http_request_t       *r;
    ngx_http_oic_auth_ctx_t  *ctx;

    r = ev->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "oic_auth: no answer from the %s request in time",
                  ctx->wait_jwks ? "JWKS" : "token");

    if (ctx->fetch) {
        ngx_queue_remove(&ctx->wait_link);
        ngx_queue_init(&ctx->wait_link);
        ctx->fetch = NULL;
    }

    ctx->state = NGX_HTTP_OIC_AUTH_DONE;
    ctx->status = NGX_HTTP_BAD_GATEWAY;
    ngx_str_set(&ctx->error, "iam_unavailable");

    if (ctx->wait_jwks) {
        ngx_str_set(&ctx->error, "jwks_unavailable");
    }

    ngx_http_oic_auth_resume(r);
}


static void
ngx_http_oic_auth_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

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


/* ---- answers ---- */

static ngx_int_t
ngx_http_oic_auth_finish(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    if (ctx->status == NGX_OK) {
        if (ctx->mode == NGX_HTTP_OIC_AUTH_BEARER) {
            return NGX_OK;
        }

        if (ngx_http_oic_auth_set_bearer(r, &ctx->token) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;
    }

    if (ctx->status == NGX_HTTP_UNAUTHORIZED
        || (ctx->bearer_error && ctx->status != NGX_HTTP_NOT_FOUND))
    {
        if (ngx_http_oic_auth_challenge(r, lcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ctx->status;
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


/* 401 with error="invalid_token" and a description safe in a header. */
static ngx_int_t
ngx_http_oic_auth_invalid_token(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, char *error, const char *desc)
{
    u_char  *p;
    size_t   i, len;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "oic_auth: invalid token: %s", desc);

    len = ngx_min(ngx_strlen(desc), 200);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < len; i++) {
        p[i] = (desc[i] >= 0x20 && desc[i] < 0x7f
                && desc[i] != '"' && desc[i] != '\\') ? desc[i] : '\'';
    }

    ctx->bearer_error = error;
    ctx->bearer_desc.data = p;
    ctx->bearer_desc.len = len;

    return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_UNAUTHORIZED, error);
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
        h->hash = ngx_hash_key(h->lowcase_key, h->key.len);
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
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


static ngx_table_elt_t *
ngx_http_oic_auth_push_challenge(ngx_http_request_t *r, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        h->hash = 0;
        return NULL;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "WWW-Authenticate");

    if (r->headers_out.www_authenticate == NULL) {
        r->headers_out.www_authenticate = h;
    }

    return h;
}


/* One WWW-Authenticate challenge per accepted scheme. */
static ngx_int_t
ngx_http_oic_auth_challenge(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    u_char           *p;
    size_t            len;
    ngx_table_elt_t  *h;

    if (ctx->challenge & NGX_HTTP_OIC_AUTH_BASIC) {
        len = sizeof("Basic realm=\"\", charset=\"UTF-8\"") - 1
              + lcf->realm.len;

        h = ngx_http_oic_auth_push_challenge(r, len);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->value.len = ngx_sprintf(h->value.data,
                                   "Basic realm=\"%V\", charset=\"UTF-8\"",
                                   &lcf->realm)
                       - h->value.data;
    }

    if (ctx->challenge
        & (NGX_HTTP_OIC_AUTH_BEARER|NGX_HTTP_OIC_AUTH_EXCHANGE))
    {
        len = sizeof("Bearer realm=\"\"") - 1 + lcf->realm.len;

        if (ctx->bearer_error) {
            len += sizeof(", error=\"\", error_description=\"\"") - 1
                   + ngx_strlen(ctx->bearer_error) + ctx->bearer_desc.len;
        }

        if (ctx->bearer_scope) {
            len += sizeof(", scope=\"\"") - 1 + lcf->scopes_text.len;
        }

        h = ngx_http_oic_auth_push_challenge(r, len);
        if (h == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(h->value.data, "Bearer realm=\"%V\"", &lcf->realm);

        if (ctx->bearer_error) {
            p = ngx_sprintf(p, ", error=\"%s\"", ctx->bearer_error);

            if (ctx->bearer_desc.len) {
                p = ngx_sprintf(p, ", error_description=\"%V\"",
                                &ctx->bearer_desc);
            }
        }

        if (ctx->bearer_scope) {
            p = ngx_sprintf(p, ", scope=\"%V\"", &lcf->scopes_text);
        }

        h->value.len = p - h->value.data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_set_str(ngx_pool_t *pool, ngx_str_t *dst, const char *src,
    size_t len)
{
    dst->len = 0;
    dst->data = ngx_pnalloc(pool, len + 1);

    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    /* NUL-terminated too: the core takes C strings */
    ngx_memcpy(dst->data, src, len);
    dst->data[len] = '\0';
    dst->len = len;

    return NGX_OK;
}


/* An id for a log line: printable ASCII only, truncated, NUL-terminated. */
static void
ngx_http_oic_auth_log_id(u_char *dst, size_t size, u_char *id, size_t len)
{
    size_t  i, n;

    n = ngx_min(len, size - 1);

    for (i = 0; i < n; i++) {
        dst[i] = (id[i] >= 0x20 && id[i] < 0x7f && id[i] != '"')
                 ? id[i] : '?';
    }

    dst[n] = '\0';
}


/* ---- variables ---- */

typedef enum {
    NGX_HTTP_OIC_AUTH_VAR_CLIENT_ID = 0,
    NGX_HTTP_OIC_AUTH_VAR_CACHE_STATUS,
    NGX_HTTP_OIC_AUTH_VAR_TOKEN,
    NGX_HTTP_OIC_AUTH_VAR_ERROR,
    NGX_HTTP_OIC_AUTH_VAR_SUBJECT,
    NGX_HTTP_OIC_AUTH_VAR_USER,
    NGX_HTTP_OIC_AUTH_VAR_SCOPES
} ngx_http_oic_auth_var_e;


static ngx_int_t
ngx_http_oic_auth_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, char *value)
{
    size_t  len;

    if (value == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    len = ngx_strlen(value);

    v->data = ngx_pnalloc(r->pool, len ? len : 1);
    if (v->data == NULL) {
        oic_free(value);
        return NGX_ERROR;
    }

    ngx_memcpy(v->data, value, len);
    oic_free(value);

    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                     *s;
    ngx_http_oic_auth_ctx_t       *ctx;
    ngx_http_oic_auth_loc_conf_t  *lcf;

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

    case NGX_HTTP_OIC_AUTH_VAR_ERROR:
        s = &ctx->error;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_USER:
        if (ctx->user.len) {
            s = &ctx->user;
            break;
        }

        if (ctx->jwt == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }

        /* oic_auth_user_claim: by default upn preferred_username unique_name */
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

        return ngx_http_oic_auth_claim_value(r, v,
                                   oic_jwt_first_claim(ctx->jwt,
                                                   lcf->user_claims->elts,
                                                   lcf->user_claims->nelts));

    default:
        if (ctx->jwt == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }

        if (data == NGX_HTTP_OIC_AUTH_VAR_SUBJECT) {
            return ngx_http_oic_auth_claim_value(r, v,
                                   oic_jwt_claim(ctx->jwt, "sub", 3));
        }

        lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

        return ngx_http_oic_auth_claim_value(r, v,
                                   oic_jwt_scopes(ctx->jwt, &lcf->policy));
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* $oic_auth_claim_NAME */
static ngx_int_t
ngx_http_oic_auth_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                *name = (ngx_str_t *) data;
    ngx_http_oic_auth_ctx_t  *ctx;
    size_t                    prefix = sizeof("oic_auth_claim_") - 1;

    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);

    if (ctx == NULL || ctx->jwt == NULL || name->len <= prefix) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_oic_auth_claim_value(r, v,
                               oic_jwt_claim(ctx->jwt,
                                             (char *) name->data + prefix,
                                             name->len - prefix));
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

    { ngx_string("oic_auth_subject"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_SUBJECT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_user"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_USER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_scopes"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_SCOPES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_claim_"), NULL, ngx_http_oic_auth_claim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

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
     * set by ngx_pcalloc(): all ngx_str_t fields, conf->policy,
     * conf->jwks_key, conf->scopes_text, conf->client_secret
     */

    conf->modes = NGX_CONF_UNSET_UINT;
    conf->zone = NGX_CONF_UNSET_PTR;
    conf->refresh_margin = NGX_CONF_UNSET;
    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->ssl_verify = NGX_CONF_UNSET;

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

    if (ngx_http_oic_auth_check_realm(cf, &conf->realm) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_oic_auth_merge_bearer(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_oic_auth_merge_exchange(cf, prev, conf) != NGX_CONF_OK) {
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

    if (conf->timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_timeout\" must be greater than 0");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_oic_auth_merge_bearer(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf)
{
    u_char      *p;
    size_t       len;
    oic_str_t    field, *s;
    ngx_uint_t   i;

    static ngx_str_t  scope_claims[] = {
        ngx_string("scope"), ngx_string("scp"), ngx_string("roles")
    };

    ngx_conf_merge_str_value(conf->jwks_uri, prev->jwks_uri, "");
    ngx_conf_merge_str_value(conf->jwks_file, prev->jwks_file, "");
    ngx_conf_merge_ptr_value(conf->jwks_static, prev->jwks_static, NULL);
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

    if (!(conf->modes & (NGX_HTTP_OIC_AUTH_BEARER|NGX_HTTP_OIC_AUTH_EXCHANGE))
        || conf->modes == NGX_CONF_UNSET_UINT)
    {
        return NGX_CONF_OK;
    }

    if (conf->jwks_uri.len && conf->jwks_static) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_jwks_uri\" and \"oic_auth_jwks_file\" "
                           "cannot be used together");
        return NGX_CONF_ERROR;
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

    return NGX_CONF_OK;
}


static char *
ngx_http_oic_auth_merge_exchange(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf)
{
    char  *secret, err[256];

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

    /* the core refuses to mint with it: every request would get 502 */
    if (conf->exchange_grant == NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER
        && conf->assertion_lifetime <= 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_assertion_lifetime\" must be greater "
                           "than 0");
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
                           "zone \"%V\" is too small: %V, the minimum is %uzk",
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


/* A URL the module calls: https://, or http:// to a loopback host only. */
static char *
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
static char *
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


static char *
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


static char *
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


static char *
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
    ngx_queue_init(&ngx_http_oic_auth_keysets);
    ngx_oic_jwt_cache_init();

    return ngx_oic_http_init_process(cycle);
}


static void
ngx_http_oic_auth_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t               *q;
    ngx_http_oic_auth_keys_t  *ks;

    while (!ngx_queue_empty(&ngx_http_oic_auth_keysets)) {
        q = ngx_queue_head(&ngx_http_oic_auth_keysets);
        ngx_queue_remove(q);
        ks = ngx_queue_data(q, ngx_http_oic_auth_keys_t, queue);

        if (ks->keys) {
            oic_jwks_free(ks->keys);
        }

        ngx_free(ks);
    }

    ngx_oic_jwt_cache_exit();
    ngx_oic_http_exit_process(cycle);
}
