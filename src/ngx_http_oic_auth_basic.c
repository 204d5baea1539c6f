/*
 * basic mode: legacy clients send "Authorization: Basic id:secret"; the
 * module asks IAM for a client_credentials token with the configured scope,
 * on the client's behalf, and caches it per (endpoint, id, secret, scope),
 * under a key only the zone's secret can derive.
 * This file owns the Basic side: parsing, the cache key (and this worker's
 * memo of it), the IAM request.
 */

#include "ngx_http_oic_auth.h"


/*
 * The memo: the zone key (an HMAC-SHA256 of endpoint, id, secret and scope
 * under the zone's secret) and the parsing of the header cost more than the
 * rest of a cache hit; a header seen again at a location finds its key and
 * client id here instead, and a fresh token is served without parsing it.
 * A slot is chosen and checked by a 128-bit tag of the header's value:
 * SipHash-2-4 under two independent random keys of this worker, which
 * never leave its memory. The slot also names the location (endpoint and
 * scope, the zone) and the configuration it was filled under. The secret
 * is not kept, nor the header. Another header takes a slot's key only if
 * both PRFs collide on it under keys nobody outside the worker knows:
 * 2^-128 a try. Only a header that parsed is remembered, with what it
 * parsed to. Direct-mapped and fixed in size: a flood of made-up clients
 * only overwrites slots, and a client whose slot was taken is parsed and
 * pays the HMAC again, as without the memo.
 */

#define NGX_HTTP_OIC_AUTH_BASIC_MEMO     1024   /* slots, a power of two */
#define NGX_HTTP_OIC_AUTH_BASIC_MEMO_ID  64     /* longer client ids: none */

typedef struct {
    uint64_t                        tag[2];
    ngx_http_oic_auth_loc_conf_t   *conf;      /* NULL: empty */
    ngx_uint_t                      gen;
    u_char                          key[NGX_OIC_KEY_LEN];
    size_t                          client_id_len;
    u_char                          client_id[NGX_HTTP_OIC_AUTH_BASIC_MEMO_ID];
} ngx_http_oic_auth_basic_memo_t;

static ngx_http_oic_auth_basic_memo_t  *ngx_http_oic_auth_basic_memo;
static u_char      ngx_http_oic_auth_basic_memo_keys[2][OIC_SIPHASH_KEY_LEN];
static ngx_uint_t  ngx_http_oic_auth_basic_memo_state;   /* 0 unset, 1 on,
                                                           2 off */
static ngx_uint_t  ngx_http_oic_auth_basic_gen;


static ngx_http_oic_auth_basic_memo_t *ngx_http_oic_auth_basic_slot(
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_str_t *value, uint64_t *tag);


ngx_int_t
ngx_http_oic_auth_basic(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx)
{
    char                             stack[512], *buf;
    size_t                           size;
    uint64_t                         tag[2];
    ngx_int_t                        rc;
    ngx_uint_t                       known;
    oic_str_t                        fields[4];
    oic_basic_rc_t                   brc;
    ngx_table_elt_t                 *h;
    oic_basic_creds_t                creds;
    ngx_http_oic_auth_basic_memo_t  *m;

    ctx->challenge = NGX_HTTP_OIC_AUTH_BASIC;

    h = r->headers_in.authorization;

    m = ngx_http_oic_auth_basic_slot(lcf, &h->value, tag);

    known = (m && m->conf == lcf && m->gen == ngx_http_oic_auth_basic_gen
             && m->tag[0] == tag[0] && m->tag[1] == tag[1]);

    if (known) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "oic_auth: basic key remembered");

        ngx_memcpy(ctx->key, m->key, NGX_OIC_KEY_LEN);

        if (ngx_http_oic_auth_set_str(r->pool, &ctx->client_id,
                                      (char *) m->client_id,
                                      m->client_id_len)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* a fresh token needs no credentials; anything else does */
        rc = ngx_http_oic_auth_token_fresh(r, lcf, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

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

    if (!known) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "oic_auth: basic key derived");

        ngx_oic_cache_key(lcf->zone, "basic", fields, 4, ctx->key);

        if (m && creds.client_id_len <= NGX_HTTP_OIC_AUTH_BASIC_MEMO_ID) {
            m->tag[0] = tag[0];
            m->tag[1] = tag[1];
            m->conf = lcf;
            m->gen = ngx_http_oic_auth_basic_gen;
            ngx_memcpy(m->key, ctx->key, NGX_OIC_KEY_LEN);
            m->client_id_len = creds.client_id_len;
            ngx_memcpy(m->client_id, creds.client_id, creds.client_id_len);
        }
    }

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


/* A configuration was loaded: what the memo holds was derived for another. */
void
ngx_http_oic_auth_basic_new_conf(void)
{
    ngx_http_oic_auth_basic_gen++;
}


/*
 * The memo's slot for the header value at lcf, and the value's tag; NULL
 * when this process has no memo (its random keys or its slots failed).
 */
static ngx_http_oic_auth_basic_memo_t *
ngx_http_oic_auth_basic_slot(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_str_t *value, uint64_t *tag)
{
    oic_str_t   field;
    ngx_uint_t  i;

    if (ngx_http_oic_auth_basic_memo_state == 0) {
        /* first use in this process: its keys, its slots */
        ngx_http_oic_auth_basic_memo_state = 2;

        if (oic_random(&ngx_http_oic_auth_basic_memo_keys[0][0],
                       sizeof(ngx_http_oic_auth_basic_memo_keys))
            == 0)
        {
            ngx_http_oic_auth_basic_memo = ngx_calloc(
                NGX_HTTP_OIC_AUTH_BASIC_MEMO
                * sizeof(ngx_http_oic_auth_basic_memo_t), ngx_cycle->log);

            if (ngx_http_oic_auth_basic_memo) {
                ngx_http_oic_auth_basic_memo_state = 1;
            }
        }
    }

    if (ngx_http_oic_auth_basic_memo_state != 1) {
        return NULL;
    }

    field.data = (char *) value->data;
    field.len = value->len;

    for (i = 0; i < 2; i++) {
        if (oic_siphash(ngx_http_oic_auth_basic_memo_keys[i], "basic", &field,
                        1, &tag[i])
            != 0)
        {
            return NULL;
        }
    }

    /* the location in the slot's number too: one client, a slot per location */
    i = (tag[0] ^ ((uint64_t) (uintptr_t) lcf * 0x9e3779b97f4a7c15ULL)) >> 32;

    return &ngx_http_oic_auth_basic_memo[i & (NGX_HTTP_OIC_AUTH_BASIC_MEMO - 1)];
}
