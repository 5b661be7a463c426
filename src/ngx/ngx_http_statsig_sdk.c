
/*
 * ngx_http_statsig_module: what the module says it is to Statsig (see
 * the header).
 */


#include "ngx_http_statsig_sdk.h"
#include "ngx_http_statsig_lease.h"


u_char *
ngx_http_statsig_sdk_headers(ngx_str_t *h, u_char *buf, ngx_str_t *key)
{
    u_char  *p;

    p = buf;

    h[0].data = p;
    p = ngx_cpymem(p, "STATSIG-API-KEY: ", sizeof("STATSIG-API-KEY: ") - 1);
    p = ngx_cpymem(p, key->data, key->len);
    h[0].len = p - h[0].data;

    h[1].data = p;
    p = ngx_sprintf(p, "STATSIG-CLIENT-TIME: %uL", ngx_http_statsig_now_ms());
    h[1].len = p - h[1].data;

    h[2].data = p;
    p = ngx_sprintf(p, "STATSIG-SERVER-SESSION-ID: %V",
                    ngx_http_statsig_session_id());
    h[2].len = p - h[2].data;

    ngx_str_set(&h[3], "STATSIG-SDK-TYPE: " NGX_HTTP_STATSIG_SDK_TYPE);
    ngx_str_set(&h[4], "STATSIG-SDK-VERSION: " NGX_HTTP_STATSIG_VERSION);
    ngx_str_set(&h[5], "Content-Type: application/json; charset=UTF-8");

    return p;
}
