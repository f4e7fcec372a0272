/* runner.c — a job runner: the process that does long work away from
 * request workers. It owns a control-database connection and a memcached
 * client, and calls each registered task (lib/runner_task.h) when it is
 * due, sleeping in between (a notification on a task's channel wakes it
 * for that task at once), until it is asked to stop. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "daemon.h"
#include "event.h"
#include "exec_run.h"
#include "log.h"
#include "probe.h"
#include "proctitle.h"
#include "runner_task.h"
#include "schedule.h"
#include "tenant.h"
#include "timeutil.h"

#define RUNNER_MAX_SLEEP_MS 1000

/* The tasks every runner runs, each registered by the module that owns it. */
static const struct runner_task tasks[] = {
	{ "probes", probe_task, NULL, NULL },		/* lib/probe.h: database health probes */
	{ "executions", exec_task, exec_task_release,	/* lib/exec_run.h: migration executions */
	  EXEC_WORK_CHANNEL },
	{ "events", event_task, tenant_sessions_release,	/* lib/event.h: the outbox's consumer */
	  NULL },
	{ "schedules", schedule_task, NULL, NULL },	/* lib/schedule.h: migration schedules */
	{ "alerts", alert_task, NULL, NULL },		/* lib/alert.h: webhook deliveries */
	{ NULL, NULL, NULL, NULL },
};

#define MAX_TASKS (sizeof(tasks) / sizeof(tasks[0]))

/* LISTEN on the tasks' wake channels, once per control connection. */
static void listen_wakes(struct runner_ctx *ctx)
{
	static uint64_t listening_on;
	struct infra_error err;

	if (ctx->db.conn == NULL || ctx->db.generation == listening_on)
		return;
	for (size_t i = 0; tasks[i].run != NULL; i++) {
		char sql[96];

		if (tasks[i].wake == NULL)
			continue;
		snprintf(sql, sizeof(sql), "LISTEN %s", tasks[i].wake);
		if (db_exec_command(&ctx->db, &err, sql, 0, NULL) != 0)
			return;		/* tried again before the next sleep */
	}
	listening_on = ctx->db.generation;
}

/* Sleep up to `ms`, waking early when a task's channel is notified (that
 * task is then due now). Other notifications are dropped. */
static void sleep_or_wake(struct runner_ctx *ctx, int ms, int64_t *due)
{
	struct pollfd pfd = { .fd = ctx->db.conn ? PQsocket(ctx->db.conn) : -1, .events = POLLIN };
	PGnotify *n;

	listen_wakes(ctx);
	if (pfd.fd < 0 || PQstatus(ctx->db.conn) != CONNECTION_OK) {
		poll(NULL, 0, ms);
		return;
	}
	if (poll(&pfd, 1, ms) <= 0)
		return;
	/* Readable: notifications, or a connection the server closed (the
	 * next statement reconnects; sleep out the rest rather than spin). */
	if (PQconsumeInput(ctx->db.conn) == 0 || PQstatus(ctx->db.conn) != CONNECTION_OK) {
		poll(NULL, 0, ms);
		return;
	}
	while ((n = PQnotifies(ctx->db.conn)) != NULL) {
		for (size_t i = 0; tasks[i].run != NULL; i++)
			if (tasks[i].wake != NULL && strcmp(n->relname, tasks[i].wake) == 0)
				due[i] = time_mono_ms();
		PQfreemem(n);
	}
}

int runner_main(const struct config *cfg, int index, int64_t started_at)
{
	struct runner_ctx ctx;
	int64_t due[MAX_TASKS];
	enum log_level level = LOG_LEVEL_INFO;

	(void)started_at;
	proctitle_set("infrad: runner");
	log_level_parse(cfg->log_level, &level);
	log_init("runner", level);
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.index = index;
	ctx.stop = &child_stop_requested;
	snprintf(ctx.owner, sizeof(ctx.owner), "%s:%d", cfg->host_name, (int)getpid());
	db_init(&ctx.db, cfg->database_url, cfg->db_connect_timeout_s,
		cfg->db_statement_timeout_ms, "infrad-runner");
	ctx.cache = cache_new(cfg->memcached_servers, cfg->memcached_timeout_ms);
	if (ctx.cache == NULL) {
		db_release(&ctx.db);
		return CHILD_EXIT_FATAL;
	}
	for (size_t i = 0; tasks[i].run != NULL; i++)
		due[i] = time_mono_ms() + (int64_t)index * 50;	/* stagger runners */
	while (!child_stop_requested) {
		int64_t now = time_mono_ms(), next = now + RUNNER_MAX_SLEEP_MS;

		for (size_t i = 0; tasks[i].run != NULL && !child_stop_requested; i++) {
			if (due[i] <= now) {
				int64_t wait = tasks[i].run(&ctx);

				now = time_mono_ms();
				due[i] = now + (wait > 0 ? wait : 0);
			}
			if (due[i] < next)
				next = due[i];
		}
		if (next > now && !child_stop_requested)
			sleep_or_wake(&ctx, (int)(next - now), due);
	}
	for (size_t i = 0; tasks[i].run != NULL; i++)
		if (tasks[i].release != NULL)
			tasks[i].release();
	cache_free(ctx.cache);
	db_release(&ctx.db);
	return CHILD_EXIT_OK;
}
