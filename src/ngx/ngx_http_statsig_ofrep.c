
/*
 * ngx_http_statsig_module: statsig_ofrep, the OpenFeature Remote
 * Evaluation Protocol (OFREP) served from the Statsig snapshot.
 *
 *   location /flags/ { statsig_ofrep; }
 *
 * POST .../ofrep/v1/evaluate/flags/{key}   one flag (server providers)
 * POST .../ofrep/v1/evaluate/flags         every flag (client providers)
 *
 * whatever the location's prefix.  The key is the API's: "Authorization:
 * Bearer <key>", "statsig-api-key: <key>", or OFREP's "X-API-Key: <key>".
 * The body's "context" is mapped to a Statsig user (src/core/ofrep.c) and
 * evaluated through the local API's code (ngx_http_statsig_api_user,
 * _expose), so an answer is statsig_api's and statsig-node's.
 *
 * A single flag logs the exposure its SDK call logs (a gate's, a
 * config's or experiment's, a layer's for each parameter its value
 * hands over), as statsig_exposures says here, deduplicated as every
 * exposure is.  A bulk answer logs none, as a client initialize response
 * does: a client reading a cached flag is no exposure the edge can see.
 *
 * A bulk answer carries an ETag: SHA-256 of the zone's start, the
 * snapshot's generation (specs and ID lists) and time, the environment
 * and the canonical context; an If-None-Match that matches is a 304
 * before any evaluation.  When the specs have current_time conditions
 * the answer may change with the clock alone, so the ETag is then the
 * answer's own hash.  Bulk answers are "Cache-Control: private,
 * no-cache" (per context; revalidate), everything else "no-store".
 *
 * Bounds: the body (1 MB after gunzip), the core's evaluation limits; one
 * bulk answer is one pass over the snapshot's specs on the event loop.
 */


#include "ngx_http_statsig_api.h"
#include "ngx_http_statsig_response.h"
#include "ngx_http_statsig_zone.h"

#include "ofrep.h"


#define NGX_HTTP_STATSIG_OFREP_MAX_BODY   (1024 * 1024)


/* one POST */
typedef struct {
    ngx_uint_t                     bulk;
    ngx_str_t                      key;       /* a single flag's */
    statsig_value_t                req;
    const statsig_value_t         *context;
    ngx_http_statsig_api_t        *api;
    statsig_alloc_t                alloc;
    char                           err[256];
} ngx_http_statsig_ofrep_t;


static ngx_int_t ngx_http_statsig_ofrep_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_statsig_ofrep_auth(ngx_http_request_t *r);
static void ngx_http_statsig_ofrep_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_statsig_ofrep_run(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of);
static ngx_int_t ngx_http_statsig_ofrep_single(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of);
static ngx_int_t ngx_http_statsig_ofrep_bulk(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of);
static void ngx_http_statsig_ofrep_layer(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of, const statsig_spec_t *spec,
    statsig_value_t *name, statsig_result_t *res);
static ngx_int_t ngx_http_statsig_ofrep_etag(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of, ngx_uint_t timed, u_char *etag);
static ngx_uint_t ngx_http_statsig_ofrep_uses_time(
    ngx_http_statsig_view_t *view);
static ngx_int_t ngx_http_statsig_ofrep_not_modified(ngx_http_request_t *r,
    u_char *etag);
static ngx_int_t ngx_http_statsig_ofrep_fail(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of, ngx_uint_t status, int code,
    const char *details);
static ngx_int_t ngx_http_statsig_ofrep_discard(ngx_http_request_t *r,
    ngx_uint_t status, const char *details);
static ngx_int_t ngx_http_statsig_ofrep_send(ngx_http_request_t *r,
    ngx_uint_t status, statsig_buf_t *b);
static statsig_buf_t *ngx_http_statsig_ofrep_buf(statsig_buf_t *b);
static void *ngx_http_statsig_ofrep_palloc(void *data, size_t size);


/* per worker: answers are written here, then copied to the request */
static statsig_buf_t  ngx_http_statsig_ofrep_out;
/* per worker: what an ETag hashes */
static statsig_buf_t  ngx_http_statsig_ofrep_tag;

/* per worker: whether the snapshot of that generation reads the clock */
static ngx_uint_t  ngx_http_statsig_ofrep_time_gen;
static ngx_uint_t  ngx_http_statsig_ofrep_time_uses;


static ngx_int_t
ngx_http_statsig_ofrep_handler(ngx_http_request_t *r)
{
    int          what;
    size_t       klen;
    ngx_int_t    rc;
    const char  *key;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig ofrep: %V %V", &r->method_name, &r->uri);

    key = NULL;
    klen = 0;

    what = statsig_ofrep_path((char *) r->uri.data, r->uri.len, &key, &klen);

    if (what == STATSIG_OFREP_PATH_NONE) {
        return ngx_http_statsig_ofrep_discard(r, NGX_HTTP_NOT_FOUND,
                   "not an OFREP path (.../ofrep/v1/evaluate/flags[/key])");
    }

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_statsig_response_add(r, "Allow", "POST") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_statsig_ofrep_discard(r, NGX_HTTP_NOT_ALLOWED,
                                              "OFREP evaluations are POSTs");
    }

    if (ngx_http_statsig_ofrep_auth(r) != NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig ofrep: no valid key: 401");

        if (ngx_http_statsig_response_add(r, "WWW-Authenticate",
                                          "Bearer realm=\"statsig_ofrep\"")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_statsig_ofrep_discard(r, NGX_HTTP_UNAUTHORIZED,
                   "a valid key is required: \"Authorization: Bearer "
                   "<key>\", \"statsig-api-key: <key>\" or \"X-API-Key: "
                   "<key>\"");
    }

    if (r->headers_in.content_length_n > NGX_HTTP_STATSIG_OFREP_MAX_BODY) {
        return ngx_http_statsig_ofrep_discard(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                   "the body is larger than statsig_ofrep takes (1 MB)");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_statsig_ofrep_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* the API's bearer or header, or OFREP's own ApiKeyAuth (X-API-Key) */

static ngx_int_t
ngx_http_statsig_ofrep_auth(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    if (ngx_http_statsig_api_bearer(r) == NGX_OK) {
        return NGX_OK;
    }

    h = ngx_http_statsig_api_header(r, "X-API-Key", 9);

    if (h && ngx_http_statsig_api_key_equal(r, &h->value) == NGX_OK) {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static void
ngx_http_statsig_ofrep_body(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_statsig_ofrep_t  *of;

    of = ngx_pcalloc(r->pool, sizeof(ngx_http_statsig_ofrep_t));
    if (of == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_statsig_ofrep_run(r, of);

    ngx_http_finalize_request(r, rc);
}


/* the POST's answer, sent: the output's rc */

static ngx_int_t
ngx_http_statsig_ofrep_run(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of)
{
    int               code;
    size_t            klen;
    ngx_int_t         rc;
    ngx_str_t         body;
    const char       *key, *msg;
    statsig_value_t  *user;

    key = NULL;
    klen = 0;
    of->bulk = statsig_ofrep_path((char *) r->uri.data, r->uri.len, &key,
                                  &klen)
               == STATSIG_OFREP_PATH_BULK;
    of->key.data = (u_char *) key;
    of->key.len = klen;

    of->alloc.alloc = ngx_http_statsig_ofrep_palloc;
    of->alloc.data = r->pool;

    rc = ngx_http_statsig_api_read_body(r, NGX_HTTP_STATSIG_OFREP_MAX_BODY,
                                        "the body is larger than "
                                        "statsig_ofrep takes (1 MB)", &body,
                                        &msg);
    if (rc != NGX_OK) {
        return ngx_http_statsig_ofrep_fail(r, of, rc,
                                           rc == NGX_HTTP_BAD_REQUEST
                                           ? STATSIG_OFREP_PARSE_ERROR
                                           : STATSIG_OFREP_GENERAL,
                                           msg ? msg : "internal error");
    }

    code = statsig_ofrep_request(&of->alloc, (char *) body.data, body.len,
                                 &of->req, &of->context, of->err,
                                 sizeof(of->err));
    if (code != STATSIG_OFREP_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig ofrep: bad request: %s", of->err);

        return ngx_http_statsig_ofrep_fail(r, of, NGX_HTTP_BAD_REQUEST, code,
                                           of->err);
    }

    user = ngx_palloc(r->pool, sizeof(statsig_value_t));
    of->api = ngx_pcalloc(r->pool, sizeof(ngx_http_statsig_api_t));

    if (user == NULL || of->api == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code = statsig_ofrep_user(&of->alloc, of->context, user, of->err,
                              sizeof(of->err));
    if (code != STATSIG_OFREP_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig ofrep: bad context: %s", of->err);

        return ngx_http_statsig_ofrep_fail(r, of,
                                           code == STATSIG_OFREP_GENERAL
                                           ? NGX_HTTP_INTERNAL_SERVER_ERROR
                                           : NGX_HTTP_BAD_REQUEST,
                                           code, of->err);
    }

    /* validated above, as statsig-node validates */
    rc = ngx_http_statsig_api_user(r, of->api, user, 0);

    if (rc != NGX_OK) {
        return ngx_http_statsig_ofrep_fail(r, of, rc, STATSIG_OFREP_GENERAL,
                                           of->api->msg ? of->api->msg
                                                        : "internal error");
    }

    if (of->bulk) {
        return ngx_http_statsig_ofrep_bulk(r, of);
    }

    return ngx_http_statsig_ofrep_single(r, of);
}


static ngx_int_t
ngx_http_statsig_ofrep_single(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of)
{
    int                    code;
    ngx_uint_t             status;
    statsig_buf_t         *b;
    statsig_kind_e         kind;
    statsig_value_t        name;
    statsig_result_t       res;
    statsig_eval_ctx_t    *eval;
    const statsig_spec_t  *spec;

    eval = &of->api->sctx.eval;

    spec = statsig_ofrep_find(eval->snap, (char *) of->key.data,
                              of->key.len);

    if (spec == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig ofrep: no flag \"%V\"", &of->key);

        return ngx_http_statsig_ofrep_fail(r, of, NGX_HTTP_NOT_FOUND,
                   STATSIG_OFREP_FLAG_NOT_FOUND,
                   "no gate, dynamic config, experiment or layer has "
                   "this name");
    }

    statsig_eval_begin(eval);
    statsig_eval_spec(eval, spec, &res);

    b = ngx_http_statsig_ofrep_buf(&ngx_http_statsig_ofrep_out);
    code = statsig_ofrep_flag(b, eval->snap, (char *) of->key.data,
                              of->key.len, spec, &res);

    kind = statsig_spec_kind(spec);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig ofrep: \"%V\" kind %d: %s", &of->key, (int) kind,
                   statsig_ofrep_reason(eval->snap, spec, &res));

    /* the exposure of the SDK call this is (none for a failed one) */

    if (code == STATSIG_OFREP_OK) {
        ngx_memzero(&name, sizeof(statsig_value_t));
        name.type = STATSIG_V_STRING;
        name.str = (char *) of->key.data;
        name.len = of->key.len;

        if (kind == STATSIG_KIND_LAYER) {
            ngx_http_statsig_ofrep_layer(r, of, spec, &name, &res);

        } else {
            ngx_http_statsig_api_expose(r, of->api, kind, spec, &name, NULL,
                                        &res);
        }
    }

    /* OFREP's failures are 400, 404 or 500; GENERAL is the server's */
    status = code == STATSIG_OFREP_OK ? NGX_HTTP_OK
                                      : NGX_HTTP_INTERNAL_SERVER_ERROR;

    return ngx_http_statsig_ofrep_send(r, status, b);
}


/* a layer's value is every parameter read: each one's exposure */

static void
ngx_http_statsig_ofrep_layer(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of, const statsig_spec_t *spec,
    statsig_value_t *name, statsig_result_t *res)
{
    uint32_t                   i, n;
    statsig_str_t              k;
    statsig_value_t            param;
    const statsig_snapshot_t  *s;

    if (!of->api->expose || res->json_value == 0) {
        return;
    }

    s = of->api->sctx.eval.snap;

    if (statsig_json_type(s, res->json_value) != STATSIG_JSON_OBJECT) {
        return;
    }

    n = statsig_json_object_size(s, res->json_value);

    for (i = 0; i < n; i++) {
        k = statsig_json_object_key(s, res->json_value, i);

        ngx_memzero(&param, sizeof(statsig_value_t));
        param.type = STATSIG_V_STRING;
        param.str = k.data;
        param.len = k.len;

        ngx_http_statsig_api_expose(r, of->api, STATSIG_KIND_LAYER, spec,
                                    name, &param, res);
    }
}


static ngx_int_t
ngx_http_statsig_ofrep_bulk(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of)
{
    int                    k;
    u_char                *etag;
    uint32_t               i, n, flags;
    ngx_uint_t             timed;
    statsig_buf_t         *b;
    statsig_str_t          name;
    statsig_result_t       res;
    ngx_table_elt_t       *inm;
    statsig_eval_ctx_t    *eval;
    const statsig_spec_t  *spec;

    eval = &of->api->sctx.eval;
    inm = r->headers_in.if_none_match;

    /* a header's value: the request's */
    etag = ngx_pnalloc(r->pool, STATSIG_OFREP_ETAG_LEN + 1);
    if (etag == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    timed = ngx_http_statsig_ofrep_uses_time(&of->api->sctx.view);

    /* without the clock in the rules, the ETag is known before any work */

    if (!timed) {
        if (ngx_http_statsig_ofrep_etag(r, of, 0, etag) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (inm && statsig_ofrep_etag_match((char *) inm->value.data,
                                            inm->value.len, (char *) etag,
                                            STATSIG_OFREP_ETAG_LEN))
        {
            return ngx_http_statsig_ofrep_not_modified(r, etag);
        }
    }

    b = ngx_http_statsig_ofrep_buf(&ngx_http_statsig_ofrep_out);
    statsig_buf_adds(b, "{\"flags\":[");
    flags = 0;

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        n = statsig_spec_count(eval->snap, (statsig_kind_e) k);

        for (i = 0; i < n; i++) {
            spec = statsig_spec_at(eval->snap, (statsig_kind_e) k, i);

            if (!statsig_ofrep_listed(eval->snap, spec)) {
                continue;
            }

            name = statsig_spec_name(eval->snap, spec);

            statsig_eval_begin(eval);
            statsig_eval_spec(eval, spec, &res);

            if (flags++) {
                statsig_buf_addc(b, ',');
            }

            (void) statsig_ofrep_flag(b, eval->snap, name.data, name.len,
                                      spec, &res);
        }
    }

    statsig_buf_adds(b, "],\"metadata\":{\"specsTime\":");
    statsig_buf_json_int(b, (long long) statsig_snapshot_time(eval->snap));
    statsig_buf_adds(b, "}}");

    if (b->failed) {
        return ngx_http_statsig_ofrep_fail(r, of,
                                           NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           STATSIG_OFREP_GENERAL,
                                           "no memory for the answer");
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig ofrep: bulk: %uD flags, %uz bytes", flags,
                   b->len);

    if (timed) {
        if (ngx_http_statsig_ofrep_etag(r, of, 1, etag) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (inm && statsig_ofrep_etag_match((char *) inm->value.data,
                                            inm->value.len, (char *) etag,
                                            STATSIG_OFREP_ETAG_LEN))
        {
            return ngx_http_statsig_ofrep_not_modified(r, etag);
        }
    }

    if (ngx_http_statsig_response_add(r, "ETag", (char *) etag) != NGX_OK
        || ngx_http_statsig_response_add(r, "Cache-Control",
                                         "private, no-cache")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_statsig_ofrep_send(r, NGX_HTTP_OK, b);
}


/*
 * A bulk answer's ETag: what it depends on (zone start, generation,
 * specs time, environment) and the canonical context; or, timed, that
 * and the answer in ngx_http_statsig_ofrep_out.
 */

static ngx_int_t
ngx_http_statsig_ofrep_etag(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of, ngx_uint_t timed, u_char *etag)
{
    u_char                        state[128], *p;
    time_t                        created;
    statsig_buf_t                *b;
    ngx_http_statsig_zone_t      *zone;
    ngx_http_statsig_main_conf_t *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);

    created = 0;

    if (smcf->shm_zone && smcf->shm_zone->data) {
        zone = smcf->shm_zone->data;
        created = zone->sh ? zone->sh->created : 0;
    }

    p = ngx_snprintf(state, sizeof(state), "%T.%ui.%L.",
                     created, of->api->sctx.view.generation,
                     (int64_t) statsig_snapshot_time(of->api->sctx.eval.snap));

    b = ngx_http_statsig_ofrep_buf(&ngx_http_statsig_ofrep_tag);
    statsig_buf_add(b, state, p - state);
    statsig_buf_json_str(b, (char *) smcf->environment.data,
                         smcf->environment.len);
    statsig_buf_addc(b, '.');

    if (timed) {
        statsig_buf_add(b, ngx_http_statsig_ofrep_out.data,
                        ngx_http_statsig_ofrep_out.len);

    } else {
        statsig_ofrep_canonical(&of->alloc, b, of->context);
    }

    if (b->failed) {
        return NGX_ERROR;
    }

    statsig_ofrep_etag(b->data, b->len, (char *) etag);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig ofrep: etag %s%s", etag,
                   timed ? " (of the answer)" : "");

    return NGX_OK;
}


/* per worker, once a generation: a snapshot's rules read the clock */

static ngx_uint_t
ngx_http_statsig_ofrep_uses_time(ngx_http_statsig_view_t *view)
{
    if (ngx_http_statsig_ofrep_time_gen != view->generation) {
        ngx_http_statsig_ofrep_time_uses = statsig_ofrep_uses_time(view->snap);
        ngx_http_statsig_ofrep_time_gen = view->generation;
    }

    return ngx_http_statsig_ofrep_time_uses;
}


static ngx_int_t
ngx_http_statsig_ofrep_not_modified(ngx_http_request_t *r, u_char *etag)
{
    ngx_int_t  rc;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig ofrep: %s matches: 304", etag);

    if (ngx_http_statsig_response_add(r, "ETag", (char *) etag) != NGX_OK
        || ngx_http_statsig_response_add(r, "Cache-Control",
                                         "private, no-cache")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the header filter sends a 304 with no body (header_only) */
    rc = ngx_http_statsig_response_header(r, NGX_HTTP_NOT_MODIFIED, NULL, -1);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


/*
 * An evaluation failure: {"key","errorCode","errorDetails"} for one flag,
 * {"errorCode","errorDetails"} for a bulk request
 */

static ngx_int_t
ngx_http_statsig_ofrep_fail(ngx_http_request_t *r,
    ngx_http_statsig_ofrep_t *of, ngx_uint_t status, int code,
    const char *details)
{
    statsig_buf_t  *b;

    b = ngx_http_statsig_ofrep_buf(&ngx_http_statsig_ofrep_out);

    if (of->bulk) {
        statsig_ofrep_error(b, NULL, 0, code, details);

    } else {
        statsig_ofrep_error(b, (char *) of->key.data, of->key.len, code,
                            details);
    }

    return ngx_http_statsig_ofrep_send(r, status, b);
}


/* before the body is read: {"errorDetails":...} (OFREP's general error) */

static ngx_int_t
ngx_http_statsig_ofrep_discard(ngx_http_request_t *r, ngx_uint_t status,
    const char *details)
{
    ngx_int_t       rc;
    statsig_buf_t  *b;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    b = ngx_http_statsig_ofrep_buf(&ngx_http_statsig_ofrep_out);
    statsig_buf_adds(b, "{\"errorDetails\":");
    statsig_buf_json_str(b, details, ngx_strlen(details));
    statsig_buf_addc(b, '}');

    return ngx_http_statsig_ofrep_send(r, status, b);
}


static ngx_int_t
ngx_http_statsig_ofrep_send(ngx_http_request_t *r, ngx_uint_t status,
    statsig_buf_t *b)
{
    static u_char  oom[] = "{\"errorDetails\":\"no memory for the answer\"}";

    if (b->failed) {
        return ngx_http_statsig_response_json(r,
                                              NGX_HTTP_INTERNAL_SERVER_ERROR,
                                              oom, sizeof(oom) - 1);
    }

    return ngx_http_statsig_response_json(r, status, (u_char *) b->data,
                                          b->len);
}


static statsig_buf_t *
ngx_http_statsig_ofrep_buf(statsig_buf_t *b)
{
    b->len = 0;
    b->failed = 0;

    return b;
}


static void *
ngx_http_statsig_ofrep_palloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


char *
ngx_http_statsig_ofrep(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_statsig_api_location(cf, cmd, conf,
                                         ngx_http_statsig_ofrep_handler);
}
