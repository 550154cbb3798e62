/* batch_late_test.c -- unit tests for what a run's inputs hold of speed's archive */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch.h"
#include "batch/late.h"
#include "tests/test.h"

#define SEG(p, a, b) "arch/t/p" #p "/000000000000000000" #a \
    "-000000000000000000" #b ".jsonl"

static struct pipeline pl;
static struct batch b;

/* The listing of paths, as text "P:LAST ..." or "none". */
static const char *
listing(const char *const *paths, int n)
{
    static char out[256];
    struct late_listing *l;
    size_t len = 0;

    b.inputs = calloc((size_t)n + 1, sizeof(*b.inputs));
    for (int i = 0; i < n; i++)
        b.inputs[i].path = (char *)paths[i];
    b.ninputs = n;
    l = late_listing_new(&b);
    free(b.inputs);
    b.inputs = NULL;
    if (l == NULL)
        return "none";
    out[0] = '\0';
    for (int i = 0; i < l->n && len < sizeof(out); i++)
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%d:%lld ", i,
            (long long)l->last[i]);
    late_listing_free(l);
    return out;
}

static void
test_listing(void)
{
    /* p0 lacks 10-14: offsets past 9 are not all in the inputs; p1 has
     * none; the order of the inputs does not matter */
    static const char *const mixed[] = {
        SEG(0, 15, 19), "in/history.jsonl", SEG(2, 03, 07), SEG(0, 00, 04),
        "arch/t/p1/.00000000000000000000.jsonl.open", SEG(0, 05, 09),
        "arch/u/p1/00000000000000000000-00000000000000000009.jsonl",
    };
    static const char *const none[] = {
        "in/history.jsonl", "arch/t/p1/.00000000000000000000.jsonl.open",
    };
    static const char *const one[] = {SEG(3, 20, 29)};

    CHECK_EQ_STR(listing(mixed, 7), "0:9 1:-1 2:7 ");
    CHECK_EQ_STR(listing(one, 1), "0:-1 1:-1 2:-1 3:29 ");
    CHECK_EQ_STR(listing(none, 2), "none");
    CHECK_EQ_STR(listing(NULL, 0), "none");
    b.mode = BATCH_MERGE;
    CHECK_EQ_STR(listing(one, 1), "none");
    b.mode = BATCH_RUN;
    pl.speed.archive = NULL;
    CHECK_EQ_STR(listing(one, 1), "none");
    pl.speed.archive = "arch";
}

int
main(void)
{
    pl.speed.archive = "arch";
    pl.speed.topic = "t";
    b.p = &pl;
    b.mode = BATCH_RUN;
    RUN(test_listing);
    return test_report();
}
