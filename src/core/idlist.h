/*
 * ID lists (large segments): list name -> set of 8-character ids, each
 * the first 8 Base64 characters of SHA-256(unit id).
 *
 * A builder collects lists from Statsig's "+id" / "-id" line format (or
 * from raw ids) and produces a position-independent blob that evaluation
 * reads in place, like the specs snapshot.
 */

#ifndef STATSIG_IDLIST_H
#define STATSIG_IDLIST_H

#include <stddef.h>

#include "statsig.h"


typedef struct statsig_idlist_builder_s  statsig_idlist_builder_t;

statsig_idlist_builder_t *statsig_idlist_builder_create(void);
void statsig_idlist_builder_free(statsig_idlist_builder_t *b);

/* Returns the list's number (creating it empty), or -1. */
int statsig_idlist_builder_list(statsig_idlist_builder_t *b,
    const char *name, size_t len);

/*
 * Applies "+id" / "-id" lines (LF or CRLF; lines of one byte or less are
 * skipped, as the SDKs do).  Returns 0, or -1 when the text does not
 * start with '+' or '-' (a bad range: the caller should refetch it).
 */
int statsig_idlist_builder_apply(statsig_idlist_builder_t *b, int list,
    const char *text, size_t len);

/* Adds one raw unit id (hashed here). */
int statsig_idlist_builder_add_raw(statsig_idlist_builder_t *b, int list,
    const char *id, size_t len);

size_t statsig_idlist_builder_count(statsig_idlist_builder_t *b, int list);

/*
 * The i-th list of a blob, in name order (what statsig_api's get_id_lists
 * serves): its name and its count ids, 8 characters each, sorted and
 * contiguous.  0, or -1 when there is no i-th list.
 */
int statsig_idlists_list(const statsig_idlists_t *l, uint32_t i,
    const char **name, size_t *name_len, const char **ids, size_t *count);

/* A builder with the lists and ids of a blob, or NULL (no memory). */
statsig_idlist_builder_t *statsig_idlist_builder_from(
    const statsig_idlists_t *l);

/* The blob (malloc'd); the builder stays usable. */
void *statsig_idlist_builder_finish(statsig_idlist_builder_t *b,
    size_t *size);

/* Membership of an 8-character hashed id. */
int statsig_idlists_contains(const statsig_idlists_t *l, const char *name,
    size_t name_len, const char id[8]);

uint32_t statsig_idlists_count(const statsig_idlists_t *l);

/*
 * 0 when a blob read from outside (a file) can be opened and searched
 * safely: 8-byte aligned, its header, every offset and count within size,
 * names in order; -1 otherwise.
 */
int statsig_idlists_check(const void *blob, size_t size);

#endif /* STATSIG_IDLIST_H */
