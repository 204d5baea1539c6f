/*
 * A worker-local cache of decoded bearer tokens: a token seen again skips
 * base64url decoding and JSON parsing (the claims are still checked on every
 * request). Only tokens that passed every check are kept, and the cache is
 * bounded by bytes: a decoded token weighs what oic_jwt_mem() says, which
 * for a payload of many small JSON elements is thirty times its text.
 * Entries are reference counted: a request holds its entry until its pool
 * is destroyed, even if the entry is evicted meanwhile.
 */
#ifndef NGX_OIC_JWT_CACHE_H
#define NGX_OIC_JWT_CACHE_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "oic_auth_jwt.h"
#include "ngx_oic_keyed.h"

/* per worker: the decoded tokens kept, and the largest one worth keeping */
#define NGX_OIC_JWT_CACHE_BYTES      (8 * 1024 * 1024)
#define NGX_OIC_JWT_CACHE_ENTRY_MAX  (NGX_OIC_JWT_CACHE_BYTES / 16)

typedef struct {
    ngx_oic_keyed_t     k;          /* rbtree node, LRU link, key */
    oic_jwt_t          *jwt;
    size_t              size;       /* bytes: the decoded token and this */
    ngx_uint_t          refs;
    ngx_uint_t          cached;
} ngx_oic_jwt_ref_t;

void ngx_oic_jwt_cache_init(void);
void ngx_oic_jwt_cache_exit(void);

/* The entry for key (a reference is taken), or NULL. */
ngx_oic_jwt_ref_t *ngx_oic_jwt_cache_get(u_char *key);

/*
 * Wrap a decoded token (owned by the wrapper from now on) for the request
 * that decoded it; a reference is taken, nothing is cached yet. NULL on
 * allocation failure (the token is freed).
 */
ngx_oic_jwt_ref_t *ngx_oic_jwt_cache_wrap(u_char *key, oic_jwt_t *jwt);

/*
 * Remember a wrapped token under its key, once it passed every check: the
 * least recently used entries go until the cache is within its byte budget;
 * a token larger than NGX_OIC_JWT_CACHE_ENTRY_MAX is not kept. Nothing
 * happens for an entry already cached.
 */
void ngx_oic_jwt_cache_keep(ngx_oic_jwt_ref_t *ref);

/* Drop a reference (a pool cleanup handler). */
void ngx_oic_jwt_cache_release(void *data);

#endif /* NGX_OIC_JWT_CACHE_H */
