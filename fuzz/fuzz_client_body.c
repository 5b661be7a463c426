/*
 * libFuzzer: a body the browser SDK posts with se=1, as statsig_api reads
 * it (src/core/client_encoding.c), and the user it carries given the
 * client's stable ID (statsig_user_with_stable_id, src/core/user.c).
 *
 * A refusal must say why; a decoded text must fit
 * statsig_client_decoded_max(), be UTF-8 with no code point above U+00FF
 * (the SDK's btoa() takes no other), and come back the same when encoded
 * again as the SDK does and decoded.  The decoded text, and the raw input
 * too, is then read as the API reads a body; its "user" with its
 * "statsigMetadata"."stableID" must be a user the writer writes as JSON
 * that parses, holding that stable ID when the helper said it put it
 * there.
 *
 *   build/fuzz/fuzz_client_body fuzz/corpus/fuzz_client_body
 */

#include "buf.h"
#include "client_encoding.h"
#include "exposure.h"
#include "fuzz_common.h"
#include "fuzz_json.h"
#include "user.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  fz_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


/* the UTF-8 of code points up to U+00FF back to bytes; -1: another */
static long
fz_latin1(const char *in, size_t len, unsigned char *out)
{
    size_t               i, n;
    const unsigned char  *s = (const unsigned char *) in;

    for (i = 0, n = 0; i < len; i++) {
        if (s[i] < 0x80) {
            out[n++] = s[i];

        } else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < len
                   && (s[i + 1] & 0xc0) == 0x80)
        {
            out[n++] = (unsigned char) (((s[i] & 0x03) << 6)
                                        | (s[i + 1] & 0x3f));
            i++;

        } else {
            return -1;
        }
    }

    return (long) n;
}


/* btoa(), reversed */
static size_t
fz_encode(const unsigned char *in, size_t len, char *out)
{
    char      c;
    size_t    i, n;
    uint32_t  v;

    for (i = 0, n = 0; i < len; i += 3) {
        v = (uint32_t) in[i] << 16;
        v |= (i + 1 < len) ? (uint32_t) in[i + 1] << 8 : 0;
        v |= (i + 2 < len) ? in[i + 2] : 0;

        out[n++] = fz_b64[(v >> 18) & 63];
        out[n++] = fz_b64[(v >> 12) & 63];
        out[n++] = (i + 1 < len) ? fz_b64[(v >> 6) & 63] : '=';
        out[n++] = (i + 2 < len) ? fz_b64[v & 63] : '=';
    }

    for (i = 0; i < n / 2; i++) {
        c = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = c;
    }

    return n;
}


static void
fz_body(const char *text, size_t len)
{
    int                     rc;
    char                    err[256];
    size_t                  mark;
    statsig_buf_t           b;
    statsig_value_t         body, out;
    const statsig_value_t  *user, *sid, *ids, *got;

    mark = fz_nchunks;

    if (statsig_value_from_json(&fz_allocator, text, len, &body, err,
                                sizeof(err))
        != 0)
    {
        fz_release(mark);
        return;
    }

    user = statsig_value_get(&body, "user", 4);
    sid = statsig_value_get(statsig_value_get(&body, "statsigMetadata", 15),
                            "stableID", 8);

    if (user == NULL || sid == NULL) {
        fz_release(mark);
        return;
    }

    rc = statsig_user_with_stable_id(&fz_allocator, user, sid, &out);

    if (rc < 0) {
        fz_release(mark);
        return;
    }

    if (rc == 1) {
        ids = statsig_value_get(&out, "customIDs", 9);
        got = statsig_value_get(ids, "stableID", 8);

        if (out.type != STATSIG_V_OBJECT || sid->type != STATSIG_V_STRING
            || got == NULL || got->type != STATSIG_V_STRING
            || got->len != sid->len || memcmp(got->str, sid->str, sid->len))
        {
            fprintf(stderr, "fuzz: the stable ID is not in the user\n");
            abort();
        }

    } else if (memcmp(&out, user, sizeof(out)) != 0) {
        fprintf(stderr, "fuzz: nothing done, yet the user changed\n");
        abort();
    }

    memset(&b, 0, sizeof(b));
    statsig_exposure_value(&b, &out);
    fz_parses(&b, "the user with the stable ID");
    free(b.data);

    fz_release(mark);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long            n;
    char           *out, *again, *back;
    size_t          len, len2, elen;
    const char     *err;
    unsigned char  *bytes;

    out = malloc(statsig_client_decoded_max(size) + 1);
    err = NULL;

    if (statsig_client_decode((const char *) data, size, out, &len, &err)
        != 0)
    {
        if (err == NULL || *err == '\0') {
            fprintf(stderr, "fuzz: a refusal without a reason\n");
            abort();
        }

        free(out);
        fz_body((const char *) data, size);

        return 0;
    }

    if (len > statsig_client_decoded_max(size)) {
        fprintf(stderr, "fuzz: %zu bytes decoded past the bound\n", len);
        abort();
    }

    bytes = malloc(len + 1);
    n = fz_latin1(out, len, bytes);

    if (n < 0) {
        fprintf(stderr, "fuzz: not the UTF-8 of Latin-1 text\n");
        abort();
    }

    /* as the SDK would send the decoded text: the same text again */
    again = malloc(((size_t) n + 2) / 3 * 4 + 1);
    elen = fz_encode(bytes, (size_t) n, again);
    back = malloc(statsig_client_decoded_max(elen) + 1);

    if (statsig_client_decode(again, elen, back, &len2, &err) != 0
        || len2 != len || memcmp(back, out, len) != 0)
    {
        fprintf(stderr, "fuzz: encoded again, it decodes differently\n");
        abort();
    }

    fz_body(out, len);
    fz_body((const char *) data, size);

    free(bytes);
    free(again);
    free(back);
    free(out);

    return 0;
}
