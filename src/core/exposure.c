/*
 * Exposure and custom event records as statsig-node 6.x logs them.
 *
 * The field order follows LogEvent.toObject() and the metadata builders of
 * LogEventProcessor, so that a byte comparison with the SDK's output only
 * differs in times.  configSyncTime, initTime and serverTime are numbers,
 * as statsig-node sends them, although Statsig documents metadata as
 * strings.
 */

#include <stdint.h>
#include <string.h>

#include "exposure.h"
#include "hash.h"
#include "initialize.h"
#include "jsnum.h"
#include "runtime.h"
#include "snapshot.h"


/*
 * The writers of every event inline what fits the buffer already (the
 * buffer is reused, so it nearly always does) and leave growth to buf.c.
 */

static inline void
sg_add(statsig_buf_t *b, const char *s, size_t n)
{
    if (b->cap - b->len >= n && !b->failed) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return;
    }

    statsig_buf_add(b, s, n);
}


static inline void
sg_addc(statsig_buf_t *b, char c)
{
    if (b->cap > b->len && !b->failed) {
        b->data[b->len++] = c;
        return;
    }

    statsig_buf_addc(b, c);
}


#define sg_addl(b, lit)  sg_add(b, lit, sizeof(lit) - 1)


/* statsig_buf_json_str(), inline for printable ASCII with nothing to
 * escape (names, rule IDs, most user values), as JSON.stringify writes it */
static inline void
sg_json_str(statsig_buf_t *b, const char *s, size_t n)
{
    if (!statsig_json_plain(s, n)) {
        statsig_buf_json_escape(b, s, n);
        return;
    }

    if (b->cap - b->len >= n + 2 && !b->failed) {
        b->data[b->len] = '"';
        statsig_mem_copy(b->data + b->len + 1, s, n);
        b->data[b->len + 1 + n] = '"';
        b->len += n + 2;
        return;
    }

    /* no room: the buffer grows there */
    statsig_buf_json_str(b, s, n);
}


/* an object member's start: its comma unless it is the first, "key": */
static inline void
sg_json_member(statsig_buf_t *b, int *first, const char *k, size_t kl)
{
    if (!*first) {
        sg_addc(b, ',');
    }

    *first = 0;
    sg_json_str(b, k, kl);
    sg_addc(b, ':');
}


/*
 * ,"key":"value" as they are, when they fit the buffer (a user's fields
 * are mostly short strings): 1, or 0 to write it the long way.  Whether
 * they needed escapes is checked after a run of them (sg_pairs_plain).
 */
static inline int
sg_json_pair_raw(statsig_buf_t *b, int comma, const char *k, size_t kl,
    const char *v, size_t vl)
{
    char  *d;

    if (b->failed || b->cap - b->len < kl + vl + 6) {
        return 0;
    }

    d = b->data + b->len;
    *d = ',';
    d += comma;
    *d++ = '"';
    statsig_mem_copy(d, k, kl);
    d += kl;
    memcpy(d, "\":\"", 3);
    d += 3;
    statsig_mem_copy(d, v, vl);
    d += vl;
    *d++ = '"';
    b->len = (size_t) (d - b->data);

    return 1;
}


/*
 * Whether n bytes of pairs written by sg_json_pair_raw() were written
 * as JSON.stringify writes them: no byte below 0x20 or past 0x7f, no
 * backslash, and quotes only as the pairs' own (4 each), so that no key
 * or value holds one: statsig_json_plain() of each, for the run at once.
 */
static int
sg_pairs_plain(const char *s, size_t n, size_t pairs)
{
    size_t    i, quotes;
    unsigned  c;
#if defined(__SSE2__)
    static const unsigned char  last[32] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
    };

    __m128i   v, bad, sum;
#endif

    quotes = 0;
    i = 0;

#if defined(__SSE2__)
    /*
     * 16 bytes a step, what needs an escape gathered and checked once
     * (signed: bytes past 0x7f are below 0x20 too); the quotes counted a
     * byte lane each, 255 steps at most
     */
    if (n >= 16 && n <= 255 * 16) {
        bad = _mm_setzero_si128();
        sum = _mm_setzero_si128();

        for ( /* void */ ; i + 16 < n; i += 16) {
            v = _mm_loadu_si128((const __m128i *) (s + i));
            bad = _mm_or_si128(bad,
                      _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
            sum = _mm_sub_epi8(sum, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
        }

        /* the last 16 bytes, the quotes of the c counted before left out */
        c = (unsigned) (i + 16 - n);
        v = _mm_loadu_si128((const __m128i *) (s + n - 16));
        bad = _mm_or_si128(bad,
                  _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                               _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
        sum = _mm_sub_epi8(sum,
                  _mm_and_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                _mm_loadu_si128((const __m128i *)
                                                (last + 16 - c))));

        if (_mm_movemask_epi8(bad) != 0) {
            return 0;
        }

        sum = _mm_sad_epu8(sum, _mm_setzero_si128());
        quotes = (size_t) _mm_cvtsi128_si32(sum)
                 + (size_t) _mm_cvtsi128_si32(_mm_srli_si128(sum, 8));

        return quotes == 4 * pairs;
    }
#endif

    for ( /* void */ ; i < n; i++) {
        c = (unsigned char) s[i];

        if (c < 0x20 || c > 0x7f || c == '\\') {
            return 0;
        }

        quotes += c == '"';
    }

    return quotes == 4 * pairs;
}


typedef struct {
    statsig_buf_t  *b;
    statsig_buf_t  *key;        /* dedupe key, or NULL */
    unsigned        first:1;
    unsigned        nkey;       /* metadata values in the key */
    size_t          head_from;  /* where the event starts in b */
    size_t          key_from;   /* where the event name starts in key */
} sg_meta_t;


/* the reason member of the metadata, after its comma */
static void
sg_reason(statsig_buf_t *b, statsig_reason_e r)
{
    switch (r) {

    case STATSIG_REASON_NETWORK:
        sg_addl(b, "\"reason\":\"Network\"");
        return;

    case STATSIG_REASON_UNRECOGNIZED:
        sg_addl(b, "\"reason\":\"Unrecognized\"");
        return;

    case STATSIG_REASON_UNSUPPORTED:
        sg_addl(b, "\"reason\":\"Unsupported\"");
        return;

    default: /* STATSIG_REASON_ERROR */
        sg_addl(b, "\"reason\":\"Error\"");
        return;
    }
}


void
statsig_exposure_value(statsig_buf_t *b, const statsig_value_t *v)
{
    size_t  i;
    int     first;

    switch (v->type) {

    case STATSIG_V_BOOL:
        if (v->b) {
            sg_addl(b, "true");

        } else {
            sg_addl(b, "false");
        }

        return;

    case STATSIG_V_NUMBER:
        statsig_buf_json_num(b, v->num);
        return;

    case STATSIG_V_STRING:
        sg_json_str(b, v->str, v->len);
        return;

    case STATSIG_V_ARRAY:
        sg_addc(b, '[');
        for (i = 0; i < v->n; i++) {
            if (i) {
                sg_addc(b, ',');
            }

            /* JSON.stringify writes undefined array items as null */
            statsig_exposure_value(b, &v->items[i]);
        }

        sg_addc(b, ']');
        return;

    case STATSIG_V_OBJECT:
        sg_addc(b, '{');
        first = 1;
        for (i = 0; i < v->n; i++) {
            if (v->items[i].type == STATSIG_V_UNDEFINED) {
                continue;
            }

            sg_json_member(b, &first, v->keys[i], v->key_lens[i]);
            statsig_exposure_value(b, &v->items[i]);
        }

        sg_addc(b, '}');
        return;

    default:
        sg_addl(b, "null");
        return;
    }
}


/*
 * The environment _normalizeUser puts on the user: the SDK option
 * (a {tier} object), else the DCS default_environment as {tier}.
 * Returns 0 when neither exists.
 */
static int
sg_put_sdk_environment(statsig_buf_t *b, statsig_eval_ctx_t *ctx)
{
    const sg_header_t  *h;

    if (ctx->rt->has_env) {
        statsig_exposure_value(b, &ctx->rt->env);
        return 1;
    }

    h = (const sg_header_t *) ctx->snap;
    if (h == NULL || !h->has_default_environment) {
        return 0;
    }

    sg_addl(b, "{\"tier\":");
    statsig_buf_json_str(b, (const char *) ctx->snap
                            + h->default_environment.off,
                         h->default_environment.len);
    sg_addc(b, '}');

    return 1;
}


static int
sg_has_sdk_environment(statsig_eval_ctx_t *ctx)
{
    /* no snapshot yet (custom events before specs load): no default */
    return ctx->rt->has_env
           || (ctx->snap != NULL
               && ((const sg_header_t *) ctx->snap)->has_default_environment);
}


/* a user's field written as it is, when it can be: a string, neither
 * privateAttributes nor statsigEnvironment (by the length of the key) */
#define SG_USER_RAW(v, kl)                                                    \
    ((v)->type == STATSIG_V_STRING && (kl) != 17 && (kl) != 18)


/*
 * A run of pairs written as they are from b[from] on, of the user's
 * fields i0 .. i1 - 1 (those SG_USER_RAW: the others there were skipped):
 * kept when none needed an escape, else written again the long way.
 * Returns first after them.
 */
static int
sg_user_run(statsig_buf_t *b, const statsig_value_t *u, size_t from,
    size_t i0, size_t i1, size_t pairs, int first_at, int first)
{
    size_t  j;

    if (sg_pairs_plain(b->data + from, b->len - from, pairs)) {
        return first;
    }

    b->len = from;
    first = first_at;

    for (j = i0; j < i1; j++) {
        if (!SG_USER_RAW(&u->items[j], u->key_lens[j])) {
            continue;
        }

        sg_json_member(b, &first, u->keys[j], u->key_lens[j]);
        sg_json_str(b, u->items[j].str, u->items[j].len);
    }

    return first;
}


void
statsig_exposure_user(statsig_buf_t *b, statsig_eval_ctx_t *ctx,
    statsig_user_mode_e mode)
{
    const statsig_value_t  *u, *own;
    size_t                  i, run, run_from, run_i;
    int                     first, env, seen_env, seen_private, run_first;

    u = ctx->user;
    run = 0;
    run_from = 0;
    run_i = 0;
    run_first = 0;

    if (u == NULL || u->type != STATSIG_V_OBJECT) {
        sg_addl(b, "null");
        return;
    }

    /* events always take the SDK's environment; initialize only fills a
     * missing one (StatsigServer.getClientInitializeResponse) */
    own = statsig_value_get(u, "statsigEnvironment", 18);
    env = sg_has_sdk_environment(ctx)
          && (mode == STATSIG_USER_EVENT || statsig_value_nullish(own));

    sg_addc(b, '{');
    first = 1;
    seen_env = 0;
    seen_private = 0;

    for (i = 0; i < u->n; i++) {
        const char  *k = u->keys[i];
        size_t       kl = u->key_lens[i];

        if (u->items[i].type == STATSIG_V_UNDEFINED) {
            continue;
        }

        if (kl == 17 && memcmp(k, "privateAttributes", 17) == 0) {
            if (mode == STATSIG_USER_INIT || seen_private) {
                continue;
            }

            seen_private = 1;
        }

        /*
         * string fields as they are, in runs checked after (mostly no
         * escapes); privateAttributes and statsigEnvironment the long way
         */
        if (SG_USER_RAW(&u->items[i], kl)) {
            if (run == 0) {
                run_from = b->len;
                run_i = i;
                run_first = first;
            }

            if (sg_json_pair_raw(b, !first, k, kl, u->items[i].str,
                                 u->items[i].len))
            {
                run++;
                first = 0;
                continue;
            }
        }

        if (run) {
            first = sg_user_run(b, u, run_from, run_i, i, run, run_first,
                                first);
            run = 0;
        }

        sg_json_member(b, &first, k, kl);

        if (kl == 17 && memcmp(k, "privateAttributes", 17) == 0) {
            sg_addl(b, "null");

        } else if (env && kl == 18 && memcmp(k, "statsigEnvironment", 18) == 0)
        {
            seen_env = 1;
            sg_put_sdk_environment(b, ctx);

        } else {
            statsig_exposure_value(b, &u->items[i]);
        }
    }

    if (run) {
        first = sg_user_run(b, u, run_from, run_i, u->n, run, run_first,
                            first);
    }

    /* the literals with their comma, the first byte skipped when first */
    if (env && !seen_env) {
        sg_add(b, &",\"statsigEnvironment\":"[first],
               sizeof(",\"statsigEnvironment\":") - 1 - first);
        sg_put_sdk_environment(b, ctx);
        first = 0;
    }

    if (mode == STATSIG_USER_EVENT && !seen_private) {
        sg_add(b, &",\"privateAttributes\":null"[first],
               sizeof(",\"privateAttributes\":null") - 1 - first);
    }

    sg_addc(b, '}');
}


/* ---- dedupe key: [userID, customIDs, eventName, metadata].join() ---- */

/* an element of Array.prototype.join: null and undefined are "" */
static void
sg_key_join_item(statsig_buf_t *k, const statsig_value_t *v)
{
    if (!statsig_value_nullish(v)) {
        statsig_buf_add(k, v->str, v->len);
    }
}


void
statsig_exposure_key_prefix(statsig_buf_t *k, statsig_eval_ctx_t *ctx)
{
    const statsig_value_t  *u, *ids;
    size_t                  i;

    u = ctx->user;

    if (u != NULL && u->type == STATSIG_V_OBJECT) {
        sg_key_join_item(k, statsig_value_get(u, "userID", 6));
    }

    statsig_buf_addc(k, ',');

    ids = (u != NULL && u->type == STATSIG_V_OBJECT)
          ? statsig_value_get(u, "customIDs", 9) : NULL;

    /* Object.values(customIDs).join() for objects and arrays */
    if (ids != NULL
        && (ids->type == STATSIG_V_OBJECT || ids->type == STATSIG_V_ARRAY))
    {
        for (i = 0; i < ids->n; i++) {
            if (i) {
                statsig_buf_addc(k, ',');
            }

            sg_key_join_item(k, &ids->items[i]);
        }
    }

    statsig_buf_addc(k, ',');
}


static void
sg_key_start(statsig_buf_t *k, const statsig_exposure_opts_t *o,
    const char *event, size_t len)
{
    k->len = 0;

    if (o->key_hash != NULL) {
        *o->key_hash = 0;
    }

    if (o->key_prefix != NULL) {
        sg_add(k, o->key_prefix, o->key_prefix_len);

    } else {
        statsig_exposure_key_prefix(k, o->ctx);
    }

    sg_add(k, event, len);
    sg_addc(k, ',');
}


/* ---- metadata ---- */

/*
 * Member names are plain ASCII literals: written with their quotes and
 * colon as one string ("\"gate\":"), nothing to escape.
 */
#define sg_meta_key(m, key)                                                 \
    sg_meta_lit(m, "\"" key "\":", sizeof("\"" key "\":") - 1)
#define sg_meta_str(m, key, v, len)                                         \
    sg_meta_str_lit(m, "\"" key "\":", sizeof("\"" key "\":") - 1, v, len)
#define sg_meta_bool(m, key, v)                                             \
    sg_meta_str(m, key, (v) ? "true" : "false", (v) ? 4 : 5)


static void
sg_meta_lit(sg_meta_t *m, const char *lit, size_t n)
{
    if (m->b == NULL) {
        return;
    }

    if (!m->first) {
        sg_addc(m->b, ',');
    }

    m->first = 0;
    sg_add(m->b, lit, n);
}


/* a string member that takes part in the dedupe key */
static void
sg_meta_str_lit(sg_meta_t *m, const char *lit, size_t n, const char *v,
    size_t len)
{
    sg_meta_lit(m, lit, n);

    if (m->b != NULL) {
        sg_json_str(m->b, v, len);
    }

    if (m->key != NULL) {
        if (m->nkey++) {
            sg_addc(m->key, ',');
        }

        sg_add(m->key, v, len);
    }
}


/* the version of the spec that produced the result: 1, or 0 for none */
static int
sg_result_version(const statsig_result_t *r, double *version)
{
    const statsig_spec_t  *spec;

    spec = r->delegate ? r->delegate : r->spec;
    if (spec == NULL || r->reason == STATSIG_REASON_UNRECOGNIZED
        || !spec->has_version)
    {
        *version = 0;
        return 0;
    }

    *version = spec->version;
    return 1;
}


/* configVersion: String(version) of the spec that produced the result */
static void
sg_meta_version(sg_meta_t *m, const statsig_result_t *r)
{
    char    tmp[STATSIG_NUMBER_STR_SIZE];
    double  version;
    size_t  n;

    if (!sg_result_version(r, &version)) {
        return;
    }

    n = statsig_js_number_to_string(version, tmp);
    sg_meta_str(m, "configVersion", tmp, n);
}


/* d as JSON, the digits of same (s, n) when d is the same number */
static void
sg_num_as(statsig_buf_t *b, double d, double same, const char *s, size_t n)
{
    char  tmp[STATSIG_NUMBER_STR_SIZE];

    if (d == same) {
        sg_add(b, s, n);
        return;
    }

    n = statsig_json_num(tmp, d);
    sg_add(b, tmp, n);
}


/*
 * d's JSON through m (may be NULL): the digits of m's number when d is
 * it; when both are whole numbers from 1 to 2^53 and d is less than
 * 2^32 past it, its digits plus the difference, done in decimal (a
 * carry past the first digit is converted instead).  The digits are
 * then m's.
 */
#define SG_NUM_WHOLE_MAX  9007199254740992.0        /* 2^53 */

static size_t
sg_num_memo(char *out, double d, statsig_exposure_memo_num_t *m)
{
    uint64_t  c;
    size_t    n, i;
    unsigned  v;

    if (m == NULL) {
        return statsig_json_num(out, d);
    }

    n = m->len;

    if (n && d == m->value) {
        memcpy(out, m->digits, sizeof(m->digits));
        return n;
    }

    if (n && d > m->value && d - m->value < 4294967296.0
        && d < SG_NUM_WHOLE_MAX && d == (double) (uint64_t) d)
    {
        memcpy(out, m->digits, sizeof(m->digits));

        /* m->value is whole and at least 1: m->len is set for no other */
        for (c = (uint64_t) (d - m->value), i = n; c && i > 0; /* void */) {
            i--;
            v = (unsigned) (out[i] - '0') + (unsigned) (c % 10);
            c /= 10;

            if (v >= 10) {
                v -= 10;
                c++;
            }

            out[i] = (char) ('0' + v);
        }

        if (c == 0) {
            memcpy(m->digits, out, sizeof(m->digits));
            m->value = d;
            return n;
        }
    }

    n = statsig_json_num(out, d);

    if (d >= 1 && d < SG_NUM_WHOLE_MAX && d == (double) (uint64_t) d
        && n < sizeof(m->digits))
    {
        memcpy(m->digits, out, n);
        m->len = (uint8_t) n;
        m->value = d;

    } else {
        m->len = 0;
    }

    return n;
}


/*
 * What follows the reason in every exposure of one user, snapshot and
 * time: the rest of the metadata, time, user, value, and the
 * "secondaryExposures" key.
 */
void
statsig_exposure_tail(statsig_buf_t *b, const statsig_exposure_opts_t *o)
{
    char    sync[STATSIG_NUMBER_STR_SIZE], now[STATSIG_NUMBER_STR_SIZE];
    size_t  sync_len, now_len;

    /*
     * initTime is configSyncTime and serverTime the event's time, as the
     * module sets them: their digits are written once, from those of the
     * last tail when the memo has them
     */
    sync_len = sg_num_memo(sync, o->config_sync_time,
                           o->memo ? &o->memo->sync : NULL);
    now_len = sg_num_memo(now, o->time, o->memo ? &o->memo->time : NULL);

    sg_addl(b, ",\"configSyncTime\":");
    sg_add(b, sync, sync_len);
    sg_addl(b, ",\"initTime\":");
    sg_num_as(b, o->init_time, o->config_sync_time, sync, sync_len);
    sg_addl(b, ",\"serverTime\":");
    sg_num_as(b, o->server_time, o->time, now, now_len);
    sg_addl(b, "},\"time\":");
    sg_add(b, now, now_len);
    sg_addl(b, ",\"user\":");
    statsig_exposure_user(b, o->ctx, STATSIG_USER_EVENT);
    sg_addl(b, ",\"value\":null,\"secondaryExposures\":");
}


/* safeAddEvaulationDetailsToEvent: the reason (not part of the key) */
static void
sg_event_reason(sg_meta_t *m, const statsig_result_t *r)
{
    if (m->b == NULL) {
        return;
    }

    if (!m->first) {
        sg_addc(m->b, ',');
    }

    sg_reason(m->b, r->reason);
}


/*
 * After the reason: the end of the metadata, time, user, value,
 * secondaryExposures, statsigMetadata
 */
static int
sg_event_rest(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    uint32_t exp_off, uint32_t exp_len)
{
    if (o->dedupe_key != NULL && o->dedupe_key->failed) {
        return -1;
    }

    if (b == NULL) {
        return 1;
    }

    if (o->tail != NULL) {
        sg_add(b, o->tail, o->tail_len);

    } else {
        statsig_exposure_tail(b, o);
    }

    if (exp_len == 0) {
        sg_addl(b, "[]");

    } else {
        statsig_exposures_json(b, o->ctx, exp_off, exp_len,
                               STATSIG_HASH_NONE);
    }

    /* sampling (sdk_configs.sampling_mode) is not applied: every exposure
     * is logged, which is always correct */
    sg_addl(b, ",\"statsigMetadata\":{}}");

    return b->failed ? -1 : 1;
}


static int
sg_event_finish(sg_meta_t *m, const statsig_exposure_opts_t *o,
    const statsig_result_t *r, uint32_t exp_off, uint32_t exp_len)
{
    sg_event_reason(m, r);

    return sg_event_rest(m->b, o, exp_off, exp_len);
}


/* ---- the dedupe key's hash ---- */

#define SG_MM_M  0xc6a4a7935bd1e995ULL

static inline uint64_t
sg_mm_block(uint64_t h, uint64_t k)
{
    k *= SG_MM_M;
    k ^= k >> 47;
    k *= SG_MM_M;

    return (h ^ k) * SG_MM_M;
}


/* n (0 .. 8) bytes as one load of them would put them in a word */
static inline uint64_t
sg_mm_load(const unsigned char *s, size_t n)
{
    uint64_t  k;

    if (n == 8) {
        memcpy(&k, s, 8);
        return k;
    }

    return statsig_load_tail((const char *) s, n);
}


uint64_t
statsig_exposure_key_hash(const void *a, size_t alen, const void *b,
    size_t blen)
{
    const unsigned char  *p, *q;
    uint64_t              h, k, k2;
    size_t                i, r, n;

    p = a;
    q = b;
    h = 0x5354455645ULL ^ ((alen + blen) * SG_MM_M);

    for (i = 0; alen - i >= 8; i += 8) {
        memcpy(&k, p + i, 8);
        h = sg_mm_block(h, k);
    }

    /*
     * a's last r bytes and b's first 8 - r make a block (b is then read
     * in blocks from there), or all there is left when b is shorter
     */
    r = alen - i;

    if (r) {
        n = blen < 8 - r ? blen : 8 - r;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        k = sg_mm_load(p + i, r) | sg_mm_load(q, n) << (8 * r);
#else
        k = 0;
        memcpy(&k, p + i, r);
        memcpy((unsigned char *) &k + r, q, n);
#endif

        if (n < 8 - r) {
            /* all there is left */
            h = (h ^ k) * SG_MM_M;
            goto done;
        }

        h = sg_mm_block(h, k);
        q += 8 - r;
        blen -= 8 - r;
    }

    /* two blocks a step: the key's rest is ten or so */
    for (i = 0; blen - i >= 16; i += 16) {
        memcpy(&k, q + i, 8);
        memcpy(&k2, q + i + 8, 8);
        h = sg_mm_block(sg_mm_block(h, k), k2);
    }

    if (blen - i >= 8) {
        memcpy(&k, q + i, 8);
        h = sg_mm_block(h, k);
        i += 8;
    }

    if (blen > i) {
        h = (h ^ sg_mm_load(q + i, blen - i)) * SG_MM_M;
    }

done:

    h ^= h >> 47;
    h *= SG_MM_M;
    h ^= h >> 47;

    return h ? h : 1;
}


/* ---- the memo of gate and config heads ---- */

/* the first eight bytes of s (fewer: those there are) as a number */
static inline uint64_t
sg_memo_word(const char *s, size_t len, size_t at)
{
    uint64_t  x;
    uint32_t  lo, hi;
    size_t    i;

    x = 0;

    if (len >= 8) {
        memcpy(&x, s + at, 8);

    } else if (len >= 4) {
        /* rule IDs as "default": the first and last four bytes */
        memcpy(&lo, s, 4);
        memcpy(&hi, s + len - 4, 4);
        x = (uint64_t) hi << 32 | lo;

    } else {
        for (i = 0; i < len; i++) {
            x = x << 8 | (unsigned char) s[i];
        }
    }

    return x;
}


/*
 * A hash of the name's first and last eight bytes and the rule's first,
 * the lengths and the value (a gate's outcomes, pass and fail, differ):
 * its top bits, which every bit of those changes, pick a set, the next
 * 32 are the slots' tag
 */
static uint64_t
sg_memo_hash(const char *name, size_t len, const statsig_result_t *r)
{
    uint64_t  h;
    size_t    rl;

    rl = r->rule_id.len;

    h = sg_memo_word(name, len, 0)
        ^ sg_memo_word(name, len, len >= 8 ? len - 8 : 0)
          * 0x9E3779B97F4A7C15ULL
        ^ sg_memo_word(r->rule_id.data, rl, 0) * 0xFF51AFD7ED558CCDULL
        ^ (len << 40 | rl << 8 | r->value);

    return h * 0xC2B2AE3D27D4EB4FULL;
}


/* sg_memo_slot()'s lookup: a call, once an exposure (the key pass) */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static statsig_exposure_memo_slot_t *
sg_memo_lookup(const statsig_exposure_opts_t *o, unsigned kind,
    const char *name, size_t len, const statsig_result_t *r)
{
    double                         version;
    size_t                         rule_len;
    uint64_t                       h;
    uint32_t                       tag;
    unsigned                       value, set, w;
    int                            has_version;
    statsig_exposure_memo_slot_t  *s;

    rule_len = r->rule_id.len;

    if (o->memo == NULL || len + rule_len > sizeof(s->id)) {
        return NULL;
    }

    h = sg_memo_hash(name, len, r);
    set = (unsigned) (h >> 60);
    tag = (uint32_t) (h >> 28);
    has_version = sg_result_version(r, &version);
    value = r->value ? 1 : 0;

    for (w = 0; w < 2; w++) {
        s = &o->memo->slot[2 * set + w];

        if (s->tag == tag && s->kind == kind && s->value == value
            && s->reason == r->reason && s->has_version == has_version
            && s->version == version && s->name_len == len
            && s->rule_len == rule_len
            && statsig_mem_eq(s->id, name, len)
            && statsig_mem_eq(s->id + len, r->rule_id.data, rule_len))
        {
            o->memo->next[set] = (uint8_t) !w;
            return s;
        }
    }

    w = o->memo->next[set] & 1;
    o->memo->next[set] = (uint8_t) !w;
    s = &o->memo->slot[2 * set + w];

    s->tag = tag;
    s->kind = (uint8_t) kind;
    s->value = (uint8_t) value;
    s->reason = (uint8_t) r->reason;
    s->has_version = (uint8_t) has_version;
    s->version = version;
    s->name_len = (uint16_t) len;
    s->rule_len = (uint16_t) rule_len;
    s->key_len = 0;
    s->key_align = 8;
    s->head_len = 0;
    if (len) {
        memcpy(s->id, name, len);
    }

    if (rule_len) {
        memcpy(s->id + len, r->rule_id.data, rule_len);
    }

    return s;
}


/*
 * The slot of this entity and result, taken over (emptied) when it held
 * another; NULL without a memo, or for names and rules too long to keep.
 * The event pass (b not NULL) takes the one its key pass found, when the
 * caller keeps it (o->memo_pass), instead of a second lookup.
 */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline statsig_exposure_memo_slot_t *
sg_memo_slot(const statsig_exposure_opts_t *o, statsig_buf_t *b,
    unsigned kind, const char *name, size_t len, const statsig_result_t *r)
{
    statsig_exposure_memo_slot_t  *s;

    if (o->memo_pass != NULL && b != NULL) {
        s = *o->memo_pass;
        *o->memo_pass = NULL;

        /* what a slot of another entity would not have: a caller's error */
        if (s != NULL && s->kind == kind && s->name_len == len
            && s->rule_len == r->rule_id.len)
        {
            return s;
        }
    }

    s = sg_memo_lookup(o, kind, name, len, r);

    if (o->memo_pass != NULL && b == NULL) {
        *o->memo_pass = s;
    }

    return s;
}


/*
 * statsig_exposure_key_hash() of the prefix and the slot's key: the
 * prefix's blocks mixed, the key's taken from the slot, mixed there
 * once for the prefix's length mod 8 (a user's prefixes mostly have one)
 */
static uint64_t
sg_memo_key_hash(statsig_exposure_memo_slot_t *s, const char *prefix,
    size_t plen)
{
    const unsigned char  *p;
    uint64_t              h, k;
    size_t                i, r, from, n, klen;

    klen = s->key_len;
    r = plen & 7;
    from = r ? 8 - r : 0;

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    from = klen + 1;        /* the words below are little-endian */
#endif

    if (klen < from) {
        return statsig_exposure_key_hash(prefix, plen, s->key, klen);
    }

    if (s->key_align != r) {
        n = (klen - from) / 8;

        for (i = 0; i < n; i++) {
            memcpy(&k, s->key + from + 8 * i, 8);
            k *= SG_MM_M;
            k ^= k >> 47;
            s->key_mix[i] = k * SG_MM_M;
        }

        s->key_blocks = (uint8_t) n;
        s->key_tail_len = (uint8_t) ((klen - from) & 7);
        s->key_tail = sg_mm_load((const unsigned char *) s->key + from + 8 * n,
                                 s->key_tail_len);
        s->key_head = sg_mm_load((const unsigned char *) s->key, from);
        s->key_align = (uint8_t) r;
    }

    p = (const unsigned char *) prefix;
    h = 0x5354455645ULL ^ ((plen + klen) * SG_MM_M);

    for (i = 0; plen - i >= 8; i += 8) {
        memcpy(&k, p + i, 8);
        h = sg_mm_block(h, k);
    }

    if (r) {
        /* the prefix's last r bytes: a word ending there, shifted down */
        if (plen >= 8) {
            memcpy(&k, p + plen - 8, 8);
            k >>= 8 * from;

        } else {
            k = sg_mm_load(p + i, r);
        }

        h = sg_mm_block(h, k | s->key_head << (8 * r));
    }

    /* two a step, the count read once (the stores above may alias it) */
    n = s->key_blocks;

    for (i = 0; i + 2 <= n; i += 2) {
        h = (h ^ s->key_mix[i]) * SG_MM_M;
        h = (h ^ s->key_mix[i + 1]) * SG_MM_M;
    }

    if (i < n) {
        h = (h ^ s->key_mix[i]) * SG_MM_M;
    }

    if (s->key_tail_len) {
        h = (h ^ s->key_tail) * SG_MM_M;
    }

    h ^= h >> 47;
    h *= SG_MM_M;
    h ^= h >> 47;

    return h ? h : 1;
}


/*
 * An exposure from the slot, when it holds what this call writes (the
 * key, the event or both): 1, -1, or 0 when it does not.
 */
static int
sg_memo_write(statsig_exposure_memo_slot_t *s, statsig_buf_t *b,
    const statsig_exposure_opts_t *o, uint32_t exp_off, uint32_t exp_len)
{
    statsig_buf_t  *k;

    k = o->dedupe_key;

    if (s == NULL || (k != NULL && s->key_len == 0)
        || (b != NULL && s->head_len == 0))
    {
        return 0;
    }

    if (k != NULL && o->key_hash != NULL && o->key_prefix != NULL) {
        /* hashed as it lies, from the slot's blocks: not written */
        k->len = 0;
        *o->key_hash = sg_memo_key_hash(s, o->key_prefix, o->key_prefix_len);

    } else if (k != NULL) {
        k->len = 0;

        if (o->key_prefix != NULL) {
            sg_add(k, o->key_prefix, o->key_prefix_len);

        } else {
            statsig_exposure_key_prefix(k, o->ctx);
        }

        sg_add(k, s->key, s->key_len);
    }

    if (b != NULL) {
        sg_add(b, s->head, s->head_len);
    }

    return sg_event_rest(b, o, exp_off, exp_len);
}


/* what the writer just wrote up to the reason, into the slot */
static void
sg_memo_keep(statsig_exposure_memo_slot_t *s, const sg_meta_t *m)
{
    size_t  n;

    if (s == NULL) {
        return;
    }

    if (m->key != NULL && !m->key->failed) {
        n = m->key->len - m->key_from;

        if (n <= sizeof(s->key)) {
            memcpy(s->key, m->key->data + m->key_from, n);
            s->key_len = (uint16_t) n;
            s->key_align = 8;
        }
    }

    if (m->b != NULL && !m->b->failed) {
        n = m->b->len - m->head_from;

        if (n <= sizeof(s->head)) {
            memcpy(s->head, m->b->data + m->head_from, n);
            s->head_len = (uint16_t) n;
        }
    }
}


int
statsig_exposure_key_again(const statsig_exposure_opts_t *o, unsigned kind,
    const char *name, size_t len, const statsig_result_t *r)
{
    statsig_exposure_memo_slot_t  *s;

    if (o->dedupe_key == NULL || o->key_prefix == NULL
        || o->key_hash == NULL || o->dedupe_key->failed)
    {
        return 0;
    }

    /* a miss takes the slot over: the writer finds it there */
    s = sg_memo_lookup(o, kind == STATSIG_KIND_GATE ? 1 : 2, name, len, r);

    if (s == NULL || s->key_len == 0) {
        return 0;
    }

    o->dedupe_key->len = 0;
    *o->key_hash = sg_memo_key_hash(s, o->key_prefix, o->key_prefix_len);

    if (o->memo_pass != NULL) {
        *o->memo_pass = s;
    }

    return 1;
}


int
statsig_exposure_again(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    unsigned kind, size_t len, const statsig_result_t *r)
{
    static const char  end[] = "[],\"statsigMetadata\":{}}";

    char                          *d;
    size_t                         n;
    statsig_exposure_memo_slot_t  *s;

    s = (o->memo_pass != NULL) ? *o->memo_pass : NULL;

    /* what sg_memo_slot() and sg_memo_write() would check */
    if (s == NULL || o->dedupe_key != NULL || o->tail == NULL
        || r->exposures_len != 0 || s->head_len == 0
        || s->kind != (kind == STATSIG_KIND_GATE ? 1 : 2)
        || s->name_len != len || s->rule_len != r->rule_id.len)
    {
        return 0;
    }

    n = s->head_len + o->tail_len + sizeof(end) - 1;

    if (b->failed || b->cap - b->len < n) {
        return 0;
    }

    *o->memo_pass = NULL;

    d = b->data + b->len;
    memcpy(d, s->head, s->head_len);
    d += s->head_len;
    memcpy(d, o->tail, o->tail_len);
    memcpy(d + o->tail_len, end, sizeof(end) - 1);
    b->len += n;

    return 1;
}


static void
sg_meta_start(sg_meta_t *m, statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *event, size_t len)
{
    m->b = b;
    m->key = o->dedupe_key;
    m->first = 1;
    m->nkey = 0;
    m->head_from = (b != NULL) ? b->len : 0;
    m->key_from = 0;

    if (m->key != NULL) {
        sg_key_start(m->key, o, event, len);
        m->key_from = m->key->len - len - 1;
    }

    if (b != NULL) {
        sg_addl(b, "{\"eventName\":");
        sg_json_str(b, event, len);
        sg_addl(b, ",\"metadata\":{");
    }
}


int
statsig_exposure_gate(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *name, size_t len, const statsig_result_t *r)
{
    sg_meta_t                      m;
    statsig_exposure_memo_slot_t  *s;
    int                            rc;

    s = sg_memo_slot(o, b, 1, name, len, r);

    rc = sg_memo_write(s, b, o, r->exposures_off, r->exposures_len);
    if (rc != 0) {
        return rc;
    }

    sg_meta_start(&m, b, o, "statsig::gate_exposure", 22);
    sg_meta_str(&m, "gate", name, len);
    sg_meta_bool(&m, "gateValue", r->value);
    sg_meta_str(&m, "ruleID", r->rule_id.data, r->rule_id.len);
    sg_meta_version(&m, r);
    sg_event_reason(&m, r);
    sg_memo_keep(s, &m);

    return sg_event_rest(b, o, r->exposures_off, r->exposures_len);
}


int
statsig_exposure_config(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *name, size_t len, const statsig_result_t *r)
{
    sg_meta_t                      m;
    statsig_exposure_memo_slot_t  *s;
    int                            rc;

    s = sg_memo_slot(o, b, 2, name, len, r);

    rc = sg_memo_write(s, b, o, r->exposures_off, r->exposures_len);
    if (rc != 0) {
        return rc;
    }

    sg_meta_start(&m, b, o, "statsig::config_exposure", 24);
    sg_meta_str(&m, "config", name, len);
    sg_meta_str(&m, "ruleID", r->rule_id.data, r->rule_id.len);
    sg_meta_bool(&m, "rulePassed", r->value);
    sg_meta_version(&m, r);
    sg_event_reason(&m, r);
    sg_memo_keep(s, &m);

    return sg_event_rest(b, o, r->exposures_off, r->exposures_len);
}


static int
sg_is_explicit(const statsig_snapshot_t *s, const statsig_result_t *r,
    const char *param, size_t len)
{
    statsig_str_t  p;
    uint32_t       i, n;

    if (!r->has_explicit_params) {
        return 0;
    }

    n = statsig_strlist_size(s, r->explicit_params);
    for (i = 0; i < n; i++) {
        p = statsig_strlist_at(s, r->explicit_params, i);
        if (p.len == len && memcmp(p.data, param, len) == 0) {
            return 1;
        }
    }

    return 0;
}


int
statsig_exposure_layer(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *name, size_t len, const statsig_result_t *r,
    const char *param, size_t param_len)
{
    const statsig_snapshot_t  *s;
    sg_meta_t                  m;
    statsig_str_t              exp;
    uint32_t                   value, node;
    int                        explicit;

    s = o->ctx->snap;

    /* Layer.get logs only a parameter whose value is not null; an
     * unsupported layer's value is {} */
    value = (r->reason == STATSIG_REASON_NETWORK) ? r->json_value : 0;
    if (value == 0 || statsig_json_type(s, value) != STATSIG_JSON_OBJECT) {
        return 0;
    }

    node = statsig_json_object_get(s, value, param, param_len);
    if (node == 0 || statsig_json_type(s, node) == STATSIG_JSON_NULL) {
        return 0;
    }

    explicit = sg_is_explicit(s, r, param, param_len);
    exp.data = "";
    exp.len = 0;
    if (explicit && r->delegate != NULL) {
        exp = statsig_spec_name(s, r->delegate);
    }

    sg_meta_start(&m, b, o, "statsig::layer_exposure", 23);
    sg_meta_str(&m, "config", name, len);
    sg_meta_str(&m, "ruleID", r->rule_id.data, r->rule_id.len);
    sg_meta_str(&m, "allocatedExperiment", exp.data, exp.len);
    sg_meta_str(&m, "parameterName", param, param_len);
    sg_meta_bool(&m, "isExplicitParameter", explicit);
    sg_meta_version(&m, r);

    /* an explicit parameter exposes the experiment's targeting too */
    return explicit
           ? sg_event_finish(&m, o, r, r->exposures_off, r->exposures_len)
           : sg_event_finish(&m, o, r, r->undelegated_off,
                             r->undelegated_len);
}


int
statsig_event_custom(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *event, size_t len, const statsig_event_value_t *value,
    const statsig_str_t *meta_keys, const statsig_str_t *meta_values,
    size_t n)
{
    size_t  i;

    /* custom events are never deduplicated */
    if (o->dedupe_key != NULL) {
        o->dedupe_key->len = 0;
    }

    /* LogEventValidator: an empty name becomes "invalid_event" */
    if (len == 0) {
        event = "invalid_event";
        len = 13;
    }

    statsig_buf_adds(b, "{\"eventName\":");
    statsig_buf_json_str(b, event, len);
    statsig_buf_adds(b, ",\"metadata\":");
    if (meta_keys == NULL) {
        statsig_buf_adds(b, "null");

    } else {
        statsig_buf_addc(b, '{');
        for (i = 0; i < n; i++) {
            if (i) {
                statsig_buf_addc(b, ',');
            }

            statsig_buf_json_str(b, meta_keys[i].data, meta_keys[i].len);
            statsig_buf_addc(b, ':');
            statsig_buf_json_str(b, meta_values[i].data, meta_values[i].len);
        }

        statsig_buf_addc(b, '}');
    }

    statsig_buf_adds(b, ",\"time\":");
    statsig_buf_json_num(b, o->time);
    statsig_buf_adds(b, ",\"user\":");
    statsig_exposure_user(b, o->ctx, STATSIG_USER_EVENT);
    statsig_buf_adds(b, ",\"value\":");

    if (value == NULL || value->type == STATSIG_EVENT_VALUE_NULL) {
        statsig_buf_adds(b, "null");

    } else if (value->type == STATSIG_EVENT_VALUE_STRING) {
        statsig_buf_json_str(b, value->str.data, value->str.len);

    } else {
        statsig_buf_json_num(b, value->num);
    }

    statsig_buf_adds(b, ",\"secondaryExposures\":[],\"statsigMetadata\":{}}");

    return b->failed ? -1 : 1;
}
