/* exec_task.c — the job runners' migration task (see exec_run.h): claim
 * targets of executions under a lease, run them through the engine with
 * bounded parallelism — feeding a running engine more of the same kind as
 * its sessions free up, on sessions kept between runs — keep the leases
 * alive while they run, and watch for cancels. What a run records (marks,
 * outcomes, the executions they end) is exec_record.c's.
 *
 * Runners claim targets, not executions, so one execution spreads over
 * every runner of every host, and a dead runner's targets are taken over
 * by any runner once their lease expires. Running a target again is safe:
 * the engine holds the schema's advisory lock and reads its history first,
 * so nothing is applied twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_recorder.h"
#include "exec_task.h"
#include "log.h"
#include "timeutil.h"

#define EXEC_CHUNK_FACTOR 16		/* claim this many MIGRATION_BATCH_SIZE at once */
#define EXEC_IDLE_MS 1000		/* how often an idle runner looks (new work also wakes it) */
#define EXEC_CANCEL_POLL_MS 500		/* how often a running chunk checks for a cancel */
#define EXEC_FEED_IDLE_MS 50		/* a running engine's feed asks again after finding none */
#define EXEC_POOL_IDLE_MS 30000		/* sessions to targets kept idle this long… */
#define EXEC_POOL_FACTOR 2		/* …at most this many MIGRATION_BATCH_SIZE of them */

/* Columns of a claimed row after EXEC_DB_COLUMNS. */
enum {
	CL_SCHEMA = EXEC_DB_NCOLUMNS, CL_TYPE, CL_EXECUTION, CL_ORDINAL, CL_KIND, CL_TARGET_VERSION,
	CL_BEFORE_KNOWN, CL_BEFORE, CL_CURRENT, CL_CANCEL, CL_ACTIVE, CL_CIRCUIT,
};

static void run_cancel(struct run *r, const char *id)
{
	for (size_t k = 0; k < r->nexec; k++)
		if (strcmp(r->executions[k], id) == 0)
			r->cancel[k] = r->any_cancel = true;
}

static int64_t last_renew_ms;		/* this runner's last lease renewal */
static struct mig_pool *sessions;	/* the engine's sessions kept between runs */

/* --- leases --- */

/* A renewal of this runner's leases, made by the recorder: on the
 * recorder's connection, after the batch it may be writing, never
 * waiting on that batch's row locks from another connection. */
struct renew_job {
	struct recorder_job job;
	const struct runner_ctx *ctx;
	int64_t asked_ms;
	bool renewed;
};

static bool renewing;			/* a renewal is at the recorder */

static void renew_work(struct recorder_job *job, struct db *db)
{
	struct renew_job *j = (struct renew_job *)job;
	char lease[16];
	const char *params[2] = { j->ctx->owner, lease };
	struct infra_error err;

	snprintf(lease, sizeof(lease), "%d", j->ctx->cfg->migration_lease_s);
	j->renewed = db_exec_command(db, &err, "UPDATE execution_targets SET lease_expires_at = "
				     "clock_timestamp() + make_interval(secs => $2::int) "
				     "WHERE lease_owner = $1 AND status = 'in_progress'", 2, params) == 0;
	if (!j->renewed)
		exec_log_warn("cannot renew migration leases", NULL, &err);
}

static void renew_done(struct recorder_job *job)
{
	struct renew_job *j = (struct renew_job *)job;

	if (j->renewed)
		last_renew_ms = j->asked_ms;
	renewing = false;	/* a failed one is tried again at the next callback */
	free(j);
}

/* Push the lease of everything this runner holds, at most every lease/3. */
static void renew_leases(struct runner_ctx *ctx)
{
	int64_t now = time_mono_ms();
	struct renew_job *j;

	if (renewing || now - last_renew_ms < (int64_t)ctx->cfg->migration_lease_s * 1000 / 3)
		return;
	j = recorder_job_new(sizeof(*j), renew_work, renew_done);
	j->ctx = ctx;
	j->asked_ms = now;
	renewing = true;
	recorder_submit(&j->job);
}

/* Claim due targets: the runner's share of them, or with `group` (a
 * claimed row) only targets that can join that row's engine run, at most
 * `room` of them. */
static PGresult *claim(struct db *db, const struct runner_ctx *ctx, const PGresult *group, int row,
		       size_t room, struct infra_error *err)
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
	 * CASE branch is taken). An execution's targets are taken by turn
	 * (migrations/admin/V6): round-robin over their databases, so that
	 * a claim holds some of each and the engine keeps them evenly busy. */
	return db_exec(db, err,
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
		       "ORDER BY e.created_at, t.execution_id, t.turn, t.ordinal "
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

/* --- engine callbacks --- */

static void on_started(void *arg, size_t i, int attempt)
{
	struct run *r = arg;

	(void)attempt;
	r->held[i]->running = true;
	run_mark(r, r->held[i]->execution_id, r->fleet.items[r->fleet_index[i]].label);
}

/* Before a target's first migration commits, make sure where it started
 * is on record: should this runner die after that commit, the next one
 * knows which migrations were this execution's (they are recovered into
 * the target's record). The recorder writes it while the first migration
 * runs; its commit waits for the answer (on_changes_recorded). An earlier
 * claim's record stands. */
static void on_changes_starting(void *arg, size_t i, const char *version_before)
{
	struct run *r = arg;

	run_record_before(r, r->held[i], version_before);
}

static bool on_changes_recorded(void *arg, size_t i)
{
	const struct held *h = ((struct run *)arg)->held[i];

	/* Not for long: with the control database away, the target goes on
	 * (its outcome will say where it started; only this runner dying in
	 * between would lose it), rather than holding its transaction and
	 * locks open through the outage. */
	return h->earlier || h->before_answered ||
	       time_mono_ms() - h->before_asked_ms >= EXEC_BEFORE_WAIT_MS;
}

/* The recorder finished something: take it in. */
static void on_woken(void *arg)
{
	(void)arg;
	recorder_collect();
}

static void on_step(void *arg, size_t i, const struct mig_step *step)
{
	(void)i;
	(void)step;
	renew_leases(((struct run *)arg)->ctx);
}

static void on_finished(void *arg, size_t i, const struct mig_outcome *o)
{
	struct run *r = arg;
	struct held *h = r->held[i];

	h->running = false;
	run_record(r, h, o, r->fleet.items[r->fleet_index[i]].label, NULL);
	run_maybe_flush(r);
	renew_leases(r->ctx);
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

	renew_leases(r->ctx);
	run_maybe_flush(r);
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
		exec_log_warn("cannot prepare a migration target", h->execution_id, &err);
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
	run_record(r, h, &o, t->label, t->skip[0] && !t->skip_failed ? "skipped" : NULL);
}

/* A feed's claim, made by the recorder. */
struct claim_job {
	struct recorder_job job;
	struct run *r;			/* read for its group and context only */
	size_t room;
	PGresult *res;
	struct infra_error err;
};

static void claim_work(struct recorder_job *job, struct db *db)
{
	struct claim_job *c = (struct claim_job *)job;

	c->res = claim(db, c->r->ctx, c->r->group, c->r->group_row, c->room, &c->err);
}

static void claim_done(struct recorder_job *job)
{
	struct claim_job *c = (struct claim_job *)job;
	struct run *r = c->r;

	r->claiming = NULL;
	if (c->res == NULL)
		exec_log_warn("cannot claim more migration targets", NULL, &c->err);
	if (c->res == NULL || PQntuples(c->res) == 0) {
		PQclear(c->res);
		r->fed_empty_ms = time_mono_ms();
	} else {
		r->claimed = c->res;
	}
	free(c);
}

/* Take the rows the last claim brought into the run. */
static void take_claimed(struct run *r)
{
	PGresult *res = r->claimed;

	if (res == NULL)
		return;
	r->claimed = NULL;
	r->fed[r->nfed++] = res;
	for (int i = 0; i < PQntuples(res); i++)
		take_row(r, res, i);
	run_maybe_flush(r);		/* the rows recorded as not run */
}

/* The engine has free sessions and few targets waiting: claim more of the
 * run's group (new tenants keep arriving during a burst), so that the
 * sessions stay busy instead of the run ending with a tail. The recorder
 * claims while the engine runs; its rows join the run at the next call.
 * Asks at most every EXEC_FEED_IDLE_MS while there are none. */
static size_t on_feed(void *arg, size_t n, size_t room, bool *more)
{
	struct run *r = arg;
	struct claim_job *c;

	take_claimed(r);
	if (room > r->cap - r->nheld)
		room = r->cap - r->nheld;
	if (r->claiming == NULL && !*r->ctx->stop && !r->any_cancel && r->nfed < r->cap && room > 0 &&
	    time_mono_ms() - r->fed_empty_ms >= EXEC_FEED_IDLE_MS) {
		c = recorder_job_new(sizeof(*c), claim_work, claim_done);
		c->r = r;
		c->room = room;
		r->claiming = c;
		recorder_submit(&c->job);
		take_claimed(r);	/* a recorder without a thread has claimed already */
	}
	*more = r->claiming != NULL;
	return r->n - n;
}

/* Rows claimed but never run (the engine stopped first): recorded as
 * cancelled before they started — given back unless their own execution
 * was cancelled. */
static void release_unrun(struct run *r)
{
	size_t from = r->n;

	take_claimed(r);
	for (size_t k = from; k < r->n; k++) {
		struct mig_outcome o = { .status = MIG_STATUS_CANCELLED };

		infra_fail(&o.error, INFRA_ECONFLICT, "cancelled before it started");
		run_record(r, r->held[k], &o, r->fleet.items[r->fleet_index[k]].label, NULL);
	}
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
	r.befores = calloc(r.cap, sizeof(*r.befores));
	r.before_versions = calloc(r.cap, sizeof(*r.before_versions));
	if (r.executions == NULL || r.cancel == NULL || r.marked == NULL || r.mark_label == NULL ||
	    r.fed == NULL || r.held_store == NULL || r.held == NULL || r.fleet_index == NULL ||
	    r.outcomes == NULL || r.targets == NULL || r.pending == NULL || r.befores == NULL ||
	    r.before_versions == NULL)
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
			.arg = &r, .target_started = on_started,
			.changes_starting = on_changes_starting, .changes_recorded = on_changes_recorded,
			.step_done = on_step, .target_finished = on_finished, .cancelled = on_poll,
			.poll_ms = EXEC_FLUSH_MS, .feed = on_feed, .capacity = r.cap,
			.wake_fd = recorder_fd(), .woken = recorder_fd() >= 0 ? on_woken : NULL,
		};
		mig_run(r.set, &opts, r.targets, r.n, r.outcomes, &err);
	}
	recorder_wait();
	release_unrun(&r);
	run_flush(&r);
	for (size_t k = 0; k < r.n; k++)
		mig_outcome_release(&r.outcomes[k]);
	free(r.befores);
	free(r.before_versions);
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
	recorder_start(ctx->cfg);
	if (sessions == NULL)
		sessions = mig_pool_new(ctx->cfg->migration_batch_size * EXEC_POOL_FACTOR,
					EXEC_POOL_IDLE_MS);
	mig_pool_prune(sessions, *ctx->stop);
	res = claim(&ctx->db, ctx, NULL, 0, 0, &err);
	if (res == NULL) {
		/* The control database is down, or its schema not there yet:
		 * back off from 1 s, doubling up to 8 s. */
		if (failures < 4)
			failures++;
		exec_log_warn("cannot claim migration targets", NULL, &err);
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
	recorder_stop();
	mig_pool_free(sessions);
	sessions = NULL;
}
