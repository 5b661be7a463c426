
/*
 * ngx_http_statsig_module: secrets (the server key, the API key, and the
 * sinks' credentials).
 *
 *   statsig_server_key env:VARIABLE | file:PATH;
 *
 * A secret is never written in nginx.conf, so never in "nginx -T": the
 * directive names where it is.  Each worker reads it on first use (the
 * environment variable needs "env VARIABLE;"; the file may appear after
 * start), trims blanks and a newline, and keeps it in its own memory,
 * zeroed when the worker exits.  It is never logged: a message names the
 * directive and the variable or file, and texts that may quote it (curl
 * errors quote URLs) are scrubbed with ngx_http_statsig_secret_scrub().
 */


#ifndef _NGX_HTTP_STATSIG_SECRET_H_INCLUDED_
#define _NGX_HTTP_STATSIG_SECRET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_statsig_report.h"


#define NGX_HTTP_STATSIG_SECRET_NONE  0
#define NGX_HTTP_STATSIG_SECRET_ENV   1
#define NGX_HTTP_STATSIG_SECRET_FILE  2


typedef struct {
    ngx_uint_t                     source;
    ngx_str_t                      ref;        /* name or path, NUL after */
    ngx_str_t                      directive;  /* for messages */
    char                          *without;    /* "nothing is fetched" */

    /* per worker */
    ngx_str_t                      value;
    ngx_http_statsig_report_t      report;    /* why it cannot be read */
} ngx_http_statsig_secret_t;


#define ngx_http_statsig_secret_set(s)                                      \
    ((s)->source != NGX_HTTP_STATSIG_SECRET_NONE)


/*
 * A directive slot: "env:NAME" or "file:PATH" into the
 * ngx_http_statsig_secret_t at cmd->offset; runs cmd->post as stock
 * slots do.
 */
char *ngx_http_statsig_secret_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * "env:NAME" or "file:PATH" (value, which ends a directive's argument)
 * into secret; name names it in messages ("statsig_sink customerio
 * api_key").  NGX_ERROR: logged.
 */
ngx_int_t ngx_http_statsig_secret_parse(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *value, ngx_http_statsig_secret_t *secret);

/*
 * NGX_OK: *value is the secret.  NGX_DECLINED: none configured, or it
 * cannot be read now (logged by the one rule).  NGX_ERROR: no memory.
 */
ngx_int_t ngx_http_statsig_secret_get(ngx_http_statsig_secret_t *secret,
    ngx_log_t *log, ngx_str_t *value);

/* masks every copy of the secret in [p, last) with '*' */
void ngx_http_statsig_secret_scrub(ngx_http_statsig_secret_t *secret,
    u_char *p, u_char *last);

void ngx_http_statsig_secret_free(ngx_http_statsig_secret_t *secret);


#endif /* _NGX_HTTP_STATSIG_SECRET_H_INCLUDED_ */
