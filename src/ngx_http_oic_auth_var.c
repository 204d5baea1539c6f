/*
 * The $oic_auth_* variables: what the check found out about the request
 * (client, user, subject, scopes, claims, cache status, error), for
 * proxy_set_header, add_header and the access log; what comes from
 * credentials only when the module granted access, every value escaped.
 */

#include "ngx_http_oic_auth.h"


typedef enum {
    NGX_HTTP_OIC_AUTH_VAR_CLIENT_ID = 0,
    NGX_HTTP_OIC_AUTH_VAR_CACHE_STATUS,
    NGX_HTTP_OIC_AUTH_VAR_TOKEN,
    NGX_HTTP_OIC_AUTH_VAR_ERROR,
    NGX_HTTP_OIC_AUTH_VAR_SUBJECT,
    NGX_HTTP_OIC_AUTH_VAR_USER,
    NGX_HTTP_OIC_AUTH_VAR_SCOPES
} ngx_http_oic_auth_var_e;


static u_char  ngx_http_oic_auth_empty[] = "";


/*
 * A variable's value. Control bytes (< 0x20, 0x7f) would end or split a
 * header (proxy_set_header, add_header) or a log line: they, and the
 * backslash that makes the encoding unambiguous, are written as \xHH, as
 * nginx's access log does; UTF-8 stays as it is. An empty value is "not
 * found", with a valid pointer all the same.
 */
static ngx_int_t
ngx_http_oic_auth_value(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    u_char *data, size_t len)
{
    u_char         *p;
    size_t          i, n;
    static u_char   hex[] = "0123456789ABCDEF";

    v->valid = 1;
    v->no_cacheable = 0;

    if (len == 0) {
        v->len = 0;
        v->data = ngx_http_oic_auth_empty;
        v->not_found = 1;
        return NGX_OK;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (data[i] < 0x20 || data[i] == 0x7f || data[i] == '\\') {
            n++;
        }
    }

    if (n) {
        p = ngx_pnalloc(r->pool, len + 3 * n);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;

        for (i = 0; i < len; i++) {
            if (data[i] < 0x20 || data[i] == 0x7f || data[i] == '\\') {
                *p++ = '\\';
                *p++ = 'x';
                *p++ = hex[data[i] >> 4];
                *p++ = hex[data[i] & 0xf];

            } else {
                *p++ = data[i];
            }
        }

        data = v->data;
        len = p - data;
    }

    v->len = len;
    v->data = data;
    v->not_found = 0;

    return NGX_OK;
}


/* A claim from the core (malloc'd, or NULL): copied to the pool, escaped. */
static ngx_int_t
ngx_http_oic_auth_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, char *value)
{
    u_char  *p;
    size_t   len;

    len = value ? ngx_strlen(value) : 0;

    if (len == 0) {
        oic_free(value);
        return ngx_http_oic_auth_value(r, v, NULL, 0);
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        oic_free(value);
        return NGX_ERROR;
    }

    ngx_memcpy(p, value, len);
    oic_free(value);

    return ngx_http_oic_auth_value(r, v, p, len);
}


/*
 * A claim that is a string: shown from the decoded token itself, which the
 * request holds until its pool goes (escaped into the pool if it must be);
 * other claims as the core renders them.
 */
static ngx_int_t
ngx_http_oic_auth_claim_view(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, oic_jwt_t *jwt, char *name, size_t len)
{
    size_t       n;
    const char  *value;

    if (oic_jwt_claim_view(jwt, name, len, &value, &n)) {
        return ngx_http_oic_auth_value(r, v, (u_char *) value, n);
    }

    return ngx_http_oic_auth_claim_value(r, v, oic_jwt_claim(jwt, name, len));
}


/*
 * The request's context when the module granted access: what a token (or
 * Basic credentials) says is shown only once every check passed and, in
 * basic and exchange modes, IAM accepted; never for a request the module
 * refused, even one another access module let in (satisfy any). The
 * limits, which come once the mode verified the credentials, see it too:
 * while they evaluate their keys, and in the 429 they answer.
 */
static ngx_http_oic_auth_ctx_t *
ngx_http_oic_auth_granted(ngx_http_oic_auth_ctx_t *ctx)
{
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->state == NGX_HTTP_OIC_AUTH_DONE
        && (ctx->status == NGX_OK
            || (ctx->verified && ctx->status == NGX_HTTP_TOO_MANY_REQUESTS)))
    {
        return ctx;
    }

    /* the limits' keys (exchange: checked before the IAM call) */

    if (ctx->verified && ctx->state == NGX_HTTP_OIC_AUTH_NEW) {
        return ctx;
    }

    return NULL;
}


static ngx_int_t
ngx_http_oic_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    size_t                         len;
    ngx_str_t                     *s;
    const char                    *value;
    ngx_http_oic_auth_ctx_t       *ctx, *ok;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    ctx = ngx_http_oic_auth_get_ctx(r);

    if (ctx == NULL) {
        return ngx_http_oic_auth_value(r, v, NULL, 0);
    }

    ok = ngx_http_oic_auth_granted(ctx);

    switch (data) {

    case NGX_HTTP_OIC_AUTH_VAR_CACHE_STATUS:
        s = &ctx->cache_status;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_ERROR:
        s = &ctx->error;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_CLIENT_ID:
        s = ok ? &ctx->client_id : NULL;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_TOKEN:
        s = ok ? &ctx->token : NULL;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_USER:
        if (ok && ctx->user.len) {
            s = &ctx->user;
            break;
        }

        if (ok == NULL || ctx->jwt == NULL) {
            s = NULL;
            break;
        }

        /* oic_auth_user_claim: by default upn preferred_username unique_name */
        lcf = ctx->conf;

        (void) oic_jwt_first_claim_view(ctx->jwt, lcf->user_claims->elts,
                                        lcf->user_claims->nelts, &value, &len);

        return ngx_http_oic_auth_value(r, v, (u_char *) value, len);

    default:
        if (ok == NULL || ctx->jwt == NULL) {
            s = NULL;
            break;
        }

        if (data == NGX_HTTP_OIC_AUTH_VAR_SUBJECT) {
            return ngx_http_oic_auth_claim_view(r, v, ctx->jwt, "sub", 3);
        }

        lcf = ctx->conf;

        return ngx_http_oic_auth_claim_value(r, v,
                                   oic_jwt_scopes(ctx->jwt, &lcf->policy));
    }

    if (s == NULL) {
        return ngx_http_oic_auth_value(r, v, NULL, 0);
    }

    return ngx_http_oic_auth_value(r, v, s->data, s->len);
}


/* $oic_auth_claim_NAME */
static ngx_int_t
ngx_http_oic_auth_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                *name = (ngx_str_t *) data;
    ngx_http_oic_auth_ctx_t  *ctx;
    size_t                    prefix = sizeof("oic_auth_claim_") - 1;

    ctx = ngx_http_oic_auth_granted(ngx_http_oic_auth_get_ctx(r));

    if (ctx == NULL || ctx->jwt == NULL || name->len <= prefix) {
        return ngx_http_oic_auth_value(r, v, NULL, 0);
    }

    return ngx_http_oic_auth_claim_view(r, v, ctx->jwt,
                                        (char *) name->data + prefix,
                                        name->len - prefix);
}


static ngx_http_variable_t  ngx_http_oic_auth_vars[] = {

    { ngx_string("oic_auth_client_id"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_CLIENT_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_cache_status"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_CACHE_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_token"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_TOKEN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_error"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_ERROR, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_subject"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_SUBJECT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_user"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_USER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_scopes"), NULL, ngx_http_oic_auth_variable,
      NGX_HTTP_OIC_AUTH_VAR_SCOPES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("oic_auth_claim_"), NULL, ngx_http_oic_auth_claim_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("oic_auth_limit_status"), NULL,
      ngx_http_oic_auth_limit_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_oic_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_oic_auth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}
