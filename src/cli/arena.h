/*
 * A bump allocator for statsig-eval's users: freed all at once.
 */

#ifndef STATSIG_ARENA_H
#define STATSIG_ARENA_H

#include <stddef.h>

#include "statsig_value.h"


typedef struct statsig_arena_s  statsig_arena_t;

statsig_arena_t *statsig_arena_create(void);
void statsig_arena_free(statsig_arena_t *a);
void *statsig_arena_alloc(void *arena, size_t size);

/* The arena as a statsig_alloc_t for the value builders. */
void statsig_arena_alloc_iface(statsig_arena_t *a, statsig_alloc_t *out);

#endif /* STATSIG_ARENA_H */
