/*
 * CRC-32 of gzip and zlib (reflected polynomial 0xEDB88320), with carry-
 * less multiplication (PCLMULQDQ) on x86-64 CPUs that have it.
 */

#ifndef STATSIG_CRC32_H
#define STATSIG_CRC32_H

#include <stddef.h>
#include <stdint.h>


/*
 * zlib's crc32(crc, buf, len), for any len: start with crc 0, and
 * statsig_crc32(statsig_crc32(0, a, n), b, m) is the CRC of a then b.
 * buf may be NULL when len is 0 (then crc comes back unchanged).
 */
uint32_t statsig_crc32(uint32_t crc, const void *buf, size_t len);

/*
 * 1 if inputs of 16 bytes and more take the PCLMULQDQ path on this CPU
 * (shorter ones always go to zlib), 0 if zlib's crc32() does all.
 */
int statsig_crc32_accelerated(void);

/*
 * For tests: the fastest path statsig_crc32() may take, whatever the CPU
 * has beyond it (1 zlib, 2 PCLMULQDQ, 3 the same in AVX's encoding), so
 * that the paths a faster CPU skips are checked there too.  0: all the
 * CPU has (the default).
 */
void statsig_crc32_limit(int level);

#endif /* STATSIG_CRC32_H */
