/* probe.c — health probes of the managed databases run by the job runners,
 * their history, the cached health answer and the fleet summary (see
 * probe.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "crypto.h"
#include "log.h"
#include "metrics.h"
#include "pgprobe.h"
#include "probe.h"
#include "registry.h"
#include "timeutil.h"
#include "uuid.h"

/* A timestamp column as the API writes it. */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define PRUNE_EVERY_MS 10000
#define GAUGES_EVERY_MS 10000
#define RETRY_AFTER_ERROR_MS 5000

static void cache_key_for(char out[CACHE_KEY_MAX], const char *id)
{
	cache_key(out, "dbhealth", id);
}

static int cache_ttl(const struct config *cfg)
{
	return 2 * cfg->probe_interval_s + cfg->probe_timeout_s + 5;
}

/* Build the health answer of `id` from the tables. */
static int health_build(struct db *db, const char *id, const char *scope, json_object **out,
			struct infra_error *err)
{
	const char *params[2] = { id, scope };
	json_object *doc, *current, *history;
	PGresult *res;
	int n;

	res = db_exec(db, err,
		      "SELECT d.id, d.tenant, coalesce(c.state, 'closed'), "
		      "coalesce(c.consecutive_failures, 0), " ISO("c.last_checked_at") ", "
		      "c.last_is_healthy, c.last_response_ms, c.last_error, c.last_server_version, "
		      ISO("c.next_probe_at") " FROM databases d "
		      "LEFT JOIN database_circuits c ON c.database_id = d.id "
		      "WHERE d.id = $1 AND ($2::text IS NULL OR d.tenant = $2)", 2, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	}
	doc = json_object_new_object();
	current = json_object_new_object();
	json_object_object_add(doc, "database_id", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(doc, "tenant", db_json_text(res, 0, 1));
	json_object_object_add(current, "is_healthy", db_json_bool(res, 0, 5));
	json_object_object_add(current, "response_time_ms", db_json_number(res, 0, 6));
	json_object_object_add(current, "checked_at", db_json_text(res, 0, 4));
	json_object_object_add(current, "error", db_json_text(res, 0, 7));
	json_object_object_add(current, "server_version", db_json_text(res, 0, 8));
	json_object_object_add(current, "circuit", json_object_new_string(PQgetvalue(res, 0, 2)));
	json_object_object_add(current, "consecutive_failures",
			       json_object_new_int(atoi(PQgetvalue(res, 0, 3))));
	json_object_object_add(current, "next_probe_at", db_json_text(res, 0, 9));
	json_object_object_add(doc, "current", current);
	PQclear(res);

	res = db_exec(db, err,
		      "SELECT " ISO("checked_at") ", is_healthy, response_time_ms, error, "
		      "server_version, circuit FROM database_probes WHERE database_id = $1 "
		      "ORDER BY checked_at DESC, id DESC LIMIT " PROBE_HISTORY_SQL, 1, params);
	if (res == NULL) {
		json_object_put(doc);
		return -1;
	}
	history = json_object_new_array();
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "checked_at", db_json_text(res, i, 0));
		json_object_object_add(p, "is_healthy", db_json_bool(res, i, 1));
		json_object_object_add(p, "response_time_ms", db_json_number(res, i, 2));
		json_object_object_add(p, "error", db_json_text(res, i, 3));
		json_object_object_add(p, "server_version", db_json_text(res, i, 4));
		json_object_object_add(p, "circuit", db_json_text(res, i, 5));
		json_object_array_add(history, p);
	}
	PQclear(res);
	json_object_object_add(doc, "history", history);
	*out = doc;
	return 0;
}

static void health_cache_store(struct cache *cache, const struct config *cfg, const char *id,
			       json_object *doc)
{
	char key[CACHE_KEY_MAX];
	size_t len;
	const char *text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);

	cache_key_for(key, id);
	cache_set(cache, key, text, len, cache_ttl(cfg));
}

int probe_health_get(struct db *db, struct cache *cache, const struct config *cfg,
		     const char *id, const char *scope, json_object **out, bool *cached,
		     struct infra_error *err)
{
	char key[CACHE_KEY_MAX];
	size_t len;
	char *text;

	*out = NULL;
	*cached = false;
	if (!uuid_is_valid(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	cache_key_for(key, id);
	text = cache_get(cache, key, &len);
	if (text != NULL) {
		json_object *doc = json_tokener_parse(text), *tenant = NULL;

		free(text);
		if (doc != NULL && json_object_is_type(doc, json_type_object) &&
		    json_object_object_get_ex(doc, "tenant", &tenant)) {
			if (scope != NULL && (tenant == NULL ||
					      strcmp(json_object_get_string(tenant), scope) != 0)) {
				json_object_put(doc);
				return infra_fail(err, INFRA_ENOTFOUND, "no such database");
			}
			*out = doc;
			*cached = true;
			return 0;
		}
		json_object_put(doc);	/* not ours: rebuild it */
	}
	if (health_build(db, id, scope, out, err) != 0)
		return -1;
	health_cache_store(cache, cfg, id, *out);
	return 0;
}

void probe_health_forget(struct cache *cache, const char *id)
{
	char key[CACHE_KEY_MAX];

	if (cache == NULL)
		return;
	cache_key_for(key, id);
	cache_delete(cache, key);
}

/* --- the fleet --- */

int probe_fleet_summary(struct db *db, struct probe_fleet *out, struct infra_error *err)
{
	PGresult *res = db_exec(db, err,
				"SELECT count(*), count(*) FILTER (WHERE c.last_is_healthy), "
				"count(*) FILTER (WHERE NOT c.last_is_healthy), "
				"count(*) FILTER (WHERE c.last_is_healthy IS NULL), "
				"count(*) FILTER (WHERE c.state = 'open'), "
				"count(*) FILTER (WHERE c.state = 'half_open') "
				"FROM databases d LEFT JOIN database_circuits c ON c.database_id = d.id "
				"WHERE d.is_active", 0, NULL);

	if (res == NULL)
		return -1;
	out->total = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	out->healthy = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	out->unhealthy = strtol(PQgetvalue(res, 0, 2), NULL, 10);
	out->unknown = strtol(PQgetvalue(res, 0, 3), NULL, 10);
	out->circuits_open = strtol(PQgetvalue(res, 0, 4), NULL, 10);
	out->circuits_half_open = strtol(PQgetvalue(res, 0, 5), NULL, 10);
	PQclear(res);
	return 0;
}

json_object *probe_fleet_json(const struct probe_fleet *f, double response_time_ms)
{
	json_object *o = json_object_new_object(), *d = json_object_new_object();
	char msg[160], ms[32];

	snprintf(msg, sizeof(msg), "%ld databases: %ld healthy, %ld unhealthy, %ld not probed yet; "
		 "%ld circuits open", f->total, f->healthy, f->unhealthy, f->unknown, f->circuits_open);
	snprintf(ms, sizeof(ms), "%.2f", response_time_ms);
	json_object_object_add(o, "name", json_object_new_string("targets"));
	json_object_object_add(o, "is_healthy", json_object_new_boolean(f->circuits_open == 0));
	json_object_object_add(o, "response_time_ms", json_object_new_double_s(response_time_ms, ms));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(d, "total", json_object_new_int64(f->total));
	json_object_object_add(d, "healthy", json_object_new_int64(f->healthy));
	json_object_object_add(d, "unhealthy", json_object_new_int64(f->unhealthy));
	json_object_object_add(d, "unknown", json_object_new_int64(f->unknown));
	json_object_object_add(d, "circuits_open", json_object_new_int64(f->circuits_open));
	json_object_object_add(d, "circuits_half_open", json_object_new_int64(f->circuits_half_open));
	json_object_object_add(o, "details", d);
	return o;
}

static void fleet_gauges(struct db *db)
{
	struct probe_fleet f;
	struct infra_error err;

	if (probe_fleet_summary(db, &f, &err) != 0)
		return;
	metrics_gauge("infra_databases", "health=\"healthy\"", f.healthy);
	metrics_gauge("infra_databases", "health=\"unhealthy\"", f.unhealthy);
	metrics_gauge("infra_databases", "health=\"unknown\"", f.unknown);
	metrics_gauge("infra_database_circuits", "state=\"open\"", f.circuits_open);
	metrics_gauge("infra_database_circuits", "state=\"half_open\"", f.circuits_half_open);
	metrics_gauge("infra_database_circuits", "state=\"closed\"",
		      f.total - f.circuits_open - f.circuits_half_open);
}

/* --- recording outcomes --- */

int probe_report_outcome(struct db *db, struct cache *cache, const struct config *cfg,
			 const char *id, bool ok, struct infra_error *err)
{
	struct circuit_change ch;

	if (db_begin(db, err) != 0)
		return -1;
	if (circuit_update(db, cfg, id, ok, &ch, err) != 0 ||
	    circuit_record_event(db, id, &ch, ch.was_healthy_known ? ch.was_healthy : ok,
				 NULL, err) != 0 ||
	    db_commit(db, err) != 0) {
		db_rollback(db);
		return -1;
	}
	probe_health_forget(cache, id);
	return 0;
}

/* Store one probe: circuit, latest state, history and event in one
 * transaction. 0 or -1 (logged by the caller). */
static int record(struct db *db, const struct config *cfg, const char *id,
		  const struct pgprobe_result *r, struct infra_error *err)
{
	struct circuit_change ch;
	char ms[32];
	const char *error = r->ok ? NULL : r->error;
	const char *version = r->ok ? r->server_version : NULL;

	snprintf(ms, sizeof(ms), "%.3f", r->latency_ms);
	if (db_begin(db, err) != 0)
		return -1;
	if (circuit_update(db, cfg, id, r->ok, &ch, err) != 0)
		goto fail;
	{
		const char *params[6] = {
			id, r->ok ? "true" : "false", ms, error, version,
			circuit_state_name(ch.after.state),
		};

		if (db_exec_command(db, err,
				    "UPDATE database_circuits SET last_checked_at = clock_timestamp(), "
				    "last_is_healthy = $2::boolean, last_response_ms = $3::float8, "
				    "last_error = $4, last_server_version = $5 WHERE database_id = $1",
				    5, params) != 0 ||
		    db_exec_command(db, err,
				    "INSERT INTO database_probes (database_id, is_healthy, "
				    "response_time_ms, error, server_version, circuit) "
				    "VALUES ($1, $2::boolean, $3::float8, $4, $5, $6)", 6, params) != 0)
			goto fail;
	}
	if (circuit_record_event(db, id, &ch, r->ok, error, err) != 0 || db_commit(db, err) != 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

long probe_prune(struct db *db, const struct config *cfg, struct infra_error *err)
{
	char hours[16];
	const char *params[1] = { hours };
	PGresult *res;
	long n;

	snprintf(hours, sizeof(hours), "%d", cfg->probe_retention_h);
	res = db_exec(db, err, "DELETE FROM database_probes "
		      "WHERE checked_at < now() - make_interval(hours => $1::int)", 1, params);
	if (res == NULL)
		return -1;
	n = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n;
}

/* --- the runner task --- */

static void log_failure(const char *what, const struct infra_error *err)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "error", json_object_new_string(err->message));
	log_emit(LOG_LEVEL_WARN, what, f);
}

/* Claim up to PROBE_BATCH due databases: push their next probe past a
 * lease (a runner that dies leaves them due again after it) and turn an
 * open circuit whose cool-down has passed half open (this probe is its
 * trial). */
static PGresult *claim(struct runner_ctx *ctx, struct infra_error *err)
{
	char batch[16], lease[16];
	const char *params[3] = { batch, lease, ctx->owner };

	snprintf(batch, sizeof(batch), "%d", PROBE_BATCH);
	snprintf(lease, sizeof(lease), "%d", ctx->cfg->probe_timeout_s + 30);
	return db_exec(&ctx->db, err,
		       "WITH due AS (SELECT c.database_id, c.state FROM database_circuits c "
		       "JOIN databases d ON d.id = c.database_id "
		       "WHERE d.is_active AND c.next_probe_at <= clock_timestamp() "
		       "ORDER BY c.next_probe_at LIMIT $1::int FOR UPDATE OF c SKIP LOCKED) "
		       "UPDATE database_circuits c SET "
		       "next_probe_at = clock_timestamp() + make_interval(secs => $2::int), "
		       "probe_owner = $3, state = CASE WHEN due.state = 'open' THEN 'half_open' "
		       "ELSE due.state END, changed_at = CASE WHEN due.state = 'open' "
		       "THEN clock_timestamp() ELSE c.changed_at END "
		       "FROM due JOIN databases d ON d.id = due.database_id "
		       "WHERE c.database_id = due.database_id "
		       "RETURNING d.id, d.host, d.port, d.database_name, d.username, d.sslmode, "
		       "d.password_kid, d.password_enc, due.state", 3, params);
}

int64_t probe_task(struct runner_ctx *ctx)
{
	static int64_t last_prune_ms, last_gauges_ms;
	static int claim_failures;
	const struct config *cfg = ctx->cfg;
	const struct crypto_keyring *ring;
	struct pgprobe_target targets[PROBE_BATCH];
	struct pgprobe_result results[PROBE_BATCH];
	char *passwords[PROBE_BATCH] = { 0 };
	int slot_of[PROBE_BATCH];
	struct infra_error err, ring_err;
	int64_t now_ms = time_mono_ms();
	PGresult *res;
	int n, ntargets = 0;

	res = claim(ctx, &err);
	if (res == NULL) {
		/* Back off while the control database is down (or its schema
		 * not yet applied): 5 s, doubling up to a minute. */
		log_failure("cannot claim the databases due for a probe", &err);
		if (claim_failures < 4)
			claim_failures++;
		return RETRY_AFTER_ERROR_MS << (claim_failures - 1);
	}
	claim_failures = 0;
	if (now_ms - last_prune_ms >= PRUNE_EVERY_MS) {
		last_prune_ms = now_ms;
		if (probe_prune(&ctx->db, cfg, &err) < 0)
			log_failure("cannot prune the probe history", &err);
	}
	if (ctx->index == 0 && now_ms - last_gauges_ms >= GAUGES_EVERY_MS) {
		last_gauges_ms = now_ms;
		fleet_gauges(&ctx->db);
	}
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return 1000;
	}
	ring = crypto_keyring_shared(cfg->encryption_keys, &ring_err);
	for (int i = 0; i < n; i++) {
		const char *id = PQgetvalue(res, i, 0);

		memset(&results[i], 0, sizeof(results[i]));
		slot_of[i] = -1;
		if (strcmp(PQgetvalue(res, i, 8), "open") == 0)
			metrics_count("infra_circuit_transitions_total", "to=\"half_open\"", 1);
		if (ring == NULL) {
			snprintf(results[i].error, sizeof(results[i].error),
				 "stored credentials cannot be decrypted: %s", ring_err.message);
			continue;
		}
		if (registry_password_open(ring, id, PQgetvalue(res, i, 6), PQgetvalue(res, i, 7),
					   &passwords[i], &err) != 0) {
			snprintf(results[i].error, sizeof(results[i].error),
				 "stored credentials cannot be decrypted: %s", err.message);
			continue;
		}
		targets[ntargets] = (struct pgprobe_target){
			.host = PQgetvalue(res, i, 1),
			.port = atoi(PQgetvalue(res, i, 2)),
			.dbname = PQgetvalue(res, i, 3),
			.user = PQgetvalue(res, i, 4),
			.sslmode = PQgetvalue(res, i, 5),
			.password = passwords[i],
		};
		slot_of[i] = ntargets++;
	}
	{
		struct pgprobe_result probed[PROBE_BATCH];

		pgprobe_run(targets, probed, ntargets, cfg->probe_timeout_s);
		for (int i = 0; i < n; i++)
			if (slot_of[i] >= 0)
				results[i] = probed[slot_of[i]];
	}
	for (int i = 0; i < n; i++) {
		const char *id = PQgetvalue(res, i, 0);
		json_object *doc;

		crypto_secret_free(passwords[i], 0);
		metrics_count("infra_probes_total", results[i].ok ? "result=\"ok\"" : "result=\"failed\"", 1);
		if (record(&ctx->db, cfg, id, &results[i], &err) != 0) {
			log_failure("cannot record a probe", &err);
			continue;
		}
		if (health_build(&ctx->db, id, NULL, &doc, &err) == 0) {
			health_cache_store(ctx->cache, cfg, id, doc);
			json_object_put(doc);
		}
	}
	PQclear(res);
	return n == PROBE_BATCH ? 0 : 1000;
}
