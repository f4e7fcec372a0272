/* mig_self.h — the service's own control schema, migrated by its own engine.
 *
 * infrad's master calls mig_migrate_self() at start, before it forks, and
 * `infractl migrate-self` does the same: the scripts of
 * <MIGRATIONS_ROOT>/admin are applied to schema "infra" of the control
 * database under the engine's advisory lock, so several hosts starting at
 * once apply each migration exactly once. */
#ifndef INFRA_MIG_SELF_H
#define INFRA_MIG_SELF_H

#include "error.h"

#define MIG_SELF_SCHEMA "infra"

/* Apply the migrations in `admin_dir` to schema "infra" of the database at
 * `conninfo` (created with its history table if missing), waiting for the
 * lock if another process holds it. Each applied migration is logged at
 * info level. Returns 0 when the schema is up to date, or -1 with `err`:
 * INFRA_EMIGRATION (a bad script, failed validation or a failed
 * migration), INFRA_ENOTFOUND (no such directory) or INFRA_EUNAVAIL (the
 * database could not be reached after the retries). */
int mig_migrate_self(const char *conninfo, const char *admin_dir, struct infra_error *err);

#endif
