/*
 * A worker-local cache of decoded bearer tokens, keyed by a 64-bit hash of
 * the token's last NGX_OIC_JWT_TAIL bytes (MurmurHash64A, seeded per
 * worker), its length and the algorithm allow-list it was decoded under, the
 * token's whole text compared on a match; an rbtree and an LRU queue holding
 * at most NGX_OIC_JWT_CACHE_BYTES of decoded tokens. The hash only finds the
 * candidate, the whole text decides, and only tokens that passed every check
 * (their signature too) get in: the tail, in the signature, tells verified
 * tokens apart; a forged token with a cached token's tail is a miss.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_oic_jwt_cache.h"


static ngx_rbtree_t       ngx_oic_jwt_tree;
static ngx_rbtree_node_t  ngx_oic_jwt_sentinel;
static ngx_queue_t        ngx_oic_jwt_lru;
static size_t             ngx_oic_jwt_bytes;
static uint64_t           ngx_oic_jwt_seed;
static ngx_uint_t         ngx_oic_jwt_gen;


#define NGX_OIC_JWT_TAIL  64


/* MurmurHash64A (Austin Appleby, public domain), eight bytes a step. */
static uint64_t
ngx_oic_jwt_hash(u_char *p, size_t len)
{
    u_char          *end;
    uint64_t         h, k;
    const uint64_t   m = 0xc6a4a7935bd1e995ULL;

    h = ngx_oic_jwt_seed ^ (len * m);
    end = p + (len & ~(size_t) 7);

    while (p != end) {
        ngx_memcpy(&k, p, sizeof(uint64_t));
        p += sizeof(uint64_t);

        k *= m;
        k ^= k >> 47;
        k *= m;

        h ^= k;
        h *= m;
    }

    switch (len & 7) {
    case 7: h ^= (uint64_t) p[6] << 48;  /* fall through */
    case 6: h ^= (uint64_t) p[5] << 40;  /* fall through */
    case 5: h ^= (uint64_t) p[4] << 32;  /* fall through */
    case 4: h ^= (uint64_t) p[3] << 24;  /* fall through */
    case 3: h ^= (uint64_t) p[2] << 16;  /* fall through */
    case 2: h ^= (uint64_t) p[1] << 8;   /* fall through */
    case 1: h ^= (uint64_t) p[0];
            h *= m;
    }

    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;

    return h;
}


/* The tree key: the hash first (the rbtree's own key), length, algorithms. */
static void
ngx_oic_jwt_key(u_char *token, size_t len, ngx_uint_t algs, u_char *key)
{
    uint64_t  h, n, a;

    h = (len > NGX_OIC_JWT_TAIL)
        ? ngx_oic_jwt_hash(token + len - NGX_OIC_JWT_TAIL, NGX_OIC_JWT_TAIL)
        : ngx_oic_jwt_hash(token, len);
    n = len;
    a = algs;

    ngx_memcpy(key, &h, sizeof(uint64_t));
    ngx_memcpy(key + 8, &n, sizeof(uint64_t));
    ngx_memcpy(key + 16, &a, sizeof(uint64_t));
    ngx_memzero(key + 24, NGX_OIC_KEY_LEN - 24);
}


static void
ngx_oic_jwt_free(ngx_oic_jwt_ref_t *ref)
{
    oic_jwt_free(ref->jwt);
    ngx_free(ref);
}


/* Take an entry out of the cache; it is freed when its last holder goes. */
static void
ngx_oic_jwt_evict(ngx_oic_jwt_ref_t *ref)
{
    ngx_rbtree_delete(&ngx_oic_jwt_tree, &ref->k.node);
    ngx_queue_remove(&ref->k.queue);
    ref->cached = 0;
    ngx_oic_jwt_bytes -= ref->size;

    if (ref->refs == 0) {
        ngx_oic_jwt_free(ref);
    }
}


void
ngx_oic_jwt_cache_init(void)
{
    ngx_rbtree_init(&ngx_oic_jwt_tree, &ngx_oic_jwt_sentinel,
                    ngx_oic_keyed_insert);
    ngx_queue_init(&ngx_oic_jwt_lru);
    ngx_oic_jwt_bytes = 0;

    if (oic_random((u_char *) &ngx_oic_jwt_seed, sizeof(uint64_t)) != 0) {
        ngx_oic_jwt_seed = ((uint64_t) ngx_random() << 32) ^ ngx_random();
    }
}


void
ngx_oic_jwt_cache_new_conf(void)
{
    ngx_oic_jwt_gen++;
}


void
ngx_oic_jwt_cache_exit(void)
{
    ngx_oic_jwt_ref_t  *ref;

    while (!ngx_queue_empty(&ngx_oic_jwt_lru)) {
        ref = ngx_queue_data(ngx_queue_head(&ngx_oic_jwt_lru),
                             ngx_oic_jwt_ref_t, k.queue);
        ngx_oic_jwt_evict(ref);
    }
}


ngx_oic_jwt_ref_t *
ngx_oic_jwt_cache_get(u_char *token, size_t len, ngx_uint_t algs)
{
    u_char              key[NGX_OIC_KEY_LEN];
    ngx_oic_jwt_ref_t  *ref;

    if (ngx_oic_jwt_tree.root == NULL) {
        return NULL;
    }

    ngx_oic_jwt_key(token, len, algs, key);

    ref = (ngx_oic_jwt_ref_t *) ngx_oic_keyed_lookup(&ngx_oic_jwt_tree, key);

    if (ref == NULL || ngx_memcmp(ref->token, token, len) != 0) {
        return NULL;
    }

    ngx_queue_remove(&ref->k.queue);
    ngx_queue_insert_head(&ngx_oic_jwt_lru, &ref->k.queue);
    ref->refs++;

    if (ref->gen != ngx_oic_jwt_gen) {
        ref->verified_zone = NULL;
        ref->exchange_conf = NULL;
        ref->passed_conf = NULL;
        ref->gen = ngx_oic_jwt_gen;
    }

    return ref;
}


ngx_oic_jwt_ref_t *
ngx_oic_jwt_cache_wrap(u_char *token, size_t len, ngx_uint_t algs,
    oic_jwt_t *jwt)
{
    u_char              key[NGX_OIC_KEY_LEN];
    size_t              size;
    ngx_oic_jwt_ref_t  *ref;

    ref = ngx_calloc(sizeof(ngx_oic_jwt_ref_t) + len, ngx_cycle->log);
    if (ref == NULL) {
        oic_jwt_free(jwt);
        return NULL;
    }

    size = oic_jwt_mem(jwt);

    ref->jwt = jwt;
    ref->refs = 1;
    ref->size = (size > NGX_OIC_JWT_CACHE_BYTES)
                ? NGX_OIC_JWT_CACHE_BYTES
                : size + sizeof(ngx_oic_jwt_ref_t) + len;

    ref->token = (u_char *) &ref[1];
    ref->token_len = len;
    ref->algs = algs;
    ref->gen = ngx_oic_jwt_gen;
    ngx_memcpy(ref->token, token, len);
    oic_sha256(token, len, ref->digest);

    ngx_oic_jwt_key(token, len, algs, key);
    ngx_oic_keyed_set(&ref->k, key);

    return ref;
}


void
ngx_oic_jwt_cache_keep(ngx_oic_jwt_ref_t *ref)
{
    if (ref == NULL
        || ref->cached
        || ngx_oic_jwt_tree.root == NULL    /* outside a worker: never */
        || ref->size > NGX_OIC_JWT_CACHE_ENTRY_MAX
        || ngx_oic_keyed_lookup(&ngx_oic_jwt_tree, ref->k.key))
    {
        return;
    }

    while (ngx_oic_jwt_bytes + ref->size > NGX_OIC_JWT_CACHE_BYTES
           && !ngx_queue_empty(&ngx_oic_jwt_lru))
    {
        ngx_oic_jwt_evict(ngx_queue_data(ngx_queue_last(&ngx_oic_jwt_lru),
                                         ngx_oic_jwt_ref_t, k.queue));
    }

    ref->cached = 1;
    ngx_oic_jwt_bytes += ref->size;

    ngx_rbtree_insert(&ngx_oic_jwt_tree, &ref->k.node);
    ngx_queue_insert_head(&ngx_oic_jwt_lru, &ref->k.queue);
}


void
ngx_oic_jwt_cache_release(void *data)
{
    ngx_oic_jwt_ref_t  *ref = data;

    if (--ref->refs == 0 && !ref->cached) {
        ngx_oic_jwt_free(ref);
    }
}
