/*
 * libFuzzer: the ID lists' index and resume state (src/core/idlist_index.c).
 *
 * The input is two indexes, split at its first 0xFF byte (no JSON text
 * holds one), else at the middle.  The first is parsed with no old index,
 * its lists are given offsets as if downloaded, and the second is
 * compared with it; both beside the glue's code transcribed with jansson
 * (t/unit/idlist_index_ref.h), which must give the same entries, offsets
 * and reset.  Also: the second round again with out = old, the second's
 * state written and read back, and the whole input read as a state (it
 * must write back to the same bytes, and serve as an old index too).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlist_index.h"
#include "../t/unit/idlist_index_ref.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fz_fail(const char *what, const char *why)
{
    fprintf(stderr, "fuzz_idlist_index: %s%s%s\n", what, why ? ": " : "",
            why ? why : "");
    abort();
}


/*
 * update() beside the reference.  A raw NUL byte is the one input they
 * may disagree on: jansson skips one after a number, jtree refuses it
 * (then jansson may accept, or refuse as not an object or for another
 * reason).
 */
static int
fz_update(const statsig_idlist_index_t *old, const char *json, size_t len,
    int reset_in, statsig_idlist_index_t *out, int *reset)
{
    char         err[512], ref_err[512], why[1024];
    int          rc, ref_rc, ref_reset;
    ref_index_t  r;

    ref_reset = 0;
    ref_rc = ref_update(old, json, len, reset_in, &r, &ref_reset, ref_err,
                        sizeof(ref_err));

    *reset = reset_in;
    rc = statsig_idlist_index_update(old, json, len, out, reset, err,
                                     sizeof(err));

    if (rc != 0 && strcmp(err, "out of memory") == 0) {
        fz_fail("out of memory", NULL);
    }

    if (!ref_same(ref_rc, &r, ref_reset, ref_err, rc, out, *reset, err, why,
                  sizeof(why))
        && !(rc != 0 && memchr(json, '\0', len) != NULL))
    {
        fz_fail("differs from the glue's code", why);
    }

    ref_free(&r);

    return rc;
}


/* what every entry of a parsed index holds */
static void
fz_check_entries(const statsig_idlist_index_t *ix, int reset)
{
    size_t                         i;
    const statsig_idlist_entry_t  *e;

    for (i = 0; i < ix->n; i++) {
        e = &ix->entries[i];

        if (e->url == NULL || strlen(e->url) != e->url_len
            || strlen(e->name) != e->name_len
            || e->file_id[e->file_id_len] != '\0' || e->list != -1)
        {
            fz_fail("an entry's strings or list", e->name);
        }

        if (reset && e->offset != 0) {
            fz_fail("an offset after a start over", e->name);
        }
    }

    if (statsig_idlist_index_next(ix, 0) > ix->n) {
        fz_fail("next", NULL);
    }
}


/*
 * Without a start over, every list is one of old's (then old's names are
 * unique), on old's file and offset.
 */
static void
fz_check_went_on(const statsig_idlist_index_t *old,
    const statsig_idlist_index_t *ix)
{
    size_t                         i, j;
    const statsig_idlist_entry_t  *e, *o;

    if (ix->n != old->n) {
        fz_fail("went on with lists gone or new", NULL);
    }

    for (i = 0; i < ix->n; i++) {
        e = &ix->entries[i];

        for (j = 0; j < old->n; j++) {
            o = &old->entries[j];

            if (o->name_len == e->name_len
                && memcmp(o->name, e->name, e->name_len) == 0)
            {
                break;
            }
        }

        if (j == old->n || e->offset != o->offset
            || e->file_id_len != o->file_id_len
            || memcmp(e->file_id, o->file_id, e->file_id_len) != 0)
        {
            fz_fail("went on from another list, file or offset", e->name);
        }
    }
}


/* the same two indexes, field by field (strings by their bytes) */
static void
fz_same_index(const statsig_idlist_index_t *a,
    const statsig_idlist_index_t *b, int state_only, const char *what)
{
    size_t                         i;
    const statsig_idlist_entry_t  *x, *y;

    if (a->n != b->n) {
        fz_fail(what, "entries");
    }

    for (i = 0; i < a->n; i++) {
        x = &a->entries[i];
        y = &b->entries[i];

        if (x->name_len != y->name_len
            || memcmp(x->name, y->name, x->name_len + 1) != 0
            || x->file_id_len != y->file_id_len
            || memcmp(x->file_id, y->file_id, x->file_id_len + 1) != 0
            || x->creation_time != y->creation_time
            || x->offset != y->offset)
        {
            fz_fail(what, x->name);
        }

        if (state_only) {
            if (y->url_len != 0 || y->url[0] != '\0' || y->size != y->offset
                || y->list != -1)
            {
                fz_fail(what, "url, size or list of a read entry");
            }

        } else if (x->url_len != y->url_len
                   || memcmp(x->url, y->url, x->url_len + 1) != 0
                   || x->size != y->size || x->list != y->list)
        {
            fz_fail(what, x->name);
        }
    }
}


/* as if downloaded: whole, half, or not at all (any int64 will do) */
static void
fz_downloaded(statsig_idlist_index_t *ix)
{
    size_t  i;

    for (i = 0; i < ix->n; i++) {
        switch (i % 3) {
        case 0:
            ix->entries[i].offset = ix->entries[i].size;
            break;
        case 1:
            ix->entries[i].offset = ix->entries[i].size / 2;
            break;
        default:
            ix->entries[i].offset = 0;
        }
    }
}


/* its state written, then read back: the same, and the same bytes */
static void
fz_state_round_trip(const statsig_idlist_index_t *ix)
{
    unsigned char           *state, *again;
    size_t                   size;
    statsig_idlist_index_t   back;

    size = statsig_idlist_state_size(ix);
    state = malloc(size ? size : 1);
    again = malloc(size ? size : 1);
    if (state == NULL || again == NULL) {
        fz_fail("out of memory", NULL);
    }

    statsig_idlist_state_write(ix, state);

    statsig_idlist_index_init(&back);
    if (statsig_idlist_state_read(state, size, &back) != 0) {
        fz_fail("a written state does not read", NULL);
    }

    fz_same_index(ix, &back, 1, "a state read back");

    if (statsig_idlist_state_size(&back) != size) {
        fz_fail("a state read back has another size", NULL);
    }

    statsig_idlist_state_write(&back, again);
    if (memcmp(state, again, size) != 0) {
        fz_fail("a state read back writes other bytes", NULL);
    }

    statsig_idlist_index_free(&back);
    free(state);
    free(again);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char              *text, *one, *two;
    const uint8_t           *cut;
    unsigned char           *again;
    size_t                   one_len, two_len;
    int                      reset, reset_in, rc;
    statsig_idlist_index_t   first, second, alias, raw;

    text = (const char *) data;
    cut = memchr(data, 0xFF, size);

    one = text;
    one_len = cut ? (size_t) (cut - data) : size / 2;
    two = text + one_len + (cut != NULL);
    two_len = size - one_len - (cut != NULL);

    /* sometimes the caller starts over anyway (a bad range before) */
    reset_in = size % 7 == 0;

    statsig_idlist_index_init(&first);
    statsig_idlist_index_init(&second);
    statsig_idlist_index_init(&alias);
    statsig_idlist_index_init(&raw);

    /* round 1: no old index, so a start over */
    if (fz_update(NULL, one, one_len, 0, &first, &reset) == 0) {
        if (reset != 1) {
            fz_fail("no start over without an old index", NULL);
        }

        fz_check_entries(&first, 1);
        fz_downloaded(&first);

        /* round 2 against it */
        if (fz_update(&first, two, two_len, reset_in, &second, &reset)
            == 0)
        {
            fz_check_entries(&second, reset);

            if (!reset) {
                fz_check_went_on(&first, &second);
            }

            /* the same again with out = old */
            if (fz_update(NULL, one, one_len, 0, &alias, &reset) != 0) {
                fz_fail("round 1 again fails", NULL);
            }

            fz_downloaded(&alias);
            fz_same_index(&first, &alias, 0, "round 1 again");

            if (fz_update(&alias, two, two_len, reset_in, &alias, &reset)
                != 0)
            {
                fz_fail("round 2 with out = old fails", NULL);
            }

            fz_same_index(&second, &alias, 0, "round 2 with out = old");

            fz_state_round_trip(&second);
        }

        fz_state_round_trip(&first);
    }

    /* the raw input as a state: cut short, or bytes that write back */
    rc = statsig_idlist_state_read(data, size, &raw);

    if (rc == 0) {
        if (statsig_idlist_state_size(&raw) != size) {
            fz_fail("a state read has another size", NULL);
        }

        again = malloc(size ? size : 1);
        if (again == NULL) {
            fz_fail("out of memory", NULL);
        }

        statsig_idlist_state_write(&raw, again);
        if (size && memcmp(again, data, size) != 0) {
            fz_fail("a state read writes other bytes", NULL);
        }

        free(again);

        /* and as the old index of the second half (made-up names) */
        if (fz_update(&raw, two, two_len, reset_in, &second, &reset) == 0) {
            fz_check_entries(&second, reset);

            if (!reset) {
                fz_check_went_on(&raw, &second);
            }
        }

    } else if (rc != -2) {
        fz_fail("a state read fails other than corrupt", NULL);
    }

    statsig_idlist_index_free(&first);
    statsig_idlist_index_free(&second);
    statsig_idlist_index_free(&alias);
    statsig_idlist_index_free(&raw);

    return 0;
}
