
/*
 * ngx_http_statsig_module: exposure dedupe.
 *
 * statsig-node's key of an exposure (user ids, event, metadata values but
 * times and reason) hashed to 64 bits, in a 16-way table of fixed size in
 * the zone, with the time it was last logged; an identical exposure within
 * statsig_exposure_dedupe is not logged again.  When a bucket is full the
 * oldest entry gives way (counted): a duplicate may then be logged, which
 * costs volume, never correctness.
 *
 * The request path probes the table without the lock (seen) after
 * prefetching the key's bucket before the evaluation; the end of the
 * event loop iteration decides under the lock (locked).
 */


#include "ngx_http_statsig_events.h"
#include "exposure.h"
#include "hash.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif


/*
 * 16-way buckets (four cache lines, 256 bytes): users who keep coming
 * back while the table is full of other live keys evict each other only
 * where more than 16 of them share a bucket, and then, as the oldest goes
 * first, on every round of their visits.  With 8 ways, 10,000 users x 3
 * gates in a 64 MB zone (131,072 entries) had 2 or 3 buckets of 9 keys:
 * 76 to 407 exposures logged again in a few seconds; with 4 ways, 38,398
 * exposures instead of 30,000.
 */
#define NGX_HTTP_STATSIG_DEDUPE_WAYS   16
/* bytes of a bucket */
#define NGX_HTTP_STATSIG_DEDUPE_BUCKET                                        \
    (NGX_HTTP_STATSIG_DEDUPE_WAYS * sizeof(ngx_http_statsig_dedupe_t))


/* this worker's view of the table */
typedef struct {
    ngx_http_statsig_events_sh_t  *sh;
    ngx_slab_pool_t               *shpool;
    /* es->dedupe and its mask, read here: the zone's line is busy */
    ngx_http_statsig_dedupe_t     *table;     /* NULL: no dedupe */
    ngx_uint_t                     mask;
    ngx_msec_t                     window;

    /* exposures found deduped without the lock, not yet in the zone */
    ngx_uint_t                     deduped;

    /* the exposure writer's key, reused */
    statsig_buf_t                  key;
} ngx_http_statsig_dedupe_table_t;


static ngx_http_statsig_dedupe_table_t  ngx_http_statsig_dedupe;


/*
 * The last names' hashes, for their buckets: a server's requests read the
 * same few entities over and over, and a name costs a compare, not a hash
 */
#define NGX_HTTP_STATSIG_DEDUPE_NAMES     8
#define NGX_HTTP_STATSIG_DEDUPE_NAME_MAX  48

typedef struct {
    uint64_t                       hash;
    size_t                         len;        /* 0: empty */
    u_char                         name[NGX_HTTP_STATSIG_DEDUPE_NAME_MAX];
} ngx_http_statsig_dedupe_name_t;

static ngx_http_statsig_dedupe_name_t
    ngx_http_statsig_dedupe_names[NGX_HTTP_STATSIG_DEDUPE_NAMES];


/* init_zone, under the zone's lock: about 1/32 of the zone */

ngx_int_t
ngx_http_statsig_dedupe_init_zone_locked(ngx_shm_zone_t *shm_zone,
    ngx_http_statsig_events_sh_t *es)
{
    size_t                    n;
    ngx_uint_t                buckets;
    ngx_http_statsig_zone_t  *ctx;

    ctx = shm_zone->data;

    if (es->dedupe || ctx->smcf->exposure_dedupe == 0) {
        return NGX_OK;
    }

    /* a power of two of 16-way buckets */
    n = shm_zone->shm.size / 32 / NGX_HTTP_STATSIG_DEDUPE_BUCKET;

    for (buckets = 16; buckets * 2 <= n; buckets *= 2) {
        /* void */
    }

    es->dedupe = ngx_slab_calloc_locked(ctx->shpool,
                                  buckets * NGX_HTTP_STATSIG_DEDUPE_BUCKET);
    if (es->dedupe == NULL) {
        return NGX_ERROR;
    }

    es->dedupe_mask = buckets - 1;

    return NGX_OK;
}


/* window 0: nothing dedupes (no sink takes exposures, or it is off) */

void
ngx_http_statsig_dedupe_init_worker(ngx_http_statsig_events_sh_t *es,
    ngx_slab_pool_t *shpool, ngx_msec_t window, ngx_log_t *log)
{
    ngx_http_statsig_dedupe_table_t  *ev;

    ev = &ngx_http_statsig_dedupe;

    ngx_memzero(ev, sizeof(ngx_http_statsig_dedupe_table_t));

    ev->sh = es;
    ev->shpool = shpool;
    statsig_buf_init(&ev->key);

    if (window == 0 || es->dedupe == NULL) {
        return;
    }

    ev->window = window;
    ev->table = es->dedupe;
    ev->mask = es->dedupe_mask;

    ngx_http_statsig_zone_map(ev->table,
                              (ev->mask + 1) * NGX_HTTP_STATSIG_DEDUPE_BUCKET,
                              log);
}


void
ngx_http_statsig_dedupe_exit_worker(void)
{
    ngx_http_statsig_dedupe_table_t  *ev;

    ev = &ngx_http_statsig_dedupe;

    if (ev->sh == NULL) {
        return;
    }

    if (ev->deduped) {
        ngx_shmtx_lock(&ev->shpool->mutex);
        ngx_http_statsig_dedupe_fold_locked();
        ngx_shmtx_unlock(&ev->shpool->mutex);
    }

    statsig_buf_free(&ev->key);

    ev->table = NULL;
    ev->sh = NULL;
}


ngx_uint_t
ngx_http_statsig_dedupe_on(void)
{
    return ngx_http_statsig_dedupe.table != NULL;
}


/* the table's size, for the status (es: a copy of the zone's) */

ngx_uint_t
ngx_http_statsig_dedupe_entries(ngx_http_statsig_events_sh_t *es)
{
    return es->dedupe ? (es->dedupe_mask + 1) * NGX_HTTP_STATSIG_DEDUPE_WAYS
                      : 0;
}


/*
 * Where the exposure writer puts statsig-node's dedupe key, or NULL when
 * nothing dedupes (statsig_exposure_dedupe 0, no sink takes exposures).
 */

statsig_buf_t *
ngx_http_statsig_dedupe_key(void)
{
    ngx_http_statsig_dedupe_table_t  *ev;

    ev = &ngx_http_statsig_dedupe;

    /* the table is only mapped when a sink takes exposures */
    if (ev->table == NULL) {
        return NULL;
    }

    return &ev->key;
}


/*
 * How old an entry is: each worker's ngx_current_msec is cached at its
 * own moment, so another worker's entry may be a few ms "ahead": age 0,
 * not a wrapped difference that would make it look expired.
 */

static ngx_inline ngx_msec_t
ngx_http_statsig_dedupe_age(ngx_msec_t now, ngx_msec_t t)
{
    return ((ngx_msec_int_t) (now - t) > 0) ? now - t : 0;
}


/* a key's bucket: NGX_HTTP_STATSIG_DEDUPE_WAYS slots, 256 bytes */

static ngx_inline ngx_http_statsig_dedupe_t *
ngx_http_statsig_dedupe_slots(ngx_http_statsig_dedupe_table_t *ev,
    uint32_t bucket)
{
    return &ev->table[(bucket & ev->mask)
                       * NGX_HTTP_STATSIG_DEDUPE_WAYS];
}


/*
 * Whether a bucket may hold the hash: 0 when no slot's hash has its low
 * 32 bits, a new key's usual answer (the slots are then not read one by
 * one).  The loads are plain: a torn read only makes the caller read the
 * slots, with its own atomic loads.
 */

static ngx_inline ngx_uint_t
ngx_http_statsig_dedupe_maybe(ngx_http_statsig_dedupe_t *b, uint64_t hash)
{
#if defined(__SSE2__)
    ngx_uint_t   i;
    __m128       x0, x1;
    __m128i      h, m;
    const float  *f;

    /* slots of 16 bytes, the hash first; the table is page aligned */
    if (sizeof(ngx_http_statsig_dedupe_t) != 16
        || NGX_HTTP_STATSIG_DEDUPE_WAYS % 4)
    {
        return 1;
    }

    h = _mm_set1_epi32((int) (uint32_t) hash);
    m = _mm_setzero_si128();
    f = (const float *) b;

    /* the low halves of four slots side by side, compared at once */
    for (i = 0; i < NGX_HTTP_STATSIG_DEDUPE_WAYS; i += 4) {
        x0 = _mm_shuffle_ps(_mm_load_ps(f), _mm_load_ps(f + 4),
                            _MM_SHUFFLE(0, 0, 0, 0));
        x1 = _mm_shuffle_ps(_mm_load_ps(f + 8), _mm_load_ps(f + 12),
                            _MM_SHUFFLE(0, 0, 0, 0));
        x0 = _mm_shuffle_ps(x0, x1, _MM_SHUFFLE(2, 0, 2, 0));
        m = _mm_or_si128(m, _mm_cmpeq_epi32(_mm_castps_si128(x0), h));
        f += 16;
    }

    return _mm_movemask_epi8(m) != 0;
#else
    return 1;
#endif
}


/*
 * Under the lock: 1 (counted as deduped) when the key was logged within
 * the window; else it is entered, logged now, and 0.
 */

ngx_uint_t
ngx_http_statsig_dedupe_locked(ngx_http_statsig_dedupe_key_t *key,
    ngx_msec_t now)
{
    uint64_t                          hash;
    ngx_uint_t                        i;
    ngx_msec_t                        window;
    ngx_http_statsig_dedupe_t        *b, *free, *oldest;
    ngx_http_statsig_dedupe_table_t  *ev;

    ev = &ngx_http_statsig_dedupe;

    b = ngx_http_statsig_dedupe_slots(ev, key->bucket);
    hash = key->hash;
    window = ev->window;

    free = NULL;
    oldest = &b[0];

    /* the key first, by its hash alone: most keys are new */
    if (ngx_http_statsig_dedupe_maybe(b, hash)) {
        for (i = 0; i < NGX_HTTP_STATSIG_DEDUPE_WAYS; i++) {
            if (b[i].hash != hash) {
                continue;
            }

            if (ngx_http_statsig_dedupe_age(now, b[i].time) < window) {
                (void) ngx_atomic_fetch_add(&ev->sh->deduped, 1);
                return 1;
            }

            __atomic_store_n(&b[i].time, now, __ATOMIC_RELEASE);
            return 0;
        }
    }

    for (i = 0; i < NGX_HTTP_STATSIG_DEDUPE_WAYS; i++) {
        if (b[i].hash == 0
            || ngx_http_statsig_dedupe_age(now, b[i].time) >= window)
        {
            free = &b[i];
            break;

        } else if (b[i].time < oldest->time) {
            oldest = &b[i];
        }
    }

    if (free == NULL) {
        ev->sh->dedupe_evicted++;
        free = oldest;
    }

    /*
     * The hash, then the time (a release: after the hash on every CPU),
     * so that a reader who reads the time first, then the hash, never
     * pairs this time with the hash it replaces.
     */
    __atomic_store_n(&free->hash, hash, __ATOMIC_RELAXED);
    __atomic_store_n(&free->time, now, __ATOMIC_RELEASE);

    return 0;
}


/*
 * Whether an exposure with this dedupe key was logged within the window,
 * looked up without the lock (counted as deduped when it was, in the
 * zone's counter later: ngx_http_statsig_dedupe_fold_locked()): a writer
 * that finds it skips writing the event.  A racing insert of the same
 * key is a duplicate too; anything missed here is caught by the locked
 * lookup at the end of the iteration.  The bucket stays in the cache for
 * that lookup.
 *
 * A slot whose hash matches has its time read before its hash again
 * (acquire loads: plain loads on x86, no fence): a hash seen with a live
 * time is either the entry the time belongs to, or a newer insert of
 * that hash, logged now.
 */

ngx_uint_t
ngx_http_statsig_dedupe_seen(ngx_http_statsig_dedupe_key_t *key)
{
    ngx_uint_t                        i;
    ngx_msec_t                        now, t;
    ngx_http_statsig_dedupe_t        *b;
    ngx_http_statsig_dedupe_table_t  *ev;

    ev = &ngx_http_statsig_dedupe;

    if (key->hash == 0 || ev->table == NULL) {
        return 0;
    }

    b = ngx_http_statsig_dedupe_slots(ev, key->bucket);

    if (!ngx_http_statsig_dedupe_maybe(b, key->hash)) {
        return 0;
    }

    now = ngx_current_msec;

    for (i = 0; i < NGX_HTTP_STATSIG_DEDUPE_WAYS; i++) {
        /* a slot of another key is passed over by its hash alone */
        if (__atomic_load_n(&b[i].hash, __ATOMIC_RELAXED) != key->hash) {
            continue;
        }

        t = __atomic_load_n(&b[i].time, __ATOMIC_ACQUIRE);

        if (__atomic_load_n(&b[i].hash, __ATOMIC_ACQUIRE) == key->hash
            && ngx_http_statsig_dedupe_age(now, t) < ev->window)
        {
            /* counted in the zone with the next lock taken */
            ev->deduped++;
            return 1;
        }
    }

    return 0;
}


/*
 * Starts fetching a bucket (its four lines) from memory: a fresh key's
 * bucket is a cache miss, and with the evaluation in between, the probe
 * after it waits for nothing.
 */

void
ngx_http_statsig_dedupe_prefetch(uint32_t bucket)
{
    u_char                           *b;
    ngx_http_statsig_dedupe_table_t  *ev;

    ev = &ngx_http_statsig_dedupe;

    if (ev->table == NULL) {
        return;
    }

    b = (u_char *) ngx_http_statsig_dedupe_slots(ev, bucket);

    __builtin_prefetch(b);
    __builtin_prefetch(b + 64);
    __builtin_prefetch(b + 128);
    __builtin_prefetch(b + 192);
}


/*
 * Under the zone lock: adds the exposures this worker found deduped
 * without the lock to the zone's counter (on every push and flush tick).
 */

void
ngx_http_statsig_dedupe_fold_locked(void)
{
    ngx_http_statsig_dedupe_table_t  *ev;

    ev = &ngx_http_statsig_dedupe;

    if (ev->sh && ev->deduped) {
        (void) ngx_atomic_fetch_add(&ev->sh->deduped, ev->deduped);
        ev->deduped = 0;
    }
}


/*
 * The dedupe key's 64-bit hash (MurmurHash64A, eight bytes a step);
 * never 0 (a free slot).  The values are kept in the zone across reloads:
 * they must not change (t/unit/test_exposure checks them).
 */

uint64_t
ngx_http_statsig_dedupe_hash(u_char *p, size_t len)
{
    return statsig_exposure_key_hash(NULL, 0, p, len);
}


/*
 * A dedupe bucket: the user's part of the key (user ids) picks a page of
 * the table (4 KB: 16 buckets), the entity's and layer parameter's names
 * the bucket in it, all known before the evaluation.  The exposures of a
 * request then miss the TLB once, not once each.  Keys that differ only
 * by rule or value share a bucket.
 */

#define NGX_HTTP_STATSIG_DEDUPE_PAGE_BITS  4    /* 4096 / (16 ways x 16) */

static uint64_t
ngx_http_statsig_dedupe_name_hash(ngx_str_t *name)
{
    size_t                           len;
    ngx_http_statsig_dedupe_name_t  *n;

    len = name->len;

    if (len == 0 || len > NGX_HTTP_STATSIG_DEDUPE_NAME_MAX) {
        return ngx_http_statsig_dedupe_hash(name->data, len);
    }

    n = &ngx_http_statsig_dedupe_names[(len ^ name->data[0]
                                        ^ name->data[len - 1])
                                       % NGX_HTTP_STATSIG_DEDUPE_NAMES];

    if (n->len == len
        && statsig_mem_eq(n->name, name->data, len))
    {
        return n->hash;
    }

    n->hash = ngx_http_statsig_dedupe_hash(name->data, len);
    n->len = len;
    ngx_memcpy(n->name, name->data, len);

    return n->hash;
}


uint32_t
ngx_http_statsig_dedupe_bucket(uint64_t user, ngx_str_t *name,
    ngx_str_t *param)
{
    uint64_t  h;

    h = user ^ ngx_http_statsig_dedupe_name_hash(name);

    if (param && param->len) {
        h ^= ngx_http_statsig_dedupe_hash(param->data, param->len) << 1;
    }

    /* a 64-bit finalizer (MurmurHash3's fmix64) */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    return (uint32_t) (user >> 32) << NGX_HTTP_STATSIG_DEDUPE_PAGE_BITS
           | ((uint32_t) h
              & ((1u << NGX_HTTP_STATSIG_DEDUPE_PAGE_BITS) - 1));
}
