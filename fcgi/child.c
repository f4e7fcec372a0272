/* child.c — what every forked child does first: its own signal handling,
 * so the master's self-pipe handlers never run in a child. */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon.h"

volatile sig_atomic_t child_stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	child_stop_requested = 1;
}

void child_signals_init(void)
{
	struct sigaction sa;
	sigset_t all;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* No SA_RESTART: a blocked accept() or poll() must return EINTR. Our
	 * handler is installed before FCGX_Init, which then keeps its own
	 * handlers (and its shutdown flags) out. */
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}
