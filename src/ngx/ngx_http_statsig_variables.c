
/*
 * ngx_http_statsig_module: variables.
 *
 *   $statsig_gate_<name>, $statsig_config_<name>, $statsig_experiment_<name>
 *       prefix variables; <name> is the entity name lower-cased with every
 *       character outside [a-z0-9_] written as "_";
 *   $statsig_stable_id;
 *   statsig_gate $var "Exact Name";
 *   statsig_param $var NAME PARAM [default=VALUE];
 *
 * Every handler goes through ngx_http_statsig_evaluate(), the one place
 * where the evaluation core is plugged in.  Until it is, evaluation
 * declines and the variables are "not found" (empty).
 */


#include "ngx_http_statsig_module.h"


typedef struct {
    ngx_str_t                      prefix;
    ngx_uint_t                     kind;
} ngx_http_statsig_prefix_t;


static ngx_int_t ngx_http_statsig_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_statsig_named_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_statsig_stable_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_http_variable_t *ngx_http_statsig_define(ngx_conf_t *cf,
    ngx_str_t *name);
static ngx_int_t ngx_http_statsig_set_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_int_t rc, ngx_str_t *value,
    ngx_http_complex_value_t *deflt);


static ngx_http_statsig_prefix_t  ngx_http_statsig_prefixes[] = {
    { ngx_string("statsig_gate_"), NGX_HTTP_STATSIG_EVAL_GATE },
    { ngx_string("statsig_config_"), NGX_HTTP_STATSIG_EVAL_CONFIG },
    { ngx_string("statsig_experiment_"), NGX_HTTP_STATSIG_EVAL_EXPERIMENT },
    { ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_statsig_stable_id_name =
    ngx_string("statsig_stable_id");


ngx_int_t
ngx_http_statsig_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t        *v;
    ngx_http_statsig_prefix_t  *p;

    for (p = ngx_http_statsig_prefixes; p->prefix.len; p++) {
        v = ngx_http_add_variable(cf, &p->prefix, NGX_HTTP_VAR_PREFIX);
        if (v == NULL) {
            return NGX_ERROR;
        }

        /* nginx passes the full variable name as "data" */
        v->get_handler = ngx_http_statsig_prefix_variable;
    }

    v = ngx_http_add_variable(cf, &ngx_http_statsig_stable_id_name, 0);
    if (v == NULL) {
        return NGX_ERROR;
    }

    v->get_handler = ngx_http_statsig_stable_id_variable;

    return NGX_OK;
}


/*
 * The single seam between the nginx glue and the evaluation core.
 *
 * kind:   NGX_HTTP_STATSIG_EVAL_GATE, _CONFIG, _EXPERIMENT or _PARAM;
 * name:   the entity name: exact (statsig_gate, statsig_param) or the
 *         normalised form of a prefix variable;
 * param:  the parameter name for _PARAM, NULL otherwise.
 *
 * Returns NGX_OK with *value set (allocated from r->pool or static),
 * NGX_DECLINED when there is no answer (no snapshot loaded, unknown entity,
 * missing parameter), NGX_ERROR on failure.
 *
 * No specs snapshot exists yet, so for now it always declines.
 */

ngx_int_t
ngx_http_statsig_evaluate(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *name, ngx_str_t *param, ngx_str_t *value)
{
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig evaluate kind:%ui name:\"%V\" param:\"%V\"",
                   kind, name, param ? param : name);

    return NGX_DECLINED;
}


/* turns an evaluation result into the variable's value */

static ngx_int_t
ngx_http_statsig_set_value(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_int_t rc, ngx_str_t *value,
    ngx_http_complex_value_t *deflt)
{
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        if (deflt == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }

        if (ngx_http_complex_value(r, deflt, value) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    v->len = value->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = value->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *var = (ngx_str_t *) data;

    u_char                     *p, *last;
    ngx_int_t                   rc;
    ngx_str_t                   name, value;
    ngx_http_statsig_prefix_t  *pf;

    /*
     * "data" is the full variable name: find which prefix it carries and
     * normalise the rest as the snapshot's name index does.
     */

    for (pf = ngx_http_statsig_prefixes; pf->prefix.len; pf++) {
        if (var->len > pf->prefix.len
            && ngx_strncasecmp(var->data, pf->prefix.data, pf->prefix.len)
               == 0)
        {
            break;
        }
    }

    if (pf->prefix.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    name.len = var->len - pf->prefix.len;
    name.data = ngx_pnalloc(r->pool, name.len);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    last = var->data + var->len;

    for (p = var->data + pf->prefix.len; p < last; p++) {
        name.data[p - var->data - pf->prefix.len] =
            ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) ? *p
            : (*p >= 'A' && *p <= 'Z') ? (u_char) (*p | 0x20) : '_';
    }

    rc = ngx_http_statsig_evaluate(r, pf->kind, &name, NULL, &value);

    return ngx_http_statsig_set_value(r, v, rc, &value, NULL);
}


static ngx_int_t
ngx_http_statsig_named_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_statsig_var_t *sv = (ngx_http_statsig_var_t *) data;

    ngx_int_t   rc;
    ngx_str_t   value;

    rc = ngx_http_statsig_evaluate(r, sv->kind, &sv->name,
                                   sv->param.len ? &sv->param : NULL,
                                   &value);

    return ngx_http_statsig_set_value(r, v, rc, &value, sv->deflt);
}


static ngx_int_t
ngx_http_statsig_stable_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    /* the stable ID cookie is read and set by a later part of the module */

    v->not_found = 1;

    return NGX_OK;
}


static ngx_http_variable_t *
ngx_http_statsig_define(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_http_variable_t  *v;

    if (name->len < 2 || name->data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable name \"%V\"", name);
        return NULL;
    }

    name->len--;
    name->data++;

    v = ngx_http_add_variable(cf, name, NGX_HTTP_VAR_CHANGEABLE);
    if (v == NULL) {
        return NULL;
    }

    if (v->get_handler) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "variable \"$%V\" is already defined", name);
        return NULL;
    }

    v->get_handler = ngx_http_statsig_named_variable;

    return v;
}


char *
ngx_http_statsig_gate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t               *value;
    ngx_http_variable_t     *v;
    ngx_http_statsig_var_t  *sv;

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    if (value[2].len == 0) {
        return "has an empty gate name";
    }

    sv = ngx_pcalloc(cf->pool, sizeof(ngx_http_statsig_var_t));
    if (sv == NULL) {
        return NGX_CONF_ERROR;
    }

    sv->kind = NGX_HTTP_STATSIG_EVAL_GATE;
    sv->name = value[2];

    v = ngx_http_statsig_define(cf, &value[1]);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    v->data = (uintptr_t) sv;

    return NGX_CONF_OK;
}


char *
ngx_http_statsig_param(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t               *value, s;
    ngx_http_variable_t     *v;
    ngx_http_statsig_var_t  *sv;

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    if (value[2].len == 0 || value[3].len == 0) {
        return "has an empty config or parameter name";
    }

    sv = ngx_pcalloc(cf->pool, sizeof(ngx_http_statsig_var_t));
    if (sv == NULL) {
        return NGX_CONF_ERROR;
    }

    sv->kind = NGX_HTTP_STATSIG_EVAL_PARAM;
    sv->name = value[2];
    sv->param = value[3];

    if (cf->args->nelts == 5) {
        if (ngx_http_statsig_conf_option(cf, &value[4], "default=VALUE", &s)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        sv->deflt = ngx_http_statsig_compile(cf, &s);
        if (sv->deflt == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    v = ngx_http_statsig_define(cf, &value[1]);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    v->data = (uintptr_t) sv;

    return NGX_CONF_OK;
}
