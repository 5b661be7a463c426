
/*
 * ngx_http_statsig_module: the sinks that rewrite each event for their
 * vendor, Customer.io's Track API and Gainsight PX's custom events.
 *
 *   statsig_sink customerio   site_id=env:V|file:P api_key=env:V|file:P
 *                             [url=https://track.customer.io/api/v1 |
 *                              region=us|eu] [batch=on|off]
 *                             [events=custom|exposures|all] [rate=100];
 *   statsig_sink gainsight_px api_key=env:V|file:P product_key=AP-XXXX-2
 *                             [url=https://api.aptrinsic.com/v1]
 *                             [events=custom|exposures|all] [rate=150];
 *
 * Each gets the events of the kinds it takes, in a queue of its own, as
 * plain records (the flusher reads them one by one).  The vendor's
 * request (path, body, the rules of its fields) is made by the core
 * (src/core/sink_format.h) from the Statsig event the queue holds; this
 * file adds the keys and headers.
 *
 * Customer.io posts events of users with a userID in Track v2 batches
 * (POST .../api/v2/batch, up to 500 KB; a 207 names the items it
 * refused, dropped and counted; the rest are delivered), and the others,
 * anonymous ones, one a request to v1's /events (v2 has no anonymous
 * event): the flusher gives those back to the queue to be posted alone.
 * batch=off posts every event to v1.  Gainsight PX has no batch path:
 * one event a request.
 *
 * Network errors, 408, 429 (with Retry-After) and 5xx are retried; any
 * other answer but 2xx drops the request's events, counted and logged.
 *
 * statsig_api's relays queue the vendor's own request, checked and made
 * whole by the core: a record of NGX_HTTP_STATSIG_RELAYED, the path, a
 * newline, the body, posted alone as it is.
 */


#include "ngx_http_statsig_events.h"

#include "sink_format.h"


#define NGX_HTTP_STATSIG_CUSTOMERIO     0
#define NGX_HTTP_STATSIG_GAINSIGHT_PX   1


typedef struct {
    ngx_http_statsig_sink_conf_t   common;
    ngx_http_statsig_secret_t      api_key;
    ngx_http_statsig_secret_t      site_id;    /* Customer.io */
    ngx_str_t                      product;    /* Gainsight PX */
    ngx_str_t                      batch_url;  /* Customer.io v2 */
} ngx_http_statsig_vendor_conf_t;


/* a vendor sink in a worker */
typedef struct {
    ngx_uint_t                      vendor;
    ngx_http_statsig_vendor_conf_t *conf;
    ngx_str_t                       auth;      /* the header, zeroed at exit */
    statsig_sink_fmt_t              fmt;       /* made at the first event */
    ngx_uint_t                      fmt_ready;
    statsig_sink_opts_t             opts;
    statsig_buf_t                   path;
    statsig_buf_t                   body;
    char                            err[NGX_HTTP_STATSIG_ERRLEN];
} ngx_http_statsig_vendor_t;


static char *ngx_http_statsig_customerio_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf, ngx_uint_t index, ngx_str_t *args,
    ngx_uint_t n);
static char *ngx_http_statsig_gainsight_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf, ngx_uint_t index, ngx_str_t *args,
    ngx_uint_t n);
static char *ngx_http_statsig_vendor_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf, ngx_uint_t index, ngx_str_t *args,
    ngx_uint_t n, ngx_uint_t vendor);
static ngx_int_t ngx_http_statsig_vendor_init(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_main_conf_t *smcf);
static ngx_int_t ngx_http_statsig_vendor_ready(ngx_http_statsig_sink_t *sink);
static ngx_int_t ngx_http_statsig_vendor_headers(
    ngx_http_statsig_sink_t *sink, ngx_uint_t n, ngx_uint_t attempt,
    ngx_array_t *headers, ngx_pool_t *pool);
static ngx_int_t ngx_http_statsig_vendor_format(ngx_http_statsig_sink_t *sink,
    u_char *event, size_t len, ngx_str_t *path, ngx_str_t *body,
    u_char **err);
static ngx_int_t ngx_http_statsig_customerio_item(
    ngx_http_statsig_sink_t *sink, u_char *event, size_t len,
    statsig_buf_t *out, u_char **err);
static ngx_int_t ngx_http_statsig_customerio_accepted(
    ngx_http_statsig_sink_t *sink, ngx_http_statsig_http_res_t *res,
    ngx_uint_t n, ngx_uint_t *refused, u_char *reason, size_t size);
static void ngx_http_statsig_customerio_envelope(
    ngx_http_statsig_sink_t *sink, ngx_str_t *prefix, ngx_str_t *suffix);
static char *ngx_http_statsig_customerio_urls(ngx_conf_t *cf,
    ngx_http_statsig_vendor_conf_t *vc, u_char *dflt, ngx_str_t *region,
    ngx_uint_t batch);
static ngx_int_t ngx_http_statsig_vendor_relay(ngx_http_statsig_sink_t *sink,
    ngx_str_t *identifier, ngx_str_t *body, statsig_buf_t *record,
    const char **msg);
static ngx_int_t ngx_http_statsig_vendor_fmt(ngx_http_statsig_vendor_t *v);
static void ngx_http_statsig_vendor_exit(ngx_http_statsig_sink_t *sink);


ngx_http_statsig_sink_type_t  ngx_http_statsig_sink_customerio = {
    "customerio",
    NGX_HTTP_STATSIG_EV_EXPOSURE | NGX_HTTP_STATSIG_EV_CUSTOM,
    2000,                        /* max_batch: items of a v2 batch */
    768 * 1024,                  /* max_bytes: events taken for a batch */
    STATSIG_SINK_CIO_V2_BATCH_MAX,  /* max_body */
    34,                          /* max_attempts: ~5 min of probes */
    8,                           /* max_inflight */
    1000,                        /* backoff_base */
    10000,                       /* backoff_max: a probe every 10 s */
    ngx_http_statsig_sink_transient,
    413,                         /* too_large: fewer items a batch */
    1,                           /* plain */
    ngx_http_statsig_customerio_conf,
    ngx_http_statsig_vendor_init,
    ngx_http_statsig_vendor_ready,
    ngx_http_statsig_vendor_headers,
    ngx_http_statsig_vendor_format,
    ngx_http_statsig_customerio_item,
    ngx_http_statsig_customerio_envelope,
    ngx_http_statsig_vendor_relay,
    ngx_http_statsig_vendor_exit,
    ngx_http_statsig_customerio_accepted
};


ngx_http_statsig_sink_type_t  ngx_http_statsig_sink_gainsight_px = {
    "gainsight_px",
    NGX_HTTP_STATSIG_EV_EXPOSURE | NGX_HTTP_STATSIG_EV_CUSTOM,
    1,                           /* max_batch: no batch path */
    128 * 1024,                  /* max_bytes */
    0,                           /* max_body */
    34,                          /* max_attempts: ~5 min of probes */
    16,                          /* max_inflight */
    1000,                        /* backoff_base */
    10000,                       /* backoff_max: a probe every 10 s */
    ngx_http_statsig_sink_transient,
    0,                           /* too_large: one event, not split */
    1,                           /* plain */
    ngx_http_statsig_gainsight_conf,
    ngx_http_statsig_vendor_init,
    ngx_http_statsig_vendor_ready,
    ngx_http_statsig_vendor_headers,
    ngx_http_statsig_vendor_format,
    NULL,                        /* item */
    NULL,                        /* envelope */
    ngx_http_statsig_vendor_relay,
    ngx_http_statsig_vendor_exit,
    NULL                         /* accepted: any 2xx */
};


static ngx_http_statsig_vendor_t  ngx_http_statsig_vendors[2];


static char *
ngx_http_statsig_customerio_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf, ngx_uint_t index, ngx_str_t *args,
    ngx_uint_t n)
{
    return ngx_http_statsig_vendor_conf(cf, smcf, index, args, n,
                                        NGX_HTTP_STATSIG_CUSTOMERIO);
}


static char *
ngx_http_statsig_gainsight_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf, ngx_uint_t index, ngx_str_t *args,
    ngx_uint_t n)
{
    return ngx_http_statsig_vendor_conf(cf, smcf, index, args, n,
                                        NGX_HTTP_STATSIG_GAINSIGHT_PX);
}


static char *
ngx_http_statsig_vendor_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf, ngx_uint_t index, ngx_str_t *args,
    ngx_uint_t n, ngx_uint_t vendor)
{
    char                            *name;
    u_char                          *dflt;
    ngx_int_t                        rc;
    ngx_str_t                        key, value, region;
    ngx_uint_t                       i, batch;
    ngx_http_statsig_vendor_conf_t  *vc;

    name = (vendor == NGX_HTTP_STATSIG_CUSTOMERIO) ? "customerio"
                                                   : "gainsight_px";

    vc = ngx_pcalloc(cf->pool, sizeof(ngx_http_statsig_vendor_conf_t));
    if (vc == NULL) {
        return NGX_CONF_ERROR;
    }

    vc->common.kinds = NGX_HTTP_STATSIG_EV_CUSTOM;

    if (vendor == NGX_HTTP_STATSIG_CUSTOMERIO) {
        ngx_str_set(&vc->common.url, "https://track.customer.io/api/v1");
        vc->common.rate = 100;
        vc->site_id.without = "nothing is sent to Customer.io";
        vc->api_key.without = "nothing is sent to Customer.io";

    } else {
        ngx_str_set(&vc->common.url, "https://api.aptrinsic.com/v1");
        vc->common.rate = 150;
        vc->api_key.without = "nothing is sent to Gainsight PX";
    }

    ngx_str_null(&region);
    batch = 1;
    dflt = vc->common.url.data;   /* url= replaces it */

    for (i = 0; i < n; i++) {
        rc = ngx_http_statsig_sink_conf(cf, &vc->common, &args[i], &key,
                                        &value);
        if (rc == NGX_OK) {
            continue;
        }

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (key.len == 7 && ngx_strncmp(key.data, "api_key", 7) == 0) {
            rc = ngx_http_statsig_sink_secret(cf, name, &key, &value,
                                              &vc->api_key);

        } else if (vendor == NGX_HTTP_STATSIG_CUSTOMERIO && key.len == 7
                   && ngx_strncmp(key.data, "site_id", 7) == 0)
        {
            rc = ngx_http_statsig_sink_secret(cf, name, &key, &value,
                                              &vc->site_id);

        } else if (vendor == NGX_HTTP_STATSIG_CUSTOMERIO && key.len == 6
                   && ngx_strncmp(key.data, "region", 6) == 0)
        {
            region = value;
            rc = NGX_OK;

        } else if (vendor == NGX_HTTP_STATSIG_CUSTOMERIO && key.len == 5
                   && ngx_strncmp(key.data, "batch", 5) == 0
                   && ((value.len == 2
                        && ngx_strncmp(value.data, "on", 2) == 0)
                       || (value.len == 3
                           && ngx_strncmp(value.data, "off", 3) == 0)))
        {
            batch = (value.len == 2);
            rc = NGX_OK;

        } else if (vendor == NGX_HTTP_STATSIG_GAINSIGHT_PX && key.len == 11
                   && ngx_strncmp(key.data, "product_key", 11) == 0
                   && value.len)
        {
            vc->product = value;
            rc = NGX_OK;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in "
                               "\"statsig_sink %s\"", &args[i], name);
            return NGX_CONF_ERROR;
        }

        if (rc != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (!ngx_http_statsig_secret_set(&vc->api_key)
        || (vendor == NGX_HTTP_STATSIG_CUSTOMERIO
            && !ngx_http_statsig_secret_set(&vc->site_id))
        || (vendor == NGX_HTTP_STATSIG_GAINSIGHT_PX && vc->product.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"statsig_sink %s\" needs %s", name,
                           vendor == NGX_HTTP_STATSIG_CUSTOMERIO
                           ? "site_id= and api_key="
                           : "api_key= and product_key=");
        return NGX_CONF_ERROR;
    }

    if (vendor == NGX_HTTP_STATSIG_CUSTOMERIO
        && ngx_http_statsig_customerio_urls(cf, vc, dflt, &region, batch)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    smcf->sinks[index] = vc;

    return NGX_CONF_OK;
}


/*
 * Customer.io's v1 base from region= (the EU workspaces' host) unless
 * url= named it, and the v2 batch URL beside it: ".../v1" becomes
 * ".../v2/batch".
 */

static char *
ngx_http_statsig_customerio_urls(ngx_conf_t *cf,
    ngx_http_statsig_vendor_conf_t *vc, u_char *dflt, ngx_str_t *region,
    ngx_uint_t batch)
{
    u_char     *p;
    ngx_str_t  *url;

    url = &vc->common.url;

    if (region->data) {
        if (url->data != dflt) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"statsig_sink customerio\" takes url= or "
                               "region=, not both");
            return NGX_CONF_ERROR;
        }

        if (region->len == 2 && ngx_strncmp(region->data, "us", 2) == 0) {
            ngx_str_set(url, "https://track.customer.io/api/v1");

        } else if (region->len == 2
                   && ngx_strncmp(region->data, "eu", 2) == 0)
        {
            ngx_str_set(url, "https://track-eu.customer.io/api/v1");

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"region=%V\" in \"statsig_sink "
                               "customerio\", expected us or eu", region);
            return NGX_CONF_ERROR;
        }
    }

    if (!batch) {
        return NGX_CONF_OK;
    }

    if (url->len < 3 || ngx_strncmp(url->data + url->len - 3, "/v1", 3) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"statsig_sink customerio\" url=%V does not "
                           "end in /v1, so its Track v2 batch URL is not "
                           "known; give batch=off to post events one by "
                           "one", url);
        return NGX_CONF_ERROR;
    }

    vc->batch_url.len = url->len - 3 + sizeof("/v2/batch") - 1;
    vc->batch_url.data = ngx_pnalloc(cf->pool, vc->batch_url.len);
    if (vc->batch_url.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(vc->batch_url.data, url->data, url->len - 3);
    ngx_memcpy(p, "/v2/batch", sizeof("/v2/batch") - 1);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_statsig_vendor_init(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_main_conf_t *smcf)
{
    ngx_uint_t                       vendor;
    ngx_http_statsig_vendor_t       *v;
    ngx_http_statsig_vendor_conf_t  *vc;

    vc = smcf->sinks[sink->index];

    if (vc == NULL) {
        return NGX_DECLINED;
    }

    vendor = (sink->type == &ngx_http_statsig_sink_customerio)
             ? NGX_HTTP_STATSIG_CUSTOMERIO : NGX_HTTP_STATSIG_GAINSIGHT_PX;

    sink->url = vc->common.url;
    sink->batch_url = vc->batch_url;
    sink->kinds = vc->common.kinds;
    sink->rate = vc->common.rate;

    if (vc->batch_url.len == 0) {
        /* one event a request */
        sink->batch = 1;
        sink->limit = 1;
    }

    /* init_zone asks too, in the master: nothing here allocates */

    v = &ngx_http_statsig_vendors[vendor];

    ngx_memzero(v, sizeof(ngx_http_statsig_vendor_t));

    v->vendor = vendor;
    v->conf = vc;

    statsig_buf_init(&v->path);
    statsig_buf_init(&v->body);

    v->opts.events = ((sink->kinds & NGX_HTTP_STATSIG_EV_CUSTOM)
                      ? STATSIG_SINK_EVENTS_CUSTOM : 0)
                     | ((sink->kinds & NGX_HTTP_STATSIG_EV_EXPOSURE)
                        ? STATSIG_SINK_EVENTS_EXPOSURES : 0);
    v->opts.product_key = (char *) vc->product.data;
    v->opts.product_key_len = vc->product.len;

    sink->data = v;

    return NGX_OK;
}


/* the keys, once they can be read: the auth header made once */

static ngx_int_t
ngx_http_statsig_vendor_ready(ngx_http_statsig_sink_t *sink)
{
    u_char                     *p;
    size_t                      len;
    ngx_str_t                   key, site, plain, b64;
    ngx_http_statsig_vendor_t  *v;

    v = sink->data;

    if (v->auth.len) {
        return NGX_OK;
    }

    if (ngx_http_statsig_secret_get(&v->conf->api_key, ngx_cycle->log, &key)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (v->vendor == NGX_HTTP_STATSIG_GAINSIGHT_PX) {
        len = sizeof("X-APTRINSIC-API-KEY: ") - 1 + key.len;

        p = ngx_alloc(len, ngx_cycle->log);
        if (p == NULL) {
            return NGX_DECLINED;
        }

        v->auth.data = p;
        p = ngx_cpymem(p, "X-APTRINSIC-API-KEY: ",
                       sizeof("X-APTRINSIC-API-KEY: ") - 1);
        p = ngx_cpymem(p, key.data, key.len);
        v->auth.len = p - v->auth.data;

        return NGX_OK;
    }

    if (ngx_http_statsig_secret_get(&v->conf->site_id, ngx_cycle->log, &site)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* HTTP Basic, site_id:api_key */

    plain.len = site.len + 1 + key.len;
    len = sizeof("Authorization: Basic ") - 1 + ngx_base64_encoded_length(
                                                               plain.len);

    plain.data = ngx_alloc(plain.len, ngx_cycle->log);
    if (plain.data == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_cpymem(plain.data, site.data, site.len);
    *p++ = ':';
    ngx_memcpy(p, key.data, key.len);

    v->auth.data = ngx_alloc(len, ngx_cycle->log);

    if (v->auth.data) {
        p = ngx_cpymem(v->auth.data, "Authorization: Basic ",
                       sizeof("Authorization: Basic ") - 1);

        b64.data = p;
        ngx_encode_base64(&b64, &plain);

        v->auth.len = p + b64.len - v->auth.data;
    }

    ngx_explicit_memzero(plain.data, plain.len);
    ngx_free(plain.data);

    return v->auth.len ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_statsig_vendor_headers(ngx_http_statsig_sink_t *sink, ngx_uint_t n,
    ngx_uint_t attempt, ngx_array_t *headers, ngx_pool_t *pool)
{
    ngx_str_t                  *h;
    ngx_http_statsig_vendor_t  *v;

    v = sink->data;

    h = ngx_array_push_n(headers, 2);
    if (h == NULL) {
        return NGX_ERROR;
    }

    /* the client copies the headers when the request starts */
    h[0] = v->auth;
    ngx_str_set(&h[1], "Content-Type: application/json");

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_vendor_format(ngx_http_statsig_sink_t *sink, u_char *event,
    size_t len, ngx_str_t *path, ngx_str_t *body, u_char **err)
{
    int                         rc;
    ngx_http_statsig_vendor_t  *v;

    v = sink->data;

    if (len && event[0] == NGX_HTTP_STATSIG_RELAYED) {
        /* checked when it was relayed: as it is */
        path->data = event + 1;
        path->len = ngx_strlchr(event, event + len, '\n') - path->data;
        body->data = path->data + path->len + 1;
        body->len = event + len - body->data;

        return NGX_OK;
    }

    if (ngx_http_statsig_vendor_fmt(v) != NGX_OK) {
        *err = NULL;
        return NGX_ERROR;
    }

    v->path.len = 0;
    v->path.failed = 0;
    v->body.len = 0;
    v->body.failed = 0;
    v->opts.now_ms = (int64_t) ngx_http_statsig_now_ms();

    if (v->vendor == NGX_HTTP_STATSIG_CUSTOMERIO) {
        rc = statsig_sink_customerio_v1(&v->fmt, (char *) event, len,
                                        &v->opts, &v->path, &v->body,
                                        v->err, sizeof(v->err));

    } else {
        ngx_str_set(path, STATSIG_SINK_GPX_PATH);

        rc = statsig_sink_gainsight_px(&v->fmt, (char *) event, len,
                                       &v->opts, &v->body, v->err,
                                       sizeof(v->err));
    }

    switch (rc) {

    case STATSIG_SINK_OK:
        if (v->vendor == NGX_HTTP_STATSIG_CUSTOMERIO) {
            path->data = (u_char *) v->path.data;
            path->len = v->path.len;
        }

        body->data = (u_char *) v->body.data;
        body->len = v->body.len;

        return NGX_OK;

    case STATSIG_SINK_SKIP:
        return NGX_DECLINED;

    case STATSIG_SINK_INVALID:
        *err = (u_char *) v->err;
        return NGX_ERROR;

    default:
        *err = NULL;
        return NGX_ERROR;
    }
}


static ngx_int_t
ngx_http_statsig_vendor_relay(ngx_http_statsig_sink_t *sink,
    ngx_str_t *identifier, ngx_str_t *body, statsig_buf_t *record,
    const char **msg)
{
    int                         rc;
    int64_t                     now;
    ngx_http_statsig_vendor_t  *v;

    v = sink->data;
    *msg = NULL;

    if (ngx_http_statsig_vendor_fmt(v) != NGX_OK) {
        return NGX_ERROR;
    }

    now = (int64_t) ngx_http_statsig_now_ms();

    v->body.len = 0;
    v->body.failed = 0;

    statsig_buf_addc(record, NGX_HTTP_STATSIG_RELAYED);

    if (v->vendor == NGX_HTTP_STATSIG_CUSTOMERIO) {
        v->path.len = 0;
        v->path.failed = 0;

        rc = statsig_relay_customerio(&v->fmt,
                                      identifier
                                      ? (char *) identifier->data : NULL,
                                      identifier ? identifier->len : 0,
                                      (char *) body->data, body->len, now,
                                      &v->path, &v->body, v->err,
                                      sizeof(v->err));

        if (rc == STATSIG_SINK_OK) {
            statsig_buf_add(record, v->path.data, v->path.len);
        }

    } else {
        rc = statsig_relay_gainsight_px(&v->fmt, (char *) body->data,
                                        body->len,
                                        (char *) v->conf->product.data,
                                        v->conf->product.len, now, &v->body,
                                        v->err, sizeof(v->err));

        if (rc == STATSIG_SINK_OK) {
            statsig_buf_adds(record, STATSIG_SINK_GPX_PATH);
        }
    }

    if (rc == STATSIG_SINK_INVALID) {
        *msg = v->err;
        return NGX_ERROR;
    }

    if (rc != STATSIG_SINK_OK) {
        return NGX_ERROR;
    }

    statsig_buf_addc(record, '\n');
    statsig_buf_add(record, v->body.data, v->body.len);

    return record->failed ? NGX_ERROR : NGX_OK;
}


/* the formatter's memory, made at the first event or relay */

static ngx_int_t
ngx_http_statsig_vendor_fmt(ngx_http_statsig_vendor_t *v)
{
    if (!v->fmt_ready) {
        if (statsig_sink_fmt_init(&v->fmt) != 0) {
            return NGX_ERROR;
        }

        v->fmt_ready = 1;
    }

    return NGX_OK;
}


static void
ngx_http_statsig_vendor_exit(ngx_http_statsig_sink_t *sink)
{
    ngx_http_statsig_vendor_t  *v;

    v = sink->data;

    if (v == NULL) {
        return;
    }

    if (v->auth.data) {
        ngx_explicit_memzero(v->auth.data, v->auth.len);
        ngx_free(v->auth.data);
        v->auth.data = NULL;
        v->auth.len = 0;
    }

    ngx_http_statsig_secret_free(&v->conf->api_key);
    ngx_http_statsig_secret_free(&v->conf->site_id);

    if (v->fmt_ready) {
        statsig_sink_fmt_free(&v->fmt);
        v->fmt_ready = 0;
    }

    statsig_buf_free(&v->path);
    statsig_buf_free(&v->body);

    sink->data = NULL;
}


/* Customer.io v2: an event as an item of a batch */

static ngx_int_t
ngx_http_statsig_customerio_item(ngx_http_statsig_sink_t *sink,
    u_char *event, size_t len, statsig_buf_t *out, u_char **err)
{
    int                         rc;
    ngx_http_statsig_vendor_t  *v;

    v = sink->data;
    *err = NULL;

    if (len && event[0] == NGX_HTTP_STATSIG_RELAYED) {
        /* a v1 request, made when it was relayed */
        return NGX_AGAIN;
    }

    if (ngx_http_statsig_vendor_fmt(v) != NGX_OK) {
        return NGX_ERROR;
    }

    v->opts.now_ms = (int64_t) ngx_http_statsig_now_ms();

    rc = statsig_sink_customerio_v2_item(&v->fmt, (char *) event, len,
                                         &v->opts, out, v->err,
                                         sizeof(v->err));

    switch (rc) {

    case STATSIG_SINK_OK:
        return NGX_OK;

    case STATSIG_SINK_SKIP:
        /* v2 has no anonymous event: v1 posts it */
        return (v->fmt.route == STATSIG_SINK_ROUTE_ANONYMOUS) ? NGX_AGAIN
                                                              : NGX_DECLINED;

    case STATSIG_SINK_INVALID:
        *err = (u_char *) v->err;
        return NGX_ERROR;

    default:
        return NGX_ERROR;
    }
}


static void
ngx_http_statsig_customerio_envelope(ngx_http_statsig_sink_t *sink,
    ngx_str_t *prefix, ngx_str_t *suffix)
{
    ngx_str_set(prefix, STATSIG_SINK_CIO_V2_PREFIX);
    ngx_str_set(suffix, STATSIG_SINK_CIO_V2_SUFFIX);
}


/*
 * A 207 to a v2 batch: the items it names were refused (validation: a
 * resend would be refused again), the others delivered.  A 207 that
 * cannot be read is taken as delivered: resending would be refused the
 * same way, and Customer.io keeps one of each id.
 */

static ngx_int_t
ngx_http_statsig_customerio_accepted(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_http_res_t *res, ngx_uint_t n, ngx_uint_t *refused,
    u_char *reason, size_t size)
{
    int                          rc;
    size_t                       k;
    ngx_http_statsig_vendor_t   *v;
    statsig_sink_cio_failure_t   first;

    v = sink->data;
    *refused = 0;

    if (res->status != 207 || n == 0) {
        return NGX_OK;
    }

    if (ngx_http_statsig_vendor_fmt(v) != NGX_OK) {
        return NGX_OK;
    }

    rc = statsig_sink_customerio_v2_failures(&v->fmt,
                                             (char *) res->body.data,
                                             res->body.len, n, &first, 1,
                                             &k, v->err, sizeof(v->err));

    if (rc != STATSIG_SINK_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "statsig: events sink \"customerio\": a 207 answer "
                      "that cannot be read (%s); its %ui events taken as "
                      "delivered", v->err, n);
        return NGX_OK;
    }

    *refused = k;

    if (k) {
        (void) ngx_snprintf(reason, size - 1, "item %uz: %s%Z", first.index,
                            first.reason);
    }

    return NGX_OK;
}
