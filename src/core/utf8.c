/*
 * Strict UTF-8 validation, for the values the glue takes from requests.
 */

#include <string.h>

#include "utf8.h"


#define SG_UTF8_HIGH8  0x8080808080808080ULL


/*
 * Sequence by sequence, for a value that is not all ASCII: utf8_next's
 * U+FFFD from an invalid sequence takes one byte, a literal one three.
 */
static int
sg_utf8_valid_slow(const unsigned char *p, const unsigned char *end)
{
    const unsigned char  *q;

    while (p < end) {
        q = p;

        if (statsig_utf8_next(&p, end) == 0xFFFD && p - q == 1) {
            return 0;
        }
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
