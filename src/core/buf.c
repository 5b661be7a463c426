/*
 * A growable byte buffer and JSON text as JSON.stringify writes it.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsnum.h"
#include "utf8.h"


void
statsig_buf_init(statsig_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}


void
statsig_buf_free(statsig_buf_t *b)
{
    free(b->data);
    statsig_buf_init(b);
}


static int
statsig_buf_grow(statsig_buf_t *b, size_t need)
{
    size_t   cap;
    char    *p;

    if (b->failed) {
        return -1;
    }

    if (need > (size_t) 0x7FFFFFFF - b->len) {
        b->failed = 1;
        return -1;
    }

    if (b->len + need <= b->cap) {
        return 0;
    }

    cap = b->cap ? b->cap : 256;
    while (cap < b->len + need) {
        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }

    b->data = p;
    b->cap = cap;

    return 0;
}


size_t
statsig_buf_reserve(statsig_buf_t *b, size_t n, size_t align)
{
    size_t  pad, off;

    pad = (align > 1) ? (align - b->len % align) % align : 0;

    if (statsig_buf_grow(b, pad + n) != 0) {
        return (size_t) -1;
    }

    memset(b->data + b->len, 0, pad + n);
    off = b->len + pad;
    b->len = off + n;

    return off;
}


void
statsig_buf_add(statsig_buf_t *b, const void *data, size_t len)
{
    /* the common case, room already there, without a call */
    if (len <= b->cap - b->len && !b->failed && len) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
        return;
    }

    if (len == 0 || statsig_buf_grow(b, len) != 0) {
        return;
    }

    memcpy(b->data + b->len, data, len);
    b->len += len;
}


void
statsig_buf_adds(statsig_buf_t *b, const char *s)
{
    statsig_buf_add(b, s, strlen(s));
}


void
statsig_buf_addc(statsig_buf_t *b, char c)
{
    if (b->len < b->cap && !b->failed) {
        b->data[b->len++] = c;
        return;
    }

    statsig_buf_add(b, &c, 1);
}


void
statsig_buf_json_str(statsig_buf_t *b, const char *s, size_t len)
{
    /* nothing to escape (ids, names, most user agents): one copy */
    if (!statsig_json_plain(s, len)) {
        statsig_buf_json_escape(b, s, len);
        return;
    }

    if (len + 2 > b->cap - b->len || b->failed) {
        if (statsig_buf_grow(b, len + 2) != 0) {
            return;
        }
    }

    b->data[b->len] = '"';

    if (len) {
        memcpy(b->data + b->len + 1, s, len);
    }

    b->data[b->len + 1 + len] = '"';
    b->len += len + 2;
}


void
statsig_buf_json_escape(statsig_buf_t *b, const char *s, size_t len)
{
    static const char     hex[] = "0123456789abcdef";
    const unsigned char  *p, *end, *run, *q;
    char                  esc[8];
    uint32_t              cp;

    statsig_buf_addc(b, '"');

    p = (const unsigned char *) s;
    end = p + len;
    run = p;

    while (p < end) {
        /* user agents and ids: eight plain bytes at a time */
        if (end - p >= 8) {
            uint64_t  x;

            memcpy(&x, p, 8);

            if (!statsig_json_special8(x)) {
                p += 8;
                continue;
            }
        }

        if (*p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) {
            p++;
            continue;
        }

        if (*p >= 0x80) {
            /* valid UTF-8 passes through; invalid bytes become U+FFFD */
            q = p;
            cp = statsig_utf8_next(&q, end);
            if (cp != 0xFFFD || (q - p == 3 && p[0] == 0xEF)) {
                p = q;
                continue;
            }

            statsig_buf_add(b, run, (size_t) (p - run));
            statsig_buf_add(b, "\xEF\xBF\xBD", 3);
            p = q;
            run = p;
            continue;
        }

        statsig_buf_add(b, run, (size_t) (p - run));

        switch (*p) {
        case '"':  statsig_buf_add(b, "\\\"", 2); break;
        case '\\': statsig_buf_add(b, "\\\\", 2); break;
        case '\b': statsig_buf_add(b, "\\b", 2); break;
        case '\f': statsig_buf_add(b, "\\f", 2); break;
        case '\n': statsig_buf_add(b, "\\n", 2); break;
        case '\r': statsig_buf_add(b, "\\r", 2); break;
        case '\t': statsig_buf_add(b, "\\t", 2); break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            statsig_buf_add(b, esc, 6);
        }

        p++;
        run = p;
    }

    statsig_buf_add(b, run, (size_t) (p - run));
    statsig_buf_addc(b, '"');
}


void
statsig_buf_json_num(statsig_buf_t *b, double d)
{
    char    tmp[STATSIG_NUMBER_STR_SIZE];
    size_t  n;

    n = statsig_json_num(tmp, d);
    statsig_buf_add(b, tmp, n);
}


size_t
statsig_json_num(char *out, double d)
{
    if (!isfinite(d)) {
        memcpy(out, "null", 4);
        return 4;
    }

    return statsig_js_number_to_string(d, out);
}


void
statsig_buf_json_int(statsig_buf_t *b, long long v)
{
    char                tmp[24], *p;
    unsigned long long  u;

    /* by hand: snprintf was a tenth of a Customer.io item */
    p = tmp + sizeof(tmp);
    u = (v < 0) ? 0ULL - (unsigned long long) v : (unsigned long long) v;

    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (v < 0) {
        *--p = '-';
    }

    statsig_buf_add(b, p, (size_t) (tmp + sizeof(tmp) - p));
}
