/*
 * A parsed JSON value (jtree.h) as JavaScript sees it after JSON.parse:
 * its property order, String(v) and JSON.stringify(v).  Shared by the
 * compiler (value texts, names) and the DCS v2 writer (dcs_v2.c), which
 * must write what statsig-node and the oracle's converter write.
 */

#ifndef STATSIG_JTREE_JS_H
#define STATSIG_JTREE_JS_H

#include <stddef.h>

#include "buf.h"
#include "jtree.h"


typedef struct {
    const char             *key;
    size_t                  len;
    const statsig_jnode_t  *value;
    double                  index;      /* the sort key (internal) */
} statsig_jkey_t;


/* 1 when a key is an array index ("0".."4294967294", no leading zero) */
int statsig_js_array_index(const char *k, size_t len);

/*
 * An object's members in JavaScript property order: array indices
 * ascending, then the other keys in insertion order.  A malloc'd array
 * of *n (free() it), or NULL when out of memory.
 */
statsig_jkey_t *statsig_jobject_keys(const statsig_jnode_t *o, size_t *n);

/*
 * String(v) (NULL: "undefined"), and JSON.stringify(v), appended to b.
 * depth: the levels of arrays (and objects) below v that may still be
 * written; deeper sets b->failed.
 */
void statsig_jtree_js_string(statsig_buf_t *b, const statsig_jnode_t *v,
    int depth);
void statsig_jtree_stringify(statsig_buf_t *b, const statsig_jnode_t *v,
    int depth);

#endif /* STATSIG_JTREE_JS_H */
