/*
 * Unit tests: the relay surfaces, a vendor's own body checked and
 * normalised at the edge (statsig_relay_customerio, statsig_relay_
 * gainsight_px in src/core/sink_format.c).
 *
 * Every rule at its boundary, each refusal with its reason's text; every
 * OK output parsed with jansson, read field by field and in its key
 * order, then given back as the body, which must give the same bytes.
 * malloc and realloc are wrapped (t/unit/fail_alloc.h): each allocation
 * of each function fails once and must give NOMEM, the buffers as they
 * were, and the same output after.
 */

#define _GNU_SOURCE

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fail_alloc.h"
#include "hash.h"
#include "sink_format.h"
#include "sink_test.h"
#include "tap.h"


#define NOW_MS   1700000000999LL
#define PK       "AP-TEST-2"

static const char  *pk = PK;     /* the product key (NULL: none) */


/* ---- helpers ---- */

/* the reason of every refusal: short, one line of printable ASCII */
static int  reasons_good = 1;

static void
check_reason(int rc)
{
    size_t  i, n;

    if (rc != STATSIG_SINK_INVALID) {
        return;
    }

    n = strlen(err);
    if (n == 0 || n > STATSIG_SINK_RELAY_REASON_MAX) {
        printf("# reason of %zu bytes: %s\n", n, err);
        reasons_good = 0;
    }

    for (i = 0; i < n; i++) {
        if ((unsigned char) err[i] < 0x20 || (unsigned char) err[i] > 0x7E) {
            /* an attributes key may be UTF-8: those tests say so */
            if ((unsigned char) err[i] < 0x80) {
                printf("# a control character in: %s\n", err);
                reasons_good = 0;
            }
        }
    }
}


/* Customer.io: identifier NULL is anonymous */
static int
cio_n(const char *id, size_t id_len, const char *body, size_t len,
    int64_t now)
{
    int  rc;

    reset_out();
    err[0] = '\0';
    rc = statsig_relay_customerio(&F, id, id_len, body, len, now, &P, &B,
                                  err, sizeof(err));
    check_reason(rc);

    return rc;
}


static int
cio(const char *id, const char *body)
{
    return cio_n(id, id ? strlen(id) : 0, body, strlen(body), NOW_MS);
}


static int
gpx_n(const char *body, size_t len, int64_t now)
{
    int  rc;

    reset_out();
    err[0] = '\0';
    rc = statsig_relay_gainsight_px(&F, body, len, pk, pk ? strlen(pk) : 0,
                                    now, &B, err, sizeof(err));
    check_reason(rc);

    return rc;
}


static int
gpx(const char *body)
{
    return gpx_n(body, strlen(body), NOW_MS);
}


static long long
jint(json_t *j, const char *key)
{
    json_t  *v;

    v = json_object_get(j, key);

    return json_is_integer(v) ? (long long) json_integer_value(v) : -12345;
}


/* the object's keys in order, comma-separated */
static const char *
keys(json_t *j)
{
    static char   s[512];
    const char   *k;
    json_t       *v;
    size_t        n;

    s[0] = '\0';
    n = 0;

    json_object_foreach(j, k, v) {
        (void) v;
        n += snprintf(s + n, sizeof(s) - n, "%s%s", n ? "," : "", k);
        if (n >= sizeof(s)) {
            break;
        }
    }

    return s;
}


/*
 * The last OK output given back as the body (same identifier, another
 * now): the same bytes.  The path too, for Customer.io.
 */
static int
again_cio(const char *id, size_t id_len)
{
    statsig_buf_t  p, b;
    int            rc, same;

    statsig_buf_init(&p);
    statsig_buf_init(&b);
    statsig_buf_add(&p, P.data, P.len);
    statsig_buf_add(&b, B.data, B.len);

    rc = cio_n(id, id_len, b.data, b.len, NOW_MS + 86400000);
    same = rc == STATSIG_SINK_OK && P.len == p.len && B.len == b.len
           && memcmp(P.data, p.data, p.len) == 0
           && memcmp(B.data, b.data, b.len) == 0;

    if (!same) {
        printf("# first  %.*s\n# again  %.*s (rc %d, %s)\n", (int) b.len,
               b.data, (int) B.len, B.data ? B.data : "", rc, err);
    }

    statsig_buf_free(&p);
    statsig_buf_free(&b);

    return same;
}


static int
again_gpx(void)
{
    statsig_buf_t  b;
    int            rc, same;

    statsig_buf_init(&b);
    statsig_buf_add(&b, B.data, B.len);

    rc = gpx_n(b.data, b.len, NOW_MS + 86400000);
    same = rc == STATSIG_SINK_OK && B.len == b.len
           && memcmp(B.data, b.data, b.len) == 0;

    if (!same) {
        printf("# first  %.*s\n# again  %.*s (rc %d, %s)\n", (int) b.len,
               b.data, (int) B.len, B.data ? B.data : "", rc, err);
    }

    statsig_buf_free(&b);

    return same;
}


/* a refusal: INVALID with this reason */
#define REFUSED(rc, reason, ...)                                             \
    do {                                                                     \
        int  rc_ = (rc);                                                     \
        is_int(rc_, STATSIG_SINK_INVALID, __VA_ARGS__);                      \
        is_str(err, reason, "  reason: %s", reason);                         \
    } while (0)


/* ---- Customer.io ---- */

static void
test_cio_shapes(void)
{
    json_t  *j;

    is_int(cio("u1", "{\"name\":\"signup\",\"data\":{\"plan\":\"gold\","
                     "\"n\":2},\"timestamp\":1730000000,\"type\":\"event\","
                     "\"id\":\"01JB60J53V000G40R40M30E209\"}"),
           STATSIG_SINK_OK, "cio identified: OK");
    is_str(cstr(&P), "/customers/u1/events", "  path");
    is_str(cstr(&B), "{\"name\":\"signup\",\"type\":\"event\",\"id\":"
           "\"01JB60J53V000G40R40M30E209\",\"timestamp\":1730000000,"
           "\"data\":{\"plan\":\"gold\",\"n\":2}}", "  the body's bytes");
    j = body_json();
    is_str(keys(j), "name,type,id,timestamp,data", "  key order");
    is_str(jstr(j, "name"), "signup", "  name");
    is_str(jstr(j, "type"), "event", "  type");
    is_str(jstr(j, "id"), "01JB60J53V000G40R40M30E209", "  id as given");
    is_int(jint(j, "timestamp"), 1730000000, "  timestamp as given");
    ok(jeq(json_object_get(j, "data"), "{\"plan\":\"gold\",\"n\":2}"),
       "  data");
    json_decref(j);
    is_int(F.kind, STATSIG_SINK_KIND_CUSTOM, "  f->kind custom");
    is_int(F.route, STATSIG_SINK_ROUTE_IDENTIFIED, "  f->route identified");
    is_int(F.time_ms, 1730000000000LL, "  f->time_ms the timestamp in ms");
    is_str(F.id, "", "  f->id empty: the body had one");
    is_int(F.dropped, 0, "  nothing dropped");
    ok(again_cio("u1", 2), "  given back: the same bytes");

    is_int(cio(NULL, "{\"anonymous_id\":\"anon-1\",\"data\":{},"
                     "\"name\":\"view\",\"type\":\"page\"}"),
           STATSIG_SINK_OK, "cio anonymous: OK");
    is_str(cstr(&P), "/events", "  path /events");
    j = body_json();
    is_str(keys(j), "name,anonymous_id,type,id,timestamp,data",
           "  key order");
    is_str(jstr(j, "anonymous_id"), "anon-1", "  anonymous_id");
    is_str(jstr(j, "type"), "page", "  type page");
    ok(jeq(json_object_get(j, "data"), "{}"), "  data {}");
    is_str(jstr(j, "id"), F.id, "  id generated, f->id");
    is_int(jint(j, "timestamp"), NOW_MS / 1000, "  timestamp from now");
    json_decref(j);
    is_int(F.route, STATSIG_SINK_ROUTE_ANONYMOUS, "  f->route anonymous");
    is_int(F.time_ms, NOW_MS / 1000 * 1000, "  f->time_ms");
    ok(again_cio(NULL, 0), "  given back: the same bytes");

    /* the least: name alone */
    is_int(cio(NULL, "{\"name\":\"x\"}"), STATSIG_SINK_OK,
           "cio anonymous, name alone: OK");
    j = body_json();
    is_str(keys(j), "name,id,timestamp", "  only name, id, timestamp");
    json_decref(j);

    /* unknown members dropped; an anonymous_id is not the identified's */
    is_int(cio("u1", "{\"name\":\"x\",\"anonymous_id\":\"a\",\"userId\":"
                     "\"u2\",\"attributes\":{\"a\":1},\"extra\":[1,2]}"),
           STATSIG_SINK_OK, "cio identified, unknown members: OK");
    j = body_json();
    is_str(keys(j), "name,id,timestamp", "  left out");
    json_decref(j);
    is_int(F.dropped, 4, "  f->dropped 4");

    is_int(cio(NULL, "{\"name\":\"x\",\"foo\":1,\"anonymous_id\":\"a\"}"),
           STATSIG_SINK_OK, "cio anonymous, one unknown");
    j = body_json();
    is_str(keys(j), "name,anonymous_id,id,timestamp", "  foo left out");
    json_decref(j);
    is_int(F.dropped, 1, "  f->dropped 1");

    /* null is absent */
    is_int(cio(NULL, "{\"name\":\"x\",\"data\":null,\"type\":null,\"id\":"
                     "null,\"timestamp\":null,\"anonymous_id\":null}"),
           STATSIG_SINK_OK, "cio: every optional member null: OK");
    j = body_json();
    is_str(keys(j), "name,id,timestamp", "  read as absent");
    is_int(jint(j, "timestamp"), NOW_MS / 1000, "  timestamp from now");
    is_int(strlen(jstr(j, "id")), 26, "  an id generated");
    json_decref(j);
    ok(again_cio(NULL, 0), "  given back: the same bytes");

    /* escapes, a repeated key, numbers as JavaScript writes them */
    is_int(cio("u1", "{\"name\":\"a\\u0000\\\"b\\u00e9\\ud83d\\ude00\","
                     "\"data\":{\"k\":1,\"k\":2,\"f\":1.50,\"e\":1E3,"
                     "\"big\":12345678901234567890,\"s\":\"\\u001f\\/\","
                     "\"t\":true,\"z\":null,\"a\":[1,{\"b\":[]}]}}"),
           STATSIG_SINK_OK, "cio: escapes, a repeated key, numbers");
    ok(strstr(cstr(&B), "\"name\":\"a\\u0000\\\"b\xc3\xa9\xf0\x9f\x98\x80\"")
       != NULL, "  name as JSON.stringify writes it");
    ok(strstr(cstr(&B), "\"data\":{\"k\":2,\"f\":1.5,\"e\":1000,"
                        "\"big\":12345678901234567000,\"s\":\"\\u001f/\","
                        "\"t\":true,\"z\":null,\"a\":[1,{\"b\":[]}]}")
       != NULL, "  data normalised");
    ok(again_cio("u1", 2), "  given back: the same bytes");
}


static void
test_cio_identifier(void)
{
    statsig_buf_t  id;
    static const struct {
        const char  *id;
        const char  *path;
    } enc[] = {
        { "u1", "/customers/u1/events" },
        { "a/b", "/customers/a%2Fb/events" },
        { "50%", "/customers/50%25/events" },
        { "a b", "/customers/a%20b/events" },
        { "mail+x@example.com", "/customers/mail%2Bx%40example.com/events" },
        { "\xc3\xa9t\xc3\xa9", "/customers/%C3%A9t%C3%A9/events" },
        { "\xf0\x9f\x98\x80", "/customers/%F0%9F%98%80/events" },
        { "-._~AZaz09", "/customers/-._~AZaz09/events" },
        { "...", "/customers/.../events" },
        { "?#[]", "/customers/%3F%23%5B%5D/events" },
    };
    size_t  i;

    for (i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
        is_int(cio(enc[i].id, "{\"name\":\"n\"}"), STATSIG_SINK_OK,
               "cio identifier %zu: OK", i);
        is_str(cstr(&P), enc[i].path, "  path %s", enc[i].path);
    }

    is_int(cio_n("a\0b", 3, "{\"name\":\"n\"}", 12, NOW_MS),
           STATSIG_SINK_OK, "cio identifier with a NUL byte");
    is_str(cstr(&P), "/customers/a%00b/events", "  %%00");

    REFUSED(cio_n("", 0, "{\"name\":\"n\"}", 12, NOW_MS),
            "the identifier is empty", "cio identifier empty: INVALID");
    REFUSED(cio(".", "{\"name\":\"n\"}"),
            "the identifier cannot be \".\" or \"..\"", "cio identifier .");
    REFUSED(cio("..", "{\"name\":\"n\"}"),
            "the identifier cannot be \".\" or \"..\"", "cio identifier ..");

    statsig_buf_init(&id);
    rep(&id, "x", 150);
    is_int(cio(cstr(&id), "{\"name\":\"n\"}"), STATSIG_SINK_OK,
           "cio identifier of 150 bytes: OK");
    statsig_buf_addc(&id, 'x');
    REFUSED(cio(cstr(&id), "{\"name\":\"n\"}"),
            "the identifier is longer than 150 bytes",
            "cio identifier of 151 bytes: INVALID");
    id.len = 0;
    rep(&id, "\xc3\xa9", 75);
    is_int(cio(cstr(&id), "{\"name\":\"n\"}"), STATSIG_SINK_OK,
           "cio identifier of 75 e-acute (150 bytes): OK");
    ok(P.len == 11 + 450 + 7, "  %%XX each byte");
    statsig_buf_addc(&id, 'x');
    REFUSED(cio(cstr(&id), "{\"name\":\"n\"}"),
            "the identifier is longer than 150 bytes",
            "cio identifier of 151 bytes, UTF-8: INVALID");
    statsig_buf_free(&id);

    /* the identifier is checked before the body */
    REFUSED(cio("..", "nope"), "the identifier cannot be \".\" or \"..\"",
            "cio: the identifier first, then the body");
}


static void
test_cio_body(void)
{
    REFUSED(cio("u1", "nope"), "the body is not JSON (line 1, column 1)",
            "cio body not JSON");
    REFUSED(cio("u1", "{\"name\":\"x\",}"),
            "the body is not JSON (line 1, column 13)",
            "cio body with a trailing comma");
    REFUSED(cio("u1", ""), "the body is not JSON (line 1, column 0)",
            "cio empty body");
    REFUSED(cio("u1", "{\"name\":\"\xff\"}"),
            "the body is not JSON (line 1, column 10)",
            "cio body not UTF-8");
    REFUSED(cio("u1", "{\"name\":\"\\ud800\"}"),
            "the body is not JSON (line 1, column 16)",
            "cio body with a lone surrogate: no input quoted");
    REFUSED(cio("u1", "[{\"name\":\"x\"}]"), "the body must be a JSON object",
            "cio body an array");
    REFUSED(cio(NULL, "[]"), "the body must be a JSON object",
            "cio anonymous body an array");
}


static void
test_cio_name(void)
{
    statsig_buf_t  b;
    json_t        *j;

    REFUSED(cio("u1", "{}"), "\"name\" is required", "cio no name");
    REFUSED(cio(NULL, "{\"data\":{}}"), "\"name\" is required",
            "cio anonymous, no name");
    REFUSED(cio("u1", "{\"name\":null}"), "\"name\" is required",
            "cio name null");
    REFUSED(cio("u1", "{\"name\":5}"), "\"name\" must be a string",
            "cio name a number");
    REFUSED(cio("u1", "{\"name\":[\"x\"]}"), "\"name\" must be a string",
            "cio name an array");
    REFUSED(cio("u1", "{\"name\":\"\"}"), "\"name\" must not be empty",
            "cio name empty");
    REFUSED(cio("u1", "{\"name\":\" \\t\\n \"}"), "\"name\" must not be empty",
            "cio name only spaces");

    statsig_buf_init(&b);

    statsig_buf_adds(&b, "{\"name\":\"");
    rep(&b, "n", 100);
    statsig_buf_adds(&b, "\"}");
    is_int(cio("u1", cstr(&b)), STATSIG_SINK_OK, "cio name of 100 bytes: OK");
    j = body_json();
    is_int(json_string_length(json_object_get(j, "name")), 100,
           "  kept whole");
    json_decref(j);

    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"");
    rep(&b, "n", 101);
    statsig_buf_adds(&b, "\"}");
    REFUSED(cio("u1", cstr(&b)), "\"name\" is longer than 100 bytes",
            "cio name of 101 bytes: INVALID, not cut");

    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"  \\t");
    rep(&b, "n", 100);
    statsig_buf_adds(&b, " \\r\\n\"}");
    is_int(cio("u1", cstr(&b)), STATSIG_SINK_OK,
           "cio name of 100 bytes in spaces: OK (trimmed first)");
    j = body_json();
    is_int(json_string_length(json_object_get(j, "name")), 100,
           "  trimmed to 100 bytes");
    json_decref(j);
    ok(again_cio("u1", 2), "  given back: the same bytes");

    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\" ");
    rep(&b, "\xc3\xa9", 50);
    statsig_buf_adds(&b, " \"}");
    is_int(cio("u1", cstr(&b)), STATSIG_SINK_OK,
           "cio name of 50 e-acute (100 bytes): OK");

    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"");
    rep(&b, "\xc3\xa9", 50);
    statsig_buf_adds(&b, "x\"}");
    REFUSED(cio("u1", cstr(&b)), "\"name\" is longer than 100 bytes",
            "cio name of 101 bytes, UTF-8: INVALID");

    /* inner spaces stay */
    is_int(cio("u1", "{\"name\":\"  a  b  \"}"), STATSIG_SINK_OK,
           "cio name with inner spaces");
    j = body_json();
    is_str(jstr(j, "name"), "a  b", "  trimmed at the ends only");
    json_decref(j);

    statsig_buf_free(&b);
}


static void
test_cio_type(void)
{
    static const char  *types[] = { "event", "page", "screen" };
    json_t             *j;
    size_t              i;

    for (i = 0; i < 3; i++) {
        is_int(cio("u1", fmt("{\"name\":\"x\",\"type\":\"%s\"}", types[i])),
               STATSIG_SINK_OK, "cio type %s: OK", types[i]);
        j = body_json();
        is_str(jstr(j, "type"), types[i], "  kept");
        json_decref(j);
    }

    REFUSED(cio("u1", "{\"name\":\"x\",\"type\":\"Event\"}"),
            "\"type\" must be \"event\", \"page\" or \"screen\"",
            "cio type Event: INVALID");
    REFUSED(cio(NULL, "{\"name\":\"x\",\"type\":\"identify\"}"),
            "\"type\" must be \"event\", \"page\" or \"screen\"",
            "cio type identify: INVALID");
    REFUSED(cio("u1", "{\"name\":\"x\",\"type\":\"\"}"),
            "\"type\" must be \"event\", \"page\" or \"screen\"",
            "cio type empty: INVALID");
    REFUSED(cio("u1", "{\"name\":\"x\",\"type\":1}"),
            "\"type\" must be a string", "cio type 1: INVALID");
}


static void
test_cio_timestamp(void)
{
    static const struct {
        const char  *ts;
        long long    want;
    } good[] = {
        { "0", 0 },
        { "1730000000", 1730000000 },
        { "1.0", 1 },
        { "1e3", 1000 },
        { "-0", 0 },
        { "9007199254740991", 9007199254740991LL },
    };
    static const char  *bad[] = {
        "1.5", "-1", "-0.5", "\"1730000000\"", "true", "{}", "[1]",
        "9007199254740992", "1e300", "0.000001",
    };
    static const char  reason[] = "\"timestamp\" must be an integer from 0 "
                                  "to 9007199254740991 (seconds)";
    json_t  *j;
    size_t   i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        is_int(cio("u1", fmt("{\"name\":\"x\",\"timestamp\":%s}", good[i].ts)),
               STATSIG_SINK_OK, "cio timestamp %s: OK", good[i].ts);
        j = body_json();
        is_int(jint(j, "timestamp"), good[i].want, "  written %lld",
               good[i].want);
        json_decref(j);
        is_int(F.time_ms, good[i].want * 1000, "  f->time_ms");
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        REFUSED(cio(NULL, fmt("{\"name\":\"x\",\"timestamp\":%s}", bad[i])),
                reason, "cio timestamp %s: INVALID", bad[i]);
    }

    /* absent: now, floored to the second; now out of range clamped */
    is_int(cio_n(NULL, 0, "{\"name\":\"x\"}", 12, 1999), STATSIG_SINK_OK,
           "cio now 1999 ms");
    j = body_json();
    is_int(jint(j, "timestamp"), 1, "  timestamp 1");
    json_decref(j);
    is_int(cio_n(NULL, 0, "{\"name\":\"x\"}", 12, -5), STATSIG_SINK_OK,
           "cio now negative");
    j = body_json();
    is_int(jint(j, "timestamp"), 0, "  timestamp 0");
    json_decref(j);
    is_int(cio_n(NULL, 0, "{\"name\":\"x\"}", 12, INT64_MAX), STATSIG_SINK_OK,
           "cio now INT64_MAX");
    j = body_json();
    is_int(jint(j, "timestamp"), STATSIG_SINK_RELAY_INT_MAX / 1000,
           "  timestamp (2^53 - 1) / 1000");
    json_decref(j);
    ok(again_cio(NULL, 0), "  given back: the same bytes");
}


static void
test_cio_id(void)
{
    statsig_buf_t  b;
    unsigned char  in[65], d[32];
    char           want[27], first[27];
    const char    *body = "{\"name\":\"buy\",\"data\":{\"sku\":\"A1\"}}";
    json_t        *j;

    want[26] = first[26] = '\0';

    /* the construction the header gives */
    memset(in, 0, sizeof(in));
    in[0] = 1;
    statsig_sha256(body, strlen(body), in + 1);
    statsig_sha256("u1", 2, in + 33);
    statsig_sha256(in, sizeof(in), d);
    statsig_ulid(NOW_MS, d, want);

    is_int(cio("u1", body), STATSIG_SINK_OK, "cio id absent: OK");
    j = body_json();
    is_str(jstr(j, "id"), want, "  the ULID of now and SHA-256(1, body, id)");
    json_decref(j);
    is_str(F.id, want, "  f->id");
    memcpy(first, F.id, 27);

    is_int(cio("u1", body), STATSIG_SINK_OK, "cio the same again");
    is_str(F.id, first, "  the same id (a retry is deduped)");

    cio("u2", body);
    ok(strcmp(F.id, first) != 0 && memcmp(F.id, first, 10) == 0,
       "  another identifier: another id, the same time");

    cio_n("u1", 2, body, strlen(body), NOW_MS + 1);
    ok(memcmp(F.id, first, 10) != 0, "  another now: another time part");

    cio("u1", "{\"name\":\"buy\",\"data\":{\"sku\":\"A2\"}}");
    ok(strcmp(F.id, first) != 0, "  another body: another id");

    cio("u1", "{\"name\":\"buy\", \"data\":{\"sku\":\"A1\"}}");
    ok(strcmp(F.id, first) != 0, "  the body's bytes, not its meaning");

    memset(in, 0, sizeof(in));
    statsig_sha256(body, strlen(body), in + 1);
    statsig_sha256(in, sizeof(in), d);
    statsig_ulid(NOW_MS, d, want);
    cio(NULL, body);
    is_str(F.id, want, "  anonymous: SHA-256(0, body, zeros)");

    cio_n("ab", 2, "{\"name\":\"c\"}", 12, NOW_MS);
    memcpy(first, F.id, 27);
    cio_n("a", 1, "{\"name\":\"c\"}", 12, NOW_MS);
    ok(strcmp(F.id, first) != 0, "  identifier and body do not run into "
       "each other");

    is_int(cio("u1", "{\"name\":\"x\",\"id\":\"my-id\"}"), STATSIG_SINK_OK,
           "cio id given: OK");
    j = body_json();
    is_str(jstr(j, "id"), "my-id", "  kept");
    json_decref(j);
    is_str(F.id, "", "  f->id empty");

    statsig_buf_init(&b);
    statsig_buf_adds(&b, "{\"name\":\"x\",\"id\":\"");
    rep(&b, "i", 100);
    statsig_buf_adds(&b, "\"}");
    is_int(cio("u1", cstr(&b)), STATSIG_SINK_OK, "cio id of 100 bytes: OK");
    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"x\",\"id\":\"");
    rep(&b, "i", 101);
    statsig_buf_adds(&b, "\"}");
    REFUSED(cio("u1", cstr(&b)), "\"id\" is longer than 100 bytes",
            "cio id of 101 bytes: INVALID");
    statsig_buf_free(&b);

    REFUSED(cio("u1", "{\"name\":\"x\",\"id\":\"\"}"),
            "\"id\" must not be empty", "cio id empty: INVALID");
    REFUSED(cio("u1", "{\"name\":\"x\",\"id\":12}"),
            "\"id\" must be a string", "cio id a number: INVALID");
}


static void
test_cio_anonymous_id(void)
{
    statsig_buf_t  b;

    statsig_buf_init(&b);
    statsig_buf_adds(&b, "{\"name\":\"x\",\"anonymous_id\":\"");
    rep(&b, "a", 150);
    statsig_buf_adds(&b, "\"}");
    is_int(cio(NULL, cstr(&b)), STATSIG_SINK_OK,
           "cio anonymous_id of 150 bytes: OK");
    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"x\",\"anonymous_id\":\"");
    rep(&b, "a", 151);
    statsig_buf_adds(&b, "\"}");
    REFUSED(cio(NULL, cstr(&b)), "\"anonymous_id\" is longer than 150 bytes",
            "cio anonymous_id of 151 bytes: INVALID");
    is_int(cio("u1", cstr(&b)), STATSIG_SINK_OK,
           "  identified: not read, left out");
    statsig_buf_free(&b);

    REFUSED(cio(NULL, "{\"name\":\"x\",\"anonymous_id\":\"\"}"),
            "\"anonymous_id\" must not be empty",
            "cio anonymous_id empty: INVALID");
    REFUSED(cio(NULL, "{\"name\":\"x\",\"anonymous_id\":7}"),
            "\"anonymous_id\" must be a string",
            "cio anonymous_id a number: INVALID");
}


static void
test_cio_data(void)
{
    statsig_buf_t  b;
    json_t        *j;
    size_t         fill;

    REFUSED(cio("u1", "{\"name\":\"x\",\"data\":[]}"),
            "\"data\" must be an object", "cio data an array: INVALID");
    REFUSED(cio("u1", "{\"name\":\"x\",\"data\":\"s\"}"),
            "\"data\" must be an object", "cio data a string: INVALID");
    REFUSED(cio(NULL, "{\"name\":\"x\",\"data\":0}"),
            "\"data\" must be an object", "cio data 0: INVALID");

    /* {"k":"xxx..."}: 8 bytes around the x's */
    statsig_buf_init(&b);
    fill = STATSIG_SINK_CIO_DATA_MAX - 8;
    statsig_buf_adds(&b, "{\"name\":\"x\",\"data\":{\"k\":\"");
    rep(&b, "x", fill);
    statsig_buf_adds(&b, "\"}}");
    is_int(cio("u1", cstr(&b)), STATSIG_SINK_OK,
           "cio data of 100,000 bytes: OK");
    j = body_json();
    is_int(json_string_length(json_object_get(json_object_get(j, "data"),
                                              "k")), fill, "  kept whole");
    json_decref(j);

    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"x\",\"data\":{\"k\":\"");
    rep(&b, "x", fill + 1);
    statsig_buf_adds(&b, "\"}}");
    REFUSED(cio("u1", cstr(&b)), "\"data\" is longer than 100000 bytes",
            "cio data of 100,001 bytes: INVALID");

    /* as written: spaces in the body do not count, escapes do */
    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"x\",\"data\":  {  \"k\"  :  \"");
    rep(&b, "x", fill);
    statsig_buf_adds(&b, "\"  }  }");
    is_int(cio("u1", cstr(&b)), STATSIG_SINK_OK,
           "cio data of 100,000 bytes as written, more in the body: OK");

    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"x\",\"data\":{\"k\":\"\\n");
    rep(&b, "x", fill - 2);
    statsig_buf_adds(&b, "\"}}");
    is_int(cio("u1", cstr(&b)), STATSIG_SINK_OK,
           "cio data with an escape, 100,000 bytes written: OK");
    b.len = 0;
    statsig_buf_adds(&b, "{\"name\":\"x\",\"data\":{\"k\":\"\\u0001");
    rep(&b, "x", fill - 5);
    statsig_buf_adds(&b, "\"}}");
    REFUSED(cio("u1", cstr(&b)), "\"data\" is longer than 100000 bytes",
            "cio data \\u0001 and 99,987 bytes: 100,001 written: INVALID");
    statsig_buf_free(&b);

    /* campaign overrides left out */
    is_int(cio("u1", "{\"name\":\"x\",\"data\":{\"recipient\":\"a@b.c\","
                     "\"plan\":\"gold\",\"from_address\":\"f@b.c\","
                     "\"reply_to\":\"r@b.c\",\"Recipient\":1}}"),
           STATSIG_SINK_OK, "cio data with campaign overrides: OK");
    j = body_json();
    ok(jeq(json_object_get(j, "data"), "{\"plan\":\"gold\",\"Recipient\":1}"),
       "  recipient, from_address, reply_to left out");
    json_decref(j);
    is_int(F.dropped, 3, "  f->dropped 3");
    ok(again_cio("u1", 2), "  given back: the same bytes");

    is_int(cio("u1", "{\"name\":\"x\",\"data\":{\"reply_to\":\"r\"}}"),
           STATSIG_SINK_OK, "cio data of an override alone");
    j = body_json();
    ok(jeq(json_object_get(j, "data"), "{}"), "  data {}");
    json_decref(j);
}


static void
test_cio_order(void)
{
    /* the first refusal in the documented order is the one told */
    REFUSED(cio("u1", "{\"data\":1,\"timestamp\":-1,\"name\":1}"),
            "\"name\" must be a string", "cio: name before the rest");
    REFUSED(cio(NULL, "{\"data\":1,\"anonymous_id\":1,\"timestamp\":-1,"
                      "\"id\":1,\"type\":1,\"name\":\"x\"}"),
            "\"type\" must be a string", "cio: type next");
    REFUSED(cio(NULL, "{\"data\":1,\"anonymous_id\":1,\"timestamp\":-1,"
                      "\"id\":1,\"name\":\"x\"}"),
            "\"id\" must be a string", "cio: id next");
    REFUSED(cio(NULL, "{\"data\":1,\"anonymous_id\":1,\"timestamp\":-1,"
                      "\"name\":\"x\"}"),
            "\"timestamp\" must be an integer from 0 to 9007199254740991 "
            "(seconds)", "cio: timestamp next");
    REFUSED(cio(NULL, "{\"data\":1,\"anonymous_id\":1,\"name\":\"x\"}"),
            "\"anonymous_id\" must be a string", "cio: anonymous_id next");
}


/* ---- Gainsight PX ---- */

static void
test_gpx_shapes(void)
{
    json_t  *j;

    is_int(gpx("{\"eventName\":\"checkout\",\"identifyId\":\"u1\"}"),
           STATSIG_SINK_OK, "gpx least: OK");
    is_str(cstr(&B), "{\"eventName\":\"checkout\",\"identifyId\":\"u1\","
           "\"propertyKey\":\"AP-TEST-2\",\"userType\":\"USER\",\"date\":"
           "1700000000999}", "  defaults filled, the bytes");
    j = body_json();
    is_str(keys(j), "eventName,identifyId,propertyKey,userType,date",
           "  key order");
    is_str(jstr(j, "propertyKey"), PK, "  propertyKey the product key");
    is_str(jstr(j, "userType"), "USER", "  userType USER");
    is_int(jint(j, "date"), NOW_MS, "  date now_ms");
    json_decref(j);
    is_int(F.kind, STATSIG_SINK_KIND_CUSTOM, "  f->kind custom");
    is_int(F.route, STATSIG_SINK_ROUTE_IDENTIFIED, "  f->route identified");
    is_int(F.time_ms, NOW_MS, "  f->time_ms");
    is_str(F.id, "", "  f->id empty");
    ok(again_gpx(), "  given back: the same bytes");

    is_int(gpx("{\"globalContext\":{\"app\":{\"v\":[1,2]}},\"attributes\":"
               "{\"value\":29.99,\"sku\":\"A1\",\"gift\":false,\"n\":1E2},"
               "\"eventType\":\"t\",\"eventId\":\"e\",\"remoteHost\":"
               "\"10.0.0.1\",\"referrer\":\"r\",\"url\":\"https://x/\","
               "\"sessionId\":\"s\",\"accountId\":\"acme\",\"date\":"
               "1730000000123,\"userType\":\"LEAD\",\"propertyKey\":"
               "\"AP-OTHER-1\",\"identifyId\":\"u1\",\"eventName\":\"buy\","
               "\"foo\":1,\"user\":{}}"),
           STATSIG_SINK_OK, "gpx every member: OK");
    j = body_json();
    is_str(keys(j), "eventName,identifyId,propertyKey,userType,date,"
           "accountId,sessionId,url,referrer,remoteHost,eventId,eventType,"
           "attributes,globalContext", "  key order");
    is_str(jstr(j, "eventName"), "buy", "  eventName");
    is_str(jstr(j, "identifyId"), "u1", "  identifyId");
    is_str(jstr(j, "propertyKey"), "AP-OTHER-1", "  propertyKey as given");
    is_str(jstr(j, "userType"), "LEAD", "  userType as given");
    is_int(jint(j, "date"), 1730000000123LL, "  date as given");
    is_str(jstr(j, "accountId"), "acme", "  accountId");
    is_str(jstr(j, "sessionId"), "s", "  sessionId");
    is_str(jstr(j, "url"), "https://x/", "  url");
    is_str(jstr(j, "referrer"), "r", "  referrer");
    is_str(jstr(j, "remoteHost"), "10.0.0.1", "  remoteHost");
    is_str(jstr(j, "eventId"), "e", "  eventId");
    is_str(jstr(j, "eventType"), "t", "  eventType");
    ok(jeq(json_object_get(j, "attributes"), "{\"value\":29.99,\"sku\":"
           "\"A1\",\"gift\":false,\"n\":100}"), "  attributes");
    ok(jeq(json_object_get(j, "globalContext"), "{\"app\":{\"v\":[1,2]}}"),
       "  globalContext as it is");
    json_decref(j);
    is_int(F.dropped, 2, "  foo and user left out");
    is_int(F.time_ms, 1730000000123LL, "  f->time_ms the date");
    ok(again_gpx(), "  given back: the same bytes");

    /* empty optional strings are kept; null ones are absent */
    is_int(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"accountId\":\"\","
               "\"url\":null,\"attributes\":null,\"globalContext\":null,"
               "\"date\":null,\"userType\":null,\"propertyKey\":null}"),
           STATSIG_SINK_OK, "gpx empty and null optional members: OK");
    j = body_json();
    is_str(keys(j), "eventName,identifyId,propertyKey,userType,date,"
           "accountId", "  null ones absent, defaults filled");
    is_str(jstr(j, "accountId"), "", "  accountId \"\" kept");
    json_decref(j);
    ok(again_gpx(), "  given back: the same bytes");

    is_int(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":{},"
               "\"globalContext\":{}}"), STATSIG_SINK_OK,
           "gpx empty objects: OK");
    j = body_json();
    ok(jeq(json_object_get(j, "attributes"), "{}")
       && jeq(json_object_get(j, "globalContext"), "{}"), "  kept");
    json_decref(j);

    REFUSED(gpx("[]"), "the body must be a JSON object", "gpx an array");
    REFUSED(gpx("{\"eventName\":"), "the body is not JSON (line 1, column 13)",
            "gpx cut short");
}


static void
test_gpx_required(void)
{
    statsig_buf_t  b;

    REFUSED(gpx("{\"identifyId\":\"u\"}"), "\"eventName\" is required",
            "gpx no eventName");
    REFUSED(gpx("{\"eventName\":null,\"identifyId\":\"u\"}"),
            "\"eventName\" is required", "gpx eventName null");
    REFUSED(gpx("{\"eventName\":1,\"identifyId\":\"u\"}"),
            "\"eventName\" must be a string", "gpx eventName a number");
    REFUSED(gpx("{\"eventName\":\"\",\"identifyId\":\"u\"}"),
            "\"eventName\" must not be empty", "gpx eventName empty");
    REFUSED(gpx("{\"eventName\":\"e\"}"), "\"identifyId\" is required",
            "gpx no identifyId");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"\"}"),
            "\"identifyId\" must not be empty", "gpx identifyId empty");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":42}"),
            "\"identifyId\" must be a string", "gpx identifyId a number");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"propertyKey\":"
                "\"\"}"), "\"propertyKey\" must not be empty",
            "gpx propertyKey empty");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"propertyKey\":"
                "[]}"), "\"propertyKey\" must be a string",
            "gpx propertyKey an array");

    pk = NULL;
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\"}"),
            "\"propertyKey\" is required",
            "gpx no propertyKey and no product key");
    is_int(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"propertyKey\":"
               "\"AP-B-1\"}"), STATSIG_SINK_OK,
           "gpx propertyKey and no product key: OK");
    pk = "";
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\"}"),
            "\"propertyKey\" is required", "gpx product key \"\": none");
    pk = PK;

    /* eventName in UTF-16 units */
    statsig_buf_init(&b);
    statsig_buf_adds(&b, "{\"identifyId\":\"u\",\"eventName\":\"");
    rep(&b, "n", 2000);
    statsig_buf_adds(&b, "\"}");
    is_int(gpx(cstr(&b)), STATSIG_SINK_OK, "gpx eventName of 2000: OK");
    b.len = 0;
    statsig_buf_adds(&b, "{\"identifyId\":\"u\",\"eventName\":\"");
    rep(&b, "n", 2001);
    statsig_buf_adds(&b, "\"}");
    REFUSED(gpx(cstr(&b)), "\"eventName\" is longer than 2000 UTF-16 units",
            "gpx eventName of 2001: INVALID, not cut");
    b.len = 0;
    statsig_buf_adds(&b, "{\"identifyId\":\"u\",\"eventName\":\"");
    rep(&b, "\xe2\x82\xac", 2000);
    statsig_buf_adds(&b, "\"}");
    is_int(gpx(cstr(&b)), STATSIG_SINK_OK,
           "gpx eventName of 2000 euro signs (6000 bytes, 2000 units): OK");
    b.len = 0;
    statsig_buf_adds(&b, "{\"identifyId\":\"u\",\"eventName\":\"");
    rep(&b, "\xf0\x9f\x98\x80", 1000);
    statsig_buf_adds(&b, "\"}");
    is_int(gpx(cstr(&b)), STATSIG_SINK_OK,
           "gpx eventName of 1000 emoji (2000 units): OK");
    b.len = 0;
    statsig_buf_adds(&b, "{\"identifyId\":\"u\",\"eventName\":\"");
    rep(&b, "\xf0\x9f\x98\x80", 1000);
    statsig_buf_adds(&b, "x\"}");
    REFUSED(gpx(cstr(&b)), "\"eventName\" is longer than 2000 UTF-16 units",
            "gpx eventName of 1000 emoji and x (2001 units): INVALID");
    statsig_buf_free(&b);
}


static void
test_gpx_user_type(void)
{
    static const char  *types[] = {
        "USER", "LEAD", "VISITOR", "EMPTY_USER_TYPE"
    };
    static const char  *bad[] = { "\"user\"", "\"ACCOUNT\"", "\"\"" };
    static const char   reason[] = "\"userType\" must be USER, LEAD, VISITOR "
                                   "or EMPTY_USER_TYPE";
    json_t             *j;
    size_t              i;

    for (i = 0; i < 4; i++) {
        is_int(gpx(fmt("{\"eventName\":\"e\",\"identifyId\":\"u\","
                       "\"userType\":\"%s\"}", types[i])),
               STATSIG_SINK_OK, "gpx userType %s: OK", types[i]);
        j = body_json();
        is_str(jstr(j, "userType"), types[i], "  kept");
        json_decref(j);
    }

    for (i = 0; i < 3; i++) {
        REFUSED(gpx(fmt("{\"eventName\":\"e\",\"identifyId\":\"u\","
                        "\"userType\":%s}", bad[i])), reason,
                "gpx userType %s: INVALID", bad[i]);
    }

    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"userType\":1}"),
            "\"userType\" must be a string", "gpx userType 1: INVALID");
}


static void
test_gpx_date(void)
{
    static const struct {
        const char  *d;
        long long    want;
    } good[] = {
        { "0", 0 },
        { "1730000000123", 1730000000123LL },
        { "1.0", 1 },
        { "1.5e3", 1500 },
        { "9007199254740991", 9007199254740991LL },
    };
    static const char  *bad[] = {
        "0.5", "-1", "\"1730000000123\"", "false", "9007199254740992",
        "1e19", "\"2024-10-27T03:33:20.123Z\"",
    };
    static const char   reason[] = "\"date\" must be an integer from 0 to "
                                   "9007199254740991 (ms)";
    json_t             *j;
    size_t              i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        is_int(gpx(fmt("{\"eventName\":\"e\",\"identifyId\":\"u\","
                       "\"date\":%s}", good[i].d)),
               STATSIG_SINK_OK, "gpx date %s: OK", good[i].d);
        j = body_json();
        is_int(jint(j, "date"), good[i].want, "  written %lld", good[i].want);
        json_decref(j);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        REFUSED(gpx(fmt("{\"eventName\":\"e\",\"identifyId\":\"u\","
                        "\"date\":%s}", bad[i])), reason,
                "gpx date %s: INVALID", bad[i]);
    }

    is_int(gpx_n("{\"eventName\":\"e\",\"identifyId\":\"u\"}", 34, -1),
           STATSIG_SINK_OK, "gpx now negative");
    j = body_json();
    is_int(jint(j, "date"), 0, "  date 0");
    json_decref(j);
    is_int(gpx_n("{\"eventName\":\"e\",\"identifyId\":\"u\"}", 34, INT64_MAX),
           STATSIG_SINK_OK, "gpx now INT64_MAX");
    j = body_json();
    is_int(jint(j, "date"), STATSIG_SINK_RELAY_INT_MAX, "  date 2^53 - 1");
    json_decref(j);
    ok(again_gpx(), "  given back: the same bytes");
}


static void
test_gpx_strings(void)
{
    static const char  *names[] = {
        "accountId", "sessionId", "url", "referrer", "remoteHost",
        "eventId", "eventType"
    };
    json_t             *j;
    size_t              i;

    for (i = 0; i < 7; i++) {
        is_int(gpx(fmt("{\"eventName\":\"e\",\"identifyId\":\"u\","
                       "\"%s\":\"v%zu\"}", names[i], i)),
               STATSIG_SINK_OK, "gpx %s: OK", names[i]);
        j = body_json();
        is_str(jstr(j, names[i]), fmt("v%zu", i), "  kept");
        json_decref(j);
        REFUSED(gpx(fmt("{\"eventName\":\"e\",\"identifyId\":\"u\","
                        "\"%s\":{}}", names[i])),
                fmt("\"%s\" must be a string", names[i]),
                "gpx %s an object: INVALID", names[i]);
    }

    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\","
                "\"globalContext\":[]}"),
            "\"globalContext\" must be an object",
            "gpx globalContext an array: INVALID");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\","
                "\"globalContext\":\"x\"}"),
            "\"globalContext\" must be an object",
            "gpx globalContext a string: INVALID");
}


static void
test_gpx_attributes(void)
{
    /* a key of 1024 UTF-16 units (n times unit), then one more */
    static const struct {
        const char  *unit;
        size_t       n;
        const char  *more;
        const char  *at, *over;         /* the tests' names */
    } long_keys[] = {
        { "k", 1024, "k", "1024 ASCII", "1025 ASCII" },
        { "\xc3\xa9", 1024, "\xc3\xa9", "1024 e-acute (2048 bytes)",
          "1025 e-acute" },
        { "\xf0\x9f\x98\x80", 512, "a",
          "512 emoji (1024 units, 2048 bytes)",
          "512 emoji and a (1025 units)" },
    };
    statsig_buf_t  b;
    json_t        *j;
    size_t         i;

    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":"
                "[]}"), "\"attributes\" must be an object",
            "gpx attributes an array: INVALID");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":"
                "5}"), "\"attributes\" must be an object",
            "gpx attributes 5: INVALID");

    statsig_buf_init(&b);

    /* 50 and 51 members (a repeated key is one) */
    statsig_buf_adds(&b, "{\"eventName\":\"e\",\"identifyId\":\"u\","
                         "\"attributes\":{");
    for (i = 0; i < 50; i++) {
        statsig_buf_adds(&b, fmt("%s\"a%zu\":%zu", i ? "," : "", i, i));
    }

    statsig_buf_adds(&b, ",\"a0\":\"again\"}}");
    is_int(gpx(cstr(&b)), STATSIG_SINK_OK,
           "gpx 50 attributes (and one repeated): OK");
    j = body_json();
    is_int(json_object_size(json_object_get(j, "attributes")), 50,
           "  50 written");
    is_str(jstr(json_object_get(j, "attributes"), "a0"), "again",
           "  the repeated key's last value");
    json_decref(j);
    ok(again_gpx(), "  given back: the same bytes");

    b.len -= 2;
    statsig_buf_adds(&b, ",\"a50\":50}}");
    REFUSED(gpx(cstr(&b)), "\"attributes\" has more than 50 members",
            "gpx 51 attributes: INVALID");

    /* keys: 1024 UTF-16 units, counted as Java counts */
    for (i = 0; i < sizeof(long_keys) / sizeof(long_keys[0]); i++) {
        b.len = 0;
        statsig_buf_adds(&b, "{\"eventName\":\"e\",\"identifyId\":\"u\","
                             "\"attributes\":{\"");
        rep(&b, long_keys[i].unit, long_keys[i].n);
        statsig_buf_adds(&b, "\":1}}");
        is_int(gpx(cstr(&b)), STATSIG_SINK_OK, "gpx key of %s: OK",
               long_keys[i].at);
        b.len -= 5;
        statsig_buf_adds(&b, long_keys[i].more);
        statsig_buf_adds(&b, "\":1}}");
        REFUSED(gpx(cstr(&b)),
                "an \"attributes\" key is longer than 1024 UTF-16 units",
                "gpx key of %s: INVALID", long_keys[i].over);
    }

    /* values: string, number, boolean only, the key named */
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":"
                "{\"ok\":1,\"plan\":null}}"),
            "\"attributes\" member \"plan\" must be a string, number or "
            "boolean", "gpx attribute null: INVALID");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":"
                "{\"cart\":{\"n\":1}}}"),
            "\"attributes\" member \"cart\" must be a string, number or "
            "boolean", "gpx attribute an object: INVALID");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":"
                "{\"tags\":[\"a\"]}}"),
            "\"attributes\" member \"tags\" must be a string, number or "
            "boolean", "gpx attribute an array: INVALID");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":"
                "{\"a\\nb\\u007f\\\"\":null}}"),
            "\"attributes\" member \"a?b?\"\" must be a string, number or "
            "boolean", "gpx attribute named with control characters as ?");

    b.len = 0;
    statsig_buf_adds(&b, "{\"eventName\":\"e\",\"identifyId\":\"u\","
                         "\"attributes\":{\"");
    rep(&b, "0123456789", 10);
    statsig_buf_adds(&b, "\":[]}}");
    REFUSED(gpx(cstr(&b)),
            "\"attributes\" member \"0123456789012345678901234567890123456789"
            "...\" must be a string, number or boolean",
            "gpx attribute with a long key: named by 40 bytes and ...");

    b.len = 0;
    statsig_buf_adds(&b, "{\"eventName\":\"e\",\"identifyId\":\"u\","
                         "\"attributes\":{\"");
    rep(&b, "\xe2\x82\xac", 20);
    statsig_buf_adds(&b, "\":null}}");
    REFUSED(gpx(cstr(&b)),
            fmt("\"attributes\" member \"%s...\" must be a string, number "
                "or boolean", "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82"
                "\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2"
                "\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"),
            "gpx attribute with a UTF-8 key: cut at a character (39 bytes)");

    statsig_buf_free(&b);

    /* the rules first, then the count, then each key and value in order */
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":"
                "{\"a\":null},\"url\":1}"), "\"url\" must be a string",
            "gpx: url before attributes");
    REFUSED(gpx("{\"eventName\":\"e\",\"identifyId\":\"u\",\"attributes\":"
                "{\"a\":null},\"globalContext\":1}"),
            "\"attributes\" member \"a\" must be a string, number or "
            "boolean", "gpx: attributes before globalContext");
}


static void
test_gpx_order(void)
{
    REFUSED(gpx("{\"date\":-1,\"userType\":\"x\",\"propertyKey\":\"\","
                "\"identifyId\":\"\",\"eventName\":\"\"}"),
            "\"eventName\" must not be empty", "gpx: eventName first");
    REFUSED(gpx("{\"date\":-1,\"userType\":\"x\",\"propertyKey\":\"\","
                "\"identifyId\":\"\",\"eventName\":\"e\"}"),
            "\"identifyId\" must not be empty", "gpx: identifyId next");
    REFUSED(gpx("{\"date\":-1,\"userType\":\"x\",\"propertyKey\":\"\","
                "\"identifyId\":\"u\",\"eventName\":\"e\"}"),
            "\"propertyKey\" must not be empty", "gpx: propertyKey next");
    REFUSED(gpx("{\"date\":-1,\"userType\":\"x\",\"identifyId\":\"u\","
                "\"eventName\":\"e\"}"),
            "\"userType\" must be USER, LEAD, VISITOR or EMPTY_USER_TYPE",
            "gpx: userType next");
    REFUSED(gpx("{\"date\":-1,\"accountId\":1,\"identifyId\":\"u\","
                "\"eventName\":\"e\"}"),
            "\"date\" must be an integer from 0 to 9007199254740991 (ms)",
            "gpx: date next");
}


/* ---- buffers ---- */

static void
test_buffers(void)
{
    int  rc;

    /* appended after what the buffers hold; a refusal leaves it */
    reset_out();
    statsig_buf_add(&P, "/p", 2);
    statsig_buf_add(&B, "[", 1);
    rc = statsig_relay_customerio(&F, "u 1", 3, "{\"name\":\"x\"}", 12,
                                  NOW_MS, &P, &B, err, sizeof(err));
    is_int(rc, STATSIG_SINK_OK, "cio into buffers that hold something");
    is_str(cstr(&P), "/p/customers/u%201/events", "  path appended");
    ok(B.len > 1 && memcmp(B.data, "[{\"name\":\"x\",", 13) == 0,
       "  body appended");

    reset_out();
    statsig_buf_add(&P, "/p", 2);
    statsig_buf_add(&B, "[", 1);
    rc = statsig_relay_customerio(&F, "u", 1, "{\"name\":\"x\",\"data\":1}",
                                  21, NOW_MS, &P, &B, err, sizeof(err));
    ok(rc == STATSIG_SINK_INVALID && P.len == 2 && B.len == 1,
       "cio refused: the buffers as they were");

    reset_out();
    statsig_buf_add(&B, "[", 1);
    rc = statsig_relay_gainsight_px(&F, "{\"eventName\":\"e\","
                                    "\"identifyId\":\"u\"}", 34, PK, 9,
                                    NOW_MS, &B, err, sizeof(err));
    ok(rc == STATSIG_SINK_OK && memcmp(B.data, "[{\"eventName\"", 13) == 0,
       "gpx appended");
    B.len = 1;
    rc = statsig_relay_gainsight_px(&F, "{\"eventName\":\"e\"}", 17, PK, 9,
                                    NOW_MS, &B, err, sizeof(err));
    ok(rc == STATSIG_SINK_INVALID && B.len == 1,
       "gpx refused: the buffer as it was");

    /* a buffer that failed before: NOMEM, nothing read */
    reset_out();
    B.failed = 1;
    is_int(statsig_relay_customerio(&F, "u", 1, "{\"name\":\"x\"}", 12,
                                    NOW_MS, &P, &B, err, sizeof(err)),
           STATSIG_SINK_NOMEM, "cio a failed body buffer: NOMEM");
    is_str(err, "out of memory", "  out of memory");
    B.failed = 0;
    P.failed = 1;
    is_int(statsig_relay_customerio(&F, "u", 1, "{\"name\":\"x\"}", 12,
                                    NOW_MS, &P, &B, err, sizeof(err)),
           STATSIG_SINK_NOMEM, "cio a failed path buffer: NOMEM");
    P.failed = 0;
    B.failed = 1;
    is_int(statsig_relay_gainsight_px(&F, "{}", 2, PK, 9, NOW_MS, &B, err,
                                      sizeof(err)),
           STATSIG_SINK_NOMEM, "gpx a failed buffer: NOMEM");
    B.failed = 0;

    /* err NULL or tiny is fine */
    reset_out();
    is_int(statsig_relay_customerio(&F, NULL, 0, "{}", 2, NOW_MS, &P, &B,
                                    NULL, 0),
           STATSIG_SINK_INVALID, "cio err NULL");
    is_int(statsig_relay_gainsight_px(&F, "{}", 2, PK, 9, NOW_MS, &B, err,
                                      4),
           STATSIG_SINK_INVALID, "gpx err of 4 bytes");
    is_str(err, "\"ev", "  cut, NUL-terminated");
}


/* ---- allocation failures ---- */

static int
nomem_call(int which)
{
    static const char  cio_body[] =
        "{\"name\":\" buy \",\"anonymous_id\":\"a\",\"data\":{\"a\":[1,2,"
        "{\"b\":\"c\"}],\"recipient\":\"x\",\"n\":1.5},\"type\":\"page\"}";
    static const char  gpx_body[] =
        "{\"eventName\":\"buy\",\"identifyId\":\"u1\",\"attributes\":{\"a\":"
        "1,\"b\":\"x\",\"c\":true},\"globalContext\":{\"g\":[1,{\"h\":2}]},"
        "\"url\":\"https://x/\"}";

    err[0] = '\0';

    switch (which) {
    case 0:
        return statsig_relay_customerio(&F, "u/1", 3, cio_body,
                                        sizeof(cio_body) - 1, NOW_MS, &P,
                                        &B, err, sizeof(err));
    case 1:
        return statsig_relay_customerio(&F, NULL, 0, cio_body,
                                        sizeof(cio_body) - 1, NOW_MS, &P,
                                        &B, err, sizeof(err));
    default:
        return statsig_relay_gainsight_px(&F, gpx_body, sizeof(gpx_body) - 1,
                                          PK, 9, NOW_MS, &B, err,
                                          sizeof(err));
    }
}


static void
test_nomem(void)
{
    statsig_buf_t  want_p, want_b;
    long           k, total;
    int            which, rc, good;

    statsig_buf_init(&want_p);
    statsig_buf_init(&want_b);

    /* valgrind (and any other malloc replacement) bypasses the wrapper */
    reset_out();
    allocs = 0;
    fail_in = 1000000;
    nomem_call(0);
    fail_in = -1;

    if (allocs == 0) {
        for (which = 0; which < 3; which++) {
            ok(1, "# SKIP malloc is not the wrapper (valgrind?)");
        }

        return;
    }

    for (which = 0; which < 3; which++) {
        good = 1;
        total = 0;

        for (k = 0; k < 1000; k++) {
            /* a fresh f: its memory is allocated during the call */
            statsig_sink_fmt_free(&F);
            if (statsig_sink_fmt_init(&F) != 0) {
                good = 0;
                break;
            }

            reset_out();
            statsig_buf_add(&P, "/p", 2);
            statsig_buf_add(&B, "[", 1);
            allocs = 0;
            fail_in = k;
            rc = nomem_call(which);

            if (fail_in >= 0) {
                /* no allocation failed: done */
                fail_in = -1;
                good = good && rc == STATSIG_SINK_OK;
                break;
            }

            total++;

            if (rc != STATSIG_SINK_NOMEM
                || strcmp(err, "out of memory") != 0
                || (!P.failed && P.len != 2) || (!B.failed && B.len != 1))
            {
                printf("# which %d, allocation %ld failed: rc %d (%s), "
                       "lengths %zu %zu\n", which, k, rc, err, P.len, B.len);
                good = 0;
            }

            /* f works again, the same answer */
            reset_out();
            rc = nomem_call(which);
            if (rc != STATSIG_SINK_OK) {
                good = 0;
            }

            if (!same_out(k, &want_p, &want_b)) {
                good = 0;
            }
        }

        ok(good && total > 0, "relay %d: each of its %ld allocations fails "
           "as NOMEM, the buffers as they were, then the same output",
           which, total);
    }

    fail_in = -1;
    statsig_buf_free(&want_p);
    statsig_buf_free(&want_b);
}


int
main(void)
{
    if (statsig_sink_fmt_init(&F) != 0) {
        printf("Bail out! no memory\n");
        return 1;
    }

    statsig_buf_init(&P);
    statsig_buf_init(&B);

    test_cio_shapes();
    test_cio_identifier();
    test_cio_body();
    test_cio_name();
    test_cio_type();
    test_cio_timestamp();
    test_cio_id();
    test_cio_anonymous_id();
    test_cio_data();
    test_cio_order();
    test_gpx_shapes();
    test_gpx_required();
    test_gpx_user_type();
    test_gpx_date();
    test_gpx_strings();
    test_gpx_attributes();
    test_gpx_order();
    test_buffers();
    test_nomem();

    ok(reasons_good, "every reason: 1 to %d bytes, no control character",
       STATSIG_SINK_RELAY_REASON_MAX);

    statsig_sink_fmt_free(&F);
    reset_out();

    return done_testing();
}
