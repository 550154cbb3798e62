/* viewswitch.c -- the publish that switches views, speed rows and all */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/agg.h"
#include "shared/buf.h"
#include "shared/err.h"
#include "shared/event.h"
#include "shared/fanout.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/segment.h"
#include "shared/ts.h"
#include "shared/viewdef.h"
#include "shared/viewswitch.h"

struct sw {
    struct store_txn           *t;
    const struct pipeline      *p;
    int64_t                     cutoff;
    int                         index;  /* the segments' tmax can skip */
    int64_t                     skipped;    /* segments not read */
    unsigned char              *on;     /* per view of p: switched */
    struct viewswitch_stats    *st;
    struct event                ev;
    struct fanout               fo;
    int64_t                    *row;    /* the widest view's slots */
    int64_t                     rejected;
};

/* ---- names in meta ---- */

struct names {
    char  **v;
    int     n;
};

static int
name_add(void *arg, const char *name, const void *val, size_t len)
{
    struct names *ns = arg;
    const char *slash = strrchr(name, '/');

    (void)val;
    (void)len;
    ns->v = xrealloc(ns->v, (size_t)(ns->n + 1) * sizeof(char *));
    ns->v[ns->n++] = xstrdup(slash != NULL ? slash + 1 : name);
    return 0;
}

static void
names_free(struct names *ns)
{
    for (int i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

static int
gap_name(char *buf, size_t size, const char *view)
{
    return snprintf(buf, size, VIEWSWITCH_GAP_PREFIX "%s", view) >=
        (int)size ? -1 : 0;
}

/* Into gone (NULL entries skipped): the views of the previous version or
 * of the speed rows that p no longer has, each once. */
static int
gone_names(struct store_txn *t, const struct pipeline *p, int64_t prev,
    struct names *gone, char *err)
{
    char pre[64];

    snprintf(pre, sizeof(pre), "sig/%" PRId64 "/", prev);
    if ((prev > 0 && store_meta_scan(t, pre, name_add, gone, err) != 0) ||
        store_meta_scan(t, "speedsig/", name_add, gone, err) != 0)
        return -1;
    for (int i = 0; i < gone->n; i++) {
        int dup = 0;

        for (int j = 0; j < i; j++)     /* in both lists: once */
            dup |= gone->v[j] != NULL && strcmp(gone->v[j], gone->v[i]) == 0;
        if (dup || pipeline_view(p, gone->v[i]) != NULL) {
            free(gone->v[i]);
            gone->v[i] = NULL;
        }
    }
    return 0;
}

/* Drop what the store has of the views p no longer defines. */
static int
remove_gone(struct sw *s, int64_t prev, char *err)
{
    struct names ns = {NULL, 0};
    char name[600];
    int rc = -1;

    if (gone_names(s->t, s->p, prev, &ns, err) != 0)
        goto done;
    for (int i = 0; i < ns.n; i++) {
        if (ns.v[i] == NULL)
            continue;
        if (store_speed_drop_view(s->t, ns.v[i], err) != 0)
            goto done;
        if (gap_name(name, sizeof(name), ns.v[i]) == 0 &&
            store_meta_del(s->t, name, err) != 0)
            goto done;
        s->st->removed++;
        log_info("view %s: removed (its speed rows and signature were "
            "dropped)", ns.v[i]);
    }
    rc = 0;
done:
    names_free(&ns);
    return rc;
}

/* ---- the archive ---- */

/* Add one archived line to the switched views' speed rows. */
static int
add_line(struct sw *s, const char *line, size_t len, char *err)
{
    const struct pipeline *p = s->p;
    char why[ERR_LEN];
    int bad, n;

    if (len == 0)
        return 0;
    if (event_parse(&s->ev, p, line, len, -1, why) != REJECT_NONE) {
        s->rejected++;          /* valid for speed's old definition only */
        return 0;
    }
    s->st->events++;
    if (s->ev.time < s->cutoff)
        return 0;
    if ((n = fanout_event(&s->fo, p, &s->ev, &bad)) < 0) {
        s->rejected++;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const struct fanout_row *r = &s->fo.rows[i];
        const struct view *v = &p->views[r->view];
        int64_t bucket = ts_bucket(s->ev.time, v->granularity);

        if (!s->on[r->view] || bucket < s->cutoff)
            continue;
        agg_row_init(v, s->row);
        if (agg_row_add(v, s->row, &s->ev) != 0)
            continue;           /* an overflow: as speed, not counted */
        if (store_speed_merge(s->t, v, s->fo.keys.data + r->off, r->len,
            bucket, s->row, err) != 0)
            return -1;
        s->st->rows++;
    }
    return 0;
}

/* Read path's lines, at most max bytes (-1: all). */
static int
read_segment(struct sw *s, const char *path, int64_t max, char *err)
{
    FILE *fp = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    int64_t done = 0;
    ssize_t n;
    int rc = 0;

    if (fp == NULL) {
        snprintf(err, ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    while ((max < 0 || done < max) && (n = getline(&line, &cap, fp)) > 0) {
        if (max >= 0 && done + n > max)
            n = (ssize_t)(max - done);  /* uncommitted: never reached */
        done += n;
        if (n > 0 && line[n - 1] == '\n')
            n--;
        if ((rc = add_line(s, line, (size_t)n, err)) != 0)
            break;
    }
    if (rc == 0 && ferror(fp)) {
        snprintf(err, ERR_LEN, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(fp);
    return rc;
}

static int
sealed_name(const char *name, int64_t *first)
{
    int64_t b;
    int end = 0;

    return sscanf(name, "%20" SCNd64 "-%20" SCNd64 ".jsonl%n", first, &b,
        &end) == 2 && end > 0 && name[end] == '\0' && name[0] != '.';
}

/* Nonzero when the segment of part starting at first holds no event at or
 * after the cutoff, as its recorded newest event time says (segment.h). */
static int
before_cutoff(struct sw *s, int32_t part, int64_t first)
{
    struct buf key;
    char err[ERR_LEN];
    int64_t tmax;
    int rc;

    if (!s->index)
        return 0;
    buf_init(&key);
    segment_tmax_key(&key, s->p->speed.topic, part, first);
    rc = store_meta_get_i64(s->t, key.data, &tmax, err);
    buf_reset(&key);
    if (rc != 0 || tmax >= s->cutoff)
        return 0;
    s->skipped++;
    return 1;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every committed line of partition part: its sealed segments in offset
 * order, then the open one up to its committed length. */
static int
read_partition(struct sw *s, int32_t part, const struct segment *seg,
    char *err)
{
    const struct pipeline *p = s->p;
    struct buf dir, path;
    struct names ns = {NULL, 0};
    struct dirent *de;
    char open[SEGMENT_NAME_MAX];
    DIR *d;
    int rc = -1;

    buf_init(&dir);
    buf_init(&path);
    buf_printf(&dir, "%s/%s/p%" PRId32, p->speed.archive, p->speed.topic,
        part);
    if ((d = opendir(dir.data)) == NULL) {
        snprintf(err, ERR_LEN, "%s: %s", dir.data, strerror(errno));
        goto done;
    }
    while ((de = readdir(d)) != NULL) {
        int64_t first;

        if (sealed_name(de->d_name, &first) &&
            !before_cutoff(s, part, first))
            name_add(&ns, de->d_name, NULL, 0);
    }
    closedir(d);
    if (ns.n > 0)
        qsort(ns.v, (size_t)ns.n, sizeof(char *), cmp_str);
    for (int i = 0; i < ns.n; i++) {
        buf_clear(&path);
        buf_printf(&path, "%s/%s", dir.data, ns.v[i]);
        if (read_segment(s, path.data, -1, err) != 0)
            goto done;
    }
    buf_clear(&path);
    buf_printf(&path, "%s/%s", dir.data, segment_open_name(open,
        seg->first));
    if (access(path.data, F_OK) == 0 && !before_cutoff(s, part, seg->first) &&
        read_segment(s, path.data, seg->len, err) != 0)
        goto done;
    rc = 0;
done:
    names_free(&ns);
    buf_reset(&dir);
    buf_reset(&path);
    return rc;
}

struct parts {
    int32_t        *part;
    struct segment *seg;
    int             n;
    const char     *topic;
    int             bad;
};

static int
part_add(void *arg, const char *name, const void *val, size_t len)
{
    struct parts *ps = arg;
    int32_t part;

    if (segment_key_part(name, ps->topic, &part) != 0)
        return 0;
    ps->part = xrealloc(ps->part, (size_t)(ps->n + 1) * sizeof(int32_t));
    ps->seg = xrealloc(ps->seg, (size_t)(ps->n + 1) * sizeof(struct segment));
    if (segment_parse(&ps->seg[ps->n], val, len) != 0)
        ps->bad = 1;
    ps->part[ps->n++] = part;
    return 0;
}

struct offs {
    struct parts *ps;
    int           uncovered;
};

/* A partition speed consumed from must have a segment record. */
static int
off_check(void *arg, const char *name, const void *val, size_t len)
{
    struct offs *o = arg;
    const char *slash = strrchr(name, '/');
    int32_t part = (int32_t)atoi(slash != NULL ? slash + 1 : "0");
    int found = 0;

    (void)val;
    (void)len;
    for (int i = 0; i < o->ps->n; i++)
        found |= o->ps->part[i] == part;
    if (!found)
        o->uncovered = 1;
    return 0;
}

/*
 * The archive of p's topic, when it can rebuild the speed rows: 1 with the
 * partitions' segment records in *ps, 0 when it cannot (none configured, a
 * partition speed consumed without a record), -1 with err.
 */
static int
archive_parts(struct sw *s, struct parts *ps, char *err)
{
    const struct pipeline *p = s->p;
    struct offs o = {ps, 0};
    struct buf pre;
    int rc;

    if (p->speed.archive == NULL || p->speed.topic == NULL)
        return 0;
    buf_init(&pre);
    ps->topic = p->speed.topic;
    segment_key(&pre, p->speed.topic, -1);
    rc = store_meta_scan(s->t, pre.data, part_add, ps, err);
    buf_clear(&pre);
    buf_printf(&pre, "offset/%s/", p->speed.topic);
    if (rc == 0)
        rc = store_meta_scan(s->t, pre.data, off_check, &o, err);
    buf_reset(&pre);
    if (rc != 0)
        return -1;
    return ps->bad || o.uncovered ? 0 : 1;
}

/* ---- the switch ---- */

static int
speed_ran(struct store_txn *t, char *err)
{
    struct names ns = {NULL, 0};
    int rc = store_meta_scan(t, "offset/", name_add, &ns, err);

    if (rc == 0)
        rc = ns.n > 0;
    names_free(&ns);
    return rc;
}

static int
rebuild(struct sw *s, char *err)
{
    const struct pipeline *p = s->p;
    struct parts ps = {NULL, NULL, 0, NULL, 0};
    char name[600], c[TS_BUFSZ];
    int has, ran, rc = -1, maxslots = 1;

    if ((has = archive_parts(s, &ps, err)) < 0 ||
        (ran = speed_ran(s->t, err)) < 0)
        goto done;
    for (int i = 0; i < p->nviews; i++) {
        if (!s->on[i])
            continue;
        if (store_speed_drop_view(s->t, p->views[i].name, err) != 0 ||
            (gap_name(name, sizeof(name), p->views[i].name) == 0 &&
            store_meta_put_i64(s->t, name, s->cutoff, err) != 0))
            goto done;
        if (p->views[i].nslots > maxslots)
            maxslots = p->views[i].nslots;
    }
    ts_format(s->cutoff, c, sizeof(c));
    if (has) {
        int64_t pruned;
        int r = store_meta_get_i64(s->t, SEGMENT_TMAX_PRUNED, &pruned, err);

        if (r < 0)
            goto done;
        /* pruned at a later cutoff: the index lacks what we need */
        s->index = r == STORE_NOTFOUND || pruned <= s->cutoff;
        s->row = xcalloc((size_t)maxslots, sizeof(int64_t));
        event_init(&s->ev, p);
        fanout_init(&s->fo);
        for (int i = 0; i < ps.n; i++)
            if (read_partition(s, ps.part[i], &ps.seg[i], err) != 0) {
                rc = -1;
                goto free;
            }
        /* the archive held every event: no gap */
        for (int i = 0; i < p->nviews; i++)
            if (s->on[i] && gap_name(name, sizeof(name),
                p->views[i].name) == 0 && store_meta_del(s->t, name, err) != 0)
                goto free;
        log_info("rebuilt the speed rows of %d view%s from %s at or after "
            "%s: %" PRId64 " archived events read, %" PRId64 " rows"
            " (%" PRId64 " segments older than it skipped)%s",
            s->st->switched, s->st->switched == 1 ? "" : "s",
            p->speed.archive, c, s->st->events, s->st->rows, s->skipped,
            s->rejected > 0 ? " (some lines do not fit the new definition: "
            "not counted)" : "");
        rc = 0;
free:
        fanout_reset(&s->fo);
        event_reset(&s->ev);
        free(s->row);
        goto done;
    }
    if (!ran) {
        /* speed never ran: no rows to rebuild, nothing lacking */
        for (int i = 0; i < p->nviews; i++)
            if (s->on[i] && gap_name(name, sizeof(name),
                p->views[i].name) == 0 && store_meta_del(s->t, name, err) != 0)
                goto done;
        rc = 0;
        goto done;
    }
    s->st->gap = 1;
    log_warnx("the speed rows of %d switched view%s were dropped and cannot "
        "be rebuilt here (%s): until then their answers lack the events "
        "from %s on that lambda-speed read before the switch; run "
        "lambda-speed --reset-to %s to replay them", s->st->switched,
        s->st->switched == 1 ? "" : "s", p->speed.archive == NULL ?
        "no speed.archive" : "the archive does not cover every partition",
        c, c);
    rc = 0;
done:
    free(ps.part);
    free(ps.seg);
    return rc;
}

/* Meta names whose 8-byte value is at or after from (below: before it),
 * whole, in ns. */
struct gaps {
    struct names ns;
    int64_t      from;
    int          below;
};

static int
gap_add(void *arg, const char *name, const void *val, size_t len)
{
    struct gaps *g = arg;
    int64_t at = 0;

    if (len != 8)
        return 0;
    for (int i = 7; i >= 0; i--)
        at = (int64_t)((uint64_t)at << 8 | ((const unsigned char *)val)[i]);
    if ((at < g->from) == (g->below != 0)) {
        g->ns.v = xrealloc(g->ns.v, (size_t)(g->ns.n + 1) * sizeof(char *));
        g->ns.v[g->ns.n++] = xstrdup(name);
    }
    return 0;
}

/* Forget the newest event times before cutoff (segment.h): no switch at
 * or after it needs them. */
static int
prune(struct store_txn *t, int64_t cutoff, char *err)
{
    struct gaps g;
    int64_t had;
    int rc;

    memset(&g, 0, sizeof(g));
    g.from = cutoff;
    g.below = 1;
    if ((rc = store_meta_get_i64(t, SEGMENT_TMAX_PRUNED, &had, err)) < 0)
        return -1;
    if ((rc == STORE_NOTFOUND || had < cutoff) && store_meta_put_i64(t,
        SEGMENT_TMAX_PRUNED, cutoff, err) != 0)
        return -1;
    rc = store_meta_scan(t, SEGMENT_TMAX_PREFIX, gap_add, &g, err);
    for (int i = 0; rc == 0 && i < g.ns.n; i++)
        rc = store_meta_del(t, g.ns.v[i], err);
    names_free(&g.ns);
    return rc;
}

/* v's speed rows are written under p's definition from now on. */
static int
sign(struct store_txn *t, const struct pipeline *p, const struct view *v,
    char *err)
{
    char name[600];

    if (snprintf(name, sizeof(name), "speedsig/%s", v->name) >=
        (int)sizeof(name)) {
        snprintf(err, ERR_LEN, "view name %.64s... too long", v->name);
        return -1;
    }
    return store_meta_put_i64(t, name, (int64_t)pipeline_view_signature(p,
        v), err);
}

/* Besides enum viewswitch_change, what decide() may answer: nothing to do,
 * or only to sign (lambda-speed never ran: nothing to rebuild). */
enum { SWITCH_KEEP = VIEWSWITCH_REMOVED + 1, SWITCH_SIGN };

/* What the publish does to view v: SWITCH_KEEP, SWITCH_SIGN,
 * VIEWSWITCH_CHANGED or VIEWSWITCH_NEW; -1 with err. ran: speed_ran(). */
static int
decide(struct store_txn *t, const struct pipeline *p, const struct view *v,
    int ran, char *err)
{
    int64_t sig;
    int r = store_view_sig(t, 0, v->name, &sig, err);

    if (r < 0)
        return -1;
    if (r == 0 && sig == (int64_t)pipeline_view_signature(p, v))
        return SWITCH_KEEP;
    if (r == STORE_NOTFOUND)
        return ran ? VIEWSWITCH_NEW : SWITCH_SIGN;
    return VIEWSWITCH_CHANGED;
}

int
viewswitch_plan(struct store_txn *t, const struct pipeline *p, int64_t prev,
    int (*fn)(void *arg, const char *view, enum viewswitch_change c,
        char *err),
    void *arg, char *err)
{
    struct names gone = {NULL, 0};
    int rc = -1, ran, d;

    if ((ran = speed_ran(t, err)) < 0)
        return -1;
    for (int i = 0; i < p->nviews; i++) {
        if ((d = decide(t, p, &p->views[i], ran, err)) < 0)
            return -1;
        if (d != SWITCH_KEEP && d != SWITCH_SIGN &&
            fn(arg, p->views[i].name, (enum viewswitch_change)d, err) != 0)
            return -1;
    }
    if (gone_names(t, p, prev, &gone, err) != 0)
        goto done;
    for (int i = 0; i < gone.n; i++)
        if (gone.v[i] != NULL &&
            fn(arg, gone.v[i], VIEWSWITCH_REMOVED, err) != 0)
            goto done;
    rc = 0;
done:
    names_free(&gone);
    return rc;
}

int
viewswitch_publish(struct store_txn *t, const struct pipeline *p,
    int64_t prev, int64_t cutoff, struct viewswitch_stats *st, char *err)
{
    struct sw s;
    int rc = -1, ran;

    memset(st, 0, sizeof(*st));
    memset(&s, 0, sizeof(s));
    s.t = t;
    s.p = p;
    s.cutoff = cutoff;
    s.st = st;
    s.on = xcalloc((size_t)p->nviews + 1, 1);
    if ((ran = speed_ran(t, err)) < 0)
        goto done;
    for (int i = 0; i < p->nviews; i++) {
        const struct view *v = &p->views[i];
        int d;

        if (viewdef_put(t, p, v, err) != 0 ||
            (d = decide(t, p, v, ran, err)) < 0)
            goto done;
        if (d == SWITCH_KEEP)
            continue;
        if (d == SWITCH_SIGN) {
            if (sign(t, p, v, err) != 0)
                goto done;
            continue;
        }
        s.on[i] = 1;
        st->switched++;
        log_info("view %s: %s: switching to the pipeline's definition in "
            "this publish", v->name, d == VIEWSWITCH_CHANGED ? "changed" :
            "new to the speed rows");
    }
    if (remove_gone(&s, prev, err) != 0)
        goto done;
    if (st->switched > 0 && rebuild(&s, err) != 0)
        goto done;
    for (int i = 0; i < p->nviews; i++)
        if (s.on[i] && sign(t, p, &p->views[i], err) != 0)
            goto done;
    if (prune(t, cutoff, err) != 0)
        goto done;
    rc = 0;
done:
    free(s.on);
    return rc;
}

int
viewswitch_gap(struct store_txn *t, const char *view, int64_t *from,
    char *err)
{
    char name[600];
    int rc;

    if (gap_name(name, sizeof(name), view) != 0)
        return 0;
    if ((rc = store_meta_get_i64(t, name, from, err)) < 0)
        return -1;
    return rc == 0 ? 1 : 0;
}

int
viewswitch_gap_clear(struct store_txn *t, int64_t from, char *err)
{
    struct gaps g = {{NULL, 0}, from, 0};
    int rc;

    rc = store_meta_scan(t, VIEWSWITCH_GAP_PREFIX, gap_add, &g, err);
    for (int i = 0; rc == 0 && i < g.ns.n; i++)
        rc = store_meta_del(t, g.ns.v[i], err);
    names_free(&g.ns);
    return rc;
}
