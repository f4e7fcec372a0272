/* alert_history.c — the alerts as operators see them (/system/alerts): the
 * list, newest first, one alert, and sending a failed or skipped one again
 * (see alert.h). Delivery itself is alert.c's. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "exec.h"
#include "page.h"
#include "page_cursor.h"
#include "timeutil.h"

#define ALERT_CURSOR_TAG "al"		/* its list's cursors: page_cursor.h */

/* What the API shows of an alert: never the webhooks' digests, only how
 * many accepted it. */
#define ALERT_COLUMNS \
	"a.id, a.kind, a.status, a.attempts, CASE WHEN a.status = 'pending' THEN " \
	EXEC_SQL_ISO("a.next_attempt_at") " END, a.last_error, a.payload::text, " \
	"cardinality(a.delivered_to), " EXEC_SQL_ISO("a.created_at") ", " \
	EXEC_SQL_ISO("a.delivered_at")

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

static json_object *cursor_json(const PGresult *res, int row)
{
	char cursor[PAGE_CURSOR_MAX];

	page_cursor_encode_serial(cursor, sizeof(cursor), ALERT_CURSOR_TAG, PQgetvalue(res, row, 0));
	return json_object_new_string(cursor);
}

static bool one_of(const char *s, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(s, *names) == 0)
			return true;
	return false;
}

static bool given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int alert_list(struct db *db, const struct alert_filter *f, json_object **out, struct infra_error *err)
{
	static const char *const kinds[] = { "execution.failed", "event.dead", "database.unhealthy", NULL };
	static const char *const statuses[] = { "pending", "delivered", "failed", "skipped", NULL };
	char since[24], below[24], fetch[16];
	const char *params[5];
	int64_t after = 0, since_s = 0;
	PGresult *res;

	*out = NULL;
	if (given(f->kind) && !one_of(f->kind, kinds))
		return infra_fail_field(err, "kind", "must be one of execution.failed, event.dead, "
					"database.unhealthy");
	if (given(f->status) && !one_of(f->status, statuses))
		return infra_fail_field(err, "status", "must be one of pending, delivered, failed, skipped");
	if (given(f->cursor) && (after = page_cursor_decode_serial(f->cursor, ALERT_CURSOR_TAG)) == 0)
		return infra_fail_field(err, "cursor", "is not a cursor this endpoint returned");
	if (given(f->since) && time_parse_iso8601(f->since, &since_s) != 0)
		return infra_fail_field(err, "since", "must be an ISO 8601 time such as 2026-11-22T10:00:00Z");
	snprintf(since, sizeof(since), "%" PRId64, since_s);
	snprintf(below, sizeof(below), "%" PRId64, after);
	snprintf(fetch, sizeof(fetch), "%d", f->limit + 1);
	params[0] = given(f->kind) ? f->kind : NULL;
	params[1] = given(f->status) ? f->status : NULL;
	params[2] = given(f->since) ? since : NULL;
	params[3] = after > 0 ? below : NULL;
	params[4] = fetch;
	res = db_exec(db, err, "SELECT " ALERT_COLUMNS " FROM alerts a "
		      "WHERE ($1::text IS NULL OR a.kind = $1) AND ($2::text IS NULL OR a.status = $2) "
		      "AND ($3::bigint IS NULL OR a.created_at >= to_timestamp($3::bigint)) "
		      "AND ($4::bigint IS NULL OR a.id < $4::bigint) ORDER BY a.id DESC LIMIT $5::int",
		      5, params);
	if (res == NULL)
		return -1;
	*out = page_json(res, f->limit, alert_json_from_row, cursor_json);
	PQclear(res);
	return 0;
}

/* Alert `id` (digits only, else not found) as JSON, selected by `sql`
 * ("… WHERE a.id = $1 …") over ALERT_COLUMNS. */
static int alert_one(struct db *db, const char *sql, const char *id, json_object **out,
		     struct infra_error *err)
{
	const char *params[1] = { id };
	PGresult *res;

	*out = NULL;
	if (!given(id) || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such alert");
	res = db_exec(db, err, sql, 1, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "no such alert");
	}
	*out = alert_json_from_row(res, 0);
	PQclear(res);
	return 0;
}

int alert_get(struct db *db, const char *id, json_object **out, struct infra_error *err)
{
	return alert_one(db, "SELECT " ALERT_COLUMNS " FROM alerts a WHERE a.id = $1::bigint", id, out, err);
}

int alert_resend(struct db *db, const char *id, json_object **out, struct infra_error *err)
{
	json_object *status;

	/* Due now with its retries anew; the webhooks that accepted it
	 * (delivered_to) are not called again. */
	if (alert_one(db, "UPDATE alerts a SET status = 'pending', attempts = 0, "
		      "next_attempt_at = clock_timestamp(), lease_owner = NULL, lease_expires_at = NULL "
		      "WHERE a.id = $1::bigint AND a.status IN ('failed', 'skipped') RETURNING " ALERT_COLUMNS,
		      id, out, err) == 0)
		return 0;
	if (err->kind != INFRA_ENOTFOUND || alert_get(db, id, out, err) != 0)
		return -1;
	json_object_object_get_ex(*out, "status", &status);
	infra_fail(err, INFRA_ECONFLICT, "alert %s is %s: only a failed or skipped alert is sent again", id,
		   json_object_get_string(status));
	json_object_put(*out);
	*out = NULL;
	return -1;
}
