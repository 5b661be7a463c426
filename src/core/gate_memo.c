/*
 * Nested gate results remembered per evaluation session (see the comment
 * below), and the session itself.
 */

#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "hash.h"


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

/*
 * The keys of the user, its custom and privateAttributes objects, hashed
 * once per session: a condition on a field the user lacks otherwise
 * scans all three objects, twice (exact and lower-case name).
 */
#define SG_USER_INDEX_SLOTS  128
#define SG_USER_INDEX_KEYS   64

/* one name and its values in the user, custom and privateAttributes */
typedef struct {
    const char             *key;
    size_t                  len;
    uint32_t                hash;
    const statsig_value_t  *values[3];
} sg_user_key_t;

#define SG_UNIT_MEMO_SLOTS  8

struct statsig_gate_memo_s {
    sg_gate_memo_entry_t   slots[SG_GATE_MEMO_SLOTS];
    statsig_field_memo_t   fields[STATSIG_FIELD_MEMO_SLOTS];
    statsig_field_memo_t   units[SG_UNIT_MEMO_SLOTS];
    /* open addressing: entry index + 1, 0 empty; the entries in order,
     * so that a new session clears 128 bytes, not the entries */
    uint8_t                key_slots[SG_USER_INDEX_SLOTS];
    sg_user_key_t          keys[SG_USER_INDEX_KEYS];
    uint64_t               keys_session;
    int                    keys_indexed;
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


int
statsig_memo_get(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
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


void
statsig_memo_put(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
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
void
statsig_eval_session(statsig_eval_ctx_t *ctx)
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


/*
 * getFromUser results of this session, by the address of the field name:
 * a snapshot stores each field name once, and many conditions read the
 * same few fields.
 */
const statsig_value_t **
statsig_field_memo(statsig_eval_ctx_t *ctx, const char *field)
{
    statsig_field_memo_t  *f;
    uintptr_t              k;

    k = (uintptr_t) field;
    f = &ctx->rt->gate_memo->fields[(k ^ (k >> 7)) % STATSIG_FIELD_MEMO_SLOTS];

    if (f->field != field || f->session != ctx->session) {
        f->field = field;
        f->session = ctx->session;
        f->value = NULL;
    }

    return &f->value;
}


/* getUnitID for a custom id type, by the address of the type's name */
const statsig_value_t **
statsig_unit_memo(statsig_eval_ctx_t *ctx, const char *id_type)
{
    statsig_field_memo_t  *f;
    uintptr_t              k;

    k = (uintptr_t) id_type;
    f = &ctx->rt->gate_memo->units[(k ^ (k >> 5)) % SG_UNIT_MEMO_SLOTS];

    if (f->field != id_type || f->session != ctx->session) {
        f->field = id_type;
        f->session = ctx->session;
        f->value = NULL;
    }

    return &f->value;
}


static void
sg_user_index_build(statsig_eval_ctx_t *ctx, struct statsig_gate_memo_s *m)
{
    const statsig_value_t  *objs[3];
    sg_user_key_t          *k;
    uint32_t                h, slot, o, n;
    size_t                  i, total;

    objs[0] = ctx->user;
    objs[1] = ctx->user_custom;
    objs[2] = ctx->user_private;

    m->keys_session = ctx->session;
    m->keys_indexed = 0;

    total = 0;
    for (o = 0; o < 3; o++) {
        if (objs[o] != NULL && objs[o]->type == STATSIG_V_OBJECT) {
            total += objs[o]->n;
        }
    }

    if (total > SG_USER_INDEX_KEYS) {
        return;     /* a large user: plain scans */
    }

    memset(m->key_slots, 0, sizeof(m->key_slots));
    n = 0;

    for (o = 0; o < 3; o++) {
        if (objs[o] == NULL || objs[o]->type != STATSIG_V_OBJECT) {
            continue;
        }

        /* in order: a later duplicate key replaces (JSON.parse) */
        for (i = 0; i < objs[o]->n; i++) {
            h = (uint32_t) statsig_str_hash(objs[o]->keys[i],
                                            objs[o]->key_lens[i]);

            for (slot = h % SG_USER_INDEX_SLOTS; ;
                 slot = (slot + 1) % SG_USER_INDEX_SLOTS)
            {
                if (m->key_slots[slot] == 0) {
                    k = &m->keys[n++];
                    m->key_slots[slot] = (uint8_t) n;
                    k->key = objs[o]->keys[i];
                    k->len = objs[o]->key_lens[i];
                    k->hash = h;
                    k->values[0] = NULL;
                    k->values[1] = NULL;
                    k->values[2] = NULL;
                    break;
                }

                k = &m->keys[m->key_slots[slot] - 1];

                if (k->hash == h && k->len == objs[o]->key_lens[i]
                    && memcmp(k->key, objs[o]->keys[i], k->len) == 0)
                {
                    break;
                }
            }

            k->values[o] = &objs[o]->items[i];
        }
    }

    m->keys_indexed = 1;
}


/*
 * The values at key in the user, its custom and privateAttributes objects
 * (NULL where absent): one probe of the session's index when the user is
 * small.
 */
void
statsig_user_key(statsig_eval_ctx_t *ctx, const char *key, size_t len,
    const statsig_value_t *out[3])
{
    struct statsig_gate_memo_s  *m;
    sg_user_key_t               *k;
    uint32_t                     h, slot;

    m = ctx->rt->gate_memo;

    if (m->keys_session != ctx->session) {
        sg_user_index_build(ctx, m);
    }

    if (!m->keys_indexed) {
        out[0] = statsig_value_get(ctx->user, key, len);
        out[1] = statsig_value_get(ctx->user_custom, key, len);
        out[2] = statsig_value_get(ctx->user_private, key, len);
        return;
    }

    h = (uint32_t) statsig_str_hash(key, len);

    for (slot = h % SG_USER_INDEX_SLOTS; m->key_slots[slot] != 0;
         slot = (slot + 1) % SG_USER_INDEX_SLOTS)
    {
        k = &m->keys[m->key_slots[slot] - 1];

        if (k->hash == h && k->len == len
            && statsig_mem_eq(k->key, key, len))
        {
            out[0] = k->values[0];
            out[1] = k->values[1];
            out[2] = k->values[2];
            return;
        }
    }

    out[0] = NULL;
    out[1] = NULL;
    out[2] = NULL;
}
