
/*
 * ngx_http_statsig_module: location handlers.
 *
 *   statsig_status;  JSON, or Prometheus text with ?format=prometheus.
 *                    503 until a specs snapshot is loaded (readiness).
 *   statsig_api;     the local Statsig-compatible API (not built yet).
 */


#include "ngx_http_statsig_module.h"


#define NGX_HTTP_STATSIG_STATUS_JSON        0
#define NGX_HTTP_STATSIG_STATUS_PROMETHEUS  1


typedef struct {
    ngx_str_t                      zone;
    size_t                         size;
    size_t                         used;
    time_t                         created;
    ngx_uint_t                     reloads;
    ngx_uint_t                     loaded;
    ngx_uint_t                     local;
} ngx_http_statsig_status_t;


static ngx_int_t ngx_http_statsig_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, ngx_buf_t *b);
static ngx_buf_t *ngx_http_statsig_status_json(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st);
static ngx_buf_t *ngx_http_statsig_status_prometheus(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st);


ngx_int_t
ngx_http_statsig_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_str_t                      format, type;
    ngx_buf_t                     *b;
    ngx_uint_t                     fmt;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_status_t      st;
    ngx_http_statsig_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    fmt = NGX_HTTP_STATSIG_STATUS_JSON;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        if (format.len == 10
            && ngx_strncmp(format.data, "prometheus", 10) == 0)
        {
            fmt = NGX_HTTP_STATSIG_STATUS_PROMETHEUS;

        } else if (!(format.len == 4
                     && ngx_strncmp(format.data, "json", 4) == 0))
        {
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);

    ngx_memzero(&st, sizeof(ngx_http_statsig_status_t));

    /* postconfiguration guarantees the zone exists */
    ctx = smcf->shm_zone->data;

    st.zone = smcf->shm_zone->shm.name;
    st.size = smcf->shm_zone->shm.size;
    st.created = ctx->sh->created;
    st.reloads = ctx->sh->reloads;
    st.loaded = ctx->sh->specs_loaded;
    st.local = (smcf->key_source == NGX_HTTP_STATSIG_KEY_NONE);

    (void) ngx_http_statsig_zone_usage(smcf->shm_zone, &st.used);

    if (fmt == NGX_HTTP_STATSIG_STATUS_PROMETHEUS) {
        ngx_str_set(&type, "text/plain; version=0.0.4");
        b = ngx_http_statsig_status_prometheus(r, &st);

    } else {
        ngx_str_set(&type, "application/json");
        b = ngx_http_statsig_status_json(r, &st);
    }

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_statsig_send(r, st.loaded ? NGX_HTTP_OK
                                              : NGX_HTTP_SERVICE_UNAVAILABLE,
                                 &type, b);
}


static ngx_buf_t *
ngx_http_statsig_status_json(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st)
{
    size_t      len;
    ngx_buf_t  *b;

    /* zone names are restricted at parse time: no quoting needed */

    len = sizeof("{\"module\":\"ngx_http_statsig_module\",\"version\":\"\","
                 "\"mode\":\"server\",\"zone\":{\"name\":\"\",\"size\":,"
                 "\"used\":,\"created\":,\"reloads\":},\"specs\":{"
                 "\"loaded\":false,\"source\":null,\"time\":null}}\n")
          + sizeof(NGX_HTTP_STATSIG_VERSION) + st->zone.len
          + 3 * NGX_SIZE_T_LEN + NGX_TIME_T_LEN;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    b->last = ngx_sprintf(b->last,
                          "{\"module\":\"ngx_http_statsig_module\","
                          "\"version\":\"" NGX_HTTP_STATSIG_VERSION "\","
                          "\"mode\":\"%s\","
                          "\"zone\":{\"name\":\"%V\",\"size\":%uz,"
                          "\"used\":%uz,\"created\":%T,\"reloads\":%ui},"
                          "\"specs\":{\"loaded\":%s,\"source\":null,"
                          "\"time\":null}}\n",
                          st->local ? "local" : "server",
                          &st->zone, st->size, st->used, st->created,
                          st->reloads, st->loaded ? "true" : "false");

    return b;
}


static ngx_buf_t *
ngx_http_statsig_status_prometheus(ngx_http_request_t *r,
    ngx_http_statsig_status_t *st)
{
    size_t      len;
    ngx_buf_t  *b;

    static char  text[] =
        "# HELP statsig_specs_loaded Whether a specs snapshot is loaded.\n"
        "# TYPE statsig_specs_loaded gauge\n"
        "statsig_specs_loaded{zone=\"%V\"} %ui\n"
        "# HELP statsig_zone_size_bytes Size of the statsig shared zone.\n"
        "# TYPE statsig_zone_size_bytes gauge\n"
        "statsig_zone_size_bytes{zone=\"%V\"} %uz\n"
        "# HELP statsig_zone_used_bytes Bytes in use in the statsig zone.\n"
        "# TYPE statsig_zone_used_bytes gauge\n"
        "statsig_zone_used_bytes{zone=\"%V\"} %uz\n"
        "# HELP statsig_zone_reloads_total Reloads that kept the zone.\n"
        "# TYPE statsig_zone_reloads_total counter\n"
        "statsig_zone_reloads_total{zone=\"%V\"} %ui\n";

    len = sizeof(text) + 4 * st->zone.len + 3 * NGX_SIZE_T_LEN
          + NGX_INT_T_LEN;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    b->last = ngx_sprintf(b->last, text,
                          &st->zone, st->loaded,
                          &st->zone, st->size,
                          &st->zone, st->used,
                          &st->zone, st->reloads);

    return b;
}


ngx_int_t
ngx_http_statsig_api_handler(ngx_http_request_t *r)
{
    ngx_int_t   rc;
    ngx_str_t   type;
    ngx_buf_t  *b;

    static u_char  body[] =
        "{\"error\":\"statsig_api is not implemented yet\"}\n";

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + sizeof(body) - 1;
    b->memory = 1;

    ngx_str_set(&type, "application/json");

    return ngx_http_statsig_send(r, NGX_HTTP_NOT_IMPLEMENTED, &type, b);
}


static ngx_int_t
ngx_http_statsig_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b)
{
    ngx_int_t         rc;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = b->last - b->pos;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
