/* partcache.h -- the batch part of series answers, kept per batch version while speed commits */
#ifndef SERVING_PARTCACHE_H
#define SERVING_PARTCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/*
 * Every speed commit changes the snapshot's identity, so the answer cache
 * (cache.h) misses while a stream runs. The points of a series before the
 * batch cutoff only change with a publish: an entry keeps the JSON text of
 * those points (and how many there are) for one request and one (batch
 * version, cutoff); the caller appends the points from the cutoff on,
 * computed from the snapshot's speed rows, and the end of the answer.
 *
 * DESIGN invariant 4: the key holds the batch version and cutoff of the
 * snapshot the text was computed from, and an entry is only used by a
 * request whose snapshot has the same: published versions never change.
 *
 * Direct-mapped as cache.h: PARTCACHE_SLOTS slots with a mutex each, at
 * most PARTCACHE_BYTES of text, none over PARTCACHE_ENTRY_MAX. A key is
 * only kept the second time it misses (a doorkeeper of PARTCACHE_SEEN hash
 * tags): keys asked once, such as a random key of many, cost no copy and
 * no new memory.
 */

#define PARTCACHE_SLOTS 8192
#define PARTCACHE_ENTRY_MAX (1u << 20)
#define PARTCACHE_BYTES (64u << 20)
#define PARTCACHE_SEEN 65536

struct partcache_entry {
    uint64_t    hash;
    char       *key;
    size_t      klen;
    char       *text;
    size_t      len;
    int         points;
};

struct partcache {
    pthread_mutex_t         mu[PARTCACHE_SLOTS];
    struct partcache_entry  e[PARTCACHE_SLOTS];
    _Atomic size_t          bytes;
    _Atomic uint64_t        hits, misses;
    _Atomic uint32_t        seen[PARTCACHE_SEEN];  /* tags of keys missed */
};

/* Embedded lifecycle; reset frees every entry (no request running). */
void partcache_init(struct partcache *pc);
void partcache_reset(struct partcache *pc);

/*
 * If the entry for key (klen bytes, hash h: cache_hash()) is there, append
 * its text to out, set *points and return 1; else return 0.
 */
int partcache_get(struct partcache *pc, uint64_t h, const void *key,
    size_t klen, struct buf *out, int *points);

/* Nonzero when key (hash h) missed before: worth keeping now. */
int partcache_admit(struct partcache *pc, uint64_t h);

/* Keep len bytes of text (points points) for key, replacing what its slot
 * held; nothing when too large. */
void partcache_put(struct partcache *pc, uint64_t h, const void *key,
    size_t klen, const void *text, size_t len, int points);

#endif
