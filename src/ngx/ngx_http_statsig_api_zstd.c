
/*
 * ngx_http_statsig_module: statsig_api's "Content-Encoding: zstd" request
 * bodies (statsig-node-core posts log_event so), beside gzip.
 *
 * Bounded as the gzip path: the output grows in the request pool up to
 * max bytes, and a body that decompresses to more is 413, whatever its
 * frames declare; a broken or truncated body is 400.  The decoder's
 * window is limited too (NGX_HTTP_STATSIG_ZSTD_WINDOW_LOG), so that a
 * frame cannot make it allocate more than that whatever it claims.  Every
 * frame of the body is read (concatenated frames decode as one stream, as
 * the zstd tool does); skippable frames are skipped by the library.
 *
 * One decoder context per worker, made at the first zstd body and reset
 * for each: libzstd allocates its context and window itself, once, not
 * for every request.
 */


#include "ngx_http_statsig_api.h"

#include <zstd.h>
#include <zstd_errors.h>


/* 8 MB: twice the largest body the API takes */
#define NGX_HTTP_STATSIG_ZSTD_WINDOW_LOG  23


static ZSTD_DCtx  *ngx_http_statsig_zstd_dctx;


ngx_int_t
ngx_http_statsig_api_unzstd(ngx_http_request_t *r, size_t max,
    const char *too_large, ngx_str_t *body, const char **msg)
{
    u_char          *out, *bigger;
    size_t           cap, rc, in_pos, out_pos;
    ZSTD_DCtx       *dctx;
    ZSTD_inBuffer    in;
    ZSTD_outBuffer   o;

    dctx = ngx_http_statsig_zstd_dctx;

    if (dctx == NULL) {
        dctx = ZSTD_createDCtx();
        if (dctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax,
                                         NGX_HTTP_STATSIG_ZSTD_WINDOW_LOG)))
        {
            ZSTD_freeDCtx(dctx);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_statsig_zstd_dctx = dctx;

    } else if (ZSTD_isError(ZSTD_DCtx_reset(dctx,
                                            ZSTD_reset_session_only)))
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cap = ngx_min(ngx_max(body->len * 4, 4096), max + 1);

    out = ngx_pnalloc(r->pool, cap + 1);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    in.src = body->data;
    in.size = body->len;
    in.pos = 0;

    o.dst = out;
    o.size = cap;
    o.pos = 0;

    for ( ;; ) {
        in_pos = in.pos;
        out_pos = o.pos;

        rc = ZSTD_decompressStream(dctx, &o, &in);

        if (ZSTD_isError(rc)) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "statsig api: zstd: %s", ZSTD_getErrorName(rc));

            /* a window past ours: a frame of more than the API takes */

            if (ZSTD_getErrorCode(rc)
                == ZSTD_error_frameParameter_windowTooLarge)
            {
                *msg = too_large;
                return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
            }

            *msg = "the zstd body is broken";
            return NGX_HTTP_BAD_REQUEST;
        }

        if (rc == 0 && in.pos == in.size) {
            /* the last frame ended with the input */
            break;
        }

        if (o.pos < o.size) {
            if (in.pos == in.size) {
                /* all input used, a frame not ended */
                *msg = "the zstd body is truncated";
                return NGX_HTTP_BAD_REQUEST;
            }

            if (in.pos == in_pos && o.pos == out_pos) {
                /* never seen: no progress with room and input left */
                *msg = "the zstd body is broken";
                return NGX_HTTP_BAD_REQUEST;
            }

            /* room left and input left: the next frame */
            continue;
        }

        /* the output is full */

        if (cap > max) {
            *msg = too_large;
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        cap = ngx_min(cap * 2, max + 1);

        bigger = ngx_pnalloc(r->pool, cap + 1);
        if (bigger == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(bigger, out, o.pos);
        out = bigger;

        o.dst = out;
        o.size = cap;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig api: zstd body, %uz bytes from %uz",
                   o.pos, body->len);

    body->data = out;
    body->len = o.pos;

    return NGX_OK;
}
