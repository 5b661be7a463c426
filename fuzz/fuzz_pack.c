/*
 * libFuzzer: the input is records separated by 0xFF bytes.  They go into
 * two packs (reused across inputs, as the flusher reuses its packs), which
 * are laid between literal blocks under a gzip header and trailer; zlib
 * must inflate that member, CRC and size checked, to exactly the bytes
 * that went in.
 *
 * The first byte chooses the separator and the record from which on the
 * second pack is filled.  A record starting with 0xFE n is its rest
 * repeated 64 n times (up to 1 MB an input): long records and references
 * beyond deflate's 32 KB window from short inputs.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pack.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define FZ_MAX_BODY  (1024 * 1024)

static statsig_pack_t   fz_packs[2];
static unsigned char   *fz_rec, *fz_gz, *fz_want, *fz_out;
static size_t           fz_gz_len, fz_want_len;


static void
fz_put(const void *p, size_t n, int want)
{
    if (n == 0) {
        return;
    }

    memcpy(fz_gz + fz_gz_len, p, n);
    fz_gz_len += n;

    if (want) {
        memcpy(fz_want + fz_want_len, p, n);
        fz_want_len += n;
    }
}


/* literals as a block of their own, their bytes in the expected text */
static uint32_t
fz_literals(uint32_t crc, const char *s, int final)
{
    size_t  n = strlen(s);

    fz_gz_len += statsig_deflate_literals(fz_gz + fz_gz_len, s, n, final);
    memcpy(fz_want + fz_want_len, s, n);
    fz_want_len += n;

    return (uint32_t) crc32_combine(crc, crc32(0, (const Bytef *) s,
                                               (uInt) n), (z_off_t) n);
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


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char  *seps[] = { ",", "", "\n", ",\n  " };
    unsigned char       head[STATSIG_GZIP_HEADER_LEN];
    unsigned char       tail[STATSIG_GZIP_TRAILER_LEN];
    const uint8_t      *end, *p, *q;
    const char         *sep;
    statsig_pack_t     *pk;
    z_stream            zs;
    uint32_t            crc;
    size_t              split, index, total, reserve, n, i;
    int                 rc;

    if (fz_rec == NULL) {
        fz_rec = malloc(FZ_MAX_BODY);
        fz_gz = malloc(2 * FZ_MAX_BODY);
        fz_want = malloc(FZ_MAX_BODY + 64);
        fz_out = malloc(FZ_MAX_BODY + 64);
        if (!fz_rec || !fz_gz || !fz_want || !fz_out) {
            abort();
        }

        statsig_pack_init(&fz_packs[0]);
        statsig_pack_init(&fz_packs[1]);
    }

    /* 5 bytes of input make at most 4 of separators and 1 of a record */
    if (size == 0 || size > FZ_MAX_BODY / 5) {
        return 0;
    }

    sep = seps[data[0] & 3];
    split = data[0] >> 2;
    data++;
    size--;

    statsig_pack_reset(&fz_packs[0]);
    statsig_pack_reset(&fz_packs[1]);

    total = 0;
    index = 0;
    end = data + size;

    for (p = data, index = 0; ; p = q + 1, index++) {
        q = memchr(p, 0xFF, (size_t) (end - p));
        if (q == NULL) {
            q = end;
        }

        /* what is left after this separator and those still to come */
        total += strlen(sep);
        reserve = total + 4 * (size_t) (end - q) + 64;
        n = fz_record(p, (size_t) (q - p),
                      reserve < FZ_MAX_BODY ? FZ_MAX_BODY - reserve : 0);
        total += n;
        pk = &fz_packs[index >= split];

        if (statsig_pack_add(pk, sep, pk->raw_len ? strlen(sep) : 0,
                             fz_rec, n) != 0)
        {
            abort();
        }

        if (q == end) {
            break;
        }
    }

    /* the member: prefix, pack, ",", pack, suffix */
    fz_gz_len = 0;
    fz_want_len = 0;
    statsig_gzip_header(head);
    fz_put(head, sizeof(head), 0);
    crc = fz_literals(0, "{\"events\":[", 0);

    for (i = 0; i < 2; i++) {
        pk = &fz_packs[i];
        if (statsig_pack_finish(pk) != 0
            || pk->crc != crc32(0, pk->raw, (uInt) pk->raw_len))
        {
            abort();
        }

        if (i == 1) {
            crc = fz_literals(crc, ",", 0);
        }

        fz_put(pk->out, pk->out_len, 0);
        if (pk->raw_len) {
            memcpy(fz_want + fz_want_len, pk->raw, pk->raw_len);
            fz_want_len += pk->raw_len;
        }
        crc = (uint32_t) crc32_combine(crc, pk->crc, (z_off_t) pk->raw_len);
    }

    crc = fz_literals(crc, "]}", 1);
    statsig_gzip_trailer(tail, crc, fz_want_len);
    fz_put(tail, sizeof(tail), 0);

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 31) != Z_OK) {
        abort();
    }

    zs.next_in = fz_gz;
    zs.avail_in = (uInt) fz_gz_len;
    zs.next_out = fz_out;
    zs.avail_out = FZ_MAX_BODY + 64;
    rc = inflate(&zs, Z_FINISH);

    if (rc != Z_STREAM_END || zs.avail_in != 0
        || zs.total_out != fz_want_len
        || memcmp(fz_out, fz_want, fz_want_len) != 0)
    {
        fprintf(stderr, "pack: inflate %d (%s), %lu bytes of %zu, %u left\n",
                rc, zs.msg ? zs.msg : "-", zs.total_out, fz_want_len,
                zs.avail_in);
        abort();
    }

    inflateEnd(&zs);

    return 0;
}
