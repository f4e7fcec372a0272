/* exec_scope.c — resolving an execution's scope against the registry into
 * targets (database + schema), as one SELECT whose values are parameters
 * (see exec.h). The create statement, dry runs and validation all use it,
 * so they can never disagree about what a scope means. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

void exec_query_init(struct exec_query *q)
{
	strbuf_init(&q->sql, 512);
	q->nparams = 0;
}

void exec_query_release(struct exec_query *q)
{
	strbuf_release(&q->sql);
	q->nparams = 0;
}

int exec_query_param(struct exec_query *q, const char *value)
{
	if (q->nparams >= EXEC_QUERY_MAX_PARAMS)
		abort();	/* a programming error: the queries here are fixed */
	q->params[q->nparams++] = value;
	return q->nparams;
}

void exec_resolve_sql(struct exec_query *q, const struct exec_request *req, const char *scope)
{
	strbuf_addstr(&q->sql, "SELECT " EXEC_DB_COLUMNS ", d.schema_name, d.database_type "
			       "FROM databases d WHERE d.is_active");
	switch (req->scope) {
	case EXEC_SCOPE_ADMIN:
		strbuf_addstr(&q->sql, " AND d.database_type = 'admin'");
		break;
	case EXEC_SCOPE_ALL:
	case EXEC_SCOPE_REGIONAL:
	case EXEC_SCOPE_TENANT:
	case EXEC_SCOPE_SINGLE:
		/* their value is one of the filters below, required by the
		 * request's validation */
		break;
	}
	/* Every filter given narrows, whatever the scope. */
	if (req->region != NULL)
		strbuf_addf(&q->sql, " AND d.region = $%d", exec_query_param(q, req->region));
	if (req->tenant != NULL)
		strbuf_addf(&q->sql, " AND d.tenant = $%d", exec_query_param(q, req->tenant));
	if (req->database_id != NULL)
		strbuf_addf(&q->sql, " AND d.id = $%d::uuid", exec_query_param(q, req->database_id));
	if (req->database_type != NULL)
		strbuf_addf(&q->sql, " AND d.database_type = $%d",
			    exec_query_param(q, req->database_type));
	/* A tenant-bound caller reaches its own tenant's databases only. */
	if (scope != NULL)
		strbuf_addf(&q->sql, " AND d.tenant = $%d", exec_query_param(q, scope));
	strbuf_addstr(&q->sql, " ORDER BY d.created_at, d.id");
}

PGresult *exec_resolve(struct db *db, const struct exec_request *req, const char *scope,
		       struct infra_error *err)
{
	struct exec_query q;
	PGresult *res;

	exec_query_init(&q);
	exec_resolve_sql(&q, req, scope);
	res = db_exec(db, err, q.sql.buf, q.nparams, q.params);
	exec_query_release(&q);
	if (res != NULL && PQntuples(res) == 0) {
		PQclear(res);
		infra_fail(err, INFRA_EMIGRATION, "no targets: scope %s matches no active database",
			   exec_scope_name(req->scope));
		return NULL;
	}
	return res;
}
