/* cron.c — parsing 5-field cron expressions into bit sets and finding the
 * next minute they fire (see cron.h). Follows Vixie cron: ranges do not
 * wrap, a step needs `*` or a range, 7 is Sunday too, and the day-of-month
 * / day-of-week OR rule applies only when neither field starts with `*`. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

#define CRON_HORIZON_S ((int64_t)10 * 366 * 86400)	/* how far cron_next looks */
#define CRON_NUMBER_QUOTE_MAX 40	/* longest number quoted whole in a message */

static const struct cron_spec {
	const char *name;
	int min, max;
	const char *const *names;	/* names[i] is value min + i, or NULL */
} specs[CRON_NFIELDS] = {
	[CRON_MINUTE] = { "minute", 0, 59, NULL },
	[CRON_HOUR] = { "hour", 0, 23, NULL },
	[CRON_DOM] = { "day-of-month", 1, 31, NULL },
	[CRON_MONTH] = { "month", 1, 12, (const char *const[]){
		"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL } },
	[CRON_DOW] = { "day-of-week", 0, 7, (const char *const[]){
		"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL } },
};

static const struct {
	const char *name;
	const char *expr;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

const char *cron_field_name(enum cron_field f)
{
	return (unsigned)f < CRON_NFIELDS ? specs[f].name : "?";
}

/* The message for the `n` digits at `s`, a number outside `spec`'s range
 * (more than 4 digits always is): the number as given, never cut short,
 * or its length when it would not fit the message. Returns -1. */
static int out_of_range(const struct cron_spec *spec, const char *s, int n, char *why)
{
	if (n <= CRON_NUMBER_QUOTE_MAX)
		snprintf(why, CRON_WHY_MAX, "%s: %.*s is outside %d-%d", spec->name, n, s,
			 spec->min, spec->max);
	else
		snprintf(why, CRON_WHY_MAX, "%s: a number of %d digits is outside %d-%d",
			 spec->name, n, spec->min, spec->max);
	return -1;
}

/* One value of field `spec` at *p (a number, or a name where the field
 * has names); advances *p. Returns 0, or -1 with `why`. */
static int parse_value(const struct cron_spec *spec, const char **p, int *out, char *why)
{
	const char *s = *p;
	long v = 0;
	int n = 0;

	if (isdigit((unsigned char)*s)) {
		n = (int)strspn(s, "0123456789");
		for (int i = 0; i < n && i < 4; i++)
			v = v * 10 + (s[i] - '0');
		if (n > 4 || v < spec->min || v > spec->max)
			return out_of_range(spec, s, n, why);
		*out = (int)v;
		*p = s + n;
		return 0;
	}
	for (int i = 0; spec->names != NULL && spec->names[i] != NULL; i++) {
		if (strncasecmp(s, spec->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
			*out = spec->min + i;
			*p = s + 3;
			return 0;
		}
	}
	n = (int)strcspn(s, ",-/");
	if (n == 0)
		n = *s ? 1 : 0;
	snprintf(why, CRON_WHY_MAX, "%s: '%.*s' is not a %s", spec->name, n > 20 ? 20 : n, s,
		 spec->names ? "number or a three-letter name" : "number");
	return -1;
}

/* One list item ("*", "N", "N-M", with "/STEP") of `text` (NUL-terminated,
 * no comma) into `bits`. Returns 0, or -1 with `why`. */
static int parse_item(const struct cron_spec *spec, const char *text, uint64_t *bits, char *why)
{
	const char *p = text;
	int low, high, step = 1;
	bool range = false;

	if (*p == '\0') {
		snprintf(why, CRON_WHY_MAX, "%s: an empty list item", spec->name);
		return -1;
	}
	if (*p == '*') {
		low = spec->min;
		high = spec->max;
		range = true;
		p++;
	} else {
		if (parse_value(spec, &p, &low, why) != 0)
			return -1;
		high = low;
		if (*p == '-') {
			p++;
			if (parse_value(spec, &p, &high, why) != 0)
				return -1;
			if (high < low) {
				snprintf(why, CRON_WHY_MAX, "%s: the range %s is reversed (ranges do not wrap)",
					 spec->name, text);
				return -1;
			}
			range = true;
		}
	}
	if (*p == '/') {
		long v = 0;
		int n = 0;

		p++;
		while (isdigit((unsigned char)p[n]) && n < 3)
			v = v * 10 + (p[n++] - '0');
		if (!range || n == 0 || p[n] != '\0' || v < 1 || v > spec->max) {
			snprintf(why, CRON_WHY_MAX, range
				 ? "%s: the step in '%s' must be a number from 1 to %d"
				 : "%s: a step needs * or a range before it ('%s'; max %d)",
				 spec->name, text, spec->max);
			return -1;
		}
		step = (int)v;
		p += n;
	}
	if (*p != '\0') {
		snprintf(why, CRON_WHY_MAX, "%s: unexpected '%.10s' in '%.40s'", spec->name, p, text);
		return -1;
	}
	for (int v = low; v <= high; v += step)
		*bits |= UINT64_C(1) << v;
	return 0;
}

/* Field `f` of text `text` (NUL-terminated) into `bits`. */
static int parse_field(enum cron_field f, char *text, uint64_t *bits, char *why)
{
	char *save = NULL, *item;
	char *p = text;

	*bits = 0;
	if (text[0] == ',' || text[strlen(text) - 1] == ',' || strstr(text, ",,") != NULL) {
		snprintf(why, CRON_WHY_MAX, "%s: an empty list item", specs[f].name);
		return -1;
	}
	while ((item = strtok_r(p, ",", &save)) != NULL) {
		p = NULL;
		if (parse_item(&specs[f], item, bits, why) != 0)
			return -1;
	}
	return 0;
}

int cron_parse(struct cron *out, const char *expr, char why[CRON_WHY_MAX])
{
	char buf[CRON_EXPR_MAX + 1], *fields[CRON_NFIELDS + 1], *save = NULL, *tok, *p;
	uint64_t bits[CRON_NFIELDS];
	size_t len = strlen(expr);
	int n = 0;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (len == 0 || len > CRON_EXPR_MAX) {
		snprintf(why, CRON_WHY_MAX, "must be 1-%d characters", CRON_EXPR_MAX);
		return -1;
	}
	while (*expr == ' ' || *expr == '\t')
		expr++;
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcasecmp(expr, macros[i].name) == 0)
			return cron_parse(out, macros[i].expr, why);
	if (*expr == '@') {
		snprintf(why, CRON_WHY_MAX, "unknown shorthand; use @yearly, @annually, @monthly, "
			 "@weekly, @daily, @midnight or @hourly");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", expr);
	for (p = buf; (tok = strtok_r(p, " \t", &save)) != NULL && n <= CRON_NFIELDS; p = NULL)
		fields[n++] = tok;
	if (n != CRON_NFIELDS) {
		snprintf(why, CRON_WHY_MAX, "expected 5 fields (minute hour day-of-month month "
			 "day-of-week), found %s%d", n > CRON_NFIELDS ? "more than " : "",
			 n > CRON_NFIELDS ? CRON_NFIELDS : n);
		return -1;
	}
	for (int f = 0; f < CRON_NFIELDS; f++)
		if (parse_field((enum cron_field)f, fields[f], &bits[f], why) != 0)
			return -1;
	out->minute = bits[CRON_MINUTE];
	out->hour = (uint32_t)bits[CRON_HOUR];
	out->dom = (uint32_t)bits[CRON_DOM];
	out->month = (uint16_t)bits[CRON_MONTH];
	/* 7 is Sunday as well as 0 */
	out->dow = (uint8_t)((bits[CRON_DOW] | bits[CRON_DOW] >> 7) & 0x7f);
	out->dom_star = fields[CRON_DOM][0] == '*';
	out->dow_star = fields[CRON_DOW][0] == '*';
	return 0;
}

static bool day_matches(const struct cron *c, int mday, int wday)
{
	bool dom = (c->dom >> mday) & 1, dow = (c->dow >> wday) & 1;

	return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

bool cron_matches(const struct cron *c, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return false;
	return ((c->month >> (tm.tm_mon + 1)) & 1) && day_matches(c, tm.tm_mday, tm.tm_wday) &&
	       ((c->hour >> tm.tm_hour) & 1) && ((c->minute >> tm.tm_min) & 1);
}

int64_t cron_next(const struct cron *c, int64_t after)
{
	/* The next whole minute (floor division: `after` may be negative). */
	int64_t t = (after >= 0 ? after / 60 : (after - 59) / 60) * 60 + 60;
	int64_t limit = t + CRON_HORIZON_S;
	struct tm tm;

	while (t <= limit) {
		time_t tt = (time_t)t;

		if (gmtime_r(&tt, &tm) == NULL)
			return -1;
		/* Skip whole months, days and hours that cannot match;
		 * timegm() normalises the overflowing field. */
		if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!day_matches(c, tm.tm_mday, tm.tm_wday)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = tm.tm_sec = 0;
		} else if (!((c->minute >> tm.tm_min) & 1)) {
			t += 60;
			continue;
		} else {
			return t;
		}
		t = (int64_t)timegm(&tm);
	}
	return -1;
}
