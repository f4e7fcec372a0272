/* db.c — the control-database connection of one process (see db.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "strbuf.h"

void db_init(struct db *db, const char *conninfo, int connect_timeout_s,
	     int statement_timeout_ms, const char *application_name)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = strdup(conninfo ? conninfo : "");
	db->connect_timeout_s = connect_timeout_s;
	db->statement_timeout_ms = statement_timeout_ms;
	snprintf(db->application_name, sizeof(db->application_name), "%s",
		 application_name ? application_name : "infra");
}

static void log_pq_error(const char *what, const char *detail)
{
	json_object *f = json_object_new_object();
	char msg[128];
	size_t n = detail ? strlen(detail) : 0;

	while (n > 0 && (detail[n - 1] == '\n' || detail[n - 1] == ' '))
		n--;
	json_object_object_add(f, "error", json_object_new_string_len(detail ? detail : "", (int)n));
	snprintf(msg, sizeof(msg), "%s failed on the control database", what);
	log_emit(LOG_LEVEL_ERROR, msg, f);
}

int db_connect(struct db *db, struct infra_error *err)
{
	char timeout[16], options[96];
	const char *keys[] = { "dbname", "connect_timeout", "application_name", "options", NULL };
	const char *vals[5];

	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
		metrics_add(METRIC_DB_RECONNECTS, 1);
	}
	snprintf(timeout, sizeof(timeout), "%d", db->connect_timeout_s);
	/* The control schema is `infra` (applied there by the migration
	 * engine); every control-database statement uses unqualified names. */
	snprintf(options, sizeof(options), "-c statement_timeout=%d -c search_path=infra",
		 db->statement_timeout_ms);
	vals[0] = db->conninfo;
	vals[1] = timeout;
	vals[2] = db->application_name;
	vals[3] = options;
	vals[4] = NULL;
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		log_pq_error("connect", db->conn ? PQerrorMessage(db->conn) : "out of memory");
		PQfinish(db->conn);
		db->conn = NULL;
		return infra_fail(err, INFRA_EUNAVAIL, "control database unavailable");
	}
	db->generation++;
	return 0;
}

void db_release(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	free(db->conninfo);
	db->conninfo = NULL;
	db_statements_release(db);
}

const char *db_sqlstate(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}


PGresult *db_exec(struct db *db, struct infra_error *err, const char *sql,
		  int nparams, const char *const *params)
{
	PGresult *res;
	ExecStatusType st;
	bool in_transaction;

	if (db_connect(db, err) != 0)
		return NULL;
	in_transaction = PQtransactionStatus(db->conn) != PQTRANS_IDLE;
	res = db_statement_exec(db, sql, nparams, params);
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		/* The server went away (a restart leaves every idle connection
		 * stale). Outside a transaction, try once more on a new connection;
		 * inside one, the transaction is lost and the caller must see it. */
		PQclear(res);
		res = NULL;
		if (!in_transaction && db_connect(db, err) == 0)
			res = db_statement_exec(db, sql, nparams, params);
		if (res == NULL || PQstatus(db->conn) == CONNECTION_BAD) {
			PQclear(res);
			db_fail_lost(err);
			return NULL;
		}
	}
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	db_result_fail(res, err);
	PQclear(res);
	return NULL;
}

int db_fail_lost(struct infra_error *err)
{
	log_pq_error("statement", "connection lost");
	return infra_fail(err, INFRA_EUNAVAIL, "control database unavailable");
}

void db_result_fail(const PGresult *res, struct infra_error *err)
{
	const char *state = db_sqlstate(res);

	log_pq_error("statement", PQresultErrorMessage(res));
	if (strcmp(state, "23505") == 0)
		infra_fail(err, INFRA_ECONFLICT, "conflicts with an existing resource");
	else if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
		 strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
		 strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
		infra_fail(err, INFRA_EUNAVAIL, "control database busy or unavailable; retry");
	else
		infra_fail(err, INFRA_EINTERNAL, "internal error");
}

int db_exec_command(struct db *db, struct infra_error *err, const char *sql,
		    int nparams, const char *const *params)
{
	PGresult *res = db_exec(db, err, sql, nparams, params);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int db_begin(struct db *db, struct infra_error *err)
{
	return db_exec_command(db, err, "BEGIN", 0, NULL);
}

int db_commit(struct db *db, struct infra_error *err)
{
	return db_exec_command(db, err, "COMMIT", 0, NULL);
}

void db_rollback(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		PQclear(PQexec(db->conn, "ROLLBACK"));
}

int db_ping(struct db *db, struct infra_error *err)
{
	return db_exec_command(db, err, "SELECT 1", 0, NULL);
}

void db_array_push(struct db_array *a, const char *value)
{
	if (a->n++ > 0)
		strbuf_addch(&a->items, ',');
	if (value == NULL) {
		strbuf_addstr(&a->items, "NULL");
		return;
	}
	strbuf_addch(&a->items, '"');
	for (const char *c = value; *c; c++) {
		if (*c == '"' || *c == '\\')
			strbuf_addch(&a->items, '\\');
		strbuf_addch(&a->items, *c);
	}
	strbuf_addch(&a->items, '"');
}

void db_array_pushf(struct db_array *a, const char *fmt, ...)
{
	char value[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	db_array_push(a, value);
}

const char *db_array_text(struct db_array *a)
{
	strbuf_reset(&a->text);
	strbuf_addch(&a->text, '{');
	strbuf_addstr(&a->text, a->items.buf);
	strbuf_addch(&a->text, '}');
	return a->text.buf;
}

void db_array_release(struct db_array *a)
{
	strbuf_release(&a->items);
	strbuf_release(&a->text);
	a->n = 0;
}
