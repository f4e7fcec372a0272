/* minimal_responder.c — the floor of this architecture for scripts/bench/server:
 * a single-process libfcgi responder that accepts, drains stdin and writes a
 * fixed body, forked N times on one socket like infrad's workers.
 * usage: minimal_responder SOCKET_PATH [PROCESSES] */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char reply[] =
	"Status: 200 OK\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 20\r\n"
	"\r\n"
	"{\"status\":\"healthy\"}";

static void serve(int fd)
{
	FCGX_Request req;
	char buf[4096];

	if (FCGX_InitRequest(&req, fd, 0) != 0)
		exit(1);
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(buf, sizeof(buf), req.in) > 0)
			;
		FCGX_PutStr(reply, sizeof(reply) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	exit(0);
}

int main(int argc, char **argv)
{
	int fd, n;

	if (argc < 2) {
		fprintf(stderr, "usage: minimal_responder SOCKET_PATH [PROCESSES]\n");
		return 2;
	}
	n = argc > 2 ? atoi(argv[2]) : 4;
	if (n < 1)
		n = 1;
	if (FCGX_Init() != 0)
		return 1;
	unlink(argv[1]);
	fd = FCGX_OpenSocket(argv[1], 1024);
	if (fd < 0) {
		perror("minimal_responder: FCGX_OpenSocket");
		return 1;
	}
	chmod(argv[1], 0666);
	for (int i = 0; i < n; i++)
		if (fork() == 0) {
			/* A child ends with the parent: SIGTERM to it stops all. */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			serve(fd);
		}
	while (wait(NULL) > 0)
		;
	return 0;
}
