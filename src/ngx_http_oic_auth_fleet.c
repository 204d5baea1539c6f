/*
 * Fleet mode: the http-level directives oic_auth_redis and
 * oic_auth_redis_key_file, the "fleet" flag of cache zones, their checks at
 * nginx -t, this worker's Redis client (src/ngx_oic_redis.c) and what the
 * fleet does with it on its own: the key check.
 *
 * The key check: every gateway's first worker writes its key id (a hash
 * of its oic_auth_redis_key_file, include/oic_fleet.h) into one sorted set
 * in Redis when it connects and every minute, and warns when the set holds
 * another one: gateways with different key files compute different key
 * names and share nothing, which would otherwise go unnoticed (a rolling
 * key change, a host left with an old file). The set's name is prefix +
 * SHA-256 of a fixed tag, the same for every key file; it holds key ids
 * (which say nothing about the keys) with the time each was last seen.
 *
 * What the wiring into the token flow uses: ngx_http_oic_auth_fleet(),
 * ngx_http_oic_auth_fleet_zone(), ngx_http_oic_auth_fleet_name(), the
 * fleet key (fc->fleet, for oic_fleet_seal/oic_fleet_open) and the client
 * (ngx_oic_redis_send); see src/ngx_http_oic_auth.h.
 */

#include "ngx_http_oic_auth.h"


#define NGX_HTTP_OIC_AUTH_FLEET_CHECK   60      /* s between key checks */
#define NGX_HTTP_OIC_AUTH_FLEET_STALE   180     /* s: a key id is forgotten */
#define NGX_HTTP_OIC_AUTH_FLEET_IDS     8       /* key ids named in the log */
#define NGX_HTTP_OIC_AUTH_FLEET_LIST                                          \
    (NGX_HTTP_OIC_AUTH_FLEET_IDS * (OIC_FLEET_KEY_ID_LEN + 2) + 32)


typedef struct {
    ngx_http_oic_auth_fleet_conf_t  *conf;
    ngx_event_t                      check;
    ngx_connection_t                 dummy;     /* check.data */
    u_char                           others[NGX_HTTP_OIC_AUTH_FLEET_LIST];
    unsigned                         checked:1;
    unsigned                         check_failed:1;
} ngx_http_oic_auth_fleet_worker_t;


static ngx_http_oic_auth_fleet_worker_t  ngx_http_oic_auth_fleet_worker;


static void
ngx_http_oic_auth_fleet_free(void *data)
{
    oic_fleet_free(data);
}


/* ---- directives ---- */

void
ngx_http_oic_auth_fleet_create_conf(ngx_http_oic_auth_fleet_conf_t *fc)
{
    /*
     * set by ngx_pcalloc(): fc->redis, fc->key_file, fc->fleet,
     * fc->key_id, fc->ids_name
     */

    fc->redis.db = NGX_CONF_UNSET;
    fc->redis.timeout = NGX_CONF_UNSET_MSEC;
    fc->zones = NGX_CONF_UNSET_PTR;
}


/* oic_auth_redis ADDRESS [password_file=] [db=] [prefix=] [timeout=] */
char *
ngx_http_oic_auth_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_oic_auth_main_conf_t *mcf = conf;

    char                            *secret, err[256];
    u_char                          *p;
    ngx_int_t                        n;
    ngx_str_t                       *value, s, file;
    ngx_url_t                        u;
    ngx_uint_t                       i;
    ngx_http_oic_auth_fleet_conf_t  *fc;

    fc = &mcf->fleet;

    if (fc->redis.naddrs) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.uri.len || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Redis address \"%V\": %s", &value[1],
                           u.err ? u.err : (u.uri.len ? "a path after the port"
                                            : "no address"));
        return NGX_CONF_ERROR;
    }

    fc->redis.addrs = u.addrs;
    fc->redis.naddrs = u.naddrs;
    fc->redis.name = value[1];

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            file.data = value[i].data + 14;
            file.len = value[i].len - 14;

            if (fc->redis.password.data || file.len == 0
                || ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK)
            {
                goto invalid;
            }

            secret = oic_read_secret_file((char *) file.data, err,
                                          sizeof(err));
            if (secret == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"oic_auth_redis\" password_file: %s",
                                   err);
                return NGX_CONF_ERROR;
            }

            fc->redis.password.len = ngx_strlen(secret);
            fc->redis.password.data = ngx_pnalloc(cf->pool,
                                                  fc->redis.password.len);
            if (fc->redis.password.data) {
                ngx_memcpy(fc->redis.password.data, secret,
                           fc->redis.password.len);
            }

            ngx_explicit_memzero(secret, fc->redis.password.len);
            oic_free(secret);

            if (fc->redis.password.data == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);

            if (fc->redis.db != NGX_CONF_UNSET || n == NGX_ERROR
                || n > 0x7fffffff)
            {
                goto invalid;
            }

            fc->redis.db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            if (fc->prefix.data || s.len == 0
                || s.len > NGX_HTTP_OIC_AUTH_FLEET_PREFIX_MAX)
            {
                goto invalid;
            }

            for (p = s.data; p < s.data + s.len; p++) {
                if (*p <= ' ' || *p >= 0x7f) {
                    goto invalid;
                }
            }

            fc->prefix = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            n = ngx_parse_time(&s, 0);

            if (fc->redis.timeout != NGX_CONF_UNSET_MSEC || n == NGX_ERROR
                || n == 0 || n > 10000)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid value \"%V\", the timeout must "
                                   "be between 1ms and 10s", &value[i]);
                return NGX_CONF_ERROR;
            }

            fc->redis.timeout = n;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", it must be one of "
                           "password_file=, db=, prefix=, timeout=",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                       &value[i]);

    return NGX_CONF_ERROR;
}


char *
ngx_http_oic_auth_redis_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_oic_auth_main_conf_t *mcf = conf;

    char                            *err;
    ngx_str_t                       *value, name;
    ngx_pool_cleanup_t              *cln;
    ngx_http_oic_auth_fleet_conf_t  *fc;

    fc = &mcf->fleet;

    if (fc->fleet) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    err = ngx_pnalloc(cf->temp_pool, 512);
    if (err == NULL) {
        return NGX_CONF_ERROR;
    }

    fc->fleet = oic_fleet_load((char *) name.data, err, 512);
    if (fc->fleet == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_redis_key_file\": %s", err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        oic_fleet_free(fc->fleet);
        fc->fleet = NULL;
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_oic_auth_fleet_free;
    cln->data = fc->fleet;

    oic_fleet_key_id(fc->fleet, fc->key_id);
    fc->key_file = name;

    return NGX_CONF_OK;
}


/* "oic_auth_cache_zone NAME:SIZE fleet" */
ngx_int_t
ngx_http_oic_auth_fleet_zone_add(ngx_conf_t *cf, ngx_shm_zone_t *zone)
{
    ngx_shm_zone_t                 **z;
    ngx_http_oic_auth_main_conf_t   *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_oic_auth_module);

    if (mcf->fleet.zones == NGX_CONF_UNSET_PTR) {
        mcf->fleet.zones = ngx_array_create(cf->pool, 2,
                                            sizeof(ngx_shm_zone_t *));
        if (mcf->fleet.zones == NULL) {
            return NGX_ERROR;
        }
    }

    z = ngx_array_push(mcf->fleet.zones);
    if (z == NULL) {
        return NGX_ERROR;
    }

    *z = zone;

    return NGX_OK;
}


/* At the end of the http block: what goes together, defaults. */
char *
ngx_http_oic_auth_fleet_init_conf(ngx_conf_t *cf,
    ngx_http_oic_auth_fleet_conf_t *fc)
{
    u_char           h[OIC_KEY_LEN], *p;
    ngx_shm_zone_t  **z;

    if (fc->zones == NGX_CONF_UNSET_PTR) {
        fc->zones = NULL;
    }

    if (fc->zones && fc->redis.naddrs == 0) {
        z = fc->zones->elts;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is \"fleet\": it requires "
                           "\"oic_auth_redis\"", &z[0]->shm.name);
        return NGX_CONF_ERROR;
    }

    if (fc->redis.naddrs && fc->fleet == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_redis\" requires "
                           "\"oic_auth_redis_key_file\": what is stored in "
                           "Redis is encrypted with it");
        return NGX_CONF_ERROR;
    }

    if (fc->fleet && fc->redis.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"oic_auth_redis_key_file\" has no effect "
                           "without \"oic_auth_redis\"");
        return NGX_CONF_ERROR;
    }

    if (fc->redis.naddrs == 0) {
        return NGX_CONF_OK;
    }

    ngx_conf_init_value(fc->redis.db, 0);
    ngx_conf_init_msec_value(fc->redis.timeout, 200);

    if (fc->prefix.data == NULL) {
        ngx_str_set(&fc->prefix, "oic_auth:");
    }

    /* the key check's set: the same name whatever the key file */

    oic_cache_key("oic_auth fleet key ids", NULL, 0, h);

    p = ngx_pnalloc(cf->pool, fc->prefix.len + 2 * OIC_KEY_LEN + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    fc->ids_name.data = p;
    p = ngx_cpymem(p, fc->prefix.data, fc->prefix.len);
    oic_hex(h, OIC_KEY_LEN, (char *) p);
    fc->ids_name.len = fc->prefix.len + 2 * OIC_KEY_LEN;

    return NGX_CONF_OK;
}


/* ---- what the token flow's wiring uses ---- */

ngx_http_oic_auth_fleet_conf_t *
ngx_http_oic_auth_fleet(void)
{
    return ngx_http_oic_auth_fleet_worker.conf;
}


ngx_uint_t
ngx_http_oic_auth_fleet_zone(ngx_shm_zone_t *zone)
{
    ngx_uint_t                       i;
    ngx_shm_zone_t                 **z;
    ngx_http_oic_auth_fleet_conf_t  *fc;

    fc = ngx_http_oic_auth_fleet_worker.conf;

    if (fc == NULL || fc->zones == NULL || zone == NULL) {
        return 0;
    }

    z = fc->zones->elts;

    for (i = 0; i < fc->zones->nelts; i++) {
        if (z[i] == zone) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_oic_auth_fleet_name(const char *tag, oic_str_t *fields,
    ngx_uint_t n, u_char *buf, ngx_str_t *name)
{
    int                              len;
    ngx_http_oic_auth_fleet_conf_t  *fc;

    fc = ngx_http_oic_auth_fleet_worker.conf;

    if (fc == NULL) {
        return NGX_ERROR;
    }

    len = oic_fleet_name(fc->fleet, (char *) fc->prefix.data, fc->prefix.len,
                         tag, fields, n, (char *) buf,
                         NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX);
    if (len < 0) {
        return NGX_ERROR;
    }

    name->data = buf;
    name->len = len;

    return NGX_OK;
}


/* ---- the key check ---- */

static int ngx_libc_cdecl
ngx_http_oic_auth_fleet_cmp(const void *a, const void *b)
{
    return ngx_strncmp(*(u_char **) a, *(u_char **) b, OIC_FLEET_KEY_ID_LEN);
}


static ngx_uint_t
ngx_http_oic_auth_fleet_is_id(redisReply *r)
{
    size_t     i;
    ngx_str_t  s;

    if (ngx_oic_redis_string(r, &s) != NGX_OK
        || s.len != OIC_FLEET_KEY_ID_LEN)
    {
        return 0;
    }

    for (i = 0; i < s.len; i++) {
        if (!((s.data[i] >= '0' && s.data[i] <= '9')
              || (s.data[i] >= 'a' && s.data[i] <= 'f')))
        {
            return 0;
        }
    }

    return 1;
}


/* ZRANGE's answer: the key ids seen in the last minutes. */
static void
ngx_http_oic_auth_fleet_members(void *data, redisReply *r)
{
    u_char                            *p, *last;
    u_char                            *ids[NGX_OIC_REDIS_MAX_ELEMENTS];
    u_char                             list[NGX_HTTP_OIC_AUTH_FLEET_LIST];
    size_t                             n, i, k;
    ngx_http_oic_auth_fleet_conf_t    *fc;
    ngx_http_oic_auth_fleet_worker_t  *fw = &ngx_http_oic_auth_fleet_worker;

    fc = fw->conf;

    if (fc == NULL) {
        return;
    }

    if (ngx_oic_redis_array(r, &n) != NGX_OK) {
        if (r && !fw->check_failed) {
            /* an answer of the wrong type (no answer: the client logs it) */
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "oic_auth: redis %V: the key check got an "
                          "unexpected answer from ZRANGE",
                          &fc->redis.name);
        }

        fw->check_failed = 1;
        return;
    }

    fw->check_failed = 0;

    /* the other key ids, sorted; anything else in the set is skipped */

    k = 0;

    for (i = 0; i < n && k < NGX_OIC_REDIS_MAX_ELEMENTS; i++) {
        if (ngx_http_oic_auth_fleet_is_id(r->element[i])
            && ngx_strncmp(r->element[i]->str, fc->key_id,
                           OIC_FLEET_KEY_ID_LEN) != 0)
        {
            ids[k++] = (u_char *) r->element[i]->str;
        }
    }

    ngx_qsort(ids, k, sizeof(u_char *), ngx_http_oic_auth_fleet_cmp);

    p = list;
    last = list + sizeof(list) - 1;

    for (i = 0; i < k && i < NGX_HTTP_OIC_AUTH_FLEET_IDS; i++) {
        p = ngx_slprintf(p, last, "%s%*s", i ? ", " : "",
                         (size_t) OIC_FLEET_KEY_ID_LEN, ids[i]);
    }

    if (k > NGX_HTTP_OIC_AUTH_FLEET_IDS) {
        p = ngx_slprintf(p, last, " and %uz more",
                         k - NGX_HTTP_OIC_AUTH_FLEET_IDS);
    }

    *p = '\0';

    if (!fw->checked) {
        fw->checked = 1;
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "oic_auth: redis %V: fleet key id %s",
                      &fc->redis.name, fc->key_id);
    }

    if (ngx_strcmp(list, fw->others) == 0) {
        return;
    }

    if (k) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "oic_auth: redis %V is used by gateways with another "
                      "\"oic_auth_redis_key_file\" (key ids %s; this one "
                      "has %s): they share nothing with this gateway",
                      &fc->redis.name, list, fc->key_id);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "oic_auth: redis %V: every gateway using it has key "
                      "id %s again", &fc->redis.name, fc->key_id);
    }

    ngx_cpystrn(fw->others, list, sizeof(fw->others));
}


static void
ngx_http_oic_auth_fleet_check(ngx_event_t *ev)
{
    u_char                             now[NGX_TIME_T_LEN];
    u_char                             old[NGX_TIME_T_LEN + 1];
    u_char                             ttl[NGX_INT_T_LEN];
    ngx_str_t                          a[4];
    ngx_http_oic_auth_fleet_conf_t    *fc;
    ngx_http_oic_auth_fleet_worker_t  *fw = &ngx_http_oic_auth_fleet_worker;

    fc = fw->conf;

    if (fc == NULL || ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    ngx_add_timer(&fw->check, NGX_HTTP_OIC_AUTH_FLEET_CHECK * 1000);

    if (!ngx_oic_redis_usable()) {
        return;
    }

    a[1] = fc->ids_name;

    /* ZADD set <now> <key id> */

    ngx_str_set(&a[0], "ZADD");
    a[2].data = now;
    a[2].len = ngx_sprintf(now, "%T", ngx_time()) - now;
    a[3].data = (u_char *) fc->key_id;
    a[3].len = OIC_FLEET_KEY_ID_LEN;

    if (ngx_oic_redis_send(4, a, 0, NULL, NULL) == NULL) {
        return;
    }

    /* ZREMRANGEBYSCORE set -inf (<now - stale> */

    ngx_str_set(&a[0], "ZREMRANGEBYSCORE");
    ngx_str_set(&a[2], "-inf");
    a[3].data = old;
    a[3].len = ngx_sprintf(old, "(%T",
                           ngx_time() - NGX_HTTP_OIC_AUTH_FLEET_STALE) - old;

    if (ngx_oic_redis_send(4, a, 0, NULL, NULL) == NULL) {
        return;
    }

    /* EXPIRE set <ttl>: gone once no gateway is left */

    ngx_str_set(&a[0], "EXPIRE");
    a[2].data = ttl;
    a[2].len = ngx_sprintf(ttl, "%d", 2 * NGX_HTTP_OIC_AUTH_FLEET_STALE)
               - ttl;

    if (ngx_oic_redis_send(3, a, 0, NULL, NULL) == NULL) {
        return;
    }

    ngx_str_set(&a[0], "ZRANGE");
    ngx_str_set(&a[2], "0");
    ngx_str_set(&a[3], "-1");

    (void) ngx_oic_redis_send(4, a, 0, ngx_http_oic_auth_fleet_members,
                              NULL);
}


/* The client's handshake completed: the first worker checks the keys. */
static void
ngx_http_oic_auth_fleet_ready(void *data)
{
    ngx_http_oic_auth_fleet_worker_t  *fw = &ngx_http_oic_auth_fleet_worker;

    if (ngx_worker != 0) {
        return;
    }

    if (fw->check.timer_set) {
        ngx_del_timer(&fw->check);
    }

    ngx_http_oic_auth_fleet_check(&fw->check);
}


/* ---- the worker ---- */

ngx_int_t
ngx_http_oic_auth_fleet_init_process(ngx_cycle_t *cycle)
{
    u_char                            *p, *last, *h;
    ngx_str_t                          name;
    ngx_http_oic_auth_main_conf_t     *mcf;
    ngx_http_oic_auth_fleet_conf_t    *fc;
    ngx_http_oic_auth_fleet_worker_t  *fw = &ngx_http_oic_auth_fleet_worker;
    u_char                             buf[NGX_MAXHOSTNAMELEN + 64];

    ngx_memzero(fw, sizeof(ngx_http_oic_auth_fleet_worker_t));

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_oic_auth_module);

    /* helper processes (cache manager, loader) have no requests to serve */

    if (mcf == NULL || mcf->fleet.redis.naddrs == 0
        || ngx_process == NGX_PROCESS_HELPER)
    {
        return ngx_oic_redis_init_process(cycle, NULL, NULL, NULL, NULL);
    }

    fc = &mcf->fleet;
    fw->conf = fc;

    fw->dummy.fd = (ngx_socket_t) -1;
    fw->check.data = &fw->dummy;
    fw->check.handler = ngx_http_oic_auth_fleet_check;
    fw->check.log = cycle->log;
    fw->check.cancelable = 1;

    /* CLIENT SETNAME oic_auth:<host>:<pid>:<key id>, in CLIENT LIST */

    p = buf;
    last = buf + sizeof(buf);

    p = ngx_slprintf(p, last, "oic_auth:");

    for (h = cycle->hostname.data;
         h < cycle->hostname.data + cycle->hostname.len && p < last - 40;
         h++)
    {
        *p++ = ((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z')
                || (*h >= '0' && *h <= '9') || *h == '.' || *h == '-')
               ? *h : '_';
    }

    p = ngx_slprintf(p, last, ":%P:%s", ngx_pid, fc->key_id);

    name.data = buf;
    name.len = p - buf;

    return ngx_oic_redis_init_process(cycle, &fc->redis, &name,
                                      ngx_http_oic_auth_fleet_ready, NULL);
}


void
ngx_http_oic_auth_fleet_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_oic_auth_fleet_worker_t  *fw = &ngx_http_oic_auth_fleet_worker;

    if (fw->check.timer_set) {
        ngx_del_timer(&fw->check);
    }

    fw->conf = NULL;

    ngx_oic_redis_exit_process(cycle);
}
