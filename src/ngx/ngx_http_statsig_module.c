
/*
 * ngx_http_statsig_module: the module.
 *
 * The directive table, the configuration's creation and merging, and
 * every start and stop: configuration (postconfiguration), the zone
 * (init_zone), each worker (init_process, exit_process), in one visible
 * order.  Each layer below has its *_init* and *_exit* and starts or
 * stops nothing of another's.
 */


#include "ngx_http_statsig_conf.h"
#include "ngx_http_statsig_zone.h"
#include "ngx_http_statsig_snapshot.h"
#include "ngx_http_statsig_http.h"
#include "ngx_http_statsig_sync.h"
#include "ngx_http_statsig_events.h"
#include "ngx_http_statsig_request.h"
#include "ngx_http_statsig_response.h"
#include "ngx_http_statsig_id.h"


static ngx_int_t ngx_http_statsig_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_statsig_postconfiguration(ngx_conf_t *cf);
static void ngx_http_statsig_init_spool(ngx_shm_zone_t *shm_zone);
static ngx_int_t ngx_http_statsig_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_statsig_init_process(ngx_cycle_t *cycle);
static void ngx_http_statsig_exit_process(ngx_cycle_t *cycle);
static void ngx_http_statsig_exit_master(ngx_cycle_t *cycle);
static void *ngx_http_statsig_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_statsig_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_statsig_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_statsig_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_statsig_merge_kv(ngx_conf_t *cf, ngx_array_t **child,
    ngx_array_t *parent);
static char *ngx_http_statsig_default(ngx_conf_t *cf,
    ngx_http_statsig_cv_t **field, ngx_http_statsig_cv_t **cache,
    char *value);


static ngx_command_t  ngx_http_statsig_commands[] = {

    { ngx_string("statsig_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_server_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_secret_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, server_key),
      &ngx_http_statsig_used_post },

    { ngx_string("statsig_api_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_secret_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, api_key),
      &ngx_http_statsig_used_post },

    { ngx_string("statsig_client_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_statsig_client_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_cors_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_statsig_cors_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_specs_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, specs_url),
      &ngx_http_statsig_url_post },

    { ngx_string("statsig_specs_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, specs_file),
      &ngx_http_statsig_path_post },

    { ngx_string("statsig_sync_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, sync_interval),
      &ngx_http_statsig_interval_post },

    { ngx_string("statsig_id_lists_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, id_lists_url),
      &ngx_http_statsig_url_post },

    { ngx_string("statsig_id_lists_sync_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, id_lists_sync_interval),
      &ngx_http_statsig_interval_post },

    { ngx_string("statsig_events_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, events_url),
      &ngx_http_statsig_url_post },

    { ngx_string("statsig_flush_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, flush_interval),
      &ngx_http_statsig_interval_post },

    { ngx_string("statsig_flush_batch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, flush_batch),
      &ngx_http_statsig_batch_post },

    { ngx_string("statsig_event_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, event_queue),
      &ngx_http_statsig_used_post },

    { ngx_string("statsig_event_spool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_statsig_event_spool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_exposure_dedupe"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, exposure_dedupe),
      &ngx_http_statsig_used_post },

    { ngx_string("statsig_environment"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, environment),
      &ngx_http_statsig_used_post },

    { ngx_string("statsig_upstream_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, upstream_timeout),
      &ngx_http_statsig_interval_post },

    { ngx_string("statsig_ca_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, ca_file),
      &ngx_http_statsig_path_post },

    { ngx_string("statsig_proxy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, proxy),
      &ngx_http_statsig_proxy_post },

    { ngx_string("statsig_sink"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_statsig_sink,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_exposures"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_statsig_loc_conf_t, exposures),
      &ngx_http_statsig_used_post },

    { ngx_string("statsig_event"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_statsig_event,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_user_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_user_id,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_user_field"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_user_field,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_user_custom"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_user_pairs,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_statsig_loc_conf_t, custom),
      NULL },

    { ngx_string("statsig_user_private"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_user_pairs,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_statsig_loc_conf_t, private_attrs),
      NULL },

    { ngx_string("statsig_custom_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_user_pairs,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_statsig_loc_conf_t, custom_ids),
      NULL },

    { ngx_string("statsig_stable_id_cookie"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF
                        |NGX_CONF_TAKE12,
      ngx_http_statsig_stable_id_cookie,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_gate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_gate,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_param"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3|NGX_CONF_TAKE4,
      ngx_http_statsig_param,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_statsig_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_statsig_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_mcp"),
      NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_statsig_mcp,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_ofrep"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_statsig_ofrep,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_statsig_module_ctx = {
    ngx_http_statsig_preconfiguration,     /* preconfiguration */
    ngx_http_statsig_postconfiguration,    /* postconfiguration */

    ngx_http_statsig_create_main_conf,     /* create main configuration */
    ngx_http_statsig_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_statsig_create_loc_conf,      /* create location configuration */
    ngx_http_statsig_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_statsig_module = {
    NGX_MODULE_V1,
    &ngx_http_statsig_module_ctx,          /* module context */
    ngx_http_statsig_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_statsig_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_statsig_exit_process,         /* exit process */
    ngx_http_statsig_exit_master,          /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_statsig_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_statsig_add_variables(cf);
}


static ngx_int_t
ngx_http_statsig_postconfiguration(ngx_conf_t *cf)
{
    size_t                         size;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_statsig_module);

    if (ngx_http_statsig_cookie_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_statsig_event_log_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (smcf->shm_zone == NULL) {
        if (smcf->used_line) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"%V\" directive is used but \"statsig_zone\" is "
                          "not set in %V:%ui", &smcf->used_name,
                          &smcf->used_file, smcf->used_line);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    size = smcf->shm_zone->shm.size;

    if (smcf->event_queue != NGX_CONF_UNSET_SIZE
        && smcf->event_queue >= size / 2)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"statsig_event_queue\" %uz must be less than half "
                      "of the statsig zone \"%V\" (%uz)", smcf->event_queue,
                      &smcf->shm_zone->shm.name, size);
        return NGX_ERROR;
    }

    smcf->shm_zone->init = ngx_http_statsig_init_zone;

    /* the compile's thread pool, then the specs file: nginx -t checks it */

    if (ngx_http_statsig_specs_init_conf(cf, smcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_statsig_specs_file_conf(cf, smcf);
}


/*
 * In the master, at start and on every reload: the header (new, or the
 * old zone's reused), the event rings (their size is fixed, the specs'
 * is not), then the specs file.
 */

static ngx_int_t
ngx_http_statsig_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_int_t  rc;

    rc = ngx_http_statsig_zone_init(shm_zone, data);

    if (rc == NGX_DONE) {
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_statsig_events_init_zone(shm_zone) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_statsig_init_spool(shm_zone);

    ngx_http_statsig_zone_load_file(shm_zone);

    return NGX_OK;
}


/* the events a quit or a spill left in statsig_event_spool, queued again */

static void
ngx_http_statsig_init_spool(ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t                     i;
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_events_sh_t  *es;
    ngx_http_statsig_main_conf_t  *smcf;

    ctx = shm_zone->data;
    smcf = ctx->smcf;
    es = ctx->sh->events;

    if (smcf == NULL || es == NULL || smcf->spool.len == 0) {
        return;
    }

    for (i = 0; i < NGX_HTTP_STATSIG_MAX_SINKS; i++) {
        (void) ngx_http_statsig_spool_restore(smcf, i, &es->sinks[i],
                                              &ctx->shpool->mutex,
                                              shm_zone->shm.log);
    }
}


/*
 * A worker: what it reads (the snapshot), what it writes (the events),
 * the HTTP client both the sync and the flusher use, then the work that
 * runs on timers.  exit_process stops them in the reverse order.
 */

static ngx_int_t
ngx_http_statsig_init_process(ngx_cycle_t *cycle)
{
    ngx_http_statsig_main_conf_t  *smcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    if (smcf == NULL || smcf->shm_zone == NULL) {
        return NGX_OK;
    }

    ngx_http_statsig_id_init_worker();

    if (ngx_http_statsig_variables_init_worker(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_statsig_snapshot_init_worker(cycle) != NGX_OK
        || ngx_http_statsig_events_init_worker(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if ((ngx_http_statsig_secret_set(&smcf->server_key)
         || ngx_http_statsig_events_enabled() > 0)
        && ngx_http_statsig_http_init(cycle, &smcf->ca_file, &smcf->proxy)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_statsig_specs_init_worker(cycle) != NGX_OK
        || ngx_http_statsig_idlists_init_worker(cycle) != NGX_OK
        || ngx_http_statsig_sync_init_worker(cycle) != NGX_OK
        || ngx_http_statsig_flush_init_worker(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, cycle->log, 0,
                   "statsig: worker started on zone \"%V\"",
                   &smcf->shm_zone->shm.name);

    return NGX_OK;
}


static void
ngx_http_statsig_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    if (smcf == NULL || smcf->shm_zone == NULL) {
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, cycle->log, 0,
                   "statsig: worker exits");

    ngx_http_statsig_flush_exit_worker(cycle);
    ngx_http_statsig_events_exit_worker(cycle);
    ngx_http_statsig_sync_exit_worker(cycle);
    ngx_http_statsig_idlists_exit_worker(cycle);
    ngx_http_statsig_specs_exit_worker(cycle);
    ngx_http_statsig_http_cleanup();
    ngx_http_statsig_snapshot_exit_worker(cycle);

    ngx_http_statsig_secret_free(&smcf->server_key);
    ngx_http_statsig_secret_free(&smcf->api_key);
    ngx_http_statsig_api_client_exit(smcf);
    ngx_http_statsig_response_exit_worker();
    ngx_http_statsig_request_exit_worker();
}


/*
 * The master, as nginx quits, every worker gone: what the sinks' rings
 * still hold goes to statsig_event_spool, or is counted as lost.
 */

static void
ngx_http_statsig_exit_master(ngx_cycle_t *cycle)
{
    ngx_http_statsig_zone_t       *ctx;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_statsig_module);

    if (smcf == NULL || smcf->shm_zone == NULL) {
        return;
    }

    ctx = smcf->shm_zone->data;

    if (ctx == NULL || ctx->sh == NULL || ctx->sh->events == NULL) {
        return;
    }

    ngx_http_statsig_spool_exit(smcf, ctx->sh->events, ctx->shpool,
                                cycle->log);
}


static void *
ngx_http_statsig_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_statsig_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->shm_zone = NULL;
     *     smcf->server_key = { NGX_HTTP_STATSIG_SECRET_NONE, ... };
     *     smcf->specs_url = { 0, NULL };
     *     smcf->specs_file = { 0, NULL };
     *     ...
     *     smcf->used_line = 0;
     */

    smcf->sync_interval = NGX_CONF_UNSET_MSEC;
    smcf->id_lists_sync_interval = NGX_CONF_UNSET_MSEC;
    smcf->flush_interval = NGX_CONF_UNSET_MSEC;
    smcf->flush_batch = NGX_CONF_UNSET_UINT;
    smcf->event_queue = NGX_CONF_UNSET_SIZE;
    smcf->exposure_dedupe = NGX_CONF_UNSET_MSEC;
    smcf->upstream_timeout = NGX_CONF_UNSET_MSEC;

    return smcf;
}


static char *
ngx_http_statsig_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_statsig_main_conf_t *smcf = conf;

    if (smcf->specs_url.data == NULL) {
        ngx_str_set(&smcf->specs_url,
                    "https://api.statsigcdn.com/v1/download_config_specs");
    }

    if (smcf->id_lists_url.data == NULL) {
        ngx_str_set(&smcf->id_lists_url,
                    "https://statsigapi.net/v1/get_id_lists");
    }

    if (smcf->events_url.data == NULL) {
        ngx_str_set(&smcf->events_url, "https://statsigapi.net/v1/log_event");
    }

    ngx_conf_init_msec_value(smcf->sync_interval, 10000);
    ngx_conf_init_msec_value(smcf->id_lists_sync_interval, 60000);
    ngx_conf_init_msec_value(smcf->flush_interval, 1000);
    ngx_conf_init_uint_value(smcf->flush_batch, 1000);
    ngx_conf_init_msec_value(smcf->exposure_dedupe, 60000);
    ngx_conf_init_msec_value(smcf->upstream_timeout, 5000);

    /* event_queue stays unset: "part of the zone", sized at zone init */

    smcf->server_key.without = "nothing is fetched";
    smcf->api_key.without = "the API answers 401";

    if (smcf->api_line
        && !ngx_http_statsig_secret_set(&smcf->api_key)
        && !ngx_http_statsig_secret_set(&smcf->server_key))
    {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "\"%V\" in %V:%ui has no key: it answers 401 to "
                      "every request until \"statsig_api_key\" (or "
                      "\"statsig_server_key\") is set", &smcf->api_name,
                      &smcf->api_file, smcf->api_line);
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_statsig_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_statsig_loc_conf_t  *slcf;

    slcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_statsig_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     slcf->user_id = NULL;
     *     slcf->fields[] = NULL;
     *     slcf->custom = NULL;
     *     slcf->private_attrs = NULL;
     *     slcf->custom_ids = NULL;
     *     slcf->stable_id_cookie = { 0, NULL };
     *     slcf->events = NULL;
     *     slcf->handler = { 0, NULL };
     */

    slcf->stable_id_max_age = NGX_CONF_UNSET;
    slcf->exposures = NGX_CONF_UNSET;
    slcf->cors_origins = NGX_CONF_UNSET_PTR;

    return slcf;
}


static char *
ngx_http_statsig_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_statsig_loc_conf_t *prev = parent;
    ngx_http_statsig_loc_conf_t *conf = child;

    ngx_uint_t                     i;
    ngx_http_statsig_cv_t        **f;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_statsig_module);

    if (conf->user_id == NULL) {
        conf->user_id = prev->user_id;
    }

    for (i = 0; i < NGX_HTTP_STATSIG_NFIELDS; i++) {
        if (conf->fields[i] == NULL) {
            conf->fields[i] = prev->fields[i];
        }
    }

    f = conf->fields;

    if (ngx_http_statsig_default(cf, &f[NGX_HTTP_STATSIG_FIELD_IP],
                                 &smcf->default_ip, "$remote_addr")
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_statsig_default(cf, &f[NGX_HTTP_STATSIG_FIELD_USER_AGENT],
                                 &smcf->default_user_agent, "$http_user_agent")
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_statsig_merge_kv(cf, &conf->custom, prev->custom)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_statsig_merge_kv(cf, &conf->private_attrs,
                                  prev->private_attrs)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_statsig_merge_kv(cf, &conf->custom_ids, prev->custom_ids)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->stable_id_cookie.data == NULL) {
        conf->stable_id_cookie = prev->stable_id_cookie;
    }

    ngx_conf_merge_value(conf->stable_id_max_age, prev->stable_id_max_age,
                         365 * 86400);
    ngx_conf_merge_value(conf->exposures, prev->exposures, 1);
    ngx_conf_merge_ptr_value(conf->cors_origins, prev->cors_origins, NULL);

    if (conf->events == NULL) {
        conf->events = prev->events;
    }

    ngx_http_statsig_api_merge(cf);

    return NGX_CONF_OK;
}


/* a user field nobody set gets its default, compiled once per http{} */

static char *
ngx_http_statsig_default(ngx_conf_t *cf, ngx_http_statsig_cv_t **field,
    ngx_http_statsig_cv_t **cache, char *value)
{
    ngx_str_t  v;

    if (*field) {
        return NGX_CONF_OK;
    }

    if (*cache == NULL) {
        v.data = (u_char *) value;
        v.len = ngx_strlen(value);

        *cache = ngx_http_statsig_compile(cf, &v);
        if (*cache == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    *field = *cache;

    return NGX_CONF_OK;
}


/*
 * NAME VALUE lists merge by name: a level inherits every name it does not
 * set itself, so "statsig_user_custom plan $x;" in a location adds to (or
 * overrides one entry of) what the server level set.
 */

static char *
ngx_http_statsig_merge_kv(ngx_conf_t *cf, ngx_array_t **child,
    ngx_array_t *parent)
{
    ngx_uint_t              i, j, found;
    ngx_array_t            *merged;
    ngx_http_statsig_kv_t  *c, *p, *kv;

    if (parent == NULL || parent->nelts == 0) {
        return NGX_CONF_OK;
    }

    if (*child == NULL) {
        *child = parent;
        return NGX_CONF_OK;
    }

    if (*child == parent) {
        return NGX_CONF_OK;
    }

    merged = ngx_array_create(cf->pool, (*child)->nelts + parent->nelts,
                              sizeof(ngx_http_statsig_kv_t));
    if (merged == NULL) {
        return NGX_CONF_ERROR;
    }

    c = (*child)->elts;
    p = parent->elts;

    for (i = 0; i < parent->nelts; i++) {
        found = 0;

        for (j = 0; j < (*child)->nelts; j++) {
            if (c[j].name.len == p[i].name.len
                && ngx_strncmp(c[j].name.data, p[i].name.data,
                               p[i].name.len)
                   == 0)
            {
                found = 1;
                break;
            }
        }

        if (!found) {
            kv = ngx_array_push(merged);
            *kv = p[i];
        }
    }

    for (j = 0; j < (*child)->nelts; j++) {
        kv = ngx_array_push(merged);
        *kv = c[j];
    }

    *child = merged;

    return NGX_CONF_OK;
}
