/* mig_plan.c — Flyway's migration states, validation, repair and undo work
 * computed from a migration set and a history (see mig_plan.h).
 *
 * Follows Flyway's MigrationInfoImpl: a version's latest row decides
 * whether it is applied (an UNDO_SQL or DELETE row after it takes it back),
 * a repeatable's latest run is compared by checksum, and validation
 * reports the first mismatch of each applied migration. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig_alloc.h"
#include "mig_plan.h"

static const char *const state_names[] = {
	[MIG_STATE_PENDING] = "pending",
	[MIG_STATE_ABOVE_TARGET] = "above_target",
	[MIG_STATE_BELOW_BASELINE] = "below_baseline",
	[MIG_STATE_BASELINE] = "baseline",
	[MIG_STATE_IGNORED] = "ignored",
	[MIG_STATE_MISSING_SUCCESS] = "missing",
	[MIG_STATE_MISSING_FAILED] = "missing_failed",
	[MIG_STATE_SUCCESS] = "success",
	[MIG_STATE_UNDONE] = "undone",
	[MIG_STATE_FAILED] = "failed",
	[MIG_STATE_OUT_OF_ORDER] = "out_of_order",
	[MIG_STATE_FUTURE_SUCCESS] = "future",
	[MIG_STATE_FUTURE_FAILED] = "future_failed",
	[MIG_STATE_OUTDATED] = "outdated",
	[MIG_STATE_SUPERSEDED] = "superseded",
	[MIG_STATE_DELETED] = "deleted",
};

const char *mig_state_name(enum mig_state state)
{
	if ((size_t)state < sizeof(state_names) / sizeof(state_names[0]) && state_names[state])
		return state_names[state];
	return "unknown";
}

static bool is_type(const struct mig_applied *a, const char *type)
{
	return strcmp(a->type, type) == 0;
}

static bool is_marker(const struct mig_applied *a)
{
	return is_type(a, "SCHEMA") || is_type(a, "BASELINE") || is_type(a, "INIT");
}

static struct mig_info *add_info(struct mig_plan *plan, enum mig_state state,
				 const struct mig_script *resolved,
				 const struct mig_applied *applied)
{
	struct mig_info *i = &plan->infos[plan->ninfos++];	/* room made up front */

	i->state = state;
	i->resolved = resolved;
	i->applied = applied;
	return i;
}

static void add_problem(struct mig_plan *plan, const char *code, const char *version,
			const char *description, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add_problem(struct mig_plan *plan, const char *code, const char *version,
			const char *description, const char *fmt, ...)
{
	struct mig_problem *p;
	va_list ap;

	plan->problems = mig_realloc(plan->problems, (plan->nproblems + 1) * sizeof(*plan->problems));
	p = &plan->problems[plan->nproblems++];
	p->code = code;
	snprintf(p->version, sizeof(p->version), "%s", version ? version : "");
	snprintf(p->description, sizeof(p->description), "%s", description ? description : "");
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
}

static const struct mig_script *find_repeatable(const struct mig_set *set, const char *desc)
{
	size_t lo = 0, hi = set->nrepeatable;

	while (lo < hi) {	/* the set keeps repeatables sorted by description */
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(set->repeatable[mid].description, desc);

		if (c == 0)
			return &set->repeatable[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Order row indices by version (or description for repeatables), then by
 * position, so the rows of one migration follow each other in rank order. */
static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct mig_history *h = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct mig_applied *x = &h->rows[i], *y = &h->rows[j];
	int c = x->version ? mig_version_cmp(x->version, y->version)
			   : strcmp(x->description, y->description);

	if (c != 0)
		return c;
	return i < j ? -1 : i > j;
}

#define NO_ROW ((size_t)-1)

/* Link each of the `n` sorted rows in `idx` to the next one of the same
 * migration. */
static void link_rows(const struct mig_history *h, const size_t *idx, size_t n, size_t *next)
{
	for (size_t k = 0; k + 1 < n; k++) {
		const struct mig_applied *x = &h->rows[idx[k]], *y = &h->rows[idx[k + 1]];
		bool same = x->version ? mig_version_cmp(x->version, y->version) == 0
				       : strcmp(x->description, y->description) == 0;

		if (same)
			next[idx[k]] = idx[k + 1];
	}
}

/* next[i]: the next row (by rank) of the same version as row i, or of the
 * same repeatable; NO_ROW when none, and for markers. One sort of each
 * kind, so a long history costs n log n. The caller frees the array. */
static size_t *next_rows(const struct mig_history *h)
{
	size_t *next = mig_calloc(h->n, sizeof(*next));
	size_t *idx = mig_calloc(h->n, sizeof(*idx));
	size_t nv = 0, nr = 0;

	for (size_t i = 0; i < h->n; i++) {
		next[i] = NO_ROW;
		if (!is_marker(&h->rows[i]) && h->rows[i].version != NULL)
			idx[nv++] = i;
	}
	for (size_t i = 0; i < h->n; i++)
		if (!is_marker(&h->rows[i]) && h->rows[i].version == NULL)
			idx[nv + nr++] = i;
	qsort_r(idx, nv, sizeof(*idx), cmp_rows, (void *)h);
	qsort_r(idx + nv, nr, sizeof(*idx), cmp_rows, (void *)h);
	link_rows(h, idx, nv, next);
	link_rows(h, idx + nv, nr, next);
	free(idx);
	return next;
}

static bool is_application(const struct mig_applied *a)
{
	return !is_marker(a) && !is_type(a, "UNDO_SQL") && !is_type(a, "DELETE");
}

static bool is_delete(const struct mig_applied *a)
{
	return is_type(a, "DELETE");
}

/* The versions in effect at a point of the history, and the newest of
 * them: what "out of order" is measured against. An undone or deleted
 * version leaves it. */
struct live {
	const char **v;
	size_t n;
	const char *newest;
};

static void live_add(struct live *l, const char *version)
{
	l->v = mig_realloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = version;
	if (l->newest == NULL || mig_version_cmp(version, l->newest) > 0)
		l->newest = version;
}

static void live_remove(struct live *l, const char *version)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++)
		if (mig_version_cmp(l->v[i], version) != 0)
			l->v[k++] = l->v[i];
	l->n = k;
	if (l->newest == NULL || mig_version_cmp(version, l->newest) != 0)
		return;
	l->newest = NULL;	/* it was the newest: find the next one */
	for (size_t i = 0; i < l->n; i++)
		if (l->newest == NULL || mig_version_cmp(l->v[i], l->newest) > 0)
			l->newest = l->v[i];
}

/* State of the versioned application row `i`; `next` from next_rows(). */
static enum mig_state versioned_state(const struct mig_history *h, const size_t *next, size_t i,
				      const struct mig_script *resolved,
				      const char *last_resolved, const char *newest_before)
{
	const struct mig_applied *a = &h->rows[i];
	bool newer_file = last_resolved && mig_version_cmp(a->version, last_resolved) < 0;

	/* What follows this row decides first: re-applied, undone or deleted
	 * (a failed undo decides nothing). */
	for (size_t k = next[i]; k != NO_ROW; k = next[k]) {
		const struct mig_applied *b = &h->rows[k];

		if (is_delete(b))
			return MIG_STATE_DELETED;
		if (is_type(b, "UNDO_SQL") && b->success)
			return MIG_STATE_UNDONE;
		if (is_application(b))
			return MIG_STATE_SUPERSEDED;
	}
	if (!a->success) {
		if (resolved != NULL)
			return MIG_STATE_FAILED;
		return newer_file ? MIG_STATE_MISSING_FAILED : MIG_STATE_FUTURE_FAILED;
	}
	if (resolved == NULL)
		return newer_file ? MIG_STATE_MISSING_SUCCESS : MIG_STATE_FUTURE_SUCCESS;
	if (newest_before && mig_version_cmp(a->version, newest_before) < 0)
		return MIG_STATE_OUT_OF_ORDER;
	return MIG_STATE_SUCCESS;
}

/* State of the repeatable row `i`; `next` from next_rows(). Only the
 * latest run counts; a DELETE row (repair's, for a missing script) takes
 * back the run before it, so the script runs again if it comes back. */
static enum mig_state repeatable_state(const struct mig_history *h, const size_t *next, size_t i,
				       const struct mig_script *resolved)
{
	const struct mig_applied *a = &h->rows[i];

	if (is_delete(a) || (next[i] != NO_ROW && is_delete(&h->rows[next[i]])))
		return MIG_STATE_DELETED;
	if (next[i] != NO_ROW)
		return MIG_STATE_SUPERSEDED;
	if (!a->success)
		return resolved ? MIG_STATE_FAILED : MIG_STATE_MISSING_FAILED;
	if (resolved == NULL)
		return MIG_STATE_MISSING_SUCCESS;
	if (a->has_checksum && a->checksum == resolved->checksum)
		return MIG_STATE_SUCCESS;
	return MIG_STATE_OUTDATED;
}

/* First mismatch between an applied versioned row and its file. */
static void check_mismatch(struct mig_plan *plan, const struct mig_info *in)
{
	const struct mig_applied *a = in->applied;
	const struct mig_script *r = in->resolved;
	struct strbuf desc = STRBUF_INIT;

	mig_history_abbreviate_description(&desc, r->description);
	if (strcmp(a->type, mig_script_type(r)) != 0)
		add_problem(plan, "TYPE_MISMATCH", a->version, a->description,
			    "migration type mismatch for version %s: applied %s, resolved locally %s",
			    a->version, a->type, mig_script_type(r));
	else if (!a->has_checksum || a->checksum != r->checksum)
		add_problem(plan, "CHECKSUM_MISMATCH", a->version, a->description,
			    "migration checksum mismatch for version %s: applied %s%d, resolved locally %d",
			    a->version, a->has_checksum ? "" : "(none) ",
			    a->has_checksum ? a->checksum : 0, r->checksum);
	else if (strcmp(a->description, desc.buf) != 0)
		add_problem(plan, "DESCRIPTION_MISMATCH", a->version, a->description,
			    "migration description mismatch for version %s: applied '%s', resolved locally '%s'",
			    a->version, a->description, desc.buf);
	strbuf_release(&desc);
}

static int resolve_target(const struct mig_plan_options *opts, const char *current,
			  char buf[MIG_VERSION_MAX + 1], const char **target,
			  struct infra_error *err)
{
	const char *t = opts->target;

	*target = NULL;
	if (t == NULL || t[0] == '\0' || strcmp(t, "latest") == 0)
		return 0;
	if (strcmp(t, "current") == 0) {
		*target = current ? current : "0";
		return 0;
	}
	if (mig_version_parse(t, strlen(t), buf, NULL) != 0)
		return infra_fail_field(err, "target",
					"target '%s' is not a version, 'latest' or 'current'", t);
	*target = buf;
	return 0;
}

int mig_plan_compute(struct mig_plan *plan, const struct mig_set *set,
		     const struct mig_history *h, const struct mig_plan_options *opts,
		     struct infra_error *err)
{
	const char *last_resolved = set->nversioned ? set->versioned[set->nversioned - 1].version : NULL;
	struct live live = { 0 };	/* versions in effect so far, by rank */
	const char *baseline = NULL, *target;
	char target_buf[MIG_VERSION_MAX + 1];
	size_t first_unapplied;
	size_t *next = next_rows(h);
	/* per script of the set: its applied row's info, or its latest run's */
	const struct mig_info **vinfo = mig_calloc(set->nversioned, sizeof(*vinfo));
	const struct mig_info **rinfo = mig_calloc(set->nrepeatable, sizeof(*rinfo));

	memset(plan, 0, sizeof(*plan));
	/* Infos are added as they are found, and later ones point at earlier
	 * ones through vinfo/rinfo, so room for all is made first. */
	plan->infos = mig_calloc(h->n + set->nversioned + set->nrepeatable, sizeof(*plan->infos));

	/* 1. The history, row by row. */
	for (size_t i = 0; i < h->n; i++) {
		const struct mig_applied *a = &h->rows[i];
		const struct mig_script *r = NULL;
		enum mig_state st;

		if (is_type(a, "SCHEMA")) {
			add_info(plan, MIG_STATE_SUCCESS, NULL, a);
			continue;
		}
		if (is_type(a, "BASELINE") || is_type(a, "INIT")) {
			add_info(plan, MIG_STATE_BASELINE, NULL, a);
			plan->baseline = a;
			if (a->version && (baseline == NULL || mig_version_cmp(a->version, baseline) > 0))
				baseline = a->version;
			continue;
		}
		plan->applied = true;
		if (a->version == NULL) {
			/* A repeatable: its latest run is what its file is
			 * compared with (none after a DELETE row: pending). */
			r = is_delete(a) ? NULL : find_repeatable(set, a->description);
			st = repeatable_state(h, next, i, r);
			if (r != NULL && st != MIG_STATE_SUPERSEDED && st != MIG_STATE_DELETED)
				rinfo[r - set->repeatable] = add_info(plan, st, r, a);
			else
				add_info(plan, st, r, a);
			continue;
		}
		if (!is_application(a)) {
			/* UNDO_SQL or DELETE rows record an action, applied as such. */
			if (is_delete(a) || a->success)
				live_remove(&live, a->version);
			if (is_type(a, "UNDO_SQL"))
				st = a->success ? MIG_STATE_SUCCESS : MIG_STATE_FAILED;
			else
				st = MIG_STATE_DELETED;
			add_info(plan, st, is_type(a, "UNDO_SQL") ? mig_set_find(set, MIG_UNDO, a->version) : NULL, a);
			continue;
		}
		r = mig_set_find(set, MIG_VERSIONED, a->version);
		st = versioned_state(h, next, i, r, last_resolved, live.newest);
		if (r != NULL && st != MIG_STATE_UNDONE && st != MIG_STATE_DELETED &&
		    st != MIG_STATE_SUPERSEDED)
			vinfo[r - set->versioned] = add_info(plan, st, r, a);
		else
			add_info(plan, st, r, a);
		if (a->success)
			live_add(&live, a->version);
	}
	free(live.v);
	/* The current version: the newest still-applied one, or the baseline. */
	for (size_t i = 0; i < plan->ninfos; i++) {
		const struct mig_info *in = &plan->infos[i];

		if ((in->state == MIG_STATE_SUCCESS || in->state == MIG_STATE_OUT_OF_ORDER ||
		     in->state == MIG_STATE_FUTURE_SUCCESS || in->state == MIG_STATE_MISSING_SUCCESS ||
		     in->state == MIG_STATE_BASELINE) &&
		    in->applied->version != NULL && !is_type(in->applied, "UNDO_SQL") &&
		    !is_type(in->applied, "SCHEMA") &&
		    (plan->current_version == NULL ||
		     mig_version_cmp(in->applied->version, plan->current_version) > 0))
			plan->current_version = in->applied->version;
	}
	if (resolve_target(opts, plan->current_version, target_buf, &target, err) != 0) {
		free(next);
		free(vinfo);
		free(rinfo);
		mig_plan_release(plan);
		return -1;
	}

	/* 2. Files not applied (or undone / deleted since). */
	first_unapplied = plan->ninfos;
	for (size_t i = 0; i < set->nversioned; i++) {
		const struct mig_script *r = &set->versioned[i];
		enum mig_state st;

		if (vinfo[i] != NULL)
			continue;	/* applied (or failed): in the history part */
		if (baseline && mig_version_cmp(r->version, baseline) <= 0)
			st = MIG_STATE_BELOW_BASELINE;
		else if (target && mig_version_cmp(r->version, target) > 0)
			st = MIG_STATE_ABOVE_TARGET;
		else if (plan->current_version && !opts->out_of_order &&
			 mig_version_cmp(r->version, plan->current_version) < 0)
			st = MIG_STATE_IGNORED;
		else
			st = MIG_STATE_PENDING;
		add_info(plan, st, r, NULL);
	}
	for (size_t i = 0; i < set->nrepeatable; i++)
		if (rinfo[i] == NULL)	/* never run */
			rinfo[i] = add_info(plan, MIG_STATE_PENDING, &set->repeatable[i], NULL);

	/* 3. What migrate applies: pending versions, then new or changed repeatables. */
	plan->pending = mig_calloc(1, (set->nversioned + set->nrepeatable) * sizeof(*plan->pending));
	for (size_t i = first_unapplied; i < plan->ninfos; i++)
		if (plan->infos[i].state == MIG_STATE_PENDING && plan->infos[i].resolved->version)
			plan->pending[plan->npending++] = plan->infos[i].resolved;
	for (size_t k = 0; k < set->nrepeatable; k++)
		if (rinfo[k]->state == MIG_STATE_OUTDATED || rinfo[k]->state == MIG_STATE_PENDING)
			plan->pending[plan->npending++] = rinfo[k]->resolved;
	free(next);
	free(vinfo);
	free(rinfo);

	/* 4. Problems, in info order. */
	for (size_t i = 0; i < plan->ninfos; i++) {
		const struct mig_info *in = &plan->infos[i];
		const struct mig_applied *a = in->applied;
		const char *v = a ? a->version : in->resolved->version;
		const char *d = a ? a->description : in->resolved->description;

		switch (in->state) {
		case MIG_STATE_FAILED:
		case MIG_STATE_MISSING_FAILED:
		case MIG_STATE_FUTURE_FAILED:
			plan->failed = true;
			if (v)
				add_problem(plan, "FAILED_VERSIONED_MIGRATION", v, d,
					    "detected failed migration to version %s (%s): repair it first",
					    v, d);
			else
				add_problem(plan, "FAILED_REPEATABLE_MIGRATION", NULL, d,
					    "detected failed repeatable migration '%s': repair it first", d);
			break;
		case MIG_STATE_MISSING_SUCCESS:
			if (v)
				add_problem(plan, "APPLIED_VERSIONED_MIGRATION_NOT_RESOLVED", v, d,
					    "detected applied migration not resolved locally: %s", v);
			else
				add_problem(plan, "APPLIED_REPEATABLE_MIGRATION_NOT_RESOLVED", NULL, d,
					    "detected applied repeatable migration not resolved locally: '%s'",
					    d);
			break;
		case MIG_STATE_IGNORED:
			add_problem(plan, "RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED", v, d,
				    "detected resolved migration not applied to database: %s (older than the current version %s; use out-of-order to apply it)",
				    v, plan->current_version);
			break;
		case MIG_STATE_PENDING:
			if (!opts->pending_is_problem)
				break;
			if (v)
				add_problem(plan, "RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED", v, d,
					    "detected resolved migration not applied to database: %s", v);
			else
				add_problem(plan, "RESOLVED_REPEATABLE_MIGRATION_NOT_APPLIED", NULL, d,
					    "detected resolved repeatable migration not applied to database: '%s'",
					    d);
			break;
		case MIG_STATE_OUTDATED:
			if (opts->pending_is_problem)
				add_problem(plan, "OUTDATED_REPEATABLE_MIGRATION", NULL, d,
					    "detected outdated resolved repeatable migration that should be re-applied: '%s'",
					    d);
			break;
		case MIG_STATE_SUCCESS:
		case MIG_STATE_OUT_OF_ORDER:
			if (a && v && in->resolved && is_application(a) &&
			    (baseline == NULL || mig_version_cmp(v, baseline) > 0))
				check_mismatch(plan, in);
			break;
		default:
			break;
		}
	}
	return 0;
}

void mig_plan_release(struct mig_plan *plan)
{
	free(plan->infos);
	free(plan->pending);
	free(plan->problems);
	memset(plan, 0, sizeof(*plan));
}

void mig_repair_compute(struct mig_repair *r, const struct mig_plan *plan)
{
	memset(r, 0, sizeof(*r));
	r->align = mig_calloc(1, plan->ninfos * sizeof(*r->align));
	r->missing = mig_calloc(1, plan->ninfos * sizeof(*r->missing));
	for (size_t i = 0; i < plan->ninfos; i++) {
		const struct mig_info *in = &plan->infos[i];
		const struct mig_applied *a = in->applied;

		if (a == NULL)
			continue;
		if (!a->success) {
			r->nfailed++;
			continue;
		}
		if (!is_application(a))
			continue;
		/* A missing repeatable is only its latest run: the older
		 * ones are superseded. */
		if (in->state == MIG_STATE_MISSING_SUCCESS) {
			r->missing[r->nmissing++] = in;
		} else if ((in->state == MIG_STATE_SUCCESS || in->state == MIG_STATE_OUT_OF_ORDER) &&
			   a->version != NULL && in->resolved) {
			struct strbuf desc = STRBUF_INIT;

			mig_history_abbreviate_description(&desc, in->resolved->description);
			if (strcmp(a->type, mig_script_type(in->resolved)) != 0 || !a->has_checksum ||
			    a->checksum != in->resolved->checksum || strcmp(a->description, desc.buf) != 0)
				r->align[r->nalign++] = in;
			strbuf_release(&desc);
		}
	}
}

void mig_repair_release(struct mig_repair *r)
{
	free(r->align);
	free(r->missing);
	memset(r, 0, sizeof(*r));
}

static int cmp_version_desc(const void *a, const void *b)
{
	return mig_version_cmp((*(const struct mig_script *const *)b)->version,
			       (*(const struct mig_script *const *)a)->version);
}

int mig_plan_undo(const struct mig_plan *plan, const struct mig_set *set, const char *target,
		  const struct mig_script ***out, size_t *n, struct infra_error *err)
{
	char tbuf[MIG_VERSION_MAX + 1];
	const struct mig_script **list;
	struct strbuf missing = STRBUF_INIT;
	const struct mig_info *newest = NULL;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (target != NULL && mig_version_parse(target, strlen(target), tbuf, NULL) != 0)
		return infra_fail_field(err, "target", "target '%s' is not a version", target);
	if (plan->failed)
		return infra_fail(err, INFRA_EMIGRATION,
				  "a failed migration is recorded: repair before undoing");
	list = mig_calloc(1, plan->ninfos * sizeof(*list));
	for (size_t i = 0; i < plan->ninfos; i++) {
		const struct mig_info *in = &plan->infos[i];
		const struct mig_applied *a = in->applied;
		const struct mig_script *u;

		if (a == NULL || a->version == NULL || !is_application(a) ||
		    (in->state != MIG_STATE_SUCCESS && in->state != MIG_STATE_OUT_OF_ORDER &&
		     in->state != MIG_STATE_MISSING_SUCCESS && in->state != MIG_STATE_FUTURE_SUCCESS))
			continue;
		if (target == NULL) {
			if (newest == NULL || mig_version_cmp(a->version, newest->applied->version) > 0)
				newest = in;
			continue;
		}
		if (mig_version_cmp(a->version, tbuf) <= 0)
			continue;
		u = mig_set_find(set, MIG_UNDO, a->version);
		if (u == NULL)
			strbuf_addf(&missing, "%s%s", missing.len ? ", " : "", a->version);
		else
			list[count++] = u;
	}
	if (newest != NULL) {
		const struct mig_script *u = mig_set_find(set, MIG_UNDO, newest->applied->version);

		if (u == NULL)
			strbuf_addstr(&missing, newest->applied->version);
		else
			list[count++] = u;
	}
	if (missing.len > 0) {
		infra_fail(err, INFRA_EMIGRATION, "no undo script (U<version>__…sql) for version %s",
			   missing.buf);
		strbuf_release(&missing);
		free(list);
		return -1;
	}
	if (count == 0) {
		free(list);
		return 0;
	}
	qsort(list, count, sizeof(*list), cmp_version_desc);
	*out = list;
	*n = count;
	return 0;
}
