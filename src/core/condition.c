/*
 * Conditions: the left value of each condition type, as statsig-node's
 * Evaluator._evalCondition obtains it, then the operator.
 */

#include <math.h>
#include <string.h>

#include "eval_internal.h"
#include "jsnum.h"
#include "jsstr.h"


typedef struct {
    statsig_value_t  v;
    char             buf[STATSIG_TMP_VALUE_SIZE];
    char             lower[statsig_js_lower_size(STATSIG_TMP_VALUE_SIZE)];
} sg_tmp_t;


/* ---- temporary values ---- */

/* a scalar's fields, each once: a memset of the value took a rep stos */
static void
sg_tmp_init(sg_tmp_t *t, uint8_t type)
{
    t->v.type = type;
    t->v.b = 0;
    t->v.pending = 0;
    t->v.str = t->buf;
    t->v.len = 0;
    t->v.lower = t->buf;
    t->v.lower_len = 0;
    t->v.items = NULL;
    t->v.keys = NULL;
    t->v.key_lens = NULL;
    t->v.n = 0;
    t->v.hash = 0;
    t->v.lower_hash = 0;
}


static const statsig_value_t *
sg_tmp_string(sg_tmp_t *t, const char *s, size_t len, unsigned needs)
{
    if (len >= sizeof(t->buf)) {
        len = sizeof(t->buf) - 1;
    }

    memcpy(t->buf, s, len);
    t->buf[len] = '\0';

    sg_tmp_init(t, STATSIG_V_STRING);
    t->v.len = len;
    t->v.lower_len = len;
    t->v.num = (needs & SG_NEED_NUM) ? statsig_js_to_number(t->buf, len)
                                     : NAN;

    if (needs & SG_NEED_LOWER) {
        t->v.lower = t->lower;
        t->v.lower_len = statsig_js_lower(t->buf, len, t->lower);
    }

    return &t->v;
}


/*
 * Whether an operator reads String(value) of a number: comparisons, ==,
 * dates and versions use Number() or the type only.
 */
static int
sg_op_reads_number_str(unsigned op)
{
    switch (op) {
    case SG_OP_GT: case SG_OP_GTE: case SG_OP_LT: case SG_OP_LTE:
    case SG_OP_VERSION_GT: case SG_OP_VERSION_GTE: case SG_OP_VERSION_LT:
    case SG_OP_VERSION_LTE: case SG_OP_VERSION_EQ: case SG_OP_VERSION_NEQ:
    case SG_OP_EQ: case SG_OP_NEQ:
    case SG_OP_BEFORE: case SG_OP_AFTER: case SG_OP_ON:
    case SG_OP_IN_SEGMENT_LIST: case SG_OP_NOT_IN_SEGMENT_LIST:
    case SG_OP_ARRAY_CONTAINS_ANY: case SG_OP_ARRAY_CONTAINS_NONE:
    case SG_OP_ARRAY_CONTAINS_ALL: case SG_OP_NOT_ARRAY_CONTAINS_ALL:
        return 0;
    default:
        return 1;
    }
}


/*
 * String(n) of an integer below 1e9 (NUL-terminated), its length: the
 * length first, the digits written from the last one in place.
 */
static size_t
sg_digits(uint32_t n, char *out)
{
    static const uint32_t  ten[] = {
        10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000
    };
    size_t                 len, i;

    len = 1;
    while (len <= sizeof(ten) / sizeof(ten[0]) && n >= ten[len - 1]) {
        len++;
    }

    out[len] = '\0';

    i = len;
    do {
        out[--i] = (char) ('0' + n % 10);
        n /= 10;
    } while (i != 0);

    return len;
}


static const statsig_value_t *
sg_tmp_number(sg_tmp_t *t, double num, unsigned op)
{
    sg_tmp_init(t, STATSIG_V_NUMBER);
    t->v.num = num;

    /* digits, "e", "Infinity": lower case only for the last two; a
     * current time's digits cost more than the rest of the condition */
    if (!sg_op_reads_number_str(op)) {
        t->buf[0] = '\0';

    } else if (num >= 0 && num < 1e9 && num == (double) (uint32_t) num) {
        /* a bucket: its digits, which are their own lower case */
        t->v.len = sg_digits((uint32_t) num, t->buf);
        t->v.lower_len = t->v.len;

    } else {
        t->v.len = statsig_js_number_to_string(num, t->buf);
        t->v.lower = t->lower;
        t->v.lower_len = statsig_js_lower(t->buf, t->v.len, t->lower);
    }

    return &t->v;
}


/* ---- user lookups (EvaluatorUtils) ---- */

const statsig_value_t *
statsig_unit_id(statsig_eval_ctx_t *ctx, int custom, statsig_str_t id_type)
{
    const statsig_value_t  *v, **memo;

    if (!custom) {
        return ctx->user_id ? ctx->user_id : &statsig_value_undefined;
    }

    /* the case-insensitive scan lower-cases every customIDs key: once */
    memo = statsig_unit_memo(ctx, id_type.data);
    if (*memo != NULL) {
        return *memo;
    }

    v = statsig_value_get(ctx->user_custom_ids, id_type.data, id_type.len);
    if (v == NULL) {
        v = statsig_value_get_ci(ctx->user_custom_ids, id_type.data,
                                 id_type.len);
    }

    *memo = v ? v : &statsig_value_undefined;

    return *memo;
}


/*
 * The statsigEnvironment _normalizeUser leaves on the user: the SDK's
 * environment option, else the DCS default_environment as {tier}, else
 * the user's own.  `storage` holds a value built on the caller's stack.
 */
static const statsig_value_t *
sg_environment(statsig_eval_ctx_t *ctx, statsig_value_t storage[2])
{
    const sg_header_t  *h;
    static const char  *key = "tier";
    static size_t       key_len = 4;

    if (ctx->environment != NULL) {
        return ctx->environment;
    }

    if (ctx->rt->has_env) {
        return &ctx->rt->env;
    }

    h = (const sg_header_t *) ctx->snap;
    if (h->has_default_environment) {
        memset(storage, 0, 2 * sizeof(statsig_value_t));
        storage[1].type = STATSIG_V_STRING;
        storage[1].str = (const char *) ctx->snap
                         + h->default_environment.off;
        storage[1].len = h->default_environment.len;
        storage[1].lower = (const char *) ctx->snap
                           + h->default_environment_lower.off;
        storage[1].lower_len = h->default_environment_lower.len;
        storage[1].num = h->default_environment_num;

        storage[0].type = STATSIG_V_OBJECT;
        storage[0].str = "[object Object]";
        storage[0].len = 15;
        storage[0].lower = "[object object]";
        storage[0].lower_len = 15;
        storage[0].num = NAN;
        storage[0].items = &storage[1];
        storage[0].keys = &key;
        storage[0].key_lens = &key_len;
        storage[0].n = 1;

        return &storage[0];
    }

    return statsig_value_get(ctx->user, "statsigEnvironment", 18);
}


/* ---- conditions ---- */

/* pass_gate / fail_gate: the nested gate's exposures, then its own. */
static SG_NOINLINE int
sg_eval_gate_condition(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    int depth)
{
    statsig_result_t        r;
    const statsig_spec_t   *gate;
    statsig_str_t           rule_id;
    uint32_t                base;
    int                     value;

    base = ctx->rt->exp_len;

    if (c->gate < 0) {
        /* unrecognized gate: no exposures of its own */
        if (statsig_push_exposure(ctx->rt, sg_str(ctx->snap, c->target.str), 0,
                             statsig_rule_none) != 0)
        {
            ctx->unsupported = 1;
            return 0;
        }

        return c->type == SG_COND_FAIL_GATE;
    }

    gate = SG_SPEC(ctx->snap, STATSIG_KIND_GATE, c->gate);

    /* the memo's exposures land at base, where the gate's would */
    if (!statsig_memo_gate(ctx, gate, &value, &rule_id)) {
        statsig_eval_nested(ctx, gate, &r, depth + 1);
        statsig_memo_put(ctx, gate, &r);

        if (r.reason == STATSIG_REASON_UNSUPPORTED
            || r.reason == STATSIG_REASON_ERROR)
        {
            ctx->unsupported = 1;
            ctx->rt->exp_len = base;
            return 0;
        }

        statsig_move_exposures(ctx->rt, &r, base);
        value = r.value;
        rule_id = r.rule_id;
    }

    if (statsig_push_exposure(ctx->rt, sg_str(ctx->snap, c->target.str),
                              value, rule_id)
        != 0)
    {
        ctx->unsupported = 1;
        return 0;
    }

    return c->type == SG_COND_FAIL_GATE ? !value : value;
}


/* multi_pass_gate / multi_fail_gate (legacy): entry first, then exposures */
static SG_NOINLINE int
sg_eval_multi_gate_condition(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    int depth)
{
    const sg_gateref_t  *g;
    statsig_result_t     r;
    uint32_t             i, at;
    int                  value;

    if (c->target.type != STATSIG_V_ARRAY) {
        ctx->unsupported = 1;
        return 0;
    }

    g = SG_AT(ctx->snap, c->multi, sg_gateref_t);

    for (i = 0; i < c->multi_n; i++) {
        at = ctx->rt->exp_len;

        if (g[i].gate < 0) {
            r.value = 0;
            r.rule_id = statsig_rule_none;
            r.exposures_off = at;
            r.exposures_len = 0;

        } else {
            statsig_eval_nested(ctx,
                                SG_SPEC(ctx->snap, STATSIG_KIND_GATE,
                                        g[i].gate),
                                &r, depth + 1);

            if (r.reason == STATSIG_REASON_UNSUPPORTED
                || r.reason == STATSIG_REASON_ERROR)
            {
                ctx->unsupported = 1;
                ctx->rt->exp_len = at;
                return 0;
            }
        }

        /* make room for the gate's own entry in front of its exposures */
        if (ctx->rt->exp_len + 1 > STATSIG_MAX_EXPOSURES) {
            ctx->rt->overflow = 1;
            ctx->unsupported = 1;
            return 0;
        }

        memmove(&ctx->rt->exp[at + 1], &ctx->rt->exp[r.exposures_off],
                r.exposures_len * sizeof(statsig_exposure_t));
        ctx->rt->exp[at].gate = sg_str(ctx->snap, g[i].name);
        ctx->rt->exp[at].value = r.value;
        ctx->rt->exp[at].rule_id = r.rule_id;
        ctx->rt->exp_len = at + 1 + r.exposures_len;

        value = (c->type == SG_COND_MULTI_PASS_GATE) ? r.value : !r.value;
        if (value) {
            return 1;
        }
    }

    return 0;
}


/*
 * The conditions whose left value is made here, each in a frame of its
 * own (the temporary value's buffer): the dispatch below keeps none for
 * the user fields and unit ids most conditions read.
 */

/* the condition's field in the user (getFromUser), null without one */
static inline const statsig_value_t *
sg_cond_field(statsig_eval_ctx_t *ctx, const sg_cond_t *c)
{
    return c->has_field ? statsig_user_field(ctx, c->field_key,
                                             c->field_lower_key, c)
                        : &statsig_null_value;
}

/* getFromIP: only for "country", from the user's ip */
static SG_NOINLINE int
sg_cond_ip(statsig_eval_ctx_t *ctx, const sg_cond_t *c)
{
    const statsig_value_t  *v, *ip;
    statsig_str_t           field;
    sg_tmp_t                tmp;
    char                    country[3];

    v = sg_cond_field(ctx, c);

    if (statsig_value_nullish(v)) {
        v = &statsig_null_value;
        field = sg_str(ctx->snap, c->field);

        if (c->has_field && field.len == 7
            && memcmp(field.data, "country", 7) == 0)
        {
            ip = statsig_user_field(ctx, SG_FIELD_KEY_IP, SG_FIELD_KEY_IP,
                                    NULL);
            if (statsig_runtime_country(ctx->rt, ctx->session, ip, country)) {
                v = sg_tmp_string(&tmp, country, 2, sg_op_needs(c->op));
            }
        }
    }

    return statsig_apply_op(ctx, c, v);
}


/* getFromUserAgent: strings of at most 1000 UTF-16 units */
static SG_NOINLINE int
sg_cond_ua(statsig_eval_ctx_t *ctx, const sg_cond_t *c)
{
    const statsig_value_t  *v, *ua;
    statsig_str_t           uaf;
    sg_tmp_t                tmp;

    v = sg_cond_field(ctx, c);

    if (statsig_value_nullish(v)) {
        v = &statsig_null_value;

        ua = c->has_field ? statsig_user_field(ctx, SG_FIELD_KEY_UA,
                                               SG_FIELD_KEY_UA_LOWER, NULL)
                          : &statsig_null_value;

        if (ua->type != STATSIG_V_STRING
            || (ua->len > 1000 && statsig_js_length(ua->str, ua->len) > 1000))
        {
            /* null */

        } else if (c->ua_field) {
            /* the compiler's field: the session's value of it */
            ua = statsig_runtime_ua_value(ctx->rt, ctx->session, ua->str,
                                          ua->len, c->ua_field - 1u);
            v = ua ? ua : v;

        } else if (statsig_runtime_ua_field(ctx->rt, ctx->session, ua->str,
                                            ua->len,
                                            sg_str(ctx->snap, c->field_lower),
                                            &uaf))
        {
            v = sg_tmp_string(&tmp, uaf.data, uaf.len, sg_op_needs(c->op));
        }
    }

    return statsig_apply_op(ctx, c, v);
}


static SG_NOINLINE int
sg_cond_environment(statsig_eval_ctx_t *ctx, const sg_cond_t *c)
{
    const statsig_value_t  *v;
    statsig_value_t         env[2];
    statsig_str_t           field;

    v = &statsig_null_value;

    if (c->has_field) {
        field = sg_str(ctx->snap, c->field);
        v = statsig_value_get_ci(sg_environment(ctx, env), field.data,
                                 field.len);
        if (v == NULL) {
            v = &statsig_value_undefined;
        }
    }

    return statsig_apply_op(ctx, c, v);
}


static SG_NOINLINE int
sg_cond_time(statsig_eval_ctx_t *ctx, const sg_cond_t *c)
{
    sg_tmp_t  tmp;

    return statsig_apply_op(ctx, c,
                            sg_tmp_number(&tmp, statsig_runtime_now(ctx->rt),
                                          c->op));
}


/* `salt + '.' + (getUnitID(...) ?? '')` */
static SG_NOINLINE int
sg_cond_bucket(statsig_eval_ctx_t *ctx, const sg_cond_t *c)
{
    const statsig_value_t  *v;
    statsig_str_t           unit;
    sg_tmp_t                tmp;

    const uint8_t          *bits;
    uint32_t                b;

    v = statsig_unit_id_of(ctx, c->id_type_custom,
                           sg_str(ctx->snap, c->id_type));
    unit.data = statsig_value_nullish(v) ? "" : v->str;
    unit.len = statsig_value_nullish(v) ? 0 : v->len;
    b = statsig_runtime_bucket(ctx->rt, sg_str(ctx->snap, c->salt), unit);

    if (c->flags & SG_CF_TABLE) {
        bits = SG_AT(ctx->snap, c->multi, uint8_t);
        return (bits[b >> 3] >> (b & 7)) & 1;
    }

    return statsig_apply_op(ctx, c, sg_tmp_number(&tmp, (double) b, c->op));
}


int
statsig_bucket_table(const void *blob, const sg_cond_t *c, uint8_t *bits)
{
    statsig_eval_ctx_t  ctx;
    sg_tmp_t            tmp;
    uint32_t            b;

    /* the operators that read the value and the target only (no regex,
     * ID list, date string nor unknown operator) */
    switch (c->op) {
    case SG_OP_GT: case SG_OP_GTE: case SG_OP_LT: case SG_OP_LTE:
    case SG_OP_VERSION_GT: case SG_OP_VERSION_GTE: case SG_OP_VERSION_LT:
    case SG_OP_VERSION_LTE: case SG_OP_VERSION_EQ: case SG_OP_VERSION_NEQ:
    case SG_OP_ANY: case SG_OP_NONE: case SG_OP_ANY_CS: case SG_OP_NONE_CS:
    case SG_OP_STR_STARTS_WITH_ANY: case SG_OP_STR_ENDS_WITH_ANY:
    case SG_OP_STR_CONTAINS_ANY: case SG_OP_STR_CONTAINS_NONE:
    case SG_OP_EQ: case SG_OP_NEQ:
        break;
    default:
        return -1;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = blob;
    memset(bits, 0, STATSIG_BUCKET_TABLE);

    for (b = 0; b < 1000; b++) {
        if (statsig_apply_op(&ctx, c, sg_tmp_number(&tmp, (double) b, c->op)))
        {
            bits[b >> 3] |= (uint8_t) (1u << (b & 7));
        }
    }

    return ctx.unsupported ? -1 : 0;
}


static SG_NOINLINE int
sg_cond_target_app(statsig_eval_ctx_t *ctx, const sg_cond_t *c, int depth)
{
    const statsig_snapshot_t  *s;
    const statsig_value_t     *v;
    statsig_str_t              app;
    sg_tmp_t                   tmp;

    s = ctx->snap;

    if (ctx->has_target_app) {
        v = (depth == 0 && ctx->target_app != NULL)
            ? sg_tmp_string(&tmp, ctx->target_app, ctx->target_app_len,
                            sg_op_needs(c->op))
            : &statsig_value_undefined;

    } else if (((const sg_header_t *) s)->has_app_id) {
        app = sg_str(s, ((const sg_header_t *) s)->app_id);
        v = sg_tmp_string(&tmp, app.data, app.len, sg_op_needs(c->op));

    } else {
        v = &statsig_null_value;
    }

    return statsig_apply_op(ctx, c, v);
}


int
statsig_eval_condition(statsig_eval_ctx_t *ctx, const sg_cond_t *c, int depth)
{
    const statsig_value_t  *v;

    switch (c->type) {

    case SG_COND_PUBLIC:
        return 1;

    case SG_COND_USER_FIELD:
        return statsig_apply_op(ctx, c, sg_cond_field(ctx, c));

    case SG_COND_UNIT_ID:
        v = statsig_unit_id(ctx, c->id_type_custom,
                            sg_str(ctx->snap, c->id_type));
        return statsig_apply_op(ctx, c, v);

    case SG_COND_PASS_GATE:
    case SG_COND_FAIL_GATE:
        return sg_eval_gate_condition(ctx, c, depth);

    case SG_COND_MULTI_PASS_GATE:
    case SG_COND_MULTI_FAIL_GATE:
        return sg_eval_multi_gate_condition(ctx, c, depth);

    case SG_COND_IP_BASED:
        return sg_cond_ip(ctx, c);

    case SG_COND_UA_BASED:
        return sg_cond_ua(ctx, c);

    case SG_COND_ENVIRONMENT_FIELD:
        return sg_cond_environment(ctx, c);

    case SG_COND_CURRENT_TIME:
        return sg_cond_time(ctx, c);

    case SG_COND_USER_BUCKET:
        return sg_cond_bucket(ctx, c);

    case SG_COND_TARGET_APP:
        return sg_cond_target_app(ctx, c, depth);

    default:
        ctx->unsupported = 1;
        return 0;
    }
}
