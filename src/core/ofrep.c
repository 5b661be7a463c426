/*
 * The OFREP server's pure logic (see ofrep.h).
 *
 * Answers follow OFREP's OpenAPI document (open-feature/protocol,
 * service/openapi.yaml): evaluationSuccess {key, value, reason, variant,
 * metadata} with metadata values that are strings, numbers or booleans
 * only, evaluationFailure {key, errorCode, errorDetails}.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ofrep.h"
#include "snapshot.h"
#include "user.h"


#define SG_OFREP_PREFIX      "/ofrep/v1/evaluate/flags"
#define SG_OFREP_PREFIX_LEN  (sizeof(SG_OFREP_PREFIX) - 1)

/* nesting the canonical writer follows; deeper is written as null */
#define SG_OFREP_MAX_DEPTH   64


static const char *const  sg_ofrep_errors[] = {
    NULL,
    "PARSE_ERROR",
    "INVALID_CONTEXT",
    "TARGETING_KEY_MISSING",
    "FLAG_NOT_FOUND",
    "GENERAL"
};


/* the context's keys that are user fields (strings) */
static const char *const  sg_ofrep_fields[] = {
    "email", "ip", "userAgent", "country", "locale", "appVersion", NULL
};


static void sg_ofrep_err(char *err, size_t errlen, const char *fmt,
    const char *arg);
static int sg_ofrep_is(const char *k, size_t len, const char *name);
static void sg_ofrep_canon(const statsig_alloc_t *a, statsig_buf_t *b,
    const statsig_value_t *v, int depth);
static int sg_ofrep_key_cmp(const void *a, const void *b);
static const sg_rule_t *sg_ofrep_rule(const statsig_snapshot_t *s,
    const statsig_spec_t *spec, statsig_str_t id);
static void sg_ofrep_meta_str(statsig_buf_t *b, const char *name,
    statsig_str_t v);


const char *
statsig_ofrep_error_name(int code)
{
    if (code <= 0
        || code >= (int) (sizeof(sg_ofrep_errors) / sizeof(char *)))
    {
        return NULL;
    }

    return sg_ofrep_errors[code];
}


int
statsig_ofrep_path(const char *path, size_t len, const char **key,
    size_t *klen)
{
    size_t       i, rest;
    const char  *p;

    if (len < SG_OFREP_PREFIX_LEN) {
        return STATSIG_OFREP_PATH_NONE;
    }

    for (i = 0; i + SG_OFREP_PREFIX_LEN <= len; i++) {
        if (memcmp(path + i, SG_OFREP_PREFIX, SG_OFREP_PREFIX_LEN) != 0) {
            continue;
        }

        p = path + i + SG_OFREP_PREFIX_LEN;
        rest = len - i - SG_OFREP_PREFIX_LEN;

        if (rest == 0 || (rest == 1 && p[0] == '/')) {
            return STATSIG_OFREP_PATH_BULK;
        }

        if (p[0] != '/') {
            /* ".../flagsX": not ours; a later occurrence may be */
            continue;
        }

        *key = p + 1;
        *klen = rest - 1;

        return STATSIG_OFREP_PATH_SINGLE;
    }

    return STATSIG_OFREP_PATH_NONE;
}


int
statsig_ofrep_request(const statsig_alloc_t *a, const char *body,
    size_t len, statsig_value_t *req, const statsig_value_t **context,
    char *err, size_t errlen)
{
    const statsig_value_t  *c;

    if (statsig_value_from_json(a, body, len, req, err, errlen) != 0) {
        return STATSIG_OFREP_PARSE_ERROR;
    }

    if (req->type != STATSIG_V_OBJECT) {
        sg_ofrep_err(err, errlen, "the body must be a JSON object%s", "");
        return STATSIG_OFREP_PARSE_ERROR;
    }

    c = statsig_value_get(req, "context", 7);

    if (c == NULL || c->type != STATSIG_V_OBJECT) {
        sg_ofrep_err(err, errlen, "\"context\" must be an object%s", "");
        return STATSIG_OFREP_INVALID_CONTEXT;
    }

    *context = c;

    return STATSIG_OFREP_OK;
}


int
statsig_ofrep_user(const statsig_alloc_t *a, const statsig_value_t *context,
    statsig_value_t *user, char *err, size_t errlen)
{
    int                     i;
    size_t                  j, n, nc, klen;
    size_t                 *lens, *clens;
    const char             *k;
    const char            **keys, **ckeys;
    statsig_value_t        *vals, *cvals;
    const statsig_value_t  *v;

    n = 0;
    nc = 0;

    /* at most one user key a context key, plus "custom" */
    keys = a->alloc(a->data, (context->n + 1) * sizeof(char *));
    lens = a->alloc(a->data, (context->n + 1) * sizeof(size_t));
    vals = a->alloc(a->data, (context->n + 1) * sizeof(statsig_value_t));
    ckeys = a->alloc(a->data, (context->n + 1) * sizeof(char *));
    clens = a->alloc(a->data, (context->n + 1) * sizeof(size_t));
    cvals = a->alloc(a->data, (context->n + 1) * sizeof(statsig_value_t));

    if (keys == NULL || lens == NULL || vals == NULL || ckeys == NULL
        || clens == NULL || cvals == NULL)
    {
        sg_ofrep_err(err, errlen, "no memory%s", "");
        return STATSIG_OFREP_GENERAL;
    }

    for (j = 0; j < context->n; j++) {
        k = context->keys[j];
        klen = context->key_lens[j];
        v = &context->items[j];

        if (sg_ofrep_is(k, klen, "targetingKey")) {
            if (v->type != STATSIG_V_STRING) {
                sg_ofrep_err(err, errlen, "\"targetingKey\" must be a "
                             "string%s", "");
                return STATSIG_OFREP_INVALID_CONTEXT;
            }

            keys[n] = "userID";
            lens[n] = 6;
            vals[n++] = *v;
            continue;
        }

        for (i = 0; sg_ofrep_fields[i]; i++) {
            if (sg_ofrep_is(k, klen, sg_ofrep_fields[i])) {
                break;
            }
        }

        if (sg_ofrep_fields[i]) {
            if (v->type != STATSIG_V_STRING) {
                sg_ofrep_err(err, errlen, "\"%s\" must be a string",
                             sg_ofrep_fields[i]);
                return STATSIG_OFREP_INVALID_CONTEXT;
            }

            keys[n] = k;
            lens[n] = klen;
            vals[n++] = *v;
            continue;
        }

        if (sg_ofrep_is(k, klen, "customIDs")
            || sg_ofrep_is(k, klen, "privateAttributes")
            || sg_ofrep_is(k, klen, "statsigEnvironment"))
        {
            if (v->type != STATSIG_V_OBJECT) {
                sg_ofrep_err(err, errlen, "\"%s\" must be an object", k);
                return STATSIG_OFREP_INVALID_CONTEXT;
            }

            keys[n] = k;
            lens[n] = klen;
            vals[n++] = *v;
            continue;
        }

        ckeys[nc] = k;
        clens[nc] = klen;
        cvals[nc++] = *v;
    }

    if (nc) {
        keys[n] = "custom";
        lens[n] = 6;

        if (statsig_value_object(a, ckeys, clens, cvals, nc, &vals[n]) != 0) {
            sg_ofrep_err(err, errlen, "no memory%s", "");
            return STATSIG_OFREP_GENERAL;
        }

        n++;
    }

    if (statsig_value_object(a, keys, lens, vals, n, user) != 0) {
        sg_ofrep_err(err, errlen, "no memory%s", "");
        return STATSIG_OFREP_GENERAL;
    }

    /* statsig-node refuses a user with neither a userID nor a custom ID */
    if (statsig_user_validate(user) != NULL) {
        sg_ofrep_err(err, errlen, "the context needs a targetingKey (or a "
                     "non-empty customIDs object)%s", "");
        return STATSIG_OFREP_TARGETING_KEY_MISSING;
    }

    return STATSIG_OFREP_OK;
}


const statsig_spec_t *
statsig_ofrep_find(const statsig_snapshot_t *s, const char *key,
    size_t klen)
{
    int                    k;
    const statsig_spec_t  *spec;

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        spec = statsig_spec_find(s, (statsig_kind_e) k, key, klen);

        if (spec) {
            return spec;
        }
    }

    return NULL;
}


int
statsig_ofrep_listed(const statsig_snapshot_t *s, const statsig_spec_t *spec)
{
    statsig_str_t     name;
    statsig_entity_e  e;

    e = statsig_spec_entity(spec);

    if (e == STATSIG_ENTITY_SEGMENT || e == STATSIG_ENTITY_HOLDOUT) {
        return 0;
    }

    name = statsig_spec_name(s, spec);

    return statsig_ofrep_find(s, name.data, name.len) == spec;
}


const char *
statsig_ofrep_reason(const statsig_snapshot_t *s, const statsig_spec_t *spec,
    const statsig_result_t *res)
{
    const sg_rule_t  *rule;

    if (res->reason == STATSIG_REASON_UNSUPPORTED
        || res->reason == STATSIG_REASON_ERROR)
    {
        return "ERROR";
    }

    rule = sg_ofrep_rule(s, spec, res->rule_id);

    if (rule == NULL && res->delegate) {
        rule = sg_ofrep_rule(s, res->delegate, res->rule_id);
    }

    if (rule == NULL) {
        /* the SDK's own ids: no rule matched */
        if (res->rule_id.len == 8
            && memcmp(res->rule_id.data, "disabled", 8) == 0)
        {
            return "DISABLED";
        }

        if (res->rule_id.len == 7
            && memcmp(res->rule_id.data, "default", 7) == 0)
        {
            return "DEFAULT";
        }

        return "UNKNOWN";
    }

    /* a disabled v1 spec answers "disabled" before any rule */
    if (!spec->enabled && res->rule_id.len == 8
        && memcmp(res->rule_id.data, "disabled", 8) == 0)
    {
        return "DISABLED";
    }

    /* pseudorandom assignment: an experiment's group, a partial rollout */
    if (res->is_experiment_group
        || (rule->pass_percentage > 0 && rule->pass_percentage < 100))
    {
        return "SPLIT";
    }

    return "TARGETING_MATCH";
}


int
statsig_ofrep_flag(statsig_buf_t *b, const statsig_snapshot_t *s,
    const char *key, size_t klen, const statsig_spec_t *spec,
    const statsig_result_t *res)
{
    const char      *entity;
    statsig_str_t    v;
    statsig_kind_e   kind;

    static const char *const  entities[] = {
        "feature_gate", "holdout", "segment", "dynamic_config",
        "experiment", "autotune", "layer", "other"
    };

    if (res->reason == STATSIG_REASON_UNSUPPORTED
        || res->reason == STATSIG_REASON_ERROR)
    {
        statsig_ofrep_error(b, key, klen, STATSIG_OFREP_GENERAL,
                            res->reason == STATSIG_REASON_ERROR
                            ? "the evaluation went over a limit"
                            : "the flag has a condition or operator this "
                              "server does not support");
        return STATSIG_OFREP_GENERAL;
    }

    kind = statsig_spec_kind(spec);

    statsig_buf_adds(b, "{\"key\":");
    statsig_buf_json_str(b, key, klen);
    statsig_buf_adds(b, ",\"value\":");

    if (kind == STATSIG_KIND_GATE) {
        statsig_buf_adds(b, res->value ? "true" : "false");

    } else {
        /* json_value 0 is the core's {} */
        v = statsig_json_text(s, res->json_value);
        statsig_buf_add(b, v.data, v.len);
    }

    statsig_buf_adds(b, ",\"reason\":\"");
    statsig_buf_adds(b, statsig_ofrep_reason(s, spec, res));
    statsig_buf_addc(b, '"');

    if (kind == STATSIG_KIND_GATE) {
        statsig_buf_adds(b, res->value ? ",\"variant\":\"on\""
                                       : ",\"variant\":\"off\"");

    } else if (res->has_group_name) {
        statsig_buf_adds(b, ",\"variant\":");
        statsig_buf_json_str(b, res->group_name.data, res->group_name.len);
    }

    entity = entities[statsig_spec_entity(spec) <= STATSIG_ENTITY_OTHER
                      ? statsig_spec_entity(spec) : STATSIG_ENTITY_OTHER];

    statsig_buf_adds(b, ",\"metadata\":{\"entity\":\"");
    statsig_buf_adds(b, entity);
    statsig_buf_addc(b, '"');

    sg_ofrep_meta_str(b, "ruleId", res->rule_id);
    sg_ofrep_meta_str(b, "idType", res->id_type);

    if (res->has_group_name) {
        sg_ofrep_meta_str(b, "groupName", res->group_name);
    }

    if (kind == STATSIG_KIND_LAYER && res->delegate) {
        sg_ofrep_meta_str(b, "allocatedExperiment",
                          statsig_spec_name(s, res->delegate));
    }

    statsig_buf_adds(b, "}}");

    return STATSIG_OFREP_OK;
}


void
statsig_ofrep_error(statsig_buf_t *b, const char *key, size_t klen, int code,
    const char *details)
{
    const char  *name;

    name = statsig_ofrep_error_name(code);

    statsig_buf_addc(b, '{');

    if (key) {
        statsig_buf_adds(b, "\"key\":");
        statsig_buf_json_str(b, key, klen);
        statsig_buf_addc(b, ',');
    }

    statsig_buf_adds(b, "\"errorCode\":\"");
    statsig_buf_adds(b, name ? name : "GENERAL");
    statsig_buf_addc(b, '"');

    if (details) {
        statsig_buf_adds(b, ",\"errorDetails\":");
        statsig_buf_json_str(b, details, strlen(details));
    }

    statsig_buf_addc(b, '}');
}


void
statsig_ofrep_canonical(const statsig_alloc_t *a, statsig_buf_t *b,
    const statsig_value_t *v)
{
    sg_ofrep_canon(a, b, v, 0);
}


void
statsig_ofrep_etag(const void *data, size_t len,
    char out[STATSIG_OFREP_ETAG_LEN + 1])
{
    size_t          i;
    unsigned char   d[32];

    static const char  hex[] = "0123456789abcdef";

    statsig_sha256(data, len, d);

    out[0] = '"';

    for (i = 0; i < 16; i++) {
        out[1 + 2 * i] = hex[d[i] >> 4];
        out[2 + 2 * i] = hex[d[i] & 0xf];
    }

    out[33] = '"';
    out[34] = '\0';
}


int
statsig_ofrep_etag_match(const char *header, size_t len, const char *etag,
    size_t elen)
{
    size_t       i, start;
    const char  *p;

    /* the opaque-tag of etag, without W/ */
    if (elen >= 2 && etag[0] == 'W' && etag[1] == '/') {
        etag += 2;
        elen -= 2;
    }

    i = 0;

    while (i < len) {
        while (i < len && (header[i] == ' ' || header[i] == '\t'
                           || header[i] == ','))
        {
            i++;
        }

        if (i == len) {
            break;
        }

        if (header[i] == '*') {
            return 1;
        }

        if (len - i >= 2 && header[i] == 'W' && header[i + 1] == '/') {
            i += 2;
        }

        start = i;

        if (i < len && header[i] == '"') {
            /* a quoted tag: up to the closing quote */
            i++;

            while (i < len && header[i] != '"') {
                i++;
            }

            if (i < len) {
                i++;
            }

        } else {
            while (i < len && header[i] != ',' && header[i] != ' '
                   && header[i] != '\t')
            {
                i++;
            }
        }

        p = header + start;

        if (i - start == elen && memcmp(p, etag, elen) == 0) {
            return 1;
        }
    }

    return 0;
}


int
statsig_ofrep_uses_time(const statsig_snapshot_t *s)
{
    int                    k;
    uint32_t               i, r, c, n;
    const sg_rule_t       *rules;
    const sg_cond_t       *conds;
    const statsig_spec_t  *spec;

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        n = statsig_spec_count(s, (statsig_kind_e) k);

        for (i = 0; i < n; i++) {
            spec = statsig_spec_at(s, (statsig_kind_e) k, i);
            rules = SG_AT(s, spec->rules, sg_rule_t);

            for (r = 0; r < spec->n_rules; r++) {
                conds = SG_AT(s, rules[r].conds, sg_cond_t);

                for (c = 0; c < rules[r].n_conds; c++) {
                    if (conds[c].type == SG_COND_CURRENT_TIME) {
                        return 1;
                    }
                }
            }
        }
    }

    return 0;
}


static void
sg_ofrep_err(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (errlen) {
        (void) snprintf(err, errlen, fmt, arg);
    }
}


static int
sg_ofrep_is(const char *k, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(k, name, len) == 0;
}


typedef struct {
    const char             *key;
    size_t                  len;
    size_t                  index;      /* repeated keys keep their order */
    const statsig_value_t  *value;
} sg_ofrep_member_t;


static void
sg_ofrep_canon(const statsig_alloc_t *a, statsig_buf_t *b,
    const statsig_value_t *v, int depth)
{
    size_t              i;
    sg_ofrep_member_t  *m;

    if (depth > SG_OFREP_MAX_DEPTH) {
        statsig_buf_adds(b, "null");
        return;
    }

    switch (v->type) {

    case STATSIG_V_BOOL:
        statsig_buf_adds(b, v->b ? "true" : "false");
        return;

    case STATSIG_V_NUMBER:
        statsig_buf_json_num(b, v->num);
        return;

    case STATSIG_V_STRING:
        statsig_buf_json_str(b, v->str, v->len);
        return;

    case STATSIG_V_ARRAY:
        statsig_buf_addc(b, '[');

        for (i = 0; i < v->n; i++) {
            if (i) {
                statsig_buf_addc(b, ',');
            }

            sg_ofrep_canon(a, b, &v->items[i], depth + 1);
        }

        statsig_buf_addc(b, ']');
        return;

    case STATSIG_V_OBJECT:
        break;

    default:
        statsig_buf_adds(b, "null");
        return;
    }

    if (v->n == 0) {
        statsig_buf_adds(b, "{}");
        return;
    }

    /* the members sorted, in the caller's memory (a request pool) */
    m = a->alloc(a->data, v->n * sizeof(sg_ofrep_member_t));

    if (m == NULL) {
        b->failed = 1;
        return;
    }

    for (i = 0; i < v->n; i++) {
        m[i].key = v->keys[i];
        m[i].len = v->key_lens[i];
        m[i].index = i;
        m[i].value = &v->items[i];
    }

    qsort(m, v->n, sizeof(sg_ofrep_member_t), sg_ofrep_key_cmp);

    statsig_buf_addc(b, '{');

    for (i = 0; i < v->n; i++) {
        if (i) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_json_str(b, m[i].key, m[i].len);
        statsig_buf_addc(b, ':');
        sg_ofrep_canon(a, b, m[i].value, depth + 1);
    }

    statsig_buf_addc(b, '}');
}


static int
sg_ofrep_key_cmp(const void *a, const void *b)
{
    int                       rc;
    size_t                    n;
    const sg_ofrep_member_t  *x, *y;

    x = a;
    y = b;
    n = x->len < y->len ? x->len : y->len;

    rc = memcmp(x->key, y->key, n);

    if (rc) {
        return rc;
    }

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }

    return x->index < y->index ? -1 : (x->index > y->index);
}


/* the rule of spec whose id is id (the matched one), NULL when none */

static const sg_rule_t *
sg_ofrep_rule(const statsig_snapshot_t *s, const statsig_spec_t *spec,
    statsig_str_t id)
{
    uint32_t          i;
    statsig_str_t     rid;
    const sg_rule_t  *rules;

    if (id.data == NULL || id.len == 0) {
        return NULL;
    }

    rules = SG_AT(s, spec->rules, sg_rule_t);

    for (i = 0; i < spec->n_rules; i++) {
        rid = sg_str(s, rules[i].id);

        if (rid.len == id.len && memcmp(rid.data, id.data, id.len) == 0) {
            return &rules[i];
        }
    }

    return NULL;
}


static void
sg_ofrep_meta_str(statsig_buf_t *b, const char *name, statsig_str_t v)
{
    statsig_buf_adds(b, ",\"");
    statsig_buf_adds(b, name);
    statsig_buf_adds(b, "\":");
    statsig_buf_json_str(b, v.data ? v.data : "", v.data ? v.len : 0);
}
