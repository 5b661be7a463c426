/*
 * The OpenFeature Remote Evaluation Protocol's pure logic (statsig_ofrep):
 * the request path, the evaluation context read from the body and mapped
 * to a Statsig user, the flags' answers (values, reasons, variants,
 * metadata, errors), the ETag of a bulk answer and If-None-Match.
 *
 * No nginx here: the glue (src/ngx/ngx_http_statsig_ofrep.c) reads the
 * HTTP request, evaluates through the local API's code and sends what is
 * written here to a statsig_buf_t.
 */

#ifndef STATSIG_OFREP_H
#define STATSIG_OFREP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "statsig.h"


/* OFREP's errorCode values (0: none) */
#define STATSIG_OFREP_OK                     0
#define STATSIG_OFREP_PARSE_ERROR            1
#define STATSIG_OFREP_INVALID_CONTEXT        2
#define STATSIG_OFREP_TARGETING_KEY_MISSING  3
#define STATSIG_OFREP_FLAG_NOT_FOUND         4
#define STATSIG_OFREP_GENERAL                5

/* the errorCode's text ("PARSE_ERROR", ...), NULL for 0 or unknown */
const char *statsig_ofrep_error_name(int code);


/* what a request path asks for */
#define STATSIG_OFREP_PATH_NONE    0
#define STATSIG_OFREP_PATH_BULK    1    /* .../ofrep/v1/evaluate/flags */
#define STATSIG_OFREP_PATH_SINGLE  2    /* .../ofrep/v1/evaluate/flags/K */

/*
 * The (decoded) path: the first "/ofrep/v1/evaluate/flags" in it, then
 * nothing (bulk; a trailing "/" too) or "/" and the flag key (the rest,
 * slashes included).  *key and *klen are set for SINGLE.
 */
int statsig_ofrep_path(const char *path, size_t len, const char **key,
    size_t *klen);


/*
 * The body: a JSON object with a "context" object.  0 and *context, or
 * PARSE_ERROR (not JSON, not an object) or INVALID_CONTEXT (no context
 * object), with the reason in err.  Values are allocated with a.
 */
int statsig_ofrep_request(const statsig_alloc_t *a, const char *body,
    size_t len, statsig_value_t *req, const statsig_value_t **context,
    char *err, size_t errlen);

/*
 * The Statsig user of an evaluation context: targetingKey -> userID;
 * email, ip, userAgent, country, locale, appVersion (strings) as they
 * are; customIDs and privateAttributes (objects) and statsigEnvironment
 * (an object) as they are; any other key -> custom.<key>, its value as
 * it comes.  0, or INVALID_CONTEXT (a field of the wrong type) or
 * TARGETING_KEY_MISSING (neither a targetingKey nor a custom ID: a user
 * the Statsig SDKs refuse), with the reason in err.
 */
int statsig_ofrep_user(const statsig_alloc_t *a,
    const statsig_value_t *context, statsig_value_t *user, char *err,
    size_t errlen);


/*
 * The flag of key: the gate of that name, else the dynamic config or
 * experiment, else the layer; NULL when there is none.
 */
const statsig_spec_t *statsig_ofrep_find(const statsig_snapshot_t *s,
    const char *key, size_t klen);

/*
 * Whether spec is a flag of the bulk answer: the spec statsig_ofrep_find
 * gives for its name (a gate shadows a config of the same name, the last
 * of duplicates wins), and not a segment or a holdout (as the client
 * initialize response leaves them out).
 */
int statsig_ofrep_listed(const statsig_snapshot_t *s,
    const statsig_spec_t *spec);

/*
 * One flag's answer for an evaluation result of spec: a gate is a
 * boolean flag (variant "on" / "off"), a config, experiment or layer an
 * object flag (the group name, when there is one, as its variant); the
 * reason as the evaluation reached it (TARGETING_MATCH, SPLIT for an
 * experiment group or a partial rollout, DEFAULT, DISABLED); metadata:
 * ruleId, entity, idType, groupName, allocatedExperiment.  An evaluation
 * the core could not make (an unsupported condition, a limit) is an
 * evaluation failure with GENERAL.  Returns the errorCode written (0 or
 * GENERAL).
 */
int statsig_ofrep_flag(statsig_buf_t *b, const statsig_snapshot_t *s,
    const char *key, size_t klen, const statsig_spec_t *spec,
    const statsig_result_t *res);

/*
 * {"key":K,"errorCode":C,"errorDetails":D}, or without "key" when key is
 * NULL (a bulk request's failure)
 */
void statsig_ofrep_error(statsig_buf_t *b, const char *key, size_t klen,
    int code, const char *details);

/* the reason written for a result of spec ("TARGETING_MATCH", ...) */
const char *statsig_ofrep_reason(const statsig_snapshot_t *s,
    const statsig_spec_t *spec, const statsig_result_t *res);


/*
 * The context as canonical JSON (object keys sorted bytewise, at every
 * depth; numbers as JSON.stringify writes them), so that two requests
 * with the same context in any key order hash alike.  Scratch memory
 * (sorted members) comes from a.
 */
void statsig_ofrep_canonical(const statsig_alloc_t *a, statsig_buf_t *b,
    const statsig_value_t *v);

/* an ETag: '"' + 32 hex digits + '"' */
#define STATSIG_OFREP_ETAG_LEN     34

/* the ETag of SHA-256(data), written with its NUL to out */
void statsig_ofrep_etag(const void *data, size_t len,
    char out[STATSIG_OFREP_ETAG_LEN + 1]);

/*
 * 1 when an If-None-Match value (a list of entity tags, or "*") matches
 * etag by the weak comparison (RFC 9110 13.1.2), else 0
 */
int statsig_ofrep_etag_match(const char *header, size_t len,
    const char *etag, size_t elen);

/*
 * 1 when some rule of the snapshot has a current_time condition: answers
 * may then change with the clock alone, and an ETag must come from the
 * answer itself
 */
int statsig_ofrep_uses_time(const statsig_snapshot_t *s);

#endif /* STATSIG_OFREP_H */
