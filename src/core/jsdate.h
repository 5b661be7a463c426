/*
 * Date.parse as V8 (node) implements it, in UTC, for the before / after /
 * on operators.
 */

#ifndef STATSIG_JSDATE_H
#define STATSIG_JSDATE_H

#include <stddef.h>


/* Milliseconds since the epoch, or NaN.  Local time is taken as UTC. */
double statsig_js_date_parse(const char *s, size_t len);

/* TimeClip(x): NaN outside +-8.64e15, else truncated toward zero. */
double statsig_js_time_clip(double t);

#endif /* STATSIG_JSDATE_H */
