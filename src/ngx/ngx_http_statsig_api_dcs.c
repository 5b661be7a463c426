
/*
 * ngx_http_statsig_module: statsig_api's download_config_specs, the
 * current specs document served to other SDKs (a forward-proxy tier).
 *
 *   GET|HEAD .../v1/download_config_specs[/<key>.json][?sinceTime=N]
 *   POST     .../v1/download_config_specs  {"sinceTime": N}
 *   and the same under .../v2/: DCS v2, for the Rust-core SDKs
 *
 * sinceTime at or past the current specs' time: {"has_updates":false}.
 * Otherwise the raw JSON of the current snapshot, which the zone does not
 * keep (only the compiled blob): it is statsig_specs_file, the
 * last-known-good file the sync rewrites after each new document.  The
 * file is served (sendfile) only when its "time" is the time of the
 * snapshot this worker serves, else 503 until the two agree (the write
 * follows the publish by a moment).  The file's time is found by a scan
 * of its top-level object, once per worker and version of the file.
 *
 * v2 is that file converted (statsig_dcs_v2, src/core/dcs_v2.c), once per
 * worker and version of the file, in the thread pool that compiles specs
 * (~50 ms for a 5 MB document): the requests that come meanwhile wait for
 * it, the others are not held up.  The text is kept in the worker's
 * memory, counted by the responses that send it, until a newer file
 * replaces it.
 */


#include "ngx_http_statsig_api.h"
#include "ngx_http_statsig_response.h"
#include "ngx_http_statsig_zone.h"

#include "dcs_v2.h"

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif


/* a DCS v2 text, freed when the worker and its responses are done with it */
typedef struct {
    ngx_uint_t                     refs;
    statsig_buf_t                  text;
} ngx_http_statsig_dcs_v2_t;


typedef struct {
    ngx_http_statsig_file_id_t     id;
    int64_t                        time;       /* -1: none found */
    ngx_uint_t                     valid;
    /* that file as DCS v2, or why it cannot be */
    ngx_http_statsig_dcs_v2_t     *v2;
    ngx_uint_t                     v2_failed;
    u_char                         v2_err[256];
} ngx_http_statsig_dcs_file_t;


/* the conversion under way, and the requests that wait for it */
typedef struct {
    ngx_uint_t                     running;
    ngx_http_statsig_file_id_t     id;         /* of the file converted */
    int64_t                        time;       /* its specs' time */
    u_char                        *data;       /* its bytes (ngx_alloc) */
    size_t                         size;
    double                         now;
    ngx_msec_t                     start;
    statsig_buf_t                  out;
    int                            rc;
    char                           err[256];
    ngx_queue_t                    waiting;
#if (NGX_THREADS)
    ngx_uint_t                     tried;
    ngx_thread_pool_t             *tp;
    ngx_thread_task_t             *task;
#endif
} ngx_http_statsig_dcs_job_t;


typedef struct {
    ngx_queue_t                    queue;
    ngx_http_request_t            *r;
    int64_t                        since;
    ngx_uint_t                     woken;
} ngx_http_statsig_dcs_wait_t;


static ngx_int_t ngx_http_statsig_dcs_serve(ngx_http_request_t *r,
    int64_t since, ngx_uint_t v2);
static ngx_int_t ngx_http_statsig_dcs_since(ngx_http_request_t *r,
    const statsig_value_t *body, int64_t *since);
static u_char *ngx_http_statsig_dcs_read(ngx_http_request_t *r, ngx_fd_t fd,
    ngx_str_t *name, ngx_file_info_t *fi);
static ngx_int_t ngx_http_statsig_dcs_v2(ngx_http_request_t *r,
    int64_t since, u_char *data, size_t size);
static ngx_int_t ngx_http_statsig_dcs_v2_send(ngx_http_request_t *r,
    ngx_http_statsig_dcs_v2_t *v2);
static ngx_int_t ngx_http_statsig_dcs_v2_wait(ngx_http_request_t *r,
    int64_t since);
static void ngx_http_statsig_dcs_v2_unwait(void *data);
static void ngx_http_statsig_dcs_v2_run(ngx_http_statsig_dcs_job_t *job);
static void ngx_http_statsig_dcs_v2_done(ngx_http_statsig_dcs_job_t *job,
    ngx_log_t *log);
static void ngx_http_statsig_dcs_v2_release(void *data);
#if (NGX_THREADS)
static ngx_thread_task_t *ngx_http_statsig_dcs_v2_task(
    ngx_http_statsig_dcs_job_t *job);
static void ngx_http_statsig_dcs_v2_run_task(void *data, ngx_log_t *log);
static void ngx_http_statsig_dcs_v2_event(ngx_event_t *ev);
#endif
static int64_t ngx_http_statsig_dcs_time(u_char *p, u_char *last);
static u_char *ngx_http_statsig_dcs_ws(u_char *p, u_char *last);
static u_char *ngx_http_statsig_dcs_string(u_char *p, u_char *last);
static u_char *ngx_http_statsig_dcs_value(u_char *p, u_char *last);


/* per worker: the specs file last scanned, the conversion to v2 */
static ngx_http_statsig_dcs_file_t  ngx_http_statsig_dcs_file;
static ngx_http_statsig_dcs_job_t   ngx_http_statsig_dcs_job;


ngx_int_t
ngx_http_statsig_api_dcs(ngx_http_request_t *r, const statsig_value_t *body,
    ngx_uint_t v2)
{
    int64_t  since;

    if (ngx_http_statsig_dcs_since(r, body, &since) != NGX_OK) {
        return ngx_http_statsig_response_error(r, NGX_HTTP_BAD_REQUEST,
                   "\"sinceTime\" must be a number");
    }

    return ngx_http_statsig_dcs_serve(r, since, v2);
}


/*
 * v1 or v2 for a sinceTime: the answer (or NGX_DONE while the request
 * waits for its v2 text)
 */

static ngx_int_t
ngx_http_statsig_dcs_serve(ngx_http_request_t *r, int64_t since,
    ngx_uint_t v2)
{
    u_char                        *msg, *data;
    size_t                         size;
    int64_t                        t;
    ngx_fd_t                       fd;
    ngx_int_t                      rc;
    ngx_buf_t                     *b;
    ngx_str_t                     *path;
    ngx_chain_t                    out;
    ngx_file_info_t                fi;
    ngx_pool_cleanup_t            *cln;
    ngx_pool_cleanup_file_t       *clnf;
    ngx_http_statsig_view_t        view;
    ngx_http_statsig_dcs_file_t   *df;
    ngx_http_statsig_main_conf_t  *smcf;

    static u_char  no_updates[] = "{\"has_updates\":false}";

    if (ngx_http_statsig_view_acquire(&view) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t = view.snap ? statsig_snapshot_time(view.snap) : -1;

    ngx_http_statsig_view_release(&view);

    if (t < 0) {
        return ngx_http_statsig_response_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                               "no specs are loaded yet");
    }

    if (since > 0 && t <= since) {
        return ngx_http_statsig_response_json(r, NGX_HTTP_OK, no_updates,
                                              sizeof(no_updates) - 1);
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);
    path = &smcf->specs_file;

    if (path->len == 0) {
        return ngx_http_statsig_response_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                   "download_config_specs needs statsig_specs_file, where "
                   "the specs document is kept");
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_pool_cleanup_file_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                      "statsig_api: cannot open the specs file \"%V\"", path);
        return ngx_http_statsig_response_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                               "the specs file cannot be read");
    }

    clnf = cln->data;
    clnf->fd = fd;
    clnf->name = path->data;
    clnf->log = r->connection->log;
    cln->handler = ngx_pool_cleanup_file;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    df = &ngx_http_statsig_dcs_file;
    data = NULL;
    size = (size_t) ngx_file_size(&fi);

    /*
     * A new version of the file: read once (a blocking read, of a file
     * the page cache most likely holds: acceptable for this endpoint,
     * and only when the file changed) for its time, and, for v2, to be
     * converted
     */

    if (!df->valid || ngx_http_statsig_file_changed(&df->id, &fi)) {
        data = ngx_http_statsig_dcs_read(r, fd, path, &fi);
        if (data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        df->time = ngx_http_statsig_dcs_time(data, data + size);
        ngx_http_statsig_file_id(&df->id, &fi);
        df->valid = 1;

        if (df->v2) {
            ngx_http_statsig_dcs_v2_release(df->v2);
            df->v2 = NULL;
        }

        df->v2_failed = 0;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: dcs: \"%V\" scanned, time %L",
                       path, df->time);
    }

    if (data && (df->time != t || !v2)) {
        ngx_free(data);
        data = NULL;
    }

    if (df->time != t) {
        msg = ngx_pnalloc(r->pool, 160);
        if (msg == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        (void) ngx_snprintf(msg, 160, "the specs file (time %L) does not "
                            "hold the current specs (time %L) yet%Z",
                            df->time, t);

        return ngx_http_statsig_response_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                               (char *) msg);
    }

    if (v2) {
        if (df->v2 == NULL && !df->v2_failed
            && !ngx_http_statsig_dcs_job.running && data == NULL)
        {
            data = ngx_http_statsig_dcs_read(r, fd, path, &fi);
            if (data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        return ngx_http_statsig_dcs_v2(r, since, data, size);
    }

    rc = ngx_http_statsig_response_header(r, NGX_HTTP_OK, NULL,
                                          ngx_file_size(&fi));

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->file = ngx_pcalloc(r->pool, sizeof(ngx_file_t));
    if (b->file == NULL) {
        return NGX_ERROR;
    }

    b->file_pos = 0;
    b->file_last = ngx_file_size(&fi);
    b->in_file = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    b->file->fd = fd;
    b->file->name = *path;
    b->file->log = r->connection->log;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* ?sinceTime=N, or "sinceTime" in a POST body (a number or its text) */

static ngx_int_t
ngx_http_statsig_dcs_since(ngx_http_request_t *r,
    const statsig_value_t *body, int64_t *since)
{
    off_t                   n;
    ngx_str_t               arg;
    const statsig_value_t  *v;

    *since = 0;

    if (body) {
        v = statsig_value_get(body, "sinceTime", 9);

        if (statsig_value_nullish(v)) {
            return NGX_OK;
        }

        if (v->type == STATSIG_V_NUMBER && v->num == v->num
            && v->num < 9e15 && v->num > -9e15)
        {
            *since = (int64_t) v->num;
            return NGX_OK;
        }

        if (v->type != STATSIG_V_STRING) {
            return NGX_ERROR;
        }

        arg.data = (u_char *) v->str;
        arg.len = v->len;

    } else if (ngx_http_arg(r, (u_char *) "sinceTime", 9, &arg) != NGX_OK) {
        return NGX_OK;
    }

    if (arg.len == 0) {
        return NGX_OK;
    }

    n = ngx_atoof(arg.data, arg.len);
    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    *since = (int64_t) n;

    return NGX_OK;
}


/* the file's bytes (ngx_alloc), or NULL */

static u_char *
ngx_http_statsig_dcs_read(ngx_http_request_t *r, ngx_fd_t fd,
    ngx_str_t *name, ngx_file_info_t *fi)
{
    u_char      *data;
    size_t       size;
    ssize_t      n;
    ngx_file_t   file;

    size = (size_t) ngx_file_size(fi);

    data = ngx_alloc(size ? size : 1, r->connection->log);
    if (data == NULL) {
        return NULL;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = *name;
    file.log = r->connection->log;

    n = ngx_read_file(&file, data, size, 0);

    if (n == NGX_ERROR || (size_t) n != size) {
        ngx_free(data);
        return NULL;
    }

    return data;
}


/*
 * v2 of the scanned file (df), whose time is the snapshot's: sent, 503
 * if it cannot be converted, or converted first.  data: the file's bytes
 * (taken here), or NULL when no conversion is to start.
 */

static ngx_int_t
ngx_http_statsig_dcs_v2(ngx_http_request_t *r, int64_t since, u_char *data,
    size_t size)
{
    ngx_time_t                   *tp;
    ngx_http_statsig_dcs_job_t   *job;
    ngx_http_statsig_dcs_file_t  *df;

    df = &ngx_http_statsig_dcs_file;
    job = &ngx_http_statsig_dcs_job;

    if (df->v2 || df->v2_failed || job->running) {
        if (data) {
            ngx_free(data);
        }

        if (df->v2) {
            return ngx_http_statsig_dcs_v2_send(r, df->v2);
        }

        if (df->v2_failed) {
            return ngx_http_statsig_response_error(r,
                       NGX_HTTP_SERVICE_UNAVAILABLE, (char *) df->v2_err);
        }

        /* converting another version: this one is converted after it */
        return ngx_http_statsig_dcs_v2_wait(r, since);
    }

    if (data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    tp = ngx_timeofday();

    job->running = 1;
    job->id = df->id;
    job->time = df->time;
    job->start = ngx_current_msec;
    job->data = data;
    job->size = size;
    job->now = (double) tp->sec * 1000 + tp->msec;
    job->err[0] = '\0';
    statsig_buf_init(&job->out);

    if (job->waiting.next == NULL) {
        ngx_queue_init(&job->waiting);
    }

#if (NGX_THREADS)

    if (ngx_http_statsig_dcs_v2_task(job) != NULL
        && ngx_thread_task_post(job->tp, job->task) == NGX_OK)
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: dcs v2 of %uz bytes (time %L) in the "
                       "thread pool", size, df->time);

        return ngx_http_statsig_dcs_v2_wait(r, since);
    }

#endif

    /* no thread pool: here */
    ngx_http_statsig_dcs_v2_run(job);
    ngx_http_statsig_dcs_v2_done(job, r->connection->log);

    if (df->v2) {
        return ngx_http_statsig_dcs_v2_send(r, df->v2);
    }

    return ngx_http_statsig_response_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                           (char *) df->v2_err);
}


static ngx_int_t
ngx_http_statsig_dcs_v2_send(ngx_http_request_t *r,
    ngx_http_statsig_dcs_v2_t *v2)
{
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_pool_cleanup_t  *cln;

    /* the text stays while this response may send it */
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    v2->refs++;
    cln->handler = ngx_http_statsig_dcs_v2_release;
    cln->data = v2;

    rc = ngx_http_statsig_response_header(r, NGX_HTTP_OK, NULL,
                                          v2->text.len);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = (u_char *) v2->text.data;
    b->last = b->pos + v2->text.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* the request waits for the conversion: answered by _done */

static ngx_int_t
ngx_http_statsig_dcs_v2_wait(ngx_http_request_t *r, int64_t since)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_statsig_dcs_wait_t  *w;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_statsig_dcs_wait_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w = cln->data;
    w->r = r;
    w->since = since;
    w->woken = 0;

    /* a request ended meanwhile (a timeout, the worker's exit) leaves */
    cln->handler = ngx_http_statsig_dcs_v2_unwait;

    ngx_queue_insert_tail(&ngx_http_statsig_dcs_job.waiting, &w->queue);

    r->main->count++;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig api: dcs v2: waits for the conversion");

    return NGX_DONE;
}


static void
ngx_http_statsig_dcs_v2_unwait(void *data)
{
    ngx_http_statsig_dcs_wait_t  *w = data;

    if (!w->woken) {
        w->woken = 1;
        ngx_queue_remove(&w->queue);
    }
}


/* in a pool thread, or here without one: the core only */

static void
ngx_http_statsig_dcs_v2_run(ngx_http_statsig_dcs_job_t *job)
{
    job->rc = statsig_dcs_v2((char *) job->data, job->size, job->now,
                             &job->out, job->err, sizeof(job->err));
}


/*
 * Back in the event loop: the text kept if it is still for the file last
 * scanned, and each waiting request served again (which may start the
 * conversion of a newer file).
 */

static void
ngx_http_statsig_dcs_v2_done(ngx_http_statsig_dcs_job_t *job, ngx_log_t *log)
{
    ngx_int_t                     rc;
    ngx_uint_t                    n;
    ngx_queue_t                   woken, *q;
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_statsig_dcs_v2_t    *v2;
    ngx_http_statsig_dcs_wait_t  *w;
    ngx_http_statsig_dcs_file_t  *df;

    df = &ngx_http_statsig_dcs_file;

    job->running = 0;
    ngx_free(job->data);
    job->data = NULL;

    n = 0;

    if (job->waiting.next) {
        for (q = ngx_queue_head(&job->waiting);
             q != ngx_queue_sentinel(&job->waiting);
             q = ngx_queue_next(q))
        {
            n++;
        }
    }

    if (!df->valid
        || ngx_memcmp(&df->id, &job->id, sizeof(job->id)) != 0
        || df->v2 || df->v2_failed)
    {
        statsig_buf_free(&job->out);

    } else if (job->rc == 0) {
        v2 = ngx_alloc(sizeof(ngx_http_statsig_dcs_v2_t), log);

        if (v2 == NULL) {
            statsig_buf_free(&job->out);

        } else {
            v2->refs = 1;
            v2->text = job->out;
            df->v2 = v2;

            /* once per worker and version of the specs */
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "statsig_api: DCS v2 of the specs of time %L "
                          "made in %M ms, %uz bytes, %ui requests waited",
                          job->time, ngx_current_msec - job->start,
                          v2->text.len, n);
        }

    } else {
        statsig_buf_free(&job->out);

        df->v2_failed = 1;
        (void) ngx_snprintf(df->v2_err, sizeof(df->v2_err) - 1,
                            "the specs cannot be served as DCS v2: %s%Z",
                            job->err);

        /* once per version of the file */
        ngx_log_error(NGX_LOG_ERR, log, 0, "statsig_api: %s", df->v2_err);
    }

    statsig_buf_init(&job->out);

    if (job->waiting.next == NULL) {
        return;
    }

    /* those waiting now; a newer conversion's waiters queue anew */

    ngx_queue_init(&woken);

    while (!ngx_queue_empty(&job->waiting)) {
        q = ngx_queue_head(&job->waiting);
        ngx_queue_remove(q);
        ngx_queue_insert_tail(&woken, q);
    }

    while (!ngx_queue_empty(&woken)) {
        q = ngx_queue_head(&woken);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_statsig_dcs_wait_t, queue);
        w->woken = 1;

        r = w->r;
        c = r->connection;

        rc = ngx_http_statsig_dcs_serve(r, w->since, 1);

        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
    }
}


static void
ngx_http_statsig_dcs_v2_release(void *data)
{
    ngx_http_statsig_dcs_v2_t  *v2 = data;

    if (--v2->refs == 0) {
        statsig_buf_free(&v2->text);
        ngx_free(v2);
    }
}


#if (NGX_THREADS)

/* the compile's pool ("statsig", else "default"), found at first use */

static ngx_thread_task_t *
ngx_http_statsig_dcs_v2_task(ngx_http_statsig_dcs_job_t *job)
{
    ngx_cycle_t  *cycle;

    static ngx_str_t  name = ngx_string("statsig");
    static ngx_str_t  dflt = ngx_string("default");

    if (job->tried) {
        return job->task;
    }

    job->tried = 1;
    cycle = (ngx_cycle_t *) ngx_cycle;

    job->tp = ngx_thread_pool_get(cycle, &name);

    if (job->tp == NULL) {
        job->tp = ngx_thread_pool_get(cycle, &dflt);
    }

    if (job->tp == NULL) {
        return NULL;
    }

    job->task = ngx_thread_task_alloc(cycle->pool,
                                      sizeof(ngx_http_statsig_dcs_job_t *));
    if (job->task == NULL) {
        return NULL;
    }

    *(ngx_http_statsig_dcs_job_t **) job->task->ctx = job;

    job->task->handler = ngx_http_statsig_dcs_v2_run_task;
    job->task->event.handler = ngx_http_statsig_dcs_v2_event;
    job->task->event.data = job->task;
    job->task->event.log = cycle->log;

    return job->task;
}


static void
ngx_http_statsig_dcs_v2_run_task(void *data, ngx_log_t *log)
{
    ngx_http_statsig_dcs_v2_run(*(ngx_http_statsig_dcs_job_t **) data);
}


static void
ngx_http_statsig_dcs_v2_event(ngx_event_t *ev)
{
    ngx_thread_task_t  *task = ev->data;

    ngx_http_statsig_dcs_v2_done(*(ngx_http_statsig_dcs_job_t **) task->ctx,
                                 ev->log);
}

#endif


/* the top-level "time" member of a JSON object: digits, or -1 */

static int64_t
ngx_http_statsig_dcs_time(u_char *p, u_char *last)
{
    u_char   *key;
    size_t    klen;
    int64_t   t;

    p = ngx_http_statsig_dcs_ws(p, last);

    if (p == last || *p != '{') {
        return -1;
    }

    p++;

    for ( ;; ) {
        p = ngx_http_statsig_dcs_ws(p, last);

        if (p == last || *p != '"') {
            return -1;
        }

        key = p + 1;

        p = ngx_http_statsig_dcs_string(p, last);
        if (p == NULL) {
            return -1;
        }

        klen = p - 1 - key;
        p = ngx_http_statsig_dcs_ws(p, last);

        if (p == last || *p != ':') {
            return -1;
        }

        p = ngx_http_statsig_dcs_ws(p + 1, last);

        if (klen == 4 && ngx_strncmp(key, "time", 4) == 0) {
            if (p == last || *p < '0' || *p > '9') {
                return -1;
            }

            for (t = 0; p < last && *p >= '0' && *p <= '9'; p++) {
                if (t > (INT64_MAX - 9) / 10) {
                    return -1;
                }

                t = t * 10 + (*p - '0');
            }

            return t;
        }

        p = ngx_http_statsig_dcs_value(p, last);
        if (p == NULL) {
            return -1;
        }

        p = ngx_http_statsig_dcs_ws(p, last);

        if (p == last || *p != ',') {
            return -1;
        }

        p++;
    }
}


static u_char *
ngx_http_statsig_dcs_ws(u_char *p, u_char *last)
{
    while (p < last && (*p == ' ' || *p == '\t' || *p == CR || *p == LF)) {
        p++;
    }

    return p;
}


/* p at '"': just past the closing quote, or NULL */

static u_char *
ngx_http_statsig_dcs_string(u_char *p, u_char *last)
{
    for (p++; p < last; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }

        if (*p == '"') {
            return p + 1;
        }
    }

    return NULL;
}


/* p at a value: just past it, or NULL */

static u_char *
ngx_http_statsig_dcs_value(u_char *p, u_char *last)
{
    ngx_uint_t  depth;

    depth = 0;

    while (p < last) {

        switch (*p) {

        case '"':
            p = ngx_http_statsig_dcs_string(p, last);
            if (p == NULL) {
                return NULL;
            }

            if (depth == 0) {
                return p;
            }

            continue;

        case '{':
        case '[':
            depth++;
            break;

        case '}':
        case ']':
            if (depth == 0) {
                return p;
            }

            if (--depth == 0) {
                return p + 1;
            }

            break;

        case ',':
            if (depth == 0) {
                return p;
            }

            break;
        }

        p++;
    }

    return depth ? NULL : p;
}
