/*
 * JavaScript number conversions: Number(string), String(number), parseInt.
 */

#ifndef STATSIG_JSNUM_H
#define STATSIG_JSNUM_H

#include <stddef.h>


#define STATSIG_NUMBER_STR_SIZE  32

/* Number(s) for a string: whitespace trimmed, "" -> 0, NaN when invalid. */
double statsig_js_to_number(const char *s, size_t len);

/* String(d): shortest round-trip form; returns the length written. */
size_t statsig_js_number_to_string(double d, char *out);

/* parseInt(s) with radix 10 (or 16 after "0x"); NaN when no digits. */
double statsig_js_parse_int(const char *s, size_t len);

#endif /* STATSIG_JSNUM_H */
