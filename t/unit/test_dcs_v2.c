/*
 * dcs_v2.c: DCS v1 -> v2 as the oracle's lib/convert.js maps it and
 * JSON.stringify writes it.  Hand-written documents with the expected
 * text convert.js gives (Date.now() = 1234), the places where the port
 * differs on purpose (what convert.js throws on), refusals, and the two
 * oracle fixtures against their dcs-v2.json when ../shared is there.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcs_v2.h"
#include "jtree.h"
#include "jtree_js.h"
#include "tap.h"


/* v1 text, then convert.js's v2 text, with Date.now() = 1234 */
static const char  *cases[][2] = {
    {
        "{\"time\":5,\"feature_gates\":[],\"dynamic_configs\":[],\"layer_co"
        "nfigs\":[],\"layers\":{}}",
        "{\"time\":5,\"feature_gates\":{},\"dynamic_configs\":{},\"layer_co"
        "nfigs\":{},\"experiment_to_layer\":{},\"condition_map\":{},\"has_u"
        "pdates\":true,\"response_format\":\"dcs-v2\"}" },
    {
        "{\"has_updates\":true,\"time\":1700000000000,\"feature_gates\":[{"
        "\"name\":\"g\",\"type\":\"feature_gate\",\"salt\":\"s\",\"enabled"
        "\":true,\"idType\":\"stableID\",\"rules\":[{\"name\":\"r\",\"passP"
        "ercentage\":100,\"idType\":null,\"conditions\":[{\"type\":\"public"
        "\"},{\"type\":\"user_field\",\"targetValue\":[\"a\",\"b\"],\"opera"
        "tor\":\"any\",\"field\":\"email\",\"additionalValues\":{\"custom_f"
        "ield\":\"x\",\"n\":12}}]},{\"id\":\"r2\",\"conditions\":null},{\"i"
        "d\":\"r3\"}]}],\"dynamic_configs\":[{\"name\":\"e\",\"idType\":\""
        "\",\"rules\":[{\"conditions\":[{\"type\":\"public\"}]}]}],\"layer_"
        "configs\":[{\"name\":\"l\",\"rules\":[]}],\"layers\":{\"l\":[\"e\""
        "]}}",
        "{\"has_updates\":true,\"time\":1700000000000,\"feature_gates\":{\""
        "g\":{\"type\":\"feature_gate\",\"salt\":\"s\",\"enabled\":true,\"i"
        "dType\":\"stableID\",\"rules\":[{\"name\":\"r\",\"passPercentage\""
        ":100,\"idType\":\"stableID\",\"conditions\":[\"1828919350\",\"3505"
        "457770\"]},{\"id\":\"r2\",\"conditions\":[],\"idType\":\"stableID"
        "\"},{\"id\":\"r3\",\"idType\":\"stableID\",\"conditions\":[]}]}},"
        "\"dynamic_configs\":{\"e\":{\"idType\":\"\",\"rules\":[{\"conditio"
        "ns\":[\"1828919350\"],\"idType\":\"userID\"}]}},\"layer_configs\":"
        "{\"l\":{\"rules\":[]}},\"experiment_to_layer\":{\"e\":\"l\"},\"con"
        "dition_map\":{\"1828919350\":{\"type\":\"public\",\"targetValue\":"
        "null,\"operator\":null,\"field\":null,\"additionalValues\":{},\"id"
        "Type\":\"userID\"},\"3505457770\":{\"type\":\"user_field\",\"targe"
        "tValue\":[\"a\",\"b\"],\"operator\":\"any\",\"field\":\"email\",\""
        "additionalValues\":{\"custom_field\":\"x\",\"n\":\"12\"},\"idType"
        "\":\"userID\"}},\"response_format\":\"dcs-v2\"}" },
    {
        "{\"7\":\"x\",\"time\":3,\"response_format\":\"dcs-v1\",\"condition"
        "_map\":null,\"feature_gates\":[{\"name\":\"b\",\"rules\":[]},{\"na"
        "me\":\"10\",\"rules\":[]},{\"name\":\"2\",\"rules\":[]},{\"name\":"
        "\"b\",\"rules\":[],\"enabled\":false},{\"rules\":[]},{\"name\":1.5"
        ",\"rules\":[]},{\"name\":[\"x\",null],\"rules\":[]}]}",
        "{\"7\":\"x\",\"time\":3,\"response_format\":\"dcs-v2\",\"condition"
        "_map\":{},\"feature_gates\":{\"2\":{\"rules\":[]},\"10\":{\"rules"
        "\":[]},\"b\":{\"rules\":[],\"enabled\":false},\"undefined\":{\"rul"
        "es\":[]},\"1.5\":{\"rules\":[]},\"x,\":{\"rules\":[]}},\"dynamic_c"
        "onfigs\":{},\"layer_configs\":{},\"experiment_to_layer\":{},\"has_"
        "updates\":true}" },
    {
        "{\"time\":9,\"feature_gates\":[{\"name\":\"g\",\"rules\":[{\"condi"
        "tions\":[{\"operator\":\"eq\",\"additionalValues\":[1,\"two\",null"
        ",{\"b\":1,\"a\":2}],\"idType\":null},{\"type\":\"x\",\"additionalV"
        "alues\":\"h\\u00e9\\u2028\\\"x\"},{\"type\":\"x\",\"additionalValu"
        "es\":7},\"s\",4,[1]]}]}]}",
        "{\"time\":9,\"feature_gates\":{\"g\":{\"rules\":[{\"conditions\":["
        "\"456405530\",\"1317899026\",\"1765008147\",\"3511872469\",\"35118"
        "72469\",\"3511872469\"],\"idType\":\"userID\"}]}},\"dynamic_config"
        "s\":{},\"layer_configs\":{},\"experiment_to_layer\":{},\"condition"
        "_map\":{\"456405530\":{\"targetValue\":null,\"operator\":\"eq\",\""
        "field\":null,\"additionalValues\":{\"0\":\"1\",\"1\":\"two\",\"2\""
        ":\"null\",\"3\":\"{\\\"b\\\":1,\\\"a\\\":2}\"},\"idType\":\"userID"
        "\"},\"1317899026\":{\"type\":\"x\",\"targetValue\":null,\"operator"
        "\":null,\"field\":null,\"additionalValues\":{\"0\":\"h\",\"1\":\""
        "\303\251\",\"2\":\"\342\200\250\",\"3\":\"\\\"\",\"4\":\"x\"},\"id"
        "Type\":\"userID\"},\"1765008147\":{\"type\":\"x\",\"targetValue\":"
        "null,\"operator\":null,\"field\":null,\"additionalValues\":{},\"id"
        "Type\":\"userID\"},\"3511872469\":{\"targetValue\":null,\"operator"
        "\":null,\"field\":null,\"additionalValues\":{},\"idType\":\"userID"
        "\"}},\"has_updates\":true,\"response_format\":\"dcs-v2\"}" },
    {
        "{\"has_updates\":false,\"time\":0,\"nested\":{\"b\":[{\"9\":1,\"a"
        "\":2,\"1\":3}],\"s\":\"\\u2028\\u0001\\\"\\\\\",\"n\":[1e21,0.1,-0"
        ",1.5e-7]}}",
        "{\"has_updates\":false,\"time\":1234,\"nested\":{\"b\":[{\"1\":3,"
        "\"9\":1,\"a\":2}],\"s\":\"\342\200\250\\u0001\\\"\\\\\",\"n\":[1e+"
        "21,0.1,0,1.5e-7]},\"feature_gates\":{},\"dynamic_configs\":{},\"la"
        "yer_configs\":{},\"experiment_to_layer\":{},\"condition_map\":{},"
        "\"response_format\":\"dcs-v2\"}" },
};


static char  err[512];


/* the v2 text of a NUL-terminated v1 text, or NULL (err says why) */
static char *
v2(const char *v1)
{
    char           *s;
    statsig_buf_t   out;

    statsig_buf_init(&out);

    if (statsig_dcs_v2(v1, strlen(v1), 1234, &out, err, sizeof(err)) != 0) {
        statsig_buf_free(&out);
        return NULL;
    }

    s = malloc(out.len + 1);
    if (s != NULL) {
        memcpy(s, out.data, out.len);
        s[out.len] = '\0';
    }

    statsig_buf_free(&out);

    return s;
}


static void
is_v2(const char *v1, const char *want, const char *name)
{
    char  *got;

    got = v2(v1);
    is_str(got, want, "%s", name);

    if (got == NULL) {
        printf("#   %s\n", err);
    }

    free(got);
}


static void
refused(const char *v1, const char *why, const char *name)
{
    char  *got;

    got = v2(v1);
    ok(got == NULL && strstr(err, why) != NULL, "%s: refused (%s)", name,
       why);

    if (got != NULL || strstr(err, why) == NULL) {
        printf("#   got %s, error '%s'\n", got ? got : "(null)", err);
    }

    free(got);
}


static void
test_cases(void)
{
    size_t  i;
    char    name[64];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(name, sizeof(name), "convert.js's text, case %zu", i);
        is_v2(cases[i][0], cases[i][1], name);
    }
}


/* where convert.js throws and the port keeps going */
static void
test_differences(void)
{
    /* djb2("Aa") == djb2("BB"): distinct ids, each text kept once */
    is_v2("{\"time\":1,\"feature_gates\":[{\"name\":\"g\",\"rules\":[{"
          "\"conditions\":[{\"type\":\"x\",\"targetValue\":\"Aa\"},"
          "{\"type\":\"x\",\"targetValue\":\"BB\"},"
          "{\"type\":\"x\",\"targetValue\":\"BB\"},"
          "{\"type\":\"x\",\"targetValue\":\"Aa\"}]}]}]}",
          "{\"time\":1,\"feature_gates\":{\"g\":{\"rules\":[{\"conditions\":"
          "[\"3714542412\",\"3714542412_1\",\"3714542412_1\",\"3714542412\"],"
          "\"idType\":\"userID\"}]}},\"dynamic_configs\":{},"
          "\"layer_configs\":{},\"experiment_to_layer\":{},"
          "\"condition_map\":{\"3714542412\":{\"type\":\"x\","
          "\"targetValue\":\"Aa\",\"operator\":null,\"field\":null,"
          "\"additionalValues\":{},\"idType\":\"userID\"},"
          "\"3714542412_1\":{\"type\":\"x\",\"targetValue\":\"BB\","
          "\"operator\":null,\"field\":null,\"additionalValues\":{},"
          "\"idType\":\"userID\"}},\"has_updates\":true,"
          "\"response_format\":\"dcs-v2\"}",
          "two conditions with the same djb2: distinct ids");

    /*
     * a string's astral character: two lone surrogates, "\ud83d", which
     * serde_json refuses; U+FFFD each
     */
    is_v2("{\"time\":1,\"feature_gates\":[{\"name\":\"g\",\"rules\":[{"
          "\"conditions\":[{\"additionalValues\":\"a\xF0\x9F\x98\x80\"}]}]}]}",
          "{\"time\":1,\"feature_gates\":{\"g\":{\"rules\":[{\"conditions\":"
          "[\"2876101461\"],\"idType\":\"userID\"}]}},\"dynamic_configs\":{},"
          "\"layer_configs\":{},\"experiment_to_layer\":{},"
          "\"condition_map\":{\"2876101461\":{\"targetValue\":null,"
          "\"operator\":null,\"field\":null,\"additionalValues\":"
          "{\"0\":\"a\",\"1\":\"\xEF\xBF\xBD\",\"2\":\"\xEF\xBF\xBD\"},"
          "\"idType\":\"userID\"}},\"has_updates\":true,"
          "\"response_format\":\"dcs-v2\"}",
          "additionalValues a string with an astral character: U+FFFD");

    /* the compiler ignores these, so does the port */
    is_v2("{\"time\":1,\"layers\":{\"L\":null,\"M\":\"exp\",\"N\":[\"e\"],"
          "\"O\":{\"0\":\"f\"}}}",
          "{\"time\":1,\"feature_gates\":{},\"dynamic_configs\":{},"
          "\"layer_configs\":{},\"experiment_to_layer\":{\"e\":\"N\"},"
          "\"condition_map\":{},\"has_updates\":true,"
          "\"response_format\":\"dcs-v2\"}",
          "a layer's experiments not an array: ignored");
    is_v2("{\"time\":1,\"layers\":[[\"e\"]]}",
          "{\"time\":1,\"feature_gates\":{},\"dynamic_configs\":{},"
          "\"layer_configs\":{},\"experiment_to_layer\":{},"
          "\"condition_map\":{},\"has_updates\":true,"
          "\"response_format\":\"dcs-v2\"}",
          "\"layers\" not an object: ignored");
}


static void
test_refused(void)
{
    refused("[]", "not a JSON object", "an array");
    refused("{\"time\":1,", "line 1", "cut short");
    refused("", "line", "empty");
    refused("{\"feature_gates\":{}}", "\"feature_gates\" is not an array",
            "gates an object");
    refused("{\"dynamic_configs\":\"x\"}", "is not an array",
            "configs a string");
    refused("{\"layer_configs\":[5]}", "layer_configs[0]: spec is not",
            "a spec not an object");
    refused("{\"feature_gates\":[{\"name\":\"a\",\"rules\":[]},"
            "{\"name\":\"b\",\"rules\":\"x\"}]}",
            "feature_gates[1]: \"rules\" is not an array", "rules a string");
    refused("{\"feature_gates\":[{\"rules\":[null]}]}",
            "rule is not an object", "a rule null");
    refused("{\"feature_gates\":[{\"rules\":[{\"conditions\":{}}]}]}",
            "\"conditions\" is not an array", "conditions an object");
    refused("{\"feature_gates\":[{\"rules\":[{\"conditions\":[null]}]}]}",
            "a condition is null", "a condition null");
}


static int
read_all(const char *path, char **data, size_t *len)
{
    FILE  *f;
    long   n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }

    *data = NULL;

    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0
        && fseek(f, 0, SEEK_SET) == 0)
    {
        *data = malloc((size_t) n);
        *len = (size_t) n;

        if (*data && fread(*data, 1, *len, f) != *len) {
            free(*data);
            *data = NULL;
        }
    }

    fclose(f);

    return *data ? 0 : -1;
}


/* what convert.js gives for the oracle's fixtures: dcs-v2.json */
static void
test_fixture(const char *set)
{
    char                    path[256], jerr[256], *a, *b;
    size_t                  alen, blen;
    statsig_buf_t           got, want;
    statsig_jtree_t        *t;
    const statsig_jnode_t  *root;

    snprintf(path, sizeof(path), "../shared/oracle/fixtures/%s/dcs.json",
             set);
    a = NULL;
    b = NULL;

    if (read_all(path, &a, &alen) != 0) {
        printf("# no %s (../shared): fixture %s skipped\n", path, set);
        return;
    }

    snprintf(path, sizeof(path), "../shared/oracle/fixtures/%s/dcs-v2.json",
             set);

    if (read_all(path, &b, &blen) != 0) {
        ok(0, "%s: %s cannot be read", set, path);
        free(a);
        return;
    }

    statsig_buf_init(&got);
    statsig_buf_init(&want);

    ok(statsig_dcs_v2(a, alen, 1234, &got, err, sizeof(err)) == 0,
       "%s: converted", set);

    /* the fixture is pretty-printed: its JSON.stringify text */
    t = statsig_jtree_create();
    root = NULL;
    ok(t && statsig_jtree_load(t, b, blen, &root, jerr, sizeof(jerr)) == 0,
       "%s: dcs-v2.json parses", set);
    if (root != NULL) {
        statsig_jtree_stringify(&want, root, 4096);
    }

    ok(got.len == want.len && got.len > 1000
       && memcmp(got.data, want.data, got.len) == 0,
       "%s: byte for byte JSON.stringify of dcs-v2.json (%zu bytes)", set,
       got.len);

    statsig_jtree_free(t);
    statsig_buf_free(&got);
    statsig_buf_free(&want);
    free(a);
    free(b);
}


int
main(void)
{
    test_cases();
    test_differences();
    test_refused();
    test_fixture("dev-set");
    test_fixture("sdk-e2e-set");

    return done_testing();
}
