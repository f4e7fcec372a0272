/* error.h — the one error type of libinfra.
 *
 * Every lib/ function that can fail returns 0 on success and -1 on failure,
 * and fills a caller-provided `struct infra_error` saying what kind of failure
 * it was and why, in words fit for an API client (never a secret, never SQL
 * text). handlers/ maps the kind to an HTTP status and error code in one
 * place (handlers/respond.c); the CLI maps it to an exit status. */
#ifndef INFRA_ERROR_H
#define INFRA_ERROR_H

#include <stdarg.h>

enum infra_errkind {
	INFRA_OK = 0,
	INFRA_EINVAL,     /* input failed validation (VAL_001, 422) */
	INFRA_EMALFORMED, /* input could not be parsed at all (VAL_001, 400) */
	INFRA_ENOTFOUND,  /* no such resource (RES_001, 404) */
	INFRA_ECONFLICT,  /* duplicate or concurrent change (RES_002, 409) */
	INFRA_EPRECOND,   /* If-Match failed (RES_003, 412) */
	INFRA_EMIGRATION, /* a migration set or target cannot be planned (MIG_001, 422) */
	INFRA_EAUTH,      /* missing or bad credentials (AUTH_001, 401) */
	INFRA_EFORBIDDEN, /* authenticated but not allowed (AUTH_002, 403) */
	INFRA_EUNAVAIL,   /* a dependency is down; retrying may help (SVC_001, 503) */
	INFRA_EINTERNAL,  /* a bug or an unexpected library failure (INT_001, 500) */
};

#define INFRA_ERRMSG_MAX 256

struct infra_error {
	enum infra_errkind kind;
	char message[INFRA_ERRMSG_MAX];
	char field[64];		/* for INFRA_EINVAL: the offending field, or "" */
};

/* Fill `err` (which may be NULL) with `kind` and a printf-style message, and
 * return -1, so a failing function ends with `return infra_fail(err, ...)`.
 * The message must be safe to show to a client. */
int infra_fail(struct infra_error *err, enum infra_errkind kind,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* As infra_fail, naming the input field that failed validation. */
int infra_fail_field(struct infra_error *err, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reset `err` to INFRA_OK with an empty message. */
void infra_error_clear(struct infra_error *err);

/* A short stable name for `kind` ("invalid", "not_found", …), for logs. */
const char *infra_errkind_name(enum infra_errkind kind);

#endif
