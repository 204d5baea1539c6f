/*
 * oic_auth shared memory cache: values (tokens, JWKS documents, verified-token
 * marks) keyed by a 32-byte hash, shared by all workers, with single-flight
 * fetch coordination and LRU eviction. The zone also holds a random secret:
 * the keys of entries that involve a secret, a token or a user, and the ids
 * log lines give entries, are derived with it (ngx_oic_cache_key).
 */
#ifndef NGX_OIC_CACHE_H
#define NGX_OIC_CACHE_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "oic_auth.h"
#include "ngx_oic_keyed.h"


typedef enum {
    NGX_OIC_CACHE_HIT = 0,      /* value returned */
    NGX_OIC_CACHE_OWNER,        /* caller must fetch, then complete() or fail() */
    NGX_OIC_CACHE_WAIT,         /* another fetch is in flight: wait for *gen */
    NGX_OIC_CACHE_FAILED,       /* the fetch waited for failed: *status */
    NGX_OIC_CACHE_NOMEM         /* no room even after eviction: fetch uncached */
} ngx_oic_cache_rc_e;


typedef struct {
    ngx_str_t      value;       /* copied into the caller's pool on HIT */
    uint32_t       gen;         /* the fetch generation to wait for / complete */
    ngx_uint_t     status;      /* on FAILED: the HTTP status to answer */
    u_char         error[32];   /* on FAILED: a short error code, NUL-terminated */
    uint32_t       version;     /* on HIT: identifies the stored value */
} ngx_oic_cache_res_t;


/*
 * How an entry competes for room when the zone is full (the class is given
 * when the entry is created):
 *   LRU     evicted, least recently used first (tokens, verified-token marks)
 *   PINNED  never evicted to make room: JWKS documents, one per configured
 *           JWKS URI, whose entry also holds the unknown-kid refetch
 *           throttle; dropped only once unused past their evict_after
 */
typedef enum {
    NGX_OIC_CACHE_LRU = 0,
    NGX_OIC_CACHE_PINNED,
    NGX_OIC_CACHE_CLASSES
} ngx_oic_cache_class_e;


typedef struct ngx_oic_cache_s  ngx_oic_cache_t;

/* Zone size floor; a smaller oic_auth_cache_zone is a configuration error. */
#define NGX_OIC_CACHE_MIN_SIZE  (8 * ngx_pagesize)

/* the zone's secret: created with the zone, kept across reloads */
#define NGX_OIC_CACHE_SECRET_LEN  32

/* a log id: hex of 4 bytes, NUL-terminated */
#define NGX_OIC_CACHE_LOG_ID_LEN  9

ngx_oic_cache_t *ngx_oic_cache_create_ctx(ngx_pool_t *pool);
ngx_int_t ngx_oic_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data);

/*
 * The key of an entry that involves a secret, a token or a user:
 * HMAC-SHA256 with the zone's secret over tag and fields (oic_cache_key's
 * encoding). Without the secret, nobody can recompute it from guessed
 * fields. Every such key is derived here.
 */
void ngx_oic_cache_key(ngx_shm_zone_t *zone, const char *tag,
    oic_str_t *fields, ngx_uint_t n, u_char *key);

/*
 * An entry's id for log lines: the hex of 4 bytes of HMAC(secret, "log",
 * key), so that neither the key nor the fields behind it can be tested
 * against a log line.
 */
void ngx_oic_cache_log_id(ngx_shm_zone_t *zone, u_char *key, u_char *id);

typedef struct {
    uint32_t       gen;          /* a waiter: the generation waited for; 0: a new request */
    ngx_msec_t     deadline_ms;  /* an owner's fetch is presumed dead after this */
    ngx_uint_t     stale_ok;     /* a value past fresh_until is still a HIT */
    ngx_uint_t     refresh;      /* with stale_ok: a stale HIT also makes the caller owner */
    uint32_t       have_version; /* the caller holds this version: HIT without a copy */
    ngx_uint_t     fail_fast;    /* a recent failure (before its retry time) is FAILED */
    ngx_oic_cache_class_e  entry_class;  /* of an entry this creates */
} ngx_oic_cache_req_t;

/*
 * Look key up for a new request (req->gen == 0) or for a waiter:
 *   HIT    the value is fresh (or, for a waiter, the value its fetch produced);
 *          with stale_ok, a stale value is a HIT too and, when
 *          no fetch is in flight and refresh is set, the caller also becomes
 *          owner: res->gen != 0 then. res->version identifies the value; when
 *          it equals req->have_version the value is not copied (len 0).
 *   OWNER  nothing usable: the caller fetches
 *   WAIT   a fetch by a live owner is in flight (res->gen)
 *   FAILED (waiters only) the fetch they waited for failed
 */
ngx_oic_cache_rc_e ngx_oic_cache_acquire(ngx_shm_zone_t *zone, u_char *key,
    ngx_oic_cache_req_t *req, ngx_pool_t *pool, ngx_oic_cache_res_t *res);

/*
 * Become owner of key even though it may be fresh (a forced refresh, e.g.
 * on an unknown JWKS kid), unless a fetch is in flight or the last forced
 * refresh started less than min_interval seconds ago (regular fetches do
 * not count). Returns OWNER (res->gen set), WAIT (res->gen set), or
 * NGX_OIC_CACHE_HIT meaning "throttled".
 */
ngx_oic_cache_rc_e ngx_oic_cache_refresh(ngx_shm_zone_t *zone, u_char *key,
    ngx_oic_cache_class_e entry_class, ngx_msec_t deadline_ms,
    time_t min_interval, ngx_oic_cache_res_t *res);

/*
 * Store a fetched value: served while now < fresh_until, kept until
 * evict_after. NGX_DECLINED when the zone has no room for it even after
 * eviction: the fetch's waiters in other workers then get FAILED, 503
 * "cache_full" (retryable), instead of starting fetches of their own.
 */
ngx_int_t ngx_oic_cache_complete(ngx_shm_zone_t *zone, u_char *key,
    uint32_t gen, ngx_str_t *value, time_t fresh_until, time_t evict_after);

/*
 * A fetch failed: its waiters get status/error. With stale_retry set and a
 * previous value in the entry, that value stays (served stale) and counts as
 * fresh until stale_retry. Otherwise the entry fails: until fail_retry, new
 * requests that ask for fail_fast get FAILED instead of starting a fetch.
 */
void ngx_oic_cache_fail(ngx_shm_zone_t *zone, u_char *key, uint32_t gen,
    ngx_uint_t status, const char *error, time_t stale_retry,
    time_t fail_retry);

/* Remember a key with no value (e.g. a verified token) until expires. */
void ngx_oic_cache_mark(ngx_shm_zone_t *zone, u_char *key, time_t expires);

/* 1 when key is marked and not expired. */
ngx_uint_t ngx_oic_cache_marked(ngx_shm_zone_t *zone, u_char *key);

#endif /* NGX_OIC_CACHE_H */
