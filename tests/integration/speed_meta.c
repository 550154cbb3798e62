/* speed_meta.c -- test helper: print one meta value of a store (speed status, offsets, watermark) */
/*
 * usage: speed_meta STORE_DIR NAME [i64]
 *
 * Prints the value of meta NAME as stored (speed.status is JSON), or with
 * "i64" as a decimal integer (offset/TOPIC/P, speed.watermark,
 * speed.updated_at). Prints nothing and exits 3 when NAME is absent; exit 1
 * on a store error, 2 on bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shared/err.h"
#include "shared/store.h"

int
main(int argc, char **argv)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    const void *val;
    size_t len;
    int64_t v;
    char err[ERR_LEN];
    int rc;

    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "i64") != 0)) {
        fprintf(stderr, "usage: speed_meta STORE_DIR NAME [i64]\n");
        return 2;
    }
    if (store_open(&st, argv[1], STORE_RDONLY, err) != 0 ||
        store_txn_begin(st, 0, &t, err) != 0) {
        fprintf(stderr, "speed_meta: %s\n", err);
        store_free(st);
        return 1;
    }
    if (argc == 4) {
        if ((rc = store_meta_get_i64(t, argv[2], &v, err)) == 0)
            printf("%" PRId64 "\n", v);
    } else if ((rc = store_meta_get(t, argv[2], &val, &len, err)) == 0) {
        fwrite(val, 1, len, stdout);
        putchar('\n');
    }
    if (rc < 0)
        fprintf(stderr, "speed_meta: %s\n", err);
    store_txn_abort(t);
    store_free(st);
    return rc < 0 ? 1 : rc == STORE_NOTFOUND ? 3 : 0;
}
