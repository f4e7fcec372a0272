/* auth_gen.c — role-binding and revocation generations: the database's
 * counters, memcached's copy, and the fallback between them (see
 * auth_gen.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "auth_gen.h"
#include "log.h"
#include "timeutil.h"

/* Database row name and memcached key of each kind. */
static const char *const gen_row[AUTH_GEN_KINDS] = { "role_bindings", "revocations" };
static const char *const gen_key[AUTH_GEN_KINDS] = {
	"infra:authgen:role_bindings", "infra:authgen:revocations",
};

#define HIGH(v) ((v) >> 32)

void auth_gen_init(struct auth_gen *g, struct cache *cache, struct db *db)
{
	memset(g, 0, sizeof(*g));
	g->cache = cache;
	g->db = db;
}

static uint64_t nonce32(void)
{
	uint32_t n = 0;

	if (getrandom(&n, sizeof(n), 0) != (ssize_t)sizeof(n))
		n = (uint32_t)time_mono_us();
	return n;
}

/* Both database counters. Returns 0 or -1. */
static int read_db(struct auth_gen *g, uint64_t out[AUTH_GEN_KINDS], struct infra_error *err)
{
	PGresult *res = db_exec(g->db, err, "SELECT name, generation FROM auth_generations", 0, NULL);
	int found = 0;

	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		for (int k = 0; k < AUTH_GEN_KINDS; k++)
			if (strcmp(PQgetvalue(res, i, 0), gen_row[k]) == 0) {
				out[k] = strtoull(PQgetvalue(res, i, 1), NULL, 10);
				found++;
			}
	PQclear(res);
	if (found != AUTH_GEN_KINDS) {
		log_error("table 'auth_generations' lacks its rows; is the control schema migrated");
		return infra_fail(err, INFRA_EINTERNAL, "internal error");
	}
	return 0;
}

/* memcached's value of `kind`: 0 and *out, or -1 (missing or unreachable). */
static int mc_read(struct auth_gen *g, int kind, uint64_t *out)
{
	size_t len;
	char *v = cache_get(g->cache, gen_key[kind], &len), *end;
	int rc = -1;

	if (v != NULL) {
		*out = strtoull(v, &end, 10);
		rc = end != v && *end == '\0' ? 0 : -1;
		free(v);
	}
	return rc;
}

/* Create memcached's missing key from the database's value and a fresh
 * nonce (or read it if another process just did). 0 and *out, or -1 when
 * memcached does not answer. */
static int mc_create(struct auth_gen *g, int kind, uint64_t db_value, uint64_t *out)
{
	uint64_t initial = db_value << 32 | nonce32();
	char text[24];
	int rc;

	snprintf(text, sizeof(text), "%" PRIu64, initial);
	rc = cache_add(g->cache, gen_key[kind], text, strlen(text), 0);
	if (rc == 0) {
		*out = initial;
		return 0;
	}
	return rc == 1 ? mc_read(g, kind, out) : -1;
}

/* Push memcached's counters forward where they lag the database's (a
 * change published while this host, or every host, could not reach
 * memcached). */
static void mc_catch_up(struct auth_gen *g, uint64_t mc[AUTH_GEN_KINDS],
			const uint64_t db[AUTH_GEN_KINDS])
{
	for (int k = 0; k < AUTH_GEN_KINDS; k++) {
		if (HIGH(mc[k]) >= db[k])
			continue;
		log_warn("generation '%s' in memcached lags the database; catching up", gen_row[k]);
		cache_incr(g->cache, gen_key[k], (db[k] - HIGH(mc[k])) << 32, mc[k], 0, &mc[k]);
	}
}

int auth_gen_refresh(struct auth_gen *g, bool force, struct infra_error *err)
{
	int64_t now = time_mono_ms();
	uint64_t mc[AUTH_GEN_KINDS], db[AUTH_GEN_KINDS];
	bool have_db = false, mc_ok = true;

	if (!force && g->valid && now - g->read_ms < AUTH_GEN_REFRESH_MS)
		return 0;
	for (int k = 0; k < AUTH_GEN_KINDS && mc_ok; k++) {
		if (mc_read(g, k, &mc[k]) == 0)
			continue;
		/* Missing (memcached restarted, or never set) or unreachable. */
		if (!have_db) {
			if (read_db(g, db, err) != 0)
				goto fail;
			have_db = true;
		}
		mc_ok = mc_create(g, k, db[k], &mc[k]) == 0;
	}
	if (!mc_ok) {
		if (!have_db && read_db(g, db, err) != 0)
			goto fail;
		memcpy(g->value, db, sizeof(db));
		g->from_db = true;
	} else {
		if (g->from_db || now - g->checked_ms >= AUTH_GEN_RECHECK_MS) {
			struct infra_error ignored;

			if (have_db || read_db(g, db, &ignored) == 0)
				mc_catch_up(g, mc, db);
			g->checked_ms = now;
		}
		memcpy(g->value, mc, sizeof(mc));
		g->from_db = false;
	}
	g->valid = true;
	g->read_ms = now;
	return 0;
fail:
	g->valid = false;
	return -1;
}

int auth_gen_bump_db(struct db *db, enum auth_gen_kind kind, uint64_t *out,
		     struct infra_error *err)
{
	const char *params[] = { gen_row[kind] };
	PGresult *res = db_exec(db, err,
				"UPDATE auth_generations SET generation = generation + 1 "
				"WHERE name = $1 RETURNING generation", 1, params);

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		log_error("table 'auth_generations' lacks row '%s'", gen_row[kind]);
		return infra_fail(err, INFRA_EINTERNAL, "internal error");
	}
	*out = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

void auth_gen_publish(struct auth_gen *g, enum auth_gen_kind kind, uint64_t db_value)
{
	struct infra_error err;
	uint64_t v;

	if (cache_incr(g->cache, gen_key[kind], UINT64_C(1) << 32,
		       db_value << 32 | nonce32(), 0, &v) != 0 && cache_enabled(g->cache))
		log_warn("generation '%s' not published to memcached; other hosts see it "
			 "within %d s", gen_row[kind], AUTH_GEN_RECHECK_MS / 1000);
	auth_gen_refresh(g, true, &err);
}

void auth_gen_tag(const struct auth_gen *g, char out[AUTH_GEN_TAG_MAX])
{
	snprintf(out, AUTH_GEN_TAG_MAX, "%c%" PRIx64 ".%" PRIx64, g->from_db ? 'd' : 'm',
		 g->value[AUTH_GEN_ROLES], g->value[AUTH_GEN_REVOCATIONS]);
}
