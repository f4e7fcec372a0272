/* test_config.c — loading settings: defaults, a file with its line numbers
 * in messages, the environment winning over the file, every problem
 * reported at once, and secrets masked in the effective configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char path[] = "/tmp/infra-test-config-XXXXXX";

static void write_file(const char *text)
{
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
}

static void set_required(void)
{
	setenv("INFRA_DATABASE_URL", "postgresql://infra:s3cret@127.0.0.1:5432/infra", 1);
	setenv("INFRA_JWT_ISSUER", "https://sso.example.internal/realms/platform", 1);
	setenv("INFRA_JWKS_FILE", "/etc/hostname", 1);
}

static void test_defaults(void)
{
	struct config cfg;
	char *problems = NULL;

	set_required();
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, NULL, CONFIG_FOR_DAEMON, &problems), 0);
	CU_ASSERT_EQUAL(cfg.workers, 4);
	CU_ASSERT_STRING_EQUAL(cfg.listen, "127.0.0.1:9000");
	CU_ASSERT_EQUAL(cfg.migration_batch_size, 8);
	CU_ASSERT_FALSE(cfg.emergency_enabled);
	config_release(&cfg);
}

static void test_missing_required(void)
{
	struct config cfg;
	char *problems = NULL;

	unsetenv("INFRA_DATABASE_URL");
	unsetenv("INFRA_JWT_ISSUER");
	unsetenv("INFRA_JWKS_FILE");
	CU_ASSERT_EQUAL(config_load(&cfg, NULL, CONFIG_FOR_DAEMON, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(problems);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "'DATABASE_URL' is required"));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "'JWT_ISSUER' is required"));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "'JWKS_FILE' and 'JWKS_URL'"));
	free(problems);
	/* The CLI needs none of them. */
	CU_ASSERT_EQUAL(config_load(&cfg, NULL, CONFIG_FOR_CLI, &problems), 0);
	config_release(&cfg);
}

static void test_file_and_env(void)
{
	struct config cfg;
	char *problems = NULL;

	set_required();
	write_file("# comment\n\nWORKERS = 7\nRUNNERS=\"3\"\nLOG_LEVEL = debug\n");
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, path, CONFIG_FOR_DAEMON, &problems), 0);
	CU_ASSERT_EQUAL(cfg.workers, 7);
	CU_ASSERT_EQUAL(cfg.runners, 3);
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "debug");
	config_release(&cfg);
	setenv("INFRA_WORKERS", "9", 1);
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, path, CONFIG_FOR_DAEMON, &problems), 0);
	CU_ASSERT_EQUAL(cfg.workers, 9);
	config_release(&cfg);
	unsetenv("INFRA_WORKERS");
	unlink(path);
}

static void test_every_problem_reported(void)
{
	struct config cfg;
	char *problems = NULL;

	set_required();
	strcpy(path, "/tmp/infra-test-config-XXXXXX");
	write_file("WORKERS = many\nNO_SUCH_SETTING = 1\nLISTEN = nowhere\njunk line\n");
	setenv("INFRA_LOG_LEVEL", "loud", 1);
	CU_ASSERT_EQUAL(config_load(&cfg, path, CONFIG_FOR_DAEMON, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(problems);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "'WORKERS'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, ":1)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "expected an integer in 1..256"));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, ":2: unknown setting 'NO_SUCH_SETTING'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "'LISTEN'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, ":4: expected NAME = value"));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "environment INFRA_LOG_LEVEL"));
	free(problems);
	unsetenv("INFRA_LOG_LEVEL");
	unlink(path);
}

static void test_unreadable_file(void)
{
	struct config cfg;
	char *problems = NULL;

	set_required();
	CU_ASSERT_EQUAL(config_load(&cfg, "/nonexistent/infra.conf", CONFIG_FOR_DAEMON, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "'/nonexistent/infra.conf' cannot be read"));
	free(problems);
}

static void test_secrets_masked(void)
{
	struct config cfg;
	char *problems = NULL;
	json_object *o;
	const char *text;

	set_required();
	setenv("INFRA_ENCRYPTION_KEYS", "k1:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=", 1);
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, NULL, CONFIG_FOR_DAEMON, &problems), 0);
	o = config_to_json(&cfg);
	text = json_object_to_json_string(o);
	CU_ASSERT_PTR_NULL(strstr(text, "s3cret"));
	CU_ASSERT_PTR_NULL(strstr(text, "c2VjcmV0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "infra:***@127.0.0.1"));
	json_object_put(o);
	config_release(&cfg);
	/* A secret's bad value is not echoed in the problem either. */
	setenv("INFRA_WORKERS", "0", 1);
	CU_ASSERT_EQUAL(config_load(&cfg, NULL, CONFIG_FOR_DAEMON, &problems), -1);
	CU_ASSERT_PTR_NULL(strstr(problems, "s3cret"));
	free(problems);
	unsetenv("INFRA_WORKERS");
	unsetenv("INFRA_ENCRYPTION_KEYS");
}

static void test_keyring_checked(void)
{
	struct config cfg;
	char *problems = NULL;

	set_required();
	setenv("INFRA_ENCRYPTION_KEYS", "k1:bm90IDMyIGJ5dGVz", 1);	/* "not 32 bytes" */
	CU_ASSERT_EQUAL(config_load(&cfg, NULL, CONFIG_FOR_DAEMON, &problems), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(problems);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "'ENCRYPTION_KEYS'"));
	CU_ASSERT_PTR_NULL(strstr(problems, "bm90IDMy"));
	free(problems);
	setenv("INFRA_ENCRYPTION_KEYS", "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", 1);
	CU_ASSERT_EQUAL(config_load(&cfg, NULL, CONFIG_FOR_DAEMON, &problems), 0);
	config_release(&cfg);
	unsetenv("INFRA_ENCRYPTION_KEYS");
}

static CU_TestInfo tests[] = {
	{ "defaults", test_defaults },
	{ "required settings", test_missing_required },
	{ "file and environment", test_file_and_env },
	{ "every problem reported with its origin", test_every_problem_reported },
	{ "unreadable file", test_unreadable_file },
	{ "secrets masked", test_secrets_masked },
	{ "the key ring is checked, never echoed", test_keyring_checked },
	CU_TEST_INFO_NULL,
};

UNIT_MAIN("configuration", tests)
