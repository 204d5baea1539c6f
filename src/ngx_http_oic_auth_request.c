/*
 * The request model: where the check applies and what a request carries
 * once the module has answered.
 *
 *   - the per-request context, found again after an internal redirect
 *     (nginx clears module contexts there) through a pool cleanup that
 *     marks it, as lua-nginx-module does;
 *   - the client's own Authorization header: remembered before the module
 *     forwards another one, the starting point of every check (each
 *     location with oic_auth checks what the client sent), and given back
 *     to locations without oic_auth;
 *   - subrequests: their header list is their parent's (a struct copy
 *     whose elements are shared), so a subrequest gets its own copy before
 *     its Authorization header changes;
 *   - satisfy any and auth_request: the only refusals another module acts
 *     on are 401 and 403, and what is left of a refusal when another
 *     access module lets the request in.
 */

#include "ngx_http_oic_auth.h"


static void ngx_http_oic_auth_ctx_mark(void *data);
static ngx_http_oic_auth_ctx_t *ngx_http_oic_auth_nearest_ctx(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_oic_auth_restore(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *own, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_copy_headers(ngx_http_request_t *r,
    ngx_str_t *value);


/* The request's context, also after an internal redirect cleared r->ctx. */
ngx_http_oic_auth_ctx_t *
ngx_http_oic_auth_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_oic_auth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);

    if (ctx || !r->internal) {
        return ctx;
    }

    /*
     * subrequests share the main request's pool; cleanups are a LIFO
     * list, so the newest context of r comes first
     */

    for (cln = r->pool->cleanup; cln; cln = cln->next) {

        if (cln->handler != ngx_http_oic_auth_ctx_mark) {
            continue;
        }

        ctx = cln->data;

        if (ctx->request == r) {
            ngx_http_set_ctx(r, ctx, ngx_http_oic_auth_module);
            return ctx;
        }
    }

    return NULL;
}


/* only marks a context in r->pool->cleanup; the pool frees it */
static void
ngx_http_oic_auth_ctx_mark(void *data)
{
}


/*
 * The nearest context from r up to the main request: each knows what the
 * client sent. Without one, nothing has changed r's header.
 */
static ngx_http_oic_auth_ctx_t *
ngx_http_oic_auth_nearest_ctx(ngx_http_request_t *r)
{
    ngx_http_oic_auth_ctx_t  *ctx;

    for ( /* void */ ; r; r = r->parent) {
        ctx = ngx_http_oic_auth_get_ctx(r);

        if (ctx) {
            return ctx;
        }
    }

    return NULL;
}


/*
 * A context for a check in the location lcf. prev: the request's context
 * from another location (before an internal redirect), whose challenges go
 * and whose record of the client's header carries over. The check starts
 * from the header the client sent.
 */
ngx_http_oic_auth_ctx_t *
ngx_http_oic_auth_new_ctx(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *prev)
{
    ngx_table_elt_t          *h;
    ngx_pool_cleanup_t       *pcln;
    ngx_http_cleanup_t       *cln;
    ngx_http_oic_auth_ctx_t  *ctx, *pctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_oic_auth_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->request = r;
    ctx->conf = lcf;
    ngx_queue_init(&ctx->wait_link);

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_oic_auth_cleanup;
    cln->data = ctx;

    pcln = ngx_pool_cleanup_add(r->pool, 0);
    if (pcln == NULL) {
        return NULL;
    }

    pcln->handler = ngx_http_oic_auth_ctx_mark;
    pcln->data = ctx;

    if (prev) {
        /* an internal redirect: a new check, as if for a new request */

        ngx_http_oic_auth_cleanup(prev);
        ngx_http_oic_auth_drop_challenges(r, prev);

        ctx->client_auth = prev->client_auth;
        ctx->client_auth_set = prev->client_auth_set;
        ctx->own_headers = prev->own_headers;
        ctx->cache_status = prev->cache_status;

    } else {
        pctx = ngx_http_oic_auth_nearest_ctx(r->parent);

        if (pctx) {
            ctx->client_auth = pctx->client_auth;
            ctx->client_auth_set = pctx->client_auth_set;

        } else {
            h = r->headers_in.authorization;

            if (h) {
                ctx->client_auth = h->value;
                ctx->client_auth_set = 1;
            }
        }
    }

    ngx_http_set_ctx(r, ctx, ngx_http_oic_auth_module);

    if (ngx_http_oic_auth_restore(r, ctx, ctx) != NGX_OK) {
        return NULL;
    }

    return ctx;
}


/*
 * r's Authorization header becomes the one the client sent (ctx knows it),
 * unless it is that already. own: r's context, or NULL.
 */
static ngx_int_t
ngx_http_oic_auth_restore(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *own,
    ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL || !ctx->client_auth_set) {
        if (h == NULL && !ctx->client_auth_set) {
            return NGX_OK;
        }

    } else if (h->value.len == ctx->client_auth.len
               && ngx_memcmp(h->value.data, ctx->client_auth.data,
                             h->value.len) == 0)
    {
        return NGX_OK;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "oic_auth: the client's Authorization header again");

    return ngx_http_oic_auth_set_header(r, own, ctx->client_auth_set
                                                ? &ctx->client_auth : NULL);
}


/*
 * r's Authorization header becomes value (NULL: none). A subrequest's
 * header elements are its parent's until it has its own list: changing one
 * in place would change the parent's header too.
 */
ngx_int_t
ngx_http_oic_auth_set_header(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    if (r != r->main && (ctx == NULL || !ctx->own_headers)) {

        if (ngx_http_oic_auth_copy_headers(r, value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ctx) {
            ctx->own_headers = 1;
        }

        return NGX_OK;
    }

    h = r->headers_in.authorization;

    if (value == NULL) {
        return h ? ngx_http_oic_auth_copy_headers(r, NULL) : NGX_OK;
    }

    if (h == NULL) {
        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&h->key, "Authorization");
        h->lowcase_key = (u_char *) "authorization";
        h->hash = ngx_hash_key(h->lowcase_key, h->key.len);
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        r->headers_in.authorization = h;
    }

    h->value = *value;

    return NGX_OK;
}


/* A new header list for r: the old one's elements, Authorization = value. */
static ngx_int_t
ngx_http_oic_auth_copy_headers(ngx_http_request_t *r, ngx_str_t *value)
{
    ngx_uint_t        i, n;
    ngx_list_t        old;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *e;

    old = r->headers_in.headers;
    n = 1;

    for (part = &old.part; part; part = part->next) {
        n += part->nelts;
    }

    if (ngx_list_init(&r->headers_in.headers, r->pool, n,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        r->headers_in.headers = old;
        return NGX_ERROR;
    }

    part = &old.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (&h[i] == r->headers_in.authorization
            || (h[i].key.len == sizeof("Authorization") - 1
                && ngx_strncasecmp(h[i].key.data, (u_char *) "Authorization",
                                   sizeof("Authorization") - 1)
                   == 0))
        {
            continue;
        }

        e = ngx_list_push(&r->headers_in.headers);
        *e = h[i];
    }

    r->headers_in.authorization = NULL;

    if (value == NULL) {
        return NGX_OK;
    }

    e = ngx_list_push(&r->headers_in.headers);

    ngx_str_set(&e->key, "Authorization");
    e->lowcase_key = (u_char *) "authorization";
    e->hash = ngx_hash_key(e->lowcase_key, e->key.len);
    e->value = *value;
#if (nginx_version >= 1023000)
    e->next = NULL;
#endif

    r->headers_in.authorization = e;

    return NGX_OK;
}


/*
 * r is in a location without oic_auth. The Bearer header the module
 * forwards belongs to the location that has oic_auth: after an internal
 * redirect, or in a subrequest of a request the module changed, r gets the
 * header the client sent back, as a request sent there directly would have.
 */
ngx_int_t
ngx_http_oic_auth_leave(ngx_http_request_t *r)
{
    ngx_http_oic_auth_ctx_t  *ctx;

    if (!r->internal) {
        return NGX_OK;
    }

    ctx = ngx_http_oic_auth_nearest_ctx(r);

    if (ctx == NULL) {
        return NGX_OK;
    }

    return ngx_http_oic_auth_restore(r, ctx->request == r ? ctx : NULL, ctx);
}


/*
 * satisfy any: another access module let in a request this module refused.
 * nginx hides only the first WWW-Authenticate header; the module's own
 * challenges go here, where every path into the content phase passes
 * (a header filter would have to tell its refusal's answers apart from
 * any other answer). Credentials of the module's scheme that it refused
 * are not forwarded: the upstream never sees a client's raw Basic secret.
 */
ngx_int_t
ngx_http_oic_auth_let_in(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_http_oic_auth_drop_challenges(r, ctx);

    if (ctx->mode == 0 || r->headers_in.authorization == NULL) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "oic_auth: access granted by another module, the "
                  "refused credentials are not forwarded");

    return ngx_http_oic_auth_set_header(r, ctx, NULL);
}


/*
 * The answers other modules can act on. The access phase under satisfy
 * any: after 401 or 403 the other access modules have their say, any
 * other answer ends the request at once; a malformed header is a failed
 * authentication (401), the deny status 404 and IAM or JWKS trouble deny
 * (403). A subrequest: auth_request, the module that reads a subrequest's
 * status, takes 2xx, 401 and 403 and makes anything else a 500; the
 * client's errors (400, the deny status 404) become 401 and 403 there,
 * server-side trouble stays one. Internal errors stay what they are, and
 * so does a limit's 429: the caller was authenticated, a limit is not an
 * authentication failure another module may overrule.
 */
ngx_int_t
ngx_http_oic_auth_refusal(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (rc == NGX_OK || rc == NGX_AGAIN || rc == NGX_DONE || rc == NGX_ERROR
        || rc == NGX_HTTP_UNAUTHORIZED || rc == NGX_HTTP_FORBIDDEN
        || rc == NGX_HTTP_TOO_MANY_REQUESTS
        || rc == NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        return rc;
    }

    if (r != r->main) {
        if (rc != NGX_HTTP_BAD_REQUEST && rc != NGX_HTTP_NOT_FOUND) {
            return rc;
        }

    } else {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (clcf->satisfy != NGX_HTTP_SATISFY_ANY) {
            return rc;
        }
    }

    return (rc == NGX_HTTP_BAD_REQUEST) ? NGX_HTTP_UNAUTHORIZED
                                        : NGX_HTTP_FORBIDDEN;
}
