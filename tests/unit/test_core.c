/* test_core.c — libinfra's small building blocks: arena, strbuf, array
 * parameters, timestamps, connection-string redaction and the error
 * helpers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "strbuf.h"
#include "timeutil.h"
#include "unit.h"

static void test_arena(void)
{
	struct arena a;
	char *s, *big;

	arena_init(&a, 1024);
	s = arena_strdup(&a, "hello");
	CU_ASSERT_STRING_EQUAL(s, "hello");
	CU_ASSERT_EQUAL((uintptr_t)arena_alloc(&a, 3) % _Alignof(max_align_t), 0);
	big = arena_alloc(&a, 100000);	/* larger than a block */
	memset(big, 'x', 100000);
	CU_ASSERT_STRING_EQUAL(arena_printf(&a, "%d-%s", 42, "x"), "42-x");
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_PTR_NOT_NULL(arena_alloc(&a, 100));
	arena_reset(&a);
	CU_ASSERT_STRING_EQUAL(arena_strndup(&a, "abcdef", 3), "abc");
	CU_ASSERT_PTR_NULL(arena_strdup(&a, NULL));
	arena_release(&a);
}

static void test_strbuf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	size_t len;

	CU_ASSERT_STRING_EQUAL(sb.buf, "");
	strbuf_addstr(&sb, "a");
	strbuf_addch(&sb, 'b');
	strbuf_addf(&sb, "%03d", 7);
	CU_ASSERT_STRING_EQUAL(sb.buf, "ab007");
	for (int i = 0; i < 1000; i++)
		strbuf_addstr(&sb, "0123456789");
	CU_ASSERT_EQUAL(sb.len, 10005);
	s = strbuf_detach(&sb, &len);
	CU_ASSERT_EQUAL(len, 10005);
	CU_ASSERT_STRING_EQUAL(sb.buf, "");
	free(s);
	strbuf_release(&sb);
}

/* Array literals PostgreSQL reads back element for element (the
 * integration tests send them through unnest). */
static void test_db_array(void)
{
	struct db_array a = DB_ARRAY_INIT;

	CU_ASSERT_STRING_EQUAL(db_array_text(&a), "{}");
	db_array_push(&a, "plain");
	db_array_push(&a, NULL);
	db_array_push(&a, "");
	db_array_push(&a, "say \"hi\", C:\\path {x}");
	db_array_pushf(&a, "%d", -42);
	CU_ASSERT_EQUAL(a.n, 5);
	CU_ASSERT_STRING_EQUAL(db_array_text(&a),
			       "{\"plain\",NULL,\"\",\"say \\\"hi\\\", C:\\\\path {x}\",\"-42\"}");
	/* Asking twice gives the same text; pushing after asking goes on. */
	CU_ASSERT_STRING_EQUAL(db_array_text(&a), db_array_text(&a));
	db_array_push(&a, "NULL");
	CU_ASSERT_PTR_NOT_NULL(strstr(db_array_text(&a), ",\"NULL\"}"));
	db_array_release(&a);
	CU_ASSERT_EQUAL(a.n, 0);
	CU_ASSERT_STRING_EQUAL(db_array_text(&a), "{}");
	db_array_release(&a);
}

static void test_iso8601(void)
{
	char buf[ISO8601_MAX];
	int64_t t;

	CU_ASSERT_STRING_EQUAL(time_iso8601(buf, 0), "1970-01-01T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(time_iso8601(buf, 1795000000), "2026-11-18T11:06:40Z");
	CU_ASSERT_EQUAL(time_parse_iso8601("2026-11-18T11:06:40Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1795000000);
	CU_ASSERT_EQUAL(time_parse_iso8601("2026-11-18T12:06:40.123+01:00", &t), 0);
	CU_ASSERT_EQUAL(t, 1795000000);
	CU_ASSERT_EQUAL(time_parse_iso8601("2026-11-18 11:06:40Z", &t), -1);
	CU_ASSERT_EQUAL(time_parse_iso8601("2026-13-18T11:06:40Z", &t), -1);
	CU_ASSERT_EQUAL(time_parse_iso8601("2026-11-18T11:06:40", &t), -1);
	CU_ASSERT_EQUAL(time_parse_iso8601("2026-11-18T11:06:40Zjunk", &t), -1);
	CU_ASSERT_EQUAL(time_parse_iso8601(NULL, &t), -1);
	CU_ASSERT_STRING_EQUAL(time_iso8601_now_ms(buf) + 23, "Z");
}

/* Impossible dates and times are refused, never rolled over by timegm(). */
static void test_iso8601_calendar(void)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{ "2030-02-30T00:00:00Z", -1 },
		{ "2026-02-29T00:00:00Z", -1 },		/* not a leap year */
		{ "2028-02-29T00:00:00Z", 0 },		/* a leap year */
		{ "2100-02-29T00:00:00Z", -1 },		/* divisible by 100 */
		{ "2000-02-29T00:00:00Z", 0 },		/* divisible by 400 */
		{ "2026-02-28T23:59:59Z", 0 },
		{ "2026-04-31T00:00:00Z", -1 },
		{ "2026-06-31T00:00:00Z", -1 },
		{ "2026-09-31T00:00:00Z", -1 },
		{ "2026-11-31T00:00:00Z", -1 },
		{ "2026-12-31T00:00:00Z", 0 },
		{ "2026-01-32T00:00:00Z", -1 },
		{ "2026-01-00T00:00:00Z", -1 },
		{ "2026-00-10T00:00:00Z", -1 },
		{ "2026-12-31T23:59:60Z", -1 },		/* leap seconds are refused */
		{ "2026-12-31T24:00:00Z", -1 },
		{ "2026-12-31T23:60:00Z", -1 },
		{ "2026-12-31T23:59:59.999Z", 0 },
	};
	int64_t t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = time_parse_iso8601(cases[i].s, &t);

		if (got != cases[i].want)
			fprintf(stderr, "iso8601 case '%s': got %d\n", cases[i].s, got);
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
	CU_ASSERT_EQUAL(time_parse_iso8601("2028-02-29T00:00:00Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1835395200);
}

static void test_redact(void)
{
	char out[256];

	log_redact_conninfo("postgresql://user:pa55@db:5432/x", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "postgresql://user:***@db:5432/x");
	log_redact_conninfo("postgresql://user@db/x", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "postgresql://user@db/x");
	log_redact_conninfo("host=db password=pa55 dbname=x", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "host=db password=*** dbname=x");
	log_redact_conninfo("host=db password='p a\\'55' dbname=x", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "host=db password=*** dbname=x");
	log_redact_conninfo("postgresql://db/x?user=u&password=pa55&sslmode=require", out, sizeof(out));
	CU_ASSERT_PTR_NULL(strstr(out, "pa55"));
	log_redact_conninfo("postgresql://db/x?password=p", out, 30);
	CU_ASSERT_PTR_NULL(strstr(out, "=p"));
}

static void test_errors(void)
{
	struct infra_error err;

	CU_ASSERT_EQUAL(infra_fail(&err, INFRA_ENOTFOUND, "no database '%s'", "x"), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_ENOTFOUND);
	CU_ASSERT_STRING_EQUAL(err.message, "no database 'x'");
	CU_ASSERT_STRING_EQUAL(err.field, "");
	CU_ASSERT_EQUAL(infra_fail_field(&err, "port", "must be in 1..65535"), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.field, "port");
	CU_ASSERT_EQUAL(infra_fail(NULL, INFRA_EINTERNAL, "ignored"), -1);
	infra_error_clear(&err);
	CU_ASSERT_EQUAL(err.kind, INFRA_OK);
	CU_ASSERT_STRING_EQUAL(infra_errkind_name(INFRA_EUNAVAIL), "unavailable");
}

static CU_TestInfo tests[] = {
	{ "arena", test_arena },
	{ "strbuf", test_strbuf },
	{ "array parameters", test_db_array },
	{ "ISO 8601", test_iso8601 },
	{ "ISO 8601: only real calendar times", test_iso8601_calendar },
	{ "connection string redaction", test_redact },
	{ "errors", test_errors },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("core", tests)
