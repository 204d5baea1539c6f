/*
 * rbtree nodes keyed by a 32-byte hash: the first machine word is the rbtree
 * key, ties are broken by comparing the whole hash. Shared by the shared
 * memory cache and the worker-local decoded-token cache.
 */
#ifndef NGX_OIC_KEYED_H
#define NGX_OIC_KEYED_H

#include <ngx_config.h>
#include <ngx_core.h>

#define NGX_OIC_KEY_LEN  32

typedef struct {
    ngx_rbtree_node_t   node;
    ngx_queue_t         queue;      /* the owner's LRU queue */
    u_char              key[NGX_OIC_KEY_LEN];
} ngx_oic_keyed_t;

/* The insert function for ngx_rbtree_init() of a tree of ngx_oic_keyed_t. */
void ngx_oic_keyed_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel);

/* Set the key of a node before ngx_rbtree_insert(). */
void ngx_oic_keyed_set(ngx_oic_keyed_t *k, u_char *key);

ngx_oic_keyed_t *ngx_oic_keyed_lookup(ngx_rbtree_t *tree, u_char *key);

#endif /* NGX_OIC_KEYED_H */
