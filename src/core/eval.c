/*
 * Evaluation of a compiled snapshot, following statsig-node's Evaluator:
 * rules in order, every condition of a rule evaluated, the first matching
 * rule final, secondary exposures cleaned after every rule, config
 * delegation before the layer rule's pass percentage.
 *
 * No heap allocation happens here: secondary exposures live on the
 * runtime's fixed stack, temporary values on the C stack.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "idlist.h"
#include "jsdate.h"
#include "jsnum.h"
#include "jsstr.h"
#include "runtime.h"


typedef struct {
    statsig_value_t  v;
    char             buf[STATSIG_TMP_VALUE_SIZE];
    char             lower[statsig_js_lower_size(STATSIG_TMP_VALUE_SIZE)];
} sg_tmp_t;


static const statsig_str_t  sg_rule_default = { "default", 7 };
static const statsig_str_t  sg_rule_disabled = { "disabled", 8 };
static const statsig_str_t  sg_rule_none = { "", 0 };
static const statsig_str_t  sg_field_ip = { "ip", 2 };
static const statsig_str_t  sg_field_ua = { "userAgent", 9 };
static const statsig_str_t  sg_field_ua_lower = { "useragent", 9 };

static const statsig_value_t  sg_null_value = {
    STATSIG_V_NULL, 0, 0, "null", 4, "null", 4, NULL, NULL, NULL, 0, 0, 0
};


static void sg_eval(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res, int depth);


/*
 * Nested gate results, remembered for one session: one user, snapshot and
 * target app in one context.  Holdouts and targeting gates recur in every
 * experiment a user is checked against; a hit copies the gate's exposures
 * instead of evaluating it again.  Only complete (Network) results are
 * kept, so depth and budget limits behave as without the memo.
 */
#define SG_GATE_MEMO_SLOTS      256
#define SG_GATE_MEMO_EXPOSURES  4096

typedef struct {
    const statsig_spec_t  *spec;
    uint64_t               session;
    statsig_str_t          rule_id;
    uint32_t               exp_off;
    uint32_t               exp_len;
    unsigned               value:1;
} sg_gate_memo_entry_t;

struct statsig_gate_memo_s {
    sg_gate_memo_entry_t   slots[SG_GATE_MEMO_SLOTS];
    statsig_exposure_t     exp[SG_GATE_MEMO_EXPOSURES];
    uint32_t               exp_len;
    uint64_t               session;
};


struct statsig_gate_memo_s *
statsig_gate_memo_create(void)
{
    return calloc(1, sizeof(struct statsig_gate_memo_s));
}


static sg_gate_memo_entry_t *
sg_memo_slot(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec)
{
    uintptr_t  k;

    k = (uintptr_t) spec / sizeof(statsig_spec_t);

    return &ctx->rt->gate_memo->slots[k % SG_GATE_MEMO_SLOTS];
}


static int
sg_memo_get(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *r)
{
    struct statsig_gate_memo_s  *m;
    sg_gate_memo_entry_t        *e;
    statsig_runtime_t           *rt;

    rt = ctx->rt;
    m = rt->gate_memo;
    e = sg_memo_slot(ctx, spec);

    if (e->spec != spec || e->session != ctx->session
        || m->session != ctx->session)
    {
        return 0;
    }

    if (rt->exp_len + e->exp_len > STATSIG_MAX_EXPOSURES) {
        return 0;
    }

    memset(r, 0, sizeof(*r));
    r->spec = spec;
    r->reason = STATSIG_REASON_NETWORK;
    r->value = e->value;
    r->rule_id = e->rule_id;
    r->exposures_off = rt->exp_len;
    r->exposures_len = e->exp_len;

    memcpy(&rt->exp[rt->exp_len], &m->exp[e->exp_off],
           e->exp_len * sizeof(statsig_exposure_t));
    rt->exp_len += e->exp_len;

    return 1;
}


static void
sg_memo_put(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    const statsig_result_t *r)
{
    struct statsig_gate_memo_s  *m;
    sg_gate_memo_entry_t        *e;

    m = ctx->rt->gate_memo;

    if (r->reason != STATSIG_REASON_NETWORK || m->session != ctx->session
        || m->exp_len + r->exposures_len > SG_GATE_MEMO_EXPOSURES)
    {
        return;
    }

    e = sg_memo_slot(ctx, spec);
    e->spec = spec;
    e->session = ctx->session;
    e->value = r->value;
    e->rule_id = r->rule_id;
    e->exp_off = m->exp_len;
    e->exp_len = r->exposures_len;

    memcpy(&m->exp[m->exp_len], &ctx->rt->exp[r->exposures_off],
           r->exposures_len * sizeof(statsig_exposure_t));
    m->exp_len += r->exposures_len;
}


/* A new session when the caller changed the user, snapshot or app. */
static void
sg_session(statsig_eval_ctx_t *ctx)
{
    if (ctx->session != 0 && ctx->seen_user == ctx->user
        && ctx->seen_snap == ctx->snap
        && ctx->seen_has_target_app == ctx->has_target_app
        && ctx->seen_target_app == ctx->target_app
        && ctx->seen_environment == ctx->environment
        && ctx->rt->gate_memo->session == ctx->session)
    {
        return;
    }

    ctx->session = ++ctx->rt->next_session;
    ctx->rt->gate_memo->session = ctx->session;
    ctx->rt->gate_memo->exp_len = 0;

    ctx->seen_user = ctx->user;
    ctx->seen_snap = ctx->snap;
    ctx->seen_has_target_app = ctx->has_target_app;
    ctx->seen_target_app = ctx->target_app;
    ctx->seen_environment = ctx->environment;

    ctx->user_custom = statsig_value_get(ctx->user, "custom", 6);
    ctx->user_private = statsig_value_get(ctx->user, "privateAttributes", 17);
    ctx->user_custom_ids = statsig_value_get(ctx->user, "customIDs", 9);
    ctx->user_id = statsig_value_get(ctx->user, "userID", 6);
}


/* ---- temporary values ---- */

/* the conversions an operator reads from its left value */
#define SG_NEED_STR    1
#define SG_NEED_LOWER  2
#define SG_NEED_NUM    4

static unsigned
sg_op_needs(unsigned op)
{
    switch (op) {
    case SG_OP_GT: case SG_OP_GTE: case SG_OP_LT: case SG_OP_LTE:
        return SG_NEED_NUM;
    case SG_OP_VERSION_GT: case SG_OP_VERSION_GTE: case SG_OP_VERSION_LT:
    case SG_OP_VERSION_LTE: case SG_OP_VERSION_EQ: case SG_OP_VERSION_NEQ:
    case SG_OP_ANY_CS: case SG_OP_NONE_CS: case SG_OP_STR_MATCHES:
    case SG_OP_IN_SEGMENT_LIST: case SG_OP_NOT_IN_SEGMENT_LIST:
        return SG_NEED_STR;
    case SG_OP_EQ: case SG_OP_NEQ:
    case SG_OP_BEFORE: case SG_OP_AFTER: case SG_OP_ON:
        return SG_NEED_STR | SG_NEED_NUM;
    default:
        return SG_NEED_STR | SG_NEED_LOWER | SG_NEED_NUM;
    }
}


static const statsig_value_t *
sg_tmp_string(sg_tmp_t *t, const char *s, size_t len, unsigned needs)
{
    if (len >= sizeof(t->buf)) {
        len = sizeof(t->buf) - 1;
    }

    memcpy(t->buf, s, len);
    t->buf[len] = '\0';

    memset(&t->v, 0, sizeof(t->v));
    t->v.type = STATSIG_V_STRING;
    t->v.str = t->buf;
    t->v.len = len;
    t->v.lower = t->buf;
    t->v.lower_len = len;
    t->v.num = (needs & SG_NEED_NUM) ? statsig_js_to_number(t->buf, len)
                                     : NAN;

    if (needs & SG_NEED_LOWER) {
        t->v.lower = t->lower;
        t->v.lower_len = statsig_js_lower(t->buf, len, t->lower);
    }

    return &t->v;
}


static const statsig_value_t *
sg_tmp_number(sg_tmp_t *t, double num, unsigned needs)
{
    memset(&t->v, 0, sizeof(t->v));
    t->v.type = STATSIG_V_NUMBER;
    t->v.num = num;
    t->v.str = t->buf;
    t->v.lower = t->buf;

    /* digits, "e", "Infinity": lower case only for the last two */
    if (needs & (SG_NEED_STR | SG_NEED_LOWER)) {
        t->v.len = statsig_js_number_to_string(num, t->buf);
        t->v.lower = t->lower;
        t->v.lower_len = statsig_js_lower(t->buf, t->v.len, t->lower);

    } else {
        t->buf[0] = '\0';
    }

    return &t->v;
}


/* ---- user lookups (EvaluatorUtils) ---- */

/*
 * a ?? b ?? ... : the first non-nullish candidate, else the last one as it
 * is (null when it holds null, otherwise undefined).
 */
static const statsig_value_t *
sg_get_from_user(statsig_eval_ctx_t *ctx, const statsig_value_t *user,
    statsig_str_t field, statsig_str_t field_lower)
{
    const statsig_value_t  *v, *objs[3];
    int                     both, i;

    if (user == NULL || user->type != STATSIG_V_OBJECT) {
        return &sg_null_value;
    }

    /* a field already in lower case needs one lookup per object */
    both = (field.data != field_lower.data);

    v = NULL;
    objs[0] = user;
    objs[1] = ctx->user_custom;
    objs[2] = ctx->user_private;

    for (i = 0; i < 3; i++) {
        v = statsig_value_get(objs[i], field.data, field.len);
        if (!statsig_value_nullish(v)) {
            return v;
        }

        if (both) {
            v = statsig_value_get(objs[i], field_lower.data, field_lower.len);
            if (!statsig_value_nullish(v)) {
                return v;
            }
        }
    }

    return v ? v : &statsig_value_undefined;
}


static const statsig_value_t *
sg_get_unit_id(statsig_eval_ctx_t *ctx, int custom, statsig_str_t id_type)
{
    const statsig_value_t  *v;

    if (custom) {
        v = statsig_value_get(ctx->user_custom_ids, id_type.data,
                              id_type.len);
        if (v != NULL) {
            return v;
        }

        v = statsig_value_get_ci(ctx->user_custom_ids, id_type.data,
                                 id_type.len);
        return v ? v : &statsig_value_undefined;
    }

    return ctx->user_id ? ctx->user_id : &statsig_value_undefined;
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


/* SHA-256 bucket of "a.b.unit" (b may be absent: "a.unit"). */
static uint64_t
sg_hash_key(statsig_runtime_t *rt, statsig_str_t a, const statsig_str_t *b,
    const statsig_value_t *unit)
{
    statsig_str_t  parts[5];
    size_t         n;

    n = 0;
    parts[n++] = a;
    parts[n].data = ".";
    parts[n++].len = 1;

    if (b != NULL) {
        parts[n++] = *b;
        parts[n].data = ".";
        parts[n++].len = 1;
    }

    /* `getUnitID(...) ?? ''` */
    if (statsig_value_nullish(unit)) {
        parts[n].data = "";
        parts[n++].len = 0;

    } else {
        parts[n].data = unit->str;
        parts[n++].len = unit->len;
    }

    return statsig_runtime_hash(rt, parts, n);
}


/* ---- exposures ---- */

static int
sg_push_exposure(statsig_runtime_t *rt, statsig_str_t gate, int value,
    statsig_str_t rule_id)
{
    statsig_exposure_t  *e;

    if (rt->exp_len >= STATSIG_MAX_EXPOSURES) {
        rt->overflow = 1;
        return -1;
    }

    e = &rt->exp[rt->exp_len++];
    e->gate = gate;
    e->value = value ? 1 : 0;
    e->rule_id = rule_id;

    return 0;
}


static int
sg_exposure_eq(const statsig_exposure_t *a, const statsig_exposure_t *b)
{
    return a->value == b->value
           && a->gate.len == b->gate.len && a->rule_id.len == b->rule_id.len
           && memcmp(a->gate.data, b->gate.data, a->gate.len) == 0
           && memcmp(a->rule_id.data, b->rule_id.data, a->rule_id.len) == 0;
}


/*
 * _cleanExposures on exp[base, exp_len): drops "segment:" gates and
 * repeated (gate, value, rule) entries, keeping the first.  Entries below
 * `clean` are already clean.
 */
static void
sg_clean_exposures(statsig_runtime_t *rt, uint32_t base, uint32_t clean)
{
    uint32_t             i, j, w;
    statsig_exposure_t  *e;

    e = rt->exp;
    w = clean;

    for (i = clean; i < rt->exp_len; i++) {
        if (e[i].gate.len >= 8 && memcmp(e[i].gate.data, "segment:", 8) == 0)
        {
            continue;
        }

        for (j = base; j < w; j++) {
            if (sg_exposure_eq(&e[j], &e[i])) {
                break;
            }
        }

        if (j < w) {
            continue;
        }

        e[w++] = e[i];
    }

    rt->exp_len = w;
}


/* Moves a result's secondary exposures down to start at `to`. */
static void
sg_move_exposures(statsig_runtime_t *rt, statsig_result_t *r, uint32_t to)
{
    if (r->exposures_off != to) {
        memmove(&rt->exp[to], &rt->exp[r->exposures_off],
                r->exposures_len * sizeof(statsig_exposure_t));
        r->exposures_off = to;
    }

    rt->exp_len = to + r->exposures_len;
}


/* ---- operators ---- */

static int
sg_version_compare(const char *a, size_t alen, const char *b, size_t blen,
    int *cmp)
{
    const char  *dash;
    size_t       ai, bi, ae, be;
    double       na, nb;

    /* removeVersionExtension: cut at the first '-' */
    dash = memchr(a, '-', alen);
    if (dash) {
        alen = (size_t) (dash - a);
    }

    dash = memchr(b, '-', blen);
    if (dash) {
        blen = (size_t) (dash - b);
    }

    if (alen == 0 || blen == 0) {
        return -1;
    }

    ai = 0;
    bi = 0;

    /* component by component; a missing one counts as "0" */
    while (ai <= alen || bi <= blen) {
        if (ai <= alen) {
            ae = ai;
            while (ae < alen && a[ae] != '.') {
                ae++;
            }

            na = statsig_js_to_number(a + ai, ae - ai);
            ai = ae + 1;

        } else {
            na = 0;
        }

        if (bi <= blen) {
            be = bi;
            while (be < blen && b[be] != '.') {
                be++;
            }

            nb = statsig_js_to_number(b + bi, be - bi);
            bi = be + 1;

        } else {
            nb = 0;
        }

        if (isnan(na) || isnan(nb)) {
            return -1;
        }

        if (na < nb) {
            *cmp = -1;
            return 0;
        }

        if (na > nb) {
            *cmp = 1;
            return 0;
        }
    }

    *cmp = 0;

    return 0;
}


static int
sg_set_has(const statsig_snapshot_t *s, const sg_tval_t *t, const char *str,
    size_t len, uint64_t h)
{
    const sg_setent_t  *e;
    uint32_t            h32, mask, slot;

    e = SG_AT(s, t->set, sg_setent_t);
    if (h == 0) {
        h = statsig_str_hash(str, len);
    }

    h32 = (uint32_t) h;
    mask = t->set_n - 1;

    for (slot = h32 & mask; e[slot].str.off != 0; slot = (slot + 1) & mask) {
        if (e[slot].hash == h32 && e[slot].str.len == len
            && memcmp((const char *) s + e[slot].str.off, str, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


enum {
    SG_STR_EQ = 0,
    SG_STR_STARTS,
    SG_STR_ENDS,
    SG_STR_CONTAINS
};


/* arrayAny(value, target, stringCompare(ci, fn)) */
static int
sg_array_any_str(const statsig_snapshot_t *s, const statsig_value_t *v,
    const sg_tval_t *t, int ci, int how)
{
    const sg_titem_t  *items;
    const char        *a, *b;
    size_t             alen, blen;
    uint32_t           i;

    if (t->type != STATSIG_V_ARRAY || statsig_value_nullish(v)) {
        return 0;
    }

    a = ci ? v->lower : v->str;
    alen = ci ? v->lower_len : v->len;
    items = SG_AT(s, t->items, sg_titem_t);

    for (i = 0; i < t->n; i++) {
        if (items[i].type <= STATSIG_V_NULL) {
            continue;
        }

        b = (const char *) s + (ci ? items[i].lower.off : items[i].str.off);
        blen = ci ? items[i].lower.len : items[i].str.len;

        switch (how) {
        case SG_STR_EQ:
            if (alen == blen && memcmp(a, b, alen) == 0) {
                return 1;
            }
            break;

        case SG_STR_STARTS:
            if (alen >= blen && memcmp(a, b, blen) == 0) {
                return 1;
            }
            break;

        case SG_STR_ENDS:
            if (alen >= blen && memcmp(a + alen - blen, b, blen) == 0) {
                return 1;
            }
            break;

        default:
            if (statsig_str_contains(a, alen, b, blen)) {
                return 1;
            }
        }
    }

    return 0;
}


static int
sg_any(const statsig_snapshot_t *s, const sg_cond_t *c,
    const statsig_value_t *v, int ci)
{
    if (c->op_set) {
        /* targetValueSet.has(String(value)) [|| has(lower)] */
        if (sg_set_has(s, &c->target, v->str, v->len, v->hash)) {
            return 1;
        }

        return ci && sg_set_has(s, &c->target, v->lower, v->lower_len,
                                v->lower_hash);
    }

    return sg_array_any_str(s, v, &c->target, ci, SG_STR_EQ);
}


/* SameValueZero(value element, target element), or parseInt match. */
static int
sg_array_has_value(const statsig_snapshot_t *s, const statsig_value_t *v,
    const sg_tval_t *t, int all)
{
    const sg_titem_t       *items, *e;
    const statsig_value_t  *x;
    uint32_t                i;
    size_t                  j;
    double                  pi;
    int                     found;

    items = SG_AT(s, t->items, sg_titem_t);

    for (i = 0; i < t->n; i++) {
        e = &items[i];
        pi = statsig_js_parse_int((const char *) s + e->str.off, e->str.len);
        found = 0;

        for (j = 0; j < v->n && !found; j++) {
            x = &v->items[j];

            if (x->type == STATSIG_V_NUMBER && !isnan(pi) && x->num == pi) {
                found = 1;
                break;
            }

            if (x->type != e->type) {
                continue;
            }

            switch (x->type) {
            case STATSIG_V_STRING:
                found = (x->len == e->str.len
                         && memcmp(x->str, (const char *) s + e->str.off,
                                   x->len) == 0);
                break;
            case STATSIG_V_NUMBER:
                found = (x->num == e->num);
                break;
            case STATSIG_V_BOOL:
                found = (x->b == e->b);
                break;
            case STATSIG_V_NULL:
                found = 1;
                break;
            default:
                break;
            }
        }

        if (all && !found) {
            return 0;
        }

        if (!all && found) {
            return 1;
        }
    }

    return all;
}


/*
 * JavaScript's `value == target` (Abstract Equality), for a value that is
 * never the same object as the target.
 */
static int
sg_loose_eq(const statsig_snapshot_t *s, const statsig_value_t *v,
    const sg_tval_t *t)
{
    int  vt, tt;

    vt = v->type;
    tt = t->type;

    if (vt <= STATSIG_V_NULL || tt <= STATSIG_V_NULL) {
        return vt <= STATSIG_V_NULL && tt <= STATSIG_V_NULL;
    }

    if (vt == tt) {
        switch (vt) {
        case STATSIG_V_STRING:
            return v->len == t->str.len
                   && memcmp(v->str, (const char *) s + t->str.off,
                             v->len) == 0;
        case STATSIG_V_NUMBER:
            return v->num == t->num;
        case STATSIG_V_BOOL:
            return v->b == t->b;
        default:
            return 0;       /* distinct objects */
        }
    }

    /* booleans compare as numbers */
    if (vt == STATSIG_V_BOOL || tt == STATSIG_V_BOOL) {
        if ((vt == STATSIG_V_OBJECT || vt == STATSIG_V_ARRAY)
            && tt == STATSIG_V_BOOL)
        {
            /* ToPrimitive(object) is its string; then string vs number */
            return v->num == t->num;
        }

        if ((tt == STATSIG_V_OBJECT || tt == STATSIG_V_ARRAY)
            && vt == STATSIG_V_BOOL)
        {
            return v->num == t->num;
        }

        return v->num == t->num;
    }

    /* number vs string, or object vs primitive */
    if (vt == STATSIG_V_NUMBER || tt == STATSIG_V_NUMBER) {
        return v->num == t->num;
    }

    /* string vs object / array: compare String(object) */
    if ((vt == STATSIG_V_STRING && tt >= STATSIG_V_ARRAY)
        || (tt == STATSIG_V_STRING && vt >= STATSIG_V_ARRAY))
    {
        return v->len == t->str.len
               && memcmp(v->str, (const char *) s + t->str.off, v->len) == 0;
    }

    return 0;
}


/* dateCompare's Date for a value: strings by Date.parse, else seconds/ms */
static double
sg_value_date(const statsig_value_t *v)
{
    double  d;

    if (v->type == STATSIG_V_STRING) {
        d = statsig_js_date_parse(v->str, v->len);
        if (!isnan(d)) {
            return d;
        }
    }

    d = v->num;
    if (isnan(d)) {
        return NAN;
    }

    if (d < 10000000000.0) {
        d *= 1000;
    }

    return statsig_js_time_clip(d);
}


static int
sg_apply_op(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v, int *unsupported)
{
    const statsig_snapshot_t  *s;
    const sg_tval_t           *t;
    double                     a, b;
    int                        cmp;
    char                       id[8];
    statsig_str_t              pattern;

    s = ctx->snap;
    t = &c->target;

    switch (c->op) {

    case SG_OP_GT:
    case SG_OP_GTE:
    case SG_OP_LT:
    case SG_OP_LTE:
        if (statsig_value_nullish(v) || t->type <= STATSIG_V_NULL
            || isnan(v->num) || isnan(t->num))
        {
            return 0;
        }

        a = v->num;
        b = t->num;

        return c->op == SG_OP_GT ? a > b
               : c->op == SG_OP_GTE ? a >= b
               : c->op == SG_OP_LT ? a < b
               : a <= b;

    case SG_OP_VERSION_GT:
    case SG_OP_VERSION_GTE:
    case SG_OP_VERSION_LT:
    case SG_OP_VERSION_LTE:
    case SG_OP_VERSION_EQ:
    case SG_OP_VERSION_NEQ:
        if (v->type != STATSIG_V_STRING || t->type != STATSIG_V_STRING
            || sg_version_compare(v->str, v->len,
                                  (const char *) s + t->str.off, t->str.len,
                                  &cmp) != 0)
        {
            return 0;
        }

        return c->op == SG_OP_VERSION_GT ? cmp > 0
               : c->op == SG_OP_VERSION_GTE ? cmp >= 0
               : c->op == SG_OP_VERSION_LT ? cmp < 0
               : c->op == SG_OP_VERSION_LTE ? cmp <= 0
               : c->op == SG_OP_VERSION_EQ ? cmp == 0
               : cmp != 0;

    case SG_OP_ANY:
        return sg_any(s, c, v, 1);

    case SG_OP_NONE:
        return !sg_any(s, c, v, 1);

    case SG_OP_ANY_CS:
        return sg_any(s, c, v, 0);

    case SG_OP_NONE_CS:
        return !sg_any(s, c, v, 0);

    case SG_OP_STR_STARTS_WITH_ANY:
        return sg_array_any_str(s, v, t, 1, SG_STR_STARTS);

    case SG_OP_STR_ENDS_WITH_ANY:
        return sg_array_any_str(s, v, t, 1, SG_STR_ENDS);

    case SG_OP_STR_CONTAINS_ANY:
        return sg_array_any_str(s, v, t, 1, SG_STR_CONTAINS);

    case SG_OP_STR_CONTAINS_NONE:
        return !sg_array_any_str(s, v, t, 1, SG_STR_CONTAINS);

    case SG_OP_STR_MATCHES:
        /* new RegExp(target).test(String(value)), values under 1000 */
        if (statsig_js_length(v->str, v->len) >= 1000) {
            return 0;
        }

        if (t->type == STATSIG_V_UNDEFINED) {
            pattern.data = "";
            pattern.len = 0;

        } else {
            pattern = sg_str(s, t->str);
        }

        return statsig_runtime_regex_test(ctx->rt, pattern, v->str, v->len);

    case SG_OP_EQ:
        return sg_loose_eq(s, v, t);

    case SG_OP_NEQ:
        return !sg_loose_eq(s, v, t);

    case SG_OP_BEFORE:
    case SG_OP_AFTER:
    case SG_OP_ON:
        if (statsig_value_nullish(v) || t->type <= STATSIG_V_NULL) {
            return 0;
        }

        a = sg_value_date(v);
        b = t->date;
        if (isnan(a) || isnan(b)) {
            return 0;
        }

        if (c->op == SG_OP_BEFORE) {
            return a < b;
        }

        if (c->op == SG_OP_AFTER) {
            return a > b;
        }

        return floor(a / 86400000.0) == floor(b / 86400000.0);

    case SG_OP_IN_SEGMENT_LIST:
    case SG_OP_NOT_IN_SEGMENT_LIST:
        cmp = 0;
        if (v->type == STATSIG_V_STRING) {
            statsig_idlist_hash(v->str, v->len, id);
            cmp = statsig_idlists_contains(ctx->idlists,
                                           (const char *) s + t->str.off,
                                           t->str.len, id);
        }

        return c->op == SG_OP_IN_SEGMENT_LIST ? cmp : !cmp;

    case SG_OP_ARRAY_CONTAINS_ANY:
    case SG_OP_ARRAY_CONTAINS_NONE:
    case SG_OP_ARRAY_CONTAINS_ALL:
    case SG_OP_NOT_ARRAY_CONTAINS_ALL:
        if (t->type != STATSIG_V_ARRAY || v->type != STATSIG_V_ARRAY) {
            return 0;
        }

        switch (c->op) {
        case SG_OP_ARRAY_CONTAINS_ANY:
            return sg_array_has_value(s, v, t, 0);
        case SG_OP_ARRAY_CONTAINS_NONE:
            return !sg_array_has_value(s, v, t, 0);
        case SG_OP_ARRAY_CONTAINS_ALL:
            return sg_array_has_value(s, v, t, 1);
        default:
            return !sg_array_has_value(s, v, t, 1);
        }

    default:
        *unsupported = 1;
        return 0;
    }
}


/* ---- conditions ---- */

/* pass_gate / fail_gate: the nested gate's exposures, then its own. */
static int
sg_eval_gate_condition(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    int depth, int *unsupported)
{
    statsig_result_t        r;
    const statsig_spec_t   *gate;
    uint32_t                base;

    base = ctx->rt->exp_len;

    if (c->gate < 0) {
        /* unrecognized gate: no exposures of its own */
        if (sg_push_exposure(ctx->rt, sg_str(ctx->snap, c->gate_name), 0,
                             sg_rule_none) != 0)
        {
            *unsupported = 1;
            return 0;
        }

        return c->type == SG_COND_FAIL_GATE;
    }

    gate = statsig_spec_at(ctx->snap, STATSIG_KIND_GATE, (uint32_t) c->gate);

    if (!sg_memo_get(ctx, gate, &r)) {
        sg_eval(ctx, gate, &r, depth + 1);
        sg_memo_put(ctx, gate, &r);
    }

    if (r.reason == STATSIG_REASON_UNSUPPORTED
        || r.reason == STATSIG_REASON_ERROR)
    {
        *unsupported = 1;
        ctx->rt->exp_len = base;
        return 0;
    }

    sg_move_exposures(ctx->rt, &r, base);

    if (sg_push_exposure(ctx->rt, sg_str(ctx->snap, c->gate_name), r.value,
                         r.rule_id) != 0)
    {
        *unsupported = 1;
        return 0;
    }

    return c->type == SG_COND_FAIL_GATE ? !r.value : r.value;
}


/* multi_pass_gate / multi_fail_gate (legacy): entry first, then exposures */
static int
sg_eval_multi_gate_condition(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    int depth, int *unsupported)
{
    const sg_gateref_t  *g;
    statsig_result_t     r;
    uint32_t             i, at;
    int                  value;

    if (c->target.type != STATSIG_V_ARRAY) {
        *unsupported = 1;
        return 0;
    }

    g = SG_AT(ctx->snap, c->multi, sg_gateref_t);

    for (i = 0; i < c->multi_n; i++) {
        at = ctx->rt->exp_len;

        if (g[i].gate < 0) {
            r.value = 0;
            r.rule_id = sg_rule_none;
            r.exposures_off = at;
            r.exposures_len = 0;

        } else {
            sg_eval(ctx, statsig_spec_at(ctx->snap, STATSIG_KIND_GATE,
                                         (uint32_t) g[i].gate), &r,
                    depth + 1);

            if (r.reason == STATSIG_REASON_UNSUPPORTED
                || r.reason == STATSIG_REASON_ERROR)
            {
                *unsupported = 1;
                ctx->rt->exp_len = at;
                return 0;
            }
        }

        /* make room for the gate's own entry in front of its exposures */
        if (ctx->rt->exp_len + 1 > STATSIG_MAX_EXPOSURES) {
            ctx->rt->overflow = 1;
            *unsupported = 1;
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


static int
sg_eval_condition(statsig_eval_ctx_t *ctx, const sg_cond_t *c, int depth,
    int *unsupported)
{
    const statsig_snapshot_t  *s;
    const statsig_value_t     *v, *ip, *ua;
    statsig_value_t            env[2];
    statsig_str_t              field, field_lower, uaf;
    sg_tmp_t                   tmp;
    char                       country[3];

    s = ctx->snap;
    field = sg_str(s, c->field);
    field_lower = sg_str(s, c->field_lower);

    switch (c->type) {

    case SG_COND_PUBLIC:
        return 1;

    case SG_COND_PASS_GATE:
    case SG_COND_FAIL_GATE:
        return sg_eval_gate_condition(ctx, c, depth, unsupported);

    case SG_COND_MULTI_PASS_GATE:
    case SG_COND_MULTI_FAIL_GATE:
        return sg_eval_multi_gate_condition(ctx, c, depth, unsupported);

    case SG_COND_USER_FIELD:
        v = c->has_field ? sg_get_from_user(ctx, ctx->user, field, field_lower)
                         : &sg_null_value;
        break;

    case SG_COND_IP_BASED:
        v = c->has_field ? sg_get_from_user(ctx, ctx->user, field, field_lower)
                         : &sg_null_value;
        if (!statsig_value_nullish(v)) {
            break;
        }

        /* getFromIP: only for "country", from the user's ip */
        v = &sg_null_value;
        if (!c->has_field || field.len != 7
            || memcmp(field.data, "country", 7) != 0)
        {
            break;
        }

        ip = sg_get_from_user(ctx, ctx->user, sg_field_ip, sg_field_ip);
        if (statsig_runtime_country(ctx->rt, ip, country)) {
            v = sg_tmp_string(&tmp, country, 2, sg_op_needs(c->op));
        }

        break;

    case SG_COND_UA_BASED:
        v = c->has_field ? sg_get_from_user(ctx, ctx->user, field, field_lower)
                         : &sg_null_value;
        if (!statsig_value_nullish(v)) {
            break;
        }

        /* getFromUserAgent: strings of at most 1000 UTF-16 units */
        v = &sg_null_value;
        if (!c->has_field) {
            break;
        }

        ua = sg_get_from_user(ctx, ctx->user, sg_field_ua, sg_field_ua_lower);
        if (ua->type != STATSIG_V_STRING
            || statsig_js_length(ua->str, ua->len) > 1000)
        {
            break;
        }

        if (statsig_runtime_ua_field(ctx->rt, ua->str, ua->len, field_lower,
                                     &uaf))
        {
            v = sg_tmp_string(&tmp, uaf.data, uaf.len, sg_op_needs(c->op));
        }

        break;

    case SG_COND_ENVIRONMENT_FIELD:
        if (!c->has_field) {
            v = &sg_null_value;
            break;
        }

        v = statsig_value_get_ci(sg_environment(ctx, env), field.data,
                                 field.len);
        if (v == NULL) {
            v = &statsig_value_undefined;
        }

        break;

    case SG_COND_CURRENT_TIME:
        v = sg_tmp_number(&tmp, statsig_runtime_now(ctx->rt),
                          sg_op_needs(c->op));
        break;

    case SG_COND_USER_BUCKET:
        /* `salt + '.' + (getUnitID(...) ?? '')` */
        v = sg_get_unit_id(ctx, c->id_type_custom, sg_str(s, c->id_type));
        uaf.data = statsig_value_nullish(v) ? "" : v->str;
        uaf.len = statsig_value_nullish(v) ? 0 : v->len;
        v = sg_tmp_number(&tmp, (double) statsig_runtime_bucket(ctx->rt,
                                               sg_str(s, c->salt), uaf),
                          sg_op_needs(c->op));
        break;

    case SG_COND_UNIT_ID:
        v = sg_get_unit_id(ctx, c->id_type_custom,
                           sg_str(s, c->id_type));
        break;

    case SG_COND_TARGET_APP:
        if (ctx->has_target_app) {
            v = (depth == 0 && ctx->target_app != NULL)
                ? sg_tmp_string(&tmp, ctx->target_app, ctx->target_app_len,
                                sg_op_needs(c->op))
                : &statsig_value_undefined;

        } else if (((const sg_header_t *) s)->has_app_id) {
            uaf = sg_str(s, ((const sg_header_t *) s)->app_id);
            v = sg_tmp_string(&tmp, uaf.data, uaf.len, sg_op_needs(c->op));

        } else {
            v = &sg_null_value;
        }

        break;

    default:
        *unsupported = 1;
        return 0;
    }

    return sg_apply_op(ctx, c, v, unsupported);
}


/* ---- specs ---- */

static void
sg_result_init(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res)
{
    memset(res, 0, sizeof(*res));
    res->spec = spec;
    res->reason = STATSIG_REASON_NETWORK;
    res->exposures_off = ctx->rt->exp_len;
    res->undelegated_off = ctx->rt->exp_len;

    if (spec != NULL) {
        res->id_type = sg_str(ctx->snap, spec->id_type);
        res->json_value = spec->default_value;
        res->explicit_params = spec->explicit_params;
        res->has_explicit_params = spec->has_explicit_params;
    }
}


static void
sg_result_unsupported(statsig_eval_ctx_t *ctx, statsig_result_t *res,
    uint32_t base)
{
    const statsig_spec_t  *spec;

    spec = res->spec;
    ctx->rt->exp_len = base;
    sg_result_init(ctx, NULL, res);
    res->spec = spec;
    res->reason = ctx->rt->overflow ? STATSIG_REASON_ERROR
                                    : STATSIG_REASON_UNSUPPORTED;
    res->rule_id = sg_rule_none;
}


static void
sg_set_exposures(statsig_result_t *res, uint32_t base, uint32_t top)
{
    res->exposures_off = base;
    res->exposures_len = top - base;
    res->undelegated_off = base;
    res->undelegated_len = top - base;
}


/* _evalDelegate: the experiment's result, with the layer's exposures. */
static void
sg_eval_delegate(statsig_eval_ctx_t *ctx, const statsig_spec_t *layer,
    const sg_rule_t *rule, uint32_t base, statsig_result_t *res, int depth)
{
    const statsig_spec_t  *exp;
    uint32_t               undelegated_end, copy;

    exp = statsig_spec_at(ctx->snap, STATSIG_KIND_CONFIG,
                          (uint32_t) rule->delegate);
    undelegated_end = ctx->rt->exp_len;

    sg_eval(ctx, exp, res, depth + 1);

    if (res->reason == STATSIG_REASON_UNSUPPORTED
        || res->reason == STATSIG_REASON_ERROR)
    {
        /* getConfig's unsupported result, with the layer's exposures */
        ctx->rt->exp_len = undelegated_end;
        sg_set_exposures(res, base, undelegated_end);
        res->delegate = exp;
        res->explicit_params = exp->explicit_params;
        res->has_explicit_params = exp->has_explicit_params;
        return;
    }

    sg_move_exposures(ctx->rt, res, undelegated_end);

    /* secondary = clean(undelegated ++ delegate's), as a new copy */
    copy = ctx->rt->exp_len;
    if (copy + (copy - base) > STATSIG_MAX_EXPOSURES) {
        ctx->rt->overflow = 1;
        sg_result_unsupported(ctx, res, base);
        return;
    }

    memcpy(&ctx->rt->exp[copy], &ctx->rt->exp[base],
           (copy - base) * sizeof(statsig_exposure_t));
    ctx->rt->exp_len = copy + (copy - base);
    sg_clean_exposures(ctx->rt, copy, copy);

    res->exposures_off = copy;
    res->exposures_len = ctx->rt->exp_len - copy;
    res->undelegated_off = base;
    res->undelegated_len = undelegated_end - base;
    res->delegate = exp;
    res->explicit_params = exp->explicit_params;
    res->has_explicit_params = exp->has_explicit_params;

    (void) layer;
}


static int
sg_pass_percentage(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    const sg_rule_t *rule)
{
    statsig_str_t  rule_salt;
    uint64_t       h;

    if (rule->pass_percentage == 0) {
        return 0;
    }

    if (rule->pass_percentage == 100) {
        return 1;
    }

    rule_salt = sg_str(ctx->snap, rule->salt);
    h = sg_hash_key(ctx->rt, sg_str(ctx->snap, spec->salt), &rule_salt,
                    sg_get_unit_id(ctx, rule->id_type_custom,
                                   sg_str(ctx->snap, rule->id_type)));

    return (double) (h % 10000) < rule->pass_percentage * 100;
}


static void
sg_eval(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res, int depth)
{
    const statsig_snapshot_t  *s;
    const sg_rule_t           *rules, *rule;
    const sg_cond_t           *conds;
    uint32_t                   base, i, k;
    int                        pass, unsupported;

    s = ctx->snap;
    base = ctx->rt->exp_len;
    sg_result_init(ctx, spec, res);

    if (depth > STATSIG_MAX_DEPTH || ++ctx->rt->evals > STATSIG_MAX_EVALS) {
        ctx->rt->overflow = 1;
        sg_result_unsupported(ctx, res, base);
        return;
    }

    if (!spec->enabled) {
        res->rule_id = sg_rule_disabled;
        res->has_explicit_params = 0;
        return;
    }

    rules = SG_AT(s, spec->rules, sg_rule_t);

    for (i = 0; i < spec->n_rules; i++) {
        rule = &rules[i];
        conds = SG_AT(s, rule->conds, sg_cond_t);
        pass = 1;
        unsupported = 0;

        for (k = 0; k < rule->n_conds; k++) {
            if (!sg_eval_condition(ctx, &conds[k], depth, &unsupported)) {
                pass = 0;
            }

            if (unsupported) {
                sg_result_unsupported(ctx, res, base);
                return;
            }
        }

        sg_clean_exposures(ctx->rt, base, base);

        if (!pass) {
            continue;
        }

        if (rule->has_delegate && rule->delegate >= 0) {
            sg_eval_delegate(ctx, spec, rule, base, res, depth);
            return;
        }

        res->value = sg_pass_percentage(ctx, spec, rule);
        res->rule_id = sg_str(s, rule->id);
        res->has_group_name = rule->has_group_name;
        res->group_name = sg_str(s, rule->group_name);
        res->is_experiment_group = rule->is_experiment_group;
        res->json_value = res->value ? rule->return_value
                                     : spec->default_value;
        sg_set_exposures(res, base, ctx->rt->exp_len);
        return;
    }

    res->rule_id = sg_rule_default;
    sg_set_exposures(res, base, ctx->rt->exp_len);
}


/* ---- the public entry points ---- */

void
statsig_eval_begin(statsig_eval_ctx_t *ctx)
{
    ctx->rt->exp_len = 0;
    ctx->rt->overflow = 0;
}


void
statsig_eval_spec(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res)
{
    ctx->rt->overflow = 0;
    ctx->rt->evals = 0;
    sg_session(ctx);

    if (spec == NULL) {
        sg_result_init(ctx, NULL, res);
        res->reason = STATSIG_REASON_UNRECOGNIZED;
        res->rule_id = sg_rule_none;
        return;
    }

    sg_eval(ctx, spec, res, 0);
}


void
statsig_eval_gate(statsig_eval_ctx_t *ctx, const char *name, size_t len,
    statsig_result_t *res)
{
    statsig_eval_spec(ctx, statsig_spec_find(ctx->snap, STATSIG_KIND_GATE,
                                             name, len), res);
}


void
statsig_eval_config(statsig_eval_ctx_t *ctx, const char *name, size_t len,
    statsig_result_t *res)
{
    statsig_eval_spec(ctx, statsig_spec_find(ctx->snap, STATSIG_KIND_CONFIG,
                                             name, len), res);
}


void
statsig_eval_layer(statsig_eval_ctx_t *ctx, const char *name, size_t len,
    statsig_result_t *res)
{
    statsig_eval_spec(ctx, statsig_spec_find(ctx->snap, STATSIG_KIND_LAYER,
                                             name, len), res);
}


const statsig_exposure_t *
statsig_result_exposures(statsig_eval_ctx_t *ctx, uint32_t off)
{
    return &ctx->rt->exp[off];
}
