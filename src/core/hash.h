/*
 * Hashes Statsig uses: SHA-256 bucketing, djb2 names, ID-list ids.
 */

#ifndef STATSIG_HASH_H
#define STATSIG_HASH_H

#include <stddef.h>
#include <stdint.h>


void statsig_sha256(const void *data, size_t len, unsigned char out[32]);

/* First 8 bytes of SHA-256 as an unsigned big-endian integer. */
uint64_t statsig_hash_u64(const void *data, size_t len);

/* djb2 over UTF-16 code units, as statsig-node computes it. */
uint32_t statsig_djb2(const char *s, size_t len);

/* Standard Base64 with padding; out needs 4 * ((len + 2) / 3) + 1 bytes. */
size_t statsig_base64(const unsigned char *in, size_t len, char *out);

/* First 8 characters of Base64(SHA-256(id)): how ID lists store ids. */
void statsig_idlist_hash(const char *id, size_t len, char out[8]);

/* FNV-1a 64: the core's hash for names and string sets. */
static inline uint64_t
statsig_str_hash(const char *s, size_t len)
{
    uint64_t  h;
    size_t    i;

    h = 1469598103934665603ULL;
    for (i = 0; i < len; i++) {
        h ^= (unsigned char) s[i];
        h *= 1099511628211ULL;
    }

    return h;
}

/* Base64(SHA-256(s)): the "sha256" name hash of client initialize. */
size_t statsig_sha256_name(const char *s, size_t len, char out[45]);

#endif /* STATSIG_HASH_H */
