
/*
 * ngx_http_statsig_module: statsig_status.
 *
 *   statsig_status;  JSON, or Prometheus text with ?format=prometheus.
 *                    503 until a specs snapshot is loaded (readiness).
 *
 * What the zone holds is copied under its lock, then written without it.
 * Every write is bounded by the buffer's end (ngx_slprintf, escaped
 * strings measured first); a body that does not fit is written again
 * into a buffer twice as large.
 */


#include "ngx_http_statsig_zone.h"
#include "ngx_http_statsig_snapshot.h"
#include "ngx_http_statsig_events.h"
#include "ngx_http_statsig_request.h"
#include "ngx_http_statsig_response.h"
#include "idlist.h"


/* the first buffer, and the most a body may take */
#define NGX_HTTP_STATSIG_STATUS_SIZE  8192
#define NGX_HTTP_STATSIG_STATUS_MAX   (4 * 1024 * 1024)

/* a sink's URL is shown up to this many bytes */
#define NGX_HTTP_STATSIG_STATUS_URL   2048


typedef struct {
    ngx_str_t                      zone;
    size_t                         size;
    size_t                         used;
    ngx_uint_t                     local;
    ngx_uint_t                     workers;
    time_t                         now;
    ngx_str_t                      file;
    ngx_str_t                      idlists_file;

    /* what this worker's requests see now */
    ngx_uint_t                     view_generation;
    int64_t                        view_time;
    ngx_uint_t                     view_idlists;
    ngx_uint_t                     view_loaded;

    /* copies, taken locked */
    ngx_http_statsig_shctx_t       sh;
    ngx_http_statsig_events_sh_t   es;
    ngx_uint_t                     events;     /* es was copied */

    /* this worker's sinks: their types and settings */
    ngx_http_statsig_sink_t       *sinks;
    ngx_uint_t                     nsinks;
    ngx_msec_t                     window;
} ngx_http_statsig_status_t;


typedef u_char *(*ngx_http_statsig_status_pt)(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st);


static ngx_int_t ngx_http_statsig_status_handler(ngx_http_request_t *r);
static void ngx_http_statsig_status_copy(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st);
static u_char *ngx_http_statsig_status_json(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st);
static u_char *ngx_http_statsig_json_stats(u_char *p, u_char *last,
    ngx_http_statsig_stats_t *ss);
static u_char *ngx_http_statsig_json_file(u_char *p, u_char *last,
    ngx_str_t *path, ngx_http_statsig_file_st_t *fs);
static u_char *ngx_http_statsig_json_events(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st);
static u_char *ngx_http_statsig_json_time(u_char *p, u_char *last,
    time_t t);
static u_char *ngx_http_statsig_json_str(u_char *p, u_char *last,
    u_char *s, size_t len);
static u_char *ngx_http_statsig_status_prometheus(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st);
static u_char *ngx_http_statsig_prom_events(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st);
static u_char *ngx_http_statsig_prom(u_char *p, u_char *last,
    ngx_str_t *zone, char *prefix, char *name, char *type, char *help,
    uint64_t value);


static char  *ngx_http_statsig_sources[] = {
    "null", "\"file\"", "\"network\""
};


char *
ngx_http_statsig_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_statsig_conf_handler(cf, cmd, conf,
                                         ngx_http_statsig_status_handler);
}


static ngx_int_t
ngx_http_statsig_status_handler(ngx_http_request_t *r)
{
    u_char                      *p;
    size_t                       size;
    ngx_int_t                    rc;
    ngx_str_t                    format, type;
    ngx_buf_t                   *b;
    ngx_http_statsig_status_t   *st;
    ngx_http_statsig_status_pt   write;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_str_set(&type, "application/json");
    write = ngx_http_statsig_status_json;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            ngx_str_set(&type, "text/plain; version=0.0.4");
            write = ngx_http_statsig_status_prometheus;

        } else if (!(format.len == 4
                     && ngx_strncmp(format.data, "json", 4) == 0))
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_statsig_status_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_statsig_status_copy(r, st);

    if (st->view_generation == NGX_HTTP_STATSIG_GEN_NONE) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (size = NGX_HTTP_STATSIG_STATUS_SIZE;
         size <= NGX_HTTP_STATSIG_STATUS_MAX;
         size *= 2)
    {
        b = ngx_create_temp_buf(r->pool, size);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = write(b->pos, b->end, st);

        /* a body that reached the end may have been cut: again, larger */
        if (p < b->end) {
            b->last = p;

            return ngx_http_statsig_response_buf(r, st->sh.specs_loaded
                                                ? NGX_HTTP_OK
                                                : NGX_HTTP_SERVICE_UNAVAILABLE,
                                                 &type, b);
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig status: %uz bytes are not enough", size);
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "statsig: the status is larger than %uz bytes",
                  (size_t) NGX_HTTP_STATSIG_STATUS_MAX);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* what the body is written from; view_generation GEN_NONE: failed */

static void
ngx_http_statsig_status_copy(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st)
{
    ngx_uint_t                     i;
    ngx_http_statsig_view_t        view;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_events_sh_t  *es;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);

    /* postconfiguration guarantees the zone exists */
    ctx = smcf->shm_zone->data;

    st->zone = smcf->shm_zone->shm.name;
    st->size = smcf->shm_zone->shm.size;
    st->local = !ngx_http_statsig_secret_set(&smcf->server_key);
    st->file = smcf->specs_file;
    st->idlists_file = ctx->idlists_file;
    st->now = ngx_time();
    st->window = smcf->exposure_dedupe;
    st->sinks = ngx_http_statsig_events_sinks(&st->nsinks);

    (void) ngx_http_statsig_zone_usage(smcf->shm_zone, &st->used);

    if (ngx_http_statsig_view_acquire(&view) != NGX_OK) {
        st->view_generation = NGX_HTTP_STATSIG_GEN_NONE;
        return;
    }

    st->view_generation = view.generation;
    st->view_loaded = (view.snap != NULL);
    st->view_time = view.snap ? statsig_snapshot_time(view.snap) : 0;
    st->view_idlists = view.idlists ? statsig_idlists_count(view.idlists)
                                    : 0;

    ngx_http_statsig_view_release(&view);

    es = ngx_http_statsig_events_sh();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_memcpy(&st->sh, ctx->sh, sizeof(ngx_http_statsig_shctx_t));

    if (es) {
        ngx_memcpy(&st->es, es, sizeof(ngx_http_statsig_events_sh_t));
        st->events = 1;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    for (i = 0; i < NGX_HTTP_STATSIG_SLOTS; i++) {
        if (st->sh.slots[i].pid) {
            st->workers++;
        }
    }

    if (st->sh.specs_source > NGX_HTTP_STATSIG_SOURCE_NETWORK) {
        st->sh.specs_source = NGX_HTTP_STATSIG_SOURCE_NONE;
    }
}


/* ---- JSON ---- */


static u_char *
ngx_http_statsig_status_json(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st)
{
    ngx_http_statsig_shctx_t  *sh;

    sh = &st->sh;

    /* zone names are restricted at parse time: no quoting needed */

    p = ngx_slprintf(p, last,
                     "{\"module\":\"ngx_http_statsig_module\","
                     "\"version\":\"" NGX_HTTP_STATSIG_VERSION "\","
                     "\"mode\":\"%s\","
                     "\"zone\":{\"name\":\"%V\",\"size\":%uz,"
                     "\"used\":%uz,\"free\":%uz,\"created\":%T,"
                     "\"reloads\":%uA,\"processes\":%ui,"
                     "\"generation\":%uA,\"retired\":%ui,"
                     "\"freed\":%ui},"
                     "\"specs\":{\"loaded\":%s,\"source\":%s,",
                     st->local ? "local" : "server",
                     &st->zone, st->size, st->used,
                     st->size - st->used, sh->created, sh->reloads,
                     st->workers, sh->generation, sh->retired_count,
                     sh->freed, sh->specs_loaded ? "true" : "false",
                     ngx_http_statsig_sources[sh->specs_source]);

    if (sh->specs_loaded) {
        p = ngx_slprintf(p, last, "\"time\":%L,\"age\":%L,\"updated\":%T,",
                         sh->specs_time,
                         (int64_t) st->now - sh->specs_time / 1000,
                         sh->specs_updated);

    } else {
        p = ngx_slprintf(p, last,
                         "\"time\":null,\"age\":null,\"updated\":null,");
    }

    p = ngx_slprintf(p, last, "\"file\":");

    if (st->file.len) {
        p = ngx_http_statsig_json_str(p, last, st->file.data, st->file.len);
        p = ngx_slprintf(p, last, ",\"file_writes\":%ui,"
                         "\"file_write_errors\":%ui,",
                         sh->specs_file.writes, sh->specs_file.errors);

    } else {
        p = ngx_slprintf(p, last, "null,");
    }

    p = ngx_slprintf(p, last, "\"file_state\":");
    p = ngx_http_statsig_json_file(p, last, &st->file, &sh->specs_file);
    p = ngx_slprintf(p, last, ",");

    p = ngx_slprintf(p, last, "\"sync\":");
    p = ngx_http_statsig_json_stats(p, last, &sh->specs_stats);

    p = ngx_slprintf(p, last, "},\"id_lists\":{\"count\":%ui,\"file\":",
                     sh->idlists_count);

    if (st->idlists_file.len) {
        p = ngx_http_statsig_json_str(p, last, st->idlists_file.data,
                                      st->idlists_file.len);

    } else {
        p = ngx_slprintf(p, last, "null");
    }

    p = ngx_slprintf(p, last, ",\"file_state\":");
    p = ngx_http_statsig_json_file(p, last, &st->idlists_file,
                                   &sh->idlists_file);
    p = ngx_slprintf(p, last, ",\"sync\":");
    p = ngx_http_statsig_json_stats(p, last, &sh->idlists_stats);

    p = ngx_slprintf(p, last, "},\"lease\":{\"pid\":%P,"
                     "\"changes\":%ui},\"worker\":{\"pid\":%P,"
                     "\"generation\":%ui,\"loaded\":%s,"
                     "\"specs_time\":%L,\"id_lists\":%ui}",
                     sh->lease.pid, sh->lease.changes, ngx_pid,
                     st->view_generation,
                     st->view_loaded ? "true" : "false",
                     st->view_time, st->view_idlists);

    if (st->events) {
        p = ngx_http_statsig_json_events(p, last, st);
    }

    return ngx_slprintf(p, last, "}\n");
}


static u_char *
ngx_http_statsig_json_stats(u_char *p, u_char *last,
    ngx_http_statsig_stats_t *ss)
{
    u_char  *error;

    static char  *states[] = { "unknown", "ok", "failing" };

    p = ngx_slprintf(p, last, "{\"state\":\"%s\",\"requests\":%ui,"
                     "\"failures\":%ui,\"updates\":%ui,\"no_updates\":%ui,"
                     "\"ignored\":%ui,\"latency_ms\":{\"last\":%M,"
                     "\"max\":%M,\"avg\":%uL},\"last_attempt\":",
                     states[ss->state > 2 ? 0 : ss->state], ss->requests,
                     ss->failures, ss->updates, ss->no_updates, ss->ignored,
                     ss->last_ms, ss->max_ms,
                     ss->requests ? ss->total_ms / ss->requests : 0);

    p = ngx_http_statsig_json_time(p, last, ss->last_attempt);
    p = ngx_slprintf(p, last, ",\"last_success\":");
    p = ngx_http_statsig_json_time(p, last, ss->last_success);
    p = ngx_slprintf(p, last, ",\"last_error\":");
    p = ngx_http_statsig_json_time(p, last, ss->last_error);
    p = ngx_slprintf(p, last, ",\"error\":");

    error = ss->report.reason;
    error[NGX_HTTP_STATSIG_ERRLEN - 1] = '\0';

    if (error[0]) {
        p = ngx_http_statsig_json_str(p, last, error, ngx_strlen(error));

    } else {
        p = ngx_slprintf(p, last, "null");
    }

    return ngx_slprintf(p, last, "}");
}


/* a file kept on disk: its last good write, a write pending, the error */

static u_char *
ngx_http_statsig_json_file(u_char *p, u_char *last, ngx_str_t *path,
    ngx_http_statsig_file_st_t *fs)
{
    u_char  *error;

    if (path->len == 0) {
        return ngx_slprintf(p, last, "null");
    }

    p = ngx_slprintf(p, last, "{\"writes\":%ui,\"errors\":%ui,"
                     "\"pending\":%s,\"written\":", fs->writes, fs->errors,
                     fs->pending ? "true" : "false");
    p = ngx_http_statsig_json_time(p, last, fs->written);
    p = ngx_slprintf(p, last, ",\"error\":");

    error = fs->report.reason;
    error[NGX_HTTP_STATSIG_ERRLEN - 1] = '\0';

    if (fs->report.failing && error[0]) {
        p = ngx_http_statsig_json_str(p, last, error, ngx_strlen(error));

    } else {
        p = ngx_slprintf(p, last, "null");
    }

    return ngx_slprintf(p, last, "}");
}


static u_char *
ngx_http_statsig_json_events(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st)
{
    ngx_uint_t                     i, n;
    ngx_http_statsig_sink_t       *sink;
    ngx_http_statsig_sink_sh_t    *ss;
    ngx_http_statsig_events_sh_t  *es;

    es = &st->es;

    p = ngx_slprintf(p, last, ",\"events\":{\"dedupe\":{\"window_ms\":%M,"
                     "\"entries\":%ui,\"deduped\":%uL,\"evicted\":%uL},"
                     "\"flusher\":{\"pid\":%P,\"changes\":%ui},"
                     "\"sinks\":{",
                     st->window, ngx_http_statsig_dedupe_entries(es),
                     (uint64_t) es->deduped, es->dedupe_evicted,
                     es->flush_lease.pid, es->flush_lease.changes);

    for (i = 0, n = 0; i < st->nsinks; i++) {
        sink = &st->sinks[i];
        ss = &es->sinks[sink->index];

        /* statsig_sink's sinks when configured; Statsig's always */
        if (!sink->enabled && sink->type->conf) {
            continue;
        }

        p = ngx_slprintf(p, last, "%s\"%s\":{\"enabled\":%s,\"url\":",
                         n++ ? "," : "", sink->type->name,
                         sink->enabled ? "true" : "false");

        if (sink->url.len) {
            p = ngx_http_statsig_json_str(p, last, sink->url.data,
                                          ngx_min(sink->url.len,
                                                  NGX_HTTP_STATSIG_STATUS_URL));

        } else {
            p = ngx_slprintf(p, last, "null");
        }

        p = ngx_slprintf(p, last, ",\"queue\":{\"size\":%uz,\"used\":%uz,"
                         "\"max_used\":%uz,\"events\":%ui,"
                         "\"buffered\":%uA},"
                         "\"queued\":%uL,\"sent\":%uL,\"retried\":%uL,"
                         "\"requeued\":%uL,\"dropped\":%uL,"
                         "\"dropped_full\":%uL,\"dropped_rejected\":%uL,"
                         "\"dropped_expired\":%uL,\"dropped_lost\":%uL,"
                         "\"deduped\":%uL,\"skipped\":%uA,\"ignored\":%uL,"
                         "\"spooled\":%uL,\"unspooled\":%uL,"
                         "\"in_flight\":%ui,\"requests\":%ui,"
                         "\"failures\":%ui,\"last_status\":%ui,"
                         "\"last_success\":",
                         ss->size, (size_t) (ss->tail - ss->head),
                         ss->max_used, ss->events, ss->buffered, ss->queued,
                         ss->sent, ss->retried, ss->requeued,
                         ss->dropped_full + ss->dropped_rejected
                         + ss->dropped_expired + ss->dropped_lost,
                         ss->dropped_full, ss->dropped_rejected,
                         ss->dropped_expired, ss->dropped_lost,
                         (sink->kinds & NGX_HTTP_STATSIG_EV_EXPOSURE)
                         ? (uint64_t) es->deduped : 0,
                         ss->skipped, ss->ignored, ss->spooled,
                         ss->unspooled, ss->in_flight,
                         ss->requests,
                         ss->failures, ss->last_status);

        p = ngx_http_statsig_json_time(p, last, ss->last_success);
        p = ngx_slprintf(p, last, ",\"last_error\":");
        p = ngx_http_statsig_json_time(p, last, ss->last_error);
        p = ngx_slprintf(p, last, ",\"error\":");

        ss->error[NGX_HTTP_STATSIG_ERRLEN - 1] = '\0';

        if (ss->error[0]) {
            p = ngx_http_statsig_json_str(p, last, ss->error,
                                          ngx_strlen(ss->error));

        } else {
            p = ngx_slprintf(p, last, "null");
        }

        p = ngx_slprintf(p, last, "}");
    }

    return ngx_slprintf(p, last, "}}");
}


static u_char *
ngx_http_statsig_json_time(u_char *p, u_char *last, time_t t)
{
    if (t == 0) {
        return ngx_slprintf(p, last, "null");
    }

    return ngx_slprintf(p, last, "%T", t);
}


/* a JSON string, or last (the body is written again) when it is cut */

static u_char *
ngx_http_statsig_json_str(u_char *p, u_char *last, u_char *s, size_t len)
{
    size_t  n;

    n = len + ngx_escape_json(NULL, s, len);

    if ((size_t) (last - p) < n + 2) {
        return last;
    }

    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s, len);
    *p++ = '"';

    return p;
}


/* ---- Prometheus ---- */


static u_char *
ngx_http_statsig_status_prometheus(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st)
{
    char                      *k;
    ngx_uint_t                 i;
    ngx_str_t                 *z;
    ngx_http_statsig_stats_t  *ss;
    ngx_http_statsig_shctx_t  *sh;

    static char  *kinds[] = { "specs", "id_lists" };

    sh = &st->sh;
    z = &st->zone;

    p = ngx_http_statsig_prom(p, last, z, "", "specs_loaded", "gauge",
                              "Whether a specs snapshot is loaded.",
                              sh->specs_loaded);
    p = ngx_http_statsig_prom(p, last, z, "", "specs_time_ms", "gauge",
                              "Time (lcut) of the loaded specs, ms.",
                              sh->specs_loaded ? sh->specs_time : 0);
    p = ngx_http_statsig_prom(p, last, z, "", "specs_age_seconds", "gauge",
                              "Seconds since the loaded specs' time.",
                              sh->specs_loaded && sh->specs_time
                              ? st->now - sh->specs_time / 1000 : 0);
    p = ngx_http_statsig_prom(p, last, z, "", "specs_source_network",
                              "gauge", "1 when the specs came from the "
                              "network, 0 from the specs file.",
                              sh->specs_source
                              == NGX_HTTP_STATSIG_SOURCE_NETWORK);
    p = ngx_http_statsig_prom(p, last, z, "", "specs_generation", "counter",
                              "Snapshots published in the zone.",
                              sh->generation);
    p = ngx_http_statsig_prom(p, last, z, "", "specs_file_writes_total",
                              "counter", "Specs file rewrites after a "
                              "fetch.", sh->specs_file.writes);
    p = ngx_http_statsig_prom(p, last, z, "", "specs_file_pending", "gauge",
                              "1 while the specs file is behind the zone "
                              "(a write failed and is retried).",
                              sh->specs_file.pending);
    p = ngx_http_statsig_prom(p, last, z, "", "id_lists_file_pending",
                              "gauge", "1 while the ID lists file is "
                              "behind the zone.", sh->idlists_file.pending);
    p = ngx_http_statsig_prom(p, last, z, "", "id_lists", "gauge",
                              "ID lists loaded.", sh->idlists_count);

    for (i = 0; i < 2; i++) {
        ss = i ? &sh->idlists_stats : &sh->specs_stats;

        k = kinds[i];

        p = ngx_http_statsig_prom(p, last, z, k, "sync_up", "gauge",
                                  "1 unless the last sync failed.",
                                  ss->state
                                  != NGX_HTTP_STATSIG_STATE_FAILING);
        p = ngx_http_statsig_prom(p, last, z, k, "sync_requests_total",
                                  "counter", "Requests made.",
                                  ss->requests);
        p = ngx_http_statsig_prom(p, last, z, k, "sync_failures_total",
                                  "counter", "Failed syncs.", ss->failures);
        p = ngx_http_statsig_prom(p, last, z, k, "sync_updates_total",
                                  "counter",
                                  "Syncs that published new data.",
                                  ss->updates);
        p = ngx_http_statsig_prom(p, last, z, k, "sync_no_updates_total",
                                  "counter", "Syncs with nothing new.",
                                  ss->no_updates);
        p = ngx_http_statsig_prom(p, last, z, k, "sync_latency_ms_sum",
                                  "counter", "Total request time, ms.",
                                  ss->total_ms);
        p = ngx_http_statsig_prom(p, last, z, k, "sync_latency_ms_max",
                                  "gauge", "Slowest request, ms.",
                                  ss->max_ms);
        p = ngx_http_statsig_prom(p, last, z, k,
                                  "sync_last_success_seconds", "gauge",
                                  "Unix time of the last good sync.",
                                  ss->last_success);
        p = ngx_http_statsig_prom(p, last, z, k, "sync_last_error_seconds",
                                  "gauge",
                                  "Unix time of the last failed sync.",
                                  ss->last_error);
    }

    p = ngx_http_statsig_prom(p, last, z, "", "zone_size_bytes", "gauge",
                              "Size of the statsig shared zone.", st->size);
    p = ngx_http_statsig_prom(p, last, z, "", "zone_used_bytes", "gauge",
                              "Bytes in use in the statsig zone.", st->used);
    p = ngx_http_statsig_prom(p, last, z, "", "zone_free_bytes", "gauge",
                              "Free bytes in the statsig zone.",
                              st->size - st->used);
    p = ngx_http_statsig_prom(p, last, z, "", "zone_reloads_total",
                              "counter", "Reloads that kept the zone.",
                              sh->reloads);

    if (st->events) {
        p = ngx_http_statsig_prom_events(p, last, st);
    }

    return p;
}


static u_char *
ngx_http_statsig_prom_events(u_char *p, u_char *last,
    ngx_http_statsig_status_t *st)
{
    uint64_t                       v[19];
    ngx_uint_t                     i, k;
    ngx_http_statsig_sink_t       *sink;
    ngx_http_statsig_sink_sh_t    *ss;
    ngx_http_statsig_events_sh_t  *es;

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
        "in_flight_events", "gauge",
            "Events out of the queue: being sent or spooled.",
        "requests_total", "counter", "Requests made to the sink.",
        "failures_total", "counter", "Requests that failed.",
        "up", "gauge", "1 unless the last request failed.",
        "ignored_total", "counter",
            "Events not for the sink: no user id it needs.",
        "spooled_total", "counter",
            "Events moved to statsig_event_spool while the sink was down.",
        "unspooled_total", "counter",
            "Events read back from statsig_event_spool.",
        NULL
    };

    es = &st->es;

    p = ngx_slprintf(p, last, "# HELP statsig_events_deduped_total "
                     "Exposures not logged again within the dedupe "
                     "window.\n"
                     "# TYPE statsig_events_deduped_total counter\n"
                     "statsig_events_deduped_total{zone=\"%V\"} %uL\n",
                     &st->zone, (uint64_t) es->deduped);

    for (k = 0; names[3 * k]; k++) {
        p = ngx_slprintf(p, last, "# HELP statsig_events_%s %s\n"
                         "# TYPE statsig_events_%s %s\n",
                         names[3 * k], names[3 * k + 2], names[3 * k],
                         names[3 * k + 1]);

        for (i = 0; i < st->nsinks; i++) {
            sink = &st->sinks[i];
            ss = &es->sinks[sink->index];

            if (!sink->enabled && sink->type->conf) {
                continue;
            }

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
            v[16] = ss->ignored;
            v[17] = ss->spooled;
            v[18] = ss->unspooled;

            p = ngx_slprintf(p, last, "statsig_events_%s{zone=\"%V\","
                             "sink=\"%s\"} %uL\n", names[3 * k], &st->zone,
                             sink->type->name, v[k]);
        }
    }

    return p;
}


static u_char *
ngx_http_statsig_prom(u_char *p, u_char *last, ngx_str_t *zone,
    char *prefix, char *name, char *type, char *help, uint64_t value)
{
    char  *sep;

    sep = prefix[0] ? "_" : "";

    return ngx_slprintf(p, last, "# HELP statsig_%s%s%s %s\n"
                        "# TYPE statsig_%s%s%s %s\n"
                        "statsig_%s%s%s{zone=\"%V\"} %uL\n",
                        prefix, sep, name, help, prefix, sep, name, type,
                        prefix, sep, name, zone, value);
}
