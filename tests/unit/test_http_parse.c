/* test_http_parse.c — the HTTP layer's pure parsers: percent-decoding (and
 * UTF-8), query strings, path patterns, request ids, content types, strict
 * JSON, and the error kind → status mapping. */
#include <string.h>

#include "arena.h"
#include "http.h"
#include "json_strict.h"
#include "unit.h"
#include "utf8.h"

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
	/* What it decodes to must be UTF-8: the value goes to PostgreSQL, a
	 * log line, a JSON answer. Raw bytes as much as escaped ones. */
	CU_ASSERT_PTR_NULL(http_percent_decode(&a, "%ff", 3, false));
	CU_ASSERT_PTR_NULL(http_percent_decode(&a, "a\xff", 2, true));
	CU_ASSERT_PTR_NULL(http_percent_decode(&a, "%c0%80", 6, false));
	CU_ASSERT_PTR_NULL(http_percent_decode(&a, "%c3", 3, false));
	CU_ASSERT_STRING_EQUAL(http_percent_decode(&a, "%e2%82%ac\xe2\x82\xac", 12, false),
			       "\xe2\x82\xac\xe2\x82\xac");
	arena_release(&a);
}

/* RFC 3629's table, at each of its edges. */
static void test_utf8(void)
{
	static const char *const good[] = {
		"", "ascii", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
		"caf\xc3\xa9 \xf0\x9f\x90\x98",
	};
	static const char *const bad[] = {
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xc2", "\xc2\x41", "\xe0\x80\x80",
		"\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xe1\x80", "\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe", "ok\xe2\x82",
		"\xe2\x82\xac\x80",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_TRUE(utf8_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_FALSE(utf8_valid(bad[i], strlen(bad[i])));
	CU_ASSERT_FALSE(utf8_valid("a\0b", 3));	/* C would end the string there */
	CU_ASSERT_EQUAL(utf8_valid_prefix("ok\xc3\xa9\xff!", 6), 4);
}

/* Every byte that starts no well-formed sequence becomes '?'; the rest
 * stays as it was. */
static void test_utf8_scrub(void)
{
	char mixed[] = "caf\xc3\xa9 \xff\xc3 \xed\xa0\x80 \xe2\x82\xac", plain[] = "plain";

	utf8_scrub(mixed);
	CU_ASSERT_STRING_EQUAL(mixed, "caf\xc3\xa9 ?? ??? \xe2\x82\xac");
	utf8_scrub(plain);
	CU_ASSERT_STRING_EQUAL(plain, "plain");
}

/* A NUL escaped anywhere is found; an escaped backslash before "u0000"
 * is not one. json_strict_parse refuses the first. */
static void test_json_nul(void)
{
	static const char *const nul[] = {
		"{\"a\":\"x\\u0000\"}", "{\"a\\u0000\":1}", "[\"\\u0000\"]", "\"\\u0000y\"",
		"{\"a\":\"\\\\\\u0000\"}",
	};
	static const char *const clean[] = {
		"{\"a\":\"x\"}", "{\"a\":\"\\\\u0000\"}", "{\"a\":\"\\u0001\"}", "[\"\\\"u0000\"]",
	};
	json_object *v;

	for (size_t i = 0; i < sizeof(nul) / sizeof(nul[0]); i++) {
		CU_ASSERT_TRUE(json_escapes_nul(nul[i], strlen(nul[i])));
		CU_ASSERT_PTR_NULL(json_strict_parse(nul[i], strlen(nul[i])));
	}
	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		CU_ASSERT_FALSE(json_escapes_nul(clean[i], strlen(clean[i])));
		v = json_strict_parse(clean[i], strlen(clean[i]));
		CU_ASSERT_PTR_NOT_NULL(v);
		json_object_put(v);
	}
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
	{ "UTF-8", test_utf8 },
	{ "UTF-8 scrubbed", test_utf8_scrub },
	{ "NUL in JSON", test_json_nul },
	{ "query strings", test_parse_query },
	{ "path patterns", test_match_path },
	{ "request ids", test_request_id },
	{ "content types", test_content_type },
	{ "error kind to status", test_status_mapping },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("http parsers", tests)
