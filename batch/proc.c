/* proc.c -- worker processes: a share of the inputs each, merged in order */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/input.h"
#include "batch/proc.h"
#include "batch/rejects.h"
#include "batch/table.h"
#include "batch/work.h"
#include "shared/agg.h"
#include "shared/key.h"
#include "shared/mem.h"

#define IOBUF (64u << 10)

/* What a child sends first; the same binary reads it, so raw structs do. */
struct result {
    char               fail[ERR_LEN];   /* "" when it succeeded */
    struct batch_stats st;
};

struct stream {                 /* buffered pipe I/O */
    int     fd;
    char   *buf;
    size_t  pos, len;
};

static void stop_all(struct batch *b);

/* Bytes of a share (the last may be shorter). */
static uint64_t
share_width(const struct batch *b)
{
    return (b->total_bytes + (uint64_t)b->nshares - 1) / (uint64_t)b->nshares;
}

int
proc_share_of(const struct batch *b, uint64_t pos)
{
    uint64_t width;

    if (b->nshares <= 1 || b->total_bytes == 0)
        return 0;
    width = share_width(b);
    return pos / width >= (uint64_t)b->nshares ? b->nshares - 1 :
        (int)(pos / width);
}

uint64_t
proc_share_start(const struct batch *b, int s)
{
    if (s >= b->nshares)
        return UINT64_MAX;
    return s <= 0 ? 0 : share_width(b) * (uint64_t)s;
}

int64_t
proc_part_lines(struct batch *b)
{
    struct input_file f;
    char err[ERR_LEN];

    if (b->part_lines >= 0)
        return b->part_lines;
    b->part_lines = 0;
    if (input_open(&f, b->inputs[b->part_file].path, err) != 0 ||
        input_lines(&f, b->part_off, &b->part_lines, err) != 0)
        batch_fail(b, "%s", err);
    input_close(&f);
    return b->part_lines;
}

/* ---- the child ------------------------------------------------------------ */

/* Write all n bytes; a signal stops it. Returns 0, or -1. */
static int
write_full(int fd, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t w = write(fd, s, n);

        if (w < 0 && errno == EINTR && batch_signal == 0)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
put(struct stream *s, const void *p, size_t n)
{
    if (s->len + n > IOBUF) {
        if (write_full(s->fd, s->buf, s->len) != 0)
            return -1;
        s->len = 0;
    }
    if (n > IOBUF)
        return write_full(s->fd, p, n);
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return 0;
}

/* A table as: count, then per row its bucket, key length, key, slots. */
static int
send_table(struct stream *s, const struct table *t)
{
    uint64_t n = t->nents;

    if (put(s, &n, sizeof(n)) != 0)
        return -1;
    for (uint32_t e = 0; e < t->nents; e++) {
        const void *key;
        const int64_t *row;
        int64_t bucket;
        size_t klen;
        uint64_t kl;

        table_entry(t, e, &key, &klen, &bucket, &row);
        kl = klen;
        if (put(s, &bucket, sizeof(bucket)) != 0 ||
            put(s, &kl, sizeof(kl)) != 0 || put(s, key, klen) != 0 ||
            put(s, row, (size_t)t->v->nslots * sizeof(*row)) != 0)
            return -1;
    }
    return 0;
}

void
proc_exit(struct batch *b)
{
    struct stream s = {b->proc_out, xmalloc(IOBUF), 0, 0};
    struct result res;
    int rc = 0;

    if (b->rejf != NULL && !b->rej_failed && fflush(b->rejf) != 0)
        batch_fail(b, "rejects: temporary file: %s", strerror(errno));
    if (b->fail[0] == '\0' && batch_signal != 0)
        batch_fail(b, "interrupted by signal %d", (int)batch_signal);
    memset(&res, 0, sizeof(res));
    snprintf(res.fail, sizeof(res.fail), "%s", b->fail);
    if (b->workers != NULL)
        res.st = b->workers[0].st;
    rc = put(&s, &res, sizeof(res));
    for (int k = 0; rc == 0 && res.fail[0] == '\0' && k < b->p->nviews; k++)
        rc = send_table(&s, work_table(b, k));
    if (rc == 0)
        rc = write_full(s.fd, s.buf, s.len);
    _exit(rc == 0 && res.fail[0] == '\0' ? 0 : 1);
}

/* In the new child of share `share`: die with the parent, keep only what
 * is ours. */
static void
child_setup(struct batch *b, int share, int fd, pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(1);
    for (int j = 0; j < share - 1; j++)
        (void)close(b->procs[j].fd);
    b->share = share;
    b->proc_out = fd;
    b->progress = 0;
    b->rejf = b->procs[share - 1].rej;  /* the parent's stays unwritten */
    b->rej_tmp = NULL;
}

/* ---- the parent ----------------------------------------------------------- */

static int
all_regular(const struct batch *b)
{
    struct stat sb;

    for (int i = 0; i < b->ninputs; i++) {
        if (stat(b->inputs[i].path, &sb) != 0 || !S_ISREG(sb.st_mode))
            return 0;
    }
    return 1;
}

int
proc_start(struct batch *b, char *err)
{
    int n = b->threads;
    pid_t parent = getpid();

    b->share = 0;
    b->nshares = 1;
    b->proc_out = -1;
    b->part_file = -1;
    if (n < 2 || b->total_bytes == 0 || !all_regular(b))
        return 0;
    b->procs = xcalloc((size_t)n - 1, sizeof(*b->procs));
    b->nshares = n;
    b->threads = 1;
    for (int j = 0; j < n - 1; j++) {
        struct proc *pr = &b->procs[j];
        int fds[2];

        pr->pid = -1;
        pr->fd = -1;
        b->nprocs = j + 1;
        if (b->rejf != NULL && (pr->rej = tmpfile()) == NULL) {
            snprintf(err, ERR_LEN, "rejects: temporary file: %s",
                strerror(errno));
            goto fail;
        }
        if (pipe(fds) != 0) {
            snprintf(err, ERR_LEN, "pipe: %s", strerror(errno));
            goto fail;
        }
        if ((pr->pid = fork()) < 0) {
            snprintf(err, ERR_LEN, "fork: %s", strerror(errno));
            (void)close(fds[0]);
            (void)close(fds[1]);
            goto fail;
        }
        if (pr->pid == 0) {
            (void)close(fds[0]);
            child_setup(b, j + 1, fds[1], parent);
            return 0;
        }
        (void)close(fds[1]);
        pr->fd = fds[0];
    }
    return 0;
fail:
    proc_free(b);
    return -1;
}

/* Fill dst with n bytes from the stream. Returns 0, or -1 (end, error). */
static int
get(struct stream *s, void *dst, size_t n)
{
    char *d = dst;

    while (n > 0) {
        if (s->pos == s->len) {
            ssize_t r = read(s->fd, s->buf, IOBUF);

            if (r < 0 && errno == EINTR && batch_signal == 0)
                continue;
            if (r <= 0)
                return -1;
            s->pos = 0;
            s->len = (size_t)r;
        }
        size_t k = s->len - s->pos < n ? s->len - s->pos : n;

        memcpy(d, s->buf + s->pos, k);
        s->pos += k;
        d += k;
        n -= k;
    }
    return 0;
}

#define MERGE_BATCH 32    /* rows read, then prefetched, then merged */

/* Merge a table sent by send_table() into t. Rows go in batches, so that
 * the cache misses of a batch's lookups overlap (as in work.h). Returns 0,
 * -1 on a short or bad stream, 1 on sum overflow. */
static int
recv_table(struct stream *s, struct table *t)
{
    size_t nslots = (size_t)t->v->nslots;
    int64_t *rows = xmalloc(MERGE_BATCH * (nslots + 1) * sizeof(*rows));
    unsigned char (*keys)[KEY_MAX] = xmalloc(MERGE_BATCH * sizeof(*keys));
    uint64_t n, klen[MERGE_BATCH], h[MERGE_BATCH];
    int64_t bucket[MERGE_BATCH];
    int rc = 0;

    if (get(s, &n, sizeof(n)) != 0)
        rc = -1;
    for (uint64_t i = 0; rc == 0 && i < n; i += MERGE_BATCH) {
        size_t m = n - i < MERGE_BATCH ? (size_t)(n - i) : MERGE_BATCH;

        for (size_t j = 0; j < m; j++) {
            if (get(s, &bucket[j], sizeof(bucket[j])) != 0 ||
                get(s, &klen[j], sizeof(klen[j])) != 0 ||
                klen[j] > KEY_MAX ||
                get(s, keys[j], (size_t)klen[j]) != 0 ||
                get(s, rows + j * nslots, nslots * sizeof(*rows)) != 0) {
                rc = -1;
                break;
            }
            h[j] = table_hash(keys[j], (size_t)klen[j], bucket[j]);
            table_prefetch(t, h[j]);
        }
        for (size_t j = 0; rc == 0 && j < m; j++)
            table_prefetch_entry(t, h[j]);
        for (size_t j = 0; rc == 0 && j < m; j++) {
            int64_t *dst = table_row(t, keys[j], (size_t)klen[j], bucket[j],
                h[j]);

            if (agg_row_merge(t->v, dst, rows + j * nslots) != 0)
                rc = 1;
        }
    }
    free(keys);
    free(rows);
    return rc;
}

/* Reap child j; a failure it did not report itself is reported here. */
static void
reap(struct batch *b, int j, int killed)
{
    struct proc *pr = &b->procs[j];
    int status;

    if (pr->pid <= 0)
        return;
    while (waitpid(pr->pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = 0;
            break;
        }
    }
    pr->pid = -1;
    if (killed)
        return;
    if (WIFSIGNALED(status))
        batch_fail(b, "worker process %d: killed by signal %d", j + 1,
            WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        batch_fail(b, "worker process %d: exited with status %d", j + 1,
            WEXITSTATUS(status));
}

/* Read child j's result and merge it. Returns 0, or -1 after batch_fail(). */
static int
collect_one(struct batch *b, int j)
{
    struct proc *pr = &b->procs[j];
    struct stream s = {pr->fd, xmalloc(IOBUF), 0, 0};
    struct result res;
    int rc = 0;

    if (get(&s, &res, sizeof(res)) != 0) {
        rc = -1;
    } else if (res.fail[0] != '\0') {
        batch_fail(b, "%s", res.fail);
        rc = -1;
    } else {
        pr->st = res.st;
        for (int k = 0; rc == 0 && k < b->p->nviews; k++) {
            if ((rc = recv_table(&s, work_table(b, k))) > 0) {
                batch_fail(b, "view %s: sum overflow", b->p->views[k].name);
                rc = -1;
            }
        }
    }
    free(s.buf);
    (void)close(pr->fd);
    pr->fd = -1;
    if (rc == 0 && pr->rej != NULL && rejects_splice(b, pr->rej) != 0)
        rc = -1;
    reap(b, j, 0);
    if (rc != 0 && b->fail[0] == '\0') {
        if (batch_signal != 0)
            batch_fail(b, "interrupted by signal %d", (int)batch_signal);
        else
            batch_fail(b, "worker process %d: result cut short", j + 1);
    }
    return b->fail[0] != '\0' ? -1 : 0;
}

int
proc_collect(struct batch *b)
{
    for (int j = 0; j < b->nprocs; j++) {
        if (b->fail[0] != '\0')
            break;
        if (batch_signal != 0) {
            batch_fail(b, "interrupted by signal %d", (int)batch_signal);
            break;
        }
        if (collect_one(b, j) != 0)
            break;
    }
    stop_all(b);
    return b->fail[0] != '\0' ? -1 : 0;
}

/* Kill and reap the children still running; close what is left. */
static void
stop_all(struct batch *b)
{
    for (int j = 0; j < b->nprocs; j++) {
        struct proc *pr = &b->procs[j];

        if (pr->pid > 0) {
            (void)kill(pr->pid, SIGKILL);
            reap(b, j, 1);
        }
        if (pr->fd >= 0)
            (void)close(pr->fd);
        pr->fd = -1;
        if (pr->rej != NULL)
            (void)fclose(pr->rej);
        pr->rej = NULL;
    }
}

void
proc_free(struct batch *b)
{
    stop_all(b);
    free(b->procs);
    b->procs = NULL;
    b->nprocs = 0;
}
