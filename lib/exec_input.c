/* exec_input.c — what an execution request may say, validated through one
 * table of field → validator (kcgi's habit), and the pure computations
 * around executions: the request's digest for Idempotency-Key, progress
 * and the final status (see exec.h). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "registry.h"

static const char *const scope_names[] = {
	[EXEC_SCOPE_ALL] = "all", [EXEC_SCOPE_ADMIN] = "admin",
	[EXEC_SCOPE_REGIONAL] = "regional", [EXEC_SCOPE_TENANT] = "tenant",
	[EXEC_SCOPE_SINGLE] = "single",
};

#define NSCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

const char *exec_scope_name(enum exec_scope s)
{
	return (size_t)s < NSCOPES ? scope_names[s] : "?";
}

int exec_scope_parse(const char *name, enum exec_scope *out)
{
	for (size_t i = 0; i < NSCOPES; i++) {
		if (strcmp(name, scope_names[i]) == 0) {
			*out = (enum exec_scope)i;
			return 0;
		}
	}
	return -1;
}

/* --- the field table --- */

/* A validator: NULL when `v` (never JSON null) is acceptable, having
 * filled its part of `out`; otherwise why not. */
typedef const char *(*exec_check_fn)(json_object *v, struct exec_request *out);

static const char *string_of(json_object *v)
{
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static const char *check_scope(json_object *v, struct exec_request *out)
{
	const char *s = string_of(v);

	if (s == NULL || exec_scope_parse(s, &out->scope) != 0)
		return "must be one of all, admin, regional, tenant, single";
	return NULL;
}

static const char *check_region(json_object *v, struct exec_request *out)
{
	const char *s = string_of(v);

	if (s == NULL)
		return "must be a string";
	out->region = s;
	return registry_check_region(s);
}

static const char *check_tenant(json_object *v, struct exec_request *out)
{
	const char *s = string_of(v);

	if (s == NULL)
		return "must be a string";
	out->tenant = s;
	return registry_check_tenant(s);
}

static const char *check_database_id(json_object *v, struct exec_request *out)
{
	const char *s = string_of(v);

	if (s == NULL || !uuid_is_valid(s))
		return "must be a database id (a UUID)";
	out->database_id = s;
	return NULL;
}

static const char *check_database_type(json_object *v, struct exec_request *out)
{
	const char *s = string_of(v);

	if (s == NULL || !registry_database_type_valid(s))
		return "must be one of admin, shared, analytics, tenant";
	out->database_type = s;
	return NULL;
}

static const char *check_target_version(json_object *v, struct exec_request *out)
{
	const char *s = string_of(v);

	if (s == NULL)
		return "must be a string";
	if (strcmp(s, "latest") == 0) {
		out->target_version = NULL;
		return NULL;
	}
	if (mig_version_parse(s, strlen(s), out->version_buf, NULL) != 0)
		return "must be a version (digits separated by dots or underscores) or latest";
	out->target_version = out->version_buf;
	return NULL;
}

static const char *check_dry_run(json_object *v, struct exec_request *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return "must be true or false";
	out->dry_run = json_object_get_boolean(v);
	return NULL;
}

#define FORM_BIT(f) (1u << (f))
#define ALL_FORMS (FORM_BIT(EXEC_FORM_EXECUTE) | FORM_BIT(EXEC_FORM_FILTERS))

static const struct exec_field {
	const char *name;
	unsigned forms;		/* where the field may appear */
	exec_check_fn check;
} fields[] = {
	{ "scope", ALL_FORMS, check_scope },
	{ "region", ALL_FORMS, check_region },
	{ "tenant", ALL_FORMS, check_tenant },
	{ "database_id", ALL_FORMS, check_database_id },
	{ "database_type", ALL_FORMS, check_database_type },
	{ "target_version", ALL_FORMS, check_target_version },
	{ "dry_run", FORM_BIT(EXEC_FORM_EXECUTE), check_dry_run },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct exec_field *field_find(const char *name, enum exec_form form)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].name, name) == 0 && (fields[i].forms & FORM_BIT(form)))
			return &fields[i];
	return NULL;
}

/* The field a scope needs, or NULL. */
static const char *scope_needs(enum exec_scope s)
{
	switch (s) {
	case EXEC_SCOPE_REGIONAL: return "region";
	case EXEC_SCOPE_TENANT: return "tenant";
	case EXEC_SCOPE_SINGLE: return "database_id";
	case EXEC_SCOPE_ALL:
	case EXEC_SCOPE_ADMIN: return NULL;
	}
	return NULL;
}

static bool present(const struct exec_request *req, const char *field)
{
	if (strcmp(field, "region") == 0)
		return req->region != NULL;
	if (strcmp(field, "tenant") == 0)
		return req->tenant != NULL;
	return req->database_id != NULL;
}

int exec_request_parse(json_object *body, enum exec_form form, struct exec_request *out,
		       json_object **problems)
{
	json_object *bad = json_object_new_object();
	bool have_scope = false;

	memset(out, 0, sizeof(*out));
	*problems = NULL;
	json_object_object_foreach(body, key, val) {
		const struct exec_field *f = field_find(key, form);
		const char *why;

		if (f == NULL) {
			json_object_object_add(bad, key, json_object_new_string("unknown field"));
			continue;
		}
		if (val == NULL)	/* JSON null: as if absent */
			continue;
		why = f->check(val, out);
		if (why != NULL)
			json_object_object_add(bad, key, json_object_new_string(why));
		else if (f->check == check_scope)
			have_scope = true;
	}
	if (!have_scope && !json_object_object_get_ex(bad, "scope", NULL)) {
		json_object_object_add(bad, "scope", json_object_new_string("is required"));
	} else if (have_scope) {
		const char *need = scope_needs(out->scope);
		char why[64];

		if (need != NULL && !present(out, need) && !json_object_object_get_ex(bad, need, NULL)) {
			snprintf(why, sizeof(why), "is required for scope %s", exec_scope_name(out->scope));
			json_object_object_add(bad, need, json_object_new_string(why));
		}
	}
	if (json_object_object_length(bad) > 0) {
		*problems = bad;
		return -1;
	}
	json_object_put(bad);
	return 0;
}

/* --- single-target bodies --- */

typedef const char *(*exec_single_fn)(json_object *v, struct exec_single *out);

static const char *single_database_id(json_object *v, struct exec_single *out)
{
	const char *s = string_of(v);

	if (s == NULL || !uuid_is_valid(s))
		return "must be a database id (a UUID)";
	out->database_id = s;
	return NULL;
}

static const char *single_schema(json_object *v, struct exec_single *out)
{
	const char *s = string_of(v);

	if (s == NULL)
		return "must be a string";
	out->schema = s;
	return registry_check_identifier(s, strlen(s));
}

static const char *single_version(json_object *v, struct exec_single *out)
{
	const char *s = string_of(v);

	if (s == NULL || mig_version_parse(s, strlen(s), out->version_buf, NULL) != 0)
		return "must be a version (digits separated by dots or underscores)";
	out->version = out->version_buf;
	return NULL;
}

static const struct exec_single_field {
	const char *name;
	bool version_only;
	exec_single_fn check;
} single_fields[] = {
	{ "database_id", false, single_database_id },
	{ "schema", false, single_schema },
	{ "version", true, single_version },
};

int exec_single_parse(json_object *body, bool with_version, struct exec_single *out,
		      json_object **problems)
{
	json_object *bad = json_object_new_object();

	memset(out, 0, sizeof(*out));
	*problems = NULL;
	json_object_object_foreach(body, key, val) {
		const struct exec_single_field *f = NULL;
		const char *why;

		for (size_t i = 0; i < sizeof(single_fields) / sizeof(single_fields[0]); i++)
			if (strcmp(single_fields[i].name, key) == 0 &&
			    (with_version || !single_fields[i].version_only))
				f = &single_fields[i];
		if (f == NULL) {
			json_object_object_add(bad, key, json_object_new_string("unknown field"));
			continue;
		}
		if (val != NULL && (why = f->check(val, out)) != NULL)
			json_object_object_add(bad, key, json_object_new_string(why));
	}
	if (out->database_id == NULL && !json_object_object_get_ex(bad, "database_id", NULL))
		json_object_object_add(bad, "database_id", json_object_new_string("is required"));
	if (with_version && out->version == NULL && !json_object_object_get_ex(bad, "version", NULL))
		json_object_object_add(bad, "version", json_object_new_string("is required"));
	if (json_object_object_length(bad) > 0) {
		*problems = bad;
		return -1;
	}
	json_object_put(bad);
	return 0;
}

static json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *exec_request_filters_json(const struct exec_request *req)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "region", string_or_null(req->region));
	json_object_object_add(o, "tenant", string_or_null(req->tenant));
	json_object_object_add(o, "database_id", string_or_null(req->database_id));
	json_object_object_add(o, "database_type", string_or_null(req->database_type));
	return o;
}

void exec_request_hash(const struct exec_request *req, const char *kind, char out[EXEC_HASH_LEN])
{
	const char *parts[] = {
		kind, exec_scope_name(req->scope), req->region, req->tenant, req->database_id,
		req->database_type, req->target_version, req->dry_run ? "dry_run" : "run",
	};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();	/* no SHA-256: nothing sensible to do */
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		/* Absent and empty differ: a tag byte before each part. */
		const char tag = parts[i] ? 'v' : '-';

		EVP_DigestUpdate(ctx, &tag, 1);
		if (parts[i] != NULL)
			EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned int i = 0; i < mdlen && 2 * i + 2 < EXEC_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

const char *exec_check_idempotency_key(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > EXEC_IDEMPOTENCY_KEY_MAX)
		return "Idempotency-Key must be 1 to 200 characters";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e)
			return "Idempotency-Key must be printable ASCII without spaces";
	return NULL;
}

int exec_parse_last_event_id(const char *s, int64_t *seq)
{
	char *end;
	long long v;

	*seq = 0;
	if (s == NULL || *s == '\0')
		return 0;
	if (*s < '0' || *s > '9' || strlen(s) > 18)
		return -1;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -1;
	*seq = v;
	return 0;
}

/* --- progress --- */

void exec_progress_compute(struct exec_progress *p, int total, int completed, int failed,
			   int skipped, int64_t started_at, int64_t now)
{
	int done = completed + failed + skipped;

	p->total = total;
	p->completed = completed;
	p->failed = failed;
	p->skipped = skipped;
	p->percent = total > 0 ? 100.0 * done / total : 0.0;
	if (p->percent > 100.0)
		p->percent = 100.0;
	p->estimated_completion = 0;
	if (done > 0 && done < total && started_at > 0 && now >= started_at) {
		/* Seconds per finished target so far, parallelism included. */
		double per_target = (double)(now - started_at) / done;

		p->estimated_completion = now + (int64_t)(per_target * (total - done) + 0.999);
	}
}

const char *exec_final_status(bool cancel_requested, int failed, int skipped)
{
	if (cancel_requested)
		return "cancelled";
	return failed + skipped > 0 ? "failed" : "completed";
}
