/*
 * Helpers for the evaluation unit tests: compile a DCS text, build users,
 * evaluate a spec and print its result compactly.
 *
 * With STATSIG_TEST_DUMP=DIR set, every document a test checks is also
 * written as DIR/<label>/{dcs.json,users.jsonl,idlists.json,checks.jsonl}
 * so the expectations can be re-checked against statsig-node:
 *   node build/oracle/oracle.js DIR/<label>/dcs.json DIR/<label>/users.jsonl
 * (t/unit/check-oracle.js does that for every directory).
 */

#ifndef STATSIG_TEST_EVAL_H
#define STATSIG_TEST_EVAL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idlist.h"
#include "lazy_user.h"
#include "statsig.h"
#include "tap.h"


static void *
te_alloc(void *data, size_t size)
{
    (void) data;
    return calloc(1, size ? size : 1);    /* test process: never freed */
}

static const statsig_alloc_t  te_allocator = { te_alloc, NULL };


typedef struct {
    const char                *label;
    void                      *blob;
    const statsig_snapshot_t  *snap;
    void                      *ids_blob;
    const statsig_idlists_t   *ids;
    statsig_runtime_t         *rt;
    FILE                      *dump_users;
    FILE                      *dump_checks;
    size_t                     nusers;
    int                        lazy;    /* users' strings built lazily */
} te_doc_t;


static statsig_runtime_t  *te_rt;


static FILE *
te_dump_open(const char *label, const char *file, const char *mode)
{
    const char  *dir = getenv("STATSIG_TEST_DUMP");
    char         path[1024];

    /* labels starting with '-' are not for statsig-node (e.g. cycles,
     * which overflow its stack) */
    if (dir == NULL || *dir == '\0' || label[0] == '-') {
        return NULL;
    }

    snprintf(path, sizeof(path), "%s/%s", dir, label);
    mkdir(dir, 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", dir, label, file);

    return fopen(path, mode);
}


/*
 * idlists_json: {"list": ["raw id", ...]} or NULL.  Returns 0 when the
 * document compiled.
 */
static int
te_load(te_doc_t *d, const char *label, const char *dcs,
    const char *idlists_json)
{
    char    err[512];
    size_t  size;
    FILE   *f;

    memset(d, 0, sizeof(*d));
    d->label = label;

    if (te_rt == NULL) {
        te_rt = statsig_runtime_create(err, sizeof(err));
        if (te_rt == NULL) {
            printf("Bail out! runtime: %s\n", err);
            exit(1);
        }

        statsig_runtime_set_now(te_rt, 1700000000000.0);
    }

    d->rt = te_rt;
    d->blob = statsig_compile(dcs, strlen(dcs), &size, err, sizeof(err));
    if (d->blob == NULL) {
        printf("# %s: compile: %s\n", label, err);
        return -1;
    }

    d->snap = statsig_snapshot_open(d->blob, size);

    if (idlists_json != NULL) {
        d->ids_blob = statsig_idlists_from_json(idlists_json,
                                                strlen(idlists_json), &size,
                                                err, sizeof(err));
        if (d->ids_blob == NULL) {
            printf("# %s: id lists: %s\n", label, err);
            return -1;
        }

        d->ids = statsig_idlists_open(d->ids_blob, size);
    }

    f = te_dump_open(label, "dcs.json", "w");
    if (f) {
        fputs(dcs, f);
        fclose(f);
        f = te_dump_open(label, "idlists.json", "w");
        fputs(idlists_json ? idlists_json : "{}", f);
        fclose(f);
        d->dump_users = te_dump_open(label, "users.jsonl", "w");
        d->dump_checks = te_dump_open(label, "checks.jsonl", "w");
    }

    return 0;
}


static void
te_free(te_doc_t *d)
{
    if (d->dump_users) {
        fclose(d->dump_users);
    }

    if (d->dump_checks) {
        fclose(d->dump_checks);
    }

    free(d->blob);
    free(d->ids_blob);
    memset(d, 0, sizeof(*d));
}


/* A user from JSON; also appended to the dump (its index is returned). */
static const statsig_value_t *
te_user(te_doc_t *d, const char *json, size_t *index)
{
    statsig_value_t  *v;
    char              err[256];

    v = calloc(1, sizeof(*v));
    if (statsig_value_from_json(&te_allocator, json, strlen(json), v, err,
                                sizeof(err)) != 0)
    {
        printf("Bail out! user %s: %s\n", json, err);
        exit(1);
    }

    if (d->lazy) {
        lazy_user_strings(&te_allocator, v, 0);
    }

    if (d->dump_users) {
        fprintf(d->dump_users, "%s\n", json);
    }

    *index = d->nusers++;

    return v;
}


static void
te_str_append(char *out, size_t cap, const char *s, size_t len)
{
    size_t  n = strlen(out);

    if (n + len + 1 > cap) {
        len = cap - n - 1;
    }

    memcpy(out + n, s, len);
    out[n + len] = '\0';
}


/* "<gate>:<true|false>:<rule>,..." */
static void
te_format_exposures(char *out, size_t cap, const statsig_exposure_t *e,
    uint32_t n)
{
    uint32_t  i;

    for (i = 0; i < n; i++) {
        if (i) {
            te_str_append(out, cap, ",", 1);
        }

        te_str_append(out, cap, e[i].gate.data, e[i].gate.len);
        te_str_append(out, cap, e[i].value ? ":true:" : ":false:",
                      e[i].value ? 6 : 7);
        te_str_append(out, cap, e[i].rule_id.data, e[i].rule_id.len);
    }
}


/*
 * One line per result:
 *   "<value>|<rule_id>|<gate>:<true|false>:<rule>,...[|<undelegated>]"
 * value is true/false for gates, the JSON value for configs and layers.
 */
static const char *
te_format(statsig_eval_ctx_t *ctx, statsig_kind_e kind,
    const statsig_result_t *r)
{
    static char     out[8192];
    statsig_str_t   t;

    out[0] = '\0';

    if (kind == STATSIG_KIND_GATE) {
        te_str_append(out, sizeof(out), r->value ? "true" : "false",
                      r->value ? 4 : 5);

    } else {
        t = statsig_json_text(ctx->snap,
                              r->reason == STATSIG_REASON_NETWORK
                              ? r->json_value : 0);
        te_str_append(out, sizeof(out), t.data, t.len);
    }

    te_str_append(out, sizeof(out), "|", 1);
    te_str_append(out, sizeof(out), r->rule_id.data, r->rule_id.len);
    te_str_append(out, sizeof(out), "|", 1);

    te_format_exposures(out, sizeof(out),
                        statsig_result_exposures(ctx, r->exposures_off),
                        r->exposures_len);

    if (kind == STATSIG_KIND_LAYER) {
        te_str_append(out, sizeof(out), "|", 1);
        te_format_exposures(out, sizeof(out),
                            statsig_result_exposures(ctx, r->undelegated_off),
                            r->undelegated_len);
    }

    return out;
}


static void
te_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            fputc('\\', f);
        }

        fputc(*s, f);
    }

    fputc('"', f);
}


/*
 * Evaluates spec `name` of `kind` for a user and returns te_format();
 * records (user, kind, name, expected) in the dump.
 */
static const char *
te_eval(te_doc_t *d, statsig_kind_e kind, const char *name,
    const char *user_json, const char *want, statsig_result_t *out)
{
    statsig_eval_ctx_t      ctx;
    statsig_result_t        r;
    const statsig_value_t  *u;
    size_t                  index;

    u = te_user(d, user_json, &index);

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = d->snap;
    ctx.idlists = d->ids;
    ctx.user = u;
    ctx.rt = d->rt;

    statsig_eval_begin(&ctx);
    if (kind == STATSIG_KIND_GATE) {
        statsig_eval_gate(&ctx, name, strlen(name), &r);
    } else if (kind == STATSIG_KIND_CONFIG) {
        statsig_eval_config(&ctx, name, strlen(name), &r);
    } else {
        statsig_eval_layer(&ctx, name, strlen(name), &r);
    }

    if (out) {
        *out = r;
    }

    if (d->dump_checks && want) {
        fprintf(d->dump_checks, "{\"user_index\":%zu,\"kind\":\"%s\","
                "\"name\":", index,
                kind == STATSIG_KIND_GATE ? "gate"
                : kind == STATSIG_KIND_CONFIG ? "config" : "layer");
        te_json_str(d->dump_checks, name);
        fputs(",\"want\":", d->dump_checks);
        te_json_str(d->dump_checks, want);
        fputs("}\n", d->dump_checks);
    }

    return te_format(&ctx, kind, &r);
}

/* is_str on the formatted result */
#define te_is(d, kind, name, user, want, ...)                                \
    is_str(te_eval((d), (kind), (name), (user), (want), NULL), (want),      \
           __VA_ARGS__)

/* the same, not recorded for the oracle (statsig-node has no output for
 * specs missing from the DCS) */
#define te_is_local(d, kind, name, user, want, ...)                          \
    is_str(te_eval((d), (kind), (name), (user), NULL, NULL), (want),        \
           __VA_ARGS__)

#endif /* STATSIG_TEST_EVAL_H */
