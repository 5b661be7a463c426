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

#endif /* STATSIG_USER_H */
