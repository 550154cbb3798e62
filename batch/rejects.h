/* rejects.h -- the rejects file: one JSON object per rejected record */
#ifndef BATCH_REJECTS_H
#define BATCH_REJECTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shared/err.h"

struct batch;
struct chunk;

/*
 * Each line of the rejects file (JSON Lines) is
 *     {"source":"FILE","line":N,"reason":"...","message":"...","raw":"..."}
 * source is the input path as listed, line the 1-based line where the record
 * starts, reason/message/raw as event_reject_fields() writes them (raw cut
 * at EVENT_RAW_MAX bytes, valid UTF-8). A run writes FILE.tmp and renames it
 * over FILE at rejects_commit(), so FILE always holds one whole run's rejects.
 * A failed write fails the run: rejects are never lost silently.
 * The functions work on b->rejects, the run's configuration (mode, rejects
 * path, inputs) and its failure record.
 */

/* The rejects file's state, embedded in struct batch; zeroed memory is a
 * closed one. rejects_open() allocates, rejects_discard() frees. */
struct rejects {
    const char      *path;          /* b->rejects_path (borrowed), or NULL */
    FILE            *f;             /* the file being written, or NULL */
    char            *tmp;           /* its temporary name, renamed at commit */
    int              failed;        /* a write failed: the run must fail */
    char             err[ERR_LEN];
    char            *mem;           /* --shard: the rejects, in memory */
    size_t           memlen;
};

/* Create the directory of b->rejects_path and open the temporary file (the
 * file itself when direct != 0), or for a --shard the memory stream. No-op
 * when b->rejects_path is NULL. Returns 0, or -1 with err. What it allocates
 * is freed by rejects_discard(), also after a failure. */
int rejects_open(struct batch *b, int direct, char *err);

/* With b->mu held: append the rejects noted in c, adding base to relative
 * line numbers. A write error is kept for rejects_commit(). */
void rejects_chunk(struct batch *b, struct chunk *c, int64_t base);

/* Append one reject of input path at line; text is its "reason", "message"
 * and "raw" members (event_reject_fields()). For --merge. */
void rejects_write(struct batch *b, const char *path, int64_t line,
    const char *text, size_t len);

/*
 * A --shard keeps its rejects in memory (rejects_open()), one per line as
 *     FILE LINE TEXT
 * FILE the input's index, LINE within the piece read (the merge adds the
 * lines of the earlier pieces), TEXT as for rejects_write(). Close the
 * stream and set *mem and *len to them (*mem NULL when there are none),
 * owned by b->rejects and valid until rejects_discard(). Returns 0, or -1
 * with err.
 */
int rejects_take(struct batch *b, const char **mem, size_t *len, char *err);

/* Flush, fsync and rename into place. Returns 0, or -1 with err (also for an
 * earlier write error). */
int rejects_commit(struct batch *b, char *err);

/* Close and remove the temporary file (failed run), and free what
 * rejects_open() allocated; b->rejects is closed (zeroed) again. */
void rejects_discard(struct batch *b);

#endif
