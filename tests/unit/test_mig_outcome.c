/* test_mig_outcome.c — how the engine names a target in its outcomes, its
 * log lines and infractl's output: host:port/dbname, never a user or a
 * password — not even when the dbname is itself a connection string,
 * which libpq would send whole as a database's name. */
#include <string.h>

#include "mig_engine.h"
#include "unit.h"

static void expect(const char *conninfo, const char *want)
{
	char out[256];

	mig_target_describe(conninfo, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, want);
	CU_ASSERT_PTR_NULL(strstr(out, "secret"));
}

static void test_describe(void)
{
	expect("postgresql://u:secret@127.0.0.1:6543/app", "127.0.0.1:6543/app");
	expect("host=127.0.0.2 dbname=app user=u password=secret", "127.0.0.2:5432/app");
	expect("", "localhost:5432/?");
	expect("not a conninfo", "?");
	expect("dbname=postgresql://u:secret@127.0.0.3:7000/inner", "localhost:5432/?");
	expect("host=127.0.0.4 dbname='host=h dbname=inner password=secret'", "127.0.0.4:5432/?");
	expect("postgresql://127.0.0.5/postgres%3A%2F%2Fu%3Asecret%40h%2Fd", "127.0.0.5:5432/?");
}

static void test_nests(void)
{
	CU_ASSERT_TRUE(mig_conninfo_nests("dbname=postgresql://u:secret@127.0.0.3/inner"));
	CU_ASSERT_TRUE(mig_conninfo_nests("dbname='user=u password=secret'"));
	CU_ASSERT_TRUE(mig_conninfo_nests("postgresql://h/postgres%3A%2F%2Fh%2Fd"));
	CU_ASSERT_FALSE(mig_conninfo_nests("postgresql://u:secret@127.0.0.1/app"));
	CU_ASSERT_FALSE(mig_conninfo_nests("host=127.0.0.1 dbname=app"));
	CU_ASSERT_FALSE(mig_conninfo_nests("host=127.0.0.1"));
	CU_ASSERT_FALSE(mig_conninfo_nests("not a conninfo"));
}

static CU_TestInfo tests[] = {
	{ "naming a target", test_describe },
	{ "a dbname that is a connection string", test_nests },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("migration outcomes", tests)
