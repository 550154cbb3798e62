/* repo.c -- a batch version or a shard's states as one checksummed file (format in repo.h) */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "shared/err.h"
#include "shared/mem.h"
#include "shared/repo.h"

#define MAGIC "\x89LKV\r\n\x1a\n"
#define TRAILER "LKV-END\n"
#define HEADER_LEN 16
#define TRAILER_LEN 20
#define IOBUF (1u << 20)

struct repo_writer {
    char                  *path;    /* final name */
    char                  *tmp;     /* written under this name */
    int                    fd;
    unsigned char         *buf;     /* pending output */
    size_t                 len;
    uint32_t               crc;     /* of every byte flushed */
    uint64_t               flushed;
    int                    failed;
    char                   err[ERR_LEN];
    const struct pipeline *p;       /* set by repo_put_views() */
    int                   *order;   /* view indexes in name order */
    int                    next;    /* order[] index of the next view */
    int                    open;    /* the view order[next] has rows out */
    unsigned char          prev[REPO_KEY_MAX];
    size_t                 prevlen;
    int64_t                prevb;
};

struct repo_reader {
    char                  *path;
    int                    fd;
    uint64_t               size;
    uint64_t               end;     /* where the trailer starts */
    unsigned char         *buf;
    size_t                 pos, len;
    uint64_t               off;     /* file offset of buf[0] */
    const struct pipeline *p;
    int                   *views;   /* per table entry: index in p */
    int                    nviews, next;
    const struct view     *cv;
    unsigned char          key[REPO_KEY_MAX];
    size_t                 klen;
    int64_t                bucket;
    int64_t               *slots;
};

/* ---- small encodings ---------------------------------------------------- */

static void
le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void
le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
        (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t
zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t
unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* LEB128 of v into p (10 bytes at most); returns the bytes used. */
static size_t
varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

void
repo_enc_u(struct buf *b, uint64_t v)
{
    unsigned char tmp[10];

    buf_append(b, tmp, varint(tmp, v));
}

void
repo_enc_s(struct buf *b, int64_t v)
{
    repo_enc_u(b, zigzag(v));
}

void
repo_enc_str(struct buf *b, const void *s, size_t n)
{
    repo_enc_u(b, n);
    buf_append(b, s, n);
}

void
repo_cur_init(struct repo_cur *c, const struct buf *b)
{
    c->p = (const unsigned char *)b->data;
    c->end = c->p + b->len;
}

int
repo_dec_u(struct repo_cur *c, uint64_t *v)
{
    uint64_t x = 0;

    for (int shift = 0; shift < 64 && c->p < c->end; shift += 7) {
        unsigned char ch = *c->p++;

        x |= (uint64_t)(ch & 0x7f) << shift;
        if ((ch & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    c->p = c->end;
    return -1;
}

int
repo_dec_s(struct repo_cur *c, int64_t *v)
{
    uint64_t u;

    if (repo_dec_u(c, &u) != 0)
        return -1;
    *v = unzigzag(u);
    return 0;
}

int
repo_dec_str(struct repo_cur *c, const char **s, size_t *n)
{
    uint64_t len;

    if (repo_dec_u(c, &len) != 0 || len > (uint64_t)(c->end - c->p)) {
        c->p = c->end;
        return -1;
    }
    *s = (const char *)c->p;
    *n = (size_t)len;
    c->p += len;
    return 0;
}

/* View indexes of p in strcmp() order of their names; free with free(). */
static int *
name_order(const struct pipeline *p)
{
    int *order = xcalloc((size_t)p->nviews + 1, sizeof(*order));

    for (int i = 0; i < p->nviews; i++) {
        int j = i;

        while (j > 0 && strcmp(p->views[order[j - 1]].name,
            p->views[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return order;
}

/* ---- writing ------------------------------------------------------------ */

static void w_fail(struct repo_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keep the first failure: later writes are skipped, repo_finish() says it. */
static void
w_fail(struct repo_writer *w, const char *fmt, ...)
{
    va_list ap;

    if (w->failed)
        return;
    w->failed = 1;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
}

static void
w_flush(struct repo_writer *w)
{
    size_t done = 0;

    if (w->failed || w->len == 0) {
        w->len = 0;
        return;
    }
    w->crc = (uint32_t)crc32(w->crc, w->buf, (uInt)w->len);
    while (done < w->len) {
        ssize_t n = write(w->fd, w->buf + done, w->len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            w_fail(w, "%s: write: %s", w->path, strerror(errno));
            break;
        }
        done += (size_t)n;
    }
    w->flushed += w->len;
    w->len = 0;
}

static void
w_bytes(struct repo_writer *w, const void *p, size_t n)
{
    const unsigned char *s = p;

    while (n > 0) {
        size_t room = IOBUF - w->len, k = n < room ? n : room;

        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
        if (w->len == IOBUF)
            w_flush(w);
    }
}

static void
w_u(struct repo_writer *w, uint64_t v)
{
    if (IOBUF - w->len < 10)
        w_flush(w);
    w->len += varint(w->buf + w->len, v);
}

static void
w_s(struct repo_writer *w, int64_t v)
{
    w_u(w, zigzag(v));
}

/* "dir/.name.tmp" for "dir/name". */
static char *
tmp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 8;
    char *tmp = xmalloc(n);

    snprintf(tmp, n, "%.*s.%s.tmp", (int)dlen, path, path + dlen);
    return tmp;
}

int
repo_create(struct repo_writer **out, const char *path, uint32_t kind,
    const struct buf *meta, char *err)
{
    struct repo_writer *w = xcalloc(1, sizeof(*w));
    unsigned char head[HEADER_LEN];

    w->path = xstrdup(path);
    w->tmp = tmp_name(path);
    w->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    while ((w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
        0644)) < 0 && errno == EINTR)
        continue;
    if (w->fd < 0) {
        snprintf(err, ERR_LEN, "%s: %s", w->tmp, strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
        repo_abort(w);
        return -1;
    }
    w->buf = xmalloc(IOBUF);
    memcpy(head, MAGIC, 8);
    le32(head + 8, REPO_FORMAT);
    le32(head + 12, kind);
    w_bytes(w, head, sizeof(head));
    w_u(w, meta->len);
    w_bytes(w, meta->data, meta->len);
    *out = w;
    return 0;
}

void
repo_put_views(struct repo_writer *w, const struct pipeline *p)
{
    w->p = p;
    free(w->order);
    w->order = name_order(p);
    w_u(w, (uint64_t)p->nviews);
    for (int k = 0; k < p->nviews; k++) {
        const struct view *v = &p->views[w->order[k]];
        size_t n = strlen(v->name);

        w_u(w, n);
        w_bytes(w, v->name, n);
        w_u(w, pipeline_view_signature(p, v));
        w_u(w, (uint64_t)v->nslots);
        w_u(w, (uint64_t)v->granularity);
    }
}

void
repo_put_row(struct repo_writer *w, const struct view *v, const void *gkey,
    size_t gklen, int64_t bucket, const int64_t *slots)
{
    size_t shared = 0;

    if (w->failed)
        return;
    if (w->p == NULL || w->next >= w->p->nviews ||
        strcmp(w->p->views[w->order[w->next]].name, v->name) != 0) {
        w_fail(w, "%s: view %s out of order", w->path, v->name);
        return;
    }
    if (gklen > REPO_KEY_MAX || bucket % v->granularity != 0) {
        w_fail(w, "%s: view %s: a group key too long or a bucket not "
            "aligned", w->path, v->name);
        return;
    }
    if (!w->open) {
        w->open = 1;
        w->prevlen = 0;
        w->prevb = 0;
    }
    while (shared < gklen && shared < w->prevlen &&
        ((const unsigned char *)gkey)[shared] == w->prev[shared])
        shared++;
    w_u(w, shared + 1);
    w_u(w, gklen - shared);
    w_bytes(w, (const unsigned char *)gkey + shared, gklen - shared);
    w_s(w, (bucket - w->prevb) / v->granularity);
    for (int i = 0; i < v->nslots; i++)
        w_s(w, slots[i]);
    memcpy(w->prev, gkey, gklen);
    w->prevlen = gklen;
    w->prevb = bucket;
}

void
repo_end_view(struct repo_writer *w)
{
    w_u(w, 0);
    w->open = 0;
    w->next++;
}

uint64_t
repo_written(const struct repo_writer *w)
{
    return w->flushed + w->len;
}

/* fsync the directory holding path, so a rename in it is durable. */
static int
sync_dir(const char *path, char *err)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
        xstrndup(path, (size_t)(slash - path));
    int fd, rc = 0;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        fsync(fd) != 0) {
        snprintf(err, ERR_LEN, "%s: fsync: %s", dir, strerror(errno));
        rc = -1;
    }
    if (fd >= 0)
        (void)close(fd);
    free(dir);
    return rc;
}

int
repo_finish(struct repo_writer *w, char *err)
{
    unsigned char tr[TRAILER_LEN];
    int rc = -1;

    if (w->p == NULL || w->next != w->p->nviews)
        w_fail(w, "%s: unfinished (views missing)", w->path);
    memcpy(tr, TRAILER, 8);
    le64(tr + 8, repo_written(w) + TRAILER_LEN);
    w_bytes(w, tr, 16);
    w_flush(w);
    le32(tr + 16, w->crc);
    w_bytes(w, tr + 16, 4);
    w->crc = 0;
    w_flush(w);
    if (!w->failed && fsync(w->fd) != 0)
        w_fail(w, "%s: fsync: %s", w->path, strerror(errno));
    if (close(w->fd) != 0 && !w->failed)
        w_fail(w, "%s: close: %s", w->path, strerror(errno));
    w->fd = -1;
    if (!w->failed && rename(w->tmp, w->path) != 0)
        w_fail(w, "%s: rename: %s", w->path, strerror(errno));
    if (w->failed) {
        snprintf(err, ERR_LEN, "%s", w->err);
    } else {
        free(w->tmp);
        w->tmp = NULL;      /* nothing to remove */
        rc = sync_dir(w->path, err);
    }
    repo_abort(w);
    return rc;
}

void
repo_abort(struct repo_writer *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0)
        (void)close(w->fd);
    if (w->tmp != NULL)
        (void)unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w->buf);
    free(w->order);
    free(w);
}

/* ---- reading ------------------------------------------------------------ */

static int
read_at(int fd, void *p, size_t n, uint64_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t k = pread(fd, (char *)p + done, n - done,
            (off_t)(off + done));

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

static const char *
kind_name(uint32_t kind)
{
    return kind == REPO_KIND_VERSION ? "a batch version (from a "
        "repository)" : kind == REPO_KIND_PARTIAL ? "a shard's partial "
        "states (lambda-batch --shard)" : "of an unknown kind";
}

/* Header checks common to repo_open() and repo_peek(). */
static int
check_header(int fd, const char *path, uint64_t size, uint32_t kind,
    char *err)
{
    unsigned char head[HEADER_LEN];
    uint32_t fmt, k;

    if (size < 8 || read_at(fd, head, size < HEADER_LEN ? 8 : HEADER_LEN,
        0) != 0 || memcmp(head, MAGIC, 8) != 0) {
        snprintf(err, ERR_LEN, "%s: not a lambdakit batch file (bad magic)",
            path);
        return -1;
    }
    if (size < HEADER_LEN + TRAILER_LEN) {
        snprintf(err, ERR_LEN, "%s: truncated or unfinished (no trailer)",
            path);
        return -1;
    }
    if ((fmt = get_le32(head + 8)) != REPO_FORMAT) {
        snprintf(err, ERR_LEN, "%s: format %u, this build reads format %d",
            path, fmt, REPO_FORMAT);
        return -1;
    }
    if ((k = get_le32(head + 12)) != kind) {
        snprintf(err, ERR_LEN, "%s: %s, not %s", path, kind_name(k),
            kind_name(kind));
        return -1;
    }
    return 0;
}

/* Trailer and checksum: the whole file is read once. */
static int
check_whole(int fd, const char *path, uint64_t size, char *err)
{
    unsigned char tr[TRAILER_LEN], *b = NULL;
    uint64_t len, off = 0, data = size - 4;
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0), stored;
    int rc = -1;

    if (read_at(fd, tr, TRAILER_LEN, size - TRAILER_LEN) != 0 ||
        memcmp(tr, TRAILER, 8) != 0) {
        snprintf(err, ERR_LEN, "%s: truncated or unfinished (no trailer)",
            path);
        return -1;
    }
    if ((len = get_le64(tr + 8)) != size) {
        snprintf(err, ERR_LEN, "%s: truncated or extended (%llu bytes, the "
            "trailer says %llu)", path, (unsigned long long)size,
            (unsigned long long)len);
        return -1;
    }
    stored = get_le32(tr + 16);
    b = xmalloc(IOBUF);
    while (off < data) {
        size_t n = data - off < IOBUF ? (size_t)(data - off) : IOBUF;

        if (read_at(fd, b, n, off) != 0) {
            snprintf(err, ERR_LEN, "%s: read: %s", path,
                errno != 0 ? strerror(errno) : "short read");
            goto done;
        }
        crc = (uint32_t)crc32(crc, b, (uInt)n);
        off += n;
    }
    if (crc != stored) {
        snprintf(err, ERR_LEN, "%s: checksum mismatch (stored %08x, "
            "computed %08x): the file is corrupt", path, stored, crc);
        goto done;
    }
    rc = 0;
done:
    free(b);
    return rc;
}

static int
open_file(const char *path, int *fd, uint64_t *size, char *err)
{
    struct stat sb;

    while ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR)
        continue;
    if (*fd < 0) {
        snprintf(err, ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    errno = 0;
    if (fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, ERR_LEN, "%s: %s", path, errno != 0 ?
            strerror(errno) : "not a regular file");
        (void)close(*fd);
        *fd = -1;
        return -1;
    }
    *size = (uint64_t)sb.st_size;
    return 0;
}

static int
corrupt(struct repo_reader *r, char *err, const char *what)
{
    snprintf(err, ERR_LEN, "%s: corrupt at byte %llu: %s", r->path,
        (unsigned long long)(r->off + r->pos), what);
    return -1;
}

/* Refill the buffer from the file; 0, or -1 at the trailer. */
static int
r_fill(struct repo_reader *r)
{
    uint64_t at = r->off + r->len;
    size_t n;

    if (at >= r->end)
        return -1;
    n = r->end - at < IOBUF ? (size_t)(r->end - at) : IOBUF;
    if (read_at(r->fd, r->buf, n, at) != 0)
        return -1;
    r->off = at;
    r->pos = 0;
    r->len = n;
    return 0;
}

static int
r_byte(struct repo_reader *r, unsigned char *c)
{
    if (r->pos == r->len && r_fill(r) != 0)
        return -1;
    *c = r->buf[r->pos++];
    return 0;
}

static int
r_u(struct repo_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    unsigned char c;

    for (int shift = 0; shift < 64; shift += 7) {
        if (r_byte(r, &c) != 0)
            return -1;
        x |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static int
r_bytes(struct repo_reader *r, void *p, size_t n)
{
    unsigned char *d = p;

    while (n > 0) {
        size_t k;

        if (r->pos == r->len && r_fill(r) != 0)
            return -1;
        k = r->len - r->pos < n ? r->len - r->pos : n;
        memcpy(d, r->buf + r->pos, k);
        r->pos += k;
        d += k;
        n -= k;
    }
    return 0;
}

/* The meta block into meta. */
static int
r_meta(struct repo_reader *r, struct buf *meta, char *err)
{
    uint64_t n;

    buf_clear(meta);
    if (r_u(r, &n) != 0 || n > r->end)
        return corrupt(r, err, "meta block");
    buf_reserve(meta, (size_t)n);
    if (r_bytes(r, meta->data, (size_t)n) != 0)
        return corrupt(r, err, "meta block");
    meta->len = (size_t)n;
    meta->data[n] = '\0';      /* buf_reserve() left room for it */
    return 0;
}

static struct repo_reader *
reader_new(const char *path, int fd, uint64_t size)
{
    struct repo_reader *r = xcalloc(1, sizeof(*r));

    r->path = xstrdup(path);
    r->fd = fd;
    r->size = size;
    r->end = size - TRAILER_LEN;
    r->buf = xmalloc(IOBUF);
    r->off = HEADER_LEN;
    return r;
}

int
repo_open(struct repo_reader **out, const char *path, uint32_t kind,
    struct buf *meta, char *err)
{
    struct repo_reader *r;
    uint64_t size;
    int fd;

    if (open_file(path, &fd, &size, err) != 0)
        return -1;
    if (check_header(fd, path, size, kind, err) != 0 ||
        check_whole(fd, path, size, err) != 0) {
        (void)close(fd);
        return -1;
    }
    r = reader_new(path, fd, size);
    if (r_meta(r, meta, err) != 0) {
        repo_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int
repo_peek(const char *path, uint32_t kind, struct buf *meta, char *err)
{
    struct repo_reader *r;
    uint64_t size;
    int fd, rc;

    if (open_file(path, &fd, &size, err) != 0)
        return -1;
    if (check_header(fd, path, size, kind, err) != 0) {
        (void)close(fd);
        return -1;
    }
    r = reader_new(path, fd, size);
    rc = r_meta(r, meta, err);
    repo_close(r);
    return rc;
}

int
repo_get_views(struct repo_reader *r, const struct pipeline *p, char *err)
{
    char name[256];
    uint64_t n, len, sig, nslots, gran;
    int *order = name_order(p), rc = -1;

    if (r_u(r, &n) != 0 || n > 100000) {
        corrupt(r, err, "views table");
        goto done;
    }
    r->p = p;
    r->nviews = (int)n;
    r->views = xcalloc(n + 1, sizeof(*r->views));
    for (int k = 0; k < r->nviews; k++) {
        const struct view *v;

        if (r_u(r, &len) != 0 || len >= sizeof(name) ||
            r_bytes(r, name, (size_t)len) != 0 || r_u(r, &sig) != 0 ||
            r_u(r, &nslots) != 0 || r_u(r, &gran) != 0) {
            corrupt(r, err, "views table");
            goto done;
        }
        name[len] = '\0';
        if ((v = pipeline_view(p, name)) == NULL) {
            snprintf(err, ERR_LEN, "%s: another pipeline's states: view %.100s "
                "is not in %s", r->path, name, p->path);
            goto done;
        }
        if (sig != pipeline_view_signature(p, v) ||
            nslots != (uint64_t)v->nslots ||
            gran != (uint64_t)v->granularity) {
            snprintf(err, ERR_LEN, "%s: another pipeline's states: view %.100s "
                "is defined differently in %s", r->path, name, p->path);
            goto done;
        }
        if (k >= p->nviews || order[k] != (int)(v - p->views)) {
            if (k < p->nviews && strcmp(p->views[order[k]].name, name) < 0)
                snprintf(err, ERR_LEN, "%s: another pipeline's states: "
                    "view %s of %s is missing", r->path,
                    p->views[order[k]].name, p->path);
            else
                snprintf(err, ERR_LEN, "%s: views out of order at %.100s",
                    r->path, name);
            goto done;
        }
        r->views[k] = order[k];
    }
    if (r->nviews != p->nviews) {
        snprintf(err, ERR_LEN, "%s: another pipeline's states: view %s of "
            "%s is missing", r->path, p->views[order[r->nviews]].name,
            p->path);
        goto done;
    }
    rc = 0;
done:
    free(order);
    return rc;
}

const struct view *
repo_next_view(struct repo_reader *r)
{
    if (r->p == NULL || r->next >= r->nviews)
        return NULL;
    r->cv = &r->p->views[r->views[r->next++]];
    r->klen = 0;
    r->bucket = 0;
    free(r->slots);
    r->slots = xcalloc((size_t)r->cv->nslots + 1, sizeof(*r->slots));
    return r->cv;
}

int
repo_get_row(struct repo_reader *r, struct repo_row *row, char *err)
{
    const struct view *v = r->cv;
    uint64_t shared, n, u;
    int64_t step;

    if (v == NULL)
        return corrupt(r, err, "rows without a view");
    if (r_u(r, &shared) != 0)
        return corrupt(r, err, "row");
    if (shared == 0) {
        r->cv = NULL;
        return REPO_END;
    }
    shared--;
    if (shared > r->klen || r_u(r, &n) != 0 ||
        n > REPO_KEY_MAX - shared ||
        r_bytes(r, r->key + shared, (size_t)n) != 0 || r_u(r, &u) != 0)
        return corrupt(r, err, "row key");
    r->klen = (size_t)(shared + n);
    if (__builtin_mul_overflow(unzigzag(u), v->granularity, &step) ||
        __builtin_add_overflow(r->bucket, step, &r->bucket))
        return corrupt(r, err, "row bucket out of range");
    for (int i = 0; i < v->nslots; i++) {
        if (r_u(r, &u) != 0)
            return corrupt(r, err, "row slots");
        r->slots[i] = unzigzag(u);
    }
    row->gkey = r->key;
    row->gklen = r->klen;
    row->bucket = r->bucket;
    row->slots = r->slots;
    return 0;
}

int
repo_done(struct repo_reader *r, char *err)
{
    if (r->next != r->nviews || r->cv != NULL || r->off + r->pos != r->end)
        return corrupt(r, err, "data after the last view");
    return 0;
}

uint64_t
repo_size(const struct repo_reader *r)
{
    return r->size;
}

void
repo_close(struct repo_reader *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        (void)close(r->fd);
    free(r->path);
    free(r->buf);
    free(r->views);
    free(r->slots);
    free(r);
}

/* ---- batch versions ------------------------------------------------------ */

void
repo_version_encode(struct buf *b, const struct repo_version *v)
{
    repo_enc_s(b, v->version);
    repo_enc_s(b, v->cutoff);
    repo_enc_s(b, v->published_at);
    repo_enc_s(b, v->events);
    repo_enc_str(b, v->pipeline, strlen(v->pipeline));
}

int
repo_version_decode(const struct buf *b, struct repo_version *v)
{
    struct repo_cur c;
    const char *s;
    size_t n;

    repo_cur_init(&c, b);
    if (repo_dec_s(&c, &v->version) != 0 || repo_dec_s(&c, &v->cutoff) != 0 ||
        repo_dec_s(&c, &v->published_at) != 0 ||
        repo_dec_s(&c, &v->events) != 0 || repo_dec_str(&c, &s, &n) != 0 ||
        n >= sizeof(v->pipeline))
        return -1;
    memcpy(v->pipeline, s, n);
    v->pipeline[n] = '\0';
    return 0;
}
