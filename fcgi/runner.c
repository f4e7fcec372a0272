/* runner.c — a job runner: the process that does long work away from
 * request workers (migrations, probes, events, schedules). It waits for
 * work until it is asked to stop; the job kinds are registered by the
 * modules that own them. */
#include <poll.h>

#include "daemon.h"
#include "log.h"
#include "proctitle.h"

#define RUNNER_IDLE_MS 1000

int runner_main(const struct config *cfg, int index, int64_t started_at)
{
	enum log_level level = LOG_LEVEL_INFO;

	(void)started_at;
	proctitle_set("infrad: runner");
	log_level_parse(cfg->log_level, &level);
	log_init("runner", level);
	log_debug("runner %d started", index);
	while (!child_stop_requested)
		poll(NULL, 0, RUNNER_IDLE_MS);
	return CHILD_EXIT_OK;
}
