
/*
 * ngx_http_statsig_module: statsig_api's relays to the other vendors,
 * for clients that must not hold their credentials.
 *
 *   POST .../v1/customers/{identifier}/events    Customer.io, a person
 *   POST .../v1/events                           Customer.io, anonymous
 *   POST .../v1/custom-events                    Gainsight PX
 *
 * (POST .../v1/log-event, to Statsig, is log_event's: ngx_http_statsig_
 * api.c.)  The body is the vendor's own, checked as the vendor checks it
 * (the sink's relay, from src/core/sink_format.h) and refused with 400
 * before anything is queued; a good one is queued for that sink alone,
 * which adds the credentials and posts it as it is: 202.  404 when the
 * sink is not configured, 503 with Retry-After when its queue is full.
 */


#include "ngx_http_statsig_api.h"
#include "ngx_http_statsig_events.h"
#include "ngx_http_statsig_response.h"


/* the queue's answer to a full relay: try again in a second */
#define NGX_HTTP_STATSIG_RELAY_RETRY  "1"


/* per worker: the record is written here, then copied into the queue */
static statsig_buf_t  ngx_http_statsig_relay_record;


ngx_int_t
ngx_http_statsig_api_relay(ngx_http_request_t *r, ngx_int_t m,
    ngx_str_t *identifier, ngx_str_t *body, const char **msg)
{
    ngx_int_t  rc;

    static u_char  ok[] = "{\"success\":true}";

    rc = ngx_http_statsig_api_relay_queue(r, m, identifier, body, msg);

    if (rc == NGX_HTTP_SERVICE_UNAVAILABLE
        && ngx_http_statsig_response_add(r, "Retry-After",
                                         NGX_HTTP_STATSIG_RELAY_RETRY)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_HTTP_ACCEPTED) {
        return rc;
    }

    return ngx_http_statsig_response_json(r, NGX_HTTP_ACCEPTED, ok,
                                          sizeof(ok) - 1);
}


ngx_int_t
ngx_http_statsig_api_relay_queue(ngx_http_request_t *r, ngx_int_t m,
    ngx_str_t *identifier, ngx_str_t *body, const char **msg)
{
    char                     *name;
    ngx_int_t                 rc;
    ngx_str_t                 record;
    statsig_buf_t            *b;
    ngx_http_statsig_sink_t  *sink;

    name = (m == NGX_HTTP_STATSIG_API_RELAY_GPX) ? "gainsight_px"
                                                 : "customerio";

    sink = ngx_http_statsig_events_sink(name);

    if (sink == NULL || sink->type->relay == NULL) {
        *msg = (m == NGX_HTTP_STATSIG_API_RELAY_GPX)
               ? "no Gainsight PX sink here (statsig_sink gainsight_px)"
               : "no Customer.io sink here (statsig_sink customerio)";
        return NGX_HTTP_NOT_FOUND;
    }

    b = &ngx_http_statsig_relay_record;
    b->len = 0;
    b->failed = 0;

    *msg = NULL;

    rc = sink->type->relay(sink, (m == NGX_HTTP_STATSIG_API_RELAY_CIO)
                                 ? identifier : NULL,
                           body, b, msg);

    if (rc != NGX_OK) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "statsig relay: \"%s\" refused: %s", name,
                       *msg ? *msg : "no memory");

        if (*msg == NULL) {
            *msg = "no memory for the event";
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_BAD_REQUEST;
    }

    if (!ngx_http_statsig_events_room(sink, b->len)) {
        *msg = "the sink's queue is full; try again later";
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    record.data = (u_char *) b->data;
    record.len = b->len;

    if (ngx_http_statsig_events_push(r->connection->log,
                                     NGX_HTTP_STATSIG_EV_CUSTOM
                                     | NGX_HTTP_STATSIG_EV_SINKS(
                                           (ngx_uint_t) 1 << sink->index),
                                     &record)
        != NGX_OK)
    {
        *msg = "the event could not be queued";
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "statsig relay: \"%s\" queued %uz bytes", name,
                   record.len);

    return NGX_HTTP_ACCEPTED;
}
