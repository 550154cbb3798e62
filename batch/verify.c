/* verify.c -- lambda-batch --verify: walk the whole store, print its damage */
#include <inttypes.h>
#include <stdio.h>

#include "batch/verify.h"
#include "shared/store.h"

static void
print(void *arg, int kind, const char *msg)
{
    (void)arg;
    printf("%s: %s\n", kind == STORE_VERIFY_DAMAGE ? "damage" : "note", msg);
}

int
verify_run(struct batch *b, char *err)
{
    struct store_verify n;
    const char *dir = b->p->store;

    if (store_verify(dir, b->p, print, NULL, &n, err) != 0)
        return -1;
    printf("store %s: ", dir);
    if (n.damage == 0)
        printf("no damage found");
    else
        printf("%" PRId64 " damaged place%s found", n.damage,
            n.damage == 1 ? "" : "s");
    printf(" (meta %" PRId64 " entries, ", n.meta);
    if (n.version > 0)
        printf("batch version %" PRId64 ": %" PRId64 " rows, ", n.version,
            n.batch);
    else
        printf("no batch version, ");
    printf("speed %" PRId64 " rows, ", n.speed);
    if (n.late > 0)
        printf("late-data ledger %" PRId64 " entries, ", n.late);
    printf("%" PRId64 " free pages)", n.free_pages);
    if (n.damage > 0)
        printf(": restore it from a backup, or move it away and run "
            "lambda-batch (lambda-speed replays Kafka)");
    printf("\n");
    return n.damage > 0;
}
