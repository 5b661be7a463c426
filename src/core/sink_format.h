/*
 * One queued Statsig event as Customer.io's and Gainsight PX's requests.
 *
 * The module queues Statsig log_event event objects (JSON): exposures
 * written by exposure.c, custom events written by statsig_event and
 * events relayed by the API.  A sink for another vendor calls one of the
 * formatters below per event, from the same bytes, and sends what comes
 * out.  Pure protocol logic: no I/O, no clock, no nginx.
 *
 * Input: one event object, parsed with jtree (jansson's accept set; the
 * tree is kept in the statsig_sink_fmt_t from one event to the next).
 * What is read of it:
 *
 *   eventName   a non-empty string, else INVALID.  "statsig::gate_
 *               exposure", "statsig::config_exposure" and "statsig::
 *               layer_exposure" are exposures; any other "statsig::"
 *               name (diagnostics, non_exposed_checks) is Statsig's own
 *               bookkeeping: SKIP for every vendor; the rest is custom.
 *   time        ms since the epoch: a number, or a string Date.parse
 *               takes (Statsig's API takes ISO dates); usable when in
 *               [0, 2^48) after flooring, else o->now_ms is used.
 *   value       string, number, ... : null or absent means none.
 *   metadata    an object; anything else has no members.
 *   user        userID (identity), customIDs.stableID (Customer.io's
 *               anonymous_id), customIDs.<o->account_id_key> (Gainsight's
 *               accountId); each a non-empty string or a number (written
 *               as JavaScript writes it), else absent.  Nothing else of
 *               the user is ever written: privateAttributes, email, ip,
 *               custom never leave the edge.
 *
 * Properties (Customer.io's "data" / "attributes", Gainsight's
 * "attributes"), in this order:
 *
 *   custom event  "value" (the event's, when not null), then metadata's
 *                 members in order, as they are (a metadata "value" is
 *                 left out when the event's value was written: one key,
 *                 the event's wins).
 *   gate          {"gate", "value", "rule", "version", "reason"}
 *   config        {"config", "rule", "passed", "version", "reason"}
 *   layer         {"layer", "parameter", "rule", "experiment",
 *                  "explicit", "version", "reason"}
 *
 * from exposure.c's metadata: gate, gateValue, config (a layer's name
 * too), ruleID, rulePassed, parameterName, allocatedExperiment (left out
 * when ""), isExplicitParameter, configVersion, reason.  "true"/"false"
 * strings (gateValue, rulePassed, isExplicitParameter) become booleans,
 * a JSON boolean stays one, another string stays a string; a member
 * absent or of another type is left out.  The times (configSyncTime,
 * initTime, serverTime), secondary exposures and the event's value
 * (always null for exposures) are Statsig's and are not written.  The
 * event names are "statsig_gate_exposure", "statsig_config_exposure",
 * "statsig_layer_exposure" (no "::": plain names for campaigns and
 * segments).
 *
 * Customer.io (Track API v1 and v2, docs.customer.io journeys-track):
 *   - name: ASCII whitespace trimmed at both ends (Customer.io trims),
 *     then cut to 100 bytes at a UTF-8 boundary (and trimmed again): a
 *     long name is kept, shortened, as Statsig's SDKs shorten names over
 *     their limit, rather than lost; f->name_cut says so.  Empty after
 *     trimming: INVALID.
 *   - data members "recipient", "from_address", "reply_to" are left out
 *     (counted in f->dropped): in event data Customer.io reads them as
 *     campaign overrides, and a relayed event must not redirect mail.
 *   - data over 100,000 bytes (as written, braces included): INVALID.
 *   - identified (userID): the person id is at most 150 bytes, else
 *     INVALID.  v1 also refuses "." and "..", which no encoding keeps
 *     from being read as a dot segment of the path.
 *   - timestamp: floor(time_ms / 1000), an integer.
 *   - id: statsig_sink_event_id() of the event (see below), so that a
 *     resend of the same queued event is dropped by Customer.io's dedupe.
 *
 * Gainsight PX (POST {url}/events/custom):
 *   - eventName as it is, cut to 2000 UTF-16 units (Gainsight counts
 *     Java chars) at a character boundary; "" is INVALID.
 *   - identifyId = userID; none: SKIP.  propertyKey = o->product_key
 *     (none: INVALID, a configuration the directive refuses).
 *     userType "USER".  date = time_ms, an integer.  accountId =
 *     user.customIDs.<o->account_id_key> ("accountID" when NULL), when
 *     present.
 *   - attributes: at most 50; later ones are left out (counted).  Null
 *     values and keys over 1024 UTF-16 units are left out too (counted).
 *     Strings, numbers, booleans as they are; an object or array becomes
 *     its JSON text, as a string.  Keys are not case-folded (Gainsight
 *     compares them without case).
 *
 * Numbers are doubles (JSON.parse's reading; integers past 2^53 round)
 * and written as JavaScript writes them.  Strings are written with
 * JSON.stringify's escaping; a \u0000 in the input stays \u0000.
 *
 * Every formatter APPENDS to the buffers it is given; on anything but
 * STATSIG_SINK_OK they are back to their length at the call (on
 * STATSIG_SINK_NOMEM a buffer may be left failed: statsig_buf_free() it).
 * err (may be NULL) says why on SKIP, INVALID and NOMEM.
 */

#ifndef STATSIG_SINK_FORMAT_H
#define STATSIG_SINK_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jtree.h"


/* return codes */
#define STATSIG_SINK_OK        0
#define STATSIG_SINK_SKIP      1   /* not for this sink: identity, kind */
#define STATSIG_SINK_INVALID   2   /* never acceptable: drop it */
#define STATSIG_SINK_NOMEM    -1

/* statsig_sink_opts_t.events: what a sink takes */
#define STATSIG_SINK_EVENTS_CUSTOM     0x01
#define STATSIG_SINK_EVENTS_EXPOSURES  0x02
#define STATSIG_SINK_EVENTS_ALL        0x03

/* statsig_sink_fmt_t.kind */
#define STATSIG_SINK_KIND_NONE       0   /* not read: malformed */
#define STATSIG_SINK_KIND_CUSTOM     1
#define STATSIG_SINK_KIND_GATE       2
#define STATSIG_SINK_KIND_CONFIG     3
#define STATSIG_SINK_KIND_LAYER      4
#define STATSIG_SINK_KIND_INTERNAL   5   /* another "statsig::" event */

/* statsig_sink_fmt_t.route */
#define STATSIG_SINK_ROUTE_NONE        0   /* no userID, no stableID */
#define STATSIG_SINK_ROUTE_IDENTIFIED  1   /* userID */
#define STATSIG_SINK_ROUTE_ANONYMOUS   2   /* stableID only */

/* Customer.io's limits (journeys-track.json) */
#define STATSIG_SINK_CIO_NAME_MAX      100       /* bytes */
#define STATSIG_SINK_CIO_DATA_MAX      100000    /* bytes of "data" */
#define STATSIG_SINK_CIO_ID_MAX        150       /* bytes of a person id */

/*
 * Track v2 batch: POST {base}/api/v2/batch, PREFIX item,item,... SUFFIX.
 * "32kb" and "500kb": the decimal reading, which holds under either.
 */
#define STATSIG_SINK_CIO_V2_ITEM_MAX   32000
#define STATSIG_SINK_CIO_V2_BATCH_MAX  500000    /* the whole body */
#define STATSIG_SINK_CIO_V2_PREFIX     "{\"batch\":["
#define STATSIG_SINK_CIO_V2_SUFFIX     "]}"

/* Gainsight PX's limits (support.gainsight.com, Custom Event API) */
#define STATSIG_SINK_GPX_PATH          "/events/custom"
#define STATSIG_SINK_GPX_NAME_MAX      2000      /* UTF-16 units */
#define STATSIG_SINK_GPX_ATTRS_MAX     50
#define STATSIG_SINK_GPX_KEY_MAX       1024      /* UTF-16 units */

#define STATSIG_ULID_LEN               26
#define STATSIG_SINK_REASON_MAX        160


typedef struct {
    unsigned     events;            /* STATSIG_SINK_EVENTS_* (0: none) */

    /*
     * The time of an event without a usable "time" (and of its id): the
     * time the caller queued it if it keeps one, so that the id stays
     * the same when the event is formatted again; else now.
     */
    int64_t      now_ms;

    const char  *product_key;       /* Gainsight PX propertyKey */
    size_t       product_key_len;
    const char  *account_id_key;    /* customIDs member; NULL: accountID */
    size_t       account_id_key_len;
} statsig_sink_opts_t;


/*
 * Memory kept from one event to the next, and what the last call found
 * (set by every formatter whatever it returns; for counters and logs).
 */
typedef struct {
    statsig_jtree_t  *tree;
    statsig_buf_t     props;        /* data / attributes being built */
    statsig_buf_t     tmp;          /* a nested value's JSON text */
    statsig_buf_t     seen;         /* the 207 reader's bitmap */

    int               kind;         /* STATSIG_SINK_KIND_* */
    int               route;        /* STATSIG_SINK_ROUTE_* */
    int64_t           time_ms;      /* the time written (-1: none yet) */
    char              id[STATSIG_ULID_LEN + 1];   /* "" when none */
    unsigned          name_cut;     /* the name was shortened */
    unsigned          dropped;      /* properties left out */
} statsig_sink_fmt_t;


/* 0, or -1 when out of memory (then nothing to free). */
int statsig_sink_fmt_init(statsig_sink_fmt_t *f);
void statsig_sink_fmt_free(statsig_sink_fmt_t *f);


/*
 * Customer.io Track v1, one event a request, POST {url}{path}:
 *
 *   userID      path "/customers/<userID>/events" (RFC 3986 unreserved
 *               bytes kept, every other byte %XX in upper case), body
 *               {"name","id","timestamp","data"}
 *   stableID    path "/events", body {"name","anonymous_id","id",
 *               "timestamp","data"}
 *   neither     SKIP
 *
 * An event of a kind o->events does not take: SKIP.
 */
int statsig_sink_customerio_v1(statsig_sink_fmt_t *f, const char *event,
    size_t len, const statsig_sink_opts_t *o, statsig_buf_t *path,
    statsig_buf_t *body, char *err, size_t errlen);

/*
 * Customer.io Track v2, one item of a batch body (the caller adds the
 * commas, STATSIG_SINK_CIO_V2_PREFIX and _SUFFIX, and keeps the body
 * under STATSIG_SINK_CIO_V2_BATCH_MAX):
 *
 *   {"type":"person","identifiers":{"id":<userID>},"action":"event",
 *    "id","name","timestamp","attributes"}
 *
 * v2 has no anonymous event: an event without userID is SKIP, and
 * f->route says ANONYMOUS when v1 would take it.  An item over
 * STATSIG_SINK_CIO_V2_ITEM_MAX bytes: INVALID.
 */
int statsig_sink_customerio_v2_item(statsig_sink_fmt_t *f, const char *event,
    size_t len, const statsig_sink_opts_t *o, statsig_buf_t *item,
    char *err, size_t errlen);

/*
 * Gainsight PX, one event a request, POST {url}STATSIG_SINK_GPX_PATH:
 *
 *   {"eventName","identifyId","propertyKey","userType":"USER","date",
 *    "accountId"?,"attributes"}
 *
 * No userID: SKIP (Gainsight has no anonymous custom event).
 */
int statsig_sink_gainsight_px(statsig_sink_fmt_t *f, const char *event,
    size_t len, const statsig_sink_opts_t *o, statsig_buf_t *body,
    char *err, size_t errlen);


/* One item a v2 batch refused (a 207 answer). */
typedef struct {
    size_t  index;                  /* batch_index: the item's position */
    char    reason[STATSIG_SINK_REASON_MAX];
} statsig_sink_cio_failure_t;

/*
 * Reads a v2 batch's 207 body, {"errors":[{"batch_index":N,"reason",
 * "field","message"}, ...]}, for a batch of items items.  *n gets the
 * number of distinct items named (an item named twice counts once, with
 * its first reason); the first max go to out in the answer's order
 * (max = items always holds them all).  reason is "reason: field:
 * message" (the parts present), control characters as spaces, cut at a
 * UTF-8 boundary, NUL-terminated.
 *
 * INVALID (err says where) for a body that is not such an object, an
 * entry that is not an object, or a batch_index that is not an integer
 * in [0, items); then *n is 0.
 */
int statsig_sink_customerio_v2_failures(statsig_sink_fmt_t *f,
    const char *body, size_t len, size_t items,
    statsig_sink_cio_failure_t *out, size_t max, size_t *n, char *err,
    size_t errlen);


/*
 * A ULID (github.com/ulid/spec): 48 bits of ms (clamped to [0, 2^48))
 * and 80 bits, big-endian, in Crockford's base32
 * ("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 26 characters, no NUL.
 */
void statsig_ulid(int64_t time_ms, const unsigned char rand80[10],
    char out[STATSIG_ULID_LEN]);

/*
 * The id of a queued event: statsig_ulid(time_ms, the first 10 bytes of
 * SHA-256 of the event's bytes).  The same bytes and time give the same
 * id in any worker, after any requeue; a byte changed, another id.  So
 * two byte-identical events share one, and the vendor keeps only the
 * first: for events with a "time" that means the same user, name, value
 * and metadata in the same ms.  An event without a time is given
 * o->now_ms, and keeps its id only when the caller passes the same
 * now_ms again (the time it queued the event, not the time it sends).
 */
void statsig_sink_event_id(int64_t time_ms, const char *event, size_t len,
    char out[STATSIG_ULID_LEN]);

#endif /* STATSIG_SINK_FORMAT_H */
