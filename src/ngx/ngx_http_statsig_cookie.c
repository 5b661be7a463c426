
/*
 * ngx_http_statsig_module: the stable ID cookie.
 *
 *   statsig_stable_id_cookie NAME [max_age=TIME];
 *
 * customIDs.stableID comes from the cookie NAME.  When the request has no
 * such cookie, or one that cannot be a stable ID (empty, longer than 128
 * bytes, characters a cookie value may not carry), a random version 4 UUID
 * is generated, used for the request, and sent back in a header filter:
 *
 *   Set-Cookie: NAME=ID; Path=/; Max-Age=N; SameSite=Lax[; Secure]
 *
 * (Secure on https), so an anonymous visitor keeps the same assignment.
 * The cookie is not HttpOnly: a page may hand the ID to a client SDK.
 */


#include "ngx_http_statsig_request.h"
#include "ngx_http_statsig_id.h"


#define NGX_HTTP_STATSIG_STABLE_ID_MAX  128


static ngx_int_t ngx_http_statsig_read_cookie(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);
static ngx_int_t ngx_http_statsig_valid_stable_id(ngx_str_t *id);
static ngx_int_t ngx_http_statsig_generate_id(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_http_statsig_set_cookie(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx);
static ngx_int_t ngx_http_statsig_cookie_filter(ngx_http_request_t *r);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


ngx_int_t
ngx_http_statsig_cookie_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_statsig_cookie_filter;

    return NGX_OK;
}


/*
 * Sets ctx->stable_id from the cookie, or a new one, once per request;
 * leaves it empty where no statsig_stable_id_cookie applies.
 */

ngx_int_t
ngx_http_statsig_stable_id(ngx_http_request_t *r, ngx_http_statsig_ctx_t *ctx)
{
    ngx_str_t                     value;
    ngx_http_statsig_loc_conf_t  *slcf;

    if (ctx->stable_id_done) {
        return NGX_OK;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    if (slcf->stable_id_cookie.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_statsig_read_cookie(r, &slcf->stable_id_cookie, &value)
        == NGX_OK
        && ngx_http_statsig_valid_stable_id(&value) == NGX_OK)
    {
        ctx->stable_id = value;
        ctx->stable_id_done = 1;
        return NGX_OK;
    }

    if (ngx_http_statsig_generate_id(r, &ctx->stable_id) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig new stable id \"%V\"", &ctx->stable_id);

    ctx->stable_id_done = 1;
    ctx->stable_id_new = 1;
    ctx->cookie_conf = slcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_read_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
#if (nginx_version >= 1023000)

    if (ngx_http_parse_multi_header_lines(r, r->headers_in.cookie, name,
                                          value)
        == NULL)
    {
        return NGX_DECLINED;
    }

#else

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, name,
                                          value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

#endif

    return NGX_OK;
}


/* what Set-Cookie could have sent: a token of cookie-octets */

static ngx_int_t
ngx_http_statsig_valid_stable_id(ngx_str_t *id)
{
    u_char  *p, *last;

    if (id->len == 0 || id->len > NGX_HTTP_STATSIG_STABLE_ID_MAX) {
        return NGX_DECLINED;
    }

    last = id->data + id->len;

    for (p = id->data; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == ',' || *p == ';'
            || *p == '\\')
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* a new visitor's ID */

static ngx_int_t
ngx_http_statsig_generate_id(ngx_http_request_t *r, ngx_str_t *id)
{
    id->data = ngx_pnalloc(r->pool, NGX_HTTP_STATSIG_UUID_LEN);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_statsig_uuid(id->data);
    id->len = NGX_HTTP_STATSIG_UUID_LEN;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_set_cookie(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx)
{
    u_char                       *p;
    size_t                        len;
    ngx_uint_t                    secure;
    ngx_table_elt_t              *h;
    ngx_http_statsig_loc_conf_t  *cf;

    cf = ctx->cookie_conf;
    secure = 0;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        secure = 1;
    }
#endif

    len = cf->stable_id_cookie.len + 1 + ctx->stable_id.len
          + sizeof("; Path=/") - 1
          + sizeof("; Max-Age=") - 1 + NGX_TIME_T_LEN
          + sizeof("; SameSite=Lax") - 1
          + sizeof("; Secure") - 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    p = ngx_sprintf(p, "%V=%V; Path=/", &cf->stable_id_cookie,
                    &ctx->stable_id);

    /* max_age=0: a session cookie */
    if (cf->stable_id_max_age > 0) {
        p = ngx_sprintf(p, "; Max-Age=%T", cf->stable_id_max_age);
    }

    p = ngx_cpymem(p, "; SameSite=Lax", sizeof("; SameSite=Lax") - 1);

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    h->value.len = p - h->value.data;

    ctx->cookie_sent = 1;

    return NGX_OK;
}


/*
 * Where statsig_stable_id_cookie applies, every response to a visitor
 * without a valid cookie sets one, whether or not a variable was read;
 * an ID generated in an earlier location (before an internal redirect) is
 * sent even when the final location has no statsig_stable_id_cookie.
 */

static ngx_int_t
ngx_http_statsig_cookie_filter(ngx_http_request_t *r)
{
    ngx_http_statsig_ctx_t       *ctx;
    ngx_http_statsig_loc_conf_t  *slcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    ctx = ngx_http_statsig_ctx(r, slcf->stable_id_cookie.len != 0);

    if (ctx == NULL) {
        return ngx_http_next_header_filter(r);
    }

    if (!ctx->stable_id_done && slcf->stable_id_cookie.len
        && ngx_http_statsig_stable_id(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->stable_id_new && !ctx->cookie_sent
        && ngx_http_statsig_set_cookie(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


char *
ngx_http_statsig_stable_id_cookie(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    u_char      *p;
    time_t       age;
    ngx_str_t   *value, s;

    if (slcf->stable_id_cookie.data) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty cookie name";
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p <= ' ' || *p >= 0x7f || ngx_strchr("()<>@,;:\\\"/[]?={}", *p))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cookie name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    slcf->stable_id_cookie = value[1];

    if (cf->args->nelts == 3) {
        if (ngx_http_statsig_conf_option(cf, &value[2], "max_age=TIME", &s)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        age = ngx_parse_time(&s, 1);
        if (age == (time_t) NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid max_age \"%V\"", &s);
            return NGX_CONF_ERROR;
        }

        slcf->stable_id_max_age = age;
    }

    return NGX_CONF_OK;
}
