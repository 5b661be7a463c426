/*
 * Seeded randomness for the C unit tests (xorshift64*): the same inputs
 * on every run.  A test may define RNG_SEED before including this.
 */

#ifndef STATSIG_TEST_RNG_H
#define STATSIG_TEST_RNG_H

#include <stdint.h>

#ifndef RNG_SEED
#define RNG_SEED  0x9E3779B97F4A7C15ULL
#endif

static uint64_t  rng_state = RNG_SEED;


static uint32_t
rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t) ((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}


/* 0 .. n-1, and 0 for n = 0 */
static uint32_t
rnd_below(uint32_t n)
{
    return n ? rnd() % n : 0;
}

#endif /* STATSIG_TEST_RNG_H */
