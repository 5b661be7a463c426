
/*
 * ngx_http_statsig_module: the event pipeline.
 *
 *   request path   ngx_http_statsig_events_queue(): the event is copied
 *                  into this worker's list for the end of the event loop
 *                  iteration (a posted event); nothing waits.
 *   iteration end  under the zone mutex once: the exposure dedupe of all
 *                  of the iteration's events; then, without the lock,
 *                  each event goes into this worker's open pack of every
 *                  sink that takes it: deflate-encoded for a sink that
 *                  posts them as they are (src/core/pack.h), or as a
 *                  plain record for a sink that rewrites each event.
 *   pack full or   (events per request, bytes, or the flush tick) the
 *   tick           pack goes into the sink's bounded byte ring in the
 *                  zone as one record (plain ones: their records, in one
 *                  copy); a full ring drops them, counted.
 *   flusher        one worker at a time (a lease in the zone) takes
 *                  records out of the rings and posts them with the
 *                  event-loop HTTP client (ngx_http_statsig_flush.c):
 *                  packs laid end to end in one gzip body, plain events
 *                  one a request or formatted into a batch body.
 *   sinks          destinations described as data
 *                  (ngx_http_statsig_sink_type_t): URL, auth and headers,
 *                  the body's envelope, batch limits, retry classes,
 *                  backoff.  Statsig's log_event is the first one
 *                  (ngx_http_statsig_sink_statsig.c).
 */


#ifndef _NGX_HTTP_STATSIG_EVENTS_H_INCLUDED_
#define _NGX_HTTP_STATSIG_EVENTS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_statsig_conf.h"
#include "ngx_http_statsig_zone.h"
#include "ngx_http_statsig_http.h"

#include "buf.h"
#include "pack.h"


/* what an event is, for a sink's filter */
#define NGX_HTTP_STATSIG_EV_EXPOSURE     0x01
#define NGX_HTTP_STATSIG_EV_CUSTOM       0x02
#define NGX_HTTP_STATSIG_EV_KINDS        0xff
/* with a kind: only these sinks (bit i: sink i; none: every sink) */
#define NGX_HTTP_STATSIG_EV_SINKS(mask)  ((ngx_uint_t) (mask) << 8)

#define NGX_HTTP_STATSIG_MAX_INFLIGHT    16    /* requests per sink */

/* the most a sink's envelope adds to the events of a body */
#define NGX_HTTP_STATSIG_ENVELOPE_MAX    512


/*
 * A ring record: this header, then the pack's deflate bytes, or, for a
 * plain sink, one event's bytes as they are (len == raw, n 1, crc 0).
 */
typedef struct {
    uint32_t                       len;        /* bytes after the header */
    uint32_t                       n;          /* events */
    uint32_t                       crc;        /* CRC-32 of the events */
    uint32_t                       raw;        /* events joined by "," */
    uint32_t                       flags;      /* NGX_HTTP_STATSIG_REC_* */
} ngx_http_statsig_pack_hdr_t;

/* posted by itself: a relayed request, an event a batch cannot carry */
#define NGX_HTTP_STATSIG_REC_ALONE       0x01

/* a relayed request's first byte (no JSON event starts with it) */
#define NGX_HTTP_STATSIG_RELAYED         '\x01'

#define NGX_HTTP_STATSIG_REC_HDR         sizeof(ngx_http_statsig_pack_hdr_t)


/* one sink's share of the zone: its ring and its counters */
typedef struct {
    u_char                        *ring;       /* NULL: sink off */
    size_t                         size;
    uint64_t                       head;       /* bytes taken, ever */
    uint64_t                       tail;       /* bytes written, ever */
    ngx_uint_t                     events;     /* events in the ring */
    ngx_uint_t                     limit;      /* events per request now */
    ngx_atomic_t                   buffered;   /* in workers' open packs */
    size_t                         max_used;   /* high-water mark */

    uint64_t                       queued;     /* taken into the ring */
    uint64_t                       sent;       /* accepted by the sink */
    uint64_t                       retried;    /* events sent again */
    uint64_t                       dropped_full;
    uint64_t                       dropped_rejected;  /* non-retryable */
    uint64_t                       dropped_expired;   /* retries used up */
    uint64_t                       dropped_lost;      /* died in flight */
    uint64_t                       requeued;   /* back into the ring */
    uint64_t                       ignored;    /* not for it: no user id */
    uint64_t                       spooled;    /* spilled to the spool */
    uint64_t                       unspooled;  /* read back from it */
    ngx_atomic_t                   skipped;    /* sink off: not queued */
    ngx_uint_t                     in_flight;  /* events out of the ring */

    ngx_uint_t                     requests;
    ngx_uint_t                     failures;
    ngx_uint_t                     last_status;
    time_t                         last_success;
    time_t                         last_error;
    u_char                         error[NGX_HTTP_STATSIG_ERRLEN];
} ngx_http_statsig_sink_sh_t;


/*
 * A dedupe slot: a 64-bit hash of the SDK's key, when it was logged.  It
 * is read without the lock (ngx_http_statsig_events_seen()), time first.
 */
typedef struct {
    uint64_t                       hash;       /* 0: free */
    ngx_msec_t                     time;
} ngx_http_statsig_dedupe_t;


/*
 * An exposure's dedupe key: the hash of statsig-node's key, and its
 * bucket, chosen by what is known before the evaluation (the user's ids,
 * the entity's and parameter's names), so that the bucket can be fetched
 * from memory while the evaluation runs.
 */
typedef struct {
    uint64_t                       hash;
    uint32_t                       bucket;
} ngx_http_statsig_dedupe_key_t;


/*
 * A worker's events in its open packs, per sink: a worker that dies
 * (kill -9, a crash) loses them, and whoever finds it dead counts them
 * as dropped_lost and takes them out of the sinks' "buffered".
 */
typedef struct {
    ngx_pid_t                      pid;        /* 0: free */
    ngx_atomic_t                   buffered[NGX_HTTP_STATSIG_MAX_SINKS];
} ngx_http_statsig_events_worker_t;


struct ngx_http_statsig_events_sh_s {
    ngx_uint_t                     magic;

    ngx_http_statsig_dedupe_t     *dedupe;
    ngx_uint_t                     dedupe_mask;  /* buckets - 1 */
    ngx_atomic_t                   deduped;
    uint64_t                       dedupe_evicted;

    /* one worker posts batches at a time */
    ngx_http_statsig_lease_t       flush_lease;

    ngx_http_statsig_sink_sh_t     sinks[NGX_HTTP_STATSIG_MAX_SINKS];

    ngx_http_statsig_events_worker_t  workers[NGX_HTTP_STATSIG_SLOTS];
};


typedef struct ngx_http_statsig_sink_s  ngx_http_statsig_sink_t;


/* a batch as the flusher holds it: ring records, copied out */
typedef struct {
    u_char                        *data;       /* [pack hdr][deflate]... */
    size_t                         len;
    size_t                         cap;
    ngx_uint_t                     n;          /* events */
} ngx_http_statsig_batch_t;


/* a growable worker-memory buffer (ngx_alloc) */
typedef struct {
    u_char                        *data;
    size_t                         len;
    size_t                         cap;
} ngx_http_statsig_wbuf_t;


/* what every statsig_sink NAME takes besides its own keys */
typedef struct {
    ngx_str_t                      url;        /* url=: the API's base */
    ngx_uint_t                     kinds;      /* events=custom|... */
    ngx_uint_t                     rate;       /* rate=N requests/s */
} ngx_http_statsig_sink_conf_t;


/* a retryable status range; network errors are status 0 */
typedef struct {
    ngx_uint_t                     from;
    ngx_uint_t                     to;
} ngx_http_statsig_range_t;


/*
 * A destination, as data.  A new sink is a new entry of this type plus
 * its few writer functions; the queue, flusher, retries and counters are
 * shared.
 */
typedef struct {
    char                          *name;       /* status and logs */
    ngx_uint_t                     kinds;      /* NGX_HTTP_STATSIG_EV_* */
    ngx_uint_t                     max_batch;  /* events per request */
    size_t                         max_bytes;  /* uncompressed events */
    size_t                         max_body;   /* a body of items */
    ngx_uint_t                     max_attempts;
    ngx_uint_t                     max_inflight;  /* requests at once */
    ngx_msec_t                     backoff_base;
    ngx_msec_t                     backoff_max;
    ngx_http_statsig_range_t      *retry;      /* to == 0 ends it */
    ngx_uint_t                     too_large;  /* status that splits */
    ngx_uint_t                     plain;      /* records, not packs */

    /*
     * "statsig_sink NAME ARGS": args[0 .. n) into a conf of the type's own
     * (smcf->sinks[index]); NULL: the sink is not configured that way
     */
    char                        *(*conf)(ngx_conf_t *cf,
                                         ngx_http_statsig_main_conf_t *smcf,
                                         ngx_uint_t index, ngx_str_t *args,
                                         ngx_uint_t n);
    /*
     * per worker: settings from the configuration (url, kinds, rate);
     * NGX_DECLINED: off
     */
    ngx_int_t                    (*init)(ngx_http_statsig_sink_t *sink,
                                         ngx_http_statsig_main_conf_t *smcf);
    /* NGX_DECLINED: not now (no key yet), try again later */
    ngx_int_t                    (*ready)(ngx_http_statsig_sink_t *sink);
    /* request headers ("Name: value") for a batch of n events */
    ngx_int_t                    (*headers)(ngx_http_statsig_sink_t *sink,
                                            ngx_uint_t n, ngx_uint_t attempt,
                                            ngx_array_t *headers,
                                            ngx_pool_t *pool);
    /*
     * a plain sink's event posted alone: the request's path (after the
     * sink's url) and body from the event's JSON.  NGX_DECLINED: not for
     * this sink (counted as ignored); NGX_ERROR: never acceptable (*err
     * says why) or, *err NULL, no memory.  NULL: the body is the batch's
     * packs in the envelope below, gzip.
     */
    ngx_int_t                    (*format)(ngx_http_statsig_sink_t *sink,
                                           u_char *event, size_t len,
                                           ngx_str_t *path, ngx_str_t *body,
                                           u_char **err);
    /*
     * a plain sink's event as an item of a batch body, appended to out.
     * NGX_DECLINED: not for this sink (ignored); NGX_AGAIN: it must be
     * posted alone (by format); NGX_ERROR: as format.  NULL: every event
     * is posted alone.
     */
    ngx_int_t                    (*item)(ngx_http_statsig_sink_t *sink,
                                         u_char *event, size_t len,
                                         statsig_buf_t *out, u_char **err);
    /*
     * what the body holds around its events or items (joined by ","), at
     * most NGX_HTTP_STATSIG_ENVELOPE_MAX bytes; packs' bodies are gzip
     */
    void                         (*envelope)(ngx_http_statsig_sink_t *sink,
                                             ngx_str_t *prefix,
                                             ngx_str_t *suffix);
    /*
     * statsig_api's relay of the vendor's own body (identifier: the path's
     * person, or NULL), checked as the vendor checks it, into the record
     * the sink then posts as it is.  NGX_ERROR: *msg says why (a 400), or
     * no memory (msg NULL).  NULL: the sink relays nothing.
     */
    ngx_int_t                    (*relay)(ngx_http_statsig_sink_t *sink,
                                          ngx_str_t *identifier,
                                          ngx_str_t *body,
                                          statsig_buf_t *record,
                                          const char **msg);
    /* the worker exits: what init and ready kept (secrets) goes; or NULL */
    void                         (*exit)(ngx_http_statsig_sink_t *sink);
    /*
     * a 2xx answer to a request of n events: NGX_OK accepted, but for the
     * *refused ones the answer names (dropped, their reason in reason);
     * NGX_DECLINED refused as a whole (retryable).  NULL: any 2xx is
     * accepted.
     */
    ngx_int_t                    (*accepted)(ngx_http_statsig_sink_t *sink,
                                             ngx_http_statsig_http_res_t *res,
                                             ngx_uint_t n,
                                             ngx_uint_t *refused,
                                             u_char *reason, size_t size);
} ngx_http_statsig_sink_type_t;


/* the flusher's batches of one sink, in worker memory */
typedef struct {
    ngx_http_statsig_batch_t       batch;
    ngx_http_statsig_http_req_t   *req;        /* in flight */
    ngx_http_statsig_sink_t       *sink;
    ngx_uint_t                     attempts;
    unsigned                       busy:1;     /* holds a batch */
} ngx_http_statsig_slot_batch_t;


/* a sink in a worker: its type, settings and flusher state */
struct ngx_http_statsig_sink_s {
    ngx_http_statsig_sink_type_t  *type;
    ngx_uint_t                     index;      /* in sh->sinks */
    ngx_uint_t                     enabled;
    ngx_str_t                      url;
    ngx_str_t                      batch_url;  /* items' batches */
    ngx_uint_t                     kinds;      /* NGX_HTTP_STATSIG_EV_* */
    ngx_uint_t                     rate;       /* requests/s; 0: any */
    ngx_msec_t                     tokens;     /* a request: 1000 */
    ngx_msec_t                     refilled;
    ngx_uint_t                     batch;      /* events per request */
    ngx_uint_t                     limit;      /* lowered by 413s */
    ngx_http_statsig_main_conf_t  *smcf;
    void                          *data;       /* the type's own state */

    /* this worker's open pack: events not in the ring yet */
    statsig_pack_t                 pack;
    ngx_http_statsig_wbuf_t        records;    /* a plain sink's */
    ngx_uint_t                     pack_events;
    ngx_uint_t                     unpublished;  /* not in ->buffered */

    ngx_http_statsig_slot_batch_t  slots[NGX_HTTP_STATSIG_MAX_INFLIGHT];
    ngx_uint_t                     in_flight;  /* requests */
    ngx_uint_t                     held;       /* events in slots */
    ngx_msec_t                     backoff;    /* 0: healthy */
    ngx_msec_t                     retry_at;
    ngx_msec_t                     last_take;
    ngx_http_statsig_report_t      report;     /* its failures' log */
};


/* ngx_http_statsig_events.c */
ngx_int_t ngx_http_statsig_events_init_zone(ngx_shm_zone_t *shm_zone);
ngx_int_t ngx_http_statsig_events_init_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_events_exit_worker(ngx_cycle_t *cycle);
ngx_http_statsig_sink_t *ngx_http_statsig_events_sinks(ngx_uint_t *n);
char *ngx_http_statsig_sink(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_statsig_sinks_mask(ngx_conf_t *cf, ngx_str_t *names,
    ngx_uint_t *mask);
ngx_int_t ngx_http_statsig_sink_index(char *name);
const char *ngx_http_statsig_sink_name(ngx_uint_t index);
ngx_http_statsig_sink_t *ngx_http_statsig_events_sink(char *name);
ngx_uint_t ngx_http_statsig_events_room(ngx_http_statsig_sink_t *sink,
    size_t len);
ngx_int_t ngx_http_statsig_sink_conf(ngx_conf_t *cf,
    ngx_http_statsig_sink_conf_t *sc, ngx_str_t *arg, ngx_str_t *key,
    ngx_str_t *value);
ngx_int_t ngx_http_statsig_sink_secret(ngx_conf_t *cf, char *sink,
    ngx_str_t *key, ngx_str_t *value, ngx_http_statsig_secret_t *secret);
ngx_uint_t ngx_http_statsig_events_enabled(void);
ngx_uint_t ngx_http_statsig_events_wanted(ngx_uint_t kind);
ngx_int_t ngx_http_statsig_events_push(ngx_log_t *log, ngx_uint_t kind,
    ngx_str_t *record);
ngx_int_t ngx_http_statsig_events_queue(ngx_log_t *log, ngx_uint_t kind,
    ngx_str_t *record, ngx_http_statsig_dedupe_key_t *key);
statsig_buf_t *ngx_http_statsig_events_place(ngx_uint_t kind, size_t *at);
void ngx_http_statsig_events_drop(size_t at);
ngx_int_t ngx_http_statsig_events_commit(ngx_uint_t kind, size_t at,
    ngx_http_statsig_dedupe_key_t *key);
ngx_uint_t ngx_http_statsig_events_close_packs(void);
ngx_uint_t ngx_http_statsig_events_reap_locked(ngx_log_t *log);
size_t ngx_http_statsig_pack_max(ngx_http_statsig_sink_t *sink,
    ngx_http_statsig_sink_sh_t *ss);

ngx_http_statsig_events_sh_t *ngx_http_statsig_events_sh(void);
ngx_slab_pool_t *ngx_http_statsig_events_shpool(void);
ngx_int_t ngx_http_statsig_wbuf_add(ngx_http_statsig_wbuf_t *b,
    void *data, size_t len, ngx_log_t *log);
ngx_int_t ngx_http_statsig_wbuf_reserve(ngx_http_statsig_wbuf_t *b,
    size_t len, ngx_log_t *log);

/* ngx_http_statsig_ring.c */
ngx_int_t ngx_http_statsig_ring_put_locked(ngx_http_statsig_sink_sh_t *ss,
    ngx_http_statsig_pack_hdr_t *h, u_char *data);
ngx_int_t ngx_http_statsig_ring_take_locked(ngx_http_statsig_sink_sh_t *ss,
    ngx_http_statsig_batch_t *batch, ngx_uint_t max, size_t max_bytes,
    ngx_log_t *log);
ngx_uint_t ngx_http_statsig_ring_put_records_locked(
    ngx_http_statsig_sink_sh_t *ss, u_char *recs, size_t len, size_t *put);
ngx_uint_t ngx_http_statsig_ring_requeue_locked(
    ngx_http_statsig_sink_sh_t *ss, ngx_http_statsig_batch_t *batch);
ngx_uint_t ngx_http_statsig_ring_return_locked(
    ngx_http_statsig_sink_sh_t *ss, u_char *data, size_t len, ngx_uint_t n);

/* ngx_http_statsig_spool.c */
char *ngx_http_statsig_event_spool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_statsig_spool_exit(ngx_http_statsig_main_conf_t *smcf,
    ngx_http_statsig_events_sh_t *es, ngx_slab_pool_t *shpool,
    ngx_log_t *log);
ngx_uint_t ngx_http_statsig_spool_restore(ngx_http_statsig_main_conf_t *smcf,
    ngx_uint_t index, ngx_http_statsig_sink_sh_t *ss, ngx_shmtx_t *mutex,
    ngx_log_t *log);
ngx_uint_t ngx_http_statsig_spool_spill(ngx_http_statsig_main_conf_t *smcf,
    ngx_uint_t index, ngx_http_statsig_sink_sh_t *ss, ngx_shmtx_t *mutex,
    ngx_log_t *log);
void ngx_http_statsig_spool_exit_worker(void);

/* ngx_http_statsig_dedupe.c */
ngx_int_t ngx_http_statsig_dedupe_init_zone_locked(ngx_shm_zone_t *shm_zone,
    ngx_http_statsig_events_sh_t *es);
void ngx_http_statsig_dedupe_init_worker(ngx_http_statsig_events_sh_t *es,
    ngx_slab_pool_t *shpool, ngx_msec_t window, ngx_log_t *log);
void ngx_http_statsig_dedupe_exit_worker(void);
ngx_uint_t ngx_http_statsig_dedupe_on(void);
ngx_uint_t ngx_http_statsig_dedupe_entries(ngx_http_statsig_events_sh_t *es);
statsig_buf_t *ngx_http_statsig_dedupe_key(void);
uint64_t ngx_http_statsig_dedupe_hash(u_char *p, size_t len);
uint32_t ngx_http_statsig_dedupe_bucket(uint64_t user, ngx_str_t *name,
    ngx_str_t *param);
void ngx_http_statsig_dedupe_prefetch(uint32_t bucket);
ngx_uint_t ngx_http_statsig_dedupe_seen(ngx_http_statsig_dedupe_key_t *key);
ngx_uint_t ngx_http_statsig_dedupe_locked(ngx_http_statsig_dedupe_key_t *key,
    ngx_msec_t now);
void ngx_http_statsig_dedupe_fold_locked(void);

/* ngx_http_statsig_flush.c */
ngx_int_t ngx_http_statsig_flush_init_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_flush_exit_worker(ngx_cycle_t *cycle);
void ngx_http_statsig_flush_notify(ngx_uint_t pending_full);

/* ngx_http_statsig_sink_statsig.c, _customerio.c, _gainsight_px.c */
extern ngx_http_statsig_range_t      ngx_http_statsig_sink_transient[];
extern ngx_http_statsig_sink_type_t  ngx_http_statsig_sink_statsig;
extern ngx_http_statsig_sink_type_t  ngx_http_statsig_sink_customerio;
extern ngx_http_statsig_sink_type_t  ngx_http_statsig_sink_gainsight_px;


#endif /* _NGX_HTTP_STATSIG_EVENTS_H_INCLUDED_ */
