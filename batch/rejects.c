/* rejects.c -- the rejects file: one JSON object per rejected record */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/rejects.h"
#include "shared/err.h"
#include "shared/fs.h"
#include "shared/mem.h"

int
rejects_open(struct batch *b, int direct, char *err)
{
    const char *name;
    char e[ERR_LEN];
    int n;

    if (b->rejects_path == NULL)
        return 0;
    if (fs_mkdir_parent(b->rejects_path, 0777, e) != 0) {
        snprintf(err, ERR_LEN, "rejects %s: %.200s", b->rejects_path, e);
        return -1;
    }
    if (direct) {
        name = b->rejects_path;
    } else {
        size_t sz = strlen(b->rejects_path) + 8;
        b->rej_tmp = xmalloc(sz);
        n = snprintf(b->rej_tmp, sz, "%s.tmp", b->rejects_path);
        if (n < 0 || (size_t)n >= sz)
            abort();
        name = b->rej_tmp;
    }
    if ((b->rejf = fopen(name, "w")) == NULL) {
        snprintf(err, ERR_LEN, "rejects %s: %s", name, strerror(errno));
        free(b->rej_tmp);
        b->rej_tmp = NULL;
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

void
rejects_chunk(struct batch *b, struct chunk *c, int64_t base)
{
    struct buf out;

    if (b->rejf == NULL || b->rej_failed)
        return;
    buf_init(&out);
    for (size_t i = 0; i < c->nrjs; i++) {
        const struct rejref *r = &c->rjs[i];

        buf_puts(&out, "{\"source\":");
        put_path(&out, b->inputs[c->file].path);
        buf_printf(&out, ",\"line\":%" PRId64 ",", base + r->line);
        buf_append(&out, c->rj.data + r->off, r->len);
        buf_puts(&out, "}\n");
    }
    if (fwrite(out.data, 1, out.len, b->rejf) != out.len) {
        b->rej_failed = 1;
        snprintf(b->rej_err, sizeof(b->rej_err), "rejects %s: write: %s",
            b->rejects_path, strerror(errno));
        batch_fail(b, "%s", b->rej_err);
    }
    buf_reset(&out);
}

int
rejects_commit(struct batch *b, char *err)
{
    FILE *f = b->rejf;

    if (f == NULL)
        return 0;
    b->rejf = NULL;
    if (!b->rej_failed && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        b->rej_failed = 1;
        snprintf(b->rej_err, sizeof(b->rej_err), "rejects %s: write: %s",
            b->rejects_path, strerror(errno));
    }
    if (fclose(f) != 0 && !b->rej_failed) {
        b->rej_failed = 1;
        snprintf(b->rej_err, sizeof(b->rej_err), "rejects %s: close: %s",
            b->rejects_path, strerror(errno));
    }
    if (!b->rej_failed && b->rej_tmp != NULL &&
        rename(b->rej_tmp, b->rejects_path) != 0) {
        b->rej_failed = 1;
        snprintf(b->rej_err, sizeof(b->rej_err), "rejects %s: rename: %s",
            b->rejects_path, strerror(errno));
    }
    if (b->rej_failed) {
        snprintf(err, ERR_LEN, "%s", b->rej_err);
        if (b->rej_tmp != NULL)
            (void)unlink(b->rej_tmp);
    }
    free(b->rej_tmp);
    b->rej_tmp = NULL;
    return b->rej_failed ? -1 : 0;
}

void
rejects_discard(struct batch *b)
{
    if (b->rejf != NULL)
        (void)fclose(b->rejf);
    b->rejf = NULL;
    if (b->rej_tmp != NULL)
        (void)unlink(b->rej_tmp);
    free(b->rej_tmp);
    b->rej_tmp = NULL;
}
