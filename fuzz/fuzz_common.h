/*
 * Shared by the libFuzzer targets: fixed users, a fixed ID-list blob, and
 * a walk that evaluates every spec of a snapshot for one user and reads
 * every part of each result (so that bad offsets are touched).
 */

#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idlist.h"
#include "statsig.h"


/* malloc with a record of every block: fz_release() frees back to a mark */
static void  **fz_chunks;
static size_t  fz_nchunks, fz_cap;

static void *
fz_alloc(void *data, size_t size)
{
    void  *p;

    (void) data;

    p = malloc(size ? size : 1);
    if (p == NULL) {
        return NULL;
    }

    /* keep the pointers so LeakSanitizer sees them as reachable */
    if (fz_nchunks == fz_cap) {
        void  **c = realloc(fz_chunks, (fz_cap ? fz_cap * 2 : 256)
                                       * sizeof(void *));

        if (c == NULL) {
            free(p);
            return NULL;
        }

        fz_chunks = c;
        fz_cap = fz_cap ? fz_cap * 2 : 256;
    }

    fz_chunks[fz_nchunks++] = p;

    return p;
}


/* frees everything fz_alloc handed out since mark = fz_nchunks */
static void
fz_release(size_t mark)
{
    while (fz_nchunks > mark) {
        free(fz_chunks[--fz_nchunks]);
    }
}


static const statsig_alloc_t  fz_allocator = { fz_alloc, NULL };


/* Odd users on purpose: no ids, numeric ids, arrays, long strings. */
static const char *fz_user_json[] = {
    "{\"userID\":\"user_1\",\"email\":\"a@example.com\",\"country\":\"US\","
    "\"appVersion\":\"1.2.3-beta\",\"custom\":{\"age\":31,\"plan\":\"pro\","
    "\"tags\":[\"a\",\"b\",1],\"signup_date\":\"2024-01-02T03:04:05Z\"},"
    "\"customIDs\":{\"companyID\":\"company_1\",\"stableID\":\"s1\"},"
    "\"statsigEnvironment\":{\"tier\":\"production\"}}",
    "{}",
    "{\"userID\":12345,\"customIDs\":{\"companyID\":7}}",
    "{\"userID\":[\"x\",\"y\"],\"email\":[1,2],\"custom\":[1,2,3],"
    "\"customIDs\":[\"a\"],\"privateAttributes\":[true]}",
    "{\"userID\":null,\"email\":null,\"ip\":\"8.8.8.8\",\"userAgent\":"
    "\"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148"
    " Safari/604.1\",\"custom\":{\"age\":\"not a number\",\"n\":null}}",
    "{\"userID\":\"\",\"customIDs\":{\"companyID\":\"\"},\"appVersion\":\"\","
    "\"custom\":{\"age\":1e308,\"x\":-0,\"d\":\"1700000000\"}}",
    "{\"userID\":true,\"custom\":{\"nested\":{\"a\":{\"b\":[{}]}}},"
    "\"statsigEnvironment\":\"production\",\"privateAttributes\":"
    "{\"secret_tier\":\"gold\",\"Age\":99}}",
    NULL    /* the long-string user is built at init */
};

#define FZ_NUSERS  (sizeof(fz_user_json) / sizeof(fz_user_json[0]))

static statsig_value_t      fz_users[FZ_NUSERS];
static size_t               fz_nusers;
static statsig_runtime_t   *fz_rt;
static void                *fz_ids_blob;
static const statsig_idlists_t  *fz_ids;


static void
fz_init(void)
{
    char    err[256], *json;
    size_t  i, size, n;
    int     l;
    statsig_idlist_builder_t  *b;

    fz_rt = statsig_runtime_create(err, sizeof(err));
    if (fz_rt == NULL) {
        fprintf(stderr, "fuzz: runtime: %s\n", err);
        abort();
    }

    /* fixed clock: results do not depend on when the fuzzer runs */
    statsig_runtime_set_now(fz_rt, 1700000000000.0);

    for (i = 0; fz_user_json[i] != NULL; i++) {
        if (statsig_value_from_json(&fz_allocator, fz_user_json[i],
                                    strlen(fz_user_json[i]), &fz_users[i],
                                    err, sizeof(err)) != 0)
        {
            fprintf(stderr, "fuzz: user %zu: %s\n", i, err);
            abort();
        }
    }

    /* long strings everywhere (user agents > 1000 chars, str_matches) */
    n = 5000;
    json = malloc(n * 4 + 256);
    if (json == NULL) {
        abort();
    }

    strcpy(json, "{\"userID\":\"");
    for (size = strlen(json), l = 0; l < 3000; l++) {
        json[size++] = "ab1.-_ Z"[l % 8];
    }

    memcpy(json + size, "\",\"userAgent\":\"Mozilla/5.0 ", 27);
    size += 27;
    for (l = 0; l < 1200; l++) {
        json[size++] = 'x';
    }

    strcpy(json + size, "\",\"email\":\"\xe2\x82\xac\xf0\x9f\x98\x80@x\"}");
    if (statsig_value_from_json(&fz_allocator, json, strlen(json),
                                &fz_users[i], err, sizeof(err)) != 0)
    {
        fprintf(stderr, "fuzz: long user: %s\n", err);
        abort();
    }

    free(json);
    fz_nusers = i + 1;

    /* ID lists named as gen.js and hand-written seeds name them */
    b = statsig_idlist_builder_create();
    if (b == NULL) {
        abort();
    }

    static const char *lists[] = { "idlist_0", "idlist_1", "company_id_list",
                                   "list" };
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        l = statsig_idlist_builder_list(b, lists[i], strlen(lists[i]));
        statsig_idlist_builder_add_raw(b, l, "user_1", 6);
        statsig_idlist_builder_add_raw(b, l, "12345", 5);
        statsig_idlist_builder_add_raw(b, l, "company_1", 9);
    }

    fz_ids_blob = statsig_idlist_builder_finish(b, &size);
    statsig_idlist_builder_free(b);
    fz_ids = fz_ids_blob ? statsig_idlists_open(fz_ids_blob, size) : NULL;
}


/* Reads everything a caller can read from a result. */
static size_t
fz_touch_result(statsig_eval_ctx_t *ctx, const statsig_result_t *r)
{
    const statsig_snapshot_t  *s = ctx->snap;
    const statsig_exposure_t  *e;
    statsig_str_t              t;
    size_t                     sum = 0;
    uint32_t                   i, n, node;

    sum += r->rule_id.len + (r->rule_id.len ? (unsigned char) r->rule_id.data[0] : 0);
    sum += (size_t) r->value * 131 + (size_t) r->reason * 17;
    for (i = 0; i < r->rule_id.len; i++) {
        sum += (unsigned char) r->rule_id.data[i] * (i + 1);
    }
    if (r->has_group_name) {
        sum += r->group_name.len;
    }

    sum += r->id_type.len;

    if (r->reason == STATSIG_REASON_NETWORK && r->json_value) {
        node = r->json_value;
        t = statsig_json_text(s, node);
        sum += t.len + (t.len ? (unsigned char) t.data[t.len - 1] : 0);

        if (statsig_json_type(s, node) == STATSIG_JSON_OBJECT) {
            n = statsig_json_object_size(s, node);
            for (i = 0; i < n; i++) {
                t = statsig_json_object_key(s, node, i);
                sum += t.len;
                t = statsig_json_text(s, statsig_json_object_value(s, node,
                                                                   i));
                sum += t.len;
                if (statsig_json_object_get(s, node,
                        statsig_json_object_key(s, node, i).data,
                        statsig_json_object_key(s, node, i).len) == 0)
                {
                    abort();    /* a key we just listed must be found */
                }
            }

        } else if (statsig_json_type(s, node) == STATSIG_JSON_STRING) {
            sum += statsig_json_string(s, node).len;
        }
    }

    if (r->has_explicit_params) {
        n = statsig_strlist_size(s, r->explicit_params);
        for (i = 0; i < n; i++) {
            sum += statsig_strlist_at(s, r->explicit_params, i).len;
        }
    }

    e = statsig_result_exposures(ctx, r->exposures_off);
    for (i = 0; i < r->exposures_len; i++) {
        sum += e[i].gate.len + e[i].rule_id.len + e[i].value;
        if (e[i].gate.len && e[i].gate.data[e[i].gate.len] != '\0') {
            abort();    /* strings in results are NUL-terminated */
        }
    }

    e = statsig_result_exposures(ctx, r->undelegated_off);
    for (i = 0; i < r->undelegated_len; i++) {
        sum += e[i].gate.len + e[i].rule_id.len;
    }

    if (r->spec) {
        t = statsig_spec_name(s, r->spec);
        sum += t.len;
    }

    return sum;
}


/* Every spec for every fixed user, by position and by name. */
static size_t
fz_eval_all(const statsig_snapshot_t *snap, const statsig_value_t *users,
    size_t nusers)
{
    statsig_eval_ctx_t     ctx;
    statsig_result_t       r;
    const statsig_spec_t  *spec;
    statsig_str_t          nm;
    size_t                 u, sum = 0;
    uint32_t               k, j, n;

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = snap;
    ctx.idlists = fz_ids;
    ctx.rt = fz_rt;

    sum += (size_t) statsig_snapshot_time(snap)
           + (size_t) statsig_snapshot_has_updates(snap)
           + statsig_snapshot_size(snap);

    for (u = 0; u < nusers; u++) {
        ctx.user = &users[u];

        for (k = 0; k < STATSIG_KIND_COUNT; k++) {
            n = statsig_spec_count(snap, (statsig_kind_e) k);
            for (j = 0; j < n; j++) {
                spec = statsig_spec_at(snap, (statsig_kind_e) k, j);
                sum += statsig_spec_entity(spec) + statsig_spec_kind(spec)
                       + statsig_spec_has_id_type(spec);

                statsig_eval_begin(&ctx);
                statsig_eval_spec(&ctx, spec, &r);
                sum += fz_touch_result(&ctx, &r);

                nm = statsig_spec_name(snap, spec);
                statsig_eval_begin(&ctx);
                switch (k) {
                case STATSIG_KIND_GATE:
                    statsig_eval_gate(&ctx, nm.data, nm.len, &r);
                    break;
                case STATSIG_KIND_CONFIG:
                    statsig_eval_config(&ctx, nm.data, nm.len, &r);
                    break;
                default:
                    statsig_eval_layer(&ctx, nm.data, nm.len, &r);
                }

                sum += fz_touch_result(&ctx, &r);
                if (statsig_spec_find_var(snap, (statsig_kind_e) k, nm.data,
                                          nm.len) != NULL)
                {
                    sum++;
                }
            }
        }

        /* unknown names */
        statsig_eval_begin(&ctx);
        statsig_eval_gate(&ctx, "no such gate", 12, &r);
        sum += fz_touch_result(&ctx, &r);
        statsig_eval_begin(&ctx);
        statsig_eval_layer(&ctx, "", 0, &r);
        sum += fz_touch_result(&ctx, &r);
    }

    return sum;
}

#endif /* FUZZ_COMMON_H */
