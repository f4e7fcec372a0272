/* mig_self.c — applying migrations/admin to the control schema (see
 * mig_self.h): one target, through the same engine as any tenant. */
#include <stdio.h>

#include "log.h"
#include "mig_engine.h"
#include "mig_self.h"

static void log_step(void *arg, size_t i, const struct mig_step *step)
{
	json_object *f = json_object_new_object();

	(void)arg;
	(void)i;
	json_object_object_add(f, "version", step->version ? json_object_new_string(step->version) : NULL);
	json_object_object_add(f, "script", json_object_new_string(step->script));
	json_object_object_add(f, "execution_ms", json_object_new_int(step->execution_ms));
	log_emit(LOG_LEVEL_INFO, "control schema migration applied", f);
}

int mig_migrate_self(const char *conninfo, const char *admin_dir, struct infra_error *err)
{
	struct mig_set set;
	struct mig_options opts;
	struct mig_target target = { .conninfo = conninfo, .schema = MIG_SELF_SCHEMA };
	struct mig_outcome out;
	int rc;

	if (mig_set_load(&set, admin_dir, err) != 0)
		return -1;
	mig_options_init(&opts, MIG_CMD_MIGRATE);
	opts.parallel = 1;
	opts.cb.step_done = log_step;
	rc = mig_run(&set, &opts, &target, 1, &out, err);
	if (rc != 0)
		*err = out.error;	/* the target's own reason says more */
	else
		log_info("control schema '%s' is at version %s", MIG_SELF_SCHEMA,
			 out.version_after ? out.version_after : "(none)");
	mig_outcome_release(&out);
	mig_set_release(&set);
	return rc;
}
