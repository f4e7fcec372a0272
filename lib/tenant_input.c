/* tenant_input.c — what a POST /tenants body may say, validated through
 * one table of field → validator (kcgi's habit), and the pure checks of
 * slugs, names and schemas (see tenant.h). */
#include <stdio.h>
#include <string.h>

#include "principal.h"
#include "tenant.h"

const char *tenant_check_slug(const char *s)
{
	return principal_valid_tenant_slug(s) ? NULL
		: "must match ^[a-z][a-z0-9_]{1,39}$ (a lowercase letter, then 1-39 lowercase "
		  "letters, digits or underscores)";
}

const char *tenant_check_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > TENANT_NAME_MAX)
		return "must be 1-200 characters";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "must not contain control characters";
	return NULL;
}

const char *tenant_check_schema(const char *s)
{
	size_t len = strlen(s);
	static const char why[] = "must match ^[a-z_][a-z0-9_]{0,62}$ (lowercase letters, digits "
				  "and underscores, not starting with a digit)";

	if (len == 0 || len > TENANT_SCHEMA_MAX || (s[0] >= '0' && s[0] <= '9'))
		return why;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return why;
	if (strncmp(s, "pg_", 3) == 0 || strcmp(s, "information_schema") == 0)
		return "is reserved by PostgreSQL";
	return NULL;
}

bool tenant_status_valid(const char *s)
{
	static const char *const statuses[] = { "provisioning", "active", "failed", "deleted" };

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(s, statuses[i]) == 0)
			return true;
	return false;
}

/* --- the field table --- */

/* A validator: NULL when `v` (never JSON null) is acceptable, having
 * filled its part of `in`; otherwise why not. */
typedef const char *(*tenant_check_fn)(json_object *v, struct tenant_input *in);

static const char *string_of(json_object *v)
{
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static const char *field_slug(json_object *v, struct tenant_input *in)
{
	if ((in->slug = string_of(v)) == NULL)
		return "must be a string";
	return tenant_check_slug(in->slug);
}

static const char *field_name(json_object *v, struct tenant_input *in)
{
	if ((in->name = string_of(v)) == NULL)
		return "must be a string";
	return tenant_check_name(in->name);
}

static const char *field_database_id(json_object *v, struct tenant_input *in)
{
	in->database_id = string_of(v);
	return uuid_is_valid(in->database_id) ? NULL : "must be a database id (a UUID)";
}

static const char *field_schema(json_object *v, struct tenant_input *in)
{
	if ((in->schema = string_of(v)) == NULL)
		return "must be a string";
	return tenant_check_schema(in->schema);
}

static const struct tenant_field {
	const char *name;
	bool required;
	tenant_check_fn check;
} fields[] = {
	{ "slug", true, field_slug },
	{ "name", false, field_name },
	{ "database_id", true, field_database_id },
	{ "schema", false, field_schema },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

int tenant_input_parse(json_object *body, struct tenant_input *in, json_object **problems)
{
	json_object *bad = json_object_new_object(), *v;

	memset(in, 0, sizeof(*in));
	*problems = NULL;
	json_object_object_foreach(body, key, val) {
		bool known = false;

		for (size_t i = 0; i < NFIELDS; i++)
			known |= strcmp(fields[i].name, key) == 0;
		if (!known)
			json_object_object_add(bad, key, json_object_new_string("unknown field"));
		(void)val;
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *why;

		/* JSON null is as if absent */
		if (!json_object_object_get_ex(body, fields[i].name, &v) || v == NULL) {
			if (fields[i].required)
				json_object_object_add(bad, fields[i].name, json_object_new_string("is required"));
			continue;
		}
		if ((why = fields[i].check(v, in)) != NULL)
			json_object_object_add(bad, fields[i].name, json_object_new_string(why));
	}
	if (json_object_object_length(bad) > 0) {
		*problems = bad;
		return -1;
	}
	json_object_put(bad);
	if (in->name == NULL)
		in->name = in->slug;
	if (in->schema == NULL) {
		snprintf(in->schema_buf, sizeof(in->schema_buf), TENANT_SCHEMA_PREFIX "%s", in->slug);
		in->schema = in->schema_buf;
	}
	return 0;
}
