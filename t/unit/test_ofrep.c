/*
 * Unit tests: the OFREP server's pure logic (src/core/ofrep.c): paths,
 * request bodies and their errors, contexts mapped to Statsig users (each
 * field, custom keys, wrong types, the missing unit id), the flags written
 * for a compiled snapshot (parsed with jansson: value, reason, variant,
 * metadata; failures), the bulk listing (a gate shadowing a config,
 * segments left out), the canonical context (key order does not matter,
 * values do), ETags and If-None-Match, and current_time detection.
 */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ofrep.h"
#include "statsig.h"
#include "tap.h"
#include "value_test.h"


static json_t *
parse(statsig_buf_t *b)
{
    json_error_t  e;

    return json_loadb(b->data, b->len, 0, &e);
}


static void
test_paths(void)
{
    size_t       klen;
    const char  *key;

    key = NULL;
    klen = 0;

#define P(s) statsig_ofrep_path(s, strlen(s), &key, &klen)

    is_int(P("/ofrep/v1/evaluate/flags"), STATSIG_OFREP_PATH_BULK, "bulk");
    is_int(P("/edge/ofrep/v1/evaluate/flags/"), STATSIG_OFREP_PATH_BULK,
           "bulk under a prefix, trailing slash");
    is_int(P("/x/ofrep/v1/evaluate/flags/my flag/a"),
           STATSIG_OFREP_PATH_SINGLE, "single");
    ok(klen == 9 && memcmp(key, "my flag/a", 9) == 0,
       "the key is the rest, slashes and spaces included");
    is_int(P("/ofrep/v1/evaluate/flagsX"), STATSIG_OFREP_PATH_NONE,
           "flagsX: none");
    is_int(P("/ofrep/v1/evaluate"), STATSIG_OFREP_PATH_NONE, "short: none");
    is_int(P("/ofrep/v1/evaluate/flagsX/ofrep/v1/evaluate/flags/k"),
           STATSIG_OFREP_PATH_SINGLE, "a later occurrence");
    ok(klen == 1 && key[0] == 'k', "... its key");

#undef P
}


static void
test_requests(void)
{
    char                    err[256];
    statsig_value_t         req;
    const statsig_value_t  *c;

#define R(s) statsig_ofrep_request(&alloc, s, strlen(s), &req, &c, err, \
                                   sizeof(err))

    is_int(R("{\"context\":{\"targetingKey\":\"a\"}}"), STATSIG_OFREP_OK,
           "a context");
    ok(c && c->type == STATSIG_V_OBJECT && c->n == 1, "... the object");
    is_int(R("{\"context\":"), STATSIG_OFREP_PARSE_ERROR, "bad JSON");
    ok(err[0] != '\0', "... with a reason");
    is_int(R("[]"), STATSIG_OFREP_PARSE_ERROR, "an array");
    is_int(R("{}"), STATSIG_OFREP_INVALID_CONTEXT, "no context");
    is_int(R("{\"context\":[1]}"), STATSIG_OFREP_INVALID_CONTEXT,
           "a context that is no object");

#undef R

    is_str(statsig_ofrep_error_name(STATSIG_OFREP_TARGETING_KEY_MISSING),
           "TARGETING_KEY_MISSING", "error names");
    ok(statsig_ofrep_error_name(0) == NULL
       && statsig_ofrep_error_name(99) == NULL, "no name out of range");
}


static const char *
user_json(const char *ctx, int *code)
{
    char              err[256];
    statsig_buf_t    *b;
    statsig_value_t   u;

    b = calloc(1, sizeof(statsig_buf_t));
    *code = statsig_ofrep_user(&alloc, val(ctx), &u, err, sizeof(err));

    if (*code != STATSIG_OFREP_OK) {
        return "";
    }

    statsig_ofrep_canonical(&alloc, b, &u);
    statsig_buf_addc(b, '\0');

    return b->data;
}


static void
test_users(void)
{
    int  code;

    is_str(user_json("{\"targetingKey\":\"u1\",\"email\":\"a@b.c\","
                     "\"ip\":\"1.2.3.4\",\"userAgent\":\"UA\","
                     "\"country\":\"DE\",\"locale\":\"de_DE\","
                     "\"appVersion\":\"1.2\",\"plan\":\"pro\","
                     "\"age\":30,\"tags\":[\"a\"],\"nested\":{\"x\":1},"
                     "\"customIDs\":{\"companyID\":\"c1\"},"
                     "\"privateAttributes\":{\"s\":\"t\"},"
                     "\"statsigEnvironment\":{\"tier\":\"staging\"}}",
                     &code),
           "{\"appVersion\":\"1.2\",\"country\":\"DE\",\"custom\":{\"age\":30,"
           "\"nested\":{\"x\":1},\"plan\":\"pro\",\"tags\":[\"a\"]},"
           "\"customIDs\":{\"companyID\":\"c1\"},\"email\":\"a@b.c\","
           "\"ip\":\"1.2.3.4\",\"locale\":\"de_DE\",\"privateAttributes\":"
           "{\"s\":\"t\"},\"statsigEnvironment\":{\"tier\":\"staging\"},"
           "\"userAgent\":\"UA\",\"userID\":\"u1\"}",
           "every field where Statsig has it, the rest custom");
    is_int(code, STATSIG_OFREP_OK, "... OK");

    is_str(user_json("{\"targetingKey\":\"u1\"}", &code),
           "{\"userID\":\"u1\"}", "no custom object when nothing is custom");

    user_json("{\"email\":\"a@b.c\"}", &code);
    is_int(code, STATSIG_OFREP_TARGETING_KEY_MISSING, "no targetingKey");
    user_json("{\"customIDs\":{}}", &code);
    is_int(code, STATSIG_OFREP_TARGETING_KEY_MISSING, "empty customIDs");
    is_str(user_json("{\"customIDs\":{\"stableID\":\"s\"}}", &code),
           "{\"customIDs\":{\"stableID\":\"s\"}}", "a custom ID alone");

    user_json("{\"targetingKey\":1}", &code);
    is_int(code, STATSIG_OFREP_INVALID_CONTEXT, "a numeric targetingKey");
    user_json("{\"targetingKey\":\"u\",\"country\":true}", &code);
    is_int(code, STATSIG_OFREP_INVALID_CONTEXT, "a boolean country");
    user_json("{\"targetingKey\":\"u\",\"customIDs\":\"x\"}", &code);
    is_int(code, STATSIG_OFREP_INVALID_CONTEXT, "customIDs a string");
    user_json("{\"targetingKey\":\"u\",\"statsigEnvironment\":null}", &code);
    is_int(code, STATSIG_OFREP_INVALID_CONTEXT, "statsigEnvironment null");
}


static const char  dcs[] =
    "{\"has_updates\":true,\"time\":1,\"layers\":{},"
    "\"feature_gates\":["
    "{\"name\":\"on\",\"type\":\"feature_gate\",\"entity\":\"feature_gate\","
    "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"rules\":[{\"name\":\"r1\",\"id\":\"r1\","
    "\"salt\":\"r1\",\"passPercentage\":100,\"returnValue\":true,"
    "\"idType\":\"userID\",\"conditions\":[{\"type\":\"public\"}]}]},"
    "{\"name\":\"half\",\"type\":\"feature_gate\",\"entity\":\"feature_gate\","
    "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"rules\":[{\"name\":\"r2\",\"id\":\"r2\","
    "\"salt\":\"r2\",\"passPercentage\":50,\"returnValue\":true,"
    "\"idType\":\"userID\",\"conditions\":[{\"type\":\"public\"}]}]},"
    "{\"name\":\"off\",\"type\":\"feature_gate\",\"entity\":\"feature_gate\","
    "\"salt\":\"s\",\"enabled\":false,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"rules\":[]},"
    "{\"name\":\"none\",\"type\":\"feature_gate\",\"entity\":\"feature_gate\","
    "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"rules\":[]},"
    "{\"name\":\"odd\",\"type\":\"feature_gate\",\"entity\":\"feature_gate\","
    "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"rules\":[{\"name\":\"r3\",\"id\":\"r3\","
    "\"salt\":\"r3\",\"passPercentage\":100,\"returnValue\":true,"
    "\"idType\":\"userID\",\"conditions\":[{\"type\":\"fancy\"}]}]},"
    "{\"name\":\"segment:s\",\"type\":\"feature_gate\",\"entity\":\"segment\","
    "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"rules\":[]},"
    "{\"name\":\"both\",\"type\":\"feature_gate\",\"entity\":\"feature_gate\","
    "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"rules\":[]}],"
    "\"dynamic_configs\":["
    "{\"name\":\"cfg\",\"type\":\"dynamic_config\","
    "\"entity\":\"experiment\",\"salt\":\"s\",\"enabled\":true,"
    "\"defaultValue\":{\"a\":0},\"idType\":\"userID\",\"isActive\":true,"
    "\"rules\":[{\"name\":\"g\",\"id\":\"g\",\"salt\":\"g\","
    "\"passPercentage\":100,\"returnValue\":{\"a\":1},\"groupName\":\"G\","
    "\"isExperimentGroup\":true,\"idType\":\"userID\","
    "\"conditions\":[{\"type\":\"public\"}]}]},"
    "{\"name\":\"both\",\"type\":\"dynamic_config\","
    "\"entity\":\"dynamic_config\",\"salt\":\"s\",\"enabled\":true,"
    "\"defaultValue\":{},\"idType\":\"userID\",\"rules\":[]}],"
    "\"layer_configs\":[]}";


static const char  dcs_time[] =
    "{\"has_updates\":true,\"time\":1,\"layers\":{},\"dynamic_configs\":[],"
    "\"layer_configs\":[],\"feature_gates\":["
    "{\"name\":\"t\",\"type\":\"feature_gate\",\"entity\":\"feature_gate\","
    "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"rules\":[{\"name\":\"r\",\"id\":\"r\","
    "\"salt\":\"r\",\"passPercentage\":100,\"returnValue\":true,"
    "\"idType\":\"userID\",\"conditions\":[{\"type\":\"current_time\","
    "\"operator\":\"after\",\"targetValue\":1}]}]}]}";


static const statsig_snapshot_t *
compile(const char *text, size_t len)
{
    char   err[256];
    void  *blob;
    size_t size;

    blob = statsig_compile(text, len, &size, err, sizeof(err));
    if (blob == NULL) {
        printf("# compile: %s\n", err);
        exit(2);
    }

    return statsig_snapshot_open(blob, size);
}


/* the flag of name for user u1, as jansson reads it */

static json_t *
flag(const statsig_snapshot_t *snap, statsig_runtime_t *rt, const char *name,
    int *code)
{
    statsig_buf_t          b;
    statsig_result_t       res;
    statsig_eval_ctx_t     ctx;
    const statsig_spec_t  *spec;

    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));
    ctx.snap = snap;
    ctx.rt = rt;
    ctx.user = val("{\"userID\":\"u1\"}");

    spec = statsig_ofrep_find(snap, name, strlen(name));
    if (spec == NULL) {
        return NULL;
    }

    statsig_eval_begin(&ctx);
    statsig_eval_spec(&ctx, spec, &res);
    *code = statsig_ofrep_flag(&b, snap, name, strlen(name), spec, &res);

    return parse(&b);
}


static const char *
s(json_t *o, const char *k)
{
    json_t  *v;

    v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "(none)";
}


static void
test_flags(void)
{
    int                        code;
    char                       err[256];
    json_t                    *j;
    uint32_t                   i, k, listed, ordinals;
    statsig_runtime_t         *rt;
    const statsig_snapshot_t  *snap;

    snap = compile(dcs, sizeof(dcs) - 1);
    rt = statsig_runtime_create(err, sizeof(err));

    j = flag(snap, rt, "on", &code);
    is_int(code, STATSIG_OFREP_OK, "a gate: OK");
    ok(json_is_true(json_object_get(j, "value")), "... true");
    is_str(s(j, "reason"), "TARGETING_MATCH", "... TARGETING_MATCH");
    is_str(s(j, "variant"), "on", "... on");
    is_str(s(json_object_get(j, "metadata"), "ruleId"), "r1",
           "... metadata.ruleId");
    is_str(s(json_object_get(j, "metadata"), "entity"), "feature_gate",
           "... metadata.entity");
    is_str(s(j, "key"), "on", "... key");

    j = flag(snap, rt, "half", &code);
    is_str(s(j, "reason"), "SPLIT", "a half rollout: SPLIT");

    j = flag(snap, rt, "off", &code);
    is_str(s(j, "reason"), "DISABLED", "disabled: DISABLED");
    is_str(s(j, "variant"), "off", "... off");
    is_str(s(json_object_get(j, "metadata"), "ruleId"), "disabled",
           "... rule disabled");

    j = flag(snap, rt, "none", &code);
    is_str(s(j, "reason"), "DEFAULT", "no rule: DEFAULT");

    j = flag(snap, rt, "odd", &code);
    is_int(code, STATSIG_OFREP_GENERAL, "an unsupported condition: GENERAL");
    is_str(s(j, "errorCode"), "GENERAL", "... written as a failure");
    ok(json_object_get(j, "value") == NULL, "... with no value");

    j = flag(snap, rt, "cfg", &code);
    ok(json_integer_value(json_object_get(json_object_get(j, "value"), "a"))
       == 1, "an experiment: its group's value");
    is_str(s(j, "variant"), "G", "... its group as variant");
    is_str(s(j, "reason"), "SPLIT", "... SPLIT");
    is_str(s(json_object_get(j, "metadata"), "groupName"), "G",
           "... groupName");

    j = flag(snap, rt, "both", &code);
    ok(json_is_boolean(json_object_get(j, "value")),
       "a gate shadows a config of the same name");
    ok(flag(snap, rt, "missing", &code) == NULL, "an unknown flag: none");

    listed = 0;

    for (i = 0; i < statsig_spec_count(snap, STATSIG_KIND_GATE); i++) {
        listed += statsig_ofrep_listed(snap,
                      statsig_spec_at(snap, STATSIG_KIND_GATE, i));
    }

    is_int(listed, 6, "bulk: every gate but the segment");

    ordinals = 0;

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        for (i = 0; i < statsig_spec_count(snap, (statsig_kind_e) k); i++) {
            ordinals += statsig_spec_ordinal(snap,
                            statsig_spec_at(snap, (statsig_kind_e) k, i))
                        == i;
        }
    }

    is_int(ordinals, statsig_spec_count(snap, STATSIG_KIND_GATE)
                     + statsig_spec_count(snap, STATSIG_KIND_CONFIG)
                     + statsig_spec_count(snap, STATSIG_KIND_LAYER),
           "a spec's ordinal is its index in its kind's array");
    ok(statsig_ofrep_listed(snap, statsig_spec_at(snap, STATSIG_KIND_CONFIG,
                                                  0))
       && !statsig_ofrep_listed(snap,
                                statsig_spec_at(snap, STATSIG_KIND_CONFIG, 1)),
       "bulk: a config, not the shadowed one");

    ok(!statsig_ofrep_uses_time(snap), "no current_time condition");
    ok(statsig_ofrep_uses_time(compile(dcs_time, sizeof(dcs_time) - 1)),
       "a current_time condition");

    {
        statsig_buf_t  b;

        memset(&b, 0, sizeof(b));
        statsig_ofrep_error(&b, NULL, 0, STATSIG_OFREP_PARSE_ERROR, "w\"hy");
        j = parse(&b);
        ok(j && json_object_get(j, "key") == NULL
           && strcmp(s(j, "errorCode"), "PARSE_ERROR") == 0
           && strcmp(s(j, "errorDetails"), "w\"hy") == 0,
           "a bulk failure: no key, the code, the details escaped");
    }

    statsig_runtime_free(rt);
}


static void
canon(const char *json, char *out, size_t n)
{
    statsig_buf_t  b;

    memset(&b, 0, sizeof(b));
    statsig_ofrep_canonical(&alloc, &b, val(json));
    statsig_buf_addc(&b, '\0');
    snprintf(out, n, "%s", b.data);
    statsig_buf_free(&b);
}


static void
test_etags(void)
{
    char  a[256], b[256], e1[STATSIG_OFREP_ETAG_LEN + 1];
    char  e2[STATSIG_OFREP_ETAG_LEN + 1];

    canon("{\"b\":1,\"a\":{\"y\":[1,{\"d\":2,\"c\":3}],\"x\":\"s\"}}", a,
          sizeof(a));
    canon("{\"a\":{\"x\":\"s\",\"y\":[1,{\"c\":3,\"d\":2}]},\"b\":1}", b,
          sizeof(b));
    is_str(a, b, "canonical: key order does not matter, at any depth");
    is_str(a, "{\"a\":{\"x\":\"s\",\"y\":[1,{\"c\":3,\"d\":2}]},\"b\":1}",
           "... keys sorted");
    canon("{\"a\":[2,1]}", a, sizeof(a));
    canon("{\"a\":[1,2]}", b, sizeof(b));
    ok(strcmp(a, b) != 0, "... array order does");
    canon("{\"ab\":1,\"a\":2,\"b\":true,\"c\":null}", a, sizeof(a));
    is_str(a, "{\"a\":2,\"ab\":1,\"b\":true,\"c\":null}",
           "... a prefix first; literals");

    statsig_ofrep_etag("x", 1, e1);
    statsig_ofrep_etag("y", 1, e2);
    ok(strlen(e1) == STATSIG_OFREP_ETAG_LEN && e1[0] == '"'
       && e1[STATSIG_OFREP_ETAG_LEN - 1] == '"', "an ETag is quoted hex");
    ok(strcmp(e1, e2) != 0, "... of its input");

#define M(h) statsig_ofrep_etag_match(h, strlen(h), e1, strlen(e1))

    ok(M(e1), "If-None-Match: the tag");
    snprintf(a, sizeof(a), "W/%s", e1);
    ok(M(a), "... weak");
    snprintf(a, sizeof(a), "\"abc\" ,W/\"x\", %s", e1);
    ok(M(a), "... in a list");
    ok(M("*"), "... *");
    ok(!M(e2), "another tag: no");
    ok(!M(""), "empty: no");
    snprintf(a, sizeof(a), "%.*s", (int) strlen(e1) - 1, e1);
    ok(!M(a), "cut short: no");
    ok(!M("\""), "a lone quote: no");

#undef M
}


int
main(void)
{
    test_paths();
    test_requests();
    test_users();
    test_flags();
    test_etags();

    return done_testing();
}
