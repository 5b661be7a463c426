
/*
 * ngx_http_statsig_module: the event spool (statsig_event_spool).
 *
 * The sinks' rings live in the zone, which dies with nginx.  When nginx
 * quits, the master, once every worker has sent what it could, writes
 * the records left in each ring, as they are and oldest first, to files
 * in the spool directory; without a spool it logs how many events are
 * lost.  At the next start (init_zone, in the master) and then on the
 * flusher's tick whenever a ring has room and its sink is up, the files
 * are read back into the rings, oldest first, and removed (or rewritten
 * with what did not fit).  A sink that is failing with its ring half
 * full spills its oldest records the same way, so that the ring keeps
 * taking new events instead of dropping them.
 *
 * A file is one sink's: a header, then ring records (packs, or a plain
 * sink's events), written under a ".tmp" name and renamed, so a reader
 * never sees half of one.  Names are <sink>-<ms>-<pid>-<n>.spool: sorted
 * by name, oldest first.  The directory's spool files are bounded by
 * max_size: past it a spill stops and the ring drops as it did before,
 * counted.  The workers write spills, so the directory must be writable
 * by nginx's user.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_statsig_events.h"


#define NGX_HTTP_STATSIG_SPOOL_MAGIC    0x314c4f4f50535453ULL  /* STSPOOL1 */
#define NGX_HTTP_STATSIG_SPOOL_CHUNK    (8 * 1024 * 1024)


typedef struct {
    uint64_t                       magic;
    uint32_t                       rec_hdr;    /* its record header size */
    uint32_t                       events;
    uint64_t                       bytes;      /* of records */
    char                           sink[16];
} ngx_http_statsig_spool_hdr_t;


/* what the directory holds for one sink */
typedef struct {
    ngx_str_t                      oldest;     /* its path, or empty */
    off_t                          total;      /* every sink's files */
    ngx_uint_t                     files;
} ngx_http_statsig_spool_dir_t;


static void ngx_http_statsig_spool_written(ngx_http_statsig_sink_sh_t *ss,
    ngx_shmtx_t *mutex, size_t len, ngx_uint_t events, ngx_int_t rc);
static ngx_int_t ngx_http_statsig_spool_write(ngx_str_t *dir,
    const char *sink, u_char *data, size_t len, ngx_uint_t events,
    ngx_log_t *log);
static ngx_int_t ngx_http_statsig_spool_write_path(u_char *path,
    const char *sink, u_char *data, size_t len, ngx_uint_t events,
    ngx_log_t *log);
static ngx_int_t ngx_http_statsig_spool_scan(ngx_str_t *dir,
    const char *sink, ngx_http_statsig_spool_dir_t *d, ngx_pool_t *pool,
    ngx_log_t *log);
static ngx_int_t ngx_http_statsig_spool_load(ngx_str_t *dir,
    const char *sink, ngx_http_statsig_sink_sh_t *ss, ngx_shmtx_t *mutex,
    ngx_log_t *log);
static ssize_t ngx_http_statsig_spool_cut(ngx_http_statsig_sink_sh_t *ss,
    ngx_shmtx_t *mutex, size_t max, ngx_uint_t *events, ngx_log_t *log);
static ngx_uint_t ngx_http_statsig_spool_count(u_char *recs, size_t len);


static u_char      *ngx_http_statsig_spool_buf;
static ngx_uint_t   ngx_http_statsig_spool_seq;


/* statsig_event_spool PATH [max_size=SIZE] */

char *
ngx_http_statsig_event_spool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_statsig_main_conf_t *smcf = conf;

    ngx_str_t  *value, s;

    if (smcf->spool.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    smcf->spool = value[1];

    if (ngx_conf_full_name(cf->cycle, &smcf->spool, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    while (smcf->spool.len > 1
           && smcf->spool.data[smcf->spool.len - 1] == '/')
    {
        smcf->spool.len--;
    }

    smcf->spool_max = 1024 * 1024 * 1024;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "max_size=", 9) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        s.data = value[2].data + 9;
        s.len = value[2].len - 9;

        smcf->spool_max = ngx_parse_offset(&s);

        if (smcf->spool_max == NGX_ERROR || smcf->spool_max < 1024 * 1024) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"max_size=%V\", expected 1m or "
                               "more", &s);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * The master, as nginx quits (every worker gone): each ring's records to
 * the spool, or, without one, the loss logged.  Nothing else touches the
 * zone now; the lock is taken anyway.
 */

void
ngx_http_statsig_spool_exit(ngx_http_statsig_main_conf_t *smcf,
    ngx_http_statsig_events_sh_t *es, ngx_slab_pool_t *shpool,
    ngx_log_t *log)
{
    ssize_t                      n;
    ngx_int_t                    rc;
    ngx_uint_t                   i, events, saved, lost;
    const char                  *name;
    ngx_http_statsig_sink_sh_t  *ss;

    for (i = 0; i < NGX_HTTP_STATSIG_MAX_SINKS; i++) {
        ss = &es->sinks[i];
        name = ngx_http_statsig_sink_name(i);

        if (ss->ring == NULL || name == NULL || ss->tail == ss->head) {
            continue;
        }

        saved = 0;
        lost = 0;

        while (ss->tail > ss->head) {
            if (smcf->spool.len == 0) {
                lost += ss->events;
                break;
            }

            n = ngx_http_statsig_spool_cut(ss, &shpool->mutex,
                                           NGX_HTTP_STATSIG_SPOOL_CHUNK,
                                           &events, log);

            if (n <= 0) {
                /* no memory, or a record larger than a chunk */
                lost += ss->events;
                break;
            }

            rc = ngx_http_statsig_spool_write(&smcf->spool, name,
                                              ngx_http_statsig_spool_buf,
                                              (size_t) n, events, log);

            ngx_http_statsig_spool_written(ss, &shpool->mutex, (size_t) n,
                                           events, rc);

            if (rc != NGX_OK) {
                lost += ss->events;
                break;
            }

            saved += events;
        }

        if (saved) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "statsig: at exit %ui events of sink \"%s\" were "
                          "written to the spool \"%V\"", saved, name,
                          &smcf->spool);
        }

        if (lost) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "statsig: at exit %ui events of sink \"%s\" were "
                          "lost%s", lost, name,
                          smcf->spool.len ? ": the spool could not take them"
                          : " (no statsig_event_spool)");
        }
    }

    ngx_http_statsig_spool_exit_worker();
}


/*
 * In the master at start, or in the flusher: spool files of the sink back
 * into its ring, oldest first, while it has room (half of it, so that new
 * events find some).  Returns the events put back.
 */

ngx_uint_t
ngx_http_statsig_spool_restore(ngx_http_statsig_main_conf_t *smcf,
    ngx_uint_t index, ngx_http_statsig_sink_sh_t *ss, ngx_shmtx_t *mutex,
    ngx_log_t *log)
{
    ngx_int_t                     n;
    ngx_uint_t                    total;
    ngx_pool_t                   *pool;
    const char                   *name;
    ngx_http_statsig_spool_dir_t  d;

    name = ngx_http_statsig_sink_name(index);

    if (smcf->spool.len == 0 || ss->ring == NULL || name == NULL) {
        return 0;
    }

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return 0;
    }

    total = 0;

    for ( ;; ) {
        if ((size_t) (ss->tail - ss->head) >= ss->size / 2
            || ngx_http_statsig_spool_scan(&smcf->spool, name, &d, pool, log)
               != NGX_OK
            || d.oldest.len == 0)
        {
            break;
        }

        n = ngx_http_statsig_spool_load(&d.oldest, name, ss, mutex, log);

        if (n <= 0) {
            break;
        }

        total += n;
    }

    ngx_destroy_pool(pool);

    if (total) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "statsig: %ui events of sink \"%s\" read back from the "
                      "spool \"%V\"", total, name, &smcf->spool);
    }

    return total;
}


/*
 * The flusher's tick, for a failing sink: past half of its ring, the
 * oldest records go to the spool until a quarter is left
 * (while the spool is under max_size), so that new events are not
 * dropped.  Returns the events spilled.
 */

ngx_uint_t
ngx_http_statsig_spool_spill(ngx_http_statsig_main_conf_t *smcf,
    ngx_uint_t index, ngx_http_statsig_sink_sh_t *ss, ngx_shmtx_t *mutex,
    ngx_log_t *log)
{
    size_t                        max;
    ssize_t                       n;
    ngx_int_t                     rc;
    ngx_uint_t                    events;
    ngx_pool_t                   *pool;
    const char                   *name;
    ngx_http_statsig_spool_dir_t  d;

    name = ngx_http_statsig_sink_name(index);

    if (smcf->spool.len == 0 || ss->ring == NULL || name == NULL
        || (size_t) (ss->tail - ss->head) < ss->size / 2)
    {
        return 0;
    }

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return 0;
    }

    rc = ngx_http_statsig_spool_scan(&smcf->spool, name, &d, pool, log);

    ngx_destroy_pool(pool);

    /* down to a quarter: room for a while at the rate it filled */
    max = ngx_min((size_t) (ss->tail - ss->head) - ss->size / 4,
                  NGX_HTTP_STATSIG_SPOOL_CHUNK);

    if (rc != NGX_OK || d.total + (off_t) max > smcf->spool_max) {
        return 0;
    }

    n = ngx_http_statsig_spool_cut(ss, mutex, max, &events, log);

    if (n <= 0) {
        return 0;
    }

    rc = ngx_http_statsig_spool_write(&smcf->spool, name,
                                      ngx_http_statsig_spool_buf, (size_t) n,
                                      events, log);

    ngx_http_statsig_spool_written(ss, mutex, (size_t) n, events, rc);

    if (rc != NGX_OK) {
        return 0;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "statsig: events sink \"%s\" is down and its queue is "
                  "half full: %ui events moved to the spool \"%V\"",
                  name, events, &smcf->spool);

    return events;
}


void
ngx_http_statsig_spool_exit_worker(void)
{
    if (ngx_http_statsig_spool_buf) {
        ngx_free(ngx_http_statsig_spool_buf);
        ngx_http_statsig_spool_buf = NULL;
    }
}


/*
 * Whole records from the ring's head, at most max bytes, into the spool's
 * buffer (made at the first use).  Returns their bytes: 0 when nothing
 * was taken, -1 without memory.
 */

static ssize_t
ngx_http_statsig_spool_cut(ngx_http_statsig_sink_sh_t *ss,
    ngx_shmtx_t *mutex, size_t max, ngx_uint_t *events, ngx_log_t *log)
{
    ngx_int_t                    rc;
    ngx_http_statsig_batch_t     batch;

    *events = 0;

    if (ngx_http_statsig_spool_buf == NULL) {
        ngx_http_statsig_spool_buf = ngx_alloc(NGX_HTTP_STATSIG_SPOOL_CHUNK,
                                               log);
        if (ngx_http_statsig_spool_buf == NULL) {
            return -1;
        }
    }

    batch.data = ngx_http_statsig_spool_buf;
    batch.cap = max;
    batch.len = 0;
    batch.n = 0;

    ngx_shmtx_lock(mutex);

    rc = ngx_http_statsig_ring_take_locked(ss, &batch, (ngx_uint_t) -1,
                                           (size_t) -1, NULL);

    if (rc == NGX_OK) {
        /*
         * in flight (as the ring's take counts them) until written: the
         * flusher spills, and the next one counts a dead one's lost
         */
        *events = batch.n;
    }

    ngx_shmtx_unlock(mutex);

    return (rc == NGX_OK) ? (ssize_t) batch.len : 0;
}


/*
 * After the write of what spool_cut took: out of flight, and spooled or,
 * when the write failed, back where they were (the ring drops them as it
 * would have).  rc is the write's.
 */

static void
ngx_http_statsig_spool_written(ngx_http_statsig_sink_sh_t *ss,
    ngx_shmtx_t *mutex, size_t len, ngx_uint_t events, ngx_int_t rc)
{
    ngx_shmtx_lock(mutex);

    ss->in_flight -= ngx_min(ss->in_flight, events);

    if (rc == NGX_OK) {
        ss->spooled += events;

    } else {
        (void) ngx_http_statsig_ring_return_locked(ss,
                                                   ngx_http_statsig_spool_buf,
                                                   len, events);
    }

    ngx_shmtx_unlock(mutex);
}


/* a new file, named to sort after every file before it */

static ngx_int_t
ngx_http_statsig_spool_write(ngx_str_t *dir, const char *sink,
    u_char *data, size_t len, ngx_uint_t events, ngx_log_t *log)
{
    u_char  path[NGX_MAX_PATH], *p;

    p = ngx_snprintf(path, sizeof(path) - 5, "%V/%s-%013M-%P-%04ui.spool",
                     dir, sink, (ngx_msec_t) ngx_http_statsig_now_ms(),
                     ngx_pid, ngx_http_statsig_spool_seq++ % 10000);
    *p = '\0';

    return ngx_http_statsig_spool_write_path(path, sink, data, len, events,
                                             log);
}


/* [header][records] to path.tmp, renamed path */

static ngx_int_t
ngx_http_statsig_spool_write_path(u_char *path, const char *sink,
    u_char *data, size_t len, ngx_uint_t events, ngx_log_t *log)
{
    u_char                        tmp[NGX_MAX_PATH], *p;
    ssize_t                       n;
    ngx_fd_t                      fd;
    ngx_err_t                     err;
    ngx_http_statsig_spool_hdr_t  h;

    p = ngx_snprintf(tmp, sizeof(tmp) - 1, "%s.tmp", path);
    *p = '\0';

    ngx_memzero(&h, sizeof(h));
    h.magic = NGX_HTTP_STATSIG_SPOOL_MAGIC;
    h.rec_hdr = NGX_HTTP_STATSIG_REC_HDR;
    h.events = (uint32_t) events;
    h.bytes = len;
    (void) ngx_cpystrn((u_char *) h.sink, (u_char *) sink, sizeof(h.sink));

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE && ngx_errno == NGX_ENOENT) {
        /* the directory, on the first write */
        p = tmp + ngx_strlen(tmp);

        while (p > tmp && *p != '/') {
            p--;
        }

        *p = '\0';
        (void) ngx_create_dir(tmp, 0700);
        *p = '/';

        fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                           NGX_FILE_DEFAULT_ACCESS);
    }

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "statsig: cannot write the spool file \"%s\"", tmp);
        return NGX_ERROR;
    }

    err = 0;
    n = ngx_write_fd(fd, &h, sizeof(h));

    if (n != (ssize_t) sizeof(h)) {
        err = n < 0 ? ngx_errno : NGX_ENOSPC;
    }

    while (err == 0 && len) {
        n = ngx_write_fd(fd, data, len);

        if (n <= 0) {
            err = n < 0 ? ngx_errno : NGX_ENOSPC;
            break;
        }

        data += n;
        len -= n;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR && err == 0) {
        err = ngx_errno;
    }

    if (err == 0 && ngx_rename_file(tmp, path) == NGX_FILE_ERROR) {
        err = ngx_errno;
    }

    if (err) {
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "statsig: cannot write the spool file \"%s\"", path);
        (void) ngx_delete_file(tmp);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the sink's oldest file, and the size of every spool file there */

static ngx_int_t
ngx_http_statsig_spool_scan(ngx_str_t *dir, const char *sink,
    ngx_http_statsig_spool_dir_t *d, ngx_pool_t *pool, ngx_log_t *log)
{
    u_char     *name, path[NGX_MAX_PATH], *p;
    size_t      len, slen;
    ngx_dir_t   dh;
    ngx_str_t   best, dname;

    ngx_memzero(d, sizeof(ngx_http_statsig_spool_dir_t));
    ngx_str_null(&best);

    p = ngx_snprintf(path, sizeof(path) - 1, "%V", dir);
    *p = '\0';

    dname.data = path;
    dname.len = p - path;

    if (ngx_open_dir(&dname, &dh) == NGX_ERROR) {
        if (ngx_errno == NGX_ENOENT) {
            /* nothing spooled yet: made by the first write */
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "statsig: cannot open the spool \"%V\"", dir);
        return NGX_ERROR;
    }

    slen = ngx_strlen(sink);

    for ( ;; ) {
        ngx_set_errno(0);

        if (ngx_read_dir(&dh) == NGX_ERROR) {
            break;
        }

        name = ngx_de_name(&dh);
        len = ngx_de_namelen(&dh);

        if (len < 7 || ngx_strcmp(name + len - 6, ".spool") != 0) {
            continue;
        }

        p = ngx_snprintf(path, sizeof(path) - 1, "%V/%s", dir, name);
        *p = '\0';

        if (ngx_de_info(path, &dh) == NGX_FILE_ERROR
            || !ngx_de_is_file(&dh))
        {
            continue;
        }

        d->total += ngx_de_size(&dh);

        if (len <= slen + 1 || ngx_strncmp(name, sink, slen) != 0
            || name[slen] != '-')
        {
            continue;
        }

        d->files++;

        if (best.len == 0 || ngx_strcmp(name, best.data) < 0) {
            best.data = ngx_pnalloc(pool, len + 1);
            if (best.data == NULL) {
                break;
            }

            ngx_memcpy(best.data, name, len + 1);
            best.len = len;
        }
    }

    ngx_close_dir(&dh);

    if (best.len) {
        d->oldest.len = dir->len + 1 + best.len;
        d->oldest.data = ngx_pnalloc(pool, d->oldest.len + 1);
        if (d->oldest.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(d->oldest.data, "%V/%V", dir, &best);
        *p = '\0';
    }

    return NGX_OK;
}


/*
 * One file into the ring: what fits is put, the file removed, or written
 * again with the rest.  A file that is not a spool file of this build is
 * renamed ".bad" and reported.  Returns the events put, 0 when none
 * fitted, -1 on an error.
 */

static ngx_int_t
ngx_http_statsig_spool_load(ngx_str_t *path, const char *sink,
    ngx_http_statsig_sink_sh_t *ss, ngx_shmtx_t *mutex, ngx_log_t *log)
{
    u_char                        *data, bad[NGX_MAX_PATH], *p;
    size_t                         fit;
    ssize_t                        n;
    ngx_fd_t                       fd;
    ngx_int_t                      rc;
    ngx_uint_t                     put;
    ngx_file_info_t                fi;
    ngx_http_statsig_spool_hdr_t   h;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "statsig: cannot read the spool file \"%V\"", path);
        return -1;
    }

    data = NULL;
    rc = -1;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_read_fd(fd, &h, sizeof(h)) != (ssize_t) sizeof(h)
        || h.magic != NGX_HTTP_STATSIG_SPOOL_MAGIC
        || h.rec_hdr != NGX_HTTP_STATSIG_REC_HDR
        || ngx_strncmp(h.sink, sink, sizeof(h.sink)) != 0
        || h.bytes != (uint64_t) (ngx_file_size(&fi) - sizeof(h))
        || h.bytes > NGX_HTTP_STATSIG_SPOOL_CHUNK)
    {
        goto invalid;
    }

    data = ngx_alloc((size_t) h.bytes, log);
    if (data == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, data, (size_t) h.bytes);

    if (n != (ssize_t) h.bytes
        || ngx_http_statsig_spool_count(data, (size_t) h.bytes) != h.events)
    {
        goto invalid;
    }

    ngx_close_file(fd);
    fd = NGX_INVALID_FILE;

    ngx_shmtx_lock(mutex);
    put = ngx_http_statsig_ring_put_records_locked(ss, data, (size_t) h.bytes,
                                                   &fit);
    ss->unspooled += put;
    ngx_shmtx_unlock(mutex);

    if (fit == h.bytes) {
        if (ngx_delete_file(path->data) == NGX_FILE_ERROR) {
            /* read again later, they would be sent twice: say so */
            ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                          "statsig: cannot remove the spool file \"%V\" "
                          "after reading it back", path);
        }

    } else if (fit) {
        /* the rest under the same name, so it stays the oldest */
        if (ngx_http_statsig_spool_write_path(path->data, sink, data + fit,
                                              (size_t) h.bytes - fit,
                                              h.events - put, log)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_CRIT, log, 0,
                          "statsig: the spool file \"%V\" keeps %ui events "
                          "already read back: they will be sent twice",
                          path, put);
        }
    }

    rc = put;
    goto done;

invalid:

    p = ngx_snprintf(bad, sizeof(bad) - 1, "%V.bad", path);
    *p = '\0';

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "statsig: \"%V\" is not a spool file of sink \"%s\" of "
                  "this build; renamed \"%s\"", path, sink, bad);

    (void) ngx_rename_file(path->data, bad);

done:

    if (fd != NGX_INVALID_FILE) {
        ngx_close_file(fd);
    }

    if (data) {
        ngx_free(data);
    }

    return rc;
}


/* the events in a run of records, or -1 when they do not add up */

static ngx_uint_t
ngx_http_statsig_spool_count(u_char *recs, size_t len)
{
    size_t                       off;
    ngx_uint_t                   n;
    ngx_http_statsig_pack_hdr_t  h;

    n = 0;

    for (off = 0; off < len; off += NGX_HTTP_STATSIG_REC_HDR + h.len) {
        if (len - off < NGX_HTTP_STATSIG_REC_HDR) {
            return (ngx_uint_t) -1;
        }

        ngx_memcpy(&h, recs + off, NGX_HTTP_STATSIG_REC_HDR);

        if (h.len > len - off - NGX_HTTP_STATSIG_REC_HDR || h.n == 0) {
            return (ngx_uint_t) -1;
        }

        n += h.n;
    }

    return n;
}
