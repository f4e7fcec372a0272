/* runner_task.h — the periodic work a job runner does, and the context it
 * gets. Each kind of background work (health probes, migration jobs,
 * events, schedules) is one task: a function the runner calls when it is
 * due, which does a bounded amount of work and says when it wants to be
 * called again. Several runners on several hosts run the same tasks, so a
 * task claims its work in the control database (FOR UPDATE SKIP LOCKED,
 * leases) and never assumes it is alone. */
#ifndef INFRA_RUNNER_TASK_H
#define INFRA_RUNNER_TASK_H

#include <signal.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "db.h"

struct runner_ctx {
	const struct config *cfg;
	struct db db;			/* this runner's control connection */
	struct cache *cache;		/* this runner's memcached client */
	int index;			/* 0..RUNNERS-1 on this host */
	char owner[128];		/* "host:pid", written into leases */
	volatile sig_atomic_t *stop;	/* set when the runner must stop */
};

/* A task: do what is due now and return the milliseconds until it should
 * run again (0: as soon as possible). A task that fails logs why and
 * returns the delay after which to retry; it never exits the process. */
typedef int64_t (*runner_task_fn)(struct runner_ctx *ctx);

struct runner_task {
	const char *name;
	runner_task_fn run;
	void (*release)(void);		/* when the runner stops: free what the task keeps; or NULL */
	const char *wake;		/* a channel whose notification makes it due at once; or NULL */
};

#endif
