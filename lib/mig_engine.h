/* mig_engine.h — the migration engine's entry point: run one Flyway-style
 * command (migrate, info, validate, plan, repair, baseline, undo) on many
 * targets at once.
 *
 * A target is a database (libpq connection string) and a schema. Targets
 * run with bounded parallelism from one thread: each is a state machine on
 * a non-blocking session, sessions are reused across targets of the same
 * database, and one failing target never stops or touches the others.
 * Transient failures (connection refused, lost or timed out,
 * serialization failure, deadlock, lock timeout, server shutdown) are
 * retried with exponential backoff and jitter; an error in a migration's
 * SQL never is, nor a connection string libpq refuses. Writers hold
 * Flyway's advisory lock for the target's schema for the whole run on it,
 * so two runners (or this engine and Flyway) never migrate one schema at
 * once while tenants of one database migrate in parallel.
 *
 * Connection strings hold passwords: they never appear in an outcome, an
 * error or a log line; targets are named by host:port/database and schema. */
#ifndef INFRA_MIG_ENGINE_H
#define INFRA_MIG_ENGINE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "mig_placeholder.h"
#include "mig_plan.h"
#include "mig_pool.h"
#include "mig_script.h"

enum mig_command {
	MIG_CMD_MIGRATE,	/* apply pending migrations (validating first) */
	MIG_CMD_INFO,		/* every migration and its state; changes nothing */
	MIG_CMD_VALIDATE,	/* Flyway's problems, pending ones included; changes nothing */
	MIG_CMD_PLAN,		/* what migrate would apply; changes nothing */
	MIG_CMD_REPAIR,		/* drop failed rows, realign changed files, mark missing deleted */
	MIG_CMD_BASELINE,	/* record a baseline version in an unmigrated schema */
	MIG_CMD_UNDO,		/* run U scripts newest first down to the target */
};

/* "migrate", "info", …; and back. mig_command_parse returns 0 or -1. */
const char *mig_command_name(enum mig_command cmd);
int mig_command_parse(const char *name, enum mig_command *out);

struct mig_target {
	const char *conninfo;	/* libpq URL or key=value; holds a password */
	const char *schema;
	const char *label;	/* how to name the database in messages; NULL: host:port/dbname */
};

/* Write "host:port/dbname" of `conninfo` to `out` (never a user or a
 * password; "?" for parts it cannot tell, and for a dbname that is itself
 * a connection string). */
void mig_target_describe(const char *conninfo, char *out, size_t outlen);

/* Whether the dbname of `conninfo` is itself a connection string ('=' or
 * a URI): libpq would send it as a database's name, password and all. */
bool mig_conninfo_nests(const char *conninfo);

enum mig_status {
	MIG_STATUS_OK,
	MIG_STATUS_FAILED,
	MIG_STATUS_CANCELLED,	/* skipped, or stopped between migrations */
};

const char *mig_status_name(enum mig_status status);

/* One migration run on a target (applied, or undone by its U script). */
struct mig_step {
	char *version;		/* NULL for a repeatable */
	char *description;
	char *script;
	const char *type;	/* static: "SQL" or "UNDO_SQL" */
	int execution_ms;
};

/* One line of info or plan, copied out of the plan. */
struct mig_info_row {
	const char *state;	/* static: mig_state_name() */
	const char *category;	/* static: "versioned", "repeatable", "undo", "baseline", "schema", "delete" */
	char *version;		/* NULL for a repeatable */
	char *description;
	char *type;		/* the history's type, or the file's ("SQL"/"UNDO_SQL") */
	char *script;
	bool has_checksum;
	int32_t checksum;
	int installed_rank;	/* 0 when not applied */
	char *installed_on;	/* NULL when not applied */
	char *installed_by;
	int execution_time;
};

/* What happened on one target. Strings owned by the outcome. */
struct mig_outcome {
	enum mig_status status;
	int attempts;			/* 1 + retries used */
	struct infra_error error;	/* when failed: why, fit for an operator */
	char sqlstate[6];		/* the server's code for that error, or "" */
	char *version_before;		/* the schema's version when the run began; NULL none */
	char *version_after;		/* …and when it ended */
	struct mig_step *steps;		/* migrate / undo: what ran, in order */
	size_t nsteps;
	struct mig_info_row *rows;	/* info: every row; plan: the pending ones */
	size_t nrows;
	struct mig_problem *problems;	/* validate, or why migrate refused */
	size_t nproblems;
	size_t repaired_failed;		/* repair: failed rows removed */
	size_t repaired_aligned;	/* repair: rows realigned with their file */
	size_t repaired_deleted;	/* repair: missing versions marked deleted */
	bool baselined;			/* baseline (or baseline-on-migrate) wrote a row */
	int64_t elapsed_ms;
};

/* Free what `o` owns; it is zeroed afterwards. */
void mig_outcome_release(struct mig_outcome *o);

/* The outcome as a JSON object {target, schema, status, attempts, …};
 * `label` names the database. The caller owns the result. */
json_object *mig_outcome_to_json(const struct mig_outcome *o, const char *label,
				 const char *schema, enum mig_command cmd);

/* Progress, for a caller that persists or streams it. `i` is the target's
 * index in the array given to mig_run(). Called from mig_run()'s thread;
 * must not call mig_run(). */
struct mig_callbacks {
	void *arg;
	void (*target_started)(void *arg, size_t i, int attempt);
	/* migrate / undo: the target has migrations to run and none has run
	 * in this attempt yet; `version_before` (NULL: none) is where it
	 * starts. Called before the first one commits, so a caller that
	 * records it never loses where a target started. */
	void (*changes_starting)(void *arg, size_t i, const char *version_before);
	/* With changes_starting: asked before the target's first change
	 * commits (its first script ran in a transaction, or a script run
	 * outside one is about to start); false holds that commit — the
	 * session waits, its transaction open, while the others go on — and
	 * the engine asks again after `woken` or within poll_ms. Lets a
	 * caller record where a target starts without stopping the run for
	 * it. NULL: never held. */
	bool (*changes_recorded)(void *arg, size_t i);
	void (*step_done)(void *arg, size_t i, const struct mig_step *step);
	void (*target_finished)(void *arg, size_t i, const struct mig_outcome *o);
	/* Polled between migrations, and at least every poll_ms while
	 * nothing else happens: true stops the run (targets not started are
	 * cancelled; running ones stop after their current migration). */
	bool (*cancelled)(void *arg);
	int poll_ms;			/* 0: 1000 */
	/* Asked when a session is free and fewer targets than sessions wait
	 * to start: the caller may add targets to the run by writing them at
	 * targets[n..n+k) of the array given to mig_run() (their outcomes go
	 * to outcomes[n..n+k)), k <= capacity - n, and returns k; `room` is
	 * how many the engine would start soon. The caller sets *more when
	 * targets it asked for elsewhere may still come: the run then does
	 * not end, and asks again after `woken` (once the run is cancelled,
	 * only while *more; the targets added then end cancelled). The run
	 * ends when every target has finished and feed adds none and wants
	 * no more. NULL: no targets are added. */
	size_t (*feed)(void *arg, size_t n, size_t room, bool *more);
	size_t capacity;		/* of targets[] and outcomes[], for feed */
	/* A descriptor the engine also polls (with woken): when it is
	 * readable, woken(arg) is called — it must drain it — and the engine
	 * asks changes_recorded and feed again. How a caller doing its work
	 * elsewhere (a thread) wakes the run. woken NULL: not polled. */
	int wake_fd;
	void (*woken)(void *arg);
};

struct mig_options {
	enum mig_command command;
	const char *target;		/* version to stop at (migrate, plan, info, undo); NULL: latest */
	bool out_of_order;
	const char *baseline_version;	/* baseline, baseline-on-migrate: NULL gives "1" */
	const char *baseline_description; /* NULL: "<< Flyway Baseline >>" */
	bool baseline_on_migrate;	/* migrate a non-empty schema without history */
	const char *installed_by;	/* NULL: the database user */
	const struct mig_placeholders *placeholders; /* NULL: none defined */
	int parallel;			/* targets at once (sessions), >= 1 */
	int statement_timeout_ms;	/* per statement; 0: the server's */
	int target_timeout_ms;		/* per attempt on one target; 0: none */
	int connect_timeout_s;
	int retries;			/* attempts after the first, for transient failures */
	int retry_base_ms;		/* first backoff; doubles, with jitter */
	int retry_max_ms;
	/* Sessions kept between runs (mig_pool.h): a run starts with idle
	 * ones to its databases and gives back those that end clean. NULL:
	 * every session is closed when the run ends. */
	struct mig_pool *pool;
	struct mig_callbacks cb;
};

/* Defaults: parallel 8, connect timeout 10 s, 3 retries from 500 ms up to
 * 30 s, no timeouts, no callbacks. */
void mig_options_init(struct mig_options *o, enum mig_command command);

/* Run opts->command with the scripts of `set` on `n` targets (and those
 * cb.feed adds), filling outcomes[0..n-1] (the caller releases each). Before anything runs, every
 * placeholder of every script must be defined. Returns 0 when every target
 * succeeded; -1 when some failed or were cancelled (err says how many), or
 * when nothing could run (err says why; every outcome is then FAILED with
 * that error). */
int mig_run(const struct mig_set *set, const struct mig_options *opts,
	    const struct mig_target *targets, size_t n, struct mig_outcome *outcomes,
	    struct infra_error *err);

/* The transient failures retried: SQLSTATE class 08 (connection), 40001,
 * 40P01, 55P03, 57P01, 57P02, 57P03 and 53300. */
bool mig_sqlstate_transient(const char *sqlstate);

#endif
