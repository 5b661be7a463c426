
/*
 * ngx_http_statsig_module: module definition, configuration structs,
 * directive parsers and merging.
 */


#include "ngx_http_statsig_module.h"
#include "ngx_http_statsig_request.h"
#include "ngx_http_statsig_events.h"


static ngx_int_t ngx_http_statsig_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_statsig_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_statsig_init_process(ngx_cycle_t *cycle);
static void ngx_http_statsig_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_statsig_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_statsig_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_statsig_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_statsig_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_statsig_merge_kv(ngx_conf_t *cf, ngx_array_t **child,
    ngx_array_t *parent);

static char *ngx_http_statsig_used_post(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_statsig_server_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_set_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_set_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_set_interval(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_set_batch(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_user_id(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_user_field(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_user_kv(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_stable_id_cookie(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_statsig_event(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_statsig_default(ngx_conf_t *cf,
    ngx_http_complex_value_t **field, ngx_http_complex_value_t **cache,
    char *value);


static ngx_str_t  ngx_http_statsig_field_names[] = {
    ngx_string("email"),
    ngx_string("ip"),
    ngx_string("userAgent"),
    ngx_string("country"),
    ngx_string("locale"),
    ngx_string("appVersion")
};


static ngx_conf_post_t  ngx_http_statsig_used = {
    ngx_http_statsig_used_post
};


static ngx_command_t  ngx_http_statsig_commands[] = {

    { ngx_string("statsig_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_server_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_server_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("statsig_api_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_server_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, api_key_source),
      NULL },

    { ngx_string("statsig_specs_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, specs_url),
      NULL },

    { ngx_string("statsig_specs_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_path,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, specs_file),
      NULL },

    { ngx_string("statsig_sync_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_interval,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, sync_interval),
      NULL },

    { ngx_string("statsig_id_lists_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, id_lists_url),
      NULL },

    { ngx_string("statsig_id_lists_sync_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_interval,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, id_lists_sync_interval),
      NULL },

    { ngx_string("statsig_events_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, events_url),
      NULL },

    { ngx_string("statsig_flush_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_interval,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, flush_interval),
      NULL },

    { ngx_string("statsig_flush_batch"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_batch,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, flush_batch),
      NULL },

    { ngx_string("statsig_event_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, event_queue),
      &ngx_http_statsig_used },

    { ngx_string("statsig_exposure_dedupe"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, exposure_dedupe),
      &ngx_http_statsig_used },

    { ngx_string("statsig_environment"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, environment),
      &ngx_http_statsig_used },

    { ngx_string("statsig_upstream_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_interval,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, upstream_timeout),
      NULL },

    { ngx_string("statsig_ca_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_path,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, ca_file),
      NULL },

    { ngx_string("statsig_proxy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_statsig_set_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_statsig_main_conf_t, proxy),
      NULL },

    { ngx_string("statsig_exposures"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_statsig_loc_conf_t, exposures),
      &ngx_http_statsig_used },

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
      ngx_http_statsig_user_kv,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_statsig_loc_conf_t, custom),
      NULL },

    { ngx_string("statsig_user_private"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_user_kv,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_statsig_loc_conf_t, private_attrs),
      NULL },

    { ngx_string("statsig_custom_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_statsig_user_kv,
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
      ngx_http_statsig_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_STATSIG_HANDLER_STATUS,
      NULL },

    { ngx_string("statsig_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_statsig_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_STATSIG_HANDLER_API,
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
    NULL,                                  /* exit master */
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

    return ngx_http_statsig_specs_file_conf(cf, smcf);
}


static ngx_int_t
ngx_http_statsig_init_process(ngx_cycle_t *cycle)
{
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_http_statsig_snapshot_init_worker(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_statsig_sync_init_worker(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_statsig_events_init_worker(cycle);
}


static void
ngx_http_statsig_exit_process(ngx_cycle_t *cycle)
{
    /* before the sync's: it closes the HTTP client */
    ngx_http_statsig_events_exit_worker(cycle);
    ngx_http_statsig_sync_exit_worker(cycle);
    ngx_http_statsig_snapshot_exit_worker(cycle);
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
     *     smcf->key_source = NGX_HTTP_STATSIG_KEY_NONE;
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

    if (smcf->api_line
        && smcf->api_key_source == NGX_HTTP_STATSIG_KEY_NONE
        && smcf->key_source == NGX_HTTP_STATSIG_KEY_NONE)
    {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "\"statsig_api\" in %V:%ui has no key: it answers 401 "
                      "to every request until \"statsig_api_key\" (or "
                      "\"statsig_server_key\") is set", &smcf->api_file,
                      smcf->api_line);
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
     *     slcf->handler = NGX_HTTP_STATSIG_HANDLER_NONE;
     */

    slcf->stable_id_max_age = NGX_CONF_UNSET;
    slcf->exposures = NGX_CONF_UNSET;

    return slcf;
}


static char *
ngx_http_statsig_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_statsig_loc_conf_t *prev = parent;
    ngx_http_statsig_loc_conf_t *conf = child;

    ngx_uint_t                     i;
    ngx_http_complex_value_t     **f;
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

    if (conf->events == NULL) {
        conf->events = prev->events;
    }

    return NGX_CONF_OK;
}


/* a user field nobody set gets its default, compiled once per http{} */

static char *
ngx_http_statsig_default(ngx_conf_t *cf, ngx_http_complex_value_t **field,
    ngx_http_complex_value_t **cache, char *value)
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


/* remembers the first statsig directive, for the "no statsig_zone" error */

void
ngx_http_statsig_conf_used(ngx_conf_t *cf)
{
    ngx_str_t                     *value;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_statsig_module);

    if (smcf->used_line) {
        return;
    }

    value = cf->args->elts;

    smcf->used_name = value[0];
    smcf->used_file = cf->conf_file->file.name;
    smcf->used_line = cf->conf_file->line;
}


static char *
ngx_http_statsig_used_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_statsig_conf_used(cf);

    return NGX_CONF_OK;
}


static char *
ngx_http_statsig_server_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_main_conf_t *smcf = conf;

    u_char      *p;
    ngx_str_t   *value, ref, *field;
    ngx_uint_t  *source;

    /* statsig_server_key, or statsig_api_key (same syntax) */

    if (cmd->offset == offsetof(ngx_http_statsig_main_conf_t,
                                api_key_source))
    {
        source = &smcf->api_key_source;
        field = &smcf->api_key_ref;

    } else {
        source = &smcf->key_source;
        field = &smcf->key_ref;
    }

    if (*source != NGX_HTTP_STATSIG_KEY_NONE) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    /*
     * The argument may be a pasted secret: never echo it in a message.
     */

    if (value[1].len > 4 && ngx_strncmp(value[1].data, "env:", 4) == 0) {
        ref.data = value[1].data + 4;
        ref.len = value[1].len - 4;

        for (p = ref.data; p < ref.data + ref.len; p++) {
            if (*p != '_' && !(*p >= 'A' && *p <= 'Z')
                && !(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid environment variable name in "
                                   "\"%V env:\"", &cmd->name);
                return NGX_CONF_ERROR;
            }
        }

        *source = NGX_HTTP_STATSIG_KEY_ENV;
        *field = ref;

        return NGX_CONF_OK;
    }

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "file:", 5) == 0) {
        ref.data = value[1].data + 5;
        ref.len = value[1].len - 5;

        if (ngx_conf_full_name(cf->cycle, &ref, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        *source = NGX_HTTP_STATSIG_KEY_FILE;
        *field = ref;

        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" must be \"env:VARIABLE\" or \"file:PATH\" "
                       "(the value is not shown)", &cmd->name);

    return NGX_CONF_ERROR;
}


/*
 * "name=VALUE" as the optional last argument: *rest is VALUE.
 * expect is "name=WHAT", for the message.
 */

ngx_int_t
ngx_http_statsig_conf_option(ngx_conf_t *cf, ngx_str_t *arg, char *expect,
    ngx_str_t *rest)
{
    u_char  *eq;
    size_t   len;

    eq = (u_char *) ngx_strchr(expect, '=');
    len = eq - (u_char *) expect + 1;

    if (arg->len < len || ngx_strncmp(arg->data, expect, len) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", expected \"%s\"",
                           arg, expect);
        return NGX_ERROR;
    }

    rest->data = arg->data + len;
    rest->len = arg->len - len;

    return NGX_OK;
}


ngx_int_t
ngx_http_statsig_check_url(ngx_conf_t *cf, ngx_str_t *url, ngx_uint_t proxy)
{
    size_t       skip;
    ngx_url_t    u;
    ngx_uint_t   i;
    ngx_str_t   *scheme;

    static ngx_str_t  schemes[] = {
        ngx_string("http://"),
        ngx_string("https://"),
        ngx_string("socks4://"),
        ngx_string("socks5://"),
        ngx_string("socks5h://")
    };

    skip = 0;

    for (i = 0; i < (proxy ? 5 : 2); i++) {
        scheme = &schemes[i];

        if (url->len > scheme->len
            && ngx_strncasecmp(url->data, scheme->data, scheme->len) == 0)
        {
            skip = scheme->len;
            break;
        }
    }

    if (skip == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\" in \"%V\": %s", url,
                           &((ngx_str_t *) cf->args->elts)[0],
                           proxy ? "the scheme must be http, https, socks4, "
                                   "socks5 or socks5h"
                                 : "it must start with http:// or https://");
        return NGX_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = url->data + skip;
    u.url.len = url->len - skip;
    u.default_port = (in_port_t) (skip == 8 ? 443 : 80);
    u.uri_part = 1;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.host.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\" in \"%V\": %s", url,
                           &((ngx_str_t *) cf->args->elts)[0],
                           u.err ? u.err : "no host");
        return NGX_ERROR;
    }

    if (u.uri.len && ngx_strlchr(u.uri.data, u.uri.data + u.uri.len, ' ')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\": it contains a space", url);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static char *
ngx_http_statsig_set_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    if (ngx_http_statsig_check_url(cf, &value[1],
                                   cmd->offset
                                   == offsetof(ngx_http_statsig_main_conf_t,
                                               proxy))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    *field = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_statsig_set_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "must not be empty";
    }

    *field = value[1];

    if (ngx_conf_full_name(cf->cycle, field, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_statsig_set_interval(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    char        *rv;
    ngx_msec_t  *field;

    field = (ngx_msec_t *) (p + cmd->offset);

    ngx_http_statsig_conf_used(cf);

    rv = ngx_conf_set_msec_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (*field == 0) {
        return "must be greater than 0";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_statsig_set_batch(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_main_conf_t *smcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (smcf->flush_batch != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n < 1 || n > 100000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": expected a "
                           "number from 1 to 100000", &value[1], &value[0]);
        return NGX_CONF_ERROR;
    }

    smcf->flush_batch = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


ngx_http_complex_value_t *
ngx_http_statsig_compile(ngx_conf_t *cf, ngx_str_t *value)
{
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (cv == NULL) {
        return NULL;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NULL;
    }

    return cv;
}


static char *
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


static char *
ngx_http_statsig_user_field(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    for (i = 0; i < NGX_HTTP_STATSIG_NFIELDS; i++) {
        if (value[1].len == ngx_http_statsig_field_names[i].len
            && ngx_strncmp(value[1].data, ngx_http_statsig_field_names[i].data,
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


static char *
ngx_http_statsig_user_kv(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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


static char *
ngx_http_statsig_stable_id_cookie(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    u_char      *p;
    time_t       age;
    ngx_str_t   *value, s;

    if (slcf->stable_id_cookie.data) {
        return "is duplicate";
    }

    ngx_http_statsig_conf_used(cf);

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty cookie name";
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p <= ' ' || *p >= 0x7f || ngx_strchr("()<>@,;:\\\"/[]?={}", *p))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cookie name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    slcf->stable_id_cookie = value[1];

    if (cf->args->nelts == 3) {
        if (ngx_http_statsig_conf_option(cf, &value[2], "max_age=TIME", &s)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        age = ngx_parse_time(&s, 1);
        if (age == (time_t) NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid max_age \"%V\"", &s);
            return NGX_CONF_ERROR;
        }

        slcf->stable_id_max_age = age;
    }

    return NGX_CONF_OK;
}


static char *
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


static char *
ngx_http_statsig_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_statsig_loc_conf_t *slcf = conf;

    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_statsig_main_conf_t  *smcf;

    if (slcf->handler == cmd->offset) {
        return "is duplicate";
    }

    if (slcf->handler != NGX_HTTP_STATSIG_HANDLER_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be combined with \"%s\" in one "
                           "location", &cmd->name,
                           slcf->handler == NGX_HTTP_STATSIG_HANDLER_STATUS
                           ? "statsig_status" : "statsig_api");
        return NGX_CONF_ERROR;
    }

    ngx_http_statsig_conf_used(cf);

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    slcf->handler = cmd->offset;

    if (cmd->offset == NGX_HTTP_STATSIG_HANDLER_STATUS) {
        clcf->handler = ngx_http_statsig_status_handler;

    } else {
        clcf->handler = ngx_http_statsig_api_handler;

        smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_statsig_module);

        if (smcf->api_line == 0) {
            smcf->api_file = cf->conf_file->file.name;
            smcf->api_line = cf->conf_file->line;
        }
    }

    return NGX_CONF_OK;
}
