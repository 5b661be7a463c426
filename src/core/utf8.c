/*
 * Strict UTF-8 validation, for the values the glue takes from requests.
 */

#include <string.h>

#include "utf8.h"


#define SG_UTF8_HIGH8  0x8080808080808080ULL


/* sequence by sequence, for a value that is not all ASCII */
static int
sg_utf8_valid_slow(const unsigned char *p, const unsigned char *end)
{
    uint32_t  cp, min;
    size_t    n, i;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        if ((*p & 0xE0) == 0xC0) {
            n = 1; cp = *p & 0x1F; min = 0x80;

        } else if ((*p & 0xF0) == 0xE0) {
            n = 2; cp = *p & 0x0F; min = 0x800;

        } else if ((*p & 0xF8) == 0xF0) {
            n = 3; cp = *p & 0x07; min = 0x10000;

        } else {
            return 0;
        }

        p++;

        if ((size_t) (end - p) < n) {
            return 0;
        }

        for (i = 0; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (p[i] & 0x3F);
        }

        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }

        p += n;
    }

    return 1;
}


int
statsig_utf8_valid(const char *s, size_t len)
{
    const unsigned char  *p;
    uint64_t              x, acc;
    size_t                i;

    p = (const unsigned char *) s;

    /*
     * ASCII, the most of it: the high bits of every word at once, the
     * last word overlapping the one before (no byte loop for the tail)
     */
    if (len >= 8) {
        acc = 0;

        for (i = 0; i + 8 <= len; i += 8) {
            memcpy(&x, p + i, 8);
            acc |= x;
        }

        memcpy(&x, p + len - 8, 8);

        if (((acc | x) & SG_UTF8_HIGH8) == 0) {
            return 1;
        }

    } else {
        for (i = 0; i < len && p[i] < 0x80; i++) { /* void */ }

        if (i == len) {
            return 1;
        }
    }

    return sg_utf8_valid_slow(p, p + len);
}
