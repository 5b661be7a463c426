/*
 * JavaScript number conversions: Number(string), String(number), parseInt.
 */

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsnum.h"
#include "jsstr.h"
#include "utf8.h"


static int
statsig_digit_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'Z') {
        return c - 'A' + 10;
    }

    return 99;
}


static double
statsig_parse_radix(const char *s, size_t len, int radix)
{
    double  v;
    size_t  i;
    int     d;

    if (len == 0) {
        return NAN;
    }

    v = 0;
    for (i = 0; i < len; i++) {
        d = statsig_digit_value((unsigned char) s[i]);
        if (d >= radix) {
            return NAN;
        }

        v = v * radix + d;
    }

    return v;
}


/* Could a numeric literal start here (after leading white space)? */
static int
statsig_js_number_start(const char *s, size_t len)
{
    size_t  i;
    int     c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c == ' ' || (c >= '\t' && c <= '\r')) {
            continue;
        }

        /* non-ASCII may be Unicode white space: take the slow path */
        return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'
               || c == 'I' || c >= 0x80;
    }

    return 1;   /* empty or only spaces: 0 */
}


static double statsig_js_to_number_literal(const char *s, size_t len);


double
statsig_js_to_number(const char *s, size_t len)
{
    size_t  i;
    double  d;

    /* most strings (ids, emails, user agents) are not numbers at all */
    if (!statsig_js_number_start(s, len)) {
        return NAN;
    }

    /* plain digits (version parts, buckets, ids): exact below 2^53 */
    if (len > 0 && len <= 15) {
        d = 0;
        for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            d = d * 10 + (s[i] - '0');
        }

        if (i == len) {
            return d;
        }
    }

    return statsig_js_to_number_literal(s, len);
}


/*
 * The rest of Number(s), apart: its buffer for strtod would give the
 * common cases above a frame and a stack check.
 */
#if defined __GNUC__
__attribute__((noinline))
#endif
static double
statsig_js_to_number_literal(const char *s, size_t len)
{
    char    buf[512], *endp;
    size_t  i, digits;
    int     neg;
    double  v;

    statsig_js_trim(&s, &len);

    if (len == 0) {
        return 0;
    }

    if (len > 2 && s[0] == '0') {
        switch (s[1]) {
        case 'x': case 'X':
            return statsig_parse_radix(s + 2, len - 2, 16);
        case 'o': case 'O':
            return statsig_parse_radix(s + 2, len - 2, 8);
        case 'b': case 'B':
            return statsig_parse_radix(s + 2, len - 2, 2);
        }
    }

    i = 0;
    neg = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = (s[0] == '-');
        i = 1;
    }

    if (len - i == 8 && memcmp(s + i, "Infinity", 8) == 0) {
        return neg ? -INFINITY : INFINITY;
    }

    /* StrDecimalLiteral: digits [. digits] [e [+-] digits] */
    digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }

    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
    }

    if (digits == 0) {
        return NAN;
    }

    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }

        if (i == len || s[i] < '0' || s[i] > '9') {
            return NAN;
        }

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }

    if (i != len) {
        return NAN;
    }

    if (len < sizeof(buf)) {
        memcpy(buf, s, len);
        buf[len] = '\0';
        return strtod(buf, &endp);
    }

    /* a very long literal: strtod needs a terminated copy */
    endp = malloc(len + 1);
    if (endp == NULL) {
        return NAN;
    }

    memcpy(endp, s, len);
    endp[len] = '\0';
    v = strtod(endp, NULL);
    free(endp);

    return v;
}


/*
 * An integer of magnitude 1 .. 2^53 - 1, two digits a division (event
 * times have 13: this is most of the numbers an exposure writes)
 */
static size_t
sg_js_integer_to_string(double d, char *out)
{
    static const char  pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";

    char      buf[24], *p;
    size_t    o, n;
    uint64_t  u;
    unsigned  r;

    p = buf + sizeof(buf);
    u = (uint64_t) fabs(d);

    while (u >= 100) {
        r = (unsigned) (u % 100);
        u /= 100;
        p -= 2;
        memcpy(p, pairs + 2 * r, 2);
    }

    if (u >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * u, 2);

    } else {
        *--p = (char) ('0' + u);
    }

    o = 0;

    if (d < 0) {
        out[o++] = '-';
    }

    n = (size_t) (buf + sizeof(buf) - p);
    memcpy(out + o, p, n);
    o += n;
    out[o] = '\0';

    return o;
}


/*
 * d, of magnitude 1e-6 .. 1e9, when it is the double nearest m / 10^k for
 * an integer m and k <= 6: the fewest places that give d back (m / 10^k
 * is correctly rounded, as strtod of its digits is), written as
 * Number::toString writes it (no exponent in that range).  0: not so.
 */
static size_t
sg_js_decimal_to_string(double d, char *out)
{
    char      frac[8];
    double    a, m, scale;
    size_t    o;
    uint64_t  u, pow10;
    int       k, i;

    a = fabs(d);
    scale = 1;
    pow10 = 1;

    for (k = 1; k <= 6; k++) {
        scale *= 10;
        pow10 *= 10;

        /* a < 1e9, so m < 1e15: an exact integer */
        m = floor(a * scale + 0.5);

        if (m / scale != a) {
            continue;
        }

        u = (uint64_t) m;

        o = 0;
        if (d < 0) {
            out[o++] = '-';
        }

        o += sg_js_integer_to_string((double) (u / pow10), out + o);

        u %= pow10;
        for (i = k - 1; i >= 0; i--) {
            frac[i] = (char) ('0' + u % 10);
            u /= 10;
        }

        /* fewer places did not give d back: the last one is not 0 */
        out[o++] = '.';
        memcpy(out + o, frac, (size_t) k);
        o += (size_t) k;
        out[o] = '\0';

        return o;
    }

    return 0;
}


size_t
statsig_js_number_to_string(double d, char *out)
{
    char    digits[40], *e, *p;
    int     prec, lo, hi, k, n, exp10, i;
    size_t  o;

    if (isnan(d)) {
        memcpy(out, "NaN", 4);
        return 3;
    }

    if (d == 0) {
        memcpy(out, "0", 2);
        return 1;
    }

    if (isinf(d)) {
        if (d < 0) {
            memcpy(out, "-Infinity", 10);
            return 9;
        }

        memcpy(out, "Infinity", 9);
        return 8;
    }

    /* integers below 2^53 print as plain digits: the common case */
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        return sg_js_integer_to_string(d, out);
    }

    /* a few decimal places (prices, ratios): no printf */
    if (fabs(d) >= 1e-6 && fabs(d) < 1e9) {
        o = sg_js_decimal_to_string(d, out);
        if (o) {
            return o;
        }
    }

    /*
     * The shortest precision that round-trips.  When p <= 15 digits do,
     * the 15-digit rounding of d is those p digits and zeros (d is within
     * half an ulp, 2^-53 relative, of them: less than half a unit of the
     * 15th digit), so it is tried first; else 16, else 17, which always
     * round-trip.  Each is the correctly rounded one, the closest to d,
     * as Number::toString asks.  (Subnormals have fewer bits: for them
     * the search starts lower.)
     */
    prec = 15;

    if (fabs(d) < DBL_MIN) {
        /* subnormal: fewer bits, so fewer digits may do; bisection */
        lo = 1;
        hi = 17;
        while (lo < hi) {
            prec = (lo + hi) / 2;
            snprintf(digits, sizeof(digits), "%.*e", prec - 1, d);
            if (strtod(digits, NULL) == d) {
                hi = prec;

            } else {
                lo = prec + 1;
            }
        }

        prec = lo;
    }

    for (/* void */; prec < 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, d);
        if (strtod(digits, NULL) == d) {
            break;
        }
    }

    if (prec == 17) {
        snprintf(digits, sizeof(digits), "%.16e", d);
    }

    /* digits is [-]D[.DDD]e[+-]XX: collect significant digits */
    o = 0;
    p = digits;
    if (*p == '-') {
        out[o++] = '-';
        p++;
    }

    e = strchr(p, 'e');
    exp10 = atoi(e + 1);

    k = 0;
    for (; p < e; p++) {
        if (*p != '.') {
            digits[k++] = *p;
        }
    }

    while (k > 1 && digits[k - 1] == '0') {
        k--;
    }

    /* ECMAScript Number::toString: n is the decimal point position */
    n = exp10 + 1;

    if (k <= n && n <= 21) {
        for (i = 0; i < k; i++) {
            out[o++] = digits[i];
        }

        for (i = k; i < n; i++) {
            out[o++] = '0';
        }

    } else if (0 < n && n <= 21) {
        for (i = 0; i < n; i++) {
            out[o++] = digits[i];
        }

        out[o++] = '.';
        for (i = n; i < k; i++) {
            out[o++] = digits[i];
        }

    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (i = 0; i < -n; i++) {
            out[o++] = '0';
        }

        for (i = 0; i < k; i++) {
            out[o++] = digits[i];
        }

    } else {
        out[o++] = digits[0];
        if (k > 1) {
            out[o++] = '.';
            for (i = 1; i < k; i++) {
                out[o++] = digits[i];
            }
        }

        o += (size_t) sprintf(out + o, "e%c%d", n - 1 >= 0 ? '+' : '-',
                              abs(n - 1));
    }

    out[o] = '\0';

    return o;
}


double
statsig_js_parse_int(const char *s, size_t len)
{
    size_t  i, start;
    int     neg, radix, d;
    double  v;

    /* parseInt trims leading white space only */
    {
        const char  *t;
        size_t       tl;

        t = s;
        tl = len;
        statsig_js_trim(&t, &tl);
        len = len - (size_t) (t - s);
        s = t;
    }

    i = 0;
    neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = (s[i] == '-');
        i++;
    }

    radix = 10;
    if (i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        radix = 16;
        i += 2;
    }

    start = i;
    v = 0;
    while (i < len) {
        d = statsig_digit_value((unsigned char) s[i]);
        if (d >= radix) {
            break;
        }

        v = v * radix + d;
        i++;
    }

    if (i == start) {
        return NAN;
    }

    if (radix == 10 && i - start > 15) {
        /* long decimal runs: let strtod round like JavaScript does */
        char  buf[400];

        if (i - start < sizeof(buf)) {
            memcpy(buf, s + start, i - start);
            buf[i - start] = '\0';
            v = strtod(buf, NULL);
        }
    }

    return neg ? -v : v;
}
