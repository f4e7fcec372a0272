/* test_schema_service.c — the schema service (lib/schema_service.h)
 * against a real PostgreSQL (a private cluster), served from a thread of
 * this process: schemas created and dropped through it, many requests for
 * one database on one session, a failure's reason passed back, a
 * malformed request refused without harm, a peer of another user not
 * served, and no service at all told apart from a failure. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "authtest.h"
#include "error.h"
#include "metrics.h"
#include "schema_service.h"
#include "unit.h"

static struct authtest_pg pg;
static pthread_t server;
static volatile sig_atomic_t stop;
static char conninfo[256];
static const char *program;	/* argv[0] */

static void *serve(void *unused)
{
	(void)unused;
	schema_service_serve(&stop);
	return NULL;
}

/* The first column of the first row of `sql` on the test database. */
static void scalar(const char *sql, char *out, size_t len)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *res = PQexec(c, sql);

	snprintf(out, len, "%s", PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0
		 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	PQfinish(c);
}

static bool schema_exists(const char *name)
{
	char sql[128], out[8];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_namespace WHERE nspname = '%s'", name);
	scalar(sql, out, sizeof(out));
	return strcmp(out, "1") == 0;
}

static void test_create_and_drop(void)
{
	char why[INFRA_ERRMSG_MAX] = "";

	CU_ASSERT_EQUAL(schema_service_call(conninfo, "svc_a", false, 5, why), 0);
	CU_ASSERT(schema_exists("svc_a"));
	CU_ASSERT_EQUAL(schema_service_call(conninfo, "svc_a", false, 5, why), 0);	/* it exists: fine */
	CU_ASSERT_EQUAL(schema_service_call(conninfo, "svc_a", true, 5, why), 0);
	CU_ASSERT(!schema_exists("svc_a"));
}

static void *create_some(void *arg)
{
	char why[INFRA_ERRMSG_MAX], name[32];
	int *failed = arg;

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "svc_%d_%d", *failed, i);
		if (schema_service_call(conninfo, name, false, 5, why) != 0)
			*failed = -1;
	}
	return NULL;
}

/* Four callers at once, twenty schemas: one session to the database. */
static void test_one_session_per_database(void)
{
	pthread_t t[4];
	int ids[4] = { 1, 2, 3, 4 };
	char out[8];

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, create_some, &ids[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_NOT_EQUAL(ids[i], -1);
	}
	scalar("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'svc\\_%\\_%'", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "20");
	scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'infra-migrate'",
	       out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "1");
}

static void test_failure_reason(void)
{
	char why[INFRA_ERRMSG_MAX] = "";

	CU_ASSERT_EQUAL(schema_service_call("host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2",
					    "svc_b", false, 3, why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "127.0.0.1"));
}

/* A raw request on the socket of the service of master `master` (the
 * process the service and its callers have for parent); its answer, or ""
 * when none. */
static void raw_request(pid_t master, const char *text, char *answer, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0), n;
	ssize_t got;

	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "infrad-schemas-%d", (int)master);
	answer[0] = '\0';
	if (connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) == 0 &&
	    send(fd, text, strlen(text), 0) >= 0 && (got = recv(fd, answer, len - 1, 0)) > 0)
		answer[got] = '\0';
	close(fd);
}

static void test_malformed_refused(void)
{
	char answer[512], why[INFRA_ERRMSG_MAX];

	raw_request(getppid(), "not json", answer, sizeof(answer));
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\"refused\""));
	raw_request(getppid(), "{\"conninfo\": \"x\", \"schema\": \"a\", \"drop\": false, "
		    "\"timeout_s\": 0}", answer, sizeof(answer));
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\"refused\""));
	CU_ASSERT_EQUAL(schema_service_call(conninfo, "svc_c", false, 5, why), 0);	/* still serving */
	CU_ASSERT(schema_exists("svc_c"));
}

/* A process of another user is not served: the connection is closed
 * unanswered, nothing done; the same request from our user is. (The other
 * user's process is this program again, exec'd after setuid, so that a
 * memory checker watching this one does not judge a forked copy.) */
static void test_other_user_not_served(void)
{
	char request[512], answer[512], master[16];
	pid_t child;
	int status = -1;

	CU_ASSERT_EQUAL_FATAL(geteuid(), 0);	/* the suite runs as root (make test installs) */
	snprintf(request, sizeof(request), "{\"conninfo\": \"%s\", \"schema\": \"svc_d\", "
		 "\"drop\": false, \"timeout_s\": 5}", conninfo);
	snprintf(master, sizeof(master), "%d", (int)getppid());
	child = fork();
	if (child == 0) {
		if (setuid(65534) == 0)
			execl(program, program, "--request", master, request, (char *)NULL);
		_exit(3);
	}
	waitpid(child, &status, 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT(!schema_exists("svc_d"));
	raw_request(getppid(), request, answer, sizeof(answer));
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\"done\""));
	CU_ASSERT(schema_exists("svc_d"));
}

static void test_no_service(void)
{
	char why[INFRA_ERRMSG_MAX];

	stop = 1;
	pthread_kill(server, SIGTERM);	/* interrupt its poll */
	pthread_join(server, NULL);
	CU_ASSERT_EQUAL(schema_service_call(conninfo, "svc_e", false, 5, why), SCHEMA_SERVICE_UNAVAILABLE);
	CU_ASSERT(!schema_exists("svc_e"));
}

static CU_TestInfo tests[] = {
	{ "create and drop", test_create_and_drop },
	{ "one session per database", test_one_session_per_database },
	{ "a failure's reason", test_failure_reason },
	{ "a malformed request refused", test_malformed_refused },
	{ "another user not served", test_other_user_not_served },
	{ "no service", test_no_service },
	CU_TEST_INFO_NULL,
};

static void on_term(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	char why[INFRA_ERRMSG_MAX], answer[512];
	struct sigaction sa = { .sa_handler = on_term };
	int rc = 2, port;

	/* test_other_user_not_served's other user: exit 0 when unanswered. */
	if (argc == 4 && strcmp(argv[1], "--request") == 0) {
		raw_request((pid_t)atoi(argv[2]), argv[3], answer, sizeof(answer));
		return answer[0] == '\0' ? 0 : 1;
	}
	program = argv[0];
	sigaction(SIGTERM, &sa, NULL);
	if (metrics_init() != 0 || authtest_postgres_start(&pg) != 0) {
		fprintf(stderr, "test_schema_service: cannot start PostgreSQL\n");
		authtest_postgres_stop(&pg);
		return rc;
	}
	sscanf(strrchr(pg.url, ':') + 1, "%d", &port);
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=postgres user=postgres", port);
	pthread_create(&server, NULL, serve, NULL);
	/* Ready when it answers. */
	for (int i = 0; i < 100 && schema_service_call(conninfo, "svc_ready", false, 5, why) ==
	     SCHEMA_SERVICE_UNAVAILABLE; i++)
		usleep(50000);
	rc = unit_run("schema_service", tests);
	authtest_postgres_stop(&pg);
	return rc;
}
