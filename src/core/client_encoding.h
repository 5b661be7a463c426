/*
 * The "Statsig-encoded" request bodies of Statsig's browser SDK
 * (@statsig/js-client, the query parameter se=1): the JSON text put
 * through the browser's btoa(), the Base64 text then reversed.
 *
 * btoa() takes a string of code units up to U+00FF, one byte each (the
 * SDK sends the body plain when its JSON holds anything above): the
 * decoded bytes are Latin-1, and are given back as UTF-8, the text the
 * SDK meant.
 */

#ifndef STATSIG_CLIENT_ENCODING_H
#define STATSIG_CLIENT_ENCODING_H

#include <stddef.h>


/* the most statsig_client_decode() writes for len bytes of input */
#define statsig_client_decoded_max(len)  (((len) + 3) / 4 * 3 * 2)


/*
 * Decodes in[0 .. len) into out (statsig_client_decoded_max(len) bytes),
 * its length in *out_len.  Returns 0, or -1 with *err saying why (a
 * static string): not Base64 once reversed (a character outside the
 * standard alphabet, a length that is not a multiple of 4, padding
 * anywhere but at the end).  An empty input decodes to nothing.
 */
int statsig_client_decode(const char *in, size_t len, char *out,
    size_t *out_len, const char **err);

#endif /* STATSIG_CLIENT_ENCODING_H */
