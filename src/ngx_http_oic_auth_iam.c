/*
 * IAM tokens (basic and exchange modes): the cache lookup that serves a
 * token, joins a fetch or starts one, and the handling of IAM's answer
 * (RFC 6749 5.1/5.2), which fills the zone and wakes the waiters.
 */

#include "ngx_http_oic_auth.h"


static ngx_str_t  ngx_http_oic_auth_hit = ngx_string("HIT");
static ngx_str_t  ngx_http_oic_auth_miss = ngx_string("MISS");
static ngx_str_t  ngx_http_oic_auth_waited = ngx_string("WAIT");


ngx_int_t
ngx_http_oic_auth_token(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_oic_cache_rc_e          rc;
    ngx_oic_cache_req_t         req;
    ngx_oic_cache_res_t         res;
    ngx_http_oic_auth_fetch_t  *fetch;

    ngx_memzero(&req, sizeof(ngx_oic_cache_req_t));
    req.deadline_ms = lcf->timeout + 1000;

    rc = ngx_oic_cache_acquire(lcf->zone, ctx->key, &req, r->pool, &res);

    switch (rc) {

    case NGX_OIC_CACHE_HIT:
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "oic_auth: token cache hit");

        if (ctx->cache_status.len == 0) {
            ctx->cache_status = ngx_http_oic_auth_hit;
        }

        ctx->token = res.value;
        ctx->state = NGX_HTTP_OIC_AUTH_DONE;
        ctx->status = NGX_OK;

        return ngx_http_oic_auth_finish(r, lcf, ctx);

    case NGX_OIC_CACHE_WAIT:
        ctx->cache_status = ngx_http_oic_auth_waited;
        return ngx_http_oic_auth_park(r, ctx, ctx->key, res.gen, 0);

    default: /* OWNER, or NOMEM: an uncached fetch for this request */
        ctx->cache_status = ngx_http_oic_auth_miss;

        fetch = ngx_http_oic_auth_fetch(r, lcf, ctx,
                                        rc == NGX_OIC_CACHE_OWNER
                                        ? lcf->zone : NULL,
                                        ctx->key, res.gen, 0);
        if (fetch == NULL) {
            if (rc == NGX_OIC_CACHE_OWNER) {
                ngx_oic_cache_fail(lcf->zone, ctx->key, res.gen,
                                   NGX_HTTP_BAD_GATEWAY, "iam_unavailable",
                                   0, 0);
            }

            return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_GATEWAY,
                                          "iam_unavailable");
        }

        return ngx_http_oic_auth_park(r, ctx, ctx->key, res.gen, 0);
    }
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


void
ngx_http_oic_auth_token_done(ngx_oic_http_t *h)
{
    char                       *code;
    time_t                      now, ttl;
    ngx_str_t                   token;
    ngx_int_t                   status;
    oic_token_result_t          tr;
    ngx_http_oic_auth_fetch_t  *fetch;

    fetch = h->data;
    now = ngx_time();

    ngx_queue_remove(&fetch->queue);

    if (h->result != 0) {
        ngx_memzero(&tr, sizeof(oic_token_result_t));
        tr.rc = OIC_TOKEN_UPSTREAM_ERROR;
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "oic_auth: token request for %s failed: %s",
                      fetch->who, ngx_oic_http_strerror(h));

    } else {
        oic_token_response_parse(h->status, (char *) h->buf, h->len, &tr);
    }

    status = ngx_http_oic_auth_token_status(fetch, tr.rc, &code);

    ngx_str_null(&token);

    if (tr.rc == OIC_TOKEN_OK) {
        token.data = (u_char *) tr.access_token;
        token.len = tr.access_token_len;

        ttl = (time_t) oic_token_ttl(tr.expires_in, fetch->ttl);

        if (ttl == 0) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "oic_auth: token for %s not cached: expires_in %L "
                          "with a refresh margin of %T s",
                          fetch->who, tr.expires_in, fetch->ttl);
        }

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "oic_auth: token issued for %s, cached for %T s",
                      fetch->who, ttl);

        if (fetch->zone
            && ngx_oic_cache_complete(fetch->zone, fetch->key, fetch->gen,
                                      &token, now + ttl, now + ttl)
               != NGX_OK)
        {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "oic_auth: no room in the cache zone for the token "
                          "of %s: requests for it waiting in other workers "
                          "get 503", fetch->who);
        }

    } else {
        if (h->result == 0) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "oic_auth: token request for %s refused: %s",
                          fetch->who, tr.reason);
        }

        if (tr.error[0] && status != NGX_HTTP_BAD_GATEWAY) {
            code = tr.error;
        }

        if (fetch->zone) {
            ngx_oic_cache_fail(fetch->zone, fetch->key, fetch->gen,
                               status, code, 0, 0);
        }
    }

    ngx_http_oic_auth_wake(fetch, status, &token, code);

    if (tr.access_token) {
        ngx_explicit_memzero(tr.access_token, tr.access_token_len);
    }

    oic_token_result_free(&tr);
    ngx_oic_http_free(h);
    ngx_free(fetch);
}
