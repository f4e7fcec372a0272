/* test_schedule.c — schedules without a database: the body's field table
 * (cron or run_at, the execute fields, every problem at once, which cron
 * field is wrong), the next run after an occurrence (missed ones collapse),
 * and the backoff retries share. */
#include <string.h>

#include "alert.h"
#include "backoff.h"
#include "schedule.h"
#include "timeutil.h"
#include "unit.h"

#define NOW 1795341600	/* 2026-11-22T10:00:00Z */
#define DB "\"database_id\":\"0b7c7c55-8f3e-4c1e-9d0a-3c4c2b1a0f00\""

/* The problem `field` of `problems`, or "". */
static const char *problem(json_object *problems, const char *field)
{
	json_object *v;

	return problems && json_object_object_get_ex(problems, field, &v) ? json_object_get_string(v) : "";
}

static void test_cron_body(void)
{
	json_object *body = unit_json("{\"name\":\"nightly\",\"scope\":\"single\"," DB ",\"cron\":\"30 2 * * *\","
				  "\"target_version\":\"5\"}");
	json_object *problems = NULL, *v;
	struct schedule_input in;
	char ts[ISO8601_MAX];

	CU_ASSERT_EQUAL_FATAL(schedule_input_parse(body, NOW, &in, &problems), 0);
	CU_ASSERT_STRING_EQUAL(in.name, "nightly");
	CU_ASSERT_STRING_EQUAL(in.cron, "30 2 * * *");
	CU_ASSERT_TRUE(in.enabled);
	CU_ASSERT_EQUAL(in.run_at, 0);
	CU_ASSERT_STRING_EQUAL(time_iso8601(ts, in.next_run_at), "2026-11-23T02:30:00Z");
	CU_ASSERT_EQUAL(in.req.scope, EXEC_SCOPE_SINGLE);
	CU_ASSERT_STRING_EQUAL(in.req.target_version, "5");
	/* the stored request holds the execute fields only */
	CU_ASSERT_EQUAL(json_object_object_length(in.request), 3);
	CU_ASSERT_FALSE(json_object_object_get_ex(in.request, "cron", NULL));
	CU_ASSERT_TRUE(json_object_object_get_ex(in.request, "scope", &v));
	schedule_input_release(&in);
	json_object_put(body);
}

static void test_run_at_body(void)
{
	json_object *body = unit_json("{\"name\":\"once\",\"scope\":\"all\",\"run_at\":\"2026-11-22T12:00:00Z\","
				  "\"enabled\":false}");
	json_object *problems = NULL;
	struct schedule_input in;

	CU_ASSERT_EQUAL_FATAL(schedule_input_parse(body, NOW, &in, &problems), 0);
	CU_ASSERT_PTR_NULL(in.cron);
	CU_ASSERT_EQUAL(in.run_at, NOW + 7200);
	CU_ASSERT_EQUAL(in.next_run_at, NOW + 7200);
	CU_ASSERT_FALSE(in.enabled);
	schedule_input_release(&in);
	json_object_put(body);

	/* a run_at a moment ago is "now"; a minute and more is the past */
	body = unit_json("{\"name\":\"once\",\"scope\":\"all\",\"run_at\":\"2026-11-22T09:59:30Z\"}");
	CU_ASSERT_EQUAL(schedule_input_parse(body, NOW, &in, &problems), 0);
	schedule_input_release(&in);
	json_object_put(body);
	body = unit_json("{\"name\":\"once\",\"scope\":\"all\",\"run_at\":\"2026-11-22T09:58:59Z\"}");
	CU_ASSERT_EQUAL(schedule_input_parse(body, NOW, &in, &problems), -1);
	CU_ASSERT_STRING_EQUAL(problem(problems, "run_at"), "is in the past");
	json_object_put(problems);
	json_object_put(body);
}

static void test_problems(void)
{
	static const struct {
		const char *body;
		const char *field;
		const char *starts;
	} cases[] = {
		{ "{\"name\":\"x\",\"scope\":\"all\",\"cron\":\"* * 32 * *\"}", "cron", "day-of-month: 32" },
		{ "{\"name\":\"x\",\"scope\":\"all\",\"cron\":\"* * * * sunday\"}", "cron", "day-of-week" },
		{ "{\"name\":\"x\",\"scope\":\"all\",\"cron\":\"0 0 31 2 *\"}", "cron", "never fires" },
		{ "{\"name\":\"x\",\"scope\":\"all\",\"cron\":5}", "cron", "must be a string" },
		{ "{\"name\":\"x\",\"scope\":\"all\"}", "cron", "one of cron" },
		{ "{\"name\":\"x\",\"scope\":\"all\",\"cron\":\"@daily\",\"run_at\":\"2027-01-01T00:00:00Z\"}",
		  "run_at", "give either" },
		{ "{\"name\":\"x\",\"scope\":\"all\",\"run_at\":\"tomorrow\"}", "run_at", "must be an ISO 8601" },
		{ "{\"name\":\"x y\",\"scope\":\"all\",\"cron\":\"@daily\"}", "name", "must be 1-100" },
		{ "{\"scope\":\"all\",\"cron\":\"@daily\"}", "name", "is required" },
		{ "{\"name\":\"x\",\"scope\":\"single\",\"cron\":\"@daily\"}", "database_id", "is required" },
		{ "{\"name\":\"x\",\"scope\":\"all\",\"cron\":\"@daily\",\"dry_run\":true}", "dry_run", "unknown" },
		{ "{\"name\":\"x\",\"scope\":\"all\",\"cron\":\"@daily\",\"enabled\":\"yes\"}", "enabled", "must be" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *body = unit_json(cases[i].body), *problems = NULL;
		struct schedule_input in;
		const char *got;

		CU_ASSERT_EQUAL(schedule_input_parse(body, NOW, &in, &problems), -1);
		got = problem(problems, cases[i].field);
		if (strncmp(got, cases[i].starts, strlen(cases[i].starts)) != 0) {
			fprintf(stderr, "%s: %s is '%s'\n", cases[i].body, cases[i].field, got);
			CU_FAIL("the field's problem is not the expected one");
		}
		json_object_put(problems);
		json_object_put(body);
	}
}

static void test_next_after(void)
{
	char why[CRON_WHY_MAX], ts[ISO8601_MAX];
	struct cron c;
	int64_t due = NOW;	/* 10:00 */

	CU_ASSERT_EQUAL_FATAL(cron_parse(&c, "*/5 * * * *", why), 0);
	/* fired on time: the next occurrence */
	CU_ASSERT_STRING_EQUAL(time_iso8601(ts, schedule_next_after(&c, due, due + 3)),
			       "2026-11-22T10:05:00Z");
	/* fired 17 minutes late (three occurrences missed): once, then after now */
	CU_ASSERT_STRING_EQUAL(time_iso8601(ts, schedule_next_after(&c, due, due + 17 * 60)),
			       "2026-11-22T10:20:00Z");
	/* a clock behind the occurrence never fires it again */
	CU_ASSERT_STRING_EQUAL(time_iso8601(ts, schedule_next_after(&c, due, due - 30)),
			       "2026-11-22T10:05:00Z");
}

static void test_backoff(void)
{
	/* attempt n: base·2^(n-1), half fixed and half random, capped */
	CU_ASSERT_EQUAL(backoff_ms(1, 1000, 300000, 0), 500);
	CU_ASSERT_EQUAL(backoff_ms(1, 1000, 300000, UINT32_MAX), 1000);
	CU_ASSERT_EQUAL(backoff_ms(3, 1000, 300000, 0), 2000);
	CU_ASSERT_EQUAL(backoff_ms(3, 1000, 300000, UINT32_MAX), 4000);
	CU_ASSERT_EQUAL(backoff_ms(30, 1000, 300000, UINT32_MAX), 300000);
	CU_ASSERT_EQUAL(backoff_ms(30, 1000, 300000, 0), 150000);
	CU_ASSERT_EQUAL(backoff_ms(0, 1000, 300000, 0), 500);
	for (uint32_t r = 0; r < 10; r++) {
		int64_t d = backoff_ms(2, 1000, 300000, r * 429496729u);

		CU_ASSERT_TRUE(d >= 1000 && d <= 2000);
	}
}

static void test_url_digest(void)
{
	char a[ALERT_URL_DIGEST_LEN], b[ALERT_URL_DIGEST_LEN];
	const char *url = "https://hooks.example/T0/secret";

	alert_url_digest(url, strlen(url), a);
	alert_url_digest(url, strlen(url), b);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_EQUAL(strlen(a), 16);
	CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef"), 16);
	CU_ASSERT_PTR_NULL(strstr(a, "secret"));
	alert_url_digest(url, strlen(url) - 1, b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static CU_TestInfo tests[] = {
	{ "a cron body", test_cron_body },
	{ "a run_at body", test_run_at_body },
	{ "every problem names its field", test_problems },
	{ "the next run after an occurrence", test_next_after },
	{ "backoff with jitter", test_backoff },
	{ "webhook digests", test_url_digest },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("schedules", tests)
