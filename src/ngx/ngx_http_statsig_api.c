
/*
 * ngx_http_statsig_module: statsig_api, a local Statsig-compatible HTTP
 * API evaluated at the edge.
 *
 *   location /statsig/ { statsig_api; }
 *
 * serves POST .../v1/check_gate, check_gate_multiple, get_config,
 * get_experiment, get_layer, initialize, log_event and GET or POST
 * .../v1/download_config_specs[/<key>.json] (ngx_http_statsig_api_dcs.c,
 * which also serves .../v2/download_config_specs[/<key>.json], DCS v2):
 * the method is the path after the last "/v1/", whatever the location's
 * prefix; and the relays: .../v1/log-event (to Statsig), .../v1/
 * customers/{id}/events, .../v1/events (Customer.io), .../v1/custom-events
 * (Gainsight PX) (ngx_http_statsig_api_relay.c).  Every request carries
 * the key in "statsig-api-key" (the DCS may carry it in the path instead;
 * HTTP Basic with the key as the password is taken too, as a vendor's
 * client library sends it): statsig_api_key, or the server key when there
 * is none.
 *
 * A body is read whole (at most NGX_HTTP_STATSIG_API_MAX_BODY bytes,
 * gunzipped when it says Content-Encoding: gzip), parsed into request pool
 * memory, and answered on the snapshot pinned for the request.  Checks log
 * exposures through the module's exposure path (statsig_exposures,
 * dedupe), as the SDK methods do; the client initialize response logs
 * none; log_event relays the caller's events into the event queue.
 */


#include "ngx_http_statsig_api.h"
#include "ngx_http_statsig_events.h"
#include "ngx_http_statsig_id.h"
#include "ngx_http_statsig_response.h"

#include "exposure.h"
#include "initialize.h"
#include "user.h"

#include <openssl/crypto.h>
#include <zlib.h>




typedef struct {
    ngx_str_t                      name;
    ngx_int_t                      endpoint;
} ngx_http_statsig_api_method_t;


static ngx_int_t ngx_http_statsig_api_method(ngx_http_request_t *r,
    ngx_str_t *path_key);
static ngx_int_t ngx_http_statsig_api_auth(ngx_http_request_t *r,
    ngx_str_t *path_key);
static ngx_int_t ngx_http_statsig_api_basic(ngx_http_request_t *r,
    ngx_str_t *value, ngx_str_t *key);
static void ngx_http_statsig_api_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_statsig_api_run(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api);
static ngx_int_t ngx_http_statsig_api_answer(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, ngx_int_t m, const statsig_value_t *json,
    int64_t client_time);
static void *ngx_http_statsig_api_zalloc(void *opaque, u_int items,
    u_int size);
static void ngx_http_statsig_api_zfree(void *opaque, void *address);
static void *ngx_http_statsig_api_palloc(void *data, size_t size);
static ngx_int_t ngx_http_statsig_api_prepare(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json,
    ngx_uint_t validate);
static void ngx_http_statsig_api_unpin(void *data);
static ngx_int_t ngx_http_statsig_api_gates(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json,
    ngx_uint_t multiple);
static void ngx_http_statsig_api_gate(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, statsig_buf_t *b, const statsig_value_t *n);
static ngx_int_t ngx_http_statsig_api_config(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json,
    ngx_uint_t experiment);
static ngx_int_t ngx_http_statsig_api_layer(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json);
static ngx_int_t ngx_http_statsig_api_initialize(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json);
static ngx_int_t ngx_http_statsig_api_log_event(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json, ngx_int_t m,
    int64_t client_time);
static void ngx_http_statsig_api_event_json(statsig_buf_t *b,
    const statsig_value_t *ev, int64_t skew, const statsig_value_t *user,
    const statsig_value_t *md);
static void ngx_http_statsig_api_event_md(statsig_buf_t *b,
    const statsig_value_t *own, const statsig_value_t *md);
static const statsig_value_t *ngx_http_statsig_api_name(
    ngx_http_statsig_api_t *api, const statsig_value_t *json, char *key,
    char *key2);
static ngx_uint_t ngx_http_statsig_api_true(const statsig_value_t *obj,
    char *key);
static const statsig_spec_t *ngx_http_statsig_api_eval(
    ngx_http_statsig_api_t *api, statsig_kind_e kind,
    const statsig_value_t *n, statsig_buf_t *b, statsig_result_t *res);
static void ngx_http_statsig_api_result(ngx_http_statsig_api_t *api,
    statsig_buf_t *b, statsig_result_t *res, ngx_uint_t value,
    ngx_uint_t group);
static void ngx_http_statsig_api_str(statsig_buf_t *b, statsig_str_t s);
static statsig_buf_t *ngx_http_statsig_api_buf(void);
static ngx_int_t ngx_http_statsig_api_done(ngx_http_statsig_api_t *api,
    ngx_uint_t status, statsig_buf_t *b);


static ngx_http_statsig_api_method_t  ngx_http_statsig_api_methods[] = {
    { ngx_string("check_gate"), NGX_HTTP_STATSIG_API_CHECK_GATE },
    { ngx_string("check_gate_multiple"), NGX_HTTP_STATSIG_API_CHECK_GATES },
    { ngx_string("get_config"), NGX_HTTP_STATSIG_API_GET_CONFIG },
    { ngx_string("get_experiment"), NGX_HTTP_STATSIG_API_GET_EXPERIMENT },
    { ngx_string("get_layer"), NGX_HTTP_STATSIG_API_GET_LAYER },
    { ngx_string("initialize"), NGX_HTTP_STATSIG_API_INITIALIZE },
    { ngx_string("log_event"), NGX_HTTP_STATSIG_API_LOG_EVENT },
    /* the browser SDK's name for it */
    { ngx_string("rgstr"), NGX_HTTP_STATSIG_API_LOG_EVENT },
    { ngx_string("download_config_specs"), NGX_HTTP_STATSIG_API_DCS },
    { ngx_string("get_id_lists"), NGX_HTTP_STATSIG_API_ID_LISTS },
    { ngx_string("log-event"), NGX_HTTP_STATSIG_API_RELAY_STATSIG },
    { ngx_string("events"), NGX_HTTP_STATSIG_API_RELAY_CIO_ANON },
    { ngx_string("custom-events"), NGX_HTTP_STATSIG_API_RELAY_GPX },
    { ngx_null_string, 0 }
};


/* per worker: responses are written here, then copied to the request */
static statsig_buf_t  ngx_http_statsig_api_out;



ngx_int_t
ngx_http_statsig_api_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc, m, cors;
    ngx_str_t  path_key, client_key;

    m = ngx_http_statsig_api_method(r, &path_key);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig api: method %i, body %O", m,
                   r->headers_in.content_length_n);

    /* the client paths answer browsers: CORS, on errors too */

    if (ngx_http_statsig_api_client_path(m)) {
        cors = ngx_http_statsig_api_cors(r);

        if (cors == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (r->method == NGX_HTTP_OPTIONS) {
            return ngx_http_statsig_api_preflight(r, cors);
        }

        if (cors == NGX_DECLINED) {
            rc = ngx_http_discard_request_body(r);
            if (rc != NGX_OK) {
                return rc;
            }

            return ngx_http_statsig_response_error(r, NGX_HTTP_FORBIDDEN,
                       "this Origin is not allowed (statsig_cors_origins)");
        }
    }

    /* an ID list's file: no key (the SDKs send none), a token in the path */

    if (m == NGX_HTTP_STATSIG_API_ID_LIST_FILE) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_statsig_response_error(r, NGX_HTTP_NOT_ALLOWED,
                       "an ID list file takes GET or HEAD");
        }

        return ngx_http_statsig_api_id_list_file(r, &path_key);
    }

    if (m == NGX_DECLINED
        || (ngx_http_statsig_api_is_dcs(m)
            ? !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))
            : !(r->method & NGX_HTTP_POST))
        || (ngx_http_statsig_api_auth(r, &path_key) != NGX_OK
            && !(ngx_http_statsig_api_client_path(m)
                 && ngx_http_statsig_api_client_auth(r, &client_key)
                    == NGX_OK)))
    {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (m == NGX_DECLINED) {
            return ngx_http_statsig_response_error(r, NGX_HTTP_NOT_FOUND,
                       "unknown method: the path must end with /v1/ and "
                       "one of check_gate, check_gate_multiple, get_config, "
                       "get_experiment, get_layer, initialize, log_event "
                       "(rgstr), download_config_specs (or /v2/ and "
                       "download_config_specs)");
        }

        if (!(r->method & NGX_HTTP_POST)
            && (!ngx_http_statsig_api_is_dcs(m)
                || !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))))
        {
            return ngx_http_statsig_response_error(r, NGX_HTTP_NOT_ALLOWED,
                       ngx_http_statsig_api_is_dcs(m)
                       ? "download_config_specs takes GET, HEAD or POST"
                       : "this method takes POST");
        }

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: no valid key: 401");

        return ngx_http_statsig_response_error(r, NGX_HTTP_UNAUTHORIZED,
                   ngx_http_statsig_api_client_path(m)
                   ? "a valid statsig-api-key header (or a client key, "
                     "statsig_client_key, in it or in ?k=) is required"
                   : "a valid statsig-api-key header is required");
    }

    if (m == NGX_HTTP_STATSIG_API_ID_LISTS) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_statsig_api_id_lists(r);
    }

    if (!(r->method & NGX_HTTP_POST)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_statsig_api_dcs(r, NULL,
                                        m == NGX_HTTP_STATSIG_API_DCS_V2);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_STATSIG_API_MAX_BODY) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_statsig_response_error(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                   "the body is larger than the API takes (4 MB)");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_statsig_api_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * the method: what follows the last "/v1/" of the URI (or "/v2/", where
 * only download_config_specs is)
 */

static ngx_int_t
ngx_http_statsig_api_method(ngx_http_request_t *r, ngx_str_t *path_key)
{
    u_char                         *p, *last, *m;
    size_t                          len;
    ngx_uint_t                      v2;
    ngx_http_statsig_api_method_t  *am;

    static u_char  dcs[] = "download_config_specs/";
    static u_char  cus[] = "/v1/customers/";
    static u_char  idf[] = "/v1/id_list_file/";

    ngx_str_null(path_key);

    m = NULL;
    last = r->uri.data + r->uri.len;

    /* an ID list's file: all after the first "/v1/id_list_file/" */

    p = ngx_strlcasestrn(r->uri.data, last, idf, sizeof(idf) - 2);

    if (p) {
        path_key->data = p + sizeof(idf) - 1;
        path_key->len = last - path_key->data;

        return NGX_HTTP_STATSIG_API_ID_LIST_FILE;
    }

    /*
     * Customer.io's path: the identifier (decoded, as the rest of the
     * URI) is all between the first "/v1/customers/" and the last
     * "/events", slashes included
     */

    p = ngx_strlcasestrn(r->uri.data, last, cus, sizeof(cus) - 2);

    if (p && last - p > (ssize_t) (sizeof(cus) - 1 + sizeof("/events") - 1)
        && ngx_strncmp(last - 7, "/events", 7) == 0)
    {
        path_key->data = p + sizeof(cus) - 1;
        path_key->len = last - 7 - path_key->data;

        return NGX_HTTP_STATSIG_API_RELAY_CIO;
    }

    v2 = 0;

    for (p = r->uri.data; p + 4 <= last; p++) {
        if (p[0] == '/' && p[1] == 'v' && (p[2] == '1' || p[2] == '2')
            && p[3] == '/')
        {
            m = p + 4;
            v2 = (p[2] == '2');
        }
    }

    if (m == NULL) {
        return NGX_DECLINED;
    }

    len = last - m;

    if (v2) {
        if (len == sizeof(dcs) - 2 && ngx_strncmp(m, dcs, len) == 0) {
            return NGX_HTTP_STATSIG_API_DCS_V2;
        }

    } else {
        for (am = ngx_http_statsig_api_methods; am->name.len; am++) {
            if (len == am->name.len
                && ngx_strncmp(m, am->name.data, len) == 0)
            {
                return am->endpoint;
            }
        }
    }

    /* download_config_specs/<key>.json: the SDKs' form */

    if (len > sizeof(dcs) - 1 + 5
        && ngx_strncmp(m, dcs, sizeof(dcs) - 1) == 0
        && ngx_strncmp(last - 5, ".json", 5) == 0)
    {
        path_key->data = m + sizeof(dcs) - 1;
        path_key->len = last - 5 - path_key->data;

        if (ngx_strlchr(path_key->data, last - 5, '/') == NULL) {
            return v2 ? NGX_HTTP_STATSIG_API_DCS_V2 : NGX_HTTP_STATSIG_API_DCS;
        }

        ngx_str_null(path_key);
    }

    return NGX_DECLINED;
}


/*
 * The statsig-api-key header (or the DCS path's key) must equal the key,
 * compared in constant time.  No key configured or loadable: nothing
 * passes.  The key is never logged nor echoed.
 */

static ngx_int_t
ngx_http_statsig_api_auth(ngx_http_request_t *r, ngx_str_t *path_key)
{
    ngx_str_t         key;
    ngx_table_elt_t  *h;

    if (ngx_http_statsig_api_key(r, &key) != NGX_OK || key.len == 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_statsig_api_key_equal(r, path_key) == NGX_OK) {
        return NGX_OK;
    }

    h = ngx_http_statsig_api_header(r, "statsig-api-key", 15);

    if (h && ngx_http_statsig_api_key_equal(r, &h->value) == NGX_OK) {
        return NGX_OK;
    }

    /*
     * Or HTTP Basic with the key as the password, the user anything: what
     * a vendor's client library sends when the key is given as its API
     * key and the edge as its URL (customerio-node's TrackClient)
     */

    h = r->headers_in.authorization;

    if (h && h->value.len > 6
        && ngx_strncasecmp(h->value.data, (u_char *) "Basic ", 6) == 0)
    {
        return ngx_http_statsig_api_basic(r, &h->value, &key);
    }

    return NGX_DECLINED;
}


/* "Basic base64(user:key)": the password part, compared in constant time */

static ngx_int_t
ngx_http_statsig_api_basic(ngx_http_request_t *r, ngx_str_t *value,
    ngx_str_t *key)
{
    u_char     *colon;
    ngx_int_t   rc;
    ngx_str_t   b64, plain;

    b64.data = value->data + 6;
    b64.len = value->len - 6;

    while (b64.len && b64.data[0] == ' ') {
        b64.data++;
        b64.len--;
    }

    plain.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(b64.len));
    if (plain.data == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_decode_base64(&plain, &b64) != NGX_OK) {
        return NGX_DECLINED;
    }

    colon = ngx_strlchr(plain.data, plain.data + plain.len, ':');

    rc = NGX_DECLINED;

    if (colon
        && (size_t) (plain.data + plain.len - colon - 1) == key->len
        && CRYPTO_memcmp(colon + 1, key->data, key->len) == 0)
    {
        rc = NGX_OK;
    }

    ngx_explicit_memzero(plain.data, plain.len);

    return rc;
}


/*
 * statsig_mcp's and statsig_ofrep's key: "Authorization: Bearer <key>" or
 * "statsig-api-key: <key>"; NGX_OK or NGX_DECLINED
 */

ngx_int_t
ngx_http_statsig_api_bearer(ngx_http_request_t *r)
{
    ngx_str_t         given;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h && h->value.len > 7
        && ngx_strncasecmp(h->value.data, (u_char *) "Bearer ", 7) == 0)
    {
        given.data = h->value.data + 7;
        given.len = h->value.len - 7;

        while (given.len && given.data[0] == ' ') {
            given.data++;
            given.len--;
        }

        if (ngx_http_statsig_api_key_equal(r, &given) == NGX_OK) {
            return NGX_OK;
        }
    }

    h = ngx_http_statsig_api_header(r, "statsig-api-key", 15);

    if (h && ngx_http_statsig_api_key_equal(r, &h->value) == NGX_OK) {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* statsig_api_key, or else the server key */

ngx_int_t
ngx_http_statsig_api_key(ngx_http_request_t *r, ngx_str_t *key)
{
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);

    return ngx_http_statsig_secret_get(
               ngx_http_statsig_secret_set(&smcf->api_key)
               ? &smcf->api_key : &smcf->server_key,
               r->connection->log, key);
}


/*
 * NGX_OK when given is the key (compared in constant time); never when no
 * key is configured or loadable
 */

ngx_int_t
ngx_http_statsig_api_key_equal(ngx_http_request_t *r, ngx_str_t *given)
{
    ngx_str_t  key;

    if (ngx_http_statsig_api_key(r, &key) != NGX_OK || key.len == 0) {
        return NGX_DECLINED;
    }

    if (given->len == key.len
        && CRYPTO_memcmp(given->data, key.data, key.len) == 0)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


ngx_table_elt_t *
ngx_http_statsig_api_header(ngx_http_request_t *r, char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


static void
ngx_http_statsig_api_body(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_statsig_api_t  *api;

    api = ngx_pcalloc(r->pool, sizeof(ngx_http_statsig_api_t));
    if (api == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_statsig_api_run(r, api);

    if (rc >= NGX_HTTP_BAD_REQUEST) {
        rc = ngx_http_statsig_response_error(r, rc, api->msg ? api->msg
                                               : "internal error");
    }

    ngx_http_finalize_request(r, rc);
}


/* NGX_OK (or the output's rc) when answered; an HTTP status with api->msg */

static ngx_int_t
ngx_http_statsig_api_run(ngx_http_request_t *r, ngx_http_statsig_api_t *api)
{
    int64_t           client_time;
    ngx_int_t         rc, m;
    ngx_str_t         body, path_key;
    statsig_alloc_t   a;
    statsig_value_t   json;
    ngx_table_elt_t  *h;

    m = ngx_http_statsig_api_method(r, &path_key);

    rc = ngx_http_statsig_api_read_body(r, NGX_HTTP_STATSIG_API_MAX_BODY,
                                        "the body is larger than the API "
                                        "takes (4 MB)", &body, &api->msg);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_statsig_api_client_path(m)) {
        rc = ngx_http_statsig_api_client_body(r, &body, &api->msg);
        if (rc != NGX_OK) {
            return rc;
        }

        /* a client key's request: its key's target apps, nothing else */
        if (ngx_http_statsig_api_auth(r, &path_key) != NGX_OK
            && ngx_http_statsig_api_client_auth(r, &api->client_key)
               != NGX_OK)
        {
            /* as the handler decided (it let the request in) */
            api->msg = "a valid key is required";
            return NGX_HTTP_UNAUTHORIZED;
        }
    }

    if (ngx_http_statsig_api_is_dcs(m) && body.len == 0) {
        return ngx_http_statsig_api_dcs(r, NULL,
                                        m == NGX_HTTP_STATSIG_API_DCS_V2);
    }

    /* the vendors' relays check their bodies as the vendors do */
    if (m >= NGX_HTTP_STATSIG_API_RELAY_CIO
        && m <= NGX_HTTP_STATSIG_API_RELAY_GPX)
    {
        return ngx_http_statsig_api_relay(r, m, &path_key, &body,
                                          &api->msg);
    }

    a.alloc = ngx_http_statsig_api_palloc;
    a.data = r->pool;

    if (statsig_value_from_json(&a, (char *) body.data, body.len, &json,
                                (char *) api->err, sizeof(api->err) - 32)
        != 0)
    {
        api->msg = (char *) api->err;
        return NGX_HTTP_BAD_REQUEST;
    }

    if (json.type != STATSIG_V_OBJECT) {
        api->msg = "the body must be a JSON object";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (ngx_http_statsig_api_is_dcs(m)) {
        return ngx_http_statsig_api_dcs(r, &json,
                                        m == NGX_HTTP_STATSIG_API_DCS_V2);
    }

    /*
     * /v1/log-event, the seeds' relay: the client's clock in
     * STATSIG-CLIENT-TIME (ms), against which its events' times are moved
     */

    client_time = 0;

    if (m == NGX_HTTP_STATSIG_API_RELAY_STATSIG) {
        h = ngx_http_statsig_api_header(r, "statsig-client-time", 19);
        client_time = h ? ngx_atoof(h->value.data, h->value.len) : NGX_ERROR;

        if (client_time <= 0) {
            api->msg = "the STATSIG-CLIENT-TIME header (ms) is required";
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    /*
     * log_event: the SDKs send their clock too (the server SDKs in
     * STATSIG-CLIENT-TIME, the browser SDK in ?t=); when it is there, the
     * events' times are moved by the skew as for log-event
     */

    if (m == NGX_HTTP_STATSIG_API_LOG_EVENT) {
        client_time = ngx_http_statsig_api_client_time(r);
    }

    rc = ngx_http_statsig_api_answer(r, api, m, &json, client_time);

    if (rc >= NGX_HTTP_BAD_REQUEST) {
        return rc;
    }

    return ngx_http_statsig_response_json(r, rc,
                                    (u_char *) ngx_http_statsig_api_out.data,
                                    ngx_http_statsig_api_out.len);
}


/*
 * What statsig_mcp's tools share with the API: method m (an evaluation,
 * log_event or log-event) on a parsed body.  The answer's JSON is in
 * *out, valid until the next call in this worker; or an HTTP status of
 * 400 or more with *msg.
 */

ngx_int_t
ngx_http_statsig_api_call(ngx_http_request_t *r, ngx_int_t m,
    const statsig_value_t *json, int64_t client_time, ngx_str_t *out,
    const char **msg)
{
    ngx_int_t                rc;
    ngx_http_statsig_api_t  *api;

    /* one per call: the user's exposure cache is keyed by its address */
    api = ngx_pcalloc(r->pool, sizeof(ngx_http_statsig_api_t));
    if (api == NULL) {
        *msg = "no memory";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_statsig_api_answer(r, api, m, json, client_time);

    if (rc >= NGX_HTTP_BAD_REQUEST) {
        *msg = api->msg ? api->msg : "internal error";
        return rc;
    }

    out->data = (u_char *) ngx_http_statsig_api_out.data;
    out->len = ngx_http_statsig_api_out.len;

    return rc;
}


/* the status (the answer in ngx_http_statsig_api_out), or an error's */

static ngx_int_t
ngx_http_statsig_api_answer(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, ngx_int_t m, const statsig_value_t *json,
    int64_t client_time)
{
    ngx_int_t  rc;

    if (json->type != STATSIG_V_OBJECT) {
        api->msg = "the body must be a JSON object";
        return NGX_HTTP_BAD_REQUEST;
    }

    switch (m) {

    case NGX_HTTP_STATSIG_API_LOG_EVENT:
    case NGX_HTTP_STATSIG_API_RELAY_STATSIG:
        return ngx_http_statsig_api_log_event(r, api, json, m, client_time);

    case NGX_HTTP_STATSIG_API_CHECK_GATE:
    case NGX_HTTP_STATSIG_API_CHECK_GATES:
    case NGX_HTTP_STATSIG_API_GET_CONFIG:
    case NGX_HTTP_STATSIG_API_GET_EXPERIMENT:
    case NGX_HTTP_STATSIG_API_GET_LAYER:
    case NGX_HTTP_STATSIG_API_INITIALIZE:
        break;

    default:
        api->msg = "not a method of the API";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_statsig_api_prepare(r, api, json,
                                      m != NGX_HTTP_STATSIG_API_INITIALIZE);
    if (rc != NGX_OK) {
        return rc;
    }

    switch (m) {

    case NGX_HTTP_STATSIG_API_CHECK_GATE:
    case NGX_HTTP_STATSIG_API_CHECK_GATES:
        return ngx_http_statsig_api_gates(r, api, json,
                                        m == NGX_HTTP_STATSIG_API_CHECK_GATES);

    case NGX_HTTP_STATSIG_API_GET_CONFIG:
    case NGX_HTTP_STATSIG_API_GET_EXPERIMENT:
        return ngx_http_statsig_api_config(r, api, json,
                                      m == NGX_HTTP_STATSIG_API_GET_EXPERIMENT);

    case NGX_HTTP_STATSIG_API_GET_LAYER:
        return ngx_http_statsig_api_layer(r, api, json);

    default: /* NGX_HTTP_STATSIG_API_INITIALIZE */
        return ngx_http_statsig_api_initialize(r, api, json);
    }
}


/*
 * The body, whole and contiguous in the request pool, gunzipped: at most
 * max bytes (else 413 with too_large), or an HTTP status with *msg.
 */

ngx_int_t
ngx_http_statsig_api_read_body(ngx_http_request_t *r, size_t max,
    const char *too_large, ngx_str_t *body, const char **msg)
{
    u_char           *p;
    off_t             len;
    ssize_t           n;
    ngx_buf_t        *b;
    ngx_chain_t      *cl;
    ngx_table_elt_t  *h;

    ngx_str_set(body, "");

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    if (len > (off_t) max) {
        *msg = too_large;
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    p = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last
                                                    - b->file_pos),
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                *msg = "cannot read the request body";
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += n;

        } else if (b->last > b->pos) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    body->len = p - body->data;

    h = ngx_http_statsig_api_header(r, "Content-Encoding", 16);

    if (h == NULL || (h->value.len == 8
                      && ngx_strncasecmp(h->value.data, (u_char *) "identity",
                                         8) == 0))
    {
        return NGX_OK;
    }

    if (h->value.len == 4
        && ngx_strncasecmp(h->value.data, (u_char *) "gzip", 4) == 0)
    {
        return ngx_http_statsig_api_gunzip(r, max, too_large, body, msg);
    }

    if (h->value.len == 4
        && ngx_strncasecmp(h->value.data, (u_char *) "zstd", 4) == 0)
    {
        return ngx_http_statsig_api_unzstd(r, max, too_large, body, msg);
    }

    *msg = "unsupported Content-Encoding (gzip, zstd or none)";

    return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
}


/*
 * gunzip in the request pool, at most max bytes.  Every member of a body
 * of several (concatenated gzip files, which gunzip reads whole): only
 * the first was read before.
 */

ngx_int_t
ngx_http_statsig_api_gunzip(ngx_http_request_t *r, size_t max,
    const char *too_large, ngx_str_t *body, const char **msg)
{
    int        rc;
    u_char    *out, *bigger;
    size_t     cap, len;
    z_stream   zs;

    ngx_memzero(&zs, sizeof(z_stream));

    zs.zalloc = ngx_http_statsig_api_zalloc;
    zs.zfree = ngx_http_statsig_api_zfree;
    zs.opaque = r->pool;

    if (inflateInit2(&zs, MAX_WBITS + 16) != Z_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cap = ngx_min(ngx_max(body->len * 4, 4096), max + 1);

    out = ngx_pnalloc(r->pool, cap + 1);
    if (out == NULL) {
        (void) inflateEnd(&zs);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    zs.next_in = body->data;
    zs.avail_in = (uInt) body->len;
    len = 0;

    for ( ;; ) {
        zs.next_out = out + len;
        zs.avail_out = (uInt) (cap - len);

        rc = inflate(&zs, Z_NO_FLUSH);

        /* not zs.total_out: inflateReset() zeroes it for the next member */
        len = cap - zs.avail_out;

        if (rc == Z_STREAM_END) {
            /* zeros after the last member are padding, as for gunzip */
            while (zs.avail_in && *zs.next_in == '\0') {
                zs.next_in++;
                zs.avail_in--;
            }

            if (zs.avail_in == 0) {
                break;
            }

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "statsig api: another gzip member, %uz bytes so "
                           "far", len);

            if (inflateReset(&zs) != Z_OK) {
                (void) inflateEnd(&zs);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            continue;
        }

        if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) {
            (void) inflateEnd(&zs);
            *msg = "the gzip body is broken";
            return NGX_HTTP_BAD_REQUEST;
        }

        if (zs.avail_out) {
            /* all input used, stream not ended */
            (void) inflateEnd(&zs);
            *msg = "the gzip body is truncated";
            return NGX_HTTP_BAD_REQUEST;
        }

        if (cap > max) {
            (void) inflateEnd(&zs);
            *msg = too_large;
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        cap = ngx_min(cap * 2, max + 1);

        bigger = ngx_pnalloc(r->pool, cap + 1);
        if (bigger == NULL) {
            (void) inflateEnd(&zs);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(bigger, out, len);
        out = bigger;
    }

    body->data = out;
    body->len = len;

    (void) inflateEnd(&zs);

    return NGX_OK;
}


static void *
ngx_http_statsig_api_zalloc(void *opaque, u_int items, u_int size)
{
    return ngx_palloc(opaque, (size_t) items * size);
}


static void
ngx_http_statsig_api_zfree(void *opaque, void *address)
{
    /* the request pool frees it */
}


static void *
ngx_http_statsig_api_palloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


/*
 * The user from the body (validated as the SDK's check methods do, except
 * for initialize, which statsig-node answers for any user), and the
 * snapshot pinned until the request ends.
 */

static ngx_int_t
ngx_http_statsig_api_prepare(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json,
    ngx_uint_t validate)
{
    ngx_int_t               rc;
    statsig_alloc_t         a;
    statsig_value_t        *own;
    const statsig_value_t  *user, *md;

    user = statsig_value_get(json, "user", 4);

    if (user == NULL || user->type != STATSIG_V_OBJECT) {
        api->msg = "\"user\" must be an object";
        return NGX_HTTP_BAD_REQUEST;
    }

    md = statsig_value_get(json, "statsigMetadata", 15);

    /*
     * initialize: a client SDK's stable ID, sent beside the user, is the
     * user's customIDs.stableID when it has none, as for Statsig
     */

    if (!validate) {
        own = ngx_palloc(r->pool, sizeof(statsig_value_t));
        if (own == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        a.alloc = ngx_http_statsig_api_palloc;
        a.data = r->pool;

        rc = statsig_user_with_stable_id(&a, user,
                                         statsig_value_get(md, "stableID", 8),
                                         own);
        if (rc < 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == 1) {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "statsig api: statsigMetadata.stableID taken");
            user = own;
        }
    }

    rc = ngx_http_statsig_api_user(r, api, user, validate);
    if (rc != NGX_OK) {
        return rc;
    }

    /* exposures: statsig_exposures here, and the caller's wish */

    api->expose = api->expose
                  && !ngx_http_statsig_api_true(json,
                                                "disableExposureLogging")
                  && !ngx_http_statsig_api_true(md,
                                                "exposureLoggingDisabled");

    return NGX_OK;
}


/*
 * What statsig_ofrep shares with the API: a request's evaluation for the
 * user (an object; validated as statsig-node validates when asked), the
 * snapshot pinned until the request ends, exposures as statsig_exposures
 * says here.  NGX_OK, or an HTTP status with api->msg.
 */

ngx_int_t
ngx_http_statsig_api_user(ngx_http_request_t *r, ngx_http_statsig_api_t *api,
    const statsig_value_t *user, ngx_uint_t validate)
{
    const char                   *e;
    ngx_pool_cleanup_t           *cln;
    ngx_http_statsig_ctx_t       *sctx;
    ngx_http_statsig_loc_conf_t  *slcf;

    if (validate) {
        e = statsig_user_validate(user);
        if (e) {
            api->msg = e;
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    api->user = *user;
    sctx = &api->sctx;
    sctx->pool = r->pool;       /* no room of its own: the pool serves */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_statsig_view_acquire(&sctx->view) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->pinned = 1;
    cln->handler = ngx_http_statsig_api_unpin;
    cln->data = sctx;

    if (sctx->view.snap == NULL) {
        api->msg = "no specs are loaded yet";
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    sctx->eval.rt = ngx_http_statsig_runtime();

    if (sctx->eval.rt == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sctx->eval.snap = sctx->view.snap;
    sctx->eval.idlists = sctx->view.idlists;
    sctx->eval.user = &api->user;
    sctx->ready = 1;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);
    api->expose = slcf->exposures;

    return NGX_OK;
}


static void
ngx_http_statsig_api_unpin(void *data)
{
    ngx_http_statsig_ctx_t  *sctx = data;

    if (sctx->pinned) {
        sctx->pinned = 0;
        ngx_http_statsig_view_release(&sctx->view);
    }
}


/*
 * check_gate {"user", "gateName"}  -> {"name","value","rule_id",
 *                                      "group_name"}
 * check_gate {"user", "gateNames"} and check_gate_multiple
 *                                  -> {"<name>": {...}, ...}
 */

static ngx_int_t
ngx_http_statsig_api_gates(ngx_http_request_t *r, ngx_http_statsig_api_t *api,
    const statsig_value_t *json, ngx_uint_t multiple)
{
    size_t                  i, j;
    statsig_buf_t          *b;
    const statsig_value_t  *names, *n;

    names = statsig_value_get(json, "gateNames", 9);

    if (!multiple && names == NULL) {
        n = ngx_http_statsig_api_name(api, json, "gateName", NULL);
        if (n == NULL) {
            return NGX_HTTP_BAD_REQUEST;
        }

        b = ngx_http_statsig_api_buf();
        ngx_http_statsig_api_gate(r, api, b, n);

        return ngx_http_statsig_api_done(api, NGX_HTTP_OK, b);
    }

    if (names == NULL || names->type != STATSIG_V_ARRAY) {
        api->msg = "\"gateNames\" must be an array of gate names";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (names->n > NGX_HTTP_STATSIG_API_MAX_NAMES) {
        api->msg = "\"gateNames\" has more than 1000 names";
        return NGX_HTTP_BAD_REQUEST;
    }

    for (i = 0; i < names->n; i++) {
        n = &names->items[i];

        if (n->type != STATSIG_V_STRING || n->len == 0) {
            api->msg = "\"gateNames\" must hold non-empty strings";
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    b = ngx_http_statsig_api_buf();
    statsig_buf_addc(b, '{');

    for (i = 0; i < names->n; i++) {
        n = &names->items[i];

        /* a name asked twice is answered (and exposed) once */
        for (j = 0; j < i; j++) {
            if (names->items[j].len == n->len
                && ngx_memcmp(names->items[j].str, n->str, n->len) == 0)
            {
                break;
            }
        }

        if (j < i) {
            continue;
        }

        if (b->len > 1) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_json_str(b, n->str, n->len);
        statsig_buf_addc(b, ':');
        ngx_http_statsig_api_gate(r, api, b, n);
    }

    statsig_buf_addc(b, '}');

    return ngx_http_statsig_api_done(api, NGX_HTTP_OK, b);
}


static void
ngx_http_statsig_api_gate(ngx_http_request_t *r, ngx_http_statsig_api_t *api,
    statsig_buf_t *b, const statsig_value_t *n)
{
    statsig_result_t      res;
    const statsig_spec_t  *spec;

    spec = ngx_http_statsig_api_eval(api, STATSIG_KIND_GATE, n, b, &res);
    statsig_buf_adds(b, res.value ? ",\"value\":true" : ",\"value\":false");
    ngx_http_statsig_api_result(api, b, &res, 0, 0);
    statsig_buf_addc(b, '}');

    /* statsig-node logs unrecognized gates too */
    ngx_http_statsig_api_expose(r, api, STATSIG_KIND_GATE, spec, n, NULL,
                                &res);
}


/*
 * get_config {"user", "configName"}, get_experiment {"user",
 * "experimentName" or "configName"}
 *     -> {"name","value","group","rule_id","group_name"}
 */

static ngx_int_t
ngx_http_statsig_api_config(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json,
    ngx_uint_t experiment)
{
    statsig_buf_t          *b;
    statsig_result_t        res;
    const statsig_spec_t   *spec;
    const statsig_value_t  *n;

    n = ngx_http_statsig_api_name(api, json, "configName",
                                  experiment ? "experimentName" : NULL);
    if (n == NULL) {
        return NGX_HTTP_BAD_REQUEST;
    }

    b = ngx_http_statsig_api_buf();
    spec = ngx_http_statsig_api_eval(api, STATSIG_KIND_CONFIG, n, b, &res);
    ngx_http_statsig_api_result(api, b, &res, 1, 1);
    statsig_buf_addc(b, '}');

    /* statsig-node's getConfig logs unrecognized configs too */
    ngx_http_statsig_api_expose(r, api, STATSIG_KIND_CONFIG, spec, n, NULL,
                                &res);

    return ngx_http_statsig_api_done(api, NGX_HTTP_OK, b);
}


/*
 * get_layer {"user", "layerName", "parameters"?: [...]}
 *     -> {"name","value","rule_id","group_name",
 *         "allocated_experiment_name"}
 *
 * A layer logs nothing by itself (as Layer objects do until get()); the
 * caller names in "parameters" the parameters it reads, and each logs its
 * layer exposure (none when the layer has no such parameter).
 */

static ngx_int_t
ngx_http_statsig_api_layer(ngx_http_request_t *r, ngx_http_statsig_api_t *api,
    const statsig_value_t *json)
{
    size_t                  i;
    statsig_str_t           s;
    statsig_buf_t          *b;
    statsig_result_t        res;
    const statsig_spec_t   *spec;
    const statsig_value_t  *n, *params;

    n = ngx_http_statsig_api_name(api, json, "layerName", NULL);
    if (n == NULL) {
        return NGX_HTTP_BAD_REQUEST;
    }

    params = statsig_value_get(json, "parameters", 10);

    if (params && params->type != STATSIG_V_ARRAY) {
        api->msg = "\"parameters\" must be an array of parameter names";
        return NGX_HTTP_BAD_REQUEST;
    }

    for (i = 0; params && i < params->n; i++) {
        if (params->items[i].type != STATSIG_V_STRING) {
            api->msg = "\"parameters\" must hold strings";
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    b = ngx_http_statsig_api_buf();
    spec = ngx_http_statsig_api_eval(api, STATSIG_KIND_LAYER, n, b, &res);
    ngx_http_statsig_api_result(api, b, &res, 1, 0);
    statsig_buf_adds(b, ",\"allocated_experiment_name\":");

    if (res.delegate) {
        s = statsig_spec_name(api->sctx.eval.snap, res.delegate);
        ngx_http_statsig_api_str(b, s);

    } else {
        statsig_buf_adds(b, "null");
    }

    statsig_buf_addc(b, '}');

    for (i = 0; params && i < params->n; i++) {
        ngx_http_statsig_api_expose(r, api, STATSIG_KIND_LAYER, spec, n,
                                    &params->items[i], &res);
    }

    return ngx_http_statsig_api_done(api, NGX_HTTP_OK, b);
}


/*
 * initialize {"user", "hash"?: "djb2"|"sha256"|"none", "clientKey"?}
 *     -> statsig-node's getClientInitializeResponse(user, clientKey,
 *        {hash})
 *
 * With a client key (statsig_client_key) the key is the request's, the
 * body's "clientKey" is not looked at.  The browser SDK's "sinceTime",
 * "previousDerivedFields", "deltasResponseRequested" and "full_checksum"
 * are not either: the whole answer every time ("has_updates":true), as
 * ID lists, the clock (current_time conditions) and the country table
 * change answers without changing the specs' time, so that an answer
 * "nothing changed since sinceTime" could be wrong.
 */

static ngx_int_t
ngx_http_statsig_api_initialize(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json)
{
    statsig_buf_t              *b;
    const statsig_value_t      *h, *ck;
    statsig_initialize_opts_t   opts;

    ngx_memzero(&opts, sizeof(statsig_initialize_opts_t));

    h = statsig_value_get(json, "hash", 4);

    if (statsig_value_nullish(h)) {
        opts.hash = STATSIG_HASH_DJB2;

    } else if (h->type == STATSIG_V_STRING && h->len == 4
               && ngx_strncmp(h->str, "djb2", 4) == 0)
    {
        opts.hash = STATSIG_HASH_DJB2;

    } else if (h->type == STATSIG_V_STRING && h->len == 6
               && ngx_strncmp(h->str, "sha256", 6) == 0)
    {
        opts.hash = STATSIG_HASH_SHA256;

    } else if (h->type == STATSIG_V_STRING && h->len == 4
               && ngx_strncmp(h->str, "none", 4) == 0)
    {
        opts.hash = STATSIG_HASH_NONE;

    } else {
        api->msg = "\"hash\" must be \"djb2\", \"sha256\" or \"none\"";
        return NGX_HTTP_BAD_REQUEST;
    }

    ck = statsig_value_get(json, "clientKey", 9);

    if (!statsig_value_nullish(ck)) {
        if (ck->type != STATSIG_V_STRING) {
            api->msg = "\"clientKey\" must be a string";
            return NGX_HTTP_BAD_REQUEST;
        }

        opts.client_key = ck->str;
        opts.client_key_len = ck->len;
    }

    /* a client SDK's request: the apps of the key it came with, only */
    if (api->client_key.len) {
        opts.client_key = (char *) api->client_key.data;
        opts.client_key_len = api->client_key.len;
    }

    opts.session_id = (char *) ngx_http_statsig_session_id()->data;
    opts.random = (double) (ngx_random() & 0x7fffffff) / 2147483648.0;

    b = ngx_http_statsig_api_buf();

    if (statsig_initialize_response(&api->sctx.eval, &opts, b) != 0) {
        api->msg = "no memory for the response";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_statsig_api_done(api, NGX_HTTP_OK, b);
}


/*
 * log_event {"events": [{"eventName", "user", ...}, ...],
 *            "statsigMetadata"?: {...}}
 *     -> 202 {"success":true}
 *
 * Each event goes to the event queue as it came, but for its user's
 * privateAttributes, which are dropped.  The batch is checked whole
 * before anything is queued.  Needs no specs.
 *
 * What the client said of itself in the request's statsigMetadata goes
 * with each event: its stable ID as the user's customIDs.stableID when
 * the user has none, and its sdkType, sdkVersion and sessionID in the
 * event's own statsigMetadata.  The module's batches mix the events of
 * many clients and its own under one envelope (the module's SDK type),
 * so each event carries its client's.
 */

static ngx_int_t
ngx_http_statsig_api_log_event(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *json, ngx_int_t m,
    int64_t client_time)
{
    size_t                  i;
    int64_t                 skew;
    ngx_int_t               rc;
    ngx_str_t               record;
    ngx_uint_t              kind, only;
    statsig_buf_t          *b;
    statsig_alloc_t         a;
    statsig_value_t         own;
    const statsig_value_t  *events, *ev, *name, *md, *sid, *user;

    skew = 0;
    only = 0;

    /*
     * The times moved by the client's clock skew (its STATSIG-CLIENT-TIME
     * against ours), as Statsig's own API does with the header: log-event
     * requires it, log_event when the client sends it (the SDKs do).
     * /v1/log-event, the seeds' relay, goes to Statsig alone.
     */

    if (client_time > 0) {
        skew = (int64_t) ngx_http_statsig_now_ms() - client_time;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: client clock skew %L ms", skew);
    }

    if (m == NGX_HTTP_STATSIG_API_RELAY_STATSIG) {
        only = NGX_HTTP_STATSIG_EV_SINKS(1 << ngx_http_statsig_sink_index(
                                                 "statsig"));
    }

    events = statsig_value_get(json, "events", 6);

    if (events == NULL || events->type != STATSIG_V_ARRAY) {
        api->msg = "\"events\" must be an array";
        return NGX_HTTP_BAD_REQUEST;
    }

    for (i = 0; i < events->n; i++) {
        ev = &events->items[i];
        name = statsig_value_get(ev, "eventName", 9);

        if (ev->type != STATSIG_V_OBJECT || name == NULL
            || name->type != STATSIG_V_STRING || name->len == 0)
        {
            api->msg = "every event must be an object with a non-empty "
                       "\"eventName\"";
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    md = statsig_value_get(json, "statsigMetadata", 15);

    if (md && md->type != STATSIG_V_OBJECT) {
        md = NULL;
    }

    sid = statsig_value_get(md, "stableID", 8);

    a.alloc = ngx_http_statsig_api_palloc;
    a.data = r->pool;

    for (i = 0; i < events->n; i++) {
        ev = &events->items[i];
        name = statsig_value_get(ev, "eventName", 9);

        user = statsig_value_get(ev, "user", 4);

        if (user && sid) {
            rc = statsig_user_with_stable_id(&a, user, sid, &own);

            if (rc < 0) {
                api->msg = "no memory for an event";
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (rc == 1) {
                user = &own;
            }
        }

        b = ngx_http_statsig_api_buf();
        ngx_http_statsig_api_event_json(b, ev, skew, user, md);

        if (b->failed) {
            api->msg = "no memory for an event";
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        kind = (name->len > 9 && ngx_strncmp(name->str, "statsig::", 9) == 0)
               ? NGX_HTTP_STATSIG_EV_EXPOSURE : NGX_HTTP_STATSIG_EV_CUSTOM;

        record.data = (u_char *) b->data;
        record.len = b->len;

        (void) ngx_http_statsig_events_push(r->connection->log,
                                            kind | only, &record);
    }

    b = ngx_http_statsig_api_buf();
    statsig_buf_adds(b, "{\"success\":true}");

    return ngx_http_statsig_api_done(api, NGX_HTTP_ACCEPTED, b);
}


/*
 * An event as it came, but for its user (user: the event's, or that with
 * the client's stable ID) without privateAttributes, its "time" moved by
 * skew ms, and the client's statsigMetadata (md, or NULL) in its own.
 */

static void
ngx_http_statsig_api_event_json(statsig_buf_t *b, const statsig_value_t *ev,
    int64_t skew, const statsig_value_t *user, const statsig_value_t *md)
{
    size_t                  i, j, start;
    ngx_uint_t              has_md;
    const statsig_value_t  *u;

    statsig_buf_addc(b, '{');
    has_md = 0;

    for (i = 0; i < ev->n; i++) {
        if (ev->items[i].type == STATSIG_V_UNDEFINED) {
            continue;
        }

        if (b->len > 1) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_json_str(b, ev->keys[i], ev->key_lens[i]);
        statsig_buf_addc(b, ':');

        u = &ev->items[i];

        if (skew && ev->key_lens[i] == 4
            && ngx_strncmp(ev->keys[i], "time", 4) == 0
            && u->type == STATSIG_V_NUMBER)
        {
            statsig_buf_json_num(b, u->num + (double) skew);
            continue;
        }

        if (ev->key_lens[i] == 15
            && ngx_strncmp(ev->keys[i], "statsigMetadata", 15) == 0
            && u->type == STATSIG_V_OBJECT)
        {
            ngx_http_statsig_api_event_md(b, u, md);
            has_md = 1;
            continue;
        }

        if (!(ev->key_lens[i] == 4 && ngx_strncmp(ev->keys[i], "user", 4) == 0
              && u->type == STATSIG_V_OBJECT))
        {
            statsig_exposure_value(b, u);
            continue;
        }

        u = user;

        statsig_buf_addc(b, '{');
        start = b->len;

        for (j = 0; j < u->n; j++) {
            if (u->items[j].type == STATSIG_V_UNDEFINED
                || (u->key_lens[j] == 17
                    && ngx_strncmp(u->keys[j], "privateAttributes", 17) == 0))
            {
                continue;
            }

            if (b->len > start) {
                statsig_buf_addc(b, ',');
            }

            statsig_buf_json_str(b, u->keys[j], u->key_lens[j]);
            statsig_buf_addc(b, ':');
            statsig_exposure_value(b, &u->items[j]);
        }

        statsig_buf_addc(b, '}');
    }

    if (!has_md && md) {
        start = b->len;

        if (start > 1) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_adds(b, "\"statsigMetadata\":");
        ngx_http_statsig_api_event_md(b, NULL, md);

        /* none of the client's: the event as it came */
        if (b->len - start <= sizeof(",\"statsigMetadata\":{}") - 1) {
            b->len = start;
        }
    }

    statsig_buf_addc(b, '}');
}


/*
 * An event's statsigMetadata (own, or NULL for none), with the client's
 * sdkType, sdkVersion and sessionID (md's strings) where it has none
 */

static void
ngx_http_statsig_api_event_md(statsig_buf_t *b, const statsig_value_t *own,
    const statsig_value_t *md)
{
    size_t                  i, start;
    const statsig_value_t  *v, *mine;

    static ngx_str_t  keys[] = {
        ngx_string("sdkType"),
        ngx_string("sdkVersion"),
        ngx_string("sessionID")
    };

    statsig_buf_addc(b, '{');
    start = b->len;

    for (i = 0; own && i < own->n; i++) {
        if (own->items[i].type == STATSIG_V_UNDEFINED) {
            continue;
        }

        if (b->len > start) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_json_str(b, own->keys[i], own->key_lens[i]);
        statsig_buf_addc(b, ':');
        statsig_exposure_value(b, &own->items[i]);
    }

    for (i = 0; md && i < sizeof(keys) / sizeof(keys[0]); i++) {
        v = statsig_value_get(md, (char *) keys[i].data, keys[i].len);
        mine = statsig_value_get(own, (char *) keys[i].data, keys[i].len);

        if (v == NULL || v->type != STATSIG_V_STRING
            || !statsig_value_nullish(mine))
        {
            continue;
        }

        if (b->len > start) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_json_str(b, (char *) keys[i].data, keys[i].len);
        statsig_buf_addc(b, ':');
        statsig_buf_json_str(b, v->str, v->len);
    }

    statsig_buf_addc(b, '}');
}


/*
 * One exposure, through the module's exposure path, right after the
 * evaluation (secondary exposures live until the next one).  The name is
 * the one asked for, as statsig-node logs it.
 */

void
ngx_http_statsig_api_expose(ngx_http_request_t *r, ngx_http_statsig_api_t *api,
    statsig_kind_e kind, const statsig_spec_t *spec,
    const statsig_value_t *name, const statsig_value_t *param,
    statsig_result_t *res)
{
    ngx_str_t                 ename;
    ngx_http_statsig_entry_t  e;

    if (!api->expose) {
        return;
    }

    ngx_memzero(&e, sizeof(ngx_http_statsig_entry_t));

    ename.data = (u_char *) name->str;
    ename.len = name->len;

    e.kind = kind;
    e.spec = spec;
    e.name = ename;
    e.result = *res;
    e.evaluated = 1;

    if (param) {
        e.param.data = (u_char *) param->str;
        e.param.len = param->len;
    }

    (void) ngx_http_statsig_expose(r, &api->sctx, &e, &ename);
}


/* a required non-empty string member (key, or key2 when given and set) */

static const statsig_value_t *
ngx_http_statsig_api_name(ngx_http_statsig_api_t *api,
    const statsig_value_t *json, char *key, char *key2)
{
    const statsig_value_t  *n;

    n = NULL;

    if (key2) {
        n = statsig_value_get(json, key2, ngx_strlen(key2));
    }

    if (n == NULL) {
        n = statsig_value_get(json, key, ngx_strlen(key));
    }

    if (n == NULL || n->type != STATSIG_V_STRING || n->len == 0) {
        (void) ngx_snprintf(api->err, sizeof(api->err),
                            "\"%s\" must be a non-empty string%Z",
                            key2 ? key2 : key);
        api->msg = (char *) api->err;
        return NULL;
    }

    return n;
}


static ngx_uint_t
ngx_http_statsig_api_true(const statsig_value_t *obj, char *key)
{
    const statsig_value_t  *v;

    v = statsig_value_get(obj, key, ngx_strlen(key));

    return v && v->type == STATSIG_V_BOOL && v->b;
}


/* [,"value":V][,"group":R],"rule_id":R,"group_name":G of a result */

/*
 * The entity of this kind and name, evaluated for the request's user; the
 * answer object is opened with its "name".
 */

static const statsig_spec_t *
ngx_http_statsig_api_eval(ngx_http_statsig_api_t *api, statsig_kind_e kind,
    const statsig_value_t *n, statsig_buf_t *b, statsig_result_t *res)
{
    const statsig_spec_t  *spec;

    spec = statsig_spec_find(api->sctx.eval.snap, kind, n->str, n->len);

    statsig_eval_begin(&api->sctx.eval);
    statsig_eval_spec(&api->sctx.eval, spec, res);

    statsig_buf_adds(b, "{\"name\":");
    statsig_buf_json_str(b, n->str, n->len);

    return spec;
}


static void
ngx_http_statsig_api_result(ngx_http_statsig_api_t *api, statsig_buf_t *b,
    statsig_result_t *res, ngx_uint_t value, ngx_uint_t group)
{
    statsig_str_t  s;

    if (value) {
        /* json_value 0 is the core's {} */
        s = statsig_json_text(api->sctx.eval.snap, res->json_value);
        statsig_buf_adds(b, ",\"value\":");
        statsig_buf_add(b, s.data, s.len);
    }

    if (group) {
        statsig_buf_adds(b, ",\"group\":");
        ngx_http_statsig_api_str(b, res->rule_id);
    }

    statsig_buf_adds(b, ",\"rule_id\":");
    ngx_http_statsig_api_str(b, res->rule_id);
    statsig_buf_adds(b, ",\"group_name\":");

    if (res->has_group_name) {
        ngx_http_statsig_api_str(b, res->group_name);

    } else {
        statsig_buf_adds(b, "null");
    }
}


static void
ngx_http_statsig_api_str(statsig_buf_t *b, statsig_str_t s)
{
    statsig_buf_json_str(b, s.data ? s.data : "", s.data ? s.len : 0);
}


static statsig_buf_t *
ngx_http_statsig_api_buf(void)
{
    statsig_buf_t  *b;

    b = &ngx_http_statsig_api_out;
    b->len = 0;
    b->failed = 0;

    return b;
}


static ngx_int_t
ngx_http_statsig_api_done(ngx_http_statsig_api_t *api, ngx_uint_t status,
    statsig_buf_t *b)
{
    if (b->failed) {
        api->msg = "no memory for the answer";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return status;
}


/*
 * Called by the module's merge of each location, after the core module's:
 * a statsig_api location whose client_body_buffer_size is nginx's default
 * (two pages) gets NGX_HTTP_STATSIG_API_BODY_BUFFER, so that the SDKs'
 * batches (statsig-node's 1,000 events; the API reads every body whole
 * into memory anyway) are not written to a temporary file first, with a
 * warning each time.  A size set in the configuration is kept (unless it
 * is the default's exact value).
 */

void
ngx_http_statsig_api_merge(ngx_conf_t *cf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_statsig_api_handler
        && clcf->client_body_buffer_size == (size_t) 2 * ngx_pagesize)
    {
        clcf->client_body_buffer_size = NGX_HTTP_STATSIG_API_BODY_BUFFER;
    }
}


char *
ngx_http_statsig_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_statsig_api_location(cf, cmd, conf,
                                         ngx_http_statsig_api_handler);
}


/*
 * A location served with the API's key (statsig_api, statsig_mcp,
 * statsig_ofrep): its handler, and the first such directive remembered
 * for the warning of a configuration without statsig_api_key.
 */

char *
ngx_http_statsig_api_location(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf, ngx_http_handler_pt handler)
{
    char                          *rv;
    ngx_http_statsig_main_conf_t  *smcf;

    rv = ngx_http_statsig_conf_handler(cf, cmd, conf, handler);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_statsig_module);

    if (smcf->api_line == 0) {
        smcf->api_name = cmd->name;
        smcf->api_file = cf->conf_file->file.name;
        smcf->api_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}
