/* exec_run.c — the migration sets of each database type, engine targets
 * built from registry rows, and the engine commands a request runs within
 * itself (see exec_run.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"
#include "crypto.h"
#include "exec_run.h"
#include "log.h"
#include "registry.h"
#include "strbuf.h"
#include "xalloc.h"

/* --- migration sets --- */

#define EXEC_SETS_MAX 8		/* the database types, with room */

static struct exec_cached_set {
	char *root;
	char *database_type;
	struct mig_set set;
} sets[EXEC_SETS_MAX];

const struct mig_set *exec_set_get(const char *root, const char *database_type,
				   struct infra_error *err)
{
	struct exec_cached_set *free_slot = NULL;
	struct strbuf dir = STRBUF_INIT;
	struct infra_error why;

	for (size_t i = 0; i < EXEC_SETS_MAX; i++) {
		struct exec_cached_set *c = &sets[i];

		if (c->root == NULL) {
			if (free_slot == NULL)
				free_slot = c;
			continue;
		}
		if (strcmp(c->root, root) == 0 && strcmp(c->database_type, database_type) == 0)
			return &c->set;
	}
	if (free_slot == NULL || !registry_database_type_valid(database_type)) {
		infra_fail(err, INFRA_EMIGRATION, "no migration set for database type '%s'", database_type);
		return NULL;
	}
	strbuf_addf(&dir, "%s/%s", root, database_type);
	if (mig_set_load(&free_slot->set, dir.buf, &why) != 0) {
		json_object *f = json_object_new_object();

		json_object_object_add(f, "location", json_object_new_string(dir.buf));
		json_object_object_add(f, "error", json_object_new_string(why.message));
		log_emit(LOG_LEVEL_ERROR, "cannot load a migration set", f);
		infra_fail(err, INFRA_EMIGRATION, "the migration set of database type '%s' cannot be "
			   "loaded: %s", database_type, why.message);
		strbuf_release(&dir);
		return NULL;
	}
	strbuf_release(&dir);
	free_slot->root = xstrdup(root);
	free_slot->database_type = xstrdup(database_type);
	return &free_slot->set;
}

void exec_sets_release(void)
{
	for (size_t i = 0; i < EXEC_SETS_MAX; i++) {
		if (sets[i].root == NULL)
			continue;
		mig_set_release(&sets[i].set);
		free(sets[i].root);
		free(sets[i].database_type);
		memset(&sets[i], 0, sizeof(sets[i]));
	}
}

/* --- engine targets --- */

void exec_fleet_init(struct exec_fleet *f)
{
	f->items = NULL;
	f->n = 0;
}

void exec_fleet_release(struct exec_fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct exec_fleet_target *t = &f->items[i];

		free(t->name);
		free(t->schema);
		free(t->database_type);
		free(t->label);
		if (t->conninfo != NULL)
			crypto_secret_free(t->conninfo, 0);
	}
	free(f->items);
	exec_fleet_init(f);
}

/* Append `value` to a key=value connection string, quoted as libpq wants:
 * in single quotes, with backslash and quote escaped by a backslash. */
static void conninfo_add(struct strbuf *sb, const char *key, const char *value)
{
	if (sb->len > 0)
		strbuf_addch(sb, ' ');
	strbuf_addf(sb, "%s='", key);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '\'')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, *p);
	}
	strbuf_addch(sb, '\'');
}

/* The connection string of row `row` (EXEC_DB_COLUMNS from `col0`) with
 * `password`; the caller wipes and frees it. */
static char *conninfo_of(const PGresult *res, int row, int col0, const char *password)
{
	struct strbuf sb = STRBUF_INIT;

	conninfo_add(&sb, "host", PQgetvalue(res, row, col0 + 2));
	conninfo_add(&sb, "port", PQgetvalue(res, row, col0 + 3));
	conninfo_add(&sb, "dbname", PQgetvalue(res, row, col0 + 4));
	conninfo_add(&sb, "user", PQgetvalue(res, row, col0 + 5));
	conninfo_add(&sb, "sslmode", PQgetvalue(res, row, col0 + 6));
	conninfo_add(&sb, "password", password ? password : "");
	return strbuf_detach(&sb, NULL);
}

int exec_fleet_add_row(struct exec_fleet *f, struct db *db, const struct config *cfg,
		       const PGresult *res, int row, int col0, int col_schema, int col_type,
		       struct infra_error *err)
{
	struct infra_error why;
	const struct crypto_keyring *ring = crypto_keyring_shared(cfg->encryption_keys, &why);
	struct exec_fleet_target *grown = realloc(f->items, (f->n + 1) * sizeof(*grown)), *t;
	struct strbuf label = STRBUF_INIT;
	const char *id = PQgetvalue(res, row, col0);
	char *password = NULL;

	if (grown == NULL)
		abort();
	f->items = grown;
	t = &f->items[f->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->database_id, sizeof(t->database_id), "%s", id);
	t->name = xstrdup(PQgetvalue(res, row, col0 + 1));
	t->schema = xstrdup(PQgetvalue(res, row, col_schema));
	t->database_type = xstrdup(PQgetvalue(res, row, col_type));
	strbuf_addf(&label, "%s/%s", t->name, t->schema);
	t->label = strbuf_detach(&label, NULL);
	if (ring == NULL || registry_password_open(ring, id, PQgetvalue(res, row, col0 + 7),
						   PQgetvalue(res, row, col0 + 8), &password,
						   &why) != 0) {
		snprintf(t->skip, sizeof(t->skip), "stored credentials cannot be decrypted: %s",
			 why.message);
		t->skip_failed = true;
		return 0;
	}
	t->conninfo = conninfo_of(res, row, col0, password);
	crypto_secret_free(password, 0);
	if (db != NULL) {
		char reason[sizeof(t->skip) - 32];
		int allowed = circuit_allows(db, id, reason, sizeof(reason), err);

		if (allowed < 0)
			return -1;
		if (allowed == 0)
			snprintf(t->skip, sizeof(t->skip), "circuit open: %s", reason);
	}
	return 0;
}

int exec_fleet_add(struct exec_fleet *f, struct db *db, const struct config *cfg,
		   const PGresult *res, int col0, int col_schema, int col_type,
		   struct infra_error *err)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (exec_fleet_add_row(f, db, cfg, res, i, col0, col_schema, col_type, err) != 0)
			return -1;
	return 0;
}

int exec_fleet_load_single(struct exec_fleet *f, struct db *db, const struct config *cfg,
			   const char *database_id, const char *schema, const char *scope,
			   struct infra_error *err)
{
	struct exec_request req = { .scope = EXEC_SCOPE_SINGLE, .database_id = database_id };
	PGresult *res = exec_resolve(db, &req, scope, err);
	struct exec_fleet_target *t;
	struct strbuf label = STRBUF_INIT;
	int rc;

	if (res == NULL)
		return err->kind == INFRA_EMIGRATION ? infra_fail(err, INFRA_ENOTFOUND, "no such database")
			: -1;
	rc = exec_fleet_add(f, db, cfg, res, 0, EXEC_COL_SCHEMA, EXEC_COL_TYPE, err);
	PQclear(res);
	if (rc != 0 || schema == NULL)
		return rc;
	t = &f->items[0];
	free(t->schema);
	free(t->label);
	t->schema = xstrdup(schema);
	strbuf_addf(&label, "%s/%s", t->name, t->schema);
	t->label = strbuf_detach(&label, NULL);
	return 0;
}

void exec_engine_options(struct mig_options *o, const struct config *cfg, enum mig_command cmd)
{
	mig_options_init(o, cmd);
	o->parallel = cfg->migration_batch_size;
	o->target_timeout_ms = cfg->migration_timeout_s * 1000;
	o->statement_timeout_ms = cfg->migration_timeout_s * 1000;
	o->retries = cfg->migration_retry_attempts;
	o->connect_timeout_s = cfg->db_connect_timeout_s;
}

/* --- commands run within a request --- */

static json_object *skipped_json(const struct exec_fleet_target *t, enum mig_command cmd)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "target", json_object_new_string(t->label));
	json_object_object_add(o, "database_id", json_object_new_string(t->database_id));
	json_object_object_add(o, "database", json_object_new_string(t->name));
	json_object_object_add(o, "schema", json_object_new_string(t->schema));
	json_object_object_add(o, "status", json_object_new_string(t->skip_failed ? "failed" : "skipped"));
	json_object_object_add(o, "skipped", json_object_new_string(t->skip));
	if (cmd == MIG_CMD_VALIDATE)
		json_object_object_add(o, "ok", json_object_new_boolean(false));
	return o;
}

static json_object *outcome_json(const struct exec_fleet_target *t, const struct mig_outcome *o,
				 enum mig_command cmd)
{
	json_object *j = mig_outcome_to_json(o, t->name, t->schema, cmd);

	json_object_object_add(j, "target", json_object_new_string(t->label));
	json_object_object_add(j, "database_id", json_object_new_string(t->database_id));
	json_object_object_add(j, "database_type", json_object_new_string(t->database_type));
	if (cmd == MIG_CMD_VALIDATE)
		json_object_object_add(j, "ok", json_object_new_boolean(o->status == MIG_STATUS_OK &&
									o->nproblems == 0));
	return j;
}

/* Run `opts` over the targets of `f` whose database type is `type` and
 * that are runnable, putting each one's JSON at its index in `items`. */
static void inspect_type(const struct exec_fleet *f, const struct config *cfg,
			 const struct mig_options *opts, const char *type, json_object *items)
{
	struct mig_target *targets = calloc(f->n, sizeof(*targets));
	struct mig_outcome *outcomes = calloc(f->n, sizeof(*outcomes));
	size_t *index = calloc(f->n, sizeof(*index)), n = 0;
	const struct mig_set *set;
	struct infra_error err;

	if (targets == NULL || outcomes == NULL || index == NULL)
		abort();
	for (size_t i = 0; i < f->n; i++) {
		const struct exec_fleet_target *t = &f->items[i];

		if (strcmp(t->database_type, type) != 0 || t->skip[0] != '\0')
			continue;
		targets[n] = (struct mig_target){ .conninfo = t->conninfo, .schema = t->schema,
						  .label = t->name };
		index[n++] = i;
	}
	set = exec_set_get(cfg->migrations_root, type, &err);
	if (set != NULL) {
		mig_run(set, opts, targets, n, outcomes, &err);
	} else {
		for (size_t k = 0; k < n; k++) {
			outcomes[k].status = MIG_STATUS_FAILED;
			outcomes[k].error = err;
		}
	}
	for (size_t k = 0; k < n; k++) {
		json_object_array_put_idx(items, index[k],
					  outcome_json(&f->items[index[k]], &outcomes[k], opts->command));
		mig_outcome_release(&outcomes[k]);
	}
	free(targets);
	free(outcomes);
	free(index);
}

json_object *exec_fleet_inspect(const struct exec_fleet *f, const struct config *cfg,
				enum mig_command cmd, const char *target_version)
{
	json_object *items = json_object_new_array_ext((int)f->n);
	struct mig_options opts;

	exec_engine_options(&opts, cfg, cmd);
	opts.target = target_version;
	opts.retries = 0;	/* a request waits: no backoff */
	for (size_t i = 0; i < f->n; i++) {
		const struct exec_fleet_target *t = &f->items[i];
		bool seen = false;

		if (t->skip[0] != '\0') {
			json_object_array_put_idx(items, i, skipped_json(t, cmd));
			continue;
		}
		for (size_t j = 0; j < i && !seen; j++)
			seen = f->items[j].skip[0] == '\0' &&
			       strcmp(f->items[j].database_type, t->database_type) == 0;
		if (!seen)
			inspect_type(f, cfg, &opts, t->database_type, items);
	}
	return items;
}

/* The applied rows of an INFO outcome: the target's history. */
static json_object *history_json(const struct mig_outcome *o)
{
	json_object *items = json_object_new_array();

	for (size_t i = 0; i < o->nrows; i++) {
		const struct mig_info_row *r = &o->rows[i];
		json_object *j;

		if (r->installed_on == NULL)
			continue;
		j = json_object_new_object();
		json_object_object_add(j, "installed_rank", json_object_new_int(r->installed_rank));
		json_object_object_add(j, "version", r->version ? json_object_new_string(r->version) : NULL);
		json_object_object_add(j, "description", json_object_new_string(r->description));
		json_object_object_add(j, "type", json_object_new_string(r->type));
		json_object_object_add(j, "script", json_object_new_string(r->script));
		json_object_object_add(j, "checksum",
				       r->has_checksum ? json_object_new_int(r->checksum) : NULL);
		json_object_object_add(j, "installed_by", r->installed_by
				       ? json_object_new_string(r->installed_by) : NULL);
		json_object_object_add(j, "installed_on", json_object_new_string(r->installed_on));
		json_object_object_add(j, "execution_time", json_object_new_int(r->execution_time));
		json_object_object_add(j, "success", json_object_new_boolean(
					       strcmp(r->state, mig_state_name(MIG_STATE_FAILED)) != 0 &&
					       strcmp(r->state, mig_state_name(MIG_STATE_MISSING_FAILED)) != 0 &&
					       strcmp(r->state, mig_state_name(MIG_STATE_FUTURE_FAILED)) != 0));
		json_object_object_add(j, "state", json_object_new_string(r->state));
		json_object_array_add(items, j);
	}
	return items;
}

int exec_fleet_single(const struct exec_fleet *f, const struct config *cfg,
		      const struct mig_options *opts, json_object **out, struct infra_error *err)
{
	const struct exec_fleet_target *t;
	const struct mig_set *set;
	struct mig_target target;
	struct mig_outcome o;
	int rc;

	*out = NULL;
	if (f->n != 1)
		return infra_fail(err, INFRA_EINTERNAL, "internal error");
	t = &f->items[0];
	if (t->skip[0] != '\0')
		return infra_fail(err, INFRA_EUNAVAIL, "%s: %s", t->label, t->skip);
	set = exec_set_get(cfg->migrations_root, t->database_type, err);
	if (set == NULL)
		return -1;
	target = (struct mig_target){ .conninfo = t->conninfo, .schema = t->schema, .label = t->name };
	rc = mig_run(set, opts, &target, 1, &o, err);
	if (rc != 0 || o.status != MIG_STATUS_OK) {
		infra_fail(err, o.error.kind == INFRA_EUNAVAIL ? INFRA_EUNAVAIL : INFRA_EMIGRATION,
			   "%s: %s", t->label, o.error.message[0] ? o.error.message : "failed");
		mig_outcome_release(&o);
		return -1;
	}
	if (opts->command == MIG_CMD_INFO) {
		*out = json_object_new_object();
		json_object_object_add(*out, "target", json_object_new_string(t->label));
		json_object_object_add(*out, "database_id", json_object_new_string(t->database_id));
		json_object_object_add(*out, "schema", json_object_new_string(t->schema));
		json_object_object_add(*out, "current_version",
				       o.version_after ? json_object_new_string(o.version_after) : NULL);
		json_object_object_add(*out, "items", history_json(&o));
	} else {
		*out = outcome_json(t, &o, opts->command);
	}
	mig_outcome_release(&o);
	return 0;
}
