/* role_bindings.c — role → permissions: parsing the seed, the control
 * database table, and resolving a principal's roles (see role_bindings.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "auth_gen.h"
#include "log.h"
#include "principal.h"
#include "role_bindings.h"
#include "strbuf.h"

void role_bindings_init(struct role_bindings *rb)
{
	rb->items = NULL;
	rb->n = 0;
}

void role_bindings_release(struct role_bindings *rb)
{
	for (size_t i = 0; i < rb->n; i++)
		free(rb->items[i].role);
	free(rb->items);
	role_bindings_init(rb);
}

int role_bindings_valid_role(const char *role)
{
	size_t n = role ? strlen(role) : 0;

	if (n == 0 || n > ROLE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)role[i]) || role[i] == '=' || role[i] == ';')
			return 0;
	return 1;
}

static int compare_role(const void *a, const void *b)
{
	return strcmp(((const struct role_binding *)a)->role, ((const struct role_binding *)b)->role);
}

/* Add `perms` to `role`'s binding, creating it. Keeps nothing sorted:
 * call sort_and_merge() when done. */
static void add_binding(struct role_bindings *rb, const char *role, size_t len, uint32_t perms)
{
	struct role_binding *grown = realloc(rb->items, (rb->n + 1) * sizeof(*grown));

	if (grown == NULL)
		abort();
	rb->items = grown;
	rb->items[rb->n].role = strndup(role, len);
	if (rb->items[rb->n].role == NULL)
		abort();
	rb->items[rb->n].permissions = perms;
	rb->n++;
}

/* Sort by role and fold duplicates into one binding. */
static void sort_and_merge(struct role_bindings *rb)
{
	size_t out = 0;

	if (rb->n < 2)
		return;
	qsort(rb->items, rb->n, sizeof(*rb->items), compare_role);
	for (size_t i = 0; i < rb->n; i++) {
		if (out > 0 && strcmp(rb->items[out - 1].role, rb->items[i].role) == 0) {
			rb->items[out - 1].permissions |= rb->items[i].permissions;
			free(rb->items[i].role);
			continue;
		}
		rb->items[out++] = rb->items[i];
	}
	rb->n = out;
}

/* Parse "perm perm,perm" (of `len` bytes) into a set. */
static int parse_perm_list(const char *s, size_t len, uint32_t *out, struct infra_error *err)
{
	size_t i = 0;

	*out = 0;
	while (i < len) {
		size_t start, n;
		char name[64];
		enum permission p;

		while (i < len && (s[i] == ' ' || s[i] == ',' || s[i] == '\t'))
			i++;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != ',' && s[i] != '\t')
			i++;
		n = i - start;
		if (n == 0)
			break;
		if (n >= sizeof(name))
			return infra_fail(err, INFRA_EINVAL, "ROLE_BINDINGS: permission too long");
		memcpy(name, s + start, n);
		name[n] = '\0';
		if (permission_parse(name, &p) != 0)
			return infra_fail(err, INFRA_EINVAL,
					  "ROLE_BINDINGS: '%s' is not a permission", name);
		*out |= PERMISSION_BIT(p);
	}
	return 0;
}

int role_bindings_parse(struct role_bindings *rb, const char *spec, struct infra_error *err)
{
	const char *s = spec ? spec : "";

	role_bindings_init(rb);
	while (*s) {
		const char *end = strchr(s, ';'), *eq, *role;
		size_t len = end ? (size_t)(end - s) : strlen(s), rlen;
		uint32_t perms;
		char name[ROLE_NAME_MAX + 1];

		eq = memchr(s, '=', len);
		role = s;
		while (role < s + len && isspace((unsigned char)*role))
			role++;
		if (role == s + len)		/* an empty entry, e.g. a trailing ';' */
			goto next;
		if (eq == NULL) {
			role_bindings_release(rb);
			return infra_fail(err, INFRA_EINVAL, "ROLE_BINDINGS: expected role=permission… "
					  "entries separated by ';'");
		}
		rlen = (size_t)(eq - role);
		while (rlen > 0 && isspace((unsigned char)role[rlen - 1]))
			rlen--;
		snprintf(name, sizeof(name), "%.*s", (int)rlen, role);
		if (rlen > ROLE_NAME_MAX || !role_bindings_valid_role(name)) {
			role_bindings_release(rb);
			return infra_fail(err, INFRA_EINVAL, "ROLE_BINDINGS: '%.64s' is not a valid role name",
					  name);
		}
		if (parse_perm_list(eq + 1, (size_t)(s + len - eq - 1), &perms, err) != 0) {
			role_bindings_release(rb);
			return -1;
		}
		add_binding(rb, name, rlen, perms);
next:
		s += len;
		if (*s == ';')
			s++;
	}
	sort_and_merge(rb);
	return 0;
}

int role_bindings_permissions_from_json(json_object *array, uint32_t *out,
					struct infra_error *err)
{
	*out = 0;
	if (!json_object_is_type(array, json_type_array))
		return infra_fail_field(err, "permissions", "must be an array of permission names");
	for (size_t i = 0; i < json_object_array_length(array); i++) {
		json_object *v = json_object_array_get_idx(array, i);
		enum permission p;

		if (!json_object_is_type(v, json_type_string) ||
		    permission_parse(json_object_get_string(v), &p) != 0)
			return infra_fail_field(err, "permissions",
						"element %zu is not a permission of the catalog", i);
		*out |= PERMISSION_BIT(p);
	}
	return 0;
}

static const struct role_binding *find(const struct role_bindings *rb, const char *role)
{
	struct role_binding key = { .role = (char *)role };

	if (rb == NULL || rb->n == 0)
		return NULL;
	return bsearch(&key, rb->items, rb->n, sizeof(*rb->items), compare_role);
}

uint32_t role_bindings_resolve(const struct role_bindings *rb, const char *const *roles,
			       size_t nroles)
{
	uint32_t set = 0;

	for (size_t i = 0; i < nroles; i++) {
		const struct role_binding *b = find(rb, roles[i]);
		enum permission p;

		if (permission_parse(roles[i], &p) == 0)
			set |= PERMISSION_BIT(p);
		if (b != NULL)
			set |= b->permissions;
	}
	return set;
}

/* The permission names of `set`, space-separated, for string_to_array. */
static void perm_words(struct strbuf *sb, uint32_t set)
{
	for (int p = 0; p < PERMISSION_COUNT; p++) {
		if (!(set & PERMISSION_BIT(p)))
			continue;
		if (sb->len > 0)
			strbuf_addch(sb, ' ');
		strbuf_addstr(sb, permission_name((enum permission)p));
	}
}

int role_bindings_seed(struct db *db, const struct role_bindings *seed, uint64_t *generation,
		       struct infra_error *err)
{
	struct strbuf words = STRBUF_INIT;
	int inserted = 0;

	*generation = 0;
	if (seed->n == 0)
		return 0;
	if (db_begin(db, err) != 0)
		goto fail;
	for (size_t i = 0; i < seed->n; i++) {
		const char *params[2];
		PGresult *res;

		strbuf_reset(&words);
		perm_words(&words, seed->items[i].permissions);
		params[0] = seed->items[i].role;
		params[1] = words.buf;
		res = db_exec(db, err,
			      "INSERT INTO role_bindings (role, permissions, updated_by) "
			      "VALUES ($1, string_to_array($2, ' '), 'ROLE_BINDINGS') "
			      "ON CONFLICT (role) DO NOTHING", 2, params);
		if (res == NULL)
			goto rollback;
		inserted += atoi(PQcmdTuples(res));
		PQclear(res);
	}
	if (inserted > 0 && auth_gen_bump_db(db, AUTH_GEN_ROLES, generation, err) != 0)
		goto rollback;
	if (db_commit(db, err) != 0)
		goto fail;
	if (inserted > 0)
		log_info("seeded %d role binding(s) from ROLE_BINDINGS", inserted);
	strbuf_release(&words);
	return 0;
rollback:
	db_rollback(db);
fail:
	*generation = 0;
	strbuf_release(&words);
	return -1;
}

int role_bindings_load(struct db *db, struct role_bindings *rb, struct infra_error *err)
{
	PGresult *res;

	role_bindings_release(rb);
	res = db_exec(db, err, "SELECT role, array_to_string(permissions, ' ') FROM role_bindings",
		      0, NULL);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *words = PQgetvalue(res, i, 1);
		uint32_t set = 0;
		char *copy = strdup(words), *save = NULL;

		if (copy == NULL)
			abort();
		for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			enum permission p;

			if (permission_parse(w, &p) == 0)
				set |= PERMISSION_BIT(p);
			else
				log_warn("role binding '%s' names '%s', not a permission; ignored",
					 PQgetvalue(res, i, 0), w);
		}
		free(copy);
		add_binding(rb, PQgetvalue(res, i, 0), strlen(PQgetvalue(res, i, 0)), set);
	}
	PQclear(res);
	sort_and_merge(rb);
	return 0;
}

int role_bindings_put(struct db *db, const char *role, uint32_t permissions, const char *actor,
		      uint64_t *generation, struct infra_error *err)
{
	struct strbuf words = STRBUF_INIT;
	const char *params[3];

	if (!role_bindings_valid_role(role))
		return infra_fail_field(err, "role", "must be 1 to %d printable characters "
					"without spaces, '=' or ';'", ROLE_NAME_MAX);
	perm_words(&words, permissions & PERMISSION_ALL);
	params[0] = role;
	params[1] = words.buf;
	params[2] = actor;
	if (db_begin(db, err) != 0)
		goto fail;
	if (db_exec_command(db, err,
			    "INSERT INTO role_bindings (role, permissions, updated_by) "
			    "VALUES ($1, string_to_array($2, ' '), $3) "
			    "ON CONFLICT (role) DO UPDATE SET permissions = EXCLUDED.permissions, "
			    "updated_at = now(), updated_by = EXCLUDED.updated_by", 3, params) != 0 ||
	    auth_gen_bump_db(db, AUTH_GEN_ROLES, generation, err) != 0) {
		db_rollback(db);
		goto fail;
	}
	if (db_commit(db, err) != 0)
		goto fail;
	strbuf_release(&words);
	return 0;
fail:
	strbuf_release(&words);
	return -1;
}

json_object *role_bindings_to_json(const struct role_bindings *rb)
{
	json_object *o = json_object_new_object(), *items = json_object_new_array();

	for (size_t i = 0; i < rb->n; i++) {
		json_object *item = json_object_new_object();

		json_object_object_add(item, "role", json_object_new_string(rb->items[i].role));
		json_object_object_add(item, "permissions",
				       permission_set_to_json(rb->items[i].permissions));
		json_object_array_add(items, item);
	}
	json_object_object_add(o, "items", items);
	return o;
}
