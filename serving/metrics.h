/* metrics.h -- request counters and latency histograms, rendered for Prometheus */
#ifndef SERVING_METRICS_H
#define SERVING_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * Counters are relaxed atomics updated by the HTTP threads; /metrics reads
 * them without a lock, so a scrape may see a request counted in one family
 * and not yet in another (Prometheus tolerates that).
 */

enum route {
    ROUTE_VIEWS, ROUTE_TOTAL, ROUTE_SERIES, ROUTE_TOP, ROUTE_EXPORT,
    ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_METRICS, ROUTE_DASHBOARD,
    ROUTE_PUBLISHES, ROUTE_LATE, ROUTE_OTHER, ROUTE_N
};

#define METRICS_NCODES 13   /* the statuses we answer with, plus "other" */
#define METRICS_NBUCKETS 14 /* latency histogram buckets, +Inf included */

struct metrics {
    _Atomic uint64_t requests[ROUTE_N][METRICS_NCODES];
    _Atomic uint64_t buckets[ROUTE_N][METRICS_NBUCKETS];
    _Atomic uint64_t sum_us[ROUTE_N];   /* total latency, microseconds */
    _Atomic uint64_t cut;               /* connections cut by the deadline */
    int64_t          started;           /* wall clock ms at start */
};

/* Zero every counter and record the start time. */
void metrics_init(struct metrics *m);

/* The route label ("total") of r. */
const char *metrics_route_name(enum route r);

/* Count one answered request of route r with HTTP status, which took us
 * microseconds from its request line to the end of its answer. */
void metrics_observe(struct metrics *m, enum route r, int status, int64_t us);

/* Append the request families (counters, histogram, process start) in the
 * Prometheus text format to out. */
void metrics_render_requests(struct metrics *m, struct buf *out);

#endif
