/* http.c -- the libmicrohttpd daemon: routes, limits, token, CORS, accounting */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <zlib.h>

#include "serving/api.h"
#include "serving/dashboard.h"
#include "serving/http.h"
#include "serving/query.h"
#include "serving/viewdefs.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/now.h"

#define ALLOW "GET, HEAD"
#define GZIP_MIN 1024       /* smaller answers go out as they are */
#define ALLOW_CORS "GET, HEAD, OPTIONS"

/* Per request, from its request line to the end of its answer. */
struct req {
    int64_t             start;      /* monotonic microseconds */
    size_t              urilen;     /* raw URI, query string included */
    struct guard_conn  *gc;
    enum route          route;
    int                 status;
    int                 gzip;       /* the client accepts gzip */
    int                 seen;       /* the handler ran once already */
    int                 queued;
};

static struct req *
req_new(struct MHD_Connection *c, size_t urilen)
{
    struct req *rq = xcalloc(1, sizeof(*rq));
    const union MHD_ConnectionInfo *ci;

    rq->start = now_mono_us();
    rq->urilen = urilen;
    rq->route = ROUTE_OTHER;
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    rq->gc = ci != NULL ? ci->socket_context : NULL;
    return rq;
}

/* ---- answers ----------------------------------------------------------- */

/* Nonzero when Accept-Encoding lists gzip without q=0. */
static int
accepts_gzip(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
        MHD_HTTP_HEADER_ACCEPT_ENCODING);

    while (h != NULL && *h != '\0') {
        size_t n;

        h += strspn(h, " \t,");
        n = strcspn(h, ",");
        if (strncasecmp(h, "gzip", 4) == 0 && strchr(" \t;,", h[4]) != NULL) {
            const char *q = memchr(h, ';', n);

            if (q == NULL)
                return 1;
            q += strspn(q + 1, " \t") + 1;
            return !(strncmp(q, "q=0", 3) == 0 && strspn(q + 3, ".0") ==
                (size_t)(h + n - q - 3));
        }
        h += n;
    }
    return 0;
}

/* Replace body with its gzip encoding. Returns 0, or -1 (body unchanged). */
static int
gzip_body(struct buf *body)
{
    z_stream z;
    struct buf out;
    int rc;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -1;
    buf_init(&out);
    buf_reserve(&out, deflateBound(&z, body->len));
    z.next_in = (unsigned char *)body->data;
    z.avail_in = (uInt)body->len;
    z.next_out = (unsigned char *)out.data;
    z.avail_out = (uInt)(out.cap - 1);
    rc = deflate(&z, Z_FINISH);
    out.len = z.total_out;
    (void)deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        buf_reset(&out);
        return -1;
    }
    buf_reset(body);
    *body = out;
    return 0;
}

#define STREAM_BLOCK (32 * 1024)    /* bytes asked of a stream at a time */

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct reply_stream *st = cls;
    long n;

    (void)pos;
    n = st->read(st, buf, max);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : (ssize_t)n;
}

static void
stream_free(void *cls)
{
    struct reply_stream *st = cls;

    st->free(st);
}

/* A response for r, with our headers; NULL if libmicrohttpd has no memory. */
static struct MHD_Response *
make_response(struct serving *sv, struct reply *r, int gzip, size_t *bytes)
{
    struct MHD_Response *resp;
    const char *origin = sv->p->serving.cors_origin;

    gzip = gzip && r->page == NULL && r->stream == NULL &&
        r->body.len >= GZIP_MIN && gzip_body(&r->body) == 0;
    *bytes = r->page != NULL ? r->pagelen : r->body.len;
    if (r->stream != NULL) {
        /* the response frees the stream; without one, we do */
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
            STREAM_BLOCK, stream_read, r->stream, stream_free);
        if (resp == NULL)
            r->stream->free(r->stream);
        r->stream = NULL;
    } else if (r->page != NULL) {
        resp = MHD_create_response_from_buffer(r->pagelen, (void *)r->page,
            MHD_RESPMEM_PERSISTENT);
    } else if (r->body.len == 0) {
        resp = MHD_create_response_from_buffer(0, (void *)"",
            MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = r->body.len;
        char *data = buf_steal(&r->body);

        resp = MHD_create_response_from_buffer_with_free_callback(len, data,
            free);
        if (resp == NULL)
            free(data);
    }
    if (resp == NULL)
        return NULL;
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
        r->type);
    if (gzip)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
            "gzip");
    if (r->status == 405 || r->status == 204)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
            origin != NULL ? ALLOW_CORS : ALLOW);
    if (r->status == 401)
        (void)MHD_add_response_header(resp,
            MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"lambdakit\"");
    if (r->status == 503)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (origin != NULL) {
        (void)MHD_add_response_header(resp,
            MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
            "Origin, Accept-Encoding");
    } else if (r->page == NULL) {
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
            "Accept-Encoding");
    }
    if (r->status == 204 && origin != NULL) {
        (void)MHD_add_response_header(resp, "Access-Control-Allow-Methods",
            ALLOW_CORS);
        (void)MHD_add_response_header(resp, "Access-Control-Allow-Headers",
            "Authorization");
        (void)MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    return resp;
}

static enum MHD_Result
respond(struct serving *sv, struct MHD_Connection *c, struct req *rq,
    struct reply *r)
{
    size_t bytes;
    struct MHD_Response *resp = make_response(sv, r, rq->gzip, &bytes);
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    rq->status = r->status;
    rq->queued = 1;
    return ret;
}

static enum MHD_Result
respond_error(struct serving *sv, struct MHD_Connection *c, struct req *rq,
    int status, const char *msg)
{
    struct reply r;
    enum MHD_Result ret;

    reply_init(&r);
    reply_error(&r, status, NULL, "%s", msg);
    ret = respond(sv, c, rq, &r);
    reply_reset(&r);
    return ret;
}

/* ---- requests ---------------------------------------------------------- */

static enum MHD_Result
on_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t klen,
    const char *value, size_t vlen)
{
    (void)kind;
    return api_params_add(cls, key, klen, value, vlen) == 0 ? MHD_YES :
        MHD_NO;
}

/* Compare the whole given token with the whole configured one, in time
 * that depends on the configured length only. */
static int
token_ok(const char *given, const char *want)
{
    size_t glen = strlen(given), wlen = strlen(want);
    volatile unsigned char d = glen != wlen;

    for (size_t i = 0; i < wlen; i++)
        d |= (unsigned char)want[i] ^
            (unsigned char)(i < glen ? given[i] : 0);
    return d == 0;
}

static int
authorized(struct serving *sv, struct MHD_Connection *c)
{
    const char *want = sv->p->serving.token, *h;

    if (want == NULL)
        return 1;
    h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
        MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    for (h += 7; *h == ' '; h++)
        continue;
    return token_ok(h, want);
}

/* /v1/views/NAME/ACTION: the route and the view, NULL if unknown. */
static enum route
route_view(const char *rest, char *name, size_t size)
{
    const char *slash = strrchr(rest, '/');
    size_t n;

    if (slash == NULL || (n = (size_t)(slash - rest)) >= size)
        return ROUTE_OTHER;
    memcpy(name, rest, n);
    name[n] = '\0';
    if (strcmp(slash + 1, "total") == 0)
        return ROUTE_TOTAL;
    if (strcmp(slash + 1, "series") == 0)
        return ROUTE_SERIES;
    if (strcmp(slash + 1, "top") == 0)
        return ROUTE_TOP;
    if (strcmp(slash + 1, "export") == 0)
        return ROUTE_EXPORT;
    if (strcmp(slash + 1, "late") == 0)
        return ROUTE_LATE;
    return ROUTE_OTHER;
}

/*
 * series and top: answer from the cache when the store is unchanged since
 * the same request was answered (cache.h), else compute from the snapshot
 * whose identity keys the new entry.
 */
static enum MHD_Result
answer_cached(struct serving *sv, struct MHD_Connection *c, struct req *rq,
    const char *name, const char *url, struct params *q, struct reply *r)
{
    struct store *st = serving_store(sv);
    const struct view *v;
    struct MHD_Response *resp;
    struct buf key, id;
    struct snap s;
    char err[ERR_LEN];
    uint64_t h;
    size_t len;
    int ret = MHD_NO;

    if (st == NULL || snap_begin(&s, st, err) != 0) {
        if ((v = viewdefs_view(sv, NULL, name, NULL, r)) == NULL)
            return respond(sv, c, rq, r);
        if (rq->route == ROUTE_SERIES)
            api_series(sv, v, q, NULL, r);
        else
            api_top(sv, v, q, NULL, r);
        return respond(sv, c, rq, r);
    }
    /* the definition the snapshot's rows were written with */
    if ((v = viewdefs_view(sv, &s, name, NULL, r)) == NULL) {
        snap_end(&s);
        return respond(sv, c, rq, r);
    }
    buf_init(&key);
    buf_init(&id);
    cache_key_begin(&key, url);
    for (int i = 0; i < q->n; i++)
        cache_key_param(&key, q->v[i].name, q->v[i].value);
    h = cache_key_end(&key, rq->gzip);
    /* the identity changes with every publish, hence every switch */
    if (snap_identity(&s, &id, err) == 0 &&
        cache_queue(&sv->cache, h,
        key.data, key.len, id.data, id.len, c, &ret)) {
        rq->status = 200;
        rq->queued = 1;
        goto done;
    }
    if (rq->route == ROUTE_SERIES)
        api_series(sv, v, q, &s, r);
    else
        api_top(sv, v, q, &s, r);
    if (r->status != 200 || id.len == 0) {
        ret = respond(sv, c, rq, r);
        goto done;
    }
    if ((resp = make_response(sv, r, rq->gzip, &len)) == NULL)
        goto done;
    ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    rq->status = 200;
    rq->queued = 1;
    cache_put(&sv->cache, h, key.data, key.len, id.data, id.len, resp, len);
done:
    snap_end(&s);
    buf_reset(&key);
    buf_reset(&id);
    return (enum MHD_Result)ret;
}

static enum MHD_Result
dispatch(struct serving *sv, struct MHD_Connection *c, struct req *rq,
    const char *url, const char *method, struct reply *r)
{
    const struct view *v = NULL;
    struct params q;
    struct snap s;
    char name[256];
    int api = strncmp(url, "/v1/", 4) == 0, opened;

    q.n = 0;
    rq->gzip = accepts_gzip(c);
    if (strcmp(url, "/") == 0)
        rq->route = ROUTE_DASHBOARD;
    else if (strcmp(url, "/healthz") == 0)
        rq->route = ROUTE_HEALTHZ;
    else if (strcmp(url, "/readyz") == 0)
        rq->route = ROUTE_READYZ;
    else if (strcmp(url, "/metrics") == 0)
        rq->route = ROUTE_METRICS;
    else if (strcmp(url, "/v1/views") == 0)
        rq->route = ROUTE_VIEWS;
    else if (strncmp(url, "/v1/views/", 10) == 0)
        rq->route = route_view(url + 10, name, sizeof(name));
    else if (strncmp(url, "/v1/publishes", 13) == 0 &&
        (url[13] == '\0' || url[13] == '/'))
        rq->route = ROUTE_PUBLISHES;

    if (strcmp(method, "OPTIONS") == 0 && sv->p->serving.cors_origin != NULL) {
        r->status = 204;    /* CORS preflight: never needs the token */
        return respond(sv, c, rq, r);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply_error(r, 405, NULL, "method %s not allowed: use GET", method);
        return respond(sv, c, rq, r);
    }
    if (api && !authorized(sv, c)) {
        reply_error(r, 401, NULL, "missing or wrong bearer token: send "
            "\"Authorization: Bearer TOKEN\"");
        return respond(sv, c, rq, r);
    }
    (void)MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, on_arg, &q);
    if (q.n > PARAMS_MAX) {
        reply_error(r, 400, NULL, "more than %d query parameters, or a NUL "
            "byte in one", PARAMS_MAX);
        return respond(sv, c, rq, r);
    }
    switch (rq->route) {
    case ROUTE_DASHBOARD:
        r->type = "text/html; charset=utf-8";
        r->page = dashboard_html;
        r->pagelen = dashboard_html_len();
        break;
    case ROUTE_HEALTHZ:
        api_healthz(sv, &q, r);
        break;
    case ROUTE_READYZ:
        api_readyz(sv, &q, r);
        break;
    case ROUTE_METRICS:
        api_metrics(sv, &q, r);
        break;
    case ROUTE_VIEWS:
        api_views(sv, &q, r);
        break;
    case ROUTE_PUBLISHES:
        api_publishes(sv, url + 13, &q, r);
        break;
    case ROUTE_TOTAL:
        if ((v = viewdefs_open(sv, name, &s, &opened, r)) != NULL)
            api_total(sv, v, &q, opened ? &s : NULL, r);
        if (opened)
            snap_end(&s);
        break;
    case ROUTE_EXPORT:
        /* its stream reads its own snapshot, which checks v again */
        if ((v = viewdefs_open(sv, name, &s, &opened, r)) != NULL)
            api_export(sv, v, &q, r);
        if (opened)
            snap_end(&s);
        break;
    case ROUTE_LATE:
        if ((v = viewdefs_open(sv, name, &s, &opened, r)) != NULL)
            api_late(sv, v, &q, opened ? &s : NULL, r);
        if (opened)
            snap_end(&s);
        break;
    case ROUTE_SERIES:
    case ROUTE_TOP:
        return answer_cached(sv, c, rq, name, url, &q, r);
    default:
        reply_error(r, 404, NULL, "no such path: %.200s", url);
        break;
    }
    return respond(sv, c, rq, r);
}

/* RFC 9110 §5.1: a field name is a token. */
static int
is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (strchr("!#$%&'*+-.^_`|~", *s) == NULL &&
            !(*s >= '0' && *s <= '9') && !(*s >= 'a' && *s <= 'z') &&
            !(*s >= 'A' && *s <= 'Z'))
            return 0;
    return 1;
}

struct framing {
    int         n;              /* header fields */
    int         ncl, nte;       /* Content-Length, Transfer-Encoding seen */
    const char *cl;             /* the last Content-Length */
    const char *bad;            /* a field name that is not a token */
};

static enum MHD_Result
on_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
    struct framing *f = cls;

    (void)kind;
    f->n++;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->ncl++;
        f->cl = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->nte++;
    } else if (f->bad == NULL && !is_token(key)) {
        f->bad = key;
    }
    return MHD_YES;
}

/*
 * RFC 9112 §6.3: where the request ends must be beyond doubt, or the bytes
 * after it could be read as a request of their own (a desync). Returns
 * NULL, or why the request is refused: more than one Content-Length, both
 * framings, a body on a bodiless method, a field name with a space before
 * its colon ("Content-Length : 5", which libmicrohttpd keeps as another
 * field). libmicrohttpd itself refuses a Content-Length that is not
 * digits, before any handler runs.
 */
static const char *
framing_error(const struct framing *f, const char *method, int bodiless,
    char *msg, size_t size)
{
    if (f->ncl > 1)
        return "more than one Content-Length header";
    if (f->ncl > 0 && f->nte > 0)
        return "both Content-Length and Transfer-Encoding";
    if (bodiless && (f->nte > 0 ||
        (f->ncl > 0 && f->cl[strspn(f->cl, "0")] != '\0'))) {
        snprintf(msg, size, "a %s request has no body", method);
        return msg;
    }
    if (f->bad != NULL) {
        snprintf(msg, size, "malformed header field name \"%.64s\"",
            f->bad);
        return msg;
    }
    return NULL;
}

/*
 * The checks of a request's first call, before anything is answered from
 * it: the limits libmicrohttpd's connection memory leaves room for, the
 * framing, the method. Returns 0, or -1 once an error is queued; an
 * answer queued in the first call makes libmicrohttpd close the connection
 * after it, so the rest of a refused request is never read as another.
 */
static int
refuse(struct serving *sv, struct MHD_Connection *c, struct req *rq,
    const char *method, enum MHD_Result *ret)
{
    const union MHD_ConnectionInfo *ci;
    int bodiless = strcmp(method, "GET") == 0 ||
        strcmp(method, "HEAD") == 0 || strcmp(method, "OPTIONS") == 0;
    struct framing f = {0, 0, 0, NULL, NULL};
    const char *why;
    char msg[128];

    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    (void)MHD_get_connection_values(c, MHD_HEADER_KIND, on_header, &f);
    if (rq->urilen > HTTP_URI_MAX) {
        snprintf(msg, sizeof(msg), "URL longer than %d bytes", HTTP_URI_MAX);
        *ret = respond_error(sv, c, rq, 414, msg);
    } else if ((ci != NULL && ci->header_size > HTTP_HEAD_MAX) ||
        f.n > HTTP_FIELDS_MAX) {
        snprintf(msg, sizeof(msg), "request line and header fields longer "
            "than %d bytes, or more than %d fields", HTTP_HEAD_MAX,
            HTTP_FIELDS_MAX);
        *ret = respond_error(sv, c, rq, 431, msg);
    } else if ((why = framing_error(&f, method, bodiless, msg,
        sizeof(msg))) != NULL) {
        *ret = respond_error(sv, c, rq, 400, why);
    } else if (!bodiless) {
        snprintf(msg, sizeof(msg), "method %.32s not allowed: use GET",
            method);
        *ret = respond_error(sv, c, rq, 405, msg);
    } else {
        return 0;
    }
    return -1;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
    struct serving *sv = cls;
    struct req *rq = *con_cls;
    struct reply r;
    enum MHD_Result ret;

    (void)version;
    (void)upload;
    if (rq == NULL)
        *con_cls = rq = req_new(c, strlen(url));
    if (!rq->seen) {
        rq->seen = 1;
        atomic_fetch_add(&sv->inflight, 1);
        /* cut by the guard meanwhile, which may have written its 408 */
        if (guard_busy(rq->gc) != 0)
            return MHD_NO;
        if (refuse(sv, c, rq, method, &ret) != 0)
            return ret;
        /* answered in the next call, which keeps the connection alive */
        return MHD_YES;
    }
    if (rq->queued)
        return MHD_YES;
    if (*upload_size != 0)      /* refuse() lets no body through */
        return MHD_NO;
    reply_init(&r);
    ret = dispatch(sv, c, rq, url, method, &r);
    reply_reset(&r);
    return ret;
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct serving *sv = cls;
    struct req *rq = req_new(c, strlen(uri));

    guard_begin(&sv->guard, rq->gc);
    return rq;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
    struct serving *sv = cls;
    struct req *rq = *con_cls;

    (void)c;
    if (rq == NULL)
        return;
    if (rq->seen)
        atomic_fetch_sub(&sv->inflight, 1);
    if (rq->queued)
        metrics_observe(&sv->metrics, rq->route, rq->status,
            now_mono_us() - rq->start);
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        guard_idle(&sv->guard, rq->gc);
    free(rq);
    *con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
    struct serving *sv = cls;
    const union MHD_ConnectionInfo *ci;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci != NULL ?
            guard_open(&sv->guard, ci->connect_fd) : NULL;
    } else {
        guard_close(&sv->guard, *socket_context);
        *socket_context = NULL;
    }
}

/* libmicrohttpd's messages: warnings while it starts (bind failures and
 * the like), debug once it runs, when they are about clients that went
 * away or sent garbage, which an attacker could otherwise flood the log
 * with. */
static void __attribute__((format(printf, 2, 0)))
on_log(void *cls, const char *fmt, va_list ap)
{
    struct serving *sv = cls;
    enum log_level level = atomic_load(&sv->running) ? LOG_LEVEL_DEBUG :
        LOG_LEVEL_WARN;
    char msg[512];
    size_t n;

    if (!log_enabled(level))
        return;
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    log_at(level, "libmicrohttpd: %s", msg);
}

/* ---- daemon ------------------------------------------------------------ */

static int
resolve(const char *listen, struct sockaddr_storage *ss, char *err)
{
    struct addrinfo hints, *res = NULL;
    char host[256];
    const char *colon = strrchr(listen, ':'), *h = listen;
    size_t n;
    int rc;

    if (colon == NULL || colon[1] == '\0')
        goto bad;
    n = (size_t)(colon - listen);
    if (n > 0 && listen[0] == '[') {
        if (n < 2 || listen[n - 1] != ']')
            goto bad;
        h++;
        n -= 2;
    }
    if (n >= sizeof(host))
        goto bad;
    memcpy(host, h, n);
    host[n] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(n > 0 ? host : NULL, colon + 1, &hints, &res)) != 0) {
        snprintf(err, ERR_LEN, "listen %s: %s", listen, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
bad:
    snprintf(err, ERR_LEN, "listen %s: expected ADDR:PORT", listen);
    return -1;
}

/* The guard's answer to a request that did not arrive in time. */
static void
late_answer(struct serving *sv)
{
    struct reply r;

    reply_init(&r);
    reply_error(&r, 408, NULL, "the request did not arrive whole within "
        "%.3g s", (double)sv->guard.header / 1000);
    guard_answer(&sv->guard, r.body.data, r.body.len);
    reply_reset(&r);
}

int
http_start(struct serving *sv, char *err)
{
    const struct pipeline *p = sv->p;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    const union MHD_DaemonInfo *di;
    char host[INET6_ADDRSTRLEN];
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC |
        MHD_USE_ERROR_LOG;

    memset(&ss, 0, sizeof(ss));
    if (resolve(p->serving.listen, &ss, err) != 0)
        return -1;
    late_answer(sv);
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    sv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, sv,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, sv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)p->serving.threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)p->serving.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)p->serving.max_connections_per_ip,
        /* a backstop: the guard's deadlines come first */
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)p->serving.timeout + 1,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_POOL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, sv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, sv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, sv,
        MHD_OPTION_END);
    if (sv->daemon == NULL) {
        snprintf(err, ERR_LEN, "listen %s: cannot start the HTTP daemon "
            "(address in use or not local?)", p->serving.listen);
        return -1;
    }
    atomic_store(&sv->running, 1);
    di = MHD_get_daemon_info(sv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (di == NULL || getsockname(di->listen_fd, (struct sockaddr *)&ss,
        &len) != 0) {
        snprintf(err, ERR_LEN, "listen %s: cannot read the bound address",
            p->serving.listen);
        return -1;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

        (void)inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        sv->port = ntohs(a->sin6_port);
        snprintf(sv->url, sizeof(sv->url), "http://[%s]:%d", host, sv->port);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;

        (void)inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        sv->port = ntohs(a->sin_port);
        snprintf(sv->url, sizeof(sv->url), "http://%s:%d", host, sv->port);
    }
    return 0;
}

void
http_stop(struct serving *sv, int wait_ms)
{
    struct timespec ms = {0, 10 * 1000 * 1000};
    MHD_socket fd;

    if (sv->daemon == NULL)
        return;
    fd = MHD_quiesce_daemon(sv->daemon);
    for (int i = 0; i < wait_ms / 10 && atomic_load(&sv->inflight) > 0; i++)
        (void)nanosleep(&ms, NULL);
    MHD_stop_daemon(sv->daemon);
    sv->daemon = NULL;
    if (fd != MHD_INVALID_SOCKET)
        (void)close(fd);
}
