/*
 * libFuzzer: the input is any text.  jtree (the compiler's parser) must
 * accept exactly what jansson accepts with the compiler's flags and build
 * the same tree; one tree is reused across inputs, as a fetching worker
 * reuses it across swaps.
 */

#include "../t/unit/jtree_dump.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static statsig_jtree_t  *tree;
    char                     why[512];
    int                      accepted;

    if (tree == NULL) {
        tree = statsig_jtree_create();
        if (tree == NULL) {
            abort();
        }
    }

    if (!same_as_jansson(tree, (const char *) data, size, &accepted, why,
                         sizeof(why)))
    {
        fprintf(stderr, "jtree and jansson disagree: %s\n", why);
        abort();
    }

    return 0;
}
