/* alert.h — alerts: what went wrong, told to the configured webhooks
 * (WEBHOOK_URLS) as a JSON POST.
 *
 * Raising an alert is an INSERT into the `alerts` table, made in the
 * transaction of the change it reports when there is one, so an alert
 * exists exactly when its cause committed; nothing is sent from there.
 * The job runners' alerts task (alert_task) delivers each one to every
 * webhook with libcurl — WEBHOOK_TIMEOUT_MS per call, all calls of a batch
 * at once — and retries the webhooks that did not answer 2xx with
 * exponential backoff and jitter, up to WEBHOOK_RETRY_ATTEMPTS retries;
 * then the alert is `failed` with the last error. A request worker never
 * waits for a webhook. Every outcome is counted in /metrics as
 * infra_alerts_total{kind, result}.
 *
 * The payload: {id, kind, at, summary, details{…}} — never a secret (no
 * password, token or connection string: callers put ids and names in
 * details, and the webhook URLs, which may hold a token, are never logged
 * or stored; a retry tells them apart by a digest). */
#ifndef INFRA_ALERT_H
#define INFRA_ALERT_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"
#include "error.h"
#include "history.h"
#include "runner_task.h"

enum alert_kind {
	ALERT_EXECUTION_FAILED,		/* "execution.failed": a migration execution failed */
	ALERT_EVENT_DEAD,		/* "event.dead": an event exhausted its retries */
	ALERT_DATABASE_UNHEALTHY,	/* "database.unhealthy": a target turned unhealthy */
};

/* "execution.failed", "event.dead", "database.unhealthy". */
const char *alert_kind_name(enum alert_kind kind);

/* Record an alert of `kind` with a one-line `summary` and `details` (a
 * JSON object, borrowed; NULL for {}). Call it inside the transaction of
 * the change it reports. Returns 0, or -1 with `err` filled by db_exec. */
int alert_raise(struct db *db, enum alert_kind kind, const char *summary,
		json_object *details, struct infra_error *err);

/* The execution.failed alert of `execution` (exec_json's shape, borrowed):
 * its id, scope, filters, source, counts and error message. 0 or -1. */
int alert_execution_failed(struct db *db, json_object *execution, struct infra_error *err);

/* The runners' task: deliver the due alerts (a batch, under a lease, to
 * every webhook at once), mark alerts `skipped` while no webhook is
 * configured. Returns when to run again. */
int64_t alert_task(struct runner_ctx *ctx);

/* --- the history (alert_history.c, on lib/history.h): /system/alerts --- */

/* One page of alerts, newest first, `f->kind` execution.failed|event.dead|
 * database.unhealthy and `f->status` pending|delivered|failed|skipped:
 * {items:[{id, kind, status, attempts, next_attempt_at, last_error,
 * payload, webhooks_accepted, created_at, delivered_at}], next_cursor}.
 * Returns 0, or -1: INFRA_EINVAL naming the filter that is not valid, or a
 * control-database error. */
int alert_list(struct db *db, const struct history_filter *f, json_object **out,
	       struct infra_error *err);

/* Alert `id` as the list shows it. 0, or -1: INFRA_ENOTFOUND. */
int alert_get(struct db *db, const char *id, json_object **out, struct infra_error *err);

/* Send failed (or skipped) alert `id` again: pending, due now, its
 * attempts anew; the webhooks that accepted it are not called again.
 * Returns 0 with the alert in *out, or -1: INFRA_ENOTFOUND,
 * INFRA_ECONFLICT when it is pending or delivered. */
int alert_resend(struct db *db, const char *id, json_object **out, struct infra_error *err);

/* Exposed for tests: the digest that identifies webhook `url` in
 * alerts.delivered_to (the first 16 hex digits of its SHA-256). */
#define ALERT_URL_DIGEST_LEN 17
void alert_url_digest(const char *url, size_t len, char out[ALERT_URL_DIGEST_LEN]);

#endif
