/* schema_service.h — one process per host that creates and drops tenant
 * schemas for the request workers, on one session per database.
 *
 * Without it every worker keeps a session of its own to every tenant
 * database it has made a schema in: four workers, four backends per
 * database, idle between two tenants. An idle backend still reads every
 * catalog invalidation its database's migrations broadcast, so while a
 * burst of new tenants migrates those backends cost the server as much CPU
 * as a tenth of the migrations themselves (docs/BENCHMARKS.md); each one
 * also cost a password exchange to open. The service keeps one session
 * per database (a thread per database, each with its own sessions: see
 * tenant_schema_ddl), so a slow or unreachable database holds up only its
 * own requests.
 *
 * Workers reach it on an abstract unix socket named after their master
 * (getppid()), one SOCK_SEQPACKET connection per request: a JSON message
 * {conninfo, schema, drop, timeout_s} in, {status, why} out (status done,
 * failed, busy or refused). Only a
 * peer of the service's own user is served. When it cannot be reached, or
 * is busy, the worker runs the DDL itself: the service saves work, it is
 * never in the way. */
#ifndef INFRA_SCHEMA_SERVICE_H
#define INFRA_SCHEMA_SERVICE_H

#include <signal.h>
#include <stdbool.h>

/* schema_service_call()'s answer when no service took the request. */
#define SCHEMA_SERVICE_UNAVAILABLE 2

/* In the service's process: serve requests until *stop is set, then
 * answer those already taken and return 0; -1 when the socket cannot be
 * opened (its name stays taken by an older service that will not go). */
int schema_service_serve(volatile sig_atomic_t *stop);

/* In a request worker (a child of the same master): have the service
 * create (or with `drop`, drop with CASCADE) schema `schema` through
 * `conninfo` within `timeout_s` seconds. Returns 0 when done, -1 when it
 * failed (why, INFRA_ERRMSG_MAX bytes), SCHEMA_SERVICE_UNAVAILABLE when no
 * service took it (nothing was done: run it yourself). */
int schema_service_call(const char *conninfo, const char *schema, bool drop, int timeout_s,
			char *why);

#endif
