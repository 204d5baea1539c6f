/*
 * JWKS documents: fetched once for all workers and kept in the zone (stale
 * ones refreshed in the background; after a failure, the last good keys
 * stay and the next try waits, longer after a 429's Retry-After, which
 * also holds off every worker's calls to that URI), and this worker's
 * parsed key sets,
 * re-parsed only when the document in the zone changes. A parsed set
 * belongs to one zone: versions are numbered per zone, so the same JWKS URI
 * in two zones is two sets.
 */

#include "ngx_http_oic_auth.h"


/* a JWKS document of one zone, parsed by this worker */
typedef struct {
    ngx_queue_t                 queue;
    ngx_shm_zone_t             *zone;
    u_char                      key[NGX_OIC_KEY_LEN];
    uint32_t                    version;
    oic_jwks_t                 *keys;
} ngx_http_oic_auth_keys_t;


static ngx_queue_t  ngx_http_oic_auth_keysets;


void
ngx_http_oic_auth_jwks_init(void)
{
    ngx_queue_init(&ngx_http_oic_auth_keysets);
}


void
ngx_http_oic_auth_jwks_exit(void)
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
}


/* This worker's parsed key set for the location, fetched when needed. */
ngx_int_t
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

        if (ks->zone == lcf->zone
            && ngx_memcmp(ks->key, lcf->jwks_key, NGX_OIC_KEY_LEN) == 0)
        {
            break;
        }

        ks = NULL;
    }

    if (ks == NULL) {
        ks = ngx_calloc(sizeof(ngx_http_oic_auth_keys_t), ngx_cycle->log);
        if (ks == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ks->zone = lcf->zone;
        ngx_memcpy(ks->key, lcf->jwks_key, NGX_OIC_KEY_LEN);
        ngx_queue_insert_tail(&ngx_http_oic_auth_keysets, &ks->queue);
    }

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    req.deadline_ms = lcf->timeout + 1000;
    req.refresh = 1;
    req.have_version = ks->keys ? ks->version : 0;
    req.entry_class = NGX_OIC_CACHE_PINNED;

    rc = ngx_oic_cache_acquire(lcf->zone, lcf->jwks_key, &req, r->pool, &res);

    switch (rc) {

    case NGX_OIC_CACHE_HIT:
        if (res.gen) {
            /* stale: refresh in the background, go on with these keys */
            (void) ngx_http_oic_auth_jwks_fetch(r, lcf, NULL, res.gen);
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
        if (ngx_http_oic_auth_jwks_fetch(r, lcf, ctx, res.gen) != NGX_OK) {
            return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                          "jwks_unavailable");
        }

        return ngx_http_oic_auth_park(r, ctx, lcf->jwks_key, res.gen, 1);

    case NGX_OIC_CACHE_WAIT:
        return ngx_http_oic_auth_park(r, ctx, lcf->jwks_key, res.gen, 1);

    case NGX_OIC_CACHE_FAILED:
        ngx_http_oic_auth_metrics_jwks_not_made(lcf,
                                             NGX_HTTP_OIC_AUTH_M_JNM_BACKOFF);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: no keys: \"%V\" failed less than %T s ago",
                      &lcf->jwks_uri,
                      (time_t) ngx_max(res.retry_after,
                                       NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY));
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                      "jwks_unavailable");

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: no room for the JWKS in the cache zone");
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "cache_full");
    }
}


/*
 * A failed JWKS fetch (or one not made): the last good keys stay and the
 * next try is NGX_HTTP_OIC_AUTH_JWKS_RETRY s later; without keys, new
 * requests fail fast for NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY s; and never
 * before a 429's Retry-After (min_ms), which counts for every worker.
 */
static void
ngx_http_oic_auth_jwks_failed(ngx_shm_zone_t *zone, u_char *key,
    uint32_t gen, ngx_msec_t min_ms)
{
    ngx_oic_cache_failed_t   out;
    ngx_oic_cache_failure_t  f;

    ngx_memzero(&f, sizeof(ngx_oic_cache_failure_t));
    f.status = NGX_HTTP_BAD_GATEWAY;
    f.error = "jwks_unavailable";
    f.stale_ms = NGX_HTTP_OIC_AUTH_JWKS_RETRY * 1000;
    f.base_ms = NGX_HTTP_OIC_AUTH_JWKS_FAIL_RETRY * 1000;
    f.cap_ms = f.base_ms;
    f.min_ms = min_ms;

    ngx_oic_cache_fail(zone, key, gen, &f, &out);
}


/*
 * Fetch the location's JWKS for generation gen: ctx waits for it (NULL: a
 * background refresh). Not while the JWKS URI's 429 block runs: like a
 * failed fetch then. NGX_OK when started.
 */
ngx_int_t
ngx_http_oic_auth_jwks_fetch(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    uint32_t gen)
{
    ngx_msec_t  blocked;

    blocked = ngx_http_oic_auth_guard_blocked(lcf->guard,
                                              lcf->jwks_endpoint_key);

    if (blocked) {
        ngx_http_oic_auth_metrics_jwks_not_made(lcf,
                                         NGX_HTTP_OIC_AUTH_M_JNM_RETRY_AFTER);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: JWKS \"%V\" not fetched: it answered 429, "
                      "next try in %M ms", &lcf->jwks_uri, blocked);
        ngx_http_oic_auth_jwks_failed(lcf->zone, lcf->jwks_key, gen,
                                      blocked);
        return NGX_DECLINED;
    }

    if (ngx_http_oic_auth_fetch(r, lcf, ctx, lcf->zone, lcf->jwks_key, gen,
                                NGX_HTTP_OIC_AUTH_FETCH_JWKS)
        == NULL)
    {
        ngx_http_oic_auth_jwks_failed(lcf->zone, lcf->jwks_key, gen, 0);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_oic_auth_jwks_done(ngx_oic_http_t *h)
{
    char                        err[256];
    time_t                      now;
    ngx_str_t                   doc;
    ngx_int_t                   status;
    ngx_msec_t                  blocked;
    oic_jwks_t                 *keys;
    ngx_http_oic_auth_fetch_t  *fetch;

    fetch = h->data;
    now = ngx_time();
    keys = NULL;
    blocked = 0;

    ngx_queue_remove(&fetch->queue);

    if (h->result != 0) {
        ngx_snprintf((u_char *) err, sizeof(err), "%s%Z",
                     ngx_oic_http_strerror(h));

    } else if (h->status == 429) {
        /* no call to that URI from any worker until its Retry-After */
        blocked = ngx_http_oic_auth_guard_block(fetch->conf->guard,
                                              fetch->conf->jwks_endpoint_key,
                                              h->retry_after);
        ngx_snprintf((u_char *) err, sizeof(err),
                     "answered 429, next try in %M ms at the earliest%Z",
                     blocked);

    } else if (h->status != 200) {
        ngx_snprintf((u_char *) err, sizeof(err), "answered %l%Z", h->status);

    } else {
        keys = oic_jwks_parse((char *) h->buf, h->len, err, sizeof(err));
    }

    ngx_http_oic_auth_metrics_jwks(fetch->conf, h, keys);

    if (keys) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "oic_auth: %s fetched, %uz keys",
                      fetch->who, oic_jwks_count(keys));
        oic_jwks_free(keys);

        doc.data = h->buf;
        doc.len = h->len;

        if (ngx_oic_cache_complete(fetch->zone, fetch->key, fetch->gen, &doc,
                                   now + fetch->ttl,
                                   now + NGX_HTTP_OIC_AUTH_JWKS_KEEP,
                                   now + NGX_HTTP_OIC_AUTH_JWKS_KEEP)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "oic_auth: no room in the cache zone for %s",
                          fetch->who);
        }

        status = NGX_OK;

    } else {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "oic_auth: %s unavailable: %s; keeping the last good "
                      "keys, if any", fetch->who, err);

        ngx_http_oic_auth_jwks_failed(fetch->zone, fetch->key, fetch->gen,
                                      blocked);

        /*
         * the waiters look again: old keys may still be there; without
         * them, new requests fail fast until the retry time
         */
        status = NGX_OK;
    }

    ngx_http_oic_auth_wake(fetch, status, NULL, "", 0);

    ngx_oic_http_free(h);
    ngx_free(fetch);
}
