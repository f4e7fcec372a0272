/* probe.h — health probes of the managed databases (the unified-collection
 * idea applied to databases: collect, store every result, cache the latest,
 * emit an event on change).
 *
 * Every job runner runs probe_task: it claims the databases whose probe is
 * due with FOR UPDATE SKIP LOCKED (so runners on every host share the
 * work, each database probed by one of them), probes them in parallel
 * (lib/pgprobe.h), and per result, in one transaction: updates the circuit
 * breaker (lib/circuit.h) and the latest state, appends to the history
 * table, and records a database.health_changed event when the verdict or
 * the circuit changed. The health answer is then cached in memcached for
 * GET /databases/{id}/health. History older than PROBE_RETENTION_HOURS is
 * pruned. */
#ifndef INFRA_PROBE_H
#define INFRA_PROBE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "cache.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "runner_task.h"

#define PROBE_BATCH 16		/* databases claimed and probed at once */
#define PROBE_HISTORY 20	/* probes shown in a health answer */
#define PROBE_HISTORY_SQL "20"	/* the same, for SQL text */

/* The runner task: probe what is due, prune, refresh the fleet gauges.
 * Returns the milliseconds until it wants to run again. */
int64_t probe_task(struct runner_ctx *ctx);

/* The health answer of database `id` within tenant `scope` (NULL: any):
 * `{database_id, tenant, current:{is_healthy, response_time_ms, checked_at,
 * error, server_version, circuit, consecutive_failures, next_probe_at},
 * history:[{checked_at, is_healthy, response_time_ms, error,
 * server_version, circuit}]}` (is_healthy null before the first probe).
 * From memcached when cached, else built from the tables and cached.
 * Returns 0 with a new object in *out (the caller puts it) and whether it
 * came from the cache, or -1: INFRA_ENOTFOUND, or what db_exec says. */
int probe_health_get(struct db *db, struct cache *cache, const struct config *cfg,
		     const char *id, const char *scope, json_object **out, bool *cached,
		     struct infra_error *err);

/* Drop the cached health answer of database `id` (after a change that
 * alters it, such as its tenant). `cache` may be NULL. */
void probe_health_forget(struct cache *cache, const char *id);

/* The fleet at a glance, for /health/services/targets and /metrics. */
struct probe_fleet {
	long total;		/* active databases */
	long healthy, unhealthy, unknown;	/* by the latest probe */
	long circuits_open, circuits_half_open;
};

/* Count the active databases by health and circuit. 0 or -1. */
int probe_fleet_summary(struct db *db, struct probe_fleet *out, struct infra_error *err);

/* The fleet summary as the /health/services answer's object:
 * {name:"targets", is_healthy, response_time_ms, message, details:{…}}
 * (is_healthy false when any circuit is open). The caller puts it. */
json_object *probe_fleet_json(const struct probe_fleet *fleet, double response_time_ms);

/* Report the outcome of an operation on database `id` outside probes (a
 * migration run could not connect, or did): update its circuit in its own
 * transaction, record a health_changed event if the circuit changed, and
 * drop its cached health answer (`cache` may be NULL). 0 or -1. */
int probe_report_outcome(struct db *db, struct cache *cache, const struct config *cfg,
			 const char *id, bool ok, struct infra_error *err);

/* Delete the probe history older than PROBE_RETENTION_HOURS. Returns the
 * number of rows deleted, or -1. */
long probe_prune(struct db *db, const struct config *cfg, struct infra_error *err);

#endif
