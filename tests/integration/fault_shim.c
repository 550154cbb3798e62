/* fault_shim.c -- LD_PRELOAD for store_fault_test.sh: a disk that fills up, syncs that fail */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Built by the Makefile as build/tests/integration/fault_shim.so, never
 * linked into a program. Set in the environment of the process to fault:
 *
 *     FAULT_SPACE=N   the files may grow by N more bytes, all told: a write
 *                     that needs more is cut short where the space ends and
 *                     the next one fails, as on a filesystem that fills up;
 *                     statvfs() and fstatvfs() say what is left
 *     FAULT_ERRNO     the failure: ENOSPC (the default) or EDQUOT
 *     FAULT_PATH=S    only regular files whose path holds S (default: all)
 *     FAULT_FSYNC=1   fsync() and fdatasync() of those files fail
 *
 * Writes inside a file's current size take no new space, as on a disk.
 * stdio writes through glibc's internal write(), which no preload sees: a
 * stdio file fails at its fsync() (FAULT_FSYNC).
 */

static _Atomic long long space = -1;   /* bytes left; -1: no limit */
static int fault_errno = ENOSPC;
static const char *fault_path;
static int fault_fsync;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_statvfs)(const char *, struct statvfs *);
static int (*real_fstatvfs)(int, struct statvfs *);

__attribute__((constructor)) static void
shim_init(void)
{
    const char *s;

    /* as POSIX's dlsym() page does it: ISO C has no object-to-function
     * pointer conversion */
#define RESOLVE(fn) (*(void **)&real_##fn = dlsym(RTLD_NEXT, #fn))
    RESOLVE(write);
    RESOLVE(pwrite);
    RESOLVE(writev);
    RESOLVE(ftruncate);
    RESOLVE(fsync);
    RESOLVE(fdatasync);
    RESOLVE(statvfs);
    RESOLVE(fstatvfs);
#undef RESOLVE
    if ((s = getenv("FAULT_SPACE")) != NULL && *s != '\0')
        space = atoll(s);
    if ((s = getenv("FAULT_ERRNO")) != NULL && strcmp(s, "EDQUOT") == 0)
        fault_errno = EDQUOT;
    if ((s = getenv("FAULT_PATH")) != NULL && *s != '\0')
        fault_path = s;
    fault_fsync = (s = getenv("FAULT_FSYNC")) != NULL && strcmp(s, "1") == 0;
}

/* A regular file under FAULT_PATH; its size in *size. */
static int
watched(int fd, off_t *size)
{
    char link[64], path[PATH_MAX];
    struct stat sb;
    ssize_t n;

    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    *size = sb.st_size;
    if (fault_path == NULL)
        return 1;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((n = readlink(link, path, sizeof(path) - 1)) < 0)
        return 0;
    path[n] = '\0';
    return strstr(path, fault_path) != NULL;
}

/* How many of len bytes at off fit: len, fewer (the space ends), or -1
 * with errno when none does. */
static ssize_t
fits(int fd, off_t off, size_t len)
{
    long long left, grow;
    off_t size;

    if (atomic_load(&space) < 0 || len == 0 || !watched(fd, &size) ||
        off + (off_t)len <= size)
        return (ssize_t)len;
    grow = (long long)(off + (off_t)len - (off > size ? off : size));
    for (;;) {
        left = atomic_load(&space);
        if (left <= 0) {
            errno = fault_errno;
            return -1;
        }
        if (atomic_compare_exchange_weak(&space, &left,
            left > grow ? left - grow : 0))
            break;
    }
    return left >= grow ? (ssize_t)len : (ssize_t)len - (ssize_t)(grow - left);
}

/* Where write() on fd writes, or -1 when it is not a file. */
static off_t
position(int fd)
{
    struct stat sb;
    int fl = fcntl(fd, F_GETFL);

    if (fl >= 0 && (fl & O_APPEND) && fstat(fd, &sb) == 0)
        return sb.st_size;
    return lseek(fd, 0, SEEK_CUR);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
    off_t pos = atomic_load(&space) < 0 ? -1 : position(fd);
    ssize_t n = pos < 0 ? (ssize_t)len : fits(fd, pos, len);

    return n < 0 ? -1 : real_write(fd, buf, (size_t)n);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
    ssize_t n = fits(fd, off, len);

    return n < 0 ? -1 : real_pwrite(fd, buf, (size_t)n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    return pwrite(fd, buf, len, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
    off_t pos = atomic_load(&space) < 0 ? -1 : position(fd);
    size_t total = 0, done = 0;
    ssize_t n, w;

    for (int i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    if (pos < 0 || (n = fits(fd, pos, total)) == (ssize_t)total)
        return real_writev(fd, iov, cnt);
    if (n < 0)
        return -1;
    /* cut short: what fits, iov by iov */
    for (int i = 0; i < cnt && done < (size_t)n; i++) {
        size_t part = iov[i].iov_len < (size_t)n - done ? iov[i].iov_len :
            (size_t)n - done;

        if ((w = real_write(fd, iov[i].iov_base, part)) < 0)
            return done > 0 ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    return (ssize_t)done;
}

int
ftruncate(int fd, off_t len)
{
    off_t size;

    if (atomic_load(&space) >= 0 && watched(fd, &size) && len > size &&
        fits(fd, size, (size_t)(len - size)) != (ssize_t)(len - size)) {
        errno = fault_errno;
        return -1;
    }
    return real_ftruncate(fd, len);
}

static int
sync_fails(int fd)
{
    off_t size;

    if (fault_fsync && watched(fd, &size)) {
        errno = fault_errno;
        return 1;
    }
    return 0;
}

int
fsync(int fd)
{
    return sync_fails(fd) ? -1 : real_fsync(fd);
}

int
fdatasync(int fd)
{
    return sync_fails(fd) ? -1 : real_fdatasync(fd);
}

/* What is left, as the filesystem would say. */
static void
left(struct statvfs *v)
{
    long long s = atomic_load(&space);

    if (s >= 0 && v->f_frsize > 0)
        v->f_bavail = v->f_bfree = (fsblkcnt_t)(s / (long long)v->f_frsize);
}

int
statvfs(const char *path, struct statvfs *v)
{
    int rc = real_statvfs(path, v);

    if (rc == 0)
        left(v);
    return rc;
}

int
fstatvfs(int fd, struct statvfs *v)
{
    int rc = real_fstatvfs(fd, v);

    if (rc == 0)
        left(v);
    return rc;
}
