/* test_mig_placeholder.c — Flyway placeholders: definitions, checking a
 * script before anything runs, and replacement with built-in values. */
#include <string.h>

#include "mig_placeholder.h"
#include "unit.h"

static void test_define(void)
{
	struct mig_placeholders ph;
	struct infra_error err;

	mig_placeholders_init(&ph);
	CU_ASSERT_EQUAL(mig_placeholders_parse(&ph, "owner=alice", &err), 0);
	CU_ASSERT_EQUAL(mig_placeholders_parse(&ph, "empty=", &err), 0);
	CU_ASSERT_EQUAL(mig_placeholders_parse(&ph, "eq=a=b", &err), 0);
	CU_ASSERT_EQUAL(mig_placeholders_parse(&ph, "owner=bob", &err), 0);	/* redefined */
	CU_ASSERT_EQUAL(ph.n, 3);
	CU_ASSERT_STRING_EQUAL(ph.values[0], "bob");
	CU_ASSERT_STRING_EQUAL(ph.values[2], "a=b");
	CU_ASSERT_EQUAL(mig_placeholders_parse(&ph, "novalue", &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EINVAL);
	CU_ASSERT_EQUAL(mig_placeholders_parse(&ph, "=x", &err), -1);
	CU_ASSERT_EQUAL(mig_placeholders_parse(&ph, "flyway:user=x", &err), -1);
	CU_ASSERT_EQUAL(mig_placeholders_parse(&ph, "a}b=x", &err), -1);
	mig_placeholders_release(&ph);
	CU_ASSERT_EQUAL(ph.n, 0);
}

static void test_check(void)
{
	struct mig_placeholders ph;
	struct infra_error err;
	const char *ok = "GRANT SELECT ON t TO ${owner}; -- ${flyway:defaultSchema} ${flyway:timestamp}";
	const char *bad = "SELECT 1;\nSELECT '${nope}';";

	mig_placeholders_init(&ph);
	mig_placeholders_set(&ph, "owner", "alice", &err);
	CU_ASSERT_TRUE(mig_placeholders_present(ok, strlen(ok)));
	CU_ASSERT_FALSE(mig_placeholders_present("SELECT $1, '{x}'", 16));
	CU_ASSERT_EQUAL(mig_placeholders_check(&ph, ok, strlen(ok), "V1__a.sql", &err), 0);
	CU_ASSERT_EQUAL(mig_placeholders_check(&ph, bad, strlen(bad), "V2__b.sql", &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EMIGRATION);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "${nope}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "V2__b.sql"));
	/* an unknown built-in is unknown too */
	CU_ASSERT_EQUAL(mig_placeholders_check(&ph, "${flyway:nothing}", 17, "x", &err), -1);
	mig_placeholders_release(&ph);
}

static void test_expand(void)
{
	struct mig_placeholders ph;
	struct infra_error err;
	struct strbuf out = STRBUF_INIT;
	struct mig_builtins bi = {
		.default_schema = "tenant_a", .user = "app", .database = "db1",
		.timestamp = "2026-11-22 10:00:00", .filename = "V1__x.sql",
		.working_directory = "/srv", .table = "flyway_schema_history",
	};
	const char *sql = "SELECT '${a ${col}'";

	mig_placeholders_init(&ph);
	mig_placeholders_set(&ph, "col", "n", &err);
	CU_ASSERT_EQUAL(mig_placeholders_set(&ph, "", "n", &err), -1);
	/* the name runs to the first '}': "a ${col" is not defined */
	CU_ASSERT_EQUAL(mig_placeholders_check(&ph, sql, strlen(sql), "V1__x.sql", &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "${a ${col}"));
	/* "${" with no '}' after it is plain text */
	sql = "CREATE TABLE ${flyway:defaultSchema}.t (${col} int); "
	      "-- ${flyway:user}@${flyway:database} ${flyway:filename} ${flyway:table} "
	      "${flyway:workingDirectory} ${flyway:timestamp} ${unclosed";
	CU_ASSERT_EQUAL(mig_placeholders_expand(&ph, &bi, sql, strlen(sql), "V1__x.sql", &out, &err), 0);
	CU_ASSERT_STRING_EQUAL(out.buf, "CREATE TABLE tenant_a.t (n int); "
			       "-- app@db1 V1__x.sql flyway_schema_history /srv 2026-11-22 10:00:00 ${unclosed");
	/* a built-in the caller cannot give is an error when expanding */
	bi.user = NULL;
	strbuf_reset(&out);
	CU_ASSERT_EQUAL(mig_placeholders_expand(&ph, &bi, "${flyway:user}", 14, "V1__x.sql", &out, &err), -1);
	strbuf_release(&out);
	mig_placeholders_release(&ph);
}

static CU_TestInfo tests[] = {
	{ "define from NAME=VALUE", test_define },
	{ "undefined placeholder named with its script", test_check },
	{ "replacement with built-ins", test_expand },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("mig_placeholder", tests)
