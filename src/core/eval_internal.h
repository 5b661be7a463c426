/*
 * Evaluation internals shared by eval.c (rule loop), condition.c,
 * operators.c and gate_memo.c.  Not part of the core's API.
 */

#ifndef STATSIG_EVAL_INTERNAL_H
#define STATSIG_EVAL_INTERNAL_H

#include <string.h>

#include "hash.h"
#include "runtime.h"
#include "snapshot.h"
#include "statsig.h"


extern const statsig_str_t    statsig_rule_none;
extern const statsig_value_t  statsig_null_value;


/* eval.c: a spec's rule loop, recursively for nested gates/delegates */
void statsig_eval_nested(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res, int depth);

/* the runtime's exposure stack: an entry on top (-1: full) */
static inline int
statsig_push_exposure(statsig_runtime_t *rt, statsig_str_t gate, int value,
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


/* Moves a result's secondary exposures down to start at `to`. */
static inline void
statsig_move_exposures(statsig_runtime_t *rt, statsig_result_t *r,
    uint32_t to)
{
    if (r->exposures_off != to) {
        memmove(&rt->exp[to], &rt->exp[r->exposures_off],
                r->exposures_len * sizeof(statsig_exposure_t));
        r->exposures_off = to;
    }

    rt->exp_len = to + r->exposures_len;
}

/* condition.c: one condition; ctx->unsupported set for unknown types/ops */
int statsig_eval_condition(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    int depth);

/* condition.c: getUnitID */
const statsig_value_t *statsig_unit_id(statsig_eval_ctx_t *ctx, int custom,
    statsig_str_t id_type);

/* getUnitID, the userID inline */
#define statsig_unit_id_of(ctx, custom, id_type)                             \
    ((custom) ? statsig_unit_id(ctx, custom, id_type)                        \
     : (ctx)->user_id ? (ctx)->user_id : &statsig_value_undefined)

/*
 * The conversions an operator reads from its left value, besides its type
 * and String(): temporary values make only these, and a lazy user string
 * (statsig_value_string_lazy) is settled with them.
 */
#define SG_NEED_STR    1
#define SG_NEED_LOWER  STATSIG_PENDING_LOWER
#define SG_NEED_NUM    STATSIG_PENDING_NUM

static inline unsigned
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
        /* any/none, the str_ family (ignoring case), the array ones
         * (the value's items) and unknown ones: no Number() */
        return SG_NEED_STR | SG_NEED_LOWER;
    }
}

/* a path kept out of its caller, whose frame then stays small: the
 * dispatches of conditions and operators run ~35 times a request */
#if defined(__GNUC__)
#define SG_NOINLINE       __attribute__((noinline))
#define SG_ALWAYS_INLINE  inline __attribute__((always_inline))
#else
#define SG_NOINLINE
#define SG_ALWAYS_INLINE  inline
#endif

#define statsig_value_is_object(v)                                           \
    ((v) != NULL && (v)->type == STATSIG_V_OBJECT)

/* operators.c: the condition's operator on the left value */
int statsig_apply_op(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v);

/*
 * operators.c, for the compiler: c's operator on statsig_value_undefined
 * (0 or 1), -1 when that needs the runtime; blob is the
 * snapshot being written, c's target already in it
 */
int statsig_op_absent(const void *blob, const sg_cond_t *c);

/*
 * condition.c, for the compiler: a user_bucket condition's answer for
 * each bucket (0-999), a bit each in bits[STATSIG_BUCKET_TABLE], as
 * statsig_apply_op gives it; -1 when an answer needs the runtime
 */
#define STATSIG_BUCKET_TABLE  125

int statsig_bucket_table(const void *blob, const sg_cond_t *c,
    uint8_t *bits);

/*
 * operators.c, for the compiler: Number() of each component of a version
 * target (cut at its first '-', split at '.'), at most max of them; 0
 * when it has none or more (the runtime reads the string then)
 */
size_t statsig_version_parse(const char *b, size_t blen, double *out,
    size_t max);

/* operators.c: a value's string hash the first time (kept in the value) */
uint64_t statsig_value_hash_make(const statsig_value_t *v, int lower);

static inline uint64_t
statsig_value_hash(const statsig_value_t *v, int lower)
{
    uint64_t  h;

    h = lower ? v->lower_hash : v->hash;

    return h != 0 ? h : statsig_value_hash_make(v, lower);
}


/* statsig-node's targetValueSet.has(str): the set table at set, its
 * size mask + 1 */
static SG_ALWAYS_INLINE int
statsig_set_probe(const statsig_snapshot_t *s, uint32_t set, uint32_t mask,
    const char *str, size_t len, uint64_t h)
{
    const sg_setent_t  *e;
    uint32_t            h32, slot;

    e = SG_AT(s, set, sg_setent_t);
    h32 = (uint32_t) h;

    for (slot = h32 & mask; e[slot].str.off != 0; slot = (slot + 1) & mask) {
        if (e[slot].hash == h32 && e[slot].str.len == len
            && statsig_mem_eq((const char *) s + e[slot].str.off, str, len))
        {
            return 1;
        }
    }

    return 0;
}


/* the same, the condition's target's set */
static SG_ALWAYS_INLINE int
statsig_set_has(const statsig_snapshot_t *s, const sg_tval_t *t,
    const char *str, size_t len, uint64_t h)
{
    return statsig_set_probe(s, t->set, t->set_n - 1, str, len, h);
}


/*
 * any/none with the set (op_set): has(String(value)) [|| has(lower)]; a
 * value already in lower case shares its bytes: one probe.  ci reads the
 * lower case: a lazy value has it made (statsig_value_settle) first.
 */
static SG_ALWAYS_INLINE int
statsig_set_any(const statsig_snapshot_t *s, const sg_cond_t *c,
    const statsig_value_t *v, int ci)
{
    if (statsig_set_has(s, &c->target, v->str, v->len,
                        statsig_value_hash(v, 0)))
    {
        return 1;
    }

    return ci && (v->lower != v->str || v->lower_len != v->len)
           && statsig_set_has(s, &c->target, v->lower, v->lower_len,
                              statsig_value_hash(v, 1));
}

/* gate_memo.c */
#define STATSIG_FIELD_MEMO_SLOTS  64

typedef struct {
    const char             *field;
    uint64_t                session;
    const statsig_value_t  *value;      /* NULL: not looked up yet */
} statsig_field_memo_t;

const statsig_value_t *statsig_user_field_find(statsig_eval_ctx_t *ctx,
    uint32_t key, uint32_t lower_key, const sg_cond_t *c);

/*
 * getFromUser: key and lower_key the field keys (snapshot.h) of c's field
 * and its lower case, SG_NO_FIELD_KEY past the snapshot's; c is read (its
 * second cache line, the names) only then, and may be NULL for the fixed
 * keys.  The session's answer first: most conditions read a field another
 * one read before.
 */
static inline const statsig_value_t *
statsig_user_field(statsig_eval_ctx_t *ctx, uint32_t key, uint32_t lower_key,
    const sg_cond_t *c)
{
    const statsig_field_slot_t  *f;

    if (key < SG_FIELD_KEYS_MAX && lower_key < SG_FIELD_KEYS_MAX) {
        f = &ctx->rt->field_slots[key];

        if (f->resolved_session == ctx->session) {
            return f->resolved;
        }

        /* no key of the user's spells it (statsig_session_new) */
        if (statsig_value_is_object(ctx->user)
            && ctx->rt->field_seen[key] != ctx->session
            && ctx->rt->field_seen[lower_key] != ctx->session)
        {
            return &statsig_value_undefined;
        }
    }

    return statsig_user_field_find(ctx, key, lower_key, c);
}


/* the session's slot for a custom unit id type (by address) */
const statsig_value_t **statsig_unit_memo(statsig_eval_ctx_t *ctx,
    const char *id_type);

/* gate_memo.c: the user's objects, and its keys among the field keys
 * (their slots' cand), found for a new session */
void statsig_session_new(statsig_eval_ctx_t *ctx);

/*
 * A new session when the caller changed the user, snapshot or app, or
 * another context used the runtime since.  Asked by every evaluation:
 * inline, the new session apart.
 */
static inline void
statsig_eval_session(statsig_eval_ctx_t *ctx)
{
    if (__builtin_expect(ctx->session != 0 && ctx->seen_user == ctx->user
                         && ctx->seen_snap == ctx->snap
                         && ctx->seen_has_target_app == ctx->has_target_app
                         && ctx->seen_target_app == ctx->target_app
                         && ctx->seen_environment == ctx->environment
                         && ctx->rt->memo_session == ctx->session, 1))
    {
        return;
    }

    statsig_session_new(ctx);
}
int statsig_memo_get(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *r);
void statsig_memo_put(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    const statsig_result_t *r);

/* a gate condition's nested gate from the memo: its exposures pushed, its
 * value and rule id (the result itself is not copied); 0: not there */
int statsig_memo_gate(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    int *value, statsig_str_t *rule_id);

#endif /* STATSIG_EVAL_INTERNAL_H */
