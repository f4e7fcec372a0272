/* principal.h — who a verified token speaks for, and what it may do: the
 * permission catalog, the claims → principal mapping (Keycloak's shape:
 * realm_access.roles, resource_access.<client>.roles, groups, tenant), the
 * permission check, and the principal's JSON forms (/auth/me, the cache).
 *
 * Permissions come only from roles, through role bindings (role_bindings.h):
 * a role named like a permission grants it, a bound role grants its
 * permissions, and infrastructure:admin implies every permission. */
#ifndef INFRA_PRINCIPAL_H
#define INFRA_PRINCIPAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_reason.h"

/* The permission catalog (API.md). */
enum permission {
	PERMISSION_INFRASTRUCTURE_ADMIN,	/* implies all the others */
	PERMISSION_INFRASTRUCTURE_READ,
	PERMISSION_DATABASES_READ,
	PERMISSION_DATABASES_MANAGE,
	PERMISSION_TENANTS_READ,
	PERMISSION_TENANTS_MANAGE,
	PERMISSION_MIGRATIONS_READ,
	PERMISSION_MIGRATIONS_EXECUTE,
	PERMISSION_MIGRATIONS_MANAGE,
	PERMISSION_COUNT
};

/* A set of permissions is a uint32_t with bit (1 << p) for permission p. */
#define PERMISSION_BIT(p) (UINT32_C(1) << (p))
#define PERMISSION_ALL (PERMISSION_BIT(PERMISSION_COUNT) - 1)

/* "infrastructure:admin", … ; NULL for a value outside the catalog. */
const char *permission_name(enum permission p);

/* The permission named exactly `name`. Returns 0 and *out, or -1 when the
 * name is not in the catalog. */
int permission_parse(const char *name, enum permission *out);

/* `set` with infrastructure:admin expanded to every permission. */
uint32_t permission_effective(uint32_t set);

/* The names of the permissions in `set`, in catalog order, as a new JSON
 * array the caller owns (expand admin first with permission_effective
 * when showing what a principal may do). */
json_object *permission_set_to_json(uint32_t set);

/* The whole catalog as a new JSON array of names. */
json_object *permission_catalog_json(void);

struct role_bindings;

struct principal {
	char *sub;
	char *username;		/* preferred_username; the sub when absent */
	char *email;		/* NULL when absent */
	char *tenant;		/* the bound tenant's slug; NULL: platform-scoped */
	char *jti;
	char *issuer;
	int64_t expires_at;	/* exp, seconds since the epoch */
	char **roles;		/* realm roles and our clients' roles, deduplicated */
	size_t nroles;
	uint32_t permissions;	/* resolved from the roles */
	bool emergency;		/* a break-glass token */
};

/* Make `p` empty. */
void principal_init(struct principal *p);

/* Free what `p` owns; it is empty and reusable afterwards. */
void principal_release(struct principal *p);

/* Make `dst` (initialised; released first) a deep copy of `src`. */
void principal_copy(struct principal *dst, const struct principal *src);

/* Fill `p` (initialised; whatever it held is released) from the claims of a verified token: sub,
 * preferred_username, email, jti, iss, exp, the roles of realm_access and
 * of resource_access.<client> for each of the `nclients` clients (our own
 * audiences: a role given by another client means nothing here), and the
 * tenant binding — the `tenant` claim or a group "/tenants/<slug>" (or a
 * subgroup of it); claim and groups must agree and name one valid slug.
 * Permissions are left empty (principal_resolve). Returns 0, or -1 with
 * *why (bad_tenant, missing_claim) and `p` released. */
int principal_from_claims(struct principal *p, json_object *claims,
			  const char *const *clients, size_t nclients, enum auth_reason *why);

/* Set p->permissions from its roles and `rb` (NULL: no bindings, only
 * roles named like permissions count). */
void principal_resolve(struct principal *p, const struct role_bindings *rb);

/* Whether `p` holds the permission named `permission` (admin implies all;
 * a name outside the catalog is never held). NULL `p` holds nothing. */
bool principal_has(const struct principal *p, const char *permission);

/* Whether `p` may act on resources of tenant `slug`: a platform-scoped
 * principal may act on every tenant, a tenant-bound one only on its own. */
bool principal_tenant_allows(const struct principal *p, const char *slug);

/* 1 when `slug` is a valid tenant slug: ^[a-z][a-z0-9_]{1,39}$. */
bool principal_valid_tenant_slug(const char *slug);

/* The /auth/me view: {sub, username, email, permissions[], tenant,
 * expires_at, roles[], emergency}. A new object the caller owns. */
json_object *principal_to_json(const struct principal *p);

/* The cache form: every field, plus `cached_until` (seconds since the
 * epoch). Returns a malloc'ed string the caller frees. */
char *principal_serialize(const struct principal *p, int64_t cached_until, size_t *len);

/* Read the cache form back into `p` (initialised; whatever it held is
 * released). Returns 0 and sets
 * *cached_until, or -1 (and `p` released) when `s` is not such a form. */
int principal_deserialize(struct principal *p, const char *s, size_t len, int64_t *cached_until);

#endif
