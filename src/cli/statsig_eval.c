/*
 * statsig-eval: evaluates a specs file for users without nginx.
 *
 *   statsig-eval --specs DCS.json --users USERS.jsonl [--id-lists FILE]
 *       [--id-list NAME=PATH] [--environment TIER] > OUT.jsonl
 *   statsig-eval --specs DCS.json --users USERS.jsonl --bench SECONDS
 *       [--rounds N] [--bench-kind gate|config|layer]
 *   statsig-eval --specs DCS.json --users USERS.jsonl --initialize
 *       [--hash djb2|sha256|none] [--client-key KEY]
 *   statsig-eval --specs DCS.json --users USERS.jsonl --exposures
 *       [--no-dedupe]
 *   statsig-eval --specs DCS.json --dcs-v2 > DCS-V2.json
 *
 * Exit status: 0 on success, 2 for bad arguments or a bad specs file.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "dcs_v2.h"
#include "exposure.h"
#include "idlist.h"
#include "initialize.h"
#include "statsig.h"
#include "user.h"


typedef struct {
    const char   *specs;
    const char   *users;
    const char   *id_lists;
    const char   *id_list_args[64];
    size_t        n_id_list_args;
    const char   *environment;
    double        bench;
    long          rounds;       /* --rounds: exact work, for profilers */
    int           bench_kind;   /* --bench-kind: one kind only; -1 all */
    int           initialize;
    const char   *hash;
    const char   *client_key;
    int           exposures;
    int           no_dedupe;
    int           dcs_v2;
} sg_args_t;


static void
sg_usage(void)
{
    fprintf(stderr,
        "usage: statsig-eval --specs DCS.json --users USERS.jsonl"
        " [--id-lists FILE]\n"
        "                    [--id-list NAME=PATH] [--environment TIER]"
        " > OUT.jsonl\n"
        "       statsig-eval --specs DCS.json --users USERS.jsonl"
        " --bench SECONDS\n"
        "       statsig-eval --specs DCS.json --users USERS.jsonl"
        " --initialize\n"
        "                    [--hash djb2|sha256|none] [--client-key KEY]\n"
        "       statsig-eval --specs DCS.json --users USERS.jsonl"
        " --exposures [--no-dedupe]\n"
        "       statsig-eval --specs DCS.json --dcs-v2 > DCS-V2.json\n");
}


static char *
sg_read_file(const char *path, size_t *len)
{
    FILE    *f;
    char    *data, *p;
    size_t   cap, n;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "statsig-eval: %s: %s\n", path, strerror(errno));
        return NULL;
    }

    cap = 65536;
    n = 0;
    data = malloc(cap);

    while (data != NULL) {
        if (n == cap) {
            cap *= 2;
            p = realloc(data, cap);
            if (p == NULL) {
                free(data);
                data = NULL;
                break;
            }

            data = p;
        }

        n += fread(data + n, 1, cap - n, f);
        if (n < cap) {
            if (ferror(f)) {
                fprintf(stderr, "statsig-eval: %s: read error\n", path);
                free(data);
                data = NULL;
            }

            break;
        }
    }

    fclose(f);

    if (data == NULL) {
        return NULL;
    }

    *len = n;

    return data;
}


static int
sg_parse_args(int argc, char **argv, sg_args_t *a)
{
    int    i;
    char  *end;

    memset(a, 0, sizeof(*a));
    a->hash = "djb2";
    a->bench_kind = -1;

    for (i = 1; i < argc; i++) {
        const char  *k = argv[i];
        const char  *v = (i + 1 < argc) ? argv[i + 1] : NULL;

        if (strcmp(k, "-h") == 0 || strcmp(k, "--help") == 0) {
            sg_usage();
            exit(0);
        }

        if (strcmp(k, "--initialize") == 0) {
            a->initialize = 1;
            continue;
        }

        if (strcmp(k, "--exposures") == 0) {
            a->exposures = 1;
            continue;
        }

        if (strcmp(k, "--no-dedupe") == 0) {
            a->no_dedupe = 1;
            continue;
        }

        if (strcmp(k, "--dcs-v2") == 0) {
            a->dcs_v2 = 1;
            continue;
        }

        if (v == NULL) {
            fprintf(stderr, "statsig-eval: %s needs a value\n", k);
            return -1;
        }

        i++;

        if (strcmp(k, "--specs") == 0) {
            a->specs = v;

        } else if (strcmp(k, "--users") == 0) {
            a->users = v;

        } else if (strcmp(k, "--id-lists") == 0) {
            a->id_lists = v;

        } else if (strcmp(k, "--id-list") == 0) {
            if (a->n_id_list_args == 64 || strchr(v, '=') == NULL) {
                fprintf(stderr, "statsig-eval: --id-list takes NAME=PATH\n");
                return -1;
            }

            a->id_list_args[a->n_id_list_args++] = v;

        } else if (strcmp(k, "--environment") == 0) {
            a->environment = v;

        } else if (strcmp(k, "--rounds") == 0) {
            a->rounds = strtol(v, &end, 10);
            if (*end != '\0' || a->rounds <= 0) {
                fprintf(stderr, "statsig-eval: --rounds takes a count > 0\n");
                return -1;
            }

            if (a->bench == 0) {
                a->bench = 1e9;
            }

        } else if (strcmp(k, "--bench-kind") == 0) {
            /* profilers: one kind's loop, the others skipped */
            a->bench_kind = strcmp(v, "gate") == 0 ? STATSIG_KIND_GATE
                            : strcmp(v, "config") == 0 ? STATSIG_KIND_CONFIG
                            : strcmp(v, "layer") == 0 ? STATSIG_KIND_LAYER
                            : -2;
            if (a->bench_kind == -2) {
                fprintf(stderr, "statsig-eval: --bench-kind is gate, config "
                        "or layer\n");
                return -1;
            }

        } else if (strcmp(k, "--bench") == 0) {
            a->bench = strtod(v, &end);
            if (*end != '\0' || !(a->bench > 0)) {
                fprintf(stderr, "statsig-eval: --bench takes seconds > 0\n");
                return -1;
            }

        } else if (strcmp(k, "--hash") == 0) {
            if (strcmp(v, "djb2") != 0 && strcmp(v, "sha256") != 0
                && strcmp(v, "none") != 0)
            {
                fprintf(stderr, "statsig-eval: --hash is djb2, sha256 or "
                        "none\n");
                return -1;
            }

            a->hash = v;

        } else if (strcmp(k, "--client-key") == 0) {
            a->client_key = v;

        } else {
            fprintf(stderr, "statsig-eval: unknown option %s\n", k);
            return -1;
        }
    }

    if (a->specs == NULL || (a->users == NULL && !a->dcs_v2)) {
        sg_usage();
        return -1;
    }

    return 0;
}


static void *
sg_load_id_lists(const sg_args_t *a, size_t *size)
{
    statsig_idlist_builder_t  *b;
    char                      *text, err[512];
    const char                *eq;
    size_t                     len, i;
    int                        list;
    void                      *blob;

    if (a->id_lists != NULL && a->n_id_list_args == 0) {
        text = sg_read_file(a->id_lists, &len);
        if (text == NULL) {
            return NULL;
        }

        blob = statsig_idlists_from_json(text, len, size, err, sizeof(err));
        free(text);
        if (blob == NULL) {
            fprintf(stderr, "statsig-eval: %s: %s\n", a->id_lists, err);
        }

        return blob;
    }

    b = statsig_idlist_builder_create();
    if (b == NULL) {
        return NULL;
    }

    if (a->id_lists != NULL) {
        fprintf(stderr, "statsig-eval: use either --id-lists or --id-list\n");
        statsig_idlist_builder_free(b);
        return NULL;
    }

    for (i = 0; i < a->n_id_list_args; i++) {
        eq = strchr(a->id_list_args[i], '=');
        list = statsig_idlist_builder_list(b, a->id_list_args[i],
                                           (size_t) (eq - a->id_list_args[i]));
        text = sg_read_file(eq + 1, &len);
        if (text == NULL || list < 0
            || statsig_idlist_builder_apply(b, list, text, len) != 0)
        {
            if (text != NULL) {
                fprintf(stderr, "statsig-eval: %s: not an ID list file "
                        "(lines of +id / -id)\n", eq + 1);
            }

            free(text);
            statsig_idlist_builder_free(b);
            return NULL;
        }

        free(text);
    }

    blob = statsig_idlist_builder_finish(b, size);
    statsig_idlist_builder_free(b);

    return blob;
}


/* ---- output ---- */

static const char *
sg_entity_name(statsig_entity_e e)
{
    static const char  *names[] = {
        "feature_gate", "holdout", "segment", "dynamic_config", "experiment",
        "autotune", "layer", "other"
    };

    return names[e];
}


static const char *
sg_reason_name(statsig_reason_e r)
{
    static const char  *names[] = {
        "Network", "Unrecognized", "Unsupported", "Error"
    };

    return names[r];
}


static void
sg_put_key(statsig_buf_t *b, const char *key)
{
    statsig_buf_addc(b, ',');
    statsig_buf_json_str(b, key, strlen(key));
    statsig_buf_addc(b, ':');
}


/* {"user_index":N,"kind":"gate"|"config"|"layer" */
static void
sg_put_head(statsig_buf_t *b, size_t user_index, statsig_kind_e kind)
{
    statsig_buf_adds(b, "{\"user_index\":");
    statsig_buf_json_int(b, (long long) user_index);
    sg_put_key(b, "kind");
    statsig_buf_adds(b, kind == STATSIG_KIND_GATE ? "\"gate\""
                        : kind == STATSIG_KIND_CONFIG ? "\"config\""
                        : "\"layer\"");
}


static void
sg_put_str_or_null(statsig_buf_t *b, int has, statsig_str_t s)
{
    if (has) {
        statsig_buf_json_str(b, s.data, s.len);

    } else {
        statsig_buf_adds(b, "null");
    }
}


static void
sg_put_result(statsig_buf_t *b, statsig_eval_ctx_t *ctx, size_t user_index,
    const statsig_spec_t *spec, const statsig_result_t *r)
{
    const statsig_snapshot_t  *s;
    statsig_kind_e             kind;
    statsig_str_t              name;
    const statsig_spec_t      *typed;
    int                        supported;
    uint32_t                   i, n;

    s = ctx->snap;
    kind = statsig_spec_kind(spec);
    name = statsig_spec_name(s, spec);
    supported = (r->reason == STATSIG_REASON_NETWORK);

    sg_put_head(b, user_index, kind);
    sg_put_key(b, "entity");
    statsig_buf_json_str(b, sg_entity_name(statsig_spec_entity(spec)),
                         strlen(sg_entity_name(statsig_spec_entity(spec))));
    sg_put_key(b, "name");
    statsig_buf_json_str(b, name.data, name.len);

    sg_put_key(b, "value");
    if (kind == STATSIG_KIND_GATE) {
        statsig_buf_adds(b, r->value ? "true" : "false");

    } else {
        statsig_str_t  v = statsig_json_text(s, supported ? r->json_value
                                                          : 0);
        statsig_buf_add(b, v.data, v.len);
    }

    if (kind == STATSIG_KIND_CONFIG) {
        sg_put_key(b, "passed");
        statsig_buf_adds(b, r->value ? "true" : "false");
    }

    sg_put_key(b, "rule_id");
    statsig_buf_json_str(b, r->rule_id.data, r->rule_id.len);
    sg_put_key(b, "group_name");
    sg_put_str_or_null(b, r->has_group_name, r->group_name);

    /* id_type: the spec's (the delegate's for layers), null unsupported */
    typed = r->delegate ? r->delegate : r->spec;
    sg_put_key(b, "id_type");
    sg_put_str_or_null(b, supported && typed && statsig_spec_has_id_type(typed),
                       r->id_type);

    if (kind != STATSIG_KIND_GATE) {
        sg_put_key(b, "is_experiment_group");
        statsig_buf_adds(b, r->is_experiment_group ? "true" : "false");
    }

    if (kind == STATSIG_KIND_LAYER) {
        sg_put_key(b, "allocated_experiment");
        if (r->delegate) {
            name = statsig_spec_name(s, r->delegate);
            statsig_buf_json_str(b, name.data, name.len);

        } else {
            statsig_buf_adds(b, "null");
        }

        sg_put_key(b, "explicit_parameters");
        statsig_buf_addc(b, '[');
        n = r->has_explicit_params
            ? statsig_strlist_size(s, r->explicit_params) : 0;
        for (i = 0; i < n; i++) {
            statsig_str_t  p = statsig_strlist_at(s, r->explicit_params, i);

            if (i) {
                statsig_buf_addc(b, ',');
            }

            statsig_buf_json_str(b, p.data, p.len);
        }

        statsig_buf_addc(b, ']');
    }

    sg_put_key(b, "secondary_exposures");
    statsig_exposures_json(b, ctx, r->exposures_off, r->exposures_len,
                           STATSIG_HASH_NONE);

    if (kind == STATSIG_KIND_LAYER) {
        sg_put_key(b, "undelegated_secondary_exposures");
        statsig_exposures_json(b, ctx, r->undelegated_off,
                               r->undelegated_len, STATSIG_HASH_NONE);
    }

    sg_put_key(b, "reason");
    statsig_buf_json_str(b, sg_reason_name(r->reason),
                         strlen(sg_reason_name(r->reason)));
    statsig_buf_adds(b, "}\n");
}


static void
sg_put_user_error(statsig_buf_t *b, size_t user_index,
    const statsig_snapshot_t *s, const statsig_spec_t *spec, const char *err)
{
    statsig_str_t   name;
    statsig_kind_e  kind;

    kind = statsig_spec_kind(spec);
    name = statsig_spec_name(s, spec);

    sg_put_head(b, user_index, kind);
    sg_put_key(b, "name");
    statsig_buf_json_str(b, name.data, name.len);
    sg_put_key(b, "error");
    statsig_buf_json_str(b, err, strlen(err));
    statsig_buf_adds(b, "}\n");
}


static void
sg_flush(statsig_buf_t *b)
{
    if (b->len) {
        fwrite(b->data, 1, b->len, stdout);
        b->len = 0;
    }
}


/* ---- users ---- */

typedef struct {
    statsig_value_t   *users;
    const char       **errors;
    size_t             n;
} sg_users_t;


static int
sg_load_users(const char *path, statsig_arena_t *arena, sg_users_t *u)
{
    char             *text, *line, *nl, err[256];
    size_t            len, cap, lineno;
    statsig_alloc_t   a;
    void             *p;

    text = sg_read_file(path, &len);
    if (text == NULL) {
        return -1;
    }

    statsig_arena_alloc_iface(arena, &a);

    cap = 1024;
    u->n = 0;
    u->users = malloc(cap * sizeof(statsig_value_t));
    u->errors = malloc(cap * sizeof(char *));
    if (u->users == NULL || u->errors == NULL) {
        free(text);
        return -1;
    }

    lineno = 0;
    for (line = text; line < text + len; line = nl + 1) {
        nl = memchr(line, '\n', (size_t) (text + len - line));
        if (nl == NULL) {
            nl = text + len;
        }

        lineno++;

        if (strspn(line, " \t\r") >= (size_t) (nl - line)) {
            continue;
        }

        if (u->n == cap) {
            cap *= 2;
            p = realloc(u->users, cap * sizeof(statsig_value_t));
            if (p == NULL) {
                break;
            }

            u->users = p;
            p = realloc(u->errors, cap * sizeof(char *));
            if (p == NULL) {
                break;
            }

            u->errors = p;
        }

        if (statsig_value_from_json(&a, line, (size_t) (nl - line),
                                    &u->users[u->n], err, sizeof(err)) != 0)
        {
            fprintf(stderr, "statsig-eval: %s:%zu: %s\n", path, lineno, err);
            free(text);
            return -1;
        }

        u->errors[u->n] = statsig_user_validate(&u->users[u->n]);
        u->n++;
    }

    free(text);

    return 0;
}


/* ---- modes ---- */

static void
sg_eval_all(statsig_eval_ctx_t *ctx, const sg_users_t *u)
{
    statsig_buf_t          out;
    statsig_result_t       r;
    const statsig_spec_t  *spec;
    statsig_str_t          nm;
    size_t                 i;
    uint32_t               k, j;

    statsig_buf_init(&out);

    for (i = 0; i < u->n; i++) {
        ctx->user = &u->users[i];

        for (k = 0; k < STATSIG_KIND_COUNT; k++) {
            for (j = 0; j < statsig_spec_count(ctx->snap, k); j++) {
                spec = statsig_spec_at(ctx->snap, (statsig_kind_e) k, j);

                if (u->errors[i]) {
                    sg_put_user_error(&out, i, ctx->snap, spec, u->errors[i]);
                    continue;
                }

                /* by name, as the SDK does: the last duplicate wins */
                statsig_eval_begin(ctx);
                nm = statsig_spec_name(ctx->snap, spec);
                statsig_eval_spec(ctx, statsig_spec_find(ctx->snap,
                                                         (statsig_kind_e) k,
                                                         nm.data, nm.len),
                                  &r);
                sg_put_result(&out, ctx, i, spec, &r);
            }
        }

        if (out.len > 1 << 20) {
            sg_flush(&out);
        }
    }

    sg_flush(&out);
    statsig_buf_free(&out);
}


static double
sg_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


static double
sg_bench_kind(statsig_eval_ctx_t *ctx, const sg_users_t *u, statsig_kind_e k,
    double seconds, long rounds)
{
    statsig_result_t   r;
    const statsig_spec_t **specs;
    uint32_t           n, j;
    size_t             i, count;
    double             start, elapsed;

    n = statsig_spec_count(ctx->snap, k);
    if (n == 0 || u->n == 0) {
        return 0;
    }

    specs = malloc(n * sizeof(*specs));
    if (specs == NULL) {
        return 0;
    }

    for (j = 0; j < n; j++) {
        specs[j] = statsig_spec_at(ctx->snap, k, j);
    }

    count = 0;
    start = sg_now();

    for ( ;; ) {
        for (i = 0; i < u->n; i++) {
            if (u->errors[i]) {
                continue;
            }

            ctx->user = &u->users[i];
            for (j = 0; j < n; j++) {
                statsig_str_t  nm = statsig_spec_name(ctx->snap, specs[j]);

                statsig_eval_begin(ctx);
                statsig_eval_spec(ctx, statsig_spec_find(ctx->snap, k,
                                                         nm.data, nm.len),
                                  &r);
                count++;
            }
        }

        elapsed = sg_now() - start;
        if (elapsed >= seconds || (rounds > 0 && --rounds == 0)) {
            break;
        }
    }

    free(specs);

    return (double) count / elapsed;
}


/* ---- --initialize ---- */

static double
sg_wall_ms(void)
{
    struct timeval  tv;

    gettimeofday(&tv, NULL);

    return (double) tv.tv_sec * 1000 + (double) (tv.tv_usec / 1000);
}


static int
sg_initialize_all(statsig_eval_ctx_t *ctx, const sg_users_t *u,
    const sg_args_t *a)
{
    statsig_initialize_opts_t  opts;
    statsig_buf_t              out;
    size_t                     i;

    memset(&opts, 0, sizeof(opts));
    opts.hash = strcmp(a->hash, "sha256") == 0 ? STATSIG_HASH_SHA256
                : strcmp(a->hash, "none") == 0 ? STATSIG_HASH_NONE
                : STATSIG_HASH_DJB2;
    opts.client_key = a->client_key;
    opts.client_key_len = a->client_key ? strlen(a->client_key) : 0;

    /* as the oracle's --init output writes it, for reproducible files */
    opts.session_id = "SESSION";

    /* session replay sampling draws one number per response */
    srand48((long) sg_wall_ms() ^ (long) getpid());

    statsig_buf_init(&out);

    /* no user validation: statsig-node answers any user here */
    for (i = 0; i < u->n; i++) {
        ctx->user = &u->users[i];
        opts.random = drand48();

        statsig_buf_adds(&out, "{\"user_index\":");
        statsig_buf_json_int(&out, (long long) i);
        statsig_buf_adds(&out, ",\"hash\":");
        statsig_buf_json_str(&out, a->hash, strlen(a->hash));
        statsig_buf_adds(&out, ",\"response\":");

        if (statsig_initialize_response(ctx, &opts, &out) != 0) {
            fprintf(stderr, "statsig-eval: out of memory\n");
            statsig_buf_free(&out);
            return 2;
        }

        statsig_buf_adds(&out, "}\n");

        if (out.len > 1 << 20) {
            sg_flush(&out);
        }
    }

    sg_flush(&out);
    statsig_buf_free(&out);

    return 0;
}


/* ---- --exposures ---- */

/*
 * statsig-node's exposure dedupe (LogEventProcessor.isUniqueExposure): a
 * set of keys, cleared every 60 s; a run here is shorter than that.
 */
typedef struct {
    char    **slots;
    size_t    mask;
    size_t    n;
} sg_keyset_t;


static uint64_t
sg_fnv(const char *s, size_t len)
{
    uint64_t  h = 14695981039346656037ULL;
    size_t    i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
    }

    return h;
}


/* 1 when the key is new (and now remembered), 0 when seen, -1 on ENOMEM */
static int
sg_keyset_add(sg_keyset_t *ks, const char *key, size_t len)
{
    char    **old, *copy;
    size_t    i, j, oldn;

    if ((ks->n + 1) * 2 > ks->mask + 1) {
        old = ks->slots;
        oldn = ks->slots ? ks->mask + 1 : 0;
        ks->mask = oldn ? oldn * 2 - 1 : 1023;
        ks->slots = calloc(ks->mask + 1, sizeof(char *));
        if (ks->slots == NULL) {
            return -1;
        }

        for (i = 0; i < oldn; i++) {
            if (old[i] == NULL) {
                continue;
            }

            j = sg_fnv(old[i], strlen(old[i])) & ks->mask;
            while (ks->slots[j] != NULL) {
                j = (j + 1) & ks->mask;
            }

            ks->slots[j] = old[i];
        }

        free(old);
    }

    j = sg_fnv(key, len) & ks->mask;
    while (ks->slots[j] != NULL) {
        if (strlen(ks->slots[j]) == len
            && memcmp(ks->slots[j], key, len) == 0)
        {
            return 0;
        }

        j = (j + 1) & ks->mask;
    }

    copy = malloc(len + 1);
    if (copy == NULL) {
        return -1;
    }

    memcpy(copy, key, len);
    copy[len] = '\0';
    ks->slots[j] = copy;
    ks->n++;

    return 1;
}


static void
sg_keyset_free(sg_keyset_t *ks)
{
    size_t  i;

    for (i = 0; ks->slots && i <= ks->mask; i++) {
        free(ks->slots[i]);
    }

    free(ks->slots);
}


/* a canonical array index: JavaScript lists those keys first, ascending */
static int
sg_index_key(statsig_str_t k, double *idx)
{
    double  v;
    size_t  i;

    if (k.len == 0 || k.len > 10 || (k.len > 1 && k.data[0] == '0')) {
        return 0;
    }

    v = 0;
    for (i = 0; i < k.len; i++) {
        if (k.data[i] < '0' || k.data[i] > '9') {
            return 0;
        }

        v = v * 10 + (k.data[i] - '0');
    }

    *idx = v;

    return v < 4294967295.0;
}


/* Object.keys(layer value) in JavaScript's order, as indexes into it */
static size_t
sg_layer_keys(const statsig_snapshot_t *s, uint32_t value, uint32_t *order,
    size_t max)
{
    uint32_t  i, n;
    size_t    k, m;
    double    a, b;

    if (value == 0 || statsig_json_type(s, value) != STATSIG_JSON_OBJECT) {
        return 0;
    }

    n = statsig_json_object_size(s, value);
    k = 0;

    for (i = 0; i < n && k < max; i++) {
        if (sg_index_key(statsig_json_object_key(s, value, i), &a)) {
            /* insertion sort: a handful of keys at most */
            for (m = k; m > 0; m--) {
                sg_index_key(statsig_json_object_key(s, value, order[m - 1]),
                             &b);
                if (b < a) {
                    break;
                }

                order[m] = order[m - 1];
            }

            order[m] = i;
            k++;
        }
    }

    for (i = 0; i < n && k < max; i++) {
        if (!sg_index_key(statsig_json_object_key(s, value, i), &a)) {
            order[k++] = i;
        }
    }

    return k;
}


static int
sg_put_event(statsig_buf_t *out, size_t user_index, statsig_buf_t *ev,
    statsig_buf_t *key, sg_keyset_t *seen, int rc)
{
    if (rc < 0 || ev->failed || key->failed) {
        return -1;
    }

    if (rc == 0) {
        return 0;
    }

    /* seen is NULL with --no-dedupe */
    rc = seen ? sg_keyset_add(seen, key->data, key->len) : 1;
    if (rc <= 0) {
        return rc;
    }

    statsig_buf_adds(out, "{\"user_index\":");
    statsig_buf_json_int(out, (long long) user_index);
    statsig_buf_adds(out, ",\"event\":");
    statsig_buf_add(out, ev->data, ev->len);
    statsig_buf_adds(out, "}\n");

    return out->failed ? -1 : 0;
}


/*
 * What statsig-node logs when, per user, checkGate runs on every gate,
 * getConfig / getExperiment on every config and getLayer + get(p) on every
 * parameter of the layer's value (the oracle's --events order), after its
 * exposure dedupe.
 */
static int
sg_exposures_all(statsig_eval_ctx_t *ctx, const sg_users_t *u, int dedupe)
{
    statsig_exposure_opts_t  o;
    statsig_buf_t            out, ev, key;
    statsig_result_t         r;
    sg_keyset_t              seen, *sp;
    const statsig_spec_t    *spec;
    statsig_str_t            nm, p;
    uint32_t                 order[512], value;
    size_t                   i, j, np, q;
    uint32_t                 k, n;
    double                   lcut;
    int                      rc;

    statsig_buf_init(&out);
    statsig_buf_init(&ev);
    statsig_buf_init(&key);
    memset(&seen, 0, sizeof(seen));
    sp = dedupe ? &seen : NULL;

    lcut = (double) statsig_snapshot_time(ctx->snap);

    memset(&o, 0, sizeof(o));
    o.ctx = ctx;
    o.config_sync_time = lcut;
    o.init_time = lcut;
    o.dedupe_key = &key;

    rc = 0;

    for (i = 0; i < u->n && rc == 0; i++) {
        /* the public API rejects users without IDs: nothing logged */
        if (u->errors[i]) {
            continue;
        }

        ctx->user = &u->users[i];

        for (k = 0; k < STATSIG_KIND_COUNT && rc == 0; k++) {
            n = statsig_spec_count(ctx->snap, (statsig_kind_e) k);

            for (j = 0; j < n && rc == 0; j++) {
                spec = statsig_spec_at(ctx->snap, (statsig_kind_e) k,
                                       (uint32_t) j);
                nm = statsig_spec_name(ctx->snap, spec);

                statsig_eval_begin(ctx);
                statsig_eval_spec(ctx, statsig_spec_find(ctx->snap,
                                                         (statsig_kind_e) k,
                                                         nm.data, nm.len),
                                  &r);

                o.time = sg_wall_ms();
                o.server_time = o.time;
                ev.len = 0;

                if (k == STATSIG_KIND_GATE) {
                    rc = sg_put_event(&out, i, &ev, &key, sp,
                                      statsig_exposure_gate(&ev, &o, nm.data,
                                                            nm.len, &r));
                    continue;
                }

                if (k == STATSIG_KIND_CONFIG) {
                    rc = sg_put_event(&out, i, &ev, &key, sp,
                                      statsig_exposure_config(&ev, &o,
                                                              nm.data,
                                                              nm.len, &r));
                    continue;
                }

                value = (r.reason == STATSIG_REASON_NETWORK) ? r.json_value
                                                             : 0;
                np = sg_layer_keys(ctx->snap, value, order, 512);
                for (q = 0; q < np && rc == 0; q++) {
                    p = statsig_json_object_key(ctx->snap, value, order[q]);
                    ev.len = 0;
                    rc = sg_put_event(&out, i, &ev, &key, sp,
                                      statsig_exposure_layer(&ev, &o,
                                                             nm.data, nm.len,
                                                             &r, p.data,
                                                             p.len));
                }
            }
        }

        if (out.len > 1 << 20) {
            sg_flush(&out);
        }
    }

    if (rc != 0) {
        fprintf(stderr, "statsig-eval: out of memory\n");
    }

    sg_flush(&out);
    statsig_buf_free(&out);
    statsig_buf_free(&ev);
    statsig_buf_free(&key);
    sg_keyset_free(&seen);

    return rc ? 2 : 0;
}


/* --dcs-v2: the v2 document statsig_api serves for this v1 document */
static int
sg_dcs_v2(const sg_args_t *a, char *text, size_t len)
{
    char           err[512];
    statsig_buf_t  out;

    statsig_buf_init(&out);

    if (statsig_dcs_v2(text, len, floor(sg_now() * 1000), &out, err,
                       sizeof(err))
        != 0)
    {
        fprintf(stderr, "statsig-eval: %s: %s\n", a->specs, err);
        statsig_buf_free(&out);
        free(text);
        return 2;
    }

    fwrite(out.data, 1, out.len, stdout);
    fputc('\n', stdout);

    statsig_buf_free(&out);
    free(text);

    return fflush(stdout) == 0 ? 0 : 1;
}


int
main(int argc, char **argv)
{
    sg_args_t            a;
    char                *text, err[1024];
    size_t               len, size, idsize;
    void                *blob, *ids;
    statsig_eval_ctx_t   ctx;
    statsig_runtime_t   *rt;
    statsig_arena_t     *arena;
    sg_users_t           users;
    double               t0, warm, g, c, l;
    int                  i;
    int                  rc;

    if (sg_parse_args(argc, argv, &a) != 0) {
        return 2;
    }

    text = sg_read_file(a.specs, &len);
    if (text == NULL) {
        return 2;
    }

    if (a.dcs_v2) {
        return sg_dcs_v2(&a, text, len);
    }

    t0 = sg_now();
    blob = statsig_compile(text, len, &size, err, sizeof(err));
    t0 = sg_now() - t0;

    if (blob == NULL) {
        free(text);
        fprintf(stderr, "statsig-eval: %s: %s\n", a.specs, err);
        return 2;
    }

    /*
     * A fetching nginx worker compiles in memory kept from its last
     * compile (statsig_compile_in): the first compile of a process also
     * pays for fresh pages.
     */
    warm = t0;
    if (a.bench > 0) {
        statsig_compile_mem_t  *mem;

        mem = statsig_compile_mem_create();
        for (i = 0; mem != NULL && i < 5; i++) {
            double  t1;

            t1 = sg_now();
            (void) statsig_compile_in(mem, text, len, &idsize, err,
                                      sizeof(err));
            t1 = sg_now() - t1;

            if (i > 0 && t1 < warm) {
                warm = t1;
            }
        }

        statsig_compile_mem_free(mem);
    }

    free(text);

    ids = NULL;
    idsize = 0;
    if (a.id_lists != NULL || a.n_id_list_args > 0) {
        ids = sg_load_id_lists(&a, &idsize);
        if (ids == NULL) {
            free(blob);
            return 2;
        }
    }

    rt = statsig_runtime_create(err, sizeof(err));
    if (rt == NULL) {
        fprintf(stderr, "statsig-eval: %s\n", err);
        free(blob);
        free(ids);
        return 2;
    }

    if (a.environment != NULL) {
        statsig_runtime_set_environment(rt, a.environment,
                                        strlen(a.environment));
    }

    arena = statsig_arena_create();
    if (arena == NULL || sg_load_users(a.users, arena, &users) != 0) {
        statsig_runtime_free(rt);
        free(blob);
        free(ids);
        return 2;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = statsig_snapshot_open(blob, size);
    ctx.idlists = ids ? statsig_idlists_open(ids, idsize) : NULL;
    ctx.rt = rt;

    rc = 0;

    if (a.bench > 0) {
        fprintf(stderr, "statsig-eval: compiled %zu bytes of specs into %zu "
                "in %.1f ms\n", len, size, t0 * 1000);
#define SG_BENCH(kind)                                                       \
        ((a.bench_kind < 0 || a.bench_kind == (kind))                        \
         ? sg_bench_kind(&ctx, &users, (kind), a.bench, a.rounds) : 0)
        g = SG_BENCH(STATSIG_KIND_GATE);
        c = SG_BENCH(STATSIG_KIND_CONFIG);
        l = SG_BENCH(STATSIG_KIND_LAYER);
#undef SG_BENCH
        printf("compile_ms=%.1f\n", t0 * 1000);
        printf("compile_warm_ms=%.1f\n", warm * 1000);
        printf("config_evals_per_sec=%.0f\n", c);
        printf("layer_evals_per_sec=%.0f\n", l);
        printf("evals_per_sec=%.0f\n", g);

    } else if (a.initialize) {
        rc = sg_initialize_all(&ctx, &users, &a);

    } else if (a.exposures) {
        rc = sg_exposures_all(&ctx, &users, !a.no_dedupe);

    } else {
        sg_eval_all(&ctx, &users);
    }

    fflush(stdout);

    free(users.users);
    free(users.errors);
    statsig_arena_free(arena);
    statsig_runtime_free(rt);
    free(blob);
    free(ids);

    return rc;
}
