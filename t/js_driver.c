/*
 * statsig-js: the core's JavaScript semantics over stdin, one case a
 * line, for t/js-semantics.t (which asks node the same questions).
 *
 *   statsig-js MODE < cases > answers
 *
 * Strings travel as hex of their UTF-8 bytes, doubles as the hex of their
 * IEEE-754 bits, so nothing is lost in transit:
 *
 *   date      hex string -> Date.parse(s) as an integer, or NaN
 *   tonum     hex string -> bits of Number(s), or NaN
 *   parseint  hex string -> bits of parseInt(s), or NaN
 *   numstr    bits       -> String(d)
 *   lower     hex string -> hex of s.toLowerCase()
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsdate.h"
#include "jsnum.h"
#include "jsstr.h"


static int
hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


static size_t
unhex(const char *in, size_t len, char *out)
{
    size_t  i, n = 0;

    for (i = 0; i + 1 < len; i += 2) {
        out[n++] = (char) (hexval(in[i]) << 4 | hexval(in[i + 1]));
    }

    return n;
}


static void
put_bits(double d)
{
    uint64_t  u;

    if (isnan(d)) {
        fputs("NaN\n", stdout);
        return;
    }

    memcpy(&u, &d, 8);
    printf("%016llx\n", (unsigned long long) u);
}


int
main(int argc, char **argv)
{
    char     *line = NULL, *buf, *out;
    size_t    cap = 0, n, i, olen;
    ssize_t   len;
    double    d;
    uint64_t  u;
    char      num[STATSIG_NUMBER_STR_SIZE];

    if (argc != 2) {
        fprintf(stderr, "usage: statsig-js date|tonum|parseint|numstr|lower"
                " < cases\n");
        return 2;
    }

    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            line[--len] = '\0';
        }

        buf = malloc((size_t) len / 2 + 1);
        if (buf == NULL) {
            return 1;
        }

        n = unhex(line, (size_t) len, buf);

        if (strcmp(argv[1], "date") == 0) {
            d = statsig_js_date_parse(buf, n);
            if (isnan(d)) {
                fputs("NaN\n", stdout);
            } else {
                printf("%.0f\n", d);
            }

        } else if (strcmp(argv[1], "tonum") == 0) {
            put_bits(statsig_js_to_number(buf, n));

        } else if (strcmp(argv[1], "parseint") == 0) {
            put_bits(statsig_js_parse_int(buf, n));

        } else if (strcmp(argv[1], "numstr") == 0) {
            u = strtoull(line, NULL, 16);
            memcpy(&d, &u, 8);
            olen = statsig_js_number_to_string(d, num);
            printf("%.*s\n", (int) olen, num);

        } else if (strcmp(argv[1], "lower") == 0) {
            out = malloc(statsig_js_lower_size(n) + 1);
            if (out == NULL) {
                return 1;
            }

            olen = statsig_js_lower(buf, n, out);
            for (i = 0; i < olen; i++) {
                printf("%02x", (unsigned char) out[i]);
            }

            putchar('\n');
            free(out);

        } else {
            fprintf(stderr, "statsig-js: unknown mode %s\n", argv[1]);
            return 2;
        }

        free(buf);
    }

    free(line);

    return 0;
}
