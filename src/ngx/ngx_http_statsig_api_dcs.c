
/*
 * ngx_http_statsig_module: statsig_api's download_config_specs, the
 * current specs document served to other SDKs (a forward-proxy tier).
 *
 *   GET|HEAD .../v1/download_config_specs[/<key>.json][?sinceTime=N]
 *   POST     .../v1/download_config_specs  {"sinceTime": N}
 *
 * sinceTime at or past the current specs' time: {"has_updates":false}.
 * Otherwise the raw JSON of the current snapshot, which the zone does not
 * keep (only the compiled blob): it is statsig_specs_file, the
 * last-known-good file the sync rewrites after each new document.  The
 * file is served (sendfile) only when its "time" is the time of the
 * snapshot this worker serves, else 503 until the two agree (the write
 * follows the publish by a moment).  The file's time is found by a scan
 * of its top-level object, once per worker and version of the file.
 */


#include "ngx_http_statsig_api.h"
#include "ngx_http_statsig_response.h"
#include "ngx_http_statsig_zone.h"


typedef struct {
    ngx_http_statsig_file_id_t     id;
    int64_t                        time;       /* -1: none found */
    ngx_uint_t                     valid;
} ngx_http_statsig_dcs_file_t;


static ngx_int_t ngx_http_statsig_dcs_since(ngx_http_request_t *r,
    const statsig_value_t *body, int64_t *since);
static ngx_int_t ngx_http_statsig_dcs_scan(ngx_http_request_t *r,
    ngx_fd_t fd, ngx_str_t *name, ngx_file_info_t *fi);
static int64_t ngx_http_statsig_dcs_time(u_char *p, u_char *last);
static u_char *ngx_http_statsig_dcs_ws(u_char *p, u_char *last);
static u_char *ngx_http_statsig_dcs_string(u_char *p, u_char *last);
static u_char *ngx_http_statsig_dcs_value(u_char *p, u_char *last);


/* per worker: the specs file last scanned */
static ngx_http_statsig_dcs_file_t  ngx_http_statsig_dcs_file;


ngx_int_t
ngx_http_statsig_api_dcs(ngx_http_request_t *r, const statsig_value_t *body)
{
    u_char                        *msg;
    int64_t                        since, t;
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

    if (ngx_http_statsig_dcs_since(r, body, &since) != NGX_OK) {
        return ngx_http_statsig_response_error(r, NGX_HTTP_BAD_REQUEST,
                   "\"sinceTime\" must be a number");
    }

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

    if (!df->valid
        || ngx_http_statsig_file_changed(&df->id, &fi))
    {
        if (ngx_http_statsig_dcs_scan(r, fd, path, &fi) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
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


/*
 * Reads the file once (a blocking read, of a file the page cache most
 * likely holds: acceptable for this endpoint, and only when the file
 * changed) and keeps its identity and time.
 */

static ngx_int_t
ngx_http_statsig_dcs_scan(ngx_http_request_t *r, ngx_fd_t fd,
    ngx_str_t *name, ngx_file_info_t *fi)
{
    u_char                       *data;
    size_t                        size;
    ssize_t                       n;
    ngx_file_t                    file;
    ngx_http_statsig_dcs_file_t  *df;

    df = &ngx_http_statsig_dcs_file;
    size = (size_t) ngx_file_size(fi);

    data = ngx_alloc(size ? size : 1, r->connection->log);
    if (data == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = *name;
    file.log = r->connection->log;

    n = ngx_read_file(&file, data, size, 0);

    if (n == NGX_ERROR || (size_t) n != size) {
        ngx_free(data);
        return NGX_ERROR;
    }

    df->time = ngx_http_statsig_dcs_time(data, data + size);
    ngx_http_statsig_file_id(&df->id, fi);
    df->valid = 1;

    ngx_free(data);

    return NGX_OK;
}


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
