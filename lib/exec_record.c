/* exec_record.c — what the runners' migration task records of an engine
 * run (see exec_task.h): executions marked started, where each target
 * starts, each target's outcome with what it applied (and what a dead
 * runner's claim applied before it), the executions those end, and their
 * events. All of it goes through the recorder (exec_recorder.h), so the
 * engine never waits for it: marks and outcomes gather into batches, each
 * written in one transaction of a few statements whatever the number of
 * targets and executions (retried through a control-database outage),
 * the next batch growing while the recorder writes one; where targets
 * start, likewise, in one statement per lot. A target handed back when
 * this runner stops is written at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_recorder.h"
#include "exec_task.h"
#include "log.h"
#include "timeutil.h"
#include "xalloc.h"

/* The index of execution `id` in the run. */
size_t run_execution(const struct run *r, const char *id)
{
	for (size_t k = 0; k < r->nexec; k++)
		if (strcmp(r->executions[k], id) == 0)
			return k;
	abort();	/* every held target's execution is in the run */
}

void exec_log_warn(const char *msg, const char *subject, const struct infra_error *err)
{
	json_object *f = json_object_new_object();

	if (subject != NULL)
		json_object_object_add(f, "execution_id", json_object_new_string(subject));
	json_object_object_add(f, "error", json_object_new_string(err->message));
	log_emit(LOG_LEVEL_WARN, msg, f);
}

/* --- outcomes --- */

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
	case MIG_STATUS_CANCELLED: return r->cancel[run_execution(r, h->execution_id)] ? "cancelled" : NULL;
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
const char *run_still_running(const struct run *r, const char *id)
{
	for (size_t k = 0; k < r->n; k++)
		if (r->held[k]->running && strcmp(r->held[k]->execution_id, id) == 0)
			return r->fleet.items[r->fleet_index[k]].label;
	return NULL;
}

/* Give a target back (this runner stops), retried like a batch. */
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
			exec_log_warn("cannot give a migration target back; it runs again when its "
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

/* --- batches --- */

/* Marks and outcomes on their way to the control database: what the run
 * had buffered when it handed them to the recorder — the marks, the
 * executions touched and the labels of their targets still running as
 * array parameters, built on the engine's thread — and what writing them
 * found out. The recorder's thread reads the run only for its owner and
 * stop flag, which never change. */
struct flush {
	struct recorder_job job;
	struct run *r;
	struct pending *pending;	/* owned */
	size_t npending;
	struct db_array touched, mark_ids, mark_labels, running_ids, running_labels;
	bool given_up;			/* nothing written: the leases run out instead */
	char **ended;			/* executions this batch ended, and… */
	const char **ended_status;	/* …how (static) */
	size_t nended;
};

/* Mark started the executions whose first target started since the last
 * flush: in_progress, naming that target, with a `progress` event for
 * those that were pending. */
static int write_marks(struct flush *f, struct db *db, struct exec_event_batch *events,
		       struct infra_error *err)
{
	struct strbuf sql = STRBUF_INIT;
	const char *params[2];
	PGresult *res;

	if (f->mark_ids.n == 0)
		return 0;
	params[0] = db_array_text(&f->mark_ids);
	params[1] = db_array_text(&f->mark_labels);
	strbuf_addf(&sql, "WITH m AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS m (id, label)), "
		    "old AS (SELECT e.id, e.status, m.label FROM executions e JOIN m ON m.id = e.id) "
		    "UPDATE executions e SET status = 'in_progress', current_target = old.label, "
		    "started_at = coalesce(e.started_at, clock_timestamp()), "
		    "event_seq = e.event_seq + (old.status = 'pending')::int FROM old "
		    "WHERE e.id = old.id AND old.status IN ('pending', 'in_progress') "
		    "RETURNING %s, old.status = 'pending'", exec_columns_sql);
	res = db_exec(db, err, sql.buf, 2, params);
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

/* Write the batch's outcomes, of any number of executions, in one
 * statement: each target's row, its execution's counters, and the label
 * of a target of it still running. Returns the rows — each execution's
 * (exec_columns_sql) joined with each of its targets written (ordinal,
 * exec_target_columns_sql), by execution and ordinal — or NULL with
 * `err`. */
static PGresult *write_outcomes(struct flush *f, struct db *db, struct infra_error *err)
{
	enum { IDS, ORDINALS, STATUSES, ATTEMPTS, APPLIED, BEFORE, AFTER, ERRORS, NARRAYS };
	struct db_array a[NARRAYS];
	struct strbuf sql = STRBUF_INIT;
	const char *params[NARRAYS + 3];
	PGresult *res;

	for (int k = 0; k < NARRAYS; k++)
		a[k] = (struct db_array)DB_ARRAY_INIT;
	/* The outcomes go in as arrays, one element per target. */
	for (size_t i = 0; i < f->npending; i++) {
		const struct pending *p = &f->pending[i];

		db_array_push(&a[IDS], p->h->execution_id);
		db_array_push(&a[ORDINALS], p->h->ordinal);
		db_array_push(&a[STATUSES], p->status);
		db_array_pushf(&a[ATTEMPTS], "%d", p->attempts);
		db_array_push(&a[APPLIED], p->applied);
		db_array_push(&a[BEFORE], p->before);
		db_array_push(&a[AFTER], p->after);
		db_array_push(&a[ERRORS], p->error);
	}
	for (int k = 0; k < NARRAYS; k++)
		params[k] = db_array_text(&a[k]);
	params[NARRAYS] = db_array_text(&f->running_ids);
	params[NARRAYS + 1] = db_array_text(&f->running_labels);
	params[NARRAYS + 2] = f->r->ctx->owner;
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
	res = db_exec(db, err, sql.buf, NARRAYS + 3, params);
	for (int k = 0; k < NARRAYS; k++)
		db_array_release(&a[k]);
	strbuf_release(&sql);
	return res;
}

/* The events of the outcomes written (rows of write_outcomes, an
 * execution's rows together): a `target` event each, then the execution's
 * `progress`; which outcomes were still ours; and in groups[] the first
 * row of each execution. Returns the number of executions. */
static int outcome_events(struct flush *f, const PGresult *res, struct exec_event_batch *events,
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
			for (size_t j = 0; j < f->npending; j++)
				if (strcmp(f->pending[j].h->ordinal, ordinal) == 0 &&
				    strcmp(f->pending[j].h->execution_id, id) == 0)
					f->pending[j].written = true;
		}
		exec = exec_json_from_row(res, from, time_wall_s());
		exec_event_batch_add(events, id, seq, "progress", exec_progress_event(exec));
		json_object_put(exec);
		groups[ngroups++] = from;
	}
	return ngroups;
}

/* The batch — executions to mark started, outcomes, the executions they
 * end, and all of their events — in one transaction of a few statements,
 * whatever the number of targets and executions. The executions' rows are
 * locked first, in id order (two runners flushing targets of the same
 * executions never deadlock; exec_store.c's lock order). Which executions
 * ended goes to f->ended. Returns 0, or -1 with `err` (nothing written). */
static int write_all(struct flush *f, struct db *db, struct infra_error *err)
{
	struct exec_event_batch events = { 0 };
	const char *params[1], **ended = NULL;
	PGresult *res = NULL;
	int rc = -1, *groups = NULL, ngroups = 0;

	for (size_t i = 0; i < f->npending; i++)
		f->pending[i].written = false;
	params[0] = db_array_text(&f->touched);
	if (db_begin(db, err) != 0 ||
	    db_exec_command(db, err, "SELECT 1 FROM executions WHERE id = ANY($1::uuid[]) "
			    "ORDER BY id FOR UPDATE", 1, params) != 0 ||
	    write_marks(f, db, &events, err) != 0)
		goto out;
	if (f->npending > 0) {
		if ((res = write_outcomes(f, db, err)) == NULL)
			goto out;
		groups = calloc((size_t)PQntuples(res) + 1, sizeof(*groups));
		ended = calloc((size_t)PQntuples(res) + 1, sizeof(*ended));
		if (groups == NULL || ended == NULL)
			abort();
		ngroups = outcome_events(f, res, &events, groups);
		if (exec_finish_done(db, res, groups, ngroups, ended, &events, err) != 0)
			goto out;
	}
	if (exec_event_batch_commit(db, &events, err) != 0)
		goto out;
	f->ended = calloc((size_t)ngroups + 1, sizeof(*f->ended));
	f->ended_status = calloc((size_t)ngroups + 1, sizeof(*f->ended_status));
	if (f->ended == NULL || f->ended_status == NULL)
		abort();
	for (int g = 0; g < ngroups; g++) {
		if (ended[g] == NULL)
			continue;
		f->ended[f->nended] = xstrdup(PQgetvalue(res, groups[g], EXEC_C_ID));
		f->ended_status[f->nended++] = ended[g];
	}
	rc = 0;
out:
	if (rc != 0) {
		db_rollback(db);
		for (size_t i = 0; i < f->npending; i++)
			f->pending[i].written = false;
	}
	exec_event_batch_release(&events);
	PQclear(res);
	free(groups);
	free(ended);
	return rc;
}

/* On the recorder's thread: write the batch, retried with backoff through
 * an outage of the control database until written or given up (another
 * error, again and again; or this runner must stop). An outcome is never
 * dropped while this runner holds the target; if it is given up, the
 * lease expires and another runner runs the target again (harmlessly:
 * the engine reads the history). */
static void flush_work(struct recorder_job *job, struct db *db)
{
	struct flush *f = (struct flush *)job;
	struct infra_error err;
	int64_t backoff = EXEC_RETRY_MIN_MS;
	int hard = 0;

	while (write_all(f, db, &err) != 0) {
		if (err.kind != INFRA_EUNAVAIL)
			hard++;
		if (hard >= EXEC_RETRY_HARD_ERRORS || (*f->r->ctx->stop && backoff >= EXEC_RETRY_MAX_MS)) {
			exec_log_warn("giving up recording migration outcomes; their targets run "
					"again when their lease expires", NULL, &err);
			f->given_up = true;
			return;
		}
		exec_log_warn("cannot record migration outcomes; retrying", NULL, &err);
		time_sleep_ms(backoff);
		backoff = backoff * 2 > EXEC_RETRY_MAX_MS ? EXEC_RETRY_MAX_MS : backoff * 2;
	}
}

static void flush_free(struct flush *f)
{
	for (size_t i = 0; i < f->npending; i++)
		pending_release(&f->pending[i]);
	free(f->pending);
	db_array_release(&f->touched);
	db_array_release(&f->mark_ids);
	db_array_release(&f->mark_labels);
	db_array_release(&f->running_ids);
	db_array_release(&f->running_labels);
	for (size_t k = 0; k < f->nended; k++)
		free(f->ended[k]);
	free(f->ended);
	free(f->ended_status);
	free(f);
}

/* Back on the engine's thread: count and log what the batch wrote, and
 * hand over the next one if it is due. */
static void flush_done(struct recorder_job *job)
{
	struct flush *f = (struct flush *)job;
	struct run *r = f->r;

	for (size_t i = 0; !f->given_up && i < f->npending; i++) {
		json_object *o;

		if (f->pending[i].written) {
			exec_metrics_target(f->pending[i].status);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "execution_id", json_object_new_string(f->pending[i].h->execution_id));
		json_object_object_add(o, "target", json_object_new_string(f->pending[i].label));
		log_emit(LOG_LEVEL_WARN, "migration lease lost; another runner records this target", o);
	}
	for (size_t k = 0; k < f->nended; k++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "execution_id", json_object_new_string(f->ended[k]));
		json_object_object_add(o, "status", json_object_new_string(f->ended_status[k]));
		log_emit(LOG_LEVEL_INFO, "migration execution finished", o);
		exec_metrics_execution(f->ended_status[k]);
	}
	flush_free(f);
	r->flushing = NULL;
	run_maybe_flush(r);
}

/* Whether execution `id` has a mark or an outcome in batch `f`. */
static bool batch_touches(const struct flush *f, const struct run *r, size_t k)
{
	if (r->mark_label[k] != NULL)
		return true;
	for (size_t i = 0; i < f->npending; i++)
		if (strcmp(f->pending[i].h->execution_id, r->executions[k]) == 0)
			return true;
	return false;
}

/* Hand everything buffered to the recorder as one batch. */
static void flush_submit(struct run *r)
{
	struct flush *f = recorder_job_new(sizeof(*f), flush_work, flush_done);

	if ((f->pending = calloc(r->npending + 1, sizeof(*f->pending))) == NULL)
		abort();
	f->r = r;
	f->touched = f->mark_ids = f->mark_labels = (struct db_array)DB_ARRAY_INIT;
	f->running_ids = f->running_labels = (struct db_array)DB_ARRAY_INIT;
	memcpy(f->pending, r->pending, r->npending * sizeof(*f->pending));
	f->npending = r->npending;
	memset(r->pending, 0, r->npending * sizeof(*r->pending));
	r->npending = 0;
	for (size_t k = 0; k < r->nexec; k++) {
		const char *label;

		if (!batch_touches(f, r, k))
			continue;
		db_array_push(&f->touched, r->executions[k]);
		if (r->mark_label[k] != NULL) {
			db_array_push(&f->mark_ids, r->executions[k]);
			db_array_push(&f->mark_labels, r->mark_label[k]);
			r->mark_label[k] = NULL;
		}
		if ((label = run_still_running(r, r->executions[k])) != NULL) {
			db_array_push(&f->running_ids, r->executions[k]);
			db_array_push(&f->running_labels, label);
		}
	}
	r->nmarks = 0;
	r->flushing = f;
	recorder_submit(&f->job);
}

void run_maybe_flush(struct run *r)
{
	if (r->flushing == NULL && (r->npending > 0 || r->nmarks > 0) &&
	    (r->npending >= (size_t)r->ctx->cfg->migration_batch_size ||
	     time_mono_ms() - r->pending_since_ms >= EXEC_FLUSH_MS))
		flush_submit(r);
}

void run_flush(struct run *r)
{
	for (;;) {
		recorder_wait();	/* nothing of the run's is at the recorder after it */
		if (r->npending == 0 && r->nmarks == 0)
			return;
		flush_submit(r);
	}
}

/* Record what happened to a target: written with others by the next batch,
 * or, for a target given back (this runner stops), at once. */
void run_record(struct run *r, const struct held *h, const struct mig_outcome *o,
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

/* Mark execution `id` started when the first of its targets in this run
 * starts (or is recorded as not run), with the next batch: the engine runs
 * meanwhile, and the marks of a burst of executions are written together. */
void run_mark(struct run *r, const char *id, const char *label)
{
	size_t k = run_execution(r, id);

	if (r->marked[k])
		return;
	r->marked[k] = true;
	r->mark_label[k] = label;
	if (r->npending == 0 && r->nmarks == 0)
		r->pending_since_ms = time_mono_ms();
	r->nmarks++;
}

/* --- where targets start --- */

/* Where some targets start, on their way to the control database. */
struct before_job {
	struct recorder_job job;
	struct run *r;
	struct held **held;		/* owned array */
	bool *written;			/* per target: its row took it */
	size_t n;
	struct db_array ids, ordinals, versions;
};

/* On the recorder's thread: one statement for the lot; an earlier claim's
 * record stands, and a target no longer ours is left alone. Tried once:
 * should it fail, the targets go on regardless (their outcome records
 * where they started, and only a runner dying in between loses it). */
static void before_work(struct recorder_job *job, struct db *db)
{
	struct before_job *b = (struct before_job *)job;
	const char *params[4] = {
		db_array_text(&b->ids), db_array_text(&b->ordinals), db_array_text(&b->versions),
		b->r->ctx->owner,
	};
	struct infra_error err;
	PGresult *res = db_exec(db, &err, "UPDATE execution_targets t SET version_before = b.version, "
				"before_known = true FROM unnest($1::uuid[], $2::int[], $3::text[]) "
				"AS b (execution_id, ordinal, version) WHERE t.execution_id = b.execution_id "
				"AND t.ordinal = b.ordinal AND t.lease_owner = $4 AND NOT t.before_known "
				"RETURNING t.execution_id, t.ordinal", 4, params);

	if (res == NULL) {
		exec_log_warn("cannot record where migration targets start", NULL, &err);
		return;
	}
	for (int row = 0; row < PQntuples(res); row++)
		for (size_t i = 0; i < b->n; i++)
			if (strcmp(b->held[i]->execution_id, PQgetvalue(res, row, 0)) == 0 &&
			    strcmp(b->held[i]->ordinal, PQgetvalue(res, row, 1)) == 0)
				b->written[i] = true;
	PQclear(res);
}

static void before_submit(struct run *r);

/* Back on the engine's thread: the targets may commit now. */
static void before_done(struct recorder_job *job)
{
	struct before_job *b = (struct before_job *)job;
	struct run *r = b->r;

	for (size_t i = 0; i < b->n; i++) {
		b->held[i]->before_answered = true;
		b->held[i]->before_written = b->written[i];
	}
	db_array_release(&b->ids);
	db_array_release(&b->ordinals);
	db_array_release(&b->versions);
	free(b->held);
	free(b->written);
	free(b);
	r->writing_befores = NULL;
	if (r->nbefores > 0)
		before_submit(r);
}

static void before_submit(struct run *r)
{
	struct before_job *b = recorder_job_new(sizeof(*b), before_work, before_done);

	if ((b->held = calloc(r->nbefores, sizeof(*b->held))) == NULL ||
	    (b->written = calloc(r->nbefores, sizeof(*b->written))) == NULL)
		abort();
	b->r = r;
	b->ids = b->ordinals = b->versions = (struct db_array)DB_ARRAY_INIT;
	for (size_t i = 0; i < r->nbefores; i++) {
		b->held[i] = r->befores[i];
		db_array_push(&b->ids, r->befores[i]->execution_id);
		db_array_push(&b->ordinals, r->befores[i]->ordinal);
		db_array_push(&b->versions, r->before_versions[i]);
		free(r->before_versions[i]);
		r->before_versions[i] = NULL;
	}
	b->n = r->nbefores;
	r->nbefores = 0;
	r->writing_befores = b;
	recorder_submit(&b->job);
}

void run_record_before(struct run *r, struct held *h, const char *version_before)
{
	if (h->earlier || h->before_queued)
		return;
	h->before_queued = true;
	h->before_asked_ms = time_mono_ms();
	r->befores[r->nbefores] = h;
	r->before_versions[r->nbefores++] = version_before ? xstrdup(version_before) : NULL;
	/* While the recorder writes one lot, the next one gathers. */
	if (r->writing_befores == NULL)
		before_submit(r);
}
