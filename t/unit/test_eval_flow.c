/*
 * The rule loop (spec sections 2.3-2.10): disabled specs, first matching
 * rule, pass percentage, unsupported results, secondary exposures and
 * their order / segment filtering / dedupe, gate cycles, layers and
 * delegation.  Expectations are statsig-node 6.5.2's (confirmed with
 * STATSIG_TEST_DUMP + t/unit/check-oracle.js).
 *
 * Result format: "<value>|<rule_id>|<exposures>[|<undelegated>]".
 */

#include <time.h>

#include "snapshot.h"
#include "test_eval.h"


#define PUBLIC  "{\"type\":\"public\",\"operator\":null,\"targetValue\":null," \
                "\"field\":null,\"additionalValues\":{},\"idType\":\"userID\"}"
#define PASS(G) "{\"type\":\"pass_gate\",\"operator\":null,\"targetValue\":\"" \
                G "\",\"field\":null,\"additionalValues\":{},"                 \
                "\"idType\":\"userID\"}"
#define FAIL(G) "{\"type\":\"fail_gate\",\"operator\":null,\"targetValue\":\"" \
                G "\",\"field\":null,\"additionalValues\":{},"                 \
                "\"idType\":\"userID\"}"
#define UID(IDS) "{\"type\":\"unit_id\",\"operator\":\"any\",\"targetValue\":" \
                 IDS ",\"field\":null,\"additionalValues\":{},"                \
                 "\"idType\":\"userID\"}"
#define BAD     "{\"type\":\"user_field\",\"operator\":\"no_such_op\","        \
                "\"targetValue\":1,\"field\":\"x\",\"additionalValues\":{}," \
                "\"idType\":\"userID\"}"

/* a rule: ID, SALT (JSON text or omitted), PCT, CONDS, RETURN (JSON) */
#define RULE(ID, PCT, CONDS, RET)                                            \
    "{\"id\":\"" ID "\",\"name\":\"" ID "\",\"salt\":\"" ID "\","            \
    "\"passPercentage\":" #PCT ",\"conditions\":[" CONDS "],"                \
    "\"returnValue\":" RET ",\"idType\":\"userID\"}"
#define GATE(NAME, ENABLED, RULES)                                           \
    "{\"name\":\"" NAME "\",\"type\":\"feature_gate\",\"entity\":"           \
    "\"feature_gate\",\"salt\":\"" NAME "_salt\",\"enabled\":" ENABLED ","   \
    "\"defaultValue\":false,\"idType\":\"userID\",\"rules\":[" RULES "]}"
#define SEGMENT(NAME, RULES)                                                 \
    "{\"name\":\"" NAME "\",\"type\":\"feature_gate\",\"entity\":"           \
    "\"segment\",\"salt\":\"" NAME "\",\"enabled\":true,"                    \
    "\"defaultValue\":false,\"idType\":\"userID\",\"rules\":[" RULES "]}"

#define USER     "{\"userID\":\"u1\"}"
#define USER2    "{\"userID\":\"u2\"}"


static void
test_gates(void)
{
    te_doc_t  d;
    static const char  dcs[] =
        "{\"has_updates\":true,\"time\":1,\"feature_gates\":["
        GATE("disabled", "false", RULE("r", 100, PUBLIC, "true")) ","
        GATE("first_final", "true",
             RULE("r1", 0, PUBLIC, "true") "," RULE("r2", 100, PUBLIC, "true"))
        ","
        GATE("no_rules", "true", "") ","
        GATE("unmatched", "true", RULE("r", 100, UID("[\"nobody\"]"), "true"))
        ","
        /* spec 2.8: "a_salt.a_rule_salt.user_123" -> 4753 */
        "{\"name\":\"pct48\",\"type\":\"feature_gate\",\"salt\":\"a_salt\","
        "\"enabled\":true,\"defaultValue\":false,\"idType\":\"userID\","
        "\"rules\":[{\"id\":\"x\",\"salt\":\"a_rule_salt\",\"passPercentage\":"
        "48,\"conditions\":[" PUBLIC "],\"returnValue\":true,\"idType\":"
        "\"userID\"}]},"
        "{\"name\":\"pct47\",\"type\":\"feature_gate\",\"salt\":\"a_salt\","
        "\"enabled\":true,\"defaultValue\":false,\"idType\":\"userID\","
        "\"rules\":[{\"id\":\"x\",\"salt\":\"a_rule_salt\",\"passPercentage\":"
        "47,\"conditions\":[" PUBLIC "],\"returnValue\":true,\"idType\":"
        "\"userID\"}]},"
        /* no rule salt: the rule id is the salt */
        "{\"name\":\"pct_id\",\"type\":\"feature_gate\",\"salt\":\"a_salt\","
        "\"enabled\":true,\"defaultValue\":false,\"idType\":\"userID\","
        "\"rules\":[{\"id\":\"a_rule_salt\",\"passPercentage\":48,"
        "\"conditions\":[" PUBLIC "],\"returnValue\":true,\"idType\":"
        "\"userID\"}]},"
        /* the rule's idType is hashed, not the spec's: companyID missing */
        "{\"name\":\"pct_idtype\",\"type\":\"feature_gate\",\"salt\":"
        "\"a_salt\",\"enabled\":true,\"defaultValue\":false,\"idType\":"
        "\"userID\",\"rules\":[{\"id\":\"x\",\"salt\":\"a_rule_salt\","
        "\"passPercentage\":48,\"conditions\":[" PUBLIC "],\"returnValue\":"
        "true,\"idType\":\"companyID\"}]},"
        GATE("unsupported", "true",
             RULE("r1", 100, PASS("leaf_true") "," BAD, "true"))
        ","
        GATE("unsupported_later", "true",
             RULE("r1", 100, UID("[\"nobody\"]"), "true") ","
             RULE("r2", 100, BAD, "true"))
        ","
        GATE("nested_unsupported", "true",
             RULE("r1", 100, PASS("unsupported"), "true"))
        ","
        GATE("leaf_true", "true", RULE("lt", 100, PUBLIC, "true")) ","
        GATE("leaf_false", "true", RULE("lf", 0, PUBLIC, "true")) ","
        GATE("mid", "true", RULE("m", 100, PASS("leaf_true"), "true")) ","
        /* exposures: nested first, then the gate; segments dropped;
         * dedupe; failing rules keep theirs; missing gates reported */
        GATE("top", "true",
             RULE("t1", 100, PASS("leaf_false") "," PASS("mid"), "true") ","
             RULE("t2", 100, PASS("segment:seg") "," PASS("mid") ","
                  FAIL("leaf_false") "," PASS("missing_gate"), "true") ","
             RULE("t3", 100, FAIL("missing_gate"), "true"))
        ","
        SEGMENT("segment:seg", RULE("s", 100, UID("[\"u1\"]"), "true")
                ",{\"id\":\"s2\",\"passPercentage\":100,\"conditions\":["
                PASS("leaf_true") "],\"returnValue\":true}")
        ","
        GATE("via_segment", "true",
             RULE("v", 100, PASS("segment:seg"), "true"))
        ","
        GATE("leaf_true2", "true", RULE("lt", 100, PUBLIC, "true"))
        "],\"dynamic_configs\":[],\"layer_configs\":[]}";

    if (te_load(&d, "gates", dcs, NULL) != 0) {
        ok(0, "gates document compiles");
        return;
    }

    te_is(&d, STATSIG_KIND_GATE, "disabled", USER, "false|disabled|",
          "disabled gate: rules not evaluated");
    te_is(&d, STATSIG_KIND_GATE, "first_final", USER, "false|r1|",
          "first matching rule is final even when its pass %% fails");
    te_is(&d, STATSIG_KIND_GATE, "no_rules", USER, "false|default|",
          "no rules: default");
    te_is(&d, STATSIG_KIND_GATE, "unmatched", USER, "false|default|",
          "no rule matches: default");
    te_is_local(&d, STATSIG_KIND_GATE, "nope", USER, "false||",
          "unrecognized gate: rule id \"\"");
    te_is(&d, STATSIG_KIND_GATE, "pct48", "{\"userID\":\"user_123\"}",
          "true|x|", "bucket 4753 < 4800 passes");
    te_is(&d, STATSIG_KIND_GATE, "pct47", "{\"userID\":\"user_123\"}",
          "false|x|", "bucket 4753 >= 4700 fails, with the rule's id");
    te_is(&d, STATSIG_KIND_GATE, "pct_id", "{\"userID\":\"user_123\"}",
          "true|a_rule_salt|", "rule id as salt when salt is absent");
    /* "a_salt.a_rule_salt." (no unit id) */
    te_is(&d, STATSIG_KIND_GATE, "pct_idtype", "{\"userID\":\"user_123\"}",
          "false|x|", "rule idType hashed (missing companyID -> \"\")");
    te_is(&d, STATSIG_KIND_GATE, "unsupported", USER, "false||",
          "unknown operator: unsupported, no exposures");
    te_is(&d, STATSIG_KIND_GATE, "unsupported_later", USER, "false||",
          "unknown operator in a later rule");
    te_is(&d, STATSIG_KIND_GATE, "nested_unsupported", USER, "false||",
          "unsupported nested gate makes the caller unsupported");
    te_is(&d, STATSIG_KIND_GATE, "mid", USER, "true|m|leaf_true:true:lt",
          "pass_gate exposure");
    te_is(&d, STATSIG_KIND_GATE, "top", USER,
          "true|t3|leaf_false:false:lf,leaf_true:true:lt,mid:true:m,"
          "missing_gate:false:",
          "exposures: order, failing rules kept, segment dropped, dedupe, "
          "missing gate");
    te_is(&d, STATSIG_KIND_GATE, "top", USER2,
          "true|t3|leaf_false:false:lf,leaf_true:true:lt,mid:true:m,"
          "missing_gate:false:",
          "exposures for a user outside the segment");
    te_is(&d, STATSIG_KIND_GATE, "via_segment", USER2,
          "true|v|leaf_true:true:lt",
          "segment's own exposures kept, the segment itself dropped");
    te_is(&d, STATSIG_KIND_GATE, "segment:seg", USER, "true|s|",
          "segment evaluated directly");

    te_free(&d);
}


/*
 * Cycles: no crash, bounded.  Not compared with statsig-node, which
 * overflows its stack (RangeError) on these.
 */
static void
test_cycles(void)
{
    te_doc_t  d;
    static const char  dcs[] =
        "{\"has_updates\":true,\"time\":1,\"feature_gates\":["
        GATE("leaf_true", "true", RULE("lt", 100, PUBLIC, "true")) ","
        GATE("cycle_a", "true", RULE("ca", 100, PASS("cycle_b"), "true")) ","
        GATE("cycle_b", "true", RULE("cb", 100, PASS("cycle_a"), "true")) ","
        GATE("self", "true", RULE("s", 100, FAIL("self"), "true"))
        "],\"dynamic_configs\":[],\"layer_configs\":[]}";
    char    *fan, *p;
    int      i;
    clock_t  t0;

    if (te_load(&d, "-cycles", dcs, NULL) != 0) {
        ok(0, "cycles document compiles");
        return;
    }

    {
        statsig_result_t  r;

        te_eval(&d, STATSIG_KIND_GATE, "cycle_a", USER, NULL, &r);
        ok(r.value == 0, "gate cycle: value false");
        ok(r.reason == STATSIG_REASON_UNSUPPORTED
           || r.reason == STATSIG_REASON_ERROR,
           "gate cycle: unsupported or error (reason %d)", (int) r.reason);
        te_eval(&d, STATSIG_KIND_GATE, "self", USER, NULL, &r);
        ok(r.value == 0 && r.reason != STATSIG_REASON_NETWORK,
           "self-referencing gate: false, not a normal result");
        te_eval(&d, STATSIG_KIND_GATE, "leaf_true", USER, NULL, &r);
        ok(r.value == 1 && r.reason == STATSIG_REASON_NETWORK,
           "runtime usable after a cycle");
    }

    te_free(&d);

    /* fan-out: g_i has two pass_gate conditions on g_i+1, 40 levels
     * (2^39 nested checks without a memo; fuzz/crashes/) */
    fan = malloc(64 * 1024);
    p = fan + sprintf(fan, "{\"has_updates\":true,\"time\":1,"
                      "\"feature_gates\":[");
    for (i = 0; i < 40; i++) {
        char  next[16], id[16], name[16];

        snprintf(name, sizeof(name), "g%d", i);
        snprintf(next, sizeof(next), "g%d", i + 1);
        snprintf(id, sizeof(id), "r%d", i);
        p += sprintf(p, "%s{\"name\":\"%s\",\"type\":\"feature_gate\","
                     "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":"
                     "false,\"rules\":[{\"id\":\"%s\",\"passPercentage\":"
                     "100,\"returnValue\":true,\"conditions\":[", i ? "," : "",
                     name, id);
        if (i < 39) {
            p += sprintf(p, "{\"type\":\"pass_gate\",\"targetValue\":"
                         "\"%s\"},{\"type\":\"pass_gate\",\"targetValue\":"
                         "\"%s\"}", next, next);
        } else {
            p += sprintf(p, "{\"type\":\"public\"}");
        }

        p += sprintf(p, "]}]}");
    }

    sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[]}");

    if (te_load(&d, "-fanout", fan, NULL) == 0) {
        statsig_result_t  r;

        t0 = clock();
        te_eval(&d, STATSIG_KIND_GATE, "g0", USER, NULL, &r);
        ok((double) (clock() - t0) / CLOCKS_PER_SEC < 2.0,
           "fan-out of 2^39 nested checks finishes (%.3f s)",
           (double) (clock() - t0) / CLOCKS_PER_SEC);
        ok(r.reason != STATSIG_REASON_NETWORK
           || (r.value == 1 && r.exposures_len == 39),
           "fan-out: true with 39 deduplicated exposures, or an error");
    } else {
        ok(0, "fan-out document compiles");
    }

    free(fan);

    te_free(&d);
}


#define CFG(NAME, ENTITY, ENABLED, EXTRA, DEFAULT, RULES)                    \
    "{\"name\":\"" NAME "\",\"type\":\"dynamic_config\",\"entity\":\""       \
    ENTITY "\",\"salt\":\"" NAME "\",\"enabled\":" ENABLED ","               \
    "\"defaultValue\":" DEFAULT ",\"idType\":\"userID\"" EXTRA ","           \
    "\"rules\":[" RULES "]}"
#define GROUP(ID, GROUPNAME, PCT, CONDS, RET)                                \
    "{\"id\":\"" ID "\",\"salt\":\"" ID "\",\"groupName\":\"" GROUPNAME "\"," \
    "\"isExperimentGroup\":true,\"passPercentage\":" #PCT ","               \
    "\"conditions\":[" CONDS "],\"returnValue\":" RET ",\"idType\":"        \
    "\"userID\"}"
#define DELEGATE(ID, EXP, CONDS)                                             \
    "{\"id\":\"" ID "\",\"salt\":\"" ID "\",\"passPercentage\":100,"         \
    "\"configDelegate\":\"" EXP "\",\"conditions\":[" CONDS "],"             \
    "\"returnValue\":{\"p\":\"layer_rule\"},\"idType\":\"userID\"}"


static void
test_configs_layers(void)
{
    te_doc_t  d;
    static const char  dcs[] =
        "{\"has_updates\":true,\"time\":1,\"feature_gates\":["
        GATE("g_true", "true", RULE("gt", 100, PUBLIC, "true")) ","
        GATE("g_false", "true", RULE("gf", 0, PUBLIC, "true")) ","
        GATE("g_u1", "true", RULE("gu", 100, UID("[\"u1\"]"), "true"))
        "],\"dynamic_configs\":["
        CFG("cfg_disabled", "dynamic_config", "false", "", "{\"a\":1}",
            RULE("r", 100, PUBLIC, "{\"a\":2}")) ","
        CFG("cfg", "dynamic_config", "true", "", "{\"a\":1}",
            RULE("r0", 0, PUBLIC, "{\"a\":3}")) ","
        CFG("cfg_gate", "dynamic_config", "true", "", "{\"a\":1}",
            RULE("r1", 100, PASS("g_u1"), "{\"a\":4,\"b\":[1,\"x\",null]}"))
        ","
        CFG("exp", "experiment", "true",
            ",\"isActive\":true,\"hasSharedParams\":true,"
            "\"explicitParameters\":[\"p\"]", "{\"p\":\"default\"}",
            GROUP("ctl", "Control", 100, PASS("g_u1"), "{\"p\":\"control\"}")
            ","
            GROUP("tst", "Test", 100, PASS("g_true"), "{\"p\":\"test\"}"))
        ","
        CFG("exp_unsupported", "experiment", "true", "", "{\"p\":0}",
            RULE("bad", 100, BAD, "{\"p\":1}"))
        "],\"layer_configs\":["
        CFG("layer", "layer", "true", "", "{\"p\":\"layer_default\"}",
            RULE("hold", 100, FAIL("g_true"), "{\"p\":\"held\"}") ","
            DELEGATE("alloc", "exp", PASS("g_false")))
        ","
        CFG("layer_missing", "layer", "true", "", "{\"p\":\"layer_default\"}",
            DELEGATE("alloc", "no_such_exp", PASS("g_true")))
        ","
        CFG("layer_plain", "layer", "true",
            ",\"explicitParameters\":[\"q\"]", "{\"p\":\"layer_default\"}",
            RULE("lr", 100, PASS("g_u1"), "{\"p\":\"lr\"}"))
        ","
        CFG("layer_unsupported", "layer", "true", "", "{\"p\":1}",
            DELEGATE("alloc", "exp_unsupported", PUBLIC))
        "],\"layers\":{\"layer\":[\"exp\"]}}";

    if (te_load(&d, "configs", dcs, NULL) != 0) {
        ok(0, "configs document compiles");
        return;
    }

    te_is(&d, STATSIG_KIND_CONFIG, "cfg_disabled", USER,
          "{\"a\":1}|disabled|", "disabled config: default value");
    te_is(&d, STATSIG_KIND_CONFIG, "cfg", USER, "{\"a\":1}|r0|",
          "config rule matched, pass %% failed: default value, rule id");
    te_is(&d, STATSIG_KIND_CONFIG, "cfg_gate", USER,
          "{\"a\":4,\"b\":[1,\"x\",null]}|r1|g_u1:true:gu",
          "config value and exposure");
    te_is(&d, STATSIG_KIND_CONFIG, "cfg_gate", USER2,
          "{\"a\":1}|default|g_u1:false:default",
          "config default with exposure");
    te_is(&d, STATSIG_KIND_CONFIG, "exp", USER,
          "{\"p\":\"control\"}|ctl|g_u1:true:gu", "experiment group");
    te_is(&d, STATSIG_KIND_CONFIG, "exp", USER2,
          "{\"p\":\"test\"}|tst|g_u1:false:default,g_true:true:gt",
          "second group, exposures from both rules");
    te_is_local(&d, STATSIG_KIND_CONFIG, "nope", USER, "{}||",
          "unrecognized config");

    /* layers: delegation happens before the layer rule's pass % */
    te_is(&d, STATSIG_KIND_LAYER, "layer", USER,
          "{\"p\":\"layer_default\"}|default|g_true:true:gt,"
          "g_false:false:gf|g_true:true:gt,g_false:false:gf",
          "layer: no rule matched");
    {
        statsig_result_t  r;
        const char       *got;

        got = te_eval(&d, STATSIG_KIND_LAYER, "layer_plain", USER,
                      "{\"p\":\"lr\"}|lr|g_u1:true:gu|g_u1:true:gu", &r);
        is_str(got, "{\"p\":\"lr\"}|lr|g_u1:true:gu|g_u1:true:gu",
               "layer without delegation: undelegated = secondary");
        ok(r.delegate == NULL, "no allocated experiment");
        ok(r.has_explicit_params
           && statsig_strlist_size(d.snap, r.explicit_params) == 1,
           "layer's own explicitParameters");
    }

    te_is(&d, STATSIG_KIND_LAYER, "layer_missing", USER,
          "{\"p\":\"layer_rule\"}|alloc|g_true:true:gt|g_true:true:gt",
          "missing delegate: the layer rule's own value");
    te_is(&d, STATSIG_KIND_LAYER, "layer_unsupported", USER, "{}|||",
          "unsupported delegate");

    te_free(&d);

    /* a layer that delegates */
    {
        static const char  dcs2[] =
            "{\"has_updates\":true,\"time\":1,\"feature_gates\":["
            GATE("g_true", "true", RULE("gt", 100, PUBLIC, "true")) ","
            GATE("g_u1", "true", RULE("gu", 100, UID("[\"u1\"]"), "true"))
            "],\"dynamic_configs\":["
            CFG("exp", "experiment", "true",
                ",\"isActive\":true,\"hasSharedParams\":true,"
                "\"explicitParameters\":[\"p\"]", "{\"p\":\"default\"}",
                GROUP("ctl", "Control", 100, PASS("g_u1"),
                      "{\"p\":\"control\"}") ","
                GROUP("tst", "Test", 0, PASS("g_true"), "{\"p\":\"test\"}"))
            "],\"layer_configs\":["
            CFG("layer", "layer", "true", "", "{\"p\":\"layer_default\"}",
                RULE("hold", 100, FAIL("g_true"), "{\"p\":\"held\"}") ","
                DELEGATE("alloc", "exp", PUBLIC))
            "],\"layers\":{\"layer\":[\"exp\"]}}";
        statsig_result_t  r;
        const char       *got;
        statsig_str_t     nm;

        if (te_load(&d, "layers", dcs2, NULL) != 0) {
            ok(0, "layers document compiles");
            return;
        }

        got = te_eval(&d, STATSIG_KIND_LAYER, "layer", USER,
                      "{\"p\":\"control\"}|ctl|g_true:true:gt,g_u1:true:gu"
                      "|g_true:true:gt", &r);
        is_str(got, "{\"p\":\"control\"}|ctl|g_true:true:gt,g_u1:true:gu"
               "|g_true:true:gt",
               "delegated: experiment's value and rule, undelegated "
               "exposures are the layer's");
        ok(r.delegate != NULL, "allocated experiment set");
        if (r.delegate) {
            nm = statsig_spec_name(d.snap, r.delegate);
            is_str(nm.data, "exp", "allocated experiment is exp");
        }

        ok(r.is_experiment_group && r.has_group_name
           && strcmp(r.group_name.data, "Control") == 0,
           "group name and experiment group from the delegate");
        ok(r.has_explicit_params
           && statsig_strlist_size(d.snap, r.explicit_params) == 1
           && strcmp(statsig_strlist_at(d.snap, r.explicit_params, 0).data,
                     "p") == 0,
           "explicit parameters from the delegate");

        te_is(&d, STATSIG_KIND_LAYER, "layer", USER2,
              "{\"p\":\"default\"}|tst|g_true:true:gt,g_u1:false:default"
              "|g_true:true:gt",
              "delegate's group pass %% fails: experiment default, "
              "exposures deduplicated");

        te_free(&d);
    }
}


/*
 * The document's time as int64 (sinceTime, the status, initialize): a
 * number JSON allows past int64 is clamped, not cast (undefined; found by
 * fuzz_compile_eval, fuzz/crashes/time-past-int64.json).
 */
static void
test_times(void)
{
    static const struct {
        const char  *time;
        int64_t      want;
    } cases[] = {
        { "1700000000000", 1700000000000LL },
        { "1e300", INT64_MAX },
        { "-1e300", INT64_MIN },
        { "9223372036854775807", INT64_MAX },  /* rounds up to 2^63 */
        { "-9223372036854775808", INT64_MIN },
        { "12.9", 12 },
    };

    char     dcs[256], err[256];
    void    *blob;
    size_t   i, size;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(dcs, sizeof(dcs), "{\"has_updates\":true,\"time\":%s,"
                 "\"feature_gates\":[],\"dynamic_configs\":[],"
                 "\"layer_configs\":[]}", cases[i].time);

        blob = statsig_compile(dcs, strlen(dcs), &size, err, sizeof(err));
        if (blob == NULL) {
            ok(0, "time %s: compiles (%s)", cases[i].time, err);
            continue;
        }

        ok(statsig_snapshot_time(statsig_snapshot_open(blob, size))
           == cases[i].want, "time %s as int64", cases[i].time);
        free(blob);
    }
}


/*
 * A gate's answer in one session (one context, one user) is remembered
 * whether it was read at the top or as another's condition: each answer
 * read in a session, in any order, equals the same gate's answer in a
 * fresh one.  A target_app condition reads the caller's app at the top
 * only, so with an app named the top answer is never the nested one.
 */
#define APP(APPS) "{\"type\":\"target_app\",\"operator\":\"any\","        \
                  "\"targetValue\":" APPS ",\"field\":null,"                 \
                  "\"additionalValues\":{},\"idType\":\"userID\"}"

/* every field of a gate's result (the memo rebuilds it) */
static void
sg_memo_format(char *out, size_t cap, statsig_eval_ctx_t *ctx,
    const statsig_result_t *r)
{
    snprintf(out, cap, "%s|%.*s|%d|%p|%p|%d|%d|%d:%.*s|%u|%u|%d",
             te_format(ctx, STATSIG_KIND_GATE, r),
             (int) r->id_type.len, r->id_type.data, (int) r->reason,
             (const void *) r->spec, (const void *) r->delegate,
             r->is_experiment_group, r->has_group_name,
             r->group_name.data != NULL, (int) r->group_name.len,
             r->group_name.data ? r->group_name.data : "",
             r->json_value, r->explicit_params, r->has_explicit_params);
}


static void
test_session_memo(void)
{
    te_doc_t  d;
    static const char  dcs[] =
        "{\"has_updates\":true,\"time\":1,\"feature_gates\":["
        SEGMENT("segment:seg", RULE("sg", 100, UID("[\"u1\",\"u3\"]"), "true"))
        ","
        GATE("pre", "true",
             RULE("p1", 100, PASS("segment:seg"), "true") ","
             RULE("p2", 50, PUBLIC, "true")) ","
        GATE("uses_pre", "true",
             RULE("u1", 100, PASS("pre") "," FAIL("segment:seg"), "true") ","
             RULE("u2", 30, PUBLIC, "true")) ","
        GATE("app_gate", "true", RULE("a1", 100, APP("[\"app\"]"), "true"))
        ","
        GATE("uses_app", "true", RULE("ua", 100, PASS("app_gate"), "true"))
        ","
        /* a group, explicit parameters, and without them when disabled */
        "{\"name\":\"grouped\",\"type\":\"feature_gate\",\"entity\":"
        "\"feature_gate\",\"salt\":\"gs\",\"enabled\":true,"
        "\"defaultValue\":false,\"idType\":\"userID\","
        "\"explicitParameters\":[\"a\"],\"rules\":[{\"id\":\"g1\","
        "\"name\":\"g1\",\"salt\":\"g1\",\"passPercentage\":50,"
        "\"conditions\":[" PUBLIC "],\"returnValue\":true,"
        "\"idType\":\"userID\",\"groupName\":\"grp\","
        "\"isExperimentGroup\":true}]},"
        "{\"name\":\"off\",\"type\":\"feature_gate\",\"entity\":"
        "\"feature_gate\",\"salt\":\"os\",\"enabled\":false,"
        "\"defaultValue\":false,\"idType\":\"userID\","
        "\"explicitParameters\":[\"a\"],\"rules\":["
        RULE("o1", 100, PUBLIC, "true") "]},"
        GATE("uses_more", "true",
             RULE("m1", 100, PASS("grouped") "," PASS("off"), "true"))
        "],\"dynamic_configs\":[],\"layer_configs\":[]}";
    static const char  *order[] = {
        "uses_pre", "pre", "segment:seg", "pre", "uses_pre", "uses_app",
        "app_gate", "uses_app", "app_gate", "uses_more", "grouped", "off",
        "grouped", "off"
    };

    statsig_eval_ctx_t      ctx, fresh;
    statsig_runtime_t      *fresh_rt;
    statsig_result_t        r;
    const statsig_value_t  *u;
    char                    user[64], got[8192], want[8192], err[256];
    size_t                  i, k, index;
    int                     app, n, same;

    if (te_load(&d, "-memo", dcs, NULL) != 0) {
        ok(0, "memo document compiles");
        return;
    }

    /* the fresh answers from a runtime of their own: one session at a
     * time is remembered in a runtime */
    fresh_rt = statsig_runtime_create(err, sizeof(err));
    if (fresh_rt == NULL) {
        ok(0, "a second runtime (%s)", err);
        te_free(&d);
        return;
    }

    statsig_runtime_set_now(fresh_rt, 1700000000000.0);

    /* what another's condition reads, and only that, is marked */
    for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        const statsig_spec_t  *g;
        int                    want;

        g = statsig_spec_find(d.snap, STATSIG_KIND_GATE, order[k],
                              strlen(order[k]));
        want = strncmp(order[k], "uses_", 5) != 0;
        ok(g != NULL && g->gate_target == want, "%s: %s another's "
           "condition's gate", order[k], want ? "marked" : "not");
    }

    for (app = 0; app < 2; app++) {
        same = 0;
        n = 0;

        for (i = 0; i < 40; i++) {
            snprintf(user, sizeof(user), "{\"userID\":\"u%zu\"}", i);
            u = te_user(&d, user, &index);

            memset(&ctx, 0, sizeof(ctx));
            ctx.snap = d.snap;
            ctx.idlists = d.ids;
            ctx.user = u;
            ctx.rt = d.rt;
            ctx.has_target_app = app;
            ctx.target_app = app ? "app" : NULL;
            ctx.target_app_len = app ? 3 : 0;

            for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
                statsig_eval_begin(&ctx);
                statsig_eval_gate(&ctx, order[k], strlen(order[k]), &r);
                sg_memo_format(got, sizeof(got), &ctx, &r);

                fresh = ctx;
                fresh.rt = fresh_rt;
                fresh.session = 0;
                statsig_eval_begin(&fresh);
                statsig_eval_gate(&fresh, order[k], strlen(order[k]), &r);
                sg_memo_format(want, sizeof(want), &fresh, &r);

                n++;
                if (strcmp(got, want) == 0) {
                    same++;

                } else {
                    printf("# u%zu %s: %s in the session, %s fresh\n", i,
                           order[k], got, want);
                }
            }
        }

        ok(same == n, "%s: %d of %d answers in one session equal a fresh "
           "session's", app ? "an app named" : "no app", same, n);
    }

    statsig_runtime_free(fresh_rt);

    {
        statsig_result_t  top;

        te_eval(&d, STATSIG_KIND_GATE, "app_gate", USER, NULL, &top);
        ok(top.value == 0, "app_gate without an app named: false");
    }

    te_free(&d);
}


int
main(void)
{
    test_gates();
    test_cycles();
    test_session_memo();
    test_configs_layers();
    test_times();

    return done_testing();
}
