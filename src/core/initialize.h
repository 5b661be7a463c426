/*
 * Client initialize response: what statsig-node 6.x's
 * getClientInitializeResponse(user, clientKey, {hash}) returns, written as
 * JSON, so that a client SDK can be bootstrapped from the edge.
 */

#ifndef STATSIG_INITIALIZE_H
#define STATSIG_INITIALIZE_H

#include "buf.h"
#include "statsig.h"


typedef enum {
    STATSIG_HASH_DJB2 = 0,          /* statsig-node's default */
    STATSIG_HASH_SHA256,
    STATSIG_HASH_NONE
} statsig_hash_e;


typedef struct {
    statsig_hash_e   hash;

    /*
     * A client SDK key selects the specs of its target app
     * (hashed_sdk_keys_to_app_ids, sdk_keys_to_app_ids) and entities
     * (hashed_sdk_keys_to_entities); target_app conditions then see that
     * app.  NULL: every spec, target_app conditions see the DCS app_id.
     */
    const char      *client_key;
    size_t           client_key_len;

    /* sdkInfo; NULL takes statsig-node's "statsig-node", "6.5.2", "" */
    const char      *sdk_type;
    const char      *sdk_version;
    const char      *session_id;

    /*
     * A uniform random number in [0, 1) for session replay sampling
     * (statsig-node draws one Math.random() per response); used only when
     * the DCS has session_replay_info.
     */
    double           random;
} statsig_initialize_opts_t;


#define STATSIG_INIT_SDK_TYPE     "statsig-node"
#define STATSIG_INIT_SDK_VERSION  "6.5.2"


/* statsig-node's name hash (djb2 decimal, Base64 SHA-256, or the name)
 * as a JSON string literal. */
/* A secondary exposure list as JSON, gate names hashed with `hash`. */
void statsig_exposures_json(statsig_buf_t *b, statsig_eval_ctx_t *ctx,
    uint32_t off, uint32_t len, statsig_hash_e hash);

void statsig_initialize_hash_name(statsig_buf_t *b, statsig_hash_e hash,
    const char *name, size_t len);

/*
 * Appends the response object for ctx->user to out.  Evaluates every spec
 * (the runtime's exposure stack is reset per spec); ctx is left as it was.
 * Returns 0, or -1 when the buffer could not grow.
 */
int statsig_initialize_response(statsig_eval_ctx_t *ctx,
    const statsig_initialize_opts_t *opts, statsig_buf_t *out);

#endif /* STATSIG_INITIALIZE_H */
