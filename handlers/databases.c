/* databases.c — /databases: the registry of managed databases over HTTP
 * (create, list, get, update, delete, connection tests, health). Thin:
 * validate the request, call lib/registry.h, lib/pgprobe.h and
 * lib/probe.h, render JSON, audit. The password is write-only: it is never
 * rendered, logged or audited. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "pgprobe.h"
#include "principal.h"
#include "probe.h"
#include "registry.h"
#include "routes.h"
#include "timeutil.h"

#define MAX_ETAGS 8
#define JSON_TYPE "application/json; charset=utf-8"

/* The tenant a tenant-bound caller is confined to; NULL: platform-scoped. */
static const char *scope_of(const struct request *r)
{
	return r->principal ? r->principal->tenant : NULL;
}

static const char *actor_of(const struct request *r)
{
	return r->principal && r->principal->username ? r->principal->username : "anonymous";
}

static json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *time_json(int64_t us)
{
	char ts[ISO8601_MAX];

	return json_object_new_string(time_iso8601(ts, us / 1000000));
}

/* Labels are stored as a JSON object's text; one tokener per process,
 * reset per value (a new tokener per row costs more than the row). */
static json_object *labels_json(const char *text)
{
	static struct json_tokener *tok;
	json_object *o;

	if (text == NULL)
		return NULL;
	if (tok == NULL && (tok = json_tokener_new()) == NULL)
		return NULL;
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, text, -1);
	return json_tokener_get_error(tok) == json_tokener_success ? o : (json_object_put(o), NULL);
}

static json_object *database_json(const struct registry_database *d)
{
	json_object *o = json_object_new_object();
	json_object *labels = labels_json(d->labels);

	json_object_object_add(o, "id", json_object_new_string(d->id));
	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "host", json_object_new_string(d->host));
	json_object_object_add(o, "port", json_object_new_int(d->port));
	json_object_object_add(o, "database_name", json_object_new_string(d->database_name));
	json_object_object_add(o, "username", json_object_new_string(d->username));
	json_object_object_add(o, "database_type", json_object_new_string(d->database_type));
	json_object_object_add(o, "region", string_or_null(d->region));
	json_object_object_add(o, "schema", json_object_new_string(d->schema));
	json_object_object_add(o, "sslmode", json_object_new_string(d->sslmode));
	json_object_object_add(o, "labels", labels ? labels : json_object_new_object());
	json_object_object_add(o, "auto_migrate", json_object_new_boolean(d->auto_migrate));
	json_object_object_add(o, "is_active", json_object_new_boolean(d->is_active));
	json_object_object_add(o, "tenant", string_or_null(d->tenant));
	json_object_object_add(o, "created_at", time_json(d->created_at_us));
	json_object_object_add(o, "created_by", json_object_new_string(d->created_by));
	json_object_object_add(o, "updated_at", time_json(d->updated_at_us));
	json_object_object_add(o, "updated_by", json_object_new_string(d->updated_by));
	json_object_object_add(o, "version", json_object_new_int(d->version));
	return o;
}

/* ETags are strong: "<version>". A row's representation is a function of
 * its version, and If-Match compares strongly (RFC 9110 §13.1.1). */
static void respond_etag(struct request *r, int version)
{
	char etag[24];

	snprintf(etag, sizeof(etag), "\"%d\"", version);
	respond_header(r, "ETag", etag);
}

static int respond_database(struct request *r, int status, const struct registry_database *d)
{
	respond_etag(r, d->version);
	return respond_json(r, status, database_json(d));
}

/* One element of an If-Match list at *p, which is advanced to the comma
 * or the end after it. Returns the version when the element is exactly one
 * of our tags ("<version>": digits without a leading zero, then only
 * spaces), else 0: W/"…", a foreign or malformed tag ("1"garbage, "01",
 * "1) never matches, since a strong comparison is of the whole tag. */
static int etag_version(const char **p)
{
	const char *s = *p;
	char *end = NULL;
	long v = 0;

	if (s[0] == '"' && s[1] >= '1' && s[1] <= '9')
		v = strtol(s + 1, &end, 10);
	if (end == NULL || *end != '"' || v >= 1000000000)
		v = 0;
	else
		s = end + 1;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != ',' && *s != '\0')
		v = 0;
	*p = s + strcspn(s, ",");
	return (int)v;
}

/* Parse If-Match into the version the change requires: 0 when absent or
 * "*" (any existing version). A list of several tags is resolved against
 * the current version. A tag that can never match (weak, malformed) gives
 * 412. Returns 0, or -1 after answering. */
static int if_match_or_respond(struct request *r, int *version)
{
	int versions[MAX_ETAGS], n = 0;
	const char *p = r->if_match;

	*version = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || strcmp(p, "*") == 0)
		return 0;
	while (*p != '\0') {
		int v;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		v = etag_version(&p);
		if (v > 0 && n < MAX_ETAGS)
			versions[n++] = v;
	}
	if (n == 1) {
		*version = versions[0];
		return 0;
	}
	if (n > 1) {
		struct registry_rows rows;
		struct infra_error err;

		if (registry_get(&r->app->db, request_path_param(r, "id"), scope_of(r), &rows, &err) != 0)
			return respond_infra_error(r, &err);
		for (int i = 0; i < n; i++)
			if (versions[i] == rows.items[0].version)
				*version = versions[i];
		registry_rows_release(&rows);
		if (*version != 0)
			return 0;
	}
	return respond_error(r, 412, "RES_003", "If-Match does not match the database's ETag", NULL);
}

/* The process's key ring, or -1 after answering 500 (the reason, which
 * names the setting and never a key, goes to the log). */
static int keyring_or_respond(struct request *r, const struct crypto_keyring **ring)
{
	struct infra_error err;

	*ring = crypto_keyring_shared(r->app->cfg->encryption_keys, &err);
	if (*ring != NULL)
		return 0;
	log_error("cannot encrypt stored credentials: %s", err.message);
	return respond_error(r, 500, "INT_001", "internal error", NULL);
}

static int input_or_respond(struct request *r, json_object *body, enum registry_mode mode,
			    struct registry_input *in)
{
	json_object *problems;

	if (registry_input_parse(body, mode, in, &problems) == 0)
		return 0;
	return respond_invalid_fields(r, problems);
}

/* A tenant-bound caller may only name its own tenant. */
static int tenant_or_respond(struct request *r, struct registry_input *in, bool create)
{
	const char *scope = scope_of(r);

	if (scope == NULL)
		return 0;
	if (REGISTRY_HAS(in, REGISTRY_TENANT) && (in->tenant == NULL || strcmp(in->tenant, scope) != 0))
		return respond_error(r, 403, "AUTH_002",
				     "a tenant-bound token acts only on its own tenant's databases", NULL);
	if (create) {
		in->tenant = scope;
		in->present |= 1u << REGISTRY_TENANT;
	}
	return 0;
}

static int bool_query_or_respond(struct request *r, const char *name, bool def, bool *out)
{
	const char *v = request_query(r, name);
	json_object *fields;

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return 0;
	}
	fields = json_object_new_object();
	json_object_object_add(fields, name, json_object_new_string("must be true or false"));
	return respond_invalid_fields(r, fields);
}

static json_object *test_json(const struct pgprobe_result *res)
{
	json_object *o = json_object_new_object();
	char ms[32];

	snprintf(ms, sizeof(ms), "%.2f", res->latency_ms);
	json_object_object_add(o, "ok", json_object_new_boolean(res->ok));
	json_object_object_add(o, "latency_ms", json_object_new_double_s(res->latency_ms, ms));
	json_object_object_add(o, "server_version",
			       res->ok ? json_object_new_string(res->server_version) : NULL);
	json_object_object_add(o, "error", res->ok ? NULL : json_object_new_string(res->error));
	return o;
}

/* Where a database is, for audit details: never its password. */
static json_object *audit_target(const struct registry_input *in)
{
	json_object *o = json_object_new_object();

	if (in->name)
		json_object_object_add(o, "name", json_object_new_string(in->name));
	if (in->host)
		json_object_object_add(o, "host", json_object_new_string(in->host));
	json_object_object_add(o, "port", json_object_new_int(in->port));
	if (in->database_name)
		json_object_object_add(o, "database_name", json_object_new_string(in->database_name));
	if (in->username)
		json_object_object_add(o, "username", json_object_new_string(in->username));
	return o;
}

static struct pgprobe_target target_of(const struct registry_input *in)
{
	return (struct pgprobe_target){
		.host = in->host, .port = in->port, .dbname = in->database_name,
		.user = in->username, .password = in->password, .sslmode = in->sslmode,
	};
}

static void audit_failure(struct request *r, const char *action, const char *id,
			  json_object *details, const struct infra_error *err)
{
	if (details == NULL)
		details = json_object_new_object();
	json_object_object_add(details, "reason", json_object_new_string(err->message));
	http_audit(r, action, "database", id, "failure", details);
}

/* POST /databases[?verify=true|false] */
int handle_databases_create(struct request *r)
{
	const struct crypto_keyring *ring;
	struct registry_input in;
	struct registry_rows rows;
	struct infra_error err;
	json_object *body, *details;
	bool verify = true;
	char location[64];

	if (bool_query_or_respond(r, "verify", true, &verify) != 0 ||
	    request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (input_or_respond(r, body, REGISTRY_FOR_CREATE, &in) != 0 ||
	    tenant_or_respond(r, &in, true) != 0 || keyring_or_respond(r, &ring) != 0) {
		json_object_put(body);
		return -1;
	}
	details = audit_target(&in);
	json_object_object_add(details, "verified", json_object_new_boolean(verify));
	if (verify) {
		struct pgprobe_target t = target_of(&in);
		struct pgprobe_result res;
		json_object *fields, *d;

		pgprobe_run(&t, &res, 1, r->app->cfg->probe_timeout_s);
		if (!res.ok) {
			infra_fail(&err, INFRA_EINVAL, "connection test failed: %s", res.error);
			audit_failure(r, "database.create", NULL, details, &err);
			fields = json_object_new_object();
			json_object_object_add(fields, "connection", json_object_new_string(res.error));
			d = json_object_new_object();
			json_object_object_add(d, "fields", fields);
			json_object_object_add(d, "test", test_json(&res));
			json_object_put(body);
			return respond_error(r, 422, "VAL_001", err.message, d);
		}
	}
	if (registry_create(&r->app->db, ring, &in, actor_of(r), &rows, &err) != 0) {
		audit_failure(r, "database.create", NULL, details, &err);
		json_object_put(body);
		return respond_infra_error(r, &err);
	}
	json_object_put(body);
	registry_cache_bump(r->app->cache);
	json_object_object_add(details, "tenant", string_or_null(rows.items[0].tenant));
	http_audit(r, "database.create", "database", rows.items[0].id, "success", details);
	snprintf(location, sizeof(location), "/databases/%s", rows.items[0].id);
	respond_header(r, "Location", location);
	respond_database(r, 201, &rows.items[0]);
	registry_rows_release(&rows);
	return 0;
}

/* GET /databases?region=&database_type=&active=&q=&limit=&cursor= */
int handle_databases_list(struct request *r)
{
	struct registry_filter f = { 0 };
	struct registry_rows rows;
	struct infra_error err;
	json_object *o, *items, *fields = json_object_new_object();
	const char *active = request_query(r, "active");
	char key[CACHE_KEY_MAX], *text;
	const char *body;
	size_t len;
	long limit;

	if (request_query_int_or_respond(r, "limit", 50, 1, 100, &limit) != 0) {
		json_object_put(fields);
		return -1;
	}
	f.scope = scope_of(r);
	f.limit = (int)limit;
	f.region = request_query(r, "region");
	f.database_type = request_query(r, "database_type");
	f.q = request_query(r, "q");
	f.cursor = request_query(r, "cursor");
	if (f.region != NULL && *f.region == '\0')
		f.region = NULL;
	if (f.database_type != NULL && *f.database_type == '\0')
		f.database_type = NULL;
	if (f.region != NULL && registry_check_region(f.region) != NULL)
		json_object_object_add(fields, "region", json_object_new_string(registry_check_region(f.region)));
	if (f.database_type != NULL && !registry_database_type_valid(f.database_type))
		json_object_object_add(fields, "database_type",
				       json_object_new_string("must be one of admin, shared, analytics, tenant"));
	if (f.q != NULL && strlen(f.q) > REGISTRY_NAME_MAX)
		json_object_object_add(fields, "q", json_object_new_string("must be at most 100 characters"));
	if (active == NULL || *active == '\0' || strcmp(active, "true") == 0)
		f.active = 1;
	else if (strcmp(active, "false") == 0)
		f.active = 0;
	else if (strcmp(active, "any") == 0)
		f.active = -1;
	else
		json_object_object_add(fields, "active", json_object_new_string("must be true, false or any"));
	if (json_object_object_length(fields) > 0)
		return respond_invalid_fields(r, fields);
	json_object_put(fields);
	registry_list_cache_key(r->app->cache, &f, key);
	text = cache_get(r->app->cache, key, &len);
	if (text != NULL) {
		respond_header(r, "X-Cache", "hit");
		respond_text(r, 200, JSON_TYPE, text, len);
		free(text);
		return 0;
	}
	if (registry_list(&r->app->db, &f, &rows, &err) != 0)
		return respond_infra_error(r, &err);
	o = json_object_new_object();
	items = json_object_new_array_ext(rows.n);
	for (int i = 0; i < rows.n; i++)
		json_object_array_add(items, database_json(&rows.items[i]));
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "next_cursor",
			       rows.next_cursor[0] ? json_object_new_string(rows.next_cursor) : NULL);
	json_object_object_add(o, "total", json_object_new_int64(rows.total));
	registry_rows_release(&rows);
	body = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	cache_set(r->app->cache, key, body, len, REGISTRY_LIST_CACHE_TTL);
	respond_header(r, "X-Cache", "miss");
	respond_text(r, 200, JSON_TYPE, body, len);
	json_object_put(o);
	return 0;
}

/* GET /databases/{id} */
int handle_databases_get(struct request *r)
{
	struct registry_rows rows;
	struct infra_error err;

	if (registry_get(&r->app->db, request_path_param(r, "id"), scope_of(r), &rows, &err) != 0)
		return respond_infra_error(r, &err);
	respond_database(r, 200, &rows.items[0]);
	registry_rows_release(&rows);
	return 0;
}

/* The names of the fields a PATCH changed, for the audit trail. */
static json_object *changed_fields(json_object *body)
{
	json_object *a = json_object_new_array();

	json_object_object_foreach(body, key, val) {
		(void)val;
		json_object_array_add(a, json_object_new_string(key));
	}
	return a;
}

/* PATCH /databases/{id} (If-Match honoured, optional) */
int handle_databases_update(struct request *r)
{
	const char *id = request_path_param(r, "id");
	const struct crypto_keyring *ring = NULL;
	struct registry_input in;
	struct registry_rows rows;
	struct infra_error err;
	json_object *body, *details;
	int version;

	if (!uuid_is_valid(id))
		return respond_error(r, 404, "RES_001", "no such database", NULL);
	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (input_or_respond(r, body, REGISTRY_FOR_UPDATE, &in) != 0 ||
	    tenant_or_respond(r, &in, false) != 0 ||
	    (REGISTRY_HAS(&in, REGISTRY_PASSWORD) && keyring_or_respond(r, &ring) != 0) ||
	    if_match_or_respond(r, &version) != 0) {
		json_object_put(body);
		return -1;
	}
	details = json_object_new_object();
	json_object_object_add(details, "changed", changed_fields(body));
	if (version > 0)
		json_object_object_add(details, "if_match", json_object_new_int(version));
	if (registry_update(&r->app->db, ring, id, scope_of(r), &in, version, actor_of(r),
			    &rows, &err) != 0) {
		json_object_put(body);
		if (err.kind == INFRA_ENOTFOUND)
			json_object_put(details);	/* nothing of ours was touched */
		else
			audit_failure(r, "database.update", id, details, &err);
		return respond_infra_error(r, &err);
	}
	json_object_put(body);
	registry_cache_bump(r->app->cache);
	probe_health_forget(r->app->cache, id);
	json_object_object_add(details, "version", json_object_new_int(rows.items[0].version));
	http_audit(r, "database.update", "database", id, "success", details);
	respond_database(r, 200, &rows.items[0]);
	registry_rows_release(&rows);
	return 0;
}

/* DELETE /databases/{id}: soft delete (If-Match honoured, optional) */
int handle_databases_delete(struct request *r)
{
	const char *id = request_path_param(r, "id");
	struct infra_error err;
	int version;

	if (!uuid_is_valid(id))
		return respond_error(r, 404, "RES_001", "no such database", NULL);
	if (if_match_or_respond(r, &version) != 0)
		return -1;
	if (registry_delete(&r->app->db, id, scope_of(r), version, actor_of(r), &err) != 0) {
		if (err.kind != INFRA_ENOTFOUND)
			audit_failure(r, "database.delete", id, NULL, &err);
		return respond_infra_error(r, &err);
	}
	registry_cache_bump(r->app->cache);
	probe_health_forget(r->app->cache, id);
	http_audit(r, "database.delete", "database", id, "success", NULL);
	return respond_no_content(r);
}

static void audit_test(struct request *r, const char *id, json_object *details,
		       const struct pgprobe_result *res)
{
	json_object_object_add(details, "ok", json_object_new_boolean(res->ok));
	if (!res->ok)
		json_object_object_add(details, "error", json_object_new_string(res->error));
	http_audit(r, "database.test", "database", id, res->ok ? "success" : "failure", details);
}

/* POST /databases/{id}/test */
int handle_databases_test(struct request *r)
{
	const char *id = request_path_param(r, "id");
	const struct crypto_keyring *ring;
	struct registry_target t;
	struct pgprobe_result res;
	struct infra_error err;

	request_drain_body(r);
	if (!uuid_is_valid(id))
		return respond_error(r, 404, "RES_001", "no such database", NULL);
	if (keyring_or_respond(r, &ring) != 0)
		return -1;
	if (registry_target_load(&r->app->db, ring, id, scope_of(r), &t, &err) != 0)
		return respond_infra_error(r, &err);
	if (t.credentials_ok) {
		pgprobe_run(&t.pg, &res, 1, r->app->cfg->probe_timeout_s);
	} else {
		memset(&res, 0, sizeof(res));
		snprintf(res.error, sizeof(res.error), "%s", t.error);
	}
	registry_target_release(&t);
	audit_test(r, id, json_object_new_object(), &res);
	return respond_json(r, 200, test_json(&res));
}

/* POST /databases/test: the same for an unsaved body */
int handle_databases_test_unsaved(struct request *r)
{
	struct registry_input in;
	struct pgprobe_target t;
	struct pgprobe_result res;
	json_object *body;

	if (request_json_body_or_respond(r, &body) != 0)
		return -1;
	if (input_or_respond(r, body, REGISTRY_FOR_TEST, &in) != 0) {
		json_object_put(body);
		return -1;
	}
	t = target_of(&in);
	pgprobe_run(&t, &res, 1, r->app->cfg->probe_timeout_s);
	audit_test(r, NULL, audit_target(&in), &res);
	json_object_put(body);
	return respond_json(r, 200, test_json(&res));
}

/* GET /databases/{id}/health */
int handle_databases_health_get(struct request *r)
{
	struct infra_error err;
	json_object *doc;
	bool cached;

	if (probe_health_get(&r->app->db, r->app->cache, r->app->cfg, request_path_param(r, "id"),
			     scope_of(r), &doc, &cached, &err) != 0)
		return respond_infra_error(r, &err);
	respond_header(r, "X-Cache", cached ? "hit" : "miss");
	return respond_json(r, 200, doc);
}
