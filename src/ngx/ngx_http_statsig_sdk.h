
/*
 * ngx_http_statsig_module: what the module says it is to Statsig.
 *
 * Every request to Statsig's APIs (download_config_specs, get_id_lists,
 * log_event) carries the headers statsig-node sends: the server key, the
 * client time (stamped on every attempt), the worker's session ID, the
 * SDK's type and version, and the JSON content type.
 */


#ifndef _NGX_HTTP_STATSIG_SDK_H_INCLUDED_
#define _NGX_HTTP_STATSIG_SDK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_statsig_conf.h"
#include "ngx_http_statsig_id.h"


#define NGX_HTTP_STATSIG_SDK_TYPE      "ngx-http-statsig-module"

/* how many headers ngx_http_statsig_sdk_headers() writes */
#define NGX_HTTP_STATSIG_SDK_HEADERS   6

/* the buffer they need for a key of len bytes */
#define NGX_HTTP_STATSIG_SDK_HEADERS_LEN(len)                               \
    (sizeof("STATSIG-API-KEY: ") + (len)                                    \
     + sizeof("STATSIG-CLIENT-TIME: ") + NGX_INT64_LEN                      \
     + sizeof("STATSIG-SERVER-SESSION-ID: ") + NGX_HTTP_STATSIG_UUID_LEN)


/* "Name: value" lines into h[], their text into buf; returns buf's end */
u_char *ngx_http_statsig_sdk_headers(ngx_str_t *h, u_char *buf,
    ngx_str_t *key);


#endif /* _NGX_HTTP_STATSIG_SDK_H_INCLUDED_ */
