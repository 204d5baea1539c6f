/*
 * Fleet mode in the token flow: Redis between the local zone and IAM.
 *
 * The local zone stays the first level: a local hit never touches Redis.
 * A local miss whose generation this request owns (and, in this worker,
 * the requests that wait for it: the Redis step is a fetch of the worker's
 * list) asks Redis first, in one round trip (a script, atomic):
 *
 *   the token entry       a token another gateway fetched: it opens, it is
 *                         stored in the local zone and served ("FLEET")
 *   the failure entry     IAM's refusal (or a failure's backoff) another
 *                         gateway got: remembered locally and answered
 *   the fleet's lock held another gateway's call runs: ask again on a
 *                         short timer (20 ms doubling to 200 ms), bounded
 *                         by oic_auth_timeout, then call IAM here
 *   the fleet's gate      IAM's 429 block, the client's failure limit, the
 *                         budget (a leaky bucket in the script): what it
 *                         says is merged into the local gate, which refuses
 *   else the lock         SET PX <oic_auth_timeout + 1 s>, the call counted
 *                         in the budget: this gateway calls IAM
 *
 * A refresh ahead does the same, in two steps: the token entry (fresh in
 * Redis: another gateway refreshed it, taken as is), else the lock (won:
 * this gateway refreshes; held by another: the token stays served, the
 * next try in a second).
 *
 * The call that follows shares its answer: the token sealed under its key
 * name with a TTL ending at its real end (SET PX), a refusal for
 * oic_auth_negative_ttl, a failure for its backoff; then the lock is given
 * back (compare-and-delete, a script); a 429 sets the fleet's block, a
 * refusal counts in the client's window. Key names and values: see
 * include/oic_fleet.h and README "What is stored in Redis"; the lock holds
 * a random value, nothing else.
 *
 * Redis is never needed: not usable (circuit open), no answer within its
 * timeout, an answer of the wrong shape, a value that does not open
 * (tampered, another key), all mean the local flow goes on as without
 * fleet mode (one log line per minute for what the client does not log
 * itself). A Redis step whose requests all went away is cancelled.
 */

#include "ngx_http_oic_auth.h"


#define NGX_HTTP_OIC_AUTH_FLEET_POLL_MIN  20    /* ms */
#define NGX_HTTP_OIC_AUTH_FLEET_POLL_MAX  200   /* ms */
#define NGX_HTTP_OIC_AUTH_FLEET_BACKOFF   1000  /* ms: another's refresh */
#define NGX_HTTP_OIC_AUTH_FLEET_LOG       60    /* s between log lines */


struct ngx_http_oic_auth_fleet_s {
    ngx_http_oic_auth_fetch_t  *fetch;
    ngx_oic_redis_cmd_t        *cmd;        /* in flight */
    ngx_event_t                 timer;      /* the next look at Redis */
    ngx_msec_t                  start;
    ngx_msec_t                  delay;
    time_t                      last_purge;
    size_t                      name_len;
    u_char                      name[NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX + 8];
    u_char                      lock[NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN];

    /* the fleet's gate: the client's refusals, the budget, the 429 block */
    u_char                      client[NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX];
    u_char                      budget[NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX];
    u_char                      block[NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX];
    size_t                      client_len;
    size_t                      budget_len;
    size_t                      block_len;
    u_char                      client_key[NGX_OIC_KEY_LEN];  /* local */

    unsigned                    accepted:1; /* the key was accepted before */
    unsigned                    step:1;     /* a Redis step (no HTTP) */
    unsigned                    refresh:1;  /* ... of a refresh ahead */
    unsigned                    locking:1;  /* ... its SET NX in flight */
    unsigned                    locked:1;   /* the fleet's lock is held */
};


static ngx_str_t  ngx_http_oic_auth_fleet_status = ngx_string("FLEET");

/* the last "unusable answer" line of this worker */
static time_t  ngx_http_oic_auth_fleet_logged;

/*
 * KEYS: token entry, failure entry, lock, budget, 429 block, the client's
 * refusals; ARGV: lock value, lock's PX, budget rate (per 1000 s), burst
 * (* 1000), the key accepted before (1/0), failure limit. Returns
 * {1, token entry}, {2, failure entry}, {0} (another gateway's call
 * runs), {5, ms} (IAM answered 429: blocked), {6, ms, count} (the client's
 * failure limit is reached), {4, ms} (the fleet's budget is spent), or {3}:
 * the lock is ours and the call is counted in the budget (the leaky bucket
 * of ngx_http_oic_auth_guard_budget(), with Redis' clock: a key accepted
 * before is counted, never refused).
 */
static ngx_str_t  ngx_http_oic_auth_fleet_look = ngx_string(
    "local v = redis.call('GET', KEYS[1]) "
    "if v then return {1, v} end "
    "v = redis.call('GET', KEYS[2]) "
    "if v then return {2, v} end "
    "if redis.call('EXISTS', KEYS[3]) == 1 then return {0} end "
    "local b = redis.call('PTTL', KEYS[5]) "
    "if b > 0 then return {5, b} end "
    "local acc = ARGV[5] == '1' "
    "local lim = tonumber(ARGV[6]) "
    "if not acc and lim > 0 then "
    "  local n = tonumber(redis.call('GET', KEYS[6])) or 0 "
    "  if n >= lim then return {6, redis.call('PTTL', KEYS[6]), n} end "
    "end "
    "local rate = tonumber(ARGV[3]) "
    "if rate > 0 then "
    "  local burst = tonumber(ARGV[4]) "
    "  local t = redis.call('TIME') "
    "  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "  local s = redis.call('HMGET', KEYS[4], 'e', 'l') "
    "  local e = 0 "
    "  if s[1] then "
    "    local ms = now - (tonumber(s[2]) or now) "
    "    if ms < 0 then ms = 0 end "
    "    e = (tonumber(s[1]) or 0) - math.floor(rate * ms / 1000) + 1000 "
    "    if e < 0 then e = 0 end "
    "    if e > burst and not acc then "
    "      return {4, math.floor((e - burst) * 1000 / rate)} "
    "    end "
    "  end "
    "  redis.call('HSET', KEYS[4], 'e', e, 'l', now) "
    "  redis.call('PEXPIRE', KEYS[4], math.floor(e * 1000 / rate) + 1000) "
    "end "
    "redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2]) "
    "return {3}");

/* KEYS: the client's refusals; ARGV: the window (ms). */
static ngx_str_t  ngx_http_oic_auth_fleet_count = ngx_string(
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
    "return n");

/* KEYS: lock; ARGV: our value. */
static ngx_str_t  ngx_http_oic_auth_fleet_unlock = ngx_string(
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) end "
    "return 0");


static ngx_int_t ngx_http_oic_auth_fleet_start(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_res_t *res, ngx_uint_t refresh);
static ngx_int_t ngx_http_oic_auth_fleet_send(ngx_http_oic_auth_fetch_t *f);
static void ngx_http_oic_auth_fleet_reply(void *data, redisReply *reply);
static void ngx_http_oic_auth_fleet_timer(ngx_event_t *ev);
static void ngx_http_oic_auth_fleet_local(ngx_http_oic_auth_fetch_t *fetch,
    ngx_uint_t locked, ngx_msec_t retry_ms);
static void ngx_http_oic_auth_fleet_end(ngx_http_oic_auth_fetch_t *fetch);
static ngx_int_t ngx_http_oic_auth_fleet_names(
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_http_oic_auth_fleet_t *fl);
static void ngx_http_oic_auth_fleet_set(ngx_http_oic_auth_fleet_t *fl,
    const char *suffix, unsigned char *value, size_t len, ngx_msec_t px);
static void ngx_http_oic_auth_fleet_bad(ngx_http_oic_auth_fetch_t *fetch,
    const char *what);


/* ---- before IAM ---- */

ngx_int_t
ngx_http_oic_auth_fleet_miss(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_res_t *res)
{
    return ngx_http_oic_auth_fleet_start(r, lcf, ctx, res, 0);
}


ngx_int_t
ngx_http_oic_auth_fleet_refresh(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_res_t *res)
{
    return ngx_http_oic_auth_fleet_start(r, lcf, ctx, res, 1);
}


static ngx_int_t
ngx_http_oic_auth_fleet_start(ngx_http_request_t *r,
    ngx_http_oic_auth_loc_conf_t *lcf, ngx_http_oic_auth_ctx_t *ctx,
    ngx_oic_cache_res_t *res, ngx_uint_t refresh)
{
    ngx_http_oic_auth_fleet_t  *fl;
    ngx_http_oic_auth_fetch_t  *fetch;

    if (ctx->fleet_go || ctx->key_fields == NULL
        || !ngx_http_oic_auth_fleet_zone(lcf->zone)
        || !ngx_oic_redis_usable())
    {
        return NGX_DECLINED;
    }

    fetch = ngx_calloc(sizeof(ngx_http_oic_auth_fetch_t)
                       + sizeof(ngx_http_oic_auth_fleet_t), ngx_cycle->log);
    if (fetch == NULL) {
        return NGX_DECLINED;
    }

    fl = (ngx_http_oic_auth_fleet_t *) (fetch + 1);

    ngx_memcpy(fetch->key, ctx->key, NGX_OIC_KEY_LEN);
    fetch->gen = res->gen;
    fetch->zone = lcf->zone;
    fetch->conf = lcf;
    fetch->slot.index = -1;
    fetch->fleet = fl;
    ngx_queue_init(&fetch->waiters);
    ngx_http_oic_auth_who(lcf, ctx, ctx->key, fetch->who, sizeof(fetch->who));

    fl->fetch = fetch;
    fl->step = 1;
    fl->refresh = refresh;
    fl->start = ngx_current_msec;
    fl->delay = NGX_HTTP_OIC_AUTH_FLEET_POLL_MIN;
    fl->last_purge = res->last_purge;
    fl->timer.data = fl;
    fl->timer.log = ngx_cycle->log;
    fl->timer.handler = ngx_http_oic_auth_fleet_timer;
    fl->timer.cancelable = 1;

    fl->accepted = res->accepted ? 1 : 0;

    if (ngx_http_oic_auth_fleet_names(lcf, ctx, fl) != NGX_OK
        || ngx_http_oic_auth_fleet_send(fetch) != NGX_OK)
    {
        ngx_free(fetch);
        return NGX_DECLINED;
    }

    ngx_http_oic_auth_fetch_join(fetch, ctx);

    return ngx_http_oic_auth_park(r, ctx, ctx->key, res->gen, 0);
}


/*
 * The token entry's name, the gate's (the client's refusals: the fields of
 * the local failure limit; the budget: endpoint, rate and burst; the 429
 * block: the endpoint), and a fresh lock value.
 */
static ngx_int_t
ngx_http_oic_auth_fleet_names(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_http_oic_auth_fleet_t *fl)
{
    u_char       rnd[NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN / 2];
    u_char       rb[2 * NGX_INT_T_LEN + 2];
    oic_str_t    fields[3];
    ngx_str_t    name;
    ngx_uint_t   n;
    const char  *tag;

    if (ngx_http_oic_auth_fleet_name(ctx->key_tag, ctx->key_fields,
                                     ctx->key_nfields, fl->name, &name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    fl->name_len = name.len;

    tag = ngx_http_oic_auth_client_fields(lcf, ctx, fields, &n);

    ngx_http_oic_auth_guard_client_key(lcf->guard, tag, fields, n,
                                       fl->client_key);

    if (ngx_http_oic_auth_fleet_name(tag, fields, n, fl->client, &name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    fl->client_len = name.len;

    if (ngx_http_oic_auth_fleet_name("block", fields, 1, fl->block, &name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    fl->block_len = name.len;

    fields[1].data = (char *) rb;
    fields[1].len = ngx_sprintf(rb, "%ui/%ui", lcf->budget.rate,
                                lcf->budget.burst)
                    - rb;

    if (ngx_http_oic_auth_fleet_name("budget", fields, 2, fl->budget, &name)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    fl->budget_len = name.len;

    if (oic_random(rnd, sizeof(rnd)) != 0) {
        return NGX_ERROR;
    }

    ngx_hex_dump(fl->lock, rnd, sizeof(rnd));

    return NGX_OK;
}


/* One look at Redis: the script (a miss), or GET then SET NX (a refresh). */
static ngx_int_t
ngx_http_oic_auth_fleet_send(ngx_http_oic_auth_fetch_t *fetch)
{
    u_char                     *p;
    u_char                      px[NGX_INT_T_LEN];
    u_char                      rate[NGX_INT_T_LEN], burst[NGX_INT_T_LEN];
    u_char                      limit[NGX_INT_T_LEN];
    u_char                      names[3][NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX
                                         + 8];
    ngx_str_t                   a[16];
    ngx_uint_t                  n;
    ngx_http_oic_auth_fleet_t  *fl = fetch->fleet;

    a[0].len = 0;

    p = ngx_cpymem(names[0], fl->name, fl->name_len);
    p = ngx_cpymem(names[1], fl->name, fl->name_len);
    p = ngx_cpymem(p, ":fail", 5);
    p = ngx_cpymem(names[2], fl->name, fl->name_len);
    p = ngx_cpymem(p, ":lock", 5);

    a[10].data = px;
    a[10].len = ngx_sprintf(px, "%M", fetch->conf->timeout + 1000) - px;

    if (!fl->refresh) {
        ngx_str_set(&a[0], "EVAL");
        a[1] = ngx_http_oic_auth_fleet_look;
        ngx_str_set(&a[2], "6");
        a[3].data = names[0];
        a[3].len = fl->name_len;
        a[4].data = names[1];
        a[4].len = fl->name_len + 5;
        a[5].data = names[2];
        a[5].len = fl->name_len + 5;
        a[6].data = fl->budget;
        a[6].len = fl->budget_len;
        a[7].data = fl->block;
        a[7].len = fl->block_len;
        a[8].data = fl->client;
        a[8].len = fl->client_len;
        a[9].data = fl->lock;
        a[9].len = NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN;
        a[11].data = rate;
        a[11].len = ngx_sprintf(rate, "%ui", fetch->conf->budget.rate)
                    - rate;
        a[12].data = burst;
        a[12].len = ngx_sprintf(burst, "%ui", fetch->conf->budget.burst)
                    - burst;
        a[13].data = (u_char *) (fl->accepted ? "1" : "0");
        a[13].len = 1;
        a[14].data = limit;
        a[14].len = ngx_sprintf(limit, "%ui", fetch->conf->failure_limit)
                    - limit;
        n = 15;

    } else if (!fl->locking) {
        ngx_str_set(&a[0], "GET");
        a[1].data = names[0];
        a[1].len = fl->name_len;
        n = 2;

    } else {
        ngx_str_set(&a[0], "SET");
        a[1].data = names[2];
        a[1].len = fl->name_len + 5;
        a[2].data = fl->lock;
        a[2].len = NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN;
        ngx_str_set(&a[3], "NX");
        ngx_str_set(&a[4], "PX");
        a[5] = a[10];
        n = 6;
    }

    fl->cmd = ngx_oic_redis_send(n, a, 0, ngx_http_oic_auth_fleet_reply,
                                 fetch);

    return fl->cmd ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_oic_auth_fleet_reply(void *data, redisReply *reply)
{
    ngx_http_oic_auth_fetch_t *fetch = data;

    char                         *token;
    size_t                        n, token_len;
    time_t                        now;
    ngx_str_t                     v, t;
    ngx_int_t                     rc;
    long long                     kind, ms, count;
    oic_fleet_rc_t                orc;
    ngx_queue_t                  *q;
    oic_fleet_failure_t           fail;
    ngx_oic_cache_failed_t        out;
    ngx_oic_cache_failure_t       f;
    oic_fleet_token_times_t       times;
    ngx_http_oic_auth_ctx_t      *ctx;
    ngx_http_oic_auth_fleet_t    *fl;
    ngx_http_oic_auth_fleet_conf_t  *fc;

    fl = fetch->fleet;
    fl->cmd = NULL;
    fc = ngx_http_oic_auth_fleet();
    now = ngx_time();

    if (reply == NULL || fc == NULL) {
        /* the client logged why */
        ngx_http_oic_auth_fleet_local(fetch, 0, 0);
        return;
    }

    /* what the answer says: kind 1 (token), 2 (failure), 3 (lock), 0 */

    ngx_str_null(&v);
    ms = 0;
    count = 0;

    if (!fl->refresh) {
        if (ngx_oic_redis_array(reply, &n) != NGX_OK || n < 1 || n > 3
            || ngx_oic_redis_integer(reply->element[0], &kind) != NGX_OK
            || kind < 0 || kind > 6
            || n != ((kind == 0 || kind == 3) ? 1 : (kind == 6) ? 3 : 2)
            || ((kind == 1 || kind == 2)
                && ngx_oic_redis_string(reply->element[1], &v) != NGX_OK)
            || (kind >= 4
                && (ngx_oic_redis_integer(reply->element[1], &ms) != NGX_OK
                    || ms < 0 || ms > 86400000))
            || (kind == 6
                && ngx_oic_redis_integer(reply->element[2], &count)
                   != NGX_OK))
        {
            ngx_http_oic_auth_fleet_bad(fetch, "an unexpected answer");
            return;
        }

    } else if (!fl->locking) {
        rc = ngx_oic_redis_string(reply, &v);

        if (rc == NGX_ERROR) {
            ngx_http_oic_auth_fleet_bad(fetch, "an unexpected answer");
            return;
        }

        kind = (rc == NGX_OK) ? 1 : 7;  /* 7: none, take the lock */

    } else {
        rc = ngx_oic_redis_ok(reply);

        if (rc == NGX_ERROR) {
            ngx_http_oic_auth_fleet_bad(fetch, "an unexpected answer");
            return;
        }

        kind = (rc == NGX_OK) ? 3 : 0;
    }

    switch (kind) {

    case 1:
        orc = oic_fleet_open_token(fc->fleet, (char *) fl->name, fl->name_len,
                                   v.data, v.len, (uint64_t) now, &token,
                                   &token_len, &times);

        if (orc == OIC_FLEET_EXPIRED
            || (orc == OIC_FLEET_OK
                && ((time_t) times.issued <= fl->last_purge
                    || (fl->refresh && (time_t) times.fresh_until <= now))))
        {
            /* not newer than ours (purged here, or to be refreshed) */

            if (token) {
                ngx_explicit_memzero(token, token_len);
                oic_free(token);
            }

            if (fl->refresh) {
                fl->locking = 1;

                if (ngx_http_oic_auth_fleet_send(fetch) == NGX_OK) {
                    return;
                }
            }

            ngx_http_oic_auth_fleet_local(fetch, 0, 0);
            return;
        }

        if (orc != OIC_FLEET_OK) {
            ngx_http_oic_auth_fleet_bad(fetch, "a token entry that does not "
                                        "open (tampered, or sealed with "
                                        "another key)");
            return;
        }

        t.data = (u_char *) token;
        t.len = token_len;

        (void) ngx_oic_cache_complete(fetch->zone, fetch->key, fetch->gen, &t,
                                      (time_t) times.fresh_until,
                                      (time_t) times.valid_until,
                                      (time_t) times.valid_until + 60);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "oic_auth: token for %s from the fleet", fetch->who);

        for (q = ngx_queue_head(&fetch->waiters);
             q != ngx_queue_sentinel(&fetch->waiters);
             q = ngx_queue_next(q))
        {
            ctx = ngx_queue_data(q, ngx_http_oic_auth_ctx_t, wait_link);
            ctx->cache_status = ngx_http_oic_auth_fleet_status;
        }

        ngx_queue_remove(&fetch->queue);
        ngx_http_oic_auth_wake(fetch, NGX_OK, &t, "", 0);

        ngx_explicit_memzero(token, token_len);
        oic_free(token);
        ngx_http_oic_auth_fleet_end(fetch);
        return;

    case 2:
        ngx_memcpy(fl->name + fl->name_len, ":fail", 5);

        if (oic_fleet_open_failure(fc->fleet, (char *) fl->name,
                                   fl->name_len + 5, v.data, v.len,
                                   (uint64_t) now, &fail)
            != OIC_FLEET_OK || (time_t) fail.until <= now)
        {
            ngx_http_oic_auth_fleet_bad(fetch, "a failure entry that does "
                                        "not open");
            return;
        }

        ngx_memzero(&f, sizeof(ngx_oic_cache_failure_t));
        f.status = fail.status;
        f.error = fail.code;

        if (fail.kind == OIC_FLEET_REFUSED) {
            f.definitive = 1;
            f.negative_ttl = (time_t) fail.until - now;

        } else {
            f.min_ms = ((time_t) fail.until - now) * 1000;
        }

        ngx_memzero(&out, sizeof(ngx_oic_cache_failed_t));
        ngx_oic_cache_fail(fetch->zone, fetch->key, fetch->gen, &f, &out);

        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "oic_auth: token request for %s: IAM %s it at another "
                      "gateway of the fleet (%s), for %T s more", fetch->who,
                      fail.kind == OIC_FLEET_REFUSED ? "refused" : "failed",
                      fail.code, (time_t) fail.until - now);

        for (q = ngx_queue_head(&fetch->waiters);
             q != ngx_queue_sentinel(&fetch->waiters);
             q = ngx_queue_next(q))
        {
            ctx = ngx_queue_data(q, ngx_http_oic_auth_ctx_t, wait_link);

            if (fail.kind == OIC_FLEET_REFUSED) {
                ngx_str_set(&ctx->cache_status, "NEGATIVE");
            }
        }

        ngx_queue_remove(&fetch->queue);
        ngx_http_oic_auth_wake(fetch, fail.status, NULL, fail.code,
                               fail.kind == OIC_FLEET_REFUSED
                               ? 0 : (time_t) fail.until - now);
        ngx_http_oic_auth_fleet_end(fetch);
        return;

    case 3:
        /* the fleet's lock is ours: this gateway calls IAM */
        ngx_http_oic_auth_fleet_local(fetch, 1, 0);
        return;

    case 4:
        /* the fleet's budget is spent: the local gate refuses as well */
        ngx_http_oic_auth_guard_budget_sync(fetch->conf->guard,
                                            &fetch->conf->budget,
                                            (ngx_msec_t) ms);
        ngx_http_oic_auth_fleet_local(fetch, 0, 0);
        return;

    case 5:
        ngx_http_oic_auth_guard_block_sync(fetch->conf->guard,
                                           fetch->conf->endpoint_key,
                                           (ngx_msec_t) ms);
        ngx_http_oic_auth_fleet_local(fetch, 0, 0);
        return;

    case 6:
        ngx_http_oic_auth_guard_refused_sync(fetch->conf->guard,
                                             fl->client_key,
                                             (ngx_uint_t) count,
                                             (ngx_msec_t) ms);
        ngx_http_oic_auth_fleet_local(fetch, 0, 0);
        return;

    case 7:
        fl->locking = 1;

        if (ngx_http_oic_auth_fleet_send(fetch) != NGX_OK) {
            ngx_http_oic_auth_fleet_local(fetch, 0, 0);
        }

        return;

    default: /* 0: another gateway's call runs */

        if (fl->refresh) {
            /* the token stays served; the next try later */
            ngx_http_oic_auth_fleet_local(fetch, 0,
                                          NGX_HTTP_OIC_AUTH_FLEET_BACKOFF);
            return;
        }

        if (ngx_current_msec - fl->start + fl->delay
            >= fetch->conf->timeout)
        {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "oic_auth: the token for %s did not come from the "
                          "fleet within %M ms: fetching it here",
                          fetch->who, fetch->conf->timeout);
            ngx_http_oic_auth_fleet_local(fetch, 0, 0);
            return;
        }

        ngx_add_timer(&fl->timer, fl->delay);
        fl->delay = ngx_min(fl->delay * 2, NGX_HTTP_OIC_AUTH_FLEET_POLL_MAX);
        return;
    }
}


static void
ngx_http_oic_auth_fleet_timer(ngx_event_t *ev)
{
    ngx_http_oic_auth_fleet_t  *fl = ev->data;

    if (ngx_http_oic_auth_fleet_send(fl->fetch) != NGX_OK) {
        ngx_http_oic_auth_fleet_local(fl->fetch, 0, 0);
    }
}


/* Redis answered something unusable: ignored, the local flow goes on. */
static void
ngx_http_oic_auth_fleet_bad(ngx_http_oic_auth_fetch_t *fetch,
    const char *what)
{
    ngx_http_oic_auth_fleet_conf_t  *fc;

    fc = ngx_http_oic_auth_fleet();

    if (fc && ngx_time() - ngx_http_oic_auth_fleet_logged
              >= NGX_HTTP_OIC_AUTH_FLEET_LOG)
    {
        ngx_http_oic_auth_fleet_logged = ngx_time();
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "oic_auth: redis %V: %s for %s: ignored, the token is "
                      "fetched here (at most one such line per minute)",
                      &fc->redis.name, what, fetch->who);
    }

    ngx_http_oic_auth_fleet_local(fetch, 0, 0);
}


/*
 * The local flow goes on: the generation is given up (retry_ms: a refresh
 * waits that long) and this worker's waiters run their checks again, now
 * without Redis (ctx->fleet_go); locked: the one that becomes owner calls
 * IAM holding the fleet's lock, and shares the answer.
 */
static void
ngx_http_oic_auth_fleet_local(ngx_http_oic_auth_fetch_t *fetch,
    ngx_uint_t locked, ngx_msec_t retry_ms)
{
    ngx_queue_t                *q;
    ngx_http_oic_auth_ctx_t    *ctx;
    ngx_http_oic_auth_fleet_t  *fl = fetch->fleet;

    for (q = ngx_queue_head(&fetch->waiters);
         q != ngx_queue_sentinel(&fetch->waiters);
         q = ngx_queue_next(q))
    {
        ctx = ngx_queue_data(q, ngx_http_oic_auth_ctx_t, wait_link);
        ctx->fleet_go = 1;
        ctx->fleet_lock = locked;
        ngx_memcpy(ctx->fleet_lockval, fl->lock,
                   NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN);
    }

    if (locked && ngx_queue_empty(&fetch->waiters)) {
        fl->locked = 1;
    }

    ngx_queue_remove(&fetch->queue);
    ngx_oic_cache_abandon(fetch->zone, fetch->key, fetch->gen, retry_ms);
    ngx_http_oic_auth_wake(fetch, NGX_OK, NULL, "", 0);
    ngx_http_oic_auth_fleet_end(fetch);
}


/* A Redis step is over (its fetch already left the worker's list). */
static void
ngx_http_oic_auth_fleet_end(ngx_http_oic_auth_fetch_t *fetch)
{
    ngx_http_oic_auth_fleet_t  *fl = fetch->fleet;

    if (fl->timer.timer_set) {
        ngx_del_timer(&fl->timer);
    }

    if (fl->cmd) {
        ngx_oic_redis_cancel(fl->cmd);
        fl->cmd = NULL;
    }

    ngx_http_oic_auth_fleet_release(fetch);
    ngx_free(fetch);
}


void
ngx_http_oic_auth_fleet_left(ngx_http_oic_auth_fetch_t *fetch,
    ngx_http_oic_auth_ctx_t *ctx)
{
    if (!fetch->fleet->step || !ngx_queue_empty(&fetch->waiters)) {
        return;
    }

    /* nobody waits for this step any more: cancelled */

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "oic_auth: the Redis lookup of the token for %s is "
                  "cancelled: its requests went away", fetch->who);

    ngx_queue_remove(&fetch->queue);
    ngx_oic_cache_abandon(fetch->zone, fetch->key, fetch->gen, 0);
    ngx_http_oic_auth_fleet_end(fetch);
}


/* ---- a call to IAM shares its answer ---- */

/*
 * A call starts (fetch: its fetch; NULL: it did not start or the gate
 * refused it). In fleet mode its answer goes to Redis; a lock held is
 * given back with it, or now.
 */
void
ngx_http_oic_auth_fleet_called(ngx_http_oic_auth_loc_conf_t *lcf,
    ngx_http_oic_auth_ctx_t *ctx, ngx_shm_zone_t *zone,
    ngx_http_oic_auth_fetch_t *fetch)
{
    ngx_http_oic_auth_fleet_t   *fl, tmp;
    ngx_http_oic_auth_fetch_t    dummy;

    if (zone == NULL || ctx->key_fields == NULL
        || !ngx_http_oic_auth_fleet_zone(zone))
    {
        return;
    }

    if (fetch == NULL) {
        if (!ctx->fleet_lock) {
            return;
        }

        /* no call: the lock goes back at once */

        ngx_memzero(&tmp, sizeof(ngx_http_oic_auth_fleet_t));
        ngx_memzero(&dummy, sizeof(ngx_http_oic_auth_fetch_t));
        dummy.fleet = &tmp;

        if (ngx_http_oic_auth_fleet_names(lcf, ctx, &tmp) == NGX_OK) {
            ngx_memcpy(tmp.lock, ctx->fleet_lockval,
                       NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN);
            tmp.locked = 1;
            ngx_http_oic_auth_fleet_release(&dummy);
        }

        ctx->fleet_lock = 0;
        return;
    }

    fl = ngx_calloc(sizeof(ngx_http_oic_auth_fleet_t), ngx_cycle->log);
    if (fl == NULL) {
        return;
    }

    if (ngx_http_oic_auth_fleet_names(lcf, ctx, fl) != NGX_OK) {
        ngx_free(fl);
        return;
    }

    if (ctx->fleet_lock) {
        ngx_memcpy(fl->lock, ctx->fleet_lockval,
                   NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN);
        fl->locked = 1;
        ctx->fleet_lock = 0;
    }

    fl->fetch = fetch;
    fetch->fleet = fl;
}


/* The token IAM issued, sealed, until its real end. */
void
ngx_http_oic_auth_fleet_token(ngx_http_oic_auth_fetch_t *fetch,
    ngx_str_t *token, time_t fresh_until, time_t valid_until)
{
    size_t                           len;
    time_t                           now;
    unsigned char                   *v;
    oic_fleet_token_times_t          times;
    ngx_http_oic_auth_fleet_t       *fl = fetch->fleet;
    ngx_http_oic_auth_fleet_conf_t  *fc;

    fc = ngx_http_oic_auth_fleet();
    now = ngx_time();

    if (fl == NULL || fc == NULL || valid_until <= now) {
        return;
    }

    times.issued = (uint64_t) now;
    times.fresh_until = (uint64_t) fresh_until;
    times.valid_until = (uint64_t) valid_until;

    if (oic_fleet_seal_token(fc->fleet, (char *) fl->name, fl->name_len,
                             (char *) token->data, token->len, &times, &v,
                             &len)
        != OIC_FLEET_OK)
    {
        return;
    }

    ngx_http_oic_auth_fleet_set(fl, "", v, len,
                                (ngx_msec_t) (valid_until - now) * 1000);
    oic_free(v);
}


/* A refusal or a failure, for as long as it is remembered here. */
void
ngx_http_oic_auth_fleet_failure(ngx_http_oic_auth_fetch_t *fetch,
    ngx_uint_t refused, ngx_uint_t status, char *code, ngx_msec_t ms)
{
    size_t                           len;
    time_t                           s;
    unsigned char                   *v;
    oic_fleet_failure_t              fail;
    ngx_http_oic_auth_fleet_t       *fl = fetch->fleet;
    ngx_http_oic_auth_fleet_conf_t  *fc;

    fc = ngx_http_oic_auth_fleet();
    s = (time_t) ((ms + 999) / 1000);

    if (fl == NULL || fc == NULL || s == 0 || status < 100 || status > 599
        || code == NULL || code[0] == '\0')
    {
        return;
    }

    ngx_memzero(&fail, sizeof(oic_fleet_failure_t));
    fail.kind = refused ? OIC_FLEET_REFUSED : OIC_FLEET_FAILED;
    fail.status = (unsigned) status;
    ngx_cpystrn((u_char *) fail.code, (u_char *) code, sizeof(fail.code));
    fail.until = (uint64_t) (ngx_time() + s);

    ngx_memcpy(fl->name + fl->name_len, ":fail", 5);

    if (oic_fleet_seal_failure(fc->fleet, (char *) fl->name,
                               fl->name_len + 5, &fail, &v, &len)
        != OIC_FLEET_OK)
    {
        return;
    }

    ngx_http_oic_auth_fleet_set(fl, ":fail", v, len, (ngx_msec_t) s * 1000);
    oic_free(v);
}


/* IAM answered 429: no call to it from the fleet for ms. */
void
ngx_http_oic_auth_fleet_block(ngx_http_oic_auth_fetch_t *fetch,
    ngx_msec_t ms)
{
    u_char                      px[NGX_INT_T_LEN];
    ngx_str_t                   a[5];
    ngx_http_oic_auth_fleet_t  *fl = fetch->fleet;

    if (fl == NULL || ms == 0) {
        return;
    }

    ngx_str_set(&a[0], "SET");
    a[1].data = fl->block;
    a[1].len = fl->block_len;
    ngx_str_set(&a[2], "1");
    ngx_str_set(&a[3], "PX");
    a[4].data = px;
    a[4].len = ngx_sprintf(px, "%M", ms) - px;

    (void) ngx_oic_redis_send(5, a, 0, NULL, NULL);
}


/* IAM refused the client: one more in the fleet's count of its window. */
void
ngx_http_oic_auth_fleet_refused(ngx_http_oic_auth_fetch_t *fetch,
    time_t window)
{
    u_char                      px[NGX_INT_T_LEN];
    ngx_str_t                   a[5];
    ngx_http_oic_auth_fleet_t  *fl = fetch->fleet;

    if (fl == NULL || window <= 0) {
        return;
    }

    ngx_str_set(&a[0], "EVAL");
    a[1] = ngx_http_oic_auth_fleet_count;
    ngx_str_set(&a[2], "1");
    a[3].data = fl->client;
    a[3].len = fl->client_len;
    a[4].data = px;
    a[4].len = ngx_sprintf(px, "%M", (ngx_msec_t) window * 1000) - px;

    (void) ngx_oic_redis_send(5, a, 0, NULL, NULL);
}


/* SET name+suffix value PX px (nobody waits for the answer). */
static void
ngx_http_oic_auth_fleet_set(ngx_http_oic_auth_fleet_t *fl,
    const char *suffix, unsigned char *value, size_t len, ngx_msec_t px)
{
    u_char     ms[NGX_INT_T_LEN];
    u_char     name[NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX + 8];
    ngx_str_t  a[5];

    a[0].len = 0;
    ngx_str_set(&a[0], "SET");
    a[1].data = name;
    a[1].len = ngx_cpymem(ngx_cpymem(name, fl->name, fl->name_len), suffix,
                          ngx_strlen(suffix))
               - name;
    a[2].data = value;
    a[2].len = len;
    ngx_str_set(&a[3], "PX");
    a[4].data = ms;
    a[4].len = ngx_sprintf(ms, "%M", ngx_max(px, 1)) - ms;

    (void) ngx_oic_redis_send(5, a, 0, NULL, NULL);
}


/* The fleet's lock, if held, given back; fetch->fleet freed (not a step). */
void
ngx_http_oic_auth_fleet_release(ngx_http_oic_auth_fetch_t *fetch)
{
    u_char                      name[NGX_HTTP_OIC_AUTH_FLEET_NAME_MAX + 8];
    ngx_str_t                   a[5];
    ngx_http_oic_auth_fleet_t  *fl = fetch->fleet;

    if (fl == NULL) {
        return;
    }

    if (fl->locked) {
        ngx_str_set(&a[0], "EVAL");
        a[1] = ngx_http_oic_auth_fleet_unlock;
        ngx_str_set(&a[2], "1");
        a[3].data = name;
        a[3].len = ngx_cpymem(ngx_cpymem(name, fl->name, fl->name_len),
                              ":lock", 5)
                   - name;
        a[4].data = fl->lock;
        a[4].len = NGX_HTTP_OIC_AUTH_FLEET_LOCK_LEN;

        (void) ngx_oic_redis_send(5, a, 0, NULL, NULL);
        fl->locked = 0;
    }

    if (!fl->step && fl->fetch == fetch) {
        fetch->fleet = NULL;
        ngx_free(fl);
    }
}
