/* pgprobe.h — testing connections to managed databases: connect, run
 * `SHOW server_version`, report latency or the reason of failure.
 *
 * Connections are made with libpq's non-blocking API under one hard
 * deadline per probe (PROBE_TIMEOUT), so a host that accepts TCP but never
 * answers costs the deadline, not a hung process; libpq's connect_timeout
 * and the server's statement_timeout are set to the same bound as a second
 * line. Several probes run at once, multiplexed with poll(). Host names are
 * resolved by libpq before the deadline starts to matter (getaddrinfo
 * blocks): prefer addresses or a local resolver for fleets.
 *
 * Error messages are libpq's own, on one line, with the password scrubbed
 * should it ever appear, and never the connection string. */
#ifndef INFRA_PGPROBE_H
#define INFRA_PGPROBE_H

#include <stdbool.h>

#define PGPROBE_ERROR_MAX 320
#define PGPROBE_VERSION_MAX 96

/* Where to connect; every string is borrowed for the call. */
struct pgprobe_target {
	const char *host;	/* DNS name or IP address */
	int port;
	const char *dbname;
	const char *user;
	const char *password;	/* NULL or "" for none */
	const char *sslmode;	/* libpq's sslmode; NULL: "prefer" */
};

struct pgprobe_result {
	bool ok;
	double latency_ms;	/* from the start to the answer or the failure */
	char server_version[PGPROBE_VERSION_MAX];	/* "" unless ok */
	char error[PGPROBE_ERROR_MAX];			/* "" when ok */
};

/* Probe the `n` targets at once, each within `timeout_s` seconds, and fill
 * results[i] for targets[i]. Never fails as a whole: every problem is a
 * result with ok false. */
void pgprobe_run(const struct pgprobe_target *targets, struct pgprobe_result *results,
		 int n, int timeout_s);

/* Copy `msg` into `out` on one line (newlines and tabs become spaces, runs
 * of spaces collapse, the ends are trimmed) with every occurrence of
 * `secret` (when not NULL or "") replaced by "***". Exposed for tests. */
void pgprobe_clean_message(char *out, size_t outlen, const char *msg, const char *secret);

#endif
