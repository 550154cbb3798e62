/* partcache.c -- the batch part of series answers, kept per batch version while speed commits */
#include <stdlib.h>
#include <string.h>

#include "serving/cache.h"
#include "serving/partcache.h"
#include "shared/buf.h"
#include "shared/mem.h"

void
partcache_init(struct partcache *pc)
{
    memset(pc->e, 0, sizeof(pc->e));
    cache_mutexes(pc->mu, PARTCACHE_SLOTS, 1);
    atomic_init(&pc->bytes, 0);
    atomic_init(&pc->hits, 0);
    atomic_init(&pc->misses, 0);
    for (int i = 0; i < PARTCACHE_SEEN; i++)
        atomic_init(&pc->seen[i], 0);
}

int
partcache_admit(struct partcache *pc, uint64_t h)
{
    uint32_t tag = (uint32_t)(h >> 32) | 1;

    return atomic_exchange_explicit(&pc->seen[(h >> 8) % PARTCACHE_SEEN], tag,
        memory_order_relaxed) == tag;
}

static void
entry_drop(struct partcache *pc, struct partcache_entry *e)
{
    if (e->text != NULL)
        atomic_fetch_sub(&pc->bytes, e->len + e->klen);
    free(e->key);
    free(e->text);
    memset(e, 0, sizeof(*e));
}

void
partcache_reset(struct partcache *pc)
{
    for (int i = 0; i < PARTCACHE_SLOTS; i++)
        entry_drop(pc, &pc->e[i]);
    cache_mutexes(pc->mu, PARTCACHE_SLOTS, 0);
}

int
partcache_get(struct partcache *pc, uint64_t h, const void *key,
    size_t klen, struct buf *out, int *points)
{
    size_t i = h % PARTCACHE_SLOTS;
    struct partcache_entry *e = &pc->e[i];
    int hit;

    (void)pthread_mutex_lock(&pc->mu[i]);
    hit = e->text != NULL && e->hash == h && e->klen == klen &&
        memcmp(e->key, key, klen) == 0;
    if (hit) {
        buf_append(out, e->text, e->len);
        *points = e->points;
    }
    (void)pthread_mutex_unlock(&pc->mu[i]);
    atomic_fetch_add_explicit(hit ? &pc->hits : &pc->misses, 1,
        memory_order_relaxed);
    return hit;
}

void
partcache_put(struct partcache *pc, uint64_t h, const void *key,
    size_t klen, const void *text, size_t len, int points)
{
    size_t i = h % PARTCACHE_SLOTS;
    struct partcache_entry *e = &pc->e[i];

    if (len > PARTCACHE_ENTRY_MAX)
        return;
    (void)pthread_mutex_lock(&pc->mu[i]);
    entry_drop(pc, e);
    if (atomic_load(&pc->bytes) + len + klen <= PARTCACHE_BYTES) {
        e->hash = h;
        e->key = xmalloc(klen);
        memcpy(e->key, key, klen);
        e->klen = klen;
        e->text = xmalloc(len + 1);
        memcpy(e->text, text, len);
        e->len = len;
        e->points = points;
        atomic_fetch_add(&pc->bytes, len + klen);
    }
    (void)pthread_mutex_unlock(&pc->mu[i]);
}
