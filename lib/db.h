/* db.h — the control-database connection of one process.
 *
 * Each worker and runner opens its own connection after fork (a PGconn is
 * never shared across fork). Statements take their values only as
 * parameters. A lost connection is reopened once, transparently, on the next
 * statement; libpq's and the server's messages go to the log, and the
 * caller gets a client-safe message in struct infra_error. */
#ifndef INFRA_DB_H
#define INFRA_DB_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "strbuf.h"

/* Parameterised statements are prepared on first use and kept per
 * connection (db_statements.c): the control plane's hot statements —
 * authentication's lookups, a tenant's creation, the runners' claims and
 * outcome writes — are then parsed and planned once, not on every call. */
#define DB_STATEMENTS 64

struct db_statement {
	char *sql;		/* owned; NULL: a free slot */
	uint64_t hash;
	uint64_t generation;	/* the connection it is prepared on; 0: none */
	uint64_t used;		/* when last run (the cache's clock) */
};

struct db {
	PGconn *conn;
	char *conninfo;		/* owned; holds a password: never log it */
	int connect_timeout_s;
	int statement_timeout_ms;
	char application_name[64];
	uint64_t generation;	/* +1 for every new connection */
	struct db_statement statements[DB_STATEMENTS];
	uint64_t clock;
};

/* Prepare `db`; does not connect (the first statement does). Copies
 * `conninfo`. */
void db_init(struct db *db, const char *conninfo, int connect_timeout_s,
	     int statement_timeout_ms, const char *application_name);

/* Connect now if not connected. Returns 0, or -1 with INFRA_EUNAVAIL. */
int db_connect(struct db *db, struct infra_error *err);

/* Close the connection and free what `db` owns. */
void db_release(struct db *db);

/* Run `sql` with `nparams` text parameters (NULL entries are SQL NULL).
 * Returns a result the caller PQclear()s, or NULL with `err` filled:
 * INFRA_ECONFLICT for a unique violation, INFRA_EUNAVAIL when the database
 * is unreachable (after one reconnect attempt outside a transaction),
 * INFRA_EINTERNAL otherwise. */
PGresult *db_exec(struct db *db, struct infra_error *err, const char *sql,
		  int nparams, const char *const *params);

/* --- several statements in one round trip (db_pipeline.c) --- */

/* Statements sent together and answered together (libpq's pipeline mode):
 * a transaction whose statements do not need each other's results costs
 * one round trip rather than one per statement — on a busy server each
 * round trip waits its turn for a CPU. The pipeline owns copies of the
 * statements and of their parameters. */
#define DB_PIPELINE_MAX 8

struct db_pipeline {
	int n;
	struct db_pipeline_item {
		char *sql;
		int nparams;
		char **params;	/* NULL entries are SQL NULL */
		PGresult *res;	/* after db_pipeline_run */
	} items[DB_PIPELINE_MAX];
};

#define DB_PIPELINE_INIT { 0 }

/* Queue `sql` with its parameters; returns its index (for
 * db_pipeline_result). More than DB_PIPELINE_MAX is a programming error
 * (abort). */
int db_pipeline_add(struct db_pipeline *p, const char *sql, int nparams,
		    const char *const *params);

/* Queue a copy of each statement of `from` (NULL: none) on `p`. */
void db_pipeline_append(struct db_pipeline *p, const struct db_pipeline *from);

/* Send every queued statement, then read every answer. Returns 0 when all
 * succeeded, or -1 with `err` filled as db_exec would for the first that
 * failed (those after it were not run). A BEGIN among them leaves its
 * transaction open either way: the caller commits or rolls back. A
 * connection found lost outside a transaction is reopened and the whole
 * pipeline sent once more, as db_exec does for one statement. */
int db_pipeline_run(struct db *db, struct db_pipeline *p, struct infra_error *err);

/* Statement `i`'s result (after a successful run), owned by `p`. */
PGresult *db_pipeline_result(const struct db_pipeline *p, int i);

/* As db_pipeline_result, but the result is the caller's now (PQclear). */
PGresult *db_pipeline_take(struct db_pipeline *p, int i);

/* Free the statements and results; `p` is empty again. */
void db_pipeline_release(struct db_pipeline *p);

/* --- private to db*.c --- */

/* Log that the connection was lost and fill `err`; returns -1. */
int db_fail_lost(struct infra_error *err);

/* Log `res`'s error and fill `err` from its SQLSTATE (as db_exec). */
void db_result_fail(const PGresult *res, struct infra_error *err);

/* In pipeline mode: queue `sql` — prepared (on this connection first, if
 * it is not yet) when it has parameters and a slot of the statement cache
 * can be had, else as it is. Slots are found before the pipeline is
 * entered (finding one may deallocate another): db_statement_slot. The
 * number of results it will give (2 when a Prepare goes first), or -1
 * when libpq cannot queue it. */
struct db_statement *db_statement_slot(struct db *db, const char *sql, int nparams);
int db_statement_send(struct db *db, struct db_statement *st, const char *sql, int nparams,
		      const char *const *params);

/* A Prepare sent by db_statement_send did not succeed: forget the slot. */
void db_statement_forget(struct db_statement *st);

/* Run `sql` on db->conn (connected) as a prepared statement, preparing it
 * first on this connection; with no parameters, or when no slot can be
 * had, as a plain one. The result, or an error result. */
PGresult *db_statement_exec(struct db *db, const char *sql, int nparams,
			    const char *const *params);

/* Forget every kept statement (the connection is being closed). */
void db_statements_release(struct db *db);

/* As db_exec for statements whose result is not needed. Returns 0 or -1. */
int db_exec_command(struct db *db, struct infra_error *err, const char *sql,
		    int nparams, const char *const *params);

/* BEGIN / COMMIT / ROLLBACK. Return 0 or -1. db_rollback never fails
 * loudly: it is called on error paths. */
int db_begin(struct db *db, struct infra_error *err);
int db_commit(struct db *db, struct infra_error *err);
void db_rollback(struct db *db);

/* An array parameter (a PostgreSQL array literal, for $n::type[]) built
 * element by element: the way to pass many rows' values to one
 * statement (unnest), values still never in the SQL text. */
struct db_array {
	struct strbuf items;	/* the elements so far, comma-separated */
	struct strbuf text;	/* db_array_text's result */
	size_t n;
};

#define DB_ARRAY_INIT { STRBUF_INIT, STRBUF_INIT, 0 }

/* Append an element: NULL is SQL NULL, anything else is quoted (" and \
 * escaped), so any text — a number, a uuid, JSON — goes in as it is. */
void db_array_push(struct db_array *a, const char *value);

/* As db_array_push, of a short formatted value (a number). */
void db_array_pushf(struct db_array *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The literal: "{…}", "{}" when empty. Valid until the next call on `a`. */
const char *db_array_text(struct db_array *a);

void db_array_release(struct db_array *a);

/* --- a result's columns as json-c values (db_columns.c); SQL NULL
 * gives NULL (JSON null) in each --- */

/* The text as a JSON string. */
json_object *db_json_text(const PGresult *res, int row, int col);

/* 't' / 'f' as a JSON boolean. */
json_object *db_json_bool(const PGresult *res, int row, int col);

/* A number in PostgreSQL's text form, written as it is rather than
 * re-printed from a double. */
json_object *db_json_number(const PGresult *res, int row, int col);

/* A json/jsonb column parsed (strictly); NULL also when it does not parse. */
json_object *db_json_parsed(const PGresult *res, int row, int col);

/* SELECT 1 with the connect timeout; 0 when the database answers. */
int db_ping(struct db *db, struct infra_error *err);

/* The SQLSTATE of `res`, or "" when it has none. */
const char *db_sqlstate(const PGresult *res);

#endif
