/* circuit.c — the per-database circuit breaker: the pure state machine, and
 * its state in the control database (see circuit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "metrics.h"
#include "outbox.h"
#include "timeutil.h"

static const char *const state_names[] = {
	[CIRCUIT_CLOSED] = "closed",
	[CIRCUIT_OPEN] = "open",
	[CIRCUIT_HALF_OPEN] = "half_open",
};

const char *circuit_state_name(enum circuit_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "closed";
}

int circuit_state_parse(const char *s, enum circuit_state *out)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (s != NULL && strcmp(s, state_names[i]) == 0) {
			*out = (enum circuit_state)i;
			return 0;
		}
	return -1;
}

void circuit_record(struct circuit *c, bool ok, int64_t now, int threshold)
{
	if (ok) {
		c->state = CIRCUIT_CLOSED;
		c->failures = 0;
		c->opened_at = 0;
		return;
	}
	c->failures++;
	if (c->state == CIRCUIT_HALF_OPEN ||
	    (c->state == CIRCUIT_CLOSED && c->failures >= threshold)) {
		c->state = CIRCUIT_OPEN;
		c->opened_at = now;
	}
	/* Already open: it stays open; its cool-down does not restart. */
}

bool circuit_trial_due(const struct circuit *c, int64_t now, int cooldown_s)
{
	return c->state == CIRCUIT_OPEN && now >= c->opened_at + cooldown_s;
}

int64_t circuit_next_probe_in(const struct circuit *c, int64_t now, int interval_s,
			      int cooldown_s)
{
	int64_t left;

	if (c->state != CIRCUIT_OPEN)
		return interval_s;
	left = c->opened_at + cooldown_s - now;
	return left > 0 ? left : 0;
}

int circuit_update(struct db *db, const struct config *cfg, const char *id, bool ok,
		   struct circuit_change *out, struct infra_error *err)
{
	const char *params[5] = { id };
	char failures[16], opened[24], next[24], state_buf[16];
	int64_t now = time_wall_s();
	PGresult *res;
	int rc;

	res = db_exec(db, err,
		      "SELECT state, consecutive_failures, "
		      "coalesce(extract(epoch FROM opened_at)::bigint, 0), last_is_healthy "
		      "FROM database_circuits WHERE database_id = $1 FOR UPDATE", 1, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "no such database");
	}
	memset(out, 0, sizeof(*out));
	if (circuit_state_parse(PQgetvalue(res, 0, 0), &out->before.state) != 0)
		out->before.state = CIRCUIT_CLOSED;
	out->before.failures = atoi(PQgetvalue(res, 0, 1));
	out->before.opened_at = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	out->was_healthy_known = !PQgetisnull(res, 0, 3);
	out->was_healthy = PQgetvalue(res, 0, 3)[0] == 't';
	PQclear(res);

	out->after = out->before;
	circuit_record(&out->after, ok, now, cfg->circuit_failure_threshold);
	snprintf(state_buf, sizeof(state_buf), "%s", circuit_state_name(out->after.state));
	snprintf(failures, sizeof(failures), "%d", out->after.failures);
	snprintf(opened, sizeof(opened), "%lld", (long long)out->after.opened_at);
	snprintf(next, sizeof(next), "%lld", (long long)(now + circuit_next_probe_in(
		&out->after, now, cfg->probe_interval_s, cfg->circuit_cooldown_s)));
	params[1] = state_buf;
	params[2] = failures;
	params[3] = out->after.opened_at ? opened : NULL;
	params[4] = next;
	rc = db_exec_command(db, err,
			     "UPDATE database_circuits SET state = $2, consecutive_failures = $3::int, "
			     "opened_at = to_timestamp($4::bigint), next_probe_at = to_timestamp($5::bigint), "
			     "probe_owner = NULL, changed_at = CASE WHEN state <> $2 "
			     "THEN clock_timestamp() ELSE changed_at END WHERE database_id = $1",
			     5, params);
	if (rc == 0 && out->after.state != out->before.state) {
		char labels[48];

		snprintf(labels, sizeof(labels), "to=\"%s\"", circuit_state_name(out->after.state));
		metrics_count("infra_circuit_transitions_total", labels, 1);
	}
	return rc;
}

int circuit_allows(struct db *db, const char *id, char *reason, size_t reason_len,
		   struct infra_error *err)
{
	const char *params[1] = { id };
	enum circuit_state state;
	PGresult *res;
	int allowed;

	res = db_exec(db, err,
		      "SELECT state, consecutive_failures, "
		      "to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
		      "coalesce(last_error, '') FROM database_circuits WHERE database_id = $1",
		      1, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0 || circuit_state_parse(PQgetvalue(res, 0, 0), &state) != 0 ||
	    state == CIRCUIT_CLOSED) {
		PQclear(res);
		if (reason_len > 0)
			reason[0] = '\0';
		return 1;
	}
	snprintf(reason, reason_len, "circuit %s since %s after %s consecutive failures%s%s",
		 circuit_state_name(state), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 1),
		 PQgetvalue(res, 0, 3)[0] ? "; last error: " : "", PQgetvalue(res, 0, 3));
	allowed = 0;
	PQclear(res);
	return allowed;
}

int circuit_record_event(struct db *db, const char *id, const struct circuit_change *ch,
			 bool healthy, const char *error, struct infra_error *err)
{
	bool state_changed = ch->after.state != ch->before.state;
	bool health_changed = !ch->was_healthy_known || ch->was_healthy != healthy;
	char ts[ISO8601_MAX];
	json_object *o;
	int rc;

	if (!state_changed && !health_changed)
		return 0;
	o = json_object_new_object();
	json_object_object_add(o, "database_id", json_object_new_string(id));
	json_object_object_add(o, "is_healthy", json_object_new_boolean(healthy));
	json_object_object_add(o, "was_healthy", ch->was_healthy_known
			       ? json_object_new_boolean(ch->was_healthy) : NULL);
	json_object_object_add(o, "circuit",
			       json_object_new_string(circuit_state_name(ch->after.state)));
	json_object_object_add(o, "previous_circuit",
			       json_object_new_string(circuit_state_name(ch->before.state)));
	json_object_object_add(o, "consecutive_failures", json_object_new_int(ch->after.failures));
	json_object_object_add(o, "error", error && *error ? json_object_new_string(error) : NULL);
	json_object_object_add(o, "at", json_object_new_string(time_iso8601(ts, time_wall_s())));
	rc = outbox_record(db, "database.health_changed", id, o, err);
	json_object_put(o);
	return rc;
}
