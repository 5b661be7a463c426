
/*
 * ngx_http_statsig_module: random identifiers (see the header).
 *
 * The bytes come from OpenSSL's CSPRNG, as nginx's $request_id does: a
 * stable ID names a visitor for a year and must not be guessable.  Should
 * RAND_bytes() fail, ngx_random() still gives a usable, unique-enough ID.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/rand.h>

#include "ngx_http_statsig_id.h"


/* NUL-terminated too: the core takes it as a C string */
static u_char     ngx_http_statsig_session[NGX_HTTP_STATSIG_UUID_LEN + 1];
static ngx_str_t  ngx_http_statsig_session_str;


void
ngx_http_statsig_uuid(u_char *out)
{
    u_char      b[16];
    ngx_uint_t  i;

    static u_char  hex[] = "0123456789abcdef";

    if (RAND_bytes(b, sizeof(b)) != 1) {
        for (i = 0; i < sizeof(b); i++) {
            b[i] = (u_char) ngx_random();
        }
    }

    /* version 4, variant 10xx */
    b[6] = (u_char) ((b[6] & 0x0f) | 0x40);
    b[8] = (u_char) ((b[8] & 0x3f) | 0x80);

    for (i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *out++ = '-';
        }

        *out++ = hex[b[i] >> 4];
        *out++ = hex[b[i] & 0x0f];
    }
}


void
ngx_http_statsig_id_init_worker(void)
{
    ngx_http_statsig_uuid(ngx_http_statsig_session);
    ngx_http_statsig_session[NGX_HTTP_STATSIG_UUID_LEN] = '\0';

    ngx_http_statsig_session_str.data = ngx_http_statsig_session;
    ngx_http_statsig_session_str.len = NGX_HTTP_STATSIG_UUID_LEN;
}


ngx_str_t *
ngx_http_statsig_session_id(void)
{
    if (ngx_http_statsig_session_str.len == 0) {
        ngx_http_statsig_id_init_worker();
    }

    return &ngx_http_statsig_session_str;
}
