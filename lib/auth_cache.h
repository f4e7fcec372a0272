/* auth_cache.h — verified principals cached by token, in a small table of
 * this process in front of memcached (shared by every process and host).
 *
 * An entry is filed under the SHA-256 of the token and a generation tag
 * (auth_gen.h): when role bindings change or a token is revoked the tag
 * changes and every older entry, here or in memcached, stops matching. An
 * entry lives until its `until` (min(token exp, now + AUTH_CACHE_TTL)),
 * in both places alike. */
#ifndef INFRA_AUTH_CACHE_H
#define INFRA_AUTH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "auth_gen.h"
#include "cache.h"
#include "principal.h"

#define AUTH_TOKEN_HASH_LEN 32		/* SHA-256 */

struct auth_cache;

/* A cache of `slots` local entries (rounded up to a power of two) in front
 * of `mc` (borrowed; may be a disabled client). Returns NULL only when out
 * of memory. */
struct auth_cache *auth_cache_new(struct cache *mc, size_t slots);

/* Free the cache and every principal it holds. NULL is allowed. */
void auth_cache_free(struct auth_cache *ac);

/* The SHA-256 of `token`, the key of its entries. */
void auth_cache_hash(const char *token, size_t len, unsigned char out[AUTH_TOKEN_HASH_LEN]);

/* Look the token up under `tag` at time `now` (seconds): locally, then in
 * memcached (a memcached hit is kept locally). Returns AUTH_CACHE_LOCAL or
 * AUTH_CACHE_SHARED with a copy in `out` (initialised; the caller releases
 * it), or AUTH_CACHE_MISS. */
enum auth_cache_result { AUTH_CACHE_MISS = 0, AUTH_CACHE_LOCAL, AUTH_CACHE_SHARED };

enum auth_cache_result auth_cache_get(struct auth_cache *ac,
				      const unsigned char hash[AUTH_TOKEN_HASH_LEN],
				      const char *tag, int64_t now, struct principal *out);

/* File `p` under the token and `tag` until `until` (seconds; nothing is
 * stored when that is not after `now`). */
void auth_cache_put(struct auth_cache *ac, const unsigned char hash[AUTH_TOKEN_HASH_LEN],
		    const char *tag, const struct principal *p, int64_t until, int64_t now);

/* Drop the token's entry under `tag`, here and in memcached. */
void auth_cache_forget(struct auth_cache *ac, const unsigned char hash[AUTH_TOKEN_HASH_LEN],
		       const char *tag);

#endif
