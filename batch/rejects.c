/* rejects.c -- the rejects file: one JSON object per rejected record */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch.h"
#include "batch/rejects.h"
#include "shared/err.h"
#include "shared/fs.h"
#include "shared/mem.h"

/*
 * Why the rejects file name could not be written (errno e while doing what),
 * into buf (ERR_LEN bytes). A full disk is named, with what is left there,
 * what the last run's rejects took (this run's need about as much) and what
 * to do.
 */
static void
rj_reason(char *buf, const struct rejects *rj, const char *name,
    const char *what, int e)
{
    struct statvfs v;
    struct stat sb;
    long long avail = -1, last = -1;

    if ((e != ENOSPC && e != EDQUOT) || name == NULL) {
        snprintf(buf, ERR_LEN, "rejects %s: %s: %s", name != NULL ? name :
            "(shard)", what, strerror(e));
        return;
    }
    if (statvfs(name, &v) == 0)
        avail = (long long)(v.f_bavail * v.f_frsize / 1024);
    if (rj->path != NULL && stat(rj->path, &sb) == 0)
        last = (long long)(sb.st_size + 1023) / 1024;
    snprintf(buf, ERR_LEN, "disk full: rejects %s: %s: %s (%lld KiB free "
        "there; the last run's rejects took %lld KiB): free space on its "
        "filesystem, or give --rejects FILE on another", name, what,
        strerror(e), avail, last < 0 ? 0 : last);
}

int
rejects_open(struct batch *b, int direct, char *err)
{
    struct rejects *rj = &b->rejects;
    const char *name;
    char e[ERR_LEN];
    int n;

    rj->path = b->rejects_path;
    if (b->mode == BATCH_SHARD) {
        /* kept for the partial (partial.c), not written anywhere */
        if ((rj->f = open_memstream(&rj->mem, &rj->memlen)) == NULL) {
            snprintf(err, ERR_LEN, "rejects: open_memstream: %s",
                strerror(errno));
            return -1;
        }
        return 0;
    }
    if (b->rejects_path == NULL)
        return 0;
    if (fs_mkdir_parent(b->rejects_path, 0777, e) != 0) {
        snprintf(err, ERR_LEN, "rejects %s: %.200s", b->rejects_path, e);
        return -1;
    }
    if (direct) {
        name = rj->path;
    } else {
        size_t sz = strlen(rj->path) + 8;
        rj->tmp = xmalloc(sz);
        n = snprintf(rj->tmp, sz, "%s.tmp", rj->path);
        if (n < 0 || (size_t)n >= sz)
            abort();
        name = rj->tmp;
    }
    if ((rj->f = fopen(name, "w")) == NULL) {
        rj_reason(err, rj, name, "open", errno);
        free(rj->tmp);
        rj->tmp = NULL;
        return -1;
    }
    return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* A file name as a JSON string; bytes that are not UTF-8 become '?'. */
static void
put_path(struct buf *out, const char *path)
{
    size_t n = strlen(path), i = 0, k;
    char *clean = xmalloc(n + 1);

    while (i < n) {
        k = utf8_len((const unsigned char *)path + i, n - i);
        if (k == 0) {
            clean[i++] = '?';
            continue;
        }
        memcpy(clean + i, path + i, k);
        i += k;
    }
    buf_put_json_string(out, clean, n);
    free(clean);
}

/* One line of the rejects file; elem is the element of a JSON array, or
 * -1 (none, or already in text). */
static void
put_line(struct buf *out, const char *path, int64_t line, int64_t elem,
    const char *text, size_t len)
{
    buf_puts(out, "{\"source\":");
    put_path(out, path);
    buf_printf(out, ",\"line\":%" PRId64 ",", line);
    if (elem >= 0)
        buf_printf(out, "\"element\":%" PRId64 ",", elem);
    buf_append(out, text, len);
    buf_puts(out, "}\n");
}

static void
put_out(struct batch *b, const struct buf *out)
{
    struct rejects *rj = &b->rejects;

    if (fwrite(out->data, 1, out->len, rj->f) != out->len) {
        rj->failed = 1;
        rj_reason(rj->err, rj, rj->tmp != NULL ? rj->tmp : rj->path,
            "write", errno);
        batch_fail(b, "%s", rj->err);
    }
}

void
rejects_chunk(struct batch *b, struct chunk *c, int64_t base)
{
    struct rejects *rj = &b->rejects;
    struct buf out;

    if (rj->f == NULL || rj->failed)
        return;
    buf_init(&out);
    for (size_t i = 0; i < c->nrjs; i++) {
        const struct rejref *r = &c->rjs[i];

        if (b->mode == BATCH_SHARD) {
            /* the line within the piece: the merge makes it absolute; the
             * element goes with the text, as the record will hold it */
            buf_printf(&out, "%d %" PRId64 " ", c->file, base + r->line);
            if (r->elem >= 0)
                buf_printf(&out, "\"element\":%" PRId64 ",", r->elem);
            buf_append(&out, c->rj.data + r->off, r->len);
            buf_putc(&out, '\n');
        } else {
            put_line(&out, b->inputs[c->file].path, base + r->line, r->elem,
                c->rj.data + r->off, r->len);
        }
    }
    put_out(b, &out);
    buf_reset(&out);
}

void
rejects_write(struct batch *b, const char *path, int64_t line,
    const char *text, size_t len)
{
    struct rejects *rj = &b->rejects;
    struct buf out;

    if (rj->f == NULL || rj->failed)
        return;
    buf_init(&out);
    put_line(&out, path, line, -1, text, len);
    put_out(b, &out);
    buf_reset(&out);
}

int
rejects_take(struct batch *b, const char **mem, size_t *len, char *err)
{
    struct rejects *rj = &b->rejects;
    FILE *f = rj->f;

    rj->f = NULL;
    if (f != NULL && fclose(f) != 0 && !rj->failed) {
        rj->failed = 1;
        rj_reason(rj->err, rj, NULL, "close", errno);
    }
    if (rj->failed) {
        snprintf(err, ERR_LEN, "%s", rj->err);
        return -1;
    }
    *mem = rj->mem;
    *len = rj->memlen;
    return 0;
}

int
rejects_commit(struct batch *b, char *err)
{
    struct rejects *rj = &b->rejects;
    FILE *f = rj->f;
    const char *name;

    if (f == NULL)
        return 0;
    rj->f = NULL;
    name = rj->tmp != NULL ? rj->tmp : rj->path;
    if (!rj->failed && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        rj->failed = 1;
        rj_reason(rj->err, rj, name, "write", errno);
    }
    if (fclose(f) != 0 && !rj->failed) {
        rj->failed = 1;
        rj_reason(rj->err, rj, name, "close", errno);
    }
    if (!rj->failed && rj->tmp != NULL &&
        rename(rj->tmp, rj->path) != 0) {
        rj->failed = 1;
        rj_reason(rj->err, rj, rj->path, "rename", errno);
    }
    if (rj->failed) {
        snprintf(err, ERR_LEN, "%s", rj->err);
        if (rj->tmp != NULL)
            (void)unlink(rj->tmp);
    }
    free(rj->tmp);
    rj->tmp = NULL;
    return rj->failed ? -1 : 0;
}

void
rejects_discard(struct batch *b)
{
    struct rejects *rj = &b->rejects;

    if (rj->f != NULL)
        (void)fclose(rj->f);
    free(rj->mem);
    if (rj->tmp != NULL)
        (void)unlink(rj->tmp);
    free(rj->tmp);
    memset(rj, 0, sizeof(*rj));
}
