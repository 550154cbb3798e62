/* timeshift.h -- move the event times in raw JSON text by whole days, every other byte kept */
#ifndef SHARED_TIMESHIFT_H
#define SHARED_TIMESHIFT_H

#include <stddef.h>
#include <stdint.h>

#include "shared/buf.h"

/*
 * The lab ships a history with fixed dates; the demo and the compose lab load
 * it moved by whole days so that it ends just before today, whatever today
 * is. Whole days keep every bucket boundary, hour of day and known total.
 *
 * The text is scanned, not parsed and printed again, so decimals keep their
 * digits and malformed lines stay malformed (the data set's rejects stay the
 * same rejects). A time is the value after a key named `key` (the last part
 * of a dotted event.time, e.g. "ts" for "meta.ts") that follows '{' or ','.
 * Its value is moved when it is a time the pipeline would accept:
 *   - RFC 3339 text: its date part moves ("2026-11-19T10:00:00+01:00" by 3
 *     days is "2026-11-22T10:00:00+01:00");
 *   - an epoch number: seconds or milliseconds as ts_from_number() reads
 *     them; the integer part moves and a fraction is kept as written.
 * Anything else (missing, unreadable, out of range after the move) is left
 * as it is.
 */

/*
 * Scan len bytes of s for times under key. With out != NULL, append s to out
 * with each time moved by days. Returns the number of times found (moved,
 * when out is given) and raises *max to the latest of them before the move
 * (ms since the epoch; start it at INT64_MIN).
 */
size_t timeshift_text(const char *s, size_t len, const char *key,
    int64_t days, struct buf *out, int64_t *max);

/*
 * Move the first "YYYY-MM-DD" date in a file name by days, in place (the
 * length does not change). Returns 1 if a date was moved, 0 if the name has
 * none.
 */
int timeshift_name(char *name, int64_t days);

#endif
