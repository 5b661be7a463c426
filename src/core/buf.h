/*
 * A growable byte buffer (malloc), and JSON text written the way
 * JSON.stringify writes it.  Used off the evaluation path: compiling
 * snapshots, printing results, encoding events.
 */

#ifndef STATSIG_BUF_H
#define STATSIG_BUF_H

#include <stddef.h>
#include <stdint.h>


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

/* A JSON number as JavaScript prints it (non-finite numbers as null). */
void statsig_buf_json_num(statsig_buf_t *b, double d);

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

#endif /* STATSIG_BUF_H */
