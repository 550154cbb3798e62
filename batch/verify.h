/* verify.h -- lambda-batch --verify: walk the whole store, print its damage */
#ifndef BATCH_VERIFY_H
#define BATCH_VERIFY_H

#include "batch/batch.h"

/*
 * Walk the store of b's pipeline (store_verify(): every database, every key
 * and row against b->p's views) and print what it finds on stdout, one line
 * each ("damage: ...", "note: ..."), then a summary line:
 *     store var/orders: no damage found (meta 14 entries, batch version 1:
 *     3890 rows, speed 120 rows, 4 free pages)
 * or, with damage, how many places and what to do. Opens nothing for
 * writing and takes no lock. Returns 0 when the store is whole, 1 when it
 * is damaged, or -1 with err when it could not be walked (no store yet).
 */
int verify_run(struct batch *b, char *err);

#endif
