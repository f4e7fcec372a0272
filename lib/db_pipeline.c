/* db_pipeline.c — several control-database statements in one round trip
 * (see db.h): libpq's pipeline mode on the process's one connection, the
 * statements prepared and kept as db_exec keeps them, one Sync at the end
 * so that an error skips everything after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static char *copy(const char *s)
{
	char *c = s != NULL ? strdup(s) : NULL;

	if (s != NULL && c == NULL)
		abort();
	return c;
}

int db_pipeline_add(struct db_pipeline *p, const char *sql, int nparams,
		    const char *const *params)
{
	struct db_pipeline_item *it;

	if (p->n == DB_PIPELINE_MAX)
		abort();
	it = &p->items[p->n];
	memset(it, 0, sizeof(*it));
	it->sql = copy(sql);
	it->nparams = nparams;
	if (nparams > 0 && (it->params = calloc((size_t)nparams, sizeof(char *))) == NULL)
		abort();
	for (int i = 0; i < nparams; i++)
		it->params[i] = copy(params[i]);
	return p->n++;
}

void db_pipeline_append(struct db_pipeline *p, const struct db_pipeline *from)
{
	for (int i = 0; from != NULL && i < from->n; i++)
		db_pipeline_add(p, from->items[i].sql, from->items[i].nparams,
				(const char *const *)from->items[i].params);
}

static void clear_results(struct db_pipeline *p)
{
	for (int i = 0; i < p->n; i++) {
		PQclear(p->items[i].res);
		p->items[i].res = NULL;
	}
}

/* Read the pipeline's answers up to its Sync: each statement's result
 * into its item (a failed Prepare's error standing for its statement's).
 * `prepared[i]` is the slot whose Prepare went before statement i, or
 * NULL. False when the connection broke or the answers made no sense. */
static bool read_answers(struct db *db, struct db_pipeline *p, struct db_statement **prepared)
{
	int i = 0, nulls = 0;
	bool preparing = prepared[0] != NULL;

	for (;;) {
		PGresult *r = PQgetResult(db->conn);
		ExecStatusType st;

		if (r == NULL) {
			/* One after each statement's results; two in a row, and
			 * nothing more is coming. */
			if (PQstatus(db->conn) == CONNECTION_BAD || ++nulls > 1)
				return false;
			continue;
		}
		nulls = 0;
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			return i == p->n && PQexitPipelineMode(db->conn) && PQstatus(db->conn) == CONNECTION_OK;
		}
		if (i == p->n) {
			PQclear(r);
			continue;
		}
		if (preparing) {
			preparing = false;
			if (st == PGRES_COMMAND_OK) {
				PQclear(r);
			} else {
				db_statement_forget(prepared[i]);
				p->items[i].res = r;
			}
			continue;
		}
		if (p->items[i].res == NULL)
			p->items[i].res = r;
		else
			PQclear(r);
		if (++i < p->n)
			preparing = prepared[i] != NULL;
	}
}

static void drop_connection(struct db *db, struct db_pipeline *p)
{
	PQfinish(db->conn);
	db->conn = NULL;
	clear_results(p);
}

/* Send and read the whole pipeline once. 0 when every answer came (each
 * may be an error), -1 when the connection broke. */
static int run_once(struct db *db, struct db_pipeline *p)
{
	struct db_statement *slots[DB_PIPELINE_MAX], *prepared[DB_PIPELINE_MAX];

	clear_results(p);
	/* Slots first: finding one may deallocate another, which is not
	 * something to ask in the middle of a pipeline. */
	for (int i = 0; i < p->n; i++)
		slots[i] = db_statement_slot(db, p->items[i].sql, p->items[i].nparams);
	if (!PQenterPipelineMode(db->conn))
		return -1;
	for (int i = 0; i < p->n; i++) {
		const struct db_pipeline_item *it = &p->items[i];
		int results = db_statement_send(db, slots[i], it->sql, it->nparams,
						(const char *const *)it->params);

		if (results < 0)
			return -1;
		prepared[i] = results == 2 ? slots[i] : NULL;
	}
	if (!PQpipelineSync(db->conn) || !read_answers(db, p, prepared))
		return -1;
	return 0;
}

int db_pipeline_run(struct db *db, struct db_pipeline *p, struct infra_error *err)
{
	bool in_transaction;
	int rc;

	if (p->n == 0)
		return 0;
	if (db_connect(db, err) != 0)
		return -1;
	in_transaction = PQtransactionStatus(db->conn) != PQTRANS_IDLE;
	rc = run_once(db, p);
	/* Whatever state a failed pipeline left the connection in, it is done
	 * with; outside a transaction, the pipeline goes once more on a new
	 * one. */
	if (rc != 0) {
		drop_connection(db, p);
		if (!in_transaction && db_connect(db, err) == 0 && (rc = run_once(db, p)) != 0)
			drop_connection(db, p);
		if (rc != 0)
			return db_fail_lost(err);
	}
	for (int i = 0; i < p->n; i++) {
		ExecStatusType st = PQresultStatus(p->items[i].res);

		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			db_result_fail(p->items[i].res, err);
			return -1;
		}
	}
	return 0;
}

PGresult *db_pipeline_result(const struct db_pipeline *p, int i)
{
	return i >= 0 && i < p->n ? p->items[i].res : NULL;
}

PGresult *db_pipeline_take(struct db_pipeline *p, int i)
{
	PGresult *res = db_pipeline_result(p, i);

	if (res != NULL)
		p->items[i].res = NULL;
	return res;
}

void db_pipeline_release(struct db_pipeline *p)
{
	clear_results(p);
	for (int i = 0; i < p->n; i++) {
		for (int j = 0; j < p->items[i].nparams; j++)
			free(p->items[i].params[j]);
		free(p->items[i].params);
		free(p->items[i].sql);
	}
	p->n = 0;
}
