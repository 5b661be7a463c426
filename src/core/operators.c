/*
 * Operators, as statsig-node's Evaluator applies them: JavaScript
 * coercions, statsig-node's own helpers (numberCompare, versionCompare,
 * stringCompare, dateCompare, arrayAny, arrayHasValue), its membership
 * sets for any/none.
 */

#include <math.h>
#include <string.h>

#include "eval_internal.h"
#include "hash.h"
#include "idlist.h"
#include "jsdate.h"
#include "jsnum.h"
#include "jsstr.h"


/* ---- operators ---- */

/*
 * Number() of a version's component: digits alone (most) read here, the
 * rest (spaces, signs, hex, exponents, empty) by statsig_js_to_number.
 */
static SG_ALWAYS_INLINE double
sg_version_part(const char *s, size_t len)
{
    uint64_t  n;
    size_t    i;

    if (len == 0 || len > 15) {
        return statsig_js_to_number(s, len);
    }

    n = 0;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return statsig_js_to_number(s, len);
        }

        n = n * 10 + (uint64_t) (s[i] - '0');
    }

    return (double) n;
}


/* the length up to the first '-' (removeVersionExtension) */
static size_t
sg_version_cut(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] == '-') {
            return i;
        }
    }

    return len;
}


/*
 * Number() of the component of a version (cut to len) at *i, *i moved past
 * it; 0 once past the end: a missing component counts as "0"
 */
static SG_ALWAYS_INLINE double
sg_version_next(const char *s, size_t len, size_t *i)
{
    size_t  e;
    double  n;

    if (*i > len) {
        return 0;
    }

    e = *i;
    while (e < len && s[e] != '.') {
        e++;
    }

    n = sg_version_part(s + *i, e - *i);
    *i = e + 1;

    return n;
}


/* a pair of components: 1 when equal, 0 with *cmp set, -1 on a NaN */
static SG_ALWAYS_INLINE int
sg_version_step(double na, double nb, int *cmp)
{
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

    return 1;
}


static int
sg_version_compare(const char *a, size_t alen, const char *b, size_t blen,
    int *cmp)
{
    size_t  ai, bi;
    double  na, nb;
    int     rc;

    /* removeVersionExtension: cut at the first '-' */
    alen = sg_version_cut(a, alen);
    blen = sg_version_cut(b, blen);

    if (alen == 0 || blen == 0) {
        return -1;
    }

    ai = 0;
    bi = 0;

    /* component by component */
    while (ai <= alen || bi <= blen) {
        na = sg_version_next(a, alen, &ai);
        nb = sg_version_next(b, blen, &bi);

        rc = sg_version_step(na, nb, cmp);
        if (rc != 1) {
            return rc;
        }
    }

    *cmp = 0;

    return 0;
}


/* the same with b's components already read (statsig_version_parse) */
static int
sg_version_compare_parsed(const char *a, size_t alen, const double *nb,
    size_t m, int *cmp)
{
    size_t  ai, j;
    double  na;
    int     rc;

    alen = sg_version_cut(a, alen);

    if (alen == 0) {
        return -1;
    }

    ai = 0;

    /* b's component j is there while j < m, as bi <= blen above */
    for (j = 0; ai <= alen || j < m; j++) {
        na = sg_version_next(a, alen, &ai);

        rc = sg_version_step(na, j < m ? nb[j] : 0, cmp);
        if (rc != 1) {
            return rc;
        }
    }

    *cmp = 0;

    return 0;
}


size_t
statsig_version_parse(const char *b, size_t blen, double *out, size_t max)
{
    size_t  bi, m;

    blen = sg_version_cut(b, blen);

    if (blen == 0) {
        return 0;
    }

    m = 0;

    for (bi = 0; bi <= blen; /* void */) {
        if (m == max) {
            return 0;
        }

        out[m++] = sg_version_next(b, blen, &bi);
    }

    return m;
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
            if (alen == blen && statsig_mem_eq(a, b, alen)) {
                return 1;
            }
            break;

        case SG_STR_STARTS:
            if (alen >= blen && statsig_mem_eq(a, b, blen)) {
                return 1;
            }
            break;

        case SG_STR_ENDS:
            if (alen >= blen && statsig_mem_eq(a + alen - blen, b, blen)) {
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


/* the value's string hashes, computed once and kept in the value */
uint64_t
statsig_value_hash_make(const statsig_value_t *v, int lower)
{
    statsig_value_t  *w;
    uint64_t          h;

    w = (statsig_value_t *) v;

    if (lower) {
        h = statsig_str_hash(v->lower, v->lower_len);
        w->lower_hash = h;

    } else {
        h = statsig_str_hash(v->str, v->len);
        w->hash = h;
    }

    return h;
}


static int
sg_any(const statsig_snapshot_t *s, const sg_cond_t *c,
    const statsig_value_t *v, int ci)
{
    if (c->op_set) {
        return statsig_set_any(s, c, v, ci);
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
sg_value_date(statsig_runtime_t *rt, const statsig_value_t *v)
{
    double  d;

    if (v->type == STATSIG_V_STRING) {
        d = statsig_runtime_date_parse(rt, v->str, v->len);
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


/* the operators that need a frame of their own: out of the dispatch, so
 * that the common ones take no stack (called ~35 times a request) */
static SG_NOINLINE int
sg_op_version(const statsig_snapshot_t *s, const sg_cond_t *c,
    const statsig_value_t *v)
{
    const sg_tval_t  *t;
    int               cmp;

    t = &c->target;

    if (v->type != STATSIG_V_STRING || t->type != STATSIG_V_STRING) {
        return 0;
    }

    if (t->version != 0) {
        if (sg_version_compare_parsed(v->str, v->len,
                                      SG_AT(s, t->version, double),
                                      t->version_n, &cmp) != 0)
        {
            return 0;
        }

    } else if (sg_version_compare(v->str, v->len,
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
}


static SG_NOINLINE int
sg_op_matches(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v)
{
    statsig_str_t  pattern;

    /* new RegExp(target).test(String(value)), values under 1000 */
    /* UTF-16 units never outnumber UTF-8 bytes */
    if (v->len >= 1000 && statsig_js_length(v->str, v->len) >= 1000) {
        return 0;
    }

    if (c->target.type == STATSIG_V_UNDEFINED) {
        pattern.data = "";
        pattern.len = 0;

    } else {
        pattern = sg_str(ctx->snap, c->target.str);
    }

    return statsig_runtime_regex_test(ctx->rt, pattern, v->str, v->len);
}


static SG_NOINLINE int
sg_op_date(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v)
{
    double  a, b;

    if (statsig_value_nullish(v) || c->target.type <= STATSIG_V_NULL) {
        return 0;
    }

    a = sg_value_date(ctx->rt, v);
    b = c->target.date;
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
}


static SG_NOINLINE int
sg_op_segment(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v)
{
    char  id[8];
    int   in;

    in = 0;
    if (v->type == STATSIG_V_STRING) {
        statsig_runtime_idlist_hash(ctx->rt, v->str, v->len, id);
        in = statsig_idlists_contains(ctx->idlists,
                                      (const char *) ctx->snap
                                      + c->target.str.off,
                                      c->target.str.len, id);
    }

    return c->op == SG_OP_IN_SEGMENT_LIST ? in : !in;
}


static SG_NOINLINE int
sg_op_array(const statsig_snapshot_t *s, const sg_cond_t *c,
    const statsig_value_t *v)
{
    if (c->target.type != STATSIG_V_ARRAY || v->type != STATSIG_V_ARRAY) {
        return 0;
    }

    switch (c->op) {
    case SG_OP_ARRAY_CONTAINS_ANY:
        return sg_array_has_value(s, v, &c->target, 0);
    case SG_OP_ARRAY_CONTAINS_NONE:
        return !sg_array_has_value(s, v, &c->target, 0);
    case SG_OP_ARRAY_CONTAINS_ALL:
        return sg_array_has_value(s, v, &c->target, 1);
    default:
        return !sg_array_has_value(s, v, &c->target, 1);
    }
}


/* the operator on a value whose parts it reads are made */
static int
sg_op_dispatch(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v)
{
    const sg_tval_t  *t;

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

        return c->op == SG_OP_GT ? v->num > t->num
               : c->op == SG_OP_GTE ? v->num >= t->num
               : c->op == SG_OP_LT ? v->num < t->num
               : v->num <= t->num;

    case SG_OP_VERSION_GT:
    case SG_OP_VERSION_GTE:
    case SG_OP_VERSION_LT:
    case SG_OP_VERSION_LTE:
    case SG_OP_VERSION_EQ:
    case SG_OP_VERSION_NEQ:
        return sg_op_version(ctx->snap, c, v);

    case SG_OP_ANY:
        return sg_any(ctx->snap, c, v, 1);

    case SG_OP_NONE:
        return !sg_any(ctx->snap, c, v, 1);

    case SG_OP_ANY_CS:
        return sg_any(ctx->snap, c, v, 0);

    case SG_OP_NONE_CS:
        return !sg_any(ctx->snap, c, v, 0);

    case SG_OP_STR_STARTS_WITH_ANY:
        return sg_array_any_str(ctx->snap, v, t, 1, SG_STR_STARTS);

    case SG_OP_STR_ENDS_WITH_ANY:
        return sg_array_any_str(ctx->snap, v, t, 1, SG_STR_ENDS);

    case SG_OP_STR_CONTAINS_ANY:
        return sg_array_any_str(ctx->snap, v, t, 1, SG_STR_CONTAINS);

    case SG_OP_STR_CONTAINS_NONE:
        return !sg_array_any_str(ctx->snap, v, t, 1, SG_STR_CONTAINS);

    case SG_OP_STR_MATCHES:
        return sg_op_matches(ctx, c, v);

    case SG_OP_EQ:
        return sg_loose_eq(ctx->snap, v, t);

    case SG_OP_NEQ:
        return !sg_loose_eq(ctx->snap, v, t);

    case SG_OP_BEFORE:
    case SG_OP_AFTER:
    case SG_OP_ON:
        return sg_op_date(ctx, c, v);

    case SG_OP_IN_SEGMENT_LIST:
    case SG_OP_NOT_IN_SEGMENT_LIST:
        return sg_op_segment(ctx, c, v);

    case SG_OP_ARRAY_CONTAINS_ANY:
    case SG_OP_ARRAY_CONTAINS_NONE:
    case SG_OP_ARRAY_CONTAINS_ALL:
    case SG_OP_NOT_ARRAY_CONTAINS_ALL:
        return sg_op_array(ctx->snap, c, v);

    default:
        ctx->unsupported = 1;
        return 0;
    }
}


/* a value with its lower case or number still to make: made first, apart,
 * so that the common path keeps no frame */
static SG_NOINLINE int
sg_op_pending(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v)
{
    unsigned  needs;

    needs = sg_op_needs(c->op);

    /* a (lazy: string) value == target reads Number() of neither but
     * against a number or a boolean (sg_loose_eq) */
    if ((c->op == SG_OP_EQ || c->op == SG_OP_NEQ)
        && c->target.type != STATSIG_V_NUMBER
        && c->target.type != STATSIG_V_BOOL)
    {
        needs &= ~SG_NEED_NUM;
    }

    statsig_value_settle(v, needs);

    return sg_op_dispatch(ctx, c, v);
}


int
statsig_apply_op(statsig_eval_ctx_t *ctx, const sg_cond_t *c,
    const statsig_value_t *v)
{
    if (v->pending) {
        return sg_op_pending(ctx, c, v);
    }

    return sg_op_dispatch(ctx, c, v);
}


int
statsig_op_absent(const void *blob, const sg_cond_t *c)
{
    statsig_eval_ctx_t  ctx;
    int                 r;

    /* an unknown operator is unsupported */
    if (c->op == SG_OP_UNKNOWN) {
        return -1;
    }

    /* sg_op_matches on String(undefined), the pattern tried once here */
    if (c->op == SG_OP_STR_MATCHES) {
        return statsig_regex_test_once(c->target.type == STATSIG_V_UNDEFINED
                                       ? statsig_rule_none
                                       : sg_str(blob, c->target.str),
                                       statsig_value_undefined.str,
                                       statsig_value_undefined.len);
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = blob;
    r = sg_op_dispatch(&ctx, c, &statsig_value_undefined);

    return ctx.unsupported ? -1 : (r != 0);
}
