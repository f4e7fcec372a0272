/* auth_cache.c — principals by token hash and generation tag: a
 * direct-mapped table in this process, memcached behind it (see
 * auth_cache.h). */
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_cache.h"

struct slot {
	bool used;
	unsigned char hash[AUTH_TOKEN_HASH_LEN];
	char tag[AUTH_GEN_TAG_MAX];
	int64_t until;
	struct principal p;
};

struct auth_cache {
	struct cache *mc;
	struct slot *slots;
	size_t mask;
};

struct auth_cache *auth_cache_new(struct cache *mc, size_t slots)
{
	struct auth_cache *ac = calloc(1, sizeof(*ac));
	size_t n = 1;

	while (n < slots)
		n <<= 1;
	if (ac == NULL || (ac->slots = calloc(n, sizeof(*ac->slots))) == NULL) {
		free(ac);
		return NULL;
	}
	ac->mc = mc;
	ac->mask = n - 1;
	return ac;
}

void auth_cache_free(struct auth_cache *ac)
{
	if (ac == NULL)
		return;
	for (size_t i = 0; i <= ac->mask; i++)
		principal_release(&ac->slots[i].p);
	free(ac->slots);
	free(ac);
}

void auth_cache_hash(const char *token, size_t len, unsigned char out[AUTH_TOKEN_HASH_LEN])
{
	unsigned int n = 0;

	EVP_Digest(token, len, out, &n, EVP_sha256(), NULL);
}

static struct slot *slot_of(struct auth_cache *ac, const unsigned char *hash)
{
	size_t i;

	memcpy(&i, hash, sizeof(i));
	return &ac->slots[i & ac->mask];
}

static void mc_key(char key[CACHE_KEY_MAX], const unsigned char *hash, const char *tag)
{
	char part[AUTH_GEN_TAG_MAX + 2 * AUTH_TOKEN_HASH_LEN + 2];
	int n = snprintf(part, sizeof(part), "%s:", tag);

	for (int i = 0; i < AUTH_TOKEN_HASH_LEN; i++)
		n += snprintf(part + n, sizeof(part) - (size_t)n, "%02x", hash[i]);
	cache_key(key, "principal", part);
}

static void keep_local(struct auth_cache *ac, const unsigned char *hash, const char *tag,
		       const struct principal *p, int64_t until)
{
	struct slot *s = slot_of(ac, hash);

	s->used = true;
	memcpy(s->hash, hash, AUTH_TOKEN_HASH_LEN);
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
	s->until = until;
	principal_copy(&s->p, p);
}

enum auth_cache_result auth_cache_get(struct auth_cache *ac,
				      const unsigned char hash[AUTH_TOKEN_HASH_LEN],
				      const char *tag, int64_t now, struct principal *out)
{
	struct slot *s = slot_of(ac, hash);
	char key[CACHE_KEY_MAX], *v;
	size_t len;
	int64_t until;

	if (s->used && now < s->until && memcmp(s->hash, hash, AUTH_TOKEN_HASH_LEN) == 0 &&
	    strcmp(s->tag, tag) == 0) {
		principal_copy(out, &s->p);
		return AUTH_CACHE_LOCAL;
	}
	mc_key(key, hash, tag);
	v = cache_get(ac->mc, key, &len);
	if (v == NULL)
		return AUTH_CACHE_MISS;
	if (principal_deserialize(out, v, len, &until) != 0 || now >= until) {
		free(v);
		principal_release(out);
		return AUTH_CACHE_MISS;
	}
	free(v);
	keep_local(ac, hash, tag, out, until);
	return AUTH_CACHE_SHARED;
}

void auth_cache_put(struct auth_cache *ac, const unsigned char hash[AUTH_TOKEN_HASH_LEN],
		    const char *tag, const struct principal *p, int64_t until, int64_t now)
{
	char key[CACHE_KEY_MAX], *v;
	size_t len;

	if (until <= now)
		return;
	keep_local(ac, hash, tag, p, until);
	mc_key(key, hash, tag);
	v = principal_serialize(p, until, &len);
	cache_set(ac->mc, key, v, len, (int)(until - now));
	free(v);
}

void auth_cache_forget(struct auth_cache *ac, const unsigned char hash[AUTH_TOKEN_HASH_LEN],
		       const char *tag)
{
	struct slot *s = slot_of(ac, hash);
	char key[CACHE_KEY_MAX];

	if (s->used && memcmp(s->hash, hash, AUTH_TOKEN_HASH_LEN) == 0) {
		principal_release(&s->p);
		s->used = false;
	}
	mc_key(key, hash, tag);
	cache_delete(ac->mc, key);
}
