/*
 * src/core/client_encoding: the browser SDK's se=1 bodies.  Known texts
 * (what @statsig/js-client sends for a small body), Latin-1 bytes given
 * back as UTF-8, 2,000 random byte strings encoded here as the SDK does
 * (Base64 by OpenSSL's encoder, then reversed) decoded back, and every
 * malformed shape refused with a reason.  Then the client SDKs' stable ID
 * (statsig_user_with_stable_id, src/core/user.c) on the users it meets.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "client_encoding.h"
#include "statsig_value.h"
#include "user.h"
#include "buf.h"
#include "exposure.h"
#include "tap.h"
#include "rng.h"


/* the SDK's encoding of bytes (a Latin-1 string): btoa(), reversed */
static size_t
encode(const unsigned char *in, size_t len, char *out)
{
    int     n;
    size_t  i;
    char    c;

    n = EVP_EncodeBlock((unsigned char *) out, in, (int) len);

    for (i = 0; i < (size_t) n / 2; i++) {
        c = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = c;
    }

    return (size_t) n;
}


/* what the decoder must give: the Latin-1 bytes as UTF-8 */
static size_t
utf8(const unsigned char *in, size_t len, char *out)
{
    size_t  i, n;

    for (i = 0, n = 0; i < len; i++) {
        if (in[i] < 0x80) {
            out[n++] = (char) in[i];

        } else {
            out[n++] = (char) (0xc0 | (in[i] >> 6));
            out[n++] = (char) (0x80 | (in[i] & 0x3f));
        }
    }

    return n;
}


static int
decodes_to(const char *in, const char *want)
{
    char         out[256];
    size_t       len;
    const char  *err = NULL;

    if (statsig_client_decode(in, strlen(in), out, &len, &err) != 0) {
        printf("#   refused: %s\n", err);
        return 0;
    }

    if (len != strlen(want) || memcmp(out, want, len) != 0) {
        printf("#   got '%.*s'\n", (int) len, out);
        return 0;
    }

    return 1;
}


static int
refused(const char *in, const char *why)
{
    char         out[256];
    size_t       len;
    const char  *err = NULL;

    if (statsig_client_decode(in, strlen(in), out, &len, &err) == 0) {
        printf("#   decoded '%.*s'\n", (int) len, out);
        return 0;
    }

    if (err == NULL || strstr(err, why) == NULL) {
        printf("#   reason '%s'\n", err ? err : "(null)");
        return 0;
    }

    return 1;
}


static void
test_known(void)
{
    ok(decodes_to("==QfxojIhJye", "{\"a\":1}"),
       "{\"a\":1}: btoa 'eyJhIjoxfQ==' reversed");
    ok(decodes_to("=0XO6IybsxWZoJye", "{\"hello\":9}"),
       "one '=' of padding");
    ok(decodes_to("9JiYiojIhJye", "{\"a\":\"b\"}"), "no padding");
    ok(decodes_to("", ""), "empty: nothing");
    /* btoa('{"n":"\u00e9"}') */
    ok(decodes_to("9JS6iojIuJye", "{\"n\":\"\xc3\xa9\"}"),
       "a Latin-1 byte (U+00E9) comes back as UTF-8");
    ok(decodes_to("==w/", "\xc3\xbf"), "U+00FF, the last byte btoa takes");
}


static void
test_malformed(void)
{
    ok(refused("abc", "multiple of 4"), "3 characters: refused");
    ok(refused("==QfxojIhJy", "multiple of 4"), "one short: refused");
    ok(refused("==Qf*ojIhJye", "outside Base64"), "'*': refused");
    ok(refused("==Qf ojIhJye", "outside Base64"), "a space: refused");
    ok(refused("==Qf\nojIhJye", "outside Base64"), "a newline: refused");
    ok(refused("{\"a\":1}x", "outside Base64"),
       "plain JSON (se=1 but not encoded): refused");
    ok(refused("eyJhIjoxfQ==", "before the end"),
       "Base64 not reversed: padding first, refused");
    ok(refused("QfxojI==hJye", "before the end"),
       "padding in the middle: refused");
    ok(refused("====", "before the end"), "only padding: refused");
    ok(refused("Q=Qf", "before the end"),
       "\"=\" before the last digit of the last group: refused");
    ok(refused("=Q=f", "before the end"), "'x=x=': refused");
}


static void
test_random(void)
{
    int            i, bad;
    char          *enc, *out, *want;
    size_t         len, n, dn, wn, j;
    const char    *err;
    unsigned char  in[700];

    enc = malloc(1024);
    out = malloc(statsig_client_decoded_max(1024));
    want = malloc(1400);
    bad = 0;

    for (i = 0; i < 2000; i++) {
        len = rnd_below(sizeof(in));

        for (j = 0; j < len; j++) {
            /* mostly ASCII, as JSON is; any byte btoa takes */
            in[j] = (unsigned char) (rnd_below(4) ? 0x20 + rnd_below(95)
                                                  : rnd_below(256));
        }

        n = encode(in, len, enc);
        wn = utf8(in, len, want);
        err = NULL;

        if (statsig_client_decode(enc, n, out, &dn, &err) != 0
            || dn != wn || memcmp(out, want, wn) != 0
            || dn > statsig_client_decoded_max(n))
        {
            if (bad++ < 3) {
                printf("#   input %d (%zu bytes): %s\n", i, len,
                       err ? err : "differs");
            }
        }
    }

    ok(bad == 0, "2000 random byte strings: encoded as the SDK does, "
       "decoded back (UTF-8), within statsig_client_decoded_max");

    free(enc);
    free(out);
    free(want);
}


static void *
sys_alloc(void *data, size_t size)
{
    (void) data;
    return malloc(size);
}


/* the user as JSON, as the event writer writes values */
static int
user_is(const char *user_json, const char *sid_json, int rc_want,
    const char *want)
{
    int               rc;
    statsig_buf_t     b;
    statsig_alloc_t   a = { sys_alloc, NULL };
    statsig_value_t   user, sid, out;
    char              err[128], arr[64];

    /* the stable ID in an array: jansson reads containers only */
    snprintf(arr, sizeof(arr), "[%s]", sid_json);

    if (statsig_value_from_json(&a, user_json, strlen(user_json), &user,
                                err, sizeof(err)) != 0
        || statsig_value_from_json(&a, arr, strlen(arr), &sid,
                                   err, sizeof(err)) != 0)
    {
        printf("#   bad test JSON: %s\n", err);
        return 0;
    }

    rc = statsig_user_with_stable_id(&a, &user, &sid.items[0], &out);

    memset(&b, 0, sizeof(b));
    statsig_exposure_value(&b, &out);
    statsig_buf_addc(&b, '\0');

    if (rc != rc_want || b.failed || strcmp(b.data, want) != 0) {
        printf("#   rc %d, got %s\n", rc, b.data ? b.data : "(none)");
        return 0;
    }

    free(b.data);

    return 1;
}


static void
test_stable_id(void)
{
    ok(user_is("{\"userID\":\"u\"}", "\"s1\"", 1,
               "{\"userID\":\"u\",\"customIDs\":{\"stableID\":\"s1\"}}"),
       "no customIDs: added, last");
    ok(user_is("{\"customIDs\":{\"companyID\":\"c\"},\"userID\":\"u\"}",
               "\"s1\"", 1,
               "{\"customIDs\":{\"companyID\":\"c\",\"stableID\":\"s1\"},"
               "\"userID\":\"u\"}"),
       "customIDs without stableID: added, in place");
    ok(user_is("{\"customIDs\":{\"stableID\":null}}", "\"s1\"", 1,
               "{\"customIDs\":{\"stableID\":\"s1\"}}"),
       "stableID null: the client's");
    ok(user_is("{\"customIDs\":null,\"email\":\"e\"}", "\"s1\"", 1,
               "{\"customIDs\":{\"stableID\":\"s1\"},\"email\":\"e\"}"),
       "customIDs null: an object with it");
    ok(user_is("{\"customIDs\":{\"stableID\":\"mine\"}}", "\"s1\"", 0,
               "{\"customIDs\":{\"stableID\":\"mine\"}}"),
       "the user's own stableID is kept");
    ok(user_is("{\"customIDs\":{\"stableID\":\"\"}}", "\"s1\"", 0,
               "{\"customIDs\":{\"stableID\":\"\"}}"),
       "an empty stableID is the user's (not nullish)");
    ok(user_is("{\"customIDs\":\"x\"}", "\"s1\"", 0,
               "{\"customIDs\":\"x\"}"),
       "customIDs a string: left as it is");
    ok(user_is("{\"userID\":\"u\"}", "7", 0, "{\"userID\":\"u\"}"),
       "a stable ID that is not a string: nothing");
    ok(user_is("[1]", "\"s1\"", 0, "[1]"), "not an object: nothing");
}


int
main(void)
{
    test_known();
    test_malformed();
    test_random();
    test_stable_id();

    return done_testing();
}
