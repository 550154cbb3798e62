/* serving_gen.c -- benchmark helper: a store of G groups x H hourly buckets, plus speed rows */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/key.h"
#include "shared/mem.h"
#include "shared/pipeline.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/ts.h"

/*
 * usage: serving_gen PIPELINE STORE GROUPS HOURS SPEED_HOURS [END]
 *
 * PIPELINE has one view, grouped by a string field "customer", with an
 * hourly granularity and metrics over a decimal field "amount". Groups are
 * customer-0, customer-1, ... (the names lambda-produce --generate gives,
 * so a live stream adds to the same groups); every group gets 1 to 4
 * orders in every hour of HOURS hours ending at END (epoch seconds, a
 * whole hour; default 2026-11-20T00:00:00Z), published as one batch
 * version through store_writer_put() (which derives the day and all-time
 * levels), then SPEED_HOURS more hours per group as speed rows through
 * store_speed_merge(), with the speed watermark at their end. Rows are
 * built with agg_row_add(), so their states are what batch would write.
 */

#define END_DEFAULT 1795132800LL    /* 2026-11-20T00:00:00Z */

/* Group g's name: customer-G. */
static void
group_name(int g, char *name, size_t size)
{
    snprintf(name, size, "customer-%d", g);
}

static int
name_cmp(const void *a, const void *b)
{
    char x[24], y[24];

    group_name(*(const int *)a, x, sizeof(x));
    group_name(*(const int *)b, y, sizeof(y));
    return strcmp(x, y);
}

static void __attribute__((noreturn))
die(const char *msg)
{
    fprintf(stderr, "serving_gen: %s\n", msg);
    exit(1);
}

/* Deterministic row for (group, bucket): 1..4 orders of 0.01..300.00. */
static int
make_row(const struct view *v, struct event *ev, int amount, uint64_t g,
    int64_t bucket, int64_t *row)
{
    uint64_t h = (g * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)bucket;
    int n = 1 + (int)(h % 4);

    agg_row_init(v, row);
    for (int k = 0; k < n; k++) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        ev->vals[amount].present = 1;
        ev->vals[amount].num = 1 + (int64_t)((h >> 33) % 30000);
        ev->time = bucket;
        if (agg_row_add(v, row, ev) != 0)
            die("overflow");
    }
    return n;
}

int
main(int argc, char **argv)
{
    struct pipeline *p;
    const struct view *v;
    struct store *st;
    struct store_writer *w;
    struct store_txn *t;
    struct store_batch_info info;
    struct event ev;
    struct buf key;
    struct timeval tv;
    char err[ERR_LEN], name[24];
    int64_t *row, start, events = 0;
    int64_t end_ms;
    int *order;
    int groups, hours, shours, cust, amount;

    if (argc != 6 && argc != 7)
        die("usage: serving_gen PIPELINE STORE GROUPS HOURS SPEED_HOURS "
            "[END]");
    groups = atoi(argv[3]);
    hours = atoi(argv[4]);
    shours = atoi(argv[5]);
    end_ms = (argc == 7 ? atoll(argv[6]) : END_DEFAULT) * 1000;
    if (end_ms % 3600000 != 0)
        die("END is not a whole hour");
    if (pipeline_load(&p, argv[1], err) != 0 ||
        pipeline_set(p, "store", argv[2], err) != 0)
        die(err);
    v = &p->views[0];
    cust = pipeline_field_index(p, "customer");
    amount = pipeline_field_index(p, "amount");
    if (p->nviews != 1 || cust < 0 || amount < 0 ||
        v->granularity != 3600000)
        die("the pipeline needs one hourly view over customer and amount");
    if (store_open(&st, p->store, 0, err) != 0 ||
        store_writer_begin(st, p, -1, &w, err) != 0)
        die(err);
    event_init(&ev, p);
    buf_init(&key);
    row = xmalloc(agg_row_size(v));
    start = end_ms - (int64_t)hours * 3600000;
    /* the writer takes groups in key order: customer-0, customer-1,
     * customer-10, ... */
    order = xmalloc((size_t)groups * sizeof(int));
    for (int g = 0; g < groups; g++)
        order[g] = g;
    qsort(order, (size_t)groups, sizeof(int), name_cmp);
    for (int i = 0; i < groups; i++) {
        int g = order[i];

        group_name(g, name, sizeof(name));
        buf_clear(&key);
        if (key_encode_text(&key, &p->fields[cust], name, err) != 0)
            die(err);
        for (int h = 0; h < hours; h++) {
            int64_t b = start + (int64_t)h * 3600000;

            events += make_row(v, &ev, amount, (uint64_t)g, b, row);
            if (store_writer_put(w, v, key.data, key.len, b, row, err) != 0)
                die(err);
        }
    }
    memset(&info, 0, sizeof(info));
    info.cutoff = end_ms;
    info.events = events;
    if (store_writer_publish(w, &info, err) != 0)
        die(err);
    if (store_txn_begin(st, 1, &t, err) != 0)
        die(err);
    for (int g = 0; g < groups; g++) {
        group_name(g, name, sizeof(name));
        buf_clear(&key);
        (void)key_encode_text(&key, &p->fields[cust], name, err);
        for (int h = 0; h < shours; h++) {
            int64_t b = end_ms + (int64_t)h * 3600000;

            (void)make_row(v, &ev, amount, (uint64_t)g, b, row);
            if (store_speed_merge(t, v, key.data, key.len, b, row, err) != 0)
                die(err);
        }
    }
    gettimeofday(&tv, NULL);
    if (store_meta_put_i64(t, SPEEDMETA_WATERMARK,
        end_ms + (int64_t)shours * 3600000, err) != 0 ||
        store_meta_put_i64(t, SPEEDMETA_UPDATED_AT,
        (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, err) != 0 ||
        store_txn_commit(t, err) != 0)
        die(err);
    printf("serving_gen: %d groups x %d hours published (%lld orders), "
        "%d speed hours\n", groups, hours, (long long)events, shours);
    free(row);
    free(order);
    buf_reset(&key);
    event_reset(&ev);
    store_free(st);
    pipeline_free(p);
    return 0;
}
