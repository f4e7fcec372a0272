/* event.c — the outbox's consumer (see event.h): claiming due events under
 * a lease, dispatching each to its handler, recording the outcome (done,
 * retried with backoff, dead with an alert), the handlers of the registry's
 * events, and the event history for operators. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "event.h"
#include "exec.h"
#include "history.h"
#include "json_strict.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"
#include "tenant.h"
#include "timeutil.h"

#define EVENT_IDLE_MS 500		/* how often an idle runner looks */

static enum event_outcome on_database_registered(const struct event_env *env, const struct event *ev,
						 struct event_done *done, struct infra_error *err);
static enum event_outcome on_health_changed(const struct event_env *env, const struct event *ev,
					    struct event_done *done, struct infra_error *err);

/* The handler of each event type. */
static const struct event_handler {
	const char *type;
	event_handler_fn handle;
} handlers[] = {
	{ "tenant.created", tenant_on_created },		/* lib/tenant.h */
	{ "database.registered", on_database_registered },
	{ "database.health_changed", on_health_changed },
};

#define NHANDLERS (sizeof(handlers) / sizeof(handlers[0]))

static const struct event_handler *handler_of(const char *type)
{
	for (size_t i = 0; i < NHANDLERS; i++)
		if (strcmp(handlers[i].type, type) == 0)
			return &handlers[i];
	return NULL;
}

static void log_event(enum log_level level, const char *msg, const struct event *ev,
		      const char *error)
{
	json_object *f = json_object_new_object();

	json_object_object_add(f, "event_id", json_object_new_string(ev->id));
	json_object_object_add(f, "event_type", json_object_new_string(ev->type));
	json_object_object_add(f, "attempts", json_object_new_int(ev->attempts));
	if (error != NULL)
		json_object_object_add(f, "error", json_object_new_string(error));
	log_emit(level, msg, f);
}

static void count(const struct event *ev, const char *result)
{
	char labels[128];

	/* Only known types become labels: the series stay few. */
	snprintf(labels, sizeof(labels), "type=\"%s\",result=\"%s\"",
		 handler_of(ev->type) ? ev->type : "other", result);
	metrics_count("infra_events_total", labels, 1);
}

/* --- recording outcomes --- */

/* Run `sql`, an UPDATE of event $1 while $2 holds it — in a transaction
 * left open when `in_tx` (the caller commits). Returns 0, 1 when the event
 * is not ours any more — the lease ran out and another runner has it,
 * whose delivery records the outcome — or -1; both rolled back. */
static int update_held(const struct event_env *env, bool in_tx, const char *sql, int nparams,
		       const char *const *params, struct infra_error *err)
{
	PGresult *res;
	long n;

	if (in_tx && db_begin(env->db, err) != 0)
		return -1;
	res = db_exec(env->db, err, sql, nparams, params);
	n = res ? strtol(PQcmdTuples(res), NULL, 10) : -1;
	PQclear(res);
	if (n != 1) {
		if (in_tx)
			db_rollback(env->db);
		return n == 0 ? 1 : -1;
	}
	return 0;
}

static int commit_or_rollback(const struct event_env *env, int rc, struct infra_error *err)
{
	if (rc == 0 && db_commit(env->db, err) == 0)
		return 0;
	db_rollback(env->db);
	return -1;
}

static const char *result_text(const struct event_done *done)
{
	return done->result ? json_object_to_json_string_ext(done->result, JSON_C_TO_STRING_PLAIN) : NULL;
}

/* Event $1, held by $2, is done with result $3. */
#define DONE_SQL                                                                       \
	"UPDATE outbox SET status = 'done', published_at = clock_timestamp(), "         \
	"result = $3::jsonb, last_error = NULL, lease_owner = NULL, lease_expires_at = NULL " \
	"WHERE id = $1::bigint AND lease_owner = $2 AND status = 'processing'"

static int finish_done(const struct event_env *env, const struct event *ev,
		       const struct event_done *done, struct infra_error *err)
{
	const char *params[3] = { ev->id, env->owner, result_text(done) };
	int rc = update_held(env, done->alert, DONE_SQL, 3, params, err);

	if (rc != 0 || !done->alert)
		return rc;
	return commit_or_rollback(env, alert_raise(env->db, done->alert_kind, done->alert_summary,
						   done->alert_details, err), err);
}

static int finish_dead(const struct event_env *env, const struct event *ev,
		       const struct event_done *done, const char *error, struct infra_error *err)
{
	const char *params[4] = { ev->id, env->owner, error, result_text(done) };
	json_object *details;
	char summary[INFRA_ERRMSG_MAX + 128];
	int rc = update_held(env, true, "UPDATE outbox SET status = 'dead', last_error = $3, "
			     "result = $4::jsonb, lease_owner = NULL, lease_expires_at = NULL "
			     "WHERE id = $1::bigint AND lease_owner = $2 AND status = 'processing'",
			     4, params, err);

	if (rc != 0)
		return rc;
	details = json_object_new_object();
	json_object_object_add(details, "event_id", json_object_new_int64(strtoll(ev->id, NULL, 10)));
	json_object_object_add(details, "event_type", json_object_new_string(ev->type));
	json_object_object_add(details, "resource_id",
			       ev->resource_id ? json_object_new_string(ev->resource_id) : NULL);
	json_object_object_add(details, "attempts", json_object_new_int(ev->attempts));
	json_object_object_add(details, "last_error", json_object_new_string(error));
	snprintf(summary, sizeof(summary), "event %s (%s) is dead after %d attempts: %s", ev->id,
		 ev->type, ev->attempts, error);
	rc = alert_raise(env->db, ALERT_EVENT_DEAD, summary, details, err);
	json_object_put(details);
	return commit_or_rollback(env, rc, err);
}

/* Pending again after `delay_ms`; a LATER gives its attempt back. */
static int finish_retry(const struct event_env *env, const struct event *ev, int64_t delay_ms,
			bool counted, const char *error, struct infra_error *err)
{
	char delay[24];
	const char *params[5] = { ev->id, env->owner, error, delay, counted ? "0" : "1" };

	snprintf(delay, sizeof(delay), "%" PRId64, delay_ms);
	return update_held(env, false, "UPDATE outbox SET status = 'pending', last_error = $3, "
			   "attempts = attempts - $5::int, next_attempt_at = clock_timestamp() + "
			   "make_interval(secs => $4::bigint / 1000.0), lease_owner = NULL, "
			   "lease_expires_at = NULL WHERE id = $1::bigint AND lease_owner = $2 "
			   "AND status = 'processing'", 5, params, err);
}

/* Record what handling `ev` gave. Returns 0 when recorded, 1 when the
 * event is not ours any more, -1 on error. */
static int finish(const struct event_env *env, const struct event *ev, enum event_outcome oc,
		  const struct event_done *done, const struct infra_error *why, struct infra_error *err)
{
	bool dead = ev->attempts >= env->cfg->event_retry_attempts;
	int rc;

	switch (oc) {
	case EVENT_DONE:
		rc = done->recorded ? 0 : finish_done(env, ev, done, err);
		if (rc == 0)
			count(ev, "done");
		return rc;
	case EVENT_LATER:
		rc = finish_retry(env, ev, EVENT_LATER_MS, false, why->message, err);
		if (rc == 0)
			count(ev, "later");
		return rc;
	case EVENT_FAILED:
		break;
	}
	if (dead) {
		rc = finish_dead(env, ev, done, why->message, err);
		if (rc == 0) {
			count(ev, "dead");
			log_event(LOG_LEVEL_ERROR, "event is dead after its last attempt", ev, why->message);
		}
		return rc;
	}
	rc = finish_retry(env, ev, backoff_ms(ev->attempts, EVENT_RETRY_BASE_MS, EVENT_RETRY_MAX_MS,
					      arc4random()), true, why->message, err);
	if (rc == 0) {
		count(ev, "retry");
		log_event(LOG_LEVEL_WARN, "event handler failed; retrying", ev, why->message);
	}
	return rc;
}

/* --- dispatch --- */

enum { EC_ID, EC_TYPE, EC_RESOURCE, EC_PAYLOAD, EC_EXECUTION, EC_ATTEMPTS };

/* Handle row `row` of `res` (selected with EVENT_ROW_COLUMNS) and record
 * the outcome. Returns as finish(), with *handled the outcome. */
static int handle_row(const struct event_env *env, const PGresult *res, int row,
		      enum event_outcome *handled, struct infra_error *err)
{
	const char *text = PQgetvalue(res, row, EC_PAYLOAD);
	struct event ev = {
		.id = PQgetvalue(res, row, EC_ID),
		.type = PQgetvalue(res, row, EC_TYPE),
		.resource_id = PQgetisnull(res, row, EC_RESOURCE) ? NULL : PQgetvalue(res, row, EC_RESOURCE),
		.execution_id = PQgetisnull(res, row, EC_EXECUTION) ? NULL : PQgetvalue(res, row, EC_EXECUTION),
		.attempts = atoi(PQgetvalue(res, row, EC_ATTEMPTS)),
	};
	const struct event_handler *h = handler_of(ev.type);
	struct event_done done;
	struct infra_error why;
	enum event_outcome oc;
	int rc;

	memset(&done, 0, sizeof(done));
	infra_error_clear(&why);
	ev.payload = json_strict_parse_object(text, strlen(text));
	if (h == NULL) {
		oc = EVENT_FAILED;
		infra_fail(&why, INFRA_EINTERNAL, "no handler for event type '%s' on this host", ev.type);
	} else if (ev.payload == NULL) {
		oc = EVENT_FAILED;
		infra_fail(&why, INFRA_EINTERNAL, "the payload is not a JSON object");
	} else {
		oc = h->handle(env, &ev, &done, &why);
		if (oc != EVENT_DONE && why.message[0] == '\0')
			infra_fail(&why, INFRA_EINTERNAL, "the handler failed without saying why");
	}
	rc = finish(env, &ev, oc, &done, &why, err);
	if (rc < 0)
		log_event(LOG_LEVEL_WARN, "cannot record an event's outcome; it is delivered again when "
			  "its lease expires", &ev, err->message);
	*handled = oc;
	json_object_put(done.result);
	json_object_put(done.alert_details);
	json_object_put(ev.payload);
	return rc;
}

int event_deliver(const struct event_env *env, const PGresult *row, struct infra_error *err)
{
	enum event_outcome oc;
	int rc;

	if (PQntuples(row) != 1 || PQnfields(row) != EC_ATTEMPTS + 1)
		return infra_fail(err, INFRA_EINTERNAL, "not an event row to deliver");
	rc = handle_row(env, row, 0, &oc, err);
	if (rc < 0)
		return -1;
	return rc == 0 && oc == EVENT_DONE ? 1 : 0;
}

static PGresult *claim(struct runner_ctx *ctx, struct infra_error *err)
{
	char lease[16], limit[16];
	const char *params[3] = { ctx->owner, lease, limit };

	snprintf(lease, sizeof(lease), "%d", EVENT_LEASE_S);
	snprintf(limit, sizeof(limit), "%d", EVENT_BATCH);
	return db_exec(&ctx->db, err,
		       "UPDATE outbox o SET status = 'processing', lease_owner = $1, "
		       "lease_expires_at = clock_timestamp() + make_interval(secs => $2::int), "
		       "attempts = o.attempts + 1 FROM (SELECT id FROM outbox "
		       "WHERE status IN ('pending', 'processing') AND next_attempt_at <= clock_timestamp() "
		       "AND (status = 'pending' OR lease_expires_at < clock_timestamp()) "
		       "ORDER BY id LIMIT $3::int FOR UPDATE SKIP LOCKED) c WHERE o.id = c.id "
		       "RETURNING " EVENT_ROW_COLUMNS, 3, params);
}

int64_t event_task(struct runner_ctx *ctx)
{
	static int failures;
	struct event_env env = { &ctx->db, ctx->cfg, ctx->cache, ctx->owner, NULL };
	struct infra_error err;
	enum event_outcome oc;
	PGresult *res = claim(ctx, &err);
	int n;

	if (res == NULL) {
		json_object *f = json_object_new_object();

		/* The control database is down, or its schema not there yet:
		 * back off from 1 s, doubling up to 8 s. */
		if (failures < 4)
			failures++;
		json_object_object_add(f, "error", json_object_new_string(err.message));
		log_emit(LOG_LEVEL_WARN, "cannot claim events", f);
		return (int64_t)1000 << (failures - 1);
	}
	failures = 0;
	n = PQntuples(res);
	for (int i = 0; i < n && !*ctx->stop; i++)
		handle_row(&env, res, i, &oc, &err);
	PQclear(res);
	return n == EVENT_BATCH ? 0 : EVENT_IDLE_MS;
}

/* --- starting executions --- */

/* The execution id of event `ev`: the one chosen before, or one chosen
 * now and stored (a concurrent choice wins over ours). 0 or -1. */
static int choose_execution_id(struct db *db, const struct event *ev, char out[UUID_STR_LEN],
			       struct infra_error *err)
{
	char fresh[UUID_STR_LEN];
	const char *params[2] = { ev->id, fresh };
	PGresult *res;

	if (ev->execution_id != NULL) {
		snprintf(out, UUID_STR_LEN, "%s", ev->execution_id);
		return 0;
	}
	uuid_generate(fresh);
	res = db_exec(db, err, "UPDATE outbox SET execution_id = coalesce(execution_id, $2::uuid) "
		      "WHERE id = $1::bigint RETURNING execution_id", 2, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "event %s is gone", ev->id);
	}
	snprintf(out, UUID_STR_LEN, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* 1 when execution `id` exists, 0 when not, -1 on error. */
static int execution_exists(struct db *db, const char *id, struct infra_error *err)
{
	json_object *exec = NULL;

	if (exec_get(db, id, NULL, &exec, err) == 0) {
		json_object_put(exec);
		return 1;
	}
	return err->kind == INFRA_ENOTFOUND ? 0 : -1;
}

enum event_outcome event_start_execution(const struct event_env *env, const struct event *ev,
					 json_object *body, const char *actor, const char *tenant,
					 const struct db_pipeline *first, struct event_done *done,
					 struct infra_error *err)
{
	char id[UUID_STR_LEN], conflict[UUID_STR_LEN] = "";
	struct exec_request req;
	struct db_pipeline last = DB_PIPELINE_INIT;
	json_object *problems, *exec = NULL;
	const char *params[3];
	bool replayed;
	int found, rc;
	struct exec_new n = {
		.id = id, .req = &req, .kind = "migrate", .source = "event", .executed_by = actor,
		.tenant = tenant, .first = first, .last = &last,
	};

	if (exec_request_parse(body, EXEC_FORM_FILTERS, &req, &problems) != 0) {
		infra_fail(err, INFRA_EINVAL, "the event asks for an invalid migration: %s",
			   json_object_to_json_string_ext(problems, JSON_C_TO_STRING_PLAIN));
		json_object_put(problems);
		return EVENT_FAILED;
	}
	if (choose_execution_id(env->db, ev, id, err) != 0)
		return EVENT_FAILED;
	json_object_put(done->result);
	done->result = json_object_new_object();
	json_object_object_add(done->result, "execution_id", json_object_new_string(id));
	/* Only an earlier attempt can have started it. */
	found = ev->attempts > 1 ? execution_exists(env->db, id, err) : 0;
	if (found != 0)
		return found > 0 ? EVENT_DONE : EVENT_FAILED;
	/* Marked done in the execution's transaction: a statement fewer
	 * after it. (Should the lease have run out meanwhile, the runner
	 * that took the event finds the execution and is done with it.) */
	params[0] = ev->id;
	params[1] = env->owner;
	params[2] = result_text(done);
	db_pipeline_add(&last, DONE_SQL, 3, params);
	rc = exec_create(env->db, &n, NULL, &exec, &replayed, conflict, err);
	db_pipeline_release(&last);
	if (rc == 0) {
		json_object_put(exec);
		done->recorded = true;
		return EVENT_DONE;
	}
	if (err->kind == INFRA_ECONFLICT && conflict[0] != '\0')
		return EVENT_LATER;
	/* Another delivery of this event created it meanwhile. */
	if (err->kind == INFRA_ECONFLICT && execution_exists(env->db, id, err) == 1)
		return EVENT_DONE;
	return EVENT_FAILED;
}

/* --- the registry's events --- */

static json_object *skipped(const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "skipped", json_object_new_string(why));
	return o;
}

static const char *payload_string(const struct event *ev, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(ev->payload, key, &v) && json_object_is_type(v, json_type_string)
		? json_object_get_string(v) : NULL;
}

/* database.registered: migrate the database (scope single) when it is
 * still active and still wants auto_migrate. */
static enum event_outcome on_database_registered(const struct event_env *env, const struct event *ev,
						 struct event_done *done, struct infra_error *err)
{
	const char *id = payload_string(ev, "database_id");
	const char *params[1] = { id };
	json_object *body;
	enum event_outcome oc;
	PGresult *res;

	if (id == NULL || !uuid_is_valid(id)) {
		infra_fail(err, INFRA_EINVAL, "the payload has no database_id");
		return EVENT_FAILED;
	}
	res = db_exec(env->db, err, "SELECT is_active, auto_migrate, tenant, created_by "
		      "FROM databases WHERE id = $1::uuid", 1, params);
	if (res == NULL)
		return EVENT_FAILED;
	if (PQntuples(res) == 0 || PQgetvalue(res, 0, 0)[0] != 't' || PQgetvalue(res, 0, 1)[0] != 't') {
		done->result = skipped(PQntuples(res) == 0 || PQgetvalue(res, 0, 0)[0] != 't'
				       ? "the database is no longer registered"
				       : "auto_migrate was turned off");
		PQclear(res);
		return EVENT_DONE;
	}
	body = json_object_new_object();
	json_object_object_add(body, "scope", json_object_new_string("single"));
	json_object_object_add(body, "database_id", json_object_new_string(id));
	oc = event_start_execution(env, ev, body, PQgetvalue(res, 0, 3),
				   PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2), NULL, done, err);
	json_object_put(body);
	PQclear(res);
	return oc;
}

/* database.health_changed: a database.unhealthy alert when a database
 * turned unhealthy (from healthy, or at its first probe) and still is. */
static enum event_outcome on_health_changed(const struct event_env *env, const struct event *ev,
					    struct event_done *done, struct infra_error *err)
{
	const char *id = payload_string(ev, "database_id");
	const char *params[1] = { id };
	json_object *is_healthy = NULL, *was_healthy = NULL;
	PGresult *res;

	if (id == NULL || !uuid_is_valid(id) ||
	    !json_object_object_get_ex(ev->payload, "is_healthy", &is_healthy)) {
		infra_fail(err, INFRA_EINVAL, "the payload has no database_id or is_healthy");
		return EVENT_FAILED;
	}
	json_object_object_get_ex(ev->payload, "was_healthy", &was_healthy);
	if (json_object_get_boolean(is_healthy) ||
	    (was_healthy != NULL && !json_object_get_boolean(was_healthy))) {
		done->result = skipped("not a turn to unhealthy");
		return EVENT_DONE;
	}
	res = db_exec(env->db, err, "SELECT d.name, d.host, d.port, d.database_name, d.tenant, "
		      "c.last_is_healthy, c.last_error, c.state, c.consecutive_failures "
		      "FROM databases d JOIN database_circuits c ON c.database_id = d.id "
		      "WHERE d.id = $1::uuid AND d.is_active", 1, params);
	if (res == NULL)
		return EVENT_FAILED;
	if (PQntuples(res) == 0 || PQgetvalue(res, 0, 5)[0] == 't') {
		done->result = skipped(PQntuples(res) == 0 ? "the database is no longer registered"
				       : "healthy again");
		PQclear(res);
		return EVENT_DONE;
	}
	done->alert = true;
	done->alert_kind = ALERT_DATABASE_UNHEALTHY;
	done->alert_details = json_object_new_object();
	json_object_object_add(done->alert_details, "database_id", json_object_new_string(id));
	json_object_object_add(done->alert_details, "name", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(done->alert_details, "host", json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(done->alert_details, "port", json_object_new_int(atoi(PQgetvalue(res, 0, 2))));
	json_object_object_add(done->alert_details, "database_name",
			       json_object_new_string(PQgetvalue(res, 0, 3)));
	json_object_object_add(done->alert_details, "tenant",
			       PQgetisnull(res, 0, 4) ? NULL : json_object_new_string(PQgetvalue(res, 0, 4)));
	json_object_object_add(done->alert_details, "error",
			       PQgetisnull(res, 0, 6) ? NULL : json_object_new_string(PQgetvalue(res, 0, 6)));
	json_object_object_add(done->alert_details, "circuit", json_object_new_string(PQgetvalue(res, 0, 7)));
	json_object_object_add(done->alert_details, "consecutive_failures",
			       json_object_new_int(atoi(PQgetvalue(res, 0, 8))));
	json_object_object_add(done->alert_details, "event_id",
			       json_object_new_int64(strtoll(ev->id, NULL, 10)));
	snprintf(done->alert_summary, sizeof(done->alert_summary), "database %s is unhealthy%s%s",
		 PQgetvalue(res, 0, 0), PQgetisnull(res, 0, 6) ? "" : ": ",
		 PQgetisnull(res, 0, 6) ? "" : PQgetvalue(res, 0, 6));
	done->result = json_object_new_object();
	json_object_object_add(done->result, "alert", json_object_new_string("database.unhealthy"));
	PQclear(res);
	return EVENT_DONE;
}

/* --- the history --- */

static json_object *event_json_from_row(const PGresult *res, int row)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(strtoll(PQgetvalue(res, row, 0), NULL, 10)));
	json_object_object_add(o, "type", db_json_text(res, row, 1));
	json_object_object_add(o, "resource_id", db_json_text(res, row, 2));
	json_object_object_add(o, "payload", db_json_parsed(res, row, 3));
	json_object_object_add(o, "status", db_json_text(res, row, 4));
	json_object_object_add(o, "attempts", json_object_new_int(atoi(PQgetvalue(res, row, 5))));
	json_object_object_add(o, "next_attempt_at", db_json_text(res, row, 6));
	json_object_object_add(o, "last_error", db_json_text(res, row, 7));
	json_object_object_add(o, "result", db_json_parsed(res, row, 8));
	json_object_object_add(o, "execution_id", db_json_text(res, row, 9));
	json_object_object_add(o, "created_at", db_json_text(res, row, 10));
	json_object_object_add(o, "processed_at", db_json_text(res, row, 11));
	return o;
}

static const struct history events = {
	.noun = "event",
	.tag = "ev",
	.table = "outbox o",
	.columns = "o.id, o.event_type, o.resource_id, o.payload::text, o.status, o.attempts, "
		"CASE WHEN o.status IN ('pending', 'processing') THEN " EXEC_SQL_ISO("o.next_attempt_at")
		" END, o.last_error, o.result::text, o.execution_id, " EXEC_SQL_ISO("o.created_at") ", "
		EXEC_SQL_ISO("o.published_at"),
	.id = "o.id",
	.kind = "o.event_type",
	.status = "o.status",
	.created_at = "o.created_at",
	.row_json = event_json_from_row,
};

int event_list(struct db *db, const struct history_filter *f, json_object **out,
	       struct infra_error *err)
{
	static const char *const statuses[] = { "pending", "processing", "done", "dead", NULL };

	*out = NULL;
	if (!history_filter_valid(f->status, statuses))
		return infra_fail_field(err, "status", "must be one of pending, processing, done, dead");
	return history_list(db, &events, f, out, err);
}

int event_get(struct db *db, const char *id, json_object **out, struct infra_error *err)
{
	return history_get(db, &events, id, out, err);
}

int event_revive(struct db *db, const char *id, json_object **out, struct infra_error *err)
{
	return history_retry(db, &events, id, "status = 'pending', attempts = 0, "
			     "next_attempt_at = clock_timestamp()", "'dead'",
			     "not dead: only a dead event is revived", out, err);
}
