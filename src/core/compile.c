/*
 * DCS v1 JSON -> compiled snapshot.
 *
 * Parsing follows statsig-node's SpecStore._process and ConfigSpec: the
 * three spec lists must be arrays, every spec and rule must be an object,
 * names are looked up as JavaScript object keys (String(name), last one
 * wins).  Everything an evaluation needs is precomputed here: JavaScript
 * conversions of target values, lower-cased strings, resolved gate and
 * delegate references, membership sets, JSON text of values.
 *
 * The text is parsed by jtree.c (jansson's accept set, one arena) rather
 * than jansson: most of a compile used to be jansson's allocations.  The
 * same parse tells the fetcher whether the document was Statsig's "no
 * updates" answer (statsig_compile_mem_no_updates), which does not
 * compile.
 * Thread-safe: compiling touches no global state, so a caller may compile
 * in a thread pool.
 */

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "hash.h"
#include "jsdate.h"
#include "jsnum.h"
#include "jsstr.h"
#include "jtree.h"
#include "jtree_js.h"
#include "eval_internal.h"
#include "snapshot.h"


#define SG_MAX_JSON_DEPTH  512

/* the parse tree's lookups, short: sg_is(v, ARRAY), sg_get(obj, "key") */
#define sg_is(v, type)     statsig_jis(v, STATSIG_JT_ ## type)
#define sg_get(v, key)     statsig_jobject_get(v, key)


typedef struct {
    statsig_buf_t           blob;
    sg_sref_t               empty;
    char                   *err;
    size_t                  errlen;
    /* where the compiler is, for messages: -1 = not inside one */
    int                     at_kind;
    long                    at_spec;
    long                    at_rule;
    long                    at_cond;
    const char             *at_name;
    const statsig_jnode_t  *lists[STATSIG_KIND_COUNT];
    uint32_t                name_index[STATSIG_KIND_COUNT];
    statsig_buf_t           text;       /* scratch for JSON text */
    struct sg_names_s      *names;      /* [STATSIG_KIND_COUNT] */
    uint32_t               *intern;     /* interned strings: offsets */
    size_t                  intern_mask;
    size_t                  intern_used;
    sg_sref_t              *fkeys;      /* field keys (snapshot.h) */
    uint32_t                n_fkeys;
    uint32_t               *fkey_tab;   /* their index + 1 by name */
} sg_compiler_t;


static const char  *sg_kind_keys[STATSIG_KIND_COUNT] = {
    "feature_gates", "dynamic_configs", "layer_configs"
};


static void
sg_fail(sg_compiler_t *c, const char *fmt, ...)
{
    va_list  ap;
    size_t   n;

    if (c->err == NULL || c->errlen == 0) {
        return;
    }

    /* e.g. feature_gates[3] "new_checkout".rules[1].conditions[0]: ... */
    n = 0;
    if (c->at_kind >= 0) {
        n += (size_t) snprintf(c->err, c->errlen, "%s[%ld]",
                               sg_kind_keys[c->at_kind], c->at_spec);

        if (c->at_name && n < c->errlen) {
            n += (size_t) snprintf(c->err + n, c->errlen - n, " \"%.80s\"",
                                   c->at_name);
        }

        if (c->at_rule >= 0 && n < c->errlen) {
            n += (size_t) snprintf(c->err + n, c->errlen - n, ".rules[%ld]",
                                   c->at_rule);
        }

        if (c->at_cond >= 0 && n < c->errlen) {
            n += (size_t) snprintf(c->err + n, c->errlen - n,
                                   ".conditions[%ld]", c->at_cond);
        }

        if (n < c->errlen) {
            n += (size_t) snprintf(c->err + n, c->errlen - n, ": ");
        }

        if (n >= c->errlen) {
            return;
        }
    }

    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - n, fmt, ap);
    va_end(ap);
}


static sg_sref_t
sg_put_str(sg_compiler_t *c, const char *s, size_t len)
{
    sg_sref_t  r;
    size_t     off;

    if (len == 0 && c->empty.off) {
        return c->empty;
    }

    off = statsig_buf_reserve(&c->blob, len + 1, 1);
    if (off == (size_t) -1) {
        r.off = c->empty.off;
        r.len = 0;
        return r;
    }

    memcpy(c->blob.data + off, s, len);
    r.off = (uint32_t) off;
    r.len = (uint32_t) len;

    return r;
}


/*
 * Moves an array built in malloc'd memory (its elements reference blob
 * offsets written meanwhile) into the blob; frees it either way.  Returns
 * the offset, or (size_t) -1.
 */
static size_t
sg_put_array(sg_compiler_t *c, void *items, size_t n, size_t size,
    size_t align)
{
    size_t  off;

    off = statsig_buf_reserve(&c->blob, (n ? n : 1) * size, align);
    if (off != (size_t) -1) {
        memcpy(c->blob.data + off, items, n * size);
    }

    free(items);

    return off;
}


/*
 * Field names, once per snapshot: conditions that read the same field
 * share one string, so the evaluator can remember a lookup by address.
 */
static sg_sref_t
sg_put_interned(sg_compiler_t *c, const char *s, size_t len)
{
    uint32_t   *tab, off;
    size_t      slot, i, mask;
    sg_sref_t   r;
    uint32_t   *grown;

    if (c->intern_used * 2 >= c->intern_mask) {
        mask = c->intern_mask ? c->intern_mask * 2 + 1 : 255;
        grown = calloc(mask + 1, sizeof(uint32_t));
        if (grown == NULL) {
            return sg_put_str(c, s, len);
        }

        for (i = 0; c->intern && i <= c->intern_mask; i++) {
            off = c->intern[i];
            if (off == 0) {
                continue;
            }

            slot = statsig_str_hash(c->blob.data + off,
                                    strlen(c->blob.data + off)) & mask;
            while (grown[slot] != 0) {
                slot = (slot + 1) & mask;
            }

            grown[slot] = off;
        }

        free(c->intern);
        c->intern = grown;
        c->intern_mask = mask;
    }

    tab = c->intern;
    slot = statsig_str_hash(s, len) & c->intern_mask;

    while (tab[slot] != 0) {
        off = tab[slot];
        if (strlen(c->blob.data + off) == len
            && memcmp(c->blob.data + off, s, len) == 0)
        {
            r.off = off;
            r.len = (uint32_t) len;
            return r;
        }

        slot = (slot + 1) & c->intern_mask;
    }

    r = sg_put_str(c, s, len);
    if (memchr(s, '\0', len) == NULL && r.off != 0) {
        tab[slot] = r.off;
        c->intern_used++;
    }

    return r;
}


static sg_sref_t
sg_put_lower(sg_compiler_t *c, sg_sref_t s)
{
    char       *tmp;
    size_t      n;
    sg_sref_t   r;

    if (statsig_js_is_lower(c->blob.data + s.off, s.len)) {
        return s;
    }

    tmp = malloc(statsig_js_lower_size(s.len));
    if (tmp == NULL) {
        c->blob.failed = 1;
        return c->empty;
    }

    n = statsig_js_lower(c->blob.data + s.off, s.len, tmp);
    r = sg_put_str(c, tmp, n);
    free(tmp);

    return r;
}


/* ---- JavaScript String() of JSON values, into c->text ---- */

static sg_sref_t
sg_put_js_string(sg_compiler_t *c, const statsig_jnode_t *v)
{
    c->text.len = 0;
    statsig_jtree_js_string(&c->text, v, SG_MAX_JSON_DEPTH);

    if (c->text.failed) {
        c->blob.failed = 1;
        return c->empty;
    }

    return sg_put_str(c, c->text.data, c->text.len);
}


static double
sg_js_number(const statsig_jnode_t *v, const char *str, size_t len)
{
    if (v == NULL) {
        return NAN;
    }

    switch (v->type) {
    case STATSIG_JT_NUMBER:
        return statsig_jnumber(v);
    case STATSIG_JT_TRUE:
        return 1;
    case STATSIG_JT_FALSE:
    case STATSIG_JT_NULL:
        return 0;
    case STATSIG_JT_OBJECT:
        return NAN;
    default:
        /* strings, and arrays through their joined string */
        return statsig_js_to_number(str, len);
    }
}


/*
 * A JSON node and, recursively, its children.  Each node carries its own
 * JSON text; values are small in practice and the text makes parameter
 * reads free at request time.
 */
static uint32_t
sg_put_json(sg_compiler_t *c, const statsig_jnode_t *v, int depth)
{
    sg_json_t    node;
    statsig_jkey_t   *keys;
    size_t       off, items, i, n;
    sg_member_t  m;
    uint32_t     child;

    if (depth > SG_MAX_JSON_DEPTH) {
        sg_fail(c, "value nested deeper than %d levels", SG_MAX_JSON_DEPTH);
        c->blob.failed = 1;
        return 0;
    }

    memset(&node, 0, sizeof(node));

    c->text.len = 0;
    statsig_jtree_stringify(&c->text, v, SG_MAX_JSON_DEPTH - depth);
    if (c->text.failed) {
        c->blob.failed = 1;
        return 0;
    }

    node.text = sg_put_str(c, c->text.data, c->text.len);
    node.str = c->empty;

    switch (v->type) {
    case STATSIG_JT_OBJECT:
        node.type = STATSIG_JSON_OBJECT;
        keys = statsig_jobject_keys(v, &n);
        if (keys == NULL) {
            c->blob.failed = 1;
            return 0;
        }

        items = statsig_buf_reserve(&c->blob, (n ? n : 1)
                                    * sizeof(sg_member_t), 8);
        if (items == (size_t) -1) {
            free(keys);
            return 0;
        }

        for (i = 0; i < n; i++) {
            m.key = sg_put_str(c, keys[i].key, keys[i].len);
            m.node = sg_put_json(c, keys[i].value, depth + 1);
            if (c->blob.failed) {
                free(keys);
                return 0;
            }

            memcpy(c->blob.data + items + i * sizeof(sg_member_t), &m,
                   sizeof(m));
        }

        free(keys);
        node.n = (uint32_t) n;
        node.items = (uint32_t) items;
        break;

    case STATSIG_JT_ARRAY:
        node.type = STATSIG_JSON_ARRAY;
        n = statsig_jarray_size(v);
        items = statsig_buf_reserve(&c->blob, (n ? n : 1) * 4, 4);
        if (items == (size_t) -1) {
            return 0;
        }

        for (i = 0; i < n; i++) {
            child = sg_put_json(c, statsig_jarray_get(v, i), depth + 1);
            if (c->blob.failed) {
                return 0;
            }

            memcpy(c->blob.data + items + i * 4, &child, 4);
        }

        node.n = (uint32_t) n;
        node.items = (uint32_t) items;
        break;

    case STATSIG_JT_STRING:
        node.type = STATSIG_JSON_STRING;
        node.str = sg_put_str(c, statsig_jstring(v), statsig_jstring_len(v));
        break;

    case STATSIG_JT_NUMBER:
        node.type = STATSIG_JSON_NUMBER;
        node.num = statsig_jnumber(v);
        break;

    case STATSIG_JT_TRUE:
        node.type = STATSIG_JSON_TRUE;
        break;

    case STATSIG_JT_FALSE:
        node.type = STATSIG_JSON_FALSE;
        break;

    default:
        node.type = STATSIG_JSON_NULL;
    }

    off = statsig_buf_reserve(&c->blob, sizeof(node), 8);
    if (off == (size_t) -1) {
        return 0;
    }

    memcpy(c->blob.data + off, &node, sizeof(node));

    return (uint32_t) off;
}


/* A config value: booleans and undefined become {} (ConfigEvaluation). */
static uint32_t
sg_put_config_value(sg_compiler_t *c, const statsig_jnode_t *v)
{
    if (v == NULL || statsig_jis_bool(v)) {
        return 0;
    }

    return sg_put_json(c, v, 0);
}


static uint32_t
sg_put_strlist(sg_compiler_t *c, const statsig_jnode_t *arr)
{
    size_t     off, i, n;
    uint32_t   n32;
    sg_sref_t  s;

    n = sg_is(arr, ARRAY) ? statsig_jarray_size(arr) : 0;

    off = statsig_buf_reserve(&c->blob, 4 + n * sizeof(sg_sref_t), 4);
    if (off == (size_t) -1) {
        return 0;
    }

    n32 = (uint32_t) n;
    memcpy(c->blob.data + off, &n32, 4);

    for (i = 0; i < n; i++) {
        s = sg_put_js_string(c, statsig_jarray_get(arr, i));
        memcpy(c->blob.data + off + 4 + i * sizeof(sg_sref_t), &s,
               sizeof(s));
    }

    return (uint32_t) off;
}


/* ---- name indexes ---- */

static const char *
sg_blob_str(sg_compiler_t *c, sg_sref_t s)
{
    return c->blob.data + s.off;
}


/*
 * Builds an index over n names (sg_sref_t at names + i * stride).  With
 * last_wins, a later duplicate replaces the earlier entry (JS object keys);
 * otherwise the first stays.
 */
static uint32_t
sg_put_index(sg_compiler_t *c, size_t names_off, size_t stride, size_t n,
    int last_wins)
{
    size_t      off, i;
    uint32_t    mask, slot, e, *tab;
    sg_sref_t   name, other;

    mask = 1;
    while (mask < n * 2 + 1) {
        mask <<= 1;
    }

    mask -= 1;

    off = statsig_buf_reserve(&c->blob, (mask + 2) * 4, 4);
    if (off == (size_t) -1) {
        return 0;
    }

    tab = (uint32_t *) (c->blob.data + off);
    tab[0] = mask;

    for (i = 0; i < n; i++) {
        memcpy(&name, c->blob.data + names_off + i * stride, sizeof(name));
        slot = (uint32_t) statsig_str_hash(sg_blob_str(c, name), name.len)
               & mask;

        for ( ;; ) {
            e = tab[1 + slot];
            if (e == 0) {
                tab[1 + slot] = (uint32_t) i + 1;
                break;
            }

            memcpy(&other, c->blob.data + names_off + (e - 1) * stride,
                   sizeof(other));
            if (other.len == name.len
                && memcmp(sg_blob_str(c, other), sg_blob_str(c, name),
                          name.len) == 0)
            {
                if (last_wins) {
                    tab[1 + slot] = (uint32_t) i + 1;
                }

                break;
            }

            slot = (slot + 1) & mask;
        }
    }

    return (uint32_t) off;
}


/*
 * A spelling conditions read from the user, as a field key (snapshot.h):
 * its index, the same for the same bytes.
 */
#define SG_FKEY_MASK  (SG_FIELD_KEYS_MAX * 2 - 1)

static uint32_t
sg_put_field_key(sg_compiler_t *c, sg_sref_t name)
{
    uint32_t   slot, e;
    sg_sref_t  other;

    if (c->fkeys == NULL) {
        c->fkeys = malloc(SG_FIELD_KEYS_MAX * sizeof(sg_sref_t));
        c->fkey_tab = calloc(SG_FKEY_MASK + 1, sizeof(uint32_t));

        if (c->fkeys == NULL || c->fkey_tab == NULL) {
            c->blob.failed = 1;
            return SG_NO_FIELD_KEY;
        }
    }

    slot = (uint32_t) statsig_str_hash(sg_blob_str(c, name), name.len)
           & SG_FKEY_MASK;

    for ( ;; ) {
        e = c->fkey_tab[slot];
        if (e == 0) {
            break;
        }

        other = c->fkeys[e - 1];
        if (other.len == name.len
            && memcmp(sg_blob_str(c, other), sg_blob_str(c, name),
                      name.len) == 0)
        {
            return e - 1;
        }

        slot = (slot + 1) & SG_FKEY_MASK;
    }

    if (c->n_fkeys == SG_FIELD_KEYS_MAX) {
        return SG_NO_FIELD_KEY;
    }

    c->fkeys[c->n_fkeys++] = name;
    c->fkey_tab[slot] = c->n_fkeys;

    return c->n_fkeys - 1;
}


/* the field keys into the blob, with their name index */
static void
sg_put_field_keys(sg_compiler_t *c, sg_header_t *h)
{
    size_t  off;

    if (c->fkeys == NULL) {
        return;                         /* no memory: the blob failed */
    }

    h->n_field_keys = c->n_fkeys;

    off = sg_put_array(c, c->fkeys, c->n_fkeys, sizeof(sg_sref_t), 8);
    c->fkeys = NULL;

    if (off == (size_t) -1) {
        return;
    }

    h->field_keys = (uint32_t) off;
    h->field_key_index = sg_put_index(c, off, sizeof(sg_sref_t),
                                      c->n_fkeys, 0);
}


/* ---- target values ---- */

/* String(v) and its lower case for one element, into the blob */
static void
sg_put_item_strings(sg_compiler_t *c, const statsig_jnode_t *v, sg_sref_t *str,
    sg_sref_t *lower)
{
    *str = sg_put_js_string(c, v);
    *lower = sg_put_lower(c, *str);
}


/*
 * statsig-node's targetValueSet: String(v) of every element, and its lower
 * case for any/none; identical entries are kept once.
 */
static int
sg_put_set(sg_compiler_t *c, const statsig_jnode_t *arr, int ci, sg_tval_t *t)
{
    sg_setent_t  *ents, *tab;
    sg_sref_t     str, lower;
    size_t        off, k, i, n, mask, slot;

    n = statsig_jarray_size(arr);
    ents = malloc((n ? n : 1) * 2 * sizeof(sg_setent_t));
    if (ents == NULL) {
        c->blob.failed = 1;
        return -1;
    }

    k = 0;
    for (i = 0; i < n; i++) {
        sg_put_item_strings(c, statsig_jarray_get(arr, i), &str, &lower);

        ents[k].str = str;
        ents[k].hash = (uint32_t) statsig_str_hash(sg_blob_str(c, str),
                                                   str.len);
        k++;

        if (ci && lower.off != str.off) {
            ents[k].str = lower;
            ents[k].hash = (uint32_t) statsig_str_hash(sg_blob_str(c, lower),
                                                       lower.len);
            k++;
        }
    }

    /*
     * An open-addressing table at most an eighth full up to 64 strings, a
     * quarter up to 256, half past them: most values probed are not in
     * the set, and a miss runs to an empty slot (a probe, mostly); the
     * snapshot's size stays bounded for long lists.
     */
    mask = 1;
    while (mask < k * (k <= 64 ? 8 : k <= 256 ? 4 : 2) + 1) {
        mask <<= 1;
    }

    off = statsig_buf_reserve(&c->blob, mask * sizeof(sg_setent_t), 4);
    if (off == (size_t) -1) {
        free(ents);
        return -1;
    }

    tab = (sg_setent_t *) (c->blob.data + off);
    for (i = 0; i < k; i++) {
        for (slot = ents[i].hash & (mask - 1); tab[slot].str.off != 0;
             slot = (slot + 1) & (mask - 1))
        {
            /* equal strings stored twice add nothing to a set */
            if (tab[slot].hash == ents[i].hash
                && tab[slot].str.len == ents[i].str.len
                && memcmp(sg_blob_str(c, tab[slot].str),
                          sg_blob_str(c, ents[i].str), ents[i].str.len) == 0)
            {
                break;
            }
        }

        tab[slot] = ents[i];
    }

    free(ents);

    t->set = (uint32_t) off;
    t->set_n = (uint32_t) mask;

    return 0;
}


static void
sg_item_type(const statsig_jnode_t *v, uint8_t *type, uint8_t *b)
{
    *b = 0;

    switch (v->type) {
    case STATSIG_JT_STRING:
        *type = STATSIG_V_STRING;
        break;
    case STATSIG_JT_NUMBER:
        *type = STATSIG_V_NUMBER;
        break;
    case STATSIG_JT_TRUE:
    case STATSIG_JT_FALSE:
        *type = STATSIG_V_BOOL;
        *b = sg_is(v, TRUE);
        break;
    case STATSIG_JT_NULL:
        *type = STATSIG_V_NULL;
        break;
    case STATSIG_JT_OBJECT:
        *type = STATSIG_V_OBJECT;
        break;
    default:
        *type = STATSIG_V_ARRAY;
    }
}


static int
sg_put_items(sg_compiler_t *c, const statsig_jnode_t *arr, sg_tval_t *t)
{
    sg_titem_t             *items;
    size_t                  off, i, n;
    const statsig_jnode_t  *v;

    n = statsig_jarray_size(arr);
    items = calloc(n ? n : 1, sizeof(sg_titem_t));
    if (items == NULL) {
        c->blob.failed = 1;
        return -1;
    }

    for (i = 0; i < n; i++) {
        v = statsig_jarray_get(arr, i);
        sg_item_type(v, &items[i].type, &items[i].b);
        sg_put_item_strings(c, v, &items[i].str, &items[i].lower);
        items[i].num = sg_js_number(v, sg_blob_str(c, items[i].str),
                                    items[i].str.len);
    }

    off = sg_put_array(c, items, n, sizeof(sg_titem_t), 8);
    if (off == (size_t) -1) {
        return -1;
    }

    t->items = (uint32_t) off;
    t->n = (uint32_t) n;

    return c->blob.failed ? -1 : 0;
}


/* dateCompare's Date for a target: string -> Date.parse, else seconds/ms */
static double
sg_target_date(const statsig_jnode_t *v, const char *str, size_t len,
    double num)
{
    double  d;

    if (v != NULL && sg_is(v, STRING)) {
        d = statsig_js_date_parse(str, len);
        if (!isnan(d)) {
            return d;
        }
    }

    if (isnan(num)) {
        return NAN;
    }

    if (num < 10000000000.0) {
        num *= 1000;
    }

    return statsig_js_time_clip(num);
}


/*
 * A target value.  For arrays, `set` asks for statsig-node's membership
 * set (0: none, 1: String(v), 2: with lower case) instead of the items.
 */
static int
sg_put_tval(sg_compiler_t *c, const statsig_jnode_t *v, sg_tval_t *t, int set)
{
    memset(t, 0, sizeof(*t));

    t->str = sg_put_js_string(c, v);
    t->lower = (v != NULL && sg_is(v, ARRAY)) ? t->str
                                               : sg_put_lower(c, t->str);
    t->num = sg_js_number(v, sg_blob_str(c, t->str), t->str.len);
    t->date = sg_target_date(v, sg_blob_str(c, t->str), t->str.len, t->num);

    if (v == NULL) {
        t->type = STATSIG_V_UNDEFINED;
        return c->blob.failed ? -1 : 0;
    }

    sg_item_type(v, &t->type, &t->b);

    if (t->type == STATSIG_V_ARRAY) {
        t->n = (uint32_t) statsig_jarray_size(v);

        if (set) {
            return sg_put_set(c, v, set == 2, t);
        }

        return sg_put_items(c, v, t);
    }

    return c->blob.failed ? -1 : 0;
}


/* ---- conditions, rules, specs ---- */

static const struct {
    const char  *name;
    uint8_t      code;
} sg_cond_types[] = {
    { "public", SG_COND_PUBLIC },
    { "pass_gate", SG_COND_PASS_GATE },
    { "fail_gate", SG_COND_FAIL_GATE },
    { "multi_pass_gate", SG_COND_MULTI_PASS_GATE },
    { "multi_fail_gate", SG_COND_MULTI_FAIL_GATE },
    { "ip_based", SG_COND_IP_BASED },
    { "ua_based", SG_COND_UA_BASED },
    { "user_field", SG_COND_USER_FIELD },
    { "environment_field", SG_COND_ENVIRONMENT_FIELD },
    { "current_time", SG_COND_CURRENT_TIME },
    { "user_bucket", SG_COND_USER_BUCKET },
    { "unit_id", SG_COND_UNIT_ID },
    { "target_app", SG_COND_TARGET_APP }
};

static const struct {
    const char  *name;
    uint8_t      code;
} sg_ops[] = {
    { "gt", SG_OP_GT }, { "gte", SG_OP_GTE }, { "lt", SG_OP_LT },
    { "lte", SG_OP_LTE },
    { "version_gt", SG_OP_VERSION_GT }, { "version_gte", SG_OP_VERSION_GTE },
    { "version_lt", SG_OP_VERSION_LT }, { "version_lte", SG_OP_VERSION_LTE },
    { "version_eq", SG_OP_VERSION_EQ }, { "version_neq", SG_OP_VERSION_NEQ },
    { "any", SG_OP_ANY }, { "none", SG_OP_NONE },
    { "any_case_sensitive", SG_OP_ANY_CS },
    { "none_case_sensitive", SG_OP_NONE_CS },
    { "str_starts_with_any", SG_OP_STR_STARTS_WITH_ANY },
    { "str_ends_with_any", SG_OP_STR_ENDS_WITH_ANY },
    { "str_contains_any", SG_OP_STR_CONTAINS_ANY },
    { "str_contains_none", SG_OP_STR_CONTAINS_NONE },
    { "str_matches", SG_OP_STR_MATCHES },
    { "eq", SG_OP_EQ }, { "neq", SG_OP_NEQ },
    { "before", SG_OP_BEFORE }, { "after", SG_OP_AFTER }, { "on", SG_OP_ON },
    { "in_segment_list", SG_OP_IN_SEGMENT_LIST },
    { "not_in_segment_list", SG_OP_NOT_IN_SEGMENT_LIST },
    { "array_contains_any", SG_OP_ARRAY_CONTAINS_ANY },
    { "array_contains_none", SG_OP_ARRAY_CONTAINS_NONE },
    { "array_contains_all", SG_OP_ARRAY_CONTAINS_ALL },
    { "not_array_contains_all", SG_OP_NOT_ARRAY_CONTAINS_ALL }
};


/* Lower-cases ASCII only: type and operator names are ASCII keywords. */
static int
sg_keyword_eq(const char *s, size_t len, const char *kw)
{
    size_t  i;
    char    ch;

    if (strlen(kw) != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = s[i];
        if (ch >= 'A' && ch <= 'Z') {
            ch += 32;
        }

        if (ch != kw[i]) {
            return 0;
        }
    }

    return 1;
}


/* String(name) of every spec, hashed: names resolve before the index
 * inside the blob exists; a later duplicate wins, as with JS object keys */
typedef struct sg_names_s {
    char      **names;
    size_t     *lens;
    uint32_t   *slots;
    uint32_t    mask;
} sg_names_t;


static int
sg_names_build(sg_compiler_t *c, const statsig_jnode_t *list, sg_names_t *t)
{
    size_t    i, n;
    uint32_t  slot, e;

    n = statsig_jarray_size(list);
    t->mask = 1;
    while (t->mask < n * 2 + 1) {
        t->mask <<= 1;
    }

    t->mask -= 1;
    t->names = calloc(n ? n : 1, sizeof(char *));
    t->lens = calloc(n ? n : 1, sizeof(size_t));
    t->slots = calloc(t->mask + 1, sizeof(uint32_t));
    if (t->names == NULL || t->lens == NULL || t->slots == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        c->text.len = 0;
        statsig_jtree_js_string(&c->text,
                                sg_get(statsig_jarray_get(list, i), "name"),
                                SG_MAX_JSON_DEPTH);
        if (c->text.failed) {
            return -1;
        }

        t->lens[i] = c->text.len;
        t->names[i] = malloc(c->text.len + 1);
        if (t->names[i] == NULL) {
            return -1;
        }

        memcpy(t->names[i], c->text.data ? c->text.data : "", c->text.len);
        t->names[i][c->text.len] = '\0';

        slot = (uint32_t) statsig_str_hash(t->names[i], t->lens[i]) & t->mask;
        for ( ;; ) {
            e = t->slots[slot];
            if (e == 0 || (t->lens[e - 1] == t->lens[i]
                           && memcmp(t->names[e - 1], t->names[i],
                                     t->lens[i]) == 0))
            {
                t->slots[slot] = (uint32_t) i + 1;
                break;
            }

            slot = (slot + 1) & t->mask;
        }
    }

    return 0;
}


static void
sg_names_free(sg_names_t *t, size_t n)
{
    size_t  i;

    if (t->names) {
        for (i = 0; i < n; i++) {
            free(t->names[i]);
        }
    }

    free(t->names);
    free(t->lens);
    free(t->slots);
}


static int32_t
sg_find_spec(sg_compiler_t *c, statsig_kind_e k, const char *name,
    size_t len)
{
    sg_names_t  *t;
    uint32_t     slot, e;

    t = &c->names[k];
    slot = (uint32_t) statsig_str_hash(name, len) & t->mask;

    for ( ;; ) {
        e = t->slots[slot];
        if (e == 0) {
            return -1;
        }

        if (t->lens[e - 1] == len && memcmp(t->names[e - 1], name, len) == 0)
        {
            return (int32_t) e - 1;
        }

        slot = (slot + 1) & t->mask;
    }
}


/* getUnitID's idType: a string other than userID names a custom ID. */
static void
sg_put_id_type(sg_compiler_t *c, const statsig_jnode_t *v, sg_sref_t *id_type,
    sg_sref_t *lower, uint8_t *custom)
{
    *custom = 0;
    *id_type = c->empty;
    *lower = c->empty;

    if (!sg_is(v, STRING)) {
        return;
    }

    /* interned: the evaluator remembers a session's unit ids by address */
    *id_type = sg_put_interned(c, statsig_jstring(v),
                               statsig_jstring_len(v));
    *lower = sg_put_lower(c, *id_type);
    *custom = !(lower->len == 6
                && memcmp(sg_blob_str(c, *lower), "userid", 6) == 0);
}


#define SG_VERSION_MAX  64

/* a version operator's target read into its components once */
static void
sg_put_version(sg_compiler_t *c, sg_cond_t *cond)
{
    double  *parts;
    size_t   n, off;

    parts = malloc(SG_VERSION_MAX * sizeof(double));
    if (parts == NULL) {
        c->blob.failed = 1;
        return;
    }

    n = statsig_version_parse(sg_blob_str(c, cond->target.str),
                              cond->target.str.len, parts, SG_VERSION_MAX);
    if (n == 0) {
        free(parts);
        return;
    }

    off = sg_put_array(c, parts, n, sizeof(double), 8);
    if (off != (size_t) -1) {
        cond->target.version = (uint32_t) off;
        cond->target.version_n = (uint16_t) n;
    }
}


/*
 * The rule loop's path for a condition (snapshot.h): a user field (both
 * keys within the field keys) or userID, the set probe for statsig-node's
 * any/none sets, and the operator's answer on an absent value, computed
 * here by the evaluator's own operator on the set just written (a regex
 * tried once on "undefined"); a user_bucket's answer for each bucket.
 */
static void
sg_put_fast(sg_compiler_t *c, sg_cond_t *cond)
{
    uint8_t  *bits;
    size_t    off;
    int       absent;

    cond->fast = SG_FAST_GENERAL;
    cond->flags = 0;

    if (cond->type == SG_COND_PUBLIC) {
        cond->fast = SG_FAST_PUBLIC;
        return;
    }

    if (cond->op >= SG_OP_VERSION_GT && cond->op <= SG_OP_VERSION_NEQ
        && cond->target.type == STATSIG_V_STRING)
    {
        sg_put_version(c, cond);
    }

    if (cond->type == SG_COND_UA_BASED && cond->has_field) {
        absent = statsig_ua_field_index(sg_str(c->blob.data,
                                               cond->field_lower));
        cond->ua_field = (uint8_t) (absent + 1);
        return;
    }

    if (cond->type == SG_COND_USER_BUCKET) {
        bits = malloc(STATSIG_BUCKET_TABLE);
        if (bits == NULL) {
            c->blob.failed = 1;
            return;
        }

        if (statsig_bucket_table(c->blob.data, cond, bits) != 0) {
            free(bits);
            return;
        }

        off = sg_put_array(c, bits, STATSIG_BUCKET_TABLE, 1, 8);
        if (off != (size_t) -1) {
            cond->multi = (uint32_t) off;
            cond->flags |= SG_CF_TABLE;
        }

        return;
    }

    if (cond->type == SG_COND_USER_FIELD && cond->has_field
        && cond->field_key < SG_FIELD_KEYS_MAX
        && cond->field_lower_key < SG_FIELD_KEYS_MAX)
    {
        cond->fast = SG_FAST_FIELD;

    } else if (cond->type == SG_COND_UNIT_ID && !cond->id_type_custom) {
        cond->fast = SG_FAST_USER_ID;

    } else if (cond->type == SG_COND_IP_BASED && cond->has_field
               && cond->field_key < SG_FIELD_KEYS_MAX
               && cond->field_lower_key < SG_FIELD_KEYS_MAX)
    {
        cond->fast = SG_FAST_IP_FIELD;

    } else {
        return;
    }

    if (cond->field_key == cond->field_lower_key) {
        cond->flags |= SG_CF_LOWER_SAME;
    }

    if (cond->op_set) {
        cond->flags |= SG_CF_SET;

        if (cond->op == SG_OP_NONE || cond->op == SG_OP_NONE_CS) {
            cond->flags |= SG_CF_NEG;
        }

        if (cond->op == SG_OP_ANY || cond->op == SG_OP_NONE) {
            cond->flags |= SG_CF_CI;
        }
    }

    /* ip_based: an absent field is the IP's country, not undefined */
    absent = cond->fast == SG_FAST_IP_FIELD
             ? -1 : statsig_op_absent(c->blob.data, cond);

    if (absent >= 0) {
        cond->flags |= SG_CF_ABSENT | (absent ? SG_CF_ABSENT_YES : 0);
    }
}


static int
sg_put_cond(sg_compiler_t *c, const statsig_jnode_t *j, sg_cond_t *cond)
{
    const statsig_jnode_t  *type, *op, *field, *target, *av, *salt;
    const char             *ops;
    size_t                  i, n, off;
    sg_gateref_t            g;

    memset(cond, 0, sizeof(*cond));

    if (!sg_is(j, OBJECT)) {
        sg_fail(c, "condition is not an object");
        return -1;
    }

    type = sg_get(j, "type");
    op = sg_get(j, "operator");
    field = sg_get(j, "field");
    target = sg_get(j, "targetValue");

    cond->type = SG_COND_UNKNOWN;
    if (sg_is(type, STRING)) {
        for (i = 0; i < sizeof(sg_cond_types) / sizeof(sg_cond_types[0]);
             i++)
        {
            if (sg_keyword_eq(statsig_jstring(type),
                              statsig_jstring_len(type), sg_cond_types[i].name))
            {
                cond->type = sg_cond_types[i].code;
                break;
            }
        }
    }

    cond->op = SG_OP_UNKNOWN;
    if (sg_is(op, STRING)) {
        ops = statsig_jstring(op);
        for (i = 0; i < sizeof(sg_ops) / sizeof(sg_ops[0]); i++) {
            if (sg_keyword_eq(ops, statsig_jstring_len(op), sg_ops[i].name)) {
                cond->op = sg_ops[i].code;
                break;
            }
        }

        /* ConfigCondition builds its set only for these exact spellings */
        cond->op_set = sg_is(target, ARRAY)
                       && (strcmp(ops, "any") == 0 || strcmp(ops, "none") == 0
                           || strcmp(ops, "any_case_sensitive") == 0
                           || strcmp(ops, "none_case_sensitive") == 0);
    }

    cond->has_field = (field != NULL && !sg_is(field, NULL));
    cond->field = c->empty;
    cond->field_lower = c->empty;
    cond->field_key = SG_NO_FIELD_KEY;
    cond->field_lower_key = SG_NO_FIELD_KEY;

    if (cond->has_field) {
        c->text.len = 0;
        statsig_jtree_js_string(&c->text, field, SG_MAX_JSON_DEPTH);
        cond->field = sg_put_interned(c, c->text.data ? c->text.data : "",
                                      c->text.len);
        cond->field_lower = sg_put_lower(c, cond->field);

        if (cond->field_lower.off != cond->field.off) {
            cond->field_lower = sg_put_interned(c,
                                         sg_blob_str(c, cond->field_lower),
                                         cond->field_lower.len);
        }

        cond->field_key = sg_put_field_key(c, cond->field);
        cond->field_lower_key = sg_put_field_key(c, cond->field_lower);
    }

    sg_put_id_type(c, sg_get(j, "idType"), &cond->id_type,
                   &cond->id_type_lower, &cond->id_type_custom);

    /* `salt + '.'`: undefined and null print as themselves */
    av = sg_get(j, "additionalValues");
    salt = sg_is(av, OBJECT) ? sg_get(av, "salt") : NULL;
    cond->salt = sg_put_js_string(c, salt);

    if (sg_put_tval(c, target, &cond->target,
                    !cond->op_set ? 0
                    : (cond->op == SG_OP_ANY || cond->op == SG_OP_NONE) ? 2
                    : 1) != 0)
    {
        return -1;
    }

    cond->gate = -1;

    if (cond->type == SG_COND_PASS_GATE || cond->type == SG_COND_FAIL_GATE) {
        cond->gate = sg_find_spec(c, STATSIG_KIND_GATE,
                                  sg_blob_str(c, cond->target.str),
                                  cond->target.str.len);
    }

    if ((cond->type == SG_COND_MULTI_PASS_GATE
         || cond->type == SG_COND_MULTI_FAIL_GATE) && sg_is(target, ARRAY))
    {
        n = statsig_jarray_size(target);
        off = statsig_buf_reserve(&c->blob, (n ? n : 1) * sizeof(g), 4);
        if (off == (size_t) -1) {
            return -1;
        }

        for (i = 0; i < n; i++) {
            g.name = sg_put_js_string(c, statsig_jarray_get(target, i));
            g.gate = sg_find_spec(c, STATSIG_KIND_GATE,
                                  sg_blob_str(c, g.name), g.name.len);
            g.pad = 0;
            memcpy(c->blob.data + off + i * sizeof(g), &g, sizeof(g));
        }

        cond->multi = (uint32_t) off;
        cond->multi_n = (uint32_t) n;
    }

    if (c->blob.failed) {
        return -1;
    }

    sg_put_fast(c, cond);

    return 0;
}


static int
sg_truthy(const statsig_jnode_t *v)
{
    if (v == NULL) {
        return 0;
    }

    switch (v->type) {
    case STATSIG_JT_TRUE:
        return 1;
    case STATSIG_JT_STRING:
        return statsig_jstring_len(v) > 0;
    case STATSIG_JT_NUMBER:
        return statsig_jnumber(v) != 0 && !isnan(statsig_jnumber(v));
    case STATSIG_JT_OBJECT:
    case STATSIG_JT_ARRAY:
        return 1;
    default:
        return 0;
    }
}


/*
 * A spec's flow (snapshot.h): its rules' conditions in order, with the
 * loop's own entries, written once all are made.
 */
typedef struct {
    sg_cond_t  *conds;
    size_t      n;
    size_t      cap;
} sg_flow_t;


static sg_cond_t *
sg_flow_add(sg_compiler_t *c, sg_flow_t *f, size_t n)
{
    sg_cond_t  *p;
    size_t      cap;

    if (f->n + n > f->cap) {
        cap = f->cap ? f->cap : 8;
        while (cap < f->n + n) {
            cap *= 2;
        }

        p = realloc(f->conds, cap * sizeof(sg_cond_t));
        if (p == NULL) {
            c->blob.failed = 1;
            return NULL;
        }

        f->conds = p;
        f->cap = cap;
    }

    p = &f->conds[f->n];
    f->n += n;

    return p;
}


/* an entry of the flow that is no condition */
static int
sg_flow_mark(sg_compiler_t *c, sg_flow_t *f, uint8_t fast, size_t rule)
{
    sg_cond_t  *m;

    m = sg_flow_add(c, f, 1);
    if (m == NULL) {
        return -1;
    }

    memset(m, 0, sizeof(*m));
    m->type = SG_COND_UNKNOWN;
    m->fast = fast;
    m->flags = SG_CF_LAST;
    m->field_key = SG_NO_FIELD_KEY;
    m->field_lower_key = SG_NO_FIELD_KEY;
    m->gate = -1;
    m->rule = (uint32_t) rule;
    m->field = c->empty;
    m->field_lower = c->empty;
    m->id_type = c->empty;
    m->id_type_lower = c->empty;
    m->salt = c->empty;
    m->target.str = c->empty;
    m->target.lower = c->empty;
    m->target.num = NAN;
    m->target.date = NAN;

    return 0;
}


/*
 * The rule's pass percentage for a user without its unit id, as the
 * evaluator's would be (eval.c, sg_pass_hash): the key is then
 * "specSalt.ruleSalt." for every such user.
 */
static int
sg_empty_unit_pass(sg_compiler_t *c, const statsig_spec_t *s, sg_rule_t *r)
{
    char      *key;
    size_t     len;
    uint64_t   h;

    len = s->salt.len + r->salt.len + 2;
    key = malloc(len);
    if (key == NULL) {
        c->blob.failed = 1;
        return -1;
    }

    memcpy(key, sg_blob_str(c, s->salt), s->salt.len);
    key[s->salt.len] = '.';
    memcpy(key + s->salt.len + 1, sg_blob_str(c, r->salt), r->salt.len);
    key[len - 1] = '.';

    h = statsig_hash_u64(key, len);
    free(key);

    r->empty_unit_pass = SG_EMPTY_UNIT_KNOWN
        | ((double) (h % 10000) < r->pass_percentage * 100
           ? SG_EMPTY_UNIT_PASS : 0);

    return 0;
}


/* r->conds: the rule's position in the flow (sg_put_spec makes it an
 * offset) */
static int
sg_put_rule(sg_compiler_t *c, const statsig_jnode_t *j, statsig_kind_e kind,
    sg_rule_t *r, size_t index, sg_flow_t *flow)
{
    const statsig_jnode_t  *id, *salt, *pp, *conds, *delegate, *group;
    sg_cond_t              *cs, *p;
    size_t                  i, n;

    memset(r, 0, sizeof(*r));

    c->at_rule = (long) index;
    c->at_cond = -1;

    if (!sg_is(j, OBJECT)) {
        sg_fail(c, "rule is not an object");
        return -1;
    }

    id = sg_get(j, "id");
    salt = sg_get(j, "salt");

    r->id = (id == NULL || sg_is(id, NULL)) ? c->empty
                                             : sg_put_js_string(c, id);
    r->salt = (salt == NULL || sg_is(salt, NULL)) ? sg_put_js_string(c, id)
                                                   : sg_put_js_string(c, salt);

    /* `hash < passPercentage * 100`, with JavaScript's coercion */
    pp = sg_get(j, "passPercentage");
    c->text.len = 0;
    statsig_jtree_js_string(&c->text, pp, SG_MAX_JSON_DEPTH);
    r->pass_percentage = sg_js_number(pp, c->text.data ? c->text.data : "",
                                      c->text.len);

    sg_put_id_type(c, sg_get(j, "idType"), &r->id_type,
                   &r->id_type_lower, &r->id_type_custom);

    group = sg_get(j, "groupName");
    r->has_group_name = (group != NULL && !sg_is(group, NULL));
    r->group_name = r->has_group_name ? sg_put_js_string(c, group) : c->empty;

    r->is_experiment_group = sg_truthy(sg_get(j,
                                                       "isExperimentGroup"));

    delegate = sg_get(j, "configDelegate");
    r->delegate = -1;
    r->config_delegate = c->empty;
    if (delegate != NULL && !sg_is(delegate, NULL)) {
        r->has_delegate = 1;
        r->config_delegate = sg_put_js_string(c, delegate);
        r->delegate = sg_find_spec(c, STATSIG_KIND_CONFIG,
                                   sg_blob_str(c, r->config_delegate),
                                   r->config_delegate.len);
    }

    r->return_value = sg_put_config_value(c, sg_get(j,
                                                             "returnValue"));
    if (c->blob.failed) {
        return -1;
    }

    conds = sg_get(j, "conditions");
    n = sg_is(conds, ARRAY) ? statsig_jarray_size(conds) : 0;

    if (conds != NULL && !sg_is(conds, NULL) && !sg_is(conds, ARRAY)) {
        sg_fail(c, "\"conditions\" is not an array");
        return -1;
    }

    cs = calloc(n ? n : 1, sizeof(sg_cond_t));
    if (cs == NULL) {
        c->blob.failed = 1;
        return -1;
    }

    r->pure = 1;

    for (i = 0; i < n; i++) {
        c->at_cond = (long) i;

        if (sg_put_cond(c, statsig_jarray_get(conds, i), &cs[i]) != 0) {
            free(cs);
            return -1;
        }

        cs[i].rule = (uint32_t) index;
        r->pure &= (uint8_t) sg_cond_is_pure(&cs[i]);
    }

    if (n > 0) {
        cs[n - 1].flags |= SG_CF_LAST;
    }

    /* a rule taken whole, or one that passes with nothing to check */
    if ((!r->pure && sg_flow_mark(c, flow, SG_FAST_IMPURE, index) != 0)
        || (n == 0 && sg_flow_mark(c, flow, SG_FAST_PUBLIC, index) != 0))
    {
        free(cs);
        return -1;
    }

    r->conds = (uint32_t) (flow->n - (n == 0));
    r->n_conds = (uint32_t) n;

    if (n > 0) {
        p = sg_flow_add(c, flow, n);
        if (p == NULL) {
            free(cs);
            return -1;
        }

        memcpy(p, cs, n * sizeof(sg_cond_t));
    }

    free(cs);

    (void) kind;

    return 0;
}


static const struct {
    const char  *name;
    uint8_t      code;
} sg_entities[] = {
    { "feature_gate", STATSIG_ENTITY_FEATURE_GATE },
    { "holdout", STATSIG_ENTITY_HOLDOUT },
    { "segment", STATSIG_ENTITY_SEGMENT },
    { "dynamic_config", STATSIG_ENTITY_DYNAMIC_CONFIG },
    { "experiment", STATSIG_ENTITY_EXPERIMENT },
    { "autotune", STATSIG_ENTITY_AUTOTUNE },
    { "layer", STATSIG_ENTITY_LAYER }
};


static sg_sref_t
sg_put_var_name(sg_compiler_t *c, sg_sref_t name)
{
    const unsigned char  *p, *end;
    char                 *tmp;
    size_t                n;
    sg_sref_t             r;

    tmp = malloc(name.len + 1);
    if (tmp == NULL) {
        c->blob.failed = 1;
        return c->empty;
    }

    p = (const unsigned char *) c->blob.data + name.off;
    end = p + name.len;
    n = 0;

    while (p < end) {
        if (*p >= 'A' && *p <= 'Z') {
            tmp[n++] = (char) (*p + 32);

        } else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                   || *p == '_')
        {
            tmp[n++] = (char) *p;

        } else if ((*p & 0xC0) != 0x80) {
            /* one '_' per character, not per byte */
            tmp[n++] = '_';
        }

        p++;
    }

    r = sg_put_str(c, tmp, n);
    free(tmp);

    return r;
}


/* spec->hot: the loop's entry of each of the flow's n, already written */
static int
sg_put_hot(sg_compiler_t *c, size_t n, statsig_spec_t *s)
{
    const sg_cond_t  *f;
    sg_hot_t         *h;
    size_t            off, i;

    off = statsig_buf_reserve(&c->blob, n * sizeof(sg_hot_t), 64);
    if (off == (size_t) -1) {
        return -1;
    }

    f = (const sg_cond_t *) (c->blob.data + s->flow);
    h = (sg_hot_t *) (c->blob.data + off);

    for (i = 0; i < n; i++) {
        sg_hot_of(&h[i], &f[i]);
    }

    s->hot = (uint32_t) off;

    return 0;
}


static int
sg_put_spec(sg_compiler_t *c, const statsig_jnode_t *j, statsig_kind_e kind,
    size_t index, statsig_spec_t *s)
{
    const statsig_jnode_t  *rules, *entity, *version, *ex, *apps;
    sg_rule_t              *rs;
    sg_flow_t               flow;
    size_t                  off, i, n;

    memset(s, 0, sizeof(*s));

    c->at_kind = (int) kind;
    c->at_spec = (long) index;
    c->at_name = NULL;
    c->at_rule = -1;
    c->at_cond = -1;

    if (!sg_is(j, OBJECT)) {
        sg_fail(c, "spec is not an object");
        return -1;
    }

    s->kind = (uint8_t) kind;
    s->name = sg_put_js_string(c, sg_get(j, "name"));
    s->var_name = sg_put_var_name(c, s->name);
    s->salt = sg_put_js_string(c, sg_get(j, "salt"));
    s->enabled = (uint8_t) sg_truthy(sg_get(j, "enabled"));

    if (sg_is(sg_get(j, "name"), STRING)) {
        c->at_name = statsig_jstring(sg_get(j, "name"));
    }

    s->has_id_type = sg_get(j, "idType") != NULL
                     && !sg_is(sg_get(j, "idType"), NULL);
    s->id_type = s->has_id_type
                 ? sg_put_js_string(c, sg_get(j, "idType"))
                 : c->empty;

    entity = sg_get(j, "entity");
    s->entity = (kind == STATSIG_KIND_GATE) ? STATSIG_ENTITY_FEATURE_GATE
                : (kind == STATSIG_KIND_LAYER) ? STATSIG_ENTITY_LAYER
                : STATSIG_ENTITY_DYNAMIC_CONFIG;
    if (sg_is(entity, STRING)) {
        s->entity = STATSIG_ENTITY_OTHER;
        for (i = 0; i < sizeof(sg_entities) / sizeof(sg_entities[0]); i++) {
            if (strcmp(statsig_jstring(entity), sg_entities[i].name) == 0) {
                s->entity = sg_entities[i].code;
            }
        }
    }

    s->is_active = sg_is(sg_get(j, "isActive"), TRUE);
    s->has_shared_params = sg_is(sg_get(j, "hasSharedParams"), TRUE);

    version = sg_get(j, "version");
    if (sg_is(version, NUMBER)) {
        s->has_version = 1;
        s->version = statsig_jnumber(version);
    }

    ex = sg_get(j, "explicitParameters");
    s->has_explicit_params = sg_is(ex, ARRAY);
    s->explicit_params = sg_put_strlist(c, ex);

    apps = sg_get(j, "targetAppIDs");
    s->has_target_apps = sg_is(apps, ARRAY);
    s->target_apps = sg_put_strlist(c, apps);

    s->default_value = sg_put_config_value(c, sg_get(j,
                                                              "defaultValue"));
    s->layer = c->empty;

    rules = sg_get(j, "rules");
    if (!sg_is(rules, ARRAY)) {
        sg_fail(c, "\"rules\" is missing or not an array");
        return -1;
    }

    n = statsig_jarray_size(rules);
    rs = calloc(n ? n : 1, sizeof(sg_rule_t));
    if (rs == NULL) {
        c->blob.failed = 1;
        return -1;
    }

    memset(&flow, 0, sizeof(flow));

    for (i = 0; i < n; i++) {
        if (sg_put_rule(c, statsig_jarray_get(rules, i), kind, &rs[i], i,
                        &flow)
            != 0)
        {
            free(flow.conds);
            free(rs);
            return -1;
        }
    }

    if (sg_flow_mark(c, &flow, SG_FAST_END, n) != 0) {
        free(flow.conds);
        free(rs);
        return -1;
    }

    off = sg_put_array(c, flow.conds, flow.n, sizeof(sg_cond_t),
                       SG_COND_ALIGN);
    if (off == (size_t) -1) {
        free(rs);
        return -1;
    }

    s->flow = (uint32_t) off;

    if (sg_put_hot(c, flow.n, s) != 0) {
        free(rs);
        return -1;
    }

    for (i = 0; i < n; i++) {
        rs[i].conds = (uint32_t) (off + rs[i].conds * sizeof(sg_cond_t));
        if (sg_empty_unit_pass(c, s, &rs[i]) != 0) {
            free(rs);
            return -1;
        }
    }

    off = sg_put_array(c, rs, n, sizeof(sg_rule_t), 8);
    if (off == (size_t) -1) {
        return -1;
    }

    s->rules = (uint32_t) off;
    s->n_rules = (uint32_t) n;

    return c->blob.failed ? -1 : 0;
}


static int
sg_put_specs(sg_compiler_t *c, statsig_kind_e kind, sg_header_t *h)
{
    statsig_spec_t  *specs;
    size_t           off, i, n;

    n = statsig_jarray_size(c->lists[kind]);
    specs = calloc(n ? n : 1, sizeof(statsig_spec_t));
    if (specs == NULL) {
        c->blob.failed = 1;
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (sg_put_spec(c, statsig_jarray_get(c->lists[kind], i), kind, i,
                        &specs[i]) != 0)
        {
            free(specs);
            return -1;
        }
    }

    c->at_kind = -1;

    off = sg_put_array(c, specs, n, sizeof(statsig_spec_t), 8);
    if (off == (size_t) -1) {
        return -1;
    }

    h->specs[kind] = (uint32_t) off;
    h->n_specs[kind] = (uint32_t) n;

    h->name_index[kind] = sg_put_index(c, off
                                       + offsetof(statsig_spec_t, name),
                                       sizeof(statsig_spec_t), n, 1);
    h->var_index[kind] = sg_put_index(c, off
                                      + offsetof(statsig_spec_t, var_name),
                                      sizeof(statsig_spec_t), n, 0);

    return c->blob.failed ? -1 : 0;
}


/* "layers": {layer: [experiment, ...]} -> each experiment's layer. */
static void
sg_put_layers(sg_compiler_t *c, const statsig_jnode_t *layers, sg_header_t *h)
{
    const statsig_jmember_t  *m;
    const statsig_jnode_t    *exps, *e;
    size_t                    i, k;
    sg_sref_t                 ln;
    uint32_t                  hit;
    statsig_spec_t           *spec;

    if (!sg_is(layers, OBJECT)) {
        return;
    }

    for (k = 0; k < layers->n; k++) {
        m = &layers->u.members[k];
        exps = &m->value;
        if (!sg_is(exps, ARRAY)) {
            continue;
        }

        ln = sg_put_str(c, m->key, m->keylen);

        for (i = 0; i < exps->n; i++) {
            e = &exps->u.items[i];
            c->text.len = 0;
            statsig_jtree_js_string(&c->text, e, SG_MAX_JSON_DEPTH);

            hit = statsig_index_find(c->blob.data, h->name_index[1],
                                     SG_AT(c->blob.data, h->specs[1], char)
                                     + offsetof(statsig_spec_t, name),
                                     sizeof(statsig_spec_t),
                                     c->text.data ? c->text.data : "",
                                     c->text.len);
            if (hit) {
                spec = (statsig_spec_t *) (c->blob.data + h->specs[1])
                       + (hit - 1);
                spec->layer = ln;
                spec->has_layer = 1;
            }
        }
    }
}


/*
 * The gates a pass_gate or fail_gate condition reads: their answers are
 * remembered for the session when read at the top too (gate_memo.c).
 */
static void
sg_put_gate_targets(sg_compiler_t *c, const sg_header_t *h)
{
    statsig_spec_t   *gates, *specs;
    const sg_rule_t  *rules;
    const sg_cond_t  *conds;
    uint32_t          k, i, r, n;

    if (c->blob.failed) {
        return;
    }

    gates = (statsig_spec_t *) (c->blob.data + h->specs[STATSIG_KIND_GATE]);

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        specs = (statsig_spec_t *) (c->blob.data + h->specs[k]);

        for (i = 0; i < h->n_specs[k]; i++) {
            rules = (const sg_rule_t *) (c->blob.data + specs[i].rules);

            for (r = 0; r < specs[i].n_rules; r++) {
                conds = (const sg_cond_t *) (c->blob.data + rules[r].conds);

                for (n = 0; n < rules[r].n_conds; n++) {
                    if ((conds[n].type == SG_COND_PASS_GATE
                         || conds[n].type == SG_COND_FAIL_GATE)
                        && conds[n].gate >= 0)
                    {
                        gates[conds[n].gate].gate_target = 1;
                    }
                }
            }
        }
    }
}


static uint32_t
sg_put_optional_json(sg_compiler_t *c, const statsig_jnode_t *root,
    const char *key)
{
    const statsig_jnode_t  *v;

    v = sg_get(root, key);
    if (v == NULL || sg_is(v, NULL)) {
        return 0;
    }

    return sg_put_json(c, v, 0);
}


static void
sg_put_optional_str(sg_compiler_t *c, const statsig_jnode_t *root,
    const char *key, sg_sref_t *out, uint8_t *has)
{
    const statsig_jnode_t  *v;

    v = sg_get(root, key);
    *out = c->empty;

    if (v == NULL || sg_is(v, NULL)) {
        if (has) {
            *has = 0;
        }

        return;
    }

    *out = sg_put_js_string(c, v);
    if (has) {
        *has = 1;
    }
}


struct statsig_compile_mem_s {
    statsig_jtree_t  *tree;
    statsig_buf_t     blob;
    statsig_buf_t     text;
    int               no_updates;     /* of the last document */
};


statsig_compile_mem_t *
statsig_compile_mem_create(void)
{
    statsig_compile_mem_t  *m;

    m = malloc(sizeof(statsig_compile_mem_t));
    if (m == NULL) {
        return NULL;
    }

    m->tree = statsig_jtree_create();
    if (m->tree == NULL) {
        free(m);
        return NULL;
    }

    statsig_buf_init(&m->blob);
    statsig_buf_init(&m->text);
    m->no_updates = 0;

    return m;
}


int
statsig_compile_mem_no_updates(const statsig_compile_mem_t *m)
{
    return m->no_updates;
}


/*
 * The question as it was asked of jansson: json_loadb() with no flags,
 * then "has_updates" false.  Only for a text the tree refused that holds
 * a NUL byte: jansson skips one right after a number where the tree
 * stops (see jtree.h), and no other text it refused can load.
 */
static int
sg_no_updates_jansson(const char *json, size_t len)
{
    json_t        *root;
    json_error_t   jerr;
    int            no;

    root = json_loadb(json, len, 0, &jerr);
    no = json_is_object(root)
         && json_is_false(json_object_get(root, "has_updates"));
    json_decref(root);

    return no;
}


/*
 * {"has_updates":false}: the tree holds it if it parsed; jansson without
 * flags (what the fetcher asked before) would also have refused a \u0000
 * in a string and an integer past long long, which the tree took
 */
static int
sg_no_updates(const statsig_jnode_t *root, const char *json, size_t len)
{
    if (root == NULL) {
        return len && memchr(json, '\0', len) != NULL
               && sg_no_updates_jansson(json, len);
    }

    return sg_is(sg_get(root, "has_updates"), FALSE)
           && statsig_jtree_strict(json, len, NULL, 0);
}


void
statsig_compile_mem_free(statsig_compile_mem_t *m)
{
    if (m) {
        statsig_jtree_free(m->tree);
        statsig_buf_free(&m->blob);
        statsig_buf_free(&m->text);
        free(m);
    }
}


/* the buffers go back to m, grown if they grew */
static void
sg_compile_cleanup(sg_compiler_t *c, statsig_compile_mem_t *m,
    sg_names_t *names)
{
    size_t  k;

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        sg_names_free(&names[k], c->lists[k]
                                 ? statsig_jarray_size(c->lists[k]) : 0);
    }

    m->blob = c->blob;
    m->text = c->text;
    free(c->intern);
    free(c->fkeys);
    free(c->fkey_tab);
}


void *
statsig_compile(const char *json, size_t len, size_t *size, char *err,
    size_t errlen)
{
    void                   *blob;
    statsig_compile_mem_t  *m;

    m = statsig_compile_mem_create();
    if (m == NULL) {
        if (err && errlen) {
            snprintf(err, errlen, "out of memory while compiling specs");
        }

        return NULL;
    }

    blob = (void *) statsig_compile_in(m, json, len, size, err, errlen);
    if (blob) {
        statsig_buf_init(&m->blob);     /* the caller's now */
    }

    statsig_compile_mem_free(m);

    return blob;
}


const void *
statsig_compile_in(statsig_compile_mem_t *m, const char *json, size_t len,
    size_t *size, char *err, size_t errlen)
{
    sg_compiler_t           c;
    const statsig_jnode_t  *root, *t;
    sg_header_t             h;
    size_t                  k, want;
    sg_names_t              names[STATSIG_KIND_COUNT];
    char                    jerr[160];

    memset(&c, 0, sizeof(c));
    memset(names, 0, sizeof(names));
    c.at_kind = -1;
    c.err = err;
    c.errlen = errlen;
    c.blob = m->blob;
    c.blob.len = 0;
    c.blob.failed = 0;
    c.text = m->text;
    c.text.len = 0;
    c.text.failed = 0;

    if (err && errlen) {
        err[0] = '\0';
    }

    if (statsig_jtree_load(m->tree, json, len, &root, jerr, sizeof(jerr))
        != 0)
    {
        m->no_updates = sg_no_updates(NULL, json, len);
        sg_fail(&c, "invalid JSON at %s", jerr);
        return NULL;
    }

    m->no_updates = sg_no_updates(root, json, len);

    if (!sg_is(root, OBJECT)) {
        sg_fail(&c, "the document is not a JSON object");
        goto failed;
    }

    memset(&h, 0, sizeof(h));

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        c.lists[k] = sg_get(root, sg_kind_keys[k]);
        if (!sg_is(c.lists[k], ARRAY)) {
            sg_fail(&c, "\"%s\" is missing or not an array", sg_kind_keys[k]);
            goto failed;
        }
    }

    c.names = names;
    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        if (sg_names_build(&c, c.lists[k], &names[k]) != 0) {
            sg_fail(&c, "out of memory while compiling specs");
            goto failed;
        }
    }

    /* the compiled size is close to the JSON's: one allocation, no copies */
    want = len + len / 2 + 4096;
    if (c.blob.cap < want) {
        free(c.blob.data);
        c.blob.data = malloc(want);
        c.blob.cap = c.blob.data ? want : 0;
    }

    /* the header first, then one empty string at a fixed place */
    statsig_buf_reserve(&c.blob, sizeof(sg_header_t), 8);
    c.empty.off = (uint32_t) statsig_buf_reserve(&c.blob, 1, 1);
    c.empty.len = 0;

    /* SG_FIELD_KEY_IP, _UA, _UA_LOWER: getFromIP and getFromUserAgent */
    (void) sg_put_field_key(&c, sg_put_interned(&c, "ip", 2));
    (void) sg_put_field_key(&c, sg_put_interned(&c, "userAgent", 9));
    (void) sg_put_field_key(&c, sg_put_interned(&c, "useragent", 9));

    h.has_updates = (uint8_t) sg_truthy(sg_get(root, "has_updates"));

    t = sg_get(root, "time");
    h.time = sg_is(t, NUMBER) ? statsig_jnumber(t) : 0;

    sg_put_optional_str(&c, root, "app_id", &h.app_id, &h.has_app_id);
    sg_put_optional_str(&c, root, "default_environment",
                        &h.default_environment, &h.has_default_environment);
    h.default_environment_lower = sg_put_lower(&c, h.default_environment);
    h.default_environment_num =
        statsig_js_to_number(c.blob.data + h.default_environment.off,
                             h.default_environment.len);
    sg_put_optional_str(&c, root, "hashed_sdk_key_used",
                        &h.hashed_sdk_key_used, NULL);

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        if (sg_put_specs(&c, (statsig_kind_e) k, &h) != 0) {
            goto failed;
        }
    }

    sg_put_layers(&c, sg_get(root, "layers"), &h);
    sg_put_gate_targets(&c, &h);

    h.sdk_keys_to_app_ids = sg_put_optional_json(&c, root,
                                                 "sdk_keys_to_app_ids");
    h.hashed_sdk_keys_to_app_ids =
        sg_put_optional_json(&c, root, "hashed_sdk_keys_to_app_ids");
    h.hashed_sdk_keys_to_entities =
        sg_put_optional_json(&c, root, "hashed_sdk_keys_to_entities");
    h.session_replay_info = sg_put_optional_json(&c, root,
                                                 "session_replay_info");
    sg_put_field_keys(&c, &h);

    if (c.blob.failed) {
        goto failed;
    }

    if (c.blob.len > 0xFFFFFFF0u) {
        sg_fail(&c, "compiled specs exceed 4 GB");
        goto failed;
    }

    h.magic = STATSIG_SNAPSHOT_MAGIC;
    h.version = STATSIG_SNAPSHOT_VERSION;
    h.size = (uint32_t) c.blob.len;
    memcpy(c.blob.data, &h, sizeof(h));

    sg_compile_cleanup(&c, m, names);

    *size = c.blob.len;

    return c.blob.data;

failed:

    if (err && errlen && err[0] == '\0') {
        c.at_kind = -1;
        sg_fail(&c, "out of memory while compiling specs");
    }

    sg_compile_cleanup(&c, m, names);

    return NULL;
}
