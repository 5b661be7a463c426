
/*
 * ngx_http_statsig_module: the sinks' rings in the zone.
 *
 * Each sink has a byte ring carved from the zone once (init_zone, in the
 * master; kept across reloads).  Records are packs, [pack header][deflate
 * bytes of events joined by ","], or for a plain sink [header][one event],
 * written at "tail" and taken at "head";
 * both count bytes ever, so "tail - head" is what is in use, and a record
 * is split in two copies where the ring wraps.  Everything here runs
 * under the zone's lock.
 */


#include "ngx_http_statsig_events.h"


static void ngx_http_statsig_ring_in(ngx_http_statsig_sink_sh_t *ss,
    uint64_t pos, void *data, size_t len);
static void ngx_http_statsig_ring_out(ngx_http_statsig_sink_sh_t *ss,
    uint64_t pos, void *dst, size_t len);


/* a pack at the tail; NGX_DECLINED: no room (the caller counts a drop) */

ngx_int_t
ngx_http_statsig_ring_put_locked(ngx_http_statsig_sink_sh_t *ss,
    ngx_http_statsig_pack_hdr_t *h, u_char *data)
{
    size_t  need, used;

    need = NGX_HTTP_STATSIG_REC_HDR + h->len;
    used = (size_t) (ss->tail - ss->head);

    if (ss->ring == NULL || need > ss->size - used) {
        return NGX_DECLINED;
    }

    ngx_http_statsig_ring_in(ss, ss->tail, h, NGX_HTTP_STATSIG_REC_HDR);
    ngx_http_statsig_ring_in(ss, ss->tail + NGX_HTTP_STATSIG_REC_HDR, data,
                             h->len);

    ss->tail += need;
    ss->events += h->n;
    ss->queued += h->n;

    if (used + need > ss->max_used) {
        ss->max_used = used + need;
    }

    return NGX_OK;
}


/*
 * A plain sink's records, laid end to end in recs as in the ring: as many
 * whole ones as there is room for, in one copy.  Returns the events put
 * (*put: their bytes); the caller counts the rest as dropped.
 */

ngx_uint_t
ngx_http_statsig_ring_put_records_locked(ngx_http_statsig_sink_sh_t *ss,
    u_char *recs, size_t len, size_t *put)
{
    size_t                       room, fit, need;
    ngx_uint_t                   n;
    ngx_http_statsig_pack_hdr_t  h;

    *put = 0;

    if (ss->ring == NULL) {
        return 0;
    }

    room = ss->size - (size_t) (ss->tail - ss->head);
    fit = 0;
    n = 0;

    while (fit < len) {
        ngx_memcpy(&h, recs + fit, NGX_HTTP_STATSIG_REC_HDR);
        need = NGX_HTTP_STATSIG_REC_HDR + h.len;

        if (fit + need > room) {
            break;
        }

        fit += need;
        n += h.n;
    }

    if (fit == 0) {
        return 0;
    }

    ngx_http_statsig_ring_in(ss, ss->tail, recs, fit);

    *put = fit;
    ss->tail += fit;
    ss->events += n;
    ss->queued += n;

    if (ss->size - room + fit > ss->max_used) {
        ss->max_used = ss->size - room + fit;
    }

    return n;
}


static void
ngx_http_statsig_ring_in(ngx_http_statsig_sink_sh_t *ss, uint64_t pos,
    void *data, size_t len)
{
    size_t  off, n;

    off = (size_t) (pos % ss->size);
    n = ngx_min(len, ss->size - off);

    ngx_memcpy(ss->ring + off, data, n);

    if (n < len) {
        ngx_memcpy(ss->ring, (u_char *) data + n, len - n);
    }
}


static void
ngx_http_statsig_ring_out(ngx_http_statsig_sink_sh_t *ss, uint64_t pos,
    void *dst, size_t len)
{
    size_t  off, n;

    off = (size_t) (pos % ss->size);
    n = ngx_min(len, ss->size - off);

    ngx_memcpy(dst, ss->ring + off, n);

    if (n < len) {
        ngx_memcpy((u_char *) dst + n, ss->ring, len - n);
    }
}


/*
 * Moves records out of the ring into the batch, whose buffer holds
 * ngx_http_statsig_pack_max() bytes: as many as keep the batch within max
 * events and max_bytes of events (but always one; a record to be posted
 * alone, only it), one or two memcpy under the lock.
 */

ngx_int_t
ngx_http_statsig_ring_take_locked(ngx_http_statsig_sink_sh_t *ss,
    ngx_http_statsig_batch_t *batch, ngx_uint_t max, size_t max_bytes,
    ngx_log_t *log)
{
    size_t                       bytes, need, raw;
    uint64_t                     pos;
    ngx_uint_t                   n;
    ngx_http_statsig_pack_hdr_t  h;

    bytes = 0;
    raw = 0;
    n = 0;
    pos = ss->head;

    while (pos < ss->tail) {
        ngx_http_statsig_ring_out(ss, pos, &h, NGX_HTTP_STATSIG_REC_HDR);

        need = NGX_HTTP_STATSIG_REC_HDR + h.len;

        if (bytes + need > batch->cap
            || (n && (n + h.n > max || raw + 1 + h.raw > max_bytes
                      || (h.flags & NGX_HTTP_STATSIG_REC_ALONE))))
        {
            break;
        }

        bytes += need;
        raw += (n ? 1 : 0) + h.raw;
        n += h.n;
        pos += need;

        if (h.flags & NGX_HTTP_STATSIG_REC_ALONE) {
            break;
        }
    }

    batch->len = bytes;
    batch->n = n;

    if (bytes == 0) {
        return NGX_DECLINED;
    }

    ngx_http_statsig_ring_out(ss, ss->head, batch->data, bytes);

    ss->head += bytes;
    ss->events -= ngx_min(ss->events, n);
    ss->in_flight += n;

    return NGX_OK;
}


/*
 * Puts a batch back at the head of the ring, ahead of newer events, for
 * whichever worker flushes next.  Returns the events put back: 0 when
 * they no longer fit (the caller counts them lost).
 */

ngx_uint_t
ngx_http_statsig_ring_requeue_locked(ngx_http_statsig_sink_sh_t *ss,
    ngx_http_statsig_batch_t *batch)
{
    ngx_uint_t  n;

    ss->in_flight -= ngx_min(ss->in_flight, batch->n);

    n = ngx_http_statsig_ring_return_locked(ss, batch->data, batch->len,
                                            batch->n);
    ss->requeued += n;

    return n;
}


/*
 * Records taken but not sent (a batch's body had no room for them, they
 * are to go alone, a spill failed) back at the head, not counted as
 * requeued; the caller takes them out of in_flight if they were in it.
 */

ngx_uint_t
ngx_http_statsig_ring_return_locked(ngx_http_statsig_sink_sh_t *ss,
    u_char *data, size_t len, ngx_uint_t n)
{
    if (ss->ring == NULL || len > ss->size - (size_t) (ss->tail - ss->head))
    {
        ss->dropped_lost += n;
        return 0;
    }

    /* written, then made part of the ring: a kill between leaves no half */
    ngx_http_statsig_ring_in(ss, ss->head - len, data, len);
    ss->head -= len;

    ss->events += n;

    return n;
}
