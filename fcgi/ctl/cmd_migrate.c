/* cmd_migrate.c — `infractl migrate`: apply pending migrations to each target schema
 * (the engine's MIG_CMD_MIGRATE; options shared in engine_opts.c). */
#include "ctl.h"
#include "engine_opts.h"

static const char migrate_usage[] =
	"usage: infractl migrate (--url URL [--schemas S1,S2,... | --schemas-from FILE] | --targets-from FILE)\n"
	"       --locations DIR [options]\n"
	"\n"
	"Apply pending migrations to each target schema.\n"
	"\n"
	"Validates each target first (checksums, descriptions, types, failed or\n"
	"ignored migrations) and refuses a target that does not validate. Each\n"
	"migration runs in its own transaction with its history row; a script that\n"
	"PostgreSQL cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM, ...)\n"
	"runs statement by statement, and a failure there is recorded and blocks the\n"
	"target until `infractl repair`. Repeatable migrations (R__) run after the\n"
	"versioned ones when new or changed.\n"
	"\n"
	"options:\n"
	ENGINE_OPTIONS_HELP;

int cmd_migrate(int argc, char **argv)
{
	return engine_command(MIG_CMD_MIGRATE, argc, argv, migrate_usage);
}
