/* test_mig_history.c — flyway_schema_history without a server: reading a
 * result into rows (built with libpq's own result constructors), Flyway's
 * abbreviations of long descriptions and script names, quoting, and the
 * statements built on an escaped schema identifier. */
#include <libpq-fe.h>
#include <limits.h>
#include <string.h>

#include "mig_history.h"
#include "unit.h"

/* A result shaped as mig_history_select_sql()'s, with `n` rows of 10
 * columns (NULL entries are SQL NULL). */
static PGresult *result(int n, const char *const rows[][10])
{
	static const char *const names[10] = { "installed_rank", "version", "description", "type",
					       "script", "checksum", "installed_by", "installed_on",
					       "execution_time", "success" };
	PGresAttDesc att[10];
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	memset(att, 0, sizeof(att));
	for (int c = 0; c < 10; c++) {
		att[c].name = (char *)names[c];
		att[c].format = 0;
		att[c].typlen = -1;
		att[c].atttypmod = -1;
	}
	PQsetResultAttrs(res, 10, att);
	for (int r = 0; r < n; r++)
		for (int c = 0; c < 10; c++)
			PQsetvalue(res, r, c, (char *)rows[r][c], rows[r][c] ? (int)strlen(rows[r][c]) : -1);
	return res;
}

static void test_from_result(void)
{
	static const char *const rows[][10] = {
		{ "0", "0", "<< Flyway Schema Creation >>", "SCHEMA", "\"t\"", NULL, "app",
		  "2026-11-22T10:00:00.000Z", "0", "t" },
		{ "1", "1.1", "create users", "SQL", "V1_1__create_users.sql", "-2029295313", "app",
		  "2026-11-22T10:00:01.000Z", "12", "t" },
		{ "2", NULL, "views", "SQL", "R__views.sql", "7", "app", "2026-11-22T10:00:02.000Z",
		  "3", "f" },
	};
	static const char *const bad[][10] = {
		{ "1", "1.x", "oops", "SQL", "V1__oops.sql", "1", "app", "2026-11-22T10:00:00.000Z", "0", "t" },
	};
	struct mig_history h;
	struct infra_error err;
	PGresult *res = result(3, rows);

	CU_ASSERT_EQUAL_FATAL(mig_history_from_result(&h, res, &err), 0);
	CU_ASSERT_EQUAL_FATAL(h.n, 3);
	CU_ASSERT_EQUAL(h.rows[0].rank, 0);
	CU_ASSERT_STRING_EQUAL(h.rows[0].type, "SCHEMA");
	CU_ASSERT_FALSE(h.rows[0].has_checksum);
	CU_ASSERT_STRING_EQUAL(h.rows[1].version, "1.1");
	CU_ASSERT_TRUE(h.rows[1].has_checksum);
	CU_ASSERT_EQUAL(h.rows[1].checksum, -2029295313);
	CU_ASSERT_EQUAL(h.rows[1].execution_time, 12);
	CU_ASSERT_TRUE(h.rows[1].success);
	CU_ASSERT_PTR_NULL(h.rows[2].version);
	CU_ASSERT_FALSE(h.rows[2].success);
	CU_ASSERT_EQUAL(mig_history_max_rank(&h), 2);
	CU_ASSERT_EQUAL(mig_history_next_rank(&h), 3);
	h.rows[2].rank = INT_MAX;			/* the INT column is full */
	CU_ASSERT_EQUAL(mig_history_max_rank(&h), INT_MAX);
	CU_ASSERT_EQUAL(mig_history_next_rank(&h), (int64_t)INT_MAX + 1);
	mig_history_release(&h);
	CU_ASSERT_EQUAL(h.n, 0);
	PQclear(res);

	res = result(1, bad);
	CU_ASSERT_EQUAL(mig_history_from_result(&h, res, &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EMIGRATION);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "1.x"));
	CU_ASSERT_EQUAL(h.n, 0);
	PQclear(res);
}

static void test_abbreviate(void)
{
	struct strbuf out = STRBUF_INIT, in = STRBUF_INIT;

	mig_history_abbreviate_description(&out, "short");
	CU_ASSERT_STRING_EQUAL(out.buf, "short");
	for (int i = 0; i < 200; i++)
		strbuf_addch(&in, 'a');
	mig_history_abbreviate_description(&out, in.buf);
	CU_ASSERT_EQUAL(out.len, 200);			/* exactly 200: kept */
	strbuf_addch(&in, 'b');
	mig_history_abbreviate_description(&out, in.buf);
	CU_ASSERT_EQUAL(out.len, 200);
	CU_ASSERT_STRING_EQUAL(out.buf + 197, "...");
	/* characters, not bytes: 201 two-byte characters keep 197 of them */
	strbuf_reset(&in);
	for (int i = 0; i < 201; i++)
		strbuf_addstr(&in, "\xC3\xA9");
	mig_history_abbreviate_description(&out, in.buf);
	CU_ASSERT_EQUAL(out.len, 197 * 2 + 3);
	CU_ASSERT_STRING_EQUAL(out.buf + 394, "...");
	/* a script keeps its end */
	strbuf_reset(&in);
	for (int i = 0; i < 1001; i++)
		strbuf_addch(&in, i == 1000 ? 'z' : 'x');
	mig_history_abbreviate_script(&out, in.buf);
	CU_ASSERT_EQUAL(out.len, 1000);
	CU_ASSERT_EQUAL(strncmp(out.buf, "...", 3), 0);
	CU_ASSERT_EQUAL(out.buf[999], 'z');
	strbuf_release(&out);
	strbuf_release(&in);
}

static void test_statements(void)
{
	struct strbuf sql = STRBUF_INIT;

	mig_history_quote(&sql, "we\"ird");
	CU_ASSERT_STRING_EQUAL(sql.buf, "\"we\"\"ird\"");
	mig_history_insert_sql(&sql, "\"tenant_a\"");
	CU_ASSERT_PTR_NOT_NULL(strstr(sql.buf, "INSERT INTO \"tenant_a\".flyway_schema_history"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sql.buf, "COALESCE($7, current_user)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sql.buf, "$9)"));
	mig_history_select_sql(&sql, "\"tenant_a\"");
	CU_ASSERT_PTR_NOT_NULL(strstr(sql.buf, "ORDER BY installed_rank"));
	mig_history_update_sql(&sql, "\"tenant_a\"");
	CU_ASSERT_PTR_NOT_NULL(strstr(sql.buf, "WHERE installed_rank = $4"));
	mig_history_create_sql(&sql, "\"tenant_a\"", 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(sql.buf, "\"installed_on\" TIMESTAMP NOT NULL DEFAULT now()"));
	mig_history_create_sql(&sql, "\"tenant_a\"", 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(sql.buf, "CONSTRAINT \"flyway_schema_history_pk\" PRIMARY KEY"));
	mig_history_create_sql(&sql, "\"tenant_a\"", 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(sql.buf, "INDEX \"flyway_schema_history_s_idx\""));
	strbuf_release(&sql);
}

static CU_TestInfo tests[] = {
	{ "rows from a result", test_from_result },
	{ "Flyway's abbreviations", test_abbreviate },
	{ "statements on an escaped schema", test_statements },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("mig_history", tests)
