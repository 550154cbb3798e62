/* redefine.h -- lambda-speed under views that lambda-batch switches */
#ifndef SPEED_REDEFINE_H
#define SPEED_REDEFINE_H

#include "shared/store.h"

struct speed;

/*
 * lambda-speed writes each view under the store's definition
 * (store_speed_follows()), never its own when they differ:
 * - at start, a view its pipeline file defines otherwise than the store
 *   (changed, and lambda-batch has not published the change yet) is
 *   skipped: its rows are not written (lambda-batch's switch rebuilds them
 *   from the archive, which keeps every event), and this is logged once;
 * - a commit that finds a view's standing changed since the start (a
 *   publish switched it, added it or removed it) writes nothing: the
 *   micro-batch is dropped as when fenced, and lambda-speed stops; then
 *   redefine_exec() reads the pipeline file again and, when it agrees with
 *   the store on every switched view, runs itself again (execv of
 *   /proc/self/exe with the same arguments, after leaving the group), else
 *   exits 1 naming the view and what to do.
 */

/* Record every view's standing (in t, after store_speed_sign()) and log
 * the skipped ones. Returns 0 or -1 with err. */
int redefine_start(struct speed *sp, struct store_txn *t, char *err);

/* In the commit's transaction, before anything is written: 0, or
 * SPEED_FENCED when a view's standing changed (speed_stop is set and
 * sp->redefined). -1 with err. */
int redefine_check(struct speed *sp, struct store_txn *t, char *err);

/* Nonzero when view (an index into sp->p->views) is not written. */
int redefine_skip(const struct speed *sp, int view);

/*
 * After a redefinition stopped lambda-speed (sp->redefined), its resources
 * closed: exec it again when the pipeline file now agrees with the store,
 * else log why not. Returns only when it did not exec: the exit code.
 */
int redefine_exec(struct speed *sp, char **argv);

#endif
