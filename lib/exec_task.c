/* exec_task.c — the job runners' migration task (see exec_run.h): claim
 * targets of executions under a lease, run them through the engine with
 * bounded parallelism, keep the leases alive while they run, record each
 * outcome as it comes (retrying through a control-database outage) and end
 * executions whose last target finished.
 *
 * Runners claim targets, not executions, so one execution spreads over
 * every runner of every host, and a dead runner's targets are taken over
 * by any runner once their lease expires. Running a target again is safe:
 * the engine holds the schema's advisory lock and reads its history first,
 * so nothing is applied twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_run.h"
#include "log.h"
#include "timeutil.h"

#define EXEC_CHUNK_FACTOR 16		/* claim this many MIGRATION_BATCH_SIZE at once */
#define EXEC_IDLE_MS 1000		/* how often an idle runner looks (new work also wakes it) */
#define EXEC_CANCEL_POLL_MS 500		/* how often a running chunk checks for a cancel */
#define EXEC_RETRY_MIN_MS 100		/* outcome writes: first backoff, doubling… */
#define EXEC_RETRY_MAX_MS 5000		/* …up to this */
#define EXEC_RETRY_HARD_ERRORS 5	/* attempts for an error other than an outage */
#define EXEC_FLUSH_MS 200		/* longest an outcome waits to be written */
#define EXEC_FEED_IDLE_MS 50		/* a running engine's feed asks again after finding none */
#define EXEC_POOL_IDLE_MS 30000		/* sessions to targets kept idle this long… */
#define EXEC_POOL_FACTOR 2		/* …at most this many MIGRATION_BATCH_SIZE of them */

/* Columns of a claimed row after EXEC_DB_COLUMNS. */
enum {
	CL_SCHEMA = EXEC_DB_NCOLUMNS, CL_TYPE, CL_EXECUTION, CL_ORDINAL, CL_KIND, CL_TARGET_VERSION,
	CL_BEFORE_KNOWN, CL_BEFORE, CL_CURRENT, CL_CANCEL, CL_ACTIVE, CL_CIRCUIT,
};

/* One claimed target and what this runner knows of it. */
struct held {
	const char *execution_id;	/* in the claim's result */
	const char *ordinal;
	bool undo;
	bool earlier;			/* an earlier claim recorded version_before */
	const char *resumed_from;	/* where earlier claims left it: current_version
					 * if one was recorded, else version_before */
	bool before_written;		/* this run recorded version_before */
	bool running;
};

/* An outcome waiting to be written with others (flush). */
struct pending {
	const struct held *h;
	const char *label;
	const char *status;		/* static */
	int attempts;
	char *applied;			/* a JSON array's text */
	char *before, *after, *error;	/* NULL for none */
	bool written;			/* flush: it was still ours */
};

/* One engine run: targets of one kind, database type and target version,
 * of one execution or of several (a burst of one-target executions, as new
 * tenants make, runs in parallel rather than one after the other). */
struct run {
	struct runner_ctx *ctx;
	const PGresult *group;		/* a row of it (group_row) names the run's group */
	int group_row;
	size_t cap;			/* targets the run may hold in all (its arrays' size) */
	PGresult **fed;			/* claims that fed the running engine, freed at the end */
	size_t nfed;
	int64_t fed_empty_ms;		/* when a feed last found nothing */
	struct held *held_store;	/* per target held, run or not (room for cap) */
	size_t nheld;
	struct mig_target *targets;	/* per engine index */
	struct infra_error set_err;	/* why `set` is NULL */
	const struct mig_set *set;
	struct exec_fleet fleet;
	struct held **held;		/* per engine index */
	struct mig_outcome *outcomes;	/* per engine index, filled by the engine */
	size_t *fleet_index;		/* engine index → fleet index */
	size_t n;
	const char **executions;	/* the executions of the run's targets */
	bool *cancel;			/* per execution: its cancel_requested */
	size_t nexec;
	/* A cancel stops the whole engine run: the cancelled execution's
	 * targets end cancelled, the others' are released and run again
	 * (resuming where they stopped) by the next claim. */
	bool any_cancel;
	bool *marked;			/* per execution: to be marked started, or marked */
	const char **mark_label;	/* per execution: its first target, while not marked yet */
	size_t nmarks;			/* executions to mark started at the next flush */
	int64_t cancel_checked_ms;
	struct pending *pending;	/* outcomes not written yet (room for every target) */
	size_t npending;
	int64_t pending_since_ms;	/* when the oldest outcome or mark came */
};

/* The index of execution `id` in the run. */
static size_t run_exec(const struct run *r, const char *id)
{
	for (size_t k = 0; k < r->nexec; k++)
		if (strcmp(r->executions[k], id) == 0)
			return k;
	abort();	/* every held target's execution is in the run */
}

static void run_cancel(struct run *r, const char *id)
{
	for (size_t k = 0; k < r->nexec; k++)
		if (strcmp(r->executions[k], id) == 0)
			r->cancel[k] = r->any_cancel = true;
}

static int64_t last_renew_ms;		/* this runner's last lease renewal */
static struct mig_pool *sessions;	/* the engine's sessions kept between runs */

static void log_error_field(const char *msg, const char *subject, const struct infra_error *err)
{
	json_object *f = json_object_new_object();

	if (subject != NULL)
		json_object_object_add(f, "execution_id", json_object_new_string(subject));
	json_object_object_add(f, "error", json_object_new_string(err->message));
	log_emit(LOG_LEVEL_WARN, msg, f);
}

/* --- leases --- */

/* Push the lease of everything this runner holds, at most every lease/3. */
static void renew_leases(struct runner_ctx *ctx, bool force)
{
	char lease[16];
	const char *params[2] = { ctx->owner, lease };
	struct infra_error err;
	int64_t now = time_mono_ms();

	if (!force && now - last_renew_ms < (int64_t)ctx->cfg->migration_lease_s * 1000 / 3)
		return;
	snprintf(lease, sizeof(lease), "%d", ctx->cfg->migration_lease_s);
	if (db_exec_command(&ctx->db, &err,
			    "UPDATE execution_targets SET lease_expires_at = clock_timestamp() + "
			    "make_interval(secs => $2::int) WHERE lease_owner = $1 AND status = 'in_progress'",
			    2, params) != 0) {
		log_error_field("cannot renew migration leases", NULL, &err);
		return;	/* tried again at the next callback */
	}
	last_renew_ms = now;
}

/* Claim due targets: the runner's share of them, or with `group` (a
 * claimed row) only targets that can join that row's engine run, at most
 * `room` of them. */
static PGresult *claim(struct runner_ctx *ctx, const PGresult *group, int row, size_t room,
		       struct infra_error *err)
{
	char limit[24], lease[16], batch[16], runners[16];
	const char *params[9] = { limit, ctx->owner, lease, batch, runners, group ? "true" : NULL,
				  NULL, NULL, NULL };

	snprintf(limit, sizeof(limit), "%zu", group != NULL ? room
		 : (size_t)ctx->cfg->migration_batch_size * EXEC_CHUNK_FACTOR);
	if (group != NULL) {
		params[6] = PQgetvalue(group, row, CL_KIND);
		params[7] = PQgetvalue(group, row, CL_TYPE);
		params[8] = PQgetisnull(group, row, CL_TARGET_VERSION) ? NULL
			: PQgetvalue(group, row, CL_TARGET_VERSION);
	}
	snprintf(lease, sizeof(lease), "%d", ctx->cfg->migration_lease_s);
	snprintf(batch, sizeof(batch), "%d", ctx->cfg->migration_batch_size);
	snprintf(runners, sizeof(runners), "%d", ctx->cfg->runners > 0 ? ctx->cfg->runners : 1);
	/* A runner takes its share of what is due: the due targets divided
	 * among this host's runners, at least MIGRATION_BATCH_SIZE and at most
	 * EXEC_CHUNK_FACTOR of them. An engine run ends before its runner
	 * claims again, so a burst of small executions (new tenants) taken
	 * whole by the first runner to look would leave the others idle.
	 * Feeding a running engine ($6), it takes what fits: targets of the
	 * same kind, database type and target version, not cancelled (and
	 * the due targets are not counted: the subquery runs only when its
	 * CASE branch is taken). */
	return db_exec(&ctx->db, err,
		       "WITH due AS (SELECT count(*) AS n FROM execution_targets "
		       "WHERE status = 'pending' OR (status = 'in_progress' "
		       "AND lease_expires_at < clock_timestamp())), "
		       "c AS (SELECT t.execution_id, t.ordinal FROM execution_targets t "
		       "JOIN executions e ON e.id = t.execution_id "
		       "WHERE (t.status = 'pending' OR (t.status = 'in_progress' "
		       "AND t.lease_expires_at < clock_timestamp())) "
		       "AND ($6::boolean IS NULL OR (e.kind = $7 AND t.database_type = $8 "
		       "AND coalesce(t.target_version, e.target_version) IS NOT DISTINCT FROM $9 "
		       "AND NOT e.cancel_requested)) "
		       "ORDER BY e.created_at, t.execution_id, t.ordinal "
		       "LIMIT CASE WHEN $6::boolean THEN $1::int ELSE (SELECT greatest($4::int, "
		       "least($1::int, ceil(n::numeric / $5::int)::int)) FROM due) END "
		       "FOR UPDATE OF t SKIP LOCKED) "
		       "UPDATE execution_targets t SET status = 'in_progress', lease_owner = $2, "
		       "lease_expires_at = clock_timestamp() + make_interval(secs => $3::int), "
		       "claims = t.claims + 1, started_at = coalesce(t.started_at, clock_timestamp()) "
		       "FROM c, executions e, databases d LEFT JOIN database_circuits dc "
		       "ON dc.database_id = d.id WHERE t.execution_id = c.execution_id "
		       "AND t.ordinal = c.ordinal AND e.id = t.execution_id AND d.id = t.database_id "
		       "RETURNING " EXEC_DB_COLUMNS ", t.schema_name, t.database_type, t.execution_id, "
		       "t.ordinal, e.kind, coalesce(t.target_version, e.target_version), t.before_known, "
		       "t.version_before, t.current_version, e.cancel_requested, d.is_active, "
		       "coalesce(dc.state, 'closed')",
		       9, params);
}

/* --- outcomes --- */

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static void pending_release(struct pending *p)
{
	free(p->applied);
	free(p->before);
	free(p->after);
	free(p->error);
	memset(p, 0, sizeof(*p));
}

static json_object *step_json(const char *version, const char *description, const char *script,
			      int execution_ms, bool recovered)
{
	json_object *s = json_object_new_object();

	json_object_object_add(s, "version", version ? json_object_new_string(version) : NULL);
	json_object_object_add(s, "description", json_object_new_string(description));
	json_object_object_add(s, "script", json_object_new_string(script));
	json_object_object_add(s, "execution_ms", recovered ? NULL : json_object_new_int(execution_ms));
	if (recovered)
		json_object_object_add(s, "recovered", json_object_new_boolean(true));
	return s;
}

/* What an earlier claim of this target did before its runner died without
 * recording it: the versions between where that claim started (or the
 * last release left it) and where this run found the schema. Taken from
 * the set, marked recovered, so a rollback undoes them too. */
static void add_recovered(json_object *applied, const struct held *h, const struct mig_set *set,
			  const struct mig_outcome *o)
{
	const char *found = o->version_before;	/* where this run began */

	if (!h->earlier)
		return;
	if (!h->undo) {
		/* migrate: versions in (resumed_from, found] */
		for (size_t i = 0; i < set->nversioned && found != NULL; i++) {
			const struct mig_script *sc = &set->versioned[i];

			if ((h->resumed_from == NULL || mig_version_cmp(sc->version, h->resumed_from) > 0) &&
			    mig_version_cmp(sc->version, found) <= 0)
				json_object_array_add(applied, step_json(sc->version, sc->description,
									 sc->script, 0, true));
		}
		return;
	}
	/* undo: versions in (found, resumed_from], newest first */
	for (size_t i = set->nundo; i-- > 0 && h->resumed_from != NULL;) {
		const struct mig_script *sc = &set->undo[i];

		if (mig_version_cmp(sc->version, h->resumed_from) <= 0 &&
		    (found == NULL || mig_version_cmp(sc->version, found) > 0))
			json_object_array_add(applied, step_json(sc->version, sc->description, sc->script,
								 0, true));
	}
}

/* The status a target ends with. NULL: release it for another runner
 * (stopped because this runner stops, or because another execution of the
 * run was cancelled, not its own). */
static const char *target_status(const struct run *r, const struct held *h,
				 const struct mig_outcome *o)
{
	switch (o->status) {
	case MIG_STATUS_OK: return "completed";
	case MIG_STATUS_FAILED: return "failed";
	case MIG_STATUS_CANCELLED: return r->cancel[run_exec(r, h->execution_id)] ? "cancelled" : NULL;
	}
	return "failed";
}

/* Give a target back: pending again, with what it did so far. 0, 1 when
 * it was not ours any more, -1 on error. */
static int release_target(struct run *r, const struct held *h, const char *attempts,
			  const char *applied, const struct mig_outcome *o, struct infra_error *err)
{
	/* Only a run that changed something read the schema's history. */
	const char *changed = o->nsteps > 0 || h->before_written ? "true" : "false";
	const char *params[8] = {
		h->execution_id, h->ordinal, attempts, applied, o->version_before, o->version_after,
		r->ctx->owner, changed,
	};
	PGresult *res = db_exec(&r->ctx->db, err,
				"UPDATE execution_targets t SET status = 'pending', lease_owner = NULL, "
				"lease_expires_at = NULL, attempts = t.attempts + $3::int, "
				"applied = t.applied || $4::jsonb, version_before = CASE WHEN t.before_known "
				"OR NOT $8::boolean THEN t.version_before ELSE $5 END, "
				"before_known = t.before_known OR $8::boolean, current_version = CASE "
				"WHEN $8::boolean THEN $6 ELSE t.current_version END "
				"WHERE t.execution_id = $1::uuid AND t.ordinal = $2::int "
				"AND t.lease_owner = $7 AND t.status = 'in_progress'", 8, params);
	long n;

	if (res == NULL)
		return -1;
	n = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return n == 1 ? 0 : 1;
}

/* The label of a target of execution `id` in this run still running, for
 * its current_target. */
static const char *still_running(const struct run *r, const char *id)
{
	for (size_t k = 0; k < r->n; k++)
		if (r->held[k]->running && strcmp(r->held[k]->execution_id, id) == 0)
			return r->fleet.items[r->fleet_index[k]].label;
	return NULL;
}

/* Give a target back (this runner stops), retried like flush(). */
static void give_back(struct run *r, const struct held *h, json_object *applied,
		      const struct mig_outcome *o, const char *label)
{
	char attempts[16];
	struct infra_error err;
	int64_t backoff = EXEC_RETRY_MIN_MS;
	int rc, hard = 0;

	snprintf(attempts, sizeof(attempts), "%d", o->attempts);
	while ((rc = release_target(r, h, attempts,
				    json_object_to_json_string_ext(applied, JSON_C_TO_STRING_PLAIN),
				    o, &err)) < 0) {
		if (err.kind != INFRA_EUNAVAIL)
			hard++;
		if (hard >= EXEC_RETRY_HARD_ERRORS || backoff >= EXEC_RETRY_MAX_MS) {
			log_error_field("cannot give a migration target back; it runs again when its "
					"lease expires", h->execution_id, &err);
			return;
		}
		time_sleep_ms(backoff);
		backoff *= 2;
	}
	if (rc == 1) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "execution_id", json_object_new_string(h->execution_id));
		json_object_object_add(f, "target", json_object_new_string(label));
		log_emit(LOG_LEVEL_WARN, "migration lease lost; another runner records this target", f);
	}
}

/* The executions a flush touches (marks and outcomes). */
static void touched_executions(const struct run *r, struct db_array *ids)
{
	for (size_t k = 0; k < r->nexec; k++) {
		bool touched = r->mark_label[k] != NULL;

		for (size_t i = 0; i < r->npending && !touched; i++)
			touched = strcmp(r->pending[i].h->execution_id, r->executions[k]) == 0;
		if (touched)
			db_array_push(ids, r->executions[k]);
	}
}

/* Mark started the executions whose first target started since the last
 * flush: in_progress, naming that target, with a `progress` event for
 * those that were pending. */
static int write_marks(struct run *r, struct exec_event_batch *events, struct infra_error *err)
{
	struct db_array ids = DB_ARRAY_INIT, labels = DB_ARRAY_INIT;
	struct strbuf sql = STRBUF_INIT;
	const char *params[2];
	PGresult *res;

	if (r->nmarks == 0)
		return 0;
	for (size_t k = 0; k < r->nexec; k++) {
		if (r->mark_label[k] == NULL)
			continue;
		db_array_push(&ids, r->executions[k]);
		db_array_push(&labels, r->mark_label[k]);
	}
	params[0] = db_array_text(&ids);
	params[1] = db_array_text(&labels);
	strbuf_addf(&sql, "WITH m AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS m (id, label)), "
		    "old AS (SELECT e.id, e.status, m.label FROM executions e JOIN m ON m.id = e.id) "
		    "UPDATE executions e SET status = 'in_progress', current_target = old.label, "
		    "started_at = coalesce(e.started_at, clock_timestamp()), "
		    "event_seq = e.event_seq + (old.status = 'pending')::int FROM old "
		    "WHERE e.id = old.id AND old.status IN ('pending', 'in_progress') "
		    "RETURNING %s, old.status = 'pending'", exec_columns_sql);
	res = db_exec(&r->ctx->db, err, sql.buf, 2, params);
	db_array_release(&ids);
	db_array_release(&labels);
	strbuf_release(&sql);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		json_object *exec;

		if (PQgetvalue(res, i, EXEC_NCOLUMNS)[0] != 't')
			continue;
		exec = exec_json_from_row(res, i, time_wall_s());
		exec_event_batch_add(events, PQgetvalue(res, i, EXEC_C_ID),
				     strtoll(PQgetvalue(res, i, EXEC_C_EVENT_SEQ), NULL, 10), "progress",
				     exec_progress_event(exec));
		json_object_put(exec);
	}
	PQclear(res);
	return 0;
}

/* Write the buffered outcomes, of any number of executions, in one
 * statement: each target's row, its execution's counters, and the label
 * of a target of it still running. Returns the rows — each execution's
 * (exec_columns_sql) joined with each of its targets written (ordinal,
 * exec_target_columns_sql), by execution and ordinal — or NULL with
 * `err`. */
static PGresult *write_outcomes(struct run *r, struct infra_error *err)
{
	enum { IDS, ORDINALS, STATUSES, ATTEMPTS, APPLIED, BEFORE, AFTER, ERRORS, RUNNING_IDS, RUNNING,
	       NARRAYS };
	struct db_array a[NARRAYS];
	struct strbuf sql = STRBUF_INIT;
	const char *params[11];
	PGresult *res;

	for (int k = 0; k < NARRAYS; k++)
		a[k] = (struct db_array)DB_ARRAY_INIT;
	/* The outcomes go in as arrays, one element per target. */
	for (size_t i = 0; i < r->npending; i++) {
		const struct pending *p = &r->pending[i];

		db_array_push(&a[IDS], p->h->execution_id);
		db_array_push(&a[ORDINALS], p->h->ordinal);
		db_array_push(&a[STATUSES], p->status);
		db_array_pushf(&a[ATTEMPTS], "%d", p->attempts);
		db_array_push(&a[APPLIED], p->applied);
		db_array_push(&a[BEFORE], p->before);
		db_array_push(&a[AFTER], p->after);
		db_array_push(&a[ERRORS], p->error);
	}
	/* …and the executions with a target still running, and its label. */
	for (size_t k = 0; k < r->nexec; k++) {
		const char *label = still_running(r, r->executions[k]);

		if (label == NULL)
			continue;
		db_array_push(&a[RUNNING_IDS], r->executions[k]);
		db_array_push(&a[RUNNING], label);
	}
	for (int k = 0; k < NARRAYS; k++)
		params[k] = db_array_text(&a[k]);
	params[NARRAYS] = r->ctx->owner;
	strbuf_addf(&sql, "WITH o AS (SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[], "
		    "$5::jsonb[], $6::text[], $7::text[], $8::text[]) "
		    "AS o (execution_id, ordinal, status, attempts, applied, before, after, error)), "
		    "t AS (UPDATE execution_targets t SET status = o.status, "
		    "attempts = t.attempts + o.attempts, applied = t.applied || o.applied, "
		    "version_before = CASE WHEN t.before_known THEN t.version_before ELSE o.before END, "
		    "before_known = true, current_version = o.after, error = o.error, "
		    "lease_owner = NULL, lease_expires_at = NULL, completed_at = clock_timestamp() "
		    "FROM o WHERE t.execution_id = o.execution_id AND t.ordinal = o.ordinal "
		    "AND t.lease_owner = $11 AND t.status = 'in_progress' "
		    "RETURNING t.ordinal, %s, t.execution_id AS xid), "
		    "c AS (SELECT xid, count(*) FILTER (WHERE status = 'completed') AS completed, "
		    "count(*) FILTER (WHERE status = 'failed') AS failed, "
		    "count(*) FILTER (WHERE status IN ('skipped', 'cancelled')) AS skipped, "
		    "count(*) AS n FROM t GROUP BY xid), "
		    "e AS (UPDATE executions e SET completed_targets = e.completed_targets + c.completed, "
		    "failed_targets = e.failed_targets + c.failed, "
		    "skipped_targets = e.skipped_targets + c.skipped, event_seq = e.event_seq + c.n + 1, "
		    "current_target = coalesce(x.label, e.current_target) "
		    "FROM c LEFT JOIN unnest($9::uuid[], $10::text[]) AS x (id, label) ON x.id = c.xid "
		    "WHERE e.id = c.xid RETURNING %s) "
		    "SELECT e.*, t.* FROM e JOIN t ON t.xid = e.id ORDER BY e.id, t.ordinal",
		    exec_target_columns_sql, exec_columns_sql);
	res = db_exec(&r->ctx->db, err, sql.buf, 11, params);
	for (int k = 0; k < NARRAYS; k++)
		db_array_release(&a[k]);
	strbuf_release(&sql);
	return res;
}

/* The events of the outcomes written (rows of write_outcomes, an
 * execution's rows together): a `target` event each, then the execution's
 * `progress`; which pending outcomes were still ours; and in groups[] the
 * first row of each execution. Returns the number of executions. */
static int outcome_events(struct run *r, const PGresult *res, struct exec_event_batch *events,
			  int *groups)
{
	int ngroups = 0, nrows = PQntuples(res);

	for (int from = 0, to; from < nrows; from = to) {
		const char *id = PQgetvalue(res, from, EXEC_C_ID);
		int64_t seq = strtoll(PQgetvalue(res, from, EXEC_C_EVENT_SEQ), NULL, 10);
		json_object *exec;

		for (to = from; to < nrows && strcmp(PQgetvalue(res, to, EXEC_C_ID), id) == 0; to++)
			;
		/* The targets' events take the numbers before the progress's. */
		for (int i = from; i < to; i++) {
			const char *ordinal = PQgetvalue(res, i, EXEC_NCOLUMNS);

			exec_event_batch_add(events, id, seq - (to - i), "target",
					     exec_target_json_from_row(res, i, EXEC_NCOLUMNS + 1));
			for (size_t j = 0; j < r->npending; j++)
				if (strcmp(r->pending[j].h->ordinal, ordinal) == 0 &&
				    strcmp(r->pending[j].h->execution_id, id) == 0)
					r->pending[j].written = true;
		}
		exec = exec_json_from_row(res, from, time_wall_s());
		exec_event_batch_add(events, id, seq, "progress", exec_progress_event(exec));
		json_object_put(exec);
		groups[ngroups++] = from;
	}
	return ngroups;
}

/* Everything buffered — executions to mark started, outcomes, the
 * executions they end, and all of their events — in one transaction of a
 * few statements, whatever the number of targets and executions. The
 * executions' rows are locked first, in id order (two runners flushing
 * targets of the same executions never deadlock; exec_store.c's lock
 * order). Which executions ended goes to `finished` (per execution of the
 * run, static status or NULL). Returns 0, or -1 with `err` (nothing
 * written). */
static int write_all(struct run *r, const char **finished, struct infra_error *err)
{
	struct db *db = &r->ctx->db;
	struct exec_event_batch events = { 0 };
	struct db_array ids = DB_ARRAY_INIT;
	const char *params[1], **ended = NULL;
	PGresult *res = NULL;
	int rc = -1, *groups = NULL, ngroups = 0;

	for (size_t k = 0; k < r->nexec; k++)
		finished[k] = NULL;
	for (size_t i = 0; i < r->npending; i++)
		r->pending[i].written = false;
	touched_executions(r, &ids);
	params[0] = db_array_text(&ids);
	if (db_begin(db, err) != 0 ||
	    db_exec_command(db, err, "SELECT 1 FROM executions WHERE id = ANY($1::uuid[]) "
			    "ORDER BY id FOR UPDATE", 1, params) != 0 ||
	    write_marks(r, &events, err) != 0)
		goto out;
	if (r->npending > 0) {
		if ((res = write_outcomes(r, err)) == NULL)
			goto out;
		groups = calloc((size_t)PQntuples(res) + 1, sizeof(*groups));
		ended = calloc((size_t)PQntuples(res) + 1, sizeof(*ended));
		if (groups == NULL || ended == NULL)
			abort();
		ngroups = outcome_events(r, res, &events, groups);
		if (exec_finish_done(db, res, groups, ngroups, ended, &events, err) != 0)
			goto out;
	}
	if (exec_event_batch_insert(db, &events, err) != 0 || db_commit(db, err) != 0)
		goto out;
	for (int g = 0; g < ngroups; g++)
		if (ended[g] != NULL)
			finished[run_exec(r, PQgetvalue(res, groups[g], EXEC_C_ID))] = ended[g];
	rc = 0;
out:
	if (rc != 0) {
		db_rollback(db);
		for (size_t i = 0; i < r->npending; i++)
			r->pending[i].written = false;
	}
	exec_event_batch_release(&events);
	db_array_release(&ids);
	PQclear(res);
	free(groups);
	free(ended);
	return rc;
}

/* Write every buffered outcome and mark, retried with backoff through an
 * outage of the control database until written or the lease is lost. An
 * outcome is never dropped while this runner holds the target; if the
 * runner must stop first, the lease expires and another runner runs the
 * target again (harmlessly: the engine reads the history). */
static void flush(struct run *r)
{
	const char **finished;
	struct infra_error err;
	int64_t backoff = EXEC_RETRY_MIN_MS;
	int hard = 0, rc;

	if (r->npending == 0 && r->nmarks == 0)
		return;
	finished = calloc(r->nexec, sizeof(*finished));
	if (finished == NULL)
		abort();
	for (;;) {
		rc = write_all(r, finished, &err);
		if (rc == 0)
			break;
		if (err.kind != INFRA_EUNAVAIL)
			hard++;
		if (hard >= EXEC_RETRY_HARD_ERRORS || (*r->ctx->stop && backoff >= EXEC_RETRY_MAX_MS)) {
			log_error_field("giving up recording migration outcomes; their targets run "
					"again when their lease expires", NULL, &err);
			break;
		}
		log_error_field("cannot record migration outcomes; retrying", NULL, &err);
		time_sleep_ms(backoff);
		backoff = backoff * 2 > EXEC_RETRY_MAX_MS ? EXEC_RETRY_MAX_MS : backoff * 2;
	}
	for (size_t i = 0; rc == 0 && i < r->npending; i++) {
		json_object *f;

		if (r->pending[i].written) {
			exec_metrics_target(r->pending[i].status);
			continue;
		}
		f = json_object_new_object();
		json_object_object_add(f, "execution_id", json_object_new_string(r->pending[i].h->execution_id));
		json_object_object_add(f, "target", json_object_new_string(r->pending[i].label));
		log_emit(LOG_LEVEL_WARN, "migration lease lost; another runner records this target", f);
	}
	for (size_t k = 0; k < r->nexec; k++) {
		json_object *f;

		r->mark_label[k] = NULL;	/* marked, or given up with the rest */
		if (finished[k] == NULL)
			continue;
		f = json_object_new_object();
		json_object_object_add(f, "execution_id", json_object_new_string(r->executions[k]));
		json_object_object_add(f, "status", json_object_new_string(finished[k]));
		log_emit(LOG_LEVEL_INFO, "migration execution finished", f);
		exec_metrics_execution(finished[k]);
	}
	r->nmarks = 0;
	for (size_t i = 0; i < r->npending; i++)
		pending_release(&r->pending[i]);
	r->npending = 0;
	free(finished);
}

/* Flush when enough outcomes wait (a batch of the engine's parallelism)
 * or the oldest outcome or mark has waited EXEC_FLUSH_MS: progress stays
 * live, and the control database sees one transaction per batch, not per
 * target or execution. */
static void maybe_flush(struct run *r)
{
	if ((r->npending > 0 || r->nmarks > 0) &&
	    (r->npending >= (size_t)r->ctx->cfg->migration_batch_size ||
	     time_mono_ms() - r->pending_since_ms >= EXEC_FLUSH_MS))
		flush(r);
}

/* Record what happened to a target: written with others by flush(), or,
 * for a target given back (this runner stops), at once. */
static void record(struct run *r, const struct held *h, const struct mig_outcome *o,
		   const char *label, const char *status)
{
	json_object *applied = json_object_new_array();
	struct pending *p;

	if (status == NULL)
		status = target_status(r, h, o);
	if (r->set != NULL)
		add_recovered(applied, h, r->set, o);
	for (size_t s = 0; s < o->nsteps; s++)
		json_object_array_add(applied, step_json(o->steps[s].version, o->steps[s].description,
							 o->steps[s].script, o->steps[s].execution_ms,
							 false));
	if (status == NULL) {
		give_back(r, h, applied, o, label);
		json_object_put(applied);
		return;
	}
	if (r->npending == 0 && r->nmarks == 0)
		r->pending_since_ms = time_mono_ms();
	p = &r->pending[r->npending++];
	p->h = h;
	p->label = label;
	p->status = status;
	p->attempts = o->attempts;
	p->applied = xstrdup(json_object_to_json_string_ext(applied, JSON_C_TO_STRING_PLAIN));
	p->before = o->version_before ? xstrdup(o->version_before) : NULL;
	p->after = o->version_after ? xstrdup(o->version_after) : NULL;
	p->error = o->status != MIG_STATUS_OK && o->error.message[0] ? xstrdup(o->error.message) : NULL;
	json_object_put(applied);
}

/* --- engine callbacks --- */

/* Mark execution `id` started when the first of its targets in this run
 * starts (or is recorded as not run), with the next flush: the engine runs
 * meanwhile, and the marks of a burst of executions are written together. */
static void run_mark(struct run *r, const char *id, const char *label)
{
	size_t k = run_exec(r, id);

	if (r->marked[k])
		return;
	r->marked[k] = true;
	r->mark_label[k] = label;
	if (r->npending == 0 && r->nmarks == 0)
		r->pending_since_ms = time_mono_ms();
	r->nmarks++;
}

static void on_started(void *arg, size_t i, int attempt)
{
	struct run *r = arg;

	(void)attempt;
	r->held[i]->running = true;
	run_mark(r, r->held[i]->execution_id, r->fleet.items[r->fleet_index[i]].label);
}

/* After a target's first migration, make sure its version before is on
 * record: should this runner die, the next one knows where it started. */
static void on_step(void *arg, size_t i, const struct mig_step *step)
{
	struct run *r = arg;
	struct held *h = r->held[i];

	(void)step;
	if (!h->earlier && !h->before_written) {
		const char *params[4] = {
			h->execution_id, h->ordinal, r->outcomes[i].version_before, r->ctx->owner,
		};
		struct infra_error err;

		if (db_exec_command(&r->ctx->db, &err,
				    "UPDATE execution_targets SET version_before = $3, before_known = true "
				    "WHERE execution_id = $1::uuid AND ordinal = $2::int AND lease_owner = $4 "
				    "AND NOT before_known", 4, params) == 0)
			h->before_written = true;
		else
			log_error_field("cannot record a target's version before", h->execution_id, &err);
	}
	renew_leases(r->ctx, false);
}

static void on_finished(void *arg, size_t i, const struct mig_outcome *o)
{
	struct run *r = arg;
	struct held *h = r->held[i];

	h->running = false;
	record(r, h, o, r->fleet.items[r->fleet_index[i]].label, NULL);
	maybe_flush(r);
	renew_leases(r->ctx, false);
}

/* Note the cancels of the run's executions that were notified (LISTEN in
 * exec_task); drops every other notification. Costs a read of the socket. */
static void cancel_notified(struct run *r)
{
	struct db *db = &r->ctx->db;
	PGnotify *n;

	if (db->conn == NULL || PQconsumeInput(db->conn) == 0)
		return;
	while ((n = PQnotifies(db->conn)) != NULL) {
		if (strcmp(n->relname, EXEC_CANCEL_CHANNEL) == 0)
			run_cancel(r, n->extra);
		PQfreemem(n);
	}
}

/* Look up which of the run's executions were asked to cancel. */
static void cancel_lookup(struct run *r)
{
	struct db_array ids = DB_ARRAY_INIT;
	struct infra_error err;
	const char *params[1];
	PGresult *res;

	for (size_t k = 0; k < r->nexec; k++)
		db_array_push(&ids, r->executions[k]);
	params[0] = db_array_text(&ids);
	res = db_exec(&r->ctx->db, &err, "SELECT id FROM executions WHERE id = ANY($1::uuid[]) "
		      "AND cancel_requested", 1, params);
	for (int i = 0; res != NULL && i < PQntuples(res); i++)
		run_cancel(r, PQgetvalue(res, i, 0));
	PQclear(res);
	db_array_release(&ids);
}

/* Called at every migration boundary and now and then: a cancel is seen
 * from its notification at once, or by looking every EXEC_CANCEL_POLL_MS
 * (a notification lost with a reconnection). */
static bool on_poll(void *arg)
{
	struct run *r = arg;
	int64_t now = time_mono_ms();

	renew_leases(r->ctx, false);
	maybe_flush(r);
	if (!r->any_cancel)
		cancel_notified(r);
	if (!r->any_cancel && now - r->cancel_checked_ms >= EXEC_CANCEL_POLL_MS) {
		r->cancel_checked_ms = now;
		cancel_lookup(r);
	}
	return r->any_cancel || *r->ctx->stop;
}

/* --- running a claim --- */

/* The claimed rows being sorted (qsort has no context argument). */
static const PGresult *sorting;

static int cmp_text(int a, int b, int col)
{
	bool na = PQgetisnull(sorting, a, col), nb = PQgetisnull(sorting, b, col);

	if (na || nb)
		return (int)na - (int)nb;
	return strcmp(PQgetvalue(sorting, a, col), PQgetvalue(sorting, b, col));
}

/* Rows `a` and `b` can share an engine run: the same kind, database type
 * and target version, and both or neither of their executions cancelled
 * (a cancelled one must not stop the others' targets). */
static int cmp_group(int a, int b)
{
	int c;

	if ((c = cmp_text(a, b, CL_KIND)) != 0 || (c = cmp_text(a, b, CL_CANCEL)) != 0 ||
	    (c = cmp_text(a, b, CL_TYPE)) != 0)
		return c;
	return cmp_text(a, b, CL_TARGET_VERSION);
}

/* By group, then execution and ordinal. */
static int cmp_rows(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb, c;

	if ((c = cmp_group(a, b)) != 0 || (c = cmp_text(a, b, CL_EXECUTION)) != 0)
		return c;
	return atoi(PQgetvalue(sorting, a, CL_ORDINAL)) - atoi(PQgetvalue(sorting, b, CL_ORDINAL));
}

/* Take claimed row `row` of `res` into the run: a target for the engine
 * (the next engine index), or one recorded at once as not run. */
static void take_row(struct run *r, const PGresult *res, int row)
{
	struct runner_ctx *ctx = r->ctx;
	struct held *h = &r->held_store[r->nheld++];
	const char *id = PQgetvalue(res, row, CL_EXECUTION);
	struct exec_fleet_target *t;
	struct infra_error err;
	struct mig_outcome o;
	const char *why;
	size_t k;

	for (k = 0; k < r->nexec && strcmp(r->executions[k], id) != 0; k++)
		;
	if (k == r->nexec) {
		r->cancel[k] = PQgetvalue(res, row, CL_CANCEL)[0] == 't';
		r->any_cancel |= r->cancel[k];
		r->executions[r->nexec++] = id;
	}
	h->execution_id = id;
	h->ordinal = PQgetvalue(res, row, CL_ORDINAL);
	h->undo = strcmp(PQgetvalue(res, row, CL_KIND), "undo") == 0;
	h->earlier = PQgetvalue(res, row, CL_BEFORE_KNOWN)[0] == 't';
	h->resumed_from = !PQgetisnull(res, row, CL_CURRENT) ? PQgetvalue(res, row, CL_CURRENT)
		: PQgetisnull(res, row, CL_BEFORE) ? NULL : PQgetvalue(res, row, CL_BEFORE);
	/* A closed circuit (the claim read it) needs no question; another
	 * is asked again, for its reason. */
	if (exec_fleet_add_row(&r->fleet, strcmp(PQgetvalue(res, row, CL_CIRCUIT), "closed") == 0
			       ? NULL : &ctx->db, ctx->cfg, res, row, 0, CL_SCHEMA, CL_TYPE, &err) != 0) {
		/* Cannot even ask its circuit: leave the target to its lease;
		 * it is claimed again when that expires. */
		log_error_field("cannot prepare a migration target", h->execution_id, &err);
		return;
	}
	t = &r->fleet.items[r->fleet.n - 1];
	why = t->skip[0] ? t->skip : NULL;
	if (why == NULL && PQgetvalue(res, row, CL_ACTIVE)[0] != 't')
		why = "the database was removed from the registry";
	if (why == NULL && r->set == NULL)
		why = r->set_err.message;
	if (why == NULL) {
		r->held[r->n] = h;
		r->fleet_index[r->n] = r->fleet.n - 1;
		r->targets[r->n++] = (struct mig_target){ .conninfo = t->conninfo, .schema = t->schema,
							  .label = t->name };
		return;
	}
	/* Not run: skipped (an open circuit) or failed (credentials, no
	 * set, a deleted database), with the reason. */
	memset(&o, 0, sizeof(o));
	o.status = MIG_STATUS_FAILED;
	infra_fail(&o.error, INFRA_EMIGRATION, "%s", why);
	run_mark(r, h->execution_id, t->label);
	record(r, h, &o, t->label, t->skip[0] && !t->skip_failed ? "skipped" : NULL);
}

/* The engine has free sessions and nothing waiting: claim more targets of
 * the run's group (new tenants keep arriving during a burst), so that the
 * sessions stay busy instead of the run ending with a tail. Asks the
 * control database at most every EXEC_FEED_IDLE_MS while it has none. */
static size_t on_feed(void *arg, size_t n, size_t room)
{
	struct run *r = arg;
	int64_t now = time_mono_ms();
	struct infra_error err;
	PGresult *res;

	if (*r->ctx->stop || r->any_cancel || r->nfed == r->cap ||
	    now - r->fed_empty_ms < EXEC_FEED_IDLE_MS)
		return 0;
	if (room > r->cap - r->nheld)
		room = r->cap - r->nheld;
	if (room == 0 || (res = claim(r->ctx, r->group, r->group_row, room, &err)) == NULL)
		return 0;
	if (PQntuples(res) == 0) {
		PQclear(res);
		r->fed_empty_ms = now;
		return 0;
	}
	r->fed[r->nfed++] = res;
	for (int i = 0; i < PQntuples(res); i++)
		take_row(r, res, i);
	maybe_flush(r);		/* the rows recorded as not run */
	return r->n - n;
}

/* Run (or record as not run) the claimed rows `rows[0..n)` of `res`:
 * targets of one kind, database type and target version, sorted by
 * execution; and while it runs, more of the same group (on_feed), up to
 * EXEC_CHUNK_FACTOR × MIGRATION_BATCH_SIZE targets in all. */
static void run_group(struct runner_ctx *ctx, const PGresult *res, const int *rows, int n)
{
	struct run r;
	struct mig_options opts;
	struct infra_error err;
	const char *kind = PQgetvalue(res, rows[0], CL_KIND);
	size_t cap = (size_t)ctx->cfg->migration_batch_size * EXEC_CHUNK_FACTOR;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.group = res;
	r.group_row = rows[0];
	r.cap = cap > (size_t)n ? cap : (size_t)n;
	r.executions = calloc(r.cap, sizeof(*r.executions));
	r.cancel = calloc(r.cap, sizeof(*r.cancel));
	r.marked = calloc(r.cap, sizeof(*r.marked));
	r.mark_label = calloc(r.cap, sizeof(*r.mark_label));
	r.fed = calloc(r.cap, sizeof(*r.fed));
	r.held_store = calloc(r.cap, sizeof(*r.held_store));
	r.held = calloc(r.cap, sizeof(*r.held));
	r.fleet_index = calloc(r.cap, sizeof(*r.fleet_index));
	r.outcomes = calloc(r.cap, sizeof(*r.outcomes));
	r.pending = calloc(r.cap, sizeof(*r.pending));
	r.targets = calloc(r.cap, sizeof(*r.targets));
	if (r.executions == NULL || r.cancel == NULL || r.marked == NULL || r.mark_label == NULL ||
	    r.fed == NULL || r.held_store == NULL || r.held == NULL || r.fleet_index == NULL ||
	    r.outcomes == NULL || r.targets == NULL || r.pending == NULL)
		abort();
	r.cancel_checked_ms = time_mono_ms();
	exec_fleet_init(&r.fleet);
	r.set = exec_set_get(ctx->cfg->migrations_root, PQgetvalue(res, rows[0], CL_TYPE), &r.set_err);
	for (int i = 0; i < n; i++)
		take_row(&r, res, rows[i]);
	if (r.n > 0) {
		exec_engine_options(&opts, ctx->cfg, strcmp(kind, "undo") == 0 ? MIG_CMD_UNDO : MIG_CMD_MIGRATE);
		opts.target = PQgetisnull(res, rows[0], CL_TARGET_VERSION)
			? NULL : PQgetvalue(res, rows[0], CL_TARGET_VERSION);
		opts.pool = sessions;
		opts.cb = (struct mig_callbacks){
			.arg = &r, .target_started = on_started, .step_done = on_step,
			.target_finished = on_finished, .cancelled = on_poll,
			.poll_ms = EXEC_FLUSH_MS, .feed = on_feed, .capacity = r.cap,
		};
		mig_run(r.set, &opts, r.targets, r.n, r.outcomes, &err);
		for (size_t k = 0; k < r.n; k++)
			mig_outcome_release(&r.outcomes[k]);
	}
	flush(&r);
	free(r.pending);
	exec_fleet_release(&r.fleet);
	for (size_t k = 0; k < r.nfed; k++)
		PQclear(r.fed[k]);
	free(r.fed);
	free(r.targets);
	free(r.outcomes);
	free(r.fleet_index);
	free(r.held);
	free(r.held_store);
	free(r.executions);
	free(r.cancel);
	free(r.marked);
	free(r.mark_label);
}

/* LISTEN for cancels on this runner's connection (again after it was
 * reopened). */
static void listen_cancels(struct runner_ctx *ctx)
{
	static PGconn *listening_on;
	struct infra_error err;

	if (ctx->db.conn != NULL && ctx->db.conn == listening_on)
		return;
	if (db_exec_command(&ctx->db, &err, "LISTEN " EXEC_CANCEL_CHANNEL, 0, NULL) == 0)
		listening_on = ctx->db.conn;
}

int64_t exec_task(struct runner_ctx *ctx)
{
	static int failures;
	struct infra_error err;
	PGresult *res;
	int n, from = 0, *rows;

	listen_cancels(ctx);
	if (sessions == NULL)
		sessions = mig_pool_new(ctx->cfg->migration_batch_size * EXEC_POOL_FACTOR,
					EXEC_POOL_IDLE_MS);
	mig_pool_prune(sessions, *ctx->stop);
	res = claim(ctx, NULL, 0, 0, &err);
	if (res == NULL) {
		/* The control database is down, or its schema not there yet:
		 * back off from 1 s, doubling up to 8 s. */
		if (failures < 4)
			failures++;
		log_error_field("cannot claim migration targets", NULL, &err);
		return (int64_t)1000 << (failures - 1);
	}
	failures = 0;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return EXEC_IDLE_MS;
	}
	last_renew_ms = time_mono_ms();
	rows = calloc((size_t)n, sizeof(*rows));
	if (rows == NULL)
		abort();
	for (int i = 0; i < n; i++)
		rows[i] = i;
	sorting = res;
	qsort(rows, (size_t)n, sizeof(*rows), cmp_rows);
	sorting = NULL;
	/* One engine run per kind, database type and target version, over
	 * the executions claimed (each marked started as its first target
	 * starts). */
	for (int i = 1; i <= n; i++) {
		sorting = res;
		if (i < n && cmp_group(rows[i], rows[from]) == 0) {
			sorting = NULL;
			continue;
		}
		sorting = NULL;
		run_group(ctx, res, rows + from, i - from);
		from = i;
	}
	free(rows);
	PQclear(res);
	return 0;
}

void exec_task_release(void)
{
	mig_pool_free(sessions);
	sessions = NULL;
}
