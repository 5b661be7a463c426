/*
 * UTF-8 decoding for the JavaScript string semantics we emulate.
 */

#ifndef STATSIG_UTF8_H
#define STATSIG_UTF8_H

#include <stddef.h>
#include <stdint.h>


/* 1 when s is strict UTF-8: no overlong forms, surrogates or past U+10FFFF */
int statsig_utf8_valid(const char *s, size_t len);


/*
 * Decodes one code point and advances *p.  Invalid or truncated sequences
 * decode as U+FFFD and consume one byte, so the loop always progresses.
 */
static inline uint32_t
statsig_utf8_next(const unsigned char **p, const unsigned char *end)
{
    const unsigned char  *s;
    uint32_t              cp, min;
    size_t                n, i;

    s = *p;

    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }

    if ((s[0] & 0xE0) == 0xC0) {
        n = 2; cp = s[0] & 0x1F; min = 0x80;

    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3; cp = s[0] & 0x0F; min = 0x800;

    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4; cp = s[0] & 0x07; min = 0x10000;

    } else {
        *p = s + 1;
        return 0xFFFD;
    }

    if ((size_t) (end - s) < n) {
        *p = s + 1;
        return 0xFFFD;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p = s + 1;
            return 0xFFFD;
        }

        cp = (cp << 6) | (s[i] & 0x3F);
    }

    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *p = s + 1;
        return 0xFFFD;
    }

    *p = s + n;

    return cp;
}


static inline size_t
statsig_utf8_put(uint32_t cp, char *out)
{
    unsigned char  *o;

    o = (unsigned char *) out;

    if (cp < 0x80) {
        o[0] = (unsigned char) cp;
        return 1;
    }

    if (cp < 0x800) {
        o[0] = (unsigned char) (0xC0 | (cp >> 6));
        o[1] = (unsigned char) (0x80 | (cp & 0x3F));
        return 2;
    }

    if (cp < 0x10000) {
        o[0] = (unsigned char) (0xE0 | (cp >> 12));
        o[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char) (0x80 | (cp & 0x3F));
        return 3;
    }

    o[0] = (unsigned char) (0xF0 | (cp >> 18));
    o[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char) (0x80 | (cp & 0x3F));
    return 4;
}

#endif /* STATSIG_UTF8_H */
