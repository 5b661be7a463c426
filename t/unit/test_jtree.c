/*
 * jtree.c against jansson: the compiler's parser must accept exactly what
 * json_loadb(JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL) accepts and build
 * the same tree (member order, repeated keys, number bits, string bytes).
 * Hand-written edge cases, then seeded random documents and mutations.
 */

#include "jtree_dump.h"
#include "tap.h"


static statsig_jtree_t  *tree;


static void
check(const char *text, size_t len, int want_accept, const char *name)
{
    char  why[512];
    int   acc, same;

    why[0] = '\0';
    same = same_as_jansson(tree, text, len, &acc, why, sizeof(why));
    ok(same && acc == want_accept, "%s: %s%s", name,
       want_accept ? "accepted" : "rejected", same ? "" : "");
    if (!same || acc != want_accept) {
        printf("#   %s (jansson %s)\n", why, acc ? "accepts" : "rejects");
    }
}

#define CHECK(lit, want)  check(lit, sizeof(lit) - 1, want, #lit)


static void
test_cases(void)
{
    char    *deep;
    size_t   i;

    /* structure */
    CHECK("{}", 1);
    CHECK("[]", 1);
    CHECK(" \t\r\n{ } \n", 1);
    CHECK("[1,[2,[3,{}]],{\"a\":[]}]", 1);
    CHECK("", 0);
    CHECK("   ", 0);
    CHECK("1", 0);
    CHECK("\"a\"", 0);
    CHECK("null", 0);
    CHECK("[1,]", 0);
    CHECK("[,1]", 0);
    CHECK("[1 2]", 0);
    CHECK("{\"a\":1,}", 0);
    CHECK("{\"a\" 1}", 0);
    CHECK("{\"a\":}", 0);
    CHECK("{1:2}", 0);
    CHECK("{\"a\":1 \"b\":2}", 0);
    CHECK("{} x", 0);
    CHECK("{}{}", 0);
    CHECK("{}\0", 0);
    CHECK("[1,\0 2]", 0);
    /* jansson skips a NUL right after a number; jtree, like JSON.parse,
       does not: "same" here means jtree reads [1,2] once it is removed */
    CHECK("[1\0,2]", 0);
    CHECK("[", 0);
    CHECK("{\"a\":[1,2}", 0);
    CHECK("[1]]", 0);

    /* repeated keys: first place, last value */
    CHECK("{\"a\":1,\"b\":2,\"a\":3}", 1);
    CHECK("{\"a\":{\"x\":1},\"a\":[2],\"c\":0,\"a\":null}", 1);
    CHECK("{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,"
          "\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,\"k12\":12,"
          "\"k13\":13,\"k14\":14,\"k15\":15,\"k16\":16,\"k17\":17,"
          "\"k3\":33,\"k17\":1717,\"k0\":100,\"k18\":18,\"k3\":333}", 1);

    /* literals */
    CHECK("[true,false,null]", 1);
    CHECK("[tru]", 0);
    CHECK("[truex]", 0);
    CHECK("[True]", 0);
    CHECK("[nul]", 0);
    CHECK("[nullx]", 0);
    CHECK("[null1]", 0);
    CHECK("[falsE]", 0);

    /* numbers */
    CHECK("[0,-0,1,-1,0.5,-0.5,1e2,1E-2,1e+2,2.5e-3,100,1234567890]", 1);
    CHECK("[0.1,0.2,0.3,3.14159,1.7976931348623157e308,4.9e-324]", 1);
    CHECK("[9007199254740993,123456789012345678901234567890]", 1);
    CHECK("[1e-400,-1e-400,0e999999999999,1.0000000000000000000001]", 1);
    CHECK("[0.000000000000000000000000000001,12345678901234567890e-30]", 1);
    CHECK("[1e400]", 0);
    CHECK("[-1e400]", 0);
    CHECK("[01]", 0);
    CHECK("[-01]", 0);
    CHECK("[1.]", 0);
    CHECK("[.5]", 0);
    CHECK("[1e]", 0);
    CHECK("[1e+]", 0);
    CHECK("[-]", 0);
    CHECK("[+1]", 0);
    CHECK("[1.5.3]", 0);
    CHECK("[0x10]", 0);
    CHECK("[NaN]", 0);
    CHECK("[Infinity]", 0);

    /* strings */
    CHECK("[\"\",\"a\",\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 1);
    CHECK("[\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"]", 1);
    CHECK("[\"a\\u0000b\"]", 1);
    CHECK("{\"a\\u0000b\":1}", 0);
    CHECK("[\"\\ud83d\"]", 0);
    CHECK("[\"\\ude00\"]", 0);
    CHECK("[\"\\ud83dx\"]", 0);
    CHECK("[\"\\ud83d\\u0041\"]", 0);
    CHECK("[\"\\ud83d\\n\"]", 0);
    CHECK("[\"\\x\"]", 0);
    CHECK("[\"\\u12\"]", 0);
    CHECK("[\"\\u12g4\"]", 0);
    CHECK("[\"a\nb\"]", 0);
    CHECK("[\"a\tb\"]", 0);
    CHECK("[\"a\001b\"]", 0);
    CHECK("[\"abc", 0);
    CHECK("[\"abc\\", 0);
    CHECK("[\"\303\251\342\202\254\360\237\230\200\"]", 1);
    CHECK("[\"\377\"]", 0);
    CHECK("[\"\300\200\"]", 0);            /* overlong */
    CHECK("[\"\340\200\200\"]", 0);        /* overlong */
    CHECK("[\"\355\240\200\"]", 0);        /* a surrogate */
    CHECK("[\"\364\220\200\200\"]", 0);    /* above U+10FFFF */
    CHECK("[\"\303\"]", 0);                /* truncated */
    CHECK("[\"\303", 0);
    CHECK("[\"\200\"]", 0);                /* a lone continuation */
    CHECK("[\303\251]", 0);
    CHECK("{\"\303\251\":\"\342\202\254\"}", 1);

    /* depth: jansson allows 2048 levels */
    deep = malloc(2 * 2049 + 1);
    for (i = 0; i < 2048; i++) {
        deep[i] = '[';
        deep[2048 + i] = ']';
    }
    check(deep, 4096, 1, "2048 nested arrays");

    for (i = 0; i < 2049; i++) {
        deep[i] = '[';
        deep[2049 + i] = ']';
    }
    check(deep, 4098, 0, "2049 nested arrays");
    free(deep);
}


/* ---- seeded random documents and mutations ---- */

static uint64_t  rnd_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}


static const char  *pieces[] = {
    "0", "-0", "1", "-12", "3.25", "1e5", "-2.5E-3", "1e308", "1e309",
    "12345678901234567890", "0.1", "007", "1.", "true", "false", "null",
    "\"\"", "\"a\"", "\"key\"", "\"\\u0000\"", "\"\\ud83d\\ude00\"",
    "\"\\ud800\"", "\"\\n\\t\\\"\"", "\"\303\251\"", "\"\377\"",
    "\"a\\u0041\"", "\"x\\/y\"", "4.9e-324", "-1e-400"
};


static void
gen_value(bytes_t *d, int depth)
{
    size_t  i, n;
    int     k;

    k = (int) (rnd() % (depth > 6 ? 4 : 8));

    if (k >= 6) {
        n = rnd() % 6;
        bytes_adds(d, "[");
        for (i = 0; i < n; i++) {
            if (i) {
                bytes_adds(d, ",");
            }
            gen_value(d, depth + 1);
        }
        bytes_adds(d, "]");
        return;
    }

    if (k >= 4) {
        n = rnd() % (rnd() % 8 == 0 ? 30 : 6);
        bytes_adds(d, "{");
        for (i = 0; i < n; i++) {
            char  key[16];
            int   kl;

            if (i) {
                bytes_adds(d, ",");
            }
            /* few distinct keys: repeats are common */
            kl = snprintf(key, sizeof(key), "\"k%u\":",
                          (unsigned) (rnd() % (n + 2)));
            bytes_add(d, key, (size_t) kl);
            gen_value(d, depth + 1);
        }
        bytes_adds(d, "}");
        return;
    }

    i = rnd() % (sizeof(pieces) / sizeof(pieces[0]));
    bytes_add(d, pieces[i], strlen(pieces[i]));
    if (rnd() % 4 == 0) {
        bytes_adds(d, " \n");
    }
}


static void
test_random(void)
{
    static const char  noise[] = "{}[],:\"\\ u0123456789.eE+-tfn\n\t\001\377";
    bytes_t  d;
    size_t   i, pos;
    int      r, acc, same, bad, accepted, mutated;
    char     why[512];

    bad = 0;
    accepted = 0;
    mutated = 0;
    memset(&d, 0, sizeof(d));

    for (r = 0; r < 20000; r++) {
        d.len = 0;
        /*
         * an object around one member a quarter of the time (this took 5
         * bytes of "[" now and then, reading past it)
         */
        bytes_adds(&d, rnd() % 4 ? "[" : "{\"r\":");
        gen_value(&d, 0);
        bytes_add(&d, d.data[0] == '{' ? "}" : "]", 1);

        /* half of them broken a little */
        if (r % 2) {
            mutated++;
            for (i = 0; i < 1 + rnd() % 3; i++) {
                pos = (size_t) (rnd() % d.len);
                switch (rnd() % 3) {
                case 0:
                    d.data[pos] = noise[rnd() % (sizeof(noise) - 1)];
                    break;
                case 1:
                    memmove(d.data + pos, d.data + pos + 1, d.len - pos - 1);
                    d.len--;
                    break;
                default:
                    bytes_adds(&d, " ");
                    memmove(d.data + pos + 1, d.data + pos, d.len - pos - 1);
                    d.data[pos] = noise[rnd() % (sizeof(noise) - 1)];
                }
                if (d.len == 0) {
                    break;
                }
            }
        }

        same = same_as_jansson(tree, d.data, d.len, &acc, why, sizeof(why));
        accepted += acc;
        if (!same) {
            if (bad++ < 5) {
                printf("# case %d: %s\n#   %.*s\n", r, why,
                       (int) (d.len < 300 ? d.len : 300), d.data);
            }
        }
    }

    free(d.data);

    ok(bad == 0, "20000 random documents (%d mutated, %d accepted): "
       "%d disagreements with jansson", mutated, accepted, bad);
    ok(accepted > 5000 && accepted < 19000,
       "the random set has both outcomes (%d accepted)", accepted);
}


/* one tree reused: a big document, a small one, a bad one, the big again */
static void
test_reuse(void)
{
    bytes_t                 big, a, b;
    const statsig_jnode_t  *root;
    char                    err[160];
    size_t                  i;
    int                     rc;

    memset(&big, 0, sizeof(big));
    bytes_adds(&big, "[");
    for (i = 0; i < 200000; i++) {
        char  item[64];
        int   n;

        n = snprintf(item, sizeof(item), "%s{\"id\":%zu,\"name\":\"n%zu\"}",
                     i ? "," : "", i, i * 7);
        bytes_add(&big, item, (size_t) n);
    }
    bytes_adds(&big, "]");

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));

    rc = statsig_jtree_load(tree, big.data, big.len, &root, err, sizeof(err));
    ok(rc == 0 && root->n == 200000, "a 6 MB document");
    if (rc == 0) {
        dump_jtree(&a, root);
    }

    rc = statsig_jtree_load(tree, "{\"x\":[1]}", 9, &root, err, sizeof(err));
    ok(rc == 0 && root->n == 1
       && statsig_jarray_size(statsig_jobject_get(root, "x")) == 1,
       "then a small one in the same tree");

    rc = statsig_jtree_load(tree, "{\"x\":", 5, &root, err, sizeof(err));
    ok(rc != 0 && root == NULL && strstr(err, "line 1") != NULL,
       "then a bad one: %s", err);

    rc = statsig_jtree_load(tree, big.data, big.len, &root, err, sizeof(err));
    if (rc == 0) {
        dump_jtree(&b, root);
    }
    ok(rc == 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
       "then the big one again: the same tree");

    ok(statsig_jobject_get(NULL, "x") == NULL
       && statsig_jarray_get(root, 200000) == NULL
       && statsig_jstring(root) == NULL && statsig_jarray_size(NULL) == 0,
       "lookups take NULL and other types");

    free(big.data);
    free(a.data);
    free(b.data);
}


int
main(void)
{
    tree = statsig_jtree_create();

    test_cases();
    test_random();
    test_reuse();

    statsig_jtree_free(tree);

    return done_testing();
}
