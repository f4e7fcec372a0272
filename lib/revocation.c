/* revocation.c — revoked token ids in the control database, with a
 * positive copy in memcached (see revocation.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_gen.h"
#include "jwt_verify.h"
#include "revocation.h"
#include "timeutil.h"

/* Every jti a verified token may carry can be revoked (jwt_verify.h). */
_Static_assert(JWT_JTI_MAX < REVOCATION_JTI_MAX, "an accepted jti must fit the revocation store");

static void revoked_key(char key[CACHE_KEY_MAX], const char *jti)
{
	cache_key(key, "revoked", jti);
}

/* Copy a revoked jti to memcached until its row expires. */
static void remember(struct cache *cache, const char *jti, int64_t until)
{
	char key[CACHE_KEY_MAX];
	int64_t ttl = until - time_wall_s();

	if (ttl <= 0)
		return;
	revoked_key(key, jti);
	cache_set(cache, key, "1", 1, (int)(ttl < 86400 * 30 ? ttl : 86400 * 30));
}

int revocation_add(struct db *db, struct cache *cache, const char *jti, const char *sub,
		   int64_t expires_at, int grace_s, uint64_t *generation,
		   struct infra_error *err)
{
	char until[32];
	const char *params[3];

	if (jti == NULL || jti[0] == '\0' || strlen(jti) >= REVOCATION_JTI_MAX)
		return infra_fail_field(err, "jti", "a token without a usable jti cannot be revoked");
	snprintf(until, sizeof(until), "%" PRId64, expires_at + grace_s);
	params[0] = jti;
	params[1] = sub;
	params[2] = until;
	if (db_begin(db, err) != 0)
		return -1;
	if (db_exec_command(db, err,
			    "INSERT INTO revoked_tokens (jti, sub, expires_at) "
			    "VALUES ($1, $2, to_timestamp($3::bigint)) "
			    "ON CONFLICT (jti) DO UPDATE SET expires_at = "
			    "greatest(revoked_tokens.expires_at, EXCLUDED.expires_at)", 3, params) != 0 ||
	    db_exec_command(db, err, "DELETE FROM revoked_tokens WHERE expires_at < now()",
			    0, NULL) != 0 ||
	    auth_gen_bump_db(db, AUTH_GEN_REVOCATIONS, generation, err) != 0) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db, err) != 0)
		return -1;
	remember(cache, jti, expires_at + grace_s);
	return 0;
}

int revocation_check(struct db *db, struct cache *cache, const char *jti,
		     struct infra_error *err)
{
	char key[CACHE_KEY_MAX], *hit;
	const char *params[] = { jti };
	PGresult *res;
	int revoked;

	revoked_key(key, jti);
	hit = cache_get(cache, key, NULL);
	if (hit != NULL) {
		free(hit);
		return 1;
	}
	res = db_exec(db, err, "SELECT extract(epoch FROM expires_at)::bigint "
			       "FROM revoked_tokens WHERE jti = $1", 1, params);
	if (res == NULL)
		return -1;
	revoked = PQntuples(res) > 0;
	/* Found only in the database: memcached lost it (a restart). */
	if (revoked)
		remember(cache, jti, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
	PQclear(res);
	return revoked;
}
