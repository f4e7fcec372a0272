/* registry_validate.c — validating a database's fields from a request body
 * through one declared table of field → validator (kcgi's khttp_parse
 * style): validators are pure, fill the typed value, and every bad field is
 * reported together with its reason. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "principal.h"
#include "registry.h"

#define STR_(x) #x
#define STR(x) STR_(x)

typedef const char *(*registry_validator)(json_object *v, struct registry_input *in);

#define FOR_CREATE (1u << REGISTRY_FOR_CREATE)
#define FOR_UPDATE (1u << REGISTRY_FOR_UPDATE)
#define FOR_TEST (1u << REGISTRY_FOR_TEST)
#define FOR_ALL (FOR_CREATE | FOR_UPDATE | FOR_TEST)

struct field_rule {
	const char *name;
	enum registry_field field;
	registry_validator check;
	unsigned required;	/* modes that need it */
	unsigned allowed;	/* modes that accept it */
	bool nullable;		/* JSON null clears it */
};

static const char *const database_types[] = { "admin", "shared", "analytics", "tenant" };
static const char *const sslmodes[] = {
	"disable", "allow", "prefer", "require", "verify-ca", "verify-full",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

bool registry_database_type_valid(const char *s)
{
	return s != NULL && in_list(s, database_types, sizeof(database_types) / sizeof(database_types[0]));
}

bool registry_sslmode_valid(const char *s)
{
	return s != NULL && in_list(s, sslmodes, sizeof(sslmodes) / sizeof(sslmodes[0]));
}

/* --- pure syntax checks --- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char *registry_check_host(const char *s)
{
	unsigned char addr[16];
	size_t len = strlen(s), label = 0;
	bool all_digits = true;	/* in the last label */

	if (len == 0 || len > REGISTRY_HOST_MAX)
		return "must be a host name of 1-" STR(REGISTRY_HOST_MAX) " characters or an IP address";
	if (inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1)
		return NULL;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 && !(c == '\0' && i == len && i > 0 && s[i - 1] == '.'))
				return "must be a DNS name (labels of 1-63 letters, digits or '-') or an IP address";
			if (label > 0 && (s[i - 1] == '-' || s[i - label] == '-'))
				return "a host name label may not start or end with '-'";
			/* The last label all digits: a mistyped address. */
			if (label > 0 && all_digits && (c == '\0' || s[i + 1] == '\0'))
				return "is neither a valid IP address nor a DNS name";
			if (c == '.')
				all_digits = true;
			label = 0;
			continue;
		}
		if (!is_alnum(c) && c != '-')
			return "must be a DNS name (labels of 1-63 letters, digits or '-') or an IP address";
		if (!(c >= '0' && c <= '9'))
			all_digits = false;
		if (++label > 63)
			return "a host name label may not be longer than 63 characters";
	}
	return NULL;
}

const char *registry_check_identifier(const char *s, size_t len)
{
	if (len == 0 || len > REGISTRY_IDENT_MAX)
		return "must be 1-" STR(REGISTRY_IDENT_MAX) " bytes (a PostgreSQL identifier)";
	if (strlen(s) != len)
		return "must not contain a NUL character";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "must not contain control characters";
	return NULL;
}

const char *registry_check_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > REGISTRY_NAME_MAX || !is_alnum(s[0]))
		return "must be 1-" STR(REGISTRY_NAME_MAX) " characters of [A-Za-z0-9._-], "
		       "starting with a letter or digit";
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return "must be 1-" STR(REGISTRY_NAME_MAX) " characters of [A-Za-z0-9._-], "
			       "starting with a letter or digit";
	return NULL;
}

const char *registry_check_region(const char *s)
{
	size_t len = strlen(s);
	static const char why[] = "must be 1-" STR(REGISTRY_REGION_MAX)
		" characters of [a-z0-9_-], starting with a letter or digit";

	if (len == 0 || len > REGISTRY_REGION_MAX || s[0] == '-' || s[0] == '_')
		return why;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_'))
			return why;
	return NULL;
}

const char *registry_check_tenant(const char *s)
{
	return principal_valid_tenant_slug(s) ? NULL
		: "must be a tenant slug: ^[a-z][a-z0-9_]{1,39}$";
}

static bool label_key_valid(const char *k)
{
	size_t len = strlen(k);

	if (len == 0 || len > REGISTRY_LABEL_KEY_MAX || !is_alnum(k[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(k[i]) && strchr("._/-", k[i]) == NULL)
			return false;
	return true;
}

const char *registry_check_labels(json_object *labels)
{
	if (!json_object_is_type(labels, json_type_object))
		return "must be an object of string values";
	if (json_object_object_length(labels) > REGISTRY_LABELS_MAX)
		return "may hold at most " STR(REGISTRY_LABELS_MAX) " labels";
	json_object_object_foreach(labels, key, val) {
		if (!label_key_valid(key))
			return "label names must be 1-" STR(REGISTRY_LABEL_KEY_MAX)
			       " characters of [A-Za-z0-9._/-], starting with a letter or digit";
		if (!json_object_is_type(val, json_type_string))
			return "label values must be strings (labels are a flat map)";
		if (json_object_get_string_len(val) > REGISTRY_LABEL_VALUE_MAX ||
		    strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
			return "label values must be at most " STR(REGISTRY_LABEL_VALUE_MAX)
			       " bytes without NUL characters";
	}
	return NULL;
}

/* --- validators: one per field, pure, filling `in` --- */

static const char *string_of(json_object *v, const char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	*out = json_object_get_string(v);
	return NULL;
}

static const char *v_name(json_object *v, struct registry_input *in)
{
	const char *why = string_of(v, &in->name);

	return why ? why : registry_check_name(in->name);
}

static const char *v_host(json_object *v, struct registry_input *in)
{
	const char *why = string_of(v, &in->host);

	return why ? why : registry_check_host(in->host);
}

static const char *v_port(json_object *v, struct registry_input *in)
{
	int64_t port;

	if (!json_object_is_type(v, json_type_int))
		return "must be an integer in 1..65535";
	port = json_object_get_int64(v);
	if (port < 1 || port > 65535)
		return "must be an integer in 1..65535";
	in->port = (int)port;
	return NULL;
}

static const char *identifier(json_object *v, const char **out)
{
	const char *why = string_of(v, out);

	return why ? why : registry_check_identifier(*out, (size_t)json_object_get_string_len(v));
}

static const char *v_database_name(json_object *v, struct registry_input *in)
{
	return identifier(v, &in->database_name);
}

static const char *v_username(json_object *v, struct registry_input *in)
{
	return identifier(v, &in->username);
}

static const char *v_schema(json_object *v, struct registry_input *in)
{
	return identifier(v, &in->schema);
}

static const char *v_password(json_object *v, struct registry_input *in)
{
	const char *why = string_of(v, &in->password);
	size_t len = (size_t)json_object_get_string_len(v);

	if (why != NULL)
		return why;
	if (len > REGISTRY_PASSWORD_MAX)
		return "must be at most " STR(REGISTRY_PASSWORD_MAX) " bytes";
	if (strlen(in->password) != len)
		return "must not contain a NUL character";
	return NULL;
}

static const char *v_database_type(json_object *v, struct registry_input *in)
{
	const char *why = string_of(v, &in->database_type);

	if (why == NULL && !registry_database_type_valid(in->database_type))
		why = "must be one of admin, shared, analytics, tenant";
	return why;
}

static const char *v_region(json_object *v, struct registry_input *in)
{
	const char *why;

	if (v == NULL) {
		in->region = NULL;
		return NULL;
	}
	why = string_of(v, &in->region);
	return why ? why : registry_check_region(in->region);
}

static const char *v_sslmode(json_object *v, struct registry_input *in)
{
	const char *why = string_of(v, &in->sslmode);

	if (why == NULL && !registry_sslmode_valid(in->sslmode))
		why = "must be one of disable, allow, prefer, require, verify-ca, verify-full";
	return why;
}

static const char *v_labels(json_object *v, struct registry_input *in)
{
	const char *why = registry_check_labels(v);

	if (why == NULL)
		in->labels = v;
	return why;
}

static const char *v_auto_migrate(json_object *v, struct registry_input *in)
{
	if (!json_object_is_type(v, json_type_boolean))
		return "must be true or false";
	in->auto_migrate = json_object_get_boolean(v);
	return NULL;
}

static const char *v_is_active(json_object *v, struct registry_input *in)
{
	if (!json_object_is_type(v, json_type_boolean))
		return "must be true or false";
	in->is_active = json_object_get_boolean(v);
	return NULL;
}

static const char *v_tenant(json_object *v, struct registry_input *in)
{
	const char *why;

	if (v == NULL) {
		in->tenant = NULL;
		return NULL;
	}
	why = string_of(v, &in->tenant);
	return why ? why : registry_check_tenant(in->tenant);
}

/* The table: every field a body may carry, its validator, when it is
 * required and when it is accepted. */
static const struct field_rule rules[] = {
	{ "name", REGISTRY_NAME, v_name, FOR_CREATE, FOR_ALL, false },
	{ "host", REGISTRY_HOST, v_host, FOR_CREATE | FOR_TEST, FOR_ALL, false },
	{ "port", REGISTRY_PORT, v_port, 0, FOR_ALL, false },
	{ "database_name", REGISTRY_DATABASE_NAME, v_database_name, FOR_CREATE | FOR_TEST, FOR_ALL, false },
	{ "username", REGISTRY_USERNAME, v_username, FOR_CREATE | FOR_TEST, FOR_ALL, false },
	{ "password", REGISTRY_PASSWORD, v_password, FOR_CREATE | FOR_TEST, FOR_ALL, false },
	{ "database_type", REGISTRY_DATABASE_TYPE, v_database_type, FOR_CREATE, FOR_ALL, false },
	{ "region", REGISTRY_REGION, v_region, 0, FOR_ALL, true },
	{ "schema", REGISTRY_SCHEMA, v_schema, 0, FOR_ALL, false },
	{ "sslmode", REGISTRY_SSLMODE, v_sslmode, 0, FOR_ALL, false },
	{ "labels", REGISTRY_LABELS, v_labels, 0, FOR_ALL, false },
	{ "auto_migrate", REGISTRY_AUTO_MIGRATE, v_auto_migrate, 0, FOR_ALL, false },
	{ "is_active", REGISTRY_IS_ACTIVE, v_is_active, 0, FOR_UPDATE, false },
	{ "tenant", REGISTRY_TENANT, v_tenant, 0, FOR_CREATE | FOR_UPDATE, true },
};

#define NRULES (sizeof(rules) / sizeof(rules[0]))

/* Fields of a database the server sets: named as such when sent. */
static const char *const read_only[] = {
	"id", "version", "created_at", "created_by", "updated_at", "updated_by",
};

static const struct field_rule *find_rule(const char *name)
{
	for (size_t i = 0; i < NRULES; i++)
		if (strcmp(rules[i].name, name) == 0)
			return &rules[i];
	return NULL;
}

int registry_input_parse(json_object *body, enum registry_mode mode,
			 struct registry_input *in, json_object **problems)
{
	json_object *bad = json_object_new_object();
	unsigned bit = 1u << mode;

	memset(in, 0, sizeof(*in));
	if (mode == REGISTRY_FOR_CREATE) {
		in->port = 5432;
		in->schema = "public";
		in->sslmode = "prefer";
		in->is_active = true;
	} else if (mode == REGISTRY_FOR_TEST) {
		in->port = 5432;
		in->sslmode = "prefer";
	}
	json_object_object_foreach(body, key, val) {
		const struct field_rule *r = find_rule(key);
		const char *why;

		if (r == NULL) {
			why = in_list(key, read_only, sizeof(read_only) / sizeof(read_only[0]))
				? "is read-only" : "is not a field of a database";
		} else if (!(r->allowed & bit)) {
			why = mode == REGISTRY_FOR_UPDATE ? "cannot be changed"
				: "cannot be set here";
		} else if (val == NULL && !r->nullable) {
			why = "must not be null";
		} else {
			why = r->check(val, in);
			if (why == NULL)
				in->present |= 1u << r->field;
		}
		if (why != NULL)
			json_object_object_add(bad, key, json_object_new_string(why));
	}
	for (size_t i = 0; i < NRULES; i++)
		if ((rules[i].required & bit) && !REGISTRY_HAS(in, rules[i].field) &&
		    json_object_object_get_ex(body, rules[i].name, NULL) == 0)
			json_object_object_add(bad, rules[i].name, json_object_new_string("is required"));
	if (mode == REGISTRY_FOR_UPDATE && in->present == 0 &&
	    json_object_object_length(bad) == 0)
		json_object_object_add(bad, "body", json_object_new_string("names no field to change"));
	if (json_object_object_length(bad) > 0) {
		*problems = bad;
		return -1;
	}
	json_object_put(bad);
	*problems = NULL;
	return 0;
}
