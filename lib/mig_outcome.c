/* mig_outcome.c — what the migration engine reports per target: naming a
 * target without its secrets, releasing an outcome and rendering it as
 * JSON (see mig_engine.h). */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig_engine.h"

const char *mig_status_name(enum mig_status status)
{
	switch (status) {
	case MIG_STATUS_OK:        return "ok";
	case MIG_STATUS_FAILED:    return "failed";
	case MIG_STATUS_CANCELLED: return "cancelled";
	}
	return "failed";
}

/* A dbname holding '=' or written as a URI is a connection string that
 * libpq does not expand at this level (the engine expands the target's
 * own string once): a mistake that may carry a password, never printed. */
static bool dbname_is_conninfo(const char *dbname)
{
	return strchr(dbname, '=') != NULL || strncmp(dbname, "postgresql://", 13) == 0 ||
	       strncmp(dbname, "postgres://", 11) == 0;
}

bool mig_conninfo_nests(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	bool nests = false;

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "dbname") == 0 && o->val != NULL)
			nests = dbname_is_conninfo(o->val);
	PQconninfoFree(opts);
	return nests;
}

void mig_target_describe(const char *conninfo, char *out, size_t outlen)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", NULL);
	const char *host = NULL, *port = NULL, *db = NULL;

	if (opts == NULL) {
		snprintf(out, outlen, "?");
		return;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0 && host == NULL)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0 && !dbname_is_conninfo(o->val))
			db = o->val;
	}
	snprintf(out, outlen, "%s:%s/%s", host ? host : "localhost", port ? port : "5432",
		 db ? db : "?");
	PQconninfoFree(opts);
}

void mig_outcome_release(struct mig_outcome *o)
{
	for (size_t i = 0; i < o->nsteps; i++) {
		free(o->steps[i].version);
		free(o->steps[i].description);
		free(o->steps[i].script);
	}
	free(o->steps);
	for (size_t i = 0; i < o->nrows; i++) {
		struct mig_info_row *r = &o->rows[i];

		free(r->version);
		free(r->description);
		free(r->type);
		free(r->script);
		free(r->installed_on);
		free(r->installed_by);
	}
	free(o->rows);
	free(o->problems);
	free(o->version_before);
	free(o->version_after);
	memset(o, 0, sizeof(*o));
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *row_json(const struct mig_info_row *r)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "category", json_object_new_string(r->category));
	json_object_object_add(j, "version", str_or_null(r->version));
	json_object_object_add(j, "description", json_object_new_string(r->description));
	json_object_object_add(j, "type", json_object_new_string(r->type));
	json_object_object_add(j, "script", json_object_new_string(r->script));
	json_object_object_add(j, "checksum",
			       r->has_checksum ? json_object_new_int(r->checksum) : NULL);
	json_object_object_add(j, "state", json_object_new_string(r->state));
	if (r->installed_rank > 0 || r->installed_on != NULL) {
		json_object_object_add(j, "installed_rank", json_object_new_int(r->installed_rank));
		json_object_object_add(j, "installed_on", str_or_null(r->installed_on));
		json_object_object_add(j, "installed_by", str_or_null(r->installed_by));
		json_object_object_add(j, "execution_time", json_object_new_int(r->execution_time));
	}
	return j;
}

json_object *mig_outcome_to_json(const struct mig_outcome *o, const char *label,
				 const char *schema, enum mig_command cmd)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "database", json_object_new_string(label));
	json_object_object_add(j, "schema", json_object_new_string(schema));
	json_object_object_add(j, "status", json_object_new_string(mig_status_name(o->status)));
	json_object_object_add(j, "attempts", json_object_new_int(o->attempts));
	json_object_object_add(j, "version_before", str_or_null(o->version_before));
	json_object_object_add(j, "version_after", str_or_null(o->version_after));
	if (cmd == MIG_CMD_MIGRATE || cmd == MIG_CMD_UNDO) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < o->nsteps; i++) {
			const struct mig_step *s = &o->steps[i];
			json_object *sj = json_object_new_object();

			json_object_object_add(sj, "version", str_or_null(s->version));
			json_object_object_add(sj, "description", json_object_new_string(s->description));
			json_object_object_add(sj, "script", json_object_new_string(s->script));
			json_object_object_add(sj, "type", json_object_new_string(s->type));
			json_object_object_add(sj, "execution_ms", json_object_new_int(s->execution_ms));
			json_object_array_add(a, sj);
		}
		json_object_object_add(j, cmd == MIG_CMD_UNDO ? "undone" : "applied", a);
	}
	if (cmd == MIG_CMD_INFO || cmd == MIG_CMD_PLAN) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < o->nrows; i++)
			json_object_array_add(a, row_json(&o->rows[i]));
		json_object_object_add(j, cmd == MIG_CMD_PLAN ? "pending" : "migrations", a);
	}
	if (o->nproblems > 0 || cmd == MIG_CMD_VALIDATE) {
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < o->nproblems; i++) {
			const struct mig_problem *p = &o->problems[i];
			json_object *pj = json_object_new_object();

			json_object_object_add(pj, "code", json_object_new_string(p->code));
			json_object_object_add(pj, "version",
					       p->version[0] ? json_object_new_string(p->version) : NULL);
			json_object_object_add(pj, "description", json_object_new_string(p->description));
			json_object_object_add(pj, "message", json_object_new_string(p->message));
			json_object_array_add(a, pj);
		}
		json_object_object_add(j, "problems", a);
	}
	if (cmd == MIG_CMD_REPAIR) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "removed_failed", json_object_new_int64((int64_t)o->repaired_failed));
		json_object_object_add(r, "aligned", json_object_new_int64((int64_t)o->repaired_aligned));
		json_object_object_add(r, "marked_deleted", json_object_new_int64((int64_t)o->repaired_deleted));
		json_object_object_add(j, "repair", r);
	}
	if (cmd == MIG_CMD_BASELINE || o->baselined)
		json_object_object_add(j, "baselined", json_object_new_boolean(o->baselined));
	if (o->status != MIG_STATUS_OK && o->error.message[0] != '\0') {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "message", json_object_new_string(o->error.message));
		json_object_object_add(e, "sqlstate",
				       o->sqlstate[0] ? json_object_new_string(o->sqlstate) : NULL);
		json_object_object_add(j, "error", e);
	}
	json_object_object_add(j, "elapsed_ms", json_object_new_int64(o->elapsed_ms));
	return j;
}
