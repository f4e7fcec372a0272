/* schedule.c — migration schedules (see schedule.h): the request body's
 * field table, the rows in the control database, and the runners' task
 * that fires each due occurrence exactly once. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"
#include "log.h"
#include "metrics.h"
#include "page.h"
#include "page_cursor.h"
#include "registry.h"
#include "schedule.h"
#include "strbuf.h"
#include "timeutil.h"

#define SCHEDULE_BATCH 16
#define SCHEDULE_LEASE_S 60
#define SCHEDULE_IDLE_MS 1000
#define SCHEDULE_WHY_MAX (CRON_WHY_MAX + 64)

/* --- the request --- */

/* The execute body's fields a schedule carries (validated by
 * exec_request_parse). */
static const char *const exec_fields[] = {
	"scope", "region", "tenant", "database_id", "database_type", "target_version",
};

/* A validator: NULL when `v` (never JSON null) is acceptable, having
 * filled its part of `in`; otherwise why not (possibly written in `buf`,
 * SCHEDULE_WHY_MAX bytes). */
typedef const char *(*schedule_check_fn)(json_object *v, struct schedule_input *in, int64_t now,
					 char *buf);

static const char *string_of(json_object *v)
{
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static const char *check_name(json_object *v, struct schedule_input *in, int64_t now, char *buf)
{
	(void)now;
	(void)buf;
	if ((in->name = string_of(v)) == NULL)
		return "must be a string";
	return registry_check_name(in->name);
}

static const char *check_cron(json_object *v, struct schedule_input *in, int64_t now, char *buf)
{
	char why[CRON_WHY_MAX];

	if ((in->cron = string_of(v)) == NULL)
		return "must be a string";
	if (cron_parse(&in->parsed, in->cron, why) != 0) {
		snprintf(buf, SCHEDULE_WHY_MAX, "%s", why);
		in->cron = NULL;
		return buf;
	}
	if ((in->next_run_at = cron_next(&in->parsed, now)) < 0) {
		in->cron = NULL;
		return "never fires (no such date within 10 years)";
	}
	return NULL;
}

static const char *check_run_at(json_object *v, struct schedule_input *in, int64_t now, char *buf)
{
	const char *s = string_of(v);

	(void)buf;
	if (s == NULL || time_parse_iso8601(s, &in->run_at) != 0 || in->run_at <= 0) {
		in->run_at = 0;
		return "must be an ISO 8601 time such as 2026-11-22T10:00:00Z";
	}
	if (in->run_at < now - SCHEDULE_PAST_SLACK_S) {
		in->run_at = 0;
		return "is in the past";
	}
	return NULL;
}

static const char *check_enabled(json_object *v, struct schedule_input *in, int64_t now, char *buf)
{
	(void)now;
	(void)buf;
	if (!json_object_is_type(v, json_type_boolean))
		return "must be true or false";
	in->enabled = json_object_get_boolean(v);
	return NULL;
}

static const struct schedule_field {
	const char *name;
	schedule_check_fn check;
} fields[] = {
	{ "name", check_name },
	{ "cron", check_cron },
	{ "run_at", check_run_at },
	{ "enabled", check_enabled },
};

static bool is_exec_field(const char *key)
{
	for (size_t i = 0; i < sizeof(exec_fields) / sizeof(exec_fields[0]); i++)
		if (strcmp(exec_fields[i], key) == 0)
			return true;
	return false;
}

static void add_problem(json_object *bad, const char *field, const char *why)
{
	if (!json_object_object_get_ex(bad, field, NULL))
		json_object_object_add(bad, field, json_object_new_string(why));
}

int schedule_input_parse(json_object *body, int64_t now, struct schedule_input *in,
			 json_object **problems)
{
	json_object *bad = json_object_new_object(), *exec_bad = NULL;
	char buf[SCHEDULE_WHY_MAX];

	memset(in, 0, sizeof(*in));
	in->enabled = true;
	in->request = json_object_new_object();
	*problems = NULL;
	json_object_object_foreach(body, key, val) {
		const struct schedule_field *f = NULL;
		const char *why;

		if (is_exec_field(key)) {
			json_object_object_add(in->request, key, json_object_get(val));
			continue;
		}
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (strcmp(fields[i].name, key) == 0)
				f = &fields[i];
		if (f == NULL)
			add_problem(bad, key, "unknown field");
		else if (val != NULL && (why = f->check(val, in, now, buf)) != NULL)
			add_problem(bad, key, why);
	}
	if (exec_request_parse(in->request, EXEC_FORM_FILTERS, &in->req, &exec_bad) != 0) {
		json_object_object_foreach(exec_bad, key2, why2)
			add_problem(bad, key2, json_object_get_string(why2));
		json_object_put(exec_bad);
	}
	if (in->name == NULL)
		add_problem(bad, "name", "is required");
	if (in->cron != NULL && in->run_at != 0)
		add_problem(bad, "run_at", "give either cron or run_at, not both");
	else if (in->cron == NULL && in->run_at == 0 && !json_object_object_get_ex(bad, "cron", NULL) &&
		 !json_object_object_get_ex(bad, "run_at", NULL))
		add_problem(bad, "cron", "one of cron (recurring) and run_at (once) is required");
	if (json_object_object_length(bad) > 0) {
		*problems = bad;
		schedule_input_release(in);
		return -1;
	}
	json_object_put(bad);
	if (in->cron == NULL)
		in->next_run_at = in->run_at;
	return 0;
}

void schedule_input_release(struct schedule_input *in)
{
	json_object_put(in->request);
	in->request = NULL;
}

int64_t schedule_next_after(const struct cron *c, int64_t scheduled_for, int64_t now)
{
	return cron_next(c, scheduled_for > now ? scheduled_for : now);
}

/* --- the rows --- */

#define SCHEDULE_COLUMNS                                                                    \
	"s.id, s.name, s.request::text, s.cron, " EXEC_SQL_ISO("s.run_at") ", s.enabled, "   \
	EXEC_SQL_ISO("s.next_run_at") ", " EXEC_SQL_ISO("s.last_run_at") ", "                \
	"s.last_execution_id, s.last_error, s.runs, " EXEC_SQL_ISO("s.created_at") ", "     \
	"s.created_by, (extract(epoch FROM s.created_at) * 1000000)::bigint"

enum {
	SL_ID, SL_NAME, SL_REQUEST, SL_CRON, SL_RUN_AT, SL_ENABLED, SL_NEXT, SL_LAST_RUN,
	SL_LAST_EXEC, SL_LAST_ERROR, SL_RUNS, SL_CREATED_AT, SL_CREATED_BY, SL_CREATED_US,
};

static json_object *schedule_json_from_row(const PGresult *res, int row)
{
	const char *text = PQgetvalue(res, row, SL_REQUEST);
	json_object *o = json_object_new_object(), *request = json_strict_parse_object(text, strlen(text));
	json_object *v;

	json_object_object_add(o, "id", db_json_text(res, row, SL_ID));
	json_object_object_add(o, "name", db_json_text(res, row, SL_NAME));
	/* the execute fields, flat, as the body gave them */
	for (size_t i = 0; i < sizeof(exec_fields) / sizeof(exec_fields[0]); i++)
		json_object_object_add(o, exec_fields[i], request && json_object_object_get_ex(
					       request, exec_fields[i], &v) ? json_object_get(v) : NULL);
	json_object_put(request);
	json_object_object_add(o, "cron", db_json_text(res, row, SL_CRON));
	json_object_object_add(o, "run_at", db_json_text(res, row, SL_RUN_AT));
	json_object_object_add(o, "enabled",
			       json_object_new_boolean(PQgetvalue(res, row, SL_ENABLED)[0] == 't'));
	json_object_object_add(o, "next_run_at", db_json_text(res, row, SL_NEXT));
	json_object_object_add(o, "last_run_at", db_json_text(res, row, SL_LAST_RUN));
	json_object_object_add(o, "last_execution_id", db_json_text(res, row, SL_LAST_EXEC));
	json_object_object_add(o, "last_error", db_json_text(res, row, SL_LAST_ERROR));
	json_object_object_add(o, "runs", json_object_new_int(atoi(PQgetvalue(res, row, SL_RUNS))));
	json_object_object_add(o, "created_at", db_json_text(res, row, SL_CREATED_AT));
	json_object_object_add(o, "created_by", db_json_text(res, row, SL_CREATED_BY));
	return o;
}

int schedule_create(struct db *db, const struct schedule_input *in, const char *scope,
		    const char *actor, json_object **out, struct infra_error *err)
{
	char id[UUID_STR_LEN], exec_id[UUID_STR_LEN], run_at[24], next[24];
	const char *params[10];
	PGresult *res;
	bool created;

	*out = NULL;
	uuid_generate(id);
	uuid_generate(exec_id);
	snprintf(run_at, sizeof(run_at), "%" PRId64, in->run_at);
	snprintf(next, sizeof(next), "%" PRId64, in->next_run_at);
	params[0] = id;
	params[1] = in->name;
	params[2] = json_object_to_json_string_ext(in->request, JSON_C_TO_STRING_PLAIN);
	params[3] = in->cron;
	params[4] = in->cron ? NULL : run_at;
	params[5] = in->enabled ? "true" : "false";
	params[6] = next;
	params[7] = exec_id;
	params[8] = scope;
	params[9] = actor;
	res = db_exec(db, err, "INSERT INTO schedules (id, name, request, cron, run_at, enabled, "
		      "next_run_at, next_execution_id, tenant, created_by) VALUES ($1::uuid, $2, $3::jsonb, "
		      "$4, to_timestamp($5::bigint), $6::boolean, to_timestamp($7::bigint), $8::uuid, $9, $10) "
		      "ON CONFLICT DO NOTHING RETURNING id", 10, params);
	if (res == NULL)
		return -1;
	created = PQntuples(res) == 1;
	PQclear(res);
	if (!created)
		return infra_fail(err, INFRA_ECONFLICT, "a schedule named '%s' already exists", in->name);
	return schedule_get(db, id, scope, out, err);
}

int schedule_get(struct db *db, const char *id, const char *scope, json_object **out,
		 struct infra_error *err)
{
	const char *params[2] = { id, scope };
	PGresult *res;

	*out = NULL;
	if (!uuid_is_valid(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such schedule");
	res = db_exec(db, err, "SELECT " SCHEDULE_COLUMNS " FROM schedules s WHERE s.id = $1::uuid "
		      "AND ($2::text IS NULL OR s.tenant = $2)", 2, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "no such schedule");
	}
	*out = schedule_json_from_row(res, 0);
	PQclear(res);
	return 0;
}

static json_object *schedule_cursor(const PGresult *res, int row)
{
	return page_cursor_of_row(res, row, SL_CREATED_US, SL_ID);
}

int schedule_list(struct db *db, const char *scope, int limit, const char *cursor,
		  json_object **out, struct infra_error *err)
{
	char micros[PAGE_CURSOR_MICROS_MAX], after[UUID_STR_LEN], fetch[16];
	const char *params[4];
	PGresult *res;

	*out = NULL;
	if (cursor != NULL && page_cursor_decode(cursor, micros, after) != 0)
		return infra_fail_field(err, "cursor", "is not a cursor this endpoint returned");
	snprintf(fetch, sizeof(fetch), "%d", limit + 1);
	params[0] = scope;
	params[1] = cursor ? micros : NULL;
	params[2] = cursor ? after : NULL;
	params[3] = fetch;
	res = db_exec(db, err, "SELECT " SCHEDULE_COLUMNS " FROM schedules s "
		      "WHERE ($1::text IS NULL OR s.tenant = $1) AND ($2::bigint IS NULL OR "
		      "(s.created_at, s.id) > ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', "
		      "$3::uuid)) ORDER BY s.created_at, s.id LIMIT $4::int", 4, params);
	if (res == NULL)
		return -1;
	*out = page_json(res, limit, schedule_json_from_row, schedule_cursor);
	PQclear(res);
	return 0;
}

/* The next_run_at (epoch seconds, as text in `next`; "" to keep it) of a
 * schedule being resumed at `now`: its cron expression's first time after
 * now; a one-off's own, unless it has fired. 0, or -1 with `err`. */
static int resumed_next(const PGresult *res, int64_t now, char next[24], struct infra_error *err)
{
	char why[CRON_WHY_MAX];
	struct cron c;
	int64_t t;

	next[0] = '\0';
	if (PQgetisnull(res, 0, 0)) {
		if (PQgetvalue(res, 0, 1)[0] == 't')
			return infra_fail_field(err, "enabled", "this one-off schedule has fired; "
						"create another to run it again");
		return 0;
	}
	if (cron_parse(&c, PQgetvalue(res, 0, 0), why) != 0 || (t = cron_next(&c, now)) < 0)
		return infra_fail_field(err, "enabled", "its cron expression never fires again");
	snprintf(next, 24, "%" PRId64, t);
	return 0;
}

int schedule_set_enabled(struct db *db, const char *id, const char *scope, bool enabled,
			 int64_t now, json_object **out, struct infra_error *err)
{
	const char *params[3] = { id, scope, NULL };
	char next[24] = "";
	PGresult *res;

	*out = NULL;
	if (!uuid_is_valid(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such schedule");
	if (db_begin(db, err) != 0)
		return -1;
	res = db_exec(db, err, "SELECT cron, next_run_at IS NULL FROM schedules WHERE id = $1::uuid "
		      "AND ($2::text IS NULL OR tenant = $2) FOR UPDATE", 2, params);
	if (res != NULL && PQntuples(res) == 0) {
		PQclear(res);
		res = NULL;
		infra_fail(err, INFRA_ENOTFOUND, "no such schedule");
	}
	if (res == NULL || (enabled && resumed_next(res, now, next, err) != 0)) {
		PQclear(res);
		db_rollback(db);
		return -1;
	}
	PQclear(res);
	params[1] = enabled ? "true" : "false";
	params[2] = next[0] ? next : NULL;
	if (db_exec_command(db, err, "UPDATE schedules SET enabled = $2::boolean, "
			    "next_run_at = coalesce(to_timestamp($3::bigint), next_run_at) "
			    "WHERE id = $1::uuid", 3, params) != 0 ||
	    db_commit(db, err) != 0) {
		db_rollback(db);
		return -1;
	}
	return schedule_get(db, id, scope, out, err);
}

int schedule_delete(struct db *db, const char *id, const char *scope, struct infra_error *err)
{
	const char *params[2] = { id, scope };
	PGresult *res;
	long n;

	if (!uuid_is_valid(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such schedule");
	res = db_exec(db, err, "DELETE FROM schedules WHERE id = $1::uuid "
		      "AND ($2::text IS NULL OR tenant = $2)", 2, params);
	if (res == NULL)
		return -1;
	n = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n == 1 ? 0 : infra_fail(err, INFRA_ENOTFOUND, "no such schedule");
}

/* --- firing --- */

enum { SF_ID, SF_NAME, SF_REQUEST, SF_CRON, SF_DUE, SF_EXEC_ID, SF_CREATED_BY, SF_TENANT };

enum fire_result {
	FIRE_STARTED,		/* the occurrence's execution exists */
	FIRE_BLOCKED,		/* an execution still running holds its targets */
	FIRE_FAILED,		/* it cannot start (no targets, a bad request) */
	FIRE_LATER,		/* the control database failed: the lease expires, try again */
};

static PGresult *claim(struct runner_ctx *ctx, struct infra_error *err)
{
	char lease[16], limit[16];
	const char *params[3] = { ctx->owner, lease, limit };

	snprintf(lease, sizeof(lease), "%d", SCHEDULE_LEASE_S);
	snprintf(limit, sizeof(limit), "%d", SCHEDULE_BATCH);
	return db_exec(&ctx->db, err,
		       "UPDATE schedules s SET lease_owner = $1, "
		       "lease_expires_at = clock_timestamp() + make_interval(secs => $2::int) "
		       "FROM (SELECT id FROM schedules WHERE enabled AND next_run_at <= clock_timestamp() "
		       "AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp()) "
		       "ORDER BY next_run_at LIMIT $3::int FOR UPDATE SKIP LOCKED) c WHERE s.id = c.id "
		       "RETURNING s.id, s.name, s.request::text, s.cron, "
		       "extract(epoch FROM s.next_run_at)::bigint, s.next_execution_id, s.created_by, s.tenant",
		       3, params);
}

/* Start the execution of claimed row `row`'s occurrence. */
static enum fire_result fire(struct runner_ctx *ctx, const PGresult *res, int row, char *why)
{
	const char *text = PQgetvalue(res, row, SF_REQUEST);
	const char *tenant = PQgetisnull(res, row, SF_TENANT) ? NULL : PQgetvalue(res, row, SF_TENANT);
	json_object *body = json_strict_parse_object(text, strlen(text)), *problems = NULL, *exec = NULL;
	char conflict[UUID_STR_LEN] = "";
	struct exec_request req;
	struct infra_error err;
	enum fire_result fr;
	bool replayed;
	struct exec_new n = {
		.id = PQgetvalue(res, row, SF_EXEC_ID), .req = &req, .kind = "migrate", .source = "schedule",
		.executed_by = PQgetvalue(res, row, SF_CREATED_BY), .tenant = tenant,
	};

	if (body == NULL || exec_request_parse(body, EXEC_FORM_FILTERS, &req, &problems) != 0) {
		snprintf(why, INFRA_ERRMSG_MAX, "the stored request is not valid any more");
		json_object_put(problems);
		json_object_put(body);
		return FIRE_FAILED;
	}
	/* Fired before, by a runner that died before recording it. */
	if (exec_get(&ctx->db, n.id, NULL, &exec, &err) == 0) {
		json_object_put(exec);
		json_object_put(body);
		return FIRE_STARTED;
	}
	if (err.kind != INFRA_ENOTFOUND) {
		fr = FIRE_LATER;
	} else if (exec_create(&ctx->db, &n, tenant, &exec, &replayed, conflict, &err) == 0) {
		json_object_put(exec);
		fr = FIRE_STARTED;
	} else if (err.kind == INFRA_ECONFLICT && conflict[0] != '\0') {
		fr = FIRE_BLOCKED;
	} else if (err.kind == INFRA_ECONFLICT && exec_get(&ctx->db, n.id, NULL, &exec, &err) == 0) {
		json_object_put(exec);	/* another runner started it meanwhile */
		fr = FIRE_STARTED;
	} else {
		fr = err.kind == INFRA_EUNAVAIL ? FIRE_LATER : FIRE_FAILED;
	}
	if (fr != FIRE_STARTED)
		snprintf(why, INFRA_ERRMSG_MAX, "%s", err.message);
	json_object_put(body);
	return fr;
}

static void log_fired(const PGresult *res, int row, enum fire_result fr, const char *why,
		      int64_t next)
{
	static const char *const results[] = { "started", "blocked", "failed", "later" };
	json_object *f = json_object_new_object();
	char labels[48], ts[ISO8601_MAX];

	json_object_object_add(f, "schedule_id", json_object_new_string(PQgetvalue(res, row, SF_ID)));
	json_object_object_add(f, "schedule", json_object_new_string(PQgetvalue(res, row, SF_NAME)));
	if (fr == FIRE_STARTED)
		json_object_object_add(f, "execution_id",
				       json_object_new_string(PQgetvalue(res, row, SF_EXEC_ID)));
	else
		json_object_object_add(f, "error", json_object_new_string(why));
	json_object_object_add(f, "next_run_at", next > 0 ? json_object_new_string(time_iso8601(ts, next))
			       : NULL);
	log_emit(fr == FIRE_STARTED ? LOG_LEVEL_INFO : LOG_LEVEL_WARN,
		 fr == FIRE_STARTED ? "schedule fired" : "schedule could not start its execution", f);
	snprintf(labels, sizeof(labels), "result=\"%s\"", results[fr]);
	metrics_count("infra_schedule_runs_total", labels, 1);
}

/* Fire claimed row `row` and record the occurrence. */
static void fire_and_record(struct runner_ctx *ctx, const PGresult *res, int row)
{
	char why[INFRA_ERRMSG_MAX] = "", next_s[24], due_s[24], fresh[UUID_STR_LEN];
	int64_t due = strtoll(PQgetvalue(res, row, SF_DUE), NULL, 10), now, next = -1;
	bool recurring = !PQgetisnull(res, row, SF_CRON), enabled;
	enum fire_result fr = fire(ctx, res, row, why);
	const char *params[8];
	struct infra_error err;
	struct cron c;
	char cron_why[CRON_WHY_MAX];

	if (fr == FIRE_LATER) {
		log_fired(res, row, fr, why, 0);
		return;		/* the lease expires; the occurrence is tried again */
	}
	now = time_wall_s();
	if (recurring && cron_parse(&c, PQgetvalue(res, row, SF_CRON), cron_why) == 0)
		next = schedule_next_after(&c, due, now);
	else if (!recurring && fr == FIRE_BLOCKED)
		next = now + SCHEDULE_RETRY_S;
	enabled = next > 0;
	uuid_generate(fresh);
	snprintf(next_s, sizeof(next_s), "%" PRId64, next);
	snprintf(due_s, sizeof(due_s), "%" PRId64, due);
	params[0] = PQgetvalue(res, row, SF_ID);
	params[1] = next > 0 ? next_s : NULL;
	params[2] = enabled ? "true" : "false";
	params[3] = due_s;
	params[4] = fr == FIRE_STARTED ? "true" : "false";
	params[5] = fresh;
	params[6] = fr == FIRE_STARTED ? NULL : why;
	params[7] = ctx->owner;
	/* The occurrence's execution id moves on only once it has started. */
	if (db_exec_command(&ctx->db, &err,
			    "UPDATE schedules SET next_run_at = to_timestamp($2::bigint), enabled = $3::boolean, "
			    "last_run_at = to_timestamp($4::bigint), last_execution_id = CASE WHEN $5::boolean "
			    "THEN next_execution_id ELSE last_execution_id END, next_execution_id = CASE "
			    "WHEN $5::boolean THEN $6::uuid ELSE next_execution_id END, "
			    "runs = runs + $5::boolean::int, last_error = $7, lease_owner = NULL, "
			    "lease_expires_at = NULL WHERE id = $1::uuid AND lease_owner = $8", 8, params) != 0) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "schedule_id", json_object_new_string(params[0]));
		json_object_object_add(f, "error", json_object_new_string(err.message));
		log_emit(LOG_LEVEL_WARN, "cannot record a schedule's occurrence; it is tried again "
			 "when its lease expires (its execution, if started, is not started twice)", f);
	}
	log_fired(res, row, fr, why, next);
}

int64_t schedule_task(struct runner_ctx *ctx)
{
	struct infra_error err;
	PGresult *res = claim(ctx, &err);
	int n;

	if (res == NULL) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "error", json_object_new_string(err.message));
		log_emit(LOG_LEVEL_WARN, "cannot claim due schedules", f);
		return SCHEDULE_IDLE_MS * 5;
	}
	n = PQntuples(res);
	for (int i = 0; i < n && !*ctx->stop; i++)
		fire_and_record(ctx, res, i);
	PQclear(res);
	return n == SCHEDULE_BATCH ? 0 : SCHEDULE_IDLE_MS;
}
