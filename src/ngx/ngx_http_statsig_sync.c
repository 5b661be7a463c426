
/*
 * ngx_http_statsig_module: keeping the zone's specs and ID lists fresh.
 *
 * Every worker runs a cancelable tick.  Under the zone mutex it renews or
 * takes the fetch lease (sh->lease_pid, sh->lease_deadline): a worker
 * takes it when nobody holds it, when the holder's pid is gone (kill -9)
 * or when the holder did not renew it in time (a wedged worker).  Only the
 * holder fetches; when the next fetch is due is kept in the zone, so a
 * reload or a handover does not fetch again early.
 *
 *   specs      GET statsig_specs_url/<key>.json?sinceTime=<time>, compiled
 *              here, published into the zone, written to
 *              statsig_specs_file (write + rename);
 *   ID lists   POST statsig_id_lists_url, then each list's new bytes
 *              (Range: bytes=<offset>-) applied to a builder in this
 *              worker's memory; a new holder starts from offset 0;
 *   local mode (no key): statsig_specs_file re-read when it changes.
 *
 * A failure keeps the last good snapshot; it is logged once per change of
 * state or reason, and counted in the zone for statsig_status.  The key
 * is never logged: error texts are scrubbed of it.
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

#include "ngx_http_statsig_module.h"
#include "ngx_http_statsig_snapshot.h"
#include "ngx_http_statsig_http.h"
#include "hash.h"
#include "idlist.h"


#define NGX_HTTP_STATSIG_SDK_TYPE     "ngx-http-statsig-module"
#define NGX_HTTP_STATSIG_MAX_SPECS    (256 * 1024 * 1024)
#define NGX_HTTP_STATSIG_NHEADERS     6


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

    ngx_event_t                    tick;
    ngx_msec_t                     tick_ms;
    ngx_uint_t                     holder;

    ngx_str_t                      key;
    ngx_uint_t                     key_failed;
    u_char                         session_id[36];

    ngx_http_statsig_http_req_t   *specs_req;
    ngx_http_statsig_http_req_t   *idl_req;

    statsig_idlist_builder_t      *builder;
    ngx_pool_t                    *idl_pool;
    ngx_array_t                   *idlists;   /* ngx_http_statsig_idlist_t */
    ngx_uint_t                     idl_next;
    ngx_uint_t                     idl_dirty;
    ngx_uint_t                     idl_reset;
    ngx_uint_t                     idl_failed;
    ngx_uint_t                     compiling;
} ngx_http_statsig_sync_t;


typedef struct {
    ngx_http_statsig_sync_t       *sync;
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


static void ngx_http_statsig_sync_tick(ngx_event_t *ev);
static ngx_uint_t ngx_http_statsig_other_key(ngx_http_statsig_sync_t *s,
    const statsig_snapshot_t *snap);
static ngx_uint_t ngx_http_statsig_lease_locked(ngx_http_statsig_sync_t *s,
    uint64_t now);
static void ngx_http_statsig_lease_release(ngx_http_statsig_sync_t *s);
static void ngx_http_statsig_sync_stop(ngx_http_statsig_sync_t *s);
static ngx_int_t ngx_http_statsig_load_key(ngx_http_statsig_sync_t *s);
static ngx_int_t ngx_http_statsig_request(ngx_http_statsig_sync_t *s,
    char *method, ngx_str_t *url, ngx_str_t *body, ngx_str_t *extra,
    ngx_uint_t kept, ngx_http_statsig_http_done_pt done,
    ngx_http_statsig_http_req_t **req);
static void ngx_http_statsig_specs_start(ngx_http_statsig_sync_t *s);
static void ngx_http_statsig_specs_done(ngx_http_statsig_http_res_t *res,
    void *data);
static void ngx_http_statsig_specs_job(ngx_http_statsig_sync_t *s,
    ngx_str_t *json, ngx_uint_t source);
static void ngx_http_statsig_job_run(void *data, ngx_log_t *log);
static u_char *ngx_http_statsig_kept_buffer(size_t len, ngx_log_t *log);
static void ngx_http_statsig_kept_free(void);
static void ngx_http_statsig_job_report(ngx_http_statsig_job_t *job);
static void ngx_http_statsig_job_idle(ngx_http_statsig_job_t *job,
    ngx_uint_t on);
static void ngx_http_statsig_job_urge(ngx_http_statsig_job_t *job);
#if (NGX_HTTP_STATSIG_THREADS)
static void ngx_http_statsig_job_run_task(void *data, ngx_log_t *log);
static void ngx_http_statsig_job_event(ngx_event_t *ev);
#endif
static ngx_int_t ngx_http_statsig_read_file(ngx_http_statsig_sync_t *s,
    ngx_http_statsig_job_t *job, ngx_file_info_t *fi);
static void ngx_http_statsig_local_check(ngx_http_statsig_sync_t *s);
static void ngx_http_statsig_sync_dir(ngx_str_t *path, ngx_log_t *log);
static void ngx_http_statsig_write_file(ngx_http_statsig_job_t *job,
    ngx_str_t *json, ngx_log_t *log);
static void ngx_http_statsig_idlists_start(ngx_http_statsig_sync_t *s);
static void ngx_http_statsig_idlists_done(ngx_http_statsig_http_res_t *res,
    void *data);
static ngx_int_t ngx_http_statsig_idlists_index(ngx_http_statsig_sync_t *s,
    ngx_str_t *json, u_char *err, size_t errlen);
static void ngx_http_statsig_idlist_next(ngx_http_statsig_sync_t *s);
static void ngx_http_statsig_idlist_done(ngx_http_statsig_http_res_t *res,
    void *data);
static void ngx_http_statsig_idlists_publish(ngx_http_statsig_sync_t *s);
static void ngx_http_statsig_idlists_save(ngx_http_statsig_sync_t *s);
static ngx_int_t ngx_http_statsig_idlists_resume(ngx_http_statsig_sync_t *s);
static void ngx_http_statsig_result(ngx_http_statsig_sync_t *s,
    ngx_http_statsig_stats_t *st, char *what, ngx_msec_t elapsed,
    ngx_uint_t outcome, u_char *reason);
static void ngx_http_statsig_count_request(ngx_http_statsig_stats_t *st,
    ngx_msec_t elapsed);
static ngx_uint_t ngx_http_statsig_same_reason(u_char *a, u_char *b);
static u_char *ngx_http_statsig_upstream_error(ngx_http_statsig_sync_t *s,
    ngx_http_statsig_http_res_t *res, u_char *buf, size_t len);


#define NGX_HTTP_STATSIG_OK          0
#define NGX_HTTP_STATSIG_UPDATED     1
#define NGX_HTTP_STATSIG_NO_UPDATES  2
#define NGX_HTTP_STATSIG_IGNORED     3
#define NGX_HTTP_STATSIG_FAILED      4
#define NGX_HTTP_STATSIG_ATTEMPT     5


static ngx_http_statsig_sync_t  ngx_http_statsig_sync;
static ngx_http_statsig_job_t   ngx_http_statsig_job;
static ngx_http_statsig_kept_t  ngx_http_statsig_kept;
static ngx_connection_t         ngx_http_statsig_tick_conn;

#if (NGX_HTTP_STATSIG_THREADS)
static ngx_str_t                ngx_http_statsig_tp_name =
    ngx_string("statsig");
static ngx_str_t                ngx_http_statsig_tp_dflt =
    ngx_string("default");
static ngx_thread_pool_t       *ngx_http_statsig_tp;
static ngx_thread_task_t       *ngx_http_statsig_task;
#endif


ngx_int_t
ngx_http_statsig_sync_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_msec_t                     min;
    ngx_http_statsig_sync_t       *s;
    ngx_http_statsig_main_conf_t  *smcf;

    s = &ngx_http_statsig_sync;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    if (smcf == NULL || smcf->shm_zone == NULL) {
        return NGX_OK;
    }

    ngx_memzero(s, sizeof(ngx_http_statsig_sync_t));

    s->smcf = smcf;
    s->ctx = smcf->shm_zone->data;
    s->log = cycle->log;

    for (i = 0; i < sizeof(s->session_id); i++) {
        s->session_id[i] = "0123456789abcdef"[ngx_random() & 0xf];
    }

    s->session_id[8] = '-';
    s->session_id[13] = '-';
    s->session_id[14] = '4';
    s->session_id[18] = '-';
    s->session_id[23] = '-';

    if (smcf->key_source != NGX_HTTP_STATSIG_KEY_NONE
        && ngx_http_statsig_http_init(cycle, &smcf->ca_file, &smcf->proxy)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

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

    /* a few ticks per interval: handover and due fetches are prompt */

    min = ngx_min(smcf->sync_interval, smcf->id_lists_sync_interval);
    s->tick_ms = ngx_max(ngx_min(min / 4, 1000), 50);

    ngx_http_statsig_tick_conn.fd = (ngx_socket_t) -1;

    s->tick.handler = ngx_http_statsig_sync_tick;
    s->tick.data = &ngx_http_statsig_tick_conn;
    s->tick.log = cycle->log;
    s->tick.cancelable = 1;

    ngx_add_timer(&s->tick, 1 + ngx_random() % s->tick_ms);

    return NGX_OK;
}


/* configuration: the thread pool that compiles specs off the loop */

ngx_int_t
ngx_http_statsig_sync_conf(ngx_conf_t *cf, ngx_http_statsig_main_conf_t *smcf)
{
    /*
     * jansson seeds its hash tables once per process: do it here, before
     * workers fork, not racing between a compile thread and the loop
     */
    json_object_seed(0);

#if (NGX_HTTP_STATSIG_THREADS)

    if (smcf->key_source != NGX_HTTP_STATSIG_KEY_NONE
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


void
ngx_http_statsig_sync_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_statsig_sync_t  *s;

    s = &ngx_http_statsig_sync;

    if (s->ctx == NULL) {
        return;
    }

    if (s->tick.timer_set) {
        ngx_del_timer(&s->tick);
    }

    ngx_http_statsig_sync_stop(s);
    ngx_http_statsig_lease_release(s);
    ngx_http_statsig_http_cleanup();

    /* the thread pool is gone by now: a job it ran is not reported */
    ngx_http_statsig_kept_free();

    if (s->key.data) {
        ngx_explicit_memzero(s->key.data, s->key.len);
        ngx_free(s->key.data);
        s->key.data = NULL;
    }

    s->ctx = NULL;
}


/* drops what the holder had in flight and its ID-list state */

static void
ngx_http_statsig_sync_stop(ngx_http_statsig_sync_t *s)
{
    if (s->specs_req) {
        ngx_http_statsig_http_cancel(s->specs_req);
        s->specs_req = NULL;
    }

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

    s->holder = 0;
}


static void
ngx_http_statsig_sync_tick(ngx_event_t *ev)
{
    uint64_t                       now;
    ngx_uint_t                     holder, specs, idlists;
    ngx_http_statsig_sync_t       *s;
    ngx_http_statsig_shctx_t      *sh;
    ngx_http_statsig_main_conf_t  *smcf;

    s = &ngx_http_statsig_sync;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_statsig_sync_stop(s);
        ngx_http_statsig_lease_release(s);
        return;
    }

    ngx_add_timer(ev, s->tick_ms);

    if (s->compiling) {
        ngx_http_statsig_job_urge(&ngx_http_statsig_job);

    } else if ((ngx_http_statsig_kept.json || ngx_http_statsig_kept.mem)
               && s->specs_req == NULL
               && ngx_current_msec - ngx_http_statsig_kept.used
                  >= NGX_HTTP_STATSIG_KEEP_MS)
    {
        ngx_http_statsig_kept_free();
        ngx_http_statsig_trim_heap();
    }

    smcf = s->smcf;
    sh = s->ctx->sh;
    now = ngx_http_statsig_now_ms();
    specs = 0;
    idlists = 0;

    ngx_shmtx_lock(&s->ctx->shpool->mutex);

    ngx_http_statsig_gc_locked(s->ctx);

    holder = ngx_http_statsig_lease_locked(s, now);

    if (holder && s->specs_req == NULL && !s->compiling
        && now >= sh->specs_next)
    {
        sh->specs_next = now + smcf->sync_interval;
        specs = 1;
    }

    if (holder && smcf->key_source != NGX_HTTP_STATSIG_KEY_NONE
        && s->idl_req == NULL && now >= sh->idlists_next)
    {
        sh->idlists_next = now + smcf->id_lists_sync_interval;
        idlists = 1;
    }

    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    if (holder != s->holder) {
        if (holder) {
            ngx_log_error(NGX_LOG_INFO, s->log, 0,
                          "statsig: this worker now fetches for zone "
                          "\"%V\"", &smcf->shm_zone->shm.name);
            s->holder = 1;

        } else {
            ngx_log_error(NGX_LOG_INFO, s->log, 0,
                          "statsig: another worker took the fetch lease");
            ngx_http_statsig_sync_stop(s);
        }
    }

    if (smcf->key_source == NGX_HTTP_STATSIG_KEY_NONE) {
        if (specs && smcf->specs_file.len) {
            ngx_http_statsig_local_check(s);
        }

        return;
    }

    if ((specs || idlists) && ngx_http_statsig_load_key(s) != NGX_OK) {
        return;
    }

    if (specs) {
        ngx_http_statsig_specs_start(s);
    }

    if (idlists) {
        ngx_http_statsig_idlists_start(s);
    }
}


static ngx_uint_t
ngx_http_statsig_lease_locked(ngx_http_statsig_sync_t *s, uint64_t now)
{
    ngx_msec_t                 ttl;
    ngx_http_statsig_shctx_t  *sh;

    sh = s->ctx->sh;

    /* a holder renews every tick; a wedged one loses it after ttl */
    ttl = s->smcf->sync_interval + 2 * s->tick_ms;

    if (sh->lease_pid != ngx_pid) {
        if (sh->lease_pid != 0
            && now < sh->lease_deadline
            && ngx_http_statsig_pid_alive(sh->lease_pid))
        {
            return 0;
        }

        sh->lease_pid = ngx_pid;
        sh->lease_changes++;
    }

    sh->lease_deadline = now + ttl;

    return 1;
}


static void
ngx_http_statsig_lease_release(ngx_http_statsig_sync_t *s)
{
    ngx_http_statsig_shctx_t  *sh;

    if (s->ctx == NULL) {
        return;
    }

    sh = s->ctx->sh;

    ngx_shmtx_lock(&s->ctx->shpool->mutex);

    if (sh->lease_pid == ngx_pid) {
        sh->lease_pid = 0;
        sh->lease_deadline = 0;
    }

    ngx_shmtx_unlock(&s->ctx->shpool->mutex);
}


/*
 * The server key for the other users of it (the event flusher): loaded
 * on first use; NGX_DECLINED while there is none (logged once).
 */

ngx_int_t
ngx_http_statsig_get_server_key(ngx_str_t *key)
{
    ngx_http_statsig_sync_t  *s;

    s = &ngx_http_statsig_sync;

    if (s->ctx == NULL
        || s->smcf->key_source == NGX_HTTP_STATSIG_KEY_NONE
        || ngx_http_statsig_load_key(s) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    *key = s->key;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_load_key(ngx_http_statsig_sync_t *s)
{
    u_char                        *p, *v, *last;
    size_t                         len;
    ssize_t                        n;
    ngx_fd_t                       fd;
    u_char                         buf[4096];
    ngx_http_statsig_main_conf_t  *smcf;

    if (s->key.len) {
        return NGX_OK;
    }

    smcf = s->smcf;
    v = NULL;
    len = 0;

    if (smcf->key_source == NGX_HTTP_STATSIG_KEY_ENV) {
        p = ngx_alloc(smcf->key_ref.len + 1, s->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_cpystrn(p, smcf->key_ref.data, smcf->key_ref.len + 1);
        v = (u_char *) getenv((char *) p);
        ngx_free(p);

        if (v == NULL || *v == '\0') {
            if (!s->key_failed) {
                ngx_log_error(NGX_LOG_ERR, s->log, 0,
                              "statsig_server_key: the environment variable "
                              "\"%V\" is not set (nginx needs \"env %V;\" "
                              "to pass it to workers); nothing is fetched",
                              &smcf->key_ref, &smcf->key_ref);
                s->key_failed = 1;
            }

            return NGX_DECLINED;
        }

        len = ngx_strlen(v);

    } else {
        fd = ngx_open_file(smcf->key_ref.data, NGX_FILE_RDONLY,
                           NGX_FILE_OPEN, 0);
        n = -1;

        if (fd != NGX_INVALID_FILE) {
            n = ngx_read_fd(fd, buf, sizeof(buf) - 1);
            (void) ngx_close_file(fd);
        }

        if (n <= 0) {
            if (!s->key_failed) {
                ngx_log_error(NGX_LOG_ERR, s->log, ngx_errno,
                              "statsig_server_key: cannot read \"%V\"; "
                              "nothing is fetched", &smcf->key_ref);
                s->key_failed = 1;
            }

            return NGX_DECLINED;
        }

        v = buf;
        len = n;
    }

    /* trim blanks and a trailing newline */

    last = v + len;

    while (v < last && (*v == ' ' || *v == '\t' || *v == '\r'
                        || *v == '\n'))
    {
        v++;
    }

    while (last > v && (last[-1] == ' ' || last[-1] == '\t'
                        || last[-1] == '\r' || last[-1] == '\n'))
    {
        last--;
    }

    len = last - v;

    if (len == 0) {
        if (!s->key_failed) {
            ngx_log_error(NGX_LOG_ERR, s->log, 0,
                          "statsig_server_key: the key is empty; nothing "
                          "is fetched");
            s->key_failed = 1;
        }

        return NGX_DECLINED;
    }

    s->key.data = ngx_alloc(len, s->log);
    if (s->key.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->key.data, v, len);
    s->key.len = len;

    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_OK;
}


/*
 * A request with the headers the SDKs send; kept: the body goes into the
 * kept document buffer (a specs download: no fresh pages, no copy).
 */

static ngx_int_t
ngx_http_statsig_request(ngx_http_statsig_sync_t *s, char *method,
    ngx_str_t *url, ngx_str_t *body, ngx_str_t *extra, ngx_uint_t kept,
    ngx_http_statsig_http_done_pt done, ngx_http_statsig_http_req_t **req)
{
    u_char                           *p;
    ngx_int_t                         rc;
    ngx_uint_t                        n;
    ngx_str_t                         h[NGX_HTTP_STATSIG_NHEADERS + 1];
    ngx_http_statsig_http_request_t   rq;

    u_char  buf[sizeof("STATSIG-API-KEY: ") + 512
                + sizeof("STATSIG-CLIENT-TIME: ") + NGX_INT64_LEN
                + sizeof("STATSIG-SERVER-SESSION-ID: ") + 36];

    ngx_memzero(&rq, sizeof(ngx_http_statsig_http_request_t));

    n = 0;

    if (extra == NULL) {
        if (s->key.len > 512) {
            return NGX_ERROR;
        }

        p = buf;

        h[n].data = p;
        p = ngx_sprintf(p, "STATSIG-API-KEY: %V", &s->key);
        h[n].len = p - h[n].data;
        n++;

        h[n].data = p;
        p = ngx_sprintf(p, "STATSIG-CLIENT-TIME: %uL",
                        ngx_http_statsig_now_ms());
        h[n].len = p - h[n].data;
        n++;

        h[n].data = p;
        p = ngx_sprintf(p, "STATSIG-SERVER-SESSION-ID: %*s",
                        sizeof(s->session_id), s->session_id);
        h[n].len = p - h[n].data;
        n++;

        ngx_str_set(&h[n], "STATSIG-SDK-TYPE: " NGX_HTTP_STATSIG_SDK_TYPE);
        n++;
        ngx_str_set(&h[n], "STATSIG-SDK-VERSION: " NGX_HTTP_STATSIG_VERSION);
        n++;
        ngx_str_set(&h[n], "Content-Type: application/json; charset=UTF-8");
        n++;

    } else {
        h[n++] = *extra;
    }

    rq.method = method;
    rq.url = *url;
    rq.headers = h;
    rq.nheaders = n;
    rq.timeout = s->smcf->upstream_timeout;
    rq.max_body = NGX_HTTP_STATSIG_MAX_SPECS;
    rq.done = done;
    rq.data = s;

    if (kept) {
        rq.body_buf = &ngx_http_statsig_kept.json;
        rq.body_cap = &ngx_http_statsig_kept.cap;
    }

    if (body) {
        rq.body = *body;
    }

    *req = ngx_http_statsig_http_start(&rq);

    rc = (*req == NULL) ? NGX_ERROR : NGX_OK;

    ngx_explicit_memzero(buf, sizeof(buf));

    return rc;
}


/* ---- specs ---- */


static void
ngx_http_statsig_specs_start(ngx_http_statsig_sync_t *s)
{
    u_char                        *p;
    int64_t                        since;
    ngx_str_t                      url;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = s->smcf;

    ngx_shmtx_lock(&s->ctx->shpool->mutex);
    since = s->ctx->sh->specs_time;
    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    url.data = ngx_alloc(smcf->specs_url.len + s->key.len
                         + sizeof("/.json?sinceTime=") + NGX_INT64_LEN,
                         s->log);
    if (url.data == NULL) {
        return;
    }

    p = ngx_sprintf(url.data, "%V/%V.json", &smcf->specs_url, &s->key);

    if (since > 0) {
        p = ngx_sprintf(p, "?sinceTime=%L", since);
    }

    url.len = p - url.data;

    if (ngx_http_statsig_request(s, "GET", &url, NULL, NULL, 1,
                                 ngx_http_statsig_specs_done, &s->specs_req)
        != NGX_OK)
    {
        ngx_http_statsig_result(s, &s->ctx->sh->specs_stats, "specs", 0,
                                NGX_HTTP_STATSIG_FAILED,
                                (u_char *) "cannot start the request");
    }

    ngx_explicit_memzero(url.data, url.len);
    ngx_free(url.data);
}


static void
ngx_http_statsig_specs_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_sync_t *s = data;

    u_char  err[NGX_HTTP_STATSIG_ERRLEN];

    s->specs_req = NULL;

    if (ngx_http_statsig_upstream_error(s, res, err, sizeof(err)) != NULL) {
        ngx_http_statsig_result(s, &s->ctx->sh->specs_stats, "specs",
                                res->elapsed, NGX_HTTP_STATSIG_FAILED, err);
        return;
    }

    ngx_http_statsig_result(s, &s->ctx->sh->specs_stats, "specs",
                            res->elapsed, NGX_HTTP_STATSIG_ATTEMPT, NULL);

    /* the body was downloaded into the kept buffer: no copy */
    ngx_http_statsig_specs_job(s, &res->body, NGX_HTTP_STATSIG_SOURCE_NETWORK);
}


/* transport errors and non-2xx answers; NULL when the answer is usable */

static u_char *
ngx_http_statsig_upstream_error(ngx_http_statsig_sync_t *s,
    ngx_http_statsig_http_res_t *res, u_char *buf, size_t len)
{
    u_char  *p, *k, *last;

    if (res->error) {
        last = ngx_snprintf(buf, len - 1, "%s", res->error);

    } else if (res->status < 200 || res->status > 299) {
        last = ngx_snprintf(buf, len - 1, "HTTP status %ui", res->status);

    } else {
        return NULL;
    }

    *last = '\0';

    /* curl may quote the URL, which holds the key */

    if (s->key.len) {
        for (p = buf; (size_t) (last - p) >= s->key.len; p++) {
            k = ngx_strlcasestrn(p, last, s->key.data, s->key.len - 1);
            if (k == NULL) {
                break;
            }

            ngx_memset(k, '*', s->key.len);
            p = k;
        }
    }

    return buf;
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
ngx_http_statsig_specs_job(ngx_http_statsig_sync_t *s, ngx_str_t *json,
    ngx_uint_t source)
{
    ngx_http_statsig_job_t  *job;

    job = &ngx_http_statsig_job;

    ngx_memzero(job, sizeof(ngx_http_statsig_job_t));

    job->sync = s;
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

        ngx_log_debug1(NGX_LOG_DEBUG_CORE, job->sync->log, 0,
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
    ngx_shmtx_lock(&job->sync->ctx->shpool->mutex);
}


static void
ngx_http_statsig_job_unlock(ngx_http_statsig_job_t *job)
{
    ngx_shmtx_unlock(&job->sync->ctx->shpool->mutex);
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
    json_t                    *root;
    ngx_str_t                  json;
    ngx_msec_t                 start;
    json_error_t               jerr;
    ngx_file_info_t            fi;
    ngx_http_statsig_sync_t   *s;
    ngx_http_statsig_shctx_t  *sh;
    ngx_int_t                  rc;
    const statsig_snapshot_t  *snap;
    ngx_http_statsig_blob_t   *sb;

    s = job->sync;
    sh = s->ctx->sh;

    if (job->source == NGX_HTTP_STATSIG_SOURCE_FILE
        && ngx_http_statsig_read_file(s, job, &fi) != NGX_OK)
    {
        job->outcome = NGX_HTTP_STATSIG_FAILED;
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

        /* {"has_updates":false} is not a full document */

        root = json_loadb((char *) job->json, job->len, 0, &jerr);

        if (root && json_is_object(root)
            && json_is_false(json_object_get(root, "has_updates")))
        {
            json_decref(root);
            job->outcome = NGX_HTTP_STATSIG_NO_UPDATES;
            return;
        }

        if (root) {
            json_decref(root);
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
        ngx_snprintf(job->err, sizeof(job->err),
                     "the statsig zone is full%Z");
        job->outcome = NGX_HTTP_STATSIG_FAILED;
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
        json.data = job->json;
        json.len = job->len;
        ngx_http_statsig_write_file(job, &json, log);
    }

    job->outcome = NGX_HTTP_STATSIG_UPDATED;
}


/* hashed_sdk_key_used present and not djb2 of our key */

static ngx_uint_t
ngx_http_statsig_other_key(ngx_http_statsig_sync_t *s,
    const statsig_snapshot_t *snap)
{
    u_char         buf[NGX_INT32_LEN + 1], *last;
    statsig_str_t  used;

    used = statsig_snapshot_hashed_sdk_key(snap);
    if (used.len == 0 || s->key.len == 0) {
        return 0;
    }

    last = ngx_sprintf(buf, "%uD",
                       statsig_djb2((char *) s->key.data, s->key.len));

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
    ngx_http_statsig_sync_t  *s;

    s = job->sync;
    s->compiling = 0;
    job->json = NULL;

    /* polls answered "no updates" do not keep the compile memory alive */
    if (job->outcome == NGX_HTTP_STATSIG_UPDATED) {
        ngx_http_statsig_kept.used = ngx_current_msec;
    }

    if (s->ctx == NULL) {
        return;
    }

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

    ngx_http_statsig_result(s, &s->ctx->sh->specs_stats, "specs", 0,
                            job->outcome, job->err);
}


/* local mode: re-read statsig_specs_file when it changed */

static void
ngx_http_statsig_local_check(ngx_http_statsig_sync_t *s)
{
    u_char                     err[NGX_HTTP_STATSIG_ERRLEN];
    ngx_str_t                 *path;
    ngx_uint_t                 same;
    ngx_file_info_t            fi;
    ngx_http_statsig_shctx_t  *sh;

    sh = s->ctx->sh;
    path = &s->smcf->specs_file;

    if (ngx_file_info(path->data, &fi) == NGX_FILE_ERROR) {
        ngx_snprintf(err, sizeof(err), "cannot stat the specs file \"%V\": "
                     "%s%Z", path, strerror(ngx_errno));
        ngx_http_statsig_result(s, &sh->specs_stats, "specs", 0,
                                NGX_HTTP_STATSIG_FAILED, err);
        return;
    }

    ngx_shmtx_lock(&s->ctx->shpool->mutex);
    same = !ngx_http_statsig_file_changed(&sh->file_id, &fi);
    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    if (same) {
        return;
    }

    ngx_http_statsig_result(s, &sh->specs_stats, "specs", 0,
                            NGX_HTTP_STATSIG_ATTEMPT, NULL);

    ngx_http_statsig_specs_job(s, NULL, NGX_HTTP_STATSIG_SOURCE_FILE);
}


/*
 * In the job: reads the specs file; its identity is recorded at once so
 * that a bad file is not tried again until it changes.
 */

static ngx_int_t
ngx_http_statsig_read_file(ngx_http_statsig_sync_t *s,
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
 * The last good specs on disk: a temporary file, synced, then renamed
 * over the old one and the directory synced, so that after a crash or a
 * power cut the file is the old or the new document, never a torn one.
 */

static void
ngx_http_statsig_write_file(ngx_http_statsig_job_t *job, ngx_str_t *json,
    ngx_log_t *log)
{
    u_char                    *tmp;
    size_t                     off;
    ssize_t                    n;
    ngx_fd_t                   fd;
    ngx_str_t                 *path;
    ngx_err_t                  e;
    ngx_file_info_t            fi;
    ngx_http_statsig_sync_t   *s;
    ngx_http_statsig_shctx_t  *sh;

    s = job->sync;
    sh = s->ctx->sh;
    path = &s->smcf->specs_file;

    tmp = ngx_alloc(path->len + sizeof(".tmp.") + NGX_INT_T_LEN, log);
    if (tmp == NULL) {
        return;
    }

    (void) ngx_sprintf(tmp, "%V.tmp.%P%Z", path, ngx_pid);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        e = ngx_errno;
        goto failed;
    }

    for (off = 0; off < json->len; off += n) {
        n = ngx_write_fd(fd, json->data + off, json->len - off);
        if (n <= 0) {
            e = ngx_errno;
            (void) ngx_close_file(fd);
            (void) ngx_delete_file(tmp);
            goto failed;
        }
    }

    if (fsync(fd) == -1
        || ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_close_file(fd) == NGX_FILE_ERROR
        || ngx_rename_file(tmp, path->data) == NGX_FILE_ERROR)
    {
        e = ngx_errno;
        (void) ngx_delete_file(tmp);
        goto failed;
    }

    ngx_http_statsig_sync_dir(path, log);

    ngx_http_statsig_job_lock(job);
    sh->file_writes++;
    ngx_http_statsig_file_id(&sh->file_id, &fi);
    ngx_http_statsig_job_unlock(job);

    ngx_free(tmp);

    return;

failed:

    ngx_log_error(NGX_LOG_ERR, log, e,
                  "statsig: cannot write the specs file \"%s\"", tmp);

    ngx_http_statsig_job_lock(job);
    sh->file_write_errors++;
    ngx_http_statsig_job_unlock(job);

    ngx_free(tmp);
}



/* the rename is durable once the directory holding the file is synced */

static void
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


/* ---- ID lists ---- */


static void
ngx_http_statsig_idlists_start(ngx_http_statsig_sync_t *s)
{
    ngx_str_t  body = ngx_string("{}");

    if (ngx_http_statsig_request(s, "POST", &s->smcf->id_lists_url, &body,
                                 NULL, 0, ngx_http_statsig_idlists_done,
                                 &s->idl_req)
        != NGX_OK)
    {
        ngx_http_statsig_result(s, &s->ctx->sh->idlists_stats, "ID lists",
                                0, NGX_HTTP_STATSIG_FAILED,
                                (u_char *) "cannot start the request");
    }
}


static void
ngx_http_statsig_idlists_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_sync_t *s = data;

    u_char  err[NGX_HTTP_STATSIG_ERRLEN];

    s->idl_req = NULL;

    if (ngx_http_statsig_upstream_error(s, res, err, sizeof(err)) != NULL
        || ngx_http_statsig_idlists_index(s, &res->body, err, sizeof(err))
           != NGX_OK)
    {
        ngx_http_statsig_result(s, &s->ctx->sh->idlists_stats, "ID lists",
                                res->elapsed, NGX_HTTP_STATSIG_FAILED, err);
        return;
    }

    ngx_http_statsig_result(s, &s->ctx->sh->idlists_stats, "ID lists",
                            res->elapsed, NGX_HTTP_STATSIG_ATTEMPT, NULL);

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
ngx_http_statsig_idlists_index(ngx_http_statsig_sync_t *s, ngx_str_t *json,
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
ngx_http_statsig_idlist_next(ngx_http_statsig_sync_t *s)
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

    if (ngx_http_statsig_request(s, "GET", &l->url, NULL, &range, 0,
                                 ngx_http_statsig_idlist_done, &s->idl_req)
        != NGX_OK)
    {
        ngx_http_statsig_result(s, &s->ctx->sh->idlists_stats, "ID lists",
                                0, NGX_HTTP_STATSIG_FAILED,
                                (u_char *) "cannot start the request");
    }
}


static void
ngx_http_statsig_idlist_done(ngx_http_statsig_http_res_t *res, void *data)
{
    ngx_http_statsig_sync_t *s = data;

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

    if (ngx_http_statsig_upstream_error(s, res, err, sizeof(err)) != NULL) {
        ngx_http_statsig_result(s, &s->ctx->sh->idlists_stats, "ID lists",
                                res->elapsed, NGX_HTTP_STATSIG_FAILED, err);
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
        ngx_http_statsig_result(s, &s->ctx->sh->idlists_stats, "ID lists",
                                res->elapsed, NGX_HTTP_STATSIG_FAILED, err);
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
ngx_http_statsig_idlists_publish(ngx_http_statsig_sync_t *s)
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

        ngx_http_statsig_result(s, &s->ctx->sh->idlists_stats, "ID lists",
                                0, NGX_HTTP_STATSIG_UPDATED, NULL);
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
ngx_http_statsig_idlists_save(ngx_http_statsig_sync_t *s)
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
ngx_http_statsig_idlists_resume(ngx_http_statsig_sync_t *s)
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


/* ---- counters and "logged once per change of state" ---- */


static void
ngx_http_statsig_result(ngx_http_statsig_sync_t *s,
    ngx_http_statsig_stats_t *st, char *what, ngx_msec_t elapsed,
    ngx_uint_t outcome, u_char *reason)
{
    ngx_uint_t  log_fail, log_ok;

    log_fail = 0;
    log_ok = 0;

    ngx_shmtx_lock(&s->ctx->shpool->mutex);

    switch (outcome) {

    case NGX_HTTP_STATSIG_ATTEMPT:
        ngx_http_statsig_count_request(st, elapsed);
        break;

    case NGX_HTTP_STATSIG_FAILED:
        if (elapsed) {
            ngx_http_statsig_count_request(st, elapsed);
        }

        st->failures++;
        st->last_error = ngx_time();

        if (st->state != NGX_HTTP_STATSIG_STATE_FAILING
            || !ngx_http_statsig_same_reason(st->error, reason))
        {
            log_fail = 1;
        }

        st->state = NGX_HTTP_STATSIG_STATE_FAILING;
        (void) ngx_cpystrn(st->error, reason, sizeof(st->error));
        break;

    default:
        if (outcome == NGX_HTTP_STATSIG_UPDATED) {
            st->updates++;
        } else if (outcome == NGX_HTTP_STATSIG_NO_UPDATES) {
            st->no_updates++;
        } else if (outcome == NGX_HTTP_STATSIG_IGNORED) {
            st->ignored++;
        }

        st->last_success = ngx_time();

        if (st->state == NGX_HTTP_STATSIG_STATE_FAILING) {
            log_ok = 1;
        }

        st->state = NGX_HTTP_STATSIG_STATE_OK;
        break;
    }

    ngx_shmtx_unlock(&s->ctx->shpool->mutex);

    if (log_fail) {
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "statsig: %s sync failed: %s; serving the last good "
                      "snapshot", what, reason);
    }

    if (log_ok) {
        ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                      "statsig: %s sync works again", what);
    }
}


/* a request that got an answer or failed after elapsed ms; locked */

static void
ngx_http_statsig_count_request(ngx_http_statsig_stats_t *st,
    ngx_msec_t elapsed)
{
    st->requests++;
    st->last_attempt = ngx_time();
    st->last_ms = elapsed;
    st->total_ms += elapsed;

    if (elapsed > st->max_ms) {
        st->max_ms = elapsed;
    }
}


/* "timed out after 700 ms" and "after 701 ms" are the same reason */

static ngx_uint_t
ngx_http_statsig_same_reason(u_char *a, u_char *b)
{
    for ( ;; ) {
        while (*a >= '0' && *a <= '9') {
            a++;
        }

        while (*b >= '0' && *b <= '9') {
            b++;
        }

        if (*a != *b) {
            return 0;
        }

        if (*a == '\0') {
            return 1;
        }

        a++;
        b++;
    }
}
