
/*
 * ngx_http_statsig_module: worker leases in the shared zone.
 *
 * Some work is done by one worker at a time: fetching specs and ID lists,
 * flushing events.  Whoever does it holds a lease in the zone and renews
 * it every tick; another worker takes it when it is free, when its
 * holder's pid is gone (kill -9, a crash) or when the holder did not
 * renew it in time (a wedged worker).  Leases are read and written under
 * the zone's mutex.
 */


#ifndef _NGX_HTTP_STATSIG_LEASE_H_INCLUDED_
#define _NGX_HTTP_STATSIG_LEASE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_pid_t                      pid;        /* 0: free */
    uint64_t                       deadline;   /* ms, wall clock */
    ngx_uint_t                     changes;    /* handovers, for status */
} ngx_http_statsig_lease_t;


/*
 * Renews this worker's lease, or takes it if it can, for ttl ms.
 * 1: this worker holds it.  *dead: the pid of a dead holder it was just
 * taken from (what that one had in hand is lost), else 0.
 */
ngx_uint_t ngx_http_statsig_lease_take_locked(ngx_http_statsig_lease_t *lease,
    uint64_t now, ngx_msec_t ttl, ngx_pid_t *dead);

/* gives it up if this worker holds it */
void ngx_http_statsig_lease_drop_locked(ngx_http_statsig_lease_t *lease);

ngx_uint_t ngx_http_statsig_pid_alive(ngx_pid_t pid);

/* wall clock ms: comparable across workers and reloads */
uint64_t ngx_http_statsig_now_ms(void);


#endif /* _NGX_HTTP_STATSIG_LEASE_H_INCLUDED_ */
