/*
 * oic_auth shared memory cache.
 *
 * An rbtree on the first machine word of a 32-byte key (full compare on ties)
 * plus one LRU queue per entry class, in a slab pool, as in
 * ngx_http_limit_req_module. The zone mutex is held only for the few steps
 * of a lookup or an update, never across I/O.
 *
 * An entry remembers, besides its value: whether a fetch for the key ever
 * succeeded (accepted), a definitive refusal until neg_until (negative),
 * and after a failed fetch the time before which no new one starts
 * (backoff, retry_at; consecutive failures double it).
 *
 * Single flight: an entry remembers whether a fetch is in flight (owner pid,
 * generation, deadline). The first request that finds nothing usable becomes
 * the owner; the others wait for that generation's result. An owner that
 * misses its deadline (worker died or hung) is replaced by the next request.
 * An entry is not evicted while its fetch runs, nor, when requests of other
 * workers wait for it, until they had time to see the result
 * (NGX_OIC_CACHE_HOLD): a waiter that found it gone would fetch again.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_oic_cache.h"


#define NGX_OIC_RESULT_NONE    0
#define NGX_OIC_RESULT_READY   1
#define NGX_OIC_RESULT_FAILED  2

/* ms a finished fetch's entry stays for its waiters (they poll every 50 ms) */
#define NGX_OIC_CACHE_HOLD     1000

/* ms during which a result the zone had no room for fails fast */
#define NGX_OIC_CACHE_NOROOM_RETRY  5000

/* s an entry outlives its value or its backoff (what it knows: accepted) */
#define NGX_OIC_CACHE_KEEP     60

/* bytes per UNACCEPTED entry when their share of the zone is counted */
#define NGX_OIC_CACHE_ENTRY_SIZE  256


typedef struct {
    ngx_oic_keyed_t      k;             /* rbtree node, LRU link, key */

    unsigned             fetching:1;
    unsigned             remote_waiters:1;  /* other workers wait for it */
    unsigned             held:1;        /* finished: kept for those waiters */
    unsigned             has_value:1;
    unsigned             result:2;
    unsigned             entry_class:2;
    unsigned             accepted:1;    /* a fetch succeeded for this key */
    unsigned             negative:1;    /* result FAILED is a refusal */
    unsigned             backoff:1;     /* no new fetch before retry_at */

    uint32_t             gen;           /* generation of the fetch in flight */
    uint32_t             done_gen;      /* generation of the last result */
    uint32_t             value_gen;     /* generation that stored the value */
    ngx_pid_t            owner;
    ngx_msec_t           deadline;      /* of the fetch, then of the hold */
    ngx_msec_t           retry_at;

    time_t               fresh_until;
    time_t               valid_until;
    time_t               evict_after;
    time_t               neg_until;
    time_t               last_fetch;
    time_t               last_refresh;  /* last forced refresh started */
    time_t               last_purge;

    ngx_uint_t           failures;
    ngx_uint_t           status;
    u_char               error[32];

    size_t               len;
    u_char              *value;
} ngx_oic_cache_node_t;


typedef struct {
    ngx_rbtree_t         rbtree;
    ngx_rbtree_node_t    sentinel;
    ngx_queue_t          queue[NGX_OIC_CACHE_CLASSES];   /* LRU per class */
    ngx_uint_t           count[NGX_OIC_CACHE_CLASSES];
    ngx_uint_t           unaccepted_max;
    ngx_uint_t           evictions;     /* entries dropped to make room */
    uint32_t             gen;
    u_char               secret[NGX_OIC_CACHE_SECRET_LEN];
} ngx_oic_cache_sh_t;


struct ngx_oic_cache_s {
    ngx_oic_cache_sh_t  *sh;
    ngx_slab_pool_t     *shpool;
    oic_mac_t           *mac;           /* the secret, prepared */
};


static ngx_oic_cache_node_t *
ngx_oic_cache_lookup(ngx_oic_cache_t *cache, u_char *key)
{
    return (ngx_oic_cache_node_t *) ngx_oic_keyed_lookup(&cache->sh->rbtree,
                                                         key);
}


static void
ngx_oic_cache_free_value(ngx_oic_cache_t *cache, ngx_oic_cache_node_t *n)
{
    if (n->value) {
        ngx_explicit_memzero(n->value, n->len);
        ngx_slab_free_locked(cache->shpool, n->value);
        n->value = NULL;
    }

    n->len = 0;
    n->has_value = 0;
}


static void
ngx_oic_cache_delete(ngx_oic_cache_t *cache, ngx_oic_cache_node_t *n)
{
    ngx_oic_cache_free_value(cache, n);
    ngx_queue_remove(&n->k.queue);
    cache->sh->count[n->entry_class]--;
    ngx_rbtree_delete(&cache->sh->rbtree, &n->k.node);
    ngx_slab_free_locked(cache->shpool, n);
}


/* Another class: LRU once IAM accepted the key, UNACCEPTED once refused. */
static void
ngx_oic_cache_set_class(ngx_oic_cache_t *cache, ngx_oic_cache_node_t *n,
    ngx_oic_cache_class_e entry_class)
{
    if (n->entry_class == entry_class
        || n->entry_class == NGX_OIC_CACHE_PINNED)
    {
        return;
    }

    ngx_queue_remove(&n->k.queue);
    cache->sh->count[n->entry_class]--;

    n->entry_class = entry_class;

    ngx_queue_insert_head(&cache->sh->queue[entry_class], &n->k.queue);
    cache->sh->count[entry_class]++;
}


static ngx_uint_t
ngx_oic_cache_fetch_alive(ngx_oic_cache_node_t *n)
{
    return n->fetching && (ngx_msec_int_t) (n->deadline - ngx_current_msec) > 0;
}


/* ms until a new fetch may start (0: now) */
static ngx_msec_t
ngx_oic_cache_backoff_left(ngx_oic_cache_node_t *n)
{
    ngx_msec_int_t  left;

    if (!n->backoff) {
        return 0;
    }

    left = (ngx_msec_int_t) (n->retry_at - ngx_current_msec);

    return left > 0 ? (ngx_msec_t) left : 0;
}


/*
 * A fetch in flight, or one that finished moments ago with waiters in other
 * workers: not to be evicted.
 */
static ngx_uint_t
ngx_oic_cache_held(ngx_oic_cache_node_t *n)
{
    return (n->fetching || n->held)
           && (ngx_msec_int_t) (n->deadline - ngx_current_msec) > 0;
}


/* A request that will wait for the fetch in flight: from another worker? */
static void
ngx_oic_cache_waiter(ngx_oic_cache_node_t *n)
{
    if (n->owner != ngx_pid) {
        n->remote_waiters = 1;
    }
}


/* Most recently used in its class. */
static void
ngx_oic_cache_touch(ngx_oic_cache_t *cache, ngx_oic_cache_node_t *n)
{
    ngx_queue_remove(&n->k.queue);
    ngx_queue_insert_head(&cache->sh->queue[n->entry_class], &n->k.queue);
}


/*
 * Drop up to max entries from the tail of a class's queue: expired ones, or
 * any (to make room) when force. Held entries stay either way.
 */
static ngx_uint_t
ngx_oic_cache_drop(ngx_oic_cache_t *cache, ngx_uint_t c, ngx_uint_t force,
    ngx_uint_t max)
{
    time_t                 now;
    ngx_uint_t             freed;
    ngx_queue_t           *q, *prev, *queue;
    ngx_oic_cache_node_t  *n;

    now = ngx_time();
    freed = 0;
    queue = &cache->sh->queue[c];

    for (q = ngx_queue_last(queue);
         q != ngx_queue_sentinel(queue) && freed < max;
         q = prev)
    {
        prev = ngx_queue_prev(q);
        n = ngx_queue_data(q, ngx_oic_cache_node_t, k.queue);

        if (ngx_oic_cache_held(n)) {
            continue;
        }

        if (!force && now < n->evict_after) {
            break;
        }

        cache->sh->evictions += force;
        ngx_oic_cache_delete(cache, n);
        freed++;
    }

    return freed;
}


/* Expired entries of every class go, a few at a time. */
static void
ngx_oic_cache_expire(ngx_oic_cache_t *cache, ngx_uint_t max)
{
    ngx_uint_t  c;

    for (c = 0; c < NGX_OIC_CACHE_CLASSES; c++) {
        (void) ngx_oic_cache_drop(cache, c, 0, max);
    }
}


/*
 * Slab allocation that evicts when full: UNACCEPTED entries first, then,
 * unless the room is for an UNACCEPTED entry (for_unaccepted), LRU ones.
 */
static void *
ngx_oic_cache_alloc(ngx_oic_cache_t *cache, size_t size,
    ngx_uint_t for_unaccepted)
{
    void        *p;
    ngx_uint_t   tries;

    for (tries = 0; tries < 64; tries++) {
        p = ngx_slab_alloc_locked(cache->shpool, size);
        if (p) {
            return p;
        }

        if (ngx_oic_cache_drop(cache, NGX_OIC_CACHE_UNACCEPTED, 1, 4) == 0
            && (for_unaccepted
                || ngx_oic_cache_drop(cache, NGX_OIC_CACHE_LRU, 1, 4) == 0))
        {
            break;
        }
    }

    return NULL;
}


static ngx_oic_cache_node_t *
ngx_oic_cache_create(ngx_oic_cache_t *cache, u_char *key,
    ngx_oic_cache_class_e entry_class)
{
    ngx_uint_t             unaccepted;
    ngx_oic_cache_node_t  *n;

    unaccepted = (entry_class == NGX_OIC_CACHE_UNACCEPTED);

    /* keys IAM never accepted hold a bounded share of the zone */

    if (unaccepted
        && cache->sh->count[entry_class] >= cache->sh->unaccepted_max
        && ngx_oic_cache_drop(cache, entry_class, 1, 1) == 0)
    {
        return NULL;
    }

    n = ngx_oic_cache_alloc(cache, sizeof(ngx_oic_cache_node_t), unaccepted);
    if (n == NULL) {
        return NULL;
    }

    ngx_memzero(n, sizeof(ngx_oic_cache_node_t));
    ngx_oic_keyed_set(&n->k, key);
    n->entry_class = entry_class;

    ngx_rbtree_insert(&cache->sh->rbtree, &n->k.node);
    ngx_queue_insert_head(&cache->sh->queue[entry_class], &n->k.queue);
    cache->sh->count[entry_class]++;

    return n;
}


static void
ngx_oic_cache_start_fetch(ngx_oic_cache_t *cache, ngx_oic_cache_node_t *n,
    ngx_msec_t deadline_ms, ngx_oic_cache_res_t *res)
{
    if (++cache->sh->gen == 0) {
        cache->sh->gen = 1;
    }

    res->took_over = n->fetching;

    n->fetching = 1;
    n->remote_waiters = 0;
    n->held = 0;
    n->gen = cache->sh->gen;
    n->owner = ngx_pid;
    n->deadline = ngx_current_msec + deadline_ms;
    n->last_fetch = ngx_time();

    /* kept past its deadline: who comes next must know it was taken over */
    n->evict_after = ngx_max(n->evict_after,
                             n->last_fetch + NGX_OIC_CACHE_KEEP);

    res->gen = n->gen;
    res->accepted = n->accepted;
    res->failures = n->failures;
    res->last_purge = n->last_purge;
}


static ngx_int_t
ngx_oic_cache_copy(ngx_oic_cache_node_t *n, ngx_oic_cache_req_t *req,
    ngx_pool_t *pool, ngx_oic_cache_res_t *res)
{
    res->value.len = 0;
    res->value.data = NULL;
    res->version = n->value_gen;
    res->valid_until = n->valid_until;

    if (req->have_version && req->have_version == n->value_gen) {
        return NGX_OK;
    }

    res->value.len = n->len;

    if (n->len) {
        res->value.data = ngx_pnalloc(pool, req->prefix.len + n->len);
        if (res->value.data == NULL) {
            return NGX_ERROR;
        }

        if (req->prefix.len) {
            res->value.data = ngx_cpymem(res->value.data, req->prefix.data,
                                         req->prefix.len);
        }

        ngx_memcpy(res->value.data, n->value, n->len);
    }

    return NGX_OK;
}


/* The failure waiters and new requests get. */
static void
ngx_oic_cache_failure(ngx_oic_cache_node_t *n, ngx_oic_cache_res_t *res)
{
    res->status = n->status;
    ngx_memcpy(res->error, n->error, sizeof(res->error));
    res->retry_after = (ngx_oic_cache_backoff_left(n) + 999) / 1000;
    res->failures = n->failures;
}


/* A value before its end: how fresh, and whether the caller refreshes it. */
static ngx_oic_cache_rc_e
ngx_oic_cache_serve(ngx_oic_cache_t *cache, ngx_oic_cache_node_t *n,
    ngx_oic_cache_req_t *req, ngx_pool_t *pool, ngx_oic_cache_res_t *res)
{
    if (ngx_oic_cache_copy(n, req, pool, res) != NGX_OK) {
        return NGX_OIC_CACHE_NOMEM;
    }

    res->failures = n->failures;

    if (ngx_time() < n->fresh_until) {
        res->freshness = NGX_OIC_CACHE_FRESH;

    } else if (ngx_oic_cache_fetch_alive(n)) {
        res->freshness = NGX_OIC_CACHE_UPDATING;

    } else if (ngx_oic_cache_backoff_left(n)) {
        res->freshness = NGX_OIC_CACHE_STALE;

    } else if (req->refresh && req->gen == 0) {
        ngx_oic_cache_start_fetch(cache, n, req->deadline_ms, res);
        res->freshness = NGX_OIC_CACHE_UPDATING;

    } else {
        res->freshness = n->failures ? NGX_OIC_CACHE_STALE
                                     : NGX_OIC_CACHE_UPDATING;
    }

    return NGX_OIC_CACHE_HIT;
}


ngx_oic_cache_rc_e
ngx_oic_cache_acquire(ngx_shm_zone_t *zone, u_char *key,
    ngx_oic_cache_req_t *req, ngx_pool_t *pool, ngx_oic_cache_res_t *res)
{
    time_t                 now;
    uint32_t               gen = req->gen;
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_rc_e     rc;
    ngx_oic_cache_node_t  *n;

    ngx_memzero(res, sizeof(ngx_oic_cache_res_t));
    now = ngx_time();

    ngx_shmtx_lock(&cache->shpool->mutex);

    ngx_oic_cache_expire(cache, 2);

    n = ngx_oic_cache_lookup(cache, key);

    if (n == NULL) {
        n = ngx_oic_cache_create(cache, key, req->entry_class);
        if (n == NULL) {
            rc = NGX_OIC_CACHE_NOMEM;
            goto done;
        }

        ngx_oic_cache_start_fetch(cache, n, req->deadline_ms, res);
        rc = NGX_OIC_CACHE_OWNER;
        goto done;
    }

    ngx_oic_cache_touch(cache, n);

    if (gen && n->done_gen == gen) {
        /* the result of the fetch this waiter was waiting for */

        if (n->result == NGX_OIC_RESULT_FAILED) {
            ngx_oic_cache_failure(n, res);
            rc = NGX_OIC_CACHE_FAILED;
            goto done;
        }

        if (n->result == NGX_OIC_RESULT_READY && n->has_value) {
            rc = ngx_oic_cache_copy(n, req, pool, res) == NGX_OK
                 ? NGX_OIC_CACHE_HIT : NGX_OIC_CACHE_NOMEM;
            goto done;
        }
    }

    if (n->has_value && n->result == NGX_OIC_RESULT_READY) {

        if (now < n->valid_until) {
            rc = ngx_oic_cache_serve(cache, n, req, pool, res);
            goto done;
        }

        /*
         * never served at or after its end; the value goes, unless waiters
         * in other workers have yet to see it (a token used but not cached)
         */

        if (!ngx_oic_cache_held(n)) {
            res->ended = (n->failures != 0);
            ngx_oic_cache_free_value(cache, n);

            /* its refresh failed lately: that failure, until the next try */
            n->result = (n->failures && ngx_oic_cache_backoff_left(n))
                        ? NGX_OIC_RESULT_FAILED : NGX_OIC_RESULT_NONE;
        }
    }

    if (n->negative && n->result == NGX_OIC_RESULT_FAILED) {

        if (now < n->neg_until) {
            ngx_oic_cache_failure(n, res);
            rc = NGX_OIC_CACHE_NEGATIVE;
            goto done;
        }

        n->negative = 0;
        n->result = NGX_OIC_RESULT_NONE;
    }

    if (ngx_oic_cache_fetch_alive(n)) {
        res->gen = n->gen;
        ngx_oic_cache_waiter(n);
        rc = NGX_OIC_CACHE_WAIT;
        goto done;
    }

    if (n->result == NGX_OIC_RESULT_FAILED && ngx_oic_cache_backoff_left(n)) {
        ngx_oic_cache_failure(n, res);
        rc = NGX_OIC_CACHE_FAILED;
        goto done;
    }

    ngx_oic_cache_start_fetch(cache, n, req->deadline_ms, res);
    rc = NGX_OIC_CACHE_OWNER;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


ngx_oic_cache_rc_e
ngx_oic_cache_fresh(ngx_shm_zone_t *zone, u_char *key,
    ngx_oic_cache_req_t *req, ngx_pool_t *pool, ngx_oic_cache_res_t *res)
{
    time_t                 now;
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_rc_e     rc;
    ngx_oic_cache_node_t  *n;

    ngx_memzero(res, sizeof(ngx_oic_cache_res_t));
    rc = NGX_OIC_CACHE_PASS;
    now = ngx_time();

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_lookup(cache, key);

    if (n && n->has_value && n->result == NGX_OIC_RESULT_READY
        && now < n->fresh_until && now < n->valid_until
        && ngx_oic_cache_copy(n, req, pool, res) == NGX_OK)
    {
        ngx_oic_cache_touch(cache, n);
        res->failures = n->failures;
        res->freshness = NGX_OIC_CACHE_FRESH;
        rc = NGX_OIC_CACHE_HIT;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


ngx_oic_cache_rc_e
ngx_oic_cache_refresh(ngx_shm_zone_t *zone, u_char *key,
    ngx_oic_cache_class_e entry_class, ngx_msec_t deadline_ms,
    time_t min_interval, ngx_oic_cache_res_t *res)
{
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_rc_e     rc;
    ngx_oic_cache_node_t  *n;

    ngx_memzero(res, sizeof(ngx_oic_cache_res_t));

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_lookup(cache, key);

    if (n == NULL) {
        n = ngx_oic_cache_create(cache, key, entry_class);
        if (n == NULL) {
            rc = NGX_OIC_CACHE_NOMEM;
            goto done;
        }

        ngx_oic_cache_start_fetch(cache, n, deadline_ms, res);
        n->last_refresh = n->last_fetch;
        rc = NGX_OIC_CACHE_OWNER;
        goto done;
    }

    if (ngx_oic_cache_fetch_alive(n)) {
        res->gen = n->gen;
        ngx_oic_cache_waiter(n);
        rc = NGX_OIC_CACHE_WAIT;
        goto done;
    }

    /*
     * throttled by the last forced refresh only: the regular fetch that
     * filled the entry (first use, background refresh) must not delay the
     * first refetch for a new kid
     */

    if (n->last_refresh && ngx_time() - n->last_refresh < min_interval) {
        rc = NGX_OIC_CACHE_HIT;
        goto done;
    }

    ngx_oic_cache_start_fetch(cache, n, deadline_ms, res);
    n->last_refresh = n->last_fetch;
    rc = NGX_OIC_CACHE_OWNER;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


static ngx_oic_cache_node_t *
ngx_oic_cache_finish(ngx_oic_cache_t *cache, u_char *key, uint32_t gen)
{
    ngx_oic_cache_node_t  *n;

    n = ngx_oic_cache_lookup(cache, key);

    if (n == NULL) {
        /* dropped after the fetch's deadline had passed */
        n = ngx_oic_cache_create(cache, key, NGX_OIC_CACHE_LRU);
        if (n == NULL) {
            return NULL;
        }
    }

    if (n->fetching && n->gen == gen) {
        n->fetching = 0;
    }

    n->done_gen = gen;

    /* the waiters in other workers still have to look */

    if (n->remote_waiters && n->gen == gen) {
        n->held = 1;

        if ((ngx_msec_int_t) (n->deadline - ngx_current_msec)
            < NGX_OIC_CACHE_HOLD)
        {
            n->deadline = ngx_current_msec + NGX_OIC_CACHE_HOLD;
        }
    }

    return n;
}


ngx_int_t
ngx_oic_cache_complete(ngx_shm_zone_t *zone, u_char *key, uint32_t gen,
    ngx_str_t *value, time_t fresh_until, time_t valid_until,
    time_t evict_after)
{
    u_char                *p;
    ngx_int_t              rc;
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_node_t  *n;

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_finish(cache, key, gen);
    if (n == NULL) {
        goto done;
    }

    ngx_oic_cache_set_class(cache, n, NGX_OIC_CACHE_LRU);

    n->accepted = 1;
    n->negative = 0;
    n->failures = 0;
    n->backoff = 0;

    /* the node must not be evicted to make room for its own value */
    ngx_queue_remove(&n->k.queue);
    ngx_queue_init(&n->k.queue);

    ngx_oic_cache_free_value(cache, n);

    p = ngx_oic_cache_alloc(cache, value->len ? value->len : 1, 0);

    ngx_queue_insert_head(&cache->sh->queue[n->entry_class], &n->k.queue);

    if (p == NULL) {
        /*
         * the waiters of other workers cannot get the value: a retryable
         * failure for them, rather than a fetch of their own
         */
        n->result = NGX_OIC_RESULT_FAILED;
        n->status = 503;                        /* Service Unavailable */
        ngx_cpystrn(n->error, (u_char *) "cache_full", sizeof(n->error));
        n->backoff = 1;
        n->retry_at = ngx_current_msec + NGX_OIC_CACHE_NOROOM_RETRY;
        n->evict_after = ngx_time() + NGX_OIC_CACHE_NOROOM_RETRY / 1000;
        goto done;
    }

    ngx_memcpy(p, value->data, value->len);
    n->value = p;
    n->len = value->len;
    n->has_value = 1;
    n->value_gen = gen;
    n->result = NGX_OIC_RESULT_READY;
    n->fresh_until = fresh_until;
    n->valid_until = valid_until;
    n->evict_after = ngx_max(evict_after, valid_until);
    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


void
ngx_oic_cache_fail(ngx_shm_zone_t *zone, u_char *key, uint32_t gen,
    ngx_oic_cache_failure_t *f, ngx_oic_cache_failed_t *out)
{
    time_t                 now;
    uint32_t               rnd;
    ngx_msec_t             retry;
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_node_t  *n;

    ngx_memzero(out, sizeof(ngx_oic_cache_failed_t));
    now = ngx_time();

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_finish(cache, key, gen);
    if (n == NULL) {
        goto done;
    }

    n->status = f->status;
    ngx_cpystrn(n->error, (u_char *) f->error, sizeof(n->error));

    if (f->definitive) {
        /* the credentials were refused: nothing of theirs is served */

        out->dropped = n->has_value && now < n->valid_until;
        ngx_oic_cache_free_value(cache, n);
        ngx_oic_cache_set_class(cache, n, NGX_OIC_CACHE_UNACCEPTED);

        n->accepted = 0;
        n->failures = 0;
        n->backoff = 0;
        n->result = NGX_OIC_RESULT_FAILED;
        n->negative = (f->negative_ttl > 0);
        n->neg_until = now + f->negative_ttl;
        n->evict_after = n->neg_until;
        goto done;
    }

    n->failures++;

    if (f->stale_ms && n->has_value && now < n->valid_until) {
        retry = f->stale_ms;

    } else {
        rnd = f->jitter ? (uint32_t) ngx_random() << 1 : (uint32_t) 1 << 31;
        retry = (ngx_msec_t) oic_backoff_ms((unsigned) n->failures,
                                            f->base_ms, f->cap_ms, rnd);
    }

    retry = ngx_max(retry, f->min_ms);

    n->backoff = (retry != 0);
    n->retry_at = ngx_current_msec + retry;
    n->evict_after = ngx_max(n->evict_after,
                             now + (time_t) (retry / 1000)
                             + NGX_OIC_CACHE_KEEP);

    out->failures = n->failures;
    out->retry_ms = retry;

    if (n->has_value && now < n->valid_until) {
        /* keep serving the last good value until its end; retry later */
        n->result = NGX_OIC_RESULT_READY;
        out->stale = 1;
        out->valid_until = n->valid_until;
        goto done;
    }

    ngx_oic_cache_free_value(cache, n);
    n->result = NGX_OIC_RESULT_FAILED;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_oic_cache_abandon(ngx_shm_zone_t *zone, u_char *key, uint32_t gen,
    ngx_msec_t retry_ms)
{
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_node_t  *n;

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_lookup(cache, key);

    if (n && n->fetching && n->gen == gen) {
        n->fetching = 0;

        if (retry_ms && ngx_oic_cache_backoff_left(n) < retry_ms) {
            n->backoff = 1;
            n->retry_at = ngx_current_msec + retry_ms;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


ngx_int_t
ngx_oic_cache_purge(ngx_shm_zone_t *zone, u_char *key, ngx_str_t *value,
    time_t min_interval)
{
    time_t                 now;
    ngx_int_t              rc;
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_node_t  *n;

    rc = NGX_DECLINED;
    now = ngx_time();

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_lookup(cache, key);

    if (n && n->has_value && n->len == value->len
        && ngx_memcmp(n->value, value->data, value->len) == 0
        && (n->last_purge == 0 || now - n->last_purge >= min_interval))
    {
        ngx_oic_cache_free_value(cache, n);
        n->result = NGX_OIC_RESULT_NONE;
        n->last_purge = now;
        n->evict_after = ngx_max(n->evict_after, now + min_interval);
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


void
ngx_oic_cache_mark(ngx_shm_zone_t *zone, u_char *key, time_t expires)
{
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_node_t  *n;

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_lookup(cache, key);
    if (n == NULL) {
        n = ngx_oic_cache_create(cache, key, NGX_OIC_CACHE_LRU);
    }

    if (n) {
        n->result = NGX_OIC_RESULT_READY;
        n->fresh_until = expires;
        n->evict_after = expires;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


ngx_uint_t
ngx_oic_cache_marked(ngx_shm_zone_t *zone, u_char *key)
{
    ngx_uint_t             marked;
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_node_t  *n;

    marked = 0;

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_lookup(cache, key);

    if (n && n->result == NGX_OIC_RESULT_READY && ngx_time() < n->fresh_until) {
        marked = 1;
        ngx_oic_cache_touch(cache, n);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return marked;
}


void
ngx_oic_cache_key(ngx_shm_zone_t *zone, const char *tag, oic_str_t *fields,
    ngx_uint_t n, u_char *key)
{
    ngx_oic_cache_t  *cache = zone->data;

    oic_mac_key(cache->mac, tag, fields, n, key);
}


void
ngx_oic_cache_log_id(ngx_shm_zone_t *zone, u_char *key, u_char *id)
{
    u_char            h[NGX_OIC_KEY_LEN];
    oic_str_t         field;
    ngx_oic_cache_t  *cache = zone->data;

    field.data = (char *) key;
    field.len = NGX_OIC_KEY_LEN;

    oic_mac_key(cache->mac, "log", &field, 1, h);
    oic_hex(h, (NGX_OIC_CACHE_LOG_ID_LEN - 1) / 2, (char *) id);
}


/*
 * A zone's secret (NGX_OIC_CACHE_SECRET_LEN bytes in its shared state): new
 * random bytes when fresh (a new zone, a new secret: nothing in it was
 * derived from another), prepared as this configuration's key (*mac).
 */
ngx_int_t
ngx_oic_cache_secret(ngx_shm_zone_t *shm_zone, u_char *secret,
    ngx_uint_t fresh, oic_mac_t **mac)
{
    if (fresh && oic_random(secret, NGX_OIC_CACHE_SECRET_LEN) != 0) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "oic_auth: no random bytes for the key of zone \"%V\"",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    *mac = oic_mac_new(secret, NGX_OIC_CACHE_SECRET_LEN);

    if (*mac == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "oic_auth: cannot prepare the key of zone \"%V\"",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* A new zone's slab pool names it in "no memory" lines: " in <what> "name"". */
ngx_int_t
ngx_oic_cache_log_ctx(ngx_shm_zone_t *shm_zone, ngx_slab_pool_t *shpool,
    const char *what)
{
    size_t  len;

    len = sizeof(" in  \"\"") + ngx_strlen(what) + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in %s \"%V\"%Z", what, &shm_zone->shm.name);

    shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_oic_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_uint_t         i;
    ngx_oic_cache_t   *cache, *ocache;

    cache = shm_zone->data;
    ocache = data;

    if (ocache) {
        /* reload: keep the content, and with it the secret */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return ngx_oic_cache_secret(shm_zone, cache->sh->secret, 0,
                                    &cache->mac);
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return ngx_oic_cache_secret(shm_zone, cache->sh->secret, 0,
                                    &cache->mac);
    }

    cache->sh = ngx_slab_alloc(cache->shpool, sizeof(ngx_oic_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    if (ngx_oic_cache_secret(shm_zone, cache->sh->secret, 1, &cache->mac)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_oic_keyed_insert);
    for (i = 0; i < NGX_OIC_CACHE_CLASSES; i++) {
        ngx_queue_init(&cache->sh->queue[i]);
        cache->sh->count[i] = 0;
    }

    cache->sh->evictions = 0;

    /* keys IAM never accepted: at most a quarter of the zone */
    cache->sh->unaccepted_max = ngx_max(8, shm_zone->shm.size / 4
                                           / NGX_OIC_CACHE_ENTRY_SIZE);

    return ngx_oic_cache_log_ctx(shm_zone, cache->shpool,
                                 "oic_auth_cache_zone");
}


static void
ngx_oic_cache_cleanup(void *data)
{
    oic_mac_t  **mac = data;

    oic_mac_free(*mac);
    *mac = NULL;
}


/* A zone's prepared key goes with the configuration's pool. */
ngx_int_t
ngx_oic_cache_mac_cleanup(ngx_pool_t *pool, oic_mac_t **mac)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_oic_cache_cleanup;
    cln->data = mac;

    return NGX_OK;
}


/* The zone's context in the configuration's pool; freed with it. */
ngx_oic_cache_t *
ngx_oic_cache_create_ctx(ngx_pool_t *pool)
{
    ngx_oic_cache_t  *cache;

    cache = ngx_pcalloc(pool, sizeof(ngx_oic_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    if (ngx_oic_cache_mac_cleanup(pool, &cache->mac) != NGX_OK) {
        return NULL;
    }

    return cache;
}


ngx_int_t
ngx_oic_zone_stats(ngx_slab_pool_t *shpool, ngx_uint_t *counts, ngx_uint_t n,
    ngx_uint_t *evictions, ngx_oic_zone_stats_t *st)
{
    ngx_uint_t  i, pages;

    pages = shpool->last - shpool->pages;

    ngx_shmtx_lock(&shpool->mutex);

    st->free = shpool->pfree * ngx_pagesize;
    st->used = (pages - ngx_min(shpool->pfree, pages)) * ngx_pagesize;
    st->evictions = evictions ? *evictions : 0;
    st->entries = 0;

    for (i = 0; i < n; i++) {
        st->entries += counts[i];
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_oic_cache_stats(ngx_shm_zone_t *shm_zone, ngx_oic_zone_stats_t *st)
{
    ngx_oic_cache_t  *cache;

    if (shm_zone->init != ngx_oic_cache_init_zone) {
        return NGX_DECLINED;
    }

    cache = shm_zone->data;

    return ngx_oic_zone_stats(cache->shpool, cache->sh->count,
                              NGX_OIC_CACHE_CLASSES, &cache->sh->evictions,
                              st);
}
