/* metric.h -- the metrics of a view: their kinds, how they are written, their slots */
#ifndef SHARED_METRIC_H
#define SHARED_METRIC_H

#include <stddef.h>

#include "shared/pipeline.h"

/*
 * A metric is written as the value of views.V.metrics.NAME:
 *     "count"
 *     "sum(FIELD)" "min(FIELD)" "max(FIELD)" "avg(FIELD)"   int, decimal, float
 *     "stddev(FIELD)" "stddev_pop(FIELD)"                  int, decimal, float
 *     "distinct(FIELD)"               string, int, decimal, float or bool
 *     "quantile(FIELD, Q)"            int, decimal, float; Q a number in
 *                                     [0, 1] ("quantile(latency, 0.99)")
 * Spaces around the arguments are ignored. enum metric_kind and struct
 * metric are in pipeline.h; the state of each kind is described in agg.h.
 */

/* The name of kind k as written ("stddev_pop"). The names are part of the
 * stored view signatures (pipeline_view_signature()): never change one. */
const char *metric_kind_name(enum metric_kind k);

/* How many int64 slots the state of kind k takes in a row (agg.h). */
int metric_slots(enum metric_kind k);

/*
 * Write m as a pipeline file writes it ("sum(amount)", "quantile(amount,
 * 0.99)", q in its shortest form) into buf (METRIC_TEXT_MAX bytes, enough
 * for any metric of a loaded pipeline). Returns buf.
 */
#define METRIC_TEXT_MAX 192
char *metric_text(const struct pipeline *p, const struct metric *m,
    char *buf, size_t size);

/*
 * Read spec, the text of a metric (NULL when the value is not a string),
 * against p's fields into m->kind, m->field (-1 for count), m->type and
 * m->q; m's name and slot are the caller's. got is how the caller quotes
 * the value in a message (40 bytes at most). Returns 0, or -1 with the
 * reason in why (ERR_LEN bytes), e.g.
 *     quantile takes a number from 0 to 1, got 1.5
 */
int metric_parse(const struct pipeline *p, const char *spec, const char *got,
    struct metric *m, char *why);

#endif
