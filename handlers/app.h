/* app.h — what a request worker holds for its whole life: the effective
 * configuration and its own connections (control database, memcached),
 * created after fork and never shared with another process. */
#ifndef INFRA_APP_H
#define INFRA_APP_H

#include <stdint.h>

#include "auth.h"
#include "cache.h"
#include "config.h"
#include "db.h"

struct app {
	const struct config *cfg;	/* owned by the caller; outlives the app */
	struct db db;
	struct cache *cache;
	struct auth *auth;		/* token verification and permissions */
	int64_t started_at;		/* the master's start, seconds since epoch */
	int workers, runners;		/* this host's process counts */
};

/* Prepare a worker's context: opens nothing yet (the database connects on
 * first use; memcached on first operation; keys load on first need).
 * Returns 0, or -1 with `err` filled (a bad ROLE_BINDINGS or emergency
 * key, or out of memory). */
int app_init(struct app *app, const struct config *cfg, int64_t started_at,
	     struct infra_error *err);

/* Close connections and free what the app owns. */
void app_release(struct app *app);

#endif
