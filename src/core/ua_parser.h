/*
 * User agent -> os_name, os_version, browser_name, browser_version, as
 * statsig-node 6.5.2 reports them for ua_based conditions (spec section
 * 3.6): uap-core regexes (loaded at start, matched with PCRE2), then our
 * normalisation of names and versions towards ua-parser-js 1.0.41 plus
 * statsig-node's two renames.  Parsing never allocates; recent results
 * are cached inside the parser, so one parser belongs to one thread.
 */

#ifndef STATSIG_UA_PARSER_H
#define STATSIG_UA_PARSER_H

#include <stddef.h>

#define STATSIG_UA_FIELD_SIZE  64

typedef struct statsig_ua_parser_s  statsig_ua_parser_t;

typedef struct {
    char           os_name[STATSIG_UA_FIELD_SIZE];
    char           os_version[STATSIG_UA_FIELD_SIZE];
    char           browser_name[STATSIG_UA_FIELD_SIZE];
    char           browser_version[STATSIG_UA_FIELD_SIZE];
    unsigned char  has_os_name;
    unsigned char  has_os_version;
    unsigned char  has_browser_name;
    unsigned char  has_browser_version;
} statsig_ua_info_t;

/*
 * Compiles uap-core's regexes.yaml (its restricted YAML: sections of
 * "- key: 'value'" lists) or the same data as JSON; NULL with a message
 * in err on failure.
 */
statsig_ua_parser_t *statsig_ua_parser_load(const char *yaml_or_json,
    size_t len, char *err, size_t errlen);
void statsig_ua_parser_free(statsig_ua_parser_t *p);

/*
 * Fills out; a field is absent where statsig-node has no value (unknown
 * browser or OS, UA over 1000 UTF-16 units).  Returns 1 if any field is
 * present, else 0.
 */
int statsig_ua_parse(statsig_ua_parser_t *p, const char *ua, size_t len,
    statsig_ua_info_t *out);

/* The same fields in the parser's cache, valid until its next parse. */
const statsig_ua_info_t *statsig_ua_parse_ref(statsig_ua_parser_t *p,
    const char *ua, size_t len);

/* uap-core's own answer (family, versions joined by '.'), for tests. */
int statsig_ua_parse_raw(statsig_ua_parser_t *p, const char *ua, size_t len,
    statsig_ua_info_t *out);

#endif /* STATSIG_UA_PARSER_H */
