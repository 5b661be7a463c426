/*
 * One queued Statsig event as Customer.io's and Gainsight PX's requests.
 *
 * The module queues Statsig log_event event objects (JSON): exposures
 * written by exposure.c, custom events written by statsig_event and
 * events relayed by the API.  A sink for another vendor calls one of the
 * formatters below per event, from the same bytes, and sends what comes
 * out.  The relay functions at the end take instead a vendor's own
 * request body, posted to the edge by a client, and check and normalise
 * it.  Pure protocol logic: no I/O, no clock, no nginx.
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


/*
 * ---- relay surfaces ----
 *
 * A client that must not hold a vendor's credentials posts the vendor's
 * own request body to the edge (interface.md section 7).  The functions
 * below check it as the vendor would, so that a body the vendor would
 * refuse gets a 400 at the edge instead of being queued, retried and
 * dropped later; they write it normalised (compact, known members only,
 * in a fixed order, defaults filled), and the sink posts those bytes
 * unchanged.  Normalising is idempotent: an OK output given back as the
 * body gives the same bytes (the same identifier and product key; now_ms
 * then no longer matters, every default being filled).
 *
 * Common rules:
 *   - the body is parsed with jtree (jansson's accept set; "\u0000" is
 *     kept): not JSON, or not an object at the top, is INVALID.
 *   - a member whose value is null is read as absent (Go and Jackson,
 *     the vendors' decoders, leave a null field unset); a required one
 *     is then missing.
 *   - integers ("timestamp", "date") are read by value, as JSON.parse
 *     reads them: 1.0 and 1e3 are the integers 1 and 1000 and are
 *     written so; a fraction, a negative number, a string, or more than
 *     STATSIG_SINK_RELAY_INT_MAX (past it a double has no exact integer,
 *     and the vendors read int64) is INVALID.
 *   - numbers inside "data", "attributes" and "globalContext" are
 *     doubles written as JavaScript writes them, strings with
 *     JSON.stringify's escaping, a repeated key once (its last value),
 *     as in the formatters above.
 *   - members not listed are left out, counted in f->dropped.
 *   - f: kind CUSTOM, route IDENTIFIED or ANONYMOUS, time_ms the time
 *     written (in ms), id the ULID generated ("" when the body had one).
 *   - on INVALID, err gets a reason for the client's {"error": reason}
 *     400 answer: at most STATSIG_SINK_RELAY_REASON_MAX bytes, printable
 *     ASCII, naming the member; no input bytes, except an "attributes"
 *     key named (as its UTF-8, control characters as '?', cut to 40
 *     bytes and "..."): the caller escapes the reason as JSON.  Checks
 *     run in the order the members are listed below; the first refusal
 *     is the one told.
 *   - buffers are appended to as by the formatters above, and are back
 *     to their length at the call on anything but STATSIG_SINK_OK.
 *
 * The reasons (<m> a member's name, as typed below):
 *   "the body is not JSON (line L, column C)"
 *   "the body must be a JSON object"
 *   "\"<m>\" is required"              required, absent or null
 *   "\"<m>\" must be a string"
 *   "\"<m>\" must not be empty"
 *   "\"<m>\" is longer than N bytes"
 *   "\"<m>\" must be an object"
 *   "\"<m>\" must be an integer from 0 to 9007199254740991 (seconds|ms)"
 *   and the ones named with each function below.
 */

#define STATSIG_SINK_RELAY_REASON_MAX  120       /* bytes, NUL excluded */
#define STATSIG_SINK_RELAY_INT_MAX     9007199254740991LL    /* 2^53 - 1 */
#define STATSIG_SINK_CIO_EVENT_ID_MAX  100       /* bytes of "id" */

/*
 * Customer.io Track v1 (section 2.2-2.5 of the sinks reference), for
 * POST {url}{path}:
 *
 *   identifier  non-NULL: an identified event, path "/customers/<id>/
 *               events" with the id encoded as statsig_sink_customerio_
 *               v1() encodes a userID; id_len 0 ("the identifier is
 *               empty"), over STATSIG_SINK_CIO_ID_MAX bytes ("the
 *               identifier is longer than 150 bytes"), "." or ".." ("the
 *               identifier cannot be \".\" or \"..\"") are INVALID.
 *               NULL: an anonymous event, path "/events".
 *
 * Members, checked in this order:
 *   name          required string; ASCII whitespace trimmed at both ends
 *                 (Customer.io trims); then 1 to STATSIG_SINK_CIO_NAME_MAX
 *                 bytes.  Longer is INVALID, not cut: the client asked
 *                 for that name and Customer.io would refuse it.
 *   type          optional: "event", "page" or "screen", else INVALID
 *                 ("\"type\" must be \"event\", \"page\" or \"screen\"").
 *   id            optional string, 1 to 100 bytes (Customer.io's dedupe
 *                 key).  Absent: statsig_ulid(now_ms, the first 80 bits
 *                 of SHA-256(identified ? 1 : 0, SHA-256(body bytes),
 *                 SHA-256(identifier) or 32 zero bytes)), so that the
 *                 same request received twice in one ms, or the queued
 *                 request sent twice, is kept once by Customer.io.
 *   timestamp     optional integer, seconds.  Absent: now_ms / 1000
 *                 (floor): the time the edge received the event, not the
 *                 later time the sink delivers it.
 *   anonymous_id  anonymous only (left out of an identified body):
 *                 optional string, 1 to 150 bytes.
 *   data          optional object; as written (braces included) at most
 *                 STATSIG_SINK_CIO_DATA_MAX bytes ("\"data\" is longer
 *                 than 100000 bytes").  Its members "recipient",
 *                 "from_address" and "reply_to" are left out (counted in
 *                 f->dropped), as for a queued Statsig event: Customer.io
 *                 reads them as campaign overrides, and the edge's API
 *                 key is a client key, not a licence to redirect the
 *                 workspace's mail.
 *
 * out gets {"name","anonymous_id"?,"type"?,"id","timestamp","data"?}
 * ("?": only when the body had it).  now_ms outside [0, 2^53) is clamped.
 */
int statsig_relay_customerio(statsig_sink_fmt_t *f, const char *identifier,
    size_t id_len, const char *body, size_t len, int64_t now_ms,
    statsig_buf_t *path, statsig_buf_t *out, char *err, size_t errlen);

/*
 * Gainsight PX custom event (section 3.2-3.3), for POST {url}
 * STATSIG_SINK_GPX_PATH.  Members, checked in this order:
 *
 *   eventName      required string, 1 to STATSIG_SINK_GPX_NAME_MAX UTF-16
 *                  units ("\"eventName\" is longer than 2000 UTF-16
 *                  units"); not trimmed, not cut.
 *   identifyId     required non-empty string.
 *   propertyKey    optional non-empty string; absent: product_key (NULL
 *                  or pk_len 0: none, and "\"propertyKey\" is required").
 *   userType       optional: "USER" (the default), "LEAD", "VISITOR" or
 *                  "EMPTY_USER_TYPE" ("\"userType\" must be USER, LEAD,
 *                  VISITOR or EMPTY_USER_TYPE").
 *   date           optional integer, ms; absent: now_ms (clamped to
 *                  [0, 2^53)).
 *   accountId, sessionId, url, referrer, remoteHost, eventId, eventType
 *                  optional strings (may be empty).
 *   attributes     optional object of at most STATSIG_SINK_GPX_ATTRS_MAX
 *                  members ("\"attributes\" has more than 50 members"),
 *                  keys of at most STATSIG_SINK_GPX_KEY_MAX UTF-16 units
 *                  ("an \"attributes\" key is longer than 1024 UTF-16
 *                  units"), values strings, numbers or booleans ("\"
 *                  attributes\" member \"<key>\" must be a string, number
 *                  or boolean").  The formatter above leaves out or
 *                  stringifies what does not fit, because a Statsig event
 *                  is ours to adapt; a relayed body is the client's, and
 *                  it is told what Gainsight would refuse.
 *   globalContext  optional object, as it is.
 *
 * out gets {"eventName","identifyId","propertyKey","userType","date",
 * "accountId"?,"sessionId"?,"url"?,"referrer"?,"remoteHost"?,"eventId"?,
 * "eventType"?,"attributes"?,"globalContext"?}.
 */
int statsig_relay_gainsight_px(statsig_sink_fmt_t *f, const char *body,
    size_t len, const char *product_key, size_t pk_len, int64_t now_ms,
    statsig_buf_t *out, char *err, size_t errlen);

#endif /* STATSIG_SINK_FORMAT_H */
