/*
 * statsig_compile_mem_no_updates(): whether the document last given to
 * statsig_compile_in() was Statsig's "no updates" answer, from the parse
 * the compile made.  It must answer as the fetcher's jansson check did
 * (json_loadb with no flags, an object, "has_updates" the literal false):
 * fixed cases, the edges where the compiler's parser and jansson without
 * flags differ (\u0000, integers past long long, a NUL byte after a
 * number), and seeded generated documents, some of them broken.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "gates_doc.h"
#include "no_updates_ref.h"
#include "statsig.h"
#include "tap.h"

#define RNG_SEED  0xA4093822299F31D0ULL
#include "rng.h"


/* ---- the core's answer, and jansson's (no_updates_ref.h) ---- */

static statsig_compile_mem_t  *mem;
static int                     compiled;


static int
core_no_updates(const char *json, size_t len)
{
    char         err[256];
    size_t       size;

    compiled = statsig_compile_in(mem, json, len, &size, err, sizeof(err))
               != NULL;

    return statsig_compile_mem_no_updates(mem);
}


/* the core's answer, which must be jansson's and the one expected */
static void
check(const char *json, size_t len, int want, const char *name)
{
    int  core, ref;

    core = core_no_updates(json, len);
    ref = jansson_no_updates(json, len);

    ok(core == want && ref == want, "%s: %s", name,
       want ? "no updates" : "not that");

    if (core != want || ref != want) {
        printf("#   core %d, jansson %d, expected %d\n", core, ref, want);
    }
}


/* a literal that may hold NUL bytes, all of it */
#define checkb(lit, want, name)  check(lit, sizeof(lit) - 1, want, name)


static void
checks(const char *json, int want, const char *name)
{
    check(json, strlen(json), want, name);
}


/* ---- documents ---- */

static const char  *numbers[] = {
    "0", "-0", "7", "-12", "1.5", "1e5", "1E-3", "-2.5e+10",
    "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809",
    "12345678901234567890", "123456789012345678901234567890.5",
    "99999999999999999999e0", "1e400", "-1e400", "1e-400"
};

static const char  *pieces[] = {
    "a", "has_updates", "\\u0000", "\\\\u0000", "\\\\\\u0000", "\\\"", "\\n",
    "\xc3\xa9", "\\ud83d\\ude00", ",", "{}", "false", "\\u0041", "\\\\"
};

#define NNUMBERS  (sizeof(numbers) / sizeof(numbers[0]))
#define NPIECES   (sizeof(pieces) / sizeof(pieces[0]))


static void
gen_string(bytes_t *b)
{
    uint32_t  i, n;

    bytes_adds(b, "\"");
    for (n = rnd_below(4), i = 0; i < n; i++) {
        bytes_adds(b, pieces[rnd_below(NPIECES)]);
    }
    bytes_adds(b, "\"");
}


static void
gen_value(bytes_t *b, int depth)
{
    static const char  *lits[] = { "true", "false", "null" };
    uint32_t            i, n;

    switch (depth > 3 ? rnd_below(4) : rnd_below(6)) {
    case 0:
        bytes_adds(b, numbers[rnd_below(NNUMBERS)]);
        break;

    case 1:
        bytes_adds(b, lits[rnd_below(3)]);
        break;

    case 2:
    case 3:
        gen_string(b);
        break;

    case 4:
        bytes_adds(b, "{");
        for (n = rnd_below(4), i = 0; i < n; i++) {
            if (i) {
                bytes_adds(b, ",");
            }
            gen_string(b);
            bytes_adds(b, ":");
            gen_value(b, depth + 1);
        }
        bytes_adds(b, "}");
        break;

    default:
        bytes_adds(b, "[");
        for (n = rnd_below(4), i = 0; i < n; i++) {
            if (i) {
                bytes_adds(b, ",");
            }
            gen_value(b, depth + 1);
        }
        bytes_adds(b, "]");
    }
}


/* a top-level object around "has_updates" members, or something else */
static void
gen_doc(bytes_t *b)
{
    static const char  *hu[] = {
        "false", "false", "false", "false", "false", " false ", "true",
        "\"false\"", "0", "null", "{}", "[false]"
    };
    static const char  *keys[] = {
        "\"has_updates\"", "\"has_updates\"", "\"has_updates\"",
        "\"has_\\u0075pdates\"", "\"time\"", "\"x\"",
        "\"has_updates \"", "\"Has_updates\""
    };
    uint32_t            i, n, kind;

    b->len = 0;
    kind = rnd_below(20);

    if (kind == 0) {
        gen_value(b, 0);                    /* anything at the top */
        return;
    }

    if (kind < 3) {
        bytes_adds(b, "[");                 /* an array around one */
    }

    bytes_adds(b, rnd_below(4) ? "{" : " \n{ ");

    for (n = 1 + rnd_below(4), i = 0; i < n; i++) {
        if (i) {
            bytes_adds(b, ",");
        }

        bytes_adds(b, keys[rnd_below(8)]);
        bytes_adds(b, ":");

        if (rnd_below(4)) {
            bytes_adds(b, hu[rnd_below(12)]);

        } else {
            gen_value(b, 1);
        }
    }

    bytes_adds(b, "}");

    if (kind < 3) {
        bytes_adds(b, "]");
    }

    if (rnd_below(4) == 0) {
        bytes_adds(b, " \n");
    }
}


/* a byte cut, dropped, inserted or a NUL after a number's last digit */
static void
mutate(bytes_t *b)
{
    static const char  junk[] = "\0}],\":{[ a\\-1e";
    size_t             at, i;
    char               c;

    if (b->len == 0) {
        return;
    }

    at = rnd_below((uint32_t) b->len);

    switch (rnd_below(4)) {
    case 0:
        b->len = at;
        break;

    case 1:
        memmove(b->data + at, b->data + at + 1, b->len - at - 1);
        b->len--;
        break;

    case 2:
        c = junk[rnd_below(sizeof(junk) - 1)];
        bytes_add(b, &c, 1);
        memmove(b->data + at + 1, b->data + at, b->len - at - 1);
        b->data[at] = c;
        break;

    default:
        for (i = at; i < b->len; i++) {
            if (b->data[i] >= '0' && b->data[i] <= '9'
                && (i + 1 == b->len || b->data[i + 1] < '0'
                    || b->data[i + 1] > '9'))
            {
                c = '\0';
                bytes_add(b, &c, 1);
                memmove(b->data + i + 2, b->data + i + 1, b->len - i - 2);
                b->data[i + 1] = '\0';
                break;
            }
        }
    }
}


/* ---- tests ---- */

static void
test_fixed(void)
{
    bytes_t  b = { NULL, 0, 0 };
    char     name[64];
    int      i;

    ok(statsig_compile_mem_no_updates(mem) == 0, "nothing compiled yet: 0");

    checks("{\"has_updates\":false}", 1, "{\"has_updates\":false}");
    ok(!compiled, "which does not compile");
    checks(" \n\t{ \"has_updates\" :\tfalse }\r\n", 1, "with whitespace");
    checks("{\"has_updates\":false,\"time\":1735689600000,"
           "\"feature_gates\":[],\"x\":{\"has_updates\":true}}", 1,
           "with other members");
    checks("{\"time\":1,\"has_updates\":false}", 1, "not the first member");
    checks("{\"has_updates\":true}", 0, "true");
    checks("{}", 0, "absent");
    checks("{\"time\":1}", 0, "absent among others");
    checks("{\"has_updates\":\"false\"}", 0, "the string \"false\"");
    checks("{\"has_updates\":0}", 0, "0");
    checks("{\"has_updates\":null}", 0, "null");
    checks("{\"has_updates\":[false]}", 0, "[false]");
    checks("{\"has_updates \":false}", 0, "another key");
    checks("{\"has_\\u0075pdates\":false}", 1, "the key with an escape");
    checks("{\"x\":{\"has_updates\":false}}", 0, "nested, not top-level");
    checks("[{\"has_updates\":false}]", 0, "an array at the top");
    checks("\"has_updates\"", 0, "a string at the top");
    checks("false", 0, "false at the top");

    checks("{\"has_updates\":false", 0, "broken: unclosed");
    checks("{\"has_updates\":false,}", 0, "broken: trailing comma");
    checks("{\"has_updates\":false}x", 0, "broken: text after it");
    checks("{\"has_updates\":false}{}", 0, "broken: two documents");
    checks("{\"has_updates\":fals}", 0, "broken: fals");
    checks("{\"has_updates\":false,\"s\":\"\xff\"}", 0,
           "broken: invalid UTF-8");
    checks("", 0, "empty");

    checks("{\"has_updates\":true,\"has_updates\":false}", 1,
           "a repeated key: the last, false");
    checks("{\"has_updates\":false,\"has_updates\":true}", 0,
           "a repeated key: the last, true");
    checks("{\"has_updates\":false,\"x\":1,\"has_updates\":false}", 1,
           "a repeated key: false twice");

    /* where the compiler's parser takes more than jansson without flags */
    checks("{\"has_updates\":false,\"s\":\"a\\u0000b\"}", 0,
           "\\u0000 in a string: jansson refuses it without a flag");
    checks("{\"has_updates\":false,\"s\":\"a\\\\u0000b\"}", 1,
           "\\\\u0000 (an escaped backslash) is fine");
    checks("{\"has_updates\":false,\"s\":\"\\\\\\u0000\"}", 0,
           "\\\\ then \\u0000");
    checks("{\"has_updates\":false,\"n\":9223372036854775807}", 1,
           "2^63 - 1");
    checks("{\"has_updates\":false,\"n\":9223372036854775808}", 0,
           "2^63: too big an integer");
    checks("{\"has_updates\":false,\"n\":-9223372036854775808}", 1,
           "-2^63");
    checks("{\"has_updates\":false,\"n\":[-9223372036854775809]}", 0,
           "-2^63 - 1");
    checks("{\"has_updates\":false,\"n\":123456789012345678901234567890.5}",
           1, "a long real");
    checks("{\"has_updates\":false,\"n\":99999999999999999999e0}", 1,
           "a long integer with an exponent is a real");
    checks("{\"has_updates\":false,\"n\":1e400}", 0, "a real overflow");
    checks("{\"has_updates\":false,\"n\":1e-400}", 1, "an underflow: 0");

    /* NUL bytes: jansson skips one right after a number */
    checkb("{\"has_updates\":false,\"n\":1\0}", 1,
          "a NUL byte after a number");
    checkb("{\"n\":1\0,\"has_updates\":true}", 0,
          "the same, has_updates true");
    checkb("{\"has_updates\":false,\"n\":1\0\0}", 0, "two NUL bytes");
    checkb("{\"has_updates\":false}\0", 0, "a NUL byte at the end");
    checkb("{\"has_updates\":false,\"s\":\"\0\"}", 0,
          "a NUL byte in a string");

    /* 2048 levels are jansson's limit: {"has_updates":false,"d":[[...]]} */
    for (i = 2046; i <= 2048; i++) {
        b.len = 0;
        bytes_adds(&b, "{\"has_updates\":false,\"d\":");
        while (b.len < 25 + (size_t) i) {
            bytes_adds(&b, "[");
        }
        while (b.len < 25 + 2 * (size_t) i) {
            bytes_adds(&b, "]");
        }
        bytes_adds(&b, "}");
        snprintf(name, sizeof(name), "%d levels: %s", i + 1,
                 i < 2048 ? "jansson's limit or less" : "too deep");
        check(b.data, b.len, i < 2048, name);
    }

    /* documents that compile */
    gates_doc(&b, 3, "true");
    check(b.data, b.len, 0, "a full document");
    ok(compiled, "which compiles");

    gates_doc(&b, 3, "false");
    check(b.data, b.len, 1, "a full document, has_updates false");
    ok(compiled, "which compiles too");

    gates_doc(&b, 3, "false");
    bytes_adds(&b, ",");
    check(b.data, b.len, 0, "the same, broken");

    /* the answer is the last document's, never an earlier one's */
    checks("{\"has_updates\":false}", 1, "no updates");
    checks("{\"has_updates\":", 0, "then a failing parse: 0");
    checks("{\"has_updates\":false}", 1, "no updates");
    checks("[]", 0, "then an array: 0");
    checks("{\"has_updates\":false}", 1, "no updates");
    gates_doc(&b, 20000, "true");
    check(b.data, b.len, 0, "then a 5 MB full document: 0");
    ok(compiled && b.len > 4000000, "which compiles (%zu bytes)", b.len);
    checks("{\"has_updates\":false}", 1, "then no updates again");
    checkb("{\"has_updates\":false,\"n\":1\0}", 1,
          "a NUL byte after a number");
    checks("{\"has_updates\":false,\"n\":1\"}", 0,
           "then a parse error: 0");

    free(b.data);
}


static void
test_generated(void)
{
    bytes_t   b = { NULL, 0, 0 };
    int       i, core, ref, bad, yes, broken, nuls;

    bad = 0;
    yes = 0;
    broken = 0;
    nuls = 0;

    for (i = 0; i < 600; i++) {
        gen_doc(&b);

        if (rnd_below(4) == 0) {
            mutate(&b);
            broken++;
        }

        core = core_no_updates(b.data, b.len);
        ref = jansson_no_updates(b.data, b.len);

        yes += ref;
        nuls += memchr(b.data, '\0', b.len) != NULL;

        if (core != ref && bad++ < 5) {
            printf("# document %d: core %d, jansson %d: %.*s\n", i, core,
                   ref, (int) b.len, b.data);
        }
    }

    is_int(bad, 0, "600 generated documents (%d mutated, %d with a NUL "
           "byte): the core answers as jansson", broken, nuls);
    ok(yes > 100 && yes < 500, "%d of them are no updates", yes);

    free(b.data);
}


int
main(void)
{
    mem = statsig_compile_mem_create();
    if (mem == NULL) {
        return 1;
    }

    test_fixed();
    test_generated();

    statsig_compile_mem_free(mem);

    return done_testing();
}
