
/*
 * ngx_http_statsig_module: statsig_api for the client SDKs (Statsig's
 * browser SDK, @statsig/js-client).
 *
 *   statsig_client_key KEY | env:VARIABLE | file:PATH ...;
 *   statsig_cors_origins * | ORIGIN ...;
 *
 * A client key opens the client paths only: initialize, and log_event
 * under either name (rgstr is the SDK's), never a server path.  It comes
 * in statsig-api-key or in the query's "k", as the SDK sends it (no
 * header: a header would make every request from a page a CORS
 * preflight).  The client paths answer CORS: a preflight (OPTIONS), and
 * Access-Control-Allow-Origin on every answer to an allowed Origin (any
 * by default, as Statsig's own API); a request from another Origin is
 * 403.  The SDK's query says how its body is encoded: gz=1 gzip, se=1
 * Statsig-encoded (src/core/client_encoding.c); its clock is in "t".
 */


#include "ngx_http_statsig_api.h"
#include "ngx_http_statsig_response.h"

#include "client_encoding.h"

#include <openssl/crypto.h>


/* what a preflight allows when it names no headers */
#define NGX_HTTP_STATSIG_CORS_HEADERS                                       \
    "Content-Type, Content-Encoding, statsig-api-key, statsig-client-time, " \
    "statsig-event-count, statsig-retry-count, statsig-sdk-type, "           \
    "statsig-sdk-version"

/* how long a browser may keep a preflight's answer (s) */
#define NGX_HTTP_STATSIG_CORS_MAX_AGE  "3600"


static ngx_uint_t ngx_http_statsig_api_client_match(ngx_http_request_t *r,
    ngx_str_t *given, ngx_str_t *key);
static ngx_uint_t ngx_http_statsig_api_token_list(ngx_str_t *value);
static ngx_uint_t ngx_http_statsig_api_arg_is(ngx_http_request_t *r,
    char *name, size_t len, char *value);


/*
 * NGX_OK: the request carries a client key (statsig-api-key, or "k" in
 * the query), *key is it; NGX_DECLINED: none.
 */

ngx_int_t
ngx_http_statsig_api_client_auth(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char           *dst, *src;
    ngx_str_t         given;
    ngx_table_elt_t  *h;

    h = ngx_http_statsig_api_header(r, "statsig-api-key", 15);

    if (h && ngx_http_statsig_api_client_match(r, &h->value, key)) {
        return NGX_OK;
    }

    if (ngx_http_arg(r, (u_char *) "k", 1, &given) != NGX_OK
        || given.len == 0)
    {
        return NGX_DECLINED;
    }

    if (ngx_strlchr(given.data, given.data + given.len, '%')) {
        dst = ngx_pnalloc(r->pool, given.len);
        if (dst == NULL) {
            return NGX_DECLINED;
        }

        src = given.data;
        given.data = dst;
        ngx_unescape_uri(&dst, &src, given.len, NGX_UNESCAPE_URI);
        given.len = dst - given.data;
    }

    if (ngx_http_statsig_api_client_match(r, &given, key)) {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* given is one of statsig_client_key's keys (the keys are not secret) */

static ngx_uint_t
ngx_http_statsig_api_client_match(ngx_http_request_t *r, ngx_str_t *given,
    ngx_str_t *key)
{
    ngx_str_t                      value;
    ngx_uint_t                     i;
    ngx_http_statsig_client_key_t  *ck;
    ngx_http_statsig_main_conf_t   *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);

    if (smcf->client_keys == NULL) {
        return 0;
    }

    ck = smcf->client_keys->elts;

    for (i = 0; i < smcf->client_keys->nelts; i++) {

        if (ck[i].literal.len) {
            value = ck[i].literal;

        } else if (ngx_http_statsig_secret_get(&ck[i].secret,
                                               r->connection->log, &value)
                   != NGX_OK)
        {
            continue;
        }

        if (value.len == given->len
            && CRYPTO_memcmp(value.data, given->data, value.len) == 0)
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "statsig api: client key #%ui", i + 1);

            *key = value;
            return 1;
        }
    }

    return 0;
}


/*
 * A client path's CORS: NGX_OK, an allowed Origin (its headers added);
 * NGX_DONE, no Origin (not a browser); NGX_DECLINED, an Origin that
 * statsig_cors_origins does not list; NGX_ERROR.  Any origin by default,
 * as Statsig's API.
 */

ngx_int_t
ngx_http_statsig_api_cors(ngx_http_request_t *r)
{
    ngx_http_statsig_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    return ngx_http_statsig_api_origin(r, slcf->cors_origins, 1, NULL);
}


/*
 * The request's Origin against the origins a location allows ("*" any;
 * none configured: any when any, else none).  NGX_OK: allowed,
 * Access-Control-Allow-Origin added (the origin, with Vary: Origin, or
 * "*"), and Access-Control-Expose-Headers when expose is not NULL;
 * NGX_DONE: no Origin (not a browser); NGX_DECLINED: not allowed;
 * NGX_ERROR.
 */

ngx_int_t
ngx_http_statsig_api_origin(ngx_http_request_t *r, ngx_array_t *origins,
    ngx_uint_t any, char *expose)
{
    char             *allow;
    ngx_str_t        *o;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    h = ngx_http_statsig_api_header(r, "Origin", 6);

    if (h == NULL) {
        return NGX_DONE;
    }

    allow = NULL;

    if (origins == NULL) {
        allow = any ? "*" : NULL;

    } else {
        o = origins->elts;

        for (i = 0; allow == NULL && i < origins->nelts; i++) {
            if (o[i].len == 1 && o[i].data[0] == '*') {
                allow = "*";

            } else if (o[i].len == h->value.len
                       && ngx_strncasecmp(o[i].data, h->value.data,
                                          o[i].len)
                          == 0)
            {
                /* the configured text, a NUL-terminated literal */
                allow = (char *) o[i].data;
            }
        }
    }

    if (allow == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig: Origin \"%V\" not allowed", &h->value);

        /* a cache must not give this answer to an allowed origin */
        return ngx_http_statsig_response_add(r, "Vary", "Origin") == NGX_OK
               ? NGX_DECLINED : NGX_ERROR;
    }

    if (ngx_http_statsig_response_add(r, "Access-Control-Allow-Origin",
                                      allow)
        != NGX_OK
        || (allow[0] != '*'
            && ngx_http_statsig_response_add(r, "Vary", "Origin") != NGX_OK)
        || (expose != NULL
            && ngx_http_statsig_response_add(r,
                   "Access-Control-Expose-Headers", expose)
               != NGX_OK))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * OPTIONS on a client path, cors what ngx_http_statsig_api_cors() said:
 * an allowed origin's preflight is 204 with what it may send; another
 * origin's 403 without Access-Control-* (the browser then refuses); no
 * Origin, 204 with Allow.
 */

ngx_int_t
ngx_http_statsig_api_preflight(ngx_http_request_t *r, ngx_int_t cors)
{
    char             *allow;
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (cors == NGX_DECLINED) {
        return ngx_http_statsig_response_error(r, NGX_HTTP_FORBIDDEN,
                   "this Origin is not allowed (statsig_cors_origins)");
    }

    if (cors == NGX_OK) {
        /*
         * The headers the browser asks for, when they are a plain list of
         * names (it sends exactly what the page's request carries); the
         * SDK's own otherwise
         */
        h = ngx_http_statsig_api_header(r, "Access-Control-Request-Headers",
                                        30);

        allow = NGX_HTTP_STATSIG_CORS_HEADERS;

        if (h && ngx_http_statsig_api_token_list(&h->value)) {
            allow = ngx_pnalloc(r->pool, h->value.len + 1);
            if (allow == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            *ngx_cpymem(allow, h->value.data, h->value.len) = '\0';
        }

        if (ngx_http_statsig_response_add(r, "Access-Control-Allow-Methods",
                                          "POST, OPTIONS")
            != NGX_OK
            || ngx_http_statsig_response_add(r,
                   "Access-Control-Allow-Headers", allow)
               != NGX_OK
            || ngx_http_statsig_response_add(r, "Access-Control-Max-Age",
                                             NGX_HTTP_STATSIG_CORS_MAX_AGE)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ngx_http_statsig_response_add(r, "Allow", "POST, OPTIONS")
               != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig api: preflight answered");

    rc = ngx_http_statsig_response_header(r, NGX_HTTP_NO_CONTENT, NULL, 0);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_send_special(r, NGX_HTTP_LAST);
}


/* header names and commas only: it may be answered as it came */

static ngx_uint_t
ngx_http_statsig_api_token_list(ngx_str_t *value)
{
    u_char  *p, c;

    if (value->len == 0 || value->len > 1024) {
        return 0;
    }

    for (p = value->data; p < value->data + value->len; p++) {
        c = *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'
              || c == ',' || c == ' '))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * The body as the SDK meant it: gunzipped when the query says gz=1
 * (the SDK compresses events itself, without Content-Encoding), then
 * decoded when it says se=1.  NGX_OK, or an HTTP status with *msg.
 */

ngx_int_t
ngx_http_statsig_api_client_body(ngx_http_request_t *r, ngx_str_t *body,
    const char **msg)
{
    u_char     *out;
    size_t      len;
    ngx_int_t   rc;

    if (ngx_http_statsig_api_arg_is(r, "gz", 2, "1")) {
        rc = ngx_http_statsig_api_gunzip(r, NGX_HTTP_STATSIG_API_MAX_BODY,
                                         "the body is larger than the API "
                                         "takes (4 MB)", body, msg);
        if (rc != NGX_OK) {
            return rc;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: gz=1 body, %uz bytes", body->len);
    }

    if (!ngx_http_statsig_api_arg_is(r, "se", 2, "1")) {
        return NGX_OK;
    }

    out = ngx_pnalloc(r->pool, statsig_client_decoded_max(body->len) + 1);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (statsig_client_decode((char *) body->data, body->len, (char *) out,
                              &len, msg)
        != 0)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig api: se=1 body refused: %s", *msg);

        return NGX_HTTP_BAD_REQUEST;
    }

    if (len > NGX_HTTP_STATSIG_API_MAX_BODY) {
        *msg = "the body is larger than the API takes (4 MB)";
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig api: se=1 body, %uz bytes, %uz decoded",
                   body->len, len);

    body->data = out;
    body->len = len;

    return NGX_OK;
}


/*
 * The client's clock (ms): STATSIG-CLIENT-TIME as the server SDKs send
 * it, else the query's "t", the browser SDK's (made for each attempt);
 * 0 when neither is a time.
 */

int64_t
ngx_http_statsig_api_client_time(ngx_http_request_t *r)
{
    off_t             t;
    ngx_str_t         v;
    ngx_table_elt_t  *h;

    h = ngx_http_statsig_api_header(r, "statsig-client-time", 19);

    if (h) {
        t = ngx_atoof(h->value.data, h->value.len);

    } else if (ngx_http_arg(r, (u_char *) "t", 1, &v) == NGX_OK) {
        t = ngx_atoof(v.data, v.len);

    } else {
        t = 0;
    }

    return t > 0 ? (int64_t) t : 0;
}


static ngx_uint_t
ngx_http_statsig_api_arg_is(ngx_http_request_t *r, char *name, size_t len,
    char *value)
{
    ngx_str_t  v;

    if (ngx_http_arg(r, (u_char *) name, len, &v) != NGX_OK) {
        return 0;
    }

    return v.len == ngx_strlen(value)
           && ngx_strncmp(v.data, value, v.len) == 0;
}


/*
 * statsig_client_key KEY | env:VARIABLE | file:PATH ...: a key as it is
 * (client keys are public: every page holds its own), or read as the
 * secrets are.  A server key here is refused: the client paths would
 * take it from any page.
 */

char *
ngx_http_statsig_client_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_main_conf_t *smcf = conf;

    ngx_str_t                      *value;
    ngx_uint_t                      i;
    ngx_http_statsig_client_key_t  *ck;

    ngx_http_statsig_conf_used(cf);

    if (smcf->client_keys == NULL) {
        smcf->client_keys = ngx_array_create(cf->pool, 2,
                                     sizeof(ngx_http_statsig_client_key_t));
        if (smcf->client_keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        ck = ngx_array_push(smcf->client_keys);
        if (ck == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(ck, sizeof(ngx_http_statsig_client_key_t));

        if ((value[i].len > 4 && ngx_strncmp(value[i].data, "env:", 4) == 0)
            || (value[i].len > 5
                && ngx_strncmp(value[i].data, "file:", 5) == 0))
        {
            if (ngx_http_statsig_secret_parse(cf, &cmd->name, &value[i],
                                              &ck->secret)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            ck->secret.without = "it opens nothing";
            continue;
        }

        if (value[i].len > 7
            && ngx_strncmp(value[i].data, "secret-", 7) == 0)
        {
            /* not echoed: it is a secret */
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is given a server secret key "
                               "(\"secret-...\"): client keys are sent by "
                               "browsers, a server key must never be",
                               &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": an empty key", &cmd->name);
            return NGX_CONF_ERROR;
        }

        ck->literal = value[i];
    }

    return NGX_CONF_OK;
}


/* statsig_cors_origins * | ORIGIN ...: the Origins the client paths take */

char *
ngx_http_statsig_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    ngx_str_t   *value, *o;
    ngx_uint_t   i;

    if (slcf->cors_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    slcf->cors_origins = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(ngx_str_t));
    if (slcf->cors_origins == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 0
            || (value[i].len > 1
                && (ngx_strlchr(value[i].data, value[i].data + value[i].len,
                                '*')
                    || value[i].data[value[i].len - 1] == '/'
                    || ngx_strlcasestrn(value[i].data,
                                        value[i].data + value[i].len,
                                        (u_char *) "://", 2)
                       == NULL)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\": \"*\" or "
                               "scheme://host[:port], as a browser sends "
                               "it (no path, no wildcard)", &value[i]);
            return NGX_CONF_ERROR;
        }

        o = ngx_array_push(slcf->cors_origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }

        /* the argument's text is NUL-terminated: a header value as is */
        *o = value[i];
    }

    return NGX_CONF_OK;
}


/* the worker exits: the keys read from the environment or files go */

void
ngx_http_statsig_api_client_exit(ngx_http_statsig_main_conf_t *smcf)
{
    ngx_uint_t                      i;
    ngx_http_statsig_client_key_t  *ck;

    if (smcf->client_keys == NULL) {
        return;
    }

    ck = smcf->client_keys->elts;

    for (i = 0; i < smcf->client_keys->nelts; i++) {
        if (ngx_http_statsig_secret_set(&ck[i].secret)) {
            ngx_http_statsig_secret_free(&ck[i].secret);
        }
    }
}
