/* store_publog_test.c -- unit tests for the publish diff and the publish log */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/agg.h"
#include "shared/err.h"
#include "shared/pipeline.h"
#include "shared/publog.h"
#include "shared/store.h"
#include "shared/ts.h"
#include "tests/test.h"

#define HOUR (3600LL * 1000)
#define DAY TS_DAY_MS

static char top[] = "/tmp/store_publog_test.XXXXXX";
static int ndirs;

/*
 * By hand, as store_test.c: views by_cust (1h, group by customer: orders
 * count, max_order max(amount)) and a_tot (1d, no group, orders count), in
 * that file order, so name order (a_tot first) differs from it. pl2 has
 * by_cust at 2h (redefined) and no a_tot (dropped).
 */
static struct field fields[2];
static struct metric cust_metrics[2], tot_metrics[1];
static int cust_group[1] = {0};
static struct view views[2], views2[1];
static struct pipeline pl, pl2;
static const struct view *by_cust = &views[0], *a_tot = &views[1];

static void
fixture(void)
{
    fields[0] = (struct field){.name = "customer", .type = FIELD_STRING,
        .required = 1};
    fields[1] = (struct field){.name = "amount", .type = FIELD_DECIMAL,
        .scale = 2, .required = 1};
    cust_metrics[0] = (struct metric){.name = "orders",
        .kind = METRIC_COUNT, .field = -1, .slot = 0};
    cust_metrics[1] = (struct metric){.name = "max_order",
        .kind = METRIC_MAX, .field = 1, .slot = 1, .type = FIELD_DECIMAL};
    views[0] = (struct view){.name = "by_cust", .group_by = cust_group,
        .ngroup = 1, .granularity = HOUR, .metrics = cust_metrics,
        .nmetrics = 2, .nslots = 3};
    tot_metrics[0] = (struct metric){.name = "orders",
        .kind = METRIC_COUNT, .field = -1, .slot = 0};
    views[1] = (struct view){.name = "a_tot", .granularity = DAY,
        .metrics = tot_metrics, .nmetrics = 1, .nslots = 1};
    pl = (struct pipeline){.name = "shop", .fields = fields, .nfields = 2,
        .views = views, .nviews = 2};
    views2[0] = views[0];
    views2[0].granularity = 2 * HOUR;
    pl2 = pl;
    pl2.views = views2;
    pl2.nviews = 1;
}

static const char *
newdir(void)
{
    static char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/s%d", top, ++ndirs);
    return path;
}

/* One row: a_tot when g is NULL (n orders), else by_cust of customer g (n
 * orders, the largest max cents). */
struct row {
    const char *g;
    int64_t     bucket;
    int64_t     n, max;
};

/* key.h's encoding of one string component */
static size_t
gk(unsigned char *out, const char *s)
{
    size_t n = strlen(s);

    out[0] = 0x04;
    memcpy(out + 1, s, n);
    out[n + 1] = 0x00;
    return n + 2;
}

static void
put(struct store_writer *w, const struct pipeline *p, const struct row *r)
{
    unsigned char key[64];
    int64_t slots[3] = {r->n, r->n, r->max};
    char err[ERR_LEN];
    int rc;

    if (r->g == NULL)
        rc = store_writer_put(w, &p->views[p->nviews > 1 ? 1 : 0], NULL, 0,
            r->bucket, slots, err);
    else
        rc = store_writer_put(w, &p->views[0], key, gk(key, r->g), r->bucket,
            slots, err);
    if (rc != 0)
        printf("put: %s\n", err);
    CHECK(rc == 0);
}

/* Publish rows (a_tot's first, then by_cust's, each in key order) as a new
 * version with cutoff; returns the version. */
static int64_t
publish(struct store *st, const struct pipeline *p, int64_t keep_before,
    const struct row *rows, int n, int64_t cutoff, int64_t rejects)
{
    struct store_batch_info info = {0, cutoff, 0, 1000};
    struct store_writer *w = NULL;
    char err[ERR_LEN];

    if (store_writer_begin(st, p, keep_before, &w, err) != 0) {
        printf("begin: %s\n", err);
        CHECK(0);
        return 0;
    }
    store_writer_log(w, cutoff, rejects);
    for (int i = 0; i < n; i++)
        put(w, p, &rows[i]);
    if (store_writer_publish(w, &info, err) != 0) {
        printf("publish: %s\n", err);
        CHECK(0);
        return 0;
    }
    return info.version;
}

/* What the log says of one view: counts, reasons and its details as text. */
struct seen {
    const char *view;
    int         found;
    int64_t     counts[PUBLOG_NKINDS];
    int64_t     why[PUBLOG_NWHY];
    int         ndet[PUBLOG_NKINDS];
    char        text[2048];     /* "kind key@hour why before>after;" */
    int         bad;
};

static int
seen_view(void *arg, const struct publog_view *pv)
{
    struct seen *s = arg;
    struct publog_entry e;
    size_t len;
    int rc;

    if (strcmp(pv->name, s->view) != 0)
        return 0;
    s->found++;
    memcpy(s->counts, pv->counts, sizeof(s->counts));
    memcpy(s->why, pv->why, sizeof(s->why));
    for (int k = 0; k < PUBLOG_NKINDS; k++) {
        size_t off = 0;

        while ((rc = publog_entry_next(pv, k, &off, &e)) == 0) {
            int64_t b[3] = {0, 0, 0}, a[3] = {0, 0, 0};

            if (e.before != NULL)
                memcpy(b, e.before, pv->rowsize);   /* little-endian */
            if (e.after != NULL)
                memcpy(a, e.after, pv->rowsize);
            len = strlen(s->text);
            if (s->ndet[k]++ < 20)
                snprintf(s->text + len, sizeof(s->text) - len,
                    "%s %.*s@%lld %s %lld>%lld;", publog_kind_name(k),
                    e.gklen > 2 ? (int)e.gklen - 2 : 1,
                    e.gklen > 2 ? (const char *)e.gkey + 1 : "-",
                    (long long)(e.bucket / HOUR), publog_why_name(e.why),
                    (long long)b[0], (long long)a[0]);
        }
        if (rc < 0)
            s->bad = 1;
    }
    return 0;
}

static void
look(struct store *st, int64_t version, struct seen *s, const char *view)
{
    struct store_txn *t = NULL;
    char err[ERR_LEN];

    memset(s, 0, sizeof(*s));
    s->view = view;
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    if (store_publog_views(t, version, seen_view, s, err) != 0) {
        printf("views: %s\n", err);
        s->bad = 1;
    }
    store_txn_abort(t);
    CHECK(!s->bad);
}

static int
get_info(struct store *st, int64_t version, struct publog_info *in)
{
    struct store_txn *t = NULL;
    char err[ERR_LEN];
    int rc;

    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    rc = store_publog_get(t, version, in, err);
    store_txn_abort(t);
    return rc;
}

static const struct row v1_rows[] = {
    {NULL, 0, 5, 0},
    {NULL, DAY, 3, 0},
    {"c1", 1 * HOUR, 1, 100},
    {"c1", 2 * HOUR, 2, 200},
    {"c1", 30 * HOUR, 1, 50},
    {"c2", 3 * HOUR, 4, 400},
    {"c2", 26 * HOUR, 1, 10},
};

/* The first version: every bucket added, as new data. */
static void
test_first(void)
{
    struct store *st = NULL;
    struct publog_info in;
    struct seen s;
    char err[ERR_LEN];

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    CHECK_EQ_INT(publish(st, &pl, -1, v1_rows, 7, 2 * DAY, 4), 1);
    CHECK(get_info(st, 1, &in) == 0);
    CHECK_EQ_INT(in.version, 1);
    CHECK_EQ_INT(in.previous, 0);
    CHECK_EQ_INT(in.cutoff, 2 * DAY);
    CHECK_EQ_INT(in.events, 1000);
    CHECK_EQ_INT(in.rejects, 4);
    CHECK_EQ_INT(in.from, -1);
    CHECK_EQ_INT(in.counts[PUBLOG_ADDED], 7);
    CHECK_EQ_INT(in.counts[PUBLOG_CHANGED] + in.counts[PUBLOG_REMOVED], 0);
    look(st, 1, &s, "a_tot");
    CHECK_EQ_INT(s.found, 1);
    CHECK_EQ_INT(s.counts[PUBLOG_ADDED], 2);
    CHECK_EQ_STR(s.text, "added -@0 new data 0>5;added -@24 new data 0>3;");
    look(st, 1, &s, "by_cust");
    CHECK_EQ_INT(s.counts[PUBLOG_ADDED], 5);
    CHECK_EQ_INT(s.why[PUBLOG_WHY_NEW], 5);
    CHECK_EQ_INT(get_info(st, 2, &in), STORE_NOTFOUND);
    CHECK_EQ_INT(get_info(st, 0, &in), STORE_NOTFOUND);
    store_free(st);
}

/*
 * The second version changes c1@2 (2 -> 3 orders), adds c1@5 (before the
 * old cutoff: late) and c3@50 (after it: new), drops c2@3 (removed from
 * inputs); the rest is unchanged and not in the diff.
 */
static const struct row v2_rows[] = {
    {NULL, 0, 5, 0},
    {NULL, DAY, 3, 0},
    {"c1", 1 * HOUR, 1, 100},
    {"c1", 2 * HOUR, 3, 200},
    {"c1", 5 * HOUR, 1, 70},
    {"c1", 30 * HOUR, 1, 50},
    {"c2", 26 * HOUR, 1, 10},
    {"c3", 50 * HOUR, 2, 20},
};

static void
test_diff(void)
{
    struct store *st = NULL;
    struct publog_info in;
    struct seen s;
    char err[ERR_LEN];

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    publish(st, &pl, -1, v1_rows, 7, 2 * DAY, 0);
    CHECK_EQ_INT(publish(st, &pl, -1, v2_rows, 8, 3 * DAY, 1), 2);
    CHECK(get_info(st, 2, &in) == 0);
    CHECK_EQ_INT(in.previous, 1);
    CHECK_EQ_INT(in.previous_cutoff, 2 * DAY);
    CHECK_EQ_INT(in.counts[PUBLOG_ADDED], 2);
    CHECK_EQ_INT(in.counts[PUBLOG_CHANGED], 1);
    CHECK_EQ_INT(in.counts[PUBLOG_REMOVED], 1);
    look(st, 2, &s, "a_tot");
    CHECK_EQ_INT(s.found, 1);
    CHECK_EQ_STR(s.text, "");
    look(st, 2, &s, "by_cust");
    CHECK_EQ_STR(s.text, "added c1@5 late data 0>1;added c3@50 new data 0>2;"
        "changed c1@2 late data 2>3;removed c2@3 removed from inputs 4>0;");
    CHECK_EQ_INT(s.why[PUBLOG_WHY_LATE], 2);
    CHECK_EQ_INT(s.why[PUBLOG_WHY_NEW], 1);
    CHECK_EQ_INT(s.why[PUBLOG_WHY_GONE], 1);
    /* the first version's entry is still there */
    CHECK(get_info(st, 1, &in) == 0);
    store_free(st);
}

/* A cutoff moved back: the buckets past it are removed, and said so. */
static void
test_cutoff_back(void)
{
    static const struct row rows[] = {
        {NULL, 0, 5, 0},
        {"c1", 1 * HOUR, 1, 100},
        {"c1", 2 * HOUR, 2, 200},
        {"c2", 3 * HOUR, 4, 400},
    };
    struct store *st = NULL;
    struct seen s;
    char err[ERR_LEN];

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    publish(st, &pl, -1, v1_rows, 7, 2 * DAY, 0);
    publish(st, &pl, -1, rows, 4, DAY, 0);
    look(st, 2, &s, "a_tot");
    CHECK_EQ_STR(s.text, "removed -@24 cutoff moved back 3>0;");
    look(st, 2, &s, "by_cust");
    CHECK_EQ_STR(s.text, "removed c1@30 cutoff moved back 1>0;"
        "removed c2@26 cutoff moved back 1>0;");
    store_free(st);
}

/* --from: rows before it are carried, not read, not counted; changes after
 * it are the backfill's. */
static void
test_keep_before(void)
{
    static const struct row rows[] = {
        {NULL, DAY, 4, 0},
        {"c1", 30 * HOUR, 2, 50},
        {"c3", 40 * HOUR, 1, 5},
    };
    struct store *st = NULL;
    struct publog_info in;
    struct seen s;
    char err[ERR_LEN];

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    publish(st, &pl, -1, v1_rows, 7, 2 * DAY, 0);
    CHECK_EQ_INT(publish(st, &pl, DAY, rows, 3, 2 * DAY, 0), 2);
    CHECK(get_info(st, 2, &in) == 0);
    CHECK_EQ_INT(in.from, DAY);
    look(st, 2, &s, "a_tot");
    CHECK_EQ_STR(s.text, "changed -@24 backfill 3>4;");
    look(st, 2, &s, "by_cust");
    CHECK_EQ_STR(s.text, "added c3@40 backfill 0>1;changed c1@30 backfill "
        "1>2;removed c2@26 removed from inputs 1>0;");
    store_free(st);
}

/* A redefined view is replaced whole, a dropped one removed whole; neither
 * detailed on the old side. */
static void
test_redefined_dropped(void)
{
    static const struct row rows[] = {
        {"c1", 2 * HOUR, 1, 100},
    };
    struct store *st = NULL;
    struct seen s;
    char err[ERR_LEN];

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    publish(st, &pl, -1, v1_rows, 7, 2 * DAY, 0);
    publish(st, &pl2, -1, rows, 1, 2 * DAY, 0);
    look(st, 2, &s, "by_cust");
    CHECK_EQ_INT(s.counts[PUBLOG_ADDED], 1);
    CHECK_EQ_INT(s.counts[PUBLOG_REMOVED], 5);
    CHECK_EQ_INT(s.why[PUBLOG_WHY_REDEFINED], 6);
    CHECK_EQ_STR(s.text, "added c1@2 view redefined 0>1;");
    look(st, 2, &s, "a_tot");
    CHECK_EQ_INT(s.found, 1);
    CHECK_EQ_INT(s.counts[PUBLOG_REMOVED], 2);
    CHECK_EQ_INT(s.why[PUBLOG_WHY_DROPPED], 2);
    CHECK_EQ_STR(s.text, "");
    /* and back: a_tot is a view added to a version that had none */
    publish(st, &pl, -1, v1_rows, 7, 2 * DAY, 0);
    look(st, 3, &s, "a_tot");
    CHECK_EQ_INT(s.why[PUBLOG_WHY_VIEW_ADDED], 2);
    store_free(st);
}

/*
 * Many rows, so that the writer commits chunks (and the diff's reads pause
 * and resume) in the middle of a view: every 1000th bucket changes, and more
 * than PUBLOG_DETAILS change, so only that many are detailed.
 */
static void
test_many(void)
{
    enum { N = 120000 };
    struct row *rows = calloc(N, sizeof(*rows));
    char *names = calloc(N / 100, 8);
    struct store *st = NULL;
    struct seen s;
    char err[ERR_LEN];

    for (int i = 0; i < N; i++) {
        snprintf(names + 8 * (i / 100), 8, "g%05d", i / 100);
        rows[i] = (struct row){names + 8 * (i / 100), (i % 100) * HOUR, 1,
            1};
    }
    CHECK(store_open(&st, newdir(), 0, err) == 0);
    publish(st, &pl, -1, rows, N, 200 * HOUR, 0);
    for (int i = 0; i < N; i += 1000)
        rows[i].n = 2;
    publish(st, &pl, -1, rows, N, 200 * HOUR, 0);
    look(st, 2, &s, "by_cust");
    CHECK_EQ_INT(s.counts[PUBLOG_CHANGED], N / 1000);
    CHECK_EQ_INT(s.counts[PUBLOG_ADDED] + s.counts[PUBLOG_REMOVED], 0);
    CHECK_EQ_INT(s.ndet[PUBLOG_CHANGED], PUBLOG_DETAILS);
    CHECK(strncmp(s.text, "changed g00000@0 late data 1>2;changed "
        "g00010@0 late data 1>2;", 60) == 0);
    store_free(st);
    free(rows);
    free(names);
}

struct listed {
    int64_t v[64];
    int     n;
};

static int
list_one(void *arg, const struct publog_info *in)
{
    struct listed *l = arg;

    if (l->n < 64)
        l->v[l->n++] = in->version;
    return 0;
}

/* The last PUBLOG_KEEP publishes are kept, newest first; an aborted run
 * records nothing. */
static void
test_prune(void)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct store_writer *w = NULL;
    struct publog_info in;
    struct listed l = {{0}, 0};
    struct seen s;
    char err[ERR_LEN];

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    for (int i = 0; i < PUBLOG_KEEP + 3; i++) {
        struct row r = {"c1", i * HOUR, 1, 1};

        publish(st, &pl, -1, &r, 1, 100 * HOUR, 0);
    }
    CHECK(store_writer_begin(st, &pl, -1, &w, err) == 0);
    store_writer_abort(w);
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_publog_list(t, list_one, &l, err) == 0);
    store_txn_abort(t);
    CHECK_EQ_INT(l.n, PUBLOG_KEEP);
    CHECK_EQ_INT(l.v[0], PUBLOG_KEEP + 3);
    CHECK_EQ_INT(l.v[PUBLOG_KEEP - 1], 4);
    CHECK_EQ_INT(get_info(st, 3, &in), STORE_NOTFOUND);
    look(st, 3, &s, "by_cust");
    CHECK_EQ_INT(s.found, 0);
    look(st, 4, &s, "by_cust");
    CHECK_EQ_INT(s.found, 1);
    CHECK_EQ_STR(s.text, "added c1@3 late data 0>1;removed c1@2 removed from "
        "inputs 1>0;");
    store_free(st);
}

/* store_diff by itself (a dry run) finds what the writer then records. */
static void
test_dry(void)
{
    struct store_diff *d = NULL;
    struct store *st = NULL;
    struct publog_info in;
    const struct publog_view *pv;
    unsigned char key[64];
    char err[ERR_LEN];

    CHECK(store_diff_begin(NULL, &pl, -1, &d, err) == 0);
    CHECK(store_diff_finish(d, err) == 0);
    store_diff_info(d, &in);
    CHECK_EQ_INT(in.previous, 0);
    CHECK_EQ_INT(store_diff_nviews(d), 2);
    CHECK_EQ_STR(store_diff_view(d, 0)->name, "a_tot");
    store_diff_free(d);

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    publish(st, &pl, -1, v1_rows, 7, 2 * DAY, 0);
    CHECK(store_diff_begin(st, &pl, -1, &d, err) == 0);
    store_diff_note(d, 3 * DAY, 0);
    for (int i = 0; i < 8; i++) {
        const struct row *r = &v2_rows[i];
        int64_t slots[3] = {r->n, r->n, r->max};

        if (r->g == NULL)
            CHECK(store_diff_row(d, a_tot, NULL, 0, r->bucket, slots,
                err) == 0);
        else
            CHECK(store_diff_row(d, by_cust, key, gk(key, r->g), r->bucket,
                slots, err) == 0);
    }
    CHECK(store_diff_finish(d, err) == 0);
    store_diff_info(d, &in);
    CHECK_EQ_INT(in.previous, 1);
    CHECK_EQ_INT(in.counts[PUBLOG_ADDED], 2);
    CHECK_EQ_INT(in.counts[PUBLOG_CHANGED], 1);
    CHECK_EQ_INT(in.counts[PUBLOG_REMOVED], 1);
    pv = store_diff_view(d, 1);
    CHECK_EQ_STR(pv->name, "by_cust");
    CHECK_EQ_INT(pv->why[PUBLOG_WHY_LATE], 2);
    /* out of order */
    {
        int64_t slots[3] = {1, 1, 1};

        store_diff_free(d);
        CHECK(store_diff_begin(st, &pl, -1, &d, err) == 0);
        CHECK(store_diff_row(d, by_cust, key, gk(key, "c2"), 0, slots,
            err) == 0);
        CHECK(store_diff_row(d, by_cust, key, gk(key, "c1"), 0, slots,
            err) == -1);
        CHECK(store_diff_row(d, a_tot, NULL, 0, 0, slots, err) == -1);
    }
    store_diff_free(d);
    store_free(st);
}

/* A malformed record is an error, not a crash. */
static void
test_malformed(void)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct seen s;
    char err[ERR_LEN];

    CHECK(store_open(&st, newdir(), 0, err) == 0);
    publish(st, &pl, -1, v1_rows, 7, 2 * DAY, 0);
    CHECK(store_txn_begin(st, 1, &t, err) == 0);
    CHECK(store_meta_put(t, "publogv/0000000001/zz", "\001\010xx", 4,
        err) == 0);
    CHECK(store_txn_commit(t, err) == 0);
    memset(&s, 0, sizeof(s));
    s.view = "zz";
    CHECK(store_txn_begin(st, 0, &t, err) == 0);
    CHECK(store_publog_views(t, 1, seen_view, &s, err) == -1);
    CHECK(strstr(err, "malformed") != NULL);
    store_txn_abort(t);
    store_free(st);
}

int
main(void)
{
    fixture();
    test_tmpdir(top);
    RUN(test_first);
    RUN(test_diff);
    RUN(test_cutoff_back);
    RUN(test_keep_before);
    RUN(test_redefined_dropped);
    RUN(test_many);
    RUN(test_prune);
    RUN(test_dry);
    RUN(test_malformed);
    if (test_tmpdir_remove(top) != 0)
        printf("could not remove %s\n", top);
    return test_report();
}
