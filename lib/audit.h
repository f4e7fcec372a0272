/* audit.h — the audit trail (table audit_log): every mutating request
 * records who did what to which resource, with what outcome, from where;
 * authentication failures and break-glass uses are recorded too.
 * GET /system/audit pages through it, newest first.
 *
 * Never put a secret in an entry: `details` is additionally scrubbed —
 * the value of any member whose name contains password, secret, token,
 * authorization, credential, private_key, conninfo or api_key becomes
 * "***", at any depth. */
#ifndef INFRA_AUDIT_H
#define INFRA_AUDIT_H

#include <json-c/json.h>
#include <stdint.h>

#include "db.h"
#include "error.h"

#define AUDIT_DEFAULT_LIMIT 50
#define AUDIT_MAX_LIMIT 100

enum audit_outcome {
	AUDIT_SUCCESS,
	AUDIT_FAILURE,		/* the action was attempted and failed */
	AUDIT_DENIED,		/* refused: no or a bad token, no permission */
};

/* "success", "failure", "denied". */
const char *audit_outcome_name(enum audit_outcome o);

struct audit_entry {
	const char *actor;		/* the principal's username (or sub); NULL: "anonymous" */
	const char *action;		/* "database.create", "auth.failure", … */
	const char *resource;		/* "database", "tenant", …; may be NULL */
	const char *resource_id;	/* may be NULL */
	enum audit_outcome outcome;
	const char *client_ip;		/* may be NULL */
	const char *user_agent;		/* may be NULL */
	const char *request_id;		/* may be NULL */
	json_object *details;		/* borrowed, an object or NULL; never a secret */
};

/* Append `e` to the trail, stamped with the database server's time.
 * Call it outside a transaction that may still roll back (or the record
 * goes with it). Returns 0, or -1 (INFRA_EINVAL when actor/action are
 * empty, else the database's error). */
int audit_record(struct db *db, const struct audit_entry *e, struct infra_error *err);

/* A per-process budget for entries that an attacker can cause at will
 * (authentication failures): at most `per_min` are written per minute,
 * the others are counted, and the next written entry says how many were
 * suppressed before it (details.suppressed_before), as does
 * infra_audit_suppressed_total. */
struct audit_limiter {
	int per_min;
	int64_t window_start_ms;
	int used;
	int64_t suppressed;
};

/* Prepare `l` for `per_min` entries a minute (0: none are written). */
void audit_limiter_init(struct audit_limiter *l, int per_min);

/* audit_record within the budget of `l`. Returns 0 when written, 1 when
 * suppressed, -1 on error. */
int audit_record_limited(struct db *db, struct audit_limiter *l, const struct audit_entry *e,
			 struct infra_error *err);

struct audit_filter {
	const char *actor;	/* exact match; NULL or "": any */
	const char *action;	/* exact match; NULL or "": any */
	int64_t since;		/* seconds since the epoch; 0: from the start */
	int limit;		/* 1..AUDIT_MAX_LIMIT; 0: AUDIT_DEFAULT_LIMIT */
	const char *cursor;	/* a previous answer's next_cursor; NULL or "": newest */
};

/* One page of the trail, newest first: {items: [{at, actor, action,
 * resource, resource_id, outcome, client_ip, user_agent, request_id,
 * details}], next_cursor (null on the last page)} in *out (the caller
 * puts it). Returns 0, or -1 (INFRA_EINVAL naming "limit" or "cursor"). */
int audit_query(struct db *db, const struct audit_filter *f, json_object **out,
		struct infra_error *err);

#endif
