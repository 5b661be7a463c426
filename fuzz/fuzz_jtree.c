/*
 * libFuzzer: the input is any text.  jtree (the compiler's parser) must
 * accept exactly what jansson accepts with the compiler's flags and build
 * the same tree; one tree is reused across inputs, as a fetching worker
 * reuses it across swaps.
 *
 * The same text then goes through statsig_compile_in(): its "no updates"
 * answer (statsig_compile_mem_no_updates) must be the fetcher's former
 * jansson check, json_loadb() with no flags and "has_updates" false,
 * which refuses a \u0000 and integers past long long that jtree takes.
 */

#include "../t/unit/jtree_dump.h"
#include "../t/unit/no_updates_ref.h"
#include "statsig.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static statsig_jtree_t        *tree;
    static statsig_compile_mem_t  *mem;
    char                           why[512];
    size_t                         blob_size;
    int                            accepted, core, want;

    if (tree == NULL) {
        tree = statsig_jtree_create();
        mem = statsig_compile_mem_create();
        if (tree == NULL || mem == NULL) {
            abort();
        }
    }

    if (!same_as_jansson(tree, (const char *) data, size, &accepted, why,
                         sizeof(why)))
    {
        fprintf(stderr, "jtree and jansson disagree: %s\n", why);
        abort();
    }

    (void) statsig_compile_in(mem, (const char *) data, size, &blob_size,
                              why, sizeof(why));

    core = statsig_compile_mem_no_updates(mem);
    want = jansson_no_updates((const char *) data, size);

    if (core != want) {
        fprintf(stderr, "no updates: the core says %d, jansson %d\n", core,
                want);
        abort();
    }

    return 0;
}
