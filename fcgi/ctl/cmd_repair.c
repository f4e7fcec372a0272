/* cmd_repair.c — `infractl repair`: repair each target's schema history
 * (the engine's MIG_CMD_REPAIR; options shared in engine_opts.c). */
#include "ctl.h"
#include "engine_opts.h"

static const char repair_usage[] =
	"usage: infractl repair (--url URL [--schemas S1,S2,... | --schemas-from FILE] | --targets-from FILE)\n"
	"       --locations DIR [options]\n"
	"\n"
	"Repair each target's schema history.\n"
	"\n"
	"Removes the rows of failed migrations, realigns the checksum, description\n"
	"and type of applied migrations with their scripts, and marks applied\n"
	"migrations whose script is gone as deleted (a DELETE row), as Flyway's\n"
	"repair does. Objects a failed migration left behind are not touched.\n"
	"\n"
	"options:\n"
	ENGINE_OPTIONS_HELP;

int cmd_repair(int argc, char **argv)
{
	return engine_command(MIG_CMD_REPAIR, argc, argv, repair_usage);
}
