/* audit.c — writing and paging the audit trail, scrubbing details, and the
 * budget for attacker-caused entries (see audit.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "json_strict.h"
#include "log.h"
#include "metrics.h"
#include "page.h"
#include "page_cursor.h"
#include "timeutil.h"

#define AUDIT_CURSOR_TAG "v1"		/* its list's cursors: page_cursor.h */

const char *audit_outcome_name(enum audit_outcome o)
{
	switch (o) {
	case AUDIT_SUCCESS: return "success";
	case AUDIT_FAILURE: return "failure";
	case AUDIT_DENIED:  return "denied";
	}
	return "failure";
}

static bool names_secret(const char *key)
{
	static const char *const words[] = {
		"password", "secret", "token", "authorization", "credential",
		"private_key", "conninfo", "api_key",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(key, words[i]) != NULL)
			return true;
	return false;
}

/* Mask, in place, every member of `v` (at any depth) whose name names a
 * secret. */
static void scrub(json_object *v)
{
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			scrub(json_object_array_get_idx(v, i));
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, member) {
			if (names_secret(key))
				json_object_object_add(v, key, json_object_new_string("***"));
			else
				scrub(member);
		}
	}
}

/* The details to store: a scrubbed copy of e->details plus `extra`
 * (taken, may be NULL) as member `extra_name`. The caller puts it. */
static json_object *stored_details(const struct audit_entry *e, const char *extra_name,
				   json_object *extra)
{
	json_object *d = NULL;

	if (e->details != NULL && json_object_is_type(e->details, json_type_object) &&
	    json_object_deep_copy(e->details, &d, NULL) == 0)
		scrub(d);
	if (d == NULL)
		d = json_object_new_object();
	if (extra_name != NULL)
		json_object_object_add(d, extra_name, extra);
	return d;
}

static int insert(struct db *db, const struct audit_entry *e, json_object *details,
		  struct infra_error *err)
{
	const char *params[9];

	if (e->action == NULL || e->action[0] == '\0' || (e->actor != NULL && e->actor[0] == '\0'))
		return infra_fail(err, INFRA_EINVAL, "an audit entry needs an actor and an action");
	params[0] = e->actor ? e->actor : "anonymous";
	params[1] = e->action;
	params[2] = e->resource;
	params[3] = e->resource_id;
	params[4] = audit_outcome_name(e->outcome);
	params[5] = e->client_ip;
	params[6] = e->user_agent;
	params[7] = e->request_id;
	params[8] = json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN);
	return db_exec_command(db, err,
			       "INSERT INTO audit_log (actor, action, resource, resource_id, outcome, "
			       "client_ip, user_agent, request_id, details) "
			       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)", 9, params);
}

int audit_record(struct db *db, const struct audit_entry *e, struct infra_error *err)
{
	json_object *details = stored_details(e, NULL, NULL);
	int rc = insert(db, e, details, err);

	json_object_put(details);
	return rc;
}

void audit_limiter_init(struct audit_limiter *l, int per_min)
{
	memset(l, 0, sizeof(*l));
	l->per_min = per_min;
}

int audit_record_limited(struct db *db, struct audit_limiter *l, const struct audit_entry *e,
			 struct infra_error *err)
{
	int64_t now = time_mono_ms();
	json_object *details;
	char labels[96];
	int rc;

	if (l->window_start_ms == 0 || now - l->window_start_ms >= 60000) {
		l->window_start_ms = now;
		l->used = 0;
	}
	if (l->used >= l->per_min) {
		l->suppressed++;
		snprintf(labels, sizeof(labels), "action=\"%.60s\"", e->action ? e->action : "");
		metrics_count("infra_audit_suppressed_total", labels, 1);
		return 1;
	}
	l->used++;
	details = stored_details(e, l->suppressed > 0 ? "suppressed_before" : NULL,
				 l->suppressed > 0 ? json_object_new_int64(l->suppressed) : NULL);
	rc = insert(db, e, details, err);
	json_object_put(details);
	if (rc == 0)
		l->suppressed = 0;
	return rc;
}

/* A row of audit_query's select (the id first, then the entry's names
 * in order, then its details) as the API shows it. */
static json_object *audit_json_from_row(const PGresult *res, int row)
{
	static const char *const names[] = {
		"at", "actor", "action", "resource", "resource_id", "outcome",
		"client_ip", "user_agent", "request_id",
	};
	json_object *item = json_object_new_object();
	const char *d = PQgetvalue(res, row, 10);

	for (int c = 0; c < 9; c++)
		json_object_object_add(item, names[c], db_json_text(res, row, c + 1));
	json_object_object_add(item, "details", json_strict_parse(d, strlen(d)));
	return item;
}

int audit_query(struct db *db, const struct audit_filter *f, json_object **out,
		struct infra_error *err)
{
	int limit = f->limit == 0 ? AUDIT_DEFAULT_LIMIT : f->limit;
	char since[24], before[24], fetch[16];
	const char *params[5];
	int64_t after_id = 0;
	PGresult *res;

	*out = NULL;
	if (limit < 1 || limit > AUDIT_MAX_LIMIT)
		return infra_fail_field(err, "limit", "must be between 1 and %d", AUDIT_MAX_LIMIT);
	if (f->cursor != NULL && f->cursor[0] != '\0' &&
	    (after_id = page_cursor_decode_serial(f->cursor, AUDIT_CURSOR_TAG)) == 0)
		return infra_fail_field(err, "cursor", "is not a cursor this endpoint returned");
	snprintf(since, sizeof(since), "%" PRId64, f->since);
	snprintf(before, sizeof(before), "%" PRId64, after_id);
	snprintf(fetch, sizeof(fetch), "%d", limit + 1);
	params[0] = f->actor && f->actor[0] ? f->actor : NULL;
	params[1] = f->action && f->action[0] ? f->action : NULL;
	params[2] = f->since > 0 ? since : NULL;
	params[3] = after_id > 0 ? before : NULL;
	params[4] = fetch;
	res = db_exec(db, err,
		      "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
		      "actor, action, resource, resource_id, outcome, client_ip, user_agent, "
		      "request_id, details::text "
		      "FROM audit_log "
		      "WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR action = $2) "
		      "AND ($3::bigint IS NULL OR at >= to_timestamp($3::bigint)) "
		      "AND ($4::bigint IS NULL OR id < $4::bigint) "
		      "ORDER BY id DESC LIMIT $5::int", 5, params);
	if (res == NULL)
		return -1;
	*out = page_json_serial(res, limit, audit_json_from_row, AUDIT_CURSOR_TAG);
	PQclear(res);
	return 0;
}
