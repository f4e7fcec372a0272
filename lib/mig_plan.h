/* mig_plan.h — what a target's history means against a migration set:
 * Flyway's migration states (info), what migrate would apply (plan),
 * Flyway's validation problems, and the work of repair and undo.
 *
 * Pure computation: no I/O. A plan points into the set and the history it
 * was computed from; both must outlive it. */
#ifndef INFRA_MIG_PLAN_H
#define INFRA_MIG_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "mig_history.h"
#include "mig_script.h"

/* Flyway's MigrationState. */
enum mig_state {
	MIG_STATE_PENDING,
	MIG_STATE_ABOVE_TARGET,
	MIG_STATE_BELOW_BASELINE,
	MIG_STATE_BASELINE,
	MIG_STATE_IGNORED,		/* older than the newest applied; needs out-of-order */
	MIG_STATE_MISSING_SUCCESS,	/* applied, its file is gone */
	MIG_STATE_MISSING_FAILED,
	MIG_STATE_SUCCESS,
	MIG_STATE_UNDONE,
	MIG_STATE_FAILED,
	MIG_STATE_OUT_OF_ORDER,		/* applied after a newer version */
	MIG_STATE_FUTURE_SUCCESS,	/* applied, newer than every file */
	MIG_STATE_FUTURE_FAILED,
	MIG_STATE_OUTDATED,		/* repeatable whose file changed: runs again */
	MIG_STATE_SUPERSEDED,		/* an older run of a repeatable, or a retried row */
	MIG_STATE_DELETED,		/* marked deleted by repair */
};

/* "pending", "above_target", … (stable, for JSON and the CLI). */
const char *mig_state_name(enum mig_state state);

/* One line of info: a history row, a file, or both. */
struct mig_info {
	enum mig_state state;
	const struct mig_script *resolved;	/* NULL when only in the history */
	const struct mig_applied *applied;	/* NULL when not applied */
};

/* One validation problem, with Flyway's error code. */
struct mig_problem {
	const char *code;		/* static: "CHECKSUM_MISMATCH", … */
	char version[MIG_VERSION_MAX + 1]; /* "" for a repeatable */
	char description[MIG_DESCRIPTION_MAX + 1];
	char message[256];
};

struct mig_plan_options {
	const char *target;	/* NULL or "latest": all; "current": nothing newer; or a version */
	bool out_of_order;	/* apply versions older than the newest applied */
	bool pending_is_problem; /* validate: a pending migration is a problem */
};

struct mig_plan {
	struct mig_info *infos;		/* history rows by rank, then unapplied files */
	size_t ninfos;
	const struct mig_script **pending; /* what migrate applies, in order */
	size_t npending;
	struct mig_problem *problems;
	size_t nproblems;
	const char *current_version;	/* highest applied version or baseline; NULL */
	bool failed;			/* a failed row blocks migrate until repair */
	bool applied;			/* a row other than the SCHEMA/BASELINE markers */
	const struct mig_applied *baseline; /* the BASELINE row, or NULL */
};

/* Compute `plan` for history `h` (rows by installed_rank) against `set`.
 * Returns 0, or -1 with INFRA_EINVAL when opts->target is not a version,
 * "latest" or "current". The caller releases the plan. */
int mig_plan_compute(struct mig_plan *plan, const struct mig_set *set,
		     const struct mig_history *h, const struct mig_plan_options *opts,
		     struct infra_error *err);

/* Free what `plan` allocated (not the set nor the history). */
void mig_plan_release(struct mig_plan *plan);

/* What repair changes: delete the failed rows, realign checksum,
 * description and type of applied versions whose file changed, and add a
 * DELETE row for each applied migration whose file is gone (a version, or
 * the latest run of a repeatable), as Flyway's repair does. Pointers into
 * the plan; the arrays are malloc'ed and freed by mig_repair_release(). */
struct mig_repair {
	size_t nfailed;			/* rows with success = false */
	const struct mig_info **align;
	size_t nalign;
	const struct mig_info **missing;	/* each gets a DELETE row */
	size_t nmissing;
};

void mig_repair_compute(struct mig_repair *r, const struct mig_plan *plan);
void mig_repair_release(struct mig_repair *r);

/* The undo scripts to run, newest version first: every applied version
 * newer than `target`, or only the newest applied one when `target` is
 * NULL. Sets *out (malloc'ed, the caller frees; NULL when nothing is to be
 * undone) and *n. Fails with -1 and INFRA_EMIGRATION, changing nothing,
 * when a failed row blocks or an undo script is missing (all are named),
 * or INFRA_EINVAL for a bad target. */
int mig_plan_undo(const struct mig_plan *plan, const struct mig_set *set, const char *target,
		  const struct mig_script ***out, size_t *n, struct infra_error *err);

#endif
