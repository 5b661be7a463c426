/*
 * DCS v2 from a DCS v1 document: the download_config_specs shape the
 * Rust-core SDKs (statsig-node-core) parse, written from the v1 document
 * the module syncs, so that statsig_api can serve both.
 *
 * The mapping is the oracle's (../shared/oracle/lib/convert.js), and the
 * text is what JSON.stringify writes of its result, byte for byte:
 *
 *   - feature_gates, dynamic_configs, layer_configs: arrays of specs
 *     become objects keyed by String(name), the "name" member dropped (a
 *     name seen twice: the last spec, at the first one's place);
 *   - each rule gets "idType" when it has none (the spec's, else
 *     "userID"), and its "conditions" become ids into a top-level
 *     "condition_map": {type, targetValue, operator, field,
 *     additionalValues (values as strings), idType}, the id being djb2 of
 *     the condition's JSON text;
 *   - "layers" ({layer: [experiment, ...]}) becomes "experiment_to_layer"
 *     ({experiment: layer});
 *   - "has_updates" (true unless false), "time" (now when falsy) and
 *     "response_format": "dcs-v2"; every other member copied.
 *
 * Where convert.js would throw on a document the module's compiler
 * accepts (a layer's experiments not an array, "layers" not an object),
 * this follows the compiler, which ignores them: the v2 document then
 * evaluates as nginx does; and two different conditions with the same
 * djb2 (32 bits: a few in a million pairs) get distinct ids, the later
 * one "<djb2>_<n>".  Documents the compiler refuses (a spec or rule that
 * is not an object, ...) are refused here too.
 *
 * Thread-safe, no global state; memory from malloc.
 */

#ifndef STATSIG_DCS_V2_H
#define STATSIG_DCS_V2_H

#include <stddef.h>

#include "buf.h"


/*
 * Writes the v2 text of the v1 document json (len bytes) to out (appended;
 * the caller frees it).  now_ms: the "time" when the document has none.
 * Returns 0, or -1 with a message in err (out's content is then
 * undefined).
 */
int statsig_dcs_v2(const char *json, size_t len, double now_ms,
    statsig_buf_t *out, char *err, size_t errlen);

#endif /* STATSIG_DCS_V2_H */
