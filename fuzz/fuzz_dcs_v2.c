/*
 * libFuzzer: the input is a DCS v1 document (any text).  statsig_dcs_v2()
 * must not crash, and:
 *
 *   - a document the compiler accepts is converted (what the edge serves
 *     as v1 it serves as v2);
 *   - a converted document parses (but for jtree's refusal of a key
 *     with \u0000, which a name may hold), is an object with the three spec maps,
 *     experiment_to_layer and condition_map objects and "response_format"
 *     "dcs-v2"; every rule's conditions are ids found in condition_map;
 *   - its text is its own JSON.stringify (JavaScript property order and
 *     number and string forms), and a second conversion gives the same
 *     bytes.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs_v2.h"
#include "jtree.h"
#include "jtree_js.h"
#include "statsig.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fz_fail(const char *why, const statsig_buf_t *out)
{
    fprintf(stderr, "dcs_v2: %s\n%.*s\n", why,
            (int) (out->len < 2000 ? out->len : 2000), out->data);
    abort();
}


/* each rule's conditions: ids of cmap */
static void
fz_check_specs(const statsig_jnode_t *specs, const statsig_jnode_t *cmap,
    const statsig_buf_t *out)
{
    size_t                  i, r, k;
    const statsig_jnode_t  *spec, *rules, *rule, *conds, *id;

    if (!statsig_jis(specs, STATSIG_JT_OBJECT)) {
        fz_fail("a spec map is not an object", out);
    }

    for (i = 0; i < specs->n; i++) {
        spec = &specs->u.members[i].value;
        rules = statsig_jobject_get(spec, "rules");

        if (!statsig_jis(rules, STATSIG_JT_ARRAY)) {
            fz_fail("a spec without a rules array", out);
        }

        for (r = 0; r < rules->n; r++) {
            rule = &rules->u.items[r];
            conds = statsig_jobject_get(rule, "conditions");

            if (!statsig_jis(conds, STATSIG_JT_ARRAY)
                || statsig_jobject_get(rule, "idType") == NULL)
            {
                fz_fail("a rule without conditions or idType", out);
            }

            for (k = 0; k < conds->n; k++) {
                id = &conds->u.items[k];

                if (statsig_jstring(id) == NULL
                    || statsig_jobject_get(cmap, statsig_jstring(id))
                       == NULL)
                {
                    fz_fail("a condition id not in condition_map", out);
                }
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static statsig_jtree_t  *tree;
    char                     err[512], jerr[256];
    int                      rc;
    void                    *blob;
    size_t                   blob_size;
    statsig_buf_t            out, again, canon;
    const statsig_jnode_t   *root, *cmap, *fmt;

    if (tree == NULL) {
        tree = statsig_jtree_create();
        if (tree == NULL) {
            abort();
        }
    }

    statsig_buf_init(&out);
    rc = statsig_dcs_v2((const char *) data, size, 1234, &out, err,
                        sizeof(err));

    blob = statsig_compile((const char *) data, size, &blob_size, jerr,
                           sizeof(jerr));

    if (blob != NULL && rc != 0) {
        fprintf(stderr, "dcs_v2: the compiler accepts, the port says: %s\n",
                err);
        abort();
    }

    free(blob);

    if (rc != 0) {
        if (err[0] == '\0') {
            fz_fail("refused without a reason", &out);
        }

        statsig_buf_free(&out);
        return 0;
    }

    if (statsig_jtree_load(tree, out.data, out.len, &root, jerr,
                           sizeof(jerr))
        != 0)
    {
        /* a name holding \u0000 is a key: JSON, but not for jtree */
        if (strstr(jerr, "NUL byte in object key") != NULL) {
            statsig_buf_free(&out);
            return 0;
        }

        fz_fail(jerr, &out);
    }

    if (!statsig_jis(root, STATSIG_JT_OBJECT)) {
        fz_fail("the output is not an object", &out);
    }

    cmap = statsig_jobject_get(root, "condition_map");
    fmt = statsig_jobject_get(root, "response_format");

    if (!statsig_jis(cmap, STATSIG_JT_OBJECT)
        || !statsig_jis(statsig_jobject_get(root, "experiment_to_layer"),
                        STATSIG_JT_OBJECT)
        || statsig_jstring(fmt) == NULL
        || strcmp(statsig_jstring(fmt), "dcs-v2") != 0)
    {
        fz_fail("condition_map, experiment_to_layer or response_format", &out);
    }

    fz_check_specs(statsig_jobject_get(root, "feature_gates"), cmap, &out);
    fz_check_specs(statsig_jobject_get(root, "dynamic_configs"), cmap, &out);
    fz_check_specs(statsig_jobject_get(root, "layer_configs"), cmap, &out);

    statsig_buf_init(&canon);
    statsig_jtree_stringify(&canon, root, 4096);

    if (canon.failed || canon.len != out.len
        || memcmp(canon.data, out.data, out.len) != 0)
    {
        fz_fail("the output is not its own JSON.stringify", &out);
    }

    statsig_buf_free(&canon);

    statsig_buf_init(&again);

    if (statsig_dcs_v2((const char *) data, size, 1234, &again, err,
                       sizeof(err))
        != 0
        || again.len != out.len || memcmp(again.data, out.data, out.len) != 0)
    {
        fz_fail("a second conversion differs", &out);
    }

    statsig_buf_free(&again);
    statsig_buf_free(&out);

    return 0;
}
