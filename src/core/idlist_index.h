/*
 * The ID lists' index and the state a fetch resumes from.
 *
 * Statsig's /get_id_lists answers with an index, {"name": {"name", "url",
 * "size", "creationTime", "fileID"}}; each list's file grows by appended
 * "+id" / "-id" lines and is fetched with Range from the bytes already
 * applied.  This file compares an index with the one before it (which
 * lists keep their offset, and whether the builder must start over) and
 * writes and reads what a worker taking the fetch over resumes from.  It
 * is the nginx glue's logic moved here, unchanged, so that it can be unit
 * tested and fuzzed without nginx; the glue keeps the requests, the
 * builder and the zone.
 */

#ifndef STATSIG_IDLIST_INDEX_H
#define STATSIG_IDLIST_INDEX_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    const char  *name;          /* NUL-terminated (a NUL inside only
                                 * when read from a made-up state) */
    size_t       name_len;
    const char  *url;           /* "" when read from a state */
    size_t       url_len;
    const char  *file_id;       /* "" when the index has none */
    size_t       file_id_len;
    int64_t      creation_time;
    int64_t      size;          /* bytes the index says the file has */
    int64_t      offset;        /* bytes applied so far */
    int          list;          /* the builder's list number; -1 until set */
} statsig_idlist_entry_t;

/* The caller may change size, offset and list; the strings are owned. */
typedef struct {
    statsig_idlist_entry_t  *entries;
    size_t                   n;
    char                    *strings;   /* every entry's strings, one block */
} statsig_idlist_index_t;


/* An empty index; allocates nothing, so it never fails. */
void statsig_idlist_index_init(statsig_idlist_index_t *ix);

/* Frees what ix holds and leaves it empty (as after init). */
void statsig_idlist_index_free(statsig_idlist_index_t *ix);

/*
 * Parses an index response into *out and compares it with old.
 *
 * The JSON is what jansson's json_loadb(json, len, 0) accepts (the glue's
 * flags: no \u0000 in any string, integers within int64), read with
 * jtree.  Members that are not objects or whose "url" is not a string are
 * skipped; the name is the member's key; a "fileID" that is not a string
 * is ""; "size" and "creationTime" are any JSON number, else 0, truncated
 * towards zero to int64 (clamped beyond it, where a C cast is undefined).
 *
 * old is the index of the round before, or NULL when there was none (the
 * builder is new): then *reset is 1 even for an empty index.  An old
 * index with no entries is compared like any other: an empty index does
 * not start over, a non-empty one does (every list is new).
 *
 * Lists match by name, then fileID (equal lengths and strncmp, as the
 * glue: bytes for anything an index holds).  A list whose index names an
 * OLDER file than old's (fileID differs, creationTime less) keeps old's
 * file: its file_id, creation_time and offset, with size = that offset
 * (the url stays the index's); one with the same fileID keeps old's
 * offset.
 *
 * *reset (never NULL): on entry, nonzero if the caller starts over
 * anyway (no builder, a bad range before); on return, nonzero if the
 * builder must start over: that, or a list is new, gone, or has a newer
 * file (fileID differs, creationTime not less).  Then every offset is 0
 * (a kept older file's size stays).  Every entry's list is -1.
 *
 * Returns 0, having freed what *out held; or -1, with *out and *reset
 * as they were and err set to "the ID lists index is not a JSON object:
 * <jtree's "line L, column C: reason">" (no reason for JSON that is an
 * array) or "out of memory".  out may be old itself.
 */
int statsig_idlist_index_update(const statsig_idlist_index_t *old,
    const char *json, size_t len, statsig_idlist_index_t *out, int *reset,
    char *err, size_t errlen);

/*
 * The first entry at or after i with bytes to fetch (size > offset), or
 * ix->n when none.
 */
size_t statsig_idlist_index_next(const statsig_idlist_index_t *ix,
    size_t i);

/*
 * The resume state, in the byte format the glue has kept in the zone
 * (a reload onto an existing zone reads what the old workers wrote):
 * for each entry, in order, a uint32 name length, the name's bytes, a
 * uint32 fileID length, its bytes, the int64 creation time and the int64
 * offset; native byte order, no alignment, no header.  size and url are
 * not kept: the next index brings them.
 */
size_t statsig_idlist_state_size(const statsig_idlist_index_t *ix);

/* Writes statsig_idlist_state_size(ix) bytes at out (any alignment). */
void statsig_idlist_state_write(const statsig_idlist_index_t *ix,
    unsigned char *out);

/*
 * Reads a state into *out (what it held is freed): entries with url "",
 * size = offset and list -1.  No bytes read as no entries (the glue took
 * an empty state as none, which starts over even on an empty index).
 * Returns 0; -1 out of memory or -2 corrupt (an entry cut short), both
 * with *out unchanged.
 */
int statsig_idlist_state_read(const unsigned char *p, size_t len,
    statsig_idlist_index_t *out);

#endif /* STATSIG_IDLIST_INDEX_H */
