
/*
 * ngx_http_statsig_module: the fetching worker's ID lists.
 *
 * POST statsig_id_lists_url gives the index (each list's file, size and
 * creation time); each list's new bytes (Range: bytes=<offset>-) are then
 * applied, one download at a time, to a builder in this worker's memory,
 * and the lists are published into the zone when a round went well.  What
 * was applied (files and offsets) is kept in the zone beside the lists: a
 * worker that takes the fetch over goes on from there.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <jansson.h>

#include "ngx_http_statsig_sync.h"
#include "ngx_http_statsig_snapshot.h"
#include "idlist.h"


typedef struct {
    ngx_str_t                      name;
    ngx_str_t                      url;
    ngx_str_t                      file_id;
    int64_t                        creation_time;
    off_t                          size;
    off_t                          offset;
    int                            list;
} ngx_http_statsig_idlist_t;


typedef struct {
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_main_conf_t  *smcf;
    ngx_log_t                     *log;

    ngx_http_statsig_http_req_t   *idl_req;
    statsig_idlist_builder_t      *builder;
    ngx_pool_t                    *idl_pool;
    ngx_array_t                   *idlists;   /* ngx_http_statsig_idlist_t */
    ngx_uint_t                     idl_next;
    ngx_uint_t                     idl_dirty;
    ngx_uint_t                     idl_reset;
    ngx_uint_t                     idl_failed;
} ngx_http_statsig_idlists_t;


/* a step's outcome, counted in the zone and logged by the one rule */
#define ngx_http_statsig_idlists_result(s, ms, outcome, reason)              \
    ngx_http_statsig_fetch_result((s)->ctx, &(s)->ctx->sh->idlists_stats,    \
                                  "ID lists", ms, outcome, reason)


static void ngx_http_statsig_idlists_done(ngx_http_statsig_http_res_t *res,
    void *data);
static ngx_int_t ngx_http_statsig_idlists_index(ngx_http_statsig_idlists_t *s,
    ngx_str_t *json, u_char *err, size_t errlen);
static void ngx_http_statsig_idlist_next(ngx_http_statsig_idlists_t *s);
static ngx_int_t ngx_http_statsig_idlist_start(ngx_http_statsig_idlists_t *s,
    ngx_str_t *url, ngx_str_t *body, ngx_str_t *range);
static void ngx_http_statsig_idlist_done(ngx_http_statsig_http_res_t *res,
    void *data);
static void ngx_http_statsig_idlists_publish(ngx_http_statsig_idlists_t *s);
static void ngx_http_statsig_idlists_save(ngx_http_statsig_idlists_t *s);
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
    return ngx_http_statsig_idlists.idl_req != NULL;
}


/* drops what the holder had in flight and its state */

void
ngx_http_statsig_idlists_stop(void)
{
    ngx_http_statsig_idlists_t  *s;

    s = &ngx_http_statsig_idlists;

    if (s->idl_req) {
        ngx_http_statsig_http_cancel(s->idl_req);
        s->idl_req = NULL;
    }

    if (s->builder) {
        statsig_idlist_builder_free(s->builder);
        s->builder = NULL;
    }

    if (s->idl_pool) {
        ngx_destroy_pool(s->idl_pool);
        s->idl_pool = NULL;
        s->idlists = NULL;
    }
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

    if (ngx_http_statsig_idlist_start(s, &s->smcf->id_lists_url, &body,
                                      NULL)
        != NGX_OK)
    {
        ngx_http_statsig_idlists_result(s, 0, NGX_HTTP_STATSIG_FAILED,
                                        (u_char *) "cannot start the request");
    }
}


/* the index (body: a POST), or a list's bytes from an offset (range) */

static ngx_int_t
ngx_http_statsig_idlist_start(ngx_http_statsig_idlists_t *s, ngx_str_t *url,
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

    s->idl_req = ngx_http_statsig_fetch_start(s->ctx, &rq, range);

    return s->idl_req ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_statsig_idlists_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_idlists_t *s = data;

    u_char  err[NGX_HTTP_STATSIG_ERRLEN];

    s->idl_req = NULL;

    if (ngx_http_statsig_fetch_error(s->ctx, res, err, sizeof(err)) != NULL
        || ngx_http_statsig_idlists_index(s, &res->body, err, sizeof(err))
           != NGX_OK)
    {
        ngx_http_statsig_idlists_result(s, res->elapsed,
                                        NGX_HTTP_STATSIG_FAILED, err);
        return;
    }

    ngx_http_statsig_idlists_result(s, res->elapsed, NGX_HTTP_STATSIG_ATTEMPT,
                                    NULL);

    s->idl_next = 0;
    s->idl_failed = 0;

    ngx_http_statsig_idlist_next(s);
}


static ngx_int_t
ngx_http_statsig_idlist_str(ngx_pool_t *pool, json_t *v, ngx_str_t *s)
{
    const char  *p;

    p = json_string_value(v);
    if (p == NULL) {
        p = "";
    }

    s->len = ngx_strlen(p);
    s->data = ngx_pstrdup(pool, &(ngx_str_t) { s->len, (u_char *) p });

    return s->data ? NGX_OK : NGX_ERROR;
}


/*
 * The index: {"name": {"name", "url", "size", "creationTime", "fileID"}}.
 * Known lists keep their offset; a list that is new, gone, or replaced by
 * a newer file makes the builder start over (it cannot drop one list).
 */

static ngx_int_t
ngx_http_statsig_idlists_index(ngx_http_statsig_idlists_t *s, ngx_str_t *json,
    u_char *err, size_t errlen)
{
    json_t                     *root, *v;
    const char                 *name;
    ngx_uint_t                  i, j, reset, found;
    ngx_pool_t                 *pool;
    ngx_array_t                *lists;
    json_error_t                jerr;
    ngx_http_statsig_idlist_t  *l, *old;

    root = json_loadb((char *) json->data, json->len, 0, &jerr);

    if (root == NULL || !json_is_object(root)) {
        ngx_snprintf(err, errlen, "the ID lists index is not a JSON "
                     "object: %s%Z", root ? "" : jerr.text);
        if (root) {
            json_decref(root);
        }

        return NGX_ERROR;
    }

    pool = ngx_create_pool(4096, s->log);
    if (pool == NULL) {
        goto nomem;
    }

    lists = ngx_array_create(pool, 8, sizeof(ngx_http_statsig_idlist_t));
    if (lists == NULL) {
        goto nomem;
    }

    if (s->builder == NULL && !s->idl_reset
        && ngx_http_statsig_idlists_resume(s) != NGX_OK)
    {
        goto nomem;
    }

    reset = s->idl_reset || s->builder == NULL;
    old = s->idlists ? s->idlists->elts : NULL;

    json_object_foreach(root, name, v) {
        if (!json_is_object(v)
            || !json_is_string(json_object_get(v, "url")))
        {
            continue;
        }

        l = ngx_array_push(lists);
        if (l == NULL) {
            goto nomem;
        }

        ngx_memzero(l, sizeof(ngx_http_statsig_idlist_t));

        if (ngx_http_statsig_idlist_str(pool, json_object_get(v, "url"),
                                        &l->url)
            != NGX_OK
            || ngx_http_statsig_idlist_str(pool,
                                           json_object_get(v, "fileID"),
                                           &l->file_id)
               != NGX_OK)
        {
            goto nomem;
        }

        l->name.len = ngx_strlen(name);
        l->name.data = ngx_pstrdup(pool,
                                   &(ngx_str_t) { l->name.len,
                                                  (u_char *) name });
        if (l->name.data == NULL) {
            goto nomem;
        }

        l->size = (off_t) json_number_value(json_object_get(v, "size"));
        l->creation_time = (int64_t) json_number_value(
                                         json_object_get(v, "creationTime"));

        found = 0;

        for (j = 0; old && j < s->idlists->nelts; j++) {
            if (old[j].name.len != l->name.len
                || ngx_strncmp(old[j].name.data, l->name.data, l->name.len)
                   != 0)
            {
                continue;
            }

            found = 1;

            if (old[j].file_id.len != l->file_id.len
                || ngx_strncmp(old[j].file_id.data, l->file_id.data,
                               l->file_id.len)
                   != 0)
            {
                if (l->creation_time < old[j].creation_time) {
                    /* an older file: keep ours */
                    l->file_id = old[j].file_id;
                    l->creation_time = old[j].creation_time;
                    l->offset = old[j].offset;
                    l->size = old[j].offset;

                } else {
                    reset = 1;
                }

            } else {
                l->offset = old[j].offset;
            }
        }

        if (!found) {
            reset = 1;
        }
    }

    json_decref(root);
    root = NULL;

    /* lists that left the index */
    if (old && lists->nelts != s->idlists->nelts) {
        reset = 1;
    }

    if (reset) {
        if (s->builder) {
            statsig_idlist_builder_free(s->builder);
        }

        s->builder = statsig_idlist_builder_create();
        if (s->builder == NULL) {
            goto nomem;
        }

        l = lists->elts;

        for (i = 0; i < lists->nelts; i++) {
            l[i].offset = 0;
        }

        s->idl_dirty = 1;
        s->idl_reset = 0;
    }

    l = lists->elts;

    for (i = 0; i < lists->nelts; i++) {
        l[i].list = statsig_idlist_builder_list(s->builder,
                                                (char *) l[i].name.data,
                                                l[i].name.len);
        if (l[i].list < 0) {
            goto nomem;
        }
    }

    if (s->idl_pool) {
        ngx_destroy_pool(s->idl_pool);
    }

    s->idl_pool = pool;
    s->idlists = lists;

    return NGX_OK;

nomem:

    if (root) {
        json_decref(root);
    }

    if (pool) {
        ngx_destroy_pool(pool);
    }

    ngx_snprintf(err, errlen, "out of memory%Z");

    return NGX_ERROR;
}


/* downloads the next list that has new bytes, one at a time */

static void
ngx_http_statsig_idlist_next(ngx_http_statsig_idlists_t *s)
{
    u_char                      buf[sizeof("Range: bytes=-") + NGX_OFF_T_LEN];
    ngx_str_t                   range;
    ngx_http_statsig_idlist_t  *l;

    l = s->idlists->elts;

    for ( /* void */ ; s->idl_next < s->idlists->nelts; s->idl_next++) {
        if (l[s->idl_next].size > l[s->idl_next].offset) {
            break;
        }
    }

    if (s->idl_next == s->idlists->nelts) {
        ngx_http_statsig_idlists_publish(s);
        return;
    }

    l = &l[s->idl_next];

    range.data = buf;
    range.len = ngx_sprintf(buf, "Range: bytes=%O-", l->offset) - buf;

    if (ngx_http_statsig_idlist_start(s, &l->url, NULL, &range) != NGX_OK)
    {
        ngx_http_statsig_idlists_result(s, 0, NGX_HTTP_STATSIG_FAILED,
                                        (u_char *) "cannot start the request");
    }
}


static void
ngx_http_statsig_idlist_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_idlists_t *s = data;

    u_char                      err[NGX_HTTP_STATSIG_ERRLEN];
    ngx_http_statsig_idlist_t  *l;

    s->idl_req = NULL;
    l = &((ngx_http_statsig_idlist_t *) s->idlists->elts)[s->idl_next];

    if (res->status == 416) {
        /* nothing after our offset */
        l->size = l->offset;
        s->idl_next++;
        ngx_http_statsig_idlist_next(s);
        return;
    }

    if (ngx_http_statsig_fetch_error(s->ctx, res, err, sizeof(err)) != NULL) {
        ngx_http_statsig_idlists_result(s, res->elapsed,
                                        NGX_HTTP_STATSIG_FAILED, err);
        s->idl_failed = 1;
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
        ngx_snprintf(err, sizeof(err), "ID list \"%V\": the data at offset "
                     "%O does not start with + or -; it is downloaded "
                     "again from the start%Z", &l->name, l->offset);
        ngx_http_statsig_idlists_result(s, res->elapsed,
                                        NGX_HTTP_STATSIG_FAILED, err);
        s->idl_reset = 1;
        s->idl_failed = 1;
        s->idl_next++;
        ngx_http_statsig_idlist_next(s);
        return;
    }

    l->offset += res->body.len;

    if (res->body.len) {
        s->idl_dirty = 1;
    }

    if (l->offset < l->size && res->body.len == 0) {
        l->size = l->offset;
    }

    s->idl_next++;
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

    if (s->idl_failed || s->idl_reset || !s->idl_dirty
        || s->builder == NULL)
    {
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
        s->idl_dirty = 0;
        ngx_http_statsig_idlists_save(s);

        ngx_http_statsig_idlists_result(s, 0, NGX_HTTP_STATSIG_UPDATED, NULL);
    }

    ngx_free(blob);
}


/*
 * What the published ID lists were built from (each list's name, file,
 * creation time and the bytes applied), kept in the zone beside them:
 * a worker that takes the fetch over (a reload, a dead fetcher) goes on
 * with Range from there instead of downloading every list again.  The
 * record is written after its blob is published, so it is never ahead of
 * it; one behind only applies again lines already applied, which leaves
 * the same sets.  Each list: name, fileID (uint32 length, bytes), then
 * the creation time and the offset (int64).
 */

static void
ngx_http_statsig_idlists_save(ngx_http_statsig_idlists_t *s)
{
    u_char                     *p, *state;
    size_t                      size;
    int64_t                     v[2];
    uint32_t                    len;
    ngx_uint_t                  i;
    ngx_slab_pool_t            *shpool;
    ngx_http_statsig_idlist_t  *l;
    ngx_http_statsig_shctx_t   *sh;

    sh = s->ctx->sh;
    shpool = s->ctx->shpool;
    l = s->idlists->elts;
    size = 0;

    for (i = 0; i < s->idlists->nelts; i++) {
        size += 2 * sizeof(uint32_t) + l[i].name.len + l[i].file_id.len
                + 2 * sizeof(int64_t);
    }

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->idlists_state) {
        ngx_slab_free_locked(shpool, sh->idlists_state);
        sh->idlists_state = NULL;
        sh->idlists_state_size = 0;
    }

    state = size ? ngx_slab_alloc_locked(shpool, size) : NULL;

    if (state) {
        p = state;

        for (i = 0; i < s->idlists->nelts; i++) {
            len = (uint32_t) l[i].name.len;
            p = ngx_cpymem(p, &len, sizeof(uint32_t));
            p = ngx_cpymem(p, l[i].name.data, len);

            len = (uint32_t) l[i].file_id.len;
            p = ngx_cpymem(p, &len, sizeof(uint32_t));
            p = ngx_cpymem(p, l[i].file_id.data, len);

            v[0] = l[i].creation_time;
            v[1] = (int64_t) l[i].offset;
            p = ngx_cpymem(p, v, sizeof(v));
        }

        sh->idlists_state = state;
        sh->idlists_state_size = size;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* the other end: the lists and a builder from the zone, if it has them */

static ngx_int_t
ngx_http_statsig_idlists_resume(ngx_http_statsig_idlists_t *s)
{
    u_char                     *p, *last, *copy;
    size_t                      size;
    int64_t                     v[2];
    uint32_t                    len;
    ngx_int_t                   rc;
    ngx_str_t                  *str[2];
    ngx_uint_t                  k;
    ngx_pool_t                 *pool;
    ngx_array_t                *lists;
    ngx_http_statsig_view_t     view;
    ngx_http_statsig_idlist_t  *l;
    ngx_http_statsig_shctx_t   *sh;

    sh = s->ctx->sh;
    copy = NULL;
    pool = NULL;
    rc = NGX_ERROR;

    if (ngx_http_statsig_view_acquire(&view) != NGX_OK) {
        return NGX_ERROR;
    }

    if (view.idlists == NULL) {
        rc = NGX_OK;
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

    if (size == 0) {
        rc = NGX_OK;
        goto done;
    }

    if (copy == NULL) {
        goto done;
    }

    pool = ngx_create_pool(4096, s->log);
    if (pool == NULL) {
        goto done;
    }

    lists = ngx_array_create(pool, 8, sizeof(ngx_http_statsig_idlist_t));
    if (lists == NULL) {
        goto done;
    }

    p = copy;
    last = copy + size;

    while (p < last) {
        l = ngx_array_push(lists);
        if (l == NULL) {
            goto done;
        }

        ngx_memzero(l, sizeof(ngx_http_statsig_idlist_t));

        str[0] = &l->name;
        str[1] = &l->file_id;

        for (k = 0; k < 2; k++) {
            if ((size_t) (last - p) < sizeof(uint32_t)) {
                goto corrupt;
            }

            ngx_memcpy(&len, p, sizeof(uint32_t));
            p += sizeof(uint32_t);

            if ((size_t) (last - p) < len) {
                goto corrupt;
            }

            str[k]->len = len;
            str[k]->data = ngx_pnalloc(pool, len + 1);
            if (str[k]->data == NULL) {
                goto done;
            }

            ngx_memcpy(str[k]->data, p, len);
            str[k]->data[len] = '\0';
            p += len;
        }

        if ((size_t) (last - p) < sizeof(v)) {
            goto corrupt;
        }

        ngx_memcpy(v, p, sizeof(v));
        p += sizeof(v);

        l->creation_time = v[0];
        l->offset = (off_t) v[1];
        l->size = l->offset;
        l->list = -1;
    }

    s->builder = statsig_idlist_builder_from(view.idlists);
    if (s->builder == NULL) {
        goto done;
    }

    s->idl_pool = pool;
    s->idlists = lists;
    pool = NULL;

    ngx_log_error(NGX_LOG_INFO, s->log, 0,
                  "statsig: ID lists go on from the %ui in the zone",
                  lists->nelts);

    rc = NGX_OK;
    goto done;

corrupt:

    /* not expected; then every list is downloaded from the start */
    ngx_log_error(NGX_LOG_ALERT, s->log, 0,
                  "statsig: the ID lists' state in the zone is corrupt");
    rc = NGX_OK;

done:

    ngx_http_statsig_view_release(&view);

    if (pool) {
        ngx_destroy_pool(pool);
    }

    if (copy) {
        ngx_free(copy);
    }

    return rc;
}
