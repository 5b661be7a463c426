/*
 * Packs: records deflate-encoded against an earlier record of the same
 * pack (see pack.h).
 *
 * A record is compared with its reference a word or a vector at a time;
 * a common run of 4 or more bytes becomes a back-reference.  At a
 * difference both sides skip to the next occurrence of the same JSON
 * delimiter (the end of a changed id or number, mostly) and compare
 * again; what the record skipped goes out as literals.  Before that, the
 * record before, aligned by the end, is tried (sg_pk_alt: what a
 * request's exposures share).  Every byte is compared or scanned once
 * (and at most 16 more a difference), so a record costs O(its length +
 * the reference region), whatever it holds.
 *
 * Symbols are written as they come, in one block per pack: a fixed-
 * Huffman block (RFC 1951, 3.2.6) for the first pack, then a dynamic one
 * (3.2.7) with codes built from the counts of the pack before, which a
 * sink's next pack resembles: events of the same kind.  No symbol is
 * buffered and nothing is encoded twice, except a record those codes
 * would make cost more than 9 bits a byte.
 */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define SG_PK_AVX2  1
#include <immintrin.h>
#endif

#include "crc32.h"
#include "huffman.h"
#include "pack.h"


#define SG_PK_WINDOW    32768   /* deflate's largest distance */
#define SG_PK_MIN_RUN   4       /* shorter runs cost more as a match */
#define SG_PK_SIG_LEN   96      /* bytes a record's signature covers */
#define SG_PK_MAX_ADD   ((size_t) -1 / 16)  /* out's bound cannot overflow */

/*
 * raw is summed in chunks: a call costs more than a record's bytes (zlib's
 * crc32() ~100 ns, where PCLMULQDQ is missing)
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
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        uint32_t  u = (uint32_t) w->bits;

        memcpy(w->out, &u, 4);
#else
        w->out[0] = (unsigned char) w->bits;
        w->out[1] = (unsigned char) (w->bits >> 8);
        w->out[2] = (unsigned char) (w->bits >> 16);
        w->out[3] = (unsigned char) (w->bits >> 24);
#endif
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


/* a distance (1 .. 32768): its symbol, extra bits and their number */
static inline unsigned
sg_pk_distance_sym(uint32_t dist, uint32_t *extra, unsigned *n)
{
    uint32_t  x, sym, bits;

    x = dist - 1;
    if (x < 4) {
        *extra = 0;
        *n = 0;
        return x;
    }

    bits = sg_pk_log2(x) - 1;
    sym = 2 * bits + 2 + ((x >> bits) & 1);

    *extra = dist - 1 - ((2 + (sym & 1)) << bits);
    *n = bits;
    return sym;
}


/* a length (3 .. 258): its symbol less 257, extra bits and their number */
static inline unsigned
sg_pk_length_sym(uint32_t len, uint32_t *extra, unsigned *n)
{
    uint32_t  x, sym, bits;

    x = len - 3;
    if (x < 8 || len == 258) {
        *extra = 0;
        *n = 0;
        return x < 8 ? x : 28;
    }

    bits = sg_pk_log2(x) - 2;
    sym = 4 * bits + 4 + ((x >> bits) & 3);

    *extra = len - 3 - ((4 + (sym & 3)) << bits);
    *n = bits;
    return sym;
}


/* the fixed code of length symbol 257 + sym: 7 bits to 279, then 8 */
static inline uint32_t
sg_pk_fixed_length(unsigned sym, unsigned *n)
{
    if (sym < 23) {
        *n = 7;
        return sg_pk_rev8[sym + 1] >> 1;
    }

    *n = 8;
    return sg_pk_rev8[0xc0 + sym - 23];
}


/* ---- a pack's codes: fixed, or built from the last pack's counts ---- */

#define SG_PK_NLIT       286    /* literal/length symbols */
#define SG_PK_NDIST      30
#define SG_PK_MAX_BITS   15     /* deflate's longest code */
#define SG_PK_ADAPT_MIN  1024   /* symbols a pack needs to set codes */


/* the lengths' codes from lit_code and lit_len: a match looks them up */
static void
sg_pk_len_codes(statsig_pack_t *p)
{
    uint32_t  x;
    unsigned  i, s, xn;

    for (i = 0; i < 256; i++) {
        s = sg_pk_length_sym(i + 3, &x, &xn);
        p->len_code[i] = p->lit_code[257 + s] | x << p->lit_len[257 + s];
        p->len_bits[i] = (unsigned char) (p->lit_len[257 + s] + xn);
        p->len_sym[i] = (unsigned char) s;
    }
}


/* the fixed codes (3.2.6) in the tables a pack writes with */
static void
sg_pk_fixed_codes(statsig_pack_t *p)
{
    unsigned  i, n;

    for (i = 0; i < 256; i++) {
        if (i < 144) {
            p->lit_code[i] = sg_pk_rev8[0x30 + i];
            p->lit_len[i] = 8;

        } else {
            p->lit_code[i] = (uint16_t) (sg_pk_rev8[i] << 1 | 1);
            p->lit_len[i] = 9;
        }
    }

    p->lit_code[256] = 0;                   /* end of block: 7 zeros */
    p->lit_len[256] = 7;

    for (i = 257; i < SG_PK_NLIT; i++) {
        p->lit_code[i] = (uint16_t) sg_pk_fixed_length(i - 257, &n);
        p->lit_len[i] = (unsigned char) n;
    }

    for (i = 0; i < SG_PK_NDIST; i++) {
        p->dist_code[i] = sg_pk_rev8[i] >> 3;
        p->dist_len[i] = 5;
    }

    sg_pk_len_codes(p);
    p->head_bits = 0;
}


/* a pack's block header: fixed, or dynamic with the pack's codes */
static void
sg_pk_open(statsig_pack_t *p, sg_pk_bits_t *w)
{
    unsigned  i;

    if (p->head_bits == 0) {
        sg_pk_put(w, 2, 3);             /* BFINAL 0, BTYPE 01 */
        return;
    }

    for (i = 0; i < p->head_bits / 8; i++) {
        sg_pk_put(w, p->head[i], 8);
    }

    sg_pk_put(w, p->head[i] & ((1u << (p->head_bits % 8)) - 1),
              p->head_bits % 8);
}


/* literals written with the pack's codes, and counted */
static inline void
sg_pk_lit_run(statsig_pack_t *p, sg_pk_bits_t *w, const unsigned char *s,
    size_t len)
{
    const unsigned char  *end;
    unsigned              c;

    for (end = s + len; s < end; s++) {
        c = *s;
        sg_pk_put(w, p->lit_code[c], p->lit_len[c]);
        p->lit_freq[c]++;
    }
}


/* a match in pieces of 3 .. 258 bytes */
static void
sg_pk_match(statsig_pack_t *p, sg_pk_bits_t *w, size_t len, uint32_t dist)
{
    uint32_t  d, x, l, v;
    unsigned  ds, dn, ls, ln, xn;

    ds = sg_pk_distance_sym(dist, &x, &xn);
    d = p->dist_code[ds] | x << p->dist_len[ds];
    dn = p->dist_len[ds] + xn;

    while (len > 0) {
        l = len > 258 ? 258 : (uint32_t) len;
        if (len - l > 0 && len - l < 3) {
            l = (uint32_t) len - 3;
        }

        ls = 257 + p->len_sym[l - 3];
        v = p->len_code[l - 3];
        ln = p->len_bits[l - 3];

        /* up to 15 + 5 and 15 + 13 bits: one put, or two past 32 */
        if (ln + dn <= 32) {
            sg_pk_put(w, v | d << ln, ln + dn);

        } else {
            sg_pk_put(w, v, ln);
            sg_pk_put(w, d, dn);
        }

        p->lit_freq[ls]++;
        p->dist_freq[ds]++;
        len -= l;
    }
}


/* ---- the pack ---- */

#ifdef SG_PK_AVX2

/* 0: CPU not asked yet, 1: no AVX2 (or statsig_pack_wide(0)), 2: AVX2 */
static int  sg_pk_cpu;


/*
 * sg_pk_common() for n >= 64 on CPUs with AVX2: 64 bytes a step, the
 * last 1-63 in 32-byte steps, the last one overlapping bytes known equal
 */
static __attribute__((target("avx2"), noinline)) size_t
sg_pk_common_avx2(const unsigned char *a, const unsigned char *b, size_t n)
{
    __m256i   u0, u1;
    uint32_t  m0, m1;
    size_t    i;

    for (i = 0; n - i >= 64; i += 64) {
        u0 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *) (a + i)),
                               _mm256_loadu_si256((const __m256i *) (b + i)));
        u1 = _mm256_cmpeq_epi8(
                 _mm256_loadu_si256((const __m256i *) (a + i + 32)),
                 _mm256_loadu_si256((const __m256i *) (b + i + 32)));

        if ((uint32_t) _mm256_movemask_epi8(_mm256_and_si256(u0, u1))
            != 0xffffffff)
        {
            m0 = ~(uint32_t) _mm256_movemask_epi8(u0);
            m1 = ~(uint32_t) _mm256_movemask_epi8(u1);

            return i + (unsigned) __builtin_ctzll(m0 | (uint64_t) m1 << 32);
        }
    }

    while (i < n) {
        if (n - i < 32) {
            i = n - 32;
        }

        u0 = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *) (a + i)),
                               _mm256_loadu_si256((const __m256i *) (b + i)));
        m0 = ~(uint32_t) _mm256_movemask_epi8(u0);

        if (m0) {
            return i + (unsigned) __builtin_ctz(m0);
        }

        i += 32;
    }

    return n;
}

#endif


/* the first difference of a[] and b[] (n if none); a few calls a record */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline size_t
sg_pk_common(const unsigned char *a, const unsigned char *b, size_t n)
{
    size_t  i = 0;

#ifdef SG_PK_AVX2
    if (n >= 64 && sg_pk_cpu == 2) {
        return sg_pk_common_avx2(a, b, n);
    }
#endif

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
 * Whole 96 bytes: twelve words, each times a constant of its own, summed
 * (no chain: a multiply with its load a word), then mixed once.  It only
 * picks a candidate reference: a collision costs compression, not
 * correctness.
 */
static inline void
sg_pk_mix(uint64_t *h, const unsigned char *s)
{
    uint64_t  x;

    memcpy(&x, s, 8);
    *h = (*h ^ x) * 0x9E3779B97F4A7C15ULL;
}


static inline uint64_t
sg_pk_word(const unsigned char *s, uint32_t k)
{
    uint64_t  x;

    memcpy(&x, s, 8);
    return x * k;
}


static unsigned
sg_pk_signature(const unsigned char *s, size_t len)
{
    uint64_t  h[4], x;
    size_t    i;

    if (len >= SG_PK_SIG_LEN) {
        h[0] = sg_pk_word(s, 0x9E3779B1u) + sg_pk_word(s + 8, 0x85EBCA77u)
               + sg_pk_word(s + 16, 0xC2B2AE3Du)
               + sg_pk_word(s + 24, 0x27D4EB2Fu)
               + sg_pk_word(s + 32, 0x165667B1u)
               + sg_pk_word(s + 40, 0xD3A2646Bu);
        h[1] = sg_pk_word(s + 48, 0xFD7046C5u)
               + sg_pk_word(s + 56, 0xB55A4F09u)
               + sg_pk_word(s + 64, 0x7FEB352Du)
               + sg_pk_word(s + 72, 0x846CA68Bu)
               + sg_pk_word(s + 80, 0x2C1B3C6Du)
               + sg_pk_word(s + 88, 0x297A2D39u);
        x = h[0] + h[1];
        x ^= x >> 29;

        return (unsigned) ((x * 0x9E3779B97F4A7C15ULL) >> 56);
    }

    h[0] = 1;
    h[1] = 2;
    h[2] = 3;
    h[3] = 4;

    for (i = 0; i + 8 <= len; i += 8) {
        sg_pk_mix(&h[(i >> 3) & 3], s + i);
    }

    x = 0;
    memcpy(&x, s + i, len - i);
    h[0] = (h[0] ^ x ^ len) * 0x9E3779B97F4A7C15ULL;

    h[0] = (h[0] ^ h[1]) * 0xC2B2AE3D27D4EB4FULL;
    h[2] = (h[2] ^ h[3]) * 0xC2B2AE3D27D4EB4FULL;

    return (unsigned) (((h[0] ^ (h[2] >> 29)) * 0x9E3779B97F4A7C15ULL) >> 56);
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
    sg_pk_fixed_codes(p);

#ifdef SG_PK_AVX2
    /* threads may race here: all store the same answer */
    if (__atomic_load_n(&sg_pk_cpu, __ATOMIC_RELAXED) == 0) {
        statsig_pack_wide(1);
    }
#endif
}


void
statsig_pack_wide(int wide)
{
#ifdef SG_PK_AVX2
    int  cpu;

    cpu = 1;

    if (wide) {
        __builtin_cpu_init();
        cpu = __builtin_cpu_supports("avx2") ? 2 : 1;
    }

    __atomic_store_n(&sg_pk_cpu, cpu, __ATOMIC_RELAXED);
#else
    (void) wide;
#endif
}


/* what a pack holds is forgotten; its memory and codes are kept */
void
statsig_pack_reset(statsig_pack_t *p)
{
    p->raw_len = 0;
    p->out_len = 0;
    p->crc = 0;
    p->crc_len = 0;
    p->records = 0;
    p->bits = 0;
    p->nbits = 0;
    p->open = 0;
    p->finished = 0;
    p->last = 0;
    p->failed = 0;
    memset(p->sig, 0, sizeof(p->sig));
    memset(p->lit_freq, 0, sizeof(p->lit_freq));
    memset(p->dist_freq, 0, sizeof(p->dist_freq));
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
#define SG_PK_REF_ENOUGH  64

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

        /*
         * a record that shares its head with the last of its signature
         * (the same event of the same entity) is not compared again
         */
        if (m >= SG_PK_REF_ENOUGH) {
            break;
        }
    }

    return found;
}


/*
 * At a difference, the bytes back bytes before: the same place counted
 * from the end in the record before, when it ends as this one does.  The
 * exposures of a request share their user and time section, and what
 * follows it has the same length, but the reference (the same gate in
 * the last request) has another user: one match, not a resync a field.
 * A first word must be equal; then the run must reach SG_PK_ALT_RUN
 * bytes or the end of the record.
 */
#define SG_PK_ALT_RUN   16

static inline size_t
sg_pk_alt(const unsigned char *raw, size_t a, size_t end, size_t back)
{
    size_t  m;

    if (back > a || back > SG_PK_WINDOW || end - a < 8
        || memcmp(raw + a, raw + a - back, 8) != 0)
    {
        return 0;
    }

    m = 8 + sg_pk_common(raw + a + 8, raw + a - back + 8, end - a - 8);

    return (m >= SG_PK_ALT_RUN || a + m == end) ? m : 0;
}


/*
 * raw[from .. end) against the reference from ref on, which may run up to
 * limit (the start of the record: the reference record and whatever
 * followed it); run is the common prefix already measured there.  back:
 * the separator's and record's length, for sg_pk_alt().
 */
static void
sg_pk_delta(statsig_pack_t *p, sg_pk_bits_t *w, size_t from, size_t end,
    size_t ref, size_t limit, size_t run, size_t back)
{
    const unsigned char  *raw, *hit;
    size_t                a, b, m, lit, stop;

    raw = p->raw;

    a = from;
    b = ref;
    m = run;
    lit = from;

    while (a < end) {
        if (m >= SG_PK_MIN_RUN && a - b <= SG_PK_WINDOW) {
            sg_pk_lit_run(p, w, raw + lit, a - lit);
            sg_pk_match(p, w, m, (uint32_t) (a - b));
            a += m;
            b += m;
            lit = a;

            /*
             * a run ends where the bytes differ or a side ends: the
             * compare there would find nothing
             */
            m = 0;
            continue;

        } else {
            a += m;
            b += m;

            m = sg_pk_alt(raw, a, end, back);
            if (m) {
                b = a - back;
                continue;
            }

            /* resync: the next delimiter from the difference on */
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

    sg_pk_lit_run(p, w, raw + lit, end - lit);
}


/* raw[from .. end): separators, then the record at start of signature h */
static void
sg_pk_encode(statsig_pack_t *p, sg_pk_bits_t *w, size_t from, size_t start,
    size_t end, unsigned h)
{
    size_t  at, ref, run;

    if (sg_pk_reference(p, start, end - start, start - from, p->sig[h], &at,
                        &ref, &run))
    {
        sg_pk_lit_run(p, w, p->raw + from, at - from);
        sg_pk_delta(p, w, at, end, ref, start, run, end - from);

    } else {
        sg_pk_lit_run(p, w, p->raw + from, end - from);
    }
}


int
statsig_pack_add(statsig_pack_t *p, const void *sep, size_t sep_len,
    const void *rec, size_t len)
{
    sg_pk_bits_t  w, mark;
    size_t        from, start, end, n;
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

    /*
     * codes of 15 bits at most: 2 bytes a byte before the check below
     * (a match costs less), a block header, end of block and another
     */
    if (sg_pk_grow(&p->raw, &p->raw_cap, p->raw_len, n) != 0
        || sg_pk_grow(&p->out, &p->out_cap, p->out_len,
                      2 * n + 16 + STATSIG_PACK_HEAD_MAX) != 0)
    {
        p->failed = 1;
        return -1;
    }

    from = p->raw_len;
    start = from + sep_len;
    end = start + len;

    /* mostly "," between events: not worth a call */
    if (sep_len == 1) {
        p->raw[from] = *(const unsigned char *) sep;

    } else if (sep_len) {
        memcpy(p->raw + from, sep, sep_len);
    }

    if (len) {
        memcpy(p->raw + start, rec, len);
    }

    p->raw_len = end;

    if (end - p->crc_len >= SG_PK_CRC_CHUNK) {
        p->crc = statsig_crc32(p->crc, p->raw + p->crc_len,
                               end - p->crc_len);
        p->crc_len = end;
    }

    w.out = p->out + p->out_len;
    w.bits = p->bits;
    w.n = p->nbits;

    if (!p->open) {
        sg_pk_open(p, &w);
        p->open = 1;
    }

    h = sg_pk_signature(p->raw + start, len);
    mark = w;

    sg_pk_encode(p, &w, from, start, end, h);

    /*
     * Codes from an earlier pack can make a record of other bytes cost
     * more than 9 bits a byte: it is written again, after the end of the
     * dynamic block, in a fixed one that holds the rest of the pack
     */
    if (p->head_bits
        && (size_t) (w.out - mark.out) * 8 + w.n - mark.n > 9 * n)
    {
        w = mark;
        sg_pk_put(&w, p->lit_code[256], p->lit_len[256]);
        sg_pk_fixed_codes(p);
        sg_pk_put(&w, 2, 3);            /* BFINAL 0, BTYPE 01 */
        sg_pk_encode(p, &w, from, start, end, h);
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


/* ---- codes for the next pack (3.2.2, 3.2.7), built at finish ---- */

/* canonical codes (3.2.2), bit-reversed for the LSB-first writer */
static void
sg_pk_codes(const unsigned char *len, unsigned n, uint16_t *code)
{
    unsigned  count[16], next[16], i, c, l;

    memset(count, 0, sizeof(count));
    for (i = 0; i < n; i++) {
        count[len[i]]++;
    }

    count[0] = 0;
    c = 0;
    for (l = 1; l < 16; l++) {
        c = (c + count[l - 1]) << 1;
        next[l] = c;
    }

    for (i = 0; i < n; i++) {
        l = len[i];
        if (l) {
            c = next[l]++;
            c = (unsigned) sg_pk_rev8[c & 0xff] << 8 | sg_pk_rev8[c >> 8];
            code[i] = (uint16_t) (c >> (16 - l));
        }
    }
}


static const unsigned char  sg_pk_cl_order[19] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15
};

static const unsigned char  sg_pk_cl_extra[19] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7
};


typedef struct {
    uint16_t   cl[SG_PK_NLIT + SG_PK_NDIST];     /* symbol | extra << 5 */
    unsigned   ncl;
    uint32_t   freq[19];
} sg_pk_cl_t;


static void
sg_pk_cl_add(sg_pk_cl_t *t, unsigned sym, unsigned extra)
{
    t->cl[t->ncl++] = (uint16_t) (sym | extra << 5);
    t->freq[sym]++;
}


/* code lengths, run-length coded (3.2.7): 16 repeats, 17 and 18 zeros */
static void
sg_pk_cl_encode(sg_pk_cl_t *t, const unsigned char *all, unsigned n)
{
    unsigned  i, run, r, l;

    memset(t->freq, 0, sizeof(t->freq));
    t->ncl = 0;

    for (i = 0; i < n; i += run) {
        l = all[i];
        for (run = 1; i + run < n && all[i + run] == l; run++) {
            /* void */
        }

        r = run;

        if (l == 0) {
            for ( /* void */ ; r >= 11; r -= r < 138 ? r : 138) {
                sg_pk_cl_add(t, 18, (r < 138 ? r : 138) - 11);
            }

            if (r >= 3) {
                sg_pk_cl_add(t, 17, r - 3);
                r = 0;
            }

        } else {
            sg_pk_cl_add(t, l, 0);
            for (r--; r >= 3; r -= r < 6 ? r : 6) {
                sg_pk_cl_add(t, 16, (r < 6 ? r : 6) - 3);
            }
        }

        while (r-- > 0) {
            sg_pk_cl_add(t, l, 0);
        }
    }
}


/*
 * After a pack of some size: codes for the next packs from its counts,
 * every symbol kept codable (one more each); kept only if they would have
 * written this pack in fewer bits than the fixed codes, header included.
 * (The counts may hold a record twice, see statsig_pack_add.)
 */
static void
sg_pk_adapt(statsig_pack_t *p)
{
    unsigned char  all[SG_PK_NLIT + SG_PK_NDIST], cl_len[19];
    uint16_t       cl_code[19];
    uint32_t       lit[SG_PK_NLIT], dist[SG_PK_NDIST];
    sg_pk_cl_t     t;
    sg_pk_bits_t   w;
    uint64_t       used, fixed, dyn, head, cur;
    unsigned       i, s, hclen;

    used = 0;
    fixed = 0;
    cur = 0;

    for (i = 0; i < SG_PK_NLIT; i++) {
        used += p->lit_freq[i];
        fixed += (uint64_t) p->lit_freq[i]
                 * (i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8);
        cur += (uint64_t) p->lit_freq[i] * p->lit_len[i];
        lit[i] = p->lit_freq[i] + 1;
    }

    for (i = 0; i < SG_PK_NDIST; i++) {
        fixed += (uint64_t) p->dist_freq[i] * 5;
        cur += (uint64_t) p->dist_freq[i] * p->dist_len[i];
        dist[i] = p->dist_freq[i] + 1;
    }

    /* too few to go by; past 1 GB the counts could have wrapped */
    if (used < SG_PK_ADAPT_MIN || p->raw_len > (size_t) 1 << 30) {
        return;
    }

    /*
     * Codes built from a pack of the same traffic (the same kind of
     * events) are kept while they write a pack's symbols within 1/32 of
     * as short as they wrote those of the pack they were built from:
     * building them again costs more than the pack's encoding saves
     */
    if (p->head_bits && p->code_syms
        && (double) cur / (double) used
           <= (double) p->code_bits / (double) p->code_syms * (33.0 / 32))
    {
        return;
    }

    statsig_huffman_lengths(lit, SG_PK_NLIT, SG_PK_MAX_BITS, all);
    statsig_huffman_lengths(dist, SG_PK_NDIST, SG_PK_MAX_BITS,
                       all + SG_PK_NLIT);

    sg_pk_cl_encode(&t, all, SG_PK_NLIT + SG_PK_NDIST);
    statsig_huffman_lengths(t.freq, 19, 7, cl_len);
    sg_pk_codes(cl_len, 19, cl_code);

    for (hclen = 19; cl_len[sg_pk_cl_order[hclen - 1]] == 0; hclen--) {
        /* void */
    }

    head = 3 + 5 + 5 + 4 + 3 * hclen;
    for (i = 0; i < 19; i++) {
        head += (uint64_t) t.freq[i] * (cl_len[i] + sg_pk_cl_extra[i]);
    }

    dyn = head;
    for (i = 0; i < SG_PK_NLIT; i++) {
        dyn += (uint64_t) p->lit_freq[i] * all[i];
    }

    for (i = 0; i < SG_PK_NDIST; i++) {
        dyn += (uint64_t) p->dist_freq[i] * all[SG_PK_NLIT + i];
    }

    if (dyn >= fixed + 3 || head > 8 * STATSIG_PACK_HEAD_MAX) {
        sg_pk_fixed_codes(p);
        return;
    }

    memcpy(p->lit_len, all, SG_PK_NLIT);
    memcpy(p->dist_len, all + SG_PK_NLIT, SG_PK_NDIST);
    p->code_bits = dyn - head;
    p->code_syms = used;
    sg_pk_codes(p->lit_len, SG_PK_NLIT, p->lit_code);
    sg_pk_codes(p->dist_len, SG_PK_NDIST, p->dist_code);
    sg_pk_len_codes(p);

    /* the block header, written as it is at the start of each pack */
    w.out = p->head;
    w.bits = 0;
    w.n = 0;

    sg_pk_put(&w, 4, 3);                    /* BFINAL 0, BTYPE 10 */
    sg_pk_put(&w, SG_PK_NLIT - 257, 5);
    sg_pk_put(&w, SG_PK_NDIST - 1, 5);
    sg_pk_put(&w, hclen - 4, 4);

    for (i = 0; i < hclen; i++) {
        sg_pk_put(&w, cl_len[sg_pk_cl_order[i]], 3);
    }

    for (i = 0; i < t.ncl; i++) {
        s = t.cl[i] & 31;
        sg_pk_put(&w, cl_code[s], cl_len[s]);
        sg_pk_put(&w, t.cl[i] >> 5, sg_pk_cl_extra[s]);
    }

    sg_pk_align(&w);
    p->head_bits = (unsigned) head;
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
        p->crc = statsig_crc32(p->crc, p->raw + p->crc_len,
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

    sg_pk_put(&w, p->lit_code[256], p->lit_len[256]);
    sg_pk_sync(&w);

    p->out_len = (size_t) (w.out - p->out);
    p->bits = 0;
    p->nbits = 0;
    p->open = 0;

    sg_pk_adapt(p);

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
    sg_pk_put(&w, 0, 7);                /* end of block: 7 zero bits */

    if (final) {
        sg_pk_align(&w);

    } else {
        sg_pk_sync(&w);
    }

    return (size_t) (w.out - out);
}


size_t
statsig_gzip_packs_bound(const statsig_gzip_t *g, size_t n, size_t len)
{
    return STATSIG_GZIP_HEADER_LEN + STATSIG_GZIP_TRAILER_LEN
           + statsig_deflate_literals_bound(g->prefix_len)
           + statsig_deflate_literals_bound(g->suffix_len)
           + (n ? n - 1 : 0) * statsig_deflate_literals_bound(g->joiner_len)
           + len;
}


size_t
statsig_gzip_packs(const statsig_gzip_t *g, unsigned char *out, size_t cap)
{
    int                    rc;
    size_t                 need, tail, n;
    uint32_t               crc;
    uint64_t               raw;
    unsigned char         *w, *end;
    statsig_gzip_piece_t   pc;

    /* the final block and the trailer always have room at the end */
    tail = statsig_deflate_literals_bound(g->suffix_len)
           + STATSIG_GZIP_TRAILER_LEN;
    need = STATSIG_GZIP_HEADER_LEN
           + statsig_deflate_literals_bound(g->prefix_len);

    if (cap < need + tail) {
        return 0;
    }

    end = out + cap - tail;

    statsig_gzip_header(out);
    w = out + STATSIG_GZIP_HEADER_LEN;

    w += statsig_deflate_literals(w, g->prefix, g->prefix_len, 0);
    crc = statsig_crc32(0, g->prefix, g->prefix_len);
    raw = g->prefix_len;

    for (n = 0; /* void */; n++) {
        rc = g->next(g->data, &pc);

        if (rc == 0) {
            break;
        }

        if (rc != 1) {
            return 0;
        }

        need = pc.len
               + (n ? statsig_deflate_literals_bound(g->joiner_len) : 0);

        if ((size_t) (end - w) < need) {
            return 0;
        }

        if (n) {
            w += statsig_deflate_literals(w, g->joiner, g->joiner_len, 0);

            crc = statsig_crc32(crc, g->joiner, g->joiner_len);
            raw += g->joiner_len;
        }

        if (pc.len) {
            memcpy(w, pc.data, pc.len);
            w += pc.len;
        }

        crc = crc32_combine(crc, pc.crc, (z_off_t) pc.raw);
        raw += pc.raw;
    }

    w += statsig_deflate_literals(w, g->suffix, g->suffix_len, 1);

    crc = statsig_crc32(crc, g->suffix, g->suffix_len);
    raw += g->suffix_len;

    statsig_gzip_trailer(w, crc, raw);

    return (size_t) (w - out) + STATSIG_GZIP_TRAILER_LEN;
}
