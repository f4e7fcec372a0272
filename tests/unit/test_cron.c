/* test_cron.c — cron expressions: what parses (lists, ranges, steps, names,
 * shorthands) and what is refused with the field named; the next firing
 * time across month ends, leap years, the day-of-month / day-of-week OR
 * rule and steps. */
#include <string.h>

#include "cron.h"
#include "timeutil.h"
#include "unit.h"

static int64_t at(const char *iso)
{
	int64_t t = 0;

	CU_ASSERT_EQUAL_FATAL(time_parse_iso8601(iso, &t), 0);
	return t;
}

/* cron_next of `expr` after `after`, as ISO 8601 ("never" for -1). */
static const char *next_of(const char *expr, const char *after)
{
	static char buf[ISO8601_MAX];
	char why[CRON_WHY_MAX];
	struct cron c;
	int64_t t;

	if (cron_parse(&c, expr, why) != 0) {
		CU_FAIL("expression did not parse");
		return "unparsed";
	}
	t = cron_next(&c, at(after));
	return t < 0 ? "never" : time_iso8601(buf, t);
}

static void test_parse_fields(void)
{
	char why[CRON_WHY_MAX];
	struct cron c;

	CU_ASSERT_EQUAL(cron_parse(&c, "* * * * *", why), 0);
	CU_ASSERT_EQUAL(c.minute, (UINT64_C(1) << 60) - 1);
	CU_ASSERT_EQUAL(c.hour, (UINT32_C(1) << 24) - 1);
	CU_ASSERT_EQUAL(c.dom, ((UINT32_C(1) << 31) - 1) << 1);
	CU_ASSERT_EQUAL(c.month, 0x1ffe);
	CU_ASSERT_EQUAL(c.dow, 0x7f);
	CU_ASSERT_TRUE(c.dom_star && c.dow_star);

	CU_ASSERT_EQUAL(cron_parse(&c, "0,15,30,45 */6 1-10/3 JAN-mar,dec mon-fri", why), 0);
	CU_ASSERT_EQUAL(c.minute, (UINT64_C(1) << 0) | (UINT64_C(1) << 15) | (UINT64_C(1) << 30) |
			(UINT64_C(1) << 45));
	CU_ASSERT_EQUAL(c.hour, (1u << 0) | (1u << 6) | (1u << 12) | (1u << 18));
	CU_ASSERT_EQUAL(c.dom, (1u << 1) | (1u << 4) | (1u << 7) | (1u << 10));
	CU_ASSERT_EQUAL(c.month, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 12));
	CU_ASSERT_EQUAL(c.dow, 0x3e);
	CU_ASSERT_FALSE(c.dom_star || c.dow_star);

	/* 7 is Sunday as well; a range through 7 wraps into bit 0 */
	CU_ASSERT_EQUAL(cron_parse(&c, "0 0 * * 7", why), 0);
	CU_ASSERT_EQUAL(c.dow, 0x01);
	CU_ASSERT_EQUAL(cron_parse(&c, "0 0 * * 5-7", why), 0);
	CU_ASSERT_EQUAL(c.dow, 0x61);
	/* a step over '*' starting the field still counts as '*' (Vixie) */
	CU_ASSERT_EQUAL(cron_parse(&c, "0 0 */2 * mon", why), 0);
	CU_ASSERT_TRUE(c.dom_star);
	CU_ASSERT_FALSE(c.dow_star);
	/* blanks around and between fields */
	CU_ASSERT_EQUAL(cron_parse(&c, "  5\t4  * * *  ", why), 0);
	CU_ASSERT_EQUAL(c.minute, UINT64_C(1) << 5);
}

static void test_shorthands(void)
{
	char why[CRON_WHY_MAX];
	struct cron a, b;

	CU_ASSERT_EQUAL(cron_parse(&a, "@daily", why), 0);
	CU_ASSERT_EQUAL(cron_parse(&b, "0 0 * * *", why), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_EQUAL(cron_parse(&a, "@HOURLY", why), 0);
	CU_ASSERT_EQUAL(a.minute, 1);
	CU_ASSERT_EQUAL(cron_parse(&a, "@fortnightly", why), -1);
}

/* Each bad expression, and the field its message must name. */
static void test_parse_invalid(void)
{
	static const char *const bad[][2] = {
		{ "", "characters" }, { "* * * *", "expected 5 fields" },
		{ "* * * * * *", "expected 5 fields" },
		{ "60 * * * *", "minute" }, { "-1 * * * *", "minute" }, { "* 24 * * *", "hour" },
		{ "* * 0 * *", "day-of-month" }, { "* * 32 * *", "day-of-month" },
		{ "* * * 13 *", "month" }, { "* * * 0 *", "month" }, { "* * * * 8", "day-of-week" },
		{ "5-1 * * * *", "minute" }, { "*/0 * * * *", "minute" }, { "5/10 * * * *", "minute" },
		{ "* * * foo *", "month" }, { "* * * * monday", "day-of-week" },
		{ "* * * jan-xyz *", "month" }, { "1,,2 * * * *", "minute" }, { "1, * * * *", "minute" },
		{ "* */ * * *", "hour" }, { "* * * * 1-", "day-of-week" }, { "a * * * *", "minute" },
		{ "*/61 * * * *", "minute" }, { "00000 * * * *", "minute" },
		{ "@sometimes", "shorthand" },
	};
	char why[CRON_WHY_MAX];
	struct cron c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(cron_parse(&c, bad[i][0], why), -1);
		if (strstr(why, bad[i][1]) == NULL) {
			fprintf(stderr, "'%s': '%s' does not name '%s'\n", bad[i][0], why, bad[i][1]);
			CU_FAIL("the message does not name the field");
		}
	}
	/* An out-of-range number is quoted as given, never cut short. */
	{
		static const char *const quoted[][2] = {
			{ "4294967296 * * * *", "minute: 4294967296 is outside 0-59" },
			{ "* * * * 18446744073709551616", "day-of-week: 18446744073709551616 is outside 0-7" },
			{ "0 0 99999 * *", "day-of-month: 99999 is outside 1-31" },
			{ "0 0 1-123456789 * *", "day-of-month: 123456789 is outside 1-31" },
			{ "* 25 * * *", "hour: 25 is outside 0-23" },
			{ "1234567890123456789012345678901234567890123456789 * * * *",
			  "minute: a number of 49 digits is outside 0-59" },
		};

		for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++) {
			CU_ASSERT_EQUAL(cron_parse(&c, quoted[i][0], why), -1);
			if (strcmp(why, quoted[i][1]) != 0)
				fprintf(stderr, "'%s': '%s', wanted '%s'\n", quoted[i][0], why, quoted[i][1]);
			CU_ASSERT_STRING_EQUAL(why, quoted[i][1]);
		}
	}
	{
		char longexpr[CRON_EXPR_MAX + 2];

		memset(longexpr, '1', sizeof(longexpr) - 1);
		longexpr[sizeof(longexpr) - 1] = '\0';
		CU_ASSERT_EQUAL(cron_parse(&c, longexpr, why), -1);
	}
}

static void test_next_basic(void)
{
	CU_ASSERT_STRING_EQUAL(next_of("* * * * *", "2026-11-22T10:00:00Z"), "2026-11-22T10:01:00Z");
	/* strictly after: a time on the minute is not its own next */
	CU_ASSERT_STRING_EQUAL(next_of("* * * * *", "2026-11-22T10:00:59Z"), "2026-11-22T10:01:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("*/5 * * * *", "2026-11-22T10:02:30Z"), "2026-11-22T10:05:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("*/5 * * * *", "2026-11-22T10:55:00Z"), "2026-11-22T11:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("1-10/2 * * * *", "2026-11-22T10:04:00Z"), "2026-11-22T10:05:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("1-10/2 * * * *", "2026-11-22T10:09:00Z"), "2026-11-22T11:01:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("30 2 * * *", "2026-11-22T10:00:00Z"), "2026-11-23T02:30:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("@hourly", "2026-11-22T23:30:00Z"), "2026-11-23T00:00:00Z");
	/* year end */
	CU_ASSERT_STRING_EQUAL(next_of("0 0 1 1 *", "2026-12-31T23:59:00Z"), "2027-01-01T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("59 23 31 12 *", "2026-12-31T23:59:00Z"), "2027-12-31T23:59:00Z");
}

static void test_next_month_ends(void)
{
	/* the 31st skips the months that have none */
	CU_ASSERT_STRING_EQUAL(next_of("0 0 31 * *", "2026-01-31T00:00:00Z"), "2026-03-31T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 0 31 * *", "2026-04-01T00:00:00Z"), "2026-05-31T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 12 30 * *", "2026-01-30T12:00:00Z"), "2026-03-30T12:00:00Z");
	/* never: February 30th */
	CU_ASSERT_STRING_EQUAL(next_of("0 0 30 2 *", "2026-01-01T00:00:00Z"), "never");
	CU_ASSERT_STRING_EQUAL(next_of("0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z"), "never");
}

static void test_next_leap_years(void)
{
	CU_ASSERT_STRING_EQUAL(next_of("0 0 29 2 *", "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 0 29 2 *", "2028-02-29T00:00:00Z"), "2032-02-29T00:00:00Z");
	/* 2100 is not a leap year: from 2097, the next 29 February is 2104 */
	CU_ASSERT_STRING_EQUAL(next_of("0 0 29 2 *", "2097-01-01T00:00:00Z"), "2104-02-29T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 0 28 2 *", "2028-02-28T00:00:00Z"), "2029-02-28T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 0 1 3 *", "2028-02-28T12:00:00Z"), "2028-03-01T00:00:00Z");
}

static void test_next_dom_dow(void)
{
	/* both restricted: either matches (the 1st, or a Monday) —
	 * 2026-11-22 is a Sunday */
	CU_ASSERT_STRING_EQUAL(next_of("0 0 1 * mon", "2026-11-22T00:00:00Z"), "2026-11-23T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 0 1 * mon", "2026-11-30T00:00:00Z"), "2026-12-01T00:00:00Z");
	/* one of them '*': both must match, i.e. the other alone decides */
	CU_ASSERT_STRING_EQUAL(next_of("0 0 * * mon", "2026-11-22T00:00:00Z"), "2026-11-23T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 0 1 * *", "2026-11-22T00:00:00Z"), "2026-12-01T00:00:00Z");
	/* '*' with a step still counts as '*': every other day AND Monday */
	CU_ASSERT_STRING_EQUAL(next_of("0 0 */2 * mon", "2026-11-22T00:00:00Z"), "2026-11-23T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 0 */2 * mon", "2026-11-23T00:00:00Z"), "2026-12-07T00:00:00Z");
	/* Friday the 13th only through AND is impossible here; with OR: */
	CU_ASSERT_STRING_EQUAL(next_of("0 0 13 * fri", "2026-11-22T00:00:00Z"), "2026-11-27T00:00:00Z");
	/* Sunday as 0 and as 7 */
	CU_ASSERT_STRING_EQUAL(next_of("0 9 * * 0", "2026-11-22T10:00:00Z"), "2026-11-29T09:00:00Z");
	CU_ASSERT_STRING_EQUAL(next_of("0 9 * * 7", "2026-11-22T08:00:00Z"), "2026-11-22T09:00:00Z");
	/* weekdays at 08:30 from a Friday evening */
	CU_ASSERT_STRING_EQUAL(next_of("30 8 * * 1-5", "2026-11-27T20:00:00Z"), "2026-11-30T08:30:00Z");
}

static void test_matches(void)
{
	char why[CRON_WHY_MAX];
	struct cron c;

	CU_ASSERT_EQUAL_FATAL(cron_parse(&c, "*/15 9-17 * * mon-fri", why), 0);
	CU_ASSERT_TRUE(cron_matches(&c, at("2026-11-23T09:15:42Z")));
	CU_ASSERT_FALSE(cron_matches(&c, at("2026-11-23T09:16:00Z")));
	CU_ASSERT_FALSE(cron_matches(&c, at("2026-11-22T09:15:00Z")));	/* Sunday */
	CU_ASSERT_FALSE(cron_matches(&c, at("2026-11-23T18:00:00Z")));
}

static CU_TestInfo tests[] = {
	{ "fields: lists, ranges, steps, names", test_parse_fields },
	{ "shorthands", test_shorthands },
	{ "invalid expressions name their field", test_parse_invalid },
	{ "next: minutes, hours, steps, year end", test_next_basic },
	{ "next: month ends and impossible dates", test_next_month_ends },
	{ "next: leap years", test_next_leap_years },
	{ "next: day-of-month / day-of-week OR rule", test_next_dom_dow },
	{ "matches", test_matches },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("cron", tests)
