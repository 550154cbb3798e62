/* ready.h -- /readyz of a replica: a batch version held and lambda-speed's lag within serving.ready_max_lag */
#ifndef SERVING_READY_H
#define SERVING_READY_H

#include "serving/query.h"
#include "serving/serving.h"

/*
 * With serving.ready_max_lag set, a replica (DESIGN §6) is ready only once
 * its store holds a batch version and lambda-speed's lag, as its last commit
 * recorded it (the status record, shared/speedmeta.h), is within the bound:
 * records behind, summed over the partitions, or the age of the oldest
 * record not consumed yet, the largest over the partitions. Without a
 * commit of speed the lag is unknown: not ready (speed commits its status
 * once it has caught up after an assignment, even on an idle topic). Without the setting every
 * store that holds data is ready, as before.
 *
 * ready_check: read what it needs from the snapshot s. Returns 0 when
 * ready, or -1 with the reason in why (ERR_LEN), such as "lambda-speed is
 * 5200 records behind (serving.ready_max_lag 1000)".
 */
int ready_check(struct serving *sv, struct snap *s, char *why);

#endif
