/* hold.c -- the default cutoff never passes events that are not in the inputs yet */
#include <stddef.h>
#include <stdint.h>

#include "batch/hold.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/now.h"
#include "shared/segment.h"
#include "shared/speedmeta.h"
#include "shared/store.h"
#include "shared/ts.h"

struct scan {
    const struct batch *b;
    const char         *topic;
    int64_t             oldest; /* oldest event of a segment not listed */
};

/* Nonzero when the inputs hold the sealed segment of partition part that
 * starts at offset first. */
static int
listed(const struct batch *b, int32_t part, int64_t first)
{
    for (int i = 0; i < b->ninputs; i++)
        if (segment_path_is(b->inputs[i].path, part, first))
            return 1;
    return 0;
}

/* One partition's segment state in lambda-speed's archive. */
static int
segment(void *arg, const char *name, const void *val, size_t len)
{
    struct scan *s = arg;
    struct segment sg;
    int32_t part;

    if (len == 0 || len >= SEGMENT_RECORD_MAX)
        return 0;
    if (segment_key_part(name, s->topic, &part) != 0 ||
        segment_parse(&sg, val, len) != 0) {
        s->oldest = INT64_MIN;  /* unknown: hold everything */
        return 1;
    }
    if (sg.len > 0 && !listed(s->b, part, sg.first) && sg.tmin < s->oldest)
        s->oldest = sg.tmin;
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
    struct scan s;
    struct buf prefix;
    char a[TS_BUFSZ];
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
    hold(b, now_wall_ms(), floor,
        "events stamped in the future are not complete");
    if (t != NULL && p->speed.archive != NULL && p->speed.topic != NULL) {
        if ((rc = store_meta_get_i64(t, SPEEDMETA_WATERMARK, &wm, err)) < 0)
            goto fail;
        if (rc == 0)
            hold(b, wm, floor, "lambda-speed may still accept events "
                "from its watermark on");
        buf_init(&prefix);
        segment_key(&prefix, p->speed.topic, -1);
        s.b = b;
        s.topic = p->speed.topic;
        s.oldest = INT64_MAX;
        rc = store_meta_scan(t, prefix.data, segment, &s, err);
        buf_reset(&prefix);
        if (rc != 0)
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
