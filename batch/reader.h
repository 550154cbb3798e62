/* reader.h -- cut the inputs into chunks of whole records */
#ifndef BATCH_READER_H
#define BATCH_READER_H

#include "batch/batch.h"

/*
 * Read every input in order, in large blocks, and queue chunks of whole
 * records (queue.h). A file whose first non-blank byte is '[' is a JSON
 * array (elements are records, found by a small scanner that tracks strings,
 * escapes and depth, so one huge array streams); any other file is JSON
 * Lines (the workers split chunks at newlines). A UTF-8 byte order mark is
 * skipped. A file named *.csv is CSV with a header row (csv.h): the header
 * goes to b->inputs[i].csv, each other record is queued like an array
 * element; a file read as JSON whose first line is CSV fails the run with a
 * hint. A record longer than EVENT_MAX_LINE is never held whole: its
 * first EVENT_RAW_MAX bytes are kept and the rest skipped, and a worker
 * rejects it as too_large. Runs in the calling thread, draws the progress
 * line, and stops early on a signal or b->stop.
 * Returns 0, or -1 after batch_fail() (read error, signal).
 */
int reader_run(struct batch *b);

#endif
