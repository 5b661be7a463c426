/*
 * src/core/crc32: statsig_crc32 against zlib's crc32() at every length
 * 0-1024 and alignment 0-15, random lengths to 1 MB, chained pieces,
 * runs of 0x00 and 0xff, and inputs above 4 GB (a file mapped 257 times).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "crc32.h"
#include "tap.h"
#include "rng.h"

#define BIG_LEN   (((size_t) 1 << 20) + 64)
#define UNIT_LEN  ((size_t) 16 << 20)


/* zlib in uInt steps, as the reference */
static uint32_t
zcrc(uint32_t crc, const unsigned char *p, size_t len)
{
    uInt  n;

    while (len) {
        n = len > ((size_t) 1 << 30) ? (uInt) 1 << 30 : (uInt) len;
        crc = (uint32_t) crc32(crc, p, n);
        p += n;
        len -= n;
    }

    return crc;
}


static void
test_known(void)
{
    is_int(statsig_crc32(0, "123456789", 9), 0xCBF43926,
           "check value of \"123456789\"");
    is_int(statsig_crc32(0, "The quick brown fox jumps over the lazy dog", 43),
           0x414FA339, "the quick brown fox (43 bytes, fast path)");
    is_int(statsig_crc32(0, NULL, 0), 0, "empty input, crc 0");
    is_int(statsig_crc32(0xdeadbeef, NULL, 0), 0xdeadbeef,
           "empty input leaves the crc as it is");
}


/* the fast path where the CPU has it: the other tests then check it */
static void
test_dispatch(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();

    if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
        is_int(statsig_crc32_accelerated(), 1,
               "PCLMULQDQ and SSE4.1 present: the fast path is used");
        return;
    }

    is_int(statsig_crc32_accelerated(), 0, "no PCLMULQDQ: zlib is used");
#else
    is_int(statsig_crc32_accelerated(), 0, "not x86-64: zlib is used");
#endif
}


/* every length 0-1024 at every offset 0-15, from crc 0 and a random one */
static void
test_lengths(const unsigned char *buf)
{
    size_t    off, len, bad, first;
    uint32_t  c;

    for (off = 0; off < 16; off++) {
        bad = 0;
        first = 0;

        for (len = 0; len <= 1024; len++) {
            c = rnd();

            if (statsig_crc32(0, buf + off, len) != zcrc(0, buf + off, len)
                || statsig_crc32(c, buf + off, len)
                   != zcrc(c, buf + off, len))
            {
                if (bad++ == 0) {
                    first = len;
                }
            }
        }

        ok(bad == 0, "offset %zu, lengths 0-1024", off);
        if (bad) {
            printf("#   %zu wrong, the first at length %zu\n", bad, first);
        }
    }
}


/*
 * Each length 0-1024 in a block of its own size: valgrind and ASan see a
 * read before or past the input (the last 16 bytes are loaded again for
 * the tail).
 */
static void
test_exact(const unsigned char *buf)
{
    size_t          len, bad;
    unsigned char  *p;

    bad = 0;

    for (len = 0; len <= 1024; len++) {
        p = malloc(len ? len : 1);
        if (p == NULL) {
            bad++;
            break;
        }

        memcpy(p, buf + len, len);

        if (statsig_crc32(len, p, len) != zcrc(len, p, len)) {
            bad++;
        }

        free(p);
    }

    is_int(bad, 0, "lengths 0-1024, each in a block of its own size");
}


static void
test_random_lengths(const unsigned char *buf)
{
    size_t    i, off, len, bad;
    uint32_t  c;

    bad = 0;

    for (i = 0; i < 64; i++) {
        off = rnd_below(64);
        len = rnd_below(BIG_LEN - off + 1);
        c = rnd();

        if (statsig_crc32(c, buf + off, len) != zcrc(c, buf + off, len)) {
            printf("#   wrong at offset %zu length %zu\n", off, len);
            bad++;
        }
    }

    is_int(bad, 0, "64 random lengths and offsets up to 1 MB");
}


/* a buffer cut at random points, the pieces' CRCs chained */
static void
test_chaining(const unsigned char *buf)
{
    size_t    round, len, pos, piece, pieces, bad;
    uint32_t  c, want;

    bad = 0;
    pieces = 0;

    for (round = 0; round < 200; round++) {
        len = round < 100 ? rnd_below(4096) : rnd_below(BIG_LEN / 4);
        want = zcrc(0, buf, len);

        c = 0;
        pos = 0;

        while (pos < len) {
            /* short pieces too, across the zlib and the fast paths */
            switch (rnd_below(3)) {
            case 0:
                piece = rnd_below(20);
                break;
            case 1:
                piece = rnd_below(400);
                break;
            default:
                piece = rnd_below(40000);
            }

            if (piece > len - pos) {
                piece = len - pos;
            }

            c = statsig_crc32(c, buf + pos, piece);
            pos += piece;
            pieces++;
        }

        if (c != want) {
            printf("#   round %zu: length %zu wrong\n", round, len);
            bad++;
        }
    }

    is_int(bad, 0, "200 buffers in %zu chained pieces", pieces);

    /* the fast path then zlib, and zlib then the fast path */
    c = statsig_crc32(zcrc(0, buf, 1000), buf + 1000, 30000);
    is_int(c, zcrc(0, buf, 31000), "zlib then statsig_crc32");
    c = zcrc(statsig_crc32(0, buf, 30000), buf + 30000, 1000);
    is_int(c, zcrc(0, buf, 31000), "statsig_crc32 then zlib");
}


static void
test_runs(unsigned char *run)
{
    static const size_t  big[] = { 4096, 32768, 65535, 370 * 1000 + 3,
                                   BIG_LEN };
    size_t               i, len, bad;
    uint32_t             c;
    int                  byte;

    for (byte = 0; byte <= 0xff; byte += 0xff) {
        memset(run, byte, BIG_LEN);
        bad = 0;

        for (len = 0; len <= 1024; len++) {
            c = rnd();

            if (statsig_crc32(0, run, len) != zcrc(0, run, len)
                || statsig_crc32(c, run + 1, len) != zcrc(c, run + 1, len))
            {
                bad++;
            }
        }

        for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
            c = rnd();

            if (statsig_crc32(c, run, big[i]) != zcrc(c, run, big[i])) {
                bad++;
            }
        }

        is_int(bad, 0, "runs of 0x%02x, lengths 0-1024 and up to 1 MB", byte);
    }
}


/* n copies of a file of data[len] mapped in a row, NULL and *why if not */
static unsigned char *
map_copies(const unsigned char *data, size_t len, size_t n, const char **why)
{
    size_t          i;
    unsigned char  *p;
    const char     *tmp;
    char            name[256];
    int             fd;

    tmp = getenv("TMPDIR");
    snprintf(name, sizeof(name), "%s/test_crc32.XXXXXX",
             tmp && tmp[0] ? tmp : "/tmp");

    fd = mkstemp(name);
    if (fd == -1) {
        *why = "no temporary file";
        return NULL;
    }

    unlink(name);

    if (write(fd, data, len) != (ssize_t) len) {
        *why = "cannot write the temporary file";
        close(fd);
        return NULL;
    }

    /* reserve the range, then map the file over it n times */
    p = mmap(NULL, n * len, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        *why = "no address space";
        close(fd);
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (mmap(p + i * len, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0)
            == MAP_FAILED)
        {
            *why = "mmap failed";
            munmap(p, n * len);
            close(fd);
            return NULL;
        }
    }

    close(fd);

    return p;
}


/*
 * Above 4 GB, where zlib's own length (32 bits) would wrap: one 16 MB
 * file of random bytes mapped 257 times in a row, 16 MB of memory.  An
 * anonymous mapping of zero pages costs a fault a page (seconds) or, with
 * transparent huge pages, 4 GB of zeroed memory.  Valgrind would take
 * minutes: skipped there.
 */
static void
test_above_4g(void)
{
    size_t          i, n, len;
    uint32_t        c, want, unit_crc;
    unsigned char  *p, *unit;
    const char     *why;

    why = getenv("LD_PRELOAD");

    if (sizeof(size_t) < 8 || (why && strstr(why, "vgpreload"))) {
        ok(1, "# SKIP above 4 GB (32-bit, or under valgrind)");
        return;
    }

    unit = malloc(UNIT_LEN);
    if (unit == NULL) {
        ok(0, "malloc");
        return;
    }

    for (i = 0; i < UNIT_LEN; i++) {
        unit[i] = (unsigned char) rnd();
    }

    n = ((size_t) 1 << 32) / UNIT_LEN + 1;
    len = n * UNIT_LEN;

    p = map_copies(unit, UNIT_LEN, n, &why);
    if (p == NULL) {
        ok(1, "# SKIP above 4 GB: %s", why);
        free(unit);
        return;
    }

    /* zlib for the expected values: one copy, then crc32_combine() */
    unit_crc = zcrc(0, unit, UNIT_LEN);

    want = 0x12345678;
    for (i = 0; i < n; i++) {
        want = (uint32_t) crc32_combine(want, unit_crc, (z_off_t) UNIT_LEN);
    }

    c = statsig_crc32(0x12345678, p, len);
    is_int(c, want, "%zu bytes (above 4 GB)", len);

    /* 3 bytes in, 5 short of the end: unaligned, with a tail of 8 */
    want = zcrc(0, unit + 3, UNIT_LEN - 3);
    for (i = 1; i < n - 1; i++) {
        want = (uint32_t) crc32_combine(want, unit_crc, (z_off_t) UNIT_LEN);
    }
    want = zcrc(want, unit, UNIT_LEN - 5);

    c = statsig_crc32(0, p + 3, len - 8);
    is_int(c, want, "%zu bytes from offset 3 (above 4 GB)", len - 8);

    munmap(p, len);
    free(unit);
}


int
main(void)
{
    int             level, fast;
    unsigned char  *buf, *run;
    size_t          i;

    buf = malloc(BIG_LEN);
    run = malloc(BIG_LEN);
    if (buf == NULL || run == NULL) {
        ok(0, "malloc");
        return done_testing();
    }

    for (i = 0; i < BIG_LEN; i++) {
        buf[i] = (unsigned char) rnd();
    }

    test_known();
    test_dispatch();
    test_lengths(buf);
    test_exact(buf);
    test_random_lengths(buf);
    test_chaining(buf);
    test_runs(run);

    /* the slower paths a faster CPU skips: PCLMULQDQ without AVX, zlib */
    fast = statsig_crc32_accelerated();

    for (level = 2; level >= 1; level--) {
        statsig_crc32_limit(level);
        is_int(statsig_crc32_accelerated(), level >= 2 && fast,
               level >= 2 ? "limited to PCLMULQDQ" : "limited to zlib");
        test_known();
        test_lengths(buf);
        test_random_lengths(buf);
        test_chaining(buf);
    }

    statsig_crc32_limit(0);

    test_above_4g();

    free(buf);
    free(run);

    return done_testing();
}
