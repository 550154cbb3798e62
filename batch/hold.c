/* hold.c -- the default cutoff never passes events that are not in the inputs yet */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "batch/hold.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/store.h"
#include "shared/ts.h"

struct scan {
    const struct batch *b;
    size_t              plen;   /* length of "speed.archive/TOPIC/" */
    int64_t             oldest; /* oldest event of a segment not listed */
};

/* Nonzero when the inputs hold the sealed segment of partition part that
 * starts at offset first (named FIRST-LAST.jsonl in its pP folder). */
static int
listed(const struct batch *b, const char *part, int64_t first)
{
    char needle[64];

    snprintf(needle, sizeof(needle), "/p%s/%020" PRId64 "-", part, first);
    for (int i = 0; i < b->ninputs; i++)
        if (strstr(b->inputs[i].path, needle) != NULL)
            return 1;
    return 0;
}

/* One segment state of lambda-speed's archive: "FIRST LEN LAST OPENED TMIN". */
static int
segment(void *arg, const char *name, const void *val, size_t len)
{
    struct scan *s = arg;
    int64_t first, n, last, opened, tmin;
    char text[128];

    if (len == 0 || len >= sizeof(text))
        return 0;
    memcpy(text, val, len);
    text[len] = '\0';
    if (sscanf(text, "%" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %"
        SCNd64, &first, &n, &last, &opened, &tmin) != 5) {
        s->oldest = INT64_MIN;  /* unknown: hold everything */
        return 1;
    }
    if (n > 0 && !listed(s->b, name + s->plen, first) && tmin < s->oldest)
        s->oldest = tmin;
    return 0;
}

/* Hold at t's bucket, floored at floor, when that is lower than now. */
static void
hold(struct batch *b, int64_t t, int64_t floor, const char *why)
{
    int64_t at = t == INT64_MIN ? 0 : ts_bucket(t, b->unit);

    if (at < floor)
        at = floor;
    if (at < b->limit) {
        b->limit = at;
        b->hold_why = why;
    }
}

int
hold_limit(struct batch *b, char *err)
{
    const struct pipeline *p = b->p;
    struct store_batch_info cur;
    struct store_txn *t = NULL;
    struct timeval tv;
    struct scan s;
    char prefix[256], a[TS_BUFSZ];
    int64_t wm, floor = INT64_MIN;
    int rc;

    b->limit = INT64_MAX;
    b->hold_why = NULL;
    if (b->until >= 0) {
        b->limit = b->until;
        return 0;
    }
    if (b->st != NULL) {
        if (store_txn_begin(b->st, 0, &t, err) != 0)
            return -1;
        if ((rc = store_batch_current(t, &cur, err)) < 0)
            goto fail;
        if (rc == 0)
            floor = cur.cutoff;
    }
    gettimeofday(&tv, NULL);
    hold(b, (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, floor,
        "events stamped in the future are not complete");
    if (t != NULL && p->speed.archive != NULL && p->speed.topic != NULL) {
        if ((rc = store_meta_get_i64(t, "speed.watermark", &wm, err)) < 0)
            goto fail;
        if (rc == 0)
            hold(b, wm, floor, "lambda-speed may still accept events "
                "from its watermark on");
        snprintf(prefix, sizeof(prefix), "speed.archive/%s/", p->speed.topic);
        s.b = b;
        s.plen = strlen(prefix);
        s.oldest = INT64_MAX;
        if (store_meta_scan(t, prefix, segment, &s, err) != 0)
            goto fail;
        if (s.oldest != INT64_MAX)
            hold(b, s.oldest, floor, "lambda-speed has archived events from "
                "then on that are not sealed (listed) yet");
    }
    store_txn_abort(t);
    if (b->hold_why != NULL)
        log_debug("%s: events from %s on are left to speed: %s", __func__,
            ts_format(b->limit, a, sizeof(a)), b->hold_why);
    return 0;
fail:
    store_txn_abort(t);
    return -1;
}
