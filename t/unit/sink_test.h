/*
 * What t/unit/test_sink_format.c and t/unit/test_sink_relay.c share: the
 * formatter and its output buffers (path P, body B, err), the body read
 * back with jansson, text and repeated bytes to build inputs with, and
 * the check that a call made again after a failed allocation gives the
 * same output.
 */

#ifndef STATSIG_SINK_TEST_H
#define STATSIG_SINK_TEST_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sink_format.h"


static statsig_sink_fmt_t  F;
static statsig_buf_t       P, B;
static char                err[256];


/* the buffer as a C string (a NUL after the bytes, not counted) */
static const char *
cstr(statsig_buf_t *b)
{
    statsig_buf_addc(b, '\0');
    b->len--;
    return b->data ? b->data : "";
}


static void
reset_out(void)
{
    statsig_buf_free(&P);
    statsig_buf_free(&B);
}


/* the body as JSON (NULL when it is not), \u0000 allowed */
static json_t *
body_json(void)
{
    json_error_t  je;

    return json_loadb(B.data ? B.data : "", B.len, JSON_ALLOW_NUL, &je);
}


/* a member by its path of keys, "a.b.c" (NULL when there is none) */
static json_t *
jget(json_t *j, const char *path)
{
    char   key[256], *dot;
    char  *p;

    snprintf(key, sizeof(key), "%s", path);
    p = key;

    while (j != NULL && (dot = strchr(p, '.')) != NULL) {
        *dot = '\0';
        j = json_object_get(j, p);
        p = dot + 1;
    }

    return j ? json_object_get(j, p) : NULL;
}


static const char *
jstr(json_t *j, const char *path)
{
    return json_string_value(jget(j, path));
}


/* json_equal with a JSON text */
static int
jeq(json_t *j, const char *want)
{
    json_error_t  je;
    json_t       *w;
    int           eq;

    w = json_loads(want, JSON_ALLOW_NUL, &je);
    if (w == NULL) {
        printf("# bad expected JSON: %s\n", want);
        return 0;
    }

    eq = j != NULL && json_equal(j, w);
    if (!eq && j != NULL) {
        char  *d = json_dumps(j, JSON_COMPACT);
        printf("#   got      %s\n#   expected %s\n", d, want);
        free(d);
    }

    json_decref(w);

    return eq;
}


/* s, n times */
static void
rep(statsig_buf_t *b, const char *s, size_t n)
{
    while (n--) {
        statsig_buf_adds(b, s);
    }
}


/* printf to one of 4 static buffers, taken in turn */
static char *
fmt(const char *f, ...)
{
    static char  bufs[4][4096];
    static int   k;
    va_list      ap;
    char        *s;

    s = bufs[k++ & 3];
    va_start(ap, f);
    vsnprintf(s, sizeof(bufs[0]), f, ap);
    va_end(ap);

    return s;
}


/*
 * P and B after allocation k failed and the call was made again: the
 * first (k 0) kept in want_p and want_b, each later one the same bytes.
 */
static int
same_out(long k, statsig_buf_t *want_p, statsig_buf_t *want_b)
{
    if (k == 0) {
        want_p->len = 0;
        want_b->len = 0;
        statsig_buf_add(want_p, P.data, P.len);
        statsig_buf_add(want_b, B.data, B.len);
        return 1;
    }

    return P.len == want_p->len && B.len == want_b->len
           && (P.len == 0 || memcmp(P.data, want_p->data, P.len) == 0)
           && memcmp(B.data, want_b->data, B.len) == 0;
}

#endif /* STATSIG_SINK_TEST_H */
