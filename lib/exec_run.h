/* exec_run.h — executions through the migration engine: the migration set
 * of each database type (MIGRATIONS_ROOT/<database_type>), cached per
 * process; engine targets built from registry rows (credentials opened,
 * circuit breakers asked); the commands a request runs within itself
 * (dry-run plan, validate, history, repair, baseline); and the job
 * runners' task that claims targets of executions under leases and runs
 * them (exec_task.c, exec_record.c). */
#ifndef INFRA_EXEC_RUN_H
#define INFRA_EXEC_RUN_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "error.h"
#include "exec.h"
#include "mig_engine.h"
#include "runner_task.h"

/* --- migration sets (exec_run.c) --- */

/* The migration set of `database_type` under `root`, loaded on first use
 * and kept for the life of the process (a SIGHUP rolls every process,
 * which reads the files again). Returns the set, owned by the cache, or
 * NULL with `err`: INFRA_EMIGRATION naming the bad file or the missing
 * folder. */
const struct mig_set *exec_set_get(const char *root, const char *database_type,
				   struct infra_error *err);

/* Free every cached set; sets returned before become invalid. */
void exec_sets_release(void);

/* --- engine targets (exec_run.c) --- */

/* One target with what the engine needs to reach it. */
struct exec_fleet_target {
	char database_id[UUID_STR_LEN];
	char *name;			/* the registry's name of the database */
	char *schema;
	char *database_type;
	char *label;			/* "name/schema", as the API names a target */
	char *conninfo;			/* holds the password; wiped when released */
	/* Not run when set: why ("stored credentials cannot be decrypted: …",
	 * or the open circuit's reason). */
	char skip[INFRA_ERRMSG_MAX + 64];
	bool skip_failed;		/* credentials: a failure; a circuit: skipped */
};

struct exec_fleet {
	struct exec_fleet_target *items;
	size_t n;
};

void exec_fleet_init(struct exec_fleet *f);
/* Wipe the connection strings and free everything `f` holds. */
void exec_fleet_release(struct exec_fleet *f);

/* Append the targets of rows [0, PQntuples) of `res`: the columns
 * EXEC_DB_COLUMNS from `col0`, the schema in column `col_schema` and the
 * database type in `col_type`. Passwords are opened with the key ring of
 * cfg->encryption_keys; a password that does not open marks its target
 * skipped (failed). With `db` non-NULL the circuit of each database is
 * asked, and an open one marks the target skipped with its reason.
 * Returns 0, or -1 (a database error while asking a circuit). */
int exec_fleet_add(struct exec_fleet *f, struct db *db, const struct config *cfg,
		   const PGresult *res, int col0, int col_schema, int col_type,
		   struct infra_error *err);

/* As exec_fleet_add, for row `row` of `res` only. */
int exec_fleet_add_row(struct exec_fleet *f, struct db *db, const struct config *cfg,
		       const PGresult *res, int row, int col0, int col_schema, int col_type,
		       struct infra_error *err);

/* Load into `f` (empty) the one target of a single-target command:
 * database `database_id` within tenant `scope`, schema `schema` (NULL:
 * its registered one), its circuit asked. Returns 0, or -1:
 * INFRA_ENOTFOUND (no such active database), or a database error. */
int exec_fleet_load_single(struct exec_fleet *f, struct db *db, const struct config *cfg,
			   const char *database_id, const char *schema, const char *scope,
			   struct infra_error *err);

/* Engine options of the configuration for `cmd`: MIGRATION_BATCH_SIZE
 * targets at once, MIGRATION_TIMEOUT per target and per statement,
 * MIGRATION_RETRY_ATTEMPTS retries, DB_CONNECT_TIMEOUT. */
void exec_engine_options(struct mig_options *o, const struct config *cfg, enum mig_command cmd);

/* --- commands run within a request (exec_run.c) --- */

/* Run `cmd` (MIG_CMD_PLAN or MIG_CMD_VALIDATE) on every target of `f`,
 * grouped by database type, `target_version` (NULL: the newest) for a
 * plan. Reads only. Returns a new JSON array with one item per target, in
 * order: the engine's outcome (mig_outcome_to_json) with `target` and
 * `database_id` added, `ok` for validate, and `skipped` (the reason) for a
 * target not run. Never fails as a whole: a set that cannot be loaded
 * fails its targets with the reason. */
json_object *exec_fleet_inspect(const struct exec_fleet *f, const struct config *cfg,
				enum mig_command cmd, const char *target_version);

/* Run `opts->command` (INFO, REPAIR or BASELINE) on the one target of `f`
 * with the set of its database type. Returns 0 with the outcome as JSON
 * in *out — for INFO, only the applied rows, as {items:[{installed_rank,
 * version, description, type, script, checksum, installed_by,
 * installed_on, execution_time, success}]} — or -1: INFRA_EMIGRATION (no
 * set, or the engine refused: err says why), INFRA_EUNAVAIL (the target
 * cannot be reached or its circuit is open). */
int exec_fleet_single(const struct exec_fleet *f, const struct config *cfg,
		      const struct mig_options *opts, json_object **out, struct infra_error *err);

/* --- the runner task (exec_task.c) --- */

/* Claim up to a few MIGRATION_BATCH_SIZE targets of running executions
 * (pending ones, and running ones whose lease expired: a dead runner's
 * work, on any host) and run them with MIGRATION_BATCH_SIZE in parallel,
 * renewing the leases while they run, recording each target's outcome as
 * it finishes (retried until it is written or the lease is lost) and
 * ending an execution when its last target finishes. Returns when to run
 * again (0 when there may be more work). */
int64_t exec_task(struct runner_ctx *ctx);

/* Close the sessions to targets exec_task keeps between engine runs. */
void exec_task_release(void);

#endif
