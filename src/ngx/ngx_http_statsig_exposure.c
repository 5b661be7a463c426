
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
 * The entry's result must come from the evaluation just made: secondary
 * exposures live in the runtime until the next statsig_eval_begin().
 */

ngx_int_t
ngx_http_statsig_expose(ngx_http_request_t *r, ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_entry_t *e, ngx_str_t *name)
{
    int                       rc;
    ngx_str_t                 record;
    ngx_time_t               *tp;
    statsig_buf_t            *b;
    statsig_exposure_opts_t   o;

    e->exposed = 1;

    /*
     * Local mode sends no exposures: skip writing the record unless the
     * debug log shows it.  A layer parameter that is absent or null is
     * no exposure either way (statsig-node's Layer.get).
     */
    if (!(r->connection->log->log_level & NGX_LOG_DEBUG_HTTP)
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
    o.time = (double) tp->sec * 1000 + tp->msec;
    o.server_time = o.time;

    if (ctx->eval.snap) {
        o.config_sync_time = (double) statsig_snapshot_time(ctx->eval.snap);
        o.init_time = o.config_sync_time;
    }

    /* statsig-node's dedupe key, when the event pipeline dedupes */
    o.dedupe_key = ngx_http_statsig_events_dedupe_key();

    b = &ngx_http_statsig_record;
    b->len = 0;
    b->failed = 0;

    switch (e->kind) {

    case STATSIG_KIND_GATE:
        rc = statsig_exposure_gate(b, &o, (char *) name->data, name->len,
                                   &e->result);
        break;

    case STATSIG_KIND_CONFIG:
        rc = statsig_exposure_config(b, &o, (char *) name->data, name->len,
                                     &e->result);
        break;

    default: /* STATSIG_KIND_LAYER */
        rc = statsig_exposure_layer(b, &o, (char *) name->data, name->len,
                                    &e->result, (char *) e->param.data,
                                    e->param.len);
        break;
    }

    if (rc == 0) {
        /* statsig-node logs nothing: an absent layer parameter */
        return NGX_OK;
    }

    if (rc < 0 || b->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "statsig: no memory for an exposure record");
        return NGX_OK;
    }

    record.data = (u_char *) b->data;
    record.len = b->len;

    return ngx_http_statsig_exposure_sink(r, ctx, &record);
}


/*
 * The event pipeline's entry point: counts the record (per request, for
 * $statsig_exposure_count, and per worker), logs it at the debug level
 * and queues it for the sinks (dedupe, bounded queue: never waits).  The
 * record is only valid during the call.
 */

ngx_int_t
ngx_http_statsig_exposure_sink(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx, ngx_str_t *record)
{
    ngx_str_t       key, *kp;
    statsig_buf_t  *b;

    ctx->exposures++;
    ngx_http_statsig_exposures_total++;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig exposure #%uA: %V",
                   ngx_http_statsig_exposures_total, record);

    kp = NULL;
    b = ngx_http_statsig_events_dedupe_key();

    if (b && b->len && !b->failed) {
        key.data = (u_char *) b->data;
        key.len = b->len;
        kp = &key;
    }

    (void) ngx_http_statsig_events_push(r->connection->log,
                                        NGX_HTTP_STATSIG_EV_EXPOSURE, record,
                                        kp);

    return NGX_OK;
}
