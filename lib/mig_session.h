/* mig_session.h — one non-blocking PostgreSQL session of the migration
 * engine, driven by a poll() loop.
 *
 * A round trip is either one simple-protocol string (it may hold several
 * statements: a whole migration script) or a pipeline of parameterised
 * statements ended by one Sync (history reads and writes). The loop asks
 * which events the session waits for, polls its socket, and calls
 * mig_session_progress() until it reports the round trip complete; the
 * results are then read with mig_session_result(). Nothing here blocks
 * except mig_session_cancel(). */
#ifndef INFRA_MIG_SESSION_H
#define INFRA_MIG_SESSION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

enum mig_session_state {
	MIG_SESSION_CLOSED,
	MIG_SESSION_CONNECTING,
	MIG_SESSION_IDLE,
	MIG_SESSION_BUSY,
};

enum mig_progress {
	MIG_PROGRESS_WAIT,	/* nothing finished; poll again */
	MIG_PROGRESS_DONE,	/* connected, or the round trip's results are in */
	MIG_PROGRESS_BROKEN,	/* the connection failed or was lost */
};

struct mig_queued {
	const char *sql;
	int nparams;
	const char **params;
};

struct mig_session {
	PGconn *pg;
	enum mig_session_state state;
	int db;			/* which connection string it serves (the engine's index) */
	PostgresPollingStatusType poll;	/* while connecting */
	int connect_timeout_s;	/* of the last connect */
	int64_t connect_deadline_ms;	/* while connecting: when it times out (time_mono_ms) */
	bool bad_conninfo;	/* the last connect failed on the connection string itself */
	bool pipeline;		/* the round trip in flight is a pipeline */
	bool flushing;		/* libpq still holds output to send */
	int nqueries;		/* pipeline: statements sent */
	int nseen;		/* pipeline: statements whose results are in */
	PGresult **results;	/* pipeline: one per statement; simple: [0] */
	char error[256];	/* why the connection broke (no secret) */
	/* statements queued for the next pipeline, copied into `arena` */
	struct mig_queued *queued;
	int nqueued;
	int alloc;		/* of `queued` and of `results` */
	struct arena arena;
};

/* Prepare a closed session. */
void mig_session_init(struct mig_session *s);

/* Start connecting to `conninfo` (a URL or key=value string; never logged).
 * The connection must be made within `connect_timeout_s` seconds (10 when
 * not positive): libpq does not enforce it on a connection driven by
 * PQconnectPoll, so the session does (mig_session_timed_out). Returns 0, or
 * -1 with s->error set; s->bad_conninfo is then true when the string
 * cannot be parsed or holds an option value libpq refuses, which no retry
 * can mend (otherwise, as for an unreachable server, retrying may help).
 * Parts of the string that libpq quotes in its message are hidden when they
 * may hold the password. */
int mig_session_connect(struct mig_session *s, const char *conninfo, int connect_timeout_s,
			int db);

/* The socket and the poll events the session waits for; -1 when closed
 * or idle (nothing to wait for). */
int mig_session_fd(const struct mig_session *s, short *events);

/* When a connecting session's attempt times out (time_mono_ms), or -1
 * when the session is not connecting. */
int64_t mig_session_deadline(const struct mig_session *s);

/* True when the session is connecting and its deadline has passed at
 * `now_ms`: s->error then says so ("connection timed out after N s"); the
 * caller treats it as a broken connection (close, maybe retry). */
bool mig_session_timed_out(struct mig_session *s, int64_t now_ms);

/* Make progress after poll() reported `revents` on the socket. */
enum mig_progress mig_session_progress(struct mig_session *s, short revents);

/* Send `sql` (one or more statements, no parameters) in one simple-protocol
 * message. The session must be idle. Returns 0, or -1 with s->error set
 * (the connection is then broken). */
int mig_session_send_simple(struct mig_session *s, const char *sql);

/* Queue a parameterised statement for the next pipeline. `sql` and the
 * `nparams` text values (NULL entries are SQL NULL) are copied into the
 * session's arena. */
void mig_session_queue(struct mig_session *s, const char *sql, int nparams,
		       const char *const *params);

/* Send the queued statements as one pipeline ended by a Sync. Returns 0, or
 * -1 with s->error set. */
int mig_session_send_queued(struct mig_session *s);

/* Result `i` of the last round trip (0 for a simple string, whose result is
 * its first error or else its last result), or NULL. Owned by the session
 * until the next send. */
const PGresult *mig_session_result(const struct mig_session *s, int i);

/* The first failed result of the last round trip, or NULL when all
 * succeeded. */
const PGresult *mig_session_error(const struct mig_session *s);

/* The index of that result (its statement in the pipeline), or -1. */
int mig_session_error_index(const struct mig_session *s);

/* Ask the server to cancel the statement in flight (blocks briefly). */
void mig_session_cancel(struct mig_session *s);

/* Close the connection (the server rolls back what was open and releases
 * session locks) and free the results; the session is reusable. */
void mig_session_close(struct mig_session *s);

/* Close and free everything. */
void mig_session_release(struct mig_session *s);

#endif
