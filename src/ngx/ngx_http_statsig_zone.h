
/*
 * ngx_http_statsig_module: the shared zone.
 *
 * One zone per http{} holds what every worker shares: the published
 * snapshot (compiled specs and ID lists, by generation), what the sync
 * knows of its sources, the leases, the counters statsig_status shows,
 * and the event rings (ngx_http_statsig_events.h).  A snapshot is
 * published whole and never changed; readers pin a generation
 * (ngx_http_statsig_snapshot.h).
 */


#ifndef _NGX_HTTP_STATSIG_ZONE_H_INCLUDED_
#define _NGX_HTTP_STATSIG_ZONE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_statsig_conf.h"
#include "ngx_http_statsig_lease.h"
#include "ngx_http_statsig_report.h"


#define NGX_HTTP_STATSIG_SLOTS           256
#define NGX_HTTP_STATSIG_GEN_NONE        ((ngx_atomic_uint_t) -1)

#define NGX_HTTP_STATSIG_SOURCE_NONE     0
#define NGX_HTTP_STATSIG_SOURCE_FILE     1
#define NGX_HTTP_STATSIG_SOURCE_NETWORK  2

#define NGX_HTTP_STATSIG_STATE_UNKNOWN   0
#define NGX_HTTP_STATSIG_STATE_OK        1
#define NGX_HTTP_STATSIG_STATE_FAILING   2


/*
 * A compiled blob in the zone: this header, then the blob.  The slab
 * aligns the allocation; the header's 64 bytes keep the blob on a cache
 * line, as the compiler aligns conditions (SG_COND_ALIGN).
 */
typedef struct {
    ngx_uint_t                     refs;      /* records using it */
    size_t                         size;
    u_char                         pad[64 - sizeof(ngx_uint_t)
                                       - sizeof(size_t)];
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
    ngx_http_statsig_report_t      report;    /* the last error */
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


/*
 * A file the sync keeps on disk (the specs, the ID lists): its writes,
 * and a write that failed and is retried (ngx_http_statsig_disk.c).
 */
typedef struct {
    ngx_uint_t                     writes;
    ngx_uint_t                     errors;
    time_t                         written;   /* the last good write */
    ngx_uint_t                     pending;   /* newer content not on disk */
    uint64_t                       version;   /* of what the zone holds */
    ngx_http_statsig_report_t      report;    /* the last error */
} ngx_http_statsig_file_st_t;


/*
 * The ID lists kept on disk beside the specs file ("<specs file>.idlists"):
 * this header, what the fetch resumes from (statsig_idlist_state_write)
 * and, at the next 8-byte boundary, the ID-list blob.  Native byte order:
 * the file is for this machine.  A file that starts with "{" instead is
 * an operator's: {"list": ["id", ...]}, ids not hashed.
 */
#define NGX_HTTP_STATSIG_IDLISTS_MAGIC  "SGIDLST1"
#define NGX_HTTP_STATSIG_IDLISTS_ORDER  0x01020304

typedef struct {
    u_char                         magic[8];
    uint32_t                       crc;        /* of what follows */
    uint32_t                       order;
    uint64_t                       state_len;
    uint64_t                       blob_len;
} ngx_http_statsig_idlists_file_t;

#define ngx_http_statsig_idlists_blob_off(state_len)                         \
    (sizeof(ngx_http_statsig_idlists_file_t) + ngx_align(state_len, 8))


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

    /* one worker fetches at a time */
    ngx_http_statsig_lease_t       lease;
    uint64_t                       specs_next;         /* ms, wall clock */
    uint64_t                       idlists_next;

    ngx_http_statsig_stats_t       specs_stats;
    ngx_http_statsig_stats_t       idlists_stats;
    ngx_http_statsig_file_st_t     specs_file;
    ngx_http_statsig_file_st_t     idlists_file;
    ngx_http_statsig_file_id_t     idlists_file_id;    /* local mode */

    ngx_http_statsig_events_sh_t  *events;

    ngx_http_statsig_slot_t        slots[NGX_HTTP_STATSIG_SLOTS];
} ngx_http_statsig_shctx_t;


typedef struct {
    ngx_http_statsig_shctx_t      *sh;
    ngx_slab_pool_t               *shpool;
    ngx_http_statsig_main_conf_t  *smcf;

    /* statsig_specs_file compiled at configuration, until init_zone */
    void                          *file_blob;
    size_t                         file_blob_size;
    ngx_file_info_t                file_info;

    /* the ID lists kept beside it: "<statsig_specs_file>.idlists" */
    ngx_str_t                      idlists_file;
    void                          *idl_blob;
    size_t                         idl_blob_size;
    u_char                        *idl_state;
    size_t                         idl_state_size;
    ngx_file_info_t                idl_info;
} ngx_http_statsig_zone_t;


/* ngx_http_statsig_zone.c */
char *ngx_http_statsig_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_statsig_zone_init(ngx_shm_zone_t *shm_zone, void *data);
void ngx_http_statsig_zone_load_file(ngx_shm_zone_t *shm_zone);
void ngx_http_statsig_zone_map(void *p, size_t size, ngx_log_t *log);
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
void ngx_http_statsig_snapshot_idle(void);


#endif /* _NGX_HTTP_STATSIG_ZONE_H_INCLUDED_ */
