/*
 * A worker-local cache of decoded bearer tokens: a token seen again skips
 * base64url decoding and JSON parsing, and hashing: it is found by a 64-bit
 * hash of its text and the whole text compared, its SHA-256 (from which the
 * shared verified-token mark's key derives) was computed when it was first
 * decoded, and the keys derived from it are remembered with it, as is the
 * last location whose claim and scope checks it passed and until when that
 * verdict holds (its exp and the leeway: the time is compared on every
 * request, the claims checked again for any other location). Only tokens
 * that passed every check are kept, and the cache is bounded by bytes: a
 * decoded token weighs what oic_jwt_mem() says, which for a payload of many
 * small JSON elements is thirty times its text, plus its text and its entry.
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
    size_t              size;       /* bytes: the decoded token, its text
                                       and this */
    ngx_uint_t          refs;
    ngx_uint_t          cached;

    u_char             *token;      /* its text (after this struct) */
    size_t              token_len;
    ngx_uint_t          algs;       /* the allow-list it was decoded under */
    u_char              digest[NGX_OIC_KEY_LEN];    /* SHA-256 of the text */

    /*
     * keys derived from the token, each remembered for what it was derived
     * for last (the users of the cache fill them): the verified-token
     * mark's key for a zone and JWKS, the exchange key for a location and
     * the user it names
     */
    void               *verified_zone;              /* NULL: none yet */
    u_char              verified_jwks[NGX_OIC_KEY_LEN];
    u_char              verified_key[NGX_OIC_KEY_LEN];
    void               *exchange_conf;              /* NULL: none yet */
    ngx_str_t           exchange_user;              /* in jwt */
    u_char              exchange_key[NGX_OIC_KEY_LEN];

    /*
     * the last location whose claim and scope checks the token passed, and
     * the seconds over which that verdict holds: from the check (nbf and iat
     * only fail too early) to oic_jwt_claims_until (exp and the leeway)
     */
    void               *passed_conf;                /* NULL: none yet */
    time_t              passed_from;
    time_t              passed_until;

    ngx_uint_t          gen;        /* the configuration the above are for */
} ngx_oic_jwt_ref_t;

void ngx_oic_jwt_cache_init(void);

/*
 * A configuration was loaded: what entries remember for a location or zone
 * (pointers into the configuration) is forgotten. A worker starts with the
 * cache empty; this matters where one process reloads (master_process off).
 */
void ngx_oic_jwt_cache_new_conf(void);
void ngx_oic_jwt_cache_exit(void);

/* The entry of this token decoded under algs (a reference taken), or NULL. */
ngx_oic_jwt_ref_t *ngx_oic_jwt_cache_get(u_char *token, size_t len,
    ngx_uint_t algs);

/*
 * Wrap a token decoded under algs (jwt: owned by the wrapper from now on)
 * for the request that decoded it: its text is copied and hashed (digest); a
 * reference is taken, nothing is cached yet. NULL on allocation failure (the
 * token is freed).
 */
ngx_oic_jwt_ref_t *ngx_oic_jwt_cache_wrap(u_char *token, size_t len,
    ngx_uint_t algs, oic_jwt_t *jwt);

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
