/* schedule.h — migration schedules (/migrations/schedules): an execution
 * request (the body of POST /migrations/execute without dry_run) started
 * once at `run_at`, or at every minute a 5-field cron expression (UTC,
 * lib/cron.h) names.
 *
 * The job runners' schedules task claims due schedules with FOR UPDATE
 * SKIP LOCKED under a lease, so one host fires each occurrence, and starts
 * the execution with the id chosen for that occurrence (next_execution_id):
 * an occurrence attempted twice — a runner died after starting it, before
 * recording it — yields one execution. Then next_run_at becomes the first
 * cron time after now, so occurrences missed while nothing ran fire once,
 * not once each; a one-off is disabled once it has fired.
 *
 * An occurrence that cannot start (an execution still running on its
 * targets: 409; no targets) is recorded in last_error and skipped: a cron
 * schedule tries again at its next time; a one-off blocked by a running
 * execution tries again a minute later, and one that failed otherwise is
 * disabled.
 *
 * A schedule can be paused and resumed (enabled); resumed, it does not
 * replay what it missed.
 *
 * Tenant scope: a schedule created by a tenant-bound caller belongs to its
 * tenant (only it sees the schedule; the execution resolves within it). */
#ifndef INFRA_SCHEDULE_H
#define INFRA_SCHEDULE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cron.h"
#include "db.h"
#include "error.h"
#include "exec.h"
#include "runner_task.h"

#define SCHEDULE_LIST_MAX 100
#define SCHEDULE_PAST_SLACK_S 60	/* a run_at at most this far in the past is "now" */
#define SCHEDULE_RETRY_S 60		/* a blocked one-off tries again after this */

/* A validated POST /migrations/schedules body. */
struct schedule_input {
	const char *name;		/* borrowed from the body */
	const char *cron;		/* borrowed; NULL for a one-off */
	struct cron parsed;		/* cron parsed */
	int64_t run_at;			/* seconds since the epoch; 0 for cron */
	bool enabled;
	int64_t next_run_at;		/* the first occurrence */
	json_object *request;		/* the execute fields alone; owned */
	struct exec_request req;	/* validated; borrows from the body */
};

/* Validate `body` at time `now` through the table of field → validator:
 * name (as a database's name), exactly one of cron (a 5-field expression
 * that fires within 10 years) and run_at (ISO 8601, not more than
 * SCHEDULE_PAST_SLACK_S in the past), enabled (default true), and the
 * execute fields (scope, region, tenant, database_id, database_type,
 * target_version) as exec_request_parse checks them. Returns 0 with `in`
 * filled (release it), or -1 with *problems a new JSON object naming every
 * bad, missing or unknown field with its reason (for cron, which of its 5
 * fields is wrong). */
int schedule_input_parse(json_object *body, int64_t now, struct schedule_input *in,
			 json_object **problems);

void schedule_input_release(struct schedule_input *in);

/* When a schedule fires after having fired (or been skipped) at
 * `scheduled_for`, at time `now`: for cron, the first cron time after
 * both (missed occurrences collapse into the one just fired); -1 when it
 * never fires again. Pure. */
int64_t schedule_next_after(const struct cron *c, int64_t scheduled_for, int64_t now);

/* Record schedule `in` created by `actor` within `scope`. Returns 0 with
 * the schedule (as schedule_get shows it) in *out, or -1: INFRA_ECONFLICT
 * (the name is taken within the scope). */
int schedule_create(struct db *db, const struct schedule_input *in, const char *scope,
		    const char *actor, json_object **out, struct infra_error *err);

/* Schedule `id` within `scope`: {id, name, scope, region, tenant,
 * database_id, database_type, target_version, cron, run_at, enabled,
 * next_run_at, last_run_at, last_execution_id, last_error, runs,
 * created_at, created_by}. 0, or -1: INFRA_ENOTFOUND. */
int schedule_get(struct db *db, const char *id, const char *scope, json_object **out,
		 struct infra_error *err);

/* One page of the schedules within `scope` in creation order: {items[],
 * next_cursor}. 0, or -1: INFRA_EINVAL (field cursor). */
int schedule_list(struct db *db, const char *scope, int limit, const char *cursor,
		  json_object **out, struct infra_error *err);

/* Pause (`enabled` false) or resume schedule `id` within `scope` at time
 * `now`. Resumed, a cron schedule next fires at its first time after now
 * (occurrences missed while it was paused are not fired); a one-off keeps
 * its time, so one already due fires at the runners' next look. Returns 0
 * with the schedule in *out, or -1: INFRA_ENOTFOUND, INFRA_EINVAL (field
 * enabled: a one-off that has fired, or a cron expression that never
 * fires again). */
int schedule_set_enabled(struct db *db, const char *id, const char *scope, bool enabled,
			 int64_t now, json_object **out, struct infra_error *err);

/* Delete schedule `id` within `scope` (an occurrence already being fired
 * may still start its execution). 0, or -1: INFRA_ENOTFOUND. */
int schedule_delete(struct db *db, const char *id, const char *scope, struct infra_error *err);

/* The runners' task: fire the due schedules. Returns when to run again. */
int64_t schedule_task(struct runner_ctx *ctx);

#endif
