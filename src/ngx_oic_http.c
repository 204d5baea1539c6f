/*
 * libcurl multi socket interface driven by nginx's event loop.
 *
 * Each curl socket gets an ngx_connection_t (ngx_get_connection) so that its
 * readiness is reported by nginx's event module; curl's timeout is an nginx
 * timer. Nothing here blocks: name resolution is curl's asynchronous
 * resolver, and curl is only called from event handlers, never from inside
 * one of its own callbacks.
 *
 * Sockets are closed by us (CURLOPT_CLOSESOCKETFUNCTION), so that the events
 * of a socket are always removed before its descriptor is closed, whatever
 * order libcurl reports REMOVE and close in.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <curl/curl.h>

#include "ngx_oic_http.h"


typedef struct {
    CURLM              *multi;
    ngx_event_t         timer;
    ngx_connection_t    dummy;      /* timer->data */
    ngx_connection_t  **conns;      /* indexed by fd */
    ngx_uint_t          nconns;
    ngx_log_t          *log;
} ngx_oic_http_worker_t;


static ngx_oic_http_worker_t  ngx_oic_http_worker;


static void ngx_oic_http_check_info(void);


static ngx_connection_t *
ngx_oic_http_conn_get(curl_socket_t s)
{
    if (s < 0 || (ngx_uint_t) s >= ngx_oic_http_worker.nconns) {
        return NULL;
    }

    return ngx_oic_http_worker.conns[s];
}


static ngx_int_t
ngx_oic_http_conn_set(curl_socket_t s, ngx_connection_t *c)
{
    ngx_uint_t          n;
    ngx_connection_t  **p;

    if ((ngx_uint_t) s >= ngx_oic_http_worker.nconns) {
        n = ngx_max((ngx_uint_t) s + 1, ngx_oic_http_worker.nconns * 2);
        n = ngx_max(n, 64);

        p = ngx_alloc(n * sizeof(ngx_connection_t *), ngx_oic_http_worker.log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(p, n * sizeof(ngx_connection_t *));

        if (ngx_oic_http_worker.conns) {
            ngx_memcpy(p, ngx_oic_http_worker.conns,
                       ngx_oic_http_worker.nconns * sizeof(ngx_connection_t *));
            ngx_free(ngx_oic_http_worker.conns);
        }

        ngx_oic_http_worker.conns = p;
        ngx_oic_http_worker.nconns = n;
    }

    ngx_oic_http_worker.conns[s] = c;

    return NGX_OK;
}


/* Remove a socket's events and give its connection back; the fd stays open. */
static void
ngx_oic_http_conn_release(curl_socket_t s)
{
    ngx_connection_t  *c;

    c = ngx_oic_http_conn_get(s);
    if (c == NULL) {
        return;
    }

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    c->fd = (ngx_socket_t) -1;      /* stale events: see ngx_get_connection */
    ngx_free_connection(c);

    ngx_oic_http_worker.conns[s] = NULL;
}


static void
ngx_oic_http_socket_action(curl_socket_t s, int mask)
{
    int  running;

    (void) curl_multi_socket_action(ngx_oic_http_worker.multi, s, mask,
                                    &running);
    ngx_oic_http_check_info();
}


static void
ngx_oic_http_event_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    ngx_oic_http_socket_action(c->fd,
                               ev->write ? CURL_CSELECT_OUT : CURL_CSELECT_IN);
}


static void
ngx_oic_http_timer_handler(ngx_event_t *ev)
{
    ngx_oic_http_socket_action(CURL_SOCKET_TIMEOUT, 0);
}


static ngx_int_t
ngx_oic_http_want(ngx_event_t *ev, ngx_int_t event, ngx_flag_t want)
{
    if (want && !ev->active) {
        return ngx_add_event(ev, event, NGX_LEVEL_EVENT);
    }

    if (!want && ev->active) {
        return ngx_del_event(ev, event, 0);
    }

    return NGX_OK;
}


static int
ngx_oic_http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
    ngx_connection_t  *c;

    if (what == CURL_POLL_REMOVE) {
        ngx_oic_http_conn_release(s);
        return 0;
    }

    c = ngx_oic_http_conn_get(s);

    if (c == NULL) {
        c = ngx_get_connection(s, ngx_oic_http_worker.log);
        if (c == NULL) {
            return -1;
        }

        if (ngx_oic_http_conn_set(s, c) != NGX_OK) {
            c->fd = (ngx_socket_t) -1;
            ngx_free_connection(c);
            return -1;
        }

        c->read->handler = ngx_oic_http_event_handler;
        c->write->handler = ngx_oic_http_event_handler;
        c->read->log = ngx_oic_http_worker.log;
        c->write->log = ngx_oic_http_worker.log;
        c->data = NULL;
    }

    if (ngx_oic_http_want(c->read, NGX_READ_EVENT,
                          what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        != NGX_OK
        || ngx_oic_http_want(c->write, NGX_WRITE_EVENT,
                             what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
           != NGX_OK)
    {
        return -1;
    }

    return 0;
}


static int
ngx_oic_http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    ngx_event_t  *ev = &ngx_oic_http_worker.timer;

    if (timeout_ms < 0) {
        if (ev->timer_set) {
            ngx_del_timer(ev);
        }
        return 0;
    }

    /* never call curl back from inside its own callback: 0 ms means "soon" */
    ngx_add_timer(ev, (ngx_msec_t) timeout_ms);

    return 0;
}


static int
ngx_oic_http_close_cb(void *clientp, curl_socket_t s)
{
    ngx_oic_http_conn_release(s);

    return close(s);
}


static size_t
ngx_oic_http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t           n, cap;
    u_char          *p;
    ngx_oic_http_t  *h = userdata;

    n = size * nmemb;

    if (h->len + n > h->max_body) {
        h->oversized = 1;
        return 0;                       /* fails the transfer */
    }

    if (h->len + n > h->cap) {
        cap = ngx_max(h->cap * 2, h->len + n);
        cap = ngx_max(cap, 4096);

        p = realloc(h->buf, cap);
        if (p == NULL) {
            return 0;
        }

        h->buf = p;
        h->cap = cap;
    }

    ngx_memcpy(h->buf + h->len, ptr, n);
    h->len += n;

    return n;
}


/*
 * Retry-After (RFC 9110 10.2.3): delta-seconds or an HTTP-date, as seconds
 * from now. Only the last answer's counts (a status line starts over).
 */
static size_t
ngx_oic_http_header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t           n, len;
    u_char          *p, *last;
    time_t           t;
    ngx_int_t        delta;
    ngx_oic_http_t  *h = userdata;

    n = size * nmemb;
    p = (u_char *) ptr;
    last = p + n;

    if (n > 5 && ngx_strncmp(p, "HTTP/", 5) == 0) {
        h->retry_after = -1;
        return n;
    }

    len = sizeof("Retry-After:") - 1;

    if (n <= len || ngx_strncasecmp(p, (u_char *) "Retry-After:", len) != 0) {
        return n;
    }

    p += len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == '\r' || last[-1] == '\n'
                        || last[-1] == ' ' || last[-1] == '\t'))
    {
        last--;
    }

    if (p == last) {
        return n;
    }

    delta = ngx_atoi(p, last - p);

    if (delta != NGX_ERROR) {
        h->retry_after = delta;
        return n;
    }

    t = ngx_parse_http_time(p, last - p);

    if (t != NGX_ERROR) {
        h->retry_after = ngx_max(t - ngx_time(), 0);
    }

    return n;
}


static void
ngx_oic_http_check_info(void)
{
    int              pending;
    long             status;
    CURL            *easy;
    curl_off_t       us;
    CURLMsg         *msg;
    ngx_oic_http_t  *h;

    for ( ;; ) {
        msg = curl_multi_info_read(ngx_oic_http_worker.multi, &pending);
        if (msg == NULL) {
            break;
        }

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        easy = msg->easy_handle;
        h = NULL;
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &h);

        status = 0;
        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);

        h->result = msg->data.result;
        h->status = (h->result == CURLE_OK) ? status : 0;

        if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK
            && us > 0)
        {
            h->time_us = (ngx_uint_t) us;
        }

        curl_multi_remove_handle(ngx_oic_http_worker.multi, easy);

        h->handler(h);
    }
}


ngx_int_t
ngx_oic_http_init_process(ngx_cycle_t *cycle)
{
    curl_version_info_data  *info;
    ngx_oic_http_worker_t   *w = &ngx_oic_http_worker;

    ngx_memzero(w, sizeof(ngx_oic_http_worker_t));

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "oic_auth: curl_global_init() failed");
        return NGX_ERROR;
    }

    w->log = cycle->log;

    info = curl_version_info(CURLVERSION_NOW);

    if (!(info->features & CURL_VERSION_ASYNCHDNS)) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "oic_auth: libcurl %s has no asynchronous resolver: "
                      "use IP addresses in oic_auth URLs, or name lookups "
                      "will block the worker", info->version);
    }

    w->multi = curl_multi_init();
    if (w->multi == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "oic_auth: curl_multi_init() failed");
        return NGX_ERROR;
    }

    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION,
                      ngx_oic_http_socket_cb);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION,
                      ngx_oic_http_timer_cb);

    w->dummy.fd = (ngx_socket_t) -1;
    w->timer.data = &w->dummy;
    w->timer.handler = ngx_oic_http_timer_handler;
    w->timer.log = cycle->log;
    w->timer.cancelable = 1;

    return NGX_OK;
}


void
ngx_oic_http_exit_process(ngx_cycle_t *cycle)
{
    ngx_oic_http_worker_t  *w = &ngx_oic_http_worker;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    if (w->multi) {
        curl_multi_cleanup(w->multi);
        w->multi = NULL;
    }

    if (w->conns) {
        ngx_free(w->conns);
        w->conns = NULL;
        w->nconns = 0;
    }

    curl_global_cleanup();
}


ngx_int_t
ngx_oic_http_start(ngx_oic_http_t *h, ngx_oic_http_conf_t *conf)
{
    CURL               *easy;
    CURLMcode           mrc;
    struct curl_slist  *hl, *l;
    u_char              auth[8192];

    if (ngx_oic_http_worker.multi == NULL) {
        return NGX_ERROR;
    }

    easy = curl_easy_init();
    if (easy == NULL) {
        return NGX_ERROR;
    }

    h->easy = easy;
    h->max_body = conf->max_body;
    h->errbuf[0] = '\0';
    h->retry_after = -1;

    hl = curl_slist_append(NULL, "Accept: application/json");
    if (hl == NULL) {
        goto failed;
    }
    h->headers = hl;

    if (conf->authorization.len) {
        if (conf->authorization.len + sizeof("Authorization: ")
            > sizeof(auth))
        {
            goto failed;
        }

        ngx_snprintf(auth, sizeof(auth), "Authorization: %V%Z",
                     &conf->authorization);

        l = curl_slist_append(hl, (char *) auth);
        ngx_explicit_memzero(auth, sizeof(auth));
        if (l == NULL) {
            goto failed;
        }
    }

    if (conf->body.len) {
        l = curl_slist_append(hl,
                        "Content-Type: application/x-www-form-urlencoded");
        if (l == NULL) {
            goto failed;
        }

        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long) conf->body.len);
        curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, conf->body.data);
    }

    curl_easy_setopt(easy, CURLOPT_URL, conf->url.data);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) conf->timeout);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) conf->timeout);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, conf->ssl_verify ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, conf->ssl_verify ? 2L : 0L);
    if (conf->cafile.len) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, conf->cafile.data);
    }
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, ngx_oic_http_write_cb);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, ngx_oic_http_header_cb);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, ngx_oic_http_close_cb);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, h);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "nginx-oic-auth");

    mrc = curl_multi_add_handle(ngx_oic_http_worker.multi, easy);
    if (mrc != CURLM_OK) {
        goto failed;
    }

    return NGX_OK;

failed:

    ngx_oic_http_free(h);
    return NGX_ERROR;
}


void
ngx_oic_http_cancel(ngx_oic_http_t *h)
{
    if (h->easy && ngx_oic_http_worker.multi) {
        curl_multi_remove_handle(ngx_oic_http_worker.multi, h->easy);
    }

    ngx_oic_http_free(h);
}


void
ngx_oic_http_free(ngx_oic_http_t *h)
{
    if (h->easy) {
        curl_easy_cleanup(h->easy);
        h->easy = NULL;
    }

    if (h->headers) {
        curl_slist_free_all(h->headers);
        h->headers = NULL;
    }

    if (h->buf) {
        free(h->buf);
        h->buf = NULL;
    }

    h->len = 0;
    h->cap = 0;
}


const char *
ngx_oic_http_strerror(ngx_oic_http_t *h)
{
    if (h->oversized) {
        return "answer too large";
    }

    if (h->errbuf[0]) {
        return h->errbuf;
    }

    return curl_easy_strerror((CURLcode) h->result);
}
