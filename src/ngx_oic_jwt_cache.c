/*
 * A worker-local cache of decoded bearer tokens, keyed by a hash of the token
 * and of the algorithm allow-list it was decoded under; an rbtree and an LRU
 * queue holding at most NGX_OIC_JWT_CACHE_BYTES of decoded tokens.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_oic_jwt_cache.h"


static ngx_rbtree_t       ngx_oic_jwt_tree;
static ngx_rbtree_node_t  ngx_oic_jwt_sentinel;
static ngx_queue_t        ngx_oic_jwt_lru;
static size_t             ngx_oic_jwt_bytes;


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
ngx_oic_jwt_cache_get(u_char *key)
{
    ngx_oic_jwt_ref_t  *ref;

    if (ngx_oic_jwt_tree.root == NULL) {
        return NULL;
    }

    ref = (ngx_oic_jwt_ref_t *) ngx_oic_keyed_lookup(&ngx_oic_jwt_tree, key);

    if (ref) {
        ngx_queue_remove(&ref->k.queue);
        ngx_queue_insert_head(&ngx_oic_jwt_lru, &ref->k.queue);
        ref->refs++;
    }

    return ref;
}


ngx_oic_jwt_ref_t *
ngx_oic_jwt_cache_wrap(u_char *key, oic_jwt_t *jwt)
{
    size_t              size;
    ngx_oic_jwt_ref_t  *ref;

    ref = ngx_calloc(sizeof(ngx_oic_jwt_ref_t), ngx_cycle->log);
    if (ref == NULL) {
        oic_jwt_free(jwt);
        return NULL;
    }

    size = oic_jwt_mem(jwt);

    ref->jwt = jwt;
    ref->refs = 1;
    ref->size = (size > NGX_OIC_JWT_CACHE_BYTES)
                ? NGX_OIC_JWT_CACHE_BYTES : size + sizeof(ngx_oic_jwt_ref_t);
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
