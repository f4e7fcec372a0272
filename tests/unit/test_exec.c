/* test_exec.c — the pure parts of executions: the request's field table
 * (every scope's needs, every bad field reported at once), the
 * single-target bodies, the Idempotency-Key digest and check,
 * Last-Event-ID, progress and its estimate, the final status, the SQL a
 * scope resolves through, and the list cursor. */
#include <string.h>

#include "exec.h"
#include "page_cursor.h"
#include "unit.h"

/* Parse `text` in `form`: 0 and `out`, or -1 and *problems (put it). */
static int request(const char *text, enum exec_form form, struct exec_request *out,
		   json_object **body, json_object **problems)
{
	*body = unit_json(text);
	return exec_request_parse(*body, form, out, problems);
}

static void test_scopes(void)
{
	static const struct {
		const char *body;
		enum exec_scope scope;
	} good[] = {
		{ "{\"scope\":\"all\"}", EXEC_SCOPE_ALL },
		{ "{\"scope\":\"admin\"}", EXEC_SCOPE_ADMIN },
		{ "{\"scope\":\"regional\",\"region\":\"eu-west-1\"}", EXEC_SCOPE_REGIONAL },
		{ "{\"scope\":\"tenant\",\"tenant\":\"acme\"}", EXEC_SCOPE_TENANT },
		{ "{\"scope\":\"single\",\"database_id\":\"6f1c2a4e-9b1d-4c3e-8f00-1234567890ab\"}",
		  EXEC_SCOPE_SINGLE },
		{ "{\"scope\":\"all\",\"database_type\":\"analytics\",\"region\":null}", EXEC_SCOPE_ALL },
	};
	static const struct {
		const char *body, *field, *why;
	} missing[] = {
		{ "{\"scope\":\"regional\"}", "region", "is required for scope regional" },
		{ "{\"scope\":\"tenant\",\"region\":\"eu\"}", "tenant", "is required for scope tenant" },
		{ "{\"scope\":\"single\",\"tenant\":null}", "database_id", "is required for scope single" },
		{ "{\"dry_run\":true}", "scope", "is required" },
		{ "{\"scope\":null}", "scope", "is required" },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct exec_request req;
		json_object *body, *problems;

		CU_ASSERT_EQUAL(request(good[i].body, EXEC_FORM_EXECUTE, &req, &body, &problems), 0);
		CU_ASSERT_EQUAL(req.scope, good[i].scope);
		CU_ASSERT_PTR_NULL(problems);
		json_object_put(body);
	}
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		struct exec_request req;
		json_object *body, *problems;

		CU_ASSERT_EQUAL(request(missing[i].body, EXEC_FORM_EXECUTE, &req, &body, &problems), -1);
		CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, missing[i].field), missing[i].why);
		CU_ASSERT_EQUAL(json_object_object_length(problems), 1);
		json_object_put(problems);
		json_object_put(body);
	}
}

static void test_every_bad_field(void)
{
	struct exec_request req;
	json_object *body, *problems;

	CU_ASSERT_EQUAL(request("{\"scope\":\"galaxy\",\"region\":\"\",\"tenant\":\"Acme\","
				"\"database_id\":\"42\",\"database_type\":\"mainframe\","
				"\"target_version\":\"v2\",\"dry_run\":\"yes\",\"colour\":\"red\"}",
				EXEC_FORM_EXECUTE, &req, &body, &problems), -1);
	CU_ASSERT_EQUAL(json_object_object_length(problems), 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(unit_field_reason(problems, "scope"), "all, admin, regional"));
	CU_ASSERT_PTR_NOT_NULL(unit_field_reason(problems, "region"));
	CU_ASSERT_PTR_NOT_NULL(unit_field_reason(problems, "tenant"));
	CU_ASSERT_PTR_NOT_NULL(strstr(unit_field_reason(problems, "database_id"), "UUID"));
	CU_ASSERT_PTR_NOT_NULL(strstr(unit_field_reason(problems, "database_type"), "analytics"));
	CU_ASSERT_PTR_NOT_NULL(strstr(unit_field_reason(problems, "target_version"), "version"));
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "dry_run"), "must be true or false");
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "colour"), "unknown field");
	json_object_put(problems);
	json_object_put(body);

	/* Types: numbers where strings belong. */
	CU_ASSERT_EQUAL(request("{\"scope\":1,\"region\":2,\"tenant\":[]}", EXEC_FORM_EXECUTE, &req,
				&body, &problems), -1);
	CU_ASSERT_EQUAL(json_object_object_length(problems), 3);
	json_object_put(problems);
	json_object_put(body);
}

static void test_forms_and_values(void)
{
	struct exec_request req;
	json_object *body, *problems, *filters, *v;

	/* dry_run belongs to execute only. */
	CU_ASSERT_EQUAL(request("{\"scope\":\"all\",\"dry_run\":true}", EXEC_FORM_FILTERS, &req,
				&body, &problems), -1);
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "dry_run"), "unknown field");
	json_object_put(problems);
	json_object_put(body);

	CU_ASSERT_EQUAL(request("{\"scope\":\"all\",\"dry_run\":true,\"target_version\":\"1_10\"}",
				EXEC_FORM_EXECUTE, &req, &body, &problems), 0);
	CU_ASSERT_TRUE(req.dry_run);
	CU_ASSERT_STRING_EQUAL(req.target_version, "1.10");
	json_object_put(body);

	CU_ASSERT_EQUAL(request("{\"scope\":\"all\",\"target_version\":\"latest\"}", EXEC_FORM_FILTERS,
				&req, &body, &problems), 0);
	CU_ASSERT_PTR_NULL(req.target_version);
	CU_ASSERT_FALSE(req.dry_run);
	json_object_put(body);

	CU_ASSERT_EQUAL(request("{\"scope\":\"regional\",\"region\":\"eu\",\"database_type\":\"tenant\"}",
				EXEC_FORM_FILTERS, &req, &body, &problems), 0);
	filters = exec_request_filters_json(&req);
	CU_ASSERT_TRUE(json_object_object_get_ex(filters, "region", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "eu");
	CU_ASSERT_TRUE(json_object_object_get_ex(filters, "tenant", &v));
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_TRUE(json_object_object_get_ex(filters, "database_type", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "tenant");
	json_object_put(filters);
	json_object_put(body);

	CU_ASSERT_STRING_EQUAL(exec_scope_name(EXEC_SCOPE_REGIONAL), "regional");
	CU_ASSERT_EQUAL(exec_scope_parse("everything", &req.scope), -1);
}

static void test_single(void)
{
	struct exec_single s;
	json_object *body, *problems;

	body = unit_json("{\"database_id\":\"6f1c2a4e-9b1d-4c3e-8f00-1234567890ab\",\"schema\":\"t1\","
		     "\"version\":\"2_1\"}");
	CU_ASSERT_EQUAL(exec_single_parse(body, true, &s, &problems), 0);
	CU_ASSERT_STRING_EQUAL(s.schema, "t1");
	CU_ASSERT_STRING_EQUAL(s.version, "2.1");
	/* version belongs to baseline only */
	CU_ASSERT_EQUAL(exec_single_parse(body, false, &s, &problems), -1);
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "version"), "unknown field");
	json_object_put(problems);
	json_object_put(body);

	body = unit_json("{\"schema\":\"\"}");
	CU_ASSERT_EQUAL(exec_single_parse(body, true, &s, &problems), -1);
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "database_id"), "is required");
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "version"), "is required");
	CU_ASSERT_PTR_NOT_NULL(unit_field_reason(problems, "schema"));
	json_object_put(problems);
	json_object_put(body);
}

static void test_hash_and_keys(void)
{
	struct exec_request a = { .scope = EXEC_SCOPE_TENANT, .tenant = "acme" }, b = a;
	char ha[EXEC_HASH_LEN], hb[EXEC_HASH_LEN];

	exec_request_hash(&a, "migrate", ha);
	exec_request_hash(&b, "migrate", hb);
	CU_ASSERT_EQUAL(strlen(ha), 64);
	CU_ASSERT_STRING_EQUAL(ha, hb);
	b.tenant = "beta";
	exec_request_hash(&b, "migrate", hb);
	CU_ASSERT_STRING_NOT_EQUAL(ha, hb);
	b = a;
	b.dry_run = true;
	exec_request_hash(&b, "migrate", hb);
	CU_ASSERT_STRING_NOT_EQUAL(ha, hb);
	b = a;
	b.region = "";		/* empty differs from absent */
	exec_request_hash(&b, "migrate", hb);
	CU_ASSERT_STRING_NOT_EQUAL(ha, hb);
	exec_request_hash(&a, "undo", hb);
	CU_ASSERT_STRING_NOT_EQUAL(ha, hb);

	CU_ASSERT_PTR_NULL(exec_check_idempotency_key("a"));
	CU_ASSERT_PTR_NULL(exec_check_idempotency_key("order-42:retry_1"));
	CU_ASSERT_PTR_NOT_NULL(exec_check_idempotency_key(""));
	CU_ASSERT_PTR_NOT_NULL(exec_check_idempotency_key("with space"));
	CU_ASSERT_PTR_NOT_NULL(exec_check_idempotency_key("tab\tin"));
	{
		char key[EXEC_IDEMPOTENCY_KEY_MAX + 2];

		memset(key, 'k', sizeof(key) - 1);
		key[sizeof(key) - 1] = '\0';
		CU_ASSERT_PTR_NOT_NULL(exec_check_idempotency_key(key));
		key[EXEC_IDEMPOTENCY_KEY_MAX] = '\0';
		CU_ASSERT_PTR_NULL(exec_check_idempotency_key(key));
	}
}

static void test_last_event_id(void)
{
	int64_t seq;

	CU_ASSERT_EQUAL(exec_parse_last_event_id("", &seq), 0);
	CU_ASSERT_EQUAL(seq, 0);
	CU_ASSERT_EQUAL(exec_parse_last_event_id(NULL, &seq), 0);
	CU_ASSERT_EQUAL(exec_parse_last_event_id("42", &seq), 0);
	CU_ASSERT_EQUAL(seq, 42);
	CU_ASSERT_EQUAL(exec_parse_last_event_id("-1", &seq), -1);
	CU_ASSERT_EQUAL(exec_parse_last_event_id("4x", &seq), -1);
	CU_ASSERT_EQUAL(exec_parse_last_event_id(" 4", &seq), -1);
	CU_ASSERT_EQUAL(exec_parse_last_event_id("9999999999999999999999", &seq), -1);
}

static void test_progress(void)
{
	struct exec_progress p;

	/* Not started: nothing to extrapolate from. */
	exec_progress_compute(&p, 10, 0, 0, 0, 0, 1000);
	CU_ASSERT_DOUBLE_EQUAL(p.percent, 0.0, 1e-9);
	CU_ASSERT_EQUAL(p.estimated_completion, 0);
	/* Started, nothing finished yet: still unknown. */
	exec_progress_compute(&p, 10, 0, 0, 0, 1000, 1010);
	CU_ASSERT_EQUAL(p.estimated_completion, 0);
	/* 4 of 10 finished (any outcome) in 20 s: 5 s each, 6 left. */
	exec_progress_compute(&p, 10, 2, 1, 1, 1000, 1020);
	CU_ASSERT_DOUBLE_EQUAL(p.percent, 40.0, 1e-9);
	CU_ASSERT_EQUAL(p.estimated_completion, 1020 + 30);
	CU_ASSERT_EQUAL(p.completed, 2);
	CU_ASSERT_EQUAL(p.failed, 1);
	CU_ASSERT_EQUAL(p.skipped, 1);
	/* A fraction of a second rounds up. */
	exec_progress_compute(&p, 3, 2, 0, 0, 1000, 1001);
	CU_ASSERT_EQUAL(p.estimated_completion, 1001 + 1);
	CU_ASSERT_DOUBLE_EQUAL(p.percent, 200.0 / 3, 1e-9);
	/* Finished: 100 %, nothing to estimate. */
	exec_progress_compute(&p, 3, 1, 1, 1, 1000, 1009);
	CU_ASSERT_DOUBLE_EQUAL(p.percent, 100.0, 1e-9);
	CU_ASSERT_EQUAL(p.estimated_completion, 0);
	/* A clock that went back never gives a past estimate. */
	exec_progress_compute(&p, 10, 1, 0, 0, 1000, 990);
	CU_ASSERT_EQUAL(p.estimated_completion, 0);

	CU_ASSERT_STRING_EQUAL(exec_final_status(false, 0, 0), "completed");
	CU_ASSERT_STRING_EQUAL(exec_final_status(false, 1, 0), "failed");
	CU_ASSERT_STRING_EQUAL(exec_final_status(false, 0, 2), "failed");
	CU_ASSERT_STRING_EQUAL(exec_final_status(true, 1, 2), "cancelled");
}

/* The resolution's SQL for `text` within `scope`, and its parameters. */
static void resolve(const char *text, const char *scope, struct exec_query *q)
{
	struct exec_request req;
	json_object *body, *problems;

	CU_ASSERT_EQUAL_FATAL(request(text, EXEC_FORM_FILTERS, &req, &body, &problems), 0);
	exec_query_init(q);
	exec_resolve_sql(q, &req, scope);
	json_object_put(body);	/* the parameters point into it: compare before */
}

static void test_resolution_sql(void)
{
	struct exec_query q;

	resolve("{\"scope\":\"all\"}", NULL, &q);
	CU_ASSERT_EQUAL(q.nparams, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.sql.buf, "WHERE d.is_active"));
	CU_ASSERT_PTR_NULL(strstr(q.sql.buf, "$1"));
	exec_query_release(&q);

	resolve("{\"scope\":\"admin\"}", NULL, &q);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.sql.buf, "d.database_type = 'admin'"));
	CU_ASSERT_EQUAL(q.nparams, 0);
	exec_query_release(&q);

	resolve("{\"scope\":\"regional\",\"region\":\"eu\",\"database_type\":\"shared\"}", "acme", &q);
	CU_ASSERT_EQUAL(q.nparams, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.sql.buf, "d.region = $1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(q.sql.buf, "d.database_type = $2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(q.sql.buf, "d.tenant = $3"));
	CU_ASSERT_STRING_EQUAL(q.params[2], "acme");
	exec_query_release(&q);

	resolve("{\"scope\":\"single\",\"database_id\":\"6f1c2a4e-9b1d-4c3e-8f00-1234567890ab\"}", NULL, &q);
	CU_ASSERT_EQUAL(q.nparams, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(q.sql.buf, "d.id = $1::uuid"));
	CU_ASSERT_PTR_NOT_NULL(strstr(q.sql.buf, "ORDER BY d.created_at, d.id"));
	exec_query_release(&q);

	/* Values never reach the text: a hostile tenant stays a parameter. */
	resolve("{\"scope\":\"tenant\",\"tenant\":\"x_or_1\"}", "x_or_1", &q);
	CU_ASSERT_PTR_NULL(strstr(q.sql.buf, "x_or_1"));
	CU_ASSERT_EQUAL(q.nparams, 2);
	exec_query_release(&q);
}

static void test_cursor(void)
{
	char cursor[PAGE_CURSOR_MAX], micros[PAGE_CURSOR_MICROS_MAX], id[UUID_STR_LEN];
	static const char *const bad[] = {
		"", "bogus", "MTIzNA", "bm90LmEudXVpZA", "!!!!",
	};

	page_cursor_encode(cursor, sizeof(cursor), "1795310135123456",
			   "6f1c2a4e-9b1d-4c3e-8f00-1234567890ab");
	CU_ASSERT_EQUAL(page_cursor_decode(cursor, micros, id), 0);
	CU_ASSERT_STRING_EQUAL(micros, "1795310135123456");
	CU_ASSERT_STRING_EQUAL(id, "6f1c2a4e-9b1d-4c3e-8f00-1234567890ab");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(page_cursor_decode(bad[i], micros, id), -1);
}

/* The cursors of the lists paged by an identity (events, alerts). */
static void test_serial_cursor(void)
{
	char cursor[PAGE_CURSOR_MAX];
	static const char *const bad[] = {
		"", "!!!!", "ZXY6MTI", /* "ev:12": another list's */
		"YWw6", /* "al:" */ "YWw6MA", /* "al:0" */ "YWw6LTU", /* "al:-5" */
		"YWw6MTJ4", /* "al:12x" */ "YWw6MTIzNDU2Nzg5MDEyMzQ1Njc4OTA", /* 20 digits */
		"YWwxMg", /* "al12" */ "YWw6MTIAeA", /* "al:12\0x" */
	};

	page_cursor_encode_serial(cursor, sizeof(cursor), "al", "42");
	CU_ASSERT_EQUAL(page_cursor_decode_serial(cursor, "al"), 42);
	CU_ASSERT_EQUAL(page_cursor_decode_serial(cursor, "ev"), 0);	/* another list's */
	page_cursor_encode_serial(cursor, sizeof(cursor), "ev", "999999999999999999");
	CU_ASSERT_EQUAL(page_cursor_decode_serial(cursor, "ev"), INT64_C(999999999999999999));
	page_cursor_encode_serial(cursor, sizeof(cursor), "ev", "9223372036854775807");
	CU_ASSERT_EQUAL(page_cursor_decode_serial(cursor, "ev"), INT64_MAX);
	page_cursor_encode_serial(cursor, sizeof(cursor), "ev", "9223372036854775808");
	CU_ASSERT_EQUAL(page_cursor_decode_serial(cursor, "ev"), 0);	/* beyond a bigint */
	/* The form the events list has always written: base64url("ev:12"). */
	CU_ASSERT_EQUAL(page_cursor_decode_serial("ZXY6MTI", "ev"), 12);
	page_cursor_encode_serial(cursor, 4, "al", "42");
	CU_ASSERT_STRING_EQUAL(cursor, "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(page_cursor_decode_serial(bad[i], "al"), 0);
}

static CU_TestInfo tests[] = {
	{ "each scope and what it needs", test_scopes },
	{ "every bad field is reported", test_every_bad_field },
	{ "forms and normalised values", test_forms_and_values },
	{ "repair and baseline bodies", test_single },
	{ "request digest and Idempotency-Key", test_hash_and_keys },
	{ "Last-Event-ID", test_last_event_id },
	{ "progress, estimate and final status", test_progress },
	{ "the SQL a scope resolves through", test_resolution_sql },
	{ "list cursors", test_cursor },
	{ "identity cursors", test_serial_cursor },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("exec", tests)
