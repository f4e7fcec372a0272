/* health.c — GET /health (liveness, no I/O), GET /health/ready (what
 * nginx and load balancers ask before sending traffic), GET /health/detailed
 * and GET /health/services/{name}: one table of service checks serves all
 * three. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "metrics.h"
#include "probe.h"
#include "routes.h"
#include "timeutil.h"

struct check_result {
	bool healthy;
	char message[160];
};

typedef void (*check_fn)(struct app *app, struct check_result *out);

static void check_database(struct app *app, struct check_result *out)
{
	struct infra_error err;

	out->healthy = db_ping(&app->db, &err) == 0;
	snprintf(out->message, sizeof(out->message), "%s",
		 out->healthy ? "control database answers" : "control database unreachable");
}

static void check_cache(struct app *app, struct check_result *out)
{
	out->healthy = cache_ping(app->cache) == 0;
	snprintf(out->message, sizeof(out->message), "%s",
		 out->healthy ? "memcached answers"
			      : cache_enabled(app->cache) ? "memcached unreachable"
							  : "memcached not configured");
}

static void check_jwks(struct app *app, struct check_result *out)
{
	struct jwks_status st;

	auth_jwks_status(app->auth, &st);
	out->healthy = st.ready;
	if (!st.ready)
		snprintf(out->message, sizeof(out->message), "no signing keys loaded%s",
			 st.has_url && !st.last_fetch_ok ? "; the JWKS URL is unreachable" : "");
	else
		snprintf(out->message, sizeof(out->message), "%zu signing keys%s", st.nkeys,
			 st.has_url && !st.last_fetch_ok ? " (last good set; the JWKS URL is unreachable)" : "");
}

/* The managed fleet, from the probes' latest results: unhealthy while a
 * database's circuit is open. */
static void check_targets(struct app *app, struct check_result *out)
{
	struct probe_fleet fleet;
	struct infra_error err;

	if (probe_fleet_summary(&app->db, &fleet, &err) != 0) {
		out->healthy = false;
		snprintf(out->message, sizeof(out->message), "fleet unknown: %.140s", err.message);
		return;
	}
	out->healthy = fleet.circuits_open == 0;
	snprintf(out->message, sizeof(out->message),
		 "%ld databases: %ld healthy, %ld unhealthy, %ld unchecked, %ld circuits open",
		 fleet.total, fleet.healthy, fleet.unhealthy, fleet.unknown, fleet.circuits_open);
}

static void check_processes(struct check_result *out, const char *what, int64_t alive, int want)
{
	out->healthy = alive >= want;
	snprintf(out->message, sizeof(out->message), "%lld of %d %s alive",
		 (long long)alive, want, what);
}

static void check_workers(struct app *app, struct check_result *out)
{
	check_processes(out, "workers", metrics_get(METRIC_WORKERS_ALIVE), app->cfg->workers);
}

static void check_runners(struct app *app, struct check_result *out)
{
	check_processes(out, "runners", metrics_get(METRIC_RUNNERS_ALIVE), app->cfg->runners);
}

static const struct service_check {
	const char *name;
	check_fn check;
	bool for_readiness;	/* part of /health/ready */
} service_checks[] = {
	{ "database", check_database, true },
	{ "cache", check_cache, true },
	{ "jwks", check_jwks, true },
	{ "workers", check_workers, false },
	{ "runners", check_runners, false },
	{ "targets", check_targets, false },
};

#define NCHECKS (sizeof(service_checks) / sizeof(service_checks[0]))

static json_object *run_check(struct app *app, const struct service_check *c,
			      struct check_result *res)
{
	json_object *o = json_object_new_object();
	int64_t start = time_mono_us();

	c->check(app, res);
	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "is_healthy", json_object_new_boolean(res->healthy));
	json_object_object_add(o, "response_time_ms",
			       json_object_new_double((double)(time_mono_us() - start) / 1000.0));
	json_object_object_add(o, "message", json_object_new_string(res->message));
	return o;
}

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

int handle_health_ready_get(struct request *r)
{
	json_object *o = json_object_new_object(), *checks = json_object_new_object();
	const char *failing = NULL;
	char msg[96];

	for (size_t i = 0; i < NCHECKS; i++) {
		struct check_result res;

		if (!service_checks[i].for_readiness)
			continue;
		service_checks[i].check(r->app, &res);
		json_object_object_add(checks, service_checks[i].name,
				       json_object_new_string(res.healthy ? "ok" : res.message));
		if (!res.healthy && failing == NULL)
			failing = service_checks[i].name;
	}
	json_object_object_add(o, "status", json_object_new_string(failing ? "not_ready" : "ready"));
	json_object_object_add(o, "checks", checks);
	if (failing == NULL)
		return respond_json(r, 200, o);
	respond_header(r, "Retry-After", "5");
	snprintf(msg, sizeof(msg), "not ready: %s check failed", failing);
	return respond_error(r, 503, "SVC_001", msg, o);
}

int handle_health_detailed_get(struct request *r)
{
	json_object *o = json_object_new_object(), *services = json_object_new_array();
	json_object *summary = json_object_new_object();
	int healthy = 0;

	for (size_t i = 0; i < NCHECKS; i++) {
		struct check_result res;

		json_object_array_add(services, run_check(r->app, &service_checks[i], &res));
		healthy += res.healthy;
	}
	json_object_object_add(o, "overall_status",
			       json_object_new_string(healthy == (int)NCHECKS ? "healthy" : "degraded"));
	json_object_object_add(o, "services", services);
	json_object_object_add(summary, "total_services", json_object_new_int((int)NCHECKS));
	json_object_object_add(summary, "healthy_services", json_object_new_int(healthy));
	json_object_object_add(summary, "unhealthy_services", json_object_new_int((int)NCHECKS - healthy));
	json_object_object_add(o, "summary", summary);
	return respond_json(r, 200, o);
}

int handle_health_service_get(struct request *r)
{
	const char *name = request_path_param(r, "name");

	for (size_t i = 0; i < NCHECKS; i++) {
		struct check_result res;

		if (strcmp(service_checks[i].name, name) == 0)
			return respond_json(r, 200, run_check(r->app, &service_checks[i], &res));
	}
	return respond_error(r, 404, "RES_001", "no such service", NULL);
}
