/* cache.c -- finished answers of series and top, reused while the store is unchanged */
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "serving/cache.h"
#include "shared/buf.h"
#include "shared/mem.h"

void
cache_init(struct cache *c)
{
    memset(c->e, 0, sizeof(c->e));
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (pthread_mutex_init(&c->mu[i], NULL) != 0)
            abort();
    atomic_init(&c->bytes, 0);
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
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
    for (int i = 0; i < CACHE_SLOTS; i++) {
        entry_drop(c, &c->e[i]);
        (void)pthread_mutex_destroy(&c->mu[i]);
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

    if (bytes > CACHE_ENTRY_MAX) {
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
