
/*
 * ngx_http_statsig_module: variables.
 *
 *   $statsig_gate_<name>, $statsig_config_<name>, $statsig_experiment_<name>
 *       prefix variables; <name> is the entity name lower-cased with every
 *       character outside [a-z0-9_] written as "_";
 *   $statsig_stable_id;
 *   $statsig_exposure_count   exposure records this request produced so far;
 *   statsig_gate $var "Exact Name";
 *   statsig_param $var NAME PARAM [default=VALUE];
 *
 * Every handler goes through ngx_http_statsig_evaluate(), the one place
 * where the evaluation core is plugged in.  Variables are lazy (nothing is
 * evaluated until something reads them) and cacheable; besides, each
 * entity is evaluated once per request whatever the variables that read
 * it (ngx_http_statsig_entry()), on the snapshot the request pinned.
 */


#include "ngx_http_statsig_request.h"

#include "hash.h"


/* what a variable asks the evaluator for */
#define NGX_HTTP_STATSIG_EVAL_GATE        0
#define NGX_HTTP_STATSIG_EVAL_CONFIG      1
#define NGX_HTTP_STATSIG_EVAL_EXPERIMENT  2
#define NGX_HTTP_STATSIG_EVAL_PARAM       3


/*
 * statsig_gate $var NAME; statsig_param $var NAME PARAM [default=V]; and,
 * from init_worker on, each indexed prefix variable.  The spec it names is
 * remembered per snapshot generation (a later snapshot may reuse an
 * earlier one's address): configuration memory is the worker's own after
 * the fork, and the lookup then costs one compare a request.
 */
typedef struct {
    ngx_uint_t                     kind;    /* with EVAL_BY_VAR */
    ngx_str_t                      name;
    ngx_str_t                      param;
    ngx_http_statsig_cv_t         *deflt;
    ngx_uint_t                     generation;
    const statsig_spec_t          *spec;
    statsig_kind_e                 sk;
    uint64_t                       entry_bit;  /* of spec and sk */

    /*
     * the generation when a gate's or parameter's spec is known in it,
     * else 0: equal to the context's fast (see request.h), the variable
     * takes ngx_http_statsig_named_variable()'s short way
     */
    ngx_uint_t                     fast;

    /*
     * statsig_param: the parameter's text in the config value that
     * answered last, for that value and generation (a rule answers for
     * many users)
     */
    ngx_uint_t                     param_generation;
    uint32_t                       param_json;
    ngx_int_t                      param_rc;
    ngx_str_t                      param_value;
} ngx_http_statsig_var_t;


/*
 * A prefix variable's handler: nginx passes the variable's full name as
 * its data, so each prefix has its own handler, which knows its kind.
 */
typedef struct {
    ngx_str_t                      prefix;
    ngx_http_get_variable_pt       handler;
    ngx_uint_t                     kind;
} ngx_http_statsig_prefix_t;


static ngx_int_t ngx_http_statsig_evaluate(ngx_http_request_t *r,
    ngx_http_statsig_var_t *sv, ngx_http_variable_value_t *v);


static ngx_int_t ngx_http_statsig_gate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_statsig_config_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_statsig_experiment_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_statsig_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_str_t *var, size_t skip,
    ngx_uint_t kind);
static ngx_int_t ngx_http_statsig_named_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_statsig_stable_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_statsig_exposure_count_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_statsig_find(const statsig_snapshot_t *snap,
    ngx_http_statsig_var_t *sv);
static ngx_int_t ngx_http_statsig_run(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx, ngx_http_statsig_entry_t *e,
    ngx_str_t *name, ngx_uint_t expose);
static ngx_int_t ngx_http_statsig_param_value(const statsig_snapshot_t *snap,
    statsig_result_t *res, ngx_str_t *param, ngx_str_t *value);
static void ngx_http_statsig_unknown(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *name);
static ngx_http_variable_t *ngx_http_statsig_define(ngx_conf_t *cf,
    ngx_str_t *name);
static ngx_int_t ngx_http_statsig_declined(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_http_statsig_cv_t *deflt);


static ngx_http_statsig_prefix_t  ngx_http_statsig_prefixes[] = {
    { ngx_string("statsig_gate_"), ngx_http_statsig_gate_variable,
      NGX_HTTP_STATSIG_EVAL_GATE },
    { ngx_string("statsig_config_"), ngx_http_statsig_config_variable,
      NGX_HTTP_STATSIG_EVAL_CONFIG },
    { ngx_string("statsig_experiment_"),
      ngx_http_statsig_experiment_variable,
      NGX_HTTP_STATSIG_EVAL_EXPERIMENT },
    { ngx_null_string, NULL, 0 }
};


static ngx_str_t  ngx_http_statsig_stable_id_name =
    ngx_string("statsig_stable_id");
static ngx_str_t  ngx_http_statsig_exposure_count_name =
    ngx_string("statsig_exposure_count");

static ngx_str_t  ngx_http_statsig_false = ngx_string("0");

/* a gate's two values, set whole (not field by field) */
static ngx_http_variable_value_t  ngx_http_statsig_gate_values[] = {
    ngx_http_variable("0"),
    ngx_http_variable("1")
};

static char  *ngx_http_statsig_kind_names[] = {
    "gate", "config", "experiment", "config or layer"
};

/* names already warned about in this worker (hashes), bounded */
#define NGX_HTTP_STATSIG_WARNED  64
static uint32_t    ngx_http_statsig_warned[NGX_HTTP_STATSIG_WARNED];
static ngx_uint_t  ngx_http_statsig_nwarned;

ngx_uint_t  ngx_http_statsig_nvars;


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

        v->get_handler = p->handler;
    }

    v = ngx_http_add_variable(cf, &ngx_http_statsig_stable_id_name, 0);
    if (v == NULL) {
        return NGX_ERROR;
    }

    v->get_handler = ngx_http_statsig_stable_id_variable;

    /* changes while the request evaluates more */
    v = ngx_http_add_variable(cf, &ngx_http_statsig_exposure_count_name,
                              NGX_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return NGX_ERROR;
    }

    v->get_handler = ngx_http_statsig_exposure_count_variable;

    return NGX_OK;
}


/* a variable's value: static, or inside the pinned snapshot */
static ngx_inline ngx_int_t
ngx_http_statsig_set(ngx_http_variable_value_t *v, u_char *data, size_t len)
{
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = data;

    return NGX_OK;
}


/*
 * A parameter's value from its entry's result: its text remembered for
 * the config value and snapshot generation that answered last.
 */
static ngx_inline ngx_int_t
ngx_http_statsig_param_set(ngx_http_request_t *r, ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_var_t *sv, ngx_http_statsig_entry_t *e,
    ngx_http_variable_value_t *v)
{
    if (sv->param_generation != ctx->view.generation
        || sv->param_json != e->result.json_value)
    {
        sv->param_rc = ngx_http_statsig_param_value(ctx->eval.snap,
                                                    &e->result,
                                                    sv->param.len
                                                    ? &sv->param : NULL,
                                                    &sv->param_value);
        sv->param_json = e->result.json_value;
        sv->param_generation = ctx->view.generation;
    }

    if (sv->param_rc != NGX_OK) {
        return ngx_http_statsig_declined(r, v, sv->deflt);
    }

    return ngx_http_statsig_set(v, sv->param_value.data, sv->param_value.len);
}


/*
 * The single seam between the nginx glue and the evaluation core.  sv says
 * what to evaluate:
 *
 * kind:   NGX_HTTP_STATSIG_EVAL_GATE, _CONFIG, _EXPERIMENT or _PARAM, or'ed
 *         with NGX_HTTP_STATSIG_EVAL_BY_VAR when name is the normalised
 *         name of a prefix variable (first match in DCS order);
 * name:   the entity name: exact (statsig_gate, statsig_param) or the
 *         normalised form of a prefix variable;
 * param:  the parameter name for _PARAM (a dynamic config or experiment of
 *         that name first, else a layer), empty otherwise.
 *
 * deflt:  the value when there is no answer (statsig_param's default=),
 *         else the variable is not found.
 *
 * Sets the variable's value and returns NGX_OK, or NGX_ERROR on failure.
 * There is no answer for an unknown config, a missing or null parameter,
 * or when no snapshot is loaded.  A gate always has an answer: "0" when no
 * snapshot is loaded or the gate is unknown (with a warning, once per
 * worker and name).  The variable handlers call it as their tail: it is
 * the one frame a variable takes in the module.
 */

static ngx_int_t
ngx_http_statsig_evaluate(ngx_http_request_t *r, ngx_http_statsig_var_t *sv,
    ngx_http_variable_value_t *v)
{
    ngx_str_t                    *name, *param, value;
    ngx_uint_t                    kind, expose;
    statsig_kind_e                sk;
    const statsig_spec_t         *spec;
    const statsig_snapshot_t     *snap;
    ngx_http_statsig_ctx_t       *ctx;
    ngx_http_statsig_entry_t     *e, *pe;
    ngx_http_statsig_loc_conf_t  *slcf;

    kind = sv->kind & ~NGX_HTTP_STATSIG_EVAL_BY_VAR;
    name = &sv->name;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig evaluate kind:%ui name:\"%V\" param:\"%V\"",
                   kind, name, sv->param.len ? &sv->param : name);

    /* after the request's first variable: a context that can evaluate */
    ctx = ngx_http_get_module_ctx(r, ngx_http_statsig_module);

    if (ctx == NULL || !ctx->evaluable) {
        if (ctx == NULL || !ctx->ready) {
            ctx = ngx_http_statsig_ctx_start(r);
            if (ctx == NULL) {
                return NGX_ERROR;
            }
        }

        if (ctx->eval.snap == NULL || ctx->eval.rt == NULL) {
            /* no snapshot loaded (or no runtime) */
            if (kind == NGX_HTTP_STATSIG_EVAL_GATE) {
                return ngx_http_statsig_set(v, ngx_http_statsig_false.data,
                                            1);
            }

            return ngx_http_statsig_declined(r, v, sv->deflt);
        }
    }

    snap = ctx->eval.snap;

    /* a loaded snapshot's generation is never 0, a new variable's is */
    if (sv->generation != ctx->view.generation) {
        ngx_http_statsig_find(snap, sv);
        sv->generation = ctx->view.generation;
        sv->fast = (sv->spec != NULL
                    && (kind == NGX_HTTP_STATSIG_EVAL_GATE
                        || kind == NGX_HTTP_STATSIG_EVAL_PARAM))
                   ? sv->generation : 0;
    }

    spec = sv->spec;
    sk = sv->sk;

    if (spec == NULL) {
        ngx_http_statsig_unknown(r, kind, name);

        if (kind != NGX_HTTP_STATSIG_EVAL_GATE) {
            return ngx_http_statsig_declined(r, v, sv->deflt);
        }

        /* statsig-node logs an exposure for an unrecognized gate too */
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    e = ngx_http_statsig_entry_bit(ctx, sk, spec, name, NULL, sv->entry_bit);
    if (e == NULL) {
        return NGX_ERROR;
    }

    /* a layer logs nothing by itself, only its parameters do */
    expose = slcf->exposures && sk != STATSIG_KIND_LAYER;

    if (!expose) {
        /* evaluated once a request, without a frame for the exposure */
        if (!e->evaluated) {
            ngx_http_statsig_entry_eval(ctx, e);
        }

    } else if (!e->evaluated || !e->exposed) {
        if (ngx_http_statsig_run(r, ctx, e, name, 1) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    switch (kind) {

    case NGX_HTTP_STATSIG_EVAL_GATE:
        *v = ngx_http_statsig_gate_values[e->result.value];
        return NGX_OK;

    case NGX_HTTP_STATSIG_EVAL_CONFIG:
        /* json_value 0 is the core's {} (a boolean or absent value) */
        value.data = (u_char *) statsig_json_text(snap,
                                                  e->result.json_value).data;
        value.len = statsig_json_text(snap, e->result.json_value).len;
        return ngx_http_statsig_set(v, value.data, value.len);

    case NGX_HTTP_STATSIG_EVAL_EXPERIMENT:
        if (e->result.has_group_name) {
            return ngx_http_statsig_set(v,
                                        (u_char *) e->result.group_name.data,
                                        e->result.group_name.len);
        }

        return ngx_http_statsig_set(v, NULL, 0);
    }

    /* NGX_HTTP_STATSIG_EVAL_PARAM */

    param = sv->param.len ? &sv->param : NULL;

    if (sk == STATSIG_KIND_LAYER && slcf->exposures) {
        pe = ngx_http_statsig_entry(ctx, sk, spec, name, param);
        if (pe == NULL) {
            return NGX_ERROR;
        }

        if (!pe->exposed && ngx_http_statsig_run(r, ctx, pe, name, 1)
                            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_statsig_param_set(r, ctx, sv, e, v);
}


/*
 * The spec a variable names in this snapshot, into sv->spec and sv->sk;
 * once a generation, not inline.
 */

#if (defined __GNUC__)
__attribute__((noinline))
#endif
static void
ngx_http_statsig_find(const statsig_snapshot_t *snap,
    ngx_http_statsig_var_t *sv)
{
    char            *name;
    size_t           len;
    ngx_uint_t       kind;
    statsig_kind_e   sk;

    kind = sv->kind & ~NGX_HTTP_STATSIG_EVAL_BY_VAR;
    name = (char *) sv->name.data;
    len = sv->name.len;

    sk = (kind == NGX_HTTP_STATSIG_EVAL_GATE) ? STATSIG_KIND_GATE
                                              : STATSIG_KIND_CONFIG;

    sv->spec = (sv->kind & NGX_HTTP_STATSIG_EVAL_BY_VAR)
               ? statsig_spec_find_var(snap, sk, name, len)
               : statsig_spec_find(snap, sk, name, len);

    if (sv->spec == NULL && kind == NGX_HTTP_STATSIG_EVAL_PARAM) {
        sk = STATSIG_KIND_LAYER;
        sv->spec = statsig_spec_find(snap, sk, name, len);
    }

    sv->sk = sk;
    sv->entry_bit = ngx_http_statsig_entry_spec_bit(snap, sk, sv->spec);
}


/*
 * Evaluates an entry the first time, and again when it is to be exposed
 * and was not yet (its secondary exposures are only valid right after an
 * evaluation).
 */

static ngx_int_t
ngx_http_statsig_run(ngx_http_request_t *r, ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_entry_t *e, ngx_str_t *name, ngx_uint_t expose)
{
    ngx_str_t      ename;
    statsig_str_t  s;

    if (e->evaluated && (e->exposed || !expose)) {
        return NGX_OK;
    }

    if (expose) {
        if (e->spec) {
            s = statsig_spec_name(ctx->eval.snap, e->spec);
            ename.data = (u_char *) s.data;
            ename.len = s.len;

        } else {
            ename = *name;
        }

        ngx_http_statsig_exposure_prefetch(r, ctx, e, &ename);
    }

    ngx_http_statsig_entry_eval(ctx, e);

    if (!expose) {
        return NGX_OK;
    }

    return ngx_http_statsig_expose(r, ctx, e, &ename);
}


/*
 * A parameter as text: strings as they are, numbers and booleans as JSON,
 * objects and arrays as compact JSON; absent or null declines.
 */

static ngx_int_t
ngx_http_statsig_param_value(const statsig_snapshot_t *snap,
    statsig_result_t *res, ngx_str_t *param, ngx_str_t *value)
{
    uint32_t       node;
    statsig_str_t  s;

    if (res->json_value == 0 || param == NULL) {
        return NGX_DECLINED;
    }

    node = statsig_json_object_get(snap, res->json_value,
                                   (char *) param->data, param->len);
    if (node == 0) {
        return NGX_DECLINED;
    }

    switch (statsig_json_type(snap, node)) {

    case STATSIG_JSON_NULL:
        return NGX_DECLINED;

    case STATSIG_JSON_STRING:
        s = statsig_json_string(snap, node);
        break;

    default:
        s = statsig_json_text(snap, node);
        break;
    }

    value->data = (u_char *) s.data;
    value->len = s.len;

    return NGX_OK;
}


/*
 * An entity in no snapshot: a warning once per worker and name.  Not
 * inline: the address of kind it takes would give every variable's frame
 * a stack check.
 */

#if (defined __GNUC__)
__attribute__((noinline))
#endif
static void
ngx_http_statsig_unknown(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *name)
{
    uint32_t    h;
    ngx_uint_t  i;

    ngx_crc32_init(h);
    ngx_crc32_update(&h, (u_char *) &kind, sizeof(ngx_uint_t));
    ngx_crc32_update(&h, name->data, name->len);
    ngx_crc32_final(h);

    for (i = 0; i < ngx_http_statsig_nwarned; i++) {
        if (ngx_http_statsig_warned[i] == h) {
            return;
        }
    }

    if (ngx_http_statsig_nwarned == NGX_HTTP_STATSIG_WARNED) {
        return;
    }

    ngx_http_statsig_warned[ngx_http_statsig_nwarned++] = h;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "statsig: no %s \"%V\" in the specs, %s",
                  ngx_http_statsig_kind_names[kind], name,
                  kind == NGX_HTTP_STATSIG_EVAL_GATE ? "it is off"
                                                      : "the value is empty");
}


/* no answer: the variable's default, or not found; apart, as unknown() */

#if (defined __GNUC__)
__attribute__((noinline))
#endif
static ngx_int_t
ngx_http_statsig_declined(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_http_statsig_cv_t *deflt)
{
    ngx_str_t  value;

    if (deflt == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ngx_http_statsig_cv_value(r, deflt, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_statsig_set(v, value.data, value.len);
}


static ngx_int_t
ngx_http_statsig_gate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_statsig_prefix_variable(r, v, (ngx_str_t *) data,
                                            sizeof("statsig_gate_") - 1,
                                            NGX_HTTP_STATSIG_EVAL_GATE);
}


static ngx_int_t
ngx_http_statsig_config_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_statsig_prefix_variable(r, v, (ngx_str_t *) data,
                                            sizeof("statsig_config_") - 1,
                                            NGX_HTTP_STATSIG_EVAL_CONFIG);
}


static ngx_int_t
ngx_http_statsig_experiment_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_statsig_prefix_variable(r, v, (ngx_str_t *) data,
                                            sizeof("statsig_experiment_") - 1,
                                            NGX_HTTP_STATSIG_EVAL_EXPERIMENT);
}


/*
 * A prefix variable as the others: var is its full name, skip its prefix's
 * length; the rest is normalised as the snapshot's name index does.  NULL
 * when nothing follows the prefix (or no memory).
 */

static ngx_http_statsig_var_t *
ngx_http_statsig_prefix_var(ngx_pool_t *pool, ngx_str_t *var, size_t skip,
    ngx_uint_t kind)
{
    u_char                  *p, *last, *d;
    ngx_http_statsig_var_t  *sv;

    if (var->len <= skip) {
        return NULL;
    }

    sv = ngx_pcalloc(pool, sizeof(ngx_http_statsig_var_t));
    if (sv == NULL) {
        return NULL;
    }

    sv->kind = kind | NGX_HTTP_STATSIG_EVAL_BY_VAR;
    sv->name.len = var->len - skip;
    sv->name.data = ngx_pnalloc(pool, sv->name.len);
    if (sv->name.data == NULL) {
        return NULL;
    }

    last = var->data + var->len;
    d = sv->name.data;

    for (p = var->data + skip; p < last; p++) {
        *d++ = ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) ? *p
               : (*p >= 'A' && *p <= 'Z') ? (u_char) (*p | 0x20) : '_';
    }

    return sv;
}


/*
 * Read by name (ngx_http_get_variable(), as njs or SSI do) rather than by
 * index: normalised and looked up at every read.
 */

static ngx_int_t
ngx_http_statsig_prefix_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, ngx_str_t *var, size_t skip,
    ngx_uint_t kind)
{
    ngx_http_statsig_var_t  *sv;

    if (var->len <= skip) {
        v->not_found = 1;
        return NGX_OK;
    }

    sv = ngx_http_statsig_prefix_var(r->pool, var, skip, kind);
    if (sv == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_statsig_evaluate(r, sv, v);
}


/*
 * In a worker, the indexed prefix variables become named ones: their name
 * normalised once, their spec remembered per snapshot generation.
 */

ngx_int_t
ngx_http_statsig_variables_init_worker(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_http_variable_t        *v;
    ngx_http_statsig_var_t     *sv;
    ngx_http_statsig_prefix_t  *p;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module);
    if (cmcf == NULL) {
        return NGX_OK;
    }

    v = cmcf->variables.elts;
    ngx_http_statsig_nvars = 0;

    for (i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].get_handler == ngx_http_statsig_named_variable) {
            ngx_http_statsig_nvars++;
            continue;
        }

        for (p = ngx_http_statsig_prefixes; p->prefix.len; p++) {
            if (v[i].get_handler != p->handler) {
                continue;
            }

            sv = ngx_http_statsig_prefix_var(cycle->pool, &v[i].name,
                                             p->prefix.len, p->kind);
            if (sv != NULL) {
                v[i].get_handler = ngx_http_statsig_named_variable;
                v[i].data = (uintptr_t) sv;
                ngx_http_statsig_nvars++;
            }

            break;
        }
    }

    return NGX_OK;
}


/*
 * Most variables are gates and parameters read once a request by a
 * context that can evaluate, their spec known in its generation, with no
 * exposure: that case is done here, in a small frame; the others go to
 * ngx_http_statsig_evaluate().
 */

static ngx_int_t
ngx_http_statsig_named_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_statsig_var_t *sv = (ngx_http_statsig_var_t *) data;

    ngx_http_statsig_ctx_t       *ctx;
    ngx_http_statsig_entry_t     *e;
    ngx_http_statsig_loc_conf_t  *slcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_statsig_module);

    if (ctx == NULL || ctx->fast != sv->fast) {
        return ngx_http_statsig_evaluate(r, sv, v);
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_statsig_module);

    if (slcf->exposures) {
        return ngx_http_statsig_evaluate(r, sv, v);
    }

    e = ngx_http_statsig_entry_bit(ctx, sv->sk, sv->spec, &sv->name, NULL,
                                   sv->entry_bit);
    if (e == NULL) {
        return NGX_ERROR;
    }

    if (!e->evaluated) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig evaluate \"%V\"", &sv->name);

        ngx_http_statsig_entry_eval(ctx, e);
    }

    if ((sv->kind & ~NGX_HTTP_STATSIG_EVAL_BY_VAR)
        == NGX_HTTP_STATSIG_EVAL_GATE)
    {
        *v = ngx_http_statsig_gate_values[e->result.value];
        return NGX_OK;
    }

    return ngx_http_statsig_param_set(r, ctx, sv, e, v);
}


static ngx_int_t
ngx_http_statsig_stable_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_statsig_ctx_t  *ctx;

    ctx = ngx_http_statsig_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_statsig_stable_id(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->stable_id.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ctx->stable_id.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = ctx->stable_id.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_statsig_exposure_count_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                  *p;
    ngx_http_statsig_ctx_t  *ctx;

    ctx = ngx_http_statsig_ctx(r, 0);

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%ui", ctx ? ctx->exposures : 0) - p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = p;

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
