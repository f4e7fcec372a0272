/* log.h — structured logging: one JSON object per line on stderr.
 *
 * Every line carries the time (UTC), level, pid, the process role
 * ("master", "worker", "runner", "infractl") and, while a request is being
 * served, its request_id. Messages are lowercase with no full stop, the
 * subject quoted, and a library's own message in a separate field
 * ("error"). Secrets never reach a log: callers pass no password, token or
 * connection string, and log_redact_conninfo() exists for the one place a
 * connection target must be named. */
#ifndef INFRA_LOG_H
#define INFRA_LOG_H

#include <json-c/json.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* Set the role written on every line and the lowest level written. */
void log_init(const char *role, enum log_level min_level);

/* Parse "debug", "info", "warn" or "error". Returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

/* The request id put on every line until the next call; NULL clears it.
 * The string is copied. */
void log_set_request_id(const char *request_id);

/* Write one line at `level` with message `msg` and the extra members of
 * `fields` (a JSON object, or NULL). Takes ownership of `fields`. */
void log_emit(enum log_level level, const char *msg, json_object *fields);

/* printf-style shorthands with no extra fields. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log an error naming the call that failed and errno's text apart, and
 * return -1: `return log_errno("bind", path);`. */
int log_errno(const char *call, const char *subject);

/* Copy a libpq connection string or URL into `out` with any password
 * replaced by "***", for the rare message that must name a target. */
void log_redact_conninfo(const char *conninfo, char *out, size_t outlen);

#endif
