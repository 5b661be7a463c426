/*
 * statsig-lookup: runs the core's IP and user-agent lookups over stdin,
 * one input per line, so tests can compare them with statsig-node.
 *
 *   statsig-lookup country   ->  "US" or "null" per line
 *   statsig-lookup ua        ->  JSON [os_name, os_version, browser_name,
 *                                browser_version] per line, null if absent
 *   statsig-lookup ua-raw    ->  the same, uap-core's family/version
 *                                before statsig-node normalisation
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "country.h"
#include "statsig_data.h"
#include "ua_parser.h"

#define LINE_MAX_BYTES  (1024 * 1024)


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


static int
run_country(char *line)
{
    statsig_country_table_t  *t;
    char                      err[256], code[3];
    size_t                    len;

    t = statsig_country_table_load(statsig_data_ip_table,
                                   statsig_data_ip_table_len, err,
                                   sizeof(err));
    if (t == NULL) {
        fprintf(stderr, "%s\n", err);
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
    char                  err[256];

    p = statsig_ua_parser_load(statsig_data_ua_regexes,
                               statsig_data_ua_regexes_len, err,
                               sizeof(err));
    if (p == NULL) {
        fprintf(stderr, "%s\n", err);
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


int
main(int argc, char **argv)
{
    char  *line;
    int    rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s country|ua|ua-raw < lines\n", argv[0]);
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
    } else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        rc = 2;
    }
    free(line);
    return rc;
}
