/*
 * Unit tests: the MCP server's pure logic (src/core/mcp.c): versions and
 * their negotiation, JSON-RPC messages as read, envelopes as written, the
 * tools' list (parsed with jansson: every schema an object, names as the
 * spec allows, the argument table and the schemas saying the same), the
 * argument checks of every tool, results, list-entities on a compiled
 * snapshot with its pages, and session ids (made, checked, and refused
 * when any byte, the secret or the length differs).
 */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mcp.h"
#include "statsig.h"
#include "tap.h"
#include "value_test.h"


static const char *
text(statsig_buf_t *b)
{
    statsig_buf_addc(b, '\0');
    b->len--;
    return b->data;
}


static void
msg_is(const char *json, statsig_mcp_msg_e kind, statsig_mcp_method_e method,
    const char *name)
{
    statsig_mcp_msg_t  m;

    statsig_mcp_message(val(json), &m);
    ok(m.kind == kind && m.method == method
       && (kind != STATSIG_MCP_MSG_INVALID || m.error != NULL),
       "%s: %s", name, json);
    if (m.kind != kind) {
        printf("#   kind %d, expected %d (%s)\n", (int) m.kind, (int) kind,
               m.error ? m.error : "");
    }
}


static void
args_fail(int tool, const char *json, const char *want, const char *name)
{
    char  err[256];
    int   rc;

    err[0] = '\0';
    rc = statsig_mcp_tool_args(tool, val(json), err, sizeof(err));
    ok(rc == -1 && strstr(err, want) != NULL, "%s: %s", name, err);
}


static void
args_ok(int tool, const char *json, const char *name)
{
    char  err[256];

    err[0] = '\0';
    ok(statsig_mcp_tool_args(tool, val(json), err, sizeof(err)) == 0,
       "%s %s", name, err);
}


static void
test_versions(void)
{
    is_str(statsig_mcp_version_name(STATSIG_MCP_V_2025_11_25), "2025-11-25",
           "the latest");
    is_int(statsig_mcp_version_find("2025-06-18", 10),
           STATSIG_MCP_V_2025_06_18, "2025-06-18 served");
    is_int(statsig_mcp_version_find("2024-11-05", 10), -1, "2024-11-05 not");
    is_int(statsig_mcp_version_find("2025-06-1", 9), -1, "a prefix is not");
    ok(statsig_mcp_version_name(-1) == NULL
       && statsig_mcp_version_name(STATSIG_MCP_NVERSIONS) == NULL,
       "no name out of range");
    ok(statsig_mcp_version_batches(STATSIG_MCP_V_2025_03_26)
       && !statsig_mcp_version_batches(STATSIG_MCP_V_2025_06_18)
       && !statsig_mcp_version_batches(STATSIG_MCP_V_2025_11_25),
       "batches: 2025-03-26 only");

    is_int(statsig_mcp_negotiate(val("{\"protocolVersion\":\"2025-06-18\"}")),
           STATSIG_MCP_V_2025_06_18, "negotiate: a served one echoed");
    is_int(statsig_mcp_negotiate(val("{\"protocolVersion\":\"2099-01-01\"}")),
           STATSIG_MCP_V_LATEST, "negotiate: another, the latest");
    is_int(statsig_mcp_negotiate(val("{\"protocolVersion\":20250618}")), -1,
           "negotiate: not a string");
    is_int(statsig_mcp_negotiate(NULL), -1, "negotiate: no params");
}


static void
test_messages(void)
{
    statsig_mcp_msg_t  m;

    msg_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
           STATSIG_MCP_MSG_REQUEST, STATSIG_MCP_M_PING, "ping");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"initialize\","
           "\"params\":{}}", STATSIG_MCP_MSG_REQUEST,
           STATSIG_MCP_M_INITIALIZE, "initialize");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"tools/list\"}",
           STATSIG_MCP_MSG_REQUEST, STATSIG_MCP_M_TOOLS_LIST, "id 0");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":-3,\"method\":\"tools/call\"}",
           STATSIG_MCP_MSG_REQUEST, STATSIG_MCP_M_TOOLS_CALL,
           "a negative id");
    msg_is("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
           STATSIG_MCP_MSG_NOTIFICATION, STATSIG_MCP_M_INITIALIZED,
           "initialized");
    msg_is("{\"jsonrpc\":\"2.0\",\"method\":\"x/y\"}",
           STATSIG_MCP_MSG_NOTIFICATION, STATSIG_MCP_M_UNKNOWN,
           "another notification");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Ping\"}",
           STATSIG_MCP_MSG_REQUEST, STATSIG_MCP_M_UNKNOWN,
           "methods are case-sensitive");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
           STATSIG_MCP_MSG_RESPONSE, STATSIG_MCP_M_UNKNOWN, "a response");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{}}",
           STATSIG_MCP_MSG_RESPONSE, STATSIG_MCP_M_UNKNOWN,
           "an error response");

    msg_is("[]", STATSIG_MCP_MSG_INVALID, STATSIG_MCP_M_UNKNOWN,
           "an array");
    msg_is("{\"id\":1,\"method\":\"ping\"}", STATSIG_MCP_MSG_INVALID,
           STATSIG_MCP_M_UNKNOWN, "no jsonrpc");
    msg_is("{\"jsonrpc\":2,\"id\":1,\"method\":\"ping\"}",
           STATSIG_MCP_MSG_INVALID, STATSIG_MCP_M_UNKNOWN, "jsonrpc 2");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
           STATSIG_MCP_MSG_INVALID, STATSIG_MCP_M_UNKNOWN, "id null");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
           STATSIG_MCP_MSG_INVALID, STATSIG_MCP_M_UNKNOWN, "id true");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
           STATSIG_MCP_MSG_INVALID, STATSIG_MCP_M_UNKNOWN, "id an array");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":0.5,\"method\":\"ping\"}",
           STATSIG_MCP_MSG_INVALID, STATSIG_MCP_M_UNKNOWN, "id 0.5");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}",
           STATSIG_MCP_MSG_INVALID, STATSIG_MCP_M_UNKNOWN,
           "an empty method");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":{}}",
           STATSIG_MCP_MSG_INVALID, STATSIG_MCP_M_UNKNOWN,
           "a method object");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
           "\"params\":[1]}", STATSIG_MCP_MSG_INVALID,
           STATSIG_MCP_M_UNKNOWN, "params an array");
    msg_is("{\"jsonrpc\":\"2.0\",\"id\":1}", STATSIG_MCP_MSG_INVALID,
           STATSIG_MCP_M_UNKNOWN, "no method, no result");
    msg_is("{\"jsonrpc\":\"2.0\",\"result\":{}}", STATSIG_MCP_MSG_INVALID,
           STATSIG_MCP_M_UNKNOWN, "a response without an id");

    statsig_mcp_message(val("{\"jsonrpc\":\"1.0\",\"id\":\"k\","
                            "\"method\":\"ping\"}"), &m);
    ok(m.id && m.id->type == STATSIG_V_STRING,
       "an invalid message keeps a usable id");
    statsig_mcp_message(NULL, &m);
    ok(m.kind == STATSIG_MCP_MSG_INVALID, "NULL: invalid");
}


static void
test_envelopes(void)
{
    statsig_buf_t  b;

    statsig_buf_init(&b);

    statsig_mcp_error(&b, NULL, STATSIG_MCP_PARSE_ERROR, "bad \"x\"");
    is_str(text(&b), "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
           "{\"code\":-32700,\"message\":\"bad \\\"x\\\"\"}}",
           "an error with a null id");

    b.len = 0;
    statsig_mcp_result_open(&b, val("{\"id\":12345678901}")->items);
    statsig_buf_adds(&b, "{}}");
    is_str(text(&b), "{\"jsonrpc\":\"2.0\",\"id\":12345678901,\"result\":{}}",
           "an integer id as an integer");

    b.len = 0;
    statsig_mcp_result_open(&b, val("{\"id\":\"a\\u0001\"}")->items);
    statsig_buf_adds(&b, "{}}");
    is_str(text(&b), "{\"jsonrpc\":\"2.0\",\"id\":\"a\\u0001\",\"result\":{}}",
           "a string id as a string");

    b.len = 0;
    statsig_mcp_initialize_result(&b, STATSIG_MCP_V_2025_06_18, "1.2.3");
    {
        json_t  *j = json_loads(text(&b), 0, NULL);

        ok(j != NULL, "initialize's result parses");
        is_str(json_string_value(json_object_get(j, "protocolVersion")),
               "2025-06-18", "initialize: the version");
        is_str(json_string_value(json_object_get(
                   json_object_get(j, "serverInfo"), "version")),
               "1.2.3", "initialize: the server's version");
        ok(json_is_object(json_object_get(
               json_object_get(j, "capabilities"), "tools")),
           "initialize: tools");
        json_decref(j);
    }

    b.len = 0;
    statsig_mcp_tool_result(&b, "{\"a\":\"\\\"\"}", 10);
    is_str(text(&b), "{\"content\":[{\"type\":\"text\",\"text\":"
           "\"{\\\"a\\\":\\\"\\\\\\\"\\\"}\"}],\"structuredContent\":"
           "{\"a\":\"\\\"\"},\"isError\":false}",
           "a result: text and structuredContent");

    b.len = 0;
    statsig_mcp_tool_error(&b, "no \"user\"", 9);
    is_str(text(&b), "{\"content\":[{\"type\":\"text\",\"text\":"
           "\"no \\\"user\\\"\"}],\"isError\":true}", "an error result");

    statsig_buf_free(&b);
}


static void
test_tools(void)
{
    int            t, k, found;
    size_t         i, j;
    char           err[256];
    const char    *name, *req;
    json_t        *root, *tools, *tool, *schema, *props, *required, *ann;
    json_error_t   je;
    statsig_buf_t  b;

    statsig_buf_init(&b);
    statsig_mcp_tools_list(&b);

    root = json_loads(text(&b), 0, &je);
    ok(root != NULL, "tools/list parses (%s)", root ? "" : je.text);
    tools = json_object_get(root, "tools");
    is_int(json_array_size(tools), STATSIG_MCP_NTOOLS, "every tool listed");

    for (t = 0; t < STATSIG_MCP_NTOOLS; t++) {
        tool = json_array_get(tools, t);
        name = json_string_value(json_object_get(tool, "name"));
        is_str(name, statsig_mcp_tool_name(t), "tool %d: its name", t);
        if (name == NULL) {
            continue;
        }

        is_int(statsig_mcp_tool_find(name, strlen(name)), t,
               "%s: found by name", name);
        ok(strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_.-") == strlen(name)
           && strlen(name) <= 128, "%s: a name the spec allows", name);
        ok(json_is_string(json_object_get(tool, "title"))
           && strlen(json_string_value(json_object_get(tool, "description")))
              > 40, "%s: a title and a description", name);

        schema = json_object_get(tool, "inputSchema");
        props = json_object_get(schema, "properties");
        required = json_object_get(schema, "required");
        ok(json_is_object(schema)
           && strcmp(json_string_value(json_object_get(schema, "type")),
                     "object") == 0 && json_is_object(props),
           "%s: inputSchema an object with properties", name);
        ok(json_is_false(json_object_get(schema, "additionalProperties")),
           "%s: no other arguments", name);

        schema = json_object_get(tool, "outputSchema");
        ok(json_is_object(schema)
           && strcmp(json_string_value(json_object_get(schema, "type")),
                     "object") == 0, "%s: outputSchema an object", name);

        ann = json_object_get(tool, "annotations");
        ok(json_is_boolean(json_object_get(ann, "readOnlyHint"))
           && json_is_boolean(json_object_get(ann, "idempotentHint"))
           && json_is_false(json_object_get(ann, "destructiveHint")),
           "%s: annotations", name);
        ok(json_is_true(json_object_get(ann, "readOnlyHint"))
           == (t >= STATSIG_MCP_T_CHECK_GATE), "%s: read-only %s", name,
           t >= STATSIG_MCP_T_CHECK_GATE ? "(an evaluation)" : "no (events)");

        /* each required argument: without it, the check says so */
        found = 1;
        for (i = 0; i < json_array_size(required); i++) {
            req = json_string_value(json_array_get(required, i));
            found &= json_object_get(props, req) != NULL;
            err[0] = '\0';
            ok(statsig_mcp_tool_args(t, val("{}"), err, sizeof(err)) == -1
               && strstr(err, "needs the argument") != NULL,
               "%s: {} refused (%s)", name, err);
        }
        ok(found, "%s: every required argument is a property", name);

        /* every property is an argument the check takes (not unknown) */
        k = 0;
        {
            const char  *key;
            json_t      *v;
            char         one[256];

            json_object_foreach(props, key, v) {
                snprintf(one, sizeof(one), "{\"%s\":null}", key);
                err[0] = '\0';
                (void) statsig_mcp_tool_args(t, val(one), err, sizeof(err));
                k += strstr(err, "unknown argument") != NULL;
            }
        }
        is_int(k, 0, "%s: the schema's properties are the check's", name);
    }

    for (i = 0; i < json_array_size(tools); i++) {
        for (j = i + 1; j < json_array_size(tools); j++) {
            ok(strcmp(json_string_value(json_object_get(
                          json_array_get(tools, i), "name")),
                      json_string_value(json_object_get(
                          json_array_get(tools, j), "name"))) != 0,
               "names %zu and %zu differ", i, j);
        }
    }

    json_decref(root);
    statsig_buf_free(&b);

    is_int(statsig_mcp_tool_find("check-gat", 9), -1, "a prefix: no tool");
    ok(statsig_mcp_tool_name(STATSIG_MCP_NTOOLS) == NULL, "no name beyond");
}


static void
test_call_params(void)
{
    int                     tool;
    const statsig_value_t  *args;

    tool = -2;
    args = (void *) 1;
    ok(statsig_mcp_call_params(val("{\"name\":\"get-layer\"}"), &tool, &args)
       == NULL && tool == STATSIG_MCP_T_GET_LAYER && args == NULL,
       "a name and no arguments");
    ok(statsig_mcp_call_params(val("{\"name\":\"ping\",\"arguments\":{}}"),
                               &tool, &args) != NULL, "not a tool");
    ok(statsig_mcp_call_params(val("{\"arguments\":{}}"), &tool, &args)
       != NULL, "no name");
    ok(statsig_mcp_call_params(val("{\"name\":[]}"), &tool, &args) != NULL,
       "a name that is not a string");
    ok(statsig_mcp_call_params(val("{\"name\":\"check-gate\","
                                   "\"arguments\":[1]}"), &tool, &args)
       != NULL, "arguments an array");
    ok(statsig_mcp_call_params(val("{\"name\":\"check-gate\","
                                   "\"arguments\":null}"), &tool, &args)
       == NULL && args == NULL, "arguments null: as none");
    ok(statsig_mcp_call_params(NULL, &tool, &args) != NULL, "no params");
}


static void
test_args(void)
{
    args_ok(STATSIG_MCP_T_CHECK_GATE,
            "{\"user\":{\"userID\":\"u\"},\"gateName\":\"g\"}", "check-gate");
    args_ok(STATSIG_MCP_T_CHECK_GATE,
            "{\"user\":{},\"gateName\":\"g\",\"disableExposureLogging\":true}",
            "check-gate, no exposure (the user is the API's to judge)");
    args_fail(STATSIG_MCP_T_CHECK_GATE, "{\"gateName\":\"g\"}",
              "needs the argument \"user\"", "check-gate without user");
    args_fail(STATSIG_MCP_T_CHECK_GATE, "{\"user\":{},\"gateName\":\"\"}",
              "\"gateName\" must be a non-empty string", "an empty name");
    args_fail(STATSIG_MCP_T_CHECK_GATE, "{\"user\":\"u\",\"gateName\":\"g\"}",
              "\"user\" must be an object", "a string user");
    args_fail(STATSIG_MCP_T_CHECK_GATE,
              "{\"user\":{},\"gateName\":\"g\",\"gateNames\":[]}",
              "unknown argument \"gateNames\": check-gate takes user, "
              "gateName, disableExposureLogging", "an unknown argument");
    args_fail(STATSIG_MCP_T_CHECK_GATE,
              "{\"user\":{},\"gateName\":\"g\","
              "\"disableExposureLogging\":1}", "must be a boolean",
              "a number for a boolean");
    args_ok(STATSIG_MCP_T_GET_CONFIG, "{\"user\":{},\"configName\":\"c\"}",
            "get-config");
    args_fail(STATSIG_MCP_T_GET_EXPERIMENT, "{\"user\":{},\"configName\":\"c\"}",
              "needs the argument \"experimentName\"",
              "get-experiment takes experimentName");
    args_ok(STATSIG_MCP_T_GET_LAYER,
            "{\"user\":{},\"layerName\":\"l\",\"parameters\":[\"a\",\"b\"]}",
            "get-layer with parameters");
    args_fail(STATSIG_MCP_T_GET_LAYER,
              "{\"user\":{},\"layerName\":\"l\",\"parameters\":[\"a\",1]}",
              "must be an array of strings", "a number among parameters");
    args_ok(STATSIG_MCP_T_LOG_EVENTS, "{\"body\":{}}",
            "log-events (the body is the API's to judge)");
    args_ok(STATSIG_MCP_T_LOG_EVENTS,
            "{\"body\":{},\"STATSIG-CLIENT-TIME\":1700000000000}",
            "log-events with a client time");
    args_ok(STATSIG_MCP_T_LOG_EVENTS,
            "{\"body\":{},\"STATSIG-CLIENT-TIME\":null}",
            "an optional argument null: as absent");
    args_fail(STATSIG_MCP_T_LOG_EVENTS,
              "{\"body\":{},\"STATSIG-CLIENT-TIME\":\"17\"}",
              "must be an integer", "a client time as a string");
    args_fail(STATSIG_MCP_T_LOG_EVENTS,
              "{\"body\":{},\"STATSIG-CLIENT-TIME\":1.5}",
              "must be an integer", "a fractional client time");
    args_fail(STATSIG_MCP_T_LOG_EVENTS,
              "{\"body\":{},\"STATSIG-CLIENT-TIME\":-1}",
              "must be an integer", "a negative client time");
    args_fail(STATSIG_MCP_T_LOG_EVENTS, "{\"body\":null}",
              "\"body\" must be an object", "a required argument null");
    args_fail(STATSIG_MCP_T_LOG_EVENTS, "{\"body\":[]}",
              "\"body\" must be an object", "body an array");
    args_ok(STATSIG_MCP_T_TRACK_CUSTOMER,
            "{\"identifier\":\"a\",\"body\":{\"name\":\"n\"}}",
            "track-customer-event");
    args_fail(STATSIG_MCP_T_TRACK_CUSTOMER, "{\"body\":{}}",
              "needs the argument \"identifier\"", "no identifier");
    args_fail(STATSIG_MCP_T_TRACK_ANONYMOUS,
              "{\"identifier\":\"a\",\"body\":{}}",
              "unknown argument \"identifier\"",
              "track-anonymous-event takes no identifier");
    args_ok(STATSIG_MCP_T_GAINSIGHT, "{\"body\":{}}",
            "gainsight-send-custom-event");
    args_ok(STATSIG_MCP_T_LIST_ENTITIES, "{}", "list-entities: {}");
    args_ok(STATSIG_MCP_T_LIST_ENTITIES,
            "{\"kind\":\"layer\",\"offset\":3,\"limit\":10}",
            "list-entities: a page of layers");
    args_fail(STATSIG_MCP_T_LIST_ENTITIES, "{\"kind\":\"gate\"}",
              "must be one of feature_gate", "an unknown kind");
    args_fail(STATSIG_MCP_T_LIST_ENTITIES, "{\"limit\":\"9\"}",
              "must be an integer", "a limit as a string");
    args_fail(-1, "{}", "no such tool", "tool -1");
    args_fail(STATSIG_MCP_NTOOLS, "{}", "no such tool", "a tool beyond");
    {
        char  err[256];

        ok(statsig_mcp_tool_args(STATSIG_MCP_T_LIST_ENTITIES, NULL, err,
                                 sizeof(err)) == 0,
           "no arguments: as {} for a tool that needs none");
        ok(statsig_mcp_tool_args(STATSIG_MCP_T_CHECK_GATE, NULL, err,
                                 sizeof(err)) == -1, "... not for others");
    }
}


static void
test_entities(void)
{
    static const char  dcs[] =
        "{\"has_updates\":true,\"time\":1000,"
        "\"feature_gates\":["
        "{\"name\":\"g1\",\"type\":\"feature_gate\",\"salt\":\"s\","
        "\"enabled\":true,\"defaultValue\":false,\"idType\":\"userID\","
        "\"entity\":\"feature_gate\",\"rules\":[]},"
        "{\"name\":\"segment:s\",\"type\":\"feature_gate\",\"salt\":\"s\","
        "\"enabled\":true,\"defaultValue\":false,\"idType\":\"userID\","
        "\"entity\":\"segment\",\"rules\":[]},"
        "{\"name\":\"h\\\"q\",\"type\":\"feature_gate\",\"salt\":\"s\","
        "\"enabled\":true,\"defaultValue\":false,\"idType\":\"userID\","
        "\"entity\":\"holdout\",\"rules\":[]}],"
        "\"dynamic_configs\":["
        "{\"name\":\"c\",\"type\":\"dynamic_config\",\"salt\":\"s\","
        "\"enabled\":true,\"defaultValue\":{},\"idType\":\"userID\","
        "\"entity\":\"dynamic_config\",\"rules\":[]},"
        "{\"name\":\"e\",\"type\":\"dynamic_config\",\"salt\":\"s\","
        "\"enabled\":true,\"defaultValue\":{},\"idType\":\"userID\","
        "\"entity\":\"experiment\",\"rules\":[]}],"
        "\"layer_configs\":["
        "{\"name\":\"l\",\"type\":\"dynamic_config\",\"salt\":\"s\","
        "\"enabled\":true,\"defaultValue\":{},\"idType\":\"userID\","
        "\"entity\":\"layer\",\"rules\":[]}]}";

    char                      err[256];
    void                     *blob;
    size_t                    size;
    statsig_buf_t             b;
    const statsig_snapshot_t *snap;

    blob = statsig_compile(dcs, sizeof(dcs) - 1, &size, err, sizeof(err));
    ok(blob != NULL, "the test specs compile (%s)", blob ? "" : err);
    if (blob == NULL) {
        return;
    }

    snap = statsig_snapshot_open(blob, size);
    statsig_buf_init(&b);

    statsig_mcp_list_entities(&b, snap, NULL);
    is_str(text(&b),
           "{\"entities\":["
           "{\"name\":\"g1\",\"kind\":\"feature_gate\",\"tool\":\"check-gate\"},"
           "{\"name\":\"segment:s\",\"kind\":\"segment\","
           "\"tool\":\"check-gate\"},"
           "{\"name\":\"h\\\"q\",\"kind\":\"holdout\",\"tool\":\"check-gate\"},"
           "{\"name\":\"c\",\"kind\":\"dynamic_config\","
           "\"tool\":\"get-config\"},"
           "{\"name\":\"e\",\"kind\":\"experiment\","
           "\"tool\":\"get-experiment\"},"
           "{\"name\":\"l\",\"kind\":\"layer\",\"tool\":\"get-layer\"}],"
           "\"total\":6,\"next_offset\":null}", "every entity, in order");

    b.len = 0;
    statsig_mcp_list_entities(&b, snap,
                              val("{\"offset\":1,\"limit\":2}"));
    is_str(text(&b),
           "{\"entities\":["
           "{\"name\":\"segment:s\",\"kind\":\"segment\","
           "\"tool\":\"check-gate\"},"
           "{\"name\":\"h\\\"q\",\"kind\":\"holdout\",\"tool\":\"check-gate\"}],"
           "\"total\":6,\"next_offset\":3}", "a page");

    b.len = 0;
    statsig_mcp_list_entities(&b, snap, val("{\"kind\":\"experiment\"}"));
    is_str(text(&b),
           "{\"entities\":[{\"name\":\"e\",\"kind\":\"experiment\","
           "\"tool\":\"get-experiment\"}],\"total\":1,\"next_offset\":null}",
           "one kind");

    b.len = 0;
    statsig_mcp_list_entities(&b, snap, val("{\"offset\":99}"));
    is_str(text(&b), "{\"entities\":[],\"total\":6,\"next_offset\":null}",
           "past the end");

    b.len = 0;
    statsig_mcp_list_entities(&b, NULL, NULL);
    is_str(text(&b), "{\"entities\":[],\"total\":0,\"next_offset\":null}",
           "no snapshot");

    statsig_buf_free(&b);
    free(blob);
}


static void
test_sessions(void)
{
    int         v;
    char        id[STATSIG_MCP_SESSION_LEN + 1], bad[STATSIG_MCP_SESSION_LEN];
    size_t      i;
    int         all;

    static const char  nonce[] = "0f1e2d3c-4b5a-4987-a6b5-c4d3e2f1a0b9";
    static const char  key[] = "the-api-key";

    ok(statsig_mcp_session_make(key, 11, nonce, STATSIG_MCP_V_2025_06_18, id)
       == 0, "made");
    is_int(strlen(id), STATSIG_MCP_SESSION_LEN, "its length");
    ok(strncmp(id, nonce, 36) == 0 && id[36] == '.' && id[37] == '1'
       && id[38] == '.', "nonce.version.mac");
    for (i = 0, all = 1; i < STATSIG_MCP_SESSION_LEN; i++) {
        all &= id[i] >= 0x21 && id[i] <= 0x7e;
    }
    ok(all, "visible ASCII only");

    v = -1;
    ok(statsig_mcp_session_check(key, 11, id, STATSIG_MCP_SESSION_LEN, &v)
       == 0 && v == STATSIG_MCP_V_2025_06_18, "checked, with its version");

    for (i = 0, all = 1; i < STATSIG_MCP_SESSION_LEN; i++) {
        memcpy(bad, id, sizeof(bad));
        bad[i] = bad[i] == 'a' ? 'b' : 'a';
        all &= statsig_mcp_session_check(key, 11, bad, sizeof(bad), &v)
               == -1;
        bad[i] ^= 0x20;
        all &= statsig_mcp_session_check(key, 11, bad, sizeof(bad), &v)
               == -1;
    }
    ok(all, "any byte changed: refused");

    ok(statsig_mcp_session_check("the-api-kez", 11, id,
                                 STATSIG_MCP_SESSION_LEN, &v) == -1,
       "another secret: refused");
    ok(statsig_mcp_session_check(key, 0, id, STATSIG_MCP_SESSION_LEN, &v)
       == -1, "no secret: refused");
    ok(statsig_mcp_session_check(key, 11, id, STATSIG_MCP_SESSION_LEN - 1,
                                 &v) == -1, "cut short: refused");
    ok(statsig_mcp_session_check(key, 11, "", 0, &v) == -1, "empty: refused");

    memcpy(bad, id, sizeof(bad));
    bad[37] = '7';
    ok(statsig_mcp_session_check(key, 11, bad, sizeof(bad), &v) == -1,
       "a version code out of range: refused");

    ok(statsig_mcp_session_make(key, 11, "not-a-uuid-0000-0000-000000000000000",
                                0, id) == -1, "a nonce that is no UUID");
    ok(statsig_mcp_session_make(key, 11, nonce, STATSIG_MCP_NVERSIONS, id)
       == -1, "a version out of range");
    ok(statsig_mcp_session_make(key, 0, nonce, 0, id) == -1, "no secret");

    {
        char  a[STATSIG_MCP_SESSION_LEN + 1], b[STATSIG_MCP_SESSION_LEN + 1];

        ok(statsig_mcp_session_make(key, 11, nonce, 0, a) == 0
           && statsig_mcp_session_make(key, 11, nonce, 0, b) == 0
           && memcmp(a, b, sizeof(a)) == 0, "the same input, the same id");
        ok(statsig_mcp_session_make(key, 11, nonce, 2, b) == 0
           && memcmp(a + 39, b + 39, 32) != 0,
           "another version, another mac");
    }
}


/* statsig_value_from_json: nesting past the limit says so (was "out of
 * memory": the depth error was turned into -1 on the way up) */

static void
test_value_depth(void)
{
    char              json[400], err[256];
    size_t            i;
    statsig_value_t   v;

    for (i = 0; i < 100; i++) {
        json[i] = '[';
        json[100 + i] = ']';
    }

    err[0] = '\0';
    ok(statsig_value_from_json(&alloc, json, 200, &v, err, sizeof(err))
       == -1, "100 nested arrays are refused");
    ok(strstr(err, "nested deeper than 64 levels") != NULL,
       "with the depth message, not out of memory");

    for (i = 0; i < 60; i++) {
        memcpy(json + 5 * i, "{\"a\":", 5);
        json[300 + i] = '}';
    }

    /* 60 objects in 300 bytes, then 1 and 60 closing braces */
    memmove(json + 301, json + 300, 60);
    json[300] = '1';
    err[0] = '\0';
    ok(statsig_value_from_json(&alloc, json, 361, &v, err, sizeof(err))
       == 0, "60 nested objects are fine");
}


int
main(void)
{
    test_value_depth();
    test_versions();
    test_messages();
    test_envelopes();
    test_tools();
    test_call_params();
    test_args();
    test_entities();
    test_sessions();

    return done_testing();
}
