/*
 * Hashes Statsig uses: SHA-256 bucketing, djb2 names, ID-list ids.
 */

/* low-level calls: no locked algorithm fetch per digest (OpenSSL 3) */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/sha.h>

#include "hash.h"
#include "utf8.h"


void
statsig_sha256(const void *data, size_t len, unsigned char out[32])
{
    SHA256_CTX  c;

    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}


uint64_t
statsig_hash_u64(const void *data, size_t len)
{
    unsigned char  d[32];
    uint64_t       h;
    int            i;

    statsig_sha256(data, len, d);

    h = 0;
    for (i = 0; i < 8; i++) {
        h = (h << 8) | d[i];
    }

    return h;
}


uint32_t
statsig_djb2(const char *s, size_t len)
{
    const unsigned char  *p, *end;
    uint32_t              h, cp;

    h = 0;
    p = (const unsigned char *) s;
    end = p + len;

    while (p < end) {
        cp = statsig_utf8_next(&p, end);

        if (cp >= 0x10000) {
            /* two UTF-16 code units, as JavaScript strings hold it */
            cp -= 0x10000;
            h = h * 31 + (0xD800 + (cp >> 10));
            h = h * 31 + (0xDC00 + (cp & 0x3FF));
            continue;
        }

        h = h * 31 + cp;
    }

    return h;
}


size_t
statsig_base64(const unsigned char *in, size_t len, char *out)
{
    static const char  tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t             i, o;
    uint32_t           v;

    o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }

    if (i < len) {
        v = (uint32_t) in[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t) in[i + 1] << 8;
        }

        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = (i + 1 < len) ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }

    out[o] = '\0';

    return o;
}


void
statsig_idlist_hash(const char *id, size_t len, char out[8])
{
    unsigned char  d[32];
    char           b64[45];

    statsig_sha256(id, len, d);
    statsig_base64(d, 6, b64);

    /* 6 bytes are exactly 8 Base64 characters */
    out[0] = b64[0]; out[1] = b64[1]; out[2] = b64[2]; out[3] = b64[3];
    out[4] = b64[4]; out[5] = b64[5]; out[6] = b64[6]; out[7] = b64[7];
}


size_t
statsig_sha256_name(const char *s, size_t len, char out[45])
{
    unsigned char  d[32];

    statsig_sha256(s, len, d);

    return statsig_base64(d, 32, out);
}
