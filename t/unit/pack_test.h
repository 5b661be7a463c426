/*
 * What t/unit/test_pack.c and t/unit/test_pack_split.c share: ok() with
 * the reason a check wrote, and events as the module writes them.
 */

#ifndef STATSIG_PACK_TEST_H
#define STATSIG_PACK_TEST_H

#include <stdio.h>

#include "tap.h"


/* why a check failed, written by the check, printed by ok_why() */
static char  why[256];

#define ok_why(cond, ...)                                                    \
    do {                                                                     \
        why[0] = '\0';                                                       \
        if (!(cond)) {                                                       \
            ok(0, __VA_ARGS__);                                              \
            printf("#   %s\n", why);                                         \
        } else {                                                             \
            ok(1, __VA_ARGS__);                                              \
        }                                                                    \
    } while (0)


/* an exposure of one of 4 gates as the module writes it, for uid at t */
static size_t
exposure(char *out, size_t cap, int gate, const char *uid, long long t)
{
    static const char  *gates[][3] = {
        { "beta_users", "false", "default" },
        { "new_checkout", "false", "demoNewCheckoutHalf" },
        { "public_launch", "true", "demoPublicLaunchAll" },
        { "holdout_q3", "false", "layerAssignment" },
    };

    return (size_t) snprintf(out, cap,
        "{\"eventName\":\"statsig::gate_exposure\",\"metadata\":{\"gate\":"
        "\"%s\",\"gateValue\":\"%s\",\"ruleID\":\"%s\",\"reason\":"
        "\"Network\",\"configSyncTime\":1735689600000,\"initTime\":"
        "1735689600000,\"serverTime\":%lld},\"time\":%lld,\"user\":{"
        "\"userID\":\"%s\",\"ip\":\"127.0.0.1\",\"privateAttributes\":null},"
        "\"value\":null,\"secondaryExposures\":[],\"statsigMetadata\":{}}",
        gates[gate][0], gates[gate][1], gates[gate][2], t, t, uid);
}

#endif /* STATSIG_PACK_TEST_H */
