
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


/*
 * The location's $http_NAME and $arg_NAME values, found in one pass over
 * the request's headers and one over its query, in the order the user is
 * built from them.  Past NGX_HTTP_STATSIG_SOURCES, nginx's variables.
 */

typedef struct {
    ngx_http_statsig_cv_t         *cv;
    u_char                        *name;    /* cv's, at hand for the pass */
    size_t                         len;
    ngx_str_t                      value;
    ngx_uint_t                     found;   /* 2: more than one header */
} ngx_http_statsig_src_t;

typedef struct {
    ngx_uint_t                     n;
    ngx_uint_t                     next;    /* the next to be read */
    ngx_uint_t                     nheaders;
    ngx_uint_t                     nargs;
    /* a bit for each length sought (mod 64): most names have none */
    uint64_t                       header_lens;
    uint64_t                       arg_lens;
    ngx_http_statsig_src_t         src[NGX_HTTP_STATSIG_SOURCES];
    /* the ones still sought, by kind */
    ngx_http_statsig_src_t        *headers[NGX_HTTP_STATSIG_SOURCES];
    ngx_http_statsig_src_t        *args[NGX_HTTP_STATSIG_SOURCES];
} ngx_http_statsig_srcs_t;


static void *ngx_http_statsig_ralloc(void *data, size_t size);
static void ngx_http_statsig_sources(ngx_http_request_t *r,
    ngx_http_statsig_loc_conf_t *slcf, ngx_http_statsig_srcs_t *s);
static void ngx_http_statsig_source_check(ngx_http_request_t *r,
    ngx_http_statsig_cv_t *cv);
static void ngx_http_statsig_source_headers(ngx_http_request_t *r,
    ngx_http_statsig_srcs_t *s);
static void ngx_http_statsig_source_args(ngx_http_request_t *r,
    ngx_http_statsig_srcs_t *s);
static ngx_int_t ngx_http_statsig_user_str(ngx_http_request_t *r,
    ngx_http_statsig_cv_t *cv, ngx_http_statsig_srcs_t *s, ngx_str_t *value);
static ngx_int_t ngx_http_statsig_obj_init(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_obj_t *o, size_t n);
static ngx_int_t ngx_http_statsig_obj_add(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_obj_t *o, u_char *key, size_t key_len,
    ngx_str_t *value);
static ngx_int_t ngx_http_statsig_user_kv(ngx_http_request_t *r,
    statsig_alloc_t *a, ngx_http_statsig_obj_t *user, char *key,
    ngx_array_t *kvs, ngx_str_t *stable_id, ngx_http_statsig_srcs_t *s);


/*
 * A byte of a header's name as nginx compares it with a $http_ name (A-Z
 * in lower case, "-" as "_"), of an argument's name with an $arg_ name (in
 * lower case); filled at the first check of a source.
 */
static u_char  ngx_http_statsig_header_fold[256];
static u_char  ngx_http_statsig_arg_fold[256];


static ngx_str_t  ngx_http_statsig_user_id_key = ngx_string("userID");

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
    ngx_http_statsig_srcs_t       srcs;
    ngx_http_statsig_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    ngx_http_statsig_sources(r, slcf, &srcs);

    a.alloc = ngx_http_statsig_ralloc;
    a.data = ctx;

    /*
     * Room for the keys this location can give (userID and the fields
     * set, custom, privateAttributes, customIDs), not all there are: the
     * request pool's first block is full after nginx's own allocations,
     * and each 4 KB block more costs a memalign and a free.
     */
    n = slcf->nuser + 3;

    if (ngx_http_statsig_obj_init(ctx, &user, n) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < slcf->nuser; i++) {
        rc = ngx_http_statsig_user_str(r, slcf->user_cvs[i], &srcs, &value);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK
            && ngx_http_statsig_obj_add(ctx, &user, slcf->user_keys[i]->data,
                                        slcf->user_keys[i]->len, &value)
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
                                     NULL, &srcs)
            != NGX_OK
            || ngx_http_statsig_user_kv(r, &a, &user, "privateAttributes",
                                        slcf->private_attrs, NULL, &srcs)
               != NGX_OK
            || ngx_http_statsig_user_kv(r, &a, &user, "customIDs",
                                        slcf->custom_ids, stable_id, &srcs)
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


/* a value of the location's user that may be a source, when it is one */
static void
ngx_http_statsig_source_find(ngx_http_request_t *r,
    ngx_http_statsig_loc_conf_t *slcf, ngx_http_statsig_cv_t *cv)
{
    if (cv == NULL || cv->source == NGX_HTTP_STATSIG_SRC_NONE) {
        return;
    }

    if (!cv->checked) {
        ngx_http_statsig_source_check(r, cv);
    }

    if ((cv->source == NGX_HTTP_STATSIG_SRC_HEADER
         || cv->source == NGX_HTTP_STATSIG_SRC_ARG)
        && slcf->nsources < NGX_HTTP_STATSIG_SOURCES)
    {
        slcf->sources[slcf->nsources++] = cv;
    }
}


/*
 * A worker's first request of a location lists its sources, in the order
 * ngx_http_statsig_build_user() reads the values (configuration memory is
 * the worker's own after the fork).
 */

static void
ngx_http_statsig_sources_init(ngx_http_request_t *r,
    ngx_http_statsig_loc_conf_t *slcf)
{
    ngx_uint_t              i, j;
    ngx_array_t            *kvs[3];
    ngx_http_statsig_kv_t  *kv;

    slcf->nsources = 0;
    slcf->nuser = 0;

    if (slcf->user_id != NULL) {
        slcf->user_cvs[0] = slcf->user_id;
        slcf->user_keys[0] = &ngx_http_statsig_user_id_key;
        slcf->nuser = 1;
    }

    ngx_http_statsig_source_find(r, slcf, slcf->user_id);

    for (i = 0; i < NGX_HTTP_STATSIG_NFIELDS; i++) {
        if (slcf->fields[i] != NULL) {
            slcf->user_cvs[slcf->nuser] = slcf->fields[i];
            slcf->user_keys[slcf->nuser++] = &ngx_http_statsig_user_keys[i];
        }

        ngx_http_statsig_source_find(r, slcf, slcf->fields[i]);
    }

    kvs[0] = slcf->custom;
    kvs[1] = slcf->private_attrs;
    kvs[2] = slcf->custom_ids;

    for (i = 0; i < 3; i++) {
        if (kvs[i] == NULL) {
            continue;
        }

        kv = kvs[i]->elts;

        for (j = 0; j < kvs[i]->nelts; j++) {
            ngx_http_statsig_source_find(r, slcf, kv[j].value);
        }
    }

    slcf->sources_ready = 1;
}


/* the request's sources: the location's that nginx has not read yet */

static void
ngx_http_statsig_sources(ngx_http_request_t *r,
    ngx_http_statsig_loc_conf_t *slcf, ngx_http_statsig_srcs_t *s)
{
    ngx_uint_t                  i;
    ngx_http_statsig_cv_t      *cv;
    ngx_http_statsig_src_t     *src;
    ngx_http_variable_value_t  *vv;

    if (!slcf->sources_ready) {
        ngx_http_statsig_sources_init(r, slcf);
    }

    s->n = 0;
    s->next = 0;
    s->nheaders = 0;
    s->nargs = 0;
    s->header_lens = 0;
    s->arg_lens = 0;

    for (i = 0; i < slcf->nsources; i++) {
        cv = slcf->sources[i];

        /* known already (read, or "set"): nginx's value is that one */
        vv = &r->variables[cv->index];

        if (vv->valid || vv->not_found) {
            continue;
        }

        src = &s->src[s->n++];
        src->cv = cv;
        src->name = cv->name.data;
        src->len = cv->name.len;
        src->found = 0;

        if (cv->source == NGX_HTTP_STATSIG_SRC_HEADER) {
            s->headers[s->nheaders++] = src;
            s->header_lens |= (uint64_t) 1 << (src->len & 63);

        } else {
            s->args[s->nargs++] = src;
            s->arg_lens |= (uint64_t) 1 << (src->len & 63);
        }
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig user: %ui header and %ui argument sources "
                   "in one pass", s->nheaders, s->nargs);

    if (s->nheaders) {
        ngx_http_statsig_source_headers(r, s);
    }

    if (s->nargs) {
        ngx_http_statsig_source_args(r, s);
    }
}


/*
 * Once a worker, for a $http_ or $arg_ value: is it nginx's prefix
 * variable (not one of its own, such as $http_user_agent, nor another
 * module's of the same name)?  Its name as nginx keeps it, in lower case.
 */

static void
ngx_http_statsig_source_check(ngx_http_request_t *r,
    ngx_http_statsig_cv_t *cv)
{
    ngx_str_t                   prefix;
    ngx_uint_t                  i;
    ngx_http_variable_t        *v, *pv;
    ngx_http_core_main_conf_t  *cmcf;

    cv->checked = 1;

    if (ngx_http_statsig_arg_fold['a'] == 0) {
        for (i = 0; i < 256; i++) {
            ngx_http_statsig_arg_fold[i] = (i >= 'A' && i <= 'Z')
                                           ? (u_char) (i | 0x20) : (u_char) i;
            ngx_http_statsig_header_fold[i] = (i == '-') ? '_'
                                              : ngx_http_statsig_arg_fold[i];
        }
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    v = (ngx_http_variable_t *) cmcf->variables.elts + cv->index;

    /*
     * nginx's own (a module cannot define them again: they are not
     * changeable); $http_user_agent by the header it reads
     */
    if (cv->source == NGX_HTTP_STATSIG_SRC_REMOTE_ADDR) {
        return;
    }

    if (v->name.len == sizeof("http_user_agent") - 1
        && ngx_strncmp(v->name.data, "http_user_agent", v->name.len) == 0
        && v->data == offsetof(ngx_http_request_t, headers_in.user_agent))
    {
        cv->source = NGX_HTTP_STATSIG_SRC_USER_AGENT;
        return;
    }

    if (cv->source == NGX_HTTP_STATSIG_SRC_HEADER) {
        ngx_str_set(&prefix, "http_");

    } else {
        ngx_str_set(&prefix, "arg_");
    }

    pv = cmcf->prefix_variables.elts;

    for (i = 0; i < cmcf->prefix_variables.nelts; i++) {
        if (pv[i].name.len == prefix.len
            && ngx_strncmp(pv[i].name.data, prefix.data, prefix.len) == 0)
        {
            break;
        }
    }

    if (i == cmcf->prefix_variables.nelts
        || v->get_handler != pv[i].get_handler
        || v->data != (uintptr_t) &v->name
        || v->name.len <= prefix.len
        || ngx_strncmp(v->name.data, prefix.data, prefix.len) != 0)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig user: \"$%V\" read as a variable",
                       &v->name);

        cv->source = NGX_HTTP_STATSIG_SRC_NONE;
        return;
    }

    cv->name.data = v->name.data + prefix.len;
    cv->name.len = v->name.len - prefix.len;
}


/* whether a header's or an argument's name of len bytes is src's, its
 * bytes compared through nginx's folding of them (fold) */

static ngx_inline ngx_uint_t
ngx_http_statsig_source_is(ngx_http_statsig_src_t *src, u_char *key,
    size_t len, u_char *fold)
{
    size_t  n;

    if (src->len != len) {
        return 0;
    }

    for (n = 0; n < len; n++) {
        if (fold[key[n]] != src->name[n]) {
            return 0;
        }
    }

    return 1;
}


/*
 * The headers' values as nginx's $http_NAME gives them: the header whose
 * name is NAME, case aside and with "-" for "_"; the first of several
 * (nginx 1.23 and later join them: nginx's variable then makes that).
 */

static void
ngx_http_statsig_source_headers(ngx_http_request_t *r,
    ngx_http_statsig_srcs_t *s)
{
    size_t                    len;
    ngx_uint_t                i, k, left;
    ngx_list_part_t          *part;
    ngx_table_elt_t          *h;
    ngx_http_statsig_src_t   *src, **want;

    want = s->headers;
    left = s->nheaders;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        len = h[i].key.len;

        if (!((s->header_lens >> (len & 63)) & 1) || h[i].hash == 0) {
            continue;
        }

        for (k = 0; k < left; k++) {
            src = want[k];

            if (!ngx_http_statsig_source_is(src, h[i].key.data, len,
                                            ngx_http_statsig_header_fold))
            {
                continue;
            }

            if (src->found) {
                src->found = 2;
                continue;
            }

            src->found = 1;
            src->value = h[i].value;

#if (nginx_version < 1023000)
            /* the first is the value: sought no more */
            want[k--] = want[--left];

            if (left == 0) {
                return;
            }
#endif
        }
    }
}


/*
 * The arguments' values as nginx's $arg_NAME gives them (ngx_http_arg()):
 * the first argument named NAME, case aside, followed by "=", up to the
 * next "&"; an argument without "=" has none; nothing is decoded.
 */

static void
ngx_http_statsig_source_args(ngx_http_request_t *r,
    ngx_http_statsig_srcs_t *s)
{
    u_char                   *p, *last, *end, *eq;
    size_t                    len;
    ngx_uint_t                k, left;
    ngx_http_statsig_src_t   *src, **want;

    want = s->args;
    left = s->nargs;
    p = r->args.data;
    last = p + r->args.len;

    for ( /* void */ ; p < last; p = end + 1) {

        end = memchr(p, '&', last - p);
        if (end == NULL) {
            end = last;
        }

        eq = memchr(p, '=', end - p);
        if (eq == NULL) {
            continue;
        }

        len = eq - p;

        if (!((s->arg_lens >> (len & 63)) & 1)) {
            continue;
        }

        for (k = 0; k < left; k++) {
            src = want[k];

            if (!ngx_http_statsig_source_is(src, p, len,
                                            ngx_http_statsig_arg_fold))
            {
                continue;
            }

            src->found = 1;
            src->value.data = eq + 1;
            src->value.len = end - (eq + 1);

            want[k--] = want[--left];

            if (left == 0) {
                return;
            }
        }
    }
}


/*
 * $http_user_agent or $remote_addr as nginx's handler gives it, without
 * the indexed variable's call and flags; 0 when nginx's value must be
 * read (cached, or a header given twice that nginx 1.23+ joins).
 */

static ngx_inline ngx_uint_t
ngx_http_statsig_user_direct(ngx_http_request_t *r,
    ngx_http_statsig_cv_t *cv, ngx_str_t *value)
{
    ngx_table_elt_t            *h;
    ngx_http_variable_value_t  *vv;

    vv = &r->variables[cv->index];

    if (vv->valid || vv->not_found) {
        return 0;
    }

    if (cv->source == NGX_HTTP_STATSIG_SRC_REMOTE_ADDR) {
        *value = r->connection->addr_text;
        return 1;
    }

    h = r->headers_in.user_agent;

    if (h == NULL) {
        ngx_str_null(value);
        return 1;
    }

#if (nginx_version >= 1023000)
    if (h->next != NULL) {
        return 0;
    }
#endif

    *value = h->value;

    return 1;
}


/* NGX_OK: a value; NGX_DECLINED: absent */

#if (defined __GNUC__)
__attribute__((always_inline))
#endif
static ngx_inline ngx_int_t
ngx_http_statsig_user_str(ngx_http_request_t *r,
    ngx_http_statsig_cv_t *cv, ngx_http_statsig_srcs_t *s, ngx_str_t *value)
{
    ngx_http_statsig_src_t     *src;
    ngx_http_variable_value_t  *vv;

    if (cv == NULL) {
        return NGX_DECLINED;
    }

    src = &s->src[s->next];

    if (s->next < s->n && src->cv == cv && src->found < 2) {
        s->next++;

        if (!src->found || src->value.len == 0) {
            return NGX_DECLINED;
        }

        *value = src->value;

    } else if (cv->source >= NGX_HTTP_STATSIG_SRC_USER_AGENT
               && cv->checked
               && ngx_http_statsig_user_direct(r, cv, value))
    {
        if (value->len == 0) {
            return NGX_DECLINED;
        }

    } else if (cv->index != NGX_ERROR) {
        if (s->next < s->n && src->cv == cv) {
            s->next++;
        }

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
    ngx_str_t *stable_id, ngx_http_statsig_srcs_t *s)
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
            if (s->next < s->n && s->src[s->next].cv == kv[i].value) {
                s->next++;
            }

            continue;
        }

        rc = ngx_http_statsig_user_str(r, kv[i].value, s, &value);

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
