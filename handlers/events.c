/* events.c — /system/events and /system/alerts: the histories of the
 * outbox's domain events and of the alerts for operators
 * (infrastructure:admin), newest first; reviving a dead event, sending a
 * failed alert again. Thin: lib/event.h and lib/alert.h (on lib/history.h)
 * do the work. */
#include <string.h>

#include "alert.h"
#include "app.h"
#include "event.h"
#include "http.h"
#include "routes.h"

/* Answer one page of a history listed by `list`, its kind filter being
 * query parameter `kind_param`. */
static int list_page(struct request *r, const char *kind_param,
		     int (*list)(struct db *, const struct history_filter *, json_object **,
				 struct infra_error *))
{
	struct history_filter f = {
		.kind = request_query(r, kind_param),
		.status = request_query(r, "status"),
		.since = request_query(r, "since"),
		.cursor = request_query(r, "cursor"),
	};
	struct infra_error err;
	json_object *page;
	long limit;

	if (request_query_int_or_respond(r, "limit", 50, 1, HISTORY_LIST_MAX, &limit) != 0)
		return -1;
	f.limit = (int)limit;
	if (list(&r->app->db, &f, &page, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, page);
}

/* GET /system/events?type=&status=&since=&limit=&cursor= */
int handle_system_events_list(struct request *r)
{
	return list_page(r, "type", event_list);
}

/* Answer the row of a history named by path parameter id, read by `get`. */
static int get_one(struct request *r,
		   int (*get)(struct db *, const char *, json_object **, struct infra_error *))
{
	struct infra_error err;
	json_object *row;

	if (get(&r->app->db, request_path_param(r, "id"), &row, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, row);
}

/* GET /system/events/{id} */
int handle_system_events_get(struct request *r)
{
	return get_one(r, event_get);
}

/* Run `again` on the row named by path parameter id (a dead event, a
 * failed alert) and answer 202 with it, audited as `action` on `resource`
 * with its `what` (type, kind); a row that is not there is only a 404. */
static int retry(struct request *r, const char *action, const char *resource, const char *what,
		 int (*again)(struct db *, const char *, json_object **, struct infra_error *))
{
	const char *id = request_path_param(r, "id");
	struct infra_error err;
	json_object *row, *details;

	request_drain_body(r);
	if (again(&r->app->db, id, &row, &err) != 0) {
		if (err.kind != INFRA_ENOTFOUND) {
			details = json_object_new_object();
			json_object_object_add(details, "reason", json_object_new_string(err.message));
			http_audit(r, action, resource, id, "failure", details);
		}
		return respond_infra_error(r, &err);
	}
	details = json_object_new_object();
	json_object_object_add(details, what, json_object_get(json_object_object_get(row, what)));
	http_audit(r, action, resource, id, "success", details);
	return respond_json(r, 202, row);
}

/* POST /system/events/{id}/retry: a dead event is pending again. */
int handle_system_events_retry(struct request *r)
{
	return retry(r, "event.retry", "event", "type", event_revive);
}

/* GET /system/alerts?kind=&status=&since=&limit=&cursor= */
int handle_system_alerts_list(struct request *r)
{
	return list_page(r, "kind", alert_list);
}

/* GET /system/alerts/{id} */
int handle_system_alerts_get(struct request *r)
{
	return get_one(r, alert_get);
}

/* POST /system/alerts/{id}/retry: a failed (or skipped) alert is pending
 * again; the webhooks that accepted it are not called again. */
int handle_system_alerts_retry(struct request *r)
{
	return retry(r, "alert.retry", "alert", "kind", alert_resend);
}
