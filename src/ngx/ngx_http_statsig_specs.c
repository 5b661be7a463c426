
/*
 * ngx_http_statsig_module: the fetching worker's specs.
 *
 *   server mode  GET statsig_specs_url/<key>.json?sinceTime=<time>, the
 *                body downloaded into a buffer kept between downloads;
 *   local mode   statsig_specs_file re-read when it changes (inode, size,
 *                modification time to the nanosecond).
 *
 * Either way a job compiles the document, checks it (has_updates, its
 * time against the zone's, hashed_sdk_key_used against our key), copies
 * it into the zone and publishes it, and in server mode writes the
 * document to statsig_specs_file as the last known good (write, fsync,
 * rename, fsync of the directory).  The job runs in a thread pool as an
 * idle task (see job_idle); one at a time.  A failure keeps the last
 * good snapshot and is counted and logged by ngx_http_statsig_fetch.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>


/*
 * New specs are compiled in a thread pool (statsig_compile() touches no
 * global state), so the fetching worker keeps serving while a large
 * document compiles.  Building with -DNGX_HTTP_STATSIG_COMPILE_THREAD=0
 * compiles on the event loop instead.
 */

#ifndef NGX_HTTP_STATSIG_COMPILE_THREAD
#define NGX_HTTP_STATSIG_COMPILE_THREAD  1
#endif

#if (NGX_THREADS && NGX_HTTP_STATSIG_COMPILE_THREAD)
#define NGX_HTTP_STATSIG_THREADS  1
#else
#define NGX_HTTP_STATSIG_THREADS  0
#endif

/* how long a specs job may wait for idle CPU before it competes */
#define NGX_HTTP_STATSIG_IDLE_MS  1000

/* a document too big for the zone: fetched again after up to a minute */
#define NGX_HTTP_STATSIG_TOO_BIG_MAX_MS  60000

/* how long a compile's memory is kept after the last new specs */
#define NGX_HTTP_STATSIG_KEEP_MS  60000

#if (NGX_HTTP_STATSIG_THREADS)
#include <ngx_thread_pool.h>
#if (NGX_LINUX)
#include <sched.h>
#include <sys/syscall.h>
#endif
#if (defined __GLIBC__)
#include <malloc.h>
#endif
#endif

#include <jansson.h>

#include "ngx_http_statsig_sync.h"
#include "ngx_http_statsig_snapshot.h"
#include "crc32.h"
#include "hash.h"


typedef struct {
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_main_conf_t  *smcf;
    ngx_log_t                     *log;

    ngx_http_statsig_http_req_t   *req;
    ngx_uint_t                     compiling;

    /* a document that does not fit in the zone: not compiled again */
    size_t                         too_big_len;
    uint32_t                       too_big_crc;
    ngx_msec_t                     backoff;
} ngx_http_statsig_specs_t;


typedef struct {
    ngx_http_statsig_specs_t      *specs;
    ngx_uint_t                     source;
    u_char                        *json;
    size_t                         len;
    ngx_uint_t                     outcome;
    int64_t                        time;
    int64_t                        old_time;
    size_t                         size;
    ngx_msec_t                     compile_ms;
    ngx_msec_t                     publish_ms;
    ngx_uint_t                     threaded;
    ngx_uint_t                     background;  /* SCHED_IDLE allowed */
    ngx_uint_t                     idle;        /* SCHED_IDLE now */
    ngx_msec_t                     posted;      /* loop clock */
    ngx_atomic_t                   tid;         /* the thread running it */
    ngx_atomic_t                   urgent;      /* no more SCHED_IDLE */
    ngx_uint_t                     written;     /* the specs file tried */
    ngx_err_t                      write_err;
    const char                    *write_op;
    uint64_t                       version;     /* sh->specs_file's */
    ngx_uint_t                     too_big;     /* never fits the zone */
    uint32_t                       crc;         /* of the document */
    ngx_file_info_t                write_fi;
    u_char                         err[NGX_HTTP_STATSIG_ERRLEN];
} ngx_http_statsig_job_t;


/*
 * A specs job's memory, kept from one job to the next while new specs
 * come often: the compiler's tree, blob and buffers, and the document
 * (downloads go straight into it).  Fresh pages (tens of MB per 5 MB
 * document) were most of a swap's cost; a fetching worker now touches
 * none.  Used by one job or download at a time; freed by the loop
 * NGX_HTTP_STATSIG_KEEP_MS after the last new specs.
 */
typedef struct {
    statsig_compile_mem_t         *mem;
    u_char                        *json;
    size_t                         cap;
    ngx_msec_t                     used;        /* loop clock */
} ngx_http_statsig_kept_t;


/* a step's outcome, counted in the zone and logged by the one rule */
#define ngx_http_statsig_specs_result(s, ms, outcome, reason)                \
    ngx_http_statsig_fetch_result((s)->ctx, &(s)->ctx->sh->specs_stats,      \
                                  "specs", ms, outcome, reason)


static void ngx_http_statsig_specs_done(ngx_http_statsig_http_res_t *res,
    void *data);
static void ngx_http_statsig_specs_job(ngx_http_statsig_specs_t *s,
    ngx_str_t *json, ngx_uint_t source);
static void ngx_http_statsig_job_run(void *data, ngx_log_t *log);
static ngx_uint_t ngx_http_statsig_other_key(ngx_http_statsig_specs_t *s,
    const statsig_snapshot_t *snap);
static u_char *ngx_http_statsig_kept_buffer(size_t len, ngx_log_t *log);
static void ngx_http_statsig_kept_free(void);
static void ngx_http_statsig_job_report(ngx_http_statsig_job_t *job);
static void ngx_http_statsig_job_written(ngx_http_statsig_specs_t *s,
    ngx_http_statsig_job_t *job);
static void ngx_http_statsig_job_too_big(ngx_http_statsig_specs_t *s,
    ngx_http_statsig_job_t *job);
static void ngx_http_statsig_job_idle(ngx_http_statsig_job_t *job,
    ngx_uint_t on);
static void ngx_http_statsig_job_urge(ngx_http_statsig_job_t *job);
#if (NGX_HTTP_STATSIG_THREADS)
static void ngx_http_statsig_job_run_task(void *data, ngx_log_t *log);
static void ngx_http_statsig_job_event(ngx_event_t *ev);
#endif
static ngx_int_t ngx_http_statsig_read_file(ngx_http_statsig_specs_t *s,
    ngx_http_statsig_job_t *job, ngx_file_info_t *fi);


static ngx_http_statsig_specs_t  ngx_http_statsig_specs;
static ngx_http_statsig_job_t    ngx_http_statsig_job;
static ngx_http_statsig_kept_t   ngx_http_statsig_kept;

#if (NGX_HTTP_STATSIG_THREADS)
static ngx_str_t                 ngx_http_statsig_tp_name =
    ngx_string("statsig");
static ngx_str_t                 ngx_http_statsig_tp_dflt =
    ngx_string("default");
static ngx_thread_pool_t        *ngx_http_statsig_tp;
static ngx_thread_task_t        *ngx_http_statsig_task;
#endif


/* configuration: the thread pool that compiles specs off the loop */

ngx_int_t
ngx_http_statsig_specs_init_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf)
{
    /*
     * jansson seeds its hash tables once per process: do it here, before
     * workers fork, not racing between a compile thread and the loop
     */
    json_object_seed(0);

#if (NGX_HTTP_STATSIG_THREADS)

    if (ngx_http_statsig_secret_set(&smcf->server_key)
        || smcf->specs_file.len)
    {
        /* "thread_pool statsig ...;" if declared, else nginx's default */

        if (ngx_thread_pool_get(cf->cycle, &ngx_http_statsig_tp_name)
            == NULL
            && ngx_thread_pool_add(cf, NULL) == NULL)
        {
            return NGX_ERROR;
        }

#if (defined __GLIBC__ && defined M_ARENA_MAX)
        /*
         * glibc gives a thread its own malloc arena up to 8 per CPU, then
         * shares them, the event loop's included.  The compile runs in
         * whichever of the pool's threads is free, as an idle task: one
         * sharing the loop's arena would make the loop wait for it.
         */
        (void) mallopt(M_ARENA_MAX, 8 * ngx_ncpu + 64);
#endif
    }

#endif

    return NGX_OK;
}


ngx_int_t
ngx_http_statsig_specs_init_worker(ngx_cycle_t *cycle)
{
    ngx_http_statsig_specs_t      *s;
    ngx_http_statsig_main_conf_t  *smcf;

    s = &ngx_http_statsig_specs;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    ngx_memzero(s, sizeof(ngx_http_statsig_specs_t));

    s->smcf = smcf;
    s->ctx = smcf->shm_zone->data;
    s->log = cycle->log;

#if (NGX_HTTP_STATSIG_THREADS)

    ngx_http_statsig_task = NULL;
    ngx_http_statsig_tp = ngx_thread_pool_get(cycle,
                                              &ngx_http_statsig_tp_name);

    if (ngx_http_statsig_tp == NULL) {
        ngx_http_statsig_tp = ngx_thread_pool_get(cycle,
                                                  &ngx_http_statsig_tp_dflt);
    }

    if (ngx_http_statsig_tp) {
        ngx_http_statsig_task = ngx_thread_task_alloc(cycle->pool,
                                            sizeof(ngx_http_statsig_job_t *));
        if (ngx_http_statsig_task == NULL) {
            return NGX_ERROR;
        }

        ngx_http_statsig_task->handler = ngx_http_statsig_job_run_task;
        ngx_http_statsig_task->event.handler = ngx_http_statsig_job_event;
        ngx_http_statsig_task->event.data = ngx_http_statsig_task;
        ngx_http_statsig_task->event.log = cycle->log;
    }

#endif

    return NGX_OK;
}


void
ngx_http_statsig_specs_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_statsig_specs_stop();

    /* the thread pool is gone by now: a job it ran is not reported */
    ngx_http_statsig_kept_free();

    ngx_http_statsig_specs.ctx = NULL;
}


/* a download or a job under way: no new one starts */

ngx_uint_t
ngx_http_statsig_specs_busy(void)
{
    /* a retried write of the specs file ends before new specs come */
    return ngx_http_statsig_specs.req != NULL
           || ngx_http_statsig_specs.compiling
           || ngx_http_statsig_disk_busy(NGX_HTTP_STATSIG_DISK_SPECS);
}


/* the sync's tick: a job kept waiting is urged, idle memory freed */

void
ngx_http_statsig_specs_tick(void)
{
    ngx_http_statsig_specs_t  *s;

    s = &ngx_http_statsig_specs;

    if (s->compiling) {
        ngx_http_statsig_job_urge(&ngx_http_statsig_job);

    } else if ((ngx_http_statsig_kept.json || ngx_http_statsig_kept.mem)
               && s->req == NULL
               && ngx_current_msec - ngx_http_statsig_kept.used
                  >= NGX_HTTP_STATSIG_KEEP_MS)
    {
        ngx_http_statsig_kept_free();
        ngx_http_statsig_trim_heap();
    }
}


/* another worker took the lease, or this one exits */

void
ngx_http_statsig_specs_stop(void)
{
    ngx_http_statsig_specs_t  *s;

    s = &ngx_http_statsig_specs;

    if (s->req) {
        ngx_http_statsig_http_cancel(s->req);
        s->req = NULL;
    }
}


void
ngx_http_statsig_specs_fetch(void)
{
    u_char                           *p;
    int64_t                           since;
    ngx_str_t                         url, key;
    ngx_uint_t                        pending;
    ngx_http_statsig_specs_t         *s;
    ngx_http_statsig_main_conf_t     *smcf;
    ngx_http_statsig_http_request_t   rq;

    s = &ngx_http_statsig_specs;
    smcf = s->smcf;

    if (ngx_http_statsig_secret_get(&smcf->server_key, s->log, &key)
        != NGX_OK)
    {
        return;
    }

    ngx_shmtx_lock(&s->ctx->shpool->mutex);
    since = s->ctx->sh->specs_time;
    pending = s->ctx->sh->specs_file.pending;
    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    /*
     * The specs file is behind the zone and the worker that kept the
     * document to write is gone (a reload, a crash): the whole document
     * again, so that the file catches up.
     */
    if (pending && smcf->specs_file.len
        && !ngx_http_statsig_disk_pending(NGX_HTTP_STATSIG_DISK_SPECS))
    {
        since = 0;
    }

    url.data = ngx_alloc(smcf->specs_url.len + key.len
                         + sizeof("/.json?sinceTime=") + NGX_INT64_LEN,
                         s->log);
    if (url.data == NULL) {
        return;
    }

    p = ngx_sprintf(url.data, "%V/%V.json", &smcf->specs_url, &key);

    if (since > 0) {
        p = ngx_sprintf(p, "?sinceTime=%L", since);
    }

    url.len = p - url.data;

    ngx_memzero(&rq, sizeof(ngx_http_statsig_http_request_t));

    rq.method = "GET";
    rq.url = url;
    rq.done = ngx_http_statsig_specs_done;
    rq.data = s;

    /* into the kept document buffer: no fresh pages, no copy */
    rq.body_buf = &ngx_http_statsig_kept.json;
    rq.body_cap = &ngx_http_statsig_kept.cap;

    s->req = ngx_http_statsig_fetch_start(s->ctx, &rq, NULL);

    if (s->req == NULL) {
        ngx_http_statsig_specs_result(s, 0, NGX_HTTP_STATSIG_REQUEST_FAILED,
                                      (u_char *) "cannot start the request");
    }

    ngx_explicit_memzero(url.data, url.len);
    ngx_free(url.data);
}


static void
ngx_http_statsig_specs_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_specs_t *s = data;

    u_char  err[NGX_HTTP_STATSIG_ERRLEN];

    s->req = NULL;

    if (ngx_http_statsig_fetch_error(s->ctx, res, err, sizeof(err)) != NULL) {
        ngx_http_statsig_specs_result(s, res->elapsed,
                                      NGX_HTTP_STATSIG_REQUEST_FAILED, err);
        return;
    }

    ngx_http_statsig_specs_result(s, res->elapsed, NGX_HTTP_STATSIG_ATTEMPT,
                                  NULL);

    /* the body was downloaded into the kept buffer: no copy */
    ngx_http_statsig_specs_job(s, &res->body, NGX_HTTP_STATSIG_SOURCE_NETWORK);
}


/* the kept document buffer, grown to len bytes (the job, for the file) */

static u_char *
ngx_http_statsig_kept_buffer(size_t len, ngx_log_t *log)
{
    u_char                   *p;
    ngx_http_statsig_kept_t  *k;

    k = &ngx_http_statsig_kept;

    if (k->cap < len) {
        p = ngx_alloc(len, log);
        if (p == NULL) {
            return NULL;
        }

        if (k->json) {
            ngx_free(k->json);
        }

        k->json = p;
        k->cap = len;
    }

    return k->json;
}


static void
ngx_http_statsig_kept_free(void)
{
    ngx_http_statsig_kept_t  *k;

    k = &ngx_http_statsig_kept;

    if (k->mem) {
        statsig_compile_mem_free(k->mem);
        k->mem = NULL;
    }

    if (k->json) {
        ngx_free(k->json);
        k->json = NULL;
        k->cap = 0;
    }
}


/*
 * Compiling a 5 MB document takes from tens to hundreds of milliseconds:
 * too long for the event loop.  The job (read the file in local mode,
 * compile, check has_updates and time, copy into the zone and publish,
 * rewrite the specs file) runs in the "statsig" thread pool; only its
 * outcome is reported from the loop.  Without threads it runs inline.
 * One job at a time: no fetch starts while one runs.
 */

static void
ngx_http_statsig_specs_job(ngx_http_statsig_specs_t *s, ngx_str_t *json,
    ngx_uint_t source)
{
    ngx_http_statsig_job_t  *job;

    job = &ngx_http_statsig_job;

    ngx_memzero(job, sizeof(ngx_http_statsig_job_t));

    job->specs = s;
    job->source = source;

    /* a download, in the kept buffer; a file is read by the job */
    if (json) {
        job->json = json->data;
        job->len = json->len;
    }

    s->compiling = 1;
    job->posted = ngx_current_msec;

#if (NGX_HTTP_STATSIG_THREADS)

    if (ngx_http_statsig_task) {
        *(ngx_http_statsig_job_t **) ngx_http_statsig_task->ctx = job;

        if (ngx_thread_task_post(ngx_http_statsig_tp, ngx_http_statsig_task)
            == NGX_OK)
        {
            return;
        }
    }

#endif

    ngx_http_statsig_job_run(job, s->log);
    ngx_http_statsig_job_report(job);
}


static ngx_msec_t
ngx_http_statsig_clock_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (ngx_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * A pool thread runs the job as an idle task: a worker (or any other
 * process) that wakes up takes the CPU from it at once.  Nice 19 kept
 * the CPU for whole slices: workers waited up to 7 ms behind it in the
 * run queue.  The job is back at its normal priority while it holds a
 * lock (the zone mutex, malloc's arenas in malloc_trim()): a holder
 * preempted for long would stall every worker waiting for it.
 */

static void
ngx_http_statsig_job_idle(ngx_http_statsig_job_t *job, ngx_uint_t on)
{
#if (NGX_HTTP_STATSIG_THREADS && NGX_LINUX)
    struct sched_param  sp;

    if (!job->background || job->idle == on || (on && job->urgent)) {
        return;
    }

    ngx_memzero(&sp, sizeof(struct sched_param));

    if (sched_setscheduler(0, on ? SCHED_IDLE : SCHED_OTHER, &sp) == -1) {
        return;
    }

    job->idle = on;

    /* urged between the check and the switch: the loop's switch is lost */

    ngx_memory_barrier();

    if (on && job->urgent) {
        (void) sched_setscheduler(0, SCHED_OTHER, &sp);
        job->idle = 0;
    }
#endif
}


/*
 * From the loop: a job that waited over a second for idle CPU (a box
 * busy to the last cycle) runs on at the workers' priority, so that new
 * specs (a kill switch, say) still land within about a sync interval.
 */

static void
ngx_http_statsig_job_urge(ngx_http_statsig_job_t *job)
{
#if (NGX_HTTP_STATSIG_THREADS && NGX_LINUX)
    pid_t               tid;
    struct sched_param  sp;

    if (job->urgent
        || ngx_current_msec - job->posted < NGX_HTTP_STATSIG_IDLE_MS)
    {
        return;
    }

    job->urgent = 1;
    ngx_memory_barrier();

    tid = (pid_t) job->tid;

    if (tid) {
        ngx_memzero(&sp, sizeof(struct sched_param));
        (void) sched_setscheduler(tid, SCHED_OTHER, &sp);

        ngx_log_debug1(NGX_LOG_DEBUG_CORE, job->specs->log, 0,
                       "statsig: specs job waited for idle CPU over %M ms, "
                       "now at the workers' priority",
                       (ngx_msec_t) NGX_HTTP_STATSIG_IDLE_MS);
    }
#endif
}


static void
ngx_http_statsig_job_lock(ngx_http_statsig_job_t *job)
{
    ngx_http_statsig_job_idle(job, 0);
    ngx_shmtx_lock(&job->specs->ctx->shpool->mutex);
}


static void
ngx_http_statsig_job_unlock(ngx_http_statsig_job_t *job)
{
    ngx_shmtx_unlock(&job->specs->ctx->shpool->mutex);
    ngx_http_statsig_job_idle(job, 1);
}


/* in a pool thread: no event loop state, no ngx_time_update() */

static void
ngx_http_statsig_job_run(void *data, ngx_log_t *log)
{
    ngx_http_statsig_job_t *job = data;

    char                       cerr[NGX_HTTP_STATSIG_ERRLEN];
    const void                *blob;
    int64_t                    cur;
    ngx_str_t                  json;
    ngx_msec_t                 start;
    ngx_file_info_t            fi;
    ngx_http_statsig_specs_t   *s;
    ngx_http_statsig_shctx_t  *sh;
    ngx_int_t                  rc;
    const statsig_snapshot_t  *snap;
    ngx_http_statsig_blob_t   *sb;

    s = job->specs;
    sh = s->ctx->sh;

    if (job->source == NGX_HTTP_STATSIG_SOURCE_FILE
        && ngx_http_statsig_read_file(s, job, &fi) != NGX_OK)
    {
        job->outcome = NGX_HTTP_STATSIG_FAILED;
        return;
    }

    /*
     * The document that did not fit in the zone last time, again (Statsig
     * sends it whole while the zone has older specs): not compiled again,
     * a failure already logged.
     */
    if (job->source == NGX_HTTP_STATSIG_SOURCE_NETWORK
        && s->too_big_len == job->len && job->len
        && statsig_crc32(0, job->json, job->len) == s->too_big_crc)
    {
        job->too_big = 1;
        job->crc = s->too_big_crc;
        job->outcome = NGX_HTTP_STATSIG_FAILED_AGAIN;
        return;
    }

    start = ngx_http_statsig_clock_ms();

    if (ngx_http_statsig_kept.mem == NULL) {
        ngx_http_statsig_kept.mem = statsig_compile_mem_create();
    }

    if (ngx_http_statsig_kept.mem) {
        blob = statsig_compile_in(ngx_http_statsig_kept.mem,
                                  (char *) job->json, job->len, &job->size,
                                  cerr, sizeof(cerr));

    } else {
        blob = NULL;
        ngx_cpystrn((u_char *) cerr, (u_char *) "out of memory",
                    sizeof(cerr));
    }

    job->compile_ms = ngx_http_statsig_clock_ms() - start;

    if (blob == NULL) {

        /* {"has_updates":false} is not a full document: the parse tells */

        if (ngx_http_statsig_kept.mem
            && statsig_compile_mem_no_updates(ngx_http_statsig_kept.mem))
        {
            job->outcome = NGX_HTTP_STATSIG_NO_UPDATES;
            return;
        }

        ngx_snprintf(job->err, sizeof(job->err),
                     "%s does not compile: %s%Z",
                     job->source == NGX_HTTP_STATSIG_SOURCE_FILE
                     ? "the specs file" : "the response", cerr);
        job->outcome = NGX_HTTP_STATSIG_FAILED;
        return;
    }

    snap = statsig_snapshot_open(blob, job->size);
    job->time = statsig_snapshot_time(snap);

    if (job->source == NGX_HTTP_STATSIG_SOURCE_NETWORK) {
        if (!statsig_snapshot_has_updates(snap)) {
            job->outcome = NGX_HTTP_STATSIG_NO_UPDATES;
            return;
        }

        /* as the SDKs do: specs made for another server key are refused */
        if (ngx_http_statsig_other_key(s, snap)) {
            ngx_snprintf(job->err, sizeof(job->err),
                         "the response was made for another server key "
                         "(hashed_sdk_key_used)%Z");
            job->outcome = NGX_HTTP_STATSIG_FAILED;
            return;
        }

        ngx_http_statsig_job_lock(job);
        cur = sh->specs_time;
        ngx_http_statsig_job_unlock(job);

        if (job->time < cur) {
            job->old_time = cur;
            job->outcome = NGX_HTTP_STATSIG_IGNORED;
            return;
        }
    }

    start = ngx_http_statsig_clock_ms();

    /* the copy into the zone, 10 MB for a 5 MB document, is idle too */

    ngx_http_statsig_job_idle(job, 0);
    sb = ngx_http_statsig_blob_alloc(s->ctx, job->size, log);
    ngx_http_statsig_job_idle(job, 1);

    if (sb) {
        ngx_memcpy(ngx_http_statsig_blob_data(sb), blob, job->size);

        ngx_http_statsig_job_idle(job, 0);
        rc = ngx_http_statsig_publish_blobs(s->ctx, sb, NULL, job->source,
                                            log);
        ngx_http_statsig_job_idle(job, 1);

    } else {
        rc = NGX_ERROR;
    }

    if (rc != NGX_OK) {
        job->outcome = NGX_HTTP_STATSIG_FAILED;

        /*
         * With no retired snapshot left to free, the zone will not have
         * more room for this document: it is not compiled again (see
         * above), and fetched less often, until a new one comes.
         */
        ngx_http_statsig_job_lock(job);
        job->too_big = (sh->retired_count == 0);
        ngx_http_statsig_job_unlock(job);

        if (!job->too_big || job->source != NGX_HTTP_STATSIG_SOURCE_NETWORK) {
            ngx_snprintf(job->err, sizeof(job->err),
                         "the statsig zone is full%Z");
            job->too_big = 0;
            return;
        }

        job->crc = statsig_crc32(0, job->json, job->len);

        ngx_snprintf(job->err, sizeof(job->err),
                     "the specs (%uz bytes compiled) do not fit in the "
                     "statsig zone \"%V\" of %uz bytes, make it larger; "
                     "this document is not compiled again%Z", job->size,
                     &s->smcf->shm_zone->shm.name,
                     s->smcf->shm_zone->shm.size);
        return;
    }

    job->publish_ms = ngx_http_statsig_clock_ms() - start;

    /* what the compile freed goes back; what it keeps stays mapped */
    ngx_http_statsig_job_idle(job, 0);
    ngx_http_statsig_trim_heap();
    ngx_http_statsig_job_idle(job, 1);

    /* a file read in local mode was recorded by ngx_http_statsig_read_file */

    if (job->source == NGX_HTTP_STATSIG_SOURCE_NETWORK
        && s->smcf->specs_file.len)
    {
        /* the version of the zone's specs this file holds */
        ngx_http_statsig_job_lock(job);
        job->version = ++sh->specs_file.version;
        ngx_http_statsig_job_unlock(job);

        json.data = job->json;
        json.len = job->len;

        job->written = 1;
        job->write_err = ngx_http_statsig_file_write(&s->smcf->specs_file,
                                                     json.data, json.len,
                                                     &job->write_fi,
                                                     &job->write_op, log);
    }

    job->outcome = NGX_HTTP_STATSIG_UPDATED;
}


/* hashed_sdk_key_used present and not djb2 of our key */

static ngx_uint_t
ngx_http_statsig_other_key(ngx_http_statsig_specs_t *s,
    const statsig_snapshot_t *snap)
{
    u_char         buf[NGX_INT32_LEN + 1], *last;
    ngx_str_t     *key;
    statsig_str_t  used;

    /* loaded on the loop before the download; read-only since */
    key = &s->smcf->server_key.value;

    used = statsig_snapshot_hashed_sdk_key(snap);
    if (used.len == 0 || key->len == 0) {
        return 0;
    }

    last = ngx_sprintf(buf, "%uD",
                       statsig_djb2((char *) key->data, key->len));

    return (size_t) (last - buf) != used.len
           || ngx_memcmp(buf, used.data, used.len) != 0;
}


/* back in the event loop */

#if (NGX_HTTP_STATSIG_THREADS)

static void
ngx_http_statsig_job_run_task(void *data, ngx_log_t *log)
{
    ngx_http_statsig_job_t  *job;

    job = *(ngx_http_statsig_job_t **) data;
    job->threaded = 1;

#if (NGX_LINUX)
    /* a pool thread under a real-time or batch policy is left as it is */
    job->background = (sched_getscheduler(0) == SCHED_OTHER);
    job->tid = (ngx_atomic_t) syscall(SYS_gettid);
    ngx_memory_barrier();
#endif

    ngx_http_statsig_job_idle(job, 1);
    ngx_http_statsig_job_run(job, log);
    ngx_http_statsig_job_idle(job, 0);

#if (NGX_LINUX)
    /* the loop may still urge: not this thread, once it runs other tasks */
    job->tid = 0;
    ngx_memory_barrier();
#endif
}


static void
ngx_http_statsig_job_event(ngx_event_t *ev)
{
    ngx_thread_task_t  *task = ev->data;

    ngx_http_statsig_job_report(*(ngx_http_statsig_job_t **) task->ctx);
}

#endif


static void
ngx_http_statsig_job_report(ngx_http_statsig_job_t *job)
{
    ngx_http_statsig_specs_t  *s;

    s = job->specs;
    s->compiling = 0;
    job->json = NULL;

    /* polls answered "no updates" do not keep the compile memory alive */
    if (job->outcome == NGX_HTTP_STATSIG_UPDATED) {
        ngx_http_statsig_kept.used = ngx_current_msec;
    }

    if (s->ctx == NULL) {
        return;
    }

    if (job->written) {
        ngx_http_statsig_job_written(s, job);
    }

    ngx_http_statsig_job_too_big(s, job);

    if (job->outcome == NGX_HTTP_STATSIG_UPDATED) {
        ngx_log_error(NGX_LOG_INFO, s->log, 0,
                      "statsig: new specs (time %L, %uz bytes compiled in "
                      "%M ms, published in %M ms)", job->time, job->size,
                      job->compile_ms, job->publish_ms);

    } else if (job->outcome == NGX_HTTP_STATSIG_IGNORED) {
        ngx_log_error(NGX_LOG_INFO, s->log, 0,
                      "statsig: ignored specs with time %L older than "
                      "the current %L", job->time, job->old_time);
    }

    ngx_http_statsig_specs_result(s, 0, job->outcome, job->err);
}


/* local mode: re-read statsig_specs_file when it changed */

void
ngx_http_statsig_specs_local_check(void)
{
    u_char                     err[NGX_HTTP_STATSIG_ERRLEN];
    ngx_str_t                 *path;
    ngx_uint_t                 same;
    ngx_file_info_t            fi;
    ngx_http_statsig_specs_t  *s;
    ngx_http_statsig_shctx_t  *sh;

    s = &ngx_http_statsig_specs;
    sh = s->ctx->sh;
    path = &s->smcf->specs_file;

    if (ngx_file_info(path->data, &fi) == NGX_FILE_ERROR) {
        ngx_snprintf(err, sizeof(err), "cannot stat the specs file \"%V\": "
                     "%s%Z", path, strerror(ngx_errno));
        ngx_http_statsig_fetch_result(s->ctx, &sh->specs_stats, "specs", 0,
                                NGX_HTTP_STATSIG_REQUEST_FAILED, err);
        return;
    }

    ngx_shmtx_lock(&s->ctx->shpool->mutex);
    same = !ngx_http_statsig_file_changed(&sh->file_id, &fi);
    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    if (same) {
        return;
    }

    ngx_http_statsig_fetch_result(s->ctx, &sh->specs_stats, "specs", 0,
                            NGX_HTTP_STATSIG_ATTEMPT, NULL);

    ngx_http_statsig_specs_job(s, NULL, NGX_HTTP_STATSIG_SOURCE_FILE);
}


/*
 * In the job: reads the specs file; its identity is recorded at once so
 * that a bad file is not tried again until it changes.
 */

static ngx_int_t
ngx_http_statsig_read_file(ngx_http_statsig_specs_t *s,
    ngx_http_statsig_job_t *job, ngx_file_info_t *fi)
{
    size_t                     len;
    ssize_t                    n;
    ngx_fd_t                   fd;
    ngx_str_t                 *path;
    ngx_http_statsig_shctx_t  *sh;

    sh = s->ctx->sh;
    path = &s->smcf->specs_file;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        goto failed;
    }

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        goto failed;
    }

    ngx_http_statsig_job_lock(job);
    ngx_http_statsig_file_id(&sh->file_id, fi);
    ngx_http_statsig_job_unlock(job);

    len = (size_t) ngx_file_size(fi);

    job->json = ngx_http_statsig_kept_buffer(len + 1, s->log);
    if (job->json == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, job->json, len);
    if (n == -1 || (size_t) n != len) {
        goto failed;
    }

    (void) ngx_close_file(fd);

    job->len = len;

    return NGX_OK;

failed:

    ngx_snprintf(job->err, sizeof(job->err), "cannot read the specs file "
                 "\"%V\": %s%Z", path, strerror(ngx_errno));

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }

    return NGX_ERROR;
}


/*
 * The specs file written by the job: counted; a write that failed keeps
 * the document (the kept buffer changes hands: the next download gets a
 * new one) and ngx_http_statsig_disk.c writes it again on the next ticks,
 * until it works or newer specs come.  Before, the file stayed at the old
 * specs until Statsig sent newer ones.
 */

static void
ngx_http_statsig_job_written(ngx_http_statsig_specs_t *s,
    ngx_http_statsig_job_t *job)
{
    u_char  *json;

    job->written = 0;

    ngx_http_statsig_disk_result(s->ctx, &s->ctx->sh->specs_file,
                                 "specs file", &s->smcf->specs_file,
                                 job->write_err, job->write_op,
                                 job->write_err ? NULL : &job->write_fi, 1);

    if (job->write_err == 0) {
        ngx_http_statsig_disk_drop(NGX_HTTP_STATSIG_DISK_SPECS);
        return;
    }

    json = ngx_http_statsig_kept.json;

    if (json == NULL) {
        return;
    }

    ngx_http_statsig_kept.json = NULL;
    ngx_http_statsig_kept.cap = 0;

    ngx_http_statsig_disk_write(NGX_HTTP_STATSIG_DISK_SPECS, json, job->len,
                                job->version, 1);
}


/*
 * A document that never fits the zone was downloaded and compiled every
 * interval at full cost, with an [error] each time.  Now it is logged
 * once, not compiled again while Statsig sends the same one, and fetched
 * after two intervals, then four, up to a minute; new specs that fit end
 * it.
 */

static void
ngx_http_statsig_job_too_big(ngx_http_statsig_specs_t *s,
    ngx_http_statsig_job_t *job)
{
    uint64_t  next;

    if (!job->too_big) {
        if (job->outcome == NGX_HTTP_STATSIG_UPDATED) {
            s->too_big_len = 0;
            s->backoff = 0;
        }

        return;
    }

    s->too_big_len = job->len;
    s->too_big_crc = job->crc;

    s->backoff = s->backoff ? ngx_min(2 * s->backoff,
                                      NGX_HTTP_STATSIG_TOO_BIG_MAX_MS)
                            : ngx_min(2 * s->smcf->sync_interval,
                                      NGX_HTTP_STATSIG_TOO_BIG_MAX_MS);

    next = ngx_http_statsig_now_ms() + s->backoff;

    ngx_shmtx_lock(&s->ctx->shpool->mutex);

    if (s->ctx->sh->specs_next < next) {
        s->ctx->sh->specs_next = next;
    }

    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, s->log, 0,
                   "statsig: specs of %uz bytes do not fit, next fetch in "
                   "%M ms", job->len, s->backoff);
}
