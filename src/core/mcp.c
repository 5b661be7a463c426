/*
 * The MCP server's pure logic (see mcp.h).
 *
 * The tools' schemas are literal JSON: what tools/list sends is fixed at
 * build time, and statsig_mcp_tool_args() checks arguments against the
 * same table the schemas are written from (names, types, required).
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mcp.h"


static const char *const  sg_mcp_versions[STATSIG_MCP_NVERSIONS] = {
    "2025-11-25", "2025-06-18", "2025-03-26"
};


const char *
statsig_mcp_version_name(int v)
{
    if (v < 0 || v >= STATSIG_MCP_NVERSIONS) {
        return NULL;
    }

    return sg_mcp_versions[v];
}


int
statsig_mcp_version_find(const char *s, size_t len)
{
    int  v;

    for (v = 0; v < STATSIG_MCP_NVERSIONS; v++) {
        if (len == strlen(sg_mcp_versions[v])
            && memcmp(s, sg_mcp_versions[v], len) == 0)
        {
            return v;
        }
    }

    return -1;
}


int
statsig_mcp_version_batches(int v)
{
    /* 2025-06-18 removed batching; 2025-03-26 had it */
    return v == STATSIG_MCP_V_2025_03_26;
}


/* ---- messages ---- */

static int
sg_mcp_is(const statsig_value_t *v, const char *s)
{
    size_t  len;

    len = strlen(s);

    return v != NULL && v->type == STATSIG_V_STRING && v->len == len
           && memcmp(v->str, s, len) == 0;
}


/* a string, or a number with no fraction (MCP: string or integer) */
static int
sg_mcp_valid_id(const statsig_value_t *id)
{
    if (id->type == STATSIG_V_STRING) {
        return 1;
    }

    return id->type == STATSIG_V_NUMBER && isfinite(id->num)
           && floor(id->num) == id->num;
}


static const struct {
    const char            *name;
    statsig_mcp_method_e   method;
} sg_mcp_methods[] = {
    { "initialize", STATSIG_MCP_M_INITIALIZE },
    { "ping", STATSIG_MCP_M_PING },
    { "tools/list", STATSIG_MCP_M_TOOLS_LIST },
    { "tools/call", STATSIG_MCP_M_TOOLS_CALL },
    { "notifications/initialized", STATSIG_MCP_M_INITIALIZED },
    { NULL, STATSIG_MCP_M_UNKNOWN }
};


void
statsig_mcp_message(const statsig_value_t *v, statsig_mcp_msg_t *m)
{
    size_t                  i;
    const statsig_value_t  *id, *method, *params;

    memset(m, 0, sizeof(statsig_mcp_msg_t));

    m->kind = STATSIG_MCP_MSG_INVALID;

    if (v == NULL || v->type != STATSIG_V_OBJECT) {
        m->error = "a JSON-RPC message must be an object";
        return;
    }

    id = statsig_value_get(v, "id", 2);

    if (id != NULL && id->type != STATSIG_V_UNDEFINED) {
        if (!sg_mcp_valid_id(id)) {
            m->error = "\"id\" must be a string or an integer";
            return;
        }

        m->id = id;
    }

    if (!sg_mcp_is(statsig_value_get(v, "jsonrpc", 7), "2.0")) {
        m->error = "\"jsonrpc\" must be \"2.0\"";
        return;
    }

    method = statsig_value_get(v, "method", 6);

    if (method == NULL) {
        if (m->id != NULL && (statsig_value_get(v, "result", 6) != NULL
                              || statsig_value_get(v, "error", 5) != NULL))
        {
            m->kind = STATSIG_MCP_MSG_RESPONSE;
            return;
        }

        m->error = "no \"method\"";
        return;
    }

    if (method->type != STATSIG_V_STRING || method->len == 0) {
        m->error = "\"method\" must be a non-empty string";
        return;
    }

    params = statsig_value_get(v, "params", 6);

    if (params != NULL && params->type != STATSIG_V_OBJECT) {
        m->error = "\"params\" must be an object";
        return;
    }

    m->kind = m->id ? STATSIG_MCP_MSG_REQUEST : STATSIG_MCP_MSG_NOTIFICATION;
    m->method_name = method->str;
    m->method_len = method->len;
    m->params = params;

    for (i = 0; sg_mcp_methods[i].name; i++) {
        if (sg_mcp_is(method, sg_mcp_methods[i].name)) {
            m->method = sg_mcp_methods[i].method;
            break;
        }
    }
}


int
statsig_mcp_negotiate(const statsig_value_t *params)
{
    int                     v;
    const statsig_value_t  *pv;

    pv = statsig_value_get(params, "protocolVersion", 15);

    if (pv == NULL || pv->type != STATSIG_V_STRING) {
        return -1;
    }

    v = statsig_mcp_version_find(pv->str, pv->len);

    return v >= 0 ? v : STATSIG_MCP_V_LATEST;
}


/* ---- envelopes ---- */

static void
sg_mcp_id(statsig_buf_t *b, const statsig_value_t *id)
{
    if (id == NULL) {
        statsig_buf_adds(b, "null");

    } else if (id->type == STATSIG_V_STRING) {
        statsig_buf_json_str(b, id->str, id->len);

    } else {
        statsig_buf_json_num(b, id->num);
    }
}


void
statsig_mcp_result_open(statsig_buf_t *b, const statsig_value_t *id)
{
    statsig_buf_adds(b, "{\"jsonrpc\":\"2.0\",\"id\":");
    sg_mcp_id(b, id);
    statsig_buf_adds(b, ",\"result\":");
}


void
statsig_mcp_error(statsig_buf_t *b, const statsig_value_t *id, int code,
    const char *msg)
{
    statsig_buf_adds(b, "{\"jsonrpc\":\"2.0\",\"id\":");
    sg_mcp_id(b, id);
    statsig_buf_adds(b, ",\"error\":{\"code\":");
    statsig_buf_json_int(b, code);
    statsig_buf_adds(b, ",\"message\":");
    statsig_buf_json_str(b, msg, strlen(msg));
    statsig_buf_adds(b, "}}");
}


void
statsig_mcp_initialize_result(statsig_buf_t *b, int version,
    const char *server_version)
{
    const char  *name;

    name = statsig_mcp_version_name(version);
    if (name == NULL) {
        name = sg_mcp_versions[STATSIG_MCP_V_LATEST];
    }

    statsig_buf_adds(b, "{\"protocolVersion\":");
    statsig_buf_json_str(b, name, strlen(name));
    statsig_buf_adds(b,
        ",\"capabilities\":{\"tools\":{\"listChanged\":false}},"
        "\"serverInfo\":{\"name\":\"ngx_http_statsig_module\","
        "\"title\":\"Statsig at the edge (nginx)\",\"version\":");
    statsig_buf_json_str(b, server_version, strlen(server_version));
    statsig_buf_adds(b,
        "},\"instructions\":\"Statsig evaluated at the edge: check-gate, "
        "get-config, get-experiment and get-layer answer what a Statsig "
        "server SDK answers for a user (and log its exposure, as the SDK "
        "does); list-entities tells which gates, configs, experiments and "
        "layers exist. log-events, track-customer-event, "
        "track-anonymous-event and gainsight-send-custom-event queue "
        "events for Statsig, Customer.io and Gainsight PX with the edge's "
        "credentials: a result means queued, not yet delivered.\"}");
}


/* ---- tools ---- */

/* argument types */
#define SG_A_OBJECT    0
#define SG_A_STRING    1        /* non-empty */
#define SG_A_INT       2        /* integer >= 0 */
#define SG_A_BOOL      3
#define SG_A_STRINGS   4        /* array of strings */
#define SG_A_KIND      5        /* an entity kind */

#define SG_MCP_MAX_ARGS  4

typedef struct {
    const char  *name;
    int          type;
    int          required;
} sg_mcp_arg_t;


typedef struct {
    const char    *name;
    const char    *json;        /* its tools/list entry */
    sg_mcp_arg_t   args[SG_MCP_MAX_ARGS];
} sg_mcp_tool_t;


/* pieces of the schemas */

#define SG_USER_SCHEMA                                                       \
    "{\"type\":\"object\",\"description\":\"The Statsig user, as the "       \
    "server SDKs take it (StatsigUser). It needs a userID or at least one "  \
    "customIDs entry.\",\"properties\":{"                                    \
    "\"userID\":{\"type\":\"string\"},"                                      \
    "\"email\":{\"type\":\"string\"},"                                       \
    "\"ip\":{\"type\":\"string\"},"                                          \
    "\"userAgent\":{\"type\":\"string\"},"                                   \
    "\"country\":{\"type\":\"string\",\"description\":\"ISO 3166-1 "        \
    "alpha-2 code\"},"                                                       \
    "\"locale\":{\"type\":\"string\"},"                                      \
    "\"appVersion\":{\"type\":\"string\"},"                                  \
    "\"custom\":{\"type\":\"object\",\"description\":\"custom fields the "   \
    "targeting rules read\"},"                                               \
    "\"privateAttributes\":{\"type\":\"object\",\"description\":\"used for " \
    "evaluation, never logged\"},"                                           \
    "\"customIDs\":{\"type\":\"object\",\"additionalProperties\":"           \
    "{\"type\":\"string\"},\"description\":\"unit IDs other than userID, "   \
    "e.g. {\\\"companyID\\\":\\\"c1\\\",\\\"stableID\\\":\\\"...\\\"}\"},"   \
    "\"statsigEnvironment\":{\"type\":\"object\",\"properties\":"            \
    "{\"tier\":{\"type\":\"string\"}}}}}"

#define SG_NO_EXPOSURE                                                       \
    "\"disableExposureLogging\":{\"type\":\"boolean\",\"description\":"      \
    "\"true: log no exposure for this check (default false: logged as the "  \
    "SDK logs it)\"}"

#define SG_EVAL_ANNOTATIONS(title)                                           \
    "\"annotations\":{\"title\":\"" title "\",\"readOnlyHint\":true,"        \
    "\"destructiveHint\":false,\"idempotentHint\":true,"                     \
    "\"openWorldHint\":false}"

#define SG_EVENT_ANNOTATIONS(title)                                          \
    "\"annotations\":{\"title\":\"" title "\",\"readOnlyHint\":false,"       \
    "\"destructiveHint\":false,\"idempotentHint\":false,"                    \
    "\"openWorldHint\":true}"

#define SG_QUEUED_SCHEMA                                                     \
    "\"outputSchema\":{\"type\":\"object\",\"properties\":{\"success\":"     \
    "{\"type\":\"boolean\"}},\"required\":[\"success\"]}"

#define SG_RESULT_PROPS                                                      \
    "\"name\":{\"type\":\"string\"},"                                        \
    "\"rule_id\":{\"type\":\"string\",\"description\":\"the rule that "      \
    "decided, or default / disabled / layerAssignment / ...\"},"             \
    "\"group_name\":{\"type\":[\"string\",\"null\"]}"


static const sg_mcp_tool_t  sg_mcp_tools[STATSIG_MCP_NTOOLS] = {

    { "log-events",
      "{\"name\":\"log-events\",\"title\":\"Log Statsig events\","
      "\"description\":\"Queue custom events for Statsig's log_event (as "
      "POST /v1/log-event does): the edge posts them with its own server "
      "key. Answers {success:true} once queued.\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"body\":{\"type\":\"object\",\"description\":\"{\\\"events\\\":"
      "[...]}, as Statsig's log_event takes it\",\"properties\":{"
      "\"events\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
      "\"properties\":{"
      "\"eventName\":{\"type\":\"string\",\"minLength\":1},"
      "\"user\":{\"type\":\"object\",\"description\":\"the StatsigUser the "
      "event is about (userID, customIDs, ...)\"},"
      "\"value\":{\"type\":[\"string\",\"number\",\"null\"]},"
      "\"metadata\":{\"type\":\"object\",\"additionalProperties\":"
      "{\"type\":\"string\"}},"
      "\"time\":{\"type\":\"integer\",\"description\":\"ms since the "
      "epoch, by the client's clock\"}},"
      "\"required\":[\"eventName\"]}}},\"required\":[\"events\"]},"
      "\"STATSIG-CLIENT-TIME\":{\"type\":\"integer\",\"description\":\"the "
      "client's clock (ms since the epoch) when it sent the events: their "
      "times are moved by its skew against the edge's clock. Default: now "
      "(no correction)\"}},"
      "\"required\":[\"body\"],\"additionalProperties\":false},"
      SG_QUEUED_SCHEMA ","
      SG_EVENT_ANNOTATIONS("Log Statsig events") "}",
      { { "body", SG_A_OBJECT, 1 },
        { "STATSIG-CLIENT-TIME", SG_A_INT, 0 } } },

    { "track-customer-event",
      "{\"name\":\"track-customer-event\",\"title\":\"Track a Customer.io "
      "event for a person\",\"description\":\"Queue an event for a known "
      "Customer.io person (as POST /v1/customers/{identifier}/events): "
      "checked as Customer.io checks it, then posted with the edge's "
      "credentials. Answers {success:true} once queued.\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"identifier\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":"
      "150,\"description\":\"the person's Customer.io identifier (their id "
      "or email)\"},"
      "\"body\":{\"type\":\"object\",\"description\":\"Customer.io's own "
      "event body\",\"properties\":{"
      "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
      "\"data\":{\"type\":\"object\",\"description\":\"event attributes "
      "(at most 100 KB)\"},"
      "\"timestamp\":{\"type\":\"integer\",\"description\":\"unix seconds; "
      "default now\"},"
      "\"id\":{\"type\":\"string\",\"description\":\"a ULID: Customer.io "
      "keeps one event per id\"},"
      "\"type\":{\"type\":\"string\",\"enum\":[\"event\",\"page\","
      "\"screen\"]}},\"required\":[\"name\"]}},"
      "\"required\":[\"identifier\",\"body\"],"
      "\"additionalProperties\":false},"
      SG_QUEUED_SCHEMA ","
      SG_EVENT_ANNOTATIONS("Track a Customer.io event for a person") "}",
      { { "identifier", SG_A_STRING, 1 },
        { "body", SG_A_OBJECT, 1 } } },

    { "track-anonymous-event",
      "{\"name\":\"track-anonymous-event\",\"title\":\"Track an anonymous "
      "Customer.io event\",\"description\":\"Queue an anonymous Customer.io "
      "event (as POST /v1/events): checked as Customer.io checks it, then "
      "posted with the edge's credentials. Answers {success:true} once "
      "queued.\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"body\":{\"type\":\"object\",\"description\":\"Customer.io's own "
      "anonymous event body\",\"properties\":{"
      "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
      "\"anonymous_id\":{\"type\":\"string\",\"minLength\":1,"
      "\"maxLength\":150,\"description\":\"ties the event to a person "
      "identified later\"},"
      "\"data\":{\"type\":\"object\"},"
      "\"timestamp\":{\"type\":\"integer\",\"description\":\"unix seconds; "
      "default now\"},"
      "\"id\":{\"type\":\"string\"},"
      "\"type\":{\"type\":\"string\",\"enum\":[\"event\",\"page\","
      "\"screen\"]}},\"required\":[\"name\"]}},"
      "\"required\":[\"body\"],\"additionalProperties\":false},"
      SG_QUEUED_SCHEMA ","
      SG_EVENT_ANNOTATIONS("Track an anonymous Customer.io event") "}",
      { { "body", SG_A_OBJECT, 1 } } },

    { "gainsight-send-custom-event",
      "{\"name\":\"gainsight-send-custom-event\",\"title\":\"Send a "
      "Gainsight PX custom event\",\"description\":\"Queue a Gainsight PX "
      "custom event (as POST /v1/custom-events): checked as Gainsight PX "
      "checks it, then posted with the edge's API key (propertyKey "
      "defaults to the edge's product key). Answers {success:true} once "
      "queued.\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"body\":{\"type\":\"object\",\"description\":\"Gainsight PX's own "
      "CustomEvent body\",\"properties\":{"
      "\"eventName\":{\"type\":\"string\",\"minLength\":1},"
      "\"identifyId\":{\"type\":\"string\",\"minLength\":1,"
      "\"description\":\"the user's id in Gainsight PX\"},"
      "\"propertyKey\":{\"type\":\"string\",\"description\":\"AP-... "
      "product key; default the edge's\"},"
      "\"userType\":{\"type\":\"string\",\"enum\":[\"USER\",\"LEAD\","
      "\"VISITOR\",\"EMPTY_USER_TYPE\"]},"
      "\"date\":{\"type\":\"integer\",\"description\":\"ms since the "
      "epoch; default now\"},"
      "\"accountId\":{\"type\":\"string\"},"
      "\"attributes\":{\"type\":\"object\",\"maxProperties\":50,"
      "\"additionalProperties\":{\"type\":[\"string\",\"number\","
      "\"boolean\"]}},"
      "\"globalContext\":{\"type\":\"object\"}},"
      "\"required\":[\"eventName\",\"identifyId\"]}},"
      "\"required\":[\"body\"],\"additionalProperties\":false},"
      SG_QUEUED_SCHEMA ","
      SG_EVENT_ANNOTATIONS("Send a Gainsight PX custom event") "}",
      { { "body", SG_A_OBJECT, 1 } } },

    { "check-gate",
      "{\"name\":\"check-gate\",\"title\":\"Check a feature gate\","
      "\"description\":\"Whether a feature gate passes for a user, as a "
      "Statsig server SDK's checkGate answers it, on the edge's current "
      "specs (logs the gate's exposure, as the SDK does).\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"user\":" SG_USER_SCHEMA ","
      "\"gateName\":{\"type\":\"string\",\"minLength\":1},"
      SG_NO_EXPOSURE "},"
      "\"required\":[\"user\",\"gateName\"],\"additionalProperties\":false},"
      "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
      SG_RESULT_PROPS ",\"value\":{\"type\":\"boolean\"}},"
      "\"required\":[\"name\",\"value\",\"rule_id\",\"group_name\"]},"
      SG_EVAL_ANNOTATIONS("Check a feature gate") "}",
      { { "user", SG_A_OBJECT, 1 },
        { "gateName", SG_A_STRING, 1 },
        { "disableExposureLogging", SG_A_BOOL, 0 } } },

    { "get-config",
      "{\"name\":\"get-config\",\"title\":\"Get a dynamic config\","
      "\"description\":\"A dynamic config's value for a user, as a Statsig "
      "server SDK's getConfig answers it (logs the config's exposure).\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"user\":" SG_USER_SCHEMA ","
      "\"configName\":{\"type\":\"string\",\"minLength\":1},"
      SG_NO_EXPOSURE "},"
      "\"required\":[\"user\",\"configName\"],"
      "\"additionalProperties\":false},"
      "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
      SG_RESULT_PROPS ",\"value\":{\"type\":\"object\"},"
      "\"group\":{\"type\":\"string\",\"description\":\"deprecated copy of "
      "rule_id\"}},"
      "\"required\":[\"name\",\"value\",\"rule_id\",\"group_name\"]},"
      SG_EVAL_ANNOTATIONS("Get a dynamic config") "}",
      { { "user", SG_A_OBJECT, 1 },
        { "configName", SG_A_STRING, 1 },
        { "disableExposureLogging", SG_A_BOOL, 0 } } },

    { "get-experiment",
      "{\"name\":\"get-experiment\",\"title\":\"Get an experiment\","
      "\"description\":\"An experiment's group (group_name) and parameters "
      "(value) for a user, as a Statsig server SDK's getExperiment answers "
      "it (logs the exposure).\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"user\":" SG_USER_SCHEMA ","
      "\"experimentName\":{\"type\":\"string\",\"minLength\":1},"
      SG_NO_EXPOSURE "},"
      "\"required\":[\"user\",\"experimentName\"],"
      "\"additionalProperties\":false},"
      "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
      SG_RESULT_PROPS ",\"value\":{\"type\":\"object\"},"
      "\"group\":{\"type\":\"string\"}},"
      "\"required\":[\"name\",\"value\",\"rule_id\",\"group_name\"]},"
      SG_EVAL_ANNOTATIONS("Get an experiment") "}",
      { { "user", SG_A_OBJECT, 1 },
        { "experimentName", SG_A_STRING, 1 },
        { "disableExposureLogging", SG_A_BOOL, 0 } } },

    { "get-layer",
      "{\"name\":\"get-layer\",\"title\":\"Get a layer\","
      "\"description\":\"A layer's parameters for a user and the "
      "experiment it allocated them from, as a Statsig server SDK's "
      "getLayer answers it. A layer logs no exposure by itself: name in "
      "parameters those the caller reads, each logs its layer exposure as "
      "reading it in an SDK does.\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"user\":" SG_USER_SCHEMA ","
      "\"layerName\":{\"type\":\"string\",\"minLength\":1},"
      "\"parameters\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
      "\"description\":\"parameters read (exposures)\"},"
      SG_NO_EXPOSURE "},"
      "\"required\":[\"user\",\"layerName\"],"
      "\"additionalProperties\":false},"
      "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
      SG_RESULT_PROPS ",\"value\":{\"type\":\"object\"},"
      "\"allocated_experiment_name\":{\"type\":[\"string\",\"null\"]}},"
      "\"required\":[\"name\",\"value\",\"rule_id\",\"group_name\","
      "\"allocated_experiment_name\"]},"
      SG_EVAL_ANNOTATIONS("Get a layer") "}",
      { { "user", SG_A_OBJECT, 1 },
        { "layerName", SG_A_STRING, 1 },
        { "parameters", SG_A_STRINGS, 0 },
        { "disableExposureLogging", SG_A_BOOL, 0 } } },

    { "list-entities",
      "{\"name\":\"list-entities\",\"title\":\"List gates, configs, "
      "experiments and layers\",\"description\":\"The names and kinds of "
      "the entities in the edge's current specs, in the specs' order, with "
      "the tool that evaluates each.\","
      "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"kind\":{\"type\":\"string\",\"enum\":[\"feature_gate\","
      "\"holdout\",\"segment\",\"dynamic_config\",\"experiment\","
      "\"autotune\",\"layer\"],\"description\":\"only entities of this "
      "kind\"},"
      "\"offset\":{\"type\":\"integer\",\"minimum\":0,\"description\":"
      "\"skip this many (next_offset of the answer before)\"},"
      "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5000,"
      "\"description\":\"at most this many (default 1000)\"}},"
      "\"additionalProperties\":false},"
      "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
      "\"entities\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
      "\"properties\":{\"name\":{\"type\":\"string\"},\"kind\":"
      "{\"type\":\"string\"},\"tool\":{\"type\":\"string\"}},"
      "\"required\":[\"name\",\"kind\",\"tool\"]}},"
      "\"total\":{\"type\":\"integer\"},"
      "\"next_offset\":{\"type\":[\"integer\",\"null\"]}},"
      "\"required\":[\"entities\",\"total\",\"next_offset\"]},"
      SG_EVAL_ANNOTATIONS("List gates, configs, experiments and layers")
      "}",
      { { "kind", SG_A_KIND, 0 },
        { "offset", SG_A_INT, 0 },
        { "limit", SG_A_INT, 0 } } }
};


/* entity kinds as list-entities names them, by statsig_entity_e */
static const char *const  sg_mcp_kinds[] = {
    "feature_gate", "holdout", "segment", "dynamic_config", "experiment",
    "autotune", "layer", NULL
};


void
statsig_mcp_tools_list(statsig_buf_t *b)
{
    int  t;

    statsig_buf_adds(b, "{\"tools\":[");

    for (t = 0; t < STATSIG_MCP_NTOOLS; t++) {
        if (t) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_adds(b, sg_mcp_tools[t].json);
    }

    statsig_buf_adds(b, "]}");
}


int
statsig_mcp_tool_find(const char *name, size_t len)
{
    int  t;

    for (t = 0; t < STATSIG_MCP_NTOOLS; t++) {
        if (len == strlen(sg_mcp_tools[t].name)
            && memcmp(name, sg_mcp_tools[t].name, len) == 0)
        {
            return t;
        }
    }

    return -1;
}


const char *
statsig_mcp_tool_name(int tool)
{
    if (tool < 0 || tool >= STATSIG_MCP_NTOOLS) {
        return NULL;
    }

    return sg_mcp_tools[tool].name;
}


const char *
statsig_mcp_call_params(const statsig_value_t *params, int *tool,
    const statsig_value_t **args)
{
    const statsig_value_t  *name, *a;

    name = statsig_value_get(params, "name", 4);

    if (name == NULL || name->type != STATSIG_V_STRING) {
        return "tools/call needs params.name, the tool's name";
    }

    *tool = statsig_mcp_tool_find(name->str, name->len);

    if (*tool < 0) {
        return "no such tool (tools/list has them)";
    }

    a = statsig_value_get(params, "arguments", 9);

    if (statsig_value_nullish(a)) {
        *args = NULL;
        return NULL;
    }

    if (a->type != STATSIG_V_OBJECT) {
        return "params.arguments must be an object";
    }

    *args = a;

    return NULL;
}


static int
sg_mcp_kind(const statsig_value_t *v)
{
    int  k;

    if (v == NULL || v->type != STATSIG_V_STRING) {
        return -1;
    }

    for (k = 0; sg_mcp_kinds[k]; k++) {
        if (sg_mcp_is(v, sg_mcp_kinds[k])) {
            return k;
        }
    }

    return -1;
}


static const char *
sg_mcp_type_name(int type)
{
    switch (type) {
    case SG_A_OBJECT:
        return "an object";
    case SG_A_STRING:
        return "a non-empty string";
    case SG_A_INT:
        return "an integer >= 0";
    case SG_A_BOOL:
        return "a boolean";
    case SG_A_STRINGS:
        return "an array of strings";
    default:
        return "one of feature_gate, holdout, segment, dynamic_config, "
               "experiment, autotune, layer";
    }
}


static int
sg_mcp_type_ok(int type, const statsig_value_t *v)
{
    size_t  i;

    switch (type) {

    case SG_A_OBJECT:
        return v->type == STATSIG_V_OBJECT;

    case SG_A_STRING:
        return v->type == STATSIG_V_STRING && v->len > 0;

    case SG_A_INT:
        return v->type == STATSIG_V_NUMBER && isfinite(v->num)
               && v->num >= 0 && v->num <= 9007199254740991.0
               && floor(v->num) == v->num;

    case SG_A_BOOL:
        return v->type == STATSIG_V_BOOL;

    case SG_A_STRINGS:
        if (v->type != STATSIG_V_ARRAY) {
            return 0;
        }

        for (i = 0; i < v->n; i++) {
            if (v->items[i].type != STATSIG_V_STRING) {
                return 0;
            }
        }

        return 1;

    default: /* SG_A_KIND */
        return sg_mcp_kind(v) >= 0;
    }
}


/* ", "-joined names of the tool's arguments */
static void
sg_mcp_arg_names(const sg_mcp_tool_t *t, char *out, size_t size)
{
    int     i;
    size_t  len;

    out[0] = '\0';
    len = 0;

    for (i = 0; i < SG_MCP_MAX_ARGS && t->args[i].name; i++) {
        len += (size_t) snprintf(out + len, len < size ? size - len : 0,
                                 "%s%s", i ? ", " : "", t->args[i].name);
    }

    if (i == 0) {
        snprintf(out, size, "none");
    }
}


int
statsig_mcp_tool_args(int tool, const statsig_value_t *args, char *err,
    size_t errlen)
{
    int                     i;
    size_t                  k, n;
    char                    names[128];
    const sg_mcp_tool_t    *t;
    const sg_mcp_arg_t     *a;
    const statsig_value_t  *v;

    if (tool < 0 || tool >= STATSIG_MCP_NTOOLS) {
        snprintf(err, errlen, "no such tool");
        return -1;
    }

    t = &sg_mcp_tools[tool];

    if (args != NULL && args->type != STATSIG_V_OBJECT) {
        snprintf(err, errlen, "the arguments must be an object");
        return -1;
    }

    for (i = 0; i < SG_MCP_MAX_ARGS && t->args[i].name; i++) {
        a = &t->args[i];
        v = statsig_value_get(args, a->name, strlen(a->name));

        if (v == NULL || v->type == STATSIG_V_UNDEFINED
            || (v->type == STATSIG_V_NULL && !a->required))
        {
            if (a->required) {
                snprintf(err, errlen, "%s needs the argument \"%s\" (%s)",
                         t->name, a->name, sg_mcp_type_name(a->type));
                return -1;
            }

            continue;
        }

        if (!sg_mcp_type_ok(a->type, v)) {
            snprintf(err, errlen, "the argument \"%s\" must be %s",
                     a->name, sg_mcp_type_name(a->type));
            return -1;
        }
    }

    n = args ? args->n : 0;

    for (k = 0; k < n; k++) {
        for (i = 0; i < SG_MCP_MAX_ARGS && t->args[i].name; i++) {
            if (args->key_lens[k] == strlen(t->args[i].name)
                && memcmp(args->keys[k], t->args[i].name, args->key_lens[k])
                   == 0)
            {
                break;
            }
        }

        if (i == SG_MCP_MAX_ARGS || t->args[i].name == NULL) {
            sg_mcp_arg_names(t, names, sizeof(names));
            snprintf(err, errlen, "unknown argument \"%.64s\": %s takes %s",
                     args->keys[k], t->name, names);
            return -1;
        }
    }

    return 0;
}


void
statsig_mcp_tool_result(statsig_buf_t *b, const char *json, size_t len)
{
    statsig_buf_adds(b, "{\"content\":[{\"type\":\"text\",\"text\":");
    statsig_buf_json_str(b, json, len);
    statsig_buf_adds(b, "}],\"structuredContent\":");
    statsig_buf_add(b, json, len);
    statsig_buf_adds(b, ",\"isError\":false}");
}


void
statsig_mcp_tool_error(statsig_buf_t *b, const char *reason, size_t len)
{
    statsig_buf_adds(b, "{\"content\":[{\"type\":\"text\",\"text\":");
    statsig_buf_json_str(b, reason, len);
    statsig_buf_adds(b, "}],\"isError\":true}");
}


/* ---- list-entities ---- */

static const char *
sg_mcp_entity_tool(statsig_entity_e e)
{
    switch (e) {
    case STATSIG_ENTITY_DYNAMIC_CONFIG:
        return "get-config";
    case STATSIG_ENTITY_EXPERIMENT:
    case STATSIG_ENTITY_AUTOTUNE:
        return "get-experiment";
    case STATSIG_ENTITY_LAYER:
        return "get-layer";
    default:
        return "check-gate";
    }
}


static uint64_t
sg_mcp_int(const statsig_value_t *args, const char *key, uint64_t dflt)
{
    const statsig_value_t  *v;

    v = statsig_value_get(args, key, strlen(key));

    if (v == NULL || v->type != STATSIG_V_NUMBER || !(v->num >= 0)) {
        return dflt;
    }

    return v->num >= 9007199254740991.0 ? (uint64_t) 9007199254740991ULL
                                        : (uint64_t) v->num;
}


void
statsig_mcp_list_entities(statsig_buf_t *b, const statsig_snapshot_t *snap,
    const statsig_value_t *args)
{
    int                    kind, k;
    uint32_t               i, n;
    uint64_t               offset, limit, total, listed;
    statsig_str_t          name;
    statsig_entity_e       e;
    const statsig_spec_t  *spec;

    static const statsig_kind_e  kinds[] = {
        STATSIG_KIND_GATE, STATSIG_KIND_CONFIG, STATSIG_KIND_LAYER
    };

    kind = sg_mcp_kind(statsig_value_get(args, "kind", 4));
    offset = sg_mcp_int(args, "offset", 0);
    limit = sg_mcp_int(args, "limit", STATSIG_MCP_LIST_DEFAULT);

    if (limit < 1 || limit > STATSIG_MCP_LIST_MAX) {
        limit = limit < 1 ? 1 : STATSIG_MCP_LIST_MAX;
    }

    total = 0;
    listed = 0;

    statsig_buf_adds(b, "{\"entities\":[");

    for (k = 0; k < 3 && snap; k++) {
        n = statsig_spec_count(snap, kinds[k]);

        for (i = 0; i < n; i++) {
            spec = statsig_spec_at(snap, kinds[k], i);
            e = statsig_spec_entity(spec);

            if (e >= STATSIG_ENTITY_OTHER || (kind >= 0 && (int) e != kind)) {
                continue;
            }

            total++;

            if (total <= offset || listed >= limit) {
                continue;
            }

            name = statsig_spec_name(snap, spec);

            statsig_buf_adds(b, listed ? ",{\"name\":" : "{\"name\":");
            statsig_buf_json_str(b, name.data ? name.data : "",
                                 name.data ? name.len : 0);
            statsig_buf_adds(b, ",\"kind\":\"");
            statsig_buf_adds(b, sg_mcp_kinds[e]);
            statsig_buf_adds(b, "\",\"tool\":\"");
            statsig_buf_adds(b, sg_mcp_entity_tool(e));
            statsig_buf_adds(b, "\"}");

            listed++;
        }
    }

    statsig_buf_adds(b, "],\"total\":");
    statsig_buf_json_int(b, (long long) total);
    statsig_buf_adds(b, ",\"next_offset\":");

    if (offset + listed < total) {
        statsig_buf_json_int(b, (long long) (offset + listed));

    } else {
        statsig_buf_adds(b, "null");
    }

    statsig_buf_addc(b, '}');
}


/* ---- sessions ---- */

static const char  sg_mcp_hex[] = "0123456789abcdef";


/* the mac of "<nonce>.<v>" as 32 hex digits */
static int
sg_mcp_session_mac(const char *secret, size_t slen, const char *id,
    char *out)
{
    unsigned int   klen, mlen;
    unsigned char  key[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    size_t         i;

    static const char  label[] = "statsig mcp session id, v1";

    /* a key of its own: the secret itself is used for nothing else here */
    if (HMAC(EVP_sha256(), secret, (int) slen,
             (const unsigned char *) label, sizeof(label) - 1, key, &klen)
        == NULL)
    {
        return -1;
    }

    if (HMAC(EVP_sha256(), key, (int) klen, (const unsigned char *) id,
             STATSIG_MCP_NONCE_LEN + 2, mac, &mlen)
        == NULL || mlen < 16)
    {
        OPENSSL_cleanse(key, sizeof(key));
        return -1;
    }

    OPENSSL_cleanse(key, sizeof(key));

    for (i = 0; i < 16; i++) {
        out[2 * i] = sg_mcp_hex[mac[i] >> 4];
        out[2 * i + 1] = sg_mcp_hex[mac[i] & 0x0f];
    }

    return 0;
}


static int
sg_mcp_nonce_ok(const char *nonce)
{
    size_t  i;
    char    c;

    for (i = 0; i < STATSIG_MCP_NONCE_LEN; i++) {
        c = nonce[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return 0;
            }

        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }

    return 1;
}


int
statsig_mcp_session_make(const char *secret, size_t slen, const char *nonce,
    int version, char *out)
{
    if (slen == 0 || version < 0 || version >= STATSIG_MCP_NVERSIONS
        || !sg_mcp_nonce_ok(nonce))
    {
        return -1;
    }

    memcpy(out, nonce, STATSIG_MCP_NONCE_LEN);
    out[STATSIG_MCP_NONCE_LEN] = '.';
    out[STATSIG_MCP_NONCE_LEN + 1] = (char) ('0' + version);
    out[STATSIG_MCP_NONCE_LEN + 2] = '.';

    if (sg_mcp_session_mac(secret, slen, out, out + STATSIG_MCP_NONCE_LEN + 3)
        != 0)
    {
        return -1;
    }

    out[STATSIG_MCP_SESSION_LEN] = '\0';

    return 0;
}


int
statsig_mcp_session_check(const char *secret, size_t slen, const char *id,
    size_t len, int *version)
{
    int   v;
    char  mac[32];

    if (slen == 0 || len != STATSIG_MCP_SESSION_LEN
        || !sg_mcp_nonce_ok(id)
        || id[STATSIG_MCP_NONCE_LEN] != '.'
        || id[STATSIG_MCP_NONCE_LEN + 2] != '.')
    {
        return -1;
    }

    v = id[STATSIG_MCP_NONCE_LEN + 1] - '0';

    if (v < 0 || v >= STATSIG_MCP_NVERSIONS) {
        return -1;
    }

    if (sg_mcp_session_mac(secret, slen, id, mac) != 0
        || CRYPTO_memcmp(mac, id + STATSIG_MCP_NONCE_LEN + 3, 32) != 0)
    {
        return -1;
    }

    *version = v;

    return 0;
}
