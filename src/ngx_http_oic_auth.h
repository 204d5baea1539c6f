/*
 * The types every file of the nginx glue shares: the location
 * configuration, the per-request context, a fetch in flight, and the
 * functions one concern offers the others.
 *
 *   ngx_http_oic_auth_module.c     module and directive tables, the phase
 *                                  handlers and their dispatch, init
 *   ngx_http_oic_auth_request.c    the request model: contexts across
 *                                  internal redirects, the client's
 *                                  Authorization header, subrequests,
 *                                  satisfy any
 *   ngx_http_oic_auth_conf.c       configuration: create, merge, setters
 *   ngx_http_oic_auth_conf_jwt.c   what bearer and exchange validate and use
 *   ngx_http_oic_auth_basic.c      basic mode
 *   ngx_http_oic_auth_bearer.c     bearer validation (exchange uses it too)
 *   ngx_http_oic_auth_exchange.c   exchange mode
 *   ngx_http_oic_auth_jwks.c       JWKS documents and this worker's keys
 *   ngx_http_oic_auth_iam.c        IAM tokens: cache lookup, refresh ahead,
 *                                  the gate before a call, IAM's answers,
 *                                  purges on the backend's answer
 *   ngx_http_oic_auth_iam_guard.c  module-wide state protecting IAM: 429
 *                                  blocks, budgets, connection slots,
 *                                  failure limits
 *   ngx_http_oic_auth_fetch.c      fetch, park, wake: single flight
 *   ngx_http_oic_auth_answer.c     refusals, challenges, the forwarded header
 *   ngx_http_oic_auth_var.c        $oic_auth_* variables
 *   ngx_http_oic_auth_limit.c      limits applied after authentication:
 *                                  zones, directives, the check, the delay
 *   ngx_http_oic_auth_fleet.c      fleet mode: oic_auth_redis, the key
 *                                  file, fleet zones, this worker's Redis
 *                                  client, the key check
 *   ngx_http_oic_auth_metrics.c    metrics: counters in shared memory,
 *                                  oic_auth_metrics (Prometheus format)
 *   ngx_http_oic_auth_fleet_token.c  fleet mode in the token flow: Redis
 *                                  before IAM, the fleet's lock and gate,
 *                                  IAM's answers shared
 */
#ifndef NGX_HTTP_OIC_AUTH_H
#define NGX_HTTP_OIC_AUTH_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "oic_auth.h"
#include "oic_auth_jwt.h"
#include "oic_fleet.h"
#include "ngx_oic_http.h"
#include "ngx_oic_redis.h"
#include "ngx_oic_cache.h"
#include "ngx_oic_jwt_cache.h"
#include "ngx_http_oic_auth_iam_guard.h"
#include "ngx_http_oic_auth_metrics.h"


#define NGX_HTTP_OIC_AUTH_BASIC     0x01
#define NGX_HTTP_OIC_AUTH_BEARER    0x02
#define NGX_HTTP_OIC_AUTH_EXCHANGE  0x04

#define NGX_HTTP_OIC_AUTH_BEARER_PREFIX  "Bearer "   /* the forwarded header */

#define NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER      0
#define NGX_HTTP_OIC_AUTH_GRANT_TOKEN_EXCHANGE  1

#define NGX_HTTP_OIC_AUTH_POLL_MIN        4     /* ms */
#define NGX_HTTP_OIC_AUTH_POLL_MAX        50    /* ms */
#define NGX_HTTP_OIC_AUTH_GRACE           2000  /* ms added to a wait */
#define NGX_HTTP_OIC_AUTH_SLOT_POLL       20    /* ms between looks for a
                                                   free connection */
#define NGX_HTTP_OIC_AUTH_LOG_ID          64    /* id chars in a log line */
#define NGX_HTTP_OIC_AUTH_KID_INTERVAL    60    /* s between forced refetches */
#define NGX_HTTP_OIC_AUTH_JWKS_RETRY      60    /* s after a failed refresh */
#define NGX_HTTP_OIC_AUTH_JWKS_KEEP       (30 * 86400)
#define NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY 5     /* s: no keys at all */
#define NGX_HTTP_OIC_AUTH_BACKOFF_BASE    1000  /* ms after a failed call */
#define NGX_HTTP_OIC_AUTH_BACKOFF_CAP     30000 /* ms: doubling up to */

/* ngx_http_oic_auth_fetch() flags */
#define NGX_HTTP_OIC_AUTH_FETCH_JWKS        0x01
#define NGX_HTTP_OIC_AUTH_FETCH_BACKGROUND  0x02  /* ctx does not wait */

#define NGX_HTTP_OIC_AUTH_FLEET_PREFIX_MAX 64   /* oic_auth_redis prefix= */
#define NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN   32   /* hex digits of a lock */
/* a Redis key name: the prefix, 64 hex digits, a NUL */
#define NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX                                      \
    (NGX_HTTP_OIC_AUTH_FLEET_PREFIX_MAX + OIC_FLEET_NAME_HASH_LEN + 1)


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

    /* protecting IAM */
    ngx_shm_zone_t             *guard;
    time_t                      negative_ttl;
    ngx_uint_t                  failure_limit;      /* 0: off */
    time_t                      failure_window;
    ngx_http_oic_auth_budget_t  budget;
    ngx_int_t                   connections;
    ngx_array_t                *purge_status;       /* of ngx_uint_t */
    u_char                      endpoint_key[NGX_OIC_KEY_LEN];
    u_char                      jwks_endpoint_key[NGX_OIC_KEY_LEN];

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

    /* limits after authentication (ngx_http_oic_auth_limit.c) */
    ngx_array_t                *limits;             /* NULL: none */

    /* metrics (ngx_http_oic_auth_metrics.c) */
    ngx_http_oic_auth_metrics_loc_t *metrics;       /* NULL: no oic_auth */
    ngx_flag_t                  metrics_handler;    /* oic_auth_metrics; */
} ngx_http_oic_auth_loc_conf_t;


/*
 * Fleet mode (ngx_http_oic_auth_fleet.c). Every Redis key the module uses
 * is prefix + 64 hex digits (ngx_http_oic_auth_fleet_name); every value
 * holding a token, a secret or a user name is sealed with oic_fleet_seal
 * under its key name (include/oic_fleet.h).
 */
typedef struct {
    ngx_oic_redis_conf_t        redis;      /* redis.naddrs 0: no Redis */
    ngx_str_t                   prefix;     /* of every key name */
    ngx_str_t                   key_file;
    oic_fleet_t                *fleet;      /* keys from the key file */
    char                        key_id[OIC_FLEET_KEY_ID_LEN + 1];
    ngx_array_t                *zones;      /* of ngx_shm_zone_t *: fleet */
    ngx_str_t                   ids_name;   /* the key check's set */
} ngx_http_oic_auth_fleet_conf_t;


/* The http level. */
typedef struct {
    ngx_http_oic_auth_fleet_conf_t  fleet;
    ngx_http_oic_auth_metrics_conf_t *metrics;  /* NULL: nothing counted */
} ngx_http_oic_auth_main_conf_t;


typedef enum {
    NGX_HTTP_OIC_AUTH_NEW = 0,
    NGX_HTTP_OIC_AUTH_WAITING,
    NGX_HTTP_OIC_AUTH_RETRY,       /* keys arrived: run the checks again */
    NGX_HTTP_OIC_AUTH_DONE
} ngx_http_oic_auth_state_e;


typedef struct ngx_http_oic_auth_fetch_s  ngx_http_oic_auth_fetch_t;
typedef struct ngx_http_oic_auth_fleet_s  ngx_http_oic_auth_fleet_t;


/* An IAM token request being built: client authentication and form fields. */
typedef struct {
    char                       *authorization;  /* malloc'd "Basic ..." */
    const char                 *names[6];
    oic_str_t                   values[6];
    ngx_uint_t                  n;
    char                       *wipe;   /* malloc'd, wiped and freed after */
} ngx_http_oic_auth_grant_t;

typedef struct {
    ngx_http_request_t         *request;
    ngx_http_oic_auth_loc_conf_t *conf;     /* the location it answers for */
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

    /* the fields ctx->key derives from, during ngx_http_oic_auth_token()
     * only: fleet mode names the entry's Redis keys with them */
    const char                 *key_tag;
    oic_str_t                  *key_fields;
    ngx_uint_t                  key_nfields;

    uint32_t                    gen;
    ngx_uint_t                  wait_jwks;
    ngx_uint_t                  kid_refreshed;

    oic_basic_creds_t          *creds;      /* during the first pass only */
    oic_jwt_t                  *jwt;        /* owned by ngx_oic_jwt_cache */
    ngx_oic_jwt_ref_t          *jwt_ref;    /* its entry */
    ngx_str_t                   bearer;     /* the incoming token */

    ngx_str_t                   client_id;
    ngx_str_t                   user;
    ngx_str_t                   token;
    ngx_str_t                   forward;    /* "Bearer " token, when the
                                               token was copied with it */
    ngx_str_t                   cache_status;
    ngx_str_t                   error;
    time_t                      retry_after;    /* s, of a refusal (0: none) */

    ngx_queue_t                 wait_link;  /* in fetch->waiters */
    ngx_http_oic_auth_fetch_t  *fetch;
    ngx_event_t                 poll;
    ngx_msec_t                  poll_delay;
    ngx_msec_t                  slot_wait;      /* since, for a connection */

    /* the Authorization header the client sent (unset: none) */
    ngx_str_t                   client_auth;
    ngx_table_elt_t            *challenges[2];  /* WWW-Authenticate added */
    ngx_table_elt_t            *retry_header;   /* Retry-After added */
    unsigned                    client_auth_set:1;
    unsigned                    own_headers:1;  /* a subrequest's own list */
    unsigned                    verified:1;     /* the limits' turn came */
    unsigned                    counted:1;      /* in the metrics */

    /* fleet mode (ngx_http_oic_auth_fleet_token.c) */
    unsigned                    fleet_go:1;     /* Redis looked at: IAM next */
    unsigned                    fleet_lock:1;   /* ... holding the lock: */
    u_char                      fleet_lockval[NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN];
} ngx_http_oic_auth_ctx_t;


struct ngx_http_oic_auth_fetch_s {
    ngx_queue_t                 queue;      /* in this worker's fetches */
    u_char                      key[NGX_OIC_KEY_LEN];
    uint32_t                    gen;
    ngx_shm_zone_t             *zone;       /* NULL: an uncached fetch */
    ngx_http_oic_auth_loc_conf_t *conf;     /* the location that started it */
    ngx_uint_t                  jwks;       /* a JWKS, not a token */
    ngx_uint_t                  exchange;
    ngx_uint_t                  accepted;   /* the key was accepted before */
    ngx_uint_t                  failures;   /* of the key, before this one */
    time_t                      ttl;        /* JWKS: refresh; token: margin */
    u_char                      client_key[NGX_OIC_KEY_LEN];  /* failures */
    ngx_http_oic_auth_slot_t    slot;       /* a connection slot held */
    ngx_http_oic_auth_fleet_t  *fleet;      /* fleet mode: a Redis step (no
                                               HTTP), or what a call shares */
    ngx_queue_t                 waiters;
    ngx_oic_http_t              http;
    u_char                      who[NGX_HTTP_OIC_AUTH_LOG_ID + 64];
};


/* bounds of a time directive (post handler ngx_http_oic_auth_check_bounds) */
typedef struct {
    ngx_conf_post_handler_pt    post_handler;
    time_t                      min;
    time_t                      max;
    char                       *text;       /* "at most 1h" */
} ngx_http_oic_auth_bounds_t;


extern ngx_module_t  ngx_http_oic_auth_module;


/* ngx_http_oic_auth_conf.c */
void *ngx_http_oic_auth_create_main_conf(ngx_conf_t *cf);
char *ngx_http_oic_auth_init_main_conf(ngx_conf_t *cf, void *conf);
void *ngx_http_oic_auth_create_loc_conf(ngx_conf_t *cf);
char *ngx_http_oic_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
char *ngx_http_oic_auth_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_shm_zone_t *ngx_http_oic_auth_zone_add(ngx_conf_t *cf, ngx_str_t *arg,
    void *tag);
char *ngx_http_oic_auth_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_oic_auth_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_oic_auth_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_oic_auth_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_oic_auth_check_bounds(ngx_conf_t *cf, void *post, void *data);
char *ngx_http_oic_auth_iam_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_oic_auth_failure_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_oic_auth_purge_on_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_oic_auth_conf_jwt.c */
char *ngx_http_oic_auth_merge_bearer(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf);
char *ngx_http_oic_auth_merge_exchange(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf);
ngx_int_t ngx_http_oic_auth_check_scopes_level(ngx_conf_t *cf,
    ngx_uint_t modes, ngx_uint_t here);
char *ngx_http_oic_auth_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_oic_auth_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_oic_auth_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_oic_auth_deny_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_oic_auth_request.c */
ngx_http_oic_auth_ctx_t *ngx_http_oic_auth_get_ctx(ngx_http_request_t *r);
ngx_http_oic_auth_ctx_t *ngx_http_oic_auth_new_ctx(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *prev);
ngx_int_t ngx_http_oic_auth_set_header(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_str_t *value);
ngx_int_t ngx_http_oic_auth_leave(ngx_http_request_t *r);
ngx_int_t ngx_http_oic_auth_let_in(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx);
ngx_int_t ngx_http_oic_auth_refusal(ngx_http_request_t *r, ngx_int_t rc);

/* ngx_http_oic_auth_basic.c */
ngx_int_t ngx_http_oic_auth_basic(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
ngx_int_t ngx_http_oic_auth_basic_grant(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_http_oic_auth_grant_t *g);
void ngx_http_oic_auth_basic_new_conf(void);

/* ngx_http_oic_auth_bearer.c */
ngx_int_t ngx_http_oic_auth_bearer(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);

/* ngx_http_oic_auth_exchange.c */
ngx_int_t ngx_http_oic_auth_exchange(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
ngx_int_t ngx_http_oic_auth_exchange_grant(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_http_oic_auth_grant_t *g);

/* ngx_http_oic_auth_jwks.c */
void ngx_http_oic_auth_jwks_init(void);
void ngx_http_oic_auth_jwks_exit(void);
ngx_int_t ngx_http_oic_auth_keys(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    oic_jwks_t **keys);
ngx_int_t ngx_http_oic_auth_jwks_fetch(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    uint32_t gen);
void ngx_http_oic_auth_jwks_done(ngx_oic_http_t *h);

/* ngx_http_oic_auth_iam.c */
ngx_int_t ngx_http_oic_auth_token_fresh(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
ngx_int_t ngx_http_oic_auth_token(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
const char *ngx_http_oic_auth_client_fields(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, oic_str_t *fields, ngx_uint_t *n);
ngx_int_t ngx_http_oic_auth_token_request(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_http_conf_t *hc);
void ngx_http_oic_auth_token_done(ngx_oic_http_t *h);
ngx_int_t ngx_http_oic_auth_purge_init(ngx_conf_t *cf);

/* ngx_http_oic_auth_fetch.c */
void ngx_http_oic_auth_fetch_init(void);
ngx_http_oic_auth_fetch_t *ngx_http_oic_auth_fetch(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_shm_zone_t *zone, u_char *key, uint32_t gen, ngx_uint_t flags);
void ngx_http_oic_auth_fetch_join(ngx_http_oic_auth_fetch_t *fetch,
    ngx_http_oic_auth_ctx_t *ctx);
ngx_int_t ngx_http_oic_auth_park(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, u_char *key, uint32_t gen,
    ngx_uint_t jwks);
void ngx_http_oic_auth_wake(ngx_http_oic_auth_fetch_t *fetch,
    ngx_int_t status, ngx_str_t *token, char *code, time_t retry_after);
void ngx_http_oic_auth_who(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, u_char *key, u_char *buf, size_t size);
ngx_int_t ngx_http_oic_auth_delay(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_msec_t ms);
void ngx_http_oic_auth_cleanup(void *data);
void ngx_http_oic_auth_resume(ngx_http_request_t *r);
void ngx_http_oic_auth_log_id(u_char *dst, size_t size, u_char *id,
    size_t len);

/* ngx_http_oic_auth_answer.c */
ngx_int_t ngx_http_oic_auth_finish(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
ngx_int_t ngx_http_oic_auth_fail(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_int_t status, char *error);
ngx_int_t ngx_http_oic_auth_invalid_token(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, char *error, const char *desc);
void ngx_http_oic_auth_drop_challenges(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx);

/* ngx_http_oic_auth_var.c */
ngx_int_t ngx_http_oic_auth_add_variables(ngx_conf_t *cf);

/* ngx_http_oic_auth_limit.c */
char *ngx_http_oic_auth_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_oic_auth_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_oic_auth_merge_limits(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf);
ngx_int_t ngx_http_oic_auth_limit_check(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
ngx_int_t ngx_http_oic_auth_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

/* ngx_http_oic_auth_fleet.c: configuration */
void ngx_http_oic_auth_fleet_create_conf(ngx_http_oic_auth_fleet_conf_t *fc);
char *ngx_http_oic_auth_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_oic_auth_redis_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_oic_auth_fleet_zone_add(ngx_conf_t *cf,
    ngx_shm_zone_t *zone);
char *ngx_http_oic_auth_fleet_init_conf(ngx_conf_t *cf,
    ngx_http_oic_auth_fleet_conf_t *fc);
ngx_int_t ngx_http_oic_auth_fleet_init_process(ngx_cycle_t *cycle);
void ngx_http_oic_auth_fleet_exit_process(ngx_cycle_t *cycle);

/*
 * ngx_http_oic_auth_fleet.c: for the token flow, in a worker.
 *
 * ngx_http_oic_auth_fleet(): this worker's fleet configuration, NULL
 * without oic_auth_redis (or in a helper process). Its ->fleet seals and
 * opens values (oic_fleet_seal/oic_fleet_open, with the key name as name);
 * commands go through ngx_oic_redis_send (src/ngx_oic_redis.h).
 *
 * ngx_http_oic_auth_fleet_zone(): whether a cache zone was declared
 * "fleet" (0 for NULL, a local zone, or no fleet).
 *
 * ngx_http_oic_auth_fleet_name(): the Redis key name of (tag, fields):
 * prefix + HMAC(fleet name key; tag, fields) in hex, written into buf
 * (NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX bytes, NUL-terminated), *name pointing
 * at it; NGX_ERROR without a fleet or when hashing failed (no name, never
 * a shared fallback). Use a tag per kind of entry ("token", "lock", ...)
 * and the same fields as the local zone's key.
 */
ngx_http_oic_auth_fleet_conf_t *ngx_http_oic_auth_fleet(void);
ngx_uint_t ngx_http_oic_auth_fleet_zone(ngx_shm_zone_t *zone);
ngx_int_t ngx_http_oic_auth_fleet_name(const char *tag, oic_str_t *fields,
    ngx_uint_t n, u_char *buf, ngx_str_t *name);

/*
 * ngx_http_oic_auth_fleet_token.c: fleet mode in the token flow (hooks of
 * ngx_http_oic_auth_iam.c and ngx_http_oic_auth_fetch.c).
 *
 * _miss() (a local miss: this request owns generation res->gen) and
 * _refresh() (a refresh to start) look at Redis first: NGX_AGAIN, the
 * request waits for the answer; NGX_DECLINED, the local flow goes on (not
 * a fleet zone, Redis not usable, or Redis already looked at:
 * ctx->fleet_go). _called(): a call to IAM started (fetch) or not (NULL):
 * what it will share, or the fleet's lock given back. _token() and
 * _failure(): IAM's answer shared; _block() and _refused(): a 429 and a
 * refusal counted for the fleet's gate; _release(): the call is over (the
 * lock given back). _left(): a waiter of fetch went away.
 */
ngx_int_t ngx_http_oic_auth_fleet_miss(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_res_t *res);
ngx_int_t ngx_http_oic_auth_fleet_refresh(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_res_t *res);
void ngx_http_oic_auth_fleet_called(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_shm_zone_t *zone,
    ngx_http_oic_auth_fetch_t *fetch);
void ngx_http_oic_auth_fleet_token(ngx_http_oic_auth_fetch_t *fetch,
    ngx_str_t *token, time_t fresh_until, time_t valid_until);
void ngx_http_oic_auth_fleet_failure(ngx_http_oic_auth_fetch_t *fetch,
    ngx_uint_t refused, ngx_uint_t status, char *code, ngx_msec_t ms);
void ngx_http_oic_auth_fleet_block(ngx_http_oic_auth_fetch_t *fetch,
    ngx_msec_t ms);
void ngx_http_oic_auth_fleet_refused(ngx_http_oic_auth_fetch_t *fetch,
    time_t window);
void ngx_http_oic_auth_fleet_release(ngx_http_oic_auth_fetch_t *fetch);
void ngx_http_oic_auth_fleet_left(ngx_http_oic_auth_fetch_t *fetch,
    ngx_http_oic_auth_ctx_t *ctx);


/* ngx_http_oic_auth_metrics.c (the counters: ngx_http_oic_auth_metrics.h) */
char *ngx_http_oic_auth_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_oic_auth_mgroup_t *ngx_http_oic_auth_metrics_group(ngx_conf_t *cf,
    ngx_uint_t kind, ngx_str_t *zone, ngx_str_t *endpoint);
ngx_int_t ngx_http_oic_auth_metrics_merge(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *conf);
ngx_int_t ngx_http_oic_auth_metrics_init(ngx_conf_t *cf);
void ngx_http_oic_auth_metrics_request(ngx_http_request_t *r, ngx_int_t rc);
void ngx_http_oic_auth_metrics_cache(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_uint_t result);
void ngx_http_oic_auth_metrics_verified(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_uint_t hit);
void ngx_http_oic_auth_metrics_not_made(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_uint_t reason);
void ngx_http_oic_auth_metrics_jwks_not_made(
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_uint_t reason);
void ngx_http_oic_auth_metrics_bearer(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_uint_t reason);
void ngx_http_oic_auth_metrics_jwt(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, oic_jwt_rc_t jrc);
void ngx_http_oic_auth_metrics_iam(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_oic_http_t *h, oic_token_result_t *tr);
void ngx_http_oic_auth_metrics_jwks(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_oic_http_t *h, oic_jwks_t *keys);

/* the zones' gauges (NGX_DECLINED: not a zone of that kind) */
ngx_int_t ngx_http_oic_auth_limit_stats(ngx_shm_zone_t *shm_zone,
    ngx_oic_zone_stats_t *st);


/* A copy of src in the pool, NUL-terminated too: the core takes C strings. */
static ngx_inline ngx_int_t
ngx_http_oic_auth_set_str(ngx_pool_t *pool, ngx_str_t *dst, const char *src,
    size_t len)
{
    dst->len = 0;
    dst->data = ngx_pnalloc(pool, len + 1);

    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src, len);
    dst->data[len] = '\0';
    dst->len = len;

    return NGX_OK;
}


#endif /* NGX_HTTP_OIC_AUTH_H */
