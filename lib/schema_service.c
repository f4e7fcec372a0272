/* schema_service.c — the schema service (see schema_service.h): the main
 * thread accepts requests and hands each to its database's lane, a thread
 * that runs them one after another with tenant_schema_ddl() on sessions
 * of its own; a lane ends when its session would (TENANT_SESSION_IDLE_MS
 * idle). */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "log.h"
#include "schema_service.h"
#include "tenant.h"
#include "timeutil.h"
#include "xalloc.h"

#define LANES_MAX 64		/* databases served at once; beyond, workers do it */
#define MESSAGE_MAX 8192	/* a request: a connection string and a name */
#define REQUEST_WAIT_MS 1000	/* for a connected worker's request to arrive */
#define ANSWER_SLACK_MS 2000	/* a worker waits this much past the DDL's own timeout */
#define BIND_RETRY_MS 100	/* while an older service still holds the name */
#define BIND_GIVE_UP_MS 60000

struct job {
	struct job *next;
	int fd;			/* the worker's connection, answered then closed */
	char *conninfo;		/* holds a password: wiped when freed */
	char *schema;
	bool drop;
	int timeout_s;
};

struct lane {
	char *conninfo;		/* NULL: a free lane (wiped when freed) */
	struct job *head, *tail;
	pthread_cond_t work;	/* a job was queued here, or the service stops */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t lane_ended;
	struct lane lanes[LANES_MAX];
	int running;			/* lanes whose thread is alive */
	bool stopping;
} svc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.lane_ended = PTHREAD_COND_INITIALIZER,
};

/* The abstract socket name of the service of master `master`. */
static socklen_t address(struct sockaddr_un *sa, pid_t master)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "infrad-schemas-%d", (int)master);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static void job_free(struct job *j)
{
	close(j->fd);
	crypto_secret_free(j->conninfo, 0);
	free(j->schema);
	free(j);
}

/* Wipe the text of JSON string `s` (it holds a password). */
static void wipe(json_object *s)
{
	OPENSSL_cleanse((char *)json_object_get_string(s), (size_t)json_object_get_string_len(s));
}

/* Send `o` as one message on `fd` and free it; a secret in it is wiped
 * from the text. A peer that went away is no error of ours. */
static int send_json(int fd, json_object *o)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(text);
	int rc = send(fd, text, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;

	OPENSSL_cleanse((char *)text, len);
	json_object_put(o);
	return rc;
}

/* Answer a job's worker: `status` done, failed (with why), busy or
 * refused (with why). */
static void answer(int fd, const char *status, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string(status));
	if (why != NULL)
		json_object_object_add(o, "why", json_object_new_string(why));
	send_json(fd, o);
}

/* --- lanes --- */

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	char why[INFRA_ERRMSG_MAX];

	pthread_mutex_lock(&svc.lock);
	for (;;) {
		struct job *j;

		if (l->head == NULL && !svc.stopping) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += TENANT_SESSION_IDLE_MS / 1000;
			while (l->head == NULL && !svc.stopping &&
			       pthread_cond_timedwait(&l->work, &svc.lock, &until) != ETIMEDOUT)
				;
		}
		/* Idle too long, or stopping with nothing left: end. */
		if ((j = l->head) == NULL)
			break;
		if ((l->head = j->next) == NULL)
			l->tail = NULL;
		pthread_mutex_unlock(&svc.lock);
		if (tenant_schema_ddl(j->conninfo, j->schema, j->drop, j->timeout_s, why) == 0)
			answer(j->fd, "done", NULL);
		else
			answer(j->fd, "failed", why);
		job_free(j);
		pthread_mutex_lock(&svc.lock);
	}
	crypto_secret_free(l->conninfo, 0);
	l->conninfo = NULL;
	pthread_cond_destroy(&l->work);
	svc.running--;
	pthread_cond_broadcast(&svc.lane_ended);
	pthread_mutex_unlock(&svc.lock);
	tenant_sessions_release();	/* this thread's */
	return NULL;
}

/* Start a thread for free lane `l` (the lock held). Signals stay the main
 * thread's. */
static int lane_start(struct lane *l, const char *conninfo)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int rc;

	l->conninfo = xstrdup(conninfo);
	l->head = l->tail = NULL;
	pthread_cond_init(&l->work, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, lane_main, l);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_errno("pthread_create", "a schema service lane");
		crypto_secret_free(l->conninfo, 0);
		l->conninfo = NULL;
		pthread_cond_destroy(&l->work);
		return -1;
	}
	svc.running++;
	return 0;
}

/* Queue `j` on its database's lane (starting one), or answer busy. */
static void dispatch(struct job *j)
{
	struct lane *l = NULL, *spare = NULL;

	pthread_mutex_lock(&svc.lock);
	for (size_t i = 0; i < LANES_MAX && l == NULL; i++) {
		struct lane *c = &svc.lanes[i];

		if (c->conninfo == NULL) {
			if (spare == NULL)
				spare = c;
		} else if (strcmp(c->conninfo, j->conninfo) == 0) {
			l = c;
		}
	}
	if (l == NULL && spare != NULL && lane_start(spare, j->conninfo) == 0)
		l = spare;
	if (l != NULL) {
		j->next = NULL;
		if (l->tail != NULL)
			l->tail->next = j;
		else
			l->head = j;
		l->tail = j;
		pthread_cond_signal(&l->work);
	}
	pthread_mutex_unlock(&svc.lock);
	if (l == NULL) {
		answer(j->fd, "busy", NULL);
		job_free(j);
	}
}

/* --- requests --- */

/* The job in a request message `text`, or NULL with why. */
static struct job *parse_request(const char *text, const char **why)
{
	json_object *o = json_tokener_parse(text), *conninfo, *schema, *drop, *timeout;
	struct job *j = NULL;
	int64_t t;

	*why = "a request is a JSON object {conninfo, schema, drop, timeout_s}";
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "conninfo", &conninfo) ||
	    !json_object_is_type(conninfo, json_type_string) ||
	    !json_object_object_get_ex(o, "schema", &schema) ||
	    !json_object_is_type(schema, json_type_string) ||
	    !json_object_object_get_ex(o, "drop", &drop) || !json_object_is_type(drop, json_type_boolean) ||
	    !json_object_object_get_ex(o, "timeout_s", &timeout) ||
	    !json_object_is_type(timeout, json_type_int))
		goto out;
	t = json_object_get_int64(timeout);
	if (json_object_get_string_len(conninfo) == 0 || json_object_get_string_len(schema) == 0 ||
	    json_object_get_string_len(schema) > 63 || t < 1 || t > 3600) {
		*why = "conninfo and schema (at most 63 bytes) are needed, timeout_s from 1 to 3600";
		goto out;
	}
	j = xoom(calloc(1, sizeof(*j)));
	j->conninfo = xstrdup(json_object_get_string(conninfo));
	j->schema = xstrdup(json_object_get_string(schema));
	j->drop = json_object_get_boolean(drop);
	j->timeout_s = (int)t;
	*why = NULL;
out:
	if (json_object_object_get_ex(o, "conninfo", &conninfo) &&
	    json_object_is_type(conninfo, json_type_string))
		wipe(conninfo);
	json_object_put(o);
	return j;
}

/* Take the request on accepted connection `fd`: from a peer of our own
 * user, one message, in time. Closes `fd` unless a job took it. */
static void take_request(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[MESSAGE_MAX + 1];
	const char *why;
	struct job *j;
	ssize_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid() ||
	    poll(&p, 1, REQUEST_WAIT_MS) != 1 || (n = recv(fd, buf, sizeof(buf), 0)) <= 0) {
		close(fd);
		return;
	}
	if (n > MESSAGE_MAX) {
		OPENSSL_cleanse(buf, sizeof(buf));
		answer(fd, "refused", "the request is too long");
		close(fd);
		return;
	}
	buf[n] = '\0';
	j = parse_request(buf, &why);
	OPENSSL_cleanse(buf, (size_t)n);
	if (j == NULL) {
		answer(fd, "refused", why);
		close(fd);
		return;
	}
	j->fd = fd;
	dispatch(j);
}

/* Bind the service's name, waiting while an older service (of the
 * generation before a reload) still holds it. */
static int open_socket(volatile sig_atomic_t *stop)
{
	struct sockaddr_un sa;
	socklen_t salen = address(&sa, getppid());
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return log_errno("socket", "the schema service");
	for (int waited = 0; bind(fd, (struct sockaddr *)&sa, salen) != 0; waited += BIND_RETRY_MS) {
		if (errno != EADDRINUSE || *stop || waited >= BIND_GIVE_UP_MS) {
			log_errno("bind", "the schema service");
			close(fd);
			return -1;
		}
		poll(NULL, 0, BIND_RETRY_MS);
	}
	if (listen(fd, 128) != 0) {
		log_errno("listen", "the schema service");
		close(fd);
		return -1;
	}
	return fd;
}

int schema_service_serve(volatile sig_atomic_t *stop)
{
	int fd = open_socket(stop);

	if (fd < 0)
		return *stop ? 0 : -1;
	log_info("schema service ready");
	while (!*stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 1000) != 1)
			continue;	/* EINTR: a stop, looked at above */
		if ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
			take_request(c);
	}
	/* Workers find the name free (and do their DDL themselves, or reach
	 * the next generation's service); the lanes answer what they hold. */
	close(fd);
	pthread_mutex_lock(&svc.lock);
	svc.stopping = true;
	for (size_t i = 0; i < LANES_MAX; i++)
		if (svc.lanes[i].conninfo != NULL)
			pthread_cond_signal(&svc.lanes[i].work);
	while (svc.running > 0)
		pthread_cond_wait(&svc.lane_ended, &svc.lock);
	svc.stopping = false;
	pthread_mutex_unlock(&svc.lock);
	return 0;
}

/* --- the workers' side --- */

int schema_service_call(const char *conninfo, const char *schema, bool drop, int timeout_s,
			char *why)
{
	struct sockaddr_un sa;
	socklen_t salen = address(&sa, getppid());
	json_object *o, *secret, *status, *text;
	struct pollfd p = { .events = POLLIN };
	char buf[INFRA_ERRMSG_MAX + 256];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), rc = SCHEMA_SERVICE_UNAVAILABLE;
	int64_t deadline = time_mono_ms() + (int64_t)timeout_s * 1000 + ANSWER_SLACK_MS;
	int sent, ready;
	ssize_t n;

	if (fd < 0)
		return rc;
	if (connect(fd, (struct sockaddr *)&sa, salen) != 0)
		goto out;
	o = json_object_new_object();
	secret = json_object_new_string(conninfo);
	json_object_object_add(o, "conninfo", json_object_get(secret));
	json_object_object_add(o, "schema", json_object_new_string(schema));
	json_object_object_add(o, "drop", json_object_new_boolean(drop));
	json_object_object_add(o, "timeout_s", json_object_new_int(timeout_s));
	sent = send_json(fd, o);
	wipe(secret);
	json_object_put(secret);
	if (sent != 0)
		goto out;
	/* A signal (a worker asked to drain) does not cut the wait short. */
	p.fd = fd;
	do {
		int64_t left = deadline - time_mono_ms();

		ready = poll(&p, 1, left > 0 ? (int)left : 0);
	} while (ready < 0 && errno == EINTR);
	if (ready == 0) {
		snprintf(why, INFRA_ERRMSG_MAX, "no answer from the schema service within %d s",
			 timeout_s + ANSWER_SLACK_MS / 1000);
		rc = -1;
		goto out;
	}
	/* The service went away (it ran the DDL or not: running it again
	 * changes nothing), or answered. */
	if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		goto out;
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	if (o != NULL && json_object_object_get_ex(o, "status", &status)) {
		if (strcmp(json_object_get_string(status), "done") == 0) {
			rc = 0;
		} else if (strcmp(json_object_get_string(status), "failed") == 0) {
			snprintf(why, INFRA_ERRMSG_MAX, "%s", json_object_object_get_ex(o, "why", &text)
				 ? json_object_get_string(text) : "failed");
			rc = -1;
		}
	}
	json_object_put(o);
out:
	close(fd);
	return rc;
}
