/*
 * JavaScript string semantics over UTF-8 bytes.
 */

#ifndef STATSIG_JSSTR_H
#define STATSIG_JSSTR_H

#include <stddef.h>
#include <stdint.h>


/* Upper bound of the bytes statsig_js_lower() writes for len input bytes. */
#define statsig_js_lower_size(len)  ((len) * 3 / 2 + 1)

/*
 * String.prototype.toLowerCase: writes the result (NUL-terminated) to out,
 * which holds at least statsig_js_lower_size(len) bytes; returns its length.
 */
size_t statsig_js_lower(const char *s, size_t len, char *out);

/* 1 when toLowerCase would return the input unchanged. */
int statsig_js_is_lower(const char *s, size_t len);

/* String.prototype.length: UTF-16 code units. */
size_t statsig_js_length(const char *s, size_t len);

/* Byte search: is needle a substring / prefix / suffix of hay? */
int statsig_str_contains(const char *hay, size_t hlen, const char *needle,
    size_t nlen);

/* WhiteSpace and LineTerminator of ECMAScript (trim, Date.parse) */
int statsig_js_space(uint32_t cp);

/* String.prototype.trim: *s and *len narrowed to the trimmed part. */
void statsig_js_trim(const char **s, size_t *len);

#endif /* STATSIG_JSSTR_H */
