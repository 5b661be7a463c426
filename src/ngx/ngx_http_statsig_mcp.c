
/*
 * ngx_http_statsig_module: statsig_mcp, a Model Context Protocol server
 * (Streamable HTTP transport, protocol versions 2025-11-25, 2025-06-18
 * and 2025-03-26) beside the local API.
 *
 *   location = /mcp { statsig_mcp [origin=https://app.example ...]; }
 *
 * POST carries JSON-RPC 2.0 and is answered with JSON (never SSE): 200
 * with the response, 202 for notifications, 400 for a message that is
 * not JSON-RPC; GET is 405 (no server-initiated stream), DELETE ends a
 * session.  The key is the API's: "Authorization: Bearer <key>" or
 * "statsig-api-key: <key>".  Tools run through the API's own code
 * (ngx_http_statsig_api_call, ngx_http_statsig_api_relay_queue), so an
 * evaluation answers and logs its exposure exactly as statsig_api does,
 * and an event goes through the relay's checks and queue.  The protocol's
 * pure logic (framing, tools, schemas, session ids) is src/core/mcp.c.
 *
 * Sessions: initialize issues an Mcp-Session-Id that validates itself (a
 * UUID, the negotiated version and an HMAC keyed by the API key), so
 * every worker, a reloaded nginx and every edge sharing the key accept
 * it with nothing stored per session.  DELETE records the id in a small
 * table of ended sessions (a zone of its own, the oldest forgotten first)
 * and such an id is answered 404 from then on, as the transport asks.
 * An id is not a credential: every request is authenticated by the key.
 * A request without an id is served too (stateless clients, curl).
 *
 * Bounds: the body (1 MB after gunzip), messages in a batch
 * (STATSIG_MCP_MAX_BATCH), entities in a list-entities answer; every
 * tool is an evaluation or a queue push on the worker's event loop,
 * bounded by the core's limits, so nothing waits.
 */


#include "ngx_http_statsig_api.h"
#include "ngx_http_statsig_id.h"
#include "ngx_http_statsig_response.h"

#include "exposure.h"
#include "mcp.h"


#define NGX_HTTP_STATSIG_MCP_MAX_BODY     (1024 * 1024)

/* ended sessions remembered: buckets of 8, the oldest in a bucket goes */
#define NGX_HTTP_STATSIG_MCP_BUCKETS      256
#define NGX_HTTP_STATSIG_MCP_WAYS         8
#define NGX_HTTP_STATSIG_MCP_ZONE_SIZE    (128 * 1024)

/* the transport's own errors (the TypeScript SDK's codes) */
#define NGX_HTTP_STATSIG_MCP_NO_SESSION   -32001


typedef struct {
    u_char                         mac[16];   /* the id's, as text */
    time_t                         ended;
} ngx_http_statsig_mcp_ended_t;


typedef struct {
    ngx_http_statsig_mcp_ended_t   ended[NGX_HTTP_STATSIG_MCP_BUCKETS]
                                        [NGX_HTTP_STATSIG_MCP_WAYS];
} ngx_http_statsig_mcp_sh_t;


/* one POST */
typedef struct {
    int                            version;
    ngx_uint_t                     batch;
    ngx_uint_t                     written;   /* responses in out */
    ngx_uint_t                     invalid;   /* a single invalid message */
    ngx_str_t                      session;   /* issued by initialize */
    statsig_buf_t                 *out;
    char                           err[256];
} ngx_http_statsig_mcp_t;


static ngx_int_t ngx_http_statsig_mcp_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_statsig_mcp_origin(ngx_http_request_t *r);
static ngx_int_t ngx_http_statsig_mcp_delete(ngx_http_request_t *r);
static void ngx_http_statsig_mcp_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_statsig_mcp_run(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp);
static ngx_int_t ngx_http_statsig_mcp_session(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp, ngx_uint_t initialize);
static void ngx_http_statsig_mcp_message(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp, const statsig_value_t *v);
static void ngx_http_statsig_mcp_initialize(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp, statsig_mcp_msg_t *m);
static void ngx_http_statsig_mcp_call(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp, statsig_mcp_msg_t *m);
static void ngx_http_statsig_mcp_tool(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp, int tool, const statsig_value_t *args);
static ngx_int_t ngx_http_statsig_mcp_relay(ngx_http_request_t *r,
    int tool, const statsig_value_t *args, ngx_str_t *out,
    const char **msg);
static ngx_int_t ngx_http_statsig_mcp_entities(ngx_http_request_t *r,
    const statsig_value_t *args, ngx_str_t *out, const char **msg);
static void ngx_http_statsig_mcp_separate(ngx_http_statsig_mcp_t *mcp);
static ngx_int_t ngx_http_statsig_mcp_ended(ngx_http_request_t *r,
    u_char *mac, ngx_uint_t end);
static ngx_int_t ngx_http_statsig_mcp_error(ngx_http_request_t *r,
    ngx_uint_t status, int code, const char *msg);
static ngx_int_t ngx_http_statsig_mcp_discard(ngx_http_request_t *r,
    ngx_uint_t status, int code, const char *msg);
static ngx_int_t ngx_http_statsig_mcp_empty(ngx_http_request_t *r,
    ngx_uint_t status);
static statsig_buf_t *ngx_http_statsig_mcp_buf(statsig_buf_t *b);
static void *ngx_http_statsig_mcp_palloc(void *data, size_t size);
static ngx_int_t ngx_http_statsig_mcp_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


/* per worker: answers are written here, then copied to the request */
static statsig_buf_t  ngx_http_statsig_mcp_out;
/* per worker: a relayed body's text */
static statsig_buf_t  ngx_http_statsig_mcp_text;

/* the API method behind each tool (-1: not the API's) */
static ngx_int_t  ngx_http_statsig_mcp_methods[STATSIG_MCP_NTOOLS] = {
    NGX_HTTP_STATSIG_API_RELAY_STATSIG,      /* log-events */
    NGX_HTTP_STATSIG_API_RELAY_CIO,          /* track-customer-event */
    NGX_HTTP_STATSIG_API_RELAY_CIO_ANON,     /* track-anonymous-event */
    NGX_HTTP_STATSIG_API_RELAY_GPX,          /* gainsight-send-... */
    NGX_HTTP_STATSIG_API_CHECK_GATE,         /* check-gate */
    NGX_HTTP_STATSIG_API_GET_CONFIG,         /* get-config */
    NGX_HTTP_STATSIG_API_GET_EXPERIMENT,     /* get-experiment */
    NGX_HTTP_STATSIG_API_GET_LAYER,          /* get-layer */
    -1                                       /* list-entities */
};


static ngx_int_t
ngx_http_statsig_mcp_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig mcp: %V, body %O", &r->method_name,
                   r->headers_in.content_length_n);

    /* DNS rebinding: a browser page of another origin never gets in */
    rc = ngx_http_statsig_mcp_origin(r);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_statsig_mcp_discard(r, NGX_HTTP_FORBIDDEN,
                   STATSIG_MCP_SERVER_ERROR,
                   "this Origin is not allowed (statsig_mcp origin=)");
    }

    if (r->method == NGX_HTTP_OPTIONS && rc == NGX_OK) {
        /* a CORS preflight of an allowed origin */
        if (ngx_http_statsig_response_add(r, "Access-Control-Allow-Methods",
                                          "POST, DELETE")
            != NGX_OK
            || ngx_http_statsig_response_add(r,
                   "Access-Control-Allow-Headers",
                   "Authorization, Content-Type, Accept, Mcp-Session-Id, "
                   "Mcp-Protocol-Version, statsig-api-key, Last-Event-ID")
               != NGX_OK
            || ngx_http_statsig_response_add(r, "Access-Control-Max-Age",
                                             "600")
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_statsig_mcp_empty(r, NGX_HTTP_NO_CONTENT);
    }

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_DELETE))) {
        if (ngx_http_statsig_response_add(r, "Allow", "POST, DELETE")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_statsig_mcp_discard(r, NGX_HTTP_NOT_ALLOWED,
                   STATSIG_MCP_SERVER_ERROR,
                   "statsig_mcp takes POST (and DELETE to end a session); "
                   "it opens no SSE stream");
    }

    if (ngx_http_statsig_api_bearer(r) != NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig mcp: no valid key: 401");

        if (ngx_http_statsig_response_add(r, "WWW-Authenticate",
                                          "Bearer realm=\"statsig_mcp\"")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_statsig_mcp_discard(r, NGX_HTTP_UNAUTHORIZED,
                   STATSIG_MCP_SERVER_ERROR,
                   "a valid key is required: \"Authorization: Bearer "
                   "<key>\" or \"statsig-api-key: <key>\"");
    }

    if (r->method == NGX_HTTP_DELETE) {
        return ngx_http_statsig_mcp_delete(r);
    }

    if (r->headers_in.content_type
        && !(r->headers_in.content_type->value.len >= 16
             && ngx_strncasecmp(r->headers_in.content_type->value.data,
                                (u_char *) "application/json", 16) == 0))
    {
        return ngx_http_statsig_mcp_discard(r,
                   NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, STATSIG_MCP_SERVER_ERROR,
                   "the body must be application/json");
    }

    if (r->headers_in.content_length_n > NGX_HTTP_STATSIG_MCP_MAX_BODY) {
        return ngx_http_statsig_mcp_discard(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                   STATSIG_MCP_INVALID_REQUEST,
                   "the body is larger than statsig_mcp takes (1 MB)");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_statsig_mcp_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * NGX_OK: an Origin that statsig_mcp origin= lists (its CORS headers
 * added); NGX_DONE: no Origin (not a browser); NGX_DECLINED: any other.
 */

static ngx_int_t
ngx_http_statsig_mcp_origin(ngx_http_request_t *r)
{
    ngx_http_statsig_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    return ngx_http_statsig_api_origin(r, slcf->mcp_origins, 0,
                                       "Mcp-Session-Id");
}


/* DELETE with the session's id: 204, and 404 for that id from now on */

static ngx_int_t
ngx_http_statsig_mcp_delete(ngx_http_request_t *r)
{
    int               version;
    ngx_str_t         key;
    ngx_table_elt_t  *h;

    h = ngx_http_statsig_api_header(r, "Mcp-Session-Id", 14);

    if (h == NULL) {
        return ngx_http_statsig_mcp_discard(r, NGX_HTTP_BAD_REQUEST,
                   STATSIG_MCP_SERVER_ERROR,
                   "DELETE needs the Mcp-Session-Id header");
    }

    if (ngx_http_statsig_api_key(r, &key) != NGX_OK
        || statsig_mcp_session_check((char *) key.data, key.len,
                                     (char *) h->value.data, h->value.len,
                                     &version)
           != 0
        || ngx_http_statsig_mcp_ended(r, h->value.data
                                         + STATSIG_MCP_NONCE_LEN + 3, 1)
           != NGX_OK)
    {
        return ngx_http_statsig_mcp_discard(r, NGX_HTTP_NOT_FOUND,
                   NGX_HTTP_STATSIG_MCP_NO_SESSION, "no such session");
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig mcp: session ended: %V", &h->value);

    return ngx_http_statsig_mcp_discard(r, NGX_HTTP_NO_CONTENT, 0, NULL);
}


static void
ngx_http_statsig_mcp_body(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_statsig_mcp_t  *mcp;

    mcp = ngx_pcalloc(r->pool, sizeof(ngx_http_statsig_mcp_t));
    if (mcp == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    mcp->out = ngx_http_statsig_mcp_buf(&ngx_http_statsig_mcp_out);

    rc = ngx_http_statsig_mcp_run(r, mcp);

    ngx_http_finalize_request(r, rc);
}


/* the POST's answer, sent: the output's rc */

static ngx_int_t
ngx_http_statsig_mcp_run(ngx_http_request_t *r, ngx_http_statsig_mcp_t *mcp)
{
    size_t                  i;
    ngx_int_t               rc;
    ngx_str_t               body;
    ngx_uint_t              status;
    const char             *msg;
    statsig_alloc_t         a;
    statsig_value_t         json;
    statsig_mcp_msg_t       m;

    rc = ngx_http_statsig_api_read_body(r, NGX_HTTP_STATSIG_MCP_MAX_BODY,
                                        "the body is larger than statsig_mcp "
                                        "takes (1 MB)", &body, &msg);
    if (rc != NGX_OK) {
        return ngx_http_statsig_mcp_error(r, rc,
                   rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                   ? STATSIG_MCP_INVALID_REQUEST : STATSIG_MCP_SERVER_ERROR,
                   msg ? msg : "internal error");
    }

    a.alloc = ngx_http_statsig_mcp_palloc;
    a.data = r->pool;

    if (statsig_value_from_json(&a, (char *) body.data, body.len, &json,
                                mcp->err, sizeof(mcp->err) - 32)
        != 0)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig mcp: parse error: %s", mcp->err);

        return ngx_http_statsig_mcp_error(r, NGX_HTTP_BAD_REQUEST,
                                          STATSIG_MCP_PARSE_ERROR, mcp->err);
    }

    /* an initialize (alone) needs no session; any other message may */
    statsig_mcp_message(&json, &m);

    rc = ngx_http_statsig_mcp_session(r, mcp,
                                      m.kind == STATSIG_MCP_MSG_REQUEST
                                      && m.method
                                         == STATSIG_MCP_M_INITIALIZE);
    if (rc != NGX_OK) {
        return ngx_http_statsig_mcp_error(r, rc,
                   rc == NGX_HTTP_NOT_FOUND ? NGX_HTTP_STATSIG_MCP_NO_SESSION
                                            : STATSIG_MCP_SERVER_ERROR,
                   mcp->err);
    }

    if (json.type == STATSIG_V_ARRAY) {
        if (!statsig_mcp_version_batches(mcp->version)) {
            (void) ngx_snprintf((u_char *) mcp->err, sizeof(mcp->err),
                                "JSON-RPC batches are not part of MCP %s%Z",
                                statsig_mcp_version_name(mcp->version));
            return ngx_http_statsig_mcp_error(r, NGX_HTTP_BAD_REQUEST,
                                              STATSIG_MCP_INVALID_REQUEST,
                                              mcp->err);
        }

        if (json.n == 0 || json.n > STATSIG_MCP_MAX_BATCH) {
            return ngx_http_statsig_mcp_error(r, NGX_HTTP_BAD_REQUEST,
                       STATSIG_MCP_INVALID_REQUEST,
                       json.n ? "a batch holds at most 32 messages"
                              : "an empty batch");
        }

        mcp->batch = 1;
        statsig_buf_addc(mcp->out, '[');

        for (i = 0; i < json.n; i++) {
            ngx_http_statsig_mcp_message(r, mcp, &json.items[i]);
        }

        statsig_buf_addc(mcp->out, ']');

    } else {
        ngx_http_statsig_mcp_message(r, mcp, &json);
    }

    if (mcp->out->failed) {
        return ngx_http_statsig_mcp_error(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR,
                   STATSIG_MCP_INTERNAL_ERROR, "no memory for the answer");
    }

    if (mcp->session.len
        && ngx_http_statsig_response_add(r, "Mcp-Session-Id",
                                         (char *) mcp->session.data)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (mcp->written == 0) {
        /* notifications and responses only */
        return ngx_http_statsig_mcp_empty(r, NGX_HTTP_ACCEPTED);
    }

    status = mcp->invalid ? NGX_HTTP_BAD_REQUEST : NGX_HTTP_OK;

    return ngx_http_statsig_response_json(r, status,
                                          (u_char *) mcp->out->data,
                                          mcp->out->len);
}


/*
 * The version this POST speaks: its session's (an Mcp-Session-Id must
 * be one we issued and not ended: else 404, and the client initializes
 * again), else MCP-Protocol-Version's, else 2025-03-26 (the spec's rule
 * for a client that sends neither).  An initialize negotiates its own.
 * NGX_OK, or an HTTP status with mcp->err.
 */

static ngx_int_t
ngx_http_statsig_mcp_session(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp, ngx_uint_t initialize)
{
    int               sv, hv;
    ngx_str_t         key;
    ngx_table_elt_t  *h, *p;

    h = initialize ? NULL
                   : ngx_http_statsig_api_header(r, "Mcp-Session-Id", 14);
    p = ngx_http_statsig_api_header(r, "MCP-Protocol-Version", 20);

    sv = -1;
    hv = -1;

    if (h) {
        if (ngx_http_statsig_api_key(r, &key) != NGX_OK
            || statsig_mcp_session_check((char *) key.data, key.len,
                                         (char *) h->value.data,
                                         h->value.len, &sv)
               != 0
            || ngx_http_statsig_mcp_ended(r, h->value.data
                                             + STATSIG_MCP_NONCE_LEN + 3, 0)
               != NGX_OK)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "statsig mcp: unknown or ended session: 404");

            (void) ngx_cpystrn((u_char *) mcp->err, (u_char *)
                               "no such session (ended, or not one of ours): "
                               "initialize again", sizeof(mcp->err));
            return NGX_HTTP_NOT_FOUND;
        }
    }

    if (p && !initialize) {
        hv = statsig_mcp_version_find((char *) p->value.data, p->value.len);

        if (hv < 0 || (sv >= 0 && hv != sv)) {
            (void) ngx_cpystrn((u_char *) mcp->err, (u_char *)
                               (hv < 0 ? "unsupported MCP-Protocol-Version "
                                         "(2025-11-25, 2025-06-18 or "
                                         "2025-03-26)"
                                       : "MCP-Protocol-Version is not the "
                                         "session's"),
                               sizeof(mcp->err));
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    mcp->version = sv >= 0 ? sv : (hv >= 0 ? hv : STATSIG_MCP_V_DEFAULT);

    return NGX_OK;
}


/* one message: its response appended to mcp->out, or nothing */

static void
ngx_http_statsig_mcp_message(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp, const statsig_value_t *v)
{
    statsig_buf_t      *b;
    statsig_mcp_msg_t   m;

    b = mcp->out;

    statsig_mcp_message(v, &m);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig mcp: message kind %d, method %d \"%*s\"",
                   (int) m.kind, (int) m.method,
                   m.method_name ? m.method_len : 0,
                   m.method_name ? m.method_name : "");

    switch (m.kind) {

    case STATSIG_MCP_MSG_INVALID:
        ngx_http_statsig_mcp_separate(mcp);
        statsig_mcp_error(b, m.id, STATSIG_MCP_INVALID_REQUEST, m.error);
        mcp->invalid = !mcp->batch;
        return;

    case STATSIG_MCP_MSG_REQUEST:
        break;

    default:
        /* notifications (initialized, cancelled, ...), the client's
         * responses: nothing to answer */
        return;
    }

    ngx_http_statsig_mcp_separate(mcp);

    switch (m.method) {

    case STATSIG_MCP_M_INITIALIZE:
        ngx_http_statsig_mcp_initialize(r, mcp, &m);
        return;

    case STATSIG_MCP_M_PING:
        statsig_mcp_result_open(b, m.id);
        statsig_buf_adds(b, "{}}");
        return;

    case STATSIG_MCP_M_TOOLS_LIST:
        statsig_mcp_result_open(b, m.id);
        statsig_mcp_tools_list(b);
        statsig_buf_addc(b, '}');
        return;

    case STATSIG_MCP_M_TOOLS_CALL:
        ngx_http_statsig_mcp_call(r, mcp, &m);
        return;

    default:
        (void) ngx_snprintf((u_char *) mcp->err, sizeof(mcp->err),
                            "method not found: %*s%Z",
                            ngx_min(m.method_len, 64), m.method_name);
        statsig_mcp_error(b, m.id, STATSIG_MCP_NO_METHOD, mcp->err);
        return;
    }
}


static void
ngx_http_statsig_mcp_initialize(ngx_http_request_t *r,
    ngx_http_statsig_mcp_t *mcp, statsig_mcp_msg_t *m)
{
    int        version;
    u_char     nonce[NGX_HTTP_STATSIG_UUID_LEN];
    ngx_str_t  key;

    if (mcp->batch) {
        statsig_mcp_error(mcp->out, m->id, STATSIG_MCP_INVALID_REQUEST,
                          "initialize cannot be part of a batch");
        return;
    }

    version = statsig_mcp_negotiate(m->params);

    if (version < 0) {
        statsig_mcp_error(mcp->out, m->id, STATSIG_MCP_INVALID_PARAMS,
                          "initialize needs params.protocolVersion");
        return;
    }

    ngx_http_statsig_uuid(nonce);

    mcp->session.data = ngx_pnalloc(r->pool, STATSIG_MCP_SESSION_LEN + 1);

    if (mcp->session.data == NULL
        || ngx_http_statsig_api_key(r, &key) != NGX_OK
        || statsig_mcp_session_make((char *) key.data, key.len,
                                    (char *) nonce, version,
                                    (char *) mcp->session.data)
           != 0)
    {
        statsig_mcp_error(mcp->out, m->id, STATSIG_MCP_INTERNAL_ERROR,
                          "cannot make a session id");
        return;
    }

    mcp->session.len = STATSIG_MCP_SESSION_LEN;
    mcp->version = version;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig mcp: initialize: %s, session %V",
                   statsig_mcp_version_name(version), &mcp->session);

    statsig_mcp_result_open(mcp->out, m->id);
    statsig_mcp_initialize_result(mcp->out, version,
                                  NGX_HTTP_STATSIG_VERSION);
    statsig_buf_addc(mcp->out, '}');
}


/*
 * tools/call: an unknown tool or malformed params is a JSON-RPC error
 * (-32602); anything wrong with the arguments, or refused by the API,
 * is a result with isError, so that the model can correct itself.
 */

static void
ngx_http_statsig_mcp_call(ngx_http_request_t *r, ngx_http_statsig_mcp_t *mcp,
    statsig_mcp_msg_t *m)
{
    int                     tool;
    const char             *why;
    const statsig_value_t  *args;

    tool = -1;
    args = NULL;

    why = statsig_mcp_call_params(m->params, &tool, &args);

    if (why) {
        statsig_mcp_error(mcp->out, m->id, STATSIG_MCP_INVALID_PARAMS, why);
        return;
    }

    statsig_mcp_result_open(mcp->out, m->id);

    if (statsig_mcp_tool_args(tool, args, mcp->err, sizeof(mcp->err)) != 0) {
        statsig_mcp_tool_error(mcp->out, mcp->err, ngx_strlen(mcp->err));

    } else {
        ngx_http_statsig_mcp_tool(r, mcp, tool, args);
    }

    statsig_buf_addc(mcp->out, '}');
}


static void
ngx_http_statsig_mcp_tool(ngx_http_request_t *r, ngx_http_statsig_mcp_t *mcp,
    int tool, const statsig_value_t *args)
{
    int64_t                 client_time;
    ngx_int_t               rc, m;
    ngx_str_t               out;
    const char             *msg;
    const statsig_value_t  *body, *ct;

    m = ngx_http_statsig_mcp_methods[tool];
    msg = NULL;

    switch (tool) {

    case STATSIG_MCP_T_LIST_ENTITIES:
        rc = ngx_http_statsig_mcp_entities(r, args, &out, &msg);
        break;

    case STATSIG_MCP_T_LOG_EVENTS:
        body = statsig_value_get(args, "body", 4);
        ct = statsig_value_get(args, "STATSIG-CLIENT-TIME", 19);

        /* none: now, so no skew is corrected */
        client_time = (ct && ct->type == STATSIG_V_NUMBER)
                      ? (int64_t) ct->num : 0;

        rc = ngx_http_statsig_api_call(r, m, body, client_time, &out, &msg);
        break;

    case STATSIG_MCP_T_TRACK_CUSTOMER:
    case STATSIG_MCP_T_TRACK_ANONYMOUS:
    case STATSIG_MCP_T_GAINSIGHT:
        rc = ngx_http_statsig_mcp_relay(r, tool, args, &out, &msg);
        break;

    default:
        /* the evaluations: the arguments are the API's body */
        rc = ngx_http_statsig_api_call(r, m, args, 0, &out, &msg);
        break;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig mcp: tool \"%s\": %i%s",
                   statsig_mcp_tool_name(tool), rc,
                   rc >= NGX_HTTP_BAD_REQUEST ? " (isError)" : "");

    if (rc >= NGX_HTTP_BAD_REQUEST) {
        if (msg == NULL) {
            msg = "internal error";
        }

        statsig_mcp_tool_error(mcp->out, msg, ngx_strlen(msg));
        return;
    }

    statsig_mcp_tool_result(mcp->out, (char *) out.data, out.len);
}


/* the vendors' relays take the body's text, as a client would post it */

static ngx_int_t
ngx_http_statsig_mcp_relay(ngx_http_request_t *r, int tool,
    const statsig_value_t *args, ngx_str_t *out, const char **msg)
{
    ngx_int_t               rc;
    ngx_str_t               text, identifier;
    statsig_buf_t          *b;
    const statsig_value_t  *id;

    static u_char  ok[] = "{\"success\":true}";

    b = ngx_http_statsig_mcp_buf(&ngx_http_statsig_mcp_text);
    statsig_exposure_value(b, statsig_value_get(args, "body", 4));

    if (b->failed) {
        *msg = "no memory for the event";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    text.data = (u_char *) b->data;
    text.len = b->len;

    ngx_str_null(&identifier);
    id = statsig_value_get(args, "identifier", 10);

    if (id && id->type == STATSIG_V_STRING) {
        identifier.data = (u_char *) id->str;
        identifier.len = id->len;
    }

    rc = ngx_http_statsig_api_relay_queue(r, ngx_http_statsig_mcp_methods[tool],
                                          &identifier, &text, msg);

    out->data = ok;
    out->len = sizeof(ok) - 1;

    return rc;
}


/* list-entities on the newest snapshot, pinned while it is read */

static ngx_int_t
ngx_http_statsig_mcp_entities(ngx_http_request_t *r,
    const statsig_value_t *args, ngx_str_t *out, const char **msg)
{
    statsig_buf_t            *b;
    ngx_http_statsig_view_t   view;

    if (ngx_http_statsig_view_acquire(&view) != NGX_OK) {
        *msg = "the zone is broken";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (view.snap == NULL) {
        ngx_http_statsig_view_release(&view);
        *msg = "no specs are loaded yet";
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    b = ngx_http_statsig_mcp_buf(&ngx_http_statsig_mcp_text);
    statsig_mcp_list_entities(b, view.snap, args);

    ngx_http_statsig_view_release(&view);

    if (b->failed) {
        *msg = "no memory for the list";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out->data = (u_char *) b->data;
    out->len = b->len;

    return NGX_HTTP_OK;
}


/* a comma between a batch's responses */

static void
ngx_http_statsig_mcp_separate(ngx_http_statsig_mcp_t *mcp)
{
    if (mcp->written++ && mcp->batch) {
        statsig_buf_addc(mcp->out, ',');
    }
}


/*
 * The ended sessions, by the first 16 bytes of the id's mac (keyed, so
 * evenly spread).  end: record it; else NGX_DECLINED when it is there.
 */

static ngx_int_t
ngx_http_statsig_mcp_ended(ngx_http_request_t *r, u_char *mac,
    ngx_uint_t end)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i, bucket;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_mcp_sh_t     *sh;
    ngx_http_statsig_mcp_ended_t  *e, *oldest;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);

    if (smcf->mcp_zone == NULL || smcf->mcp_zone->data == NULL) {
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) smcf->mcp_zone->shm.addr;
    sh = smcf->mcp_zone->data;

    bucket = ngx_hash_key(mac, 16) % NGX_HTTP_STATSIG_MCP_BUCKETS;
    e = sh->ended[bucket];
    oldest = &e[0];
    rc = NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < NGX_HTTP_STATSIG_MCP_WAYS; i++) {
        if (e[i].ended && ngx_memcmp(e[i].mac, mac, 16) == 0) {
            rc = NGX_DECLINED;
            break;
        }

        if (e[i].ended < oldest->ended) {
            oldest = &e[i];
        }
    }

    if (end && rc == NGX_OK) {
        ngx_memcpy(oldest->mac, mac, 16);
        oldest->ended = ngx_max(ngx_time(), 1);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


/* a JSON-RPC error with a null id, as the whole answer */

static ngx_int_t
ngx_http_statsig_mcp_error(ngx_http_request_t *r, ngx_uint_t status, int code,
    const char *msg)
{
    statsig_buf_t  *b;

    b = ngx_http_statsig_mcp_buf(&ngx_http_statsig_mcp_out);
    statsig_mcp_error(b, NULL, code, msg);

    if (b->failed) {
        return status;
    }

    return ngx_http_statsig_response_json(r, status, (u_char *) b->data,
                                          b->len);
}


/* the same before the body is read: it is discarded */

static ngx_int_t
ngx_http_statsig_mcp_discard(ngx_http_request_t *r, ngx_uint_t status,
    int code, const char *msg)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (msg == NULL) {
        return ngx_http_statsig_mcp_empty(r, status);
    }

    return ngx_http_statsig_mcp_error(r, status, code, msg);
}


/* a status with no body (202, 204) */

static ngx_int_t
ngx_http_statsig_mcp_empty(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_int_t  rc;

    rc = ngx_http_statsig_response_header(r, status, NULL, 0);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


static statsig_buf_t *
ngx_http_statsig_mcp_buf(statsig_buf_t *b)
{
    b->len = 0;
    b->failed = 0;

    return b;
}


static void *
ngx_http_statsig_mcp_palloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


char *
ngx_http_statsig_mcp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    char                          *rv;
    ngx_str_t                     *value, *o, name;
    ngx_uint_t                     i;
    ngx_http_statsig_main_conf_t  *smcf;

    rv = ngx_http_statsig_api_location(cf, cmd, slcf,
                                       ngx_http_statsig_mcp_handler);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len <= 7
            || ngx_strncmp(value[i].data, "origin=", 7) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" (origin=ORIGIN)",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (slcf->mcp_origins == NULL) {
            slcf->mcp_origins = ngx_array_create(cf->pool, 2,
                                                 sizeof(ngx_str_t));
            if (slcf->mcp_origins == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        o = ngx_array_push(slcf->mcp_origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }

        /* the argument's text is NUL-terminated: a header value as is */
        o->data = value[i].data + 7;
        o->len = value[i].len - 7;
    }

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_statsig_module);

    if (smcf->mcp_zone == NULL) {
        ngx_str_set(&name, "statsig_mcp_sessions");

        smcf->mcp_zone = ngx_shared_memory_add(cf, &name,
                                               NGX_HTTP_STATSIG_MCP_ZONE_SIZE,
                                               &ngx_http_statsig_module);
        if (smcf->mcp_zone == NULL) {
            return NGX_CONF_ERROR;
        }

        smcf->mcp_zone->init = ngx_http_statsig_mcp_init_zone;
        smcf->mcp_zone->data = NULL;
    }

    return NGX_CONF_OK;
}


/* the table, kept across reloads (the zone is, with the same size) */

static ngx_int_t
ngx_http_statsig_mcp_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t            *shpool;
    ngx_http_statsig_mcp_sh_t  *sh;

    if (data) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_statsig_mcp_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}
