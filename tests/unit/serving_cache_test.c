/* serving_cache_test.c -- unit tests for serving/cache.c: hits, misses, slots, byte limits */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "serving/cache.h"
#include "shared/mem.h"
#include "tests/test.h"

#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A response to hand over; its body is not what is counted, bytes is. */
static struct MHD_Response *
resp_new(void)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(2, "{}",
        MHD_RESPMEM_PERSISTENT);

    if (r == NULL)
        abort();
    return r;
}

/* Is (key, id) a hit? No connection: libmicrohttpd refuses to queue on a
 * NULL one (MHD_NO), so a hit is seen from the return value alone. */
static int
hit(struct cache *c, const char *key, const char *id)
{
    int ret = -7;
    int rc = cache_queue(c, cache_hash(key, strlen(key)), key, strlen(key),
        id, strlen(id), NULL, &ret);

    CHECK(rc == 0 || rc == 1);
    CHECK(rc == 1 ? ret == MHD_NO : ret == -7);     /* a miss leaves *ret */
    return rc;
}

static void
put(struct cache *c, const char *key, const char *id, size_t bytes)
{
    cache_put(c, cache_hash(key, strlen(key)), key, strlen(key), id,
        strlen(id), resp_new(), bytes);
}

/* The FNV-1a 64 reference vectors. */
static void
test_cache_hash(void)
{
    CHECK_EQ(cache_hash("", 0), 0xcbf29ce484222325ULL);
    CHECK_EQ(cache_hash("a", 1), 0xaf63dc4c8601ec8cULL);
    CHECK_EQ(cache_hash("foobar", 6), 0x85944171f73967e8ULL);
}

/* An answer is served again for the same request and the same store
 * identity, and for nothing else. */
static void
test_cache_hit_miss(void)
{
    static const struct {
        const char *key, *id;
        int         hit;
    } cases[] = {
        {"/v1/views/by_cust/series?step=1h", "v1", 1},
        {"/v1/views/by_cust/series?step=1h", "v2", 0},   /* store moved */
        {"/v1/views/by_cust/series?step=1h", "v", 0},    /* id prefix */
        {"/v1/views/by_cust/series?step=1h", "v11", 0},
        {"/v1/views/by_cust/series?step=2h", "v1", 0},
        {"/v1/views/by_cust/series?step=1", "v1", 0},    /* key prefix */
        {"/v1/views/by_cust/top", "v1", 0},
        {"/v1/views/by_cust/series?step=1h", "v1", 1},
    };
    struct cache *c = xmalloc(sizeof(*c));
    int hits = 0, misses = 0;

    cache_init(c);
    CHECK_EQ(hit(c, cases[0].key, cases[0].id), 0);
    misses++;
    put(c, cases[0].key, cases[0].id, 100);
    CHECK_EQ(atomic_load(&c->bytes), 100);
    for (int i = 0; i < LEN(cases); i++) {
        CHECK_EQ(hit(c, cases[i].key, cases[i].id), cases[i].hit);
        if (cases[i].hit)
            hits++;
        else
            misses++;
    }
    CHECK_EQ(atomic_load(&c->hits), hits);
    CHECK_EQ(atomic_load(&c->misses), misses);

    /* a newer answer for the same key replaces the older */
    put(c, cases[0].key, "v2", 40);
    CHECK_EQ(hit(c, cases[0].key, "v1"), 0);
    CHECK_EQ(hit(c, cases[0].key, "v2"), 1);
    CHECK_EQ(atomic_load(&c->bytes), 40);
    cache_reset(c);
    free(c);
}

/* A key is compared whole, not by its hash: two keys given the same hash
 * share one slot, and the later replaces the earlier. */
static void
test_cache_slots(void)
{
    struct cache *c = xmalloc(sizeof(*c));
    int ret;

    cache_init(c);
    cache_put(c, 7, "alpha", 5, "id", 2, resp_new(), 10);
    CHECK_EQ(cache_queue(c, 7, "alpha", 5, "id", 2, NULL, &ret), 1);
    CHECK_EQ(cache_queue(c, 7, "alphb", 5, "id", 2, NULL, &ret), 0);
    /* same slot (7 + CACHE_SLOTS), another hash */
    CHECK_EQ(cache_queue(c, 7 + CACHE_SLOTS, "alpha", 5, "id", 2, NULL,
        &ret), 0);
    cache_put(c, 7 + CACHE_SLOTS, "beta", 4, "id", 2, resp_new(), 20);
    CHECK_EQ(cache_queue(c, 7, "alpha", 5, "id", 2, NULL, &ret), 0);
    CHECK_EQ(cache_queue(c, 7 + CACHE_SLOTS, "beta", 4, "id", 2, NULL, &ret),
        1);
    CHECK_EQ(atomic_load(&c->bytes), 20);
    /* another slot keeps its own entry */
    cache_put(c, 8, "gamma", 5, "id", 2, resp_new(), 30);
    CHECK_EQ(cache_queue(c, 8, "gamma", 5, "id", 2, NULL, &ret), 1);
    CHECK_EQ(cache_queue(c, 7 + CACHE_SLOTS, "beta", 4, "id", 2, NULL, &ret),
        1);
    CHECK_EQ(atomic_load(&c->bytes), 50);
    /* empty key and id */
    cache_put(c, cache_hash("", 0), "", 0, "", 0, resp_new(), 1);
    CHECK_EQ(cache_queue(c, cache_hash("", 0), "", 0, "", 0, NULL, &ret), 1);
    cache_reset(c);
    free(c);
}

/* Bodies above CACHE_ENTRY_MAX are refused; at most CACHE_BYTES are held,
 * and an answer that would pass it is dropped (its slot left empty). */
static void
test_cache_limits(void)
{
    struct cache *c = xmalloc(sizeof(*c));
    int ret, nfull = (int)(CACHE_BYTES / CACHE_ENTRY_MAX);

    cache_init(c);
    put(c, "big", "id", CACHE_ENTRY_MAX + 1);
    CHECK_EQ(hit(c, "big", "id"), 0);
    CHECK_EQ(atomic_load(&c->bytes), 0);
    put(c, "big", "id", CACHE_ENTRY_MAX);
    CHECK_EQ(hit(c, "big", "id"), 1);
    CHECK_EQ(atomic_load(&c->bytes), CACHE_ENTRY_MAX);
    cache_reset(c);

    /* fill exactly CACHE_BYTES with entries in distinct slots 0..nfull-1 */
    cache_init(c);
    for (int i = 0; i < nfull; i++)
        cache_put(c, (uint64_t)i, "k", 1, "id", 2, resp_new(),
            CACHE_ENTRY_MAX);
    CHECK_EQ(atomic_load(&c->bytes), CACHE_BYTES);
    for (int i = 0; i < nfull; i++)
        CHECK_EQ(cache_queue(c, (uint64_t)i, "k", 1, "id", 2, NULL, &ret), 1);
    /* one byte more, in a free slot: dropped */
    cache_put(c, (uint64_t)nfull, "k", 1, "id", 2, resp_new(), 1);
    CHECK_EQ(cache_queue(c, (uint64_t)nfull, "k", 1, "id", 2, NULL, &ret), 0);
    CHECK_EQ(atomic_load(&c->bytes), CACHE_BYTES);
    /* replacing a full slot frees its bytes first: fits */
    cache_put(c, 0, "k", 1, "id2", 3, resp_new(), CACHE_ENTRY_MAX);
    CHECK_EQ(cache_queue(c, 0, "k", 1, "id2", 3, NULL, &ret), 1);
    CHECK_EQ(atomic_load(&c->bytes), CACHE_BYTES);
    /* a smaller replacement fits; then fill up to the byte again */
    cache_put(c, 2, "k", 1, "id2", 3, resp_new(), 1);
    CHECK_EQ(cache_queue(c, 2, "k", 1, "id", 2, NULL, &ret), 0);
    CHECK_EQ(cache_queue(c, 2, "k", 1, "id2", 3, NULL, &ret), 1);
    CHECK_EQ(atomic_load(&c->bytes), CACHE_BYTES - CACHE_ENTRY_MAX + 1);
    cache_put(c, (uint64_t)nfull, "k", 1, "id", 2, resp_new(),
        CACHE_ENTRY_MAX - 1);
    CHECK_EQ(atomic_load(&c->bytes), CACHE_BYTES);
    /* a bigger replacement that does not fit leaves its slot empty */
    cache_put(c, 2, "k", 1, "id3", 3, resp_new(), 2);
    CHECK_EQ(cache_queue(c, 2, "k", 1, "id2", 3, NULL, &ret), 0);
    CHECK_EQ(cache_queue(c, 2, "k", 1, "id3", 3, NULL, &ret), 0);
    CHECK_EQ(atomic_load(&c->bytes), CACHE_BYTES - 1);
    cache_reset(c);
    free(c);
}

/* Threads putting and reading the same small set of keys: every entry
 * stays whole and the byte count matches the entries held. */
enum { NTHREADS = 4, NKEYS = 40, NROUNDS = 4000 };

struct worker {
    struct cache *c;
    unsigned      seed;
    int           bad;
    unsigned      queries;
};

static void *
work(void *arg)
{
    struct worker *w = arg;
    char key[16], id[16];
    int ret;

    for (int i = 0; i < NROUNDS; i++) {
        int k = (int)(rand_r(&w->seed) % NKEYS);
        int v = (int)(rand_r(&w->seed) % 3);
        size_t kl = (size_t)snprintf(key, sizeof(key), "/k%d", k);
        size_t il = (size_t)snprintf(id, sizeof(id), "%d", v);
        uint64_t h = cache_hash(key, kl) % 8;  /* crowd 8 slots */

        if (rand_r(&w->seed) % 2 == 0) {
            cache_put(w->c, h, key, kl, id, il, resp_new(),
                (size_t)(k * 3 + v + 1));
            continue;
        }
        w->queries++;
        if (cache_queue(w->c, h, key, kl, id, il, NULL, &ret) == 1 &&
            ret != MHD_NO)
            w->bad++;
    }
    return NULL;
}

static void
test_cache_threads(void)
{
    struct cache *c = xmalloc(sizeof(*c));
    struct worker w[NTHREADS];
    pthread_t th[NTHREADS];
    size_t sum = 0;
    uint64_t queries = 0;

    cache_init(c);
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){c, (unsigned)i + 1, 0, 0};
        CHECK_EQ(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        CHECK_EQ(pthread_join(th[i], NULL), 0);
        CHECK_EQ(w[i].bad, 0);
        queries += w[i].queries;
    }
    for (int i = 0; i < CACHE_SLOTS; i++) {
        struct cache_entry *e = &c->e[i];
        char key[16] = "", id[16] = "";
        int k = -1, v = -1;

        if (e->resp == NULL)
            continue;
        /* bytes is what was put with this key and id (not NUL-terminated) */
        CHECK(e->klen < sizeof(key) && e->idlen < sizeof(id));
        memcpy(key, e->key, e->klen < 15 ? e->klen : 15);
        memcpy(id, e->id, e->idlen < 15 ? e->idlen : 15);
        CHECK(sscanf(key, "/k%d", &k) == 1 && sscanf(id, "%d", &v) == 1);
        CHECK_EQ(e->bytes, (size_t)(k * 3 + v + 1));
        CHECK_EQ(e->hash % CACHE_SLOTS, i);
        sum += e->bytes;
    }
    CHECK_EQ(atomic_load(&c->bytes), sum);
    CHECK_EQ(atomic_load(&c->hits) + atomic_load(&c->misses), queries);
    cache_reset(c);
    free(c);
}

int
main(void)
{
    RUN(test_cache_hash);
    RUN(test_cache_hit_miss);
    RUN(test_cache_slots);
    RUN(test_cache_limits);
    RUN(test_cache_threads);
    return test_report();
}
