
/*
 * ngx_http_statsig_module: the configuration, as every layer reads it,
 * and the helpers that parse it.
 *
 * A directive is parsed where what it configures lives: statsig_zone in
 * the zone, statsig_gate and statsig_param with the variables, the user's
 * directives with the user, statsig_event with the custom events,
 * statsig_status and statsig_api with their handlers, the keys by the
 * secret slot.  Plain values (URLs, paths, intervals, sizes) use nginx's
 * stock slots with the checks below as their posts.  The module file
 * holds the table, creates and merges the structures, and nothing else
 * of the configuration.
 */


#ifndef _NGX_HTTP_STATSIG_CONF_H_INCLUDED_
#define _NGX_HTTP_STATSIG_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_statsig_secret.h"


#define NGX_HTTP_STATSIG_VERSION          "0.1.0"

/* the user's fields set by statsig_user_field NAME VALUE */
#define NGX_HTTP_STATSIG_FIELD_EMAIL      0
#define NGX_HTTP_STATSIG_FIELD_IP         1
#define NGX_HTTP_STATSIG_FIELD_USER_AGENT 2
#define NGX_HTTP_STATSIG_FIELD_COUNTRY    3
#define NGX_HTTP_STATSIG_FIELD_LOCALE     4
#define NGX_HTTP_STATSIG_FIELD_APP_VER    5
#define NGX_HTTP_STATSIG_NFIELDS          6

/* event destinations: Statsig's log_event and those of statsig_sink */
#define NGX_HTTP_STATSIG_MAX_SINKS        4


/*
 * A directive's value: a complex value, and when it is one variable alone
 * ("$http_x_user_id"), that variable's index, read without the script
 * engine's two passes, allocation and copy.  A $http_NAME or $arg_NAME
 * variable is also a source the user's builder reads with the location's
 * others in one pass (ngx_http_statsig_user.c), once a worker has checked
 * that nginx resolved it to its header or argument prefix.
 */
#define NGX_HTTP_STATSIG_SRC_NONE         0
#define NGX_HTTP_STATSIG_SRC_HEADER       1
#define NGX_HTTP_STATSIG_SRC_ARG          2
/* nginx's $http_user_agent and $remote_addr, read where nginx reads them */
#define NGX_HTTP_STATSIG_SRC_USER_AGENT   3
#define NGX_HTTP_STATSIG_SRC_REMOTE_ADDR  4

typedef struct {
    ngx_http_complex_value_t       cv;
    ngx_int_t                      index;   /* NGX_ERROR: not one variable */
    ngx_uint_t                     source;  /* NGX_HTTP_STATSIG_SRC_* */
    ngx_str_t                      name;    /* NAME, in lower case */
    unsigned                       checked:1;  /* source is final */
} ngx_http_statsig_cv_t;


/* NAME VALUE pairs: statsig_user_custom, _private, statsig_custom_id */
typedef struct {
    ngx_str_t                      name;
    ngx_http_statsig_cv_t         *value;
} ngx_http_statsig_kv_t;


typedef struct {
    ngx_str_t                      name;
    ngx_http_statsig_cv_t         *value;
    ngx_http_statsig_cv_t         *cond;
    ngx_array_t                   *metadata;   /* ngx_http_statsig_kv_t */
    ngx_uint_t                     sinks;      /* sinks=; 0: every one */
} ngx_http_statsig_event_t;


typedef struct {
    ngx_shm_zone_t                *shm_zone;

    ngx_http_statsig_secret_t      server_key;
    /* the statsig_api credential (default: the server key) */
    ngx_http_statsig_secret_t      api_key;
    /* statsig_client_key: ngx_http_statsig_client_key_t */
    ngx_array_t                   *client_keys;

    /* the first statsig_api or statsig_mcp location, for "needs a key" */
    ngx_str_t                      api_name;
    ngx_str_t                      api_file;
    ngx_uint_t                     api_line;

    /* statsig_mcp: the sessions ended by DELETE (a zone of their own) */
    ngx_shm_zone_t                *mcp_zone;

    ngx_str_t                      specs_url;
    ngx_str_t                      specs_file;
    ngx_msec_t                     sync_interval;
    ngx_str_t                      id_lists_url;
    ngx_msec_t                     id_lists_sync_interval;
    ngx_str_t                      events_url;
    ngx_msec_t                     flush_interval;
    ngx_uint_t                     flush_batch;
    size_t                         event_queue;
    ngx_str_t                      spool;      /* statsig_event_spool */
    off_t                          spool_max;
    ngx_msec_t                     exposure_dedupe;
    ngx_str_t                      environment;
    ngx_msec_t                     upstream_timeout;
    ngx_str_t                      ca_file;
    ngx_str_t                      proxy;

    /* statsig_sink NAME ...: each sink type's own conf, by its index */
    void                          *sinks[NGX_HTTP_STATSIG_MAX_SINKS];

    /* where a statsig directive was first used, for "no statsig_zone" */
    ngx_str_t                      used_file;
    ngx_uint_t                     used_line;
    ngx_str_t                      used_name;

    /* compiled once, shared by every location that keeps the default */
    ngx_http_statsig_cv_t         *default_ip;
    ngx_http_statsig_cv_t         *default_user_agent;
} ngx_http_statsig_main_conf_t;


/* the $http_ and $arg_ sources of a location's user read in one pass */
#define NGX_HTTP_STATSIG_SOURCES          8

typedef struct {
    ngx_http_statsig_cv_t         *user_id;
    ngx_http_statsig_cv_t         *fields[NGX_HTTP_STATSIG_NFIELDS];
    ngx_array_t                   *custom;     /* ngx_http_statsig_kv_t */
    ngx_array_t                   *private_attrs;
    ngx_array_t                   *custom_ids;

    /* those of the values above, in their order: found once a worker */
    ngx_http_statsig_cv_t         *sources[NGX_HTTP_STATSIG_SOURCES];
    ngx_uint_t                     nsources;
    ngx_uint_t                     sources_ready;

    /* userID and the fields set, with their keys: found with the sources */
    ngx_http_statsig_cv_t         *user_cvs[NGX_HTTP_STATSIG_NFIELDS + 1];
    ngx_str_t                     *user_keys[NGX_HTTP_STATSIG_NFIELDS + 1];
    ngx_uint_t                     nuser;

    ngx_str_t                      stable_id_cookie;
    time_t                         stable_id_max_age;

    ngx_flag_t                     exposures;
    ngx_array_t                   *events;     /* ngx_http_statsig_event_t */

    ngx_str_t                      handler;    /* statsig_status, _api */
    ngx_array_t                   *mcp_origins;  /* ngx_str_t, origin= */
    ngx_array_t                   *cors_origins;  /* NULL: any */
} ngx_http_statsig_loc_conf_t;


/* the posts of stock slots: each also records that statsig is used */
extern ngx_conf_post_t  ngx_http_statsig_used_post;
extern ngx_conf_post_t  ngx_http_statsig_url_post;
extern ngx_conf_post_t  ngx_http_statsig_proxy_post;
extern ngx_conf_post_t  ngx_http_statsig_path_post;
extern ngx_conf_post_t  ngx_http_statsig_interval_post;
extern ngx_conf_post_t  ngx_http_statsig_batch_post;

void ngx_http_statsig_conf_used(ngx_conf_t *cf);
ngx_http_statsig_cv_t *ngx_http_statsig_compile(ngx_conf_t *cf,
    ngx_str_t *value);
ngx_int_t ngx_http_statsig_cv_value(ngx_http_request_t *r,
    ngx_http_statsig_cv_t *cv, ngx_str_t *value);
ngx_int_t ngx_http_statsig_conf_option(ngx_conf_t *cf, ngx_str_t *arg,
    char *expect, ngx_str_t *rest);
ngx_int_t ngx_http_statsig_check_url(ngx_conf_t *cf, ngx_str_t *url,
    ngx_uint_t proxy);
char *ngx_http_statsig_conf_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_http_statsig_loc_conf_t *slcf, ngx_http_handler_pt handler);

/* ngx_http_statsig_api.c: a statsig_api location's merged core settings */
void ngx_http_statsig_api_merge(ngx_conf_t *cf);


extern ngx_module_t  ngx_http_statsig_module;


#endif /* _NGX_HTTP_STATSIG_CONF_H_INCLUDED_ */
