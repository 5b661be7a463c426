/*
 * The fetcher's former "no updates" check with jansson, as
 * ngx_http_statsig_job_run() made it: json_loadb() with no flags, an
 * object, "has_updates" the literal false.  What
 * statsig_compile_mem_no_updates() must answer as, for t/unit/
 * test_no_updates.c and fuzz/fuzz_jtree.c.
 */

#ifndef STATSIG_NO_UPDATES_REF_H
#define STATSIG_NO_UPDATES_REF_H

#include <jansson.h>
#include <stddef.h>


static int
jansson_no_updates(const char *json, size_t len)
{
    json_t        *root;
    json_error_t   jerr;
    int            no;

    root = json_loadb(json, len, 0, &jerr);

    no = root && json_is_object(root)
         && json_is_false(json_object_get(root, "has_updates"));

    if (root) {
        json_decref(root);
    }

    return no;
}

#endif /* STATSIG_NO_UPDATES_REF_H */
