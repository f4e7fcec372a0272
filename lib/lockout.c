/* lockout.c — per-address failure counting and lock-out in memcached (see
 * lockout.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockout.h"
#include "log.h"
#include "timeutil.h"

int lockout_remaining(struct cache *cache, const char *ip)
{
	char key[CACHE_KEY_MAX], *v;
	int64_t until, left;

	if (ip == NULL || ip[0] == '\0')
		return 0;
	cache_key(key, "auth-lock", ip);
	v = cache_get(cache, key, NULL);
	if (v == NULL)
		return 0;
	until = strtoll(v, NULL, 10);
	free(v);
	left = until - time_wall_s();
	if (left <= 0)
		return 0;
	return left > 86400 ? 86400 : (int)left;
}

int lockout_record_failure(struct cache *cache, const struct lockout_policy *p, const char *ip)
{
	char key[CACHE_KEY_MAX], until[24];
	uint64_t failures;

	if (ip == NULL || ip[0] == '\0' || p->threshold <= 0)
		return 0;
	cache_key(key, "auth-fail", ip);
	if (cache_incr(cache, key, 1, 1, p->window_s, &failures) != 0 ||
	    failures < (uint64_t)p->threshold)
		return 0;
	snprintf(until, sizeof(until), "%" PRId64, time_wall_s() + p->lockout_s);
	cache_key(key, "auth-lock", ip);
	if (cache_set(cache, key, until, strlen(until), p->lockout_s) != 0)
		return 0;
	/* A new window starts when the lock ends. */
	cache_key(key, "auth-fail", ip);
	cache_delete(cache, key);
	log_warn("client '%s' locked out for %d s after %" PRIu64 " failed authentications",
		 ip, p->lockout_s, failures);
	return p->lockout_s;
}
