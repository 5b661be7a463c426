/*
 * The browser SDK's Statsig-encoded bodies (see client_encoding.h).
 */

#include <stdint.h>

#include "client_encoding.h"


/* a Base64 digit's value; 64: '=', 255: not Base64 */
static int
sg_b64(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    switch (c) {
    case '+':
        return 62;
    case '/':
        return 63;
    case '=':
        return 64;
    default:
        return 255;
    }
}


/* one byte of the Latin-1 text, as UTF-8 */
static char *
sg_put_latin1(char *p, unsigned char c)
{
    if (c < 0x80) {
        *p++ = (char) c;
        return p;
    }

    *p++ = (char) (0xc0 | (c >> 6));
    *p++ = (char) (0x80 | (c & 0x3f));

    return p;
}


int
statsig_client_decode(const char *in, size_t len, char *out,
    size_t *out_len, const char **err)
{
    int                   d[4];
    char                 *p;
    size_t                i, k, pad;
    uint32_t              v;
    const unsigned char  *s;

    *out_len = 0;

    if (len % 4) {
        *err = "the se=1 body is not Statsig-encoded: its length is not "
               "a multiple of 4";
        return -1;
    }

    /*
     * The text reversed: the Base64 text's end ("=" padding) is at the
     * input's start.  Read back to front, in groups of four.
     */
    s = (const unsigned char *) in;
    p = out;

    for (i = len; i > 0; i -= 4) {

        for (k = 0; k < 4; k++) {
            d[k] = sg_b64(s[i - 1 - k]);

            if (d[k] == 255) {
                *err = "the se=1 body is not Statsig-encoded: a character "
                       "outside Base64";
                return -1;
            }
        }

        /* "=" pads the Base64 text's last group only: "xxx=", "xx==" */
        pad = 0;

        if (i == 4 && d[3] == 64) {
            pad = (d[2] == 64) ? 2 : 1;
        }

        for (k = 0; k < 4; k++) {
            if (d[k] != 64) {
                continue;
            }

            if (k < 4 - pad) {
                *err = "the se=1 body is not Statsig-encoded: \"=\" "
                       "before the end of its Base64 text";
                return -1;
            }

            d[k] = 0;
        }

        v = ((uint32_t) d[0] << 18) | ((uint32_t) d[1] << 12)
            | ((uint32_t) d[2] << 6) | (uint32_t) d[3];

        p = sg_put_latin1(p, (unsigned char) (v >> 16));

        if (pad < 2) {
            p = sg_put_latin1(p, (unsigned char) (v >> 8));
        }

        if (pad < 1) {
            p = sg_put_latin1(p, (unsigned char) v);
        }
    }

    *out_len = (size_t) (p - out);

    return 0;
}
