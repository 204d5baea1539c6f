/*
 * oic_auth shared memory cache: values (tokens, JWKS documents, verified-token
 * marks) keyed by a 32-byte hash, shared by all workers, with single-flight
 * fetch coordination, refresh ahead, stale-if-error with backoff, a negative
 * cache of definitive refusals, and eviction by class. The zone also holds a
 * random secret: the keys of entries that involve a secret, a token or a
 * user, and the ids log lines give entries, are derived with it
 * (ngx_oic_cache_key).
 *
 * The life of a value: fresh until fresh_until (served, nothing else
 * happens), then in its refresh window until valid_until (served; the first
 * new request that may refresh it becomes the owner of a background
 * refresh, others are served meanwhile), never served at or after
 * valid_until. A failed fetch backs off (retry_at): a value still valid
 * keeps being served (stale), a key without one fails fast until then.
 */
#ifndef NGX_OIC_CACHE_H
#define NGX_OIC_CACHE_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "oic_auth.h"
#include "ngx_oic_keyed.h"


typedef enum {
    NGX_OIC_CACHE_HIT = 0,      /* value returned (res->freshness says how) */
    NGX_OIC_CACHE_OWNER,        /* caller must fetch, then complete(), fail()
                                   or abandon() */
    NGX_OIC_CACHE_WAIT,         /* another fetch is in flight: wait for *gen */
    NGX_OIC_CACHE_FAILED,       /* the fetch waited for failed, or the last
                                   one failed and its backoff runs: *status */
    NGX_OIC_CACHE_NEGATIVE,     /* a definitive refusal, remembered: *status */
    NGX_OIC_CACHE_NOMEM,        /* no room even after eviction */
    NGX_OIC_CACHE_PASS          /* ngx_oic_cache_fresh(): no fresh value */
} ngx_oic_cache_rc_e;


/* a HIT's value */
typedef enum {
    NGX_OIC_CACHE_FRESH = 0,    /* before its refresh window */
    NGX_OIC_CACHE_UPDATING,     /* in its refresh window, a refresh runs
                                   (res->gen: this caller must run it) */
    NGX_OIC_CACHE_STALE         /* in its refresh window, the last refresh
                                   failed or could not run: next try later */
} ngx_oic_cache_freshness_e;


typedef struct {
    ngx_str_t      value;       /* copied into the caller's pool on HIT */
    uint32_t       gen;         /* the fetch generation to wait for, or to
                                   complete */
    ngx_uint_t     status;      /* on FAILED, NEGATIVE: the HTTP status */
    u_char         error[32];   /* on FAILED, NEGATIVE: a short error code */
    uint32_t       version;     /* on HIT: identifies the stored value */
    ngx_uint_t     freshness;   /* on HIT */
    ngx_uint_t     accepted;    /* on OWNER: a fetch succeeded for this key */
    ngx_uint_t     failures;    /* consecutive failed fetches */
    time_t         retry_after; /* on FAILED: s until the next try */
    time_t         valid_until; /* on HIT: the value's end */
    ngx_uint_t     ended;       /* a value of a key whose refreshes failed
                                   reached its end in this lookup */
    ngx_uint_t     took_over;   /* on OWNER: the last owner missed its
                                   deadline (a worker died or hung) */
    time_t         last_purge;  /* on OWNER: the last ngx_oic_cache_purge()
                                   of the key's value (0: none) */
} ngx_oic_cache_res_t;


/*
 * How an entry competes for room when the zone is full (the class is given
 * when the entry is created; a token entry moves from UNACCEPTED to LRU when
 * a fetch for it succeeds, and back when it is refused):
 *   LRU         tokens IAM issued, verified-token marks: evicted least
 *               recently used first, never to make room for UNACCEPTED ones
 *   PINNED      never evicted to make room: JWKS documents, one per
 *               configured JWKS URI, whose entry also holds the unknown-kid
 *               refetch throttle; dropped only once unused past evict_after
 *   UNACCEPTED  token keys IAM never accepted (a fetch in flight, a refusal,
 *               a failure): at most a quarter of the zone, evicted first,
 *               and only among themselves to make room for one another
 */
typedef enum {
    NGX_OIC_CACHE_LRU = 0,
    NGX_OIC_CACHE_PINNED,
    NGX_OIC_CACHE_UNACCEPTED,
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
 * What every oic_auth zone does with its secret and its pool (this cache's
 * zones, the IAM guard's): a zone's secret (NGX_OIC_CACHE_SECRET_LEN bytes
 * of its state), new random bytes when fresh, prepared as *mac; *mac freed
 * with the configuration's pool; the slab pool's name in its log lines.
 */
ngx_int_t ngx_oic_cache_secret(ngx_shm_zone_t *shm_zone, u_char *secret,
    ngx_uint_t fresh, oic_mac_t **mac);
ngx_int_t ngx_oic_cache_mac_cleanup(ngx_pool_t *pool, oic_mac_t **mac);
ngx_int_t ngx_oic_cache_log_ctx(ngx_shm_zone_t *shm_zone,
    ngx_slab_pool_t *shpool, const char *what);

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
    ngx_uint_t     refresh;      /* a value in its refresh window makes the
                                    caller owner of its refresh */
    uint32_t       have_version; /* the caller holds this version: HIT without a copy */
    ngx_str_t      prefix;       /* bytes the copy of a value is preceded by
                                    (res->value still starts at the value) */
    ngx_oic_cache_class_e  entry_class;  /* of an entry this creates */
} ngx_oic_cache_req_t;

/*
 * Look key up for a new request (req->gen == 0) or for a waiter:
 *   HIT       a value before its end (or, for a waiter, the value its fetch
 *             produced). In its refresh window, with req->refresh, no fetch
 *             in flight and no backoff running, the caller also becomes
 *             owner of the refresh: res->gen != 0 then. res->version
 *             identifies the value; when it equals req->have_version the
 *             value is not copied (len 0).
 *   NEGATIVE  a definitive refusal remembered (res->status, res->error)
 *   FAILED    the fetch waited for failed, or a failure's backoff runs
 *             (res->retry_after)
 *   WAIT      a fetch by a live owner is in flight (res->gen)
 *   OWNER     nothing usable: the caller fetches (res->accepted)
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
 * Store a fetched value: fresh until fresh_until, served until valid_until,
 * kept (with what the entry knows: accepted, backoff) until evict_after.
 * The key becomes accepted (class LRU if it was UNACCEPTED); its failures
 * are forgotten. NGX_DECLINED when the zone has no room for it even after
 * eviction: the fetch's waiters in other workers then get FAILED, 503
 * "cache_full" (retryable), instead of starting fetches of their own.
 */
ngx_int_t ngx_oic_cache_complete(ngx_shm_zone_t *zone, u_char *key,
    uint32_t gen, ngx_str_t *value, time_t fresh_until, time_t valid_until,
    time_t evict_after);

/* A failed fetch: what the waiters get, and what the entry remembers. */
typedef struct {
    ngx_uint_t     status;
    const char    *error;
    ngx_uint_t     definitive;   /* a refusal: the value goes, the key is no
                                    longer accepted */
    time_t         negative_ttl; /* definitive: remembered this long (0: not) */
    ngx_msec_t     stale_ms;     /* otherwise: with a valid value, the next
                                    try after this (0: the backoff below) */
    ngx_msec_t     base_ms;      /* backoff: base_ms doubling per */
    ngx_msec_t     cap_ms;       /* consecutive failure up to cap_ms, */
    ngx_uint_t     jitter;       /* +-20 % if set, */
    ngx_msec_t     min_ms;       /* and at least min_ms (Retry-After) */
} ngx_oic_cache_failure_t;

/* What the failure did to the entry. */
typedef struct {
    ngx_uint_t     stale;        /* a value stays served until valid_until */
    ngx_uint_t     dropped;      /* a definitive refusal dropped a value */
    ngx_uint_t     failures;     /* consecutive failures, this one included */
    ngx_msec_t     retry_ms;     /* the backoff: no fetch before */
    time_t         valid_until;  /* with stale */
} ngx_oic_cache_failed_t;

/*
 * A fetch failed: its waiters get f->status and f->error. A definitive
 * refusal drops the value and, for negative_ttl, answers new requests
 * NEGATIVE. Any other failure backs off: a value still valid stays (served
 * STALE until the next try), a key without one fails fast (FAILED) until
 * the next try.
 */
void ngx_oic_cache_fail(ngx_shm_zone_t *zone, u_char *key, uint32_t gen,
    ngx_oic_cache_failure_t *f, ngx_oic_cache_failed_t *out);

/*
 * The owner of generation gen gives up without fetching (a local refusal,
 * a dead owner taken over): nothing is remembered but, when retry_ms is
 * set, that no new fetch starts before it (a value in its refresh window is
 * served STALE meanwhile). Requests that waited look again.
 */
void ngx_oic_cache_abandon(ngx_shm_zone_t *zone, u_char *key, uint32_t gen,
    ngx_msec_t retry_ms);

/*
 * Drop the value of key if it is still value (the token a request carried)
 * and the last purge of key is at least min_interval s old: the next
 * request fetches a new one. NGX_OK when dropped, NGX_DECLINED otherwise.
 */
ngx_int_t ngx_oic_cache_purge(ngx_shm_zone_t *zone, u_char *key,
    ngx_str_t *value, time_t min_interval);

/* Remember a key with no value (e.g. a verified token) until expires. */
void ngx_oic_cache_mark(ngx_shm_zone_t *zone, u_char *key, time_t expires);

/* 1 when key is marked and not expired. */
ngx_uint_t ngx_oic_cache_marked(ngx_shm_zone_t *zone, u_char *key);

/*
 * A fresh value only (before its refresh window): HIT with its copy in
 * res->value (req->prefix and req->have_version as for acquire), else
 * NGX_OIC_CACHE_PASS and nothing changed: the caller goes on with acquire.
 */
ngx_oic_cache_rc_e ngx_oic_cache_fresh(ngx_shm_zone_t *zone, u_char *key,
    ngx_oic_cache_req_t *req, ngx_pool_t *pool, ngx_oic_cache_res_t *res);

/* An oic_auth zone's gauges, for the metrics. */
typedef struct {
    ngx_uint_t     entries;
    ngx_uint_t     evictions;   /* entries dropped to make room */
    size_t         used;        /* bytes of the slab pool's pages in use */
    size_t         free;
} ngx_oic_zone_stats_t;

/*
 * A zone's gauges under its mutex: the slab pool's pages used and free, the
 * sum of n entry counts, the evictions (NULL: none). NGX_OK.
 */
ngx_int_t ngx_oic_zone_stats(ngx_slab_pool_t *shpool, ngx_uint_t *counts,
    ngx_uint_t n, ngx_uint_t *evictions, ngx_oic_zone_stats_t *st);

/* A cache zone's gauges, under its mutex; NGX_DECLINED: not a cache zone. */
ngx_int_t ngx_oic_cache_stats(ngx_shm_zone_t *shm_zone,
    ngx_oic_zone_stats_t *st);

#endif /* NGX_OIC_CACHE_H */
