/* circuit.h — a circuit breaker per managed database.
 *
 * closed: operations run; CIRCUIT_FAILURE_THRESHOLD consecutive failures
 * open it. open: operations are refused fast (migration runs skip the
 * target with the reason) and probes wait CIRCUIT_COOLDOWN instead of
 * PROBE_INTERVAL. When the cool-down has passed, one trial probe runs with
 * the circuit half_open: success closes it, failure opens it again for
 * another cool-down.
 *
 * The state machine is pure (circuit_record and friends, unit-tested); the
 * state lives in the control database (database_circuits), shared by every
 * runner and worker of every host. */
#ifndef INFRA_CIRCUIT_H
#define INFRA_CIRCUIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "error.h"

enum circuit_state {
	CIRCUIT_CLOSED,
	CIRCUIT_OPEN,
	CIRCUIT_HALF_OPEN,
};

struct circuit {
	enum circuit_state state;
	int failures;		/* consecutive */
	int64_t opened_at;	/* seconds since the epoch; 0 unless open or half open */
};

/* "closed", "open" or "half_open". */
const char *circuit_state_name(enum circuit_state s);

/* Parse a state name. Returns 0, or -1 for an unknown name. */
int circuit_state_parse(const char *s, enum circuit_state *out);

/* Record one outcome at `now`: success closes the circuit and clears the
 * count; failure counts, and opens a closed circuit at `threshold`
 * consecutive failures or a half-open one at once. */
void circuit_record(struct circuit *c, bool ok, int64_t now, int threshold);

/* true when the circuit is open and its cool-down has passed: the next
 * probe is the half-open trial. */
bool circuit_trial_due(const struct circuit *c, int64_t now, int cooldown_s);

/* Seconds from `now` until the next probe: the interval normally, the rest
 * of the cool-down while open (never negative). */
int64_t circuit_next_probe_in(const struct circuit *c, int64_t now, int interval_s,
			      int cooldown_s);

/* --- in the control database --- */

struct circuit_change {
	struct circuit before, after;
	bool was_healthy_known, was_healthy;	/* the previous probe's verdict */
};

/* Inside the caller's transaction: lock database `id`'s circuit, apply
 * one outcome with cfg's threshold and schedule its next probe (cfg's
 * interval and cool-down). Returns 0 with the transition in `out`, or -1:
 * INFRA_ENOTFOUND when the database has no circuit, or what db_exec says. */
int circuit_update(struct db *db, const struct config *cfg, const char *id, bool ok,
		   struct circuit_change *out, struct infra_error *err);

/* Whether an operation (a migration run) may use database `id` now.
 * Returns 1 when its circuit is closed (or it has none), 0 when it is open
 * or half open — `reason` then says since when, after how many failures
 * and the last error — or -1 with `err`. */
int circuit_allows(struct db *db, const char *id, char *reason, size_t reason_len,
		   struct infra_error *err);

/* Inside the caller's transaction: when `ch` changed the circuit's state,
 * or `healthy` differs from the previous verdict, record a
 * database.health_changed outbox event (`error` may be NULL). Returns 0
 * (also when nothing changed) or -1. */
int circuit_record_event(struct db *db, const char *id, const struct circuit_change *ch,
			 bool healthy, const char *error, struct infra_error *err);

#endif
