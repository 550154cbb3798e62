/* redefine.c -- lambda-speed under views that lambda-batch switches */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/err.h"
#include "shared/log.h"
#include "shared/mem.h"
#include "shared/pipeline.h"
#include "shared/store.h"
#include "speed/redefine.h"
#include "speed/speed.h"

int
redefine_start(struct speed *sp, struct store_txn *t, char *err)
{
    const struct pipeline *p = sp->p;

    free(sp->follows);
    sp->follows = xcalloc((size_t)p->nviews + 1, 1);
    for (int i = 0; i < p->nviews; i++) {
        int rc = store_speed_follows(t, p, &p->views[i], err);

        if (rc < 0)
            return -1;
        sp->follows[i] = (unsigned char)rc;
        if (rc == STORE_SPEED_OTHER)
            log_warnx("view %s: %s defines it otherwise than the store's "
                "rows: its speed rows are not written until lambda-batch "
                "publishes this definition (its publish rebuilds them%s)",
                p->views[i].name, p->path, p->speed.archive != NULL ?
                " from the archive" : "; without speed.archive it says "
                "what to run");
    }
    return 0;
}

int
redefine_check(struct speed *sp, struct store_txn *t, char *err)
{
    const struct pipeline *p = sp->p;

    for (int i = 0; i < p->nviews; i++) {
        int rc = store_speed_follows(t, p, &p->views[i], err);

        if (rc < 0)
            return -1;
        if (rc == sp->follows[i])
            continue;
        log_warnx("view %s: lambda-batch %s it since lambda-speed started; "
            "dropping the micro-batch and starting again", p->views[i].name,
            rc == STORE_SPEED_NEW ? "removed" : "switched");
        sp->redefined = 1;
        speed_stop = SIGTERM;
        return SPEED_FENCED;
    }
    return 0;
}

int
redefine_skip(const struct speed *sp, int view)
{
    return sp->follows != NULL && sp->follows[view] == STORE_SPEED_OTHER;
}

/* The first view of p the store defines otherwise, or NULL. */
static const char *
differs(struct pipeline *p, char *err)
{
    struct store *st = NULL;
    struct store_txn *t = NULL;
    const char *name = NULL;

    if (store_open(&st, p->store, STORE_RDONLY, err) != 0 ||
        store_txn_begin(st, 0, &t, err) != 0) {
        store_free(st);
        return "";
    }
    for (int i = 0; i < p->nviews && name == NULL; i++) {
        int rc = store_speed_follows(t, p, &p->views[i], err);
        if (rc < 0)
            name = "";
        else if (rc == STORE_SPEED_OTHER)
            name = p->views[i].name;
    }
    store_txn_abort(t);
    store_free(st);
    return name;
}

int
redefine_exec(struct speed *sp, char **argv)
{
    struct pipeline *p = NULL;
    char err[ERR_LEN];
    const char *bad;

    if (pipeline_load(&p, sp->p->path, err) != 0) {
        log_errorx("%s", err);
        return 2;
    }
    /* the store named by flags or environment, as at start */
    if (pipeline_set(p, "store", sp->p->store, err) != 0) {
        log_errorx("%s", err);
        pipeline_free(p);
        return 2;
    }
    if ((bad = differs(p, err)) != NULL && *bad == '\0') {
        log_errorx("%s", err);
        pipeline_free(p);
        return 1;
    }
    if (bad != NULL) {
        log_errorx("view %s: lambda-batch published another definition "
            "than %s gives: put the published one in %s (GET /v1/views "
            "shows it), or run lambda-batch with this file, then start "
            "lambda-speed again", bad, p->path, p->path);
        pipeline_free(p);
        return 1;
    }
    pipeline_free(p);
    log_info("starting again under the switched definitions");
    execv("/proc/self/exe", argv);
    log_errorx("execv /proc/self/exe: %s", strerror(errno));
    return 1;
}
