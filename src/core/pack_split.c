/*
 * Splitting a pack a sink refused as too large (HTTP 413): the flusher
 * sends its events again as two packs of half the events each.
 *
 * A pack is all a batch keeps of its events, so the pack is inflated
 * (zlib; it is plain raw deflate) and checked against what its record
 * says: the length, the CRC-32, and that it ends as every pack does, on
 * an empty stored block at a block boundary.  Anything else means the
 * batch memory is not what the events ring held, and nothing of it is
 * sent.
 *
 * The events are JSON values joined by ",": the split is at the top-level
 * comma after the first n / 2, found by a scan that knows strings and
 * nesting (a comma inside "..." or {...} is an event's own).  Each half
 * is then written event by event with statsig_pack_add(), as the sink
 * wrote the pack, so that its events are deflated against each other
 * again: a half as one record would be literals, several times the
 * bytes of the pack it came from, and the halves would again be too large.
 *
 * Everything is in memory kept from one split to the next; a sink that
 * keeps refusing costs no allocation once the buffers have grown.
 */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "crc32.h"
#include "pack.h"


/*
 * deflate writes at most 258 bytes for 2 bits (a length and a distance
 * of 1-bit codes): a pack claiming more is corrupt, and is refused before
 * its raw_len is allocated
 */
#define SG_PS_MAX_RATIO  1032


/* what the comma scan stops at outside strings */
#define SG_PS_QUOTE  1
#define SG_PS_COMMA  2
#define SG_PS_OPEN   3
#define SG_PS_CLOSE  4

static const unsigned char  sg_ps_class[256] = {
    ['"'] = SG_PS_QUOTE, [','] = SG_PS_COMMA,
    ['{'] = SG_PS_OPEN, ['['] = SG_PS_OPEN,
    ['}'] = SG_PS_CLOSE, [']'] = SG_PS_CLOSE
};


size_t
statsig_json_comma(const void *data, size_t len, size_t k)
{
    const unsigned char  *s = data;
    size_t                i, depth, seen;

    if (k == 0) {
        return len;
    }

    depth = 0;
    seen = 0;

    /* indexes, not pointers: a backslash at the end steps past len */
    for (i = 0; i < len; i++) {
        switch (sg_ps_class[s[i]]) {

        case SG_PS_QUOTE:
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\') {
                    i++;
                }
            }

            break;

        case SG_PS_COMMA:
            if (depth == 0 && ++seen == k) {
                return i;
            }

            break;

        case SG_PS_OPEN:
            depth++;
            break;

        case SG_PS_CLOSE:
            depth--;            /* below the top it wraps: see pack.h */
            break;
        }
    }

    return len;
}


void
statsig_pack_split_init(statsig_pack_split_t *s)
{
    memset(s, 0, sizeof(*s));
    statsig_pack_init(&s->pack);
}


void
statsig_pack_split_free(statsig_pack_split_t *s)
{
    if (s->zs) {
        (void) inflateEnd(s->zs);
        free(s->zs);
    }

    free(s->raw);
    free(s->out);
    statsig_pack_free(&s->pack);
    statsig_pack_split_init(s);
}


static int
sg_ps_grow(unsigned char **buf, size_t *cap, size_t need)
{
    unsigned char  *p;

    if (need <= *cap) {
        return 0;
    }

    p = realloc(*buf, need);
    if (p == NULL) {
        return -1;
    }

    *buf = p;
    *cap = need;

    return 0;
}


/* the pack's events into s->raw, checked; STATSIG_PACK_SPLIT_OK or not */
static int
sg_ps_inflate(statsig_pack_split_t *s, const unsigned char *data, size_t len,
    uint32_t raw_len, uint32_t crc)
{
    z_stream  *zs;
    int        rc;

    if (len > 0xFFFFFFFFu
        || (uint64_t) raw_len > (uint64_t) len * SG_PS_MAX_RATIO)
    {
        return STATSIG_PACK_SPLIT_UNDECODED;
    }

    /* an empty pack finishes as nothing; zlib wants somewhere to write */
    if (sg_ps_grow(&s->raw, &s->raw_cap, raw_len ? raw_len : 1) != 0) {
        return STATSIG_PACK_SPLIT_NOMEM;
    }

    if (len == 0) {
        return (crc == 0) ? STATSIG_PACK_SPLIT_OK
                          : STATSIG_PACK_SPLIT_UNDECODED;
    }

    /*
     * statsig_pack_finish() ends a pack on an empty stored block (zlib's
     * Z_SYNC_FLUSH): without it a pack cut after a block would decode
     */
    if (len < 4 || memcmp(data + len - 4, "\x00\x00\xff\xff", 4) != 0) {
        return STATSIG_PACK_SPLIT_UNDECODED;
    }

    if (s->zs == NULL) {
        zs = calloc(1, sizeof(z_stream));
        if (zs == NULL) {
            return STATSIG_PACK_SPLIT_NOMEM;
        }

        if (inflateInit2(zs, -MAX_WBITS) != Z_OK) {
            free(zs);
            return STATSIG_PACK_SPLIT_NOMEM;
        }

        s->zs = zs;

    } else {
        zs = s->zs;

        if (inflateReset(zs) != Z_OK) {
            return STATSIG_PACK_SPLIT_NOMEM;
        }
    }

    zs->next_in = (Bytef *) data;
    zs->avail_in = (uInt) len;
    zs->next_out = s->raw;
    zs->avail_out = raw_len;

    rc = inflate(zs, Z_SYNC_FLUSH);

    /*
     * Exactly raw_len bytes: with no room for more, a longer stream stops
     * with input left or inside a block.  At its end inflate() waits for
     * the next block header (data_type 128) with no bit left over; a
     * final block (Z_STREAM_END) would end the gzip member the pack goes
     * into, so it is not a pack's.
     */
    if ((rc != Z_OK && rc != Z_BUF_ERROR)
        || zs->avail_in != 0
        || zs->data_type != 128
        || zs->total_out != raw_len
        || statsig_crc32(0, s->raw, raw_len) != crc)
    {
        return STATSIG_PACK_SPLIT_UNDECODED;
    }

    return STATSIG_PACK_SPLIT_OK;
}


/*
 * The events of raw[0 .. len) into p, one record each, up to the k-th
 * top-level comma (k 0: all of them).  That comma's offset, len if there
 * is none, or (size_t) -1 when memory ran out.
 */
static size_t
sg_ps_encode(statsig_pack_t *p, const unsigned char *raw, size_t len,
    size_t k)
{
    size_t  at, next, i;

    for (at = 0, i = 1; /* void */; at = next + 1, i++) {
        next = at + statsig_json_comma(raw + at, len - at, 1);

        if (statsig_pack_add(p, ",", at ? 1 : 0, raw + at, next - at) != 0) {
            return (size_t) -1;
        }

        if (next == len || i == k) {
            return next;
        }
    }
}


/* the finished pack's bytes after those of s->out[0 .. at) */
static int
sg_ps_keep(statsig_pack_split_t *s, size_t at, statsig_pack_half_t *h,
    uint32_t n)
{
    statsig_pack_t  *p = &s->pack;

    if (statsig_pack_finish(p) != 0
        || sg_ps_grow(&s->out, &s->out_cap, at + p->out_len + 1) != 0)
    {
        return -1;
    }

    if (p->out_len) {
        memcpy(s->out + at, p->out, p->out_len);
    }

    h->len = p->out_len;
    h->n = n;
    h->crc = p->crc;
    h->raw_len = (uint32_t) p->raw_len;

    return 0;
}


int
statsig_pack_split(statsig_pack_split_t *s, const void *data, size_t len,
    uint32_t n, uint32_t raw_len, uint32_t crc)
{
    size_t  at;
    int     rc;

    memset(s->half, 0, sizeof(s->half));

    if (n < 2) {
        return STATSIG_PACK_SPLIT_SINGLE;
    }

    rc = sg_ps_inflate(s, data, len, raw_len, crc);
    if (rc != STATSIG_PACK_SPLIT_OK) {
        return rc;
    }

    statsig_pack_reset(&s->pack);

    at = sg_ps_encode(&s->pack, s->raw, raw_len, n / 2);

    if (at == (size_t) -1) {
        return STATSIG_PACK_SPLIT_NOMEM;
    }

    if (at == raw_len) {
        return STATSIG_PACK_SPLIT_UNSPLIT;
    }

    if (sg_ps_keep(s, 0, &s->half[0], n / 2) != 0) {
        return STATSIG_PACK_SPLIT_NOMEM;
    }

    /* the second half with the codes the first left, as a sink's next */
    statsig_pack_reset(&s->pack);

    if (sg_ps_encode(&s->pack, s->raw + at + 1, raw_len - at - 1, 0)
            == (size_t) -1
        || sg_ps_keep(s, s->half[0].len, &s->half[1], n - n / 2) != 0)
    {
        memset(s->half, 0, sizeof(s->half));
        return STATSIG_PACK_SPLIT_NOMEM;
    }

    /* s->out may have moved as it grew */
    s->half[0].data = s->out;
    s->half[1].data = s->out + s->half[0].len;

    return STATSIG_PACK_SPLIT_OK;
}


int
statsig_pack_decode(statsig_pack_split_t *s, const void *data, size_t len,
    uint32_t raw_len, uint32_t crc, const unsigned char **raw)
{
    int  rc;

    *raw = NULL;

    rc = sg_ps_inflate(s, data, len, raw_len, crc);

    if (rc == STATSIG_PACK_SPLIT_OK) {
        *raw = s->raw;
    }

    return rc;
}


const char *
statsig_pack_split_error(int rc)
{
    switch (rc) {
    case STATSIG_PACK_SPLIT_OK:
        return "no error";
    case STATSIG_PACK_SPLIT_SINGLE:
        return "a single event is too large";
    case STATSIG_PACK_SPLIT_NOMEM:
        return "no memory to split the batch";
    case STATSIG_PACK_SPLIT_UNDECODED:
        return "a pack did not decode";
    case STATSIG_PACK_SPLIT_UNSPLIT:
        return "a pack's events did not split";
    default:
        return "an unknown error";
    }
}
