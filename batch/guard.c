/* guard.c -- refuse a publish that would lose served data, unless forced */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "batch/guard.h"
#include "batch/table.h"
#include "batch/work.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/now.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/ts.h"

/* What the store says: the published version, lambda-speed's watermark. */
struct state {
    int                     have_cur;
    struct store_batch_info cur;
    int                     have_speed; /* lambda-speed committed here */
    int                     have_wm;
    int64_t                 wm;
};

/* Log a finding: at error level when it refuses, warn when forced. */
static void say(enum log_level lv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(enum log_level lv, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_at(lv, "%s", line);
}

int
guard_open(struct batch *b, char *err)
{
    struct stat sb;
    struct buf path;
    int rc;

    buf_init(&path);
    buf_printf(&path, "%s/data.mdb", b->p->store);
    rc = stat(path.data, &sb);
    buf_reset(&path);
    if (rc != 0 && errno == ENOENT)
        return 0;       /* nothing published, no speed: nothing to lose */
    /* a lambda-speed creating the store this instant: nothing there yet */
    rc = store_open(&b->st, b->p->store, STORE_RDONLY, err);
    return rc == STORE_NOTFOUND ? 0 : rc;
}

static int
read_state(struct store_txn *t, struct state *s, char *err)
{
    int64_t at;
    int rc;

    memset(s, 0, sizeof(*s));
    if ((rc = store_batch_current(t, &s->cur, err)) < 0)
        return -1;
    s->have_cur = rc == 0;
    if ((rc = store_meta_get_i64(t, SPEEDMETA_WATERMARK, &s->wm, err)) < 0)
        return -1;
    s->have_wm = rc == 0;
    if ((rc = store_meta_get_i64(t, SPEEDMETA_UPDATED_AT, &at, err)) < 0)
        return -1;
    s->have_speed = rc == 0 || s->have_wm;
    return 0;
}

/* Where the inputs end: INT64_MAX when they hold an event at or after the
 * cutoff, else the end of the UTC day of their newest event (cutoff units
 * divide a day), INT64_MIN when they hold none. */
static int64_t
inputs_end(const struct batch *b)
{
    if (b->stats.after_cutoff > 0)
        return INT64_MAX;
    if (b->stats.last_unit == INT64_MIN)
        return INT64_MIN;
    return ts_bucket(b->stats.last_unit, TS_DAY_MS) + TS_DAY_MS;
}

/* The slot of view v's first count metric, or -1. */
static int
count_slot(const struct view *v, const char **name)
{
    for (int i = 0; i < v->nmetrics; i++) {
        if (v->metrics[i].kind == METRIC_COUNT) {
            *name = v->metrics[i].name;
            return v->metrics[i].slot;
        }
    }
    return -1;
}

/*
 * Name, per view, the speed rows with buckets in [from, to): they leave the
 * answers (batch answers before the new cutoff) and lambda-speed prunes
 * them. Views whose speed rows were written under another definition are
 * skipped. Returns the rows named, or -1 with err.
 */
static int64_t
speed_leaving(struct batch *b, struct store_txn *t, int64_t from,
    int64_t to, enum log_level lv, char *err)
{
    char e[ERR_LEN], t1[TS_BUFSZ], t2[TS_BUFSZ], cnt[96];
    int64_t total = 0;

    for (int k = 0; k < b->p->nviews; k++) {
        const struct view *v = &b->p->views[k];
        const char *cname = NULL;
        int slot = count_slot(v, &cname);
        struct store_iter *it = NULL;
        struct store_row row;
        int64_t n = 0, count = 0, first = INT64_MAX, last = INT64_MIN;
        int rc;

        if (store_view_check(t, b->p, v, 0, e) != 0)
            continue;
        if (store_iter_speed(t, v, NULL, 0, from, to, &it, err) != 0)
            return -1;
        while ((rc = store_iter_next(it, &row, err)) == 0) {
            n++;
            if (slot >= 0)
                count += row.slots[slot];
            if (row.bucket < first)
                first = row.bucket;
            if (row.bucket > last)
                last = row.bucket;
        }
        store_iter_free(it);
        if (rc < 0)
            return -1;
        if (n == 0)
            continue;
        total += n;
        cnt[0] = '\0';
        if (slot >= 0)
            snprintf(cnt, sizeof(cnt), " (%s=%" PRId64 ")", cname, count);
        say(lv, "view %s: %" PRId64 " speed rows in the buckets from %s to "
            "%s%s leave the answers, and no batch version holds them",
            v->name, n, ts_format(first, t1, sizeof(t1)),
            ts_format(last, t2, sizeof(t2)), cnt);
    }
    return total;
}

/* An explicit cutoff past the inputs, the clock or speed's watermark. */
static int
check_cutoff(struct batch *b, struct store_txn *t, const struct state *s,
    char *err)
{
    enum log_level lv = b->force ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR;
    const char *why = b->force ? "--force: " : "";
    char c[TS_BUFSZ], a[TS_BUFSZ];
    int64_t end = inputs_end(b), now = now_wall_ms(), from, n;
    const char *past[3];
    int npast = 0;

    if (b->until < 0)
        return 0;
    ts_format(b->cutoff, c, sizeof(c));
    if (b->cutoff > end) {
        if (end == INT64_MIN)
            say(lv, "%sthe cutoff %s is past the inputs' end: they hold no "
                "valid event", why, c);
        else
            say(lv, "%sthe cutoff %s is past the inputs' end %s (the end of "
                "the UTC day of their newest event)", why, c,
                ts_format(end, a, sizeof(a)));
        past[npast++] = "the inputs' end";
    }
    if (b->cutoff > now) {
        say(lv, "%sthe cutoff %s is past the wall clock %s: later events "
            "cannot be in the inputs yet", why, c,
            ts_format(now, a, sizeof(a)));
        past[npast++] = "the wall clock";
    }
    if (s->have_wm && b->cutoff > s->wm) {
        say(lv, "%sthe cutoff %s is past lambda-speed's watermark %s: speed "
            "still accepts events from there on", why, c,
            ts_format(s->wm, a, sizeof(a)));
        past[npast++] = "lambda-speed's watermark";
    }
    if (npast == 0)
        return 0;
    /* speed rows from the published cutoff on are answered by batch from
     * now on; those past the inputs' end are in no batch version */
    from = s->have_cur ? s->cur.cutoff : INT64_MIN;
    if (end > from)
        from = end;
    if (from < b->cutoff && s->have_speed) {
        if ((n = speed_leaving(b, t, from, b->cutoff, lv, err)) < 0)
            return -1;
        if (n > 0)
            say(lv, "%slambda-speed prunes those rows at its next commit",
                why);
    }
    if (s->have_speed)
        say(lv, "%slambda-speed will reject as late the events it reads with a "
            "time before %s (%s)", why, c, b->p->speed.archive != NULL ?
            "its archive keeps them for the next batch run" :
            "without speed.archive only Kafka and its rejects keep them");
    if (b->force)
        return 0;
    snprintf(err, ERR_LEN, "refused: the cutoff %s is past %s%s%s%s%s (a "
        "typo in --until? give --force to publish it anyway)", c, past[0],
        npast == 3 ? ", " : npast == 2 ? " and " : "",
        npast > 1 ? past[1] : "", npast == 3 ? " and " : "",
        npast == 3 ? past[2] : "");
    return GUARD_REFUSED;
}

/* Base rows of view v in version from lo on; -1 with err. */
static int64_t
published_rows(struct store_txn *t, int64_t version, const struct view *v,
    int64_t lo, char *err)
{
    struct store_iter *it = NULL;
    struct store_row row;
    int64_t n = 0;
    int rc;

    if (store_iter_batch(t, version, v, STORE_LEVEL_BASE, NULL, 0, lo,
        INT64_MAX, &it, err) != 0)
        return -1;
    while ((rc = store_iter_next(it, &row, err)) == 0)
        n++;
    store_iter_free(it);
    return rc < 0 ? -1 : n;
}

/* Rows of the new version's view k: what publish_run() writes. */
static int64_t
new_rows(struct batch *b, int k, int64_t lo)
{
    const struct table *tb = work_table(b, k);
    int64_t n = 0;

    for (size_t e = 0; e < tb->nents; e++) {
        const void *key;
        const int64_t *row;
        size_t klen;
        int64_t bucket;

        table_entry(tb, (uint32_t)e, &key, &klen, &bucket, &row);
        if (bucket >= lo && bucket < b->cutoff)
            n++;
    }
    return n;
}

/* A new version far smaller than the published one. */
static int
check_shrink(struct batch *b, struct store_txn *t, const struct state *s,
    char *err)
{
    enum log_level lv = b->allow_shrink ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR;
    const char *why = b->allow_shrink ? "--allow-shrink: " : "";
    int64_t lo = b->from >= 0 ? b->from : INT64_MIN, had, has;
    char e[ERR_LEN], a[TS_BUFSZ];
    int shrunk = 0;

    if (!s->have_cur)
        return 0;
    if (b->from >= 0)
        ts_format(b->from, a, sizeof(a));
    for (int k = 0; k < b->p->nviews; k++) {
        const struct view *v = &b->p->views[k];

        /* a changed definition changes the rows: nothing to compare */
        if (store_view_check(t, b->p, v, s->cur.version, e) != 0)
            continue;
        if ((had = published_rows(t, s->cur.version, v, lo, err)) < 0)
            return -1;
        has = new_rows(b, k, lo);
        if (had == 0 || 2 * has >= had)
            continue;
        shrunk++;
        say(lv, "%sview %s: %" PRId64 " rows in the new version against %"
            PRId64 " in the published version %" PRId64 "%s%s", why,
            v->name, has, had, s->cur.version,
            b->from >= 0 ? " from --from " : "", b->from >= 0 ? a : "");
    }
    if (b->from < 0 && 2 * b->stats.events < s->cur.events) {
        shrunk++;
        say(lv, "%s%" PRId64 " events in the new version against %" PRId64
            " in the published version %" PRId64, why, b->stats.events,
            s->cur.events, s->cur.version);
    }
    if (shrunk == 0 || b->allow_shrink)
        return 0;
    snprintf(err, ERR_LEN, "refused: the new version is %s the published "
        "one (inputs missing or wrong? give --allow-shrink to publish it "
        "anyway)", b->stats.events == 0 ? "empty, unlike" :
        "less than half");
    return GUARD_REFUSED;
}

int
guard_check(struct batch *b, char *err)
{
    struct store_txn *t = NULL;
    struct state s;
    char err2[ERR_LEN];
    int rc;

    memset(&s, 0, sizeof(s));
    if (b->st != NULL) {
        if (store_txn_begin(b->st, 0, &t, err) != 0)
            return -1;
        if (read_state(t, &s, err) != 0) {
            store_txn_abort(t);
            return -1;
        }
    }
    /* both checks log, so one run names every problem */
    rc = check_cutoff(b, t, &s, err);
    if (rc == 0) {
        rc = check_shrink(b, t, &s, err);
    } else if (rc == GUARD_REFUSED && check_shrink(b, t, &s, err2) < 0) {
        rc = -1;
        snprintf(err, ERR_LEN, "%s", err2);
    }
    store_txn_abort(t);
    return rc;
}
