/*
 * Unit tests: a queued event as Customer.io's and Gainsight PX's requests
 * (src/core/sink_format.c).  Every output is parsed with jansson and
 * compared field by field; exposures come from the real writer.
 *
 * malloc and realloc are wrapped (the real ones through dlsym) so that
 * one allocation at a time can fail: every NOMEM path, then the same
 * event again with memory, which must give the same bytes.
 */

#define _GNU_SOURCE

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "exposure.h"
#include "fail_alloc.h"
#include "hash.h"
#include "sink_format.h"
#include "sink_test.h"
#include "statsig.h"
#include "tap.h"


/* ---- helpers ---- */

static statsig_sink_opts_t  O;

#define NOW_MS  1700000000456LL


static int
v1(const char *ev, size_t len)
{
    reset_out();
    err[0] = '\0';
    return statsig_sink_customerio_v1(&F, ev, len, &O, &P, &B, err,
                                      sizeof(err));
}


static int
v2(const char *ev, size_t len)
{
    reset_out();
    err[0] = '\0';
    return statsig_sink_customerio_v2_item(&F, ev, len, &O, &B, err,
                                           sizeof(err));
}


static int
gpx(const char *ev, size_t len)
{
    reset_out();
    err[0] = '\0';
    return statsig_sink_gainsight_px(&F, ev, len, &O, &B, err, sizeof(err));
}


#define V1(s)   v1(s, strlen(s))
#define V2(s)   v2(s, strlen(s))
#define GPX(s)  gpx(s, strlen(s))


/* ---- ULID ---- */

static void
test_ulid(void)
{
    static const unsigned char  zero[10], ones[10] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
    }, seq[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    static const char  ev[] = "{\"eventName\":\"buy\",\"time\":1730000000123}";
    unsigned char      d[32];
    char               u[27], w[27], prev[27];
    int64_t            t;
    size_t             i;
    int                good, mono;

    u[26] = w[26] = prev[26] = '\0';

    statsig_ulid(0, zero, u);
    is_str(u, "00000000000000000000000000", "ULID: time 0, zero bits");
    statsig_ulid(281474976710655LL, ones, u);
    is_str(u, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "ULID: the largest");
    statsig_ulid(1469918176385LL, zero, u);
    is_str(u, "01ARYZ6S410000000000000000", "ULID: the spec's time example");
    statsig_ulid(1730000000123LL, seq, u);
    is_str(u, "01JB60J53V000G40R40M30E209", "ULID: bits 00 01 .. 09");
    statsig_sha256("abc", 3, d);
    statsig_ulid(1730000000123LL, d, u);
    is_str(u, "01JB60J53VQ9W1DFWF077YMGA1", "ULID: SHA-256(abc) bits");

    statsig_ulid(-5, zero, u);
    is_str(u, "00000000000000000000000000", "ULID: a negative time is 0");
    statsig_ulid(INT64_MAX, zero, u);
    is_str(u, "7ZZZZZZZZZ0000000000000000", "ULID: time clamped to 2^48-1");

    good = 1;
    mono = 1;
    prev[0] = '\0';
    for (t = 1, i = 0; i < 48; i++, t = t * 2 + (int64_t) i) {
        statsig_ulid(t, seq, u);
        if (strspn(u, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != 26) {
            good = 0;
        }

        if (prev[0] && strcmp(prev, u) >= 0) {
            mono = 0;
        }

        memcpy(prev, u, 27);
    }

    ok(good, "ULID: Crockford's alphabet only (no I, L, O, U)");
    ok(mono, "ULID: later times sort later");

    statsig_sink_event_id(1730000000123LL, ev, sizeof(ev) - 1, u);
    is_str(u, "01JB60J53VCXDMG5W9YYK4X4ZD", "event id: time and SHA-256");
    statsig_sink_event_id(1730000000123LL, ev, sizeof(ev) - 1, w);
    is_str(w, u, "event id: the same bytes, the same id");

    {
        char  ev2[sizeof(ev)];

        memcpy(ev2, ev, sizeof(ev));
        ev2[15] = 'B';
        statsig_sink_event_id(1730000000123LL, ev2, sizeof(ev) - 1, w);
        ok(strcmp(u, w) != 0 && memcmp(u, w, 10) == 0,
           "event id: a byte changed, another id (same time part)");
    }
}


/* ---- Customer.io v1 ---- */

#define USER_FULL                                                            \
    "\"user\":{\"userID\":\"u1\",\"email\":\"mail@example.com\","            \
    "\"ip\":\"10.1.2.3\",\"custom\":{\"plan\":\"gold\"},"                    \
    "\"customIDs\":{\"stableID\":\"st-1\",\"accountID\":\"acct-9\"},"        \
    "\"privateAttributes\":{\"secret\":\"PRIVATE-XYZ\"}}"


static void
test_v1_routes(void)
{
    static const char  ev[] =
        "{\"eventName\":\"buy\",\"value\":\"sku-1\",\"metadata\":{\"a\":\"1\","
        "\"b\":\"two\"},\"time\":1730000000999," USER_FULL
        ",\"statsigMetadata\":{}}";
    static const char  anon[] =
        "{\"eventName\":\"view\",\"value\":3.5,\"time\":1730000001000,"
        "\"user\":{\"customIDs\":{\"stableID\":\"st 2\"},"
        "\"privateAttributes\":null}}";
    static const char  no_id[] =
        "{\"eventName\":\"x\",\"user\":{\"customIDs\":{\"stableID\":\"\"}}}";
    json_t            *j;
    char               id[27];

    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    is_int(V1(ev), STATSIG_SINK_OK, "v1 identified: OK");
    is_str(cstr(&P), "/customers/u1/events", "v1 identified: path");
    j = body_json();
    ok(j != NULL, "v1 identified: body is JSON");
    statsig_sink_event_id(1730000000999LL, ev, sizeof(ev) - 1, id);
    id[26] = '\0';
    is_str(F.id, id, "v1: f->id is the event's id");
    ok(jeq(j, fmt("{\"name\":\"buy\",\"id\":\"%s\",\"timestamp\":1730000000,"
                  "\"data\":{\"value\":\"sku-1\",\"a\":\"1\",\"b\":\"two\"}}",
                  id)), "v1 identified: body fields");
    ok(strncmp(cstr(&B), "{\"name\":\"buy\",\"id\":\"", 20) == 0,
       "v1 identified: name first, then id");
    is_int(F.kind, STATSIG_SINK_KIND_CUSTOM, "v1: kind custom");
    is_int(F.route, STATSIG_SINK_ROUTE_IDENTIFIED, "v1: route identified");
    is_int(F.time_ms, 1730000000999LL, "v1: time");
    ok(strstr(cstr(&B), "PRIVATE") == NULL
       && strstr(cstr(&B), "mail@example.com") == NULL
       && strstr(cstr(&B), "10.1.2.3") == NULL
       && strstr(cstr(&B), "gold") == NULL
       && strstr(cstr(&P), "PRIVATE") == NULL,
       "v1: no private attribute, email, ip or custom field");
    json_decref(j);

    is_int(V1(anon), STATSIG_SINK_OK, "v1 anonymous: OK");
    is_str(cstr(&P), "/events", "v1 anonymous: path");
    j = body_json();
    ok(jeq(j, fmt("{\"name\":\"view\",\"anonymous_id\":\"st 2\",\"id\":\"%s\","
                  "\"timestamp\":1730000001,\"data\":{\"value\":3.5}}",
                  F.id)), "v1 anonymous: body fields");
    is_int(F.route, STATSIG_SINK_ROUTE_ANONYMOUS, "v1: route anonymous");
    json_decref(j);

    /* nothing written on SKIP: the buffers keep what they held */
    reset_out();
    statsig_buf_adds(&P, "PP");
    statsig_buf_adds(&B, "BB");
    is_int(statsig_sink_customerio_v1(&F, no_id, strlen(no_id), &O, &P, &B,
                                      err, sizeof(err)),
           STATSIG_SINK_SKIP, "v1: no userID, empty stableID: SKIP");
    ok(strcmp(cstr(&P), "PP") == 0 && strcmp(cstr(&B), "BB") == 0,
       "v1 SKIP: buffers as they were");
    is_int(F.route, STATSIG_SINK_ROUTE_NONE, "v1 SKIP: route none");
    ok(err[0] != '\0', "v1 SKIP: err says why (%s)", err);

    is_int(V1("{\"eventName\":\"x\"}"), STATSIG_SINK_SKIP, "v1: no user");
    is_int(V1("{\"eventName\":\"x\",\"user\":[1]}"), STATSIG_SINK_SKIP,
           "v1: user not an object");
    is_int(V1("{\"eventName\":\"x\",\"user\":{\"userID\":true}}"),
           STATSIG_SINK_SKIP, "v1: a boolean userID is no id");

    /* appending: the output goes after what the buffers hold */
    reset_out();
    statsig_buf_adds(&P, "/base");
    statsig_buf_adds(&B, "[");
    is_int(statsig_sink_customerio_v1(&F, ev, sizeof(ev) - 1, &O, &P, &B,
                                      err, sizeof(err)),
           STATSIG_SINK_OK, "v1 appends: OK");
    ok(strcmp(cstr(&P), "/base/customers/u1/events") == 0
       && strncmp(cstr(&B), "[{\"name\":", 9) == 0,
       "v1 appends to the buffers");

    /* a number userID: as JavaScript writes it */
    is_int(V1("{\"eventName\":\"x\",\"user\":{\"userID\":42.5}}"),
           STATSIG_SINK_OK, "v1: a number userID");
    is_str(cstr(&P), "/customers/42.5/events", "v1: number userID's path");
    is_int(V1("{\"eventName\":\"x\",\"user\":{\"userID\":1e21}}"),
           STATSIG_SINK_OK, "v1: 1e21 userID");
    is_str(cstr(&P), "/customers/1e%2B21/events", "v1: 1e21 as 1e+21");
}


static void
test_url_encoding(void)
{
    static const struct {
        const char  *id;        /* JSON string contents */
        const char  *seg;
    } t[] = {
        { "a b", "a%20b" },
        { "a/b", "a%2Fb" },
        { "100%", "100%25" },
        { "\\u00e9t\\u00e9", "%C3%A9t%C3%A9" },
        { "a?b#c", "a%3Fb%23c" },
        { "AZaz09-._~", "AZaz09-._~" },
        { "x+y=z&w", "x%2By%3Dz%26w" },
        { "mail@example.com", "mail%40example.com" },
        { "\\ud83d\\ude00", "%F0%9F%98%80" },
        { "q\\\"uote\\\\", "q%22uote%5C" },
        { "nl\\n\\u0000", "nl%0A%00" },
        { "...", "..." },
        { "a:b;c,d", "a%3Ab%3Bc%2Cd" },
    };
    size_t  i;

    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char  *ev = fmt("{\"eventName\":\"e\",\"user\":{\"userID\":"
                              "\"%s\"}}", t[i].id);

        is_int(V1(ev), STATSIG_SINK_OK, "url %zu: OK", i);
        is_str(cstr(&P), fmt("/customers/%s/events", t[i].seg),
               "url %zu: %s", i, t[i].seg);
    }

    is_int(V1("{\"eventName\":\"e\",\"user\":{\"userID\":\".\"}}"),
           STATSIG_SINK_INVALID, "url: userID \".\" INVALID in v1");
    is_int(V1("{\"eventName\":\"e\",\"user\":{\"userID\":\"..\"}}"),
           STATSIG_SINK_INVALID, "url: userID \"..\" INVALID in v1");
    ok(strstr(err, "path segment") != NULL, "url: err (%s)", err);
    is_int(V2("{\"eventName\":\"e\",\"user\":{\"userID\":\"..\"}}"),
           STATSIG_SINK_OK, "url: \"..\" is fine in v2 (no path)");
}


static void
test_escaping(void)
{
    json_t  *j, *v;

    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    is_int(V1("{\"eventName\":\"a\\\"b\\\\c\\nd\\te\\u0001f\\u00e9\\ud83d"
              "\\ude00/\",\"value\":\"v\\\"\\u0000w\",\"metadata\":{"
              "\"k\\\"ey\":\"x\\u2028y\"},\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "escaping: OK");
    j = body_json();
    ok(j != NULL, "escaping: body is JSON");
    is_str(jstr(j, "name"),
           "a\"b\\c\nd\te\x01" "f\xc3\xa9\xf0\x9f\x98\x80/",
           "escaping: the name's bytes");
    v = jget(j, "data.value");
    ok(json_string_length(v) == 4
       && memcmp(json_string_value(v), "v\"\0w", 4) == 0,
       "escaping: a value with \\u0000");
    is_str(jstr(j, "data.k\"ey"), "x\xe2\x80\xa8y",
           "escaping: key and U+2028");
    ok(strstr(cstr(&B), "\\u0001") != NULL && strstr(cstr(&B), "\\u0000"),
       "escaping: control characters as \\u00XX");
    json_decref(j);
}


static void
test_metadata_values(void)
{
    json_t  *j;

    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    is_int(V1("{\"eventName\":\"m\",\"metadata\":{\"n\":1.5,\"i\":-7,"
              "\"e\":1e21,\"t\":true,"
              "\"f\":false,\"z\":null,\"o\":{\"x\":[1,{\"y\":null}]},"
              "\"arr\":[],\"\":\"empty key\",\"d\":1,\"d\":2,"
              "\"neg0\":-0},\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "metadata: odd values OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{\"n\":1.5,\"i\":-7,"
           "\"e\":1e+21,\"t\":true,\"f\":false,"
           "\"z\":null,\"o\":{\"x\":[1,{\"y\":null}]},\"arr\":[],"
           "\"\":\"empty key\",\"d\":2,\"neg0\":0}"),
       "metadata: values as they are (numbers as JavaScript prints them; "
       "a repeated key's last value)");
    ok(strstr(cstr(&B), "\"e\":1e+21") != NULL,
       "metadata: number text as JavaScript's");
    json_decref(j);

    /* past 2^63: jansson reads it only as a real, JSON.parse as 1.2e19 */
    is_int(V1("{\"eventName\":\"m\",\"metadata\":{"
              "\"big\":12345678901234567890},\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "metadata: a big integer");
    j = json_loadb(B.data, B.len, JSON_DECODE_INT_AS_REAL, NULL);
    ok(j != NULL && json_real_value(jget(j, "data.big"))
                    == 12345678901234567890.0
       && strstr(cstr(&B), "\"big\":12345678901234567000") != NULL,
       "metadata: a big integer as JavaScript prints it");
    json_decref(j);

    /* the event's value wins the "value" key */
    is_int(V1("{\"eventName\":\"m\",\"value\":5,\"metadata\":{\"value\":\"m\","
              "\"k\":1},\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "metadata value vs event value: OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{\"value\":5,\"k\":1}"),
       "metadata value vs event value: the event's");
    json_decref(j);

    is_int(V1("{\"eventName\":\"m\",\"value\":null,\"metadata\":{\"value\":"
              "\"m\"},\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "metadata value, null event value: OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{\"value\":\"m\"}"),
       "metadata value, null event value: metadata's");
    json_decref(j);

    /* metadata that is no object */
    is_int(V1("{\"eventName\":\"m\",\"metadata\":[\"a\"],\"user\":{\"userID\":"
              "\"u\"}}"), STATSIG_SINK_OK, "metadata array: OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{}"), "metadata array: no members");
    json_decref(j);
    is_int(V1("{\"eventName\":\"m\",\"metadata\":null,\"user\":{\"userID\":"
              "\"u\"}}"), STATSIG_SINK_OK, "metadata null: OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{}"), "metadata null: no members");
    json_decref(j);

    /* Customer.io's reserved keys */
    is_int(V1("{\"eventName\":\"m\",\"metadata\":{\"recipient\":\"a@b.c\","
              "\"from_address\":\"x\",\"reply_to\":\"y\",\"keep\":\"z\"},"
              "\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "reserved keys: OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{\"keep\":\"z\"}"),
       "reserved keys: recipient, from_address, reply_to left out");
    is_int(F.dropped, 3, "reserved keys: counted");
    json_decref(j);
}


static void
test_values(void)
{
    static const struct {
        const char  *value;     /* "" = absent */
        const char  *data;
    } t[] = {
        { "\"s\"", "{\"value\":\"s\"}" },
        { "12", "{\"value\":12}" },
        { "-0.25", "{\"value\":-0.25}" },
        { "null", "{}" },
        { "", "{}" },
        { "true", "{\"value\":true}" },
        { "{\"a\":[1]}", "{\"value\":{\"a\":[1]}}" },
        { "\"\"", "{\"value\":\"\"}" },
    };
    size_t   i;
    json_t  *j;

    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char  *ev;

        ev = t[i].value[0]
             ? fmt("{\"eventName\":\"v\",\"value\":%s,\"user\":{\"userID\":"
                   "\"u\"}}", t[i].value)
             : "{\"eventName\":\"v\",\"user\":{\"userID\":\"u\"}}";

        is_int(V1(ev), STATSIG_SINK_OK, "value %s: v1 OK", t[i].value);
        j = body_json();
        ok(jeq(jget(j, "data"), t[i].data), "value %s: v1 data",
           t[i].value);
        json_decref(j);

        is_int(V2(ev), STATSIG_SINK_OK, "value %s: v2 OK", t[i].value);
        j = body_json();
        ok(jeq(jget(j, "attributes"), t[i].data), "value %s: v2 attributes",
           t[i].value);
        json_decref(j);
    }
}


static void
test_times(void)
{
    static const struct {
        const char  *time;      /* "" = absent */
        long long    ms;
    } t[] = {
        { "1730000000999", 1730000000999LL },
        { "1730000000999.75", 1730000000999LL },
        { "0", 0 },
        { "999", 999 },
        { "\"2024-10-27T03:33:20.123Z\"", 1730000000123LL },
        { "\"not a date\"", NOW_MS },
        { "", NOW_MS },
        { "null", NOW_MS },
        { "-1", NOW_MS },
        { "281474976710655", 281474976710655LL },
        { "281474976710656", NOW_MS },
        { "1e300", NOW_MS },
        { "[1]", NOW_MS },
    };
    size_t   i;
    json_t  *j;

    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char  *ev;
        char         id[27];

        ev = t[i].time[0]
             ? fmt("{\"eventName\":\"t\",\"time\":%s,\"user\":{\"userID\":"
                   "\"u\"}}", t[i].time)
             : "{\"eventName\":\"t\",\"user\":{\"userID\":\"u\"}}";

        is_int(V1(ev), STATSIG_SINK_OK, "time %s: OK", t[i].time);
        is_int(F.time_ms, t[i].ms, "time %s: ms", t[i].time);
        j = body_json();
        is_int(json_integer_value(jget(j, "timestamp")), t[i].ms / 1000,
               "time %s: v1 timestamp in seconds", t[i].time);
        ok(json_is_integer(jget(j, "timestamp")),
           "time %s: an integer", t[i].time);
        statsig_sink_event_id(t[i].ms, ev, strlen(ev), id);
        id[26] = '\0';
        is_str(jstr(j, "id"), id, "time %s: the id's time", t[i].time);
        json_decref(j);

        is_int(GPX(ev), STATSIG_SINK_OK, "time %s: gainsight OK", t[i].time);
        j = body_json();
        is_int(json_integer_value(jget(j, "date")), t[i].ms,
               "time %s: gainsight date in ms", t[i].time);
        json_decref(j);
    }

    O.now_ms = -5;
    is_int(V1("{\"eventName\":\"t\",\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "negative now_ms: OK");
    is_int(F.time_ms, 0, "negative now_ms: 0");
    O.now_ms = NOW_MS;
}


/* an event of this name (JSON string contents) in ev */
static const char *
named(statsig_buf_t *ev, const char *text)
{
    ev->len = 0;
    statsig_buf_adds(ev, "{\"eventName\":\"");
    statsig_buf_adds(ev, text);
    statsig_buf_adds(ev, "\",\"user\":{\"userID\":\"u\"}}");

    return cstr(ev);
}


static void
test_names(void)
{
    statsig_buf_t  ev, name;
    json_t        *j;

    statsig_buf_init(&ev);
    statsig_buf_init(&name);

    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    name.len = 0;
    rep(&name, "a", 100);
    is_int(V1(named(&ev, cstr(&name))), STATSIG_SINK_OK, "name 100 bytes: OK");
    j = body_json();
    is_str(jstr(j, "name"), cstr(&name), "name 100 bytes: kept");
    is_int(F.name_cut, 0, "name 100 bytes: not cut");
    json_decref(j);

    statsig_buf_addc(&name, 'b');
    is_int(V1(named(&ev, cstr(&name))), STATSIG_SINK_OK, "name 101 bytes: OK");
    j = body_json();
    name.len = 100;
    is_str(jstr(j, "name"), cstr(&name), "name 101 bytes: cut to 100");
    is_int(F.name_cut, 1, "name 101 bytes: f->name_cut");
    json_decref(j);

    /* a two-byte character across byte 100 goes whole */
    name.len = 99;
    statsig_buf_adds(&name, "\xc3\xa9");
    is_int(V1(named(&ev, cstr(&name))), STATSIG_SINK_OK, "name 99+2 bytes: OK");
    j = body_json();
    name.len = 99;
    is_str(jstr(j, "name"), cstr(&name),
           "name 99+2 bytes: cut before the character");
    json_decref(j);

    /* the cut name's trailing space is trimmed, as Customer.io would */
    name.len = 98;
    statsig_buf_adds(&name, " \xe2\x82\xac");
    is_int(V1(named(&ev, cstr(&name))), STATSIG_SINK_OK, "name 98+1+3: OK");
    j = body_json();
    name.len = 98;
    is_str(jstr(j, "name"), cstr(&name), "name 98+1+3: cut and trimmed");
    json_decref(j);

    is_int(V1(named(&ev, "  \\tbuy now \\n ")), STATSIG_SINK_OK, "spaces: OK");
    j = body_json();
    is_str(jstr(j, "name"), "buy now", "spaces: trimmed at both ends");
    is_int(F.name_cut, 0, "spaces: not a cut");
    json_decref(j);

    /* 100 bytes after trimming: no cut */
    name.len = 0;
    statsig_buf_adds(&name, "   ");
    rep(&name, "c", 100);
    statsig_buf_adds(&name, "   ");
    is_int(V1(named(&ev, cstr(&name))), STATSIG_SINK_OK, "106 with spaces: OK");
    is_int(F.name_cut, 0, "106 with spaces: 100 once trimmed");

    reset_out();
    statsig_buf_adds(&B, "keep");
    (void) named(&ev, "   ");
    is_int(statsig_sink_customerio_v1(&F, ev.data, ev.len, &O, &P, &B,
                                      err, sizeof(err)),
           STATSIG_SINK_INVALID, "name of spaces: INVALID");
    is_str(cstr(&B), "keep", "name of spaces: body as it was");
    is_int(V2(named(&ev, " \\t")), STATSIG_SINK_INVALID,
           "name of spaces: v2 INVALID");
    is_int(GPX(named(&ev, " ")), STATSIG_SINK_OK,
           "name of spaces: Gainsight takes it as it is");

    /* Gainsight: 2000 UTF-16 units */
    name.len = 0;
    rep(&name, "g", 2000);
    is_int(GPX(named(&ev, cstr(&name))), STATSIG_SINK_OK, "gpx name 2000: OK");
    j = body_json();
    is_str(jstr(j, "eventName"), cstr(&name), "gpx name 2000: kept");
    json_decref(j);

    name.len = 1999;
    statsig_buf_adds(&name, "\xf0\x9f\x98\x80");       /* two units */
    is_int(GPX(named(&ev, cstr(&name))), STATSIG_SINK_OK,
           "gpx name 1999+2: OK");
    j = body_json();
    name.len = 1999;
    is_str(jstr(j, "eventName"), cstr(&name),
           "gpx name 1999+2 units: cut before the surrogate pair");
    is_int(F.name_cut, 1, "gpx name cut: f->name_cut");
    json_decref(j);

    name.len = 0;
    rep(&name, "e", 1);
    for (int k = 0; k < 999; k++) {
        statsig_buf_adds(&name, "\xc3\xa9");            /* one unit each */
    }

    is_int(GPX(named(&ev, cstr(&name))), STATSIG_SINK_OK, "gpx 1000 chars: OK");
    j = body_json();
    is_str(jstr(j, "eventName"), cstr(&name),
           "gpx name of 1000 characters, 1999 bytes: kept");
    json_decref(j);

    statsig_buf_free(&ev);
    statsig_buf_free(&name);
}


static void
test_data_limit(void)
{
    statsig_buf_t  ev;
    json_t        *j;
    size_t         n;

    statsig_buf_init(&ev);
    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    /* data {"k":"x...x"} is n + 8 bytes */
    for (n = 99991; n <= 99993; n++) {
        ev.len = 0;
        statsig_buf_adds(&ev, "{\"eventName\":\"big\",\"metadata\":{\"k\":\"");
        rep(&ev, "x", n);
        statsig_buf_adds(&ev, "\"},\"user\":{\"userID\":\"u\"}}");

        reset_out();
        statsig_buf_adds(&B, "pre");
        err[0] = '\0';

        if (n + 8 <= STATSIG_SINK_CIO_DATA_MAX) {
            is_int(statsig_sink_customerio_v1(&F, ev.data, ev.len, &O, &P,
                                              &B, err, sizeof(err)),
                   STATSIG_SINK_OK, "data of %zu bytes: OK", n + 8);
            j = json_loadb(B.data + 3, B.len - 3, 0, NULL);
            is_int(json_string_length(jget(j, "data.k")), n,
                   "data of %zu bytes: all there", n + 8);
            json_decref(j);

        } else {
            is_int(statsig_sink_customerio_v1(&F, ev.data, ev.len, &O, &P,
                                              &B, err, sizeof(err)),
                   STATSIG_SINK_INVALID, "data of %zu bytes: INVALID",
                   n + 8);
            ok(strstr(err, "100001 bytes") != NULL, "data: err (%s)", err);
            ok(B.len == 3 && P.len == 0, "data INVALID: buffers as they were");
        }
    }

    statsig_buf_free(&ev);
}


static void
test_id_limit(void)
{
    statsig_buf_t  ev;
    size_t         n;

    statsig_buf_init(&ev);
    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    for (n = 150; n <= 151; n++) {
        ev.len = 0;
        statsig_buf_adds(&ev, "{\"eventName\":\"e\",\"user\":{\"userID\":\"");
        rep(&ev, "i", n);
        statsig_buf_adds(&ev, "\"}}");

        is_int(v1(ev.data, ev.len),
               n <= 150 ? STATSIG_SINK_OK : STATSIG_SINK_INVALID,
               "v1 userID of %zu bytes", n);
        is_int(v2(ev.data, ev.len),
               n <= 150 ? STATSIG_SINK_OK : STATSIG_SINK_INVALID,
               "v2 userID of %zu bytes", n);
        is_int(gpx(ev.data, ev.len), STATSIG_SINK_OK,
               "gainsight userID of %zu bytes: no such limit", n);
    }

    statsig_buf_free(&ev);
}


static void
test_invalid(void)
{
    static const char  *bad[] = {
        "", "{", "not json", "[]", "[{\"eventName\":\"x\"}]", "\"s\"", "1",
        "{}", "{\"eventName\":\"\"}", "{\"eventName\":5}",
        "{\"eventName\":null}", "{\"eventName\":\"x\"} trailing",
        "{\"eventName\":\"x\",}", "{\"eventName\":\"\\ud800\"}",
        "{\"eventName\":\"\xff\"}",
    };
    size_t  i;

    O.events = STATSIG_SINK_EVENTS_ALL;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reset_out();
        statsig_buf_adds(&B, "b");
        err[0] = '\0';
        is_int(statsig_sink_customerio_v1(&F, bad[i], strlen(bad[i]), &O,
                                          &P, &B, err, sizeof(err)),
               STATSIG_SINK_INVALID, "invalid %zu v1 (%s)", i, err);
        ok(B.len == 1 && P.len == 0, "invalid %zu: nothing written", i);
        is_int(V2(bad[i]), STATSIG_SINK_INVALID, "invalid %zu v2", i);
        is_int(GPX(bad[i]), STATSIG_SINK_INVALID, "invalid %zu gainsight",
               i);
    }

    is_int(v1("{\"eventName\":\"x\"}", 5), STATSIG_SINK_INVALID,
           "a cut text: INVALID");
    is_int(v1(NULL, 0), STATSIG_SINK_INVALID, "no text: INVALID");
}


/* ---- exposures from the real writer ---- */

static const char  dcs[] =
    "{\"has_updates\":true,\"time\":1000,"
    "\"feature_gates\":[{\"name\":\"g\",\"type\":\"feature_gate\","
    "\"salt\":\"s\",\"enabled\":true,\"defaultValue\":false,"
    "\"idType\":\"userID\",\"entity\":\"feature_gate\",\"version\":2,"
    "\"rules\":[{\"id\":\"r1\",\"passPercentage\":100,\"returnValue\":true,"
    "\"conditions\":[{\"type\":\"public\"}]}]}],"
    "\"dynamic_configs\":["
    "{\"name\":\"c\",\"type\":\"dynamic_config\",\"entity\":"
    "\"dynamic_config\",\"salt\":\"c\",\"enabled\":true,\"version\":7,"
    "\"defaultValue\":{\"a\":1},\"idType\":\"userID\",\"rules\":[{\"id\":"
    "\"rc\",\"salt\":\"rc\",\"passPercentage\":100,\"conditions\":[{\"type\":"
    "\"public\"}],\"returnValue\":{\"a\":2},\"idType\":\"userID\"}]},"
    "{\"name\":\"exp\",\"type\":\"dynamic_config\",\"entity\":\"experiment\","
    "\"salt\":\"exp\",\"enabled\":true,\"isActive\":true,"
    "\"hasSharedParams\":true,\"explicitParameters\":[\"p\"],"
    "\"defaultValue\":{\"p\":\"d\",\"q\":\"dq\"},\"idType\":\"userID\","
    "\"rules\":[{\"id\":\"grp\",\"salt\":\"grp\",\"groupName\":\"Test\","
    "\"isExperimentGroup\":true,\"passPercentage\":100,\"conditions\":"
    "[{\"type\":\"public\"}],\"returnValue\":{\"p\":\"t\",\"q\":\"tq\"},"
    "\"idType\":\"userID\"}]}],"
    "\"layer_configs\":[{\"name\":\"lay\",\"type\":\"dynamic_config\","
    "\"entity\":\"layer\",\"salt\":\"lay\",\"enabled\":true,"
    "\"defaultValue\":{\"p\":\"ld\",\"q\":\"lq\"},\"idType\":\"userID\","
    "\"rules\":[{\"id\":\"alloc\",\"salt\":\"alloc\",\"passPercentage\":100,"
    "\"configDelegate\":\"exp\",\"conditions\":[{\"type\":\"public\"}],"
    "\"returnValue\":{\"p\":\"lr\",\"q\":\"lrq\"},\"idType\":\"userID\"}]}],"
    "\"layers\":{\"lay\":[\"exp\"]}}";


/* the user value's blocks, freed when the events are written */
static void   *blocks[256];
static size_t  nblocks;

static void *
test_alloc(void *data, size_t size)
{
    void  *p;

    (void) data;

    if (nblocks == sizeof(blocks) / sizeof(blocks[0])) {
        return NULL;
    }

    p = calloc(1, size ? size : 1);
    if (p != NULL) {
        blocks[nblocks++] = p;
    }

    return p;
}


/* events[0..4]: gate, config, layer p (explicit), layer q, custom */
static int
write_events(statsig_buf_t ev[5], const char *user_json)
{
    statsig_alloc_t          a = { test_alloc, NULL };
    statsig_value_t          user;
    statsig_eval_ctx_t       ctx;
    statsig_exposure_opts_t  o;
    statsig_result_t         r;
    statsig_event_value_t    v;
    statsig_str_t            mk[2], mv[2];
    char                     e[256];
    void                    *blob;
    size_t                   size;
    int                      rc;

    blob = statsig_compile(dcs, sizeof(dcs) - 1, &size, e, sizeof(e));
    if (blob == NULL) {
        printf("# compile: %s\n", e);
        return -1;
    }

    if (statsig_value_from_json(&a, user_json, strlen(user_json), &user, e,
                                sizeof(e)) != 0)
    {
        printf("# user: %s\n", e);
        free(blob);
        while (nblocks > 0) {
            free(blocks[--nblocks]);
        }

        return -1;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.snap = statsig_snapshot_open(blob, size);
    ctx.rt = statsig_runtime_create(e, sizeof(e));
    ctx.user = &user;

    memset(&o, 0, sizeof(o));
    o.ctx = &ctx;
    o.time = 1730000000123.0;
    o.config_sync_time = 1000;
    o.init_time = 1000;
    o.server_time = 1730000000000.0;

    rc = 0;

    statsig_eval_begin(&ctx);
    statsig_eval_gate(&ctx, "g", 1, &r);
    rc |= statsig_exposure_gate(&ev[0], &o, "g", 1, &r) != 1;

    statsig_eval_begin(&ctx);
    statsig_eval_config(&ctx, "c", 1, &r);
    rc |= statsig_exposure_config(&ev[1], &o, "c", 1, &r) != 1;

    statsig_eval_begin(&ctx);
    statsig_eval_layer(&ctx, "lay", 3, &r);
    rc |= statsig_exposure_layer(&ev[2], &o, "lay", 3, &r, "p", 1) != 1;
    rc |= statsig_exposure_layer(&ev[3], &o, "lay", 3, &r, "q", 1) != 1;

    v.type = STATSIG_EVENT_VALUE_NUMBER;
    v.num = 9.99;
    mk[0].data = "sku";
    mk[0].len = 3;
    mv[0].data = "A1";
    mv[0].len = 2;
    mk[1].data = "recipient";
    mk[1].len = 9;
    mv[1].data = "evil@example.com";
    mv[1].len = 16;
    rc |= statsig_event_custom(&ev[4], &o, "checkout", 8, &v, mk, mv, 2) != 1;

    statsig_runtime_free(ctx.rt);
    free(blob);

    while (nblocks > 0) {
        free(blocks[--nblocks]);
    }

    return rc ? -1 : 0;
}


static void
test_exposures(void)
{
    static const char  *user_json =
        "{\"userID\":\"u1\",\"email\":\"mail@example.com\","
        "\"customIDs\":{\"stableID\":\"st-1\",\"accountID\":\"acct-9\"},"
        "\"privateAttributes\":{\"secret\":\"PRIVATE-XYZ\"}}";
    static const char  *names[] = {
        "statsig_gate_exposure", "statsig_config_exposure",
        "statsig_layer_exposure", "statsig_layer_exposure", "checkout"
    };
    static const char  *data[] = {
        "{\"gate\":\"g\",\"value\":true,\"rule\":\"r1\",\"version\":\"2\","
        "\"reason\":\"Network\"}",
        "{\"config\":\"c\",\"rule\":\"rc\",\"passed\":true,\"version\":\"7\","
        "\"reason\":\"Network\"}",
        "{\"layer\":\"lay\",\"parameter\":\"p\",\"rule\":\"grp\","
        "\"experiment\":\"exp\",\"explicit\":true,\"reason\":\"Network\"}",
        "{\"layer\":\"lay\",\"parameter\":\"q\",\"rule\":\"grp\","
        "\"explicit\":false,\"reason\":\"Network\"}",
        "{\"value\":9.99,\"sku\":\"A1\"}",
    };
    static const int  kinds[] = {
        STATSIG_SINK_KIND_GATE, STATSIG_SINK_KIND_CONFIG,
        STATSIG_SINK_KIND_LAYER, STATSIG_SINK_KIND_LAYER,
        STATSIG_SINK_KIND_CUSTOM
    };
    statsig_buf_t  ev[5];
    json_t        *j;
    size_t         i;
    int            expo;

    for (i = 0; i < 5; i++) {
        statsig_buf_init(&ev[i]);
    }

    if (write_events(ev, user_json) != 0) {
        ok(0, "exposures: the writer wrote them");
        return;
    }

    ok(strstr(cstr(&ev[2]), "\"allocatedExperiment\":\"exp\"") != NULL
       && strstr(cstr(&ev[3]), "\"allocatedExperiment\":\"\"") != NULL,
       "exposures: the layer's explicit and other parameter");

    for (i = 0; i < 5; i++) {
        expo = (i < 4);

        O.events = expo ? STATSIG_SINK_EVENTS_CUSTOM
                        : STATSIG_SINK_EVENTS_EXPOSURES;
        is_int(v1(ev[i].data, ev[i].len), STATSIG_SINK_SKIP,
               "event %zu: v1 SKIP when the sink does not take it", i);
        is_int(F.kind, kinds[i], "event %zu: kind read anyway", i);
        is_int(v2(ev[i].data, ev[i].len), STATSIG_SINK_SKIP,
               "event %zu: v2 SKIP too", i);
        is_int(gpx(ev[i].data, ev[i].len), STATSIG_SINK_SKIP,
               "event %zu: gainsight SKIP too", i);

        O.events = expo ? STATSIG_SINK_EVENTS_EXPOSURES
                        : STATSIG_SINK_EVENTS_CUSTOM;

        is_int(v1(ev[i].data, ev[i].len), STATSIG_SINK_OK, "event %zu: v1",
               i);
        j = body_json();
        ok(jeq(j, fmt("{\"name\":\"%s\",\"id\":\"%s\",\"timestamp\":"
                      "1730000000,\"data\":%s}", names[i], F.id, data[i])),
           "event %zu: v1 body", i);
        is_str(cstr(&P), "/customers/u1/events", "event %zu: v1 path", i);
        ok(strstr(cstr(&B), "PRIVATE") == NULL
           && strstr(cstr(&B), "mail@") == NULL
           && strstr(cstr(&B), "evil@") == NULL
           && strstr(cstr(&B), "configSyncTime") == NULL,
           "event %zu: nothing private, no recipient, no Statsig times", i);
        json_decref(j);

        O.events = STATSIG_SINK_EVENTS_ALL;

        is_int(v2(ev[i].data, ev[i].len), STATSIG_SINK_OK, "event %zu: v2",
               i);
        j = body_json();
        ok(jeq(j, fmt("{\"type\":\"person\",\"identifiers\":{\"id\":\"u1\"},"
                      "\"action\":\"event\",\"id\":\"%s\",\"name\":\"%s\","
                      "\"timestamp\":1730000000,\"attributes\":%s}", F.id,
                      names[i], data[i])), "event %zu: v2 item", i);
        json_decref(j);

        is_int(gpx(ev[i].data, ev[i].len), STATSIG_SINK_OK,
               "event %zu: gainsight", i);
        j = body_json();
        ok(jeq(j, fmt("{\"eventName\":\"%s\",\"identifyId\":\"u1\","
                      "\"propertyKey\":\"AP-TEST-2\",\"userType\":\"USER\","
                      "\"date\":1730000000123,\"accountId\":\"acct-9\","
                      "\"attributes\":%s}", names[i],
                      expo ? data[i]
                           : "{\"value\":9.99,\"sku\":\"A1\","
                             "\"recipient\":\"evil@example.com\"}")),
           "event %zu: gainsight body", i);
        ok(strstr(cstr(&B), "PRIVATE") == NULL
           && strstr(cstr(&B), "mail@") == NULL,
           "event %zu: gainsight: nothing private", i);
        json_decref(j);
    }

    /* another statsig:: event, and odd exposure metadata (relayed) */
    O.events = STATSIG_SINK_EVENTS_ALL;
    is_int(V1("{\"eventName\":\"statsig::diagnostics\",\"user\":{\"userID\":"
              "\"u\"}}"), STATSIG_SINK_SKIP, "statsig::diagnostics: SKIP");
    is_int(F.kind, STATSIG_SINK_KIND_INTERNAL, "statsig::diagnostics: kind");
    is_int(GPX("{\"eventName\":\"statsig::\",\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_SKIP, "statsig:: alone: SKIP");
    is_int(V1("{\"eventName\":\"statsig:\",\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "statsig: (one colon) is a custom name");

    is_int(V1("{\"eventName\":\"statsig::gate_exposure\",\"value\":1,"
              "\"metadata\":{\"gate\":5,\"gateValue\":false,\"ruleID\":null,"
              "\"reason\":\"x\",\"extra\":\"e\"},\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "odd gate exposure: OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{\"value\":false,\"reason\":\"x\"}"),
       "odd gate exposure: only values of the expected types");
    json_decref(j);

    is_int(V1("{\"eventName\":\"statsig::config_exposure\",\"metadata\":{"
              "\"config\":\"c\",\"rulePassed\":\"maybe\"},\"user\":{\"userID\":"
              "\"u\"}}"), STATSIG_SINK_OK, "odd config exposure: OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{\"config\":\"c\",\"passed\":\"maybe\"}"),
       "odd config exposure: another string stays a string");
    json_decref(j);

    is_int(V1("{\"eventName\":\"statsig::layer_exposure\",\"metadata\":7,"
              "\"user\":{\"userID\":\"u\"}}"), STATSIG_SINK_OK,
           "layer exposure without metadata: OK");
    j = body_json();
    ok(jeq(jget(j, "data"), "{}"), "layer exposure without metadata: {}");
    json_decref(j);

    for (i = 0; i < 5; i++) {
        statsig_buf_free(&ev[i]);
    }
}


/* ---- Customer.io v2 ---- */

static void
test_v2(void)
{
    static const char  one[] = "{\"eventName\":\"one\",\"user\":{\"userID\":"
                               "\"a\"}}";
    static const char  two[] = "{\"eventName\":\"two\",\"user\":{\"userID\":"
                               "\"b\"}}";
    statsig_buf_t  ev, batch;
    json_t        *j;
    size_t         n, len;
    int            rc;

    statsig_buf_init(&ev);
    statsig_buf_init(&batch);
    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    is_int(V2("{\"eventName\":\"a\",\"user\":{\"customIDs\":{\"stableID\":"
              "\"s\"}}}"), STATSIG_SINK_SKIP, "v2 anonymous: SKIP");
    is_int(F.route, STATSIG_SINK_ROUTE_ANONYMOUS,
           "v2 anonymous: route says v1 takes it");
    ok(strstr(err, "v1") != NULL, "v2 anonymous: err (%s)", err);
    is_int(V2("{\"eventName\":\"a\",\"user\":{}}"), STATSIG_SINK_SKIP,
           "v2 no identity: SKIP");
    is_int(F.route, STATSIG_SINK_ROUTE_NONE, "v2 no identity: route none");

    /* the item limit: find the padding that makes it exactly the limit */
    ev.len = 0;
    statsig_buf_adds(&ev, "{\"eventName\":\"big\",\"time\":1,\"metadata\":"
                     "{\"k\":\"\"},\"user\":{\"userID\":\"u\"}}");
    is_int(v2(ev.data, ev.len), STATSIG_SINK_OK, "v2 small item: OK");
    len = B.len;

    for (n = STATSIG_SINK_CIO_V2_ITEM_MAX - len;
         n <= STATSIG_SINK_CIO_V2_ITEM_MAX - len + 1; n++)
    {
        ev.len = 0;
        statsig_buf_adds(&ev, "{\"eventName\":\"big\",\"time\":1,\"metadata\":"
                         "{\"k\":\"");
        rep(&ev, "x", n);
        statsig_buf_adds(&ev, "\"},\"user\":{\"userID\":\"u\"}}");

        reset_out();
        statsig_buf_adds(&B, "[");
        rc = statsig_sink_customerio_v2_item(&F, ev.data, ev.len, &O, &B,
                                             err, sizeof(err));

        if (len + n <= STATSIG_SINK_CIO_V2_ITEM_MAX) {
            is_int(rc, STATSIG_SINK_OK, "v2 item of %zu bytes: OK", len + n);
            is_int(B.len - 1, STATSIG_SINK_CIO_V2_ITEM_MAX,
                   "v2 item: exactly the limit");

        } else {
            is_int(rc, STATSIG_SINK_INVALID, "v2 item of %zu bytes: INVALID",
                   len + n);
            is_int(B.len, 1, "v2 item INVALID: the buffer as it was");
            ok(strstr(err, "32001 bytes") != NULL, "v2 item: err (%s)", err);
        }
    }

    /* a whole batch body of two items */
    batch.len = 0;
    statsig_buf_adds(&batch, STATSIG_SINK_CIO_V2_PREFIX);
    rc = statsig_sink_customerio_v2_item(&F, one, strlen(one), &O, &batch,
                                         err, sizeof(err));
    statsig_buf_addc(&batch, ',');
    rc |= statsig_sink_customerio_v2_item(&F, two, strlen(two), &O, &batch,
                                          err, sizeof(err));
    statsig_buf_adds(&batch, STATSIG_SINK_CIO_V2_SUFFIX);
    is_int(rc, STATSIG_SINK_OK, "v2 batch: two items");
    j = json_loadb(batch.data, batch.len, 0, NULL);
    ok(json_array_size(json_object_get(j, "batch")) == 2
       && strcmp(json_string_value(json_object_get(json_array_get(
                 json_object_get(j, "batch"), 1), "name")), "two") == 0,
       "v2 batch: prefix, items, suffix parse");
    json_decref(j);

    statsig_buf_free(&ev);
    statsig_buf_free(&batch);
}


/* ---- Gainsight PX ---- */

static void
test_gainsight(void)
{
    statsig_buf_t  ev, key;
    json_t        *j;
    size_t         i, n;
    int            with_value;

    statsig_buf_init(&ev);
    statsig_buf_init(&key);
    O.events = STATSIG_SINK_EVENTS_CUSTOM;

    is_int(GPX("{\"eventName\":\"e\",\"value\":\"v\",\"metadata\":{"
               "\"o\":{\"a\":[1,2]},\"arr\":[\"x\",null],\"z\":null,"
               "\"t\":true,\"n\":-1.5,\"s\":\"str\"},\"time\":5,"
               "\"user\":{\"userID\":\"u\\\"1\",\"customIDs\":{"
               "\"accountID\":77}}}"),
           STATSIG_SINK_OK, "gainsight: OK");
    j = body_json();
    ok(jeq(j, "{\"eventName\":\"e\",\"identifyId\":\"u\\\"1\","
              "\"propertyKey\":\"AP-TEST-2\",\"userType\":\"USER\","
              "\"date\":5,\"accountId\":\"77\",\"attributes\":{"
              "\"value\":\"v\",\"o\":\"{\\\"a\\\":[1,2]}\","
              "\"arr\":\"[\\\"x\\\",null]\",\"t\":true,\"n\":-1.5,"
              "\"s\":\"str\"}}"),
       "gainsight: nested values as JSON text, null left out");
    is_int(F.dropped, 1, "gainsight: the null counted");
    ok(strncmp(cstr(&B), "{\"eventName\":\"e\",\"identifyId\":", 30) == 0,
       "gainsight: field order");
    json_decref(j);

    is_int(GPX("{\"eventName\":\"e\",\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_OK, "gainsight without accountID: OK");
    j = body_json();
    ok(jget(j, "accountId") == NULL && jeq(jget(j, "attributes"), "{}"),
       "gainsight without accountID: no accountId, empty attributes");
    json_decref(j);

    O.account_id_key = "company ID";
    O.account_id_key_len = 10;
    is_int(GPX("{\"eventName\":\"e\",\"user\":{\"userID\":\"u\",\"customIDs\":"
               "{\"accountID\":\"no\",\"company ID\":\"co\"}}}"),
           STATSIG_SINK_OK, "gainsight, another account key: OK");
    j = body_json();
    is_str(jstr(j, "accountId"), "co", "gainsight: account key chosen");
    json_decref(j);
    O.account_id_key = NULL;
    O.account_id_key_len = 0;

    is_int(GPX("{\"eventName\":\"e\",\"user\":{\"customIDs\":{\"stableID\":"
               "\"s\"}}}"), STATSIG_SINK_SKIP, "gainsight anonymous: SKIP");
    is_int(GPX("{\"eventName\":\"e\",\"user\":{\"userID\":\"\"}}"),
           STATSIG_SINK_SKIP, "gainsight empty userID: SKIP");

    O.product_key = NULL;
    is_int(GPX("{\"eventName\":\"e\",\"user\":{\"userID\":\"u\"}}"),
           STATSIG_SINK_INVALID, "gainsight without product key: INVALID");
    O.product_key = "AP-TEST-2";

    /* 50 attributes; with the value first */
    for (with_value = 0; with_value <= 1; with_value++) {
        for (n = 50; n <= 51; n++) {
            ev.len = 0;
            statsig_buf_adds(&ev, "{\"eventName\":\"many\",");
            if (with_value) {
                statsig_buf_adds(&ev, "\"value\":0,");
            }

            statsig_buf_adds(&ev, "\"metadata\":{");
            for (i = 0; i < n; i++) {
                statsig_buf_adds(&ev, fmt("%s\"k%zu\":\"%zu\"", i ? "," : "",
                                          i, i));
            }

            statsig_buf_adds(&ev, "},\"user\":{\"userID\":\"u\"}}");

            is_int(gpx(ev.data, ev.len), STATSIG_SINK_OK,
                   "gainsight %zu keys%s: OK", n,
                   with_value ? " and a value" : "");
            j = body_json();
            is_int(json_object_size(jget(j, "attributes")), 50,
                   "gainsight %zu keys%s: 50 attributes", n,
                   with_value ? " and a value" : "");
            is_int(F.dropped, n + with_value - 50,
                   "gainsight %zu keys%s: dropped counted", n,
                   with_value ? " and a value" : "");
            ok(jget(j, "attributes.k0") != NULL
               && (with_value ? jget(j, "attributes.value") != NULL
                              : jget(j, "attributes.k49") != NULL)
               && jget(j, "attributes.k50") == NULL,
               "gainsight %zu keys%s: the first ones kept", n,
               with_value ? " and a value" : "");
            json_decref(j);

            /* Customer.io has no such count limit */
            is_int(v1(ev.data, ev.len), STATSIG_SINK_OK, "v1 %zu keys", n);
            j = body_json();
            is_int(json_object_size(jget(j, "data")), n + with_value,
                   "v1 %zu keys: all", n);
            json_decref(j);
        }
    }

    /* keys of 1024 and 1025 UTF-16 units (é: one unit, two bytes) */
    for (n = 1024; n <= 1025; n++) {
        key.len = 0;
        rep(&key, "k", 2);
        for (i = 2; i < n; i++) {
            statsig_buf_adds(&key, "\xc3\xa9");
        }

        ev.len = 0;
        statsig_buf_adds(&ev, "{\"eventName\":\"e\",\"metadata\":{\"");
        statsig_buf_add(&ev, key.data, key.len);
        statsig_buf_adds(&ev, "\":1},\"user\":{\"userID\":\"u\"}}");

        is_int(gpx(ev.data, ev.len), STATSIG_SINK_OK, "gpx key %zu: OK", n);
        j = body_json();
        is_int(json_object_size(jget(j, "attributes")), n <= 1024 ? 1 : 0,
               "gpx key of %zu units (%zu bytes): %s", n, key.len,
               n <= 1024 ? "kept" : "left out");
        json_decref(j);
    }

    statsig_buf_free(&ev);
    statsig_buf_free(&key);
}


/* ---- the 207 answer ---- */

static void
test_207(void)
{
    static const char  good[] =
        "{\"errors\":[{\"batch_index\":2,\"reason\":\"invalid\",\"field\":"
        "\"name\",\"message\":\"too long\"},{\"batch_index\":0,\"reason\":"
        "\"x\\ny\"},{\"batch_index\":2,\"reason\":\"again\"},"
        "{\"batch_index\":1.0,\"message\":\"only a message\"},"
        "{\"batch_index\":3}]}";
    static const char  *bad[] = {
        "", "not json", "[]", "{}", "{\"errors\":null}", "{\"errors\":{}}",
        "{\"errors\":[1]}", "{\"errors\":[{}]}",
        "{\"errors\":[{\"batch_index\":\"1\"}]}",
        "{\"errors\":[{\"batch_index\":1.5}]}",
        "{\"errors\":[{\"batch_index\":-1}]}",
        "{\"errors\":[{\"batch_index\":4}]}",
        "{\"errors\":[{\"batch_index\":1e300}]}",
        "{\"errors\":[{\"batch_index\":0},{\"batch_index\":9}]}",
    };
    static const char  one_err[] = "{\"errors\":[{\"batch_index\":0}]}";
    statsig_sink_cio_failure_t  out[4];
    statsig_buf_t               body;
    size_t                      n, i;

    statsig_buf_init(&body);

    is_int(statsig_sink_customerio_v2_failures(&F, good, sizeof(good) - 1, 4,
                                               out, 4, &n, err, sizeof(err)),
           STATSIG_SINK_OK, "207: OK");
    is_int(n, 4, "207: four distinct items");
    is_int(out[0].index, 2, "207: first index");
    is_str(out[0].reason, "invalid: name: too long", "207: first reason");
    is_int(out[1].index, 0, "207: second index");
    is_str(out[1].reason, "x y", "207: control characters as spaces");
    is_int(out[2].index, 1, "207: 1.0 is an integer");
    is_str(out[2].reason, "only a message", "207: the parts present");
    is_int(out[3].index, 3, "207: last index");
    is_str(out[3].reason, "", "207: no reason at all");

    is_int(statsig_sink_customerio_v2_failures(&F, good, sizeof(good) - 1, 4,
                                               out, 1, &n, err, sizeof(err)),
           STATSIG_SINK_OK, "207, room for one: OK");
    is_int(n, 4, "207, room for one: all counted");
    is_int(out[0].index, 2, "207, room for one: the first");

    is_int(statsig_sink_customerio_v2_failures(&F, "{\"errors\":[]}", 13, 4,
                                               out, 4, &n, err, sizeof(err)),
           STATSIG_SINK_OK, "207 with no errors: OK");
    is_int(n, 0, "207 with no errors: none");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 99;
        err[0] = '\0';
        is_int(statsig_sink_customerio_v2_failures(&F, bad[i], strlen(bad[i]),
                                                   4, out, 4, &n, err,
                                                   sizeof(err)),
               STATSIG_SINK_INVALID, "207 bad %zu: INVALID (%s)", i, err);
        is_int(n, 0, "207 bad %zu: none", i);
    }

    is_int(statsig_sink_customerio_v2_failures(&F, one_err, strlen(one_err),
                                               0, out, 0, &n, err,
                                               sizeof(err)),
           STATSIG_SINK_INVALID, "207 for an empty batch: INVALID");

    /* a long reason: cut on a character, NUL-terminated */
    statsig_buf_adds(&body, "{\"errors\":[{\"batch_index\":0,\"reason\":\"");
    for (i = 0; i < 100; i++) {
        statsig_buf_adds(&body, "\xe2\x82\xac");
    }

    statsig_buf_adds(&body, "\",\"message\":\"m\"}]}");
    is_int(statsig_sink_customerio_v2_failures(&F, body.data, body.len, 1,
                                               out, 1, &n, err, sizeof(err)),
           STATSIG_SINK_OK, "207 long reason: OK");
    is_int(strlen(out[0].reason), 159 / 3 * 3,
           "207 long reason: whole characters within the bound");
    ok(memcmp(out[0].reason, "\xe2\x82\xac", 3) == 0,
       "207 long reason: starts with the text");

    statsig_buf_free(&body);
}


/* ---- memory ---- */

static void
test_nomem(void)
{
    static const char  ev[] =
        "{\"eventName\":\"buy\",\"value\":{\"a\":[1,2,3]},\"metadata\":{"
        "\"a\":\"1\",\"n\":{\"x\":[1,2]}},\"time\":1730000000999,"
        "\"user\":{\"userID\":\"u/1\",\"customIDs\":{\"stableID\":\"s\","
        "\"accountID\":\"acct\"}}}";
    static const char  body207[] =
        "{\"errors\":[{\"batch_index\":1,\"reason\":\"r\"}]}";
    statsig_sink_cio_failure_t  out[2];
    statsig_buf_t               want_p, want_b;
    size_t                      n;
    long                        k, total;
    int                         which, rc, good;

    statsig_buf_init(&want_p);
    statsig_buf_init(&want_b);
    O.events = STATSIG_SINK_EVENTS_ALL;

    /* a caller's buffer that failed before */
    reset_out();
    B.failed = 1;
    is_int(statsig_sink_customerio_v1(&F, ev, sizeof(ev) - 1, &O, &P, &B,
                                      err, sizeof(err)),
           STATSIG_SINK_NOMEM, "a failed body: NOMEM");
    B.failed = 0;
    P.failed = 1;
    is_int(statsig_sink_customerio_v1(&F, ev, sizeof(ev) - 1, &O, &P, &B,
                                      err, sizeof(err)),
           STATSIG_SINK_NOMEM, "a failed path: NOMEM");
    P.failed = 0;
    B.failed = 1;
    is_int(statsig_sink_customerio_v2_item(&F, ev, sizeof(ev) - 1, &O, &B,
                                           err, sizeof(err)),
           STATSIG_SINK_NOMEM, "v2: a failed item buffer: NOMEM");
    is_int(statsig_sink_gainsight_px(&F, ev, sizeof(ev) - 1, &O, &B, err,
                                     sizeof(err)),
           STATSIG_SINK_NOMEM, "gainsight: a failed body: NOMEM");
    B.failed = 0;

    /* valgrind (and any other malloc replacement) bypasses the wrapper */
    reset_out();
    allocs = 0;
    fail_in = 1000000;
    rc = statsig_sink_customerio_v1(&F, ev, sizeof(ev) - 1, &O, &P, &B, err,
                                     sizeof(err));
    fail_in = -1;

    if (allocs == 0) {
        for (which = 0; which < 4; which++) {
            ok(1, "# SKIP malloc is not the wrapper (valgrind?)");
        }

        statsig_buf_free(&want_p);
        statsig_buf_free(&want_b);
        return;
    }

    /* each allocation of each formatter fails once, from a fresh f */
    for (which = 0; which < 4; which++) {
        good = 1;
        total = 0;

        for (k = 0; k < 1000; k++) {
            statsig_sink_fmt_free(&F);
            if (statsig_sink_fmt_init(&F) != 0) {
                good = 0;
                break;
            }

            reset_out();
            allocs = 0;
            fail_in = k;

            switch (which) {
            case 0:
                rc = statsig_sink_customerio_v1(&F, ev, sizeof(ev) - 1, &O,
                                                &P, &B, err, sizeof(err));
                break;
            case 1:
                rc = statsig_sink_customerio_v2_item(&F, ev, sizeof(ev) - 1,
                                                     &O, &B, err,
                                                     sizeof(err));
                break;
            case 2:
                rc = statsig_sink_gainsight_px(&F, ev, sizeof(ev) - 1, &O,
                                               &B, err, sizeof(err));
                break;
            default:
                rc = statsig_sink_customerio_v2_failures(&F, body207,
                                                         sizeof(body207) - 1,
                                                         2, out, 2, &n, err,
                                                         sizeof(err));
            }

            if (fail_in >= 0) {
                /* no allocation failed: done */
                fail_in = -1;
                if (rc != STATSIG_SINK_OK) {
                    good = 0;
                }

                break;
            }

            total++;

            if (rc != STATSIG_SINK_NOMEM) {
                printf("# which %d, allocation %ld failed: rc %d (%s)\n",
                       which, k, rc, err);
                good = 0;
            }

            /* f and the buffers (freed) work again, the same answer */
            reset_out();
            switch (which) {
            case 0:
                rc = statsig_sink_customerio_v1(&F, ev, sizeof(ev) - 1, &O,
                                                &P, &B, err, sizeof(err));
                break;
            case 1:
                rc = statsig_sink_customerio_v2_item(&F, ev, sizeof(ev) - 1,
                                                     &O, &B, err,
                                                     sizeof(err));
                break;
            case 2:
                rc = statsig_sink_gainsight_px(&F, ev, sizeof(ev) - 1, &O,
                                               &B, err, sizeof(err));
                break;
            default:
                rc = statsig_sink_customerio_v2_failures(&F, body207,
                                                         sizeof(body207) - 1,
                                                         2, out, 2, &n, err,
                                                         sizeof(err));
                if (rc == STATSIG_SINK_OK && (n != 1 || out[0].index != 1)) {
                    good = 0;
                }
            }

            if (rc != STATSIG_SINK_OK) {
                good = 0;
            }

            if (which < 3 && !same_out(k, &want_p, &want_b)) {
                good = 0;
            }
        }

        ok(good && total > 0, "formatter %d: each of its %ld allocations "
           "fails as NOMEM, then the same output", which, total);
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

    memset(&O, 0, sizeof(O));
    O.now_ms = NOW_MS;
    O.product_key = "AP-TEST-2";
    O.product_key_len = 9;

    test_ulid();
    test_v1_routes();
    test_url_encoding();
    test_escaping();
    test_metadata_values();
    test_values();
    test_times();
    test_names();
    test_data_limit();
    test_id_limit();
    test_invalid();
    test_exposures();
    test_v2();
    test_gainsight();
    test_207();
    test_nomem();

    statsig_sink_fmt_free(&F);
    reset_out();

    return done_testing();
}
