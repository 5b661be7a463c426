
/*
 * ngx_http_statsig_module: worker leases (see the header).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_statsig_lease.h"


ngx_uint_t
ngx_http_statsig_lease_take_locked(ngx_http_statsig_lease_t *lease,
    uint64_t now, ngx_msec_t ttl, ngx_pid_t *dead)
{
    *dead = 0;

    if (lease->pid != ngx_pid) {
        if (lease->pid != 0) {
            if (!ngx_http_statsig_pid_alive(lease->pid)) {
                *dead = lease->pid;

            } else if (now < lease->deadline) {
                return 0;
            }
        }

        lease->pid = ngx_pid;
        lease->changes++;
    }

    lease->deadline = now + ttl;

    return 1;
}


void
ngx_http_statsig_lease_drop_locked(ngx_http_statsig_lease_t *lease)
{
    if (lease->pid == ngx_pid) {
        lease->pid = 0;
        lease->deadline = 0;
    }
}


ngx_uint_t
ngx_http_statsig_pid_alive(ngx_pid_t pid)
{
    if (pid <= 0) {
        return 0;
    }

    if (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
        return 0;
    }

    return 1;
}


uint64_t
ngx_http_statsig_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}
