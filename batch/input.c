/* input.c -- the master dataset: paths, directories, globs; plain or gzip */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch/input.h"
#include "shared/csv.h"
#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"

#define MAX_DEPTH 64

struct seen {           /* files already listed, by device and inode */
    dev_t  *dev;
    ino_t  *ino;
    size_t  n, cap;
};

static void
add_file(struct batch *b, struct seen *s, const char *path,
    const struct stat *sb)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->dev[i] == sb->st_dev && s->ino[i] == sb->st_ino) {
            log_warnx("input %s: already listed, read once", path);
            return;
        }
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->dev = xrealloc(s->dev, s->cap * sizeof(*s->dev));
        s->ino = xrealloc(s->ino, s->cap * sizeof(*s->ino));
    }
    s->dev[s->n] = sb->st_dev;
    s->ino[s->n++] = sb->st_ino;
    if ((b->ninputs & (b->ninputs - 1)) == 0)
        b->inputs = xrealloc(b->inputs,
            (size_t)(b->ninputs ? b->ninputs * 2 : 1) * sizeof(*b->inputs));
    b->inputs[b->ninputs].path = xstrdup(path);
    b->inputs[b->ninputs].csv = NULL;
    b->inputs[b->ninputs].size = S_ISREG(sb->st_mode) ?
        (uint64_t)sb->st_size : 0;
    b->inputs[b->ninputs].mtime = (int64_t)sb->st_mtim.tv_sec * 1000 +
        sb->st_mtim.tv_nsec / 1000000;
    b->total_bytes += b->inputs[b->ninputs].size;
    b->ninputs++;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(struct batch *b, struct seen *s, const char *path,
    int depth, char *err);

static int
add_dir(struct batch *b, struct seen *s, const char *path, int depth,
    char *err)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (depth > MAX_DEPTH) {
        snprintf(err, ERR_LEN, "input %s: directories nested too deep", path);
        return -1;
    }
    if ((d = opendir(path)) == NULL) {
        snprintf(err, ERR_LEN, "input %s: %s", path, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = xstrdup(de->d_name);
    }
    (void)closedir(d);
    if (n > 0)          /* an empty directory: names is NULL */
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]) + 2;
        char *full = xmalloc(len);

        snprintf(full, len, "%s%s%s", path,
            path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
        if (rc == 0)
            rc = add_path(b, s, full, depth + 1, err);
        free(full);
        free(names[i]);
    }
    free(names);
    return rc;
}

static int
add_path(struct batch *b, struct seen *s, const char *path, int depth,
    char *err)
{
    struct stat sb;

    if (stat(path, &sb) != 0) {
        snprintf(err, ERR_LEN, "input %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(sb.st_mode))
        return add_dir(b, s, path, depth, err);
    if (depth > 0 && !S_ISREG(sb.st_mode))
        return 0;   /* sockets, fifos inside directories: not data */
    add_file(b, s, path, &sb);
    return 0;
}

/* Nonzero when spec is may_miss or below it. */
static int
below(const char *spec, const char *may_miss)
{
    size_t n;

    if (may_miss == NULL)
        return 0;
    n = strlen(may_miss);
    while (n > 1 && may_miss[n - 1] == '/')
        n--;
    return strncmp(spec, may_miss, n) == 0 &&
        (spec[n] == '\0' || spec[n] == '/');
}

int
input_expand(struct batch *b, char *const *specs, int n,
    const char *may_miss, char *err)
{
    struct seen s = {NULL, NULL, 0, 0};
    struct stat sb;
    int rc = 0;

    for (int i = 0; i < n && rc == 0; i++) {
        glob_t g;
        int grc;

        if (below(specs[i], may_miss) && strpbrk(specs[i], "*?[") == NULL &&
            stat(specs[i], &sb) != 0 && errno == ENOENT) {
            log_debug("%s: %s: not created yet", __func__, specs[i]);
            continue;
        }

        if (strpbrk(specs[i], "*?[") == NULL) {
            rc = add_path(b, &s, specs[i], 0, err);
            continue;
        }
        grc = glob(specs[i], 0, NULL, &g);
        if (grc == GLOB_NOMATCH && below(specs[i], may_miss)) {
            log_debug("%s: %s: no archived file yet", __func__, specs[i]);
        } else if (grc == GLOB_NOMATCH) {
            snprintf(err, ERR_LEN, "input %s: no file matches", specs[i]);
            rc = -1;
        } else if (grc != 0) {
            snprintf(err, ERR_LEN, "input %s: glob failed%s", specs[i],
                grc == GLOB_NOSPACE ? ": out of memory" : "");
            rc = -1;
        } else {
            for (size_t j = 0; j < g.gl_pathc && rc == 0; j++)
                rc = add_path(b, &s, g.gl_pathv[j], 0, err);
        }
        if (grc != GLOB_NOMATCH)
            globfree(&g);
    }
    free(s.dev);
    free(s.ino);
    return rc;
}

void
input_free(struct batch *b)
{
    for (int i = 0; i < b->ninputs; i++) {
        free(b->inputs[i].path);
        csv_header_free(b->inputs[i].csv);
    }
    free(b->inputs);
    b->inputs = NULL;
    b->ninputs = 0;
}

int
input_open(struct input_file *f, const char *path, char *err)
{
    unsigned char magic[2];
    ssize_t n;

    f->path = path;
    f->gz = NULL;
    f->pos = 0;
    while ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR &&
        batch_signal == 0)
        continue;
    if (f->fd < 0) {
        snprintf(err, ERR_LEN, "input %s: %s", path, strerror(errno));
        return -1;
    }
    (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    n = pread(f->fd, magic, 2, 0);
    if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        if ((f->gz = gzdopen(f->fd, "rb")) == NULL) {
            snprintf(err, ERR_LEN, "input %s: gzdopen failed", path);
            input_close(f);
            return -1;
        }
        f->fd = -1;     /* the gzFile owns it now */
        (void)gzbuffer(f->gz, 256 * 1024);
    }
    return 0;
}

int
input_read(struct input_file *f, void *p, size_t n, size_t *got, char *err)
{
    char *dst = p;
    size_t done = 0;

    while (done < n) {
        if (f->gz != NULL) {
            size_t want = n - done > INT_MAX / 2 ? INT_MAX / 2 : n - done;
            int r = gzread(f->gz, dst + done, (unsigned)want);
            int zrc;

            if (r < 0) {
                const char *msg = gzerror(f->gz, &zrc);
                snprintf(err, ERR_LEN, "input %s: gzip: %s", f->path,
                    zrc == Z_ERRNO ? strerror(errno) : msg);
                return -1;
            }
            if (r == 0) {
                /* a truncated stream ends without an error from gzread() */
                const char *msg = gzerror(f->gz, &zrc);
                if (zrc != Z_OK) {
                    snprintf(err, ERR_LEN, "input %s: gzip: %s", f->path,
                        msg);
                    return -1;
                }
                break;
            }
            done += (size_t)r;
            f->pos = (uint64_t)gzoffset(f->gz);
        } else {
            ssize_t r = read(f->fd, dst + done, n - done);

            if (r < 0) {
                if (errno == EINTR && batch_signal == 0)
                    continue;
                snprintf(err, ERR_LEN, "input %s: %s", f->path,
                    strerror(errno));
                return -1;
            }
            if (r == 0)
                break;
            done += (size_t)r;
            f->pos += (uint64_t)r;
        }
    }
    *got = done;
    return 0;
}

void
input_close(struct input_file *f)
{
    if (f->gz != NULL)
        (void)gzclose(f->gz);
    if (f->fd >= 0)
        (void)close(f->fd);
    f->gz = NULL;
    f->fd = -1;
}
