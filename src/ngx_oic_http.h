/*
 * Non-blocking HTTP client for oic_auth: libcurl's multi socket interface
 * driven by nginx's event loop (one multi handle per worker).
 */
#ifndef NGX_OIC_HTTP_H
#define NGX_OIC_HTTP_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

typedef struct ngx_oic_http_s  ngx_oic_http_t;

typedef void (*ngx_oic_http_done_pt)(ngx_oic_http_t *h);

typedef struct {
    ngx_str_t      url;           /* NUL-terminated */
    ngx_str_t      body;          /* POST body, or empty for GET */
    ngx_str_t      authorization; /* Authorization header value, or empty */
    ngx_msec_t     timeout;
    ngx_flag_t     ssl_verify;
    ngx_str_t      cafile;        /* NUL-terminated, or empty for the system store */
    size_t         max_body;      /* a longer answer fails the transfer */
} ngx_oic_http_conf_t;

struct ngx_oic_http_s {
    void                  *easy;      /* CURL * */
    void                  *headers;   /* struct curl_slist * */
    u_char                *buf;       /* answer body (malloc'd) */
    size_t                 len;
    size_t                 cap;
    size_t                 max_body;
    ngx_flag_t             oversized;
    long                   status;    /* HTTP status, 0 when none */
    time_t                 retry_after;   /* s of a Retry-After, -1: none */
    int                    result;    /* CURLcode */
    ngx_uint_t             time_us;   /* the transfer's time */
    char                   errbuf[256];
    ngx_oic_http_done_pt   handler;
    void                  *data;
    ngx_log_t             *log;
};

ngx_int_t ngx_oic_http_init_process(ngx_cycle_t *cycle);
void ngx_oic_http_exit_process(ngx_cycle_t *cycle);

/* Start a transfer; h->handler is called exactly once, later, from the event loop. */
ngx_int_t ngx_oic_http_start(ngx_oic_http_t *h, ngx_oic_http_conf_t *conf);

/* Stop a transfer in flight (the handler will not be called) and free its resources. */
void ngx_oic_http_cancel(ngx_oic_http_t *h);

/* Free what a finished transfer holds (call from the handler or later). */
void ngx_oic_http_free(ngx_oic_http_t *h);

/* A short description of a failed transfer, for the log. */
const char *ngx_oic_http_strerror(ngx_oic_http_t *h);

#endif /* NGX_OIC_HTTP_H */
