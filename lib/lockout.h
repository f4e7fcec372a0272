/* lockout.h — failed authentications counted per client address across
 * hosts in memcached: AUTH_FAIL_THRESHOLD failures within AUTH_FAIL_WINDOW
 * seconds (a fixed window from the first failure) lock the address out for
 * AUTH_LOCKOUT seconds, during which the HTTP layer answers 429 with
 * Retry-After. Without memcached nothing is counted (an outage makes
 * authentication slower, never refused). */
#ifndef INFRA_LOCKOUT_H
#define INFRA_LOCKOUT_H

#include "cache.h"

struct lockout_policy {
	int threshold;		/* failures that lock an address */
	int window_s;		/* … counted over this many seconds */
	int lockout_s;		/* how long the lock lasts */
};

/* Count one failed authentication from `ip` (NULL or "" is not counted).
 * Returns the seconds `ip` is now locked out for (this failure may have
 * locked it), or 0. */
int lockout_record_failure(struct cache *cache, const struct lockout_policy *p, const char *ip);

/* Seconds `ip` stays locked out (at least 1 while locked), or 0. */
int lockout_remaining(struct cache *cache, const char *ip);

#endif
