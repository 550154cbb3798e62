/* metrics.c -- request counters and latency histograms, rendered for Prometheus */
#include <string.h>

#include "serving/metrics.h"
#include "shared/now.h"

static const char *const route_names[ROUTE_N] = {
    "views", "total", "series", "top", "export", "healthz", "readyz",
    "metrics", "dashboard", "publishes", "late", "other"
};

/* The last entry stands for any status not listed. */
static const int codes[METRICS_NCODES] = {
    200, 204, 400, 401, 403, 404, 405, 413, 414, 431, 500, 503, 0
};

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const int64_t bounds_us[METRICS_NBUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    1000000, 5000000
};
static const char *const bounds_text[METRICS_NBUCKETS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025", "0.05", "0.1", "0.25", "1", "5", "+Inf"
};

void
metrics_init(struct metrics *m)
{
    for (int r = 0; r < ROUTE_N; r++) {
        for (int c = 0; c < METRICS_NCODES; c++)
            atomic_init(&m->requests[r][c], 0);
        for (int b = 0; b < METRICS_NBUCKETS; b++)
            atomic_init(&m->buckets[r][b], 0);
        atomic_init(&m->sum_us[r], 0);
    }
    atomic_init(&m->cut, 0);
    m->started = now_wall_ms();
}

const char *
metrics_route_name(enum route r)
{
    return route_names[r];
}

void
metrics_observe(struct metrics *m, enum route r, int status, int64_t us)
{
    int c, b;

    for (c = 0; c < METRICS_NCODES - 1; c++)
        if (codes[c] == status)
            break;
    for (b = 0; b < METRICS_NBUCKETS - 1; b++)
        if (us <= bounds_us[b])
            break;
    if (us < 0)
        us = 0;
    atomic_fetch_add_explicit(&m->requests[r][c], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->buckets[r][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us[r], (uint64_t)us,
        memory_order_relaxed);
}

static uint64_t
get(_Atomic uint64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

void
metrics_render_requests(struct metrics *m, struct buf *out)
{
    buf_puts(out, "# HELP lambda_serving_requests_total HTTP requests "
        "answered, by route and status.\n"
        "# TYPE lambda_serving_requests_total counter\n");
    for (int r = 0; r < ROUTE_N; r++) {
        for (int c = 0; c < METRICS_NCODES; c++) {
            uint64_t n = get(&m->requests[r][c]);

            if (n == 0)
                continue;
            if (codes[c] != 0)
                buf_printf(out, "lambda_serving_requests_total{route=\"%s\","
                    "code=\"%d\"} %llu\n", route_names[r], codes[c],
                    (unsigned long long)n);
            else
                buf_printf(out, "lambda_serving_requests_total{route=\"%s\","
                    "code=\"other\"} %llu\n", route_names[r],
                    (unsigned long long)n);
        }
    }

    buf_puts(out, "# HELP lambda_serving_request_duration_seconds Time from "
        "the request line to the end of the answer.\n"
        "# TYPE lambda_serving_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_N; r++) {
        uint64_t cum = 0;

        for (int b = 0; b < METRICS_NBUCKETS; b++)
            cum += get(&m->buckets[r][b]);
        if (cum == 0)
            continue;
        cum = 0;
        for (int b = 0; b < METRICS_NBUCKETS; b++) {
            cum += get(&m->buckets[r][b]);
            buf_printf(out, "lambda_serving_request_duration_seconds_bucket"
                "{route=\"%s\",le=\"%s\"} %llu\n", route_names[r],
                bounds_text[b], (unsigned long long)cum);
        }
        uint64_t us = get(&m->sum_us[r]);
        buf_printf(out, "lambda_serving_request_duration_seconds_sum"
            "{route=\"%s\"} %llu.%06llu\n", route_names[r],
            (unsigned long long)(us / 1000000),
            (unsigned long long)(us % 1000000));
        buf_printf(out, "lambda_serving_request_duration_seconds_count"
            "{route=\"%s\"} %llu\n", route_names[r], (unsigned long long)cum);
    }

    buf_printf(out, "# HELP lambda_serving_connections_cut_total Connections "
        "closed for not sending a request within serving.timeout.\n"
        "# TYPE lambda_serving_connections_cut_total counter\n"
        "lambda_serving_connections_cut_total %llu\n",
        (unsigned long long)get(&m->cut));
    buf_printf(out, "# HELP lambda_serving_start_time_seconds Start time of "
        "the process.\n# TYPE lambda_serving_start_time_seconds gauge\n"
        "lambda_serving_start_time_seconds %lld.%03lld\n",
        (long long)(m->started / 1000), (long long)(m->started % 1000));
}
