/*
 * Per-process evaluation state: hashing, regexes, lookups.
 */

#define PCRE2_CODE_UNIT_WIDTH 8

/* the low-level digest API: OpenSSL 3 routes SHA256() through a locked
 * fetch, the direct calls take no locks */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "country.h"
#include "hash.h"
#include "jsdate.h"
#include "jsstr.h"
#include "runtime.h"
#include "statsig_data.h"
#include "ua_parser.h"


#if defined(__GNUC__)
#define SG_RT_INLINE    inline __attribute__((always_inline))
#define SG_RT_NOINLINE  __attribute__((noinline))
#else
#define SG_RT_INLINE    inline
#define SG_RT_NOINLINE
#endif

static const statsig_str_t  statsig_rule_empty = { "", 0 };


#define STATSIG_REGEX_CACHE_SIZE  256
#define STATSIG_BUCKET_MEMO_SIZE  512
#define STATSIG_BUCKET_KEY_MAX    120


typedef struct {
    uint64_t  hash;
    uint16_t  salt_len;
    uint16_t  unit_len;
    uint32_t  bucket;
    char      key[STATSIG_BUCKET_KEY_MAX];
} statsig_bucket_entry_t;

struct statsig_bucket_memo_s {
    statsig_bucket_entry_t  entries[STATSIG_BUCKET_MEMO_SIZE];
};


/*
 * SHA-256 state after a key's first 64 bytes.  Pass-percentage keys are
 * "specSalt.ruleSalt.unitID", usually longer than 55 bytes, so two blocks,
 * and the first one holds only the salts: it is hashed once per rule, not
 * once per evaluation.
 */
#define STATSIG_MIDSTATE_SLOTS  128
#define STATSIG_HASH_BUF        512

typedef struct {
    unsigned char  block[SHA256_CBLOCK];
    uint32_t       h[8];
    int            used;
} statsig_midstate_t;

struct statsig_midstate_cache_s {
    statsig_midstate_t  slots[STATSIG_MIDSTATE_SLOTS];
};


typedef struct {
    char         *pattern;
    size_t        len;
    pcre2_code   *code;         /* NULL: the pattern does not compile */
} statsig_regex_entry_t;

struct statsig_regex_cache_s {
    statsig_regex_entry_t   entries[STATSIG_REGEX_CACHE_SIZE];
    size_t                  n;
    pcre2_match_data       *match;
    pcre2_match_context    *limits;
};


/* a pattern that backtracks without end fails instead of stalling */
#define STATSIG_REGEX_MATCH_LIMIT  100000
#define STATSIG_REGEX_DEPTH_LIMIT  10000


statsig_runtime_t *
statsig_runtime_create(char *err, size_t errlen)
{
    statsig_runtime_t  *rt;

    rt = calloc(1, sizeof(statsig_runtime_t));
    if (rt == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    rt->md = EVP_MD_CTX_new();
    rt->regex = calloc(1, sizeof(struct statsig_regex_cache_s));
    rt->bucket_memo = calloc(1, sizeof(struct statsig_bucket_memo_s));
    rt->gate_memo = statsig_gate_memo_create();
    rt->field_slots = calloc(SG_FIELD_KEYS_MAX, sizeof(statsig_field_slot_t));
    rt->field_seen = calloc(SG_FIELD_KEYS_MAX, sizeof(uint64_t));
    rt->midstate = calloc(1, sizeof(struct statsig_midstate_cache_s));
    if (rt->md == NULL || rt->regex == NULL || rt->bucket_memo == NULL
        || rt->gate_memo == NULL || rt->field_slots == NULL
        || rt->field_seen == NULL
        || rt->midstate == NULL)
    {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    rt->regex->match = pcre2_match_data_create(1, NULL);
    rt->regex->limits = pcre2_match_context_create(NULL);
    if (rt->regex->match == NULL || rt->regex->limits == NULL) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    pcre2_set_match_limit(rt->regex->limits, STATSIG_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(rt->regex->limits, STATSIG_REGEX_DEPTH_LIMIT);

    rt->ua = statsig_ua_parser_load(statsig_data_ua_regexes,
                                    statsig_data_ua_regexes_len, err, errlen);
    if (rt->ua == NULL) {
        goto failed;
    }

    rt->country = statsig_country_table_load(statsig_data_ip_table,
                                             statsig_data_ip_table_len,
                                             err, errlen);
    if (rt->country == NULL) {
        goto failed;
    }

    return rt;

failed:

    statsig_runtime_free(rt);

    return NULL;
}


void
statsig_runtime_free(statsig_runtime_t *rt)
{
    size_t  i;

    if (rt == NULL) {
        return;
    }

    if (rt->regex) {
        for (i = 0; i < rt->regex->n; i++) {
            free(rt->regex->entries[i].pattern);
            pcre2_code_free(rt->regex->entries[i].code);
        }

        pcre2_match_data_free(rt->regex->match);
        pcre2_match_context_free(rt->regex->limits);
        free(rt->regex);
    }

    if (rt->has_env) {
        free((void *) rt->env_tier.str);
        if (rt->env_tier.lower != rt->env_tier.str) {
            free((void *) rt->env_tier.lower);
        }
    }

    EVP_MD_CTX_free(rt->md);
    free(rt->bucket_memo);
    free(rt->midstate);
    free(rt->gate_memo);
    free(rt->field_slots);
    free(rt->field_seen);
    statsig_ua_parser_free(rt->ua);
    statsig_country_table_free(rt->country);
    free(rt);
}


static void *
statsig_runtime_malloc(void *data, size_t size)
{
    (void) data;
    return malloc(size);
}


int
statsig_runtime_set_environment(statsig_runtime_t *rt, const char *tier,
    size_t len)
{
    statsig_alloc_t  a;

    if (rt->has_env) {
        free((void *) rt->env_tier.str);
        if (rt->env_tier.lower != rt->env_tier.str) {
            free((void *) rt->env_tier.lower);
        }

        rt->has_env = 0;
    }

    if (tier == NULL) {
        return 0;
    }

    a.alloc = statsig_runtime_malloc;
    a.data = NULL;

    if (statsig_value_string(&a, tier, len, &rt->env_tier) != 0) {
        return -1;
    }

    rt->env_key = "tier";
    rt->env_key_len = 4;
    statsig_value_object(&a, &rt->env_key, &rt->env_key_len, &rt->env_tier,
                         1, &rt->env);
    rt->has_env = 1;

    return 0;
}


void
statsig_runtime_set_now(statsig_runtime_t *rt, double now_ms)
{
    rt->now_ms = now_ms;
}


double
statsig_runtime_now(statsig_runtime_t *rt)
{
    struct timeval  tv;

    if (rt->now_ms != 0) {
        return rt->now_ms;
    }

    gettimeofday(&tv, NULL);

    return (double) tv.tv_sec * 1000.0 + (double) (tv.tv_usec / 1000);
}


static uint64_t
sg_digest_u64(const unsigned char *d)
{
    uint64_t  h;
    int       i;

    h = 0;
    for (i = 0; i < 8; i++) {
        h = (h << 8) | d[i];
    }

    return h;
}


/* v big-endian at p: SHA-256's message length */
static void
sg_put_be64(unsigned char *p, uint64_t v)
{
#if defined __GNUC__ && defined __BYTE_ORDER__                               \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
#else
    int  i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char) v;
        v >>= 8;
    }
#endif
}


static const uint32_t  sg_sha256_iv[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};


/* a == b, 64 bytes: the words' differences gathered, one branch */
static SG_RT_INLINE int
sg_block_eq(const unsigned char *a, const unsigned char *b)
{
    uint64_t  x, y, d;
    int       i;

    d = 0;
    for (i = 0; i < SHA256_CBLOCK; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        d |= x ^ y;
    }

    return d == 0;
}


/*
 * The first 8 bytes of SHA-256(msg[0, len)), big-endian; msg has room for
 * two blocks after the message (the padding, written in place).  The
 * blocks go to the compression function directly: SHA256_Update and
 * SHA256_Final buffer, copy and wipe, which cost as much as the
 * compression itself with SHA-NI.  SHA256_Transform reads and writes the
 * state words only.
 */
static uint64_t
sg_hash_msg(statsig_runtime_t *rt, unsigned char *msg, size_t len)
{
    SHA256_CTX           c;
    statsig_midstate_t  *m;
    unsigned char       *at;
    uint64_t             w[4], bits;
    size_t               i, r;

    if (len < SHA256_CBLOCK) {
        memcpy(c.h, sg_sha256_iv, sizeof(c.h));
        at = msg;

    } else {
        /* the slot from a few words of the first block; its bytes decide */
        memcpy(w, msg, 8);
        memcpy(&w[1], msg + 24, 8);
        memcpy(&w[2], msg + 40, 8);
        memcpy(&w[3], msg + 56, 8);
        w[0] = (w[0] ^ (w[1] * 0x9E3779B97F4A7C15ULL) ^ (w[2] << 7) ^ w[3])
               * 0xC2B2AE3D27D4EB4FULL;
        m = &rt->midstate->slots[(w[0] >> 40) % STATSIG_MIDSTATE_SLOTS];

        if (!m->used || !sg_block_eq(m->block, msg)) {
            memcpy(c.h, sg_sha256_iv, sizeof(c.h));
            SHA256_Transform(&c, msg);
            memcpy(m->h, c.h, sizeof(m->h));
            memcpy(m->block, msg, SHA256_CBLOCK);
            m->used = 1;

        } else {
            memcpy(c.h, m->h, sizeof(c.h));
        }

        at = msg + SHA256_CBLOCK;
    }

    r = len - (size_t) (at - msg);

    while (r >= SHA256_CBLOCK) {
        SHA256_Transform(&c, at);
        at += SHA256_CBLOCK;
        r -= SHA256_CBLOCK;
    }

    i = (r + 9 <= SHA256_CBLOCK) ? SHA256_CBLOCK : 2 * SHA256_CBLOCK;
    at[r] = 0x80;

    /* whole blocks of zeros (inline stores; a variable-length memset
     * became rep stos, slow to start), the length written over them */
    memset(at + r + 1, 0, SHA256_CBLOCK);
    if (i > SHA256_CBLOCK) {
        memset(at + r + 1 + SHA256_CBLOCK, 0, SHA256_CBLOCK);
    }

    bits = (uint64_t) len * 8;
    sg_put_be64(at + i - 8, bits);

    SHA256_Transform(&c, at);
    if (i > SHA256_CBLOCK) {
        SHA256_Transform(&c, at + SHA256_CBLOCK);
    }

    /* the digest's first 8 bytes are the first two state words */
    return (uint64_t) c.h[0] << 32 | c.h[1];
}


/* SHA-256 of parts too long for the buffer, through OpenSSL's buffering */
static SG_RT_NOINLINE uint64_t
sg_hash_long(const statsig_str_t *p, size_t n)
{
    unsigned char  d[SHA256_DIGEST_LENGTH];
    SHA256_CTX     c;
    size_t         i;

    SHA256_Init(&c);

    for (i = 0; i < n; i++) {
        SHA256_Update(&c, p[i].data, p[i].len);
    }

    SHA256_Final(d, &c);

    return sg_digest_u64(d);
}


uint64_t
statsig_runtime_hash(statsig_runtime_t *rt, const statsig_str_t *p, size_t n)
{
    unsigned char  msg[STATSIG_HASH_BUF + 3 * SHA256_CBLOCK];
    size_t         i, len;

    /* the parts copied together, unless they pass the buffer */
    len = 0;
    for (i = 0; i < n; i++) {
        if (p[i].len > STATSIG_HASH_BUF - len) {
            return sg_hash_long(p, n);
        }

        statsig_mem_copy(msg + len, p[i].data, p[i].len);
        len += p[i].len;
    }

    return sg_hash_msg(rt, msg, len);
}


uint64_t
statsig_runtime_hash_key(statsig_runtime_t *rt, statsig_str_t a,
    const statsig_str_t *b, statsig_str_t unit)
{
    unsigned char  msg[STATSIG_HASH_BUF + 3 * SHA256_CBLOCK];
    statsig_str_t  p[5];
    unsigned char *at;

    /* the lengths are a snapshot's and a user's: each below 2^32 */
    if ((uint64_t) a.len + (b ? b->len : 0) + unit.len + 2
        > STATSIG_HASH_BUF)
    {
        p[0] = a;
        p[1].data = ".";
        p[1].len = 1;
        p[2] = b ? *b : statsig_rule_empty;
        p[3].data = ".";
        p[3].len = b ? 1 : 0;
        p[4] = unit;

        return sg_hash_long(p, 5);
    }

    statsig_mem_copy(msg, a.data, a.len);
    at = msg + a.len;
    *at++ = '.';

    if (b != NULL) {
        statsig_mem_copy(at, b->data, b->len);
        at += b->len;
        *at++ = '.';
    }

    statsig_mem_copy(at, unit.data, unit.len);
    at += unit.len;

    return sg_hash_msg(rt, msg, (size_t) (at - msg));
}


double
statsig_runtime_date_parse(statsig_runtime_t *rt, const char *s, size_t len)
{
    double  d;

    if (len >= STATSIG_DATE_MEMO_STR) {
        return statsig_js_date_parse(s, len);
    }

    if (rt->date_memo_len == len + 1
        && statsig_mem_eq(rt->date_memo_str, s, len))
    {
        return rt->date_memo;
    }

    d = statsig_js_date_parse(s, len);

    memcpy(rt->date_memo_str, s, len);
    rt->date_memo_len = (uint32_t) len + 1;
    rt->date_memo = d;

    return d;
}


void
statsig_runtime_idlist_hash(statsig_runtime_t *rt, const char *id,
    size_t len, char out[8])
{
    uint32_t  i;

    if (len >= STATSIG_IDLIST_MEMO_ID) {
        statsig_idlist_hash(id, len, out);
        return;
    }

    /* slots hold len + 1: 0 is an empty slot */
    for (i = 0; i < STATSIG_IDLIST_MEMO_SLOTS; i++) {
        if (rt->idlist_memo[i].len == len + 1
            && statsig_mem_eq(rt->idlist_memo[i].id, id, len))
        {
            memcpy(out, rt->idlist_memo[i].hash, 8);
            return;
        }
    }

    statsig_idlist_hash(id, len, out);

    i = rt->idlist_memo_next++ % STATSIG_IDLIST_MEMO_SLOTS;
    memcpy(rt->idlist_memo[i].id, id, len);
    rt->idlist_memo[i].len = (uint32_t) len + 1;
    memcpy(rt->idlist_memo[i].hash, out, 8);
}


static pcre2_code *
statsig_regex_compile(const char *pattern, size_t len)
{
    pcre2_compile_context  *cc;
    pcre2_code             *code;
    int                     rc;
    PCRE2_SIZE              off;

    cc = pcre2_compile_context_create(NULL);
    if (cc == NULL) {
        return NULL;
    }

    /* JavaScript flavour: \u escapes, $ only at the very end */
    pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
    pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);

    code = pcre2_compile((PCRE2_SPTR) pattern, len,
                         PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_ALT_BSUX
                         | PCRE2_DOLLAR_ENDONLY, &rc, &off, cc);
    pcre2_compile_context_free(cc);

    if (code != NULL) {
        (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    }

    return code;
}


int
statsig_runtime_regex_test(statsig_runtime_t *rt, statsig_str_t pattern,
    const char *subject, size_t len)
{
    struct statsig_regex_cache_s  *c;
    statsig_regex_entry_t         *e;
    size_t                         i;
    int                            rc;

    c = rt->regex;
    e = NULL;

    for (i = 0; i < c->n; i++) {
        if (c->entries[i].len == pattern.len
            && statsig_mem_eq(c->entries[i].pattern, pattern.data,
                              pattern.len))
        {
            e = &c->entries[i];
            break;
        }
    }

    if (e == NULL) {
        if (c->n == STATSIG_REGEX_CACHE_SIZE) {
            /* bounded: start over rather than grow */
            for (i = 0; i < c->n; i++) {
                free(c->entries[i].pattern);
                pcre2_code_free(c->entries[i].code);
            }

            c->n = 0;
        }

        e = &c->entries[c->n];
        e->pattern = malloc(pattern.len + 1);
        if (e->pattern == NULL) {
            return 0;
        }

        memcpy(e->pattern, pattern.data, pattern.len);
        e->pattern[pattern.len] = '\0';
        e->len = pattern.len;
        e->code = statsig_regex_compile(pattern.data, pattern.len);
        c->n++;
    }

    if (e->code == NULL) {
        return 0;
    }

    rc = pcre2_match(e->code, (PCRE2_SPTR) subject, len, 0, 0, c->match,
                     c->limits);

    return rc >= 0;
}


int
statsig_regex_test_once(statsig_str_t pattern, const char *subject,
    size_t len)
{
    pcre2_code           *code;
    pcre2_match_data     *match;
    pcre2_match_context  *limits;
    int                   rc;

    code = statsig_regex_compile(pattern.data, pattern.len);
    if (code == NULL) {
        return 0;               /* as the runtime's: an invalid pattern */
    }

    match = pcre2_match_data_create(1, NULL);
    limits = pcre2_match_context_create(NULL);
    rc = -1;

    if (match != NULL && limits != NULL) {
        pcre2_set_match_limit(limits, STATSIG_REGEX_MATCH_LIMIT);
        pcre2_set_depth_limit(limits, STATSIG_REGEX_DEPTH_LIMIT);
        rc = pcre2_match(code, (PCRE2_SPTR) subject, len, 0, 0, match,
                         limits) >= 0;
    }

    pcre2_match_context_free(limits);
    pcre2_match_data_free(match);
    pcre2_code_free(code);

    return rc;
}


int
statsig_runtime_country(statsig_runtime_t *rt, uint64_t session,
    const statsig_value_t *ip, char out[3])
{
    if (rt->country_session != session || rt->country_ip != ip) {
        rt->country_session = session;
        rt->country_ip = ip;
        rt->country_found = 0;

        if (ip->type == STATSIG_V_STRING) {
            rt->country_found = statsig_country_lookup(rt->country, ip->str,
                                                       ip->len,
                                                       rt->country_code);

        } else if (ip->type == STATSIG_V_NUMBER) {
            rt->country_found = statsig_country_lookup_number(rt->country,
                                                              ip->num,
                                                              rt->country_code);
        }
    }

    if (rt->country_found) {
        memcpy(out, rt->country_code, 3);
    }

    return rt->country_found;
}


int
statsig_ua_field_index(statsig_str_t f)
{
#define SG_FIELD_IS(name)                                                    \
    (f.len == sizeof(name) - 1 && memcmp(f.data, name, f.len) == 0)

    if (SG_FIELD_IS("os_name") || SG_FIELD_IS("osname")) {
        return STATSIG_UA_OS_NAME;
    }

    if (SG_FIELD_IS("os_version") || SG_FIELD_IS("osversion")) {
        return STATSIG_UA_OS_VERSION;
    }

    if (SG_FIELD_IS("browser_name") || SG_FIELD_IS("browsername")) {
        return STATSIG_UA_BROWSER_NAME;
    }

    if (SG_FIELD_IS("browser_version") || SG_FIELD_IS("browserversion")) {
        return STATSIG_UA_BROWSER_VERSION;
    }

#undef SG_FIELD_IS

    return -1;
}


/* a == b, n bytes: a user agent (~100 bytes) 16 at a time, one branch
 * each, the last 16 overlapping */
static int
sg_long_eq(const char *a, const char *b, size_t n)
{
    uint64_t  x0, x1, y0, y1;
    size_t    i;

    if (n < 16) {
        return statsig_mem_eq(a, b, n);
    }

    for (i = 0; i + 16 < n; i += 16) {
        memcpy(&x0, a + i, 8);
        memcpy(&x1, a + i + 8, 8);
        memcpy(&y0, b + i, 8);
        memcpy(&y1, b + i + 8, 8);
        if (((x0 ^ y0) | (x1 ^ y1)) != 0) {
            return 0;
        }
    }

    memcpy(&x0, a + n - 16, 8);
    memcpy(&x1, a + n - 8, 8);
    memcpy(&y0, b + n - 16, 8);
    memcpy(&y1, b + n - 8, 8);

    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}


/*
 * The parse of ua, once per user agent and session: ua_based conditions
 * come in groups (name and version); the parser's cache keeps the answer
 * until its next parse, which only this file asks for.
 */
static const statsig_ua_info_t *
sg_ua_info(statsig_runtime_t *rt, uint64_t session, const char *ua,
    size_t len)
{
    if (rt->ua_session != session || rt->ua_ptr != ua || rt->ua_len != len) {

        /*
         * Another request from the same browser: the user agent parsed
         * last has the same bytes, and its answer still stands (nothing
         * else parses with rt->ua, so the entry is as it was left).
         */
        if (rt->ua_last_len != len + 1
            || !sg_long_eq(rt->ua_last, ua, len))
        {
            rt->ua_info = statsig_ua_parse_ref(rt->ua, ua, len);
            rt->ua_last_len = 0;

            if (len <= STATSIG_UA_LAST_MAX) {
                memcpy(rt->ua_last, ua, len);
                rt->ua_last_len = len + 1;
            }
        }

        rt->ua_session = session;
        rt->ua_ptr = ua;
        rt->ua_len = len;
        rt->ua_vals_made = 0;
    }

    return rt->ua_info;
}


/* field k of info, or NULL when it has none */
static const char *
sg_ua_info_field(const statsig_ua_info_t *info, unsigned k)
{
    switch (k) {
    case STATSIG_UA_OS_NAME:
        return info->has_os_name ? info->os_name : NULL;
    case STATSIG_UA_OS_VERSION:
        return info->has_os_version ? info->os_version : NULL;
    case STATSIG_UA_BROWSER_NAME:
        return info->has_browser_name ? info->browser_name : NULL;
    default:
        return info->has_browser_version ? info->browser_version : NULL;
    }
}


int
statsig_runtime_ua_field(statsig_runtime_t *rt, uint64_t session,
    const char *ua, size_t len, statsig_str_t f, statsig_str_t *out)
{
    const char  *v;
    int          k;

    k = statsig_ua_field_index(f);
    if (k < 0) {
        return 0;
    }

    v = sg_ua_info_field(sg_ua_info(rt, session, ua, len), (unsigned) k);
    if (v == NULL) {
        return 0;
    }

    out->data = v;
    out->len = strlen(v);

    return 1;
}


const statsig_value_t *
statsig_runtime_ua_value(statsig_runtime_t *rt, uint64_t session,
    const char *ua, size_t len, unsigned k)
{
    const statsig_ua_info_t  *info;
    const char               *v;

    info = sg_ua_info(rt, session, ua, len);

    if (!(rt->ua_vals_made & (1u << k))) {
        v = sg_ua_info_field(info, k);
        if (v == NULL) {
            return NULL;
        }

        /* the parser's strings stay until its next parse (sg_ua_info) */
        statsig_value_string_lazy_room(v, strlen(v), rt->ua_rooms[k],
                                       &rt->ua_vals[k]);
        rt->ua_vals_made |= 1u << k;
    }

    return &rt->ua_vals[k];
}


uint32_t
statsig_runtime_bucket(statsig_runtime_t *rt, statsig_str_t salt,
    statsig_str_t unit)
{
    statsig_bucket_entry_t  *e;
    uint64_t                 h;

    if (salt.len + unit.len > STATSIG_BUCKET_KEY_MAX) {
        return (uint32_t) (statsig_runtime_hash_key(rt, salt, NULL, unit)
                           % 1000);
    }

    /*
     * The slot comes from where the strings live (a snapshot's salt, a
     * user's id), which is cheap; the bytes are compared in full, so a
     * reused address with other content is only a miss.
     */
    h = ((uint64_t) (uintptr_t) salt.data * 0x9E3779B97F4A7C15ULL)
        ^ ((uint64_t) (uintptr_t) unit.data * 0xC2B2AE3D27D4EB4FULL)
        ^ (salt.len << 16) ^ unit.len;
    h ^= h >> 29;
    e = &rt->bucket_memo->entries[h % STATSIG_BUCKET_MEMO_SIZE];

    if (e->hash == h && e->salt_len == salt.len && e->unit_len == unit.len
        && statsig_mem_eq(e->key, salt.data, salt.len)
        && statsig_mem_eq(e->key + salt.len, unit.data, unit.len))
    {
        return e->bucket;
    }

    e->hash = h;
    e->salt_len = (uint16_t) salt.len;
    e->unit_len = (uint16_t) unit.len;
    statsig_mem_copy(e->key, salt.data, salt.len);
    statsig_mem_copy(e->key + salt.len, unit.data, unit.len);
    e->bucket = (uint32_t) (statsig_runtime_hash_key(rt, salt, NULL, unit)
                            % 1000);

    return e->bucket;
}
