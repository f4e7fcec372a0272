/* test_mig_sql.c — the statement splitter: what may hide a semicolon
 * (quotes, E'' strings, quoted identifiers, dollar quotes, comments, nested
 * block comments, BEGIN ATOMIC bodies) and which statements PostgreSQL
 * refuses inside a transaction block. */
#include <stdlib.h>
#include <string.h>

#include "mig_sql.h"
#include "unit.h"

static struct mig_stmt *stmts;
static size_t nstmts;
static const char *text;

static int split(const char *sql)
{
	struct infra_error err;

	free(stmts);
	stmts = NULL;
	text = sql;
	return mig_sql_split(sql, strlen(sql), &stmts, &nstmts, &err);
}

/* Statement `i` equals `want`. */
static int stmt_is(size_t i, const char *want)
{
	return i < nstmts && stmts[i].len == strlen(want) &&
	       memcmp(text + stmts[i].off, want, stmts[i].len) == 0;
}

static void test_simple(void)
{
	CU_ASSERT_EQUAL(split("SELECT 1; SELECT 2;\nSELECT 3"), 0);
	CU_ASSERT_EQUAL(nstmts, 3);
	CU_ASSERT(stmt_is(0, "SELECT 1"));
	CU_ASSERT(stmt_is(1, "SELECT 2"));
	CU_ASSERT(stmt_is(2, "SELECT 3"));
	CU_ASSERT_EQUAL(stmts[2].line, 2);
	CU_ASSERT_EQUAL(split(""), 0);
	CU_ASSERT_EQUAL(nstmts, 0);
	CU_ASSERT_EQUAL(split("  -- only a comment\n/* and another */ ;;\n"), 0);
	CU_ASSERT_EQUAL(nstmts, 0);
}

static void test_quotes(void)
{
	CU_ASSERT_EQUAL(split("INSERT INTO t VALUES ('a;b', 'it''s;'); SELECT 2"), 0);
	CU_ASSERT_EQUAL(nstmts, 2);
	CU_ASSERT(stmt_is(0, "INSERT INTO t VALUES ('a;b', 'it''s;')"));
	CU_ASSERT_EQUAL(split("SELECT E'a\\';b'; SELECT e'\\\\'; SELECT 3"), 0);
	CU_ASSERT_EQUAL(nstmts, 3);
	CU_ASSERT(stmt_is(0, "SELECT E'a\\';b'"));
	CU_ASSERT_EQUAL(split("CREATE TABLE \"we;ird\"\"name\" (x int); SELECT 1"), 0);
	CU_ASSERT_EQUAL(nstmts, 2);
	/* a standard string keeps its backslash: the quote after it closes it */
	CU_ASSERT_EQUAL(split("SELECT 'a\\'; SELECT 2"), 0);
	CU_ASSERT_EQUAL(nstmts, 2);
}

static void test_dollar_quotes(void)
{
	CU_ASSERT_EQUAL(split("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
			      "BEGIN\n  PERFORM 1; RETURN 2;\nEND;\n$$;\nSELECT f();"), 0);
	CU_ASSERT_EQUAL(nstmts, 2);
	CU_ASSERT(stmt_is(1, "SELECT f()"));
	CU_ASSERT_EQUAL(stmts[1].line, 6);
	CU_ASSERT_EQUAL(split("DO $body$ BEGIN RAISE NOTICE '$$;'; END $body$; SELECT 1"), 0);
	CU_ASSERT_EQUAL(nstmts, 2);
	/* $1 is a parameter, a$b an identifier: neither opens a quote */
	CU_ASSERT_EQUAL(split("PREPARE p AS SELECT $1; SELECT a$b FROM t; SELECT 3"), 0);
	CU_ASSERT_EQUAL(nstmts, 3);
}

static void test_comments(void)
{
	CU_ASSERT_EQUAL(split("SELECT 1 -- not the end; really\n+ 1; SELECT 2"), 0);
	CU_ASSERT_EQUAL(nstmts, 2);
	CU_ASSERT(stmt_is(0, "SELECT 1 -- not the end; really\n+ 1"));
	CU_ASSERT_EQUAL(split("SELECT /* a /* nested; */ comment; */ 1; SELECT 2"), 0);
	CU_ASSERT_EQUAL(nstmts, 2);
	CU_ASSERT_EQUAL(split("-- leading\n/* block */\nSELECT 1;"), 0);
	CU_ASSERT_EQUAL(nstmts, 1);
	CU_ASSERT(stmt_is(0, "SELECT 1"));
	CU_ASSERT_EQUAL(stmts[0].line, 3);
}

static void test_begin_atomic(void)
{
	CU_ASSERT_EQUAL(split("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
			      "BEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\n"
			      "  SELECT 2;\nEND;\nSELECT 3;"), 0);
	CU_ASSERT_EQUAL(nstmts, 2);
	CU_ASSERT(stmt_is(1, "SELECT 3"));
	/* a transaction's BEGIN does not open a block */
	CU_ASSERT_EQUAL(split("BEGIN; SELECT 1; END;"), 0);
	CU_ASSERT_EQUAL(nstmts, 3);
}

static void test_unterminated(void)
{
	struct infra_error err;
	static const char *const bad[] = { "SELECT 'abc", "SELECT \"abc", "SELECT $$ x",
					   "SELECT 1 /* open", "SELECT E'\\'" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n;

		free(stmts);
		stmts = NULL;
		CU_ASSERT_EQUAL(mig_sql_split(bad[i], strlen(bad[i]), &stmts, &n, &err), -1);
		CU_ASSERT_EQUAL(err.kind, INFRA_EMIGRATION);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "line 1"));
	}
}

static enum mig_stmt_tx tx_of(const char *sql)
{
	if (split(sql) != 0 || nstmts != 1)
		return (enum mig_stmt_tx)-1;
	return stmts[0].tx;
}

static void test_transaction_refused(void)
{
	static const char *const never[] = {
		"CREATE INDEX CONCURRENTLY i ON t (x)",
		"create unique index concurrently i on t (x)",
		"DROP INDEX CONCURRENTLY i",
		"VACUUM ANALYZE t", "vacuum", "CREATE DATABASE d", "DROP DATABASE d",
		"CREATE TABLESPACE s LOCATION '/x'", "ALTER SYSTEM SET work_mem = '1MB'",
		"REINDEX DATABASE d", "REINDEX (VERBOSE) TABLE CONCURRENTLY t",
		"REINDEX SCHEMA s", "DISCARD ALL", "CREATE SUBSCRIPTION s CONNECTION '' PUBLICATION p",
		"ALTER DATABASE d SET TABLESPACE s",
		"/* lead */ -- comment\n  CREATE INDEX CONCURRENTLY i ON t (x)",
	};
	static const char *const fine[] = {
		"CREATE INDEX i ON t (x)", "CREATE TABLE concurrently (x int)",
		"SELECT 'VACUUM'", "REINDEX TABLE t", "ALTER DATABASE d SET work_mem = '1MB'",
		"DISCARD TEMP", "COMMENT ON TABLE t IS 'VACUUM'", "CREATE TABLE t (x int)",
	};

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		CU_ASSERT_EQUAL(tx_of(never[i]), MIG_STMT_TX_NEVER);
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		CU_ASSERT_EQUAL(tx_of(fine[i]), MIG_STMT_TX_OK);
	CU_ASSERT_EQUAL(tx_of("ALTER TYPE mood ADD VALUE 'meh'"), MIG_STMT_TX_BEFORE_12);
	CU_ASSERT_EQUAL(tx_of("ALTER TYPE s.mood ADD VALUE IF NOT EXISTS 'meh'"), MIG_STMT_TX_BEFORE_12);
	CU_ASSERT_TRUE(mig_stmt_needs_autocommit(&stmts[0], 110000));
	CU_ASSERT_FALSE(mig_stmt_needs_autocommit(&stmts[0], 150004));
}

static void test_copy_stdin(void)
{
	CU_ASSERT_EQUAL(split("COPY t (a, b) FROM STDIN; COPY t TO STDOUT; SELECT 1"), 0);
	CU_ASSERT_EQUAL(nstmts, 3);
	CU_ASSERT_TRUE(stmts[0].copy_stdin);
	CU_ASSERT_FALSE(stmts[1].copy_stdin);
	CU_ASSERT_FALSE(stmts[2].copy_stdin);
}

static void test_cleanup(void)
{
	free(stmts);
	stmts = NULL;
}

static CU_TestInfo tests[] = {
	{ "statements and lines", test_simple },
	{ "quoted strings and identifiers", test_quotes },
	{ "dollar quotes", test_dollar_quotes },
	{ "line and nested block comments", test_comments },
	{ "BEGIN ATOMIC bodies", test_begin_atomic },
	{ "unterminated quotes and comments", test_unterminated },
	{ "statements refused in a transaction", test_transaction_refused },
	{ "COPY FROM STDIN found", test_copy_stdin },
	{ "free", test_cleanup },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("mig_sql", tests)
