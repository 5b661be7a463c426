/*
 * User-agent parsing: uap-core regexes.yaml matched with PCRE2, then
 * normalised to what statsig-node (ua-parser-js 1.0.41) reports.  Results
 * are cached per parser (UA bytes -> fields, set-associative, no heap).
 *
 * uap-core semantics: within a section the first matching regex wins; a
 * field is its *_replacement (with $1..$9 substituted) if given, else the
 * regex group of the same rank; empty fields do not exist.  Device rules
 * are not compiled: nothing statsig-node reports depends on them.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "hash.h"
#include "ua_parser.h"

#define UA_NFIELDS          5      /* family, v1 .. v4 */
#define UA_CACHE_SLOTS      256    /* power of two */
#define UA_CACHE_WAYS       2      /* slots a UA may use: fewer collisions */
#define UA_CACHE_KEY_MAX    512    /* longer UAs are parsed every time */
#define UA_MAX_UTF16_UNITS  1000   /* getFromUserAgent's ua.length cap */
#define UA_PARSED_UNITS     500    /* ua-parser-js reads no further */

/* Our own rule lists (see the normalisation section). */
enum {
    UA_OWN_OS_FIRST = 0,           /* tried before uap-core's OS rules */
    UA_OWN_OS_FALLBACK,            /* when uap-core's OS is dropped */
    UA_OWN_BROWSER_FIRST,          /* tried before uap-core's UA rules */
    UA_OWN_BROWSER_FALLBACK,       /* when uap-core's browser is dropped */
    UA_OWN_HANDHELD,               /* phone or tablet, for " Mobile" */
    UA_OWN_OLD_SAFARI,             /* the Safari build, for UA_OLD_SAFARI */
    UA_OWN_LISTS
};
#define UA_OWN_MAX          32
#define UA_MAP_MAX          128    /* entries of a name map */

enum {
    UA_MAP_BROWSER = 0,
    UA_MAP_OS,
    UA_MAPS
};

enum {
    UA_SECTION_BROWSER = 0,
    UA_SECTION_OS,
    UA_SECTION_SKIPPED,            /* device_parsers, unknown sections */
    UA_SECTION_NONE
};

typedef struct {
    pcre2_code  *re;
    char        *repl[UA_NFIELDS];     /* NULL: take the regex group */
} ua_rule_t;

typedef struct {
    ua_rule_t   *rules;
    size_t       n;
    size_t       cap;
} ua_rule_list_t;

/* One matched section: family and up to four version parts. */
typedef struct {
    char         field[UA_NFIELDS][STATSIG_UA_FIELD_SIZE];
    int          found;
    long         version_at;    /* offset of the v1 group, or -1 */
    int          own;           /* from our rules: fields are final */
    unsigned     flags;         /* UA_VERSION_DASH ... */
} ua_match_t;

typedef struct {
    uint64_t           hash;
    uint64_t           last_use;      /* 0: free */
    size_t             len;
    statsig_ua_info_t  info;
    char               key[UA_CACHE_KEY_MAX];
} ua_cache_entry_t;

/* A rule being read: its source strings until the entry is complete. */
typedef struct {
    int          section;
    int          caseless;
    char        *regex;
    size_t       regex_len;
    char        *repl[UA_NFIELDS];
    size_t       line;
} ua_pending_t;

struct statsig_ua_parser_s {
    ua_rule_list_t      lists[UA_SECTION_SKIPPED];
    pcre2_code         *own[UA_OWN_LISTS][UA_OWN_MAX];
    pcre2_code         *map_version[UA_MAPS][UA_MAP_MAX];
    pcre2_match_data   *md;
    uint32_t            max_captures;
    uint64_t            uses;
    ua_cache_entry_t    cache[UA_CACHE_SLOTS];
    statsig_ua_info_t   uncached;      /* a UA too long for the cache */
};

static int ua_compile_own(statsig_ua_parser_t *p, char *err, size_t errlen);
static void ua_free_own(statsig_ua_parser_t *p);

/* Keys of an entry, by section; index = field rank. */
static const char *const ua_repl_keys[UA_SECTION_SKIPPED][UA_NFIELDS] = {
    { "family_replacement", "v1_replacement", "v2_replacement",
      "v3_replacement", "v4_replacement" },
    { "os_replacement", "os_v1_replacement", "os_v2_replacement",
      "os_v3_replacement", "os_v4_replacement" }
};


/* ------------------------------------------------------------------ */
/* Loading                                                            */
/* ------------------------------------------------------------------ */

static void
ua_pending_clear(ua_pending_t *e)
{
    int  i;

    free(e->regex);
    for (i = 0; i < UA_NFIELDS; i++) {
        free(e->repl[i]);
    }
    memset(e, 0, sizeof(*e));
    e->section = UA_SECTION_NONE;
}


static int
ua_set_error(char *err, size_t errlen, size_t line, const char *msg,
    const char *detail)
{
    if (err != NULL && errlen > 0) {
        snprintf(err, errlen, "ua regexes line %lu: %s%s%s",
                 (unsigned long) line, msg, detail[0] ? ": " : "", detail);
    }
    return -1;
}


static int
ua_list_push(ua_rule_list_t *l, const ua_rule_t *r)
{
    ua_rule_t  *grown;
    size_t      cap;

    if (l->n == l->cap) {
        cap = l->cap ? l->cap * 2 : 64;
        grown = realloc(l->rules, cap * sizeof(l->rules[0]));
        if (grown == NULL) {
            return -1;
        }
        l->rules = grown;
        l->cap = cap;
    }
    l->rules[l->n++] = *r;
    return 0;
}


/* Compiles the pending entry into its section's list. */
static int
ua_pending_commit(statsig_ua_parser_t *p, ua_pending_t *e, char *err,
    size_t errlen)
{
    ua_rule_t    rule;
    PCRE2_UCHAR  msg[128];
    PCRE2_SIZE   off;
    uint32_t     captures;
    int          rc, i;

    if (e->section >= UA_SECTION_SKIPPED) {
        ua_pending_clear(e);
        return 0;
    }
    if (e->regex == NULL) {
        return ua_set_error(err, errlen, e->line, "entry without regex", "");
    }

    rule.re = pcre2_compile((PCRE2_SPTR) e->regex, e->regex_len,
                            e->caseless ? PCRE2_CASELESS : 0, &rc, &off,
                            NULL);
    if (rule.re == NULL) {
        pcre2_get_error_message(rc, msg, sizeof(msg));
        return ua_set_error(err, errlen, e->line, "bad regex",
                            (const char *) msg);
    }
    /* JIT is an optimisation only: without it pcre2_match interprets */
    (void) pcre2_jit_compile(rule.re, PCRE2_JIT_COMPLETE);
    if (pcre2_pattern_info(rule.re, PCRE2_INFO_CAPTURECOUNT, &captures) == 0
        && captures > p->max_captures)
    {
        p->max_captures = captures;
    }

    for (i = 0; i < UA_NFIELDS; i++) {
        rule.repl[i] = e->repl[i];
        e->repl[i] = NULL;
    }
    if (ua_list_push(&p->lists[e->section], &rule) != 0) {
        pcre2_code_free(rule.re);
        for (i = 0; i < UA_NFIELDS; i++) {
            free(rule.repl[i]);
        }
        return ua_set_error(err, errlen, e->line, "out of memory", "");
    }
    ua_pending_clear(e);
    return 0;
}


/* Stores key = value (value owned by the caller) in the pending entry. */
static int
ua_pending_set(ua_pending_t *e, const char *key, size_t klen,
    const char *val, size_t vlen, char *err, size_t errlen)
{
    char  *copy, **slot;
    int    i;

    if (e->section >= UA_SECTION_SKIPPED) {
        return 0;
    }
    if (klen == 10 && memcmp(key, "regex_flag", 10) == 0) {
        e->caseless = vlen == 1 && val[0] == 'i';
        return 0;
    }

    slot = NULL;
    if (klen == 5 && memcmp(key, "regex", 5) == 0) {
        slot = &e->regex;
        e->regex_len = vlen;
    }
    for (i = 0; slot == NULL && i < UA_NFIELDS; i++) {
        if (strlen(ua_repl_keys[e->section][i]) == klen
            && memcmp(ua_repl_keys[e->section][i], key, klen) == 0)
        {
            slot = &e->repl[i];
        }
    }
    if (slot == NULL) {
        return 0;                          /* unknown keys: ignored */
    }

    copy = malloc(vlen + 1);
    if (copy == NULL) {
        return ua_set_error(err, errlen, e->line, "out of memory", "");
    }
    memcpy(copy, val, vlen);
    copy[vlen] = '\0';
    free(*slot);
    *slot = copy;
    return 0;
}


static int
ua_section_of(const char *name, size_t len)
{
    if (len == 18 && memcmp(name, "user_agent_parsers", 18) == 0) {
        return UA_SECTION_BROWSER;
    }
    if (len == 10 && memcmp(name, "os_parsers", 10) == 0) {
        return UA_SECTION_OS;
    }
    return UA_SECTION_SKIPPED;
}


/*
 * Decodes a YAML scalar in place: 'single' ('' is a quote), "double"
 * (backslash escapes of one character) or plain up to a " #" comment.
 * Returns its length, or -1 when a quote is not closed on the line.
 */
static long
ua_yaml_scalar(char *s, size_t len)
{
    size_t  i, o;
    char    q;

    if (len == 0 || (s[0] != '\'' && s[0] != '"')) {
        for (i = 0; i < len; i++) {
            if (s[i] == '#' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
                len = i;
                break;
            }
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
            len--;
        }
        return (long) len;
    }

    q = s[0];
    for (i = 1, o = 0; i < len; i++) {
        if (s[i] == q) {
            if (q == '\'' && i + 1 < len && s[i + 1] == '\'') {
                s[o++] = s[++i];
                continue;
            }
            return (long) o;
        }
        if (q == '"' && s[i] == '\\' && i + 1 < len) {
            i++;
            s[o++] = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
            continue;
        }
        s[o++] = s[i];
    }
    return -1;
}


/* One YAML line (copied, modifiable): section header, "- k: v" or "k: v". */
static int
ua_yaml_line(statsig_ua_parser_t *p, ua_pending_t *e, int *section,
    char *s, size_t len, size_t lineno, char *err, size_t errlen)
{
    size_t  indent, k, klen;
    long    vlen;

    for (indent = 0; indent < len && s[indent] == ' '; indent++) {
        /* count */
    }
    if (indent == len || s[indent] == '#') {
        return 0;
    }

    if (indent == 0) {                               /* "section:" */
        if (ua_pending_commit(p, e, err, errlen) != 0) {
            return -1;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == ':')) {
            len--;
        }
        *section = ua_section_of(s, len);
        return 0;
    }

    k = indent;
    if (s[k] == '-' && k + 1 < len && s[k + 1] == ' ') {
        if (*section == UA_SECTION_NONE) {
            return ua_set_error(err, errlen, lineno, "entry outside section",
                                "");
        }
        if (ua_pending_commit(p, e, err, errlen) != 0) {
            return -1;
        }
        e->section = *section;
        e->line = lineno;
        for (k += 2; k < len && s[k] == ' '; k++) {
            /* skip */
        }
    } else if (e->section == UA_SECTION_NONE) {
        return ua_set_error(err, errlen, lineno, "key outside entry", "");
    }

    for (klen = 0; k + klen < len && s[k + klen] != ':'; klen++) {
        /* key */
    }
    if (k + klen == len) {
        return ua_set_error(err, errlen, lineno, "expected key: value", "");
    }
    indent = k + klen + 1;
    while (indent < len && s[indent] == ' ') {
        indent++;
    }
    vlen = ua_yaml_scalar(s + indent, len - indent);
    if (vlen < 0) {
        return ua_set_error(err, errlen, lineno, "unterminated quote", "");
    }
    return ua_pending_set(e, s + k, klen, s + indent + (s[indent] == '\''
                          || s[indent] == '"'), (size_t) vlen, err, errlen);
}


static int
ua_load_yaml(statsig_ua_parser_t *p, const char *text, size_t len,
    char *err, size_t errlen)
{
    ua_pending_t  e;
    const char   *s, *nl, *end;
    char         *line;
    size_t        n, lineno;
    int           section, rc;

    memset(&e, 0, sizeof(e));
    e.section = UA_SECTION_NONE;
    section = UA_SECTION_NONE;
    rc = 0;
    end = text + len;
    for (s = text, lineno = 1; rc == 0 && s < end; s = nl + 1, lineno++) {
        nl = memchr(s, '\n', (size_t) (end - s));
        if (nl == NULL) {
            nl = end;
        }
        n = (size_t) (nl - s);
        if (n > 0 && s[n - 1] == '\r') {
            n--;
        }
        line = malloc(n + 1);
        if (line == NULL) {
            return ua_set_error(err, errlen, lineno, "out of memory", "");
        }
        memcpy(line, s, n);
        line[n] = '\0';
        rc = ua_yaml_line(p, &e, &section, line, n, lineno, err, errlen);
        free(line);
    }
    if (rc == 0) {
        rc = ua_pending_commit(p, &e, err, errlen);
    }
    ua_pending_clear(&e);
    return rc;
}


/* The same data as JSON: {"user_agent_parsers": [{"regex": ...}], ...}. */
static int
ua_load_json(statsig_ua_parser_t *p, const char *text, size_t len,
    char *err, size_t errlen)
{
    json_t        *root, *list, *entry, *value;
    json_error_t   jerr;
    ua_pending_t   e;
    const char    *section, *key;
    size_t         i;
    int            rc;

    root = json_loadb(text, len, 0, &jerr);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return ua_set_error(err, errlen, (size_t) jerr.line, "bad JSON",
                            root == NULL ? jerr.text : "not an object");
    }
    memset(&e, 0, sizeof(e));
    rc = 0;
    json_object_foreach(root, section, list) {
        json_array_foreach(list, i, entry) {
            e.section = ua_section_of(section, strlen(section));
            e.line = i + 1;
            json_object_foreach(entry, key, value) {
                if (rc == 0 && json_is_string(value)) {
                    rc = ua_pending_set(&e, key, strlen(key),
                                        json_string_value(value),
                                        json_string_length(value), err,
                                        errlen);
                }
            }
            if (rc == 0) {
                rc = ua_pending_commit(p, &e, err, errlen);
            }
        }
    }
    ua_pending_clear(&e);
    json_decref(root);
    return rc;
}


void
statsig_ua_parser_free(statsig_ua_parser_t *p)
{
    size_t  s, r;
    int     i;

    if (p == NULL) {
        return;
    }
    for (s = 0; s < UA_SECTION_SKIPPED; s++) {
        for (r = 0; r < p->lists[s].n; r++) {
            pcre2_code_free(p->lists[s].rules[r].re);
            for (i = 0; i < UA_NFIELDS; i++) {
                free(p->lists[s].rules[r].repl[i]);
            }
        }
        free(p->lists[s].rules);
    }
    ua_free_own(p);
    pcre2_match_data_free(p->md);
    free(p);
}


statsig_ua_parser_t *
statsig_ua_parser_load(const char *yaml_or_json, size_t len, char *err,
    size_t errlen)
{
    statsig_ua_parser_t  *p;
    size_t                i;
    int                   rc;

    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        ua_set_error(err, errlen, 0, "out of memory", "");
        return NULL;
    }
    for (i = 0; i < len && strchr(" \t\r\n", yaml_or_json[i]); i++) {
        /* skip */
    }
    if (i < len && yaml_or_json[i] == '{') {
        rc = ua_load_json(p, yaml_or_json, len, err, errlen);
    } else {
        rc = ua_load_yaml(p, yaml_or_json, len, err, errlen);
    }
    if (rc == 0) {
        rc = ua_compile_own(p, err, errlen);
    }
    if (rc == 0 && (p->lists[UA_SECTION_BROWSER].n == 0
                    || p->lists[UA_SECTION_OS].n == 0))
    {
        rc = ua_set_error(err, errlen, 0, "no user_agent_parsers or "
                          "os_parsers", "");
    }
    if (rc == 0) {
        p->md = pcre2_match_data_create(p->max_captures + 1, NULL);
        if (p->md == NULL) {
            rc = ua_set_error(err, errlen, 0, "out of memory", "");
        }
    }
    if (rc != 0) {
        statsig_ua_parser_free(p);
        return NULL;
    }
    return p;
}


/* ------------------------------------------------------------------ */
/* Matching                                                           */
/* ------------------------------------------------------------------ */

/* Copies at most size-1 bytes and terminates; returns bytes copied. */
static size_t
ua_copy(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size) {
        len = size - 1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}


/* Regex group n of the last match, or an empty string. */
static size_t
ua_group(const statsig_ua_parser_t *p, const char *ua, int rc, uint32_t n,
    const char **s)
{
    PCRE2_SIZE  *ov = pcre2_get_ovector_pointer(p->md);

    if (n >= (uint32_t) rc || ov[2 * n] == PCRE2_UNSET) {
        *s = "";
        return 0;
    }
    *s = ua + ov[2 * n];
    return ov[2 * n + 1] - ov[2 * n];
}


/* Expands $1..$9 of a replacement with the groups of the last match. */
static void
ua_substitute(const statsig_ua_parser_t *p, const char *ua, int rc,
    const char *repl, char *out)
{
    const char  *g;
    size_t       o, n;

    for (o = 0; *repl && o < STATSIG_UA_FIELD_SIZE - 1; repl++) {
        if (repl[0] == '$' && repl[1] >= '1' && repl[1] <= '9') {
            n = ua_group(p, ua, rc, (uint32_t) (*++repl - '0'), &g);
            o += ua_copy(out + o, STATSIG_UA_FIELD_SIZE - o, g, n);
        } else {
            out[o++] = *repl;
        }
    }
    out[o] = '\0';
}


/* Trims surrounding white space in place, as uap-core ports do. */
static void
ua_trim(char *s)
{
    size_t  start, len;

    len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    for (start = 0; start < len && (s[start] == ' ' || s[start] == '\t');
         start++)
    {
        /* skip */
    }
    memmove(s, s + start, len - start);
    s[len - start] = '\0';
}


static void
ua_match_section(statsig_ua_parser_t *p, int section, const char *ua,
    size_t len, ua_match_t *m)
{
    const ua_rule_list_t  *l = &p->lists[section];
    const ua_rule_t       *r;
    const char            *g;
    size_t                 i, n;
    int                    rc, f;

    memset(m, 0, sizeof(*m));
    for (i = 0; i < l->n; i++) {
        r = &l->rules[i];
        rc = pcre2_match(r->re, (PCRE2_SPTR) ua, len, 0, 0, p->md, NULL);
        if (rc <= 0) {
            continue;
        }
        m->version_at = -1;
        for (f = 0; f < UA_NFIELDS; f++) {
            if (r->repl[f] != NULL) {
                ua_substitute(p, ua, rc, r->repl[f], m->field[f]);
            } else {
                n = ua_group(p, ua, rc, (uint32_t) f + 1, &g);
                ua_copy(m->field[f], STATSIG_UA_FIELD_SIZE, g, n);
                if (f == 1 && n > 0) {
                    m->version_at = (long) (g - ua);
                }
            }
            ua_trim(m->field[f]);
        }
        m->found = 1;
        return;
    }
}


/*
 * Bytes of the longest prefix of UTF-8 text that is at most max UTF-16
 * units long, as JavaScript counts string length: a 4-byte sequence is
 * a surrogate pair, invalid bytes count one each.
 */
static size_t
ua_utf16_prefix(const char *s, size_t len, size_t max)
{
    const unsigned char  *c;
    size_t                i, units;

    c = (const unsigned char *) s;
    units = 0;
    for (i = 0; i < len; i++) {
        if ((c[i] & 0xc0) != 0x80) {
            units += c[i] >= 0xf0 ? 2 : 1;
            if (units > max) {
                break;
            }
        }
    }
    return i;
}


static void
ua_set_field(char *dst, unsigned char *has, const char *src)
{
    ua_copy(dst, STATSIG_UA_FIELD_SIZE, src, strlen(src));
    *has = 1;
}


/* Joins the present version parts with dots, stopping at the first gap. */
static int
ua_join_version(const ua_match_t *m, char *out)
{
    size_t  o;
    int     f;

    o = 0;
    out[0] = '\0';
    for (f = 1; f < UA_NFIELDS && m->field[f][0] != '\0'; f++) {
        if (f > 1 && o < STATSIG_UA_FIELD_SIZE - 1) {
            out[o++] = '.';
        }
        o += ua_copy(out + o, STATSIG_UA_FIELD_SIZE - o, m->field[f],
                     strlen(m->field[f]));
    }
    return o > 0;
}


int
statsig_ua_parse_raw(statsig_ua_parser_t *p, const char *ua, size_t len,
    statsig_ua_info_t *out)
{
    ua_match_t  m;

    memset(out, 0, sizeof(*out));
    if (ua_utf16_prefix(ua, len, UA_MAX_UTF16_UNITS) < len) {
        return 0;
    }
    ua_match_section(p, UA_SECTION_OS, ua, len, &m);
    if (m.found && m.field[0][0] != '\0') {
        ua_set_field(out->os_name, &out->has_os_name, m.field[0]);
        out->has_os_version = (unsigned char)
                              ua_join_version(&m, out->os_version);
    }
    ua_match_section(p, UA_SECTION_BROWSER, ua, len, &m);
    if (m.found && m.field[0][0] != '\0') {
        ua_set_field(out->browser_name, &out->has_browser_name, m.field[0]);
        out->has_browser_version = (unsigned char)
                                   ua_join_version(&m, out->browser_version);
    }
    return out->has_os_name || out->has_browser_name;
}


/* ------------------------------------------------------------------ */
/* Normalisation towards statsig-node (ua-parser-js 1.0.41)           */
/* ------------------------------------------------------------------ */

/*
 * For the OS and then the browser:
 *   1. our "first" rules: where ua-parser-js decides before anything
 *      uap-core would find (its leading rules, its Windows and iOS rules);
 *   2. else uap-core's first match, renamed by the name maps below, its
 *      version read as ua-parser-js reads it (the UA's own token, or the
 *      entry's pattern); names ua-parser-js cannot report are dropped;
 *   3. if dropped or not found, our fallback rules (generic engines and
 *      Gecko/WebKit/Safari as ua-parser-js names them);
 *   4. statsig-node's renames: " Mobile" after Chrome/Firefox on phones
 *      and tablets, "Mac OS" is "Mac OS X".
 */

/* Characters ua-parser-js takes into a version: \w and '.' (or '-'). */
#define UA_VERSION_DASH     0x1
/* ua-parser-js names it only where the entry's version pattern matches */
#define UA_CONFIRM          0x2
/* Without a version, ua-parser-js maps the Safari build (Safari < 3) */
#define UA_OLD_SAFARI       0x4
/* The pattern has (name, version) group pairs: the name as the UA has it */
#define UA_AS_WRITTEN       0x8
/* Windows versions are renamed as ua-parser-js does ("NT 6.1" is "7") */
#define UA_WINDOWS          0x10

#define UA_DROP             ""     /* a name statsig-node never reports */

typedef struct {
    const char  *family;           /* uap-core family */
    const char  *name;             /* statsig-node's; NULL: the family */
    unsigned     flags;
    const char  *version;          /* where ua-parser-js finds the version:
                                      its first non-empty group; NULL: the
                                      token where uap-core's starts */
} ua_name_map_t;

typedef struct {
    const char  *pattern;          /* PCRE2, caseless */
    const char  *name;             /* NULL: the name group as written */
    int          name_group;
    int          version;          /* group with the version, 0: none */
    unsigned     flags;
} ua_own_rule_t;

/*
 * Where uap-core names a browser differently from ua-parser-js, or finds
 * one ua-parser-js does not know (UA_DROP: the fallback rules decide).
 * Families not listed keep uap-core's name.  Sorted (strcmp) for bsearch.
 */
static const ua_name_map_t  ua_browser_names[] = {
    { "Amazon Silk", "Silk", 0, NULL },
    { "Android", "Android Browser", UA_CONFIRM,
      "droid.+ version/([\\w.]+)\\b.+(?:mobile safari|safari)" },
    { "Avant", NULL, 0, "avant[/ ]?([\\d.]*)" },
    { "Chrome Mobile", "Chrome", 0, NULL },
    { "Chrome Mobile WebView", "Chrome WebView", UA_CONFIRM,
      " wv\\).+chrome/([\\w.]+)" },
    { "Chrome Mobile iOS", "Chrome", 0, NULL },
    { "Comodo Dragon", "Dragon", UA_VERSION_DASH, NULL },
    { "Edge Mobile", "Edge", 0, NULL },
    { "Electron", UA_DROP, 0, NULL },
    { "Firefox Alpha", "Firefox", 0, NULL },
    { "Firefox Beta", "Firefox", 0, NULL },
    { "Firefox Mobile", "Firefox", 0, NULL },
    { "Firefox iOS", "Firefox", UA_VERSION_DASH, NULL },
    { "IE", NULL, 0,
      "(?:ms|\\()ie ([\\w.]+)|trident.+rv[: ]([\\w.]{1,9})\\b.+like gecko" },
    { "IE Mobile", "IEMobile", 0, NULL },
    { "IceCat", NULL, UA_CONFIRM, "icecat/([-\\w.]+)$" },
    { "Iceape", UA_DROP, 0, NULL },
    { "K-Meleon", NULL, UA_CONFIRM, "k-meleon/([-\\w.]+)$" },
    { "Maxthon", NULL, 0,
      "\\b(?:mxbrowser|mxios|myie2)/?([-\\w.]*)\\b|maxthon[/ ]?([\\w.]*)" },
    { "Mobile Safari", NULL, UA_OLD_SAFARI, NULL },
    { "MyIE2", "Maxthon", 0, NULL },
    { "NCSA Mosaic", "Mosaic", 0, NULL },
    { "Pale Moon", NULL, UA_CONFIRM | UA_AS_WRITTEN,
      "(palemoon)/([-\\w.]+)$" },
    { "Rekonq", "rekonq", 0, NULL },
    { "Safari", NULL, UA_OLD_SAFARI, NULL },
    { "SeaMonkey", NULL, UA_CONFIRM, "seamonkey/([-\\w.]+)$" },
    { "Yandex Browser", "Yandex", 0, NULL },
    { "iCab", UA_DROP, 0, NULL },
};

/*
 * ua-parser-js's rules for Linux, its distributions and the BSDs, in its
 * order: the first that matches anywhere names the OS as the UA writes it.
 */
#define UA_LINUX                                                            \
    "^(?:.*?(mint)[/() ]?(\\w*)"                                            \
    "|.*?(mageia|vectorlinux)[; ]()"                                        \
    "|.*?([kxln]?ubuntu|debian|suse|opensuse|gentoo|arch(?= linux)"         \
    "|slackware|fedora|mandriva|centos|pclinuxos|red ?hat|zenwalk|linpus"   \
    "|raspbian|plan 9|minix|risc os|contiki|deepin|manjaro|elementary os"   \
    "|sabayon|linspire)(?: gnu/linux)?(?: enterprise)?(?:[- ]linux)?"       \
    "(?:-gnu)?[-/ ]?(?!chrom|package)([-\\w.]*)"                            \
    "|.*?(hurd|linux)(?: arm\\w*| x86\\w*| ?)([\\w.]*)"                 \
    "|.*?(gnu) ?([\\w.]*)"                                                  \
    "|.*?\\b([-frentopcghs]{0,5}bsd|dragonfly)[/ ]?(?!amd|[ix346]{1,2}86)"  \
    "([\\w.]*))"

static const ua_name_map_t  ua_os_names[] = {
    { "Android", NULL, 0, "android\\w*[-/; ]?([\\d.]*)" },
    { "Arch Linux", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "BlackBerry OS", "BlackBerry", 0, "blackberry\\w*[-/; ]?([\\d.]*)" },
    { "CentOS", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Chrome OS", "Chromium OS", 0, NULL },
    { "Chromecast", NULL, UA_CONFIRM, "crkey/([\\d.]+)" },
    { "Debian", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "DragonFly", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Fedora", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "FreeBSD", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Gentoo", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Kindle", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Kubuntu", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Linux", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Linux Mint", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Mac OS", "Mac OS X", 0, NULL },
    { "Mac OS X", NULL, 0, "mac os x ?([\\w. ]*)" },
    { "Mandriva", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "NetBSD", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "OpenBSD", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Red Hat", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "SUSE", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Slackware", NULL, UA_AS_WRITTEN, UA_LINUX },
    { "Solaris", NULL, 0, "sunos ?([\\w.]*)|(?:open)?solaris[-/ ]?([\\w.]*)" },
    { "Symbian OS", "Symbian", 0, NULL },
    { "Ubuntu", NULL, UA_AS_WRITTEN, UA_LINUX },
    /* ua-parser-js's Windows rules are in ua_os_first: others are not */
    { "Windows", UA_DROP, 0, NULL },
    /* ua-parser-js's iOS rules are in ua_os_first: others are not iOS */
    { "iOS", UA_DROP, 0, NULL },
};

/* ua-parser-js answers uap-core gets differently, checked first. */
static const ua_own_rule_t  ua_os_first[] = {
    /* ua-parser-js's Windows, with its version names ("NT 6.1" is "7") */
    { "(windows (?:phone(?: os)?|mobile|iot))[/ ]?([\\d.\\w ]*)", NULL, 1, 2,
      UA_WINDOWS },
    { "(?|windows nt 6\\.2; (arm)|windows[/ ]([ntce\\d. ]+\\w)(?!.+xbox)"
      "|(?:win(?=3|9|n)|win 9x )([nt\\d.]+))", "Windows", 1, 1, UA_WINDOWS },
    /* its iOS: "MIDP; Opera" and the like are iOS too */
    { "[adehimnop]{4,7}\\b(?:.*os (\\w+) like mac|; opera)", "iOS", 1, 1, 0 },
    { "(?:ios;fbsv/|iphone.+ios[/ ])([\\d.]+)", "iOS", 1, 1, 0 },
    { "cfnetwork/.+darwin", "iOS", 1, 0, 0 },
    /* consoles */
    { "(xbox); +xbox ([^);]+)", NULL, 1, 2, 0 },
    { "(nintendo|playstation) ([wids345portablevuch]+)", NULL, 1, 2, 0 },
    { NULL, NULL, 1, 0, 0 }
};

static const ua_own_rule_t  ua_os_fallback[] = {
    { "(mac os x) ?([\\w. ]*)", "Mac OS X", 1, 2, 0 },
    { "(macintosh|mac_powerpc\\b)(?!.+haiku)", "Mac OS X", 1, 0, 0 },
    { "\\b(beos|os/2|amigaos|morphos|openvms|fuchsia|hp-ux|serenityos)",
      NULL, 1, 0, 0 },
    { "(unix) ?([\\w.]*)", NULL, 1, 2, 0 },
    { NULL, NULL, 1, 0, 0 }
};

/*
 * ua-parser-js's first rules (Chrome on iOS, Edge, the Operas) and the
 * browsers it finds before the engine uap-core reports.
 */
static const ua_own_rule_t  ua_browser_first[] = {
    { "\\b(?:crmo|crios)/([\\w.]+)", "Chrome", 1, 1, 0 },
    { "edg(?:e|ios|a)?/([\\w.]+)", "Edge", 1, 1, 0 },
    { "(opera mini)/([-\\w.]+)", NULL, 1, 2, 0 },
    { "(opera [mobiletab]{3,6})\\b.+version/([-\\w.]+)", NULL, 1, 2, 0 },
    { "(opera)(?:.+version/|[/ ]+)([\\w.]+)", NULL, 1, 2, 0 },
    { "opios[/ ]+([\\w.]+)", "Opera Mini", 1, 1, 0 },
    { "\\bop(?:rg)?x/([\\w.]+)", "Opera GX", 1, 1, 0 },
    { "\\bopr/([\\w.]+)", "Opera", 1, 1, 0 },
    { "(flock|rockmelt|midori|epiphany|silk|skyfire|ovibrowser|bolt|iron"
      "|vivaldi|iridium|phantomjs|bowser|qupzilla|falkon|rekonq|puffin"
      "|brave|whale(?!.+naver)|qqbrowserlite|duckduckgo|klar|helio"
      "|(?=comodo_)?dragon)/([-\\w.]+)", NULL, 1, 2, 0 },
    { "quark(?:pc)?/([-\\w.]+)", "Quark", 1, 1, 0 },
    { "huaweibrowser/([\\w.]+)", "Huawei Browser", 1, 1, 0 },
    { "ya(?:search)?browser/([\\w.]+)", "Yandex", 1, 1, 0 },
    { "miuibrowser/([\\w.]+)", "MIUI Browser", 1, 1, 0 },
    { "\\bgsa/([\\w.]+) .*safari/", "GSA", 1, 1, 0 },
    { "headlesschrome(?:/([\\w.]+)| )", "Chrome Headless", 1, 1, 0 },
    { "(navigator|netscape\\d?)/([-\\w.]+)", "Netscape", 1, 2, 0 },
    { "(swiftfox)", NULL, 1, 0, 0 },
    { "(icedragon|iceweasel|camino|chimera|fennec|maemo browser|minimo"
      "|conkeror)[/ ]?([\\w.+]+)", NULL, 1, 2, 0 },
    { NULL, NULL, 1, 0, 0 }
};

/*
 * Every browser name ua-parser-js 1.0.41 can report, lower case without
 * spaces or dots (it often copies the name as the UA writes it).  uap-core
 * names outside these lists (crawlers, HTTP libraries, apps, TV systems)
 * are dropped.
 */
static const char *const  ua_known_browsers[] = {
    "115browser", "2345", "360", "alipay", "amaya", "androidbrowser", "arora",
    "avant", "avastsecurebrowser", "avgsecurebrowser", "baidu", "basilisk",
    "blazer", "bolt", "bowser", "brave", "camino", "chimera", "chrome",
    "chromeheadless", "chromewebview", "chromium", "cobalt", "coccoc",
    "conkeror", "daum", "dillo", "dolphin", "doris", "dragon", "duckduckgo",
    "edge", "electron", "epiphany", "facebook", "falkon", "fennec",
    "firebird", "firefox", "firefoxfocus", "firefoxreality", "flock", "flow",
    "gobrowser", "gsa", "helio", "heytapbrowser", "huaweibrowser", "icab",
    "iceape", "icebrowser", "icecat", "icedragon", "iceweasel", "ie",
    "iemobile", "instagram", "iridium", "iron", "jasmine", "k-meleon",
    "kakaostory", "kakaotalk", "khtml", "kindle", "klar", "klarna",
    "konqueror", "ladybird", "lbbrowser", "librewolf", "line", "linkedin",
    "links", "lunascape", "lynx", "maemobrowser", "maxthon", "midori",
    "minimo", "miuibrowser", "mobilesafari", "mosaic", "mozilla", "naver",
    "netfront", "netscape", "netsurf", "nokiabrowser", "obigo",
    "oculusbrowser", "omniweb", "opera", "operacoast", "operagx", "operamini",
    "operamobi", "operamobile", "operatablet", "operatouch", "ovibrowser",
    "palemoon", "phantomjs", "phoenix", "picobrowser", "polaris", "puffin",
    "qqbrowser", "qqbrowserlite", "quark", "qupzilla", "rekonq", "rockmelt",
    "safari", "sailfishbrowser", "samsunginternet", "seamonkey", "silk",
    "skyfire", "sleipnir", "slimboat", "slimbrowser", "slimjet",
    "smartlenovobrowser", "snapchat", "sogouexplorer", "sogoumobile",
    "swiftfox", "tesla", "tiktok", "tizenbrowser", "twitter", "ucbrowser",
    "upbrowser", "vivaldi", "vivobrowser", "w3m", "waterfox", "webkit",
    "wechat", "weibo", "whale", "wolvic", "yandex"
};

/* The same for OS names (after statsig-node's "Mac OS X" rename). */
static const char *const  ua_known_os[] = {
    "aix", "amigaos", "android", "android-x86", "arch", "bada", "beos",
    "blackberry", "centos", "chromecast", "chromiumos", "contiki", "debian",
    "deepin", "dragonfly", "elementaryos", "fedora", "firefoxos", "freebsd",
    "fuchsia", "gentoo", "ghostbsd", "gnu", "haiku", "harmonyos", "hp-ux",
    "hurd", "ios", "joli", "kaios", "kubuntu", "linpus", "linspire", "linux",
    "lubuntu", "macosx", "maemo", "mageia", "mandriva", "manjaro", "meego",
    "minix", "mint", "morphos", "netbsd", "netrange", "nettv", "nintendo",
    "nubuntu", "openbsd", "openharmony", "opensolaris", "opensuse", "openvms",
    "os/2", "palm", "pc-bsd", "pclinuxos", "plan9", "playstation", "qnx",
    "raspbian", "redhat", "rimtabletos", "riscos", "sabayon", "sailfish",
    "serenityos", "series40", "slackware", "solaris", "suse", "symbian",
    "tizen", "ubuntu", "ubuntutouch", "unix", "vectorlinux", "viera",
    "watchos", "webos", "windows", "windowsiot", "windowsmobile",
    "windowsphone", "windowsphoneos", "xbox", "xubuntu", "zenwalk"
};

/* When uap-core finds nothing statsig-node would name. */
static const ua_own_rule_t  ua_browser_fallback[] = {
    { "(?:ms|\\()(ie) ([\\w.]+)", "IE", 1, 2, 0 },
    { " wv\\).+(chrome)/([\\w.]+)", "Chrome WebView", 1, 2, 0 },
    { "droid.+ version/([\\w.]+)\\b.+(?:mobile safari|safari)",
      "Android Browser", 1, 1, 0 },
    { "(chrome)/v?([\\w.]+)", "Chrome", 1, 2, 0 },
    { "version/([\\w.,]+) .*mobile/\\w+ (safari)", "Mobile Safari", 1, 1, 0 },
    { "version/([\\w(.|,)]+) .*(mobile ?safari|safari)", NULL, 2, 1, 0 },
    { "webkit.+?(mobile ?safari|safari)(/[\\w.]+)", NULL, 1, 2,
      UA_OLD_SAFARI },
    { "(webkit|khtml)/([\\w.]+)", NULL, 1, 2, 0 },
    { "(seamonkey|k-meleon|icecat|iceape|firebird|phoenix|palemoon|basilisk"
      "|waterfox)/([-\\w.]+)$", NULL, 1, 2, 0 },
    { "(firefox)/([\\w.]+)", "Firefox", 1, 2, 0 },
    { "(mozilla)/([\\w.]+) .+rv:.+gecko/\\d+", NULL, 1, 2, 0 },
    { "(amaya|dillo|doris|icab|ladybird|lynx|mosaic|netsurf|obigo|polaris"
      "|w3m|(?:go|ice|up)[. ]?browser)[-/ ]?v?([\\w.]+)", NULL, 1, 2, 0 },
    { NULL, NULL, 1, 0, 0 }
};

/* Devices ua-parser-js types as mobile or tablet. */
static const ua_own_rule_t  ua_handheld[] = {
    { "[/(]ip(?:hone|od|ad)", NULL, 1, 0, 0 },
    { "droid .+?; [^;]+?(?: bui|; wv\\)|\\) applew).+? safari", NULL, 1, 0, 0 },
    { "\\b(?:(?:tablet|tab)[;/]|focus/\\d(?!.+mobile))", NULL, 1, 0, 0 },
    { "(?:phone|mobile(?:[;/]| [ \\w/.]*safari)|pda(?=.+windows ce))",
      NULL, 1, 0, 0 },
    { "\\b(?:sm-[ptx]\\w{2,4}|gt-[pn]\\d{2,4}|(?:s[cgp]h|gt|sm)-(?![lr])\\w+)",
      NULL, 1, 0, 0 },
    { NULL, NULL, 1, 0, 0 }
};

static const ua_own_rule_t  ua_safari_build[] = {
    { "webkit.+?(?:mobile ?safari|safari)(/[\\w.]+)", NULL, 0, 1, 0 },
    { NULL, NULL, 1, 0, 0 }
};

static const ua_own_rule_t *const  ua_own_rules[UA_OWN_LISTS] = {
    ua_os_first, ua_os_fallback, ua_browser_first, ua_browser_fallback,
    ua_handheld, ua_safari_build
};


static int
ua_name_cmp(const void *key, const void *entry)
{
    return strcmp(key, ((const ua_name_map_t *) entry)->family);
}


static const struct {
    const ua_name_map_t  *entries;
    size_t                n;
} ua_maps[UA_MAPS] = {
    { ua_browser_names, sizeof(ua_browser_names) / sizeof(ua_name_map_t) },
    { ua_os_names, sizeof(ua_os_names) / sizeof(ua_name_map_t) }
};


static pcre2_code *
ua_compile_pattern(statsig_ua_parser_t *p, const char *pattern, char *err,
    size_t errlen)
{
    pcre2_code   *re;
    PCRE2_UCHAR   msg[128];
    PCRE2_SIZE    off;
    uint32_t      captures;
    int           rc;

    re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
                       PCRE2_CASELESS, &rc, &off, NULL);
    if (re == NULL) {
        pcre2_get_error_message(rc, msg, sizeof(msg));
        ua_set_error(err, errlen, 0, pattern, (const char *) msg);
        return NULL;
    }
    (void) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    if (pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &captures) == 0
        && captures > p->max_captures)
    {
        p->max_captures = captures;
    }
    return re;
}


/* bsearch needs sorted lists: a wrong edit must not go unnoticed. */
static int
ua_sorted(const char *const *names, size_t n, char *err, size_t errlen)
{
    size_t  i;

    for (i = 1; i < n; i++) {
        if (strcmp(names[i - 1], names[i]) >= 0) {
            return ua_set_error(err, errlen, 0, "name list unsorted at",
                                names[i]);
        }
    }
    return 0;
}


/* Our rule lists and the version patterns of the name maps. */
static int
ua_compile_own(statsig_ua_parser_t *p, char *err, size_t errlen)
{
    const char  *pattern;
    size_t       i;
    int          list;

    if (ua_sorted(ua_known_browsers, sizeof(ua_known_browsers)
                  / sizeof(ua_known_browsers[0]), err, errlen) != 0
        || ua_sorted(ua_known_os, sizeof(ua_known_os)
                     / sizeof(ua_known_os[0]), err, errlen) != 0)
    {
        return -1;
    }
    for (list = 0; list < UA_OWN_LISTS; list++) {
        for (i = 0; ua_own_rules[list][i].pattern != NULL; i++) {
            if (i >= UA_OWN_MAX) {
                return ua_set_error(err, errlen, 0, "too many own rules",
                                    "");
            }
            p->own[list][i] = ua_compile_pattern(
                p, ua_own_rules[list][i].pattern, err, errlen);
            if (p->own[list][i] == NULL) {
                return -1;
            }
        }
    }
    for (list = 0; list < UA_MAPS; list++) {
        for (i = 0; i < ua_maps[list].n; i++) {
            /* the maps are searched with bsearch: keep them sorted */
            if (i >= UA_MAP_MAX || (i > 0
                && strcmp(ua_maps[list].entries[i - 1].family,
                          ua_maps[list].entries[i].family) >= 0))
            {
                return ua_set_error(err, errlen, 0, "name map unsorted or "
                                    "too long at",
                                    ua_maps[list].entries[i].family);
            }
            pattern = ua_maps[list].entries[i].version;
            if (pattern == NULL) {
                continue;
            }
            p->map_version[list][i] = ua_compile_pattern(p, pattern, err,
                                                         errlen);
            if (p->map_version[list][i] == NULL) {
                return -1;
            }
        }
    }
    return 0;
}


static void
ua_free_own(statsig_ua_parser_t *p)
{
    size_t  i;
    int     list;

    for (list = 0; list < UA_OWN_LISTS; list++) {
        for (i = 0; i < UA_OWN_MAX; i++) {
            pcre2_code_free(p->own[list][i]);
        }
    }
    for (list = 0; list < UA_MAPS; list++) {
        for (i = 0; i < UA_MAP_MAX; i++) {
            pcre2_code_free(p->map_version[list][i]);
        }
    }
}


/*
 * The version ua-parser-js reads for a mapped name: the first non-empty
 * group of the entry's pattern, or with UA_AS_WRITTEN, groups in (name,
 * version) pairs, the first pair whose name matched.  Returns -1 when the
 * entry has no pattern or it does not match, else whether a version was
 * found.
 */
static int
ua_map_version(statsig_ua_parser_t *p, int kind, const ua_name_map_t *e,
    const char *ua, size_t len, char *name, char *out)
{
    pcre2_code  *re;
    const char  *g;
    uint32_t     n;
    size_t       glen;
    int          rc;

    re = p->map_version[kind][e - ua_maps[kind].entries];
    if (re == NULL) {
        return -1;
    }
    rc = pcre2_match(re, (PCRE2_SPTR) ua, len, 0, 0, p->md, NULL);
    if (rc <= 0) {
        return -1;
    }
    for (n = 1; n < (uint32_t) rc; n++) {
        glen = ua_group(p, ua, rc, n, &g);
        if (e->flags & UA_AS_WRITTEN) {
            if (glen == 0) {
                n++;
                continue;
            }
            ua_copy(name, STATSIG_UA_FIELD_SIZE, g, glen);
            glen = ua_group(p, ua, rc, ++n, &g);
            return ua_copy(out, STATSIG_UA_FIELD_SIZE, g, glen) > 0;
        }
        if (glen > 0) {
            return ua_copy(out, STATSIG_UA_FIELD_SIZE, g, glen) > 0;
        }
    }
    return 0;
}


/*
 * ua-parser-js's Windows versions: the UA's "NT 6.1" is "7"; a version
 * containing one of these (case aside) is renamed, others stay as is.
 */
static void
ua_windows_version(char *version)
{
    static const char *const  map[][2] = {
        { "4.90", "ME" }, { "NT3.51", "NT 3.11" }, { "NT4.0", "NT 4.0" },
        { "NT 5.0", "2000" }, { "NT 5.1", "XP" }, { "NT 5.2", "XP" },
        { "NT 6.0", "Vista" }, { "NT 6.1", "7" }, { "NT 6.2", "8" },
        { "NT 6.3", "8.1" }, { "NT 6.4", "10" }, { "NT 10.0", "10" },
        { "ARM", "RT" }
    };
    char                      lower[STATSIG_UA_FIELD_SIZE], key[16];
    size_t                    i, k;

    for (i = 0; version[i]; i++) {
        lower[i] = (char) ((version[i] >= 'A' && version[i] <= 'Z')
                           ? version[i] | 0x20 : version[i]);
    }
    lower[i] = '\0';
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        for (k = 0; map[i][0][k]; k++) {
            key[k] = (char) ((map[i][0][k] >= 'A' && map[i][0][k] <= 'Z')
                             ? map[i][0][k] | 0x20 : map[i][0][k]);
        }
        key[k] = '\0';
        if (strstr(lower, key) != NULL) {
            ua_copy(version, STATSIG_UA_FIELD_SIZE, map[i][1],
                    strlen(map[i][1]));
            return;
        }
    }
}


/*
 * First own rule of a list that matches: its name in field 0 and its
 * version in field 1, both exact (version_at stays -1).
 */
static int
ua_match_own(statsig_ua_parser_t *p, int list, const char *ua, size_t len,
    ua_match_t *m)
{
    const ua_own_rule_t  *r;
    const char           *g;
    size_t                n;
    int                   i, rc;

    for (i = 0; ua_own_rules[list][i].pattern != NULL; i++) {
        rc = pcre2_match(p->own[list][i], (PCRE2_SPTR) ua, len, 0, 0, p->md,
                         NULL);
        if (rc <= 0) {
            continue;
        }
        r = &ua_own_rules[list][i];
        memset(m, 0, sizeof(*m));
        m->found = 1;
        m->own = 1;
        m->flags = r->flags;
        m->version_at = -1;
        if (r->name != NULL) {
            ua_copy(m->field[0], STATSIG_UA_FIELD_SIZE, r->name,
                    strlen(r->name));
        } else {
            n = ua_group(p, ua, rc, (uint32_t) r->name_group, &g);
            ua_copy(m->field[0], STATSIG_UA_FIELD_SIZE, g, n);
        }
        if (r->version > 0) {
            n = ua_group(p, ua, rc, (uint32_t) r->version, &g);
            ua_copy(m->field[1], STATSIG_UA_FIELD_SIZE, g, n);
        }
        return 1;
    }
    return 0;
}


/* What ua-parser-js's version patterns take: [\w.], and '-' for some. */
static int
ua_version_char(char c, unsigned flags)
{
    return c == '.' || c == '_' || (c >= '0' && c <= '9')
           || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c == '-' && (flags & UA_VERSION_DASH));
}


/*
 * ua-parser-js versions are the UA's own token ("3.6.3plugin1"), where
 * uap-core keeps numeric parts; so read the token where uap-core's major
 * version starts.  Replacement versions are used as uap-core joins them.
 */
static int
ua_version(const ua_match_t *m, const char *ua, size_t len, unsigned flags,
    char *out)
{
    size_t  start, end;
    int     ok;

    if (m->own) {
        ok = ua_copy(out, STATSIG_UA_FIELD_SIZE, m->field[1],
                     strlen(m->field[1])) > 0;
    } else if (m->version_at < 0) {
        ok = ua_join_version(m, out);
    } else {
        start = (size_t) m->version_at;
        for (end = start; end < len && ua_version_char(ua[end], flags);
             end++)
        {
            /* scan */
        }
        ok = ua_copy(out, STATSIG_UA_FIELD_SIZE, ua + start, end - start)
             > 0;
    }
    return ok;
}


static const ua_name_map_t *
ua_map_find(int kind, const char *family)
{
    return bsearch(family, ua_maps[kind].entries, ua_maps[kind].n,
                   sizeof(ua_name_map_t), ua_name_cmp);
}


static int
ua_known_cmp(const void *key, const void *entry)
{
    return strcmp(key, *(const char *const *) entry);
}


/* Whether ua-parser-js has this name at all (see ua_known_browsers). */
static int
ua_is_known(int kind, const char *name)
{
    char    key[STATSIG_UA_FIELD_SIZE];
    size_t  k;

    for (k = 0; *name && k < sizeof(key) - 1; name++) {
        if (*name != ' ' && *name != '.') {
            key[k++] = (char) ((*name >= 'A' && *name <= 'Z')
                               ? *name | 0x20 : *name);
        }
    }
    key[k] = '\0';
    if (kind == UA_MAP_OS) {
        return bsearch(key, ua_known_os, sizeof(ua_known_os)
                       / sizeof(ua_known_os[0]), sizeof(char *),
                       ua_known_cmp) != NULL;
    }
    return bsearch(key, ua_known_browsers, sizeof(ua_known_browsers)
                   / sizeof(ua_known_browsers[0]), sizeof(char *),
                   ua_known_cmp) != NULL;
}


/* ua-parser-js's names for Safari builds before Safari 3 had versions. */
static int
ua_old_safari(const char *build, char *out)
{
    static const char *const  map[][2] = {
        { "/8", "1.0" }, { "/1", "1.2" }, { "/3", "1.3" },
        { "/412", "2.0" }, { "/416", "2.0.2" }, { "/417", "2.0.3" },
        { "/419", "2.0.4" }
    };
    size_t                    i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strncmp(build, map[i][0], strlen(map[i][0])) == 0) {
            ua_copy(out, STATSIG_UA_FIELD_SIZE, map[i][1], strlen(map[i][1]));
            return 1;
        }
    }
    return 0;
}


/*
 * Final name (in m) and version of a match, renamed per the name maps;
 * 0 when statsig-node would name nothing.
 */
static int
ua_resolve(statsig_ua_parser_t *p, int kind, ua_match_t *m, const char *ua,
    size_t len, char *version, unsigned char *has_version)
{
    const ua_name_map_t  *e;
    ua_match_t            old;
    char                  build[STATSIG_UA_FIELD_SIZE];
    int                   rc;

    rc = -1;
    e = m->own ? NULL : ua_map_find(kind, m->field[0]);
    if (e != NULL) {
        if (e->name != NULL) {
            ua_copy(m->field[0], STATSIG_UA_FIELD_SIZE, e->name,
                    strlen(e->name));
        }
        m->flags = e->flags;
        rc = ua_map_version(p, kind, e, ua, len, m->field[0], version);
        if (rc < 0 && (e->flags & UA_CONFIRM)) {
            return 0;
        }
    }
    if (m->field[0][0] == '\0' || (!m->own && !(m->flags & UA_AS_WRITTEN)
                                     && !ua_is_known(kind, m->field[0])))
    {
        return 0;
    }
    if (rc < 0) {
        rc = ua_version(m, ua, len, m->flags, version);
    }
    if (rc > 0 && (m->flags & UA_WINDOWS)) {
        ua_windows_version(version);
    }
    if (m->flags & UA_OLD_SAFARI) {
        if (m->own) {
            ua_copy(build, sizeof(build), version, strlen(version));
            rc = ua_old_safari(build, version);
        } else if (rc == 0 && ua_match_own(p, UA_OWN_OLD_SAFARI, ua, len,
                                           &old))
        {
            rc = ua_old_safari(old.field[1], version);
        }
    }
    *has_version = (unsigned char) rc;
    return 1;
}


/* iOS and macOS versions are written 10_15_7; statsig-node has dots. */
static void
ua_underscores_to_dots(char *s)
{
    for (; *s; s++) {
        *s = *s == '_' ? '.' : *s;
    }
}


static void
ua_normalise_os(statsig_ua_parser_t *p, const char *ua, size_t len,
    statsig_ua_info_t *out)
{
    ua_match_t  m;

    if (!ua_match_own(p, UA_OWN_OS_FIRST, ua, len, &m)) {
        ua_match_section(p, UA_SECTION_OS, ua, len, &m);
        if (!m.found || !ua_resolve(p, UA_MAP_OS, &m, ua, len,
                                    out->os_version, &out->has_os_version))
        {
            m.found = ua_match_own(p, UA_OWN_OS_FALLBACK, ua, len, &m);
        }
    }
    if (!m.found || (m.own && !ua_resolve(p, UA_MAP_OS, &m, ua, len,
                                          out->os_version,
                                          &out->has_os_version)))
    {
        out->has_os_version = 0;
        return;
    }
    ua_set_field(out->os_name, &out->has_os_name, m.field[0]);
    if (strcmp(m.field[0], "iOS") == 0 || strcmp(m.field[0], "Mac OS X") == 0)
    {
        ua_underscores_to_dots(out->os_version);
    }
}


static void
ua_normalise_browser(statsig_ua_parser_t *p, const char *ua, size_t len,
    statsig_ua_info_t *out)
{
    ua_match_t  m;
    size_t      n;
    int         named;

    named = ua_match_own(p, UA_OWN_BROWSER_FIRST, ua, len, &m);
    if (!named) {
        ua_match_section(p, UA_SECTION_BROWSER, ua, len, &m);
        named = m.found
                && ua_resolve(p, UA_MAP_BROWSER, &m, ua, len,
                              out->browser_version,
                              &out->has_browser_version);
    }
    if (!named) {
        named = ua_match_own(p, UA_OWN_BROWSER_FALLBACK, ua, len, &m);
    }
    if (!named || (m.own && !ua_resolve(p, UA_MAP_BROWSER, &m, ua, len,
                                        out->browser_version,
                                        &out->has_browser_version)))
    {
        out->has_browser_version = 0;
        return;
    }
    ua_set_field(out->browser_name, &out->has_browser_name, m.field[0]);

    /* statsig-node's own rename: Chrome/Firefox on a phone or tablet */
    if ((strcmp(m.field[0], "Chrome") == 0
         || strcmp(m.field[0], "Firefox") == 0)
        && ua_match_own(p, UA_OWN_HANDHELD, ua, len, &m))
    {
        n = strlen(out->browser_name);
        ua_copy(out->browser_name + n, STATSIG_UA_FIELD_SIZE - n, " Mobile",
                7);
    }
}


/*
 * ua-parser-js reads at most 500 UTF-16 units of a longer UA, after
 * dropping its leading white space.
 */
static size_t
ua_parsed_prefix(const char **ua, size_t len)
{
    if (ua_utf16_prefix(*ua, len, UA_PARSED_UNITS) == len) {
        return len;
    }
    while (len > 0 && (**ua == ' ' || (**ua >= '\t' && **ua <= '\r'))) {
        (*ua)++;
        len--;
    }
    return ua_utf16_prefix(*ua, len, UA_PARSED_UNITS);
}


/*
 * The cache entry of a UA if there is one, else NULL with the least
 * recently used entry of its set in *victim.
 */
static ua_cache_entry_t *
ua_cache_find(statsig_ua_parser_t *p, uint64_t h, const char *ua,
    size_t len, ua_cache_entry_t **victim)
{
    ua_cache_entry_t  *set;
    int                w;

    set = &p->cache[(h & (UA_CACHE_SLOTS / UA_CACHE_WAYS - 1))
                    * UA_CACHE_WAYS];
    *victim = &set[0];
    for (w = 0; w < UA_CACHE_WAYS; w++) {
        if (set[w].last_use != 0 && set[w].hash == h && set[w].len == len
            && memcmp(set[w].key, ua, len) == 0)
        {
            set[w].last_use = ++p->uses;
            return &set[w];
        }
        if (set[w].last_use < (*victim)->last_use) {
            *victim = &set[w];
        }
    }
    return NULL;
}


const statsig_ua_info_t *
statsig_ua_parse_ref(statsig_ua_parser_t *p, const char *ua, size_t len)
{
    ua_cache_entry_t   *hit, *slot;
    statsig_ua_info_t  *out;
    const char         *parsed;
    size_t              parsed_len;
    uint64_t            h;

    h = statsig_str_hash(ua, len);
    hit = ua_cache_find(p, h, ua, len, &slot);
    if (hit != NULL) {
        return &hit->info;
    }

    out = (len <= UA_CACHE_KEY_MAX) ? &slot->info : &p->uncached;

    memset(out, 0, sizeof(*out));
    if (ua_utf16_prefix(ua, len, UA_MAX_UTF16_UNITS) == len) {
        parsed = ua;
        parsed_len = ua_parsed_prefix(&parsed, len);
        ua_normalise_os(p, parsed, parsed_len, out);
        ua_normalise_browser(p, parsed, parsed_len, out);
    }

    if (len <= UA_CACHE_KEY_MAX) {
        slot->last_use = ++p->uses;
        slot->hash = h;
        slot->len = len;
        memcpy(slot->key, ua, len);
    }

    return out;
}


int
statsig_ua_parse(statsig_ua_parser_t *p, const char *ua, size_t len,
    statsig_ua_info_t *out)
{
    *out = *statsig_ua_parse_ref(p, ua, len);

    return out->has_os_name || out->has_browser_name;
}
