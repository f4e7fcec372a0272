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

/* Scope tenant: the databases the tenant owns (their registered schema)
 * and the schemas of the tenant's row in `tenants` on its database (in a
 * shared one too), migrated with the tenant set, in one SELECT over both.
 * The filters narrow both branches; database_type narrows the second as
 * its set's type, "tenant". */
static void resolve_tenant_sql(struct exec_query *q, const struct exec_request *req,
			       const char *scope)
{
	struct strbuf f = STRBUF_INIT;
	int slug = exec_query_param(q, req->tenant), type = 0, sc = 0;

	if (req->region != NULL)
		strbuf_addf(&f, " AND d.region = $%d", exec_query_param(q, req->region));
	if (req->database_id != NULL)
		strbuf_addf(&f, " AND d.id = $%d::uuid", exec_query_param(q, req->database_id));
	if (req->database_type != NULL)
		type = exec_query_param(q, req->database_type);
	if (scope != NULL)
		sc = exec_query_param(q, scope);
	strbuf_addstr(&q->sql, "SELECT " EXEC_DB_COLUMNS ", d.schema_name, d.database_type FROM ("
			       "SELECT " EXEC_DB_COLUMNS ", d.schema_name, d.database_type, d.created_at "
			       "FROM databases d WHERE d.is_active");
	strbuf_addf(&q->sql, " AND d.tenant = $%d%s", slug, f.buf);
	if (type)
		strbuf_addf(&q->sql, " AND d.database_type = $%d", type);
	if (sc)
		strbuf_addf(&q->sql, " AND d.tenant = $%d", sc);
	strbuf_addstr(&q->sql, " UNION ALL SELECT " EXEC_DB_COLUMNS ", t.schema_name, 'tenant', "
			       "t.created_at FROM tenants t JOIN databases d ON d.id = t.database_id "
			       "WHERE d.is_active AND t.status = 'active'");
	/* …not twice when the tenant's schema is its own database's */
	strbuf_addf(&q->sql, " AND t.slug = $%d%s AND NOT (d.tenant IS NOT DISTINCT FROM t.slug "
		    "AND d.schema_name = t.schema_name)", slug, f.buf);
	if (type)
		strbuf_addf(&q->sql, " AND $%d = 'tenant'", type);
	if (sc)
		strbuf_addf(&q->sql, " AND t.slug = $%d", sc);
	strbuf_addstr(&q->sql, ") d ORDER BY d.created_at, d.id, d.schema_name");
	strbuf_release(&f);
}

void exec_resolve_sql(struct exec_query *q, const struct exec_request *req, const char *scope)
{
	if (req->scope == EXEC_SCOPE_TENANT && req->tenant != NULL) {
		resolve_tenant_sql(q, req, scope);
		return;
	}
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
