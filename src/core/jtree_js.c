/*
 * A parsed JSON value as JavaScript sees it: property order, String(v),
 * JSON.stringify(v).
 */

#include <stdlib.h>

#include "jsnum.h"
#include "jtree_js.h"


int
statsig_js_array_index(const char *k, size_t len)
{
    size_t  i;
    double  v;

    if (len == 0 || len > 10 || (len > 1 && k[0] == '0')) {
        return 0;
    }

    v = 0;
    for (i = 0; i < len; i++) {
        if (k[i] < '0' || k[i] > '9') {
            return 0;
        }

        v = v * 10 + (k[i] - '0');
    }

    return v < 4294967295.0;
}


static int
statsig_jkey_cmp(const void *a, const void *b)
{
    const statsig_jkey_t  *x = a, *y = b;

    return (x->index > y->index) - (x->index < y->index);
}


statsig_jkey_t *
statsig_jobject_keys(const statsig_jnode_t *o, size_t *n)
{
    statsig_jkey_t           *keys;
    const statsig_jmember_t  *m;
    size_t                    i, nidx;

    *n = statsig_jobject_size(o);
    keys = malloc((*n ? *n : 1) * sizeof(statsig_jkey_t));
    if (keys == NULL) {
        return NULL;
    }

    nidx = 0;
    for (i = 0; i < *n; i++) {
        m = &o->u.members[i];
        keys[i].key = m->key;
        keys[i].len = m->keylen;
        keys[i].value = &m->value;
        keys[i].index = statsig_js_array_index(m->key, m->keylen)
                        ? strtod(m->key, NULL) : -1;
        nidx += (keys[i].index >= 0);
    }

    if (nidx) {
        /* stable: insertion order among the rest via a second key */
        for (i = 0; i < *n; i++) {
            if (keys[i].index < 0) {
                keys[i].index = 4294967296.0 + (double) i;
            }
        }

        qsort(keys, *n, sizeof(statsig_jkey_t), statsig_jkey_cmp);
    }

    return keys;
}


void
statsig_jtree_js_string(statsig_buf_t *b, const statsig_jnode_t *v,
    int depth)
{
    char    tmp[STATSIG_NUMBER_STR_SIZE];
    size_t  i, n;

    if (v == NULL) {
        statsig_buf_adds(b, "undefined");
        return;
    }

    switch (v->type) {
    case STATSIG_JT_STRING:
        statsig_buf_add(b, statsig_jstring(v), statsig_jstring_len(v));
        break;
    case STATSIG_JT_NUMBER:
        n = statsig_js_number_to_string(statsig_jnumber(v), tmp);
        statsig_buf_add(b, tmp, n);
        break;
    case STATSIG_JT_TRUE:
        statsig_buf_adds(b, "true");
        break;
    case STATSIG_JT_FALSE:
        statsig_buf_adds(b, "false");
        break;
    case STATSIG_JT_NULL:
        statsig_buf_adds(b, "null");
        break;
    case STATSIG_JT_ARRAY:
        if (depth < 0) {
            b->failed = 1;
            return;
        }

        /* Array.prototype.join: null items are empty */
        for (i = 0; i < statsig_jarray_size(v); i++) {
            if (i) {
                statsig_buf_addc(b, ',');
            }

            if (!statsig_jis(statsig_jarray_get(v, i), STATSIG_JT_NULL)) {
                statsig_jtree_js_string(b, statsig_jarray_get(v, i),
                                        depth - 1);
            }
        }

        break;
    default:
        statsig_buf_adds(b, "[object Object]");
    }
}


void
statsig_jtree_stringify(statsig_buf_t *b, const statsig_jnode_t *v,
    int depth)
{
    statsig_jkey_t  *keys;
    size_t           i, n;

    if (depth < 0) {
        b->failed = 1;
        return;
    }

    switch (v->type) {
    case STATSIG_JT_OBJECT:
        keys = statsig_jobject_keys(v, &n);
        if (keys == NULL) {
            b->failed = 1;
            return;
        }

        statsig_buf_addc(b, '{');
        for (i = 0; i < n; i++) {
            if (i) {
                statsig_buf_addc(b, ',');
            }

            statsig_buf_json_str(b, keys[i].key, keys[i].len);
            statsig_buf_addc(b, ':');
            statsig_jtree_stringify(b, keys[i].value, depth - 1);
        }

        statsig_buf_addc(b, '}');
        free(keys);
        break;

    case STATSIG_JT_ARRAY:
        statsig_buf_addc(b, '[');
        for (i = 0; i < statsig_jarray_size(v); i++) {
            if (i) {
                statsig_buf_addc(b, ',');
            }

            statsig_jtree_stringify(b, statsig_jarray_get(v, i), depth - 1);
        }

        statsig_buf_addc(b, ']');
        break;

    case STATSIG_JT_STRING:
        statsig_buf_json_str(b, statsig_jstring(v), statsig_jstring_len(v));
        break;

    case STATSIG_JT_NUMBER:
        statsig_buf_json_num(b, statsig_jnumber(v));
        break;

    case STATSIG_JT_TRUE:
        statsig_buf_adds(b, "true");
        break;

    case STATSIG_JT_FALSE:
        statsig_buf_adds(b, "false");
        break;

    default:
        statsig_buf_adds(b, "null");
    }
}
