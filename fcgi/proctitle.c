/* proctitle.c — overwriting argv[0]'s memory for `ps`, the way nginx's
 * ngx_setproctitle does: argv and environ are contiguous, so environ is
 * copied to the heap and the whole area becomes the title's room. */
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "proctitle.h"

extern char **environ;

static char *title_start;
static size_t title_room;
/* Kept reachable (setenv() may replace environ, and a leak checker would
 * call the copy lost); volatile so the store is not optimised away. */
static char **volatile environ_copy;

int proctitle_init(int argc, char **argv)
{
	char *end = argv[0] + strlen(argv[0]) + 1;
	size_t n = 0;
	char **copy;

	for (int i = 1; i < argc; i++)
		if (argv[i] == end)
			end = argv[i] + strlen(argv[i]) + 1;
	while (environ[n] != NULL)
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	if (copy == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (environ[i] == end)
			end = environ[i] + strlen(environ[i]) + 1;
		copy[i] = strdup(environ[i]);
		if (copy[i] == NULL)
			return -1;
	}
	environ = environ_copy = copy;
	title_start = argv[0];
	title_room = (size_t)(end - argv[0]);
	return 0;
}

void proctitle_set(const char *title)
{
	char comm[16];

	if (title_start != NULL && title_room > 1) {
		size_t len = strlen(title);

		if (len >= title_room)
			len = title_room - 1;
		memcpy(title_start, title, len);
		memset(title_start + len, '\0', title_room - len);
	}
	strncpy(comm, title, sizeof(comm) - 1);
	comm[sizeof(comm) - 1] = '\0';
	prctl(PR_SET_NAME, comm, 0, 0, 0);
}
