/*
 * libFuzzer: the input is a DCS document.  If statsig_compile() accepts
 * it, the snapshot is re-opened from a copy (position independence) and
 * every spec is evaluated for a set of fixed, partly odd users.
 *
 *   make fuzz                      (all targets, FUZZ_SECONDS each)
 *   build/fuzz/fuzz_compile_eval fuzz/corpus/compile_eval
 */

#include "fuzz_common.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int                 inited;
    char                       err[512];
    void                      *blob, *copy;
    size_t                     bsize;
    const statsig_snapshot_t  *snap;

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
    free(blob);

    snap = statsig_snapshot_open(copy, bsize);
    if (snap == NULL) {
        abort();        /* compile output that open() rejects */
    }

    (void) fz_eval_all(snap, fz_users, fz_nusers);

    free(copy);

    return 0;
}
