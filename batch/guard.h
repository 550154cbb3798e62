/* guard.h -- refuse a publish that would lose served data, unless forced */
#ifndef BATCH_GUARD_H
#define BATCH_GUARD_H

#include "batch/batch.h"

/*
 * DESIGN.md invariant 7: no operator mistake loses served data. Before a
 * publish (and in a dry run, which reports the same), once the new version
 * is computed:
 *
 * - An explicit cutoff (--until, or the one --merge takes from the shards)
 *   is refused when it is past
 *     the inputs' end: the end of the UTC day of their newest valid event
 *       (a day's file covers its day: a cutoff at the next 00:00 UTC is
 *       covered, a cutoff a day or more later is not); an event at or
 *       after the cutoff proves it covered;
 *     the wall clock (now.h): later events cannot be in the inputs yet;
 *     lambda-speed's watermark (speedmeta.h): speed still accepts events
 *       from there on, and would have to reject them as late.
 *   b->force (--force) publishes anyway; either way the speed rows that
 *   leave the answers with no batch version holding them (from the
 *   published cutoff, or the inputs' end when later, to the new cutoff)
 *   are named per view: rows, bucket range and count metric.
 *   The computed cutoff (no --until) never passes the inputs, the clock
 *   (hold.c) or, with speed.archive, the watermark, so it is not checked.
 * - A new version that is far smaller than the published one is refused:
 *   for any view, fewer than half the published version's base rows from
 *   --from on (an empty view against a non-empty one included), or, without
 *   --from, fewer than half its events. Views whose definition changed since
 *   the published version are not compared. b->allow_shrink
 *   (--allow-shrink) publishes anyway.
 *
 * A refusal is a usage mistake: exit 2.
 */

#define GUARD_REFUSED 2

/*
 * For a dry run (b->st NULL): open the store read-only when it exists, so
 * that the hold (hold.c) and the guard see what a real run would. A store
 * not created yet is no error (b->st stays NULL). Returns 0, or -1 with err.
 */
int guard_open(struct batch *b, char *err);

/*
 * Check the computed version (after work_finish() or the merge) against
 * the store (b->st, may be NULL: nothing published, no speed). Logs every
 * reason and what leaves the answers. Returns 0 to go on (warnings logged
 * for what was forced), GUARD_REFUSED with err (what to do), or -1 with err
 * on a store error.
 */
int guard_check(struct batch *b, char *err);

#endif
