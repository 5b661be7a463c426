
/*
 * ngx_http_statsig_module: the event flusher.
 *
 * Every worker runs a cancelable tick.  Under the zone mutex it renews or
 * takes the flush lease (one worker flushes at a time; a dead holder's
 * lease is taken at once, a wedged one's when it expires).  The holder
 * takes a batch out of a sink's ring when a full batch is waiting, or
 * when statsig_flush_interval has passed with anything waiting, and posts
 * it with the event-loop HTTP client: at most
 * NGX_HTTP_STATSIG_MAX_INFLIGHT requests per sink, one while the sink is
 * failing.  A batch stays in this worker's memory until the sink accepts
 * it, refuses it for good (dropped, counted, logged), or its retries are
 * used up; retryable failures back off exponentially up to the sink's
 * maximum and leave the rest in the ring.  A worker that pushes a full
 * batch while holding the lease posts a flush at once.
 *
 * Shutdown (reload or quit): a fake idle connection learns at once that
 * the worker is exiting (ngx_close_idle_connections() calls it), and a
 * non-cancelable guard timer keeps the worker alive while it sends what
 * the rings held at that moment, for at most
 * NGX_HTTP_STATSIG_EXIT_BUDGET ms.  Exiting workers still take the lease
 * (on "quit" nobody else will), and a worker that logs events while
 * exiting starts over.  What is not sent by the deadline goes back to the
 * head of its ring: after a reload the new workers send it.
 *
 * Guarantees: an event that fit in a ring is sent, refused by the sink,
 * or counted as dropped.  Batches in flight in a worker that crashes are
 * lost (at most once) and counted by the next holder as dropped_lost; a
 * batch in flight at the shutdown deadline is requeued, so the sink may
 * see it twice (at least once).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_statsig_events.h"
#include "ngx_http_statsig_http.h"


#define NGX_HTTP_STATSIG_EXIT_BUDGET    5000
#define NGX_HTTP_STATSIG_FLUSH_TTL      3000
#define NGX_HTTP_STATSIG_MAX_RESPONSE   (64 * 1024)
#define NGX_HTTP_STATSIG_SPOOL_EVERY    1000
#define NGX_HTTP_STATSIG_RETRY_AFTER_MAX  300000

#define NGX_HTTP_STATSIG_SENT           0
#define NGX_HTTP_STATSIG_RETRY          1
#define NGX_HTTP_STATSIG_REJECT         2
#define NGX_HTTP_STATSIG_SPLIT          3
#define NGX_HTTP_STATSIG_IGNORE         4


typedef struct {
    ngx_http_statsig_sink_t       *sinks;
    ngx_uint_t                     nsinks;
    ngx_http_statsig_main_conf_t  *smcf;
    ngx_log_t                     *log;

    ngx_event_t                    tick;
    ngx_msec_t                     tick_ms;
    ngx_event_t                    post;
    ngx_event_t                    guard;
    ngx_connection_t              *watcher;

    ngx_uint_t                     holder;
    ngx_uint_t                     exiting;
    ngx_msec_t                     exit_deadline;
    uint64_t                       exit_mark[NGX_HTTP_STATSIG_MAX_SINKS];

    ngx_msec_t                     spooled;    /* the spool looked at */

    ngx_http_statsig_wbuf_t        gz;         /* the body */
    statsig_buf_t                  items;      /* a batch of items' body */
    ngx_http_statsig_wbuf_t        back;       /* records given back */

    /* splitting a pack refused as too large */
    statsig_pack_split_t           split;
    ngx_http_statsig_wbuf_t        halves;
} ngx_http_statsig_flusher_t;


/* a batch's packs as statsig_gzip_packs() takes them */
typedef struct {
    u_char                        *pos;
    u_char                        *last;
} ngx_http_statsig_flush_walk_t;


static void ngx_http_statsig_flush_tick(ngx_event_t *ev);
static void ngx_http_statsig_flush_posted(ngx_event_t *ev);
static void ngx_http_statsig_flush_spool(ngx_http_statsig_flusher_t *f,
    ngx_slab_pool_t *shpool);
static void ngx_http_statsig_flush_run(void);
static ngx_uint_t ngx_http_statsig_flush_lease_locked(
    ngx_http_statsig_flusher_t *f, ngx_http_statsig_events_sh_t *es,
    uint64_t now, ngx_uint_t claim, ngx_uint_t *lost);
static void ngx_http_statsig_flush_sink(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_sink_t *sink, ngx_uint_t take);
static ngx_uint_t ngx_http_statsig_flush_token(ngx_http_statsig_sink_t *sink,
    ngx_msec_t now);
static void ngx_http_statsig_flush_send(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_slot_batch_t *slot);
static ngx_int_t ngx_http_statsig_flush_items(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_slot_batch_t *slot, ngx_http_statsig_http_request_t *rq);
static ngx_int_t ngx_http_statsig_flush_event(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_slot_batch_t *slot, ngx_http_statsig_http_request_t *rq,
    ngx_pool_t *pool, u_char **err);
static void ngx_http_statsig_flush_done(ngx_http_statsig_http_res_t *res,
    void *data);
static void ngx_http_statsig_flush_result(ngx_http_statsig_slot_batch_t *slot,
    ngx_uint_t outcome, ngx_uint_t status, ngx_msec_t retry_after,
    u_char *reason, ngx_uint_t refused);
static ngx_uint_t ngx_http_statsig_flush_retryable(
    ngx_http_statsig_sink_type_t *t, ngx_uint_t status);
static ngx_int_t ngx_http_statsig_flush_gzip(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_sink_t *sink, ngx_http_statsig_batch_t *batch);
static int ngx_http_statsig_flush_piece(void *data,
    statsig_gzip_piece_t *piece);
static ngx_int_t ngx_http_statsig_flush_split(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_slot_batch_t *slot, u_char **err);
static void ngx_http_statsig_flush_exit_start(void);
static void ngx_http_statsig_flush_exit_finish(void);
static void ngx_http_statsig_flush_release(void);
static void ngx_http_statsig_flush_guard(ngx_event_t *ev);
static ngx_uint_t ngx_http_statsig_flush_abort(ngx_uint_t *lost);
static void ngx_http_statsig_watcher(ngx_event_t *ev);
static void ngx_http_statsig_watcher_free(void);


static ngx_http_statsig_flusher_t  ngx_http_statsig_flusher;
static ngx_connection_t            ngx_http_statsig_flush_conn;


ngx_int_t
ngx_http_statsig_flush_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i, any, nsinks;
    ngx_connection_t              *c, *saved;
    ngx_http_statsig_sink_t       *sinks;
    ngx_http_statsig_flusher_t    *f;
    ngx_http_statsig_main_conf_t  *smcf;

    f = &ngx_http_statsig_flusher;

    ngx_memzero(f, sizeof(ngx_http_statsig_flusher_t));

    sinks = ngx_http_statsig_events_sinks(&nsinks);

    any = 0;

    for (i = 0; i < nsinks; i++) {
        any |= sinks[i].enabled;

        ngx_memzero(sinks[i].slots, sizeof(sinks[i].slots));
    }

    if (!any) {
        return NGX_OK;
    }

    smcf = sinks[0].smcf;

    f->sinks = sinks;
    f->nsinks = nsinks;
    f->smcf = smcf;
    f->log = cycle->log;
    f->tick_ms = ngx_max(ngx_min(smcf->flush_interval / 4, 250), 10);

    statsig_pack_split_init(&f->split);
    statsig_buf_init(&f->items);

    /* debug logging of timers reads ((ngx_connection_t *) data)->fd */
    ngx_http_statsig_flush_conn.fd = (ngx_socket_t) -1;

    f->tick.handler = ngx_http_statsig_flush_tick;
    f->tick.data = &ngx_http_statsig_flush_conn;
    f->tick.log = cycle->log;
    f->tick.cancelable = 1;

    f->post.handler = ngx_http_statsig_flush_posted;
    f->post.data = &ngx_http_statsig_flush_conn;
    f->post.log = cycle->log;

    /* keeps an exiting worker alive until its last batches are sent */
    f->guard.handler = ngx_http_statsig_flush_guard;
    f->guard.data = &ngx_http_statsig_flush_conn;
    f->guard.log = cycle->log;

    ngx_add_timer(&f->tick, 1 + ngx_random() % f->tick_ms);

    /*
     * An idle fake connection: ngx_close_idle_connections() calls its read
     * handler as soon as a graceful shutdown starts, before the worker
     * would leave for want of timers (the lua module's watcher trick).
     */

    saved = ngx_cycle->files ? ngx_cycle->files[0] : NULL;

    c = ngx_get_connection(0, cycle->log);

    if (ngx_cycle->files) {
        ngx_cycle->files[0] = saved;
    }

    if (c == NULL) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "statsig: no connection to watch for shutdown; "
                      "events may be left queued at exit");
        return NGX_OK;
    }

    c->fd = (ngx_socket_t) -2;
    c->idle = 1;
    c->data = f;
    c->read->handler = ngx_http_statsig_watcher;
    c->read->log = cycle->log;
    c->write->log = cycle->log;

    f->watcher = c;

    return NGX_OK;
}


void
ngx_http_statsig_flush_exit_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                   i, j, back, lost;
    ngx_http_statsig_sink_t     *sink;
    ngx_http_statsig_flusher_t  *f;

    f = &ngx_http_statsig_flusher;

    if (f->sinks == NULL) {
        return;
    }

    if (f->tick.timer_set) {
        ngx_del_timer(&f->tick);
    }

    if (f->guard.timer_set) {
        ngx_del_timer(&f->guard);
    }

    if (f->post.posted) {
        ngx_delete_posted_event(&f->post);
    }

    ngx_http_statsig_watcher_free();

    back = ngx_http_statsig_flush_abort(&lost);

    if (back || lost) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "statsig: at exit %ui events went back to the queue, "
                      "%ui were lost", back, lost);
    }

    ngx_http_statsig_flush_release();

    for (i = 0; i < f->nsinks; i++) {
        sink = &f->sinks[i];

        for (j = 0; j < NGX_HTTP_STATSIG_MAX_INFLIGHT; j++) {
            if (sink->slots[j].batch.data) {
                ngx_free(sink->slots[j].batch.data);
                sink->slots[j].batch.data = NULL;
            }
        }
    }

    if (f->gz.data) {
        ngx_free(f->gz.data);
    }

    if (f->halves.data) {
        ngx_free(f->halves.data);
    }

    if (f->back.data) {
        ngx_free(f->back.data);
    }

    statsig_buf_free(&f->items);
    statsig_pack_split_free(&f->split);
    ngx_http_statsig_spool_exit_worker();

    f->sinks = NULL;
}


/*
 * From the request path, after a push: a full batch is waiting (flush
 * now if this worker holds the lease), or the worker is exiting (the
 * shutdown flush covers this event too).
 */

void
ngx_http_statsig_flush_notify(ngx_uint_t full)
{
    ngx_http_statsig_flusher_t  *f;

    f = &ngx_http_statsig_flusher;

    if (f->sinks == NULL) {
        return;
    }

    if (ngx_exiting) {
        ngx_http_statsig_flush_exit_start();
        return;
    }

    if (full && f->holder && !f->post.posted) {
        ngx_post_event(&f->post, &ngx_posted_events);
    }
}


static void
ngx_http_statsig_flush_tick(ngx_event_t *ev)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_statsig_flusher_t  *f;

    f = &ngx_http_statsig_flusher;

    if (ngx_terminate) {
        return;
    }

    if (ngx_exiting && f->exit_deadline == 0) {
        /* no watcher: learn it here */
        ngx_http_statsig_flush_exit_start();
    }

    ngx_add_timer(ev, f->tick_ms);

    /* this worker's events of the last tick go to the rings */
    (void) ngx_http_statsig_events_close_packs();

    if (f->holder) {
        /* a worker that died since: its open packs are counted lost */
        shpool = ngx_http_statsig_events_shpool();

        ngx_shmtx_lock(&shpool->mutex);
        (void) ngx_http_statsig_events_reap_locked(f->log);
        ngx_shmtx_unlock(&shpool->mutex);

        if (f->smcf->spool.len) {
            ngx_http_statsig_flush_spool(f, shpool);
        }
    }

    ngx_http_statsig_flush_run();
}


/*
 * statsig_event_spool: a failing sink's ring half full spills
 * its oldest records (each tick); a sink that is up, with room, reads
 * spooled ones back (once a second).
 */

static void
ngx_http_statsig_flush_spool(ngx_http_statsig_flusher_t *f,
    ngx_slab_pool_t *shpool)
{
    ngx_uint_t                     i, look;
    ngx_http_statsig_sink_t       *sink;
    ngx_http_statsig_sink_sh_t    *ss;
    ngx_http_statsig_events_sh_t  *es;

    es = ngx_http_statsig_events_sh();

    /* a look at the directory for spooled events once a second */
    look = (ngx_current_msec - f->spooled >= NGX_HTTP_STATSIG_SPOOL_EVERY);

    if (look) {
        f->spooled = ngx_current_msec;
    }

    for (i = 0; i < f->nsinks; i++) {
        sink = &f->sinks[i];

        if (!sink->enabled || f->exiting) {
            continue;
        }

        ss = &es->sinks[sink->index];

        if (sink->backoff) {
            /* every tick: the ring may fill fast */
            (void) ngx_http_statsig_spool_spill(f->smcf, sink->index, ss,
                                                &shpool->mutex, f->log);

        } else if (look && sink->type->ready(sink) == NGX_OK) {
            (void) ngx_http_statsig_spool_restore(f->smcf, sink->index, ss,
                                                  &shpool->mutex, f->log);
        }
    }
}


static void
ngx_http_statsig_flush_posted(ngx_event_t *ev)
{
    ngx_http_statsig_flush_run();
}


static void
ngx_http_statsig_flush_run(void)
{
    uint64_t                       now;
    ngx_uint_t                     i, holder, claim, done, lost;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_sink_t       *sink;
    ngx_http_statsig_flusher_t    *f;
    ngx_http_statsig_sink_sh_t    *ss;
    ngx_http_statsig_events_sh_t  *es;

    f = &ngx_http_statsig_flusher;

    if (f->sinks == NULL || ngx_terminate) {
        return;
    }

    es = ngx_http_statsig_events_sh();
    shpool = ngx_http_statsig_events_shpool();

    /* an exiting worker flushes only while its shutdown flush runs */
    claim = !ngx_exiting || f->exiting;
    now = ngx_http_statsig_now_ms();
    lost = 0;

    ngx_shmtx_lock(&shpool->mutex);
    holder = ngx_http_statsig_flush_lease_locked(f, es, now, claim, &lost);
    ngx_http_statsig_dedupe_fold_locked();
    ngx_shmtx_unlock(&shpool->mutex);

    if (lost) {
        ngx_log_error(NGX_LOG_ERR, f->log, 0,
                      "statsig: the previous event flusher died with %ui "
                      "events in flight; they are lost", lost);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "statsig flush: run, holder:%ui claim:%ui exiting:%ui",
                   holder, claim, f->exiting);

    if (holder != f->holder) {
        ngx_log_error(NGX_LOG_INFO, f->log, 0, holder
                      ? "statsig: this worker now flushes events"
                      : "statsig: this worker no longer flushes events");
        f->holder = holder;
    }

    done = 1;

    for (i = 0; i < f->nsinks; i++) {
        sink = &f->sinks[i];

        if (!sink->enabled) {
            continue;
        }

        /* a worker that lost the lease still finishes its own batches */
        ngx_http_statsig_flush_sink(f, sink, holder);

        if (sink->in_flight || sink->held) {
            done = 0;
        }

        ss = &es->sinks[sink->index];

        /*
         * An exiting worker stays until what was queued when it began is
         * out of the ring, whoever takes it: its own late events too.
         */
        if (f->exiting && !sink->backoff
            && ss->head < f->exit_mark[sink->index]
            && sink->type->ready(sink) == NGX_OK)
        {
            done = 0;
        }
    }

    if (f->exiting && done) {
        ngx_http_statsig_flush_exit_finish();
    }
}


static ngx_uint_t
ngx_http_statsig_flush_lease_locked(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_events_sh_t *es, uint64_t now, ngx_uint_t claim,
    ngx_uint_t *lost)
{
    ngx_uint_t                   i;
    ngx_http_statsig_sink_t     *sink;
    ngx_http_statsig_sink_sh_t  *ss;

    ngx_pid_t  dead;

    if (!claim) {
        ngx_http_statsig_lease_drop_locked(&es->flush_lease);
        return 0;
    }

    if (!ngx_http_statsig_lease_take_locked(&es->flush_lease, now,
                                            NGX_HTTP_STATSIG_FLUSH_TTL
                                            + 2 * f->tick_ms,
                                            &dead))
    {
        return 0;
    }

    if (dead) {
        /* what a dead holder had out of the rings is gone */
        for (i = 0; i < f->nsinks; i++) {
            sink = &f->sinks[i];
            ss = &es->sinks[sink->index];

            if (ss->in_flight > sink->held) {
                *lost += ss->in_flight - sink->held;
                ss->dropped_lost += ss->in_flight - sink->held;
                ss->in_flight = sink->held;
            }
        }
    }

    return 1;
}


static void
ngx_http_statsig_flush_sink(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_sink_t *sink, ngx_uint_t take)
{
    size_t                          cap;
    ngx_int_t                       rc;
    ngx_uint_t                      i, max, due;
    ngx_msec_t                      now;
    ngx_slab_pool_t                *shpool;
    ngx_http_statsig_sink_sh_t     *ss;
    ngx_http_statsig_slot_batch_t  *slot;

    ss = &ngx_http_statsig_events_sh()->sinks[sink->index];
    shpool = ngx_http_statsig_events_shpool();
    now = ngx_current_msec;

    if (sink->backoff) {
        if ((ngx_msec_int_t) (now - sink->retry_at) < 0) {
            return;
        }

        if (f->exiting && sink->held == 0) {
            /* failing at shutdown: the rings keep the rest */
            return;
        }
    }

    if (sink->type->ready(sink) != NGX_OK) {
        return;
    }

    /* one request at a time while the sink is failing */
    max = sink->backoff ? 1 : sink->type->max_inflight;

    for (i = 0; i < NGX_HTTP_STATSIG_MAX_INFLIGHT; i++) {
        slot = &sink->slots[i];

        if (slot->busy && slot->req == NULL) {
            if (sink->in_flight >= max
                || !ngx_http_statsig_flush_token(sink, now))
            {
                return;
            }

            ngx_http_statsig_flush_send(f, slot);
        }
    }

    /* while failing, new batches wait for the held ones */
    while (take && sink->in_flight < max
           && !(sink->backoff && sink->held)
           && ngx_http_statsig_flush_token(sink, now))
    {

        slot = NULL;

        for (i = 0; i < NGX_HTTP_STATSIG_MAX_INFLIGHT; i++) {
            if (!sink->slots[i].busy) {
                slot = &sink->slots[i];
                break;
            }
        }

        if (slot == NULL) {
            return;
        }

        if (slot->batch.data == NULL) {
            cap = ngx_http_statsig_pack_max(sink, ss);

            slot->batch.data = ngx_alloc(cap, f->log);
            if (slot->batch.data == NULL) {
                return;
            }

            slot->batch.cap = cap;
        }

        ngx_shmtx_lock(&shpool->mutex);

        due = ss->events >= sink->limit
              || (ss->events
                  && (f->exiting
                      || now - sink->last_take
                         >= f->smcf->flush_interval));

        if (f->exiting && ss->head >= f->exit_mark[sink->index]) {
            due = 0;
        }

        rc = due ? ngx_http_statsig_ring_take_locked(ss, &slot->batch,
                                        sink->limit,
                                        sink->type->max_bytes
                                        - NGX_HTTP_STATSIG_ENVELOPE_MAX,
                                        f->log)
                 : NGX_DECLINED;

        ngx_shmtx_unlock(&shpool->mutex);

        if (rc != NGX_OK) {
            return;
        }

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, f->log, 0,
                       "statsig flush: \"%s\" takes %ui events, %uz bytes, "
                       "%ui left", sink->type->name, slot->batch.n,
                       slot->batch.len, ss->events);

        sink->last_take = now;
        sink->held += slot->batch.n;

        slot->busy = 1;
        slot->attempts = 0;
        slot->sink = sink;

        ngx_http_statsig_flush_send(f, slot);
    }
}


/*
 * The sink's rate (requests a second, statsig_sink rate=): a bucket of a
 * second's worth, in thousandths of a request, taken one request at a
 * time.  A request that finds it empty waits for the next run (the tick,
 * or an answer).
 */

static ngx_uint_t
ngx_http_statsig_flush_token(ngx_http_statsig_sink_t *sink, ngx_msec_t now)
{
    ngx_msec_t  elapsed;

    if (sink->rate == 0) {
        return 1;
    }

    elapsed = now - sink->refilled;
    sink->refilled = now;

    if (elapsed >= 1000) {
        sink->tokens = 1000 * sink->rate;

    } else {
        sink->tokens = ngx_min(sink->tokens + elapsed * sink->rate,
                               1000 * sink->rate);
    }

    if (sink->tokens < 1000) {
        return 0;
    }

    sink->tokens -= 1000;

    return 1;
}


static void
ngx_http_statsig_flush_send(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_slot_batch_t *slot)
{
    u_char                           *err;
    ngx_int_t                         rc;
    ngx_pool_t                       *pool;
    ngx_array_t                       headers;
    ngx_slab_pool_t                  *shpool;
    ngx_http_statsig_sink_t          *sink;
    ngx_http_statsig_sink_sh_t       *ss;
    ngx_http_statsig_pack_hdr_t       h;
    ngx_http_statsig_sink_type_t     *t;
    ngx_http_statsig_http_request_t   rq;

    sink = slot->sink;
    t = sink->type;

    if (slot->attempts) {
        ss = &ngx_http_statsig_events_sh()->sinks[sink->index];
        shpool = ngx_http_statsig_events_shpool();

        ngx_shmtx_lock(&shpool->mutex);
        ss->retried += slot->batch.n;
        ngx_shmtx_unlock(&shpool->mutex);
    }

    pool = ngx_create_pool(1024, f->log);
    if (pool == NULL) {
        goto failed;
    }

    if (ngx_array_init(&headers, pool, 12, sizeof(ngx_str_t)) != NGX_OK
        || t->headers(sink, slot->batch.n, slot->attempts, &headers, pool)
           != NGX_OK)
    {
        goto failed;
    }

    ngx_memzero(&rq, sizeof(ngx_http_statsig_http_request_t));

    rq.method = "POST";
    rq.url = sink->url;
    rq.headers = headers.elts;
    rq.nheaders = headers.nelts;
    rq.timeout = f->smcf->upstream_timeout;
    rq.max_body = NGX_HTTP_STATSIG_MAX_RESPONSE;
    rq.done = ngx_http_statsig_flush_done;
    rq.data = slot;

    if (t->plain) {
        ngx_memcpy(&h, slot->batch.data, NGX_HTTP_STATSIG_REC_HDR);

        err = NULL;

        if (sink->batch_url.len && !(h.flags & NGX_HTTP_STATSIG_REC_ALONE))
        {
            rc = ngx_http_statsig_flush_items(f, slot, &rq);

        } else {
            rc = ngx_http_statsig_flush_event(f, slot, &rq, pool, &err);
        }

        if (rc != NGX_OK && (rc == NGX_DECLINED || err)) {
            ngx_destroy_pool(pool);

            /* not for this sink, or never acceptable: no request */
            ngx_http_statsig_flush_result(slot, (rc == NGX_DECLINED)
                                                ? NGX_HTTP_STATSIG_IGNORE
                                                : NGX_HTTP_STATSIG_REJECT,
                                          0, 0, err, 0);
            return;
        }

        if (rc != NGX_OK) {
            goto failed;
        }

    } else {
        if (ngx_http_statsig_flush_gzip(f, sink, &slot->batch) != NGX_OK) {
            goto failed;
        }

        rq.body.data = f->gz.data;
        rq.body.len = f->gz.len;
    }

    /* the client copies the URL, headers and body */
    slot->req = ngx_http_statsig_http_start(&rq);

    ngx_destroy_pool(pool);
    pool = NULL;

    if (slot->req == NULL) {
        goto failed;
    }

    sink->in_flight++;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "statsig flush: \"%s\" posts %ui events in %uz bytes, "
                   "attempt %ui", t->name, slot->batch.n, rq.body.len,
                   slot->attempts + 1);

    return;

failed:

    if (pool) {
        ngx_destroy_pool(pool);
    }

    ngx_http_statsig_flush_result(slot, NGX_HTTP_STATSIG_RETRY, 0, 0,
                                  (u_char *) "could not start a request", 0);
}


/*
 * A plain sink's event posted alone: the batch is its one record, given
 * to the sink's format.  NGX_DECLINED: not for this sink; NGX_ERROR: *err
 * says why it can never be sent, or, NULL, no memory.
 */

static ngx_int_t
ngx_http_statsig_flush_event(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_slot_batch_t *slot, ngx_http_statsig_http_request_t *rq,
    ngx_pool_t *pool, u_char **err)
{
    ngx_int_t                     rc;
    ngx_str_t                     path, body;
    ngx_http_statsig_sink_t      *sink;
    ngx_http_statsig_batch_t     *batch;
    ngx_http_statsig_pack_hdr_t   h;

    *err = NULL;
    batch = &slot->batch;
    sink = slot->sink;

    ngx_memcpy(&h, batch->data, NGX_HTTP_STATSIG_REC_HDR);

    if (batch->len != NGX_HTTP_STATSIG_REC_HDR + h.len || h.n != 1) {
        *err = (u_char *) "a batch of several events for a sink that posts "
                          "one a request";
        return NGX_ERROR;
    }

    rc = sink->type->format(sink, batch->data + NGX_HTTP_STATSIG_REC_HDR,
                            h.len, &path, &body, err);

    if (rc != NGX_OK) {
        return rc;
    }

    rq->url.len = sink->url.len + path.len;
    rq->url.data = ngx_pnalloc(pool, rq->url.len);
    if (rq->url.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(rq->url.data, sink->url.data, sink->url.len),
               path.data, path.len);

    rq->body = body;

    return NGX_OK;
}


/*
 * A plain sink's batch as one body of items (Customer.io's Track v2
 * batch), sorted first, at every attempt: an event not for the sink is
 * counted ignored; one never acceptable, rejected; one to be posted
 * alone goes back to the head of the ring flagged so, and what the body
 * has no room for goes back as it is.  The batch keeps the events the
 * body holds, in their order (a 207's batch_index counts them), so that a
 * retry sends the same body.  NGX_DECLINED: no event left to send;
 * NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_http_statsig_flush_items(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_slot_batch_t *slot, ngx_http_statsig_http_request_t *rq)
{
    u_char                       *p, *last, *keep, *err, *why;
    size_t                        need, mark, max;
    ngx_int_t                     rc;
    ngx_str_t                     prefix, suffix;
    ngx_uint_t                    kept, ignored, rejected, nback;
    statsig_buf_t                *body;
    ngx_slab_pool_t              *shpool;
    ngx_http_statsig_sink_t      *sink;
    ngx_http_statsig_batch_t     *batch;
    ngx_http_statsig_sink_sh_t   *ss;
    ngx_http_statsig_pack_hdr_t   h;

    sink = slot->sink;
    batch = &slot->batch;
    body = &f->items;

    sink->type->envelope(sink, &prefix, &suffix);

    body->len = 0;
    body->failed = 0;
    statsig_buf_add(body, prefix.data, prefix.len);

    max = sink->type->max_body - suffix.len;
    f->back.len = 0;
    keep = batch->data;
    kept = 0;
    ignored = 0;
    rejected = 0;
    nback = 0;
    why = NULL;

    last = batch->data + batch->len;

    for (p = batch->data; p < last; p += need) {
        ngx_memcpy(&h, p, NGX_HTTP_STATSIG_REC_HDR);
        need = NGX_HTTP_STATSIG_REC_HDR + h.len;
        mark = body->len;
        err = NULL;

        if (kept) {
            statsig_buf_addc(body, ',');
        }

        rc = sink->type->item(sink, p + NGX_HTTP_STATSIG_REC_HDR, h.len, body,
                              &err);

        if (body->failed || (rc == NGX_ERROR && err == NULL)) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK && body->len <= max) {
            ngx_memmove(keep, p, need);
            keep += need;
            kept++;
            continue;
        }

        body->len = mark;

        if (rc == NGX_OK && kept) {
            /* no room: this one and the rest, for the next request */
            if (ngx_http_statsig_wbuf_add(&f->back, p, last - p, f->log)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            for (/* void */; p < last; p += need) {
                ngx_memcpy(&h, p, NGX_HTTP_STATSIG_REC_HDR);
                need = NGX_HTTP_STATSIG_REC_HDR + h.len;
                nback += h.n;
            }

            break;
        }

        switch (rc) {

        case NGX_AGAIN:
            h.flags |= NGX_HTTP_STATSIG_REC_ALONE;

            if (ngx_http_statsig_wbuf_add(&f->back, &h,
                                          NGX_HTTP_STATSIG_REC_HDR, f->log)
                   != NGX_OK
                || ngx_http_statsig_wbuf_add(&f->back,
                                             p + NGX_HTTP_STATSIG_REC_HDR,
                                             h.len, f->log)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            nback++;
            break;

        case NGX_DECLINED:
            ignored++;
            break;

        default:
            /* never acceptable, or alone larger than a body */
            rejected++;
            why = (rc == NGX_OK) ? (u_char *) "larger than a request" : err;
            break;
        }
    }

    batch->len = keep - batch->data;
    batch->n = kept;

    if (ignored || rejected || nback) {
        ss = &ngx_http_statsig_events_sh()->sinks[sink->index];
        shpool = ngx_http_statsig_events_shpool();

        ngx_shmtx_lock(&shpool->mutex);

        ss->ignored += ignored;
        ss->dropped_rejected += rejected;
        ss->in_flight -= ngx_min(ss->in_flight, ignored + rejected + nback);

        if (nback) {
            (void) ngx_http_statsig_ring_return_locked(ss, f->back.data,
                                                       f->back.len, nback);
        }

        if (rejected) {
            ss->failures++;
            ss->last_error = ngx_time();
            ngx_cpystrn(ss->error, why, NGX_HTTP_STATSIG_ERRLEN);
        }

        ngx_shmtx_unlock(&shpool->mutex);

        sink->held -= ngx_min(sink->held, ignored + rejected + nback);

        if (rejected) {
            ngx_log_error(NGX_LOG_ERR, f->log, 0,
                          "statsig: events sink \"%s\" cannot take %ui "
                          "events: %s; not retryable, dropped",
                          sink->type->name, rejected, why);
        }

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, f->log, 0,
                       "statsig flush: \"%s\" batch: %ui events, %ui "
                       "ignored, %ui back to the queue", sink->type->name,
                       kept, ignored, nback);
    }

    if (kept == 0) {
        return NGX_DECLINED;
    }

    statsig_buf_add(body, suffix.data, suffix.len);

    if (body->failed) {
        return NGX_ERROR;
    }

    rq->url = sink->batch_url;
    rq->body.data = (u_char *) body->data;
    rq->body.len = body->len;

    return NGX_OK;
}


static void
ngx_http_statsig_flush_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_slot_batch_t *slot = data;

    u_char                        *p, *err, reason[NGX_HTTP_STATSIG_ERRLEN];
    u_char                         why[NGX_HTTP_STATSIG_ERRLEN];
    size_t                         n;
    ngx_int_t                      secs;
    ngx_str_t                      v;
    ngx_uint_t                     status, outcome, refused;
    ngx_msec_t                     retry_after;
    ngx_http_statsig_sink_t       *sink;
    ngx_http_statsig_flusher_t    *f;
    ngx_http_statsig_sink_type_t  *t;

    f = &ngx_http_statsig_flusher;
    sink = slot->sink;
    t = sink->type;

    slot->req = NULL;
    sink->in_flight--;

    status = res->error ? 0 : res->status;
    retry_after = 0;

    refused = 0;
    why[0] = '\0';

    if (status >= 200 && status < 300) {
        outcome = (t->accepted == NULL
                   || t->accepted(sink, res, slot->batch.n, &refused, why,
                                  sizeof(why))
                      == NGX_OK)
                  ? NGX_HTTP_STATSIG_SENT : NGX_HTTP_STATSIG_RETRY;

    } else if (status == t->too_large && slot->batch.n > 1) {
        outcome = NGX_HTTP_STATSIG_SPLIT;

    } else if (ngx_http_statsig_flush_retryable(t, status)) {
        outcome = NGX_HTTP_STATSIG_RETRY;

    } else {
        outcome = NGX_HTTP_STATSIG_REJECT;
    }

    if (ngx_http_statsig_http_header(res, "Retry-After", &v) == NGX_OK) {
        secs = ngx_atoi(v.data, v.len);
        if (secs > 0) {
            retry_after = (ngx_msec_t) ngx_min(secs, 3600) * 1000;
        }
    }

    if (res->error) {
        p = ngx_snprintf(reason, sizeof(reason) - 1, "%s", res->error);

    } else if (refused) {
        p = ngx_snprintf(reason, sizeof(reason) - 1, "HTTP %ui: %s",
                         status, why);

    } else {
        /* the sink's answer, on one line and short */
        n = ngx_min(res->body.len, 160);
        p = ngx_snprintf(reason, sizeof(reason) - 1, "HTTP %ui%s%*s",
                         status, n ? ": " : "", n, res->body.data);
    }

    *p = '\0';

    for (p = reason; *p; p++) {
        if (*p < ' ' || *p == 0x7f) {
            *p = ' ';
        }
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "statsig flush: \"%s\" answered %ui after %M ms, "
                   "outcome %ui, retry after %M ms", t->name, status,
                   res->elapsed, outcome, retry_after);

    if (outcome == NGX_HTTP_STATSIG_SPLIT
        && ngx_http_statsig_flush_split(f, slot, &err) == NGX_ERROR)
    {
        ngx_log_error(NGX_LOG_ERR, f->log, 0,
                      "statsig: events sink \"%s\": cannot split a batch "
                      "refused as too large: %s", t->name, err);

        outcome = NGX_HTTP_STATSIG_REJECT;
    }

    ngx_http_statsig_flush_result(slot, outcome, status, retry_after, reason,
                                  refused);

    if (!f->post.posted) {
        ngx_post_event(&f->post, &ngx_posted_events);
    }
}


static ngx_uint_t
ngx_http_statsig_flush_retryable(ngx_http_statsig_sink_type_t *t,
    ngx_uint_t status)
{
    ngx_http_statsig_range_t  *r;

    for (r = t->retry; r->to; r++) {
        if (status >= r->from && status <= r->to) {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_statsig_flush_result(ngx_http_statsig_slot_batch_t *slot,
    ngx_uint_t outcome, ngx_uint_t status, ngx_msec_t retry_after,
    u_char *reason, ngx_uint_t refused)
{
    ngx_uint_t                     n, release, report;
    ngx_msec_t                     backoff;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_sink_t       *sink;
    ngx_http_statsig_flusher_t    *f;
    ngx_http_statsig_sink_sh_t    *ss;
    ngx_http_statsig_sink_type_t  *t;

    f = &ngx_http_statsig_flusher;
    sink = slot->sink;
    t = sink->type;
    n = slot->batch.n;
    ss = &ngx_http_statsig_events_sh()->sinks[sink->index];
    shpool = ngx_http_statsig_events_shpool();

    release = 1;

    if (outcome == NGX_HTTP_STATSIG_RETRY) {
        slot->attempts++;
    }

    ngx_shmtx_lock(&shpool->mutex);

    if (outcome != NGX_HTTP_STATSIG_IGNORE) {
        ss->requests++;
        ss->last_status = status;
    }

    switch (outcome) {

    case NGX_HTTP_STATSIG_IGNORE:
        ss->ignored += n;
        ss->in_flight -= ngx_min(ss->in_flight, n);
        break;

    case NGX_HTTP_STATSIG_SENT:
        /* a batch's items the sink named as invalid: dropped */
        refused = ngx_min(refused, n);
        ss->sent += n - refused;
        ss->dropped_rejected += refused;
        ss->in_flight -= ngx_min(ss->in_flight, n);
        ss->last_success = ngx_time();

        if (refused) {
            ss->last_error = ngx_time();
            ngx_cpystrn(ss->error, reason, NGX_HTTP_STATSIG_ERRLEN);
        }

        break;

    case NGX_HTTP_STATSIG_SPLIT:
        ss->failures++;
        (void) ngx_http_statsig_ring_requeue_locked(ss, &slot->batch);
        break;

    case NGX_HTTP_STATSIG_RETRY:
        ss->failures++;
        ss->last_error = ngx_time();
        ngx_cpystrn(ss->error, reason, NGX_HTTP_STATSIG_ERRLEN);

        if (f->exiting) {
            (void) ngx_http_statsig_ring_requeue_locked(ss, &slot->batch);

        } else if (slot->attempts >= t->max_attempts) {
            ss->dropped_expired += n;
            ss->in_flight -= ngx_min(ss->in_flight, n);

        } else {
            release = 0;
        }

        break;

    default: /* NGX_HTTP_STATSIG_REJECT */
        ss->failures++;
        ss->last_error = ngx_time();
        ngx_cpystrn(ss->error, reason, NGX_HTTP_STATSIG_ERRLEN);
        ss->dropped_rejected += n;
        ss->in_flight -= ngx_min(ss->in_flight, n);
        break;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    /* the one rule for repeated errors, but every drop is logged */
    report = (outcome == NGX_HTTP_STATSIG_IGNORE)
             ? NGX_HTTP_STATSIG_REPORT_NONE
             : ngx_http_statsig_report(&sink->report,
                                       (outcome == NGX_HTTP_STATSIG_SENT)
                                       ? NULL : reason, ngx_time());

    switch (outcome) {

    case NGX_HTTP_STATSIG_IGNORE:
        break;

    case NGX_HTTP_STATSIG_SENT:
        if (refused) {
            ngx_log_error(NGX_LOG_ERR, f->log, 0,
                          "statsig: events sink \"%s\" refused %ui of %ui "
                          "events: %s; not retryable, dropped", t->name,
                          refused, n, reason);
        }

        if (report == NGX_HTTP_STATSIG_REPORT_RECOVERED) {
            ngx_log_error(NGX_LOG_NOTICE, f->log, 0,
                          "statsig: events sink \"%s\" is accepting events "
                          "again", t->name);
        }

        sink->backoff = 0;
        sink->limit = ngx_min(sink->batch, sink->limit * 2);
        break;

    case NGX_HTTP_STATSIG_SPLIT:
        sink->limit = ngx_max(n / 2, 1);

        ngx_log_error(NGX_LOG_WARN, f->log, 0,
                      "statsig: events sink \"%s\" refused %ui events as "
                      "too large (%s); sending at most %ui per request",
                      t->name, n, reason, sink->limit);
        break;

    case NGX_HTTP_STATSIG_RETRY:
        /* the sink's own wish may be longer than the probe interval */
        retry_after = ngx_min(retry_after, NGX_HTTP_STATSIG_RETRY_AFTER_MAX);

        if (sink->backoff
            && (ngx_msec_int_t) (ngx_current_msec - sink->retry_at) < 0)
        {
            /*
             * A request that was in flight with the one that began this
             * wait: the same failure, not one more attempt (16 requests
             * timing out together would double the wait 16 times)
             */
            backoff = sink->backoff;

            if ((ngx_msec_int_t) (ngx_current_msec + retry_after
                                  - sink->retry_at) > 0)
            {
                sink->retry_at = ngx_current_msec + retry_after;
            }

        } else {
            backoff = sink->backoff
                      ? ngx_min(sink->backoff * 2, t->backoff_max)
                      : t->backoff_base;
            backoff = ngx_max(backoff, retry_after);

            sink->backoff = backoff;
            sink->retry_at = ngx_current_msec + backoff
                             + ngx_random() % (backoff / 8 + 1);
        }

        if (report == NGX_HTTP_STATSIG_REPORT_FAILED
            || (release && !f->exiting))
        {
            ngx_log_error(NGX_LOG_ERR, f->log, 0,
                          "statsig: events sink \"%s\" failed: %s; %ui "
                          "events %s, next attempt in %M ms", t->name,
                          reason, n,
                          f->exiting ? "returned to the queue"
                          : (release ? "dropped after too many attempts"
                                     : "kept"),
                          backoff);
        }

        break;

    default:
        if (report == NGX_HTTP_STATSIG_REPORT_FAILED) {
            ngx_log_error(NGX_LOG_ERR, f->log, 0,
                          "statsig: events sink \"%s\" refused %ui events: "
                          "%s; not retryable, dropped", t->name, n, reason);
        }

        break;
    }

    /* the workers' packs hold no more events than a request may carry */
    ss->limit = sink->limit;

    if (release) {
        slot->busy = 0;
        sink->held -= ngx_min(sink->held, n);
    }
}


/*
 * The body: a gzip member laid out from the batch's packs as they are, the
 * envelope and the commas between packs as literal blocks; the CRC-32 is
 * combined from the pieces' (statsig_gzip_packs()).
 */

static ngx_int_t
ngx_http_statsig_flush_gzip(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_sink_t *sink, ngx_http_statsig_batch_t *batch)
{
    u_char                         *p, *last;
    size_t                          n, len, size;
    ngx_str_t                       prefix, suffix;
    statsig_gzip_t                  g;
    ngx_http_statsig_pack_hdr_t     h;
    ngx_http_statsig_flush_walk_t   walk;

    sink->type->envelope(sink, &prefix, &suffix);

    /* the packs: how many and how long, none past the end */
    n = 0;
    len = 0;
    last = batch->data + batch->len;

    for (p = batch->data; p + NGX_HTTP_STATSIG_REC_HDR <= last; p += h.len) {
        ngx_memcpy(&h, p, NGX_HTTP_STATSIG_REC_HDR);
        p += NGX_HTTP_STATSIG_REC_HDR;

        if ((size_t) (last - p) < h.len) {
            ngx_log_error(NGX_LOG_ALERT, f->log, 0,
                          "statsig: a broken pack in the event queue");
            return NGX_ERROR;
        }

        n++;
        len += h.len;
    }

    g.prefix = prefix.data;
    g.prefix_len = prefix.len;
    g.joiner = ",";
    g.joiner_len = 1;
    g.suffix = suffix.data;
    g.suffix_len = suffix.len;
    g.next = ngx_http_statsig_flush_piece;
    g.data = &walk;

    walk.pos = batch->data;
    walk.last = last;

    size = statsig_gzip_packs_bound(&g, n, len);

    f->gz.len = 0;

    if (ngx_http_statsig_wbuf_reserve(&f->gz, size, f->log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* never 0: the packs just counted, into their bound */
    f->gz.len = statsig_gzip_packs(&g, f->gz.data, size);

    return f->gz.len ? NGX_OK : NGX_ERROR;
}


/* the batch's next pack for statsig_gzip_packs(), as checked above */

static int
ngx_http_statsig_flush_piece(void *data, statsig_gzip_piece_t *piece)
{
    ngx_http_statsig_flush_walk_t *walk = data;

    ngx_http_statsig_pack_hdr_t   h;

    if (walk->pos + NGX_HTTP_STATSIG_REC_HDR > walk->last) {
        return 0;
    }

    ngx_memcpy(&h, walk->pos, NGX_HTTP_STATSIG_REC_HDR);
    walk->pos += NGX_HTTP_STATSIG_REC_HDR;

    piece->data = walk->pos;
    piece->len = h.len;
    piece->crc = h.crc;
    piece->raw = h.raw;

    walk->pos += h.len;

    return 1;
}


/*
 * A batch refused as too large goes back into the ring (the caller
 * requeues it) to be taken again in fewer events.  A batch of one pack
 * cannot be: the pack is decoded and its events encoded again as two
 * packs, which go back in its place.  NGX_DECLINED: several packs, left
 * as they are.
 */

static ngx_int_t
ngx_http_statsig_flush_split(ngx_http_statsig_flusher_t *f,
    ngx_http_statsig_slot_batch_t *slot, u_char **err)
{
    int                           rc;
    u_char                       *p;
    ngx_uint_t                    i;
    statsig_pack_half_t          *half;
    ngx_http_statsig_batch_t     *batch;
    ngx_http_statsig_pack_hdr_t   h, out;

    batch = &slot->batch;

    ngx_memcpy(&h, batch->data, NGX_HTTP_STATSIG_REC_HDR);

    if (batch->len != NGX_HTTP_STATSIG_REC_HDR + h.len) {
        return NGX_DECLINED;
    }

    rc = statsig_pack_split(&f->split, batch->data + NGX_HTTP_STATSIG_REC_HDR,
                            h.len, h.n, h.raw, h.crc);

    if (rc != STATSIG_PACK_SPLIT_OK) {
        *err = (u_char *) statsig_pack_split_error(rc);
        return NGX_ERROR;
    }

    f->halves.len = 0;

    for (i = 0; i < 2; i++) {
        half = &f->split.half[i];

        out.len = (uint32_t) half->len;
        out.n = half->n;
        out.crc = half->crc;
        out.raw = half->raw_len;

        if (ngx_http_statsig_wbuf_add(&f->halves, &out,
                                      NGX_HTTP_STATSIG_REC_HDR, f->log)
               != NGX_OK
            || ngx_http_statsig_wbuf_add(&f->halves, (void *) half->data,
                                         half->len, f->log)
               != NGX_OK)
        {
            *err = (u_char *) "no memory to split the batch";
            return NGX_ERROR;
        }
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, f->log, 0,
                   "statsig flush: a pack of %uD events split in %uD + %uD, "
                   "%uz bytes", h.n, f->split.half[0].n, f->split.half[1].n,
                   f->halves.len);

    /* the halves may take more room than the pack did */

    if (f->halves.len > batch->cap) {
        p = ngx_alloc(f->halves.len, f->log);
        if (p == NULL) {
            *err = (u_char *) "no memory to split the batch";
            return NGX_ERROR;
        }

        ngx_free(batch->data);
        batch->data = p;
        batch->cap = f->halves.len;
    }

    ngx_memcpy(batch->data, f->halves.data, f->halves.len);
    batch->len = f->halves.len;

    return NGX_OK;
}


/* ---- shutdown ---- */


static void
ngx_http_statsig_watcher(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    if (!c->close) {
        return;
    }

    ngx_http_statsig_watcher_free();
    ngx_http_statsig_flush_exit_start();
}


static void
ngx_http_statsig_watcher_free(void)
{
    ngx_connection_t            *c, *saved;
    ngx_http_statsig_flusher_t  *f;

    f = &ngx_http_statsig_flusher;

    c = f->watcher;

    if (c == NULL) {
        return;
    }

    f->watcher = NULL;

    /* a valid fd for ngx_free_connection(), as the lua module does */
    c->fd = 0;
    saved = ngx_cycle->files ? ngx_cycle->files[0] : NULL;

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;

    if (ngx_cycle->files) {
        ngx_cycle->files[0] = saved;
    }
}


static void
ngx_http_statsig_flush_exit_start(void)
{
    ngx_uint_t                     i;
    ngx_msec_t                     now;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_sink_t       *sink;
    ngx_http_statsig_flusher_t    *f;
    ngx_http_statsig_events_sh_t  *es;

    f = &ngx_http_statsig_flusher;

    if (f->sinks == NULL || ngx_terminate) {
        return;
    }

    now = ngx_current_msec;

    if (f->exit_deadline == 0) {
        f->exit_deadline = (now + NGX_HTTP_STATSIG_EXIT_BUDGET) | 1;
    }

    if ((ngx_msec_int_t) (f->exit_deadline - now) <= 0) {
        return;
    }

    es = ngx_http_statsig_events_sh();
    shpool = ngx_http_statsig_events_shpool();

    /* what is queued now, this worker's last events included, is this
     * shutdown's to send */

    (void) ngx_http_statsig_events_close_packs();

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < f->nsinks; i++) {
        sink = &f->sinks[i];
        f->exit_mark[sink->index] = es->sinks[sink->index].tail;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (f->exiting) {
        return;
    }

    f->exiting = 1;

    ngx_add_timer(&f->guard, f->exit_deadline - now);

    if (!f->post.posted) {
        ngx_post_event(&f->post, &ngx_posted_events);
    }
}


static void
ngx_http_statsig_flush_exit_finish(void)
{
    ngx_http_statsig_flusher_t  *f;

    f = &ngx_http_statsig_flusher;

    f->exiting = 0;

    if (f->guard.timer_set) {
        ngx_del_timer(&f->guard);
    }

    if (f->holder) {
        ngx_http_statsig_flush_release();
    }
}


/* gives the flush lease up, if this worker holds it */

static void
ngx_http_statsig_flush_release(void)
{
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_events_sh_t  *es;

    es = ngx_http_statsig_events_sh();
    shpool = ngx_http_statsig_events_shpool();

    ngx_shmtx_lock(&shpool->mutex);
    ngx_http_statsig_lease_drop_locked(&es->flush_lease);
    ngx_shmtx_unlock(&shpool->mutex);

    ngx_http_statsig_flusher.holder = 0;
}


static void
ngx_http_statsig_flush_guard(ngx_event_t *ev)
{
    ngx_uint_t                   back, lost;
    ngx_http_statsig_flusher_t  *f;

    f = &ngx_http_statsig_flusher;

    back = ngx_http_statsig_flush_abort(&lost);

    ngx_log_error(NGX_LOG_WARN, f->log, 0,
                  "statsig: the shutdown flush ran out of time after %M ms: "
                  "%ui events went back to the queue, %ui were lost",
                  (ngx_msec_t) NGX_HTTP_STATSIG_EXIT_BUDGET, back, lost);

    ngx_http_statsig_flush_exit_finish();
}


/* cancels every request and puts every batch held back into its ring */

static ngx_uint_t
ngx_http_statsig_flush_abort(ngx_uint_t *lost)
{
    ngx_uint_t                      i, j, back;
    ngx_slab_pool_t                *shpool;
    ngx_http_statsig_sink_t        *sink;
    ngx_http_statsig_flusher_t     *f;
    ngx_http_statsig_sink_sh_t     *ss;
    ngx_http_statsig_slot_batch_t  *slot;

    f = &ngx_http_statsig_flusher;
    shpool = ngx_http_statsig_events_shpool();

    back = 0;
    *lost = 0;

    for (i = 0; i < f->nsinks; i++) {
        sink = &f->sinks[i];
        ss = &ngx_http_statsig_events_sh()->sinks[sink->index];

        for (j = 0; j < NGX_HTTP_STATSIG_MAX_INFLIGHT; j++) {
            slot = &sink->slots[j];

            if (!slot->busy) {
                continue;
            }

            if (slot->req) {
                ngx_http_statsig_http_cancel(slot->req);
                slot->req = NULL;
                sink->in_flight--;
            }

            ngx_shmtx_lock(&shpool->mutex);

            if (ngx_http_statsig_ring_requeue_locked(ss, &slot->batch)) {
                back += slot->batch.n;

            } else {
                *lost += slot->batch.n;
            }

            ngx_shmtx_unlock(&shpool->mutex);

            slot->busy = 0;
            sink->held -= ngx_min(sink->held, slot->batch.n);
        }
    }

    return back;
}
