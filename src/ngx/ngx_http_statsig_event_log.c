
/*
 * ngx_http_statsig_module: statsig_event, custom events at the log phase.
 *
 *   statsig_event NAME [value=V] [KEY=V ...] [if=V]
 *                 [sinks=statsig,customerio,gainsight_px];
 *
 * For each statsig_event of the request's final location, in order: skip
 * it when "if" is empty or "0"; otherwise write the event statsig-node's
 * logEvent() would log (user without privateAttributes, time, value,
 * KEY=V pairs as string metadata) and queue it.  A value that is a JSON
 * number ("12", "-0.5", "1e3") is sent as a number, any other non-empty
 * value as a string, an empty one as null.  It goes to every sink that
 * takes custom events, or to those of sinks= alone.
 */


#include "ngx_http_statsig_request.h"
#include "ngx_http_statsig_events.h"

#include "exposure.h"


static ngx_int_t ngx_http_statsig_event_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_statsig_event_one(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx, ngx_http_statsig_event_t *ev);
static ngx_uint_t ngx_http_statsig_json_number(u_char *p, size_t len);


/* one record buffer per worker, reused by every request */
static statsig_buf_t  ngx_http_statsig_event_record;


ngx_int_t
ngx_http_statsig_event_log_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_statsig_event_log_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_event_log_handler(ngx_http_request_t *r)
{
    ngx_str_t                      cond;
    ngx_uint_t                     i;
    ngx_http_statsig_ctx_t        *ctx;
    ngx_http_statsig_event_t      *ev;
    ngx_http_statsig_loc_conf_t   *slcf;
    ngx_http_statsig_main_conf_t  *smcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    if (slcf->events == NULL) {
        return NGX_OK;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_statsig_module);

    if (smcf->shm_zone == NULL) {
        return NGX_OK;
    }

    ctx = NULL;
    ev = slcf->events->elts;

    for (i = 0; i < slcf->events->nelts; i++) {

        if (ev[i].cond) {
            if (ngx_http_statsig_cv_value(r, ev[i].cond, &cond) != NGX_OK) {
                continue;
            }

            if (cond.len == 0 || (cond.len == 1 && cond.data[0] == '0')) {
                continue;
            }
        }

        if (ctx == NULL) {
            ctx = ngx_http_statsig_ctx(r, 1);

            if (ctx == NULL || ngx_http_statsig_ctx_ready(r, ctx) != NGX_OK)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "statsig: no user for statsig_event \"%V\"",
                              &ev[i].name);
                return NGX_OK;
            }
        }

        (void) ngx_http_statsig_event_one(r, ctx, &ev[i]);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_event_one(ngx_http_request_t *r, ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_event_t *ev)
{
    int                       rc;
    u_char                   *num;
    size_t                    n, i;
    ngx_str_t                 v, record;
    ngx_time_t               *tp;
    statsig_buf_t            *b;
    statsig_str_t            *keys, *values;
    statsig_eval_ctx_t        ectx;
    statsig_event_value_t     value;
    ngx_http_statsig_kv_t    *kv;
    statsig_exposure_opts_t   o;

    ngx_memzero(&value, sizeof(statsig_event_value_t));

    if (ev->value) {
        if (ngx_http_statsig_cv_value(r, ev->value, &v) != NGX_OK) {
            return NGX_ERROR;
        }

        if (v.len && ngx_http_statsig_json_number(v.data, v.len)) {
            num = ngx_pnalloc(r->pool, v.len + 1);
            if (num == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(num, v.data, v.len);
            num[v.len] = '\0';

            value.type = STATSIG_EVENT_VALUE_NUMBER;
            value.num = strtod((char *) num, NULL);

        } else if (v.len) {
            value.type = STATSIG_EVENT_VALUE_STRING;
            value.str.data = (char *) v.data;
            value.str.len = v.len;
        }
    }

    n = ev->metadata ? ev->metadata->nelts : 0;
    keys = NULL;
    values = NULL;

    if (n) {
        keys = ngx_palloc(r->pool, 2 * n * sizeof(statsig_str_t));
        if (keys == NULL) {
            return NGX_ERROR;
        }

        values = keys + n;
        kv = ev->metadata->elts;

        for (i = 0; i < n; i++) {
            if (ngx_http_statsig_cv_value(r, kv[i].value, &v) != NGX_OK) {
                return NGX_ERROR;
            }

            keys[i].data = (char *) kv[i].name.data;
            keys[i].len = kv[i].name.len;
            values[i].data = (char *) v.data;
            values[i].len = v.len;
        }
    }

    /* the writer reads the snapshot's default environment */
    ectx = ctx->eval;

    tp = ngx_timeofday();

    ngx_memzero(&o, sizeof(statsig_exposure_opts_t));
    o.ctx = &ectx;
    o.time = (double) tp->sec * 1000 + tp->msec;
    o.server_time = o.time;

    b = &ngx_http_statsig_event_record;
    b->len = 0;
    b->failed = 0;

    rc = statsig_event_custom(b, &o, (char *) ev->name.data, ev->name.len,
                              &value, keys, values, n);

    if (rc < 0 || b->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "statsig: no memory for the event \"%V\"", &ev->name);
        return NGX_ERROR;
    }

    record.data = (u_char *) b->data;
    record.len = b->len;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig event \"%V\": %V", &ev->name, &record);

    (void) ngx_http_statsig_events_push(r->connection->log,
                                        NGX_HTTP_STATSIG_EV_CUSTOM
                                        | NGX_HTTP_STATSIG_EV_SINKS(
                                                                 ev->sinks),
                                        &record);

    return NGX_OK;
}


/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

static ngx_uint_t
ngx_http_statsig_json_number(u_char *p, size_t len)
{
    u_char  *last;

    last = p + len;

    if (p < last && *p == '-') {
        p++;
    }

    if (p == last) {
        return 0;
    }

    if (*p == '0') {
        p++;

    } else if (*p >= '1' && *p <= '9') {
        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

    } else {
        return 0;
    }

    if (p < last && *p == '.') {
        if (++p == last || *p < '0' || *p > '9') {
            return 0;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < last && (*p == 'e' || *p == 'E')) {
        if (++p < last && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == last || *p < '0' || *p > '9') {
            return 0;
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    return p == last;
}


char *
ngx_http_statsig_event(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    u_char                    *eq;
    ngx_str_t                 *value, key, val;
    ngx_uint_t                 i, j;
    ngx_http_statsig_kv_t     *kv;
    ngx_http_statsig_event_t  *ev;

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    if (value[1].len == 0 || ngx_strlchr(value[1].data,
                                         value[1].data + value[1].len, '='))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid event name \"%V\": the first argument "
                           "of \"statsig_event\" is the event name",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (slcf->events == NULL) {
        slcf->events = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_statsig_event_t));
        if (slcf->events == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ev = ngx_array_push(slcf->events);
    if (ev == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(ev, sizeof(ngx_http_statsig_event_t));

    ev->name = value[1];

    for (i = 2; i < cf->args->nelts; i++) {
        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL || eq == value[i].data) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", expected KEY=VALUE",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        key.data = value[i].data;
        key.len = eq - value[i].data;
        val.data = eq + 1;
        val.len = value[i].data + value[i].len - val.data;

        if (key.len == 5 && ngx_strncmp(key.data, "value", 5) == 0) {
            if (ev->value) {
                goto duplicate;
            }

            ev->value = ngx_http_statsig_compile(cf, &val);
            if (ev->value == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (key.len == 5 && ngx_strncmp(key.data, "sinks", 5) == 0) {
            if (ev->sinks) {
                goto duplicate;
            }

            if (ngx_http_statsig_sinks_mask(cf, &val, &ev->sinks) != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (key.len == 2 && ngx_strncmp(key.data, "if", 2) == 0) {
            if (ev->cond) {
                goto duplicate;
            }

            ev->cond = ngx_http_statsig_compile(cf, &val);
            if (ev->cond == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ev->metadata == NULL) {
            ev->metadata = ngx_array_create(cf->pool, 4,
                                            sizeof(ngx_http_statsig_kv_t));
            if (ev->metadata == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        kv = ev->metadata->elts;

        for (j = 0; j < ev->metadata->nelts; j++) {
            if (kv[j].name.len == key.len
                && ngx_strncmp(kv[j].name.data, key.data, key.len) == 0)
            {
                goto duplicate;
            }
        }

        kv = ngx_array_push(ev->metadata);
        if (kv == NULL) {
            return NGX_CONF_ERROR;
        }

        kv->name = key;
        kv->value = ngx_http_statsig_compile(cf, &val);
        if (kv->value == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;

duplicate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "duplicate parameter \"%V\" in \"statsig_event\"",
                       &key);

    return NGX_CONF_ERROR;
}
