/*
 * Exposure and custom event records as statsig-node 6.x logs them.
 *
 * The field order follows LogEvent.toObject() and the metadata builders of
 * LogEventProcessor, so that a byte comparison with the SDK's output only
 * differs in times.  configSyncTime, initTime and serverTime are numbers,
 * as statsig-node sends them, although Statsig documents metadata as
 * strings.
 */

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "exposure.h"
#include "initialize.h"
#include "jsnum.h"
#include "runtime.h"
#include "snapshot.h"


/*
 * The writers of every event inline what fits the buffer already (the
 * buffer is reused, so it nearly always does) and leave growth to buf.c.
 */

static inline void
sg_add(statsig_buf_t *b, const char *s, size_t n)
{
    if (b->cap - b->len >= n && !b->failed) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return;
    }

    statsig_buf_add(b, s, n);
}


static inline void
sg_addc(statsig_buf_t *b, char c)
{
    if (b->cap > b->len && !b->failed) {
        b->data[b->len++] = c;
        return;
    }

    statsig_buf_addc(b, c);
}


#define sg_addl(b, lit)  sg_add(b, lit, sizeof(lit) - 1)


/* statsig_buf_json_str(), inline for printable ASCII with nothing to
 * escape (names, rule IDs, most user values), as JSON.stringify writes it */
static inline void
sg_json_str(statsig_buf_t *b, const char *s, size_t n)
{
    if (b->cap - b->len >= n + 2 && !b->failed && statsig_json_plain(s, n)) {
        b->data[b->len] = '"';
        memcpy(b->data + b->len + 1, s, n);
        b->data[b->len + 1 + n] = '"';
        b->len += n + 2;
        return;
    }

    statsig_buf_json_str(b, s, n);
}


typedef struct {
    statsig_buf_t  *b;
    statsig_buf_t  *key;        /* dedupe key, or NULL */
    unsigned        first:1;
    unsigned        nkey;       /* metadata values in the key */
} sg_meta_t;


/* the reason member of the metadata, after its comma */
static void
sg_reason(statsig_buf_t *b, statsig_reason_e r)
{
    switch (r) {

    case STATSIG_REASON_NETWORK:
        sg_addl(b, "\"reason\":\"Network\"");
        return;

    case STATSIG_REASON_UNRECOGNIZED:
        sg_addl(b, "\"reason\":\"Unrecognized\"");
        return;

    case STATSIG_REASON_UNSUPPORTED:
        sg_addl(b, "\"reason\":\"Unsupported\"");
        return;

    default: /* STATSIG_REASON_ERROR */
        sg_addl(b, "\"reason\":\"Error\"");
        return;
    }
}


void
statsig_exposure_value(statsig_buf_t *b, const statsig_value_t *v)
{
    size_t  i;
    int     first;

    switch (v->type) {

    case STATSIG_V_BOOL:
        if (v->b) {
            sg_addl(b, "true");

        } else {
            sg_addl(b, "false");
        }

        return;

    case STATSIG_V_NUMBER:
        statsig_buf_json_num(b, v->num);
        return;

    case STATSIG_V_STRING:
        sg_json_str(b, v->str, v->len);
        return;

    case STATSIG_V_ARRAY:
        sg_addc(b, '[');
        for (i = 0; i < v->n; i++) {
            if (i) {
                sg_addc(b, ',');
            }

            /* JSON.stringify writes undefined array items as null */
            statsig_exposure_value(b, &v->items[i]);
        }

        sg_addc(b, ']');
        return;

    case STATSIG_V_OBJECT:
        sg_addc(b, '{');
        first = 1;
        for (i = 0; i < v->n; i++) {
            if (v->items[i].type == STATSIG_V_UNDEFINED) {
                continue;
            }

            if (!first) {
                sg_addc(b, ',');
            }

            first = 0;
            sg_json_str(b, v->keys[i], v->key_lens[i]);
            sg_addc(b, ':');
            statsig_exposure_value(b, &v->items[i]);
        }

        sg_addc(b, '}');
        return;

    default:
        sg_addl(b, "null");
        return;
    }
}


/*
 * The environment _normalizeUser puts on the user: the SDK option
 * (a {tier} object), else the DCS default_environment as {tier}.
 * Returns 0 when neither exists.
 */
static int
sg_put_sdk_environment(statsig_buf_t *b, statsig_eval_ctx_t *ctx)
{
    const sg_header_t  *h;

    if (ctx->rt->has_env) {
        statsig_exposure_value(b, &ctx->rt->env);
        return 1;
    }

    h = (const sg_header_t *) ctx->snap;
    if (h == NULL || !h->has_default_environment) {
        return 0;
    }

    sg_addl(b, "{\"tier\":");
    statsig_buf_json_str(b, (const char *) ctx->snap
                            + h->default_environment.off,
                         h->default_environment.len);
    sg_addc(b, '}');

    return 1;
}


static int
sg_has_sdk_environment(statsig_eval_ctx_t *ctx)
{
    /* no snapshot yet (custom events before specs load): no default */
    return ctx->rt->has_env
           || (ctx->snap != NULL
               && ((const sg_header_t *) ctx->snap)->has_default_environment);
}


void
statsig_exposure_user(statsig_buf_t *b, statsig_eval_ctx_t *ctx,
    statsig_user_mode_e mode)
{
    const statsig_value_t  *u, *own;
    size_t                  i;
    int                     first, env, seen_env, seen_private;

    u = ctx->user;

    if (u == NULL || u->type != STATSIG_V_OBJECT) {
        sg_addl(b, "null");
        return;
    }

    /* events always take the SDK's environment; initialize only fills a
     * missing one (StatsigServer.getClientInitializeResponse) */
    own = statsig_value_get(u, "statsigEnvironment", 18);
    env = sg_has_sdk_environment(ctx)
          && (mode == STATSIG_USER_EVENT || statsig_value_nullish(own));

    sg_addc(b, '{');
    first = 1;
    seen_env = 0;
    seen_private = 0;

    for (i = 0; i < u->n; i++) {
        const char  *k = u->keys[i];
        size_t       kl = u->key_lens[i];

        if (u->items[i].type == STATSIG_V_UNDEFINED) {
            continue;
        }

        if (kl == 17 && memcmp(k, "privateAttributes", 17) == 0) {
            if (mode == STATSIG_USER_INIT || seen_private) {
                continue;
            }

            seen_private = 1;
        }

        if (!first) {
            sg_addc(b, ',');
        }

        first = 0;
        sg_json_str(b, k, kl);
        sg_addc(b, ':');

        if (kl == 17 && memcmp(k, "privateAttributes", 17) == 0) {
            sg_addl(b, "null");

        } else if (env && kl == 18 && memcmp(k, "statsigEnvironment", 18) == 0)
        {
            seen_env = 1;
            sg_put_sdk_environment(b, ctx);

        } else {
            statsig_exposure_value(b, &u->items[i]);
        }
    }

    if (env && !seen_env) {
        statsig_buf_adds(b, first ? "\"statsigEnvironment\":"
                                  : ",\"statsigEnvironment\":");
        sg_put_sdk_environment(b, ctx);
        first = 0;
    }

    if (mode == STATSIG_USER_EVENT && !seen_private) {
        statsig_buf_adds(b, first ? "\"privateAttributes\":null"
                                  : ",\"privateAttributes\":null");
    }

    sg_addc(b, '}');
}


/* ---- dedupe key: [userID, customIDs, eventName, metadata].join() ---- */

/* an element of Array.prototype.join: null and undefined are "" */
static void
sg_key_join_item(statsig_buf_t *k, const statsig_value_t *v)
{
    if (!statsig_value_nullish(v)) {
        statsig_buf_add(k, v->str, v->len);
    }
}


void
statsig_exposure_key_prefix(statsig_buf_t *k, statsig_eval_ctx_t *ctx)
{
    const statsig_value_t  *u, *ids;
    size_t                  i;

    u = ctx->user;

    if (u != NULL && u->type == STATSIG_V_OBJECT) {
        sg_key_join_item(k, statsig_value_get(u, "userID", 6));
    }

    statsig_buf_addc(k, ',');

    ids = (u != NULL && u->type == STATSIG_V_OBJECT)
          ? statsig_value_get(u, "customIDs", 9) : NULL;

    /* Object.values(customIDs).join() for objects and arrays */
    if (ids != NULL
        && (ids->type == STATSIG_V_OBJECT || ids->type == STATSIG_V_ARRAY))
    {
        for (i = 0; i < ids->n; i++) {
            if (i) {
                statsig_buf_addc(k, ',');
            }

            sg_key_join_item(k, &ids->items[i]);
        }
    }

    statsig_buf_addc(k, ',');
}


static void
sg_key_start(statsig_buf_t *k, const statsig_exposure_opts_t *o,
    const char *event, size_t len)
{
    k->len = 0;

    if (o->key_prefix != NULL) {
        sg_add(k, o->key_prefix, o->key_prefix_len);

    } else {
        statsig_exposure_key_prefix(k, o->ctx);
    }

    sg_add(k, event, len);
    sg_addc(k, ',');
}


/* ---- metadata ---- */

/*
 * Member names are plain ASCII literals: written with their quotes and
 * colon as one string ("\"gate\":"), nothing to escape.
 */
#define sg_meta_key(m, key)                                                 \
    sg_meta_lit(m, "\"" key "\":", sizeof("\"" key "\":") - 1)
#define sg_meta_str(m, key, v, len)                                         \
    sg_meta_str_lit(m, "\"" key "\":", sizeof("\"" key "\":") - 1, v, len)
#define sg_meta_bool(m, key, v)                                             \
    sg_meta_str(m, key, (v) ? "true" : "false", (v) ? 4 : 5)


static void
sg_meta_lit(sg_meta_t *m, const char *lit, size_t n)
{
    if (m->b == NULL) {
        return;
    }

    if (!m->first) {
        sg_addc(m->b, ',');
    }

    m->first = 0;
    sg_add(m->b, lit, n);
}


/* a string member that takes part in the dedupe key */
static void
sg_meta_str_lit(sg_meta_t *m, const char *lit, size_t n, const char *v,
    size_t len)
{
    sg_meta_lit(m, lit, n);

    if (m->b != NULL) {
        sg_json_str(m->b, v, len);
    }

    if (m->key != NULL) {
        if (m->nkey++) {
            sg_addc(m->key, ',');
        }

        sg_add(m->key, v, len);
    }
}


/* configVersion: String(version) of the spec that produced the result */
static void
sg_meta_version(sg_meta_t *m, const statsig_result_t *r)
{
    const statsig_spec_t  *spec;
    char                   tmp[STATSIG_NUMBER_STR_SIZE];
    size_t                 n;

    spec = r->delegate ? r->delegate : r->spec;
    if (spec == NULL || r->reason == STATSIG_REASON_UNRECOGNIZED
        || !spec->has_version)
    {
        return;
    }

    n = statsig_js_number_to_string(spec->version, tmp);
    sg_meta_str(m, "configVersion", tmp, n);
}


/* d as JSON: JavaScript's digits, or null when not finite */
static size_t
sg_num(char *out, double d)
{
    if (!isfinite(d)) {
        memcpy(out, "null", 4);
        return 4;
    }

    return statsig_js_number_to_string(d, out);
}


/* d as JSON, the digits of same (s, n) when d is the same number */
static void
sg_num_as(statsig_buf_t *b, double d, double same, const char *s, size_t n)
{
    char  tmp[STATSIG_NUMBER_STR_SIZE];

    if (d == same) {
        sg_add(b, s, n);
        return;
    }

    n = sg_num(tmp, d);
    sg_add(b, tmp, n);
}


/*
 * What follows the reason in every exposure of one user, snapshot and
 * time: the rest of the metadata, time, user, value, and the
 * "secondaryExposures" key.
 */
void
statsig_exposure_tail(statsig_buf_t *b, const statsig_exposure_opts_t *o)
{
    char    sync[STATSIG_NUMBER_STR_SIZE], now[STATSIG_NUMBER_STR_SIZE];
    size_t  sync_len, now_len;

    /*
     * initTime is configSyncTime and serverTime the event's time, as the
     * module sets them: their digits are written once
     */
    sync_len = sg_num(sync, o->config_sync_time);
    now_len = sg_num(now, o->time);

    sg_addl(b, ",\"configSyncTime\":");
    sg_add(b, sync, sync_len);
    sg_addl(b, ",\"initTime\":");
    sg_num_as(b, o->init_time, o->config_sync_time, sync, sync_len);
    sg_addl(b, ",\"serverTime\":");
    sg_num_as(b, o->server_time, o->time, now, now_len);
    sg_addl(b, "},\"time\":");
    sg_add(b, now, now_len);
    sg_addl(b, ",\"user\":");
    statsig_exposure_user(b, o->ctx, STATSIG_USER_EVENT);
    sg_addl(b, ",\"value\":null,\"secondaryExposures\":");
}


/*
 * safeAddEvaulationDetailsToEvent (not part of the dedupe key), the end
 * of the metadata, time, user, value, secondaryExposures, statsigMetadata
 */
static int
sg_event_finish(sg_meta_t *m, const statsig_exposure_opts_t *o,
    const statsig_result_t *r, uint32_t exp_off, uint32_t exp_len)
{
    statsig_buf_t  *b;

    b = m->b;

    if (o->dedupe_key != NULL && o->dedupe_key->failed) {
        return -1;
    }

    if (b == NULL) {
        return 1;
    }

    if (!m->first) {
        sg_addc(b, ',');
    }

    sg_reason(b, r->reason);

    if (o->tail != NULL) {
        sg_add(b, o->tail, o->tail_len);

    } else {
        statsig_exposure_tail(b, o);
    }

    if (exp_len == 0) {
        sg_addl(b, "[]");

    } else {
        statsig_exposures_json(b, o->ctx, exp_off, exp_len,
                               STATSIG_HASH_NONE);
    }

    /* sampling (sdk_configs.sampling_mode) is not applied: every exposure
     * is logged, which is always correct */
    sg_addl(b, ",\"statsigMetadata\":{}}");

    return b->failed ? -1 : 1;
}


static void
sg_meta_start(sg_meta_t *m, statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *event, size_t len)
{
    m->b = b;
    m->key = o->dedupe_key;
    m->first = 1;
    m->nkey = 0;

    if (m->key != NULL) {
        sg_key_start(m->key, o, event, len);
    }

    if (b != NULL) {
        sg_addl(b, "{\"eventName\":");
        sg_json_str(b, event, len);
        sg_addl(b, ",\"metadata\":{");
    }
}


int
statsig_exposure_gate(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *name, size_t len, const statsig_result_t *r)
{
    sg_meta_t  m;

    sg_meta_start(&m, b, o, "statsig::gate_exposure", 22);
    sg_meta_str(&m, "gate", name, len);
    sg_meta_bool(&m, "gateValue", r->value);
    sg_meta_str(&m, "ruleID", r->rule_id.data, r->rule_id.len);
    sg_meta_version(&m, r);

    return sg_event_finish(&m, o, r, r->exposures_off, r->exposures_len);
}


int
statsig_exposure_config(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *name, size_t len, const statsig_result_t *r)
{
    sg_meta_t  m;

    sg_meta_start(&m, b, o, "statsig::config_exposure", 24);
    sg_meta_str(&m, "config", name, len);
    sg_meta_str(&m, "ruleID", r->rule_id.data, r->rule_id.len);
    sg_meta_bool(&m, "rulePassed", r->value);
    sg_meta_version(&m, r);

    return sg_event_finish(&m, o, r, r->exposures_off, r->exposures_len);
}


static int
sg_is_explicit(const statsig_snapshot_t *s, const statsig_result_t *r,
    const char *param, size_t len)
{
    statsig_str_t  p;
    uint32_t       i, n;

    if (!r->has_explicit_params) {
        return 0;
    }

    n = statsig_strlist_size(s, r->explicit_params);
    for (i = 0; i < n; i++) {
        p = statsig_strlist_at(s, r->explicit_params, i);
        if (p.len == len && memcmp(p.data, param, len) == 0) {
            return 1;
        }
    }

    return 0;
}


int
statsig_exposure_layer(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *name, size_t len, const statsig_result_t *r,
    const char *param, size_t param_len)
{
    const statsig_snapshot_t  *s;
    sg_meta_t                  m;
    statsig_str_t              exp;
    uint32_t                   value, node;
    int                        explicit;

    s = o->ctx->snap;

    /* Layer.get logs only a parameter whose value is not null; an
     * unsupported layer's value is {} */
    value = (r->reason == STATSIG_REASON_NETWORK) ? r->json_value : 0;
    if (value == 0 || statsig_json_type(s, value) != STATSIG_JSON_OBJECT) {
        return 0;
    }

    node = statsig_json_object_get(s, value, param, param_len);
    if (node == 0 || statsig_json_type(s, node) == STATSIG_JSON_NULL) {
        return 0;
    }

    explicit = sg_is_explicit(s, r, param, param_len);
    exp.data = "";
    exp.len = 0;
    if (explicit && r->delegate != NULL) {
        exp = statsig_spec_name(s, r->delegate);
    }

    sg_meta_start(&m, b, o, "statsig::layer_exposure", 23);
    sg_meta_str(&m, "config", name, len);
    sg_meta_str(&m, "ruleID", r->rule_id.data, r->rule_id.len);
    sg_meta_str(&m, "allocatedExperiment", exp.data, exp.len);
    sg_meta_str(&m, "parameterName", param, param_len);
    sg_meta_bool(&m, "isExplicitParameter", explicit);
    sg_meta_version(&m, r);

    /* an explicit parameter exposes the experiment's targeting too */
    return explicit
           ? sg_event_finish(&m, o, r, r->exposures_off, r->exposures_len)
           : sg_event_finish(&m, o, r, r->undelegated_off,
                             r->undelegated_len);
}


int
statsig_event_custom(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *event, size_t len, const statsig_event_value_t *value,
    const statsig_str_t *meta_keys, const statsig_str_t *meta_values,
    size_t n)
{
    size_t  i;

    /* custom events are never deduplicated */
    if (o->dedupe_key != NULL) {
        o->dedupe_key->len = 0;
    }

    /* LogEventValidator: an empty name becomes "invalid_event" */
    if (len == 0) {
        event = "invalid_event";
        len = 13;
    }

    statsig_buf_adds(b, "{\"eventName\":");
    statsig_buf_json_str(b, event, len);
    statsig_buf_adds(b, ",\"metadata\":");
    if (meta_keys == NULL) {
        statsig_buf_adds(b, "null");

    } else {
        statsig_buf_addc(b, '{');
        for (i = 0; i < n; i++) {
            if (i) {
                statsig_buf_addc(b, ',');
            }

            statsig_buf_json_str(b, meta_keys[i].data, meta_keys[i].len);
            statsig_buf_addc(b, ':');
            statsig_buf_json_str(b, meta_values[i].data, meta_values[i].len);
        }

        statsig_buf_addc(b, '}');
    }

    statsig_buf_adds(b, ",\"time\":");
    statsig_buf_json_num(b, o->time);
    statsig_buf_adds(b, ",\"user\":");
    statsig_exposure_user(b, o->ctx, STATSIG_USER_EVENT);
    statsig_buf_adds(b, ",\"value\":");

    if (value == NULL || value->type == STATSIG_EVENT_VALUE_NULL) {
        statsig_buf_adds(b, "null");

    } else if (value->type == STATSIG_EVENT_VALUE_STRING) {
        statsig_buf_json_str(b, value->str.data, value->str.len);

    } else {
        statsig_buf_json_num(b, value->num);
    }

    statsig_buf_adds(b, ",\"secondaryExposures\":[],\"statsigMetadata\":{}}");

    return b->failed ? -1 : 1;
}
