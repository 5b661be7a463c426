/*
 * The Statsig user as the server SDKs accept it.
 */

#include "user.h"


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
