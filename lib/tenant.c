/* tenant.c — tenants in the control database and their schemas on the
 * tenant databases (see tenant.h): creation with its tenant.created event
 * in one transaction, reads and pages, the schema's creation (and drop)
 * under a hard deadline, the migrate/retry path, the soft delete, and the
 * event's handler. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "exec_run.h"
#include "log.h"
#include "mig_pool.h"
#include "mig_session.h"
#include "page.h"
#include "page_cursor.h"
#include "schema_service.h"
#include "strbuf.h"
#include "tenant.h"
#include "timeutil.h"

/* A tenant as the API shows it, then created_at in microseconds (exact,
 * for cursors). */
#define TENANT_COLUMNS                                                                    \
	"t.id, t.slug, t.name, t.database_id, t.schema_name, t.status, t.error, "          \
	"t.migration_execution_id, " EXEC_SQL_ISO("t.created_at") ", t.created_by, "      \
	EXEC_SQL_ISO("t.updated_at") ", " EXEC_SQL_ISO("t.deleted_at") ", t.deleted_by, " \
	"(extract(epoch FROM t.created_at) * 1000000)::bigint"

enum {
	TC_ID, TC_SLUG, TC_NAME, TC_DATABASE, TC_SCHEMA, TC_STATUS, TC_ERROR, TC_EXECUTION,
	TC_CREATED_AT, TC_CREATED_BY, TC_UPDATED_AT, TC_DELETED_AT, TC_DELETED_BY, TC_CREATED_US,
	/* with_target: its database as a migration target, and the state of
	 * that database's circuit breaker */
	TC_DB, TC_DB_SCHEMA = TC_DB + EXEC_DB_NCOLUMNS, TC_DB_TYPE, TC_DB_ACTIVE, TC_DB_CIRCUIT,
};

#define TENANT_TARGET_COLUMNS \
	", " EXEC_DB_COLUMNS ", t.schema_name, d.database_type, d.is_active, coalesce(dc.state, 'closed')"
#define TENANT_TARGET_JOINS \
	" LEFT JOIN databases d ON d.id = t.database_id LEFT JOIN database_circuits dc ON dc.database_id = d.id"

static const char *const tenant_keys[] = {
	[TC_ID] = "id", [TC_SLUG] = "slug", [TC_NAME] = "name", [TC_DATABASE] = "database_id",
	[TC_SCHEMA] = "schema", [TC_STATUS] = "status", [TC_ERROR] = "error",
	[TC_EXECUTION] = "migration_execution_id", [TC_CREATED_AT] = "created_at",
	[TC_CREATED_BY] = "created_by", [TC_UPDATED_AT] = "updated_at",
	[TC_DELETED_AT] = "deleted_at", [TC_DELETED_BY] = "deleted_by",
};

static json_object *tenant_json_from_row(const PGresult *res, int row)
{
	json_object *o = json_object_new_object();

	for (int c = TC_ID; c <= TC_DELETED_BY; c++)
		json_object_object_add(o, tenant_keys[c], db_json_text(res, row, c));
	return o;
}

/* The WHERE clause finding tenant `ref` ($1) within a scope ($2): by id
 * (any status), or by the slug of a live tenant. NULL when `ref` can be
 * neither. */
static const char *ref_clause(const char *ref)
{
	if (uuid_is_valid(ref))
		return "t.id = $1::uuid AND ($2::text IS NULL OR t.slug = $2)";
	if (tenant_check_slug(ref) == NULL)
		return "t.slug = $1 AND t.status <> 'deleted' AND ($2::text IS NULL OR t.slug = $2)";
	return NULL;
}

/* The SELECT of the tenants matching `where` (with `with_target`, their
 * databases' TC_DB… columns too). */
static void select_sql(struct strbuf *sql, const char *where, bool with_target)
{
	strbuf_addf(sql, "SELECT " TENANT_COLUMNS "%s FROM tenants t%s WHERE %s",
		    with_target ? TENANT_TARGET_COLUMNS : "", with_target ? TENANT_TARGET_JOINS : "", where);
}

/* Select tenant `ref` within `scope` (and with `with_target`, its
 * database's TC_DB… columns too). Returns the row (the caller PQclear()s)
 * or NULL: INFRA_ENOTFOUND. */
static PGresult *select_tenant(struct db *db, const char *ref, const char *scope, bool with_target,
			       struct infra_error *err)
{
	const char *where = ref ? ref_clause(ref) : NULL, *params[2] = { ref, scope };
	struct strbuf sql = STRBUF_INIT;
	PGresult *res;

	if (where == NULL) {
		infra_fail(err, INFRA_ENOTFOUND, "no such tenant");
		return NULL;
	}
	select_sql(&sql, where, with_target);
	res = db_exec(db, err, sql.buf, 2, params);
	strbuf_release(&sql);
	if (res != NULL && PQntuples(res) == 0) {
		PQclear(res);
		infra_fail(err, INFRA_ENOTFOUND, "no such tenant");
		return NULL;
	}
	return res;
}

int tenant_get(struct db *db, const char *ref, const char *scope, json_object **out,
	       struct infra_error *err)
{
	PGresult *res = select_tenant(db, ref, scope, false, err);

	*out = NULL;
	if (res == NULL)
		return -1;
	*out = tenant_json_from_row(res, 0);
	PQclear(res);
	return 0;
}

/* --- creating --- */

int tenant_database_check(struct db *db, const char *id, const char *scope, const char **why,
			  struct infra_error *err)
{
	const char *params[2] = { id, scope };
	PGresult *res = db_exec(db, err, "SELECT d.is_active, d.database_type FROM databases d "
				"WHERE d.id = $1::uuid AND ($2::text IS NULL OR d.tenant = $2)", 2, params);

	*why = NULL;
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0 || PQgetvalue(res, 0, 0)[0] != 't')
		*why = "no such active database";
	else if (strcmp(PQgetvalue(res, 0, 1), "tenant") != 0 && strcmp(PQgetvalue(res, 0, 1), "shared") != 0)
		*why = "must be a database of type tenant or shared";
	PQclear(res);
	return 0;
}

/* After an insert that conflicted: which live tenant is in the way. */
static int create_conflict(struct db *db, const struct tenant_input *in, struct infra_error *err)
{
	const char *params[3] = { in->slug, in->database_id, in->schema };
	PGresult *res = db_exec(db, err, "SELECT slug, slug = $1 FROM tenants WHERE status <> 'deleted' "
				"AND (slug = $1 OR (database_id = $2::uuid AND schema_name = $3)) "
				"ORDER BY slug = $1 DESC LIMIT 1", 3, params);

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't')
		infra_fail(err, INFRA_ECONFLICT, "a tenant with slug '%s' already exists", in->slug);
	else if (PQntuples(res) == 1)
		infra_fail(err, INFRA_ECONFLICT, "schema '%s' of that database belongs to tenant '%s'",
			   in->schema, PQgetvalue(res, 0, 0));
	else
		infra_fail(err, INFRA_ECONFLICT, "a tenant with slug '%s' or schema '%s' was just created",
			   in->slug, in->schema);
	PQclear(res);
	return -1;
}

static json_object *created_payload(const struct tenant_input *in, const char *id,
				    const char *execution_id, const char *actor)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "tenant_id", json_object_new_string(id));
	json_object_object_add(o, "slug", json_object_new_string(in->slug));
	json_object_object_add(o, "database_id", json_object_new_string(in->database_id));
	json_object_object_add(o, "schema", json_object_new_string(in->schema));
	json_object_object_add(o, "execution_id", json_object_new_string(execution_id));
	json_object_object_add(o, "created_by", json_object_new_string(actor));
	return o;
}

int tenant_create(struct db *db, const struct tenant_input *in, const char *scope, const char *actor,
		  const char *owner, int lease_s, char id[UUID_STR_LEN], PGresult **event,
		  PGresult **tenant, struct infra_error *err)
{
	char execution_id[UUID_STR_LEN], lease[16];
	const char *params[11], *why, *ids[2] = { id, NULL };
	struct db_pipeline p = DB_PIPELINE_INIT;
	struct strbuf sql = STRBUF_INIT;
	json_object *payload;
	int insert, row, rc;

	uuid_generate(id);
	uuid_generate(execution_id);
	payload = created_payload(in, id, execution_id, actor);
	snprintf(lease, sizeof(lease), "%d", lease_s);
	params[0] = id;
	params[1] = in->slug;
	params[2] = in->name;
	params[3] = in->database_id;
	params[4] = in->schema;
	params[5] = execution_id;
	params[6] = actor;
	params[7] = json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN);
	params[8] = owner;
	params[9] = lease;
	params[10] = scope;
	/* One statement, so one transaction: the tenant and its event, which
	 * is recorded as being delivered by `owner` (the runners leave it
	 * alone unless the lease runs out). The database is checked here, as
	 * tenant_database_check does: only when there is no tenant is it
	 * asked why. In the same round trip, the tenant as it is now with its
	 * database, for the event's delivery. */
	insert = db_pipeline_add(&p, "WITH t AS (INSERT INTO tenants (id, slug, name, database_id, schema_name, "
		      "migration_execution_id, created_by) SELECT $1::uuid, $2, $3, d.id, $5, $6::uuid, $7 "
		      "FROM databases d WHERE d.id = $4::uuid AND d.is_active "
		      "AND d.database_type IN ('tenant', 'shared') AND ($11::text IS NULL OR d.tenant = $11) "
		      "ON CONFLICT DO NOTHING RETURNING id) INSERT INTO outbox AS o (event_type, resource_id, "
		      "payload, status, attempts, lease_owner, lease_expires_at, execution_id) SELECT "
		      "'tenant.created', t.id::text, $8::jsonb, 'processing', 1, $9, clock_timestamp() + "
		      "make_interval(secs => $10::int), $6::uuid FROM t RETURNING " EVENT_ROW_COLUMNS,
		      11, params);
	select_sql(&sql, ref_clause(id), true);
	row = db_pipeline_add(&p, sql.buf, 2, ids);
	strbuf_release(&sql);
	json_object_put(payload);
	*event = *tenant = NULL;
	rc = db_pipeline_run(db, &p, err);
	if (rc == 0 && PQntuples(db_pipeline_result(&p, insert)) == 1) {
		*event = db_pipeline_take(&p, insert);
		*tenant = db_pipeline_take(&p, row);
	}
	db_pipeline_release(&p);
	if (rc != 0 || *event != NULL)
		return rc;
	if (tenant_database_check(db, in->database_id, scope, &why, err) != 0)
		return -1;
	return why != NULL ? infra_fail_field(err, "database_id", "%s", why) : create_conflict(db, in, err);
}

/* --- listing --- */

static json_object *tenant_cursor(const PGresult *res, int row)
{
	return page_cursor_of_row(res, row, TC_CREATED_US, TC_ID);
}

int tenant_list(struct db *db, const struct tenant_filter *f, json_object **out,
		struct infra_error *err)
{
	char micros[PAGE_CURSOR_MICROS_MAX], after[UUID_STR_LEN], limit[16];
	const char *params[6];
	PGresult *res;

	*out = NULL;
	if (f->status != NULL && !tenant_status_valid(f->status))
		return infra_fail_field(err, "status", "must be one of provisioning, active, failed, deleted");
	if (f->database_id != NULL && !uuid_is_valid(f->database_id))
		return infra_fail_field(err, "database_id", "must be a database id (a UUID)");
	if (f->cursor != NULL && page_cursor_decode(f->cursor, micros, after) != 0)
		return infra_fail_field(err, "cursor", "is not a cursor this endpoint returned");
	snprintf(limit, sizeof(limit), "%d", f->limit + 1);
	params[0] = f->scope;
	params[1] = f->database_id;
	params[2] = f->status;
	params[3] = f->cursor ? micros : NULL;
	params[4] = f->cursor ? after : NULL;
	params[5] = limit;
	res = db_exec(db, err, "SELECT " TENANT_COLUMNS " FROM tenants t "
		      "WHERE ($1::text IS NULL OR t.slug = $1) AND ($2::uuid IS NULL OR t.database_id = $2) "
		      "AND (CASE WHEN $3::text IS NULL THEN t.status <> 'deleted' ELSE t.status = $3 END) "
		      "AND ($4::bigint IS NULL OR (t.created_at, t.id) > "
		      "('epoch'::timestamptz + $4::bigint * interval '1 microsecond', $5::uuid)) "
		      "ORDER BY t.created_at, t.id LIMIT $6::int", 6, params);
	if (res == NULL)
		return -1;
	*out = page_json(res, f->limit, tenant_json_from_row, tenant_cursor);
	PQclear(res);
	return 0;
}

/* --- the schema on the tenant's database --- */

/* Drive session `s` until its connection or round trip completes, it
 * breaks, or `deadline` (time_mono_ms) passes (MIG_PROGRESS_WAIT). */
static enum mig_progress session_wait(struct mig_session *s, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = -1 };
		int64_t left = deadline - time_mono_ms();
		enum mig_progress pr;

		p.fd = mig_session_fd(s, &p.events);
		if (p.fd < 0)
			return MIG_PROGRESS_DONE;
		if (left <= 0)
			return MIG_PROGRESS_WAIT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return MIG_PROGRESS_BROKEN;
		if ((pr = mig_session_progress(s, p.revents)) != MIG_PROGRESS_WAIT)
			return pr;
	}
}

/* Send `sql` on `s` (NULL: the statements queued, as one pipeline) and
 * wait for the results. Returns 0, or -1 with why (and *broken when the
 * connection failed rather than a statement). */
static int session_run(struct mig_session *s, const char *sql, int64_t deadline, int timeout_s,
		       char *why, bool *broken)
{
	const PGresult *failed;
	enum mig_progress pr;

	*broken = false;
	if ((sql != NULL ? mig_session_send_simple(s, sql) : mig_session_send_queued(s)) != 0) {
		snprintf(why, INFRA_ERRMSG_MAX, "%s", s->error);
		*broken = true;
		return -1;
	}
	pr = session_wait(s, deadline);
	if (pr == MIG_PROGRESS_WAIT) {
		mig_session_cancel(s);
		snprintf(why, INFRA_ERRMSG_MAX, "no answer within %d s", timeout_s);
		return -1;
	}
	if (pr == MIG_PROGRESS_BROKEN) {
		snprintf(why, INFRA_ERRMSG_MAX, "%s", s->error);
		*broken = true;
		return -1;
	}
	if ((failed = mig_session_error(s)) != NULL) {
		const char *msg = PQresultErrorMessage(failed);

		snprintf(why, INFRA_ERRMSG_MAX, "%.*s", (int)strcspn(msg, "\n"), msg);
		return -1;
	}
	return 0;
}

/* Sessions to tenant databases kept by a thread between two schema
 * changes (lib/mig_pool.h) — a schema service lane's, or a worker's when
 * the service is away — so a burst of tenants on one database pays for its
 * connection, the dearest part of creating a tenant, once rather than once
 * per tenant. A changed password or host is another connection string,
 * hence another session; one that fails is closed; an idle thread keeps
 * at most TENANT_SESSIONS, each for TENANT_SESSION_IDLE_MS. */
#define TENANT_SESSIONS 4

static _Thread_local struct mig_pool *kept;

/* Connect `s` (closed) to `conninfo` by `deadline`. 0, or -1 with why. */
static int session_connect(struct mig_session *s, const char *conninfo, int timeout_s,
			   int64_t deadline, char *why)
{
	if (mig_session_connect(s, conninfo, timeout_s, 0) == 0 &&
	    session_wait(s, deadline) == MIG_PROGRESS_DONE)
		return 0;
	snprintf(why, INFRA_ERRMSG_MAX, "%s", s->state == MIG_SESSION_CONNECTING && s->error[0] == '\0'
		 ? "connection timed out" : s->error);
	return -1;
}

/* Whether `res` failed for want of a privilege (SQLSTATE 42501). */
static bool refused(const PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state != NULL && strcmp(state, "42501") == 0;
}

/* The DDL on connected session `s`. Returns 0, or -1 with why and
 * *broken as session_run. */
static int schema_ddl_on(struct mig_session *s, const char *schema, bool drop, int64_t deadline,
			 int timeout_s, char *why, bool *broken)
{
	struct strbuf sql = STRBUF_INIT;
	char *ident = PQescapeIdentifier(s->pg, schema, strlen(schema));
	char timeout[24];
	const char *params[1] = { timeout };
	int rc = -1;

	*broken = false;
	if (ident == NULL) {
		snprintf(why, INFRA_ERRMSG_MAX, "cannot quote the schema name");
		goto out;
	}
	/* The server gives up before we do; settings and DDL go in one round
	 * trip. */
	snprintf(timeout, sizeof(timeout), "%d", timeout_s * 1000);
	mig_session_queue(s, "SELECT set_config('statement_timeout', $1, false), "
			  "set_config('lock_timeout', $1, false)", 1, params);
	strbuf_addf(&sql, drop ? "DROP SCHEMA IF EXISTS %s CASCADE" : "CREATE SCHEMA IF NOT EXISTS %s",
		    ident);
	mig_session_queue(s, sql.buf, 0, NULL);
	rc = session_run(s, NULL, deadline, timeout_s, why, broken);
	/* CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when
	 * the schema exists: refused that, look whether it does, so a schema
	 * made beforehand by its owner is taken as it is. */
	if (rc != 0 && !drop && !*broken && refused(mig_session_error(s))) {
		char again[INFRA_ERRMSG_MAX];

		mig_session_queue(s, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", 1, &schema);
		if (session_run(s, NULL, deadline, timeout_s, again, broken) == 0 &&
		    strcmp(PQgetvalue(mig_session_result(s, 0), 0, 0), "0") != 0)
			rc = 0;
	}
out:
	PQfreemem(ident);
	strbuf_release(&sql);
	return rc;
}

int tenant_schema_ddl(const char *conninfo, const char *schema, bool drop, int timeout_s, char *why)
{
	int64_t deadline = time_mono_ms() + (int64_t)timeout_s * 1000;

	if (kept == NULL)
		kept = mig_pool_new(TENANT_SESSIONS, TENANT_SESSION_IDLE_MS);
	mig_pool_prune(kept, false);
	for (int attempt = 0; attempt < 2; attempt++) {
		struct mig_session s;
		bool reused, broken;
		int rc;

		mig_session_init(&s);
		reused = mig_pool_take(kept, conninfo, &s);
		if (!reused && session_connect(&s, conninfo, timeout_s, deadline, why) != 0) {
			mig_session_release(&s);
			return -1;
		}
		rc = schema_ddl_on(&s, schema, drop, deadline, timeout_s, why, &broken);
		if (rc == 0)
			mig_pool_put(kept, conninfo, &s);
		mig_session_release(&s);
		/* A kept session the server has closed since: once more, anew. */
		if (rc == 0 || !reused || !broken)
			return rc;
	}
	return -1;
}

void tenant_sessions_release(void)
{
	mig_pool_free(kept);
	kept = NULL;
}

/* Run the DDL for the schema of the tenant in row 0 of `res` (selected
 * with_target) on its database as its registered user. Returns 1 when
 * done, 0 when it failed (why), -1 on a control-database error (err). */
static int target_ddl(struct db *db, const struct config *cfg, const PGresult *res, bool drop,
		      char *why, struct infra_error *err)
{
	struct exec_fleet f;
	const struct exec_fleet_target *t;
	int rc;

	if (PQgetisnull(res, 0, TC_DB_ACTIVE) || PQgetvalue(res, 0, TC_DB_ACTIVE)[0] != 't') {
		snprintf(why, INFRA_ERRMSG_MAX, "the database is no longer registered");
		return 0;
	}
	exec_fleet_init(&f);
	/* A closed circuit (read with the tenant) needs no question. */
	if (exec_fleet_add_row(&f, strcmp(PQgetvalue(res, 0, TC_DB_CIRCUIT), "closed") == 0 ? NULL : db,
			       cfg, res, 0, TC_DB, TC_DB_SCHEMA, TC_DB_TYPE, err) != 0) {
		exec_fleet_release(&f);
		return -1;
	}
	t = &f.items[0];
	if (t->skip[0] != '\0') {
		snprintf(why, INFRA_ERRMSG_MAX, "%.*s", INFRA_ERRMSG_MAX - 1, t->skip);
		rc = 0;
	} else {
		/* On the host's one session to the database when the schema
		 * service is there (lib/schema_service.h), else on our own. */
		rc = schema_service_call(t->conninfo, t->schema, drop, cfg->probe_timeout_s, why);
		if (rc == SCHEMA_SERVICE_UNAVAILABLE)
			rc = tenant_schema_ddl(t->conninfo, t->schema, drop, cfg->probe_timeout_s, why);
		rc = rc == 0 ? 1 : 0;
	}
	exec_fleet_release(&f);
	return rc;
}

/* A tenant $1 provisioning (or failed) is active. */
#define ACTIVATE_SQL                                                                    \
	"UPDATE tenants SET status = 'active', error = NULL, updated_at = clock_timestamp() " \
	"WHERE id = $1::uuid AND status IN ('provisioning', 'failed')"

/* Create the schema of the tenant in row 0 of `res` (selected
 * with_target) when it is provisioning (or failed, with `retry_failed`):
 * CREATE SCHEMA (unless it exists) on its database as the registered
 * user, within PROBE_TIMEOUT; then, with `activate`, the tenant is active
 * (without, the caller makes it so: ACTIVATE_SQL) — or it is failed with
 * the reason. Returns 1 when the schema is there (or the tenant already
 * was active), 0 when the tenant is failed (its error in `why`,
 * INFRA_ERRMSG_MAX bytes), -1 on a control-database error, or
 * INFRA_ENOTFOUND when it was deleted. */
static int provision(struct db *db, const struct config *cfg, const PGresult *res, bool retry_failed,
		     bool activate, char *why, struct infra_error *err)
{
	const char *id = PQgetvalue(res, 0, TC_ID), *params[2] = { id, why };
	const char *status = PQgetvalue(res, 0, TC_STATUS);
	char reason[INFRA_ERRMSG_MAX];
	int done;

	why[0] = '\0';
	if (strcmp(status, "active") == 0 || strcmp(status, "deleted") == 0 ||
	    (strcmp(status, "failed") == 0 && !retry_failed)) {
		done = strcmp(status, "active") == 0 ? 1 : strcmp(status, "failed") == 0 ? 0 : -1;
		if (done == 0)
			snprintf(why, INFRA_ERRMSG_MAX, "%s", PQgetvalue(res, 0, TC_ERROR));
		return done >= 0 ? done : infra_fail(err, INFRA_ENOTFOUND, "tenant %s was deleted", id);
	}
	done = target_ddl(db, cfg, res, false, reason, err);
	if (done < 0)
		return -1;
	if (done > 0)
		return !activate || db_exec_command(db, err, ACTIVATE_SQL, 1, params) == 0 ? 1 : -1;
	snprintf(why, INFRA_ERRMSG_MAX, "cannot create the schema: %.*s", INFRA_ERRMSG_MAX - 32, reason);
	/* A failed tenant has started no migration. */
	if (db_exec_command(db, err, "UPDATE tenants SET status = 'failed', error = $2, "
			    "migration_execution_id = NULL, updated_at = clock_timestamp() "
			    "WHERE id = $1::uuid AND status IN ('provisioning', 'failed')", 2, params) != 0)
		return -1;
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "tenant_id", json_object_new_string(id));
		json_object_object_add(f, "error", json_object_new_string(reason));
		log_emit(LOG_LEVEL_WARN, "tenant failed: its schema cannot be created", f);
	}
	return 0;
}

/* --- migrating --- */

/* Start the tenant's migration (scope tenant, slug `slug`) as execution
 * `exec_id`, visible to the tenant's own tokens. */
static int start_migration(struct db *db, const char *exec_id, const char *slug,
			   const char *target_version, const char *source, const char *actor,
			   json_object **out, char conflict_id[UUID_STR_LEN], struct infra_error *err)
{
	struct exec_request req = {
		.scope = EXEC_SCOPE_TENANT, .tenant = slug, .target_version = target_version,
	};
	struct exec_new n = {
		.id = exec_id, .req = &req, .kind = "migrate", .source = source, .executed_by = actor,
		.tenant = slug,
	};
	bool replayed;

	return exec_create(db, &n, NULL, out, &replayed, conflict_id, err);
}

int tenant_migrate(struct db *db, const struct config *cfg, const char *ref, const char *scope,
		   const char *actor, const char *target_version, json_object **out,
		   char conflict_id[UUID_STR_LEN], struct infra_error *err)
{
	char id[UUID_STR_LEN], slug[64], exec_id[UUID_STR_LEN], why[INFRA_ERRMSG_MAX];
	const char *params[2] = { id, exec_id };
	PGresult *res = select_tenant(db, ref, scope, true, err);
	int active;

	*out = NULL;
	if (res == NULL)
		return -1;
	if (strcmp(PQgetvalue(res, 0, TC_STATUS), "deleted") == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "no such tenant");
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, TC_ID));
	snprintf(slug, sizeof(slug), "%s", PQgetvalue(res, 0, TC_SLUG));
	/* The retry path of a failed tenant: its schema first. */
	active = provision(db, cfg, res, true, true, why, err);
	PQclear(res);
	if (active < 0)
		return -1;
	if (active == 0)
		return infra_fail(err, INFRA_EMIGRATION, "tenant '%s' is failed: %s", slug, why);
	if (exec_set_get(cfg->migrations_root, "tenant", err) == NULL)
		return -1;
	uuid_generate(exec_id);
	if (start_migration(db, exec_id, slug, target_version, "api", actor, out, conflict_id, err) != 0)
		return -1;
	if (db_exec_command(db, err, "UPDATE tenants SET migration_execution_id = $2::uuid, "
			    "updated_at = clock_timestamp() WHERE id = $1::uuid", 2, params) != 0) {
		/* The execution runs; only the tenant's pointer to it is stale. */
		json_object *f = json_object_new_object();

		json_object_object_add(f, "tenant", json_object_new_string(slug));
		json_object_object_add(f, "execution_id", json_object_new_string(exec_id));
		json_object_object_add(f, "error", json_object_new_string(err->message));
		log_emit(LOG_LEVEL_WARN, "cannot record a tenant's migration execution", f);
	}
	return 0;
}

/* --- deleting --- */

int tenant_delete(struct db *db, const struct config *cfg, const char *ref, const char *scope,
		  const char *actor, bool drop_schema, char id[UUID_STR_LEN],
		  struct infra_error *err)
{
	const char *params[2] = { id, actor };
	char why[INFRA_ERRMSG_MAX];
	PGresult *res = select_tenant(db, ref, scope, drop_schema, err);
	long n;

	if (res == NULL)
		return -1;
	snprintf(id, UUID_STR_LEN, "%s", PQgetvalue(res, 0, TC_ID));
	if (strcmp(PQgetvalue(res, 0, TC_STATUS), "deleted") == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "no such tenant");
	}
	if (drop_schema) {
		int done = target_ddl(db, cfg, res, true, why, err);

		if (done <= 0) {
			PQclear(res);
			return done < 0 ? -1 : infra_fail(err, INFRA_EUNAVAIL, "cannot drop the schema: %s", why);
		}
	}
	PQclear(res);
	res = db_exec(db, err, "UPDATE tenants SET status = 'deleted', deleted_at = clock_timestamp(), "
		      "deleted_by = $2, updated_at = clock_timestamp() WHERE id = $1::uuid "
		      "AND status <> 'deleted'", 2, params);
	if (res == NULL)
		return -1;
	n = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n == 1 ? 0 : infra_fail(err, INFRA_ENOTFOUND, "no such tenant");
}

/* --- the tenant.created event --- */

enum event_outcome tenant_on_created(const struct event_env *env, const struct event *ev,
				     struct event_done *done, struct infra_error *err)
{
	const struct db_pipeline *first = NULL;
	struct db_pipeline activate = DB_PIPELINE_INIT;
	const PGresult *row = env->subject;
	PGresult *res = NULL;
	json_object *v, *body;
	const char *id;
	char why[INFRA_ERRMSG_MAX];
	enum event_outcome oc;
	int active;

	if (!json_object_object_get_ex(ev->payload, "tenant_id", &v) ||
	    !uuid_is_valid(id = json_object_get_string(v))) {
		infra_fail(err, INFRA_EINVAL, "the payload has no tenant_id");
		return EVENT_FAILED;
	}
	/* The tenant with its database: as its creator just read it, or now. */
	if (row == NULL || PQntuples(row) != 1 || strcmp(PQgetvalue(row, 0, TC_ID), id) != 0)
		row = res = select_tenant(env->db, id, NULL, true, err);
	active = row != NULL ? provision(env->db, env->cfg, row, false, false, why, err) : -1;
	if (active < 0 && err->kind != INFRA_ENOTFOUND) {
		PQclear(res);
		return EVENT_FAILED;
	}
	if (active <= 0) {
		PQclear(res);
		done->result = json_object_new_object();
		json_object_object_add(done->result, "skipped", json_object_new_string(
			active < 0 ? "the tenant was deleted" : "the tenant failed; POST /tenants/{id}/migrate "
			"retries it"));
		if (active == 0)
			json_object_object_add(done->result, "error", json_object_new_string(why));
		return EVENT_DONE;
	}
	/* Made active in the transaction that starts its migration (whose
	 * targets are the active tenants'): one round trip fewer. */
	if (strcmp(PQgetvalue(row, 0, TC_STATUS), "active") != 0) {
		db_pipeline_add(&activate, ACTIVATE_SQL, 1, &id);
		first = &activate;
	}
	body = json_object_new_object();
	json_object_object_add(body, "scope", json_object_new_string("tenant"));
	json_object_object_add(body, "tenant", json_object_new_string(PQgetvalue(row, 0, TC_SLUG)));
	oc = event_start_execution(env, ev, body, PQgetvalue(row, 0, TC_CREATED_BY),
				   PQgetvalue(row, 0, TC_SLUG), first, done, err);
	json_object_put(body);
	db_pipeline_release(&activate);
	PQclear(res);
	return oc;
}
