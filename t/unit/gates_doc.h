/*
 * A download config spec of n feature gates, each with a rule and a
 * condition, that compiles: a document of any size for
 * t/unit/test_compile_mem.c and t/unit/test_no_updates.c.
 */

#ifndef STATSIG_GATES_DOC_H
#define STATSIG_GATES_DOC_H

#include <stdio.h>

#include "bytes.h"


/* b holds the document after, has_updates the member's JSON value */
static void
gates_doc(bytes_t *b, size_t n, const char *has_updates)
{
    char    gate[512];
    size_t  i;

    b->len = 0;
    bytes_adds(b, "{\"has_updates\":");
    bytes_adds(b, has_updates);
    bytes_adds(b, ",\"time\":1,\"feature_gates\":[");

    for (i = 0; i < n; i++) {
        snprintf(gate, sizeof(gate),
                 "%s{\"name\":\"g%zu\",\"type\":\"feature_gate\","
                 "\"salt\":\"s%zu\",\"enabled\":true,"
                 "\"defaultValue\":false,\"rules\":[{\"name\":\"r\","
                 "\"id\":\"r%zu\",\"salt\":\"r\",\"passPercentage\":50,"
                 "\"returnValue\":true,\"conditions\":[{\"type\":"
                 "\"user_field\",\"operator\":\"any\",\"field\":\"email\","
                 "\"targetValue\":[\"a%zu\",%zu.5]}]}]}",
                 i ? "," : "", i, i, i, i, i);
        bytes_adds(b, gate);
    }

    bytes_adds(b, "],\"dynamic_configs\":[],\"layer_configs\":[]}");
}

#endif /* STATSIG_GATES_DOC_H */
