/* migrations.c — /migrations: executions over HTTP (start, list, read,
 * targets, cancel, rollback), the dry-run plan, validation, a target's
 * history, repair and baseline. Thin: validate, call lib/exec.h and
 * lib/exec_run.h, render, audit. Long work never runs here: an execution
 * is recorded and answered 202, and the job runners run it; only reads
 * (plan, validate, history) and one-target repair or baseline run within
 * the request. The event stream is in migration_events.c. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "exec.h"
#include "exec_run.h"
#include "http.h"
#include "log.h"
#include "routes.h"

static const char *scope_of(const struct request *r)
{
	return r->principal ? r->principal->tenant : NULL;
}

static const char *actor_of(const struct request *r)
{
	const struct principal *p = r->principal;

	return p && p->username ? p->username : p && p->sub ? p->sub : "anonymous";
}

/* The query parameters as a JSON object of strings, for the field tables. */
static json_object *query_json(const struct request *r)
{
	json_object *o = json_object_new_object();

	for (int i = 0; i < r->nquery; i++)
		json_object_object_add(o, r->query[i].name, json_object_new_string(r->query[i].value));
	return o;
}

static int request_or_respond(struct request *r, json_object *body, enum exec_form form,
			      struct exec_request *req)
{
	json_object *problems;

	if (exec_request_parse(body, form, req, &problems) != 0)
		return respond_invalid_fields(r, problems);
	/* A tenant-bound token acts on its own tenant only. */
	if (scope_of(r) != NULL && req->tenant != NULL && strcmp(req->tenant, scope_of(r)) != 0)
		return respond_error(r, 403, "AUTH_002",
				     "a tenant-bound token acts only on its own tenant's databases", NULL);
	return 0;
}

static int single_or_respond(struct request *r, json_object *body, bool with_version,
			     struct exec_single *s)
{
	json_object *problems;

	if (exec_single_parse(body, with_version, s, &problems) != 0)
		return respond_invalid_fields(r, problems);
	return 0;
}

/* The targets of `req` as engine targets. -1 after answering. */
static int fleet_or_respond(struct request *r, const struct exec_request *req,
			    struct exec_fleet *fleet)
{
	struct infra_error err;
	PGresult *res = exec_resolve(&r->app->db, req, scope_of(r), &err);
	int rc;

	exec_fleet_init(fleet);
	if (res == NULL)
		return respond_infra_error(r, &err);
	rc = exec_fleet_add(fleet, &r->app->db, r->app->cfg, res, 0, EXEC_COL_SCHEMA, EXEC_COL_TYPE,
			    &err);
	PQclear(res);
	if (rc != 0) {
		exec_fleet_release(fleet);
		return respond_infra_error(r, &err);
	}
	return 0;
}

/* Every database type among the targets of `req` has a migration set
 * that loads. -1 after answering 422 MIG_001 (or the lookup's error). */
static int sets_or_respond(struct request *r, const struct exec_request *req)
{
	struct infra_error err;
	PGresult *res = exec_resolve(&r->app->db, req, scope_of(r), &err);
	int rc = 0;

	if (res == NULL)
		return respond_infra_error(r, &err);
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		if (exec_set_get(r->app->cfg->migrations_root, PQgetvalue(res, i, EXEC_COL_TYPE), &err) == NULL)
			rc = respond_infra_error(r, &err);
	PQclear(res);
	return rc;
}

/* The dry run: what migrate would apply to each target; changes nothing. */
static int respond_plan(struct request *r, const struct exec_request *req)
{
	struct exec_fleet fleet;
	json_object *o;

	if (fleet_or_respond(r, req, &fleet) != 0)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "dry_run", json_object_new_boolean(true));
	json_object_object_add(o, "scope", json_object_new_string(exec_scope_name(req->scope)));
	json_object_object_add(o, "target_version",
			       req->target_version ? json_object_new_string(req->target_version) : NULL);
	json_object_object_add(o, "plan", exec_fleet_inspect(&fleet, r->app->cfg, MIG_CMD_PLAN,
							     req->target_version));
	exec_fleet_release(&fleet);
	return respond_json(r, 200, o);
}

static void audit_execution(struct request *r, const char *action, const char *id,
			    const char *outcome, json_object *details, const struct infra_error *err)
{
	if (details == NULL)
		details = json_object_new_object();
	if (err != NULL)
		json_object_object_add(details, "reason", json_object_new_string(err->message));
	http_audit(r, action, "execution", id, outcome, details);
}

/* 409 naming the execution in the way, or any other error. */
static int respond_create_error(struct request *r, const struct infra_error *err,
				const char *conflict_id)
{
	json_object *details;

	if (err->kind != INFRA_ECONFLICT || conflict_id[0] == '\0')
		return respond_infra_error(r, err);
	details = json_object_new_object();
	json_object_object_add(details, "execution_id", json_object_new_string(conflict_id));
	return respond_error(r, 409, "RES_002", err->message, details);
}

static int respond_execution(struct request *r, int status, json_object *exec)
{
	json_object *id;
	char location[64];

	if (json_object_object_get_ex(exec, "id", &id)) {
		snprintf(location, sizeof(location), "/migrations/%s", json_object_get_string(id));
		respond_header(r, "Location", location);
	}
	return respond_json(r, status, exec);
}

/* A present Idempotency-Key must be 1–200 printable ASCII characters:
 * an empty one is refused, not taken for none. Returns 0, or -1 after
 * answering 422. */
static int idempotency_key_or_respond(struct request *r, const char *key)
{
	const char *why = key != NULL ? exec_check_idempotency_key(key) : NULL;
	json_object *fields;

	if (why == NULL)
		return 0;
	fields = json_object_new_object();
	json_object_object_add(fields, "Idempotency-Key", json_object_new_string(why));
	return respond_invalid_fields(r, fields);
}

/* POST /migrations/execute */
int handle_migrations_execute(struct request *r)
{
	struct exec_request req;
	struct infra_error err;
	json_object *body, *exec, *details, *id;
	char conflict[UUID_STR_LEN] = "";
	const char *key = r->idempotency_key;
	bool replayed;
	struct exec_new n = {
		.req = &req, .kind = "migrate", .source = "api", .executed_by = actor_of(r),
		.tenant = scope_of(r), .idempotency_key = key,
	};

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (request_or_respond(r, body, EXEC_FORM_EXECUTE, &req) != 0) {
		json_object_put(body);
		return -1;
	}
	if (idempotency_key_or_respond(r, key) != 0) {
		json_object_put(body);
		return -1;
	}
	if (req.dry_run) {
		int rc = key != NULL && exec_dry_run_key_check(&r->app->db, actor_of(r), key, &err) != 0
			? respond_infra_error(r, &err) : respond_plan(r, &req);

		json_object_put(body);
		return rc;
	}
	details = json_object_new_object();
	json_object_object_add(details, "scope", json_object_new_string(exec_scope_name(req.scope)));
	json_object_object_add(details, "filters", exec_request_filters_json(&req));
	json_object_object_add(details, "target_version",
			       req.target_version ? json_object_new_string(req.target_version) : NULL);
	if (sets_or_respond(r, &req) != 0 ||
	    exec_create(&r->app->db, &n, scope_of(r), &exec, &replayed, conflict, &err) != 0) {
		if (!r->responded) {
			audit_execution(r, "migration.execute", NULL, "failure", details, &err);
			respond_create_error(r, &err, conflict);
		} else {
			json_object_put(details);
		}
		json_object_put(body);
		return -1;
	}
	json_object_put(body);
	if (replayed) {
		/* The retry of a request already accepted: the same answer. */
		json_object_put(details);
		respond_header(r, "Idempotent-Replayed", "true");
		return respond_execution(r, 202, exec);
	}
	json_object_object_get_ex(exec, "id", &id);
	json_object_object_add(details, "idempotency_key", key ? json_object_new_string(key) : NULL);
	audit_execution(r, "migration.execute", json_object_get_string(id), "success", details, NULL);
	return respond_execution(r, 202, exec);
}

/* GET /migrations?status=&limit=&cursor= */
int handle_migrations_list(struct request *r)
{
	struct exec_filter f = { 0 };
	struct infra_error err;
	json_object *page;
	long limit;

	if (request_query_int_or_respond(r, "limit", 50, 1, 100, &limit) != 0)
		return -1;
	f.scope = scope_of(r);
	f.limit = (int)limit;
	f.status = request_query(r, "status");
	f.cursor = request_query(r, "cursor");
	if (f.status != NULL && f.status[0] == '\0')
		f.status = NULL;
	if (exec_list(&r->app->db, &f, &page, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, page);
}

/* GET /migrations/{id} */
int handle_migrations_get(struct request *r)
{
	struct infra_error err;
	json_object *exec;

	if (exec_get(&r->app->db, request_path_param(r, "id"), scope_of(r), &exec, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, exec);
}

/* GET /migrations/{id}/targets */
int handle_migrations_targets(struct request *r)
{
	struct infra_error err;
	json_object *page;

	if (exec_targets(&r->app->db, request_path_param(r, "id"), scope_of(r), &page, &err) != 0)
		return respond_infra_error(r, &err);
	return respond_json(r, 200, page);
}

/* POST /migrations/{id}/cancel */
int handle_migrations_cancel(struct request *r)
{
	const char *id = request_path_param(r, "id");
	struct infra_error err;
	json_object *exec;

	request_drain_body(r);
	if (exec_cancel(&r->app->db, id, scope_of(r), &exec, &err) != 0) {
		if (err.kind != INFRA_ENOTFOUND)
			audit_execution(r, "migration.cancel", id, "failure", NULL, &err);
		return respond_infra_error(r, &err);
	}
	audit_execution(r, "migration.cancel", id, "success", NULL, NULL);
	return respond_json(r, 202, exec);
}

/* Every undo script the rollback of `plan` needs exists. -1 after
 * answering 422 MIG_001 naming each target and version without one. */
static int undo_scripts_or_respond(struct request *r, const struct exec_undo_plan *plan,
				   struct infra_error *err)
{
	json_object *missing = json_object_new_array(), *details;
	const char *first_target = NULL, *first_version = NULL;

	for (size_t i = 0; i < plan->n; i++) {
		const struct exec_undo_target *t = &plan->targets[i];
		const struct mig_set *set = exec_set_get(r->app->cfg->migrations_root, t->database_type, err);

		for (size_t v = 0; v < t->nversions; v++) {
			json_object *m;

			if (set != NULL && mig_set_find(set, MIG_UNDO, t->versions[v]) != NULL)
				continue;
			m = json_object_new_object();
			json_object_object_add(m, "target", json_object_new_string(t->label));
			json_object_object_add(m, "version", json_object_new_string(t->versions[v]));
			json_object_array_add(missing, m);
			if (first_target == NULL) {
				first_target = t->label;
				first_version = t->versions[v];
			}
		}
	}
	if (first_target == NULL) {
		json_object_put(missing);
		return 0;
	}
	infra_fail(err, INFRA_EMIGRATION, "cannot roll back: no undo script (U%s__….sql) for version "
		   "%s of target %s%s", first_version, first_version, first_target,
		   json_object_array_length(missing) > 1 ? ", and others (details.missing)" : "");
	details = json_object_new_object();
	json_object_object_add(details, "missing", missing);
	respond_error(r, 422, "MIG_001", err->message, details);
	return -1;
}

/* The rollback of execution `id`: checked up front, then recorded. */
static int rollback_generic(struct request *r, const char *id)
{
	struct exec_undo_plan plan;
	struct exec_request req = { .scope = EXEC_SCOPE_ALL };
	struct infra_error err;
	json_object *exec, *details, *new_id;
	char conflict[UUID_STR_LEN] = "";
	struct exec_new n = {
		.req = &req, .kind = "undo", .source = "api", .executed_by = actor_of(r),
		.tenant = scope_of(r), .idempotency_key = NULL,
	};

	details = json_object_new_object();
	json_object_object_add(details, "rollback_of", json_object_new_string(id));
	if (exec_undo_plan_load(&r->app->db, id, scope_of(r), &plan, &err) != 0) {
		if (err.kind != INFRA_ENOTFOUND)
			audit_execution(r, "migration.rollback", NULL, "failure", details, &err);
		else
			json_object_put(details);
		return respond_infra_error(r, &err);
	}
	if (undo_scripts_or_respond(r, &plan, &err) != 0) {
		exec_undo_plan_release(&plan);
		audit_execution(r, "migration.rollback", NULL, "failure", details, &err);
		return -1;
	}
	json_object_object_add(details, "targets", json_object_new_int((int)plan.n));
	exec_undo_plan_release(&plan);
	if (exec_rollback_create(&r->app->db, id, &n, scope_of(r), &exec, conflict, &err) != 0) {
		audit_execution(r, "migration.rollback", NULL, "failure", details, &err);
		return respond_create_error(r, &err, conflict);
	}
	json_object_object_get_ex(exec, "id", &new_id);
	audit_execution(r, "migration.rollback", json_object_get_string(new_id), "success", details,
			NULL);
	return respond_execution(r, 202, exec);
}

/* POST /migrations/{id}/rollback */
int handle_migrations_rollback(struct request *r)
{
	request_drain_body(r);
	return rollback_generic(r, request_path_param(r, "id"));
}

/* POST /migrations/rollback {execution_id} */
int handle_migrations_rollback_body(struct request *r)
{
	json_object *body, *v = NULL, *fields;
	int rc;

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	fields = json_object_new_object();
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "execution_id") != 0)
			json_object_object_add(fields, key, json_object_new_string("unknown field"));
	}
	if (!json_object_object_get_ex(body, "execution_id", &v) || v == NULL)
		json_object_object_add(fields, "execution_id", json_object_new_string("is required"));
	else if (!json_object_is_type(v, json_type_string) || !uuid_is_valid(json_object_get_string(v)))
		json_object_object_add(fields, "execution_id",
				       json_object_new_string("must be an execution id (a UUID)"));
	if (json_object_object_length(fields) > 0) {
		json_object_put(body);
		return respond_invalid_fields(r, fields);
	}
	json_object_put(fields);
	rc = rollback_generic(r, json_object_get_string(v));
	json_object_put(body);
	return rc;
}

/* GET /migrations/plan?scope=&region=&tenant=&database_id=&database_type=&target_version= */
int handle_migrations_plan(struct request *r)
{
	struct exec_request req;
	json_object *q = query_json(r);
	int rc = request_or_respond(r, q, EXEC_FORM_FILTERS, &req);

	if (rc == 0)
		rc = respond_plan(r, &req);
	json_object_put(q);
	return rc;
}

/* POST /migrations/validate: filters → Flyway's problems per target */
int handle_migrations_validate(struct request *r)
{
	struct exec_request req;
	struct exec_fleet fleet;
	json_object *body, *o;

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (request_or_respond(r, body, EXEC_FORM_FILTERS, &req) != 0 ||
	    fleet_or_respond(r, &req, &fleet) != 0) {
		json_object_put(body);
		return -1;
	}
	o = json_object_new_object();
	json_object_object_add(o, "items", exec_fleet_inspect(&fleet, r->app->cfg, MIG_CMD_VALIDATE,
							      req.target_version));
	exec_fleet_release(&fleet);
	json_object_put(body);
	return respond_json(r, 200, o);
}

/* One command on one target (history, repair, baseline). `action` is the
 * audit action, NULL for a read. -1 after answering on failure. */
static int single_command(struct request *r, const struct exec_single *s, enum mig_command cmd,
			  const char *action)
{
	struct exec_fleet fleet;
	struct mig_options opts;
	struct infra_error err;
	json_object *out, *details = NULL;
	char busy_by[UUID_STR_LEN];
	int busy;

	exec_fleet_init(&fleet);
	if (exec_fleet_load_single(&fleet, &r->app->db, r->app->cfg, s->database_id, s->schema,
				   scope_of(r), &err) != 0) {
		exec_fleet_release(&fleet);
		return respond_infra_error(r, &err);
	}
	if (action != NULL) {
		details = json_object_new_object();
		json_object_object_add(details, "target", json_object_new_string(fleet.items[0].label));
		if (s->version != NULL)
			json_object_object_add(details, "version", json_object_new_string(s->version));
		/* Never under a running execution's feet. */
		busy = exec_target_busy(&r->app->db, s->database_id, fleet.items[0].schema, busy_by, &err);
		if (busy != 0) {
			exec_fleet_release(&fleet);
			if (busy > 0)
				infra_fail(&err, INFRA_ECONFLICT, "execution %s is running on this target; "
					   "retry when it has finished", busy_by);
			json_object_object_add(details, "reason", json_object_new_string(err.message));
			http_audit(r, action, "database", s->database_id, "failure", details);
			return respond_infra_error(r, &err);
		}
	}
	exec_engine_options(&opts, r->app->cfg, cmd);
	opts.parallel = 1;
	opts.retries = 0;
	opts.baseline_version = s->version;
	opts.installed_by = cmd == MIG_CMD_INFO ? NULL : actor_of(r);
	if (exec_fleet_single(&fleet, r->app->cfg, &opts, &out, &err) != 0) {
		exec_fleet_release(&fleet);
		if (action != NULL) {
			json_object_object_add(details, "reason", json_object_new_string(err.message));
			http_audit(r, action, "database", s->database_id, "failure", details);
		}
		return respond_infra_error(r, &err);
	}
	exec_fleet_release(&fleet);
	if (action != NULL)
		http_audit(r, action, "database", s->database_id, "success", details);
	return respond_json(r, 200, out);
}

/* GET /migrations/history?database_id=&schema= */
int handle_migrations_history(struct request *r)
{
	struct exec_single s;
	json_object *q = query_json(r);
	int rc = single_or_respond(r, q, false, &s);

	if (rc == 0)
		rc = single_command(r, &s, MIG_CMD_INFO, NULL);
	json_object_put(q);
	return rc;
}

static int single_body(struct request *r, bool with_version, enum mig_command cmd,
		       const char *action)
{
	struct exec_single s;
	json_object *body;
	int rc;

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	rc = single_or_respond(r, body, with_version, &s);
	if (rc == 0)
		rc = single_command(r, &s, cmd, action);
	json_object_put(body);
	return rc;
}

/* POST /migrations/repair {database_id, schema?} */
int handle_migrations_repair(struct request *r)
{
	return single_body(r, false, MIG_CMD_REPAIR, "migration.repair");
}

/* POST /migrations/baseline {database_id, schema?, version} */
int handle_migrations_baseline(struct request *r)
{
	return single_body(r, true, MIG_CMD_BASELINE, "migration.baseline");
}
