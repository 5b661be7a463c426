/*
 * libFuzzer: the input is a DCS document.  If statsig_compile() accepts
 * it, the snapshot is re-opened from a copy (position independence) and
 * every spec is evaluated for a set of fixed, partly odd users.
 *
 *   make fuzz                      (all targets, FUZZ_SECONDS each)
 *   build/fuzz/fuzz_compile_eval fuzz/corpus/compile_eval
 */

#include "fuzz_common.h"
#include "snapshot.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int                 inited;
    char                       err[512];
    void                      *blob, *copy, *general;
    size_t                     bsize, sum;
    const statsig_snapshot_t  *snap, *gsnap;

    if (!inited) {
        fz_init();
        inited = 1;
    }

    blob = statsig_compile((const char *) data, size, &bsize, err,
                           sizeof(err));
    if (blob == NULL) {
        if (memchr(err, '\0', sizeof(err)) == NULL) {
            abort();    /* the message must be terminated */
        }

        return 0;
    }

    /* at another address, as in shared memory */
    copy = malloc(bsize);
    if (copy == NULL) {
        free(blob);
        return 0;
    }

    memcpy(copy, blob, bsize);

    snap = statsig_snapshot_open(copy, bsize);
    if (snap == NULL) {
        abort();        /* compile output that open() rejects */
    }

    sum = fz_eval_all(snap, fz_users, fz_nusers);

    /* the rule loop's own paths against statsig_eval_condition's */
    general = blob;
    statsig_snapshot_no_fast(general);
    gsnap = statsig_snapshot_open(general, bsize);
    if (gsnap == NULL || fz_eval_all(gsnap, fz_users, fz_nusers) != sum) {
        fprintf(stderr, "fuzz: the loop's paths answer otherwise\n");
        abort();
    }

    free(blob);
    free(copy);

    return 0;
}
