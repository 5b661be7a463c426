
/*
 * ngx_http_statsig_module: the one rule for repeated errors.
 *
 * A fetch that fails every tick or a sink that refuses every batch must
 * not fill the error log, nor go quiet when the cause changes.  So a
 * failure is logged when it starts, when its reason changes (numbers
 * aside: "timed out after 700 ms" and "after 701 ms" are one reason), and
 * again every NGX_HTTP_STATSIG_REPORT_EVERY seconds while it lasts; the
 * recovery is logged once.  The state lives where its failures are
 * counted: the zone for the sync (one line whichever worker fetches),
 * the worker for a sink or a secret.
 */


#ifndef _NGX_HTTP_STATSIG_REPORT_H_INCLUDED_
#define _NGX_HTTP_STATSIG_REPORT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_STATSIG_ERRLEN           256
#define NGX_HTTP_STATSIG_REPORT_EVERY     60

/* what to log now */
#define NGX_HTTP_STATSIG_REPORT_NONE      0
#define NGX_HTTP_STATSIG_REPORT_FAILED    1
#define NGX_HTTP_STATSIG_REPORT_RECOVERED 2


typedef struct {
    ngx_uint_t                     failing;
    time_t                         logged;
    u_char                         reason[NGX_HTTP_STATSIG_ERRLEN];
} ngx_http_statsig_report_t;


/*
 * A failure (reason not NULL) or a success (NULL) at now: records it
 * and says what to log.  The last reason is kept after a recovery.
 */
ngx_uint_t ngx_http_statsig_report(ngx_http_statsig_report_t *rp,
    u_char *reason, time_t now);


#endif /* _NGX_HTTP_STATSIG_REPORT_H_INCLUDED_ */
