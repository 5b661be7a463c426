/*
 * statsig-lookup: runs the core's IP and user-agent lookups over stdin,
 * one input per line, so tests can compare them with statsig-node.
 *
 *   statsig-lookup country   ->  "US" or "null" per line
 *   statsig-lookup ua        ->  JSON [os_name, os_version, browser_name,
 *                                browser_version] per line, null if absent
 *   statsig-lookup ua-raw    ->  the same, uap-core's family/version
 *                                before statsig-node normalisation
 *   statsig-lookup bench     ->  microseconds per call of both lookups
 *                                over the UAs read (IPs are made up)
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "country.h"
#include "statsig_data.h"
#include "ua_parser.h"

#define LINE_MAX_BYTES  (1024 * 1024)
#define BENCH_MAX_UAS   100000


static void
print_json_string(const char *s, int present)
{
    const unsigned char  *p;

    if (!present) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if (*p < 0x20) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}


static void
print_ua_info(const statsig_ua_info_t *info)
{
    putchar('[');
    print_json_string(info->os_name, info->has_os_name);
    putchar(',');
    print_json_string(info->os_version, info->has_os_version);
    putchar(',');
    print_json_string(info->browser_name, info->has_browser_name);
    putchar(',');
    print_json_string(info->browser_version, info->has_browser_version);
    puts("]");
}


/* The embedded data, loaded; NULL after printing why not. */
static statsig_country_table_t *
load_country(void)
{
    statsig_country_table_t  *t;
    char                      err[256];

    t = statsig_country_table_load(statsig_data_ip_table,
                                   statsig_data_ip_table_len, err,
                                   sizeof(err));
    if (t == NULL) {
        fprintf(stderr, "%s\n", err);
    }
    return t;
}


static statsig_ua_parser_t *
load_ua(void)
{
    statsig_ua_parser_t  *p;
    char                  err[256];

    p = statsig_ua_parser_load(statsig_data_ua_regexes,
                               statsig_data_ua_regexes_len, err,
                               sizeof(err));
    if (p == NULL) {
        fprintf(stderr, "%s\n", err);
    }
    return p;
}


static int
run_country(char *line)
{
    statsig_country_table_t  *t;
    char                      code[3];
    size_t                    len;

    t = load_country();
    if (t == NULL) {
        return 1;
    }
    while (fgets(line, LINE_MAX_BYTES, stdin) != NULL) {
        len = strcspn(line, "\n");
        if (statsig_country_lookup(t, line, len, code)) {
            puts(code);
        } else {
            puts("null");
        }
    }
    statsig_country_table_free(t);
    return 0;
}


static int
run_ua(char *line, int raw)
{
    statsig_ua_parser_t  *p;
    statsig_ua_info_t     info;

    p = load_ua();
    if (p == NULL) {
        return 1;
    }
    while (fgets(line, LINE_MAX_BYTES, stdin) != NULL) {
        if (raw) {
            statsig_ua_parse_raw(p, line, strcspn(line, "\n"), &info);
        } else {
            statsig_ua_parse(p, line, strcspn(line, "\n"), &info);
        }
        print_ua_info(&info);
    }
    statsig_ua_parser_free(p);
    return 0;
}


static double
now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


/* Each UA once in a fresh parser (uncached), then one UA many times. */
static void
bench_ua(statsig_ua_parser_t *p, char **uas, size_t n)
{
    statsig_ua_info_t  info;
    double             t;
    size_t             i;

    t = now_us();
    for (i = 0; i < n; i++) {
        statsig_ua_parse(p, uas[i], strlen(uas[i]), &info);
    }
    printf("ua uncached: %.2f us/call (%lu distinct UAs)\n",
           (now_us() - t) / n, (unsigned long) n);

    t = now_us();
    for (i = 0; i < 1000000; i++) {
        statsig_ua_parse(p, uas[i % 16], strlen(uas[i % 16]), &info);
    }
    printf("ua cached:   %.3f us/call (16 UAs in turn)\n",
           (now_us() - t) / 1e6);
}


static void
bench_country(statsig_country_table_t *t)
{
    char      ip[32], code[3];
    double    t0;
    unsigned  x, i, found;
    int       n;

    x = 1;
    found = 0;
    t0 = now_us();
    for (i = 0; i < 1000000; i++) {
        x = x * 1664525u + 1013904223u;
        n = snprintf(ip, sizeof(ip), "%u.%u.%u.%u", x >> 24,
                     (x >> 16) & 255, (x >> 8) & 255, x & 255);
        found += (unsigned) statsig_country_lookup(t, ip, (size_t) n, code);
    }
    printf("country:     %.3f us/call, formatting included (%u found)\n",
           (now_us() - t0) / 1e6, found);
}


static int
run_bench(char *line)
{
    statsig_ua_parser_t      *p;
    statsig_country_table_t  *t;
    char                     *uas[BENCH_MAX_UAS];
    size_t                    n, i;
    double                    t0;

    for (n = 0; n < BENCH_MAX_UAS && fgets(line, LINE_MAX_BYTES, stdin);
         n++)
    {
        line[strcspn(line, "\n")] = '\0';
        uas[n] = strdup(line);
    }
    if (n < 16) {
        fprintf(stderr, "bench: give at least 16 UAs on stdin\n");
        return 2;
    }

    t0 = now_us();
    p = load_ua();
    printf("ua load:     %.1f ms\n", (now_us() - t0) / 1e3);
    t0 = now_us();
    t = load_country();
    printf("ip load:     %.1f ms\n", (now_us() - t0) / 1e3);
    if (p == NULL || t == NULL) {
        return 1;
    }

    bench_ua(p, uas, n);
    bench_country(t);

    for (i = 0; i < n; i++) {
        free(uas[i]);
    }
    statsig_ua_parser_free(p);
    statsig_country_table_free(t);
    return 0;
}


int
main(int argc, char **argv)
{
    char  *line;
    int    rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s country|ua|ua-raw|bench < lines\n",
                argv[0]);
        return 2;
    }
    line = malloc(LINE_MAX_BYTES);
    if (line == NULL) {
        return 1;
    }
    if (strcmp(argv[1], "country") == 0) {
        rc = run_country(line);
    } else if (strcmp(argv[1], "ua") == 0 || strcmp(argv[1], "ua-raw") == 0) {
        rc = run_ua(line, argv[1][2] == '-');
    } else if (strcmp(argv[1], "bench") == 0) {
        rc = run_bench(line);
    } else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        rc = 2;
    }
    free(line);
    return rc;
}
