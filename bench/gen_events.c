/* gen_events.c -- deterministic e-commerce events as JSON Lines */
/*
 * usage: gen_events N [SEED] > events.jsonl
 *
 * N events, one per line, the same bytes for the same N and SEED:
 *     {"event_id":"9f86d081884c7d65","customer":"c00042","country":"FR",
 *      "amount":123.45,"ts":"2026-10-21T13:45:12.345Z"}
 * customer: 10,000 customers with a skew (the square of a uniform draw, so
 * low numbers buy far more often); country: 20 codes, also skewed; amount:
 * 0.01 to 999.99 with two decimals (trailing zeros dropped, as JSON writers
 * do); ts: uniform over the 30 days from 2026-10-21T00:00:00Z, in
 * milliseconds. About 120 bytes a line: 5M events make ~600 MB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define START 1792540800LL      /* 2026-10-21T00:00:00Z */
#define SPAN_MS (30LL * 86400 * 1000)

static const char *const countries[20] = {
    "FR", "MA", "BE", "ES", "DE", "IT", "NL", "PT", "GB", "US",
    "CA", "SN", "TN", "DZ", "CH", "AT", "SE", "PL", "IE", "BR"
};

static uint64_t
next(uint64_t *s)          /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
uniform(uint64_t *s)
{
    return (double)(next(s) >> 11) / 9007199254740992.0;
}

int
main(int argc, char **argv)
{
    static char out[1 << 20];
    char *end;
    long long n;
    uint64_t seed = 42;
    size_t used = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: gen_events N [SEED]\n");
        return 2;
    }
    n = strtoll(argv[1], &end, 10);
    if (*end != '\0' || n < 0) {
        fprintf(stderr, "gen_events: bad count %s\n", argv[1]);
        return 2;
    }
    if (argc == 3)
        seed = strtoull(argv[2], NULL, 10);
    for (long long i = 0; i < n; i++) {
        double u = uniform(&seed), v = uniform(&seed);
        int customer = (int)(10000.0 * u * u);
        int country = (int)(20.0 * v * v);
        long long cents = 1 + (long long)(next(&seed) % 99999);
        long long ms = (long long)(next(&seed) % (uint64_t)SPAN_MS);
        time_t secs = (time_t)(START + ms / 1000);
        struct tm tm;
        char amount[32], line[256];
        int len;

        gmtime_r(&secs, &tm);
        if (cents % 100 == 0)
            snprintf(amount, sizeof(amount), "%lld", cents / 100);
        else if (cents % 10 == 0)
            snprintf(amount, sizeof(amount), "%lld.%lld", cents / 100,
                cents % 100 / 10);
        else
            snprintf(amount, sizeof(amount), "%lld.%02lld", cents / 100,
                cents % 100);
        len = snprintf(line, sizeof(line),
            "{\"event_id\":\"%016llx\",\"customer\":\"c%05d\","
            "\"country\":\"%s\",\"amount\":%s,"
            "\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ\"}\n",
            (unsigned long long)next(&seed), customer, countries[country],
            amount, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
            tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
        if (len < 0 || (size_t)len >= sizeof(line))
            abort();
        if (used + (size_t)len > sizeof(out)) {
            if (fwrite(out, 1, used, stdout) != used)
                goto fail;
            used = 0;
        }
        memcpy(out + used, line, (size_t)len);
        used += (size_t)len;
    }
    if (fwrite(out, 1, used, stdout) != used || fflush(stdout) != 0)
        goto fail;
    return 0;
fail:
    perror("gen_events: write");
    return 1;
}
