/*
 * The Statsig user as the server SDKs accept it.
 */

#include <string.h>

#include "user.h"


static int sg_object_with(const statsig_alloc_t *a,
    const statsig_value_t *obj, const char *key, size_t key_len,
    const statsig_value_t *value, statsig_value_t *out);


const char *
statsig_user_validate(const statsig_value_t *user)
{
    const statsig_value_t  *id, *ids;

    if (user == NULL || user->type != STATSIG_V_OBJECT) {
        return "StatsigInvalidArgumentError";
    }

    id = statsig_value_get(user, "userID", 6);
    if (id != NULL
        && (id->type == STATSIG_V_STRING || id->type == STATSIG_V_NUMBER))
    {
        return NULL;
    }

    /* customIDs != null && typeof object && Object.keys(...).length */
    ids = statsig_value_get(user, "customIDs", 9);
    if (ids != NULL && ids->n > 0
        && (ids->type == STATSIG_V_OBJECT || ids->type == STATSIG_V_ARRAY))
    {
        return NULL;
    }

    if (ids != NULL && ids->type == STATSIG_V_STRING && ids->len > 0) {
        return NULL;
    }

    return "StatsigInvalidArgumentError";
}


int
statsig_user_with_stable_id(const statsig_alloc_t *a,
    const statsig_value_t *user, const statsig_value_t *stable_id,
    statsig_value_t *out)
{
    statsig_value_t         ids;
    const statsig_value_t  *old, *sid;

    *out = *user;

    if (user->type != STATSIG_V_OBJECT || stable_id == NULL
        || stable_id->type != STATSIG_V_STRING)
    {
        return 0;
    }

    old = statsig_value_get(user, "customIDs", 9);

    if (old != NULL && old->type != STATSIG_V_OBJECT
        && old->type != STATSIG_V_NULL)
    {
        return 0;
    }

    if (old != NULL && old->type == STATSIG_V_OBJECT) {
        sid = statsig_value_get(old, "stableID", 8);

        if (!statsig_value_nullish(sid)) {
            return 0;
        }

        if (sg_object_with(a, old, "stableID", 8, stable_id, &ids) != 0) {
            return -1;
        }

    } else {
        if (sg_object_with(a, NULL, "stableID", 8, stable_id, &ids) != 0) {
            return -1;
        }
    }

    if (sg_object_with(a, user, "customIDs", 9, &ids, out) != 0) {
        return -1;
    }

    return 1;
}


/*
 * obj (an object, or NULL for {}) with key set to value: replaced where
 * obj has it (every duplicate), else added last
 */

static int
sg_object_with(const statsig_alloc_t *a, const statsig_value_t *obj,
    const char *key, size_t key_len, const statsig_value_t *value,
    statsig_value_t *out)
{
    size_t            i, n, found;
    size_t           *lens;
    const char      **keys;
    statsig_value_t  *items;

    n = obj ? obj->n : 0;

    keys = a->alloc(a->data, (n + 1) * sizeof(const char *));
    lens = a->alloc(a->data, (n + 1) * sizeof(size_t));
    items = a->alloc(a->data, (n + 1) * sizeof(statsig_value_t));

    if (keys == NULL || lens == NULL || items == NULL) {
        return -1;
    }

    found = 0;

    for (i = 0; i < n; i++) {
        keys[i] = obj->keys[i];
        lens[i] = obj->key_lens[i];
        items[i] = obj->items[i];

        if (lens[i] == key_len && memcmp(keys[i], key, key_len) == 0) {
            items[i] = *value;
            found = 1;
        }
    }

    if (!found) {
        keys[n] = key;
        lens[n] = key_len;
        items[n] = *value;
        n++;
    }

    return statsig_value_object(a, keys, lens, items, n, out);
}
