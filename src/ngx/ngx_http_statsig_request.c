
/*
 * ngx_http_statsig_module: the request context.
 *
 * Created on first use, found again after an internal redirect through its
 * pool cleanup (the realip module's trick: ngx_http_internal_redirect()
 * zeroes r->ctx but keeps r->pool), and pinned to the snapshot view it
 * first saw until the request's pool is destroyed.  Subrequests share the
 * main request's pool, so they find the same context: one user, one
 * snapshot, one set of evaluations per client request.
 */


#include "ngx_http_statsig_request.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ngx_http_statsig_poison(p, n)    ASAN_POISON_MEMORY_REGION(p, n)
#define ngx_http_statsig_unpoison(p, n)  ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ngx_http_statsig_poison(p, n)
#define ngx_http_statsig_unpoison(p, n)
#endif


/*
 * A context comes with room for what a request allocates first (its
 * evaluations, the user), and the worker keeps it when the request ends,
 * for the next one.  nginx's own allocations fill the request pool's
 * first blocks, so these would take a block more: a memalign and a free
 * a request.  The room holds 32 evaluations (what a context takes at
 * most at first) and a user of a few kilobytes.  A worker allocates at
 * most NGX_HTTP_STATSIG_KEPT of them (2 MB), as its concurrent requests
 * first need them; past that, and once the room is spent, the request
 * pool serves.
 */
#define NGX_HTTP_STATSIG_ROOM  7168
#define NGX_HTTP_STATSIG_KEPT  256

typedef struct ngx_http_statsig_kept_s  ngx_http_statsig_kept_t;

struct ngx_http_statsig_kept_s {
    ngx_http_statsig_ctx_t     ctx;         /* first: the cleanup's data */
    ngx_http_statsig_kept_t   *next;        /* free */
    u_char                     room[NGX_HTTP_STATSIG_ROOM];
};


static ngx_http_statsig_ctx_t *ngx_http_statsig_ctx_new(
    ngx_http_request_t *r);
static void ngx_http_statsig_ctx_cleanup(void *data);


static ngx_http_statsig_kept_t  *ngx_http_statsig_kept_free;
static ngx_uint_t                ngx_http_statsig_nkept;


/*
 * A context not set in the request's module contexts: one kept across an
 * internal redirect (which clears them) by its pool cleanup, or a new one.
 */

ngx_http_statsig_ctx_t *
ngx_http_statsig_ctx_find(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_statsig_ctx_t  *ctx;

    if (r->internal || r->filter_finalize) {
        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_statsig_ctx_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_statsig_module);
                return ctx;
            }
        }
    }

    if (!create) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ctx = ngx_http_statsig_ctx_new(r);
    if (ctx == NULL) {
        return NULL;
    }

    cln->data = ctx;
    cln->handler = ngx_http_statsig_ctx_cleanup;

    /* room for every statsig variable of the configuration, within reason
     * (ngx_array_push() moves them to the pool past it) */
    ctx->entries.nalloc = ngx_max(4, ngx_min(ngx_http_statsig_nvars, 32));
    ctx->entries.size = sizeof(ngx_http_statsig_entry_t);
    ctx->entries.nelts = 0;
    ctx->entries.pool = r->pool;
    ctx->entries.elts = ngx_http_statsig_alloc(ctx, ctx->entries.nalloc
                                                    * ctx->entries.size);
    if (ctx->entries.elts == NULL) {
        return NULL;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_statsig_module);

    return ctx;
}


/* a kept context, or one from the request pool: zeroed but what is set
 * before it is read (request.h), its room set */
static ngx_http_statsig_ctx_t *
ngx_http_statsig_ctx_new(ngx_http_request_t *r)
{
    ngx_http_statsig_ctx_t   *ctx;
    ngx_http_statsig_kept_t  *k;

    k = ngx_http_statsig_kept_free;

    if (k != NULL) {
        ngx_http_statsig_unpoison(k, sizeof(ngx_http_statsig_kept_t));
        ngx_http_statsig_kept_free = k->next;

    } else if (ngx_http_statsig_nkept < NGX_HTTP_STATSIG_KEPT) {
        k = ngx_alloc(sizeof(ngx_http_statsig_kept_t), r->connection->log);
        if (k != NULL) {
            ngx_http_statsig_nkept++;
        }
    }

    if (k != NULL) {
        ctx = &k->ctx;

        /* the fields before eval are set before they are read */
        ngx_memzero(&ctx->eval, sizeof(ngx_http_statsig_ctx_t)
                                - offsetof(ngx_http_statsig_ctx_t, eval));
        ctx->kept = 1;
        ctx->last = k->room;
        ctx->end = k->room + NGX_HTTP_STATSIG_ROOM;

    } else {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_statsig_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig context %p, kept:%ui", ctx,
                   (ngx_uint_t) ctx->kept);

    ctx->pool = r->pool;
    ctx->fast = (ngx_uint_t) -1;

    return ctx;
}


static void
ngx_http_statsig_ctx_cleanup(void *data)
{
    ngx_http_statsig_ctx_t   *ctx = data;
    ngx_http_statsig_kept_t  *k;

    if (ctx->pinned) {
        ctx->pinned = 0;
        ngx_http_statsig_view_release(&ctx->view);
    }

    if (ctx->kept) {
        k = (ngx_http_statsig_kept_t *) ctx;
        k->next = ngx_http_statsig_kept_free;
        ngx_http_statsig_kept_free = k;

        /* a use after the request is a use of freed memory, as in a pool */
        ngx_http_statsig_poison(&k->ctx, sizeof(ngx_http_statsig_ctx_t));
        ngx_http_statsig_poison(k->room, NGX_HTTP_STATSIG_ROOM);
    }
}


void
ngx_http_statsig_request_exit_worker(void)
{
    ngx_http_statsig_kept_t  *k;

    while (ngx_http_statsig_kept_free) {
        k = ngx_http_statsig_kept_free;
        ngx_http_statsig_unpoison(k, sizeof(ngx_http_statsig_kept_t));
        ngx_http_statsig_kept_free = k->next;
        ngx_free(k);
        ngx_http_statsig_nkept--;
    }
}


/*
 * The request's context made ready, from the first variable it reads (the
 * later ones find it ready inline); NULL on failure.
 */

ngx_http_statsig_ctx_t *
ngx_http_statsig_ctx_start(ngx_http_request_t *r)
{
    ngx_http_statsig_ctx_t  *ctx;

    ctx = ngx_http_statsig_ctx(r, 1);
    if (ctx == NULL) {
        return NULL;
    }

    if (ngx_http_statsig_ctx_ready(r, ctx) != NGX_OK) {
        return NULL;
    }

    return ctx;
}


/*
 * Before the first evaluation: pin the current snapshot and build the
 * user.  A request that started on snapshot N evaluates on N until it
 * ends.  The worker's runtime carries statsig_environment.
 */

ngx_int_t
ngx_http_statsig_ctx_ready(ngx_http_request_t *r, ngx_http_statsig_ctx_t *ctx)
{
    if (ctx->ready) {
        return NGX_OK;
    }

    if (!ctx->pinned) {
        if (ngx_http_statsig_view_acquire(&ctx->view) != NGX_OK) {
            ngx_memzero(&ctx->view, sizeof(ngx_http_statsig_view_t));

        } else {
            ctx->pinned = 1;
        }
    }

    if (ngx_http_statsig_build_user(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->eval.snap = ctx->view.snap;
    ctx->eval.idlists = ctx->view.idlists;
    ctx->eval.user = &ctx->user;
    /* the rest of ctx->eval starts zeroed, as the core wants */
    ctx->eval.rt = ngx_http_statsig_runtime();

    ctx->ready = 1;
    ctx->evaluable = (ctx->eval.snap != NULL && ctx->eval.rt != NULL);

    if (ctx->evaluable) {
        ctx->fast = ctx->view.generation;
    }

    return NGX_OK;
}


/* the search, when the spec's bit says the request may have its entry */

ngx_http_statsig_entry_t *
ngx_http_statsig_entry_find(ngx_http_statsig_ctx_t *ctx, statsig_kind_e kind,
    const statsig_spec_t *spec, ngx_str_t *name, ngx_str_t *param,
    uint64_t bit)
{
    size_t                     plen;
    ngx_uint_t                 i;
    ngx_http_statsig_entry_t  *e;

    plen = param ? param->len : 0;
    e = ctx->entries.elts;

    for (i = 0; i < ctx->entries.nelts; i++) {
        if (e[i].kind != kind || e[i].spec != spec || e[i].param.len != plen)
        {
            continue;
        }

        if (plen && ngx_strncmp(e[i].param.data, param->data, plen) != 0) {
            continue;
        }

        if (spec == NULL
            && (e[i].name.len != name->len
                || ngx_strncmp(e[i].name.data, name->data, name->len) != 0))
        {
            continue;
        }

        return &e[i];
    }

    return ngx_http_statsig_entry_add(ctx, kind, spec, name, param, bit);
}


ngx_http_statsig_entry_t *
ngx_http_statsig_entry_add(ngx_http_statsig_ctx_t *ctx, statsig_kind_e kind,
    const statsig_spec_t *spec, ngx_str_t *name, ngx_str_t *param,
    uint64_t bit)
{
    ngx_http_statsig_entry_t  *e;

    /* the context made room for every variable: no call but past it */
    if (ctx->entries.nelts < ctx->entries.nalloc) {
        e = (ngx_http_statsig_entry_t *) ctx->entries.elts
            + ctx->entries.nelts++;

    } else {
        e = ngx_array_push(&ctx->entries);
        if (e == NULL) {
            return NULL;
        }
    }

    ngx_http_statsig_entry_init(ctx, e, kind, spec, name, bit);

    if (param != NULL && param->len) {
        e->param = *param;
    }

    return e;
}
