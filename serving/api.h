/* api.h -- the answers of DESIGN §4: views, total, series, top, export, health, metrics */
#ifndef SERVING_API_H
#define SERVING_API_H

#include <stddef.h>

#include "serving/serving.h"
#include "shared/buf.h"

/*
 * Handlers know nothing of libmicrohttpd: they read decoded query
 * parameters and fill a reply that http.c turns into a response, so a
 * handler's answer is a function of its parameters and one store snapshot.
 */

#define PARAMS_MAX 32

struct param {
    const char *name;
    const char *value;      /* NULL when given without '=' ("?country") */
    int         used;       /* set by the handler that read it */
};

/* Query parameters, decoded, borrowed from the request. */
struct params {
    struct param v[PARAMS_MAX];
    int          n;
};

/*
 * Add one decoded parameter of a query string to q, borrowing key and
 * value (NULL when given without '='); klen and vlen are their lengths.
 * An empty segment ("a=1&&b=2", a leading '&') is skipped. Returns 0, or
 * -1 when q is full or a NUL byte is inside a name or value: q->n is then
 * PARAMS_MAX + 1, and every later call fails too.
 */
int api_params_add(struct params *q, const char *key, size_t klen,
    const char *value, size_t vlen);

/*
 * A body made while it is sent (an export): http.c calls read for the
 * next bytes as the client takes them, then free once, at the end or
 * when the connection goes. read writes up to max bytes (max > 0) at buf
 * and returns how many, 0 at the end of the body, or -1 to cut the answer
 * short (the client sees the transfer fail). Embed it first in the
 * producer's state.
 */
struct reply_stream {
    long  (*read)(struct reply_stream *st, char *buf, size_t max);
    void  (*free)(struct reply_stream *st);
};

struct reply {
    int          status;
    struct buf   body;      /* JSON or text; owned */
    const char  *type;      /* Content-Type (static) */
    const char  *page;      /* static body instead of body (the dashboard) */
    size_t       pagelen;
    struct reply_stream *stream;    /* streamed body instead of body;
                                       owned until http.c takes it */
};

/* Embedded lifecycle; reply_reset() frees a stream nobody took. */
void reply_init(struct reply *r);
void reply_reset(struct reply *r);

/*
 * Make r an error answer: {"error":{"code":status,"message":"...",
 * "parameter":"from"}} (parameter only when param is not NULL).
 */
void reply_error(struct reply *r, int status, const char *param,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct snap;

/*
 * The data answers read the snapshot pre when the caller opened one (to
 * key a cache on its identity), else open their own after checking the
 * parameters.
 */
void api_views(struct serving *sv, struct params *q, struct reply *r);
void api_total(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r);
void api_series(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r);
void api_top(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r);
void api_export(struct serving *sv, const struct view *v, struct params *q,
    struct reply *r);
void api_late(struct serving *sv, const struct view *v, struct params *q,
    struct snap *pre, struct reply *r);
void api_healthz(struct serving *sv, struct params *q, struct reply *r);
void api_readyz(struct serving *sv, struct params *q, struct reply *r);
void api_metrics(struct serving *sv, struct params *q, struct reply *r);

/* GET /v1/publishes (rest "") and /v1/publishes/VERSION (rest "/VERSION"):
 * the publish log (api_publishes.c). */
void api_publishes(struct serving *sv, const char *rest, struct params *q,
    struct reply *r);

#endif
