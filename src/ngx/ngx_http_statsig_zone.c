
/*
 * ngx_http_statsig_module: the shared memory zone (statsig_zone).
 *
 * One zone per nginx instance.  It starts with ngx_http_statsig_shctx_t
 * (magic, layout version, header size).  On reload nginx hands back the old
 * zone when its name and size are unchanged; the header is then checked
 * and reused, so what the zone holds survives "nginx -s reload".
 */


#include "ngx_http_statsig_module.h"


static ngx_int_t ngx_http_statsig_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_statsig_zone_compatible(
    ngx_http_statsig_shctx_t *sh);


char *
ngx_http_statsig_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_main_conf_t *smcf = conf;

    u_char                   *p;
    ssize_t                   size;
    ngx_str_t                *value, name;
    ngx_http_statsig_zone_t  *ctx;

    if (smcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    name = value[1];

    if (name.len == 0) {
        return "has an empty zone name";
    }

    for (p = name.data; p < name.data + name.len; p++) {
        if (*p <= ' ' || *p == ':' || *p == '/' || *p >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid zone name \"%V\"", &name);
            return NGX_CONF_ERROR;
        }
    }

    size = ngx_parse_size(&value[2]);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < NGX_HTTP_STATSIG_ZONE_MIN_SIZE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: %V, the minimum is %uzk",
                           &name, &value[2],
                           (size_t) NGX_HTTP_STATSIG_ZONE_MIN_SIZE / 1024);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_statsig_zone_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    smcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_statsig_module);
    if (smcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (smcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    smcf->shm_zone->init = ngx_http_statsig_init_zone;
    smcf->shm_zone->data = ctx;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_statsig_zone_compatible(ngx_http_statsig_shctx_t *sh)
{
    return sh != NULL
           && sh->magic == NGX_HTTP_STATSIG_ZONE_MAGIC
           && sh->layout == NGX_HTTP_STATSIG_ZONE_LAYOUT
           && sh->hdr_size == sizeof(ngx_http_statsig_shctx_t);
}


static ngx_int_t
ngx_http_statsig_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_statsig_zone_t  *octx = data;

    size_t                     len;
    ngx_slab_pool_t           *shpool;
    ngx_http_statsig_zone_t   *ctx;
    ngx_http_statsig_shctx_t  *sh;

    ctx = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (octx) {
        if (ngx_http_statsig_zone_compatible(octx->sh)) {
            ctx->sh = octx->sh;
            ctx->shpool = octx->shpool;

            (void) ngx_atomic_fetch_add(&ctx->sh->reloads, 1);

            return NGX_OK;
        }

        /*
         * The old zone was made by another layout (a different build of
         * the module).  Old workers may still read it, so leave it alone
         * and start a fresh header in the same slab pool.
         */

        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                      "statsig zone \"%V\" has an incompatible layout, "
                      "not reusing its contents", &shm_zone->shm.name);
    }

    ctx->shpool = shpool;

    if (shm_zone->shm.exists) {
        ctx->sh = shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_alloc(shpool, sizeof(ngx_http_statsig_shctx_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_statsig_shctx_t));

    sh->magic = NGX_HTTP_STATSIG_ZONE_MAGIC;
    sh->layout = NGX_HTTP_STATSIG_ZONE_LAYOUT;
    sh->hdr_size = sizeof(ngx_http_statsig_shctx_t);
    sh->created = ngx_time();

    ctx->sh = sh;
    shpool->data = sh;

    len = sizeof(" in statsig zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in statsig zone \"%V\"%Z",
                &shm_zone->shm.name);

    return NGX_OK;
}


ngx_int_t
ngx_http_statsig_zone_usage(ngx_shm_zone_t *shm_zone, size_t *used)
{
    size_t            total;
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    total = (size_t) (shpool->end - shpool->start);
    *used = total - shpool->pfree * ngx_pagesize;

    ngx_shmtx_unlock(&shpool->mutex);

    /* count the slab pool's own bookkeeping as used, too */
    *used += shm_zone->shm.size - total;

    return NGX_OK;
}
