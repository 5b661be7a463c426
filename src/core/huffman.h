/*
 * Length-limited minimum-redundancy (Huffman) code lengths, as deflate's
 * dynamic blocks need them (RFC 1951, 3.2.7).
 */

#ifndef STATSIG_HUFFMAN_H
#define STATSIG_HUFFMAN_H

#include <stdint.h>

/* deflate's largest alphabet: 286 literal/length symbols, and two spare */
#define STATSIG_HUFFMAN_MAX_SYMBOLS  288


/*
 * len[i] for each of n (<= STATSIG_HUFFMAN_MAX_SYMBOLS) symbols of these
 * frequencies, at most limit bits; 0 for a symbol of frequency 0, except
 * that two codes at least get a length (zlib's rule: some inflaters
 * reject a lone code).  The code is complete.
 */
void statsig_huffman_lengths(const uint32_t *freq, unsigned n,
    unsigned limit, unsigned char *len);

#endif /* STATSIG_HUFFMAN_H */
