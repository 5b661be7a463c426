
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
#include "ngx_http_statsig_sdk.h"


typedef struct {
    ngx_http_statsig_secret_t     *secret;
    ngx_str_t                      key;
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
    ngx_http_statsig_sink_t *sink, ngx_http_statsig_http_res_t *res,
    ngx_uint_t n, ngx_uint_t *refused, u_char *reason, size_t size);


ngx_http_statsig_sink_type_t  ngx_http_statsig_sink_statsig = {
    "statsig",
    NGX_HTTP_STATSIG_EV_EXPOSURE | NGX_HTTP_STATSIG_EV_CUSTOM,
    1000 * 100,                  /* max_batch: statsig_flush_batch rules */
    1024 * 1024,                 /* max_bytes */
    0,                           /* max_body: no items */
    34,                          /* max_attempts: ~5 min of probes */
    4,                           /* max_inflight */
    1000,                        /* backoff_base */
    10000,                       /* backoff_max: a probe every 10 s */
    ngx_http_statsig_sink_transient,
    413,
    0,                           /* plain: packs */
    NULL,                        /* conf: statsig_server_key and its kin */
    ngx_http_statsig_statsig_init,
    ngx_http_statsig_statsig_ready,
    ngx_http_statsig_statsig_headers,
    NULL,                        /* format: packs in a gzip body */
    NULL,                        /* item */
    ngx_http_statsig_statsig_envelope,
    NULL,                        /* relay: statsig_api's log_event */
    NULL,                        /* exit: the server key is the module's */
    ngx_http_statsig_statsig_accepted
};


static ngx_http_statsig_sink_statsig_t  ngx_http_statsig_statsig_state;


static ngx_int_t
ngx_http_statsig_statsig_init(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_main_conf_t *smcf)
{
    ngx_http_statsig_sink_statsig_t  *st;

    if (!ngx_http_statsig_secret_set(&smcf->server_key)) {
        /* local mode: nothing goes to Statsig */
        return NGX_DECLINED;
    }

    sink->url = smcf->events_url;
    sink->kinds = NGX_HTTP_STATSIG_EV_EXPOSURE | NGX_HTTP_STATSIG_EV_CUSTOM;

    st = &ngx_http_statsig_statsig_state;
    ngx_memzero(st, sizeof(ngx_http_statsig_sink_statsig_t));

    st->secret = &smcf->server_key;

    st->prefix_len = ngx_snprintf(st->prefix, sizeof(st->prefix),
                         "{\"statsigMetadata\":{\"sdkType\":\""
                         NGX_HTTP_STATSIG_SDK_TYPE "\","
                         "\"sdkVersion\":\"" NGX_HTTP_STATSIG_VERSION "\","
                         "\"languageVersion\":\"" NGINX_VERSION "\","
                         "\"sessionID\":\"%V\"},\"events\":[",
                         ngx_http_statsig_session_id())
                     - st->prefix;

    sink->data = st;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_statsig_ready(ngx_http_statsig_sink_t *sink)
{
    ngx_http_statsig_sink_statsig_t  *st = sink->data;

    return ngx_http_statsig_secret_get(st->secret, ngx_cycle->log, &st->key);
}


static ngx_int_t
ngx_http_statsig_statsig_headers(ngx_http_statsig_sink_t *sink, ngx_uint_t n,
    ngx_uint_t attempt, ngx_array_t *headers, ngx_pool_t *pool)
{
    ngx_http_statsig_sink_statsig_t *st = sink->data;

    u_char     *p;
    ngx_str_t  *h;

    h = ngx_array_push_n(headers, NGX_HTTP_STATSIG_SDK_HEADERS + 2);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(pool, NGX_HTTP_STATSIG_SDK_HEADERS_LEN(st->key.len)
                          + sizeof("STATSIG-EVENT-COUNT: ") + NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* the client time too: made anew for every attempt, as the SDKs do */
    p = ngx_http_statsig_sdk_headers(h, p, &st->key);

    h += NGX_HTTP_STATSIG_SDK_HEADERS;

    h[0].data = p;
    p = ngx_sprintf(p, "STATSIG-EVENT-COUNT: %ui", n);
    h[0].len = p - h[0].data;

    ngx_str_set(&h[1], "Content-Encoding: gzip");

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
    ngx_http_statsig_http_res_t *res, ngx_uint_t n, ngx_uint_t *refused,
    u_char *reason, size_t size)
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
