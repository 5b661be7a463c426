
/*
 * ngx_http_statsig_module: keeping the zone's specs and ID lists fresh.
 *
 *   sync.c      every worker's tick: gc of retired snapshots, the fetch
 *               lease, when specs and ID lists are due;
 *   specs.c     the holder's specs: download, compile in a thread pool,
 *               publish, write statsig_specs_file; local mode re-reads the
 *               file when it changes;
 *   idlists.c   the holder's ID lists: the index, each list's new bytes,
 *               publish; resumed from the zone by a new holder;
 *   fetch.c     what both say to Statsig and how their outcomes are
 *               counted and logged.
 */


#ifndef _NGX_HTTP_STATSIG_SYNC_H_INCLUDED_
#define _NGX_HTTP_STATSIG_SYNC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_statsig_zone.h"
#include "ngx_http_statsig_http.h"


/* what a sync step came to, for the counters and the log */
#define NGX_HTTP_STATSIG_OK          0
#define NGX_HTTP_STATSIG_UPDATED     1
#define NGX_HTTP_STATSIG_NO_UPDATES  2
#define NGX_HTTP_STATSIG_IGNORED     3
#define NGX_HTTP_STATSIG_FAILED      4
#define NGX_HTTP_STATSIG_ATTEMPT     5


/* ngx_http_statsig_sync.c */
ngx_int_t ngx_http_statsig_sync_init_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_sync_exit_worker(ngx_cycle_t *cycle);

/* ngx_http_statsig_specs.c */
ngx_int_t ngx_http_statsig_specs_init_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf);
ngx_int_t ngx_http_statsig_specs_init_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_specs_exit_worker(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_statsig_specs_busy(void);
void ngx_http_statsig_specs_tick(void);
void ngx_http_statsig_specs_fetch(void);
void ngx_http_statsig_specs_local_check(void);
void ngx_http_statsig_specs_stop(void);

/* ngx_http_statsig_idlists.c */
ngx_int_t ngx_http_statsig_idlists_init_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_idlists_exit_worker(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_statsig_idlists_busy(void);
void ngx_http_statsig_idlists_fetch(void);
void ngx_http_statsig_idlists_stop(void);

/* ngx_http_statsig_fetch.c */
ngx_http_statsig_http_req_t *ngx_http_statsig_fetch_start(
    ngx_http_statsig_zone_t *ctx, ngx_http_statsig_http_request_t *rq,
    ngx_str_t *range);
u_char *ngx_http_statsig_fetch_error(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_http_res_t *res, u_char *buf, size_t len);
void ngx_http_statsig_fetch_result(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_stats_t *st, char *what, ngx_msec_t elapsed,
    ngx_uint_t outcome, u_char *reason);


#endif /* _NGX_HTTP_STATSIG_SYNC_H_INCLUDED_ */
