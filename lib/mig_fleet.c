/* mig_fleet.c — running a migration command on many targets from one
 * thread (see mig_engine.h).
 *
 * A single poll() loop drives up to `parallel` non-blocking sessions; each
 * carries one target's state machine (mig_target.c) at a time and, when it
 * is done, the next target of the same database, so a fleet of schemas in
 * one database costs a handful of connections. Measured against forked
 * workers this keeps the server, not the client, the bottleneck (see
 * docs/ENGINE.md). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mig_alloc.h"
#include "mig_task.h"
#include "timeutil.h"

/* Longest a ready target waits for a session of its own database while
 * another session is free (move_cost). */
#define MIG_MOVE_WAIT_MS 2000

struct fleet {
	struct mig_shared shared;
	const struct mig_target *targets;
	size_t n;
	size_t cap;			/* of targets[], tasks[] and queue[] */
	struct mig_outcome *outcomes;
	struct mig_task *tasks;
	struct mig_session *sessions;
	struct mig_task **bound;	/* the task each session carries, or NULL */
	int nsessions;
	size_t *queue;			/* tasks waiting to (re)start, in order */
	size_t nqueue;
	int *working;			/* per database: sessions carrying one of its tasks */
	int *waiting;			/* per database: its tasks in queue[] */
	int nwaiting;			/* databases with tasks in queue[] */
	unsigned *seen;			/* per database: take_ready's last look at it */
	unsigned look;			/* … numbered */
	size_t finished;
	bool feed_more;			/* cb.feed expects more targets */
	bool any_held;			/* a task waits for cb.changes_recorded */
	uint64_t rng;
	struct pollfd *fds;
	int *fd_session;
};

static const char *const command_names[] = {
	[MIG_CMD_MIGRATE] = "migrate", [MIG_CMD_INFO] = "info",
	[MIG_CMD_VALIDATE] = "validate", [MIG_CMD_PLAN] = "plan",
	[MIG_CMD_REPAIR] = "repair", [MIG_CMD_BASELINE] = "baseline",
	[MIG_CMD_UNDO] = "undo",
};

#define NCOMMANDS (sizeof(command_names) / sizeof(command_names[0]))

const char *mig_command_name(enum mig_command cmd)
{
	return (size_t)cmd < NCOMMANDS ? command_names[cmd] : "?";
}

int mig_command_parse(const char *name, enum mig_command *out)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(name, command_names[i]) == 0) {
			*out = (enum mig_command)i;
			return 0;
		}
	}
	return -1;
}

void mig_options_init(struct mig_options *o, enum mig_command command)
{
	memset(o, 0, sizeof(*o));
	o->command = command;
	o->parallel = 8;
	o->connect_timeout_s = 10;
	o->retries = 3;
	o->retry_base_ms = 500;
	o->retry_max_ms = 30000;
}

bool mig_sqlstate_transient(const char *s)
{
	static const char *const codes[] = { "40001", "40P01", "55P03", "57P01", "57P02",
					     "57P03", "53300" };

	if (s == NULL || strlen(s) != 5)
		return false;
	if (strncmp(s, "08", 2) == 0)
		return true;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(s, codes[i]) == 0)
			return true;
	return false;
}

/* xorshift64*: jitter needs no more. */
static uint64_t next_random(struct fleet *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * UINT64_C(2685821657736338717);
}

/* Exponential backoff with "equal jitter": half the delay fixed, half
 * random, so retries of many targets hit by one outage spread out. */
static int64_t backoff_ms(struct fleet *f, int attempt)
{
	const struct mig_options *o = f->shared.opts;
	int64_t d = o->retry_base_ms > 0 ? o->retry_base_ms : 1;

	for (int i = 1; i < attempt && d < o->retry_max_ms; i++)
		d *= 2;
	if (o->retry_max_ms > 0 && d > o->retry_max_ms)
		d = o->retry_max_ms;
	return d / 2 + (int64_t)(next_random(f) % (uint64_t)(d / 2 + 1));
}

static void log_target(enum log_level level, const char *msg, const struct mig_task *t,
		       int64_t retry_in_ms)
{
	json_object *f = json_object_new_object();
	char label[256];

	mig_target_describe(t->target->conninfo, label, sizeof(label));
	json_object_object_add(f, "database", json_object_new_string(t->target->label ? t->target->label : label));
	json_object_object_add(f, "schema", json_object_new_string(t->target->schema));
	json_object_object_add(f, "attempt", json_object_new_int(t->attempt));
	json_object_object_add(f, "error", json_object_new_string(t->out->error.message));
	if (t->out->sqlstate[0])
		json_object_object_add(f, "sqlstate", json_object_new_string(t->out->sqlstate));
	if (retry_in_ms >= 0)
		json_object_object_add(f, "retry_in_ms", json_object_new_int64(retry_in_ms));
	log_emit(level, msg, f);
}

static void finish_task(struct fleet *f, struct mig_task *t)
{
	const struct mig_callbacks *cb = &f->shared.opts->cb;

	mig_task_reset(t);
	t->running = false;
	t->queued = false;
	t->finished = true;
	t->out->attempts = t->attempt;
	if (t->started_ms > 0)
		t->out->elapsed_ms = time_mono_ms() - t->started_ms;
	f->finished++;
	if (t->out->status == MIG_STATUS_FAILED)
		log_target(LOG_LEVEL_WARN, "migration target failed", t, -1);
	if (cb->target_finished != NULL)
		cb->target_finished(cb->arg, t->index, t->out);
}

static void enqueue(struct fleet *f, struct mig_task *t)
{
	t->queued = true;
	t->queued_ms = time_mono_ms();
	f->queue[f->nqueue++] = t->index;
	if (f->waiting[t->db]++ == 0)
		f->nwaiting++;
}

/* Detach the task from its session; close the session unless it can serve
 * another target as it is. */
static void unbind(struct fleet *f, int si, bool keep)
{
	struct mig_session *s = &f->sessions[si];

	if (f->bound[si] != NULL) {
		f->working[f->bound[si]->db]--;
		f->bound[si]->sess = NULL;
	}
	f->bound[si] = NULL;
	if (!keep || s->state != MIG_SESSION_IDLE ||
	    PQtransactionStatus(s->pg) != PQTRANS_IDLE)
		mig_session_close(s);
}

/* Act on what a task's step returned. */
static void handle(struct fleet *f, int si, enum mig_task_result r)
{
	struct mig_task *t = f->bound[si];
	const struct mig_options *o = f->shared.opts;
	bool reader = o->command == MIG_CMD_INFO || o->command == MIG_CMD_VALIDATE ||
		      o->command == MIG_CMD_PLAN;

	switch (r) {
	case TASK_AGAIN:
		return;
	case TASK_DONE:
		unbind(f, si, !t->close_session);
		finish_task(f, t);
		return;
	case TASK_FAILED:
		unbind(f, si, reader);
		finish_task(f, t);
		return;
	case TASK_RETRY:
		unbind(f, si, false);
		mig_task_reset(t);
		t->running = false;
		if (t->attempt > o->retries || f->shared.cancelled) {
			finish_task(f, t);
			return;
		}
		t->not_before_ms = time_mono_ms() + backoff_ms(f, t->attempt);
		log_target(LOG_LEVEL_WARN, "migration target failed, retrying", t,
			   t->not_before_ms - time_mono_ms());
		t->attempt++;
		enqueue(f, t);
		return;
	}
}

/* What leaving its database for a target of database `db` costs a free
 * connected session, in sessions: 0 when the pool holds one there, else 1
 * (a new backend) — or -1, not worth it. Always worth it in a run without
 * a pool (a one-off command finishes soonest that way). With one (a
 * runner, whose sessions outlive its runs, on servers others use too):
 * when the pool holds a session there, when more of `db`'s targets are
 * ready than sessions are working on it, or when one of them has waited
 * MIG_MOVE_WAIT_MS (a long migration there must not hold up the next
 * target). Otherwise the target waits for one of those sessions: sessions
 * hopping between databases leave idle backends behind in each (every one
 * of which reads its database's catalog invalidations — a burst of
 * tenants migrating is a flood of them) and open new ones, each a
 * password exchange. */
static int move_cost(const struct fleet *f, int db, int64_t now)
{
	const struct mig_options *o = f->shared.opts;
	int ready = 0;

	if (o->pool == NULL)
		return 1;
	if (mig_pool_holds(o->pool, f->targets[db].conninfo))
		return 0;
	for (size_t q = 0; q < f->nqueue; q++) {
		const struct mig_task *t = &f->tasks[f->queue[q]];

		if (t->db != db || t->not_before_ms > now)
			continue;
		if (++ready > f->working[db] || now - t->queued_ms >= MIG_MOVE_WAIT_MS)
			return 1;
	}
	return -1;
}

/* The queue position of the task free session `si` should start now, or
 * -1. The databases are kept evenly busy: DDL running at once in one
 * database contends for its catalogs and makes every session there apply
 * the others' invalidations, so 100 schemas listed database by database
 * took a third more CPU at 16 sessions than the same list interleaved
 * (docs/BENCHMARKS.md). Each database is judged by its first ready target
 * (targets of one database keep their order), and by the sessions working
 * on it.
 *
 * On the `first` pass a session connected to a database takes the next
 * target of its own, unless its database is the busiest by more than one
 * session (no reconnection, and no other session's choice to spoil). On
 * the second, every session still free takes a target of the least busy
 * database — counting a move's new backend as one session more — its own
 * on a tie; a connected session leaves only when move_cost() allows. */
static long take_ready(struct fleet *f, int si, bool first, int64_t now)
{
	const struct mig_session *s = &f->sessions[si];
	int own = s->state == MIG_SESSION_IDLE ? s->db : -1;
	int least = -1, best_cost = 0, judged = 0;
	long mine = -1, best = -1;
	unsigned look = ++f->look;

	/* Until every database waiting has been judged (a long queue of one
	 * database costs one look). */
	for (size_t q = 0; q < f->nqueue && judged < f->nwaiting; q++) {
		const struct mig_task *t = &f->tasks[f->queue[q]];
		int cost;

		if (t->not_before_ms > now || f->seen[t->db] == look)
			continue;
		f->seen[t->db] = look;
		judged++;
		if (least < 0 || f->working[t->db] < least)
			least = f->working[t->db];
		if (t->db == own) {
			mine = (long)q;
			continue;
		}
		if (first)
			continue;
		cost = own >= 0 ? move_cost(f, t->db, now) : 0;
		if (cost < 0)
			continue;
		cost += f->working[t->db];
		if (best < 0 || cost < best_cost) {
			best = (long)q;
			best_cost = cost;
		}
	}
	if (first)
		return mine >= 0 && f->working[own] <= least + 1 ? mine : -1;
	if (mine >= 0 && (best < 0 || f->working[own] <= best_cost))
		return mine;
	return best;
}

/* Remove queue position `q`; its task. */
static struct mig_task *dequeue(struct fleet *f, size_t q)
{
	struct mig_task *t = &f->tasks[f->queue[q]];

	memmove(&f->queue[q], &f->queue[q + 1], (f->nqueue - q - 1) * sizeof(*f->queue));
	f->nqueue--;
	if (--f->waiting[t->db] == 0)
		f->nwaiting--;
	return t;
}

/* A connection that could not even start: a connection string libpq
 * refuses fails the target for good (no retry can mend it, and it has no
 * SQLSTATE); anything else is a broken connection, retried. */
static enum mig_task_result connect_failed(struct mig_task *t, const struct mig_session *s)
{
	enum mig_task_result r = mig_task_broken(t, s->error);

	if (!s->bad_conninfo)
		return r;
	t->out->error.kind = INFRA_EMIGRATION;
	t->out->sqlstate[0] = '\0';
	return TASK_FAILED;
}

/* Start task `t` on free session `si`: on its connection when it is to
 * the task's database, else on a session to that database from the pool
 * (this one waiting there), else on a new connection. */
static void start_on(struct fleet *f, int si, struct mig_task *t, int64_t now)
{
	const struct mig_options *o = f->shared.opts;
	struct mig_session *s = &f->sessions[si];

	t->queued = false;
	t->running = true;
	t->sess = s;
	f->bound[si] = t;
	f->working[t->db]++;
	if (t->started_ms == 0)
		t->started_ms = now;
	t->deadline_ms = o->target_timeout_ms > 0 ? now + o->target_timeout_ms : 0;
	if (o->cb.target_started != NULL)
		o->cb.target_started(o->cb.arg, t->index, t->attempt);
	if (o->pool != NULL && !(s->state == MIG_SESSION_IDLE && s->db == t->db)) {
		if (s->state == MIG_SESSION_IDLE)
			mig_pool_put(o->pool, f->targets[s->db].conninfo, s);
		if (mig_pool_take(o->pool, t->target->conninfo, s))
			s->db = t->db;
	}
	if (s->state == MIG_SESSION_IDLE && s->db == t->db)
		handle(f, si, mig_task_start(t));
	else if (mig_session_connect(s, t->target->conninfo, o->connect_timeout_s, t->db) != 0)
		handle(f, si, connect_failed(t, s));
}

/* Give free sessions work (take_ready): first each connected one the next
 * target of its database, if there is one (reusing the connection); then
 * what is left to the sessions still free, which connect to another
 * database. (In one pass, a session would take another database's target
 * that a free session of that database, later in the list, could have run
 * on its own connection.) */
static void assign(struct fleet *f, int64_t now)
{
	for (int pass = 0; pass < 2; pass++)
		for (int si = 0; si < f->nsessions && f->nqueue > 0; si++) {
			long q;

			if (f->bound[si] != NULL || (pass == 0 && f->sessions[si].state != MIG_SESSION_IDLE))
				continue;
			q = take_ready(f, si, pass == 0, now);
			if (q >= 0)
				start_on(f, si, dequeue(f, (size_t)q), now);
		}
}

/* Targets not started are cancelled; running ones stop at their next
 * migration boundary (mig_target.c checks shared.cancelled). */
static void cancel_queued(struct fleet *f)
{
	while (f->nqueue > 0) {
		struct mig_task *t = dequeue(f, f->nqueue - 1);

		t->out->status = MIG_STATUS_CANCELLED;
		infra_fail(&t->out->error, INFRA_ECONFLICT, "cancelled before it started");
		finish_task(f, t);
	}
}

/* A connection not made within its connect timeout fails as a broken one
 * (retried); a target past its own timeout fails. */
static void check_deadlines(struct fleet *f, int64_t now)
{
	for (int si = 0; si < f->nsessions; si++) {
		struct mig_task *t = f->bound[si];

		if (t != NULL && mig_session_timed_out(&f->sessions[si], now)) {
			handle(f, si, mig_task_broken(t, f->sessions[si].error));
			continue;
		}
		if (t == NULL || t->deadline_ms == 0 || now < t->deadline_ms)
			continue;
		/* Stop the statement in flight before closing, or the server
		 * would run it to its end. */
		mig_session_cancel(&f->sessions[si]);
		t->out->status = MIG_STATUS_FAILED;
		infra_fail(&t->out->error, INFRA_EMIGRATION, "timed out after %d ms",
			   f->shared.opts->target_timeout_ms);
		t->out->sqlstate[0] = '\0';
		unbind(f, si, false);
		finish_task(f, t);
	}
}

/* Milliseconds poll() may sleep: until the next retry or deadline (a
 * target's, or a connection's). */
static int poll_timeout(const struct fleet *f, int64_t now)
{
	int64_t wake = -1;
	bool free_session = false;

	for (int si = 0; si < f->nsessions; si++) {
		const struct mig_task *t = f->bound[si];
		int64_t connect = mig_session_deadline(&f->sessions[si]);

		if (t == NULL)
			free_session = true;
		else if (t->deadline_ms > 0 && (wake < 0 || t->deadline_ms < wake))
			wake = t->deadline_ms;
		if (t != NULL && connect >= 0 && (wake < 0 || connect < wake))
			wake = connect;
	}
	/* A retry waiting for its time, or a ready target waiting for a
	 * session of its own database (move_cost), matters only when a
	 * session is free to take it; otherwise a session finishing wakes the
	 * loop anyway. */
	for (size_t q = 0; q < f->nqueue && free_session; q++) {
		const struct mig_task *t = &f->tasks[f->queue[q]];
		int64_t at = t->not_before_ms > now ? t->not_before_ms : t->queued_ms + MIG_MOVE_WAIT_MS;

		if (at > now && (wake < 0 || at < wake))
			wake = at;
	}
	const struct mig_callbacks *cb = &f->shared.opts->cb;
	int every = cb->poll_ms > 0 ? cb->poll_ms : 1000;

	/* Look at the cancel flag, and ask again for what the caller does
	 * elsewhere, now and then. */
	if ((cb->cancelled != NULL || f->feed_more || f->any_held) && (wake < 0 || wake > now + every))
		wake = now + every;
	if (wake < 0)
		return -1;
	return wake <= now ? 0 : (int)(wake - now);
}

static void add_task(struct fleet *f, struct mig_outcome *outcomes);

/* A session is free: ask the caller for more targets, keeping up to one
 * per session waiting, so that a free session finds one of its own
 * database among them (assign) rather than reconnecting elsewhere. A
 * cancelled run asks only for what the caller still expects (those
 * targets are then cancelled unstarted). */
static void feed(struct fleet *f)
{
	const struct mig_callbacks *cb = &f->shared.opts->cb;
	size_t room = 0, k;
	bool free_session = false;

	if (cb->feed == NULL || f->n >= f->cap) {
		f->feed_more = false;
		return;
	}
	if (f->shared.cancelled && !f->feed_more)
		return;
	if (!f->shared.cancelled) {
		if (f->nqueue >= (size_t)f->nsessions)
			return;
		for (int si = 0; si < f->nsessions && !free_session; si++)
			free_session = f->bound[si] == NULL;
		if (!free_session)
			return;
		room = (size_t)f->nsessions - f->nqueue;
		if (room > f->cap - f->n)
			room = f->cap - f->n;
	}
	f->feed_more = false;
	k = cb->feed(cb->arg, f->n, room, &f->feed_more);
	if (k > f->cap - f->n)
		k = f->cap - f->n;	/* the caller broke its contract */
	for (size_t i = 0; i < k; i++)
		add_task(f, f->outcomes);
}

/* Tasks holding their first commit: resume those the caller now lets
 * through. */
static void resume_held(struct fleet *f)
{
	f->any_held = false;
	for (int si = 0; si < f->nsessions; si++) {
		struct mig_task *t = f->bound[si];

		if (t == NULL || t->step != TASK_STEP_HELD)
			continue;
		handle(f, si, mig_task_resume(t));
		if (f->bound[si] == t && t->step == TASK_STEP_HELD)
			f->any_held = true;
	}
}

static int loop(struct fleet *f)
{
	const struct mig_callbacks *cb = &f->shared.opts->cb;

	for (;;) {
		int64_t now = time_mono_ms();
		int nfds = 0, rc, timeout;

		/* A task may have seen the cancel between two migrations. */
		if (f->shared.cancelled || (cb->cancelled != NULL && cb->cancelled(cb->arg))) {
			f->shared.cancelled = true;
			cancel_queued(f);
		}
		feed(f);
		if (f->shared.cancelled)
			cancel_queued(f);	/* what came after the cancel never starts */
		if (f->finished >= f->n && !f->feed_more)
			break;
		assign(f, now);
		resume_held(f);
		for (int si = 0; si < f->nsessions; si++) {
			short events;
			int fd;

			if (f->bound[si] == NULL)
				continue;
			fd = mig_session_fd(&f->sessions[si], &events);
			if (fd < 0)
				continue;
			f->fds[nfds].fd = fd;
			f->fds[nfds].events = events;
			f->fds[nfds].revents = 0;
			f->fd_session[nfds++] = si;
		}
		if (f->finished >= f->n && !f->feed_more)
			break;
		if (cb->woken != NULL) {
			f->fds[nfds].fd = cb->wake_fd;
			f->fds[nfds].events = POLLIN;
			f->fds[nfds].revents = 0;
			f->fd_session[nfds++] = -1;
		}
		timeout = poll_timeout(f, now);
		if (nfds == 0 && timeout < 0) {
			log_error("migration engine: %zu targets left and nothing to wait for",
				  f->n - f->finished);
			return -1;
		}
		rc = poll(f->fds, (nfds_t)nfds, timeout);
		if (rc < 0 && errno != EINTR)
			return log_errno("poll", "migration sessions");
		for (int k = 0; k < nfds && rc > 0; k++) {
			int si = f->fd_session[k];
			struct mig_session *s;
			enum mig_session_state before;
			enum mig_progress p;

			if (si < 0) {		/* the caller's wake fd */
				if (f->fds[k].revents != 0)
					cb->woken(cb->arg);
				continue;
			}
			s = &f->sessions[si];
			before = s->state;
			if (f->fds[k].revents == 0 || f->bound[si] == NULL)
				continue;
			p = mig_session_progress(s, f->fds[k].revents);
			if (p == MIG_PROGRESS_BROKEN)
				handle(f, si, mig_task_broken(f->bound[si], s->error));
			else if (p == MIG_PROGRESS_DONE && before == MIG_SESSION_CONNECTING)
				handle(f, si, mig_task_start(f->bound[si]));
			else if (p == MIG_PROGRESS_DONE)
				handle(f, si, mig_task_continue(f->bound[si]));
		}
		check_deadlines(f, time_mono_ms());
	}
	return 0;
}

/* Start target f->n (targets[] and outcomes[] hold it). */
static void add_task(struct fleet *f, struct mig_outcome *outcomes)
{
	size_t i = f->n++;
	struct mig_task *t = &f->tasks[i];

	memset(&outcomes[i], 0, sizeof(outcomes[i]));
	t->index = i;
	t->target = &f->targets[i];
	t->out = &outcomes[i];
	t->shared = &f->shared;
	t->attempt = 1;
	t->db = (int)i;
	/* Targets with the same connection string share sessions. */
	for (size_t j = 0; j < i; j++) {
		if (f->tasks[j].db == (int)j && strcmp(f->targets[j].conninfo, t->target->conninfo) == 0) {
			t->db = (int)j;
			break;
		}
	}
	enqueue(f, t);
}

/* Every placeholder of every script must be known before anything runs. */
static int check_placeholders(const struct mig_set *set, const struct mig_placeholders *ph,
			      struct infra_error *err)
{
	const struct {
		const struct mig_script *arr;
		size_t n;
	} kinds[] = {
		{ set->versioned, set->nversioned },
		{ set->undo, set->nundo },
		{ set->repeatable, set->nrepeatable },
	};
	struct mig_placeholders none;

	mig_placeholders_init(&none);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (size_t i = 0; i < kinds[k].n; i++) {
			const struct mig_script *sc = &kinds[k].arr[i];

			if (sc->placeholders &&
			    mig_placeholders_check(ph ? ph : &none, sc->sql, sc->sql_len, sc->script,
						   err) != 0)
				return -1;
		}
	return 0;
}

static int check_options(const struct mig_options *o, struct infra_error *err)
{
	char buf[MIG_VERSION_MAX + 1];

	if (o->parallel < 1)
		return infra_fail_field(err, "parallel", "parallel must be at least 1");
	if (o->baseline_version != NULL &&
	    mig_version_parse(o->baseline_version, strlen(o->baseline_version), buf, NULL) != 0)
		return infra_fail_field(err, "baseline_version",
					"baseline version '%s' is not a version", o->baseline_version);
	if (o->target != NULL && strcmp(o->target, "latest") != 0 &&
	    strcmp(o->target, "current") != 0 &&
	    mig_version_parse(o->target, strlen(o->target), buf, NULL) != 0)
		return infra_fail_field(err, "target",
					"target '%s' is not a version, 'latest' or 'current'", o->target);
	return 0;
}

/* Sessions left idle and clean go back to the pool, if there is one. */
static void fleet_release(struct fleet *f)
{
	struct mig_pool *pool = f->shared.opts ? f->shared.opts->pool : NULL;

	for (int si = 0; si < f->nsessions; si++) {
		struct mig_session *s = &f->sessions[si];

		if (pool != NULL && f->bound[si] == NULL && s->state == MIG_SESSION_IDLE && s->db >= 0 &&
		    PQtransactionStatus(s->pg) == PQTRANS_IDLE)
			mig_pool_put(pool, f->targets[s->db].conninfo, s);
		mig_session_release(s);
	}
	for (size_t i = 0; i < f->n; i++)
		mig_task_reset(&f->tasks[i]);
	free(f->sessions);
	free(f->bound);
	free(f->tasks);
	free(f->queue);
	free(f->working);
	free(f->waiting);
	free(f->seen);
	free(f->fds);
	free(f->fd_session);
}

int mig_run(const struct mig_set *set, const struct mig_options *opts,
	    const struct mig_target *targets, size_t n, struct mig_outcome *outcomes,
	    struct infra_error *err)
{
	struct fleet f = { .targets = targets, .outcomes = outcomes };
	size_t failed = 0, cancelled = 0, cap = n;
	time_t now = time(NULL);
	struct tm tm;

	for (size_t i = 0; i < n; i++)
		memset(&outcomes[i], 0, sizeof(outcomes[i]));
	if (check_options(opts, err) != 0 || check_placeholders(set, opts->placeholders, err) != 0) {
		for (size_t i = 0; i < n; i++) {
			outcomes[i].status = MIG_STATUS_FAILED;
			outcomes[i].error = *err;
		}
		return -1;
	}
	if (n == 0)
		return 0;
	f.shared.set = set;
	f.shared.opts = opts;
	gmtime_r(&now, &tm);
	strftime(f.shared.timestamp, sizeof(f.shared.timestamp), "%Y-%m-%d %H:%M:%S", &tm);
	if (getcwd(f.shared.cwd, sizeof(f.shared.cwd)) == NULL)
		f.shared.cwd[0] = '\0';
	f.rng = (uint64_t)time_mono_us() ^ ((uint64_t)getpid() << 32) ^ UINT64_C(0x9E3779B97F4A7C15);
	if (opts->cb.feed != NULL && opts->cb.capacity > n)
		cap = opts->cb.capacity;
	f.cap = cap;
	f.nsessions = (size_t)opts->parallel < cap ? opts->parallel : (int)cap;
	f.sessions = mig_calloc((size_t)f.nsessions, sizeof(*f.sessions));
	f.bound = mig_calloc((size_t)f.nsessions, sizeof(*f.bound));
	f.fds = mig_calloc((size_t)f.nsessions + 1, sizeof(*f.fds));	/* and the wake fd */
	f.fd_session = mig_calloc((size_t)f.nsessions + 1, sizeof(*f.fd_session));
	f.tasks = mig_calloc(cap, sizeof(*f.tasks));
	f.queue = mig_calloc(cap, sizeof(*f.queue));
	f.working = mig_calloc(cap, sizeof(*f.working));
	f.waiting = mig_calloc(cap, sizeof(*f.waiting));
	f.seen = mig_calloc(cap, sizeof(*f.seen));
	for (int si = 0; si < f.nsessions; si++)
		mig_session_init(&f.sessions[si]);
	for (size_t i = 0; i < n; i++)
		add_task(&f, outcomes);
	if (loop(&f) != 0) {
		for (size_t i = 0; i < f.n; i++) {
			if (!f.tasks[i].finished) {
				outcomes[i].status = MIG_STATUS_FAILED;
				infra_fail(&outcomes[i].error, INFRA_EINTERNAL, "the engine stopped");
			}
		}
	}
	fleet_release(&f);
	n = f.n;
	for (size_t i = 0; i < n; i++) {
		if (outcomes[i].status == MIG_STATUS_FAILED)
			failed++;
		else if (outcomes[i].status == MIG_STATUS_CANCELLED)
			cancelled++;
	}
	if (failed + cancelled == 0)
		return 0;
	return infra_fail(err, INFRA_EMIGRATION, "%zu of %zu target%s failed%s", failed + cancelled,
			  n, n == 1 ? "" : "s", cancelled ? " or were cancelled" : "");
}
