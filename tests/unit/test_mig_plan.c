/* test_mig_plan.c — what a history means against a set of scripts: pending
 * migrations in order, targets, baselines, out-of-order, repeatables,
 * Flyway's validation codes, repair work and undo lists. Sets and
 * histories are built in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig_plan.h"
#include "unit.h"

static struct mig_script versioned[8], undo[8], repeatable[4];
static struct mig_set set;
static struct mig_history hist;
static struct mig_plan plan;

static void script(struct mig_script *s, enum mig_kind kind, const char *version,
		   const char *desc, int32_t checksum)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->version = (char *)version;
	s->description = (char *)desc;
	s->script = (char *)desc;
	s->checksum = checksum;
}

/* V1..Vn with checksums 100+i, U files for the versions in `undos`, and
 * repeatable "views" (checksum 7). */
static void make_set(int n, const char *const *undos, int nundo)
{
	static const char *const v[] = { "1", "2", "3", "4", "5", "6", "7", "8" };
	static const char *const d[] = { "one", "two", "three", "four", "five", "six", "seven", "eight" };

	memset(&set, 0, sizeof(set));
	for (int i = 0; i < n; i++)
		script(&versioned[i], MIG_VERSIONED, v[i], d[i], 100 + i + 1);
	for (int i = 0; i < nundo; i++)
		script(&undo[i], MIG_UNDO, undos[i], "undo", 900 + i);
	script(&repeatable[0], MIG_REPEATABLE, NULL, "views", 7);
	set.versioned = versioned;
	set.nversioned = (size_t)n;
	set.undo = undo;
	set.nundo = (size_t)nundo;
	set.repeatable = repeatable;
	set.nrepeatable = 1;
	mig_history_release(&hist);
}

static void row(const char *version, const char *desc, const char *type, int32_t checksum,
		bool success)
{
	struct mig_applied a = {
		.rank = mig_history_max_rank(&hist) + 1, .version = (char *)version,
		.description = (char *)desc, .type = (char *)type, .script = (char *)desc,
		.has_checksum = true, .checksum = checksum, .installed_by = "u",
		.installed_on = "2026-01-01T00:00:00.000Z", .success = success,
	};

	if (hist.n == 0 && strcmp(type, "SCHEMA") == 0)
		a.rank = 0;
	mig_history_add(&hist, &a);
}

/* Apply V<version> as this set has it. */
static void applied(int i)
{
	row(versioned[i - 1].version, versioned[i - 1].description, "SQL", versioned[i - 1].checksum, true);
}

static int compute(const char *target, bool out_of_order, bool validate)
{
	struct mig_plan_options o = { .target = target, .out_of_order = out_of_order,
				      .pending_is_problem = validate };
	struct infra_error err;

	mig_plan_release(&plan);
	return mig_plan_compute(&plan, &set, &hist, &o, &err);
}

/* The pending list spelled as "1,2,views". */
static const char *pending(void)
{
	static char buf[256];

	buf[0] = '\0';
	for (size_t i = 0; i < plan.npending; i++) {
		if (i > 0)
			strcat(buf, ",");
		strcat(buf, plan.pending[i]->version ? plan.pending[i]->version : plan.pending[i]->description);
	}
	return buf;
}

static enum mig_state state_of(const char *version)
{
	for (size_t i = 0; i < plan.ninfos; i++) {
		const struct mig_info *in = &plan.infos[i];
		const char *v = in->applied ? in->applied->version : in->resolved->version;

		if (v && strcmp(v, version) == 0 && (in->applied == NULL ||
						     strcmp(in->applied->type, "UNDO_SQL") != 0))
			return in->state;
	}
	return (enum mig_state)-1;
}

static bool has_problem(const char *code, const char *version)
{
	for (size_t i = 0; i < plan.nproblems; i++)
		if (strcmp(plan.problems[i].code, code) == 0 &&
		    (version == NULL || strcmp(plan.problems[i].version, version) == 0))
			return true;
	return false;
}

static void test_fresh(void)
{
	make_set(3, NULL, 0);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "1,2,3,views");
	CU_ASSERT_PTR_NULL(plan.current_version);
	CU_ASSERT_EQUAL(plan.nproblems, 0);
	CU_ASSERT_FALSE(plan.applied);
	/* the schema marker changes nothing */
	row("0", "<< Flyway Schema Creation >>", "SCHEMA", 0, true);
	CU_ASSERT_EQUAL(compute("latest", false, false), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "1,2,3,views");
	CU_ASSERT_PTR_NULL(plan.current_version);
}

static void test_partial_and_target(void)
{
	make_set(4, NULL, 0);
	applied(1);
	applied(2);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "3,4,views");
	CU_ASSERT_STRING_EQUAL(plan.current_version, "2");
	CU_ASSERT_EQUAL(state_of("1"), MIG_STATE_SUCCESS);
	CU_ASSERT_EQUAL(compute("3", false, false), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "3,views");
	CU_ASSERT_EQUAL(state_of("4"), MIG_STATE_ABOVE_TARGET);
	CU_ASSERT_EQUAL(compute("current", false, false), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "views");
	CU_ASSERT_EQUAL(compute("3.0.0", false, false), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "3,views");
	CU_ASSERT_EQUAL(compute("three", false, false), -1);
}

static void test_mismatches(void)
{
	make_set(3, NULL, 0);
	row("1", "one", "SQL", 555, true);		/* file changed */
	row("2", "deux", "SQL", 102, true);		/* renamed */
	row("3", "three", "JDBC", 103, true);		/* another kind */
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_TRUE(has_problem("CHECKSUM_MISMATCH", "1"));
	CU_ASSERT_TRUE(has_problem("DESCRIPTION_MISMATCH", "2"));
	CU_ASSERT_TRUE(has_problem("TYPE_MISMATCH", "3"));
	CU_ASSERT_EQUAL(plan.nproblems, 3);
	{
		struct mig_repair r;

		mig_repair_compute(&r, &plan);
		CU_ASSERT_EQUAL(r.nalign, 3);
		CU_ASSERT_EQUAL(r.nfailed, 0);
		CU_ASSERT_EQUAL(r.nmissing, 0);
		mig_repair_release(&r);
	}
}

static void test_failed(void)
{
	struct mig_repair r;

	make_set(3, NULL, 0);
	applied(1);
	row("2", "two", "SQL", 102, false);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_TRUE(plan.failed);
	CU_ASSERT_EQUAL(state_of("2"), MIG_STATE_FAILED);
	CU_ASSERT_TRUE(has_problem("FAILED_VERSIONED_MIGRATION", "2"));
	mig_repair_compute(&r, &plan);
	CU_ASSERT_EQUAL(r.nfailed, 1);
	mig_repair_release(&r);
	/* a later success of the same version supersedes the failure */
	applied(2);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_FALSE(plan.failed);
	CU_ASSERT_STRING_EQUAL(pending(), "3,views");
}

static void test_out_of_order(void)
{
	make_set(3, NULL, 0);
	applied(1);
	applied(3);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_EQUAL(state_of("2"), MIG_STATE_IGNORED);
	CU_ASSERT_TRUE(has_problem("RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED", "2"));
	CU_ASSERT_STRING_EQUAL(pending(), "views");
	CU_ASSERT_EQUAL(compute(NULL, true, false), 0);
	CU_ASSERT_EQUAL(plan.nproblems, 0);
	CU_ASSERT_STRING_EQUAL(pending(), "2,views");
	applied(2);
	CU_ASSERT_EQUAL(compute(NULL, true, false), 0);
	CU_ASSERT_EQUAL(state_of("2"), MIG_STATE_OUT_OF_ORDER);
	CU_ASSERT_STRING_EQUAL(plan.current_version, "3");
}

static void test_missing_and_future(void)
{
	struct mig_repair r;

	make_set(3, NULL, 0);
	applied(1);
	applied(2);
	applied(3);
	row("4", "four", "SQL", 104, true);		/* newer than every file */
	set.versioned[1] = set.versioned[2];		/* V2's file is gone */
	set.nversioned = 2;
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_EQUAL(state_of("2"), MIG_STATE_MISSING_SUCCESS);
	CU_ASSERT_EQUAL(state_of("4"), MIG_STATE_FUTURE_SUCCESS);
	CU_ASSERT_TRUE(has_problem("APPLIED_VERSIONED_MIGRATION_NOT_RESOLVED", "2"));
	CU_ASSERT_FALSE(has_problem("APPLIED_VERSIONED_MIGRATION_NOT_RESOLVED", "4"));
	CU_ASSERT_STRING_EQUAL(plan.current_version, "4");
	mig_repair_compute(&r, &plan);
	CU_ASSERT_EQUAL(r.nmissing, 1);
	CU_ASSERT_STRING_EQUAL(r.missing[0]->applied->version, "2");
	mig_repair_release(&r);
	/* once marked deleted, it is no longer a problem */
	row("2", "two", "DELETE", 102, true);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_FALSE(has_problem("APPLIED_VERSIONED_MIGRATION_NOT_RESOLVED", "2"));
	CU_ASSERT_EQUAL(state_of("2"), MIG_STATE_DELETED);
}

static void test_baseline(void)
{
	make_set(4, NULL, 0);
	row("2", "<< Flyway Baseline >>", "BASELINE", 0, true);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_STRING_EQUAL(plan.current_version, "2");
	CU_ASSERT_PTR_NOT_NULL(plan.baseline);
	CU_ASSERT_FALSE(plan.applied);
	CU_ASSERT_EQUAL(state_of("1"), MIG_STATE_BELOW_BASELINE);
	CU_ASSERT_STRING_EQUAL(pending(), "3,4,views");
	CU_ASSERT_EQUAL(plan.nproblems, 0);
}

static void test_repeatables(void)
{
	make_set(1, NULL, 0);
	applied(1);
	row(NULL, "views", "SQL", 7, true);
	CU_ASSERT_EQUAL(compute(NULL, false, true), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "");
	CU_ASSERT_EQUAL(plan.nproblems, 0);
	repeatable[0].checksum = 8;			/* the file changed */
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "views");
	CU_ASSERT_EQUAL(plan.nproblems, 0);
	CU_ASSERT_EQUAL(compute(NULL, false, true), 0);
	CU_ASSERT_TRUE(has_problem("OUTDATED_REPEATABLE_MIGRATION", NULL));
	row(NULL, "views", "SQL", 8, true);		/* re-run */
	CU_ASSERT_EQUAL(compute(NULL, false, true), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "");
	CU_ASSERT_EQUAL(plan.infos[1].state, MIG_STATE_SUPERSEDED);
	CU_ASSERT_EQUAL(plan.infos[2].state, MIG_STATE_SUCCESS);
	set.nrepeatable = 0;				/* its file is gone */
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_TRUE(has_problem("APPLIED_REPEATABLE_MIGRATION_NOT_RESOLVED", NULL));
}

/* repair marks a missing repeatable deleted (its latest run only), which
 * unblocks the schema; the file coming back makes it pending again */
static void test_repeatable_repair(void)
{
	struct mig_repair r;

	make_set(1, NULL, 0);
	applied(1);
	row(NULL, "views", "SQL", 6, true);		/* an older run, rank 2 */
	row(NULL, "views", "SQL", 7, true);		/* the latest, rank 3 */
	set.nrepeatable = 0;				/* its file is gone */
	CU_ASSERT_EQUAL(compute(NULL, false, true), 0);
	CU_ASSERT_TRUE(has_problem("APPLIED_REPEATABLE_MIGRATION_NOT_RESOLVED", NULL));
	mig_repair_compute(&r, &plan);
	CU_ASSERT_EQUAL(r.nfailed + r.nalign, 0);
	CU_ASSERT_EQUAL_FATAL(r.nmissing, 1);
	CU_ASSERT_PTR_NULL(r.missing[0]->applied->version);
	CU_ASSERT_EQUAL(r.missing[0]->applied->rank, 3);
	mig_repair_release(&r);
	row(NULL, "views", "DELETE", 7, true);		/* what repair writes */
	CU_ASSERT_EQUAL(compute(NULL, false, true), 0);
	CU_ASSERT_EQUAL(plan.nproblems, 0);
	CU_ASSERT_STRING_EQUAL(pending(), "");
	CU_ASSERT_EQUAL(plan.infos[1].state, MIG_STATE_SUPERSEDED);
	CU_ASSERT_EQUAL(plan.infos[2].state, MIG_STATE_DELETED);
	CU_ASSERT_EQUAL(plan.infos[3].state, MIG_STATE_DELETED);
	mig_repair_compute(&r, &plan);			/* a second repair: nothing */
	CU_ASSERT_EQUAL(r.nfailed + r.nalign + r.nmissing, 0);
	mig_repair_release(&r);
	set.nrepeatable = 1;				/* the file comes back */
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_STRING_EQUAL(pending(), "views");
	CU_ASSERT_EQUAL(plan.nproblems, 0);
	row(NULL, "views", "SQL", 7, true);		/* run again */
	CU_ASSERT_EQUAL(compute(NULL, false, true), 0);
	CU_ASSERT_EQUAL(plan.nproblems, 0);
	CU_ASSERT_STRING_EQUAL(pending(), "");
	CU_ASSERT_EQUAL(plan.infos[3].state, MIG_STATE_DELETED);
	CU_ASSERT_EQUAL(plan.infos[4].state, MIG_STATE_SUCCESS);
}

static void test_validate_pending(void)
{
	make_set(2, NULL, 0);
	applied(1);
	CU_ASSERT_EQUAL(compute(NULL, false, true), 0);
	CU_ASSERT_TRUE(has_problem("RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED", "2"));
	CU_ASSERT_TRUE(has_problem("RESOLVED_REPEATABLE_MIGRATION_NOT_APPLIED", NULL));
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_EQUAL(plan.nproblems, 0);
}

static void test_undo(void)
{
	static const char *const u23[] = { "2", "3" };
	const struct mig_script **list;
	size_t n;
	struct infra_error err;

	make_set(3, u23, 2);
	applied(1);
	applied(2);
	applied(3);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_EQUAL(mig_plan_undo(&plan, &set, NULL, &list, &n, &err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(list[0]->version, "3");
	free(list);
	CU_ASSERT_EQUAL(mig_plan_undo(&plan, &set, "1", &list, &n, &err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(list[0]->version, "3");	/* newest first */
	CU_ASSERT_STRING_EQUAL(list[1]->version, "2");
	free(list);
	/* refused up front when one undo script is missing */
	CU_ASSERT_EQUAL(mig_plan_undo(&plan, &set, "0", &list, &n, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "version 1"));
	CU_ASSERT_PTR_NULL(list);
	CU_ASSERT_EQUAL(mig_plan_undo(&plan, &set, "3", &list, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 0);
	/* after the undo row, version 3 is pending again */
	row("3", "undo", "UNDO_SQL", 901, true);
	CU_ASSERT_EQUAL(compute(NULL, false, false), 0);
	CU_ASSERT_EQUAL(state_of("3"), MIG_STATE_UNDONE);
	CU_ASSERT_STRING_EQUAL(plan.current_version, "2");
	CU_ASSERT_STRING_EQUAL(pending(), "3,views");
	CU_ASSERT_EQUAL(plan.nproblems, 0);
}

/* 300 versions, applied in order, the newest two undone and one re-applied:
 * the row chains of a long history. */
static void test_long_history(void)
{
	enum { N = 300 };
	static struct mig_script many[N];
	static char versions[N][12];
	struct mig_set big = { 0 };
	size_t success = 0;

	for (int i = 0; i < N; i++) {
		snprintf(versions[i], sizeof(versions[i]), "%d", i + 1);
		script(&many[i], MIG_VERSIONED, versions[i], "step", 1000 + i);
	}
	big.versioned = many;
	big.nversioned = N;
	mig_history_release(&hist);
	for (int i = 0; i < N; i++)
		row(versions[i], "step", "SQL", 1000 + i, true);
	row("300", "step", "UNDO_SQL", 1, true);
	row("299", "step", "UNDO_SQL", 1, true);
	row("299", "step", "SQL", 1000 + 298, true);	/* applied again */
	{
		struct mig_plan_options o = { 0 };
		struct infra_error err;

		mig_plan_release(&plan);
		CU_ASSERT_EQUAL_FATAL(mig_plan_compute(&plan, &big, &hist, &o, &err), 0);
	}
	CU_ASSERT_STRING_EQUAL(plan.current_version, "299");
	CU_ASSERT_EQUAL_FATAL(plan.npending, 1);
	CU_ASSERT_STRING_EQUAL(plan.pending[0]->version, "300");
	CU_ASSERT_EQUAL(plan.nproblems, 0);
	for (size_t i = 0; i < plan.ninfos; i++)
		if (plan.infos[i].state == MIG_STATE_SUCCESS && plan.infos[i].applied &&
		    strcmp(plan.infos[i].applied->type, "SQL") == 0)
			success++;
	CU_ASSERT_EQUAL(success, 299);	/* 1..298 and the second 299 */
	CU_ASSERT_EQUAL(plan.infos[298].state, MIG_STATE_UNDONE);	/* the first 299 */
	CU_ASSERT_EQUAL(plan.infos[299].state, MIG_STATE_UNDONE);	/* 300 */
}

static void test_cleanup(void)
{
	mig_plan_release(&plan);
	mig_history_release(&hist);
}

static CU_TestInfo tests[] = {
	{ "fresh schema: everything pending", test_fresh },
	{ "partially migrated, targets", test_partial_and_target },
	{ "checksum, description and type drift", test_mismatches },
	{ "failed migration blocks until repaired", test_failed },
	{ "ignored unless out-of-order", test_out_of_order },
	{ "missing and future versions", test_missing_and_future },
	{ "baseline", test_baseline },
	{ "repeatables re-run when changed", test_repeatables },
	{ "repair marks a missing repeatable deleted", test_repeatable_repair },
	{ "validate counts pending migrations", test_validate_pending },
	{ "undo lists", test_undo },
	{ "a long history", test_long_history },
	{ "free", test_cleanup },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("mig_plan", tests)
