/*
 * libFuzzer: the input is a user object (JSON).  It is parsed with
 * statsig_value_from_json() and evaluated against every spec of a fixed
 * DCS compiled once (fuzz/user_eval_dcs.json, embedded at build time);
 * then again with its strings built as the nginx glue builds them (their
 * conversions made when first read), which must answer the same.
 *
 *   build/fuzz/fuzz_user_eval fuzz/corpus/user_eval
 */

#include "fuzz_common.h"
#include "fuzz_user_eval_dcs.h"     /* generated: fz_dcs[], fz_dcs_len */
#include "../t/unit/lazy_user.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const statsig_snapshot_t  *snap;
    static void                      *blob;
    char                              err[512];
    size_t                            bsize, mark, eager;
    statsig_value_t                   user, lazy;

    if (snap == NULL) {
        fz_init();
        blob = statsig_compile((const char *) fz_dcs, fz_dcs_len, &bsize,
                               err, sizeof(err));
        if (blob == NULL) {
            fprintf(stderr, "fuzz: fixed DCS: %s\n", err);
            abort();
        }

        snap = statsig_snapshot_open(blob, bsize);
        if (snap == NULL) {
            abort();
        }
    }

    mark = fz_nchunks;

    if (statsig_value_from_json(&fz_allocator, (const char *) data, size,
                                &user, err, sizeof(err)) == 0)
    {
        eager = fz_eval_all(snap, &user, 1);

        /* a copy at another address: a session of its own */
        lazy = user;
        lazy_user_strings(&fz_allocator, &lazy, 0);
        if (fz_eval_all(snap, &lazy, 1) != eager) {
            abort();
        }
    }

    fz_release(mark);

    return 0;
}
