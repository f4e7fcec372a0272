/* test_registry_validate.c — the registry's field table: each validator
 * accepts what API.md allows and refuses the rest, every bad field of a
 * body is reported together, required/read-only/unknown fields are named,
 * and defaults are applied on create. Also the pure circuit breaker. */
#include <string.h>

#include "circuit.h"
#include "pgprobe.h"
#include "registry.h"
#include "unit.h"

static void test_host(void)
{
	static const char *const good[] = {
		"db1", "db.example.com", "db-1.eu-west-1.rds.amazonaws.com", "example.com.",
		"127.0.0.1", "10.0.0.255", "::1", "fe80::1", "2001:db8::8a2e:370:7334", "a",
		"x123.y456",
	};
	static const char *const bad[] = {
		"", "-db", "db-", "db..x", ".db", "db_1", "db 1", "db/x", "/var/run/postgresql",
		"1.2.3", "256.1.1.1", "1.2.3.4.", "[::1]", "fe80::1%eth0", "h@st", "db.-x",
		"host:5432", "a..", "..",
	};
	char longlabel[80], longname[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (registry_check_host(good[i]) != NULL)
			fprintf(stderr, "refused good host '%s'\n", good[i]);
		CU_ASSERT_PTR_NULL(registry_check_host(good[i]));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (registry_check_host(bad[i]) == NULL)
			fprintf(stderr, "accepted bad host '%s'\n", bad[i]);
		CU_ASSERT_PTR_NOT_NULL(registry_check_host(bad[i]));
	}
	memset(longlabel, 'a', 64);
	longlabel[64] = '\0';
	CU_ASSERT_PTR_NOT_NULL(registry_check_host(longlabel));
	longlabel[63] = '\0';
	CU_ASSERT_PTR_NULL(registry_check_host(longlabel));
	for (int i = 0; i < 254; i++)
		longname[i] = i % 2 ? '.' : 'a';
	longname[254] = '\0';
	CU_ASSERT_PTR_NOT_NULL(registry_check_host(longname));
}

static void test_identifiers_and_names(void)
{
	char ident[70];

	CU_ASSERT_PTR_NULL(registry_check_identifier("app_db", 6));
	CU_ASSERT_PTR_NULL(registry_check_identifier("Mixed Case-db", 13));
	CU_ASSERT_PTR_NULL(registry_check_identifier("données", strlen("données")));
	CU_ASSERT_PTR_NOT_NULL(registry_check_identifier("", 0));
	CU_ASSERT_PTR_NOT_NULL(registry_check_identifier("a\0b", 3));
	CU_ASSERT_PTR_NOT_NULL(registry_check_identifier("a\nb", 3));
	memset(ident, 'x', 63);
	ident[63] = '\0';
	CU_ASSERT_PTR_NULL(registry_check_identifier(ident, 63));
	ident[63] = 'x';
	ident[64] = '\0';
	CU_ASSERT_PTR_NOT_NULL(registry_check_identifier(ident, 64));

	CU_ASSERT_PTR_NULL(registry_check_name("orders-eu-1"));
	CU_ASSERT_PTR_NULL(registry_check_name("A.b_c-9"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_name(""));
	CU_ASSERT_PTR_NOT_NULL(registry_check_name("-x"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_name("a b"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_name("a/b"));

	CU_ASSERT_PTR_NULL(registry_check_region("eu-west-1"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_region("EU"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_region("-eu"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_region(""));

	CU_ASSERT_PTR_NULL(registry_check_tenant("acme_1"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_tenant("a"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_tenant("1acme"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_tenant("Acme"));
	CU_ASSERT_PTR_NOT_NULL(registry_check_tenant("acme-1"));

	CU_ASSERT_TRUE(registry_database_type_valid("analytics"));
	CU_ASSERT_FALSE(registry_database_type_valid("Analytics"));
	CU_ASSERT_TRUE(registry_sslmode_valid("verify-full"));
	CU_ASSERT_FALSE(registry_sslmode_valid("on"));
}

static void test_labels(void)
{
	json_object *o;
	char big[1200];
	size_t n = 0;

	o = unit_json("{\"team\":\"payments\",\"app.kubernetes.io/name\":\"x\",\"empty\":\"\"}");
	CU_ASSERT_PTR_NULL(registry_check_labels(o));
	json_object_put(o);
	o = unit_json("{\"team\":{\"nested\":\"no\"}}");
	CU_ASSERT_PTR_NOT_NULL(registry_check_labels(o));
	json_object_put(o);
	o = unit_json("{\"n\":1}");
	CU_ASSERT_PTR_NOT_NULL(registry_check_labels(o));
	json_object_put(o);
	o = unit_json("{\"bad key\":\"x\"}");
	CU_ASSERT_PTR_NOT_NULL(registry_check_labels(o));
	json_object_put(o);
	o = unit_json("[\"x\"]");
	CU_ASSERT_PTR_NOT_NULL(registry_check_labels(o));
	json_object_put(o);
	/* 33 labels: one too many. */
	n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"k%d\":\"v\"", i ? "," : "", i);
	snprintf(big + n, sizeof(big) - n, "}");
	o = unit_json(big);
	CU_ASSERT_PTR_NOT_NULL(registry_check_labels(o));
	json_object_put(o);
}

static void test_create_defaults(void)
{
	json_object *body = unit_json("{\"name\":\"orders\",\"host\":\"127.0.0.1\","
				  "\"database_name\":\"orders\",\"username\":\"app\","
				  "\"password\":\"pw\",\"database_type\":\"tenant\"}");
	struct registry_input in;
	json_object *problems = NULL;

	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_CREATE, &in, &problems), 0);
	CU_ASSERT_PTR_NULL(problems);
	CU_ASSERT_EQUAL(in.port, 5432);
	CU_ASSERT_STRING_EQUAL(in.schema, "public");
	CU_ASSERT_STRING_EQUAL(in.sslmode, "prefer");
	CU_ASSERT_TRUE(in.is_active);
	CU_ASSERT_FALSE(in.auto_migrate);
	CU_ASSERT_PTR_NULL(in.region);
	CU_ASSERT_STRING_EQUAL(in.password, "pw");
	CU_ASSERT_TRUE(REGISTRY_HAS(&in, REGISTRY_NAME));
	CU_ASSERT_FALSE(REGISTRY_HAS(&in, REGISTRY_PORT));
	json_object_put(body);
}

/* Every bad field is reported at once, each with its reason. */
static void test_every_bad_field_reported(void)
{
	json_object *body = unit_json(
		"{\"name\":\"bad name\",\"host\":\"-x\",\"port\":70000,\"database_name\":\"\","
		"\"username\":7,\"password\":null,\"database_type\":\"oltp\",\"region\":\"EU\","
		"\"schema\":\"\",\"sslmode\":\"sometimes\",\"labels\":{\"a\":{}},"
		"\"auto_migrate\":\"yes\",\"tenant\":\"X\",\"id\":\"x\",\"colour\":\"red\"}");
	struct registry_input in;
	json_object *problems = NULL;
	static const char *const fields[] = {
		"name", "host", "port", "database_name", "username", "password", "database_type",
		"region", "schema", "sslmode", "labels", "auto_migrate", "tenant", "id", "colour",
	};

	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_CREATE, &in, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(problems);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (unit_field_reason(problems, fields[i]) == NULL)
			fprintf(stderr, "field '%s' not reported\n", fields[i]);
		CU_ASSERT_PTR_NOT_NULL(unit_field_reason(problems, fields[i]));
	}
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "id"), "is read-only");
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "password"), "must not be null");
	CU_ASSERT_EQUAL(json_object_object_length(problems), (int)(sizeof(fields) / sizeof(fields[0])));
	json_object_put(problems);
	json_object_put(body);
}

static void test_required_and_modes(void)
{
	struct registry_input in;
	json_object *problems = NULL, *body = unit_json("{}");

	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_CREATE, &in, &problems), -1);
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "name"), "is required");
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "password"), "is required");
	CU_ASSERT_STRING_EQUAL(unit_field_reason(problems, "database_type"), "is required");
	CU_ASSERT_PTR_NULL(unit_field_reason(problems, "port"));
	json_object_put(problems);
	/* An empty PATCH changes nothing: refused. */
	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_UPDATE, &in, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL(unit_field_reason(problems, "body"));
	json_object_put(problems);
	/* A test needs no name or type. */
	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_TEST, &in, &problems), -1);
	CU_ASSERT_PTR_NULL(unit_field_reason(problems, "name"));
	CU_ASSERT_PTR_NOT_NULL(unit_field_reason(problems, "host"));
	json_object_put(problems);
	json_object_put(body);

	/* PATCH: a subset; is_active only here; null clears the region. */
	body = unit_json("{\"port\":6432,\"is_active\":false,\"region\":null}");
	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_UPDATE, &in, &problems), 0);
	CU_ASSERT_EQUAL(in.port, 6432);
	CU_ASSERT_FALSE(in.is_active);
	CU_ASSERT_TRUE(REGISTRY_HAS(&in, REGISTRY_REGION));
	CU_ASSERT_PTR_NULL(in.region);
	CU_ASSERT_FALSE(REGISTRY_HAS(&in, REGISTRY_NAME));
	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_TEST, &in, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL(unit_field_reason(problems, "is_active"));
	json_object_put(problems);
	json_object_put(body);

	/* Port: an integer, not a string or a fraction. */
	body = unit_json("{\"port\":\"5432\"}");
	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_UPDATE, &in, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL(unit_field_reason(problems, "port"));
	json_object_put(problems);
	json_object_put(body);
	body = unit_json("{\"port\":5432.5}");
	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_UPDATE, &in, &problems), -1);
	json_object_put(problems);
	json_object_put(body);
	body = unit_json("{\"port\":0}");
	CU_ASSERT_EQUAL(registry_input_parse(body, REGISTRY_FOR_UPDATE, &in, &problems), -1);
	json_object_put(problems);
	json_object_put(body);
}

static void test_circuit(void)
{
	struct circuit c = { CIRCUIT_CLOSED, 0, 0 };
	enum circuit_state s;

	circuit_record(&c, false, 100, 3);
	circuit_record(&c, false, 101, 3);
	CU_ASSERT_EQUAL(c.state, CIRCUIT_CLOSED);
	CU_ASSERT_EQUAL(circuit_next_probe_in(&c, 101, 30, 60), 30);
	circuit_record(&c, true, 102, 3);	/* success resets the count */
	CU_ASSERT_EQUAL(c.failures, 0);
	for (int i = 0; i < 3; i++)
		circuit_record(&c, false, 200 + i, 3);
	CU_ASSERT_EQUAL(c.state, CIRCUIT_OPEN);
	CU_ASSERT_EQUAL(c.opened_at, 202);
	/* Open: the next probe waits for the cool-down, not the interval. */
	CU_ASSERT_EQUAL(circuit_next_probe_in(&c, 212, 30, 60), 50);
	CU_ASSERT_FALSE(circuit_trial_due(&c, 261, 60));
	CU_ASSERT_TRUE(circuit_trial_due(&c, 262, 60));
	CU_ASSERT_EQUAL(circuit_next_probe_in(&c, 300, 30, 60), 0);
	/* A failure reported while open keeps it open, same cool-down. */
	circuit_record(&c, false, 230, 3);
	CU_ASSERT_EQUAL(c.state, CIRCUIT_OPEN);
	CU_ASSERT_EQUAL(c.opened_at, 202);
	/* Half open: a failed trial re-opens at once, from now. */
	c.state = CIRCUIT_HALF_OPEN;
	circuit_record(&c, false, 270, 3);
	CU_ASSERT_EQUAL(c.state, CIRCUIT_OPEN);
	CU_ASSERT_EQUAL(c.opened_at, 270);
	/* … and a successful one closes it. */
	c.state = CIRCUIT_HALF_OPEN;
	circuit_record(&c, true, 340, 3);
	CU_ASSERT_EQUAL(c.state, CIRCUIT_CLOSED);
	CU_ASSERT_EQUAL(c.failures, 0);
	CU_ASSERT_EQUAL(c.opened_at, 0);
	/* Threshold 1: the first failure opens it. */
	circuit_record(&c, false, 400, 1);
	CU_ASSERT_EQUAL(c.state, CIRCUIT_OPEN);

	CU_ASSERT_STRING_EQUAL(circuit_state_name(CIRCUIT_HALF_OPEN), "half_open");
	CU_ASSERT_EQUAL(circuit_state_parse("open", &s), 0);
	CU_ASSERT_EQUAL(s, CIRCUIT_OPEN);
	CU_ASSERT_EQUAL(circuit_state_parse("ajar", &s), -1);
}

static void test_probe_message_scrubbed(void)
{
	char out[PGPROBE_ERROR_MAX];

	pgprobe_clean_message(out, sizeof(out),
			      "connection to server at \"h\" failed:\n  FATAL:  bad hunter2 \n", "hunter2");
	CU_ASSERT_STRING_EQUAL(out, "connection to server at \"h\" failed: FATAL: bad ***");
	pgprobe_clean_message(out, sizeof(out), "x", NULL);
	CU_ASSERT_STRING_EQUAL(out, "x");
	pgprobe_clean_message(out, 4, "abcdef", "");
	CU_ASSERT_STRING_EQUAL(out, "abc");
}

static CU_TestInfo tests[] = {
	{ "host names and addresses", test_host },
	{ "identifiers, names, regions, tenants, enums", test_identifiers_and_names },
	{ "labels are a bounded flat string map", test_labels },
	{ "create applies defaults", test_create_defaults },
	{ "every bad field is reported together", test_every_bad_field_reported },
	{ "required fields per mode; PATCH subsets", test_required_and_modes },
	{ "circuit breaker transitions", test_circuit },
	{ "probe errors on one line, password scrubbed", test_probe_message_scrubbed },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("registry validation", tests)
