/*
 * Bearer validation (bearer mode, and the first half of exchange mode): the
 * RFC 6750 header, the decoded token (from this worker's decoded-token
 * cache), issuer, audience and time claims, the signature (unless the zone
 * remembers it verified) and the route's scopes (unless the decoded token
 * remembers passing this location's checks, and the time is within the
 * seconds that verdict holds).
 */

#include "ngx_http_oic_auth.h"


static ngx_int_t ngx_http_oic_auth_decode(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    char *err, size_t errlen);
static ngx_int_t ngx_http_oic_auth_verify(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static ngx_int_t ngx_http_oic_auth_malformed(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx);
static void ngx_http_oic_auth_bearer_passed(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_oic_jwt_ref_t *ref, time_t now);


ngx_int_t
ngx_http_oic_auth_bearer(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    char                 err[256];
    size_t               off, len;
    time_t               now;
    ngx_int_t            rc;
    ngx_uint_t           passed;
    oic_jwt_rc_t         jrc;
    ngx_table_elt_t     *h;
    oic_bearer_rc_t      brc;
    ngx_oic_jwt_ref_t   *ref;

    ctx->challenge = NGX_HTTP_OIC_AUTH_BEARER;
    now = ngx_time();
    passed = 0;

    if (ctx->jwt == NULL) {
        h = r->headers_in.authorization;

        /* its characters are checked unless it is a token that passed */

        brc = oic_bearer_locate((char *) h->value.data, h->value.len,
                                &off, &len);

        if (brc != OIC_BEARER_OK) {
            return ngx_http_oic_auth_malformed(r, lcf, ctx);
        }

        ctx->bearer.data = h->value.data + off;
        ctx->bearer.len = len;

        rc = ngx_http_oic_auth_decode(r, lcf, ctx, err, sizeof(err));
        if (rc != NGX_OK) {
            return rc;
        }

        /*
         * a token that passed this location's claim and scope checks within
         * the seconds that verdict holds for passes them again: the claims
         * are the token's, the checks the location's
         */

        ref = ctx->jwt_ref;

        passed = (ref->passed_conf == lcf
                  && now >= ref->passed_from && now <= ref->passed_until);

        /* audience and issuer before any signature work */

        if (!passed) {
            jrc = oic_jwt_check_claims(ctx->jwt, &lcf->policy, now,
                                       err, sizeof(err));
            if (jrc != OIC_JWT_OK) {
                ngx_http_oic_auth_metrics_jwt(lcf, ctx, jrc);
                return ngx_http_oic_auth_invalid_token(r, ctx,
                                                       "invalid_token", err);
            }
        }
    }

    rc = ngx_http_oic_auth_verify(r, lcf, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    /* claims and signature passed: worth keeping decoded */
    ngx_oic_jwt_cache_keep(ctx->jwt_ref);

    if (!passed
        && lcf->scopes_required
        && !oic_jwt_has_scopes(ctx->jwt, &lcf->policy,
                               lcf->scopes_required->elts,
                               lcf->scopes_required->nelts,
                               (int) lcf->scopes_match))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "oic_auth: token lacks the required scopes \"%V\"",
                      &lcf->scopes_text);
        ngx_http_oic_auth_metrics_bearer(lcf, ctx,
                                         NGX_HTTP_OIC_AUTH_M_BR_SCOPE);

        if (lcf->deny_status == NGX_HTTP_FORBIDDEN) {
            ctx->bearer_error = "insufficient_scope";
            ctx->bearer_scope = 1;
        } else {
            ctx->challenge = 0;
        }

        return ngx_http_oic_auth_fail(r, ctx, lcf->deny_status,
                                      "insufficient_scope");
    }

    if (!passed) {
        ngx_http_oic_auth_bearer_passed(lcf, ctx->jwt_ref, now);
    }

    if (ctx->mode == NGX_HTTP_OIC_AUTH_EXCHANGE) {
        return ngx_http_oic_auth_exchange(r, lcf, ctx);
    }

    ctx->state = NGX_HTTP_OIC_AUTH_DONE;
    ctx->status = NGX_OK;

    return ngx_http_oic_auth_limit_check(r, lcf, ctx);
}


/*
 * The decoded token: from this worker's cache when the same token (under the
 * same algorithm allow-list) passed before, else decoded for this request
 * (kept in the cache only once it passed every check).
 */
static ngx_int_t
ngx_http_oic_auth_decode(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    char *err, size_t errlen)
{
    size_t               off, len;
    oic_jwt_t           *jwt;
    oic_jwt_rc_t         jrc;
    ngx_oic_jwt_ref_t   *ref;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ref = ngx_oic_jwt_cache_get(ctx->bearer.data, ctx->bearer.len,
                                lcf->algorithms);

    if (ref == NULL) {
        if (oic_bearer_parse((char *) r->headers_in.authorization->value.data,
                             r->headers_in.authorization->value.len,
                             &off, &len)
            != OIC_BEARER_OK)
        {
            return ngx_http_oic_auth_malformed(r, lcf, ctx);
        }

        jrc = oic_jwt_decode((char *) ctx->bearer.data, ctx->bearer.len,
                             (unsigned) lcf->algorithms, &jwt, err, errlen);

        if (jrc != OIC_JWT_OK) {
            ngx_http_oic_auth_metrics_jwt(lcf, ctx, jrc);
            return ngx_http_oic_auth_invalid_token(r, ctx, "invalid_token",
                                                   err);
        }

        ref = ngx_oic_jwt_cache_wrap(ctx->bearer.data, ctx->bearer.len,
                                     lcf->algorithms, jwt);
        if (ref == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    cln->handler = ngx_oic_jwt_cache_release;
    cln->data = ref;

    ctx->jwt = ref->jwt;
    ctx->jwt_ref = ref;

    return NGX_OK;
}


/* The signature, unless this token was verified before (shared memory). */
static ngx_int_t
ngx_http_oic_auth_verify(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    char                 err[256], *why;
    time_t               exp;
    u_char               vkey[NGX_OIC_KEY_LEN];
    ngx_int_t            rc;
    oic_str_t            fields[2];
    oic_jwks_t          *keys;
    oic_jwt_rc_t         jrc;
    ngx_oic_jwt_ref_t   *ref;
    ngx_oic_cache_rc_e   crc;
    ngx_oic_cache_res_t  res;

    /* the mark's key: derived once per token, zone and JWKS in this worker */

    ref = ctx->jwt_ref;

    if (ref->verified_zone != lcf->zone
        || ngx_memcmp(ref->verified_jwks, lcf->jwks_key, NGX_OIC_KEY_LEN) != 0)
    {
        fields[0].data = (char *) lcf->jwks_key;
        fields[0].len = NGX_OIC_KEY_LEN;
        fields[1].data = (char *) ref->digest;
        fields[1].len = NGX_OIC_KEY_LEN;

        ngx_oic_cache_key(lcf->zone, "verified", fields, 2,
                          ref->verified_key);

        ngx_memcpy(ref->verified_jwks, lcf->jwks_key, NGX_OIC_KEY_LEN);
        ref->verified_zone = lcf->zone;
    }

    ngx_memcpy(vkey, ref->verified_key, NGX_OIC_KEY_LEN);

    keys = NULL;

    if (ngx_oic_cache_marked(lcf->zone, vkey)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "oic_auth: signature already verified (cache)");
        ngx_http_oic_auth_metrics_verified(lcf, 1);
        return NGX_OK;
    }

    rc = ngx_http_oic_auth_keys(r, lcf, ctx, &keys);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "oic_auth: verifying signature");

    ngx_http_oic_auth_metrics_verified(lcf, 0);
    jrc = oic_jwt_verify(ctx->jwt, keys, err, sizeof(err));

    /*
     * a new key: an unknown kid (Entra), or a known kid whose key changed
     * (OCI IAM keeps kid SIGNING_KEY across rotations): one refetch, under
     * the same throttle
     */

    if ((jrc == OIC_JWT_UNKNOWN_KID || jrc == OIC_JWT_BAD_SIGNATURE)
        && lcf->jwks_uri.len && !ctx->kid_refreshed)
    {
        ctx->kid_refreshed = 1;

        why = (jrc == OIC_JWT_UNKNOWN_KID)
              ? "unknown key id" : "signature does not verify";

        crc = ngx_oic_cache_refresh(lcf->zone, lcf->jwks_key,
                                    NGX_OIC_CACHE_PINNED, lcf->timeout + 1000,
                                    NGX_HTTP_OIC_AUTH_KID_INTERVAL, &res);

        if (crc == NGX_OIC_CACHE_OWNER || crc == NGX_OIC_CACHE_WAIT) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "oic_auth: %s, refreshing \"%V\"",
                          why, &lcf->jwks_uri);

            if (crc == NGX_OIC_CACHE_OWNER
                && ngx_http_oic_auth_jwks_fetch(r, lcf, ctx, res.gen)
                   != NGX_OK)
            {
                ngx_http_oic_auth_metrics_jwt(lcf, ctx, jrc);
                return ngx_http_oic_auth_invalid_token(r, ctx,
                                                       "invalid_token", err);
            }

            return ngx_http_oic_auth_park(r, ctx, lcf->jwks_key, res.gen, 1);
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "oic_auth: %s, \"%V\" was fetched less "
                      "than %d s ago", why, &lcf->jwks_uri,
                      NGX_HTTP_OIC_AUTH_KID_INTERVAL);
        ngx_http_oic_auth_metrics_jwks_not_made(lcf,
                                            NGX_HTTP_OIC_AUTH_M_JNM_INTERVAL);
    }

    if (jrc != OIC_JWT_OK) {
        ngx_http_oic_auth_metrics_jwt(lcf, ctx, jrc);
        return ngx_http_oic_auth_invalid_token(r, ctx, "invalid_token", err);
    }

    exp = (time_t) oic_jwt_exp(ctx->jwt);

    if (exp > ngx_time()) {
        ngx_oic_cache_mark(lcf->zone, vkey, exp);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_oic_auth_malformed(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "oic_auth: malformed Bearer credentials");
    ngx_http_oic_auth_metrics_bearer(lcf, ctx,
                                     NGX_HTTP_OIC_AUTH_M_BR_MALFORMED);
    ctx->bearer_error = "invalid_request";
    ngx_str_set(&ctx->bearer_desc, "malformed Authorization header");

    return ngx_http_oic_auth_fail(r, ctx, NGX_HTTP_BAD_REQUEST,
                                  "invalid_request");
}


/* Remember that the token passed this location's claims and scopes at now. */
static void
ngx_http_oic_auth_bearer_passed(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_oic_jwt_ref_t *ref, time_t now)
{
    long long  until;

    if (!oic_jwt_claims_until(ref->jwt, &lcf->policy, &until)
        || until < (long long) now)
    {
        ref->passed_conf = NULL;
        return;
    }

    ref->passed_conf = lcf;
    ref->passed_from = now;
    ref->passed_until = (until > (long long) NGX_MAX_TIME_T_VALUE)
                        ? NGX_MAX_TIME_T_VALUE : (time_t) until;
}
