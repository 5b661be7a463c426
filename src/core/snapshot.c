/*
 * Reading a compiled snapshot in place.
 */

#include <string.h>

#include "hash.h"
#include "jsnum.h"
#include "snapshot.h"


#define SG_HDR(s)  ((const sg_header_t *) (s))


const statsig_snapshot_t *
statsig_snapshot_open(const void *blob, size_t size)
{
    const sg_header_t  *h;

    if (blob == NULL || size < sizeof(sg_header_t)) {
        return NULL;
    }

    h = blob;
    if (h->magic != STATSIG_SNAPSHOT_MAGIC
        || h->version != STATSIG_SNAPSHOT_VERSION || h->size != size)
    {
        return NULL;
    }

    return blob;
}


int64_t
statsig_snapshot_time(const statsig_snapshot_t *s)
{
    return statsig_int64_clamp(SG_HDR(s)->time);
}


int
statsig_snapshot_has_updates(const statsig_snapshot_t *s)
{
    return SG_HDR(s)->has_updates;
}


statsig_str_t
statsig_snapshot_hashed_sdk_key(const statsig_snapshot_t *s)
{
    return sg_str(s, SG_HDR(s)->hashed_sdk_key_used);
}


size_t
statsig_snapshot_size(const statsig_snapshot_t *s)
{
    return SG_HDR(s)->size;
}


uint32_t
statsig_spec_count(const statsig_snapshot_t *s, statsig_kind_e k)
{
    return SG_HDR(s)->n_specs[k];
}


const statsig_spec_t *
statsig_spec_at(const statsig_snapshot_t *s, statsig_kind_e k, uint32_t i)
{
    if (i >= SG_HDR(s)->n_specs[k]) {
        return NULL;
    }

    return SG_AT(s, SG_HDR(s)->specs[k], statsig_spec_t) + i;
}


uint32_t
statsig_spec_ordinal(const statsig_snapshot_t *s, const statsig_spec_t *spec)
{
    return (uint32_t) (spec - SG_AT(s, SG_HDR(s)->specs[spec->kind],
                                    statsig_spec_t));
}


uint32_t
statsig_index_find(const void *s, uint32_t index, const char *names,
    size_t stride, const char *name, size_t len)
{
    const uint32_t   *tab;
    const sg_sref_t  *n;
    uint32_t          mask, slot, e;

    tab = SG_AT(s, index, uint32_t);
    mask = tab[0];
    slot = (uint32_t) statsig_str_hash(name, len) & mask;

    for ( ;; ) {
        e = tab[1 + slot];
        if (e == 0) {
            return 0;
        }

        n = (const sg_sref_t *) (names + (size_t) (e - 1) * stride);
        if (n->len == len
            && statsig_mem_eq((const char *) s + n->off, name, len))
        {
            return e;
        }

        slot = (slot + 1) & mask;
    }
}


static const statsig_spec_t *
sg_find(const statsig_snapshot_t *s, statsig_kind_e k, uint32_t index,
    size_t name_field, const char *name, size_t len)
{
    const statsig_spec_t  *specs;
    uint32_t               e;

    specs = SG_AT(s, SG_HDR(s)->specs[k], statsig_spec_t);
    e = statsig_index_find(s, index, (const char *) specs + name_field,
                           sizeof(statsig_spec_t), name, len);

    return e ? &specs[e - 1] : NULL;
}


void
statsig_snapshot_no_fast(void *blob)
{
    const sg_header_t  *h;
    statsig_spec_t     *specs;
    sg_cond_t          *c;
    sg_hot_t           *hot;
    sg_rule_t          *r;
    uint32_t            k, i, j;

    h = SG_HDR(blob);

    for (k = 0; k < STATSIG_KIND_COUNT; k++) {
        specs = (statsig_spec_t *) ((char *) blob + h->specs[k]);

        for (i = 0; i < h->n_specs[k]; i++) {
            r = (sg_rule_t *) ((char *) blob + specs[i].rules);
            for (j = 0; j < specs[i].n_rules; j++) {
                r[j].empty_unit_pass = 0;
            }

            c = (sg_cond_t *) ((char *) blob + specs[i].flow);
            hot = (sg_hot_t *) ((char *) blob + specs[i].hot);

            for ( /* void */ ; c->fast != SG_FAST_END; c++, hot++) {
                if (c->type != SG_COND_UNKNOWN) {
                    c->fast = SG_FAST_GENERAL;
                    c->flags &= SG_CF_LAST;
                    c->ua_field = 0;
                    c->target.version = 0;
                    sg_hot_of(hot, c);
                }
            }
        }
    }
}


/* a field key's index (snapshot.h), or SG_NO_FIELD_KEY */
uint32_t
statsig_field_key_find(const statsig_snapshot_t *s, const char *name,
    size_t len)
{
    uint32_t  e;

    if (SG_HDR(s)->n_field_keys == 0) {
        return SG_NO_FIELD_KEY;
    }

    e = statsig_index_find(s, SG_HDR(s)->field_key_index,
                           SG_AT(s, SG_HDR(s)->field_keys, char),
                           sizeof(sg_sref_t), name, len);

    return e ? e - 1 : SG_NO_FIELD_KEY;
}


const statsig_spec_t *
statsig_spec_find(const statsig_snapshot_t *s, statsig_kind_e k,
    const char *name, size_t len)
{
    return sg_find(s, k, SG_HDR(s)->name_index[k],
                   offsetof(statsig_spec_t, name), name, len);
}


const statsig_spec_t *
statsig_spec_find_var(const statsig_snapshot_t *s, statsig_kind_e k,
    const char *var, size_t len)
{
    return sg_find(s, k, SG_HDR(s)->var_index[k],
                   offsetof(statsig_spec_t, var_name), var, len);
}


statsig_str_t
statsig_spec_name(const statsig_snapshot_t *s, const statsig_spec_t *spec)
{
    return sg_str(s, spec->name);
}


statsig_entity_e
statsig_spec_entity(const statsig_spec_t *spec)
{
    return (statsig_entity_e) spec->entity;
}


statsig_kind_e
statsig_spec_kind(const statsig_spec_t *spec)
{
    return (statsig_kind_e) spec->kind;
}


int
statsig_spec_has_id_type(const statsig_spec_t *spec)
{
    return spec->has_id_type;
}


/* ---- JSON nodes; node 0 stands for {} ---- */

statsig_json_type_e
statsig_json_type(const statsig_snapshot_t *s, uint32_t node)
{
    if (node == 0) {
        return STATSIG_JSON_OBJECT;
    }

    return (statsig_json_type_e) SG_AT(s, node, sg_json_t)->type;
}


statsig_str_t
statsig_json_text(const statsig_snapshot_t *s, uint32_t node)
{
    statsig_str_t  empty = { "{}", 2 };

    if (node == 0) {
        return empty;
    }

    return sg_str(s, SG_AT(s, node, sg_json_t)->text);
}


statsig_str_t
statsig_json_string(const statsig_snapshot_t *s, uint32_t node)
{
    statsig_str_t  empty = { "", 0 };

    if (node == 0) {
        return empty;
    }

    return sg_str(s, SG_AT(s, node, sg_json_t)->str);
}


uint32_t
statsig_json_object_size(const statsig_snapshot_t *s, uint32_t node)
{
    const sg_json_t  *j;

    if (node == 0) {
        return 0;
    }

    j = SG_AT(s, node, sg_json_t);

    return j->type == STATSIG_JSON_OBJECT ? j->n : 0;
}


statsig_str_t
statsig_json_object_key(const statsig_snapshot_t *s, uint32_t node,
    uint32_t i)
{
    const sg_json_t  *j;

    j = SG_AT(s, node, sg_json_t);

    return sg_str(s, SG_AT(s, j->items, sg_member_t)[i].key);
}


uint32_t
statsig_json_object_value(const statsig_snapshot_t *s, uint32_t node,
    uint32_t i)
{
    const sg_json_t  *j;

    j = SG_AT(s, node, sg_json_t);

    return SG_AT(s, j->items, sg_member_t)[i].node;
}


uint32_t
statsig_json_object_get(const statsig_snapshot_t *s, uint32_t node,
    const char *key, size_t len)
{
    const sg_json_t    *j;
    const sg_member_t  *m;
    uint32_t            i;

    if (node == 0) {
        return 0;
    }

    j = SG_AT(s, node, sg_json_t);
    if (j->type != STATSIG_JSON_OBJECT) {
        return 0;
    }

    m = SG_AT(s, j->items, sg_member_t);

    for (i = j->n; i-- > 0; ) {
        if (m[i].key.len == len
            && memcmp((const char *) s + m[i].key.off, key, len) == 0)
        {
            return m[i].node;
        }
    }

    return 0;
}


uint32_t
statsig_strlist_size(const statsig_snapshot_t *s, uint32_t list)
{
    if (list == 0) {
        return 0;
    }

    return *SG_AT(s, list, uint32_t);
}


statsig_str_t
statsig_strlist_at(const statsig_snapshot_t *s, uint32_t list, uint32_t i)
{
    return sg_str(s, SG_AT(s, list + 4, sg_sref_t)[i]);
}
