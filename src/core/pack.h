/*
 * Packs: runs of similar records (event JSON) deflate-encoded as they
 * are added, for gzip request bodies assembled later from several packs.
 *
 * Events of one sink look alike: the same field names, the same gate or
 * config, often the same user; only ids and times change.  A record is
 * encoded against an earlier record of the same pack (the last one with
 * the same first bytes, or the one before it): what they share becomes
 * a back-reference, what differs literals.  No hash chains, no search:
 * a few bytes compared per byte of input, at a fraction of zlib level
 * 1's CPU, for batches that compress ~30x (50x once a pack is written
 * with Huffman codes fitted to the pack before it).
 *
 * A finished pack is raw deflate (RFC 1951): blocks that are not final,
 * ending on a byte boundary (an empty stored block, as zlib's
 * Z_SYNC_FLUSH writes), whose back-references stay inside the pack.  So
 * packs can be laid end to end in any order, between literal blocks
 * (statsig_deflate_literals) and under a gzip header and trailer; the
 * trailer's CRC-32 is combined from each piece's (zlib's crc32_combine).
 * statsig_gzip_packs() writes such a member.
 *
 * A pack a sink refuses as too large is split in two (pack_split.c):
 * inflated, checked, cut at the comma after half its events and each
 * half packed again.
 */

#ifndef STATSIG_PACK_H
#define STATSIG_PACK_H

#include <stddef.h>
#include <stdint.h>


/* the longest dynamic block header a pack starts with (316 code lengths) */
#define STATSIG_PACK_HEAD_MAX  320


typedef struct {
    /* the uncompressed bytes so far: separators and records */
    unsigned char  *raw;
    size_t          raw_len;
    size_t          raw_cap;

    /* the deflate bytes so far (whole bytes; the rest is in bits) */
    unsigned char  *out;
    size_t          out_len;
    size_t          out_cap;

    /*
     * CRC-32 of raw[0 .. crc_len): summed in chunks of 32 KB as records
     * come (a call costs more than a record's bytes), of all of raw once
     * finished
     */
    uint32_t        crc;
    size_t          crc_len;
    size_t          records;

    /* the encoder's state */
    uint64_t        bits;
    unsigned        nbits;
    unsigned        open;         /* a block is open */
    unsigned        finished;     /* statsig_pack_finish() ran */
    size_t          last;         /* where the last record starts */
    uint32_t        sig[256];     /* record start + 1 by first bytes */

    /*
     * The codes the pack is written with: the fixed ones (head_bits 0),
     * or those of a dynamic block (its header in head), built from the
     * counts of the last pack of some size and kept across reset
     */
    uint16_t        lit_code[286];
    uint16_t        dist_code[30];
    unsigned char   lit_len[286];
    unsigned char   dist_len[30];
    /*
     * from lit_code and lit_len, by length - 3 (3 .. 258): a length's
     * code with its extra bits above it, their bits, its symbol - 257;
     * whoever sets the codes sets these too
     */
    uint32_t        len_code[256];
    unsigned char   len_bits[256];
    unsigned char   len_sym[256];
    unsigned char   head[STATSIG_PACK_HEAD_MAX];
    unsigned        head_bits;
    /*
     * what the dynamic codes wrote the symbols of the pack they were
     * built from in (bits, lengths and distances' extra bits aside), and
     * how many symbols: kept for the next packs while they do as well
     */
    uint64_t        code_bits;
    uint64_t        code_syms;
    uint32_t        lit_freq[286];    /* symbols written by this pack */
    uint32_t        dist_freq[30];

    int             failed;       /* an allocation failed */
} statsig_pack_t;


void statsig_pack_init(statsig_pack_t *p);            /* allocates nothing */

/*
 * For tests: 0 compares records with SSE2 and words only, whatever the
 * CPU has, so that the path an AVX2 CPU skips is checked there too; 1 as
 * the CPU allows (the default).  Holds at once, for every pack.
 */
void statsig_pack_wide(int wide);

/* empties the pack; keeps the memory and the codes for the next pack */
void statsig_pack_reset(statsig_pack_t *p);
void statsig_pack_free(statsig_pack_t *p);

/*
 * Appends sep (may be empty, e.g. "," between records) and the record;
 * neither may point into p->raw (it moves as it grows).  Any bytes are
 * fine: a record costs 9 bits a byte at most, so a pack's deflate bytes
 * are at most raw_len + raw_len / 8 + STATSIG_PACK_HEAD_MAX + 16.  0, or
 * -1 when memory ran out (p->failed is set; the pack is unusable until
 * reset) or the pack is finished (a caller's error).
 */
int statsig_pack_add(statsig_pack_t *p, const void *sep, size_t sep_len,
    const void *rec, size_t len);

/*
 * Ends the pack on a byte boundary: p->out[0 .. out_len) is then its
 * deflate bytes, p->crc and p->raw_len what the gzip trailer needs.
 * 0 or -1 (memory).  An empty pack finishes as nothing (out_len 0).
 * Nothing can be added after it until statsig_pack_reset().
 */
int statsig_pack_finish(statsig_pack_t *p);


/* ---- a gzip member around packs ---- */

#define STATSIG_GZIP_HEADER_LEN   10
#define STATSIG_GZIP_TRAILER_LEN  8

/* the 10-byte gzip header (no name, no time, OS unknown) */
void statsig_gzip_header(unsigned char *out);

/* the 8-byte trailer: CRC-32 and size of all the uncompressed bytes */
void statsig_gzip_trailer(unsigned char *out, uint32_t crc, uint64_t size);

/* the most statsig_deflate_literals() writes for len bytes */
size_t statsig_deflate_literals_bound(size_t len);

/*
 * len bytes as one fixed-Huffman block of literals.  Not final: it ends
 * on a byte boundary (an empty stored block follows).  Final: the last
 * block of the stream, padded to a byte.  Returns the bytes written.
 */
size_t statsig_deflate_literals(unsigned char *out, const void *data,
    size_t len, int final);


/* a finished pack's part of a member: its out, crc and raw_len */
typedef struct {
    const void            *data;      /* raw deflate, ending on a byte */
    size_t                 len;
    uint32_t               crc;       /* CRC-32 of the bytes it inflates to */
    size_t                 raw;       /* how many they are */
} statsig_gzip_piece_t;

/* the next piece into *piece: 1, or 0 after the last one, or -1 */
typedef int (*statsig_gzip_next_pt)(void *data, statsig_gzip_piece_t *piece);

/*
 * A member: the prefix, the pieces next() gives joined by the joiner,
 * the suffix; the three as literal blocks (may be empty).  The pieces
 * come from a callback so that they can be read where they lie (the
 * flusher's batch: a header, then the deflate bytes) and are copied once.
 */
typedef struct {
    const void            *prefix;
    size_t                 prefix_len;
    const void            *joiner;
    size_t                 joiner_len;
    const void            *suffix;
    size_t                 suffix_len;
    statsig_gzip_next_pt   next;
    void                  *data;      /* next()'s */
} statsig_gzip_t;

/* the most statsig_gzip_packs() writes for n pieces of len bytes in all */
size_t statsig_gzip_packs_bound(const statsig_gzip_t *g, size_t n,
    size_t len);

/*
 * Writes the member: the gzip header, the literal blocks and pieces, the
 * final block, the trailer with the CRC-32 combined from the pieces'.
 * Returns its length, or 0 if next() failed or out's cap bytes would
 * not hold it (checked before anything is written past them).
 */
size_t statsig_gzip_packs(const statsig_gzip_t *g, unsigned char *out,
    size_t cap);


/* ---- splitting a pack a sink refused as too large ---- */

/*
 * The byte offset of the k-th comma (k >= 1) at the top level of data:
 * JSON values joined by ",", as a pack's events are.  Commas inside
 * strings (backslash escapes skipped), objects and arrays do not count.
 * len when there are fewer than k (always for k 0).  The text is not
 * validated: the level is the count of '{' and '[' less that of '}' and
 * ']' outside strings, unsigned, so after a stray '}' no comma counts
 * until a '{' comes (the flusher's scan did the same).
 */
size_t statsig_json_comma(const void *data, size_t len, size_t k);


/* statsig_pack_split()'s results */
typedef enum {
    STATSIG_PACK_SPLIT_OK = 0,
    STATSIG_PACK_SPLIT_SINGLE = -1,     /* n < 2: nothing to split */
    STATSIG_PACK_SPLIT_NOMEM = -2,
    STATSIG_PACK_SPLIT_UNDECODED = -3,  /* not a pack of raw_len bytes, crc */
    STATSIG_PACK_SPLIT_UNSPLIT = -4     /* fewer than n / 2 commas */
} statsig_pack_split_e;


/* a half: a finished pack, as statsig_pack_t's out, crc and raw_len */
typedef struct {
    const unsigned char   *data;      /* raw deflate, ending on a byte */
    size_t                 len;
    uint32_t               n;         /* events */
    uint32_t               crc;       /* CRC-32 of the events joined by "," */
    uint32_t               raw_len;   /* their bytes */
} statsig_pack_half_t;


/*
 * Memory kept from one split to the next: the inflated events, an
 * inflate stream, the pack that encodes the halves (its Huffman codes
 * carry over, as a sink's do) and both halves' deflate bytes.
 */
typedef struct {
    statsig_pack_half_t    half[2];   /* valid after STATSIG_PACK_SPLIT_OK */

    unsigned char         *raw;
    size_t                 raw_cap;
    unsigned char         *out;       /* half[0]'s bytes, then half[1]'s */
    size_t                 out_cap;
    statsig_pack_t         pack;
    void                  *zs;        /* a z_stream, made at the first use */
} statsig_pack_split_t;


void statsig_pack_split_init(statsig_pack_split_t *s);  /* allocates nothing */
void statsig_pack_split_free(statsig_pack_split_t *s);

/*
 * A finished pack of n events (data[0 .. len), raw deflate that inflates
 * to raw_len bytes of CRC-32 crc: what a pack's out, raw_len and crc
 * were) as two packs: half[0] the first n / 2 events, half[1] the rest,
 * each encoded event by event as statsig_pack_add() encodes a sink's.
 * The halves' events joined by "," are the pack's.  Their bytes are in
 * s's memory until the next split or free.  STATSIG_PACK_SPLIT_OK or
 * another statsig_pack_split_e.
 *
 * UNDECODED unless data is such a pack: raw deflate without a final
 * block, ending on an empty stored block (as statsig_pack_finish() and
 * zlib's Z_SYNC_FLUSH end it), inflating to exactly raw_len bytes of
 * CRC-32 crc.  A raw_len beyond what deflate can make of len bytes is
 * refused before that much memory is asked for.
 */
int statsig_pack_split(statsig_pack_split_t *s, const void *data, size_t len,
    uint32_t n, uint32_t raw_len, uint32_t crc);

/*
 * A finished pack's events, checked as statsig_pack_split() checks them:
 * *raw points at raw_len bytes (the events joined by ","), in s's memory
 * until its next use.  STATSIG_PACK_SPLIT_OK, _NOMEM or _UNDECODED.  For
 * sinks that post one event a request.
 */
int statsig_pack_decode(statsig_pack_split_t *s, const void *data, size_t len,
    uint32_t raw_len, uint32_t crc, const unsigned char **raw);

/* a statsig_pack_split_e as text, for a log: "a pack did not decode" */
const char *statsig_pack_split_error(int rc);

#endif /* STATSIG_PACK_H */
