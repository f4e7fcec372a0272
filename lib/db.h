/* db.h — the control-database connection of one process.
 *
 * Each worker and runner opens its own connection after fork (a PGconn is
 * never shared across fork). Statements take their values only as
 * parameters. A lost connection is reopened once, transparently, on the next
 * statement; libpq's and the server's messages go to the log, and the
 * caller gets a client-safe message in struct infra_error. */
#ifndef INFRA_DB_H
#define INFRA_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define DB_MAX_PREPARED 16

/* A statement prepared on one of the connections of a struct db. */
struct db_prepared {
	const char *name;	/* static */
	uint64_t generation;	/* the connection it was prepared on */
};

struct db {
	PGconn *conn;
	char *conninfo;		/* owned; holds a password: never log it */
	int connect_timeout_s;
	int statement_timeout_ms;
	char application_name[64];
	uint64_t generation;	/* +1 for every new connection */
	struct db_prepared prepared[DB_MAX_PREPARED];
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

/* As db_exec, for a hot statement worth preparing once per connection
 * (planning can cost as much as running). `name` must be a static string
 * naming this `sql` only. Any trouble preparing or running it falls back
 * to db_exec, which reconnects and reports errors its way. At most
 * DB_MAX_PREPARED names per process; beyond that it is plain db_exec. */
PGresult *db_exec_prepared(struct db *db, struct infra_error *err, const char *name,
			   const char *sql, int nparams, const char *const *params);

/* As db_exec for statements whose result is not needed. Returns 0 or -1. */
int db_exec_command(struct db *db, struct infra_error *err, const char *sql,
		    int nparams, const char *const *params);

/* BEGIN / COMMIT / ROLLBACK. Return 0 or -1. db_rollback never fails
 * loudly: it is called on error paths. */
int db_begin(struct db *db, struct infra_error *err);
int db_commit(struct db *db, struct infra_error *err);
void db_rollback(struct db *db);

/* Append `sep` and `value` as an element of a PostgreSQL array literal
 * (a text parameter such as $1::text[]): NULL unquoted, anything else in
 * double quotes with " and \ escaped. */
struct strbuf;
void db_array_add(struct strbuf *sb, const char *sep, const char *value);

/* SELECT 1 with the connect timeout; 0 when the database answers. */
int db_ping(struct db *db, struct infra_error *err);

/* The SQLSTATE of `res`, or "" when it has none. */
const char *db_sqlstate(const PGresult *res);

#endif
