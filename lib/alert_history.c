/* alert_history.c — the alerts as operators see them (/system/alerts, on
 * lib/history.h): the list, newest first, one alert, and sending a failed
 * or skipped one again (see alert.h). Delivery itself is alert.c's. */
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "exec.h"

static json_object *alert_json_from_row(const PGresult *res, int row)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(strtoll(PQgetvalue(res, row, 0), NULL, 10)));
	json_object_object_add(o, "kind", db_json_text(res, row, 1));
	json_object_object_add(o, "status", db_json_text(res, row, 2));
	json_object_object_add(o, "attempts", json_object_new_int(atoi(PQgetvalue(res, row, 3))));
	json_object_object_add(o, "next_attempt_at", db_json_text(res, row, 4));
	json_object_object_add(o, "last_error", db_json_text(res, row, 5));
	json_object_object_add(o, "payload", db_json_parsed(res, row, 6));
	json_object_object_add(o, "webhooks_accepted", json_object_new_int(atoi(PQgetvalue(res, row, 7))));
	json_object_object_add(o, "created_at", db_json_text(res, row, 8));
	json_object_object_add(o, "delivered_at", db_json_text(res, row, 9));
	return o;
}

/* What the API shows of an alert: never the webhooks' digests, only how
 * many accepted it. */
static const struct history alerts = {
	.noun = "alert",
	.tag = "al",
	.table = "alerts a",
	.columns = "a.id, a.kind, a.status, a.attempts, CASE WHEN a.status = 'pending' THEN "
		EXEC_SQL_ISO("a.next_attempt_at") " END, a.last_error, a.payload::text, "
		"cardinality(a.delivered_to), " EXEC_SQL_ISO("a.created_at") ", "
		EXEC_SQL_ISO("a.delivered_at"),
	.id = "a.id",
	.kind = "a.kind",
	.status = "a.status",
	.created_at = "a.created_at",
	.row_json = alert_json_from_row,
};

int alert_list(struct db *db, const struct history_filter *f, json_object **out,
	       struct infra_error *err)
{
	static const char *const kinds[] = { "execution.failed", "event.dead", "database.unhealthy", NULL };
	static const char *const statuses[] = { "pending", "delivered", "failed", "skipped", NULL };

	*out = NULL;
	if (!history_filter_valid(f->kind, kinds))
		return infra_fail_field(err, "kind", "must be one of execution.failed, event.dead, "
					"database.unhealthy");
	if (!history_filter_valid(f->status, statuses))
		return infra_fail_field(err, "status", "must be one of pending, delivered, failed, skipped");
	return history_list(db, &alerts, f, out, err);
}

int alert_get(struct db *db, const char *id, json_object **out, struct infra_error *err)
{
	return history_get(db, &alerts, id, out, err);
}

int alert_resend(struct db *db, const char *id, json_object **out, struct infra_error *err)
{
	/* Due now with its retries anew; the webhooks that accepted it
	 * (delivered_to) are not called again. */
	return history_retry(db, &alerts, id, "status = 'pending', attempts = 0, "
			     "next_attempt_at = clock_timestamp(), lease_owner = NULL, "
			     "lease_expires_at = NULL", "'failed', 'skipped'",
			     "not failed or skipped: only such an alert is sent again", out, err);
}
