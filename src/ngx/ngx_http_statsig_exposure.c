
/*
 * ngx_http_statsig_module: exposure records.
 *
 * Every variable read goes through ngx_http_statsig_expose() the first
 * time it reads an entity in a request (and only where statsig_exposures
 * is on): it writes the record statsig-node would log for that check --
 * statsig::gate_exposure, statsig::config_exposure, or one
 * statsig::layer_exposure per layer parameter read -- and hands it to
 * ngx_http_statsig_exposure_sink(), the one place the event queue plugs
 * in.  The user in a record never carries privateAttributes.
 *
 * Records are written into one buffer per worker, reused by every
 * request, so the request path does not allocate once it has grown.
 */


#include "ngx_http_statsig_request.h"
#include "ngx_http_statsig_events.h"

#include "exposure.h"


static statsig_buf_t  ngx_http_statsig_record;

/* the heads of this worker's last gate and config exposures */
static statsig_exposure_memo_t  ngx_http_statsig_memo;

static ngx_atomic_uint_t  ngx_http_statsig_exposures_total;


/* what statsig_exposure_layer() would write: a present, non-null value */

static ngx_uint_t
ngx_http_statsig_layer_param_logged(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_entry_t *e)
{
    uint32_t  node;

    node = statsig_json_object_get(ctx->eval.snap, e->result.json_value,
                                   (char *) e->param.data, e->param.len);

    return node != 0
           && statsig_json_type(ctx->eval.snap, node) != STATSIG_JSON_NULL;
}


/*
 * What every exposure of a request shares, written once per request, in
 * its pool: the start of the dedupe key (for its user), and the event's
 * bytes from configSyncTime to "secondaryExposures", the user object
 * included (for its user, snapshot and time), written only when an event
 * is: not for requests whose exposures are all deduped.
 */

typedef struct {
    const statsig_value_t         *key_user;
    ngx_str_t                      key;
    uint64_t                       key_hash;   /* its dedupe bucket part */

    const statsig_value_t         *tail_user;
    const statsig_snapshot_t      *tail_snap;
    double                         tail_time;
    ngx_str_t                      tail;
} ngx_http_statsig_exposure_cache_t;


static ngx_int_t ngx_http_statsig_exposure_sink(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx, ngx_str_t *record,
    ngx_http_statsig_dedupe_key_t *key);


static ngx_http_statsig_exposure_cache_t *
ngx_http_statsig_exposure_cache(ngx_http_statsig_ctx_t *ctx)
{
    ngx_http_statsig_exposure_cache_t  *c;

    c = ctx->exposure_cache;

    if (c == NULL) {
        c = ngx_http_statsig_alloc(ctx,
                                   sizeof(ngx_http_statsig_exposure_cache_t));
        if (c == NULL) {
            return NULL;
        }

        ngx_memzero(c, sizeof(ngx_http_statsig_exposure_cache_t));
        ctx->exposure_cache = c;
    }

    return c;
}


/* a copy of the record buffer's bytes for the rest of the request */

static ngx_int_t
ngx_http_statsig_exposure_copy(ngx_http_statsig_ctx_t *ctx, ngx_str_t *to)
{
    statsig_buf_t  *b;

    b = &ngx_http_statsig_record;

    if (b->failed || b->len == 0) {
        return NGX_ERROR;
    }

    to->data = ngx_http_statsig_alloc(ctx, b->len);
    if (to->data == NULL) {
        to->len = 0;
        return NGX_ERROR;
    }

    ngx_memcpy(to->data, b->data, b->len);
    to->len = b->len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_exposure_key(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_exposure_cache_t *c)
{
    statsig_buf_t       *b;
    statsig_eval_ctx_t  *eval;

    eval = &ctx->eval;

    if (c->key.data == NULL || c->key_user != eval->user) {
        b = &ngx_http_statsig_record;
        b->len = 0;
        b->failed = 0;

        statsig_exposure_key_prefix(b, eval);

        if (ngx_http_statsig_exposure_copy(ctx, &c->key) != NGX_OK) {
            return NGX_ERROR;
        }

        c->key_hash = ngx_http_statsig_dedupe_hash(c->key.data, c->key.len);
        c->key_user = eval->user;
    }

    return NGX_OK;
}


/*
 * Before an evaluation that is to be exposed, when the pipeline dedupes:
 * the exposure's dedupe bucket starts coming from memory, to be there
 * for ngx_http_statsig_dedupe_seen() after the evaluation.
 */

void
ngx_http_statsig_exposure_prefetch(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx, ngx_http_statsig_entry_t *e,
    ngx_str_t *name)
{
    ngx_http_statsig_exposure_cache_t  *c;

    if (ngx_http_statsig_dedupe_key() == NULL) {
        return;
    }

    c = ngx_http_statsig_exposure_cache(ctx);

    if (c == NULL || ngx_http_statsig_exposure_key(ctx, c) != NGX_OK)
    {
        /* the exposure reports it */
        return;
    }

    e->dedupe_bucket = ngx_http_statsig_dedupe_bucket(c->key_hash, name,
                                                      &e->param);
    e->dedupe_user = c->key_hash;
    e->dedupe_set = 1;

    ngx_http_statsig_dedupe_prefetch(e->dedupe_bucket);
}


static ngx_int_t
ngx_http_statsig_exposure_tail(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_exposure_cache_t *c, statsig_exposure_opts_t *o)
{
    statsig_buf_t  *b;

    if (c->tail.data == NULL || c->tail_user != o->ctx->user
        || c->tail_snap != o->ctx->snap || c->tail_time != o->time)
    {
        b = &ngx_http_statsig_record;
        b->len = 0;
        b->failed = 0;

        if (o->ctx->snap) {
            o->config_sync_time =
                (double) statsig_snapshot_time(o->ctx->snap);
            o->init_time = o->config_sync_time;
        }

        statsig_exposure_tail(b, o);

        if (ngx_http_statsig_exposure_copy(ctx, &c->tail) != NGX_OK) {
            return NGX_ERROR;
        }

        c->tail_user = o->ctx->user;
        c->tail_snap = o->ctx->snap;
        c->tail_time = o->time;
    }

    o->tail = (char *) c->tail.data;
    o->tail_len = c->tail.len;

    return NGX_OK;
}


static int
ngx_http_statsig_exposure_write(statsig_buf_t *b, statsig_exposure_opts_t *o,
    ngx_http_statsig_entry_t *e, ngx_str_t *name)
{
    switch (e->kind) {

    case STATSIG_KIND_GATE:
        return statsig_exposure_gate(b, o, (char *) name->data, name->len,
                                     &e->result);

    case STATSIG_KIND_CONFIG:
        return statsig_exposure_config(b, o, (char *) name->data, name->len,
                                       &e->result);

    default: /* STATSIG_KIND_LAYER */
        return statsig_exposure_layer(b, o, (char *) name->data, name->len,
                                      &e->result, (char *) e->param.data,
                                      e->param.len);
    }
}


/*
 * The entry's result must come from the evaluation just made: secondary
 * exposures live in the runtime until the next statsig_eval_begin().
 *
 * When the pipeline dedupes, the dedupe key is written first and looked
 * up: an exposure logged within the window is counted and not written.
 */

ngx_int_t
ngx_http_statsig_expose(ngx_http_request_t *r, ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_entry_t *e, ngx_str_t *name)
{
    int                       rc;
    size_t                    at;
    ngx_str_t                 record;
    uint64_t                  hash;
    ngx_uint_t                debug, seen;
    ngx_time_t               *tp;
    statsig_buf_t            *b, *key;
    statsig_exposure_opts_t   o;

    ngx_http_statsig_dedupe_key_t       dk;
    ngx_http_statsig_exposure_cache_t  *c;
    statsig_exposure_memo_slot_t       *slot;

    e->exposed = 1;

    debug = (r->connection->log->log_level & NGX_LOG_DEBUG_HTTP) != 0;

    /*
     * Local mode sends no exposures: skip writing the record unless the
     * debug log shows it.  A layer parameter that is absent or null is
     * no exposure either way (statsig-node's Layer.get).
     */
    if (!debug
        && !ngx_http_statsig_events_wanted(NGX_HTTP_STATSIG_EV_EXPOSURE))
    {
        if (e->kind != STATSIG_KIND_LAYER
            || ngx_http_statsig_layer_param_logged(ctx, e))
        {
            ctx->exposures++;
            ngx_http_statsig_exposures_total++;
        }

        return NGX_OK;
    }

    tp = ngx_timeofday();

    ngx_memzero(&o, sizeof(statsig_exposure_opts_t));

    o.ctx = &ctx->eval;
    o.memo = &ngx_http_statsig_memo;

    /* the key pass's memo slot, for the event pass */
    slot = NULL;
    o.memo_pass = &slot;
    o.time = (double) tp->sec * 1000 + tp->msec;
    o.server_time = o.time;

    /* configSyncTime and initTime: in the tail, set when it is written */

    c = ngx_http_statsig_exposure_cache(ctx);
    if (c == NULL) {
        goto nomem;
    }

    dk.hash = 0;
    seen = 0;

    /* statsig-node's dedupe key, when the event pipeline dedupes */
    key = ngx_http_statsig_dedupe_key();

    if (key) {
        if (ngx_http_statsig_exposure_key(ctx, c) != NGX_OK) {
            goto nomem;
        }

        o.key_prefix = (char *) c->key.data;
        o.key_prefix_len = c->key.len;
        o.dedupe_key = key;
        key->len = 0;
        key->failed = 0;

        /* a key the memo holds is hashed there, not written */
        hash = 0;
        o.key_hash = &hash;

        rc = 0;

        if (e->kind != STATSIG_KIND_LAYER) {
            rc = statsig_exposure_key_again(&o, e->kind, (char *) name->data,
                                            name->len, &e->result);
        }

        if (rc == 0) {
            rc = ngx_http_statsig_exposure_write(NULL, &o, e, name);
        }

        if (rc == 0) {
            /* statsig-node logs nothing: an absent layer parameter */
            return NGX_OK;
        }

        if (rc < 0) {
            goto nomem;
        }

        o.dedupe_key = NULL;
        o.key_hash = NULL;

        dk.hash = hash ? hash
                       : ngx_http_statsig_dedupe_hash((u_char *) key->data,
                                                      key->len);
        /* the prefetch's, unless the user changed since */
        dk.bucket = (e->dedupe_set && e->dedupe_user == c->key_hash)
                    ? e->dedupe_bucket
                    : ngx_http_statsig_dedupe_bucket(c->key_hash, name,
                                                     &e->param);
        seen = ngx_http_statsig_dedupe_seen(&dk);

        if (seen && !debug) {
            ctx->exposures++;
            ngx_http_statsig_exposures_total++;
            return NGX_OK;
        }
    }

    if (ngx_http_statsig_exposure_tail(ctx, c, &o) != NGX_OK) {
        goto nomem;
    }

    /*
     * The event is written where it waits for the end of the iteration
     * when it can (no copy there), else in the record buffer and queued
     * from it
     */
    b = ngx_http_statsig_events_place(NGX_HTTP_STATSIG_EV_EXPOSURE, &at);

    if (b == NULL) {
        b = &ngx_http_statsig_record;
        b->len = 0;
        b->failed = 0;
        at = 0;
    }

    /* mostly a head the key pass found in the memo: copied at once */
    rc = 0;

    if (e->kind != STATSIG_KIND_LAYER) {
        rc = statsig_exposure_again(b, &o, e->kind, name->len, &e->result);
    }

    if (rc == 0) {
        rc = ngx_http_statsig_exposure_write(b, &o, e, name);
    }

    if (rc <= 0 || b->failed) {
        if (b != &ngx_http_statsig_record) {
            ngx_http_statsig_events_drop(at);
        }

        if (rc == 0) {
            return NGX_OK;
        }

        goto nomem;
    }

    record.data = (u_char *) b->data + at;
    record.len = b->len - at;

    if (seen) {
        /* the debug log shows it; the queue had it already */
        ctx->exposures++;
        ngx_http_statsig_exposures_total++;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig exposure #%uA (deduped): %V",
                       ngx_http_statsig_exposures_total, &record);

        if (b != &ngx_http_statsig_record) {
            ngx_http_statsig_events_drop(at);
        }

        return NGX_OK;
    }

    if (b != &ngx_http_statsig_record) {
        ctx->exposures++;
        ngx_http_statsig_exposures_total++;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig exposure #%uA: %V",
                       ngx_http_statsig_exposures_total, &record);

        return ngx_http_statsig_events_commit(NGX_HTTP_STATSIG_EV_EXPOSURE,
                                              at, dk.hash ? &dk : NULL);
    }

    return ngx_http_statsig_exposure_sink(r, ctx, &record,
                                         dk.hash ? &dk : NULL);

nomem:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "statsig: no memory for an exposure record");
    return NGX_OK;
}


/*
 * The event pipeline's entry point: counts the record (per request, for
 * $statsig_exposure_count, and per worker), logs it at the debug level
 * and queues it for the sinks at the end of the event loop iteration
 * (dedupe by the key, NULL: none; bounded queue: never waits).  The
 * record is copied.
 */

static ngx_int_t
ngx_http_statsig_exposure_sink(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx, ngx_str_t *record,
    ngx_http_statsig_dedupe_key_t *key)
{
    ctx->exposures++;
    ngx_http_statsig_exposures_total++;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig exposure #%uA: %V",
                   ngx_http_statsig_exposures_total, record);

    (void) ngx_http_statsig_events_queue(r->connection->log,
                                         NGX_HTTP_STATSIG_EV_EXPOSURE,
                                         record, key);

    return NGX_OK;
}
