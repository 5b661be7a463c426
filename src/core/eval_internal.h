/*
 * Evaluation internals shared by eval.c (rule loop), condition.c,
 * operators.c and gate_memo.c.  Not part of the core's API.
 */

#ifndef STATSIG_EVAL_INTERNAL_H
#define STATSIG_EVAL_INTERNAL_H

#include "runtime.h"
#include "snapshot.h"
#include "statsig.h"


extern const statsig_str_t    statsig_rule_none;
extern const statsig_value_t  statsig_null_value;


/* eval.c: a spec's rule loop, recursively for nested gates/delegates */
void statsig_eval_nested(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *res, int depth);

/* eval.c: the runtime's exposure stack */
int statsig_push_exposure(statsig_runtime_t *rt, statsig_str_t gate,
    int value, statsig_str_t rule_id);
void statsig_move_exposures(statsig_runtime_t *rt, statsig_result_t *r,
    uint32_t to);

/* condition.c: one condition; *unsupported set for unknown types/ops */
int statsig_eval_condition(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    int depth, int *unsupported);

/* condition.c: getUnitID */
const statsig_value_t *statsig_unit_id(statsig_eval_ctx_t *ctx, int custom,
    statsig_str_t id_type);

/* operators.c: the condition's operator on the left value */
int statsig_apply_op(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v, int *unsupported);

/* gate_memo.c */
#define STATSIG_FIELD_MEMO_SLOTS  64

typedef struct {
    const char             *field;
    uint64_t                session;
    const statsig_value_t  *value;      /* NULL: not looked up yet */
} statsig_field_memo_t;

const statsig_value_t *statsig_user_field_find(statsig_eval_ctx_t *ctx,
    uint32_t key, uint32_t lower_key, statsig_str_t field,
    statsig_str_t field_lower);

/*
 * getFromUser: key and lower_key the field keys (snapshot.h) of field and
 * field_lower, SG_NO_FIELD_KEY past the snapshot's.  The session's answer
 * first: most conditions read a field another one read before.
 */
static inline const statsig_value_t *
statsig_user_field(statsig_eval_ctx_t *ctx, uint32_t key, uint32_t lower_key,
    statsig_str_t field, statsig_str_t field_lower)
{
    const statsig_field_slot_t  *f;

    if (key < SG_FIELD_KEYS_MAX) {
        f = &ctx->rt->field_slots[key];

        if (f->resolved_session == ctx->session) {
            return f->resolved;
        }
    }

    return statsig_user_field_find(ctx, key, lower_key, field, field_lower);
}

/* the session's slot for a custom unit id type (by address) */
const statsig_value_t **statsig_unit_memo(statsig_eval_ctx_t *ctx,
    const char *id_type);

void statsig_eval_session(statsig_eval_ctx_t *ctx);
int statsig_memo_get(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *r);
void statsig_memo_put(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    const statsig_result_t *r);

#endif /* STATSIG_EVAL_INTERNAL_H */
