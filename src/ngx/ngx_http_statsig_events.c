
/*
 * ngx_http_statsig_module: the event queue and exposure dedupe in the
 * shared zone.
 *
 * Each sink has a byte ring carved from the zone once (init_zone, in the
 * master; kept across reloads): records are packs, [pack header][deflate
 * bytes of events joined by ","], written at "tail" and taken at "head"
 * (both count bytes ever, so "tail - head" is what is in use), split in
 * two copies where the ring wraps.  A worker encodes its events into an
 * open pack per sink as they come (a few bytes each once encoded: the
 * ring holds ~30 times more events than as JSON) and puts the pack into
 * the ring when it holds a request's worth of events or at the next
 * flush tick; when a ring is full the pack's events are dropped and
 * counted.  A worker that crashes loses its open packs (at most one
 * tick's events).
 *
 * Dedupe: statsig-node's key of an exposure (user ids, event, metadata
 * values but times and reason) hashed to 64 bits, in a 16-way table of
 * fixed size in the zone, with the time it was last logged; an identical
 * exposure within statsig_exposure_dedupe is not logged again.  When a
 * bucket is full the oldest entry gives way (counted): a duplicate may
 * then be logged, which costs volume, never correctness.
 */


#include "ngx_http_statsig_events.h"


/* changes with the layout: a reload into a new build starts afresh */
#define NGX_HTTP_STATSIG_EVENTS_MAGIC  0x5354455641L   /* "STEVA" */

/*
 * 16-way buckets (four cache lines, 256 bytes): users who keep coming
 * back while the table is full of other live keys evict each other only
 * where more than 16 of them share a bucket, and then, as the oldest goes
 * first, on every round of their visits.  With 8 ways, 10,000 users x 3
 * gates in a 64 MB zone (131,072 entries) had 2 or 3 buckets of 9 keys:
 * 76 to 407 exposures logged again in a few seconds; with 4 ways, 38,398
 * exposures instead of 30,000.
 */
#define NGX_HTTP_STATSIG_DEDUPE_WAYS   16
/* bytes of a bucket */
#define NGX_HTTP_STATSIG_DEDUPE_BUCKET                                        \
    (NGX_HTTP_STATSIG_DEDUPE_WAYS * sizeof(ngx_http_statsig_dedupe_t))


typedef struct {
    ngx_http_statsig_events_sh_t  *sh;
    ngx_slab_pool_t               *shpool;
    ngx_uint_t                     kinds;      /* taken by a live sink */
    ngx_msec_t                     window;
    /* es->dedupe and its mask, read here: the zone's line is busy */
    ngx_http_statsig_dedupe_t     *dedupe;    /* NULL: no dedupe */
    ngx_uint_t                     dedupe_mask;
    ngx_uint_t                     nsinks;
    ngx_http_statsig_sink_t        sinks[NGX_HTTP_STATSIG_MAX_SINKS];
    statsig_buf_t                  key;

    /* exposures found deduped without the lock, not yet in the zone */
    ngx_uint_t                     deduped;

    /* events of this event loop iteration, pushed in one go */
    ngx_http_statsig_wbuf_t        pending;    /* [pending hdr][record]... */
    ngx_event_t                    post;
} ngx_http_statsig_events_t;


/* a record waiting in ev->pending */
typedef struct {
    ngx_http_statsig_dedupe_key_t  key;        /* hash 0: no dedupe */
    uint32_t                       len;
    uint32_t                       kind;
} ngx_http_statsig_pending_t;


/* pushed at once past this many bytes */
#define NGX_HTTP_STATSIG_PENDING_MAX   (256 * 1024)


static void ngx_http_statsig_events_skip(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_events_sh_t *es, ngx_uint_t kind);
static void ngx_http_statsig_events_map(void *p, size_t size, ngx_log_t *log);
static ngx_uint_t ngx_http_statsig_sink_on(ngx_http_statsig_sink_type_t *t,
    ngx_http_statsig_main_conf_t *smcf);
static ngx_uint_t ngx_http_statsig_dedupe_locked(
    ngx_http_statsig_events_t *ev, ngx_http_statsig_dedupe_key_t *key,
    ngx_msec_t now);
static void ngx_http_statsig_events_posted(ngx_event_t *ev);
static void ngx_http_statsig_events_push_pending(void);
static void ngx_http_statsig_events_packed(ngx_http_statsig_events_t *ev,
    ngx_uint_t full);
static ngx_uint_t ngx_http_statsig_events_accept(
    ngx_http_statsig_events_t *ev, ngx_http_statsig_dedupe_key_t *key);
static void ngx_http_statsig_events_pack(ngx_http_statsig_events_t *ev,
    ngx_uint_t kind, u_char *data, size_t len, ngx_uint_t *full);
static ngx_inline ngx_uint_t ngx_http_statsig_pack_limit(
    ngx_http_statsig_sink_t *sink, ngx_http_statsig_sink_sh_t *ss);
static void ngx_http_statsig_events_close(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_sink_t *sink, ngx_uint_t *full);
static void ngx_http_statsig_ring_in(ngx_http_statsig_sink_sh_t *ss,
    uint64_t pos, void *data, size_t len);
static void ngx_http_statsig_ring_out(ngx_http_statsig_sink_sh_t *ss,
    uint64_t pos, void *dst, size_t len);
static u_char *ngx_http_statsig_events_json(u_char *p,
    ngx_http_statsig_events_sh_t *es, ngx_http_statsig_events_t *ev);
static u_char *ngx_http_statsig_events_prom(u_char *p,
    ngx_http_statsig_events_sh_t *es, ngx_http_statsig_events_t *ev,
    ngx_str_t *zone);


/* the sinks, by their slot in the zone: append only */
static ngx_http_statsig_sink_type_t  *ngx_http_statsig_sink_types[] = {
    &ngx_http_statsig_sink_statsig,
    NULL
};


static ngx_http_statsig_events_t  ngx_http_statsig_events;
static ngx_connection_t           ngx_http_statsig_events_conn;


/* ---- the zone (master: init_zone, also on reload) ---- */


ngx_int_t
ngx_http_statsig_events_init_zone(ngx_shm_zone_t *shm_zone)
{
    size_t                         qsize, n;
    ngx_uint_t                     i, buckets;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_sink_sh_t    *ss;
    ngx_http_statsig_events_sh_t  *es;
    ngx_http_statsig_main_conf_t  *smcf;

    ctx = shm_zone->data;
    smcf = ctx->smcf;
    shpool = ctx->shpool;

    qsize = (smcf->event_queue != NGX_CONF_UNSET_SIZE)
            ? smcf->event_queue : shm_zone->shm.size / 4;
    qsize = ngx_max(qsize, 4096);

    ngx_shmtx_lock(&shpool->mutex);

    es = ctx->sh->events;

    if (es == NULL || es->magic != NGX_HTTP_STATSIG_EVENTS_MAGIC) {
        es = ngx_slab_calloc_locked(shpool,
                                    sizeof(ngx_http_statsig_events_sh_t));
        if (es == NULL) {
            goto nomem;
        }

        es->magic = NGX_HTTP_STATSIG_EVENTS_MAGIC;
        ctx->sh->events = es;
    }

    if (es->dedupe == NULL && smcf->exposure_dedupe) {
        /* about 1/32 of the zone, a power of two of 16-way buckets */
        n = shm_zone->shm.size / 32 / NGX_HTTP_STATSIG_DEDUPE_BUCKET;

        for (buckets = 16; buckets * 2 <= n; buckets *= 2) {
            /* void */
        }

        es->dedupe = ngx_slab_calloc_locked(shpool,
                                 buckets * NGX_HTTP_STATSIG_DEDUPE_BUCKET);
        if (es->dedupe == NULL) {
            goto nomem;
        }

        es->dedupe_mask = buckets - 1;
    }

    for (i = 0; ngx_http_statsig_sink_types[i]; i++) {
        ss = &es->sinks[i];

        if (!ngx_http_statsig_sink_on(ngx_http_statsig_sink_types[i], smcf)) {
            continue;
        }

        if (ss->ring) {
            if (ss->size != qsize) {
                ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                              "statsig: the event queue of sink \"%s\" "
                              "keeps its size %uz until the zone is "
                              "recreated", ngx_http_statsig_sink_types[i]
                                           ->name, ss->size);
            }

            continue;
        }

        ss->ring = ngx_slab_alloc_locked(shpool, qsize);
        if (ss->ring == NULL) {
            goto nomem;
        }

        ss->size = qsize;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;

nomem:

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                  "statsig zone \"%V\" is too small for an event queue of "
                  "%uz bytes and the dedupe table", &shm_zone->shm.name,
                  qsize);

    return NGX_ERROR;
}


static ngx_uint_t
ngx_http_statsig_sink_on(ngx_http_statsig_sink_type_t *t,
    ngx_http_statsig_main_conf_t *smcf)
{
    ngx_http_statsig_sink_t  sink;

    ngx_memzero(&sink, sizeof(ngx_http_statsig_sink_t));
    sink.type = t;
    sink.smcf = smcf;

    return t->init(&sink, smcf) == NGX_OK;
}


/* ---- per worker ---- */


/*
 * Maps a ring or the dedupe table into this worker's page tables at once.
 * A worker's first touch of each page of shared memory faults (fork does
 * not copy the page tables of shared mappings), and these are written end
 * to end, under the zone lock for the rings: without this, a page fault
 * every 4 KB of events for the first pass through the ring (~1% of a
 * request's cost in the bench).
 */

static void
ngx_http_statsig_events_map(void *p, size_t size, ngx_log_t *log)
{
#if (NGX_LINUX)
    u_char  *start, *end;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE  23         /* Linux 5.14 */
#endif

    start = (u_char *) ((uintptr_t) p & ~((uintptr_t) ngx_pagesize - 1));
    end = (u_char *) p + size;

    if (madvise(start, end - start, MADV_POPULATE_WRITE) == 0) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_CORE, log, ngx_errno,
                   "statsig: madvise(MADV_POPULATE_WRITE) failed, %uz "
                   "bytes touched instead", size);

    /* older kernels: a read of each page maps it (shared memory) */
    for (/* void */; start < end; start += ngx_pagesize) {
        (void) *(volatile u_char *) start;
    }
#endif
}


ngx_int_t
ngx_http_statsig_events_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_statsig_sink_t       *sink;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_events_t     *ev;
    ngx_http_statsig_sink_type_t  *t;
    ngx_http_statsig_main_conf_t  *smcf;

    ev = &ngx_http_statsig_events;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    if (smcf == NULL || smcf->shm_zone == NULL) {
        return NGX_OK;
    }

    ctx = smcf->shm_zone->data;

    ngx_memzero(ev, sizeof(ngx_http_statsig_events_t));

    ev->sh = ctx->sh->events;
    ev->shpool = ctx->shpool;
    ev->window = smcf->exposure_dedupe;

    if (ev->window && ev->sh->dedupe) {
        ev->dedupe = ev->sh->dedupe;
        ev->dedupe_mask = ev->sh->dedupe_mask;

        ngx_http_statsig_events_map(ev->dedupe,
                                    (ev->dedupe_mask + 1)
                                    * NGX_HTTP_STATSIG_DEDUPE_BUCKET,
                                    cycle->log);
    }

    statsig_buf_init(&ev->key);

    /* debug logging of events may read ((ngx_connection_t *) data)->fd */
    ngx_http_statsig_events_conn.fd = (ngx_socket_t) -1;

    ev->post.handler = ngx_http_statsig_events_posted;
    ev->post.data = &ngx_http_statsig_events_conn;
    ev->post.log = cycle->log;

    for (i = 0; ngx_http_statsig_sink_types[i]; i++) {
        t = ngx_http_statsig_sink_types[i];
        sink = &ev->sinks[ev->nsinks++];

        sink->type = t;
        sink->index = i;
        sink->smcf = smcf;
        statsig_pack_init(&sink->pack);
        sink->batch = ngx_min(smcf->flush_batch, t->max_batch);
        sink->limit = sink->batch;

        if (t->init(sink, smcf) != NGX_OK || ev->sh->sinks[i].ring == NULL) {
            continue;
        }

        ngx_http_statsig_events_map(ev->sh->sinks[i].ring,
                                    ev->sh->sinks[i].size, cycle->log);

        sink->enabled = 1;
        ev->kinds |= t->kinds;
    }

    return NGX_OK;
}


ngx_http_statsig_sink_t *
ngx_http_statsig_events_sinks(ngx_uint_t *n)
{
    *n = ngx_http_statsig_events.nsinks;

    return ngx_http_statsig_events.sinks;
}


ngx_uint_t
ngx_http_statsig_events_enabled(void)
{
    ngx_uint_t                  i, n;
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;
    n = 0;

    for (i = 0; i < ev->nsinks; i++) {
        n += ev->sinks[i].enabled;
    }

    return n;
}


void
ngx_http_statsig_events_exit_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;

    if (ev->sh == NULL) {
        return;
    }

    /* this iteration's events go to the rings, for whoever flushes next */
    if (ev->post.posted) {
        ngx_delete_posted_event(&ev->post);
    }

    ngx_http_statsig_events_push_pending();
    (void) ngx_http_statsig_events_close_packs();

    if (ev->deduped) {
        ngx_shmtx_lock(&ev->shpool->mutex);
        ngx_http_statsig_events_fold_locked();
        ngx_shmtx_unlock(&ev->shpool->mutex);
    }

    if (ev->pending.data) {
        ngx_free(ev->pending.data);
        ev->pending.data = NULL;
    }

    for (i = 0; i < ev->nsinks; i++) {
        statsig_pack_free(&ev->sinks[i].pack);
    }

    statsig_buf_free(&ev->key);
    ev->sh = NULL;
    ev->kinds = 0;
}


ngx_http_statsig_events_sh_t *
ngx_http_statsig_events_sh(void)
{
    return ngx_http_statsig_events.sh;
}


ngx_slab_pool_t *
ngx_http_statsig_events_shpool(void)
{
    return ngx_http_statsig_events.shpool;
}


/*
 * Where the exposure writer puts statsig-node's dedupe key, or NULL when
 * nothing dedupes (statsig_exposure_dedupe 0, no sink takes exposures).
 */

statsig_buf_t *
ngx_http_statsig_events_dedupe_key(void)
{
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;

    if (ev->sh == NULL || ev->dedupe == NULL
        || !(ev->kinds & NGX_HTTP_STATSIG_EV_EXPOSURE))
    {
        return NULL;
    }

    return &ev->key;
}


/* ---- the request path ---- */


/*
 * Whether some sink sends events of this kind: when none does (local
 * mode), callers may skip writing the record.  Counts it as skipped then.
 */

ngx_uint_t
ngx_http_statsig_events_wanted(ngx_uint_t kind)
{
    ngx_http_statsig_events_t     *ev;
    ngx_http_statsig_events_sh_t  *es;

    ev = &ngx_http_statsig_events;
    es = ev->sh;

    if (es == NULL) {
        return 0;
    }

    if (ev->kinds & kind) {
        return 1;
    }

    ngx_http_statsig_events_skip(ev, es, kind);

    return 0;
}


static void
ngx_http_statsig_events_skip(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_events_sh_t *es, ngx_uint_t kind)
{
    ngx_uint_t  i;

    for (i = 0; i < ev->nsinks; i++) {
        if (ev->sinks[i].type->kinds & kind) {
            (void) ngx_atomic_fetch_add(
                             &es->sinks[ev->sinks[i].index].skipped, 1);
        }
    }
}


/*
 * Queues one event (its JSON, valid during the call) for every sink that
 * takes its kind, with statsig-node's dedupe key (NULL: none).
 * NGX_DECLINED: no sink takes it (counted as skipped).  Never waits.
 */

ngx_int_t
ngx_http_statsig_events_push(ngx_log_t *log, ngx_uint_t kind,
    ngx_str_t *record)
{
    return ngx_http_statsig_events_queue(log, kind, record, NULL);
}


/*
 * The same with a dedupe key (NULL: no dedupe): the event waits
 * in this worker's list for the end of the event loop iteration (a
 * posted event), where all of the iteration's events take the lock
 * once.  The record is copied.  Dedupe and drops are counted then.
 */

ngx_int_t
ngx_http_statsig_events_queue(ngx_log_t *log, ngx_uint_t kind,
    ngx_str_t *record, ngx_http_statsig_dedupe_key_t *key)
{
    u_char                      *p;
    ngx_uint_t                   full;
    ngx_http_statsig_events_t   *ev;
    ngx_http_statsig_pending_t   h;

    ev = &ngx_http_statsig_events;

    if (ev->sh == NULL) {
        return NGX_DECLINED;
    }

    if (!(ev->kinds & kind)) {
        ngx_http_statsig_events_skip(ev, ev->sh, kind);
        return NGX_DECLINED;
    }

    if (record->len > NGX_HTTP_STATSIG_PENDING_MAX
        || ngx_http_statsig_wbuf_reserve(&ev->pending,
                                   sizeof(ngx_http_statsig_pending_t)
                                   + ngx_align(record->len, 8), log)
           != NGX_OK)
    {
        /* too big or no memory to wait in: packed now */
        full = 0;

        if (ngx_http_statsig_events_accept(ev, key)) {
            ngx_http_statsig_events_pack(ev, kind, record->data,
                                         record->len, &full);
        }

        ngx_http_statsig_events_packed(ev, full);

        return NGX_OK;
    }

    if (key) {
        h.key = *key;

    } else {
        h.key.hash = 0;
        h.key.bucket = 0;
    }

    h.len = (uint32_t) record->len;
    h.kind = (uint32_t) kind;

    p = ev->pending.data + ev->pending.len;
    p = ngx_cpymem(p, &h, sizeof(ngx_http_statsig_pending_t));
    ngx_memcpy(p, record->data, record->len);

    ev->pending.len += sizeof(ngx_http_statsig_pending_t)
                       + ngx_align(record->len, 8);

    if (ev->pending.len >= NGX_HTTP_STATSIG_PENDING_MAX) {
        if (ev->post.posted) {
            ngx_delete_posted_event(&ev->post);
        }

        ngx_http_statsig_events_push_pending();

    } else if (!ev->post.posted) {
        ngx_post_event(&ev->post, &ngx_posted_events);
    }

    return NGX_OK;
}


static void
ngx_http_statsig_events_posted(ngx_event_t *e)
{
    ngx_http_statsig_events_push_pending();
}


/*
 * The iteration's events: the dedupe under one lock (a duplicate's kind
 * becomes 0), then into the open packs without it.
 */

static void
ngx_http_statsig_events_push_pending(void)
{
    u_char                      *p, *last;
    ngx_uint_t                   full;
    ngx_msec_t                   now;
    ngx_http_statsig_pending_t  *h;
    ngx_http_statsig_events_t   *ev;

    ev = &ngx_http_statsig_events;

    if (ev->sh == NULL || ev->pending.len == 0) {
        return;
    }

    last = ev->pending.data + ev->pending.len;
    now = ngx_current_msec;
    full = 0;

    if (ev->dedupe) {
        ngx_shmtx_lock(&ev->shpool->mutex);

        ngx_http_statsig_events_fold_locked();

        for (p = ev->pending.data; p < last; /* void */) {
            h = (ngx_http_statsig_pending_t *) p;

            if (h->key.hash
                && ngx_http_statsig_dedupe_locked(ev, &h->key, now))
            {
                h->kind = 0;
            }

            p += sizeof(ngx_http_statsig_pending_t) + ngx_align(h->len, 8);
        }

        ngx_shmtx_unlock(&ev->shpool->mutex);
    }

    for (p = ev->pending.data; p < last; /* void */) {
        h = (ngx_http_statsig_pending_t *) p;
        p += sizeof(ngx_http_statsig_pending_t);

        if (h->kind) {
            ngx_http_statsig_events_pack(ev, h->kind, p, h->len, &full);
        }

        p += ngx_align(h->len, 8);
    }

    ev->pending.len = 0;

    ngx_http_statsig_events_packed(ev, full);
}


/*
 * After events went into the open packs: their count for the status (one
 * add a sink), the packs into the rings at shutdown (the shutdown flush
 * sends what was logged until the end), the flusher told.
 */

static void
ngx_http_statsig_events_packed(ngx_http_statsig_events_t *ev,
    ngx_uint_t full)
{
    ngx_uint_t                i;
    ngx_http_statsig_sink_t  *sink;

    for (i = 0; i < ev->nsinks; i++) {
        sink = &ev->sinks[i];

        if (sink->unpublished) {
            (void) ngx_atomic_fetch_add(&ev->sh->sinks[sink->index].buffered,
                                        sink->unpublished);
            sink->unpublished = 0;
        }
    }

    if (ngx_exiting) {
        full |= ngx_http_statsig_events_close_packs();
    }

    ngx_http_statsig_flush_notify(full);
}


/* the dedupe of one event on its own: 1 when it is to be sent */

static ngx_uint_t
ngx_http_statsig_events_accept(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_dedupe_key_t *key)
{
    ngx_uint_t  dup;

    if (key == NULL || key->hash == 0 || ev->dedupe == NULL) {
        return 1;
    }

    ngx_shmtx_lock(&ev->shpool->mutex);

    ngx_http_statsig_events_fold_locked();

    dup = ngx_http_statsig_dedupe_locked(ev, key, ngx_current_msec);

    ngx_shmtx_unlock(&ev->shpool->mutex);

    return !dup;
}


/*
 * One event into the open pack of every sink that takes its kind; a pack
 * that reached its limits goes into the ring.  The pack's limits: the
 * events a request may carry now (the flusher lowers it after a 413),
 * the body's bytes, and a quarter of the ring.
 */

static void
ngx_http_statsig_events_pack(ngx_http_statsig_events_t *ev, ngx_uint_t kind,
    u_char *data, size_t len, ngx_uint_t *full)
{
    size_t                       max_raw;
    ngx_uint_t                   i, limit;
    ngx_http_statsig_sink_t     *sink;
    ngx_http_statsig_sink_sh_t  *ss;

    for (i = 0; i < ev->nsinks; i++) {
        sink = &ev->sinks[i];

        if (!(sink->type->kinds & kind)) {
            continue;
        }

        ss = &ev->sh->sinks[sink->index];

        if (!sink->enabled) {
            (void) ngx_atomic_fetch_add(&ss->skipped, 1);
            continue;
        }

        max_raw = sink->type->max_bytes - NGX_HTTP_STATSIG_ENVELOPE_MAX;

        if (len > max_raw) {
            /* no request could carry it */
            ngx_shmtx_lock(&ev->shpool->mutex);
            ss->dropped_full++;
            ngx_shmtx_unlock(&ev->shpool->mutex);
            continue;
        }

        if (sink->pack_events && sink->pack.raw_len + 1 + len > max_raw) {
            ngx_http_statsig_events_close(ev, sink, full);
        }

        if (statsig_pack_add(&sink->pack, ",", sink->pack_events ? 1 : 0,
                             data, len)
            != 0)
        {
            sink->pack_events++;
            sink->unpublished++;
            ngx_http_statsig_events_close(ev, sink, full);
            continue;
        }

        sink->pack_events++;
        sink->unpublished++;

        limit = ngx_http_statsig_pack_limit(sink, ss);

        if (sink->pack_events >= limit
            || sink->pack.out_len >= ss->size / 4)
        {
            ngx_http_statsig_events_close(ev, sink, full);
        }
    }
}


/* the events a pack may hold: a request's worth, as the flusher sends now */

static ngx_inline ngx_uint_t
ngx_http_statsig_pack_limit(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_sink_sh_t *ss)
{
    return ss->limit ? ngx_min(ss->limit, sink->batch) : sink->batch;
}


/*
 * The largest record a sink's ring takes: what a batch buffer holds (a
 * pack of max_bytes of events that deflate could not shrink, at most the
 * ring).
 */

size_t
ngx_http_statsig_pack_max(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_sink_sh_t *ss)
{
    size_t  max;

    max = NGX_HTTP_STATSIG_REC_HDR + sink->type->max_bytes
          + sink->type->max_bytes / 8 + 1024;

    return ngx_min(max, ss->size);
}


/*
 * Ends a sink's open pack and puts it into the ring as one record, or
 * drops its events (counted) when the ring has no room.
 */

static void
ngx_http_statsig_events_close(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_sink_t *sink, ngx_uint_t *full)
{
    size_t                        need, used;
    ngx_uint_t                    n, limit;
    ngx_http_statsig_sink_sh_t   *ss;
    ngx_http_statsig_pack_hdr_t   h;

    n = sink->pack_events;

    if (n == 0) {
        return;
    }

    sink->pack_events = 0;
    ss = &ev->sh->sinks[sink->index];

    /* what was counted as buffered leaves it (the rest never entered) */
    if (n > sink->unpublished) {
        (void) ngx_atomic_fetch_add(&ss->buffered,
                                    -(ngx_atomic_int_t) (n
                                                  - sink->unpublished));
    }

    sink->unpublished = 0;

    if (sink->pack.failed || statsig_pack_finish(&sink->pack) != 0) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "statsig: no memory to encode %ui events for sink "
                      "\"%s\"; dropped", n, sink->type->name);

        ngx_shmtx_lock(&ev->shpool->mutex);
        ss->dropped_full += n;
        ngx_shmtx_unlock(&ev->shpool->mutex);

        statsig_pack_reset(&sink->pack);
        return;
    }

    h.len = (uint32_t) sink->pack.out_len;
    h.n = (uint32_t) n;
    h.crc = sink->pack.crc;
    h.raw = (uint32_t) sink->pack.raw_len;

    need = NGX_HTTP_STATSIG_REC_HDR + sink->pack.out_len;

    ngx_shmtx_lock(&ev->shpool->mutex);

    used = (size_t) (ss->tail - ss->head);

    if (need > ss->size - used || need > ngx_http_statsig_pack_max(sink, ss))
    {
        ss->dropped_full += n;

    } else {
        ngx_http_statsig_ring_in(ss, ss->tail, &h, NGX_HTTP_STATSIG_REC_HDR);
        ngx_http_statsig_ring_in(ss, ss->tail + NGX_HTTP_STATSIG_REC_HDR,
                                 sink->pack.out, sink->pack.out_len);

        ss->tail += need;
        ss->events += n;
        ss->queued += n;

        if (used + need > ss->max_used) {
            ss->max_used = used + need;
        }

        limit = ngx_http_statsig_pack_limit(sink, ss);

        if (ss->events >= limit) {
            *full = 1;
        }
    }

    ngx_shmtx_unlock(&ev->shpool->mutex);

    statsig_pack_reset(&sink->pack);
}


/*
 * Every open pack of this worker into the rings (the flush tick, and
 * shutdown).  Returns whether a ring holds a full batch.
 */

ngx_uint_t
ngx_http_statsig_events_close_packs(void)
{
    ngx_uint_t                  i, full;
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;
    full = 0;

    if (ev->sh == NULL) {
        return 0;
    }

    for (i = 0; i < ev->nsinks; i++) {
        ngx_http_statsig_events_close(ev, &ev->sinks[i], &full);
    }

    return full;
}


/*
 * How old an entry is: each worker's ngx_current_msec is cached at its
 * own moment, so another worker's entry may be a few ms "ahead": age 0,
 * not a wrapped difference that would make it look expired.
 */

static ngx_inline ngx_msec_t
ngx_http_statsig_dedupe_age(ngx_msec_t now, ngx_msec_t t)
{
    return ((ngx_msec_int_t) (now - t) > 0) ? now - t : 0;
}


/* a key's bucket: NGX_HTTP_STATSIG_DEDUPE_WAYS slots, 256 bytes */

static ngx_inline ngx_http_statsig_dedupe_t *
ngx_http_statsig_dedupe_bucket(ngx_http_statsig_events_t *ev,
    uint32_t bucket)
{
    return &ev->dedupe[(bucket & ev->dedupe_mask)
                       * NGX_HTTP_STATSIG_DEDUPE_WAYS];
}


/*
 * Under the lock: 1 (counted as deduped) when the key was logged within
 * the window; else it is entered, logged now, and 0.
 */

static ngx_uint_t
ngx_http_statsig_dedupe_locked(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_dedupe_key_t *key, ngx_msec_t now)
{
    uint64_t                    hash;
    ngx_uint_t                  i;
    ngx_msec_t                  window;
    ngx_http_statsig_dedupe_t  *b, *free, *oldest;

    b = ngx_http_statsig_dedupe_bucket(ev, key->bucket);
    hash = key->hash;
    window = ev->window;

    free = NULL;
    oldest = &b[0];

    for (i = 0; i < NGX_HTTP_STATSIG_DEDUPE_WAYS; i++) {
        if (b[i].hash == hash) {
            if (ngx_http_statsig_dedupe_age(now, b[i].time) < window) {
                (void) ngx_atomic_fetch_add(&ev->sh->deduped, 1);
                return 1;
            }

            __atomic_store_n(&b[i].time, now, __ATOMIC_RELEASE);
            return 0;
        }

        if (b[i].hash == 0
            || ngx_http_statsig_dedupe_age(now, b[i].time) >= window)
        {
            if (free == NULL) {
                free = &b[i];
            }

        } else if (b[i].time < oldest->time) {
            oldest = &b[i];
        }
    }

    if (free == NULL) {
        ev->sh->dedupe_evicted++;
        free = oldest;
    }

    /*
     * The hash, then the time (a release: after the hash on every CPU),
     * so that a reader who reads the time first, then the hash, never
     * pairs this time with the hash it replaces.
     */
    __atomic_store_n(&free->hash, hash, __ATOMIC_RELAXED);
    __atomic_store_n(&free->time, now, __ATOMIC_RELEASE);

    return 0;
}


/*
 * Whether an exposure with this dedupe key was logged within the window,
 * looked up without the lock (counted as deduped when it was, in the
 * zone's counter later: ngx_http_statsig_events_fold_locked()): a writer
 * that finds it skips writing the event.  A racing insert of the same
 * key is a duplicate too; anything missed here is caught by the locked
 * lookup at the end of the iteration.  The bucket stays in the cache for
 * that lookup.
 *
 * A slot's time is read before its hash (acquire loads: plain loads on
 * x86, no fence): a hash seen with a live time is either the entry the
 * time belongs to, or a newer insert of that hash, logged now.
 */

ngx_uint_t
ngx_http_statsig_events_seen(ngx_http_statsig_dedupe_key_t *key)
{
    ngx_uint_t                  i;
    ngx_msec_t                  now, t;
    ngx_http_statsig_dedupe_t  *b;
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;

    if (ev->sh == NULL || key->hash == 0 || ev->dedupe == NULL
        || !(ev->kinds & NGX_HTTP_STATSIG_EV_EXPOSURE))
    {
        return 0;
    }

    b = ngx_http_statsig_dedupe_bucket(ev, key->bucket);
    now = ngx_current_msec;

    for (i = 0; i < NGX_HTTP_STATSIG_DEDUPE_WAYS; i++) {
        t = __atomic_load_n(&b[i].time, __ATOMIC_ACQUIRE);

        if (__atomic_load_n(&b[i].hash, __ATOMIC_ACQUIRE) == key->hash
            && ngx_http_statsig_dedupe_age(now, t) < ev->window)
        {
            /* counted in the zone with the next lock taken */
            ev->deduped++;
            return 1;
        }
    }

    return 0;
}


/*
 * Starts fetching a bucket (its four lines) from memory: a fresh key's
 * bucket is a cache miss, and with the evaluation in between, the probe
 * after it waits for nothing.
 */

void
ngx_http_statsig_events_prefetch(uint32_t bucket)
{
    u_char                     *b;
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;

    if (ev->dedupe == NULL) {
        return;
    }

    b = (u_char *) ngx_http_statsig_dedupe_bucket(ev, bucket);

    __builtin_prefetch(b);
    __builtin_prefetch(b + 64);
    __builtin_prefetch(b + 128);
    __builtin_prefetch(b + 192);
}


/*
 * Under the zone lock: adds the exposures this worker found deduped
 * without the lock to the zone's counter (on every push and flush tick).
 */

void
ngx_http_statsig_events_fold_locked(void)
{
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;

    if (ev->sh && ev->deduped) {
        (void) ngx_atomic_fetch_add(&ev->sh->deduped, ev->deduped);
        ev->deduped = 0;
    }
}


/*
 * The dedupe key's 64-bit hash (MurmurHash64A, eight bytes a step);
 * never 0 (a free slot)
 */

uint64_t
ngx_http_statsig_events_hash(u_char *p, size_t len)
{
    u_char    *last;
    uint64_t   h, k, t;

    static const uint64_t  m = 0xc6a4a7935bd1e995ULL;

    h = 0x5354455645ULL ^ (len * m);

    for (last = p + (len & ~(size_t) 7); p < last; p += 8) {
        ngx_memcpy(&k, p, 8);

        k *= m;
        k ^= k >> 47;
        k *= m;

        h ^= k;
        h *= m;
    }

    len &= 7;

    if (len) {
        t = 0;
        ngx_memcpy(&t, p, len);

        h ^= t;
        h *= m;
    }

    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;

    return h ? h : 1;
}


/*
 * A dedupe bucket: the user's part of the key (user ids) picks a page of
 * the table (4 KB: 16 buckets), the entity's and layer parameter's names
 * the bucket in it, all known before the evaluation.  The exposures of a
 * request then miss the TLB once, not once each.  Keys that differ only
 * by rule or value share a bucket.
 */

#define NGX_HTTP_STATSIG_DEDUPE_PAGE_BITS  4    /* 4096 / (16 ways x 16) */

uint32_t
ngx_http_statsig_events_bucket(uint64_t user, ngx_str_t *name,
    ngx_str_t *param)
{
    uint64_t  h;

    h = user ^ ngx_http_statsig_events_hash(name->data, name->len);

    if (param && param->len) {
        h ^= ngx_http_statsig_events_hash(param->data, param->len) << 1;
    }

    /* a 64-bit finalizer (MurmurHash3's fmix64) */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    return (uint32_t) (user >> 32) << NGX_HTTP_STATSIG_DEDUPE_PAGE_BITS
           | ((uint32_t) h
              & ((1u << NGX_HTTP_STATSIG_DEDUPE_PAGE_BITS) - 1));
}


/* ---- the rings ---- */


static void
ngx_http_statsig_ring_in(ngx_http_statsig_sink_sh_t *ss, uint64_t pos,
    void *data, size_t len)
{
    size_t  off, n;

    off = (size_t) (pos % ss->size);
    n = ngx_min(len, ss->size - off);

    ngx_memcpy(ss->ring + off, data, n);

    if (n < len) {
        ngx_memcpy(ss->ring, (u_char *) data + n, len - n);
    }
}


static void
ngx_http_statsig_ring_out(ngx_http_statsig_sink_sh_t *ss, uint64_t pos,
    void *dst, size_t len)
{
    size_t  off, n;

    off = (size_t) (pos % ss->size);
    n = ngx_min(len, ss->size - off);

    ngx_memcpy(dst, ss->ring + off, n);

    if (n < len) {
        ngx_memcpy((u_char *) dst + n, ss->ring, len - n);
    }
}


/*
 * Moves packs out of the ring into the batch, whose buffer holds
 * ngx_http_statsig_pack_max() bytes: as many as keep the batch within max
 * events and max_bytes of events (but always one), one or two memcpy
 * under the lock.
 */

ngx_int_t
ngx_http_statsig_ring_take_locked(ngx_http_statsig_sink_sh_t *ss,
    ngx_http_statsig_batch_t *batch, ngx_uint_t max, size_t max_bytes,
    ngx_log_t *log)
{
    size_t                       bytes, need, raw;
    uint64_t                     pos;
    ngx_uint_t                   n;
    ngx_http_statsig_pack_hdr_t  h;

    bytes = 0;
    raw = 0;
    n = 0;
    pos = ss->head;

    while (pos < ss->tail) {
        ngx_http_statsig_ring_out(ss, pos, &h, NGX_HTTP_STATSIG_REC_HDR);

        need = NGX_HTTP_STATSIG_REC_HDR + h.len;

        if (bytes + need > batch->cap
            || (n && (n + h.n > max || raw + 1 + h.raw > max_bytes)))
        {
            break;
        }

        bytes += need;
        raw += (n ? 1 : 0) + h.raw;
        n += h.n;
        pos += need;
    }

    batch->len = bytes;
    batch->n = n;

    if (bytes == 0) {
        return NGX_DECLINED;
    }

    ngx_http_statsig_ring_out(ss, ss->head, batch->data, bytes);

    ss->head += bytes;
    ss->events -= ngx_min(ss->events, n);
    ss->in_flight += n;

    return NGX_OK;
}


/*
 * Puts a batch back at the head of the ring, ahead of newer events, for
 * whichever worker flushes next.  Returns the events put back: 0 when
 * they no longer fit (the caller counts them lost).
 */

ngx_uint_t
ngx_http_statsig_ring_requeue_locked(ngx_http_statsig_sink_sh_t *ss,
    ngx_http_statsig_batch_t *batch)
{
    ss->in_flight -= ngx_min(ss->in_flight, batch->n);

    if (ss->ring == NULL
        || batch->len > ss->size - (size_t) (ss->tail - ss->head))
    {
        ss->dropped_lost += batch->n;
        return 0;
    }

    ss->head -= batch->len;
    ngx_http_statsig_ring_in(ss, ss->head, batch->data, batch->len);

    ss->events += batch->n;
    ss->requeued += batch->n;

    return batch->n;
}


/* ---- worker buffers ---- */


ngx_int_t
ngx_http_statsig_wbuf_reserve(ngx_http_statsig_wbuf_t *b, size_t len,
    ngx_log_t *log)
{
    u_char  *p;
    size_t   size;

    if (b->len + len <= b->cap) {
        return NGX_OK;
    }

    size = ngx_max(b->cap * 2, b->len + len);
    size = ngx_max(size, 16384);

    p = ngx_alloc(size, log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (b->data) {
        ngx_memcpy(p, b->data, b->len);
        ngx_free(b->data);
    }

    b->data = p;
    b->cap = size;

    return NGX_OK;
}


ngx_int_t
ngx_http_statsig_wbuf_add(ngx_http_statsig_wbuf_t *b, void *data,
    size_t len, ngx_log_t *log)
{
    if (ngx_http_statsig_wbuf_reserve(b, len, log) != NGX_OK) {
        return NGX_ERROR;
    }

    b->len = ngx_cpymem(b->data + b->len, data, len) - b->data;

    return NGX_OK;
}


/* ---- statsig_status ---- */


/*
 * The "events" section: ",\"events\":{...}" for JSON, or Prometheus
 * lines; in r->pool.  The counters are copied under the lock.
 */

ngx_int_t
ngx_http_statsig_events_status(ngx_http_request_t *r, ngx_uint_t prometheus,
    ngx_str_t *zone, ngx_str_t *out)
{
    size_t                         len;
    u_char                        *p;
    ngx_http_statsig_events_t     *ev;
    ngx_http_statsig_events_sh_t  *es;

    ev = &ngx_http_statsig_events;

    out->len = 0;
    out->data = NULL;

    if (ev->sh == NULL) {
        return NGX_OK;
    }

    es = ngx_palloc(r->pool, sizeof(ngx_http_statsig_events_sh_t));
    if (es == NULL) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&ev->shpool->mutex);
    ngx_memcpy(es, ev->sh, sizeof(ngx_http_statsig_events_sh_t));
    ngx_shmtx_unlock(&ev->shpool->mutex);

    len = 1024 + NGX_HTTP_STATSIG_MAX_SINKS
                 * (prometheus ? 40 * (160 + zone->len)
                               : 1024 + 6 * NGX_HTTP_STATSIG_ERRLEN
                                 + 6 * 2048);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = prometheus ? ngx_http_statsig_events_prom(p, es, ev, zone)
                   : ngx_http_statsig_events_json(p, es, ev);

    out->len = p - out->data;

    return NGX_OK;
}


static u_char *
ngx_http_statsig_events_json(u_char *p, ngx_http_statsig_events_sh_t *es,
    ngx_http_statsig_events_t *ev)
{
    size_t                       n;
    ngx_uint_t                   i;
    ngx_http_statsig_sink_t     *sink;
    ngx_http_statsig_sink_sh_t  *ss;

    p = ngx_sprintf(p, ",\"events\":{\"dedupe\":{\"window_ms\":%M,"
                    "\"entries\":%ui,\"deduped\":%uL,\"evicted\":%uL},"
                    "\"flusher\":{\"pid\":%P,\"changes\":%ui},"
                    "\"sinks\":{",
                    ev->window,
                    es->dedupe ? (es->dedupe_mask + 1)
                                 * NGX_HTTP_STATSIG_DEDUPE_WAYS : 0,
                    (uint64_t) es->deduped, es->dedupe_evicted,
                    es->flush_lease.pid,
                    es->flush_lease.changes);

    for (i = 0; i < ev->nsinks; i++) {
        sink = &ev->sinks[i];
        ss = &es->sinks[sink->index];

        p = ngx_sprintf(p, "%s\"%s\":{\"enabled\":%s,\"url\":",
                        i ? "," : "", sink->type->name,
                        sink->enabled ? "true" : "false");

        if (sink->url.len) {
            n = ngx_min(sink->url.len, 2048);
            *p++ = '"';
            p = (u_char *) ngx_escape_json(p, sink->url.data, n);
            *p++ = '"';

        } else {
            p = ngx_sprintf(p, "null");
        }

        p = ngx_sprintf(p, ",\"queue\":{\"size\":%uz,\"used\":%uz,"
                        "\"max_used\":%uz,\"events\":%ui,\"buffered\":%uA},"
                        "\"queued\":%uL,\"sent\":%uL,\"retried\":%uL,"
                        "\"requeued\":%uL,\"dropped\":%uL,"
                        "\"dropped_full\":%uL,\"dropped_rejected\":%uL,"
                        "\"dropped_expired\":%uL,\"dropped_lost\":%uL,"
                        "\"deduped\":%uL,\"skipped\":%uA,"
                        "\"in_flight\":%ui,\"requests\":%ui,"
                        "\"failures\":%ui,\"last_status\":%ui,"
                        "\"last_success\":",
                        ss->size, (size_t) (ss->tail - ss->head),
                        ss->max_used, ss->events, ss->buffered, ss->queued,
                        ss->sent,
                        ss->retried, ss->requeued,
                        ss->dropped_full + ss->dropped_rejected
                        + ss->dropped_expired + ss->dropped_lost,
                        ss->dropped_full, ss->dropped_rejected,
                        ss->dropped_expired, ss->dropped_lost,
                        (sink->type->kinds & NGX_HTTP_STATSIG_EV_EXPOSURE)
                        ? (uint64_t) es->deduped : 0,
                        ss->skipped, ss->in_flight, ss->requests,
                        ss->failures, ss->last_status);

        p = ss->last_success ? ngx_sprintf(p, "%T", ss->last_success)
                             : ngx_sprintf(p, "null");
        p = ngx_sprintf(p, ",\"last_error\":");
        p = ss->last_error ? ngx_sprintf(p, "%T", ss->last_error)
                           : ngx_sprintf(p, "null");
        p = ngx_sprintf(p, ",\"error\":");

        if (ss->error[0]) {
            ss->error[NGX_HTTP_STATSIG_ERRLEN - 1] = '\0';
            *p++ = '"';
            p = (u_char *) ngx_escape_json(p, ss->error,
                                           ngx_strlen(ss->error));
            *p++ = '"';

        } else {
            p = ngx_sprintf(p, "null");
        }

        *p++ = '}';
    }

    return ngx_sprintf(p, "}}");
}


static u_char *
ngx_http_statsig_events_prom(u_char *p, ngx_http_statsig_events_sh_t *es,
    ngx_http_statsig_events_t *ev, ngx_str_t *zone)
{
    ngx_uint_t                   i, k;
    ngx_http_statsig_sink_t     *sink;
    ngx_http_statsig_sink_sh_t  *ss;
    uint64_t                     v[17];

    static char  *names[] = {
        "queued_total", "counter", "Events taken into the queue.",
        "sent_total", "counter", "Events the sink accepted.",
        "retried_total", "counter", "Events sent again after a failure.",
        "dropped_full_total", "counter", "Events dropped: queue full.",
        "dropped_rejected_total", "counter",
            "Events dropped: the sink refused them (not retryable).",
        "dropped_expired_total", "counter",
            "Events dropped: retries used up.",
        "dropped_lost_total", "counter",
            "Events lost by a flusher that died or could not requeue.",
        "skipped_total", "counter", "Events not queued: sink off.",
        "queue_events", "gauge", "Events waiting in the queue.",
        "queue_buffered_events", "gauge",
            "Events in workers' open packs, not in the queue yet.",
        "queue_used_bytes", "gauge", "Bytes in use in the queue.",
        "queue_size_bytes", "gauge", "Size of the queue.",
        "in_flight_events", "gauge", "Events being sent.",
        "requests_total", "counter", "Requests made to the sink.",
        "failures_total", "counter", "Requests that failed.",
        "up", "gauge", "1 unless the last request failed.",
        NULL
    };

    p = ngx_sprintf(p, "# HELP statsig_events_deduped_total Exposures not "
                    "logged again within the dedupe window.\n"
                    "# TYPE statsig_events_deduped_total counter\n"
                    "statsig_events_deduped_total{zone=\"%V\"} %uL\n",
                    zone, (uint64_t) es->deduped);

    for (k = 0; names[3 * k]; k++) {
        p = ngx_sprintf(p, "# HELP statsig_events_%s %s\n"
                        "# TYPE statsig_events_%s %s\n",
                        names[3 * k], names[3 * k + 2], names[3 * k],
                        names[3 * k + 1]);

        for (i = 0; i < ev->nsinks; i++) {
            sink = &ev->sinks[i];
            ss = &es->sinks[sink->index];

            v[0] = ss->queued;
            v[1] = ss->sent;
            v[2] = ss->retried;
            v[3] = ss->dropped_full;
            v[4] = ss->dropped_rejected;
            v[5] = ss->dropped_expired;
            v[6] = ss->dropped_lost;
            v[7] = ss->skipped;
            v[8] = ss->events;
            v[9] = ss->buffered;
            v[10] = ss->tail - ss->head;
            v[11] = ss->size;
            v[12] = ss->in_flight;
            v[13] = ss->requests;
            v[14] = ss->failures;
            v[15] = ss->last_error <= ss->last_success;

            p = ngx_sprintf(p, "statsig_events_%s{zone=\"%V\",sink=\"%s\"} "
                            "%uL\n", names[3 * k], zone, sink->type->name,
                            v[k]);
        }
    }

    return p;
}
