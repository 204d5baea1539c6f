/* rbtree nodes keyed by a 32-byte hash (see ngx_oic_keyed.h). */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_oic_keyed.h"


static ngx_rbtree_key_t
ngx_oic_keyed_hash(u_char *key)
{
    ngx_rbtree_key_t  h;

    ngx_memcpy(&h, key, sizeof(ngx_rbtree_key_t));

    return h;
}


static ngx_int_t
ngx_oic_keyed_cmp(u_char *key, ngx_rbtree_key_t hash, ngx_oic_keyed_t *k)
{
    if (hash != k->node.key) {
        return (hash < k->node.key) ? -1 : 1;
    }

    return ngx_memcmp(key, k->key, NGX_OIC_KEY_LEN);
}


void
ngx_oic_keyed_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t  **p;
    ngx_oic_keyed_t     *k = (ngx_oic_keyed_t *) node;

    for ( ;; ) {
        p = (ngx_oic_keyed_cmp(k->key, node->key, (ngx_oic_keyed_t *) temp)
             < 0) ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


void
ngx_oic_keyed_set(ngx_oic_keyed_t *k, u_char *key)
{
    ngx_memcpy(k->key, key, NGX_OIC_KEY_LEN);
    k->node.key = ngx_oic_keyed_hash(key);
}


ngx_oic_keyed_t *
ngx_oic_keyed_lookup(ngx_rbtree_t *tree, u_char *key)
{
    ngx_int_t           rc;
    ngx_rbtree_key_t    hash;
    ngx_rbtree_node_t  *node;

    hash = ngx_oic_keyed_hash(key);
    node = tree->root;

    while (node != tree->sentinel) {
        rc = ngx_oic_keyed_cmp(key, hash, (ngx_oic_keyed_t *) node);

        if (rc == 0) {
            return (ngx_oic_keyed_t *) node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}
