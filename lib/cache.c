/* cache.c — memcached access for one process (see cache.h). */
#include <libmemcached/memcached.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"

/* libmemcached marks a server that failed as disabled "until timed
 * retry", but a server restarted on the same address is not always taken
 * back; so after RECONNECT_MS of failures the client is rebuilt. */
#define RECONNECT_MS 2000

struct cache {
	memcached_st *mc;	/* NULL: disabled */
	char *servers;
	int timeout_ms;
	int64_t failing_since_ms;	/* 0: healthy */
	int64_t last_error_log;
};

static memcached_st *client_new(const char *servers, int timeout_ms)
{
	memcached_st *mc = memcached_create(NULL);
	memcached_server_st *list;

	if (mc == NULL)
		return NULL;
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
			       MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, (uint64_t)timeout_ms);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, (uint64_t)timeout_ms);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, (uint64_t)timeout_ms * 1000);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, (uint64_t)timeout_ms * 1000);
	/* A failed server is skipped for 2 s, then tried again. */
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 1);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 2);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, 2);
	list = memcached_servers_parse(servers);
	if (list != NULL) {
		memcached_server_push(mc, list);
		memcached_server_list_free(list);
	}
	return mc;
}

struct cache *cache_new(const char *servers, int timeout_ms)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (servers == NULL || servers[0] == '\0')
		return c;
	c->servers = strdup(servers);
	c->timeout_ms = timeout_ms;
	c->mc = c->servers ? client_new(servers, timeout_ms) : NULL;
	if (c->mc == NULL) {
		free(c->servers);
		free(c);
		return NULL;
	}
	return c;
}

/* Before an operation: rebuild a client that has been failing for long
 * enough. A failed rebuild keeps the old client. */
static void revive(struct cache *c)
{
	memcached_st *fresh;

	if (c->failing_since_ms == 0 || time_mono_ms() - c->failing_since_ms < RECONNECT_MS)
		return;
	fresh = client_new(c->servers, c->timeout_ms);
	if (fresh == NULL)
		return;
	memcached_free(c->mc);
	c->mc = fresh;
	c->failing_since_ms = 0;
}

static void succeeded(struct cache *c)
{
	c->failing_since_ms = 0;
}

void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->mc != NULL)
		memcached_free(c->mc);
	free(c->servers);
	free(c);
}

int cache_enabled(const struct cache *c)
{
	return c != NULL && c->mc != NULL;
}

void cache_key(char out[CACHE_KEY_MAX], const char *ns, const char *part)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];

	EVP_Digest(part, strlen(part), md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 20 && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(out, CACHE_KEY_MAX, "infra:%s:%s", ns, hex);
}

/* Count an operation's failure; log it at most once a second per process,
 * so an outage does not flood the log. */
static void cache_failed(struct cache *c, const char *op, memcached_return_t rc)
{
	int64_t now = (int64_t)time(NULL);

	metrics_add(METRIC_CACHE_ERRORS, 1);
	if (c->failing_since_ms == 0)
		c->failing_since_ms = time_mono_ms();
	if (now != c->last_error_log) {
		json_object *f = json_object_new_object();
		char msg[64];

		c->last_error_log = now;
		json_object_object_add(f, "error",
				       json_object_new_string(memcached_strerror(c->mc, rc)));
		snprintf(msg, sizeof(msg), "memcached %s failed; continuing without cache", op);
		log_emit(LOG_LEVEL_WARN, msg, f);
	}
}

char *cache_get(struct cache *c, const char *key, size_t *len)
{
	memcached_return_t rc;
	uint32_t flags;
	size_t n = 0;
	char *v, *copy;

	if (!cache_enabled(c)) {
		metrics_add(METRIC_CACHE_MISSES, 1);
		return NULL;
	}
	revive(c);
	v = memcached_get(c->mc, key, strlen(key), &n, &flags, &rc);
	if (v == NULL) {
		metrics_add(METRIC_CACHE_MISSES, 1);
		if (rc != MEMCACHED_NOTFOUND)
			cache_failed(c, "get", rc);
		else
			succeeded(c);
		return NULL;
	}
	succeeded(c);
	/* memcached_get's buffer is NUL-terminated by libmemcached; copy
	 * anyway so the caller frees with plain free(). */
	copy = malloc(n + 1);
	if (copy != NULL) {
		memcpy(copy, v, n);
		copy[n] = '\0';
		if (len)
			*len = n;
		metrics_add(METRIC_CACHE_HITS, 1);
	}
	free(v);
	return copy;
}

int cache_set(struct cache *c, const char *key, const void *value, size_t len, int ttl_s)
{
	memcached_return_t rc;

	if (!cache_enabled(c))
		return -1;
	revive(c);
	rc = memcached_set(c->mc, key, strlen(key), value, len, (time_t)ttl_s, 0);
	if (rc != MEMCACHED_SUCCESS) {
		cache_failed(c, "set", rc);
		return -1;
	}
	succeeded(c);
	return 0;
}

int cache_add(struct cache *c, const char *key, const void *value, size_t len, int ttl_s)
{
	memcached_return_t rc;

	if (!cache_enabled(c))
		return -1;
	revive(c);
	rc = memcached_add(c->mc, key, strlen(key), value, len, (time_t)ttl_s, 0);
	if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS) {
		succeeded(c);
		return rc == MEMCACHED_SUCCESS ? 0 : 1;
	}
	cache_failed(c, "add", rc);
	return -1;
}

int cache_delete(struct cache *c, const char *key)
{
	memcached_return_t rc;

	if (!cache_enabled(c))
		return -1;
	revive(c);
	rc = memcached_delete(c->mc, key, strlen(key), 0);
	if (rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND) {
		cache_failed(c, "delete", rc);
		return -1;
	}
	succeeded(c);
	return 0;
}

int cache_incr(struct cache *c, const char *key, uint64_t delta, uint64_t initial,
	       int ttl_s, uint64_t *out)
{
	memcached_return_t rc;
	uint64_t value = 0;

	if (!cache_enabled(c))
		return -1;
	revive(c);
	rc = memcached_increment_with_initial(c->mc, key, strlen(key), delta, initial,
					      (time_t)ttl_s, &value);
	if (rc != MEMCACHED_SUCCESS) {
		cache_failed(c, "increment", rc);
		return -1;
	}
	succeeded(c);
	if (out)
		*out = value;
	return 0;
}

int cache_ping(struct cache *c)
{
	static const char key[] = "infra:ping";
	memcached_return_t rc;

	if (!cache_enabled(c))
		return -1;
	/* A real round trip: memcached_version() answers from what it learnt
	 * earlier and would call a dead server alive. */
	revive(c);
	rc = memcached_set(c->mc, key, sizeof(key) - 1, "1", 1, 60, 0);
	if (rc != MEMCACHED_SUCCESS) {
		cache_failed(c, "ping", rc);
		return -1;
	}
	succeeded(c);
	return 0;
}
