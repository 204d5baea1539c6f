/*
 * oic_auth shared memory cache.
 *
 * An rbtree on the first machine word of a 32-byte key (full compare on ties)
 * plus one LRU queue per entry class, in a slab pool, as in
 * ngx_http_limit_req_module. The zone mutex is held only for the few steps
 * of a lookup or an update, never across I/O.
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

/* s during which a JWKS result the zone had no room for fails fast */
#define NGX_OIC_CACHE_NOROOM_RETRY  5


typedef struct {
    ngx_oic_keyed_t      k;             /* rbtree node, LRU link, key */

    unsigned             fetching:1;
    unsigned             remote_waiters:1;  /* other workers wait for it */
    unsigned             held:1;        /* finished: kept for those waiters */
    unsigned             has_value:1;
    unsigned             result:2;
    unsigned             entry_class:2;

    uint32_t             gen;           /* generation of the fetch in flight */
    uint32_t             done_gen;      /* generation of the last result */
    uint32_t             value_gen;     /* generation that stored the value */
    ngx_pid_t            owner;
    ngx_msec_t           deadline;      /* of the fetch, then of the hold */

    time_t               fresh_until;
    time_t               evict_after;
    time_t               last_fetch;
    time_t               last_refresh;  /* last forced refresh started */

    ngx_uint_t           status;
    u_char               error[32];

    size_t               len;
    u_char              *value;
} ngx_oic_cache_node_t;


typedef struct {
    ngx_rbtree_t         rbtree;
    ngx_rbtree_node_t    sentinel;
    ngx_queue_t          queue[NGX_OIC_CACHE_CLASSES];   /* LRU per class */
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
    ngx_rbtree_delete(&cache->sh->rbtree, &n->k.node);
    ngx_slab_free_locked(cache->shpool, n);
}


static ngx_uint_t
ngx_oic_cache_fetch_alive(ngx_oic_cache_node_t *n)
{
    return n->fetching && (ngx_msec_int_t) (n->deadline - ngx_current_msec) > 0;
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
 * Drop up to max entries from the tails of the LRU queues: expired ones of
 * any class; or, when force (to make room), any of class LRU. Held entries
 * stay either way.
 */
static ngx_uint_t
ngx_oic_cache_expire(ngx_oic_cache_t *cache, ngx_uint_t force, ngx_uint_t max)
{
    time_t                 now;
    ngx_uint_t             freed, c;
    ngx_queue_t           *q, *prev, *queue;
    ngx_oic_cache_node_t  *n;

    now = ngx_time();
    freed = 0;

    for (c = 0; c < NGX_OIC_CACHE_CLASSES; c++) {

        if (force && c != NGX_OIC_CACHE_LRU) {
            continue;
        }

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

            ngx_oic_cache_delete(cache, n);
            freed++;
        }
    }

    return freed;
}


/* Slab allocation that evicts least recently used entries when full. */
static void *
ngx_oic_cache_alloc(ngx_oic_cache_t *cache, size_t size)
{
    void        *p;
    ngx_uint_t   tries;

    for (tries = 0; tries < 64; tries++) {
        p = ngx_slab_alloc_locked(cache->shpool, size);
        if (p) {
            return p;
        }

        if (ngx_oic_cache_expire(cache, 1, 4) == 0) {
            break;
        }
    }

    return NULL;
}


static ngx_oic_cache_node_t *
ngx_oic_cache_create(ngx_oic_cache_t *cache, u_char *key,
    ngx_oic_cache_class_e entry_class)
{
    ngx_oic_cache_node_t  *n;

    n = ngx_oic_cache_alloc(cache, sizeof(ngx_oic_cache_node_t));
    if (n == NULL) {
        return NULL;
    }

    ngx_memzero(n, sizeof(ngx_oic_cache_node_t));
    ngx_oic_keyed_set(&n->k, key);
    n->entry_class = entry_class;

    ngx_rbtree_insert(&cache->sh->rbtree, &n->k.node);
    ngx_queue_insert_head(&cache->sh->queue[entry_class], &n->k.queue);

    return n;
}


static void
ngx_oic_cache_start_fetch(ngx_oic_cache_t *cache, ngx_oic_cache_node_t *n,
    ngx_msec_t deadline_ms, ngx_oic_cache_res_t *res)
{
    if (++cache->sh->gen == 0) {
        cache->sh->gen = 1;
    }

    n->fetching = 1;
    n->remote_waiters = 0;
    n->held = 0;
    n->gen = cache->sh->gen;
    n->owner = ngx_pid;
    n->deadline = ngx_current_msec + deadline_ms;
    n->last_fetch = ngx_time();

    res->gen = n->gen;
}


static ngx_int_t
ngx_oic_cache_copy(ngx_oic_cache_node_t *n, ngx_oic_cache_req_t *req,
    ngx_pool_t *pool, ngx_oic_cache_res_t *res)
{
    res->value.len = 0;
    res->value.data = NULL;
    res->version = n->value_gen;

    if (req->have_version && req->have_version == n->value_gen) {
        return NGX_OK;
    }

    res->value.len = n->len;

    if (n->len) {
        res->value.data = ngx_pnalloc(pool, n->len);
        if (res->value.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(res->value.data, n->value, n->len);
    }

    return NGX_OK;
}


ngx_oic_cache_rc_e
ngx_oic_cache_acquire(ngx_shm_zone_t *zone, u_char *key,
    ngx_oic_cache_req_t *req, ngx_pool_t *pool, ngx_oic_cache_res_t *res)
{
    time_t                 now;
    uint32_t               gen = req->gen;
    ngx_msec_t             deadline_ms = req->deadline_ms;
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_rc_e     rc;
    ngx_oic_cache_node_t  *n;

    ngx_memzero(res, sizeof(ngx_oic_cache_res_t));
    now = ngx_time();

    ngx_shmtx_lock(&cache->shpool->mutex);

    ngx_oic_cache_expire(cache, 0, 2);

    n = ngx_oic_cache_lookup(cache, key);

    if (n == NULL) {
        n = ngx_oic_cache_create(cache, key, req->entry_class);
        if (n == NULL) {
            rc = NGX_OIC_CACHE_NOMEM;
            goto done;
        }

        ngx_oic_cache_start_fetch(cache, n, deadline_ms, res);
        rc = NGX_OIC_CACHE_OWNER;
        goto done;
    }

    ngx_oic_cache_touch(cache, n);

    if (gen && n->done_gen == gen) {
        /* the result of the fetch this waiter was waiting for */

        if (n->result == NGX_OIC_RESULT_FAILED) {
            res->status = n->status;
            ngx_memcpy(res->error, n->error, sizeof(res->error));
            rc = NGX_OIC_CACHE_FAILED;
            goto done;
        }

        if (n->result == NGX_OIC_RESULT_READY && n->has_value) {
            rc = ngx_oic_cache_copy(n, req, pool, res) == NGX_OK
                 ? NGX_OIC_CACHE_HIT : NGX_OIC_CACHE_NOMEM;
            goto done;
        }
    }

    if (req->fail_fast && n->result == NGX_OIC_RESULT_FAILED
        && now < n->fresh_until && !ngx_oic_cache_fetch_alive(n))
    {
        res->status = n->status;
        ngx_memcpy(res->error, n->error, sizeof(res->error));
        rc = NGX_OIC_CACHE_FAILED;
        goto done;
    }

    if (gen && n->fetching && n->gen == gen && ngx_oic_cache_fetch_alive(n)) {
        res->gen = gen;
        ngx_oic_cache_waiter(n);
        rc = NGX_OIC_CACHE_WAIT;
        goto done;
    }

    if (n->has_value && n->result == NGX_OIC_RESULT_READY
        && (now < n->fresh_until || req->stale_ok))
    {
        if (ngx_oic_cache_copy(n, req, pool, res) != NGX_OK) {
            rc = NGX_OIC_CACHE_NOMEM;
            goto done;
        }

        if (now >= n->fresh_until && req->refresh
            && !ngx_oic_cache_fetch_alive(n))
        {
            ngx_oic_cache_start_fetch(cache, n, deadline_ms, res);
        }

        rc = NGX_OIC_CACHE_HIT;
        goto done;
    }

    if (ngx_oic_cache_fetch_alive(n)) {
        res->gen = n->gen;
        ngx_oic_cache_waiter(n);
        rc = NGX_OIC_CACHE_WAIT;
        goto done;
    }

    ngx_oic_cache_start_fetch(cache, n, deadline_ms, res);
    rc = NGX_OIC_CACHE_OWNER;

done:

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
    ngx_str_t *value, time_t fresh_until, time_t evict_after)
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

    /* the node must not be evicted to make room for its own value */
    ngx_queue_remove(&n->k.queue);
    ngx_queue_init(&n->k.queue);

    ngx_oic_cache_free_value(cache, n);

    p = ngx_oic_cache_alloc(cache, value->len ? value->len : 1);

    ngx_queue_insert_head(&cache->sh->queue[n->entry_class], &n->k.queue);

    if (p == NULL) {
        /*
         * the waiters of other workers cannot get the value: a retryable
         * failure for them, rather than a fetch of their own
         */
        n->result = NGX_OIC_RESULT_FAILED;
        n->status = 503;                        /* Service Unavailable */
        ngx_cpystrn(n->error, (u_char *) "cache_full", sizeof(n->error));
        n->fresh_until = ngx_time() + NGX_OIC_CACHE_NOROOM_RETRY;
        n->evict_after = n->fresh_until;
        goto done;
    }

    ngx_memcpy(p, value->data, value->len);
    n->value = p;
    n->len = value->len;
    n->has_value = 1;
    n->value_gen = gen;
    n->result = NGX_OIC_RESULT_READY;
    n->fresh_until = fresh_until;
    n->evict_after = ngx_max(evict_after, fresh_until);
    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


void
ngx_oic_cache_fail(ngx_shm_zone_t *zone, u_char *key, uint32_t gen,
    ngx_uint_t status, const char *error, time_t stale_retry,
    time_t fail_retry)
{
    ngx_oic_cache_t       *cache = zone->data;
    ngx_oic_cache_node_t  *n;

    ngx_shmtx_lock(&cache->shpool->mutex);

    n = ngx_oic_cache_finish(cache, key, gen);
    if (n == NULL) {
        goto done;
    }

    if (stale_retry && n->has_value) {
        /* keep serving the last good value; retry later */
        n->result = NGX_OIC_RESULT_READY;
        n->fresh_until = stale_retry;
        goto done;
    }

    ngx_oic_cache_free_value(cache, n);

    n->result = NGX_OIC_RESULT_FAILED;
    n->status = status;
    ngx_cpystrn(n->error, (u_char *) error, sizeof(n->error));
    n->fresh_until = fail_retry;
    n->evict_after = ngx_max(fail_retry, ngx_time() + 60);

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);
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


/* The zone's secret, prepared for this configuration's keys. */
static ngx_int_t
ngx_oic_cache_prepare(ngx_shm_zone_t *shm_zone, ngx_oic_cache_t *cache)
{
    cache->mac = oic_mac_new(cache->sh->secret, NGX_OIC_CACHE_SECRET_LEN);

    if (cache->mac == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "oic_auth: cannot prepare the key of zone \"%V\"",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_oic_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t             len;
    ngx_uint_t         i;
    ngx_oic_cache_t   *cache, *ocache;

    cache = shm_zone->data;
    ocache = data;

    if (ocache) {
        /* reload: keep the content, and with it the secret */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return ngx_oic_cache_prepare(shm_zone, cache);
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return ngx_oic_cache_prepare(shm_zone, cache);
    }

    cache->sh = ngx_slab_alloc(cache->shpool, sizeof(ngx_oic_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    /* a new zone, a new secret: nothing in it was derived from another */

    if (oic_random(cache->sh->secret, NGX_OIC_CACHE_SECRET_LEN) != 0) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "oic_auth: no random bytes for the key of zone \"%V\"",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    if (ngx_oic_cache_prepare(shm_zone, cache) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_oic_keyed_insert);
    for (i = 0; i < NGX_OIC_CACHE_CLASSES; i++) {
        ngx_queue_init(&cache->sh->queue[i]);
    }

    len = sizeof(" in oic_auth_cache_zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in oic_auth_cache_zone \"%V\"%Z",
                &shm_zone->shm.name);

    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_oic_cache_cleanup(void *data)
{
    ngx_oic_cache_t  *cache = data;

    oic_mac_free(cache->mac);
    cache->mac = NULL;
}


/* The zone's context in the configuration's pool; freed with it. */
ngx_oic_cache_t *
ngx_oic_cache_create_ctx(ngx_pool_t *pool)
{
    ngx_oic_cache_t     *cache;
    ngx_pool_cleanup_t  *cln;

    cache = ngx_pcalloc(pool, sizeof(ngx_oic_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_oic_cache_cleanup;
    cln->data = cache;

    return cache;
}
