/* exec_store.c — executions in the control database (see exec.h):
 * creating one from a request or as the rollback of another, reading,
 * listing and cancelling them, their numbered events, and ending them when
 * their last target finishes.
 *
 * Lock order, so that nothing here deadlocks with the runners: a
 * transaction that changes a running target's row and the execution's
 * counters locks the target row first (only rows in_progress); one that
 * cancels locks the execution first and then only pending target rows,
 * which the runners lock only in their claim, itself touching no
 * execution row. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "exec.h"
#include "log.h"
#include "metrics.h"
#include "page_cursor.h"
#include "timeutil.h"
#include "xalloc.h"

const char exec_columns_sql[] =
	"e.id, e.kind, e.source, e.scope, e.filters, e.target_version, e.dry_run, e.status, "
	"e.total_targets, e.completed_targets, e.failed_targets, e.skipped_targets, "
	"e.current_target, e.executed_by, " EXEC_SQL_ISO("e.created_at") ", "
	EXEC_SQL_ISO("e.started_at") ", " EXEC_SQL_ISO("e.completed_at") ", e.error_message, "
	"e.rollback_of, e.batch_id, e.cancel_requested, "
	"extract(epoch FROM e.started_at)::bigint, e.event_seq, "
	"(extract(epoch FROM e.created_at) * 1000000)::bigint, e.tenant";

const char exec_target_columns_sql[] =
	"t.database_id, t.database_name, t.schema_name, t.database_type, t.status, t.attempts, "
	"t.applied, t.version_before, t.current_version, t.error, "
	EXEC_SQL_ISO("t.started_at") " AS started_iso, "
	EXEC_SQL_ISO("t.completed_at") " AS completed_iso";

/* "WHERE e.id = $1" within a tenant scope given as $2 (NULL: any). */
#define EXEC_IN_SCOPE "e.id = $1::uuid AND ($2::text IS NULL OR e.tenant = $2)"

/* --- rendering --- */

static int column_int(const PGresult *res, int row, int col)
{
	return atoi(PQgetvalue(res, row, col));
}

static bool column_bool(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

/* A jsonb column (ours, so well-formed); `fallback` ("{}" / "[]") if not. */
static json_object *column_json(const PGresult *res, int row, int col, const char *fallback)
{
	json_object *o = db_json_parsed(res, row, col);

	return o ? o : json_tokener_parse(fallback);
}

static json_object *progress_json(const PGresult *res, int row, int64_t now)
{
	json_object *o = json_object_new_object();
	struct exec_progress p;
	char pct[16], ts[ISO8601_MAX];
	int64_t started = PQgetisnull(res, row, EXEC_C_STARTED_EPOCH)
		? 0 : strtoll(PQgetvalue(res, row, EXEC_C_STARTED_EPOCH), NULL, 10);
	bool finished = !PQgetisnull(res, row, EXEC_C_COMPLETED_AT);

	exec_progress_compute(&p, column_int(res, row, EXEC_C_TOTAL),
			      column_int(res, row, EXEC_C_COMPLETED), column_int(res, row, EXEC_C_FAILED),
			      column_int(res, row, EXEC_C_SKIPPED), started, now);
	snprintf(pct, sizeof(pct), "%.1f", p.percent);
	json_object_object_add(o, "total_targets", json_object_new_int(p.total));
	json_object_object_add(o, "completed_targets", json_object_new_int(p.completed));
	json_object_object_add(o, "failed_targets", json_object_new_int(p.failed));
	json_object_object_add(o, "skipped_targets", json_object_new_int(p.skipped));
	json_object_object_add(o, "current_target", db_json_text(res, row, EXEC_C_CURRENT));
	json_object_object_add(o, "percent", json_object_new_double_s(p.percent, pct));
	json_object_object_add(o, "estimated_completion",
			       p.estimated_completion > 0 && !finished
			       ? json_object_new_string(time_iso8601(ts, p.estimated_completion)) : NULL);
	return o;
}

json_object *exec_json_from_row(const PGresult *res, int row, int64_t now)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", db_json_text(res, row, EXEC_C_ID));
	json_object_object_add(o, "kind", db_json_text(res, row, EXEC_C_KIND));
	json_object_object_add(o, "source", db_json_text(res, row, EXEC_C_SOURCE));
	json_object_object_add(o, "scope", db_json_text(res, row, EXEC_C_SCOPE));
	json_object_object_add(o, "filters", column_json(res, row, EXEC_C_FILTERS, "{}"));
	json_object_object_add(o, "target_version", db_json_text(res, row, EXEC_C_TARGET_VERSION));
	json_object_object_add(o, "dry_run", json_object_new_boolean(column_bool(res, row, EXEC_C_DRY_RUN)));
	json_object_object_add(o, "status", db_json_text(res, row, EXEC_C_STATUS));
	json_object_object_add(o, "progress", progress_json(res, row, now));
	json_object_object_add(o, "executed_by", db_json_text(res, row, EXEC_C_EXECUTED_BY));
	json_object_object_add(o, "created_at", db_json_text(res, row, EXEC_C_CREATED_AT));
	json_object_object_add(o, "started_at", db_json_text(res, row, EXEC_C_STARTED_AT));
	json_object_object_add(o, "completed_at", db_json_text(res, row, EXEC_C_COMPLETED_AT));
	json_object_object_add(o, "error_message", db_json_text(res, row, EXEC_C_ERROR));
	json_object_object_add(o, "rollback_of", db_json_text(res, row, EXEC_C_ROLLBACK_OF));
	json_object_object_add(o, "batch_id", db_json_text(res, row, EXEC_C_BATCH_ID));
	json_object_object_add(o, "cancel_requested",
			       json_object_new_boolean(column_bool(res, row, EXEC_C_CANCEL)));
	json_object_object_add(o, "last_event_id",
			       json_object_new_int64(strtoll(PQgetvalue(res, row, EXEC_C_EVENT_SEQ), NULL, 10)));
	return o;
}

json_object *exec_target_json_from_row(const PGresult *res, int row, int col0)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "database_id", db_json_text(res, row, col0));
	json_object_object_add(o, "database", db_json_text(res, row, col0 + 1));
	json_object_object_add(o, "schema", db_json_text(res, row, col0 + 2));
	json_object_object_add(o, "database_type", db_json_text(res, row, col0 + 3));
	json_object_object_add(o, "status", db_json_text(res, row, col0 + 4));
	json_object_object_add(o, "attempts", json_object_new_int(column_int(res, row, col0 + 5)));
	json_object_object_add(o, "applied", column_json(res, row, col0 + 6, "[]"));
	json_object_object_add(o, "version_before", db_json_text(res, row, col0 + 7));
	json_object_object_add(o, "current_version", db_json_text(res, row, col0 + 8));
	json_object_object_add(o, "error", db_json_text(res, row, col0 + 9));
	json_object_object_add(o, "started_at", db_json_text(res, row, col0 + 10));
	json_object_object_add(o, "completed_at", db_json_text(res, row, col0 + 11));
	return o;
}

json_object *exec_progress_event(json_object *execution)
{
	json_object *o = json_object_new_object(), *progress, *status;

	if (json_object_object_get_ex(execution, "progress", &progress)) {
		json_object_object_foreach(progress, key, val)
			json_object_object_add(o, key, json_object_get(val));
	}
	if (json_object_object_get_ex(execution, "status", &status))
		json_object_object_add(o, "status", json_object_get(status));
	return o;
}

/* --- metrics --- */

static void count_by_status(const char *name, const char *status)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "status=\"%s\"", status);
	metrics_count(name, labels, 1);
}

void exec_metrics_execution(const char *status)
{
	count_by_status("infra_migration_executions_total", status);
}

void exec_metrics_target(const char *status)
{
	count_by_status("infra_migration_targets_total", status);
}

/* --- events --- */

void exec_channel(char out[EXEC_CHANNEL_MAX], const char *id)
{
	snprintf(out, EXEC_CHANNEL_MAX, "infra_exec:%s", id);
}

void exec_event_batch_add(struct exec_event_batch *b, const char *id, int64_t seq,
			  const char *type, json_object *data)
{
	struct exec_event *ev;

	if (b->n == b->alloc) {
		b->alloc = b->alloc ? b->alloc * 2 : 16;
		b->items = realloc(b->items, b->alloc * sizeof(*b->items));
		if (b->items == NULL)
			abort();
	}
	ev = &b->items[b->n++];
	snprintf(ev->id, sizeof(ev->id), "%s", id);
	ev->seq = seq;
	ev->type = type;
	ev->data = data;
}

static void event_batch_clear(struct exec_event_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		json_object_put(b->items[i].data);
	b->n = 0;
}

void exec_event_batch_release(struct exec_event_batch *b)
{
	event_batch_clear(b);
	free(b->items);
	memset(b, 0, sizeof(*b));
}

/* Queue the batch's insert on pipeline `p` (nothing when it is empty);
 * the batch keeps its events. */
static void event_batch_queue(struct exec_event_batch *b, struct db_pipeline *p)
{
	struct db_array ids = DB_ARRAY_INIT, seqs = DB_ARRAY_INIT, types = DB_ARRAY_INIT;
	struct db_array data = DB_ARRAY_INIT, channels = DB_ARRAY_INIT;
	const char *params[5];

	if (b->n == 0)
		return;
	/* One statement of constant text whatever the number of events (it
	 * stays prepared), the events as arrays. */
	for (size_t i = 0; i < b->n; i++) {
		const struct exec_event *ev = &b->items[i];
		bool seen = false;

		db_array_push(&ids, ev->id);
		db_array_pushf(&seqs, "%lld", (long long)ev->seq);
		db_array_push(&types, ev->type);
		db_array_push(&data, json_object_to_json_string_ext(ev->data, JSON_C_TO_STRING_PLAIN));
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(b->items[j].id, ev->id) == 0;
		if (!seen) {
			char channel[EXEC_CHANNEL_MAX];

			exec_channel(channel, ev->id);
			db_array_push(&channels, channel);
		}
	}
	params[0] = db_array_text(&channels);
	params[1] = db_array_text(&ids);
	params[2] = db_array_text(&seqs);
	params[3] = db_array_text(&types);
	params[4] = db_array_text(&data);
	/* The notifications are delivered when the transaction commits, so
	 * a listener woken by one always finds the events. */
	db_pipeline_add(p, "WITH i AS (INSERT INTO execution_events (execution_id, seq, type, data) "
			"SELECT * FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::jsonb[]) RETURNING 1) "
			"SELECT pg_notify(c, '') FROM unnest($1::text[]) AS c WHERE EXISTS (SELECT 1 FROM i)",
			5, params);
	db_array_release(&ids);
	db_array_release(&seqs);
	db_array_release(&types);
	db_array_release(&data);
	db_array_release(&channels);
}

/* The batch's insert, then with `commit` a COMMIT, in one round trip. */
static int event_batch_run(struct db *db, struct exec_event_batch *b, bool commit,
			   struct infra_error *err)
{
	struct db_pipeline p = DB_PIPELINE_INIT;
	int rc;

	event_batch_queue(b, &p);
	if (commit)
		db_pipeline_add(&p, "COMMIT", 0, NULL);
	rc = db_pipeline_run(db, &p, err);
	db_pipeline_release(&p);
	if (rc == 0)
		event_batch_clear(b);
	return rc;
}

int exec_event_batch_insert(struct db *db, struct exec_event_batch *b, struct infra_error *err)
{
	return event_batch_run(db, b, false, err);
}

int exec_event_batch_commit(struct db *db, struct exec_event_batch *b, struct infra_error *err)
{
	return event_batch_run(db, b, true, err);
}

int exec_events_insert(struct db *db, const char *id, int64_t first_seq, int n,
		       const char *const *types, json_object *const *data,
		       struct infra_error *err)
{
	struct exec_event_batch b = { 0 };
	int rc;

	if (n < 1)
		return infra_fail(err, INFRA_EINTERNAL, "internal error");
	for (int i = 0; i < n; i++)
		exec_event_batch_add(&b, id, first_seq + i, types[i], json_object_get(data[i]));
	rc = exec_event_batch_insert(db, &b, err);
	exec_event_batch_release(&b);
	return rc;
}

PGresult *exec_events_after(struct db *db, const char *id, int64_t after, int limit,
			    struct infra_error *err)
{
	char a[24], l[16];
	const char *params[3] = { id, a, l };

	snprintf(a, sizeof(a), "%lld", (long long)after);
	snprintf(l, sizeof(l), "%d", limit);
	return db_exec(db, err,
		       "SELECT seq, type, data FROM execution_events WHERE execution_id = $1::uuid "
		       "AND seq > $2::bigint ORDER BY seq LIMIT $3::int", 3, params);
}

int exec_events_listen(struct db *db, const char *id, struct infra_error *err)
{
	char channel[EXEC_CHANNEL_MAX], *ident, sql[EXEC_CHANNEL_MAX + 16];

	if (db_connect(db, err) != 0)
		return -1;
	exec_channel(channel, id);
	ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
	if (ident == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "internal error");
	snprintf(sql, sizeof(sql), "LISTEN %s", ident);
	PQfreemem(ident);
	return db_exec_command(db, err, sql, 0, NULL);
}

static int drain_notifications(PGconn *conn)
{
	PGnotify *n;
	int count = 0;

	while ((n = PQnotifies(conn)) != NULL) {
		PQfreemem(n);
		count++;
	}
	return count;
}

int exec_events_wait(struct db *db, int timeout_ms)
{
	struct pollfd pfd;
	int rc;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return -1;
	/* Notifications that came in with an earlier result are queued. */
	if (drain_notifications(db->conn) > 0)
		return 1;
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return -1;
	rc = poll(&pfd, 1, timeout_ms);
	if (rc == 0)
		return 0;
	if (rc < 0 && errno == EINTR)
		return EXEC_WAIT_INTERRUPTED;
	if (rc < 0 || PQconsumeInput(db->conn) == 0 || PQstatus(db->conn) != CONNECTION_OK)
		return -1;
	drain_notifications(db->conn);
	return 1;	/* a notification, or another message: look again either way */
}

void exec_events_unlisten(struct db *db)
{
	struct infra_error err;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return;
	db_exec_command(db, &err, "UNLISTEN *", 0, NULL);
	if (db->conn != NULL)
		drain_notifications(db->conn);
}

/* --- ending an execution --- */

/* The final status of the execution in row `row`, and its message (NULL
 * for a completed one, else written into `message`); NULL when targets
 * are left. */
static const char *final_status(const PGresult *res, int row, char *message, size_t len,
				const char **msg)
{
	int total = column_int(res, row, EXEC_C_TOTAL), failed = column_int(res, row, EXEC_C_FAILED);
	int skipped = column_int(res, row, EXEC_C_SKIPPED);
	const char *status;

	*msg = NULL;
	if (column_int(res, row, EXEC_C_COMPLETED) + failed + skipped < total)
		return NULL;
	status = exec_final_status(column_bool(res, row, EXEC_C_CANCEL), failed, skipped);
	if (strcmp(status, "cancelled") == 0)
		snprintf(message, len, "cancelled: %d of %d targets were not run or stopped", skipped,
			 total);
	else if (strcmp(status, "failed") == 0)
		snprintf(message, len, "%d of %d targets failed, %d skipped", failed, total, skipped);
	if (strcmp(status, "completed") != 0)
		*msg = message;
	return status;
}

/* The `done` event of the ended execution in row `row` of `after`. */
static json_object *done_event(json_object *exec, const char *status)
{
	json_object *data = json_object_new_object(), *v;

	json_object_object_add(data, "status", json_object_new_string(status));
	json_object_object_get_ex(exec, "completed_at", &v);
	json_object_object_add(data, "completed_at", json_object_get(v));
	json_object_object_get_ex(exec, "error_message", &v);
	json_object_object_add(data, "error_message", json_object_get(v));
	json_object_object_get_ex(exec, "progress", &v);
	json_object_object_add(data, "progress", json_object_get(v));
	return data;
}

/* Release the ended executions' active targets and mark the originals of
 * the completed rollbacks among them rolled_back: rows [0, n) of `after`. */
static int release_ended(struct db *db, const PGresult *after, struct infra_error *err)
{
	struct db_array ids = DB_ARRAY_INIT, originals = DB_ARRAY_INIT;
	const char *params[1];
	int rc;

	for (int i = 0; i < PQntuples(after); i++) {
		db_array_push(&ids, PQgetvalue(after, i, EXEC_C_ID));
		if (strcmp(PQgetvalue(after, i, EXEC_C_STATUS), "completed") == 0 &&
		    !PQgetisnull(after, i, EXEC_C_ROLLBACK_OF))
			db_array_push(&originals, PQgetvalue(after, i, EXEC_C_ROLLBACK_OF));
	}
	params[0] = db_array_text(&ids);
	rc = db_exec_command(db, err, "DELETE FROM active_targets WHERE execution_id = ANY($1::uuid[])",
			     1, params);
	/* A rollback that completed has undone its original. */
	if (rc == 0 && originals.n > 0) {
		params[0] = db_array_text(&originals);
		rc = db_exec_command(db, err, "UPDATE executions SET status = 'rolled_back' "
				     "WHERE id = ANY($1::uuid[]) "
				     "AND status IN ('completed', 'failed', 'cancelled')", 1, params);
	}
	db_array_release(&ids);
	db_array_release(&originals);
	return rc;
}

int exec_finish_done(struct db *db, const PGresult *res, const int *rows, int n,
		     const char **finished, struct exec_event_batch *events, struct infra_error *err)
{
	struct db_array ids = DB_ARRAY_INIT, statuses = DB_ARRAY_INIT, messages = DB_ARRAY_INIT;
	struct strbuf sql = STRBUF_INIT;
	const char *params[3];
	PGresult *after;
	int rc = 0;

	for (int k = 0; k < n; k++) {
		char message[160];
		const char *msg, *status = final_status(res, rows[k], message, sizeof(message), &msg);

		finished[k] = status;	/* kept below if the row did end here */
		if (status == NULL)
			continue;
		db_array_push(&ids, PQgetvalue(res, rows[k], EXEC_C_ID));
		db_array_push(&statuses, status);
		db_array_push(&messages, msg);
	}
	if (ids.n == 0)
		goto out;
	params[0] = db_array_text(&ids);
	params[1] = db_array_text(&statuses);
	params[2] = db_array_text(&messages);
	strbuf_addf(&sql, "UPDATE executions e SET status = f.status, completed_at = clock_timestamp(), "
		    "current_target = NULL, error_message = f.message, event_seq = e.event_seq + 1 "
		    "FROM unnest($1::uuid[], $2::text[], $3::text[]) AS f (id, status, message) "
		    "WHERE e.id = f.id AND e.status IN ('pending', 'in_progress') RETURNING %s",
		    exec_columns_sql);
	after = db_exec(db, err, sql.buf, 3, params);
	if (after == NULL) {
		rc = -1;
		goto out;
	}
	if (PQntuples(after) > 0)
		rc = release_ended(db, after, err);
	for (int i = 0; rc == 0 && i < PQntuples(after); i++) {
		const char *id = PQgetvalue(after, i, EXEC_C_ID);
		const char *status = PQgetvalue(after, i, EXEC_C_STATUS);
		json_object *exec = exec_json_from_row(after, i, time_wall_s());

		exec_event_batch_add(events, id, strtoll(PQgetvalue(after, i, EXEC_C_EVENT_SEQ), NULL, 10),
				     "done", done_event(exec, status));
		/* The webhooks hear of a failure (lib/alert.h), in this
		 * transaction: once exactly. */
		if (strcmp(status, "failed") == 0)
			rc = alert_execution_failed(db, exec, err);
		json_object_put(exec);
	}
	/* Another transaction may have ended one first. */
	for (int k = 0; rc == 0 && k < n; k++) {
		bool ended = false;

		for (int i = 0; finished[k] != NULL && !ended && i < PQntuples(after); i++)
			ended = strcmp(PQgetvalue(after, i, EXEC_C_ID), PQgetvalue(res, rows[k], EXEC_C_ID)) == 0;
		if (!ended)
			finished[k] = NULL;
	}
	PQclear(after);
out:
	for (int k = 0; rc != 0 && k < n; k++)
		finished[k] = NULL;
	db_array_release(&ids);
	db_array_release(&statuses);
	db_array_release(&messages);
	strbuf_release(&sql);
	return rc;
}

int exec_finish_if_done(struct db *db, const PGresult *res, int row, const char **finished,
			struct infra_error *err)
{
	struct exec_event_batch events = { 0 };
	int rc = exec_finish_done(db, res, &row, 1, finished, &events, err);

	if (rc == 0)
		rc = exec_event_batch_insert(db, &events, err);
	exec_event_batch_release(&events);
	if (rc != 0)
		*finished = NULL;
	return rc;
}

/* --- reading --- */

/* The SELECT of execution $1 within scope $2 (NULL: any), optionally
 * locked. */
static void select_sql(struct strbuf *sql, bool lock)
{
	strbuf_addf(sql, "SELECT %s FROM executions e WHERE " EXEC_IN_SCOPE "%s", exec_columns_sql,
		    lock ? " FOR UPDATE" : "");
}

/* One execution row within `scope`, optionally locked. NULL with `err`. */
static PGresult *select_one(struct db *db, const char *id, const char *scope, bool lock,
			    struct infra_error *err)
{
	const char *params[2] = { id, scope };
	struct strbuf sql = STRBUF_INIT;
	PGresult *res;

	if (!uuid_is_valid(id)) {
		infra_fail(err, INFRA_ENOTFOUND, "no such execution");
		return NULL;
	}
	select_sql(&sql, lock);
	res = db_exec(db, err, sql.buf, 2, params);
	strbuf_release(&sql);
	if (res != NULL && PQntuples(res) == 0) {
		PQclear(res);
		infra_fail(err, INFRA_ENOTFOUND, "no such execution");
		return NULL;
	}
	return res;
}

int exec_get(struct db *db, const char *id, const char *scope, json_object **out,
	     struct infra_error *err)
{
	PGresult *res = select_one(db, id, scope, false, err);

	if (res == NULL)
		return -1;
	*out = exec_json_from_row(res, 0, time_wall_s());
	PQclear(res);
	return 0;
}

static bool status_valid(const char *s)
{
	static const char *const statuses[] = {
		"pending", "in_progress", "completed", "failed", "cancelled", "rolled_back",
	};

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(s, statuses[i]) == 0)
			return true;
	return false;
}

int exec_list(struct db *db, const struct exec_filter *f, json_object **out,
	      struct infra_error *err)
{
	char micros[PAGE_CURSOR_MICROS_MAX], cursor_id[UUID_STR_LEN], limit[16];
	char next[PAGE_CURSOR_MAX];
	const char *params[5];
	struct strbuf sql = STRBUF_INIT;
	json_object *items;
	PGresult *res;
	int n;
	bool have_cursor = f->cursor != NULL && f->cursor[0] != '\0';

	if (f->status != NULL && !status_valid(f->status))
		return infra_fail_field(err, "status", "must be one of pending, in_progress, completed, "
					"failed, cancelled, rolled_back");
	if (have_cursor && page_cursor_decode(f->cursor, micros, cursor_id) != 0)
		return infra_fail_field(err, "cursor", "is not a cursor this API returned");
	snprintf(limit, sizeof(limit), "%d", f->limit + 1);	/* one more: a next page? */
	params[0] = f->scope;
	params[1] = f->status;
	params[2] = have_cursor ? micros : NULL;
	params[3] = have_cursor ? cursor_id : NULL;
	params[4] = limit;
	strbuf_addf(&sql, "SELECT %s FROM executions e WHERE ($1::text IS NULL OR e.tenant = $1) "
		    "AND ($2::text IS NULL OR e.status = $2) AND ($3::bigint IS NULL OR "
		    "((extract(epoch FROM e.created_at) * 1000000)::bigint, e.id) < ($3::bigint, $4::uuid)) "
		    "ORDER BY (extract(epoch FROM e.created_at) * 1000000)::bigint DESC, e.id DESC "
		    "LIMIT $5::int", exec_columns_sql);
	res = db_exec(db, err, sql.buf, 5, params);
	strbuf_release(&sql);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	items = json_object_new_array_ext(n);
	for (int i = 0; i < n && i < f->limit; i++)
		json_object_array_add(items, exec_json_from_row(res, i, time_wall_s()));
	*out = json_object_new_object();
	json_object_object_add(*out, "items", items);
	if (n > f->limit) {
		page_cursor_encode(next, sizeof(next), PQgetvalue(res, f->limit - 1, EXEC_C_CREATED_US),
				   PQgetvalue(res, f->limit - 1, EXEC_C_ID));
		json_object_object_add(*out, "next_cursor", json_object_new_string(next));
	} else {
		json_object_object_add(*out, "next_cursor", NULL);
	}
	PQclear(res);
	return 0;
}

int exec_targets(struct db *db, const char *id, const char *scope, json_object **out,
		 struct infra_error *err)
{
	const char *params[1] = { id };
	struct strbuf sql = STRBUF_INIT;
	PGresult *exec = select_one(db, id, scope, false, err), *res;
	json_object *items;
	int n;

	if (exec == NULL)
		return -1;
	PQclear(exec);
	strbuf_addf(&sql, "SELECT %s FROM execution_targets t WHERE t.execution_id = $1::uuid "
		    "ORDER BY t.ordinal", exec_target_columns_sql);
	res = db_exec(db, err, sql.buf, 1, params);
	strbuf_release(&sql);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	items = json_object_new_array_ext(n);
	for (int i = 0; i < n; i++)
		json_object_array_add(items, exec_target_json_from_row(res, i, 0));
	PQclear(res);
	*out = json_object_new_object();
	json_object_object_add(*out, "items", items);
	return 0;
}

/* --- creating --- */

/* Claim the targets of the new execution $1 against executions still
 * running: each (database, schema) has one row in active_targets; true
 * when every target was taken. The runners waiting for work hear of it
 * when this commits. */
#define CLAIM_TARGETS_SQL                                                               \
	"WITH a AS (INSERT INTO active_targets (database_id, schema_name, execution_id) " \
	"SELECT database_id, schema_name, execution_id FROM execution_targets "           \
	"WHERE execution_id = $1::uuid ON CONFLICT DO NOTHING RETURNING 1) "              \
	"SELECT (SELECT count(*) FROM a) = (SELECT count(*) FROM execution_targets "      \
	"WHERE execution_id = $1::uuid), pg_notify('" EXEC_WORK_CHANNEL "', '')"

/* After a claim of execution `id`'s targets that did not take them all:
 * which execution holds them, in `err` and *conflict_id. Returns -1. */
static int claim_conflict(struct db *db, const char *id, char conflict_id[UUID_STR_LEN],
			  struct infra_error *err)
{
	const char *params[1] = { id };
	struct infra_error ignored;
	PGresult *res = db_exec(db, &ignored,
				"SELECT a.execution_id, count(*) OVER () FROM active_targets a "
				"JOIN execution_targets t ON t.database_id = a.database_id "
				"AND t.schema_name = a.schema_name WHERE t.execution_id = $1::uuid "
				"AND a.execution_id <> $1::uuid LIMIT 1", 1, params);

	if (res != NULL && PQntuples(res) == 1) {
		if (conflict_id != NULL)
			snprintf(conflict_id, UUID_STR_LEN, "%s", PQgetvalue(res, 0, 0));
		infra_fail(err, INFRA_ECONFLICT, "execution %s is still running on %s of these targets; "
			   "retry when it has finished", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	} else {
		infra_fail(err, INFRA_ECONFLICT,
			   "another execution is running on these targets; retry when it has finished");
	}
	PQclear(res);
	return -1;
}

/* Queue the read of execution ids[0] as it is (ids[1]: NULL, no scope);
 * returns its item. */
static int queue_row(struct db_pipeline *p, const char *const ids[2])
{
	struct strbuf sql = STRBUF_INIT;
	int row;

	select_sql(&sql, false);
	row = db_pipeline_add(p, sql.buf, 2, ids);
	strbuf_release(&sql);
	return row;
}

/* Create execution ids[0] (ids[1]: NULL) by pipeline `p`: its BEGIN (or a
 * transaction already open), then item `insert` making its rows, sent
 * with the claim of its targets and the read of its row as created — one
 * round trip; then its first event (a `progress` with the execution as
 * created, which also goes to *out), the caller's `last` statements and
 * COMMIT — another. Returns 0; 1 when `insert` made no rows; -1 with `err`
 * (a conflict names the execution holding a target in *conflict_id).
 * Anything but 0 rolls everything back. */
static int create_by(struct db *db, struct db_pipeline *p, int insert, const char *const ids[2],
		     const struct db_pipeline *last, json_object **out,
		     char conflict_id[UUID_STR_LEN], struct infra_error *err)
{
	struct exec_event_batch first = { 0 };
	struct db_pipeline end = DB_PIPELINE_INIT;
	int claim = db_pipeline_add(p, CLAIM_TARGETS_SQL, 1, ids), row = queue_row(p, ids), rc;

	if (db_pipeline_run(db, p, err) != 0)
		rc = -1;
	else if (strtol(PQcmdTuples(db_pipeline_result(p, insert)), NULL, 10) == 0)
		rc = 1;
	else if (PQgetvalue(db_pipeline_result(p, claim), 0, 0)[0] != 't')
		rc = claim_conflict(db, ids[0], conflict_id, err);
	else {
		*out = exec_json_from_row(db_pipeline_result(p, row), 0, time_wall_s());
		exec_event_batch_add(&first, ids[0], 1, "progress", exec_progress_event(*out));
		event_batch_queue(&first, &end);
		db_pipeline_append(&end, last);
		db_pipeline_add(&end, "COMMIT", 0, NULL);
		rc = db_pipeline_run(db, &end, err);
		db_pipeline_release(&end);
		exec_event_batch_release(&first);
	}
	if (rc == 0)
		return 0;
	db_rollback(db);
	json_object_put(*out);
	*out = NULL;
	return rc;
}

/* What a key named for another request answers. */
#define KEY_REUSED "this Idempotency-Key was used for a different request; use a new key"

int exec_dry_run_key_check(struct db *db, const char *executed_by, const char *key,
			   struct infra_error *err)
{
	const char *params[2] = { executed_by, key };
	PGresult *res = db_exec(db, err, "SELECT 1 FROM executions WHERE executed_by = $1 "
				"AND idempotency_key = $2", 2, params);
	int used;

	if (res == NULL)
		return -1;
	used = PQntuples(res) > 0;
	PQclear(res);
	return used ? infra_fail(err, INFRA_ECONFLICT, KEY_REUSED) : 0;
}

/* An earlier execution by the same principal under the same key. Returns
 * 1 with it in *out (or an ECONFLICT when the request differs), 0 when
 * there is none, -1 on error. */
static int idempotent_replay(struct db *db, const struct exec_new *n, const char *hash,
			     json_object **out, struct infra_error *err)
{
	const char *params[2] = { n->executed_by, n->idempotency_key };
	struct strbuf sql = STRBUF_INIT;
	PGresult *res;
	int found;

	strbuf_addf(&sql, "SELECT %s, e.request_hash FROM executions e WHERE e.executed_by = $1 "
		    "AND e.idempotency_key = $2", exec_columns_sql);
	res = db_exec(db, err, sql.buf, 2, params);
	strbuf_release(&sql);
	if (res == NULL)
		return -1;
	found = PQntuples(res);
	if (found && strcmp(PQgetvalue(res, 0, EXEC_NCOLUMNS), hash) != 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ECONFLICT, KEY_REUSED);
	}
	if (found)
		*out = exec_json_from_row(res, 0, time_wall_s());
	PQclear(res);
	return found ? 1 : 0;
}

int exec_create(struct db *db, const struct exec_new *n, const char *scope, json_object **out,
		bool *replayed, char conflict_id[UUID_STR_LEN], struct infra_error *err)
{
	char id[UUID_STR_LEN], hash[EXEC_HASH_LEN];
	const char *ids[2] = { id, NULL };
	struct db_pipeline p = DB_PIPELINE_INIT;
	struct exec_query q;
	json_object *filters;
	int param, found, insert, rc;

	*out = NULL;
	*replayed = false;
	exec_request_hash(n->req, n->kind, hash);
	if (n->idempotency_key != NULL) {
		found = idempotent_replay(db, n, hash, out, err);
		if (found != 0) {
			*replayed = found > 0;
			return found > 0 ? 0 : -1;
		}
	}
	if (n->id != NULL)
		snprintf(id, sizeof(id), "%s", n->id);
	else
		uuid_generate(id);
	filters = exec_request_filters_json(n->req);
	exec_query_init(&q);
	/* Resolve, record the execution and its targets in one statement:
	 * the targets are exactly what the scope meant at that instant. */
	strbuf_addstr(&q.sql, "WITH r AS (SELECT row_number() OVER () AS ordinal, x.* FROM (");
	exec_resolve_sql(&q, n->req, scope);
	param = exec_query_param(&q, id);
	exec_query_param(&q, n->kind);
	exec_query_param(&q, n->source);
	exec_query_param(&q, exec_scope_name(n->req->scope));
	exec_query_param(&q, json_object_to_json_string_ext(filters, JSON_C_TO_STRING_PLAIN));
	exec_query_param(&q, n->req->target_version);
	exec_query_param(&q, n->executed_by);
	exec_query_param(&q, n->tenant);
	exec_query_param(&q, n->idempotency_key);
	exec_query_param(&q, hash);
	strbuf_addf(&q.sql, ") x), e AS (INSERT INTO executions (id, kind, source, scope, filters, "
		    "target_version, total_targets, executed_by, tenant, idempotency_key, request_hash, "
		    "event_seq) SELECT $%d::uuid, $%d, $%d, $%d, $%d::jsonb, $%d, count(*), $%d, $%d, "
		    "$%d, $%d, 1 FROM r HAVING count(*) > 0 RETURNING id) "
		    "INSERT INTO execution_targets (execution_id, ordinal, database_id, database_name, "
		    "schema_name, database_type, turn) SELECT e.id, r.ordinal, r.id, r.name, "
		    "r.schema_name, r.database_type, row_number() OVER (PARTITION BY r.host, r.port, "
		    "r.database_name ORDER BY r.ordinal) FROM e, r",
		    param, param + 1, param + 2, param + 3, param + 4, param + 5, param + 6, param + 7,
		    param + 8, param + 9);
	db_pipeline_add(&p, "BEGIN", 0, NULL);
	db_pipeline_append(&p, n->first);
	insert = db_pipeline_add(&p, q.sql.buf, q.nparams, q.params);
	exec_query_release(&q);
	json_object_put(filters);
	rc = create_by(db, &p, insert, ids, n->last, out, conflict_id, err);
	db_pipeline_release(&p);
	if (rc > 0)
		return infra_fail(err, INFRA_EMIGRATION, "no targets: scope %s matches no active database",
				  exec_scope_name(n->req->scope));
	/* A concurrent request with the same key won the race. */
	if (rc < 0 && err->kind == INFRA_ECONFLICT && n->idempotency_key != NULL &&
	    (found = idempotent_replay(db, n, hash, out, err)) != 0) {
		*replayed = found > 0;
		return found > 0 ? 0 : -1;
	}
	return rc;
}

int exec_target_busy(struct db *db, const char *database_id, const char *schema,
		     char by[UUID_STR_LEN], struct infra_error *err)
{
	const char *params[2] = { database_id, schema };
	PGresult *res = db_exec(db, err, "SELECT execution_id FROM active_targets "
				"WHERE database_id = $1::uuid AND schema_name = $2", 2, params);
	int busy;

	if (res == NULL)
		return -1;
	busy = PQntuples(res) > 0;
	if (busy)
		snprintf(by, UUID_STR_LEN, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return busy;
}

/* --- cancelling --- */

int exec_cancel(struct db *db, const char *id, const char *scope, json_object **out,
		struct infra_error *err)
{
	const char *params[1] = { id };
	const char *type = "progress", *finished = NULL;
	struct strbuf sql = STRBUF_INIT;
	json_object *exec, *data;
	PGresult *res;
	const char *status;
	int rc;

	if (db_begin(db, err) != 0)
		return -1;
	res = select_one(db, id, scope, true, err);
	if (res == NULL) {
		db_rollback(db);
		return -1;
	}
	status = PQgetvalue(res, 0, EXEC_C_STATUS);
	if (strcmp(status, "pending") != 0 && strcmp(status, "in_progress") != 0) {
		infra_fail(err, INFRA_ECONFLICT, "execution has already ended: %s", status);
		PQclear(res);
		db_rollback(db);
		return -1;
	}
	PQclear(res);
	/* Targets nobody runs — pending, or left by a runner whose lease
	 * expired — are cancelled here; the runners stop the others. */
	strbuf_addf(&sql, "WITH c AS (UPDATE execution_targets SET status = 'cancelled', "
		    "completed_at = clock_timestamp(), error = 'cancelled before it started', "
		    "lease_owner = NULL, lease_expires_at = NULL WHERE execution_id = $1::uuid "
		    "AND (status = 'pending' OR (status = 'in_progress' "
		    "AND lease_expires_at < clock_timestamp())) RETURNING 1) "
		    "UPDATE executions e SET cancel_requested = true, "
		    "skipped_targets = e.skipped_targets + (SELECT count(*) FROM c), "
		    "event_seq = e.event_seq + 1 WHERE e.id = $1::uuid RETURNING %s", exec_columns_sql);
	res = db_exec(db, err, sql.buf, 1, params);
	strbuf_release(&sql);
	if (res == NULL) {
		db_rollback(db);
		return -1;
	}
	exec = exec_json_from_row(res, 0, time_wall_s());
	data = exec_progress_event(exec);
	json_object_put(exec);
	rc = exec_events_insert(db, id, strtoll(PQgetvalue(res, 0, EXEC_C_EVENT_SEQ), NULL, 10), 1,
				&type, &data, err);
	json_object_put(data);
	/* The runners running its targets hear of it at commit. */
	if (rc == 0)
		rc = db_exec_command(db, err, "SELECT pg_notify('" EXEC_CANCEL_CHANNEL "', $1)", 1, params);
	if (rc == 0)
		rc = exec_finish_if_done(db, res, 0, &finished, err);
	PQclear(res);
	if (rc != 0 || exec_get(db, id, NULL, out, err) != 0 || db_commit(db, err) != 0) {
		db_rollback(db);
		return -1;
	}
	if (finished != NULL)
		exec_metrics_execution(finished);
	return 0;
}

/* --- rollback --- */

void exec_undo_plan_init(struct exec_undo_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void exec_undo_plan_release(struct exec_undo_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct exec_undo_target *t = &p->targets[i];

		free(t->label);
		free(t->database_type);
		for (size_t v = 0; v < t->nversions; v++)
			free(t->versions[v]);
		free(t->versions);
	}
	free(p->targets);
	exec_undo_plan_init(p);
}

static int version_desc(const void *a, const void *b)
{
	return mig_version_cmp(*(char *const *)b, *(char *const *)a);
}

/* Why execution row `row` of `res` (locked or not) cannot be rolled back,
 * checked in the database; 0 when it can. */
static int rollback_allowed(struct db *db, const PGresult *res, struct infra_error *err)
{
	const char *id = PQgetvalue(res, 0, EXEC_C_ID), *status = PQgetvalue(res, 0, EXEC_C_STATUS);
	const char *params[1] = { id };
	PGresult *later;

	if (strcmp(PQgetvalue(res, 0, EXEC_C_KIND), "migrate") != 0)
		return infra_fail(err, INFRA_ECONFLICT, "execution %s is itself a rollback", id);
	if (strcmp(status, "rolled_back") == 0)
		return infra_fail(err, INFRA_ECONFLICT, "execution %s was already rolled back", id);
	if (strcmp(status, "pending") == 0 || strcmp(status, "in_progress") == 0)
		return infra_fail(err, INFRA_ECONFLICT, "execution %s is still running; cancel it or "
				  "wait for it to end", id);
	/* A rollback of it running (or done), or a later execution that
	 * changed one of its targets and was not rolled back itself (its
	 * rollback, kind undo, changed nothing in the end): undoing now would
	 * undo the wrong thing. */
	later = db_exec(db, err,
			"SELECT r.id, 'rollback' FROM executions r WHERE r.rollback_of = $1::uuid "
			"AND r.status IN ('pending', 'in_progress', 'completed') "
			"UNION ALL (SELECT l.id, ot.database_name || '/' || ot.schema_name "
			"FROM execution_targets ot JOIN execution_targets lt "
			"ON lt.database_id = ot.database_id AND lt.schema_name = ot.schema_name "
			"JOIN executions l ON l.id = lt.execution_id JOIN executions o ON o.id = ot.execution_id "
			"WHERE ot.execution_id = $1::uuid AND l.id <> o.id AND l.created_at > o.created_at "
			"AND l.kind = 'migrate' AND l.status <> 'rolled_back' "
			"AND jsonb_array_length(ot.applied) > 0 "
			"AND jsonb_array_length(lt.applied) > 0 LIMIT 1) LIMIT 1", 1, params);
	if (later == NULL)
		return -1;
	if (PQntuples(later) > 0) {
		if (strcmp(PQgetvalue(later, 0, 1), "rollback") == 0)
			infra_fail(err, INFRA_ECONFLICT, "execution %s is already being (or was) rolled "
				   "back by %s", id, PQgetvalue(later, 0, 0));
		else
			infra_fail(err, INFRA_ECONFLICT, "execution %s changed target %s since; roll it "
				   "back first", PQgetvalue(later, 0, 0), PQgetvalue(later, 0, 1));
		PQclear(later);
		return -1;
	}
	PQclear(later);
	return 0;
}

int exec_undo_plan_load(struct db *db, const char *id, const char *scope,
			struct exec_undo_plan *p, struct infra_error *err)
{
	const char *params[1] = { id };
	PGresult *res = select_one(db, id, scope, false, err);
	int n;

	exec_undo_plan_init(p);
	if (res == NULL)
		return -1;
	if (rollback_allowed(db, res, err) != 0) {
		PQclear(res);
		return -1;
	}
	snprintf(p->original_id, sizeof(p->original_id), "%s", PQgetvalue(res, 0, EXEC_C_ID));
	PQclear(res);
	res = db_exec(db, err, "SELECT database_name || '/' || schema_name, database_type, applied "
		      "FROM execution_targets WHERE execution_id = $1::uuid "
		      "AND jsonb_array_length(applied) > 0 ORDER BY ordinal", 1, params);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_EMIGRATION, "execution %s applied nothing: nothing to roll back",
				  id);
	}
	p->targets = calloc((size_t)n, sizeof(*p->targets));
	if (p->targets == NULL)
		abort();
	for (int i = 0; i < n; i++) {
		struct exec_undo_target *t = &p->targets[p->n++];
		json_object *applied = column_json(res, i, 2, "[]");
		size_t len = json_object_array_length(applied);

		t->label = xstrdup(PQgetvalue(res, i, 0));
		t->database_type = xstrdup(PQgetvalue(res, i, 1));
		t->versions = calloc(len ? len : 1, sizeof(*t->versions));
		if (t->versions == NULL)
			abort();
		for (size_t k = 0; k < len; k++) {
			json_object *step = json_object_array_get_idx(applied, k), *v;

			if (json_object_object_get_ex(step, "version", &v) &&
			    json_object_is_type(v, json_type_string))
				t->versions[t->nversions++] = xstrdup(json_object_get_string(v));
		}
		qsort(t->versions, t->nversions, sizeof(*t->versions), version_desc);
		json_object_put(applied);
	}
	PQclear(res);
	return 0;
}

int exec_rollback_create(struct db *db, const char *id, const struct exec_new *n,
			 const char *scope, json_object **out,
			 char conflict_id[UUID_STR_LEN], struct infra_error *err)
{
	char new_id[UUID_STR_LEN];
	const char *params[5], *ids[2] = { new_id, NULL };
	struct db_pipeline p = DB_PIPELINE_INIT;
	PGresult *res;
	int insert, rc;

	*out = NULL;
	if (db_begin(db, err) != 0)
		return -1;
	res = select_one(db, id, scope, true, err);
	if (res == NULL || rollback_allowed(db, res, err) != 0) {
		PQclear(res);
		db_rollback(db);
		return -1;
	}
	PQclear(res);
	if (n->id != NULL)
		snprintf(new_id, sizeof(new_id), "%s", n->id);
	else
		uuid_generate(new_id);
	params[0] = id;
	params[1] = new_id;
	params[2] = n->source;
	params[3] = n->executed_by;
	params[4] = n->tenant;
	db_pipeline_append(&p, n->first);
	/* Each target undoes down to the version it had before the original
	 * ran ('0' for a schema that had none: everything). */
	insert = db_pipeline_add(&p,
		      "WITH u AS (SELECT row_number() OVER (ORDER BY t.ordinal) AS n, t.database_id, "
		      "t.database_name, t.schema_name, t.database_type, t.version_before, t.turn "
		      "FROM execution_targets t WHERE t.execution_id = $1::uuid "
		      "AND jsonb_array_length(t.applied) > 0), "
		      "e AS (INSERT INTO executions (id, kind, source, scope, filters, total_targets, "
		      "executed_by, tenant, rollback_of, event_seq) SELECT $2::uuid, 'undo', $3, o.scope, "
		      "o.filters, (SELECT count(*) FROM u), $4, coalesce($5, o.tenant), o.id, 1 "
		      "FROM executions o WHERE o.id = $1::uuid AND EXISTS (SELECT 1 FROM u) RETURNING id) "
		      "INSERT INTO execution_targets (execution_id, ordinal, database_id, database_name, "
		      "schema_name, database_type, target_version, turn) SELECT e.id, u.n, u.database_id, "
		      "u.database_name, u.schema_name, u.database_type, coalesce(u.version_before, '0'), "
		      "u.turn FROM e, u", 5, params);
	rc = create_by(db, &p, insert, ids, n->last, out, conflict_id, err);
	db_pipeline_release(&p);
	return rc <= 0 ? rc : infra_fail(err, INFRA_EMIGRATION, "execution %s applied nothing: "
					 "nothing to roll back", id);
}
