/*
 * src/core/idlist_index: the ID lists' index against the one before
 * (offsets kept, start over, an older file kept), what is skipped, the
 * numbers, the texts refused, and the resume state (its bytes, a round
 * trip, every truncation).  Each index also goes through the glue's
 * function transcribed with jansson (idlist_index_ref.h), and a few
 * thousand seeded random rounds compare the two.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlist_index.h"
#include "idlist_index_ref.h"
#include "tap.h"
#include "rng.h"

#define PREFIX  "the ID lists index is not a JSON object: "


static int  ref_failures;
static int  ref_quiet;


/*
 * update() beside the reference; the reference must agree (counted in one
 * test at the end, with the first few differences printed).
 */
static int
update(const statsig_idlist_index_t *old, const char *json, size_t len,
    statsig_idlist_index_t *out, int *reset, char *err, size_t errlen)
{
    char         ref_err[512], why[1024];
    int          rc, ref_rc, ref_reset, reset_in;
    ref_index_t  r;

    reset_in = *reset;
    ref_reset = 0;
    ref_rc = ref_update(old, json, len, reset_in, &r, &ref_reset, ref_err,
                        sizeof(ref_err));
    err[0] = '\0';

    rc = statsig_idlist_index_update(old, json, len, out, reset, err,
                                     errlen);

    if (!ref_same(ref_rc, &r, ref_reset, ref_err, rc, out, *reset, err, why,
                  sizeof(why)))
    {
        if (ref_failures++ < 5 && !ref_quiet) {
            printf("# differs from the glue on %.*s: %s\n", (int) len, json,
                   why);
        }
    }

    ref_free(&r);

    return rc;
}


static int
upd(const statsig_idlist_index_t *old, const char *json,
    statsig_idlist_index_t *out, int *reset, char *err)
{
    return update(old, json, strlen(json), out, reset, err, 256);
}


static const statsig_idlist_entry_t *
find(const statsig_idlist_index_t *ix, const char *name)
{
    size_t  i;

    for (i = 0; i < ix->n; i++) {
        if (strcmp(ix->entries[i].name, name) == 0) {
            return &ix->entries[i];
        }
    }

    return NULL;
}


static int64_t
offset_of(const statsig_idlist_index_t *ix, const char *name)
{
    const statsig_idlist_entry_t  *e = find(ix, name);

    return e ? e->offset : -1;
}


static int
all_offsets_zero(const statsig_idlist_index_t *ix)
{
    size_t  i;

    for (i = 0; i < ix->n; i++) {
        if (ix->entries[i].offset != 0) {
            return 0;
        }
    }

    return 1;
}


/* as the glue after downloading: every list applied to its size */
static void
apply_all(statsig_idlist_index_t *ix)
{
    size_t  i;

    for (i = 0; i < ix->n; i++) {
        ix->entries[i].offset = ix->entries[i].size;
    }
}


#define IDX2                                                                 \
    "{\"a\":{\"name\":\"a\",\"url\":\"https://x/a\",\"size\":100,"           \
    "\"creationTime\":1000,\"fileID\":\"fa1\"},"                             \
    "\"b\":{\"name\":\"b\",\"url\":\"https://x/b\",\"size\":50,"             \
    "\"creationTime\":2000,\"fileID\":\"fb1\"}}"


static void
test_rounds(void)
{
    statsig_idlist_index_t         ix, next;
    const statsig_idlist_entry_t  *a, *b;
    char                           err[256];
    int                            reset;

    statsig_idlist_index_init(&ix);
    statsig_idlist_index_init(&next);

    reset = 0;
    is_int(upd(NULL, IDX2, &ix, &reset, err), 0, "first round parses");
    is_int(reset, 1, "first round (no old index): start over");
    is_int((int) ix.n, 2, "two lists");
    a = find(&ix, "a");
    b = find(&ix, "b");
    ok(a && b && a == &ix.entries[0], "in the index's order");
    ok(a && strcmp(a->url, "https://x/a") == 0 && a->url_len == 11
       && strcmp(a->file_id, "fa1") == 0 && a->file_id_len == 3
       && a->name_len == 1 && a->size == 100 && a->creation_time == 1000
       && a->offset == 0 && a->list == -1, "list a's fields");
    ok(b && b->size == 50 && b->creation_time == 2000, "list b's fields");
    is_int((int) statsig_idlist_index_next(&ix, 0), 0, "next: a first");
    is_int((int) statsig_idlist_index_next(&ix, 1), 1, "then b");
    is_int((int) statsig_idlist_index_next(&ix, 2), 2, "then none (n)");

    ix.entries[0].offset = 100;
    ix.entries[1].offset = 20;
    is_int((int) statsig_idlist_index_next(&ix, 0), 1,
           "next skips a list applied to its size");

    reset = 0;
    is_int(upd(&ix, IDX2, &next, &reset, err), 0, "the same index again");
    is_int(reset, 0, "no start over");
    ok(offset_of(&next, "a") == 100 && offset_of(&next, "b") == 20,
       "offsets kept");
    ok(ix.entries[0].offset == 100 && ix.n == 2, "old left as it was");

    reset = 1;
    is_int(upd(&ix, IDX2, &next, &reset, err), 0,
           "the same index, the caller starting over");
    ok(reset == 1 && all_offsets_zero(&next),
       "start over: every offset 0");

    /* out may be old itself */
    reset = 0;
    is_int(upd(&ix, IDX2, &ix, &reset, err), 0, "old as out");
    ok(reset == 0 && offset_of(&ix, "a") == 100 && offset_of(&ix, "b") == 20
       && strcmp(find(&ix, "b")->file_id, "fb1") == 0,
       "old as out: offsets and strings kept");

    reset = 0;
    is_int(upd(&ix,
               "{\"a\":{\"url\":\"u\",\"size\":100,\"creationTime\":1000,"
               "\"fileID\":\"fa1\"},\"b\":{\"url\":\"u\",\"size\":50,"
               "\"creationTime\":2000,\"fileID\":\"fb1\"},\"c\":{\"url\":"
               "\"u\",\"size\":5,\"creationTime\":1,\"fileID\":\"fc1\"}}",
               &next, &reset, err), 0, "a new list");
    ok(reset == 1 && next.n == 3 && all_offsets_zero(&next),
       "a new list: start over, every offset 0");

    reset = 0;
    is_int(upd(&ix, "{\"a\":{\"url\":\"u\",\"size\":100,\"creationTime\":"
               "1000,\"fileID\":\"fa1\"}}", &next, &reset, err), 0,
           "a list gone");
    ok(reset == 1 && next.n == 1 && all_offsets_zero(&next),
       "a list gone: start over");

    reset = 0;
    is_int(upd(&ix, "{\"a\":{\"url\":\"u\",\"size\":100,\"creationTime\":"
               "1000,\"fileID\":\"fa1\"},\"c\":{\"url\":\"u\",\"size\":50,"
               "\"creationTime\":2000,\"fileID\":\"fb1\"}}",
               &next, &reset, err), 0, "a list renamed");
    ok(reset == 1 && all_offsets_zero(&next), "renamed: start over");

    reset = 0;
    is_int(upd(&ix, "{\"a\":{\"url\":\"u2\",\"size\":10,\"creationTime\":"
               "1001,\"fileID\":\"fa2\"},\"b\":{\"url\":\"u\",\"size\":50,"
               "\"creationTime\":2000,\"fileID\":\"fb1\"}}",
               &next, &reset, err), 0, "a newer file");
    a = find(&next, "a");
    ok(reset == 1 && all_offsets_zero(&next) && a
       && strcmp(a->file_id, "fa2") == 0 && a->size == 10
       && a->creation_time == 1001, "a newer file: start over with it");

    reset = 0;
    is_int(upd(&ix, "{\"a\":{\"url\":\"u\",\"size\":100,\"creationTime\":"
               "1000,\"fileID\":\"other\"},\"b\":{\"url\":\"u\",\"size\":50,"
               "\"creationTime\":2000,\"fileID\":\"fb1\"}}",
               &next, &reset, err), 0, "another file of the same time");
    is_int(reset, 1, "the same time counts as newer: start over");

    reset = 0;
    is_int(upd(&ix, "{\"a\":{\"url\":\"https://y/a\",\"size\":7,"
               "\"creationTime\":999,\"fileID\":\"fa0\"},\"b\":{\"url\":\"u\","
               "\"size\":60,\"creationTime\":2000,\"fileID\":\"fb1\"}}",
               &next, &reset, err), 0, "an older file");
    a = find(&next, "a");
    b = find(&next, "b");
    ok(reset == 0 && a && strcmp(a->file_id, "fa1") == 0
       && a->file_id_len == 3 && a->creation_time == 1000 && a->offset == 100
       && a->size == 100 && strcmp(a->url, "https://y/a") == 0,
       "an older file: ours kept (file, time, offset; size = offset; the "
       "index's url)");
    ok(b && b->offset == 20 && b->size == 60, "the other list goes on");

    ix.entries[0].offset = 40;
    reset = 0;
    is_int(upd(&ix, "{\"a\":{\"url\":\"u\",\"size\":100,\"creationTime\":"
               "5,\"fileID\":\"fa0\"},\"b\":{\"url\":\"u\",\"size\":50,"
               "\"creationTime\":2000,\"fileID\":\"fb1\"},\"c\":{}}",
               &next, &reset, err), 0, "an older file, a new list");
    a = find(&next, "a");
    ok(reset == 0 && next.n == 2 && a && a->size == 40 && a->offset == 40
       && statsig_idlist_index_next(&next, 0) == 1,
       "an entry without url is not a list; the kept file is not fetched");

    statsig_idlist_index_free(&next);
    statsig_idlist_index_free(&ix);
    statsig_idlist_index_free(&ix);
    ok(ix.entries == NULL && ix.n == 0 && ix.strings == NULL,
       "free leaves an empty index (and may be called again)");
}


static void
test_null_and_empty(void)
{
    statsig_idlist_index_t  empty, ix;
    char                    err[256];
    int                     reset;

    statsig_idlist_index_init(&empty);
    statsig_idlist_index_init(&ix);

    reset = 0;
    is_int(upd(NULL, "{}", &ix, &reset, err), 0, "no old, an empty index");
    ok(reset == 1 && ix.n == 0, "no old: start over even when empty");

    reset = 0;
    is_int(upd(&empty, "{}", &ix, &reset, err), 0,
           "an empty old, an empty index");
    ok(reset == 0 && ix.n == 0, "nothing to start over");

    reset = 0;
    is_int(upd(&empty, "{\"a\":{\"url\":\"u\",\"size\":3}}", &ix, &reset,
               err), 0, "an empty old, a list");
    ok(reset == 1 && ix.n == 1 && ix.entries[0].offset == 0,
       "every list new: start over");

    reset = 0;
    is_int(upd(&ix, "{\"x\":1,\"y\":[]}", &ix, &reset, err), 0,
           "no list in the index any more");
    ok(reset == 1 && ix.n == 0, "the list left: start over");

    reset = 0;
    is_int(upd(&ix, "{}", &ix, &reset, err), 0, "and empty again");
    is_int(reset, 0, "no start over");
    is_int((int) statsig_idlist_index_next(&ix, 0), 0,
           "next on an empty index: n");

    statsig_idlist_index_free(&ix);
}


static void
test_skipped(void)
{
    statsig_idlist_index_t         ix;
    const statsig_idlist_entry_t  *e;
    char                           err[256];
    int                            reset;

    statsig_idlist_index_init(&ix);

    reset = 0;
    is_int(upd(NULL,
               "{\"s\":\"str\",\"n\":1,\"a\":[{\"url\":\"u\"}],\"z\":null,"
               "\"t\":true,\"u1\":{\"url\":1},\"u2\":{\"url\":null},"
               "\"u3\":{\"url\":{}},\"u4\":{\"size\":1},"
               "\"ok\":{\"url\":\"\",\"fileID\":7},"
               "\"ok2\":{\"url\":\"v\",\"fileID\":null,\"name\":\"other\"}}",
               &ix, &reset, err), 0, "an index of odd entries");
    is_int((int) ix.n, 2, "only objects with a string url are lists");
    e = find(&ix, "ok");
    ok(e && e->url_len == 0 && strcmp(e->url, "") == 0
       && strcmp(e->file_id, "") == 0 && e->file_id_len == 0,
       "an empty url is one; a number fileID is \"\"");
    e = find(&ix, "ok2");
    ok(e && strcmp(e->file_id, "") == 0 && strcmp(e->name, "ok2") == 0,
       "a null fileID is \"\"; the name is the key, not \"name\"");

    reset = 0;
    is_int(upd(NULL, "{\"a\":{\"url\":\"u1\",\"size\":1},\"b\":{\"url\":"
               "\"u\"},\"a\":{\"url\":\"u2\",\"size\":2}}", &ix, &reset,
               err), 0, "a repeated key");
    ok(ix.n == 2 && strcmp(ix.entries[0].name, "a") == 0
       && strcmp(ix.entries[0].url, "u2") == 0 && ix.entries[0].size == 2,
       "a repeated key: its first place, its last value (jansson)");

    reset = 0;
    is_int(upd(NULL, "{\"a\":{\"url\":\"u1\"},\"a\":5}", &ix, &reset, err),
           0, "a list whose repeat is not an object");
    is_int((int) ix.n, 0, "is skipped");

    reset = 0;
    is_int(upd(NULL, "{\"caf\\u00e9 \\\"q\\\"\":{\"url\":\"h\\/\\u2028\","
               "\"fileID\":\"\\\\u0000\"}}", &ix, &reset, err), 0,
           "escapes in the key, url and fileID");
    ok(ix.n == 1 && strcmp(ix.entries[0].name, "caf\xc3\xa9 \"q\"") == 0
       && ix.entries[0].name_len == 9
       && strcmp(ix.entries[0].url, "h/\xe2\x80\xa8") == 0
       && strcmp(ix.entries[0].file_id, "\\u0000") == 0,
       "decoded (an escaped backslash before u0000 is no NUL)");

    statsig_idlist_index_free(&ix);
}


static void
test_numbers(void)
{
    static const struct {
        const char  *json;
        int64_t      want;
    } nums[] = {
        { "123", 123 },
        { "-5", -5 },
        { "10.9", 10 },
        { "-3.7", -3 },
        { "1e3", 1000 },
        { "2.5E1", 25 },
        { "-0", 0 },
        { "0.0", 0 },
        { "9007199254740993", 9007199254740992 },
        { "9223372036854775807", INT64_MAX },
        { "-9223372036854775808", INT64_MIN },
        { "1e19", INT64_MAX },
        { "-1e19", INT64_MIN },
        { "1e308", INT64_MAX },
        { "-1.7e308", INT64_MIN },
        { "9223372036854774784", 9223372036854774784 },
        { "\"123\"", 0 },
        { "null", 0 },
        { "true", 0 },
        { "[1]", 0 },
        { "{\"a\":1}", 0 },
    };

    statsig_idlist_index_t  ix;
    char                    json[256], err[256];
    size_t                  i;
    int                     reset, rc;

    statsig_idlist_index_init(&ix);

    for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        snprintf(json, sizeof(json), "{\"a\":{\"url\":\"u\",\"size\":%s,"
                 "\"creationTime\":%s}}", nums[i].json, nums[i].json);
        reset = 0;
        rc = upd(NULL, json, &ix, &reset, err);
        ok(rc == 0 && ix.n == 1 && ix.entries[0].size == nums[i].want
           && ix.entries[0].creation_time == nums[i].want,
           "size and creationTime %s: %lld", nums[i].json,
           (long long) nums[i].want);
    }

    reset = 0;
    rc = upd(NULL, "{\"a\":{\"url\":\"u\"}}", &ix, &reset, err);
    ok(rc == 0 && ix.n == 1 && ix.entries[0].size == 0
       && ix.entries[0].creation_time == 0, "absent: 0");

    statsig_idlist_index_free(&ix);
}


static void
test_refused(void)
{
    static const struct {
        const char  *json;
        size_t       len;       /* 0: strlen */
        const char  *err;       /* the whole message, or a part of it */
    } bad[] = {
        { "[]", 0, PREFIX },
        { "[{\"url\":\"u\"}]", 0, PREFIX },
        { "{", 0, PREFIX "line 1, column 1: " },
        { "", 0, "'[' or '{' expected" },
        { "1", 0, "'[' or '{' expected" },
        { "\"s\"", 0, "'[' or '{' expected" },
        { "null", 0, "'[' or '{' expected" },
        { "{\"a\":{\"url\":\"u\"}} x", 0, "end of file expected" },
        { "{\"a\":{\"url\":\"u\",}}", 0, PREFIX "line 1" },
        { "{\"a\":{\"url\":\"\\u0000\"}}", 0,
          "line 1, column 14: \\u0000 is not allowed without "
          "JSON_ALLOW_NUL" },
        { "{\"a\":{\"url\":\"u\"},\"b\":[\"x\\u0000\"]}", 0,
          "\\u0000 is not allowed" },
        { "[\"\\u0000\"]", 0, "\\u0000 is not allowed" },
        { "{\"\\u0000\":{\"url\":\"u\"}}", 0, PREFIX "line 1" },
        { "{\"a\\u0000b\":{\"url\":\"u\"}}", 0, PREFIX "line 1" },
        { "{\"a\":{\"url\":\"u\",\"size\":9223372036854775808}}", 0,
          "too big integer" },
        { "{\"a\":{\"url\":\"u\",\"size\":-9223372036854775809}}", 0,
          "too big negative integer" },
        { "{\"x\":\n 100000000000000000000}", 0,
          "line 2, column 2: too big integer" },
        { "{\"a\":{\"url\":\"u\",\"size\":1e400}}", 0, "overflow" },
        { "{\"a\":\"\xff\"}", 0, PREFIX "line 1" },
        { "{\"a\":1\0}", 8, PREFIX "line 1" },
    };

    statsig_idlist_index_t  ix;
    char                    err[256];
    size_t                  i, len;
    int                     reset, rc, saved_failures;

    statsig_idlist_index_init(&ix);
    reset = 0;
    upd(NULL, IDX2, &ix, &reset, err);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        len = bad[i].len ? bad[i].len : strlen(bad[i].json);

        /* jansson skips a raw NUL after a number; jtree refuses it */
        saved_failures = ref_failures;
        ref_quiet = bad[i].len != 0;
        reset = 7;
        rc = update(&ix, bad[i].json, len, &ix, &reset, err, sizeof(err));
        if (bad[i].len) {
            ref_failures = saved_failures;
            ref_quiet = 0;
        }

        ok(rc == -1 && strncmp(err, PREFIX, strlen(PREFIX)) == 0
           && strstr(err, bad[i].err) != NULL
           && (strcmp(bad[i].err, PREFIX) != 0 || strcmp(err, PREFIX) == 0)
           && reset == 7 && ix.n == 2 && strcmp(ix.entries[1].url,
                                                "https://x/b") == 0,
           "refused #%d: %s; out and reset untouched", (int) i, err);
    }

    err[0] = 'x';
    reset = 0;
    rc = statsig_idlist_index_update(NULL, "[]", 2, &ix, &reset, err, 0);
    ok(rc == -1 && err[0] == 'x', "errlen 0: nothing written");
    rc = statsig_idlist_index_update(NULL, "[]", 2, &ix, &reset, NULL, 0);
    is_int(rc, -1, "err NULL");

    rc = statsig_idlist_index_update(NULL, "[]", 2, &ix, &reset, err, 10);
    ok(rc == -1 && strcmp(err, "the ID li") == 0,
       "a short err is cut, NUL-terminated");

    statsig_idlist_index_free(&ix);
}


/* ---- the resume state ---- */

static size_t
put(unsigned char *p, const void *v, size_t n)
{
    memcpy(p, v, n);
    return n;
}


static void
test_state_bytes(void)
{
    statsig_idlist_index_t  ix, back;
    unsigned char           want[128], *got;
    char                    err[256];
    size_t                  n, size;
    uint32_t                len;
    int64_t                 v[2];
    int                     reset;

    statsig_idlist_index_init(&ix);
    statsig_idlist_index_init(&back);

    reset = 0;
    upd(NULL, "{\"vips\":{\"url\":\"u\",\"size\":70,\"creationTime\":"
        "1700000000123,\"fileID\":\"1abc\"},\"e\":{\"url\":\"u\"}}",
        &ix, &reset, err);
    ix.entries[0].offset = 65;

    /* the glue's save(), by hand */
    n = 0;
    len = 4;
    n += put(want + n, &len, 4);
    n += put(want + n, "vips", 4);
    n += put(want + n, &len, 4);
    n += put(want + n, "1abc", 4);
    v[0] = 1700000000123;
    v[1] = 65;
    n += put(want + n, v, 16);
    len = 1;
    n += put(want + n, &len, 4);
    n += put(want + n, "e", 1);
    len = 0;
    n += put(want + n, &len, 4);
    v[0] = 0;
    v[1] = 0;
    n += put(want + n, v, 16);

    size = statsig_idlist_state_size(&ix);
    is_int((int) size, (int) n, "state size: %d bytes", (int) n);

    got = malloc(size + 1);
    got[size] = 0xA5;
    statsig_idlist_state_write(&ix, got);
    ok(memcmp(got, want, n) == 0, "the glue's bytes, byte for byte");
    ok(got[size] == 0xA5, "nothing written past the size");

    /* at an odd address: unaligned reads */
    memmove(got + 1, got, size);
    is_int(statsig_idlist_state_read(got + 1, size, &back), 0,
           "read back (unaligned)");
    ok(back.n == 2 && strcmp(back.entries[0].name, "vips") == 0
       && back.entries[0].name_len == 4
       && strcmp(back.entries[0].file_id, "1abc") == 0
       && back.entries[0].creation_time == 1700000000123
       && back.entries[0].offset == 65 && back.entries[0].size == 65
       && back.entries[0].list == -1 && back.entries[0].url_len == 0
       && strcmp(back.entries[0].url, "") == 0
       && strcmp(back.entries[1].name, "e") == 0
       && back.entries[1].file_id_len == 0 && back.entries[1].offset == 0,
       "names, file ids, times, offsets; url \"\", size = offset, list -1");
    is_int((int) statsig_idlist_index_next(&back, 0), 2,
           "nothing to fetch in a state alone");

    /* resumed: the next index goes on from the state's offsets */
    reset = 0;
    is_int(upd(&back, "{\"vips\":{\"url\":\"u\",\"size\":90,"
               "\"creationTime\":1700000000123,\"fileID\":\"1abc\"},"
               "\"e\":{\"url\":\"u\",\"size\":3}}", &back, &reset, err), 0,
           "an index after a resume");
    ok(reset == 0 && back.entries[0].offset == 65
       && back.entries[0].size == 90
       && statsig_idlist_index_next(&back, 0) == 0,
       "goes on from offset 65 (Range: bytes=65-)");

    statsig_idlist_index_free(&ix);
    free(got);
    statsig_idlist_index_free(&back);

    /* an empty state */
    back.n = 99;
    is_int(statsig_idlist_state_read(NULL, 0, &back), 0, "an empty state");
    ok(back.n == 0 && back.entries == NULL, "reads as no entries");
    is_int((int) statsig_idlist_state_size(&back), 0, "and writes 0 bytes");
    statsig_idlist_state_write(&back, NULL);
}


static void
test_state_truncated(void)
{
    statsig_idlist_index_t  ix, back;
    unsigned char          *state, *cut;
    char                    err[256];
    size_t                  size, len, i, boundary[8], nb, k;
    int                     reset, rc, bad;

    statsig_idlist_index_init(&ix);
    statsig_idlist_index_init(&back);

    reset = 0;
    upd(NULL, "{\"one\":{\"url\":\"u\",\"fileID\":\"f1\",\"creationTime\":3},"
        "\"\":{\"url\":\"u\"},\"three\":{\"url\":\"u\",\"fileID\":"
        "\"ffffff\"}}", &ix, &reset, err);
    for (i = 0; i < ix.n; i++) {
        ix.entries[i].offset = (int64_t) (i + 1) * 1000;
    }

    size = statsig_idlist_state_size(&ix);
    state = malloc(size);
    statsig_idlist_state_write(&ix, state);

    nb = 0;
    boundary[nb++] = 0;
    for (i = 0, len = 0; i < ix.n; i++) {
        len += 24 + ix.entries[i].name_len + ix.entries[i].file_id_len;
        boundary[nb++] = len;
    }

    bad = 0;

    for (len = 0; len <= size; len++) {
        /* its own block, so that valgrind sees a read past it */
        cut = malloc(len ? len : 1);
        memcpy(cut, state, len);

        rc = statsig_idlist_state_read(cut, len, &back);

        for (k = 0; k < nb && boundary[k] != len; k++) {
            /* void */
        }

        if (k < nb) {
            if (rc != 0 || back.n != k
                || (k && back.entries[k - 1].offset != (int64_t) k * 1000))
            {
                bad++;
            }

        } else if (rc != -2) {
            bad++;
        }

        free(cut);
    }

    is_int(bad, 0, "a state cut at each of %d lengths: whole entries read, "
           "-2 elsewhere", (int) size + 1);

    /* -2 leaves out as it was */
    rc = statsig_idlist_state_read(state, size, &back);
    rc |= statsig_idlist_state_read(state, size - 1, &back);
    ok(rc == -2 && back.n == 3 && strcmp(back.entries[2].name, "three") == 0,
       "a corrupt state leaves out as it was");

    /* a length past the end */
    memset(state, 0xFF, 4);
    is_int(statsig_idlist_state_read(state, size, &back), -2,
           "a name length of 4 GB - 1: corrupt");

    free(state);
    statsig_idlist_index_free(&back);
    statsig_idlist_index_free(&ix);
}


/* ---- seeded random rounds ---- */

static const char  *names[] = {
    "a", "b", "vips", "beta_users", "x\\u00e9", "list_5", "", "\\\"q\\\"",
};

#define NNAMES  (sizeof(names) / sizeof(names[0]))


static void
rand_number(char *p, size_t cap)
{
    static const char  *odd[] = {
        "\"5\"", "null", "true", "1.5", "-2.5e2", "1e19", "-0", "[]", "{}",
        "9223372036854775807", "-9223372036854775808", "1e300",
    };

    if (rnd_below(6) == 0) {
        snprintf(p, cap, "%s", odd[rnd_below(sizeof(odd) / sizeof(odd[0]))]);

    } else {
        snprintf(p, cap, "%u", rnd_below(4) == 0 ? rnd() : rnd_below(20));
    }
}


/*
 * The server's lists, changed a little each round: a list added or
 * dropped, a new file (newer or, now and then, older), bytes appended;
 * and odd members now and then (not objects, a url that is no string, a
 * repeated key), so that both rounds that go on and rounds that start
 * over are common.
 */
typedef struct {
    int       used;
    unsigned  file;
    char      ct[40];
    char      size[40];
} rand_list_t;

static rand_list_t  model[NNAMES];


static size_t
rand_index(char *p, size_t cap)
{
    char          odd[40];
    size_t        i, len;
    int           first, wrap;
    rand_list_t  *l;

    for (i = 0; i < NNAMES; i++) {
        l = &model[i];

        switch (rnd_below(40)) {
        case 0:
            l->used = !l->used;
            break;
        case 1:
            l->file = rnd();
            rand_number(l->ct, sizeof(l->ct));
            break;
        case 2:
        case 3:
        case 4:
            rand_number(l->size, sizeof(l->size));
            break;
        }

        if (l->ct[0] == '\0') {
            snprintf(l->ct, sizeof(l->ct), "%u", rnd_below(100));
            snprintf(l->size, sizeof(l->size), "%u", rnd_below(100));
        }
    }

    len = (size_t) snprintf(p, cap, "{");
    first = 1;

    for (i = 0; i < NNAMES; i++) {
        l = &model[i];

        if (rnd_below(30) == 0) {
            rand_number(odd, sizeof(odd));
            wrap = rnd_below(2);
            len += (size_t) snprintf(p + len, cap - len, "%s\"%s\":%s%s%s",
                                     first ? "" : ",",
                                     names[rnd_below(NNAMES)],
                                     wrap ? "{\"url\":" : "", odd,
                                     wrap ? "}" : "");
            first = 0;
        }

        if (!l->used) {
            continue;
        }

        len += (size_t) snprintf(p + len, cap - len,
                                 "%s\"%s\":{\"url\":\"https://x/%u\","
                                 "\"size\":%s,\"creationTime\":%s%s%u\"}",
                                 first ? "" : ",", names[i], l->file,
                                 l->size, l->ct,
                                 l->file % 8 ? ",\"fileID\":\"f"
                                             : ",\"other\":\"",
                                 l->file % 5);
        first = 0;
    }

    len += (size_t) snprintf(p + len, cap - len, "}");

    return len;
}


static void
test_random(void)
{
    statsig_idlist_index_t        ix, next, back;
    const statsig_idlist_index_t *old;
    unsigned char                *state;
    char                    json[2048], err[256];
    size_t                  i, k, len, size;
    int                     reset, rounds, starts, kept, bad, rc;

    statsig_idlist_index_init(&ix);
    statsig_idlist_index_init(&next);
    statsig_idlist_index_init(&back);

    rounds = 0;
    starts = 0;
    kept = 0;
    bad = 0;

    for (i = 0; i < 4000; i++) {
        len = rand_index(json, sizeof(json));

        /* the old index: the last round's, or one resumed from its state */
        old = &ix;

        if (rnd_below(4) == 0) {
            size = statsig_idlist_state_size(&ix);
            state = malloc(size ? size : 1);
            statsig_idlist_state_write(&ix, state);
            rc = statsig_idlist_state_read(state, size, &back);
            free(state);

            if (rc != 0 || back.n != ix.n) {
                bad++;
            }

            for (k = 0; k < ix.n && k < back.n; k++) {
                if (strcmp(back.entries[k].name, ix.entries[k].name) != 0
                    || back.entries[k].name_len != ix.entries[k].name_len
                    || strcmp(back.entries[k].file_id,
                              ix.entries[k].file_id) != 0
                    || back.entries[k].creation_time
                       != ix.entries[k].creation_time
                    || back.entries[k].offset != ix.entries[k].offset)
                {
                    bad++;
                }
            }

            old = &back;
        }

        reset = rnd_below(10) == 0;
        if (rnd_below(50) == 0) {
            old = NULL;
        }

        rc = update(old, json, len, &next,
                    &reset, err, sizeof(err));
        if (rc != 0) {
            bad++;
            continue;
        }

        rounds++;
        starts += reset;
        kept += !reset && next.n > 0;

        /* some lists downloaded, partly or whole */
        for (k = 0; k < next.n; k++) {
            if (rnd_below(2)) {
                next.entries[k].offset = next.entries[k].size > 0
                                         ? next.entries[k].size
                                           - rnd_below(2) : 0;
            }
        }

        if (rnd_below(3) == 0) {
            apply_all(&next);
        }

        /* and the next round compares with what went before */
        statsig_idlist_index_free(&ix);
        ix = next;
        statsig_idlist_index_init(&next);
    }

    is_int(bad, 0, "%d random indexes parse; their states round-trip",
           4000);
    ok(starts > 100 && kept > 100, "%d rounds: %d started over, %d went on",
       rounds, starts, kept);

    statsig_idlist_index_free(&ix);
    statsig_idlist_index_free(&back);
}


int
main(void)
{
    test_rounds();
    test_null_and_empty();
    test_skipped();
    test_numbers();
    test_refused();
    test_state_bytes();
    test_state_truncated();
    test_random();

    is_int(ref_failures, 0, "every index gave what the glue's code gives");

    return done_testing();
}
