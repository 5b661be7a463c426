
/*
 * ngx_http_statsig_module: an asynchronous HTTP client for the worker,
 * libcurl's multi socket interface driven by nginx's own event loop (no
 * thread, no blocking call, no subrequest).  Any number of requests may be
 * in flight; each ends with exactly one call of its completion handler,
 * unless it is cancelled.
 *
 *   ngx_http_statsig_http_init()     per worker, before the first request
 *   ngx_http_statsig_http_start()    issue a request
 *   ngx_http_statsig_http_cancel()   drop one (no completion call)
 *   ngx_http_statsig_http_cleanup()  drop all, free everything (exit)
 */


#ifndef _NGX_HTTP_STATSIG_HTTP_H_INCLUDED_
#define _NGX_HTTP_STATSIG_HTTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct ngx_http_statsig_http_req_s  ngx_http_statsig_http_req_t;


typedef struct {
    ngx_uint_t                     status;    /* 0: no HTTP response */
    ngx_str_t                      headers;   /* raw header lines */
    ngx_str_t                      body;      /* decoded (gzip, br) */
    char                          *error;     /* NULL, or why it failed */
    ngx_msec_t                     elapsed;
} ngx_http_statsig_http_res_t;


/* res and its strings are valid during the call only */
typedef void (*ngx_http_statsig_http_done_pt)(
    ngx_http_statsig_http_res_t *res, void *data);


typedef struct {
    char                          *method;    /* "GET", "POST", ... */
    ngx_str_t                      url;
    ngx_str_t                     *headers;   /* "Name: value" */
    ngx_uint_t                     nheaders;
    ngx_str_t                      body;      /* copied */
    ngx_msec_t                     timeout;   /* whole transfer */
    size_t                         max_body;  /* 0: unlimited */
    /*
     * The caller's buffer (and its size) the body is written into: grown
     * by the client, updated in place, never freed by it.  NULL: the
     * client's own, freed after done().
     */
    u_char                       **body_buf;
    size_t                        *body_cap;
    ngx_http_statsig_http_done_pt  done;
    void                          *data;
} ngx_http_statsig_http_request_t;


/* ca_file, proxy: empty for the defaults (system CAs, no proxy) */
ngx_int_t ngx_http_statsig_http_init(ngx_cycle_t *cycle, ngx_str_t *ca_file,
    ngx_str_t *proxy);

/* NULL if the request could not be started (logged) */
ngx_http_statsig_http_req_t *ngx_http_statsig_http_start(
    ngx_http_statsig_http_request_t *rq);

void ngx_http_statsig_http_cancel(ngx_http_statsig_http_req_t *req);
void ngx_http_statsig_http_cleanup(void);
ngx_uint_t ngx_http_statsig_http_pending(void);

/* a response header's value (case-insensitive name), NGX_DECLINED if none */
ngx_int_t ngx_http_statsig_http_header(ngx_http_statsig_http_res_t *res,
    char *name, ngx_str_t *value);


#endif /* _NGX_HTTP_STATSIG_HTTP_H_INCLUDED_ */
