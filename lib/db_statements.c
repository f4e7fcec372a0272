/* db_statements.c — the prepared statements a control connection keeps
 * (see db.h): a parameterised statement is prepared on its first use on a
 * connection and run by name afterwards, so PostgreSQL parses and plans it
 * once rather than on every call (after a few runs its plan cache settles
 * on a generic plan when that costs no more than the custom ones).
 *
 * Statements are matched by their text. The cache holds DB_STATEMENTS of
 * them; when it is full the least recently used one is deallocated on the
 * server to make room — unless the connection is in a failed transaction,
 * which accepts nothing but its end: the statement then runs unprepared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* FNV-1a: enough to skip most mismatches before a strcmp. */
static uint64_t text_hash(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

static void statement_name(char *out, size_t len, const struct db *db,
			   const struct db_statement *st)
{
	snprintf(out, len, "infra_%d", (int)(st - db->statements));
}

/* Free slot `st`, deallocating it on the server when it is prepared on
 * this connection. Fails (false) when the server cannot be asked now. */
static bool evict(struct db *db, struct db_statement *st)
{
	if (st->generation == db->generation && db->conn != NULL) {
		char sql[48];
		PGresult *res;
		bool ok;

		if (PQtransactionStatus(db->conn) == PQTRANS_INERROR)
			return false;
		snprintf(sql, sizeof(sql), "DEALLOCATE ");
		statement_name(sql + strlen(sql), sizeof(sql) - strlen(sql), db, st);
		res = PQexec(db->conn, sql);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok)
			return false;
	}
	free(st->sql);
	memset(st, 0, sizeof(*st));
	return true;
}

/* The slot of `sql`: its own, a free one, or the least recently used one
 * made free. NULL when none can be had. */
static struct db_statement *slot_for(struct db *db, const char *sql)
{
	uint64_t hash = text_hash(sql);
	struct db_statement *free_slot = NULL, *oldest = NULL;

	for (int i = 0; i < DB_STATEMENTS; i++) {
		struct db_statement *st = &db->statements[i];

		if (st->sql == NULL) {
			if (free_slot == NULL)
				free_slot = st;
			continue;
		}
		if (st->hash == hash && strcmp(st->sql, sql) == 0)
			return st;
		if (oldest == NULL || st->used < oldest->used)
			oldest = st;
	}
	if (free_slot == NULL) {
		if (oldest == NULL || !evict(db, oldest))
			return NULL;
		free_slot = oldest;
	}
	free_slot->sql = strdup(sql);
	if (free_slot->sql == NULL)
		return NULL;
	free_slot->hash = hash;
	free_slot->generation = 0;
	return free_slot;
}

struct db_statement *db_statement_slot(struct db *db, const char *sql, int nparams)
{
	struct db_statement *st = nparams > 0 ? slot_for(db, sql) : NULL;

	if (st != NULL)
		st->used = ++db->clock;
	return st;
}

void db_statement_forget(struct db_statement *st)
{
	free(st->sql);
	memset(st, 0, sizeof(*st));
}

PGresult *db_statement_exec(struct db *db, const char *sql, int nparams,
			    const char *const *params)
{
	struct db_statement *st = db_statement_slot(db, sql, nparams);
	char name[32];

	if (st == NULL)
		return PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	statement_name(name, sizeof(name), db, st);
	if (st->generation != db->generation) {
		PGresult *res = PQprepare(db->conn, name, sql, nparams, NULL);

		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			/* The caller sees the error (a statement that does not
			 * parse, or a lost connection); the slot is freed. */
			db_statement_forget(st);
			return res;
		}
		PQclear(res);
		st->generation = db->generation;
	}
	return PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
}

int db_statement_send(struct db *db, struct db_statement *st, const char *sql, int nparams,
		      const char *const *params)
{
	char name[32];
	int results = 1;

	if (st == NULL)
		return PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0) ? 1 : -1;
	statement_name(name, sizeof(name), db, st);
	if (st->generation != db->generation) {
		if (!PQsendPrepare(db->conn, name, sql, nparams, NULL))
			return -1;
		/* Prepared by the time anything after it in the pipeline runs
		 * (the same statement twice is prepared once); if the Prepare
		 * fails, the caller forgets the slot. */
		st->generation = db->generation;
		results = 2;
	}
	return PQsendQueryPrepared(db->conn, name, nparams, params, NULL, NULL, 0) ? results : -1;
}

void db_statements_release(struct db *db)
{
	for (int i = 0; i < DB_STATEMENTS; i++) {
		free(db->statements[i].sql);
		memset(&db->statements[i], 0, sizeof(db->statements[i]));
	}
	db->clock = 0;
}
