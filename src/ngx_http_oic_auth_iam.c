/*
 * IAM tokens (basic and exchange modes): the cache lookup that serves a
 * token (starting its refresh ahead of its end when due), joins a fetch or
 * starts one; the gate every IAM call passes first (failure limit, 429
 * block, connection slots, budget: ngx_http_oic_auth_iam_guard.c); the
 * handling of IAM's answer (RFC 6749 5.1/5.2), which fills the zone,
 * remembers refusals, backs off after failures and wakes the waiters; and
 * the purge of a token the backend refuses (oic_auth_purge_on_status).
 */

#include "ngx_http_oic_auth.h"


typedef enum {
    NGX_HTTP_OIC_AUTH_ADMITTED = 0,
    NGX_HTTP_OIC_AUTH_THROTTLED,        /* the client's failure limit */
    NGX_HTTP_OIC_AUTH_BLOCKED,          /* IAM answered 429 lately */
    NGX_HTTP_OIC_AUTH_OVER_BUDGET,
    NGX_HTTP_OIC_AUTH_NO_SLOT
} ngx_http_oic_auth_admit_e;


static ngx_http_oic_auth_admit_e ngx_http_oic_auth_admit(
    ngx_http_request_t *r, ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_uint_t accepted, u_char *client_key,
    ngx_http_oic_auth_slot_t *slot, ngx_msec_t *retry_ms);
static ngx_int_t ngx_http_oic_auth_miss(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_rc_e rc, ngx_oic_cache_res_t *res);
static ngx_uint_t ngx_http_oic_auth_refresh(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_res_t *res);
static ngx_http_oic_auth_fetch_t *ngx_http_oic_auth_call(
    ngx_http_request_t *r, ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_shm_zone_t *zone,
    ngx_oic_cache_res_t *res, ngx_uint_t flags,
    ngx_http_oic_auth_admit_e *refusal, ngx_msec_t *retry_ms);
static ngx_int_t ngx_http_oic_auth_refuse(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_uint_t status, u_char *error,
    time_t retry_after);
static void ngx_http_oic_auth_transient(ngx_shm_zone_t *zone, u_char *key,
    uint32_t gen, ngx_uint_t accepted, ngx_uint_t status, char *code,
    ngx_msec_t min_ms, ngx_oic_cache_failed_t *out);


static ngx_int_t ngx_http_oic_auth_served(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_req_t *req, ngx_oic_cache_res_t *res, ngx_uint_t freshness);


static ngx_str_t  ngx_http_oic_auth_hit = ngx_string("HIT");
static ngx_str_t  ngx_http_oic_auth_miss_status = ngx_string("MISS");
static ngx_str_t  ngx_http_oic_auth_waited = ngx_string("WAIT");
static ngx_str_t  ngx_http_oic_auth_updating = ngx_string("UPDATING");
static ngx_str_t  ngx_http_oic_auth_stale = ngx_string("STALE");
static ngx_str_t  ngx_http_oic_auth_negative = ngx_string("NEGATIVE");

static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/* The token of ctx->key if it is fresh, else NGX_DECLINED (nothing done). */
ngx_int_t
ngx_http_oic_auth_token_fresh(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_oic_cache_req_t  req;
    ngx_oic_cache_res_t  res;

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    ngx_str_set(&req.prefix, NGX_HTTP_OIC_AUTH_BEARER_PREFIX);

    if (ngx_oic_cache_fresh(lcf->zone, ctx->key, &req, r->pool, &res)
        != NGX_OIC_CACHE_HIT)
    {
        return NGX_DECLINED;
    }

    return ngx_http_oic_auth_served(r, lcf, ctx, &req, &res,
                                    NGX_OIC_CACHE_FRESH);
}


ngx_int_t
ngx_http_oic_auth_token(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    u_char                who[NGX_HTTP_OIC_AUTH_LOG_ID + 64];
    ngx_uint_t            freshness;
    ngx_oic_cache_rc_e    rc;
    ngx_oic_cache_req_t   req;
    ngx_oic_cache_res_t   res;

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    req.deadline_ms = lcf->timeout + 1000;
    req.refresh = 1;
    req.entry_class = NGX_OIC_CACHE_UNACCEPTED;

    /* a token found is copied once, as the header it is forwarded in */
    ngx_str_set(&req.prefix, NGX_HTTP_OIC_AUTH_BEARER_PREFIX);

    rc = ngx_oic_cache_acquire(lcf->zone, ctx->key, &req, r->pool, &res);

    if (res.ended) {
        /* the end of a stale period: one line, by the request that saw it */
        ngx_http_oic_auth_who(lcf, ctx, ctx->key, who, sizeof(who));
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: the cached token of %s reached its end "
                      "after %ui failed refreshes: it is no longer served",
                      who, res.failures);
    }

    switch (rc) {

    case NGX_OIC_CACHE_HIT:
        freshness = res.freshness;

        if (res.gen) {
            /* fleet mode: another gateway may have refreshed it */
            if (ngx_http_oic_auth_fleet_refresh(r, lcf, ctx, &res)
                == NGX_AGAIN)
            {
                return NGX_AGAIN;
            }

            /* the refresh is this request's to start; it goes on at once */
            freshness = ngx_http_oic_auth_refresh(r, lcf, ctx, &res);
        }

        return ngx_http_oic_auth_served(r, lcf, ctx, &req, &res, freshness);

    case NGX_OIC_CACHE_NEGATIVE:
        /* the refusal IAM gave for these credentials, remembered */
        ctx->cache_status = ngx_http_oic_auth_negative;
        ngx_http_oic_auth_metrics_cache(lcf, ctx, NGX_HTTP_OIC_AUTH_M_NEGATIVE);
        return ngx_http_oic_auth_refuse(r, ctx, res.status, res.error, 0);

    case NGX_OIC_CACHE_FAILED:
        /* the last call failed and its backoff runs: no call before then */
        ngx_http_oic_auth_metrics_cache(lcf, ctx, NGX_HTTP_OIC_AUTH_M_FAILED);
        return ngx_http_oic_auth_refuse(r, ctx, res.status, res.error,
                                        ngx_max(res.retry_after, 1));

    case NGX_OIC_CACHE_WAIT:
        ctx->cache_status = ngx_http_oic_auth_waited;
        ngx_http_oic_auth_metrics_cache(lcf, ctx, NGX_HTTP_OIC_AUTH_M_WAIT);
        return ngx_http_oic_auth_park(r, ctx, ctx->key, res.gen, 0);

    default: /* OWNER, or NOMEM: an uncached fetch for this request */
        ngx_http_oic_auth_metrics_cache(lcf, ctx,
                                        (rc == NGX_OIC_CACHE_OWNER)
                                        ? NGX_HTTP_OIC_AUTH_M_MISS
                                        : NGX_HTTP_OIC_AUTH_M_NO_ROOM);
        return ngx_http_oic_auth_miss(r, lcf, ctx, rc, &res);
    }
}


/* A token served from the cache (res, copied after req->prefix). */
static ngx_int_t
ngx_http_oic_auth_served(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_req_t *req, ngx_oic_cache_res_t *res, ngx_uint_t freshness)
{
    ngx_str_t  *status;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "oic_auth: token cache hit (%ui)", freshness);

    status = (freshness == NGX_OIC_CACHE_UPDATING)
             ? &ngx_http_oic_auth_updating
             : (freshness == NGX_OIC_CACHE_STALE)
               ? &ngx_http_oic_auth_stale : &ngx_http_oic_auth_hit;

    if (ctx->cache_status.len == 0) {
        ctx->cache_status = *status;
    }

    ngx_http_oic_auth_metrics_cache(lcf, ctx,
                                    (freshness == NGX_OIC_CACHE_FRESH)
                                    ? NGX_HTTP_OIC_AUTH_M_HIT
                                    : (freshness == NGX_OIC_CACHE_STALE)
                                      ? NGX_HTTP_OIC_AUTH_M_STALE
                                      : NGX_HTTP_OIC_AUTH_M_UPDATING);

    ctx->token = res->value;

    if (res->value.len) {
        ctx->forward.data = res->value.data - req->prefix.len;
        ctx->forward.len = req->prefix.len + res->value.len;
    }

    ctx->state = NGX_HTTP_OIC_AUTH_DONE;
    ctx->status = NGX_OK;

    return ngx_http_oic_auth_finish(r, lcf, ctx);
}


/*
 * No usable token: a call to IAM for this request, and for the requests
 * that will wait for it, unless the gate refuses it.
 */
static ngx_int_t
ngx_http_oic_auth_miss(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_rc_e rc, ngx_oic_cache_res_t *res)
{
    ngx_uint_t                  n;
    ngx_msec_t                  retry;
    ngx_shm_zone_t             *zone;
    ngx_http_oic_auth_fetch_t  *fetch;
    ngx_http_oic_auth_admit_e   refusal;

    zone = (rc == NGX_OIC_CACHE_OWNER) ? lcf->zone : NULL;

    /* fleet mode: Redis first */
    if (zone && ngx_http_oic_auth_fleet_miss(r, lcf, ctx, res) == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    fetch = ngx_http_oic_auth_call(r, lcf, ctx, zone, res, 0, &refusal,
                                   &retry);

    if (fetch) {
        ctx->cache_status = ngx_http_oic_auth_miss_status;
        return ngx_http_oic_auth_park(r, ctx, ctx->key, res->gen, 0);
    }

    ctx->retry_after = (time_t) ((retry + 999) / 1000);

    switch (refusal) {

    case NGX_HTTP_OIC_AUTH_THROTTLED:
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                      "client_throttled");

    case NGX_HTTP_OIC_AUTH_BLOCKED:
    case NGX_HTTP_OIC_AUTH_OVER_BUDGET:
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "iam_rate_limited");

    case NGX_HTTP_OIC_AUTH_NO_SLOT:
        /* every connection busy: wait for one, as long as a call may take */

        if (ctx->slot_wait == 0) {
            ctx->slot_wait = ngx_current_msec;
        }

        if (ngx_current_msec - ctx->slot_wait < lcf->timeout) {
            ctx->retry_after = 0;
            return ngx_http_oic_auth_delay(r, ctx,
                                           NGX_HTTP_OIC_AUTH_SLOT_POLL);
        }

        n = ngx_http_oic_auth_guard_log_due(lcf->guard, lcf->endpoint_key,
                                            NGX_HTTP_OIC_AUTH_GUARD_BUSY);
        if (n) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "oic_auth: no free connection to \"%V\" within "
                          "%M ms (oic_auth_iam_connections %i, half of them "
                          "for credentials IAM never accepted): %ui requests "
                          "refused since the last such line (iam_busy)",
                          &lcf->token_endpoint, lcf->timeout,
                          lcf->connections, n);
        }

        ngx_http_oic_auth_metrics_not_made(lcf,
                                           NGX_HTTP_OIC_AUTH_M_NM_CONNECTIONS);

        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "iam_busy");

    default: /* admitted, but the call could not start */
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                      "iam_unavailable");
    }
}


/*
 * The first request that finds the token in its refresh window starts the
 * refresh with its own credentials (its key derives from them) and goes on
 * with the still valid token. UPDATING when started, STALE when the gate
 * held it off (the next try waits).
 */
static ngx_uint_t
ngx_http_oic_auth_refresh(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_res_t *res)
{
    ngx_msec_t                 retry;
    ngx_http_oic_auth_admit_e  refusal;

    /* a key with a token is a key IAM accepted */
    res->accepted = 1;

    if (ngx_http_oic_auth_call(r, lcf, ctx, lcf->zone, res,
                               NGX_HTTP_OIC_AUTH_FETCH_BACKGROUND,
                               &refusal, &retry)
        == NULL)
    {
        if (refusal == NGX_HTTP_OIC_AUTH_NO_SLOT) {
            ngx_http_oic_auth_metrics_not_made(lcf,
                                           NGX_HTTP_OIC_AUTH_M_NM_CONNECTIONS);
        }

        return NGX_OIC_CACHE_STALE;
    }

    return NGX_OIC_CACHE_UPDATING;
}


/*
 * A call to IAM for generation res->gen of ctx's key (zone NULL: an
 * uncached one), through the gate. NULL when the gate refused it
 * (*refusal, *retry_ms: when to try again) or it could not start
 * (*refusal ADMITTED): the generation is given up or failed then.
 */
static ngx_http_oic_auth_fetch_t *
ngx_http_oic_auth_call(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_shm_zone_t *zone, ngx_oic_cache_res_t *res, ngx_uint_t flags,
    ngx_http_oic_auth_admit_e *refusal, ngx_msec_t *retry_ms)
{
    u_char                      client_key[NGX_OIC_KEY_LEN];
    oic_str_t                   fields[3];
    const char                 *tag;
    ngx_uint_t                  n;
    ngx_oic_cache_failed_t      out;
    ngx_http_oic_auth_slot_t    slot;
    ngx_http_oic_auth_fetch_t  *fetch;

    tag = ngx_http_oic_auth_client_fields(lcf, ctx, fields, &n);

    ngx_http_oic_auth_guard_client_key(lcf->guard, tag, fields, n,
                                       client_key);

    *refusal = ngx_http_oic_auth_admit(r, lcf, ctx, res->accepted,
                                       client_key, &slot, retry_ms);

    if (*refusal != NGX_HTTP_OIC_AUTH_ADMITTED) {
        if (zone) {
            /* a refresh held off waits; a new key's next request asks */
            ngx_oic_cache_abandon(zone, ctx->key, res->gen,
                                  res->accepted ? *retry_ms : 0);
        }

        ngx_http_oic_auth_fleet_called(lcf, ctx, zone, NULL);

        return NULL;
    }

    fetch = ngx_http_oic_auth_fetch(r, lcf, ctx, zone, ctx->key, res->gen,
                                    flags);

    if (fetch == NULL) {
        ngx_http_oic_auth_guard_slot_free(lcf->guard, lcf->endpoint_key,
                                          &slot);

        ngx_memzero(&out, sizeof(ngx_oic_cache_failed_t));
        ngx_http_oic_auth_transient(zone, ctx->key, res->gen, res->accepted,
                                    NGX_HTTP_BAD_GATEWAY, "iam_unavailable",
                                    0, &out);
        *retry_ms = out.retry_ms;

        ngx_http_oic_auth_fleet_called(lcf, ctx, zone, NULL);

        return NULL;
    }

    fetch->slot = slot;
    fetch->accepted = res->accepted;
    fetch->failures = res->failures;
    ngx_memcpy(fetch->client_key, client_key, NGX_OIC_KEY_LEN);

    ngx_http_oic_auth_fleet_called(lcf, ctx, zone, fetch);

    return fetch;
}


/*
 * The failure limit's key fields (3 at most): the token endpoint and the
 * client id, or, in exchange mode, the gateway's client id and the user.
 * Returns the key's tag.
 */
const char *
ngx_http_oic_auth_client_fields(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, oic_str_t *fields, ngx_uint_t *n)
{
    fields[0].data = (char *) lcf->token_endpoint.data;
    fields[0].len = lcf->token_endpoint.len;

    if (ctx->mode == NGX_HTTP_OIC_AUTH_BASIC) {
        fields[1].data = (char *) ctx->client_id.data;
        fields[1].len = ctx->client_id.len;
        *n = 2;

        return "client";
    }

    fields[1].data = (char *) lcf->client_id.data;
    fields[1].len = lcf->client_id.len;
    fields[2].data = (char *) ctx->user.data;
    fields[2].len = ctx->user.len;
    *n = 3;

    return "user";
}


/* The answer of a refusal with a code copied from the zone. */
static ngx_int_t
ngx_http_oic_auth_refuse(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *ctx,
    ngx_uint_t status, u_char *error, time_t retry_after)
{
    ngx_str_t  code;

    if (ngx_http_oic_auth_set_str(r->pool, &code, (char *) error,
                                  ngx_strlen(error))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->retry_after = retry_after;

    return ngx_http_oic_auth_fail(r, ctx, status, (char *) code.data);
}


/*
 * The gate before a call to IAM. Keys IAM never accepted (unknown or
 * guessed credentials) meet every rule; a key IAM accepted before (its
 * refresh, or a new token once its old one ended) is never refused by the
 * failure limit nor by the budget (it counts all the same), and may use
 * every connection slot, where others get half of them. One log line per
 * kind of refusal per interval.
 */
static ngx_http_oic_auth_admit_e
ngx_http_oic_auth_admit(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_uint_t accepted, u_char *client_key, ngx_http_oic_auth_slot_t *slot,
    ngx_msec_t *retry_ms)
{
    u_char      who[NGX_HTTP_OIC_AUTH_LOG_ID + 64];
    time_t      left;
    ngx_uint_t  first, max, n;
    ngx_msec_t  ms;

    slot->index = -1;
    *retry_ms = 0;

    if (!accepted && lcf->failure_limit) {
        left = ngx_http_oic_auth_guard_throttled(lcf->guard, client_key,
                                                 lcf->failure_limit, &first);
        if (left) {
            if (first) {
                ngx_http_oic_auth_who(lcf, ctx, ctx->key, who, sizeof(who));
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "oic_auth: token for %s refused locally: IAM "
                              "refused its %s %ui times within %T s, new "
                              "tokens for it are refused for %T s more "
                              "(client_throttled)", who,
                              ctx->mode == NGX_HTTP_OIC_AUTH_BASIC
                              ? "client id" : "user",
                              lcf->failure_limit, lcf->failure_window, left);
            }

            ngx_http_oic_auth_metrics_not_made(lcf,
                                          NGX_HTTP_OIC_AUTH_M_NM_FAILURE_LIMIT);
            *retry_ms = left * 1000;
            return NGX_HTTP_OIC_AUTH_THROTTLED;
        }
    }

    ms = ngx_http_oic_auth_guard_blocked(lcf->guard, lcf->endpoint_key);

    if (ms) {
        n = ngx_http_oic_auth_guard_log_due(lcf->guard, lcf->endpoint_key,
                                            NGX_HTTP_OIC_AUTH_GUARD_BLOCKED);
        if (n) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "oic_auth: no token request to \"%V\" for %M ms "
                          "more: it answered 429 (%ui refused locally since "
                          "the last such line, iam_rate_limited)",
                          &lcf->token_endpoint, ms, n);
        }

        ngx_http_oic_auth_metrics_not_made(lcf,
                                           NGX_HTTP_OIC_AUTH_M_NM_RETRY_AFTER);
        *retry_ms = ms;
        return NGX_HTTP_OIC_AUTH_BLOCKED;
    }

    max = accepted ? (ngx_uint_t) lcf->connections
                   : ngx_max(1, (ngx_uint_t) lcf->connections / 2);

    if (ngx_http_oic_auth_guard_slot(lcf->guard, lcf->endpoint_key, max,
                                     lcf->timeout + NGX_HTTP_OIC_AUTH_GRACE,
                                     slot)
        != NGX_OK)
    {
        *retry_ms = 1000;
        return NGX_HTTP_OIC_AUTH_NO_SLOT;
    }

    if (ngx_http_oic_auth_guard_budget(lcf->guard, &lcf->budget, accepted,
                                       &left)
        != NGX_OK)
    {
        ngx_http_oic_auth_guard_slot_free(lcf->guard, lcf->endpoint_key,
                                          slot);

        n = ngx_http_oic_auth_guard_log_due(lcf->guard, lcf->endpoint_key,
                                            NGX_HTTP_OIC_AUTH_GUARD_BUDGET);
        if (n) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "oic_auth: the token budget of \"%V\" is spent "
                          "(oic_auth_iam_rate %ui.%03ui r/s burst=%ui): %ui "
                          "requests for new tokens refused since the last "
                          "such line (iam_rate_limited)",
                          &lcf->token_endpoint, lcf->budget.rate / 1000,
                          lcf->budget.rate % 1000, lcf->budget.burst / 1000,
                          n);
        }

        ngx_http_oic_auth_metrics_not_made(lcf, NGX_HTTP_OIC_AUTH_M_NM_BUDGET);
        *retry_ms = left * 1000;
        return NGX_HTTP_OIC_AUTH_OVER_BUDGET;
    }

    return NGX_HTTP_OIC_AUTH_ADMITTED;
}


/* The token request's body and client authentication (malloc'd). */
ngx_int_t
ngx_http_oic_auth_token_request(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_http_conf_t *hc)
{
    char                       *body;
    ngx_int_t                   rc;
    ngx_http_oic_auth_grant_t   g;

    ngx_memzero(&g, sizeof(ngx_http_oic_auth_grant_t));

    if (ctx->mode == NGX_HTTP_OIC_AUTH_BASIC) {
        rc = ngx_http_oic_auth_basic_grant(r, lcf, ctx, &g);

    } else {
        rc = ngx_http_oic_auth_exchange_grant(r, lcf, ctx, &g);
    }

    body = NULL;

    if (rc == NGX_OK) {
        g.names[g.n] = "scope";
        g.values[g.n].data = lcf->scope.len ? (char *) lcf->scope.data : NULL;
        g.values[g.n++].len = lcf->scope.len;

        body = oic_form_body(g.names, g.values, g.n);
    }

    if (g.wipe) {
        ngx_explicit_memzero(g.wipe, ngx_strlen(g.wipe));
        oic_free(g.wipe);
    }

    if (rc != NGX_OK || g.authorization == NULL || body == NULL) {
        oic_free(g.authorization);
        oic_free(body);
        return NGX_ERROR;
    }

    hc->authorization.data = (u_char *) g.authorization;
    hc->authorization.len = ngx_strlen(g.authorization);
    hc->body.data = (u_char *) body;
    hc->body.len = ngx_strlen(body);

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_token_status(ngx_http_oic_auth_fetch_t *fetch,
    oic_token_rc_t rc, char **code)
{
    switch (rc) {

    case OIC_TOKEN_OK:
        *code = "";
        return NGX_OK;

    case OIC_TOKEN_INVALID_CLIENT:
        *code = "invalid_client";

        /* in exchange mode the client is the gateway itself */
        return fetch->exchange ? NGX_HTTP_BAD_GATEWAY : NGX_HTTP_UNAUTHORIZED;

    case OIC_TOKEN_FORBIDDEN:
        *code = "forbidden";
        return NGX_HTTP_FORBIDDEN;

    case OIC_TOKEN_RATE_LIMITED:
        *code = "iam_rate_limited";
        return NGX_HTTP_SERVICE_UNAVAILABLE;

    default:
        *code = "iam_unavailable";
        return NGX_HTTP_BAD_GATEWAY;
    }
}


/*
 * A token: how long it is served (the earlier of expires_in and its own exp
 * claim) and when its refresh starts. NGX_DECLINED when it is not cached.
 */
static ngx_int_t
ngx_http_oic_auth_token_store(ngx_http_oic_auth_fetch_t *fetch,
    ngx_str_t *token, long long expires_in)
{
    time_t            now;
    ngx_int_t         rc;
    long long         exp;
    oic_token_life_t  life;

    now = ngx_time();
    exp = oic_jwt_peek_exp((char *) token->data, token->len);

    switch (oic_token_life(now, expires_in, exp, fetch->ttl, &life)) {

    case OIC_LIFE_NONE:
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "oic_auth: token for %s not cached: expires_in %L "
                      "with a refresh margin of %T s",
                      fetch->who, expires_in, fetch->ttl);
        life.real_end = now;
        life.refresh_at = now;
        break;

    case OIC_LIFE_EXPIRED:
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "oic_auth: token for %s not cached: its exp claim %L "
                      "is not in the future", fetch->who, exp);
        life.real_end = now;
        life.refresh_at = now;
        break;

    case OIC_LIFE_SHORT:
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "oic_auth: token for %s lives %T s, not longer than "
                      "the refresh margin of %T s: its refresh starts "
                      "halfway, after %T s", fetch->who,
                      (time_t) (life.real_end - now), fetch->ttl,
                      (time_t) (life.refresh_at - now));

        /* fall through */

    default:
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "oic_auth: token issued for %s, cached for %T s%s, "
                      "refreshed after %T s", fetch->who,
                      (time_t) (life.real_end - now),
                      life.by_exp ? " (its exp claim is earlier than "
                                    "expires_in)" : "",
                      (time_t) (life.refresh_at - now));

        if (fetch->failures) {
            ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                          "oic_auth: token for %s issued after %ui failed "
                          "tries", fetch->who, fetch->failures);
        }
    }

    if (fetch->zone == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_oic_cache_complete(fetch->zone, fetch->key, fetch->gen, token,
                                (time_t) life.refresh_at,
                                (time_t) life.real_end,
                                (time_t) life.real_end + 60);
    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "oic_auth: no room in the cache zone for the token "
                      "of %s: requests for it waiting in other workers "
                      "get 503", fetch->who);
    }

    if (life.real_end > now) {
        ngx_http_oic_auth_fleet_token(fetch, token, (time_t) life.refresh_at,
                                      (time_t) life.real_end);
    }

    return rc;
}


/*
 * A call that failed without a refusal, or could not start (zone NULL: an
 * uncached one). For a key IAM accepted before (its refresh, or a new token
 * after its old one), the next try backs off, 1 s doubling up to 30 s with
 * jitter, and its token, while valid, stays served meanwhile. A key IAM
 * never accepted may try again at once: the budget bounds its calls. Either
 * way, not before min_ms (a 429's Retry-After).
 */
static void
ngx_http_oic_auth_transient(ngx_shm_zone_t *zone, u_char *key, uint32_t gen,
    ngx_uint_t accepted, ngx_uint_t status, char *code, ngx_msec_t min_ms,
    ngx_oic_cache_failed_t *out)
{
    ngx_oic_cache_failure_t  f;

    if (zone == NULL) {
        out->retry_ms = min_ms;
        return;
    }

    ngx_memzero(&f, sizeof(ngx_oic_cache_failure_t));
    f.status = status;
    f.error = code;
    f.base_ms = accepted ? NGX_HTTP_OIC_AUTH_BACKOFF_BASE : 0;
    f.cap_ms = NGX_HTTP_OIC_AUTH_BACKOFF_CAP;
    f.jitter = 1;
    f.min_ms = min_ms;

    ngx_oic_cache_fail(zone, key, gen, &f, out);
}


/*
 * A definitive refusal (invalid_client, unauthorized_client, invalid_scope,
 * invalid_grant): the credentials are wrong or were revoked. Their token,
 * if any, is no longer served; the refusal is remembered for
 * oic_auth_negative_ttl; it counts towards the client's failure limit.
 */
static void
ngx_http_oic_auth_refused(ngx_http_oic_auth_fetch_t *fetch,
    oic_token_result_t *tr, ngx_uint_t status, char *code)
{
    ngx_uint_t                     count;
    ngx_oic_cache_failed_t         out;
    ngx_oic_cache_failure_t        f;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    lcf = fetch->conf;

    ngx_memzero(&out, sizeof(ngx_oic_cache_failed_t));

    if (fetch->zone) {
        ngx_memzero(&f, sizeof(ngx_oic_cache_failure_t));
        f.status = status;
        f.error = code;
        f.definitive = 1;
        f.negative_ttl = lcf->negative_ttl;

        ngx_oic_cache_fail(fetch->zone, fetch->key, fetch->gen, &f, &out);

        ngx_http_oic_auth_fleet_failure(fetch, 1, status, code,
                                        (ngx_msec_t) lcf->negative_ttl * 1000);
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "oic_auth: token request for %s refused: %s%s%s",
                  fetch->who, tr->reason,
                  (fetch->zone && lcf->negative_ttl)
                  ? "; remembered" : "",
                  out.dropped ? "; its cached token is no longer served"
                              : "");

    if (lcf->failure_limit == 0) {
        return;
    }

    count = ngx_http_oic_auth_guard_refused(lcf->guard, fetch->client_key,
                                            lcf->failure_window);

    ngx_http_oic_auth_fleet_refused(fetch, lcf->failure_window);

    if (count == lcf->failure_limit) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "oic_auth: IAM refused the %s of %s %ui times within "
                      "%T s: new tokens for it are refused locally until "
                      "that time has passed (client_throttled)",
                      fetch->exchange ? "user" : "client id", fetch->who,
                      count, lcf->failure_window);
    }
}


void
ngx_http_oic_auth_token_done(ngx_oic_http_t *h)
{
    char                          *code;
    time_t                         retry_after;
    ngx_str_t                      token;
    ngx_int_t                      status;
    ngx_msec_t                     blocked;
    oic_token_result_t             tr;
    ngx_oic_cache_failed_t         out;
    ngx_http_oic_auth_fetch_t     *fetch;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    fetch = h->data;
    lcf = fetch->conf;
    blocked = 0;
    retry_after = 0;

    ngx_queue_remove(&fetch->queue);

    ngx_http_oic_auth_guard_slot_free(lcf->guard, lcf->endpoint_key,
                                      &fetch->slot);

    if (h->result != 0) {
        ngx_memzero(&tr, sizeof(oic_token_result_t));
        tr.rc = OIC_TOKEN_UPSTREAM_ERROR;
        ngx_snprintf((u_char *) tr.reason, sizeof(tr.reason), "%s%Z",
                     ngx_oic_http_strerror(h));
        tr.reason[sizeof(tr.reason) - 1] = '\0';

    } else {
        oic_token_response_parse(h->status, (char *) h->buf, h->len, &tr);
    }

    ngx_http_oic_auth_metrics_iam(lcf, h, &tr);

    if (tr.rc == OIC_TOKEN_RATE_LIMITED) {
        /* no call to this endpoint from any worker until Retry-After */
        blocked = ngx_http_oic_auth_guard_block(lcf->guard, lcf->endpoint_key,
                                                h->retry_after);

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "oic_auth: \"%V\" answered 429 to the token request "
                      "for %s: no token request to it for %M ms",
                      &lcf->token_endpoint, fetch->who, blocked);

        ngx_http_oic_auth_fleet_block(fetch, blocked);

    } else if (h->result == 0 && h->status) {
        ngx_http_oic_auth_guard_answered(lcf->guard, lcf->endpoint_key);
    }

    status = ngx_http_oic_auth_token_status(fetch, tr.rc, &code);

    if (tr.error[0] && status != NGX_HTTP_BAD_GATEWAY) {
        code = tr.error;
    }

    ngx_str_null(&token);

    switch (tr.rc) {

    case OIC_TOKEN_OK:
        token.data = (u_char *) tr.access_token;
        token.len = tr.access_token_len;

        (void) ngx_http_oic_auth_token_store(fetch, &token, tr.expires_in);
        break;

    case OIC_TOKEN_INVALID_CLIENT:
    case OIC_TOKEN_FORBIDDEN:
        ngx_http_oic_auth_refused(fetch, &tr, status, code);
        break;

    default:
        ngx_memzero(&out, sizeof(ngx_oic_cache_failed_t));
        ngx_http_oic_auth_transient(fetch->zone, fetch->key, fetch->gen,
                                    fetch->accepted, status, code, blocked,
                                    &out);

        if (out.retry_ms) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "oic_auth: token request for %s %s: %s; next try "
                          "in %M ms", fetch->who,
                          h->result ? "failed" : "refused", tr.reason,
                          out.retry_ms);

        } else {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "oic_auth: token request for %s %s: %s",
                          fetch->who, h->result ? "failed" : "refused",
                          tr.reason);
        }

        if (out.stale && out.failures == 1) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "oic_auth: the refresh of the token for %s "
                          "failed: the cached token is served until its "
                          "end in %T s (STALE), with tries backing off",
                          fetch->who, out.valid_until - ngx_time());
        }

        retry_after = (time_t) ((out.retry_ms + 999) / 1000);

        if (fetch->zone) {
            ngx_http_oic_auth_fleet_failure(fetch, 0, status, code,
                                            out.retry_ms);
        }
    }

    ngx_http_oic_auth_wake(fetch, status, &token, code, retry_after);

    if (tr.access_token) {
        ngx_explicit_memzero(tr.access_token, tr.access_token_len);
    }

    oic_token_result_free(&tr);
    ngx_oic_http_free(h);
    ngx_http_oic_auth_fleet_release(fetch);
    ngx_free(fetch);
}


/*
 * oic_auth_purge_on_status: the backend refused the token a request carried
 * (e.g. 401: revoked early, or the backend's view of its life differs).
 * The token leaves the cache, so that the next request fetches a new one;
 * at most one purge per key per oic_auth_negative_ttl (at least 1 s), so a
 * backend that refuses every token cannot turn every request into a call.
 */
static ngx_int_t
ngx_http_oic_auth_purge_filter(ngx_http_request_t *r)
{
    u_char                        who[NGX_HTTP_OIC_AUTH_LOG_ID + 64];
    ngx_uint_t                    i, *code;
    ngx_http_oic_auth_ctx_t      *ctx;
    ngx_http_oic_auth_loc_conf_t *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    if (lcf->purge_status == NULL || r->upstream == NULL) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_oic_auth_get_ctx(r);

    if (ctx == NULL || ctx->conf != lcf || ctx->state != NGX_HTTP_OIC_AUTH_DONE
        || ctx->status != NGX_OK || ctx->token.len == 0)
    {
        return ngx_http_next_header_filter(r);
    }

    code = lcf->purge_status->elts;

    for (i = 0; i < lcf->purge_status->nelts; i++) {
        if (code[i] != r->headers_out.status) {
            continue;
        }

        ngx_http_oic_auth_who(lcf, ctx, ctx->key, who, sizeof(who));

        if (ngx_oic_cache_purge(lcf->zone, ctx->key, &ctx->token,
                                ngx_max(lcf->negative_ttl, 1))
            == NGX_OK)
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "oic_auth: the backend answered %ui to the token "
                          "of %s: dropped from the cache", code[i], who);

        } else {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "oic_auth: token of %s not dropped (purged "
                           "lately, or already replaced)", who);
        }

        break;
    }

    return ngx_http_next_header_filter(r);
}


ngx_int_t
ngx_http_oic_auth_purge_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_oic_auth_purge_filter;

    return NGX_OK;
}
