
/*
 * ngx_http_statsig_module: location handlers.
 *
 *   statsig_status;  JSON, or Prometheus text with ?format=prometheus.
 *                    503 until a specs snapshot is loaded (readiness).
 *   (statsig_api;    ngx_http_statsig_api.c)
 */


#include "ngx_http_statsig_zone.h"
#include "ngx_http_statsig_snapshot.h"
#include "ngx_http_statsig_events.h"
#include "ngx_http_statsig_response.h"
#include "idlist.h"


#define NGX_HTTP_STATSIG_STATUS_JSON        0
#define NGX_HTTP_STATSIG_STATUS_PROMETHEUS  1


typedef struct {
    ngx_str_t                      zone;
    size_t                         size;
    size_t                         used;
    ngx_uint_t                     local;
    ngx_uint_t                     workers;
    time_t                         now;
    ngx_str_t                      file;

    /* what this worker's requests see now */
    ngx_uint_t                     view_generation;
    int64_t                        view_time;
    ngx_uint_t                     view_idlists;
    ngx_uint_t                     view_loaded;

    ngx_http_statsig_shctx_t       sh;       /* a copy, taken locked */
} ngx_http_statsig_status_t;


static ngx_buf_t *ngx_http_statsig_status_json(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st);
static u_char *ngx_http_statsig_json_stats(u_char *p,
    ngx_http_statsig_stats_t *ss);
static u_char *ngx_http_statsig_json_time(u_char *p, time_t t);
static ngx_buf_t *ngx_http_statsig_status_prometheus(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st);
static u_char *ngx_http_statsig_prom(u_char *p, ngx_str_t *zone,
    char *prefix, char *name, char *type, char *help, uint64_t value);


static char  *ngx_http_statsig_sources[] = {
    "null", "\"file\"", "\"network\""
};


ngx_int_t
ngx_http_statsig_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      format, type;
    ngx_buf_t                     *b;
    ngx_uint_t                     fmt, i;
    ngx_http_statsig_view_t        view;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_status_t     *st;
    ngx_http_statsig_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    fmt = NGX_HTTP_STATSIG_STATUS_JSON;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            fmt = NGX_HTTP_STATSIG_STATUS_PROMETHEUS;

        } else if (!(format.len == 4
                     && ngx_strncmp(format.data, "json", 4) == 0))
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_statsig_status_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* postconfiguration guarantees the zone exists */
    ctx = smcf->shm_zone->data;

    st->zone = smcf->shm_zone->shm.name;
    st->size = smcf->shm_zone->shm.size;
    st->local = !ngx_http_statsig_secret_set(&smcf->server_key);
    st->file = smcf->specs_file;
    st->now = ngx_time();

    (void) ngx_http_statsig_zone_usage(smcf->shm_zone, &st->used);

    if (ngx_http_statsig_view_acquire(&view) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->view_generation = view.generation;
    st->view_loaded = (view.snap != NULL);
    st->view_time = view.snap ? statsig_snapshot_time(view.snap) : 0;
    st->view_idlists = view.idlists ? statsig_idlists_count(view.idlists)
                                    : 0;

    ngx_http_statsig_view_release(&view);

    ngx_shmtx_lock(&ctx->shpool->mutex);
    ngx_memcpy(&st->sh, ctx->sh, sizeof(ngx_http_statsig_shctx_t));
    ngx_shmtx_unlock(&ctx->shpool->mutex);

    for (i = 0; i < NGX_HTTP_STATSIG_SLOTS; i++) {
        if (st->sh.slots[i].pid) {
            st->workers++;
        }
    }

    if (st->sh.specs_source > NGX_HTTP_STATSIG_SOURCE_NETWORK) {
        st->sh.specs_source = NGX_HTTP_STATSIG_SOURCE_NONE;
    }

    if (fmt == NGX_HTTP_STATSIG_STATUS_PROMETHEUS) {
        ngx_str_set(&type, "text/plain; version=0.0.4");
        b = ngx_http_statsig_status_prometheus(r, st);

    } else {
        ngx_str_set(&type, "application/json");
        b = ngx_http_statsig_status_json(r, st);
    }

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_statsig_response_buf(r, st->sh.specs_loaded
                                            ? NGX_HTTP_OK
                                            : NGX_HTTP_SERVICE_UNAVAILABLE,
                                         &type, b);
}


static ngx_buf_t *
ngx_http_statsig_status_json(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st)
{
    size_t                     len;
    ngx_str_t                  events;
    ngx_buf_t                 *b;
    ngx_http_statsig_shctx_t  *sh;

    sh = &st->sh;

    if (ngx_http_statsig_events_status(r, 0, &st->zone, &events) != NGX_OK) {
        return NULL;
    }

    /* zone names are restricted at parse time: no quoting needed */

    len = 2048 + st->zone.len + 6 * st->file.len
          + 2 * 6 * NGX_HTTP_STATSIG_ERRLEN + events.len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    b->last = ngx_sprintf(b->last,
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
        b->last = ngx_sprintf(b->last, "\"time\":%L,\"age\":%L,"
                              "\"updated\":%T,",
                              sh->specs_time,
                              (int64_t) st->now - sh->specs_time / 1000,
                              sh->specs_updated);

    } else {
        b->last = ngx_sprintf(b->last,
                              "\"time\":null,\"age\":null,\"updated\":null,");
    }

    b->last = ngx_sprintf(b->last, "\"file\":");

    if (st->file.len) {
        *b->last++ = '"';
        b->last = (u_char *) ngx_escape_json(b->last, st->file.data,
                                             st->file.len);
        b->last = ngx_sprintf(b->last, "\",\"file_writes\":%ui,"
                              "\"file_write_errors\":%ui,",
                              sh->file_writes, sh->file_write_errors);

    } else {
        b->last = ngx_sprintf(b->last, "null,");
    }

    b->last = ngx_sprintf(b->last, "\"sync\":");
    b->last = ngx_http_statsig_json_stats(b->last, &sh->specs_stats);

    b->last = ngx_sprintf(b->last, "},\"id_lists\":{\"count\":%ui,"
                          "\"sync\":", sh->idlists_count);
    b->last = ngx_http_statsig_json_stats(b->last, &sh->idlists_stats);

    b->last = ngx_sprintf(b->last, "},\"lease\":{\"pid\":%P,"
                          "\"changes\":%ui},\"worker\":{\"pid\":%P,"
                          "\"generation\":%ui,\"loaded\":%s,"
                          "\"specs_time\":%L,\"id_lists\":%ui}%V}\n",
                          sh->lease.pid, sh->lease.changes, ngx_pid,
                          st->view_generation,
                          st->view_loaded ? "true" : "false",
                          st->view_time, st->view_idlists, &events);

    return b;
}


static u_char *
ngx_http_statsig_json_stats(u_char *p, ngx_http_statsig_stats_t *ss)
{
    static char  *states[] = { "unknown", "ok", "failing" };

    p = ngx_sprintf(p, "{\"state\":\"%s\",\"requests\":%ui,"
                    "\"failures\":%ui,\"updates\":%ui,\"no_updates\":%ui,"
                    "\"ignored\":%ui,\"latency_ms\":{\"last\":%M,"
                    "\"max\":%M,\"avg\":%uL},\"last_attempt\":",
                    states[ss->state > 2 ? 0 : ss->state], ss->requests,
                    ss->failures, ss->updates, ss->no_updates, ss->ignored,
                    ss->last_ms, ss->max_ms,
                    ss->requests ? ss->total_ms / ss->requests : 0);

    p = ngx_http_statsig_json_time(p, ss->last_attempt);
    p = ngx_sprintf(p, ",\"last_success\":");
    p = ngx_http_statsig_json_time(p, ss->last_success);
    p = ngx_sprintf(p, ",\"last_error\":");
    p = ngx_http_statsig_json_time(p, ss->last_error);
    p = ngx_sprintf(p, ",\"error\":");

    if (ss->report.reason[0]) {
        ss->report.reason[NGX_HTTP_STATSIG_ERRLEN - 1] = '\0';
        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, ss->report.reason,
                                       ngx_strlen(ss->report.reason));
        *p++ = '"';

    } else {
        p = ngx_sprintf(p, "null");
    }

    *p++ = '}';

    return p;
}


static u_char *
ngx_http_statsig_json_time(u_char *p, time_t t)
{
    if (t == 0) {
        return ngx_sprintf(p, "null");
    }

    return ngx_sprintf(p, "%T", t);
}


static ngx_buf_t *
ngx_http_statsig_status_prometheus(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st)
{
    char                      *k;
    u_char                    *p;
    ngx_buf_t                 *b;
    ngx_uint_t                 i;
    ngx_str_t                 *z, events;
    ngx_http_statsig_stats_t  *ss;
    ngx_http_statsig_shctx_t  *sh;

    static char  *kinds[] = { "specs", "id_lists" };

    sh = &st->sh;
    z = &st->zone;

    if (ngx_http_statsig_events_status(r, 1, z, &events) != NGX_OK) {
        return NULL;
    }

    b = ngx_create_temp_buf(r->pool, 40 * (256 + z->len) + events.len);
    if (b == NULL) {
        return NULL;
    }

    p = b->last;

    p = ngx_http_statsig_prom(p, z, "", "specs_loaded", "gauge",
                              "Whether a specs snapshot is loaded.",
                              sh->specs_loaded);
    p = ngx_http_statsig_prom(p, z, "", "specs_time_ms", "gauge",
                              "Time (lcut) of the loaded specs, ms.",
                              sh->specs_loaded ? sh->specs_time : 0);
    p = ngx_http_statsig_prom(p, z, "", "specs_age_seconds", "gauge",
                              "Seconds since the loaded specs' time.",
                              sh->specs_loaded && sh->specs_time
                              ? st->now - sh->specs_time / 1000 : 0);
    p = ngx_http_statsig_prom(p, z, "", "specs_source_network", "gauge",
                              "1 when the specs came from the network, 0 "
                              "from the specs file.",
                              sh->specs_source
                              == NGX_HTTP_STATSIG_SOURCE_NETWORK);
    p = ngx_http_statsig_prom(p, z, "", "specs_generation", "counter",
                              "Snapshots published in the zone.",
                              sh->generation);
    p = ngx_http_statsig_prom(p, z, "", "specs_file_writes_total", "counter",
                              "Specs file rewrites after a fetch.",
                              sh->file_writes);
    p = ngx_http_statsig_prom(p, z, "", "id_lists", "gauge",
                              "ID lists loaded.", sh->idlists_count);

    for (i = 0; i < 2; i++) {
        ss = i ? &sh->idlists_stats : &sh->specs_stats;

        k = kinds[i];

        p = ngx_http_statsig_prom(p, z, k, "sync_up", "gauge",
                                  "1 unless the last sync failed.",
                                  ss->state
                                  != NGX_HTTP_STATSIG_STATE_FAILING);
        p = ngx_http_statsig_prom(p, z, k, "sync_requests_total", "counter",
                                  "Requests made.", ss->requests);
        p = ngx_http_statsig_prom(p, z, k, "sync_failures_total", "counter",
                                  "Failed syncs.", ss->failures);
        p = ngx_http_statsig_prom(p, z, k, "sync_updates_total", "counter",
                                  "Syncs that published new data.",
                                  ss->updates);
        p = ngx_http_statsig_prom(p, z, k, "sync_no_updates_total",
                                  "counter", "Syncs with nothing new.",
                                  ss->no_updates);
        p = ngx_http_statsig_prom(p, z, k, "sync_latency_ms_sum", "counter",
                                  "Total request time, ms.", ss->total_ms);
        p = ngx_http_statsig_prom(p, z, k, "sync_latency_ms_max", "gauge",
                                  "Slowest request, ms.", ss->max_ms);
        p = ngx_http_statsig_prom(p, z, k, "sync_last_success_seconds",
                                  "gauge", "Unix time of the last good "
                                  "sync.", ss->last_success);
        p = ngx_http_statsig_prom(p, z, k, "sync_last_error_seconds",
                                  "gauge", "Unix time of the last failed "
                                  "sync.", ss->last_error);
    }

    p = ngx_http_statsig_prom(p, z, "", "zone_size_bytes", "gauge",
                              "Size of the statsig shared zone.", st->size);
    p = ngx_http_statsig_prom(p, z, "", "zone_used_bytes", "gauge",
                              "Bytes in use in the statsig zone.", st->used);
    p = ngx_http_statsig_prom(p, z, "", "zone_free_bytes", "gauge",
                              "Free bytes in the statsig zone.",
                              st->size - st->used);
    p = ngx_http_statsig_prom(p, z, "", "zone_reloads_total", "counter",
                              "Reloads that kept the zone.", sh->reloads);
    p = ngx_cpymem(p, events.data, events.len);

    b->last = p;

    return b;
}


static u_char *
ngx_http_statsig_prom(u_char *p, ngx_str_t *zone, char *prefix, char *name,
    char *type, char *help, uint64_t value)
{
    char  *sep;

    sep = prefix[0] ? "_" : "";

    return ngx_sprintf(p, "# HELP statsig_%s%s%s %s\n"
                          "# TYPE statsig_%s%s%s %s\n"
                          "statsig_%s%s%s{zone=\"%V\"} %uL\n",
                       prefix, sep, name, help, prefix, sep, name, type,
                       prefix, sep, name, zone, value);
}


char *
ngx_http_statsig_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_statsig_conf_handler(cf, cmd, conf,
                                         ngx_http_statsig_status_handler);
}
