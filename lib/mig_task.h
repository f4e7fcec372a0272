/* mig_task.h — private to the migration engine: one target's run as a
 * state machine (mig_target.c) driven by the scheduler (mig_fleet.c).
 *
 * Each step sends one round trip on the task's session; when its results
 * are in, the scheduler calls mig_task_continue(), which reads them and
 * either sends the next round trip or ends the attempt. */
#ifndef INFRA_MIG_TASK_H
#define INFRA_MIG_TASK_H

#include <limits.h>
#include <stdint.h>

#include "mig_engine.h"
#include "mig_history.h"
#include "mig_plan.h"
#include "mig_session.h"
#include "strbuf.h"

/* What every task of one mig_run() shares. */
struct mig_shared {
	const struct mig_set *set;
	const struct mig_options *opts;
	bool cancelled;			/* the caller asked to stop */
	char timestamp[24];		/* ${flyway:timestamp} */
	char cwd[PATH_MAX];		/* ${flyway:workingDirectory} */
};

enum mig_task_step {
	TASK_STEP_SETUP,	/* settings, lock, what exists */
	TASK_STEP_CHECK_EMPTY,	/* does a schema without history hold anything? */
	TASK_STEP_CREATE,	/* schema and history table */
	TASK_STEP_READ,		/* the history rows */
	TASK_STEP_APPLY,	/* a whole script in a transaction */
	TASK_STEP_APPLY_STMT,	/* one statement of a script run outside one */
	TASK_STEP_RECORD,	/* its history row (and COMMIT) */
	TASK_STEP_RECORD_FAILED, /* the success=false row of a failed non-transactional one */
	TASK_STEP_WRITE,	/* repair's or baseline's changes */
	TASK_STEP_RELEASE,	/* DISCARD ALL: lock and settings back */
	TASK_STEP_HELD,		/* the first commit waits for cb.changes_recorded; nothing in flight */
};

enum mig_task_result {
	TASK_AGAIN,		/* a round trip was sent */
	TASK_DONE,		/* the outcome is final; the session may serve another target */
	TASK_FAILED,		/* the outcome is final and FAILED; close the session */
	TASK_RETRY,		/* a transient failure; close the session, maybe retry */
};

struct mig_task {
	/* set by the scheduler */
	size_t index;
	const struct mig_target *target;
	struct mig_outcome *out;
	struct mig_shared *shared;
	struct mig_session *sess;
	int db;				/* index of the first target with this conninfo */
	int attempt;
	int64_t not_before_ms;		/* a retry waits until then */
	int64_t queued_ms;		/* when it last joined the queue */
	int64_t deadline_ms;		/* this attempt's end; 0: none */
	int64_t started_ms;
	bool queued, running, finished;
	bool before_known;		/* out->version_before is set */

	/* one attempt (mig_task_reset frees) */
	enum mig_task_step step;
	char *ident;			/* the schema as an SQL identifier */
	char *user, *database;
	bool schema_exists, table_exists, schema_nonempty;
	struct mig_history history;
	struct mig_plan plan;
	bool have_plan;
	const struct mig_script **todo;	/* the scripts to run, in order */
	size_t ntodo, itodo;
	bool todo_owned;		/* free(todo) on reset */
	struct strbuf text;		/* the script being run, placeholders expanded */
	struct strbuf stmt;		/* one statement of it */
	struct strbuf sql;		/* history statements */
	struct mig_stmt *stmts;		/* statements of `text` when re-split */
	const struct mig_stmt *cur_stmts;
	size_t ncur_stmts, istmt;
	int64_t exec_started_us;
	int64_t exec_us;
	int next_rank;
	bool close_session;		/* the session must not serve another target */
	bool may_commit;		/* cb.changes_recorded said yes */
	bool held_in_transaction;	/* TASK_STEP_HELD: the script ran, its COMMIT waits */
	bool record_sent;		/* TASK_STEP_APPLY: the history row and COMMIT went along */
	struct infra_error pending_error; /* a failed non-transactional script, being recorded */
	char pending_sqlstate[6];
};

/* The session is connected and idle: send the attempt's first round trip. */
enum mig_task_result mig_task_start(struct mig_task *t);

/* The round trip sent last has completed: handle it, send the next one or
 * end the attempt. */
enum mig_task_result mig_task_continue(struct mig_task *t);

/* A task in TASK_STEP_HELD: send what waited if cb.changes_recorded now
 * lets it through (else TASK_AGAIN, still held). */
enum mig_task_result mig_task_resume(struct mig_task *t);

/* The session broke: record why (a transient failure). */
enum mig_task_result mig_task_broken(struct mig_task *t, const char *why);

/* Free what the attempt holds; the outcome is kept. */
void mig_task_reset(struct mig_task *t);

#endif
