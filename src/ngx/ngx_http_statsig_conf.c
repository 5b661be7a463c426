
/*
 * ngx_http_statsig_module: helpers that parse the configuration (see the
 * header for where each directive is parsed).
 */


#include "ngx_http_statsig_conf.h"


static char *ngx_http_statsig_used(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_statsig_url(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_statsig_path(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_statsig_interval(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_statsig_batch(ngx_conf_t *cf, void *post, void *data);


ngx_conf_post_t  ngx_http_statsig_used_post = { ngx_http_statsig_used };
ngx_conf_post_t  ngx_http_statsig_url_post = { ngx_http_statsig_url };
ngx_conf_post_t  ngx_http_statsig_proxy_post = { ngx_http_statsig_url };
ngx_conf_post_t  ngx_http_statsig_path_post = { ngx_http_statsig_path };
ngx_conf_post_t  ngx_http_statsig_interval_post =
    { ngx_http_statsig_interval };
ngx_conf_post_t  ngx_http_statsig_batch_post = { ngx_http_statsig_batch };


/* remembers the first statsig directive, for the "no statsig_zone" error */

void
ngx_http_statsig_conf_used(ngx_conf_t *cf)
{
    ngx_str_t                     *value;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_statsig_module);

    if (smcf->used_line) {
        return;
    }

    value = cf->args->elts;

    smcf->used_name = value[0];
    smcf->used_file = cf->conf_file->file.name;
    smcf->used_line = cf->conf_file->line;
}


static char *
ngx_http_statsig_used(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_statsig_conf_used(cf);

    return NGX_CONF_OK;
}


/* statsig_*_url and statsig_proxy: a URL curl can take, checked now */

static char *
ngx_http_statsig_url(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *url = data;

    ngx_http_statsig_conf_used(cf);

    if (ngx_http_statsig_check_url(cf, url,
                                   post == &ngx_http_statsig_proxy_post)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_statsig_path(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *path = data;

    ngx_http_statsig_conf_used(cf);

    if (path->len == 0) {
        return "must not be empty";
    }

    if (ngx_conf_full_name(cf->cycle, path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_statsig_interval(ngx_conf_t *cf, void *post, void *data)
{
    ngx_msec_t  *ms = data;

    ngx_http_statsig_conf_used(cf);

    if (*ms == 0) {
        return "must be greater than 0";
    }

    return NGX_CONF_OK;
}


/* statsig_flush_batch: what Statsig's log_event takes in one request */

static char *
ngx_http_statsig_batch(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *n = data;

    ngx_str_t  *value;

    ngx_http_statsig_conf_used(cf);

    if (*n < 1 || *n > 100000) {
        value = cf->args->elts;

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": expected a "
                           "number from 1 to 100000", &value[1], &value[0]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_http_statsig_cv_t *
ngx_http_statsig_compile(ngx_conf_t *cf, ngx_str_t *value)
{
    u_char                            *p, *last;
    ngx_str_t                          name;
    ngx_http_statsig_cv_t             *cv;
    ngx_http_compile_complex_value_t   ccv;

    cv = ngx_palloc(cf->pool, sizeof(ngx_http_statsig_cv_t));
    if (cv == NULL) {
        return NULL;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = &cv->cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NULL;
    }

    cv->index = NGX_ERROR;
    cv->source = NGX_HTTP_STATSIG_SRC_NONE;
    cv->checked = 1;
    ngx_str_null(&cv->name);

    /* "$name" or "${name}" alone */
    if (value->len < 2 || value->data[0] != '$') {
        return cv;
    }

    name.data = value->data + 1;
    name.len = value->len - 1;

    if (name.data[0] == '{') {
        if (name.len < 3 || name.data[name.len - 1] != '}') {
            return cv;
        }

        name.data++;
        name.len -= 2;
    }

    /* $1..$9 are regex captures, not variables */
    if (name.data[0] >= '0' && name.data[0] <= '9') {
        return cv;
    }

    last = name.data + name.len;

    for (p = name.data; p < last; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '_'))
        {
            return cv;
        }
    }

    cv->index = ngx_http_get_variable_index(cf, &name);

    /* nginx's prefixes are lower case, a variable's name is matched in any */
    if (cv->index == NGX_ERROR) {
        return cv;
    }

    if (name.len > 5 && ngx_strncasecmp(name.data, (u_char *) "http_", 5) == 0)
    {
        cv->source = NGX_HTTP_STATSIG_SRC_HEADER;
        cv->checked = 0;

    } else if (name.len > 4
               && ngx_strncasecmp(name.data, (u_char *) "arg_", 4) == 0)
    {
        cv->source = NGX_HTTP_STATSIG_SRC_ARG;
        cv->checked = 0;

    } else if (name.len == 11
               && ngx_strncasecmp(name.data, (u_char *) "remote_addr", 11)
                  == 0)
    {
        cv->source = NGX_HTTP_STATSIG_SRC_REMOTE_ADDR;
        cv->checked = 0;
    }

    return cv;
}


/* NGX_OK and the value (empty when the variable is not found) or NGX_ERROR */

ngx_int_t
ngx_http_statsig_cv_value(ngx_http_request_t *r, ngx_http_statsig_cv_t *cv,
    ngx_str_t *value)
{
    ngx_http_variable_value_t  *vv;

    if (cv->index == NGX_ERROR) {
        return ngx_http_complex_value(r, &cv->cv, value);
    }

    vv = ngx_http_get_indexed_variable(r, cv->index);
    if (vv == NULL) {
        return NGX_ERROR;
    }

    if (vv->not_found) {
        ngx_str_null(value);
        return NGX_OK;
    }

    value->data = vv->data;
    value->len = vv->len;

    return NGX_OK;
}


/*
 * "name=VALUE" as an optional argument: *rest is VALUE.
 * expect is "name=WHAT", for the message.
 */

ngx_int_t
ngx_http_statsig_conf_option(ngx_conf_t *cf, ngx_str_t *arg, char *expect,
    ngx_str_t *rest)
{
    u_char  *eq;
    size_t   len;

    eq = (u_char *) ngx_strchr(expect, '=');
    len = eq - (u_char *) expect + 1;

    if (arg->len < len || ngx_strncmp(arg->data, expect, len) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", expected \"%s\"",
                           arg, expect);
        return NGX_ERROR;
    }

    rest->data = arg->data + len;
    rest->len = arg->len - len;

    return NGX_OK;
}


ngx_int_t
ngx_http_statsig_check_url(ngx_conf_t *cf, ngx_str_t *url, ngx_uint_t proxy)
{
    size_t       skip;
    ngx_url_t    u;
    ngx_uint_t   i;
    ngx_str_t   *scheme;

    static ngx_str_t  schemes[] = {
        ngx_string("http://"),
        ngx_string("https://"),
        ngx_string("socks4://"),
        ngx_string("socks5://"),
        ngx_string("socks5h://")
    };

    skip = 0;

    for (i = 0; i < (proxy ? 5 : 2); i++) {
        scheme = &schemes[i];

        if (url->len > scheme->len
            && ngx_strncasecmp(url->data, scheme->data, scheme->len) == 0)
        {
            skip = scheme->len;
            break;
        }
    }

    if (skip == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\" in \"%V\": %s", url,
                           &((ngx_str_t *) cf->args->elts)[0],
                           proxy ? "the scheme must be http, https, socks4, "
                                   "socks5 or socks5h"
                                 : "it must start with http:// or https://");
        return NGX_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = url->data + skip;
    u.url.len = url->len - skip;
    u.default_port = (in_port_t) (skip == 8 ? 443 : 80);
    u.uri_part = 1;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.host.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\" in \"%V\": %s", url,
                           &((ngx_str_t *) cf->args->elts)[0],
                           u.err ? u.err : "no host");
        return NGX_ERROR;
    }

    if (u.uri.len && ngx_strlchr(u.uri.data, u.uri.data + u.uri.len, ' ')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\": it contains a space", url);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* statsig_status, statsig_api: the location's content handler */

char *
ngx_http_statsig_conf_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_statsig_loc_conf_t *slcf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->handler.len) {
        if (slcf->handler.len == cmd->name.len
            && ngx_strncmp(slcf->handler.data, cmd->name.data,
                           cmd->name.len)
               == 0)
        {
            return "is duplicate";
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be combined with \"%V\" in one "
                           "location", &cmd->name, &slcf->handler);
        return NGX_CONF_ERROR;
    }

    ngx_http_statsig_conf_used(cf);

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = handler;
    slcf->handler = cmd->name;

    return NGX_CONF_OK;
}
