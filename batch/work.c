/* work.c -- worker threads: parse, validate, aggregate into tables */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/queue.h"
#include "batch/work.h"
#include "shared/agg.h"
#include "shared/csv.h"
#include "shared/err.h"
#include "shared/fanout.h"
#include "shared/key.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/now.h"
#include "shared/ts.h"

#define REJ_FLUSH (256u << 10)  /* write a chunk's rejects early past this */

static void
note_reject(struct worker *w, struct chunk *c, int64_t line, enum reject r,
    const char *msg, const char *raw, size_t rawlen)
{
    size_t off = c->rj.len;

    w->st.rejects[r]++;
    w->st.nrejects++;
    if (c->nrjs == c->rjcap) {
        c->rjcap = c->rjcap ? c->rjcap * 2 : 64;
        c->rjs = xrealloc(c->rjs, c->rjcap * sizeof(*c->rjs));
    }
    event_reject_fields(&c->rj, r, msg, raw, rawlen);
    c->rjs[c->nrjs].line = line;
    c->rjs[c->nrjs].elem = w->elem;
    c->rjs[c->nrjs].off = off;
    c->rjs[c->nrjs].len = c->rj.len - off;
    c->nrjs++;
    if (c->rj.len > REJ_FLUSH)
        (void)queue_flush_turn(w->b, c);
}

/* Prefetch the entries of event j's rows. */
static void
ring_prefetch(struct worker *w, uint64_t j)
{
    int nv = w->b->p->nviews;
    size_t x = (size_t)(j % WORK_RING) * (size_t)nv;

    for (int k = 0; k < nv; k++, x++)
        if (w->pklen[x] != SIZE_MAX)
            table_prefetch_entry(&w->tables[k], w->phash[x]);
}

/* Update the rows of the oldest queued event. Returns 0, or -1 on overflow. */
static int
ring_update(struct worker *w)
{
    const struct pipeline *p = w->b->p;
    size_t slot = (size_t)(w->nout++ % WORK_RING);
    size_t x = slot * (size_t)p->nviews;

    w->pev.time = w->ptime[slot];
    w->pev.vals = w->pvals + slot * (size_t)p->nfields;
    for (int k = 0; k < p->nviews; k++, x++) {
        int64_t *row;

        if (w->pklen[x] == SIZE_MAX)
            continue;
        row = table_row(&w->tables[k], w->pkeys + x * KEY_MAX, w->pklen[x],
            w->pbucket[x], w->phash[x]);
        if (agg_row_add(&p->views[k], row, &w->pev) != 0) {
            batch_fail(w->b, "view %s: sum overflow", p->views[k].name);
            return -1;
        }
    }
    return 0;
}

/* Update every queued event (the input ended). Returns 0, or -1. */
static int
ring_drain(struct worker *w)
{
    for (uint64_t j = w->nin > WORK_AHEAD ? w->nin - WORK_AHEAD : 0;
        j < w->nin; j++)
        ring_prefetch(w, j);
    while (w->nout < w->nin)
        if (ring_update(w) != 0)
            return -1;
    return 0;
}

/*
 * A row sent to the worker owning its group (shuffle.h): this header, the
 * key padded to 8 bytes, then the number of every field (the metrics read
 * nothing else: views reading strings never go through the ring).
 */
struct mail {
    uint64_t    hash;
    int64_t     bucket;
    uint64_t    present;    /* bit f: field f is present */
    uint32_t    view;
    uint32_t    klen;
};

#define MAIL_FIELDS 64      /* a pipeline with more fields splits nothing */
#define PAD8(n) (((n) + 7) & ~(size_t)7)

/* Send the row of view k for event ev to worker owner. */
static void
mail_send(struct worker *w, int owner, int k, const unsigned char *key,
    size_t klen, int64_t bucket, uint64_t h, const struct event *ev)
{
    int nf = w->b->p->nfields;
    size_t n = sizeof(struct mail) + PAD8(klen) + (size_t)nf * 8;
    unsigned char *p = shuffle_reserve(w->sh, w->id, owner, n);
    struct mail m = {h, bucket, 0, (uint32_t)k, (uint32_t)klen};
    int64_t *nums = (int64_t *)(void *)(p + sizeof(m) + PAD8(klen));

    for (int f = 0; f < nf; f++) {
        m.present |= (uint64_t)(ev->vals[f].present != 0) << f;
        nums[f] = ev->vals[f].num;
    }
    memcpy(p, &m, sizeof(m));
    memcpy(p + sizeof(m), key, klen);
}

/* Prefetch the index slot (stage 0) or the entry (1) of message p. */
static void
mail_prefetch(struct worker *w, const unsigned char *p, int stage)
{
    struct mail m;

    memcpy(&m, p, sizeof(m));
    if (stage == 0)
        table_prefetch(&w->tables[m.view], m.hash);
    else
        table_prefetch_entry(&w->tables[m.view], m.hash);
}

/*
 * Add the rows of the received batches bt to w's tables, with the
 * prefetching of the ring (work.h), and free them. Returns 0, or -1 on
 * overflow (the rest is freed unread).
 */
static int
mail_apply(struct worker *w, struct shuffle_batch *bt)
{
    const struct pipeline *p = w->b->p;
    int nf = p->nfields, rc = 0;

    while (bt != NULL) {
        struct shuffle_batch *next = bt->next;
        size_t n = 0;

        if (rc == 0 && w->mcap < bt->n) {
            w->mcap = bt->n;
            w->mptr = xrealloc(w->mptr, w->mcap * sizeof(*w->mptr));
        }
        for (size_t off = 0; rc == 0 && off < bt->len; n++) {
            struct mail m;

            memcpy(&m, bt->data + off, sizeof(m));
            w->mptr[n] = bt->data + off;
            off += sizeof(m) + PAD8(m.klen) + (size_t)nf * 8;
        }
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const unsigned char *q = w->mptr[i];
            const int64_t *nums;
            struct mail m;
            int64_t *row;

            if (i + WORK_RING < n)
                mail_prefetch(w, w->mptr[i + WORK_RING], 0);
            if (i + WORK_AHEAD < n)
                mail_prefetch(w, w->mptr[i + WORK_AHEAD], 1);
            memcpy(&m, q, sizeof(m));
            nums = (const int64_t *)(const void *)(q + sizeof(m) +
                PAD8(m.klen));
            for (int f = 0; f < nf; f++) {
                w->mev.vals[f].present = (int)(m.present >> f & 1);
                w->mev.vals[f].num = nums[f];
            }
            row = table_row(&w->tables[m.view], q + sizeof(m), m.klen,
                m.bucket, m.hash);
            if (agg_row_add(&p->views[m.view], row, &w->mev) != 0) {
                batch_fail(w->b, "view %s: sum overflow",
                    p->views[m.view].name);
                rc = -1;
            }
        }
        free(bt);
        bt = next;
    }
    return rc;
}

/*
 * Rows of views that explode an array (as many as the event has elements)
 * or read the event's strings (which die with it): they skip the ring and
 * are added at once, without prefetching.
 */
static int
count_direct(struct worker *w, const struct event *ev)
{
    const struct pipeline *p = w->b->p;

    for (int i = 0; i < w->fo.nrows; i++) {
        const struct fanout_row *r = &w->fo.rows[i];
        const struct view *v = &p->views[r->view];
        const char *key = w->fo.keys.data + r->off;
        int64_t bucket, *row;

        if (!w->direct[r->view])
            continue;
        bucket = ts_bucket(ev->time, v->granularity);
        row = table_row(&w->tables[r->view], key, r->len, bucket,
            table_hash(key, r->len, bucket));
        if (agg_row_add(v, row, ev) != 0) {
            batch_fail(w->b, "view %s: sum overflow", v->name);
            return -1;
        }
    }
    return 0;
}

/* Queue one accepted event for the tables; its keys are in w->fo. */
static int
count_event(struct worker *w, const struct event *ev)
{
    const struct pipeline *p = w->b->p;
    size_t slot, x;
    int owner;

    if (w->nin - w->nout == WORK_RING && ring_update(w) != 0)
        return -1;
    if (w->exploding && count_direct(w, ev) != 0)
        return -1;
    slot = (size_t)(w->nin % WORK_RING);
    x = slot * (size_t)p->nviews;
    memcpy(w->pvals + slot * (size_t)p->nfields, ev->vals,
        (size_t)p->nfields * sizeof(*ev->vals));
    for (int f = 0; f < p->nfields; f++) {  /* strings die with the event */
        w->pvals[slot * (size_t)p->nfields + (size_t)f].str = NULL;
        w->pvals[slot * (size_t)p->nfields + (size_t)f].elems = NULL;
    }
    w->ptime[slot] = ev->time;
    for (int k = 0; k < p->nviews; k++, x++) {
        if (w->koff[k] == SIZE_MAX) {
            w->pklen[x] = SIZE_MAX;
            continue;
        }
        w->pklen[x] = w->klen[k];
        memcpy(w->pkeys + x * KEY_MAX, w->fo.keys.data + w->koff[k],
            w->klen[k]);
        w->pbucket[x] = ts_bucket(ev->time, p->views[k].granularity);
        w->phash[x] = table_hash(w->pkeys + x * KEY_MAX, w->pklen[x],
            w->pbucket[x]);
        if (w->sh != NULL && shuffle_split(w->sh, k) &&
            (owner = shuffle_owner(w->phash[x], w->b->nworkers)) != w->id) {
            mail_send(w, owner, k, w->pkeys + x * KEY_MAX, w->pklen[x],
                w->pbucket[x], w->phash[x], ev);
            w->pklen[x] = SIZE_MAX;     /* not this worker's row */
            continue;
        }
        table_prefetch(&w->tables[k], w->phash[x]);
    }
    w->nin++;
    if (w->nin > WORK_AHEAD)
        ring_prefetch(w, w->nin - 1 - WORK_AHEAD);
    return 0;
}

static int
do_record(struct worker *w, struct chunk *c, const char *text, size_t len,
    int64_t line, uint64_t toolong)
{
    struct batch *b = w->b;
    const struct pipeline *p = b->p;
    char err[ERR_LEN];
    const char *json = text;
    size_t jlen = len;
    enum reject r;
    int64_t t, unit;
    size_t i;
    int bad;

    if (toolong > 0) {
        snprintf(err, sizeof(err), "%s of %llu bytes, longer than the "
            "limit of %d", c->abs_lines ? "array element" : "line",
            (unsigned long long)toolong, EVENT_MAX_LINE);
        note_reject(w, c, line, REJECT_TOO_LARGE, err, text, len);
        return 0;
    }
    for (i = 0; i < len && (text[i] == ' ' || text[i] == '\t' ||
        text[i] == '\r'); i++)
        continue;
    if (i == len && !c->has_recs)
        return 0;   /* blank line */
    if (b->inputs[c->file].csv != NULL) {
        /* a CSV row: parsed as its JSON twin, rejected as written */
        buf_clear(&w->csvjson);
        if (csv_row_json(b->inputs[c->file].csv, &w->csvf, text, len,
            &w->csvjson, err) != 0) {
            note_reject(w, c, line, REJECT_CSV, err, text, len);
            return 0;
        }
        json = w->csvjson.data;
        jlen = w->csvjson.len;
    }
    r = event_parse(&w->ev, p, json, jlen, b->default_mtime ?
        b->inputs[c->file].mtime : b->default_time, err);
    if (r != REJECT_NONE) {
        note_reject(w, c, line, r, err, text, len);
        return 0;
    }
    if (fanout_event(&w->fo, p, &w->ev, &bad) < 0) {
        key_reject_msg(err, &p->views[bad]);
        note_reject(w, c, line, REJECT_RANGE, err, text, len);
        return 0;
    }
    /* the other views have at most one row: it goes through the ring */
    for (int k = 0; k < p->nviews; k++)
        w->koff[k] = SIZE_MAX;
    for (int k = 0; k < w->fo.nrows; k++) {
        const struct fanout_row *row = &w->fo.rows[k];

        if (w->direct[row->view])
            continue;
        w->koff[row->view] = row->off;
        w->klen[row->view] = row->len;
    }
    t = w->ev.time;
    w->st.accepted++;
    unit = ts_bucket(t, b->unit);
    if (b->from >= 0 && t < b->from) {
        w->st.before_from++;
        if (unit > w->st.last_unit)
            w->st.last_unit = unit, w->st.last_unit_events = 0;
        if (unit > w->st.last_before_from)
            w->st.last_before_from = unit;
        return 0;
    }
    if (t >= b->limit) {
        w->st.after_cutoff++;
        w->st.held++;
        return 0;
    }
    if (unit > w->st.last_unit)
        w->st.last_unit = unit, w->st.last_unit_events = 0;
    if (unit == w->st.last_unit)
        w->st.last_unit_events++;
    w->st.events++;
    if (b->mode == BATCH_SHARD)
        hist_add(&w->hist, unit, 1);
    return count_event(w, &w->ev);
}

static int
do_chunk(struct worker *w, struct chunk *c)
{
    if (c->has_recs) {
        for (size_t i = 0; i < c->nrecs; i++) {
            const struct rec *r = &c->recs[i];

            w->elem = r->elem;
            if (do_record(w, c, c->data + r->off, r->len, r->line,
                r->toolong) != 0)
                return -1;
        }
        return 0;
    }
    const char *p = c->data, *end = c->data + c->len;
    int64_t line = 0;

    w->elem = -1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl != NULL ? nl : end;

        line++;
        if (do_record(w, c, p, (size_t)(e - p), line, 0) != 0)
            return -1;
        p = nl != NULL ? nl + 1 : end;
    }
    c->nlines = line;
    return 0;
}

/*
 * Allocate w's tables and buffers. Called by the worker's own thread, so
 * they come from its own malloc arena: memory one worker writes for every
 * event never shares a cache line with memory another worker reads.
 */
static void
worker_setup(struct worker *w)
{
    const struct pipeline *p = w->b->p;
    size_t nv = (size_t)p->nviews + 1;

    w->tables = xcalloc(nv, sizeof(*w->tables));
    for (int k = 0; k < p->nviews; k++)
        table_init(&w->tables[k], &p->views[k]);
    fanout_init(&w->fo);
    csv_fields_init(&w->csvf);
    buf_init(&w->csvjson);
    w->direct = xcalloc(nv, 1);
    for (int k = 0; k < p->nviews; k++) {
        w->direct[k] = p->views[k].explodes ||
            agg_view_reads_text(&p->views[k]);
        w->exploding |= w->direct[k];
    }
    w->koff = xcalloc(nv, sizeof(*w->koff));
    w->klen = xcalloc(nv, sizeof(*w->klen));
    w->pkeys = xmalloc(WORK_RING * nv * KEY_MAX);
    w->pvals = xcalloc(WORK_RING * (size_t)(p->nfields + 1),
        sizeof(*w->pvals));
    w->ptime = xcalloc(WORK_RING, sizeof(*w->ptime));
    w->pklen = xcalloc(WORK_RING * nv, sizeof(*w->pklen));
    w->phash = xcalloc(WORK_RING * nv, sizeof(*w->phash));
    w->pbucket = xcalloc(WORK_RING * nv, sizeof(*w->pbucket));
    w->pev.nvals = p->nfields;
    w->mev.vals = xcalloc((size_t)p->nfields + 1, sizeof(*w->mev.vals));
    w->mev.nvals = p->nfields;
    hist_init(&w->hist);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct batch *b = w->b;
    struct chunk *c;
    int64_t before;

    worker_setup(w);
    event_init(&w->ev, b->p);
    while ((c = queue_pop(b)) != NULL) {
        before = w->st.events + w->st.nrejects + w->st.before_from +
            w->st.after_cutoff;
        if ((w->sh != NULL && mail_apply(w, shuffle_take(w->sh, w->id))
            != 0) || do_chunk(w, c) != 0) {
            queue_stop(b);
            break;
        }
        progress_count(&b->progress, (long long)(w->st.events +
            w->st.nrejects + w->st.before_from + w->st.after_cutoff -
            before));
        queue_done(b, c);
        for (int k = 0; w->sh != NULL && k < b->p->nviews; k++)
            if (shuffle_grown(w->sh, k, w->tables[k].nents))
                log_debug("view %s: %zu groups in one worker: split "
                    "between %d workers", b->p->views[k].name,
                    w->tables[k].nents, b->nworkers);
    }
    if (!atomic_load(&b->stop) && ring_drain(w) != 0)
        queue_stop(b);
    if (w->sh != NULL && !atomic_load(&b->stop)) {
        struct shuffle_batch *bt;

        /* send what is left, then take rows until every worker is done */
        shuffle_flush(w->sh, w->id);
        while ((bt = shuffle_finish(w->sh, w->id, &b->stop)) != NULL)
            if (mail_apply(w, bt) != 0)
                queue_stop(b);
    }
    if (atomic_load(&b->stop)) {
        queue_stop(b);      /* wake the reader if it waits for a chunk */
        if (w->sh != NULL)
            shuffle_wake(w->sh);    /* and workers waiting for rows */
    }
    event_reset(&w->ev);
    return NULL;
}

int
work_start(struct batch *b)
{
    size_t size = (size_t)b->threads * sizeof(*b->workers);
    struct shuffle *sh = NULL;

    /* aligned and padded (work.h): no cache line shared between workers */
    if ((b->workers = aligned_alloc(WORK_ALIGN, size)) == NULL) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        abort();
    }
    memset(b->workers, 0, size);
    b->nworkers = b->threads;
    if (b->nworkers > 1 && b->p->nfields <= MAIL_FIELDS)
        sh = shuffle_new(b->nworkers, b->p->nviews);
    for (int i = 0; i < b->nworkers; i++) {
        struct worker *w = &b->workers[i];
        int rc;

        w->b = b;
        w->id = i;
        w->sh = sh;
        w->st.last_unit = INT64_MIN;
        w->st.last_before_from = INT64_MIN;
        if ((rc = pthread_create(&w->tid, NULL, worker_main, w)) != 0) {
            batch_fail(b, "pthread_create: %s", strerror(rc));
            queue_stop(b);
            return -1;
        }
        w->started = 1;
    }
    return 0;
}

int
work_finish(struct batch *b)
{
    struct batch_stats *s = &b->stats;
    int64_t last = INT64_MIN;

    for (int i = 0; i < b->nworkers; i++)
        if (b->workers[i].started)
            (void)pthread_join(b->workers[i].tid, NULL);
    log_debug("%s: workers done at %.3f s", __func__,
        now_mono_s() - b->started);
    for (int i = 0; i < b->nworkers; i++) {
        const struct batch_stats *ws = &b->workers[i].st;

        batch_stats_add(s, ws);
        if (ws->last_unit > last)
            last = ws->last_unit;
        if (i > 0)
            hist_merge(&b->workers[0].hist, &b->workers[i].hist);
    }
    if (b->fail[0] != '\0')
        return -1;
    s->last_unit = last;
    if (b->mode == BATCH_SHARD) {
        b->cutoff = 0;      /* the merge's to say */
    } else if (b->until >= 0) {
        b->cutoff = b->until;
    } else if (s->held > 0) {
        /* events reached the hold: every bucket before it is complete */
        b->cutoff = b->limit;
    } else if (last == INT64_MIN) {
        b->cutoff = 0;  /* no events: nothing is complete */
    } else {
        /* the latest bucket may still be filling: it is left to speed */
        b->cutoff = last;
        for (int i = 0; i < b->nworkers; i++) {
            if (b->workers[i].st.last_unit == last) {
                s->after_cutoff += b->workers[i].st.last_unit_events;
                s->events -= b->workers[i].st.last_unit_events;
            }
        }
    }
    for (int i = 1; i < b->nworkers; i++) {
        for (int k = 0; k < b->p->nviews; k++) {
            if (table_merge(&b->workers[0].tables[k],
                &b->workers[i].tables[k]) != 0) {
                batch_fail(b, "view %s: sum overflow",
                    b->p->views[k].name);
                return -1;
            }
            table_reset(&b->workers[i].tables[k]);
        }
    }
    log_debug("%s: tables merged at %.3f s", __func__,
        now_mono_s() - b->started);
    return 0;
}

void
work_empty(struct batch *b)
{
    size_t size = sizeof(*b->workers);

    if ((b->workers = aligned_alloc(WORK_ALIGN, size)) == NULL) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        abort();
    }
    memset(b->workers, 0, size);
    b->nworkers = 1;
    b->workers[0].b = b;
    worker_setup(&b->workers[0]);
}

struct table *
work_table(struct batch *b, int i)
{
    return &b->workers[0].tables[i];
}

struct hist *
work_hist(struct batch *b)
{
    return &b->workers[0].hist;
}

void
work_free(struct batch *b)
{
    for (int i = 0; i < b->nworkers; i++) {
        struct worker *w = &b->workers[i];

        for (int k = 0; w->tables != NULL && k < b->p->nviews; k++)
            table_reset(&w->tables[k]);
        free(w->tables);
        free(w->koff);
        free(w->klen);
        free(w->direct);
        fanout_reset(&w->fo);
        csv_fields_reset(&w->csvf);
        buf_reset(&w->csvjson);
        free(w->pkeys);
        free(w->pvals);
        free(w->ptime);
        free(w->pklen);
        free(w->phash);
        free(w->pbucket);
        free(w->mev.vals);
        free(w->mptr);
        hist_reset(&w->hist);
    }
    if (b->nworkers > 0)
        shuffle_free(b->workers[0].sh);
    free(b->workers);
    b->workers = NULL;
    b->nworkers = 0;
}
