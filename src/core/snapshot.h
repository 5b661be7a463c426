/*
 * The compiled snapshot's binary layout (internal to the core).
 *
 * One contiguous block; every reference is a 32-bit offset from its start,
 * so the block can live in shared memory at any address.  Offset 0 is the
 * header, so 0 doubles as "none" for every other reference.  Every string
 * is followed by a NUL byte.
 */

#ifndef STATSIG_SNAPSHOT_H
#define STATSIG_SNAPSHOT_H

#include <stdint.h>

#include "statsig.h"


#define STATSIG_SNAPSHOT_MAGIC    0x53475331u   /* "SGS1" */
#define STATSIG_SNAPSHOT_VERSION  7u


typedef struct {
    uint32_t  off;
    uint32_t  len;
} sg_sref_t;


/* condition types */
enum {
    SG_COND_UNKNOWN = 0,
    SG_COND_PUBLIC,
    SG_COND_PASS_GATE,
    SG_COND_FAIL_GATE,
    SG_COND_MULTI_PASS_GATE,
    SG_COND_MULTI_FAIL_GATE,
    SG_COND_IP_BASED,
    SG_COND_UA_BASED,
    SG_COND_USER_FIELD,
    SG_COND_ENVIRONMENT_FIELD,
    SG_COND_CURRENT_TIME,
    SG_COND_USER_BUCKET,
    SG_COND_UNIT_ID,
    SG_COND_TARGET_APP
};

/* operators */
enum {
    SG_OP_UNKNOWN = 0,
    SG_OP_GT, SG_OP_GTE, SG_OP_LT, SG_OP_LTE,
    SG_OP_VERSION_GT, SG_OP_VERSION_GTE, SG_OP_VERSION_LT, SG_OP_VERSION_LTE,
    SG_OP_VERSION_EQ, SG_OP_VERSION_NEQ,
    SG_OP_ANY, SG_OP_NONE, SG_OP_ANY_CS, SG_OP_NONE_CS,
    SG_OP_STR_STARTS_WITH_ANY, SG_OP_STR_ENDS_WITH_ANY,
    SG_OP_STR_CONTAINS_ANY, SG_OP_STR_CONTAINS_NONE, SG_OP_STR_MATCHES,
    SG_OP_EQ, SG_OP_NEQ,
    SG_OP_BEFORE, SG_OP_AFTER, SG_OP_ON,
    SG_OP_IN_SEGMENT_LIST, SG_OP_NOT_IN_SEGMENT_LIST,
    SG_OP_ARRAY_CONTAINS_ANY, SG_OP_ARRAY_CONTAINS_NONE,
    SG_OP_ARRAY_CONTAINS_ALL, SG_OP_NOT_ARRAY_CONTAINS_ALL
};


/*
 * A JSON value inside the snapshot: compact text plus structure.
 * Arrays list node offsets; objects list sg_member_t.
 */
typedef struct {
    uint8_t    type;            /* statsig_json_type_e */
    uint8_t    pad[3];
    sg_sref_t  text;            /* JSON.stringify text */
    sg_sref_t  str;             /* strings: the value */
    double     num;
    uint32_t   n;
    uint32_t   items;
} sg_json_t;

typedef struct {
    sg_sref_t  key;
    uint32_t   node;
} sg_member_t;


/*
 * A condition's targetValue with its JavaScript conversions precomputed.
 * type is statsig_vtype_e (UNDEFINED when the key is absent).  An array
 * target keeps either its elements (items) or, for the any/none family,
 * only the membership set statsig-node builds from them.
 */
typedef struct {
    uint8_t    type;
    uint8_t    b;
    uint16_t   version_n;       /* version operators: the components */
    uint32_t   set_n;           /* any/none: sg_setent_t[set_n] hash table,
                                   set_n a power of 2, str.off 0 empty */
    uint32_t   set;
    uint32_t   n;               /* arrays: element count */
    sg_sref_t  str;             /* String(target) */
    sg_sref_t  lower;
    double     num;             /* Number(target) */
    uint32_t   items;           /* arrays: sg_titem_t[n], or 0 */
    uint32_t   version;         /* version operators on a string: Number()
                                   of each component, double[version_n]
                                   (the compiler's), or 0 */
    double     date;            /* the Date dateCompare builds; NaN */
} sg_tval_t;

/* one element of an array target */
typedef struct {
    uint8_t    type;
    uint8_t    b;
    uint8_t    pad[6];
    double     num;
    sg_sref_t  str;             /* String(element) */
    sg_sref_t  lower;
} sg_titem_t;

typedef struct {
    uint32_t   hash;            /* low bits of statsig_str_hash */
    sg_sref_t  str;
} sg_setent_t;


/*
 * The rule loop's own path for a condition (eval.c), chosen by the
 * compiler: a user field or the userID from where it lies, then, for
 * statsig_value_undefined, the operator's answer on it (SG_CF_ABSENT),
 * or statsig-node's set probed there (SG_CF_SET), or the operator.
 *
 * A spec's conditions are one array in rule order (spec->flow), which
 * the loop walks from the first to an SG_FAST_END entry: a rule's
 * conditions, the last marked SG_CF_LAST (a rule without any: one public
 * entry of its own), and before a rule with conditions that are not pure
 * (gates) an SG_FAST_IMPURE entry, after which the loop takes the rule
 * whole (its conditions are not walked).  Entries of the flow that are no
 * condition (type SG_COND_UNKNOWN) lie outside every rule's conds.
 */
enum {
    SG_FAST_GENERAL = 0,        /* statsig_eval_condition */
    SG_FAST_PUBLIC,             /* true */
    SG_FAST_FIELD,              /* user_field: both field keys set */
    SG_FAST_IP_FIELD,           /* ip_based: the field as FIELD, when it
                                   is not nullish (else the IP's country) */
    SG_FAST_USER_ID,            /* unit_id of userID (getUnitID) */
    SG_FAST_IMPURE,             /* flow: the rule `rule`, whole */
    SG_FAST_END                 /* flow: no rule passed */
};

/* flags */
#define SG_CF_SET         0x01  /* any/none with the set: probe it */
#define SG_CF_NEG         0x02  /* none, none_case_sensitive */
#define SG_CF_CI          0x04  /* any, none: the lower case too */
#define SG_CF_ABSENT      0x08  /* the answer on undefined is known: */
#define SG_CF_ABSENT_YES  0x10  /* true */
#define SG_CF_LAST        0x20  /* the last of its rule's conditions */
#define SG_CF_LOWER_SAME  0x40  /* field_lower_key is field_key */
#define SG_CF_TABLE       0x80  /* user_bucket: the answer of each bucket,
                                   a bit each at multi (the compiler's) */

/*
 * 128 bytes, each rule's array aligned to 64 (SG_COND_ALIGN): what most
 * conditions read (type, operator, field keys, the target's set, string
 * and number) is in their first cache line, the rest in the second.
 */
#define SG_COND_ALIGN  64

typedef struct {
    uint8_t    type;            /* SG_COND_* */
    uint8_t    op;              /* SG_OP_* */
    uint8_t    op_set;          /* statsig-node's targetValueSet applies */
    uint8_t    has_field;
    uint8_t    id_type_custom;  /* idType is a string other than userID */
    uint8_t    fast;            /* SG_FAST_* */
    uint8_t    flags;           /* SG_CF_* */
    uint8_t    ua_field;        /* ua_based: STATSIG_UA_* + 1 of the field,
                                   0: by its name (the general path) */
    uint32_t   field_key;       /* the two in the header's field_keys, */
    uint32_t   field_lower_key; /* or SG_NO_FIELD_KEY */
    sg_tval_t  target;          /* pass/fail gate: its str the gate name */
    int32_t    gate;            /* index in gates, -1 when missing */
    uint32_t   multi_n;         /* multi gates: sg_gateref_t[multi_n] */
    uint32_t   multi;           /* (user_bucket: SG_CF_TABLE's bits) */
    uint32_t   rule;            /* its rule's index in the spec */
    sg_sref_t  field;
    sg_sref_t  field_lower;
    sg_sref_t  id_type;
    sg_sref_t  id_type_lower;
    sg_sref_t  salt;            /* user_bucket: String(additionalValues.salt) */
} sg_cond_t;

typedef char  sg_cond_size_check[sizeof(sg_cond_t) == 128 ? 1 : -1];

/*
 * The loop's copy of what its own paths read of a flow entry (spec->hot,
 * parallel to spec->flow: entry i is condition i), four to a cache line:
 * the 128-byte sg_cond_t is read only by the general path and the
 * operators.  Field keys past 16 bits never take SG_FAST_FIELD.
 */
typedef struct {
    uint8_t    fast;            /* the condition's fast, */
    uint8_t    flags;           /* flags */
    uint16_t   field_key;       /* SG_FAST_FIELD, SG_FAST_IP_FIELD */
    uint16_t   field_lower_key;
    uint8_t    set_bits;        /* SG_CF_SET: log2 of target.set_n */
    uint8_t    pad;
    uint32_t   rule;
    uint32_t   set;             /* SG_CF_SET: target.set */
} sg_hot_t;

typedef char  sg_hot_size_check[sizeof(sg_hot_t) == 16 ? 1 : -1];

static inline void
sg_hot_of(sg_hot_t *h, const sg_cond_t *c)
{
    uint32_t  n;

    h->fast = c->fast;
    h->flags = c->flags;
    h->field_key = (uint16_t) c->field_key;
    h->field_lower_key = (uint16_t) c->field_lower_key;
    h->pad = 0;
    h->rule = c->rule;
    h->set = (c->flags & SG_CF_SET) ? c->target.set : 0;
    h->set_bits = 0;

    for (n = c->target.set_n; (c->flags & SG_CF_SET) && n > 1; n >>= 1) {
        h->set_bits++;
    }
}

typedef struct {
    sg_sref_t  name;
    int32_t    gate;
    uint32_t   pad;
} sg_gateref_t;


/* what the rule loop reads first, then the pass percentage's inputs */
typedef struct {
    uint32_t   conds;           /* sg_cond_t[n_conds] */
    uint32_t   n_conds;
    uint8_t    pure;            /* every condition sg_cond_is_pure */
    uint8_t    id_type_custom;
    uint8_t    has_group_name;
    uint8_t    is_experiment_group;
    uint8_t    has_delegate;
    /* the pass percentage's answer for an absent or empty unit id, the
     * hash of "specSalt.ruleSalt." (the compiler's): SG_EMPTY_UNIT_* */
    uint8_t    empty_unit_pass;
    uint8_t    pad[2];
    double     pass_percentage; /* NaN when not a number */
    sg_sref_t  salt;            /* rule.salt ?? rule.id */
    sg_sref_t  id_type;
    sg_sref_t  id_type_lower;
    sg_sref_t  id;
    uint32_t   return_value;    /* json node; 0 for booleans (gates) */
    int32_t    delegate;        /* index in configs, -1 when missing */
    sg_sref_t  group_name;
    sg_sref_t  config_delegate;
} sg_rule_t;

#define SG_EMPTY_UNIT_PASS   1
#define SG_EMPTY_UNIT_KNOWN  2      /* else hashed (statsig_snapshot_no_fast) */


/*
 * A condition whose only effect is its value: a known type other than the
 * gate conditions, with an operator the type uses (public ignores it).
 * statsig-node evaluates every condition of a rule; after one of these
 * failed, only the others (exposures, unsupported nested results) can
 * still change the outcome.
 */
static inline int
sg_cond_is_pure(const sg_cond_t *c)
{
    if (c->type == SG_COND_PUBLIC) {
        return 1;
    }

    return c->type >= SG_COND_IP_BASED && c->type <= SG_COND_TARGET_APP
           && c->op != SG_OP_UNKNOWN;
}


struct statsig_spec_s {
    uint32_t   rules;           /* sg_rule_t[n_rules] */
    uint32_t   n_rules;
    uint32_t   flow;            /* sg_cond_t[]: every rule's, see above */
    uint32_t   default_value;   /* json node; 0 when defaultValue is bool */
    uint8_t    kind;            /* statsig_kind_e */
    uint8_t    entity;          /* statsig_entity_e */
    uint8_t    enabled;
    uint8_t    has_id_type;
    uint8_t    is_active;
    uint8_t    has_shared_params;
    uint8_t    has_version;
    uint8_t    has_explicit_params;
    uint8_t    has_target_apps;
    uint8_t    has_layer;
    uint8_t    gate_target;     /* a pass_gate / fail_gate condition's */
    uint8_t    pad;
    uint32_t   hot;             /* sg_hot_t[]: the flow's, see above */
    sg_sref_t  salt;
    sg_sref_t  id_type;
    sg_sref_t  name;
    sg_sref_t  var_name;        /* normalised for nginx variable names */
    sg_sref_t  layer;           /* experiments: their layer (from "layers") */
    double     version;
    uint32_t   explicit_params; /* strlist */
    uint32_t   target_apps;     /* strlist */
};


/* A string list: uint32 count, then sg_sref_t[count]. */

/* Open-addressing name index: uint32 mask, then uint32 slots[mask + 1],
 * each spec index + 1 (0 = empty). */

/*
 * Field keys: every spelling a condition reads from the user (a field
 * and its lower case), once, the first three fixed; at most
 * SG_FIELD_KEYS_MAX, a condition past them has SG_NO_FIELD_KEY.
 */
#define SG_FIELD_KEY_IP        0
#define SG_FIELD_KEY_UA        1
#define SG_FIELD_KEY_UA_LOWER  2
#define SG_FIELD_KEYS_MAX      2048
#define SG_NO_FIELD_KEY        0xFFFFFFFFu


typedef struct {
    uint32_t   magic;
    uint32_t   version;
    uint32_t   size;
    uint8_t    has_updates;
    uint8_t    has_app_id;
    uint8_t    has_default_environment;
    uint8_t    pad;
    double     time;
    sg_sref_t  app_id;
    sg_sref_t  default_environment;
    sg_sref_t  default_environment_lower;
    double     default_environment_num;
    sg_sref_t  hashed_sdk_key_used;
    uint32_t   n_specs[STATSIG_KIND_COUNT];
    uint32_t   specs[STATSIG_KIND_COUNT];
    uint32_t   name_index[STATSIG_KIND_COUNT];
    uint32_t   var_index[STATSIG_KIND_COUNT];
    uint32_t   sdk_keys_to_app_ids;         /* json node */
    uint32_t   hashed_sdk_keys_to_app_ids;  /* json node */
    uint32_t   hashed_sdk_keys_to_entities; /* json node */
    uint32_t   session_replay_info;         /* json node */
    uint32_t   n_field_keys;
    uint32_t   field_keys;                  /* sg_sref_t[n_field_keys] */
    uint32_t   field_key_index;             /* name index of field_keys */
    uint32_t   pad2;
} sg_header_t;


#define SG_AT(s, off, type)  ((const type *) ((const char *) (s) + (off)))

/* spec i of kind k, i an index the compiler found (a gate condition's,
 * a delegate's): statsig_spec_at without the check, inline */
#define SG_SPEC(s, k, i)                                                     \
    (SG_AT(s, ((const sg_header_t *) (s))->specs[k], statsig_spec_t)        \
     + (uint32_t) (i))

/*
 * A name index's entry for name: its position + 1 among the names (an
 * sg_sref_t each, stride bytes apart), or 0.  s is the snapshot, or the
 * blob a compiler is writing (snapshot.c).
 */
uint32_t statsig_index_find(const void *s, uint32_t index, const char *names,
    size_t stride, const char *name, size_t len);

/*
 * For tests and fuzzers: every condition of a compiled blob (writable)
 * on statsig_eval_condition's path, the flow's structure kept, and every
 * pass percentage hashed (no compiler's answer for an empty unit id), so
 * that the answers can be compared with the loop's own paths
 * (snapshot.c).
 */
void statsig_snapshot_no_fast(void *blob);

/* a field key's index by its bytes, or SG_NO_FIELD_KEY (snapshot.c) */
uint32_t statsig_field_key_find(const statsig_snapshot_t *s,
    const char *name, size_t len);

static inline statsig_str_t
sg_str(const void *base, sg_sref_t r)
{
    statsig_str_t  s;

    s.data = (const char *) base + r.off;
    s.len = r.len;

    return s;
}


#endif /* STATSIG_SNAPSHOT_H */
