/*
 * Single flight: a fetch (an IAM token or a JWKS) runs once per key for all
 * workers. Requests of this worker wait on the fetch's own list and are
 * resumed when it completes; requests of other workers poll the shared
 * entry on a short timer. Every wait is bounded by a timer, and a request
 * that goes away is unlinked by its cleanup.
 */

#include "ngx_http_oic_auth.h"


static void ngx_http_oic_auth_poll_handler(ngx_event_t *ev);
static void ngx_http_oic_auth_deadline_handler(ngx_event_t *ev);
static void ngx_http_oic_auth_delay_handler(ngx_event_t *ev);
static void ngx_http_oic_auth_unwait(ngx_http_oic_auth_ctx_t *ctx);


/* this worker's fetches in flight */
static ngx_queue_t  ngx_http_oic_auth_fetches;


void
ngx_http_oic_auth_fetch_init(void)
{
    ngx_queue_init(&ngx_http_oic_auth_fetches);
}


/* Wait for a fetch: this worker's (no polling), or another worker's. */
ngx_int_t
ngx_http_oic_auth_park(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *ctx,
    u_char *key, uint32_t gen, ngx_uint_t jwks)
{
    ngx_queue_t                   *q;
    ngx_http_oic_auth_fetch_t     *f;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    ngx_memcpy(ctx->wait_key, key, NGX_OIC_KEY_LEN);
    ctx->gen = gen;
    ctx->wait_jwks = jwks;

    ctx->poll.data = ctx;
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

    /* the connection's reads go to its active request, maybe this one */
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


/*
 * Start a token or JWKS request. ctx (may be NULL for a JWKS) becomes its
 * first waiter, unless flags has NGX_HTTP_OIC_AUTH_FETCH_BACKGROUND (a
 * refresh: the request goes on with the token it has, but its credentials
 * make the token request).
 */
ngx_http_oic_auth_fetch_t *
ngx_http_oic_auth_fetch(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_shm_zone_t *zone, u_char *key, uint32_t gen, ngx_uint_t flags)
{
    u_char                      id[NGX_HTTP_OIC_AUTH_LOG_ID];
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
    fetch->conf = lcf;
    fetch->jwks = (flags & NGX_HTTP_OIC_AUTH_FETCH_JWKS) ? 1 : 0;
    fetch->slot.index = -1;
    ngx_queue_init(&fetch->waiters);

    ngx_memzero(&hc, sizeof(ngx_oic_http_conf_t));
    hc.timeout = lcf->timeout;
    hc.ssl_verify = lcf->ssl_verify;
    hc.cafile = lcf->ssl_trusted_certificate;

    if (fetch->jwks) {
        ngx_http_oic_auth_log_id(id, sizeof(id), lcf->jwks_uri.data,
                                 lcf->jwks_uri.len);
        ngx_snprintf(fetch->who, sizeof(fetch->who), "JWKS \"%s\"%Z", id);

        fetch->ttl = lcf->jwks_refresh;
        fetch->http.handler = ngx_http_oic_auth_jwks_done;
        hc.url = lcf->jwks_uri;
        hc.max_body = OIC_JWKS_MAX_BYTES;
        rc = NGX_OK;

    } else {
        ngx_http_oic_auth_who(lcf, ctx, key, fetch->who, sizeof(fetch->who));

        fetch->exchange = (ctx->mode != NGX_HTTP_OIC_AUTH_BASIC);
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

    ngx_http_oic_auth_fetch_join(fetch,
                                 (flags & NGX_HTTP_OIC_AUTH_FETCH_BACKGROUND)
                                 ? NULL : ctx);

    return fetch;
}


/*
 * A fetch of this worker begins (an IAM or JWKS request, or fleet mode's
 * Redis step): requests of this worker for its key and generation join it;
 * ctx, if any, is its first waiter.
 */
void
ngx_http_oic_auth_fetch_join(ngx_http_oic_auth_fetch_t *fetch,
    ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_queue_insert_tail(&ngx_http_oic_auth_fetches, &fetch->queue);

    if (ctx) {
        ngx_memcpy(ctx->wait_key, fetch->key, NGX_OIC_KEY_LEN);
        ctx->gen = fetch->gen;
        ctx->wait_jwks = fetch->jwks;
        ctx->fetch = fetch;
        ngx_queue_insert_tail(&fetch->waiters, &ctx->wait_link);
    }
}


/*
 * Who a token is for, in log lines: 'client "app" (key 1a2b3c4d)' or
 * 'user "alice@example.com" (key ...)'; printable ASCII only.
 */
void
ngx_http_oic_auth_who(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, u_char *key, u_char *buf, size_t size)
{
    u_char  id[NGX_HTTP_OIC_AUTH_LOG_ID];
    u_char  hex[NGX_OIC_CACHE_LOG_ID_LEN];

    ngx_oic_cache_log_id(lcf->zone, key, hex);

    if (ctx->mode == NGX_HTTP_OIC_AUTH_BASIC) {
        ngx_http_oic_auth_log_id(id, sizeof(id), ctx->client_id.data,
                                 ctx->client_id.len);
        ngx_snprintf(buf, size, "client \"%s\" (key %s)%Z", id, hex);

    } else {
        ngx_http_oic_auth_log_id(id, sizeof(id), ctx->user.data,
                                 ctx->user.len);
        ngx_snprintf(buf, size, "user \"%s\" (key %s)%Z", id, hex);
    }

    buf[size - 1] = '\0';
}


/* Resume this worker's requests that waited for a fetch. */
void
ngx_http_oic_auth_wake(ngx_http_oic_auth_fetch_t *fetch, ngx_int_t status,
    ngx_str_t *token, char *code, time_t retry_after)
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
            ctx->retry_after = retry_after;
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

    ctx = ev->data;
    r = ctx->request;
    lcf = ctx->conf;

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    req.gen = ctx->gen;
    req.deadline_ms = lcf->timeout + 1000;
    req.entry_class = ctx->wait_jwks ? NGX_OIC_CACHE_PINNED
                                     : NGX_OIC_CACHE_UNACCEPTED;

    rc = ngx_oic_cache_acquire(lcf->zone, ctx->wait_key, &req, r->pool, &res);

    if (rc == NGX_OIC_CACHE_WAIT) {
        ctx->gen = res.gen;
        ctx->poll_delay = ngx_min(ctx->poll_delay * 2,
                                  NGX_HTTP_OIC_AUTH_POLL_MAX);
        ngx_add_timer(&ctx->poll, ctx->poll_delay);
        return;
    }

    if (rc == NGX_OIC_CACHE_OWNER) {
        /*
         * the fetch's owner missed its deadline, or gave up (the gate held
         * it off): this request starts over (it has no credentials here),
         * and becomes owner or waits again
         */
        if (res.took_over) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "oic_auth: a fetch in another worker did not "
                          "finish in time, fetching again");
        }

        ngx_oic_cache_abandon(lcf->zone, ctx->wait_key, res.gen, 0);
        ctx->state = NGX_HTTP_OIC_AUTH_RETRY;

    } else if (ctx->wait_jwks) {
        ctx->state = NGX_HTTP_OIC_AUTH_RETRY;

    } else if (rc == NGX_OIC_CACHE_HIT) {
        ctx->state = NGX_HTTP_OIC_AUTH_DONE;
        ctx->status = NGX_OK;
        ctx->token = res.value;

    } else if (rc == NGX_OIC_CACHE_FAILED || rc == NGX_OIC_CACHE_NEGATIVE) {
        ctx->state = NGX_HTTP_OIC_AUTH_DONE;
        ctx->status = res.status;
        ctx->retry_after = res.retry_after;
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

    ctx = ev->data;
    r = ctx->request;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "oic_auth: no answer from the %s request in time",
                  ctx->wait_jwks ? "JWKS" : "token");

    ngx_http_oic_auth_unwait(ctx);

    ctx->state = NGX_HTTP_OIC_AUTH_DONE;
    ctx->status = NGX_HTTP_BAD_GATEWAY;
    ngx_str_set(&ctx->error, "iam_unavailable");

    if (ctx->wait_jwks) {
        ngx_str_set(&ctx->error, "jwks_unavailable");
    }

    ngx_http_oic_auth_resume(r);
}


/*
 * Run the check again in ms (nothing to wait for but time: a connection
 * slot to IAM may be free then).
 */
ngx_int_t
ngx_http_oic_auth_delay(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *ctx,
    ngx_msec_t ms)
{
    ctx->poll.data = ctx;
    ctx->poll.log = r->connection->log;
    ctx->poll.handler = ngx_http_oic_auth_delay_handler;
    ngx_add_timer(&ctx->poll, ms);

    ctx->state = NGX_HTTP_OIC_AUTH_WAITING;
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


static void
ngx_http_oic_auth_delay_handler(ngx_event_t *ev)
{
    ngx_http_oic_auth_ctx_t  *ctx;

    ctx = ev->data;
    ctx->state = NGX_HTTP_OIC_AUTH_RETRY;

    ngx_http_oic_auth_resume(ctx->request);
}


/*
 * The phases again, from the handler that parked the request: the access
 * handler for a main request, the precontent one for a subrequest.
 */
void
ngx_http_oic_auth_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    r->read_event_handler = (r == r->main) ? ngx_http_block_reading
                                           : ngx_http_request_empty_handler;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_set_log_request(c->log, r);

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


void
ngx_http_oic_auth_cleanup(void *data)
{
    ngx_http_oic_auth_ctx_t  *ctx = data;

    if (ctx->poll.timer_set) {
        ngx_del_timer(&ctx->poll);
    }

    /* the fetch goes on for the other waiters and fills the cache */
    ngx_http_oic_auth_unwait(ctx);
}


/* ctx no longer waits for its fetch (it went away, or waited too long). */
static void
ngx_http_oic_auth_unwait(ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_http_oic_auth_fetch_t  *fetch;

    fetch = ctx->fetch;

    if (fetch == NULL) {
        return;
    }

    ngx_queue_remove(&ctx->wait_link);
    ngx_queue_init(&ctx->wait_link);
    ctx->fetch = NULL;

    if (fetch->fleet) {
        /* a Redis step nobody waits for is cancelled */
        ngx_http_oic_auth_fleet_left(fetch, ctx);
    }
}


/* An id for a log line: printable ASCII only, truncated, NUL-terminated. */
void
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
