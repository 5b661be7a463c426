/*
 * One failing allocation on demand, for the tests of code that must
 * answer "out of memory" cleanly: malloc and realloc are replaced (the
 * real ones reached through dlsym), and while fail_in >= 0 each call
 * counts in allocs and the fail_in-th one (from 0) returns NULL.
 *
 * Define _GNU_SOURCE before any #include of the test (RTLD_NEXT).  A
 * malloc replacement of its own (valgrind) bypasses these: a test finds
 * out with allocs still 0 after a counted call, and skips.
 */

#ifndef STATSIG_TEST_FAIL_ALLOC_H
#define STATSIG_TEST_FAIL_ALLOC_H

#include <dlfcn.h>
#include <stddef.h>


static void  *(*real_malloc)(size_t);
static void  *(*real_realloc)(void *, size_t);
static long    fail_in = -1;        /* allocations until one fails */
static long    allocs;              /* allocations while counting */


static int
fail_now(void)
{
    if (fail_in < 0) {
        return 0;
    }

    allocs++;

    if (fail_in == 0) {
        fail_in = -1;
        return 1;
    }

    fail_in--;

    return 0;
}


void *
malloc(size_t n)
{
    if (real_malloc == NULL) {
        real_malloc = (void *(*)(size_t)) dlsym(RTLD_NEXT, "malloc");
    }

    return fail_now() ? NULL : real_malloc(n);
}


void *
realloc(void *p, size_t n)
{
    if (real_realloc == NULL) {
        real_realloc = (void *(*)(void *, size_t)) dlsym(RTLD_NEXT,
                                                         "realloc");
    }

    return fail_now() ? NULL : real_realloc(p, n);
}

#endif /* STATSIG_TEST_FAIL_ALLOC_H */
