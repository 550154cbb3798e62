/* proc.h -- worker processes: a share of the inputs each, merged in order */
#ifndef BATCH_PROC_H
#define BATCH_PROC_H

#include <stdio.h>
#include <sys/types.h>

#include "batch/batch.h"

/*
 * --threads N > 1 over regular files runs N processes of one worker each
 * instead of N worker threads. libcjson keeps process-wide state that
 * every parse writes (global_error shares a cache line with global_hooks,
 * which every allocation reads) and its number parser calls localeconv(),
 * which rewrites a static struct in glibc: threads parsing at once bounce
 * those lines between cores. Processes each have their own copies.
 *
 * Shares: the input bytes (b->total_bytes) are cut into N equal ranges.
 * Share s takes the lines of plain JSON Lines files that start in range s
 * (it seeks to the first line start at or after the range's start, and
 * reads up to the first line start at or after its end), and whole gzip
 * and JSON array files that start in it (reader.c). Line numbers in a file
 * a process starts inside are offset by the lines before its part, counted
 * only when a reject needs them (proc_part_lines()). The parent is share 0;
 * children 1..N-1 send their counts and rows through a pipe and write their
 * rejects to an unlinked temporary file; proc_collect() merges them in share
 * order, so the rows and the rejects file are those of one thread, byte for
 * byte.
 *
 * Caveats:
 * - proc_start() forks: call it before any thread is created. Children
 *   never touch the store (no LMDB handle across fork()) and end with
 *   _exit(), so they flush or close nothing of the parent's.
 * - Children die with the parent (PR_SET_PDEATHSIG), so kill -9 of a run
 *   leaves no worker behind; nothing is ever published by a child.
 */

struct proc {
    pid_t              pid;     /* -1: none, or reaped */
    int                fd;      /* read end of its result pipe, or -1 */
    FILE              *rej;     /* its rejects (unlinked), or NULL */
    struct batch_stats st;      /* its worker's counts, once collected */
};

/*
 * When b->threads > 1, b->total_bytes > 0 and every input is a regular
 * file: fork b->threads - 1 children, set b->nshares and b->share (0 in
 * the parent), and b->threads to 1 (one worker per process). Otherwise
 * leaves b->nshares at 1 and threads are used. Returns 0 (in the parent
 * and in each child), or -1 with err in the parent (pipe, fork, tmpfile),
 * with no child left running.
 */
int proc_start(struct batch *b, char *err);

/* Where share s starts, in bytes over every input: UINT64_MAX for
 * s >= b->nshares. */
uint64_t proc_share_start(const struct batch *b, int s);

/*
 * The lines of input b->part_file before b->part_off, where this process
 * starts reading it: counted on first use (reject line numbers need it),
 * with b->mu held. On a read error, batch_fail() and 0.
 */
int64_t proc_part_lines(struct batch *b);

/* The share that input byte pos (counted over every input, in order)
 * belongs to: 0 when there are no shares. */
int proc_share_of(const struct batch *b, uint64_t pos);

/*
 * In a child, after its workers finished (work_join()): send its counts and
 * rows to the parent and _exit(), 0 on success, 1 after a failure (its
 * message travels to the parent). Does not return.
 */
void proc_exit(struct batch *b) __attribute__((noreturn));

/*
 * In the parent, after its own workers finished: read every child's result
 * in share order, merge its rows into work_table(), keep its counts in
 * b->procs[j].st and append its rejects to the rejects file; then reap the
 * children (b->procs stays for the counts until proc_free()). On failure (here, in a child, or already in b->fail) kills the
 * children that still run. Returns 0, or -1 after batch_fail().
 */
int proc_collect(struct batch *b);

/* Kill (SIGKILL) and reap the children still running, free b->procs.
 * Safe to call again, and when there were none. */
void proc_free(struct batch *b);

#endif
