/* infractl.c — the operator CLI's entry point and its table of
 * subcommands (git.c's layout): `infractl <command> [options]`. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

struct ctl_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct ctl_command commands[] = {
	{ "config", cmd_config, "check the service configuration, or print its reference" },
	{ "jwks", cmd_jwks, "print the JWKS that trusts a signing key" },
	{ "token", cmd_token, "mint a Keycloak-shaped access token (development, break-glass)" },
	{ "rotate-keys", cmd_rotate_keys, "re-encrypt stored credentials under the newest key" },
	{ "migrate", cmd_migrate, "apply pending migrations to target schemas" },
	{ "info", cmd_info, "list the migrations of target schemas and their state" },
	{ "validate", cmd_validate, "check target schemas' history against the scripts" },
	{ "plan", cmd_plan, "show what migrate would apply (dry run)" },
	{ "repair", cmd_repair, "repair target schemas' history (failed rows, checksums)" },
	{ "baseline", cmd_baseline, "record a baseline version in target schemas" },
	{ "undo", cmd_undo, "undo applied migrations with their U scripts" },
	{ "checksum", cmd_checksum, "print Flyway's checksum of files" },
	{ "migrate-self", cmd_migrate_self, "apply migrations/admin to the control database" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: infractl <command> [options]\n\ncommands:\n", out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fputs("\n'infractl <command> --help' describes one command\n", out);
}

int main(int argc, char **argv)
{
	log_init("infractl", LOG_LEVEL_WARN);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_USAGE : CTL_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "infractl: '%s' is not a command; see 'infractl --help'\n", argv[1]);
	return CTL_USAGE;
}
