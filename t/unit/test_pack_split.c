/*
 * src/core/pack_split.c: a pack refused as too large, as two packs of
 * half its events.  Each half must inflate (zlib) to exactly its events,
 * the halves joined by "," to the pack's; corrupt packs must be refused,
 * never crash; the comma scan must find the glue's comma (its former loop,
 * in flusher_ref.h, is the reference) in event batches, tricky strings,
 * nesting and random bytes.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bytes.h"
#include "flusher_ref.h"
#include "inflate_check.h"
#include "pack.h"
#include "pack_test.h"
#include "tap.h"

#define RNG_SEED  0x13198A2E03707344ULL
#include "rng.h"


/* ---- events: each one a JSON value, joined by "," in a pack ---- */

typedef struct {
    bytes_t   text;         /* the events joined by "," */
    size_t   *end;          /* where each event ends in text */
    size_t    n;
    size_t    cap;
} events_t;


static void
events_reset(events_t *e)
{
    e->text.len = 0;
    e->n = 0;
}


static void
events_add(events_t *e, const void *ev, size_t len)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->end = realloc(e->end, e->cap * sizeof(size_t));
        if (e->end == NULL) {
            abort();
        }
    }

    if (e->n) {
        bytes_add(&e->text, ",", 1);
    }

    bytes_add(&e->text, ev, len);
    e->end[e->n++] = e->text.len;
}


static void
events_adds(events_t *e, const char *ev)
{
    events_add(e, ev, strlen(ev));
}


static void
events_free(events_t *e)
{
    free(e->text.data);
    free(e->end);
}


static void
add_exposures(events_t *e, int first_user, size_t n)
{
    char       rec[512], uid[32];
    long long  t = 1795425245151LL;
    size_t     i;

    for (i = 0; i < n; i++) {
        snprintf(uid, sizeof(uid), "u%d-%zu", first_user % 3,
                 first_user + i / 3);
        t += rnd_below(3) == 0;
        events_add(e, rec, exposure(rec, sizeof(rec), (int) (i % 4), uid, t));
    }
}


/* strings an event may hold: the scan's traps */
static const char  *traps[] = {
    ",", "{", "}", "[", "]", "\\\"", "\\\\", "\\\\\\\"", "\\\",\\\"",
    "a,b", "}{", "],[", "\\u002c", "\\n", "\xc3\xa9", "\xe2\x82\xac",
    "x\\\\", "{\\\"k\\\":[1,2]}", "", " , "
};

#define NTRAPS  (sizeof(traps) / sizeof(traps[0]))


/* a random JSON value: nesting, numbers, literals, strings with traps */
static void
json_value(bytes_t *b, int depth)
{
    static const char  *lits[] = { "true", "false", "null", "0", "-1.5e3" };
    char                num[32];
    uint32_t            i, n;

    switch (depth > 5 ? rnd_below(3) : rnd_below(6)) {
    case 0:
        snprintf(num, sizeof(num), "%u", rnd() >> rnd_below(32));
        bytes_adds(b, num);
        break;

    case 1:
        bytes_adds(b, lits[rnd_below(5)]);
        break;

    case 2:
    case 3:
        bytes_adds(b, "\"");
        for (n = rnd_below(5), i = 0; i < n; i++) {
            bytes_adds(b, traps[rnd_below(NTRAPS)]);
        }
        bytes_adds(b, "\"");
        break;

    case 4:
        bytes_adds(b, "{");
        for (n = rnd_below(6), i = 0; i < n; i++) {
            bytes_adds(b, i ? ",\"" : "\"");
            bytes_adds(b, traps[rnd_below(NTRAPS)]);
            bytes_adds(b, "\":");
            json_value(b, depth + 1);
        }
        bytes_adds(b, "}");
        break;

    default:
        bytes_adds(b, "[");
        for (n = rnd_below(6), i = 0; i < n; i++) {
            if (i) {
                bytes_adds(b, ",");
            }
            json_value(b, depth + 1);
        }
        bytes_adds(b, "]");
    }
}


/* custom events around random values, or a bare value now and then */
static void
add_random(events_t *e, size_t n)
{
    bytes_t  b = { NULL, 0, 0 };
    size_t   i;

    for (i = 0; i < n; i++) {
        b.len = 0;

        if (rnd_below(8) == 0) {
            json_value(&b, 0);

        } else {
            bytes_adds(&b, "{\"eventName\":\"custom\",\"value\":");
            json_value(&b, 1);
            bytes_adds(&b, ",\"metadata\":");
            json_value(&b, 1);
            bytes_adds(&b, ",\"time\":1795425245151}");
        }

        events_add(e, b.data, b.len);
    }

    free(b.data);
}


/* ---- packs ---- */

/* the events as a sink packs them, finished */
static void
pack_events(statsig_pack_t *p, const events_t *e)
{
    size_t  i, from;

    statsig_pack_reset(p);

    for (i = 0, from = 0; i < e->n; from = e->end[i++] + 1) {
        if (statsig_pack_add(p, ",", i ? 1 : 0, e->text.data + from,
                             e->end[i] - from) != 0)
        {
            abort();
        }
    }

    if (statsig_pack_finish(p) != 0 || p->raw_len != e->text.len) {
        abort();
    }
}


/* raw deflate of data with zlib, ending with Z_SYNC_FLUSH as a pack does */
static void
zlib_pack(bytes_t *out, const void *data, size_t len, int level)
{
    z_stream  zs;
    size_t    room;

    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, level, Z_DEFLATED, -MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
    {
        abort();
    }

    /* the bound is for Z_FINISH: room for the flush's empty block too */
    room = deflateBound(&zs, len) + 64;
    out->len = 0;
    bytes_add(out, NULL, room);

    zs.next_in = (Bytef *) data;
    zs.avail_in = (uInt) len;
    zs.next_out = (Bytef *) out->data;
    zs.avail_out = (uInt) room;

    if (deflate(&zs, Z_SYNC_FLUSH) != Z_OK || zs.avail_in != 0) {
        abort();
    }

    out->len = zs.total_out;
    deflateEnd(&zs);
}


/* one half against the events first .. last - 1 of e */
static int
half_is(const statsig_pack_half_t *h, const events_t *e, size_t first,
    size_t last, const char *name)
{
    const unsigned char  *want;
    char                  reason[192];
    size_t                from, len;

    from = first ? e->end[first - 1] + 1 : 0;
    want = (const unsigned char *) e->text.data + from;
    len = e->end[last - 1] - from;

    if (h->n != last - first) {
        snprintf(why, sizeof(why), "%s: %u events, want %zu", name, h->n,
                 last - first);
        return 0;
    }

    if (h->raw_len != len || h->crc != (uint32_t) crc32(0, want, len)) {
        snprintf(why, sizeof(why), "%s: raw_len %u crc %08x, want %zu %08x",
                 name, h->raw_len, h->crc, len,
                 (uint32_t) crc32(0, want, len));
        return 0;
    }

    if (!inflates_to(h->data, h->len, 0, want, len, reason,
                     sizeof(reason)))
    {
        snprintf(why, sizeof(why), "%s: does not inflate to its events: %s",
                 name, reason);
        return 0;
    }

    /* a pack ends on an empty stored block, as the next pack may follow */
    if (h->len && (h->len < 4
                   || memcmp(h->data + h->len - 4, "\0\0\xff\xff", 4) != 0))
    {
        snprintf(why, sizeof(why), "%s: no empty stored block at the end",
                 name);
        return 0;
    }

    return 1;
}


/* splits the pack of e and checks both halves */
static int
split_checks(statsig_pack_split_t *s, const void *data, size_t len,
    const events_t *e)
{
    int  rc;

    rc = statsig_pack_split(s, data, len, (uint32_t) e->n,
                            (uint32_t) e->text.len,
                            (uint32_t) crc32(0, (const Bytef *) e->text.data,
                                             e->text.len));

    if (rc != STATSIG_PACK_SPLIT_OK) {
        snprintf(why, sizeof(why), "%zu events: %s", e->n,
                 statsig_pack_split_error(rc));
        return 0;
    }

    /* joined by ",": the pack's bytes, as the events split in the middle */
    if ((size_t) s->half[0].raw_len + 1 + s->half[1].raw_len != e->text.len
        || s->half[1].data != s->half[0].data + s->half[0].len)
    {
        snprintf(why, sizeof(why), "%zu events: halves of %u and %u bytes",
                 e->n, s->half[0].raw_len, s->half[1].raw_len);
        return 0;
    }

    return half_is(&s->half[0], e, 0, e->n / 2, "first half")
           && half_is(&s->half[1], e, e->n / 2, e->n, "second half");
}


/* ---- the comma scan ---- */

static size_t
comma(const char *s, size_t k)
{
    return statsig_json_comma(s, strlen(s), k);
}


static void
test_comma(void)
{
    events_t        e = { { NULL, 0, 0 }, NULL, 0, 0 };
    bytes_t         b = { NULL, 0, 0 };
    size_t          i, k, len, bad, cases;
    static const char  *alphabet = ",,,\"\\{}[]ab";

    is_int(comma("", 1), 0, "no bytes: no comma");
    is_int(comma("1,2,3", 0), 5, "k 0: none");
    is_int(comma("1,2,3", 1), 1, "the first");
    is_int(comma("1,2,3", 2), 3, "the second");
    is_int(comma("1,2,3", 3), 5, "no third: len");
    is_int(comma("1,2,3", (size_t) -1), 5, "k huge: len");
    is_int(comma(",", 1), 0, "a comma alone");
    is_int(comma("\"a,b\",c", 1), 5, "a comma in a string");
    is_int(comma("{\"a\":1,\"b\":2},3", 1), 13, "a comma in an object");
    is_int(comma("[1,[2,3],{\"x\":[4,5]}],6", 1), 21,
           "commas in nested arrays and objects");
    is_int(comma("\"a\\\",\",1", 1), 6, "an escaped quote in a string");
    is_int(comma("\"a\\\\\",1", 1), 5, "an escaped backslash before a quote");
    is_int(comma("\"\\\\\\\",\",1", 1), 7, "\\\\ then \\\" then ,");
    is_int(comma("\"{[\",1", 1), 4, "brackets in a string");
    is_int(comma("\"}]\",1", 1), 4, "closing brackets in a string");
    is_int(comma("\"a,b", 1), 4, "an unterminated string: none");
    is_int(comma("\"a\\", 1), 3, "a backslash at the end: none");
    is_int(comma("{,", 1), 2, "an unclosed object: none");
    is_int(comma("},1,2", 1), 5, "a stray '}': none after it");
    is_int(comma("{}},{,1", 1), 5, "a '{' after it: back at the top");
    is_int(statsig_json_comma("\xff\x00,", 3, 1), 2, "any bytes");

    /* event batches: the comma after k events, for every k */
    add_exposures(&e, 1, 50);
    add_random(&e, 200);

    for (bad = 0, k = 1; k < e.n; k++) {
        bad += statsig_json_comma(e.text.data, e.text.len, k)
               != e.end[k - 1];
    }

    is_int(bad, 0, "%zu events: the comma after each", e.n);
    is_int(statsig_json_comma(e.text.data, e.text.len, e.n), e.text.len,
           "none after the last");

    /* random bytes of the scan's alphabet against the flusher's loop */
    for (bad = 0, cases = 0; cases < 20000; cases++) {
        b.len = 0;
        len = rnd_below(64);

        for (i = 0; i < len; i++) {
            bytes_add(&b, &alphabet[rnd_below(11)], 1);
        }

        for (k = 0; k <= 8; k++) {
            bad += statsig_json_comma(b.data, b.len, k)
                   != (k ? glue_comma(b.data, b.len, k) : b.len);
        }
    }

    is_int(bad, 0, "20000 random texts, k 0 .. 8: the flusher's comma");

    /* and on random values, which are valid JSON */
    for (bad = 0, cases = 0; cases < 2000; cases++) {
        b.len = 0;

        for (i = 0, len = 1 + rnd_below(8); i < len; i++) {
            if (i) {
                bytes_add(&b, ",", 1);
            }
            json_value(&b, 0);
        }

        for (k = 1; k <= len; k++) {
            bad += statsig_json_comma(b.data, b.len, k)
                   != glue_comma(b.data, b.len, k);
        }
    }

    is_int(bad, 0, "2000 runs of random JSON values: the flusher's comma");

    events_free(&e);
    free(b.data);
}


/* ---- splits ---- */

static void
test_split(statsig_pack_split_t *s, statsig_pack_t *p)
{
    events_t  e = { { NULL, 0, 0 }, NULL, 0, 0 };
    bytes_t   z = { NULL, 0, 0 };
    size_t    n, bad, total, halves;
    int       round;

    /* exposures: 2 events, odd and even counts, a batch of 1000 */
    for (n = 2; n <= 9; n++) {
        events_reset(&e);
        add_exposures(&e, (int) n, n);
        pack_events(p, &e);
        ok_why(split_checks(s, p->out, p->out_len, &e),
               "%zu exposures: halves of %zu and %zu", n, n / 2, n - n / 2);
    }

    events_reset(&e);
    add_exposures(&e, 100, 1000);
    pack_events(p, &e);
    total = p->out_len;
    ok_why(split_checks(s, p->out, p->out_len, &e), "1000 exposures");

    /* written event by event: about the pack's bytes, not literals */
    halves = s->half[0].len + s->half[1].len;
    ok(halves < total * 3 / 2 + 1024, "the halves take %zu bytes, the pack "
       "%zu (%zu of raw)", halves, total, e.text.len);

    events_reset(&e);
    add_exposures(&e, 7, 1001);
    pack_events(p, &e);
    ok_why(split_checks(s, p->out, p->out_len, &e), "1001 exposures");

    /* events whose strings hold commas, brackets and escaped quotes */
    events_reset(&e);
    events_adds(&e, "\"a,b\"");
    events_adds(&e, "{\"k\":\"},{\"}");
    ok_why(split_checks(s, p->out, 0, &e) == 0, "an empty pack: refused");
    pack_events(p, &e);
    ok_why(split_checks(s, p->out, p->out_len, &e),
           "2 events with commas and braces in strings");

    events_reset(&e);
    events_adds(&e, "{\"v\":\"\\\",\\\"\"}");
    events_adds(&e, "[1,[2,{\"x\":[3,\",\"]}]]");
    events_adds(&e, "\"\\\\\"");
    events_adds(&e, "{\"w\":\"\\\\\\\"]}{,\"}");
    events_adds(&e, "123");
    pack_events(p, &e);
    ok_why(split_checks(s, p->out, p->out_len, &e),
           "5 events: escaped quotes and backslashes, nested arrays");

    /* seeded random events, 2 .. 300 a pack, the split object reused */
    for (bad = 0, round = 0; round < 300 && !bad; round++) {
        events_reset(&e);
        add_random(&e, 2 + rnd_below(rnd_below(4) ? 20 : 300));

        if (rnd_below(3) == 0) {
            add_exposures(&e, round, rnd_below(50));
        }

        pack_events(p, &e);

        if (!split_checks(s, p->out, p->out_len, &e)) {
            printf("# round %d: %s\n", round, why);
            bad = 1;
        }
    }

    ok(!bad, "300 packs of random events split");

    /* packs zlib wrote: the split does not depend on the encoder */
    for (bad = 0, round = 0; round < 40 && !bad; round++) {
        events_reset(&e);
        add_random(&e, 2 + rnd_below(100));
        zlib_pack(&z, e.text.data, e.text.len, (int) rnd_below(10));

        if (!split_checks(s, z.data, z.len, &e)) {
            printf("# zlib round %d: %s\n", round, why);
            bad = 1;
        }
    }

    ok(!bad, "40 packs written by zlib (levels 0 .. 9) split");

    /* a pack of 8 MB: the buffers grow well past their first size */
    events_reset(&e);
    while (e.text.len < 8 * 1024 * 1024) {
        add_exposures(&e, (int) e.n, 100);
        add_random(&e, 100);
    }

    pack_events(p, &e);
    ok_why(split_checks(s, p->out, p->out_len, &e),
           "%zu events, %zu bytes (%zu packed)", e.n, e.text.len,
           p->out_len);

    events_free(&e);
    free(z.data);
}


/* one gzip piece a half, joined by "," as the flusher sends them */
typedef struct {
    statsig_pack_half_t  *half;
    int                   next;
} halves_t;


static int
next_half(void *data, statsig_gzip_piece_t *piece)
{
    halves_t  *h = data;

    if (h->next == 2) {
        return 0;
    }

    piece->data = h->half[h->next].data;
    piece->len = h->half[h->next].len;
    piece->crc = h->half[h->next].crc;
    piece->raw = h->half[h->next].raw_len;
    h->next++;

    return 1;
}


static void
test_member(statsig_pack_split_t *s, statsig_pack_t *p)
{
    events_t         e = { { NULL, 0, 0 }, NULL, 0, 0 };
    bytes_t          gz = { NULL, 0, 0 }, want = { NULL, 0, 0 };
    statsig_gzip_t   g;
    halves_t         h;
    size_t           cap;
    int              rc;

    add_exposures(&e, 3, 300);
    add_random(&e, 50);
    pack_events(p, &e);

    rc = statsig_pack_split(s, p->out, p->out_len, (uint32_t) e.n,
                            (uint32_t) p->raw_len, p->crc);
    is_int(rc, STATSIG_PACK_SPLIT_OK, "350 events split");

    events_frame(&g, next_half, &h);
    h.half = s->half;
    h.next = 0;

    cap = statsig_gzip_packs_bound(&g, 2, s->half[0].len + s->half[1].len);
    bytes_add(&gz, NULL, cap);
    gz.len = statsig_gzip_packs(&g, (unsigned char *) gz.data, cap);

    bytes_adds(&want, g.prefix);
    bytes_add(&want, e.text.data, e.text.len);
    bytes_adds(&want, g.suffix);

    ok_why(gz.len && inflates_to(gz.data, gz.len, 1, want.data, want.len,
                                 why, sizeof(why)),
           "the halves in one gzip member: the batch's events again");

    free(gz.data);
    free(want.data);
    events_free(&e);
}


static void
test_refused(statsig_pack_split_t *s, statsig_pack_t *p)
{
    events_t        e = { { NULL, 0, 0 }, NULL, 0, 0 };
    bytes_t         c = { NULL, 0, 0 }, first = { NULL, 0, 0 };
    uint32_t        n, raw, crc, i;
    size_t          len, bit, undecoded, same, other, cap;
    int             rc;

    add_exposures(&e, 5, 3);
    add_random(&e, 3);
    pack_events(p, &e);

    n = (uint32_t) e.n;
    raw = (uint32_t) p->raw_len;
    crc = p->crc;
    len = p->out_len;
    bytes_add(&c, p->out, len);

    /* the halves of the sound pack, to compare with */
    rc = statsig_pack_split(s, c.data, len, n, raw, crc);
    is_int(rc, STATSIG_PACK_SPLIT_OK, "a pack of 6 events splits");
    bytes_add(&first, s->half[0].data, s->half[0].len + s->half[1].len);

    /* the messages the flusher logs */
    is_str(statsig_pack_split_error(STATSIG_PACK_SPLIT_SINGLE),
           "a single event is too large", "message: a single event");
    is_str(statsig_pack_split_error(STATSIG_PACK_SPLIT_NOMEM),
           "no memory to split the batch", "message: no memory");
    is_str(statsig_pack_split_error(STATSIG_PACK_SPLIT_UNDECODED),
           "a pack did not decode", "message: no decode");
    is_str(statsig_pack_split_error(STATSIG_PACK_SPLIT_UNSPLIT),
           "a pack's events did not split", "message: no split");
    is_str(statsig_pack_split_error(42), "an unknown error",
           "message: anything else");

    /* a single event, none */
    is_int(statsig_pack_split(s, c.data, len, 1, raw, crc),
           STATSIG_PACK_SPLIT_SINGLE, "n 1: a single event");
    ok(s->half[0].data == NULL && s->half[1].n == 0,
       "no halves after an error");
    is_int(statsig_pack_split(s, c.data, len, 0, raw, crc),
           STATSIG_PACK_SPLIT_SINGLE, "n 0: the same");

    /* more events claimed than there are commas for */
    is_int(statsig_pack_split(s, c.data, len, 13, raw, crc),
           STATSIG_PACK_SPLIT_UNSPLIT, "13 events claimed, 6 there");
    is_int(statsig_pack_split(s, c.data, len, 11, raw, crc),
           STATSIG_PACK_SPLIT_OK, "11 claimed: the comma after 5 is there");

    events_reset(&e);
    events_adds(&e, "\"a,b,c,d\"");
    events_adds(&e, "{\"x\":[1,2,3]}");
    pack_events(p, &e);
    is_int(statsig_pack_split(s, p->out, p->out_len, 4,
                              (uint32_t) p->raw_len, p->crc),
           STATSIG_PACK_SPLIT_UNSPLIT,
           "4 events claimed, 1 top-level comma: no split");
    is_int(statsig_pack_split(s, p->out, p->out_len, 3,
                              (uint32_t) p->raw_len, p->crc),
           STATSIG_PACK_SPLIT_OK, "3 claimed: split after 1");
    is_int(s->half[0].n * 10 + s->half[1].n, 12, "1 and 2 events");

    is_int(statsig_pack_split(s, "", 0, 2, 0, 0),
           STATSIG_PACK_SPLIT_UNSPLIT, "an empty pack: no comma");
    is_int(statsig_pack_split(s, "", 0, 2, 0, 1),
           STATSIG_PACK_SPLIT_UNDECODED, "an empty pack, CRC not 0");
    is_int(statsig_pack_split(s, "", 0, 2, 5, 0),
           STATSIG_PACK_SPLIT_UNDECODED, "an empty pack, 5 bytes claimed");

    /* wrong CRC: every bit */
    for (other = 0, i = 0; i < 32; i++) {
        other += statsig_pack_split(s, c.data, len, n, raw, crc ^ (1u << i))
                 != STATSIG_PACK_SPLIT_UNDECODED;
    }

    is_int(other, 0, "a wrong CRC (each of 32 bits): did not decode");

    /* wrong raw length */
    for (other = 0, i = 0; i < 5; i++) {
        static const int64_t  d[] = { -2, -1, 1, 2, 1000 };

        other += statsig_pack_split(s, c.data, len, n,
                                    (uint32_t) (raw + d[i]), crc)
                 != STATSIG_PACK_SPLIT_UNDECODED;
    }

    is_int(other, 0, "raw length -2, -1, +1, +2, +1000: did not decode");
    is_int(statsig_pack_split(s, c.data, len, n, 0, crc),
           STATSIG_PACK_SPLIT_UNDECODED, "raw length 0");
    cap = s->raw_cap;
    is_int(statsig_pack_split(s, c.data, len, n, 0xFFFFFFFFu, crc),
           STATSIG_PACK_SPLIT_UNDECODED,
           "raw length 4 GB - 1: refused before allocating it");
    is_int(s->raw_cap, cap, "nothing allocated for it");

    /* truncated at every length, or a byte more */
    for (other = 0, bit = 0; bit < len; bit++) {
        other += statsig_pack_split(s, c.data, bit, n, raw, crc)
                 != STATSIG_PACK_SPLIT_UNDECODED;
    }

    is_int(other, 0, "truncated at each of %zu lengths: did not decode",
           len);

    for (other = 0, i = 0; i < 256; i++) {
        unsigned char  last = (unsigned char) i;

        bytes_add(&c, &last, 1);
        other += statsig_pack_split(s, c.data, len + 1, n, raw, crc)
                 != STATSIG_PACK_SPLIT_UNDECODED;
        c.len--;
    }

    is_int(other, 0, "any byte after the pack: did not decode");

    /*
     * Every bit flipped: refused, or (a padding bit, which inflate does
     * not read) the same events, so the same halves
     */
    undecoded = 0;
    same = 0;
    other = 0;

    for (bit = 0; bit < 8 * len; bit++) {
        c.data[bit / 8] ^= (unsigned char) (1u << (bit % 8));
        rc = statsig_pack_split(s, c.data, len, n, raw, crc);
        c.data[bit / 8] ^= (unsigned char) (1u << (bit % 8));

        if (rc == STATSIG_PACK_SPLIT_UNDECODED) {
            undecoded++;

        } else if (rc == STATSIG_PACK_SPLIT_OK
                   && s->half[0].len + s->half[1].len == first.len
                   && memcmp(s->half[0].data, first.data, first.len) == 0)
        {
            same++;

        } else {
            other++;
        }
    }

    ok(other == 0 && same < 8, "each of %zu bits flipped: %zu did not "
       "decode, %zu padding bits gave the same halves, %zu else",
       8 * len, undecoded, same, other);

    /* random bytes as a pack, random claims */
    for (other = 0, i = 0; i < 3000; i++) {
        size_t  j, m = rnd_below(400);

        c.len = 0;
        for (j = 0; j < m; j++) {
            unsigned char  byte = (unsigned char) rnd();

            bytes_add(&c, &byte, 1);
        }

        /* now and then a pack's ending, so that inflate runs to it */
        if (m >= 4 && rnd_below(2)) {
            memcpy(c.data + m - 4, "\0\0\xff\xff", 4);
        }

        rc = statsig_pack_split(s, c.data, c.len, 2 + rnd_below(100),
                                rnd_below(4000), rnd());
        other += rc != STATSIG_PACK_SPLIT_UNDECODED;
    }

    is_int(other, 0, "3000 random byte strings: did not decode");

    free(c.data);
    free(first.data);
    events_free(&e);
}


/* init, free, init again: nothing left over, and free of a fresh one */
static void
test_lifecycle(void)
{
    statsig_pack_split_t  s;
    events_t              e = { { NULL, 0, 0 }, NULL, 0, 0 };
    statsig_pack_t        p;

    statsig_pack_split_init(&s);
    statsig_pack_split_free(&s);
    ok(s.raw == NULL && s.out == NULL && s.zs == NULL,
       "free of an unused split");

    statsig_pack_init(&p);
    add_exposures(&e, 9, 10);
    pack_events(&p, &e);

    statsig_pack_split_init(&s);
    ok_why(split_checks(&s, p.out, p.out_len, &e), "a split");
    statsig_pack_split_free(&s);
    ok(s.raw == NULL && s.out == NULL && s.zs == NULL && s.half[0].len == 0,
       "free: all of it");
    ok_why(split_checks(&s, p.out, p.out_len, &e), "a split after free");
    statsig_pack_split_free(&s);

    statsig_pack_free(&p);
    events_free(&e);
}


/* statsig_pack_decode(): a pack's events back, checked as a split is */
static void
test_decode(statsig_pack_split_t *s, statsig_pack_t *p)
{
    size_t                i;
    events_t              e = { { NULL, 0, 0 }, NULL, 0, 0 };
    const unsigned char  *raw;

    for (i = 1; i <= 3; i++) {
        events_reset(&e);
        add_exposures(&e, (int) i, i == 3 ? 40 : i);
        pack_events(p, &e);

        is_int(statsig_pack_decode(s, p->out, p->out_len,
                                   (uint32_t) p->raw_len, p->crc, &raw),
               STATSIG_PACK_SPLIT_OK, "decode: %u events", (unsigned) e.n);
        ok(raw && memcmp(raw, e.text.data, e.text.len) == 0,
           "decode: the events joined by \",\"");

        is_int(statsig_pack_decode(s, p->out, p->out_len,
                                   (uint32_t) p->raw_len, p->crc ^ 1, &raw),
               STATSIG_PACK_SPLIT_UNDECODED, "decode: another CRC");
        ok(raw == NULL, "decode: no events when refused");

        is_int(statsig_pack_decode(s, p->out, p->out_len - 1,
                                   (uint32_t) p->raw_len, p->crc, &raw),
               STATSIG_PACK_SPLIT_UNDECODED, "decode: cut short");
    }

    events_free(&e);
}


int
main(void)
{
    statsig_pack_split_t  s;
    statsig_pack_t        p;

    statsig_pack_split_init(&s);
    statsig_pack_init(&p);

    test_comma();
    test_split(&s, &p);
    test_member(&s, &p);
    test_refused(&s, &p);
    test_decode(&s, &p);
    test_lifecycle();

    statsig_pack_split_free(&s);
    statsig_pack_free(&p);

    return done_testing();
}
