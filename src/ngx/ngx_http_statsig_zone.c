
/*
 * ngx_http_statsig_module: the shared memory zone (statsig_zone).
 *
 * One zone per nginx instance.  It starts with ngx_http_statsig_shctx_t
 * (magic, layout version, header size).  On reload nginx hands back the old
 * zone when its name and size are unchanged; the header is then checked
 * and reused, so what the zone holds survives "nginx -s reload".
 *
 * statsig_specs_file is read and compiled while the configuration is
 * parsed (so "nginx -t" reports a file that does not compile) and
 * published into the zone by init_zone, in the master, before any worker
 * serves a request.
 */


#include "ngx_http_statsig_zone.h"
#include "ngx_http_statsig_snapshot.h"
#include "crc32.h"
#include "idlist.h"
#include "idlist_index.h"


#define NGX_HTTP_STATSIG_ZONE_MAGIC       0x5354534755L   /* "STSGU" */
#define NGX_HTTP_STATSIG_ZONE_LAYOUT      7
#define NGX_HTTP_STATSIG_ZONE_MIN_SIZE    (128 * 1024)


static ngx_int_t ngx_http_statsig_zone_compatible(
    ngx_http_statsig_shctx_t *sh);
static void ngx_http_statsig_file_cleanup(void *data);
static ngx_int_t ngx_http_statsig_idlists_file_read(
    ngx_http_statsig_zone_t *ctx, ngx_log_t *log, u_char *err,
    size_t errlen);
static ngx_int_t ngx_http_statsig_idlists_file_parse(
    ngx_http_statsig_zone_t *ctx, u_char *buf, size_t len, u_char *err,
    size_t errlen);
static void ngx_http_statsig_zone_load_idlists(ngx_shm_zone_t *shm_zone);


char *
ngx_http_statsig_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_main_conf_t *smcf = conf;

    u_char                   *p;
    ssize_t                   size;
    ngx_str_t                *value, name;
    ngx_http_statsig_zone_t  *ctx;

    if (smcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    name = value[1];

    if (name.len == 0) {
        return "has an empty zone name";
    }

    for (p = name.data; p < name.data + name.len; p++) {
        if (*p <= ' ' || *p == ':' || *p == '/' || *p >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid zone name \"%V\"", &name);
            return NGX_CONF_ERROR;
        }
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < NGX_HTTP_STATSIG_ZONE_MIN_SIZE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: %V, the minimum is %uzk",
                           &name, &value[2],
                           (size_t) NGX_HTTP_STATSIG_ZONE_MIN_SIZE / 1024);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_statsig_zone_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    ctx->smcf = smcf;

    smcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_statsig_module);
    if (smcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (smcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    /* the module's init_zone is set by postconfiguration */
    smcf->shm_zone->data = ctx;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_statsig_zone_compatible(ngx_http_statsig_shctx_t *sh)
{
    return sh != NULL
           && sh->magic == NGX_HTTP_STATSIG_ZONE_MAGIC
           && sh->layout == NGX_HTTP_STATSIG_ZONE_LAYOUT
           && sh->hdr_size == sizeof(ngx_http_statsig_shctx_t);
}


/*
 * The header of a new zone, or the old one's after a reload when its
 * layout is ours.  NGX_DONE: the zone exists already (no fork: Windows).
 */

ngx_int_t
ngx_http_statsig_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_statsig_zone_t  *octx = data;

    size_t                     len;
    ngx_uint_t                 i;
    ngx_slab_pool_t           *shpool;
    ngx_http_statsig_zone_t   *ctx;
    ngx_http_statsig_shctx_t  *sh;

    ctx = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (octx) {
        if (ngx_http_statsig_zone_compatible(octx->sh)) {
            ctx->sh = octx->sh;
            ctx->shpool = octx->shpool;

            (void) ngx_atomic_fetch_add(&ctx->sh->reloads, 1);

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                           "statsig zone \"%V\": reused after a reload",
                           &shm_zone->shm.name);

            return NGX_OK;
        }

        /*
         * The old zone was made by another layout (a different build of
         * the module).  Old workers may still read it, so leave it alone
         * and start a fresh header in the same slab pool.
         */

        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                      "statsig zone \"%V\" has an incompatible layout, "
                      "not reusing its contents", &shm_zone->shm.name);
    }

    ctx->shpool = shpool;

    if (shm_zone->shm.exists) {
        ctx->sh = shpool->data;
        return NGX_DONE;
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_statsig_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_statsig_shctx_t));

    sh->magic = NGX_HTTP_STATSIG_ZONE_MAGIC;
    sh->layout = NGX_HTTP_STATSIG_ZONE_LAYOUT;
    sh->hdr_size = sizeof(ngx_http_statsig_shctx_t);
    sh->created = ngx_time();
    sh->generation = 0;

    ngx_queue_init(&sh->retired);

    for (i = 0; i < NGX_HTTP_STATSIG_SLOTS; i++) {
        sh->slots[i].oldest = NGX_HTTP_STATSIG_GEN_NONE;
    }

    ctx->sh = sh;
    shpool->data = sh;

    len = sizeof(" in statsig zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in statsig zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is reported by us, with what did not fit */
    shpool->log_nomem = 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                   "statsig zone \"%V\": new, %uz bytes",
                   &shm_zone->shm.name, shm_zone->shm.size);

    return NGX_OK;
}


ngx_int_t
ngx_http_statsig_zone_usage(ngx_shm_zone_t *shm_zone, size_t *used)
{
    size_t            total;
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    total = (size_t) (shpool->end - shpool->start);
    *used = total - shpool->pfree * ngx_pagesize;

    ngx_shmtx_unlock(&shpool->mutex);

    /* count the slab pool's own bookkeeping as used, too */
    *used += shm_zone->shm.size - total;

    return NGX_OK;
}


/*
 * Reads and compiles a specs file.  NGX_DECLINED: it does not exist;
 * NGX_ERROR: err says why (the caller names the file).
 */

ngx_int_t
ngx_http_statsig_specs_file_read(ngx_str_t *path, ngx_log_t *log,
    void **blob, size_t *size, ngx_file_info_t *fi, u_char *err,
    size_t errlen)
{
    char      cerr[NGX_HTTP_STATSIG_ERRLEN];
    u_char   *buf;
    size_t    len;
    ssize_t   n;
    ngx_fd_t  fd;
    ngx_err_t e;

    *blob = NULL;

    fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        e = ngx_errno;

        if (e == NGX_ENOENT) {
            return NGX_DECLINED;
        }

        ngx_snprintf(err, errlen, "cannot open it: %s%Z", strerror(e));
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        ngx_snprintf(err, errlen, "cannot stat it: %s%Z",
                     strerror(ngx_errno));
        goto failed;
    }

    len = (size_t) ngx_file_size(fi);

    buf = ngx_alloc(len + 1, log);
    if (buf == NULL) {
        ngx_snprintf(err, errlen, "out of memory%Z");
        goto failed;
    }

    n = ngx_read_fd(fd, buf, len);

    if (n == -1 || (size_t) n != len) {
        ngx_snprintf(err, errlen, "cannot read it: %s%Z",
                     n == -1 ? strerror(ngx_errno) : "short read");
        ngx_free(buf);
        goto failed;
    }

    (void) ngx_close_file(fd);

    *blob = statsig_compile((char *) buf, len, size, cerr, sizeof(cerr));

    ngx_free(buf);

    if (*blob == NULL) {
        ngx_snprintf(err, errlen, "%s%Z", cerr);
        return NGX_ERROR;
    }

    return NGX_OK;

failed:

    (void) ngx_close_file(fd);

    return NGX_ERROR;
}


/* postconfiguration: compile statsig_specs_file now, for nginx -t */

ngx_int_t
ngx_http_statsig_specs_file_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf)
{
    u_char                    err[NGX_HTTP_STATSIG_ERRLEN];
    ngx_int_t                 rc;
    ngx_pool_cleanup_t       *cln;
    ngx_http_statsig_zone_t  *ctx;

    if (smcf->shm_zone == NULL) {
        return NGX_OK;
    }

    if (smcf->specs_file.len == 0) {
        return NGX_OK;
    }

    ctx = smcf->shm_zone->data;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_statsig_file_cleanup;
    cln->data = ctx;

    /* the ID lists kept beside it (a corrupt file is reported, ignored) */

    ctx->idlists_file.len = smcf->specs_file.len + sizeof(".idlists") - 1;
    ctx->idlists_file.data = ngx_pnalloc(cf->pool, ctx->idlists_file.len + 1);
    if (ctx->idlists_file.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_sprintf(ctx->idlists_file.data, "%V.idlists%Z",
                       &smcf->specs_file);

    if (ngx_http_statsig_idlists_file_read(ctx, cf->log, err, sizeof(err))
        == NGX_ERROR)
    {
        ngx_log_error(NGX_LOG_ERR, cf->log, 0,
                      "statsig: the ID lists file \"%V\" is ignored: %s",
                      &ctx->idlists_file, err);
    }

    rc = ngx_http_statsig_specs_file_read(&smcf->specs_file, cf->log,
                                          &ctx->file_blob,
                                          &ctx->file_blob_size,
                                          &ctx->file_info, err, sizeof(err));

    if (rc == NGX_DECLINED) {
        if (!ngx_http_statsig_secret_set(&smcf->server_key)) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "statsig_specs_file \"%V\" does not exist; "
                          "in local mode it is the only source of specs, "
                          "nothing is served until it appears",
                          &smcf->specs_file);
        }

        return NGX_OK;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "statsig_specs_file \"%V\": %s", &smcf->specs_file,
                      err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_statsig_file_cleanup(void *data)
{
    ngx_http_statsig_zone_t  *ctx = data;

    if (ctx->file_blob) {
        ngx_free(ctx->file_blob);
        ctx->file_blob = NULL;
    }

    if (ctx->idl_blob) {
        ngx_free(ctx->idl_blob);
        ctx->idl_blob = NULL;
    }

    if (ctx->idl_state) {
        ngx_free(ctx->idl_state);
        ctx->idl_state = NULL;
    }
}


/*
 * Reads "<statsig_specs_file>.idlists" into ctx: the file the module
 * keeps (checked whole: its CRC, the state, every offset of the blob) or
 * an operator's JSON.  NGX_DECLINED: there is none.  It may not be larger
 * than four times the zone: the lists must fit in it.
 */

static ngx_int_t
ngx_http_statsig_idlists_file_read(ngx_http_statsig_zone_t *ctx,
    ngx_log_t *log, u_char *err, size_t errlen)
{
    u_char     *buf;
    size_t      len, max;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_err_t   e;
    ngx_int_t   rc;

    fd = ngx_open_file(ctx->idlists_file.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        e = ngx_errno;

        if (e == NGX_ENOENT) {
            return NGX_DECLINED;
        }

        ngx_snprintf(err, errlen, "cannot open it: %s%Z", strerror(e));
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &ctx->idl_info) == NGX_FILE_ERROR) {
        ngx_snprintf(err, errlen, "cannot stat it: %s%Z",
                     strerror(ngx_errno));
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    len = (size_t) ngx_file_size(&ctx->idl_info);
    max = 4 * ctx->smcf->shm_zone->shm.size;

    if (len > max) {
        ngx_snprintf(err, errlen, "%uz bytes, more than the %uz the zone's "
                     "size allows%Z", len, max);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    buf = ngx_alloc(len + 1, log);
    if (buf == NULL) {
        ngx_snprintf(err, errlen, "out of memory%Z");
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, buf, len);

    (void) ngx_close_file(fd);

    if (n == -1 || (size_t) n != len) {
        ngx_snprintf(err, errlen, "cannot read it: %s%Z",
                     n == -1 ? strerror(ngx_errno) : "short read");
        ngx_free(buf);
        return NGX_ERROR;
    }

    rc = ngx_http_statsig_idlists_file_parse(ctx, buf, len, err, errlen);

    ngx_free(buf);

    return rc;
}


static ngx_int_t
ngx_http_statsig_idlists_file_parse(ngx_http_statsig_zone_t *ctx,
    u_char *buf, size_t len, u_char *err, size_t errlen)
{
    char                              cerr[NGX_HTTP_STATSIG_ERRLEN];
    u_char                           *p;
    size_t                            off;
    statsig_idlist_index_t            ix;
    ngx_http_statsig_idlists_file_t   h;

    if (len >= sizeof(h)
        && ngx_memcmp(buf, NGX_HTTP_STATSIG_IDLISTS_MAGIC, 8) == 0)
    {
        ngx_memcpy(&h, buf, sizeof(h));

        if (h.order != NGX_HTTP_STATSIG_IDLISTS_ORDER
            || h.state_len > len || h.blob_len > len
            || ngx_http_statsig_idlists_blob_off(h.state_len) + h.blob_len
               != len)
        {
            ngx_snprintf(err, errlen, "its header does not match its size "
                         "(a file cut short?)%Z");
            return NGX_ERROR;
        }

        if (statsig_crc32(0, buf + sizeof(h), len - sizeof(h)) != h.crc) {
            ngx_snprintf(err, errlen, "its checksum does not match%Z");
            return NGX_ERROR;
        }

        off = ngx_http_statsig_idlists_blob_off(h.state_len);

        statsig_idlist_index_init(&ix);

        if (statsig_idlist_state_read(buf + sizeof(h), h.state_len, &ix)
            != 0
            || statsig_idlists_check(buf + off, h.blob_len) != 0)
        {
            statsig_idlist_index_free(&ix);
            ngx_snprintf(err, errlen, "it is corrupt%Z");
            return NGX_ERROR;
        }

        statsig_idlist_index_free(&ix);

        ctx->idl_blob = ngx_alloc(h.blob_len, ngx_cycle->log);
        ctx->idl_state = ngx_alloc(h.state_len + 1, ngx_cycle->log);

        if (ctx->idl_blob == NULL || ctx->idl_state == NULL) {
            ngx_snprintf(err, errlen, "out of memory%Z");
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->idl_blob, buf + off, h.blob_len);
        ngx_memcpy(ctx->idl_state, buf + sizeof(h), h.state_len);
        ctx->idl_blob_size = h.blob_len;
        ctx->idl_state_size = h.state_len;

        return NGX_OK;
    }

    for (p = buf; p < buf + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != CR && *p != LF) {
            break;
        }
    }

    if (p == buf + len || *p != '{') {
        ngx_snprintf(err, errlen, "neither a file this module wrote nor a "
                     "JSON object of lists%Z");
        return NGX_ERROR;
    }

    /* an operator's lists: {"name": ["raw id", ...]}, as statsig-eval's */

    cerr[0] = '\0';
    ctx->idl_blob = statsig_idlists_from_json((char *) buf, len,
                                              &ctx->idl_blob_size, cerr,
                                              sizeof(cerr));
    if (ctx->idl_blob == NULL) {
        ngx_snprintf(err, errlen, "%s%Z", cerr[0] ? cerr : "out of memory");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * init_zone: a fresh zone gets the file.  A reused zone keeps what it has
 * unless the file changed since it was loaded and either we are in local
 * mode (the file is the source) or the file is newer than the snapshot.
 */

void
ngx_http_statsig_zone_load_file(ngx_shm_zone_t *shm_zone)
{
    int64_t                    t;
    ngx_uint_t                 use;
    ngx_file_info_t           *fi;
    ngx_http_statsig_zone_t   *ctx;
    ngx_http_statsig_shctx_t  *sh;

    ctx = shm_zone->data;
    sh = ctx->sh;
    fi = &ctx->file_info;

    if (ctx->file_blob == NULL) {
        ngx_http_statsig_zone_load_idlists(shm_zone);
        return;
    }

    t = statsig_snapshot_time(statsig_snapshot_open(ctx->file_blob,
                                                    ctx->file_blob_size));

    use = (sh->current == NULL || sh->current->specs == NULL);

    if (!use
        && ngx_http_statsig_file_changed(&sh->file_id, fi))
    {
        use = (!ngx_http_statsig_secret_set(&ctx->smcf->server_key)
               || t > sh->specs_time);
    }

    if (use
        && ngx_http_statsig_publish(ctx, ctx->file_blob, ctx->file_blob_size,
                                    NULL, 0, NGX_HTTP_STATSIG_SOURCE_FILE,
                                    shm_zone->shm.log)
           == NGX_OK)
    {
        ngx_http_statsig_file_id(&sh->file_id, fi);

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "statsig: specs loaded from \"%V\" (time %L)",
                      &ctx->smcf->specs_file, t);
    }

    ngx_free(ctx->file_blob);
    ctx->file_blob = NULL;

    ngx_http_statsig_zone_load_idlists(shm_zone);

    ngx_http_statsig_trim_heap();
}


/*
 * The ID lists file, after the specs: into a zone that has no ID lists
 * (a start), or in local mode when it changed since it was loaded.  A
 * zone with lists keeps them in server mode: they are the file's or
 * newer.  What the fetch resumes from goes with them, so that a start
 * with Statsig reachable goes on with Range.
 */

static void
ngx_http_statsig_zone_load_idlists(ngx_shm_zone_t *shm_zone)
{
    u_char                    *state;
    ngx_uint_t                 use;
    ngx_slab_pool_t           *shpool;
    ngx_http_statsig_zone_t   *ctx;
    ngx_http_statsig_shctx_t  *sh;

    ctx = shm_zone->data;
    sh = ctx->sh;
    shpool = ctx->shpool;

    if (ctx->idl_blob == NULL) {
        return;
    }

    use = (sh->current == NULL || sh->current->idlists == NULL);

    if (!use && !ngx_http_statsig_secret_set(&ctx->smcf->server_key)) {
        use = ngx_http_statsig_file_changed(&sh->idlists_file_id,
                                            &ctx->idl_info);
    }

    if (use
        && ngx_http_statsig_publish(ctx, NULL, 0, ctx->idl_blob,
                                    ctx->idl_blob_size,
                                    NGX_HTTP_STATSIG_SOURCE_FILE,
                                    shm_zone->shm.log)
           == NGX_OK)
    {
        ngx_shmtx_lock(&shpool->mutex);

        if (sh->idlists_state) {
            ngx_slab_free_locked(shpool, sh->idlists_state);
            sh->idlists_state = NULL;
            sh->idlists_state_size = 0;
        }

        state = ctx->idl_state_size
                ? ngx_slab_alloc_locked(shpool, ctx->idl_state_size) : NULL;

        if (state) {
            ngx_memcpy(state, ctx->idl_state, ctx->idl_state_size);
            sh->idlists_state = state;
            sh->idlists_state_size = ctx->idl_state_size;
        }

        ngx_http_statsig_file_id(&sh->idlists_file_id, &ctx->idl_info);

        ngx_shmtx_unlock(&shpool->mutex);

        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "statsig: %ui ID lists loaded from \"%V\"",
                      sh->idlists_count, &ctx->idlists_file);
    }

    ngx_free(ctx->idl_blob);
    ctx->idl_blob = NULL;

    if (ctx->idl_state) {
        ngx_free(ctx->idl_state);
        ctx->idl_state = NULL;
    }
}


/*
 * Maps a ring or the dedupe table into this worker's page tables at once.
 * A worker's first touch of each page of shared memory faults (fork does
 * not copy the page tables of shared mappings), and these are written end
 * to end, under the zone lock for the rings: without this, a page fault
 * every 4 KB of events for the first pass through the ring (~1% of a
 * request's cost in the bench).
 */

void
ngx_http_statsig_zone_map(void *p, size_t size, ngx_log_t *log)
{
#if (NGX_LINUX)
    u_char  *start, *end;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE  23         /* Linux 5.14 */
#endif

    start = (u_char *) ((uintptr_t) p & ~((uintptr_t) ngx_pagesize - 1));
    end = (u_char *) p + size;

    if (madvise(start, end - start, MADV_POPULATE_WRITE) == 0) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_CORE, log, ngx_errno,
                   "statsig: madvise(MADV_POPULATE_WRITE) failed, %uz "
                   "bytes touched instead", size);

    /* older kernels: a read of each page maps it (shared memory) */
    for (/* void */; start < end; start += ngx_pagesize) {
        (void) *(volatile u_char *) start;
    }
#endif
}
