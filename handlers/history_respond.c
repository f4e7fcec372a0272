/* history_respond.c — the answers of the /system history routes (events,
 * alerts): a page, one row, a row made due again (see history_respond.h). */
#include "app.h"
#include "history_respond.h"

int history_respond_page(struct request *r, const char *kind_param,
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

int history_respond_one(struct request *r,
			int (*get)(struct db *, const char *, json_object **, struct infra_error *))
{
	struct infra_error err;
	json_object *row;

	if (get(&r->app->db, request_path_param(r, "id"), &row, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, row);
}

int history_respond_retried(struct request *r, const char *action, const char *resource,
			    const char *what,
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
