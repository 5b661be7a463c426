
/*
 * ngx_http_statsig_module: the sync's tick.
 *
 * Every worker runs a cancelable tick.  It lets go of a snapshot that none
 * of its requests reads when a newer one is out; under the zone mutex it
 * frees the retired snapshots nobody reads any more, and renews or takes
 * the fetch lease (ngx_http_statsig_lease.h).  Only the holder fetches;
 * when the next fetch is due is kept in the zone, so a reload or a
 * handover does not fetch again early.  The fetching itself is specs.c's
 * and idlists.c's; local mode (no statsig_server_key) re-reads the specs
 * file instead.
 */


#include "ngx_http_statsig_sync.h"


typedef struct {
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_main_conf_t  *smcf;
    ngx_log_t                     *log;

    ngx_event_t                    tick;
    ngx_msec_t                     tick_ms;
    ngx_uint_t                     holder;
} ngx_http_statsig_sync_t;


static void ngx_http_statsig_sync_tick(ngx_event_t *ev);
static void ngx_http_statsig_sync_stop(ngx_http_statsig_sync_t *s);
static void ngx_http_statsig_sync_release(ngx_http_statsig_sync_t *s);


static ngx_http_statsig_sync_t  ngx_http_statsig_sync;
static ngx_connection_t         ngx_http_statsig_tick_conn;


ngx_int_t
ngx_http_statsig_sync_init_worker(ngx_cycle_t *cycle)
{
    ngx_msec_t                     min;
    ngx_http_statsig_sync_t       *s;
    ngx_http_statsig_main_conf_t  *smcf;

    s = &ngx_http_statsig_sync;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    ngx_memzero(s, sizeof(ngx_http_statsig_sync_t));

    s->smcf = smcf;
    s->ctx = smcf->shm_zone->data;
    s->log = cycle->log;

    /* a few ticks per interval: handover and due fetches are prompt */

    min = ngx_min(smcf->sync_interval, smcf->id_lists_sync_interval);
    s->tick_ms = ngx_max(ngx_min(min / 4, 1000), 50);

    /* debug logging of timers reads ((ngx_connection_t *) data)->fd */
    ngx_http_statsig_tick_conn.fd = (ngx_socket_t) -1;

    s->tick.handler = ngx_http_statsig_sync_tick;
    s->tick.data = &ngx_http_statsig_tick_conn;
    s->tick.log = cycle->log;
    s->tick.cancelable = 1;

    ngx_add_timer(&s->tick, 1 + ngx_random() % s->tick_ms);

    return ngx_http_statsig_disk_init_worker(cycle);
}


void
ngx_http_statsig_sync_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_statsig_sync_t  *s;

    s = &ngx_http_statsig_sync;

    if (s->ctx == NULL) {
        return;
    }

    if (s->tick.timer_set) {
        ngx_del_timer(&s->tick);
    }

    ngx_http_statsig_sync_release(s);
    ngx_http_statsig_disk_exit_worker(cycle);

    s->ctx = NULL;
}


static void
ngx_http_statsig_sync_tick(ngx_event_t *ev)
{
    uint64_t                       now;
    ngx_pid_t                      dead;
    ngx_msec_t                     ttl;
    ngx_uint_t                     holder, specs, idlists, server;
    ngx_http_statsig_sync_t       *s;
    ngx_http_statsig_shctx_t      *sh;
    ngx_http_statsig_main_conf_t  *smcf;

    s = &ngx_http_statsig_sync;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_statsig_sync_release(s);
        return;
    }

    ngx_add_timer(ev, s->tick_ms);

    ngx_http_statsig_specs_tick();

    /* before the gc: what this idle worker lets go is freed at once */
    ngx_http_statsig_snapshot_idle();

    /* a file write that failed is tried again (any worker that kept one) */
    ngx_http_statsig_disk_tick();

    smcf = s->smcf;
    sh = s->ctx->sh;
    now = ngx_http_statsig_now_ms();
    server = ngx_http_statsig_secret_set(&smcf->server_key);
    specs = 0;
    idlists = 0;

    /* a holder renews every tick; a wedged one loses it after ttl */
    ttl = smcf->sync_interval + 2 * s->tick_ms;

    ngx_shmtx_lock(&s->ctx->shpool->mutex);

    ngx_http_statsig_gc_locked(s->ctx);

    holder = ngx_http_statsig_lease_take_locked(&sh->lease, now, ttl, &dead);

    if (holder && !ngx_http_statsig_specs_busy() && now >= sh->specs_next) {
        sh->specs_next = now + smcf->sync_interval;
        specs = 1;
    }

    if (holder && server && !ngx_http_statsig_idlists_busy()
        && now >= sh->idlists_next)
    {
        sh->idlists_next = now + smcf->id_lists_sync_interval;
        idlists = 1;
    }

    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    if (holder != s->holder) {
        if (holder) {
            ngx_log_error(NGX_LOG_INFO, s->log, 0,
                          "statsig: this worker now fetches for zone "
                          "\"%V\"", &smcf->shm_zone->shm.name);

            if (dead) {
                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, s->log, 0,
                               "statsig sync: the lease's holder %P is gone",
                               dead);
            }

            s->holder = 1;

        } else {
            ngx_log_error(NGX_LOG_INFO, s->log, 0,
                          "statsig: another worker took the fetch lease");
            ngx_http_statsig_sync_stop(s);
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "statsig sync: tick, holder:%ui specs:%ui idlists:%ui",
                   holder, specs, idlists);

    if (!server) {
        if (specs && smcf->specs_file.len) {
            ngx_http_statsig_specs_local_check();
        }

        return;
    }

    if (specs) {
        ngx_http_statsig_specs_fetch();
    }

    if (idlists) {
        ngx_http_statsig_idlists_fetch();
    }
}


/* drops what the holder had in flight */

static void
ngx_http_statsig_sync_stop(ngx_http_statsig_sync_t *s)
{
    ngx_http_statsig_specs_stop();
    ngx_http_statsig_idlists_stop();

    s->holder = 0;
}


static void
ngx_http_statsig_sync_release(ngx_http_statsig_sync_t *s)
{
    ngx_http_statsig_sync_stop(s);

    ngx_shmtx_lock(&s->ctx->shpool->mutex);
    ngx_http_statsig_lease_drop_locked(&s->ctx->sh->lease);
    ngx_shmtx_unlock(&s->ctx->shpool->mutex);
}
