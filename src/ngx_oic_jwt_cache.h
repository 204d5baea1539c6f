/*
 * A worker-local cache of decoded bearer tokens: a token seen again skips
 * base64url decoding and JSON parsing (the claims are still checked on every
 * request). Entries are reference counted: a request holds its entry until
 * its pool is destroyed, even if the entry is evicted meanwhile.
 */
#ifndef NGX_OIC_JWT_CACHE_H
#define NGX_OIC_JWT_CACHE_H

#include <ngx_config.h>
#include <ngx_core.h>

#include "oic_auth_jwt.h"
#include "ngx_oic_keyed.h"

#define NGX_OIC_JWT_CACHE_MAX  1024

typedef struct {
    ngx_oic_keyed_t     k;          /* rbtree node, LRU link, key */
    oic_jwt_t          *jwt;
    ngx_uint_t          refs;
    ngx_uint_t          cached;
} ngx_oic_jwt_ref_t;

void ngx_oic_jwt_cache_init(void);
void ngx_oic_jwt_cache_exit(void);

/* The entry for key (a reference is taken), or NULL. */
ngx_oic_jwt_ref_t *ngx_oic_jwt_cache_get(u_char *key);

/*
 * Wrap a decoded token (the cache owns it from now on) and, when possible,
 * remember it under key; a reference is taken. NULL on allocation failure
 * (the token is freed).
 */
ngx_oic_jwt_ref_t *ngx_oic_jwt_cache_put(u_char *key, oic_jwt_t *jwt);

/* Drop a reference (a pool cleanup handler). */
void ngx_oic_jwt_cache_release(void *data);

#endif /* NGX_OIC_JWT_CACHE_H */
