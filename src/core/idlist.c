/*
 * ID lists: a builder with hash sets, and a sorted, position-independent
 * blob for lookups.
 */

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "idlist.h"
#include "jsstr.h"
#include "snapshot.h"


#define SG_IDLISTS_MAGIC  0x53474931u   /* "SGI1" */


typedef struct {
    char      *name;
    size_t     name_len;
    uint64_t  *slots;       /* open addressing; 0 = empty, 1 = deleted */
    size_t     mask;
    size_t     used;        /* live + deleted */
    size_t     live;
} sg_idset_t;

struct statsig_idlist_builder_s {
    sg_idset_t  *lists;
    size_t       n;
};


/* the blob */
typedef struct {
    uint32_t  magic;
    uint32_t  size;
    uint32_t  n;
    uint32_t  lists;        /* sg_idlist_t[n], sorted by name */
} sg_idlists_hdr_t;

typedef struct {
    sg_sref_t  name;
    uint32_t   count;
    uint32_t   ids;         /* char[count][8], sorted */
} sg_idlist_t;


/* 8 Base64 characters as one non-zero 64-bit key (byte order kept). */
static uint64_t
sg_id_key(const char id[8])
{
    uint64_t  k;
    int       i;

    k = 0;
    for (i = 0; i < 8; i++) {
        k = (k << 8) | (unsigned char) id[i];
    }

    return k;
}


static size_t
sg_key_slot(uint64_t k, size_t mask)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;

    return (size_t) k & mask;
}


static int
sg_idset_grow(sg_idset_t *s)
{
    uint64_t  *old, k;
    size_t     oldn, i, slot;

    old = s->slots;
    oldn = s->slots ? s->mask + 1 : 0;

    s->mask = (oldn ? oldn : 8) * 2 - 1;
    while (s->live * 2 > s->mask) {
        s->mask = s->mask * 2 + 1;
    }

    s->slots = calloc(s->mask + 1, sizeof(uint64_t));
    if (s->slots == NULL) {
        s->slots = old;
        s->mask = oldn ? oldn - 1 : 0;
        return -1;
    }

    s->used = 0;
    for (i = 0; i < oldn; i++) {
        k = old[i];
        if (k > 1) {
            slot = sg_key_slot(k, s->mask);
            while (s->slots[slot] != 0) {
                slot = (slot + 1) & s->mask;
            }

            s->slots[slot] = k;
            s->used++;
        }
    }

    free(old);

    return 0;
}


static int
sg_idset_add(sg_idset_t *s, uint64_t k)
{
    size_t  slot, tomb;

    if (s->slots == NULL || (s->used + 1) * 4 > (s->mask + 1) * 3) {
        if (sg_idset_grow(s) != 0) {
            return -1;
        }
    }

    slot = sg_key_slot(k, s->mask);
    tomb = (size_t) -1;

    while (s->slots[slot] != 0) {
        if (s->slots[slot] == k) {
            return 0;
        }

        if (s->slots[slot] == 1 && tomb == (size_t) -1) {
            tomb = slot;
        }

        slot = (slot + 1) & s->mask;
    }

    if (tomb != (size_t) -1) {
        slot = tomb;

    } else {
        s->used++;
    }

    s->slots[slot] = k;
    s->live++;

    return 0;
}


static void
sg_idset_remove(sg_idset_t *s, uint64_t k)
{
    size_t  slot;

    if (s->slots == NULL) {
        return;
    }

    slot = sg_key_slot(k, s->mask);

    while (s->slots[slot] != 0) {
        if (s->slots[slot] == k) {
            s->slots[slot] = 1;
            s->live--;
            return;
        }

        slot = (slot + 1) & s->mask;
    }
}


statsig_idlist_builder_t *
statsig_idlist_builder_create(void)
{
    return calloc(1, sizeof(statsig_idlist_builder_t));
}


void
statsig_idlist_builder_free(statsig_idlist_builder_t *b)
{
    size_t  i;

    if (b == NULL) {
        return;
    }

    for (i = 0; i < b->n; i++) {
        free(b->lists[i].name);
        free(b->lists[i].slots);
    }

    free(b->lists);
    free(b);
}


int
statsig_idlist_builder_list(statsig_idlist_builder_t *b, const char *name,
    size_t len)
{
    sg_idset_t  *l;
    size_t       i;

    for (i = 0; i < b->n; i++) {
        if (b->lists[i].name_len == len
            && memcmp(b->lists[i].name, name, len) == 0)
        {
            return (int) i;
        }
    }

    l = realloc(b->lists, (b->n + 1) * sizeof(sg_idset_t));
    if (l == NULL) {
        return -1;
    }

    b->lists = l;
    l = &b->lists[b->n];
    memset(l, 0, sizeof(*l));

    l->name = malloc(len + 1);
    if (l->name == NULL) {
        return -1;
    }

    memcpy(l->name, name, len);
    l->name[len] = '\0';
    l->name_len = len;

    return (int) b->n++;
}


int
statsig_idlist_builder_apply(statsig_idlist_builder_t *b, int list,
    const char *text, size_t len)
{
    const char  *p, *end, *nl, *at;
    size_t       n, idlen;
    char         id[8];
    sg_idset_t  *s;

    if (list < 0 || (size_t) list >= b->n) {
        return -1;
    }

    if (len > 0 && text[0] != '+' && text[0] != '-') {
        return -1;
    }

    s = &b->lists[list];
    p = text;
    end = text + len;

    while (p < end) {
        nl = memchr(p, '\n', (size_t) (end - p));
        n = nl ? (size_t) (nl - p) : (size_t) (end - p);

        if (n > 0 && p[n - 1] == '\r') {
            n--;
        }

        /* statsig-node: line.slice(1).trim() */
        at = p + 1;
        idlen = n - 1;
        if (n > 1) {
            statsig_js_trim(&at, &idlen);
        }

        if (n > 1 && (p[0] == '+' || p[0] == '-')) {
            /* ids are 8 characters; pad shorter ones so they never match */
            memset(id, 0, sizeof(id));
            memcpy(id, at, idlen < 8 ? idlen : 8);

            if (idlen == 8) {
                if (p[0] == '+') {
                    if (sg_idset_add(s, sg_id_key(id)) != 0) {
                        return -1;
                    }

                } else {
                    sg_idset_remove(s, sg_id_key(id));
                }
            }
        }

        p += (nl ? (size_t) (nl - p) + 1 : n);
        if (nl == NULL) {
            break;
        }
    }

    return 0;
}


int
statsig_idlist_builder_add_raw(statsig_idlist_builder_t *b, int list,
    const char *id, size_t len)
{
    char  h[8];

    if (list < 0 || (size_t) list >= b->n) {
        return -1;
    }

    statsig_idlist_hash(id, len, h);

    return sg_idset_add(&b->lists[list], sg_id_key(h));
}


size_t
statsig_idlist_builder_count(statsig_idlist_builder_t *b, int list)
{
    return (list >= 0 && (size_t) list < b->n) ? b->lists[list].live : 0;
}


static int
sg_u64_cmp(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}


static int
sg_list_cmp(const void *a, const void *b)
{
    const sg_idset_t  *x = *(sg_idset_t *const *) a;
    const sg_idset_t  *y = *(sg_idset_t *const *) b;
    size_t             n;
    int                r;

    n = x->name_len < y->name_len ? x->name_len : y->name_len;
    r = memcmp(x->name, y->name, n);

    return r ? r : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}


void *
statsig_idlist_builder_finish(statsig_idlist_builder_t *b, size_t *size)
{
    statsig_buf_t      blob;
    sg_idlists_hdr_t   h;
    sg_idlist_t        entry;
    sg_idset_t       **order;
    uint64_t          *keys, k;
    size_t             i, j, n, lists, off;
    int                byte;
    char              *ids;

    statsig_buf_init(&blob);
    memset(&h, 0, sizeof(h));

    order = malloc((b->n ? b->n : 1) * sizeof(sg_idset_t *));
    if (order == NULL) {
        return NULL;
    }

    for (i = 0; i < b->n; i++) {
        order[i] = &b->lists[i];
    }

    qsort(order, b->n, sizeof(sg_idset_t *), sg_list_cmp);

    statsig_buf_reserve(&blob, sizeof(h), 8);
    lists = statsig_buf_reserve(&blob, (b->n ? b->n : 1)
                                * sizeof(sg_idlist_t), 8);

    for (i = 0; i < b->n && !blob.failed; i++) {
        memset(&entry, 0, sizeof(entry));

        off = statsig_buf_reserve(&blob, order[i]->name_len + 1, 1);
        if (off == (size_t) -1) {
            break;
        }

        memcpy(blob.data + off, order[i]->name, order[i]->name_len);
        entry.name.off = (uint32_t) off;
        entry.name.len = (uint32_t) order[i]->name_len;

        keys = malloc((order[i]->live ? order[i]->live : 1)
                      * sizeof(uint64_t));
        if (keys == NULL) {
            blob.failed = 1;
            break;
        }

        n = 0;
        for (j = 0; order[i]->slots && j <= order[i]->mask; j++) {
            if (order[i]->slots[j] > 1) {
                keys[n++] = order[i]->slots[j];
            }
        }

        qsort(keys, n, sizeof(uint64_t), sg_u64_cmp);

        off = statsig_buf_reserve(&blob, (n ? n : 1) * 8, 8);
        if (off == (size_t) -1) {
            free(keys);
            break;
        }

        ids = blob.data + off;
        for (j = 0; j < n; j++) {
            k = keys[j];
            for (byte = 7; byte >= 0; byte--) {
                ids[j * 8 + (size_t) byte] = (char) (k & 0xFF);
                k >>= 8;
            }
        }

        free(keys);

        entry.count = (uint32_t) n;
        entry.ids = (uint32_t) off;
        memcpy(blob.data + lists + i * sizeof(entry), &entry, sizeof(entry));
    }

    free(order);

    if (blob.failed || blob.len > 0xFFFFFFF0u) {
        statsig_buf_free(&blob);
        return NULL;
    }

    h.magic = SG_IDLISTS_MAGIC;
    h.size = (uint32_t) blob.len;
    h.n = (uint32_t) b->n;
    h.lists = (uint32_t) lists;
    memcpy(blob.data, &h, sizeof(h));

    *size = blob.len;

    return blob.data;
}


/*
 * A builder holding what a published blob holds: a worker that takes the
 * fetch over goes on from the bytes already applied, not from zero.
 */

statsig_idlist_builder_t *
statsig_idlist_builder_from(const statsig_idlists_t *l)
{
    const sg_idlists_hdr_t    *h;
    const sg_idlist_t         *lists;
    statsig_idlist_builder_t  *b;
    uint32_t                   i, j;
    int                        list;

    b = statsig_idlist_builder_create();
    if (b == NULL || l == NULL) {
        return b;
    }

    h = (const sg_idlists_hdr_t *) l;
    lists = SG_AT(l, h->lists, sg_idlist_t);

    for (i = 0; i < h->n; i++) {
        list = statsig_idlist_builder_list(b,
                   (const char *) l + lists[i].name.off, lists[i].name.len);
        if (list < 0) {
            goto failed;
        }

        for (j = 0; j < lists[i].count; j++) {
            if (sg_idset_add(&b->lists[list],
                             sg_id_key((const char *) l + lists[i].ids
                                       + (size_t) j * 8))
                != 0)
            {
                goto failed;
            }
        }
    }

    return b;

failed:

    statsig_idlist_builder_free(b);

    return NULL;
}


const statsig_idlists_t *
statsig_idlists_open(const void *blob, size_t size)
{
    const sg_idlists_hdr_t  *h;

    if (blob == NULL || size < sizeof(sg_idlists_hdr_t)) {
        return NULL;
    }

    h = blob;
    if (h->magic != SG_IDLISTS_MAGIC || h->size != size) {
        return NULL;
    }

    return blob;
}


/*
 * A blob from outside the process (a file kept on disk) is checked before
 * it is opened: every offset and count within the blob, the names sorted
 * (lookups are binary searches).  The ids' order is not checked: out of
 * order, a lookup may miss an id, but reads nothing outside the blob.
 */

int
statsig_idlists_check(const void *blob, size_t size)
{
    const sg_idlists_hdr_t  *h;
    const sg_idlist_t       *lists;
    const char              *base, *prev;
    size_t                   i, n, prev_len;

    if (((uintptr_t) blob & 7) != 0 || statsig_idlists_open(blob, size)
        == NULL)
    {
        return -1;
    }

    h = blob;
    base = blob;

    if (h->lists < sizeof(sg_idlists_hdr_t) || (h->lists & 3) != 0
        || h->lists > size
        || (size - h->lists) / sizeof(sg_idlist_t) < h->n)
    {
        return -1;
    }

    lists = SG_AT(blob, h->lists, sg_idlist_t);
    prev = NULL;
    prev_len = 0;

    for (i = 0; i < h->n; i++) {
        if (lists[i].name.off > size
            || lists[i].name.len > size - lists[i].name.off
            || (lists[i].ids & 7) != 0 || lists[i].ids > size
            || (size - lists[i].ids) / 8 < lists[i].count)
        {
            return -1;
        }

        if (prev) {
            n = prev_len < lists[i].name.len ? prev_len : lists[i].name.len;

            if (memcmp(prev, base + lists[i].name.off, n) > 0
                || (memcmp(prev, base + lists[i].name.off, n) == 0
                    && prev_len >= lists[i].name.len))
            {
                return -1;
            }
        }

        prev = base + lists[i].name.off;
        prev_len = lists[i].name.len;
    }

    return 0;
}


uint32_t
statsig_idlists_count(const statsig_idlists_t *l)
{
    return ((const sg_idlists_hdr_t *) l)->n;
}


int
statsig_idlists_contains(const statsig_idlists_t *l, const char *name,
    size_t name_len, const char id[8])
{
    const sg_idlists_hdr_t  *h;
    const sg_idlist_t       *lists, *list;
    const char              *ids;
    size_t                   lo, hi, mid, n;
    int                      r;

    if (l == NULL) {
        return 0;
    }

    h = (const sg_idlists_hdr_t *) l;
    lists = SG_AT(l, h->lists, sg_idlist_t);
    list = NULL;

    lo = 0;
    hi = h->n;
    while (lo < hi) {
        mid = (lo + hi) / 2;
        n = lists[mid].name.len < name_len ? lists[mid].name.len : name_len;
        r = memcmp((const char *) l + lists[mid].name.off, name, n);
        if (r == 0) {
            r = (lists[mid].name.len > name_len)
                - (lists[mid].name.len < name_len);
        }

        if (r == 0) {
            list = &lists[mid];
            break;
        }

        if (r < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    if (list == NULL) {
        return 0;
    }

    ids = (const char *) l + list->ids;
    lo = 0;
    hi = list->count;
    while (lo < hi) {
        mid = (lo + hi) / 2;
        r = memcmp(ids + mid * 8, id, 8);
        if (r == 0) {
            return 1;
        }

        if (r < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return 0;
}



int
statsig_idlists_list(const statsig_idlists_t *l, uint32_t i,
    const char **name, size_t *name_len, const char **ids, size_t *count)
{
    const sg_idlists_hdr_t  *h;
    const sg_idlist_t       *lists;

    if (l == NULL) {
        return -1;
    }

    h = (const sg_idlists_hdr_t *) l;
    if (i >= h->n) {
        return -1;
    }

    lists = SG_AT(l, h->lists, sg_idlist_t);

    *name = (const char *) l + lists[i].name.off;
    *name_len = lists[i].name.len;
    *ids = (const char *) l + lists[i].ids;
    *count = lists[i].count;

    return 0;
}

void *
statsig_idlists_from_json(const char *json, size_t len, size_t *size,
    char *err, size_t errlen)
{
    statsig_idlist_builder_t  *b;
    json_t                    *root, *ids, *id;
    json_error_t               e;
    const char                *name;
    size_t                     i;
    int                        list;
    void                      *blob;

    root = json_loadb(json, len, 0, &e);
    if (root == NULL || !json_is_object(root)) {
        snprintf(err, errlen, "ID lists: %s",
                 root ? "not a JSON object" : e.text);
        json_decref(root);
        return NULL;
    }

    b = statsig_idlist_builder_create();
    if (b == NULL) {
        json_decref(root);
        return NULL;
    }

    json_object_foreach(root, name, ids) {
        list = statsig_idlist_builder_list(b, name, strlen(name));
        if (list < 0 || !json_is_array(ids)) {
            snprintf(err, errlen, "ID list \"%s\" is not an array of ids",
                     name);
            goto failed;
        }

        json_array_foreach(ids, i, id) {
            if (!json_is_string(id)) {
                snprintf(err, errlen, "ID list \"%s\": id %zu is not a string",
                         name, i);
                goto failed;
            }

            if (statsig_idlist_builder_add_raw(b, list, json_string_value(id),
                                               json_string_length(id)) != 0)
            {
                goto failed;
            }
        }
    }

    blob = statsig_idlist_builder_finish(b, size);
    statsig_idlist_builder_free(b);
    json_decref(root);

    return blob;

failed:

    statsig_idlist_builder_free(b);
    json_decref(root);

    return NULL;
}
