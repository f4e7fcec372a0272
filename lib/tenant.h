/* tenant.h — tenants: a slug, a schema on a registered database (of type
 * tenant or shared), and the migration that sets the schema up.
 *
 * Creating a tenant is one control-database transaction that records the
 * tenant (status `provisioning`) and its tenant.created event (lib/event.h),
 * the event already carrying the id its migration will have. The event's
 * handler — run inline by the request that created the tenant, or by a
 * job runner when that did not finish — creates the schema on the tenant's
 * database under a hard deadline (PROBE_TIMEOUT), which makes the tenant
 * `active`, or `failed` with the reason (never half-created and silent),
 * and then starts the migration of scope tenant with that id: a second
 * delivery finds it and starts nothing. A failed tenant is retried by
 * tenant_migrate (POST /tenants/{id}/migrate).
 *
 * Tenant scope: functions taking `scope` (the slug a tenant-bound caller
 * is bound to, NULL for a platform-scoped one) see only that tenant;
 * anything else is "not found". */
#ifndef INFRA_TENANT_H
#define INFRA_TENANT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "error.h"
#include "event.h"
#include "uuid.h"

#define TENANT_NAME_MAX 200
#define TENANT_SCHEMA_MAX 63		/* PostgreSQL's NAMEDATALEN - 1 */
#define TENANT_SCHEMA_PREFIX "tenant_"	/* the default schema: tenant_<slug> */
#define TENANT_LIST_MAX 100

/* --- input (tenant_input.c; pure) --- */

/* A validated POST /tenants body. Strings are borrowed from the JSON it
 * was parsed from, except `schema`, which points at schema_buf when it
 * was defaulted. */
struct tenant_input {
	const char *slug;
	const char *name;		/* the slug when not given */
	const char *database_id;
	const char *schema;		/* tenant_<slug> when not given */
	char schema_buf[TENANT_SCHEMA_MAX + 1];
};

/* Validate `body` through the table of field → validator: slug and
 * database_id required, name and schema optional. Returns 0 with `in`
 * filled, or -1 with *problems a new JSON object naming every bad,
 * missing or unknown field with its reason. */
int tenant_input_parse(json_object *body, struct tenant_input *in, json_object **problems);

/* The checks behind the table: NULL when acceptable, else why not. A slug
 * is ^[a-z][a-z0-9_]{1,39}$; a name 1-200 characters without control
 * characters; a schema ^[a-z_][a-z0-9_]{0,62}$, neither pg_* nor
 * information_schema. */
const char *tenant_check_slug(const char *s);
const char *tenant_check_name(const char *s);
const char *tenant_check_schema(const char *s);

/* "provisioning", "active", "failed", "deleted": whether `s` is one. */
bool tenant_status_valid(const char *s);

/* --- the tenants (tenant.c) --- */

/* Whether database `id` can hold tenants for a caller within `scope`: it
 * exists, is active, is visible to the caller (registry scope) and is of
 * type tenant or shared. Returns 0 with *why NULL when it can, or a static
 * reason (for details.fields.database_id); -1 on a database error. */
int tenant_database_check(struct db *db, const char *id, const char *scope, const char **why,
			  struct infra_error *err);

/* Record tenant `in` created by `actor` and its tenant.created event, in
 * one transaction; the event is held by `owner` for `lease_s` seconds
 * (the caller delivers it: event_deliver, with *tenant as the event_env's
 * subject). The database must pass tenant_database_check within `scope`.
 * Returns 0 with the tenant's id, *event, the event's row
 * (EVENT_ROW_COLUMNS), and *tenant, the tenant's row with its database
 * (both the caller's to PQclear); or -1: INFRA_ECONFLICT (the slug, or the
 * schema on that database, belongs to a live tenant), INFRA_EINVAL (field
 * database_id: why the database cannot have it), or a database error. */
int tenant_create(struct db *db, const struct tenant_input *in, const char *scope, const char *actor,
		  const char *owner, int lease_s, char id[UUID_STR_LEN], PGresult **event,
		  PGresult **tenant, struct infra_error *err);

/* Tenant `ref` (an id, or the slug of a live tenant) within `scope`, as
 * the API shows it: {id, slug, name, database_id, schema, status, error,
 * migration_execution_id, created_at, created_by, updated_at, deleted_at,
 * deleted_by} (a new object). Returns 0, or -1: INFRA_ENOTFOUND. */
int tenant_get(struct db *db, const char *ref, const char *scope, json_object **out,
	       struct infra_error *err);

struct tenant_filter {
	const char *scope;
	const char *database_id;	/* NULL: any */
	const char *status;		/* NULL: any but deleted */
	int limit;			/* 1..TENANT_LIST_MAX */
	const char *cursor;		/* a previous page's next_cursor, or NULL */
};

/* One page of tenants in creation order: {items[], next_cursor}. Returns
 * 0, or -1: INFRA_EINVAL (field status, database_id or cursor). */
int tenant_list(struct db *db, const struct tenant_filter *f, json_object **out,
		struct infra_error *err);

/* Close the sessions to tenant databases this thread keeps between
 * schema changes (a worker, runner or schema service lane that stops). */
void tenant_sessions_release(void);

/* How long tenant_schema_ddl keeps an idle session. */
#define TENANT_SESSION_IDLE_MS 60000

/* Create (or with `drop`, drop with CASCADE) schema `schema` through
 * `conninfo` within `timeout_s` seconds in all, on a session this thread
 * keeps between calls (see tenant_sessions_release). Returns 0, or -1
 * with why (INFRA_ERRMSG_MAX bytes). */
int tenant_schema_ddl(const char *conninfo, const char *schema, bool drop, int timeout_s, char *why);

/* POST /tenants/{ref}/migrate: provision tenant `ref` (within `scope`) if
 * it is failed, then start a migration of scope tenant to
 * `target_version` (NULL: the newest) executed_by `actor`, and make it
 * the tenant's migration_execution_id. Returns 0 with the execution in
 * *out, or -1: INFRA_ENOTFOUND, INFRA_EMIGRATION (the schema still cannot
 * be created: err says why; or no migration set), INFRA_ECONFLICT (an
 * execution running on its schema: its id in `conflict_id`). */
int tenant_migrate(struct db *db, const struct config *cfg, const char *ref, const char *scope,
		   const char *actor, const char *target_version, json_object **out,
		   char conflict_id[UUID_STR_LEN], struct infra_error *err);

/* Soft-delete tenant `ref` within `scope` by `actor`: status deleted, its
 * slug and schema free again. With `drop_schema`, first DROP SCHEMA …
 * CASCADE on its database within PROBE_TIMEOUT (the caller checked the
 * permission). Returns 0 with the tenant's id in `id`, or -1:
 * INFRA_ENOTFOUND, INFRA_EUNAVAIL (the schema could not be dropped: err
 * says why; nothing changed). */
int tenant_delete(struct db *db, const struct config *cfg, const char *ref, const char *scope,
		  const char *actor, bool drop_schema, char id[UUID_STR_LEN],
		  struct infra_error *err);

/* The tenant.created handler (lib/event.h): provision the tenant if it is
 * still provisioning, then start its migration with the event's execution
 * id. A deleted or failed tenant ends the event (done, with why). */
enum event_outcome tenant_on_created(const struct event_env *env, const struct event *ev,
				     struct event_done *done, struct infra_error *err);

#endif
