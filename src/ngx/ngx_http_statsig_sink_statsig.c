
/*
 * ngx_http_statsig_module: the Statsig log_event sink.
 *
 *   POST statsig_events_url, gzip, with the headers statsig-node sends
 *   (STATSIG-API-KEY, STATSIG-CLIENT-TIME stamped on every attempt,
 *   STATSIG-SERVER-SESSION-ID, STATSIG-SDK-TYPE/-VERSION,
 *   STATSIG-EVENT-COUNT) and the body
 *   {"statsigMetadata":{...},"events":[<event>,...]}, every event as the
 *   exposure writer or statsig_event rendered it.
 *
 * Off in local mode (no statsig_server_key).  Network errors, 408, 429
 * and 5xx are retried; a 2xx whose body says "success":false too; 413
 * splits the batch; anything else drops it.
 */


#include "ngx_http_statsig_events.h"


#define NGX_HTTP_STATSIG_SINK_SDK_TYPE  "ngx-http-statsig-module"


typedef struct {
    ngx_str_t                      key;
    u_char                         session[36];
    u_char                         prefix[NGX_HTTP_STATSIG_ENVELOPE_MAX];
    size_t                         prefix_len;
} ngx_http_statsig_sink_statsig_t;


static ngx_int_t ngx_http_statsig_statsig_init(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_main_conf_t *smcf);
static ngx_int_t ngx_http_statsig_statsig_ready(
    ngx_http_statsig_sink_t *sink);
static ngx_int_t ngx_http_statsig_statsig_headers(
    ngx_http_statsig_sink_t *sink, ngx_uint_t n, ngx_uint_t attempt,
    ngx_array_t *headers, ngx_pool_t *pool);
static void ngx_http_statsig_statsig_envelope(ngx_http_statsig_sink_t *sink,
    ngx_str_t *prefix, ngx_str_t *suffix);
static ngx_int_t ngx_http_statsig_statsig_accepted(
    ngx_http_statsig_sink_t *sink, ngx_http_statsig_http_res_t *res);


static ngx_http_statsig_range_t  ngx_http_statsig_statsig_retry[] = {
    { 0, 99 },       /* no HTTP status: network errors, timeouts */
    { 408, 408 },
    { 429, 429 },
    { 500, 599 },
    { 0, 0 }
};


ngx_http_statsig_sink_type_t  ngx_http_statsig_sink_statsig = {
    "statsig",
    NGX_HTTP_STATSIG_EV_EXPOSURE | NGX_HTTP_STATSIG_EV_CUSTOM,
    1000 * 100,                  /* max_batch: statsig_flush_batch rules */
    1024 * 1024,                 /* max_bytes */
    10,                          /* max_attempts */
    1000,                        /* backoff_base */
    60000,                       /* backoff_max */
    ngx_http_statsig_statsig_retry,
    413,
    ngx_http_statsig_statsig_init,
    ngx_http_statsig_statsig_ready,
    ngx_http_statsig_statsig_headers,
    ngx_http_statsig_statsig_envelope,
    ngx_http_statsig_statsig_accepted
};


static ngx_http_statsig_sink_statsig_t  ngx_http_statsig_statsig_state;


static ngx_int_t
ngx_http_statsig_statsig_init(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_main_conf_t *smcf)
{
    ngx_uint_t                        i;
    ngx_http_statsig_sink_statsig_t  *st;

    if (smcf->key_source == NGX_HTTP_STATSIG_KEY_NONE) {
        /* local mode: nothing goes to Statsig */
        return NGX_DECLINED;
    }

    sink->url = smcf->events_url;

    st = &ngx_http_statsig_statsig_state;
    ngx_memzero(st, sizeof(ngx_http_statsig_sink_statsig_t));

    for (i = 0; i < sizeof(st->session); i++) {
        st->session[i] = "0123456789abcdef"[ngx_random() & 0xf];
    }

    st->session[8] = '-';
    st->session[13] = '-';
    st->session[14] = '4';
    st->session[18] = '-';
    st->session[23] = '-';

    st->prefix_len = ngx_snprintf(st->prefix, sizeof(st->prefix),
                         "{\"statsigMetadata\":{\"sdkType\":\""
                         NGX_HTTP_STATSIG_SINK_SDK_TYPE "\","
                         "\"sdkVersion\":\"" NGX_HTTP_STATSIG_VERSION "\","
                         "\"languageVersion\":\"" NGINX_VERSION "\","
                         "\"sessionID\":\"%*s\"},\"events\":[",
                         sizeof(st->session), st->session)
                     - st->prefix;

    sink->data = st;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_statsig_ready(ngx_http_statsig_sink_t *sink)
{
    ngx_http_statsig_sink_statsig_t  *st = sink->data;

    /* loaded (and logged when it cannot be) by the specs sync */
    return ngx_http_statsig_get_server_key(&st->key);
}


static ngx_int_t
ngx_http_statsig_statsig_headers(ngx_http_statsig_sink_t *sink, ngx_uint_t n,
    ngx_uint_t attempt, ngx_array_t *headers, ngx_pool_t *pool)
{
    ngx_http_statsig_sink_statsig_t *st = sink->data;

    u_char     *p;
    ngx_str_t  *h;
    ngx_uint_t  i;

    static ngx_str_t  fixed[] = {
        ngx_string("STATSIG-SDK-TYPE: " NGX_HTTP_STATSIG_SINK_SDK_TYPE),
        ngx_string("STATSIG-SDK-VERSION: " NGX_HTTP_STATSIG_VERSION),
        ngx_string("Content-Type: application/json; charset=UTF-8"),
        ngx_string("Content-Encoding: gzip")
    };

    h = ngx_array_push_n(headers, 4 + sizeof(fixed) / sizeof(ngx_str_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(pool, sizeof("STATSIG-API-KEY: ") - 1 + st->key.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h[0].data = p;
    p = ngx_cpymem(p, "STATSIG-API-KEY: ", sizeof("STATSIG-API-KEY: ") - 1);
    p = ngx_cpymem(p, st->key.data, st->key.len);
    h[0].len = p - h[0].data;

    p = ngx_pnalloc(pool, 256);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* regenerated on every attempt, as the SDKs do */
    h[1].data = p;
    p = ngx_sprintf(p, "STATSIG-CLIENT-TIME: %uL",
                    ngx_http_statsig_now_ms());
    h[1].len = p - h[1].data;

    h[2].data = p;
    p = ngx_sprintf(p, "STATSIG-SERVER-SESSION-ID: %*s",
                    sizeof(st->session), st->session);
    h[2].len = p - h[2].data;

    h[3].data = p;
    p = ngx_sprintf(p, "STATSIG-EVENT-COUNT: %ui", n);
    h[3].len = p - h[3].data;

    for (i = 0; i < sizeof(fixed) / sizeof(ngx_str_t); i++) {
        h[4 + i] = fixed[i];
    }

    return NGX_OK;
}


/* {"statsigMetadata":{...},"events":[<event>,...]} */

static void
ngx_http_statsig_statsig_envelope(ngx_http_statsig_sink_t *sink,
    ngx_str_t *prefix, ngx_str_t *suffix)
{
    ngx_http_statsig_sink_statsig_t *st = sink->data;

    prefix->data = st->prefix;
    prefix->len = st->prefix_len;

    ngx_str_set(suffix, "]}");
}


/* 2xx, unless the body says {"success": false} */

static ngx_int_t
ngx_http_statsig_statsig_accepted(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_http_res_t *res)
{
    u_char  *p, *last;

    p = res->body.data;
    last = p + res->body.len;

    while (p && (p = ngx_strlcasestrn(p, last, (u_char *) "\"success\"", 8))) {
        p += 9;

        while (p < last && (*p == ' ' || *p == ':' || *p == '\t')) {
            p++;
        }

        if (last - p >= 5 && ngx_strncmp(p, "false", 5) == 0) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}
