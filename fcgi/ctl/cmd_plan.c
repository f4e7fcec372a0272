/* cmd_plan.c — `infractl plan`: show what migrate would apply to each target (dry run)
 * (the engine's MIG_CMD_PLAN; options shared in engine_opts.c). */
#include "ctl.h"
#include "engine_opts.h"

static const char plan_usage[] =
	"usage: infractl plan (--url URL [--schemas S1,S2,... | --schemas-from FILE] | --targets-from FILE)\n"
	"       --locations DIR [options]\n"
	"\n"
	"Show what migrate would apply to each target (dry run).\n"
	"\n"
	"Lists the pending migrations per target, and the problems that would make\n"
	"migrate refuse it. Changes nothing.\n"
	"\n"
	"options:\n"
	ENGINE_OPTIONS_HELP;

int cmd_plan(int argc, char **argv)
{
	return engine_command(MIG_CMD_PLAN, argc, argv, plan_usage);
}
