/*
 * libFuzzer: the input is a user object (JSON).  It is parsed with
 * statsig_value_from_json() and evaluated against every spec of a fixed
 * DCS compiled once (fuzz/user_eval_dcs.json, embedded at build time);
 * then again with its strings built as the nginx glue builds them (their
 * conversions made when first read), which must answer the same.  Each
 * gate's and config's exposure (event and dedupe key) is written with the
 * module's memo of heads, which keeps what earlier inputs left, and
 * without: the bytes must be the same, and the event must parse; then
 * as the module writes it (the key hashed in the memo, the event at once
 * from its slot): the same key hash and bytes.
 *
 *   build/fuzz/fuzz_user_eval fuzz/corpus/user_eval
 */

#include "fuzz_common.h"
#include "snapshot.h"
#include "fuzz_user_eval_dcs.h"     /* generated: fz_dcs[], fz_dcs_len */
#include "../t/unit/lazy_user.h"
#include "fuzz_json.h"
#include "exposure.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* one exposure written as the module writes it, and without the memo */
static void
fz_expose_both(statsig_exposure_opts_t *o, statsig_exposure_memo_t *memo,
    int gate, const char *name, size_t len, const statsig_result_t *r)
{
    static statsig_buf_t           b[6];
    int                            rc[3], k;
    uint64_t                       hash;
    statsig_exposure_memo_slot_t  *slot;

    o->memo = NULL;
    o->memo_pass = NULL;
    o->dedupe_key = &b[1];
    b[0].len = 0;
    rc[0] = gate ? statsig_exposure_gate(&b[0], o, name, len, r)
                 : statsig_exposure_config(&b[0], o, name, len, r);

    /* the key first, the event after, both through the memo, the event
     * taking the key's slot as the module does */
    slot = NULL;
    o->memo = memo;
    o->memo_pass = &slot;
    o->dedupe_key = &b[3];
    rc[1] = gate ? statsig_exposure_gate(NULL, o, name, len, r)
                 : statsig_exposure_config(NULL, o, name, len, r);
    o->dedupe_key = NULL;
    b[2].len = 0;
    rc[2] = gate ? statsig_exposure_gate(&b[2], o, name, len, r)
                 : statsig_exposure_config(&b[2], o, name, len, r);

    if (rc[0] != rc[1] || rc[0] != rc[2]
        || (rc[0] == 1
            && (b[0].len != b[2].len || b[1].len != b[3].len
                || memcmp(b[0].data, b[2].data, b[0].len) != 0
                || memcmp(b[1].data, b[3].data, b[1].len) != 0)))
    {
        fprintf(stderr, "fuzz: the memo's exposure of \"%.*s\" differs\n",
                (int) len, name);
        abort();
    }

    if (rc[0] != 1) {
        return;
    }

    fz_parses(&b[0], "exposure");

    /*
     * As the module writes it: the key pass through the memo alone (the
     * key hashed there), the event at once from its slot with the tail
     * given; or the writers where they decline.  The same hash, bytes.
     */
    b[4].len = 0;
    statsig_exposure_key_prefix(&b[4], o->ctx);
    slot = NULL;
    hash = 0;
    o->dedupe_key = &b[3];
    o->key_prefix = b[4].data;
    o->key_prefix_len = b[4].len;
    o->key_hash = &hash;
    k = statsig_exposure_key_again(o, gate ? STATSIG_KIND_GATE
                                          : STATSIG_KIND_CONFIG,
                                   name, len, r);
    if (k == 0) {
        k = gate ? statsig_exposure_gate(NULL, o, name, len, r)
                 : statsig_exposure_config(NULL, o, name, len, r);
    }

    if (k != 1
        || (hash ? hash : statsig_exposure_key_hash(NULL, 0, b[3].data,
                                                    b[3].len))
           != statsig_exposure_key_hash(NULL, 0, b[1].data, b[1].len))
    {
        fprintf(stderr, "fuzz: the memo's key hash of \"%.*s\" differs\n",
                (int) len, name);
        abort();
    }

    o->dedupe_key = NULL;
    o->key_prefix = NULL;
    o->key_hash = NULL;
    b[5].len = 0;
    statsig_exposure_tail(&b[5], o);
    o->tail = b[5].data;
    o->tail_len = b[5].len;
    b[2].len = 0;
    k = statsig_exposure_again(&b[2], o, gate ? STATSIG_KIND_GATE
                                              : STATSIG_KIND_CONFIG,
                               len, r);
    if (k == 0) {
        k = gate ? statsig_exposure_gate(&b[2], o, name, len, r)
                 : statsig_exposure_config(&b[2], o, name, len, r);
    }

    o->tail = NULL;
    o->tail_len = 0;

    if (k != 1 || b[0].len != b[2].len
        || memcmp(b[0].data, b[2].data, b[0].len) != 0)
    {
        fprintf(stderr, "fuzz: the memo's event at once of \"%.*s\" "
                "differs\n", (int) len, name);
        abort();
    }
}


static void
fz_expose_all(const statsig_snapshot_t *snap, const statsig_value_t *user)
{
    static statsig_exposure_memo_t  memo;
    statsig_eval_ctx_t              ctx;
    statsig_exposure_opts_t         o;
    statsig_result_t                r;
    const statsig_spec_t           *spec;
    statsig_str_t                   nm;
    uint32_t                        k, j, n;

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = snap;
    ctx.idlists = fz_ids;
    ctx.rt = fz_rt;
    ctx.user = user;

    memset(&o, 0, sizeof(o));
    o.ctx = &ctx;
    o.time = 1700000000123.0;
    o.server_time = o.time;
    o.config_sync_time = (double) statsig_snapshot_time(snap);
    o.init_time = o.config_sync_time;

    for (k = STATSIG_KIND_GATE; k <= STATSIG_KIND_CONFIG; k++) {
        n = statsig_spec_count(snap, (statsig_kind_e) k);

        for (j = 0; j < n; j++) {
            spec = statsig_spec_at(snap, (statsig_kind_e) k, j);
            nm = statsig_spec_name(snap, spec);

            statsig_eval_begin(&ctx);
            statsig_eval_spec(&ctx, spec, &r);
            fz_expose_both(&o, &memo, k == STATSIG_KIND_GATE, nm.data, nm.len,
                           &r);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const statsig_snapshot_t  *snap, *gsnap;
    static void                      *blob, *general;
    char                              err[512];
    size_t                            bsize, mark, eager;
    statsig_value_t                   user, lazy;

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

        /* every condition on statsig_eval_condition's path */
        general = malloc(bsize);
        if (general == NULL) {
            abort();
        }

        memcpy(general, blob, bsize);
        statsig_snapshot_no_fast(general);
        gsnap = statsig_snapshot_open(general, bsize);
        if (gsnap == NULL) {
            abort();
        }
    }

    mark = fz_nchunks;

    if (statsig_value_from_json(&fz_allocator, (const char *) data, size,
                                &user, err, sizeof(err)) == 0)
    {
        eager = fz_eval_all(snap, &user, 1);

        /* a copy at another address: a session of its own */
        lazy = user;
        lazy_user_strings(&fz_allocator, &lazy, 0);
        if (fz_eval_all(snap, &lazy, 1) != eager) {
            abort();
        }

        /* the rule loop's own paths against statsig_eval_condition's */
        if (fz_eval_all(gsnap, &user, 1) != eager
            || fz_eval_all(gsnap, &lazy, 1) != eager)
        {
            fprintf(stderr, "fuzz: the loop's paths answer otherwise\n");
            abort();
        }

        fz_expose_all(snap, &user);
    }

    fz_release(mark);

    return 0;
}
