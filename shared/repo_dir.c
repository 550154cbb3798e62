/* repo_dir.c -- the repository directory: version file names, LATEST, the versions kept (repo.h) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/err.h"
#include "shared/fs.h"
#include "shared/mem.h"
#include "shared/repo.h"

#define DIGITS 10

void
repo_version_name(int64_t version, char *buf, size_t size)
{
    snprintf(buf, size, "v%0*lld.lkv", DIGITS, (long long)version);
}

int
repo_version_parse(const char *name, int64_t *version)
{
    int64_t v = 0;
    int i;

    if (name[0] != 'v')
        return -1;
    for (i = 1; i <= DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    if (strcmp(name + i, ".lkv") != 0 || v == 0)
        return -1;
    *version = v;
    return 0;
}

/* "dir/name" into a new string; free with free(). */
static char *
join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = xmalloc(n);

    snprintf(s, n, "%s/%s", dir, name);
    return s;
}

int
repo_latest(const char *dir, char *name, size_t size, char *err)
{
    char *path = join(dir, REPO_LATEST), line[REPO_NAME_MAX + 2];
    struct stat sb;
    int64_t v;
    size_t n;
    FILE *f;
    int rc = -1;

    if ((f = fopen(path, "r")) == NULL) {
        if (errno == ENOENT && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
            rc = REPO_NONE;
        else if (errno == ENOENT && stat(dir, &sb) != 0)
            snprintf(err, ERR_LEN, "repository %s: %s", dir,
                strerror(errno));
        else
            snprintf(err, ERR_LEN, "%s: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    n = fread(line, 1, sizeof(line) - 1, f);
    line[n] = '\0';
    (void)fclose(f);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (repo_version_parse(line, &v) != 0 || n >= size) {
        snprintf(err, ERR_LEN, "%s: does not name a version file "
            "(\"%.*s\")", path, 40, line);
    } else {
        memcpy(name, line, n + 1);
        rc = 0;
    }
    free(path);
    return rc;
}

static int
by_version_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? 1 : x > y ? -1 : 0;
}

/* Delete what is older than the keep newest versions up to newest. */
static void
prune(const char *dir, int64_t newest, int keep)
{
    DIR *d;
    struct dirent *de;
    int64_t *vs = NULL, v, oldest_kept;
    size_t n = 0, cap = 0, kept = 0;
    char name[REPO_NAME_MAX];

    if ((d = opendir(dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (repo_version_parse(de->d_name, &v) != 0 || v > newest)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            vs = xrealloc(vs, cap * sizeof(*vs));
        }
        vs[n++] = v;
    }
    if (n > 0)
        qsort(vs, n, sizeof(*vs), by_version_desc);
    oldest_kept = newest;
    for (size_t i = 0; i < n; i++) {
        if (kept < (size_t)keep) {
            kept++;
            oldest_kept = vs[i];
            continue;
        }
        repo_version_name(vs[i], name, sizeof(name));
        (void)unlinkat(dirfd(d), name, 0);
    }
    rewinddir(d);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        /* ".v0000000007.lkv.tmp": a writer killed before its rename */
        if (de->d_name[0] != '.' || len < 5 || len >= sizeof(name) ||
            strcmp(de->d_name + len - 4, ".tmp") != 0)
            continue;
        memcpy(name, de->d_name + 1, len - 5);
        name[len - 5] = '\0';
        if (repo_version_parse(name, &v) == 0 && v < oldest_kept)
            (void)unlinkat(dirfd(d), de->d_name, 0);
    }
    (void)closedir(d);
    free(vs);
}

int
repo_set_latest(const char *dir, const char *name, int keep, char *err)
{
    char *tmp = join(dir, "." REPO_LATEST ".tmp");
    char *path = join(dir, REPO_LATEST);
    int64_t v;
    int fd = -1, dfd = -1, rc = -1;
    size_t n = strlen(name);

    if (repo_version_parse(name, &v) != 0) {
        snprintf(err, ERR_LEN, "repository %s: %s is not a version file's "
            "name", dir, name);
        goto done;
    }
    while ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
        0644)) < 0 && errno == EINTR)
        continue;
    if (fd < 0 || write(fd, name, n) != (ssize_t)n ||
        write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        snprintf(err, ERR_LEN, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, ERR_LEN, "%s: close: %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, ERR_LEN, "%s: rename: %s", path, strerror(errno));
        goto done;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        fsync(dfd) != 0) {
        snprintf(err, ERR_LEN, "repository %s: fsync: %s", dir,
            strerror(errno));
        goto done;
    }
    prune(dir, v, keep);
    rc = 0;
done:
    if (fd >= 0) {
        (void)close(fd);
        (void)unlink(tmp);
    }
    if (dfd >= 0)
        (void)close(dfd);
    free(tmp);
    free(path);
    return rc;
}

int
repo_mkdir(const char *dir, char *err)
{
    char why[ERR_LEN];

    if (fs_mkdir_p(dir, 0777, why) != 0) {
        snprintf(err, ERR_LEN, "repository %.80s: %.150s", dir, why);
        return -1;
    }
    return 0;
}
