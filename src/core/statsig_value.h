/*
 * Values as statsig-node sees them: the user object and everything in it.
 *
 * Each value carries its JavaScript conversions, computed once when the
 * value is built, so that evaluation needs no allocation: String(v),
 * String(v).toLowerCase() and Number(v).
 */

#ifndef STATSIG_VALUE_H
#define STATSIG_VALUE_H

#include <stddef.h>
#include <stdint.h>


typedef enum {
    STATSIG_V_UNDEFINED = 0,
    STATSIG_V_NULL,
    STATSIG_V_BOOL,
    STATSIG_V_NUMBER,
    STATSIG_V_STRING,
    STATSIG_V_ARRAY,
    STATSIG_V_OBJECT
} statsig_vtype_e;


typedef struct statsig_value_s  statsig_value_t;

struct statsig_value_s {
    uint8_t                 type;
    uint8_t                 b;          /* booleans */
    uint8_t                 pending;    /* STATSIG_PENDING_*: not made yet */
    double                  num;        /* Number(v); NaN when not one */
    const char             *str;        /* String(v) */
    size_t                  len;
    const char             *lower;      /* String(v).toLowerCase() */
    size_t                  lower_len;
    const statsig_value_t  *items;      /* array elements, object values */
    const char *const      *keys;       /* object keys (NUL-terminated) */
    const size_t           *key_lens;
    size_t                  n;
    /*
     * statsig_str_hash of str and of lower, or 0 until an evaluation needs
     * them: the evaluator fills them in (a value's memory belongs to its
     * builder and is never const).
     */
    uint64_t                hash;
    uint64_t                lower_hash;
};


/* Memory for building values: nginx pools, arenas, malloc. */
typedef struct {
    void   *(*alloc)(void *data, size_t size);
    void    *data;
} statsig_alloc_t;


extern const statsig_value_t  statsig_value_undefined;

/* Builders; each returns 0 on success, -1 when allocation failed. */
int statsig_value_string(const statsig_alloc_t *a, const char *s,
    size_t len, statsig_value_t *out);
/* the same, s kept where it is: it must outlive the value */
int statsig_value_string_ref(const statsig_alloc_t *a, const char *s,
    size_t len, statsig_value_t *out);
/*
 * The same, its Number() and its lower case made when an operator first
 * reads them (statsig_value_settle): most of a user's strings (a user
 * agent, an IP) are never compared so, and whether a string is in lower
 * case already is found then too.  Room for the lower case is taken now,
 * so that settling cannot fail.
 */
int statsig_value_string_lazy(const statsig_alloc_t *a, const char *s,
    size_t len, statsig_value_t *out);
/* the same in the caller's room of statsig_js_lower_size(len) bytes */
void statsig_value_string_lazy_room(const char *s, size_t len, char *room,
    statsig_value_t *out);
int statsig_value_number(const statsig_alloc_t *a, double num,
    statsig_value_t *out);
void statsig_value_bool(int b, statsig_value_t *out);
void statsig_value_null(statsig_value_t *out);

/* Arrays and objects take ownership of items/keys allocated by the caller
 * from the same allocator. */
int statsig_value_array(const statsig_alloc_t *a, statsig_value_t *items,
    size_t n, statsig_value_t *out);
int statsig_value_object(const statsig_alloc_t *a, const char **keys,
    size_t *key_lens, statsig_value_t *values, size_t n,
    statsig_value_t *out);

/*
 * Parses JSON text into a value tree (numbers as doubles, as JavaScript
 * does).  Returns 0, or -1 with a message.
 */
int statsig_value_from_json(const statsig_alloc_t *a, const char *json,
    size_t len, statsig_value_t *out, char *err, size_t errlen);

/* Exact key lookup on an object; NULL when absent or not an object. */
const statsig_value_t *statsig_value_get(const statsig_value_t *obj,
    const char *key, size_t len);

/* First key equal ignoring ASCII/Unicode case (JS toLowerCase). */
const statsig_value_t *statsig_value_get_ci(const statsig_value_t *obj,
    const char *key, size_t len);

/* conversions a lazy string has not made (its `pending`) */
#define STATSIG_PENDING_LOWER  2
#define STATSIG_PENDING_NUM    4

/*
 * Makes the pending conversions among needs (STATSIG_PENDING_*).  The
 * value's memory is its builder's and never const, as for its hashes.
 */
void statsig_value_settle(const statsig_value_t *v, unsigned needs);

/* undefined or null */
#define statsig_value_nullish(v)                                             \
    ((v) == NULL || (v)->type <= STATSIG_V_NULL)

#endif /* STATSIG_VALUE_H */
