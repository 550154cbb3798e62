/* store_pull.c -- a batch version that keeps the number it was published with elsewhere */
#include <stdio.h>

#include "shared/err.h"
#include "shared/store.h"

/*
 * "batch.next" is the highest version number reserved (store.c): the next
 * writer takes one above it and above the current version. Reserving
 * version - 1 makes that exactly version. Numbers above it that killed runs
 * reserved may be given out again: their rows are deleted by every
 * store_writer_begin(), and readers never saw them.
 */
int
store_batch_reserve(struct store *st, int64_t version, char *err)
{
    struct store_txn *t = NULL;
    struct store_batch_info cur;
    int rc;

    if (store_batch_lock(st, err) != 0 ||
        store_txn_begin(st, 1, &t, err) != 0)
        return -1;
    if ((rc = store_batch_current(t, &cur, err)) < 0)
        goto fail;
    if (version < 1 || version >= UINT32_MAX ||
        (rc == 0 && version <= cur.version)) {
        snprintf(err, ERR_LEN, "store %s: cannot publish version %lld after "
            "version %lld", store_dir(st), (long long)version,
            rc == 0 ? (long long)cur.version : 0LL);
        goto fail;
    }
    if (store_meta_put_i64(t, "batch.next", version - 1, err) != 0)
        goto fail;
    return store_txn_commit(t, err);
fail:
    store_txn_abort(t);
    return -1;
}
