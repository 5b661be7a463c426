/*
 * A parsed JSON document in one arena: the compiler's input.
 *
 * jansson builds a tree of individually malloc'd, reference-counted,
 * hashed nodes; for a 5 MB DCS that was two thirds of a compile and
 * tens of MB of heap churn per snapshot swap.  This tree is read-only,
 * lives in a few large chunks and is freed at once.
 *
 * It accepts exactly what jansson's json_loadb() accepts with
 * JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL (the flags the compiler used):
 * an object or array at the top, strict RFC 8259 grammar, valid UTF-8,
 * no lone surrogate escapes, \u0000 in strings but not in keys, numbers
 * as doubles (an overflowing one is an error), at most 2048 levels.  A
 * repeated key keeps its first position and takes its last value.  One
 * difference: a raw NUL byte is always an error, as in JSON.parse, where
 * jansson skips one right after a number.
 */

#ifndef STATSIG_JTREE_H
#define STATSIG_JTREE_H

#include <stddef.h>
#include <stdint.h>


typedef enum {
    STATSIG_JT_NULL = 0,
    STATSIG_JT_FALSE,
    STATSIG_JT_TRUE,
    STATSIG_JT_NUMBER,
    STATSIG_JT_STRING,
    STATSIG_JT_ARRAY,
    STATSIG_JT_OBJECT
} statsig_jtype_e;


typedef struct statsig_jnode_s    statsig_jnode_t;
typedef struct statsig_jmember_s  statsig_jmember_t;

struct statsig_jnode_s {
    uint8_t   type;             /* statsig_jtype_e */
    uint32_t  n;                /* string bytes, array items, members */
    union {
        double              num;
        const char         *str;    /* NUL-terminated (may hold NULs) */
        statsig_jnode_t    *items;
        statsig_jmember_t  *members;
    } u;
};

struct statsig_jmember_s {
    const char       *key;      /* NUL-terminated, no NUL inside */
    size_t            keylen;
    statsig_jnode_t   value;
};


/* A tree's memory: kept from one parse to the next (no page faults). */
typedef struct statsig_jtree_s  statsig_jtree_t;

statsig_jtree_t *statsig_jtree_create(void);
void statsig_jtree_free(statsig_jtree_t *t);

/*
 * Parses text into t, replacing what t held; -1 on error with "line L,
 * column C: reason" in err (jansson's line and column: lines from 1,
 * columns in characters).  *root is the top-level object or array.
 */
int statsig_jtree_load(statsig_jtree_t *t, const char *text, size_t len,
    const statsig_jnode_t **root, char *err, size_t errlen);


/*
 * For a text statsig_jtree_load() accepted: 1 if json_loadb() with no
 * flags accepts it too, 0 if not.  Without the flags jansson refuses a
 * string value holding \u0000 (JSON_ALLOW_NUL) and an integer (a number
 * without '.', 'e' or 'E') beyond long long (JSON_DECODE_INT_AS_REAL);
 * in all else the accept sets are the same.  One pass over the text, no
 * memory.  On 0, err (if not NULL) gets the first of them in text order
 * as jansson words it, "line L, column C: reason" as statsig_jtree_load().
 */
int statsig_jtree_strict(const char *text, size_t len, char *err,
    size_t errlen);


/* Lookups; every one takes NULL and nodes of another type. */

static inline int
statsig_jis(const statsig_jnode_t *v, statsig_jtype_e type)
{
    return v != NULL && v->type == type;
}

static inline size_t
statsig_jarray_size(const statsig_jnode_t *v)
{
    return statsig_jis(v, STATSIG_JT_ARRAY) ? v->n : 0;
}

static inline const statsig_jnode_t *
statsig_jarray_get(const statsig_jnode_t *v, size_t i)
{
    return (statsig_jis(v, STATSIG_JT_ARRAY) && i < v->n)
           ? &v->u.items[i] : NULL;
}

static inline size_t
statsig_jobject_size(const statsig_jnode_t *v)
{
    return statsig_jis(v, STATSIG_JT_OBJECT) ? v->n : 0;
}

const statsig_jnode_t *statsig_jobject_get(const statsig_jnode_t *v,
    const char *key);

static inline const char *
statsig_jstring(const statsig_jnode_t *v)
{
    return statsig_jis(v, STATSIG_JT_STRING) ? v->u.str : NULL;
}

static inline size_t
statsig_jstring_len(const statsig_jnode_t *v)
{
    return statsig_jis(v, STATSIG_JT_STRING) ? v->n : 0;
}

static inline double
statsig_jnumber(const statsig_jnode_t *v)
{
    return statsig_jis(v, STATSIG_JT_NUMBER) ? v->u.num : 0;
}

static inline int
statsig_jis_bool(const statsig_jnode_t *v)
{
    return v != NULL
           && (v->type == STATSIG_JT_TRUE || v->type == STATSIG_JT_FALSE);
}

#endif /* STATSIG_JTREE_H */
