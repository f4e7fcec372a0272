/* test_db.c — the control connection's pipelines (db_pipeline_*) against a
 * real PostgreSQL (a private cluster): every answer in one round trip, an
 * error skipping what follows it in the transaction, statements prepared
 * once however often they are sent (twice in one pipeline too, and none
 * left half-known after a failed Prepare), SQL NULL parameters, and a
 * connection the server killed: sent again outside a transaction, an
 * error inside one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authtest.h"
#include "db.h"
#include "metrics.h"
#include "unit.h"

static struct authtest_pg pg;

static void connect_db(struct db *db)
{
	struct infra_error err;

	db_init(db, pg.url, 5, 10000, "test_db");
	CU_ASSERT_EQUAL_FATAL(db_connect(db, &err), 0);
}

/* The first column of the first row of `sql` on `db` (a static buffer). */
static const char *scalar(struct db *db, const char *sql)
{
	static char out[64];
	struct infra_error err;
	PGresult *res = db_exec(db, &err, sql, 0, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	snprintf(out, sizeof(out), "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return out;
}

static void test_transaction_in_one_round_trip(void)
{
	struct db db;
	struct db_pipeline p = DB_PIPELINE_INIT;
	struct infra_error err;
	const char *one[1] = { "one" }, *two[1] = { "two" }, *null[1] = { NULL };
	int count, is_null;

	connect_db(&db);
	scalar(&db, "CREATE TABLE t_pipe (v text PRIMARY KEY)");
	db_pipeline_add(&p, "BEGIN", 0, NULL);
	db_pipeline_add(&p, "INSERT INTO t_pipe VALUES ($1)", 1, one);
	db_pipeline_add(&p, "INSERT INTO t_pipe VALUES ($1)", 1, two);
	count = db_pipeline_add(&p, "SELECT count(*) FROM t_pipe WHERE v = ANY ($1::text[])", 1,
				(const char *[]){ "{one,two}" });
	is_null = db_pipeline_add(&p, "SELECT $1::text IS NULL", 1, null);
	db_pipeline_add(&p, "COMMIT", 0, NULL);
	CU_ASSERT_EQUAL(db_pipeline_run(&db, &p, &err), 0);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(db_pipeline_result(&p, count), 0, 0), "2");
	CU_ASSERT_STRING_EQUAL(PQgetvalue(db_pipeline_result(&p, is_null), 0, 0), "t");
	CU_ASSERT_PTR_NULL(db_pipeline_result(&p, 6));
	db_pipeline_release(&p);
	CU_ASSERT_EQUAL(p.n, 0);
	/* Committed, and the connection is back to one statement at a time. */
	CU_ASSERT_STRING_EQUAL(scalar(&db, "SELECT count(*) FROM t_pipe"), "2");
	CU_ASSERT_EQUAL(PQpipelineStatus(db.conn), PQ_PIPELINE_OFF);
	db_release(&db);
}

static void test_error_skips_the_rest(void)
{
	struct db db;
	struct db_pipeline p = DB_PIPELINE_INIT;
	struct infra_error err;
	const char *a[1] = { "a" }, *b[1] = { "b" };
	int after;

	connect_db(&db);
	scalar(&db, "CREATE TABLE t_pipe_unique (v text PRIMARY KEY)");
	db_pipeline_add(&p, "BEGIN", 0, NULL);
	db_pipeline_add(&p, "INSERT INTO t_pipe_unique VALUES ($1)", 1, a);
	db_pipeline_add(&p, "INSERT INTO t_pipe_unique VALUES ($1)", 1, a);
	after = db_pipeline_add(&p, "INSERT INTO t_pipe_unique VALUES ($1)", 1, b);
	db_pipeline_add(&p, "COMMIT", 0, NULL);
	CU_ASSERT_EQUAL(db_pipeline_run(&db, &p, &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_ECONFLICT);
	CU_ASSERT_EQUAL(PQresultStatus(db_pipeline_result(&p, after)), PGRES_PIPELINE_ABORTED);
	/* The transaction is the caller's to end. */
	CU_ASSERT_EQUAL(PQtransactionStatus(db.conn), PQTRANS_INERROR);
	db_rollback(&db);
	CU_ASSERT_STRING_EQUAL(scalar(&db, "SELECT count(*) FROM t_pipe_unique"), "0");
	db_pipeline_release(&p);
	db_release(&db);
}

static void test_prepared_once(void)
{
	struct db db;
	struct db_pipeline p = DB_PIPELINE_INIT;
	struct infra_error err;
	const char *x[1] = { "41" };
	char before[16];
	int first, second;

	connect_db(&db);
	snprintf(before, sizeof(before), "%s", scalar(&db, "SELECT count(*) FROM pg_prepared_statements"));
	for (int round = 0; round < 3; round++) {
		first = db_pipeline_add(&p, "SELECT $1::int + 1", 1, x);
		second = db_pipeline_add(&p, "SELECT $1::int + 1", 1, x);
		CU_ASSERT_EQUAL(db_pipeline_run(&db, &p, &err), 0);
		CU_ASSERT_STRING_EQUAL(PQgetvalue(db_pipeline_result(&p, first), 0, 0), "42");
		CU_ASSERT_STRING_EQUAL(PQgetvalue(db_pipeline_result(&p, second), 0, 0), "42");
		db_pipeline_release(&p);
	}
	CU_ASSERT_EQUAL(atoi(scalar(&db, "SELECT count(*) FROM pg_prepared_statements")), atoi(before) + 1);
	/* A statement that does not parse: it fails, the one queued after
	 * it is skipped, and neither is taken for prepared afterwards. */
	db_pipeline_add(&p, "SELEC $1::int", 1, x);
	db_pipeline_add(&p, "SELECT $1::int * 2", 1, x);
	CU_ASSERT_EQUAL(db_pipeline_run(&db, &p, &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EINTERNAL);
	db_pipeline_release(&p);
	first = db_pipeline_add(&p, "SELECT $1::int * 2", 1, x);
	CU_ASSERT_EQUAL(db_pipeline_run(&db, &p, &err), 0);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(db_pipeline_result(&p, first), 0, 0), "82");
	db_pipeline_release(&p);
	/* db_exec finds it prepared by the pipeline, and the other way round. */
	{
		PGresult *res = db_exec(&db, &err, "SELECT $1::int * 2", 1, x);

		CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "82");
		PQclear(res);
	}
	CU_ASSERT_EQUAL(atoi(scalar(&db, "SELECT count(*) FROM pg_prepared_statements")), atoi(before) + 2);
	db_release(&db);
}

/* Kill `victim`'s backend from another connection. */
static void kill_backend(struct db *victim)
{
	struct db killer;
	char sql[96];

	connect_db(&killer);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", PQbackendPID(victim->conn));
	CU_ASSERT_STRING_EQUAL(scalar(&killer, sql), "t");
	db_release(&killer);
}

static void test_lost_connection(void)
{
	struct db db;
	struct db_pipeline p = DB_PIPELINE_INIT;
	struct infra_error err;
	const char *x[1] = { "7" };
	int r;

	connect_db(&db);
	r = db_pipeline_add(&p, "SELECT $1::int", 1, x);
	CU_ASSERT_EQUAL(db_pipeline_run(&db, &p, &err), 0);
	/* Outside a transaction: sent again on a new connection. */
	kill_backend(&db);
	CU_ASSERT_EQUAL(db_pipeline_run(&db, &p, &err), 0);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(db_pipeline_result(&p, r), 0, 0), "7");
	/* Inside one: the transaction is gone, and the caller hears so. */
	CU_ASSERT_EQUAL(db_begin(&db, &err), 0);
	kill_backend(&db);
	CU_ASSERT_EQUAL(db_pipeline_run(&db, &p, &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EUNAVAIL);
	CU_ASSERT_PTR_NULL(db_pipeline_result(&p, r));
	db_rollback(&db);
	/* …and the next statement has a connection again. */
	CU_ASSERT_STRING_EQUAL(scalar(&db, "SELECT 'back'"), "back");
	db_pipeline_release(&p);
	db_release(&db);
}

static CU_TestInfo tests[] = {
	{ "a transaction in one round trip", test_transaction_in_one_round_trip },
	{ "an error skips the rest", test_error_skips_the_rest },
	{ "statements prepared once", test_prepared_once },
	{ "a lost connection", test_lost_connection },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	int rc = 2;

	if (metrics_init() == 0 && authtest_postgres_start(&pg) == 0)
		rc = unit_run("db", tests);
	else
		fprintf(stderr, "test_db: cannot start PostgreSQL\n");
	authtest_postgres_stop(&pg);
	return rc;
}
