/* progress.h -- the progress line on a terminal, the summary at the end */
#ifndef BATCH_PROGRESS_H
#define BATCH_PROGRESS_H

#include "batch/batch.h"

/*
 * Redraw the progress line on stderr, at most once a second unless force,
 * and only when b->progress (stderr is a terminal):
 *     reading 123.4/600.0 MB (20%), 1.23 M events/s, ETA 4 s
 * Called by the reader thread only.
 */
void progress_tick(struct batch *b, int force);

/* Redraw the progress line while writing rows i of n of view name, at most
 * once a second ("writing by_customer: 120000/299989 rows"). */
void progress_write(struct batch *b, const char *name, size_t i, size_t n);

/* Erase the progress line, if one was drawn. */
void progress_clear(struct batch *b);

/* Log the one-line summary of the run (log_info). */
void progress_summary(struct batch *b);

#endif
