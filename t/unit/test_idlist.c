/*
 * src/core/idlist: the "+id" / "-id" builder, the blob, and a builder
 * rebuilt from a published blob (a worker taking the fetch over).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idlist.h"
#include "tap.h"


static int
has(const statsig_idlists_t *l, const char *list, const char *id)
{
    return statsig_idlists_contains(l, list, strlen(list), id);
}


int
main(void)
{
    statsig_idlist_builder_t  *b, *again;
    const statsig_idlists_t   *l, *l2, *l3;
    void                      *blob, *blob2, *blob3;
    size_t                     size, size2, size3;
    int                        vips, beta, empty;

    b = statsig_idlist_builder_create();
    vips = statsig_idlist_builder_list(b, "vips", 4);
    beta = statsig_idlist_builder_list(b, "beta", 4);
    empty = statsig_idlist_builder_list(b, "empty", 5);
    ok(vips == 0 && beta == 1 && empty == 2, "three lists");

    is_int(statsig_idlist_builder_apply(b, vips,
               "+AAAAAAAA\n+BBBBBBBB\r\n+CCCCCCCC\n-BBBBBBBB\n+short\n", 51),
           0, "apply +/- lines");
    is_int(statsig_idlist_builder_apply(b, beta, "+DDDDDDDD", 9), 0,
           "apply a last line without a newline");
    /* statsig-node trims what follows the sign: spaces, tabs, NBSP */
    is_int(statsig_idlist_builder_apply(b, beta,
               "+ FFFFFFFF\t\n+GGGGGGGG \xc2\xa0\n+HHHHHHH\n", 34), 0,
           "apply lines with white space around the ids");
    is_int(statsig_idlist_builder_apply(b, beta, "garbage", 7), -1,
           "a range that does not start with + or - is refused");
    is_int((int) statsig_idlist_builder_count(b, vips), 2, "vips: 2 ids");

    blob = statsig_idlist_builder_finish(b, &size);
    l = statsig_idlists_open(blob, size);
    ok(l != NULL, "the blob opens");
    is_int((int) statsig_idlists_count(l), 3, "three lists in the blob");
    ok(has(l, "vips", "AAAAAAAA") && has(l, "vips", "CCCCCCCC")
       && !has(l, "vips", "BBBBBBBB") && has(l, "beta", "DDDDDDDD")
       && !has(l, "beta", "AAAAAAAA") && !has(l, "nope", "AAAAAAAA"),
       "membership as applied");
    ok(has(l, "beta", "FFFFFFFF") && has(l, "beta", "GGGGGGGG")
       && !has(l, "beta", "HHHHHHH"),
       "ids trimmed as statsig-node trims them (a 7-character one is none)");

    /* rebuilt from the blob: the same blob again, then goes on */
    again = statsig_idlist_builder_from(l);
    ok(again != NULL, "a builder from the blob");
    is_int((int) statsig_idlist_builder_count(again,
               statsig_idlist_builder_list(again, "vips", 4)), 2,
           "its vips list holds 2 ids");
    blob2 = statsig_idlist_builder_finish(again, &size2);
    l2 = statsig_idlists_open(blob2, size2);
    ok(l2 != NULL && size2 == size && memcmp(blob, blob2, size) == 0,
       "it finishes into the same blob, byte for byte");

    is_int(statsig_idlist_builder_apply(again,
               statsig_idlist_builder_list(again, "vips", 4),
               "-AAAAAAAA\n+EEEEEEEE\n", 20), 0,
           "later lines apply to the rebuilt builder");
    blob3 = statsig_idlist_builder_finish(again, &size3);
    l3 = statsig_idlists_open(blob3, size3);
    ok(l3 && !has(l3, "vips", "AAAAAAAA") && has(l3, "vips", "EEEEEEEE")
       && has(l3, "vips", "CCCCCCCC") && has(l3, "beta", "DDDDDDDD"),
       "and the lists are what a builder that never stopped would hold");

    statsig_idlist_builder_free(again);
    again = statsig_idlist_builder_from(NULL);
    ok(again != NULL && statsig_idlist_builder_count(again, 0) == 0,
       "from no blob: an empty builder");

    /* a blob read from a file: checked before it is opened */
    ok(statsig_idlists_check(blob, size) == 0, "a finished blob checks");
    ok(statsig_idlists_check(blob, size - 8) != 0, "a cut blob does not");
    {
        unsigned char  *bad;
        uint32_t        v;
        size_t          i, off;

        bad = malloc(size);
        memcpy(bad, blob, size);
        /* the first list's name: past the end */
        memcpy(&v, bad + 12, 4);            /* header: lists' offset */
        off = v;
        v = (uint32_t) size;
        memcpy(bad + off, &v, 4);
        ok(statsig_idlists_check(bad, size) != 0,
           "a name outside the blob does not");

        memcpy(bad, blob, size);
        v = 0xFFFFFFF0u;
        memcpy(bad + off + 8, &v, 4);       /* the first list's count */
        ok(statsig_idlists_check(bad, size) != 0,
           "a count past the end does not");

        memcpy(bad, blob, size);
        memcpy(bad + off, (unsigned char *) blob + off + 16, 8);
        ok(statsig_idlists_check(bad, size) != 0,
           "names out of order do not");

        /* every single-byte change: checked or not, never a crash */
        for (i = 0; i < size; i++) {
            memcpy(bad, blob, size);
            bad[i] ^= 0xA5;
            if (statsig_idlists_check(bad, size) == 0) {
                (void) has(statsig_idlists_open(bad, size), "vips",
                           "AAAAAAAA");
            }
        }
        ok(1, "every one-byte change checked or read safely");

        free(bad);
    }

    statsig_idlist_builder_free(again);
    statsig_idlist_builder_free(b);
    free(blob);
    free(blob2);
    free(blob3);

    return done_testing();
}
