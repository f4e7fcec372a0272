/* cmd_baseline.c — `infractl baseline`: record a baseline version in each target
 * (the engine's MIG_CMD_BASELINE; options shared in engine_opts.c). */
#include "ctl.h"
#include "engine_opts.h"

static const char baseline_usage[] =
	"usage: infractl baseline (--url URL [--schemas S1,S2,... | --schemas-from FILE] | --targets-from FILE)\n"
	"       --locations DIR [options]\n"
	"\n"
	"Record a baseline version in each target.\n"
	"\n"
	"Writes Flyway's BASELINE row (version --baseline-version, default 1) into a\n"
	"schema that has no applied migrations, creating the history table if\n"
	"needed; migrations up to that version are then skipped.\n"
	"\n"
	"options:\n"
	ENGINE_OPTIONS_HELP;

int cmd_baseline(int argc, char **argv)
{
	return engine_command(MIG_CMD_BASELINE, argc, argv, baseline_usage);
}
