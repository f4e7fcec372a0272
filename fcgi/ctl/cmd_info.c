/* cmd_info.c — `infractl info`: list every migration of each target and its state
 * (the engine's MIG_CMD_INFO; options shared in engine_opts.c). */
#include "ctl.h"
#include "engine_opts.h"

static const char info_usage[] =
	"usage: infractl info (--url URL [--schemas S1,S2,... | --schemas-from FILE] | --targets-from FILE)\n"
	"       --locations DIR [options]\n"
	"\n"
	"List every migration of each target and its state.\n"
	"\n"
	"States follow Flyway: pending, success, failed, out_of_order, ignored,\n"
	"future, missing, outdated, superseded, undone, baseline, below_baseline,\n"
	"above_target, deleted. Changes nothing.\n"
	"\n"
	"options:\n"
	ENGINE_OPTIONS_HELP;

int cmd_info(int argc, char **argv)
{
	return engine_command(MIG_CMD_INFO, argc, argv, info_usage);
}
