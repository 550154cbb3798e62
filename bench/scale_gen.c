/* scale_gen.c -- benchmark helper: one event per group and hour, in time order, as JSON Lines */
/*
 * usage: scale_gen GROUPS HOURS > events.jsonl
 *
 * For each of HOURS hours from 2026-10-21T00:00:00Z, one event for each of
 * GROUPS customers (c0000000, c0000001, ...), at a minute of the hour that
 * depends on the group, with an amount from 0.01 to 999.99:
 *     {"customer":"c0000042","amount":123.45,"ts":"2026-10-21T13:42:00Z"}
 * So a view by customer per hour has GROUPS x HOURS rows. The same bytes for
 * the same arguments; about 66 bytes a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define START 1792540800LL      /* 2026-10-21T00:00:00Z */

int
main(int argc, char **argv)
{
    long groups, hours;
    char *end;
    static char out[1 << 20];

    if (argc != 3 || (groups = strtol(argv[1], &end, 10)) <= 0 ||
        *end != '\0' || (hours = strtol(argv[2], &end, 10)) <= 0 ||
        *end != '\0') {
        fprintf(stderr, "usage: scale_gen GROUPS HOURS\n");
        return 2;
    }
    setvbuf(stdout, out, _IOFBF, sizeof(out));
    for (long h = 0; h < hours; h++) {
        time_t t = (time_t)(START + h * 3600);
        struct tm tm;
        char day[16];

        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        for (long g = 0; g < groups; g++) {
            long cents = (g * 7919 + h * 104729) % 99999 + 1;

            printf("{\"customer\":\"c%07ld\",\"amount\":%ld.%02ld,"
                "\"ts\":\"%sT%02d:%02ld:00Z\"}\n", g, cents / 100,
                cents % 100, day, tm.tm_hour, g % 60);
        }
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
