
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
 *               counted and logged;
 *   disk.c      the specs and ID lists files: written in the thread pool,
 *               a failed write retried until it succeeds.
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
/* a request that failed (refused, timed out, an error status): counted
 * as a request and as a failure */
#define NGX_HTTP_STATSIG_REQUEST_FAILED  6
/* the failure logged before, again: counted, not logged */
#define NGX_HTTP_STATSIG_FAILED_AGAIN    7


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

/* ngx_http_statsig_disk.c: the files kept on disk */
#define NGX_HTTP_STATSIG_DISK_SPECS    0
#define NGX_HTTP_STATSIG_DISK_IDLISTS  1

ngx_int_t ngx_http_statsig_disk_init_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_disk_exit_worker(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_statsig_disk_busy(ngx_uint_t which);
ngx_uint_t ngx_http_statsig_disk_pending(ngx_uint_t which);
void ngx_http_statsig_disk_write(ngx_uint_t which, u_char *data, size_t len,
    uint64_t version, ngx_uint_t retry);
void ngx_http_statsig_disk_drop(ngx_uint_t which);
void ngx_http_statsig_disk_tick(void);
void ngx_http_statsig_disk_result(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_file_st_t *st, char *what, ngx_str_t *path,
    ngx_err_t err, const char *op, ngx_file_info_t *fi, ngx_uint_t specs);
ngx_err_t ngx_http_statsig_file_write(ngx_str_t *path, u_char *data,
    size_t len, ngx_file_info_t *fi, const char **op, ngx_log_t *log);
void ngx_http_statsig_sync_dir(ngx_str_t *path, ngx_log_t *log);

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
