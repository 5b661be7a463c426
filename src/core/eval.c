/*
 * Evaluation of a compiled snapshot, following statsig-node's Evaluator:
 * rules in order, every condition of a rule evaluated, the first matching
 * rule final, secondary exposures cleaned after every rule, config
 * delegation before the layer rule's pass percentage.
 *
 * No heap allocation happens here: secondary exposures live on the
 * runtime's fixed stack, temporary values on the C stack.
 */

#include <string.h>

#include "eval_internal.h"
#include "hash.h"


const statsig_str_t  statsig_rule_none = { "", 0 };

const statsig_value_t  statsig_null_value = {
    STATSIG_V_NULL, 0, 0, 0, "null", 4, "null", 4, NULL, NULL, NULL, 0,
    /* statsig_str_hash("null"): constants are never written to */
    0x8be6648fe61aef05ULL, 0x8be6648fe61aef05ULL
};

static const statsig_str_t  sg_rule_default = { "default", 7 };
static const statsig_str_t  sg_rule_disabled = { "disabled", 8 };


/* ---- exposures ---- */

static int
sg_exposure_eq(const statsig_exposure_t *a, const statsig_exposure_t *b)
{
    return a->value == b->value
           && a->gate.len == b->gate.len && a->rule_id.len == b->rule_id.len
           && statsig_mem_eq(a->gate.data, b->gate.data, a->gate.len)
           && statsig_mem_eq(a->rule_id.data, b->rule_id.data,
                             a->rule_id.len);
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


/* ---- specs ---- */

static void
sg_result_init(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res)
{
    static const statsig_result_t  zero;

    /* a copy, not memset: its rep stos start-up cost showed in profiles */
    *res = zero;
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
    const statsig_spec_t *spec, uint32_t base)
{
    ctx->rt->exp_len = base;
    sg_result_init(ctx, NULL, res);
    res->spec = spec;
    res->reason = ctx->rt->overflow ? STATSIG_REASON_ERROR
                                    : STATSIG_REASON_UNSUPPORTED;
    res->rule_id = statsig_rule_none;
}


/*
 * A spec's complete result, every field written once: rule_id, the
 * rule's (NULL: none passed) value and group, the exposures from base to
 * the stack's top.
 */
static SG_ALWAYS_INLINE void
sg_result_end(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    const sg_rule_t *rule, int value, statsig_str_t rule_id, uint32_t base,
    statsig_result_t *res)
{
    const statsig_snapshot_t  *s;
    uint32_t                   len;

    s = ctx->snap;
    len = ctx->rt->exp_len - base;

    /* field by field: an initializer zeroes it first (rep stos) */
    res->spec = spec;
    res->delegate = NULL;
    res->reason = STATSIG_REASON_NETWORK;
    res->value = (unsigned) value;
    res->is_experiment_group = rule ? rule->is_experiment_group : 0;
    res->has_group_name = rule ? rule->has_group_name : 0;
    res->rule_id = rule_id;
    res->group_name.data = rule ? (const char *) s + rule->group_name.off
                                : NULL;
    res->group_name.len = rule ? rule->group_name.len : 0;
    res->id_type = sg_str(s, spec->id_type);
    res->json_value = value ? rule->return_value : spec->default_value;
    res->explicit_params = spec->explicit_params;
    res->has_explicit_params = spec->has_explicit_params;
    res->exposures_off = base;
    res->exposures_len = len;
    res->undelegated_off = base;
    res->undelegated_len = len;
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

    exp = SG_SPEC(ctx->snap, STATSIG_KIND_CONFIG, rule->delegate);
    undelegated_end = ctx->rt->exp_len;

    statsig_eval_nested(ctx, exp, res, depth + 1);

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

    statsig_move_exposures(ctx->rt, res, undelegated_end);

    /* secondary = clean(undelegated ++ delegate's), as a new copy */
    copy = ctx->rt->exp_len;
    if (copy + (copy - base) > STATSIG_MAX_EXPOSURES) {
        ctx->rt->overflow = 1;
        sg_result_unsupported(ctx, res, res->spec, base);
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


/* h % 10000 < passPercentage * 100, h the rule's bucketing hash */
static SG_NOINLINE int
sg_pass_hash(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    const sg_rule_t *rule)
{
    const statsig_value_t  *unit;
    statsig_str_t           rule_salt;
    uint64_t                h;

    unit = statsig_unit_id_of(ctx, rule->id_type_custom,
                              sg_str(ctx->snap, rule->id_type));

    /* "specSalt.ruleSalt.": the compiler's answer */
    if ((rule->empty_unit_pass & SG_EMPTY_UNIT_KNOWN)
        && (statsig_value_nullish(unit) || unit->len == 0))
    {
        return rule->empty_unit_pass & SG_EMPTY_UNIT_PASS;
    }

    /* `getUnitID(...) ?? ''` */
    rule_salt = sg_str(ctx->snap, rule->salt);
    h = statsig_runtime_hash_key(ctx->rt, sg_str(ctx->snap, spec->salt),
                                 &rule_salt,
                                 statsig_value_nullish(unit)
                                 ? statsig_rule_none
                                 : (statsig_str_t) { unit->str, unit->len });

    return (double) (h % 10000) < rule->pass_percentage * 100;
}


static inline int
sg_pass_percentage(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    const sg_rule_t *rule)
{
    if (rule->pass_percentage == 0) {
        return 0;
    }

    if (rule->pass_percentage == 100) {
        return 1;
    }

    return sg_pass_hash(ctx, spec, rule);
}


/*
 * A condition on the loop's own path (the compiler's fast, in its hot
 * entry h): a user field from its slot, or the userID; statsig_value_undefined
 * answered as the compiler found; a set probed here.  Anything else is
 * statsig_eval_condition's, on c, the full condition (read only then: its
 * two cache lines cost more than the answer, mostly).  slots and session
 * are the context's, read once a spec; fields (a constant where inlined)
 * says that the user is an object whose keys are in the slots
 * (statsig_session_new): a field that none of them spells is undefined.
 */
static SG_ALWAYS_INLINE int
sg_cond(statsig_eval_ctx_t *ctx, const sg_hot_t *h, const sg_hot_t *hot,
    const char *flow, const statsig_field_slot_t *slots,
    const uint64_t *seen, uint64_t session, int fields, int depth)
{
    /* h's condition: hot[i]'s is flow's i-th, made where a path reads it */
#define c                                                                        ((const sg_cond_t *) (flow + ((const char *) h - (const char *) hot)                                     * (sizeof(sg_cond_t) / sizeof(sg_hot_t))))

    const statsig_value_t       *v;
    const statsig_field_slot_t  *f;
    unsigned                     fl, fast, mask;

    /* the kinds by how often they come: most read a user field */
    fast = h->fast;

    if (fast == SG_FAST_FIELD || fast == SG_FAST_IP_FIELD) {
        /* absent first: most fields are */
        if (fields && seen[h->field_key] != session
            && ((h->flags & SG_CF_LOWER_SAME)
                || seen[h->field_lower_key] != session))
        {
            v = &statsig_value_undefined;

        } else {
            f = &slots[h->field_key];

            if (f->resolved_session == session) {
                v = f->resolved;

            } else if (seen[h->field_key] == session && f->cand[0] != NULL
                       && f->cand[0]->type > STATSIG_V_NULL)
            {
                v = f->cand[0]; /* user[field], the first getFromUser tries */

            } else {
                v = statsig_user_field_find(ctx, h->field_key,
                                            h->field_lower_key, c);
            }
        }

        /* getFromIP when the user has no such field */
        if (fast == SG_FAST_IP_FIELD && statsig_value_nullish(v)) {
            return statsig_eval_condition(ctx, c, depth);
        }

    } else if (fast == SG_FAST_PUBLIC) {
        return 1;

    } else if (fast == SG_FAST_USER_ID) {
        v = ctx->user_id ? ctx->user_id : &statsig_value_undefined;

    } else {
        return statsig_eval_condition(ctx, c, depth);
    }

    fl = h->flags;

    if (v == &statsig_value_undefined && (fl & SG_CF_ABSENT)) {
        return (fl & SG_CF_ABSENT_YES) != 0;
    }

    if (fl & SG_CF_SET) {
        mask = (1u << h->set_bits) - 1;

        /* String(value) first: a lazy value's lower case is made only
         * when the set has not that */
        if (statsig_set_probe(ctx->snap, h->set, mask, v->str, v->len,
                              statsig_value_hash(v, 0)))
        {
            return !(fl & SG_CF_NEG);
        }

        if (!(fl & SG_CF_CI)) {
            return (fl & SG_CF_NEG) != 0;
        }

        if (v->pending & STATSIG_PENDING_LOWER) {
            statsig_value_settle(v, STATSIG_PENDING_LOWER);
        }

        return ((v->lower != v->str || v->lower_len != v->len)
                && statsig_set_probe(ctx->snap, h->set, mask, v->lower,
                                     v->lower_len, statsig_value_hash(v, 1)))
               ^ ((fl & SG_CF_NEG) != 0);
    }

    return statsig_apply_op(ctx, c, v);
#undef c
}


static SG_NOINLINE int
sg_cond_call(statsig_eval_ctx_t *ctx, const sg_hot_t *h, const sg_cond_t *c,
    int depth)
{
    /* h its own base: c the flow's */
    return sg_cond(ctx, h, h, (const char *) c, ctx->rt->field_slots,
                   ctx->rt->field_seen, ctx->session,
                   statsig_value_is_object(ctx->user), depth);
}


/*
 * A rule with conditions that do more than answer (gates: exposures,
 * unsupported results): every one evaluated, but pure ones after one
 * failed, then the new exposures cleaned (the earlier rules' are clean
 * already: those from clean on are new).  1 passed, 0 failed, -1
 * unsupported.  h is the rule's first condition's hot entry.
 */
static SG_NOINLINE int
sg_rule_impure(statsig_eval_ctx_t *ctx, const sg_rule_t *rule,
    const sg_hot_t *h, uint32_t base, uint32_t clean, int depth)
{
    const sg_cond_t  *c, *end;
    int               pass;

    c = SG_AT(ctx->snap, rule->conds, sg_cond_t);
    end = c + rule->n_conds;
    pass = 1;
    ctx->unsupported = 0;

    for ( /* void */ ; c < end; c++, h++) {
        /* once one failed, only the impure ones still matter */
        if (!pass && sg_cond_is_pure(c)) {
            continue;
        }

        if (!(h->fast == SG_FAST_GENERAL
              ? statsig_eval_condition(ctx, c, depth)
              : sg_cond_call(ctx, h, c, depth)))
        {
            pass = 0;
        }

        if (ctx->unsupported) {
            return -1;
        }
    }

    if (ctx->rt->exp_len != clean) {
        sg_clean_exposures(ctx->rt, base, clean);
    }

    return pass;
}


#define SG_RULE_UNSUPPORTED  ((const sg_rule_t *) 1)

/*
 * The spec's flow (snapshot.h) up to the first rule that passes: that
 * rule, NULL when none did, SG_RULE_UNSUPPORTED.  A rule of pure
 * conditions only answers (no exposures, never unsupported: known types
 * and operators), so the first of its conditions that fails ends it.
 */
static SG_ALWAYS_INLINE const sg_rule_t *
sg_flow(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec, uint32_t base,
    int fields, int depth)
{
    const statsig_field_slot_t  *slots;
    const sg_rule_t             *rules, *rule;
    const sg_hot_t              *h, *hot;
    const uint64_t              *seen;
    const char                  *flow;
    uint64_t                     session;
    uint32_t                     clean;
    int                          pass;

    slots = ctx->rt->field_slots;
    seen = ctx->rt->field_seen;
    session = ctx->session;
    rules = SG_AT(ctx->snap, spec->rules, sg_rule_t);
    flow = SG_AT(ctx->snap, spec->flow, char);
    hot = SG_AT(ctx->snap, spec->hot, sg_hot_t);
    h = hot;
    clean = base;

    for ( ;; ) {
        if (h->fast < SG_FAST_IMPURE) {
            if (sg_cond(ctx, h, hot, flow, slots, seen, session, fields,
                        depth))
            {
                if (h->flags & SG_CF_LAST) {
                    return &rules[h->rule];
                }

                h++;
                continue;
            }

            /* to the next rule's first */
            while (!(h->flags & SG_CF_LAST)) {
                h++;
            }

            h++;
            continue;
        }

        if (h->fast == SG_FAST_END) {
            return NULL;
        }

        rule = &rules[h->rule];
        pass = sg_rule_impure(ctx, rule, h + 1, base, clean, depth);

        if (pass < 0) {
            return SG_RULE_UNSUPPORTED;
        }

        if (pass) {
            return rule;
        }

        clean = ctx->rt->exp_len;
        h += 1 + rule->n_conds;
    }
}


static SG_NOINLINE const sg_rule_t *
sg_flow_no_fields(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    uint32_t base, int depth)
{
    return sg_flow(ctx, spec, base, 0, depth);
}


void
statsig_eval_nested(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res, int depth)
{
    const sg_rule_t    *rule;
    statsig_runtime_t  *rt;
    uint32_t            base;

    rt = ctx->rt;
    base = rt->exp_len;

    if (depth > STATSIG_MAX_DEPTH || ++rt->evals > STATSIG_MAX_EVALS) {
        rt->overflow = 1;
        sg_result_unsupported(ctx, res, spec, base);
        return;
    }

    if (!spec->enabled) {
        sg_result_end(ctx, spec, NULL, 0, sg_rule_disabled, base, res);
        res->has_explicit_params = 0;
        return;
    }

    rule = statsig_value_is_object(ctx->user)
           ? sg_flow(ctx, spec, base, 1, depth)
           : sg_flow_no_fields(ctx, spec, base, depth);

    if (rule == NULL) {
        sg_result_end(ctx, spec, NULL, 0, sg_rule_default, base, res);
        return;
    }

    if (rule == SG_RULE_UNSUPPORTED) {
        sg_result_unsupported(ctx, res, spec, base);
        return;
    }

    if (rule->has_delegate && rule->delegate >= 0) {
        sg_eval_delegate(ctx, spec, rule, base, res, depth);
        return;
    }

    sg_result_end(ctx, spec, rule, sg_pass_percentage(ctx, spec, rule),
                  sg_str(ctx->snap, rule->id), base, res);
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
    statsig_eval_session(ctx);

    if (spec == NULL) {
        sg_result_init(ctx, NULL, res);
        res->reason = STATSIG_REASON_UNRECOGNIZED;
        res->rule_id = statsig_rule_none;
        return;
    }

    /*
     * A gate that another's condition reads (the compiler marks only
     * gates): its answer is the same at the top as nested (see
     * gate_memo.c), but for target_app conditions when the caller named an
     * app: those read the app at the top only.
     */
    if (!spec->gate_target || ctx->has_target_app) {
        statsig_eval_nested(ctx, spec, res, 0);
        return;
    }

    if (!statsig_memo_get(ctx, spec, res)) {
        statsig_eval_nested(ctx, spec, res, 0);
        statsig_memo_put(ctx, spec, res);
    }
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
