/* cmd_undo.c — `infractl undo`: undo applied migrations with their U scripts, newest first
 * (the engine's MIG_CMD_UNDO; options shared in engine_opts.c). */
#include "ctl.h"
#include "engine_opts.h"

static const char undo_usage[] =
	"usage: infractl undo (--url URL [--schemas S1,S2,... | --schemas-from FILE] | --targets-from FILE)\n"
	"       --locations DIR [options]\n"
	"\n"
	"Undo applied migrations with their U scripts, newest first.\n"
	"\n"
	"Without --target, undoes the newest applied version; with --target V, every\n"
	"applied version above V. Refuses a target before changing anything when one\n"
	"of those versions has no U<version>__<description>.sql script. Each undo\n"
	"runs in a transaction with its UNDO_SQL history row.\n"
	"\n"
	"options:\n"
	ENGINE_OPTIONS_HELP;

int cmd_undo(int argc, char **argv)
{
	return engine_command(MIG_CMD_UNDO, argc, argv, undo_usage);
}
