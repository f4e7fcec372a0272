/* test_http_parse.c — the HTTP layer's pure parsers: percent-decoding,
 * query strings, path patterns, request ids, content types, and the error
 * kind → status mapping. */
#include <string.h>

#include "arena.h"
#include "http.h"
#include "unit.h"

static struct arena a;

static void test_percent_decode(void)
{
	arena_init(&a, 4096);
	CU_ASSERT_STRING_EQUAL(http_percent_decode(&a, "a%20b", 5, false), "a b");
	CU_ASSERT_STRING_EQUAL(http_percent_decode(&a, "a+b", 3, true), "a b");
	CU_ASSERT_STRING_EQUAL(http_percent_decode(&a, "a+b", 3, false), "a+b");
	CU_ASSERT_STRING_EQUAL(http_percent_decode(&a, "%c3%A9", 6, false), "\xc3\xa9");
	CU_ASSERT_PTR_NULL(http_percent_decode(&a, "%", 1, false));
	CU_ASSERT_PTR_NULL(http_percent_decode(&a, "%2", 2, false));
	CU_ASSERT_PTR_NULL(http_percent_decode(&a, "%zz", 3, false));
	CU_ASSERT_PTR_NULL(http_percent_decode(&a, "a%00b", 5, false));
	CU_ASSERT_STRING_EQUAL(http_percent_decode(&a, "", 0, false), "");
	arena_release(&a);
}

static void test_parse_query(void)
{
	struct http_param p[4];

	arena_init(&a, 4096);
	CU_ASSERT_EQUAL(http_parse_query(&a, "", p, 4), 0);
	CU_ASSERT_EQUAL(http_parse_query(&a, "a=1&b=x%20y&flag", p, 4), 3);
	CU_ASSERT_STRING_EQUAL(p[0].name, "a");
	CU_ASSERT_STRING_EQUAL(p[0].value, "1");
	CU_ASSERT_STRING_EQUAL(p[1].value, "x y");
	CU_ASSERT_STRING_EQUAL(p[2].name, "flag");
	CU_ASSERT_STRING_EQUAL(p[2].value, "");
	CU_ASSERT_EQUAL(http_parse_query(&a, "a=1&&b=2&", p, 4), 2);
	CU_ASSERT_EQUAL(http_parse_query(&a, "a=1&b=2&c=3&d=4&e=5", p, 4), -1);
	CU_ASSERT_EQUAL(http_parse_query(&a, "=1", p, 4), -1);
	CU_ASSERT_EQUAL(http_parse_query(&a, "a=%zz", p, 4), -1);
	CU_ASSERT_EQUAL(http_parse_query(&a, "q=a%3Db%26c", p, 4), 1);
	CU_ASSERT_STRING_EQUAL(p[0].value, "a=b&c");
	arena_release(&a);
}

static void test_match_path(void)
{
	struct http_param p[HTTP_MAX_PATH_PARAMS];
	int n = -1;

	arena_init(&a, 4096);
	CU_ASSERT_EQUAL(http_match_path(&a, "/health", "/health", p, &n), 1);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(http_match_path(&a, "/health", "/health/", p, &n), 0);
	CU_ASSERT_EQUAL(http_match_path(&a, "/health", "/healthz", p, &n), 0);
	CU_ASSERT_EQUAL(http_match_path(&a, "/health/ready", "/health", p, &n), 0);
	CU_ASSERT_EQUAL(http_match_path(&a, "/databases/{id}/test", "/databases/abc/test", p, &n), 1);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(p[0].name, "id");
	CU_ASSERT_STRING_EQUAL(p[0].value, "abc");
	CU_ASSERT_EQUAL(http_match_path(&a, "/databases/{id}", "/databases/", p, &n), 0);
	CU_ASSERT_EQUAL(http_match_path(&a, "/databases/{id}", "/databases//", p, &n), 0);
	CU_ASSERT_EQUAL(http_match_path(&a, "/auth/roles/{role}", "/auth/roles/migrations%3Aread", p, &n), 1);
	CU_ASSERT_STRING_EQUAL(p[0].value, "migrations:read");
	/* An encoded slash stays inside its segment. */
	CU_ASSERT_EQUAL(http_match_path(&a, "/tenants/{id}", "/tenants/a%2Fb", p, &n), 1);
	CU_ASSERT_STRING_EQUAL(p[0].value, "a/b");
	CU_ASSERT_EQUAL(http_match_path(&a, "/tenants/{id}", "/tenants/a%zz", p, &n), -1);
	CU_ASSERT_EQUAL(http_match_path(&a, "/", "/", p, &n), 1);
	CU_ASSERT_EQUAL(http_match_path(&a, "/health", "", p, &n), 0);
	arena_release(&a);
}

static void test_request_id(void)
{
	char long_id[66];

	CU_ASSERT_TRUE(http_request_id_sane("abc-123_X.y"));
	CU_ASSERT_TRUE(http_request_id_sane("a"));
	CU_ASSERT_FALSE(http_request_id_sane(""));
	CU_ASSERT_FALSE(http_request_id_sane(NULL));
	CU_ASSERT_FALSE(http_request_id_sane("has space"));
	CU_ASSERT_FALSE(http_request_id_sane("x\r\nSet-Cookie: a"));
	memset(long_id, 'a', 64);
	long_id[64] = '\0';
	CU_ASSERT_TRUE(http_request_id_sane(long_id));
	long_id[64] = 'a';
	long_id[65] = '\0';
	CU_ASSERT_FALSE(http_request_id_sane(long_id));
}

static void test_content_type(void)
{
	CU_ASSERT_TRUE(http_content_type_is_json("application/json"));
	CU_ASSERT_TRUE(http_content_type_is_json("Application/JSON"));
	CU_ASSERT_TRUE(http_content_type_is_json("application/json; charset=utf-8"));
	CU_ASSERT_TRUE(http_content_type_is_json("application/json;charset=\"UTF-8\""));
	CU_ASSERT_FALSE(http_content_type_is_json("application/json; charset=latin1"));
	CU_ASSERT_FALSE(http_content_type_is_json("application/jsonx"));
	CU_ASSERT_FALSE(http_content_type_is_json("text/plain"));
	CU_ASSERT_FALSE(http_content_type_is_json(""));
	CU_ASSERT_FALSE(http_content_type_is_json("application/x-www-form-urlencoded"));
}

static void test_status_mapping(void)
{
	const struct { enum infra_errkind kind; int status; const char *code; } cases[] = {
		{ INFRA_EINVAL, 422, "VAL_001" },     { INFRA_EMALFORMED, 400, "VAL_001" },
		{ INFRA_ENOTFOUND, 404, "RES_001" },  { INFRA_ECONFLICT, 409, "RES_002" },
		{ INFRA_EPRECOND, 412, "RES_003" },   { INFRA_EMIGRATION, 422, "MIG_001" },
		{ INFRA_EAUTH, 401, "AUTH_001" },     { INFRA_EFORBIDDEN, 403, "AUTH_002" },
		{ INFRA_EUNAVAIL, 503, "SVC_001" },   { INFRA_EINTERNAL, 500, "INT_001" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status = 0;
		const char *code = NULL;

		http_status_for(cases[i].kind, &status, &code);
		CU_ASSERT_EQUAL(status, cases[i].status);
		CU_ASSERT_STRING_EQUAL(code, cases[i].code);
	}
}

static CU_TestInfo tests[] = {
	{ "percent decoding", test_percent_decode },
	{ "query strings", test_parse_query },
	{ "path patterns", test_match_path },
	{ "request ids", test_request_id },
	{ "content types", test_content_type },
	{ "error kind to status", test_status_mapping },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("http parsers", tests)
