/* cache.c -- finished answers of series and top, reused while the store is unchanged */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "serving/cache.h"
#include "shared/buf.h"
#include "shared/mem.h"

/* Nonzero when the variable is set to anything but "", "0" or "false". */
static int
env_on(const char *name)
{
    const char *e = getenv(name);

    return e != NULL && *e != '\0' && strcmp(e, "0") != 0 &&
        strcmp(e, "false") != 0;
}

void
cache_init(struct cache *c)
{
    memset(c->e, 0, sizeof(c->e));
    cache_mutexes(c->mu, CACHE_SLOTS, 1);
    atomic_init(&c->bytes, 0);
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    topcols_init(&c->top);
    partcache_init(&c->part);
    c->off = env_on("LAMBDA_NO_CACHE");
}

/* A counter of hits and misses, in Prometheus text. */
static void
put_hits(struct buf *b, const char *name, const char *help, uint64_t hits,
    uint64_t misses)
{
    buf_printf(b, "# HELP lambda_serving_%s_requests_total %s\n"
        "# TYPE lambda_serving_%s_requests_total counter\n"
        "lambda_serving_%s_requests_total{result=\"hit\"} %llu\n"
        "lambda_serving_%s_requests_total{result=\"miss\"} %llu\n", name,
        help, name, name, (unsigned long long)hits, name,
        (unsigned long long)misses);
}

void
cache_put_metrics(struct cache *c, struct buf *b)
{
    size_t top;

    put_hits(b, "cache", "Series and top requests answered from the cache "
        "(hit) or computed (miss).", atomic_load(&c->hits),
        atomic_load(&c->misses));
    buf_printf(b, "# HELP lambda_serving_cache_bytes Bytes of answers held "
        "in the cache.\n# TYPE lambda_serving_cache_bytes gauge\n"
        "lambda_serving_cache_bytes %zu\n", atomic_load(&c->bytes));
    put_hits(b, "top_batch_cache", "Computed tops whose batch part came "
        "from the batch version's column (hit) or built it (miss).",
        atomic_load(&c->top.hits), atomic_load(&c->top.misses));
    put_hits(b, "top_speed_cache", "Computed tops whose speed part was "
        "read in the same speed state already (hit) or read now (miss).",
        atomic_load(&c->top.shits), atomic_load(&c->top.smisses));
    put_hits(b, "series_batch_cache", "Computed series whose points before "
        "the cutoff were kept for the batch version (hit) or computed (miss).",
        atomic_load(&c->part.hits), atomic_load(&c->part.misses));
    buf_printf(b, "# HELP lambda_serving_series_batch_cache_bytes Bytes of "
        "series' batch parts.\n# TYPE lambda_serving_series_batch_cache_bytes "
        "gauge\nlambda_serving_series_batch_cache_bytes %zu\n",
        atomic_load(&c->part.bytes));
    (void)pthread_mutex_lock(&c->top.mu);
    top = c->top.bytes;
    (void)pthread_mutex_unlock(&c->top.mu);
    buf_printf(b, "# HELP lambda_serving_top_batch_cache_bytes Bytes of "
        "top's batch columns.\n# TYPE lambda_serving_top_batch_cache_bytes "
        "gauge\nlambda_serving_top_batch_cache_bytes %zu\n", top);
}

int
cache_enabled(const struct cache *c)
{
    return !c->off;
}

static void
entry_drop(struct cache *c, struct cache_entry *e)
{
    if (e->resp != NULL) {
        MHD_destroy_response(e->resp);
        atomic_fetch_sub(&c->bytes, e->bytes);
    }
    free(e->key);
    free(e->id);
    memset(e, 0, sizeof(*e));
}

void
cache_reset(struct cache *c)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        entry_drop(c, &c->e[i]);
    cache_mutexes(c->mu, CACHE_SLOTS, 0);
    topcols_reset(&c->top);
    partcache_reset(&c->part);
}

void
cache_mutexes(pthread_mutex_t *mu, int n, int init)
{
    for (int i = 0; i < n; i++) {
        if (!init)
            (void)pthread_mutex_destroy(&mu[i]);
        else if (pthread_mutex_init(&mu[i], NULL) != 0)
            abort();
    }
}

uint64_t
cache_hash(const void *key, size_t klen)
{
    const unsigned char *p = key;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < klen; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

void
cache_key_begin(struct buf *key, const char *path)
{
    buf_append(key, path, strlen(path) + 1);
}

void
cache_key_param(struct buf *key, const char *name, const char *value)
{
    buf_append(key, name, strlen(name) + 1);
    buf_putc(key, value != NULL ? '=' : '!');
    if (value != NULL)
        buf_append(key, value, strlen(value) + 1);
}

uint64_t
cache_key_end(struct buf *key, int gzip)
{
    buf_putc(key, gzip ? 'z' : '-');
    return cache_hash(key->data, key->len);
}

int
cache_queue(struct cache *c, uint64_t h, const void *key, size_t klen,
    const void *id, size_t idlen, struct MHD_Connection *conn, int *ret)
{
    size_t i = h % CACHE_SLOTS;
    struct cache_entry *e = &c->e[i];
    int hit;

    if (c->off)
        return 0;
    (void)pthread_mutex_lock(&c->mu[i]);
    hit = e->resp != NULL && e->hash == h && e->klen == klen &&
        e->idlen == idlen && memcmp(e->key, key, klen) == 0 &&
        memcmp(e->id, id, idlen) == 0;
    if (hit)    /* queuing takes the library's own reference */
        *ret = MHD_queue_response(conn, MHD_HTTP_OK, e->resp);
    (void)pthread_mutex_unlock(&c->mu[i]);
    atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1,
        memory_order_relaxed);
    return hit;
}

void
cache_put(struct cache *c, uint64_t h, const void *key, size_t klen,
    const void *id, size_t idlen, struct MHD_Response *resp, size_t bytes)
{
    size_t i = h % CACHE_SLOTS;
    struct cache_entry *e = &c->e[i];

    if (bytes > CACHE_ENTRY_MAX || c->off) {
        MHD_destroy_response(resp);
        return;
    }
    (void)pthread_mutex_lock(&c->mu[i]);
    entry_drop(c, e);
    if (atomic_load(&c->bytes) + bytes > CACHE_BYTES) {
        (void)pthread_mutex_unlock(&c->mu[i]);
        MHD_destroy_response(resp);
        return;
    }
    e->hash = h;
    e->key = xmalloc(klen + 1);
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->id = xmalloc(idlen + 1);
    memcpy(e->id, id, idlen);
    e->idlen = idlen;
    e->resp = resp;
    e->bytes = bytes;
    atomic_fetch_add(&c->bytes, bytes);
    (void)pthread_mutex_unlock(&c->mu[i]);
}
