
/*
 * ngx_http_statsig_module: secrets (see the header).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_statsig_secret.h"


/* a key file larger than this is not a key */
#define NGX_HTTP_STATSIG_SECRET_MAX  4096


static ngx_int_t ngx_http_statsig_secret_read(
    ngx_http_statsig_secret_t *secret, ngx_log_t *log, u_char *buf,
    size_t *len);
static void ngx_http_statsig_secret_failed(ngx_http_statsig_secret_t *secret,
    ngx_log_t *log, ngx_err_t err, char *why);


char *
ngx_http_statsig_secret_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                  *value;
    ngx_conf_post_t            *post;
    ngx_http_statsig_secret_t  *secret;

    secret = (ngx_http_statsig_secret_t *) ((char *) conf + cmd->offset);

    if (secret->source != NGX_HTTP_STATSIG_SECRET_NONE) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_statsig_secret_parse(cf, &cmd->name, &value[1], secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, secret);
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_statsig_secret_parse(ngx_conf_t *cf, ngx_str_t *name,
    ngx_str_t *value, ngx_http_statsig_secret_t *secret)
{
    u_char     *p;
    ngx_str_t   ref;

    /* the argument may be a pasted secret: never echo it in a message */

    if (value->len > 4 && ngx_strncmp(value->data, "env:", 4) == 0) {
        ref.data = value->data + 4;
        ref.len = value->len - 4;

        for (p = ref.data; p < ref.data + ref.len; p++) {
            if (*p != '_' && !(*p >= 'A' && *p <= 'Z')
                && !(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid environment variable name in "
                                   "\"%V env:\"", name);
                return NGX_ERROR;
            }
        }

        /* ends the argument: NUL after, as getenv() wants */
        secret->source = NGX_HTTP_STATSIG_SECRET_ENV;

    } else if (value->len > 5
               && ngx_strncmp(value->data, "file:", 5) == 0)
    {
        ref.data = value->data + 5;
        ref.len = value->len - 5;

        if (ngx_conf_full_name(cf->cycle, &ref, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        secret->source = NGX_HTTP_STATSIG_SECRET_FILE;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be \"env:VARIABLE\" or \"file:PATH\" "
                           "(the value is not shown)", name);
        return NGX_ERROR;
    }

    secret->ref = ref;
    secret->directive = *name;

    return NGX_OK;
}


ngx_int_t
ngx_http_statsig_secret_get(ngx_http_statsig_secret_t *secret,
    ngx_log_t *log, ngx_str_t *value)
{
    u_char  *v, *last;
    size_t   len;
    u_char   buf[NGX_HTTP_STATSIG_SECRET_MAX];

    if (secret->value.len) {
        *value = secret->value;
        return NGX_OK;
    }

    if (secret->source == NGX_HTTP_STATSIG_SECRET_NONE) {
        return NGX_DECLINED;
    }

    if (ngx_http_statsig_secret_read(secret, log, buf, &len) != NGX_OK) {
        return NGX_DECLINED;
    }

    /* blanks and a trailing newline around it are not part of it */

    v = buf;
    last = buf + len;

    while (v < last && (*v == ' ' || *v == '\t' || *v == CR || *v == LF)) {
        v++;
    }

    while (last > v && (last[-1] == ' ' || last[-1] == '\t'
                        || last[-1] == CR || last[-1] == LF))
    {
        last--;
    }

    if (v == last) {
        ngx_explicit_memzero(buf, sizeof(buf));
        ngx_http_statsig_secret_failed(secret, log, 0, "is empty");
        return NGX_DECLINED;
    }

    secret->value.data = ngx_alloc(last - v, log);
    if (secret->value.data == NULL) {
        ngx_explicit_memzero(buf, sizeof(buf));
        return NGX_ERROR;
    }

    secret->value.len = last - v;
    ngx_memcpy(secret->value.data, v, last - v);
    ngx_explicit_memzero(buf, sizeof(buf));

    if (ngx_http_statsig_report(&secret->report, NULL, ngx_time())
        == NGX_HTTP_STATSIG_REPORT_RECOVERED)
    {
        ngx_log_error(NGX_LOG_NOTICE, log, 0, "%V: the key is loaded",
                      &secret->directive);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "statsig: %V loaded (%uz bytes)", &secret->directive,
                   secret->value.len);

    *value = secret->value;

    return NGX_OK;
}


/* into buf: at most sizeof - 1 bytes, as they are */

static ngx_int_t
ngx_http_statsig_secret_read(ngx_http_statsig_secret_t *secret,
    ngx_log_t *log, u_char *buf, size_t *len)
{
    u_char    *v;
    ssize_t    n;
    ngx_fd_t   fd;
    ngx_err_t  err;

    if (secret->source == NGX_HTTP_STATSIG_SECRET_ENV) {
        v = (u_char *) getenv((char *) secret->ref.data);

        if (v == NULL || *v == '\0') {
            ngx_http_statsig_secret_failed(secret, log, 0, NULL);
            return NGX_DECLINED;
        }

        *len = ngx_min(ngx_strlen(v), NGX_HTTP_STATSIG_SECRET_MAX - 1);
        ngx_memcpy(buf, v, *len);

        return NGX_OK;
    }

    fd = ngx_open_file(secret->ref.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    n = -1;

    if (fd != NGX_INVALID_FILE) {
        n = ngx_read_fd(fd, buf, NGX_HTTP_STATSIG_SECRET_MAX - 1);
    }

    err = ngx_errno;

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }

    if (n < 0) {
        ngx_http_statsig_secret_failed(secret, log, err, "cannot be read");
        return NGX_DECLINED;
    }

    *len = n;

    return NGX_OK;
}


/*
 * By the one rule of ngx_http_statsig_report.h: a missing key would
 * otherwise be logged on every tick and every request that needs it.
 */

static void
ngx_http_statsig_secret_failed(ngx_http_statsig_secret_t *secret,
    ngx_log_t *log, ngx_err_t err, char *why)
{
    if (ngx_http_statsig_report(&secret->report,
                                (u_char *) (why ? why : "is not set"),
                                ngx_time())
        != NGX_HTTP_STATSIG_REPORT_FAILED)
    {
        return;
    }

    if (secret->source == NGX_HTTP_STATSIG_SECRET_ENV && why == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "%V: the environment variable \"%V\" is not set "
                      "(nginx needs \"env %V;\" to pass it to workers); %s",
                      &secret->directive, &secret->ref, &secret->ref,
                      secret->without);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, log, err, "%V: the key in %s \"%V\" %s; %s",
                  &secret->directive,
                  secret->source == NGX_HTTP_STATSIG_SECRET_ENV
                  ? "the environment variable" : "the file",
                  &secret->ref, why, secret->without);
}


void
ngx_http_statsig_secret_scrub(ngx_http_statsig_secret_t *secret, u_char *p,
    u_char *last)
{
    u_char     *k;
    ngx_str_t  *s;

    s = &secret->value;

    if (s->len == 0) {
        return;
    }

    while ((size_t) (last - p) >= s->len) {
        k = ngx_strlcasestrn(p, last, s->data, s->len - 1);
        if (k == NULL) {
            break;
        }

        ngx_memset(k, '*', s->len);
        p = k + s->len;
    }
}


void
ngx_http_statsig_secret_free(ngx_http_statsig_secret_t *secret)
{
    if (secret->value.data) {
        ngx_explicit_memzero(secret->value.data, secret->value.len);
        ngx_free(secret->value.data);
    }

    secret->value.data = NULL;
    secret->value.len = 0;
    ngx_memzero(&secret->report, sizeof(ngx_http_statsig_report_t));
}
