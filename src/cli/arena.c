/*
 * A bump allocator for statsig-eval's users: freed all at once.
 */

#include <stdint.h>
#include <stdlib.h>

#include "arena.h"


#define STATSIG_ARENA_CHUNK  (1 << 20)


typedef struct statsig_chunk_s  statsig_chunk_t;

struct statsig_chunk_s {
    statsig_chunk_t  *next;
    size_t            used;
    size_t            size;
    double            data[];
};

struct statsig_arena_s {
    statsig_chunk_t  *head;
};


statsig_arena_t *
statsig_arena_create(void)
{
    return calloc(1, sizeof(statsig_arena_t));
}


void
statsig_arena_free(statsig_arena_t *a)
{
    statsig_chunk_t  *c, *next;

    if (a == NULL) {
        return;
    }

    for (c = a->head; c != NULL; c = next) {
        next = c->next;
        free(c);
    }

    free(a);
}


void *
statsig_arena_alloc(void *arena, size_t size)
{
    statsig_arena_t  *a;
    statsig_chunk_t  *c;
    size_t            chunk;
    void             *p;

    a = arena;
    size = (size + sizeof(double) - 1) & ~(sizeof(double) - 1);

    c = a->head;
    if (c == NULL || c->size - c->used < size) {
        chunk = size > STATSIG_ARENA_CHUNK ? size : STATSIG_ARENA_CHUNK;
        c = malloc(sizeof(statsig_chunk_t) + chunk);
        if (c == NULL) {
            return NULL;
        }

        c->used = 0;
        c->size = chunk;
        c->next = a->head;
        a->head = c;
    }

    p = (char *) c->data + c->used;
    c->used += size;

    return p;
}


void
statsig_arena_alloc_iface(statsig_arena_t *a, statsig_alloc_t *out)
{
    out->alloc = statsig_arena_alloc;
    out->data = a;
}
