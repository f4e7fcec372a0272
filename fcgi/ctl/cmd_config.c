/* cmd_config.c — `infractl config check|reference`: validate the service
 * configuration the way infrad would, or print the table of settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"

static const char config_usage[] =
	"usage: infractl config check [--config FILE]\n"
	"       infractl config reference\n"
	"\n"
	"check      validate defaults, FILE and INFRA_* variables as infrad does\n"
	"reference  print every setting: name, default, description (tab-separated)\n";

int cmd_config(int argc, char **argv)
{
	const char *file = getenv("INFRA_CONFIG");
	struct config cfg;
	char *problems = NULL;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(config_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_USAGE : CTL_OK;
	}
	if (strcmp(argv[1], "reference") == 0) {
		config_print_reference();
		return CTL_OK;
	}
	if (strcmp(argv[1], "check") != 0) {
		fputs(config_usage, stderr);
		return CTL_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else {
			fputs(config_usage, stderr);
			return CTL_USAGE;
		}
	}
	if (config_load(&cfg, file, CONFIG_FOR_DAEMON, &problems) != 0) {
		fputs(problems, stderr);
		free(problems);
		return CTL_FAILED;
	}
	config_release(&cfg);
	puts("configuration ok");
	return CTL_OK;
}
