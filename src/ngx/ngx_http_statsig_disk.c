
/*
 * ngx_http_statsig_module: what the sync keeps on disk.
 *
 * The specs file and the ID lists beside it are written atomically (a
 * temporary file, synced, renamed over the old one, the directory synced)
 * in the thread pool that compiles specs, so that a disk that is slow to
 * sync stalls no worker.  A write that fails (ENOSPC, EROFS, EACCES, ...)
 * is not forgotten: its content is kept in the worker and written again
 * on the sync's ticks until it succeeds, unless newer content replaced it
 * meanwhile.  Each file's writes, errors and whether a write is pending
 * are counted in the zone for statsig_status; failures are logged by the
 * one rule of ngx_http_statsig_report.h.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#if (NGX_THREADS)
#include <ngx_thread_pool.h>
#endif

#include "ngx_http_statsig_sync.h"


/* a failed write is tried again after 1 s, then 2, 4, up to 8 s */
#define NGX_HTTP_STATSIG_DISK_RETRY_MS      1000
#define NGX_HTTP_STATSIG_DISK_RETRY_MAX_MS  8000


typedef struct {
    char                          *what;
    ngx_str_t                     *path;
    ngx_http_statsig_file_st_t    *st;        /* in the zone */
    ngx_http_statsig_zone_t       *ctx;
    ngx_log_t                     *log;

    /* the newest content not on disk yet, owned here */
    u_char                        *data;
    size_t                         len;
    uint64_t                       version;
    ngx_msec_t                     retry_at;
    ngx_msec_t                     backoff;

    /* what the task writes */
    u_char                        *busy;
    size_t                         busy_len;
    uint64_t                       busy_version;
    ngx_uint_t                     running;
    ngx_err_t                      err;
    const char                    *op;
    ngx_file_info_t                fi;

#if (NGX_THREADS)
    ngx_thread_task_t             *task;
#endif
} ngx_http_statsig_disk_t;


static void ngx_http_statsig_disk_start(ngx_http_statsig_disk_t *d);
static void ngx_http_statsig_disk_run(ngx_http_statsig_disk_t *d,
    ngx_log_t *log);
static void ngx_http_statsig_disk_done(ngx_http_statsig_disk_t *d);
#if (NGX_THREADS)
static void ngx_http_statsig_disk_run_task(void *data, ngx_log_t *log);
static void ngx_http_statsig_disk_event(ngx_event_t *ev);
#endif


static ngx_http_statsig_disk_t  ngx_http_statsig_disks[2];

#if (NGX_THREADS)
static ngx_thread_pool_t       *ngx_http_statsig_disk_tp;
#endif


ngx_int_t
ngx_http_statsig_disk_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_statsig_disk_t       *d;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_main_conf_t  *smcf;
#if (NGX_THREADS)
    ngx_str_t                      name = ngx_string("statsig");
    ngx_str_t                      dflt = ngx_string("default");
#endif

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);
    ctx = smcf->shm_zone->data;

    ngx_memzero(ngx_http_statsig_disks, sizeof(ngx_http_statsig_disks));

    for (i = 0; i < 2; i++) {
        d = &ngx_http_statsig_disks[i];

        d->ctx = ctx;
        d->log = cycle->log;

        if (i == NGX_HTTP_STATSIG_DISK_SPECS) {
            d->what = "specs file";
            d->path = &smcf->specs_file;
            d->st = &ctx->sh->specs_file;

        } else {
            d->what = "ID lists file";
            d->path = &ctx->idlists_file;
            d->st = &ctx->sh->idlists_file;
        }
    }

#if (NGX_THREADS)

    ngx_http_statsig_disk_tp = ngx_thread_pool_get(cycle, &name);

    if (ngx_http_statsig_disk_tp == NULL) {
        ngx_http_statsig_disk_tp = ngx_thread_pool_get(cycle, &dflt);
    }

    if (ngx_http_statsig_disk_tp == NULL) {
        return NGX_OK;
    }

    for (i = 0; i < 2; i++) {
        d = &ngx_http_statsig_disks[i];

        d->task = ngx_thread_task_alloc(cycle->pool,
                                        sizeof(ngx_http_statsig_disk_t *));
        if (d->task == NULL) {
            return NGX_ERROR;
        }

        *(ngx_http_statsig_disk_t **) d->task->ctx = d;

        d->task->handler = ngx_http_statsig_disk_run_task;
        d->task->event.handler = ngx_http_statsig_disk_event;
        d->task->event.data = d->task;
        d->task->event.log = cycle->log;
    }

#endif

    return NGX_OK;
}


void
ngx_http_statsig_disk_exit_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                i;
    ngx_http_statsig_disk_t  *d;

    for (i = 0; i < 2; i++) {
        d = &ngx_http_statsig_disks[i];

        /* a task still running owns busy: the process exits anyway */
        if (d->data) {
            ngx_free(d->data);
            d->data = NULL;
        }

        d->ctx = NULL;
    }
}


/* a write of this file is under way: no new content is made meanwhile */

ngx_uint_t
ngx_http_statsig_disk_busy(ngx_uint_t which)
{
    return ngx_http_statsig_disks[which].running;
}


/* this worker holds content for the file that is not on disk yet */

ngx_uint_t
ngx_http_statsig_disk_pending(ngx_uint_t which)
{
    return ngx_http_statsig_disks[which].data != NULL
           || ngx_http_statsig_disks[which].running;
}


/*
 * New content for a file (data from ngx_alloc(), owned from now on), for
 * the zone's content of that version; written now, or when the write
 * under way ends.  retry: a write of it failed already (the specs job's),
 * so it waits for the next try.
 */

void
ngx_http_statsig_disk_write(ngx_uint_t which, u_char *data, size_t len,
    uint64_t version, ngx_uint_t retry)
{
    ngx_http_statsig_disk_t  *d;

    d = &ngx_http_statsig_disks[which];

    if (d->ctx == NULL) {
        ngx_free(data);
        return;
    }

    if (d->data) {
        ngx_free(d->data);
    }

    d->data = data;
    d->len = len;
    d->version = version;

    if (retry) {
        d->backoff = NGX_HTTP_STATSIG_DISK_RETRY_MS;
        d->retry_at = ngx_current_msec + d->backoff;
        return;
    }

    d->backoff = 0;
    d->retry_at = ngx_current_msec;

    ngx_http_statsig_disk_start(d);
}


/* newer content was written by other means (the specs job): drop ours */

void
ngx_http_statsig_disk_drop(ngx_uint_t which)
{
    ngx_http_statsig_disk_t  *d;

    d = &ngx_http_statsig_disks[which];

    if (d->data) {
        ngx_free(d->data);
        d->data = NULL;
    }
}


/* the sync's tick: a failed write is tried again when due */

void
ngx_http_statsig_disk_tick(void)
{
    ngx_uint_t                i;
    ngx_http_statsig_disk_t  *d;

    for (i = 0; i < 2; i++) {
        d = &ngx_http_statsig_disks[i];

        if (d->ctx && d->data && !d->running
            && (ngx_msec_int_t) (ngx_current_msec - d->retry_at) >= 0
            && !(i == NGX_HTTP_STATSIG_DISK_SPECS
                 && ngx_http_statsig_specs_busy()))
        {
            ngx_http_statsig_disk_start(d);
        }
    }
}


static void
ngx_http_statsig_disk_start(ngx_http_statsig_disk_t *d)
{
    uint64_t  version;

    if (d->running || d->data == NULL) {
        return;
    }

    ngx_shmtx_lock(&d->ctx->shpool->mutex);
    version = d->st->version;
    ngx_shmtx_unlock(&d->ctx->shpool->mutex);

    /* the zone holds newer content, whose fetcher writes it */
    if (version != d->version) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, d->log, 0,
                       "statsig: the %s to write is outdated, dropped",
                       d->what);
        ngx_free(d->data);
        d->data = NULL;
        return;
    }

    d->busy = d->data;
    d->busy_len = d->len;
    d->busy_version = d->version;
    d->data = NULL;
    d->running = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, d->log, 0,
                   "statsig: writing the %s, %uz bytes", d->what,
                   d->busy_len);

#if (NGX_THREADS)

    if (d->task
        && ngx_thread_task_post(ngx_http_statsig_disk_tp, d->task) == NGX_OK)
    {
        return;
    }

#endif

    ngx_http_statsig_disk_run(d, d->log);
    ngx_http_statsig_disk_done(d);
}


/* in a pool thread: the file only, no zone, no event loop */

static void
ngx_http_statsig_disk_run(ngx_http_statsig_disk_t *d, ngx_log_t *log)
{
    d->err = ngx_http_statsig_file_write(d->path, d->busy, d->busy_len,
                                         &d->fi, &d->op, log);
}


#if (NGX_THREADS)

static void
ngx_http_statsig_disk_run_task(void *data, ngx_log_t *log)
{
    ngx_http_statsig_disk_run(*(ngx_http_statsig_disk_t **) data, log);
}

static void
ngx_http_statsig_disk_event(ngx_event_t *ev)
{
    ngx_thread_task_t  *task = ev->data;

    ngx_http_statsig_disk_done(*(ngx_http_statsig_disk_t **) task->ctx);
}

#endif


static void
ngx_http_statsig_disk_done(ngx_http_statsig_disk_t *d)
{
    d->running = 0;

    if (d->ctx == NULL) {
        ngx_free(d->busy);
        d->busy = NULL;
        return;
    }

    if (d->err == 0) {
        ngx_http_statsig_disk_result(d->ctx, d->st, d->what, d->path, 0,
                                     NULL, &d->fi,
                                     d == &ngx_http_statsig_disks[0]);
        ngx_free(d->busy);
        d->busy = NULL;
        d->backoff = 0;

    } else {
        ngx_http_statsig_disk_result(d->ctx, d->st, d->what, d->path, d->err,
                                     d->op, NULL, 0);

        /* tried again later, unless newer content came meanwhile */
        if (d->data == NULL) {
            d->data = d->busy;
            d->len = d->busy_len;
            d->version = d->busy_version;

            d->backoff = d->backoff
                         ? ngx_min(2 * d->backoff,
                                   NGX_HTTP_STATSIG_DISK_RETRY_MAX_MS)
                         : NGX_HTTP_STATSIG_DISK_RETRY_MS;
            d->retry_at = ngx_current_msec + d->backoff;

        } else {
            ngx_free(d->busy);
        }

        d->busy = NULL;
    }

    /* newer content that came while this one was written */
    if (d->data && d->backoff == 0) {
        ngx_http_statsig_disk_start(d);
    }
}


/*
 * A write's outcome, counted in the zone and logged by the one rule
 * (also for the specs job's own write).  fi: the file written; specs:
 * it is the specs file, whose identity the zone keeps.
 */

void
ngx_http_statsig_disk_result(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_file_st_t *st, char *what, ngx_str_t *path,
    ngx_err_t err, const char *op, ngx_file_info_t *fi, ngx_uint_t specs)
{
    u_char      reason[NGX_HTTP_STATSIG_ERRLEN], *last;
    ngx_uint_t  report;

    if (err) {
        last = ngx_snprintf(reason, sizeof(reason) - 1, "%s failed (%d: %s)",
                            op, err, strerror(err));
        *last = '\0';
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    if (err) {
        st->errors++;
        st->pending = 1;
        report = ngx_http_statsig_report(&st->report, reason, ngx_time());

    } else {
        st->writes++;
        st->written = ngx_time();
        st->pending = 0;
        report = ngx_http_statsig_report(&st->report, NULL, ngx_time());

        if (specs && fi) {
            ngx_http_statsig_file_id(&ctx->sh->file_id, fi);
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (report == NGX_HTTP_STATSIG_REPORT_FAILED) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "statsig: cannot write the %s \"%V\": %s; it is "
                      "written again until that works", what, path, reason);

    } else if (report == NGX_HTTP_STATSIG_REPORT_RECOVERED) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "statsig: the %s \"%V\" is written again", what, path);
    }
}


/*
 * The write itself, safe in any thread: a temporary file beside the file,
 * synced, then renamed over it and the directory synced, so that after a
 * crash or a power cut the file is the old or the new content, never a
 * torn one.  Returns 0, or the error with op naming the step.
 */

ngx_err_t
ngx_http_statsig_file_write(ngx_str_t *path, u_char *data, size_t len,
    ngx_file_info_t *fi, const char **op, ngx_log_t *log)
{
    u_char     *tmp;
    size_t      off;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_err_t   e;

    tmp = ngx_alloc(path->len + sizeof(".tmp.") + NGX_INT_T_LEN, log);
    if (tmp == NULL) {
        *op = "malloc()";
        return NGX_ENOMEM;
    }

    (void) ngx_sprintf(tmp, "%V.tmp.%P%Z", path, ngx_pid);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        e = ngx_errno;
        *op = "open() of the temporary file";
        goto failed;
    }

    for (off = 0; off < len; off += n) {
        n = ngx_write_fd(fd, data + off, len - off);
        if (n <= 0) {
            e = (n == 0) ? NGX_ENOSPC : ngx_errno;
            *op = "write()";
            (void) ngx_close_file(fd);
            (void) ngx_delete_file(tmp);
            goto failed;
        }
    }

    if (fsync(fd) == -1 || ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        e = ngx_errno;
        *op = "fsync()";
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR
        || ngx_rename_file(tmp, path->data) == NGX_FILE_ERROR)
    {
        e = ngx_errno;
        *op = "close() or rename()";
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    ngx_http_statsig_sync_dir(path, log);

    ngx_free(tmp);

    return 0;

failed:

    ngx_free(tmp);

    return e ? e : EIO;
}


/* the rename is durable once the directory holding the file is synced */

void
ngx_http_statsig_sync_dir(ngx_str_t *path, ngx_log_t *log)
{
    u_char    *dir, *p;
    size_t     len;
    ngx_fd_t   fd;

    for (p = path->data + path->len; p > path->data; p--) {
        if (p[-1] == '/') {
            break;
        }
    }

    /* "/a/b" -> "/a", "/b" -> "/", "b" -> "." */

    len = p - path->data;

    dir = ngx_alloc(len + 2, log);
    if (dir == NULL) {
        return;
    }

    if (len == 0) {
        (void) ngx_cpystrn(dir, (u_char *) ".", 2);

    } else {
        (void) ngx_cpystrn(dir, path->data, (len > 1) ? len : 2);
    }

    fd = ngx_open_file(dir, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE) {
        if (fsync(fd) == -1) {
            ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                          "statsig: fsync(\"%s\") failed", dir);
        }

        (void) ngx_close_file(fd);
    }

    ngx_free(dir);
}
