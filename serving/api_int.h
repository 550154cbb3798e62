/* api_int.h -- private to serving/api*.c: replies, snapshots, parameters */
#ifndef SERVING_API_INT_H
#define SERVING_API_INT_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * Private to serving/api*.c; http.c uses api.h only.
 *
 *     api.c           what every answer is made of: replies, JSON, snapshot
 *     api_param.c     query parameters
 *     api_views.c     GET /v1/views
 *     api_total.c     GET /v1/views/NAME/total
 *     api_series.c    GET /v1/views/NAME/series
 *     api_top.c       GET /v1/views/NAME/top
 *     api_export.c    GET /v1/views/NAME/export
 *     api_health.c    GET /healthz, /readyz
 *     api_metrics.c   GET /metrics
 *     api_publishes.c GET /v1/publishes, /v1/publishes/VERSION
 *     api_late.c      GET /v1/views/NAME/late, "pending" of total, series
 *
 * The helpers below that take a struct reply fill it with the error
 * answer (reply_error()) when they fail, so a handler only stops.
 */

struct params;
struct pipeline;
struct plan;
struct reply;
struct serving;
struct snap;
struct view;
struct window;

/* ---- replies (api.c) ---- */

/* Log err as a warning and make r a 500 answer saying it. */
void api_internal(struct reply *r, const char *err);

/* JSON pieces of the answers, appended to b. A time is an RFC 3339 string,
 * or null when not present. */
void api_put_time(struct buf *b, int present, int64_t ms);

/* ,"from":TIME,"to":TIME (null for INT64_MIN and INT64_MAX). */
void api_put_range(struct buf *b, int64_t from, int64_t to);

/*
 * ,"approximate":{"METRIC":{"relative_error":E},...} for the metrics of the
 * row that are estimates (agg_metric_approximate()), or nothing when every
 * one is exact: written after the "metrics" object it qualifies.
 */
void api_put_approximate(struct buf *b, const struct pipeline *p,
    const struct view *v, const int64_t *row);

/* The end of an answer read from s: ,"batch":{"version","cutoff"},
 * "speed":{"watermark"} (where it came from), then "}" and a newline. */
void api_put_end(struct buf *b, const struct snap *s);

/* The group key as a JSON object; -1 with a 500 in r if it does not
 * decode. */
int api_put_key(struct buf *b, struct serving *sv, const struct view *v,
    const void *key, size_t len, struct reply *r);

/* {"view":NAME, the opening of the answers about one view. */
void api_put_head(struct buf *b, const struct view *v);

/* ---- series and export (api_series.c) ---- */

/* The metric and output names of a view as JSON object keys ("orders":),
 * escaped once for the many rows of a series or an export. */
struct api_mkeys {
    struct buf  text;
    size_t     *off;    /* nmetrics + noutputs + 1 offsets into text */
};

void api_mkeys_init(struct api_mkeys *k, const struct view *v);
void api_mkeys_reset(struct api_mkeys *k);

/* As outputs_put_metrics(), with the keys of k. */
void api_put_metrics_k(struct buf *b, const struct api_mkeys *k,
    const struct pipeline *p, const struct view *v, const int64_t *row);

/* What a series reads: buckets [from, to), points every step, each over
 * width (the window). */
struct series_spec {
    int64_t from, to, step, width;
};

/* from, to, step (default the granularity) and window (default step);
 * -1 with a 400 in r. */
int api_series_spec(const struct view *v, struct params *q, struct reply *r,
    struct series_spec *sp);

/* The plan of the read for sp in s (plan_make()), the same for every
 * group. Returns 0, or -1 with err. */
int api_series_plan(struct snap *s, const struct view *v,
    const struct series_spec *sp, struct plan *pl, char *err);

/* window_init() for sp: the points of one group, emitted to emit(arg). */
void api_series_window(struct window *w, const struct view *v,
    const struct series_spec *sp,
    int (*emit)(void *arg, int64_t t, const int64_t *row, char *err),
    void *arg);

/* Where the point at t comes from: "batch" (its whole window is below the
 * snapshot's cutoff), "speed" (it starts at or after it) or "mixed". */
const char *api_point_source(const struct series_spec *sp, int64_t cutoff,
    int64_t t);

/* "t":TIME,"source":"batch"|"speed"|"mixed","metrics":{...}, a point at t
 * of the merged row, its source from the snapshot's cutoff. */
void api_put_point(struct buf *b, const struct series_spec *sp,
    int64_t cutoff, int64_t t, const struct api_mkeys *k,
    const struct pipeline *p, const struct view *v, const int64_t *row);

/* ---- snapshots (api.c) ---- */

/*
 * Open a snapshot of sv's store in s (end it with snap_end()). Returns 0,
 * or -1 with a 503 in r: no store yet, store unreadable, or no data yet.
 */
int api_snap_open(struct serving *sv, struct snap *s, struct reply *r);

/*
 * The snapshot to answer v from: pre if the caller opened one (and resolved
 * v in it), else a new one in own (end it with api_snap_done()). NULL with
 * a 503 in r when there is no data yet or, in a new one, v's rows were
 * written under another definition.
 */
struct snap *api_snap_for(struct serving *sv, const struct view *v,
    struct snap *pre, struct snap *own, struct reply *r);

/* End s if it is own (the one api_snap_for() opened), else leave it. */
void api_snap_done(struct snap *s, struct snap *own);

/* ---- the late-data ledger (api_late.c) ---- */

/*
 * ,"pending":{"events","buckets","metrics":{...},"unarchived"}: the late
 * events of v's group key with buckets in [from, to) that the ledger holds
 * in snapshot s (shared/late.h): the archived ones summed (the next batch
 * run counts them), and the count of those never archived. Nothing when
 * the ledger has no archived one: late events that were never archived
 * may be in batch's inputs by another way (speed replaying what batch
 * read), so they do not change the answer; GET .../late lists them.
 * Returns 0, or -1 with a 500 in r.
 */
int api_put_pending(struct serving *sv, struct snap *s, const struct view *v,
    const struct buf *key, int64_t from, int64_t to, struct reply *r);

/* ---- parameters (api_param.c) ---- */

/* 400 when a parameter is given twice. */
int api_params_dups(struct params *q, struct reply *r);

/*
 * 400 when a parameter was not read by the handler: a typo ("form=") is an
 * error, not a silently ignored filter. names lists the handler's own
 * parameters for the message; v's group_by fields are added (v may be
 * NULL).
 */
int api_params_rest(struct serving *sv, const struct view *v,
    struct params *q, struct reply *r, const char *names);

/* from and to (INT64_MIN, INT64_MAX when absent); 400 unless from < to. */
int api_param_range(struct params *q, struct reply *r, int64_t *from,
    int64_t *to);

/* The group key from the view's group_by parameters, appended to key. */
int api_param_key(struct serving *sv, const struct view *v, struct params *q,
    struct reply *r, struct buf *key);

/*
 * The group_by parameters given, as a filter on groups (export): for each
 * field g given, comp[g] (v->ngroup buffers) gets its key component
 * (key_encode_text()); *given counts them. -1 with a 400 in r on a bad
 * value.
 */
int api_param_key_filter(struct serving *sv, const struct view *v,
    struct params *q, struct reply *r, struct buf *comp, int *given);

/* Parameter name, one of the NULL-terminated choices: its index in *out, 0
 * (the first, the default) when absent. */
int api_param_choice(struct params *q, struct reply *r, const char *name,
    const char *const *choices, int *out);

/* The duration parameter name (dflt when absent): a multiple of v's
 * granularity. */
int api_param_duration(const struct view *v, struct params *q,
    struct reply *r, const char *name, int64_t dflt, int64_t *out);

/* The metric parameter: an index into v->metrics. */
int api_param_metric(const struct view *v, struct params *q, struct reply *r,
    int *m);

/* The n parameter of top: 1 to serving.max_top, default 10 or max_top. */
int api_param_n(struct serving *sv, struct params *q, struct reply *r,
    int *n);

#endif
