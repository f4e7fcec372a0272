/* schedules.c — /migrations/schedules: one-off (run_at) and recurring
 * (cron, UTC) migration executions: create, list, read, pause or resume,
 * delete. Thin:
 * lib/schedule.h validates and stores; the job runners fire them. A
 * tenant-bound token sees and makes only its own tenant's schedules. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "routes.h"
#include "schedule.h"
#include "timeutil.h"

static const char *scope_of(const struct request *r)
{
	return r->principal ? r->principal->tenant : NULL;
}

static const char *actor_of(const struct request *r)
{
	const struct principal *p = r->principal;

	return p && p->username ? p->username : p && p->sub ? p->sub : "anonymous";
}

/* POST /migrations/schedules */
int handle_schedules_create(struct request *r)
{
	struct schedule_input in;
	struct infra_error err;
	json_object *body, *problems, *schedule, *details, *id;
	char location[64];

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (schedule_input_parse(body, time_wall_s(), &in, &problems) != 0) {
		json_object_put(body);
		return respond_invalid_fields(r, problems);
	}
	/* A tenant-bound token schedules its own tenant's migrations only. */
	if (scope_of(r) != NULL && in.req.tenant != NULL && strcmp(in.req.tenant, scope_of(r)) != 0) {
		schedule_input_release(&in);
		json_object_put(body);
		return respond_error(r, 403, "AUTH_002",
				     "a tenant-bound token acts only on its own tenant's databases", NULL);
	}
	details = json_object_new_object();
	json_object_object_add(details, "name", json_object_new_string(in.name));
	json_object_object_add(details, "request", json_object_get(in.request));
	json_object_object_add(details, "cron", in.cron ? json_object_new_string(in.cron) : NULL);
	json_object_object_add(details, "run_at", json_object_get(json_object_object_get(body, "run_at")));
	if (schedule_create(&r->app->db, &in, scope_of(r), actor_of(r), &schedule, &err) != 0) {
		schedule_input_release(&in);
		json_object_put(body);
		json_object_object_add(details, "reason", json_object_new_string(err.message));
		http_audit(r, "schedule.create", "schedule", NULL, "failure", details);
		return respond_infra_error(r, &err);
	}
	schedule_input_release(&in);
	json_object_put(body);
	id = json_object_object_get(schedule, "id");
	json_object_object_add(details, "next_run_at",
			       json_object_get(json_object_object_get(schedule, "next_run_at")));
	http_audit(r, "schedule.create", "schedule", json_object_get_string(id), "success", details);
	snprintf(location, sizeof(location), "/migrations/schedules/%s", json_object_get_string(id));
	respond_header(r, "Location", location);
	return respond_json(r, 201, schedule);
}

/* GET /migrations/schedules?limit=&cursor= */
int handle_schedules_list(struct request *r)
{
	const char *cursor = request_query(r, "cursor");
	struct infra_error err;
	json_object *page;
	long limit;

	if (request_query_int_or_respond(r, "limit", 50, 1, SCHEDULE_LIST_MAX, &limit) != 0)
		return -1;
	if (schedule_list(&r->app->db, scope_of(r), (int)limit, cursor && cursor[0] ? cursor : NULL,
			  &page, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, page);
}

/* GET /migrations/schedules/{id} */
int handle_schedules_get(struct request *r)
{
	struct infra_error err;
	json_object *schedule;

	if (schedule_get(&r->app->db, request_path_param(r, "id"), scope_of(r), &schedule, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, schedule);
}

/* PATCH /migrations/schedules/{id}: {"enabled": false} pauses it,
 * {"enabled": true} resumes it (without replaying what it missed). */
int handle_schedules_update(struct request *r)
{
	const char *id = request_path_param(r, "id");
	json_object *body, *enabled = NULL, *problems = NULL, *schedule, *details;
	struct infra_error err;

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	json_object_object_foreach(body, key, value) {
		if (strcmp(key, "enabled") == 0 && json_object_is_type(value, json_type_boolean)) {
			enabled = value;
			continue;
		}
		if (problems == NULL)
			problems = json_object_new_object();
		json_object_object_add(problems, key, json_object_new_string(
			strcmp(key, "enabled") == 0 ? "must be true or false"
			: "unknown field (only enabled can be changed; delete and create to change the rest)"));
	}
	if (enabled == NULL && problems == NULL) {
		problems = json_object_new_object();
		json_object_object_add(problems, "enabled", json_object_new_string("required: true or false"));
	}
	if (problems != NULL) {
		json_object_put(body);
		return respond_invalid_fields(r, problems);
	}
	details = json_object_new_object();
	json_object_object_add(details, "enabled", json_object_get(enabled));
	if (schedule_set_enabled(&r->app->db, id, scope_of(r), json_object_get_boolean(enabled),
				 time_wall_s(), &schedule, &err) != 0) {
		json_object_put(body);
		json_object_object_add(details, "reason", json_object_new_string(err.message));
		http_audit(r, "schedule.update", "schedule", id, "failure", details);
		return respond_infra_error(r, &err);
	}
	json_object_put(body);
	json_object_object_add(details, "next_run_at",
			       json_object_get(json_object_object_get(schedule, "next_run_at")));
	http_audit(r, "schedule.update", "schedule", id, "success", details);
	return respond_json(r, 200, schedule);
}

/* DELETE /migrations/schedules/{id} */
int handle_schedules_delete(struct request *r)
{
	const char *id = request_path_param(r, "id");
	struct infra_error err;

	if (schedule_delete(&r->app->db, id, scope_of(r), &err) != 0)
		return respond_infra_error(r, &err);
	http_audit(r, "schedule.delete", "schedule", id, "success", NULL);
	return respond_no_content(r);
}
