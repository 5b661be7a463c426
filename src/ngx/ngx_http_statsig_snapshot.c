
/*
 * ngx_http_statsig_module: snapshots in the shared zone.
 *
 * Publishing: the compiled specs and ID-list blobs are copied into slab
 * memory (outside the mutex: nobody sees them yet), then, under
 * shpool->mutex, a record {generation, specs, idlists} becomes
 * sh->current, sh->generation is bumped and the previous record goes to
 * sh->retired.  Blobs are shared between records (a new ID-list blob keeps
 * the specs blob) and counted by the records that use them.
 *
 * Reading: every process that reads snapshots owns a slot in the zone
 * with its pid and the oldest generation it still holds.  A worker keeps
 * worker-local pins (one per generation it holds, with a request count);
 * the request path touches only them, except for the first acquire after
 * sh->generation moved, which takes the mutex to pin the new record and
 * to lower its slot.  A retired record is freed, under the mutex, when
 * every live slot holds only newer generations; slots of processes that
 * are gone (kill -9, crash) are cleared on the way.
 */


#include "ngx_http_statsig_zone.h"
#include "ngx_http_statsig_snapshot.h"

#if (defined __GLIBC__)
#include <malloc.h>
#endif
#include "idlist.h"


typedef struct {
    ngx_queue_t                    queue;
    ngx_http_statsig_rec_t        *rec;
    ngx_atomic_uint_t              generation;
    const statsig_snapshot_t      *snap;
    const statsig_idlists_t       *idlists;
    ngx_uint_t                     refs;
} ngx_http_statsig_pin_t;


static ngx_http_statsig_blob_t *ngx_http_statsig_blob_copy(
    ngx_http_statsig_zone_t *ctx, void *data, size_t size, ngx_log_t *log);
static void ngx_http_statsig_blobs_free(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_blob_t *sb, ngx_http_statsig_blob_t *ib);
static void ngx_http_statsig_blob_unref_locked(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_blob_t *b);
static ngx_int_t ngx_http_statsig_view_refresh(ngx_http_statsig_zone_t *ctx);
static void ngx_http_statsig_pin_drop(ngx_http_statsig_pin_t *pin);
static void ngx_http_statsig_slot_update(void);


static ngx_http_statsig_zone_t  *ngx_http_statsig_wctx;
static statsig_runtime_t        *ngx_http_statsig_rt;
static ngx_http_statsig_slot_t  *ngx_http_statsig_slot;
static ngx_http_statsig_pin_t   *ngx_http_statsig_cur;
static ngx_queue_t               ngx_http_statsig_pins;
static ngx_queue_t               ngx_http_statsig_free_pins;


/* a blob nobody can see yet: the caller fills it without the lock */

ngx_http_statsig_blob_t *
ngx_http_statsig_blob_alloc(ngx_http_statsig_zone_t *ctx, size_t size,
    ngx_log_t *log)
{
    size_t                    used;
    ngx_http_statsig_blob_t  *b;

    ngx_shmtx_lock(&ctx->shpool->mutex);
    b = ngx_slab_alloc_locked(ctx->shpool,
                              sizeof(ngx_http_statsig_blob_t) + size);
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (b == NULL) {
        (void) ngx_http_statsig_zone_usage(ctx->smcf->shm_zone, &used);

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "statsig zone \"%V\" is too small: no room for a "
                      "%uz byte snapshot (%uz of %uz bytes used)",
                      &ctx->smcf->shm_zone->shm.name, size, used,
                      ctx->smcf->shm_zone->shm.size);
        return NULL;
    }

    b->refs = 0;
    b->size = size;

    return b;
}


static ngx_http_statsig_blob_t *
ngx_http_statsig_blob_copy(ngx_http_statsig_zone_t *ctx, void *data,
    size_t size, ngx_log_t *log)
{
    ngx_http_statsig_blob_t  *b;

    b = ngx_http_statsig_blob_alloc(ctx, size, log);

    if (b) {
        ngx_memcpy(ngx_http_statsig_blob_data(b), data, size);
    }

    return b;
}


/* blobs that were never published */

static void
ngx_http_statsig_blobs_free(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_blob_t *sb, ngx_http_statsig_blob_t *ib)
{
    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (sb) {
        ngx_slab_free_locked(ctx->shpool, sb);
    }

    if (ib) {
        ngx_slab_free_locked(ctx->shpool, ib);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);
}


static void
ngx_http_statsig_blob_unref_locked(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_blob_t *b)
{
    if (b != NULL && --b->refs == 0) {
        ngx_slab_free_locked(ctx->shpool, b);
    }
}


/*
 * Publishes a new generation.  specs or idlists NULL: keep the current
 * one.  The blobs are copied; the caller keeps (and frees) its own.
 */

ngx_int_t
ngx_http_statsig_publish(ngx_http_statsig_zone_t *ctx, void *specs,
    size_t specs_size, void *idlists, size_t idlists_size, ngx_uint_t source,
    ngx_log_t *log)
{
    ngx_http_statsig_blob_t  *sb, *ib;

    sb = NULL;
    ib = NULL;

    if (specs) {
        sb = ngx_http_statsig_blob_copy(ctx, specs, specs_size, log);
        if (sb == NULL) {
            return NGX_ERROR;
        }
    }

    if (idlists) {
        ib = ngx_http_statsig_blob_copy(ctx, idlists, idlists_size, log);
        if (ib == NULL) {
            ngx_http_statsig_blobs_free(ctx, sb, NULL);
            return NGX_ERROR;
        }
    }

    return ngx_http_statsig_publish_blobs(ctx, sb, ib, source, log);
}


/*
 * Publishes blobs from ngx_http_statsig_blob_alloc(), filled; NULL keeps
 * the current one.  On failure they are freed.
 */

ngx_int_t
ngx_http_statsig_publish_blobs(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_blob_t *sb, ngx_http_statsig_blob_t *ib,
    ngx_uint_t source, ngx_log_t *log)
{
    ngx_slab_pool_t           *shpool;
    ngx_http_statsig_rec_t    *rec, *old;
    ngx_http_statsig_shctx_t  *sh;

    sh = ctx->sh;
    shpool = ctx->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    rec = ngx_slab_calloc_locked(shpool, sizeof(ngx_http_statsig_rec_t));
    if (rec == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "statsig zone \"%V\" is too small",
                      &ctx->smcf->shm_zone->shm.name);
        goto failed;
    }

    old = sh->current;

    rec->specs = sb ? sb : (old ? old->specs : NULL);
    rec->idlists = ib ? ib : (old ? old->idlists : NULL);

    if (rec->specs) {
        rec->specs->refs++;
    }

    if (rec->idlists) {
        rec->idlists->refs++;
    }

    rec->generation = sh->generation + 1;

    if (sb) {
        sh->specs_time = statsig_snapshot_time(
                             statsig_snapshot_open(
                                 ngx_http_statsig_blob_data(sb), sb->size));
        sh->specs_source = source;
        sh->specs_updated = ngx_time();
    }

    if (ib) {
        sh->idlists_count = statsig_idlists_count(
                                statsig_idlists_open(
                                    ngx_http_statsig_blob_data(ib),
                                    ib->size));
    }

    sh->current = rec;
    sh->specs_loaded = (rec->specs != NULL);

    ngx_memory_barrier();

    sh->generation = rec->generation;

    if (old) {
        ngx_queue_insert_tail(&sh->retired, &old->queue);
        sh->retired_count++;
    }

    ngx_http_statsig_gc_locked(ctx);

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "statsig: published generation %uA (specs %uz, "
                   "idlists %uz)", rec->generation, sb ? sb->size : 0,
                   ib ? ib->size : 0);

    return NGX_OK;

failed:

    ngx_http_statsig_blobs_free(ctx, sb, ib);

    return NGX_ERROR;
}


/* frees retired records no live process can still read */

void
ngx_http_statsig_gc_locked(ngx_http_statsig_zone_t *ctx)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q, *next;
    ngx_atomic_uint_t          oldest;
    ngx_http_statsig_rec_t    *rec;
    ngx_http_statsig_slot_t   *slot;
    ngx_http_statsig_shctx_t  *sh;

    sh = ctx->sh;

    if (ngx_queue_empty(&sh->retired)) {
        return;
    }

    oldest = NGX_HTTP_STATSIG_GEN_NONE;

    for (i = 0; i < NGX_HTTP_STATSIG_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->pid == 0) {
            continue;
        }

        if (!ngx_http_statsig_pid_alive((ngx_pid_t) slot->pid)) {
            /* a worker that died without exit_process */
            slot->oldest = NGX_HTTP_STATSIG_GEN_NONE;
            slot->pid = 0;
            continue;
        }

        if (slot->oldest < oldest) {
            oldest = slot->oldest;
        }
    }

    for (q = ngx_queue_head(&sh->retired);
         q != ngx_queue_sentinel(&sh->retired);
         q = next)
    {
        next = ngx_queue_next(q);
        rec = ngx_queue_data(q, ngx_http_statsig_rec_t, queue);

        if (rec->generation >= oldest) {
            continue;
        }

        ngx_queue_remove(q);
        sh->retired_count--;
        sh->freed++;

        ngx_http_statsig_blob_unref_locked(ctx, rec->specs);
        ngx_http_statsig_blob_unref_locked(ctx, rec->idlists);
        ngx_slab_free_locked(ctx->shpool, rec);
    }
}


/* ---- per worker ---- */


ngx_int_t
ngx_http_statsig_snapshot_init_worker(ngx_cycle_t *cycle)
{
    char                           err[256];
    ngx_uint_t                     i;
    ngx_http_statsig_slot_t       *slot;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_shctx_t      *sh;
    ngx_http_statsig_main_conf_t  *smcf;

    ngx_queue_init(&ngx_http_statsig_pins);
    ngx_queue_init(&ngx_http_statsig_free_pins);

    /* called by init_process only when there is a zone */
    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    ngx_http_statsig_rt = statsig_runtime_create(err, sizeof(err));
    if (ngx_http_statsig_rt == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "statsig: cannot create the evaluation runtime: %s",
                      err);
        return NGX_ERROR;
    }

    if (smcf->environment.len
        && statsig_runtime_set_environment(ngx_http_statsig_rt,
                                           (char *) smcf->environment.data,
                                           smcf->environment.len)
           != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "statsig: cannot set the environment \"%V\"",
                      &smcf->environment);
        return NGX_ERROR;
    }

    ctx = smcf->shm_zone->data;
    sh = ctx->sh;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    slot = NULL;

    for (i = 0; i < NGX_HTTP_STATSIG_SLOTS; i++) {
        if (sh->slots[i].pid == 0
            || !ngx_http_statsig_pid_alive((ngx_pid_t) sh->slots[i].pid))
        {
            slot = &sh->slots[i];
            slot->pid = ngx_pid;
            slot->oldest = NGX_HTTP_STATSIG_GEN_NONE;
            break;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (slot == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "statsig: more than %d processes use zone \"%V\"",
                      NGX_HTTP_STATSIG_SLOTS, &smcf->shm_zone->shm.name);
        return NGX_ERROR;
    }

    ngx_http_statsig_slot = slot;
    ngx_http_statsig_wctx = ctx;

    return NGX_OK;
}


void
ngx_http_statsig_snapshot_exit_worker(ngx_cycle_t *cycle)
{
    ngx_queue_t             *q;
    ngx_http_statsig_pin_t  *pin;

    if (ngx_http_statsig_wctx) {
        ngx_shmtx_lock(&ngx_http_statsig_wctx->shpool->mutex);

        ngx_http_statsig_slot->oldest = NGX_HTTP_STATSIG_GEN_NONE;
        ngx_http_statsig_slot->pid = 0;

        ngx_shmtx_unlock(&ngx_http_statsig_wctx->shpool->mutex);

        ngx_http_statsig_wctx = NULL;
        ngx_http_statsig_slot = NULL;
        ngx_http_statsig_cur = NULL;

        while (!ngx_queue_empty(&ngx_http_statsig_pins)) {
            q = ngx_queue_head(&ngx_http_statsig_pins);
            ngx_queue_remove(q);
            ngx_free(ngx_queue_data(q, ngx_http_statsig_pin_t, queue));
        }

        while (!ngx_queue_empty(&ngx_http_statsig_free_pins)) {
            q = ngx_queue_head(&ngx_http_statsig_free_pins);
            ngx_queue_remove(q);
            pin = ngx_queue_data(q, ngx_http_statsig_pin_t, queue);
            ngx_free(pin);
        }
    }

    if (ngx_http_statsig_rt) {
        statsig_runtime_free(ngx_http_statsig_rt);
        ngx_http_statsig_rt = NULL;
    }
}


statsig_runtime_t *
ngx_http_statsig_runtime(void)
{
    return ngx_http_statsig_rt;
}


ngx_int_t
ngx_http_statsig_view_acquire(ngx_http_statsig_view_t *view)
{
    ngx_http_statsig_pin_t   *pin;
    ngx_http_statsig_zone_t  *ctx;

    ngx_memzero(view, sizeof(ngx_http_statsig_view_t));

    ctx = ngx_http_statsig_wctx;

    if (ctx == NULL) {
        return NGX_OK;
    }

    pin = ngx_http_statsig_cur;

    if (pin == NULL || pin->generation != ctx->sh->generation) {
        if (ngx_http_statsig_view_refresh(ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        pin = ngx_http_statsig_cur;

        if (pin == NULL) {
            return NGX_OK;
        }
    }

    pin->refs++;

    view->snap = pin->snap;
    view->idlists = pin->idlists;
    view->generation = pin->generation;
    view->pin = pin;

    return NGX_OK;
}


void
ngx_http_statsig_view_release(ngx_http_statsig_view_t *view)
{
    ngx_http_statsig_pin_t  *pin;

    pin = view->pin;

    if (pin == NULL) {
        return;
    }

    view->pin = NULL;
    view->snap = NULL;
    view->idlists = NULL;

    if (--pin->refs == 0 && pin != ngx_http_statsig_cur) {
        ngx_http_statsig_pin_drop(pin);
        ngx_http_statsig_slot_update();
    }
}


/* the first acquire after a new generation: pin it under the mutex */

static ngx_int_t
ngx_http_statsig_view_refresh(ngx_http_statsig_zone_t *ctx)
{
    u_char                    *p;
    ngx_queue_t               *q;
    ngx_http_statsig_pin_t    *pin, *prev;
    ngx_http_statsig_rec_t    *rec;
    ngx_http_statsig_shctx_t  *sh;

    sh = ctx->sh;

    if (ngx_queue_empty(&ngx_http_statsig_free_pins)) {
        pin = ngx_alloc(sizeof(ngx_http_statsig_pin_t), ngx_cycle->log);
        if (pin == NULL) {
            return NGX_ERROR;
        }

    } else {
        q = ngx_queue_head(&ngx_http_statsig_free_pins);
        ngx_queue_remove(q);
        pin = ngx_queue_data(q, ngx_http_statsig_pin_t, queue);
    }

    ngx_memzero(pin, sizeof(ngx_http_statsig_pin_t));

    ngx_shmtx_lock(&ctx->shpool->mutex);

    rec = sh->current;

    if (rec == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        ngx_queue_insert_head(&ngx_http_statsig_free_pins, &pin->queue);
        return NGX_OK;
    }

    /*
     * The slot is lowered before the mutex is released: whoever frees
     * retired records does it under the mutex and sees it.
     */

    if (ngx_http_statsig_slot->oldest > rec->generation) {
        ngx_http_statsig_slot->oldest = rec->generation;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    pin->rec = rec;
    pin->generation = rec->generation;

    if (rec->specs) {
        p = ngx_http_statsig_blob_data(rec->specs);
        pin->snap = statsig_snapshot_open(p, rec->specs->size);

        if (pin->snap == NULL) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "statsig: snapshot %uA in the zone is corrupt",
                          rec->generation);
        }
    }

    if (rec->idlists) {
        p = ngx_http_statsig_blob_data(rec->idlists);
        pin->idlists = statsig_idlists_open(p, rec->idlists->size);

        if (pin->idlists && statsig_idlists_count(pin->idlists) == 0) {
            pin->idlists = NULL;
        }
    }

    ngx_queue_insert_tail(&ngx_http_statsig_pins, &pin->queue);

    prev = ngx_http_statsig_cur;
    ngx_http_statsig_cur = pin;

    if (prev && prev->refs == 0) {
        ngx_http_statsig_pin_drop(prev);
    }

    ngx_http_statsig_slot_update();

    return NGX_OK;
}


/*
 * The sync's tick, in every worker.  A worker keeps its newest pin between
 * requests so that the next acquire takes no mutex; but a worker that gets
 * no requests would then hold that generation forever, and every snapshot
 * retired after it with it: the zone had to hold one snapshot per idle
 * worker.  So when no request of this worker uses the pin and a newer
 * generation is out, it goes; the next acquire pins the newest.
 */

void
ngx_http_statsig_snapshot_idle(void)
{
    ngx_http_statsig_pin_t  *pin;

    pin = ngx_http_statsig_cur;

    if (ngx_http_statsig_wctx == NULL || pin == NULL || pin->refs
        || pin->generation == ngx_http_statsig_wctx->sh->generation)
    {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "statsig: idle, letting go of generation %uA",
                   pin->generation);

    ngx_http_statsig_cur = NULL;
    ngx_http_statsig_pin_drop(pin);
    ngx_http_statsig_slot_update();
}


static void
ngx_http_statsig_pin_drop(ngx_http_statsig_pin_t *pin)
{
    ngx_queue_remove(&pin->queue);
    ngx_queue_insert_head(&ngx_http_statsig_free_pins, &pin->queue);
}


/* the slot only moves up here: a stale read by the collector is safe */

static void
ngx_http_statsig_slot_update(void)
{
    ngx_queue_t             *q;
    ngx_atomic_uint_t        oldest;
    ngx_http_statsig_pin_t  *pin;

    oldest = NGX_HTTP_STATSIG_GEN_NONE;

    for (q = ngx_queue_head(&ngx_http_statsig_pins);
         q != ngx_queue_sentinel(&ngx_http_statsig_pins);
         q = ngx_queue_next(q))
    {
        pin = ngx_queue_data(q, ngx_http_statsig_pin_t, queue);

        if (pin->generation < oldest) {
            oldest = pin->generation;
        }
    }

    ngx_memory_barrier();

    ngx_http_statsig_slot->oldest = oldest;
}


/*
 * After a large document is compiled and its blob copied into the zone,
 * the heap keeps the parser's tens of megabytes: hand them back, so that
 * workers (and, for the specs file, the master they fork from) do not
 * carry them.
 */

void
ngx_http_statsig_trim_heap(void)
{
#if (defined __GLIBC__)
    (void) malloc_trim(0);
#endif
}
