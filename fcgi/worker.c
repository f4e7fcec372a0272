/* worker.c — a request worker: the libfcgi accept loop over the shared
 * socket, one request at a time, its memory from an arena reset after each
 * request, replaced by the master after MAX_REQUESTS. */
#include <errno.h>
#include <fcgiapp.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "proctitle.h"

#define ARENA_BLOCK (16 * 1024)

/* MAX_REQUESTS plus up to 10% jitter, so workers started together are not
 * all recycled at the same moment. */
static long request_budget(int max_requests)
{
	if (max_requests <= 0)
		return -1;
	return max_requests + (long)(getpid() % (max_requests / 10 + 1));
}

int worker_main(const struct config *cfg, int listen_fd, int64_t started_at)
{
	FCGX_Request req;
	struct arena arena;
	struct app app;
	struct infra_error err;
	long budget = request_budget(cfg->max_requests), served = 0;

	proctitle_set("infrad: worker");
	log_init("worker", LOG_LEVEL_INFO);
	{
		enum log_level level;

		if (log_level_parse(cfg->log_level, &level) == 0)
			log_init("worker", level);
	}
	if (app_init(&app, cfg, started_at, &err) != 0) {
		log_error("worker initialisation failed: %s", err.message);
		return CHILD_EXIT_FATAL;
	}
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		app_release(&app);
		return CHILD_EXIT_FATAL;
	}
	if (FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("FCGX_InitRequest failed");
		app_release(&app);
		return CHILD_EXIT_FATAL;
	}
	arena_init(&arena, ARENA_BLOCK);
	while (!child_stop_requested) {
		int rc = FCGX_Accept_r(&req);

		if (rc < 0) {
			if (child_stop_requested || rc == -EINTR)
				continue;
			log_error("FCGX_Accept_r failed with %d", rc);
			break;
		}
		http_serve(&app, &req, &arena);
		FCGX_Finish_r(&req);
		arena_reset(&arena);
		if (budget > 0 && ++served >= budget) {
			log_info("worker recycled after %ld requests", served);
			break;
		}
	}
	FCGX_Free(&req, 0);
	arena_release(&arena);
	app_release(&app);
	return CHILD_EXIT_OK;
}
