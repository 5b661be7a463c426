/*
 * The Statsig user as the server SDKs accept it.
 */

#ifndef STATSIG_USER_H
#define STATSIG_USER_H

#include "statsig_value.h"


/*
 * statsig-node's isUserIdentifiable: an object with a string or number
 * userID, or a non-empty customIDs object.  NULL when valid, else the
 * error the SDK raises.
 */
const char *statsig_user_validate(const statsig_value_t *user);

/*
 * The client SDKs send their stable ID beside the user, in the request's
 * statsigMetadata.stableID; Statsig then takes it as the user's
 * customIDs.stableID when the user has none (null or absent).  *out is
 * user with stable_id (a string) there: its members shared with user,
 * the new arrays allocated from a.  Returns 1 when *out was made, 0 when
 * nothing is to be done (*out is *user: not an object, a stableID there,
 * customIDs neither an object nor null, stable_id not a string), -1 when
 * allocation failed.
 */
int statsig_user_with_stable_id(const statsig_alloc_t *a,
    const statsig_value_t *user, const statsig_value_t *stable_id,
    statsig_value_t *out);

#endif /* STATSIG_USER_H */
