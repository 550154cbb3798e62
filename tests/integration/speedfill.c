/* speedfill.c -- test helper: write speed rows into a store from JSON Lines, as lambda-speed would */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/fanout.h"
#include "shared/mem.h"
#include "shared/pipeline.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/ts.h"

/*
 * usage: speedfill -c PIPELINE [--store DIR] [--watermark TIME|none]
 *            [--status JSON] [--prune] [FILE...]
 *
 * Every valid event of the files (stdin without files) is added to the
 * speed rows of every view it matches, through the same event_parse(),
 * fanout_event(), agg_row_add() and store_speed_merge() as lambda-speed,
 * in one write
 * transaction. The watermark (meta speed.watermark) is the given time, or
 * the latest event time; speed.updated_at is now; --status stores a JSON
 * object as speed.status; --prune drops speed rows before the published
 * batch cutoff. Prints "speedfill: N events, N rejects".
 */

static void __attribute__((noreturn))
die(const char *msg)
{
    fprintf(stderr, "speedfill: %s\n", msg);
    exit(1);
}

static int
add_line(struct store_txn *t, const struct pipeline *p, struct event *ev,
    const char *line, size_t len, int64_t *maxt, char *err)
{
    struct fanout fo;
    int64_t *row;
    int bad;

    if (event_parse(ev, p, line, len, -1, err) != REJECT_NONE)
        return 1;
    fanout_init(&fo);
    if (fanout_event(&fo, p, ev, &bad) < 0)
        die("cannot add an event: a group key is too long");
    if (ev->time > *maxt)
        *maxt = ev->time;
    for (int i = 0; i < fo.nrows; i++) {
        const struct view *v = &p->views[fo.rows[i].view];

        row = xmalloc(agg_row_size(v));
        agg_row_init(v, row);
        if (agg_row_add(v, row, ev) != 0 ||
            store_speed_merge(t, v, fo.keys.data + fo.rows[i].off,
            fo.rows[i].len, ts_bucket(ev->time, v->granularity), row,
            err) != 0) {
            free(row);
            fanout_reset(&fo);
            die(err[0] != '\0' ? err : "cannot add an event");
        }
        free(row);
    }
    fanout_reset(&fo);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *config = NULL, *dir = NULL, *wm = NULL, *status = NULL;
    struct pipeline *p;
    struct store *st;
    struct store_txn *t;
    struct event ev;
    struct timeval tv;
    char err[ERR_LEN] = "", *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t maxt = INT64_MIN, w;
    long events = 0, rejects = 0;
    int i, prune = 0;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--watermark") == 0 && i + 1 < argc)
            wm = argv[++i];
        else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
            status = argv[++i];
        else if (strcmp(argv[i], "--prune") == 0)
            prune = 1;
        else
            die("usage: speedfill -c PIPELINE [--store DIR] [--watermark "
                "TIME|none] [--status JSON] [--prune] [FILE...]");
    }
    if (config == NULL)
        die("-c PIPELINE is required");
    if (pipeline_load(&p, config, err) != 0)
        die(err);
    if (dir != NULL && pipeline_set(p, "store", dir, err) != 0)
        die(err);
    if (store_open(&st, p->store, 0, err) != 0 ||
        store_txn_begin(st, 1, &t, err) != 0)
        die(err);
    event_init(&ev, p);
    for (int f = i; f < argc || f == i; f++) {
        FILE *fp = f < argc ? fopen(argv[f], "r") : stdin;

        if (fp == NULL)
            die(f < argc ? argv[f] : "stdin");
        while ((n = getline(&line, &cap, fp)) > 0) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            if (n == 0)
                continue;
            if (add_line(t, p, &ev, line, (size_t)n, &maxt, err) == 0)
                events++;
            else
                rejects++;
        }
        if (fp != stdin)
            fclose(fp);
        if (f >= argc)
            break;
    }
    event_reset(&ev);
    free(line);
    if (wm == NULL || strcmp(wm, "none") != 0) {
        if (wm != NULL && ts_param_parse(wm, &w) != 0)
            die("--watermark: expected RFC 3339 or epoch seconds");
        if (wm == NULL)
            w = maxt;
        if (w != INT64_MIN &&
            store_meta_put_i64(t, SPEEDMETA_WATERMARK, w, err) != 0)
            die(err);
    }
    gettimeofday(&tv, NULL);
    if (store_meta_put_i64(t, SPEEDMETA_UPDATED_AT,
        (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, err) != 0)
        die(err);
    if (status != NULL &&
        store_meta_put(t, SPEEDMETA_STATUS, status, strlen(status), err) != 0)
        die(err);
    if (prune) {
        struct store_batch_info bi;
        int rc = store_batch_current(t, &bi, err);

        if (rc < 0 || (rc == 0 && store_speed_prune(t, bi.cutoff, err) != 0))
            die(err);
    }
    if (store_txn_commit(t, err) != 0)
        die(err);
    store_free(st);
    pipeline_free(p);
    printf("speedfill: %ld events, %ld rejects\n", events, rejects);
    return 0;
}
