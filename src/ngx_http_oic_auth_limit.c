/*
 * Limits applied after authentication, keyed by what the module verified:
 * the client id (basic, once IAM accepted the credentials), the subject
 * (bearer, once signature, claims and scopes passed), the user (exchange,
 * once the Entra token passed, before the IAM call), or any key= built from
 * them. This file owns
 *
 *   - the limit zones (oic_auth_limit_zone): a leaky bucket per key in
 *     shared memory, as in ngx_http_limit_req_module (slab, rbtree, LRU,
 *     excess in milli-requests, the old zone kept on reload). Keys are
 *     salted hashes: no client id or user in clear in shared memory;
 *   - the oic_auth_limit directive and its inheritance (a level without
 *     one inherits the outer level's list);
 *   - the check the modes call once the caller is authenticated: all of a
 *     location's limits must pass; over a limit, 429 with Retry-After and
 *     one log line per key per 10 s; within a burst without nodelay, the
 *     delay (the request parked on its timer, as while it waits for IAM);
 *   - the value of $oic_auth_limit_status.
 *
 * A request is counted once: the first check in a main request, in one of
 * its subrequests or in a location it was redirected to decides, and later
 * passes (a request resumed after IAM or after its delay, another location)
 * go through, as with limit_req.
 */

#include <openssl/rand.h>

#include "ngx_http_oic_auth.h"


#define NGX_HTTP_OIC_AUTH_LIMIT_PASSED    1
#define NGX_HTTP_OIC_AUTH_LIMIT_DELAYED   2
#define NGX_HTTP_OIC_AUTH_LIMIT_REJECTED  3

#define NGX_HTTP_OIC_AUTH_LIMIT_LOG_EVERY  10000        /* ms, per key */
#define NGX_HTTP_OIC_AUTH_LIMIT_MAX_RATE   1000000      /* r/s */
#define NGX_HTTP_OIC_AUTH_LIMIT_MAX_MS     1000000000   /* ms of drain */


/* one key's bucket: 120 bytes, a 128-byte slab slot */
typedef struct {
    ngx_oic_keyed_t                  k;         /* rbtree node, LRU, key */
    ngx_msec_t                       last;      /* 0: no request counted */
    ngx_uint_t                       excess;    /* milli-requests */
    ngx_msec_t                       log_next;  /* no refusal line before */
    uint32_t                         count;     /* checks holding the node */
    uint32_t                         refused;   /* since the last line */
} ngx_http_oic_auth_limit_node_t;


typedef struct {
    ngx_rbtree_t                     rbtree;
    ngx_rbtree_node_t                sentinel;
    ngx_queue_t                      queue;
    u_char                           salt[NGX_OIC_KEY_LEN];
    ngx_uint_t                       count;     /* keys */
    ngx_uint_t                       evictions;
} ngx_http_oic_auth_limit_sh_t;


typedef struct {
    ngx_http_oic_auth_limit_sh_t    *sh;
    ngx_slab_pool_t                 *shpool;
    ngx_uint_t                       rate;      /* milli-requests per s */
    ngx_http_oic_auth_limit_node_t  *node;      /* held by the running check */
    ngx_http_oic_auth_mgroup_t      *metrics;
} ngx_http_oic_auth_limit_zone_t;


/* one oic_auth_limit */
typedef struct {
    ngx_shm_zone_t                  *shm_zone;
    ngx_http_complex_value_t        *key;       /* NULL: the identity */
    ngx_uint_t                       burst;     /* milli-requests */
    ngx_uint_t                       delay;     /* excess let through now */
} ngx_http_oic_auth_limit_t;


/* a main request's outcome, across internal redirects and subrequests */
typedef struct {
    ngx_http_request_t              *main;
    ngx_uint_t                       status;    /* 0: no limit applied */
    ngx_uint_t                       checked;
    ngx_http_oic_auth_state_e        resume;    /* after the delay */
} ngx_http_oic_auth_limit_req_t;


static ngx_http_oic_auth_limit_req_t *ngx_http_oic_auth_limit_req(
    ngx_http_request_t *r, ngx_uint_t create);
static void ngx_http_oic_auth_limit_mark(void *data);
static ngx_int_t ngx_http_oic_auth_limit_identity(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_str_t *id, char **what);
static ngx_uint_t ngx_http_oic_auth_limit_excess(
    ngx_http_oic_auth_limit_zone_t *zone, ngx_http_oic_auth_limit_node_t *lr,
    ngx_msec_t now, ngx_msec_int_t *msp);
static ngx_int_t ngx_http_oic_auth_limit_lookup(
    ngx_http_oic_auth_limit_t *limit, u_char *hash, ngx_uint_t *ep,
    ngx_uint_t account, ngx_int_t *quiet);
static ngx_msec_t ngx_http_oic_auth_limit_account(
    ngx_http_oic_auth_limit_t *limits, ngx_uint_t n, ngx_uint_t *ep,
    ngx_http_oic_auth_limit_t **limit);
static void ngx_http_oic_auth_limit_unlock(ngx_http_oic_auth_limit_t *limits,
    ngx_uint_t n);
static void ngx_http_oic_auth_limit_verdict(ngx_http_oic_auth_limit_t *limit,
    ngx_uint_t excess);
static void ngx_http_oic_auth_limit_expire(
    ngx_http_oic_auth_limit_zone_t *zone, ngx_uint_t n);
static void ngx_http_oic_auth_limit_log(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_http_oic_auth_limit_t *limit,
    ngx_str_t *key, ngx_uint_t excess, ngx_int_t quiet);
static ngx_int_t ngx_http_oic_auth_limit_reject(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_http_oic_auth_limit_t *limit,
    ngx_uint_t excess);
static void ngx_http_oic_auth_limit_delayed(ngx_event_t *ev);
static ngx_int_t ngx_http_oic_auth_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


/* the tag of limit zones: a cache zone of the same name is another use */
static ngx_uint_t  ngx_http_oic_auth_limit_tag;


static ngx_str_t  ngx_http_oic_auth_limit_status[] = {
    ngx_string("PASSED"),
    ngx_string("DELAYED"),
    ngx_string("REJECTED")
};


/*
 * The caller is authenticated: NGX_OK (go on), NGX_AGAIN (delayed: the
 * request is resumed in the state it had), or the 429 answer.
 */
ngx_int_t
ngx_http_oic_auth_limit_check(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    char                            *what;
    u_char                           hash[NGX_OIC_KEY_LEN];
    oic_str_t                        fields[3];
    ngx_int_t                        rc, quiet;
    ngx_str_t                        key, id;
    ngx_uint_t                       n, excess, applied;
    ngx_msec_t                       delay;
    ngx_http_oic_auth_limit_t       *limit, *limits;
    ngx_http_oic_auth_limit_req_t   *lr;
    ngx_http_oic_auth_limit_zone_t  *zone;

    /* what the mode verified is the key: $oic_auth_* show it from now */
    ctx->verified = 1;

    if (lcf->limits == NULL) {
        return NGX_OK;
    }

    lr = ngx_http_oic_auth_limit_req(r, 1);
    if (lr == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (lr->checked) {
        return NGX_OK;
    }

    lr->checked = 1;

    limits = lcf->limits->elts;

    ngx_str_null(&id);
    what = NULL;
    limit = NULL;
    zone = NULL;
    excess = 0;
    applied = 0;
    quiet = -1;
    rc = NGX_DECLINED;

    for (n = 0; n < lcf->limits->nelts; n++) {

        limit = &limits[n];
        zone = limit->shm_zone->data;

        if (limit->key) {
            if (ngx_http_complex_value(r, limit->key, &key) != NGX_OK) {
                ngx_http_oic_auth_limit_unlock(limits, n);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            fields[1].data = "key";

        } else {
            if (what == NULL
                && ngx_http_oic_auth_limit_identity(r, ctx, &id, &what)
                   != NGX_OK)
            {
                ngx_http_oic_auth_limit_unlock(limits, n);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            key = id;
            fields[1].data = what;
        }

        /* as with limit_req, an empty key is not limited */

        if (key.len == 0) {
            continue;
        }

        /* a salted hash: the zone never holds the key in clear */

        fields[0].data = (char *) zone->sh->salt;
        fields[0].len = NGX_OIC_KEY_LEN;
        fields[1].len = ngx_strlen(fields[1].data);
        fields[2].data = (char *) key.data;
        fields[2].len = key.len;

        oic_cache_key("limit", fields, 3, hash);

        ngx_shmtx_lock(&zone->shpool->mutex);

        rc = ngx_http_oic_auth_limit_lookup(limit, hash, &excess,
                                            n == lcf->limits->nelts - 1,
                                            &quiet);

        ngx_shmtx_unlock(&zone->shpool->mutex);

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "oic_auth: limit[%ui]: %i %ui.%03ui",
                       n, rc, excess / 1000, excess % 1000);

        if (rc == NGX_DECLINED) {
            continue;
        }

        applied = 1;

        if (rc == NGX_BUSY) {
            break;
        }
    }

    if (rc == NGX_BUSY) {
        ngx_http_oic_auth_limit_unlock(limits, n);
        lr->status = NGX_HTTP_OIC_AUTH_LIMIT_REJECTED;
        ngx_http_oic_auth_count(zone->metrics, NGX_HTTP_OIC_AUTH_F_LIMIT,
                                NGX_HTTP_OIC_AUTH_M_REJECTED);

        if (quiet >= 0) {
            ngx_http_oic_auth_limit_log(r, ctx, limit, &key, excess, quiet);
        }

        return ngx_http_oic_auth_limit_reject(r, ctx, limit, excess);
    }

    if (!applied) {
        /* no key, or no room in a full zone: not limited */
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        /* the last limit did not count (empty key, full zone) */
        excess = 0;
    }

    limit = &limits[lcf->limits->nelts - 1];

    if (rc == NGX_OK) {
        /* the last limit's verdict; account() gives the others' */
        ngx_http_oic_auth_limit_verdict(limit, excess);
    }

    delay = ngx_http_oic_auth_limit_account(limits, lcf->limits->nelts,
                                            &excess, &limit);

    if (delay == 0) {
        lr->status = NGX_HTTP_OIC_AUTH_LIMIT_PASSED;
        return NGX_OK;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "oic_auth: delaying the request %M ms, excess: "
                   "%ui.%03ui, by zone \"%V\"", delay, excess / 1000,
                   excess % 1000, &limit->shm_zone->shm.name);

    lr->status = NGX_HTTP_OIC_AUTH_LIMIT_DELAYED;

    /* basic and bearer are done; exchange goes on to IAM afterwards */
    lr->resume = (ctx->state == NGX_HTTP_OIC_AUTH_DONE)
                 ? NGX_HTTP_OIC_AUTH_DONE : NGX_HTTP_OIC_AUTH_RETRY;

    /* the parking timer: the request's cleanup removes it if it goes */

    ctx->poll.handler = ngx_http_oic_auth_limit_delayed;
    ctx->poll.data = ctx;
    ctx->poll.log = r->connection->log;
    ngx_add_timer(&ctx->poll, delay);

    ctx->state = NGX_HTTP_OIC_AUTH_WAITING;
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


static void
ngx_http_oic_auth_limit_delayed(ngx_event_t *ev)
{
    ngx_http_oic_auth_ctx_t        *ctx;
    ngx_http_oic_auth_limit_req_t  *lr;

    ctx = ev->data;
    lr = ngx_http_oic_auth_limit_req(ctx->request, 0);

    ctx->state = lr ? lr->resume : NGX_HTTP_OIC_AUTH_RETRY;

    ngx_http_oic_auth_resume(ctx->request);
}


/* The refusal's line: who, which zone, the key= value, the excess. */
static void
ngx_http_oic_auth_limit_log(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_http_oic_auth_limit_t *limit,
    ngx_str_t *key, ngx_uint_t excess, ngx_int_t quiet)
{
    char       *what;
    u_char      who[NGX_HTTP_OIC_AUTH_LOG_ID], kid[NGX_HTTP_OIC_AUTH_LOG_ID];
    u_char      keyed[NGX_HTTP_OIC_AUTH_LOG_ID + 16];
    ngx_str_t   id;

    if (ngx_http_oic_auth_limit_identity(r, ctx, &id, &what) != NGX_OK) {
        ngx_str_null(&id);
    }

    ngx_http_oic_auth_log_id(who, sizeof(who), id.data, id.len);

    keyed[0] = '\0';

    if (limit->key) {
        ngx_http_oic_auth_log_id(kid, sizeof(kid), key->data, key->len);
        ngx_snprintf(keyed, sizeof(keyed), " (key \"%s\")%Z", kid);
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "oic_auth: limiting requests of %s \"%s\" by zone \"%V\"%s, "
                  "excess: %ui.%03ui, answering 429; %i more refused since "
                  "this key's last line", what, who,
                  &limit->shm_zone->shm.name, keyed,
                  excess / 1000, excess % 1000, quiet);
}


/* 429 Too Many Requests with Retry-After (RFC 6585): when it would pass */
static ngx_int_t
ngx_http_oic_auth_limit_reject(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_http_oic_auth_limit_t *limit,
    ngx_uint_t excess)
{
    ngx_uint_t                       wait;
    ngx_table_elt_t                 *h;
    ngx_http_oic_auth_limit_zone_t  *zone;

    zone = limit->shm_zone->data;

    /* ms until the excess drains to the burst, in whole seconds */
    wait = (excess - limit->burst) * 1000 / zone->rate;
    wait = ngx_max((wait + 999) / 1000, 1);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (h->value.data == NULL) {
        h->hash = 0;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Retry-After");
    h->value.len = ngx_sprintf(h->value.data, "%ui", wait) - h->value.data;

    return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_TOO_MANY_REQUESTS,
                                  "rate_limited");
}


/*
 * The default key: what the mode authenticated. A tag keeps a client id
 * and a user of the same name apart.
 */
static ngx_int_t
ngx_http_oic_auth_limit_identity(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_str_t *id, char **what)
{
    char       *sub;
    ngx_int_t   rc;

    switch (ctx->mode) {

    case NGX_HTTP_OIC_AUTH_BASIC:
        *what = "client";
        *id = ctx->client_id;
        return NGX_OK;

    case NGX_HTTP_OIC_AUTH_EXCHANGE:
        *what = "user";
        *id = ctx->user;
        return NGX_OK;

    default:
        *what = "subject";

        sub = oic_jwt_claim(ctx->jwt, "sub", 3);
        if (sub == NULL) {
            ngx_str_null(id);
            return NGX_OK;
        }

        rc = ngx_http_oic_auth_set_str(r->pool, id, sub, ngx_strlen(sub));
        oic_free(sub);

        return rc;
    }
}


/* The request's record, in the main request's pool (a marked cleanup). */
static ngx_http_oic_auth_limit_req_t *
ngx_http_oic_auth_limit_req(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_oic_auth_limit_req_t  *lr;

    for (cln = r->main->pool->cleanup; cln; cln = cln->next) {

        if (cln->handler != ngx_http_oic_auth_limit_mark) {
            continue;
        }

        lr = cln->data;

        if (lr->main == r->main) {
            return lr;
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->main->pool,
                               sizeof(ngx_http_oic_auth_limit_req_t));
    if (cln == NULL) {
        return NULL;
    }

    lr = cln->data;
    ngx_memzero(lr, sizeof(ngx_http_oic_auth_limit_req_t));
    lr->main = r->main;

    cln->handler = ngx_http_oic_auth_limit_mark;

    return lr;
}


/* only marks the record among the pool's cleanups; the pool frees it */
static void
ngx_http_oic_auth_limit_mark(void *data)
{
}


/* The bucket's excess with one more request, at now. */
static ngx_uint_t
ngx_http_oic_auth_limit_excess(ngx_http_oic_auth_limit_zone_t *zone,
    ngx_http_oic_auth_limit_node_t *lr, ngx_msec_t now, ngx_msec_int_t *msp)
{
    ngx_int_t       excess;
    ngx_msec_int_t  ms;

    if (lr->last == 0) {
        /* a key's first request leaves the bucket empty */
        *msp = 1;
        return 0;
    }

    ms = (ngx_msec_int_t) (now - lr->last);

    if (ms < -60000) {
        ms = 1;

    } else if (ms < 0) {
        ms = 0;

    } else if (ms > NGX_HTTP_OIC_AUTH_LIMIT_MAX_MS) {
        /* rate * ms stays within 64 bits */
        ms = NGX_HTTP_OIC_AUTH_LIMIT_MAX_MS;
    }

    *msp = ms;

    excess = (ngx_int_t) lr->excess - (ngx_int_t) (zone->rate * ms / 1000)
             + 1000;

    return (excess > 0) ? (ngx_uint_t) excess : 0;
}


/*
 * Under the zone's lock. NGX_BUSY: over the burst (*quiet >= 0: log it,
 * with that many refusals since the key's last line). account: the last
 * limit, NGX_OK and the excess stored; otherwise NGX_AGAIN, the node held
 * until account() or unlock(). NGX_DECLINED: no room, not limited.
 */
static ngx_int_t
ngx_http_oic_auth_limit_lookup(ngx_http_oic_auth_limit_t *limit, u_char *hash,
    ngx_uint_t *ep, ngx_uint_t account, ngx_int_t *quiet)
{
    ngx_uint_t                       excess;
    ngx_msec_t                       now;
    ngx_msec_int_t                   ms;
    ngx_http_oic_auth_limit_zone_t  *zone;
    ngx_http_oic_auth_limit_node_t  *lr;

    now = ngx_current_msec;
    zone = limit->shm_zone->data;
    *quiet = -1;

    lr = (ngx_http_oic_auth_limit_node_t *)
             ngx_oic_keyed_lookup(&zone->sh->rbtree, hash);

    if (lr) {
        ngx_queue_remove(&lr->k.queue);
        ngx_queue_insert_head(&zone->sh->queue, &lr->k.queue);

        excess = ngx_http_oic_auth_limit_excess(zone, lr, now, &ms);
        *ep = excess;

        if (excess > limit->burst) {

            if ((ngx_msec_int_t) (now - lr->log_next) >= 0) {
                *quiet = lr->refused;
                lr->refused = 0;
                lr->log_next = now + NGX_HTTP_OIC_AUTH_LIMIT_LOG_EVERY;

            } else {
                lr->refused++;
            }

            return NGX_BUSY;
        }

        if (account) {
            lr->excess = excess;

            if (ms) {
                lr->last = now;
            }

            return NGX_OK;
        }

        lr->count++;
        zone->node = lr;

        return NGX_AGAIN;
    }

    *ep = 0;

    ngx_http_oic_auth_limit_expire(zone, 1);

    lr = ngx_slab_alloc_locked(zone->shpool,
                               sizeof(ngx_http_oic_auth_limit_node_t));

    if (lr == NULL) {
        ngx_http_oic_auth_limit_expire(zone, 0);

        lr = ngx_slab_alloc_locked(zone->shpool,
                                   sizeof(ngx_http_oic_auth_limit_node_t));
        if (lr == NULL) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "oic_auth: could not allocate a limit node%s, "
                          "the request is not limited",
                          zone->shpool->log_ctx);
            return NGX_DECLINED;
        }
    }

    ngx_oic_keyed_set(&lr->k, hash);

    lr->excess = 0;
    lr->log_next = 0;
    lr->refused = 0;

    ngx_rbtree_insert(&zone->sh->rbtree, &lr->k.node);
    ngx_queue_insert_head(&zone->sh->queue, &lr->k.queue);
    zone->sh->count++;

    if (account) {
        lr->last = now;
        lr->count = 0;
        return NGX_OK;
    }

    lr->last = 0;
    lr->count = 1;
    zone->node = lr;

    return NGX_AGAIN;
}


/*
 * All limits passed: store the excess of the nodes held, and return the
 * longest delay asked for (*ep and *limit: its excess and limit).
 */
static ngx_msec_t
ngx_http_oic_auth_limit_account(ngx_http_oic_auth_limit_t *limits,
    ngx_uint_t n, ngx_uint_t *ep, ngx_http_oic_auth_limit_t **limit)
{
    ngx_uint_t                       excess;
    ngx_msec_t                       now, delay, max_delay;
    ngx_msec_int_t                   ms;
    ngx_http_oic_auth_limit_zone_t  *zone;
    ngx_http_oic_auth_limit_node_t  *lr;

    excess = *ep;

    if (excess <= (*limit)->delay) {
        max_delay = 0;

    } else {
        zone = (*limit)->shm_zone->data;
        max_delay = (excess - (*limit)->delay) * 1000 / zone->rate;
    }

    while (n--) {
        zone = limits[n].shm_zone->data;
        lr = zone->node;

        if (lr == NULL) {
            continue;
        }

        ngx_shmtx_lock(&zone->shpool->mutex);

        now = ngx_current_msec;
        excess = ngx_http_oic_auth_limit_excess(zone, lr, now, &ms);

        if (ms) {
            lr->last = now;
        }

        lr->excess = excess;
        lr->count--;

        ngx_shmtx_unlock(&zone->shpool->mutex);

        zone->node = NULL;

        ngx_http_oic_auth_limit_verdict(&limits[n], excess);

        if (excess <= limits[n].delay) {
            continue;
        }

        delay = (excess - limits[n].delay) * 1000 / zone->rate;

        if (delay > max_delay) {
            max_delay = delay;
            *ep = excess;
            *limit = &limits[n];
        }
    }

    return max_delay;
}


/*
 * The metrics: a zone's verdict on a request it counted, delayed when its
 * excess is past what the zone lets through at once.
 */
static void
ngx_http_oic_auth_limit_verdict(ngx_http_oic_auth_limit_t *limit,
    ngx_uint_t excess)
{
    ngx_http_oic_auth_limit_zone_t  *zone;

    zone = limit->shm_zone->data;

    ngx_http_oic_auth_count(zone->metrics, NGX_HTTP_OIC_AUTH_F_LIMIT,
                            (excess > limit->delay) ? NGX_HTTP_OIC_AUTH_M_DELAYED
                                                    : NGX_HTTP_OIC_AUTH_M_PASSED);
}


/* A limit refused: the nodes held by the limits before it, unchanged. */
static void
ngx_http_oic_auth_limit_unlock(ngx_http_oic_auth_limit_t *limits,
    ngx_uint_t n)
{
    ngx_http_oic_auth_limit_zone_t  *zone;

    while (n--) {
        zone = limits[n].shm_zone->data;

        if (zone->node == NULL) {
            continue;
        }

        ngx_shmtx_lock(&zone->shpool->mutex);

        zone->node->count--;

        ngx_shmtx_unlock(&zone->shpool->mutex);

        zone->node = NULL;
    }
}


/*
 * From the LRU tail: n == 1 drops up to two drained keys idle for a
 * minute; n == 0 drops the oldest key whatever its state, and up to two
 * drained ones. A node held by a check stops the walk.
 */
static void
ngx_http_oic_auth_limit_expire(ngx_http_oic_auth_limit_zone_t *zone,
    ngx_uint_t n)
{
    ngx_msec_t                       now;
    ngx_queue_t                     *q;
    ngx_msec_int_t                   ms;
    ngx_http_oic_auth_limit_node_t  *lr;

    now = ngx_current_msec;

    while (n < 3) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&zone->sh->queue);

        lr = ngx_queue_data(q, ngx_http_oic_auth_limit_node_t, k.queue);

        if (lr->count) {
            return;
        }

        if (n++ != 0) {

            ms = (ngx_msec_int_t) (now - lr->last);
            ms = ngx_abs(ms);

            if (ms < 60000) {
                return;
            }

            if (ms < NGX_HTTP_OIC_AUTH_LIMIT_MAX_MS
                && (ngx_int_t) lr->excess
                   - (ngx_int_t) (zone->rate * ms / 1000) > 0)
            {
                return;
            }

        } else {
            /* the oldest, whatever its state: to make room */
            zone->sh->evictions++;
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&zone->sh->rbtree, &lr->k.node);
        ngx_slab_free_locked(zone->shpool, lr);
        zone->sh->count--;
    }
}


/* A reload keeps the old zone's buckets (and salt); the rate may change. */
static ngx_int_t
ngx_http_oic_auth_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_oic_auth_limit_zone_t  *ozone = data;

    size_t                           len;
    ngx_http_oic_auth_limit_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool,
                              sizeof(ngx_http_oic_auth_limit_sh_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_oic_keyed_insert);
    ngx_queue_init(&zone->sh->queue);
    zone->sh->count = 0;
    zone->sh->evictions = 0;

    if (RAND_bytes(zone->sh->salt, NGX_OIC_KEY_LEN) != 1) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "oic_auth: no random bytes for the salt of "
                      "oic_auth_limit_zone \"%V\"", &shm_zone->shm.name);
        return NGX_ERROR;
    }

    len = sizeof(" in oic_auth_limit_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in oic_auth_limit_zone \"%V\"%Z",
                &shm_zone->shm.name);

    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


/* $oic_auth_limit_status: PASSED, DELAYED, REJECTED; empty: no limit */
ngx_int_t
ngx_http_oic_auth_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_oic_auth_limit_req_t  *lr;

    lr = ngx_http_oic_auth_limit_req(r, 0);

    if (lr == NULL || lr->status == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->len = ngx_http_oic_auth_limit_status[lr->status - 1].len;
    v->data = ngx_http_oic_auth_limit_status[lr->status - 1].data;

    return NGX_OK;
}


/* oic_auth_limit_zone NAME:SIZE rate=RATE; */
char *
ngx_http_oic_auth_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                          *p;
    size_t                           len;
    ngx_int_t                        rate, scale;
    ngx_str_t                       *value;
    ngx_shm_zone_t                  *shm_zone;
    ngx_http_oic_auth_limit_zone_t  *zone;

    value = cf->args->elts;

    len = value[2].len;
    p = value[2].data + len - 3;
    scale = 0;

    if (len > 8 && ngx_strncmp(value[2].data, "rate=", 5) == 0) {

        if (ngx_strncmp(p, "r/s", 3) == 0) {
            scale = 1;

        } else if (ngx_strncmp(p, "r/m", 3) == 0) {
            scale = 60;
        }
    }

    rate = scale ? ngx_atoi(value[2].data + 5, len - 8) : NGX_ERROR;

    if (rate <= 0 || rate > NGX_HTTP_OIC_AUTH_LIMIT_MAX_RATE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\", it must be rate=Nr/s or "
                           "rate=Nr/m, N from 1 to %d", &value[2],
                           NGX_HTTP_OIC_AUTH_LIMIT_MAX_RATE);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_oic_auth_limit_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->rate = rate * 1000 / scale;

    shm_zone = ngx_http_oic_auth_zone_add(cf, &value[1],
                                          &ngx_http_oic_auth_limit_tag);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_oic_auth_limit_init_zone;
    shm_zone->data = zone;

    zone->metrics = ngx_http_oic_auth_metrics_group(cf,
                                                    NGX_HTTP_OIC_AUTH_G_LIMIT,
                                                    &shm_zone->shm.name, NULL);
    if (zone->metrics == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* oic_auth_limit NAME [key=VALUE] [burst=N] [nodelay]; | off; */
char *
ngx_http_oic_auth_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    ngx_int_t                          burst;
    ngx_str_t                         *value, s;
    ngx_uint_t                         i, nodelay;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_complex_value_t          *key;
    ngx_http_oic_auth_limit_t         *limit, *limits;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {

        if (cf->args->nelts != 2 || lcf->limits != NGX_CONF_UNSET_PTR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"oic_auth_limit off\" cannot be combined "
                               "with other \"oic_auth_limit\" at this level");
            return NGX_CONF_ERROR;
        }

        lcf->limits = NULL;
        return NGX_CONF_OK;
    }

    if (lcf->limits == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_limit off\" cannot be combined "
                           "with other \"oic_auth_limit\" at this level");
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &value[1], 0,
                                     &ngx_http_oic_auth_limit_tag);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    key = NULL;
    burst = 0;
    nodelay = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "key=", 4) == 0 && key == NULL) {

            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid key \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            key = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
            if (key == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = key;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0 && burst == 0) {

            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (burst <= 0 || burst > NGX_MAX_INT_T_VALUE / 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst value \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "nodelay") == 0 && !nodelay) {
            nodelay = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (lcf->limits == NGX_CONF_UNSET_PTR) {
        lcf->limits = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_oic_auth_limit_t));
        if (lcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    limits = lcf->limits->elts;

    for (i = 0; i < lcf->limits->nelts; i++) {
        if (limits[i].shm_zone == shm_zone) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "zone \"%V\" is already limited here",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    limit = ngx_array_push(lcf->limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    limit->shm_zone = shm_zone;
    limit->key = key;
    limit->burst = burst * 1000;
    limit->delay = nodelay ? NGX_MAX_INT_T_VALUE / 1000 * 1000 : 0;

    return NGX_CONF_OK;
}


/* Inherited as a list; every zone named must be defined. */
char *
ngx_http_oic_auth_merge_limits(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf)
{
    ngx_uint_t                  i;
    ngx_http_oic_auth_limit_t  *limits;

    ngx_conf_merge_ptr_value(conf->limits, prev->limits, NULL);

    if (conf->limits == NULL) {
        return NGX_CONF_OK;
    }

    limits = conf->limits->elts;

    for (i = 0; i < conf->limits->nelts; i++) {
        if (limits[i].shm_zone->data == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"oic_auth_limit\" names an unknown zone "
                               "\"%V\", define it with "
                               "\"oic_auth_limit_zone\"",
                               &limits[i].shm_zone->shm.name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* A limit zone's gauges, for the metrics. */
ngx_int_t
ngx_http_oic_auth_limit_stats(ngx_shm_zone_t *shm_zone,
    ngx_oic_zone_stats_t *st)
{
    ngx_http_oic_auth_limit_zone_t  *zone;

    if (shm_zone->init != ngx_http_oic_auth_limit_init_zone) {
        return NGX_DECLINED;
    }

    zone = shm_zone->data;

    return ngx_oic_zone_stats(zone->shpool, &zone->sh->count, 1,
                              &zone->sh->evictions, st);
}
