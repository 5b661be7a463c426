/*
 * src/core/idlist: statsig_idlists_list(), the lists of a blob in name
 * order with their sorted ids (what statsig_api's get_id_lists serves).
 */

#include <stdlib.h>
#include <string.h>

#include "idlist.h"
#include "tap.h"


int
main(void)
{
    statsig_idlist_builder_t  *b;
    const statsig_idlists_t   *l;
    const char                *name, *ids;
    void                      *blob;
    size_t                     size, name_len, count;

    ok(statsig_idlists_list(NULL, 0, &name, &name_len, &ids, &count) == -1,
       "no blob: no list");

    b = statsig_idlist_builder_create();
    (void) statsig_idlist_builder_list(b, "zeta", 4);
    (void) statsig_idlist_builder_list(b, "alpha", 5);
    (void) statsig_idlist_builder_list(b, "empty", 5);

    is_int(statsig_idlist_builder_apply(b, 0,
               "+CCCCCCCC\n+AAAAAAAA\n+BBBBBBBB\n-CCCCCCCC\n", 40), 0,
           "zeta: +C +A +B -C");
    is_int(statsig_idlist_builder_apply(b, 1, "+DDDDDDDD\n", 10), 0,
           "alpha: +D");

    blob = statsig_idlist_builder_finish(b, &size);
    l = statsig_idlists_open(blob, size);
    ok(l != NULL, "a blob");

    ok(statsig_idlists_list(l, 0, &name, &name_len, &ids, &count) == 0
       && name_len == 5 && memcmp(name, "alpha", 5) == 0 && count == 1
       && memcmp(ids, "DDDDDDDD", 8) == 0,
       "list 0: alpha, one id");

    ok(statsig_idlists_list(l, 1, &name, &name_len, &ids, &count) == 0
       && name_len == 5 && memcmp(name, "empty", 5) == 0 && count == 0,
       "list 1: empty, no ids");

    ok(statsig_idlists_list(l, 2, &name, &name_len, &ids, &count) == 0
       && name_len == 4 && memcmp(name, "zeta", 4) == 0 && count == 2
       && memcmp(ids, "AAAAAAAABBBBBBBB", 16) == 0,
       "list 2: zeta, its ids sorted and contiguous, the removed one gone");

    ok(statsig_idlists_list(l, 3, &name, &name_len, &ids, &count) == -1,
       "no list 3");

    statsig_idlist_builder_free(b);
    free(blob);

    return done_testing();
}
