/* migration_events.c — GET /migrations/{id}/events: an execution's events
 * as Server-Sent Events. Each event (progress, target, done) carries its
 * seq as `id:`, so a client that reconnects with Last-Event-ID gets the
 * ones after it, then follows live ones until `done`.
 *
 * A stream pins this worker for its life, so streams are bounded: at most
 * SSE_MAX_STREAMS per host (half the workers by default; beyond, 503 with
 * Retry-After), each at most SSE_MAX_SECONDS, with a `: ping` comment
 * every SSE_HEARTBEAT seconds, well inside nginx's read timeout, which
 * also tells us early when the client has gone. The worker waits on its
 * own control connection: LISTEN on the execution's channel, poll() on
 * the socket; the runner's transaction that inserts an event notifies it
 * on commit, so an event reaches the client in one round trip, without
 * polling the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "exec.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "timeutil.h"

#define EVENTS_PAGE 200			/* events read per query while replaying */
#define EVENTS_RECONNECT_MS 1000	/* the control database is away: wait this long */

struct stream {
	struct request *r;
	bool broken;			/* the client has gone */
	int64_t sent;
};

static void stream_write(struct stream *s, const char *text, size_t len)
{
	if (!s->broken && FCGX_PutStr(text, (int)len, s->r->fcgi->out) < 0)
		s->broken = true;
}

static void stream_flush(struct stream *s)
{
	if (!s->broken && FCGX_FFlush(s->r->fcgi->out) < 0)
		s->broken = true;
}

/* The response head: no Content-Length (the body is open-ended), and
 * X-Accel-Buffering so nginx passes every event on as it comes. */
static void stream_start(struct stream *s)
{
	struct request *r = s->r;
	struct strbuf head = STRBUF_INIT;

	strbuf_addf(&head, "Status: 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
		    "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\nX-Request-ID: %s\r\n",
		    r->request_id);
	strbuf_add(&head, r->headers.buf, r->headers.len);
	/* A client that lost the stream reconnects after two seconds. */
	strbuf_addstr(&head, "\r\nretry: 2000\n\n");
	stream_write(s, head.buf, head.len);
	stream_flush(s);
	strbuf_release(&head);
	r->status = 200;
	r->responded = true;
}

static void stream_comment(struct stream *s, const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, ": %s\n\n", text);
	stream_write(s, sb.buf, sb.len);
	stream_flush(s);
	strbuf_release(&sb);
}

/* Send rows of `res` (seq, type, data); data is one line of JSON. Returns
 * true when `done` was among them. */
static bool stream_events(struct stream *s, const PGresult *res, int64_t *last)
{
	struct strbuf sb = STRBUF_INIT;
	bool done = false;

	for (int i = 0; i < PQntuples(res); i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "id: %s\nevent: %s\ndata: %s\n\n", PQgetvalue(res, i, 0),
			    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		stream_write(s, sb.buf, sb.len);
		*last = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		done |= strcmp(PQgetvalue(res, i, 1), "done") == 0;
		s->sent++;
	}
	strbuf_release(&sb);
	stream_flush(s);
	return done;
}

static int stream_limit(const struct config *cfg)
{
	if (cfg->sse_max_streams > 0)
		return cfg->sse_max_streams;
	return cfg->workers / 2 > 0 ? cfg->workers / 2 : 1;
}

/* Follow execution `id` from event `last` until done, the client goes or
 * the stream's time is up. */
static void stream_follow(struct stream *s, const char *id, int64_t last, bool ended,
			  int64_t last_seq)
{
	const struct config *cfg = s->r->app->cfg;
	struct db *db = &s->r->app->db;
	int64_t now = time_mono_ms();
	int64_t deadline = now + (int64_t)cfg->sse_max_seconds * 1000;
	int64_t next_ping = now + (int64_t)cfg->sse_heartbeat_s * 1000;
	struct infra_error err;
	bool listening = false, done = false;

	if (ended && last >= last_seq) {
		stream_comment(s, "the execution has ended and every event was sent");
		return;
	}
	while (!done && !s->broken) {
		PGresult *res;
		int n, wait, rc;

		/* LISTEN before reading: an event committed in between is
		 * either read now or notified. */
		if (!listening)
			listening = exec_events_listen(db, id, &err) == 0;
		res = listening ? exec_events_after(db, id, last, EVENTS_PAGE, &err) : NULL;
		if (res == NULL) {
			/* The control database is away (a restart): the next
			 * statement reconnects, and we LISTEN again. */
			listening = false;
			stream_comment(s, "waiting for the control database");
			time_sleep_ms(EVENTS_RECONNECT_MS);
		} else {
			n = PQntuples(res);
			done = stream_events(s, res, &last);
			PQclear(res);
			if (n > 0)
				next_ping = time_mono_ms() + (int64_t)cfg->sse_heartbeat_s * 1000;
			if (done || n == EVENTS_PAGE)
				continue;
		}
		now = time_mono_ms();
		if (now >= deadline) {
			stream_comment(s, "stream lifetime reached (SSE_MAX_SECONDS); reconnect with "
				       "Last-Event-ID to go on");
			break;
		}
		wait = (int)((next_ping < deadline ? next_ping : deadline) - now);
		rc = listening ? exec_events_wait(db, wait > 0 ? wait : 0) : 0;
		if (rc == EXEC_WAIT_INTERRUPTED) {
			/* A worker is only signalled to stop (the master repeats
			 * it while the worker drains). */
			stream_comment(s, "server stopping; reconnect with Last-Event-ID to go on");
			break;
		}
		if (rc < 0)
			listening = false;
		if (time_mono_ms() >= next_ping) {
			stream_comment(s, "ping");
			next_ping = time_mono_ms() + (int64_t)cfg->sse_heartbeat_s * 1000;
		}
	}
	if (listening)
		exec_events_unlisten(db);
}

/* GET /migrations/{id}/events (Last-Event-ID honoured) */
int handle_migrations_events(struct request *r)
{
	const char *id = request_path_param(r, "id");
	struct stream s = { .r = r };
	struct infra_error err;
	json_object *exec, *v;
	int64_t last, last_seq = 0;
	bool ended = false;
	const char *status;

	request_drain_body(r);
	if (exec_parse_last_event_id(r->last_event_id, &last) != 0) {
		json_object *fields = json_object_new_object();

		json_object_object_add(fields, "Last-Event-ID",
				       json_object_new_string("must be a non-negative integer"));
		return respond_invalid_fields(r, fields);
	}
	if (exec_get(&r->app->db, id, r->principal ? r->principal->tenant : NULL, &exec, &err) != 0)
		return respond_infra_error(r, &err);
	if (json_object_object_get_ex(exec, "status", &v)) {
		status = json_object_get_string(v);
		ended = strcmp(status, "pending") != 0 && strcmp(status, "in_progress") != 0;
	}
	if (json_object_object_get_ex(exec, "last_event_id", &v))
		last_seq = json_object_get_int64(v);
	json_object_put(exec);
	if (metrics_stream_acquire((int)getpid(), stream_limit(r->app->cfg)) != 0) {
		respond_header(r, "Retry-After", "5");
		return respond_error(r, 503, "SVC_001", "too many event streams are open on this host; "
				     "retry later", NULL);
	}
	stream_start(&s);
	stream_follow(&s, id, last, ended, last_seq);
	metrics_stream_release((int)getpid());
	{
		json_object *f = json_object_new_object();

		json_object_object_add(f, "execution_id", json_object_new_string(id));
		json_object_object_add(f, "events", json_object_new_int64(s.sent));
		json_object_object_add(f, "client_gone", json_object_new_boolean(s.broken));
		log_emit(LOG_LEVEL_INFO, "event stream ended", f);
	}
	return 0;
}
