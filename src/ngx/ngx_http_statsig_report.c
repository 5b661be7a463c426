
/*
 * ngx_http_statsig_module: the one rule for repeated errors (see the
 * header).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_statsig_report.h"


static ngx_uint_t ngx_http_statsig_same_reason(u_char *a, u_char *b);


ngx_uint_t
ngx_http_statsig_report(ngx_http_statsig_report_t *rp, u_char *reason,
    time_t now)
{
    ngx_uint_t  due;

    if (reason == NULL) {
        if (!rp->failing) {
            return NGX_HTTP_STATSIG_REPORT_NONE;
        }

        rp->failing = 0;

        return NGX_HTTP_STATSIG_REPORT_RECOVERED;
    }

    due = !rp->failing
          || !ngx_http_statsig_same_reason(rp->reason, reason)
          || now - rp->logged >= NGX_HTTP_STATSIG_REPORT_EVERY;

    rp->failing = 1;
    (void) ngx_cpystrn(rp->reason, reason, NGX_HTTP_STATSIG_ERRLEN);

    if (!due) {
        return NGX_HTTP_STATSIG_REPORT_NONE;
    }

    rp->logged = now;

    return NGX_HTTP_STATSIG_REPORT_FAILED;
}


static ngx_uint_t
ngx_http_statsig_same_reason(u_char *a, u_char *b)
{
    for ( ;; ) {
        while (*a >= '0' && *a <= '9') {
            a++;
        }

        while (*b >= '0' && *b <= '9') {
            b++;
        }

        if (*a != *b) {
            return 0;
        }

        if (*a == '\0') {
            return 1;
        }

        a++;
        b++;
    }
}
