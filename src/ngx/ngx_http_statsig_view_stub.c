
/*
 * ngx_http_statsig_module: a stand-in for the zone's snapshot view.
 *
 * Only built while src/ngx/ngx_http_statsig_snapshot.h (the shared zone,
 * issue #4) is not there: each worker compiles statsig_specs_file once, at
 * its first evaluation, and every request sees that snapshot.
 */


#include "ngx_http_statsig_request.h"


#ifndef NGX_HTTP_STATSIG_HAVE_ZONE_VIEW


static void ngx_http_statsig_stub_load(void);


static statsig_runtime_t         *ngx_http_statsig_stub_rt;
static const statsig_snapshot_t  *ngx_http_statsig_stub_snap;
static ngx_uint_t                 ngx_http_statsig_stub_tried;


ngx_int_t
ngx_http_statsig_view_acquire(ngx_http_statsig_view_t *view)
{
    if (!ngx_http_statsig_stub_tried) {
        ngx_http_statsig_stub_tried = 1;
        ngx_http_statsig_stub_load();
    }

    view->snap = ngx_http_statsig_stub_snap;
    view->idlists = NULL;
    view->generation = view->snap ? 1 : 0;
    view->pin = NULL;

    return NGX_OK;
}


void
ngx_http_statsig_view_release(ngx_http_statsig_view_t *view)
{
    view->snap = NULL;
}


statsig_runtime_t *
ngx_http_statsig_runtime(void)
{
    char                          err[256];
    ngx_http_statsig_main_conf_t  *smcf;

    if (ngx_http_statsig_stub_rt == NULL) {
        ngx_http_statsig_stub_rt = statsig_runtime_create(err, sizeof(err));

        if (ngx_http_statsig_stub_rt == NULL) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "statsig runtime: %s", err);
            return NULL;
        }

        smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_http_statsig_module);

        if (smcf && smcf->environment.len) {
            (void) statsig_runtime_set_environment(ngx_http_statsig_stub_rt,
                                            (char *) smcf->environment.data,
                                            smcf->environment.len);
        }
    }

    return ngx_http_statsig_stub_rt;
}


static void
ngx_http_statsig_stub_load(void)
{
    char                          err[256];
    void                         *blob;
    u_char                       *buf;
    size_t                        size;
    ssize_t                       n;
    ngx_file_t                    file;
    ngx_file_info_t               fi;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_statsig_module);
    if (smcf == NULL || smcf->specs_file.len == 0) {
        return;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = smcf->specs_file;
    file.log = ngx_cycle->log;

    file.fd = ngx_open_file(file.name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, ngx_errno,
                      "statsig: cannot open \"%V\"", &file.name);
        return;
    }

    buf = NULL;

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        goto done;
    }

    buf = ngx_alloc(ngx_file_size(&fi) + 1, ngx_cycle->log);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_file(&file, buf, ngx_file_size(&fi), 0);
    if (n != (ssize_t) ngx_file_size(&fi)) {
        goto done;
    }

    blob = statsig_compile((char *) buf, n, &size, err, sizeof(err));
    if (blob == NULL) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "statsig: \"%V\": %s", &file.name, err);
        goto done;
    }

    ngx_http_statsig_stub_snap = statsig_snapshot_open(blob, size);

done:

    if (buf) {
        ngx_free(buf);
    }

    ngx_close_file(file.fd);
}

#endif
