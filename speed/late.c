/* late.c -- lambda-speed's side of the late-data ledger: late events per partition, committed */
#include <stdlib.h>

#include "shared/late.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "speed/delta.h"
#include "speed/late.h"

void
speed_late_add(struct speed *sp, int32_t part, int64_t offset)
{
    struct speed_late *l;
    int v;

    if (part < 0)
        return;
    if (part >= sp->nlate) {
        sp->late = xrealloc(sp->late, sizeof(*sp->late) * ((size_t)part + 1));
        while (sp->nlate <= part)
            sp->late[sp->nlate++].d = NULL;
    }
    l = &sp->late[part];
    if (l->d == NULL)
        l->d = delta_new(sp->p);
    l->offset = offset;
    if (delta_add_event(l->d, &sp->ev, &v) == DELTA_OVERFLOW)
        log_warnx("view %s: sum overflow in the late-data ledger's "
            "micro-batch", sp->p->views[v].name);
}

int
speed_late_write(struct speed *sp, struct store_txn *t, char *err)
{
    for (int32_t p = 0; p < sp->nlate; p++) {
        const struct delta_entry *e;
        size_t n;

        if (sp->late[p].d == NULL || (n = delta_count(sp->late[p].d)) == 0)
            continue;
        e = delta_sorted(sp->late[p].d);
        for (size_t i = 0; i < n; i++)
            if (store_late_merge(t, &sp->p->views[e[i].view], e[i].gkey,
                e[i].gklen, e[i].bucket, p, sp->late[p].offset,
                sp->archive != NULL, e[i].events, e[i].row, err) != 0)
                return -1;
    }
    return 0;
}

void
speed_late_clear(struct speed *sp)
{
    for (int i = 0; i < sp->nlate; i++)
        if (sp->late[i].d != NULL)
            delta_clear(sp->late[i].d);
}

void
speed_late_free(struct speed *sp)
{
    for (int i = 0; i < sp->nlate; i++)
        delta_free(sp->late[i].d);
    free(sp->late);
    sp->late = NULL;
    sp->nlate = 0;
}
