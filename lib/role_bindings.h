/* role_bindings.h — which permissions a role grants: the bindings kept in
 * the control database (table role_bindings), seeded from the
 * ROLE_BINDINGS setting for roles the table does not have yet, listed and
 * replaced through /auth/roles, and applied to a principal's roles.
 *
 * A role named exactly like a permission always grants that permission;
 * a bound role grants the permissions bound to it. Every change bumps the
 * role-binding generation (auth_gen.h) in the same transaction. */
#ifndef INFRA_ROLE_BINDINGS_H
#define INFRA_ROLE_BINDINGS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "error.h"

#define ROLE_NAME_MAX 255

struct role_binding {
	char *role;
	uint32_t permissions;	/* a set of permissions (principal.h) */
};

/* Bindings sorted by role. */
struct role_bindings {
	struct role_binding *items;
	size_t n;
};

void role_bindings_init(struct role_bindings *rb);

/* Free every binding; `rb` is empty and reusable afterwards. */
void role_bindings_release(struct role_bindings *rb);

/* Parse the ROLE_BINDINGS syntax, "role=perm perm;role2=perm" (spaces or
 * commas between permissions; "" is no bindings), into `rb`
 * (initialised, empty). Returns 0, or -1 with err naming the first bad
 * role or permission and `rb` left empty. */
int role_bindings_parse(struct role_bindings *rb, const char *spec, struct infra_error *err);

/* 1 when `role` is an acceptable role name: 1..ROLE_NAME_MAX bytes of
 * printable ASCII without spaces, '=' or ';'. */
int role_bindings_valid_role(const char *role);

/* The set named by a JSON array of permission names. Returns 0 and *out,
 * or -1 with err (INFRA_EINVAL, field "permissions") when it is not an
 * array of catalog names. */
int role_bindings_permissions_from_json(json_object *array, uint32_t *out,
					struct infra_error *err);

/* The permissions `roles` grant under `rb` (which may be NULL), admin not
 * expanded. */
uint32_t role_bindings_resolve(const struct role_bindings *rb, const char *const *roles,
			       size_t nroles);

/* Insert the bindings of `seed` (parsed from ROLE_BINDINGS) for roles the
 * table lacks (a role an administrator changed is never overwritten). When
 * a row was added the generation is bumped in the same transaction and
 * returned in *generation; otherwise *generation is 0. Returns 0 or -1. */
int role_bindings_seed(struct db *db, const struct role_bindings *seed, uint64_t *generation,
		       struct infra_error *err);

/* Load every binding from the database into `rb` (initialised; released
 * first). Permissions the catalog no longer has are ignored. Returns 0 or
 * -1 (`rb` then left empty). */
int role_bindings_load(struct db *db, struct role_bindings *rb, struct infra_error *err);

/* Replace the permissions of `role` (created if absent; an empty set is
 * kept as a binding granting nothing, so a seed cannot bring it back),
 * recording `actor`, and bump the generation, in one transaction. Returns
 * 0 and the new generation in *generation, or -1 (INFRA_EINVAL, field
 * "role", for a bad name). */
int role_bindings_put(struct db *db, const char *role, uint32_t permissions, const char *actor,
		      uint64_t *generation, struct infra_error *err);

/* {"items": [{"role", "permissions": [...]}]}, sorted by role: a new
 * object the caller owns. */
json_object *role_bindings_to_json(const struct role_bindings *rb);

#endif
