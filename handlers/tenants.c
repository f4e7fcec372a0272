/* tenants.c — /tenants: create a tenant (its schema, then its migration
 * starts by itself), list, read, soft-delete, and migrate (the retry path
 * of a failed tenant). Thin: validate, call lib/tenant.h and lib/event.h,
 * render, audit. A tenant-bound token sees and touches only its own
 * tenant: another is "not found". */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "event.h"
#include "http.h"
#include "log.h"
#include "mig_version.h"
#include "routes.h"
#include "tenant.h"

static const char *scope_of(const struct request *r)
{
	return r->principal ? r->principal->tenant : NULL;
}

static const char *actor_of(const struct request *r)
{
	const struct principal *p = r->principal;

	return p && p->username ? p->username : p && p->sub ? p->sub : "anonymous";
}

static void audit_tenant(struct request *r, const char *action, const char *id, json_object *details,
			 const struct infra_error *err)
{
	if (details == NULL)
		details = json_object_new_object();
	if (err != NULL)
		json_object_object_add(details, "reason", json_object_new_string(err->message));
	http_audit(r, action, "tenant", id, err ? "failure" : "success", details);
}

/* Member `key` of tenant `t` as a new reference (for audit details). */
static json_object *field_of(json_object *t, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(t, key, &v) ? json_object_get(v) : NULL;
}

/* The body's fields; when one is wrong, the database it names too: every
 * problem at once. (With the fields right, the database is checked by
 * tenant_create's insert itself.) -1 after answering. */
static int input_or_respond(struct request *r, json_object *body, struct tenant_input *in)
{
	json_object *problems = NULL;
	struct infra_error err;
	const char *why = NULL;

	if (tenant_input_parse(body, in, &problems) != 0) {
		if (uuid_is_valid(in->database_id) &&
		    tenant_database_check(&r->app->db, in->database_id, scope_of(r), &why, &err) != 0) {
			json_object_put(problems);
			return respond_infra_error(r, &err);
		}
		if (why != NULL)
			json_object_object_add(problems, "database_id", json_object_new_string(why));
		return respond_invalid_fields(r, problems);
	}
	/* A tenant-bound token creates only its own tenant. */
	if (scope_of(r) != NULL && strcmp(in->slug, scope_of(r)) != 0)
		return respond_error(r, 403, "AUTH_002",
				     "a tenant-bound token acts only on its own tenant", NULL);
	return 0;
}

/* POST /tenants */
int handle_tenants_create(struct request *r)
{
	const struct config *cfg = r->app->cfg;
	char id[UUID_STR_LEN], owner[160], location[64];
	struct tenant_input in;
	struct infra_error err;
	struct event_env env;
	int rc;
	json_object *body, *tenant, *details;
	PGresult *event, *row;

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (input_or_respond(r, body, &in) != 0) {
		json_object_put(body);
		return -1;
	}
	details = json_object_new_object();
	json_object_object_add(details, "slug", json_object_new_string(in.slug));
	json_object_object_add(details, "database_id", json_object_new_string(in.database_id));
	json_object_object_add(details, "schema", json_object_new_string(in.schema));
	snprintf(owner, sizeof(owner), "%s:%d", cfg->host_name, (int)getpid());
	/* The event is ours while we deliver it below; should this process
	 * die first, a runner takes it when the lease runs out. */
	if (tenant_create(&r->app->db, &in, scope_of(r), actor_of(r), owner,
			  cfg->probe_timeout_s * 2 + 10, id, &event, &row, &err) != 0) {
		json_object_put(body);
		audit_tenant(r, "tenant.create", NULL, details, &err);
		return respond_infra_error(r, &err);
	}
	json_object_put(body);
	env = (struct event_env){ &r->app->db, cfg, r->app->cache, owner, row };
	rc = event_deliver(&env, event, &err);
	PQclear(event);
	PQclear(row);
	if (rc < 0) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "tenant_id", json_object_new_string(id));
		json_object_object_add(f, "error", json_object_new_string(err.message));
		log_emit(LOG_LEVEL_WARN, "tenant's event left to the runners", f);
	}
	if (tenant_get(&r->app->db, id, NULL, &tenant, &err) != 0) {
		audit_tenant(r, "tenant.create", id, details, NULL);
		return respond_infra_error(r, &err);
	}
	json_object_object_add(details, "status", field_of(tenant, "status"));
	json_object_object_add(details, "error", field_of(tenant, "error"));
	json_object_object_add(details, "migration_execution_id", field_of(tenant, "migration_execution_id"));
	audit_tenant(r, "tenant.create", id, details, NULL);
	snprintf(location, sizeof(location), "/tenants/%s", id);
	respond_header(r, "Location", location);
	return respond_json(r, 201, tenant);
}

/* GET /tenants?database_id=&status=&limit=&cursor= */
int handle_tenants_list(struct request *r)
{
	struct tenant_filter f = { 0 };
	struct infra_error err;
	json_object *page;
	long limit;

	if (request_query_int_or_respond(r, "limit", 50, 1, TENANT_LIST_MAX, &limit) != 0)
		return -1;
	f.scope = scope_of(r);
	f.limit = (int)limit;
	f.database_id = request_query(r, "database_id");
	f.status = request_query(r, "status");
	f.cursor = request_query(r, "cursor");
	if (f.database_id != NULL && f.database_id[0] == '\0')
		f.database_id = NULL;
	if (f.status != NULL && f.status[0] == '\0')
		f.status = NULL;
	if (f.cursor != NULL && f.cursor[0] == '\0')
		f.cursor = NULL;
	if (tenant_list(&r->app->db, &f, &page, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, page);
}

/* GET /tenants/{id-or-slug} */
int handle_tenants_get(struct request *r)
{
	struct infra_error err;
	json_object *tenant;

	if (tenant_get(&r->app->db, request_path_param(r, "id"), scope_of(r), &tenant, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, tenant);
}

/* DELETE /tenants/{id-or-slug}[?drop_schema=true] */
int handle_tenants_delete(struct request *r)
{
	const char *drop = request_query(r, "drop_schema");
	char id[UUID_STR_LEN] = "";
	struct infra_error err;
	json_object *details;
	bool drop_schema = drop != NULL && strcmp(drop, "true") == 0;

	if (drop != NULL && drop[0] != '\0' && !drop_schema && strcmp(drop, "false") != 0) {
		json_object *fields = json_object_new_object();

		json_object_object_add(fields, "drop_schema", json_object_new_string("must be true or false"));
		return respond_invalid_fields(r, fields);
	}
	details = json_object_new_object();
	json_object_object_add(details, "drop_schema", json_object_new_boolean(drop_schema));
	if (drop_schema && !principal_has(r->principal, "infrastructure:admin")) {
		http_audit(r, "tenant.delete", "tenant", NULL, "denied", details);
		return respond_error(r, 403, "AUTH_002", "drop_schema=true needs infrastructure:admin", NULL);
	}
	if (tenant_delete(&r->app->db, r->app->cfg, request_path_param(r, "id"), scope_of(r), actor_of(r),
			  drop_schema, id, &err) != 0) {
		if (err.kind == INFRA_ENOTFOUND)
			json_object_put(details);	/* nothing of ours was touched */
		else
			audit_tenant(r, "tenant.delete", id, details, &err);
		return respond_infra_error(r, &err);
	}
	audit_tenant(r, "tenant.delete", id, details, NULL);
	return respond_no_content(r);
}

/* The optional body of POST /tenants/{id}/migrate: {target_version}.
 * -1 after answering. */
static int target_version_or_respond(struct request *r, char version[MIG_VERSION_MAX + 1],
				     const char **target)
{
	json_object *body, *fields, *v;
	const char *s;

	*target = NULL;
	if (r->content_length <= 0 && r->content_type[0] == '\0') {
		request_drain_body(r);
		return 0;
	}
	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	fields = json_object_new_object();
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "target_version") != 0)
			json_object_object_add(fields, key, json_object_new_string("unknown field"));
	}
	if (json_object_object_get_ex(body, "target_version", &v) && v != NULL) {
		s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (s != NULL && strcmp(s, "latest") == 0)
			;
		else if (s != NULL && mig_version_parse(s, strlen(s), version, NULL) == 0)
			*target = version;
		else
			json_object_object_add(fields, "target_version", json_object_new_string(
				"must be a version (digits separated by dots or underscores) or latest"));
	}
	json_object_put(body);
	if (json_object_object_length(fields) > 0)
		return respond_invalid_fields(r, fields);
	json_object_put(fields);
	return 0;
}

/* POST /tenants/{id-or-slug}/migrate: 202 with an execution of scope
 * tenant; a failed tenant's schema is created first. */
int handle_tenants_migrate(struct request *r)
{
	char version[MIG_VERSION_MAX + 1], conflict[UUID_STR_LEN] = "", location[64];
	const char *target, *ref = request_path_param(r, "id");
	struct infra_error err;
	json_object *exec, *details, *id;

	if (target_version_or_respond(r, version, &target) != 0)
		return -1;
	details = json_object_new_object();
	json_object_object_add(details, "tenant", json_object_new_string(ref));
	json_object_object_add(details, "target_version", target ? json_object_new_string(target) : NULL);
	if (tenant_migrate(&r->app->db, r->app->cfg, ref, scope_of(r), actor_of(r), target, &exec,
			   conflict, &err) != 0) {
		if (err.kind == INFRA_ENOTFOUND) {
			json_object_put(details);
			return respond_infra_error(r, &err);
		}
		audit_tenant(r, "tenant.migrate", ref, details, &err);
		if (err.kind == INFRA_ECONFLICT && conflict[0] != '\0') {
			json_object *d = json_object_new_object();

			json_object_object_add(d, "execution_id", json_object_new_string(conflict));
			return respond_error(r, 409, "RES_002", err.message, d);
		}
		return respond_infra_error(r, &err);
	}
	json_object_object_get_ex(exec, "id", &id);
	json_object_object_add(details, "execution_id", json_object_get(id));
	audit_tenant(r, "tenant.migrate", ref, details, NULL);
	snprintf(location, sizeof(location), "/migrations/%s", json_object_get_string(id));
	respond_header(r, "Location", location);
	return respond_json(r, 202, exec);
}
