/* cmd_migrate_self.c — `infractl migrate-self`: apply migrations/admin to
 * the control database's "infra" schema, as infrad does at start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "log.h"
#include "mig_self.h"
#include "strbuf.h"

static const char migrate_self_usage[] =
	"usage: infractl migrate-self [--config FILE]\n"
	"\n"
	"Apply <MIGRATIONS_ROOT>/admin to schema \"infra\" of the control database\n"
	"(DATABASE_URL), under the same advisory lock infrad takes at start. The\n"
	"configuration comes from FILE (or INFRA_CONFIG) and INFRA_* variables.\n"
	"\n"
	"Exit status: 0 when the control schema is up to date, 1 otherwise.\n";

int cmd_migrate_self(int argc, char **argv)
{
	const char *file = getenv("INFRA_CONFIG");
	struct strbuf dir = STRBUF_INIT;
	struct infra_error err;
	struct config cfg;
	char *problems = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(migrate_self_usage, stdout);
			return CTL_OK;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else {
			fputs(migrate_self_usage, stderr);
			return CTL_USAGE;
		}
	}
	if (config_load(&cfg, file, CONFIG_FOR_CLI, &problems) != 0) {
		fputs(problems ? problems : "infractl: invalid configuration\n", stderr);
		free(problems);
		return CTL_FAILED;
	}
	if (cfg.database_url == NULL || cfg.database_url[0] == '\0') {
		fputs("infractl: DATABASE_URL (INFRA_DATABASE_URL) is not set\n", stderr);
		config_release(&cfg);
		return CTL_FAILED;
	}
	/* Say what was applied: the engine logs each migration at info level. */
	log_init("infractl", LOG_LEVEL_INFO);
	strbuf_addf(&dir, "%s/admin", cfg.migrations_root);
	rc = mig_migrate_self(cfg.database_url, dir.buf, &err);
	if (rc != 0)
		fprintf(stderr, "infractl: migrate-self failed: %s\n", err.message);
	strbuf_release(&dir);
	config_release(&cfg);
	return rc == 0 ? CTL_OK : CTL_FAILED;
}
