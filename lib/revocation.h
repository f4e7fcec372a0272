/* revocation.h — logged-out tokens, refused on every host from then on.
 *
 * The control database (table revoked_tokens) is the authority: a jti is
 * stored there with its token's expiry, in the same transaction as a bump
 * of the revocation generation (auth_gen.h), and pruned once expired.
 * memcached holds a copy of each revoked jti so replays of a revoked
 * token are refused without a database query; its absence from memcached
 * is never trusted (memcached may be down or have been restarted): the
 * database decides. */
#ifndef INFRA_REVOCATION_H
#define INFRA_REVOCATION_H

#include <stdint.h>

#include "cache.h"
#include "db.h"
#include "error.h"

/* Size of the longest jti stored, its NUL included; jwt_verify refuses a
 * token whose jti would not fit (JWT_JTI_MAX), so logout never meets one. */
#define REVOCATION_JTI_MAX 256

/* Revoke `jti` (of subject `sub`, may be NULL) until `expires_at`
 * (seconds since the epoch) plus `grace_s`, prune rows past their expiry,
 * and bump the revocation generation, in one transaction; then copy the
 * jti to memcached. Returns 0 and the new generation in *generation, or
 * -1 (INFRA_EINVAL for an empty or overlong jti). Revoking twice is not an
 * error. */
int revocation_add(struct db *db, struct cache *cache, const char *jti, const char *sub,
		   int64_t expires_at, int grace_s, uint64_t *generation,
		   struct infra_error *err);

/* 1 when `jti` is revoked, 0 when it is not, -1 (err filled, usually
 * INFRA_EUNAVAIL) when the database cannot say. */
int revocation_check(struct db *db, struct cache *cache, const char *jti,
		     struct infra_error *err);

#endif
