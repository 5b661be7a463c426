/*
 * Nested gate results remembered per evaluation session (see the comment
 * below), and the session itself.
 */

#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "hash.h"


/*
 * Gate results, remembered for one session: one user, snapshot and target
 * app in one context.  Holdouts and targeting gates recur in every
 * experiment a user is checked against, and a gate read by a variable is
 * often another's prerequisite; a hit copies the gate's exposures instead
 * of evaluating it again.  Only complete (Network) results are kept, so
 * depth and budget limits behave as without the memo.
 */
#define SG_GATE_MEMO_SLOTS      256
#define SG_GATE_MEMO_EXPOSURES  4096

/*
 * What of a gate's result is not its spec's (a cache line: a put writes
 * one, not the whole result's two); its exposures in exp[exp_off].
 */
typedef struct {
    const statsig_spec_t  *spec;
    uint64_t               session;
    statsig_str_t          rule_id;
    statsig_str_t          group_name;
    uint32_t               json_value;
    uint32_t               exp_off;
    uint32_t               exp_len;
    uint8_t                value;
    uint8_t                is_experiment_group;
    uint8_t                has_group_name;
    uint8_t                has_explicit_params;
} sg_gate_memo_entry_t;

typedef char  sg_memo_entry_size_check[sizeof(sg_gate_memo_entry_t) == 64
                                       ? 1 : -1];

#define SG_UNIT_MEMO_SLOTS  8

/* a user key's field key, by the key's address (sg_user_keys_find):
 * two slots a key, a power of 2 */
#define SG_KEY_MEMO_SLOTS   64

typedef struct {
    const char            *key;
    size_t                 len;
    uint64_t               session;     /* the last that found it here */
    uint32_t               k;
} sg_key_memo_t;

struct statsig_gate_memo_s {
    sg_gate_memo_entry_t   slots[SG_GATE_MEMO_SLOTS];
    statsig_field_memo_t   fields[STATSIG_FIELD_MEMO_SLOTS];
    statsig_field_memo_t   units[SG_UNIT_MEMO_SLOTS];
    uint64_t               keys_session;    /* rt->field_slots' cand */
    sg_key_memo_t          keys[SG_KEY_MEMO_SLOTS];
    statsig_exposure_t     exp[SG_GATE_MEMO_EXPOSURES];
    uint32_t               exp_len;
};


struct statsig_gate_memo_s *
statsig_gate_memo_create(void)
{
    void  *m;

    /* an entry a cache line */
    if (posix_memalign(&m, 64, sizeof(struct statsig_gate_memo_s)) != 0) {
        return NULL;
    }

    return memset(m, 0, sizeof(struct statsig_gate_memo_s));
}


/*
 * A result's exposures, copied in and out of the memo: a few (a gate's
 * prerequisites and holdouts), where a call of memcpy cost more than the
 * copy.
 */
static void
sg_copy_exposures(statsig_exposure_t *d, const statsig_exposure_t *s,
    uint32_t n)
{
    while (n-- > 0) {
        d->gate = s->gate;
        d->rule_id = s->rule_id;
        d->value = s->value;
        d++;
        s++;
    }
}


static sg_gate_memo_entry_t *
sg_memo_slot(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec)
{
    uintptr_t  k;

    k = (uintptr_t) spec / sizeof(statsig_spec_t);

    return &ctx->rt->gate_memo->slots[k % SG_GATE_MEMO_SLOTS];
}


/*
 * spec's entry when it is of this session and its exposures fit the
 * runtime's, else NULL.  Session numbers are the runtime's: an entry of
 * this session holds the memo's exposures as it left them.
 */
static SG_ALWAYS_INLINE sg_gate_memo_entry_t *
sg_memo_live(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec)
{
    sg_gate_memo_entry_t  *e;

    e = sg_memo_slot(ctx, spec);

    if (e->spec != spec || e->session != ctx->session
        || ctx->rt->exp_len + e->exp_len > STATSIG_MAX_EXPOSURES)
    {
        return NULL;
    }

    return e;
}


/* a live entry's exposures appended to the runtime's */
static SG_ALWAYS_INLINE void
sg_memo_append(statsig_runtime_t *rt, const sg_gate_memo_entry_t *e)
{
    sg_copy_exposures(&rt->exp[rt->exp_len],
                      &rt->gate_memo->exp[e->exp_off], e->exp_len);
    rt->exp_len += e->exp_len;
}


int
statsig_memo_get(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    statsig_result_t *r)
{
    sg_gate_memo_entry_t  *e;
    statsig_runtime_t     *rt;

    e = sg_memo_live(ctx, spec);

    if (e == NULL) {
        return 0;
    }

    rt = ctx->rt;

    /* the rest as statsig_eval_nested makes it for a gate's own rule */
    r->spec = spec;
    r->delegate = NULL;
    r->reason = STATSIG_REASON_NETWORK;
    r->value = e->value;
    r->is_experiment_group = e->is_experiment_group;
    r->has_group_name = e->has_group_name;
    r->rule_id = e->rule_id;
    r->group_name = e->group_name;
    r->id_type = sg_str(ctx->snap, spec->id_type);
    r->json_value = e->json_value;
    r->explicit_params = spec->explicit_params;
    r->has_explicit_params = e->has_explicit_params;
    r->exposures_off = rt->exp_len;
    r->exposures_len = e->exp_len;
    r->undelegated_off = rt->exp_len;
    r->undelegated_len = e->exp_len;

    sg_memo_append(rt, e);

    return 1;
}


int
statsig_memo_gate(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    int *value, statsig_str_t *rule_id)
{
    sg_gate_memo_entry_t  *e;

    e = sg_memo_live(ctx, spec);

    if (e == NULL) {
        return 0;
    }

    sg_memo_append(ctx->rt, e);

    *value = e->value;
    *rule_id = e->rule_id;

    return 1;
}


void
statsig_memo_put(statsig_eval_ctx_t *ctx, const statsig_spec_t *spec,
    const statsig_result_t *r)
{
    struct statsig_gate_memo_s  *m;
    sg_gate_memo_entry_t        *e;

    m = ctx->rt->gate_memo;

    /* a gate's secondary exposures are all it has (no delegate), its
     * id type and explicit parameters its spec's (statsig_memo_get) */
    if (r->reason != STATSIG_REASON_NETWORK || r->delegate != NULL
        || r->spec != spec
        || r->undelegated_off != r->exposures_off
        || r->undelegated_len != r->exposures_len
        || m->exp_len + r->exposures_len > SG_GATE_MEMO_EXPOSURES)
    {
        return;
    }

    e = sg_memo_slot(ctx, spec);
    e->spec = spec;
    e->session = ctx->session;
    e->rule_id = r->rule_id;
    e->group_name = r->group_name;
    e->json_value = r->json_value;
    e->exp_off = m->exp_len;
    e->exp_len = r->exposures_len;
    e->value = r->value;
    e->is_experiment_group = r->is_experiment_group;
    e->has_group_name = r->has_group_name;
    e->has_explicit_params = r->has_explicit_params;

    sg_copy_exposures(&m->exp[m->exp_len], &ctx->rt->exp[r->exposures_off],
                      r->exposures_len);
    m->exp_len += r->exposures_len;
}


/*
 * The user's key i if it is userID, custom, privateAttributes or
 * customIDs: as statsig_value_get would find them, the last of
 * duplicate keys.
 */
static SG_ALWAYS_INLINE void
sg_session_user_key(statsig_eval_ctx_t *ctx, const statsig_value_t *u,
    size_t i)
{
    const char  *k;

    k = u->keys[i];

    switch (u->key_lens[i]) {

    case 6:
        if (memcmp(k, "custom", 6) == 0) {
            ctx->user_custom = &u->items[i];

        } else if (memcmp(k, "userID", 6) == 0) {
            ctx->user_id = &u->items[i];
        }

        break;

    case 9:
        if (memcmp(k, "customIDs", 9) == 0) {
            ctx->user_custom_ids = &u->items[i];
        }

        break;

    case 17:
        if (memcmp(k, "privateAttributes", 17) == 0) {
            ctx->user_private = &u->items[i];
        }

        break;
    }
}


static void sg_user_keys_find(statsig_eval_ctx_t *ctx,
    struct statsig_gate_memo_s *m, int user);


/*
 * A new session: its number, the memo emptied, the user's objects and
 * keys (their field slots), so that the evaluations of the session ask
 * one question (statsig_eval_session, eval_internal.h).
 */
void
statsig_session_new(statsig_eval_ctx_t *ctx)
{
    ctx->session = ++ctx->rt->next_session;
    ctx->rt->memo_session = ctx->session;
    ctx->rt->gate_memo->exp_len = 0;

    ctx->seen_user = ctx->user;
    ctx->seen_snap = ctx->snap;
    ctx->seen_has_target_app = ctx->has_target_app;
    ctx->seen_target_app = ctx->target_app;
    ctx->seen_environment = ctx->environment;

    sg_user_keys_find(ctx, ctx->rt->gate_memo, 1);
}


/*
 * getFromUser results of this session for field names past the field keys,
 * by the address of the name: a snapshot stores each field name once.
 */
static const statsig_value_t **
sg_field_memo(statsig_eval_ctx_t *ctx, const char *field)
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


/* e holds key's field key: the snapshot's name of it is key's bytes */
static SG_ALWAYS_INLINE int
sg_user_key_is(statsig_eval_ctx_t *ctx, const sg_key_memo_t *e,
    const char *key, size_t len)
{
    const sg_header_t  *h;
    const sg_sref_t    *names;

    h = (const sg_header_t *) ctx->snap;

    if (e->key != key || e->len != len || e->k >= h->n_field_keys) {
        return 0;
    }

    names = SG_AT(ctx->snap, h->field_keys, sg_sref_t);

    return names[e->k].len == len
           && statsig_mem_eq((const char *) ctx->snap + names[e->k].off, key,
                             len);
}


/*
 * A user key's field key, or SG_NO_FIELD_KEY.  The keys of the users a
 * process builds mostly lie at the same addresses request after request
 * (nginx's are its configuration's): the field key found last for the
 * address is checked against the bytes there (the snapshot's name of it),
 * which costs less than the index's hash and probe.
 */
static uint32_t
sg_user_key(statsig_eval_ctx_t *ctx, struct statsig_gate_memo_s *m,
    const char *key, size_t len)
{
    sg_key_memo_t  *e, *e2;
    uint64_t        a;
    uint32_t        k;

    a = (uint64_t) (uintptr_t) key * 0x9E3779B97F4A7C15ULL;
    e = &m->keys[(a >> 58) & (SG_KEY_MEMO_SLOTS - 1)];
    e2 = &m->keys[((a >> 58) ^ 1) & (SG_KEY_MEMO_SLOTS - 1)];

    if (sg_user_key_is(ctx, e, key, len)) {
        e->session = ctx->session;
        return e->k;
    }

    if (sg_user_key_is(ctx, e2, key, len)) {
        e2->session = ctx->session;
        return e2->k;
    }

    k = statsig_field_key_find(ctx->snap, key, len);

    if (k < SG_FIELD_KEYS_MAX) {
        /* not over a key this session found: two of them can share */
        if (e->session == ctx->session) {
            e = e2;
        }

        e->key = key;
        e->len = len;
        e->session = ctx->session;
        e->k = k;
    }

    return k;
}


/*
 * The field slots of the user's keys, those of its custom and
 * privateAttributes objects; user: also the user's objects and userID
 * (sg_session_user_key), found in the same pass over its keys.
 */
static void
sg_user_keys_find(statsig_eval_ctx_t *ctx, struct statsig_gate_memo_s *m,
    int user)
{
    const statsig_value_t  *obj;
    statsig_field_slot_t   *slots, *f;
    uint64_t               *seen, session;
    uint32_t                o, k;
    size_t                  i;

    session = ctx->session;
    slots = ctx->rt->field_slots;
    seen = ctx->rt->field_seen;
    m->keys_session = session;

    if (user) {
        ctx->user_custom = NULL;
        ctx->user_private = NULL;
        ctx->user_custom_ids = NULL;
        ctx->user_id = NULL;
    }

    for (o = 0; o < 3; o++) {
        /* custom and privateAttributes as the user's pass found them */
        obj = o == 0 ? ctx->user : o == 1 ? ctx->user_custom
                                          : ctx->user_private;

        if (obj == NULL || obj->type != STATSIG_V_OBJECT) {
            continue;
        }

        for (i = 0; i < obj->n; i++) {
            if (user && o == 0) {
                sg_session_user_key(ctx, obj, i);
            }

            k = sg_user_key(ctx, m, obj->keys[i], obj->key_lens[i]);
            if (k >= SG_FIELD_KEYS_MAX) {
                continue;               /* no condition reads it */
            }

            f = &slots[k];

            if (seen[k] != session) {
                seen[k] = session;
                f->cand[0] = NULL;
                f->cand[1] = NULL;
                f->cand[2] = NULL;
            }

            /* in order: a later duplicate key replaces (JSON.parse) */
            f->cand[o] = &obj->items[i];
        }
    }
}


/* a ?? b ?? ...: the first that is not nullish, else the last as it is */
static const statsig_value_t *
sg_first_set(const statsig_value_t *const *f, const statsig_value_t *const *lf)
{
    const statsig_value_t  *v;
    uint32_t                i;

    v = NULL;

    /* user[f] ?? user[lf] ?? custom[f] ?? ... ?? privateAttributes[lf] */
    for (i = 0; i < 3; i++) {
        v = f[i];
        if (!statsig_value_nullish(v)) {
            return v;
        }

        if (lf != NULL) {
            v = lf[i];
            if (!statsig_value_nullish(v)) {
                return v;
            }
        }
    }

    return v ? v : &statsig_value_undefined;
}


/* getFromUser for a spelling past the snapshot's field keys: the objects
 * scanned, the answer kept by the address of the name */
static SG_NOINLINE const statsig_value_t *
sg_user_field_scan(statsig_eval_ctx_t *ctx, const sg_cond_t *c)
{
    statsig_str_t           field, field_lower;
    const statsig_value_t  **memo, *fc[3], *lc[3];

    if (ctx->user == NULL || ctx->user->type != STATSIG_V_OBJECT) {
        return &statsig_null_value;
    }

    field = sg_str(ctx->snap, c->field);
    field_lower = sg_str(ctx->snap, c->field_lower);

    memo = sg_field_memo(ctx, field.data);
    if (*memo != NULL) {
        return *memo;
    }

    fc[0] = statsig_value_get(ctx->user, field.data, field.len);
    fc[1] = statsig_value_get(ctx->user_custom, field.data, field.len);
    fc[2] = statsig_value_get(ctx->user_private, field.data, field.len);

    if (field_lower.data != field.data) {
        lc[0] = statsig_value_get(ctx->user, field_lower.data,
                                  field_lower.len);
        lc[1] = statsig_value_get(ctx->user_custom, field_lower.data,
                                  field_lower.len);
        lc[2] = statsig_value_get(ctx->user_private, field_lower.data,
                                  field_lower.len);
    }

    *memo = sg_first_set(fc, field_lower.data != field.data ? lc : NULL);

    return *memo;
}


/*
 * getFromUser(user, field) the first time in a session (see
 * statsig_user_field): the field as it is, then in lower case
 * (field_lower; the same key when it is lower case already), in the
 * user, its custom and privateAttributes objects.  A field that no key
 * of theirs spells either way is undefined (most are).
 */
const statsig_value_t *
statsig_user_field_find(statsig_eval_ctx_t *ctx, uint32_t key,
    uint32_t lower_key, const sg_cond_t *c)
{
    static const statsig_value_t  *none[3];
    statsig_field_slot_t          *f, *lf;
    const statsig_value_t         *v;
    uint64_t                       session;
    int                            f_now, lf_now;

    if (key >= SG_FIELD_KEYS_MAX || lower_key >= SG_FIELD_KEYS_MAX) {
        return sg_user_field_scan(ctx, c);
    }

    session = ctx->session;
    f = &ctx->rt->field_slots[key];
    lf = &ctx->rt->field_slots[lower_key];

    if (ctx->user == NULL || ctx->user->type != STATSIG_V_OBJECT) {
        v = &statsig_null_value;

    } else {
        if (ctx->rt->gate_memo->keys_session != session) {
            sg_user_keys_find(ctx, ctx->rt->gate_memo, 0);
        }

        f_now = ctx->rt->field_seen[key] == session;
        lf_now = ctx->rt->field_seen[lower_key] == session;

        if (!f_now && !lf_now) {
            v = &statsig_value_undefined;

        } else if (f_now && f->cand[0] != NULL
                   && f->cand[0]->type > STATSIG_V_NULL)
        {
            v = f->cand[0];         /* user[field]: the first tried */

        } else {
            v = sg_first_set(f_now ? f->cand : none,
                             key == lower_key
                             ? NULL
                             : lf_now ? lf->cand : none);
        }
    }

    f->resolved = v;
    f->resolved_session = session;

    return v;
}
