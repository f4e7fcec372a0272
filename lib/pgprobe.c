/* pgprobe.c — connection tests of managed databases with a hard deadline
 * (see pgprobe.h): PQconnectStartParams/PQconnectPoll and an asynchronous
 * query, all targets multiplexed in one poll() loop. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pgprobe.h"
#include "timeutil.h"

enum slot_state { SLOT_CONNECTING, SLOT_QUERYING, SLOT_DONE };

struct slot {
	PGconn *conn;
	enum slot_state state;
	PostgresPollingStatusType polling;	/* while connecting */
	bool flushing;				/* while sending the query */
	int64_t started_us;
};

void pgprobe_clean_message(char *out, size_t outlen, const char *msg, const char *secret)
{
	size_t slen = secret ? strlen(secret) : 0, o = 0;
	bool space = true;	/* drop leading spaces */

	if (outlen == 0)
		return;
	for (const char *p = msg ? msg : ""; *p != '\0' && o + 1 < outlen;) {
		if (slen > 0 && strncmp(p, secret, slen) == 0) {
			for (const char *s = "***"; *s && o + 1 < outlen; s++)
				out[o++] = *s;
			p += slen;
			space = false;
			continue;
		}
		if (*p == '\n' || *p == '\r' || *p == '\t' || *p == ' ') {
			if (!space)
				out[o++] = ' ';
			space = true;
		} else {
			out[o++] = *p;
			space = false;
		}
		p++;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static void finish(struct slot *s, struct pgprobe_result *res, const struct pgprobe_target *t,
		   bool ok, const char *error)
{
	res->ok = ok;
	res->latency_ms = (double)(time_mono_us() - s->started_us) / 1000.0;
	if (!ok)
		pgprobe_clean_message(res->error, sizeof(res->error), error, t->password);
	if (s->conn != NULL)
		PQfinish(s->conn);
	s->conn = NULL;
	s->state = SLOT_DONE;
}

static void start(struct slot *s, struct pgprobe_result *res, const struct pgprobe_target *t,
		  int timeout_s)
{
	char port[16], timeout[16], options[64];
	const char *keys[] = {
		"host", "port", "dbname", "user", "password", "sslmode", "connect_timeout",
		"application_name", "options", "gssencmode", NULL,
	};
	const char *vals[sizeof(keys) / sizeof(keys[0])];

	memset(res, 0, sizeof(*res));
	s->started_us = time_mono_us();
	s->state = SLOT_CONNECTING;
	s->polling = PGRES_POLLING_WRITING;
	s->flushing = false;
	snprintf(port, sizeof(port), "%d", t->port);
	snprintf(timeout, sizeof(timeout), "%d", timeout_s);
	snprintf(options, sizeof(options), "-c statement_timeout=%d", timeout_s * 1000);
	vals[0] = t->host;
	vals[1] = port;
	vals[2] = t->dbname;
	vals[3] = t->user;
	vals[4] = t->password && t->password[0] ? t->password : NULL;
	vals[5] = t->sslmode ? t->sslmode : "prefer";
	vals[6] = timeout;
	vals[7] = "infra-probe";
	vals[8] = options;
	vals[9] = "disable";
	vals[10] = NULL;
	/* expand_dbname 0: a database name is never parsed as a conninfo. */
	s->conn = PQconnectStartParams(keys, vals, 0);
	if (s->conn == NULL)
		finish(s, res, t, false, "out of memory");
	else if (PQstatus(s->conn) == CONNECTION_BAD)
		finish(s, res, t, false, PQerrorMessage(s->conn));
}

/* Send the version query on a connection just made. */
static void send_query(struct slot *s, struct pgprobe_result *res, const struct pgprobe_target *t)
{
	int f;

	s->state = SLOT_QUERYING;
	if (PQsetnonblocking(s->conn, 1) != 0 ||
	    PQsendQuery(s->conn, "SHOW server_version") != 1) {
		finish(s, res, t, false, PQerrorMessage(s->conn));
		return;
	}
	f = PQflush(s->conn);
	if (f < 0)
		finish(s, res, t, false, PQerrorMessage(s->conn));
	s->flushing = f == 1;
}

/* Advance a slot after its socket became ready (or on the first pass). */
static void step(struct slot *s, struct pgprobe_result *res, const struct pgprobe_target *t)
{
	if (s->state == SLOT_CONNECTING) {
		s->polling = PQconnectPoll(s->conn);
		if (s->polling == PGRES_POLLING_FAILED)
			finish(s, res, t, false, PQerrorMessage(s->conn));
		else if (s->polling == PGRES_POLLING_OK)
			send_query(s, res, t);
		return;
	}
	if (s->flushing) {
		int f = PQflush(s->conn);

		if (f < 0)
			finish(s, res, t, false, PQerrorMessage(s->conn));
		s->flushing = f == 1;
		return;
	}
	if (PQconsumeInput(s->conn) != 1) {
		finish(s, res, t, false, PQerrorMessage(s->conn));
		return;
	}
	while (s->state == SLOT_QUERYING && !PQisBusy(s->conn)) {
		PGresult *r = PQgetResult(s->conn);

		if (r == NULL) {
			/* End of results without a row: should not happen. */
			finish(s, res, t, false, "the server sent no version");
			break;
		}
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
			snprintf(res->server_version, sizeof(res->server_version), "%s",
				 PQgetvalue(r, 0, 0));
			PQclear(r);
			finish(s, res, t, true, NULL);
		} else {
			char msg[PGPROBE_ERROR_MAX];

			snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(r));
			PQclear(r);
			finish(s, res, t, false, msg);
		}
	}
}

void pgprobe_run(const struct pgprobe_target *targets, struct pgprobe_result *results,
		 int n, int timeout_s)
{
	struct slot *slots;
	struct pollfd *pfds;
	int *owner;
	int64_t deadline = time_mono_ms() + (int64_t)timeout_s * 1000;

	if (n <= 0)
		return;
	slots = calloc((size_t)n, sizeof(*slots));
	pfds = calloc((size_t)n, sizeof(*pfds));
	owner = calloc((size_t)n, sizeof(*owner));
	if (slots == NULL || pfds == NULL || owner == NULL) {
		for (int i = 0; i < n; i++) {
			memset(&results[i], 0, sizeof(results[i]));
			snprintf(results[i].error, sizeof(results[i].error), "out of memory");
		}
		free(slots);
		free(pfds);
		free(owner);
		return;
	}
	for (int i = 0; i < n; i++)
		start(&slots[i], &results[i], &targets[i], timeout_s);
	for (;;) {
		int npfd = 0, ready;
		int64_t left = deadline - time_mono_ms();

		for (int i = 0; i < n; i++) {
			struct slot *s = &slots[i];
			short events;

			if (s->state == SLOT_DONE)
				continue;
			if (left <= 0) {
				char msg[96];

				snprintf(msg, sizeof(msg), "timed out after %d s %s", timeout_s,
					 s->state == SLOT_CONNECTING ? "connecting to the server"
								     : "waiting for the server's answer");
				finish(s, &results[i], &targets[i], false, msg);
				continue;
			}
			if (s->state == SLOT_CONNECTING)
				events = s->polling == PGRES_POLLING_READING ? POLLIN : POLLOUT;
			else
				events = s->flushing ? POLLIN | POLLOUT : POLLIN;
			pfds[npfd].fd = PQsocket(s->conn);
			pfds[npfd].events = events;
			pfds[npfd].revents = 0;
			owner[npfd++] = i;
		}
		if (npfd == 0)
			break;
		ready = poll(pfds, (nfds_t)npfd, (int)(left > 0 ? left : 0));
		if (ready < 0)
			continue;	/* EINTR: recompute the time left */
		for (int k = 0; k < npfd; k++)
			if (pfds[k].revents != 0)
				step(&slots[owner[k]], &results[owner[k]], &targets[owner[k]]);
	}
	free(slots);
	free(pfds);
	free(owner);
}
