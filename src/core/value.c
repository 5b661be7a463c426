/*
 * Values as statsig-node sees them, with their JavaScript conversions
 * computed when they are built.
 */

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "statsig_value.h"
#include "hash.h"
#include "jsnum.h"
#include "jsstr.h"


#define STATSIG_MAX_NESTING  64


const statsig_value_t  statsig_value_undefined = {
    STATSIG_V_UNDEFINED, 0, 0, NAN, "undefined", 9, "undefined", 9,
    NULL, NULL, NULL, 0,
    /* statsig_str_hash("undefined"): constants are never written to */
    0x24e36cc1fde4a2c6ULL, 0x24e36cc1fde4a2c6ULL
};


static char *
statsig_value_dup(const statsig_alloc_t *a, const char *s, size_t len)
{
    char  *p;

    p = a->alloc(a->data, len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


/* Fills lower/lower_len from str/len, sharing the bytes when unchanged. */
static int
statsig_value_set_lower(const statsig_alloc_t *a, statsig_value_t *v)
{
    char  *p;

    /* hash and lower_hash stay 0: set lookups hash what they read */

    if (statsig_js_is_lower(v->str, v->len)) {
        v->lower = v->str;
        v->lower_len = v->len;
        return 0;
    }

    p = a->alloc(a->data, statsig_js_lower_size(v->len));
    if (p == NULL) {
        return -1;
    }

    v->lower = p;
    v->lower_len = statsig_js_lower(v->str, v->len, p);

    return 0;
}


int
statsig_value_string(const statsig_alloc_t *a, const char *s, size_t len,
    statsig_value_t *out)
{
    s = statsig_value_dup(a, s, len);
    if (s == NULL) {
        return -1;
    }

    return statsig_value_string_ref(a, s, len, out);
}


int
statsig_value_string_ref(const statsig_alloc_t *a, const char *s, size_t len,
    statsig_value_t *out)
{
    memset(out, 0, sizeof(*out));
    out->type = STATSIG_V_STRING;
    out->str = s;
    out->len = len;
    out->num = statsig_js_to_number(s, len);

    return statsig_value_set_lower(a, out);
}


int
statsig_value_string_lazy(const statsig_alloc_t *a, const char *s,
    size_t len, statsig_value_t *out)
{
    char  *room;

    room = a->alloc(a->data, statsig_js_lower_size(len));
    if (room == NULL) {
        return -1;
    }

    statsig_value_string_lazy_room(s, len, room, out);

    return 0;
}


void
statsig_value_string_lazy_room(const char *s, size_t len, char *room,
    statsig_value_t *out)
{
    /* hash and lower_hash stay 0: set lookups hash what they read */
    memset(out, 0, sizeof(*out));
    out->type = STATSIG_V_STRING;
    out->str = s;
    out->len = len;
    out->num = NAN;
    out->lower = room;
    out->pending = STATSIG_PENDING_NUM | STATSIG_PENDING_LOWER;
}


void
statsig_value_settle(const statsig_value_t *v, unsigned needs)
{
    statsig_value_t  *w;

    w = (statsig_value_t *) v;
    needs &= v->pending;

    if (needs & STATSIG_PENDING_NUM) {
        w->num = statsig_js_to_number(v->str, v->len);
    }

    if (needs & STATSIG_PENDING_LOWER) {
        /* a string in lower case already shares its bytes (one probe of
         * a set for both); the room stays unused */
        if (statsig_js_is_lower(v->str, v->len)) {
            w->lower = v->str;
            w->lower_len = v->len;

        } else {
            w->lower_len = statsig_js_lower(v->str, v->len,
                                            (char *) v->lower);
        }
    }

    w->pending &= (uint8_t) ~needs;
}


int
statsig_value_number(const statsig_alloc_t *a, double num,
    statsig_value_t *out)
{
    char    tmp[STATSIG_NUMBER_STR_SIZE];
    size_t  n;

    memset(out, 0, sizeof(*out));
    out->type = STATSIG_V_NUMBER;
    out->num = num;

    n = statsig_js_number_to_string(num, tmp);
    out->str = statsig_value_dup(a, tmp, n);
    if (out->str == NULL) {
        return -1;
    }

    out->len = n;

    /* "NaN" and "Infinity" have capitals */
    return statsig_value_set_lower(a, out);
}


void
statsig_value_bool(int b, statsig_value_t *out)
{
    memset(out, 0, sizeof(*out));
    out->type = STATSIG_V_BOOL;
    out->b = b ? 1 : 0;
    out->num = b ? 1 : 0;
    out->str = b ? "true" : "false";
    out->len = b ? 4 : 5;
    out->lower = out->str;
    out->lower_len = out->len;
}


void
statsig_value_null(statsig_value_t *out)
{
    memset(out, 0, sizeof(*out));
    out->type = STATSIG_V_NULL;
    out->num = 0;
    out->str = "null";
    out->len = 4;
    out->lower = out->str;
    out->lower_len = 4;
}


/* Array.prototype.join(","): null and undefined elements are empty. */
int
statsig_value_array(const statsig_alloc_t *a, statsig_value_t *items,
    size_t n, statsig_value_t *out)
{
    size_t   i, len;
    char    *p;

    memset(out, 0, sizeof(*out));
    out->type = STATSIG_V_ARRAY;
    out->items = items;
    out->n = n;

    len = 0;
    for (i = 0; i < n; i++) {
        len += (i ? 1 : 0);
        if (!statsig_value_nullish(&items[i])) {
            len += items[i].len;
        }
    }

    p = a->alloc(a->data, len + 1);
    if (p == NULL) {
        return -1;
    }

    out->str = p;
    out->len = len;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }

        if (!statsig_value_nullish(&items[i])) {
            memcpy(p, items[i].str, items[i].len);
            p += items[i].len;
        }
    }

    *p = '\0';
    out->num = statsig_js_to_number(out->str, out->len);

    return statsig_value_set_lower(a, out);
}


int
statsig_value_object(const statsig_alloc_t *a, const char **keys,
    size_t *key_lens, statsig_value_t *values, size_t n,
    statsig_value_t *out)
{
    memset(out, 0, sizeof(*out));
    out->type = STATSIG_V_OBJECT;
    out->num = NAN;
    out->str = "[object Object]";
    out->len = 15;
    out->lower = "[object object]";
    out->lower_len = 15;
    out->items = values;
    out->keys = keys;
    out->key_lens = key_lens;
    out->n = n;

    (void) a;

    return 0;
}


static int
statsig_value_from_jansson(const statsig_alloc_t *a, json_t *j,
    statsig_value_t *out, int depth)
{
    statsig_value_t  *items;
    const char      **keys, *k;
    size_t           *lens, i, n;
    json_t           *v;
    int               rc;

    if (depth > STATSIG_MAX_NESTING) {
        return -2;
    }

    switch (json_typeof(j)) {

    case JSON_STRING:
        return statsig_value_string(a, json_string_value(j),
                                    json_string_length(j), out);

    case JSON_INTEGER:
        return statsig_value_number(a, (double) json_integer_value(j), out);

    case JSON_REAL:
        return statsig_value_number(a, json_real_value(j), out);

    case JSON_TRUE:
    case JSON_FALSE:
        statsig_value_bool(json_is_true(j), out);
        return 0;

    case JSON_NULL:
        statsig_value_null(out);
        return 0;

    case JSON_ARRAY:
        n = json_array_size(j);
        items = a->alloc(a->data, (n ? n : 1) * sizeof(statsig_value_t));
        if (items == NULL) {
            return -1;
        }

        /* -2 (too deep) goes up as it is: it is not "out of memory" */
        for (i = 0; i < n; i++) {
            rc = statsig_value_from_jansson(a, json_array_get(j, i),
                                            &items[i], depth + 1);
            if (rc != 0) {
                return rc;
            }
        }

        return statsig_value_array(a, items, n, out);

    default: /* JSON_OBJECT */
        n = json_object_size(j);
        items = a->alloc(a->data, (n ? n : 1) * sizeof(statsig_value_t));
        keys = a->alloc(a->data, (n ? n : 1) * sizeof(char *));
        lens = a->alloc(a->data, (n ? n : 1) * sizeof(size_t));
        if (items == NULL || keys == NULL || lens == NULL) {
            return -1;
        }

        i = 0;
        json_object_foreach(j, k, v) {
            lens[i] = strlen(k);
            keys[i] = statsig_value_dup(a, k, lens[i]);
            if (keys[i] == NULL) {
                return -1;
            }

            rc = statsig_value_from_jansson(a, v, &items[i], depth + 1);
            if (rc != 0) {
                return rc;
            }

            i++;
        }

        return statsig_value_object(a, keys, lens, items, n, out);
    }
}


int
statsig_value_from_json(const statsig_alloc_t *a, const char *json,
    size_t len, statsig_value_t *out, char *err, size_t errlen)
{
    json_t        *j;
    json_error_t   e;
    int            rc;

    j = json_loadb(json, len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &e);
    if (j == NULL) {
        snprintf(err, errlen, "bad JSON at line %d column %d: %s",
                 e.line, e.column, e.text);
        return -1;
    }

    rc = statsig_value_from_jansson(a, j, out, 0);
    json_decref(j);

    if (rc == -2) {
        snprintf(err, errlen, "value nested deeper than %d levels",
                 STATSIG_MAX_NESTING);
        return -1;
    }

    if (rc != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return 0;
}


const statsig_value_t *
statsig_value_get(const statsig_value_t *obj, const char *key, size_t len)
{
    size_t  i;

    if (obj == NULL || obj->type != STATSIG_V_OBJECT) {
        return NULL;
    }

    /* JSON.parse keeps the last of duplicate keys */
    for (i = obj->n; i-- > 0; ) {
        if (obj->key_lens[i] == len
            && (len == 0 || obj->keys[i][0] == key[0])
            && statsig_mem_eq(obj->keys[i], key, len))
        {
            return &obj->items[i];
        }
    }

    return NULL;
}


const statsig_value_t *
statsig_value_get_ci(const statsig_value_t *obj, const char *key, size_t len)
{
    char     lk[256], kk[256 * 3 / 2 + 1];
    size_t   i, ll, kl;

    if (obj == NULL || obj->type != STATSIG_V_OBJECT || len >= 170) {
        return NULL;
    }

    ll = statsig_js_lower(key, len, lk);

    for (i = 0; i < obj->n; i++) {
        if (obj->key_lens[i] >= 170) {
            continue;
        }

        kl = statsig_js_lower(obj->keys[i], obj->key_lens[i], kk);
        if (kl == ll && memcmp(kk, lk, ll) == 0) {
            return &obj->items[i];
        }
    }

    return NULL;
}
