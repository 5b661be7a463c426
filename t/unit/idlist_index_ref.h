/*
 * The nginx glue's ngx_http_statsig_idlists_index() transcribed with
 * jansson (flags 0, strlen, strncmp, as it was), for t/unit/
 * test_idlist_index.c and fuzz/fuzz_idlist_index.c: src/core/
 * idlist_index.c must give the same entries, offsets and reset, and fail
 * on the same texts.  Only the double-to-int64 cast is the core's clamp
 * (the glue's cast is undefined there).
 */

#ifndef STATSIG_IDLIST_INDEX_REF_H
#define STATSIG_IDLIST_INDEX_REF_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlist_index.h"


typedef struct {
    char     *name;
    char     *url;
    char     *file_id;
    size_t    file_id_len;      /* an old one may hold NULs */
    int64_t   creation_time;
    int64_t   size;
    int64_t   offset;
} ref_entry_t;

typedef struct {
    ref_entry_t  *e;
    size_t        n;
} ref_index_t;


static int64_t
ref_int64(double d)
{
    if (d != d) {
        return 0;
    }

    if (d >= 9223372036854775808.0) {
        return INT64_MAX;
    }

    if (d < -9223372036854775808.0) {
        return INT64_MIN;
    }

    return (int64_t) d;
}


static char *
ref_strdup(const char *s)
{
    size_t  len = strlen(s);
    char   *p = malloc(len + 1);

    if (p == NULL) {
        abort();
    }

    memcpy(p, s, len + 1);

    return p;
}


static void
ref_free(ref_index_t *r)
{
    size_t  i;

    for (i = 0; i < r->n; i++) {
        free(r->e[i].name);
        free(r->e[i].url);
        free(r->e[i].file_id);
    }

    free(r->e);
    r->e = NULL;
    r->n = 0;
}


/* 0 and *r, or -1 with the glue's message in err */
static int
ref_update(const statsig_idlist_index_t *old, const char *json, size_t len,
    int reset_in, ref_index_t *r, int *reset, char *err, size_t errlen)
{
    json_t                        *root, *v;
    json_error_t                   jerr;
    const char                    *name, *p;
    size_t                         i, j, cap;
    int                            found;
    ref_entry_t                   *l;
    const statsig_idlist_entry_t  *o;

    r->e = NULL;
    r->n = 0;

    root = json_loadb(json, len, 0, &jerr);

    if (root == NULL || !json_is_object(root)) {
        snprintf(err, errlen, "the ID lists index is not a JSON object: %s",
                 root ? "" : jerr.text);
        json_decref(root);
        return -1;
    }

    *reset = reset_in || old == NULL;
    cap = json_object_size(root);
    r->e = calloc(cap ? cap : 1, sizeof(ref_entry_t));
    if (r->e == NULL) {
        abort();
    }

    json_object_foreach(root, name, v) {
        if (!json_is_object(v)
            || !json_is_string(json_object_get(v, "url")))
        {
            continue;
        }

        l = &r->e[r->n++];

        l->url = ref_strdup(json_string_value(json_object_get(v, "url")));
        p = json_string_value(json_object_get(v, "fileID"));
        l->file_id = ref_strdup(p ? p : "");
        l->file_id_len = strlen(l->file_id);
        l->name = ref_strdup(name);

        l->size = ref_int64(json_number_value(json_object_get(v, "size")));
        l->creation_time = ref_int64(json_number_value(
                               json_object_get(v, "creationTime")));

        found = 0;

        for (j = 0; old && j < old->n; j++) {
            o = &old->entries[j];

            if (o->name_len != strlen(l->name)
                || strncmp(o->name, l->name, strlen(l->name)) != 0)
            {
                continue;
            }

            found = 1;

            if (o->file_id_len != l->file_id_len
                || strncmp(o->file_id, l->file_id, l->file_id_len) != 0)
            {
                if (l->creation_time < o->creation_time) {
                    free(l->file_id);
                    l->file_id = malloc(o->file_id_len + 1);
                    if (l->file_id == NULL) {
                        abort();
                    }
                    memcpy(l->file_id, o->file_id, o->file_id_len + 1);
                    l->file_id_len = o->file_id_len;
                    l->creation_time = o->creation_time;
                    l->offset = o->offset;
                    l->size = o->offset;

                } else {
                    *reset = 1;
                }

            } else {
                l->offset = o->offset;
            }
        }

        if (!found) {
            *reset = 1;
        }
    }

    json_decref(root);

    if (old && r->n != old->n) {
        *reset = 1;
    }

    if (*reset) {
        for (i = 0; i < r->n; i++) {
            r->e[i].offset = 0;
        }
    }

    return 0;
}


/*
 * 1 if the core's answer (rc, *ix, reset, err) is the reference's; else 0
 * with the first difference in why.  File ids are compared by their
 * bytes (a kept old one holds NULs when old was read from a made-up
 * state).
 */
static int
ref_same(int ref_rc, const ref_index_t *r, int ref_reset,
    const char *ref_err, int rc, const statsig_idlist_index_t *ix,
    int reset, const char *err, char *why, size_t whylen)
{
    static const char  prefix[] = "the ID lists index is not a JSON object: ";
    size_t             i;
    const ref_entry_t             *a;
    const statsig_idlist_entry_t  *b;

    if (ref_rc != rc) {
        snprintf(why, whylen, "reference rc %d (%s), core rc %d (%s)",
                 ref_rc, ref_rc ? ref_err : "", rc, rc ? err : "");
        return 0;
    }

    if (rc != 0) {
        /* the parsers' texts differ; an array's message is the glue's */
        if (strncmp(err, prefix, sizeof(prefix) - 1) != 0
            || (strcmp(ref_err, prefix) == 0) != (strcmp(err, prefix) == 0))
        {
            snprintf(why, whylen, "messages: \"%s\" and \"%s\"", ref_err,
                     err);
            return 0;
        }

        return 1;
    }

    if (ref_reset != reset || r->n != ix->n) {
        snprintf(why, whylen, "reset %d/%d, entries %zu/%zu", ref_reset,
                 reset, r->n, ix->n);
        return 0;
    }

    for (i = 0; i < r->n; i++) {
        a = &r->e[i];
        b = &ix->entries[i];

        if (strlen(a->name) != b->name_len
            || strcmp(a->name, b->name) != 0
            || strlen(a->url) != b->url_len || strcmp(a->url, b->url) != 0
            || a->file_id_len != b->file_id_len
            || b->file_id[b->file_id_len] != '\0'
            || memcmp(a->file_id, b->file_id, b->file_id_len) != 0
            || a->creation_time != b->creation_time
            || a->size != b->size || a->offset != b->offset
            || b->list != -1)
        {
            snprintf(why, whylen, "entry %zu (\"%s\"): file %s/%s, time "
                     "%lld/%lld, size %lld/%lld, offset %lld/%lld", i,
                     a->name, a->file_id, b->file_id,
                     (long long) a->creation_time,
                     (long long) b->creation_time, (long long) a->size,
                     (long long) b->size, (long long) a->offset,
                     (long long) b->offset);
            return 0;
        }
    }

    return 1;
}

#endif /* STATSIG_IDLIST_INDEX_REF_H */
