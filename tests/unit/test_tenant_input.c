/* test_tenant_input.c — what a POST /tenants body may say: slugs, names and
 * schemas, defaults, and every bad, missing or unknown field reported at
 * once by the field table. */
#include <string.h>

#include "tenant.h"
#include "unit.h"

static void test_slug(void)
{
	static const char *const good[] = { "ab", "a1", "acme", "a_b_c", "z9_",
					    "abcdefghijklmnopqrstuvwxyz0123456789_abc" };
	static const char *const bad[] = { "", "a", "1a", "_a", "Acme", "a-b", "a b", "ac\xc3\xa9",
					   "abcdefghijklmnopqrstuvwxyz0123456789_abcd" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_PTR_NULL(tenant_check_slug(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_PTR_NOT_NULL(tenant_check_slug(bad[i]));
}

static void test_schema(void)
{
	static const char *const good[] = { "tenant_acme", "_x", "a", "public", "t9" };
	static const char *const bad[] = { "", "9x", "pg_x", "pg_catalog", "information_schema", "Acme",
					   "a-b", "a b", "a\"b",
					   "abcdefghijklmnopqrstuvwxyz0123456789_abcdefghijklmnopqrstuvwxyz0" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_PTR_NULL(tenant_check_schema(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_PTR_NOT_NULL(tenant_check_schema(bad[i]));
	CU_ASSERT_STRING_EQUAL(tenant_check_schema("pg_x"), "is reserved by PostgreSQL");
}

static void test_name(void)
{
	char name[TENANT_NAME_MAX + 2];

	CU_ASSERT_PTR_NULL(tenant_check_name("Acme Corp. (EU)"));
	CU_ASSERT_PTR_NULL(tenant_check_name("Ünïcödé"));
	CU_ASSERT_PTR_NOT_NULL(tenant_check_name(""));
	CU_ASSERT_PTR_NOT_NULL(tenant_check_name("a\nb"));
	memset(name, 'n', sizeof(name));
	name[TENANT_NAME_MAX] = '\0';
	CU_ASSERT_PTR_NULL(tenant_check_name(name));
	name[TENANT_NAME_MAX] = 'n';
	name[TENANT_NAME_MAX + 1] = '\0';
	CU_ASSERT_PTR_NOT_NULL(tenant_check_name(name));
}

static void test_status(void)
{
	CU_ASSERT_TRUE(tenant_status_valid("provisioning"));
	CU_ASSERT_TRUE(tenant_status_valid("deleted"));
	CU_ASSERT_FALSE(tenant_status_valid("Active"));
	CU_ASSERT_FALSE(tenant_status_valid(""));
}

static void test_parse_defaults(void)
{
	json_object *body = unit_json("{\"slug\":\"acme\",\"database_id\":"
				  "\"0b7c7c55-8f3e-4c1e-9d0a-3c4c2b1a0f00\",\"name\":null}");
	json_object *problems = NULL;
	struct tenant_input in;

	CU_ASSERT_EQUAL(tenant_input_parse(body, &in, &problems), 0);
	CU_ASSERT_PTR_NULL(problems);
	CU_ASSERT_STRING_EQUAL(in.slug, "acme");
	CU_ASSERT_STRING_EQUAL(in.name, "acme");		/* defaults to the slug */
	CU_ASSERT_STRING_EQUAL(in.schema, "tenant_acme");	/* tenant_<slug> */
	CU_ASSERT_STRING_EQUAL(in.database_id, "0b7c7c55-8f3e-4c1e-9d0a-3c4c2b1a0f00");
	json_object_put(body);

	body = unit_json("{\"slug\":\"acme\",\"database_id\":\"0b7c7c55-8f3e-4c1e-9d0a-3c4c2b1a0f00\","
		     "\"name\":\"Acme\",\"schema\":\"acme_data\"}");
	CU_ASSERT_EQUAL(tenant_input_parse(body, &in, &problems), 0);
	CU_ASSERT_STRING_EQUAL(in.name, "Acme");
	CU_ASSERT_STRING_EQUAL(in.schema, "acme_data");
	json_object_put(body);
}

/* Every problem at once, each under its field's name. */
static void test_parse_problems(void)
{
	json_object *body = unit_json("{\"slug\":\"A\",\"name\":7,\"database_id\":\"x\",\"schema\":\"pg_a\","
				  "\"tenant\":\"acme\"}");
	json_object *problems = NULL, *v;
	struct tenant_input in;

	CU_ASSERT_EQUAL(tenant_input_parse(body, &in, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(problems);
	CU_ASSERT_EQUAL(json_object_object_length(problems), 5);
	CU_ASSERT_TRUE(json_object_object_get_ex(problems, "slug", NULL));
	CU_ASSERT_TRUE(json_object_object_get_ex(problems, "name", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "must be a string");
	CU_ASSERT_TRUE(json_object_object_get_ex(problems, "database_id", NULL));
	CU_ASSERT_TRUE(json_object_object_get_ex(problems, "schema", NULL));
	CU_ASSERT_TRUE(json_object_object_get_ex(problems, "tenant", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "unknown field");
	json_object_put(problems);
	json_object_put(body);

	body = unit_json("{\"slug\":null}");
	CU_ASSERT_EQUAL(tenant_input_parse(body, &in, &problems), -1);
	CU_ASSERT_TRUE(json_object_object_get_ex(problems, "slug", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "is required");
	CU_ASSERT_TRUE(json_object_object_get_ex(problems, "database_id", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "is required");
	json_object_put(problems);
	json_object_put(body);
}

static CU_TestInfo tests[] = {
	{ "slugs", test_slug },
	{ "schemas", test_schema },
	{ "names", test_name },
	{ "statuses", test_status },
	{ "a body: defaults", test_parse_defaults },
	{ "a body: every problem at once", test_parse_problems },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("tenant input", tests)
