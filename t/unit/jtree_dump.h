/*
 * jtree.c beside jansson, for t/unit/test_jtree.c and fuzz/fuzz_jtree.c:
 * both trees dumped to one canonical form (member order, number bits,
 * string bytes) and compared.
 */

#ifndef STATSIG_JTREE_DUMP_H
#define STATSIG_JTREE_DUMP_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "jtree.h"


static void
dump_fmt(bytes_t *d, const char *tag, uint64_t v)
{
    char  tmp[40];
    int   n;

    n = snprintf(tmp, sizeof(tmp), "%s%llx:", tag, (unsigned long long) v);
    bytes_add(d, tmp, (size_t) n);
}


static void
dump_num(bytes_t *d, double v)
{
    uint64_t  bits;

    memcpy(&bits, &v, sizeof(bits));
    dump_fmt(d, "d", bits);
}


static void
dump_jansson(bytes_t *d, json_t *v)
{
    const char  *k;
    json_t      *m;
    size_t       i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        dump_fmt(d, "o", json_object_size(v));
        json_object_foreach(v, k, m) {
            dump_fmt(d, "k", strlen(k));
            bytes_add(d, k, strlen(k));
            dump_jansson(d, m);
        }
        break;
    case JSON_ARRAY:
        dump_fmt(d, "a", json_array_size(v));
        for (i = 0; i < json_array_size(v); i++) {
            dump_jansson(d, json_array_get(v, i));
        }
        break;
    case JSON_STRING:
        dump_fmt(d, "s", json_string_length(v));
        bytes_add(d, json_string_value(v), json_string_length(v));
        break;
    case JSON_REAL:
        dump_num(d, json_real_value(v));
        break;
    case JSON_INTEGER:
        bytes_adds(d, "INTEGER");      /* never, with INT_AS_REAL */
        break;
    case JSON_TRUE:
        bytes_adds(d, "t");
        break;
    case JSON_FALSE:
        bytes_adds(d, "f");
        break;
    default:
        bytes_adds(d, "n");
    }
}


static void
dump_jtree(bytes_t *d, const statsig_jnode_t *v)
{
    size_t  i;

    switch (v->type) {
    case STATSIG_JT_OBJECT:
        dump_fmt(d, "o", v->n);
        for (i = 0; i < v->n; i++) {
            dump_fmt(d, "k", v->u.members[i].keylen);
            bytes_add(d, v->u.members[i].key, v->u.members[i].keylen);
            dump_jtree(d, &v->u.members[i].value);
        }
        break;
    case STATSIG_JT_ARRAY:
        dump_fmt(d, "a", v->n);
        for (i = 0; i < v->n; i++) {
            dump_jtree(d, &v->u.items[i]);
        }
        break;
    case STATSIG_JT_STRING:
        dump_fmt(d, "s", v->n);
        bytes_add(d, v->u.str, v->n);
        break;
    case STATSIG_JT_NUMBER:
        dump_num(d, v->u.num);
        break;
    case STATSIG_JT_TRUE:
        bytes_adds(d, "t");
        break;
    case STATSIG_JT_FALSE:
        bytes_adds(d, "f");
        break;
    default:
        bytes_adds(d, "n");
    }
}


static int
same_without_nuls(statsig_jtree_t *tree, json_t *j, const char *text,
    size_t len, char *why, size_t whylen)
{
    const statsig_jnode_t  *root;
    bytes_t                 a, b;
    char                   *t, err[100];
    size_t                  i, n;
    int                     same;

    t = malloc(len ? len : 1);
    if (t == NULL) {
        abort();
    }

    for (i = 0, n = 0; i < len; i++) {
        if (text[i] != '\0') {
            t[n++] = text[i];
        }
    }

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    dump_jansson(&a, j);
    json_decref(j);

    same = statsig_jtree_load(tree, t, n, &root, err, sizeof(err)) == 0;
    if (same) {
        dump_jtree(&b, root);
        same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    }

    if (!same) {
        snprintf(why, whylen, "jansson skipped a NUL byte; without NULs "
                 "jtree %s", b.data ? "builds another tree" : "rejects");
    }

    free(t);
    free(a.data);
    free(b.data);

    return same;
}


/*
 * 1 if both parsers agree (both reject, or both accept the same tree);
 * *accepted tells which (0 too for jansson's NUL quirk).
 */
static int
same_as_jansson(statsig_jtree_t *tree, const char *text, size_t len,
    int *accepted, char *why, size_t whylen)
{
    json_t                 *j;
    json_error_t            e;
    const statsig_jnode_t  *root;
    bytes_t                 a, b;
    char                    err[100];
    int                     rc, same;

    j = json_loadb(text, len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &e);
    rc = statsig_jtree_load(tree, text, len, &root, err, sizeof(err));

    *accepted = (j != NULL);

    /*
     * jansson's one quirk: a raw NUL byte right after a number is skipped
     * (its lexer's unget leaves the NUL where it marks an empty buffer),
     * so it takes [1<NUL>,2] for [1,2].  jtree rejects a raw NUL, as
     * JSON.parse does; it must then read the input without its NULs as
     * jansson read it.
     */
    if (j != NULL && rc != 0 && memchr(text, '\0', len) != NULL) {
        *accepted = 0;
        return same_without_nuls(tree, j, text, len, why, whylen);
    }

    if ((j == NULL) != (rc != 0)) {
        snprintf(why, whylen, "jansson %s (%s), jtree %s (%s)",
                 j ? "accepts" : "rejects", j ? "" : e.text,
                 rc ? "rejects" : "accepts", rc ? err : "");
        json_decref(j);
        return 0;
    }

    if (j == NULL) {
        if (strncmp(err, "line ", 5) != 0) {
            snprintf(why, whylen, "message without a position: %s", err);
            return 0;
        }

        return 1;
    }

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    dump_jansson(&a, j);
    dump_jtree(&b, root);
    json_decref(j);

    same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    if (!same) {
        snprintf(why, whylen, "trees differ: %.60s / %.60s", a.data, b.data);
    }

    free(a.data);
    free(b.data);

    return same;
}

#endif /* STATSIG_JTREE_DUMP_H */
