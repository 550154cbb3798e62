/* repo.h -- a batch version or a shard's states as one checksummed file; the repository directory */
#ifndef SHARED_REPO_H
#define SHARED_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"
#include "shared/pipeline.h"

/*
 * The file format (REPO_FORMAT 1), shared by the versions lambda-batch
 * writes to batch.repository (REPO_KIND_VERSION) and the partial states of
 * lambda-batch --shard (REPO_KIND_PARTIAL, whose meta block batch/partial.h
 * defines). It is a contract between machines: every field is spelled here.
 *
 *     header   8 bytes  magic "\x89LKV\r\n\x1a\n" (a PNG-style magic: a
 *                       file mangled by a text-mode copy fails it)
 *              4 bytes  format, little-endian uint32: REPO_FORMAT
 *              4 bytes  kind, little-endian uint32: REPO_KIND_*
 *     meta     u len, then len bytes: the kind's fields (below); a reader
 *              skips what follows the fields it knows
 *     views    u n, then n times, in strcmp() order of the names:
 *                  str name, u signature (pipeline_view_signature()),
 *                  u nslots, u granularity (ms)
 *     rows     for each view of the table, in its order, the view's base
 *              rows in ascending (group key bytes, bucket) order, then a 0:
 *                  u shared + 1   bytes of the key shared with the previous
 *                                 row's key in this view (0 before the first)
 *                  u n, n bytes   the rest of the group key
 *                  s delta        (bucket - previous bucket) / granularity
 *                                 (the previous bucket is 0 at a view's start)
 *                  s slot x nslots  the row's metric states (shared/agg.h)
 *     trailer  8 bytes  "LKV-END\n"
 *              8 bytes  length of the whole file, little-endian
 *              4 bytes  crc32 (zlib) of every byte before these four, LE
 *
 * u is an unsigned LEB128 varint, s a signed one (zigzag, then LEB128), str
 * a u length then the bytes. A group key is at most REPO_KEY_MAX bytes.
 *
 * REPO_KIND_VERSION meta: s version, s cutoff (ms), s published_at (ms),
 * s events, str pipeline name.
 *
 * The repository (batch.repository) is a directory of such files, named
 * "v" and the version in ten digits with ".lkv" ("v0000000007.lkv"), and
 * LATEST, one line holding the newest file's name. A file is written under
 * a temporary name starting with '.', fsync'd and renamed; then LATEST is
 * written the same way: a reader that follows LATEST never sees a half
 * file. The publisher keeps the newest batch.repository_keep files.
 *
 * Caveats:
 * - The checksum is checked before anything is decoded (repo_open() reads
 *   the file twice): decoding never sees a corrupt byte.
 * - A writer's output is a temporary file until repo_finish() renames it.
 */

#define REPO_FORMAT 1
#define REPO_KIND_VERSION 1
#define REPO_KIND_PARTIAL 2
#define REPO_KEY_MAX 511
#define REPO_END 1              /* repo_get_row(): the view's rows ended */
#define REPO_NONE 1             /* repo_latest(): no LATEST yet */
#define REPO_LATEST "LATEST"
#define REPO_NAME_MAX 64

struct repo_writer;
struct repo_reader;

/* ---- writing ---------------------------------------------------------- */

/*
 * Create a writer of kind into a temporary file next to path (".NAME.tmp"
 * in path's directory, replaced if left by a killed run) and write the
 * header and the meta block. Returns 0 and *out (end it with repo_finish()
 * or repo_abort()), or -1 with err.
 */
int repo_create(struct repo_writer **out, const char *path, uint32_t kind,
    const struct buf *meta, char *err);

/* Write the views table: every view of p, in strcmp() order of the names. */
void repo_put_views(struct repo_writer *w, const struct pipeline *p);

/*
 * Write one base row of view v, which must be the next view of the table
 * once the previous one's rows ended (repo_end_view()). Rows in ascending
 * (group key, bucket) order. Failures are kept for repo_finish().
 */
void repo_put_row(struct repo_writer *w, const struct view *v,
    const void *gkey, size_t gklen, int64_t bucket, const int64_t *slots);

/* End the rows of the current view (also for a view without rows). */
void repo_end_view(struct repo_writer *w);

/*
 * Write the trailer, fsync, and rename the temporary file to path (then
 * fsync its directory). Frees w whatever happens. Returns 0, or -1 with err
 * (the first write error, or the rename's; the temporary file is removed).
 */
int repo_finish(struct repo_writer *w, char *err);

/* Remove the temporary file and free w. NULL is a no-op. */
void repo_abort(struct repo_writer *w);

/* Bytes written so far (the file's size after repo_finish()). */
uint64_t repo_written(const struct repo_writer *w);

/* ---- reading ---------------------------------------------------------- */

/*
 * Open path, check it whole (magic, format, that it is of kind, length and
 * checksum in the trailer), then read its meta block into meta (cleared
 * first). Returns 0 and *out (free with repo_close()), or -1 with err
 * naming the file and what is wrong: "FILE: not a lambdakit batch file
 * (bad magic)", "FILE: format 2, this build reads format 1", "FILE: a shard
 * partial, not a batch version", "FILE: truncated (1000 bytes, the trailer
 * says 2000)", "FILE: truncated or unfinished (no trailer)", "FILE:
 * checksum mismatch (stored 1a2b3c4d, computed 5e6f7a8b)".
 */
int repo_open(struct repo_reader **out, const char *path, uint32_t kind,
    struct buf *meta, char *err);

/*
 * Read the header and meta block only (no checksum: for a quick look such
 * as "is it the version I hold?"). Returns 0, or -1 with err.
 */
int repo_peek(const char *path, uint32_t kind, struct buf *meta, char *err);

/*
 * Read the views table and check it against p: the same views, each with
 * p's signature. Returns 0, or -1 with err: "FILE: another pipeline's
 * states: view by_country is defined differently", "... view x is not in
 * shop.json", "... view y of shop.json is missing".
 */
int repo_get_views(struct repo_reader *r, const struct pipeline *p,
    char *err);

/* The view of p whose rows come next (after repo_get_views(), and after
 * each REPO_END), or NULL after the last. */
const struct view *repo_next_view(struct repo_reader *r);

struct repo_row {
    const void    *gkey;    /* valid until the next call */
    size_t         gklen;
    int64_t        bucket;
    const int64_t *slots;   /* view->nslots, reader-owned */
};

/* Next row of the current view: 0 and *row, REPO_END at the end of the
 * view's rows, or -1 with err ("FILE: corrupt at byte N: ..."). */
int repo_get_row(struct repo_reader *r, struct repo_row *row, char *err);

/* After the last view: check that the trailer follows. Returns 0 or -1. */
int repo_done(struct repo_reader *r, char *err);

/* The file's size in bytes. */
uint64_t repo_size(const struct repo_reader *r);

/* Close and free. NULL is a no-op. */
void repo_close(struct repo_reader *r);

/* ---- the meta codec (memory) ------------------------------------------ */

void repo_enc_u(struct buf *b, uint64_t v);
void repo_enc_s(struct buf *b, int64_t v);
void repo_enc_str(struct buf *b, const void *s, size_t n);

/* A read position in a meta block. The decoders return 0, or -1 when the
 * block ends early or a value does not fit (the cursor is then spent). */
struct repo_cur {
    const unsigned char *p, *end;
};
void repo_cur_init(struct repo_cur *c, const struct buf *b);
int repo_dec_u(struct repo_cur *c, uint64_t *v);
int repo_dec_s(struct repo_cur *c, int64_t *v);
/* A str: *s points into the block (not NUL-terminated), *n its length. */
int repo_dec_str(struct repo_cur *c, const char **s, size_t *n);

/* ---- batch versions ----------------------------------------------------- */

struct repo_version {
    int64_t version;
    int64_t cutoff;         /* ms */
    int64_t published_at;   /* ms */
    int64_t events;
    char    pipeline[128];  /* the pipeline's name, NUL-terminated */
};

/* Encode v as a REPO_KIND_VERSION meta block into b (appended). */
void repo_version_encode(struct buf *b, const struct repo_version *v);

/* Decode a REPO_KIND_VERSION meta block. Returns 0, or -1. */
int repo_version_decode(const struct buf *b, struct repo_version *v);

/* ---- the repository directory (repo_dir.c) ------------------------------ */

/* The file name of version ("v0000000007.lkv") into buf (REPO_NAME_MAX). */
void repo_version_name(int64_t version, char *buf, size_t size);

/* The version a file name stands for: 0 and *version, or -1 when the name
 * is not a version file's. */
int repo_version_parse(const char *name, int64_t *version);

/*
 * The name of the newest version in dir, from LATEST, into name
 * (REPO_NAME_MAX). Returns 0, REPO_NONE when dir has no LATEST yet, or -1
 * with err (unreadable, or not naming a version file).
 */
int repo_latest(const char *dir, char *name, size_t size, char *err);

/*
 * Point LATEST at name (a file already in dir) atomically (a temporary file,
 * fsync, rename, fsync of dir), then delete the version files older than
 * the keep newest, and temporary files of version files older than name
 * (left by killed writers). Returns 0, or -1 with err (a failed delete is
 * not an error).
 */
int repo_set_latest(const char *dir, const char *name, int keep, char *err);

/* Create dir (and its parents) if missing. Returns 0, or -1 with err. */
int repo_mkdir(const char *dir, char *err);

#endif
