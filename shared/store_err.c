/* store_err.c -- what a failed LMDB call means to the user: map full, disk full, damage */
#include <sys/statvfs.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#include "shared/err.h"
#include "shared/store.h"
#include "shared/store_int.h"

#define DISK_LOW (16 << 20)     /* an EIO with less free is a full disk */

static uint64_t
map_size(struct store *st)
{
    MDB_envinfo info;

    if (mdb_env_info(st->env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

/* Bytes as people read them: "0 bytes", "512 KiB", "6 MiB", "1.5 GiB". */
static const char *
size_text(uint64_t n, char *buf, size_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double d = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(buf, size, "%llu bytes", (unsigned long long)n);
        return buf;
    }
    while (d >= 1024 && u < 3) {
        d /= 1024;
        u++;
    }
    if (d == (double)(uint64_t)d)
        snprintf(buf, size, "%llu %s", (unsigned long long)d, units[u]);
    else
        snprintf(buf, size, "%.1f %s", d, units[u]);
    return buf;
}

/* Bytes free to us on the store's filesystem, or -1 when unknown. */
static int64_t
disk_free(struct store *st)
{
    struct statvfs vfs;

    if (statvfs(st->dir, &vfs) != 0)
        return -1;
    return (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
}

/*
 * The disk filled up: say so, how much is left and what to do. LMDB
 * reports a write that the filesystem cut short as EIO ("short write,
 * filesystem full?" in its sources), so an EIO with almost nothing free is
 * named a full disk too, and another says what it may be.
 */
static int
disk_full(struct store *st, char *err, const char *what, int rc)
{
    char free_[32];
    int64_t avail = disk_free(st);

    if (rc == EIO && (avail < 0 || avail >= DISK_LOW)) {
        snprintf(err, ERR_LEN, "store %s: %s: %s (a write was cut short or "
            "failed: a disk quota reached, or a disk error; %s free on its "
            "filesystem)", st->dir, what, strerror(rc), avail < 0 ?
            "unknown" : size_text((uint64_t)avail, free_, sizeof(free_)));
        return 1;
    }
    if (rc == EDQUOT) {
        snprintf(err, ERR_LEN, "store %s: disk full: %s: %s: raise the "
            "quota or free space", st->dir, what, strerror(rc));
        return 1;
    }
    snprintf(err, ERR_LEN, "store %s: disk full: %s: %s (%s free on its "
        "filesystem): free space there or move the store to a larger disk",
        st->dir, what, rc == EIO ? "a write was cut short" : strerror(rc),
        avail < 0 ? "unknown" : size_text((uint64_t)avail, free_,
        sizeof(free_)));
    return 1;
}

/* Twice n as LAMBDA_MAP_SIZE reads it: "2M", "128G". */
static const char *
map_hint(uint64_t n, char *buf, size_t size)
{
    static const char units[] = "KMGT";
    int u = 0;

    n = (n * 2 + 1023) >> 10;
    while (u < 3 && n >= 1024 && n % 1024 == 0) {
        n >>= 10;
        u++;
    }
    snprintf(buf, size, "%llu%c", (unsigned long long)n, units[u]);
    return buf;
}

void
store_set_err(struct store *st, char *err, const char *what, int rc)
{
    char have[32], want[32];
    /* only an opened environment fills its map: mdb_env_info() reads the
     * map, which a failed mdb_env_open() never made */
    uint64_t ms = rc == MDB_MAP_FULL ? map_size(st) : 0;

    if (rc == MDB_MAP_FULL)
        snprintf(err, ERR_LEN, "store %s: map full: it reached its map size "
            "of %s; set LAMBDA_MAP_SIZE larger for every program on the "
            "store, e.g. LAMBDA_MAP_SIZE=%s", st->dir,
            size_text(ms, have, sizeof(have)),
            map_hint(ms, want, sizeof(want)));
    else if ((rc == ENOSPC || rc == EDQUOT || rc == EIO) &&
        disk_full(st, err, what, rc))
        return;
    else if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
        store_damaged(st, err, "%s: %s: a page is damaged (lambda-batch "
            "--verify says where)", what, mdb_strerror(rc));
    else
        snprintf(err, ERR_LEN, "store %s: %s: %s", st->dir, what,
            mdb_strerror(rc));
}
