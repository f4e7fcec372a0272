/* test_principal.c — claims → principal (roles from realm_access and our
 * clients' resource_access, tenant from the claim or a group), the
 * permission catalog, role bindings (parsing, resolution, admin implies
 * all), the permission check and the principal's JSON forms. */
#include <stdlib.h>
#include <string.h>

#include "principal.h"
#include "role_bindings.h"
#include "unit.h"

/* The claims of shared/keycloak-access-token.example.json. */
static const char keycloak_claims[] =
	"{\"exp\":1795000300,\"iat\":1795000000,\"auth_time\":1794999990,"
	"\"jti\":\"onrtac:5b3c9c1e-6f1e-4a55-9c49-2f6d0a8b7e11\","
	"\"iss\":\"https://sso.example.internal/realms/platform\","
	"\"aud\":[\"infra-api\",\"account\"],\"sub\":\"7f0b6e3a-2d4c-4b1e-9a77-0c5e2f1d8b90\","
	"\"typ\":\"Bearer\",\"azp\":\"infra-admin-ui\",\"sid\":\"c1d2e3f4-0a1b-4c5d-8e9f-112233445566\","
	"\"acr\":\"1\",\"allowed-origins\":[\"https://infra.example.internal\"],"
	"\"realm_access\":{\"roles\":[\"offline_access\",\"uma_authorization\",\"platform-operator\","
	"\"migrations:execute\"]},"
	"\"resource_access\":{\"infra-api\":{\"roles\":[\"databases:manage\",\"migrations:read\"]},"
	"\"account\":{\"roles\":[\"manage-account\",\"view-profile\",\"infrastructure:admin\"]}},"
	"\"scope\":\"openid email profile\",\"email_verified\":true,\"name\":\"Dana Ops\","
	"\"preferred_username\":\"dana\",\"given_name\":\"Dana\",\"family_name\":\"Ops\","
	"\"email\":\"dana@example.internal\",\"groups\":[\"/platform/operators\",\"/tenants/acme\"],"
	"\"tenant\":\"acme\"}";

static const char *const clients[] = { "infra-api" };

static bool has_role(const struct principal *p, const char *role)
{
	for (size_t i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i], role) == 0)
			return true;
	return false;
}

/* Build a principal from `json` claims; returns the reason. */
static enum auth_reason from(const char *json, struct principal *p)
{
	json_object *c = json_tokener_parse(json);
	enum auth_reason why = AUTH_OK;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	principal_from_claims(p, c, clients, 1, &why);
	json_object_put(c);
	return why;
}

static void test_catalog(void)
{
	enum permission p;
	json_object *cat = permission_catalog_json();

	CU_ASSERT_EQUAL(json_object_array_length(cat), 9);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(cat, 0)),
			       "infrastructure:admin");
	json_object_put(cat);
	CU_ASSERT_EQUAL(permission_parse("migrations:execute", &p), 0);
	CU_ASSERT_EQUAL(p, PERMISSION_MIGRATIONS_EXECUTE);
	CU_ASSERT_STRING_EQUAL(permission_name(PERMISSION_TENANTS_MANAGE), "tenants:manage");
	CU_ASSERT_EQUAL(permission_parse("Migrations:Execute", &p), -1);
	CU_ASSERT_EQUAL(permission_parse("migrations:*", &p), -1);
	CU_ASSERT_EQUAL(permission_parse(NULL, &p), -1);
	CU_ASSERT_PTR_NULL(permission_name(PERMISSION_COUNT));
	CU_ASSERT_EQUAL(permission_effective(PERMISSION_BIT(PERMISSION_INFRASTRUCTURE_ADMIN)),
			PERMISSION_ALL);
	CU_ASSERT_EQUAL(permission_effective(PERMISSION_BIT(PERMISSION_DATABASES_READ)),
			PERMISSION_BIT(PERMISSION_DATABASES_READ));
}

static void test_keycloak_claims(void)
{
	struct principal p;

	principal_init(&p);
	CU_ASSERT_EQUAL_FATAL(from(keycloak_claims, &p), AUTH_OK);
	CU_ASSERT_STRING_EQUAL(p.sub, "7f0b6e3a-2d4c-4b1e-9a77-0c5e2f1d8b90");
	CU_ASSERT_STRING_EQUAL(p.username, "dana");
	CU_ASSERT_STRING_EQUAL(p.email, "dana@example.internal");
	CU_ASSERT_STRING_EQUAL(p.jti, "onrtac:5b3c9c1e-6f1e-4a55-9c49-2f6d0a8b7e11");
	CU_ASSERT_STRING_EQUAL(p.issuer, "https://sso.example.internal/realms/platform");
	CU_ASSERT_STRING_EQUAL(p.tenant, "acme");
	CU_ASSERT_EQUAL(p.expires_at, 1795000300);
	/* Realm roles, and roles of our client; another client's roles
	 * (account's infrastructure:admin here) mean nothing to us. */
	CU_ASSERT(has_role(&p, "platform-operator"));
	CU_ASSERT(has_role(&p, "migrations:execute"));
	CU_ASSERT(has_role(&p, "databases:manage"));
	CU_ASSERT(has_role(&p, "migrations:read"));
	CU_ASSERT(!has_role(&p, "manage-account"));
	CU_ASSERT(!has_role(&p, "infrastructure:admin"));
	CU_ASSERT_EQUAL(p.nroles, 6);
	principal_release(&p);
}

static void test_claim_shapes(void)
{
	struct principal p;

	principal_init(&p);
	/* Username falls back to sub; roles of the wrong type are ignored. */
	CU_ASSERT_EQUAL(from("{\"sub\":\"s1\",\"jti\":\"j\",\"exp\":1,"
			     "\"realm_access\":{\"roles\":[\"a\",7,null,\"\",\"a\"]},"
			     "\"resource_access\":[1]}", &p), AUTH_OK);
	CU_ASSERT_STRING_EQUAL(p.username, "s1");
	CU_ASSERT_PTR_NULL(p.email);
	CU_ASSERT_PTR_NULL(p.tenant);
	CU_ASSERT_EQUAL(p.nroles, 1);
	principal_release(&p);
	CU_ASSERT_EQUAL(from("{\"jti\":\"j\",\"exp\":1}", &p), AUTH_R_MISSING_CLAIM);
	CU_ASSERT_PTR_NULL(p.sub);
}

static void test_tenant_binding(void)
{
	struct principal p;

	principal_init(&p);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,\"tenant\":\"acme\"}", &p), AUTH_OK);
	CU_ASSERT_STRING_EQUAL(p.tenant, "acme");
	principal_release(&p);
	/* From a group, or a subgroup of it; other groups are not tenants. */
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,"
			     "\"groups\":[\"/platform/ops\",\"/tenants/globex\"]}", &p), AUTH_OK);
	CU_ASSERT_STRING_EQUAL(p.tenant, "globex");
	principal_release(&p);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,"
			     "\"groups\":[\"/tenants/globex/admins\",\"/tenants/globex\"]}", &p), AUTH_OK);
	CU_ASSERT_STRING_EQUAL(p.tenant, "globex");
	principal_release(&p);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,\"groups\":[\"/platform\"]}", &p),
			AUTH_OK);
	CU_ASSERT_PTR_NULL(p.tenant);
	principal_release(&p);
	/* Contradictions and bad slugs refuse the token rather than fall
	 * back to platform scope. */
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,\"tenant\":\"acme\","
			     "\"groups\":[\"/tenants/globex\"]}", &p), AUTH_R_BAD_TENANT);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,"
			     "\"groups\":[\"/tenants/acme\",\"/tenants/globex\"]}", &p), AUTH_R_BAD_TENANT);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,\"tenant\":\"Acme\"}", &p),
			AUTH_R_BAD_TENANT);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,\"tenant\":\"\"}", &p),
			AUTH_R_BAD_TENANT);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,\"tenant\":[\"acme\"]}", &p),
			AUTH_R_BAD_TENANT);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,\"groups\":[\"/tenants/\"]}", &p),
			AUTH_R_BAD_TENANT);
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,"
			     "\"groups\":[\"/tenants/acme;drop\"]}", &p), AUTH_R_BAD_TENANT);
	CU_ASSERT(principal_valid_tenant_slug("acme_2"));
	CU_ASSERT(!principal_valid_tenant_slug("a"));
	CU_ASSERT(!principal_valid_tenant_slug("2acme"));
	CU_ASSERT(!principal_valid_tenant_slug("abcdefghijabcdefghijabcdefghijabcdefghijX"));
}

static void test_role_bindings_parse(void)
{
	struct role_bindings rb;
	struct infra_error err;

	CU_ASSERT_EQUAL(role_bindings_parse(&rb, "platform-operator=databases:read migrations:execute;"
					    " sre = infrastructure:read,databases:read ;"
					    "platform-operator=tenants:read;empty=", &err), 0);
	CU_ASSERT_EQUAL_FATAL(rb.n, 3);
	/* Sorted, duplicates merged. */
	CU_ASSERT_STRING_EQUAL(rb.items[0].role, "empty");
	CU_ASSERT_EQUAL(rb.items[0].permissions, 0);
	CU_ASSERT_STRING_EQUAL(rb.items[1].role, "platform-operator");
	CU_ASSERT_EQUAL(rb.items[1].permissions, PERMISSION_BIT(PERMISSION_DATABASES_READ) |
			PERMISSION_BIT(PERMISSION_MIGRATIONS_EXECUTE) | PERMISSION_BIT(PERMISSION_TENANTS_READ));
	CU_ASSERT_STRING_EQUAL(rb.items[2].role, "sre");
	role_bindings_release(&rb);
	CU_ASSERT_EQUAL(role_bindings_parse(&rb, "", &err), 0);
	CU_ASSERT_EQUAL(rb.n, 0);
	CU_ASSERT_EQUAL(role_bindings_parse(&rb, "ops=databases:write", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "databases:write"));
	CU_ASSERT_EQUAL(role_bindings_parse(&rb, "ops databases:read", &err), -1);
	CU_ASSERT_EQUAL(role_bindings_parse(&rb, "=databases:read", &err), -1);
	CU_ASSERT_EQUAL(rb.n, 0);
	CU_ASSERT(role_bindings_valid_role("platform-operator"));
	CU_ASSERT(!role_bindings_valid_role("two words"));
	CU_ASSERT(!role_bindings_valid_role(""));
}

static void test_resolution(void)
{
	struct role_bindings rb;
	struct infra_error err;
	struct principal p;
	json_object *me;

	CU_ASSERT_EQUAL_FATAL(role_bindings_parse(&rb, "platform-operator=databases:read tenants:read;"
						  "root=infrastructure:admin", &err), 0);
	principal_init(&p);
	CU_ASSERT_EQUAL_FATAL(from(keycloak_claims, &p), AUTH_OK);
	principal_resolve(&p, &rb);
	/* Bound role + roles named like permissions (realm and client). */
	CU_ASSERT(principal_has(&p, "databases:read"));
	CU_ASSERT(principal_has(&p, "tenants:read"));
	CU_ASSERT(principal_has(&p, "migrations:execute"));
	CU_ASSERT(principal_has(&p, "databases:manage"));
	CU_ASSERT(principal_has(&p, "migrations:read"));
	CU_ASSERT(!principal_has(&p, "migrations:manage"));
	CU_ASSERT(!principal_has(&p, "infrastructure:admin"));
	CU_ASSERT(!principal_has(&p, "no:such"));
	CU_ASSERT(!principal_has(&p, NULL));
	CU_ASSERT(!principal_has(NULL, "databases:read"));
	/* Without bindings only the permission-named roles count. */
	principal_resolve(&p, NULL);
	CU_ASSERT(!principal_has(&p, "tenants:read"));
	CU_ASSERT(principal_has(&p, "databases:manage"));
	principal_release(&p);

	/* infrastructure:admin, through a binding, implies all. */
	CU_ASSERT_EQUAL(from("{\"sub\":\"s\",\"jti\":\"j\",\"exp\":1,"
			     "\"realm_access\":{\"roles\":[\"root\"]}}", &p), AUTH_OK);
	principal_resolve(&p, &rb);
	for (int i = 0; i < PERMISSION_COUNT; i++)
		CU_ASSERT(principal_has(&p, permission_name((enum permission)i)));
	me = principal_to_json(&p);
	CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(me, "permissions")),
			PERMISSION_COUNT);
	json_object_put(me);
	principal_release(&p);
	role_bindings_release(&rb);
}

static void test_tenant_allows(void)
{
	struct principal p;

	principal_init(&p);
	CU_ASSERT(!principal_tenant_allows(NULL, "acme"));
	CU_ASSERT(principal_tenant_allows(&p, "acme"));		/* platform scope */
	p.tenant = strdup("acme");
	CU_ASSERT(principal_tenant_allows(&p, "acme"));
	CU_ASSERT(!principal_tenant_allows(&p, "globex"));
	CU_ASSERT(!principal_tenant_allows(&p, NULL));
	principal_release(&p);
}

static void test_json_forms(void)
{
	struct role_bindings rb;
	struct infra_error err;
	struct principal p, back, copy;
	json_object *me, *perms;
	char *s;
	size_t len;
	int64_t until = 0;

	role_bindings_parse(&rb, "platform-operator=tenants:read", &err);
	principal_init(&p);
	principal_init(&back);
	principal_init(&copy);
	CU_ASSERT_EQUAL_FATAL(from(keycloak_claims, &p), AUTH_OK);
	principal_resolve(&p, &rb);
	me = principal_to_json(&p);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(me, "username")), "dana");
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(me, "tenant")), "acme");
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(me, "expires_at")),
			       "2026-11-18T11:11:40Z");
	perms = json_object_object_get(me, "permissions");
	CU_ASSERT_EQUAL(json_object_array_length(perms), 4);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(perms, 0)),
			       "databases:manage");
	json_object_put(me);

	s = principal_serialize(&p, 1795000100, &len);
	CU_ASSERT_EQUAL(principal_deserialize(&back, s, len, &until), 0);
	CU_ASSERT_EQUAL(until, 1795000100);
	CU_ASSERT_STRING_EQUAL(back.sub, p.sub);
	CU_ASSERT_STRING_EQUAL(back.tenant, "acme");
	CU_ASSERT_EQUAL(back.permissions, p.permissions);
	CU_ASSERT_EQUAL(back.nroles, p.nroles);
	CU_ASSERT_EQUAL(back.expires_at, p.expires_at);
	principal_copy(&copy, &back);
	CU_ASSERT_STRING_EQUAL(copy.email, "dana@example.internal");
	free(s);
	/* Anything else is refused, never half-read. */
	CU_ASSERT_EQUAL(principal_deserialize(&back, "{\"sub\":\"x\"}", 11, &until), -1);
	CU_ASSERT_EQUAL(principal_deserialize(&back, "not json", 8, &until), -1);
	CU_ASSERT_PTR_NULL(back.sub);
	principal_release(&p);
	principal_release(&back);
	principal_release(&copy);
	role_bindings_release(&rb);
}

static void test_permissions_from_json(void)
{
	struct infra_error err;
	uint32_t set;
	json_object *ok = json_tokener_parse("[\"databases:read\",\"tenants:manage\"]");
	json_object *bad = json_tokener_parse("[\"databases:read\",\"root\"]");
	json_object *notarray = json_tokener_parse("\"databases:read\"");

	CU_ASSERT_EQUAL(role_bindings_permissions_from_json(ok, &set, &err), 0);
	CU_ASSERT_EQUAL(set, PERMISSION_BIT(PERMISSION_DATABASES_READ) |
			PERMISSION_BIT(PERMISSION_TENANTS_MANAGE));
	CU_ASSERT_EQUAL(role_bindings_permissions_from_json(bad, &set, &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.field, "permissions");
	CU_ASSERT_EQUAL(role_bindings_permissions_from_json(notarray, &set, &err), -1);
	json_object_put(ok);
	json_object_put(bad);
	json_object_put(notarray);
}

static CU_TestInfo tests[] = {
	{ "permission catalog", test_catalog },
	{ "Keycloak token claims", test_keycloak_claims },
	{ "claim shapes", test_claim_shapes },
	{ "tenant from claim and group", test_tenant_binding },
	{ "ROLE_BINDINGS syntax", test_role_bindings_parse },
	{ "permissions from roles", test_resolution },
	{ "tenant scope", test_tenant_allows },
	{ "/auth/me and cache forms", test_json_forms },
	{ "permissions array of a PUT", test_permissions_from_json },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("principal", tests)
