/*
 * The IAM guard: module-wide state that keeps the gateway from hammering
 * IAM, shared by all workers and all cache zones, in a shared memory zone of
 * its own ("oic_auth_iam_guard", created with the first location that calls
 * IAM, kept across reloads). Per endpoint (a token endpoint or a JWKS URI):
 * a block after a 429 (no call until Retry-After) and the connection slots
 * that cap concurrent calls; per endpoint and rate: the token budget; per
 * client id (per user in exchange mode): IAM's refusals in the failure-limit
 * window.
 *
 * Each decision is one function taking the zone and a key. The ones a fleet
 * of gateways shares (budget, 429 block, failure limit) are kept in Redis
 * too in fleet mode and merged into this zone (the _sync functions, from
 * ngx_http_oic_auth_fleet_token.c); connection slots stay per instance.
 * (The negative cache and the single flight of refreshes live in the cache
 * zone: ngx_oic_cache_acquire() and ngx_oic_cache_fail().)
 */
#ifndef NGX_HTTP_OIC_AUTH_IAM_GUARD_H
#define NGX_HTTP_OIC_AUTH_IAM_GUARD_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_oic_keyed.h"
#include "ngx_oic_cache.h"


#define NGX_HTTP_OIC_AUTH_GUARD_SIZE       (1024 * 1024)
#define NGX_HTTP_OIC_AUTH_GUARD_SLOTS      64      /* max connections */
#define NGX_HTTP_OIC_AUTH_GUARD_BLOCK_MAX  3600    /* s: longest 429 block */
#define NGX_HTTP_OIC_AUTH_GUARD_LOG_EVERY  10      /* s between log lines */


/* the kinds of local refusal, each logged at most once per interval */
typedef enum {
    NGX_HTTP_OIC_AUTH_GUARD_BLOCKED = 0,    /* IAM answered 429 lately */
    NGX_HTTP_OIC_AUTH_GUARD_BUDGET,         /* over the token budget */
    NGX_HTTP_OIC_AUTH_GUARD_BUSY,           /* no free connection slot */
    NGX_HTTP_OIC_AUTH_GUARD_KINDS
} ngx_http_oic_auth_guard_kind_e;


/* a token budget: a leaky bucket as limit_req's, in requests per 1000 s */
typedef struct {
    ngx_uint_t      rate;       /* 0: no budget */
    ngx_uint_t      burst;      /* * 1000 */
    u_char          key[NGX_OIC_KEY_LEN];   /* endpoint, rate and burst */
} ngx_http_oic_auth_budget_t;

/* a connection slot taken: give it back with these */
typedef struct {
    ngx_int_t       index;      /* -1: none */
    uint32_t        gen;
} ngx_http_oic_auth_slot_t;


/* The guard zone of this configuration (added once). */
ngx_shm_zone_t *ngx_http_oic_auth_guard_zone(ngx_conf_t *cf);

/* The key of an endpoint's record (not secret: a URL). */
void ngx_http_oic_auth_guard_endpoint_key(ngx_str_t *url, u_char *key);

/*
 * The key of a client's failure record: HMAC-SHA256 with the guard zone's
 * own secret, so that no client id or user name is in shared memory in
 * clear and none can be tested against it.
 */
void ngx_http_oic_auth_guard_client_key(ngx_shm_zone_t *zone,
    const char *tag, oic_str_t *fields, ngx_uint_t n, u_char *key);


/* 429: ms left of the block of endpoint (0: not blocked) */
ngx_msec_t ngx_http_oic_auth_guard_blocked(ngx_shm_zone_t *zone,
    u_char *endpoint);

/*
 * The endpoint answered 429: no call to it until retry_after s (-1: none
 * given: 1 s, doubling at each 429 in a row, up to 60 s). Returns the ms
 * of the block.
 */
ngx_msec_t ngx_http_oic_auth_guard_block(ngx_shm_zone_t *zone,
    u_char *endpoint, time_t retry_after);

/* The endpoint answered something else: the next 429 blocks for 1 s again. */
void ngx_http_oic_auth_guard_answered(ngx_shm_zone_t *zone, u_char *endpoint);

/*
 * Take one call from the budget. Over it, NGX_BUSY with *retry_after (s)
 * unless force, which counts the call whatever (a refresh of a key IAM
 * accepted). NGX_OK otherwise.
 */
ngx_int_t ngx_http_oic_auth_guard_budget(ngx_shm_zone_t *zone,
    ngx_http_oic_auth_budget_t *budget, ngx_uint_t force,
    time_t *retry_after);

/*
 * A connection slot of endpoint for a call that ends before deadline_ms
 * from now, among the first max (a slot whose holder missed its deadline,
 * e.g. a worker that died, is free). NGX_OK (slot set) or NGX_BUSY.
 */
ngx_int_t ngx_http_oic_auth_guard_slot(ngx_shm_zone_t *zone,
    u_char *endpoint, ngx_uint_t max, ngx_msec_t deadline_ms,
    ngx_http_oic_auth_slot_t *slot);
void ngx_http_oic_auth_guard_slot_free(ngx_shm_zone_t *zone,
    u_char *endpoint, ngx_http_oic_auth_slot_t *slot);

/*
 * IAM refused the client of key: one more refusal in its window (a new
 * window of `window` s starts with the first one). Returns the count.
 */
ngx_uint_t ngx_http_oic_auth_guard_refused(ngx_shm_zone_t *zone, u_char *key,
    time_t window);

/*
 * Is the client of key over its failure limit? s left of its window (0:
 * no). *first is set for the first local refusal of the window (the one
 * that is logged).
 */
time_t ngx_http_oic_auth_guard_throttled(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t limit, ngx_uint_t *first);

/*
 * Fleet mode: what the fleet's state in Redis says, merged into this
 * gateway's (which the gate then applies, with its log lines, and alone
 * when Redis is away). Each only ever makes the local state stricter:
 *   refused_sync  the fleet counts count refusals of the client of key in a
 *                 window ending in left_ms
 *   block_sync    the fleet blocks endpoint for ms more (a 429)
 *   budget_sync   the fleet's budget has no call left for ms
 */
void ngx_http_oic_auth_guard_refused_sync(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t count, ngx_msec_t left_ms);
void ngx_http_oic_auth_guard_block_sync(ngx_shm_zone_t *zone,
    u_char *endpoint, ngx_msec_t ms);
void ngx_http_oic_auth_guard_budget_sync(ngx_shm_zone_t *zone,
    ngx_http_oic_auth_budget_t *budget, ngx_msec_t ms);

/*
 * A local refusal of kind for endpoint: the number of them since the last
 * log line when one is due now (at most one per
 * NGX_HTTP_OIC_AUTH_GUARD_LOG_EVERY s), 0 when not.
 */
ngx_uint_t ngx_http_oic_auth_guard_log_due(ngx_shm_zone_t *zone,
    u_char *endpoint, ngx_uint_t kind);

/* The guard zone's gauges (metrics); NGX_DECLINED: another zone. */
ngx_int_t ngx_http_oic_auth_guard_stats(ngx_shm_zone_t *shm_zone,
    ngx_oic_zone_stats_t *st);

#endif /* NGX_HTTP_OIC_AUTH_IAM_GUARD_H */
