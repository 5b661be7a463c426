
/*
 * ngx_http_statsig_module: the module's own responses (statsig_status,
 * statsig_api), with the headers every one of them carries: its type, its
 * length and "Cache-Control: no-store" (evaluations and counters are
 * per request and per moment) unless the caller added a Cache-Control.
 */


#ifndef _NGX_HTTP_STATSIG_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_STATSIG_RESPONSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the header only: a body of len bytes follows (a file, say); type NULL:
 * application/json, as for the functions below */
ngx_int_t ngx_http_statsig_response_header(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, off_t len);

/* one more header line before the header is sent (literals) */
ngx_int_t ngx_http_statsig_response_add(ngx_http_request_t *r, char *key,
    char *value);

/* b, in the request's pool, is the whole body */
ngx_int_t ngx_http_statsig_response_buf(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, ngx_buf_t *b);

/* JSON from memory the request does not own: copied into its pool */
ngx_int_t ngx_http_statsig_response_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *data, size_t len);

/* {"error":"msg"} */
ngx_int_t ngx_http_statsig_response_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *msg);

void ngx_http_statsig_response_exit_worker(void);


#endif /* _NGX_HTTP_STATSIG_RESPONSE_H_INCLUDED_ */
