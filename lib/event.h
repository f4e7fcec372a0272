/* event.h — the consumer of the outbox (lib/outbox.h): domain events are
 * processed at least once, each by one job runner at a time, through a
 * handler per event type, and never silently dropped.
 *
 * A runner claims due events with FOR UPDATE SKIP LOCKED under a lease
 * (status `processing`), calls the handler and marks the event `done`. A
 * handler that fails is retried at next_attempt_at, with exponential
 * backoff and jitter, and after EVENT_RETRY_ATTEMPTS attempts the event is
 * `dead` with its error, and an event.dead alert is raised in the same
 * transaction. A runner that dies mid-event leaves the lease to expire:
 * another runner takes the event again. Handlers are idempotent, so a
 * second delivery changes nothing: an event that starts an execution
 * chooses the execution's id once (outbox.execution_id) and a second
 * delivery finds the execution instead of starting another.
 *
 * Handlers: tenant.created (lib/tenant.h: the schema, then a migration of
 * scope tenant), database.registered (a migration of scope single when the
 * database has auto_migrate), database.health_changed (a database.unhealthy
 * alert when a database turns unhealthy). An event of another type fails
 * like a failing handler (a host running a newer version may know it): it
 * is retried, then dead. */
#ifndef INFRA_EVENT_H
#define INFRA_EVENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "history.h"
#include "runner_task.h"
#include "uuid.h"

#define EVENT_BATCH 16			/* events claimed at once */
#define EVENT_LEASE_S 120		/* a claim lasts this long */
#define EVENT_RETRY_BASE_MS 1000	/* the first retry's delay, doubling… */
#define EVENT_RETRY_MAX_MS 300000	/* …up to this */
#define EVENT_LATER_MS 5000		/* a busy target: look again after this */

/* What a handler is given. */
struct event_env {
	struct db *db;
	const struct config *cfg;
	struct cache *cache;		/* may be NULL */
	const char *owner;		/* "host:pid", the lease holder */
	/* The event's subject as whoever delivers it just read it, or NULL
	 * (tenant.created: the tenant's row as tenant_create gives it). */
	const PGresult *subject;
};

/* One claimed event; strings live as long as the claim's result. */
struct event {
	const char *id;			/* bigint, as text */
	const char *type;
	const char *resource_id;	/* may be NULL */
	json_object *payload;		/* an object, owned by the consumer */
	const char *execution_id;	/* chosen before, or NULL */
	int attempts;			/* this one included */
};

enum event_outcome {
	EVENT_DONE,		/* handled (or nothing to do): done */
	EVENT_FAILED,		/* retry with backoff; dead after the last attempt */
	EVENT_LATER,		/* not now (its target is busy): look again after
				 * EVENT_LATER_MS, the attempt not counted */
};

/* What a handler did, recorded with the event. */
struct event_done {
	json_object *result;		/* a new object or NULL, e.g. {execution_id} */
	/* An alert to raise in the transaction that marks the event done
	 * (so a second delivery never raises it twice). */
	bool alert;
	enum alert_kind alert_kind;
	char alert_summary[INFRA_ERRMSG_MAX + 64];
	json_object *alert_details;	/* a new object or NULL */
	/* Marked done already, in the handler's own transaction (by
	 * event_start_execution, with the execution it created). */
	bool recorded;
};

/* A handler: do what `ev` asks, idempotently, filling `done` (zeroed by
 * the caller, released by it). Fills `err` unless it returns EVENT_DONE. */
typedef enum event_outcome (*event_handler_fn)(const struct event_env *env, const struct event *ev,
					       struct event_done *done, struct infra_error *err);

/* The runners' task: claim due events (pending ones whose time has come,
 * and processing ones whose lease expired), handle and record them.
 * Returns when to run again (0 when there may be more). */
int64_t event_task(struct runner_ctx *ctx);

/* An outbox row's columns as event_deliver() reads them (the table
 * aliased `o`). */
#define EVENT_ROW_COLUMNS \
	"o.id, o.event_type, o.resource_id, o.payload::text, o.execution_id, o.attempts"

/* Deliver the event in row 0 of `row` (EVENT_ROW_COLUMNS), which the
 * caller has just recorded with a lease held by env->owner (a request
 * delivering its own event inline, before it answers). Returns 1 when the
 * event is done, 0 when it failed and was left to the runners (retried
 * later, same execution id), -1 when its outcome could not be recorded
 * (`err`; the lease expires and a runner takes it). */
int event_deliver(const struct event_env *env, const PGresult *row, struct infra_error *err);

/* For handlers: start the migration `body` (an execute body: {scope, …})
 * asks for, as the execution of event `ev` — with the id chosen for the
 * event (chosen now and stored when none was) — executed_by `actor`,
 * visible to `tenant` (NULL: platform), the handler's statements `first`
 * (NULL: none) made in its transaction before it resolves its targets,
 * and the event marked done in the same transaction. When that execution
 * exists already, nothing is done. Sets done->result to {execution_id}.
 * Returns EVENT_DONE, EVENT_LATER when an execution still running holds
 * one of the targets, or EVENT_FAILED (`err`: no targets, a database
 * error). */
enum event_outcome event_start_execution(const struct event_env *env, const struct event *ev,
					 json_object *body, const char *actor, const char *tenant,
					 const struct db_pipeline *first, struct event_done *done,
					 struct infra_error *err);

/* --- the history, for operators (GET /system/events; lib/history.h) --- */

/* One page of events, newest first, `f->kind` their type and `f->status`
 * pending|processing|done|dead: {items:[{id, type, resource_id, payload,
 * status, attempts, next_attempt_at, last_error, result, execution_id,
 * created_at, processed_at}], next_cursor}. Returns 0, or -1: INFRA_EINVAL
 * (field "status", "since" or "cursor"). */
int event_list(struct db *db, const struct history_filter *f, json_object **out,
	       struct infra_error *err);

/* Event `id` as the list shows it. 0, or -1: INFRA_ENOTFOUND. */
int event_get(struct db *db, const char *id, json_object **out, struct infra_error *err);

/* Revive dead event `id`: pending again, due now, its attempts reset. Returns
 * 0 with the event in *out, or -1: INFRA_ENOTFOUND, INFRA_ECONFLICT when it
 * is not dead. */
int event_revive(struct db *db, const char *id, json_object **out, struct infra_error *err);

#endif
