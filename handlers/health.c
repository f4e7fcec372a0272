/* health.c — GET /health (liveness, no I/O) and GET /health/ready
 * (the control database and memcached answer). */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "metrics.h"
#include "routes.h"
#include "timeutil.h"

int handle_health_get(struct request *r)
{
	json_object *o = json_object_new_object();
	char ts[ISO8601_MAX];

	json_object_object_add(o, "status", json_object_new_string("healthy"));
	json_object_object_add(o, "version", json_object_new_string(INFRA_VERSION));
	json_object_object_add(o, "uptime_s", json_object_new_int64(metrics_uptime_s()));
	json_object_object_add(o, "timestamp", json_object_new_string(time_iso8601(ts, time_wall_s())));
	return respond_json(r, 200, o);
}

/* Add check `name` to `checks`: "ok", or the reason it failed. */
static bool check(json_object *checks, const char *name, bool ok, const char *why)
{
	json_object_object_add(checks, name, json_object_new_string(ok ? "ok" : why));
	return ok;
}

int handle_health_ready_get(struct request *r)
{
	json_object *o = json_object_new_object(), *checks = json_object_new_object();
	struct infra_error err;
	bool ready = true;

	ready &= check(checks, "database", db_ping(&r->app->db, &err) == 0,
		       "control database unreachable");
	ready &= check(checks, "cache", cache_ping(r->app->cache) == 0,
		       cache_enabled(r->app->cache) ? "memcached unreachable"
						    : "memcached not configured");
	json_object_object_add(o, "status", json_object_new_string(ready ? "ready" : "not_ready"));
	json_object_object_add(o, "checks", checks);
	if (!ready) {
		json_object *details = o;
		const char *failing = "dependency";

		json_object_object_foreach(checks, name, val)
			if (strcmp(json_object_get_string(val), "ok") != 0) {
				failing = name;
				break;
			}
		respond_header(r, "Retry-After", "5");
		{
			char msg[96];

			snprintf(msg, sizeof(msg), "not ready: %s check failed", failing);
			return respond_error(r, 503, "SVC_001", msg, details);
		}
	}
	return respond_json(r, 200, o);
}
