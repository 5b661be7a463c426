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

    return 0;
}
