/*
 * src/core/pack: gzip members assembled from packs and literal blocks, as
 * the event flusher builds them, must inflate (zlib, gzip mode: CRC and
 * size checked) to exactly the bytes that went in.  Event batches, seeded
 * random records and their mutations, distances beyond deflate's window,
 * empty records, reuse after reset; and a bound on the size of events.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bytes.h"
#include "inflate_check.h"
#include "pack.h"
#include "pack_test.h"
#include "tap.h"

#define RNG_SEED  0x243F6A8885A308D3ULL
#include "rng.h"


/* ---- a gzip member: header, literals, packs, literals, trailer ---- */

static void
add_literals(bytes_t *gz, const void *data, size_t len, int final)
{
    size_t  bound, n;

    bound = statsig_deflate_literals_bound(len);
    bytes_add(gz, NULL, bound);
    gz->len -= bound;

    n = statsig_deflate_literals((unsigned char *) gz->data + gz->len, data,
                                 len, final);
    if (n > bound) {
        printf("# literals: %zu bytes written, bound %zu\n", n, bound);
        abort();
    }

    gz->len += n;
}


/* the packs one by one, as statsig_gzip_packs() takes them */
typedef struct {
    statsig_pack_t  **packs;
    size_t            n;
    size_t            next;
} pack_list_t;


static int
next_pack(void *data, statsig_gzip_piece_t *piece)
{
    pack_list_t     *l = data;
    statsig_pack_t  *p;

    if (l->next == l->n) {
        return 0;
    }

    p = l->packs[l->next++];

    piece->data = p->out;
    piece->len = p->out_len;
    piece->crc = p->crc;
    piece->raw = p->raw_len;

    return 1;
}


/*
 * prefix, the packs joined by mid, suffix: the member as the flusher
 * writes it (statsig_gzip_packs, into exactly its bound) and the bytes it
 * must inflate to.  0 if it was refused.
 */
static int
assemble(bytes_t *gz, bytes_t *want, const char *prefix,
    statsig_pack_t **packs, size_t npacks, const char *mid,
    const char *suffix)
{
    statsig_gzip_t  g;
    pack_list_t     l;
    size_t          i, len, bound;

    g.prefix = prefix;
    g.prefix_len = strlen(prefix);
    g.joiner = mid;
    g.joiner_len = strlen(mid);
    g.suffix = suffix;
    g.suffix_len = strlen(suffix);
    g.next = next_pack;
    g.data = &l;

    l.packs = packs;
    l.n = npacks;
    l.next = 0;

    for (len = 0, i = 0; i < npacks; i++) {
        len += packs[i]->out_len;
    }

    bound = statsig_gzip_packs_bound(&g, npacks, len);

    gz->len = 0;
    bytes_add(gz, NULL, bound);
    gz->len = statsig_gzip_packs(&g, (unsigned char *) gz->data, bound);

    want->len = 0;
    bytes_adds(want, prefix);

    for (i = 0; i < npacks; i++) {
        if (i > 0) {
            bytes_adds(want, mid);
        }

        bytes_add(want, packs[i]->raw, packs[i]->raw_len);
    }

    bytes_adds(want, suffix);

    return gz->len != 0;
}


/* 1 if the member gz inflates to want exactly; why says how not */
static int
member_is(const bytes_t *gz, const bytes_t *want)
{
    return inflates_to(gz->data, gz->len, 1, want->data, want->len, why,
                       sizeof(why));
}


static bytes_t  gz, want;


/* packs (finished here) between the batch's prefix and suffix */
static int
round_trip(statsig_pack_t **packs, size_t npacks)
{
    size_t  i;

    for (i = 0; i < npacks; i++) {
        if (statsig_pack_finish(packs[i]) != 0) {
            snprintf(why, sizeof(why), "finish failed");
            return 0;
        }

        /* 9 bits a byte at most, and a dynamic block's header */
        if (packs[i]->out_len > packs[i]->raw_len + packs[i]->raw_len / 8
                                + STATSIG_PACK_HEAD_MAX + 16)
        {
            snprintf(why, sizeof(why), "pack %zu: %zu bytes for %zu", i,
                     packs[i]->out_len, packs[i]->raw_len);
            return 0;
        }

        if (packs[i]->crc != crc32(0, packs[i]->raw,
                                   (uInt) packs[i]->raw_len))
        {
            snprintf(why, sizeof(why), "pack %zu: CRC", i);
            return 0;
        }
    }

    if (!assemble(&gz, &want, "{\"statsigMetadata\":{},\"events\":[",
                  packs, npacks, ",", "]}"))
    {
        snprintf(why, sizeof(why), "the member passed its bound");
        return 0;
    }

    return member_is(&gz, &want);
}


/* ---- records ---- */

/* n events of fresh users, three gates each, time creeping on */
static void
add_events(statsig_pack_t *p, int first_user, int n, int per_user)
{
    char       rec[512], uid[32];
    long long  t = 1795425245151LL;
    int        i;

    for (i = 0; i < n; i++) {
        snprintf(uid, sizeof(uid), "u%d-%d", (first_user + i / per_user) % 3,
                 first_user + i / per_user);
        t += rnd_below(3) == 0;
        if (statsig_pack_add(p, ",", p->raw_len ? 1 : 0, rec,
                             exposure(rec, sizeof(rec),
                                      (i + i / per_user) % 3, uid, t))
            != 0)
        {
            abort();
        }
    }
}


static const char  *words[] = {
    "eventName", "user", "userID", "metadata", "time", "value", "gate",
    "statsig::gate_exposure", "custom", "ip", "null", "true", "false",
    "ruleID", "reason", "Network", "secondaryExposures", "\\u00e9", "\\\"",
    "\xc3\xa9t\xc3\xa9", "", "a", "{}", "[]"
};

#define NWORDS  (sizeof(words) / sizeof(words[0]))


/* JSON-ish text: objects, arrays, strings from the vocabulary, numbers */
static void
json_value(bytes_t *b, int depth, size_t max)
{
    char      num[32];
    uint32_t  i, n;

    if (b->len >= max) {
        bytes_adds(b, "0");
        return;
    }

    switch (depth > 4 ? rnd_below(3) : rnd_below(5)) {
    case 0:
        snprintf(num, sizeof(num), "%u", rnd() >> rnd_below(32));
        bytes_adds(b, num);
        break;

    case 1:
    case 2:
        bytes_adds(b, "\"");
        bytes_adds(b, words[rnd_below(NWORDS)]);
        if (rnd_below(2)) {
            snprintf(num, sizeof(num), "-%u", rnd_below(100000));
            bytes_adds(b, num);
        }
        bytes_adds(b, "\"");
        break;

    case 3:
        n = rnd_below(8);
        bytes_adds(b, "{");
        for (i = 0; i < n; i++) {
            bytes_adds(b, i ? ",\"" : "\"");
            bytes_adds(b, words[rnd_below(NWORDS)]);
            bytes_adds(b, "\":");
            json_value(b, depth + 1, max);
        }
        bytes_adds(b, "}");
        break;

    default:
        n = rnd_below(8);
        bytes_adds(b, "[");
        for (i = 0; i < n; i++) {
            if (i) {
                bytes_adds(b, ",");
            }
            json_value(b, depth + 1, max);
        }
        bytes_adds(b, "]");
    }
}


/* mostly short, some beyond 32 KB, a few near 70 KB */
static size_t
random_length(void)
{
    uint32_t  r = rnd_below(100);

    if (r < 70) {
        return rnd_below(600);
    }

    if (r < 90) {
        return 600 + rnd_below(4400);
    }

    if (r < 98) {
        return 5000 + rnd_below(35000);
    }

    return 40000 + rnd_below(30001);
}


/* substitutions, insertions and deletions in a copy of prev */
static void
mutate(bytes_t *b, const bytes_t *prev)
{
    unsigned char  junk[64];
    size_t         at, n, k;
    uint32_t       edits, e, i;

    b->len = 0;
    bytes_add(b, prev->data, prev->len);

    edits = 1 + rnd_below(6);
    for (e = 0; e < edits; e++) {
        at = b->len ? rnd_below((uint32_t) b->len + 1) : 0;
        n = 1 + rnd_below(rnd_below(4) ? 8 : 64);

        for (i = 0; i < n; i++) {
            junk[i] = rnd_below(2) ? (unsigned char) "0123456789\",:{}[]"
                                     [rnd_below(17)]
                                   : (unsigned char) rnd();
        }

        switch (rnd_below(3)) {
        case 0:     /* substitute */
            for (k = 0; k < n && at + k < b->len; k++) {
                b->data[at + k] = junk[k];
            }
            break;

        case 1:     /* insert */
            bytes_add(b, junk, n);
            memmove(b->data + at + n, b->data + at, b->len - n - at);
            memcpy(b->data + at, junk, n);
            break;

        default:    /* delete */
            n = at + n > b->len ? b->len - at : n;
            memmove(b->data + at, b->data + at + n, b->len - at - n);
            b->len -= n;
        }
    }
}


/* a record of some kind: JSON-ish, bytes, a mutation of prev, empty */
static void
random_record(bytes_t *b, const bytes_t *prev)
{
    size_t    len, i;
    uint32_t  kind = rnd_below(10);

    b->len = 0;

    if (kind < 4 && prev->len) {
        mutate(b, prev);

    } else if (kind < 7) {
        len = random_length();
        while (b->len < len) {
            json_value(b, 0, len);
        }

    } else if (kind < 9) {
        len = random_length();
        bytes_add(b, NULL, len);
        for (i = 0; i < len; i++) {
            b->data[i] = (unsigned char) (rnd_below(4) ? rnd() : '"');
        }

    } else if (rnd_below(2)) {
        /* left empty */

    } else {
        bytes_add(b, prev->data, prev->len);      /* the same again */
    }
}


/* ---- tests ---- */

static void
test_literals(void)
{
    unsigned char  all[256], piece[16];
    bytes_t        z = { NULL, 0, 0 }, w = { NULL, 0, 0 };
    size_t         len, n;
    int            i, bad;

    for (i = 0; i < 256; i++) {
        all[i] = (unsigned char) (255 - i);
    }

    /* a whole gzip member of one final literal block */
    statsig_gzip_header(piece);
    bytes_add(&z, piece, STATSIG_GZIP_HEADER_LEN);
    ok(memcmp(piece, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10)
       == 0, "gzip header: deflate, no name, no time, OS unknown");

    add_literals(&z, all, sizeof(all), 1);
    statsig_gzip_trailer(piece, 0x12345678, 0x100000000ULL + sizeof(all));
    ok(memcmp(piece, "\x78\x56\x34\x12\x00\x01\x00\x00", 8) == 0,
       "gzip trailer: CRC, size modulo 2^32, little-endian");
    statsig_gzip_trailer(piece, (uint32_t) crc32(0, all, sizeof(all)),
                         sizeof(all));
    bytes_add(&z, piece, STATSIG_GZIP_TRAILER_LEN);
    bytes_add(&w, all, sizeof(all));
    ok_why(member_is(&z, &w),
       "one final literal block of every byte value");

    /* the bound holds for every length, final or not */
    bad = 0;
    for (len = 0; len <= 2000 && !bad; len++) {
        unsigned char  buf[2400], in[2000];

        memset(in, len % 2 ? 0xff : 0x00, len);
        n = statsig_deflate_literals(buf, in, len, (int) (len % 2));
        bad = n > statsig_deflate_literals_bound(len);
    }

    ok(!bad, "literal blocks stay within their bound (0 .. 2000 bytes)");

    /* an empty literal block that is not final ends on a byte */
    n = statsig_deflate_literals(piece, "", 0, 0);
    is_int(n, 6, "an empty literal block: 10 bits, then 00 00 ff ff");

    free(z.data);
    free(w.data);
}


static int
next_fails(void *data, statsig_gzip_piece_t *piece)
{
    return -1;
}


/* the member around the packs: its pieces, its room, a failing next() */
static void
test_member(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    statsig_gzip_t   g;
    pack_list_t      l;
    unsigned char   *tight;
    size_t           len;

    statsig_pack_reset(a);
    statsig_pack_reset(b);
    add_events(a, 1, 40, 2);
    add_events(b, 50, 40, 2);
    statsig_pack_finish(a);
    statsig_pack_finish(b);

    ok_why(assemble(&gz, &want, "[", packs, 0, ",", "]")
           && member_is(&gz, &want),
           "no packs: the envelope alone");
    ok_why(assemble(&gz, &want, "", packs, 2, "", "")
           && member_is(&gz, &want),
           "no envelope, no joiner: the packs alone");
    ok_why(assemble(&gz, &want, "{\"e\":[", packs, 2, ",\n  ", "\n]}")
           && member_is(&gz, &want),
           "a joiner of several bytes");

    /* the same with no buffers at all: a NULL crc32() would reset */
    g.prefix = NULL;
    g.prefix_len = 0;
    g.joiner = NULL;
    g.joiner_len = 0;
    g.suffix = NULL;
    g.suffix_len = 0;
    g.next = next_pack;
    g.data = &l;

    l.packs = packs;
    l.n = 2;
    l.next = 0;

    len = statsig_gzip_packs_bound(&g, 2, a->out_len + b->out_len);
    gz.len = 0;
    bytes_add(&gz, NULL, len);
    gz.len = statsig_gzip_packs(&g, (unsigned char *) gz.data, len);
    want.len = 0;
    bytes_add(&want, a->raw, a->raw_len);
    bytes_add(&want, b->raw, b->raw_len);
    ok_why(gz.len && member_is(&gz, &want),
           "NULL prefix, joiner and suffix");

    /* a byte short of the member: refused, nothing written past it */
    ok(assemble(&gz, &want, "[", packs, 2, ",", "]"), "a member");
    len = gz.len - 1;
    tight = malloc(len);
    if (tight == NULL) {
        abort();
    }

    g.prefix = "[";
    g.prefix_len = 1;
    g.joiner = ",";
    g.joiner_len = 1;
    g.suffix = "]";
    g.suffix_len = 1;
    l.next = 0;
    is_int(statsig_gzip_packs(&g, tight, len), 0,
           "one byte short of it: refused");
    is_int(statsig_gzip_packs(&g, tight, 5), 0, "no room for the header");

    g.next = next_fails;
    is_int(statsig_gzip_packs(&g, tight, len), 0, "a failing next()");
    free(tight);
}


static void
test_batch(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    size_t           per_event;

    statsig_pack_reset(a);
    statsig_pack_reset(b);
    add_events(a, 100, 1000, 1);
    statsig_pack_finish(a);

    /* fresh users: every user id is new, only the layout repeats */
    per_event = a->out_len / 1000;
    ok(per_event < 20, "1000 events of fresh users: %.1f bytes each "
       "(%zu for %zu)", a->out_len / 1000.0, a->out_len, a->raw_len);
    ok_why(round_trip(packs, 1), "them in a gzip member");

    /* users with three exposures each, split in two packs */
    statsig_pack_reset(a);
    add_events(a, 7, 600, 3);
    add_events(b, 900, 400, 3);
    ok_why(round_trip(packs, 2), "1000 events in two packs");
    ok(a->out_len + b->out_len < 20 * 1000, "%zu bytes for 1000 events",
       a->out_len + b->out_len);
}


static void
test_small(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    unsigned char   *raw;
    char             rec[512];
    size_t           raw_cap, n;

    /* nothing added */
    statsig_pack_reset(a);
    statsig_pack_reset(b);
    ok(statsig_pack_finish(a) == 0 && a->out_len == 0,
       "an empty pack finishes as nothing");
    ok_why(round_trip(packs, 2), "an empty pack beside another");

    /* only empty records and separators */
    statsig_pack_reset(a);
    statsig_pack_reset(b);
    statsig_pack_add(a, "", 0, "", 0);
    statsig_pack_add(a, NULL, 0, NULL, 0);
    ok(statsig_pack_finish(a) == 0 && a->out_len == 0 && a->records == 2,
       "empty records: no bytes");
    statsig_pack_add(b, ",", 1, "", 0);
    statsig_pack_add(b, "", 0, "", 0);
    statsig_pack_add(b, ",", 1, "x", 1);
    statsig_pack_add(b, ",,", 2, "", 0);
    ok_why(round_trip(packs, 2), "empty records between separators");

    /* one record */
    statsig_pack_reset(a);
    statsig_pack_reset(b);
    n = exposure(rec, sizeof(rec), 1, "u1-1", 1700000000000LL);
    statsig_pack_add(a, "", 0, rec, n);
    ok_why(round_trip(packs, 1), "a pack of one record");
    ok(a->out_len > n, "the first record is literals (%zu bytes for %zu)",
       a->out_len, n);

    /* the same record twice: the second costs a few bytes */
    statsig_pack_reset(a);
    statsig_pack_add(a, "", 0, rec, n);
    statsig_pack_finish(a);
    raw_cap = a->out_len;
    statsig_pack_reset(a);
    statsig_pack_add(a, "", 0, rec, n);
    statsig_pack_add(a, ",", 1, rec, n);
    ok_why(round_trip(packs, 1), "a record twice");
    ok(a->out_len < raw_cap + 8, "a repeated record: %zu bytes",
       a->out_len - raw_cap);

    /* nothing after finish, until reset; the memory is kept */
    ok(statsig_pack_add(a, ",", 1, rec, n) == -1 && !a->failed,
       "no adding after finish");
    raw = a->raw;
    raw_cap = a->raw_cap;
    statsig_pack_reset(a);
    ok(a->raw == raw && a->raw_cap == raw_cap && a->raw_len == 0
       && a->out_len == 0 && a->records == 0 && a->crc == 0,
       "reset keeps the buffers, forgets the content");
    ok(statsig_pack_add(a, "", 0, rec, n) == 0, "adding after reset");
    ok_why(round_trip(packs, 1), "a pack after reset");
}


/*
 * References further back than deflate's 32 KB: a record like one 40 KB
 * before, and a record whose insertion carries the reference beyond the
 * window part-way through.
 */
static void
test_window(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    bytes_t          r = { NULL, 0, 0 };
    char             rec[512];
    size_t           n, i;
    static const char  tail[] =
        "\",\"z\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}";

    statsig_pack_reset(a);
    statsig_pack_reset(b);

    n = exposure(rec, sizeof(rec), 0, "far-away", 1700000000000LL);
    statsig_pack_add(a, "", 0, rec, n);

    /* 40 KB of records of another shape */
    for (i = 0; i < 40; i++) {
        r.len = 0;
        bytes_add(&r, NULL, 1000);
        memset(r.data, 'a' + (int) i % 26, 1000);
        r.data[0] = '[';
        statsig_pack_add(a, ",", 1, r.data, r.len);
    }

    statsig_pack_add(a, ",", 1, rec, n);
    ok_why(round_trip(packs, 1), "a record like one 40 KB before");

    /*
     * {"k":"aaa…","z":"bbb…"}, then the same with 15,000 bytes inserted
     * before the second quote: after them, "," z … is 35 KB back
     */
    statsig_pack_reset(a);
    r.len = 0;
    bytes_adds(&r, "{\"k\":\"");
    for (i = 0; i < 20000; i++) {
        bytes_adds(&r, "a");
    }
    bytes_adds(&r, tail);
    statsig_pack_add(a, "", 0, r.data, r.len);

    r.len -= strlen(tail);
    for (i = 0; i < 15000; i++) {
        bytes_adds(&r, "c");
    }
    bytes_adds(&r, tail);
    statsig_pack_add(a, ",", 1, r.data, r.len);
    statsig_pack_add(a, ",", 1, r.data, r.len);
    ok_why(round_trip(packs, 1), "a reference carried past 32 KB");

    /* a 100 KB record twice: its second half is out of reach */
    statsig_pack_reset(a);
    r.len = 0;
    for (i = 0; i < 100000; i++) {
        bytes_add(&r, &"{\"a\":1,\"b\":[2,3]}"[rnd_below(17)], 1);
    }
    statsig_pack_add(a, "", 0, r.data, r.len);
    statsig_pack_add(a, ",", 1, r.data, r.len);
    ok_why(round_trip(packs, 1), "a 100 KB record twice");

    free(r.data);
}


/* seeded random records in packs of 1 .. 60 records, reusing two packs */
static void
test_random(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    bytes_t          rec = { NULL, 0, 0 }, prev = { NULL, 0, 0 }, t;
    size_t           total, records, grown, dynamic, fallback;
    unsigned         head;
    int              round, i, n, bad;
    static const char  *seps[] = { ",", "", "\n", ",\n  " };

    bad = 0;
    total = 0;
    records = 0;
    grown = 0;
    dynamic = 0;
    fallback = 0;

    for (round = 0; round < 120 && !bad; round++) {
        statsig_pack_reset(a);
        statsig_pack_reset(b);

        for (i = 0; i < 2; i++) {
            n = (int) rnd_below(rnd_below(4) ? 20 : 60);
            head = packs[i]->head_bits;

            while (n-- > 0) {
                random_record(&rec, &prev);
                if (statsig_pack_add(packs[i],
                                     seps[rnd_below(4)],
                                     packs[i]->raw_len ? rnd_below(4) : 0,
                                     rec.data, rec.len) != 0)
                {
                    abort();
                }

                t = prev;
                prev = rec;
                rec = t;
                records++;
            }

            /* codes from the pack before, given up for a fixed block */
            dynamic += head && packs[i]->raw_len;
            fallback += head && packs[i]->head_bits == 0;
        }

        total += a->raw_len + b->raw_len;
        if (a->raw_cap > grown) {
            grown = a->raw_cap;
        }

        if (!round_trip(packs, 2)) {
            bad = 1;
            printf("# round %d: %s\n", round, why);
        }
    }

    ok(!bad, "%zu random records (%zu bytes) in 120 gzip members", records,
       total);
    ok(dynamic > 20 && fallback > 5, "%zu packs in dynamic blocks, %zu of "
       "them ended in a fixed one", dynamic, fallback);
    ok(grown >= 65536, "packs grew to %zu bytes", grown);

    free(rec.data);
    free(prev.data);
}


/*
 * Codes from the counts of a pack for the next: events after events in
 * a dynamic block, smaller; bytes those codes make long go into a fixed
 * block instead, within 9 bits a byte.
 */
static void
test_adaptive(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    unsigned char    junk[3000];
    size_t           first, i;

    statsig_pack_free(a);
    statsig_pack_init(a);
    ok(a->head_bits == 0, "a new pack writes a fixed block");

    add_events(a, 5000, 1000, 2);
    ok_why(round_trip(packs, 1), "1000 events in a fixed block");
    first = a->out_len;
    ok(a->head_bits > 0, "then codes for the next pack: %u bits of header",
       a->head_bits);

    statsig_pack_reset(a);
    add_events(a, 6000, 1000, 2);
    ok_why(round_trip(packs, 1), "1000 events in a dynamic block");
    ok(a->out_len < first * 85 / 100, "%zu bytes, %zu in the fixed block",
       a->out_len, first);
    ok(a->out_len < 12 * 1000, "%.1f bytes an event", a->out_len / 1000.0);

    /* bytes the event codes make long: 15 bits, where fixed takes 9 */
    statsig_pack_reset(a);
    add_events(a, 7000, 10, 2);
    ok(a->head_bits > 0, "events in a dynamic block again");

    for (i = 0; i < sizeof(junk); i++) {
        junk[i] = (unsigned char) (0xf0 + rnd_below(16));
    }

    statsig_pack_add(a, ",", 1, junk, sizeof(junk));
    ok(a->head_bits == 0, "bytes above 0xf0: the rest in a fixed block");
    add_events(a, 8000, 10, 2);
    ok_why(round_trip(packs, 1), "a pack of two blocks");

    /* a pack too small to go by keeps the codes it had */
    statsig_pack_reset(a);
    add_events(a, 9000, 1000, 2);
    statsig_pack_finish(a);
    first = a->head_bits;
    statsig_pack_reset(a);
    add_events(a, 9000, 3, 1);
    statsig_pack_finish(a);
    ok(a->head_bits == first, "a pack of 3 events leaves the codes");
}


/* symbols a pack wrote: literals and matches (their pieces) */
static void
symbols(const statsig_pack_t *p, size_t *lits, size_t *matches)
{
    size_t  i;

    *lits = 0;
    *matches = 0;

    for (i = 0; i < 286; i++) {
        if (i < 256) {
            *lits += p->lit_freq[i];

        } else if (i > 256) {
            *matches += p->lit_freq[i];
        }
    }
}


/*
 * Requests of 3 exposures for a new user each: the second and third
 * refer to the same gate a request before for their head, and to the
 * exposure before them (end-aligned) for the user and time they share
 * with it: no literal, a match or two each, not one a changed field.
 * A tail of another length, or another time, is found by resyncs.
 */
static void
test_shared_tail(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    char             rec[512], uid[32];
    size_t           n, l0, m0, l1, m1, lits, matches;
    long long        t;
    int              i, g;

    statsig_pack_free(a);
    statsig_pack_init(a);

    t = 1795425245151LL;
    lits = 0;
    matches = 0;

    for (i = 0; i < 200; i++) {
        snprintf(uid, sizeof(uid), "bench-%d-%d", 1234567 + i, i * 7);
        t += 3 + rnd_below(5);

        for (g = 0; g < 3; g++) {
            n = exposure(rec, sizeof(rec), g, uid, t);
            symbols(a, &l0, &m0);
            statsig_pack_add(a, ",", a->raw_len ? 1 : 0, rec, n);
            symbols(a, &l1, &m1);

            if (i > 0 && g > 0) {
                lits += l1 - l0;
                matches += m1 - m0;
            }
        }
    }

    ok(lits == 0, "exposures 2 and 3 of a request: %zu literals", lits);
    ok(matches <= 199 * 2 * 3, "%zu matches (pieces) in %d exposures",
       matches, 199 * 2);
    ok_why(round_trip(packs, 1), "200 requests of 3 exposures");

    /* the same with a longer tail in one of three: end-aligned misses */
    statsig_pack_reset(a);

    for (i = 0; i < 200; i++) {
        snprintf(uid, sizeof(uid), "u-%d", i);

        for (g = 0; g < 3; g++) {
            n = exposure(rec, sizeof(rec), g, uid, t + (g == 2));
            if (g == 1) {
                n--;
                memcpy(rec + n, ",\"x\":[1,2,3]}", 13);
                n += 13;
            }

            statsig_pack_add(a, ",", a->raw_len ? 1 : 0, rec, n);
        }
    }

    ok_why(round_trip(packs, 1), "tails of other lengths and times");
}


/* one pack of 8 MB: growth of raw and out well past their first size */
static void
test_large(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    bytes_t          rec = { NULL, 0, 0 }, prev = { NULL, 0, 0 }, t;

    statsig_pack_reset(a);

    while (a->raw_len < 8 * 1024 * 1024) {
        random_record(&rec, &prev);
        if (statsig_pack_add(a, ",", a->raw_len ? 1 : 0, rec.data, rec.len)
            != 0)
        {
            abort();
        }

        t = prev;
        prev = rec;
        rec = t;
    }

    ok_why(round_trip(packs, 1), "a pack of %zu bytes (%zu compressed)",
       a->raw_len, a->out_len);

    free(rec.data);
    free(prev.data);
}


/*
 * One match of each length 4 .. 300, longer than 258 in two pieces: each
 * piece counted under its length symbol (RFC 1951, 3.2.5: the next
 * pack's codes are built from these counts) and written with the pack's
 * codes, fixed or built from the pack before, so that it inflates.
 */
static void
test_match_lengths(statsig_pack_t *a, statsig_pack_t *b)
{
    static const unsigned  base[29] = {
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51,
        59, 67, 83, 99, 115, 131, 163, 195, 227, 258
    };

    statsig_pack_t  *packs[2] = { a, b };
    unsigned char    x[700], y[700];
    uint32_t         want[29], dist;
    size_t           len, left, l, i, s, bad_count, bad_trip, dynamic;

    statsig_pack_free(a);
    statsig_pack_init(a);

    bad_count = 0;
    bad_trip = 0;
    dynamic = 0;

    for (len = 4; len <= 300; len++) {
        statsig_pack_reset(a);
        dynamic += a->head_bits > 0;

        /* letters: no delimiter to resync on after the difference */
        for (i = 0; i < sizeof(x); i++) {
            x[i] = (unsigned char) ('a' + rnd_below(26));
            y[i] = (unsigned char) ('a' + rnd_below(26));
        }

        memcpy(y, x, len);
        y[len] = 'A';

        memset(want, 0, sizeof(want));
        for (left = len; left > 0; left -= l) {
            l = left > 258 ? 258 : left;
            if (left - l > 0 && left - l < 3) {
                l = left - 3;
            }

            for (s = 28; base[s] > l; s--) {
                /* void */
            }

            want[s]++;
        }

        if (statsig_pack_add(a, NULL, 0, x, sizeof(x)) != 0
            || statsig_pack_add(a, ",", 1, y, sizeof(y)) != 0)
        {
            abort();
        }

        dist = 0;
        for (s = 0; s < 30; s++) {
            dist += a->dist_freq[s];
        }

        for (s = 0; s < 29; s++) {
            if (a->lit_freq[257 + s] != want[s]) {
                break;
            }
        }

        if (s < 29 || dist != (len > 258 ? 2 : 1)) {
            if (bad_count++ == 0) {
                printf("# a match of %zu: symbol %zu counted %u, not %u; "
                       "%u distances\n", len, 257 + s,
                       s < 29 ? a->lit_freq[257 + s] : 0,
                       s < 29 ? want[s] : 0, dist);
            }
        }

        if (!round_trip(packs, 1)) {
            if (bad_trip++ == 0) {
                printf("# a match of %zu: %s\n", len, why);
            }
        }
    }

    ok(bad_count == 0, "matches of 4 to 300 bytes counted by length symbol");
    ok(bad_trip == 0, "and inflated");
    ok(dynamic > 0, "%zu of them with codes built from the pack before",
       dynamic);
}


/*
 * Codes built from a pack are kept for the next packs of the same kind
 * of events (building them costs more than they would save), and built
 * again from a pack they write worse: other events.
 */
static void
test_codes_kept(statsig_pack_t *a, statsig_pack_t *b)
{
    statsig_pack_t  *packs[2] = { a, b };
    unsigned char    head[STATSIG_PACK_HEAD_MAX];
    char             rec[64];
    unsigned         bits;
    int              i;

    statsig_pack_free(a);
    statsig_pack_init(a);

    add_events(a, 20000, 1000, 2);
    ok_why(round_trip(packs, 1), "1000 events");
    ok(a->head_bits > 0, "codes built from them");

    bits = a->head_bits;
    memcpy(head, a->head, sizeof(head));

    statsig_pack_reset(a);
    add_events(a, 21000, 1000, 2);
    ok_why(round_trip(packs, 1), "1000 more events with those codes");
    ok(a->head_bits == bits && memcmp(a->head, head, sizeof(head)) == 0,
       "the codes kept after a pack of the same events");

    /* numbers alone: the event codes make digits long */
    statsig_pack_reset(a);
    for (i = 0; i < 1000; i++) {
        snprintf(rec, sizeof(rec), "[%u,%u,%u]", rnd(), rnd(), rnd());
        if (statsig_pack_add(a, ",", i ? 1 : 0, rec, strlen(rec)) != 0) {
            abort();
        }
    }

    ok_why(round_trip(packs, 1), "1000 arrays of numbers with them");
    ok(a->head_bits == 0 || a->head_bits != bits
       || memcmp(a->head, head, sizeof(head)) != 0,
       "other codes after a pack of other records");
}


int
main(void)
{
    statsig_pack_t  a, b;

    statsig_pack_init(&a);
    statsig_pack_init(&b);

    test_literals();
    test_member(&a, &b);
    test_small(&a, &b);
    test_batch(&a, &b);
    test_window(&a, &b);
    test_random(&a, &b);
    test_adaptive(&a, &b);
    test_shared_tail(&a, &b);
    test_match_lengths(&a, &b);
    test_codes_kept(&a, &b);
    test_large(&a, &b);

    /* the same round trips with SSE2 and word compares, as without AVX2 */
    statsig_pack_wide(0);
    statsig_pack_free(&a);
    statsig_pack_free(&b);
    statsig_pack_init(&a);
    statsig_pack_init(&b);
    test_small(&a, &b);
    test_batch(&a, &b);
    test_window(&a, &b);
    test_random(&a, &b);
    test_shared_tail(&a, &b);
    test_match_lengths(&a, &b);
    test_large(&a, &b);
    statsig_pack_wide(1);

    statsig_pack_free(&a);
    statsig_pack_free(&b);
    free(gz.data);
    free(want.data);

    return done_testing();
}
