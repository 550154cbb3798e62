/* progress.c -- the progress line on a terminal, the summary at the end */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch.h"
#include "batch/progress.h"
#include "shared/buf.h"
#include "shared/log.h"
#include "shared/now.h"
#include "shared/ts.h"

void
progress_init(struct progress *pr, int on)
{
    pr->on = on;
    atomic_init(&pr->events, 0);
    pr->bytes_done = 0;
    pr->last = 0;
    pr->drawn = 0;
}

void
progress_count(struct progress *pr, long long n)
{
    atomic_fetch_add(&pr->events, n);
}

void
progress_bytes_set(struct progress *pr, uint64_t bytes)
{
    pr->bytes_done = bytes;
}

uint64_t
progress_bytes(const struct progress *pr)
{
    return pr->bytes_done;
}

void
progress_tick(struct batch *b, int force)
{
    struct progress *pr = &b->progress;
    double now = now_mono_s(), secs = now - b->started, rate, mb, total;
    long long events = atomic_load(&pr->events);
    char line[160], eta[32] = "";
    int n;

    if (!pr->on || (!force && now - pr->last < 1.0))
        return;
    pr->last = now;
    mb = (double)pr->bytes_done / 1e6;
    total = (double)b->total_bytes / 1e6;
    rate = secs > 0 ? (double)events / secs : 0;
    if (pr->bytes_done > 0 && b->total_bytes > pr->bytes_done && secs > 0)
        snprintf(eta, sizeof(eta), ", ETA %.0f s",
            secs * (double)(b->total_bytes - pr->bytes_done) /
            (double)pr->bytes_done);
    n = snprintf(line, sizeof(line),
        "\rreading %.1f/%.1f MB (%.0f%%), %.2f M events/s%s\033[K",
        mb, total, total > 0 ? 100.0 * mb / total : 100.0, rate / 1e6, eta);
    if (n > 0)
        (void)!write(STDERR_FILENO, line,
            (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    pr->drawn = 1;
}

void
progress_write(struct progress *pr, const char *name, size_t i, size_t n)
{
    double now = now_mono_s();
    char line[160];
    int len;

    if (!pr->on || now - pr->last < 1.0)
        return;
    pr->last = now;
    len = snprintf(line, sizeof(line), "\rwriting %s: %zu/%zu rows\033[K",
        name, i, n);
    if (len > 0)
        (void)!write(STDERR_FILENO, line,
            (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
    pr->drawn = 1;
}

void
progress_clear(struct progress *pr)
{
    if (pr->drawn)
        (void)!write(STDERR_FILENO, "\r\033[K", 4);
    pr->drawn = 0;
}

void
progress_summary(struct batch *b)
{
    const struct batch_stats *s = &b->stats;
    char cut[TS_BUFSZ];
    struct buf line;
    int any = 0;

    buf_init(&line);
    if (b->dry_run)
        buf_puts(&line, "dry run, nothing published:");
    else if (b->mode == BATCH_SHARD)
        buf_printf(&line, "shard %d/%d written to %s:", b->shard, b->nshards,
            b->partial);
    else
        buf_printf(&line, "published version %" PRId64 ":", b->version);
    buf_printf(&line, " events=%" PRId64 " rejects=%" PRId64, s->events,
        s->nrejects);
    for (int r = 1; r < REJECT_NREASONS; r++) {
        if (s->rejects[r] == 0)
            continue;
        buf_printf(&line, "%s%s=%" PRId64, any ? " " : " (",
            event_reject_name((enum reject)r), s->rejects[r]);
        any = 1;
    }
    if (any)
        buf_putc(&line, ')');
    buf_printf(&line, " after_cutoff=%" PRId64 " before_from=%" PRId64
        " rows=%" PRId64 " cutoff=%s inputs=%d bytes=%" PRIu64
        " seconds=%.2f", s->after_cutoff, s->before_from, s->rows,
        b->mode == BATCH_SHARD ? "merge's" :
        ts_format(b->cutoff, cut, sizeof(cut)),
        b->mode == BATCH_SHARD ? b->npieces : b->ninputs, b->total_bytes,
        now_mono_s() - b->started);
    log_info("%s", line.data);
    buf_reset(&line);
}
