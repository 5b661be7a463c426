/*
 * statsig_compile_in(): memory kept from one compile to the next gives
 * the same blob as a fresh statsig_compile(), whatever came before it
 * (a bigger document, a smaller one, one that failed to parse or to
 * compile).  Run from the repository root (make test-unit).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gates_doc.h"
#include "statsig.h"
#include "tap.h"


typedef struct {
    char    *data;
    size_t   len;
} doc_t;


static doc_t
read_doc(const char *path)
{
    doc_t   d = { NULL, 0 };
    FILE   *f;
    long    n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return d;
    }

    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0
        && fseek(f, 0, SEEK_SET) == 0)
    {
        d.data = malloc((size_t) n);
        if (d.data && fread(d.data, 1, (size_t) n, f) == (size_t) n) {
            d.len = (size_t) n;

        } else {
            free(d.data);
            d.data = NULL;
        }
    }

    fclose(f);

    return d;
}


/* n gates, each with a rule and a condition: a document of any size */
static doc_t
synthetic_doc(size_t n)
{
    bytes_t  b = { NULL, 0, 0 };
    doc_t    d;

    gates_doc(&b, n, "true");
    d.data = b.data;
    d.len = b.len;

    return d;
}


static int
same_as_fresh(statsig_compile_mem_t *m, const doc_t *d, const char *name)
{
    char         err[256], err2[256];
    void        *fresh;
    const void  *kept;
    size_t       fsize, ksize;
    int          same;

    fresh = statsig_compile(d->data, d->len, &fsize, err, sizeof(err));
    kept = statsig_compile_in(m, d->data, d->len, &ksize, err2,
                              sizeof(err2));

    if (fresh == NULL || kept == NULL) {
        same = (fresh == NULL && kept == NULL && strcmp(err, err2) == 0);
        ok(same, "%s: both fail alike (%s)", name, err);

    } else {
        same = (fsize == ksize && memcmp(fresh, kept, fsize) == 0);
        ok(same, "%s: the kept memory's blob equals a fresh one (%zu bytes)",
           name, ksize);
    }

    free(fresh);

    return same;
}


int
main(void)
{
    statsig_compile_mem_t  *m;
    doc_t                   small, big, a, b, bad_json, bad_dcs;
    int                     round;

    a = read_doc("fuzz/user_eval_dcs.json");
    b = read_doc("t/initialize/client-keys.dcs.json");
    if (a.data == NULL || b.data == NULL) {
        printf("1..0 # SKIP run from the repository root\n");
        return 0;
    }

    small = synthetic_doc(3);
    big = synthetic_doc(20000);

    bad_json.data = (char *) "{\"feature_gates\":[";
    bad_json.len = strlen(bad_json.data);
    bad_dcs.data = (char *) "{\"feature_gates\":[],\"dynamic_configs\":{}}";
    bad_dcs.len = strlen(bad_dcs.data);

    m = statsig_compile_mem_create();
    ok(m != NULL, "kept compile memory");

    for (round = 0; round < 2; round++) {
        same_as_fresh(m, &small, "a small document");
        same_as_fresh(m, &big, "a 5 MB one (the tree and blob grow)");
        same_as_fresh(m, &a, "a generated DCS after a bigger one");
        same_as_fresh(m, &bad_json, "truncated JSON");
        same_as_fresh(m, &b, "a DCS after a parse error");
        same_as_fresh(m, &bad_dcs, "a document that does not compile");
        same_as_fresh(m, &a, "a DCS after a compile error");
    }

    ok(big.len > 4000000, "the big document is %zu bytes", big.len);

    statsig_compile_mem_free(m);
    statsig_compile_mem_free(NULL);

    free(small.data);
    free(big.data);
    free(a.data);
    free(b.data);

    return done_testing();
}
