/* late.c -- when a run's inputs surely held the late events speed archived */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "batch/late.h"
#include "shared/late.h"
#include "shared/log.h"
#include "shared/segment.h"
#include "shared/store.h"

struct opened {
    const struct batch *b;
    const char         *topic;
    int64_t             min;    /* the bound so far */
};

/* Nonzero when the inputs hold the sealed segment of part from first. */
static int
listed(const struct batch *b, int32_t part, int64_t first)
{
    for (int i = 0; i < b->ninputs; i++)
        if (segment_path_is(b->inputs[i].path, part, first))
            return 1;
    return 0;
}

/* The newest modification time of part's sealed segments in the inputs
 * (their last line's write), or 0 when none is. */
static int64_t
newest_listed(const struct batch *b, int32_t part)
{
    int64_t t = 0;

    for (int i = 0; i < b->ninputs; i++)
        if (segment_path_part(b->inputs[i].path, part) &&
            b->inputs[i].mtime > t)
            t = b->inputs[i].mtime;
    return t;
}

/*
 * One partition's segment, as speed last recorded it. Lines written before
 * the bound are in listed segments: a segment not listed was opened at or
 * before its lines. When it was opened after the listing began, the one
 * open then may have been sealed since, unlisted: only lines written before
 * the newest listed segment's last write are then sure to be listed.
 */
static int
segment(void *arg, const char *name, const void *val, size_t len)
{
    struct opened *o = arg;
    struct segment sg;
    int64_t bound;
    int32_t part;

    if (len == 0 || len >= SEGMENT_RECORD_MAX)
        return 0;
    if (segment_key_part(name, o->topic, &part) != 0 ||
        segment_parse(&sg, val, len) != 0) {
        o->min = 0;     /* unknown: clear nothing archived */
        return 1;
    }
    if (sg.len == 0 || listed(o->b, part, sg.first))
        return 0;
    bound = sg.opened < o->b->listed_at ? sg.opened :
        newest_listed(o->b, part);
    if (bound < o->min)
        o->min = bound;
    return 0;
}

/* Some input is a file under dir. */
static int
under(const struct batch *b, const char *dir)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    for (int i = 0; i < b->ninputs; i++)
        if (strncmp(b->inputs[i].path, dir, n) == 0 &&
            b->inputs[i].path[n] == '/')
            return 1;
    return 0;
}

int
late_listed(struct batch *b, int64_t *out, char *err)
{
    const struct pipeline *p = b->p;
    struct store_txn *t = NULL;
    struct opened o;
    struct buf prefix;
    int rc;

    *out = LATE_NONE;
    if (p->speed.archive == NULL || p->speed.topic == NULL ||
        b->mode != BATCH_RUN || b->st == NULL || b->listed_at <= 0)
        return 0;
    if (!under(b, p->speed.archive)) {
        log_warnx("no input lies under speed.archive %s: the late-data "
            "ledger keeps the archived late events it holds (GET "
            "/v1/views/VIEW/late)", p->speed.archive);
        return 0;
    }
    if (store_txn_begin(b->st, 0, &t, err) != 0)
        return -1;
    buf_init(&prefix);
    segment_key(&prefix, p->speed.topic, -1);
    o.b = b;
    o.topic = p->speed.topic;
    o.min = b->listed_at;
    rc = store_meta_scan(t, prefix.data, segment, &o, err);
    buf_reset(&prefix);
    store_txn_abort(t);
    if (rc != 0)
        return -1;
    *out = o.min;
    return 0;
}
