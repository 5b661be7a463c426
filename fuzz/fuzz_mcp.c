/*
 * libFuzzer: the MCP server's pure logic (src/core/mcp.c) on any body a
 * client may POST.  The input is parsed as statsig_mcp parses it
 * (statsig_value_from_json); the whole value and, for a batch, each
 * element is read as a JSON-RPC message; a request's params go through
 * initialize's negotiation and tools/call's params, and its arguments
 * (or the value itself) through every tool's argument check and
 * list-entities over the fixed DCS.  Everything written (errors with the
 * message's id, results, isError results with the check's reason, the
 * list) must parse with jansson, and a reason must be non-empty.  Then
 * the raw input as a session id must be refused (it was not made with
 * the secret), and a session made with the input's first bytes as the
 * secret must be accepted with its version, and refused with one byte
 * of the secret changed.
 *
 *   build/fuzz/fuzz_mcp fuzz/corpus/fuzz_mcp
 */

#include <jansson.h>

#include "buf.h"
#include "fuzz_common.h"
#include "fuzz_json.h"
#include "fuzz_user_eval_dcs.h"     /* generated: fz_dcs[], fz_dcs_len */
#include "mcp.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fz_message(const statsig_snapshot_t *snap, const statsig_value_t *v,
    statsig_buf_t *b)
{
    int                     t, tool;
    char                    err[256];
    const char             *why;
    const statsig_value_t  *args;
    statsig_mcp_msg_t       m;

    statsig_mcp_message(v, &m);

    if (m.kind == STATSIG_MCP_MSG_INVALID
        && (m.error == NULL || m.error[0] == '\0'))
    {
        abort();
    }

    if (m.kind == STATSIG_MCP_MSG_REQUEST && m.id == NULL) {
        abort();
    }

    b->len = 0;
    statsig_mcp_error(b, m.id, STATSIG_MCP_INVALID_REQUEST,
                      m.error ? m.error : "x");
    fz_parses(b, "an error");

    b->len = 0;
    statsig_mcp_result_open(b, m.id);
    statsig_mcp_initialize_result(b, statsig_mcp_negotiate(m.params), "0");
    statsig_buf_addc(b, '}');
    fz_parses(b, "initialize's result");

    tool = -1;
    args = NULL;
    why = statsig_mcp_call_params(m.params, &tool, &args);

    if (why == NULL && (tool < 0 || tool >= STATSIG_MCP_NTOOLS)) {
        abort();
    }

    if (why == NULL && args != NULL && args->type != STATSIG_V_OBJECT) {
        abort();
    }

    if (args == NULL) {
        args = v;
    }

    for (t = 0; t < STATSIG_MCP_NTOOLS; t++) {
        err[0] = '\0';

        b->len = 0;
        statsig_mcp_result_open(b, m.id);

        if (statsig_mcp_tool_args(t, args, err, sizeof(err)) != 0) {
            if (err[0] == '\0') {
                abort();
            }

            statsig_mcp_tool_error(b, err, strlen(err));

        } else if (t == STATSIG_MCP_T_LIST_ENTITIES) {
            statsig_buf_t  l;

            statsig_buf_init(&l);
            statsig_mcp_list_entities(&l, snap, args);
            fz_parses(&l, "list-entities");
            statsig_mcp_tool_result(b, l.data ? l.data : "{}",
                                    l.data ? l.len : 2);
            statsig_buf_free(&l);

        } else {
            statsig_mcp_tool_result(b, "{\"success\":true}", 16);
        }

        statsig_buf_addc(b, '}');
        fz_parses(b, "a tool's result");
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const statsig_snapshot_t  *snap;
    static void                      *blob;
    static statsig_buf_t              b;
    int                               v;
    char                              err[512];
    char                              id[STATSIG_MCP_SESSION_LEN + 1];
    char                              secret[32];
    size_t                            bsize, mark, i, slen;
    statsig_value_t                   json;

    static const char  nonce[] = "0f1e2d3c-4b5a-4987-a6b5-c4d3e2f1a0b9";

    if (snap == NULL) {
        fz_init();
        blob = statsig_compile((const char *) fz_dcs, fz_dcs_len, &bsize,
                               err, sizeof(err));
        if (blob == NULL) {
            fprintf(stderr, "fuzz: fixed DCS: %s\n", err);
            abort();
        }

        snap = statsig_snapshot_open(blob, bsize);
        if (snap == NULL) {
            abort();
        }

        statsig_buf_init(&b);
    }

    mark = fz_nchunks;

    if (statsig_value_from_json(&fz_allocator, (const char *) data, size,
                                &json, err, sizeof(err)) == 0)
    {
        fz_message(snap, &json, &b);

        if (json.type == STATSIG_V_ARRAY) {
            for (i = 0; i < json.n && i < STATSIG_MCP_MAX_BATCH; i++) {
                fz_message(snap, &json.items[i], &b);
            }
        }
    }

    fz_release(mark);

    /* sessions */

    if (statsig_mcp_session_check("fuzz-secret", 11, (const char *) data,
                                  size, &v) == 0)
    {
        abort();
    }

    slen = size < sizeof(secret) ? size : sizeof(secret);

    if (slen > 0) {
        memcpy(secret, data, slen);

        if (statsig_mcp_session_make(secret, slen, nonce,
                                     (int) (data[0] % STATSIG_MCP_NVERSIONS),
                                     id) != 0
            || statsig_mcp_session_check(secret, slen, id,
                                         STATSIG_MCP_SESSION_LEN, &v) != 0
            || v != (int) (data[0] % STATSIG_MCP_NVERSIONS))
        {
            abort();
        }

        secret[slen - 1] ^= 1;

        if (statsig_mcp_session_check(secret, slen, id,
                                      STATSIG_MCP_SESSION_LEN, &v) == 0)
        {
            abort();
        }
    }

    return 0;
}
