/*
 * A user's strings rebuilt as the nginx glue builds them
 * (statsig_value_string_lazy: Number() and the lower case made when an
 * operator first reads them), for the unit tests and the fuzzer that
 * check such a user answers as the same user parsed from JSON.
 */

#ifndef STATSIG_LAZY_USER_H
#define STATSIG_LAZY_USER_H

#include <stdio.h>
#include <stdlib.h>

#include "statsig.h"


/* the user's strings and those of its objects (custom, ...), in place */
static void
lazy_user_strings(const statsig_alloc_t *a, statsig_value_t *v, int depth)
{
    statsig_value_t  *items;
    size_t            i;

    if (v->type != STATSIG_V_OBJECT || depth > 1) {
        return;
    }

    items = (statsig_value_t *) v->items;

    for (i = 0; i < v->n; i++) {
        if (items[i].type == STATSIG_V_STRING) {
            if (statsig_value_string_lazy(a, items[i].str, items[i].len,
                                          &items[i])
                != 0)
            {
                fprintf(stderr, "lazy string: out of memory\n");
                abort();
            }

        } else {
            lazy_user_strings(a, &items[i], depth + 1);
        }
    }
}

#endif /* STATSIG_LAZY_USER_H */
