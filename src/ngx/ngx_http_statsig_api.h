
/*
 * ngx_http_statsig_module: the statsig_api location handler, shared
 * declarations of its files.
 */


#ifndef _NGX_HTTP_STATSIG_API_H_INCLUDED_
#define _NGX_HTTP_STATSIG_API_H_INCLUDED_


#include "ngx_http_statsig_request.h"

#include "buf.h"


/* the most a request body may hold (after gunzip): what is parsed */
#define NGX_HTTP_STATSIG_API_MAX_BODY    (4 * 1024 * 1024)

/*
 * client_body_buffer_size in a statsig_api location that leaves it at
 * nginx's default: an SDK's event batch is read in memory (statsig-node
 * posts up to 1,000 events at once)
 */
#define NGX_HTTP_STATSIG_API_BODY_BUFFER  (1024 * 1024)

/* names one check_gate may ask for */
#define NGX_HTTP_STATSIG_API_MAX_NAMES   1000


/* the methods (after the last "/v1/") */
#define NGX_HTTP_STATSIG_API_CHECK_GATE      0
#define NGX_HTTP_STATSIG_API_CHECK_GATES     1
#define NGX_HTTP_STATSIG_API_GET_CONFIG      2
#define NGX_HTTP_STATSIG_API_GET_EXPERIMENT  3
#define NGX_HTTP_STATSIG_API_GET_LAYER       4
#define NGX_HTTP_STATSIG_API_INITIALIZE      5
#define NGX_HTTP_STATSIG_API_LOG_EVENT       6
#define NGX_HTTP_STATSIG_API_DCS             7
/* the relays (ngx_http_statsig_api_relay.c) */
#define NGX_HTTP_STATSIG_API_RELAY_STATSIG   8   /* log-event */
#define NGX_HTTP_STATSIG_API_RELAY_CIO       9   /* customers/{id}/events */
#define NGX_HTTP_STATSIG_API_RELAY_CIO_ANON  10  /* events */
#define NGX_HTTP_STATSIG_API_RELAY_GPX       11  /* custom-events */
/* the ID lists (ngx_http_statsig_api_idlists.c) */
#define NGX_HTTP_STATSIG_API_ID_LISTS        20  /* get_id_lists */
#define NGX_HTTP_STATSIG_API_ID_LIST_FILE    21  /* id_list_file/... */
/* .../v2/download_config_specs: DCS v2 (ngx_http_statsig_api_dcs.c) */
#define NGX_HTTP_STATSIG_API_DCS_V2          22

#define ngx_http_statsig_api_is_dcs(m)                                       \
    ((m) == NGX_HTTP_STATSIG_API_DCS || (m) == NGX_HTTP_STATSIG_API_DCS_V2)


/* one API evaluation: its user, its pinned snapshot, its exposures */
typedef struct {
    ngx_http_statsig_ctx_t         sctx;
    statsig_value_t                user;
    ngx_uint_t                     expose;
    ngx_str_t                      client_key;  /* the request's, if one */
    const char                    *msg;      /* why a 4xx/5xx */
    u_char                         err[256];
} ngx_http_statsig_api_t;


/*
 * ngx_http_statsig_api.c: what statsig_mcp (ngx_http_statsig_mcp.c)
 * shares with the API: the key and its check, a header by name, the body
 * (bounded, gunzipped), and a method run on a parsed body without an
 * answer sent (ngx_http_statsig_api_call: evaluations, log_event, and
 * log-event with the client's time, 0 for none)
 */
ngx_int_t ngx_http_statsig_api_key(ngx_http_request_t *r, ngx_str_t *key);
ngx_int_t ngx_http_statsig_api_key_equal(ngx_http_request_t *r,
    ngx_str_t *given);
ngx_table_elt_t *ngx_http_statsig_api_header(ngx_http_request_t *r,
    char *name, size_t len);
ngx_int_t ngx_http_statsig_api_read_body(ngx_http_request_t *r, size_t max,
    const char *too_large, ngx_str_t *body, const char **msg);
ngx_int_t ngx_http_statsig_api_gunzip(ngx_http_request_t *r, size_t max,
    const char *too_large, ngx_str_t *body, const char **msg);
ngx_int_t ngx_http_statsig_api_call(ngx_http_request_t *r, ngx_int_t m,
    const statsig_value_t *json, int64_t client_time, ngx_str_t *out,
    const char **msg);

/*
 * and what statsig_mcp and statsig_ofrep share: the bearer key check;
 * an evaluation of a user (pinned snapshot, api->sctx.eval ready;
 * api->expose from statsig_exposures; an HTTP status with api->msg on
 * failure), and an evaluation's exposure logged as the API logs it (a
 * layer: one parameter's)
 */
ngx_int_t ngx_http_statsig_api_bearer(ngx_http_request_t *r);
ngx_int_t ngx_http_statsig_api_user(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, const statsig_value_t *user,
    ngx_uint_t validate);
void ngx_http_statsig_api_expose(ngx_http_request_t *r,
    ngx_http_statsig_api_t *api, statsig_kind_e kind,
    const statsig_spec_t *spec, const statsig_value_t *name,
    const statsig_value_t *param, statsig_result_t *res);

/*
 * ngx_http_statsig_api_relay.c: a vendor's body checked and queued for
 * its sink (_queue: the status, 202 or an error's with *msg, nothing
 * sent; the relay: answered)
 */
ngx_int_t ngx_http_statsig_api_relay(ngx_http_request_t *r, ngx_int_t m,
    ngx_str_t *identifier, ngx_str_t *body, const char **msg);
ngx_int_t ngx_http_statsig_api_relay_queue(ngx_http_request_t *r,
    ngx_int_t m, ngx_str_t *identifier, ngx_str_t *body, const char **msg);

/* a statsig_client_key: written in the configuration, or read as secrets */
typedef struct {
    ngx_str_t                      literal;
    ngx_http_statsig_secret_t      secret;
} ngx_http_statsig_client_key_t;

/* the paths a client key opens, which answer CORS */
#define ngx_http_statsig_api_client_path(m)                                  \
    ((m) == NGX_HTTP_STATSIG_API_INITIALIZE                                  \
     || (m) == NGX_HTTP_STATSIG_API_LOG_EVENT)

/*
 * ngx_http_statsig_api_client.c: a client key in the request (NGX_OK,
 * *key); a client path's CORS (NGX_OK allowed, headers added; NGX_DONE
 * no Origin; NGX_DECLINED not allowed) and its preflight, answered; the
 * body as the SDK encoded it (gz=1, se=1: NGX_OK or an HTTP status with
 * *msg); the client's clock in ms (0: none)
 */
ngx_int_t ngx_http_statsig_api_client_auth(ngx_http_request_t *r,
    ngx_str_t *key);
ngx_int_t ngx_http_statsig_api_cors(ngx_http_request_t *r);
ngx_int_t ngx_http_statsig_api_origin(ngx_http_request_t *r,
    ngx_array_t *origins, ngx_uint_t any, char *expose);
ngx_int_t ngx_http_statsig_api_preflight(ngx_http_request_t *r,
    ngx_int_t cors);
ngx_int_t ngx_http_statsig_api_client_body(ngx_http_request_t *r,
    ngx_str_t *body, const char **msg);
int64_t ngx_http_statsig_api_client_time(ngx_http_request_t *r);

/* ngx_http_statsig_api_dcs.c: v1, or v2 (the answer, or NGX_DONE) */
ngx_int_t ngx_http_statsig_api_dcs(ngx_http_request_t *r,
    const statsig_value_t *body, ngx_uint_t v2);

/*
 * ngx_http_statsig_api_idlists.c: get_id_lists (the index, answered), and
 * a list's file (rest: the path after "/v1/id_list_file/")
 */
ngx_int_t ngx_http_statsig_api_id_lists(ngx_http_request_t *r);
ngx_int_t ngx_http_statsig_api_id_list_file(ngx_http_request_t *r,
    ngx_str_t *rest);

/*
 * ngx_http_statsig_api_zstd.c: a zstd body decompressed in the request
 * pool, at most max bytes (else 413 with too_large), or 400 with *msg
 */
ngx_int_t ngx_http_statsig_api_unzstd(ngx_http_request_t *r, size_t max,
    const char *too_large, ngx_str_t *body, const char **msg);


char *ngx_http_statsig_api_location(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf, ngx_http_handler_pt handler);


#endif /* _NGX_HTTP_STATSIG_API_H_INCLUDED_ */
