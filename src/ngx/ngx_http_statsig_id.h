
/*
 * ngx_http_statsig_module: random identifiers.
 *
 * Version 4 UUIDs in lower case, as the Statsig SDKs make them: stable
 * IDs for new visitors, and the worker's session ID that every request
 * to Statsig carries (the fetcher's, the flusher's, initialize's).
 */


#ifndef _NGX_HTTP_STATSIG_ID_H_INCLUDED_
#define _NGX_HTTP_STATSIG_ID_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_STATSIG_UUID_LEN  36


/* writes NGX_HTTP_STATSIG_UUID_LEN bytes, no NUL */
void ngx_http_statsig_uuid(u_char *out);

/* this worker's session ID, made at its start (never empty, NUL after) */
ngx_str_t *ngx_http_statsig_session_id(void);

void ngx_http_statsig_id_init_worker(void);


#endif /* _NGX_HTTP_STATSIG_ID_H_INCLUDED_ */
