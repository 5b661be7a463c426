
/*
 * ngx_http_statsig_module: the Statsig user of a request.
 *
 * Built once per request, at the first evaluation, from the location's
 * statsig_user_id, statsig_user_field, statsig_user_custom,
 * statsig_user_private, statsig_custom_id and statsig_stable_id_cookie
 * (inherited http -> server -> location), as the object statsig-node
 * takes:
 *
 *   { userID, email, ip, userAgent, country, locale, appVersion,
 *     custom {}, privateAttributes {}, customIDs {} }
 *
 * Every value is a string.  A value that is empty, longer than
 * NGX_HTTP_STATSIG_MAX_FIELD bytes or not valid UTF-8 is absent, as if the
 * key were not there: bad input never makes an error.
 */


#include "ngx_http_statsig_request.h"
#include "jsstr.h"
#include "utf8.h"


typedef struct {
    const char                   **keys;
    size_t                        *lens;
    statsig_value_t               *values;
    size_t                         n;
} ngx_http_statsig_obj_t;


static void *ngx_http_statsig_ralloc(void *data, size_t size);
static ngx_int_t ngx_http_statsig_user_str(ngx_http_request_t *r,
    ngx_http_statsig_cv_t *cv, ngx_str_t *value);
static ngx_int_t ngx_http_statsig_obj_init(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_obj_t *o, size_t n);
static ngx_int_t ngx_http_statsig_obj_add(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_obj_t *o, u_char *key, size_t key_len,
    ngx_str_t *value);
static ngx_int_t ngx_http_statsig_user_kv(ngx_http_request_t *r,
    statsig_alloc_t *a, ngx_http_statsig_obj_t *user, char *key,
    ngx_array_t *kvs, ngx_str_t *stable_id);


/* statsig-node's key for each NGX_HTTP_STATSIG_FIELD_* */
static ngx_str_t  ngx_http_statsig_user_keys[] = {
    ngx_string("email"),
    ngx_string("ip"),
    ngx_string("userAgent"),
    ngx_string("country"),
    ngx_string("locale"),
    ngx_string("appVersion")
};


ngx_int_t
ngx_http_statsig_build_user(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                     value, *stable_id;
    ngx_uint_t                    i, n;
    statsig_alloc_t               a;
    ngx_http_statsig_obj_t        user;
    ngx_http_statsig_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    a.alloc = ngx_http_statsig_ralloc;
    a.data = ctx;

    /*
     * Room for the keys this location can give, not all there are: the
     * request pool's first block is full after nginx's own allocations,
     * and each 4 KB block more costs a memalign and a free.
     */
    n = 4;      /* userID, custom, privateAttributes, customIDs */
    for (i = 0; i < NGX_HTTP_STATSIG_NFIELDS; i++) {
        n += (slcf->fields[i] != NULL);
    }

    if (ngx_http_statsig_obj_init(ctx, &user, n) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_statsig_user_str(r, slcf->user_id, &value);

    if (rc == NGX_OK) {
        if (ngx_http_statsig_obj_add(ctx, &user, (u_char *) "userID", 6,
                                     &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_STATSIG_NFIELDS; i++) {
        rc = ngx_http_statsig_user_str(r, slcf->fields[i], &value);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK
            && ngx_http_statsig_obj_add(ctx, &user,
                                        ngx_http_statsig_user_keys[i].data,
                                        ngx_http_statsig_user_keys[i].len,
                                        &value)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    stable_id = NULL;

    if (slcf->stable_id_cookie.len) {
        if (ngx_http_statsig_stable_id(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ctx->stable_id.len) {
            stable_id = &ctx->stable_id;
        }
    }

    /* most locations have none of them */
    if ((slcf->custom || slcf->private_attrs || slcf->custom_ids || stable_id)
        && (ngx_http_statsig_user_kv(r, &a, &user, "custom", slcf->custom,
                                     NULL)
            != NGX_OK
            || ngx_http_statsig_user_kv(r, &a, &user, "privateAttributes",
                                        slcf->private_attrs, NULL)
               != NGX_OK
            || ngx_http_statsig_user_kv(r, &a, &user, "customIDs",
                                        slcf->custom_ids, stable_id)
               != NGX_OK))
    {
        return NGX_ERROR;
    }

    if (statsig_value_object(&a, user.keys, user.lens, user.values, user.n,
                             &ctx->user)
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_http_statsig_ralloc(void *data, size_t size)
{
    return ngx_http_statsig_alloc(data, size);
}


/* NGX_OK: a value; NGX_DECLINED: absent */

static ngx_int_t
ngx_http_statsig_user_str(ngx_http_request_t *r,
    ngx_http_statsig_cv_t *cv, ngx_str_t *value)
{
    ngx_http_variable_value_t  *vv;

    if (cv == NULL) {
        return NGX_DECLINED;
    }

    if (cv->index != NGX_ERROR) {
        /* a variable alone, as most are: ngx_http_statsig_cv_value() here */
        vv = ngx_http_get_indexed_variable(r, cv->index);
        if (vv == NULL) {
            return NGX_ERROR;
        }

        if (vv->not_found || vv->len == 0) {
            return NGX_DECLINED;
        }

        value->data = vv->data;
        value->len = vv->len;

    } else {
        if (ngx_http_statsig_cv_value(r, cv, value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value->len == 0) {
            return NGX_DECLINED;
        }
    }

    if (value->len > NGX_HTTP_STATSIG_MAX_FIELD) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig user: a %uz-byte value is absent",
                       value->len);
        return NGX_DECLINED;
    }

    if (!statsig_utf8_valid((char *) value->data, value->len)) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig user: a value that is not UTF-8 is absent");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* room for n keys, their lengths and values, in one piece */

static ngx_int_t
ngx_http_statsig_obj_init(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_obj_t *o, size_t n)
{
    u_char  *p;

    p = ngx_http_statsig_alloc(ctx, n * (sizeof(statsig_value_t)
                                         + sizeof(char *) + sizeof(size_t)));
    if (p == NULL) {
        return NGX_ERROR;
    }

    o->values = (statsig_value_t *) p;
    o->keys = (const char **) (p + n * sizeof(statsig_value_t));
    o->lens = (size_t *) (p + n * (sizeof(statsig_value_t) + sizeof(char *)));
    o->n = 0;

    return NGX_OK;
}


/* keys are NUL-terminated: static names or configuration arguments */

static ngx_inline ngx_int_t
ngx_http_statsig_obj_add(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_obj_t *o, u_char *key, size_t key_len,
    ngx_str_t *value)
{
    char  *room;

    /* the room for its lower case, taken inline */
    room = ngx_http_statsig_alloc(ctx, statsig_js_lower_size(value->len));
    if (room == NULL) {
        return NGX_ERROR;
    }

    o->keys[o->n] = (const char *) key;
    o->lens[o->n] = key_len;

    /* a variable's value lives as long as the request, as the user */
    statsig_value_string_lazy_room((char *) value->data, value->len, room,
                                   &o->values[o->n]);

    o->n++;

    return NGX_OK;
}


/*
 * custom, privateAttributes, customIDs: an object of the NAME VALUE pairs
 * that are not empty (and customIDs.stableID from the cookie); absent when
 * there is none.
 */

static ngx_int_t
ngx_http_statsig_user_kv(ngx_http_request_t *r, statsig_alloc_t *a,
    ngx_http_statsig_obj_t *user, char *key, ngx_array_t *kvs,
    ngx_str_t *stable_id)
{
    size_t                   n;
    ngx_int_t                rc;
    ngx_str_t                value;
    ngx_uint_t               i;
    ngx_http_statsig_kv_t   *kv;
    ngx_http_statsig_obj_t   o;

    n = (kvs ? kvs->nelts : 0) + (stable_id ? 1 : 0);

    if (n == 0) {
        return NGX_OK;
    }

    if (ngx_http_statsig_obj_init(a->data, &o, n) != NGX_OK) {
        return NGX_ERROR;
    }

    kv = kvs ? kvs->elts : NULL;

    for (i = 0; kvs && i < kvs->nelts; i++) {
        if (stable_id && kv[i].name.len == 8
            && ngx_strncmp(kv[i].name.data, "stableID", 8) == 0)
        {
            /* the cookie's stable ID wins */
            continue;
        }

        rc = ngx_http_statsig_user_str(r, kv[i].value, &value);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            continue;
        }

        /* ngx_conf_read_token() NUL-terminates every argument */
        if (ngx_http_statsig_obj_add(a->data, &o, kv[i].name.data,
                                     kv[i].name.len, &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (stable_id) {
        if (ngx_http_statsig_obj_add(a->data, &o, (u_char *) "stableID", 8,
                                     stable_id)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (o.n == 0) {
        return NGX_OK;
    }

    user->keys[user->n] = key;
    user->lens[user->n] = ngx_strlen(key);

    if (statsig_value_object(a, o.keys, o.lens, o.values, o.n,
                             &user->values[user->n])
        != 0)
    {
        return NGX_ERROR;
    }

    user->n++;

    return NGX_OK;
}


/* ---- the directives ---- */


char *
ngx_http_statsig_user_id(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    ngx_str_t  *value;

    if (slcf->user_id) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    slcf->user_id = ngx_http_statsig_compile(cf, &value[1]);
    if (slcf->user_id == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_statsig_user_field(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    for (i = 0; i < NGX_HTTP_STATSIG_NFIELDS; i++) {
        if (value[1].len == ngx_http_statsig_user_keys[i].len
            && ngx_strncmp(value[1].data, ngx_http_statsig_user_keys[i].data,
                           value[1].len)
               == 0)
        {
            break;
        }
    }

    if (i == NGX_HTTP_STATSIG_NFIELDS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown user field \"%V\", expected one of "
                           "email, ip, userAgent, country, locale, "
                           "appVersion (use statsig_user_custom for other "
                           "fields)", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (slcf->fields[i]) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate user field \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    slcf->fields[i] = ngx_http_statsig_compile(cf, &value[2]);
    if (slcf->fields[i] == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_statsig_user_pairs(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t              *value;
    ngx_uint_t              i;
    ngx_array_t           **a;
    ngx_http_statsig_kv_t  *kv;

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;
    a = (ngx_array_t **) (p + cmd->offset);

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty name in \"%V\"", &value[0]);
        return NGX_CONF_ERROR;
    }

    if (*a == NULL) {
        *a = ngx_array_create(cf->pool, 4, sizeof(ngx_http_statsig_kv_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    kv = (*a)->elts;

    for (i = 0; i < (*a)->nelts; i++) {
        if (kv[i].name.len == value[1].len
            && ngx_strncmp(kv[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate name \"%V\" in \"%V\"",
                               &value[1], &value[0]);
            return NGX_CONF_ERROR;
        }
    }

    kv = ngx_array_push(*a);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->name = value[1];
    kv->value = ngx_http_statsig_compile(cf, &value[2]);
    if (kv->value == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
