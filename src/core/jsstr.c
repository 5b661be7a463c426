/*
 * JavaScript string semantics over UTF-8 bytes.
 */

#include <stdint.h>
#include <string.h>

#include "jsstr.h"
#include "utf8.h"


typedef struct {
    uint32_t  first;
    uint32_t  last;
    int32_t   delta;
    uint32_t  stride;
} statsig_lower_run_t;

typedef struct {
    uint32_t  cp;
    uint32_t  lower[3];
    uint32_t  n;
} statsig_lower_special_t;

typedef struct {
    uint32_t  first;
    uint32_t  last;
} statsig_cp_range_t;

#include "unicode_lower_table.h"


/*
 * Eight ASCII bytes at a time (the ids, emails and user agents users carry
 * are mostly ASCII): bit 7 of each byte of the result is set where the
 * byte is 'A'..'Z'.  Bytes are below 0x80, so the adds carry nowhere.
 */
#define SG_HIGH8  0x8080808080808080ULL

static inline uint64_t
statsig_upper8(uint64_t x)
{
    uint64_t  ge_a, gt_z;

    ge_a = x + 0x3F3F3F3F3F3F3F3FULL;       /* 0x80 - 'A' */
    gt_z = x + 0x2525252525252525ULL;       /* 0x80 - 'Z' - 1 */

    return ge_a & ~gt_z & SG_HIGH8;
}


/* lower-cases 8 bytes of ASCII into out; 0 when one is not ASCII */
static inline int
statsig_lower_ascii8(const unsigned char *p, char *out)
{
    uint64_t  x;

    memcpy(&x, p, 8);

    if (x & SG_HIGH8) {
        return 0;
    }

    x |= statsig_upper8(x) >> 2;            /* 0x80 >> 2: 0x20 */
    memcpy(out, &x, 8);

    return 1;
}


#define STATSIG_CAPITAL_SIGMA  0x3A3
#define STATSIG_FINAL_SIGMA    0x3C2


static uint32_t
statsig_lower_cp(uint32_t cp)
{
    size_t                      lo, hi, mid;
    const statsig_lower_run_t  *r;

    if (cp < 0x80) {
        return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    }

    lo = 0;
    hi = sizeof(statsig_lower_runs) / sizeof(statsig_lower_runs[0]);

    while (lo < hi) {
        mid = (lo + hi) / 2;
        r = &statsig_lower_runs[mid];

        if (cp < r->first) {
            hi = mid;

        } else if (cp > r->last) {
            lo = mid + 1;

        } else {
            if ((cp - r->first) % r->stride == 0) {
                return (uint32_t) ((int32_t) cp + r->delta);
            }

            return cp;
        }
    }

    return cp;
}


static int
statsig_in_ranges(uint32_t cp, const statsig_cp_range_t *r, size_t n)
{
    size_t  lo, hi, mid;

    lo = 0;
    hi = n;
    while (lo < hi) {
        mid = (lo + hi) / 2;
        if (cp < r[mid].first) {
            hi = mid;

        } else if (cp > r[mid].last) {
            lo = mid + 1;

        } else {
            return 1;
        }
    }

    return 0;
}


#define statsig_is_cased(cp)                                                 \
    statsig_in_ranges(cp, statsig_cased_ranges,                              \
                      sizeof(statsig_cased_ranges)                           \
                      / sizeof(statsig_cased_ranges[0]))

#define statsig_is_case_ignorable(cp)                                        \
    statsig_in_ranges(cp, statsig_case_ignorable_ranges,                     \
                      sizeof(statsig_case_ignorable_ranges)                  \
                      / sizeof(statsig_case_ignorable_ranges[0]))


/*
 * Unicode's Final_Sigma: a cased letter before (case-ignorables skipped)
 * and none after.  sigma points at the sigma, next just past it.
 */
static int
statsig_final_sigma(const unsigned char *start, const unsigned char *sigma,
    const unsigned char *next, const unsigned char *end)
{
    const unsigned char  *p, *q;
    uint32_t              cp;
    int                   before;

    before = 0;
    p = sigma;
    while (p > start) {
        q = p - 1;
        while (q > start && (*q & 0xC0) == 0x80) {
            q--;
        }

        p = q;
        cp = statsig_utf8_next(&q, end);
        if (!statsig_is_case_ignorable(cp)) {
            before = statsig_is_cased(cp);
            break;
        }
    }

    if (!before) {
        return 0;
    }

    p = next;
    while (p < end) {
        cp = statsig_utf8_next(&p, end);
        if (!statsig_is_case_ignorable(cp)) {
            return !statsig_is_cased(cp);
        }
    }

    return 1;
}


size_t
statsig_js_lower(const char *s, size_t len, char *out)
{
    const unsigned char  *p, *end, *start, *at;
    size_t                o, i, k;
    uint32_t              cp, low;

    p = (const unsigned char *) s;
    start = p;
    end = p + len;
    o = 0;

    while (p < end) {
        if (end - p >= 8 && statsig_lower_ascii8(p, out + o)) {
            p += 8;
            o += 8;
            continue;
        }

        if (*p < 0x80) {
            out[o++] = (char) ((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            p++;
            continue;
        }

        at = p;
        cp = statsig_utf8_next(&p, end);

        if (cp == STATSIG_CAPITAL_SIGMA) {
            low = statsig_final_sigma(start, at, p, end)
                  ? STATSIG_FINAL_SIGMA : 0x3C3;
            o += statsig_utf8_put(low, out + o);
            continue;
        }

        for (i = 0; i < sizeof(statsig_lower_specials)
                        / sizeof(statsig_lower_specials[0]); i++)
        {
            if (statsig_lower_specials[i].cp == cp) {
                break;
            }
        }

        if (i < sizeof(statsig_lower_specials)
                / sizeof(statsig_lower_specials[0]))
        {
            for (k = 0; k < statsig_lower_specials[i].n; k++) {
                o += statsig_utf8_put(statsig_lower_specials[i].lower[k],
                                      out + o);
            }

        } else {
            o += statsig_utf8_put(statsig_lower_cp(cp), out + o);
        }
    }

    out[o] = '\0';

    return o;
}


int
statsig_js_is_lower(const char *s, size_t len)
{
    const unsigned char  *p, *end;
    uint32_t              cp;
    uint64_t              x;

    p = (const unsigned char *) s;
    end = p + len;

    while (p < end) {
        if (end - p >= 8) {
            memcpy(&x, p, 8);

            if ((x & SG_HIGH8) == 0) {
                if (statsig_upper8(x)) {
                    return 0;
                }

                p += 8;
                continue;
            }

        } else if (len >= 8) {
            /* the tail as the last word, its bytes before p checked
             * already (ASCII there: none upper case) */
            memcpy(&x, end - 8, 8);

            if ((x & SG_HIGH8) == 0) {
                return !statsig_upper8(x);
            }
        }

        if (*p < 0x80) {
            if (*p >= 'A' && *p <= 'Z') {
                return 0;
            }

            p++;
            continue;
        }

        cp = statsig_utf8_next(&p, end);

        if (cp == 0xFFFD || cp == STATSIG_CAPITAL_SIGMA
            || statsig_lower_cp(cp) != cp || cp == 0x130)
        {
            return 0;
        }
    }

    return 1;
}


size_t
statsig_js_length(const char *s, size_t len)
{
    const unsigned char  *p, *end;
    size_t                n;

    p = (const unsigned char *) s;
    end = p + len;
    n = 0;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            n++;
            continue;
        }

        n += (statsig_utf8_next(&p, end) >= 0x10000) ? 2 : 1;
    }

    return n;
}


int
statsig_str_contains(const char *hay, size_t hlen, const char *needle,
    size_t nlen)
{
    size_t  i;

    if (nlen == 0) {
        return 1;
    }

    if (nlen > hlen) {
        return 0;
    }

    for (i = 0; i + nlen <= hlen; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0) {
            return 1;
        }
    }

    return 0;
}


int
statsig_js_space(uint32_t cp)
{
    switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
    case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000: case 0xFEFF:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}


void
statsig_js_trim(const char **s, size_t *len)
{
    const unsigned char  *p, *end, *q;
    uint32_t              cp;

    p = (const unsigned char *) *s;
    end = p + *len;

    while (p < end) {
        q = p;
        cp = (*p < 0x80) ? *q++ : statsig_utf8_next(&q, end);
        if (!statsig_js_space(cp)) {
            break;
        }

        p = q;
    }

    /* from the end: one code point back at a time */
    while (end > p) {
        q = end - 1;
        while (q > p && (*q & 0xC0) == 0x80) {
            q--;
        }

        {
            const unsigned char  *r = q;

            cp = (*q < 0x80) ? *q : statsig_utf8_next(&r, end);
        }

        if (!statsig_js_space(cp)) {
            break;
        }

        end = q;
    }

    *s = (const char *) p;
    *len = (size_t) (end - p);
}
