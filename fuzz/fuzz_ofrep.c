/*
 * libFuzzer: the OFREP server's pure logic (src/core/ofrep.c) on any body
 * a client may POST and any path and If-None-Match it may send.  The
 * input is read as statsig_ofrep reads a body (statsig_ofrep_request);
 * a context goes to a Statsig user (statsig_ofrep_user) and, when that
 * is accepted, every listed flag of the fixed DCS is evaluated for it
 * and written (statsig_ofrep_flag), as is a failure with the input's
 * bytes as the key.  Everything written must parse with jansson; a
 * refusal must have a code and a reason; the canonical context must
 * parse and be its own canonical form; the ETag made from it must match
 * itself (plain, weak, in a list) and never a different ETag.  The raw
 * input is also taken as a path and as an If-None-Match value.
 *
 *   build/fuzz/fuzz_ofrep fuzz/corpus/fuzz_ofrep
 */

#include <jansson.h>

#include "buf.h"
#include "fuzz_common.h"
#include "fuzz_json.h"
#include "fuzz_user_eval_dcs.h"     /* generated: fz_dcs[], fz_dcs_len */
#include "ofrep.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fz_flags(const statsig_snapshot_t *snap, const statsig_value_t *user,
    statsig_buf_t *b)
{
    int                    k;
    uint32_t               i, n;
    statsig_str_t          name;
    statsig_result_t       res;
    statsig_eval_ctx_t     ctx;
    const statsig_spec_t  *spec;

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = snap;
    ctx.idlists = fz_ids;
    ctx.user = user;
    ctx.rt = fz_rt;

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        n = statsig_spec_count(snap, (statsig_kind_e) k);

        for (i = 0; i < n; i++) {
            spec = statsig_spec_at(snap, (statsig_kind_e) k, i);

            if (!statsig_ofrep_listed(snap, spec)) {
                continue;
            }

            name = statsig_spec_name(snap, spec);

            if (statsig_ofrep_find(snap, name.data, name.len) != spec) {
                abort();
            }

            statsig_eval_begin(&ctx);
            statsig_eval_spec(&ctx, spec, &res);

            b->len = 0;
            (void) statsig_ofrep_flag(b, snap, name.data, name.len, spec,
                                      &res);
            fz_parses(b, "a flag");
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const statsig_snapshot_t  *snap;
    static void                      *blob;
    static statsig_buf_t              b, c;
    int                               code, what;
    char                              err[512];
    char                              etag[STATSIG_OFREP_ETAG_LEN + 1];
    char                              other[STATSIG_OFREP_ETAG_LEN + 1];
    char                              list[3 * STATSIG_OFREP_ETAG_LEN];
    size_t                            bsize, mark, klen, n;
    const char                       *key;
    statsig_value_t                   req, user, again;
    const statsig_value_t            *context;

    if (snap == NULL) {
        fz_init();
        blob = statsig_compile((const char *) fz_dcs, fz_dcs_len, &bsize,
                               err, sizeof(err));
        if (blob == NULL) {
            fprintf(stderr, "fuzz: fixed DCS: %s\n", err);
            abort();
        }

        snap = statsig_snapshot_open(blob, bsize);
        if (snap == NULL) {
            abort();
        }

        statsig_buf_init(&b);
        statsig_buf_init(&c);
    }

    mark = fz_nchunks;
    err[0] = '\0';

    code = statsig_ofrep_request(&fz_allocator, (const char *) data, size,
                                 &req, &context, err, sizeof(err));

    if (code != STATSIG_OFREP_OK) {
        if ((code != STATSIG_OFREP_PARSE_ERROR
             && code != STATSIG_OFREP_INVALID_CONTEXT)
            || err[0] == '\0')
        {
            abort();
        }

        b.len = 0;
        statsig_ofrep_error(&b, (const char *) data, size, code, err);
        fz_parses(&b, "a failure");

    } else {
        /* the canonical context: JSON, and a fixed point */
        b.len = 0;
        statsig_ofrep_canonical(&fz_allocator, &b, context);
        fz_parses(&b, "the canonical context");

        if (!b.failed
            && statsig_value_from_json(&fz_allocator, b.data, b.len, &again,
                                       err, sizeof(err))
               == 0)
        {
            c.len = 0;
            statsig_ofrep_canonical(&fz_allocator, &c, &again);

            if (!c.failed
                && (c.len != b.len || memcmp(c.data, b.data, b.len) != 0))
            {
                abort();
            }
        }

        statsig_ofrep_etag(b.data, b.len, etag);
        statsig_ofrep_etag("other", 5, other);

        n = (size_t) snprintf(list, sizeof(list), "\"x\", W/%s", etag);

        if (!statsig_ofrep_etag_match(etag, STATSIG_OFREP_ETAG_LEN, etag,
                                      STATSIG_OFREP_ETAG_LEN)
            || !statsig_ofrep_etag_match(list, n, etag,
                                         STATSIG_OFREP_ETAG_LEN)
            || (strcmp(etag, other) != 0
                && statsig_ofrep_etag_match(other, STATSIG_OFREP_ETAG_LEN,
                                            etag, STATSIG_OFREP_ETAG_LEN)))
        {
            abort();
        }

        err[0] = '\0';
        code = statsig_ofrep_user(&fz_allocator, context, &user, err,
                                  sizeof(err));

        if (code == STATSIG_OFREP_OK) {
            fz_flags(snap, &user, &b);

        } else if ((code != STATSIG_OFREP_INVALID_CONTEXT
                    && code != STATSIG_OFREP_TARGETING_KEY_MISSING)
                   || err[0] == '\0')
        {
            abort();
        }
    }

    fz_release(mark);

    /* the raw input as a path and as an If-None-Match value */

    key = NULL;
    klen = 0;
    what = statsig_ofrep_path((const char *) data, size, &key, &klen);

    if (what == STATSIG_OFREP_PATH_SINGLE
        && (key < (const char *) data
            || key + klen != (const char *) data + size))
    {
        abort();
    }

    statsig_ofrep_etag(data, size, etag);
    (void) statsig_ofrep_etag_match((const char *) data, size, etag,
                                    STATSIG_OFREP_ETAG_LEN);

    return 0;
}
