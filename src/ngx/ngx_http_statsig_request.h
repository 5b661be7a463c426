
/*
 * ngx_http_statsig_module: per-request state.
 *
 * A request's Statsig state lives in one context, created on first use
 * (a variable read, the stable ID cookie filter).  It holds the user built
 * from the statsig_user_* directives, the snapshot view pinned for the
 * whole request, the stable ID, and every evaluation made so far, so that
 * each gate, config, experiment and layer parameter is evaluated and
 * exposed at most once per request.  It survives internal redirects
 * (error_page, try_files, named locations): see ngx_http_statsig_ctx().
 */


#ifndef _NGX_HTTP_STATSIG_REQUEST_H_INCLUDED_
#define _NGX_HTTP_STATSIG_REQUEST_H_INCLUDED_


#include "ngx_http_statsig_conf.h"

#include "statsig.h"

#include "ngx_http_statsig_snapshot.h"


/* or'ed into the kind: the name is a prefix variable's normalised name */
#define NGX_HTTP_STATSIG_EVAL_BY_VAR      0x100

/* user field values longer than this are treated as absent */
#define NGX_HTTP_STATSIG_MAX_FIELD        4096


/* one evaluation of the request */
typedef struct {
    statsig_kind_e                 kind;
    const statsig_spec_t          *spec;     /* NULL: unrecognized */
    ngx_str_t                      name;     /* as asked, when no spec */
    ngx_str_t                      param;    /* layer parameter exposures */
    statsig_result_t               result;
    /* its dedupe bucket, from the prefetch, for the user part below */
    uint64_t                       dedupe_user;
    uint32_t                       dedupe_bucket;
    unsigned                       evaluated:1;
    unsigned                       exposed:1;
    unsigned                       dedupe_set:1;
} ngx_http_statsig_entry_t;


typedef struct {
    /* set before they are read (view and user: by ctx_ready()) */
    ngx_http_statsig_view_t        view;
    statsig_value_t                user;
    ngx_array_t                    entries;  /* ngx_http_statsig_entry_t */
    ngx_pool_t                    *pool;         /* the request's */
    u_char                        *last;         /* the context's room */
    u_char                        *end;

    /*
     * the pinned generation once the context can evaluate, else -1 (a
     * variable's fast is a generation or 0)
     */
    ngx_uint_t                     fast;

    /* from here on zeroed when the context is made */
    statsig_eval_ctx_t             eval;
    uint64_t                       entry_specs;  /* their specs, a bit each */

    ngx_str_t                      stable_id;
    ngx_http_statsig_loc_conf_t   *cookie_conf;  /* set the cookie by it */

    ngx_uint_t                     exposures;    /* records produced */
    void                          *exposure_cache;  /* exposure.c's */

    unsigned                       kept:1;       /* a worker's, reused */
    unsigned                       ready:1;      /* view + user */
    unsigned                       evaluable:1;  /* ready, a snapshot */
    unsigned                       pinned:1;
    unsigned                       stable_id_done:1;
    unsigned                       stable_id_new:1;
    unsigned                       cookie_sent:1;
} ngx_http_statsig_ctx_t;


/* ngx_http_statsig_request.c */
ngx_http_statsig_ctx_t *ngx_http_statsig_ctx_find(ngx_http_request_t *r,
    ngx_uint_t create);
ngx_int_t ngx_http_statsig_ctx_ready(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx);
void ngx_http_statsig_request_exit_worker(void);
ngx_http_statsig_ctx_t *ngx_http_statsig_ctx_start(ngx_http_request_t *r);
ngx_http_statsig_entry_t *ngx_http_statsig_entry_find(
    ngx_http_statsig_ctx_t *ctx, statsig_kind_e kind,
    const statsig_spec_t *spec, ngx_str_t *name, ngx_str_t *param,
    uint64_t bit);
ngx_http_statsig_entry_t *ngx_http_statsig_entry_add(
    ngx_http_statsig_ctx_t *ctx, statsig_kind_e kind,
    const statsig_spec_t *spec, ngx_str_t *name, ngx_str_t *param,
    uint64_t bit);


/* the request's context, made when create is set: read for every
 * variable, so the common case is inline */
static ngx_inline ngx_http_statsig_ctx_t *
ngx_http_statsig_ctx(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_http_statsig_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_statsig_module);

    return (ctx != NULL) ? ctx : ngx_http_statsig_ctx_find(r, create);
}


/*
 * Request-long memory: the context's room first, then the request pool.
 * Inline: the user takes a few pieces of it per request.
 */
static ngx_inline void *
ngx_http_statsig_alloc(ngx_http_statsig_ctx_t *ctx, size_t size)
{
    u_char  *p;

    if (ctx->last != NULL) {
        p = ngx_align_ptr(ctx->last, NGX_ALIGNMENT);

        if (p <= ctx->end && (size_t) (ctx->end - p) >= size) {
            ctx->last = p + size;
            return p;
        }
    }

    return ngx_palloc(ctx->pool, size);
}


/*
 * The request's entry for one entity (and layer parameter): found, or
 * added with its kind, spec, name and parameter.  Entries are few (the
 * variables one request reads): a linear search, when it may find one.
 *
 * A bit of the request's entries' specs: a spec whose bit is clear has
 * no entry yet, and the search (one compare per variable read before) is
 * skipped.  Unknown entities (no spec) have no bit and are always
 * searched.  The bit is the spec's ordinal in its kind's array, the kinds
 * apart by 21: up to 21 specs of each kind, a location's variables read
 * in one request have bits of their own, whatever the snapshot's layout
 * (an address hash made two share one, and each request search).
 */
static ngx_inline uint64_t
ngx_http_statsig_entry_spec_bit(const statsig_snapshot_t *snap,
    statsig_kind_e kind, const statsig_spec_t *spec)
{
    if (spec == NULL) {
        return 0;
    }

    return (uint64_t) 1 << ((statsig_spec_ordinal(snap, spec) + 21 * kind)
                            & 63);
}


/* a new entry e of ctx (no parameter yet) */
static ngx_inline void
ngx_http_statsig_entry_init(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_entry_t *e, statsig_kind_e kind,
    const statsig_spec_t *spec, ngx_str_t *name, uint64_t bit)
{
    ctx->entry_specs |= bit;

    /* the result is written by its evaluation before it is read */
    e->kind = kind;
    e->spec = spec;
    e->name = *name;
    e->evaluated = 0;
    e->exposed = 0;
    e->dedupe_set = 0;
    ngx_str_null(&e->param);
}


/* e's spec evaluated for the context's user, its result kept in e */
static ngx_inline void
ngx_http_statsig_entry_eval(ngx_http_statsig_ctx_t *ctx,
    ngx_http_statsig_entry_t *e)
{
    statsig_eval_begin(&ctx->eval);
    statsig_eval_spec(&ctx->eval, e->spec, &e->result);
    e->evaluated = 1;
}


/* the same, the bit of spec and kind known */
static ngx_inline ngx_http_statsig_entry_t *
ngx_http_statsig_entry_bit(ngx_http_statsig_ctx_t *ctx, statsig_kind_e kind,
    const statsig_spec_t *spec, ngx_str_t *name, ngx_str_t *param,
    uint64_t bit)
{
    ngx_http_statsig_entry_t  *e;

    if (spec != NULL && !(ctx->entry_specs & bit)) {

        /* a new entry in the room the context made for every variable */
        if (param == NULL && ctx->entries.nelts < ctx->entries.nalloc) {
            e = (ngx_http_statsig_entry_t *) ctx->entries.elts
                + ctx->entries.nelts++;

            ngx_http_statsig_entry_init(ctx, e, kind, spec, name, bit);

            return e;
        }

        return ngx_http_statsig_entry_add(ctx, kind, spec, name, param, bit);
    }

    return ngx_http_statsig_entry_find(ctx, kind, spec, name, param, bit);
}


static ngx_inline ngx_http_statsig_entry_t *
ngx_http_statsig_entry(ngx_http_statsig_ctx_t *ctx, statsig_kind_e kind,
    const statsig_spec_t *spec, ngx_str_t *name, ngx_str_t *param)
{
    return ngx_http_statsig_entry_bit(ctx, kind, spec, name, param,
               ngx_http_statsig_entry_spec_bit(ctx->eval.snap, kind, spec));
}


/* ngx_http_statsig_user.c */
ngx_int_t ngx_http_statsig_build_user(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx);

/* ngx_http_statsig_cookie.c */
ngx_int_t ngx_http_statsig_stable_id(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx);
ngx_int_t ngx_http_statsig_cookie_init(ngx_conf_t *cf);

/* ngx_http_statsig_exposure.c */
ngx_int_t ngx_http_statsig_expose(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx, ngx_http_statsig_entry_t *e,
    ngx_str_t *name);
void ngx_http_statsig_exposure_prefetch(ngx_http_request_t *r,
    ngx_http_statsig_ctx_t *ctx, ngx_http_statsig_entry_t *e,
    ngx_str_t *name);


/* ngx_http_statsig_variables.c */
ngx_int_t ngx_http_statsig_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_statsig_variables_init_worker(ngx_cycle_t *cycle);

/* the worker's statsig variables (a request's entries at most, mostly) */
extern ngx_uint_t  ngx_http_statsig_nvars;
char *ngx_http_statsig_gate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_statsig_param(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ngx_http_statsig_user.c: statsig_user_id, _field, _custom, ... */
char *ngx_http_statsig_user_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_statsig_user_field(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_statsig_user_pairs(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_statsig_cookie.c */
char *ngx_http_statsig_stable_id_cookie(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_statsig_event_log.c */
ngx_int_t ngx_http_statsig_event_log_init(ngx_conf_t *cf);
char *ngx_http_statsig_event(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ngx_http_statsig_status.c, _api.c, _mcp.c, _ofrep.c */
char *ngx_http_statsig_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_statsig_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_statsig_mcp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_statsig_ofrep(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* ngx_http_statsig_api_client.c */
char *ngx_http_statsig_client_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_statsig_cors_origins(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_statsig_api_client_exit(ngx_http_statsig_main_conf_t *smcf);


#endif /* _NGX_HTTP_STATSIG_REQUEST_H_INCLUDED_ */
