/* exec_recorder.h — a runner's second control-database connection, on a
 * thread of its own, for the migration task's bookkeeping while an engine
 * runs (private to exec_task.c and exec_record.c).
 *
 * The engine drives every target's session from one poll() loop; a
 * statement to the control database made from that loop stops every
 * session that finishes meanwhile. So what an engine run records —
 * where each target starts, outcomes, marks — and the claims that feed
 * it go to the recorder as jobs: each job's work runs on the recorder's
 * thread with the recorder's connection, one job after another in the
 * order they came, and its `done` runs back on the engine's thread when
 * that collects it (the recorder's descriptor turns readable then). Only
 * `work` touches the recorder's connection; only `done` may touch what
 * the engine's thread owns. */
#ifndef INFRA_EXEC_RECORDER_H
#define INFRA_EXEC_RECORDER_H

#include "config.h"
#include "db.h"

struct recorder_job {
	/* On the recorder's thread. */
	void (*work)(struct recorder_job *job, struct db *db);
	/* On the engine's thread, from recorder_collect() or recorder_wait();
	 * owns the job from then on. */
	void (*done)(struct recorder_job *job);
	struct recorder_job *next;	/* the recorder's */
};

/* A new job of `size` bytes — a struct whose first member is the
 * recorder_job, zeroed — doing `work` then `done`. Never NULL. */
void *recorder_job_new(size_t size, void (*work)(struct recorder_job *job, struct db *db),
		       void (*done)(struct recorder_job *job));

/* Start the recorder (once per process; later calls do nothing). Without a
 * thread (it could not start), recorder_submit() does each job at once. */
void recorder_start(const struct config *cfg);

/* Readable when a job has finished; -1 when the recorder has no thread. */
int recorder_fd(void);

/* Queue `job`. */
void recorder_submit(struct recorder_job *job);

/* Call `done` of every job finished so far, in the order they were
 * submitted. */
void recorder_collect(void);

/* Wait until every job submitted has finished and is collected — those
 * the collected jobs' `done` submitted too. */
void recorder_wait(void);

/* Stop the thread (after the jobs queued) and close its connection. */
void recorder_stop(void);

#endif
