/*
 * Metrics (ngx_http_oic_auth_metrics.c): counters in a shared memory zone
 * of their own ("oic_auth_metrics"), summed over all workers and kept
 * across reloads, and the content handler of "oic_auth_metrics;" that
 * answers them in Prometheus' text format.
 *
 * Counters come in groups: one group per set of labels taken from the
 * configuration (a cache zone, a token endpoint, a JWKS URI, a limit zone;
 * the global group has none), holding the counters of every family of its
 * kind. A group is registered at configuration time
 * (ngx_http_oic_auth_metrics_group) and its counters are found in (or added
 * to) the zone once, when the zone is initialised: on the request path a
 * counter is one atomic add at a known address, no lookup, no lock. Without
 * an "oic_auth_metrics" location the zone does not exist, the groups have
 * no counters and every increment is a test of a NULL pointer.
 *
 * Adding a family (e.g. the fleet's Redis lookups per cache zone):
 *   1. its values: an enum below (NGX_HTTP_OIC_AUTH_M_..._N last), and
 *      their names in the .c file;
 *   2. a family id in ngx_http_oic_auth_family_e and a row for it in
 *      ngx_http_oic_auth_families[] (name, help, type, the group kind whose
 *      labels it has, its label and values); offsets within the group are
 *      computed from that table;
 *   3. one line where it happens:
 *        ngx_http_oic_auth_count(lcf->metrics->zone,
 *                                NGX_HTTP_OIC_AUTH_F_FLEET, value);
 *      (a new kind of labels also needs a group pointer in
 *      ngx_http_oic_auth_metrics_loc_t, registered in
 *      ngx_http_oic_auth_metrics_merge);
 *   4. README "Monitoring": the family, its labels and values.
 * The families of a group kind are laid out in the order of the table, so
 * a family added to a kind makes its groups larger: such a build needs a
 * restart, not a reload, to take over the old counts (as any change of the
 * module's .so does).
 */
#ifndef NGX_HTTP_OIC_AUTH_METRICS_H
#define NGX_HTTP_OIC_AUTH_METRICS_H

#include <ngx_config.h>
#include <ngx_core.h>


/* the kinds of groups: which labels they have */
typedef enum {
    NGX_HTTP_OIC_AUTH_G_GLOBAL = 0,     /* none */
    NGX_HTTP_OIC_AUTH_G_ZONE,           /* zone: a cache zone */
    NGX_HTTP_OIC_AUTH_G_TOKEN,          /* endpoint: a token endpoint */
    NGX_HTTP_OIC_AUTH_G_JWKS,           /* endpoint: a JWKS URI */
    NGX_HTTP_OIC_AUTH_G_JWKS_DOC,       /* zone, endpoint: its document */
    NGX_HTTP_OIC_AUTH_G_LIMIT,          /* zone: a limit zone */
    NGX_HTTP_OIC_AUTH_G_KINDS
} ngx_http_oic_auth_group_e;


/* the families */
typedef enum {
    NGX_HTTP_OIC_AUTH_F_REQUESTS = 0,   /* mode x outcome x error */
    NGX_HTTP_OIC_AUTH_F_BEARER,         /* mode x reason */
    NGX_HTTP_OIC_AUTH_F_CACHE,          /* result */
    NGX_HTTP_OIC_AUTH_F_VERIFIED,       /* result */
    NGX_HTTP_OIC_AUTH_F_IAM,            /* outcome */
    NGX_HTTP_OIC_AUTH_F_IAM_TIME,       /* histogram */
    NGX_HTTP_OIC_AUTH_F_IAM_NOT_MADE,   /* reason */
    NGX_HTTP_OIC_AUTH_F_JWKS,           /* outcome */
    NGX_HTTP_OIC_AUTH_F_JWKS_TIME,      /* histogram */
    NGX_HTTP_OIC_AUTH_F_JWKS_NOT_MADE,  /* reason */
    NGX_HTTP_OIC_AUTH_F_JWKS_KEYS,      /* gauge */
    NGX_HTTP_OIC_AUTH_F_JWKS_FETCHED,   /* gauge */
    NGX_HTTP_OIC_AUTH_F_LIMIT,          /* outcome */
    NGX_HTTP_OIC_AUTH_F_FAMILIES
} ngx_http_oic_auth_family_e;


/* oic_auth_token_cache_lookups_total{result} */
typedef enum {
    NGX_HTTP_OIC_AUTH_M_HIT = 0,
    NGX_HTTP_OIC_AUTH_M_MISS,
    NGX_HTTP_OIC_AUTH_M_WAIT,
    NGX_HTTP_OIC_AUTH_M_UPDATING,
    NGX_HTTP_OIC_AUTH_M_STALE,
    NGX_HTTP_OIC_AUTH_M_NEGATIVE,
    NGX_HTTP_OIC_AUTH_M_FAILED,
    NGX_HTTP_OIC_AUTH_M_NO_ROOM,
    NGX_HTTP_OIC_AUTH_M_CACHE_N
} ngx_http_oic_auth_m_cache_e;

/* oic_auth_verified_cache_lookups_total{result}: HIT, or MISS (verify) */
#define NGX_HTTP_OIC_AUTH_M_VERIFIED_N  2

/* oic_auth_iam_requests_not_made_total{reason} */
typedef enum {
    NGX_HTTP_OIC_AUTH_M_NM_NEGATIVE = 0,    /* a refusal remembered */
    NGX_HTTP_OIC_AUTH_M_NM_BACKOFF,         /* a failure's backoff runs */
    NGX_HTTP_OIC_AUTH_M_NM_FAILURE_LIMIT,
    NGX_HTTP_OIC_AUTH_M_NM_RETRY_AFTER,     /* a 429 block runs */
    NGX_HTTP_OIC_AUTH_M_NM_BUDGET,
    NGX_HTTP_OIC_AUTH_M_NM_CONNECTIONS,
    NGX_HTTP_OIC_AUTH_M_NM_N
} ngx_http_oic_auth_m_not_made_e;

/* oic_auth_jwks_requests_not_made_total{reason} */
typedef enum {
    NGX_HTTP_OIC_AUTH_M_JNM_RETRY_AFTER = 0,
    NGX_HTTP_OIC_AUTH_M_JNM_BACKOFF,        /* no keys, a failure lately */
    NGX_HTTP_OIC_AUTH_M_JNM_INTERVAL,       /* a refetch within 60 s */
    NGX_HTTP_OIC_AUTH_M_JNM_N
} ngx_http_oic_auth_m_jwks_not_made_e;

/* oic_auth_bearer_refusals_total{reason} */
typedef enum {
    NGX_HTTP_OIC_AUTH_M_BR_MALFORMED = 0,   /* the header or the token */
    NGX_HTTP_OIC_AUTH_M_BR_ALGORITHM,
    NGX_HTTP_OIC_AUTH_M_BR_UNKNOWN_KEY,
    NGX_HTTP_OIC_AUTH_M_BR_SIGNATURE,
    NGX_HTTP_OIC_AUTH_M_BR_EXPIRED,
    NGX_HTTP_OIC_AUTH_M_BR_NOT_YET_VALID,
    NGX_HTTP_OIC_AUTH_M_BR_ISSUER,
    NGX_HTTP_OIC_AUTH_M_BR_AUDIENCE,
    NGX_HTTP_OIC_AUTH_M_BR_CLAIM,
    NGX_HTTP_OIC_AUTH_M_BR_SCOPE,
    NGX_HTTP_OIC_AUTH_M_BR_USER_CLAIM,
    NGX_HTTP_OIC_AUTH_M_BR_N
} ngx_http_oic_auth_m_bearer_e;

/* oic_auth_limit_requests_total{outcome} */
typedef enum {
    NGX_HTTP_OIC_AUTH_M_PASSED = 0,
    NGX_HTTP_OIC_AUTH_M_DELAYED,
    NGX_HTTP_OIC_AUTH_M_REJECTED,
    NGX_HTTP_OIC_AUTH_M_LIMIT_N
} ngx_http_oic_auth_m_limit_e;


/* the configuration's groups and the zone (ngx_http_oic_auth_metrics.c) */
typedef struct ngx_http_oic_auth_metrics_conf_s
    ngx_http_oic_auth_metrics_conf_t;

/* a group of counters; counters is NULL when metrics are off */
typedef struct {
    ngx_uint_t                  kind;
    ngx_str_t                   labels;     /* zone="a",endpoint="b" */
    ngx_atomic_t               *counters;   /* in the zone */
} ngx_http_oic_auth_mgroup_t;

/* a location's groups */
typedef struct {
    ngx_http_oic_auth_mgroup_t *global;
    ngx_http_oic_auth_mgroup_t *zone;       /* its cache zone */
    ngx_http_oic_auth_mgroup_t *token;      /* NULL: no token endpoint */
    ngx_http_oic_auth_mgroup_t *jwks;       /* NULL: no JWKS URI */
    ngx_http_oic_auth_mgroup_t *jwks_doc;
} ngx_http_oic_auth_metrics_loc_t;


/* where a family starts in its group */
extern ngx_uint_t  ngx_http_oic_auth_family_offset[NGX_HTTP_OIC_AUTH_F_FAMILIES];


/* One more of value i of a family (g may be NULL). */
static ngx_inline void
ngx_http_oic_auth_count(ngx_http_oic_auth_mgroup_t *g, ngx_uint_t family,
    ngx_uint_t i)
{
    if (g && g->counters) {
        (void) ngx_atomic_fetch_add(
                   &g->counters[ngx_http_oic_auth_family_offset[family] + i],
                   1);
    }
}


#endif /* NGX_HTTP_OIC_AUTH_METRICS_H */
