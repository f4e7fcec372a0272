/* cmd_rotate_keys.c — `infractl rotate-keys`: re-encrypt every stored
 * database password under the newest key of ENCRYPTION_KEYS (the first
 * one), in small transactions with row locks, so it runs online beside
 * infrad and an interrupted run is resumed by running it again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "config.h"
#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "registry.h"

static const char rotate_usage[] =
	"usage: infractl rotate-keys [--config FILE] [--batch N] [--check]\n"
	"\n"
	"Re-encrypt every stored database password not yet under the first key of\n"
	"ENCRYPTION_KEYS. Put the new key first in the ring on every host (and\n"
	"reload), run this, and remove the old key once it reports 0 left.\n"
	"\n"
	"  --config FILE  the service configuration (default: $INFRA_CONFIG)\n"
	"  --batch N      rows per transaction, 1..1000 (default 50)\n"
	"  --check        only count the rows not under the first key\n"
	"\n"
	"exit status: 0 when no row is left under an older key, 1 otherwise\n";

int cmd_rotate_keys(int argc, char **argv)
{
	const char *file = getenv("INFRA_CONFIG");
	const struct crypto_keyring *ring;
	struct infra_error err;
	struct config cfg;
	struct db db;
	char *problems = NULL, *end;
	long batch = 50, rotated = 0, failed = 0, left = 0;
	int check = 0, rc = CTL_OK;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(rotate_usage, stdout);
			return CTL_OK;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			batch = strtol(argv[++i], &end, 10);
			if (*end != '\0' || batch < 1 || batch > 1000) {
				fprintf(stderr, "infractl rotate-keys: --batch must be 1..1000\n");
				return CTL_USAGE;
			}
		} else if (strcmp(argv[i], "--check") == 0) {
			check = 1;
		} else {
			fputs(rotate_usage, stderr);
			return CTL_USAGE;
		}
	}
	if (config_load(&cfg, file, CONFIG_FOR_CLI, &problems) != 0) {
		fputs(problems, stderr);
		free(problems);
		return CTL_FAILED;
	}
	if (cfg.database_url == NULL || cfg.database_url[0] == '\0') {
		fprintf(stderr, "infractl rotate-keys: setting 'DATABASE_URL' is required\n");
		config_release(&cfg);
		return CTL_FAILED;
	}
	ring = crypto_keyring_shared(cfg.encryption_keys, &err);
	if (ring == NULL) {
		fprintf(stderr, "infractl rotate-keys: %s\n", err.message);
		config_release(&cfg);
		return CTL_FAILED;
	}
	db_init(&db, cfg.database_url, cfg.db_connect_timeout_s, cfg.db_statement_timeout_ms,
		"infractl");
	if (!check && registry_rotate_keys(&db, ring, (int)batch, &rotated, &failed, &err) != 0) {
		fprintf(stderr, "infractl rotate-keys: %s (rerun to resume)\n", err.message);
		rc = CTL_FAILED;
	} else if (registry_count_stale_keys(&db, ring, &left, &err) != 0) {
		fprintf(stderr, "infractl rotate-keys: %s\n", err.message);
		rc = CTL_FAILED;
	} else {
		if (!check)
			printf("re-encrypted %ld, could not decrypt %ld\n", rotated, failed);
		printf("%ld left under an older key than '%s'\n", left, crypto_keyring_primary(ring));
		rc = left == 0 ? CTL_OK : CTL_FAILED;
	}
	if (!check) {
		json_object *details = json_object_new_object();
		const char *user = getenv("USER");
		struct audit_entry e = {
			.actor = user && *user ? user : "infractl",
			.action = "database.rotate_keys",
			.resource = "database",
			.outcome = rc == CTL_OK ? AUDIT_SUCCESS : AUDIT_FAILURE,
			.user_agent = "infractl",
			.details = details,
		};

		json_object_object_add(details, "kid", json_object_new_string(crypto_keyring_primary(ring)));
		json_object_object_add(details, "rotated", json_object_new_int64(rotated));
		json_object_object_add(details, "failed", json_object_new_int64(failed));
		json_object_object_add(details, "left", json_object_new_int64(left));
		if (audit_record(&db, &e, &err) != 0)
			fprintf(stderr, "infractl rotate-keys: cannot write the audit entry: %s\n",
				err.message);
		json_object_put(details);
	}
	db_release(&db);
	config_release(&cfg);
	return rc;
}
