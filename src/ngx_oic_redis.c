/*
 * Redis client for oic_auth's fleet mode: this worker's connection (nginx's
 * own, ngx_event_connect_peer), its handshake, the pipeline of commands
 * with their timers, the circuit breaker and its log lines. hiredis formats
 * the commands and reads the replies. Contracts in ngx_oic_redis.h.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include "ngx_oic_redis.h"


typedef enum {
    NGX_OIC_REDIS_OFF = 0,      /* not started, or stopping */
    NGX_OIC_REDIS_IDLE,         /* no connection, a connect is due */
    NGX_OIC_REDIS_CONNECTING,   /* connect() or the handshake under way */
    NGX_OIC_REDIS_READY,
    NGX_OIC_REDIS_DOWN          /* circuit open until the retry timer */
} ngx_oic_redis_state_e;


struct ngx_oic_redis_cmd_s {
    ngx_queue_t                 queue;      /* in the worker's pipeline */
    ngx_oic_redis_handler_pt    handler;    /* NULL: nobody waits */
    void                       *data;
    ngx_event_t                 timer;
    ngx_msec_t                  timeout;
    ngx_uint_t                  handshake;  /* AUTH, SELECT, SETNAME, PING */
    u_char                      name[16];   /* the command, for the log */
};


typedef struct {
    ngx_oic_redis_conf_t       *conf;
    ngx_oic_redis_state_e       state;
    ngx_peer_connection_t       peer;
    ngx_connection_t           *conn;
    redisReader                *reader;

    u_char                     *out;        /* formatted, not yet sent */
    size_t                      out_pos;
    size_t                      out_len;
    size_t                      out_cap;

    ngx_queue_t                 sent;       /* commands awaiting a reply */
    ngx_uint_t                  pending;
    ngx_uint_t                  handshake;  /* handshake replies awaited */

    ngx_event_t                 retry;      /* the next connect */
    ngx_connection_t            dummy;      /* retry.data */
    ngx_msec_t                  backoff;
    ngx_uint_t                  addr;       /* the next address to try */
    time_t                      down_since; /* 0: not down */
    ngx_msec_t                  up_since;   /* when the handshake completed */
    time_t                      error_logged;

    ngx_str_t                   client_name;
    ngx_oic_redis_ready_pt      ready;
    void                       *ready_data;

    ngx_log_t                  *log;
    ngx_log_t                   quiet;      /* connect(): we report failures */

    unsigned                    connected:1;    /* connect() completed */
    unsigned                    probing:1;      /* after a failure */
    unsigned                    too_many:1;     /* an array too large */
} ngx_oic_redis_worker_t;


static ngx_oic_redis_worker_t      ngx_oic_redis_worker;
static redisReplyObjectFunctions   ngx_oic_redis_fns;
static void *(*ngx_oic_redis_default_array)(const redisReadTask *task,
    int elements);


static void ngx_oic_redis_connect(void);
static void ngx_oic_redis_fail(ngx_err_t err, const char *fmt, ...);
static void ngx_oic_redis_close(void);


/* ---- replies ---- */

ngx_int_t
ngx_oic_redis_string(redisReply *r, ngx_str_t *s)
{
    if (r == NULL) {
        return NGX_ERROR;
    }

    if (r->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (r->type != REDIS_REPLY_STRING) {
        return NGX_ERROR;
    }

    s->data = (u_char *) r->str;
    s->len = r->len;

    return NGX_OK;
}


ngx_int_t
ngx_oic_redis_integer(redisReply *r, long long *n)
{
    if (r == NULL) {
        return NGX_ERROR;
    }

    if (r->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (r->type != REDIS_REPLY_INTEGER) {
        return NGX_ERROR;
    }

    *n = r->integer;

    return NGX_OK;
}


static ngx_int_t
ngx_oic_redis_status(redisReply *r, const char *status)
{
    if (r == NULL) {
        return NGX_ERROR;
    }

    if (r->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (r->type != REDIS_REPLY_STATUS || r->len != ngx_strlen(status)
        || ngx_strncmp(r->str, status, r->len) != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_oic_redis_ok(redisReply *r)
{
    return ngx_oic_redis_status(r, "OK");
}


ngx_int_t
ngx_oic_redis_array(redisReply *r, size_t *n)
{
    if (r == NULL) {
        return NGX_ERROR;
    }

    if (r->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    *n = r->elements;

    return NGX_OK;
}


/* An error reply's text for the log: printable ASCII, at most 120 bytes. */
static u_char *
ngx_oic_redis_text(u_char *buf, size_t size, const char *s, size_t len)
{
    u_char  *p, *last;

    p = buf;
    last = buf + size - 1;

    while (len-- && p < last) {
        *p++ = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
        s++;
    }

    *p = '\0';

    return buf;
}


/* An array larger than the limit is refused before it is allocated. */
static void *
ngx_oic_redis_create_array(const redisReadTask *task, int elements)
{
    if (elements > NGX_OIC_REDIS_MAX_ELEMENTS) {
        ngx_oic_redis_worker.too_many = 1;
        return NULL;                /* the reader fails ("out of memory") */
    }

    return ngx_oic_redis_default_array(task, elements);
}


static redisReader *
ngx_oic_redis_reader(void)
{
    redisReader  *r;

    r = redisReaderCreate();
    if (r == NULL) {
        return NULL;
    }

    if (ngx_oic_redis_default_array == NULL) {
        ngx_oic_redis_fns = *r->fn;
        ngx_oic_redis_default_array = r->fn->createArray;
        ngx_oic_redis_fns.createArray = ngx_oic_redis_create_array;
    }

    r->fn = &ngx_oic_redis_fns;

    return r;
}


/* ---- the pipeline ---- */

static void
ngx_oic_redis_cmd_timeout(ngx_event_t *ev)
{
    ngx_oic_redis_cmd_t     *cmd = ev->data;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (!w->connected) {
        ngx_oic_redis_fail(0, "connect() timed out after %M ms",
                           cmd->timeout);
        return;
    }

    ngx_oic_redis_fail(0, "%s timed out after %M ms", cmd->name,
                       cmd->timeout);
}


static void
ngx_oic_redis_cmd_free(ngx_oic_redis_cmd_t *cmd)
{
    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    ngx_free(cmd);
}


/* Format a command, append it to the output and to the pipeline. */
static ngx_oic_redis_cmd_t *
ngx_oic_redis_queue(ngx_uint_t argc, ngx_str_t *argv, ngx_msec_t timeout,
    ngx_uint_t handshake)
{
    int                      len;
    char                    *buf;
    u_char                  *p;
    size_t                   cap, lens[NGX_OIC_REDIS_MAX_ARGS];
    ngx_uint_t               i;
    const char              *args[NGX_OIC_REDIS_MAX_ARGS];
    ngx_oic_redis_cmd_t     *cmd;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (argc == 0 || argc > NGX_OIC_REDIS_MAX_ARGS) {
        return NULL;
    }

    for (i = 0; i < argc; i++) {
        args[i] = (const char *) argv[i].data;
        lens[i] = argv[i].len;
    }

    len = redisFormatCommandArgv(&buf, (int) argc, args, lens);
    if (len < 0) {
        return NULL;
    }

    if (w->out_len + len > w->out_cap && w->out_pos) {
        ngx_memmove(w->out, w->out + w->out_pos, w->out_len - w->out_pos);
        w->out_len -= w->out_pos;
        w->out_pos = 0;
    }

    if (w->out_len + len > w->out_cap) {
        cap = ngx_max(w->out_cap * 2, w->out_len + len);
        cap = ngx_max(cap, 4096);

        p = ngx_alloc(cap, w->log);
        if (p == NULL) {
            redisFreeCommand(buf);
            return NULL;
        }

        if (w->out) {
            ngx_memcpy(p, w->out, w->out_len);
            ngx_free(w->out);
        }

        w->out = p;
        w->out_cap = cap;
    }

    cmd = ngx_calloc(sizeof(ngx_oic_redis_cmd_t), w->log);
    if (cmd == NULL) {
        redisFreeCommand(buf);
        return NULL;
    }

    ngx_memcpy(w->out + w->out_len, buf, len);
    w->out_len += len;
    redisFreeCommand(buf);

    ngx_oic_redis_text(cmd->name, sizeof(cmd->name), (char *) argv[0].data,
                       argv[0].len);

    cmd->handshake = handshake;
    cmd->timeout = timeout ? timeout : w->conf->timeout;
    cmd->timer.handler = ngx_oic_redis_cmd_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = w->log;

    /* not cancelable: a worker that stops gracefully waits for answers */
    ngx_add_timer(&cmd->timer, cmd->timeout);

    ngx_queue_insert_tail(&w->sent, &cmd->queue);
    w->pending++;

    if (w->conn && w->connected && !w->conn->write->posted) {
        ngx_post_event(w->conn->write, &ngx_posted_events);
    }

    return cmd;
}


ngx_uint_t
ngx_oic_redis_usable(void)
{
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    switch (w->state) {

    case NGX_OIC_REDIS_READY:
        return 1;

    /*
     * behind a handshake under way, but not before it is queued (IDLE), as
     * it must come first, nor behind a reconnect after a failure
     */

    case NGX_OIC_REDIS_CONNECTING:
        return !w->probing;

    default:
        return 0;
    }
}


ngx_oic_redis_cmd_t *
ngx_oic_redis_send(ngx_uint_t argc, ngx_str_t *argv, ngx_msec_t timeout,
    ngx_oic_redis_handler_pt handler, void *data)
{
    ngx_oic_redis_cmd_t     *cmd;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (!ngx_oic_redis_usable()
        || w->pending >= NGX_OIC_REDIS_MAX_PENDING
        || w->out_len - w->out_pos > NGX_OIC_REDIS_MAX_OUT)
    {
        return NULL;
    }

    cmd = ngx_oic_redis_queue(argc, argv, timeout, 0);
    if (cmd == NULL) {
        return NULL;
    }

    cmd->handler = handler;
    cmd->data = data;

    return cmd;
}


void
ngx_oic_redis_cancel(ngx_oic_redis_cmd_t *cmd)
{
    if (cmd) {
        cmd->handler = NULL;
        cmd->data = NULL;
    }
}


/* ---- the connection ---- */

static void
ngx_oic_redis_ready(void)
{
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    w->state = NGX_OIC_REDIS_READY;
    w->probing = 0;
    w->up_since = ngx_current_msec;

    if (w->down_since) {
        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "oic_auth: redis %V is usable again, after %T s",
                      &w->conf->name, ngx_time() - w->down_since);
        w->down_since = 0;

    } else {
        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "oic_auth: redis %V: connected, db %i",
                      &w->conf->name, w->conf->db);
    }

    if (w->ready) {
        w->ready(w->ready_data);
    }
}


/* A handshake reply: NGX_OK, or the connection has failed. */
static ngx_int_t
ngx_oic_redis_handshake(ngx_oic_redis_cmd_t *cmd, redisReply *r)
{
    u_char   text[128];
    ngx_int_t  rc;

    if (ngx_strcmp(cmd->name, "PING") == 0) {
        rc = ngx_oic_redis_status(r, "PONG");

    } else {
        rc = ngx_oic_redis_ok(r);
    }

    if (rc == NGX_OK) {
        return NGX_OK;
    }

    if (r->type == REDIS_REPLY_ERROR) {
        ngx_oic_redis_fail(0, "%s failed: %s", cmd->name,
                           ngx_oic_redis_text(text, sizeof(text), r->str,
                                              r->len));

    } else {
        ngx_oic_redis_fail(0, "%s: unexpected reply of type %d", cmd->name,
                           r->type);
    }

    return NGX_ERROR;
}


/* One reply for the oldest command: NGX_OK, or the connection has failed. */
static ngx_int_t
ngx_oic_redis_dispatch(redisReply *r)
{
    u_char                   text[128];
    ngx_queue_t             *q;
    ngx_oic_redis_cmd_t     *cmd;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (ngx_queue_empty(&w->sent)) {
        ngx_oic_redis_fail(0, "a reply no command asked for");
        return NGX_ERROR;
    }

    q = ngx_queue_head(&w->sent);
    ngx_queue_remove(q);
    w->pending--;

    cmd = ngx_queue_data(q, ngx_oic_redis_cmd_t, queue);

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (cmd->handshake) {
        if (ngx_oic_redis_handshake(cmd, r) != NGX_OK) {
            ngx_oic_redis_cmd_free(cmd);
            return NGX_ERROR;
        }

        ngx_oic_redis_cmd_free(cmd);

        if (--w->handshake == 0) {
            ngx_oic_redis_ready();
        }

        return NGX_OK;
    }

    /* an error reply is the caller's to handle; the operator hears of it */

    if (r->type == REDIS_REPLY_ERROR && w->error_logged != ngx_time()) {
        w->error_logged = ngx_time();
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "oic_auth: redis %V: %s answered: %s",
                      &w->conf->name, cmd->name,
                      ngx_oic_redis_text(text, sizeof(text), r->str, r->len));
    }

    if (cmd->handler) {
        cmd->handler(cmd->data, r);
    }

    ngx_oic_redis_cmd_free(cmd);

    return NGX_OK;
}


/* Every complete reply in the reader: NGX_OK, or the connection failed. */
static ngx_int_t
ngx_oic_redis_process(void)
{
    void                    *reply;
    ngx_int_t                rc;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    for ( ;; ) {
        reply = NULL;

        if (redisReaderGetReply(w->reader, &reply) != REDIS_OK) {
            if (w->too_many) {
                ngx_oic_redis_fail(0, "an array of more than %d elements",
                                   NGX_OIC_REDIS_MAX_ELEMENTS);
            } else {
                ngx_oic_redis_fail(0, "protocol error: %s",
                                   w->reader->errstr);
            }

            return NGX_ERROR;
        }

        if (reply == NULL) {
            break;
        }

        rc = ngx_oic_redis_dispatch(reply);
        freeReplyObject(reply);

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (w->reader->len - w->reader->pos > NGX_OIC_REDIS_MAX_REPLY) {
        ngx_oic_redis_fail(0, "a reply larger than %uz bytes",
                           (size_t) NGX_OIC_REDIS_MAX_REPLY);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* connect() completed: NGX_OK, or the connection has failed. */
static ngx_int_t
ngx_oic_redis_test_connect(ngx_connection_t *c)
{
    int                      err;
    socklen_t                len;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (w->connected) {
        return NGX_OK;
    }

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_oic_redis_fail(err, "connect() failed");
        return NGX_ERROR;
    }

    w->connected = 1;

    return NGX_OK;
}


/* The server closed the connection. */
static void
ngx_oic_redis_closed(void)
{
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    /* an idle connection that served a while: reconnect, no failure */

    if (w->state == NGX_OIC_REDIS_READY && w->pending == 0
        && ngx_current_msec - w->up_since >= NGX_OIC_REDIS_BACKOFF_MIN)
    {
        ngx_log_error(NGX_LOG_INFO, w->log, 0,
                      "oic_auth: redis %V closed the connection, "
                      "reconnecting", &w->conf->name);

        ngx_oic_redis_close();
        w->state = NGX_OIC_REDIS_IDLE;
        w->up_since = 0;
        ngx_add_timer(&w->retry, 1);
        return;
    }

    ngx_oic_redis_fail(0, "the server closed the connection");
}


static void
ngx_oic_redis_read_handler(ngx_event_t *rev)
{
    u_char                   buf[16384];
    ssize_t                  n;
    ngx_connection_t        *c;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    c = rev->data;

    if (c != w->conn || ngx_oic_redis_test_connect(c) != NGX_OK) {
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            ngx_oic_redis_closed();
            return;
        }

        if (n == NGX_ERROR) {
            ngx_oic_redis_fail(0, "recv() failed");
            return;
        }

        if (redisReaderFeed(w->reader, (char *) buf, n) != REDIS_OK) {
            ngx_oic_redis_fail(0, "out of memory");
            return;
        }

        if (ngx_oic_redis_process() != NGX_OK) {
            return;
        }

        if (c != w->conn) {
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_oic_redis_fail(0, "cannot watch the connection");
    }
}


static void
ngx_oic_redis_write_handler(ngx_event_t *wev)
{
    ssize_t                  n;
    ngx_connection_t        *c;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    c = wev->data;

    if (c != w->conn || ngx_oic_redis_test_connect(c) != NGX_OK) {
        return;
    }

    while (w->out_pos < w->out_len) {
        n = c->send(c, w->out + w->out_pos, w->out_len - w->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_oic_redis_fail(0, "send() failed");
            return;
        }

        w->out_pos += n;
    }

    if (w->out_pos == w->out_len) {
        w->out_pos = 0;
        w->out_len = 0;
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_oic_redis_fail(0, "cannot watch the connection");
    }
}


static void
ngx_oic_redis_connect(void)
{
    ngx_int_t                rc;
    ngx_err_t                err;
    ngx_str_t                args[3];
    ngx_addr_t              *addr;
    ngx_connection_t        *c;
    ngx_oic_redis_conf_t    *conf;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    conf = w->conf;
    addr = &conf->addrs[w->addr % conf->naddrs];

    w->state = NGX_OIC_REDIS_CONNECTING;
    w->connected = 0;
    w->too_many = 0;

    w->reader = ngx_oic_redis_reader();
    if (w->reader == NULL) {
        ngx_oic_redis_fail(0, "out of memory");
        return;
    }

    ngx_memzero(&w->peer, sizeof(ngx_peer_connection_t));

    w->peer.sockaddr = addr->sockaddr;
    w->peer.socklen = addr->socklen;
    w->peer.name = &addr->name;
    w->peer.get = ngx_event_get_peer;
    w->peer.log = &w->quiet;
    w->peer.log_error = NGX_ERROR_INFO;
    w->peer.so_keepalive = (addr->sockaddr->sa_family != AF_UNIX);

    rc = ngx_event_connect_peer(&w->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        err = ngx_socket_errno;
        w->peer.connection = NULL;
        ngx_oic_redis_fail(err, "connect() to %V failed", &addr->name);
        return;
    }

    c = w->peer.connection;
    w->conn = c;

    c->data = NULL;
    c->log = w->log;
    c->read->log = w->log;
    c->write->log = w->log;
    c->read->handler = ngx_oic_redis_read_handler;
    c->write->handler = ngx_oic_redis_write_handler;

    /* the handshake: its replies must all be right before commands flow */

    w->handshake = 0;

    if (conf->password.len) {
        ngx_str_set(&args[0], "AUTH");
        args[1] = conf->password;

        if (ngx_oic_redis_queue(2, args, 0, 1) == NULL) {
            goto nomem;
        }

        w->handshake++;
    }

    if (conf->db > 0) {
        u_char  db[NGX_INT_T_LEN];

        ngx_str_set(&args[0], "SELECT");
        args[1].data = db;
        args[1].len = ngx_sprintf(db, "%i", conf->db) - db;

        if (ngx_oic_redis_queue(2, args, 0, 1) == NULL) {
            goto nomem;
        }

        w->handshake++;
    }

    if (w->client_name.len) {
        ngx_str_set(&args[0], "CLIENT");
        ngx_str_set(&args[1], "SETNAME");
        args[2] = w->client_name;

        if (ngx_oic_redis_queue(3, args, 0, 1) == NULL) {
            goto nomem;
        }

        w->handshake++;
    }

    ngx_str_set(&args[0], "PING");

    if (ngx_oic_redis_queue(1, args, 0, 1) == NULL) {
        goto nomem;
    }

    w->handshake++;

    if (rc == NGX_OK) {
        w->connected = 1;
        ngx_post_event(c->write, &ngx_posted_events);
    }

    return;

nomem:

    ngx_oic_redis_fail(0, "out of memory");
}


static void
ngx_oic_redis_retry_handler(ngx_event_t *ev)
{
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (w->state == NGX_OIC_REDIS_OFF || ngx_exiting || ngx_quit
        || ngx_terminate)
    {
        return;
    }

    ngx_oic_redis_connect();
}


/* Close the connection (if any) and forget what was not sent. */
static void
ngx_oic_redis_close(void)
{
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (w->conn) {
        ngx_close_connection(w->conn);
        w->conn = NULL;
    }

    if (w->reader) {
        redisReaderFree(w->reader);
        w->reader = NULL;
    }

    w->out_pos = 0;
    w->out_len = 0;
    w->connected = 0;
}


/*
 * A failure: close, open the circuit for the backoff, log one line, and
 * answer every pending command with no reply (the state is DOWN by then,
 * so a handler that sends again gets NULL).
 */
static void
ngx_oic_redis_fail(ngx_err_t err, const char *fmt, ...)
{
    u_char                   reason[256], *p;
    va_list                  args;
    ngx_queue_t              pending, *q;
    ngx_oic_redis_cmd_t     *cmd;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (w->state == NGX_OIC_REDIS_OFF) {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(reason, reason + sizeof(reason) - 1, fmt, args);
    va_end(args);
    *p = '\0';

    ngx_oic_redis_close();

    if (w->up_since
        && ngx_current_msec - w->up_since >= NGX_OIC_REDIS_BACKOFF_MAX)
    {
        w->backoff = NGX_OIC_REDIS_BACKOFF_MIN;

    } else if (w->backoff == 0) {
        w->backoff = NGX_OIC_REDIS_BACKOFF_MIN;

    } else {
        w->backoff = ngx_min(w->backoff * 2, NGX_OIC_REDIS_BACKOFF_MAX);
    }

    w->up_since = 0;
    w->state = NGX_OIC_REDIS_DOWN;
    w->probing = 1;
    w->addr++;
    w->handshake = 0;

    if (w->retry.timer_set) {
        ngx_del_timer(&w->retry);
    }

    ngx_add_timer(&w->retry, w->backoff);

    if (w->down_since == 0) {
        w->down_since = ngx_time();

        ngx_log_error(NGX_LOG_ERR, w->log, err,
                      "oic_auth: redis %V: %s; Redis is not used for %M ms",
                      &w->conf->name, reason, w->backoff);

    } else {
        ngx_log_error(NGX_LOG_ERR, w->log, err,
                      "oic_auth: redis %V: %s; still not used after %T s, "
                      "next try in %M ms",
                      &w->conf->name, reason, ngx_time() - w->down_since,
                      w->backoff);
    }

    /* the pending commands, answered with no reply */

    if (ngx_queue_empty(&w->sent)) {
        return;
    }

    pending = w->sent;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    ngx_queue_init(&w->sent);
    w->pending = 0;

    while (!ngx_queue_empty(&pending)) {
        q = ngx_queue_head(&pending);
        ngx_queue_remove(q);

        cmd = ngx_queue_data(q, ngx_oic_redis_cmd_t, queue);

        if (cmd->timer.timer_set) {
            ngx_del_timer(&cmd->timer);
        }

        if (cmd->handler) {
            cmd->handler(cmd->data, NULL);
        }

        ngx_oic_redis_cmd_free(cmd);
    }
}


/* ---- the worker ---- */

ngx_int_t
ngx_oic_redis_init_process(ngx_cycle_t *cycle, ngx_oic_redis_conf_t *conf,
    ngx_str_t *client_name, ngx_oic_redis_ready_pt ready, void *data)
{
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    ngx_memzero(w, sizeof(ngx_oic_redis_worker_t));
    ngx_queue_init(&w->sent);

    if (conf == NULL || conf->naddrs == 0) {
        return NGX_OK;
    }

    w->conf = conf;
    w->log = cycle->log;
    w->ready = ready;
    w->ready_data = data;

    /* connect() failures are ours to report, with the backoff */
    w->quiet = *cycle->log;
    w->quiet.log_level = NGX_LOG_ALERT;

    if (client_name && client_name->len) {
        w->client_name.data = ngx_pstrdup(cycle->pool, client_name);
        if (w->client_name.data == NULL) {
            return NGX_ERROR;
        }

        w->client_name.len = client_name->len;
    }

    w->dummy.fd = (ngx_socket_t) -1;
    w->retry.data = &w->dummy;
    w->retry.handler = ngx_oic_redis_retry_handler;
    w->retry.log = cycle->log;
    w->retry.cancelable = 1;

    /* connect from the event loop, once the worker runs */

    w->state = NGX_OIC_REDIS_IDLE;
    ngx_add_timer(&w->retry, 1);

    return NGX_OK;
}


void
ngx_oic_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_queue_t             *q;
    ngx_oic_redis_cmd_t     *cmd;
    ngx_oic_redis_worker_t  *w = &ngx_oic_redis_worker;

    if (w->conf == NULL) {
        return;
    }

    w->state = NGX_OIC_REDIS_OFF;

    if (w->retry.timer_set) {
        ngx_del_timer(&w->retry);
    }

    ngx_oic_redis_close();

    while (!ngx_queue_empty(&w->sent)) {
        q = ngx_queue_head(&w->sent);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_oic_redis_cmd_t, queue);
        ngx_oic_redis_cmd_free(cmd);
    }

    w->pending = 0;

    if (w->out) {
        ngx_free(w->out);
        w->out = NULL;
        w->out_cap = 0;
    }

    w->conf = NULL;
}
