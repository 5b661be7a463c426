/*
 * zlib as the decoder that what src/core/pack.c and pack_split.c write is
 * checked against, for t/unit/test_pack.c, t/unit/test_pack_split.c and
 * fuzz/fuzz_pack.c.
 */

#ifndef STATSIG_INFLATE_CHECK_H
#define STATSIG_INFLATE_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>


/*
 * 1 if zlib inflates in[0 .. len) to exactly want[0 .. wlen): a whole
 * gzip member (gzip 1: CRC and size checked, nothing after it), or raw
 * deflate ending on a sync flush as a pack does (gzip 0: no more input
 * after the flush).  0 if not, with the reason in why.
 */
static int
inflates_to(const void *in, size_t len, int gzip, const void *want,
    size_t wlen, char *why, size_t whylen)
{
    const unsigned char  *w = want;
    unsigned char        *out;
    z_stream              zs;
    size_t                at, i;
    int                   rc, good;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, gzip ? 31 : -MAX_WBITS) != Z_OK) {
        snprintf(why, whylen, "inflateInit2");
        return 0;
    }

    /* room past want, so that a longer output shows as longer */
    out = malloc(wlen + 64);
    if (out == NULL) {
        abort();
    }

    zs.next_in = (Bytef *) in;
    zs.avail_in = (uInt) len;
    zs.next_out = out;
    zs.avail_out = (uInt) (wlen + 64);

    rc = inflate(&zs, gzip ? Z_FINISH : Z_SYNC_FLUSH);
    at = zs.total_out;

    /* a sync flush leaves the stream open; no input at all: no progress */
    good = gzip ? rc == Z_STREAM_END
                : rc == Z_OK || (rc == Z_BUF_ERROR && len == 0);

    if (!good) {
        snprintf(why, whylen, "inflate: %d (%s) after %zu of %zu bytes", rc,
                 zs.msg ? zs.msg : "-", at, wlen);

    } else if (zs.avail_in != 0) {
        snprintf(why, whylen, "%u bytes after the %s", zs.avail_in,
                 gzip ? "member" : "flush");
        good = 0;

    } else if (at != wlen || (at && memcmp(out, w, at) != 0)) {
        i = 0;
        while (i < at && i < wlen && out[i] == w[i]) {
            i++;
        }

        snprintf(why, whylen, "%zu bytes, want %zu, first difference at %zu",
                 at, wlen, i);
        good = 0;
    }

    inflateEnd(&zs);
    free(out);

    return good;
}

#endif /* STATSIG_INFLATE_CHECK_H */
