/*
 * What the unit tests of the JSON-RPC and OFREP handlers share: a
 * statsig_value_t from a JSON text, on a calloc allocator (never freed:
 * a test's values live as long as it does).
 */

#ifndef STATSIG_VALUE_TEST_H
#define STATSIG_VALUE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statsig.h"


static void *
test_alloc(void *data, size_t size)
{
    (void) data;
    return calloc(1, size);
}


static statsig_alloc_t  alloc = { test_alloc, NULL };


static statsig_value_t *
val(const char *json)
{
    char              err[256];
    statsig_value_t  *v;

    v = calloc(1, sizeof(statsig_value_t));
    if (statsig_value_from_json(&alloc, json, strlen(json), v, err,
                                sizeof(err)) != 0)
    {
        printf("# bad test JSON %s: %s\n", json, err);
        exit(2);
    }

    return v;
}

#endif /* STATSIG_VALUE_TEST_H */
