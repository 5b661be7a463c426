/*
 * The rule loop's own paths (snapshot.h: a spec's flow, c->fast): a user
 * field or the userID read in the loop, the compiler's answer for an
 * absent value, the set probe, ip_based on a field.  Every operator and
 * a range of targets, for users with and without the field, evaluated
 * once with those paths and once with every condition on
 * statsig_eval_condition's (statsig_snapshot_no_fast): the answers must
 * be the same.  Then the flow itself (empty rules, a rule with a gate
 * condition between pure ones, a failed first condition) and a user key
 * whose address is reused with other bytes.
 */

#include "test_eval.h"
#include "snapshot.h"
#include "runtime.h"


static const char  *ops[] = {
    "gt", "gte", "lt", "lte", "version_gt", "version_gte", "version_lt",
    "version_lte", "version_eq", "version_neq", "any", "none",
    "any_case_sensitive", "none_case_sensitive", "str_starts_with_any",
    "str_ends_with_any", "str_contains_any", "str_contains_none",
    "str_matches", "eq", "neq", "before", "after", "on", "in_segment_list",
    "not_in_segment_list", "array_contains_any", "array_contains_none",
    "array_contains_all", "not_array_contains_all", "ANY", "no_such_op"
};

static const char  *targets[] = {
    "[\"a\",\"undefined\"]", "[\"a\",\"B\"]", "[\"UNDEFINED\"]",
    "\"undefined\"", "\"a\"", "5", "null", "true", "[1,\"2\",null]", "{}",
    "\"2024-01-01\"", "\"1.2.3\"", "[]", "\"list\"", "[\"u1\",\"US\"]"
};

/* the condition's kind: TYPE, its field (JSON), its idType */
static const struct {
    const char  *type;
    const char  *field;
    const char  *id_type;
} kinds[] = {
    { "user_field", "\"f\"", "userID" },
    { "user_field", "\"Fx\"", "userID" },       /* lower case apart */
    { "unit_id", "null", "userID" },
    { "ip_based", "\"country\"", "userID" },
    { "user_field", "null", "userID" },         /* no field: null */
};

static const char  *users[] = {
    "{}",
    "{\"userID\":\"u1\"}",
    "{\"userID\":\"undefined\",\"f\":\"undefined\"}",
    "{\"userID\":\"A\",\"f\":\"a\",\"fx\":\"b\",\"country\":\"US\"}",
    "{\"userID\":null,\"f\":null,\"custom\":{\"f\":5}}",
    "{\"userID\":\"u\",\"privateAttributes\":{\"fx\":\"UNDEFINED\"}}",
    "{\"f\":[1,\"2\"],\"Fx\":true,\"country\":\"de\"}",
    "{\"f\":\"2024-01-01\",\"country\":null,\"ip\":\"1.2.3.4\"}",
    "{\"userID\":\"B\",\"f\":\"1.2.3\",\"custom\":{\"country\":\"US\"}}",
};

#define NKINDS    (sizeof(kinds) / sizeof(kinds[0]))
#define NOPS      (sizeof(ops) / sizeof(ops[0]))
#define NTARGETS  (sizeof(targets) / sizeof(targets[0]))
#define NUSERS    (sizeof(users) / sizeof(users[0]))
#define NGATES    (NKINDS * NOPS * NTARGETS)


static char *
ops_document(void)
{
    char    *dcs, *p;
    size_t   k, o, t, g;

    dcs = malloc(NGATES * 600 + 4096);
    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1700000000000,"
                 "\"feature_gates\":[");

    g = 0;
    for (k = 0; k < NKINDS; k++) {
        for (o = 0; o < NOPS; o++) {
            for (t = 0; t < NTARGETS; t++) {
                p += sprintf(p, "%s{\"name\":\"g%zu\",\"type\":"
                             "\"feature_gate\",\"entity\":\"feature_gate\","
                             "\"salt\":\"s\",\"enabled\":true,"
                             "\"defaultValue\":false,\"idType\":\"userID\","
                             "\"rules\":[{\"id\":\"r\",\"name\":\"r\","
                             "\"salt\":\"r\",\"passPercentage\":100,"
                             "\"conditions\":[{\"type\":\"%s\","
                             "\"operator\":\"%s\",\"targetValue\":%s,"
                             "\"field\":%s,\"additionalValues\":{},"
                             "\"idType\":\"%s\"}],\"returnValue\":true,"
                             "\"idType\":\"userID\"}]}",
                             g ? "," : "", g, kinds[k].type, ops[o],
                             targets[t], kinds[k].field, kinds[k].id_type);
                g++;
            }
        }
    }

    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    return dcs;
}


static const char *
eval_gate(te_doc_t *d, const statsig_value_t *user, const char *name,
    statsig_eval_ctx_t *ctx)
{
    statsig_result_t  r;

    memset(ctx, 0, sizeof(*ctx));
    ctx->snap = d->snap;
    ctx->idlists = d->ids;
    ctx->user = user;
    ctx->rt = d->rt;

    statsig_eval_begin(ctx);
    statsig_eval_gate(ctx, name, strlen(name), &r);

    return te_format(ctx, STATSIG_KIND_GATE, &r);
}


static void
fast_against_general(void)
{
    te_doc_t             fast, general;
    statsig_eval_ctx_t   ctx;
    statsig_value_t      us[2][NUSERS];
    char                 err[256], name[32], want[256];
    char                *dcs;
    const char          *got;
    size_t               u, g, lazy, n, bad;

    dcs = ops_document();
    if (te_load(&fast, "-fast", dcs, "{\"list\":[\"u1\",\"A\"]}") != 0
        || te_load(&general, "-general", dcs, "{\"list\":[\"u1\",\"A\"]}")
           != 0)
    {
        ok(0, "operators document compiles");
        free(dcs);
        return;
    }

    statsig_snapshot_no_fast(general.blob);

    for (lazy = 0; lazy < 2; lazy++) {
        for (u = 0; u < NUSERS; u++) {
            if (statsig_value_from_json(&te_allocator, users[u],
                                        strlen(users[u]), &us[lazy][u], err,
                                        sizeof(err))
                != 0)
            {
                printf("Bail out! user %s: %s\n", users[u], err);
                exit(1);
            }

            if (lazy) {
                lazy_user_strings(&te_allocator, &us[lazy][u], 0);
            }
        }
    }

    n = 0;
    bad = 0;

    for (lazy = 0; lazy < 2; lazy++) {
        for (u = 0; u < NUSERS; u++) {
            for (g = 0; g < NGATES; g++) {
                snprintf(name, sizeof(name), "g%zu", g);
                snprintf(want, sizeof(want), "%s",
                         eval_gate(&general, &us[lazy][u], name, &ctx));
                got = eval_gate(&fast, &us[lazy][u], name, &ctx);
                n++;

                if (strcmp(got, want) != 0 && bad++ < 5) {
                    printf("# %s (op %s, target %s, %s %s), user %s%s: "
                           "%s, not %s\n", name,
                           ops[g / NTARGETS % NOPS], targets[g % NTARGETS],
                           kinds[g / NTARGETS / NOPS].type,
                           kinds[g / NTARGETS / NOPS].field, users[u],
                           lazy ? " (lazy)" : "", got, want);
                }
            }
        }
    }

    ok(bad == 0, "the loop's paths answer as statsig_eval_condition's: "
       "%zu of %zu differ", bad, n);

    te_free(&fast);
    te_free(&general);
    free(dcs);
}


/* a gate with rules of these conditions (JSON arrays), ids r1, r2, ... */
static char *
flow_gate(char *p, const char *name, const char *const *rules, size_t n)
{
    size_t  i;

    p += sprintf(p, "{\"name\":\"%s\",\"type\":\"feature_gate\","
                 "\"entity\":\"feature_gate\",\"salt\":\"s\","
                 "\"enabled\":true,\"defaultValue\":false,"
                 "\"idType\":\"userID\",\"rules\":[", name);

    for (i = 0; i < n; i++) {
        p += sprintf(p, "%s{\"id\":\"r%zu\",\"name\":\"r%zu\",\"salt\":\"r\","
                     "\"passPercentage\":100,\"conditions\":%s,"
                     "\"returnValue\":true,\"idType\":\"userID\"}",
                     i ? "," : "", i + 1, i + 1, rules[i]);
    }

    p += sprintf(p, "]}");

    return p;
}


#define PUB       "{\"type\":\"public\"}"
#define FIELD_ANY(F, T)                                                      \
    "{\"type\":\"user_field\",\"operator\":\"any\",\"field\":\"" F "\","    \
    "\"targetValue\":" T "}"
#define PASS(G)   "{\"type\":\"pass_gate\",\"targetValue\":\"" G "\"}"
#define FAIL(G)   "{\"type\":\"fail_gate\",\"targetValue\":\"" G "\"}"
#define UNIT_NONE(T)                                                         \
    "{\"type\":\"unit_id\",\"operator\":\"none\",\"idType\":\"userID\","    \
    "\"targetValue\":" T "}"


static void
flow(void)
{
    te_doc_t     d;
    char        *dcs, *p;

    static const char  *t[] = { "[" PUB "]" };
    static const char  *f1[] = {
        "[" FIELD_ANY("f", "[\"x\"]") "," PUB "]", "[]", "[" PUB "]"
    };
    static const char  *f2[] = {
        "[" PASS("t") "," FIELD_ANY("f", "[\"x\"]") "]",
        "[" PUB "," FIELD_ANY("f", "[\"y\"]") "]",
        "[" FIELD_ANY("f", "[\"z\"]") "]"
    };
    static const char  *f3[] = {
        "[" FAIL("t") "]", "[" UNIT_NONE("[\"u1\"]") "]",
        "[" FIELD_ANY("f", "[\"undefined\"]") "," PASS("t") "]",
        "[" PUB "]"
    };
    static const char  *f4[] = {
        "[" FIELD_ANY("f", "[\"x\"]") "," FIELD_ANY("g", "[\"x\"]") ","
        FIELD_ANY("h", "[\"x\"]") "]",
        "[" FIELD_ANY("f", "[\"x\"]") "," FIELD_ANY("g", "[\"x\"]") "]",
        "[" FIELD_ANY("f", "[\"x\"]") "]"
    };

    dcs = malloc(16384);
    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1700000000000,"
                 "\"feature_gates\":[");
    p = flow_gate(p, "t", t, 1);
    *p++ = ',';
    p = flow_gate(p, "f1", f1, 3);
    *p++ = ',';
    p = flow_gate(p, "f2", f2, 3);
    *p++ = ',';
    p = flow_gate(p, "f3", f3, 4);
    *p++ = ',';
    p = flow_gate(p, "f4", f4, 3);
    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&d, "flow", dcs, NULL) != 0) {
        ok(0, "flow document compiles");
        free(dcs);
        return;
    }

    te_is(&d, STATSIG_KIND_GATE, "f1", "{\"userID\":\"u1\"}", "true|r2|",
          "flow: a failed first condition, then a rule without any");
    te_is(&d, STATSIG_KIND_GATE, "f1", "{\"userID\":\"u1\",\"f\":\"x\"}",
          "true|r1|", "flow: both conditions of the first rule");
    te_is(&d, STATSIG_KIND_GATE, "f2", "{\"userID\":\"u1\",\"f\":\"y\"}",
          "true|r2|t:true:r1", "flow: a gate's rule failed, the next one");
    te_is(&d, STATSIG_KIND_GATE, "f2", "{\"userID\":\"u1\",\"f\":\"z\"}",
          "true|r3|t:true:r1", "flow: past two rules");
    te_is(&d, STATSIG_KIND_GATE, "f2", "{\"userID\":\"u1\",\"f\":\"x\"}",
          "true|r1|t:true:r1", "flow: the gate's rule passed");
    te_is(&d, STATSIG_KIND_GATE, "f2", "{\"userID\":\"u1\"}",
          "false|default|t:true:r1", "flow: none passed");
    te_is(&d, STATSIG_KIND_GATE, "f3", "{\"userID\":\"u1\"}",
          "true|r3|t:true:r1", "flow: an absent field in a set, gates "
          "before and after");
    te_is(&d, STATSIG_KIND_GATE, "f3", "{\"userID\":\"u2\",\"f\":\"x\"}",
          "true|r2|t:true:r1", "flow: a pure rule after a gate's");
    te_is(&d, STATSIG_KIND_GATE, "f4", "{\"userID\":\"u1\",\"f\":\"x\","
          "\"g\":\"x\"}", "true|r2|", "flow: a third condition failed");
    te_is(&d, STATSIG_KIND_GATE, "f4", "{\"userID\":\"u1\",\"f\":\"x\"}",
          "true|r3|", "flow: a second condition failed, twice");
    te_is(&d, STATSIG_KIND_GATE, "f4", "{\"userID\":\"u1\",\"f\":\"x\","
          "\"g\":\"x\",\"h\":\"x\"}", "true|r1|", "flow: all three");
    te_is(&d, STATSIG_KIND_GATE, "f4", "{\"userID\":\"u1\"}",
          "false|default|", "flow: none of three");

    te_free(&d);
    free(dcs);
}


/*
 * A user key's field key is remembered by the key's address: another
 * key at that address, or another snapshot, must not be taken for it.
 */
static void
key_addresses(void)
{
    te_doc_t             d, d2;
    statsig_eval_ctx_t   ctx;
    statsig_value_t      u[4], vals[4][1];
    const char          *keys[4][1];
    size_t               lens[4][1];
    char                 key[8];
    int                  i;

    static const char  *one[] = { "[" FIELD_ANY("email", "[\"x\"]") "]" };
    static const char  *two[] = { "[" FIELD_ANY("zmail", "[\"x\"]") "]" };
    char  dcs[4096], *p;

    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1,\"feature_gates\":[");
    p = flow_gate(p, "k", one, 1);
    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&d, "-keys", dcs, NULL) != 0) {
        ok(0, "keys document compiles");
        return;
    }

    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1,\"feature_gates\":[");
    p = flow_gate(p, "k", two, 1);
    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&d2, "-keys2", dcs, NULL) != 0) {
        ok(0, "second keys document compiles");
        te_free(&d);
        return;
    }

    /* four users, their one key at the same address */
    for (i = 0; i < 4; i++) {
        keys[i][0] = key;
        lens[i][0] = 5;
        statsig_value_string(&te_allocator, "x", 1, &vals[i][0]);
        statsig_value_object(&te_allocator, keys[i], lens[i], vals[i], 1,
                             &u[i]);
    }

    memcpy(key, "email", 6);
    is_str(eval_gate(&d, &u[0], "k", &ctx), "true|r1|",
           "key address: email");
    memcpy(key, "zmail", 6);
    is_str(eval_gate(&d, &u[1], "k", &ctx), "false|default|",
           "key address: other bytes there, not email");

    /* d2's field keys: zmail where d has email, and no email */
    memcpy(key, "email", 6);
    is_str(eval_gate(&d, &u[2], "k", &ctx), "true|r1|",
           "key address: email again");
    is_str(eval_gate(&d2, &u[3], "k", &ctx), "false|default|",
           "key address: email in another snapshot, which reads zmail");

    te_free(&d);
    te_free(&d2);
}


/*
 * A set's table is at most an eighth full up to 64 strings, a quarter up
 * to 256, half past them (compile.c: a miss, the usual probe, stops at
 * the first empty slot); every string is found, others are not.
 */
static void
set_fill(void)
{
    static const size_t  sizes[] = { 1, 3, 64, 65, 256, 257, 600 };
    te_doc_t             d;
    statsig_eval_ctx_t   ctx;
    statsig_value_t      u, val;
    const statsig_spec_t *spec;
    const sg_cond_t      *c;
    const char           *key;
    size_t               i, j, n, len, want;
    char                 *dcs, *p, v[32];

    key = "f";
    len = 1;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        n = sizes[i];
        dcs = malloc(n * 16 + 4096);
        p = dcs;
        p += sprintf(p, "{\"has_updates\":true,\"time\":1,"
                     "\"feature_gates\":[{\"name\":\"s\","
                     "\"type\":\"feature_gate\","
                     "\"entity\":\"feature_gate\",\"salt\":\"s\","
                     "\"enabled\":true,\"defaultValue\":false,"
                     "\"idType\":\"userID\",\"rules\":[{\"id\":\"r1\","
                     "\"name\":\"r1\",\"salt\":\"r\","
                     "\"passPercentage\":100,\"conditions\":[{\"type\":"
                     "\"user_field\",\"operator\":\"any\",\"field\":\"f\","
                     "\"targetValue\":[");

        for (j = 0; j < n; j++) {
            p += sprintf(p, "%s\"v%zu\"", j ? "," : "", j);
        }

        p += sprintf(p, "]}],\"returnValue\":true,\"idType\":\"userID\"}]}],"
                     "\"dynamic_configs\":[],\"layer_configs\":[],"
                     "\"layers\":{}}");

        if (te_load(&d, "-set", dcs, NULL) != 0) {
            ok(0, "set document of %zu compiles", n);
            free(dcs);
            continue;
        }

        spec = statsig_spec_find(d.snap, STATSIG_KIND_GATE, "s", 1);
        c = SG_AT(d.snap, spec->flow, sg_cond_t);

        want = 1;
        while (want < n * (n <= 64 ? 8 : n <= 256 ? 4 : 2) + 1) {
            want <<= 1;
        }

        ok(c->target.set_n == want, "set of %zu: %u slots, want %zu", n,
           (unsigned) c->target.set_n, want);

        for (j = 0; j < n; j++) {
            sprintf(v, "v%zu", j);
            statsig_value_string(&te_allocator, v, strlen(v), &val);
            statsig_value_object(&te_allocator, &key, &len, &val, 1, &u);
            if (strcmp(eval_gate(&d, &u, "s", &ctx), "true|r1|") != 0) {
                break;
            }
        }

        ok(j == n, "set of %zu: each string found (%zu)", n, j);

        statsig_value_string(&te_allocator, "w", 1, &val);
        statsig_value_object(&te_allocator, &key, &len, &val, 1, &u);
        is_str(eval_gate(&d, &u, "s", &ctx), "false|default|",
               "set of %zu: another string not found", n);

        te_free(&d);
        free(dcs);
    }
}


/*
 * user_bucket any [B]: String(bucket) is the set's probe, the digits of
 * every length and at each power of ten (condition.c's sg_digits); users
 * found whose bucket is B, by the runtime's own bucket.
 */
static void
bucket_digits(void)
{
    static const uint32_t  want[] = { 0, 9, 10, 99, 100, 101, 999 };
    te_doc_t               d;
    statsig_eval_ctx_t     ctx;
    statsig_value_t        u, val;
    statsig_str_t          salt, unit;
    const char            *key;
    size_t                 i, j, len, found[7];
    uint32_t               b;
    char                   dcs[8192], *p, id[32], name[16];

    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1,"
                 "\"feature_gates\":[");

    for (j = 0; j < 7; j++) {
        p += sprintf(p, "%s{\"name\":\"b%zu\",\"type\":\"feature_gate\","
                     "\"entity\":\"feature_gate\",\"salt\":\"s\","
                     "\"enabled\":true,\"defaultValue\":false,"
                     "\"idType\":\"userID\",\"rules\":[{\"id\":\"r1\","
                     "\"name\":\"r1\",\"salt\":\"r\","
                     "\"passPercentage\":100,\"conditions\":[{\"type\":"
                     "\"user_bucket\",\"operator\":\"any\","
                     "\"targetValue\":[%u],\"idType\":\"userID\","
                     "\"additionalValues\":{\"salt\":\"b\"}}],"
                     "\"returnValue\":true,\"idType\":\"userID\"}]}",
                     j ? "," : "", j, (unsigned) want[j]);
    }

    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&d, "-bucket", dcs, NULL) != 0) {
        ok(0, "bucket document compiles");
        return;
    }

    for (j = 0; j < 7; j++) {
        found[j] = (size_t) -1;
    }

    salt.data = "b";
    salt.len = 1;

    for (i = 0; i < 100000; i++) {
        unit.len = (size_t) sprintf(id, "u%zu", i);
        unit.data = id;
        b = statsig_runtime_bucket(d.rt, salt, unit);

        for (j = 0; j < 7; j++) {
            if (b == want[j] && found[j] == (size_t) -1) {
                found[j] = i;
            }
        }
    }

    key = "userID";
    len = 6;

    for (j = 0; j < 7; j++) {
        if (found[j] == (size_t) -1) {
            ok(0, "a user of bucket %u", (unsigned) want[j]);
            continue;
        }

        sprintf(id, "u%zu", found[j]);
        statsig_value_string(&te_allocator, id, strlen(id), &val);
        statsig_value_object(&te_allocator, &key, &len, &val, 1, &u);

        sprintf(name, "b%zu", j);
        is_str(eval_gate(&d, &u, name, &ctx), "true|r1|",
               "user_bucket any [%u]: a user of that bucket",
               (unsigned) want[j]);

        sprintf(name, "b%zu", (j + 1) % 7);
        is_str(eval_gate(&d, &u, name, &ctx), "false|default|",
               "user_bucket any [%u]: a user of bucket %u",
               (unsigned) want[(j + 1) % 7], (unsigned) want[j]);
    }

    te_free(&d);
}


/*
 * The compiler's pass percentage for a user without the rule's unit id
 * (sg_rule_t.empty_unit_pass) against the hash of "specSalt.ruleSalt."
 * (statsig_snapshot_no_fast): salts short and long (the key in one block
 * or more), the userID and a custom id, absent, null or empty.
 */
#define NEMPTY  48

static void
empty_unit(void)
{
    static const char  *pps[] = { "0.01", "1", "33.3", "50", "66.67",
                                  "99.99" };
    static const char  *eusers[] = {
        "{}", "{\"userID\":\"\"}", "{\"userID\":null}", "{\"userID\":[]}",
        "{\"customIDs\":{\"companyID\":\"\"}}",
        "{\"customIDs\":{\"companyID\":null}}",
        "{\"userID\":\"x\",\"customIDs\":{\"companyID\":\"y\"}}",
    };
    te_doc_t            fast, general;
    statsig_eval_ctx_t  ctx;
    statsig_value_t     u;
    char                err[256], name[32], want[256], salt[80];
    char               *dcs, *p;
    size_t              g, i, k, n, bad, passed;

    dcs = malloc(NEMPTY * 600 + 4096);
    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1700000000000,"
                 "\"feature_gates\":[");

    for (g = 0; g < NEMPTY; g++) {
        /* 1 to 73 bytes: "specSalt.ruleSalt." from 5 to 100 */
        memset(salt, 'a' + (int) (g % 26), sizeof(salt));
        salt[1 + (g * 37) % 73] = '\0';
        k = strlen(salt) > g % 5 ? g % 5 : 0;
        p += sprintf(p, "%s{\"name\":\"e%zu\",\"type\":\"feature_gate\","
                     "\"entity\":\"feature_gate\",\"salt\":\"%s%zu\","
                     "\"enabled\":true,\"defaultValue\":false,"
                     "\"idType\":\"userID\",\"rules\":[{\"id\":\"r%zu\","
                     "\"salt\":\"r%zu%s\",\"passPercentage\":%s,"
                     "\"conditions\":[],\"returnValue\":true,"
                     "\"idType\":\"%s\"}]}",
                     g ? "," : "", g, salt, g, g, g, salt + k,
                     pps[g % 6], g % 2 ? "companyID" : "userID");
    }

    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&fast, "-fast", dcs, NULL) != 0
        || te_load(&general, "-general", dcs, NULL) != 0)
    {
        ok(0, "empty unit document compiles");
        free(dcs);
        return;
    }

    statsig_snapshot_no_fast(general.blob);

    n = 0;
    bad = 0;
    passed = 0;

    for (i = 0; i < sizeof(eusers) / sizeof(eusers[0]); i++) {
        if (statsig_value_from_json(&te_allocator, eusers[i],
                                    strlen(eusers[i]), &u, err, sizeof(err))
            != 0)
        {
            printf("Bail out! user %s: %s\n", eusers[i], err);
            exit(1);
        }

        for (g = 0; g < NEMPTY; g++) {
            snprintf(name, sizeof(name), "e%zu", g);
            snprintf(want, sizeof(want), "%s",
                     eval_gate(&general, &u, name, &ctx));
            n++;
            passed += strncmp(want, "true", 4) == 0;

            if (strcmp(eval_gate(&fast, &u, name, &ctx), want) != 0
                && bad++ < 5)
            {
                printf("# %s, user %s: %s, not %s\n", name, eusers[i],
                       eval_gate(&fast, &u, name, &ctx), want);
            }
        }
    }

    ok(bad == 0, "a rule's pass percentage without its unit id is the "
       "hash's: %zu of %zu differ", bad, n);
    ok(passed > n / 5 && passed < n - n / 5, "both answers come: %zu of "
       "%zu pass", passed, n);

    te_free(&fast);
    te_free(&general);
    free(dcs);
}


/*
 * user_bucket conditions answered from the compiler's table of the 1000
 * buckets (SG_CF_TABLE) against statsig_eval_condition's operator on the
 * bucket: every operator, the targets above and some of bucket numbers,
 * for users of many buckets and one without a userID.
 */
static void
bucket_tables(void)
{
    static const char  *btargets[] = {
        "[0,1,2,500,999]", "500", "\"5\"", "[\"12\",\"999\",7]", "[]",
        "\"1e2\"", "499.5", "[\"5\"]", "\"9\"", "true"
    };
    te_doc_t             fast, general;
    statsig_eval_ctx_t   ctx;
    statsig_value_t      u, val;
    const statsig_spec_t *spec;
    const sg_cond_t      *c;
    const char           *key, *t;
    char                 name[32], want[256], id[32];
    char                *dcs, *p;
    size_t               o, k, g, i, n, bad, passed, tables, len;

    n = NOPS * (NTARGETS + sizeof(btargets) / sizeof(btargets[0]));
    dcs = malloc(n * 600 + 4096);
    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1700000000000,"
                 "\"feature_gates\":[");

    g = 0;
    for (o = 0; o < NOPS; o++) {
        for (k = 0; k < NTARGETS + sizeof(btargets) / sizeof(btargets[0]);
             k++)
        {
            t = k < NTARGETS ? targets[k] : btargets[k - NTARGETS];
            p += sprintf(p, "%s{\"name\":\"b%zu\",\"type\":\"feature_gate\","
                         "\"entity\":\"feature_gate\",\"salt\":\"s\","
                         "\"enabled\":true,\"defaultValue\":false,"
                         "\"idType\":\"userID\",\"rules\":[{\"id\":\"r\","
                         "\"salt\":\"r\",\"passPercentage\":100,"
                         "\"conditions\":[{\"type\":\"user_bucket\","
                         "\"operator\":\"%s\",\"targetValue\":%s,"
                         "\"additionalValues\":{\"salt\":\"x%zu\"},"
                         "\"idType\":\"userID\"}],\"returnValue\":true,"
                         "\"idType\":\"userID\"}]}",
                         g ? "," : "", g, ops[o], t, g % 3);
            g++;
        }
    }

    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&fast, "-fast", dcs, NULL) != 0
        || te_load(&general, "-general", dcs, NULL) != 0)
    {
        ok(0, "bucket document compiles");
        free(dcs);
        return;
    }

    statsig_snapshot_no_fast(general.blob);

    tables = 0;
    for (g = 0; g < n; g++) {
        snprintf(name, sizeof(name), "b%zu", g);
        spec = statsig_spec_find(fast.snap, STATSIG_KIND_GATE, name,
                                 strlen(name));
        c = SG_AT(fast.snap, spec->flow, sg_cond_t);
        tables += (c->flags & SG_CF_TABLE) != 0;
    }

    bad = 0;
    passed = 0;
    key = "userID";
    len = 6;

    for (i = 0; i < 120; i++) {
        /* the last user has no userID: bucket of "" */
        sprintf(id, "user-%zu", i * 7919);
        statsig_value_string(&te_allocator, id, strlen(id), &val);
        statsig_value_object(&te_allocator, &key, &len, &val, i < 119, &u);

        for (g = 0; g < n; g++) {
            snprintf(name, sizeof(name), "b%zu", g);
            snprintf(want, sizeof(want), "%s",
                     eval_gate(&general, &u, name, &ctx));
            passed += strncmp(want, "true", 4) == 0;

            if (strcmp(eval_gate(&fast, &u, name, &ctx), want) != 0
                && bad++ < 5)
            {
                printf("# %s (op %s), user %s: %s, not %s\n", name,
                       ops[g / (n / NOPS)], id,
                       eval_gate(&fast, &u, name, &ctx), want);
            }
        }
    }

    ok(tables > n / 2, "user_bucket tables: %zu of %zu conditions", tables,
       n);
    ok(bad == 0, "user_bucket from its table answers as the operator: "
       "%zu of %zu differ", bad, n * 120);
    ok(passed > n * 120 / 20 && passed < n * 120 - n * 120 / 20,
       "both answers come: %zu pass", passed);

    te_free(&fast);
    te_free(&general);
    free(dcs);
}


/*
 * ua_based conditions on the compiler's field (sg_cond_t.ua_field, the
 * session's value of it) against the field found by its name, every
 * operator and target, on user agents of several browsers, a user with
 * the field of its own, one without a user agent.
 */
static void
ua_fields(void)
{
    static const char  *fields[] = {
        "os_name", "OS_Version", "browsername", "browser_version", "device"
    };
    static const char  *uas[] = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 13_2_3 like Mac OS X) "
        "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.3 "
        "Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "curl/8.4.0",
        "",
    };
    static const char  *utargets[] = {
        "[\"Chrome\",\"iOS\"]", "\"13\"", "\"10.15.7\"", "[\"mac os x\"]",
        "\"120.0.0\"", "[\"13.2.3\",\"17.1\"]", "\"Safari\""
    };
    te_doc_t            fast, general;
    statsig_eval_ctx_t  ctx, sctx;
    statsig_result_t    r;
    statsig_value_t     u;
    char                name[32], want[256], user[512], err[256];
    char               *dcs, *p;
    const char         *t, *got;
    size_t              f, o, k, g, i, n, bad, nt;

    nt = NTARGETS + sizeof(utargets) / sizeof(utargets[0]);
    n = 5 * NOPS * nt;
    dcs = malloc(n * 600 + 4096);
    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1700000000000,"
                 "\"feature_gates\":[");

    g = 0;
    for (f = 0; f < 5; f++) {
        for (o = 0; o < NOPS; o++) {
            for (k = 0; k < nt; k++) {
                t = k < NTARGETS ? targets[k] : utargets[k - NTARGETS];
                p += sprintf(p, "%s{\"name\":\"a%zu\",\"type\":"
                             "\"feature_gate\",\"entity\":\"feature_gate\","
                             "\"salt\":\"s\",\"enabled\":true,"
                             "\"defaultValue\":false,\"idType\":\"userID\","
                             "\"rules\":[{\"id\":\"r\",\"salt\":\"r\","
                             "\"passPercentage\":100,\"conditions\":[{"
                             "\"type\":\"ua_based\",\"operator\":\"%s\","
                             "\"targetValue\":%s,\"field\":\"%s\","
                             "\"additionalValues\":{},\"idType\":\"userID\""
                             "}],\"returnValue\":true,\"idType\":\"userID\""
                             "}]}", g ? "," : "", g, ops[o], t, fields[f]);
                g++;
            }
        }
    }

    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&fast, "-fast", dcs, NULL) != 0
        || te_load(&general, "-general", dcs, NULL) != 0)
    {
        ok(0, "ua document compiles");
        free(dcs);
        return;
    }

    statsig_snapshot_no_fast(general.blob);

    bad = 0;

    for (i = 0; i < sizeof(uas) / sizeof(uas[0]) + 2; i++) {
        if (i < sizeof(uas) / sizeof(uas[0])) {
            snprintf(user, sizeof(user), "{\"userID\":\"u\",\"userAgent\":"
                     "\"%s\"}", uas[i]);

        } else if (i == sizeof(uas) / sizeof(uas[0])) {
            snprintf(user, sizeof(user), "{\"userID\":\"u\",\"os_name\":"
                     "\"Chrome\",\"userAgent\":\"%s\"}", uas[1]);

        } else {
            snprintf(user, sizeof(user), "{\"userID\":\"u\"}");
        }

        if (statsig_value_from_json(&te_allocator, user, strlen(user), &u,
                                    err, sizeof(err))
            != 0)
        {
            printf("Bail out! user %s: %s\n", user, err);
            exit(1);
        }

        /* the fast answers in one session (its values reused, their
         * hashes and lower case kept), the general ones each alone */
        memset(&sctx, 0, sizeof(sctx));
        sctx.snap = fast.snap;
        sctx.user = &u;
        sctx.rt = fast.rt;

        for (g = 0; g < n; g++) {
            snprintf(name, sizeof(name), "a%zu", g);
            snprintf(want, sizeof(want), "%s",
                     eval_gate(&general, &u, name, &ctx));

            statsig_eval_begin(&sctx);
            statsig_eval_gate(&sctx, name, strlen(name), &r);
            got = te_format(&sctx, STATSIG_KIND_GATE, &r);

            if (strcmp(got, want) != 0 && bad++ < 5) {
                printf("# %s (field %s, op %s), user %s: %s, not %s\n",
                       name, fields[g / (NOPS * nt)], ops[g / nt % NOPS],
                       user, got, want);
            }
        }
    }

    ok(bad == 0, "ua_based on the session's field values answers as by "
       "the field's name: %zu of %zu differ", bad,
       n * (sizeof(uas) / sizeof(uas[0]) + 2));

    te_free(&fast);
    te_free(&general);
    free(dcs);
}


/*
 * Version operators on the compiler's components of the target
 * (sg_tval_t.version) against the target read at each comparison: the
 * six operators, targets and user values of every shape (extensions,
 * empty and odd components, more or fewer of them, not digits).
 */
static void
version_targets(void)
{
    static const char  *vops[] = {
        "version_gt", "version_gte", "version_lt", "version_lte",
        "version_eq", "version_neq"
    };
    static const char  *vers[] = {
        "1", "1.2", "1.2.3", "1.2.3-beta", "1.2.3-", "-1", "10.0", "1..2",
        "", ".", "1.", ".1", "1.x", " 2", "0x10", "1e3", "1.2.3.4.5",
        "1.2.3.4.5.6.7.8.9.10", "2.0.0-rc.1", "1.02", "Infinity", "NaN",
        "00.1", "9007199254740993", "1.2.3.0.0", "1.2.4"
    };
    te_doc_t            fast, general;
    statsig_eval_ctx_t  ctx;
    statsig_value_t     u, val;
    const char         *key;
    char                name[32], want[256];
    char               *dcs, *p;
    size_t              o, k, g, i, n, bad, passed, nv, len;

    nv = sizeof(vers) / sizeof(vers[0]);
    n = 6 * nv;
    dcs = malloc(n * 600 + 4096);
    p = dcs;
    p += sprintf(p, "{\"has_updates\":true,\"time\":1700000000000,"
                 "\"feature_gates\":[");

    g = 0;
    for (o = 0; o < 6; o++) {
        for (k = 0; k < nv; k++) {
            p += sprintf(p, "%s{\"name\":\"v%zu\",\"type\":\"feature_gate\","
                         "\"entity\":\"feature_gate\",\"salt\":\"s\","
                         "\"enabled\":true,\"defaultValue\":false,"
                         "\"idType\":\"userID\",\"rules\":[{\"id\":\"r\","
                         "\"salt\":\"r\",\"passPercentage\":100,"
                         "\"conditions\":[{\"type\":\"user_field\","
                         "\"operator\":\"%s\",\"targetValue\":\"%s\","
                         "\"field\":\"appVersion\",\"additionalValues\":{},"
                         "\"idType\":\"userID\"}],\"returnValue\":true,"
                         "\"idType\":\"userID\"}]}",
                         g ? "," : "", g, vops[o], vers[k]);
            g++;
        }
    }

    p += sprintf(p, "],\"dynamic_configs\":[],\"layer_configs\":[],"
                 "\"layers\":{}}");

    if (te_load(&fast, "-fast", dcs, NULL) != 0
        || te_load(&general, "-general", dcs, NULL) != 0)
    {
        ok(0, "version document compiles");
        free(dcs);
        return;
    }

    statsig_snapshot_no_fast(general.blob);

    bad = 0;
    passed = 0;
    key = "appVersion";
    len = 10;

    for (i = 0; i < nv; i++) {
        statsig_value_string(&te_allocator, vers[i], strlen(vers[i]), &val);
        statsig_value_object(&te_allocator, &key, &len, &val, 1, &u);

        for (g = 0; g < n; g++) {
            snprintf(name, sizeof(name), "v%zu", g);
            snprintf(want, sizeof(want), "%s",
                     eval_gate(&general, &u, name, &ctx));
            passed += strncmp(want, "true", 4) == 0;

            if (strcmp(eval_gate(&fast, &u, name, &ctx), want) != 0
                && bad++ < 5)
            {
                printf("# %s (%s \"%s\"), user \"%s\": %s, not %s\n", name,
                       vops[g / nv], vers[g % nv], vers[i],
                       eval_gate(&fast, &u, name, &ctx), want);
            }
        }
    }

    ok(bad == 0, "versions against the compiler's components answer as "
       "against the target's string: %zu of %zu differ", bad, n * nv);
    ok(passed > n * nv / 10 && passed < n * nv - n * nv / 10,
       "both answers come: %zu of %zu pass", passed, n * nv);

    te_free(&fast);
    te_free(&general);
    free(dcs);
}


int
main(void)
{
    fast_against_general();
    flow();
    key_addresses();
    set_fill();
    bucket_digits();
    empty_unit();
    bucket_tables();
    ua_fields();
    version_targets();

    return done_testing();
}
