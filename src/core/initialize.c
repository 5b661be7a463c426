/*
 * Client initialize response, after statsig-node 6.x
 * Evaluator.getClientInitializeResponse and _specToInitializeResponse.
 *
 * Every included spec is evaluated for the user and written at once; the
 * result's secondary exposures are read from the runtime's exposure stack
 * before the next spec is evaluated.  Keys are written in the order the SDK
 * creates them, though JSON consumers do not depend on it.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exposure.h"
#include "hash.h"
#include "initialize.h"
#include "runtime.h"
#include "snapshot.h"


typedef struct {
    statsig_eval_ctx_t               *ctx;
    const statsig_initialize_opts_t  *opts;
    statsig_buf_t                    *b;
    const statsig_snapshot_t         *s;

    /* client key filtering; app is NULL when no app was resolved */
    statsig_str_t                     app;
    uint32_t                          entities;    /* json node or 0 */
    unsigned                          has_key:1;
} sg_init_t;


static const char  *sg_hash_names[] = { "djb2", "sha256", "none" };


void
statsig_initialize_hash_name(statsig_buf_t *b, statsig_hash_e hash,
    const char *name, size_t len)
{
    char  tmp[48];
    int   n;

    switch (hash) {

    case STATSIG_HASH_DJB2:
        n = snprintf(tmp, sizeof(tmp), "\"%lu\"",
                     (unsigned long) statsig_djb2(name, len));
        statsig_buf_add(b, tmp, (size_t) n);
        return;

    case STATSIG_HASH_SHA256:
        n = (int) statsig_sha256_name(name, len, tmp);
        statsig_buf_json_str(b, tmp, (size_t) n);
        return;

    default:
        statsig_buf_json_str(b, name, len);
        return;
    }
}


/* ---- small JSON node helpers (arrays are not in the public API) ---- */

static int
sg_json_array_has(const statsig_snapshot_t *s, uint32_t arr,
    statsig_str_t str)
{
    const sg_json_t  *a, *e;
    const uint32_t   *items;
    uint32_t          i;

    if (arr == 0 || statsig_json_type(s, arr) != STATSIG_JSON_ARRAY) {
        return 0;
    }

    a = SG_AT(s, arr, sg_json_t);
    items = SG_AT(s, a->items, uint32_t);

    for (i = 0; i < a->n; i++) {
        e = SG_AT(s, items[i], sg_json_t);
        if (e->type == STATSIG_JSON_STRING && e->str.len == str.len
            && memcmp((const char *) s + e->str.off, str.data, str.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static uint32_t
sg_json_get(const statsig_snapshot_t *s, uint32_t obj, const char *key,
    size_t len)
{
    if (obj == 0 || statsig_json_type(s, obj) != STATSIG_JSON_OBJECT) {
        return 0;
    }

    return statsig_json_object_get(s, obj, key, len);
}


/* Number(x) for the sampling comparisons; NaN compares false */
static double
sg_json_number(const statsig_snapshot_t *s, uint32_t node)
{
    switch (statsig_json_type(s, node)) {
    case STATSIG_JSON_NUMBER:
        return SG_AT(s, node, sg_json_t)->num;
    case STATSIG_JSON_TRUE:
        return 1;
    case STATSIG_JSON_FALSE:
    case STATSIG_JSON_NULL:
        return 0;
    default:
        return NAN;
    }
}


static int
sg_nullish_node(const statsig_snapshot_t *s, uint32_t node)
{
    return node == 0 || statsig_json_type(s, node) == STATSIG_JSON_NULL;
}


/* ---- target app ---- */

static void
sg_resolve_client_key(sg_init_t *in)
{
    const sg_header_t  *h;
    const statsig_snapshot_t  *s;
    char                key[16];
    uint32_t            node;
    int                 n;

    s = in->s;
    h = (const sg_header_t *) s;

    in->app.data = NULL;
    in->app.len = 0;
    in->entities = 0;
    in->has_key = (in->opts->client_key != NULL);

    if (!in->has_key) {
        return;
    }

    n = snprintf(key, sizeof(key), "%lu",
                 (unsigned long) statsig_djb2(in->opts->client_key,
                                              in->opts->client_key_len));

    /* an app id that is not a string cannot be in targetAppIDs (strict
     * equality), so only strings are taken */
    node = sg_json_get(s, h->hashed_sdk_keys_to_app_ids, key, (size_t) n);
    if (node && statsig_json_type(s, node) == STATSIG_JSON_STRING) {
        in->app = statsig_json_string(s, node);
    }

    node = sg_json_get(s, h->hashed_sdk_keys_to_entities, key, (size_t) n);
    if (!sg_nullish_node(s, node)) {
        in->entities = node;
    }

    if (in->app.data == NULL) {
        node = sg_json_get(s, h->sdk_keys_to_app_ids, in->opts->client_key,
                           in->opts->client_key_len);
        if (node && statsig_json_type(s, node) == STATSIG_JSON_STRING) {
            in->app = statsig_json_string(s, node);
        }
    }
}


static int
sg_target_app_ok(sg_init_t *in, const statsig_spec_t *spec)
{
    statsig_str_t  a;
    uint32_t       i, n;

    if (in->app.data == NULL) {
        return 1;
    }

    /* a spec without targetAppIDs is in no app */
    n = spec->has_target_apps ? statsig_strlist_size(in->s, spec->target_apps)
                              : 0;
    for (i = 0; i < n; i++) {
        a = statsig_strlist_at(in->s, spec->target_apps, i);
        if (a.len == in->app.len && memcmp(a.data, in->app.data, a.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static int
sg_entity_ok(sg_init_t *in, const statsig_spec_t *spec, const char *list)
{
    if (in->entities == 0) {
        return 1;
    }

    /* a missing list makes statsig-node throw and return null; treating
     * it as empty drops the same specs */
    return sg_json_array_has(in->s,
                             sg_json_get(in->s, in->entities, list,
                                         strlen(list)),
                             sg_str(in->s, spec->name));
}


static int
sg_include(sg_init_t *in, const statsig_spec_t *spec)
{
    statsig_str_t  name;

    /* the SDK keeps specs by name: the last duplicate wins */
    name = sg_str(in->s, spec->name);
    if (statsig_spec_find(in->s, (statsig_kind_e) spec->kind, name.data,
                          name.len) != spec)
    {
        return 0;
    }

    switch (spec->kind) {

    case STATSIG_KIND_GATE:
        if (spec->entity == STATSIG_ENTITY_SEGMENT
            || spec->entity == STATSIG_ENTITY_HOLDOUT
            || !sg_entity_ok(in, spec, "gates"))
        {
            return 0;
        }

        break;

    case STATSIG_KIND_CONFIG:
        if (!sg_entity_ok(in, spec, "configs")) {
            return 0;
        }

        break;

    default:
        break;
    }

    return sg_target_app_ok(in, spec);
}


/* ---- entries ---- */

static void
sg_key(sg_init_t *in, const char *key)
{
    statsig_buf_addc(in->b, ',');
    statsig_buf_json_str(in->b, key, strlen(key));
    statsig_buf_addc(in->b, ':');
}


static void
sg_put_bool(sg_init_t *in, const char *key, int v)
{
    sg_key(in, key);
    statsig_buf_adds(in->b, v ? "true" : "false");
}


static void
sg_put_str(sg_init_t *in, const char *key, statsig_str_t v)
{
    sg_key(in, key);
    statsig_buf_json_str(in->b, v.data, v.len);
}


void
statsig_exposures_json(statsig_buf_t *b, statsig_eval_ctx_t *ctx,
    uint32_t off, uint32_t len, statsig_hash_e hash)
{
    const statsig_exposure_t  *e;
    uint32_t                   i;

    e = statsig_result_exposures(ctx, off);

    statsig_buf_addc(b, '[');
    for (i = 0; i < len; i++) {
        if (i) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_adds(b, "{\"gate\":");
        statsig_initialize_hash_name(b, hash, e[i].gate.data, e[i].gate.len);
        statsig_buf_adds(b, e[i].value ? ",\"gateValue\":\"true\""
                                       : ",\"gateValue\":\"false\"");
        statsig_buf_adds(b, ",\"ruleID\":");
        statsig_buf_json_str(b, e[i].rule_id.data, e[i].rule_id.len);
        statsig_buf_addc(b, '}');
    }

    statsig_buf_addc(b, ']');
}


static void
sg_put_exposures(sg_init_t *in, const char *key, uint32_t off, uint32_t len)
{
    sg_key(in, key);
    statsig_exposures_json(in->b, in->ctx, off, len, in->opts->hash);
}


static void
sg_put_strlist(sg_init_t *in, const char *key, int has, uint32_t list)
{
    statsig_str_t  p;
    uint32_t       i, n;

    sg_key(in, key);
    statsig_buf_addc(in->b, '[');

    n = has ? statsig_strlist_size(in->s, list) : 0;
    for (i = 0; i < n; i++) {
        p = statsig_strlist_at(in->s, list, i);
        if (i) {
            statsig_buf_addc(in->b, ',');
        }

        statsig_buf_json_str(in->b, p.data, p.len);
    }

    statsig_buf_addc(in->b, ']');
}


/* "<hashed name>":{"name":"<hashed name>" */
static void
sg_entry_start(sg_init_t *in, const statsig_spec_t *spec, int *first)
{
    statsig_str_t  name;

    name = sg_str(in->s, spec->name);

    if (!*first) {
        statsig_buf_addc(in->b, ',');
    }

    *first = 0;

    /* hashed twice rather than copied out of a buffer that may move */
    statsig_initialize_hash_name(in->b, in->opts->hash, name.data, name.len);
    statsig_buf_adds(in->b, ":{\"name\":");
    statsig_initialize_hash_name(in->b, in->opts->hash, name.data, name.len);
}


static int
sg_supported(const statsig_result_t *r)
{
    return r->reason == STATSIG_REASON_NETWORK;
}


/*
 * is_user_in_experiment: statsig-node evaluates the experiment again
 * through a fresh EvaluationContext, which drops the client key's app, so
 * target_app conditions there see undefined (approximated by "").  Only
 * differs from the entry's own evaluation when an app was resolved.
 */
static int
sg_in_experiment(sg_init_t *in, const statsig_spec_t *spec,
    const statsig_result_t *own)
{
    statsig_result_t  r;
    const char       *app;
    size_t            app_len;

    if (in->app.data == NULL || !in->ctx->has_target_app) {
        return own->is_experiment_group;
    }

    app = in->ctx->target_app;
    app_len = in->ctx->target_app_len;
    in->ctx->target_app = "";
    in->ctx->target_app_len = 0;

    statsig_eval_begin(in->ctx);
    statsig_eval_spec(in->ctx, spec, &r);

    in->ctx->target_app = app;
    in->ctx->target_app_len = app_len;

    return r.is_experiment_group;
}


static int
sg_is_device_based(sg_init_t *in, const statsig_spec_t *spec)
{
    statsig_str_t  t;
    size_t         i;

    if (!spec->has_id_type) {
        return 0;
    }

    t = sg_str(in->s, spec->id_type);
    if (t.len != 8) {
        return 0;
    }

    for (i = 0; i < 8; i++) {
        char  c = t.data[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }

        if (c != "stableid"[i]) {
            return 0;
        }
    }

    return 1;
}


/* spec.idType as it is (null when absent) */
static void
sg_put_id_type(sg_init_t *in, const statsig_spec_t *spec)
{
    sg_key(in, "id_type");
    if (spec->has_id_type) {
        statsig_buf_json_str(in->b, (const char *) in->s + spec->id_type.off,
                             spec->id_type.len);

    } else {
        statsig_buf_adds(in->b, "null");
    }
}


/* _specToInitializeResponse's fields after the value */
static void
sg_put_result_fields(sg_init_t *in, const statsig_spec_t *spec,
    const statsig_result_t *r)
{
    sg_put_str(in, "group", r->rule_id);
    sg_put_str(in, "rule_id", r->rule_id);
    sg_put_bool(in, "is_device_based", sg_is_device_based(in, spec));
    sg_put_exposures(in, "secondary_exposures", r->exposures_off,
                     r->exposures_len);
}


static void
sg_put_gate(sg_init_t *in, const statsig_spec_t *spec, int *first)
{
    statsig_result_t  r;

    statsig_eval_begin(in->ctx);
    statsig_eval_spec(in->ctx, spec, &r);

    sg_entry_start(in, spec, first);
    sg_put_bool(in, "value", sg_supported(&r) && r.value);
    sg_put_str(in, "rule_id", r.rule_id);
    sg_put_exposures(in, "secondary_exposures", r.exposures_off,
                     r.exposures_len);

    sg_put_id_type(in, spec);

    statsig_buf_addc(in->b, '}');
}


/*
 * {...layer.defaultValue, ...value}: the layer's keys first, each taking
 * the experiment's value when it has one, then the experiment's own keys.
 * Only objects are spread (a config value is an object in practice).
 */
static void
sg_put_merged_value(sg_init_t *in, uint32_t layer_value, uint32_t value)
{
    const statsig_snapshot_t  *s;
    statsig_str_t              k;
    statsig_str_t              t;
    uint32_t                   i, n, v;
    int                        first;

    s = in->s;

    if (layer_value && statsig_json_type(s, layer_value)
                       != STATSIG_JSON_OBJECT)
    {
        layer_value = 0;
    }

    if (value && statsig_json_type(s, value) != STATSIG_JSON_OBJECT) {
        value = 0;
    }

    statsig_buf_addc(in->b, '{');
    first = 1;

    n = layer_value ? statsig_json_object_size(s, layer_value) : 0;
    for (i = 0; i < n; i++) {
        k = statsig_json_object_key(s, layer_value, i);
        v = value ? statsig_json_object_get(s, value, k.data, k.len) : 0;
        if (v == 0) {
            v = statsig_json_object_value(s, layer_value, i);
        }

        if (!first) {
            statsig_buf_addc(in->b, ',');
        }

        first = 0;
        statsig_buf_json_str(in->b, k.data, k.len);
        statsig_buf_addc(in->b, ':');
        t = statsig_json_text(s, v);
        statsig_buf_add(in->b, t.data, t.len);
    }

    n = value ? statsig_json_object_size(s, value) : 0;
    for (i = 0; i < n; i++) {
        k = statsig_json_object_key(s, value, i);
        if (layer_value
            && statsig_json_object_get(s, layer_value, k.data, k.len) != 0)
        {
            continue;
        }

        if (!first) {
            statsig_buf_addc(in->b, ',');
        }

        first = 0;
        statsig_buf_json_str(in->b, k.data, k.len);
        statsig_buf_addc(in->b, ':');
        t = statsig_json_text(s, statsig_json_object_value(s, value, i));
        statsig_buf_add(in->b, t.data, t.len);
    }

    statsig_buf_addc(in->b, '}');
}


static void
sg_put_config(sg_init_t *in, const statsig_spec_t *spec, int *first)
{
    const statsig_spec_t  *layer;
    statsig_result_t       r;
    statsig_str_t          t;
    uint32_t               value, layer_value;
    int                    experiment, shared, in_exp;

    /* everything but dynamic configs and autotunes is an experiment */
    experiment = spec->entity != STATSIG_ENTITY_DYNAMIC_CONFIG
                 && spec->entity != STATSIG_ENTITY_AUTOTUNE;

    /* evaluations reset the exposure stack: the extra one goes first */
    in_exp = 0;
    if (experiment && in->app.data != NULL) {
        statsig_eval_begin(in->ctx);
        statsig_eval_spec(in->ctx, spec, &r);
        in_exp = sg_in_experiment(in, spec, &r);
    }

    statsig_eval_begin(in->ctx);
    statsig_eval_spec(in->ctx, spec, &r);

    if (experiment && in->app.data == NULL) {
        in_exp = r.is_experiment_group;
    }
    shared = experiment && spec->has_shared_params;
    value = sg_supported(&r) ? r.json_value : 0;

    sg_entry_start(in, spec, first);
    sg_key(in, "value");

    if (shared) {
        /* the layer's defaults under the experiment's value */
        layer_value = 0;
        layer = NULL;
        if (spec->has_layer) {
            layer = statsig_spec_find(in->s, STATSIG_KIND_LAYER,
                                      (const char *) in->s + spec->layer.off,
                                      spec->layer.len);
        }

        if (layer != NULL) {
            layer_value = layer->default_value;
        }

        sg_put_merged_value(in, layer_value, value);

    } else {
        t = statsig_json_text(in->s, value);
        statsig_buf_add(in->b, t.data, t.len);
    }

    sg_put_result_fields(in, spec, &r);

    if (r.has_group_name) {
        sg_put_str(in, "group_name", r.group_name);
    }

    if (shared) {
        sg_put_strlist(in, "explicit_parameters", spec->has_explicit_params,
                       spec->explicit_params);

    } else if (r.has_explicit_params) {
        sg_put_strlist(in, "explicit_parameters", 1, r.explicit_params);
    }

    sg_put_id_type(in, spec);

    if (spec->entity == STATSIG_ENTITY_DYNAMIC_CONFIG) {
        sg_put_bool(in, "passed", sg_supported(&r) && r.value);
    }

    if (experiment) {
        sg_put_bool(in, "is_user_in_experiment", in_exp);
        sg_put_bool(in, "is_experiment_active", spec->is_active);

        if (shared) {
            sg_put_bool(in, "is_in_layer", 1);
        }
    }

    statsig_buf_addc(in->b, '}');
}


static void
sg_put_layer(sg_init_t *in, const statsig_spec_t *spec, int *first)
{
    statsig_result_t       r;
    statsig_str_t          t, name, group;
    const statsig_spec_t  *d;
    int                    in_exp, has_group;

    statsig_eval_begin(in->ctx);
    statsig_eval_spec(in->ctx, spec, &r);

    d = r.delegate;
    in_exp = r.is_experiment_group;
    has_group = r.has_group_name;
    group = r.group_name;

    /*
     * With a client key's app, statsig-node takes the group name from the
     * delegate evaluated with the app (when not empty) and
     * is_user_in_experiment from one evaluated without it; the layer's
     * own delegation is a nested evaluation.  Both are evaluated before
     * the layer again, as evaluations reset the exposure stack.
     */
    if (d != NULL && in->app.data != NULL) {
        statsig_eval_begin(in->ctx);
        statsig_eval_spec(in->ctx, d, &r);

        if (r.has_group_name && r.group_name.len > 0) {
            has_group = 1;
            group = r.group_name;
        }

        in_exp = sg_in_experiment(in, d, &r);

        statsig_eval_begin(in->ctx);
        statsig_eval_spec(in->ctx, spec, &r);
    }

    sg_entry_start(in, spec, first);
    sg_key(in, "value");
    t = statsig_json_text(in->s, sg_supported(&r) ? r.json_value : 0);
    statsig_buf_add(in->b, t.data, t.len);
    sg_put_result_fields(in, spec, &r);

    /* without a client key's app: the delegate's group name is the same
     * as the layer result's */
    if (has_group) {
        sg_put_str(in, "group_name", group);
    }

    if (d != NULL) {
        sg_put_strlist(in, "explicit_parameters", d->has_explicit_params,
                       d->explicit_params);
        name = sg_str(in->s, d->name);
        sg_key(in, "allocated_experiment_name");
        statsig_initialize_hash_name(in->b, in->opts->hash, name.data,
                                     name.len);
        sg_put_bool(in, "is_experiment_active", d->is_active);
        sg_put_bool(in, "is_user_in_experiment", in_exp);

    } else {
        sg_put_strlist(in, "explicit_parameters", spec->has_explicit_params,
                       spec->explicit_params);
    }

    sg_put_exposures(in, "undelegated_secondary_exposures",
                     r.undelegated_off, r.undelegated_len);
    statsig_buf_addc(in->b, '}');
}


static void
sg_put_entries(sg_init_t *in, statsig_kind_e kind, const char *key)
{
    const statsig_spec_t  *spec;
    uint32_t               i, n;
    int                    first;

    sg_key(in, key);
    statsig_buf_addc(in->b, '{');
    first = 1;

    n = statsig_spec_count(in->s, kind);
    for (i = 0; i < n; i++) {
        spec = statsig_spec_at(in->s, kind, i);
        if (!sg_include(in, spec)) {
            continue;
        }

        switch (kind) {
        case STATSIG_KIND_GATE:
            sg_put_gate(in, spec, &first);
            break;
        case STATSIG_KIND_CONFIG:
            sg_put_config(in, spec, &first);
            break;
        default:
            sg_put_layer(in, spec, &first);
            break;
        }
    }

    statsig_buf_addc(in->b, '}');
}


/* ---- top level ---- */

static int
sg_truthy(const statsig_value_t *v)
{
    switch (v->type) {
    case STATSIG_V_BOOL:
        return v->b;
    case STATSIG_V_NUMBER:
        return v->num == v->num && v->num != 0;
    case STATSIG_V_STRING:
        return v->len > 0;
    case STATSIG_V_ARRAY:
    case STATSIG_V_OBJECT:
        return 1;
    default:
        return 0;
    }
}


static void
sg_put_evaluated_keys(sg_init_t *in)
{
    const statsig_value_t  *u, *id, *ids;
    int                     first;

    u = in->ctx->user;
    sg_key(in, "evaluated_keys");
    statsig_buf_addc(in->b, '{');
    first = 1;

    id = (u && u->type == STATSIG_V_OBJECT)
         ? statsig_value_get(u, "userID", 6) : NULL;
    if (id != NULL && sg_truthy(id)) {
        statsig_buf_adds(in->b, "\"userID\":");
        statsig_exposure_value(in->b, id);
        first = 0;
    }

    /* Object.keys(customIDs).length > 0 */
    ids = (u && u->type == STATSIG_V_OBJECT)
          ? statsig_value_get(u, "customIDs", 9) : NULL;
    if (ids != NULL
        && (((ids->type == STATSIG_V_OBJECT || ids->type == STATSIG_V_ARRAY)
             && ids->n > 0)
            || (ids->type == STATSIG_V_STRING && ids->len > 0)))
    {
        statsig_buf_adds(in->b, first ? "\"customIDs\":" : ",\"customIDs\":");
        statsig_exposure_value(in->b, ids);
    }

    statsig_buf_addc(in->b, '}');
}


/* the targeting gate's value as the response shows it */
static int
sg_targeting_gate_passes(sg_init_t *in, uint32_t gate)
{
    const statsig_spec_t  *spec;
    statsig_result_t       r;
    statsig_str_t          name;

    if (statsig_json_type(in->s, gate) != STATSIG_JSON_STRING) {
        return 0;
    }

    name = statsig_json_string(in->s, gate);
    spec = statsig_spec_find(in->s, STATSIG_KIND_GATE, name.data, name.len);
    if (spec == NULL || !sg_include(in, spec)) {
        return 0;
    }

    statsig_eval_begin(in->ctx);
    statsig_eval_spec(in->ctx, spec, &r);

    return sg_supported(&r) && r.value;
}


static void
sg_put_triggers(sg_init_t *in, const char *key, uint32_t triggers,
    int hashed)
{
    const statsig_snapshot_t  *s;
    statsig_str_t              k, t;
    uint32_t                   i, n, trig, values, rate;
    int                        first;

    s = in->s;

    sg_key(in, key);
    statsig_buf_addc(in->b, '{');

    n = statsig_json_type(s, triggers) == STATSIG_JSON_OBJECT
        ? statsig_json_object_size(s, triggers) : 0;
    for (i = 0; i < n; i++) {
        k = statsig_json_object_key(s, triggers, i);
        trig = statsig_json_object_value(s, triggers, i);

        if (i) {
            statsig_buf_addc(in->b, ',');
        }

        if (hashed) {
            statsig_initialize_hash_name(in->b, in->opts->hash, k.data,
                                         k.len);

        } else {
            statsig_buf_json_str(in->b, k.data, k.len);
        }

        statsig_buf_adds(in->b, ":{");
        first = 1;

        values = sg_json_get(s, trig, "values", 6);
        if (!sg_nullish_node(s, values)) {
            statsig_buf_adds(in->b, "\"values\":");
            t = statsig_json_text(s, values);
            statsig_buf_add(in->b, t.data, t.len);
            first = 0;
        }

        rate = sg_json_get(s, trig, "sampling_rate", 13);
        if (!sg_nullish_node(s, rate)) {
            statsig_buf_adds(in->b, first ? "\"passes_sampling\":"
                                          : ",\"passes_sampling\":");
            statsig_buf_adds(in->b,
                             in->opts->random <= sg_json_number(s, rate)
                             ? "true" : "false");
        }

        statsig_buf_addc(in->b, '}');
    }

    statsig_buf_addc(in->b, '}');
}


/*
 * Session replay, from session_replay_info.  Sampling uses opts->random
 * (one draw per response, like statsig-node's Math.random()).
 */
static void
sg_put_session_replay(sg_init_t *in, uint32_t info)
{
    const statsig_snapshot_t  *s;
    statsig_str_t              t;
    uint32_t                   blocked, rate, gate, node;
    int                        can, passes;

    s = in->s;

    blocked = sg_json_get(s, info, "recording_blocked", 17);
    if (blocked) {
        sg_key(in, "recording_blocked");
        t = statsig_json_text(s, blocked);
        statsig_buf_add(in->b, t.data, t.len);
    }

    /* (recording_blocked ?? false) === false */
    can = sg_nullish_node(s, blocked)
          || statsig_json_type(s, blocked) == STATSIG_JSON_FALSE;

    rate = sg_json_get(s, info, "sampling_rate", 13);
    if (!sg_nullish_node(s, rate)) {
        sg_key(in, "session_recording_rate");
        t = statsig_json_text(s, rate);
        statsig_buf_add(in->b, t.data, t.len);

        if (in->opts->random > sg_json_number(s, rate)) {
            can = 0;
        }
    }

    passes = -1;
    gate = sg_json_get(s, info, "targeting_gate", 14);
    if (!sg_nullish_node(s, gate)) {
        passes = sg_targeting_gate_passes(in, gate);
        if (!passes) {
            can = 0;
        }
    }

    sg_put_bool(in, "can_record_session", can);

    if (passes >= 0) {
        sg_put_bool(in, "passes_session_recording_targeting", passes);
    }

    node = sg_json_get(s, info, "session_recording_event_triggers", 32);
    if (!sg_nullish_node(s, node)) {
        sg_put_triggers(in, "session_recording_event_triggers", node, 0);
    }

    node = sg_json_get(s, info, "session_recording_exposure_triggers", 35);
    if (!sg_nullish_node(s, node)) {
        sg_put_triggers(in, "session_recording_exposure_triggers", node, 1);
    }
}


int
statsig_initialize_response(statsig_eval_ctx_t *ctx,
    const statsig_initialize_opts_t *opts, statsig_buf_t *out)
{
    sg_init_t               in;
    const statsig_value_t  *own, *saved_env;
    const char             *saved_app;
    size_t                  saved_app_len;
    unsigned                saved_has_app;
    const char             *v;
    const sg_header_t      *h;

    memset(&in, 0, sizeof(in));
    in.ctx = ctx;
    in.opts = opts;
    in.b = out;
    in.s = ctx->snap;
    h = (const sg_header_t *) in.s;

    sg_resolve_client_key(&in);

    /*
     * getClientInitializeResponse normalises the user only when it has no
     * statsigEnvironment: a user's own environment then beats the SDK
     * option and the DCS default, unlike in checkGate and friends.
     */
    saved_env = ctx->environment;

    own = (ctx->user && ctx->user->type == STATSIG_V_OBJECT)
          ? statsig_value_get(ctx->user, "statsigEnvironment", 18) : NULL;
    if (!statsig_value_nullish(own)) {
        ctx->environment = own;
    }

    /* target_app conditions see the client key's app (statsig-node: the
     * app only when a non-empty key was given, else the DCS app_id) */
    saved_app = ctx->target_app;
    saved_app_len = ctx->target_app_len;
    saved_has_app = ctx->has_target_app;

    if (in.has_key && opts->client_key_len > 0) {
        ctx->has_target_app = 1;
        ctx->target_app = in.app.data;
        ctx->target_app_len = in.app.len;
    }

    /* sg_key writes a leading comma: the first member is written here */
    statsig_buf_addc(out, '{');
    statsig_buf_adds(out, "\"sdkParams\":{}");

    sg_put_entries(&in, STATSIG_KIND_GATE, "feature_gates");
    sg_put_entries(&in, STATSIG_KIND_CONFIG, "dynamic_configs");
    sg_put_entries(&in, STATSIG_KIND_LAYER, "layer_configs");

    sg_put_bool(&in, "has_updates", 1);
    sg_key(&in, "generator");
    statsig_buf_adds(out, "\"statsig-node-sdk\"");

    sg_key(&in, "sdkInfo");
    v = opts->sdk_type ? opts->sdk_type : STATSIG_INIT_SDK_TYPE;
    statsig_buf_adds(out, "{\"sdkType\":");
    statsig_buf_json_str(out, v, strlen(v));
    v = opts->sdk_version ? opts->sdk_version : STATSIG_INIT_SDK_VERSION;
    statsig_buf_adds(out, ",\"sdkVersion\":");
    statsig_buf_json_str(out, v, strlen(v));
    v = opts->session_id ? opts->session_id : "";
    statsig_buf_adds(out, ",\"sessionId\":");
    statsig_buf_json_str(out, v, strlen(v));
    statsig_buf_addc(out, '}');

    sg_key(&in, "time");
    statsig_buf_json_num(out, (double) statsig_snapshot_time(in.s));

    sg_put_evaluated_keys(&in);

    sg_key(&in, "hash_used");
    v = sg_hash_names[opts->hash <= STATSIG_HASH_NONE ? opts->hash
                                                      : STATSIG_HASH_NONE];
    statsig_buf_json_str(out, v, strlen(v));

    if (h->session_replay_info
        && statsig_json_type(in.s, h->session_replay_info)
           == STATSIG_JSON_OBJECT)
    {
        sg_put_session_replay(&in, h->session_replay_info);
    }

    ctx->environment = saved_env;

    ctx->target_app = saved_app;
    ctx->target_app_len = saved_app_len;
    ctx->has_target_app = saved_has_app;

    sg_key(&in, "user");
    statsig_exposure_user(out, ctx, STATSIG_USER_INIT);
    statsig_buf_addc(out, '}');

    return out->failed ? -1 : 0;
}
