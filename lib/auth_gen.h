/* auth_gen.h — the generation counters that make a change of role
 * bindings or a logout visible on every host within a second, even while
 * cached principals are still alive: every cached principal is filed under
 * the generations current when it was computed, so a bump makes every
 * such entry unreachable.
 *
 * The database (table auth_generations) is the authority: a change bumps
 * its counter in the same transaction. memcached carries a copy every
 * process reads at most every AUTH_GEN_REFRESH_MS, as a counter whose high
 * 32 bits follow the database's and whose low 32 bits are a random nonce
 * chosen when the key is (re)created, so a memcached restart never brings
 * back an old value. When memcached cannot be reached the database's
 * counters are read instead (tags then start with "d", so nothing cached
 * under memcached's values matches), and every AUTH_GEN_RECHECK_MS — and
 * whenever memcached comes back — memcached's copy is compared with the
 * database and pushed forward if a change was missed. */
#ifndef INFRA_AUTH_GEN_H
#define INFRA_AUTH_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "db.h"
#include "error.h"

enum auth_gen_kind {
	AUTH_GEN_ROLES,		/* role bindings changed */
	AUTH_GEN_REVOCATIONS,	/* a token was revoked */
	AUTH_GEN_KINDS
};

#define AUTH_GEN_REFRESH_MS 500
#define AUTH_GEN_RECHECK_MS 5000
#define AUTH_GEN_TAG_MAX 48

struct auth_gen {
	struct cache *cache;		/* borrowed */
	struct db *db;			/* borrowed */
	uint64_t value[AUTH_GEN_KINDS];
	bool from_db;			/* value[] are the database's counters */
	bool valid;			/* value[] were read at least once */
	int64_t read_ms;		/* monotonic time of the last read */
	int64_t checked_ms;		/* … of the last memcached/database comparison */
};

/* Prepare `g`; reads nothing yet. `cache` and `db` must outlive it. */
void auth_gen_init(struct auth_gen *g, struct cache *cache, struct db *db);

/* Bring the values up to date when they are older than
 * AUTH_GEN_REFRESH_MS, or now when `force`. Returns 0, or -1 (err filled,
 * INFRA_EUNAVAIL) when neither memcached nor the database answered: then
 * g->valid is false and nothing cached may be trusted. */
int auth_gen_refresh(struct auth_gen *g, bool force, struct infra_error *err);

/* Inside the caller's open transaction: count one change of `kind` in the
 * database. Returns 0 and the new counter in *out, or -1. */
int auth_gen_bump_db(struct db *db, enum auth_gen_kind kind, uint64_t *out,
		     struct infra_error *err);

/* After that transaction committed: carry the change to memcached (whose
 * failure is logged, and mended by the periodic recheck), then re-read
 * this process's values. */
void auth_gen_publish(struct auth_gen *g, enum auth_gen_kind kind, uint64_t db_value);

/* A short string naming the current values, for cache keys. */
void auth_gen_tag(const struct auth_gen *g, char out[AUTH_GEN_TAG_MAX]);

#endif
