/*
 * basic mode: legacy clients send "Authorization: Basic id:secret"; the
 * module asks IAM for a client_credentials token with the configured scope,
 * on the client's behalf, and caches it per (endpoint, id, secret, scope),
 * under a key only the zone's secret can derive.
 * This file owns the Basic side: parsing, the cache key, the IAM request.
 */

#include "ngx_http_oic_auth.h"


ngx_int_t
ngx_http_oic_auth_basic(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    char                stack[512], *buf;
    size_t              size;
    ngx_int_t           rc;
    oic_str_t           fields[4];
    oic_basic_rc_t      brc;
    ngx_table_elt_t    *h;
    oic_basic_creds_t   creds;

    ctx->challenge = NGX_HTTP_OIC_AUTH_BASIC;

    h = r->headers_in.authorization;

    /* decoded on the stack (the pool for a long header), cleared below */

    size = h->value.len;
    buf = stack;

    if (size > sizeof(stack)) {
        buf = ngx_pnalloc(r->pool, size);
        if (buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    brc = oic_basic_parse_into((char *) h->value.data, h->value.len, buf,
                               size, &creds);

    if (brc != OIC_BASIC_OK) {
        ngx_explicit_memzero(buf, size);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "oic_auth: malformed Basic credentials");
        return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_UNAUTHORIZED,
                                      "malformed_credentials");
    }

    if (ngx_http_oic_auth_set_str(r->pool, &ctx->client_id, creds.client_id,
                                  creds.client_id_len)
        != NGX_OK)
    {
        ngx_explicit_memzero(buf, size);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    fields[0].data = (char *) lcf->token_endpoint.data;
    fields[0].len = lcf->token_endpoint.len;
    fields[1].data = creds.client_id;
    fields[1].len = creds.client_id_len;
    fields[2].data = creds.secret;
    fields[2].len = creds.secret_len;
    fields[3].data = (char *) lcf->scope.data;
    fields[3].len = lcf->scope.len;

    ngx_oic_cache_key(lcf->zone, "basic", fields, 4, ctx->key);

    ctx->creds = &creds;
    ctx->key_tag = "basic";
    ctx->key_fields = fields;
    ctx->key_nfields = 4;

    rc = ngx_http_oic_auth_token(r, lcf, ctx);

    ctx->creds = NULL;
    ctx->key_fields = NULL;

    ngx_explicit_memzero(buf, size);

    return rc;
}


/* client_credentials, authenticated with the client's own credentials */
ngx_int_t
ngx_http_oic_auth_basic_grant(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_http_oic_auth_grant_t *g)
{
    oic_basic_creds_t  *creds;

    creds = ctx->creds;

    g->authorization = oic_basic_header(creds->client_id, creds->client_id_len,
                                        creds->secret, creds->secret_len);

    g->names[g->n] = "grant_type";
    g->values[g->n].data = "client_credentials";
    g->values[g->n++].len = sizeof("client_credentials") - 1;

    return NGX_OK;
}
