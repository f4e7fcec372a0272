/* test_routes.c — the routing table itself: every route names a
 * permission or is on the short list of public ones, permissions come from
 * the catalog, patterns are well formed and no two rows collide. A route
 * added without a permission makes this test fail. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "unit.h"

/* The only routes anyone may call without a token (API.md). */
static const char *const public_routes[] = {
	"GET /health", "GET /health/ready", "GET /metrics",
};

static const char *const catalog[] = {
	"infrastructure:admin", "infrastructure:read", "databases:read", "databases:manage",
	"tenants:read", "tenants:manage", "migrations:read", "migrations:execute",
	"migrations:manage",
};

static bool listed(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void test_every_route_is_protected_or_public(void)
{
	char key[160];

	CU_ASSERT_TRUE(http_nroutes > 0);
	for (int i = 0; i < http_nroutes; i++) {
		const struct route *rt = &http_routes[i];

		snprintf(key, sizeof(key), "%s %s", rt->method, rt->pattern);
		if (rt->permission == PERM_PUBLIC) {
			if (!listed(public_routes, sizeof(public_routes) / sizeof(public_routes[0]), key))
				CU_FAIL_FATAL("a route without a permission is not on the public list");
			continue;
		}
		CU_ASSERT_TRUE(strcmp(rt->permission, PERM_ANY_TOKEN) == 0 ||
			       listed(catalog, sizeof(catalog) / sizeof(catalog[0]), rt->permission));
		CU_ASSERT_PTR_NOT_NULL(rt->handler);
	}
}

static void test_public_routes_exist(void)
{
	for (size_t p = 0; p < sizeof(public_routes) / sizeof(public_routes[0]); p++) {
		bool found = false;
		char key[160];

		for (int i = 0; i < http_nroutes; i++) {
			snprintf(key, sizeof(key), "%s %s", http_routes[i].method, http_routes[i].pattern);
			found |= strcmp(key, public_routes[p]) == 0 &&
				 http_routes[i].permission == PERM_PUBLIC;
		}
		CU_ASSERT_TRUE(found);
	}
}

static void test_patterns_well_formed_and_unique(void)
{
	const char *methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

	for (int i = 0; i < http_nroutes; i++) {
		const struct route *rt = &http_routes[i];

		CU_ASSERT_EQUAL(rt->pattern[0], '/');
		CU_ASSERT_PTR_NULL(strstr(rt->pattern, "//"));
		CU_ASSERT_TRUE(listed(methods, 5, rt->method));
		for (int j = i + 1; j < http_nroutes; j++)
			CU_ASSERT_FALSE(strcmp(rt->method, http_routes[j].method) == 0 &&
					strcmp(rt->pattern, http_routes[j].pattern) == 0);
	}
}

static CU_TestInfo tests[] = {
	{ "every route is protected or listed public", test_every_route_is_protected_or_public },
	{ "the public routes exist", test_public_routes_exist },
	{ "patterns are well formed and unique", test_patterns_well_formed_and_unique },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("routing table", tests)
