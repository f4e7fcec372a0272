/* system.c — GET /system/info (what this host runs), GET /system/config
 * (the effective configuration, secrets masked) and GET /system/audit (the
 * audit trail, newest first). */
#include "app.h"
#include "audit.h"
#include "http.h"
#include "routes.h"
#include "timeutil.h"

int handle_system_info_get(struct request *r)
{
	json_object *o = json_object_new_object();
	char ts[ISO8601_MAX];

	json_object_object_add(o, "version", json_object_new_string(INFRA_VERSION));
	json_object_object_add(o, "build", json_object_new_string(INFRA_BUILD));
	json_object_object_add(o, "started_at",
			       json_object_new_string(time_iso8601(ts, r->app->started_at)));
	json_object_object_add(o, "workers", json_object_new_int(r->app->cfg->workers));
	json_object_object_add(o, "runners", json_object_new_int(r->app->cfg->runners));
	json_object_object_add(o, "host", json_object_new_string(r->app->cfg->host_name));
	return respond_json(r, 200, o);
}

int handle_system_config_get(struct request *r)
{
	return respond_json(r, 200, config_to_json(r->app->cfg));
}

int handle_system_audit_get(struct request *r)
{
	struct audit_filter f = {
		.actor = request_query(r, "actor"),
		.action = request_query(r, "action"),
		.cursor = request_query(r, "cursor"),
	};
	const char *since = request_query(r, "since");
	struct infra_error err;
	json_object *out;
	long limit;

	if (request_query_int_or_respond(r, "limit", AUDIT_DEFAULT_LIMIT, 1, AUDIT_MAX_LIMIT,
					 &limit) != 0)
		return -1;
	f.limit = (int)limit;
	if (since != NULL && since[0] != '\0' && time_parse_iso8601(since, &f.since) != 0) {
		json_object *fields = json_object_new_object();

		json_object_object_add(fields, "since",
				       json_object_new_string("an ISO 8601 time such as 2026-11-22T10:00:00Z"));
		return respond_invalid_fields(r, fields);
	}
	if (audit_query(&r->app->db, &f, &out, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, out);
}
