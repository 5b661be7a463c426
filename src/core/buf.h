/*
 * A growable byte buffer (malloc), and JSON text written the way
 * JSON.stringify writes it.  Used off the evaluation path: compiling
 * snapshots, printing results, encoding events.
 */

#ifndef STATSIG_BUF_H
#define STATSIG_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif


typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
    int      failed;      /* an allocation failed; content is truncated */
} statsig_buf_t;


void statsig_buf_init(statsig_buf_t *b);
void statsig_buf_free(statsig_buf_t *b);

/* Reserves n zeroed bytes; returns their offset, or (size_t) -1. */
size_t statsig_buf_reserve(statsig_buf_t *b, size_t n, size_t align);

void statsig_buf_add(statsig_buf_t *b, const void *data, size_t len);
void statsig_buf_adds(statsig_buf_t *b, const char *s);
void statsig_buf_addc(statsig_buf_t *b, char c);

/* A JSON string literal with JSON.stringify's escaping. */
void statsig_buf_json_str(statsig_buf_t *b, const char *s, size_t len);

/* The same for s known not to be statsig_json_plain() (no second check). */
void statsig_buf_json_escape(statsig_buf_t *b, const char *s, size_t len);

/* A JSON number as JavaScript prints it (non-finite numbers as null). */
void statsig_buf_json_num(statsig_buf_t *b, double d);

/* The same into out, STATSIG_NUMBER_STR_SIZE bytes; returns its length. */
size_t statsig_json_num(char *out, double d);

void statsig_buf_json_int(statsig_buf_t *b, long long v);


/* 8 bytes at once: is one of them below 0x20, above 0x7f, '"' or '\\'? */
static inline int
statsig_json_special8(uint64_t x)
{
    const uint64_t  ones = 0x0101010101010101ULL;
    const uint64_t  high = 0x8080808080808080ULL;
    uint64_t        q, bs;

    q = x ^ (ones * '"');
    bs = x ^ (ones * '\\');

    return ((x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q)
             | ((bs - ones) & ~bs)) & high) != 0;
}


/*
 * Whether JSON.stringify writes s as it is between quotes (printable
 * ASCII, no '"' or '\\'): a word at a time, the last one overlapping the
 * one before, so that names and ids cost no loop over their bytes.
 * Always inlined: a call costs as much as the check of a short name.
 */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int
statsig_json_plain(const char *s, size_t n)
{
    uint64_t  x;
    uint32_t  lo, hi;
    size_t    i;

#if defined(__SSE2__)
    __m128i   v, bad;

    /* user agents: 16 bytes a step (signed: bytes past 0x7f are < 0x20) */
    if (n >= 16) {
        for (i = 0; /* void */; i += 16) {
            if (i + 16 > n) {
                i = n - 16;
            }

            v = _mm_loadu_si128((const __m128i *) (s + i));
            bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                               _mm_or_si128(
                                   _mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

            if (_mm_movemask_epi8(bad) != 0) {
                return 0;
            }

            if (i + 16 == n) {
                return 1;
            }
        }
    }
#endif

    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8) {
            memcpy(&x, s + i, 8);
            if (statsig_json_special8(x)) {
                return 0;
            }
        }

        memcpy(&x, s + n - 8, 8);
        return !statsig_json_special8(x);
    }

    if (n >= 4) {
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        return !statsig_json_special8((uint64_t) hi << 32 | lo);
    }

    /* spaces where there are no bytes */
    x = 0x2020202020202020ULL;
    for (i = 0; i < n; i++) {
        x = x << 8 | (unsigned char) s[i];
    }

    return !statsig_json_special8(x);
}

#endif /* STATSIG_BUF_H */
