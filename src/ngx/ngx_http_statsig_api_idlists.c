
/*
 * ngx_http_statsig_module: statsig_api's ID lists, what a server SDK that
 * takes the edge as its Statsig API syncs its large segments from.
 *
 *   POST     .../v1/get_id_lists
 *       {"<name>": {"name", "size", "url", "creationTime", "fileID"}}
 *   GET|HEAD .../v1/id_list_file/<token>/<fileID>/<name>  [Range: bytes=N-]
 *       "+<id>\n" for each id, the list's file as Statsig's CDN serves it
 *
 * Both are answered from the ID lists the zone holds (the ones the module
 * synced): each list is a sorted set of 8-character ids (the first eight
 * Base64 characters of SHA-256(unit id)), which is what the SDKs keep from
 * Statsig's files and look a hashed unit id up in.  The file served is one
 * "+id" line of 10 bytes per id in the set's order, so its size is known
 * without building it and a Range from any byte is cut from the ids alone.
 *
 * The SDKs resume a list from the bytes they have read while its fileID
 * stays the same, and start over when it changes: a file served here is
 * not appended to but rebuilt, so its fileID is a digest of its ids and
 * any change to the set is a new file.  creationTime is 0 for every file,
 * so that the fileID alone decides (statsig-node ignores a file older
 * than the one it has).  A file URL names its fileID: when the set has
 * changed since the index was read, the file is 404 and the SDK starts
 * the list over at its next sync.
 *
 * The SDKs fetch a file with the Range header alone, no key (Statsig's
 * files are on a CDN): the URL carries a token instead, an HMAC of the
 * list's name keyed by the API key, so that only who got the index from
 * the edge can read a list, and the key itself never appears in a URL.
 */


#include "ngx_http_statsig_api.h"
#include "ngx_http_statsig_response.h"

#include "hash.h"
#include "idlist.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>


/* "+" 8 characters "\n" */
#define NGX_HTTP_STATSIG_IDLIST_LINE    10

/* hex characters of a token and of a fileID */
#define NGX_HTTP_STATSIG_IDLIST_TOKEN   32
#define NGX_HTTP_STATSIG_IDLIST_FILEID  24


static ngx_int_t ngx_http_statsig_api_idlist_token(ngx_http_request_t *r,
    const char *name, size_t len, u_char *out);
static void ngx_http_statsig_api_idlist_file_id(const char *ids,
    size_t count, u_char *out);
static ngx_int_t ngx_http_statsig_api_idlist_base(ngx_http_request_t *r,
    ngx_str_t *base);
static ngx_int_t ngx_http_statsig_api_idlist_range(ngx_http_request_t *r,
    off_t size, off_t *from, off_t *to);
static ngx_int_t ngx_http_statsig_api_idlist_send(ngx_http_request_t *r,
    const char *ids, off_t size, off_t from, off_t to, ngx_uint_t status);


static ngx_str_t  ngx_http_statsig_api_idlist_type = ngx_string("text/plain");


/*
 * The index: every list the zone holds, with a URL under this location
 * (scheme and Host of the request, the path up to the last "/v1/").
 */

ngx_int_t
ngx_http_statsig_api_id_lists(ngx_http_request_t *r)
{
    u_char                   *p, *esc_name;
    u_char                    token[NGX_HTTP_STATSIG_IDLIST_TOKEN];
    u_char                    file_id[NGX_HTTP_STATSIG_IDLIST_FILEID];
    size_t                    len, name_len, count, n_esc, n_uri, n_base;
    uint32_t                  i;
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_str_t                 base;
    const char               *name, *ids;
    ngx_http_statsig_view_t   view;

    if (ngx_http_statsig_api_idlist_base(r, &base) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_statsig_view_acquire(&view) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the length first */

    n_base = base.len + ngx_escape_json(NULL, base.data, base.len);
    len = sizeof("{}") - 1;

    for (i = 0;
         statsig_idlists_list(view.idlists, i, &name, &name_len, &ids,
                              &count) == 0;
         i++)
    {
        n_esc = ngx_escape_json(NULL, (u_char *) name, name_len);
        n_uri = ngx_escape_uri(NULL, (u_char *) name, name_len,
                               NGX_ESCAPE_URI_COMPONENT);

        len += 2 * (name_len + n_esc) + n_base + name_len + 2 * n_uri
               + NGX_HTTP_STATSIG_IDLIST_TOKEN
               + 2 * NGX_HTTP_STATSIG_IDLIST_FILEID + NGX_INT64_LEN
               + sizeof(",\"\":{\"name\":\"\",\"size\":,\"url\":\"/v1/"
                        "id_list_file///\",\"creationTime\":0,"
                        "\"fileID\":\"\"}");
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        ngx_http_statsig_view_release(&view);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    *p++ = '{';

    for (i = 0;
         statsig_idlists_list(view.idlists, i, &name, &name_len, &ids,
                              &count) == 0;
         i++)
    {
        if (ngx_http_statsig_api_idlist_token(r, name, name_len, token)
            != NGX_OK)
        {
            ngx_http_statsig_view_release(&view);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_statsig_api_idlist_file_id(ids, count, file_id);

        esc_name = p + (i ? 2 : 1);
        if (i) {
            *p++ = ',';
        }

        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, (u_char *) name, name_len);
        n_esc = p - esc_name;

        p = ngx_sprintf(p, "\":{\"name\":\"%*s\",\"size\":%uz,\"url\":\"",
                        n_esc, esc_name, count * NGX_HTTP_STATSIG_IDLIST_LINE);
        p = (u_char *) ngx_escape_json(p, base.data, base.len);
        p = ngx_sprintf(p, "id_list_file/%*s/%*s/",
                        (size_t) NGX_HTTP_STATSIG_IDLIST_TOKEN, token,
                        (size_t) NGX_HTTP_STATSIG_IDLIST_FILEID, file_id);

        /* URI-escaped: nothing left for JSON to escape */
        p = (u_char *) ngx_escape_uri(p, (u_char *) name, name_len,
                                      NGX_ESCAPE_URI_COMPONENT);

        p = ngx_sprintf(p, "\",\"creationTime\":0,\"fileID\":\"%*s\"}",
                        (size_t) NGX_HTTP_STATSIG_IDLIST_FILEID, file_id);
    }

    ngx_http_statsig_view_release(&view);

    *p++ = '}';
    b->last = p;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig api: get_id_lists, %uD lists, %uz bytes",
                   i, (size_t) (p - b->pos));

    rc = ngx_http_statsig_response_buf(r, NGX_HTTP_OK, NULL, b);

    return rc;
}


/*
 * A list's file; rest is the path after "/v1/id_list_file/": the token,
 * the fileID and the name (decoded, as the rest of the URI).
 */

ngx_int_t
ngx_http_statsig_api_id_list_file(ngx_http_request_t *r, ngx_str_t *rest)
{
    u_char                   *p, *last;
    u_char                    token[NGX_HTTP_STATSIG_IDLIST_TOKEN];
    u_char                    file_id[NGX_HTTP_STATSIG_IDLIST_FILEID];
    off_t                     size, from, to;
    size_t                    name_len, count;
    uint32_t                  i;
    ngx_int_t                 rc;
    ngx_str_t                 given_token, given_id, want;
    const char               *name, *ids;
    ngx_http_statsig_view_t   view;

    last = rest->data + rest->len;

    given_token.data = rest->data;
    p = ngx_strlchr(rest->data, last, '/');
    if (p == NULL) {
        goto not_found;
    }

    given_token.len = p - given_token.data;

    given_id.data = p + 1;
    p = ngx_strlchr(given_id.data, last, '/');
    if (p == NULL) {
        goto not_found;
    }

    given_id.len = p - given_id.data;

    want.data = p + 1;
    want.len = last - want.data;

    if (given_token.len != NGX_HTTP_STATSIG_IDLIST_TOKEN
        || given_id.len != NGX_HTTP_STATSIG_IDLIST_FILEID)
    {
        goto not_found;
    }

    if (ngx_http_statsig_api_idlist_token(r, (char *) want.data, want.len,
                                          token)
        != NGX_OK)
    {
        goto not_found;
    }

    if (CRYPTO_memcmp(token, given_token.data, NGX_HTTP_STATSIG_IDLIST_TOKEN)
        != 0)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: id list file: wrong token");
        goto not_found;
    }

    if (ngx_http_statsig_view_acquire(&view) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0;
         statsig_idlists_list(view.idlists, i, &name, &name_len, &ids,
                              &count) == 0;
         i++)
    {
        if (name_len == want.len && ngx_memcmp(name, want.data, name_len) == 0)
        {
            break;
        }
    }

    if (view.idlists == NULL || i >= statsig_idlists_count(view.idlists)) {
        ngx_http_statsig_view_release(&view);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: id list file: no list \"%V\"", &want);
        goto not_found;
    }

    ngx_http_statsig_api_idlist_file_id(ids, count, file_id);

    if (ngx_memcmp(file_id, given_id.data, NGX_HTTP_STATSIG_IDLIST_FILEID)
        != 0)
    {
        ngx_http_statsig_view_release(&view);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: id list file \"%V\": another file now",
                       &want);
        goto not_found;
    }

    size = (off_t) count * NGX_HTTP_STATSIG_IDLIST_LINE;

    rc = ngx_http_statsig_api_idlist_range(r, size, &from, &to);

    if (rc == NGX_HTTP_RANGE_NOT_SATISFIABLE) {
        ngx_http_statsig_view_release(&view);

        p = ngx_pnalloc(r->pool, sizeof("bytes */") - 1 + NGX_OFF_T_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.content_range = ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.content_range == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.content_range->hash = 1;
        ngx_str_set(&r->headers_out.content_range->key, "Content-Range");
        r->headers_out.content_range->value.data = p;
        r->headers_out.content_range->value.len =
                                    ngx_sprintf(p, "bytes */%O", size) - p;

        rc = ngx_http_statsig_response_header(r,
                                          NGX_HTTP_RANGE_NOT_SATISFIABLE,
                                          &ngx_http_statsig_api_idlist_type,
                                          0);
        if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
            return rc;
        }

        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig api: id list file \"%V\": bytes %O-%O of %O",
                   &want, from, to, size);

    rc = ngx_http_statsig_api_idlist_send(r, ids, size, from, to, rc);

    ngx_http_statsig_view_release(&view);

    return rc;

not_found:

    return ngx_http_statsig_response_error(r, NGX_HTTP_NOT_FOUND,
                                           "no such ID list file");
}


/* HMAC-SHA-256(key, "statsig id list\0" name), its first 16 bytes in hex */

static ngx_int_t
ngx_http_statsig_api_idlist_token(ngx_http_request_t *r, const char *name,
    size_t len, u_char *out)
{
    u_char        *msg, mac[EVP_MAX_MD_SIZE];
    unsigned int   mac_len;
    ngx_str_t      key;

    static u_char  label[] = "statsig id list";

    if (ngx_http_statsig_api_key(r, &key) != NGX_OK || key.len == 0) {
        return NGX_ERROR;
    }

    msg = ngx_pnalloc(r->pool, sizeof(label) + len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(msg, label, sizeof(label));
    ngx_memcpy(msg + sizeof(label), name, len);

    if (HMAC(EVP_sha256(), key.data, (int) key.len, msg, sizeof(label) + len,
             mac, &mac_len)
        == NULL
        || mac_len < NGX_HTTP_STATSIG_IDLIST_TOKEN / 2)
    {
        return NGX_ERROR;
    }

    (void) ngx_hex_dump(out, mac, NGX_HTTP_STATSIG_IDLIST_TOKEN / 2);

    return NGX_OK;
}


/* SHA-256 of the sorted ids, its first 12 bytes in hex */

static void
ngx_http_statsig_api_idlist_file_id(const char *ids, size_t count,
    u_char *out)
{
    u_char  digest[32];

    statsig_sha256(ids, count * 8, digest);

    (void) ngx_hex_dump(out, digest, NGX_HTTP_STATSIG_IDLIST_FILEID / 2);
}


/*
 * "http[s]://<Host><the URI up to and including its last /v1/>": where
 * the files are, under the location that answered get_id_lists
 */

static ngx_int_t
ngx_http_statsig_api_idlist_base(ngx_http_request_t *r, ngx_str_t *base)
{
    u_char     *p, *last, *v1;
    size_t      len;
    ngx_str_t   scheme, host;

    ngx_str_set(&scheme, "http://");

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
    }
#endif

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        host = r->headers_in.server;
    }

    last = r->uri.data + r->uri.len;
    v1 = NULL;

    for (p = r->uri.data; p + 4 <= last; p++) {
        if (p[0] == '/' && p[1] == 'v' && p[2] == '1' && p[3] == '/') {
            v1 = p + 4;
        }
    }

    if (v1 == NULL) {
        return NGX_ERROR;
    }

    len = v1 - r->uri.data;

    base->data = ngx_pnalloc(r->pool, scheme.len + host.len + 3 * len);
    if (base->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(base->data, scheme.data, scheme.len);
    p = ngx_cpymem(p, host.data, host.len);
    p = (u_char *) ngx_escape_uri(p, r->uri.data, len, NGX_ESCAPE_URI);

    base->len = p - base->data;

    return NGX_OK;
}


/*
 * "Range: bytes=N-" or "bytes=N-M" (what the SDKs send): NGX_HTTP_PARTIAL_
 * CONTENT with [from, to], or NGX_HTTP_RANGE_NOT_SATISFIABLE when N is
 * past the end.  No Range, or one of another form (several ranges, a
 * suffix): NGX_HTTP_OK and the whole file, as RFC 9110 allows.
 */

static ngx_int_t
ngx_http_statsig_api_idlist_range(ngx_http_request_t *r, off_t size,
    off_t *from, off_t *to)
{
    u_char     *p, *last, *dash;
    off_t       n, m;
    ngx_str_t  *v;

    *from = 0;
    *to = size - 1;

    if (r->headers_in.range == NULL) {
        return NGX_HTTP_OK;
    }

    v = &r->headers_in.range->value;
    p = v->data;
    last = v->data + v->len;

    if (v->len < 7 || ngx_strncasecmp(p, (u_char *) "bytes=", 6) != 0) {
        return NGX_HTTP_OK;
    }

    p += 6;

    dash = ngx_strlchr(p, last, '-');
    if (dash == NULL || dash == p) {
        return NGX_HTTP_OK;
    }

    n = ngx_atoof(p, dash - p);
    if (n == NGX_ERROR) {
        return NGX_HTTP_OK;
    }

    m = size - 1;

    if (dash + 1 < last) {
        m = ngx_atoof(dash + 1, last - dash - 1);
        if (m == NGX_ERROR || m < n) {
            return NGX_HTTP_OK;
        }

        if (m > size - 1) {
            m = size - 1;
        }
    }

    if (n >= size) {
        return NGX_HTTP_RANGE_NOT_SATISFIABLE;
    }

    *from = n;
    *to = m;

    return NGX_HTTP_PARTIAL_CONTENT;
}


/* bytes [from, to] of the file the ids make, built in the request pool */

static ngx_int_t
ngx_http_statsig_api_idlist_send(ngx_http_request_t *r, const char *ids,
    off_t size, off_t from, off_t to, ngx_uint_t status)
{
    u_char      *p, line[NGX_HTTP_STATSIG_IDLIST_LINE];
    off_t        off;
    size_t       i, k, len;
    ngx_buf_t   *b;
    ngx_int_t    rc;

    len = size ? (size_t) (to - from + 1) : 0;

    if (status == NGX_HTTP_PARTIAL_CONTENT) {
        p = ngx_pnalloc(r->pool, sizeof("bytes -/") - 1 + 3 * NGX_OFF_T_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.content_range = ngx_list_push(&r->headers_out.headers);
        if (r->headers_out.content_range == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.content_range->hash = 1;
        ngx_str_set(&r->headers_out.content_range->key, "Content-Range");
        r->headers_out.content_range->value.data = p;
        r->headers_out.content_range->value.len =
                     ngx_sprintf(p, "bytes %O-%O/%O", from, to, size) - p;
    }

    if (len == 0 || r->method == NGX_HTTP_HEAD) {
        rc = ngx_http_statsig_response_header(r, status,
                                          &ngx_http_statsig_api_idlist_type,
                                          (off_t) len);
        if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
            return rc;
        }

        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;
    line[0] = '+';
    line[NGX_HTTP_STATSIG_IDLIST_LINE - 1] = '\n';

    /* a first line cut short when from is not at a line's start */

    off = from;
    i = (size_t) (off / NGX_HTTP_STATSIG_IDLIST_LINE);
    k = (size_t) (off % NGX_HTTP_STATSIG_IDLIST_LINE);

    while (len) {
        ngx_memcpy(line + 1, ids + i * 8, 8);

        if (k == 0 && len >= NGX_HTTP_STATSIG_IDLIST_LINE) {
            p = ngx_cpymem(p, line, NGX_HTTP_STATSIG_IDLIST_LINE);
            len -= NGX_HTTP_STATSIG_IDLIST_LINE;

        } else {
            off = ngx_min((off_t) len,
                          (off_t) (NGX_HTTP_STATSIG_IDLIST_LINE - k));
            p = ngx_cpymem(p, line + k, (size_t) off);
            len -= (size_t) off;
            k = 0;
        }

        i++;
    }

    b->last = p;

    return ngx_http_statsig_response_buf(r, status,
                                         &ngx_http_statsig_api_idlist_type, b);
}
