/*
 * Unit tests: name hashes of client initialize, the user object of events
 * and initialize responses, a gate exposure and a custom event.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exposure.h"
#include "initialize.h"
#include "snapshot.h"
#include "statsig.h"
#include "tap.h"


static void *
test_alloc(void *data, size_t size)
{
    (void) data;
    return calloc(1, size);
}


/*
 * The dedupe key's hash as the module computed it before the two-part
 * writer (MurmurHash64A, byte by byte at the end): the values a kept
 * zone holds, which statsig_exposure_key_hash() must give
 */
static uint64_t
ref_key_hash(const unsigned char *p, size_t len)
{
    const uint64_t  m = 0xc6a4a7935bd1e995ULL;
    uint64_t        h, k;
    size_t          i, j;

    h = 0x5354455645ULL ^ (len * m);

    for (i = 0; i + 8 <= len; i += 8) {
        for (k = 0, j = 0; j < 8; j++) {
            k |= (uint64_t) p[i + j] << (8 * j);
        }

        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }

    if (len > i) {
        for (k = 0, j = 0; i + j < len; j++) {
            k |= (uint64_t) p[i + j] << (8 * j);
        }

        h ^= k;
        h *= m;
    }

    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;

    return h ? h : 1;
}


static const char *
text(statsig_buf_t *b)
{
    statsig_buf_addc(b, '\0');
    b->len--;
    return b->data;
}


int
main(void)
{
    static const char  dcs[] =
        "{\"has_updates\":true,\"time\":1000,\"default_environment\":\"dev\","
        "\"feature_gates\":[{\"name\":\"g\",\"type\":\"feature_gate\","
        "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
        "\"idType\":\"userID\",\"entity\":\"feature_gate\",\"version\":2,"
        "\"rules\":[{\"id\":\"r1\",\"passPercentage\":100,\"returnValue\":true,"
        "\"conditions\":[{\"type\":\"public\"}]}]}],"
        "\"dynamic_configs\":[],\"layer_configs\":[]}";
    static const char  user_json[] =
        "{\"userID\":\"u\",\"customIDs\":{\"a\":\"1\",\"b\":2},"
        "\"privateAttributes\":{\"x\":1},"
        "\"statsigEnvironment\":{\"tier\":\"prod\"}}";

    statsig_buf_t              b, key;
    statsig_alloc_t            a = { test_alloc, NULL };
    statsig_value_t            user;
    statsig_eval_ctx_t         ctx;
    statsig_exposure_opts_t    o;
    statsig_event_value_t      v;
    statsig_result_t           r;
    statsig_str_t              mk, mv;
    char                       err[256];
    void                      *blob;
    size_t                     size;

    statsig_buf_init(&b);
    statsig_buf_init(&key);

    statsig_initialize_hash_name(&b, STATSIG_HASH_DJB2, "always_on_gate", 14);
    is_str(text(&b), "\"2172880123\"", "djb2 name hash");
    b.len = 0;
    statsig_initialize_hash_name(&b, STATSIG_HASH_SHA256, "always_on_gate",
                                 14);
    is_str(text(&b), "\"rGc+6rvo48V4j1sXkvsGHeSfJfY7kMp1OHfQnw+3XbI=\"",
           "sha256 name hash");
    b.len = 0;
    statsig_initialize_hash_name(&b, STATSIG_HASH_NONE, "a\"b", 3);
    is_str(text(&b), "\"a\\\"b\"", "no hash: the name, escaped");
    b.len = 0;
    statsig_initialize_hash_name(&b, STATSIG_HASH_DJB2, "", 0);
    is_str(text(&b), "\"0\"", "djb2 of the empty name");

    blob = statsig_compile(dcs, sizeof(dcs) - 1, &size, err, sizeof(err));
    ok(blob != NULL, "tiny DCS compiles");
    ok(statsig_value_from_json(&a, user_json, sizeof(user_json) - 1, &user,
                               err, sizeof(err)) == 0, "user parses");

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = statsig_snapshot_open(blob, size);
    ctx.rt = statsig_runtime_create(err, sizeof(err));
    ctx.user = &user;

    b.len = 0;
    statsig_exposure_user(&b, &ctx, STATSIG_USER_EVENT);
    is_str(text(&b), "{\"userID\":\"u\",\"customIDs\":{\"a\":\"1\",\"b\":2},"
           "\"privateAttributes\":null,\"statsigEnvironment\":{\"tier\":"
           "\"dev\"}}", "event user: DCS environment, privateAttributes null");

    b.len = 0;
    statsig_exposure_user(&b, &ctx, STATSIG_USER_INIT);
    is_str(text(&b), "{\"userID\":\"u\",\"customIDs\":{\"a\":\"1\",\"b\":2},"
           "\"statsigEnvironment\":{\"tier\":\"prod\"}}",
           "initialize user: own environment kept, no privateAttributes");

    statsig_eval_begin(&ctx);
    statsig_eval_gate(&ctx, "g", 1, &r);

    memset(&o, 0, sizeof(o));
    o.ctx = &ctx;
    o.time = 5;
    o.config_sync_time = 1000;
    o.init_time = 1000;
    o.server_time = 6;
    o.dedupe_key = &key;

    b.len = 0;
    is_int(statsig_exposure_gate(&b, &o, "g", 1, &r), 1, "gate exposure");
    is_str(text(&b), "{\"eventName\":\"statsig::gate_exposure\",\"metadata\":"
           "{\"gate\":\"g\",\"gateValue\":\"true\",\"ruleID\":\"r1\","
           "\"configVersion\":\"2\",\"reason\":\"Network\","
           "\"configSyncTime\":1000,\"initTime\":1000,\"serverTime\":6},"
           "\"time\":5,\"user\":{\"userID\":\"u\",\"customIDs\":{\"a\":\"1\","
           "\"b\":2},\"privateAttributes\":null,\"statsigEnvironment\":"
           "{\"tier\":\"dev\"}},\"value\":null,\"secondaryExposures\":[],"
           "\"statsigMetadata\":{}}", "gate exposure as statsig-node logs it");
    is_str(text(&key), "u,1,2,statsig::gate_exposure,g,true,r1,2",
           "statsig-node's dedupe key");

    /*
     * The dedupe key's hash of two parts, each split of keys of 0 to 80
     * bytes, equals the hash of the key in one piece, and the values
     * the zone keeps (the reference above; one fixed value too)
     */
    {
        unsigned char  kb[80];
        size_t         len, at, bad;
        unsigned       seed;

        seed = 7;
        bad = 0;

        for (len = 0; len <= sizeof(kb); len++) {
            for (at = 0; at < len; at++) {
                seed = seed * 1103515245 + 12345;
                kb[at] = (unsigned char) (seed >> 16);
            }

            for (at = 0; at <= len; at++) {
                bad += statsig_exposure_key_hash(kb, at, kb + at, len - at)
                       != ref_key_hash(kb, len);
            }
        }

        is_int((int) bad, 0, "dedupe key hash of two parts: the one-piece "
               "values at every split");
        ok(statsig_exposure_key_hash("u,1,2,", 6,
                                     "statsig::gate_exposure,g,true,r1,2",
                                     34)
           == 0x90d7263354bee9e1ULL
           && ref_key_hash((const unsigned char *) "abc", 3)
              == 0xdaee9f02336f4469ULL,
           "dedupe key hash: known values");
    }

    /* names written by the inline writer, 8 bytes a step: the same as
     * statsig_buf_json_str (escapes at every place of an 8-byte step) */
    {
        static const char  *names[] = {
            "plain_long_gate_name_", "gate_with_\"quote", "long_name_\xc3\xa9_x",
            "tab\there_and_more", "bs\\12345678", "ctl\x01", "1234567\x7f",
            "12345678\x1f", "abcdefgh\"", "", "exactly8"
        };
        statsig_buf_t  want;
        size_t         i;
        char           expect[256];

        statsig_buf_init(&want);

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            b.len = 0;
            want.len = 0;
            statsig_buf_json_str(&want, names[i], strlen(names[i]));
            statsig_buf_addc(&want, '\0');
            snprintf(expect, sizeof(expect), "\"gate\":%s,", want.data);
            statsig_exposure_gate(&b, &o, names[i], strlen(names[i]), &r);
            ok(strstr(text(&b), expect) != NULL,
               "gate name %zu written as statsig_buf_json_str writes it", i);
        }

        statsig_buf_free(&want);
    }

    /* statsig_json_plain(): every length to 40, one byte of each class at
     * every place (the words and the vectors overlap at the end), in a
     * buffer of exactly that size */
    {
        static const unsigned char  cls[] = {
            0x00, 0x1f, 0x20, '"', '\\', 0x7e, 0x7f, 0x80, 0xc3, 0xff, 'a'
        };
        size_t                      n, at, c, bad;
        char                       *str;
        int                         want;

        bad = 0;

        for (n = 0; n <= 40; n++) {
            for (at = 0; at < (n ? n : 1); at++) {
                for (c = 0; c < sizeof(cls); c++) {
                    str = malloc(n ? n : 1);
                    memset(str, 'x', n);
                    if (n) {
                        str[at] = (char) cls[c];
                    }

                    want = n == 0 || (cls[c] >= 0x20 && cls[c] < 0x80
                                      && cls[c] != '"' && cls[c] != '\\');

                    if (statsig_json_plain(str, n) != want) {
                        fprintf(stderr, "# json_plain: len %zu, 0x%02x "
                                "at %zu\n", n,
                             cls[c], at);
                        bad++;
                    }

                    free(str);
                }
            }
        }

        is_int((int) bad, 0, "statsig_json_plain: each byte class at each "
               "place of each length");
    }

    /* the memo of heads: exposures written through it, as the module
     * writes them (the key alone, then the event) or both at once, equal
     * those written without it, whatever came before in the slots: 40
     * names in 32 slots, rules, values, versions, reasons and kinds that
     * change, a name too long to keep */
    {
        static const char  *names[] = {
            "public_launch", "beta_users", "new_checkout", "g", "",
            "gate_with_\"quote", "caf\xc3\xa9", "a_name_of_exactly_32_bytes_long_",
            "n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9",
            "n10", "n11", "n12", "n13", "n14", "n15", "n16", "n17", "n18",
            "n19", "n20", "n21", "n22", "n23", "n24", "n25", "n26", "n27",
            "same_prefix_and_suffix_1_name", "same_prefix_and_suffix_2_name",
            "tab\tname", "gate_a", "gate_b", "gate_c", "gate_d", "gate_e",
            "gate_f", "gate_g", "gate_h", "gate_i", "gate_j", "gate_k",
            "gate_l", NULL
        };
        static const char  *rules[] = {
            "default", "", "6ZEVUvZ5bVOPvnUbwmNd3r", "rule\\x", "disabled",
            "defaulT", "rule\\y"
        };
        statsig_spec_t            specs[3];
        statsig_exposure_memo_t  *memo;
        statsig_exposure_opts_t   mo;
        statsig_buf_t             want, want_key, got, got_key;
        statsig_result_t          mr;
        char                      longname[300];
        const char               *name;
        size_t                    i, nn, len, bad, passed, pass_bad;
        size_t                    hashed, rest_bad, again, key_again;
        statsig_buf_t             tail;
        statsig_exposure_memo_slot_t  *slot_was;
        uint64_t                  hash;
        statsig_buf_t             kb;
        static const char        *prefixes[] = {
            "", "u", "u,", "u,1", "u,1,", "u,1,2", "u,1,2,", "uu,1,2,",
            "uuu,1,2,", "uuuu,1,2,", "uuuuu,1,2,", "uuuuuu,1,2,",
            "uuuuuuu,1,2,", "uuuuuuuu,1,2,", "uuuuuuuuu,1,2,",
            "uuuuuuuuuu,1,2,", "uuuuuuuuuuu,1,2,", "uuuuuuuuuuuu,1,2,"
        };
        unsigned                  seed;
        statsig_exposure_memo_slot_t  *slot;
        int                       kind, rc1, rc2, rc3;

        for (nn = 0; names[nn] != NULL; nn++) {
            /* void */
        }

        memset(longname, 'L', sizeof(longname));
        memset(specs, 0, sizeof(specs));
        specs[0].has_version = 1;
        specs[0].version = 3;
        specs[1].has_version = 1;
        specs[1].version = 12.5;

        memo = calloc(1, sizeof(statsig_exposure_memo_t));
        statsig_buf_init(&want);
        statsig_buf_init(&want_key);
        statsig_buf_init(&got);
        statsig_buf_init(&got_key);

        seed = 12345;
        bad = 0;
        passed = 0;
        pass_bad = 0;
        hashed = 0;
        rest_bad = 0;
        again = 0;
        key_again = 0;
        statsig_buf_init(&kb);
        statsig_buf_init(&tail);

        for (i = 0; i < 4000; i++) {
            seed = seed * 1103515245 + 12345;

            memset(&mr, 0, sizeof(mr));
            mr.value = (seed >> 8) & 1;
            mr.reason = (statsig_reason_e) ((seed >> 9) % 7 == 0
                                            ? (seed >> 12) % 4 : 0);
            mr.spec = ((seed >> 14) % 4 == 3) ? NULL
                                              : &specs[(seed >> 14) % 4];
            mr.rule_id.data = rules[(seed >> 17) % 7];
            mr.rule_id.len = strlen(mr.rule_id.data);
            kind = (seed >> 20) % 5 == 0 ? 2 : 1;

            if ((seed >> 23) % 50 == 0) {
                name = longname;
                len = sizeof(longname);

            } else {
                name = names[(seed >> 23) % nn];
                len = strlen(name);
            }

            mo = o;
            mo.memo = NULL;
            mo.dedupe_key = &want_key;
            want.len = 0;
            rc1 = kind == 1 ? statsig_exposure_gate(&want, &mo, name, len, &mr)
                            : statsig_exposure_config(&want, &mo, name, len,
                                                      &mr);

            mo.memo = memo;
            got.len = 0;

            if ((seed >> 27) % 3 == 0) {
                mo.dedupe_key = &got_key;
                rc2 = kind == 1
                      ? statsig_exposure_gate(&got, &mo, name, len, &mr)
                      : statsig_exposure_config(&got, &mo, name, len, &mr);
                rc3 = rc2;

            } else {
                /* every other time the key pass's slot goes to the event
                 * pass, as the module passes it */
                slot = NULL;
                mo.memo_pass = ((seed >> 29) & 1) ? &slot : NULL;

                /* for the event at once below: the slot holds its head */
                if ((seed >> 4) & 1) {
                    mo.dedupe_key = &got_key;
                    (void) (kind == 1
                            ? statsig_exposure_gate(NULL, &mo, name, len,
                                                    &mr)
                            : statsig_exposure_config(NULL, &mo, name, len,
                                                      &mr));
                    mo.dedupe_key = NULL;
                    tail.len = 0;
                    (void) (kind == 1
                            ? statsig_exposure_gate(&tail, &mo, name, len,
                                                    &mr)
                            : statsig_exposure_config(&tail, &mo, name, len,
                                                      &mr));
                }

                mo.dedupe_key = &got_key;

                /*
                 * a key the memo holds hashed there, not written: a key
                 * pass first puts it there; prefixes of 0 to 17 bytes
                 * (each length mod 8, the slot's blocks mixed again)
                 */
                if ((seed >> 30) & 1) {
                    mo.key_prefix = prefixes[(seed >> 3) % 18];
                    mo.key_prefix_len = strlen(mo.key_prefix);
                    (void) (kind == 1
                            ? statsig_exposure_gate(NULL, &mo, name, len,
                                                    &mr)
                            : statsig_exposure_config(NULL, &mo, name, len,
                                                      &mr));
                    hash = 12345;
                    mo.key_hash = &hash;
                }

                /* every other time the key pass through the memo alone */
                rc2 = 0;

                if (mo.key_hash != NULL && ((seed >> 5) & 1)) {
                    rc2 = statsig_exposure_key_again(&mo,
                                                     kind == 1
                                                     ? STATSIG_KIND_GATE
                                                     : STATSIG_KIND_CONFIG,
                                                     name, len, &mr);
                    key_again += rc2;
                }

                if (rc2 == 0) {
                    rc2 = kind == 1
                          ? statsig_exposure_gate(NULL, &mo, name, len, &mr)
                          : statsig_exposure_config(NULL, &mo, name, len,
                                                    &mr);
                }

                if (mo.key_hash != NULL) {
                    /* the key as the prefix and what follows "u,1,2," */
                    kb.len = 0;
                    statsig_buf_add(&kb, mo.key_prefix, mo.key_prefix_len);
                    statsig_buf_add(&kb, want_key.data + 6,
                                    want_key.len - 6);

                    if (hash != 0) {
                        hashed++;
                        rest_bad += got_key.len != 0
                                    || hash != ref_key_hash(
                                           (const unsigned char *) kb.data,
                                           kb.len);

                    } else {
                        rest_bad += got_key.len == 0;
                    }

                    /* the rest of the test compares the key itself */
                    got_key.len = 0;
                    statsig_buf_add(&got_key, want_key.data, want_key.len);
                    mo.key_hash = NULL;
                    mo.key_prefix = NULL;
                }

                if (mo.memo_pass != NULL) {
                    passed++;
                    pass_bad += (slot == NULL) != (name == longname);
                }

                mo.dedupe_key = NULL;
                rc3 = 0;

                /*
                 * every other time the event from the slot at once when
                 * it can (the tail given), as the module writes it
                 */
                if ((seed >> 4) & 1) {
                    tail.len = 0;
                    statsig_exposure_tail(&tail, &mo);
                    mo.tail = tail.data;
                    mo.tail_len = tail.len;
                    slot_was = slot;
                    rc3 = statsig_exposure_again(&got, &mo,
                                                 kind == 1 ? STATSIG_KIND_GATE
                                                 : STATSIG_KIND_CONFIG,
                                                 len, &mr);
                    again += rc3 == 1;
                    pass_bad += rc3 == 1 && (slot != NULL
                                             || slot_was == NULL);
                }

                if (rc3 == 0) {
                    rc3 = kind == 1
                          ? statsig_exposure_gate(&got, &mo, name, len, &mr)
                          : statsig_exposure_config(&got, &mo, name, len,
                                                    &mr);
                }

                mo.tail = NULL;
                pass_bad += slot != NULL;
                mo.memo_pass = NULL;
            }

            if (rc1 != 1 || rc2 != 1 || rc3 != 1
                || got.len != want.len || got_key.len != want_key.len
                || memcmp(got.data, want.data, want.len) != 0
                || memcmp(got_key.data, want_key.data, want_key.len) != 0)
            {
                fprintf(stderr, "# memo: exposure %zu (%s) differs\n", i,
                        name == longname ? "long" : name);
                bad++;
            }
        }

        is_int((int) bad, 0, "exposures through the memo equal those "
               "written without it");
        ok(passed > 500 && pass_bad == 0, "the key pass's slot taken by "
           "the event pass: %zu times, %zu wrong", passed, pass_bad);
        ok(again > 300, "events written at once from the key pass's "
           "slot: %zu", again);
        ok(key_again > 200, "key passes through the memo alone: %zu",
           key_again);
        ok(hashed > 300 && rest_bad == 0, "keys the memo holds hashed "
           "there: %zu times, %zu wrong", hashed, rest_bad);

        free(memo);
        statsig_buf_free(&kb);
        statsig_buf_free(&tail);
        statsig_buf_free(&want);
        statsig_buf_free(&want_key);
        statsig_buf_free(&got);
        statsig_buf_free(&got_key);
    }

    /*
     * A key the memo holds, hashed there after prefixes of each length
     * in turn, each twice (the slot's blocks mixed again for another
     * length mod 8, reused for the same): the hash of the key written
     */
    {
        statsig_exposure_memo_t  *memo;
        statsig_exposure_opts_t   mo;
        statsig_buf_t             full;
        char                      pre[24];
        uint64_t                  hash;
        size_t                    i, bad, n;

        memo = calloc(1, sizeof(statsig_exposure_memo_t));
        statsig_buf_init(&full);
        bad = 0;
        n = 0;

        for (i = 0; i < 4 * 20; i++) {
            memset(pre, 'p', sizeof(pre));
            pre[0] = (char) ('a' + i);
            mo = o;
            mo.memo = memo;
            mo.dedupe_key = &key;
            mo.key_prefix = pre;
            mo.key_prefix_len = (i / 2) % 20;
            hash = 0;
            mo.key_hash = i ? &hash : NULL;

            (void) statsig_exposure_gate(NULL, &mo, "a_gate_name", 11, &r);

            if (i == 0) {
                continue;
            }

            full.len = 0;
            statsig_buf_add(&full, pre, mo.key_prefix_len);
            statsig_buf_adds(&full, "statsig::gate_exposure,a_gate_name,"
                             "true,r1,2");
            bad += key.len != 0
                   || hash != ref_key_hash((const unsigned char *) full.data,
                                           full.len);
            n++;
        }

        ok(n == 79 && bad == 0, "a key hashed in the memo after prefixes of "
           "0 to 19 bytes: %zu of %zu wrong", bad, n);

        statsig_buf_free(&full);
        free(memo);
    }

    /*
     * The event at once from the key pass's slot: only for the entity
     * and kind the slot holds, without secondary exposures, with a tail;
     * then the bytes the writer writes
     */
    {
        statsig_exposure_memo_t        *memo;
        statsig_exposure_memo_slot_t   *slot;
        statsig_exposure_opts_t         mo;
        statsig_result_t                rx;
        statsig_buf_t                   want, got, tl;
        int                             refused;

        memo = calloc(1, sizeof(statsig_exposure_memo_t));
        statsig_buf_init(&want);
        statsig_buf_init(&got);
        statsig_buf_init(&tl);

        mo = o;
        mo.memo = memo;
        mo.memo_pass = &slot;
        statsig_exposure_tail(&tl, &mo);

        /* room: a buffer that has not grown yet is written the long way */
        (void) statsig_buf_reserve(&got, 1024, 1);
        got.len = 0;

        /* a first exposure puts the key and the head in the memo */
        slot = NULL;
        (void) statsig_exposure_gate(NULL, &mo, "g", 1, &r);
        mo.dedupe_key = NULL;
        (void) statsig_exposure_gate(&want, &mo, "g", 1, &r);

        mo.dedupe_key = &key;
        (void) statsig_exposure_gate(NULL, &mo, "g", 1, &r);
        mo.dedupe_key = NULL;

        refused = statsig_exposure_again(&got, &mo, STATSIG_KIND_GATE, 1, &r);
        mo.tail = tl.data;
        mo.tail_len = tl.len;
        refused += statsig_exposure_again(&got, &mo, STATSIG_KIND_CONFIG, 1,
                                          &r);
        refused += statsig_exposure_again(&got, &mo, STATSIG_KIND_GATE, 2,
                                          &r);
        rx = r;
        rx.exposures_len = 1;
        refused += statsig_exposure_again(&got, &mo, STATSIG_KIND_GATE, 1,
                                          &rx);

        ok(refused == 0 && got.len == 0 && slot != NULL, "the event at "
           "once refused for another kind, name, secondary exposures, "
           "without a tail");
        ok(statsig_exposure_again(&got, &mo, STATSIG_KIND_GATE, 1, &r) == 1
           && slot == NULL && got.len == want.len
           && memcmp(got.data, want.data, want.len) == 0,
           "the event at once: the writer's bytes, the slot taken");

        statsig_buf_free(&want);
        statsig_buf_free(&got);
        statsig_buf_free(&tl);
        free(memo);
    }

    /*
     * Two entities whose heads fall in one set of the memo do not evict
     * each other: of 780 pairs of names (some share a set), each written
     * in turn three times, every exposure after the first round finds
     * its head in the memo (the key pass's slot holds the event's head)
     */
    {
        statsig_exposure_memo_t        *memo;
        statsig_exposure_memo_slot_t   *slot;
        statsig_exposure_opts_t         mo;
        char                            nm[2][16];
        size_t                          i, j, k, round, misses, n;

        memo = calloc(1, sizeof(statsig_exposure_memo_t));
        misses = 0;
        n = 0;

        for (i = 0; i < 40; i++) {
            for (j = i + 1; j < 40; j++) {
                snprintf(nm[0], sizeof(nm[0]), "gate_%zu", i);
                snprintf(nm[1], sizeof(nm[1]), "gate_%zu", j);
                memset(memo, 0, sizeof(statsig_exposure_memo_t));

                for (round = 0; round < 3; round++) {
                    for (k = 0; k < 2; k++) {
                        mo = o;
                        mo.memo = memo;
                        mo.dedupe_key = &key;
                        slot = NULL;
                        mo.memo_pass = &slot;

                        (void) statsig_exposure_gate(NULL, &mo, nm[k],
                                                     strlen(nm[k]), &r);

                        if (round > 0) {
                            misses += slot == NULL || slot->head_len == 0;
                            n++;
                        }

                        mo.dedupe_key = NULL;
                        b.len = 0;
                        (void) statsig_exposure_gate(&b, &mo, nm[k],
                                                     strlen(nm[k]), &r);
                    }
                }
            }
        }

        ok(misses == 0 && n == 780 * 4, "two entities of a memo set both "
           "kept: %zu of %zu exposures missed", misses, n);

        free(memo);
    }

    /*
     * Tails written through the memo's numbers (the same time, a time a
     * little later: its digits by a decimal add) equal those converted
     */
    {
        static const double  times[] = {
            1000, 1000, 1001, 1009, 1010, 1099, 1100, 1100, 999, 9999, 10000,
            10001, 19999, 20000, 1796600533865.0, 1796600533866.0,
            1796600533899.0, 1796600533900.0, 1796600539999.0,
            1796600540000.0, 1796600540000.0 + 4294967295.0,
            1796600540000.0 + 4294967295.0 + 4294967296.0, 1.5, 2, 0, 1,
            -3, -2, 9007199254740991.0, 9007199254740992.0,
            9007199254740990.0, 9007199254740991.0, 1e21, 1e21 + 131072,
            5e-324, 99999999, 100000000, 99999998, 99999999, 100000001
        };

        statsig_exposure_memo_t  *memo;
        statsig_exposure_opts_t   mo;
        statsig_buf_t             want, got;
        size_t                    i, bad, from_memo;
        double                    t;

        memo = calloc(1, sizeof(statsig_exposure_memo_t));
        statsig_buf_init(&want);
        statsig_buf_init(&got);
        bad = 0;
        from_memo = 0;

        for (i = 0; i < 2000; i++) {
            t = i < sizeof(times) / sizeof(times[0])
                ? times[i]
                : 1796600533865.0 + (double) (i * i % 7919);

            mo = o;
            mo.dedupe_key = NULL;
            mo.time = t;
            mo.server_time = t;
            mo.config_sync_time = times[i % 12];
            mo.init_time = mo.config_sync_time;

            want.len = 0;
            mo.memo = NULL;
            statsig_exposure_tail(&want, &mo);

            from_memo += memo->time.len > 0 && t > memo->time.value
                         && t - memo->time.value < 100;
            got.len = 0;
            mo.memo = memo;
            statsig_exposure_tail(&got, &mo);

            if (got.len != want.len
                || memcmp(got.data, want.data, want.len) != 0)
            {
                if (bad++ == 0) {
                    fprintf(stderr, "# tail of time %.17g: %s\n", t,
                            text(&got));
                }
            }
        }

        is_int((int) bad, 0, "tails through the memo's numbers equal those "
               "converted");
        ok(from_memo > 10, "%zu times a little past the last one",
           from_memo);

        free(memo);
        statsig_buf_free(&want);
        statsig_buf_free(&got);
    }

    /*
     * a user's string fields written as pairs at once, checked after each
     * run of them: the same as statsig_buf_json_str writes each key and
     * value, for keys and values of every length to 40 with nothing, '"',
     * '\\', a control byte, UTF-8 or an invalid byte at each place of the
     * key, the value or both (a quote counted twice or missed where the
     * 16-byte steps overlap, or the count one off),
     * into a buffer with room and a fresh one; the varied pair in a run
     * with userID, alone after a number (runs of under 16 bytes too), with
     * a pair after it, and alone (a run with no comma first)
     */
    {
        static const char  *mid[] = { "", "\"", "\\", "\x01", "\xc3\xa9",
                                      "\x7f" };
        statsig_buf_t       json, want, fresh;
        statsig_value_t     u2;
        const statsig_value_t  *saved;
        char                str[64], kstr[64];
        size_t              n, c, at, bad, sl, kl, nmid, which;
        int                 pass, shape;
        const char         *md;

        statsig_buf_init(&json);
        statsig_buf_init(&want);
        bad = 0;
        saved = ctx.user;
        nmid = sizeof(mid) / sizeof(mid[0]);

        for (n = 0; n <= 40; n++) {
            /* each middle at each place of the key, the value or both,
             * in each shape */
            for (c = 0; c < 12 * nmid * (n + 1); c++) {
                at = c / (12 * nmid);
                which = c / (4 * nmid) % 3;
                shape = (int) (c / nmid % 4);
                md = mid[c % nmid];
                memset(str, 'v', n);
                sl = n;
                if (which != 1) {
                    memcpy(str + at, md, strlen(md));
                    sl = at + strlen(md) > n ? at + strlen(md) : n;
                }
                str[sl] = '\0';
                memset(kstr, 'k', n + 1);
                kl = n + 1;
                if (which != 2) {
                    memcpy(kstr + at, md, strlen(md));
                    kl = at + strlen(md) > kl ? at + strlen(md) : kl;
                }
                kstr[kl] = '\0';

                /*
                 * {"userID":S,K:S,"n":1,"e":""}, {"n":1,K:S},
                 * {"n":1,K:S,"e":""} or {K:S}, and the fields as expected
                 */
                json.len = 0;
                want.len = 0;

                if (shape == 0) {
                    statsig_buf_adds(&json, "{\"userID\":");
                    statsig_buf_json_str(&json, str, sl);
                    statsig_buf_addc(&json, ',');

                } else if (shape == 3) {
                    statsig_buf_addc(&json, '{');

                } else {
                    statsig_buf_adds(&json, "{\"n\":1,");
                }

                statsig_buf_json_str(&json, kstr, kl);
                statsig_buf_addc(&json, ':');
                statsig_buf_json_str(&json, str, sl);

                if (shape == 0) {
                    statsig_buf_adds(&json, ",\"n\":1,\"e\":\"\"");

                } else if (shape == 2) {
                    statsig_buf_adds(&json, ",\"e\":\"\"");
                }

                /* the fields come out as they went in, then the SDK's */
                statsig_buf_add(&want, json.data, json.len);
                statsig_buf_addc(&json, '}');

                statsig_buf_adds(&want, ",\"statsigEnvironment\":"
                                 "{\"tier\":\"dev\"},"
                                 "\"privateAttributes\":null}");

                if (statsig_value_from_json(&a, json.data, json.len, &u2,
                                            err, sizeof(err)) != 0)
                {
                    bad++;
                    continue;
                }

                /*
                 * "\x7f" stands for an invalid byte, "\xff", put in the
                 * parsed user (JSON would not carry it): U+FFFD expected
                 */
                if (md[0] == '\x7f') {
                    size_t  f, x;

                    for (f = 0; f < u2.n; f++) {
                        for (x = 0; x < u2.key_lens[f]; x++) {
                            if (u2.keys[f][x] == '\x7f') {
                                ((char *) u2.keys[f])[x] = '\xff';
                            }
                        }

                        for (x = 0; u2.items[f].type == STATSIG_V_STRING
                                    && x < u2.items[f].len; x++)
                        {
                            if (u2.items[f].str[x] == '\x7f') {
                                ((char *) u2.items[f].str)[x] = '\xff';
                            }
                        }
                    }

                    fresh.len = 0;
                    statsig_buf_init(&fresh);

                    for (x = 0; x < want.len; x++) {
                        if (want.data[x] == '\x7f') {
                            statsig_buf_adds(&fresh, "\xef\xbf\xbd");

                        } else {
                            statsig_buf_addc(&fresh, want.data[x]);
                        }
                    }

                    want.len = 0;
                    statsig_buf_add(&want, fresh.data, fresh.len);
                    statsig_buf_free(&fresh);
                }

                ctx.user = &u2;

                for (pass = 0; pass < 2; pass++) {
                    statsig_buf_init(&fresh);
                    if (pass == 1) {
                        b.len = 0;
                    }

                    statsig_exposure_user(pass ? &b : &fresh, &ctx,
                                          STATSIG_USER_EVENT);

                    if ((pass ? &b : &fresh)->len != want.len
                        || memcmp((pass ? &b : &fresh)->data, want.data,
                                  want.len) != 0)
                    {
                        if (bad++ == 0) {
                            fprintf(stderr, "# user of %zu, %zu: %s\n", n, c,
                                    text(pass ? &b : &fresh));
                        }
                    }

                    statsig_buf_free(&fresh);
                }
            }
        }

        ctx.user = saved;
        is_int((int) bad, 0, "user string fields of each length and byte "
               "class written as statsig_buf_json_str writes them");

        statsig_buf_free(&json);
        statsig_buf_free(&want);
    }

    b.len = 0;
    v.type = STATSIG_EVENT_VALUE_NUMBER;
    v.num = 1.5;
    mk.data = "k";
    mk.len = 1;
    mv.data = "v";
    mv.len = 1;
    is_int(statsig_event_custom(&b, &o, "buy", 3, &v, &mk, &mv, 1), 1,
           "custom event");
    ok(strstr(text(&b), "\"eventName\":\"buy\",\"metadata\":{\"k\":\"v\"},"
              "\"time\":5,") != NULL
       && strstr(text(&b), "\"value\":1.5,\"secondaryExposures\":[],"
                 "\"statsigMetadata\":{}}") != NULL,
       "custom event fields");

    statsig_runtime_free(ctx.rt);
    free(blob);
    statsig_buf_free(&b);
    statsig_buf_free(&key);

    return done_testing();
}
