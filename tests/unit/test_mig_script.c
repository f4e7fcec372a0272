/* test_mig_script.c — Flyway migration file names, and loading the scripts
 * of a location: ordering, checksums, a byte-order mark, subfolders, and
 * every way a set is refused (bad names, duplicates, invalid UTF-8, a
 * script mixing statements that cannot share a transaction). */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mig_checksum.h"
#include "mig_script.h"
#include "unit.h"

static char dir[64];

static void put(const char *name, const char *content)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(content, f);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fresh_dir(void)
{
	if (dir[0] != '\0')
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	snprintf(dir, sizeof(dir), "/tmp/test_mig_script.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

static void test_names(void)
{
	struct mig_name n;
	struct infra_error err;

	CU_ASSERT_EQUAL(mig_name_parse("V1__create_users.sql", &n, &err), 1);
	CU_ASSERT_EQUAL(n.kind, MIG_VERSIONED);
	CU_ASSERT_STRING_EQUAL(n.version, "1");
	CU_ASSERT_STRING_EQUAL(n.description, "create users");
	CU_ASSERT_EQUAL(mig_name_parse("V1_1__add_a_column.sql", &n, &err), 1);
	CU_ASSERT_STRING_EQUAL(n.version, "1.1");
	CU_ASSERT_STRING_EQUAL(n.description, "add a column");
	CU_ASSERT_EQUAL(mig_name_parse("V2.0.3__x__y.sql", &n, &err), 1);
	CU_ASSERT_STRING_EQUAL(n.version, "2.0.3");
	CU_ASSERT_STRING_EQUAL(n.description, "x  y");
	CU_ASSERT_EQUAL(mig_name_parse("U3__drop_it.sql", &n, &err), 1);
	CU_ASSERT_EQUAL(n.kind, MIG_UNDO);
	CU_ASSERT_STRING_EQUAL(n.version, "3");
	CU_ASSERT_EQUAL(mig_name_parse("R__refresh_views.sql", &n, &err), 1);
	CU_ASSERT_EQUAL(n.kind, MIG_REPEATABLE);
	CU_ASSERT_STRING_EQUAL(n.version, "");
	CU_ASSERT_STRING_EQUAL(n.description, "refresh views");
	CU_ASSERT_EQUAL(mig_name_parse("V4__.sql", &n, &err), 1);
	CU_ASSERT_STRING_EQUAL(n.description, "");
}

static void test_names_ignored(void)
{
	static const char *const ignored[] = { "README.md", ".V1__hidden.sql", "V1__x.sql.bak",
					       "V1__x.SQL", "notes.txt", ".sql" };
	struct mig_name n;
	struct infra_error err;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		CU_ASSERT_EQUAL(mig_name_parse(ignored[i], &n, &err), 0);
}

static void test_names_bad(void)
{
	static const char *const bad[] = { "create.sql", "V1.sql", "Vx__a.sql", "V1_a__b.sql",
					   "R1__a.sql", "R__.sql", "v1__lower.sql", "V__noversion.sql",
					   "B1__baseline.sql" };
	struct mig_name n;
	struct infra_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(mig_name_parse(bad[i], &n, &err), -1);
		CU_ASSERT_EQUAL(err.kind, INFRA_EMIGRATION);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, bad[i]));
	}
}

static void test_load(void)
{
	struct mig_set set;
	struct infra_error err;
	char sub[96];

	fresh_dir();
	put("V1__one.sql", "SELECT 1;\n");
	put("V10__ten.sql", "SELECT 10;\n");
	put("V2__two.sql", "\xEF\xBB\xBFSELECT 2;\r\n");
	put("V1_1__one_one.sql", "SELECT 11;\n");
	put("U2__undo_two.sql", "SELECT -2;\n");
	put("R__b.sql", "SELECT 'b';\n");
	put("R__a.sql", "SELECT '${who}';\n");
	put("README.md", "not a migration\n");
	snprintf(sub, sizeof(sub), "%s/more", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0700), 0);
	put("more/V3__three.sql", "CREATE INDEX CONCURRENTLY i ON t (x);\nVACUUM t;\n");

	CU_ASSERT_EQUAL_FATAL(mig_set_load(&set, dir, &err), 0);
	CU_ASSERT_EQUAL(set.nversioned, 5);
	CU_ASSERT_STRING_EQUAL(set.versioned[0].version, "1");
	CU_ASSERT_STRING_EQUAL(set.versioned[1].version, "1.1");
	CU_ASSERT_STRING_EQUAL(set.versioned[2].version, "2");
	CU_ASSERT_STRING_EQUAL(set.versioned[3].version, "3");
	CU_ASSERT_STRING_EQUAL(set.versioned[4].version, "10");
	CU_ASSERT_STRING_EQUAL(set.versioned[3].script, "more/V3__three.sql");
	/* the BOM is gone from the text and from the checksum */
	CU_ASSERT_STRING_EQUAL(set.versioned[2].sql, "SELECT 2;\r\n");
	CU_ASSERT_EQUAL(set.versioned[2].checksum, mig_checksum("SELECT 2;", 9));
	CU_ASSERT_TRUE(set.versioned[3].autocommit_always);
	CU_ASSERT_EQUAL(set.versioned[3].nstmts, 2);
	CU_ASSERT_FALSE(set.versioned[0].autocommit_always);
	CU_ASSERT_EQUAL(set.nundo, 1);
	CU_ASSERT_EQUAL(set.nrepeatable, 2);
	CU_ASSERT_STRING_EQUAL(set.repeatable[0].description, "a");
	CU_ASSERT_TRUE(set.repeatable[0].placeholders);
	CU_ASSERT_FALSE(set.repeatable[1].placeholders);
	CU_ASSERT_PTR_NOT_NULL(mig_set_find(&set, MIG_VERSIONED, "1.1"));
	CU_ASSERT_PTR_NOT_NULL(mig_set_find(&set, MIG_VERSIONED, "10.0"));
	CU_ASSERT_PTR_NULL(mig_set_find(&set, MIG_VERSIONED, "4"));
	CU_ASSERT_PTR_NOT_NULL(mig_set_find(&set, MIG_UNDO, "2"));
	CU_ASSERT_PTR_NULL(mig_set_find(&set, MIG_UNDO, "1"));
	CU_ASSERT_STRING_EQUAL(mig_script_type(&set.undo[0]), "UNDO_SQL");
	mig_set_release(&set);
	CU_ASSERT_EQUAL(set.nversioned, 0);
}

static void expect_refused(const char *what)
{
	struct mig_set set;
	struct infra_error err;

	CU_ASSERT_EQUAL(mig_set_load(&set, dir, &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EMIGRATION);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, what));
	CU_ASSERT_EQUAL(set.nversioned, 0);
}

static void test_refused(void)
{
	struct mig_set set;
	struct infra_error err;

	fresh_dir();
	put("V1__a.sql", "SELECT 1;");
	put("V1_0__b.sql", "SELECT 1;");
	expect_refused("more than one versioned migration with version");

	fresh_dir();
	put("V1__a.sql", "SELECT 1;");
	put("create_tables.sql", "SELECT 1;");
	expect_refused("'create_tables.sql' is not a migration name");

	fresh_dir();
	put("V1__latin1.sql", "SELECT 'caf\xE9';\n");
	expect_refused("'V1__latin1.sql' is not valid UTF-8 (line 1)");

	fresh_dir();
	put("V1__caf\xE9.sql", "SELECT 1;\n");	/* the name in Latin-1 */
	expect_refused("the name of 'V1__caf?.sql' is not valid UTF-8");

	fresh_dir();
	put("V1__mixed.sql", "CREATE TABLE t (x int);\nCREATE INDEX CONCURRENTLY i ON t (x);\n");
	expect_refused("'V1__mixed.sql' mixes a statement that cannot run in a transaction (line 2)");

	fresh_dir();
	put("V1__copy.sql", "COPY t FROM STDIN;\n1\n\\.\n");
	expect_refused("COPY");

	fresh_dir();
	put("V1__quote.sql", "SELECT 'open;\n");
	expect_refused("'V1__quote.sql': unterminated quoted string starting on line 1");

	CU_ASSERT_EQUAL(mig_set_load(&set, "/nonexistent/migrations", &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_ENOTFOUND);
}

static void test_checksum_file(void)
{
	char path[128];
	int32_t sum;
	struct infra_error err;

	fresh_dir();
	put("hello.sql", "hello\n");
	snprintf(path, sizeof(path), "%s/hello.sql", dir);
	CU_ASSERT_EQUAL(mig_script_checksum_file(path, &sum, &err), 0);
	CU_ASSERT_EQUAL(sum, 907060870);
	snprintf(path, sizeof(path), "%s/missing.sql", dir);
	CU_ASSERT_EQUAL(mig_script_checksum_file(path, &sum, &err), -1);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

static CU_TestInfo tests[] = {
	{ "file names", test_names },
	{ "files that are not migrations", test_names_ignored },
	{ "bad names are errors naming the file", test_names_bad },
	{ "load a location", test_load },
	{ "refused sets", test_refused },
	{ "checksum of a file", test_checksum_file },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("mig_script", tests)
