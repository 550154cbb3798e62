/* store_lock.c -- the batch lock: one batch run writes a store at a time */
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

/*
 * The contract is in store.h: flock(LOCK_EX | LOCK_NB) on DIR/batch.run.lock,
 * which holds the holder's pid for the message a second run gets. The lock
 * lives in st->lockfd, so store_free() releases it.
 */

int
store_batch_lock(struct store *st, char *err)
{
    size_t n = strlen(st->dir) + sizeof("/" STORE_LOCK_FILE);
    char *path = xmalloc(n), pid[32];
    ssize_t got;
    int fd = -1, len, rc = -1;

    if (st->lockfd >= 0) {
        rc = 0;
        goto done;
    }
    snprintf(path, n, "%s/" STORE_LOCK_FILE, st->dir);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        snprintf(err, ERR_LEN, "store %s: " STORE_LOCK_FILE ": %s", st->dir,
            strerror(errno));
        goto done;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            got = pread(fd, pid, sizeof(pid) - 1, 0);
            pid[got > 0 ? got : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            snprintf(err, ERR_LEN, "another lambda-batch is running on %s "
                "(pid %s)", st->dir, pid[0] != '\0' ? pid : "unknown");
        } else {
            snprintf(err, ERR_LEN, "store %s: " STORE_LOCK_FILE ": flock: %s",
                st->dir, strerror(errno));
        }
        (void)close(fd);
        goto done;
    }
    /* the pid is for the message above only: a failure to record it
     * leaves "pid unknown" */
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0)
        (void)!pwrite(fd, pid, (size_t)len, 0);
    st->lockfd = fd;
    rc = 0;
done:
    free(path);
    return rc;
}

void
store_batch_unlock(struct store *st)
{
    if (st == NULL || st->lockfd < 0)
        return;
    (void)close(st->lockfd);    /* releases the flock */
    st->lockfd = -1;
}
