/* mig_session.c — a non-blocking libpq session for the migration engine's
 * poll() loop (see mig_session.h).
 *
 * libpq's asynchronous API: PQconnectStartParams/PQconnectPoll to connect,
 * PQsendQuery or a pipeline of PQsendQueryParams + PQpipelineSync to send,
 * PQflush while output is pending, PQconsumeInput + PQgetResult (only when
 * PQisBusy says a result is complete) to read. */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mig_alloc.h"
#include "mig_session.h"
#include "timeutil.h"

#define ARENA_BLOCK 4096

void mig_session_init(struct mig_session *s)
{
	memset(s, 0, sizeof(*s));
	s->state = MIG_SESSION_CLOSED;
	s->db = -1;
	arena_init(&s->arena, ARENA_BLOCK);
}

static void clear_results(struct mig_session *s)
{
	for (int i = 0; i < s->alloc; i++) {
		PQclear(s->results[i]);
		s->results[i] = NULL;
	}
	s->nseen = 0;
	s->nqueries = 0;
}

/* Room for `n` queued statements and their results. */
static void reserve(struct mig_session *s, int n)
{
	int alloc = s->alloc ? s->alloc : 8;

	if (n <= s->alloc)
		return;
	while (alloc < n)
		alloc *= 2;
	s->queued = mig_realloc(s->queued, (size_t)alloc * sizeof(*s->queued));
	s->results = mig_realloc(s->results, (size_t)alloc * sizeof(*s->results));
	for (int i = s->alloc; i < alloc; i++)
		s->results[i] = NULL;
	s->alloc = alloc;
}

/* Keep the first line of a libpq message, without its "ERROR:  " noise. */
static void set_error(struct mig_session *s, const char *what, const char *msg)
{
	size_t n;

	if (msg == NULL || msg[0] == '\0')
		msg = "no details";
	n = strcspn(msg, "\n");
	snprintf(s->error, sizeof(s->error), "%s: %.*s", what, (int)n, msg);
}

/* Server notices (RAISE NOTICE in a migration, "already exists, skipping")
 * are of interest only when debugging. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("notice from a migration target: %.*s", (int)strcspn(message, "\n"), message);
}

/* Hide what `msg` quotes ("..."), which may be part of the connection
 * string: libpq quotes the tokens it cannot parse, a URI it cannot read
 * whole, or an option's value. */
static void hide_quoted(char *msg, size_t size)
{
	char out[256];
	size_t n = 0;
	bool inside = false;

	for (const char *r = msg; *r != '\0' && n + 5 < sizeof(out); r++) {
		if (*r == '"' && !inside) {
			memcpy(out + n, "\"...", 4);
			n += 4;
		}
		if (*r == '"')
			inside = !inside;
		if (!inside)
			out[n++] = *r;
	}
	out[n] = '\0';
	snprintf(msg, size, "%s", out);
}

/* libpq's words (its messages are not translated: nothing here calls
 * setlocale) for an option value it refuses before it resolves or
 * contacts any host: "invalid sslmode value", "could not match 2 port
 * numbers to 1 hosts". Anything else failing at once (a host name that
 * does not resolve, no server on a Unix socket) may come right. */
static bool option_refused(const char *msg)
{
	return strncmp(msg, "invalid ", 8) == 0 || strncmp(msg, "could not match ", 16) == 0;
}

/* Whether the connection string itself is why libpq failed at once with
 * `msg`: its parser refuses `conninfo` with that very message (a bare
 * database name does not parse as a connection string, yet libpq takes it
 * as such a name), or libpq refused an option value (option_refused). And
 * whether `msg` may quote a secret: a string that does not parse, or its
 * password. */
static bool conninfo_at_fault(const char *conninfo, const char *msg, bool *secret)
{
	char *parse_error = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &parse_error);
	size_t n = parse_error ? strcspn(parse_error, "\n") : 0;
	bool unparsed = n > 0 && strncmp(msg, parse_error, n) == 0;

	*secret = unparsed;
	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0')
			*secret = strstr(msg, o->val) != NULL;
	PQconninfoFree(opts);
	PQfreemem(parse_error);
	return unparsed || option_refused(msg);
}

/* PQconnectStartParams failed at once: close, keep its message (its
 * first line, nothing quoted that may be secret) and whether the string
 * is at fault. Returns -1. */
static int start_failed(struct mig_session *s, const char *conninfo)
{
	char msg[sizeof(s->error)];
	bool secret;

	snprintf(msg, sizeof(msg), "%.*s", (int)strcspn(PQerrorMessage(s->pg), "\n"),
		 PQerrorMessage(s->pg));
	mig_session_close(s);	/* clears s->error */
	s->bad_conninfo = conninfo_at_fault(conninfo, msg, &secret);
	if (secret)
		hide_quoted(msg, sizeof(msg));
	set_error(s, s->bad_conninfo ? "invalid connection string" : "connection failed", msg);
	return -1;
}

int mig_session_connect(struct mig_session *s, const char *conninfo, int connect_timeout_s,
			int db)
{
	char timeout[16];
	const char *keys[] = { "dbname", "connect_timeout", "fallback_application_name",
			       "client_encoding", NULL };
	const char *vals[] = { conninfo, timeout, "infra-migrate", "UTF8", NULL };

	mig_session_close(s);
	s->connect_timeout_s = connect_timeout_s > 0 ? connect_timeout_s : 10;
	/* For libpq's own use, should it ever block; the deadline below is
	 * what holds here. */
	snprintf(timeout, sizeof(timeout), "%d", s->connect_timeout_s);
	s->pg = PQconnectStartParams(keys, vals, 1);
	if (s->pg == NULL) {
		set_error(s, "connection failed", "out of memory");
		return -1;
	}
	if (PQstatus(s->pg) == CONNECTION_BAD)
		return start_failed(s, conninfo);
	PQsetNoticeProcessor(s->pg, on_notice, NULL);
	s->state = MIG_SESSION_CONNECTING;
	s->poll = PGRES_POLLING_WRITING;
	s->db = db;
	s->connect_deadline_ms = time_mono_ms() + (int64_t)s->connect_timeout_s * 1000;
	return 0;
}

int64_t mig_session_deadline(const struct mig_session *s)
{
	return s->state == MIG_SESSION_CONNECTING ? s->connect_deadline_ms : -1;
}

bool mig_session_timed_out(struct mig_session *s, int64_t now_ms)
{
	char msg[64];

	if (s->state != MIG_SESSION_CONNECTING || now_ms < s->connect_deadline_ms)
		return false;
	snprintf(msg, sizeof(msg), "connection timed out after %d s", s->connect_timeout_s);
	set_error(s, "connection failed", msg);
	return true;
}

int mig_session_fd(const struct mig_session *s, short *events)
{
	*events = 0;
	switch (s->state) {
	case MIG_SESSION_CONNECTING:
		*events = s->poll == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		break;
	case MIG_SESSION_BUSY:
		*events = POLLIN | (s->flushing ? POLLOUT : 0);
		break;
	default:
		return -1;
	}
	return PQsocket(s->pg);
}

static enum mig_progress broken(struct mig_session *s, const char *what)
{
	if (s->error[0] == '\0')
		set_error(s, what, s->pg ? PQerrorMessage(s->pg) : NULL);
	return MIG_PROGRESS_BROKEN;
}

/* Read every complete result; true once the round trip has ended. */
static bool collect(struct mig_session *s, bool *bad)
{
	int nulls = 0;

	while (!PQisBusy(s->pg)) {
		PGresult *r = PQgetResult(s->pg);
		ExecStatusType st;

		if (r == NULL) {
			if (!s->pipeline)
				return true;
			/* The end of one statement's results; guard against a
			 * pipeline that has nothing more to give. */
			if (++nulls > s->nqueries + 1)
				return true;
			continue;
		}
		st = PQresultStatus(r);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
			PQclear(r);
			snprintf(s->error, sizeof(s->error),
				 "COPY to or from the client is not supported in migrations");
			*bad = true;
			return true;
		}
		if (s->pipeline) {
			if (st == PGRES_PIPELINE_SYNC) {
				PQclear(r);
				PQexitPipelineMode(s->pg);
				return true;
			}
			if (s->nseen < s->nqueries)
				s->results[s->nseen++] = r;
			else
				PQclear(r);
		} else if (s->results[0] != NULL &&
			   PQresultStatus(s->results[0]) == PGRES_FATAL_ERROR) {
			PQclear(r);	/* keep the first error */
		} else {
			PQclear(s->results[0]);
			s->results[0] = r;
		}
	}
	return false;
}

enum mig_progress mig_session_progress(struct mig_session *s, short revents)
{
	bool bad = false, done;

	if (s->state == MIG_SESSION_CONNECTING) {
		s->poll = PQconnectPoll(s->pg);
		if (s->poll == PGRES_POLLING_FAILED)
			return broken(s, "connection failed");
		if (s->poll != PGRES_POLLING_OK)
			return MIG_PROGRESS_WAIT;
		if (PQsetnonblocking(s->pg, 1) != 0)
			return broken(s, "connection failed");
		s->state = MIG_SESSION_IDLE;
		return MIG_PROGRESS_DONE;
	}
	if (s->state != MIG_SESSION_BUSY)
		return MIG_PROGRESS_WAIT;
	if (s->flushing || (revents & POLLOUT)) {
		int r = PQflush(s->pg);

		if (r < 0)
			return broken(s, "connection lost");
		s->flushing = r == 1;
	}
	if ((revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(s->pg))
		return broken(s, "connection lost");
	done = collect(s, &bad);
	if (bad)
		return MIG_PROGRESS_BROKEN;
	if (PQstatus(s->pg) == CONNECTION_BAD)
		return broken(s, "connection lost");
	if (!done)
		return MIG_PROGRESS_WAIT;
	s->state = MIG_SESSION_IDLE;
	s->pipeline = false;
	return MIG_PROGRESS_DONE;
}

static int sent(struct mig_session *s)
{
	int r = PQflush(s->pg);

	if (r < 0) {
		set_error(s, "connection lost", PQerrorMessage(s->pg));
		return -1;
	}
	s->flushing = r == 1;
	s->state = MIG_SESSION_BUSY;
	return 0;
}

int mig_session_send_simple(struct mig_session *s, const char *sql)
{
	reserve(s, 1);
	clear_results(s);
	s->pipeline = false;
	if (!PQsendQuery(s->pg, sql)) {
		set_error(s, "cannot send", PQerrorMessage(s->pg));
		return -1;
	}
	return sent(s);
}

void mig_session_queue(struct mig_session *s, const char *sql, int nparams,
		       const char *const *params)
{
	struct mig_queued *q;

	if (s->nqueued == 0)
		arena_reset(&s->arena);
	reserve(s, s->nqueued + 1);
	q = &s->queued[s->nqueued++];
	q->sql = arena_strdup(&s->arena, sql);
	q->nparams = nparams;
	q->params = NULL;
	if (nparams > 0) {
		q->params = arena_alloc(&s->arena, (size_t)nparams * sizeof(*q->params));
		for (int i = 0; i < nparams; i++)
			q->params[i] = params[i] ? arena_strdup(&s->arena, params[i]) : NULL;
	}
}

int mig_session_send_queued(struct mig_session *s)
{
	int n = s->nqueued;

	clear_results(s);
	s->nqueued = 0;
	if (!PQenterPipelineMode(s->pg)) {
		set_error(s, "cannot send", PQerrorMessage(s->pg));
		return -1;
	}
	s->pipeline = true;
	for (int i = 0; i < n; i++) {
		const struct mig_queued *q = &s->queued[i];

		if (!PQsendQueryParams(s->pg, q->sql, q->nparams, NULL, q->params, NULL, NULL, 0)) {
			set_error(s, "cannot send", PQerrorMessage(s->pg));
			return -1;
		}
	}
	if (!PQpipelineSync(s->pg)) {
		set_error(s, "cannot send", PQerrorMessage(s->pg));
		return -1;
	}
	s->nqueries = n;
	return sent(s);
}

const PGresult *mig_session_result(const struct mig_session *s, int i)
{
	return i >= 0 && i < s->alloc ? s->results[i] : NULL;
}

int mig_session_error_index(const struct mig_session *s)
{
	int n = s->pipeline || s->nqueries > 0 ? s->nqueries : 1;

	for (int i = 0; i < n; i++) {
		ExecStatusType st;

		if (s->results[i] == NULL)
			continue;
		st = PQresultStatus(s->results[i]);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
			return i;
	}
	return -1;
}

const PGresult *mig_session_error(const struct mig_session *s)
{
	int i = mig_session_error_index(s);

	return i >= 0 ? s->results[i] : NULL;
}

void mig_session_cancel(struct mig_session *s)
{
	PGcancel *c;
	char buf[256];

	if (s->pg == NULL || s->state != MIG_SESSION_BUSY)
		return;
	c = PQgetCancel(s->pg);
	if (c != NULL) {
		if (!PQcancel(c, buf, sizeof(buf)))
			log_warn("cannot cancel a migration statement: %s", buf);
		PQfreeCancel(c);
	}
}

void mig_session_close(struct mig_session *s)
{
	clear_results(s);
	if (s->pg != NULL)
		PQfinish(s->pg);
	s->pg = NULL;
	s->state = MIG_SESSION_CLOSED;
	s->db = -1;
	s->pipeline = false;
	s->flushing = false;
	s->nqueued = 0;
	s->connect_deadline_ms = 0;
	s->bad_conninfo = false;
	s->error[0] = '\0';
}

void mig_session_release(struct mig_session *s)
{
	mig_session_close(s);
	free(s->queued);
	free(s->results);
	s->queued = NULL;
	s->results = NULL;
	s->alloc = 0;
	arena_release(&s->arena);
}
