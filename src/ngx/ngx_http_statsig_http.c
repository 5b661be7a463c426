
/*
 * ngx_http_statsig_module: libcurl multi on the nginx event loop.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to wake it up (CURLMOPT_TIMERFUNCTION).  Each socket gets an
 * ngx_connection_t registered level-triggered (flags 0: curl, not nginx,
 * decides how much to read); its events and one timer event call
 * curl_multi_socket_action(), and finished transfers are collected from
 * curl_multi_info_read() outside any curl callback, where the owner's
 * completion handler may start new requests.
 *
 * Callbacks only (un)register events and timers: curl refuses re-entrant
 * calls.  A freed connection gets fd = -1 so that nginx's exit checks and
 * worker_shutdown_timeout do not take it for a live one.  curl's resolver
 * threads start with every signal blocked.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <curl/curl.h>

#include "ngx_http_statsig_conf.h"
#include "ngx_http_statsig_http.h"


#define NGX_HTTP_STATSIG_HTTP_MAX_HEADERS  (64 * 1024)


struct ngx_http_statsig_http_req_s {
    ngx_queue_t                    queue;
    CURL                          *easy;
    struct curl_slist             *hdrs;
    ngx_http_statsig_http_done_pt  done;
    void                          *data;
    ngx_msec_t                     start;
    size_t                         max_body;
    u_char                        *body;
    size_t                         body_len;
    size_t                         body_cap;
    u_char                       **body_buf;  /* the caller's, or NULL */
    size_t                        *body_buf_cap;
    u_char                        *head;
    size_t                         head_len;
    size_t                         head_cap;
    unsigned                       too_big:1;
    char                           errbuf[CURL_ERROR_SIZE];
};


static int ngx_http_statsig_http_socket_cb(CURL *easy, curl_socket_t s,
    int what, void *userp, void *socketp);
static int ngx_http_statsig_http_timer_cb(CURLM *multi, long ms,
    void *userp);
static void ngx_http_statsig_http_event(ngx_event_t *ev);
static void ngx_http_statsig_http_timer(ngx_event_t *ev);
static void ngx_http_statsig_http_action(curl_socket_t s, int mask);
static void ngx_http_statsig_http_collect(void);
static void ngx_http_statsig_http_finish(ngx_http_statsig_http_req_t *req,
    CURLcode code);
static void ngx_http_statsig_http_free(ngx_http_statsig_http_req_t *req);
static void ngx_http_statsig_http_close(ngx_connection_t *c);
static ngx_int_t ngx_http_statsig_http_append(u_char **buf, size_t *len,
    size_t *cap, char *data, size_t n);
static size_t ngx_http_statsig_http_write_cb(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static size_t ngx_http_statsig_http_header_cb(char *ptr, size_t size,
    size_t nmemb, void *userdata);
static char *ngx_http_statsig_http_cstr(ngx_str_t *s, ngx_log_t *log);


static CURLM             *ngx_http_statsig_multi;
static ngx_queue_t        ngx_http_statsig_reqs;
static ngx_uint_t         ngx_http_statsig_nreqs;
static ngx_event_t        ngx_http_statsig_timer_ev;
static ngx_connection_t   ngx_http_statsig_timer_conn;
static ngx_log_t         *ngx_http_statsig_http_log;
static char              *ngx_http_statsig_ca_file;
static char              *ngx_http_statsig_proxy;
static ngx_uint_t         ngx_http_statsig_curl_global;


ngx_int_t
ngx_http_statsig_http_init(ngx_cycle_t *cycle, ngx_str_t *ca_file,
    ngx_str_t *proxy)
{
    CURLM  *multi;

    if (ngx_http_statsig_multi) {
        return NGX_OK;
    }

    if (!ngx_http_statsig_curl_global) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "statsig: curl_global_init() failed");
            return NGX_ERROR;
        }

        ngx_http_statsig_curl_global = 1;
    }

    ngx_http_statsig_http_log = cycle->log;

    ngx_http_statsig_ca_file = NULL;
    ngx_http_statsig_proxy = NULL;

    if (ca_file->len) {
        ngx_http_statsig_ca_file = ngx_http_statsig_http_cstr(ca_file,
                                                              cycle->log);
        if (ngx_http_statsig_ca_file == NULL) {
            return NGX_ERROR;
        }
    }

    if (proxy->len) {
        ngx_http_statsig_proxy = ngx_http_statsig_http_cstr(proxy,
                                                            cycle->log);
        if (ngx_http_statsig_proxy == NULL) {
            return NGX_ERROR;
        }
    }

    multi = curl_multi_init();
    if (multi == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "statsig: curl_multi_init() failed");
        return NGX_ERROR;
    }

    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION,
                      ngx_http_statsig_http_socket_cb);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION,
                      ngx_http_statsig_http_timer_cb);

    ngx_queue_init(&ngx_http_statsig_reqs);
    ngx_http_statsig_nreqs = 0;

    /* debug logging of timers reads ((ngx_connection_t *) data)->fd */
    ngx_http_statsig_timer_conn.fd = (ngx_socket_t) -1;

    ngx_memzero(&ngx_http_statsig_timer_ev, sizeof(ngx_event_t));
    ngx_http_statsig_timer_ev.handler = ngx_http_statsig_http_timer;
    ngx_http_statsig_timer_ev.data = &ngx_http_statsig_timer_conn;
    ngx_http_statsig_timer_ev.log = cycle->log;
    ngx_http_statsig_timer_ev.cancelable = 1;

    ngx_http_statsig_multi = multi;

    return NGX_OK;
}


static char *
ngx_http_statsig_http_cstr(ngx_str_t *s, ngx_log_t *log)
{
    char  *p;

    p = ngx_alloc(s->len + 1, log);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';

    return p;
}


ngx_http_statsig_http_req_t *
ngx_http_statsig_http_start(ngx_http_statsig_http_request_t *rq)
{
    char                         *url;
    CURL                         *easy;
    ngx_uint_t                    i;
    CURLMcode                     mc;
    struct curl_slist            *l;
    ngx_http_statsig_http_req_t  *req;

    if (ngx_http_statsig_multi == NULL) {
        return NULL;
    }

    req = ngx_calloc(sizeof(ngx_http_statsig_http_req_t),
                     ngx_http_statsig_http_log);
    if (req == NULL) {
        return NULL;
    }

    url = NULL;

    easy = curl_easy_init();
    if (easy == NULL) {
        goto failed;
    }

    req->easy = easy;
    req->done = rq->done;
    req->data = rq->data;
    req->max_body = rq->max_body;
    req->start = ngx_current_msec;

    if (rq->body_buf) {
        req->body_buf = rq->body_buf;
        req->body_buf_cap = rq->body_cap;
        req->body = *rq->body_buf;
        req->body_cap = *rq->body_cap;
    }

    for (i = 0; i < rq->nheaders; i++) {
        url = ngx_http_statsig_http_cstr(&rq->headers[i],
                                         ngx_http_statsig_http_log);
        if (url == NULL) {
            goto failed;
        }

        l = curl_slist_append(req->hdrs, url);
        ngx_free(url);
        url = NULL;

        if (l == NULL) {
            goto failed;
        }

        req->hdrs = l;
    }

    /* no "Expect: 100-continue" round trip for POST bodies */
    l = curl_slist_append(req->hdrs, "Expect:");
    if (l == NULL) {
        goto failed;
    }

    req->hdrs = l;

    url = ngx_http_statsig_http_cstr(&rq->url, ngx_http_statsig_http_log);
    if (url == NULL) {
        goto failed;
    }

    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, req);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, req->errbuf);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->hdrs);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_USERAGENT,
                     "ngx_http_statsig_module/" NGX_HTTP_STATSIG_VERSION);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) rq->timeout);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) rq->timeout);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
                     ngx_http_statsig_http_write_cb);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION,
                     ngx_http_statsig_http_header_cb);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, req);
#if (LIBCURL_VERSION_NUM >= 0x075500)
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#endif

    /* the environment is not trusted for this: only statsig_proxy */
    curl_easy_setopt(easy, CURLOPT_PROXY,
                     ngx_http_statsig_proxy ? ngx_http_statsig_proxy : "");

    if (ngx_http_statsig_ca_file) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, ngx_http_statsig_ca_file);
    }

    if (ngx_strcmp(rq->method, "GET") == 0) {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);

    } else {
        if (ngx_strcmp(rq->method, "POST") != 0) {
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, rq->method);
        }

        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long) rq->body.len);
        curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS,
                         rq->body.len ? (char *) rq->body.data : "");
    }

    /* curl copies the URL */
    ngx_free(url);
    url = NULL;

    ngx_queue_insert_tail(&ngx_http_statsig_reqs, &req->queue);
    ngx_http_statsig_nreqs++;

    /* not the URL: the specs URL holds the key */
    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, ngx_http_statsig_http_log, 0,
                   "statsig http: %p %s, %uz bytes, %ui in flight", req,
                   rq->method, rq->body.len, ngx_http_statsig_nreqs);

    mc = curl_multi_add_handle(ngx_http_statsig_multi, easy);

    if (mc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_statsig_http_log, 0,
                      "statsig: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(mc));
        ngx_queue_remove(&req->queue);
        ngx_http_statsig_nreqs--;
        goto failed;
    }

    return req;

failed:

    if (url) {
        ngx_free(url);
    }

    ngx_http_statsig_http_free(req);

    return NULL;
}


void
ngx_http_statsig_http_cancel(ngx_http_statsig_http_req_t *req)
{
    ngx_queue_remove(&req->queue);
    ngx_http_statsig_nreqs--;

    curl_multi_remove_handle(ngx_http_statsig_multi, req->easy);
    ngx_http_statsig_http_free(req);
}


void
ngx_http_statsig_http_cleanup(void)
{
    ngx_queue_t                  *q;
    ngx_http_statsig_http_req_t  *req;

    if (ngx_http_statsig_multi == NULL) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_statsig_reqs)) {
        q = ngx_queue_head(&ngx_http_statsig_reqs);
        req = ngx_queue_data(q, ngx_http_statsig_http_req_t, queue);
        ngx_http_statsig_http_cancel(req);
    }

    /* closes the cached connections: CURL_POLL_REMOVE for each */
    curl_multi_cleanup(ngx_http_statsig_multi);
    ngx_http_statsig_multi = NULL;

    if (ngx_http_statsig_timer_ev.timer_set) {
        ngx_del_timer(&ngx_http_statsig_timer_ev);
    }

    if (ngx_http_statsig_ca_file) {
        ngx_free(ngx_http_statsig_ca_file);
        ngx_http_statsig_ca_file = NULL;
    }

    if (ngx_http_statsig_proxy) {
        ngx_free(ngx_http_statsig_proxy);
        ngx_http_statsig_proxy = NULL;
    }

    if (ngx_http_statsig_curl_global) {
        curl_global_cleanup();
        ngx_http_statsig_curl_global = 0;
    }
}


ngx_uint_t
ngx_http_statsig_http_pending(void)
{
    return ngx_http_statsig_nreqs;
}


ngx_int_t
ngx_http_statsig_http_header(ngx_http_statsig_http_res_t *res, char *name,
    ngx_str_t *value)
{
    u_char  *p, *last, *eol, *v;
    size_t   n;

    n = ngx_strlen(name);
    p = res->headers.data;
    last = p + res->headers.len;

    while (p < last) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        if ((size_t) (eol - p) > n && p[n] == ':'
            && ngx_strncasecmp(p, (u_char *) name, n) == 0)
        {
            v = p + n + 1;

            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }

            value->data = v;

            while (eol > v && (eol[-1] == '\r' || eol[-1] == '\n'
                               || eol[-1] == ' '))
            {
                eol--;
            }

            value->len = eol - v;

            return NGX_OK;
        }

        p = eol + 1;
    }

    return NGX_DECLINED;
}


static void
ngx_http_statsig_http_free(ngx_http_statsig_http_req_t *req)
{
    if (req->easy) {
        curl_easy_cleanup(req->easy);
    }

    if (req->hdrs) {
        curl_slist_free_all(req->hdrs);
    }

    if (req->body && req->body_buf == NULL) {
        ngx_free(req->body);
    }

    if (req->head) {
        ngx_free(req->head);
    }

    ngx_free(req);
}


/* ---- curl callbacks: register events and timers, nothing else ---- */


static int
ngx_http_statsig_http_socket_cb(CURL *easy, curl_socket_t s, int what,
    void *userp, void *socketp)
{
    ngx_connection_t  *c = socketp;

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, ngx_http_statsig_http_log, 0,
                   "statsig http: socket %d, curl wants %d, conn %p",
                   (int) s, what, c);

    if (what == CURL_POLL_REMOVE) {
        if (c) {
            ngx_http_statsig_http_close(c);
            curl_multi_assign(ngx_http_statsig_multi, s, NULL);
        }

        return 0;
    }

    if (c == NULL) {
        c = ngx_get_connection(s, ngx_http_statsig_http_log);
        if (c == NULL) {
            return -1;
        }

        c->read->log = ngx_http_statsig_http_log;
        c->write->log = ngx_http_statsig_http_log;
        c->read->handler = ngx_http_statsig_http_event;
        c->write->handler = ngx_http_statsig_http_event;

        curl_multi_assign(ngx_http_statsig_multi, s, c);
    }

    if (what & CURL_POLL_IN) {
        if (!c->read->active
            && ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK)
        {
            return -1;
        }

    } else if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (what & CURL_POLL_OUT) {
        if (!c->write->active
            && ngx_add_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK)
        {
            return -1;
        }

    } else if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    return 0;
}


static int
ngx_http_statsig_http_timer_cb(CURLM *multi, long ms, void *userp)
{
    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ngx_http_statsig_http_log, 0,
                   "statsig http: curl timer %l ms", ms);

    if (ms < 0) {
        if (ngx_http_statsig_timer_ev.timer_set) {
            ngx_del_timer(&ngx_http_statsig_timer_ev);
        }

        return 0;
    }

    /* 0 ms: on the next loop iteration, never inline */
    ngx_add_timer(&ngx_http_statsig_timer_ev, (ngx_msec_t) ms);

    return 0;
}


static void
ngx_http_statsig_http_close(ngx_connection_t *c)
{
    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    /* curl owns the socket and closes it */
    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}


/* ---- nginx events ---- */


static void
ngx_http_statsig_http_event(ngx_event_t *ev)
{
    int                mask;
    ngx_connection_t  *c;

    c = ev->data;

    mask = ev->write ? CURL_CSELECT_OUT : CURL_CSELECT_IN;

    if (ev->error || c->close) {
        mask |= CURL_CSELECT_ERR;
    }

    /* c may be freed by curl during the call: do not touch it after */
    ngx_http_statsig_http_action(c->fd, mask);

    ngx_http_statsig_http_collect();
}


static void
ngx_http_statsig_http_timer(ngx_event_t *ev)
{
    ngx_http_statsig_http_action(CURL_SOCKET_TIMEOUT, 0);

    ngx_http_statsig_http_collect();
}


static void
ngx_http_statsig_http_action(curl_socket_t s, int mask)
{
    int        running;
    sigset_t   set, old;
    CURLMcode  mc;

    if (ngx_http_statsig_multi == NULL) {
        return;
    }

    /* threads curl may start (the resolver) must not take signals */
    sigfillset(&set);
    (void) pthread_sigmask(SIG_BLOCK, &set, &old);

    mc = curl_multi_socket_action(ngx_http_statsig_multi, s, mask, &running);

    (void) pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (mc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_statsig_http_log, 0,
                      "statsig: curl_multi_socket_action() failed: %s",
                      curl_multi_strerror(mc));
    }
}


static void
ngx_http_statsig_http_collect(void)
{
    int                           left;
    CURL                         *easy;
    CURLMsg                      *msg;
    CURLcode                      code;
    ngx_http_statsig_http_req_t  *req;

    while (ngx_http_statsig_multi
           && (msg = curl_multi_info_read(ngx_http_statsig_multi, &left)))
    {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        /* the message is gone after curl_multi_remove_handle() */
        easy = msg->easy_handle;
        code = msg->data.result;

        req = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &req);

        curl_multi_remove_handle(ngx_http_statsig_multi, easy);

        if (req == NULL) {
            continue;
        }

        ngx_queue_remove(&req->queue);
        ngx_http_statsig_nreqs--;

        ngx_http_statsig_http_finish(req, code);
    }
}


static void
ngx_http_statsig_http_finish(ngx_http_statsig_http_req_t *req, CURLcode code)
{
    long                          status;
    char                          err[CURL_ERROR_SIZE + 64];
    ngx_http_statsig_http_res_t   res;

    ngx_memzero(&res, sizeof(ngx_http_statsig_http_res_t));

    status = 0;
    curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);

    res.status = (status > 0 && code == CURLE_OK) ? (ngx_uint_t) status : 0;
    res.headers.data = req->head;
    res.headers.len = req->head_len;
    res.body.data = req->body;
    res.body.len = req->body_len;
    res.elapsed = ngx_current_msec - req->start;

    if (code != CURLE_OK) {
        if (req->too_big) {
            ngx_snprintf((u_char *) err, sizeof(err),
                         "response body larger than %uz bytes%Z",
                         req->max_body);

        } else {
            ngx_snprintf((u_char *) err, sizeof(err), "%s%s%s%Z",
                         curl_easy_strerror(code),
                         req->errbuf[0] ? ": " : "", req->errbuf);
        }

        res.error = err;
    }

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, ngx_http_statsig_http_log, 0,
                   "statsig http: %p done: status %ui, %uz bytes in %M ms%s",
                   req, res.status, res.body.len, res.elapsed,
                   res.error ? ", failed" : "");

    req->done(&res, req->data);

    ngx_http_statsig_http_free(req);
}


/* ---- bodies ---- */


static ngx_int_t
ngx_http_statsig_http_append(u_char **buf, size_t *len, size_t *cap,
    char *data, size_t n)
{
    u_char  *p;
    size_t   size;

    if (*len + n + 1 > *cap) {
        size = ngx_max(*cap * 2, *len + n + 1);
        size = ngx_max(size, 4096);

        p = ngx_alloc(size, ngx_http_statsig_http_log);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (*buf) {
            ngx_memcpy(p, *buf, *len);
            ngx_free(*buf);
        }

        *buf = p;
        *cap = size;
    }

    ngx_memcpy(*buf + *len, data, n);
    *len += n;

    /* always NUL-terminated, for parsers that want it */
    (*buf)[*len] = '\0';

    return NGX_OK;
}


static size_t
ngx_http_statsig_http_write_cb(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    ngx_http_statsig_http_req_t *req = userdata;

    size_t  n;

    n = size * nmemb;

    if (req->max_body && req->body_len + n > req->max_body) {
        req->too_big = 1;
        return 0;
    }

    if (ngx_http_statsig_http_append(&req->body, &req->body_len,
                                     &req->body_cap, ptr, n)
        != NGX_OK)
    {
        return 0;
    }

    if (req->body_buf) {
        /* grown: the caller's old buffer is freed, this is its new one */
        *req->body_buf = req->body;
        *req->body_buf_cap = req->body_cap;
    }

    return n;
}


static size_t
ngx_http_statsig_http_header_cb(char *ptr, size_t size, size_t nmemb,
    void *userdata)
{
    ngx_http_statsig_http_req_t *req = userdata;

    size_t  n;

    n = size * nmemb;

    /* a new status line (after 1xx, or through a proxy): start over */
    if (n > 5 && ngx_strncmp(ptr, "HTTP/", 5) == 0) {
        req->head_len = 0;
    }

    if (req->head_len + n > NGX_HTTP_STATSIG_HTTP_MAX_HEADERS) {
        return 0;
    }

    if (ngx_http_statsig_http_append(&req->head, &req->head_len,
                                     &req->head_cap, ptr, n)
        != NGX_OK)
    {
        return 0;
    }

    return n;
}
