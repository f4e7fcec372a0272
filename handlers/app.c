/* app.c — a request worker's long-lived context (see app.h). */
#include "app.h"
#include "tenant.h"

int app_init(struct app *app, const struct config *cfg, int64_t started_at,
	     struct infra_error *err)
{
	app->cfg = cfg;
	app->started_at = started_at;
	app->workers = cfg->workers;
	app->runners = cfg->runners;
	db_init(&app->db, cfg->database_url, cfg->db_connect_timeout_s,
		cfg->db_statement_timeout_ms, "infrad");
	app->cache = cache_new(cfg->memcached_servers, cfg->memcached_timeout_ms);
	if (app->cache == NULL) {
		db_release(&app->db);
		return infra_fail(err, INFRA_EINTERNAL, "out of memory");
	}
	app->auth = auth_new(cfg, &app->db, app->cache, err);
	if (app->auth == NULL) {
		cache_free(app->cache);
		db_release(&app->db);
		return -1;
	}
	return 0;
}

void app_release(struct app *app)
{
	tenant_sessions_release();
	auth_free(app->auth);
	app->auth = NULL;
	cache_free(app->cache);
	app->cache = NULL;
	db_release(&app->db);
}
