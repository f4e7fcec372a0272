/* principal.c — the permission catalog, claims → principal, the
 * permission check and the principal's JSON forms (see principal.h). */
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"
#include "principal.h"
#include "role_bindings.h"
#include "timeutil.h"

#define PRINCIPAL_MAX_ROLES 256
#define TENANT_GROUP_PREFIX "/tenants/"

static const char *const permission_names[PERMISSION_COUNT] = {
	[PERMISSION_INFRASTRUCTURE_ADMIN] = "infrastructure:admin",
	[PERMISSION_INFRASTRUCTURE_READ] = "infrastructure:read",
	[PERMISSION_DATABASES_READ] = "databases:read",
	[PERMISSION_DATABASES_MANAGE] = "databases:manage",
	[PERMISSION_TENANTS_READ] = "tenants:read",
	[PERMISSION_TENANTS_MANAGE] = "tenants:manage",
	[PERMISSION_MIGRATIONS_READ] = "migrations:read",
	[PERMISSION_MIGRATIONS_EXECUTE] = "migrations:execute",
	[PERMISSION_MIGRATIONS_MANAGE] = "migrations:manage",
};

const char *permission_name(enum permission p)
{
	if ((int)p < 0 || p >= PERMISSION_COUNT)
		return NULL;
	return permission_names[p];
}

int permission_parse(const char *name, enum permission *out)
{
	for (int p = 0; name != NULL && p < PERMISSION_COUNT; p++) {
		if (strcmp(permission_names[p], name) == 0) {
			*out = (enum permission)p;
			return 0;
		}
	}
	return -1;
}

uint32_t permission_effective(uint32_t set)
{
	return set & PERMISSION_BIT(PERMISSION_INFRASTRUCTURE_ADMIN) ? PERMISSION_ALL
								     : set & PERMISSION_ALL;
}

json_object *permission_set_to_json(uint32_t set)
{
	json_object *a = json_object_new_array();

	for (int p = 0; p < PERMISSION_COUNT; p++)
		if (set & PERMISSION_BIT(p))
			json_object_array_add(a, json_object_new_string(permission_names[p]));
	return a;
}

json_object *permission_catalog_json(void)
{
	return permission_set_to_json(PERMISSION_ALL);
}

void principal_init(struct principal *p)
{
	memset(p, 0, sizeof(*p));
}

void principal_release(struct principal *p)
{
	free(p->sub);
	free(p->username);
	free(p->email);
	free(p->tenant);
	free(p->jti);
	free(p->issuer);
	for (size_t i = 0; i < p->nroles; i++)
		free(p->roles[i]);
	free(p->roles);
	principal_init(p);
}

static char *dup_or_null(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		abort();	/* as strbuf: a worker out of memory is replaced */
	return d;
}

/* Add `role` unless present; false when the list is full. */
static bool add_role(struct principal *p, const char *role)
{
	for (size_t i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i], role) == 0)
			return true;
	if (p->nroles >= PRINCIPAL_MAX_ROLES)
		return false;
	if (p->nroles % 16 == 0) {
		char **grown = realloc(p->roles, (p->nroles + 16) * sizeof(*grown));

		if (grown == NULL)
			abort();
		p->roles = grown;
	}
	p->roles[p->nroles++] = dup_or_null(role);
	return true;
}

void principal_copy(struct principal *dst, const struct principal *src)
{
	principal_release(dst);
	dst->sub = dup_or_null(src->sub);
	dst->username = dup_or_null(src->username);
	dst->email = dup_or_null(src->email);
	dst->tenant = dup_or_null(src->tenant);
	dst->jti = dup_or_null(src->jti);
	dst->issuer = dup_or_null(src->issuer);
	dst->expires_at = src->expires_at;
	for (size_t i = 0; i < src->nroles; i++)
		add_role(dst, src->roles[i]);
	dst->permissions = src->permissions;
	dst->emergency = src->emergency;
}

static const char *string_member(json_object *o, const char *name)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Add the strings of o.roles. Entries of another type are ignored: they
 * can only ever take permissions away. */
static void add_roles_of(struct principal *p, json_object *o)
{
	json_object *roles;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "roles", &roles) ||
	    !json_object_is_type(roles, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(roles); i++) {
		json_object *r = json_object_array_get_idx(roles, i);

		if (json_object_is_type(r, json_type_string) && json_object_get_string_len(r) > 0)
			add_role(p, json_object_get_string(r));
	}
}

bool principal_valid_tenant_slug(const char *slug)
{
	size_t n = slug ? strlen(slug) : 0;

	if (n < 2 || n > 40 || slug[0] < 'a' || slug[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((slug[i] >= 'a' && slug[i] <= 'z') || (slug[i] >= '0' && slug[i] <= '9') ||
		      slug[i] == '_'))
			return false;
	return true;
}

/* The tenant a token is bound to: 0 with *out (malloc'ed, or NULL when
 * platform-scoped), or -1 when the binding is invalid or contradictory. */
static int tenant_of(json_object *claims, char **out)
{
	json_object *claim = NULL, *groups = NULL;
	char *bound = NULL;

	*out = NULL;
	if (json_object_object_get_ex(claims, "tenant", &claim)) {
		if (!json_object_is_type(claim, json_type_string) ||
		    !principal_valid_tenant_slug(json_object_get_string(claim)))
			return -1;
		bound = dup_or_null(json_object_get_string(claim));
	}
	if (json_object_object_get_ex(claims, "groups", &groups) &&
	    json_object_is_type(groups, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(groups); i++) {
			const char *g = json_object_get_string(json_object_array_get_idx(groups, i));
			const char *slug, *end;
			char buf[64];

			if (g == NULL || strncmp(g, TENANT_GROUP_PREFIX, strlen(TENANT_GROUP_PREFIX)) != 0)
				continue;
			slug = g + strlen(TENANT_GROUP_PREFIX);
			end = strchr(slug, '/');	/* "/tenants/acme/admins" binds to acme */
			if ((size_t)((end ? end : slug + strlen(slug)) - slug) >= sizeof(buf))
				goto invalid;
			snprintf(buf, sizeof(buf), "%.*s", (int)((end ? end : slug + strlen(slug)) - slug), slug);
			if (!principal_valid_tenant_slug(buf))
				goto invalid;
			/* Two tenants, or a claim and a group that disagree: no
			 * single binding exists, and falling back to platform
			 * scope would grant more, so the token is refused. */
			if (bound != NULL && strcmp(bound, buf) != 0)
				goto invalid;
			if (bound == NULL)
				bound = dup_or_null(buf);
		}
	}
	*out = bound;
	return 0;
invalid:
	free(bound);
	return -1;
}

int principal_from_claims(struct principal *p, json_object *claims,
			  const char *const *clients, size_t nclients, enum auth_reason *why)
{
	json_object *v, *resource_access;
	const char *sub = string_member(claims, "sub"), *jti = string_member(claims, "jti");
	const char *username = string_member(claims, "preferred_username");

	principal_release(p);
	if (sub == NULL || jti == NULL || !json_object_object_get_ex(claims, "exp", &v)) {
		*why = AUTH_R_MISSING_CLAIM;
		return -1;
	}
	if (tenant_of(claims, &p->tenant) != 0) {
		*why = AUTH_R_BAD_TENANT;
		return -1;
	}
	p->sub = dup_or_null(sub);
	p->username = dup_or_null(username ? username : sub);
	p->email = dup_or_null(string_member(claims, "email"));
	p->jti = dup_or_null(jti);
	p->issuer = dup_or_null(string_member(claims, "iss"));
	p->expires_at = json_object_get_int64(v);
	if (json_object_object_get_ex(claims, "realm_access", &v))
		add_roles_of(p, v);
	if (json_object_object_get_ex(claims, "resource_access", &resource_access) &&
	    json_object_is_type(resource_access, json_type_object))
		for (size_t i = 0; i < nclients; i++)
			if (json_object_object_get_ex(resource_access, clients[i], &v))
				add_roles_of(p, v);
	*why = AUTH_OK;
	return 0;
}

void principal_resolve(struct principal *p, const struct role_bindings *rb)
{
	p->permissions = role_bindings_resolve(rb, (const char *const *)p->roles, p->nroles);
}

bool principal_has(const struct principal *p, const char *permission)
{
	enum permission perm;

	if (p == NULL || permission_parse(permission, &perm) != 0)
		return false;
	return (permission_effective(p->permissions) & PERMISSION_BIT(perm)) != 0;
}

bool principal_tenant_allows(const struct principal *p, const char *slug)
{
	if (p == NULL)
		return false;
	if (p->tenant == NULL)
		return true;
	return slug != NULL && strcmp(p->tenant, slug) == 0;
}

static json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *roles_json(const struct principal *p)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < p->nroles; i++)
		json_object_array_add(a, json_object_new_string(p->roles[i]));
	return a;
}

json_object *principal_to_json(const struct principal *p)
{
	json_object *o = json_object_new_object();
	char when[ISO8601_MAX];

	json_object_object_add(o, "sub", string_or_null(p->sub));
	json_object_object_add(o, "username", string_or_null(p->username));
	json_object_object_add(o, "email", string_or_null(p->email));
	json_object_object_add(o, "permissions",
			       permission_set_to_json(permission_effective(p->permissions)));
	json_object_object_add(o, "tenant", string_or_null(p->tenant));
	json_object_object_add(o, "expires_at", json_object_new_string(time_iso8601(when, p->expires_at)));
	json_object_object_add(o, "roles", roles_json(p));
	json_object_object_add(o, "emergency", json_object_new_boolean(p->emergency));
	return o;
}

char *principal_serialize(const struct principal *p, int64_t cached_until, size_t *len)
{
	json_object *o = json_object_new_object();
	const char *s;
	char *copy;

	json_object_object_add(o, "sub", string_or_null(p->sub));
	json_object_object_add(o, "username", string_or_null(p->username));
	json_object_object_add(o, "email", string_or_null(p->email));
	json_object_object_add(o, "tenant", string_or_null(p->tenant));
	json_object_object_add(o, "jti", string_or_null(p->jti));
	json_object_object_add(o, "iss", string_or_null(p->issuer));
	json_object_object_add(o, "exp", json_object_new_int64(p->expires_at));
	json_object_object_add(o, "roles", roles_json(p));
	json_object_object_add(o, "perms", json_object_new_int64(p->permissions));
	json_object_object_add(o, "emergency", json_object_new_boolean(p->emergency));
	json_object_object_add(o, "until", json_object_new_int64(cached_until));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	copy = dup_or_null(s);
	if (len)
		*len = strlen(copy);
	json_object_put(o);
	return copy;
}

/* A string member that must be present (as a string, or null when
 * `nullable`): 0 with *out (NULL for null), -1 otherwise. */
static int field(json_object *o, const char *name, bool nullable, char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, name, &v))
		return -1;
	if (v == NULL)
		return nullable ? 0 : -1;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = dup_or_null(json_object_get_string(v));
	return 0;
}

static int int_field(json_object *o, const char *name, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

int principal_deserialize(struct principal *p, const char *s, size_t len, int64_t *cached_until)
{
	json_object *o = json_strict_parse_object(s, len), *roles, *emergency;
	int64_t perms;
	int rc = -1;

	principal_release(p);
	if (o == NULL)
		return -1;
	if (field(o, "sub", false, &p->sub) || field(o, "username", false, &p->username) ||
	    field(o, "email", true, &p->email) || field(o, "tenant", true, &p->tenant) ||
	    field(o, "jti", false, &p->jti) || field(o, "iss", true, &p->issuer) ||
	    int_field(o, "exp", &p->expires_at) || int_field(o, "perms", &perms) ||
	    int_field(o, "until", cached_until) ||
	    !json_object_object_get_ex(o, "roles", &roles) ||
	    !json_object_is_type(roles, json_type_array) ||
	    !json_object_object_get_ex(o, "emergency", &emergency) ||
	    !json_object_is_type(emergency, json_type_boolean))
		goto out;
	for (size_t i = 0; i < json_object_array_length(roles); i++) {
		json_object *r = json_object_array_get_idx(roles, i);

		if (!json_object_is_type(r, json_type_string))
			goto out;
		add_role(p, json_object_get_string(r));
	}
	p->permissions = (uint32_t)perms & PERMISSION_ALL;
	p->emergency = json_object_get_boolean(emergency);
	rc = 0;
out:
	if (rc != 0)
		principal_release(p);
	json_object_put(o);
	return rc;
}
