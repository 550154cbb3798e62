/* archive.c -- per-partition JSON Lines segments, appended inside the commit transaction */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/buf.h"
#include "shared/err.h"
#include "shared/fs.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/segment.h"
#include "speed/archive.h"

struct apart {
    struct buf      lines;      /* open micro-batch, newline-terminated */
    int64_t         first, last;
    int64_t         tmin;       /* oldest event time among those lines */
    int64_t         tmax;       /* newest */
    int             owned;      /* assigned to us */
    int             seal;       /* seal at the next commit */
    int             open;       /* a segment is open (as last seen) */
    int64_t         seg_first;  /* its first offset */
    int64_t         seg_last;
    int64_t         opened_ms;  /* wall clock */
    int             sealing;    /* rename after this commit */
};

struct archive {
    char           *dir;        /* DIR/TOPIC */
    char           *topic;
    struct apart   *parts;
    int             nparts;
    struct buf      path, tmp;
};

/* fs_mkdir_p(), its error said as the archive's. */
static int
make_folder(const char *dir, char *err)
{
    char e[ERR_LEN];

    if (fs_mkdir_p(dir, 0755, e) == 0)
        return 0;
    snprintf(err, ERR_LEN, "archive %s: %.200s", dir, e);
    return -1;
}

int
archive_open(struct archive **out, const char *dir, const char *topic,
    char *err)
{
    struct archive *a = xcalloc(1, sizeof(*a));

    buf_init(&a->path);
    buf_init(&a->tmp);
    buf_printf(&a->path, "%s/%s", dir, topic);
    a->dir = buf_steal(&a->path);
    a->topic = xstrdup(topic);
    if (make_folder(a->dir, err) != 0) {
        archive_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

void
archive_free(struct archive *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < a->nparts; i++)
        buf_reset(&a->parts[i].lines);
    free(a->parts);
    free(a->dir);
    free(a->topic);
    buf_reset(&a->path);
    buf_reset(&a->tmp);
    free(a);
}

static struct apart *
part_of(struct archive *a, int32_t part)
{
    if (part >= a->nparts) {
        int n = part + 1;

        a->parts = xrealloc(a->parts, sizeof(*a->parts) * (size_t)n);
        memset(a->parts + a->nparts, 0,
            sizeof(*a->parts) * (size_t)(n - a->nparts));
        for (int i = a->nparts; i < n; i++)
            buf_init(&a->parts[i].lines);
        a->nparts = n;
    }
    return &a->parts[part];
}

static const char *
meta_name(struct archive *a, int32_t part)
{
    buf_clear(&a->tmp);
    segment_key(&a->tmp, a->topic, part);
    return a->tmp.data;
}

/* Path of part's folder, or of a file in it when name is set. */
static const char *
path_of(struct archive *a, int32_t part, const char *name)
{
    buf_clear(&a->path);
    buf_printf(&a->path, "%s/p%" PRId32, a->dir, part);
    if (name != NULL)
        buf_printf(&a->path, "/%s", name);
    return a->path.data;
}

/* Returns 0 and *s, STORE_NOTFOUND, or -1 with err. */
static int
seg_get(struct archive *a, struct store_txn *t, int32_t part,
    struct segment *s, char *err)
{
    const void *val;
    size_t len;
    int rc;

    if ((rc = store_meta_get(t, meta_name(a, part), &val, &len, err)) != 0)
        return rc;
    if (len == 0)
        return STORE_NOTFOUND;
    if (segment_parse(s, val, len) != 0) {
        snprintf(err, ERR_LEN, "store meta %s: unreadable archive state",
            meta_name(a, part));
        return -1;
    }
    return 0;
}

static int
seg_put(struct archive *a, struct store_txn *t, int32_t part,
    const struct segment *s, char *err)
{
    char text[SEGMENT_RECORD_MAX];
    size_t n = segment_format(s, text);

    return store_meta_put(t, meta_name(a, part), text, n, err);
}

/* The segment's newest event time takes in tmax (segment.h). */
static int
tmax_put(struct archive *a, struct store_txn *t, int32_t part,
    int64_t first, int64_t tmax, char *err)
{
    int64_t had;
    int rc;

    segment_tmax_key(&a->tmp, a->topic, part, first);
    if ((rc = store_meta_get_i64(t, a->tmp.data, &had, err)) < 0)
        return -1;
    if (rc == 0 && had >= tmax)
        return 0;
    return store_meta_put_i64(t, a->tmp.data, tmax, err);
}

int
archive_assign(struct archive *a, struct store_txn *t, int32_t part,
    char *err)
{
    struct apart *ap = part_of(a, part);
    struct segment s;
    int rc;

    ap->open = 0;
    ap->owned = 1;
    if (make_folder(path_of(a, part, NULL), err) != 0)
        return -1;
    if ((rc = seg_get(a, t, part, &s, err)) < 0)
        return -1;
    if (rc == 0) {
        ap->open = 1;
        ap->seg_first = s.first;
        ap->seg_last = s.last;
        ap->opened_ms = s.opened;
    }
    return 0;
}

void
archive_release(struct archive *a, int32_t part)
{
    struct apart *ap = part_of(a, part);

    ap->owned = 0;
    ap->open = 0;
    ap->seal = 0;
    buf_clear(&ap->lines);
}

void
archive_add(struct archive *a, int32_t part, int64_t offset, int64_t time,
    const char *line, size_t len)
{
    struct apart *ap = part_of(a, part);

    if (ap->lines.len == 0) {
        ap->first = offset;
        ap->tmin = time;
        ap->tmax = time;
    } else if (time < ap->tmin) {
        ap->tmin = time;
    }
    if (time > ap->tmax)
        ap->tmax = time;
    ap->last = offset;
    buf_append(&ap->lines, line, len);
    buf_putc(&ap->lines, '\n');
}

void
archive_discard(struct archive *a)
{
    for (int i = 0; i < a->nparts; i++) {
        buf_clear(&a->parts[i].lines);
        a->parts[i].sealing = 0;
    }
}

void
archive_seal(struct archive *a, int32_t part)
{
    if (part >= 0) {
        part_of(a, part)->seal = 1;
        return;
    }
    for (int i = 0; i < a->nparts; i++)
        a->parts[i].seal = a->parts[i].owned;
}

int
archive_due(const struct archive *a, int64_t now_ms)
{
    for (int i = 0; i < a->nparts; i++)
        if (a->parts[i].owned && a->parts[i].open &&
            now_ms - a->parts[i].opened_ms >= ARCHIVE_SEAL_MS)
            return 1;
    return 0;
}

int
archive_pending(const struct archive *a)
{
    for (int i = 0; i < a->nparts; i++)
        if (a->parts[i].lines.len > 0 || (a->parts[i].seal &&
            a->parts[i].open))
            return 1;
    return 0;
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd == -1)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Remove open segments the store does not know: a new segment whose first
 * commit never happened. */
static void
remove_orphans(struct archive *a, int32_t part)
{
    DIR *d = opendir(path_of(a, part, NULL));
    struct dirent *de;
    char name[300];
    size_t n;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        n = strlen(de->d_name);
        if (de->d_name[0] != '.' || n < sizeof(SEGMENT_OPEN_SUFFIX) ||
            strcmp(de->d_name + n - (sizeof(SEGMENT_OPEN_SUFFIX) - 1),
            SEGMENT_OPEN_SUFFIX) != 0)
            continue;
        snprintf(name, sizeof(name), "%s", de->d_name);
        if (unlink(path_of(a, part, name)) == 0)
            log_info("archive: removed uncommitted segment %s", a->path.data);
    }
    closedir(d);
}

static int
append(struct archive *a, int32_t part, struct apart *ap, struct segment *s,
    int create, char *err)
{
    char name[SEGMENT_NAME_MAX];
    const char *what = "open";
    const char *path;
    size_t off = 0;
    int fd;

    path = path_of(a, part, segment_open_name(name, s->first));
    if ((fd = open(path, O_WRONLY | O_CLOEXEC | (create ? O_CREAT : 0),
        0644)) == -1)
        goto fail;
    /* cut off lines of a micro-batch that never committed */
    what = "truncate";
    if (ftruncate(fd, s->len) != 0)
        goto fail;
    what = "write";
    while (off < ap->lines.len) {
        ssize_t w = pwrite(fd, ap->lines.data + off, ap->lines.len - off,
            s->len + (off_t)off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        off += (size_t)w;
    }
    what = "fsync";
    if (fdatasync(fd) != 0)     /* covers the new size too */
        goto fail;
    what = "close";
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    what = "fsync folder";
    if (create && fsync_dir(path_of(a, part, NULL)) != 0)
        goto fail;
    if (ap->lines.len > 0) {
        s->len += (int64_t)ap->lines.len;
        s->last = ap->last;
    }
    return 0;
fail:
    snprintf(err, ERR_LEN, "archive %s: %s: %s", a->path.data, what,
        strerror(errno));
    if (fd != -1)
        close(fd);
    return -1;
}

int
archive_write(struct archive *a, struct store_txn *t, int64_t now_ms,
    char *err)
{
    char name[SEGMENT_NAME_MAX];
    struct stat sb;
    struct segment s;
    int rc, create;

    for (int32_t i = 0; i < a->nparts; i++) {
        struct apart *ap = &a->parts[i];

        ap->sealing = 0;
        if (ap->lines.len == 0 && !(ap->owned && ap->open && (ap->seal ||
            now_ms - ap->opened_ms >= ARCHIVE_SEAL_MS)))
            continue;
        if ((rc = seg_get(a, t, i, &s, err)) < 0)
            return -1;
        /* a segment whose file is gone was sealed after its last commit */
        if (rc == 0 && stat(path_of(a, i, segment_open_name(name, s.first)),
            &sb) != 0) {
            if (errno != ENOENT) {
                snprintf(err, ERR_LEN, "archive %s: %s", a->path.data,
                    strerror(errno));
                return -1;
            }
            rc = STORE_NOTFOUND;
        }
        create = rc == STORE_NOTFOUND;
        if (create && ap->lines.len > 0) {
            remove_orphans(a, i);
            s.first = ap->first;
            s.len = 0;
            s.last = -1;
            s.opened = now_ms;
            s.tmin = ap->tmin;
        }
        if (ap->lines.len > 0 && ap->tmin < s.tmin)
            s.tmin = ap->tmin;
        /* also with no new lines: a segment is sealed at its committed
         * length, never with a dead micro-batch's tail */
        if ((!create || ap->lines.len > 0) &&
            (append(a, i, ap, &s, create, err) != 0 ||
            (ap->lines.len > 0 && (seg_put(a, t, i, &s, err) != 0 ||
            tmax_put(a, t, i, s.first, ap->tmax, err) != 0))))
            return -1;
        if (ap->lines.len > 0)
            create = 0;
        ap->open = !create;
        if (ap->open) {
            ap->seg_first = s.first;
            ap->seg_last = s.last;
            ap->opened_ms = s.opened;
            ap->sealing = ap->seal || s.len >= ARCHIVE_SEAL_BYTES ||
                now_ms - s.opened >= ARCHIVE_SEAL_MS;
        }
    }
    return 0;
}

void
archive_committed(struct archive *a)
{
    char from[SEGMENT_NAME_MAX], to[SEGMENT_NAME_MAX];

    for (int32_t i = 0; i < a->nparts; i++) {
        struct apart *ap = &a->parts[i];

        buf_clear(&ap->lines);
        if (ap->sealing || (ap->seal && !ap->open))
            ap->seal = 0;
        if (!ap->sealing)
            continue;
        ap->sealing = 0;
        segment_open_name(from, ap->seg_first);
        segment_sealed_name(to, ap->seg_first, ap->seg_last);
        buf_clear(&a->tmp);
        buf_puts(&a->tmp, path_of(a, i, from));
        if (rename(a->tmp.data, path_of(a, i, to)) != 0 ||
            fsync_dir(path_of(a, i, NULL)) != 0) {
            log_warn("archive: seal %s", a->tmp.data);
            continue;
        }
        ap->open = 0;
        log_debug("%s: sealed %s", __func__, a->path.data);
    }
}
