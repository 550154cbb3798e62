/* input.h -- the master dataset: paths, directories, globs; plain or gzip */
#ifndef BATCH_INPUT_H
#define BATCH_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "batch/batch.h"

/*
 * Expand the n input specs into b->inputs, in order: a glob pattern
 * (containing * ? or [) is expanded with glob(3), sorted, and must match;
 * a directory contributes every regular file below it, recursively, sorted
 * by name, skipping names that start with '.'; anything else must exist.
 * A file reached twice is read once. Sets b->total_bytes. may_miss (or
 * NULL) names a directory that may not exist yet, speed's archive: specs at
 * or below it that match nothing are skipped.
 * Returns 0, or -1 with err naming the missing input.
 */
int input_expand(struct batch *b, char *const *specs, int n,
    const char *may_miss, char *err);

/* Free b->inputs. */
void input_free(struct batch *b);

/* An open input: gzip (detected by its magic bytes, whatever the name) is
 * decompressed with zlib, anything else read as is. */
struct input_file {
    const char *path;
    int         fd;
    gzFile      gz;
    uint64_t    pos;        /* bytes consumed from the file on disk */
};

/* Open path. Returns 0, or -1 with err. */
int input_open(struct input_file *f, const char *path, char *err);

/* Read up to n bytes (fewer only at the end of the file) into p; *got is 0
 * at the end. Returns 0, or -1 with err (read error, corrupt gzip). */
int input_read(struct input_file *f, void *p, size_t n, size_t *got,
    char *err);

/* Close f. Safe on a file that failed to open. */
void input_close(struct input_file *f);

#endif
