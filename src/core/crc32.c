/*
 * CRC-32 (gzip, zlib) by folding with carry-less multiplication, after
 * Gopal et al., "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ Instruction" (Intel, 2009), on x86-64 CPUs with PCLMULQDQ and
 * SSE4.1; zlib's crc32() elsewhere and for short inputs.
 *
 * The CRC is reflected: the first bit of the message is the highest power
 * of x, and a little-endian load puts it in bit 0.  So in a 128-bit
 * register bit i stands for x^(127-i), in a 64-bit lane for x^(63-i), in
 * the 32-bit CRC for x^(31-i).  With n message bits M and P the generator
 *
 *     crc32(c, M) = ~((~c * x^n + M) * x^32 mod P),
 *
 * so ~c is XORed into the first 32 bits and the rest is M * x^32 mod P.
 *
 * Folding: a block X = H * x^64 + L (H the low lane, L the high) followed
 * by D more bits is worth X * x^D = H * x^(D+64) + L * x^D mod P, two
 * multiplications by constants of 32 bits whose 96-bit sum is XORed into
 * the block D bits further.  PCLMULQDQ of two lanes gives the product
 * times x in this bit order (bit k of the result is x^(126-k)), and a
 * constant c of 32 bits held in the low half of a lane is c * x^32, so
 * the lane constants are
 *
 *     for H:  x^(D+31) mod P,    for L:  x^(D-33) mod P,
 *
 * each reflected in 32 bits (worked out once by shift-and-XOR division
 * and a bit reversal, with a script not kept in the tree).
 */

#include <zlib.h>

#include "crc32.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define SG_CRC32_CLMUL  1
#include <immintrin.h>
#endif


/* zlib's crc32() counts in uInt: big inputs go in 1 GB steps */
static uint32_t
sg_crc32_zlib(uint32_t crc, const unsigned char *p, size_t len)
{
    uLong  c;
    uInt   n;

    c = crc;

    while (len) {
        n = len > ((size_t) 1 << 30) ? (uInt) 1 << 30 : (uInt) len;
        c = crc32(c, p, n);
        p += n;
        len -= n;
    }

    return (uint32_t) c;
}


#ifdef SG_CRC32_CLMUL

#define SG_CRC32_TARGET  __attribute__((target("pclmul,sse4.1")))

/*
 * The same code in AVX's three-operand encoding: no register copies
 * before each multiplication, the loads folded into the XORs (a third
 * fewer instructions a block)
 */
#define SG_CRC32_TARGET_AVX  __attribute__((target("pclmul,sse4.1,avx")))

/* the last 1-15 bytes are taken with the 16 before them: 16 at least */
#define SG_CRC32_CLMUL_MIN  16

/* 0: CPU not asked yet, 1: zlib only, 2: PCLMULQDQ and SSE4.1, 3: AVX too */
static int  sg_crc32_cpu;


/*
 * Byte shuffles for the last 1-15 bytes: 16 bytes from sg_crc32_shuf + r
 * move a register up by 16 - r bytes, from sg_crc32_shuf + 16 + r down by
 * r; an index with the top bit set gives a zero byte.
 */
static const unsigned char  sg_crc32_shuf[48] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80
};


static SG_CRC32_TARGET inline __m128i
sg_crc32_load(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *) p);
}


/*
 * Fold constants for D = 128 i bits, low lane then high lane:
 * x^(128 i + 31) mod P and x^(128 i - 33) mod P, reflected (see the top).
 */
static const uint64_t  sg_crc32_k[7][2] = {
    { 0, 0 },
    { 0xae689191, 0xccaa009e },         /* x^159, x^95 */
    { 0xf1da05aa, 0x81256527 },         /* x^287, x^223 */
    { 0x3db1ecdc, 0xaf449247 },         /* x^415, x^351 */
    { 0x8f352d95, 0x1d9513d7 },         /* x^543, x^479 */
    { 0x1c279815, 0xae0b5394 },         /* x^671, x^607 */
    { 0xdf068dc2, 0x57c54819 }          /* x^799, x^735 */
};


static SG_CRC32_TARGET inline __m128i
sg_crc32_k_load(unsigned i)
{
    return _mm_loadu_si128((const __m128i *) sg_crc32_k[i]);
}


/* x * x^D + next mod P, k holding the two constants for D */
static SG_CRC32_TARGET inline __m128i
sg_crc32_fold(__m128i x, __m128i k, __m128i next)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                       _mm_clmulepi64_si128(x, k, 0x11)),
                         next);
}


/*
 * n (1-3) blocks at p, each moved to the end of the last: the products
 * are independent, only XORs wait for each other.
 */
static SG_CRC32_TARGET inline __m128i
sg_crc32_blocks(const unsigned char *p, unsigned n)
{
    __m128i   y;
    unsigned  i;

    y = sg_crc32_load(p + 16 * (n - 1));

    for (i = 1; i < n; i++) {
        y = sg_crc32_fold(sg_crc32_load(p + 16 * (n - 1 - i)),
                          sg_crc32_k_load(i), y);
    }

    return y;
}


/* len >= 16; inlined into the two entry points below */
static SG_CRC32_TARGET inline __attribute__((always_inline)) uint32_t
sg_crc32_clmul_body(uint32_t crc, const unsigned char *p, size_t len)
{
    __m128i   x0, x1, x2, x3, k, m, a, b;
    unsigned  n;

    /*
     * The reduction of 128 bits X to X * x^32 mod P.  Low lane: x^95 mod P
     * (reflected 32 bits) multiplies the low lane by x^96; high lane:
     * x^63 mod P in the upper 32 bits, to multiply the 32 bits left above
     * x^63 (in the low half of a lane: times x^32) by x^64.
     */
    const __m128i  kred = _mm_set_epi64x((long long) 0xb8bc676500000000ULL,
                                         0xccaa009e);

    /*
     * Barrett: floor(x^64 / P) and P, both of degree 32, reflected in 33
     * bits (a lane's x^31 .. x^63).
     */
    const __m128i  kbar = _mm_set_epi64x(0x1db710641, 0x1f7011641);

    x0 = _mm_xor_si128(sg_crc32_load(p), _mm_cvtsi32_si128((int) ~crc));

    if (len >= 64) {
        /* four independent chains hide the multiplier's latency */
        x1 = sg_crc32_load(p + 16);
        x2 = sg_crc32_load(p + 32);
        x3 = sg_crc32_load(p + 48);
        p += 64;
        len -= 64;

        k = sg_crc32_k_load(4);

        while (len >= 64) {
            x0 = sg_crc32_fold(x0, k, sg_crc32_load(p));
            x1 = sg_crc32_fold(x1, k, sg_crc32_load(p + 16));
            x2 = sg_crc32_fold(x2, k, sg_crc32_load(p + 32));
            x3 = sg_crc32_fold(x3, k, sg_crc32_load(p + 48));
            p += 64;
            len -= 64;
        }

        /* the chains and 0-3 blocks more, all multiplied at once */
        n = (unsigned) len / 16;

        if (n) {
            x3 = sg_crc32_fold(x3, sg_crc32_k_load(n), sg_crc32_blocks(p, n));
        }

        x0 = sg_crc32_fold(x0, sg_crc32_k_load(n + 3),
                 sg_crc32_fold(x1, sg_crc32_k_load(n + 2),
                     sg_crc32_fold(x2, sg_crc32_k_load(n + 1), x3)));

    } else {
        p += 16;
        len -= 16;
        n = (unsigned) len / 16;

        if (n) {
            x0 = sg_crc32_fold(x0, sg_crc32_k_load(n), sg_crc32_blocks(p, n));
        }
    }

    p += 16 * n;
    len -= 16 * n;

    if (len) {
        /*
         * x0 then r = len bytes is A * x^128 + B: A the first r bytes of
         * x0, B its other 16 - r then the r bytes, loaded as the last 16
         * of the input (it has 16 at least) over bytes already counted.
         */
        m = sg_crc32_load(sg_crc32_shuf + 16 + len);
        a = _mm_shuffle_epi8(x0, sg_crc32_load(sg_crc32_shuf + len));
        b = _mm_blendv_epi8(_mm_shuffle_epi8(x0, m),
                            sg_crc32_load(p + len - 16), m);
        x0 = sg_crc32_fold(a, sg_crc32_k_load(1), b);
    }

    /* 128 -> 96 bits: H * x^96 + L * x^32, low 96 bits of the register */
    x0 = _mm_xor_si128(_mm_clmulepi64_si128(x0, kred, 0x00),
                       _mm_srli_si128(x0, 8));

    /* 96 -> 64: the top 32 bits (bits 0-31) times x^64, bits 32-95 */
    x0 = _mm_xor_si128(
             _mm_clmulepi64_si128(_mm_blend_epi16(_mm_setzero_si128(), x0,
                                                  0x03),
                                  kred, 0x10),
             _mm_blend_epi16(x0, _mm_setzero_si128(), 0x03));

    /*
     * 64 -> 32, Barrett: T = T1 * x^32 + T0, q = T1 * floor(x^64 / P) /
     * x^32 lands in the low lane, T + q * P mod x^32 in bits 64-95.
     */
    k = _mm_clmulepi64_si128(x0, kbar, 0x00);
    x0 = _mm_xor_si128(_mm_clmulepi64_si128(k, kbar, 0x10), x0);

    return ~(uint32_t) _mm_extract_epi32(x0, 2);
}


static SG_CRC32_TARGET uint32_t
sg_crc32_clmul(uint32_t crc, const unsigned char *p, size_t len)
{
    return sg_crc32_clmul_body(crc, p, len);
}


static SG_CRC32_TARGET_AVX uint32_t
sg_crc32_clmul_avx(uint32_t crc, const unsigned char *p, size_t len)
{
    return sg_crc32_clmul_body(crc, p, len);
}


/* statsig_crc32_limit()'s: 0 none */
static int  sg_crc32_max;


/* 1, 2 or 3: sg_crc32_cpu, at most sg_crc32_max */
static int
sg_crc32_have_clmul(void)
{
    int  cpu, max;

    /* threads may race here: all store the same answer */
    cpu = __atomic_load_n(&sg_crc32_cpu, __ATOMIC_RELAXED);

    if (cpu == 0) {
        __builtin_cpu_init();
        cpu = (__builtin_cpu_supports("pclmul")
               && __builtin_cpu_supports("sse4.1"))
              ? (__builtin_cpu_supports("avx") ? 3 : 2) : 1;
        __atomic_store_n(&sg_crc32_cpu, cpu, __ATOMIC_RELAXED);
    }

    max = __atomic_load_n(&sg_crc32_max, __ATOMIC_RELAXED);

    return (max > 0 && cpu > max) ? max : cpu;
}

#endif /* SG_CRC32_CLMUL */


void
statsig_crc32_limit(int level)
{
#ifdef SG_CRC32_CLMUL
    __atomic_store_n(&sg_crc32_max, level, __ATOMIC_RELAXED);
#else
    (void) level;
#endif
}


uint32_t
statsig_crc32(uint32_t crc, const void *buf, size_t len)
{
#ifdef SG_CRC32_CLMUL
    int  cpu;

    if (len >= SG_CRC32_CLMUL_MIN) {
        cpu = sg_crc32_have_clmul();

        if (cpu == 3) {
            return sg_crc32_clmul_avx(crc, buf, len);
        }

        if (cpu == 2) {
            return sg_crc32_clmul(crc, buf, len);
        }
    }
#endif

    return sg_crc32_zlib(crc, buf, len);
}


int
statsig_crc32_accelerated(void)
{
#ifdef SG_CRC32_CLMUL
    return sg_crc32_have_clmul() >= 2;
#else
    return 0;
#endif
}
