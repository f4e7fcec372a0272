/* cmd_validate.c — `infractl validate`: check each target's history against the scripts
 * (the engine's MIG_CMD_VALIDATE; options shared in engine_opts.c). */
#include "ctl.h"
#include "engine_opts.h"

static const char validate_usage[] =
	"usage: infractl validate (--url URL [--schemas S1,S2,... | --schemas-from FILE] | --targets-from FILE)\n"
	"       --locations DIR [options]\n"
	"\n"
	"Check each target's history against the scripts.\n"
	"\n"
	"Reports Flyway's problem codes: CHECKSUM_MISMATCH, DESCRIPTION_MISMATCH,\n"
	"TYPE_MISMATCH, FAILED_VERSIONED_MIGRATION, FAILED_REPEATABLE_MIGRATION,\n"
	"APPLIED_VERSIONED_MIGRATION_NOT_RESOLVED, APPLIED_REPEATABLE_MIGRATION_NOT_RESOLVED,\n"
	"RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED, RESOLVED_REPEATABLE_MIGRATION_NOT_APPLIED,\n"
	"OUTDATED_REPEATABLE_MIGRATION. As in Flyway, a pending migration is a problem.\n"
	"Changes nothing.\n"
	"\n"
	"options:\n"
	ENGINE_OPTIONS_HELP;

int cmd_validate(int argc, char **argv)
{
	return engine_command(MIG_CMD_VALIDATE, argc, argv, validate_usage);
}
