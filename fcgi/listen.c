/* listen.c — opening the FastCGI socket (see listen.h). Written here
 * rather than with FCGX_OpenSocket to control stale-socket handling,
 * permissions and close-on-exec. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

static int open_unix(const char *path, const char *mode, int backlog)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_errno("socket", path);
	if (access(path, F_OK) == 0) {
		/* Replace the file only if nobody is listening on it. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		if (probe >= 0)
			close(probe);
		if (live) {
			log_error("socket '%s' is in use by another process", path);
			close(fd);
			return -1;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_errno("bind", path);
		close(fd);
		return -1;
	}
	if (chmod(path, (mode_t)strtol(mode, NULL, 8)) != 0)
		log_errno("chmod", path);
	if (listen(fd, backlog) != 0) {
		log_errno("listen", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int open_tcp(const char *address, int backlog)
{
	char host[256];
	const char *colon = strrchr(address, ':');
	struct addrinfo hints, *res = NULL;
	int fd, one = 1, rc;
	size_t hlen;

	if (colon == NULL || (size_t)(colon - address) >= sizeof(host)) {
		log_error("listen address '%s' is not host:port", address);
		return -1;
	}
	hlen = (size_t)(colon - address);
	memcpy(host, address, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0) {
		log_error("cannot resolve listen address '%s': %s", address, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		return log_errno("socket", address);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
		log_errno("bind", address);
		freeaddrinfo(res);
		close(fd);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

int listen_open(const char *address, const char *mode, int backlog)
{
	return address[0] == '/' ? open_unix(address, mode, backlog)
				 : open_tcp(address, backlog);
}

void listen_close(int fd, const char *address)
{
	if (fd >= 0)
		close(fd);
	if (address != NULL && address[0] == '/')
		unlink(address);
}
