/*
 * The IAM guard (see ngx_http_oic_auth_iam_guard.h): the shared memory zone
 * "oic_auth_iam_guard" and its records, an rbtree keyed by 32-byte hashes in
 * a slab pool, as in ngx_http_limit_req_module. Endpoint and budget records
 * (a few, one per configured endpoint and rate) are never evicted; failure
 * records (one per refused client id or user) are, least recently used
 * first, when the zone is full. The zone mutex is held for the few steps of
 * one decision, never across I/O, and never together with a cache zone's.
 *
 * A worker that dies during a call leaves its connection slot taken until
 * the slot's deadline; a later caller takes it over then.
 */

#include "ngx_http_oic_auth.h"


typedef enum {
    NGX_HTTP_OIC_AUTH_REC_ENDPOINT = 0,
    NGX_HTTP_OIC_AUTH_REC_BUDGET,
    NGX_HTTP_OIC_AUTH_REC_CLIENT
} ngx_http_oic_auth_rec_e;


typedef struct {
    ngx_pid_t                   pid;        /* 0: free */
    uint32_t                    gen;
    ngx_msec_t                  deadline;
} ngx_http_oic_auth_guard_slot_t;


typedef struct {
    ngx_oic_keyed_t             k;          /* node, LRU link, key */
    ngx_uint_t                  type;
} ngx_http_oic_auth_rec_t;


typedef struct {
    ngx_http_oic_auth_rec_t     rec;
    ngx_uint_t                  blocked;
    ngx_msec_t                  blocked_until;
    ngx_msec_t                  block_ms;   /* the next block without
                                               Retry-After */
    time_t                      log_at[NGX_HTTP_OIC_AUTH_GUARD_KINDS];
    ngx_uint_t                  log_count[NGX_HTTP_OIC_AUTH_GUARD_KINDS];
    ngx_http_oic_auth_guard_slot_t  slots[NGX_HTTP_OIC_AUTH_GUARD_SLOTS];
} ngx_http_oic_auth_endpoint_t;


typedef struct {
    ngx_http_oic_auth_rec_t     rec;
    ngx_int_t                   excess;     /* * 1000, as limit_req */
    ngx_msec_t                  last;
} ngx_http_oic_auth_bucket_t;


typedef struct {
    ngx_http_oic_auth_rec_t     rec;
    time_t                      start;      /* of the window */
    time_t                      end;
    ngx_uint_t                  count;      /* IAM's refusals in it */
    ngx_uint_t                  logged;     /* its local refusal logged */
} ngx_http_oic_auth_client_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 clients;    /* LRU, client records only */
    ngx_uint_t                  count;      /* records */
    ngx_uint_t                  evictions;
    uint32_t                    slot_gen;
    u_char                      secret[NGX_OIC_CACHE_SECRET_LEN];
} ngx_http_oic_auth_guard_sh_t;


typedef struct {
    ngx_http_oic_auth_guard_sh_t  *sh;
    ngx_slab_pool_t               *shpool;
    oic_mac_t                     *mac;
} ngx_http_oic_auth_guard_t;


static ngx_str_t  ngx_http_oic_auth_guard_name =
    ngx_string("oic_auth_iam_guard");


/* ---- records ---- */

static ngx_http_oic_auth_rec_t *
ngx_http_oic_auth_guard_get(ngx_http_oic_auth_guard_t *g, u_char *key,
    ngx_uint_t type, size_t size)
{
    ngx_uint_t                tries;
    ngx_queue_t              *q;
    ngx_http_oic_auth_rec_t  *rec;

    rec = (ngx_http_oic_auth_rec_t *) ngx_oic_keyed_lookup(&g->sh->rbtree,
                                                            key);
    if (rec) {
        if (rec->type != type) {
            return NULL;
        }

        if (type == NGX_HTTP_OIC_AUTH_REC_CLIENT) {
            ngx_queue_remove(&rec->k.queue);
            ngx_queue_insert_head(&g->sh->clients, &rec->k.queue);
        }

        return rec;
    }

    for (tries = 0; /* void */ ; tries++) {
        rec = ngx_slab_calloc_locked(g->shpool, size);
        if (rec) {
            break;
        }

        /* full: the least recently refused clients go */

        if (tries == 8 || ngx_queue_empty(&g->sh->clients)) {
            return NULL;
        }

        q = ngx_queue_last(&g->sh->clients);
        ngx_queue_remove(q);
        rec = ngx_queue_data(q, ngx_http_oic_auth_rec_t, k.queue);
        ngx_rbtree_delete(&g->sh->rbtree, &rec->k.node);
        ngx_slab_free_locked(g->shpool, rec);
        g->sh->count--;
        g->sh->evictions++;
    }

    ngx_oic_keyed_set(&rec->k, key);
    rec->type = type;
    ngx_rbtree_insert(&g->sh->rbtree, &rec->k.node);
    g->sh->count++;

    if (type == NGX_HTTP_OIC_AUTH_REC_CLIENT) {
        ngx_queue_insert_head(&g->sh->clients, &rec->k.queue);

    } else {
        ngx_queue_init(&rec->k.queue);
    }

    return rec;
}


static ngx_http_oic_auth_endpoint_t *
ngx_http_oic_auth_guard_endpoint(ngx_http_oic_auth_guard_t *g, u_char *key)
{
    return (ngx_http_oic_auth_endpoint_t *)
           ngx_http_oic_auth_guard_get(g, key, NGX_HTTP_OIC_AUTH_REC_ENDPOINT,
                                       sizeof(ngx_http_oic_auth_endpoint_t));
}


void
ngx_http_oic_auth_guard_endpoint_key(ngx_str_t *url, u_char *key)
{
    oic_str_t  field;

    field.data = (char *) url->data;
    field.len = url->len;

    oic_cache_key("endpoint", &field, 1, key);
}


void
ngx_http_oic_auth_guard_client_key(ngx_shm_zone_t *zone, const char *tag,
    oic_str_t *fields, ngx_uint_t n, u_char *key)
{
    ngx_http_oic_auth_guard_t  *g = zone->data;

    oic_mac_key(g->mac, tag, fields, n, key);
}


/* ---- 429 ---- */

ngx_msec_t
ngx_http_oic_auth_guard_blocked(ngx_shm_zone_t *zone, u_char *endpoint)
{
    ngx_msec_t                     left;
    ngx_msec_int_t                 d;
    ngx_http_oic_auth_guard_t     *g = zone->data;
    ngx_http_oic_auth_endpoint_t  *e;

    left = 0;

    ngx_shmtx_lock(&g->shpool->mutex);

    e = (ngx_http_oic_auth_endpoint_t *)
        ngx_oic_keyed_lookup(&g->sh->rbtree, endpoint);

    if (e && e->rec.type == NGX_HTTP_OIC_AUTH_REC_ENDPOINT && e->blocked) {
        d = (ngx_msec_int_t) (e->blocked_until - ngx_current_msec);

        if (d > 0) {
            left = (ngx_msec_t) d;

        } else {
            e->blocked = 0;
        }
    }

    ngx_shmtx_unlock(&g->shpool->mutex);

    return left;
}


ngx_msec_t
ngx_http_oic_auth_guard_block(ngx_shm_zone_t *zone, u_char *endpoint,
    time_t retry_after)
{
    ngx_msec_t                     ms;
    ngx_http_oic_auth_guard_t     *g = zone->data;
    ngx_http_oic_auth_endpoint_t  *e;

    ngx_shmtx_lock(&g->shpool->mutex);

    e = ngx_http_oic_auth_guard_endpoint(g, endpoint);

    if (retry_after >= 0) {
        ms = (ngx_msec_t) ngx_min(retry_after,
                                  NGX_HTTP_OIC_AUTH_GUARD_BLOCK_MAX) * 1000;

    } else {
        /* no Retry-After: 1 s, doubling while IAM keeps answering 429 */
        ms = (e && e->block_ms) ? e->block_ms : 1000;
    }

    if (e) {
        e->block_ms = ngx_min(((e->block_ms ? e->block_ms : 1000) * 2),
                              60000);

        if (!e->blocked
            || (ngx_msec_int_t) (e->blocked_until - ngx_current_msec)
               < (ngx_msec_int_t) ms)
        {
            e->blocked = 1;
            e->blocked_until = ngx_current_msec + ms;
        }
    }

    ngx_shmtx_unlock(&g->shpool->mutex);

    return ms;
}


void
ngx_http_oic_auth_guard_answered(ngx_shm_zone_t *zone, u_char *endpoint)
{
    ngx_http_oic_auth_guard_t     *g = zone->data;
    ngx_http_oic_auth_endpoint_t  *e;

    ngx_shmtx_lock(&g->shpool->mutex);

    e = (ngx_http_oic_auth_endpoint_t *)
        ngx_oic_keyed_lookup(&g->sh->rbtree, endpoint);

    if (e && e->rec.type == NGX_HTTP_OIC_AUTH_REC_ENDPOINT) {
        e->block_ms = 0;
    }

    ngx_shmtx_unlock(&g->shpool->mutex);
}


/* ---- the budget ---- */

ngx_int_t
ngx_http_oic_auth_guard_budget(ngx_shm_zone_t *zone,
    ngx_http_oic_auth_budget_t *budget, ngx_uint_t force,
    time_t *retry_after)
{
    ngx_int_t                    rc, excess;
    ngx_msec_int_t               ms;
    ngx_http_oic_auth_bucket_t  *b;
    ngx_http_oic_auth_guard_t   *g = zone->data;

    if (budget->rate == 0) {
        return NGX_OK;
    }

    rc = NGX_OK;

    ngx_shmtx_lock(&g->shpool->mutex);

    b = (ngx_http_oic_auth_bucket_t *)
        ngx_oic_keyed_lookup(&g->sh->rbtree, budget->key);

    if (b == NULL) {
        /* the first call is free, as in limit_req: burst + 1 at once */

        b = (ngx_http_oic_auth_bucket_t *)
            ngx_http_oic_auth_guard_get(g, budget->key,
                                        NGX_HTTP_OIC_AUTH_REC_BUDGET,
                                        sizeof(ngx_http_oic_auth_bucket_t));
        if (b) {
            b->excess = 0;
            b->last = ngx_current_msec;
        }

        goto done;
    }

    if (b->rec.type != NGX_HTTP_OIC_AUTH_REC_BUDGET) {
        goto done;
    }

    ms = (ngx_msec_int_t) (ngx_current_msec - b->last);

    if (ms < 0) {
        ms = 0;
    }

    excess = b->excess - (ngx_int_t) (budget->rate * ms / 1000) + 1000;

    if (excess < 0) {
        excess = 0;
    }

    if ((ngx_uint_t) excess > budget->burst && !force) {
        /* ms until one more call fits */
        ms = (ngx_msec_int_t) ((excess - budget->burst) * 1000
                               / budget->rate);
        *retry_after = ngx_max(1, (ms + 999) / 1000);
        rc = NGX_BUSY;
        goto done;
    }

    b->excess = excess;
    b->last = ngx_current_msec;

done:

    ngx_shmtx_unlock(&g->shpool->mutex);

    return rc;
}


/* ---- connection slots ---- */

ngx_int_t
ngx_http_oic_auth_guard_slot(ngx_shm_zone_t *zone, u_char *endpoint,
    ngx_uint_t max, ngx_msec_t deadline_ms, ngx_http_oic_auth_slot_t *slot)
{
    ngx_int_t                       rc, free;
    ngx_uint_t                      i, used;
    ngx_http_oic_auth_guard_t      *g = zone->data;
    ngx_http_oic_auth_endpoint_t   *e;
    ngx_http_oic_auth_guard_slot_t *s;

    slot->index = -1;
    rc = NGX_BUSY;

    ngx_shmtx_lock(&g->shpool->mutex);

    e = ngx_http_oic_auth_guard_endpoint(g, endpoint);
    if (e == NULL) {
        /* no room to count: let the call through */
        rc = NGX_OK;
        goto done;
    }

    used = 0;
    free = -1;

    for (i = 0; i < NGX_HTTP_OIC_AUTH_GUARD_SLOTS; i++) {
        s = &e->slots[i];

        if (s->pid
            && (ngx_msec_int_t) (s->deadline - ngx_current_msec) > 0)
        {
            used++;
            continue;
        }

        if (free == -1) {
            free = i;
        }
    }

    if (used >= max || free == -1) {
        goto done;
    }

    if (++g->sh->slot_gen == 0) {
        g->sh->slot_gen = 1;
    }

    s = &e->slots[free];
    s->pid = ngx_pid;
    s->gen = g->sh->slot_gen;
    s->deadline = ngx_current_msec + deadline_ms;

    slot->index = free;
    slot->gen = s->gen;
    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&g->shpool->mutex);

    return rc;
}


void
ngx_http_oic_auth_guard_slot_free(ngx_shm_zone_t *zone, u_char *endpoint,
    ngx_http_oic_auth_slot_t *slot)
{
    ngx_http_oic_auth_guard_t      *g = zone->data;
    ngx_http_oic_auth_endpoint_t   *e;
    ngx_http_oic_auth_guard_slot_t *s;

    if (slot->index < 0) {
        return;
    }

    ngx_shmtx_lock(&g->shpool->mutex);

    e = (ngx_http_oic_auth_endpoint_t *)
        ngx_oic_keyed_lookup(&g->sh->rbtree, endpoint);

    if (e && e->rec.type == NGX_HTTP_OIC_AUTH_REC_ENDPOINT) {
        s = &e->slots[slot->index];

        /* not one taken over meanwhile */
        if (s->gen == slot->gen) {
            s->pid = 0;
        }
    }

    ngx_shmtx_unlock(&g->shpool->mutex);

    slot->index = -1;
}


/* ---- the failure limit ---- */

/*
 * The client record of key (the zone locked), its window started anew
 * (ending at end) when it has none running. NULL: no room.
 */
static ngx_http_oic_auth_client_t *
ngx_http_oic_auth_guard_window(ngx_http_oic_auth_guard_t *g, u_char *key,
    time_t now, time_t end)
{
    ngx_http_oic_auth_client_t  *c;

    c = (ngx_http_oic_auth_client_t *)
        ngx_http_oic_auth_guard_get(g, key, NGX_HTTP_OIC_AUTH_REC_CLIENT,
                                    sizeof(ngx_http_oic_auth_client_t));

    if (c && (c->count == 0 || now >= c->end)) {
        c->start = now;
        c->end = end;
        c->count = 0;
        c->logged = 0;
    }

    return c;
}


ngx_uint_t
ngx_http_oic_auth_guard_refused(ngx_shm_zone_t *zone, u_char *key,
    time_t window)
{
    time_t                       now;
    ngx_uint_t                   count;
    ngx_http_oic_auth_client_t  *c;
    ngx_http_oic_auth_guard_t   *g = zone->data;

    now = ngx_time();
    count = 0;

    ngx_shmtx_lock(&g->shpool->mutex);

    c = ngx_http_oic_auth_guard_window(g, key, now, now + window);

    if (c) {
        count = ++c->count;
    }

    ngx_shmtx_unlock(&g->shpool->mutex);

    return count;
}


time_t
ngx_http_oic_auth_guard_throttled(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t limit, ngx_uint_t *first)
{
    time_t                       now, left;
    ngx_http_oic_auth_client_t  *c;
    ngx_http_oic_auth_guard_t   *g = zone->data;

    now = ngx_time();
    left = 0;
    *first = 0;

    ngx_shmtx_lock(&g->shpool->mutex);

    c = (ngx_http_oic_auth_client_t *)
        ngx_oic_keyed_lookup(&g->sh->rbtree, key);

    if (c && c->rec.type == NGX_HTTP_OIC_AUTH_REC_CLIENT
        && c->count >= limit && now < c->end)
    {
        left = c->end - now;

        if (!c->logged) {
            c->logged = 1;
            *first = 1;
        }
    }

    ngx_shmtx_unlock(&g->shpool->mutex);

    return left;
}


/* ---- the fleet's state merged in (fleet mode) ---- */

void
ngx_http_oic_auth_guard_refused_sync(ngx_shm_zone_t *zone, u_char *key,
    ngx_uint_t count, ngx_msec_t left_ms)
{
    time_t                       now, end;
    ngx_http_oic_auth_client_t  *c;
    ngx_http_oic_auth_guard_t   *g = zone->data;

    now = ngx_time();
    end = now + (time_t) ((left_ms + 999) / 1000);

    ngx_shmtx_lock(&g->shpool->mutex);

    c = ngx_http_oic_auth_guard_window(g, key, now, end);

    if (c && count > c->count) {
        c->count = count;
        c->end = ngx_max(c->end, end);
    }

    ngx_shmtx_unlock(&g->shpool->mutex);
}


void
ngx_http_oic_auth_guard_block_sync(ngx_shm_zone_t *zone, u_char *endpoint,
    ngx_msec_t ms)
{
    ngx_http_oic_auth_guard_t     *g = zone->data;
    ngx_http_oic_auth_endpoint_t  *e;

    ngx_shmtx_lock(&g->shpool->mutex);

    e = ngx_http_oic_auth_guard_endpoint(g, endpoint);

    if (e
        && (!e->blocked
            || (ngx_msec_int_t) (e->blocked_until - ngx_current_msec)
               < (ngx_msec_int_t) ms))
    {
        e->blocked = 1;
        e->blocked_until = ngx_current_msec + ms;
    }

    ngx_shmtx_unlock(&g->shpool->mutex);
}


void
ngx_http_oic_auth_guard_budget_sync(ngx_shm_zone_t *zone,
    ngx_http_oic_auth_budget_t *budget, ngx_msec_t ms)
{
    ngx_int_t                    excess, level;
    ngx_msec_int_t               elapsed;
    ngx_http_oic_auth_bucket_t  *b;
    ngx_http_oic_auth_guard_t   *g = zone->data;

    if (budget->rate == 0) {
        return;
    }

    /*
     * the level that makes the next call wait ms: the bucket refuses it as
     * the fleet's did (the call itself adds 1000)
     */
    excess = (ngx_int_t) (budget->burst + budget->rate * ms / 1000) - 1000;

    ngx_shmtx_lock(&g->shpool->mutex);

    b = (ngx_http_oic_auth_bucket_t *)
        ngx_http_oic_auth_guard_get(g, budget->key,
                                    NGX_HTTP_OIC_AUTH_REC_BUDGET,
                                    sizeof(ngx_http_oic_auth_bucket_t));
    if (b) {
        elapsed = (ngx_msec_int_t) (ngx_current_msec - b->last);
        level = b->excess
                - (ngx_int_t) (budget->rate * ngx_max(elapsed, 0) / 1000);

        if (level < excess) {
            b->excess = ngx_max(excess, 0);
            b->last = ngx_current_msec;
        }
    }

    ngx_shmtx_unlock(&g->shpool->mutex);
}


/* ---- one log line per kind of refusal per interval ---- */

ngx_uint_t
ngx_http_oic_auth_guard_log_due(ngx_shm_zone_t *zone, u_char *endpoint,
    ngx_uint_t kind)
{
    time_t                         now;
    ngx_uint_t                     n;
    ngx_http_oic_auth_guard_t     *g = zone->data;
    ngx_http_oic_auth_endpoint_t  *e;

    now = ngx_time();
    n = 0;

    ngx_shmtx_lock(&g->shpool->mutex);

    e = ngx_http_oic_auth_guard_endpoint(g, endpoint);

    if (e) {
        e->log_count[kind]++;

        if (e->log_at[kind] == 0
            || now - e->log_at[kind] >= NGX_HTTP_OIC_AUTH_GUARD_LOG_EVERY)
        {
            n = e->log_count[kind];
            e->log_count[kind] = 0;
            e->log_at[kind] = now;
        }
    }

    ngx_shmtx_unlock(&g->shpool->mutex);

    return n;
}


/* ---- the zone ---- */

static ngx_int_t
ngx_http_oic_auth_guard_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_oic_auth_guard_t  *g, *og;

    g = shm_zone->data;
    og = data;

    if (og) {
        /* reload: the blocks, budgets, slots and counts go on */
        g->sh = og->sh;
        g->shpool = og->shpool;
        return ngx_oic_cache_secret(shm_zone, g->sh->secret, 0, &g->mac);
    }

    g->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        g->sh = g->shpool->data;
        return ngx_oic_cache_secret(shm_zone, g->sh->secret, 0, &g->mac);
    }

    g->sh = ngx_slab_calloc(g->shpool, sizeof(ngx_http_oic_auth_guard_sh_t));
    if (g->sh == NULL) {
        return NGX_ERROR;
    }

    g->shpool->data = g->sh;

    if (ngx_oic_cache_secret(shm_zone, g->sh->secret, 1, &g->mac) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_rbtree_init(&g->sh->rbtree, &g->sh->sentinel, ngx_oic_keyed_insert);
    ngx_queue_init(&g->sh->clients);

    return ngx_oic_cache_log_ctx(shm_zone, g->shpool, "oic_auth zone");
}


ngx_shm_zone_t *
ngx_http_oic_auth_guard_zone(ngx_conf_t *cf)
{
    ngx_shm_zone_t             *shm_zone;
    ngx_http_oic_auth_guard_t  *g;

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_oic_auth_guard_name,
                                     NGX_HTTP_OIC_AUTH_GUARD_SIZE,
                                     &ngx_http_oic_auth_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        if (shm_zone->init != ngx_http_oic_auth_guard_init_zone) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "zone name \"%V\" is reserved by oic_auth",
                               &ngx_http_oic_auth_guard_name);
            return NULL;
        }

        return shm_zone;
    }

    g = ngx_pcalloc(cf->pool, sizeof(ngx_http_oic_auth_guard_t));
    if (g == NULL) {
        return NULL;
    }

    if (ngx_oic_cache_mac_cleanup(cf->pool, &g->mac) != NGX_OK) {
        return NULL;
    }

    shm_zone->init = ngx_http_oic_auth_guard_init_zone;
    shm_zone->data = g;

    return shm_zone;
}


/* The zone's gauges, for the metrics. */
ngx_int_t
ngx_http_oic_auth_guard_stats(ngx_shm_zone_t *shm_zone,
    ngx_oic_zone_stats_t *st)
{
    ngx_http_oic_auth_guard_t  *g;

    if (shm_zone->init != ngx_http_oic_auth_guard_init_zone) {
        return NGX_DECLINED;
    }

    g = shm_zone->data;

    return ngx_oic_zone_stats(g->shpool, &g->sh->count, 1, &g->sh->evictions,
                              st);
}
