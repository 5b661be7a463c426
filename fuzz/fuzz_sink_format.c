/*
 * libFuzzer: a queued event as Customer.io's and Gainsight PX's requests
 * (src/core/sink_format.c).
 *
 * The input is one event text.  It goes through the three formatters
 * with every kind taken, from one statsig_sink_fmt_t kept across inputs
 * (as a flusher keeps it), and what comes out is checked: an OK output
 * parses with jansson (\u0000 allowed, big integers as reals) and holds
 * what the header promises (routes, limits, id, times, attributes'
 * types and count); what the formatters found of the event (kind, time,
 * id, route) is the same for all three; formatting again gives the same
 * bytes; anything but OK leaves the buffers as they were.  Then the
 * input is read as a v2 207 answer for a batch of (size % 64) items.
 *
 * Last, the input is a relayed body: Customer.io's anonymous event, an
 * identified one (the identifier picked by size % 5, the input itself
 * among them) and Gainsight PX's custom event (with and without a
 * product key, by size parity).  An OK output parses, has only the
 * documented members in the documented order and within their rules,
 * and given back as the body (another now) gives the same bytes; a
 * refusal writes nothing and its reason is short, without control
 * characters.
 */

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_format.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static statsig_sink_fmt_t  fz_f;
static int                 fz_ready;


static void
fz_fail(const char *what, const char *why)
{
    fprintf(stderr, "fuzz_sink_format: %s%s%s\n", what, why ? ": " : "",
            why ? why : "");
    abort();
}


static json_t *
fz_json(const statsig_buf_t *b, size_t from)
{
    json_error_t  je;
    json_t       *j;

    j = json_loadb(b->data + from, b->len - from,
                   JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    if (!json_is_object(j)) {
        fprintf(stderr, "%.*s\n", (int) (b->len - from), b->data + from);
        fz_fail("an OK output is not a JSON object", je.text);
    }

    return j;
}


static int
fz_is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}


/* the id and time fields every Customer.io output has */
static void
fz_check_cio(json_t *j, const char *name_key, const char *time_key)
{
    json_t       *id, *name, *ts;
    const char   *s;
    size_t        n;

    id = json_object_get(j, "id");
    if (!json_is_string(id) || json_string_length(id) != STATSIG_ULID_LEN
        || strspn(json_string_value(id), "0123456789ABCDEFGHJKMNPQRSTVWXYZ")
           != STATSIG_ULID_LEN
        || strcmp(json_string_value(id), fz_f.id) != 0)
    {
        fz_fail("the id is not f->id as a ULID", NULL);
    }

    name = json_object_get(j, name_key);
    s = json_string_value(name);
    n = json_string_length(name);
    if (s == NULL || n == 0 || n > STATSIG_SINK_CIO_NAME_MAX
        || fz_is_space(s[0]) || fz_is_space(s[n - 1]))
    {
        fz_fail("a Customer.io name empty, long or not trimmed", NULL);
    }

    ts = json_object_get(j, time_key);
    if (!json_is_number(ts)
        || json_number_value(ts) != (double) (fz_f.time_ms / 1000))
    {
        fz_fail("the timestamp is not f->time_ms in seconds", NULL);
    }
}


static int
fz_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}


static void
fz_check_path(const statsig_buf_t *p)
{
    size_t  i, end;
    char    c;

    if (p->len == 7 && memcmp(p->data, "/events", 7) == 0) {
        if (fz_f.route != STATSIG_SINK_ROUTE_ANONYMOUS) {
            fz_fail("/events for an identified event", NULL);
        }

        return;
    }

    if (fz_f.route != STATSIG_SINK_ROUTE_IDENTIFIED || p->len < 19
        || memcmp(p->data, "/customers/", 11) != 0
        || memcmp(p->data + p->len - 7, "/events", 7) != 0)
    {
        fz_fail("a v1 path of another shape", NULL);
    }

    end = p->len - 7;

    for (i = 11; i < end; i++) {
        c = p->data[i];

        if (c == '%') {
            if (i + 2 >= end || !fz_is_hex(p->data[i + 1])
                || !fz_is_hex(p->data[i + 2]))
            {
                fz_fail("a bad escape in the path", NULL);
            }

            i += 2;
            continue;
        }

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
              || c == '~'))
        {
            fz_fail("a reserved byte left in the path", NULL);
        }
    }
}


/* what one formatter found must be what the first one found */
typedef struct {
    int      kind;
    int      route;
    int64_t  time_ms;
    char     id[STATSIG_ULID_LEN + 1];
} fz_found_t;


static void
fz_same(const fz_found_t *a, int route_too)
{
    if (a->kind != fz_f.kind || a->time_ms != fz_f.time_ms
        || strcmp(a->id, fz_f.id) != 0
        || (route_too && a->route != fz_f.route))
    {
        fz_fail("the formatters read the event differently", NULL);
    }
}


/* ---- relay surfaces ---- */

#define FZ_NOW  1700000000456LL

/* the object's keys, each in order, each one of known (NULL-ended) */
static void
fz_check_keys(json_t *j, const char *const *known, const char *who)
{
    const char  *key;
    json_t      *v;
    size_t       at, k;

    at = 0;

    json_object_foreach(j, key, v) {
        (void) v;

        for (k = at; known[k] != NULL; k++) {
            if (strcmp(known[k], key) == 0) {
                break;
            }
        }

        if (known[k] == NULL) {
            fprintf(stderr, "key %s\n", key);
            fz_fail(who, "a member not documented or out of order");
        }

        at = k + 1;
    }
}


static void
fz_check_reason(const char *err, const char *who)
{
    size_t  i, n;

    n = strlen(err);
    if (n == 0 || n > STATSIG_SINK_RELAY_REASON_MAX) {
        fz_fail(who, "a reason empty or too long");
    }

    for (i = 0; i < n; i++) {
        if ((unsigned char) err[i] < 0x20 || err[i] == 0x7F) {
            fz_fail(who, "a control character in a reason");
        }
    }
}


/* an integer in [0, 2^53) (the output is read with reals for integers) */
static int
fz_is_int(json_t *v)
{
    double  d;

    if (!json_is_number(v)) {
        return 0;
    }

    d = json_number_value(v);

    return d >= 0 && d <= 9007199254740991.0 && d == (double) (int64_t) d;
}


static void
fz_relay_cio(const char *ev, size_t size, const char *id, size_t id_len)
{
    static const char *const  known[] = {
        "name", "anonymous_id", "type", "id", "timestamp", "data", NULL
    };
    statsig_buf_t  path, body, p2, b2;
    const char    *s;
    json_t        *j, *v;
    char           err[256], *text;
    size_t         n;
    int            rc;

    statsig_buf_init(&path);
    statsig_buf_init(&body);
    statsig_buf_init(&p2);
    statsig_buf_init(&b2);
    statsig_buf_add(&path, "/p", 2);
    statsig_buf_add(&body, "[", 1);

    err[0] = '\0';
    rc = statsig_relay_customerio(&fz_f, id, id_len, ev, size, FZ_NOW,
                                  &path, &body, err, sizeof(err));

    if (rc == STATSIG_SINK_NOMEM) {
        fz_fail("out of memory", NULL);
    }

    if (rc != STATSIG_SINK_OK) {
        if (rc != STATSIG_SINK_INVALID || path.len != 2 || body.len != 1) {
            fz_fail("relay cio: a refusal that is not INVALID or wrote", err);
        }

        fz_check_reason(err, "relay cio");
        goto done;
    }

    if (fz_f.route != (id ? STATSIG_SINK_ROUTE_IDENTIFIED
                          : STATSIG_SINK_ROUTE_ANONYMOUS))
    {
        fz_fail("relay cio: f->route", NULL);
    }

    memmove(path.data, path.data + 2, path.len - 2);
    path.len -= 2;
    fz_check_path(&path);

    j = fz_json(&body, 1);
    fz_check_keys(j, known, "relay cio");

    v = json_object_get(j, "name");
    s = json_string_value(v);
    n = json_string_length(v);
    if (s == NULL || n == 0 || n > STATSIG_SINK_CIO_NAME_MAX
        || fz_is_space(s[0]) || fz_is_space(s[n - 1]))
    {
        fz_fail("relay cio: a name empty, long or not trimmed", NULL);
    }

    v = json_object_get(j, "id");
    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > STATSIG_SINK_CIO_EVENT_ID_MAX
        || (fz_f.id[0] != '\0' && strcmp(json_string_value(v), fz_f.id)))
    {
        fz_fail("relay cio: the id", NULL);
    }

    v = json_object_get(j, "timestamp");
    if (!fz_is_int(v)
        || json_number_value(v) * 1000 != (double) fz_f.time_ms)
    {
        fz_fail("relay cio: the timestamp", NULL);
    }

    v = json_object_get(j, "type");
    s = json_string_value(v);
    if (v != NULL && (s == NULL || (strcmp(s, "event") && strcmp(s, "page")
                                    && strcmp(s, "screen"))))
    {
        fz_fail("relay cio: the type", NULL);
    }

    v = json_object_get(j, "anonymous_id");
    if (v != NULL && (id != NULL || json_string_length(v) == 0
                      || json_string_length(v) > STATSIG_SINK_CIO_ID_MAX))
    {
        fz_fail("relay cio: the anonymous_id", NULL);
    }

    /* data is last: its size is the rest of the body but the brace (the
     * members before it are strings, escaped, and integers: the first
     * ,"data": is the member's) */
    v = json_object_get(j, "data");
    if (v != NULL) {
        statsig_buf_addc(&body, '\0');
        body.len--;
        text = strstr(body.data, ",\"data\":");

        if (!json_is_object(v) || json_object_get(v, "recipient")
            || json_object_get(v, "from_address")
            || json_object_get(v, "reply_to") || text == NULL
            || (size_t) (body.data + body.len - 1 - (text + 8))
               > STATSIG_SINK_CIO_DATA_MAX)
        {
            fz_fail("relay cio: the data", NULL);
        }
    }

    json_decref(j);

    /* given back, a day later: the same bytes */
    rc = statsig_relay_customerio(&fz_f, id, id_len, body.data + 1,
                                  body.len - 1, FZ_NOW + 86400000, &p2, &b2,
                                  err, sizeof(err));
    if (rc != STATSIG_SINK_OK || p2.len != path.len || b2.len != body.len - 1
        || memcmp(p2.data, path.data, path.len)
        || memcmp(b2.data, body.data + 1, b2.len))
    {
        fz_fail("relay cio: not idempotent", err);
    }

done:

    statsig_buf_free(&path);
    statsig_buf_free(&body);
    statsig_buf_free(&p2);
    statsig_buf_free(&b2);
}


static void
fz_relay_gpx(const char *ev, size_t size, const char *pk, size_t pk_len)
{
    static const char *const  known[] = {
        "eventName", "identifyId", "propertyKey", "userType", "date",
        "accountId", "sessionId", "url", "referrer", "remoteHost",
        "eventId", "eventType", "attributes", "globalContext", NULL
    };
    statsig_buf_t  body, b2;
    const char    *s, *key;
    json_t        *j, *v, *a;
    char           err[256];
    int            rc;

    statsig_buf_init(&body);
    statsig_buf_init(&b2);
    statsig_buf_add(&body, "[", 1);

    err[0] = '\0';
    rc = statsig_relay_gainsight_px(&fz_f, ev, size, pk, pk_len, FZ_NOW,
                                    &body, err, sizeof(err));

    if (rc == STATSIG_SINK_NOMEM) {
        fz_fail("out of memory", NULL);
    }

    if (rc != STATSIG_SINK_OK) {
        if (rc != STATSIG_SINK_INVALID || body.len != 1) {
            fz_fail("relay gpx: a refusal that is not INVALID or wrote", err);
        }

        fz_check_reason(err, "relay gpx");
        goto done;
    }

    j = fz_json(&body, 1);
    fz_check_keys(j, known, "relay gpx");

    s = json_string_value(json_object_get(j, "userType"));
    if (json_string_length(json_object_get(j, "eventName")) == 0
        || json_string_length(json_object_get(j, "identifyId")) == 0
        || json_string_length(json_object_get(j, "propertyKey")) == 0
        || s == NULL
        || (strcmp(s, "USER") && strcmp(s, "LEAD") && strcmp(s, "VISITOR")
            && strcmp(s, "EMPTY_USER_TYPE"))
        || !fz_is_int(json_object_get(j, "date"))
        || json_number_value(json_object_get(j, "date"))
           != (double) fz_f.time_ms)
    {
        fz_fail("relay gpx: a required member", NULL);
    }

    a = json_object_get(j, "attributes");
    if (a != NULL) {
        if (!json_is_object(a)
            || json_object_size(a) > STATSIG_SINK_GPX_ATTRS_MAX)
        {
            fz_fail("relay gpx: the attributes", NULL);
        }

        json_object_foreach(a, key, v) {
            (void) key;
            if (!(json_is_string(v) || json_is_number(v)
                  || json_is_boolean(v)))
            {
                fz_fail("relay gpx: an attribute that is no scalar", NULL);
            }
        }
    }

    v = json_object_get(j, "globalContext");
    if (v != NULL && !json_is_object(v)) {
        fz_fail("relay gpx: the globalContext", NULL);
    }

    json_decref(j);

    rc = statsig_relay_gainsight_px(&fz_f, body.data + 1, body.len - 1, pk,
                                    pk_len, FZ_NOW + 86400000, &b2, err,
                                    sizeof(err));
    if (rc != STATSIG_SINK_OK || b2.len != body.len - 1
        || memcmp(b2.data, body.data + 1, b2.len))
    {
        fz_fail("relay gpx: not idempotent", err);
    }

done:

    statsig_buf_free(&body);
    statsig_buf_free(&b2);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    statsig_sink_cio_failure_t  out[64];
    statsig_sink_opts_t         o;
    statsig_buf_t               path, body, again;
    fz_found_t                  first;
    const char                 *ev;
    json_t                     *j, *attrs, *v;
    const char                 *key;
    char                        err[256];
    size_t                      items, n, i, k;
    int                         rc, rc2;

    if (!fz_ready) {
        if (statsig_sink_fmt_init(&fz_f) != 0) {
            fz_fail("out of memory", NULL);
        }

        fz_ready = 1;
    }

    ev = (const char *) data;

    memset(&o, 0, sizeof(o));
    o.events = STATSIG_SINK_EVENTS_ALL;
    o.now_ms = 1700000000456LL;
    o.product_key = "AP-FUZZ-2";
    o.product_key_len = 9;

    statsig_buf_init(&path);
    statsig_buf_init(&body);
    statsig_buf_init(&again);

    /* ---- Customer.io v1, into buffers that hold something ---- */

    statsig_buf_add(&path, "/p", 2);
    statsig_buf_add(&body, "[", 1);
    rc = statsig_sink_customerio_v1(&fz_f, ev, size, &o, &path, &body, err,
                                    sizeof(err));

    first.kind = fz_f.kind;
    first.route = fz_f.route;
    first.time_ms = fz_f.time_ms;
    memcpy(first.id, fz_f.id, sizeof(first.id));

    if (rc == STATSIG_SINK_NOMEM) {
        fz_fail("out of memory", NULL);
    }

    if (rc != STATSIG_SINK_OK) {
        if (path.len != 2 || body.len != 1) {
            fz_fail("v1 wrote on a refusal", err);
        }

        if (rc == STATSIG_SINK_SKIP
            && fz_f.route != STATSIG_SINK_ROUTE_NONE
            && fz_f.kind != STATSIG_SINK_KIND_INTERNAL)
        {
            fz_fail("v1 skipped an event with an identity", err);
        }

    } else {
        memmove(path.data, path.data + 2, path.len - 2);
        path.len -= 2;
        fz_check_path(&path);

        j = fz_json(&body, 1);
        fz_check_cio(j, "name", "timestamp");

        if (!json_is_object(json_object_get(j, "data"))
            || (fz_f.route == STATSIG_SINK_ROUTE_ANONYMOUS)
               != json_is_string(json_object_get(j, "anonymous_id")))
        {
            fz_fail("v1 data or anonymous_id", NULL);
        }

        json_decref(j);

        /* again, from the same f: the same bytes */
        statsig_buf_add(&again, "[", 1);
        path.len = 0;
        rc2 = statsig_sink_customerio_v1(&fz_f, ev, size, &o, &path, &again,
                                         err, sizeof(err));
        if (rc2 != rc || again.len != body.len
            || memcmp(again.data, body.data, body.len) != 0)
        {
            fz_fail("v1 twice, two answers", NULL);
        }
    }

    /* ---- Customer.io v2 ---- */

    body.len = 0;
    statsig_buf_add(&body, "[", 1);
    rc = statsig_sink_customerio_v2_item(&fz_f, ev, size, &o, &body, err,
                                         sizeof(err));
    fz_same(&first, 1);

    if (rc == STATSIG_SINK_NOMEM) {
        fz_fail("out of memory", NULL);
    }

    if (rc != STATSIG_SINK_OK) {
        if (body.len != 1) {
            fz_fail("v2 wrote on a refusal", err);
        }

        if (rc == STATSIG_SINK_SKIP
            && fz_f.route == STATSIG_SINK_ROUTE_IDENTIFIED
            && fz_f.kind != STATSIG_SINK_KIND_INTERNAL)
        {
            fz_fail("v2 skipped an identified event", err);
        }

    } else {
        if (body.len - 1 > STATSIG_SINK_CIO_V2_ITEM_MAX
            || fz_f.route != STATSIG_SINK_ROUTE_IDENTIFIED)
        {
            fz_fail("a v2 item too long or not identified", NULL);
        }

        j = fz_json(&body, 1);
        fz_check_cio(j, "name", "timestamp");

        if (strcmp(json_string_value(json_object_get(j, "type")), "person")
            || !json_is_string(json_object_get(json_object_get(j,
                                   "identifiers"), "id"))
            || !json_is_object(json_object_get(j, "attributes")))
        {
            fz_fail("a v2 item of another shape", NULL);
        }

        json_decref(j);
    }

    /* ---- Gainsight PX ---- */

    body.len = 0;
    statsig_buf_add(&body, "[", 1);
    rc = statsig_sink_gainsight_px(&fz_f, ev, size, &o, &body, err,
                                   sizeof(err));
    fz_same(&first, 1);

    if (rc == STATSIG_SINK_NOMEM) {
        fz_fail("out of memory", NULL);
    }

    if (rc != STATSIG_SINK_OK) {
        if (body.len != 1) {
            fz_fail("gainsight wrote on a refusal", err);
        }

    } else {
        j = fz_json(&body, 1);
        attrs = json_object_get(j, "attributes");

        if (json_string_length(json_object_get(j, "eventName")) == 0
            || json_string_length(json_object_get(j, "identifyId")) == 0
            || strcmp(json_string_value(json_object_get(j, "propertyKey")),
                      "AP-FUZZ-2")
            || strcmp(json_string_value(json_object_get(j, "userType")),
                      "USER")
            || json_number_value(json_object_get(j, "date"))
               != (double) fz_f.time_ms
            || !json_is_object(attrs)
            || json_object_size(attrs) > STATSIG_SINK_GPX_ATTRS_MAX)
        {
            fz_fail("a Gainsight body of another shape", NULL);
        }

        json_object_foreach(attrs, key, v) {
            (void) key;
            if (!(json_is_string(v) || json_is_number(v)
                  || json_is_boolean(v)))
            {
                fz_fail("a Gainsight attribute that is no scalar", NULL);
            }
        }

        json_decref(j);
    }

    /* ---- the input as a 207 answer ---- */

    items = size % 64;
    rc = statsig_sink_customerio_v2_failures(&fz_f, ev, size, items, out,
                                             items / 2, &n, err,
                                             sizeof(err));

    if (rc == STATSIG_SINK_NOMEM) {
        fz_fail("out of memory", NULL);
    }

    if (rc != STATSIG_SINK_OK) {
        if (n != 0) {
            fz_fail("a refused 207 with failures", err);
        }

    } else {
        if (n > items) {
            fz_fail("more failures than items", NULL);
        }

        for (i = 0; i < n && i < items / 2; i++) {
            if (out[i].index >= items
                || strlen(out[i].reason) >= STATSIG_SINK_REASON_MAX)
            {
                fz_fail("a failure out of bounds", NULL);
            }

            for (k = 0; out[i].reason[k]; k++) {
                if ((unsigned char) out[i].reason[k] < 0x20) {
                    fz_fail("a control character in a reason", NULL);
                }
            }

            for (k = 0; k < i; k++) {
                if (out[k].index == out[i].index) {
                    fz_fail("an item failed twice", NULL);
                }
            }
        }
    }

    statsig_buf_free(&path);
    statsig_buf_free(&body);
    statsig_buf_free(&again);

    /* ---- the input as a relayed body ---- */

    fz_relay_cio(ev, size, NULL, 0);

    switch (size % 5) {
    case 0:
        fz_relay_cio(ev, size, "u1", 2);
        break;
    case 1:
        fz_relay_cio(ev, size, "a/b %\xc3\xa9?", 9);
        break;
    case 2:
        fz_relay_cio(ev, size, "..", 2);
        break;
    case 3:
        fz_relay_cio(ev, size, "", 0);
        break;
    default:
        /* any bytes, around the 150-byte limit */
        fz_relay_cio(ev, size, ev, size);
    }

    if (size & 1) {
        fz_relay_gpx(ev, size, "AP-FUZZ-2", 9);

    } else {
        fz_relay_gpx(ev, size, NULL, 0);
    }

    return 0;
}
