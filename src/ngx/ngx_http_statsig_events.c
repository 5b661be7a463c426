
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
 * A plain sink (one that rewrites each event for its vendor, and so reads
 * them one by one) gets records of one event as it is, [header][JSON],
 * gathered in the worker the same way and put into the ring in one copy:
 * deflating an event alone would cost more than the request it came in.
 *
 * Exposures are deduped first (ngx_http_statsig_dedupe.c).
 */


#include "ngx_http_statsig_events.h"


/* changes with the layout: a reload into a new build starts afresh */
#define NGX_HTTP_STATSIG_EVENTS_MAGIC  0x5354455644L   /* "STEVD" */

typedef struct {
    ngx_http_statsig_events_sh_t  *sh;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_events_worker_t  *me;    /* this worker's; or NULL */
    ngx_uint_t                     kinds;      /* taken by a live sink */
    ngx_uint_t                     nsinks;
    ngx_http_statsig_sink_t        sinks[NGX_HTTP_STATSIG_MAX_SINKS];

    /*
     * events of this event loop iteration, pushed in one go; a statsig
     * buffer, so that exposures are written into it in place
     */
    statsig_buf_t                  pending;    /* [pending hdr][record]... */
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

/* a plain sink's records go into the ring past this many bytes */
#define NGX_HTTP_STATSIG_RECORDS_MAX   (64 * 1024)


static void ngx_http_statsig_events_skip(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_events_sh_t *es, ngx_uint_t kind);
static ngx_uint_t ngx_http_statsig_sink_on(ngx_uint_t index,
    ngx_http_statsig_main_conf_t *smcf);
static void ngx_http_statsig_events_posted(ngx_event_t *ev);
static void ngx_http_statsig_events_push_pending(void);
static ngx_int_t ngx_http_statsig_events_commit_now(
    ngx_http_statsig_events_t *ev, ngx_uint_t kind, size_t at,
    ngx_http_statsig_dedupe_key_t *key) __attribute__((noinline, cold));
static ngx_int_t ngx_http_statsig_events_grow(ngx_http_statsig_events_t *ev,
    size_t n);
static void ngx_http_statsig_events_pending(ngx_http_statsig_events_t *ev);
static void ngx_http_statsig_events_packed(ngx_http_statsig_events_t *ev,
    ngx_uint_t full);
static void ngx_http_statsig_events_buffered(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_sink_t *sink, ngx_atomic_int_t n);
static ngx_uint_t ngx_http_statsig_events_accept(
    ngx_http_statsig_events_t *ev, ngx_http_statsig_dedupe_key_t *key);
static void ngx_http_statsig_events_record(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_sink_t *sink, u_char *data, size_t len,
    ngx_uint_t *full);
static ngx_uint_t ngx_http_statsig_events_take(ngx_http_statsig_sink_t *sink,
    ngx_atomic_int_t *counted);
static void ngx_http_statsig_events_close_records(
    ngx_http_statsig_events_t *ev, ngx_http_statsig_sink_t *sink,
    ngx_uint_t *full);
static void ngx_http_statsig_events_pack(ngx_http_statsig_events_t *ev,
    ngx_uint_t kind, u_char *data, size_t len, ngx_uint_t *full);
static ngx_inline ngx_uint_t ngx_http_statsig_pack_limit(
    ngx_http_statsig_sink_t *sink, ngx_http_statsig_sink_sh_t *ss);
static void ngx_http_statsig_events_close(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_sink_t *sink, ngx_uint_t *full);


/* the sinks, by their slot in the zone: append only */
static ngx_http_statsig_sink_type_t  *ngx_http_statsig_sink_types[] = {
    &ngx_http_statsig_sink_statsig,
    &ngx_http_statsig_sink_customerio,
    &ngx_http_statsig_sink_gainsight_px,
    NULL
};


/*
 * What the vendors' own SDKs retry: network errors and timeouts (no
 * status), 408, 429 and 5xx; anything else is the batch's fault
 */
ngx_http_statsig_range_t  ngx_http_statsig_sink_transient[] = {
    { 0, 99 },       /* no HTTP status: network errors, timeouts */
    { 408, 408 },
    { 429, 429 },
    { 500, 599 },
    { 0, 0 }
};


static ngx_http_statsig_events_t  ngx_http_statsig_events;
static ngx_connection_t           ngx_http_statsig_events_conn;


/* ---- the zone (master: init_zone, also on reload) ---- */


ngx_int_t
ngx_http_statsig_events_init_zone(ngx_shm_zone_t *shm_zone)
{
    size_t                         qsize;
    ngx_uint_t                     i, on;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_sink_sh_t    *ss;
    ngx_http_statsig_events_sh_t  *es;
    ngx_http_statsig_main_conf_t  *smcf;

    ctx = shm_zone->data;
    smcf = ctx->smcf;
    shpool = ctx->shpool;

    /* the queue's bytes, shared by the sinks that are on */

    for (i = 0, on = 0; ngx_http_statsig_sink_types[i]; i++) {
        on += ngx_http_statsig_sink_on(i, smcf);
    }

    qsize = (smcf->event_queue != NGX_CONF_UNSET_SIZE)
            ? smcf->event_queue : shm_zone->shm.size / 4;
    qsize = ngx_max(qsize / ngx_max(on, 1), 4096);

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

    if (ngx_http_statsig_dedupe_init_zone_locked(shm_zone, es) != NGX_OK) {
        goto nomem;
    }

    for (i = 0; ngx_http_statsig_sink_types[i]; i++) {
        ss = &es->sinks[i];

        if (!ngx_http_statsig_sink_on(i, smcf)) {
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


/* ---- statsig_sink NAME KEY=VALUE ... (configuration) ---- */


char *
ngx_http_statsig_sink(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_main_conf_t *smcf = conf;

    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_http_statsig_sink_type_t  *t;

    value = cf->args->elts;

    for (i = 0; ngx_http_statsig_sink_types[i]; i++) {
        t = ngx_http_statsig_sink_types[i];

        if (t->conf && ngx_strlen(t->name) == value[1].len
            && ngx_strncmp(t->name, value[1].data, value[1].len) == 0)
        {
            break;
        }
    }

    if (ngx_http_statsig_sink_types[i] == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown sink \"%V\", expected customerio or "
                           "gainsight_px (Statsig's log_event is "
                           "statsig_server_key's)", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (smcf->sinks[i]) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    t = ngx_http_statsig_sink_types[i];

    return t->conf(cf, smcf, i, &value[2], cf->args->nelts - 2);
}


/*
 * "statsig,customerio": the sinks by name, as a mask for
 * NGX_HTTP_STATSIG_EV_SINKS() (statsig_event sinks=).  A sink named here
 * but not configured sends nothing.
 */

ngx_int_t
ngx_http_statsig_sinks_mask(ngx_conf_t *cf, ngx_str_t *names,
    ngx_uint_t *mask)
{
    u_char                        *p, *end, *last;
    size_t                         len;
    ngx_uint_t                     i;
    ngx_http_statsig_sink_type_t  *t;

    *mask = 0;
    last = names->data + names->len;

    for (p = names->data; p < last; p = end + 1) {
        end = ngx_strlchr(p, last, ',');
        if (end == NULL) {
            end = last;
        }

        len = end - p;

        for (i = 0; ngx_http_statsig_sink_types[i]; i++) {
            t = ngx_http_statsig_sink_types[i];

            if (ngx_strlen(t->name) == len
                && ngx_strncmp(t->name, p, len) == 0)
            {
                break;
            }
        }

        if (len == 0 || ngx_http_statsig_sink_types[i] == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown sink \"%*s\" in \"sinks=%V\", "
                               "expected statsig, customerio or "
                               "gainsight_px", len, p, names);
            return NGX_ERROR;
        }

        *mask |= (ngx_uint_t) 1 << i;
    }

    return NGX_OK;
}


/*
 * One KEY=VALUE of statsig_sink into *key, *value; the keys every sink
 * takes (url=, events=, rate=) into sc.  NGX_DECLINED: a key of the
 * sink's own, for the caller.  NGX_ERROR: logged.
 */

ngx_int_t
ngx_http_statsig_sink_conf(ngx_conf_t *cf, ngx_http_statsig_sink_conf_t *sc,
    ngx_str_t *arg, ngx_str_t *key, ngx_str_t *value)
{
    u_char     *eq;
    ngx_int_t   n;

    eq = ngx_strlchr(arg->data, arg->data + arg->len, '=');

    if (eq == NULL || eq == arg->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"statsig_sink\", "
                           "expected KEY=VALUE", arg);
        return NGX_ERROR;
    }

    key->data = arg->data;
    key->len = eq - arg->data;
    value->data = eq + 1;
    value->len = arg->data + arg->len - value->data;

    if (key->len == 3 && ngx_strncmp(key->data, "url", 3) == 0) {
        if (ngx_http_statsig_check_url(cf, value, 0) != NGX_OK) {
            return NGX_ERROR;
        }

        /* "https://host/api/v1/" and "https://host/api/v1" alike */
        while (value->len && value->data[value->len - 1] == '/') {
            value->len--;
        }

        sc->url = *value;
        return NGX_OK;
    }

    if (key->len == 6 && ngx_strncmp(key->data, "events", 6) == 0) {
        if (value->len == 6 && ngx_strncmp(value->data, "custom", 6) == 0) {
            sc->kinds = NGX_HTTP_STATSIG_EV_CUSTOM;

        } else if (value->len == 9
                   && ngx_strncmp(value->data, "exposures", 9) == 0)
        {
            sc->kinds = NGX_HTTP_STATSIG_EV_EXPOSURE;

        } else if (value->len == 3
                   && ngx_strncmp(value->data, "all", 3) == 0)
        {
            sc->kinds = NGX_HTTP_STATSIG_EV_CUSTOM
                        | NGX_HTTP_STATSIG_EV_EXPOSURE;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"events=%V\" in \"statsig_sink\", "
                               "expected custom, exposures or all", value);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (key->len == 4 && ngx_strncmp(key->data, "rate", 4) == 0) {
        n = ngx_atoi(value->data, value->len);

        if (n == NGX_ERROR || n < 1 || n > 100000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"rate=%V\" in \"statsig_sink\", "
                               "expected requests a second from 1 to "
                               "100000", value);
            return NGX_ERROR;
        }

        sc->rate = n;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* a sink's KEY=env:NAME or KEY=file:PATH, named in messages as such */

ngx_int_t
ngx_http_statsig_sink_secret(ngx_conf_t *cf, char *sink, ngx_str_t *key,
    ngx_str_t *value, ngx_http_statsig_secret_t *secret)
{
    ngx_str_t  name;

    if (secret->source != NGX_HTTP_STATSIG_SECRET_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate \"%V\" in \"statsig_sink %s\"", key,
                           sink);
        return NGX_ERROR;
    }

    name.len = sizeof("statsig_sink  ") - 1 + ngx_strlen(sink) + key->len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_sprintf(name.data, "statsig_sink %s %V", sink, key);

    return ngx_http_statsig_secret_parse(cf, &name, value, secret);
}


static ngx_uint_t
ngx_http_statsig_sink_on(ngx_uint_t index, ngx_http_statsig_main_conf_t *smcf)
{
    ngx_http_statsig_sink_t  sink;

    ngx_memzero(&sink, sizeof(ngx_http_statsig_sink_t));
    sink.type = ngx_http_statsig_sink_types[index];
    sink.index = index;
    sink.smcf = smcf;

    return sink.type->init(&sink, smcf) == NGX_OK;
}


/* ---- per worker ---- */


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

    /* called by init_process only when there is a zone */
    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    ctx = smcf->shm_zone->data;

    ngx_memzero(ev, sizeof(ngx_http_statsig_events_t));

    ev->sh = ctx->sh->events;
    ev->shpool = ctx->shpool;

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
        /* statsig_flush_batch is Statsig's; a vendor's batch is its own */
        sink->batch = t->plain ? t->max_batch
                               : ngx_min(smcf->flush_batch, t->max_batch);
        sink->limit = sink->batch;

        if (t->init(sink, smcf) != NGX_OK || ev->sh->sinks[i].ring == NULL) {
            continue;
        }

        ngx_http_statsig_zone_map(ev->sh->sinks[i].ring, ev->sh->sinks[i].size,
                                  cycle->log);

        sink->enabled = 1;
        ev->kinds |= sink->kinds;
    }

    /* a crashed predecessor's open packs are counted; a slot for ours */
    ngx_shmtx_lock(&ev->shpool->mutex);

    (void) ngx_http_statsig_events_reap_locked(cycle->log);

    for (i = 0; i < NGX_HTTP_STATSIG_SLOTS; i++) {
        if (ev->sh->workers[i].pid == 0) {
            ev->me = &ev->sh->workers[i];
            ngx_memzero(ev->me, sizeof(ngx_http_statsig_events_worker_t));
            ev->me->pid = ngx_pid;
            break;
        }
    }

    ngx_shmtx_unlock(&ev->shpool->mutex);

    /* only exposures dedupe, and only when a sink takes them */
    ngx_http_statsig_dedupe_init_worker(ev->sh, ev->shpool,
                                        (ev->kinds
                                         & NGX_HTTP_STATSIG_EV_EXPOSURE)
                                        ? smcf->exposure_dedupe : 0,
                                        cycle->log);

    return NGX_OK;
}


ngx_http_statsig_sink_t *
ngx_http_statsig_events_sinks(ngx_uint_t *n)
{
    *n = ngx_http_statsig_events.nsinks;

    return ngx_http_statsig_events.sinks;
}


/* the name of the sink in a slot of the zone, or NULL */

const char *
ngx_http_statsig_sink_name(ngx_uint_t index)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_statsig_sink_types[i]; i++) {
        if (i == index) {
            return ngx_http_statsig_sink_types[i]->name;
        }
    }

    return NULL;
}


/* a sink type's slot in the zone, by its name; NGX_ERROR: none */

ngx_int_t
ngx_http_statsig_sink_index(char *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_statsig_sink_types[i]; i++) {
        if (ngx_strcmp(ngx_http_statsig_sink_types[i]->name, name) == 0) {
            return i;
        }
    }

    return NGX_ERROR;
}


/* this worker's sink of that name, if it is on */

ngx_http_statsig_sink_t *
ngx_http_statsig_events_sink(char *name)
{
    ngx_int_t                   i;
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;
    i = ngx_http_statsig_sink_index(name);

    if (ev->sh == NULL || i == NGX_ERROR || !ev->sinks[i].enabled) {
        return NULL;
    }

    return &ev->sinks[i];
}


/*
 * Whether the sink's ring has room for a record of about len bytes now,
 * with a tenth to spare: a relay answers 503 rather than accept what
 * would be dropped.  Read without the lock: an estimate.
 */

ngx_uint_t
ngx_http_statsig_events_room(ngx_http_statsig_sink_t *sink, size_t len)
{
    uint64_t                     used;
    ngx_http_statsig_sink_sh_t  *ss;

    ss = &ngx_http_statsig_events.sh->sinks[sink->index];
    used = ss->tail - ss->head;

    return used + len + ss->size / 10 <= ss->size;
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

    if (ev->me) {
        ngx_shmtx_lock(&ev->shpool->mutex);
        ev->me->pid = 0;
        ngx_shmtx_unlock(&ev->shpool->mutex);
        ev->me = NULL;
    }

    ngx_http_statsig_dedupe_exit_worker();

    statsig_buf_free(&ev->pending);

    for (i = 0; i < ev->nsinks; i++) {
        statsig_pack_free(&ev->sinks[i].pack);

        if (ev->sinks[i].records.data) {
            ngx_free(ev->sinks[i].records.data);
            ev->sinks[i].records.data = NULL;
        }

        if (ev->sinks[i].type->exit) {
            ev->sinks[i].type->exit(&ev->sinks[i]);
        }
    }

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
        if (ev->sinks[i].kinds & kind) {
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

    /* sinks named (NGX_HTTP_STATSIG_EV_SINKS) take it whatever its kind */
    if ((kind >> 8) == 0 && !(ev->kinds & kind & NGX_HTTP_STATSIG_EV_KINDS))
    {
        ngx_http_statsig_events_skip(ev, ev->sh,
                                     kind & NGX_HTTP_STATSIG_EV_KINDS);
        return NGX_DECLINED;
    }

    if (record->len > NGX_HTTP_STATSIG_PENDING_MAX
        || ngx_http_statsig_events_grow(ev, sizeof(ngx_http_statsig_pending_t)
                                            + ngx_align(record->len, 8))
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

    p = (u_char *) ev->pending.data + ev->pending.len;
    p = ngx_cpymem(p, &h, sizeof(ngx_http_statsig_pending_t));
    ngx_memcpy(p, record->data, record->len);

    ev->pending.len += sizeof(ngx_http_statsig_pending_t)
                       + ngx_align(record->len, 8);

    ngx_http_statsig_events_pending(ev);

    return NGX_OK;
}


/*
 * Where an event of this kind can be written in place (no copy): the
 * list of the iteration's events, to be written at its end, from *at
 * on; then ngx_http_statsig_events_commit() queues it, as
 * ngx_http_statsig_events_queue() would, or ngx_http_statsig_events_drop()
 * forgets it.  NULL when it cannot wait there (no sink takes the kind,
 * no memory): ngx_http_statsig_events_queue() then.
 */

statsig_buf_t *
ngx_http_statsig_events_place(ngx_uint_t kind, size_t *at)
{
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;

    if (ev->sh == NULL || !(ev->kinds & kind & NGX_HTTP_STATSIG_EV_KINDS)
        || ngx_http_statsig_events_grow(ev, sizeof(ngx_http_statsig_pending_t))
           != NGX_OK)
    {
        return NULL;
    }

    ev->pending.len += sizeof(ngx_http_statsig_pending_t);
    *at = ev->pending.len;

    return &ev->pending;
}


/* the event written from at on is not queued; the list is as it was */

void
ngx_http_statsig_events_drop(size_t at)
{
    ngx_http_statsig_events_t  *ev;

    ev = &ngx_http_statsig_events;

    /* a write that could not grow the list left what was in it */
    ev->pending.len = at - sizeof(ngx_http_statsig_pending_t);
    ev->pending.failed = 0;
}


/* the event written from at on queued (at is what place() gave) */

ngx_int_t
ngx_http_statsig_events_commit(ngx_uint_t kind, size_t at,
    ngx_http_statsig_dedupe_key_t *key)
{
    size_t                       len;
    ngx_http_statsig_events_t   *ev;
    ngx_http_statsig_pending_t  *h;

    ev = &ngx_http_statsig_events;
    len = ev->pending.len - at;

    if (ngx_http_statsig_events_grow(ev, ngx_align(len, 8) - len) != NGX_OK) {
        ngx_http_statsig_events_commit_now(ev, kind, at, key);
        return NGX_OK;
    }

    h = (ngx_http_statsig_pending_t *)
            (ev->pending.data + at - sizeof(ngx_http_statsig_pending_t));

    if (key) {
        h->key = *key;

    } else {
        h->key.hash = 0;
        h->key.bucket = 0;
    }

    h->len = (uint32_t) len;
    h->kind = (uint32_t) kind;

    ev->pending.len = at + ngx_align(len, 8);

    ngx_http_statsig_events_pending(ev);

    return NGX_OK;
}


/*
 * An event with no memory to wait in the list: packed now, as the queue
 * does (apart: the common path keeps a small frame)
 */

static ngx_int_t
ngx_http_statsig_events_commit_now(ngx_http_statsig_events_t *ev,
    ngx_uint_t kind, size_t at, ngx_http_statsig_dedupe_key_t *key)
{
    ngx_uint_t  full;

    full = 0;

    if (ngx_http_statsig_events_accept(ev, key)) {
        ngx_http_statsig_events_pack(ev, kind,
                                     (u_char *) ev->pending.data + at,
                                     ev->pending.len - at, &full);
    }

    ngx_http_statsig_events_drop(at);
    ngx_http_statsig_events_packed(ev, full);

    return NGX_OK;
}


/* room for n more bytes in the list: NGX_ERROR when it cannot grow */

static ngx_int_t
ngx_http_statsig_events_grow(ngx_http_statsig_events_t *ev, size_t n)
{
    size_t  len;

    if (ev->pending.cap - ev->pending.len >= n) {
        return NGX_OK;
    }

    len = ev->pending.len;

    if (statsig_buf_reserve(&ev->pending, n, 1) == (size_t) -1) {
        /* what the list held is still there */
        ev->pending.failed = 0;
        return NGX_ERROR;
    }

    ev->pending.len = len;

    return NGX_OK;
}


/* after an event went into the list: pushed now past its limit, or later */

static void
ngx_http_statsig_events_pending(ngx_http_statsig_events_t *ev)
{
    if (ev->pending.len >= NGX_HTTP_STATSIG_PENDING_MAX) {
        if (ev->post.posted) {
            ngx_delete_posted_event(&ev->post);
        }

        ngx_http_statsig_events_push_pending();

    } else if (!ev->post.posted) {
        ngx_post_event(&ev->post, &ngx_posted_events);
    }
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

    last = (u_char *) ev->pending.data + ev->pending.len;
    now = ngx_current_msec;
    full = 0;

    if (ngx_http_statsig_dedupe_on()) {
        ngx_shmtx_lock(&ev->shpool->mutex);

        ngx_http_statsig_dedupe_fold_locked();

        for (p = (u_char *) ev->pending.data; p < last; /* void */) {
            h = (ngx_http_statsig_pending_t *) p;

            if (h->key.hash && ngx_http_statsig_dedupe_locked(&h->key, now))
            {
                h->kind = 0;
            }

            p += sizeof(ngx_http_statsig_pending_t) + ngx_align(h->len, 8);
        }

        ngx_shmtx_unlock(&ev->shpool->mutex);
    }

    for (p = (u_char *) ev->pending.data; p < last; /* void */) {
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
            ngx_http_statsig_events_buffered(ev, sink,
                                       (ngx_atomic_int_t) sink->unpublished);
            sink->unpublished = 0;
        }
    }

    if (ngx_exiting) {
        full |= ngx_http_statsig_events_close_packs();
    }

    ngx_http_statsig_flush_notify(full);
}


/* events in this worker's open packs, for the status and for its slot */

static void
ngx_http_statsig_events_buffered(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_sink_t *sink, ngx_atomic_int_t n)
{
    if (n == 0) {
        return;
    }

    /* the slot first: a reaper never takes more than the sink counts */
    if (ev->me) {
        (void) ngx_atomic_fetch_add(&ev->me->buffered[sink->index], n);
    }

    (void) ngx_atomic_fetch_add(&ev->sh->sinks[sink->index].buffered, n);
}


/*
 * Workers that died without their exit (kill -9, a crash): the events in
 * their open packs are lost; counted as dropped_lost, taken out of
 * "buffered", logged.  Returns how many.
 */

ngx_uint_t
ngx_http_statsig_events_reap_locked(ngx_log_t *log)
{
    ngx_uint_t                         i, j, n, lost;
    ngx_atomic_uint_t                  b;
    ngx_http_statsig_sink_sh_t        *ss;
    ngx_http_statsig_events_sh_t      *es;
    ngx_http_statsig_events_worker_t  *w;

    es = ngx_http_statsig_events.sh;
    lost = 0;

    if (es == NULL) {
        return 0;
    }

    for (i = 0; i < NGX_HTTP_STATSIG_SLOTS; i++) {
        w = &es->workers[i];

        if (w->pid == 0 || w->pid == ngx_pid
            || ngx_http_statsig_pid_alive(w->pid))
        {
            continue;
        }

        n = 0;

        for (j = 0; j < NGX_HTTP_STATSIG_MAX_SINKS; j++) {
            ss = &es->sinks[j];
            b = ngx_min(w->buffered[j], ss->buffered);

            if (b == 0) {
                continue;
            }

            (void) ngx_atomic_fetch_add(&ss->buffered,
                                        -(ngx_atomic_int_t) b);
            ss->dropped_lost += b;
            n += b;
        }

        if (n) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "statsig: worker %P died with %ui events not yet "
                          "queued; they are lost", w->pid, n);
        }

        ngx_memzero(w, sizeof(ngx_http_statsig_events_worker_t));
        lost += n;
    }

    return lost;
}


/* the dedupe of one event on its own: 1 when it is to be sent */

static ngx_uint_t
ngx_http_statsig_events_accept(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_dedupe_key_t *key)
{
    ngx_uint_t  dup;

    if (key == NULL || key->hash == 0 || !ngx_http_statsig_dedupe_on()) {
        return 1;
    }

    ngx_shmtx_lock(&ev->shpool->mutex);

    ngx_http_statsig_dedupe_fold_locked();

    dup = ngx_http_statsig_dedupe_locked(key, ngx_current_msec);

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
    ngx_uint_t                   i, limit, only;
    ngx_http_statsig_sink_t     *sink;
    ngx_http_statsig_sink_sh_t  *ss;

    only = kind >> 8;
    kind &= NGX_HTTP_STATSIG_EV_KINDS;

    for (i = 0; i < ev->nsinks; i++) {
        sink = &ev->sinks[i];

        if (only ? !(only & ((ngx_uint_t) 1 << sink->index))
                 : !(sink->kinds & kind))
        {
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

        if (sink->type->plain) {
            ngx_http_statsig_events_record(ev, sink, data, len, full);
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


/*
 * A plain sink's record into the worker's open records; they go into the
 * ring together past NGX_HTTP_STATSIG_RECORDS_MAX bytes, at the tick, or
 * at once for a relayed request (its client was told it is queued, and
 * the relay's room check reads the ring).
 */

static void
ngx_http_statsig_events_record(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_sink_t *sink, u_char *data, size_t len,
    ngx_uint_t *full)
{
    ngx_http_statsig_sink_sh_t   *ss;
    ngx_http_statsig_pack_hdr_t   h;

    h.len = (uint32_t) len;
    h.n = 1;
    h.crc = 0;
    h.raw = (uint32_t) len;
    h.flags = (len && data[0] == NGX_HTTP_STATSIG_RELAYED)
              ? NGX_HTTP_STATSIG_REC_ALONE : 0;

    if (ngx_http_statsig_wbuf_reserve(&sink->records,
                                      NGX_HTTP_STATSIG_REC_HDR + len,
                                      ngx_cycle->log)
        != NGX_OK)
    {
        ss = &ev->sh->sinks[sink->index];

        ngx_shmtx_lock(&ev->shpool->mutex);
        ss->dropped_full++;
        ngx_shmtx_unlock(&ev->shpool->mutex);
        return;
    }

    /* reserved: these do not fail */
    (void) ngx_http_statsig_wbuf_add(&sink->records, &h,
                                     NGX_HTTP_STATSIG_REC_HDR,
                                     ngx_cycle->log);
    (void) ngx_http_statsig_wbuf_add(&sink->records, data, len,
                                     ngx_cycle->log);

    sink->pack_events++;
    sink->unpublished++;

    ss = &ev->sh->sinks[sink->index];

    if (h.flags
        || sink->records.len >= ngx_min(NGX_HTTP_STATSIG_RECORDS_MAX,
                                        ss->size / 4))
    {
        ngx_http_statsig_events_close_records(ev, sink, full);
    }
}


/*
 * The events of a sink's open pack or records, taken to be closed.  Those
 * counted as buffered (*counted; the rest never entered) stay counted in
 * this worker's slot until the ring has them, under the same lock: a kill
 * before that leaves them for the reaper to count lost.
 */

static ngx_uint_t
ngx_http_statsig_events_take(ngx_http_statsig_sink_t *sink,
    ngx_atomic_int_t *counted)
{
    ngx_uint_t  n;

    n = sink->pack_events;

    *counted = (n > sink->unpublished)
               ? (ngx_atomic_int_t) (n - sink->unpublished) : 0;

    sink->pack_events = 0;
    sink->unpublished = 0;

    return n;
}


static void
ngx_http_statsig_events_close_records(ngx_http_statsig_events_t *ev,
    ngx_http_statsig_sink_t *sink, ngx_uint_t *full)
{
    size_t                       fit;
    ngx_uint_t                   n, put;
    ngx_atomic_int_t             counted;
    ngx_http_statsig_sink_sh_t  *ss;

    n = ngx_http_statsig_events_take(sink, &counted);

    if (n == 0) {
        return;
    }

    ss = &ev->sh->sinks[sink->index];

    ngx_shmtx_lock(&ev->shpool->mutex);

    put = ngx_http_statsig_ring_put_records_locked(ss, sink->records.data,
                                                   sink->records.len, &fit);
    ss->dropped_full += n - put;
    ngx_http_statsig_events_buffered(ev, sink, -counted);

    if (ss->events >= ngx_http_statsig_pack_limit(sink, ss)) {
        *full = 1;
    }

    ngx_shmtx_unlock(&ev->shpool->mutex);

    sink->records.len = 0;

    /* a burst's buffer is not kept */
    if (sink->records.cap > 4 * NGX_HTTP_STATSIG_RECORDS_MAX) {
        ngx_free(sink->records.data);
        ngx_memzero(&sink->records, sizeof(ngx_http_statsig_wbuf_t));
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
    size_t                        need;
    ngx_uint_t                    n, limit;
    ngx_atomic_int_t              counted;
    ngx_http_statsig_sink_sh_t   *ss;
    ngx_http_statsig_pack_hdr_t   h;

    if (sink->type->plain) {
        ngx_http_statsig_events_close_records(ev, sink, full);
        return;
    }

    n = ngx_http_statsig_events_take(sink, &counted);

    if (n == 0) {
        return;
    }

    ss = &ev->sh->sinks[sink->index];

    if (sink->pack.failed || statsig_pack_finish(&sink->pack) != 0) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "statsig: no memory to encode %ui events for sink "
                      "\"%s\"; dropped", n, sink->type->name);

        ngx_shmtx_lock(&ev->shpool->mutex);
        ss->dropped_full += n;
        ngx_http_statsig_events_buffered(ev, sink, -counted);
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

    if (need > ngx_http_statsig_pack_max(sink, ss)
        || ngx_http_statsig_ring_put_locked(ss, &h, sink->pack.out)
           != NGX_OK)
    {
        ss->dropped_full += n;

    } else {
        limit = ngx_http_statsig_pack_limit(sink, ss);

        if (ss->events >= limit) {
            *full = 1;
        }
    }

    ngx_http_statsig_events_buffered(ev, sink, -counted);

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


