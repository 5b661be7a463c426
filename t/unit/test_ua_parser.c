/*
 * src/core/ua_parser: loading uap-core regexes (YAML and JSON), uap-core
 * match semantics, the statsig-node normalisation on known user agents,
 * limits and hostile input.  Expected values are statsig-node 6.5.2's
 * (t/ua-oracle.js); t/ua-agreement.t measures whole corpora.
 */

#include <stdlib.h>
#include <string.h>

#include "statsig_data.h"
#include "tap.h"
#include "ua_parser.h"

typedef struct {
    const char  *ua;
    const char  *want[4];          /* os_name, os_version, browser ... */
} ua_case_t;


static const char *
field(const statsig_ua_info_t *info, int f)
{
    switch (f) {
    case 0:
        return info->has_os_name ? info->os_name : NULL;
    case 1:
        return info->has_os_version ? info->os_version : NULL;
    case 2:
        return info->has_browser_name ? info->browser_name : NULL;
    default:
        return info->has_browser_version ? info->browser_version : NULL;
    }
}


static void
check(statsig_ua_parser_t *p, const ua_case_t *c)
{
    static const char *const  names[] = {
        "os_name", "os_version", "browser_name", "browser_version"
    };
    statsig_ua_info_t         info;
    int                       f;

    statsig_ua_parse(p, c->ua, strlen(c->ua), &info);
    for (f = 0; f < 4; f++) {
        is_str(field(&info, f), c->want[f], "%s of %.60s", names[f], c->ua);
    }
}


static void
test_known(statsig_ua_parser_t *p)
{
    static const ua_case_t  cases[] = {
        { "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
          { "Android", "13", "Chrome Mobile", "119.0.6045.163" } },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 "
          "Mobile/15E148 Safari/604.1",
          { "iOS", "17.1.2", "Mobile Safari", "17.1.2" } },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
          "Safari/605.1.15",
          { "Mac OS X", "10.15.7", "Safari", "17.1" } },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
          { "Windows", "10", "Chrome", "120.0.0.0" } },
        { "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 "
          "(KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 "
          "Mobile Safari/537.36",
          { "Android", "13", "Samsung Internet", "23.0" } },
        { "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:109.0) "
          "Gecko/20100101 Firefox/115.0",
          { "Windows", "7", "Firefox", "115.0" } },
        { "curl/8.4.0", { NULL, NULL, NULL, NULL } },
        { "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) "
          "Gecko/20100101 Firefox/121.0",
          { "Ubuntu", NULL, "Firefox", "121.0" } },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 "
          "OPR/105.0.0.0",
          { "Windows", "10", "Opera", "105.0.0.0" } },
        { "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 "
          "Firefox/121.0",
          { "Android", "14", "Firefox Mobile", "121.0" } },
        { "Mozilla/5.0 (compatible; Googlebot/2.1; "
          "+http://www.google.com/bot.html)",
          { NULL, NULL, NULL, NULL } },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 "
          "Mobile/15E148 Safari/604.1",
          { "iOS", "17.2", "Chrome Mobile", "120.0.6099.119" } },
        { "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
          "Mobile/15E148 Safari/604.1",
          { "iOS", "16.6", "Mobile Safari", "16.6" } },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 "
          "Edg/120.0.2210.91",
          { "Windows", "10", "Edge", "120.0.2210.91" } },
        /* ua-parser-js keeps the UA's version token as written */
        { "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; he; "
          "rv:1.9.1b4pre) Gecko/20100405 Firefox/3.6.3plugin1",
          { "Mac OS X", "10.6", "Firefox", "3.6.3plugin1" } },
        /* Safari 2 has no Version/ token: its build is mapped */
        { "Mozilla/5.0 (Macintosh; U; Intel Mac OS X; en-us) "
          "AppleWebKit/419.2.1 (KHTML, like Gecko) Safari/419.3",
          { "Mac OS X", NULL, "Safari", "2.0.4" } },
        /* Gecko products ua-parser-js does not know are "Mozilla" */
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.7; rv:14.0) "
          "Gecko/20120713 Thunderbird/14.0",
          { "Mac OS X", "10.7", "Mozilla", "5.0" } },
        /* HTTP libraries, crawlers and apps: no browser in ua-parser-js */
        { "okhttp/4.9.0", { NULL, NULL, NULL, NULL } },
        { "axios/1.6.7", { NULL, NULL, NULL, NULL } },
        { "MyApp/1.0 CFNetwork/1410.0.3 Darwin/22.6.0",
          { "iOS", NULL, NULL, NULL } },
        { "Roku/DVP-12.5 (12.5.0.4174-56)", { NULL, NULL, NULL, NULL } },
        /* its first rules win: CriOS anywhere is Chrome, OPR/ is Opera */
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
          "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/140 "
          "Version/11.1.1 Safari/605.1.15",
          { "Mac OS X", "10.15.7", "Chrome", "140" } },
        { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, "
          "like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 OPR/83.0.0.0",
          { "Android", "10", "Opera", "83.0.0.0" } },
        { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
          "Gecko) HeadlessChrome/109.0.5414.74 Safari/537.36",
          { "Linux", NULL, "Chrome Headless", "109.0.5414.74" } },
        /* Windows versions are named; an Android tablet gets " Mobile" */
        { "Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko",
          { "Windows", "8.1", "IE", "11.0" } },
        { "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
          { "Android", "13", "Chrome Mobile", "119.0.0.0" } },
        /* and it reads "MIDP; Opera" as iOS */
        { "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; "
          "Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54",
          { "iOS", NULL, "Opera Mini", "9.80" } },
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check(p, &cases[i]);
    }
}


static int
all_absent(const statsig_ua_info_t *info)
{
    return !info->has_os_name && !info->has_os_version
           && !info->has_browser_name && !info->has_browser_version;
}


/* A Chrome UA padded with filler to exactly units UTF-16 units. */
static size_t
padded_ua(char *buf, size_t units, const char *unit, size_t unit_units)
{
    static const char  head[] = "Mozilla/5.0 (Windows NT 10.0) "
                                "Chrome/120.0.0.0 Safari/537.36 ";
    size_t             len, n;

    len = sizeof(head) - 1;
    memcpy(buf, head, len);
    for (n = len; n + unit_units <= units; n += unit_units) {
        memcpy(buf + len, unit, strlen(unit));
        len += strlen(unit);
    }
    for (; n < units; n++) {
        buf[len++] = 'x';
    }
    return len;
}


static void
test_limits(statsig_ua_parser_t *p)
{
    static char        buf[8192];
    statsig_ua_info_t  info;
    size_t             len;

    ok(statsig_ua_parse(p, "", 0, &info) == 0 && all_absent(&info),
       "empty UA: no fields");

    len = padded_ua(buf, 1000, "x", 1);
    ok(statsig_ua_parse(p, buf, len, &info) == 1 && info.has_browser_name
       && strcmp(info.browser_name, "Chrome") == 0,
       "1000 UTF-16 units: parsed");
    len = padded_ua(buf, 1001, "x", 1);
    ok(statsig_ua_parse(p, buf, len, &info) == 0 && all_absent(&info),
       "1001 units: no value, as statsig-node");

    /* é is 2 bytes but 1 unit; U+1F600 is 4 bytes and 2 units */
    len = padded_ua(buf, 1000, "\xc3\xa9", 1);
    ok(len > 1000 && statsig_ua_parse(p, buf, len, &info) == 1,
       "1000 units in %lu bytes (2-byte chars): parsed",
       (unsigned long) len);
    len = padded_ua(buf, 1002, "\xf0\x9f\x98\x80", 2);
    ok(statsig_ua_parse(p, buf, len, &info) == 0,
       "1002 units of surrogate pairs: no value");
}


/* ua-parser-js reads 500 units of a longer UA, leading spaces dropped. */
static void
test_500_units(statsig_ua_parser_t *p)
{
    static char        buf[1024];
    statsig_ua_info_t  info;
    size_t             len;

    len = (size_t) snprintf(buf, sizeof(buf), "%30s%s%455s%s", "",
                            "Mozilla/5.0 (Windows NT 10.0) ", "y",
                            " Firefox/99.0");
    statsig_ua_parse(p, buf, len, &info);
    is_str(info.browser_version, "99.0", "%lu units, 30 leading spaces: "
           "the version is within the 500 read", (unsigned long) len);

    len = (size_t) snprintf(buf, sizeof(buf), "%s%455s%s",
                            "Mozilla/5.0 (Windows NT 10.0) ", "y",
                            " Firefox/99.0123456");
    statsig_ua_parse(p, buf, len, &info);
    is_str(info.browser_version, "99.012", "504 units: the version is cut "
           "at unit 500");
}


static void
test_garbage(statsig_ua_parser_t *p)
{
    static const char  invalid[] = "Mozilla/5.0 (\xff\xfe\xc3; Android 13"
                                   "\xe2\x82) Chrome/\xf0\x9f" "120.0";
    static const char  nul[] = "Mozilla/5.0 (Windows NT 10.0)\0 Chrome/1.0";
    static char        noise[4096];
    statsig_ua_info_t  info;
    size_t             i;
    unsigned           x;

    statsig_ua_parse(p, invalid, sizeof(invalid) - 1, &info);
    ok(info.has_os_name && strcmp(info.os_name, "Android") == 0,
       "invalid UTF-8 is matched byte-wise (os %s)",
       info.has_os_name ? info.os_name : "none");

    statsig_ua_parse(p, nul, sizeof(nul) - 1, &info);
    ok(info.has_os_name && strcmp(info.os_name, "Windows") == 0
       && info.has_browser_name, "embedded NUL: the whole length is read");

    x = 12345;
    for (i = 0; i < sizeof(noise); i++) {
        x = x * 1103515245 + 12345;
        noise[i] = (char) (x >> 16);
    }
    statsig_ua_parse(p, noise, 900, &info);
    ok(strlen(info.os_name) < STATSIG_UA_FIELD_SIZE
       && strlen(info.browser_version) < STATSIG_UA_FIELD_SIZE,
       "random bytes: fields stay terminated");
    ok(statsig_ua_parse(p, "Mozilla/5.0", 11, &info) == 0
       && all_absent(&info), "bare 'Mozilla/5.0': no fields");
}


static void
test_long_version(statsig_ua_parser_t *p)
{
    static const char  ua[] = "Mozilla/5.0 (Windows NT 10.0) Firefox/1."
        "11111111112222222222333333333344444444445555555555666666666677777";
    statsig_ua_info_t  info;

    statsig_ua_parse(p, ua, sizeof(ua) - 1, &info);
    ok(info.has_browser_version
       && strlen(info.browser_version) == STATSIG_UA_FIELD_SIZE - 1
       && strncmp(info.browser_version, "1.1111", 6) == 0,
       "an over-long version is cut to the field size");
}


static void
test_cache(statsig_ua_parser_t *p)
{
    statsig_ua_parser_t  *fresh;
    statsig_ua_info_t     a, b;
    char                  ua[128], err[256];
    int                   i, n, same;

    fresh = statsig_ua_parser_load(statsig_data_ua_regexes,
                                   statsig_data_ua_regexes_len, err,
                                   sizeof(err));
    if (fresh == NULL) {
        ok(0, "second parser: %s", err);
        return;
    }
    /* twice the cache size: slots are reused, answers must not mix */
    same = 1;
    for (i = 0; i < 1024; i++) {
        n = snprintf(ua, sizeof(ua), "Mozilla/5.0 (Windows NT %d.0) "
                     "Chrome/%d.0.%d Safari/537.36", 5 + i % 6, i, i * 7);
        statsig_ua_parse(p, ua, (size_t) n, &a);
        statsig_ua_parse(p, ua, (size_t) n, &a);          /* cached */
        statsig_ua_parse(fresh, ua, (size_t) n, &b);
        same &= memcmp(&a, &b, sizeof(a)) == 0;
    }
    ok(same, "1024 UAs: cached answers equal uncached ones");

    /* the reference form: the cache's own fields, and a UA too long for
     * the cache (parsed every time, into the parser's one spare) */
    same = 1;
    for (i = 0; i < 64; i++) {
        n = snprintf(ua, sizeof(ua), "Mozilla/5.0 (Macintosh; Intel Mac "
                     "OS X 10_%d) Firefox/%d.0", i % 15, 60 + i);
        statsig_ua_parse(fresh, ua, (size_t) n, &b);
        same &= memcmp(statsig_ua_parse_ref(p, ua, (size_t) n), &b,
                       sizeof(b)) == 0;
        same &= statsig_ua_parse_ref(p, ua, (size_t) n)
                == statsig_ua_parse_ref(p, ua, (size_t) n);
    }
    ok(same, "parse_ref: the cached fields, the same entry on a hit");

    {
        char  big[700];

        memset(big, ' ', sizeof(big));
        memcpy(big, "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0.1 "
               "Safari/537.36", 58);
        statsig_ua_parse(fresh, big, sizeof(big), &b);
        same = memcmp(statsig_ua_parse_ref(p, big, sizeof(big)), &b,
                      sizeof(b)) == 0;
        statsig_ua_parse_ref(p, ua, (size_t) n);
        same &= memcmp(statsig_ua_parse_ref(p, big, sizeof(big)), &b,
                       sizeof(b)) == 0;
        ok(same && b.has_browser_name,
           "a 700-byte UA (past the cache's keys): parsed each time");
    }

    statsig_ua_parser_free(fresh);
}


static const char  tiny_yaml[] =
    "# comment\n"
    "user_agent_parsers:\n"
    "  - regex: '(Foo)Bar/(\\d+)\\.(\\d+)'   # trailing comment\n"
    "    family_replacement: 'Fam $1 it''s'\n"
    "  - regex: \"(qux)/(\\\\d+)\"\n"
    "    regex_flag: 'i'\n"
    "    family_replacement: 'Qux'\n"
    "    v2_replacement: '9'\n"
    "os_parsers:\n"
    "  - regex: 'MyOS ?(\\d+)?'\n"
    "    os_replacement: 'My OS'\n"
    "device_parsers:\n"
    "  - regex: '('\n";

static void
test_loader(void)
{
    static const char   json[] =
        "{\"user_agent_parsers\": [{\"regex\": \"(Foo)Bar/(\\\\d+)\"}],"
        " \"os_parsers\": [{\"regex\": \"MyOS\", \"os_replacement\": \"M\"}],"
        " \"device_parsers\": []}";
    statsig_ua_parser_t  *p;
    statsig_ua_info_t     info;
    char                  err[256];

    p = statsig_ua_parser_load(tiny_yaml, sizeof(tiny_yaml) - 1, err,
                               sizeof(err));
    ok(p != NULL, "restricted YAML loads (device regexes are skipped)");
    if (p != NULL) {
        statsig_ua_parse_raw(p, "x FooBar/1.2 MyOS", 17, &info);
        is_str(info.browser_name, "Fam Foo it's", "$1 and '' in a "
               "replacement");
        is_str(info.browser_version, "1.2", "versions joined by dots");
        is_str(info.os_name, "My OS", "os_replacement");
        ok(!info.has_os_version, "an unmatched group is no version");
        statsig_ua_parse_raw(p, "QUX/7", 5, &info);
        is_str(info.browser_version, "7.9", "regex_flag i, v2_replacement");
        statsig_ua_parser_free(p);
    }

    p = statsig_ua_parser_load(json, sizeof(json) - 1, err, sizeof(err));
    ok(p != NULL, "the same data as JSON loads");
    if (p != NULL) {
        statsig_ua_parse_raw(p, "FooBar/3 MyOS", 13, &info);
        ok(info.has_browser_name && strcmp(info.browser_name, "Foo") == 0
           && strcmp(info.os_name, "M") == 0, "JSON rules match");
        statsig_ua_parser_free(p);
    }

    ok(statsig_ua_parser_load("user_agent_parsers:\n  - regex: '('\n", 35,
                              err, sizeof(err)) == NULL
       && strstr(err, "line 2") != NULL, "bad regex: %s", err);
    ok(statsig_ua_parser_load("user_agent_parsers:\n  - regex: 'a\n", 32,
                              err, sizeof(err)) == NULL,
       "unterminated quote: %s", err);
    ok(statsig_ua_parser_load("  - regex: 'a'\n", 15, err, sizeof(err))
       == NULL, "entry outside a section: %s", err);
    ok(statsig_ua_parser_load("os_parsers:\n  - os_replacement: 'x'\n", 35,
                              err, sizeof(err)) == NULL,
       "entry without regex: %s", err);
    ok(statsig_ua_parser_load("garbage", 7, err, sizeof(err)) == NULL,
       "garbage: %s", err);
    ok(statsig_ua_parser_load("{\"os_parsers\": [", 16, err, sizeof(err))
       == NULL, "truncated JSON: %s", err);
    ok(statsig_ua_parser_load("", 0, err, sizeof(err)) == NULL,
       "empty: %s", err);
}


int
main(void)
{
    statsig_ua_parser_t  *p;
    char                  err[256];

    p = statsig_ua_parser_load(statsig_data_ua_regexes,
                               statsig_data_ua_regexes_len, err,
                               sizeof(err));
    ok(p != NULL, "uap-core " STATSIG_DATA_UAP_CORE_VERSION
       " regexes.yaml loads");
    if (p == NULL) {
        printf("# %s\n", err);
        return done_testing();
    }

    test_known(p);
    test_limits(p);
    test_500_units(p);
    test_garbage(p);
    test_long_version(p);
    test_cache(p);
    test_loader();

    statsig_ua_parser_free(p);
    statsig_ua_parser_free(NULL);
    return done_testing();
}
