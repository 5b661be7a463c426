/*
 * ngx_http_statsig_module: the evaluation core.
 *
 * Plain C99 with no nginx header: turns a download_config_specs (DCS v1)
 * document into an immutable, position-independent snapshot and evaluates
 * gates, dynamic configs, experiments and layers against it exactly as the
 * statsig-node server SDK does.
 *
 * Lifecycle:
 *   statsig_compile()      JSON -> snapshot blob (malloc'd, freed by caller)
 *   statsig_compile_in()   the same in memory kept between compiles
 *   statsig_user_*()       a user object, allocated from a caller's arena
 *   statsig_eval_*()       evaluation in place, no heap allocation
 */

#ifndef STATSIG_H
#define STATSIG_H

#include <stddef.h>
#include <stdint.h>

#include "statsig_value.h"


#define STATSIG_MAX_DEPTH          64
#define STATSIG_MAX_EXPOSURES      2048

/* nested specs one check may evaluate: bounds DAGs with a large fan-out */
#define STATSIG_MAX_EVALS          20000


typedef struct statsig_snapshot_s   statsig_snapshot_t;
typedef struct statsig_idlists_s    statsig_idlists_t;
typedef struct statsig_spec_s       statsig_spec_t;
typedef struct statsig_runtime_s    statsig_runtime_t;


typedef enum {
    STATSIG_KIND_GATE = 0,
    STATSIG_KIND_CONFIG,
    STATSIG_KIND_LAYER,
    STATSIG_KIND_COUNT
} statsig_kind_e;


/* Entities as the DCS names them; GCIR and exposures depend on them. */
typedef enum {
    STATSIG_ENTITY_FEATURE_GATE = 0,
    STATSIG_ENTITY_HOLDOUT,
    STATSIG_ENTITY_SEGMENT,
    STATSIG_ENTITY_DYNAMIC_CONFIG,
    STATSIG_ENTITY_EXPERIMENT,
    STATSIG_ENTITY_AUTOTUNE,
    STATSIG_ENTITY_LAYER,
    STATSIG_ENTITY_OTHER
} statsig_entity_e;


/* A string inside a snapshot (or any other blob): NUL-terminated. */
typedef struct {
    const char  *data;
    size_t       len;
} statsig_str_t;


/* One secondary exposure: gate name, "true"/"false", rule id. */
typedef struct {
    statsig_str_t  gate;
    statsig_str_t  rule_id;
    unsigned       value:1;
} statsig_exposure_t;


typedef enum {
    STATSIG_REASON_NETWORK = 0,     /* recognized spec */
    STATSIG_REASON_UNRECOGNIZED,
    STATSIG_REASON_UNSUPPORTED,
    STATSIG_REASON_ERROR            /* depth or exposure limit exceeded */
} statsig_reason_e;


typedef struct {
    const statsig_spec_t  *spec;          /* NULL when unrecognized */
    const statsig_spec_t  *delegate;      /* layers: allocated experiment */
    statsig_reason_e       reason;
    /* bytes, not bit-fields: each written once a spec, a bit-field
     * store is a read-modify-write of the word */
    uint8_t                value;         /* gate value / rule passed */
    uint8_t                is_experiment_group;
    uint8_t                has_group_name;
    statsig_str_t          rule_id;
    statsig_str_t          group_name;
    statsig_str_t          id_type;       /* spec idType (delegate's) */
    uint32_t               json_value;    /* offset of a json node */
    uint32_t               explicit_params;  /* offset of a string list */
    uint8_t                has_explicit_params;

    /* ranges in the runtime's exposure stack */
    uint32_t               exposures_off;
    uint32_t               exposures_len;
    uint32_t               undelegated_off;
    uint32_t               undelegated_len;
} statsig_result_t;


/*
 * Per-process evaluation state: scratch space, regex cache, lookup tables
 * (user agents, countries).  Never shared between processes; evaluation
 * through one runtime is single-threaded.
 */
statsig_runtime_t *statsig_runtime_create(char *err, size_t errlen);
void statsig_runtime_free(statsig_runtime_t *rt);

/* Tier used for every user (StatsigOptions.environment); NULL clears. */
int statsig_runtime_set_environment(statsig_runtime_t *rt, const char *tier,
    size_t len);

/* Current time in ms, for current_time conditions; 0 = use the clock. */
void statsig_runtime_set_now(statsig_runtime_t *rt, double now_ms);


/* ---- snapshot ---- */

/*
 * Compile a DCS v1 JSON document.  Returns a malloc'd blob of *size bytes,
 * position independent: it may be copied anywhere (e.g. shared memory) and
 * used through statsig_snapshot_open().  NULL on error, with a message.
 */
void *statsig_compile(const char *json, size_t len, size_t *size,
    char *err, size_t errlen);

/*
 * Memory kept from one compile to the next: the parse tree, the blob and
 * scratch buffers.  A process that compiles again and again (a fetching
 * worker) then touches no fresh page; one compile at a time per object.
 */
typedef struct statsig_compile_mem_s  statsig_compile_mem_t;

statsig_compile_mem_t *statsig_compile_mem_create(void);
void statsig_compile_mem_free(statsig_compile_mem_t *m);

/* statsig_compile() in m: the blob is m's, valid until m compiles again */
const void *statsig_compile_in(statsig_compile_mem_t *m, const char *json,
    size_t len, size_t *size, char *err, size_t errlen);

/*
 * 1 if the last document given to statsig_compile_in(m, ...), compiled or
 * not, is a JSON object whose top-level "has_updates" is false: Statsig's
 * answer when nothing changed ({"has_updates":false,...}, which does not
 * compile).  0 otherwise, and before any.  The same answer as json_loadb()
 * with no flags, then json_is_false(json_object_get(root, "has_updates")),
 * from the parse the compile made (a repeated key's last value counts);
 * but 0 when memory ran out during that parse.
 */
int statsig_compile_mem_no_updates(const statsig_compile_mem_t *m);

/* Validates a blob copied elsewhere; NULL if it is not a snapshot. */
const statsig_snapshot_t *statsig_snapshot_open(const void *blob,
    size_t size);

int64_t statsig_snapshot_time(const statsig_snapshot_t *s);
int statsig_snapshot_has_updates(const statsig_snapshot_t *s);

/* "hashed_sdk_key_used": djb2 of the server key the specs were made for
 * (empty when the document has none) */
statsig_str_t statsig_snapshot_hashed_sdk_key(const statsig_snapshot_t *s);
size_t statsig_snapshot_size(const statsig_snapshot_t *s);

uint32_t statsig_spec_count(const statsig_snapshot_t *s, statsig_kind_e k);
const statsig_spec_t *statsig_spec_at(const statsig_snapshot_t *s,
    statsig_kind_e k, uint32_t i);
/* the spec's i for statsig_spec_at(), in its kind's array */
uint32_t statsig_spec_ordinal(const statsig_snapshot_t *s,
    const statsig_spec_t *spec);
const statsig_spec_t *statsig_spec_find(const statsig_snapshot_t *s,
    statsig_kind_e k, const char *name, size_t len);

/*
 * Find by the normalised variable name: lower-cased, every character
 * outside [a-z0-9_] written as '_'.  Returns the first spec in DCS order.
 */
const statsig_spec_t *statsig_spec_find_var(const statsig_snapshot_t *s,
    statsig_kind_e k, const char *var, size_t len);

statsig_str_t statsig_spec_name(const statsig_snapshot_t *s,
    const statsig_spec_t *spec);
statsig_entity_e statsig_spec_entity(const statsig_spec_t *spec);
statsig_kind_e statsig_spec_kind(const statsig_spec_t *spec);
int statsig_spec_has_id_type(const statsig_spec_t *spec);


/* ---- ID lists: name -> set of 8-character hashed ids ---- */

/*
 * Builds an ID-list blob from a JSON object {"name": ["raw id", ...]}
 * (raw ids are hashed) -- used by statsig-eval and tests.
 */
void *statsig_idlists_from_json(const char *json, size_t len, size_t *size,
    char *err, size_t errlen);

const statsig_idlists_t *statsig_idlists_open(const void *blob, size_t size);


/* ---- evaluation ---- */

typedef struct {
    const statsig_snapshot_t  *snap;
    const statsig_idlists_t   *idlists;      /* may be NULL */
    const statsig_value_t     *user;         /* an object value */
    statsig_runtime_t         *rt;
    /*
     * Client-key mode (client initialize): target_app conditions of the
     * top-level spec see the key's app (NULL: the key has none, so
     * undefined) and nested evaluations see undefined, as statsig-node's
     * fresh nested contexts do.  Otherwise they see the DCS app_id.
     */
    const char                *target_app;
    size_t                     target_app_len;
    unsigned                   has_target_app:1;

    /* statsigEnvironment for this context, over the runtime's (NULL) */
    const statsig_value_t     *environment;

    /*
     * Private to the core.  A context must start zeroed; it remembers the
     * user's nested objects and nested gate results for its user, snapshot
     * and target app, and notices when the caller changes any of them.
     */
    const statsig_value_t     *seen_user;
    const statsig_snapshot_t  *seen_snap;
    const char                *seen_target_app;
    const statsig_value_t     *seen_environment;
    unsigned                   seen_has_target_app:1;
    uint64_t                   session;
    const statsig_value_t     *user_custom;
    const statsig_value_t     *user_private;
    const statsig_value_t     *user_custom_ids;
    const statsig_value_t     *user_id;
    int                        unsupported;  /* the rule's condition */
} statsig_eval_ctx_t;


/* Resets the runtime's exposure stack; call once per top-level check. */
void statsig_eval_begin(statsig_eval_ctx_t *ctx);

void statsig_eval_gate(statsig_eval_ctx_t *ctx, const char *name,
    size_t len, statsig_result_t *res);
void statsig_eval_config(statsig_eval_ctx_t *ctx, const char *name,
    size_t len, statsig_result_t *res);
void statsig_eval_layer(statsig_eval_ctx_t *ctx, const char *name,
    size_t len, statsig_result_t *res);
void statsig_eval_spec(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res);

const statsig_exposure_t *statsig_result_exposures(statsig_eval_ctx_t *ctx,
    uint32_t off);


/* ---- JSON nodes inside a snapshot (config values, parameters) ---- */

typedef enum {
    STATSIG_JSON_NULL = 0,
    STATSIG_JSON_FALSE,
    STATSIG_JSON_TRUE,
    STATSIG_JSON_NUMBER,
    STATSIG_JSON_STRING,
    STATSIG_JSON_ARRAY,
    STATSIG_JSON_OBJECT
} statsig_json_type_e;

statsig_json_type_e statsig_json_type(const statsig_snapshot_t *s,
    uint32_t node);

/* Compact JSON text of the node, as JSON.stringify would write it. */
statsig_str_t statsig_json_text(const statsig_snapshot_t *s, uint32_t node);

/* For strings: the unescaped string. */
statsig_str_t statsig_json_string(const statsig_snapshot_t *s, uint32_t node);

uint32_t statsig_json_object_size(const statsig_snapshot_t *s, uint32_t node);
statsig_str_t statsig_json_object_key(const statsig_snapshot_t *s,
    uint32_t node, uint32_t i);
uint32_t statsig_json_object_value(const statsig_snapshot_t *s,
    uint32_t node, uint32_t i);

/* Member lookup; returns 0 (no node) when absent. */
uint32_t statsig_json_object_get(const statsig_snapshot_t *s, uint32_t node,
    const char *key, size_t len);

uint32_t statsig_strlist_size(const statsig_snapshot_t *s, uint32_t list);
statsig_str_t statsig_strlist_at(const statsig_snapshot_t *s, uint32_t list,
    uint32_t i);

#endif /* STATSIG_H */
