/* exec_task.h — what the runners' migration task (exec_task.c) and its
 * recording (exec_record.c) share: one engine run over claimed targets
 * and how its progress reaches the control database. Private to those two
 * files; the task's interface is in exec_run.h. */
#ifndef INFRA_EXEC_TASK_H
#define INFRA_EXEC_TASK_H

#include "exec_run.h"

#define EXEC_RETRY_MIN_MS 100		/* outcome writes: first backoff, doubling… */
#define EXEC_RETRY_MAX_MS 5000		/* …up to this */
#define EXEC_RETRY_HARD_ERRORS 5	/* attempts for an error other than an outage */
#define EXEC_FLUSH_MS 200		/* longest an outcome or mark waits to be written */
#define EXEC_BEFORE_WAIT_MS 5000	/* longest a first commit waits for its start record */

/* One claimed target and what this runner knows of it. */
struct held {
	const char *execution_id;	/* in the claim's result */
	const char *ordinal;
	bool undo;
	bool earlier;			/* an earlier claim recorded version_before */
	const char *resumed_from;	/* where earlier claims left it: current_version
					 * if one was recorded, else version_before */
	bool before_written;		/* this run recorded version_before */
	bool before_queued;		/* …asked the recorder to, at before_asked_ms */
	int64_t before_asked_ms;
	bool before_answered;		/* …and heard back (written or not) */
	bool running;
};

struct flush;
struct before_job;
struct claim_job;

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
	struct claim_job *claiming;	/* a feed's claim at the recorder, or NULL */
	PGresult *claimed;		/* rows it claimed, not taken into the run yet */
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
	struct pending *pending;	/* outcomes not handed to the recorder (room for every target) */
	size_t npending;
	int64_t pending_since_ms;	/* when the oldest outcome or mark came */
	struct flush *flushing;		/* marks and outcomes the recorder is writing, or NULL */
	struct held **befores;		/* targets whose start is to be recorded (room for every target) */
	char **before_versions;		/* …where each starts (owned; NULL: no version) */
	size_t nbefores;
	struct before_job *writing_befores; /* those the recorder is writing, or NULL */
};

/* The index of execution `id` among the run's (it must be one of them). */
size_t run_execution(const struct run *r, const char *id);

/* The label of a target of execution `id` still running, or NULL. */
const char *run_still_running(const struct run *r, const char *id);

/* Execution `id` has a target starting (or recorded as not run), `label`:
 * mark it started with the next flush, once. */
void run_mark(struct run *r, const char *id, const char *label);

/* Record what happened to target `h` (its outcome `o`) with `status`
 * (NULL: from the outcome): buffered for the next flush, or, for a target
 * given back (this runner stops, or another execution of the run was
 * cancelled), written at once. */
void run_record(struct run *r, const struct held *h, const struct mig_outcome *o,
		const char *label, const char *status);

/* Target `h` is about to change, from `version_before` (NULL: none):
 * have the recorder write that down (with other targets' at once); the
 * target's first change waits for h->before_answered (changes_recorded). */
void run_record_before(struct run *r, struct held *h, const char *version_before);

/* Write every buffered mark and outcome and wait for everything the run
 * gave the recorder: at the end of a run. */
void run_flush(struct run *r);

/* Hand the buffered marks and outcomes to the recorder, which writes them
 * in one transaction (retried through an outage of the control database),
 * when MIGRATION_BATCH_SIZE outcomes wait or the oldest has waited
 * EXEC_FLUSH_MS, and the recorder is not writing the previous batch
 * (meanwhile the next one grows). */
void run_maybe_flush(struct run *r);

/* A warning log line with the execution (NULL: none) and the error. */
void exec_log_warn(const char *msg, const char *subject, const struct infra_error *err);

#endif
