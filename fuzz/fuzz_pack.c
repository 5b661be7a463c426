/*
 * libFuzzer: the input is records separated by 0xFF bytes.  They go into
 * packs, and the packs into a gzip member as the flusher writes it
 * (statsig_gzip_packs: literal blocks around and between them); zlib
 * must inflate that member, CRC and size checked, to exactly the bytes
 * that went in.
 *
 * One pack object writes the packs one after the other (reset between
 * them, as the flusher reuses its packs), so a pack is written with the
 * codes the one before it left (a dynamic block, or a fixed one after a
 * record those codes would make long).  Its memory is kept across inputs,
 * its codes are not: each input starts from the fixed codes, so that a
 * crash replays from its input alone.
 *
 * The first byte chooses the separator and after how many records a pack
 * ends (up to 8 packs).  A record starting with 0xFE n is its rest
 * repeated 64 n times (up to 1 MB an input): long records, references
 * beyond deflate's 32 KB window and packs big enough to set codes, from
 * short inputs.
 *
 * Each pack is also split as the flusher splits a pack a sink refused
 * (statsig_pack_split, its records taken for events): the split must be
 * where the flusher's own comma scan (t/unit/flusher_ref.h) puts it, each
 * half must inflate to its side of that comma, and a copy of the pack
 * with a bit flipped, cut short or a byte longer (the input's length
 * picks which) must be refused, or give the same halves.  The split's
 * pack starts each input from the fixed codes too.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pack.h"
#include "../t/unit/flusher_ref.h"
#include "../t/unit/inflate_check.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define FZ_MAX_BODY   (1024 * 1024)
#define FZ_MAX_PACKS  8

static statsig_pack_t         fz_pack, fz_fresh;
static unsigned char         *fz_rec, *fz_packs, *fz_gz, *fz_want;
static size_t                 fz_packs_len, fz_want_len;
static statsig_gzip_piece_t   fz_piece[FZ_MAX_PACKS];
static size_t                 fz_npieces, fz_next;
static statsig_pack_split_t   fz_split;
static unsigned char         *fz_bad;
static size_t                 fz_size;          /* the input's */


static void
fz_want_add(const void *p, size_t n)
{
    if (n) {
        memcpy(fz_want + fz_want_len, p, n);
        fz_want_len += n;
    }
}


/* the packs kept, in order, for statsig_gzip_packs() */
static int
fz_next_piece(void *data, statsig_gzip_piece_t *piece)
{
    if (fz_next == fz_npieces) {
        return 0;
    }

    *piece = fz_piece[fz_next++];

    return 1;
}


/* a record from the input: 0xFE n makes it the rest repeated 64 n times */
static size_t
fz_record(const uint8_t *p, size_t n, size_t room)
{
    size_t  times, len;

    if (n < 2 || p[0] != 0xFE) {
        n = n < room ? n : room;
        memcpy(fz_rec, p, n);
        return n;
    }

    times = 64 * (size_t) p[1];
    p += 2;
    n -= 2;

    for (len = 0; times-- > 0 && len + n <= room; len += n) {
        memcpy(fz_rec + len, p, n);
    }

    return len;
}


/* 1 if a half inflates to exactly want[0 .. len), n events, its CRC */
static int
fz_half_ok(const statsig_pack_half_t *h, const unsigned char *want,
    size_t len, uint32_t n)
{
    char  why[256];

    return h->n == n && h->raw_len == len
           && h->crc == crc32(0, want, (uInt) len)
           && inflates_to(h->data, h->len, 0, want, len, why, sizeof(why));
}


/* what splitting the pack must give: the result, and halves if split */
static int
fz_split_ok(int rc, const statsig_pack_t *pk, uint32_t n, size_t at)
{
    statsig_pack_split_t  *s = &fz_split;

    if (n < 2) {
        return rc == STATSIG_PACK_SPLIT_SINGLE;
    }

    if (at == pk->raw_len) {
        return rc == STATSIG_PACK_SPLIT_UNSPLIT;
    }

    return rc == STATSIG_PACK_SPLIT_OK
           && fz_half_ok(&s->half[0], pk->raw, at, n / 2)
           && fz_half_ok(&s->half[1], pk->raw + at + 1,
                         pk->raw_len - at - 1, n - n / 2);
}


/* the finished pack split, then a corrupt copy of it */
static void
fz_split_check(const statsig_pack_t *pk)
{
    uint32_t  n;
    size_t    at, len, bit;
    int       rc;

    n = pk->records > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t) pk->records;
    at = (n < 2) ? pk->raw_len : glue_comma(pk->raw, pk->raw_len, n / 2);

    rc = statsig_pack_split(&fz_split, pk->out, pk->out_len, n,
                            (uint32_t) pk->raw_len, pk->crc);

    if (!fz_split_ok(rc, pk, n, at)) {
        fprintf(stderr, "split: %u records of %zu bytes (comma at %zu): "
                "%s\n", n, pk->raw_len, at, statsig_pack_split_error(rc));
        abort();
    }

    if (pk->out_len == 0 || n < 2) {
        return;
    }

    memcpy(fz_bad, pk->out, pk->out_len);
    len = pk->out_len;
    bit = (fz_size * 2654435761u) % (8 * len);

    switch (fz_size % 3) {
    case 0:
        fz_bad[bit / 8] ^= (unsigned char) (1u << (bit % 8));
        break;

    case 1:
        len = bit / 8;
        break;

    default:
        fz_bad[len++] = (unsigned char) bit;
    }

    rc = statsig_pack_split(&fz_split, fz_bad, len, n,
                            (uint32_t) pk->raw_len, pk->crc);

    if (rc != STATSIG_PACK_SPLIT_UNDECODED && !fz_split_ok(rc, pk, n, at)) {
        fprintf(stderr, "split: a corrupt pack (%zu %% 3, bit %zu of %zu "
                "bytes) gave %s\n", fz_size % 3, bit, pk->out_len,
                statsig_pack_split_error(rc));
        abort();
    }
}


/* the memory of the inputs before, the codes of a new pack */
static void
fz_fresh_codes(statsig_pack_t *pk)
{
    statsig_pack_reset(pk);
    memcpy(pk->lit_code, fz_fresh.lit_code, sizeof(pk->lit_code));
    memcpy(pk->dist_code, fz_fresh.dist_code, sizeof(pk->dist_code));
    memcpy(pk->lit_len, fz_fresh.lit_len, sizeof(pk->lit_len));
    memcpy(pk->dist_len, fz_fresh.dist_len, sizeof(pk->dist_len));
    /* what the encoder derives from the codes goes with them */
    memcpy(pk->len_code, fz_fresh.len_code, sizeof(pk->len_code));
    memcpy(pk->len_bits, fz_fresh.len_bits, sizeof(pk->len_bits));
    memcpy(pk->len_sym, fz_fresh.len_sym, sizeof(pk->len_sym));
    pk->code_bits = fz_fresh.code_bits;
    pk->code_syms = fz_fresh.code_syms;
    pk->head_bits = fz_fresh.head_bits;
}


/* ends the pack: checked, then kept as a piece of the member */
static void
fz_close(void)
{
    statsig_pack_t  *pk = &fz_pack;

    if (statsig_pack_finish(pk) != 0
        || pk->crc != crc32(0, pk->raw, (uInt) pk->raw_len)
        || pk->out_len > pk->raw_len + pk->raw_len / 8
                         + STATSIG_PACK_HEAD_MAX + 16)
    {
        fprintf(stderr, "pack: %zu bytes for %zu\n", pk->out_len,
                pk->raw_len);
        abort();
    }

    if (fz_npieces > 0) {
        fz_want_add(",", 1);
    }

    fz_want_add(pk->raw, pk->raw_len);

    fz_split_check(pk);

    /* the pack's memory is the next pack's: its bytes are kept apart */
    if (pk->out_len) {
        memcpy(fz_packs + fz_packs_len, pk->out, pk->out_len);
    }

    fz_piece[fz_npieces].data = fz_packs + fz_packs_len;
    fz_piece[fz_npieces].len = pk->out_len;
    fz_piece[fz_npieces].crc = pk->crc;
    fz_piece[fz_npieces].raw = pk->raw_len;
    fz_npieces++;
    fz_packs_len += pk->out_len;

    statsig_pack_reset(pk);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char  *seps[] = { ",", "", "\n", ",\n  " };
    const uint8_t      *end, *p, *q;
    const char         *sep;
    statsig_pack_t     *pk = &fz_pack;
    statsig_gzip_t      g;
    size_t              split, index, total, reserve, n, gz_len;
    char                why[256];

    if (fz_rec == NULL) {
        fz_rec = malloc(FZ_MAX_BODY);
        fz_packs = malloc(2 * FZ_MAX_BODY);
        fz_gz = malloc(2 * FZ_MAX_BODY);
        fz_want = malloc(FZ_MAX_BODY + 64);
        fz_bad = malloc(2 * FZ_MAX_BODY);
        if (!fz_rec || !fz_packs || !fz_gz || !fz_want || !fz_bad) {
            abort();
        }

        statsig_pack_init(&fz_pack);
        statsig_pack_init(&fz_fresh);
        statsig_pack_split_init(&fz_split);
    }

    /* 5 bytes of input make at most 4 of separators and 1 of a record */
    if (size == 0 || size > FZ_MAX_BODY / 5) {
        return 0;
    }

    sep = seps[data[0] & 3];
    split = data[0] >> 2;
    data++;
    size--;

    fz_fresh_codes(&fz_pack);
    fz_fresh_codes(&fz_split.pack);
    fz_size = size;

    events_frame(&g, fz_next_piece, NULL);

    fz_packs_len = 0;
    fz_npieces = 0;
    fz_next = 0;
    fz_want_len = 0;
    fz_want_add(g.prefix, g.prefix_len);

    total = 0;
    end = data + size;

    for (p = data, index = 0; ; p = q + 1, index++) {
        q = memchr(p, 0xFF, (size_t) (end - p));
        if (q == NULL) {
            q = end;
        }

        if (split && index && index % split == 0
            && fz_npieces < FZ_MAX_PACKS - 1)
        {
            fz_close();
        }

        /* what is left after this separator and those still to come */
        total += strlen(sep);
        reserve = total + 4 * (size_t) (end - q) + 64;
        n = fz_record(p, (size_t) (q - p),
                      reserve < FZ_MAX_BODY ? FZ_MAX_BODY - reserve : 0);
        total += n;

        if (statsig_pack_add(pk, sep, pk->raw_len ? strlen(sep) : 0,
                             fz_rec, n) != 0)
        {
            abort();
        }

        if (q == end) {
            break;
        }
    }

    fz_close();
    fz_want_add(g.suffix, g.suffix_len);

    /* the member as the flusher writes it, into exactly its bound */
    n = statsig_gzip_packs_bound(&g, fz_npieces, fz_packs_len);
    gz_len = n <= 2 * FZ_MAX_BODY ? statsig_gzip_packs(&g, fz_gz, n) : 0;

    if (gz_len == 0) {
        fprintf(stderr, "pack: a member of %zu packs (%zu bytes) refused\n",
                fz_npieces, fz_packs_len);
        abort();
    }

    if (!inflates_to(fz_gz, gz_len, 1, fz_want, fz_want_len, why,
                     sizeof(why)))
    {
        fprintf(stderr, "pack: the member of %zu packs: %s\n", fz_npieces,
                why);
        abort();
    }

    return 0;
}
