/*
 * JavaScript number conversions: Number(string), String(number), parseInt.
 */

#ifndef STATSIG_JSNUM_H
#define STATSIG_JSNUM_H

#include <stddef.h>
#include <stdint.h>


#define STATSIG_NUMBER_STR_SIZE  32


/*
 * A JSON number as int64: a double past int64 (JSON allows 1e300, and an
 * integer near INT64_MAX rounds up to 2^63) makes the cast undefined, so
 * it is clamped; NaN, which JSON cannot give, is 0.
 */
static inline int64_t
statsig_int64_clamp(double d)
{
    if (d != d) {
        return 0;
    }

    if (d >= 9223372036854775808.0) {
        return INT64_MAX;
    }

    if (d < -9223372036854775808.0) {
        return INT64_MIN;
    }

    return (int64_t) d;
}

/* Number(s) for a string: whitespace trimmed, "" -> 0, NaN when invalid. */
double statsig_js_to_number(const char *s, size_t len);

/* String(d): shortest round-trip form; returns the length written. */
size_t statsig_js_number_to_string(double d, char *out);

/* parseInt(s) with radix 10 (or 16 after "0x"); NaN when no digits. */
double statsig_js_parse_int(const char *s, size_t len);

#endif /* STATSIG_JSNUM_H */
