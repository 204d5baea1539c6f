/*
 * Redis client for oic_auth's fleet mode: one connection per worker to one
 * Redis server, driven by nginx's event loop; hiredis' command formatter
 * and reply reader speak the protocol (no hand-written parser).
 *
 * The connection is nginx's own (ngx_event_connect_peer to an address
 * resolved when the configuration was read: no name lookup in a worker),
 * so its events, timers and close follow nginx's rules. hiredis' async
 * context is not used: in 0.14 a reply that no command asked for (a
 * broken or hostile server, a wrong port) aborts the process with an
 * assert, and its connect resolves names with getaddrinfo.
 *
 * Life of the connection, per worker:
 *
 *   - opened at worker start (and again after a failure, in the
 *     background); AUTH (password_file=), SELECT (db=) and CLIENT SETNAME
 *     are pipelined first, and a failed one is a failure;
 *   - a failure -- connect error or timeout, a command without an answer
 *     within its timeout, a reset, a protocol error, a reply nobody asked
 *     for, a reply larger than NGX_OIC_REDIS_MAX_REPLY -- closes the
 *     connection, answers every pending command with "no reply", and opens
 *     the circuit: Redis is not used (ngx_oic_redis_send() returns NULL at
 *     once) until a reconnect in the background has completed its
 *     handshake. The first retry comes after 1 s, then 2, 4, ... 30 s while
 *     failures follow each other (a connection that stayed up for 30 s
 *     starts over at 1 s). One error line per failure (so at most one per
 *     interval), one notice when Redis is usable again;
 *   - the server closing a connection that has been up for a while with
 *     nothing pending (its "timeout", CLIENT KILL, a restart) is not a
 *     failure: the client reconnects at once, and that connect counts;
 *   - closed in exit_process (graceful shutdown and reload included):
 *     pending commands are dropped there without their handlers being
 *     called, as their requests are gone with the cycle.
 *
 * Commands are pipelined in the order sent; replies come back in that
 * order. Each command has its own timeout on an nginx timer (hiredis 0.14
 * has none). TLS: none in hiredis 0.14 -- run a local tunnel (stunnel,
 * spiped) and point oic_auth_redis at its local end.
 */
#ifndef NGX_OIC_REDIS_H
#define NGX_OIC_REDIS_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include <hiredis/hiredis.h>


#define NGX_OIC_REDIS_MAX_ARGS      16
#define NGX_OIC_REDIS_MAX_PENDING   4096         /* commands in flight */
#define NGX_OIC_REDIS_MAX_OUT       (1024 * 1024)   /* bytes not yet sent */
#define NGX_OIC_REDIS_MAX_REPLY     (1024 * 1024)   /* bytes of one reply */
#define NGX_OIC_REDIS_MAX_ELEMENTS  1024         /* elements of an array */
#define NGX_OIC_REDIS_BACKOFF_MIN   1000         /* ms */
#define NGX_OIC_REDIS_BACKOFF_MAX   30000        /* ms */


typedef struct ngx_oic_redis_cmd_s  ngx_oic_redis_cmd_t;

/*
 * A command's answer. reply is NULL when there is none (timeout, the
 * connection lost or refused, a protocol error); otherwise it is valid only
 * during the call, and may be a Redis error reply
 * (REDIS_REPLY_ERROR): read it with the accessors below, which treat every
 * unexpected type as an error.
 */
typedef void (*ngx_oic_redis_handler_pt)(void *data, redisReply *reply);

/* Called each time the connection has completed its handshake. */
typedef void (*ngx_oic_redis_ready_pt)(void *data);

typedef struct {
    ngx_addr_t                 *addrs;      /* tried in turn after failures */
    ngx_uint_t                  naddrs;
    ngx_str_t                   name;       /* as configured, for the log */
    ngx_str_t                   password;   /* empty: no AUTH */
    ngx_int_t                   db;         /* SELECT when > 0 */
    ngx_msec_t                  timeout;    /* connect; per command */
} ngx_oic_redis_conf_t;


/*
 * Start this worker's client (connects soon after, from the event loop).
 * conf must live as long as the cycle; client_name (CLIENT SETNAME, no
 * spaces; empty: none) is copied. ready, when not NULL, is called each
 * time the handshake completes.
 */
ngx_int_t ngx_oic_redis_init_process(ngx_cycle_t *cycle,
    ngx_oic_redis_conf_t *conf, ngx_str_t *client_name,
    ngx_oic_redis_ready_pt ready, void *data);

/* Close the connection, drop pending commands (no handler is called). */
void ngx_oic_redis_exit_process(ngx_cycle_t *cycle);

/*
 * Whether a command sent now would go to Redis: connected, or connecting
 * with the handshake queued (at worker start, or right after the server
 * closed an idle connection), and the circuit closed.
 */
ngx_uint_t ngx_oic_redis_usable(void);

/*
 * Send a command: argv[0] is its name, arguments are binary-safe.
 * timeout 0 is the configured one. On success the command is queued and
 * handler (NULL: nobody waits for the answer) will be called exactly once,
 * later, from the event loop -- never from inside this call -- with the
 * reply or NULL. Returns NULL when Redis is not usable (the circuit is
 * open, the client is not started or is stopping), too many commands are
 * pending, or memory is short: the caller goes on without Redis and the
 * handler is never called.
 *
 * The returned handle is valid until the handler is called or
 * ngx_oic_redis_cancel() is: a request that goes away while its command
 * is in flight must cancel it (from its pool cleanup), as the handler
 * would otherwise get freed data.
 */
ngx_oic_redis_cmd_t *ngx_oic_redis_send(ngx_uint_t argc, ngx_str_t *argv,
    ngx_msec_t timeout, ngx_oic_redis_handler_pt handler, void *data);

/*
 * Detach a command: its handler will not be called. The command stays in
 * the pipeline (its reply is read and dropped, its timeout still bounds
 * the connection). Do not call it once the handler has run.
 */
void ngx_oic_redis_cancel(ngx_oic_redis_cmd_t *cmd);


/*
 * Typed reading of a reply: NGX_OK when it is of the expected type,
 * NGX_DECLINED for a nil reply (a key that does not exist, SET NX that did
 * not set), NGX_ERROR for anything else (no reply, an error reply, another
 * type): garbage is an error, never a crash.
 */

/* a bulk string: *s points into the reply (valid during the handler) */
ngx_int_t ngx_oic_redis_string(redisReply *r, ngx_str_t *s);

/* an integer */
ngx_int_t ngx_oic_redis_integer(redisReply *r, long long *n);

/* the status "OK" */
ngx_int_t ngx_oic_redis_ok(redisReply *r);

/* an array: *n elements, r->element[0 .. *n - 1] (each to be read with
 * these functions too) */
ngx_int_t ngx_oic_redis_array(redisReply *r, size_t *n);


#endif /* NGX_OIC_REDIS_H */
