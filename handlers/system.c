/* system.c — GET /system/info (what this host runs) and GET /system/config
 * (the effective configuration, secrets masked). */
#include "app.h"
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
