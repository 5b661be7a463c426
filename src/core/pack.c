/*
 * Packs: records deflate-encoded against an earlier record of the same
 * pack (see pack.h), in fixed-Huffman blocks (RFC 1951, 3.2.6).
 *
 * A record is compared with its reference a word or a vector at a time;
 * a common run of 4 or more bytes becomes a back-reference.  At a difference both
 * sides skip to the next occurrence of the same JSON delimiter (the end
 * of a changed id or number, mostly) and compare again; what the record
 * skipped goes out as literals.  Every byte is compared or scanned once,
 * so a record costs O(its length + the reference region), whatever it
 * holds.
 */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pack.h"


#define SG_PK_WINDOW    32768   /* deflate's largest distance */
#define SG_PK_MIN_RUN   4       /* shorter runs cost more as a match */
#define SG_PK_SIG_LEN   96      /* bytes a record's signature covers */
#define SG_PK_EOB_BITS  7       /* end of block: symbol 256, code 0 */
#define SG_PK_MAX_ADD   ((size_t) -1 / 16)  /* out's bound cannot overflow */

/*
 * zlib's crc32() costs ~100 ns a call on top of its per-byte cost (0.41
 * ns a byte on 370-byte records, 0.15 on 32 KB): raw is summed in chunks
 */
#define SG_PK_CRC_CHUNK 32768


/* bytes reversed bit by bit: Huffman codes go out MSB first (3.1.1) */
#define SG_PK_R2(n)  n, n + 2 * 64, n + 1 * 64, n + 3 * 64
#define SG_PK_R4(n)  SG_PK_R2(n), SG_PK_R2(n + 2 * 16), SG_PK_R2(n + 1 * 16), \
                     SG_PK_R2(n + 3 * 16)
#define SG_PK_R6(n)  SG_PK_R4(n), SG_PK_R4(n + 2 * 4), SG_PK_R4(n + 1 * 4), \
                     SG_PK_R4(n + 3 * 4)

static const unsigned char  sg_pk_rev8[256] = {
    SG_PK_R6(0), SG_PK_R6(2), SG_PK_R6(1), SG_PK_R6(3)
};


/* where a record whose bytes differ from its reference resynchronises */
static const unsigned char  sg_pk_delim[256] = {
    ['"'] = 1, [','] = 1, [':'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1,
    [']'] = 1
};


/* ---- the bit writer: LSB first, whole 32-bit words stored ---- */

typedef struct {
    unsigned char  *out;
    uint64_t        bits;
    unsigned        n;          /* < 32 between calls */
} sg_pk_bits_t;


static inline void
sg_pk_put(sg_pk_bits_t *w, uint32_t v, unsigned n)
{
    w->bits |= (uint64_t) v << w->n;
    w->n += n;

    if (w->n >= 32) {
        w->out[0] = (unsigned char) w->bits;
        w->out[1] = (unsigned char) (w->bits >> 8);
        w->out[2] = (unsigned char) (w->bits >> 16);
        w->out[3] = (unsigned char) (w->bits >> 24);
        w->out += 4;
        w->bits >>= 32;
        w->n -= 32;
    }
}


/* pads the last byte with zero bits and stores what is left */
static void
sg_pk_align(sg_pk_bits_t *w)
{
    while (w->n > 0) {
        *w->out++ = (unsigned char) w->bits;
        w->bits >>= 8;
        w->n = w->n > 8 ? w->n - 8 : 0;
    }

    w->bits = 0;
}


/*
 * An empty stored block after the current one (zlib's Z_SYNC_FLUSH):
 * the stream then ends on a byte boundary and anything may follow.
 */
static void
sg_pk_sync(sg_pk_bits_t *w)
{
    sg_pk_put(w, 0, 3);                 /* BFINAL 0, BTYPE 00 */
    sg_pk_align(w);
    w->out[0] = 0x00;                   /* LEN 0, NLEN ~0 */
    w->out[1] = 0x00;
    w->out[2] = 0xff;
    w->out[3] = 0xff;
    w->out += 4;
}


/* ---- fixed Huffman codes (3.2.6) ---- */

static inline unsigned
sg_pk_log2(uint32_t x)
{
#if defined(__GNUC__)
    return 31 - (unsigned) __builtin_clz(x);
#else
    unsigned  b = 0;

    while (x >>= 1) {
        b++;
    }

    return b;
#endif
}


/* literals 0-143: 8 bits 0x30 + c; 144-255: 9 bits 0x100 + c */
static inline void
sg_pk_literals(sg_pk_bits_t *w, const unsigned char *s, size_t len)
{
    const unsigned char  *end;
    unsigned              c;

    for (end = s + len; s < end; s++) {
        c = *s;

        if (c < 144) {
            sg_pk_put(w, sg_pk_rev8[0x30 + c], 8);

        } else {
            sg_pk_put(w, (uint32_t) sg_pk_rev8[c] << 1 | 1, 9);
        }
    }
}


/*
 * A distance (1 .. 32768) as its 5-bit code and extra bits, the same for
 * every piece of a match; *n receives the number of bits.
 */
static inline uint32_t
sg_pk_distance(uint32_t dist, unsigned *n)
{
    uint32_t  x, sym, extra, base;

    x = dist - 1;
    if (x < 4) {
        *n = 5;
        return sg_pk_rev8[x] >> 3;
    }

    extra = sg_pk_log2(x) - 1;
    sym = 2 * extra + 2 + ((x >> extra) & 1);
    base = 1 + ((2 + (sym & 1)) << extra);

    *n = 5 + extra;
    return (uint32_t) (sg_pk_rev8[sym] >> 3) | (dist - base) << 5;
}


/*
 * A length (3 .. 258) as its code (symbols 257-279: 7 bits, 280-285:
 * 8 bits) and extra bits; *n receives the number of bits.
 */
static inline uint32_t
sg_pk_length(uint32_t len, unsigned *n)
{
    uint32_t  x, sym, extra, base, code;
    unsigned  bits;

    x = len - 3;
    if (x < 8) {
        sym = x;
        extra = 0;
        base = len;

    } else if (len == 258) {
        sym = 28;
        extra = 0;
        base = len;

    } else {
        extra = sg_pk_log2(x) - 2;
        sym = 4 * extra + 4 + ((x >> extra) & 3);
        base = 3 + ((4 + (sym & 3)) << extra);
    }

    if (sym < 23) {
        code = sg_pk_rev8[sym + 1] >> 1;
        bits = 7;

    } else {
        code = sg_pk_rev8[0xc0 + sym - 23];
        bits = 8;
    }

    *n = bits + extra;
    return code | (len - base) << bits;
}


/* a match in pieces of 3 .. 258 bytes, one 31-bit put per piece */
static void
sg_pk_match(sg_pk_bits_t *w, size_t len, uint32_t dist)
{
    uint32_t  d, l, v;
    unsigned  dn, ln;

    d = sg_pk_distance(dist, &dn);

    while (len > 0) {
        l = len > 258 ? 258 : (uint32_t) len;
        if (len - l > 0 && len - l < 3) {
            l = (uint32_t) len - 3;
        }

        v = sg_pk_length(l, &ln);
        sg_pk_put(w, v | d << ln, ln + dn);
        len -= l;
    }
}


/* ---- the pack ---- */

/* the first difference of a[] and b[] (n if none) */
static inline size_t
sg_pk_common(const unsigned char *a, const unsigned char *b, size_t n)
{
    size_t  i = 0;

#if defined(__GNUC__) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t  x0, y0;

#if defined(__SSE2__)
    __m128i   u0, u1;
    unsigned  m0, m1;

    /* 32 bytes a step; comparing is most of the time of a record */
    while (n - i >= 32) {
        u0 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *) (a + i)),
                            _mm_loadu_si128((const __m128i *) (b + i)));
        u1 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *) (a + i + 16)),
                            _mm_loadu_si128((const __m128i *) (b + i + 16)));

        if (_mm_movemask_epi8(_mm_and_si128(u0, u1)) != 0xffff) {
            m0 = (unsigned) _mm_movemask_epi8(u0) ^ 0xffff;
            m1 = (unsigned) _mm_movemask_epi8(u1) ^ 0xffff;
            return i + (unsigned) __builtin_ctz(m0 | m1 << 16);
        }

        i += 32;
    }
#endif

    while (n - i >= 8) {
        memcpy(&x0, a + i, 8);
        memcpy(&y0, b + i, 8);
        if (x0 != y0) {
            return i + ((unsigned) __builtin_ctzll(x0 ^ y0) >> 3);
        }

        i += 8;
    }

    if (n >= 8) {
        /* the last 8 bytes, overlapping what is known to be equal */
        memcpy(&x0, a + n - 8, 8);
        memcpy(&y0, b + n - 8, 8);
        if (x0 == y0) {
            return n;
        }

        return n - 8 + ((unsigned) __builtin_ctzll(x0 ^ y0) >> 3);
    }
#endif

    while (i < n && a[i] == b[i]) {
        i++;
    }

    return i;
}


/*
 * A multiplicative hash of the first bytes; the top 8 bits index sig[].
 * Four independent lanes, unrolled for whole 96 bytes: one chain of 12
 * multiplications was a fifth of the time of a record.
 */
static inline void
sg_pk_mix(uint64_t *h, const unsigned char *s)
{
    uint64_t  x;

    memcpy(&x, s, 8);
    *h = (*h ^ x) * 0x9E3779B97F4A7C15ULL;
}


static unsigned
sg_pk_signature(const unsigned char *s, size_t len)
{
    uint64_t  h[4], x;
    size_t    i;

    h[0] = 1;
    h[1] = 2;
    h[2] = 3;
    h[3] = 4;

    if (len >= SG_PK_SIG_LEN) {
        for (i = 0; i < SG_PK_SIG_LEN; i += 32) {
            sg_pk_mix(&h[0], s + i);
            sg_pk_mix(&h[1], s + i + 8);
            sg_pk_mix(&h[2], s + i + 16);
            sg_pk_mix(&h[3], s + i + 24);
        }

    } else {
        for (i = 0; i + 8 <= len; i += 8) {
            sg_pk_mix(&h[(i >> 3) & 3], s + i);
        }

        x = 0;
        memcpy(&x, s + i, len - i);
        h[0] = (h[0] ^ x ^ len) * 0x9E3779B97F4A7C15ULL;
    }

    h[0] = (h[0] ^ h[1]) * 0xC2B2AE3D27D4EB4FULL;
    h[2] = (h[2] ^ h[3]) * 0xC2B2AE3D27D4EB4FULL;

    return (unsigned) (((h[0] ^ (h[2] >> 29)) * 0x9E3779B97F4A7C15ULL) >> 56);
}


/* zlib's crc32() takes an unsigned int length */
static uint32_t
sg_pk_crc(uint32_t crc, const unsigned char *s, size_t len)
{
    size_t  n;

    while (len > 0) {
        n = len < 0x40000000 ? len : 0x40000000;
        crc = (uint32_t) crc32(crc, s, (uInt) n);
        s += n;
        len -= n;
    }

    return crc;
}


static int
sg_pk_grow(unsigned char **buf, size_t *cap, size_t len, size_t need)
{
    unsigned char  *p;
    size_t          c;

    if (need <= *cap - len) {
        return 0;
    }

    if (need > (size_t) -1 / 2 - len) {
        return -1;
    }

    c = *cap ? *cap : 4096;
    while (c < len + need) {
        c *= 2;
    }

    p = realloc(*buf, c);
    if (p == NULL) {
        return -1;
    }

    *buf = p;
    *cap = c;

    return 0;
}


void
statsig_pack_init(statsig_pack_t *p)
{
    memset(p, 0, sizeof(*p));
}


void
statsig_pack_reset(statsig_pack_t *p)
{
    unsigned char  *raw, *out;
    size_t          raw_cap, out_cap;

    raw = p->raw;
    raw_cap = p->raw_cap;
    out = p->out;
    out_cap = p->out_cap;

    memset(p, 0, sizeof(*p));

    p->raw = raw;
    p->raw_cap = raw_cap;
    p->out = out;
    p->out_cap = out_cap;
}


void
statsig_pack_free(statsig_pack_t *p)
{
    free(p->raw);
    free(p->out);
    statsig_pack_init(p);
}


/*
 * The reference for a record at raw[start .. start + len) that follows
 * sep_len separator bytes: the last record with the same signature or
 * the previous record, whichever shares the longer prefix with it (the
 * separators included when the reference has the same one before it).
 * Returns 0 when neither is in the window, else sets *at (the first byte
 * of the record or its separator that the reference covers), *ref and
 * *run (their common prefix).
 */
static int
sg_pk_reference(const statsig_pack_t *p, size_t start, size_t len,
    size_t sep_len, uint32_t sig, size_t *at, size_t *ref, size_t *run)
{
    const unsigned char  *w;
    size_t                cand[2], a, b, m, best_end;
    int                   i, found;

    w = p->raw;
    cand[0] = sig ? sig - 1 : start;
    cand[1] = p->records ? p->last : start;
    found = 0;
    best_end = 0;

    for (i = 0; i < 2; i++) {
        b = cand[i];
        if (b >= start || start - b > SG_PK_WINDOW
            || (i == 1 && b == cand[0]))
        {
            continue;
        }

        /* the separators too if the reference has the same before it */
        a = start;
        if (sep_len > 0 && b >= sep_len
            && sg_pk_common(w + b - sep_len, w + start - sep_len, sep_len)
               == sep_len)
        {
            a -= sep_len;
            b -= sep_len;
        }

        m = sg_pk_common(w + a, w + b, start + len - a < start - b
                                       ? start + len - a : start - b);

        /* on a tie the nearer one: shorter distance codes */
        if (!found || a + m > best_end
            || (a + m == best_end && b > *ref))
        {
            found = 1;
            best_end = a + m;
            *at = a;
            *ref = b;
            *run = m;
        }
    }

    return found;
}


/*
 * raw[from .. end) against the reference from ref on, which may run up to
 * limit (the start of the record: the reference record and whatever
 * followed it); run is the common prefix already measured there.
 */
static void
sg_pk_delta(sg_pk_bits_t *w, const unsigned char *raw, size_t from,
    size_t end, size_t ref, size_t limit, size_t run)
{
    const unsigned char  *hit;
    size_t                a, b, m, lit, stop;

    a = from;
    b = ref;
    m = run;
    lit = from;

    while (a < end) {
        if (m >= SG_PK_MIN_RUN && a - b <= SG_PK_WINDOW) {
            sg_pk_literals(w, raw + lit, a - lit);
            sg_pk_match(w, m, (uint32_t) (a - b));
            a += m;
            b += m;
            lit = a;

        } else {
            /* resync: the next delimiter from the difference on */
            a += m;
            b += m;

            while (a < end && !sg_pk_delim[raw[a]]) {
                a++;
            }

            if (a >= end || b >= limit) {
                break;
            }

            /* mostly a few bytes on: memchr() only past the first 16 */
            stop = limit - b > 16 ? b + 16 : limit;
            while (b < stop && raw[b] != raw[a]) {
                b++;
            }

            if (b == stop) {
                if (b == limit) {
                    break;
                }

                hit = memchr(raw + b, raw[a], limit - b);
                if (hit == NULL) {
                    break;
                }

                b = (size_t) (hit - raw);
            }
        }

        m = sg_pk_common(raw + a, raw + b,
                         end - a < limit - b ? end - a : limit - b);
    }

    sg_pk_literals(w, raw + lit, end - lit);
}


int
statsig_pack_add(statsig_pack_t *p, const void *sep, size_t sep_len,
    const void *rec, size_t len)
{
    sg_pk_bits_t  w;
    size_t        from, start, end, at, ref, run, n;
    unsigned      h;

    if (p->failed || p->finished) {
        return -1;
    }

    if (sep_len > SG_PK_MAX_ADD || len > SG_PK_MAX_ADD - sep_len) {
        p->failed = 1;
        return -1;
    }

    n = sep_len + len;

    if (n == 0) {
        p->records++;       /* nothing to write, nothing to refer to */
        return 0;
    }

    /* 9 bits per byte at most (a match costs less), a block header */
    if (sg_pk_grow(&p->raw, &p->raw_cap, p->raw_len, n) != 0
        || sg_pk_grow(&p->out, &p->out_cap, p->out_len, n + n / 8 + 16)
           != 0)
    {
        p->failed = 1;
        return -1;
    }

    from = p->raw_len;
    start = from + sep_len;
    end = start + len;

    if (sep_len) {
        memcpy(p->raw + from, sep, sep_len);
    }

    if (len) {
        memcpy(p->raw + start, rec, len);
    }

    p->raw_len = end;

    if (end - p->crc_len >= SG_PK_CRC_CHUNK) {
        p->crc = sg_pk_crc(p->crc, p->raw + p->crc_len, end - p->crc_len);
        p->crc_len = end;
    }

    w.out = p->out + p->out_len;
    w.bits = p->bits;
    w.n = p->nbits;

    if (!p->open) {
        sg_pk_put(&w, 2, 3);            /* BFINAL 0, BTYPE 01 */
        p->open = 1;
    }

    h = sg_pk_signature(p->raw + start, len);

    if (sg_pk_reference(p, start, len, sep_len, p->sig[h], &at, &ref, &run)) {
        sg_pk_literals(&w, p->raw + from, at - from);
        sg_pk_delta(&w, p->raw, at, end, ref, start, run);

    } else {
        sg_pk_literals(&w, p->raw + from, end - from);
    }

    p->out_len = (size_t) (w.out - p->out);
    p->bits = w.bits;
    p->nbits = w.n;

    /* positions past 4 GB are not remembered: such records go literal */
    if (start < (uint32_t) -1) {
        p->sig[h] = (uint32_t) start + 1;
    }

    p->last = start;
    p->records++;

    return 0;
}


int
statsig_pack_finish(statsig_pack_t *p)
{
    sg_pk_bits_t  w;

    if (p->failed) {
        return -1;
    }

    if (p->finished) {
        return 0;
    }

    p->finished = 1;

    if (p->raw_len > p->crc_len) {
        p->crc = sg_pk_crc(p->crc, p->raw + p->crc_len,
                           p->raw_len - p->crc_len);
        p->crc_len = p->raw_len;
    }

    if (!p->open) {
        return 0;
    }

    if (sg_pk_grow(&p->out, &p->out_cap, p->out_len, 16) != 0) {
        p->failed = 1;
        return -1;
    }

    w.out = p->out + p->out_len;
    w.bits = p->bits;
    w.n = p->nbits;

    sg_pk_put(&w, 0, SG_PK_EOB_BITS);
    sg_pk_sync(&w);

    p->out_len = (size_t) (w.out - p->out);
    p->bits = 0;
    p->nbits = 0;
    p->open = 0;

    return 0;
}


/* ---- gzip ---- */

void
statsig_gzip_header(unsigned char *out)
{
    static const unsigned char  header[STATSIG_GZIP_HEADER_LEN] = {
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff   /* deflate, no time, OS ? */
    };

    memcpy(out, header, sizeof(header));
}


void
statsig_gzip_trailer(unsigned char *out, uint32_t crc, uint64_t size)
{
    int  i;

    for (i = 0; i < 4; i++) {
        out[i] = (unsigned char) (crc >> (8 * i));
        out[4 + i] = (unsigned char) (size >> (8 * i));
    }
}


size_t
statsig_deflate_literals_bound(size_t len)
{
    /* 3 + 9 len + 7 bits, then 3 bits, padding and 4 bytes */
    return len + len / 8 + 16;
}


size_t
statsig_deflate_literals(unsigned char *out, const void *data, size_t len,
    int final)
{
    sg_pk_bits_t  w;

    w.out = out;
    w.bits = 0;
    w.n = 0;

    sg_pk_put(&w, final ? 3 : 2, 3);    /* BFINAL, BTYPE 01 */
    if (len) {
        sg_pk_literals(&w, data, len);
    }
    sg_pk_put(&w, 0, SG_PK_EOB_BITS);

    if (final) {
        sg_pk_align(&w);

    } else {
        sg_pk_sync(&w);
    }

    return (size_t) (w.out - out);
}
