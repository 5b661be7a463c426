
/*
 * ngx_http_statsig_module: shared declarations of the nginx glue.
 */


#ifndef _NGX_HTTP_STATSIG_MODULE_H_INCLUDED_
#define _NGX_HTTP_STATSIG_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_STATSIG_VERSION          "0.1.0"

#define NGX_HTTP_STATSIG_ZONE_MAGIC       0x5354534755L   /* "STSGU" */
#define NGX_HTTP_STATSIG_ZONE_LAYOUT      5
#define NGX_HTTP_STATSIG_ZONE_MIN_SIZE    (128 * 1024)

#define NGX_HTTP_STATSIG_KEY_NONE         0
#define NGX_HTTP_STATSIG_KEY_ENV          1
#define NGX_HTTP_STATSIG_KEY_FILE         2

/* indexes of statsig_user_field FIELD */
#define NGX_HTTP_STATSIG_FIELD_EMAIL      0
#define NGX_HTTP_STATSIG_FIELD_IP         1
#define NGX_HTTP_STATSIG_FIELD_USER_AGENT 2
#define NGX_HTTP_STATSIG_FIELD_COUNTRY    3
#define NGX_HTTP_STATSIG_FIELD_LOCALE     4
#define NGX_HTTP_STATSIG_FIELD_APP_VER    5
#define NGX_HTTP_STATSIG_NFIELDS          6

/* what a variable asks the evaluator for */
#define NGX_HTTP_STATSIG_EVAL_GATE        0
#define NGX_HTTP_STATSIG_EVAL_CONFIG      1
#define NGX_HTTP_STATSIG_EVAL_EXPERIMENT  2
#define NGX_HTTP_STATSIG_EVAL_PARAM       3

/* location content handlers */
#define NGX_HTTP_STATSIG_HANDLER_NONE     0
#define NGX_HTTP_STATSIG_HANDLER_STATUS   1
#define NGX_HTTP_STATSIG_HANDLER_API      2


#define NGX_HTTP_STATSIG_SLOTS           256
#define NGX_HTTP_STATSIG_GEN_NONE        ((ngx_atomic_uint_t) -1)
#define NGX_HTTP_STATSIG_ERRLEN          256

#define NGX_HTTP_STATSIG_SOURCE_NONE     0
#define NGX_HTTP_STATSIG_SOURCE_FILE     1
#define NGX_HTTP_STATSIG_SOURCE_NETWORK  2

#define NGX_HTTP_STATSIG_STATE_UNKNOWN   0
#define NGX_HTTP_STATSIG_STATE_OK        1
#define NGX_HTTP_STATSIG_STATE_FAILING   2


/* a compiled blob in the zone: this header, then the blob */
typedef struct {
    ngx_uint_t                     refs;      /* records using it */
    size_t                         size;
} ngx_http_statsig_blob_t;

#define ngx_http_statsig_blob_data(b)  ((u_char *) (b) + sizeof(*(b)))


/* one published generation: specs + ID lists, immutable once published */
typedef struct {
    ngx_queue_t                    queue;     /* sh->retired */
    ngx_atomic_uint_t              generation;
    ngx_http_statsig_blob_t       *specs;
    ngx_http_statsig_blob_t       *idlists;
} ngx_http_statsig_rec_t;


/*
 * A live process that may read snapshots: its pid and the oldest
 * generation it still holds (NGX_HTTP_STATSIG_GEN_NONE: none).  Written by
 * its owner only; read by whoever frees retired snapshots.
 */
typedef struct {
    ngx_atomic_t                   pid;
    ngx_atomic_t                   oldest;
} ngx_http_statsig_slot_t;


/* one sync loop's counters (specs, ID lists) */
typedef struct {
    ngx_uint_t                     requests;
    ngx_uint_t                     failures;
    ngx_uint_t                     updates;
    ngx_uint_t                     no_updates;
    ngx_uint_t                     ignored;
    ngx_msec_t                     last_ms;
    ngx_msec_t                     max_ms;
    uint64_t                       total_ms;
    time_t                         last_attempt;
    time_t                         last_success;
    time_t                         last_error;
    ngx_uint_t                     state;
    u_char                         error[NGX_HTTP_STATSIG_ERRLEN];
} ngx_http_statsig_stats_t;


/*
 * What tells one version of a file from the next.  Seconds are not enough:
 * a file rewritten (by rename) within the second it was last read, to the
 * same size, may get the freed inode of the one before; hence the
 * nanoseconds.  (Not the change time: the rename of a file we wrote
 * changes it after we took the identity.)
 */
typedef struct {
    ino_t                          ino;
    off_t                          size;
    time_t                         mtime;
    long                           mtime_ns;
} ngx_http_statsig_file_id_t;


static ngx_inline void
ngx_http_statsig_file_id(ngx_http_statsig_file_id_t *id, ngx_file_info_t *fi)
{
    ngx_memzero(id, sizeof(ngx_http_statsig_file_id_t));

    id->ino = ngx_file_uniq(fi);
    id->size = ngx_file_size(fi);
    id->mtime = fi->st_mtim.tv_sec;
    id->mtime_ns = fi->st_mtim.tv_nsec;
}


static ngx_inline ngx_uint_t
ngx_http_statsig_file_changed(ngx_http_statsig_file_id_t *id,
    ngx_file_info_t *fi)
{
    ngx_http_statsig_file_id_t  now;

    ngx_http_statsig_file_id(&now, fi);

    return ngx_memcmp(id, &now, sizeof(ngx_http_statsig_file_id_t)) != 0;
}


/* the event queues and dedupe table (ngx_http_statsig_events.h) */
typedef struct ngx_http_statsig_events_sh_s  ngx_http_statsig_events_sh_t;


/*
 * The header at the start of the shared zone.  The layout version and the
 * struct size are checked before an old zone is reused on reload.  Every
 * field below "generation" is read and written under shpool->mutex.
 */
typedef struct {
    ngx_uint_t                     magic;
    ngx_uint_t                     layout;
    size_t                         hdr_size;
    time_t                         created;
    ngx_atomic_t                   reloads;
    ngx_atomic_t                   generation;
    ngx_uint_t                     specs_loaded;

    ngx_http_statsig_rec_t        *current;
    ngx_queue_t                    retired;
    ngx_uint_t                     retired_count;
    ngx_uint_t                     freed;

    /* what "current" holds */
    int64_t                        specs_time;         /* lcut, ms */
    ngx_uint_t                     specs_source;
    time_t                         specs_updated;
    ngx_uint_t                     idlists_count;
    u_char                        *idlists_state;      /* files, offsets */
    size_t                         idlists_state_size;

    /* the specs file last loaded (local mode re-reads it on change) */
    ngx_http_statsig_file_id_t     file_id;

    /* the fetch lease: one worker fetches at a time */
    ngx_pid_t                      lease_pid;
    uint64_t                       lease_deadline;     /* ms, wall clock */
    ngx_uint_t                     lease_changes;
    uint64_t                       specs_next;         /* ms, wall clock */
    uint64_t                       idlists_next;

    ngx_http_statsig_stats_t       specs_stats;
    ngx_http_statsig_stats_t       idlists_stats;
    ngx_uint_t                     file_writes;
    ngx_uint_t                     file_write_errors;

    ngx_http_statsig_events_sh_t  *events;

    ngx_http_statsig_slot_t        slots[NGX_HTTP_STATSIG_SLOTS];
} ngx_http_statsig_shctx_t;


typedef struct ngx_http_statsig_main_conf_s  ngx_http_statsig_main_conf_t;

typedef struct {
    ngx_http_statsig_shctx_t      *sh;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_main_conf_t  *smcf;

    /* statsig_specs_file compiled at configuration, until init_zone */
    void                          *file_blob;
    size_t                         file_blob_size;
    ngx_file_info_t                file_info;
} ngx_http_statsig_zone_t;


/* NAME VALUE pairs: statsig_user_custom, _private, statsig_custom_id */
typedef struct {
    ngx_str_t                      name;
    ngx_http_complex_value_t      *value;
} ngx_http_statsig_kv_t;


typedef struct {
    ngx_str_t                      name;
    ngx_http_complex_value_t      *value;
    ngx_http_complex_value_t      *cond;
    ngx_array_t                   *metadata;   /* ngx_http_statsig_kv_t */
} ngx_http_statsig_event_t;


/* statsig_gate $var NAME; statsig_param $var NAME PARAM [default=V]; */
typedef struct {
    ngx_uint_t                     kind;
    ngx_str_t                      name;
    ngx_str_t                      param;
    ngx_http_complex_value_t      *deflt;
} ngx_http_statsig_var_t;


struct ngx_http_statsig_main_conf_s {
    ngx_shm_zone_t                *shm_zone;

    ngx_uint_t                     key_source;
    ngx_str_t                      key_ref;    /* env name or file path */

    /* statsig_api_key: the statsig_api credential (default: the server key) */
    ngx_uint_t                     api_key_source;
    ngx_str_t                      api_key_ref;

    /* the first statsig_api location, for "needs a key" */
    ngx_str_t                      api_file;
    ngx_uint_t                     api_line;

    ngx_str_t                      specs_url;
    ngx_str_t                      specs_file;
    ngx_msec_t                     sync_interval;
    ngx_str_t                      id_lists_url;
    ngx_msec_t                     id_lists_sync_interval;
    ngx_str_t                      events_url;
    ngx_msec_t                     flush_interval;
    ngx_uint_t                     flush_batch;
    size_t                         event_queue;
    ngx_msec_t                     exposure_dedupe;
    ngx_str_t                      environment;
    ngx_msec_t                     upstream_timeout;
    ngx_str_t                      ca_file;
    ngx_str_t                      proxy;

    /* where a statsig directive was first used, for "no statsig_zone" */
    ngx_str_t                      used_file;
    ngx_uint_t                     used_line;
    ngx_str_t                      used_name;

    /* compiled once, shared by every location that keeps the default */
    ngx_http_complex_value_t      *default_ip;
    ngx_http_complex_value_t      *default_user_agent;
};


typedef struct {
    ngx_http_complex_value_t      *user_id;
    ngx_http_complex_value_t      *fields[NGX_HTTP_STATSIG_NFIELDS];
    ngx_array_t                   *custom;     /* ngx_http_statsig_kv_t */
    ngx_array_t                   *private_attrs;
    ngx_array_t                   *custom_ids;

    ngx_str_t                      stable_id_cookie;
    time_t                         stable_id_max_age;

    ngx_flag_t                     exposures;
    ngx_array_t                   *events;     /* ngx_http_statsig_event_t */

    ngx_uint_t                     handler;
} ngx_http_statsig_loc_conf_t;


/* ngx_http_statsig_zone.c */
char *ngx_http_statsig_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_statsig_zone_usage(ngx_shm_zone_t *shm_zone,
    size_t *used);
ngx_int_t ngx_http_statsig_specs_file_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf);
ngx_int_t ngx_http_statsig_specs_file_read(ngx_str_t *path, ngx_log_t *log,
    void **blob, size_t *size, ngx_file_info_t *fi, u_char *err,
    size_t errlen);

/* ngx_http_statsig_snapshot.c */
ngx_int_t ngx_http_statsig_publish(ngx_http_statsig_zone_t *ctx,
    void *specs, size_t specs_size, void *idlists, size_t idlists_size,
    ngx_uint_t source, ngx_log_t *log);
ngx_http_statsig_blob_t *ngx_http_statsig_blob_alloc(
    ngx_http_statsig_zone_t *ctx, size_t size, ngx_log_t *log);
ngx_int_t ngx_http_statsig_publish_blobs(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_blob_t *sb, ngx_http_statsig_blob_t *ib,
    ngx_uint_t source, ngx_log_t *log);
void ngx_http_statsig_gc_locked(ngx_http_statsig_zone_t *ctx);
ngx_int_t ngx_http_statsig_snapshot_init_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_snapshot_exit_worker(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_statsig_pid_alive(ngx_pid_t pid);
uint64_t ngx_http_statsig_now_ms(void);

/* ngx_http_statsig_sync.c */
ngx_int_t ngx_http_statsig_sync_init_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_sync_exit_worker(ngx_cycle_t *cycle);
ngx_int_t ngx_http_statsig_sync_conf(ngx_conf_t *cf,
    ngx_http_statsig_main_conf_t *smcf);
ngx_int_t ngx_http_statsig_get_server_key(ngx_str_t *key);

/* ngx_http_statsig_variables.c */
ngx_int_t ngx_http_statsig_add_variables(ngx_conf_t *cf);
char *ngx_http_statsig_gate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_statsig_param(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_statsig_evaluate(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *name, ngx_str_t *param, ngx_str_t *value);

/* ngx_http_statsig_status.c */
ngx_int_t ngx_http_statsig_status_handler(ngx_http_request_t *r);

/* ngx_http_statsig_api.c */
ngx_int_t ngx_http_statsig_api_handler(ngx_http_request_t *r);

/* ngx_http_statsig_module.c */
void ngx_http_statsig_conf_used(ngx_conf_t *cf);
ngx_http_complex_value_t *ngx_http_statsig_compile(ngx_conf_t *cf,
    ngx_str_t *value);
ngx_int_t ngx_http_statsig_conf_option(ngx_conf_t *cf, ngx_str_t *arg,
    char *expect, ngx_str_t *rest);
ngx_int_t ngx_http_statsig_check_url(ngx_conf_t *cf, ngx_str_t *url,
    ngx_uint_t proxy);


extern ngx_module_t  ngx_http_statsig_module;


#endif /* _NGX_HTTP_STATSIG_MODULE_H_INCLUDED_ */
