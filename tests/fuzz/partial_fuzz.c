/* partial_fuzz.c -- libFuzzer: a repository file (a shard's partial, a batch version) read whole */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "batch/partial.h"
#include "shared/repo.h"
#include "tests/fuzz/fuzz.h"

/*
 * repo_open() checks the crc32 before it decodes a byte, so the input is a
 * file less its trailer: a trailer at its end (what the seeds, real files,
 * have) is dropped, and a right one written after the rest. Every mutation
 * then reaches the decoders: the meta block of each kind, the views table,
 * the rows.
 */

/* batch/main.c's, which the batch library refers to */
volatile sig_atomic_t batch_signal;

#define TRAILER 20      /* "LKV-END\n", length, crc32 */

static void
put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Write data and a valid trailer to path. */
static void
write_file(const char *path, const uint8_t *data, size_t size)
{
    unsigned char *f = malloc(size + TRAILER);
    uLong crc;
    FILE *fp;

    if (size >= TRAILER && memcmp(data + size - TRAILER, "LKV-END\n", 8) == 0)
        size -= TRAILER;
    memcpy(f, data, size);
    memcpy(f + size, "LKV-END\n", 8);
    put_le(f + size + 8, size + TRAILER, 8);
    crc = crc32(crc32(0L, Z_NULL, 0), f, (uInt)(size + 16));
    put_le(f + size + 16, crc, 4);
    if ((fp = fopen(path, "wb")) == NULL ||
        fwrite(f, 1, size + TRAILER, fp) != size + TRAILER || fclose(fp) != 0)
        abort();
    free(f);
}

/* Every row of every view, then the trailer. */
static void
read_rows(struct repo_reader *r, const struct pipeline *p)
{
    struct repo_row row;
    const struct view *v;
    char err[ERR_LEN];
    int rc = 0;

    while (rc == 0 && (v = repo_next_view(r)) != NULL) {
        while ((rc = repo_get_row(r, &row, err)) == 0)
            if (row.gklen > REPO_KEY_MAX || (row.gklen > 0 &&
                row.gkey == NULL))
                abort();
        rc = rc == REPO_END ? 0 : -1;
    }
    if (rc == 0)
        (void)repo_done(r, err);
    (void)p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pipeline *p;
    static char path[64];
    struct repo_reader *r;
    struct partial pt;
    struct buf meta;
    char err[ERR_LEN];

    if (p == NULL) {
        p = fuzz_pipeline("tests/fuzz/pipeline.json");
        snprintf(path, sizeof(path), "/dev/shm/partial_fuzz.%d.lkv",
            (int)getpid());
    }
    write_file(path, data, size);
    /* the kind in the header says which reader (each reads 1 MiB buffers:
     * one open a run keeps the runs fast); any other kind, the version's */
    if (size >= 16 && data[12] == REPO_KIND_PARTIAL) {
        if (partial_open(&pt, path, p, err) == 0) {
            if (pt.ninputs < 0 || pt.npieces > pt.ninputs)
                abort();
            read_rows(pt.r, p);
        }
        partial_reset(&pt);
    } else {
        buf_init(&meta);
        if (repo_open(&r, path, REPO_KIND_VERSION, &meta, err) == 0) {
            if (repo_get_views(r, p, err) == 0)
                read_rows(r, p);
            repo_close(r);
        }
        buf_reset(&meta);
    }
    unlink(path);
    return 0;
}
