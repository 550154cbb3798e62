/* late.h -- lambda-speed's side of the late-data ledger: late events per partition, committed */
#ifndef SPEED_LATE_H
#define SPEED_LATE_H

#include <stdint.h>

#include "shared/store.h"
#include "speed/speed.h"

/*
 * The open micro-batch's late events (valid, refused as late), one delta
 * (delta.h) per partition, written to the store's ledger (shared/late.h)
 * by the commit, so exactly once. An entry's offset is the offset of its
 * partition's last late event in the micro-batch: none of them is past it,
 * and with speed.archive that record is a line of the archive.
 */
struct speed_late {
    struct delta *d;            /* NULL until the partition has one */
    int64_t       offset;       /* of the last late event added */
};

/* Add the event just parsed (sp->ev), the record at offset of partition
 * part, refused as late. An event no row can hold (a group key too long)
 * or one that overflows a sum (logged) is left out; it is rejected as late
 * all the same. */
void speed_late_add(struct speed *sp, int32_t part, int64_t offset);

/* In the commit transaction t: merge every partition's late rows into the
 * ledger, archived when speed.archive is set. Returns 0, or -1 with err. */
int speed_late_write(struct speed *sp, struct store_txn *t, char *err);

/* Forget the micro-batch's late events (committed or discarded). */
void speed_late_clear(struct speed *sp);

/* Free them all, at shutdown. */
void speed_late_free(struct speed *sp);

#endif
