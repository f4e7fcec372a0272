/* master.c — the supervisor (php-fpm's master, nginx's master): forks the
 * request workers, job runners and the schema service, replaces the ones
 * that die (with backoff when they die young), rolls every child on SIGHUP
 * after a successful reload without dropping a request, and drains on
 * SIGTERM/SIGQUIT/SIGINT.
 *
 * Signals only write a byte to a self-pipe; the loop below polls that pipe,
 * so nothing is lost between a check and a wait. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define YOUNG_DEATH_MS 5000	/* dying sooner than this doubles the backoff */
#define RESIGNAL_MS 250		/* re-send stop to draining children this often */

enum role { ROLE_WORKER, ROLE_RUNNER, ROLE_SCHEMAS };

static const char *const role_names[] = {
	[ROLE_WORKER] = "worker", [ROLE_RUNNER] = "runner", [ROLE_SCHEMAS] = "schema service",
};

/* A place for one child of the current generation. */
struct slot {
	enum role role;
	int index;
	pid_t pid;		/* 0: empty */
	int64_t started_ms;
	int64_t respawn_at_ms;	/* when empty: when to fork again */
	int backoff_ms;
};

/* A child of an older generation, or of a shutdown, finishing its work. */
struct draining {
	pid_t pid;
	int64_t deadline_ms;
	int64_t signalled_ms;
};

struct master {
	struct config cfg;
	const char *config_path;
	int listen_fd;
	int64_t started_at;
	struct slot *slots;
	int nslots;
	struct draining *draining;
	int ndraining, draining_alloc;
	bool stopping;
};

static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	if (write(signal_pipe[1], &b, 1) < 0) {
		/* The pipe is full: enough wake-ups are queued already. */
	}
	errno = saved;
}

static int signals_init(void)
{
	struct sigaction sa;
	const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGQUIT, SIGINT };

	if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return log_errno("pipe2", "signals");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static void count_alive(const struct master *m)
{
	int workers = 0, runners = 0;

	for (int i = 0; i < m->nslots; i++) {
		if (m->slots[i].pid == 0)
			continue;
		if (m->slots[i].role == ROLE_WORKER)
			workers++;
		else if (m->slots[i].role == ROLE_RUNNER)
			runners++;
	}
	metrics_set(METRIC_WORKERS_ALIVE, workers);
	metrics_set(METRIC_RUNNERS_ALIVE, runners);
}

static void spawn(struct master *m, struct slot *s)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_errno("fork", role_names[s->role]);
		s->respawn_at_ms = time_mono_ms() + BACKOFF_MAX_MS;
		return;
	}
	if (pid == 0) {
		int status;

		close(signal_pipe[0]);
		close(signal_pipe[1]);
		child_signals_init();
		if (s->role == ROLE_WORKER)
			status = worker_main(&m->cfg, m->listen_fd, m->started_at);
		else if (s->role == ROLE_RUNNER)
			status = runner_main(&m->cfg, s->index, m->started_at);
		else
			status = schemas_main(&m->cfg);
		exit(status);
	}
	s->pid = pid;
	s->started_ms = time_mono_ms();
	s->respawn_at_ms = 0;
}

/* Lay out the slots of a new generation for `cfg` (all empty, due now):
 * the workers, the runners, and one schema service. */
static int slots_create(struct master *m)
{
	int n = m->cfg.workers + m->cfg.runners + 1;
	struct slot *slots = calloc((size_t)n, sizeof(*slots));

	if (slots == NULL)
		return log_errno("calloc", "slots");
	for (int i = 0; i < n; i++) {
		slots[i].role = i < m->cfg.workers ? ROLE_WORKER
			: i < n - 1 ? ROLE_RUNNER : ROLE_SCHEMAS;
		slots[i].index = i < m->cfg.workers ? i : i < n - 1 ? i - m->cfg.workers : 0;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
	return 0;
}

static void drain_add(struct master *m, pid_t pid)
{
	int64_t now = time_mono_ms();

	if (m->ndraining == m->draining_alloc) {
		int alloc = m->draining_alloc ? m->draining_alloc * 2 : 16;
		struct draining *d = realloc(m->draining, (size_t)alloc * sizeof(*d));

		if (d == NULL) {
			/* Cannot track it gracefully: stop it now. */
			kill(pid, SIGKILL);
			return;
		}
		m->draining = d;
		m->draining_alloc = alloc;
	}
	m->draining[m->ndraining++] = (struct draining){
		.pid = pid,
		.deadline_ms = now + (int64_t)m->cfg.shutdown_timeout_s * 1000,
		.signalled_ms = now,
	};
	kill(pid, SIGTERM);
}

/* Move every current child to the draining list (they finish their work
 * and exit); the slots are left empty. */
static void drain_generation(struct master *m)
{
	for (int i = 0; i < m->nslots; i++) {
		if (m->slots[i].pid != 0)
			drain_add(m, m->slots[i].pid);
		m->slots[i].pid = 0;
	}
}

static bool drain_remove(struct master *m, pid_t pid)
{
	for (int i = 0; i < m->ndraining; i++) {
		if (m->draining[i].pid == pid) {
			m->draining[i] = m->draining[--m->ndraining];
			return true;
		}
	}
	return false;
}

static void describe_exit(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, len, "stopped (status %d)", status);
}

static void reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int64_t now = time_mono_ms();
		char how[64];

		/* A worker killed mid-stream gives its stream place back. */
		metrics_stream_release((int)pid);
		if (drain_remove(m, pid))
			continue;
		for (int i = 0; i < m->nslots; i++) {
			struct slot *s = &m->slots[i];
			bool clean = WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_OK;

			if (s->pid != pid)
				continue;
			s->pid = 0;
			if (clean) {
				/* Recycled after MAX_REQUESTS: replace it at once. */
				metrics_add(METRIC_WORKER_RECYCLES, 1);
				s->backoff_ms = 0;
				s->respawn_at_ms = now;
				break;
			}
			describe_exit(status, how, sizeof(how));
			metrics_add(METRIC_WORKER_RESTARTS, 1);
			if (now - s->started_ms < YOUNG_DEATH_MS)
				s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
			else
				s->backoff_ms = 0;
			if (s->backoff_ms > BACKOFF_MAX_MS)
				s->backoff_ms = BACKOFF_MAX_MS;
			s->respawn_at_ms = now + s->backoff_ms;
			log_warn("%s %d (pid %d) %s; respawning in %d ms",
				 role_names[s->role], s->index,
				 (int)pid, how, s->backoff_ms);
			break;
		}
	}
}

static void log_problems(const char *what, char *problems)
{
	char *line = problems, *nl;

	while (line && *line) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		log_error("%s: %s", what, line);
		line = nl ? nl + 1 : NULL;
	}
}

/* SIGHUP: load the configuration again; if it is valid, start a new
 * generation of children under it, then let the old one drain. */
static void reload(struct master *m)
{
	struct config next;
	char *problems = NULL;
	int fd = m->listen_fd;
	enum log_level level;

	if (config_load(&next, m->config_path, CONFIG_FOR_DAEMON, &problems) != 0) {
		log_problems("reload refused, configuration kept", problems);
		free(problems);
		return;
	}
	if (strcmp(next.listen, m->cfg.listen) != 0 ||
	    strcmp(next.listen_mode, m->cfg.listen_mode) != 0) {
		fd = listen_open(next.listen, next.listen_mode, next.listen_backlog);
		if (fd < 0) {
			log_error("reload refused: cannot listen on '%s'", next.listen);
			config_release(&next);
			return;
		}
	}
	drain_generation(m);
	if (fd != m->listen_fd) {
		/* Old children keep their copy until they exit. */
		listen_close(m->listen_fd, NULL);
		if (m->cfg.listen[0] == '/')
			unlink(m->cfg.listen);
		m->listen_fd = fd;
	}
	config_release(&m->cfg);
	m->cfg = next;
	if (log_level_parse(m->cfg.log_level, &level) == 0)
		log_init("master", level);
	if (slots_create(m) != 0) {
		m->stopping = true;
		return;
	}
	for (int i = 0; i < m->nslots; i++)
		spawn(m, &m->slots[i]);
	metrics_add(METRIC_RELOADS, 1);
	log_info("configuration reloaded: %d workers, %d runners", m->cfg.workers, m->cfg.runners);
}

static void begin_shutdown(struct master *m, int sig)
{
	if (m->stopping)
		return;
	log_info("signal %d: draining %d processes", sig, m->nslots);
	m->stopping = true;
	drain_generation(m);
}

/* Stop signals can race with a child entering accept(), so draining
 * children are reminded until they exit, and killed at their deadline. */
static void nudge_draining(struct master *m, int64_t now)
{
	for (int i = 0; i < m->ndraining; i++) {
		struct draining *d = &m->draining[i];

		if (now >= d->deadline_ms) {
			log_warn("pid %d did not drain within SHUTDOWN_TIMEOUT; killing it", (int)d->pid);
			kill(d->pid, SIGKILL);
			d->deadline_ms = now + 60000;
		} else if (now - d->signalled_ms >= RESIGNAL_MS) {
			kill(d->pid, SIGTERM);
			d->signalled_ms = now;
		}
	}
}

/* Milliseconds until the loop has something to do, or -1 for never. */
static int next_wakeup(const struct master *m, int64_t now)
{
	int64_t next = -1;

	for (int i = 0; i < m->nslots && !m->stopping; i++) {
		const struct slot *s = &m->slots[i];

		if (s->pid == 0 && (next < 0 || s->respawn_at_ms < next))
			next = s->respawn_at_ms;
	}
	if (m->ndraining > 0 && (next < 0 || now + RESIGNAL_MS < next))
		next = now + RESIGNAL_MS;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

static int handle_signals(struct master *m)
{
	unsigned char buf[64];
	ssize_t n;
	bool hup = false;
	int stop = 0;

	while ((n = read(signal_pipe[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == SIGHUP)
				hup = true;
			else if (buf[i] != SIGCHLD)
				stop = buf[i];
		}
	}
	reap(m);
	if (stop)
		begin_shutdown(m, stop);
	else if (hup && !m->stopping)
		reload(m);
	return 0;
}

int master_run(struct config *cfg, const char *config_path, int listen_fd)
{
	struct master m;
	struct pollfd pfd;

	memset(&m, 0, sizeof(m));
	m.cfg = *cfg;
	m.config_path = config_path;
	m.listen_fd = listen_fd;
	m.started_at = time_wall_s();
	if (signals_init() != 0 || slots_create(&m) != 0)
		return 1;
	for (int i = 0; i < m.nslots; i++)
		spawn(&m, &m.slots[i]);
	log_info("master started: %d workers, %d runners on '%s'", m.cfg.workers,
		 m.cfg.runners, m.cfg.listen);
	pfd.fd = signal_pipe[0];
	pfd.events = POLLIN;
	for (;;) {
		int64_t now = time_mono_ms();
		bool alive = m.ndraining > 0;

		for (int i = 0; i < m.nslots; i++) {
			struct slot *s = &m.slots[i];

			if (s->pid == 0 && !m.stopping && s->respawn_at_ms <= now)
				spawn(&m, s);
			alive |= s->pid != 0;
		}
		count_alive(&m);
		if (m.stopping && !alive)
			break;
		nudge_draining(&m, now);
		if (poll(&pfd, 1, next_wakeup(&m, now)) > 0)
			handle_signals(&m);
	}
	listen_close(m.listen_fd, m.cfg.listen);
	log_info("master stopped");
	*cfg = m.cfg;
	free(m.slots);
	free(m.draining);
	return 0;
}
