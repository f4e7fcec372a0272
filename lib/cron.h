/* cron.h — 5-field cron expressions (minute hour day-of-month month
 * day-of-week, UTC), as Vixie cron reads them, and the next time one fires.
 * Pure functions: no clock, no I/O; the schedules runner and the request
 * validation both use them. */
#ifndef INFRA_CRON_H
#define INFRA_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 5 fields, in the order they are written. */
enum cron_field {
	CRON_MINUTE,		/* 0-59 */
	CRON_HOUR,		/* 0-23 */
	CRON_DOM,		/* 1-31 */
	CRON_MONTH,		/* 1-12 or jan-dec */
	CRON_DOW,		/* 0-7 (0 and 7 are Sunday) or sun-sat */
	CRON_NFIELDS
};

/* A parsed expression: one bit per allowed value of each field. */
struct cron {
	uint64_t minute;	/* bits 0..59 */
	uint32_t hour;		/* bits 0..23 */
	uint32_t dom;		/* bits 1..31 */
	uint16_t month;		/* bits 1..12 */
	uint8_t dow;		/* bits 0..6, Sunday 0 */
	/* Vixie cron: a day-of-month or day-of-week field that starts with
	 * '*' does not restrict on its own. When both are restricted, a day
	 * matches if EITHER matches ("0 0 1 * mon": the 1st and every
	 * Monday); otherwise both must. */
	bool dom_star, dow_star;
};

#define CRON_EXPR_MAX 200	/* longest expression accepted */
#define CRON_WHY_MAX 160

/* The name of field `f` as messages write it ("minute", "day-of-week"…). */
const char *cron_field_name(enum cron_field f);

/* Parse `expr`: five fields separated by blanks, each a comma-separated
 * list of `*`, `N`, `N-M`, `*` or `N-M` followed by `/STEP`; months and
 * days of the week also by their three-letter English names (any case);
 * or one of @yearly @annually @monthly @weekly @daily @midnight @hourly.
 * Returns 0 with `out` filled, or -1 with `why` (CRON_WHY_MAX bytes) naming
 * the field and what is wrong with it ("day-of-week: 8 is outside 0-7"). */
int cron_parse(struct cron *out, const char *expr, char why[CRON_WHY_MAX]);

/* Whether `c` fires at the minute starting at `t` (seconds since the
 * epoch, UTC; seconds within the minute are ignored). */
bool cron_matches(const struct cron *c, int64_t t);

/* The first minute strictly after `after` (seconds since the epoch, UTC)
 * at which `c` fires, as seconds since the epoch; -1 when it never fires
 * within the next 10 years (e.g. "0 0 30 2 *", February 30th). */
int64_t cron_next(const struct cron *c, int64_t after);

#endif
