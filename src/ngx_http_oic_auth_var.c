/*
 * The $oic_auth_* variables: what the access handler found out about the
 * request (client, user, subject, scopes, claims, cache status, error), for
 * proxy_set_header, add_header and the access log.
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


static ngx_int_t
ngx_http_oic_auth_claim_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, char *value)
{
    size_t  len;

    if (value == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    len = ngx_strlen(value);

    v->data = ngx_pnalloc(r->pool, len ? len : 1);
    if (v->data == NULL) {
        oic_free(value);
        return NGX_ERROR;
    }

    ngx_memcpy(v->data, value, len);
    oic_free(value);

    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                     *s;
    ngx_http_oic_auth_ctx_t       *ctx;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_OIC_AUTH_VAR_CLIENT_ID:
        s = &ctx->client_id;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_CACHE_STATUS:
        s = &ctx->cache_status;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_TOKEN:
        s = &ctx->token;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_ERROR:
        s = &ctx->error;
        break;

    case NGX_HTTP_OIC_AUTH_VAR_USER:
        if (ctx->user.len) {
            s = &ctx->user;
            break;
        }

        if (ctx->jwt == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }

        /* oic_auth_user_claim: by default upn preferred_username unique_name */
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

        return ngx_http_oic_auth_claim_value(r, v,
                                   oic_jwt_first_claim(ctx->jwt,
                                                   lcf->user_claims->elts,
                                                   lcf->user_claims->nelts));

    default:
        if (ctx->jwt == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }

        if (data == NGX_HTTP_OIC_AUTH_VAR_SUBJECT) {
            return ngx_http_oic_auth_claim_value(r, v,
                                   oic_jwt_claim(ctx->jwt, "sub", 3));
        }

        lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

        return ngx_http_oic_auth_claim_value(r, v,
                                   oic_jwt_scopes(ctx->jwt, &lcf->policy));
    }

    v->len = s->len;
    v->data = s->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* $oic_auth_claim_NAME */
static ngx_int_t
ngx_http_oic_auth_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                *name = (ngx_str_t *) data;
    ngx_http_oic_auth_ctx_t  *ctx;
    size_t                    prefix = sizeof("oic_auth_claim_") - 1;

    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);

    if (ctx == NULL || ctx->jwt == NULL || name->len <= prefix) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_oic_auth_claim_value(r, v,
                               oic_jwt_claim(ctx->jwt,
                                             (char *) name->data + prefix,
                                             name->len - prefix));
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
