/*
 * The check's answers: the outcome of a request (the forwarded
 * Authorization header on success), refusals with RFC 6750 / RFC 7617
 * WWW-Authenticate challenges (remembered, so that they can go again).
 */

#include "ngx_http_oic_auth.h"


static ngx_int_t ngx_http_oic_auth_set_bearer(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_challenge(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_retry_after(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx);


ngx_int_t
ngx_http_oic_auth_finish(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->status == NGX_OK) {
        if (ctx->mode == NGX_HTTP_OIC_AUTH_BASIC) {
            /* IAM accepted the credentials: a cached token or a fetch */
            rc = ngx_http_oic_auth_limit_check(r, lcf, ctx);
            if (rc != NGX_OK) {
                return rc;
            }
        }

        if (ctx->mode == NGX_HTTP_OIC_AUTH_BEARER) {
            return NGX_OK;
        }

        if (ngx_http_oic_auth_set_bearer(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;
    }

    if (ctx->status == NGX_HTTP_UNAUTHORIZED
        || (ctx->bearer_error && ctx->status != NGX_HTTP_NOT_FOUND))
    {
        if (ngx_http_oic_auth_challenge(r, lcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ctx->retry_after && ngx_http_oic_auth_retry_after(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ctx->status;
}


/* Retry-After: N, once per answer (a refusal that goes again keeps it). */
static ngx_int_t
ngx_http_oic_auth_retry_after(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_table_elt_t  *h;

    h = ctx->retry_header;

    if (h == NULL) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (h->value.data == NULL) {
            h->hash = 0;
            return NGX_ERROR;
        }

#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "Retry-After");
        ctx->retry_header = h;
    }

    h->hash = 1;
    h->value.len = ngx_sprintf(h->value.data, "%T", ctx->retry_after)
                   - h->value.data;

    return NGX_OK;
}


ngx_int_t
ngx_http_oic_auth_fail(ngx_http_request_t *r, ngx_http_oic_auth_ctx_t *ctx,
    ngx_int_t status, char *error)
{
    ngx_http_oic_auth_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    ctx->state = NGX_HTTP_OIC_AUTH_DONE;
    ctx->status = status;
    ctx->error.data = (u_char *) error;
    ctx->error.len = ngx_strlen(error);

    return ngx_http_oic_auth_finish(r, lcf, ctx);
}


/* 401 with error="invalid_token" and a description safe in a header. */
ngx_int_t
ngx_http_oic_auth_invalid_token(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, char *error, const char *desc)
{
    u_char  *p;
    size_t   i, len;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "oic_auth: invalid token: %s", desc);

    len = ngx_min(ngx_strlen(desc), 200);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < len; i++) {
        p[i] = (desc[i] >= 0x20 && desc[i] < 0x7f
                && desc[i] != '"' && desc[i] != '\\') ? desc[i] : '\'';
    }

    ctx->bearer_error = error;
    ctx->bearer_desc.data = p;
    ctx->bearer_desc.len = len;

    return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_UNAUTHORIZED, error);
}


/* Authorization: Bearer <IAM token>, which proxy_pass forwards. */
static ngx_int_t
ngx_http_oic_auth_set_bearer(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx)
{
    u_char     *p;
    ngx_str_t   value;

    if (ctx->forward.len == sizeof(NGX_HTTP_OIC_AUTH_BEARER_PREFIX) - 1
                           + ctx->token.len
        && ctx->forward.data + sizeof(NGX_HTTP_OIC_AUTH_BEARER_PREFIX) - 1
           == ctx->token.data)
    {
        /* the token was copied from the cache after the prefix */
        return ngx_http_oic_auth_set_header(r, ctx, &ctx->forward);
    }

    p = ngx_pnalloc(r->pool, sizeof(NGX_HTTP_OIC_AUTH_BEARER_PREFIX) - 1
                             + ctx->token.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    p = ngx_cpymem(p, NGX_HTTP_OIC_AUTH_BEARER_PREFIX,
                   sizeof(NGX_HTTP_OIC_AUTH_BEARER_PREFIX) - 1);
    p = ngx_cpymem(p, ctx->token.data, ctx->token.len);
    value.len = p - value.data;

    return ngx_http_oic_auth_set_header(r, ctx, &value);
}


static ngx_table_elt_t *
ngx_http_oic_auth_push_challenge(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        h->hash = 0;
        return NULL;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "WWW-Authenticate");

    if (r->headers_out.www_authenticate == NULL) {
        r->headers_out.www_authenticate = h;
    }

    ctx->challenges[ctx->challenges[0] ? 1 : 0] = h;

    return h;
}


/*
 * The challenges (and the Retry-After) this context added go (a new check,
 * or access granted).
 */
void
ngx_http_oic_auth_drop_challenges(ngx_http_request_t *r,
    ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    if (ctx->retry_header) {
        ctx->retry_header->hash = 0;
        ctx->retry_header = NULL;
    }

    for (i = 0; i < 2; i++) {
        h = ctx->challenges[i];

        if (h == NULL) {
            continue;
        }

        h->hash = 0;

        if (r->headers_out.www_authenticate == h) {
            r->headers_out.www_authenticate = NULL;
        }

        ctx->challenges[i] = NULL;
    }
}


/* One WWW-Authenticate challenge per accepted scheme. */
static ngx_int_t
ngx_http_oic_auth_challenge(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    u_char           *p;
    size_t            len;
    ngx_table_elt_t  *h;

    ngx_http_oic_auth_drop_challenges(r, ctx);

    if (ctx->challenge & NGX_HTTP_OIC_AUTH_BASIC) {
        len = sizeof("Basic realm=\"\", charset=\"UTF-8\"") - 1
              + lcf->realm.len;

        h = ngx_http_oic_auth_push_challenge(r, ctx, len);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->value.len = ngx_sprintf(h->value.data,
                                   "Basic realm=\"%V\", charset=\"UTF-8\"",
                                   &lcf->realm)
                       - h->value.data;
    }

    if (ctx->challenge
        & (NGX_HTTP_OIC_AUTH_BEARER|NGX_HTTP_OIC_AUTH_EXCHANGE))
    {
        len = sizeof("Bearer realm=\"\"") - 1 + lcf->realm.len;

        if (ctx->bearer_error) {
            len += sizeof(", error=\"\", error_description=\"\"") - 1
                   + ngx_strlen(ctx->bearer_error) + ctx->bearer_desc.len;
        }

        if (ctx->bearer_scope) {
            len += sizeof(", scope=\"\"") - 1 + lcf->scopes_text.len;
        }

        h = ngx_http_oic_auth_push_challenge(r, ctx, len);
        if (h == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(h->value.data, "Bearer realm=\"%V\"", &lcf->realm);

        if (ctx->bearer_error) {
            p = ngx_sprintf(p, ", error=\"%s\"", ctx->bearer_error);

            if (ctx->bearer_desc.len) {
                p = ngx_sprintf(p, ", error_description=\"%V\"",
                                &ctx->bearer_desc);
            }
        }

        if (ctx->bearer_scope) {
            p = ngx_sprintf(p, ", scope=\"%V\"", &lcf->scopes_text);
        }

        h->value.len = p - h->value.data;
    }

    return NGX_OK;
}
