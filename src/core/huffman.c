/*
 * Huffman code lengths for deflate's dynamic blocks: minimum-redundancy
 * lengths computed in place, then limited to the alphabet's maximum.
 */

#include <string.h>

#include "huffman.h"


typedef struct {
    uint32_t  key;
    uint32_t  sym;
} sg_hf_item_t;


/*
 * Code lengths of n ascending weights, in place (Moffat and Katajainen,
 * "In-place calculation of minimum-redundancy codes", 1995).
 */
static void
sg_hf_min_redundancy(uint32_t *a, int n)
{
    int  root, leaf, next, avail, used, depth;

    a[0] += a[1];
    root = 0;
    leaf = 2;

    for (next = 1; next < n - 1; next++) {
        if (leaf >= n || a[root] < a[leaf]) {
            a[next] = a[root];
            a[root++] = (uint32_t) next;

        } else {
            a[next] = a[leaf++];
        }

        if (leaf >= n || (root < next && a[root] < a[leaf])) {
            a[next] += a[root];
            a[root++] = (uint32_t) next;

        } else {
            a[next] += a[leaf++];
        }
    }

    a[n - 2] = 0;
    for (next = n - 3; next >= 0; next--) {
        a[next] = a[a[next]] + 1;
    }

    avail = 1;
    used = 0;
    depth = 0;
    root = n - 2;
    next = n - 1;

    while (avail > 0) {
        while (root >= 0 && a[root] == (uint32_t) depth) {
            used++;
            root--;
        }

        while (avail > used) {
            a[next--] = (uint32_t) depth;
            avail--;
        }

        avail = 2 * used;
        depth++;
        used = 0;
    }
}


/*
 * Lengths of at most limit bits for n symbols of these frequencies; two
 * codes at least (zlib's rule: some inflaters reject a lone code), and
 * the code is complete.
 */
void
statsig_huffman_lengths(const uint32_t *freq, unsigned n, unsigned limit,
    unsigned char *len)
{
    sg_hf_item_t  item[STATSIG_HUFFMAN_MAX_SYMBOLS], x;
    uint32_t      a[STATSIG_HUFFMAN_MAX_SYMBOLS], total;
    unsigned      count[33], nonzero, used, i, l, c, j;

    /*
     * sorted by weight: those of weight 1 (symbols a pack did not use,
     * counted once) first as they are, then the others by insertion,
     * a few dozen in a pack of events
     */
    nonzero = 0;
    for (i = 0; i < n; i++) {
        len[i] = 0;
        nonzero += freq[i] != 0;
    }

    /* two codes at least, as zlib writes them: unused ones if need be */
    used = 0;
    for (i = 0; nonzero + used < 2; i++) {
        if (freq[i] == 0) {
            item[used].key = 0;
            item[used++].sym = i;
        }
    }

    for (i = 0; i < n; i++) {
        if (freq[i] == 1) {
            item[used].key = 1;
            item[used++].sym = i;
        }
    }

    for (i = 0; i < n; i++) {
        if (freq[i] > 1) {
            x.key = freq[i];
            x.sym = i;

            for (j = used++; j > 0 && item[j - 1].key > x.key; j--) {
                item[j] = item[j - 1];
            }

            item[j] = x;
        }
    }

    /* used >= 2 always; said for the compiler's flow analysis */
    a[0] = 0;
    a[1] = 0;

    for (i = 0; i < used; i++) {
        a[i] = item[i].key;
    }

    sg_hf_min_redundancy(a, (int) used);

    memset(count, 0, sizeof(count));
    for (i = 0; i < used; i++) {
        count[a[i] < 32 ? a[i] : 32]++;
    }

    /* longer codes cut to limit, shorter ones lengthened to make room */
    for (l = limit + 1; l <= 32; l++) {
        count[limit] += count[l];
    }

    total = 0;
    for (l = limit; l > 0; l--) {
        total += count[l] << (limit - l);
    }

    while (total != 1u << limit) {
        count[limit]--;
        for (l = limit - 1; l > 0; l--) {
            if (count[l]) {
                count[l]--;
                count[l + 1] += 2;
                break;
            }
        }

        total--;
    }

    /* the most frequent symbols get the shortest codes */
    j = used;
    for (l = 1; l <= limit; l++) {
        for (c = count[l]; c > 0; c--) {
            len[item[--j].sym] = (unsigned char) l;
        }
    }
}
