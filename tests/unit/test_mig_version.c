/* test_mig_version.c — Flyway migration versions: parsing, normalising
 * (underscores to dots) and ordering (numeric parts, trailing zeros
 * ignored, parts of any length). */
#include <string.h>

#include "mig_version.h"
#include "unit.h"

static void test_parse(void)
{
	char v[MIG_VERSION_MAX + 1];
	struct infra_error err;

	CU_ASSERT_EQUAL(mig_version_parse("1", 1, v, &err), 0);
	CU_ASSERT_STRING_EQUAL(v, "1");
	CU_ASSERT_EQUAL(mig_version_parse("1_2_3", 5, v, &err), 0);
	CU_ASSERT_STRING_EQUAL(v, "1.2.3");
	CU_ASSERT_EQUAL(mig_version_parse("2.0_1", 5, v, &err), 0);
	CU_ASSERT_STRING_EQUAL(v, "2.0.1");
	CU_ASSERT_EQUAL(mig_version_parse("007", 3, v, &err), 0);
	CU_ASSERT_STRING_EQUAL(v, "007");	/* written as given, compared as 7 */
	/* only the first `len` bytes count */
	CU_ASSERT_EQUAL(mig_version_parse("12__x", 2, v, &err), 0);
	CU_ASSERT_STRING_EQUAL(v, "12");
}

static void test_parse_invalid(void)
{
	static const char *const bad[] = { "", "a", "1a", "1..2", "1__2", ".1", "1.", "_1",
					   "1-2", "1 2", "v1", "1.2.", "\xc3\xa9" };
	char v[MIG_VERSION_MAX + 1];
	char longv[80];
	struct infra_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(mig_version_parse(bad[i], strlen(bad[i]), v, &err), -1);
		CU_ASSERT_EQUAL(err.kind, INFRA_EMIGRATION);
	}
	memset(longv, '1', sizeof(longv));
	CU_ASSERT_EQUAL(mig_version_parse(longv, MIG_VERSION_MAX, v, &err), 0);
	CU_ASSERT_EQUAL(mig_version_parse(longv, MIG_VERSION_MAX + 1, v, &err), -1);
}

static void test_valid(void)
{
	CU_ASSERT_TRUE(mig_version_valid("1.2"));
	CU_ASSERT_FALSE(mig_version_valid("1_2"));	/* not normalised */
	CU_ASSERT_FALSE(mig_version_valid("latest"));
	CU_ASSERT_FALSE(mig_version_valid(""));
}

static void test_order(void)
{
	/* each pair: older, newer */
	static const char *const pairs[][2] = {
		{ "1", "2" }, { "1.9", "1.10" }, { "1.2", "1.10" }, { "9", "10" },
		{ "1", "1.1" }, { "1.0.1", "1.1" }, { "2", "10" }, { "0", "0.1" },
		{ "99999999999999999999", "100000000000000000000" },	/* past 64 bits */
		{ "1.99999999999999999999", "2" }, { "007", "8" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		CU_ASSERT(mig_version_cmp(pairs[i][0], pairs[i][1]) < 0);
		CU_ASSERT(mig_version_cmp(pairs[i][1], pairs[i][0]) > 0);
	}
}

static void test_equal(void)
{
	static const char *const same[][2] = {
		{ "1", "1.0" }, { "1", "1.0.0.0" }, { "1", "01" }, { "1.0.1", "1.00.1" },
		{ "0", "0.0" }, { "10.0", "10" }, { "000", "0" },
	};

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		CU_ASSERT_EQUAL(mig_version_cmp(same[i][0], same[i][1]), 0);
		CU_ASSERT_EQUAL(mig_version_cmp(same[i][1], same[i][0]), 0);
	}
}

static CU_TestInfo tests[] = {
	{ "parse and normalise", test_parse },
	{ "reject what is not a version", test_parse_invalid },
	{ "valid normalised text", test_valid },
	{ "numeric order", test_order },
	{ "trailing zeros and leading zeros", test_equal },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("mig_version", tests)
