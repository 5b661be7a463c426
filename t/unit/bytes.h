/*
 * A growable byte string for the C unit tests and the fuzz targets.
 * bytes_add() leaves a NUL after the bytes (not counted in len), so that
 * a text built with it is a C string too.  Out of memory aborts: a test
 * has nothing to fall back on.
 */

#ifndef STATSIG_TEST_BYTES_H
#define STATSIG_TEST_BYTES_H

#include <stdlib.h>
#include <string.h>


typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
} bytes_t;


/* data NULL: len bytes of room at the end, left as they are */
static void
bytes_add(bytes_t *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2 + 64;
        b->data = realloc(b->data, b->cap);
        if (b->data == NULL) {
            abort();
        }
    }

    if (data != NULL && len) {
        memcpy(b->data + b->len, data, len);
    }

    b->len += len;
    b->data[b->len] = '\0';
}


static void
bytes_adds(bytes_t *b, const char *s)
{
    bytes_add(b, s, strlen(s));
}

#endif /* STATSIG_TEST_BYTES_H */
