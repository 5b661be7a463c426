/*
 * The ID lists' index compared with the one before it, and the resume
 * state (see idlist_index.h for the rules).
 *
 * One parse with jtree, then two passes: the first decides every entry
 * with its strings still in the tree or in old, the second copies them
 * into one block.  So old may be out itself, an error leaves out as it
 * was, and an index costs two allocations.
 *
 * The glue parsed with jansson and flags 0; jtree accepts what jansson
 * does with JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, which is more: a
 * \u0000 in a string and integers beyond int64.  statsig_jtree_strict()
 * refuses those two in the accepted text, so that the same indexes fail
 * as before, with jansson's message (the one input left that differs: a
 * raw NUL byte right after a number, which jansson skips and jtree
 * refuses).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlist_index.h"
#include "jsnum.h"
#include "jtree.h"


#define SG_IDX_NOT_OBJECT  "the ID lists index is not a JSON object: "


void
statsig_idlist_index_init(statsig_idlist_index_t *ix)
{
    ix->entries = NULL;
    ix->n = 0;
    ix->strings = NULL;
}


void
statsig_idlist_index_free(statsig_idlist_index_t *ix)
{
    free(ix->entries);
    free(ix->strings);
    statsig_idlist_index_init(ix);
}


static void
sg_idx_error(char *err, size_t errlen, const char *text)
{
    if (err != NULL && errlen > 0) {
        if (text == NULL) {
            snprintf(err, errlen, "out of memory");

        } else {
            snprintf(err, errlen, SG_IDX_NOT_OBJECT "%s", text);
        }
    }
}


/* jtree's own allocation failure, told apart from a bad text */
static int
sg_idx_is_oom(const char *text)
{
    static const char  oom[] = ": out of memory";
    size_t             len;

    len = strlen(text);

    return len >= sizeof(oom) - 1
           && strcmp(text + len - (sizeof(oom) - 1), oom) == 0;
}


/*
 * The glue's comparison: equal lengths and strncmp.  It is memcmp for
 * every string an index brings (none has a NUL); only two old file ids
 * (a kept older one against a second old entry of its name, which only a
 * made-up state has) could hold NULs, and there strncmp stops at the
 * first.  Kept so: the same answers as before for any zone content.
 */
static int
sg_idx_same(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && strncmp(a, b, alen) == 0;
}


static char *
sg_idx_copy(char *dst, const char **s, size_t len)
{
    memcpy(dst, *s, len);
    dst[len] = '\0';
    *s = dst;

    return dst + len + 1;
}


/*
 * Copies every entry's strings into one new block, *block, and points the
 * entries at the copies; or -1.
 */
static int
sg_idx_own_strings(statsig_idlist_entry_t *entries, size_t n, char **block)
{
    char    *p;
    size_t   i, k, bytes, len[3];

    bytes = 0;

    for (i = 0; i < n; i++) {
        len[0] = entries[i].name_len;
        len[1] = entries[i].url_len;
        len[2] = entries[i].file_id_len;

        /* each with its NUL; no sum can wrap, even with a 32-bit size_t */
        for (k = 0; k < 3; k++) {
            if (len[k] >= SIZE_MAX - bytes) {
                return -1;
            }

            bytes += len[k] + 1;
        }
    }

    *block = NULL;

    if (bytes == 0) {
        return 0;
    }

    p = malloc(bytes);
    if (p == NULL) {
        return -1;
    }

    *block = p;

    for (i = 0; i < n; i++) {
        p = sg_idx_copy(p, &entries[i].name, entries[i].name_len);
        p = sg_idx_copy(p, &entries[i].url, entries[i].url_len);
        p = sg_idx_copy(p, &entries[i].file_id, entries[i].file_id_len);
    }

    return 0;
}


int
statsig_idlist_index_update(const statsig_idlist_index_t *old,
    const char *json, size_t len, statsig_idlist_index_t *out, int *reset,
    char *err, size_t errlen)
{
    char                          text[256], *block;
    size_t                        i, j, n;
    int                           found, start_over;
    statsig_jtree_t              *tree;
    const statsig_jnode_t        *root, *v, *url, *file_id;
    const statsig_jmember_t      *m;
    statsig_idlist_entry_t       *entries, *e;
    const statsig_idlist_entry_t *o;

    entries = NULL;

    tree = statsig_jtree_create();
    if (tree == NULL) {
        goto nomem;
    }

    if (statsig_jtree_load(tree, json, len, &root, text, sizeof(text))
        != 0)
    {
        if (sg_idx_is_oom(text)) {
            goto nomem;
        }

        goto invalid;
    }

    if (!statsig_jtree_strict(json, len, text, sizeof(text))) {
        goto invalid;
    }

    if (!statsig_jis(root, STATSIG_JT_OBJECT)) {
        /* valid JSON, an array: the glue had no parser text to add */
        text[0] = '\0';
        goto invalid;
    }

    if (root->n > 0) {
        entries = malloc(root->n * sizeof(statsig_idlist_entry_t));
        if (entries == NULL) {
            goto nomem;
        }
    }

    /* a new builder (no old) or the caller's own reason starts over */
    start_over = (old == NULL || *reset != 0);
    n = 0;

    for (i = 0; i < root->n; i++) {
        m = &root->u.members[i];
        v = &m->value;
        url = statsig_jobject_get(v, "url");

        if (!statsig_jis(v, STATSIG_JT_OBJECT)
            || !statsig_jis(url, STATSIG_JT_STRING))
        {
            continue;
        }

        e = &entries[n++];

        e->name = m->key;
        e->name_len = m->keylen;
        e->url = statsig_jstring(url);
        e->url_len = statsig_jstring_len(url);

        file_id = statsig_jobject_get(v, "fileID");
        if (statsig_jis(file_id, STATSIG_JT_STRING)) {
            e->file_id = statsig_jstring(file_id);
            e->file_id_len = statsig_jstring_len(file_id);

        } else {
            e->file_id = "";
            e->file_id_len = 0;
        }

        e->size = statsig_int64_clamp(
                      statsig_jnumber(statsig_jobject_get(v, "size")));
        e->creation_time = statsig_int64_clamp(
                      statsig_jnumber(statsig_jobject_get(v, "creationTime")));
        e->offset = 0;
        e->list = -1;

        /*
         * As the glue: every old entry of that name is looked at, in
         * order (old names are unique unless a state was made up), and a
         * kept older file is what the next one compares with.
         */
        found = 0;

        for (j = 0; old != NULL && j < old->n; j++) {
            o = &old->entries[j];

            if (!sg_idx_same(o->name, o->name_len, e->name, e->name_len)) {
                continue;
            }

            found = 1;

            if (sg_idx_same(o->file_id, o->file_id_len, e->file_id,
                            e->file_id_len))
            {
                e->offset = o->offset;

            } else if (e->creation_time < o->creation_time) {
                /* the index names an older file (a lagging replica?):
                 * keep the one applied */
                e->file_id = o->file_id;
                e->file_id_len = o->file_id_len;
                e->creation_time = o->creation_time;
                e->offset = o->offset;
                e->size = o->offset;

            } else {
                start_over = 1;
            }
        }

        if (!found) {
            start_over = 1;
        }
    }

    /* lists that left the index: the builder cannot drop one */
    if (old != NULL && n != old->n) {
        start_over = 1;
    }

    if (start_over) {
        for (i = 0; i < n; i++) {
            entries[i].offset = 0;
        }
    }

    /* before old's strings can go (out may be old) */
    if (sg_idx_own_strings(entries, n, &block) != 0) {
        goto nomem;
    }

    statsig_jtree_free(tree);

    statsig_idlist_index_free(out);
    out->entries = entries;
    out->n = n;
    out->strings = block;

    *reset = start_over;

    return 0;

invalid:

    statsig_jtree_free(tree);
    sg_idx_error(err, errlen, text);

    return -1;

nomem:

    free(entries);
    statsig_jtree_free(tree);
    sg_idx_error(err, errlen, NULL);

    return -1;
}


size_t
statsig_idlist_index_next(const statsig_idlist_index_t *ix, size_t i)
{
    for ( /* void */ ; i < ix->n; i++) {
        if (ix->entries[i].size > ix->entries[i].offset) {
            return i;
        }
    }

    return ix->n;
}


/* ---- the resume state ---- */

/* per entry besides the two strings: their lengths, time and offset */
#define SG_IDX_STATE_FIXED  (2 * sizeof(uint32_t) + 2 * sizeof(int64_t))


size_t
statsig_idlist_state_size(const statsig_idlist_index_t *ix)
{
    size_t  i, size;

    size = 0;

    for (i = 0; i < ix->n; i++) {
        size += SG_IDX_STATE_FIXED + ix->entries[i].name_len
                + ix->entries[i].file_id_len;
    }

    return size;
}


/* strings are below 4 GB: jtree's and the state's own limit */
static unsigned char *
sg_idx_put_str(unsigned char *p, const char *s, size_t len)
{
    uint32_t  n;

    n = (uint32_t) len;
    memcpy(p, &n, sizeof(n));
    p += sizeof(n);

    memcpy(p, s, len);

    return p + len;
}


void
statsig_idlist_state_write(const statsig_idlist_index_t *ix,
    unsigned char *out)
{
    size_t                        i;
    int64_t                       v[2];
    const statsig_idlist_entry_t *e;

    for (i = 0; i < ix->n; i++) {
        e = &ix->entries[i];

        out = sg_idx_put_str(out, e->name, e->name_len);
        out = sg_idx_put_str(out, e->file_id, e->file_id_len);

        v[0] = e->creation_time;
        v[1] = e->offset;
        memcpy(out, v, sizeof(v));
        out += sizeof(v);
    }
}


/* One string of a state: its bytes at *str (not copied), or -1. */
static int
sg_idx_get_str(const unsigned char **p, const unsigned char *end,
    const unsigned char **str, size_t *len)
{
    uint32_t  n;

    if ((size_t) (end - *p) < sizeof(n)) {
        return -1;
    }

    memcpy(&n, *p, sizeof(n));
    *p += sizeof(n);

    if ((size_t) (end - *p) < n) {
        return -1;
    }

    *str = *p;
    *len = n;
    *p += n;

    return 0;
}


/*
 * One entry at *p: with e NULL only checked (and its string bytes added
 * to *bytes), else read into e with its strings copied to *dst.
 */
static int
sg_idx_get_entry(const unsigned char **p, const unsigned char *end,
    statsig_idlist_entry_t *e, char **dst, size_t *bytes)
{
    size_t                name_len, file_id_len;
    int64_t               v[2];
    const unsigned char  *name, *file_id;

    if (sg_idx_get_str(p, end, &name, &name_len) != 0
        || sg_idx_get_str(p, end, &file_id, &file_id_len) != 0
        || (size_t) (end - *p) < sizeof(v))
    {
        return -1;
    }

    memcpy(v, *p, sizeof(v));
    *p += sizeof(v);

    if (e == NULL) {
        /* each below 4 GB and inside the state: no overflow */
        *bytes += name_len + file_id_len + 2;
        return 0;
    }

    e->name = (const char *) name;
    e->name_len = name_len;
    *dst = sg_idx_copy(*dst, &e->name, name_len);

    e->file_id = (const char *) file_id;
    e->file_id_len = file_id_len;
    *dst = sg_idx_copy(*dst, &e->file_id, file_id_len);

    e->url = "";
    e->url_len = 0;
    e->creation_time = v[0];
    e->offset = v[1];
    e->size = v[1];
    e->list = -1;

    return 0;
}


int
statsig_idlist_state_read(const unsigned char *p, size_t len,
    statsig_idlist_index_t *out)
{
    char                    *block, *dst;
    size_t                   i, n, bytes;
    const unsigned char     *q, *end;
    statsig_idlist_entry_t  *entries;

    if (len == 0) {
        /* p may be NULL, and NULL + 0 is not C */
        statsig_idlist_index_free(out);
        return 0;
    }

    /* first pass: every entry whole, and how much they need */
    q = p;
    end = p + len;
    n = 0;
    bytes = 0;

    while (q < end) {
        if (sg_idx_get_entry(&q, end, NULL, NULL, &bytes) != 0) {
            return -2;
        }

        n++;
    }

    entries = NULL;
    block = NULL;

    if (n > 0) {
        entries = malloc(n * sizeof(statsig_idlist_entry_t));
        block = malloc(bytes);

        if (entries == NULL || block == NULL) {
            free(entries);
            free(block);
            return -1;
        }
    }

    q = p;
    dst = block;

    for (i = 0; i < n; i++) {
        (void) sg_idx_get_entry(&q, end, &entries[i], &dst, NULL);
    }

    statsig_idlist_index_free(out);
    out->entries = entries;
    out->n = n;
    out->strings = block;

    return 0;
}
