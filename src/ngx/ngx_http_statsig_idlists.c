
/*
 * ngx_http_statsig_module: the fetching worker's ID lists.
 *
 * POST statsig_id_lists_url gives the index (each list's file, size and
 * creation time); each list's new bytes (Range: bytes=<offset>-) are then
 * applied, one download at a time, to a builder in this worker's memory,
 * and the lists are published into the zone when a round went well.  What
 * was applied (files and offsets) is kept in the zone beside the lists: a
 * worker that takes the fetch over goes on from there.  Both are also
 * written to "<statsig_specs_file>.idlists" (ngx_http_statsig_disk.c), which
 * the next start loads with the specs (ngx_http_statsig_zone.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_statsig_sync.h"
#include "ngx_http_statsig_snapshot.h"
#include "crc32.h"
#include "idlist.h"
#include "idlist_index.h"


typedef struct {
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_main_conf_t  *smcf;
    ngx_log_t                     *log;

    ngx_http_statsig_http_req_t   *req;
    statsig_idlist_builder_t      *builder;
    statsig_idlist_index_t         index;     /* the lists, as applied */
    ngx_uint_t                     indexed;   /* index is a round's */
    size_t                         next;      /* being downloaded */
    ngx_uint_t                     dirty;     /* applied, not published */
    ngx_uint_t                     reset;     /* start over next round */
    ngx_uint_t                     failed;    /* this round */
} ngx_http_statsig_idlists_t;


/* a step's outcome, counted in the zone and logged by the one rule */
#define ngx_http_statsig_idlists_result(s, ms, outcome, reason)              \
    ngx_http_statsig_fetch_result((s)->ctx, &(s)->ctx->sh->idlists_stats,    \
                                  "ID lists", ms, outcome, reason)


static ngx_int_t ngx_http_statsig_idlists_start(ngx_http_statsig_idlists_t *s,
    ngx_str_t *url, ngx_str_t *body, ngx_str_t *range);
static void ngx_http_statsig_idlists_done(ngx_http_statsig_http_res_t *res,
    void *data);
static ngx_int_t ngx_http_statsig_idlists_index(ngx_http_statsig_idlists_t *s,
    ngx_str_t *json, u_char *err, size_t errlen);
static void ngx_http_statsig_idlist_next(ngx_http_statsig_idlists_t *s);
static void ngx_http_statsig_idlist_done(ngx_http_statsig_http_res_t *res,
    void *data);
static void ngx_http_statsig_idlists_publish(ngx_http_statsig_idlists_t *s);
static void ngx_http_statsig_idlists_save(ngx_http_statsig_idlists_t *s);
static void ngx_http_statsig_idlists_keep(ngx_http_statsig_idlists_t *s,
    void *blob, size_t size);
static ngx_int_t ngx_http_statsig_idlists_resume(
    ngx_http_statsig_idlists_t *s);


static ngx_http_statsig_idlists_t  ngx_http_statsig_idlists;


ngx_int_t
ngx_http_statsig_idlists_init_worker(ngx_cycle_t *cycle)
{
    ngx_http_statsig_idlists_t    *s;
    ngx_http_statsig_main_conf_t  *smcf;

    s = &ngx_http_statsig_idlists;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    ngx_memzero(s, sizeof(ngx_http_statsig_idlists_t));

    s->smcf = smcf;
    s->ctx = smcf->shm_zone->data;
    s->log = cycle->log;

    statsig_idlist_index_init(&s->index);

    return NGX_OK;
}


void
ngx_http_statsig_idlists_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_statsig_idlists_stop();

    ngx_http_statsig_idlists.ctx = NULL;
}


ngx_uint_t
ngx_http_statsig_idlists_busy(void)
{
    return ngx_http_statsig_idlists.req != NULL;
}


/* drops what the holder had in flight and its lists */

void
ngx_http_statsig_idlists_stop(void)
{
    ngx_http_statsig_idlists_t  *s;

    s = &ngx_http_statsig_idlists;

    if (s->req) {
        ngx_http_statsig_http_cancel(s->req);
        s->req = NULL;
    }

    if (s->builder) {
        statsig_idlist_builder_free(s->builder);
        s->builder = NULL;
    }

    statsig_idlist_index_free(&s->index);
    s->indexed = 0;
}


void
ngx_http_statsig_idlists_fetch(void)
{
    ngx_str_t                    key, body = ngx_string("{}");
    ngx_http_statsig_idlists_t  *s;

    s = &ngx_http_statsig_idlists;

    /* no key (logged by the secret): not a failure of the sync */
    if (ngx_http_statsig_secret_get(&s->smcf->server_key, s->log, &key)
        != NGX_OK)
    {
        return;
    }

    if (ngx_http_statsig_idlists_start(s, &s->smcf->id_lists_url, &body,
                                       NULL)
        != NGX_OK)
    {
        ngx_http_statsig_idlists_result(s, 0,
                                        NGX_HTTP_STATSIG_REQUEST_FAILED,
                                        (u_char *) "cannot start the request");
    }
}


/* the index (body: a POST), or a list's bytes from an offset (range) */

static ngx_int_t
ngx_http_statsig_idlists_start(ngx_http_statsig_idlists_t *s, ngx_str_t *url,
    ngx_str_t *body, ngx_str_t *range)
{
    ngx_http_statsig_http_request_t  rq;

    ngx_memzero(&rq, sizeof(ngx_http_statsig_http_request_t));

    rq.url = *url;
    rq.data = s;

    if (body) {
        rq.method = "POST";
        rq.body = *body;
        rq.done = ngx_http_statsig_idlists_done;

    } else {
        rq.method = "GET";
        rq.done = ngx_http_statsig_idlist_done;
    }

    s->req = ngx_http_statsig_fetch_start(s->ctx, &rq, range);

    return s->req ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_statsig_idlists_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_idlists_t *s = data;

    u_char  err[NGX_HTTP_STATSIG_ERRLEN];

    s->req = NULL;

    if (ngx_http_statsig_fetch_error(s->ctx, res, err, sizeof(err)) != NULL
        || ngx_http_statsig_idlists_index(s, &res->body, err, sizeof(err))
           != NGX_OK)
    {
        ngx_http_statsig_idlists_result(s, res->elapsed,
                                        NGX_HTTP_STATSIG_REQUEST_FAILED, err);
        return;
    }

    ngx_http_statsig_idlists_result(s, res->elapsed, NGX_HTTP_STATSIG_ATTEMPT,
                                    NULL);

    s->next = 0;
    s->failed = 0;

    ngx_http_statsig_idlist_next(s);
}


/*
 * The new index against the lists applied (statsig_idlist_index_update):
 * known lists keep their offset; a list that is new, gone, or replaced by
 * a newer file makes the builder start over (it cannot drop one list).
 */

static ngx_int_t
ngx_http_statsig_idlists_index(ngx_http_statsig_idlists_t *s,
    ngx_str_t *json, u_char *err, size_t errlen)
{
    int                      reset;
    size_t                   i;
    statsig_idlist_entry_t  *l;

    if (s->builder == NULL && !s->reset
        && ngx_http_statsig_idlists_resume(s) != NGX_OK)
    {
        goto nomem;
    }

    reset = s->reset || s->builder == NULL;

    if (statsig_idlist_index_update(s->indexed ? &s->index : NULL,
                                    (char *) json->data, json->len,
                                    &s->index, &reset, (char *) err, errlen)
        != 0)
    {
        return NGX_ERROR;
    }

    s->indexed = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "statsig idlists: %uz lists in the index%s",
                   s->index.n, reset ? ", starting over" : "");

    if (reset) {
        if (s->builder) {
            statsig_idlist_builder_free(s->builder);
        }

        s->builder = statsig_idlist_builder_create();
        if (s->builder == NULL) {
            goto nomem;
        }

        s->dirty = 1;
        s->reset = 0;
    }

    l = s->index.entries;

    for (i = 0; i < s->index.n; i++) {
        l[i].list = statsig_idlist_builder_list(s->builder, l[i].name,
                                                l[i].name_len);
        if (l[i].list < 0) {
            goto nomem;
        }
    }

    return NGX_OK;

nomem:

    ngx_snprintf(err, errlen, "out of memory%Z");

    return NGX_ERROR;
}


/* downloads the next list that has new bytes, one at a time */

static void
ngx_http_statsig_idlist_next(ngx_http_statsig_idlists_t *s)
{
    u_char                   buf[sizeof("Range: bytes=-") + NGX_INT64_LEN];
    ngx_str_t                range, url;
    statsig_idlist_entry_t  *l;

    s->next = statsig_idlist_index_next(&s->index, s->next);

    if (s->next == s->index.n) {
        ngx_http_statsig_idlists_publish(s);
        return;
    }

    l = &s->index.entries[s->next];

    range.data = buf;
    range.len = ngx_sprintf(buf, "Range: bytes=%L-", l->offset) - buf;

    url.data = (u_char *) l->url;
    url.len = l->url_len;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "statsig idlists: \"%s\" from %L of %L", l->name,
                   l->offset, l->size);

    if (ngx_http_statsig_idlists_start(s, &url, NULL, &range) != NGX_OK) {
        ngx_http_statsig_idlists_result(s, 0,
                                        NGX_HTTP_STATSIG_REQUEST_FAILED,
                                        (u_char *) "cannot start the request");
    }
}


static void
ngx_http_statsig_idlist_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_idlists_t *s = data;

    u_char                   err[NGX_HTTP_STATSIG_ERRLEN];
    statsig_idlist_entry_t  *l;

    s->req = NULL;
    l = &s->index.entries[s->next];

    if (res->status == 416) {
        /* nothing after our offset */
        l->size = l->offset;
        s->next++;
        ngx_http_statsig_idlist_next(s);
        return;
    }

    if (ngx_http_statsig_fetch_error(s->ctx, res, err, sizeof(err)) != NULL) {
        ngx_http_statsig_idlists_result(s, res->elapsed,
                                        NGX_HTTP_STATSIG_REQUEST_FAILED, err);
        s->failed = 1;
        ngx_http_statsig_idlists_publish(s);
        return;
    }

    if (res->status == 200 && l->offset > 0) {
        /* the range was ignored: the whole file again (sets are idempotent
         * for + and -, so applying it from the start is correct) */
        l->offset = 0;
    }

    if (res->body.len
        && statsig_idlist_builder_apply(s->builder, l->list,
                                        (char *) res->body.data,
                                        res->body.len)
           != 0)
    {
        ngx_snprintf(err, sizeof(err), "ID list \"%s\": the data at offset "
                     "%L does not start with + or -; it is downloaded "
                     "again from the start%Z", l->name, l->offset);
        ngx_http_statsig_idlists_result(s, res->elapsed,
                                        NGX_HTTP_STATSIG_FAILED, err);
        s->reset = 1;
        s->failed = 1;
        s->next++;
        ngx_http_statsig_idlist_next(s);
        return;
    }

    l->offset += res->body.len;

    if (res->body.len) {
        s->dirty = 1;
    }

    if (l->offset < l->size && res->body.len == 0) {
        l->size = l->offset;
    }

    s->next++;
    ngx_http_statsig_idlist_next(s);
}


static void
ngx_http_statsig_idlists_publish(ngx_http_statsig_idlists_t *s)
{
    void    *blob;
    size_t   size;

    /*
     * A round that failed is not published: after a reset its lists may
     * be incomplete.  What it applied is published by the next good one.
     */

    if (s->failed || s->reset || !s->dirty || s->builder == NULL) {
        return;
    }

    blob = statsig_idlist_builder_finish(s->builder, &size);
    if (blob == NULL) {
        return;
    }

    if (ngx_http_statsig_publish(s->ctx, NULL, 0, blob, size,
                                 NGX_HTTP_STATSIG_SOURCE_NETWORK, s->log)
        == NGX_OK)
    {
        s->dirty = 0;
        ngx_http_statsig_idlists_save(s);
        ngx_http_statsig_idlists_keep(s, blob, size);

        ngx_http_statsig_idlists_result(s, 0, NGX_HTTP_STATSIG_UPDATED, NULL);
    }

    ngx_free(blob);
}


/*
 * What the published ID lists were built from (each list's name, file,
 * creation time and the bytes applied: statsig_idlist_state_write()),
 * kept in the zone beside them: a worker that takes the fetch over (a
 * reload, a dead fetcher) goes on with Range from there instead of
 * downloading every list again.  The record is written after its blob is
 * published, so it is never ahead of it; one behind only applies again
 * lines already applied, which leaves the same sets.
 */

static void
ngx_http_statsig_idlists_save(ngx_http_statsig_idlists_t *s)
{
    u_char                    *state;
    size_t                     size;
    ngx_slab_pool_t           *shpool;
    ngx_http_statsig_shctx_t  *sh;

    sh = s->ctx->sh;
    shpool = s->ctx->shpool;
    size = statsig_idlist_state_size(&s->index);

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->idlists_state) {
        ngx_slab_free_locked(shpool, sh->idlists_state);
        sh->idlists_state = NULL;
        sh->idlists_state_size = 0;
    }

    state = size ? ngx_slab_alloc_locked(shpool, size) : NULL;

    if (state) {
        statsig_idlist_state_write(&s->index, state);

        sh->idlists_state = state;
        sh->idlists_state_size = size;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* the other end: the lists and a builder from the zone, if it has them */

static ngx_int_t
ngx_http_statsig_idlists_resume(ngx_http_statsig_idlists_t *s)
{
    int                        rc;
    u_char                    *copy;
    size_t                     size;
    ngx_http_statsig_view_t    view;
    ngx_http_statsig_shctx_t  *sh;

    sh = s->ctx->sh;
    copy = NULL;

    if (ngx_http_statsig_view_acquire(&view) != NGX_OK) {
        return NGX_ERROR;
    }

    if (view.idlists == NULL) {
        rc = 0;
        goto done;
    }

    ngx_shmtx_lock(&s->ctx->shpool->mutex);

    size = sh->idlists_state_size;

    if (size) {
        copy = ngx_alloc(size, s->log);
        if (copy) {
            ngx_memcpy(copy, sh->idlists_state, size);
        }
    }

    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    /* none (an empty state too): every list from the start */
    if (size == 0) {
        rc = 0;
        goto done;
    }

    if (copy == NULL) {
        rc = -1;
        goto done;
    }

    rc = statsig_idlist_state_read(copy, size, &s->index);

    if (rc == -2) {
        /* not expected; then every list is downloaded from the start */
        ngx_log_error(NGX_LOG_ALERT, s->log, 0,
                      "statsig: the ID lists' state in the zone is corrupt");
        rc = 0;
        goto done;
    }

    if (rc != 0) {
        goto done;
    }

    s->builder = statsig_idlist_builder_from(view.idlists);
    if (s->builder == NULL) {
        statsig_idlist_index_free(&s->index);
        rc = -1;
        goto done;
    }

    s->indexed = 1;

    ngx_log_error(NGX_LOG_INFO, s->log, 0,
                  "statsig: ID lists go on from the %uz in the zone",
                  s->index.n);

done:

    ngx_http_statsig_view_release(&view);

    if (copy) {
        ngx_free(copy);
    }

    return (rc == 0) ? NGX_OK : NGX_ERROR;
}


/*
 * The published lists and what they were built from, on disk beside the
 * specs file: restarted with Statsig unreachable, in_segment_list answers
 * as before the restart; with Statsig reachable, the fetch goes on with
 * Range from the offsets kept.  The file is the header, the state and the
 * blob (ngx_http_statsig_idlists_file_t), written in the thread pool.
 */

static void
ngx_http_statsig_idlists_keep(ngx_http_statsig_idlists_t *s, void *blob,
    size_t size)
{
    u_char                           *buf;
    size_t                            state, off, len;
    uint64_t                          version;
    ngx_http_statsig_shctx_t         *sh;
    ngx_http_statsig_idlists_file_t   h;

    if (s->smcf->specs_file.len == 0) {
        return;
    }

    sh = s->ctx->sh;

    state = statsig_idlist_state_size(&s->index);
    off = ngx_http_statsig_idlists_blob_off(state);
    len = off + size;

    buf = ngx_alloc(len, s->log);
    if (buf == NULL) {
        return;
    }

    ngx_memzero(buf, off);

    statsig_idlist_state_write(&s->index, buf + sizeof(h));
    ngx_memcpy(buf + off, blob, size);

    ngx_memcpy(h.magic, NGX_HTTP_STATSIG_IDLISTS_MAGIC, 8);
    h.order = NGX_HTTP_STATSIG_IDLISTS_ORDER;
    h.state_len = state;
    h.blob_len = size;
    h.crc = statsig_crc32(0, buf + sizeof(h), len - sizeof(h));

    ngx_memcpy(buf, &h, sizeof(h));

    ngx_shmtx_lock(&s->ctx->shpool->mutex);
    version = ++sh->idlists_file.version;
    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "statsig idlists: %uz lists, %uz bytes to keep on disk",
                   s->index.n, len);

    ngx_http_statsig_disk_write(NGX_HTTP_STATSIG_DISK_IDLISTS, buf, len,
                                version, 0);
}
