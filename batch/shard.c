/* shard.c -- --shard I/N: a deterministic share of the inputs, by file and by byte range */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/shard.h"
#include "shared/err.h"
#include "shared/mem.h"

#define PEEK (64u << 10)        /* as reader.c: enough to tell the kind */

/* Start of shard k's bytes: floor(T * k / N) without overflow. */
static uint64_t
bound(uint64_t t, int k, int n)
{
    return t / (uint64_t)n * (uint64_t)k + t % (uint64_t)n * (uint64_t)k /
        (uint64_t)n;
}

/* The shard owning byte x: the last one starting at or before it. */
static int
owner(uint64_t t, int n, uint64_t x)
{
    int lo = 0, hi = n - 1;

    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;

        if (bound(t, mid, n) <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* 1 when path is a JSON Lines file (splittable), 0 when gzip or a JSON
 * array, as reader.c tells them; -1 with err. */
static int
splittable(const char *path, char *err)
{
    unsigned char *b = xmalloc(PEEK);
    ssize_t n;
    size_t i = 0;
    int fd, rc = -1;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, ERR_LEN, "input %s: %s", path, strerror(errno));
        free(b);
        return -1;
    }
    while ((n = pread(fd, b, PEEK, 0)) < 0 && errno == EINTR)
        continue;
    if (n < 0) {
        snprintf(err, ERR_LEN, "input %s: %s", path, strerror(errno));
        goto done;
    }
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        rc = 0;
        goto done;
    }
    if (n >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < (size_t)n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' ||
        b[i] == '\n'))
        i++;
    rc = i < (size_t)n && b[i] == '[' ? 0 : 1;
done:
    (void)close(fd);
    free(b);
    return rc;
}

static void
add_piece(struct batch *b, int file, uint64_t start, uint64_t end)
{
    b->pieces = xrealloc(b->pieces, ((size_t)b->npieces + 1) *
        sizeof(*b->pieces));
    b->pieces[b->npieces].file = file;
    b->pieces[b->npieces].start = start;
    b->pieces[b->npieces].end = end;
    b->pieces[b->npieces].lines = 0;
    b->npieces++;
}

/* The piece of input f (its first byte at base) that shard i reads, if
 * any, for a stream of t bytes of which shard i owns [lo, hi). */
static int
plan_file(struct batch *b, int f, uint64_t base, uint64_t t, uint64_t lo,
    uint64_t hi, char *err)
{
    uint64_t z = b->inputs[f].size, start, end;
    int rc = 0;

    if (z > 0 && !(lo <= base && base + z <= hi) && base < hi &&
        base + z > lo && (rc = splittable(b->inputs[f].path, err)) == 1) {
        /* a JSON Lines file across a boundary of this shard */
        start = lo > base ? lo - base : 0;
        end = hi < base + z ? hi - base : z;
        if (start < end) {
            add_piece(b, f, start, end);
            b->total_bytes += end - start;
        }
        return 0;
    }
    if (rc < 0)
        return -1;
    /* whole, to the owner of its first byte */
    if (owner(t, b->nshards, base) == b->shard) {
        add_piece(b, f, 0, UINT64_MAX);
        b->total_bytes += z;
    }
    return 0;
}

int
shard_plan(struct batch *b, char *err)
{
    uint64_t t = 0, base = 0, lo, hi;

    for (int f = 0; f < b->ninputs; f++)
        t += b->inputs[f].size;
    lo = bound(t, b->shard, b->nshards);
    hi = bound(t, b->shard + 1, b->nshards);
    b->total_bytes = 0;
    for (int f = 0; f < b->ninputs; f++) {
        if (plan_file(b, f, base, t, lo, hi, err) != 0)
            return -1;
        base += b->inputs[f].size;
    }
    return 0;
}

void
shard_free(struct batch *b)
{
    free(b->pieces);
    b->pieces = NULL;
    b->npieces = 0;
}

int
shard_parse(const char *text, int *i, int *n)
{
    char *end;
    long a, c;

    errno = 0;
    if (*text < '0' || *text > '9')
        return -1;
    a = strtol(text, &end, 10);
    if (errno != 0 || *end != '/' || end[1] < '0' || end[1] > '9')
        return -1;
    c = strtol(end + 1, &end, 10);
    if (errno != 0 || *end != '\0' || c < 1 || c > SHARD_MAX || a >= c)
        return -1;
    *i = (int)a;
    *n = (int)c;
    return 0;
}
