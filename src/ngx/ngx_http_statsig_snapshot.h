
/*
 * ngx_http_statsig_module: the compiled specs snapshot and ID lists in the
 * shared zone, as the request path sees them.
 *
 * A snapshot is published by a generation number.  A request pins the
 * newest one with ngx_http_statsig_view_acquire() and keeps it until
 * ngx_http_statsig_view_release(), even when newer ones are published
 * meanwhile; the memory of an old snapshot is freed only when no worker
 * can still read it.  Both calls are worker-local except on the first
 * acquire after a new generation, which takes the zone mutex briefly.
 */


#ifndef _NGX_HTTP_STATSIG_SNAPSHOT_H_INCLUDED_
#define _NGX_HTTP_STATSIG_SNAPSHOT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "statsig.h"


typedef struct {
    const statsig_snapshot_t  *snap;      /* NULL until specs are loaded */
    const statsig_idlists_t   *idlists;   /* NULL when there are none */
    ngx_uint_t                 generation;
    void                      *pin;       /* opaque, for release */
} ngx_http_statsig_view_t;


/*
 * Pins the newest published snapshot for the caller (a request keeps it
 * until release).  Never blocks on I/O; NGX_OK even when no specs are
 * loaded yet (view->snap == NULL), NGX_ERROR only on a broken zone.
 */
ngx_int_t ngx_http_statsig_view_acquire(ngx_http_statsig_view_t *view);
void ngx_http_statsig_view_release(ngx_http_statsig_view_t *view);

/*
 * This worker's evaluation runtime (statsig_runtime_create at
 * init_process, statsig_runtime_set_environment from statsig_environment),
 * NULL in the master.
 */
statsig_runtime_t *ngx_http_statsig_runtime(void);


/* returns the heap's free memory to the system (after a compile) */
void ngx_http_statsig_trim_heap(void);


#endif /* _NGX_HTTP_STATSIG_SNAPSHOT_H_INCLUDED_ */
