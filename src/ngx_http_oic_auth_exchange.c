/*
 * exchange mode: a validated Entra ID token in, an OCI IAM token for its
 * user out (RFC 7523 user assertion, or RFC 8693 token exchange), cached per
 * user. This file owns the user, the cache key and the IAM request.
 */

#include "ngx_http_oic_auth.h"


ngx_int_t
ngx_http_oic_auth_exchange(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    u_char             *p, *last;
    size_t              len;
    oic_str_t           fields[5];
    ngx_int_t           rc;
    const char         *user;
    ngx_oic_jwt_ref_t  *ref;

    ref = ctx->jwt_ref;

    if (ctx->user.len == 0 && ref->exchange_conf == lcf) {
        /* this location found the token's user before (and its key) */
        ctx->user = ref->exchange_user;
    }

    if (ctx->user.len == 0) {
        /* in the decoded token, which the request holds until its end */

        if (!oic_jwt_first_claim_view(ctx->jwt, lcf->user_claims->elts,
                                      lcf->user_claims->nelts, &user, &len))
        {
            ngx_http_oic_auth_metrics_bearer(lcf, ctx,
                                           NGX_HTTP_OIC_AUTH_M_BR_USER_CLAIM);
            return ngx_http_oic_auth_invalid_token(r, ctx, "invalid_token",
                                                   "no user claim");
        }

        /* the IAM user name: in the assertion, the cache key, log lines */

        last = (u_char *) user + len;

        for (p = (u_char *) user; p < last; p++) {
            if (*p < 0x20 || *p == 0x7f) {
                ngx_http_oic_auth_metrics_bearer(lcf, ctx,
                                           NGX_HTTP_OIC_AUTH_M_BR_USER_CLAIM);
                return ngx_http_oic_auth_invalid_token(r, ctx,
                                   "invalid_token",
                                   "user claim contains control characters");
            }
        }

        ctx->user.data = (u_char *) user;
        ctx->user.len = len;
    }

    /* the user's limits, before anything is asked of IAM */

    rc = ngx_http_oic_auth_limit_check(r, lcf, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    /*
     * The key's fields (fleet mode names its Redis entries from them too);
     * the key: derived once per token, location and user in this worker.
     */

    fields[0].data = (char *) lcf->token_endpoint.data;
    fields[0].len = lcf->token_endpoint.len;
    fields[1].data = (char *) lcf->client_id.data;
    fields[1].len = lcf->client_id.len;
    fields[2].data = (char *) ctx->user.data;
    fields[2].len = ctx->user.len;
    fields[3].data = (char *) lcf->scope.data;
    fields[3].len = lcf->scope.len;
    fields[4].data = lcf->exchange_grant ? "token_exchange" : "jwt_bearer";
    fields[4].len = lcf->exchange_grant ? sizeof("token_exchange") - 1
                                        : sizeof("jwt_bearer") - 1;

    if (ref->exchange_conf != lcf
        || ref->exchange_user.data != ctx->user.data
        || ref->exchange_user.len != ctx->user.len)
    {
        ngx_oic_cache_key(lcf->zone, "exchange", fields, 5,
                          ref->exchange_key);

        ref->exchange_conf = lcf;
        ref->exchange_user = ctx->user;
    }

    ngx_memcpy(ctx->key, ref->exchange_key, NGX_OIC_KEY_LEN);

    ctx->key_tag = "exchange";
    ctx->key_fields = fields;
    ctx->key_nfields = 5;

    rc = ngx_http_oic_auth_token(r, lcf, ctx);

    ctx->key_fields = NULL;

    return rc;
}


static void
ngx_http_oic_auth_grant_add(ngx_http_oic_auth_grant_t *g, const char *name,
    const char *value, size_t len)
{
    g->names[g->n] = name;
    g->values[g->n].data = value;
    g->values[g->n++].len = len;
}


/*
 * The gateway's own client authentication, and a signed user assertion
 * (RFC 7523) or the incoming token as subject token (RFC 8693).
 */
ngx_int_t
ngx_http_oic_auth_exchange_grant(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_http_oic_auth_grant_t *g)
{
    char  *assertion, err[256];

    g->authorization = oic_basic_header((char *) lcf->client_id.data,
                                        lcf->client_id.len,
                                        (char *) lcf->client_secret.data,
                                        lcf->client_secret.len);

    if (lcf->exchange_grant == NGX_HTTP_OIC_AUTH_GRANT_TOKEN_EXCHANGE) {
        ngx_http_oic_auth_grant_add(g, "grant_type",
                   "urn:ietf:params:oauth:grant-type:token-exchange",
                   sizeof("urn:ietf:params:oauth:grant-type:token-exchange")
                   - 1);
        ngx_http_oic_auth_grant_add(g, "subject_token",
                                    (char *) ctx->bearer.data,
                                    ctx->bearer.len);
        ngx_http_oic_auth_grant_add(g, "subject_token_type",
                   "urn:ietf:params:oauth:token-type:jwt",
                   sizeof("urn:ietf:params:oauth:token-type:jwt") - 1);
        ngx_http_oic_auth_grant_add(g, "requested_token_type",
                   "urn:ietf:params:oauth:token-type:access_token",
                   sizeof("urn:ietf:params:oauth:token-type:access_token")
                   - 1);
        return NGX_OK;
    }

    assertion = oic_assertion_mint(lcf->signer,
                                   (char *) lcf->assertion_kid.data,
                                   (char *) lcf->client_id.data,
                                   (char *) ctx->user.data,
                                   (char *) lcf->assertion_audience.data,
                                   (long long) ngx_time(),
                                   (long long) lcf->assertion_lifetime,
                                   err, sizeof(err));
    if (assertion == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: cannot sign the user assertion: %s", err);
        return NGX_ERROR;
    }

    g->wipe = assertion;

    ngx_http_oic_auth_grant_add(g, "grant_type",
                   "urn:ietf:params:oauth:grant-type:jwt-bearer",
                   sizeof("urn:ietf:params:oauth:grant-type:jwt-bearer") - 1);
    ngx_http_oic_auth_grant_add(g, "assertion", assertion,
                                ngx_strlen(assertion));

    return NGX_OK;
}
