/* events.c — /system/events: the history of the outbox's domain events for
 * operators (infrastructure:admin), newest first, and reviving a dead one.
 * Thin: lib/event.h does the work. */
#include <string.h>

#include "app.h"
#include "event.h"
#include "http.h"
#include "routes.h"

/* GET /system/events?type=&status=&since=&limit=&cursor= */
int handle_system_events_list(struct request *r)
{
	struct event_filter f = {
		.type = request_query(r, "type"),
		.status = request_query(r, "status"),
		.since = request_query(r, "since"),
		.cursor = request_query(r, "cursor"),
	};
	struct infra_error err;
	json_object *page;
	long limit;

	if (request_query_int_or_respond(r, "limit", 50, 1, EVENT_LIST_MAX, &limit) != 0)
		return -1;
	f.limit = (int)limit;
	if (event_list(&r->app->db, &f, &page, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, page);
}

/* GET /system/events/{id} */
int handle_system_events_get(struct request *r)
{
	struct infra_error err;
	json_object *ev;

	if (event_get(&r->app->db, request_path_param(r, "id"), &ev, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, ev);
}

/* POST /system/events/{id}/retry: a dead event is pending again. */
int handle_system_events_retry(struct request *r)
{
	const char *id = request_path_param(r, "id");
	struct infra_error err;
	json_object *ev, *details;

	request_drain_body(r);
	if (event_revive(&r->app->db, id, &ev, &err) != 0) {
		if (err.kind != INFRA_ENOTFOUND) {
			details = json_object_new_object();
			json_object_object_add(details, "reason", json_object_new_string(err.message));
			http_audit(r, "event.retry", "event", id, "failure", details);
		}
		return respond_infra_error(r, &err);
	}
	details = json_object_new_object();
	json_object_object_add(details, "type", json_object_get(json_object_object_get(ev, "type")));
	http_audit(r, "event.retry", "event", id, "success", details);
	return respond_json(r, 202, ev);
}
