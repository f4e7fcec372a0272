/* cache.h — memcached access for one process.
 *
 * One client per process, created after fork. Binary protocol with key
 * verification, consistent (ketama) distribution over the configured
 * servers, connect and poll timeouts of MEMCACHED_TIMEOUT_MS, and a dead
 * server skipped for a few seconds before it is tried again: an outage
 * costs milliseconds. A miss or an outage is never an error to the caller,
 * only a NULL or -1 it must tolerate; hits, misses and errors are counted
 * in /metrics. */
#ifndef INFRA_CACHE_H
#define INFRA_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct cache;

#define CACHE_KEY_MAX 128

/* Create a client for "host:port,host:port" (NULL or "" gives a client
 * whose every lookup misses). Returns NULL only when out of memory. */
struct cache *cache_new(const char *servers, int timeout_ms);

/* Close the connections and free the client. NULL is allowed. */
void cache_free(struct cache *c);

/* Build a key "infra:<ns>:<hash of part>" in `out`: the variable part is
 * hashed (SHA-256, hex) so any input gives a short valid key. */
void cache_key(char out[CACHE_KEY_MAX], const char *ns, const char *part);

/* Return the value (malloc'ed, NUL-terminated; the caller frees it) and its
 * length, or NULL on a miss or when memcached is unreachable. */
char *cache_get(struct cache *c, const char *key, size_t *len);

/* Store `len` bytes for `ttl_s` seconds (0: no expiry). 0 or -1. */
int cache_set(struct cache *c, const char *key, const void *value, size_t len, int ttl_s);

/* Store only if absent. 0 when stored, 1 when it existed, -1 on error. */
int cache_add(struct cache *c, const char *key, const void *value, size_t len, int ttl_s);

/* Remove a key. 0 (also when absent) or -1. */
int cache_delete(struct cache *c, const char *key);

/* Atomically add `delta` to a counter, creating it at `initial` with
 * `ttl_s` when absent. Returns 0 and the new value in *out, or -1. */
int cache_incr(struct cache *c, const char *key, uint64_t delta, uint64_t initial,
	       int ttl_s, uint64_t *out);

/* 0 when every configured server answers, -1 otherwise (or when none is
 * configured). For /health/ready. */
int cache_ping(struct cache *c);

/* 1 when servers are configured, 0 for the always-missing client. */
int cache_enabled(const struct cache *c);

#endif
