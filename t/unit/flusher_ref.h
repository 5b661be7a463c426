/*
 * The event flusher's part, as t/unit/test_pack_split.c and
 * fuzz/fuzz_pack.c play it: its former comma scan
 * (ngx_http_statsig_flush_split), byte for byte, the reference that
 * statsig_json_comma() and the split of statsig_pack_split() are checked
 * against; and a batch's frame for statsig_gzip_packs().
 */

#ifndef STATSIG_FLUSHER_REF_H
#define STATSIG_FLUSHER_REF_H

#include <stddef.h>
#include <string.h>

#include "pack.h"


/* where the half-th top-level comma of data is, or len */
static size_t
glue_comma(const void *data, size_t len, size_t half)
{
    const unsigned char  *p = data;
    size_t                n, depth, quoted, i;

    n = 0;
    depth = 0;
    quoted = 0;

    for (i = 0; i < len; i++) {
        if (quoted) {
            if (p[i] == '\\') {
                i++;

            } else if (p[i] == '"') {
                quoted = 0;
            }

            continue;
        }

        if (p[i] == '"') {
            quoted = 1;

        } else if (p[i] == '{' || p[i] == '[') {
            depth++;

        } else if (p[i] == '}' || p[i] == ']') {
            depth--;

        } else if (p[i] == ',' && depth == 0 && ++n == half) {
            break;
        }
    }

    return i >= len ? len : i;
}

/* {"events":[ then the pieces next() gives, joined by ",", then ]} */
static void
events_frame(statsig_gzip_t *g, statsig_gzip_next_pt next, void *data)
{
    g->prefix = "{\"events\":[";
    g->prefix_len = strlen(g->prefix);
    g->joiner = ",";
    g->joiner_len = 1;
    g->suffix = "]}";
    g->suffix_len = 2;
    g->next = next;
    g->data = data;
}

#endif /* STATSIG_FLUSHER_REF_H */
