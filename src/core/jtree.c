/*
 * A parsed JSON document in one arena (see jtree.h for what it accepts).
 *
 * One recursive-descent pass over the text.  A container's children are
 * collected on a scratch stack and copied into the arena, contiguous, when
 * it closes; strings without escapes are one scan and one copy.
 */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtree.h"
#include "utf8.h"


#define SG_JT_MAX_DEPTH     2048        /* jansson's JSON_PARSER_MAX_DEPTH */
#define SG_JT_CHUNK_MIN     (64 * 1024)
#define SG_JT_CHUNK_MAX     (4 * 1024 * 1024)
#define SG_JT_SMALL_OBJECT  16          /* duplicate keys: pairwise below */


typedef struct sg_jt_chunk_s  sg_jt_chunk_t;

struct sg_jt_chunk_s {
    sg_jt_chunk_t  *next;
    size_t          size;
    size_t          used;
};

struct statsig_jtree_s {
    sg_jt_chunk_t  *chunks;
    size_t          next_size;
};


typedef struct {
    const unsigned char  *start;
    const unsigned char  *p;
    const unsigned char  *end;
    statsig_jtree_t      *tree;
    int                   depth;

    statsig_jnode_t      *items;        /* open arrays' items */
    size_t                nitems;
    size_t                items_cap;
    statsig_jmember_t    *members;      /* open objects' members */
    size_t                nmembers;
    size_t                members_cap;
    uint32_t             *dup_index;    /* scratch for big objects */
    size_t                dup_cap;

    const char           *reason;
    char                  reason_buf[64];
    const unsigned char  *at;           /* where the error is */
} sg_jt_parser_t;


/* bytes a string scan must stop at: '"', '\\', controls, non-ASCII */
#define SG_JT_16(x)  x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x

static const unsigned char  sg_jt_stop[256] = {
    SG_JT_16(1), SG_JT_16(1),                           /* 0x00 - 0x1f */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 0x22 '"' */
    SG_JT_16(0), SG_JT_16(0),
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,     /* 0x5c '\\' */
    SG_JT_16(0), SG_JT_16(0),
    SG_JT_16(1), SG_JT_16(1), SG_JT_16(1), SG_JT_16(1), /* 0x80 - 0xff */
    SG_JT_16(1), SG_JT_16(1), SG_JT_16(1), SG_JT_16(1)
};


/* ---- the arena ---- */

static void *
sg_jt_alloc(statsig_jtree_t *t, size_t n)
{
    sg_jt_chunk_t  *c;
    size_t          size, head;
    void           *r;

    n = (n + 7) & ~(size_t) 7;
    head = (sizeof(sg_jt_chunk_t) + 7) & ~(size_t) 7;
    c = t->chunks;

    if (c == NULL || c->size - c->used < n) {
        size = t->next_size;
        if (size < head + n) {
            size = head + n;
        }

        c = malloc(size);
        if (c == NULL) {
            return NULL;
        }

        c->size = size;
        c->used = head;
        c->next = t->chunks;
        t->chunks = c;

        if (t->next_size < SG_JT_CHUNK_MAX) {
            t->next_size *= 2;
        }
    }

    r = (char *) c + c->used;
    c->used += n;

    return r;
}


statsig_jtree_t *
statsig_jtree_create(void)
{
    statsig_jtree_t  *t;

    t = malloc(sizeof(statsig_jtree_t));
    if (t) {
        t->chunks = NULL;
        t->next_size = SG_JT_CHUNK_MIN;
    }

    return t;
}


/*
 * Empties t for another parse.  Several chunks become one of their total
 * size, so that a document of the same size fits the next time.
 */
static void
sg_jt_reset(statsig_jtree_t *t, size_t len)
{
    sg_jt_chunk_t  *c, *next;
    size_t          total, head;

    head = (sizeof(sg_jt_chunk_t) + 7) & ~(size_t) 7;

    if (t->chunks && t->chunks->next) {
        total = 0;
        for (c = t->chunks; c; c = next) {
            next = c->next;
            total += c->size;
            free(c);
        }

        t->chunks = malloc(total);
        if (t->chunks) {
            t->chunks->size = total;
            t->chunks->next = NULL;
        }
    }

    if (t->chunks) {
        t->chunks->used = head;
        return;
    }

    /* about the text's size in nodes and strings, in a few chunks */
    t->next_size = SG_JT_CHUNK_MIN;
    while (t->next_size < len / 2 && t->next_size < SG_JT_CHUNK_MAX) {
        t->next_size *= 2;
    }
}


void
statsig_jtree_free(statsig_jtree_t *t)
{
    sg_jt_chunk_t  *c, *next;

    if (t == NULL) {
        return;
    }

    for (c = t->chunks; c; c = next) {
        next = c->next;
        free(c);
    }

    free(t);
}


/* ---- errors ---- */

static int
sg_jt_fail(sg_jt_parser_t *jp, const unsigned char *at, const char *fmt, ...)
{
    va_list  ap;

    if (jp->reason == NULL) {
        va_start(ap, fmt);
        vsnprintf(jp->reason_buf, sizeof(jp->reason_buf), fmt, ap);
        va_end(ap);

        jp->reason = jp->reason_buf;
        jp->at = at;
    }

    return -1;
}


static int
sg_jt_oom(sg_jt_parser_t *jp)
{
    return sg_jt_fail(jp, jp->p, "out of memory");
}


/*
 * jansson's position of the byte at: lines from 1, columns counting UTF-8
 * characters
 */
static void
sg_jt_position(const unsigned char *start, const unsigned char *at,
    const unsigned char *end, int *line, int *column)
{
    const unsigned char  *q;

    *line = 1;
    *column = 0;

    for (q = start; q <= at && q < end; q++) {
        if (*q == '\n') {
            (*line)++;
            *column = 0;

        } else if ((*q & 0xC0) != 0x80) {
            (*column)++;
        }
    }
}


/* ---- scanning ---- */

static inline void
sg_jt_skip_ws(sg_jt_parser_t *jp)
{
    const unsigned char  *p = jp->p, *end = jp->end;

    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
        p++;
    }

    jp->p = p;
}


/*
 * Length of a valid UTF-8 sequence at p (a byte >= 0x80), 0 if none:
 * utf8.h's rules are jansson's (no overlong forms, surrogates or values
 * above U+10FFFF), and it consumes one byte of an invalid sequence.
 */
static size_t
sg_jt_utf8_len(const unsigned char *p, const unsigned char *end)
{
    const unsigned char  *q = p;

    (void) statsig_utf8_next(&q, end);

    return (q - p >= 2) ? (size_t) (q - p) : 0;
}


static int
sg_jt_hex4(const unsigned char *p)
{
    int  i, v, c;

    v = 0;
    for (i = 0; i < 4; i++) {
        c = p[i];
        v <<= 4;

        if (c >= '0' && c <= '9') {
            v += c - '0';

        } else if (c >= 'a' && c <= 'f') {
            v += c - 'a' + 10;

        } else if (c >= 'A' && c <= 'F') {
            v += c - 'A' + 10;

        } else {
            return -1;
        }
    }

    return v;
}


/*
 * A string literal; jp->p is at the opening quote.  *nul tells whether
 * the value holds a NUL (from \u0000).
 */
static int
sg_jt_string(sg_jt_parser_t *jp, const char **out, uint32_t *outlen,
    int *nul)
{
    const unsigned char  *s, *p, *end;
    char                 *t, *buf;
    size_t                n;
    int                   v, v2, escaped;

    s = jp->p + 1;
    end = jp->end;
    p = s;
    escaped = 0;
    *nul = 0;

    /* the end of the literal, validating as jansson's lexer does */
    for ( ;; ) {
        while (p < end && !sg_jt_stop[*p]) {
            p++;
        }

        if (p == end) {
            return sg_jt_fail(jp, p, "premature end of input");
        }

        if (*p == '"') {
            break;
        }

        if (*p == '\\') {
            escaped = 1;

            if (p + 1 == end) {
                return sg_jt_fail(jp, p + 1, "premature end of input");
            }

            if (p[1] == 'u') {
                if (end - p < 6 || sg_jt_hex4(p + 2) < 0) {
                    return sg_jt_fail(jp, p, "invalid escape");
                }

                p += 6;
                continue;
            }

            if (strchr("\"\\/bfnrt", p[1]) == NULL || p[1] == '\0') {
                return sg_jt_fail(jp, p, "invalid escape");
            }

            p += 2;
            continue;
        }

        if (*p < 0x20) {
            return sg_jt_fail(jp, p, (*p == '\n') ? "unexpected newline"
                                                 : "control character 0x%x",
                              *p);
        }

        n = sg_jt_utf8_len(p, end);
        if (n == 0) {
            return sg_jt_fail(jp, p, "unable to decode byte 0x%x", *p);
        }

        p += n;
    }

    n = (size_t) (p - s);
    if (n > 0xFFFFFFF0u) {
        return sg_jt_fail(jp, s, "string longer than 4 GB");
    }

    buf = sg_jt_alloc(jp->tree, n + 1);
    if (buf == NULL) {
        return sg_jt_oom(jp);
    }

    jp->p = p + 1;

    if (!escaped) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        *out = buf;
        *outlen = (uint32_t) n;
        return 0;
    }

    /* decode: never longer than the literal */
    t = buf;
    for (p = s; *p != '"'; ) {
        if (*p != '\\') {
            *t++ = (char) *p++;
            continue;
        }

        p++;
        switch (*p) {
        case 'b': *t++ = '\b'; p++; continue;
        case 'f': *t++ = '\f'; p++; continue;
        case 'n': *t++ = '\n'; p++; continue;
        case 'r': *t++ = '\r'; p++; continue;
        case 't': *t++ = '\t'; p++; continue;
        case 'u': break;
        default:  *t++ = (char) *p++; continue;
        }

        v = sg_jt_hex4(p + 1);
        p += 5;

        if (v >= 0xD800 && v <= 0xDBFF) {
            if (p[0] != '\\' || p[1] != 'u') {
                return sg_jt_fail(jp, p, "invalid Unicode '\\u%04X'", v);
            }

            v2 = sg_jt_hex4(p + 2);
            if (v2 < 0xDC00 || v2 > 0xDFFF) {
                return sg_jt_fail(jp, p, "invalid Unicode '\\u%04X\\u%04X'",
                                  v, v2);
            }

            p += 6;
            v = ((v - 0xD800) << 10) + (v2 - 0xDC00) + 0x10000;

        } else if (v >= 0xDC00 && v <= 0xDFFF) {
            return sg_jt_fail(jp, p, "invalid Unicode '\\u%04X'", v);
        }

        *nul |= (v == 0);
        t += statsig_utf8_put((uint32_t) v, t);
    }

    *t = '\0';
    *out = buf;
    *outlen = (uint32_t) (t - buf);

    return 0;
}


static const double  sg_jt_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
    1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};


/*
 * A number, as a double: exact small mantissas and exponents are one
 * multiplication or division (correctly rounded, Clinger's fast path);
 * anything else goes to strtod, as jansson does.
 */
static int
sg_jt_number(sg_jt_parser_t *jp, double *out)
{
    const unsigned char  *s, *p, *end;
    uint64_t              m;
    int                   digits, frac, neg, eneg, fast;
    long                  e;
    char                  small[64], *tok;
    size_t                n;
    double                d;

    s = jp->p;
    p = s;
    end = jp->end;
    m = 0;
    digits = 0;
    frac = 0;
    e = 0;
    fast = 1;

    neg = (*p == '-');
    if (neg) {
        p++;
    }

    if (p < end && *p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9') {
            return sg_jt_fail(jp, s, "invalid token");
        }

    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 19) {
                m = m * 10 + (uint64_t) (*p - '0');
                digits++;

            } else {
                fast = 0;
            }

            p++;
        }

    } else {
        return sg_jt_fail(jp, s, "invalid token");
    }

    if (p < end && *p == '.') {
        p++;
        if (p == end || *p < '0' || *p > '9') {
            return sg_jt_fail(jp, s, "invalid token");
        }

        while (p < end && *p >= '0' && *p <= '9') {
            if (m == 0 && *p == '0') {
                frac++;                 /* leading zeros: not significant */

            } else if (digits < 19) {
                m = m * 10 + (uint64_t) (*p - '0');
                digits++;
                frac++;

            } else {
                fast = 0;
            }

            p++;
        }
    }

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = (*p == '-');
            p++;
        }

        if (p == end || *p < '0' || *p > '9') {
            return sg_jt_fail(jp, s, "invalid token");
        }

        while (p < end && *p >= '0' && *p <= '9') {
            if (e < 100000) {
                e = e * 10 + (*p - '0');
            }

            p++;
        }

        if (eneg) {
            e = -e;
        }
    }

    jp->p = p;
    e -= frac;

    if (fast && m <= ((uint64_t) 1 << 53) && e >= -22 && e <= 22) {
        d = (double) m;
        d = (e >= 0) ? d * sg_jt_pow10[e] : d / sg_jt_pow10[-e];
        *out = neg ? -d : d;
        return 0;
    }

    n = (size_t) (p - s);
    tok = (n < sizeof(small)) ? small : malloc(n + 1);
    if (tok == NULL) {
        return sg_jt_oom(jp);
    }

    memcpy(tok, s, n);
    tok[n] = '\0';

    errno = 0;
    d = strtod(tok, NULL);

    if (tok != small) {
        free(tok);
    }

    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE) {
        return sg_jt_fail(jp, s, "real number overflow");
    }

    *out = d;

    return 0;
}


/* ---- containers ---- */

static int sg_jt_value(sg_jt_parser_t *jp, statsig_jnode_t *v);


/*
 * Room for one more entry on a scratch stack of *cap entries of size
 * bytes: the stack, moved if it grew; NULL if out of memory.
 */
static void *
sg_jt_stack_room(sg_jt_parser_t *jp, void *stack, size_t used, size_t *cap,
    size_t size)
{
    size_t   n;
    void    *grown;

    if (used < *cap) {
        return stack;
    }

    n = *cap ? *cap * 2 : 1024;
    grown = realloc(stack, n * size);
    if (grown == NULL) {
        (void) sg_jt_oom(jp);
        return NULL;
    }

    *cap = n;

    return grown;
}


static int
sg_jt_array(sg_jt_parser_t *jp, statsig_jnode_t *v)
{
    size_t            base, n;
    statsig_jnode_t   item, *grown;

    base = jp->nitems;
    jp->p++;                                    /* '[' */
    sg_jt_skip_ws(jp);

    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        v->type = STATSIG_JT_ARRAY;
        v->n = 0;
        v->u.items = NULL;
        return 0;
    }

    for ( ;; ) {
        if (sg_jt_value(jp, &item) != 0) {
            return -1;
        }

        grown = sg_jt_stack_room(jp, jp->items, jp->nitems, &jp->items_cap,
                                 sizeof(statsig_jnode_t));
        if (grown == NULL) {
            return -1;
        }

        jp->items = grown;

        jp->items[jp->nitems++] = item;

        sg_jt_skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }

        if (jp->p < jp->end && *jp->p == ']') {
            jp->p++;
            break;
        }

        return sg_jt_fail(jp, jp->p, "']' expected");
    }

    n = jp->nitems - base;
    if (n > 0xFFFFFFF0u) {
        return sg_jt_fail(jp, jp->p, "array too long");
    }

    v->type = STATSIG_JT_ARRAY;
    v->n = (uint32_t) n;
    v->u.items = sg_jt_alloc(jp->tree, n * sizeof(statsig_jnode_t));
    if (v->u.items == NULL) {
        return sg_jt_oom(jp);
    }

    memcpy(v->u.items, jp->items + base, n * sizeof(statsig_jnode_t));
    jp->nitems = base;

    return 0;
}


static uint64_t
sg_jt_key_hash(const char *k, size_t len)
{
    uint64_t  h = 1469598103934665603ULL;
    size_t    i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) k[i];
        h *= 1099511628211ULL;
    }

    return h;
}


static inline int
sg_jt_same_key(const statsig_jmember_t *a, const statsig_jmember_t *b)
{
    return a->keylen == b->keylen && memcmp(a->key, b->key, a->keylen) == 0;
}


/*
 * A repeated key keeps its first place and takes the last value (jansson's
 * json_object_set, and JSON.parse).  Returns the members left.
 */
static size_t
sg_jt_dedupe(sg_jt_parser_t *jp, statsig_jmember_t *m, size_t n)
{
    size_t     i, j, kept, mask, slot;
    uint32_t  *index;

    if (n <= SG_JT_SMALL_OBJECT) {
        kept = 0;
        for (i = 0; i < n; i++) {
            for (j = 0; j < kept; j++) {
                if (sg_jt_same_key(&m[j], &m[i])) {
                    m[j].value = m[i].value;
                    break;
                }
            }

            if (j == kept) {
                m[kept++] = m[i];
            }
        }

        return kept;
    }

    for (mask = 1; mask < n * 2; mask <<= 1) { /* void */ }

    if (jp->dup_cap < mask) {
        index = realloc(jp->dup_index, mask * sizeof(uint32_t));
        if (index == NULL) {
            return (size_t) -1;
        }

        jp->dup_index = index;
        jp->dup_cap = mask;
    }

    index = jp->dup_index;
    memset(index, 0, mask * sizeof(uint32_t));
    mask--;
    kept = 0;

    for (i = 0; i < n; i++) {
        slot = (size_t) sg_jt_key_hash(m[i].key, m[i].keylen) & mask;

        for ( ;; ) {
            if (index[slot] == 0) {
                m[kept] = m[i];
                index[slot] = (uint32_t) ++kept;
                break;
            }

            j = index[slot] - 1;
            if (sg_jt_same_key(&m[j], &m[i])) {
                m[j].value = m[i].value;
                break;
            }

            slot = (slot + 1) & mask;
        }
    }

    return kept;
}


static int
sg_jt_object(sg_jt_parser_t *jp, statsig_jnode_t *v)
{
    size_t              base, n;
    statsig_jmember_t   m, *grown;
    const char         *key;
    uint32_t            keylen;
    int                 nul;

    base = jp->nmembers;
    jp->p++;                                    /* '{' */
    sg_jt_skip_ws(jp);

    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        v->type = STATSIG_JT_OBJECT;
        v->n = 0;
        v->u.members = NULL;
        return 0;
    }

    for ( ;; ) {
        if (jp->p == jp->end || *jp->p != '"') {
            return sg_jt_fail(jp, jp->p, "string or '}' expected");
        }

        if (sg_jt_string(jp, &key, &keylen, &nul) != 0) {
            return -1;
        }

        if (nul) {
            return sg_jt_fail(jp, jp->p,
                              "NUL byte in object key not supported");
        }

        sg_jt_skip_ws(jp);
        if (jp->p == jp->end || *jp->p != ':') {
            return sg_jt_fail(jp, jp->p, "':' expected");
        }

        jp->p++;

        m.key = key;
        m.keylen = keylen;
        if (sg_jt_value(jp, &m.value) != 0) {
            return -1;
        }

        grown = sg_jt_stack_room(jp, jp->members, jp->nmembers,
                                 &jp->members_cap, sizeof(statsig_jmember_t));
        if (grown == NULL) {
            return -1;
        }

        jp->members = grown;

        jp->members[jp->nmembers++] = m;

        sg_jt_skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            sg_jt_skip_ws(jp);
            continue;
        }

        if (jp->p < jp->end && *jp->p == '}') {
            jp->p++;
            break;
        }

        return sg_jt_fail(jp, jp->p, "'}' expected");
    }

    n = sg_jt_dedupe(jp, jp->members + base, jp->nmembers - base);
    if (n == (size_t) -1) {
        return sg_jt_oom(jp);
    }

    if (n > 0xFFFFFFF0u) {
        return sg_jt_fail(jp, jp->p, "object too large");
    }

    v->type = STATSIG_JT_OBJECT;
    v->n = (uint32_t) n;
    v->u.members = sg_jt_alloc(jp->tree, n * sizeof(statsig_jmember_t));
    if (v->u.members == NULL) {
        return sg_jt_oom(jp);
    }

    memcpy(v->u.members, jp->members + base, n * sizeof(statsig_jmember_t));
    jp->nmembers = base;

    return 0;
}


static int
sg_jt_literal(sg_jt_parser_t *jp, const char *word, size_t len)
{
    const unsigned char  *p = jp->p;
    unsigned char         c;

    if ((size_t) (jp->end - p) < len || memcmp(p, word, len) != 0) {
        return sg_jt_fail(jp, p, "invalid token");
    }

    /* jansson reads a whole run of letters as one token */
    if (p + len < jp->end) {
        c = p[len] | 0x20;
        if (c >= 'a' && c <= 'z') {
            return sg_jt_fail(jp, p, "invalid token");
        }
    }

    jp->p = p + len;

    return 0;
}


static int
sg_jt_value(sg_jt_parser_t *jp, statsig_jnode_t *v)
{
    const char  *s;
    uint32_t     len;
    int          nul, rc;

    sg_jt_skip_ws(jp);

    if (jp->p == jp->end) {
        return sg_jt_fail(jp, jp->p, "premature end of input");
    }

    if (++jp->depth > SG_JT_MAX_DEPTH) {
        return sg_jt_fail(jp, jp->p, "maximum parsing depth reached");
    }

    v->n = 0;

    switch (*jp->p) {
    case '{':
        rc = sg_jt_object(jp, v);
        break;

    case '[':
        rc = sg_jt_array(jp, v);
        break;

    case '"':
        rc = sg_jt_string(jp, &s, &len, &nul);
        v->type = STATSIG_JT_STRING;
        v->n = len;
        v->u.str = s;
        break;

    case 't':
        rc = sg_jt_literal(jp, "true", 4);
        v->type = STATSIG_JT_TRUE;
        v->u.num = 0;
        break;

    case 'f':
        rc = sg_jt_literal(jp, "false", 5);
        v->type = STATSIG_JT_FALSE;
        v->u.num = 0;
        break;

    case 'n':
        rc = sg_jt_literal(jp, "null", 4);
        v->type = STATSIG_JT_NULL;
        v->u.num = 0;
        break;

    default:
        if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9')) {
            v->type = STATSIG_JT_NUMBER;
            rc = sg_jt_number(jp, &v->u.num);
            break;
        }

        if (*jp->p >= 0x80 && sg_jt_utf8_len(jp->p, jp->end) == 0) {
            return sg_jt_fail(jp, jp->p, "unable to decode byte 0x%x",
                              *jp->p);
        }

        return sg_jt_fail(jp, jp->p, (*jp->p == ']' || *jp->p == '}'
                                      || *jp->p == ',' || *jp->p == ':')
                                     ? "unexpected token" : "invalid token");
    }

    jp->depth--;

    return rc;
}


int
statsig_jtree_load(statsig_jtree_t *t, const char *text, size_t len,
    const statsig_jnode_t **root, char *err, size_t errlen)
{
    sg_jt_parser_t    jp;
    statsig_jnode_t  *top;
    int               line, column, rc;

    *root = NULL;
    if (err && errlen) {
        err[0] = '\0';
    }

    sg_jt_reset(t, len);

    memset(&jp, 0, sizeof(jp));
    jp.start = (const unsigned char *) text;
    jp.p = jp.start;
    jp.end = jp.start + len;
    jp.tree = t;

    top = sg_jt_alloc(t, sizeof(statsig_jnode_t));
    if (top == NULL) {
        rc = sg_jt_oom(&jp);

    } else {
        sg_jt_skip_ws(&jp);

        if (jp.p == jp.end || (*jp.p != '{' && *jp.p != '[')) {
            rc = sg_jt_fail(&jp, jp.p, "'[' or '{' expected");

        } else {
            rc = sg_jt_value(&jp, top);

            if (rc == 0) {
                sg_jt_skip_ws(&jp);
                if (jp.p != jp.end) {
                    rc = sg_jt_fail(&jp, jp.p, "end of file expected");
                }
            }
        }
    }

    free(jp.items);
    free(jp.members);
    free(jp.dup_index);

    if (rc != 0) {
        if (err && errlen) {
            sg_jt_position(jp.start, jp.at, jp.end, &line, &column);
            snprintf(err, errlen, "line %d, column %d: %s", line, column,
                     jp.reason ? jp.reason : "error");
        }

        return -1;
    }

    *root = top;

    return 0;
}


/*
 * An integer's digits (no sign, no leading zero: the text parsed) within
 * long long: 19 digits at most, and at 19 no more than 2^63 - 1, or 2^63
 * when negative
 */
static int
sg_jt_int_fits(const unsigned char *d, size_t n, int neg)
{
    if (n != 19) {
        return n < 19;
    }

    return memcmp(d, neg ? "9223372036854775808" : "9223372036854775807",
                  19) <= 0;
}


int
statsig_jtree_strict(const char *text, size_t len, char *err, size_t errlen)
{
    const unsigned char  *start, *p, *end, *d, *tok;
    const char           *why;
    int                   neg, real, line, column;

    start = (const unsigned char *) text;
    p = start;
    end = start + len;

    /* the text parsed: a '-' or digit outside a string starts a number */
    while (p < end) {
        if (*p == '"') {
            for (p++; p < end && *p != '"'; p++) {
                if (*p != '\\') {
                    continue;
                }

                /* keys cannot hold \u0000 (the parse refused them) */
                tok = p++;
                if (end - p >= 5 && memcmp(p, "u0000", 5) == 0) {
                    why = "\\u0000 is not allowed without JSON_ALLOW_NUL";
                    goto refused;
                }
            }

            p++;
            continue;
        }

        if (*p != '-' && (*p < '0' || *p > '9')) {
            p++;
            continue;
        }

        tok = p;
        neg = (*p == '-');
        p += neg;
        d = p;

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }

        real = 0;
        while (p < end && (*p == '.' || *p == 'e' || *p == 'E' || *p == '+'
                           || *p == '-' || (*p >= '0' && *p <= '9')))
        {
            real = 1;
            p++;
        }

        if (!real && !sg_jt_int_fits(d, (size_t) (p - d), neg)) {
            why = neg ? "too big negative integer" : "too big integer";
            goto refused;
        }
    }

    return 1;

refused:

    /* the first in text order, where jansson meets it, in its words */
    if (err != NULL && errlen > 0) {
        sg_jt_position(start, tok, end, &line, &column);
        snprintf(err, errlen, "line %d, column %d: %s", line, column, why);
    }

    return 0;
}


const statsig_jnode_t *
statsig_jobject_get(const statsig_jnode_t *v, const char *key)
{
    const statsig_jmember_t  *m;
    size_t                    len, i;

    if (!statsig_jis(v, STATSIG_JT_OBJECT)) {
        return NULL;
    }

    len = strlen(key);

    /* an empty object has no members array: index, never offset NULL */
    for (i = 0; i < v->n; i++) {
        m = &v->u.members[i];
        if (m->keylen == len && memcmp(m->key, key, len) == 0) {
            return &m->value;
        }
    }

    return NULL;
}
