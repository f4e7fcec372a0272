/* listen.h — the FastCGI listening socket, opened by the master before it
 * forks so every worker accepts on the same descriptor. */
#ifndef INFRA_LISTEN_H
#define INFRA_LISTEN_H

/* Open `address` (a unix socket path starting with '/', or host:port) for
 * listening with `backlog`; a unix socket gets permissions `mode` (octal
 * text) and a stale socket file left by a dead process is replaced (a live
 * one is an error). Returns the descriptor (close-on-exec), or -1 after
 * logging why. */
int listen_open(const char *address, const char *mode, int backlog);

/* Close `fd`; for a unix socket also remove its file. */
void listen_close(int fd, const char *address);

#endif
