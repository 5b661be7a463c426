
/*
 * ngx_http_statsig_module: the statsig_api location handler, shared
 * declarations of its files.
 */


#ifndef _NGX_HTTP_STATSIG_API_H_INCLUDED_
#define _NGX_HTTP_STATSIG_API_H_INCLUDED_


#include "ngx_http_statsig_request.h"

#include "buf.h"


/* the most a request body may hold (after gunzip): what is parsed */
#define NGX_HTTP_STATSIG_API_MAX_BODY    (4 * 1024 * 1024)

/* names one check_gate may ask for */
#define NGX_HTTP_STATSIG_API_MAX_NAMES   1000


/* ngx_http_statsig_api_dcs.c */
ngx_int_t ngx_http_statsig_api_dcs(ngx_http_request_t *r,
    const statsig_value_t *body);


#endif /* _NGX_HTTP_STATSIG_API_H_INCLUDED_ */
