/* cache.h -- finished answers of series and top, reused while the store is unchanged */
#ifndef SERVING_CACHE_H
#define SERVING_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "serving/partcache.h"
#include "serving/topcol.h"

struct MHD_Connection;
struct MHD_Response;
struct buf;

/*
 * An entry is a libmicrohttpd response (reference counted by the library,
 * so one response object is queued on many connections at once) for one
 * request (path and decoded parameters) and one store identity: batch
 * version and cutoff, speed watermark, speed.updated_at and the speed
 * status, read in the same snapshot as the answer (snap_identity()).
 * Published batch versions never change, and lambda-speed rewrites its
 * status in every commit, so equal identities mean equal rows and an entry
 * is exactly the answer a fresh computation would give.
 *
 * Direct-mapped: a key hashes to one slot, a newer answer replaces the
 * older, each slot has its own mutex. At most CACHE_BYTES of bodies are
 * held; bodies above CACHE_ENTRY_MAX are not cached.
 */

#define CACHE_SLOTS 512
#define CACHE_ENTRY_MAX (4u << 20)
#define CACHE_BYTES (128u << 20)

struct cache_entry {
    uint64_t              hash;
    char                 *key;
    size_t                klen;
    char                 *id;
    size_t                idlen;
    struct MHD_Response  *resp;
    size_t                bytes;
};

struct cache {
    pthread_mutex_t     mu[CACHE_SLOTS];
    struct cache_entry  e[CACHE_SLOTS];
    _Atomic size_t      bytes;
    _Atomic uint64_t    hits, misses;
    struct topcols      top;        /* top's batch parts (topcol.h) */
    struct partcache    part;       /* series' batch parts (partcache.h) */
    int                 off;        /* LAMBDA_NO_CACHE: every answer cold */
};

/*
 * Embedded lifecycle; reset drops every entry (after the daemon stopped).
 * With LAMBDA_NO_CACHE set (to anything but "", "0" or "false") nothing is
 * kept and every answer is computed cold from its snapshot: what the tests
 * compare the cached answers with.
 */
void cache_init(struct cache *c);
void cache_reset(struct cache *c);

/* Append the caches' lines of GET /metrics (Prometheus text) to b. */
void cache_put_metrics(struct cache *c, struct buf *b);

/* Zero when LAMBDA_NO_CACHE turned every cache off. */
int cache_enabled(const struct cache *c);

/* Initialise (init != 0) or destroy the n mutexes of a direct-mapped
 * table's slots (this cache's, partcache.h's). */
void cache_mutexes(pthread_mutex_t *mu, int n, int init);

/* FNV-1a of key, for the calls below. */
uint64_t cache_hash(const void *key, size_t klen);

/*
 * The key of a request, built in key (the caller's, empty): the path, then
 * each decoded query parameter in the order given (value NULL for a name
 * given without '='), then whether the answer is gzipped. cache_key_end()
 * returns the key's cache_hash(), for the calls below. The bytes: path NUL,
 * per parameter name NUL and either '=' value NUL or '!', then 'z' or '-'.
 */
void cache_key_begin(struct buf *key, const char *path);
void cache_key_param(struct buf *key, const char *name, const char *value);
uint64_t cache_key_end(struct buf *key, int gzip);

/*
 * If the entry for key holds the answer for identity id, queue it on conn
 * with status 200 and return 1 (*ret: MHD_queue_response()'s result);
 * else return 0.
 */
int cache_queue(struct cache *c, uint64_t h, const void *key, size_t klen,
    const void *id, size_t idlen, struct MHD_Connection *conn, int *ret);

/*
 * Keep resp (a 200 answer of bytes body bytes for key and id) for later
 * requests. Takes over the caller's reference to resp in every case: it is
 * kept, or destroyed when it does not fit.
 */
void cache_put(struct cache *c, uint64_t h, const void *key, size_t klen,
    const void *id, size_t idlen, struct MHD_Response *resp, size_t bytes);

#endif
