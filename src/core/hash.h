/*
 * Hashes Statsig uses: SHA-256 bucketing, djb2 names, ID-list ids.
 */

#ifndef STATSIG_HASH_H
#define STATSIG_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>


void statsig_sha256(const void *data, size_t len, unsigned char out[32]);

/* First 8 bytes of SHA-256 as an unsigned big-endian integer. */
uint64_t statsig_hash_u64(const void *data, size_t len);

/* djb2 over UTF-16 code units, as statsig-node computes it. */
uint32_t statsig_djb2(const char *s, size_t len);

/* Standard Base64 with padding; out needs 4 * ((len + 2) / 3) + 1 bytes. */
size_t statsig_base64(const unsigned char *in, size_t len, char *out);

/* First 8 characters of Base64(SHA-256(id)): how ID lists store ids. */
void statsig_idlist_hash(const char *id, size_t len, char out[8]);

/* The last 0-7 bytes of a string as memcpy() would put them in a uint64. */
static inline uint64_t
statsig_load_tail(const char *s, size_t len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const unsigned char  *p;
    uint32_t              lo, hi;

    p = (const unsigned char *) s;

    if (len >= 4) {
        /* two overlapping 4-byte loads; the shared bytes are equal */
        memcpy(&lo, p, 4);
        memcpy(&hi, p + len - 4, 4);

        return (uint64_t) lo | (uint64_t) hi << ((len - 4) * 8);
    }

    if (len == 0) {
        return 0;
    }

    return (uint64_t) p[0] | (uint64_t) p[len >> 1] << ((len >> 1) * 8)
           | (uint64_t) p[len - 1] << ((len - 1) * 8);
#else
    uint64_t  k;

    k = 0;
    memcpy(&k, s, len);

    return k;
#endif
}


/*
 * a[0..len) == b[0..len), inline: the names, keys and set members the
 * evaluator compares are short, and a call to memcmp cost more than the
 * comparison.  Overlapping whole-word loads, never past either string.
 */
static inline int
statsig_mem_eq(const void *a, const void *b, size_t len)
{
    const unsigned char  *p, *q;
    uint64_t              x, y, u, v;
    uint32_t              x4, y4, u4, v4;

    p = a;
    q = b;

    if (len >= 8) {
        while (len > 16) {
            memcpy(&x, p, 8);
            memcpy(&y, q, 8);
            if (x != y) {
                return 0;
            }

            p += 8;
            q += 8;
            len -= 8;
        }

        /* 8-16 bytes left: the first and the last eight */
        memcpy(&x, p, 8);
        memcpy(&y, q, 8);
        memcpy(&u, p + len - 8, 8);
        memcpy(&v, q + len - 8, 8);

        return ((x ^ y) | (u ^ v)) == 0;
    }

    if (len >= 4) {
        memcpy(&x4, p, 4);
        memcpy(&y4, q, 4);
        memcpy(&u4, p + len - 4, 4);
        memcpy(&v4, q + len - 4, 4);

        return ((x4 ^ y4) | (u4 ^ v4)) == 0;
    }

    if (len == 0) {
        return 1;
    }

    return p[0] == q[0] && p[len >> 1] == q[len >> 1]
           && p[len - 1] == q[len - 1];
}


/*
 * n bytes from s to d, inline: names, ids and key parts are short, and a
 * call to memcpy cost more than the copy.  Whole words, the last one
 * overlapping the one before; only s[0 .. n) is read, d[0 .. n) written.
 */
static inline void
statsig_mem_copy(void *d, const void *s, size_t n)
{
    unsigned char        *p;
    const unsigned char  *q;
    uint64_t              w;
    uint32_t              u, v;
    size_t                i;

    p = d;
    q = s;

    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8) {
            memcpy(&w, q + i, 8);
            memcpy(p + i, &w, 8);
        }

        memcpy(&w, q + n - 8, 8);
        memcpy(p + n - 8, &w, 8);
        return;
    }

    if (n >= 4) {
        memcpy(&u, q, 4);
        memcpy(&v, q + n - 4, 4);
        memcpy(p, &u, 4);
        memcpy(p + n - 4, &v, 4);
        return;
    }

    if (n > 0) {
        p[0] = q[0];
        p[n >> 1] = q[n >> 1];
        p[n - 1] = q[n - 1];
    }
}


/*
 * The core's hash for names and string sets (not cryptographic): eight
 * bytes at a time, Murmur3's 64-bit finaliser.  Stored in snapshots:
 * changing it changes STATSIG_SNAPSHOT_VERSION.
 */
static inline uint64_t
statsig_str_hash(const char *s, size_t len)
{
    uint64_t  h, k;

    h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t) len * 0xC2B2AE3D27D4EB4FULL);

    while (len >= 8) {
        memcpy(&k, s, 8);
        k *= 0x87C37B91114253D5ULL;
        k = (k << 31) | (k >> 33);
        h ^= k * 0x4CF5AD432745937FULL;
        h = ((h << 27) | (h >> 37)) * 5 + 0x52DCE729;
        s += 8;
        len -= 8;
    }

    /* whole loads: a byte-wise copy into k stalls the load that follows
     * (no store forwarding), which cost more than the rest of the hash */
    k = statsig_load_tail(s, len);
    k *= 0x87C37B91114253D5ULL;
    k = (k << 31) | (k >> 33);
    h ^= k * 0x4CF5AD432745937FULL;

    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;

    return h;
}

/* Base64(SHA-256(s)): the "sha256" name hash of client initialize. */
size_t statsig_sha256_name(const char *s, size_t len, char out[45]);

#endif /* STATSIG_HASH_H */
