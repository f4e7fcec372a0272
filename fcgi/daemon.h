/* daemon.h — the processes of infrad: the master (master.c) supervises
 * request workers (worker.c), job runners (runner.c) and the schema service
 * (schemas.c), all forked from it and sharing its listening socket and
 * metrics region. */
#ifndef INFRA_DAEMON_H
#define INFRA_DAEMON_H

#include <signal.h>
#include <stdint.h>

#include "config.h"

/* A child's exit status: 0 when it stopped because it was asked to or was
 * recycled; CHILD_EXIT_FATAL when it could not run at all. Anything else,
 * or death by a signal, is a crash the master answers with a respawn and
 * backoff. */
#define CHILD_EXIT_OK 0
#define CHILD_EXIT_FATAL 3

/* Set by a child's SIGTERM/SIGQUIT/SIGINT handler: finish the current
 * piece of work, then exit. */
extern volatile sig_atomic_t child_stop_requested;

/* In a freshly forked child: restore default signal dispositions, install
 * the stop handler (without SA_RESTART, so a blocking accept or poll
 * returns EINTR), ignore SIGPIPE and SIGHUP, die with the master, and
 * unblock signals. */
void child_signals_init(void);

/* Serve FastCGI requests on `listen_fd` until asked to stop or, after
 * cfg->max_requests requests, recycled. Returns the exit status. */
int worker_main(const struct config *cfg, int listen_fd, int64_t started_at);

/* Run background jobs until asked to stop. `index` numbers the runners
 * of this host (0..RUNNERS-1). Returns the exit status. */
int runner_main(const struct config *cfg, int index, int64_t started_at);

/* Create and drop tenant schemas for the workers and runners of the same
 * master (lib/schema_service.h) until asked to stop. Returns the exit
 * status. */
int schemas_main(const struct config *cfg);

/* Supervise children until SIGTERM/SIGQUIT/SIGINT; reload on SIGHUP.
 * `cfg` and `listen_fd` become the master's; `config_path` may be NULL.
 * Returns the process exit status. */
int master_run(struct config *cfg, const char *config_path, int listen_fd);

#endif
