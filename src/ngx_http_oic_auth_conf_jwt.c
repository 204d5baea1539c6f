/*
 * Configuration of what bearer and exchange validate and use: the merge and
 * checks of their location settings (issuers, audiences, algorithms, keys,
 * claims, scopes, the deny status; the exchange's user claims, assertion
 * signer and IAM side), run at nginx -t, and their directive setters. The
 * JWKS file and the assertion key are read here, once per configuration
 * load. The location configuration itself: ngx_http_oic_auth_conf.c.
 */

#include "ngx_http_oic_auth.h"


static char *ngx_http_oic_auth_no_algorithm(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *conf);


static ngx_array_t *
ngx_http_oic_auth_default_list(ngx_conf_t *cf, ngx_str_t *names, ngx_uint_t n)
{
    ngx_uint_t    i;
    oic_str_t    *s;
    ngx_array_t  *a;

    a = ngx_array_create(cf->pool, n, sizeof(oic_str_t));
    if (a == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        s = ngx_array_push(a);
        s->data = (char *) names[i].data;
        s->len = names[i].len;
    }

    return a;
}


/*
 * oic_auth_scopes_required where only Basic clients are served would be
 * silently ignored: they get what IAM grants their client id for
 * oic_auth_scope. Inherited from a level where bearer uses it is fine.
 */
ngx_int_t
ngx_http_oic_auth_check_scopes_level(ngx_conf_t *cf, ngx_uint_t modes,
    ngx_uint_t here)
{
    if (modes == NGX_HTTP_OIC_AUTH_BASIC && here) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_scopes_required\" has no effect with "
                           "\"oic_auth basic\": Basic clients get what IAM "
                           "grants them for \"oic_auth_scope\"");
        return NGX_ERROR;
    }

    return NGX_OK;
}


char *
ngx_http_oic_auth_merge_bearer(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf)
{
    u_char      *p;
    size_t       len;
    oic_str_t    field, *s;
    ngx_uint_t   i, scopes_here;

    static ngx_str_t  scope_claims[] = {
        ngx_string("scope"), ngx_string("scp"), ngx_string("roles")
    };

    scopes_here = (conf->scopes_required != NGX_CONF_UNSET_PTR);

    /*
     * the key set: a level that sets oic_auth_jwks_uri or oic_auth_jwks_file
     * replaces whichever of the two it inherits
     */

    if (conf->jwks_uri.data && conf->jwks_static != NGX_CONF_UNSET_PTR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_jwks_uri\" and \"oic_auth_jwks_file\" "
                           "cannot be used together");
        return NGX_CONF_ERROR;
    }

    if (conf->jwks_uri.data) {
        ngx_str_set(&conf->jwks_file, "");
        conf->jwks_static = NULL;

    } else if (conf->jwks_static != NGX_CONF_UNSET_PTR) {
        ngx_str_set(&conf->jwks_uri, "");

    } else {
        ngx_conf_merge_str_value(conf->jwks_uri, prev->jwks_uri, "");
        ngx_conf_merge_str_value(conf->jwks_file, prev->jwks_file, "");
        ngx_conf_merge_ptr_value(conf->jwks_static, prev->jwks_static, NULL);
    }

    ngx_conf_merge_sec_value(conf->jwks_refresh, prev->jwks_refresh, 3600);
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_uint_value(conf->algorithms, prev->algorithms,
                              OIC_ALG_RS256);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 60);
    ngx_conf_merge_ptr_value(conf->scopes_required, prev->scopes_required,
                             NULL);
    ngx_conf_merge_uint_value(conf->scopes_match, prev->scopes_match, 0);
    ngx_conf_merge_ptr_value(conf->scope_claims, prev->scope_claims, NULL);
    ngx_conf_merge_uint_value(conf->deny_status, prev->deny_status,
                              NGX_HTTP_FORBIDDEN);

    if (conf->scope_claims == NULL) {
        conf->scope_claims = ngx_http_oic_auth_default_list(cf, scope_claims,
                                                            3);
        if (conf->scope_claims == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    conf->policy.issuers = conf->issuers ? conf->issuers->elts : NULL;
    conf->policy.n_issuers = conf->issuers ? conf->issuers->nelts : 0;
    conf->policy.audiences = conf->audiences ? conf->audiences->elts : NULL;
    conf->policy.n_audiences = conf->audiences ? conf->audiences->nelts : 0;
    conf->policy.algorithms = (unsigned) conf->algorithms;
    conf->policy.leeway = conf->leeway;
    conf->policy.scope_claims = conf->scope_claims->elts;
    conf->policy.n_scope_claims = conf->scope_claims->nelts;

    if (conf->scopes_required) {
        s = conf->scopes_required->elts;
        len = 0;

        for (i = 0; i < conf->scopes_required->nelts; i++) {
            len += s[i].len + 1;
        }

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->scopes_text.data = p;

        for (i = 0; i < conf->scopes_required->nelts; i++) {
            if (i) {
                *p++ = ' ';
            }
            p = ngx_cpymem(p, s[i].data, s[i].len);
        }

        conf->scopes_text.len = p - conf->scopes_text.data;
    }

    /* which key set: the cache key of the JWKS, or of the static file */

    if (conf->jwks_uri.len) {
        field.data = (char *) conf->jwks_uri.data;
        field.len = conf->jwks_uri.len;
        oic_cache_key("jwks", &field, 1, conf->jwks_key);

    } else if (conf->jwks_file.len) {
        field.data = (char *) conf->jwks_file.data;
        field.len = conf->jwks_file.len;
        oic_cache_key("jwks_file", &field, 1, conf->jwks_key);
    }

    if (ngx_http_oic_auth_check_scopes_level(cf, conf->modes, scopes_here)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (!(conf->modes & (NGX_HTTP_OIC_AUTH_BEARER|NGX_HTTP_OIC_AUTH_EXCHANGE))
        || conf->modes == NGX_CONF_UNSET_UINT)
    {
        return NGX_CONF_OK;
    }

    if (conf->jwks_uri.len == 0 && conf->jwks_static == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth bearer\" and \"oic_auth exchange\" "
                           "require \"oic_auth_jwks_uri\" or "
                           "\"oic_auth_jwks_file\"");
        return NGX_CONF_ERROR;
    }

    if (conf->audiences == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth bearer\" and \"oic_auth exchange\" "
                           "require \"oic_auth_audience\"");
        return NGX_CONF_ERROR;
    }

    if (conf->issuers == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth bearer\" and \"oic_auth exchange\" "
                           "require \"oic_auth_issuer\" (\"oic_auth_issuer "
                           "any\" accepts every issuer)");
        return NGX_CONF_ERROR;
    }

    if (conf->jwks_static
        && !(conf->algorithms & oic_jwks_algorithms(conf->jwks_static)))
    {
        return ngx_http_oic_auth_no_algorithm(cf, conf);
    }

    return NGX_CONF_OK;
}


/* "RS256 PS256" for a bitmask of algorithms. */
static void
ngx_http_oic_auth_alg_names(u_char *buf, size_t size, unsigned algs)
{
    u_char    *p, *last;
    unsigned   bit;

    p = buf;
    last = buf + size - 1;

    for (bit = 1; bit <= OIC_ALG_ES512; bit <<= 1) {
        if (algs & bit) {
            p = ngx_slprintf(p, last, "%s%s", p == buf ? "" : " ",
                             oic_alg_name(bit));
        }
    }

    *p = '\0';
}


/* No key of the static key set can verify any allowed algorithm. */
static char *
ngx_http_oic_auth_no_algorithm(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *conf)
{
    u_char  allowed[64], served[64];

    ngx_http_oic_auth_alg_names(allowed, sizeof(allowed),
                                (unsigned) conf->algorithms);
    ngx_http_oic_auth_alg_names(served, sizeof(served),
                                oic_jwks_algorithms(conf->jwks_static));

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "no key of \"oic_auth_jwks_file\" \"%V\" can verify "
                       "\"oic_auth_algorithms\" %s (its keys can verify %s)",
                       &conf->jwks_file, allowed, served);

    return NGX_CONF_ERROR;
}


static void
ngx_http_oic_auth_signer_free(void *data)
{
    oic_signer_free(data);
}


char *
ngx_http_oic_auth_merge_exchange(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *prev, ngx_http_oic_auth_loc_conf_t *conf)
{
    char                *secret, err[256];
    ngx_pool_cleanup_t  *cln;

    static ngx_str_t  user_claims[] = {
        ngx_string("upn"), ngx_string("preferred_username"),
        ngx_string("unique_name")
    };

    ngx_conf_merge_str_value(conf->client_id, prev->client_id, "");
    ngx_conf_merge_str_value(conf->client_secret_file,
                             prev->client_secret_file, "");
    ngx_conf_merge_str_value(conf->assertion_key, prev->assertion_key, "");
    ngx_conf_merge_str_value(conf->assertion_certificate,
                             prev->assertion_certificate, "");
    ngx_conf_merge_str_value(conf->assertion_kid, prev->assertion_kid, "");
    ngx_conf_merge_str_value(conf->assertion_audience,
                             prev->assertion_audience,
                             "https://identity.oraclecloud.com/");
    ngx_conf_merge_sec_value(conf->assertion_lifetime,
                             prev->assertion_lifetime, 300);
    ngx_conf_merge_uint_value(conf->exchange_grant, prev->exchange_grant,
                              NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER);
    ngx_conf_merge_ptr_value(conf->user_claims, prev->user_claims, NULL);

    if (conf->user_claims == NULL) {
        conf->user_claims = ngx_http_oic_auth_default_list(cf, user_claims, 3);
        if (conf->user_claims == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* the secret and the key are read once, where they are configured */

    if (conf->client_secret_file.len) {
        if (conf->client_secret_file.data == prev->client_secret_file.data
            && prev->client_secret.len)
        {
            conf->client_secret = prev->client_secret;

        } else {
            if (ngx_conf_full_name(cf->cycle, &conf->client_secret_file, 1)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            secret = oic_read_secret_file(
                                   (char *) conf->client_secret_file.data,
                                   err, sizeof(err));
            if (secret == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"oic_auth_client_secret_file\" \"%V\": %s",
                                   &conf->client_secret_file, err);
                return NGX_CONF_ERROR;
            }

            conf->client_secret.len = ngx_strlen(secret);
            conf->client_secret.data = ngx_pnalloc(cf->pool,
                                                   conf->client_secret.len + 1);
            if (conf->client_secret.data == NULL) {
                oic_free(secret);
                return NGX_CONF_ERROR;
            }

            ngx_memcpy(conf->client_secret.data, secret,
                       conf->client_secret.len + 1);
            ngx_explicit_memzero(secret, conf->client_secret.len);
            oic_free(secret);
        }
    }

    if (conf->signer == NGX_CONF_UNSET_PTR) {
        conf->signer = NULL;

        if (conf->assertion_key.len
            && conf->assertion_key.data == prev->assertion_key.data
            && conf->assertion_certificate.data
               == prev->assertion_certificate.data
            && prev->signer != NGX_CONF_UNSET_PTR && prev->signer)
        {
            conf->signer = prev->signer;

        } else if (conf->assertion_key.len) {
            if (ngx_conf_full_name(cf->cycle, &conf->assertion_key, 1)
                != NGX_OK
                || (conf->assertion_certificate.len
                    && ngx_conf_full_name(cf->cycle,
                                          &conf->assertion_certificate, 1)
                       != NGX_OK))
            {
                return NGX_CONF_ERROR;
            }

            conf->signer = oic_signer_load((char *) conf->assertion_key.data,
                                 conf->assertion_certificate.len
                                 ? (char *) conf->assertion_certificate.data
                                 : NULL,
                                 err, sizeof(err));
            if (conf->signer == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"oic_auth_assertion_key\" \"%V\": %s",
                                   &conf->assertion_key, err);
                return NGX_CONF_ERROR;
            }

            /* freed with the configuration: a reload must not leak it */

            cln = ngx_pool_cleanup_add(cf->pool, 0);
            if (cln == NULL) {
                oic_signer_free(conf->signer);
                conf->signer = NULL;
                return NGX_CONF_ERROR;
            }

            cln->handler = ngx_http_oic_auth_signer_free;
            cln->data = conf->signer;
        }
    }

    if (conf->modes == NGX_CONF_UNSET_UINT
        || !(conf->modes & NGX_HTTP_OIC_AUTH_EXCHANGE))
    {
        return NGX_CONF_OK;
    }

    if (conf->client_id.len == 0 || conf->client_secret.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth exchange\" requires "
                           "\"oic_auth_client_id\" and "
                           "\"oic_auth_client_secret_file\"");
        return NGX_CONF_ERROR;
    }

    if (conf->exchange_grant == NGX_HTTP_OIC_AUTH_GRANT_JWT_BEARER
        && (conf->signer == NULL || conf->assertion_kid.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth exchange\" with the jwt_bearer grant "
                           "requires \"oic_auth_assertion_key\" and "
                           "\"oic_auth_assertion_kid\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* oic_auth_issuer ISS ... | any: "any" is an empty list (no check). */
char *
ngx_http_oic_auth_issuer(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    char        *rv;
    oic_str_t   *s;
    ngx_uint_t   i;

    rv = ngx_http_oic_auth_list(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    s = lcf->issuers->elts;

    for (i = 0; i < lcf->issuers->nelts; i++) {
        if (s[i].len != 3 || ngx_strncmp(s[i].data, "any", 3) != 0) {
            continue;
        }

        if (lcf->issuers->nelts > 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"any\" cannot be combined with issuers");
            return NGX_CONF_ERROR;
        }

        lcf->issuers->nelts = 0;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_oic_auth_algorithms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    unsigned     alg;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->algorithms != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lcf->algorithms = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        alg = oic_alg_from_name((char *) value[i].data, value[i].len);

        if (alg == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unsupported algorithm \"%V\", use RS256, "
                               "RS384, RS512, PS256, PS384, PS512, ES256, "
                               "ES384 or ES512", &value[i]);
            return NGX_CONF_ERROR;
        }

        lcf->algorithms |= alg;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_oic_auth_jwks_free(void *data)
{
    oic_jwks_free(data);
}


char *
ngx_http_oic_auth_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    char                 err[256];
    u_char              *buf;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t           *value, name;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (lcf->jwks_static != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > OIC_JWKS_MAX_BYTES)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": cannot read, or larger than %d bytes",
                           &name, OIC_JWKS_MAX_BYTES);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, ngx_file_size(&fi));
    ngx_close_file(fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    lcf->jwks_static = oic_jwks_parse((char *) buf, n, err, sizeof(err));
    if (lcf->jwks_static == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_jwks_file\" \"%V\": %s", &name, err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        oic_jwks_free(lcf->jwks_static);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_oic_auth_jwks_free;
    cln->data = lcf->jwks_static;

    lcf->jwks_file = name;

    return NGX_CONF_OK;
}


char *
ngx_http_oic_auth_deny_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (lcf->deny_status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_atoi(value[1].data, value[1].len);

    if (n != NGX_HTTP_FORBIDDEN && n != NGX_HTTP_NOT_FOUND) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", it must be 403 or 404",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->deny_status = n;

    return NGX_CONF_OK;
}
