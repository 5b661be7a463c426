/*
 * The Model Context Protocol server's pure logic (statsig_mcp): JSON-RPC
 * 2.0 framing as MCP's Streamable HTTP transport uses it, protocol
 * version negotiation, the tools (names, JSON Schemas, annotations) and
 * their argument checks, the shapes of results and errors, list-entities
 * over a snapshot, and the self-validating session ids.
 *
 * No nginx here: the glue (src/ngx/ngx_http_statsig_mcp.c) reads the HTTP
 * request, parses the body into statsig_value_t (statsig_value_from_json)
 * and runs each tool through the local API's own code; everything written
 * goes to a statsig_buf_t.
 */

#ifndef STATSIG_MCP_H
#define STATSIG_MCP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "statsig.h"


/* protocol revisions served, newest first (index = version code) */
#define STATSIG_MCP_V_2025_11_25      0
#define STATSIG_MCP_V_2025_06_18      1
#define STATSIG_MCP_V_2025_03_26      2
#define STATSIG_MCP_NVERSIONS         3
#define STATSIG_MCP_V_LATEST          STATSIG_MCP_V_2025_11_25
/* what a request without MCP-Protocol-Version speaks (the spec's rule) */
#define STATSIG_MCP_V_DEFAULT         STATSIG_MCP_V_2025_03_26

/* JSON-RPC error codes */
#define STATSIG_MCP_PARSE_ERROR       -32700
#define STATSIG_MCP_INVALID_REQUEST   -32600
#define STATSIG_MCP_NO_METHOD         -32601
#define STATSIG_MCP_INVALID_PARAMS    -32602
#define STATSIG_MCP_INTERNAL_ERROR    -32603
/* the transport's own (session not found, unauthorized, ...) */
#define STATSIG_MCP_SERVER_ERROR      -32000

/* messages in one batch (2025-03-26 only): each may be a tool call */
#define STATSIG_MCP_MAX_BATCH         32

/* list-entities: entities in one answer, by default and at most */
#define STATSIG_MCP_LIST_DEFAULT      1000
#define STATSIG_MCP_LIST_MAX          5000


/* the name of version code v ("2025-11-25"), NULL when out of range */
const char *statsig_mcp_version_name(int v);

/* the code of a version string, -1 when not served */
int statsig_mcp_version_find(const char *s, size_t len);

/* 1 when version v allows JSON-RPC batches (2025-03-26 alone) */
int statsig_mcp_version_batches(int v);


typedef enum {
    STATSIG_MCP_MSG_INVALID = 0,
    STATSIG_MCP_MSG_REQUEST,
    STATSIG_MCP_MSG_NOTIFICATION,
    STATSIG_MCP_MSG_RESPONSE            /* the client's answer: ignored */
} statsig_mcp_msg_e;


typedef enum {
    STATSIG_MCP_M_UNKNOWN = 0,
    STATSIG_MCP_M_INITIALIZE,
    STATSIG_MCP_M_PING,
    STATSIG_MCP_M_TOOLS_LIST,
    STATSIG_MCP_M_TOOLS_CALL,
    STATSIG_MCP_M_INITIALIZED           /* notifications/initialized */
} statsig_mcp_method_e;


typedef struct {
    statsig_mcp_msg_e       kind;
    statsig_mcp_method_e    method;
    const char             *method_name;
    size_t                  method_len;
    /* a string or an integer; NULL for a notification, or when an
     * invalid message has no usable id (then answered with null) */
    const statsig_value_t  *id;
    const statsig_value_t  *params;     /* NULL when absent */
    const char             *error;      /* kind INVALID: why */
} statsig_mcp_msg_t;


/* Reads one JSON-RPC message (an element of a batch, or the whole body). */
void statsig_mcp_message(const statsig_value_t *v, statsig_mcp_msg_t *m);


/*
 * The version the server answers to initialize's params: the client's
 * protocolVersion when it is served, else the latest (the client then
 * decides whether it can go on).  -1 when params has no protocolVersion
 * string (invalid params).
 */
int statsig_mcp_negotiate(const statsig_value_t *params);


/* ---- JSON-RPC envelopes ---- */

/* {"jsonrpc":"2.0","id":ID,"result":  (the caller writes it and '}') */
void statsig_mcp_result_open(statsig_buf_t *b, const statsig_value_t *id);

/* {"jsonrpc":"2.0","id":ID|null,"error":{"code":C,"message":M}} */
void statsig_mcp_error(statsig_buf_t *b, const statsig_value_t *id,
    int code, const char *msg);

/* initialize's result object */
void statsig_mcp_initialize_result(statsig_buf_t *b, int version,
    const char *server_version);

/* tools/list's result object: {"tools":[...]} */
void statsig_mcp_tools_list(statsig_buf_t *b);


/* ---- tools ---- */

typedef enum {
    STATSIG_MCP_T_LOG_EVENTS = 0,
    STATSIG_MCP_T_TRACK_CUSTOMER,
    STATSIG_MCP_T_TRACK_ANONYMOUS,
    STATSIG_MCP_T_GAINSIGHT,
    STATSIG_MCP_T_CHECK_GATE,
    STATSIG_MCP_T_GET_CONFIG,
    STATSIG_MCP_T_GET_EXPERIMENT,
    STATSIG_MCP_T_GET_LAYER,
    STATSIG_MCP_T_LIST_ENTITIES,
    STATSIG_MCP_NTOOLS
} statsig_mcp_tool_e;


/* the tool of this name, -1 when there is none */
int statsig_mcp_tool_find(const char *name, size_t len);

const char *statsig_mcp_tool_name(int tool);

/*
 * tools/call's params: the tool (*tool) and its arguments (*args, an
 * object; NULL when absent, which is as {}).  NULL, or the reason of an
 * invalid-params error: no name, a name that is no tool, arguments that
 * are not an object.
 */
const char *statsig_mcp_call_params(const statsig_value_t *params,
    int *tool, const statsig_value_t **args);

/*
 * The arguments against the tool's input schema: every required one
 * present, each of its type, none unknown.  0, or -1 with the reason in
 * err (a tool result with isError, so that the model can correct itself).
 */
int statsig_mcp_tool_args(int tool, const statsig_value_t *args, char *err,
    size_t errlen);

/*
 * A tool's result: json (an object's text) as structuredContent and as
 * its text content; or, for an error, the reason as text and isError.
 */
void statsig_mcp_tool_result(statsig_buf_t *b, const char *json, size_t len);
void statsig_mcp_tool_error(statsig_buf_t *b, const char *reason,
    size_t len);

/*
 * list-entities on a snapshot: {"entities":[{"name","kind","tool"}...],
 * "total":N,"next_offset":M|null}, gates, then configs and experiments,
 * then layers, each in the specs' order.  args (checked) may hold
 * "kind", "offset", "limit".
 */
void statsig_mcp_list_entities(statsig_buf_t *b,
    const statsig_snapshot_t *snap, const statsig_value_t *args);


/* ---- sessions ---- */

/*
 * A session id is "<nonce>.<version code>.<mac>": the nonce a version 4
 * UUID (36 bytes), the mac 32 hex digits of HMAC-SHA256 over the rest
 * keyed by a key derived from secret.  Any server holding the same
 * secret accepts it; nothing is stored per session.
 */
#define STATSIG_MCP_NONCE_LEN        36
#define STATSIG_MCP_SESSION_LEN      (STATSIG_MCP_NONCE_LEN + 3 + 32)

/* writes STATSIG_MCP_SESSION_LEN bytes and a NUL; 0, or -1 (bad input) */
int statsig_mcp_session_make(const char *secret, size_t slen,
    const char *nonce, int version, char *out);

/* 0 and *version when id is one that secret made, else -1 */
int statsig_mcp_session_check(const char *secret, size_t slen,
    const char *id, size_t len, int *version);

#endif /* STATSIG_MCP_H */
