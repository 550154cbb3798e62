/* progress.h -- the progress line on a terminal, the summary at the end */
#ifndef BATCH_PROGRESS_H
#define BATCH_PROGRESS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct batch;

/* The progress line's state, embedded in struct batch (b->progress);
 * it owns no memory. */
struct progress {
    int              on;            /* draw the line (stderr is a tty) */
    atomic_llong     events;        /* records the workers processed */
    uint64_t         bytes_done;    /* reader's position over every input */
    double           last;          /* when the line was drawn */
    int              drawn;         /* a line is on the screen */
};

/* Start with nothing read or drawn; draw only when on != 0. */
void progress_init(struct progress *pr, int on);

/* Count n more records processed (any worker thread). */
void progress_count(struct progress *pr, long long n);

/* The reader's position over every input so far, in bytes; set by the
 * reader thread only. */
void progress_bytes_set(struct progress *pr, uint64_t bytes);
uint64_t progress_bytes(const struct progress *pr);

/*
 * Redraw the progress line on stderr, at most once a second unless force,
 * and only when it is on (stderr is a terminal):
 *     reading 123.4/600.0 MB (20%), 1.23 M events/s, ETA 4 s
 * Called by the reader thread only.
 */
void progress_tick(struct batch *b, int force);

/* Redraw the progress line while writing rows i of n of view name, at most
 * once a second ("writing by_customer: 120000/299989 rows"). */
void progress_write(struct progress *pr, const char *name, size_t i,
    size_t n);

/* Erase the progress line, if one was drawn. */
void progress_clear(struct progress *pr);

/* Log the one-line summary of the run (log_info). */
void progress_summary(struct batch *b);

#endif
