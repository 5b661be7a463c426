/*
 * DCS v1 -> DCS v2 (see dcs_v2.h for the mapping).
 *
 * The result is built as JavaScript builds it: objects whose keys are set
 * one by one (sg2_obj_t: a key set again keeps its place and takes the
 * new value), written in JavaScript property order (array indices first,
 * ascending: condition ids are all indices, so condition_map is sorted).
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs_v2.h"
#include "hash.h"
#include "jtree.h"
#include "jtree_js.h"
#include "utf8.h"


/* more than jtree's nesting: whatever parsed can be written */
#define SG2_DEPTH  4096

#define sg2_is(v, type)   statsig_jis(v, STATSIG_JT_ ## type)
#define sg2_get(v, key)   statsig_jobject_get(v, key)


typedef struct {
    size_t    key;          /* offsets into the object's text */
    size_t    klen;
    size_t    val;
    size_t    vlen;
    double    order;        /* index value, or 2^32 + insertion number */
} sg2_member_t;


/* an object under construction: keys and values as text, a hash index */
typedef struct {
    statsig_buf_t   text;
    sg2_member_t   *m;
    size_t          n;
    size_t          cap;
    uint32_t       *slots;  /* member number + 1; 0: empty */
    size_t          mask;
} sg2_obj_t;


typedef struct {
    char           *err;
    size_t          errlen;
    int             failed;
    const char     *at_list;
    size_t          at_spec;
    sg2_obj_t       specs[3];
    sg2_obj_t       conditions;     /* id -> text */
    sg2_obj_t       cond_ids;       /* text -> id */
    sg2_obj_t       layers;
    statsig_buf_t   cond;       /* a condition's text */
    statsig_buf_t   tmp;        /* an additional value's text */
} sg2_t;


static const char  *sg2_lists[3] = {
    "feature_gates", "dynamic_configs", "layer_configs"
};


static int
sg2_fail(sg2_t *c, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    if (c->failed) {
        return -1;
    }

    c->failed = 1;

    if (c->err == NULL || c->errlen == 0) {
        return -1;
    }

    n = 0;
    if (c->at_list != NULL) {
        n = snprintf(c->err, c->errlen, "%s[%zu]: ", c->at_list, c->at_spec);
        if (n < 0 || (size_t) n >= c->errlen) {
            n = 0;
        }
    }

    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - n, fmt, ap);
    va_end(ap);

    return -1;
}


/* JavaScript truthiness of a member (NULL: undefined) */
static int
sg2_truthy(const statsig_jnode_t *v)
{
    if (v == NULL) {
        return 0;
    }

    switch (v->type) {
    case STATSIG_JT_NULL:
    case STATSIG_JT_FALSE:
        return 0;
    case STATSIG_JT_NUMBER:
        return statsig_jnumber(v) != 0;
    case STATSIG_JT_STRING:
        return v->n != 0;
    default:
        return 1;
    }
}


/* ---- objects built key by key ---- */

static void
sg2_obj_init(sg2_obj_t *o)
{
    memset(o, 0, sizeof(*o));
    statsig_buf_init(&o->text);
}


static void
sg2_obj_free(sg2_obj_t *o)
{
    statsig_buf_free(&o->text);
    free(o->m);
    free(o->slots);
}


static uint64_t
sg2_hash(const char *s, size_t len)
{
    uint64_t  h;
    size_t    i;

    h = 14695981039346656037ULL;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
    }

    return h;
}


static int
sg2_obj_grow(sg2_obj_t *o)
{
    size_t         i, j, size;
    uint32_t      *slots;
    sg2_member_t  *m;

    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        m = realloc(o->m, o->cap * sizeof(sg2_member_t));
        if (m == NULL) {
            return -1;
        }

        o->m = m;
    }

    if (o->slots != NULL && (o->n + 1) * 2 <= o->mask + 1) {
        return 0;
    }

    size = o->slots ? (o->mask + 1) * 2 : 32;
    slots = calloc(size, sizeof(uint32_t));
    if (slots == NULL) {
        return -1;
    }

    free(o->slots);
    o->slots = slots;
    o->mask = size - 1;

    for (i = 0; i < o->n; i++) {
        j = sg2_hash(o->text.data + o->m[i].key, o->m[i].klen) & o->mask;
        while (slots[j]) {
            j = (j + 1) & o->mask;
        }

        slots[j] = (uint32_t) (i + 1);
    }

    return 0;
}


/* the member of key k (klen bytes, anywhere), or NULL */
static sg2_member_t *
sg2_obj_find(sg2_obj_t *o, const char *k, size_t klen)
{
    size_t         j;
    sg2_member_t  *m;

    if (o->slots == NULL) {
        return NULL;
    }

    for (j = sg2_hash(k, klen) & o->mask; o->slots[j];
         j = (j + 1) & o->mask)
    {
        m = &o->m[o->slots[j] - 1];

        if (m->klen == klen
            && memcmp(o->text.data + m->key, k, klen) == 0)
        {
            return m;
        }
    }

    return NULL;
}


/*
 * o[key] = value: the key at text offset key (klen bytes), the value's
 * JSON text right after it (to the text's end).  A key set again keeps
 * its place and takes the new value (the old text stays, unused).
 */
static int
sg2_obj_set(sg2_t *c, sg2_obj_t *o, size_t key, size_t klen)
{
    size_t         j, val, vlen;
    const char    *k;
    sg2_member_t  *m;

    if (o->text.failed || sg2_obj_grow(o) != 0) {
        return sg2_fail(c, "out of memory");
    }

    k = o->text.data + key;
    val = key + klen;
    vlen = o->text.len - val;

    m = sg2_obj_find(o, k, klen);

    if (m != NULL) {
        m->val = val;
        m->vlen = vlen;
        return 0;
    }

    m = &o->m[o->n];
    m->key = key;
    m->klen = klen;
    m->val = val;
    m->vlen = vlen;
    m->order = statsig_js_array_index(k, klen)
               ? strtod(k, NULL) : 4294967296.0 + (double) o->n;

    for (j = sg2_hash(k, klen) & o->mask; o->slots[j];
         j = (j + 1) & o->mask)
    {
        /* void */
    }

    o->slots[j] = (uint32_t) ++o->n;

    return 0;
}


static int
sg2_member_cmp(const void *a, const void *b)
{
    const sg2_member_t  *x = a, *y = b;

    return (x->order > y->order) - (x->order < y->order);
}


static void
sg2_obj_write(sg2_obj_t *o, statsig_buf_t *b)
{
    size_t  i;

    if (o->n) {
        qsort(o->m, o->n, sizeof(sg2_member_t), sg2_member_cmp);
    }

    statsig_buf_addc(b, '{');

    for (i = 0; i < o->n; i++) {
        if (i) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_json_str(b, o->text.data + o->m[i].key, o->m[i].klen);
        statsig_buf_addc(b, ':');
        statsig_buf_add(b, o->text.data + o->m[i].val, o->m[i].vlen);
    }

    statsig_buf_addc(b, '}');
}


/* ---- conditions ---- */

/* a key of Object.entries(v) and String(value), as JSON, into b */
static void
sg2_entry(sg2_t *c, statsig_buf_t *b, int *first, const char *key,
    size_t klen, const statsig_jnode_t *v)
{
    if (!*first) {
        statsig_buf_addc(b, ',');
    }

    *first = 0;

    statsig_buf_json_str(b, key, klen);
    statsig_buf_addc(b, ':');

    if (sg2_is(v, STRING)) {
        statsig_buf_json_str(b, statsig_jstring(v), statsig_jstring_len(v));
        return;
    }

    /* typeof v !== 'string': JSON.stringify(v), as a string */
    c->tmp.len = 0;
    statsig_jtree_stringify(&c->tmp, v, SG2_DEPTH);

    if (c->tmp.failed) {
        b->failed = 1;
        return;
    }

    statsig_buf_json_str(b, c->tmp.data, c->tmp.len);
}


/*
 * additionalValues: null or absent -> {}; else Object.entries with the
 * values as strings: an object's members, an array's items, a string's
 * UTF-16 code units (a lone surrogate written escaped, as JSON.stringify
 * writes it), nothing of a number or boolean
 */
static void
sg2_additional(sg2_t *c, statsig_buf_t *b, const statsig_jnode_t *v)
{
    int                   first;
    char                  key[24];
    size_t                i, n, klen;
    statsig_jkey_t       *keys;
    const unsigned char  *p, *end, *start;

    first = 1;
    statsig_buf_addc(b, '{');

    if (sg2_is(v, OBJECT)) {
        keys = statsig_jobject_keys(v, &n);
        if (keys == NULL) {
            b->failed = 1;
            return;
        }

        for (i = 0; i < n; i++) {
            sg2_entry(c, b, &first, keys[i].key, keys[i].len, keys[i].value);
        }

        free(keys);

    } else if (sg2_is(v, ARRAY)) {
        for (i = 0; i < v->n; i++) {
            klen = (size_t) snprintf(key, sizeof(key), "%zu", i);
            sg2_entry(c, b, &first, key, klen, &v->u.items[i]);
        }

    } else if (sg2_is(v, STRING)) {
        p = (const unsigned char *) statsig_jstring(v);
        end = p + statsig_jstring_len(v);

        for (i = 0; p < end; ) {
            start = p;

            if (!first) {
                statsig_buf_addc(b, ',');
            }

            first = 0;
            klen = (size_t) snprintf(key, sizeof(key), "\"%zu\":", i++);
            statsig_buf_add(b, key, klen);

            if (statsig_utf8_next(&p, end) < 0x10000) {
                statsig_buf_json_str(b, (const char *) start, p - start);
                continue;
            }

            /*
             * two code units, each a lone surrogate: JSON.stringify
             * writes "\ud83d", which strict parsers (serde_json in the
             * Rust core) refuse; U+FFFD each instead
             */
            klen = (size_t) snprintf(key, sizeof(key), ",\"%zu\":", i++);
            statsig_buf_adds(b, "\"\xEF\xBF\xBD\"");
            statsig_buf_add(b, key, klen);
            statsig_buf_adds(b, "\"\xEF\xBF\xBD\"");
        }
    }

    statsig_buf_addc(b, '}');
}


/* a member that JSON.stringify writes as null when undefined */
static void
sg2_field(statsig_buf_t *b, const char *name, const statsig_jnode_t *v)
{
    statsig_buf_adds(b, name);

    if (v == NULL) {
        statsig_buf_adds(b, "null");
        return;
    }

    statsig_jtree_stringify(b, v, SG2_DEPTH);
}


/*
 * A condition into condition_map; its id (djb2 of its JSON text, over
 * UTF-16 code units, unsigned) as a JSON string into b.  Anything but an
 * object reads as one without members, as c.type etc. do in JavaScript;
 * null is refused (c.type throws).
 */
static int
sg2_condition(sg2_t *c, statsig_buf_t *b, const statsig_jnode_t *j)
{
    char                    id[48];
    size_t                  key, klen;
    uint32_t                h;
    sg2_member_t           *m;
    statsig_buf_t          *t;
    const statsig_jnode_t  *type, *idt;

    if (sg2_is(j, NULL)) {
        return sg2_fail(c, "a condition is null");
    }

    t = &c->cond;
    t->len = 0;

    statsig_buf_addc(t, '{');

    /* type: undefined is left out by JSON.stringify */
    type = sg2_get(j, "type");
    if (type != NULL) {
        statsig_buf_adds(t, "\"type\":");
        statsig_jtree_stringify(t, type, SG2_DEPTH);
        statsig_buf_addc(t, ',');
    }

    sg2_field(t, "\"targetValue\":", sg2_get(j, "targetValue"));
    sg2_field(t, ",\"operator\":", sg2_get(j, "operator"));
    sg2_field(t, ",\"field\":", sg2_get(j, "field"));
    statsig_buf_adds(t, ",\"additionalValues\":");
    sg2_additional(c, t, sg2_get(j, "additionalValues"));

    idt = sg2_get(j, "idType");
    statsig_buf_adds(t, ",\"idType\":");
    if (idt == NULL || sg2_is(idt, NULL)) {
        statsig_buf_adds(t, "\"userID\"");

    } else {
        statsig_jtree_stringify(t, idt, SG2_DEPTH);
    }

    statsig_buf_addc(t, '}');

    if (t->failed) {
        return sg2_fail(c, "out of memory");
    }

    /* a condition seen before: its id */
    m = sg2_obj_find(&c->cond_ids, t->data, t->len);

    if (m != NULL) {
        statsig_buf_addc(b, '"');
        statsig_buf_add(b, c->cond_ids.text.data + m->val, m->vlen);
        statsig_buf_addc(b, '"');
        return 0;
    }

    /*
     * Two conditions with the same djb2 (convert.js throws; 32 bits, so
     * likely enough in a big document): the later one gets "<djb2>_<n>",
     * n the conditions so far, unused since n only grows
     */
    h = statsig_djb2(t->data, t->len);
    klen = (size_t) snprintf(id, sizeof(id), "%u", (unsigned) h);

    if (sg2_obj_find(&c->conditions, id, klen) != NULL) {
        klen = (size_t) snprintf(id, sizeof(id), "%u_%zu", (unsigned) h,
                                 c->conditions.n);
    }

    key = c->conditions.text.len;
    statsig_buf_add(&c->conditions.text, id, klen);
    statsig_buf_add(&c->conditions.text, t->data, t->len);

    if (sg2_obj_set(c, &c->conditions, key, klen) != 0) {
        return -1;
    }

    key = c->cond_ids.text.len;
    statsig_buf_add(&c->cond_ids.text, t->data, t->len);
    statsig_buf_add(&c->cond_ids.text, id, klen);

    if (sg2_obj_set(c, &c->cond_ids, key, t->len) != 0) {
        return -1;
    }

    statsig_buf_addc(b, '"');
    statsig_buf_add(b, id, klen);
    statsig_buf_addc(b, '"');

    return 0;
}


/* (rule.conditions || []).map(...) */
static int
sg2_conditions(sg2_t *c, statsig_buf_t *b, const statsig_jnode_t *conds)
{
    size_t  i;

    if (!sg2_truthy(conds)) {
        statsig_buf_adds(b, "[]");
        return 0;
    }

    if (!sg2_is(conds, ARRAY)) {
        return sg2_fail(c, "\"conditions\" is not an array");
    }

    statsig_buf_addc(b, '[');

    for (i = 0; i < conds->n; i++) {
        if (i) {
            statsig_buf_addc(b, ',');
        }

        if (sg2_condition(c, b, &conds->u.items[i]) != 0) {
            return -1;
        }
    }

    statsig_buf_addc(b, ']');

    return 0;
}


/* ---- specs ---- */

/* a rule's idType when it has none: spec.idType || 'userID' */
static void
sg2_spec_id_type(statsig_buf_t *b, const statsig_jnode_t *spec_id_type)
{
    if (sg2_truthy(spec_id_type)) {
        statsig_jtree_stringify(b, spec_id_type, SG2_DEPTH);
        return;
    }

    statsig_buf_adds(b, "\"userID\"");
}


/* {...rule}, idType set when null or absent, conditions as ids */
static int
sg2_rule(sg2_t *c, statsig_buf_t *b, const statsig_jnode_t *rule,
    const statsig_jnode_t *spec_id_type)
{
    int              has_id_type, has_conds;
    size_t           i, n;
    statsig_jkey_t  *keys;

    if (!sg2_is(rule, OBJECT)) {
        return sg2_fail(c, "rule is not an object");
    }

    keys = statsig_jobject_keys(rule, &n);
    if (keys == NULL) {
        return sg2_fail(c, "out of memory");
    }

    has_id_type = 0;
    has_conds = 0;

    statsig_buf_addc(b, '{');

    for (i = 0; i < n; i++) {
        if (i) {
            statsig_buf_addc(b, ',');
        }

        statsig_buf_json_str(b, keys[i].key, keys[i].len);
        statsig_buf_addc(b, ':');

        if (keys[i].len == 6 && memcmp(keys[i].key, "idType", 6) == 0) {
            has_id_type = 1;

            if (sg2_is(keys[i].value, NULL)) {
                sg2_spec_id_type(b, spec_id_type);
                continue;
            }

        } else if (keys[i].len == 10
                   && memcmp(keys[i].key, "conditions", 10) == 0)
        {
            has_conds = 1;

            if (sg2_conditions(c, b, keys[i].value) != 0) {
                free(keys);
                return -1;
            }

            continue;
        }

        statsig_jtree_stringify(b, keys[i].value, SG2_DEPTH);
    }

    free(keys);

    /* set afterwards in this order: they come last */
    if (!has_id_type) {
        statsig_buf_adds(b, n ? ",\"idType\":" : "\"idType\":");
        sg2_spec_id_type(b, spec_id_type);
    }

    if (!has_conds) {
        statsig_buf_adds(b, ",\"conditions\":");
        if (sg2_conditions(c, b, NULL) != 0) {
            return -1;
        }
    }

    statsig_buf_addc(b, '}');

    return 0;
}


/* (spec.rules || []).map(...) */
static int
sg2_rules(sg2_t *c, statsig_buf_t *b, const statsig_jnode_t *spec,
    const statsig_jnode_t *rules)
{
    size_t                  i;
    const statsig_jnode_t  *id_type;

    if (!sg2_truthy(rules)) {
        statsig_buf_adds(b, "[]");
        return 0;
    }

    if (!sg2_is(rules, ARRAY)) {
        return sg2_fail(c, "\"rules\" is not an array");
    }

    id_type = sg2_get(spec, "idType");

    statsig_buf_addc(b, '[');

    for (i = 0; i < rules->n; i++) {
        if (i) {
            statsig_buf_addc(b, ',');
        }

        if (sg2_rule(c, b, &rules->u.items[i], id_type) != 0) {
            return -1;
        }
    }

    statsig_buf_addc(b, ']');

    return 0;
}


/* const { name, ...rest } = spec; rest.rules = ...; out[name] = rest */
static int
sg2_spec(sg2_t *c, sg2_obj_t *o, const statsig_jnode_t *spec)
{
    int              first, has_rules;
    size_t           i, n, key, klen;
    statsig_buf_t   *b;
    statsig_jkey_t  *keys;

    if (!sg2_is(spec, OBJECT)) {
        return sg2_fail(c, "spec is not an object");
    }

    b = &o->text;
    key = b->len;
    statsig_jtree_js_string(b, sg2_get(spec, "name"), SG2_DEPTH);
    klen = b->len - key;

    keys = statsig_jobject_keys(spec, &n);
    if (keys == NULL) {
        return sg2_fail(c, "out of memory");
    }

    first = 1;
    has_rules = 0;

    statsig_buf_addc(b, '{');

    for (i = 0; i < n; i++) {
        if (keys[i].len == 4 && memcmp(keys[i].key, "name", 4) == 0) {
            continue;
        }

        if (!first) {
            statsig_buf_addc(b, ',');
        }

        first = 0;

        statsig_buf_json_str(b, keys[i].key, keys[i].len);
        statsig_buf_addc(b, ':');

        if (keys[i].len == 5 && memcmp(keys[i].key, "rules", 5) == 0) {
            has_rules = 1;

            if (sg2_rules(c, b, spec, keys[i].value) != 0) {
                free(keys);
                return -1;
            }

            continue;
        }

        statsig_jtree_stringify(b, keys[i].value, SG2_DEPTH);
    }

    free(keys);

    if (!has_rules) {
        statsig_buf_adds(b, first ? "\"rules\":" : ",\"rules\":");
        if (sg2_rules(c, b, spec, NULL) != 0) {
            return -1;
        }
    }

    statsig_buf_addc(b, '}');

    if (b->failed) {
        return sg2_fail(c, "out of memory");
    }

    return sg2_obj_set(c, o, key, klen);
}


/* (list || []): each spec into o */
static int
sg2_specs(sg2_t *c, const statsig_jnode_t *root, int k)
{
    size_t                  i;
    const statsig_jnode_t  *list;

    list = sg2_get(root, sg2_lists[k]);

    if (!sg2_truthy(list)) {
        return 0;
    }

    if (!sg2_is(list, ARRAY)) {
        return sg2_fail(c, "\"%s\" is not an array", sg2_lists[k]);
    }

    c->at_list = sg2_lists[k];

    for (i = 0; i < list->n; i++) {
        c->at_spec = i;

        if (sg2_spec(c, &c->specs[k], &list->u.items[i]) != 0) {
            return -1;
        }
    }

    c->at_list = NULL;

    return 0;
}


/* "layers" {layer: [experiment, ...]} -> {experiment: layer} */
static int
sg2_layers(sg2_t *c, const statsig_jnode_t *layers)
{
    size_t                  i, k, n, key, klen;
    statsig_jkey_t         *keys;
    statsig_buf_t          *b;
    const statsig_jnode_t  *exps;

    /* as the compiler: anything but an object of arrays is ignored */
    if (!sg2_is(layers, OBJECT)) {
        return 0;
    }

    keys = statsig_jobject_keys(layers, &n);
    if (keys == NULL) {
        return sg2_fail(c, "out of memory");
    }

    b = &c->layers.text;

    for (k = 0; k < n; k++) {
        exps = keys[k].value;

        if (!sg2_is(exps, ARRAY)) {
            continue;
        }

        for (i = 0; i < exps->n; i++) {
            key = b->len;
            statsig_jtree_js_string(b, &exps->u.items[i], SG2_DEPTH);
            klen = b->len - key;
            statsig_buf_json_str(b, keys[k].key, keys[k].len);

            if (sg2_obj_set(c, &c->layers, key, klen) != 0) {
                free(keys);
                return -1;
            }
        }
    }

    free(keys);

    return 0;
}


/* ---- the document ---- */

static int
sg2_is_key(const statsig_jkey_t *k, const char *name)
{
    return k->len == strlen(name) && memcmp(k->key, name, k->len) == 0;
}


static void
sg2_time(statsig_buf_t *b, const statsig_jnode_t *t, double now_ms)
{
    if (sg2_truthy(t)) {
        statsig_jtree_stringify(b, t, SG2_DEPTH);
        return;
    }

    statsig_buf_json_num(b, now_ms);
}


int
statsig_dcs_v2(const char *json, size_t len, double now_ms,
    statsig_buf_t *out, char *err, size_t errlen)
{
    int                     rc, k, seen[5];
    size_t                  i, n;
    sg2_t                   c;
    char                    jerr[256];
    statsig_jkey_t         *keys;
    statsig_jtree_t        *tree;
    const statsig_jnode_t  *root, *hu;

    /* set after the spec maps when the v1 document has none of them */
    static const char  *late[5] = {
        "experiment_to_layer", "condition_map", "has_updates", "time",
        "response_format"
    };

    if (err && errlen) {
        err[0] = '\0';
    }

    memset(&c, 0, sizeof(c));
    c.err = err;
    c.errlen = errlen;

    for (k = 0; k < 3; k++) {
        sg2_obj_init(&c.specs[k]);
    }

    sg2_obj_init(&c.conditions);
    sg2_obj_init(&c.cond_ids);
    sg2_obj_init(&c.layers);
    statsig_buf_init(&c.cond);
    statsig_buf_init(&c.tmp);

    keys = NULL;
    rc = -1;

    tree = statsig_jtree_create();
    if (tree == NULL) {
        sg2_fail(&c, "out of memory");
        goto done;
    }

    if (statsig_jtree_load(tree, json, len, &root, jerr, sizeof(jerr)) != 0)
    {
        sg2_fail(&c, "%s", jerr);
        goto done;
    }

    if (!sg2_is(root, OBJECT)) {
        sg2_fail(&c, "the document is not a JSON object");
        goto done;
    }

    for (k = 0; k < 3; k++) {
        if (sg2_specs(&c, root, k) != 0) {
            goto done;
        }
    }

    if (sg2_layers(&c, sg2_get(root, "layers")) != 0) {
        goto done;
    }

    keys = statsig_jobject_keys(root, &n);
    if (keys == NULL) {
        sg2_fail(&c, "out of memory");
        goto done;
    }

    hu = sg2_get(root, "has_updates");
    memset(seen, 0, sizeof(seen));

    statsig_buf_addc(out, '{');

    for (i = 0; i < n; i++) {
        if (sg2_is_key(&keys[i], "layers")) {
            continue;
        }

        for (k = 0; k < 3; k++) {
            if (sg2_is_key(&keys[i], sg2_lists[k])) {
                break;
            }
        }

        if (k < 3) {
            continue;       /* deleted, then set again: at the end */
        }

        if (out->len > 1) {
            statsig_buf_addc(out, ',');
        }

        statsig_buf_json_str(out, keys[i].key, keys[i].len);
        statsig_buf_addc(out, ':');

        for (k = 0; k < 5; k++) {
            if (sg2_is_key(&keys[i], late[k])) {
                break;
            }
        }

        switch (k) {
        case 0:
            sg2_obj_write(&c.layers, out);
            break;
        case 1:
            sg2_obj_write(&c.conditions, out);
            break;
        case 2:
            statsig_buf_adds(out, sg2_is(hu, FALSE) ? "false" : "true");
            break;
        case 3:
            sg2_time(out, keys[i].value, now_ms);
            break;
        case 4:
            statsig_buf_adds(out, "\"dcs-v2\"");
            break;
        default:
            statsig_jtree_stringify(out, keys[i].value, SG2_DEPTH);
        }

        if (k < 5) {
            seen[k] = 1;
        }
    }

    for (k = 0; k < 3; k++) {
        if (out->len > 1) {
            statsig_buf_addc(out, ',');
        }

        statsig_buf_json_str(out, sg2_lists[k], strlen(sg2_lists[k]));
        statsig_buf_addc(out, ':');
        sg2_obj_write(&c.specs[k], out);
    }

    if (!seen[0]) {
        statsig_buf_adds(out, ",\"experiment_to_layer\":");
        sg2_obj_write(&c.layers, out);
    }

    if (!seen[1]) {
        statsig_buf_adds(out, ",\"condition_map\":");
        sg2_obj_write(&c.conditions, out);
    }

    if (!seen[2]) {
        statsig_buf_adds(out, sg2_is(hu, FALSE) ? ",\"has_updates\":false"
                                                : ",\"has_updates\":true");
    }

    if (!seen[3]) {
        statsig_buf_adds(out, ",\"time\":");
        sg2_time(out, sg2_get(root, "time"), now_ms);
    }

    if (!seen[4]) {
        statsig_buf_adds(out, ",\"response_format\":\"dcs-v2\"");
    }

    statsig_buf_addc(out, '}');

    if (out->failed) {
        sg2_fail(&c, "out of memory");
        goto done;
    }

    rc = 0;

done:

    free(keys);
    statsig_jtree_free(tree);

    for (k = 0; k < 3; k++) {
        sg2_obj_free(&c.specs[k]);
    }

    sg2_obj_free(&c.conditions);
    sg2_obj_free(&c.cond_ids);
    sg2_obj_free(&c.layers);
    statsig_buf_free(&c.cond);
    statsig_buf_free(&c.tmp);

    return rc;
}
