/* mig_target.c — one target's run of a migration command, as a state
 * machine of round trips on one session (see mig_task.h).
 *
 * Writers (migrate, repair, baseline, undo): settings + advisory lock +
 * what exists in one pipeline; the history table created if missing; the
 * history read; then each script in its own transaction with its history
 * row (or statement by statement outside one, recording a failure), and
 * DISCARD ALL to give back the lock and the settings. Readers (info,
 * validate, plan) only look at what exists and read the history. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mig_alloc.h"
#include "mig_task.h"
#include "timeutil.h"

static bool is_writer(enum mig_command cmd)
{
	return cmd == MIG_CMD_MIGRATE || cmd == MIG_CMD_REPAIR || cmd == MIG_CMD_BASELINE ||
	       cmd == MIG_CMD_UNDO;
}

static const struct mig_options *opts_of(const struct mig_task *t)
{
	return t->shared->opts;
}

void mig_task_reset(struct mig_task *t)
{
	if (t->ident != NULL)
		PQfreemem(t->ident);
	t->ident = NULL;
	free(t->user);
	free(t->database);
	t->user = t->database = NULL;
	if (t->have_plan)
		mig_plan_release(&t->plan);
	t->have_plan = false;
	mig_history_release(&t->history);
	if (t->todo_owned)
		free(t->todo);
	t->todo = NULL;
	t->todo_owned = false;
	t->ntodo = t->itodo = 0;
	strbuf_release(&t->text);
	strbuf_release(&t->stmt);
	strbuf_release(&t->sql);
	free(t->stmts);
	t->stmts = NULL;
	t->cur_stmts = NULL;
	t->ncur_stmts = t->istmt = 0;
	t->schema_exists = t->table_exists = t->schema_nonempty = false;
	t->close_session = false;
	t->may_commit = t->held_in_transaction = t->record_sent = false;
	infra_error_clear(&t->pending_error);
	t->pending_sqlstate[0] = '\0';
}

/* End the attempt with a failure. A transient one may be retried. */
static enum mig_task_result fail(struct mig_task *t, bool transient, const char *sqlstate,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum mig_task_result fail(struct mig_task *t, bool transient, const char *sqlstate,
				 const char *fmt, ...)
{
	va_list ap;

	t->out->error.kind = transient ? INFRA_EUNAVAIL : INFRA_EMIGRATION;
	va_start(ap, fmt);
	vsnprintf(t->out->error.message, sizeof(t->out->error.message), fmt, ap);
	va_end(ap);
	t->out->error.field[0] = '\0';
	snprintf(t->out->sqlstate, sizeof(t->out->sqlstate), "%s", sqlstate ? sqlstate : "");
	t->out->status = MIG_STATUS_FAILED;
	return transient ? TASK_RETRY : TASK_FAILED;
}

enum mig_task_result mig_task_broken(struct mig_task *t, const char *why)
{
	return fail(t, true, "08006", "%s", why);
}

/* The 1-based line of character `pos` (1-based, as the server counts) of
 * `text`, which began with `skip_lines` lines we added. */
static int line_of_position(const char *text, long pos, int skip_lines)
{
	const unsigned char *p = (const unsigned char *)text;
	int line = 1;

	for (long chars = 1; *p && chars < pos; p++) {
		if ((*p & 0xC0) != 0x80)
			chars++;
		if (*p == '\n')
			line++;
	}
	return line - skip_lines;
}

/* Describe a failed result for an operator: "line N: <primary message>".
 * The line comes from the server's position in `text` (which began with
 * `skip_lines` lines the engine added, and is line `base_line` on of the
 * script) or, without one, is `fallback_line` (0: no line known). */
static void server_error(const PGresult *res, const char *text, int skip_lines, int base_line,
			 int fallback_line, char *out, size_t outlen)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	int line = fallback_line;

	if (msg == NULL)
		msg = PQresultErrorMessage(res);
	if (pos != NULL && text != NULL)
		line = base_line - 1 + line_of_position(text, strtol(pos, NULL, 10), skip_lines);
	if (line > 0)
		snprintf(out, outlen, "line %d: %.*s", line, (int)strcspn(msg, "\n"), msg);
	else
		snprintf(out, outlen, "%.*s", (int)strcspn(msg, "\n"), msg);
}

static const char *sqlstate_of(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

/* A failed history statement: transient by its SQLSTATE. */
static enum mig_task_result fail_result(struct mig_task *t, const PGresult *res, const char *what)
{
	char msg[200];
	const char *state = sqlstate_of(res);

	server_error(res, NULL, 0, 1, 0, msg, sizeof(msg));
	return fail(t, mig_sqlstate_transient(state), state, "%s: %s", what, msg);
}

static int send_queued(struct mig_task *t, enum mig_task_step step)
{
	t->step = step;
	return mig_session_send_queued(t->sess);
}

static enum mig_task_result sent(struct mig_task *t, int rc)
{
	if (rc != 0)
		return mig_task_broken(t, t->sess->error);
	return TASK_AGAIN;
}

/* ---- starting: settings, lock, what exists ---- */

/* Whether the schema and its history table exist: two index lookups. */
static const char state_sql[] =
	"SELECT n.oid IS NOT NULL, h.oid IS NOT NULL"
	" FROM (SELECT $1::name AS nspname) x"
	" LEFT JOIN pg_namespace n ON n.nspname = x.nspname"
	" LEFT JOIN pg_class h ON h.relnamespace = n.oid AND h.relname = '" MIG_HISTORY_TABLE "'";

/* Whether a schema holds anything (a table, view, sequence, function,
 * type, …): every object in a schema has a dependency on it, and
 * pg_depend is indexed by what is depended on — one index lookup, where
 * scanning pg_class, pg_proc and pg_type grows with every tenant the
 * database holds. Runs only for a schema that exists without a history
 * table, before migrate takes it over. */
static const char nonempty_sql[] =
	"SELECT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_namespace n ON d.refobjid = n.oid"
	"               WHERE d.refclassid = 'pg_namespace'::regclass AND n.nspname = $1)";

enum mig_task_result mig_task_start(struct mig_task *t)
{
	const struct mig_options *o = opts_of(t);
	const char *schema = t->target->schema;

	t->ident = PQescapeIdentifier(t->sess->pg, schema, strlen(schema));
	if (t->ident == NULL)
		return fail(t, false, NULL, "schema name '%s' cannot be quoted", schema);
	t->out->attempts = t->attempt;
	if (is_writer(o->command)) {
		struct strbuf quoted = STRBUF_INIT;
		char timeout[16], key[24];
		const char *p0[2], *p1[1] = { key };

		/* Flyway's defaultSchema: the schema first on the search path,
		 * the session's own path after it. */
		mig_history_quote(&quoted, schema);
		snprintf(timeout, sizeof(timeout), "%d", o->statement_timeout_ms);
		snprintf(key, sizeof(key), "%lld", (long long)mig_history_lock_key(schema));
		p0[0] = quoted.buf;
		p0[1] = timeout;
		mig_session_queue(t->sess,
				  "SELECT current_user, current_database(),"
				  " set_config('search_path', concat_ws(', ', $1::text,"
				  "            NULLIF(current_setting('search_path'), '')), false),"
				  " set_config('statement_timeout', $2, false),"
				  " set_config('TimeZone', 'UTC', false)",
				  2, p0);
		mig_session_queue(t->sess, "SELECT pg_advisory_lock($1)", 1, p1);
		strbuf_release(&quoted);
	} else {
		mig_session_queue(t->sess, "SELECT current_user, current_database()", 0, NULL);
	}
	mig_session_queue(t->sess, state_sql, 1, &schema);
	return sent(t, send_queued(t, TASK_STEP_SETUP));
}

/* ---- the outcome ---- */

static const char *category_of(const struct mig_info *in)
{
	const struct mig_applied *a = in->applied;

	if (a != NULL) {
		if (strcmp(a->type, "SCHEMA") == 0)
			return "schema";
		if (strcmp(a->type, "BASELINE") == 0 || strcmp(a->type, "INIT") == 0)
			return "baseline";
		if (strcmp(a->type, "UNDO_SQL") == 0)
			return "undo";
		if (strcmp(a->type, "DELETE") == 0)
			return "delete";
		return a->version ? "versioned" : "repeatable";
	}
	return in->resolved->version ? "versioned" : "repeatable";
}

static void copy_row(struct mig_info_row *row, const struct mig_info *in)
{
	const struct mig_applied *a = in->applied;
	const struct mig_script *r = in->resolved;

	memset(row, 0, sizeof(*row));
	row->state = mig_state_name(in->state);
	row->category = category_of(in);
	row->version = mig_strdup(a ? a->version : r->version);
	row->description = mig_strdup(a ? a->description : r->description);
	row->type = mig_strdup(a ? a->type : mig_script_type(r));
	row->script = mig_strdup(a ? a->script : r->script);
	row->has_checksum = a ? a->has_checksum : true;
	row->checksum = a ? a->checksum : r->checksum;
	if (a != NULL) {
		row->installed_rank = a->rank;
		row->installed_on = mig_strdup(a->installed_on);
		row->installed_by = mig_strdup(a->installed_by);
		row->execution_time = a->execution_time;
	}
}

/* Copy the info rows (all, or only the pending ones) into the outcome. */
static void report_rows(struct mig_task *t, bool pending_only)
{
	const struct mig_plan *p = &t->plan;

	t->out->rows = mig_calloc(p->ninfos, sizeof(*t->out->rows));
	for (size_t i = 0; i < p->ninfos; i++) {
		const struct mig_info *in = &p->infos[i];
		bool pending = in->state == MIG_STATE_PENDING || in->state == MIG_STATE_OUTDATED;

		if (pending_only && !pending)
			continue;
		copy_row(&t->out->rows[t->out->nrows++], in);
	}
}

static void report_problems(struct mig_task *t)
{
	const struct mig_plan *p = &t->plan;

	if (p->nproblems == 0)
		return;
	t->out->problems = mig_calloc(p->nproblems, sizeof(*t->out->problems));
	memcpy(t->out->problems, p->problems, p->nproblems * sizeof(*p->problems));
	t->out->nproblems = p->nproblems;
}

/* The attempt succeeded: readers are done, writers give their session back
 * in its original state (DISCARD ALL also releases the advisory lock). */
static enum mig_task_result finish(struct mig_task *t)
{
	if (t->out->status != MIG_STATUS_CANCELLED) {
		t->out->status = MIG_STATUS_OK;
		infra_error_clear(&t->out->error);	/* from an attempt retried */
		t->out->sqlstate[0] = '\0';
	}
	if (!is_writer(opts_of(t)->command))
		return TASK_DONE;
	t->step = TASK_STEP_RELEASE;
	return sent(t, mig_session_send_simple(t->sess, "DISCARD ALL"));
}

/* ---- running scripts ---- */

static void record_step(struct mig_task *t, const struct mig_script *sc, int ms)
{
	struct mig_outcome *o = t->out;
	struct mig_step *st;
	const struct mig_callbacks *cb = &opts_of(t)->cb;

	if ((o->nsteps & (o->nsteps - 1)) == 0) {	/* grow at powers of two */
		o->steps = mig_realloc(o->steps, (o->nsteps ? o->nsteps * 2 : 1) * sizeof(*o->steps));
	}
	st = &o->steps[o->nsteps++];
	st->version = mig_strdup(sc->version);
	st->description = mig_strdup(sc->description);
	st->script = mig_strdup(sc->script);
	st->type = mig_script_type(sc);
	st->execution_ms = ms;
	if (sc->kind == MIG_VERSIONED &&
	    (o->version_after == NULL || mig_version_cmp(sc->version, o->version_after) > 0)) {
		free(o->version_after);
		o->version_after = mig_strdup(sc->version);
	}
	if (cb->step_done != NULL)
		cb->step_done(cb->arg, t->index, st);
}

/* Queue the history row of script `sc`, the current one: its rank
 * follows the rows of the scripts before it. */
static void queue_history_row(struct mig_task *t, const struct mig_script *sc, int ms,
			      bool success)
{
	const struct mig_options *o = opts_of(t);
	struct strbuf desc = STRBUF_INIT, script = STRBUF_INIT;
	char rank[16], sum[16], time_ms[16];
	const char *p[9];

	mig_history_abbreviate_description(&desc, sc->description);
	mig_history_abbreviate_script(&script, sc->script);
	snprintf(rank, sizeof(rank), "%d", t->next_rank + (int)t->itodo);
	snprintf(sum, sizeof(sum), "%d", (int)sc->checksum);
	snprintf(time_ms, sizeof(time_ms), "%d", ms);
	p[0] = rank;
	p[1] = sc->version;
	p[2] = desc.buf;
	p[3] = mig_script_type(sc);
	p[4] = script.buf;
	p[5] = sum;
	p[6] = o->installed_by;
	p[7] = ms >= 0 ? time_ms : NULL;	/* the server measures it */
	p[8] = success ? "true" : "false";
	mig_history_insert_sql(&t->sql, t->ident);
	mig_session_queue(t->sess, t->sql.buf, 9, p);
	strbuf_release(&desc);
	strbuf_release(&script);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The script's text with its placeholders replaced, into t->text. */
static int expand(struct mig_task *t, const struct mig_script *sc)
{
	struct mig_builtins bi = {
		.default_schema = t->target->schema,
		.user = t->user,
		.database = t->database,
		.timestamp = t->shared->timestamp,
		.filename = basename_of(sc->script),
		.working_directory = t->shared->cwd,
		.table = MIG_HISTORY_TABLE,
	};
	struct mig_placeholders none;
	const struct mig_placeholders *ph = opts_of(t)->placeholders;

	mig_placeholders_init(&none);
	return mig_placeholders_expand(ph ? ph : &none, &bi, sc->sql, sc->sql_len, sc->script,
				       &t->text, &t->out->error);
}

/* Statement `k` of the current script, in t->stmt. */
static const char *statement_text(struct mig_task *t, size_t k)
{
	const struct mig_stmt *st = &t->cur_stmts[k];
	const char *base = t->text.len ? t->text.buf : t->todo[t->itodo]->sql;

	strbuf_reset(&t->stmt);
	strbuf_add(&t->stmt, base + st->off, st->len);
	return t->stmt.buf;
}

static enum mig_task_result send_statement(struct mig_task *t)
{
	t->step = TASK_STEP_APPLY_STMT;
	return sent(t, mig_session_send_simple(t->sess, statement_text(t, t->istmt)));
}

/* The current script's statements in t->cur_stmts: split when read, or
 * again after its placeholders were expanded. 0, or -1 (the outcome
 * says why). */
static int script_statements(struct mig_task *t, const struct mig_script *sc)
{
	size_t n;

	free(t->stmts);
	t->stmts = NULL;
	if (!sc->placeholders) {
		t->cur_stmts = sc->stmts;
		t->ncur_stmts = sc->nstmts;
		return 0;
	}
	if (mig_sql_split(t->text.buf, t->text.len, &t->stmts, &n, &t->out->error) != 0) {
		t->out->status = MIG_STATUS_FAILED;
		return -1;
	}
	t->cur_stmts = t->stmts;
	t->ncur_stmts = n;
	return 0;
}

static enum mig_task_result record(struct mig_task *t, bool commit);

/* Whether the target's first change may commit (cb.changes_recorded);
 * asked only until it says yes. */
static bool may_commit(struct mig_task *t)
{
	const struct mig_callbacks *cb = &opts_of(t)->cb;

	if (!t->may_commit)
		t->may_commit = cb->changes_recorded == NULL || cb->changes_recorded(cb->arg, t->index);
	return t->may_commit;
}

/* Hold the first commit until may_commit(): the scheduler polls nothing
 * for this session meanwhile and calls mig_task_resume(). */
static enum mig_task_result hold(struct mig_task *t, bool in_transaction)
{
	t->step = TASK_STEP_HELD;
	t->held_in_transaction = in_transaction;
	return TASK_AGAIN;
}

/* Run the current script's statements outside a transaction, one at a
 * time (none: just its history row). */
static enum mig_task_result run_statements(struct mig_task *t)
{
	t->istmt = 0;
	if (t->ncur_stmts == 0)
		return record(t, false);
	return send_statement(t);
}

enum mig_task_result mig_task_resume(struct mig_task *t)
{
	if (!may_commit(t))
		return TASK_AGAIN;
	return t->held_in_transaction ? record(t, true) : run_statements(t);
}

/* Start the next script, or finish. */
static enum mig_task_result apply_next(struct mig_task *t)
{
	const struct mig_script *sc;

	if (t->itodo >= t->ntodo)
		return finish(t);
	/* Between two migrations: ask the caller now, so a cancel stops the
	 * target after its current migration (the fleet then cancels the
	 * targets not started). */
	if (!t->shared->cancelled && opts_of(t)->cb.cancelled != NULL &&
	    opts_of(t)->cb.cancelled(opts_of(t)->cb.arg))
		t->shared->cancelled = true;
	if (t->shared->cancelled) {
		t->out->status = MIG_STATUS_CANCELLED;
		return finish(t);
	}
	sc = t->todo[t->itodo];
	strbuf_reset(&t->text);
	if (sc->placeholders) {
		if (expand(t, sc) != 0) {
			t->out->status = MIG_STATUS_FAILED;
			return TASK_FAILED;
		}
	}
	if (script_statements(t, sc) != 0)
		return TASK_FAILED;
	t->exec_us = 0;
	t->exec_started_us = time_mono_us();
	if (!mig_script_autocommit(sc, PQserverVersion(t->sess->pg))) {
		/* In a transaction, one round trip: BEGIN, the statements and —
		 * unless the caller holds the first commit — the history row
		 * (its execution time measured by the server) and COMMIT. An
		 * error stops the rest; the session is then closed, which rolls
		 * the transaction back. */
		mig_session_queue(t->sess, "BEGIN", 0, NULL);
		for (size_t k = 0; k < t->ncur_stmts; k++)
			mig_session_queue(t->sess, statement_text(t, k), 0, NULL);
		t->record_sent = may_commit(t);
		if (t->record_sent) {
			queue_history_row(t, sc, -1, true);
			mig_session_queue(t->sess, "COMMIT", 0, NULL);
		}
		return sent(t, send_queued(t, TASK_STEP_APPLY));
	}
	/* Outside a transaction: one statement at a time. */
	if (!may_commit(t))
		return hold(t, false);
	return run_statements(t);
}

/* Queue the history row of the current script (and COMMIT when it ran in
 * a transaction) and send it. */
static enum mig_task_result record(struct mig_task *t, bool commit)
{
	const struct mig_script *sc = t->todo[t->itodo];
	int ms = (int)((t->exec_us + 500) / 1000);

	queue_history_row(t, sc, ms, true);
	if (commit)
		mig_session_queue(t->sess, "COMMIT", 0, NULL);
	return sent(t, send_queued(t, TASK_STEP_RECORD));
}

/* A script failed. In a transaction nothing of it stays (the session is
 * closed, the server rolls back); outside one, its statements before the
 * failing one stay, so a success=false row records it and blocks the
 * schema until repair. */
static enum mig_task_result script_failed(struct mig_task *t, const PGresult *res,
					  bool in_transaction, long k)
{
	const struct mig_script *sc = t->todo[t->itodo];
	const char *state = sqlstate_of(res);
	char msg[200];

	/* Statement k failed (-1: the BEGIN before them). */
	if (k >= 0 && (size_t)k < t->ncur_stmts)
		server_error(res, statement_text(t, (size_t)k), 0, t->cur_stmts[k].line,
			     t->cur_stmts[k].line, msg, sizeof(msg));
	else
		server_error(res, NULL, 0, 0, 0, msg, sizeof(msg));
	if (in_transaction)
		return fail(t, mig_sqlstate_transient(state), state, "'%s' failed: %s",
			    sc->script, msg);
	infra_fail(&t->pending_error, INFRA_EMIGRATION,
		   "'%s' failed outside a transaction, recorded as failed (repair after fixing): %s",
		   sc->script, msg);
	snprintf(t->pending_sqlstate, sizeof(t->pending_sqlstate), "%s", state);
	queue_history_row(t, sc, (int)((t->exec_us + 500) / 1000), false);
	return sent(t, send_queued(t, TASK_STEP_RECORD_FAILED));
}

static enum mig_task_result recorded(struct mig_task *t, const PGresult *history_row);

static enum mig_task_result on_applied(struct mig_task *t)
{
	const PGresult *err = mig_session_error(t->sess);

	t->exec_us += time_mono_us() - t->exec_started_us;
	if (t->step == TASK_STEP_APPLY) {
		/* Results: BEGIN, each statement, [the history row, COMMIT]. */
		long k = (long)mig_session_error_index(t->sess) - 1;

		if (err != NULL && t->record_sent && k >= (long)t->ncur_stmts)
			return fail_result(t, err, "recording the migration failed");
		if (err != NULL)
			return script_failed(t, err, true, k);
		if (t->record_sent)
			return recorded(t, mig_session_result(t->sess, (int)t->ncur_stmts + 1));
		if (!may_commit(t))
			return hold(t, true);
		return record(t, true);
	}
	if (err != NULL)
		return script_failed(t, err, false, (long)t->istmt);
	if (++t->istmt < t->ncur_stmts) {
		t->exec_started_us = time_mono_us();
		return send_statement(t);
	}
	return record(t, false);
}

static enum mig_task_result on_recorded(struct mig_task *t)
{
	const PGresult *err = mig_session_error(t->sess);
	const struct mig_script *sc = t->todo[t->itodo];

	if (t->step == TASK_STEP_RECORD_FAILED) {
		t->out->error = t->pending_error;
		snprintf(t->out->sqlstate, sizeof(t->out->sqlstate), "%s", t->pending_sqlstate);
		t->out->status = MIG_STATUS_FAILED;
		if (err != NULL)
			log_warn("cannot record the failure of '%s' in %s", sc->script,
				 MIG_HISTORY_TABLE);
		return TASK_FAILED;
	}
	if (err != NULL)
		return fail_result(t, err, "recording the migration failed");
	return recorded(t, mig_session_result(t->sess, 0));
}

/* The current script is applied and its history row written (it returned
 * its execution time): on to the next. */
static enum mig_task_result recorded(struct mig_task *t, const PGresult *history_row)
{
	const struct mig_script *sc = t->todo[t->itodo];
	int ms = history_row != NULL && PQntuples(history_row) == 1
		? atoi(PQgetvalue(history_row, 0, 0)) : (int)((t->exec_us + 500) / 1000);

	record_step(t, sc, ms);
	t->itodo++;
	return apply_next(t);
}

/* ---- after the history is known ---- */

static char *current_after_undo(struct mig_task *t)
{
	const struct mig_plan *p = &t->plan;
	const char *best = NULL;

	for (size_t i = 0; i < p->ninfos; i++) {
		const struct mig_info *in = &p->infos[i];
		const char *v = in->applied ? in->applied->version : NULL;
		bool undone = false;

		if (v == NULL || (in->state != MIG_STATE_SUCCESS && in->state != MIG_STATE_OUT_OF_ORDER &&
				  in->state != MIG_STATE_BASELINE && in->state != MIG_STATE_MISSING_SUCCESS &&
				  in->state != MIG_STATE_FUTURE_SUCCESS) ||
		    strcmp(in->applied->type, "UNDO_SQL") == 0 || strcmp(in->applied->type, "SCHEMA") == 0)
			continue;
		for (size_t k = 0; k < t->ntodo && !undone; k++)
			undone = mig_version_cmp(t->todo[k]->version, v) == 0;
		if (!undone && (best == NULL || mig_version_cmp(v, best) > 0))
			best = v;
	}
	return mig_strdup(best);
}

/* Make room for the `n` history rows a command writes: t->next_rank is
 * the first one's rank, the highest installed_rank plus one, and row k
 * takes next_rank + k (never incremented, so never past INT_MAX).
 * installed_rank is an INT: a command that would pass INT_MAX fails here,
 * before it writes anything. 0, or -1 with the outcome failed. */
static int reserve_ranks(struct mig_task *t, size_t n)
{
	int64_t next = mig_history_next_rank(&t->history);

	if (n == 0)
		return 0;	/* nothing to record */
	if (next > INT_MAX || (int64_t)(n - 1) > INT_MAX - next) {
		fail(t, false, NULL,
		     "installed_rank is at its maximum (%d): no room for %zu more row%s in %s",
		     INT_MAX, n, n == 1 ? "" : "s", MIG_HISTORY_TABLE);
		return -1;
	}
	t->next_rank = (int)next;
	return 0;
}

static enum mig_task_result write_baseline(struct mig_task *t, bool in_create)
{
	const struct mig_options *o = opts_of(t);
	char rank[16];
	const char *p[9];

	snprintf(rank, sizeof(rank), "%d", t->next_rank);
	p[0] = rank;
	p[1] = o->baseline_version ? o->baseline_version : "1";
	p[2] = o->baseline_description ? o->baseline_description : MIG_BASELINE_DESCRIPTION;
	p[3] = "BASELINE";
	p[4] = MIG_BASELINE_DESCRIPTION;
	p[5] = NULL;
	p[6] = o->installed_by;
	p[7] = "0";
	p[8] = "true";
	mig_history_insert_sql(&t->sql, t->ident);
	mig_session_queue(t->sess, t->sql.buf, 9, p);
	t->out->baselined = true;
	if (in_create)
		return TASK_AGAIN;
	return sent(t, send_queued(t, TASK_STEP_WRITE));
}

static enum mig_task_result do_repair(struct mig_task *t)
{
	struct mig_repair r;
	size_t changes;

	mig_repair_compute(&r, &t->plan);
	changes = r.nfailed + r.nalign + r.nmissing;
	if (reserve_ranks(t, r.nmissing) != 0) {
		mig_repair_release(&r);
		return TASK_FAILED;
	}
	t->out->repaired_failed = r.nfailed;
	t->out->repaired_aligned = r.nalign;
	t->out->repaired_deleted = r.nmissing;
	if (changes == 0) {
		mig_repair_release(&r);
		return finish(t);
	}
	mig_session_queue(t->sess, "BEGIN", 0, NULL);
	if (r.nfailed > 0) {
		mig_history_delete_failed_sql(&t->sql, t->ident);
		mig_session_queue(t->sess, t->sql.buf, 0, NULL);
	}
	for (size_t i = 0; i < r.nalign; i++) {
		const struct mig_info *in = r.align[i];
		struct strbuf desc = STRBUF_INIT;
		char sum[16], rank[16];
		const char *p[4];

		mig_history_abbreviate_description(&desc, in->resolved->description);
		snprintf(sum, sizeof(sum), "%d", (int)in->resolved->checksum);
		snprintf(rank, sizeof(rank), "%d", in->applied->rank);
		p[0] = desc.buf;
		p[1] = mig_script_type(in->resolved);
		p[2] = sum;
		p[3] = rank;
		mig_history_update_sql(&t->sql, t->ident);
		mig_session_queue(t->sess, t->sql.buf, 4, p);
		strbuf_release(&desc);
	}
	for (size_t i = 0; i < r.nmissing; i++) {
		const struct mig_applied *a = r.missing[i]->applied;
		const struct mig_options *o = opts_of(t);
		char sum[16], rank[16];
		const char *p[9];

		snprintf(rank, sizeof(rank), "%d", t->next_rank + (int)i);
		snprintf(sum, sizeof(sum), "%d", (int)a->checksum);
		p[0] = rank;
		p[1] = a->version;
		p[2] = a->description;
		p[3] = "DELETE";
		p[4] = a->script;
		p[5] = a->has_checksum ? sum : NULL;
		p[6] = o->installed_by;
		p[7] = "0";
		p[8] = "true";
		mig_history_insert_sql(&t->sql, t->ident);
		mig_session_queue(t->sess, t->sql.buf, 9, p);
	}
	mig_session_queue(t->sess, "COMMIT", 0, NULL);
	mig_repair_release(&r);
	return sent(t, send_queued(t, TASK_STEP_WRITE));
}

static enum mig_task_result do_baseline(struct mig_task *t)
{
	const struct mig_options *o = opts_of(t);
	const char *want = o->baseline_version ? o->baseline_version : "1";
	const struct mig_applied *b = t->plan.baseline;

	if (t->plan.applied)
		return fail(t, false, NULL,
			    "cannot baseline schema '%s': it already has applied migrations",
			    t->target->schema);
	if (b != NULL) {
		if (b->version && mig_version_cmp(b->version, want) == 0)
			return finish(t);	/* already there: nothing to do */
		return fail(t, false, NULL,
			    "cannot baseline schema '%s' at %s: it is already baselined at %s",
			    t->target->schema, want, b->version ? b->version : "?");
	}
	if (reserve_ranks(t, 1) != 0)
		return TASK_FAILED;
	return write_baseline(t, false);
}

/* Tell the caller where a target that is about to change starts. */
static void changes_starting(struct mig_task *t)
{
	const struct mig_callbacks *cb = &opts_of(t)->cb;

	if (t->ntodo > 0 && cb->changes_starting != NULL)
		cb->changes_starting(cb->arg, t->index, t->out->version_before);
}

static enum mig_task_result plan_ready(struct mig_task *t)
{
	const struct mig_options *o = opts_of(t);
	struct mig_plan_options po = {
		.target = o->command == MIG_CMD_UNDO ? NULL : o->target,
		.out_of_order = o->out_of_order,
		.pending_is_problem = o->command == MIG_CMD_VALIDATE,
	};

	if (mig_plan_compute(&t->plan, t->shared->set, &t->history, &po, &t->out->error) != 0) {
		t->out->status = MIG_STATUS_FAILED;
		return TASK_FAILED;
	}
	t->have_plan = true;
	if (!t->before_known) {		/* a retry keeps the first attempt's */
		t->out->version_before = mig_strdup(t->plan.current_version);
		t->before_known = true;
	}
	free(t->out->version_after);
	t->out->version_after = mig_strdup(t->plan.current_version);

	switch (o->command) {
	case MIG_CMD_INFO:
		report_rows(t, false);
		return finish(t);
	case MIG_CMD_PLAN:
	case MIG_CMD_VALIDATE:
		if (o->command == MIG_CMD_PLAN)
			report_rows(t, true);
		report_problems(t);
		if (t->plan.nproblems > 0)
			return fail(t, false, NULL, "%zu validation problem%s, first: %s",
				    t->plan.nproblems, t->plan.nproblems == 1 ? "" : "s",
				    t->plan.problems[0].message);
		return finish(t);
	case MIG_CMD_MIGRATE:
		if (t->plan.nproblems > 0) {
			report_problems(t);
			return fail(t, false, NULL, "validation failed (%s): %s",
				    t->plan.problems[0].code, t->plan.problems[0].message);
		}
		if (reserve_ranks(t, t->plan.npending) != 0)
			return TASK_FAILED;
		t->todo = t->plan.pending;
		t->ntodo = t->plan.npending;
		t->itodo = 0;
		changes_starting(t);
		return apply_next(t);
	case MIG_CMD_REPAIR:
		return do_repair(t);
	case MIG_CMD_BASELINE:
		return do_baseline(t);
	case MIG_CMD_UNDO:
		if (mig_plan_undo(&t->plan, t->shared->set, o->target, &t->todo, &t->ntodo,
				  &t->out->error) != 0) {
			t->out->status = MIG_STATUS_FAILED;
			return TASK_FAILED;
		}
		t->todo_owned = true;
		if (reserve_ranks(t, t->ntodo) != 0)
			return TASK_FAILED;
		free(t->out->version_after);
		t->out->version_after = current_after_undo(t);
		changes_starting(t);
		return apply_next(t);
	}
	return TASK_FAILED;
}

/* The history table is missing: create it (and the schema) in one
 * transaction, or decide there is nothing to do. */
static enum mig_task_result create_or_skip(struct mig_task *t)
{
	const struct mig_options *o = opts_of(t);
	bool baseline = o->command == MIG_CMD_BASELINE;

	if (!is_writer(o->command))
		return plan_ready(t);
	if (o->command == MIG_CMD_REPAIR || o->command == MIG_CMD_UNDO)
		return plan_ready(t);	/* an empty history: nothing to repair or undo */
	if (o->command == MIG_CMD_MIGRATE && t->schema_exists && t->schema_nonempty) {
		if (!o->baseline_on_migrate)
			return fail(t, false, NULL,
				    "schema '%s' is not empty but has no %s: baseline it first (or use baseline-on-migrate)",
				    t->target->schema, MIG_HISTORY_TABLE);
		baseline = true;
	}
	mig_session_queue(t->sess, "BEGIN", 0, NULL);
	if (!t->schema_exists) {
		strbuf_reset(&t->sql);
		strbuf_addf(&t->sql, "CREATE SCHEMA IF NOT EXISTS %s", t->ident);
		mig_session_queue(t->sess, t->sql.buf, 0, NULL);
	}
	for (int i = 0; i < MIG_HISTORY_CREATE_STATEMENTS; i++) {
		mig_history_create_sql(&t->sql, t->ident, i);
		mig_session_queue(t->sess, t->sql.buf, 0, NULL);
	}
	t->next_rank = 1;
	if (!t->schema_exists) {
		/* Flyway's marker: this schema was created by the migration tool. */
		struct strbuf quoted = STRBUF_INIT;
		struct mig_applied marker = {
			.rank = 0, .version = "0", .description = MIG_SCHEMA_DESCRIPTION,
			.type = "SCHEMA", .installed_by = "", .installed_on = "", .success = true,
		};
		const char *p[9];

		mig_history_quote(&quoted, t->target->schema);
		marker.script = quoted.buf;
		p[0] = "0";
		p[1] = marker.version;
		p[2] = marker.description;
		p[3] = marker.type;
		p[4] = marker.script;
		p[5] = NULL;
		p[6] = o->installed_by;
		p[7] = "0";
		p[8] = "true";
		mig_history_insert_sql(&t->sql, t->ident);
		mig_session_queue(t->sess, t->sql.buf, 9, p);
		mig_history_add(&t->history, &marker);
		strbuf_release(&quoted);
	}
	if (baseline) {
		struct mig_applied row = {
			.rank = t->next_rank,
			.version = (char *)(o->baseline_version ? o->baseline_version : "1"),
			.description = (char *)(o->baseline_description ? o->baseline_description
							      : MIG_BASELINE_DESCRIPTION),
			.type = "BASELINE", .script = MIG_BASELINE_DESCRIPTION,
			.installed_by = "", .installed_on = "", .success = true,
		};

		write_baseline(t, true);
		mig_history_add(&t->history, &row);
	}
	mig_session_queue(t->sess, "COMMIT", 0, NULL);
	return sent(t, send_queued(t, TASK_STEP_CREATE));
}

static enum mig_task_result on_setup(struct mig_task *t)
{
	const struct mig_options *o = opts_of(t);
	const PGresult *err = mig_session_error(t->sess);
	const PGresult *ident, *state;
	int nstate = is_writer(o->command) ? 2 : 1;

	if (err != NULL)
		return fail_result(t, err, is_writer(o->command) ? "locking the schema failed"
								 : "reading the schema failed");
	ident = mig_session_result(t->sess, 0);
	state = mig_session_result(t->sess, nstate);
	if (ident == NULL || state == NULL || PQntuples(ident) != 1 || PQntuples(state) != 1)
		return fail(t, false, NULL, "unexpected answer from the server");
	t->user = mig_strdup(PQgetvalue(ident, 0, 0));
	t->database = mig_strdup(PQgetvalue(ident, 0, 1));
	t->schema_exists = PQgetvalue(state, 0, 0)[0] == 't';
	t->table_exists = PQgetvalue(state, 0, 1)[0] == 't';
	if (!t->table_exists && t->schema_exists && o->command == MIG_CMD_MIGRATE) {
		const char *schema = t->target->schema;

		mig_session_queue(t->sess, nonempty_sql, 1, &schema);
		return sent(t, send_queued(t, TASK_STEP_CHECK_EMPTY));
	}
	if (!t->table_exists)
		return create_or_skip(t);
	mig_history_select_sql(&t->sql, t->ident);
	mig_session_queue(t->sess, t->sql.buf, 0, NULL);
	return sent(t, send_queued(t, TASK_STEP_READ));
}

static enum mig_task_result on_read(struct mig_task *t)
{
	const PGresult *err = mig_session_error(t->sess);

	if (err != NULL)
		return fail_result(t, err, "reading " MIG_HISTORY_TABLE " failed");
	if (mig_history_from_result(&t->history, mig_session_result(t->sess, 0),
				    &t->out->error) != 0) {
		t->out->status = MIG_STATUS_FAILED;
		return TASK_FAILED;
	}
	return plan_ready(t);
}

enum mig_task_result mig_task_continue(struct mig_task *t)
{
	const PGresult *err;

	switch (t->step) {
	case TASK_STEP_SETUP:
		return on_setup(t);
	case TASK_STEP_CHECK_EMPTY:
		err = mig_session_error(t->sess);
		if (err != NULL)
			return fail_result(t, err, "inspecting the schema failed");
		t->schema_nonempty = PQgetvalue(mig_session_result(t->sess, 0), 0, 0)[0] == 't';
		return create_or_skip(t);
	case TASK_STEP_CREATE:
		err = mig_session_error(t->sess);
		if (err != NULL)
			return fail_result(t, err, "creating " MIG_HISTORY_TABLE " failed");
		return plan_ready(t);
	case TASK_STEP_READ:
		return on_read(t);
	case TASK_STEP_APPLY:
	case TASK_STEP_APPLY_STMT:
		return on_applied(t);
	case TASK_STEP_RECORD:
	case TASK_STEP_RECORD_FAILED:
		return on_recorded(t);
	case TASK_STEP_WRITE:
		err = mig_session_error(t->sess);
		if (err != NULL)
			return fail_result(t, err, "writing " MIG_HISTORY_TABLE " failed");
		return finish(t);
	case TASK_STEP_RELEASE:
		if (mig_session_error(t->sess) != NULL)
			t->close_session = true;
		return TASK_DONE;
	case TASK_STEP_HELD:
		return mig_task_resume(t);	/* nothing was in flight */
	}
	return TASK_FAILED;
}
