/*
 * A queued Statsig event as Customer.io's and Gainsight PX's requests
 * (the rules are in sink_format.h).
 *
 * Each formatter parses the event once into the kept tree, reads what it
 * needs, builds the properties object in f->props (its size decides
 * Customer.io's data limit before anything reaches the caller), then
 * writes the request into the caller's buffers.  Every decision that can
 * refuse the event comes before the first byte is appended, so that only
 * the item limit of v2 and an allocation failure have to take bytes back.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "jsdate.h"
#include "jsnum.h"
#include "jsstr.h"
#include "sink_format.h"
#include "utf8.h"


#define SG_TIME_LIMIT  281474976710656.0        /* 2^48 ms */


/* an identity read from the user: a string in the tree or a number */
typedef struct {
    const char  *s;             /* NULL: absent */
    size_t       len;
    char         num[STATSIG_NUMBER_STR_SIZE];
} sg_id_t;


/* what the formatters read of one event */
typedef struct {
    const statsig_jnode_t  *name;
    const statsig_jnode_t  *value;      /* NULL: null or absent */
    const statsig_jnode_t  *metadata;   /* NULL: not an object */
    const statsig_jnode_t  *user;       /* NULL: not an object */
    int                     kind;
} sg_event_t;


/* the properties object being written, with one vendor's rules */
typedef struct {
    statsig_sink_fmt_t     *f;
    statsig_buf_t          *b;
    int                     gpx;        /* Gainsight's rules, else cio's */
    int                     nomem;      /* a nested value's text failed */
    unsigned                n;          /* members written */
} sg_props_t;


static void
sg_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list  ap;

    if (err == NULL || errlen == 0) {
        return;
    }

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}


/* jtree's own allocation failure, told apart from a bad text */
static int
sg_is_oom(const char *text)
{
    static const char  oom[] = "out of memory";
    size_t             len;

    len = strlen(text);

    return len >= sizeof(oom) - 1
           && strcmp(text + len - (sizeof(oom) - 1), oom) == 0;
}


/* what the last call found: nothing yet */
static void
sg_reset(statsig_sink_fmt_t *f)
{
    f->kind = STATSIG_SINK_KIND_NONE;
    f->route = STATSIG_SINK_ROUTE_NONE;
    f->time_ms = -1;
    f->id[0] = '\0';
    f->name_cut = 0;
    f->dropped = 0;
}


int
statsig_sink_fmt_init(statsig_sink_fmt_t *f)
{
    memset(f, 0, sizeof(statsig_sink_fmt_t));

    f->tree = statsig_jtree_create();
    if (f->tree == NULL) {
        return -1;
    }

    statsig_buf_init(&f->props);
    statsig_buf_init(&f->tmp);
    statsig_buf_init(&f->seen);
    sg_reset(f);

    return 0;
}


void
statsig_sink_fmt_free(statsig_sink_fmt_t *f)
{
    statsig_jtree_free(f->tree);
    statsig_buf_free(&f->props);
    statsig_buf_free(&f->tmp);
    statsig_buf_free(&f->seen);
    f->tree = NULL;
}


/* a scratch buffer that failed once is fresh again for the next event */
static void
sg_scratch(statsig_buf_t *b)
{
    if (b->failed) {
        statsig_buf_free(b);
    }

    b->len = 0;
}


/* ---- ULID ---- */

void
statsig_ulid(int64_t time_ms, const unsigned char rand80[10],
    char out[STATSIG_ULID_LEN])
{
    static const char  crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    uint64_t           t, hi, lo;
    int                i;

    if (time_ms < 0) {
        time_ms = 0;

    } else if (time_ms > (int64_t) 0xFFFFFFFFFFFFULL) {
        time_ms = (int64_t) 0xFFFFFFFFFFFFULL;
    }

    /* 48 bits in 10 characters: the first one holds 3 */
    t = (uint64_t) time_ms;
    for (i = 9; i >= 0; i--) {
        out[i] = crockford[t & 31];
        t >>= 5;
    }

    /* 80 bits in 16 characters, 40 bits (8 characters) a half */
    hi = 0;
    lo = 0;
    for (i = 0; i < 5; i++) {
        hi = hi << 8 | rand80[i];
        lo = lo << 8 | rand80[i + 5];
    }

    for (i = 7; i >= 0; i--) {
        out[10 + i] = crockford[hi & 31];
        out[18 + i] = crockford[lo & 31];
        hi >>= 5;
        lo >>= 5;
    }
}


void
statsig_sink_event_id(int64_t time_ms, const char *event, size_t len,
    char out[STATSIG_ULID_LEN])
{
    unsigned char  digest[32];

    /* SHA-256: the core has it, and no two events of a workload collide
     * in 80 of its bits (a cheaper hash would save microseconds per
     * request the vendor takes milliseconds to answer) */
    statsig_sha256(event, len, digest);
    statsig_ulid(time_ms, digest, out);
}


/* ---- reading the event ---- */

static int
sg_str_is(const statsig_jnode_t *v, const char *s, size_t len)
{
    return statsig_jis(v, STATSIG_JT_STRING) && v->n == len
           && memcmp(v->u.str, s, len) == 0;
}


/* a member by a key that may hold any byte but NUL (o->account_id_key) */
static const statsig_jnode_t *
sg_get(const statsig_jnode_t *obj, const char *key, size_t len)
{
    const statsig_jmember_t  *m;
    size_t                    i;

    if (!statsig_jis(obj, STATSIG_JT_OBJECT)) {
        return NULL;
    }

    for (i = 0; i < obj->n; i++) {
        m = &obj->u.members[i];
        if (m->keylen == len && memcmp(m->key, key, len) == 0) {
            return &m->value;
        }
    }

    return NULL;
}


static void
sg_id(const statsig_jnode_t *v, sg_id_t *id)
{
    id->s = NULL;
    id->len = 0;

    if (statsig_jis(v, STATSIG_JT_STRING) && v->n > 0) {
        id->s = v->u.str;
        id->len = v->n;

    } else if (statsig_jis(v, STATSIG_JT_NUMBER)) {
        /* String(id), as the SDKs read a numeric id */
        id->len = statsig_js_number_to_string(v->u.num, id->num);
        id->s = id->num;
    }
}


static int
sg_kind(const statsig_jnode_t *name)
{
    const char  *s;
    size_t       n;

    s = name->u.str;
    n = name->n;

    if (n < 9 || memcmp(s, "statsig::", 9) != 0) {
        return STATSIG_SINK_KIND_CUSTOM;
    }

    if (sg_str_is(name, "statsig::gate_exposure", 22)) {
        return STATSIG_SINK_KIND_GATE;
    }

    if (sg_str_is(name, "statsig::config_exposure", 24)) {
        return STATSIG_SINK_KIND_CONFIG;
    }

    if (sg_str_is(name, "statsig::layer_exposure", 23)) {
        return STATSIG_SINK_KIND_LAYER;
    }

    return STATSIG_SINK_KIND_INTERNAL;
}


/* the event's time in ms, or -1 when it has none that a ULID holds */
static int64_t
sg_event_time(const statsig_jnode_t *t)
{
    double  d;

    if (statsig_jis(t, STATSIG_JT_NUMBER)) {
        d = t->u.num;

    } else if (statsig_jis(t, STATSIG_JT_STRING)) {
        d = statsig_js_date_parse(t->u.str, t->n);

    } else {
        return -1;
    }

    /* NaN fails both comparisons */
    d = floor(d);
    if (!(d >= 0 && d < SG_TIME_LIMIT)) {
        return -1;
    }

    return (int64_t) d;
}


/*
 * Parses and reads the event, sets f's findings (kind, time, id), and
 * answers SKIP for a kind the sink does not take.
 */
static int
sg_read(statsig_sink_fmt_t *f, const char *event, size_t len,
    const statsig_sink_opts_t *o, sg_event_t *ev, char *err, size_t errlen)
{
    const statsig_jnode_t  *root, *v;
    char                    jerr[160];
    int64_t                 t;

    if (statsig_jtree_load(f->tree, event, len, &root, jerr, sizeof(jerr))
        != 0)
    {
        if (sg_is_oom(jerr)) {
            sg_err(err, errlen, "out of memory");
            return STATSIG_SINK_NOMEM;
        }

        sg_err(err, errlen, "the event is not JSON: %s", jerr);
        return STATSIG_SINK_INVALID;
    }

    if (!statsig_jis(root, STATSIG_JT_OBJECT)) {
        sg_err(err, errlen, "the event is not a JSON object");
        return STATSIG_SINK_INVALID;
    }

    ev->name = statsig_jobject_get(root, "eventName");
    if (!statsig_jis(ev->name, STATSIG_JT_STRING) || ev->name->n == 0) {
        sg_err(err, errlen, "the event has no eventName");
        return STATSIG_SINK_INVALID;
    }

    ev->kind = sg_kind(ev->name);
    f->kind = ev->kind;

    v = statsig_jobject_get(root, "value");
    ev->value = (v == NULL || v->type == STATSIG_JT_NULL) ? NULL : v;

    v = statsig_jobject_get(root, "metadata");
    ev->metadata = statsig_jis(v, STATSIG_JT_OBJECT) ? v : NULL;

    v = statsig_jobject_get(root, "user");
    ev->user = statsig_jis(v, STATSIG_JT_OBJECT) ? v : NULL;

    t = sg_event_time(statsig_jobject_get(root, "time"));
    if (t < 0) {
        t = o->now_ms;
        if (t < 0) {
            t = 0;

        } else if (t >= (int64_t) SG_TIME_LIMIT) {
            t = (int64_t) SG_TIME_LIMIT - 1;
        }
    }

    f->time_ms = t;
    statsig_sink_event_id(t, event, len, f->id);
    f->id[STATSIG_ULID_LEN] = '\0';

    if (ev->kind == STATSIG_SINK_KIND_INTERNAL) {
        sg_err(err, errlen, "a Statsig internal event");
        return STATSIG_SINK_SKIP;
    }

    if (!(o->events & (ev->kind == STATSIG_SINK_KIND_CUSTOM
                       ? STATSIG_SINK_EVENTS_CUSTOM
                       : STATSIG_SINK_EVENTS_EXPOSURES)))
    {
        sg_err(err, errlen, ev->kind == STATSIG_SINK_KIND_CUSTOM
                            ? "the sink takes no custom events"
                            : "the sink takes no exposures");
        return STATSIG_SINK_SKIP;
    }

    return STATSIG_SINK_OK;
}


/* userID, customIDs.stableID, and f->route from them */
static void
sg_identity(statsig_sink_fmt_t *f, const sg_event_t *ev, sg_id_t *user_id,
    sg_id_t *stable_id)
{
    sg_id(statsig_jobject_get(ev->user, "userID"), user_id);
    sg_id(statsig_jobject_get(statsig_jobject_get(ev->user, "customIDs"),
                              "stableID"), stable_id);

    f->route = user_id->s ? STATSIG_SINK_ROUTE_IDENTIFIED
               : stable_id->s ? STATSIG_SINK_ROUTE_ANONYMOUS
               : STATSIG_SINK_ROUTE_NONE;
}


/* ---- writing ---- */

/* a tree value as JSON text */
static void
sg_put(statsig_buf_t *b, const statsig_jnode_t *v)
{
    const statsig_jmember_t  *m;
    uint32_t                  i;

    switch (v->type) {

    case STATSIG_JT_FALSE:
        statsig_buf_add(b, "false", 5);
        return;

    case STATSIG_JT_TRUE:
        statsig_buf_add(b, "true", 4);
        return;

    case STATSIG_JT_NUMBER:
        statsig_buf_json_num(b, v->u.num);
        return;

    case STATSIG_JT_STRING:
        statsig_buf_json_str(b, v->u.str, v->n);
        return;

    case STATSIG_JT_ARRAY:
        statsig_buf_addc(b, '[');
        for (i = 0; i < v->n; i++) {
            if (i) {
                statsig_buf_addc(b, ',');
            }

            sg_put(b, &v->u.items[i]);
        }

        statsig_buf_addc(b, ']');
        return;

    case STATSIG_JT_OBJECT:
        statsig_buf_addc(b, '{');
        for (i = 0; i < v->n; i++) {
            m = &v->u.members[i];
            if (i) {
                statsig_buf_addc(b, ',');
            }

            statsig_buf_json_str(b, m->key, m->keylen);
            statsig_buf_addc(b, ':');
            sg_put(b, &m->value);
        }

        statsig_buf_addc(b, '}');
        return;

    default:
        statsig_buf_add(b, "null", 4);
        return;
    }
}


/* the longest prefix of at most max UTF-16 units, whole characters */
static size_t
sg_utf16_cut(const char *s, size_t len, size_t max)
{
    const unsigned char  *p, *q, *end;
    size_t                n, w;

    p = (const unsigned char *) s;
    end = p + len;
    n = 0;

    while (p < end) {
        q = p;
        w = (statsig_utf8_next(&q, end) >= 0x10000) ? 2 : 1;
        if (n + w > max) {
            break;
        }

        n += w;
        p = q;
    }

    return (size_t) (p - (const unsigned char *) s);
}


/* the longest prefix of at most max bytes that ends on a character */
static size_t
sg_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) {
        return len;
    }

    while (max > 0 && ((unsigned char) s[max] & 0xC0) == 0x80) {
        max--;
    }

    return max;
}


static int
sg_cio_reserved(const char *key, size_t len)
{
    return (len == 9 && memcmp(key, "recipient", 9) == 0)
           || (len == 12 && memcmp(key, "from_address", 12) == 0)
           || (len == 8 && memcmp(key, "reply_to", 8) == 0);
}


static void
sg_prop(sg_props_t *p, const char *key, size_t klen,
    const statsig_jnode_t *v)
{
    statsig_sink_fmt_t  *f;

    f = p->f;

    if (p->gpx) {
        if (v->type == STATSIG_JT_NULL
            || p->n >= STATSIG_SINK_GPX_ATTRS_MAX
            || (klen > STATSIG_SINK_GPX_KEY_MAX
                && statsig_js_length(key, klen) > STATSIG_SINK_GPX_KEY_MAX))
        {
            f->dropped++;
            return;
        }

    } else if (sg_cio_reserved(key, klen)) {
        f->dropped++;
        return;
    }

    if (p->n++) {
        statsig_buf_addc(p->b, ',');
    }

    statsig_buf_json_str(p->b, key, klen);
    statsig_buf_addc(p->b, ':');

    if (p->gpx && (v->type == STATSIG_JT_OBJECT || v->type == STATSIG_JT_ARRAY))
    {
        /* Gainsight stores nested values as strings: say which string */
        sg_scratch(&f->tmp);
        sg_put(&f->tmp, v);

        /* the next value's sg_scratch() forgets the failure: keep it */
        if (f->tmp.failed) {
            p->nomem = 1;
            return;
        }

        statsig_buf_json_str(p->b, f->tmp.data, f->tmp.len);
        return;
    }

    sg_put(p->b, v);
}


#define sg_prop_lit(p, key, v)  sg_prop(p, key, sizeof(key) - 1, v)


/* metadata[mkey] as key when it is a string (non-empty when nonempty) */
static void
sg_map_str(sg_props_t *p, const char *key, size_t klen,
    const statsig_jnode_t *meta, const char *mkey, int nonempty)
{
    const statsig_jnode_t  *v;

    v = statsig_jobject_get(meta, mkey);
    if (statsig_jis(v, STATSIG_JT_STRING) && (v->n > 0 || !nonempty)) {
        sg_prop(p, key, klen, v);
    }
}


/* metadata[mkey] as key: "true" / "false" as booleans (see the header) */
static void
sg_map_bool(sg_props_t *p, const char *key, size_t klen,
    const statsig_jnode_t *meta, const char *mkey)
{
    statsig_jnode_t         b;
    const statsig_jnode_t  *v;

    v = statsig_jobject_get(meta, mkey);

    if (sg_str_is(v, "true", 4) || sg_str_is(v, "false", 5)) {
        memset(&b, 0, sizeof(b));
        b.type = (v->n == 4) ? STATSIG_JT_TRUE : STATSIG_JT_FALSE;
        sg_prop(p, key, klen, &b);

    } else if (statsig_jis_bool(v) || statsig_jis(v, STATSIG_JT_STRING)) {
        sg_prop(p, key, klen, v);
    }
}


#define sg_map_s(p, key, meta, mkey)                                        \
    sg_map_str(p, key, sizeof(key) - 1, meta, mkey, 0)
#define sg_map_b(p, key, meta, mkey)                                        \
    sg_map_bool(p, key, sizeof(key) - 1, meta, mkey)


/*
 * The properties object into f->props; STATSIG_SINK_NOMEM if a buffer
 * failed.
 */
static int
sg_props(statsig_sink_fmt_t *f, const sg_event_t *ev, int gpx)
{
    const statsig_jnode_t    *meta;
    const statsig_jmember_t  *m;
    sg_props_t                p;
    uint32_t                  i;

    sg_scratch(&f->props);

    p.f = f;
    p.b = &f->props;
    p.gpx = gpx;
    p.nomem = 0;
    p.n = 0;

    meta = ev->metadata;

    statsig_buf_addc(p.b, '{');

    switch (ev->kind) {

    case STATSIG_SINK_KIND_GATE:
        sg_map_s(&p, "gate", meta, "gate");
        sg_map_b(&p, "value", meta, "gateValue");
        sg_map_s(&p, "rule", meta, "ruleID");
        sg_map_s(&p, "version", meta, "configVersion");
        sg_map_s(&p, "reason", meta, "reason");
        break;

    case STATSIG_SINK_KIND_CONFIG:
        sg_map_s(&p, "config", meta, "config");
        sg_map_s(&p, "rule", meta, "ruleID");
        sg_map_b(&p, "passed", meta, "rulePassed");
        sg_map_s(&p, "version", meta, "configVersion");
        sg_map_s(&p, "reason", meta, "reason");
        break;

    case STATSIG_SINK_KIND_LAYER:
        sg_map_s(&p, "layer", meta, "config");
        sg_map_s(&p, "parameter", meta, "parameterName");
        sg_map_s(&p, "rule", meta, "ruleID");
        /* "" is the writer's "no experiment": say nothing then */
        sg_map_str(&p, "experiment", 10, meta, "allocatedExperiment", 1);
        sg_map_b(&p, "explicit", meta, "isExplicitParameter");
        sg_map_s(&p, "version", meta, "configVersion");
        sg_map_s(&p, "reason", meta, "reason");
        break;

    default:
        if (ev->value != NULL) {
            sg_prop_lit(&p, "value", ev->value);
        }

        for (i = 0; i < statsig_jobject_size(meta); i++) {
            m = &meta->u.members[i];

            if (ev->value != NULL && m->keylen == 5
                && memcmp(m->key, "value", 5) == 0)
            {
                continue;
            }

            sg_prop(&p, m->key, m->keylen, &m->value);
        }
    }

    statsig_buf_addc(p.b, '}');

    return (f->props.failed || p.nomem) ? STATSIG_SINK_NOMEM
                                        : STATSIG_SINK_OK;
}


/* ASCII whitespace, the part of Go's unicode.IsSpace that is ASCII */
static int
sg_is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}


/* Customer.io's name: trimmed as Customer.io trims, cut to its limit */
static int
sg_cio_name(statsig_sink_fmt_t *f, const sg_event_t *ev, const char **name,
    size_t *len, char *err, size_t errlen)
{
    const char  *s;
    size_t       n, cut;

    switch (ev->kind) {
    case STATSIG_SINK_KIND_GATE:
        *name = "statsig_gate_exposure";
        *len = 21;
        return STATSIG_SINK_OK;

    case STATSIG_SINK_KIND_CONFIG:
        *name = "statsig_config_exposure";
        *len = 23;
        return STATSIG_SINK_OK;

    case STATSIG_SINK_KIND_LAYER:
        *name = "statsig_layer_exposure";
        *len = 22;
        return STATSIG_SINK_OK;
    }

    s = ev->name->u.str;
    n = ev->name->n;

    while (n > 0 && sg_is_space(s[0])) {
        s++;
        n--;
    }

    while (n > 0 && sg_is_space(s[n - 1])) {
        n--;
    }

    cut = sg_utf8_cut(s, n, STATSIG_SINK_CIO_NAME_MAX);
    if (cut < n) {
        f->name_cut = 1;
        n = cut;

        /* what Customer.io would trim of the shortened name */
        while (n > 0 && sg_is_space(s[n - 1])) {
            n--;
        }
    }

    if (n == 0) {
        sg_err(err, errlen, "the eventName is only spaces");
        return STATSIG_SINK_INVALID;
    }

    *name = s;
    *len = n;

    return STATSIG_SINK_OK;
}


/* RFC 3986 unreserved bytes as they are, every other one %XX */
static void
sg_url_segment(statsig_buf_t *b, const char *s, size_t len)
{
    static const char  hex[] = "0123456789ABCDEF";
    unsigned char      c;
    char               esc[3];
    size_t             i, run;

    run = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            continue;
        }

        statsig_buf_add(b, s + run, i - run);
        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        statsig_buf_add(b, esc, 3);
        run = i + 1;
    }

    statsig_buf_add(b, s + run, len - run);
}


/* what Customer.io shares between v1 and v2: name, id, data */
static int
sg_cio_common(statsig_sink_fmt_t *f, const sg_event_t *ev,
    const sg_id_t *user_id, const char **name, size_t *name_len, char *err,
    size_t errlen)
{
    int  rc;

    if (user_id->s != NULL && user_id->len > STATSIG_SINK_CIO_ID_MAX) {
        sg_err(err, errlen, "the userID is %zu bytes, Customer.io takes "
               "%d at most", user_id->len, STATSIG_SINK_CIO_ID_MAX);
        return STATSIG_SINK_INVALID;
    }

    rc = sg_cio_name(f, ev, name, name_len, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    if (sg_props(f, ev, 0) != STATSIG_SINK_OK) {
        sg_err(err, errlen, "out of memory");
        return STATSIG_SINK_NOMEM;
    }

    if (f->props.len > STATSIG_SINK_CIO_DATA_MAX) {
        sg_err(err, errlen, "the event's data is %zu bytes, Customer.io "
               "takes %d at most", f->props.len, STATSIG_SINK_CIO_DATA_MAX);
        return STATSIG_SINK_INVALID;
    }

    return STATSIG_SINK_OK;
}


static int
sg_nomem(statsig_buf_t *a, size_t alen, statsig_buf_t *b, size_t blen,
    char *err, size_t errlen)
{
    if (a != NULL && !a->failed) {
        a->len = alen;
    }

    if (b != NULL && !b->failed) {
        b->len = blen;
    }

    sg_err(err, errlen, "out of memory");

    return STATSIG_SINK_NOMEM;
}


int
statsig_sink_customerio_v1(statsig_sink_fmt_t *f, const char *event,
    size_t len, const statsig_sink_opts_t *o, statsig_buf_t *path,
    statsig_buf_t *body, char *err, size_t errlen)
{
    const char  *name;
    size_t       name_len, path0, body0;
    sg_id_t      user_id, stable_id;
    sg_event_t   ev;
    int          rc;

    sg_reset(f);
    path0 = path->len;
    body0 = body->len;

    if (path->failed || body->failed) {
        return sg_nomem(NULL, 0, NULL, 0, err, errlen);
    }

    rc = sg_read(f, event, len, o, &ev, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    sg_identity(f, &ev, &user_id, &stable_id);

    if (f->route == STATSIG_SINK_ROUTE_NONE) {
        sg_err(err, errlen, "the user has no userID and no stableID");
        return STATSIG_SINK_SKIP;
    }

    /* a server that decodes the path before removing dot segments (Go's
     * ServeMux does) would read these as "this" and "the parent" */
    if (user_id.s != NULL
        && ((user_id.len == 1 && user_id.s[0] == '.')
            || (user_id.len == 2 && memcmp(user_id.s, "..", 2) == 0)))
    {
        sg_err(err, errlen, "the userID \"%.*s\" cannot be a path segment",
               (int) user_id.len, user_id.s);
        return STATSIG_SINK_INVALID;
    }

    rc = sg_cio_common(f, &ev, &user_id, &name, &name_len, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    if (user_id.s != NULL) {
        statsig_buf_add(path, "/customers/", 11);
        sg_url_segment(path, user_id.s, user_id.len);
        statsig_buf_add(path, "/events", 7);

    } else {
        statsig_buf_add(path, "/events", 7);
    }

    statsig_buf_add(body, "{\"name\":", 8);
    statsig_buf_json_str(body, name, name_len);

    if (user_id.s == NULL) {
        statsig_buf_add(body, ",\"anonymous_id\":", 16);
        statsig_buf_json_str(body, stable_id.s, stable_id.len);
    }

    statsig_buf_add(body, ",\"id\":\"", 7);
    statsig_buf_add(body, f->id, STATSIG_ULID_LEN);
    statsig_buf_add(body, "\",\"timestamp\":", 14);
    statsig_buf_json_int(body, (long long) (f->time_ms / 1000));
    statsig_buf_add(body, ",\"data\":", 8);
    statsig_buf_add(body, f->props.data, f->props.len);
    statsig_buf_addc(body, '}');

    if (path->failed || body->failed) {
        return sg_nomem(path, path0, body, body0, err, errlen);
    }

    return STATSIG_SINK_OK;
}


int
statsig_sink_customerio_v2_item(statsig_sink_fmt_t *f, const char *event,
    size_t len, const statsig_sink_opts_t *o, statsig_buf_t *item,
    char *err, size_t errlen)
{
    const char  *name;
    size_t       name_len, item0;
    sg_id_t      user_id, stable_id;
    sg_event_t   ev;
    int          rc;

    sg_reset(f);
    item0 = item->len;

    if (item->failed) {
        return sg_nomem(NULL, 0, NULL, 0, err, errlen);
    }

    rc = sg_read(f, event, len, o, &ev, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    sg_identity(f, &ev, &user_id, &stable_id);

    if (user_id.s == NULL) {
        sg_err(err, errlen, f->route == STATSIG_SINK_ROUTE_ANONYMOUS
                            ? "an anonymous event: Track v2 has none, "
                              "send it with v1"
                            : "the user has no userID and no stableID");
        return STATSIG_SINK_SKIP;
    }

    rc = sg_cio_common(f, &ev, &user_id, &name, &name_len, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    statsig_buf_add(item, "{\"type\":\"person\",\"identifiers\":{\"id\":",
                    37);
    statsig_buf_json_str(item, user_id.s, user_id.len);
    statsig_buf_add(item, "},\"action\":\"event\",\"id\":\"", 25);
    statsig_buf_add(item, f->id, STATSIG_ULID_LEN);
    statsig_buf_add(item, "\",\"name\":", 9);
    statsig_buf_json_str(item, name, name_len);
    statsig_buf_add(item, ",\"timestamp\":", 13);
    statsig_buf_json_int(item, (long long) (f->time_ms / 1000));
    statsig_buf_add(item, ",\"attributes\":", 14);
    statsig_buf_add(item, f->props.data, f->props.len);
    statsig_buf_addc(item, '}');

    if (item->failed) {
        return sg_nomem(item, item0, NULL, 0, err, errlen);
    }

    if (item->len - item0 > STATSIG_SINK_CIO_V2_ITEM_MAX) {
        sg_err(err, errlen, "the batch item is %zu bytes, Customer.io "
               "takes %d at most", item->len - item0,
               STATSIG_SINK_CIO_V2_ITEM_MAX);
        item->len = item0;
        return STATSIG_SINK_INVALID;
    }

    return STATSIG_SINK_OK;
}


int
statsig_sink_gainsight_px(statsig_sink_fmt_t *f, const char *event,
    size_t len, const statsig_sink_opts_t *o, statsig_buf_t *body,
    char *err, size_t errlen)
{
    const char             *name, *key;
    size_t                  name_len, key_len, body0;
    sg_id_t                 user_id, stable_id, account_id;
    sg_event_t              ev;
    int                     rc;

    sg_reset(f);
    body0 = body->len;

    if (body->failed) {
        return sg_nomem(NULL, 0, NULL, 0, err, errlen);
    }

    if (o->product_key == NULL || o->product_key_len == 0) {
        sg_err(err, errlen, "no Gainsight PX product key");
        return STATSIG_SINK_INVALID;
    }

    rc = sg_read(f, event, len, o, &ev, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    sg_identity(f, &ev, &user_id, &stable_id);

    if (user_id.s == NULL) {
        sg_err(err, errlen, "the user has no userID (Gainsight PX's "
               "identifyId)");
        return STATSIG_SINK_SKIP;
    }

    switch (ev.kind) {
    case STATSIG_SINK_KIND_GATE:
        name = "statsig_gate_exposure";
        name_len = 21;
        break;

    case STATSIG_SINK_KIND_CONFIG:
        name = "statsig_config_exposure";
        name_len = 23;
        break;

    case STATSIG_SINK_KIND_LAYER:
        name = "statsig_layer_exposure";
        name_len = 22;
        break;

    default:
        name = ev.name->u.str;
        name_len = sg_utf16_cut(name, ev.name->n, STATSIG_SINK_GPX_NAME_MAX);
        f->name_cut = (name_len < ev.name->n);
    }

    key = o->account_id_key ? o->account_id_key : "accountID";
    key_len = o->account_id_key ? o->account_id_key_len : 9;
    sg_id(sg_get(statsig_jobject_get(ev.user, "customIDs"), key, key_len),
          &account_id);

    if (sg_props(f, &ev, 1) != STATSIG_SINK_OK) {
        sg_err(err, errlen, "out of memory");
        return STATSIG_SINK_NOMEM;
    }

    statsig_buf_add(body, "{\"eventName\":", 13);
    statsig_buf_json_str(body, name, name_len);
    statsig_buf_add(body, ",\"identifyId\":", 14);
    statsig_buf_json_str(body, user_id.s, user_id.len);
    statsig_buf_add(body, ",\"propertyKey\":", 15);
    statsig_buf_json_str(body, o->product_key, o->product_key_len);
    statsig_buf_add(body, ",\"userType\":\"USER\",\"date\":", 26);
    statsig_buf_json_int(body, (long long) f->time_ms);

    if (account_id.s != NULL) {
        statsig_buf_add(body, ",\"accountId\":", 13);
        statsig_buf_json_str(body, account_id.s, account_id.len);
    }

    statsig_buf_add(body, ",\"attributes\":", 14);
    statsig_buf_add(body, f->props.data, f->props.len);
    statsig_buf_addc(body, '}');

    if (body->failed) {
        return sg_nomem(body, body0, NULL, 0, err, errlen);
    }

    return STATSIG_SINK_OK;
}


/* ---- a v2 batch's 207 answer ---- */

/* one part of a reason: control characters as spaces, whole characters */
static int
sg_reason_add(char *dst, size_t *used, const statsig_jnode_t *v)
{
    size_t  i, n, room;

    if (!statsig_jis(v, STATSIG_JT_STRING) || v->n == 0) {
        return 1;
    }

    if (*used > 0) {
        if (*used + 2 >= STATSIG_SINK_REASON_MAX) {
            return 0;
        }

        memcpy(dst + *used, ": ", 2);
        *used += 2;
    }

    room = STATSIG_SINK_REASON_MAX - 1 - *used;
    n = sg_utf8_cut(v->u.str, v->n, room);

    for (i = 0; i < n; i++) {
        unsigned char  c = (unsigned char) v->u.str[i];

        dst[*used + i] = (c < 0x20 || c == 0x7F) ? ' ' : (char) c;
    }

    *used += n;
    dst[*used] = '\0';

    return n == v->n;
}


int
statsig_sink_customerio_v2_failures(statsig_sink_fmt_t *f,
    const char *body, size_t len, size_t items,
    statsig_sink_cio_failure_t *out, size_t max, size_t *n, char *err,
    size_t errlen)
{
    const statsig_jnode_t  *root, *errors, *e, *bi;
    unsigned char          *seen;
    char                    jerr[160];
    size_t                  i, idx, count, used, off;
    double                  d;

    *n = 0;

    if (statsig_jtree_load(f->tree, body, len, &root, jerr, sizeof(jerr))
        != 0)
    {
        if (sg_is_oom(jerr)) {
            sg_err(err, errlen, "out of memory");
            return STATSIG_SINK_NOMEM;
        }

        sg_err(err, errlen, "the 207 answer is not JSON: %s", jerr);
        return STATSIG_SINK_INVALID;
    }

    errors = statsig_jobject_get(root, "errors");
    if (!statsig_jis(root, STATSIG_JT_OBJECT)
        || !statsig_jis(errors, STATSIG_JT_ARRAY))
    {
        sg_err(err, errlen, "the 207 answer has no \"errors\" array");
        return STATSIG_SINK_INVALID;
    }

    /* a bit an item: an item named twice is one failure */
    sg_scratch(&f->seen);
    off = statsig_buf_reserve(&f->seen, items / 8 + 1, 1);
    if (off == (size_t) -1) {
        sg_err(err, errlen, "out of memory");
        return STATSIG_SINK_NOMEM;
    }

    seen = (unsigned char *) f->seen.data + off;
    count = 0;

    for (i = 0; i < errors->n; i++) {
        e = &errors->u.items[i];
        bi = statsig_jobject_get(e, "batch_index");

        if (!statsig_jis(e, STATSIG_JT_OBJECT)) {
            sg_err(err, errlen, "errors[%zu] is not an object", i);
            return STATSIG_SINK_INVALID;
        }

        d = statsig_jnumber(bi);
        if (!statsig_jis(bi, STATSIG_JT_NUMBER) || d != floor(d) || d < 0
            || d >= (double) items)
        {
            sg_err(err, errlen, "errors[%zu].batch_index is not an item of "
                   "the batch (0 to %zu)", i, items ? items - 1 : 0);
            return STATSIG_SINK_INVALID;
        }

        idx = (size_t) d;
        if (seen[idx / 8] & (1u << (idx % 8))) {
            continue;
        }

        seen[idx / 8] |= (unsigned char) (1u << (idx % 8));

        if (count < max) {
            out[count].index = idx;
            out[count].reason[0] = '\0';
            used = 0;

            (void) (sg_reason_add(out[count].reason, &used,
                                  statsig_jobject_get(e, "reason"))
                    && sg_reason_add(out[count].reason, &used,
                                     statsig_jobject_get(e, "field"))
                    && sg_reason_add(out[count].reason, &used,
                                     statsig_jobject_get(e, "message")));
        }

        count++;
    }

    *n = count;

    return STATSIG_SINK_OK;
}


/* ---- relay surfaces: a vendor's own body, checked and normalised ---- */

/* a member, null read as absent (the vendors' decoders leave it unset) */
static const statsig_jnode_t *
sg_relay_get(const statsig_jnode_t *obj, const char *key)
{
    const statsig_jnode_t  *v;

    v = statsig_jobject_get(obj, key);

    return (v == NULL || v->type == STATSIG_JT_NULL) ? NULL : v;
}


/*
 * The body's root object.  jtree's reason is left out but for where: a
 * few of its reasons quote the input ("invalid Unicode '\uD800'").
 */
static int
sg_relay_load(statsig_sink_fmt_t *f, const char *body, size_t len,
    const statsig_jnode_t **root, char *err, size_t errlen)
{
    char  jerr[160];
    int   line, column;

    if (statsig_jtree_load(f->tree, body, len, root, jerr, sizeof(jerr))
        != 0)
    {
        if (sg_is_oom(jerr)) {
            sg_err(err, errlen, "out of memory");
            return STATSIG_SINK_NOMEM;
        }

        if (sscanf(jerr, "line %d, column %d", &line, &column) == 2) {
            sg_err(err, errlen, "the body is not JSON (line %d, column %d)",
                   line, column);

        } else {
            sg_err(err, errlen, "the body is not JSON");
        }

        return STATSIG_SINK_INVALID;
    }

    if (!statsig_jis(*root, STATSIG_JT_OBJECT)) {
        sg_err(err, errlen, "the body must be a JSON object");
        return STATSIG_SINK_INVALID;
    }

    return STATSIG_SINK_OK;
}


/*
 * An optional string member into *v (NULL when absent); required says
 * absent is INVALID, nonempty that "" is, max (0: none) its bytes.
 */
static int
sg_relay_str(const statsig_jnode_t *root, const char *key, int required,
    int nonempty, size_t max, const statsig_jnode_t **v, char *err,
    size_t errlen)
{
    *v = sg_relay_get(root, key);

    if (*v == NULL) {
        if (required) {
            sg_err(err, errlen, "\"%s\" is required", key);
            return STATSIG_SINK_INVALID;
        }

        return STATSIG_SINK_OK;
    }

    if ((*v)->type != STATSIG_JT_STRING) {
        sg_err(err, errlen, "\"%s\" must be a string", key);
        return STATSIG_SINK_INVALID;
    }

    if (nonempty && (*v)->n == 0) {
        sg_err(err, errlen, "\"%s\" must not be empty", key);
        return STATSIG_SINK_INVALID;
    }

    if (max > 0 && (*v)->n > max) {
        sg_err(err, errlen, "\"%s\" is longer than %zu bytes", key, max);
        return STATSIG_SINK_INVALID;
    }

    return STATSIG_SINK_OK;
}


/* an optional string member that must be one of a NULL-ended list */
static int
sg_relay_enum(const statsig_jnode_t *root, const char *key,
    const char *const *values, const char *reason,
    const statsig_jnode_t **v, char *err, size_t errlen)
{
    size_t  i;
    int     rc;

    rc = sg_relay_str(root, key, 0, 0, 0, v, err, errlen);
    if (rc != STATSIG_SINK_OK || *v == NULL) {
        return rc;
    }

    for (i = 0; values[i] != NULL; i++) {
        if (sg_str_is(*v, values[i], strlen(values[i]))) {
            return STATSIG_SINK_OK;
        }
    }

    sg_err(err, errlen, "%s", reason);

    return STATSIG_SINK_INVALID;
}


/*
 * An optional integer member into *out (left as it is when absent), read
 * by value as JSON.parse reads it; unit names it in the reason.
 */
static int
sg_relay_int(const statsig_jnode_t *root, const char *key, const char *unit,
    int64_t *out, char *err, size_t errlen)
{
    const statsig_jnode_t  *v;
    double                  d;

    v = sg_relay_get(root, key);
    if (v == NULL) {
        return STATSIG_SINK_OK;
    }

    d = statsig_jnumber(v);

    if (v->type != STATSIG_JT_NUMBER || d != floor(d) || d < 0
        || d > (double) STATSIG_SINK_RELAY_INT_MAX)
    {
        sg_err(err, errlen, "\"%s\" must be an integer from 0 to %lld (%s)",
               key, (long long) STATSIG_SINK_RELAY_INT_MAX, unit);
        return STATSIG_SINK_INVALID;
    }

    /* -0 is 0 */
    *out = (int64_t) d;

    return STATSIG_SINK_OK;
}


/* an optional object member into *v (NULL when absent) */
static int
sg_relay_obj(const statsig_jnode_t *root, const char *key,
    const statsig_jnode_t **v, char *err, size_t errlen)
{
    *v = sg_relay_get(root, key);

    if (*v != NULL && (*v)->type != STATSIG_JT_OBJECT) {
        sg_err(err, errlen, "\"%s\" must be an object", key);
        return STATSIG_SINK_INVALID;
    }

    return STATSIG_SINK_OK;
}


/* the root's members not in known (NULL-ended): left out, so counted */
static unsigned
sg_relay_unknown(const statsig_jnode_t *root, const char *const *known)
{
    const statsig_jmember_t  *m;
    unsigned                  n;
    uint32_t                  i;
    size_t                    k;

    n = 0;

    for (i = 0; i < root->n; i++) {
        m = &root->u.members[i];

        for (k = 0; known[k] != NULL; k++) {
            if (strlen(known[k]) == m->keylen
                && memcmp(known[k], m->key, m->keylen) == 0)
            {
                break;
            }
        }

        n += (known[k] == NULL);
    }

    return n;
}


/* now_ms as a time the checks would take back: [0, 2^53) */
static int64_t
sg_relay_now(int64_t now_ms)
{
    if (now_ms < 0) {
        return 0;
    }

    return now_ms > STATSIG_SINK_RELAY_INT_MAX ? STATSIG_SINK_RELAY_INT_MAX
                                               : now_ms;
}


/*
 * The id of a relayed Customer.io event without one.  Three fixed-size
 * digests in one buffer rather than the identifier and the body side by
 * side: no allocation, and no two (identifier, body) pairs hash the same
 * bytes ("a" + "bc" against "ab" + "c").
 */
static void
sg_relay_id(int64_t now_ms, const char *identifier, size_t id_len,
    const char *body, size_t len, char out[STATSIG_ULID_LEN])
{
    unsigned char  in[65], digest[32];

    memset(in, 0, sizeof(in));
    in[0] = (identifier != NULL);
    statsig_sha256(body, len, in + 1);

    if (identifier != NULL) {
        statsig_sha256(identifier, id_len, in + 33);
    }

    statsig_sha256(in, sizeof(in), digest);
    statsig_ulid(now_ms, digest, out);
}


int
statsig_relay_customerio(statsig_sink_fmt_t *f, const char *identifier,
    size_t id_len, const char *body, size_t len, int64_t now_ms,
    statsig_buf_t *path, statsig_buf_t *out, char *err, size_t errlen)
{
    static const char *const  types[] = { "event", "page", "screen", NULL };
    static const char *const  known_id[] = {
        "name", "type", "id", "timestamp", "data", NULL
    };
    static const char *const  known_anon[] = {
        "name", "type", "id", "timestamp", "anonymous_id", "data", NULL
    };

    const statsig_jnode_t    *root, *name, *type, *id, *anon, *data;
    const statsig_jmember_t  *m;
    const char               *s;
    size_t                    n, path0, out0;
    uint32_t                  i;
    int64_t                   ts;
    int                       rc, first;

    sg_reset(f);
    path0 = path->len;
    out0 = out->len;

    if (path->failed || out->failed) {
        return sg_nomem(NULL, 0, NULL, 0, err, errlen);
    }

    f->kind = STATSIG_SINK_KIND_CUSTOM;
    f->route = identifier ? STATSIG_SINK_ROUTE_IDENTIFIED
                          : STATSIG_SINK_ROUTE_ANONYMOUS;
    now_ms = sg_relay_now(now_ms);

    if (identifier != NULL) {
        if (id_len == 0) {
            sg_err(err, errlen, "the identifier is empty");
            return STATSIG_SINK_INVALID;
        }

        if (id_len > STATSIG_SINK_CIO_ID_MAX) {
            sg_err(err, errlen, "the identifier is longer than %d bytes",
                   STATSIG_SINK_CIO_ID_MAX);
            return STATSIG_SINK_INVALID;
        }

        /* as for a userID: no encoding keeps these from dot segments */
        if ((id_len == 1 && identifier[0] == '.')
            || (id_len == 2 && memcmp(identifier, "..", 2) == 0))
        {
            sg_err(err, errlen, "the identifier cannot be \".\" or \"..\"");
            return STATSIG_SINK_INVALID;
        }
    }

    rc = sg_relay_load(f, body, len, &root, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    rc = sg_relay_str(root, "name", 1, 0, 0, &name, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    /* Customer.io trims the name before it keeps it: check what it keeps */
    s = name->u.str;
    n = name->n;

    while (n > 0 && sg_is_space(s[0])) {
        s++;
        n--;
    }

    while (n > 0 && sg_is_space(s[n - 1])) {
        n--;
    }

    if (n == 0) {
        sg_err(err, errlen, "\"name\" must not be empty");
        return STATSIG_SINK_INVALID;
    }

    if (n > STATSIG_SINK_CIO_NAME_MAX) {
        sg_err(err, errlen, "\"name\" is longer than %d bytes",
               STATSIG_SINK_CIO_NAME_MAX);
        return STATSIG_SINK_INVALID;
    }

    rc = sg_relay_enum(root, "type", types,
                       "\"type\" must be \"event\", \"page\" or \"screen\"",
                       &type, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    rc = sg_relay_str(root, "id", 0, 1, STATSIG_SINK_CIO_EVENT_ID_MAX, &id,
                      err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    ts = now_ms / 1000;
    rc = sg_relay_int(root, "timestamp", "seconds", &ts, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    anon = NULL;
    if (identifier == NULL) {
        rc = sg_relay_str(root, "anonymous_id", 0, 1,
                          STATSIG_SINK_CIO_ID_MAX, &anon, err, errlen);
        if (rc != STATSIG_SINK_OK) {
            return rc;
        }
    }

    rc = sg_relay_obj(root, "data", &data, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    f->dropped = sg_relay_unknown(root, identifier ? known_id : known_anon);

    /* data as it will be sent, its size measured before anything is out */
    if (data != NULL) {
        sg_scratch(&f->props);
        statsig_buf_addc(&f->props, '{');
        first = 1;

        for (i = 0; i < data->n; i++) {
            m = &data->u.members[i];

            if (sg_cio_reserved(m->key, m->keylen)) {
                f->dropped++;
                continue;
            }

            if (!first) {
                statsig_buf_addc(&f->props, ',');
            }

            first = 0;
            statsig_buf_json_str(&f->props, m->key, m->keylen);
            statsig_buf_addc(&f->props, ':');
            sg_put(&f->props, &m->value);
        }

        statsig_buf_addc(&f->props, '}');

        if (f->props.failed) {
            return sg_nomem(NULL, 0, NULL, 0, err, errlen);
        }

        if (f->props.len > STATSIG_SINK_CIO_DATA_MAX) {
            sg_err(err, errlen, "\"data\" is longer than %d bytes",
                   STATSIG_SINK_CIO_DATA_MAX);
            return STATSIG_SINK_INVALID;
        }
    }

    f->time_ms = ts * 1000;

    if (id == NULL) {
        sg_relay_id(now_ms, identifier, id_len, body, len, f->id);
        f->id[STATSIG_ULID_LEN] = '\0';
    }

    if (identifier != NULL) {
        statsig_buf_add(path, "/customers/", 11);
        sg_url_segment(path, identifier, id_len);
        statsig_buf_add(path, "/events", 7);

    } else {
        statsig_buf_add(path, "/events", 7);
    }

    statsig_buf_add(out, "{\"name\":", 8);
    statsig_buf_json_str(out, s, n);

    if (anon != NULL) {
        statsig_buf_add(out, ",\"anonymous_id\":", 16);
        statsig_buf_json_str(out, anon->u.str, anon->n);
    }

    if (type != NULL) {
        statsig_buf_add(out, ",\"type\":", 8);
        statsig_buf_json_str(out, type->u.str, type->n);
    }

    statsig_buf_add(out, ",\"id\":", 6);

    if (id != NULL) {
        statsig_buf_json_str(out, id->u.str, id->n);

    } else {
        statsig_buf_addc(out, '"');
        statsig_buf_add(out, f->id, STATSIG_ULID_LEN);
        statsig_buf_addc(out, '"');
    }

    statsig_buf_add(out, ",\"timestamp\":", 13);
    statsig_buf_json_int(out, (long long) ts);

    if (data != NULL) {
        statsig_buf_add(out, ",\"data\":", 8);
        statsig_buf_add(out, f->props.data, f->props.len);
    }

    statsig_buf_addc(out, '}');

    if (path->failed || out->failed) {
        return sg_nomem(path, path0, out, out0, err, errlen);
    }

    return STATSIG_SINK_OK;
}


/*
 * An attribute refused, named: its key cut to 40 bytes at a character
 * (jtree's keys are valid UTF-8), control characters as '?', so that
 * the reason stays short and one line.
 */
static void
sg_relay_attr_err(const char *key, size_t klen, char *err, size_t errlen)
{
    char    name[48];
    size_t  i, n;

    n = sg_utf8_cut(key, klen, 40);

    for (i = 0; i < n; i++) {
        name[i] = ((unsigned char) key[i] < 0x20 || key[i] == 0x7F)
                  ? '?' : key[i];
    }

    if (n < klen) {
        memcpy(name + n, "...", 3);
        n += 3;
    }

    name[n] = '\0';

    sg_err(err, errlen, "\"attributes\" member \"%s\" must be a string, "
           "number or boolean", name);
}


int
statsig_relay_gainsight_px(statsig_sink_fmt_t *f, const char *body,
    size_t len, const char *product_key, size_t pk_len, int64_t now_ms,
    statsig_buf_t *out, char *err, size_t errlen)
{
    static const char *const  user_types[] = {
        "USER", "LEAD", "VISITOR", "EMPTY_USER_TYPE", NULL
    };
    static const char *const  strs[] = {
        "accountId", "sessionId", "url", "referrer", "remoteHost",
        "eventId", "eventType", NULL
    };
    static const char *const  known[] = {
        "eventName", "identifyId", "propertyKey", "userType", "date",
        "accountId", "sessionId", "url", "referrer", "remoteHost",
        "eventId", "eventType", "attributes", "globalContext", NULL
    };

    const statsig_jnode_t    *root, *name, *ident, *pkey, *utype, *attrs;
    const statsig_jnode_t    *ctx, *sv[sizeof(strs) / sizeof(strs[0]) - 1];
    const statsig_jmember_t  *m;
    size_t                    out0, k;
    uint32_t                  i;
    int64_t                   date;
    int                       rc;

    sg_reset(f);
    out0 = out->len;

    if (out->failed) {
        return sg_nomem(NULL, 0, NULL, 0, err, errlen);
    }

    f->kind = STATSIG_SINK_KIND_CUSTOM;
    f->route = STATSIG_SINK_ROUTE_IDENTIFIED;

    rc = sg_relay_load(f, body, len, &root, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    rc = sg_relay_str(root, "eventName", 1, 1, 0, &name, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    /* Gainsight counts Java chars; 4 bytes of UTF-8 are never fewer */
    if (name->n > STATSIG_SINK_GPX_NAME_MAX
        && statsig_js_length(name->u.str, name->n) > STATSIG_SINK_GPX_NAME_MAX)
    {
        sg_err(err, errlen, "\"eventName\" is longer than %d UTF-16 units",
               STATSIG_SINK_GPX_NAME_MAX);
        return STATSIG_SINK_INVALID;
    }

    rc = sg_relay_str(root, "identifyId", 1, 1, 0, &ident, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    /* the product key is the default: required only when there is none */
    rc = sg_relay_str(root, "propertyKey", product_key == NULL || pk_len == 0,
                      1, 0, &pkey, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    rc = sg_relay_enum(root, "userType", user_types,
                       "\"userType\" must be USER, LEAD, VISITOR or "
                       "EMPTY_USER_TYPE", &utype, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    date = sg_relay_now(now_ms);
    rc = sg_relay_int(root, "date", "ms", &date, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    for (k = 0; strs[k] != NULL; k++) {
        rc = sg_relay_str(root, strs[k], 0, 0, 0, &sv[k], err, errlen);
        if (rc != STATSIG_SINK_OK) {
            return rc;
        }
    }

    rc = sg_relay_obj(root, "attributes", &attrs, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    if (attrs != NULL) {
        if (attrs->n > STATSIG_SINK_GPX_ATTRS_MAX) {
            sg_err(err, errlen, "\"attributes\" has more than %d members",
                   STATSIG_SINK_GPX_ATTRS_MAX);
            return STATSIG_SINK_INVALID;
        }

        for (i = 0; i < attrs->n; i++) {
            m = &attrs->u.members[i];

            if (m->keylen > STATSIG_SINK_GPX_KEY_MAX
                && statsig_js_length(m->key, m->keylen)
                    > STATSIG_SINK_GPX_KEY_MAX)
            {
                sg_err(err, errlen, "an \"attributes\" key is longer than "
                       "%d UTF-16 units", STATSIG_SINK_GPX_KEY_MAX);
                return STATSIG_SINK_INVALID;
            }

            if (!(m->value.type == STATSIG_JT_STRING
                  || m->value.type == STATSIG_JT_NUMBER
                  || statsig_jis_bool(&m->value)))
            {
                sg_relay_attr_err(m->key, m->keylen, err, errlen);
                return STATSIG_SINK_INVALID;
            }
        }
    }

    rc = sg_relay_obj(root, "globalContext", &ctx, err, errlen);
    if (rc != STATSIG_SINK_OK) {
        return rc;
    }

    f->dropped = sg_relay_unknown(root, known);
    f->time_ms = date;

    statsig_buf_add(out, "{\"eventName\":", 13);
    statsig_buf_json_str(out, name->u.str, name->n);
    statsig_buf_add(out, ",\"identifyId\":", 14);
    statsig_buf_json_str(out, ident->u.str, ident->n);
    statsig_buf_add(out, ",\"propertyKey\":", 15);

    if (pkey != NULL) {
        statsig_buf_json_str(out, pkey->u.str, pkey->n);

    } else {
        statsig_buf_json_str(out, product_key, pk_len);
    }

    statsig_buf_add(out, ",\"userType\":", 12);

    if (utype != NULL) {
        statsig_buf_json_str(out, utype->u.str, utype->n);

    } else {
        statsig_buf_add(out, "\"USER\"", 6);
    }

    statsig_buf_add(out, ",\"date\":", 8);
    statsig_buf_json_int(out, (long long) date);

    for (k = 0; strs[k] != NULL; k++) {
        if (sv[k] != NULL) {
            statsig_buf_addc(out, ',');
            statsig_buf_json_str(out, strs[k], strlen(strs[k]));
            statsig_buf_addc(out, ':');
            statsig_buf_json_str(out, sv[k]->u.str, sv[k]->n);
        }
    }

    if (attrs != NULL) {
        statsig_buf_add(out, ",\"attributes\":", 14);
        sg_put(out, attrs);
    }

    if (ctx != NULL) {
        statsig_buf_add(out, ",\"globalContext\":", 17);
        sg_put(out, ctx);
    }

    statsig_buf_addc(out, '}');

    if (out->failed) {
        return sg_nomem(out, out0, NULL, 0, err, errlen);
    }

    return STATSIG_SINK_OK;
}
