/*
 * Exposure and custom event records: the elements of a log_event request's
 * "events" array, written as statsig-node 6.x writes them (LogEvent.ts,
 * LogEventProcessor.ts) so that Statsig's pipeline sees the same records.
 *
 * Off the evaluation path: output goes to a statsig_buf_t.  A result's
 * secondary exposures live in the runtime's exposure stack, so an event
 * must be written before the next statsig_eval_begin() on that context.
 */

#ifndef STATSIG_EXPOSURE_H
#define STATSIG_EXPOSURE_H

#include "buf.h"
#include "statsig.h"


/* How the user object is written. */
typedef enum {
    /* events: the SDK environment replaces the user's own, and
     * "privateAttributes": null */
    STATSIG_USER_EVENT = 0,
    /* client initialize: the SDK environment only when the user has none,
     * no privateAttributes */
    STATSIG_USER_INIT
} statsig_user_mode_e;


/*
 * What a gate or config exposure starts with -- the event's bytes up to
 * its reason, the dedupe key's from the event name on -- depends only on
 * the entity's name and the result's rule, value, version and reason,
 * which repeat from request to request.  A memo keeps them for the last
 * few entities seen, so that an exposure like one before copies them
 * instead of writing them: two slots for each of 16 sets (by a hash of
 * the name, rule and value), the one used less recently taken over, so
 * that two entities of one set do not evict each other.  Owned by the
 * caller, zeroed before its first use; any content of a zeroed memo is
 * valid.
 */
#define STATSIG_EXPOSURE_MEMO_SLOTS  32     /* 16 sets: a hash's top 4 bits */

typedef struct {
    uint32_t             tag;          /* hash bits: most misses at once */
    uint8_t              kind;         /* 0: empty */
    uint8_t              value;
    uint8_t              reason;
    uint8_t              has_version;
    uint16_t             name_len;
    uint16_t             rule_len;
    uint16_t             key_len;      /* 0: not yet written */
    uint16_t             head_len;     /* 0: not yet written */
    double               version;
    char                 id[256];      /* the name, then the rule ID */
    char                 key[256];
    /*
     * The key's blocks as its hash mixes them, after a prefix of
     * key_align bytes past a multiple of 8 (8: none yet): the key from
     * 8 - key_align on (0 on for 0), key_blocks of them, then key_tail,
     * the last key_tail_len bytes as a word.  The key's first
     * 8 - key_align bytes (key_head) complete the prefix's last block.
     */
    uint8_t              key_align;
    uint8_t              key_blocks;
    uint8_t              key_tail_len;
    uint64_t             key_head;     /* the first 8 - key_align bytes */
    uint64_t             key_tail;
    uint64_t             key_mix[32];
    char                 head[384];
} statsig_exposure_memo_slot_t;

/*
 * The digits of the last number written for a time (configSyncTime, an
 * event's time): the same number again, or a whole number a little past
 * it, is written from them instead of converted.
 */
typedef struct {
    double               value;
    uint8_t              len;          /* 0: none */
    char                 digits[23];   /* 1 .. 2^53: at most 16 */
} statsig_exposure_memo_num_t;

typedef struct {
    statsig_exposure_memo_slot_t  slot[STATSIG_EXPOSURE_MEMO_SLOTS];
    /* a set's slot to take over next (0 or 1) */
    uint8_t                       next[STATSIG_EXPOSURE_MEMO_SLOTS / 2];
    statsig_exposure_memo_num_t   sync;
    statsig_exposure_memo_num_t   time;
} statsig_exposure_memo_t;


typedef struct {
    statsig_eval_ctx_t  *ctx;          /* user, snapshot, runtime */
    double               time;         /* event time, ms since the epoch */
    double               config_sync_time;  /* metadata.configSyncTime */
    double               init_time;    /* metadata.initTime */
    double               server_time;  /* metadata.serverTime */

    /*
     * When not NULL, receives statsig-node's dedupe key of the event
     * (isUniqueExposure: userID, customID values, event name, metadata
     * values but the times and reason, joined with ",").  Reset first.
     */
    statsig_buf_t       *dedupe_key;

    /*
     * Optional, with dedupe_key, key_prefix and memo: when the memo holds
     * the event's key, it is not written (dedupe_key stays empty) and
     * *key_hash is its hash (statsig_exposure_key_hash() of the prefix
     * and the rest), from the slot's blocks of it; else *key_hash is 0
     * and the key written.
     */
    uint64_t            *key_hash;

    /*
     * Optional, for writing several exposures of one user, snapshot and
     * time: what statsig_exposure_tail() wrote for these options (from
     * ",\"configSyncTime\":" to "\"secondaryExposures\":"), and what
     * statsig_exposure_key_prefix() wrote ("userID,customIDs,").  NULL:
     * written for each event.
     */
    const char          *tail;
    size_t               tail_len;
    const char          *key_prefix;
    size_t               key_prefix_len;

    /* optional: gate and config heads, see statsig_exposure_memo_t */
    statsig_exposure_memo_t  *memo;

    /*
     * Optional, with memo, for both passes of one gate or config exposure
     * (the key with b NULL, then the event) with these options: the key
     * pass leaves the memo slot it found in *memo_pass, the event pass
     * takes it (and empties *memo_pass) instead of looking it up again.
     * *memo_pass NULL before the key pass.
     */
    statsig_exposure_memo_slot_t  **memo_pass;
} statsig_exposure_opts_t;


/* A custom event's value: null, a string or a number. */
typedef struct {
    enum {
        STATSIG_EVENT_VALUE_NULL = 0,
        STATSIG_EVENT_VALUE_STRING,
        STATSIG_EVENT_VALUE_NUMBER
    }                    type;
    statsig_str_t        str;
    double               num;
} statsig_event_value_t;


/*
 * Each writes one event object.  Returns 1 when an event was written,
 * 0 when statsig-node logs nothing (a layer parameter that is absent or
 * null), -1 when the buffer could not grow.  With b NULL only the dedupe
 * key is written (o->dedupe_key), as it would be with the event.
 */
int statsig_exposure_gate(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *name, size_t len, const statsig_result_t *r);

/* dynamic configs and experiments alike (getConfig / getExperiment) */
int statsig_exposure_config(statsig_buf_t *b,
    const statsig_exposure_opts_t *o, const char *name, size_t len,
    const statsig_result_t *r);

/* one parameter read of a layer (Layer.get) */
int statsig_exposure_layer(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *name, size_t len, const statsig_result_t *r,
    const char *param, size_t param_len);

/*
 * The key pass of a gate (STATSIG_KIND_GATE) or config exposure, with
 * o->dedupe_key, key_prefix, key_hash and memo given, through the memo
 * alone: when it holds the key, 1 with *o->key_hash set (dedupe_key
 * emptied) and the slot in *o->memo_pass when that is given, as
 * statsig_exposure_gate() or _config() with b NULL would leave them.
 * Else 0: those then.
 */
int statsig_exposure_key_again(const statsig_exposure_opts_t *o,
    unsigned kind, const char *name, size_t len, const statsig_result_t *r);

/*
 * The event pass of a gate (STATSIG_KIND_GATE) or config exposure right
 * after its key pass with these options, written at once from the slot
 * the key pass left in *o->memo_pass when it holds the event's head, the
 * result has no secondary exposures, o->tail is given and b has room:
 * 1 (the slot taken, as the writers take it).  Else 0, and nothing
 * written: statsig_exposure_gate() or _config() then.
 */
int statsig_exposure_again(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    unsigned kind, size_t len, const statsig_result_t *r);

/* logEvent: metadata is n string pairs (n may be 0: "metadata": null) */
int statsig_event_custom(statsig_buf_t *b, const statsig_exposure_opts_t *o,
    const char *event, size_t len, const statsig_event_value_t *value,
    const statsig_str_t *meta_keys, const statsig_str_t *meta_values,
    size_t n);

/* The bytes every exposure with these options shares (see opts.tail). */
void statsig_exposure_tail(statsig_buf_t *b, const statsig_exposure_opts_t *o);

/*
 * The dedupe key's 64-bit hash (MurmurHash64A, eight bytes a step) of
 * a[0 .. alen) followed by b[0 .. blen): the hash of the two written one
 * after the other, without writing them.  Never 0 (a free slot).
 */
uint64_t statsig_exposure_key_hash(const void *a, size_t alen, const void *b,
    size_t blen);

/* The start of every dedupe key of the user (see opts.key_prefix). */
void statsig_exposure_key_prefix(statsig_buf_t *k, statsig_eval_ctx_t *ctx);

/* The user object (o->ctx->user) as events or client initialize show it. */
void statsig_exposure_user(statsig_buf_t *b, statsig_eval_ctx_t *ctx,
    statsig_user_mode_e mode);

/* Any value as JSON.stringify writes it (undefined members skipped). */
void statsig_exposure_value(statsig_buf_t *b, const statsig_value_t *v);

#endif /* STATSIG_EXPOSURE_H */
