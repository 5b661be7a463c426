/*
 * Shared by the fuzz targets that write JSON answers (fuzz_mcp,
 * fuzz_ofrep): what they write must parse, checked with jansson.
 */

#ifndef FUZZ_JSON_H
#define FUZZ_JSON_H

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "buf.h"


static void
fz_parses(statsig_buf_t *b, const char *what)
{
    json_t        *j;
    json_error_t   e;

    if (b->failed) {
        return;
    }

    j = json_loadb(b->data, b->len,
                   JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                   &e);
    if (j == NULL) {
        fprintf(stderr, "fuzz: %s does not parse (%s): %.*s\n", what, e.text,
                (int) (b->len > 400 ? 400 : b->len), b->data);
        abort();
    }

    json_decref(j);
}

#endif /* FUZZ_JSON_H */
