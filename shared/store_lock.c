/* store_lock.c -- the run locks: one batch run at a time, speed beside no reset */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/err.h"
#include "shared/mem.h"
#include "shared/store.h"
#include "shared/store_int.h"
#include "shared/store_reset.h"

/*
 * The contracts are in store.h (DIR/batch.run.lock, flock(LOCK_EX |
 * LOCK_NB)) and store_reset.h (DIR/speed.run.lock, shared or exclusive).
 * Each file holds the pid of its last taker for the message a refused one
 * gets. The batch lock lives in st->lockfd, so store_free() releases it.
 */

/*
 * Open DIR/FILE and flock() it with op. Returns the descriptor, -2 when
 * another process holds it (its recorded pid into pid, "unknown" when
 * none), or -1 with err.
 */
static int
lock_take(const char *dir, const char *file, int op, char *pid, char *err)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *path = xmalloc(n);
    ssize_t got;
    int fd, len;

    snprintf(path, n, "%s/%s", dir, file);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(path);
    if (fd < 0) {
        snprintf(err, ERR_LEN, "store %s: %s: %s", dir, file,
            strerror(errno));
        return -1;
    }
    while (flock(fd, op) != 0) {
        if (errno == EINTR && (op & LOCK_NB) == 0)
            continue;
        if (errno == EWOULDBLOCK) {
            got = pread(fd, pid, 31, 0);
            pid[got > 0 ? got : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            if (pid[0] == '\0')
                snprintf(pid, 32, "unknown");
            (void)close(fd);
            return -2;
        }
        snprintf(err, ERR_LEN, "store %s: %s: flock: %s", dir, file,
            strerror(errno));
        (void)close(fd);
        return -1;
    }
    /* the pid is for the messages only: a failure to record it leaves
     * "pid unknown" */
    len = snprintf(pid, 32, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0)
        (void)!pwrite(fd, pid, (size_t)len, 0);
    return fd;
}

int
store_batch_lock(struct store *st, char *err)
{
    char pid[32];
    int fd;

    if (st->lockfd >= 0)
        return 0;
    fd = lock_take(st->dir, STORE_LOCK_FILE, LOCK_EX | LOCK_NB, pid, err);
    if (fd == -2)
        snprintf(err, ERR_LEN, "another lambda-batch is running on %s "
            "(pid %s)", st->dir, pid);
    if (fd < 0)
        return -1;
    st->lockfd = fd;
    return 0;
}

void
store_batch_unlock(struct store *st)
{
    if (st == NULL || st->lockfd < 0)
        return;
    (void)close(st->lockfd);    /* releases the flock */
    st->lockfd = -1;
}

int
store_speed_lock(const char *dir, int exclusive, int wait, char *err)
{
    char pid[32];
    int fd;

    fd = lock_take(dir, STORE_SPEED_LOCK_FILE, (exclusive ? LOCK_EX :
        LOCK_SH) | (wait ? 0 : LOCK_NB), pid, err);
    if (fd == -2 && exclusive)
        snprintf(err, ERR_LEN, "another lambda-speed is running on %s "
            "(pid %s)", dir, pid);
    else if (fd == -2)
        snprintf(err, ERR_LEN, "lambda-speed --reset-to is running on %s "
            "(pid %s)", dir, pid);
    return fd;
}
