
/*
 * ngx_http_statsig_module: what the sync says to Statsig, and how its
 * outcomes are counted (in the zone, for statsig_status) and logged (by
 * the one rule of ngx_http_statsig_report.h).
 */


#include "ngx_http_statsig_sync.h"
#include "ngx_http_statsig_sdk.h"


/* the most a specs or ID-list answer may be */
#define NGX_HTTP_STATSIG_MAX_BODY  (256 * 1024 * 1024)


static void ngx_http_statsig_fetch_count(ngx_http_statsig_stats_t *st,
    ngx_msec_t elapsed);


/*
 * The SDK's headers, or range alone: an ID list's file is on a CDN that
 * needs no key, and gets none.
 */

ngx_http_statsig_http_req_t *
ngx_http_statsig_fetch_start(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_http_request_t *rq, ngx_str_t *range)
{
    u_char                        *buf;
    ngx_str_t                      key;
    ngx_str_t                      h[NGX_HTTP_STATSIG_SDK_HEADERS];
    ngx_http_statsig_http_req_t   *req;
    ngx_http_statsig_main_conf_t  *smcf;

    smcf = ctx->smcf;

    rq->timeout = smcf->upstream_timeout;
    rq->max_body = NGX_HTTP_STATSIG_MAX_BODY;

    /* not the URL: the specs URL holds the key */
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "statsig fetch: %s%s", rq->method,
                   range ? ", an ID list's bytes" : "");

    if (range) {
        rq->headers = range;
        rq->nheaders = 1;

        return ngx_http_statsig_http_start(rq);
    }

    if (ngx_http_statsig_secret_get(&smcf->server_key, ngx_cycle->log, &key)
        != NGX_OK)
    {
        return NULL;
    }

    buf = ngx_alloc(NGX_HTTP_STATSIG_SDK_HEADERS_LEN(key.len),
                    ngx_cycle->log);
    if (buf == NULL) {
        return NULL;
    }

    (void) ngx_http_statsig_sdk_headers(h, buf, &key);

    rq->headers = h;
    rq->nheaders = NGX_HTTP_STATSIG_SDK_HEADERS;

    /* the client copies the headers: the key's copy goes at once */
    req = ngx_http_statsig_http_start(rq);

    ngx_explicit_memzero(buf, NGX_HTTP_STATSIG_SDK_HEADERS_LEN(key.len));
    ngx_free(buf);

    return req;
}


/* transport errors and non-2xx answers; NULL when the answer is usable */

u_char *
ngx_http_statsig_fetch_error(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_http_res_t *res, u_char *buf, size_t len)
{
    u_char  *last;

    if (res->error) {
        last = ngx_snprintf(buf, len - 1, "%s", res->error);

    } else if (res->status < 200 || res->status > 299) {
        last = ngx_snprintf(buf, len - 1, "HTTP status %ui", res->status);

    } else {
        return NULL;
    }

    *last = '\0';

    /* curl may quote the URL, which holds the key */
    ngx_http_statsig_secret_scrub(&ctx->smcf->server_key, buf, last);

    return buf;
}


void
ngx_http_statsig_fetch_result(ngx_http_statsig_zone_t *ctx,
    ngx_http_statsig_stats_t *st, char *what, ngx_msec_t elapsed,
    ngx_uint_t outcome, u_char *reason)
{
    char        *serving;
    ngx_uint_t   report;

    report = NGX_HTTP_STATSIG_REPORT_NONE;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    /* what the workers go on with: said truly when there is nothing yet */
    if (st == &ctx->sh->idlists_stats) {
        serving = (ctx->sh->current && ctx->sh->current->idlists)
                  ? "keeping the last good ID lists"
                  : "no ID lists are loaded yet";

    } else {
        serving = ctx->sh->specs_loaded
                  ? "serving the last good snapshot"
                  : "no specs are loaded yet, nothing to serve";
    }

    switch (outcome) {

    case NGX_HTTP_STATSIG_ATTEMPT:
        ngx_http_statsig_fetch_count(st, elapsed);
        break;

    case NGX_HTTP_STATSIG_FAILED:
    case NGX_HTTP_STATSIG_REQUEST_FAILED:
        /*
         * A request that failed is a request, even when it took no
         * measurable time (a refused connect): before, requests could
         * be fewer than failures.  Other failures (a document that does
         * not compile) come after their request was counted.
         */
        if (outcome == NGX_HTTP_STATSIG_REQUEST_FAILED || elapsed) {
            ngx_http_statsig_fetch_count(st, elapsed);
        }

        st->failures++;
        st->last_error = ngx_time();
        st->state = NGX_HTTP_STATSIG_STATE_FAILING;

        report = ngx_http_statsig_report(&st->report, reason, ngx_time());
        break;

    case NGX_HTTP_STATSIG_FAILED_AGAIN:
        /* the reason stays the one logged; its recovery is logged */
        st->failures++;
        st->last_error = ngx_time();
        st->state = NGX_HTTP_STATSIG_STATE_FAILING;
        break;

    default:
        if (outcome == NGX_HTTP_STATSIG_UPDATED) {
            st->updates++;
        } else if (outcome == NGX_HTTP_STATSIG_NO_UPDATES) {
            st->no_updates++;
        } else if (outcome == NGX_HTTP_STATSIG_IGNORED) {
            st->ignored++;
        }

        st->last_success = ngx_time();
        st->state = NGX_HTTP_STATSIG_STATE_OK;

        report = ngx_http_statsig_report(&st->report, NULL, ngx_time());
        break;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "statsig fetch: %s outcome %ui after %M ms: %s", what,
                   outcome, elapsed, reason ? reason : (u_char *) "-");

    if (report == NGX_HTTP_STATSIG_REPORT_FAILED) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "statsig: %s sync failed: %s; %s", what, reason,
                      serving);

    } else if (report == NGX_HTTP_STATSIG_REPORT_RECOVERED) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "statsig: %s sync works again", what);
    }
}


/* a request that got an answer or failed after elapsed ms; locked */

static void
ngx_http_statsig_fetch_count(ngx_http_statsig_stats_t *st,
    ngx_msec_t elapsed)
{
    st->requests++;
    st->last_attempt = ngx_time();
    st->last_ms = elapsed;
    st->total_ms += elapsed;

    if (elapsed > st->max_ms) {
        st->max_ms = elapsed;
    }
}
