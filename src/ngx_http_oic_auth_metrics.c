/*
 * Metrics: the families and their groups of counters (see
 * ngx_http_oic_auth_metrics.h), the shared memory zone "oic_auth_metrics"
 * that holds them for all workers and keeps them across reloads (its
 * groups are found again by kind and labels), what the other files count
 * through (the requests, IAM and JWKS calls, bearer refusals), the
 * "oic_auth_metrics" directive and its content handler: the Prometheus
 * text format (version 0.0.4), the zones' gauges read at scrape time under
 * each zone's mutex.
 *
 * Label values come from the configuration only (zone names, endpoints
 * without scheme, credentials or query, the modes and fixed lists of
 * outcomes): never a client id, a user, a token or a secret.
 */

#include <curl/curl.h>

#include "ngx_http_oic_auth.h"


#define NGX_HTTP_OIC_AUTH_METRICS_SIZE   (1024 * 1024)
#define NGX_HTTP_OIC_AUTH_LABEL_MAX      200     /* bytes of a label value */
#define NGX_HTTP_OIC_AUTH_LINE_MAX       2048    /* room for one line */
#define NGX_HTTP_OIC_AUTH_OUT_BUF        32768

/* histogram buckets (Prometheus' defaults), in microseconds, then +Inf */
#define NGX_HTTP_OIC_AUTH_BUCKETS        11
#define NGX_HTTP_OIC_AUTH_HISTOGRAM      (NGX_HTTP_OIC_AUTH_BUCKETS + 2)

#define NGX_HTTP_OIC_AUTH_SPARSE         0x01    /* zero values not shown */
#define NGX_HTTP_OIC_AUTH_HIST           0x02


/* oic_auth_requests_total: mode x outcome x error */
typedef enum {
    NGX_HTTP_OIC_AUTH_M_ALLOWED = 0,
    NGX_HTTP_OIC_AUTH_M_400,
    NGX_HTTP_OIC_AUTH_M_401,
    NGX_HTTP_OIC_AUTH_M_403,
    NGX_HTTP_OIC_AUTH_M_404,
    NGX_HTTP_OIC_AUTH_M_429,
    NGX_HTTP_OIC_AUTH_M_500,
    NGX_HTTP_OIC_AUTH_M_502,
    NGX_HTTP_OIC_AUTH_M_503,
    NGX_HTTP_OIC_AUTH_M_OTHER,
    NGX_HTTP_OIC_AUTH_M_OUTCOMES
} ngx_http_oic_auth_m_outcome_e;

/* oic_auth_iam_requests_total{outcome} */
typedef enum {
    NGX_HTTP_OIC_AUTH_M_IAM_OK = 0,
    NGX_HTTP_OIC_AUTH_M_IAM_OAUTH,          /* the OAuth codes follow */
    NGX_HTTP_OIC_AUTH_M_IAM_OTHER_OAUTH = NGX_HTTP_OIC_AUTH_M_IAM_OAUTH + 6,
    NGX_HTTP_OIC_AUTH_M_IAM_429,
    NGX_HTTP_OIC_AUTH_M_IAM_5XX,
    NGX_HTTP_OIC_AUTH_M_IAM_OTHER_STATUS,
    NGX_HTTP_OIC_AUTH_M_IAM_MALFORMED,
    NGX_HTTP_OIC_AUTH_M_IAM_TIMEOUT,
    NGX_HTTP_OIC_AUTH_M_IAM_CONNECTION,
    NGX_HTTP_OIC_AUTH_M_IAM_N
} ngx_http_oic_auth_m_iam_e;

/* oic_auth_jwks_requests_total{outcome} */
typedef enum {
    NGX_HTTP_OIC_AUTH_M_JWKS_OK = 0,
    NGX_HTTP_OIC_AUTH_M_JWKS_429,
    NGX_HTTP_OIC_AUTH_M_JWKS_5XX,
    NGX_HTTP_OIC_AUTH_M_JWKS_OTHER_STATUS,
    NGX_HTTP_OIC_AUTH_M_JWKS_MALFORMED,
    NGX_HTTP_OIC_AUTH_M_JWKS_TIMEOUT,
    NGX_HTTP_OIC_AUTH_M_JWKS_CONNECTION,
    NGX_HTTP_OIC_AUTH_M_JWKS_N
} ngx_http_oic_auth_m_jwks_e;


/* one label with a fixed list of values */
typedef struct {
    char                       *name;
    char                      **values;
    ngx_uint_t                  n;
} ngx_http_oic_auth_dim_t;

typedef struct {
    char                       *name;
    char                       *help;
    char                       *type;
    ngx_uint_t                  kind;       /* of the groups it is in */
    ngx_uint_t                  flags;
    ngx_http_oic_auth_dim_t     dims[3];    /* name NULL: no more */
} ngx_http_oic_auth_family_t;


/* what a group is in the zone */
typedef struct ngx_http_oic_auth_mrec_s  ngx_http_oic_auth_mrec_t;

struct ngx_http_oic_auth_mrec_s {
    ngx_http_oic_auth_mrec_t   *next;
    ngx_uint_t                  kind;
    ngx_uint_t                  n;          /* counters */
    size_t                      len;
    u_char                     *labels;
    ngx_atomic_t                counters[1];
};

typedef struct {
    ngx_http_oic_auth_mrec_t   *groups;
    ngx_uint_t                  count;
} ngx_http_oic_auth_metrics_sh_t;

/* the configuration's groups, and the zone once there is one */
struct ngx_http_oic_auth_metrics_conf_s {
    ngx_flag_t                  enabled;    /* an oic_auth_metrics location */
    ngx_array_t                 groups;     /* of ngx_http_oic_auth_mgroup_t * */
    ngx_shm_zone_t             *shm_zone;
    ngx_slab_pool_t            *shpool;
    ngx_http_oic_auth_metrics_sh_t  *sh;
};


/* the answer being written */
typedef struct {
    ngx_http_request_t         *r;
    ngx_chain_t                *out;
    ngx_chain_t               **last;
    ngx_buf_t                  *b;
    off_t                       size;
    ngx_uint_t                  error;
} ngx_http_oic_auth_mout_t;


static ngx_int_t ngx_http_oic_auth_metrics_handler(ngx_http_request_t *r);


static char  *ngx_http_oic_auth_m_modes[] = {
    "none", "basic", "bearer", "exchange"
};

static char  *ngx_http_oic_auth_m_outcomes[] = {
    "allowed", "400", "401", "403", "404", "429", "500", "502", "503",
    "other"
};

/* the values of $oic_auth_error; "internal": a 500 of the module itself */
static char  *ngx_http_oic_auth_m_errors[] = {
    "", "no_credentials", "malformed_credentials", "invalid_request",
    "invalid_token", "insufficient_scope", "invalid_client",
    "unauthorized_client", "invalid_scope", "invalid_grant", "forbidden",
    "iam_rate_limited", "client_throttled", "iam_busy", "iam_unavailable",
    "jwks_unavailable", "cache_full", "rate_limited", "internal", "other"
};

#define NGX_HTTP_OIC_AUTH_M_ERRORS                                           \
    (sizeof(ngx_http_oic_auth_m_errors) / sizeof(char *))
#define NGX_HTTP_OIC_AUTH_M_ERR_INTERNAL  (NGX_HTTP_OIC_AUTH_M_ERRORS - 2)
#define NGX_HTTP_OIC_AUTH_M_ERR_OTHER     (NGX_HTTP_OIC_AUTH_M_ERRORS - 1)

static char  *ngx_http_oic_auth_m_bearer_modes[] = { "bearer", "exchange" };

static char  *ngx_http_oic_auth_m_reasons[] = {
    "malformed", "algorithm", "unknown_key", "signature", "expired",
    "not_yet_valid", "issuer", "audience", "claim", "scope", "user_claim"
};

static char  *ngx_http_oic_auth_m_cache[] = {
    "hit", "miss", "wait", "updating", "stale", "negative", "failed",
    "no_room"
};

static char  *ngx_http_oic_auth_m_verified[] = { "hit", "miss" };

static char  *ngx_http_oic_auth_m_iam[] = {
    "ok", "invalid_request", "invalid_client", "invalid_grant",
    "unauthorized_client", "unsupported_grant_type", "invalid_scope",
    "other_oauth_error", "429", "5xx", "other_status", "malformed",
    "timeout", "connection_failure"
};

static char  *ngx_http_oic_auth_m_not_made[] = {
    "negative", "backoff", "failure_limit", "retry_after", "budget",
    "connections"
};

static char  *ngx_http_oic_auth_m_jwks[] = {
    "ok", "429", "5xx", "other_status", "malformed", "timeout",
    "connection_failure"
};

static char  *ngx_http_oic_auth_m_jwks_not_made[] = {
    "retry_after", "backoff", "refetch_interval"
};

static char  *ngx_http_oic_auth_m_limit[] = {
    "passed", "delayed", "rejected"
};

static char  *ngx_http_oic_auth_m_buckets[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10", "+Inf"
};

static ngx_uint_t  ngx_http_oic_auth_m_bounds[NGX_HTTP_OIC_AUTH_BUCKETS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000
};

#define ngx_http_oic_auth_dim(name, values)                                  \
    { name, values, sizeof(values) / sizeof(char *) }

#define ngx_http_oic_auth_no_dim  { NULL, NULL, 1 }


static ngx_http_oic_auth_family_t  ngx_http_oic_auth_families[] = {

    { "oic_auth_requests_total",
      "Requests checked by oic_auth, by mode (the Authorization scheme), "
      "outcome (allowed, or the status answered) and error "
      "($oic_auth_error).",
      "counter", NGX_HTTP_OIC_AUTH_G_GLOBAL, NGX_HTTP_OIC_AUTH_SPARSE,
      { ngx_http_oic_auth_dim("mode", ngx_http_oic_auth_m_modes),
        ngx_http_oic_auth_dim("outcome", ngx_http_oic_auth_m_outcomes),
        ngx_http_oic_auth_dim("error", ngx_http_oic_auth_m_errors) } },

    { "oic_auth_bearer_refusals_total",
      "Bearer tokens refused, by mode and reason.",
      "counter", NGX_HTTP_OIC_AUTH_G_GLOBAL, NGX_HTTP_OIC_AUTH_SPARSE,
      { ngx_http_oic_auth_dim("mode", ngx_http_oic_auth_m_bearer_modes),
        ngx_http_oic_auth_dim("reason", ngx_http_oic_auth_m_reasons),
        ngx_http_oic_auth_no_dim } },

    { "oic_auth_token_cache_lookups_total",
      "IAM token lookups in a cache zone, by result "
      "($oic_auth_cache_status; failed: a failure's backoff runs; "
      "no_room: fetched without the zone).",
      "counter", NGX_HTTP_OIC_AUTH_G_ZONE, 0,
      { ngx_http_oic_auth_dim("result", ngx_http_oic_auth_m_cache),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } },

    { "oic_auth_verified_cache_lookups_total",
      "Bearer token signatures: known as verified in a cache zone (hit), "
      "or verified (miss).",
      "counter", NGX_HTTP_OIC_AUTH_G_ZONE, 0,
      { ngx_http_oic_auth_dim("result", ngx_http_oic_auth_m_verified),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } },

    { "oic_auth_iam_requests_total",
      "Calls to a token endpoint, by outcome.",
      "counter", NGX_HTTP_OIC_AUTH_G_TOKEN, 0,
      { ngx_http_oic_auth_dim("outcome", ngx_http_oic_auth_m_iam),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } },

    { "oic_auth_iam_request_duration_seconds",
      "Time taken by the calls to a token endpoint.",
      "histogram", NGX_HTTP_OIC_AUTH_G_TOKEN, NGX_HTTP_OIC_AUTH_HIST,
      { ngx_http_oic_auth_dim("le", ngx_http_oic_auth_m_buckets),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } },

    { "oic_auth_iam_requests_not_made_total",
      "Calls to a token endpoint not made, by reason.",
      "counter", NGX_HTTP_OIC_AUTH_G_TOKEN, 0,
      { ngx_http_oic_auth_dim("reason", ngx_http_oic_auth_m_not_made),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } },

    { "oic_auth_jwks_requests_total",
      "Fetches of a JWKS URI, by outcome.",
      "counter", NGX_HTTP_OIC_AUTH_G_JWKS, 0,
      { ngx_http_oic_auth_dim("outcome", ngx_http_oic_auth_m_jwks),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } },

    { "oic_auth_jwks_request_duration_seconds",
      "Time taken by the fetches of a JWKS URI.",
      "histogram", NGX_HTTP_OIC_AUTH_G_JWKS, NGX_HTTP_OIC_AUTH_HIST,
      { ngx_http_oic_auth_dim("le", ngx_http_oic_auth_m_buckets),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } },

    { "oic_auth_jwks_requests_not_made_total",
      "Fetches of a JWKS URI not made, by reason.",
      "counter", NGX_HTTP_OIC_AUTH_G_JWKS, 0,
      { ngx_http_oic_auth_dim("reason", ngx_http_oic_auth_m_jwks_not_made),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } },

    { "oic_auth_jwks_keys",
      "Keys in the last JWKS document fetched into a cache zone.",
      "gauge", NGX_HTTP_OIC_AUTH_G_JWKS_DOC, 0,
      { ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim,
        ngx_http_oic_auth_no_dim } },

    { "oic_auth_jwks_last_success_timestamp_seconds",
      "When a JWKS document was last fetched into a cache zone (unix "
      "time; 0: not yet).",
      "gauge", NGX_HTTP_OIC_AUTH_G_JWKS_DOC, 0,
      { ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim,
        ngx_http_oic_auth_no_dim } },

    { "oic_auth_limit_requests_total",
      "Requests judged by a limit zone (oic_auth_limit), by outcome.",
      "counter", NGX_HTTP_OIC_AUTH_G_LIMIT, 0,
      { ngx_http_oic_auth_dim("outcome", ngx_http_oic_auth_m_limit),
        ngx_http_oic_auth_no_dim, ngx_http_oic_auth_no_dim } }
};


ngx_uint_t  ngx_http_oic_auth_family_offset[NGX_HTTP_OIC_AUTH_F_FAMILIES];

/* counters per group kind */
static ngx_uint_t  ngx_http_oic_auth_group_size[NGX_HTTP_OIC_AUTH_G_KINDS];

static ngx_str_t  ngx_http_oic_auth_metrics_name =
    ngx_string("oic_auth_metrics");

/* the metrics zone's tag: no other zone of the module can be it */
static ngx_uint_t  ngx_http_oic_auth_metrics_tag;


/* ---- the layout ---- */

static ngx_uint_t
ngx_http_oic_auth_family_size(ngx_http_oic_auth_family_t *f)
{
    if (f->flags & NGX_HTTP_OIC_AUTH_HIST) {
        return NGX_HTTP_OIC_AUTH_HISTOGRAM;
    }

    return f->dims[0].n * f->dims[1].n * f->dims[2].n;
}


/* Where each family starts in its group, in the order of the table. */
static void
ngx_http_oic_auth_metrics_layout(void)
{
    ngx_uint_t                   i;
    ngx_http_oic_auth_family_t  *f;

    ngx_memzero(ngx_http_oic_auth_group_size,
                sizeof(ngx_http_oic_auth_group_size));

    for (i = 0; i < NGX_HTTP_OIC_AUTH_F_FAMILIES; i++) {
        f = &ngx_http_oic_auth_families[i];

        ngx_http_oic_auth_family_offset[i] =
                                        ngx_http_oic_auth_group_size[f->kind];
        ngx_http_oic_auth_group_size[f->kind] +=
                                        ngx_http_oic_auth_family_size(f);
    }
}


/* ---- configuration ---- */

static ngx_http_oic_auth_metrics_conf_t *
ngx_http_oic_auth_metrics_conf(ngx_conf_t *cf)
{
    ngx_http_oic_auth_main_conf_t     *mcf;
    ngx_http_oic_auth_metrics_conf_t  *mc;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_oic_auth_module);

    if (mcf->metrics) {
        return mcf->metrics;
    }

    mc = ngx_pcalloc(cf->pool, sizeof(ngx_http_oic_auth_metrics_conf_t));
    if (mc == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mc->groups, cf->pool, 8,
                       sizeof(ngx_http_oic_auth_mgroup_t *))
        != NGX_OK)
    {
        return NULL;
    }

    ngx_http_oic_auth_metrics_layout();

    mcf->metrics = mc;

    return mc;
}


/* `name="value"`, escaped as the text format asks, the value capped */
static u_char *
ngx_http_oic_auth_label(u_char *p, char *name, ngx_str_t *value)
{
    size_t  i, n;

    p = ngx_sprintf(p, "%s=\"", name);
    n = ngx_min(value->len, NGX_HTTP_OIC_AUTH_LABEL_MAX);

    for (i = 0; i < n; i++) {
        switch (value->data[i]) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = value->data[i];
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = value->data[i];
        }
    }

    *p++ = '"';

    return p;
}


/*
 * An endpoint as a label: the URL without its scheme, credentials, query
 * and fragment (host[:port]/path).
 */
static void
ngx_http_oic_auth_endpoint_label(ngx_str_t *url, ngx_str_t *ep)
{
    u_char  *p, *last, *at, *slash;

    p = url->data;
    last = url->data + url->len;

    if (url->len > 8 && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0) {
        p += 8;

    } else if (url->len > 7
               && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0)
    {
        p += 7;
    }

    for (ep->data = p; p < last && *p != '?' && *p != '#'; p++) {
        /* void */
    }

    last = p;

    slash = ngx_strlchr(ep->data, last, '/');
    at = ngx_strlchr(ep->data, slash ? slash : last, '@');

    if (at) {
        ep->data = at + 1;
    }

    ep->len = last - ep->data;
}


/*
 * The group of kind with these labels (zone, endpoint: NULL when the kind
 * has not that label), one per configuration: later calls get the same.
 */
ngx_http_oic_auth_mgroup_t *
ngx_http_oic_auth_metrics_group(ngx_conf_t *cf, ngx_uint_t kind,
    ngx_str_t *zone, ngx_str_t *endpoint)
{
    u_char                             *p;
    ngx_str_t                           ep, labels;
    ngx_uint_t                          i;
    ngx_http_oic_auth_mgroup_t         *g, **gp;
    ngx_http_oic_auth_metrics_conf_t   *mc;

    mc = ngx_http_oic_auth_metrics_conf(cf);
    if (mc == NULL) {
        return NULL;
    }

    p = ngx_pnalloc(cf->pool, 2 * 2 * NGX_HTTP_OIC_AUTH_LABEL_MAX + 64);
    if (p == NULL) {
        return NULL;
    }

    labels.data = p;

    if (zone) {
        p = ngx_http_oic_auth_label(p, "zone", zone);
    }

    if (endpoint) {
        ngx_http_oic_auth_endpoint_label(endpoint, &ep);

        if (zone) {
            *p++ = ',';
        }

        p = ngx_http_oic_auth_label(p, "endpoint", &ep);
    }

    labels.len = p - labels.data;

    gp = mc->groups.elts;

    for (i = 0; i < mc->groups.nelts; i++) {
        if (gp[i]->kind == kind && gp[i]->labels.len == labels.len
            && ngx_strncmp(gp[i]->labels.data, labels.data, labels.len) == 0)
        {
            return gp[i];
        }
    }

    g = ngx_pcalloc(cf->pool, sizeof(ngx_http_oic_auth_mgroup_t));
    if (g == NULL) {
        return NULL;
    }

    g->kind = kind;
    g->labels = labels;

    gp = ngx_array_push(&mc->groups);
    if (gp == NULL) {
        return NULL;
    }

    *gp = g;

    return g;
}


/* A location with oic_auth: the groups it counts in. */
ngx_int_t
ngx_http_oic_auth_metrics_merge(ngx_conf_t *cf,
    ngx_http_oic_auth_loc_conf_t *conf)
{
    ngx_http_oic_auth_metrics_loc_t  *m;

    m = ngx_pcalloc(cf->pool, sizeof(ngx_http_oic_auth_metrics_loc_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->global = ngx_http_oic_auth_metrics_group(cf,
                                                NGX_HTTP_OIC_AUTH_G_GLOBAL,
                                                NULL, NULL);

    m->zone = ngx_http_oic_auth_metrics_group(cf, NGX_HTTP_OIC_AUTH_G_ZONE,
                                              &conf->zone->shm.name, NULL);

    if (m->global == NULL || m->zone == NULL) {
        return NGX_ERROR;
    }

    if ((conf->modes & (NGX_HTTP_OIC_AUTH_BASIC|NGX_HTTP_OIC_AUTH_EXCHANGE))
        && conf->token_endpoint.len)
    {
        m->token = ngx_http_oic_auth_metrics_group(cf,
                                                   NGX_HTTP_OIC_AUTH_G_TOKEN,
                                                   NULL,
                                                   &conf->token_endpoint);
        if (m->token == NULL) {
            return NGX_ERROR;
        }
    }

    if ((conf->modes & (NGX_HTTP_OIC_AUTH_BEARER|NGX_HTTP_OIC_AUTH_EXCHANGE))
        && conf->jwks_uri.len)
    {
        m->jwks = ngx_http_oic_auth_metrics_group(cf,
                                                  NGX_HTTP_OIC_AUTH_G_JWKS,
                                                  NULL, &conf->jwks_uri);

        m->jwks_doc = ngx_http_oic_auth_metrics_group(cf,
                                                  NGX_HTTP_OIC_AUTH_G_JWKS_DOC,
                                                  &conf->zone->shm.name,
                                                  &conf->jwks_uri);

        if (m->jwks == NULL || m->jwks_doc == NULL) {
            return NGX_ERROR;
        }
    }

    conf->metrics = m;

    return NGX_OK;
}


/* oic_auth_metrics; */
char *
ngx_http_oic_auth_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_loc_conf_t *lcf = conf;

    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_oic_auth_metrics_conf_t  *mc;

    if (lcf->metrics_handler) {
        return "is duplicate";
    }

    /* the answer is not behind oic_auth, nor counted as a request */

    if (lcf->modes != NGX_CONF_UNSET_UINT && lcf->modes != 0) {
        return "cannot be used in a location with \"oic_auth\"";
    }

    lcf->modes = 0;
    lcf->metrics_handler = 1;

    mc = ngx_http_oic_auth_metrics_conf(cf);
    if (mc == NULL) {
        return NGX_CONF_ERROR;
    }

    mc->enabled = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_oic_auth_metrics_handler;

    return NGX_CONF_OK;
}


/* ---- the zone ---- */

static ngx_http_oic_auth_mrec_t *
ngx_http_oic_auth_metrics_find(ngx_http_oic_auth_metrics_conf_t *mc,
    ngx_http_oic_auth_mgroup_t *g)
{
    size_t                     size;
    ngx_uint_t                 n;
    ngx_http_oic_auth_mrec_t  *rec;

    n = ngx_http_oic_auth_group_size[g->kind];

    for (rec = mc->sh->groups; rec; rec = rec->next) {
        if (rec->kind == g->kind && rec->n == n && rec->len == g->labels.len
            && ngx_memcmp(rec->labels, g->labels.data, rec->len) == 0)
        {
            return rec;
        }
    }

    size = offsetof(ngx_http_oic_auth_mrec_t, counters)
           + n * sizeof(ngx_atomic_t);

    rec = ngx_slab_calloc_locked(mc->shpool, size);
    if (rec == NULL) {
        return NULL;
    }

    rec->labels = ngx_slab_alloc_locked(mc->shpool,
                                        ngx_max(g->labels.len, 1));
    if (rec->labels == NULL) {
        ngx_slab_free_locked(mc->shpool, rec);
        return NULL;
    }

    ngx_memcpy(rec->labels, g->labels.data, g->labels.len);
    rec->len = g->labels.len;
    rec->kind = g->kind;
    rec->n = n;

    rec->next = mc->sh->groups;
    mc->sh->groups = rec;
    mc->sh->count++;

    return rec;
}


/*
 * The zone (a new one, or the one before a reload with its counts): every
 * group of this configuration gets its counters, found by kind and labels.
 * Groups of earlier configurations stay (their old workers may still
 * count), unseen by this one.
 */
static ngx_int_t
ngx_http_oic_auth_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_uint_t                         i;
    ngx_http_oic_auth_mrec_t          *rec;
    ngx_http_oic_auth_mgroup_t       **gp;
    ngx_http_oic_auth_metrics_conf_t  *mc, *omc;

    mc = shm_zone->data;
    omc = data;

    if (omc) {
        mc->sh = omc->sh;
        mc->shpool = omc->shpool;

    } else {
        mc->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            mc->sh = mc->shpool->data;

        } else {
            mc->sh = ngx_slab_calloc(mc->shpool,
                                     sizeof(ngx_http_oic_auth_metrics_sh_t));
            if (mc->sh == NULL) {
                return NGX_ERROR;
            }

            mc->shpool->data = mc->sh;

            if (ngx_oic_cache_log_ctx(shm_zone, mc->shpool, "oic_auth zone")
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    gp = mc->groups.elts;

    ngx_shmtx_lock(&mc->shpool->mutex);

    for (i = 0; i < mc->groups.nelts; i++) {
        rec = ngx_http_oic_auth_metrics_find(mc, gp[i]);

        if (rec == NULL) {
            ngx_log_error(NGX_LOG_ALERT, shm_zone->shm.log, 0,
                          "oic_auth: no room in zone \"%V\" for the "
                          "counters of %V, they are not counted",
                          &shm_zone->shm.name, &gp[i]->labels);
            continue;
        }

        gp[i]->counters = rec->counters;
    }

    ngx_shmtx_unlock(&mc->shpool->mutex);

    return NGX_OK;
}


/*
 * After the configuration is read (postconfiguration): with an
 * oic_auth_metrics location, the zone that holds the counters.
 */
ngx_int_t
ngx_http_oic_auth_metrics_init(ngx_conf_t *cf)
{
    ngx_uint_t                      i;
    ngx_list_part_t                *part;
    ngx_shm_zone_t                 *shm_zone;
    ngx_http_oic_auth_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_oic_auth_module);

    if (mcf->metrics == NULL || !mcf->metrics->enabled) {
        return NGX_OK;
    }

    /* the name is the metrics zone's: not a zone of another directive */

    part = &cf->cycle->shared_memory.part;
    shm_zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            shm_zone = part->elts;
            i = 0;
        }

        if (shm_zone[i].shm.name.len == ngx_http_oic_auth_metrics_name.len
            && ngx_strncmp(shm_zone[i].shm.name.data,
                           ngx_http_oic_auth_metrics_name.data,
                           ngx_http_oic_auth_metrics_name.len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "zone name \"%V\" is reserved by "
                               "\"oic_auth_metrics\"",
                               &ngx_http_oic_auth_metrics_name);
            return NGX_ERROR;
        }
    }

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_oic_auth_metrics_name,
                                     NGX_HTTP_OIC_AUTH_METRICS_SIZE,
                                     &ngx_http_oic_auth_metrics_tag);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_oic_auth_metrics_init_zone;
    shm_zone->data = mcf->metrics;
    mcf->metrics->shm_zone = shm_zone;

    return NGX_OK;
}


/* ---- counting ---- */

static ngx_uint_t
ngx_http_oic_auth_metrics_index(char **values, ngx_uint_t n, ngx_str_t *s)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (ngx_strlen(values[i]) == s->len
            && ngx_strncmp(values[i], s->data, s->len) == 0)
        {
            return i;
        }
    }

    return n;
}


/*
 * The outcome of a check: rc is what the phase handler returns (NGX_AGAIN:
 * not yet). Once per check: a check answered again (a location entered
 * anew with the same outcome) is not counted twice.
 */
void
ngx_http_oic_auth_metrics_request(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_uint_t                     mode, outcome, error;
    ngx_http_oic_auth_ctx_t       *ctx;
    ngx_http_oic_auth_loc_conf_t  *lcf;

    if (rc == NGX_AGAIN || rc == NGX_DONE || rc == NGX_DECLINED) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_oic_auth_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_oic_auth_module);

    if (ctx == NULL || ctx->counted || lcf->metrics == NULL
        || lcf->metrics->global->counters == NULL)
    {
        return;
    }

    ctx->counted = 1;

    switch (ctx->mode) {
    case NGX_HTTP_OIC_AUTH_BASIC:
        mode = 1;
        break;
    case NGX_HTTP_OIC_AUTH_BEARER:
        mode = 2;
        break;
    case NGX_HTTP_OIC_AUTH_EXCHANGE:
        mode = 3;
        break;
    default:
        mode = 0;
    }

    error = 0;

    switch (rc) {
    case NGX_OK:
        outcome = NGX_HTTP_OIC_AUTH_M_ALLOWED;
        break;
    case NGX_HTTP_BAD_REQUEST:
        outcome = NGX_HTTP_OIC_AUTH_M_400;
        break;
    case NGX_HTTP_UNAUTHORIZED:
        outcome = NGX_HTTP_OIC_AUTH_M_401;
        break;
    case NGX_HTTP_FORBIDDEN:
        outcome = NGX_HTTP_OIC_AUTH_M_403;
        break;
    case NGX_HTTP_NOT_FOUND:
        outcome = NGX_HTTP_OIC_AUTH_M_404;
        break;
    case NGX_HTTP_TOO_MANY_REQUESTS:
        outcome = NGX_HTTP_OIC_AUTH_M_429;
        break;
    case NGX_ERROR:
    case NGX_HTTP_INTERNAL_SERVER_ERROR:
        outcome = NGX_HTTP_OIC_AUTH_M_500;
        break;
    case NGX_HTTP_BAD_GATEWAY:
        outcome = NGX_HTTP_OIC_AUTH_M_502;
        break;
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        outcome = NGX_HTTP_OIC_AUTH_M_503;
        break;
    default:
        outcome = NGX_HTTP_OIC_AUTH_M_OTHER;
    }

    if (rc != NGX_OK) {
        if (ctx->status == NGX_OK || ctx->error.len == 0) {
            /* a failure of the module itself (memory) */
            error = NGX_HTTP_OIC_AUTH_M_ERR_INTERNAL;

        } else {
            error = ngx_http_oic_auth_metrics_index(
                        ngx_http_oic_auth_m_errors,
                        NGX_HTTP_OIC_AUTH_M_ERR_OTHER, &ctx->error);
        }
    }

    ngx_http_oic_auth_count(lcf->metrics->global,
                            NGX_HTTP_OIC_AUTH_F_REQUESTS,
                            (mode * NGX_HTTP_OIC_AUTH_M_OUTCOMES + outcome)
                            * NGX_HTTP_OIC_AUTH_M_ERRORS + error);
}


/*
 * A token cache lookup (ngx_http_oic_auth_m_cache_e): the first of a
 * request (one that waits for a connection to IAM looks again); a refusal
 * remembered and a failure's backoff are calls not made, too.
 */
void
ngx_http_oic_auth_metrics_cache(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_uint_t result)
{
    if (lcf->metrics == NULL || ctx->slot_wait) {
        return;
    }

    ngx_http_oic_auth_count(lcf->metrics->zone, NGX_HTTP_OIC_AUTH_F_CACHE,
                            result);

    if (result == NGX_HTTP_OIC_AUTH_M_NEGATIVE) {
        ngx_http_oic_auth_count(lcf->metrics->token,
                                NGX_HTTP_OIC_AUTH_F_IAM_NOT_MADE,
                                NGX_HTTP_OIC_AUTH_M_NM_NEGATIVE);

    } else if (result == NGX_HTTP_OIC_AUTH_M_FAILED) {
        ngx_http_oic_auth_count(lcf->metrics->token,
                                NGX_HTTP_OIC_AUTH_F_IAM_NOT_MADE,
                                NGX_HTTP_OIC_AUTH_M_NM_BACKOFF);
    }
}


/* A signature known as verified (hit), or verified now. */
void
ngx_http_oic_auth_metrics_verified(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_uint_t hit)
{
    if (lcf->metrics) {
        ngx_http_oic_auth_count(lcf->metrics->zone,
                                NGX_HTTP_OIC_AUTH_F_VERIFIED, hit ? 0 : 1);
    }
}


/* A call to the token endpoint not made (ngx_http_oic_auth_m_not_made_e). */
void
ngx_http_oic_auth_metrics_not_made(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_uint_t reason)
{
    if (lcf->metrics) {
        ngx_http_oic_auth_count(lcf->metrics->token,
                                NGX_HTTP_OIC_AUTH_F_IAM_NOT_MADE, reason);
    }
}


/* A JWKS fetch not made (ngx_http_oic_auth_m_jwks_not_made_e). */
void
ngx_http_oic_auth_metrics_jwks_not_made(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_uint_t reason)
{
    if (lcf->metrics) {
        ngx_http_oic_auth_count(lcf->metrics->jwks,
                                NGX_HTTP_OIC_AUTH_F_JWKS_NOT_MADE, reason);
    }
}


/* A bearer token refused for reason (ngx_http_oic_auth_m_bearer_e). */
void
ngx_http_oic_auth_metrics_bearer(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_uint_t reason)
{
    if (lcf->metrics == NULL) {
        return;
    }

    ngx_http_oic_auth_count(lcf->metrics->global, NGX_HTTP_OIC_AUTH_F_BEARER,
                            (ctx->mode == NGX_HTTP_OIC_AUTH_EXCHANGE)
                            * NGX_HTTP_OIC_AUTH_M_BR_N + reason);
}


/* A bearer token refused by the core's check (jrc != OIC_JWT_OK). */
void
ngx_http_oic_auth_metrics_jwt(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, oic_jwt_rc_t jrc)
{
    ngx_uint_t  reason;

    switch (jrc) {
    case OIC_JWT_BAD_ALG:
        reason = NGX_HTTP_OIC_AUTH_M_BR_ALGORITHM;
        break;
    case OIC_JWT_UNKNOWN_KID:
        reason = NGX_HTTP_OIC_AUTH_M_BR_UNKNOWN_KEY;
        break;
    case OIC_JWT_BAD_SIGNATURE:
        reason = NGX_HTTP_OIC_AUTH_M_BR_SIGNATURE;
        break;
    case OIC_JWT_EXPIRED:
        reason = NGX_HTTP_OIC_AUTH_M_BR_EXPIRED;
        break;
    case OIC_JWT_NOT_YET_VALID:
        reason = NGX_HTTP_OIC_AUTH_M_BR_NOT_YET_VALID;
        break;
    case OIC_JWT_BAD_ISSUER:
        reason = NGX_HTTP_OIC_AUTH_M_BR_ISSUER;
        break;
    case OIC_JWT_BAD_AUDIENCE:
        reason = NGX_HTTP_OIC_AUTH_M_BR_AUDIENCE;
        break;
    case OIC_JWT_BAD_CLAIM:
        reason = NGX_HTTP_OIC_AUTH_M_BR_CLAIM;
        break;
    case OIC_JWT_INSUFFICIENT_SCOPE:
        reason = NGX_HTTP_OIC_AUTH_M_BR_SCOPE;
        break;
    default:
        reason = NGX_HTTP_OIC_AUTH_M_BR_MALFORMED;
    }

    ngx_http_oic_auth_metrics_bearer(lcf, ctx, reason);
}


static void
ngx_http_oic_auth_observe(ngx_http_oic_auth_mgroup_t *g, ngx_uint_t family,
    ngx_uint_t us)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_OIC_AUTH_BUCKETS; i++) {
        if (us <= ngx_http_oic_auth_m_bounds[i]) {
            break;
        }
    }

    ngx_http_oic_auth_count(g, family, i);

    if (g->counters) {
        (void) ngx_atomic_fetch_add(
                   &g->counters[ngx_http_oic_auth_family_offset[family]
                                + NGX_HTTP_OIC_AUTH_BUCKETS + 1],
                   us);
    }
}


/* A transfer that failed (h->result != 0): timeout, or no connection. */
static ngx_uint_t
ngx_http_oic_auth_transfer_failed(ngx_oic_http_t *h, ngx_uint_t malformed,
    ngx_uint_t timeout, ngx_uint_t connection)
{
    if (h->oversized) {
        return malformed;
    }

    return (h->result == CURLE_OPERATION_TIMEDOUT) ? timeout : connection;
}


/* A call to a token endpoint is over: its outcome and time. */
void
ngx_http_oic_auth_metrics_iam(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_oic_http_t *h, oic_token_result_t *tr)
{
    ngx_str_t                    code;
    ngx_uint_t                   outcome;
    ngx_http_oic_auth_mgroup_t  *g;

    g = lcf->metrics ? lcf->metrics->token : NULL;

    if (g == NULL || g->counters == NULL) {
        return;
    }

    ngx_http_oic_auth_observe(g, NGX_HTTP_OIC_AUTH_F_IAM_TIME, h->time_us);

    if (h->result) {
        outcome = ngx_http_oic_auth_transfer_failed(h,
                                          NGX_HTTP_OIC_AUTH_M_IAM_MALFORMED,
                                          NGX_HTTP_OIC_AUTH_M_IAM_TIMEOUT,
                                          NGX_HTTP_OIC_AUTH_M_IAM_CONNECTION);

    } else if (h->status == 429) {
        outcome = NGX_HTTP_OIC_AUTH_M_IAM_429;

    } else if (h->status >= 500 && h->status <= 599) {
        outcome = NGX_HTTP_OIC_AUTH_M_IAM_5XX;

    } else if (tr->rc == OIC_TOKEN_OK) {
        outcome = NGX_HTTP_OIC_AUTH_M_IAM_OK;

    } else if ((h->status == 400 || h->status == 401 || h->status == 403)
               && tr->error[0])
    {
        code.data = (u_char *) tr->error;
        code.len = ngx_strlen(tr->error);

        outcome = NGX_HTTP_OIC_AUTH_M_IAM_OAUTH
                  + ngx_http_oic_auth_metrics_index(
                        &ngx_http_oic_auth_m_iam[NGX_HTTP_OIC_AUTH_M_IAM_OAUTH],
                        NGX_HTTP_OIC_AUTH_M_IAM_OTHER_OAUTH
                        - NGX_HTTP_OIC_AUTH_M_IAM_OAUTH, &code);

    } else if ((h->status >= 200 && h->status <= 299) || h->status == 400
               || h->status == 401 || h->status == 403)
    {
        outcome = NGX_HTTP_OIC_AUTH_M_IAM_MALFORMED;

    } else {
        outcome = NGX_HTTP_OIC_AUTH_M_IAM_OTHER_STATUS;
    }

    ngx_http_oic_auth_count(g, NGX_HTTP_OIC_AUTH_F_IAM, outcome);
}


/*
 * A JWKS fetch is over: its outcome and time; keys: what it brought (NULL:
 * nothing usable).
 */
void
ngx_http_oic_auth_metrics_jwks(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_oic_http_t *h, oic_jwks_t *keys)
{
    ngx_uint_t                   outcome, i;
    ngx_http_oic_auth_mgroup_t  *g, *doc;

    g = lcf->metrics ? lcf->metrics->jwks : NULL;

    if (g == NULL || g->counters == NULL) {
        return;
    }

    ngx_http_oic_auth_observe(g, NGX_HTTP_OIC_AUTH_F_JWKS_TIME, h->time_us);

    if (h->result) {
        outcome = ngx_http_oic_auth_transfer_failed(h,
                                          NGX_HTTP_OIC_AUTH_M_JWKS_MALFORMED,
                                          NGX_HTTP_OIC_AUTH_M_JWKS_TIMEOUT,
                                          NGX_HTTP_OIC_AUTH_M_JWKS_CONNECTION);

    } else if (h->status == 429) {
        outcome = NGX_HTTP_OIC_AUTH_M_JWKS_429;

    } else if (h->status >= 500 && h->status <= 599) {
        outcome = NGX_HTTP_OIC_AUTH_M_JWKS_5XX;

    } else if (h->status != 200) {
        outcome = NGX_HTTP_OIC_AUTH_M_JWKS_OTHER_STATUS;

    } else if (keys == NULL) {
        outcome = NGX_HTTP_OIC_AUTH_M_JWKS_MALFORMED;

    } else {
        outcome = NGX_HTTP_OIC_AUTH_M_JWKS_OK;

        doc = lcf->metrics->jwks_doc;

        if (doc->counters) {
            i = ngx_http_oic_auth_family_offset[NGX_HTTP_OIC_AUTH_F_JWKS_KEYS];
            doc->counters[i] = oic_jwks_count(keys);

            i = ngx_http_oic_auth_family_offset
                                           [NGX_HTTP_OIC_AUTH_F_JWKS_FETCHED];
            doc->counters[i] = ngx_time();
        }
    }

    ngx_http_oic_auth_count(g, NGX_HTTP_OIC_AUTH_F_JWKS, outcome);
}


/* ---- the answer ---- */

static void ngx_cdecl
ngx_http_oic_auth_mprintf(ngx_http_oic_auth_mout_t *o, const char *fmt, ...)
{
    u_char       *p;
    va_list       args;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (o->error) {
        return;
    }

    b = o->b;

    if (b == NULL || (size_t) (b->end - b->last) < NGX_HTTP_OIC_AUTH_LINE_MAX)
    {
        b = ngx_create_temp_buf(o->r->pool, NGX_HTTP_OIC_AUTH_OUT_BUF);
        cl = ngx_alloc_chain_link(o->r->pool);

        if (b == NULL || cl == NULL) {
            o->error = 1;
            return;
        }

        cl->buf = b;
        cl->next = NULL;
        *o->last = cl;
        o->last = &cl->next;
        o->b = b;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(b->last, b->end, fmt, args);
    va_end(args);

    o->size += p - b->last;
    b->last = p;
}


/* the labels of value i of a family in group g: `{zone="a",result="hit"` */
static u_char *
ngx_http_oic_auth_mlabels(u_char *p, u_char *last,
    ngx_http_oic_auth_family_t *f, ngx_http_oic_auth_mgroup_t *g,
    ngx_uint_t i)
{
    ngx_int_t                 d;
    ngx_uint_t                idx[3];
    ngx_http_oic_auth_dim_t  *dim;

    idx[2] = i % f->dims[2].n;
    idx[1] = i / f->dims[2].n % f->dims[1].n;
    idx[0] = i / f->dims[2].n / f->dims[1].n;

    p = ngx_slprintf(p, last, "{%V", &g->labels);

    for (d = 0; d < 3; d++) {
        dim = &f->dims[d];

        if (dim->name == NULL) {
            break;
        }

        p = ngx_slprintf(p, last, "%s%s=\"%s\"",
                         (p[-1] == '{') ? "" : ",", dim->name,
                         dim->values[idx[d]]);
    }

    return p;
}


static void
ngx_http_oic_auth_mfamily(ngx_http_oic_auth_mout_t *o,
    ngx_http_oic_auth_metrics_conf_t *mc, ngx_uint_t fi)
{
    u_char                        labels[NGX_HTTP_OIC_AUTH_LINE_MAX / 2];
    u_char                       *p, *last;
    ngx_uint_t                    i, j, n, off;
    ngx_atomic_uint_t             v, cum;
    ngx_atomic_t                 *c;
    ngx_http_oic_auth_mgroup_t  **gp, *g;
    ngx_http_oic_auth_family_t   *f;

    f = &ngx_http_oic_auth_families[fi];
    off = ngx_http_oic_auth_family_offset[fi];
    n = ngx_http_oic_auth_family_size(f);
    last = labels + sizeof(labels) - 2;

    ngx_http_oic_auth_mprintf(o, "# HELP %s %s\n# TYPE %s %s\n",
                              f->name, f->help, f->name, f->type);

    gp = mc->groups.elts;

    for (j = 0; j < mc->groups.nelts; j++) {
        g = gp[j];

        if (g->kind != f->kind || g->counters == NULL) {
            continue;
        }

        c = g->counters + off;

        if (f->flags & NGX_HTTP_OIC_AUTH_HIST) {
            cum = 0;

            for (i = 0; i <= NGX_HTTP_OIC_AUTH_BUCKETS; i++) {
                cum += c[i];
                p = ngx_http_oic_auth_mlabels(labels, last, f, g, i);
                ngx_http_oic_auth_mprintf(o, "%s_bucket%*s} %uA\n", f->name,
                                          (size_t) (p - labels), labels,
                                          cum);
            }

            p = ngx_slprintf(labels, last, "%V", &g->labels);
            v = c[NGX_HTTP_OIC_AUTH_BUCKETS + 1];

            ngx_http_oic_auth_mprintf(o, "%s_sum{%*s} %uA.%06uA\n",
                                      f->name, (size_t) (p - labels), labels,
                                      v / 1000000, v % 1000000);
            ngx_http_oic_auth_mprintf(o, "%s_count{%*s} %uA\n",
                                      f->name, (size_t) (p - labels), labels,
                                      cum);
            continue;
        }

        for (i = 0; i < n; i++) {
            v = c[i];

            if (v == 0 && (f->flags & NGX_HTTP_OIC_AUTH_SPARSE)) {
                continue;
            }

            p = ngx_http_oic_auth_mlabels(labels, last, f, g, i);

            if (p - labels == 1) {
                /* no labels at all */
                ngx_http_oic_auth_mprintf(o, "%s %uA\n", f->name, v);
                continue;
            }

            ngx_http_oic_auth_mprintf(o, "%s%*s} %uA\n", f->name,
                                      (size_t) (p - labels), labels, v);
        }
    }
}


/* a zone's gauges, read under its mutex */
typedef struct {
    ngx_str_t                   name;
    char                       *type;
    ngx_oic_zone_stats_t        st;
} ngx_http_oic_auth_mzone_t;


static ngx_int_t
ngx_http_oic_auth_metrics_stats(ngx_shm_zone_t *shm_zone,
    ngx_oic_zone_stats_t *st)
{
    ngx_http_oic_auth_metrics_conf_t  *mc;

    if (shm_zone->init != ngx_http_oic_auth_metrics_init_zone) {
        return NGX_DECLINED;
    }

    mc = shm_zone->data;

    return ngx_oic_zone_stats(mc->shpool, &mc->sh->count, 1, NULL, st);
}


static void
ngx_http_oic_auth_mzones(ngx_http_oic_auth_mout_t *o)
{
    ngx_uint_t                  i, k, n;
    ngx_array_t                 zones;
    ngx_list_part_t            *part;
    ngx_shm_zone_t             *shm_zone;
    ngx_http_oic_auth_mzone_t  *z;

    static char  *names[] = {
        "oic_auth_zone_entries", "oic_auth_zone_used_bytes",
        "oic_auth_zone_free_bytes", "oic_auth_zone_evictions_total"
    };

    static char  *helps[] = {
        "Entries in an oic_auth shared memory zone.",
        "Bytes of an oic_auth zone's pages in use.",
        "Bytes of an oic_auth zone's pages free.",
        ("Entries an oic_auth zone dropped to make room (kept across "
         "reloads, reset with the zone when its size changes).")
    };

    static char  *types[] = { "gauge", "gauge", "gauge", "counter" };

    if (ngx_array_init(&zones, o->r->pool, 8,
                       sizeof(ngx_http_oic_auth_mzone_t))
        != NGX_OK)
    {
        o->error = 1;
        return;
    }

    part = &((ngx_cycle_t *) ngx_cycle)->shared_memory.part;
    shm_zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            shm_zone = part->elts;
            i = 0;
        }

        z = ngx_array_push(&zones);
        if (z == NULL) {
            o->error = 1;
            return;
        }

        z->name = shm_zone[i].shm.name;

        if (ngx_oic_cache_stats(&shm_zone[i], &z->st) == NGX_OK) {
            z->type = "cache";

        } else if (ngx_http_oic_auth_limit_stats(&shm_zone[i], &z->st)
                   == NGX_OK)
        {
            z->type = "limit";

        } else if (ngx_http_oic_auth_guard_stats(&shm_zone[i], &z->st)
                   == NGX_OK)
        {
            z->type = "guard";

        } else if (ngx_http_oic_auth_metrics_stats(&shm_zone[i], &z->st)
                   == NGX_OK)
        {
            z->type = "metrics";

        } else {
            zones.nelts--;
        }
    }

    z = zones.elts;

    for (k = 0; k < 4; k++) {
        ngx_http_oic_auth_mprintf(o, "# HELP %s %s\n# TYPE %s %s\n",
                                  names[k], helps[k], names[k], types[k]);

        for (n = 0; n < zones.nelts; n++) {
            ngx_http_oic_auth_mprintf(o, "%s{zone=\"%V\",type=\"%s\"} %ui\n",
                                      names[k], &z[n].name, z[n].type,
                                      (ngx_uint_t) (k == 0 ? z[n].st.entries
                                                    : k == 1 ? z[n].st.used
                                                    : k == 2 ? z[n].st.free
                                                    : z[n].st.evictions));
        }
    }
}


static ngx_int_t
ngx_http_oic_auth_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_uint_t                         i;
    ngx_http_oic_auth_mout_t           o;
    ngx_http_oic_auth_main_conf_t     *mcf;
    ngx_http_oic_auth_metrics_conf_t  *mc;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_oic_auth_module);
    mc = mcf->metrics;

    ngx_memzero(&o, sizeof(ngx_http_oic_auth_mout_t));
    o.r = r;
    o.last = &o.out;

    for (i = 0; i < NGX_HTTP_OIC_AUTH_F_FAMILIES; i++) {
        ngx_http_oic_auth_mfamily(&o, mc, i);
    }

    ngx_http_oic_auth_mzones(&o);

    if (o.error) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = o.size;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    o.b->last_buf = (r == r->main) ? 1 : 0;
    o.b->last_in_chain = 1;

    return ngx_http_output_filter(r, o.out);
}
