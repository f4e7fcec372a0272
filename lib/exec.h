/* exec.h — migration executions: the request (scope, filters, target
 * version) validated through a field table, its resolution against the
 * registry into targets (database + schema), and the executions, their
 * targets and their numbered events in the control database.
 *
 * An execution is created by a request worker (exec_create) and run by
 * job runners (exec_run.h) that claim its targets under leases; its
 * progress and events live in the control database, so they survive
 * restarts and any worker of any host can stream them.
 *
 * Tenant scope: functions taking `scope` (the tenant slug of a
 * tenant-bound caller, NULL for a platform-scoped one) see and touch only
 * executions created within that tenant and targets of its databases;
 * anything else is "not found". */
#ifndef INFRA_EXEC_H
#define INFRA_EXEC_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "error.h"
#include "mig_version.h"
#include "strbuf.h"
#include "uuid.h"

/* A timestamp column as the API writes it (NULL stays NULL). */
#define EXEC_SQL_ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* --- the request (exec_input.c; pure) --- */

enum exec_scope {
	EXEC_SCOPE_ALL,		/* every active database */
	EXEC_SCOPE_ADMIN,	/* databases of type admin */
	EXEC_SCOPE_REGIONAL,	/* needs region */
	EXEC_SCOPE_TENANT,	/* needs tenant (a slug) */
	EXEC_SCOPE_SINGLE,	/* needs database_id */
};

/* "all", "admin", …; exec_scope_parse returns 0 or -1. */
const char *exec_scope_name(enum exec_scope s);
int exec_scope_parse(const char *name, enum exec_scope *out);

/* Which fields a request may carry. */
enum exec_form {
	EXEC_FORM_EXECUTE,	/* POST /migrations/execute: every field */
	EXEC_FORM_FILTERS,	/* plan, validate: no dry_run */
};

/* A validated request. Strings are borrowed from the JSON it was parsed
 * from (NULL when absent) and live as long as it does, except
 * target_version, which is the normalised copy below (NULL: the newest). */
struct exec_request {
	enum exec_scope scope;
	const char *region;
	const char *tenant;
	const char *database_id;
	const char *database_type;
	const char *target_version;
	bool dry_run;
	char version_buf[MIG_VERSION_MAX + 1];
};

/* Validate `body` (a JSON object: the execute body, or the query
 * parameters of GET /migrations/plan as strings) through the table of
 * field → validator: scope required; region, tenant, database_id,
 * database_type, target_version ("latest" or a version) and, for
 * EXEC_FORM_EXECUTE, dry_run (a boolean, or "true"/"false") optional;
 * regional needs region, tenant needs tenant, single needs database_id.
 * Returns 0 with `out` filled, or -1 with *problems a new JSON object
 * naming every bad, missing or unknown field with its reason. */
int exec_request_parse(json_object *body, enum exec_form form, struct exec_request *out,
		       json_object **problems);

/* The body of repair and baseline (and the query of history):
 * {database_id, schema?, version?}. Strings borrowed as above; version is
 * normalised into version_buf. */
struct exec_single {
	const char *database_id;
	const char *schema;		/* NULL: the database's registered schema */
	const char *version;		/* baseline only */
	char version_buf[MIG_VERSION_MAX + 1];
};

/* Validate `body` through its field table: database_id required, schema
 * optional (an identifier), version required when `with_version` (and
 * refused otherwise). Returns 0, or -1 with *problems as
 * exec_request_parse. */
int exec_single_parse(json_object *body, bool with_version, struct exec_single *out,
		      json_object **problems);

/* The request's filters as the API shows them: {region, tenant,
 * database_id, database_type}, absent ones null. A new object. */
json_object *exec_request_filters_json(const struct exec_request *req);

/* A digest (hex SHA-256, 64 characters and NUL) of everything the request
 * asks for, to tell a retry from a different request under the same
 * Idempotency-Key. */
#define EXEC_HASH_LEN 65
void exec_request_hash(const struct exec_request *req, const char *kind,
		       char out[EXEC_HASH_LEN]);

/* NULL when `key` is an acceptable Idempotency-Key (1–200 printable ASCII
 * characters), or why not. */
#define EXEC_IDEMPOTENCY_KEY_MAX 200
const char *exec_check_idempotency_key(const char *key);

/* A dry run under Idempotency-Key `key`: 0 when `executed_by` gave no
 * execution that key, else -1 with an ECONFLICT (dry_run is part of the
 * request's identity, so it is never that execution's request) or the
 * control database's error. A dry run records nothing, its key included. */
int exec_dry_run_key_check(struct db *db, const char *executed_by, const char *key,
			   struct infra_error *err);

/* Last-Event-ID: the event number a client has seen. Returns 0 with *seq
 * (0 for an empty or absent header), or -1 when `s` is not a
 * non-negative integer. */
int exec_parse_last_event_id(const char *s, int64_t *seq);

/* --- progress (exec_input.c; pure) --- */

struct exec_progress {
	int total, completed, failed, skipped;
	double percent;			/* targets finished (any outcome) / total, 0..100 */
	int64_t estimated_completion;	/* seconds since the epoch; 0: unknown */
};

/* Progress from the counters, when the execution started (seconds since
 * the epoch, 0 when it has not) and `now`: the estimate extrapolates the
 * average time per finished target so far over the targets left; it is
 * unknown before the first target finishes and after the last. */
void exec_progress_compute(struct exec_progress *p, int total, int completed, int failed,
			   int skipped, int64_t started_at, int64_t now);

/* The final status of an execution whose targets have all finished:
 * "cancelled" when a cancel was asked, "failed" when a target failed or was
 * skipped, "completed" otherwise. Static strings. */
const char *exec_final_status(bool cancel_requested, int failed, int skipped);

/* --- targets of a request (exec_scope.c) --- */

/* The columns every resolution and claim returns, in this order, so one
 * reader (exec_run.h) turns any of them into engine targets. */
#define EXEC_DB_COLUMNS \
	"d.id, d.name, d.host, d.port, d.database_name, d.username, d.sslmode, " \
	"d.password_kid, d.password_enc"
#define EXEC_DB_NCOLUMNS 9

/* A query text with its parameters. */
#define EXEC_QUERY_MAX_PARAMS 16
struct exec_query {
	struct strbuf sql;
	const char *params[EXEC_QUERY_MAX_PARAMS];
	int nparams;
};

void exec_query_init(struct exec_query *q);
void exec_query_release(struct exec_query *q);

/* Append parameter `value` to `q` and return its number ($n). */
int exec_query_param(struct exec_query *q, const char *value);

/* Append to `q` the SELECT of the targets `req` resolves to within
 * `scope`, one row per target in a stable order, with the columns
 * EXEC_DB_COLUMNS then schema_name and database_type:
 *   all      every active database, with its registered schema
 *   admin    … of database_type admin
 *   regional … of `region`
 *   tenant   … whose tenant is `tenant`, and the schema of the tenant
 *            `tenant` (lib/tenant.h, when active) on its database, of
 *            database_type "tenant" (its set), in a shared database too
 *   single   the database `database_id`
 * narrowed by database_type when given. Values go in as parameters. */
void exec_resolve_sql(struct exec_query *q, const struct exec_request *req, const char *scope);

/* Column numbers in a resolution's rows. */
#define EXEC_COL_SCHEMA EXEC_DB_NCOLUMNS
#define EXEC_COL_TYPE (EXEC_DB_NCOLUMNS + 1)

/* Run the resolution. Returns the rows (the caller PQclear()s), or NULL
 * with `err`: INFRA_EMIGRATION "no targets" when nothing matches. */
PGresult *exec_resolve(struct db *db, const struct exec_request *req, const char *scope,
		       struct infra_error *err);

/* --- executions in the control database (exec_store.c) --- */

/* What to create. */
struct exec_new {
	const char *id;			/* the new execution's id; NULL: a random one */
	const struct exec_request *req;
	const char *kind;		/* "migrate" */
	const char *source;		/* "api", "event", "schedule" */
	const char *executed_by;
	const char *tenant;		/* the creator's tenant, NULL: platform */
	const char *idempotency_key;	/* NULL: none */
	/* The caller's statements in the execution's transaction and its
	 * round trips: `first` before its rows are made (they see what it
	 * changed), `last` before it commits. Each must succeed for the
	 * execution to be created. NULL: none. */
	const struct db_pipeline *first, *last;
};

/* Create an execution of `n->req` within `scope`: resolve its targets,
 * record the execution, one row per target and its first progress event,
 * and claim the targets against running executions, in one transaction.
 * Returns 0 with the execution (exec_json) in *out and *replayed false;
 * or 0 with the existing execution and *replayed true when the same
 * principal already sent this Idempotency-Key with the same request; or
 * -1: INFRA_EMIGRATION "no targets", INFRA_ECONFLICT when the key was used
 * for a different request or when a target is being migrated by an
 * execution still running (err says which; *conflict_id, when not NULL,
 * receives its id). */
int exec_create(struct db *db, const struct exec_new *n, const char *scope, json_object **out,
		bool *replayed, char conflict_id[UUID_STR_LEN], struct infra_error *err);

/* The execution `id` as the API shows it (a new object), or -1:
 * INFRA_ENOTFOUND. */
int exec_get(struct db *db, const char *id, const char *scope, json_object **out,
	     struct infra_error *err);

struct exec_filter {
	const char *scope;
	const char *status;	/* NULL: any */
	int limit;		/* 1..100 */
	const char *cursor;	/* a previous page's next_cursor, or NULL */
};

/* One page of executions, newest first: {items[], next_cursor}. Returns 0,
 * or -1: INFRA_EINVAL (field "status" or "cursor"). */
int exec_list(struct db *db, const struct exec_filter *f, json_object **out,
	      struct infra_error *err);

/* The targets of execution `id`: {items:[{database_id, database, schema,
 * status, attempts, applied[], version_before, current_version, error,
 * started_at, completed_at}]}. 0 or -1 (INFRA_ENOTFOUND). */
int exec_targets(struct db *db, const char *id, const char *scope, json_object **out,
		 struct infra_error *err);

/* Whether an execution still running holds target (database_id,
 * schema). Returns 1 with its id in `by`, 0 when none does, -1 on error. */
int exec_target_busy(struct db *db, const char *database_id, const char *schema,
		     char by[UUID_STR_LEN], struct infra_error *err);

/* Ask execution `id` to stop: targets nobody runs (pending, or left by a
 * runner whose lease expired) become cancelled at once; runners stop the
 * running ones after their current migration; the execution ends
 * "cancelled" (at once when nothing was running). Returns 0 with the
 * execution in *out, or -1: INFRA_ENOTFOUND, INFRA_ECONFLICT when it has
 * already finished. */
int exec_cancel(struct db *db, const char *id, const char *scope, json_object **out,
		struct infra_error *err);

/* The versions an execution applied to one of its targets and must undo,
 * newest first, for the rollback's check of undo scripts (exec_run.h). */
struct exec_undo_target {
	char *label;			/* "database-name/schema" */
	char *database_type;
	char **versions;		/* newest first */
	size_t nversions;
};

struct exec_undo_plan {
	char original_id[UUID_STR_LEN];
	struct exec_undo_target *targets;
	size_t n;
};

void exec_undo_plan_init(struct exec_undo_plan *p);
void exec_undo_plan_release(struct exec_undo_plan *p);

/* Read what execution `id` applied, target by target, for a rollback.
 * Returns 0, or -1: INFRA_ENOTFOUND; INFRA_ECONFLICT when it is still
 * running, is itself a rollback, was already rolled back (or is being),
 * or when a later execution changed one of its targets since;
 * INFRA_EMIGRATION when it applied nothing. */
int exec_undo_plan_load(struct db *db, const char *id, const char *scope,
			struct exec_undo_plan *p, struct infra_error *err);

/* Create the rollback of execution `id` (whose undo plan was checked): a
 * new execution of kind "undo" with rollback_of = id, whose targets are the
 * original's targets that applied something, each undoing down to its
 * version before. When it completes the original becomes rolled_back.
 * Returns 0 with the new execution in *out, or -1 as exec_create (and as
 * exec_undo_plan_load, should the original change meanwhile). */
int exec_rollback_create(struct db *db, const char *id, const struct exec_new *n,
			 const char *scope, json_object **out,
			 char conflict_id[UUID_STR_LEN], struct infra_error *err);

/* --- events (exec_store.c) --- */

/* Events of execution `id` with seq > after, oldest first, at most
 * `limit`: columns seq, type, data (JSON text). NULL with `err` on error. */
PGresult *exec_events_after(struct db *db, const char *id, int64_t after, int limit,
			    struct infra_error *err);

/* The notification channel of execution `id`'s events ("infra_exec:<id>"). */
#define EXEC_CHANNEL_MAX 64
void exec_channel(char out[EXEC_CHANNEL_MAX], const char *id);

/* The channel a cancel is notified on (the payload is the execution's
 * id), so a runner stops within one migration, not one poll period. */
#define EXEC_CANCEL_CHANNEL "infra_exec_cancel"

/* The channel notified when a new execution's targets are ready to be
 * claimed: an idle runner wakes at once rather than at its next look. */
#define EXEC_WORK_CHANNEL "infra_exec_work"

/* LISTEN on `db` for execution `id`'s events (again after a reconnect).
 * 0 or -1. */
int exec_events_listen(struct db *db, const char *id, struct infra_error *err);

/* Wait up to `timeout_ms` for a notification on `db`. Returns 1 when one
 * (or more) arrived, 0 on timeout, -1 when the connection broke (the next
 * db_exec reconnects; LISTEN again then), EXEC_WAIT_INTERRUPTED when a
 * signal interrupted the wait. */
#define EXEC_WAIT_INTERRUPTED 2
int exec_events_wait(struct db *db, int timeout_ms);

/* UNLISTEN everything and drop the notifications received. */
void exec_events_unlisten(struct db *db);

/* --- writing progress, inside the caller's transaction (exec_store.c;
 * for the runner and the handlers) --- */

/* The SELECT list of a target over execution_targets `t`, and its JSON:
 * {database_id, database, schema, database_type, status, attempts,
 * applied[], version_before, current_version, error, started_at,
 * completed_at}. exec_target_json_from_row reads the columns of row `row`
 * of `res` from column `col0` on; a new object. */
extern const char exec_target_columns_sql[];
#define EXEC_TARGET_NCOLUMNS 12
json_object *exec_target_json_from_row(const PGresult *res, int row, int col0);

/* Events of one or more executions, gathered in a transaction and
 * inserted by one statement. */
struct exec_event {
	char id[UUID_STR_LEN];		/* the execution's */
	int64_t seq;
	const char *type;		/* static */
	json_object *data;		/* owned */
};

struct exec_event_batch {
	struct exec_event *items;
	size_t n, alloc;
};

/* Add event `seq` of execution `id`; the batch takes `data`. */
void exec_event_batch_add(struct exec_event_batch *b, const char *id, int64_t seq,
			  const char *type, json_object *data);

/* Insert the batch's events (nothing when it is empty) and notify each
 * execution's channel on commit; the batch is emptied. 0 or -1 (the
 * events are kept). */
int exec_event_batch_insert(struct db *db, struct exec_event_batch *b, struct infra_error *err);

/* As exec_event_batch_insert, then COMMIT the open transaction — in one
 * round trip. */
int exec_event_batch_commit(struct db *db, struct exec_event_batch *b, struct infra_error *err);

/* Free the events and the batch's memory. */
void exec_event_batch_release(struct exec_event_batch *b);

/* Insert `n` (≥ 1) events of execution `id` numbered first_seq,
 * first_seq + 1, … (taken from executions.event_seq in the same
 * transaction) in one statement, and notify its channel on commit.
 * `data[i]` is borrowed. 0 or -1. */
int exec_events_insert(struct db *db, const char *id, int64_t first_seq, int n,
		       const char *const *types, json_object *const *data,
		       struct infra_error *err);

/* The `progress` event of an execution (exec_json): its progress object
 * with its status. A new object. */
json_object *exec_progress_event(json_object *execution);

/* After a change to the counters of the execution in row `row` of `res`
 * (selected with exec_columns_sql): when every target has finished, end it
 * — final status, completed_at, its active_targets released, the original
 * of a completed rollback marked rolled_back, the `done` event, and for a
 * failed one its execution.failed alert (lib/alert.h). Sets *finished to
 * the final status (static), or NULL when targets are left or it had
 * ended already. 0 or -1. */
int exec_finish_if_done(struct db *db, const PGresult *res, int row, const char **finished,
			struct infra_error *err);

/* As exec_finish_if_done for the executions in rows rows[0..n) of `res`
 * at once (a few statements whatever their number), the `done` events
 * added to `events` for the caller to insert in the same transaction;
 * finished[k] for rows[k]. The caller holds the executions' rows locked
 * (in id order, so that two runners never deadlock). 0 or -1. */
int exec_finish_done(struct db *db, const PGresult *res, const int *rows, int n,
		     const char **finished, struct exec_event_batch *events, struct infra_error *err);

/* --- rendering (exec_store.c) --- */

/* The SELECT list exec_json_from_row reads, over executions `e`, and the
 * number of each of its columns. */
extern const char exec_columns_sql[];

enum exec_column {
	EXEC_C_ID, EXEC_C_KIND, EXEC_C_SOURCE, EXEC_C_SCOPE, EXEC_C_FILTERS,
	EXEC_C_TARGET_VERSION, EXEC_C_DRY_RUN, EXEC_C_STATUS, EXEC_C_TOTAL, EXEC_C_COMPLETED,
	EXEC_C_FAILED, EXEC_C_SKIPPED, EXEC_C_CURRENT, EXEC_C_EXECUTED_BY, EXEC_C_CREATED_AT,
	EXEC_C_STARTED_AT, EXEC_C_COMPLETED_AT, EXEC_C_ERROR, EXEC_C_ROLLBACK_OF, EXEC_C_BATCH_ID,
	EXEC_C_CANCEL, EXEC_C_STARTED_EPOCH, EXEC_C_EVENT_SEQ, EXEC_C_CREATED_US, EXEC_C_TENANT,
	EXEC_NCOLUMNS
};

/* The execution in row `row` of `res` (selected with exec_columns_sql) as
 * the API shows it, progress computed at `now`. A new object. */
json_object *exec_json_from_row(const PGresult *res, int row, int64_t now);

/* Count an execution ending with `status` and a target ending with
 * `status` in /metrics. */
void exec_metrics_execution(const char *status);
void exec_metrics_target(const char *status);

#endif
