
/*
 * ngx_http_statsig_module: the module's own responses (see the header).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_statsig_response.h"

#include "buf.h"


static ngx_str_t  ngx_http_statsig_json_type = ngx_string("application/json");

/* per worker: error bodies are written here, then copied */
static statsig_buf_t  ngx_http_statsig_error_buf;


static ngx_uint_t ngx_http_statsig_response_has(ngx_http_request_t *r,
    char *key, size_t len);


ngx_int_t
ngx_http_statsig_response_header(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, off_t len)
{
    if (type == NULL) {
        type = &ngx_http_statsig_json_type;
    }

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    /* statsig_ofrep's bulk answers are revalidated, not unstored */
    if (!ngx_http_statsig_response_has(r, "Cache-Control", 13)
        && ngx_http_statsig_response_add(r, "Cache-Control", "no-store")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig response: %ui, %O bytes", status, len);

    return ngx_http_send_header(r);
}


/* whether a header line of that name is set already */

static ngx_uint_t
ngx_http_statsig_response_has(ngx_http_request_t *r, char *key, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash && h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) key, len) == 0)
        {
            return 1;
        }
    }
}


/* one more header line; key and value are literals */

ngx_int_t
ngx_http_statsig_response_add(ngx_http_request_t *r, char *key, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


ngx_int_t
ngx_http_statsig_response_buf(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    rc = ngx_http_statsig_response_header(r, status, type, b->last - b->pos);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_statsig_response_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    ngx_buf_t  *b;

    /* an empty buffer is a "zero size buf" to the filters: never len 0 */
    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->pos, data, len);

    return ngx_http_statsig_response_buf(r, status, NULL, b);
}


ngx_int_t
ngx_http_statsig_response_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *msg)
{
    statsig_buf_t  *b;

    static u_char  fallback[] = "{\"error\":\"internal error\"}";

    /* JSON.stringify's escaping: a parser's message may quote bad bytes */

    b = &ngx_http_statsig_error_buf;
    b->len = 0;
    b->failed = 0;

    statsig_buf_adds(b, "{\"error\":");
    statsig_buf_json_str(b, msg, ngx_strlen(msg));
    statsig_buf_addc(b, '}');

    if (b->failed) {
        return ngx_http_statsig_response_json(r, status, fallback,
                                              sizeof(fallback) - 1);
    }

    return ngx_http_statsig_response_json(r, status, (u_char *) b->data,
                                          b->len);
}


void
ngx_http_statsig_response_exit_worker(void)
{
    statsig_buf_free(&ngx_http_statsig_error_buf);
}
