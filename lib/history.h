/* history.h — the histories /system shows operators (events, alerts): rows
 * of a table keyed by a bigint identity, listed newest first by kind,
 * status, time and cursor, read one at a time, and a failed one made due
 * again. Each history (lib/event.c, lib/alert_history.c) describes its
 * table; this does the querying, paging and answers common to them. */
#ifndef INFRA_HISTORY_H
#define INFRA_HISTORY_H

#include <json-c/json.h>
#include <stdbool.h>

#include "db.h"
#include "error.h"
#include "page.h"

#define HISTORY_LIST_MAX 100

/* What a list asks for; NULL or "" is any. */
struct history_filter {
	const char *kind;	/* an event's type, an alert's kind: exact */
	const char *status;	/* exact; the history checks it is one of its own */
	const char *since;	/* created at or after (ISO 8601) */
	const char *cursor;	/* a previous page's next_cursor */
	int limit;		/* 1..HISTORY_LIST_MAX */
};

/* A history's table, as SQL fragments written in the code (never input):
 * `table` with an alias ("outbox o"), the `columns` a row is shown from
 * (the identity first), and expressions over the alias. */
struct history {
	const char *noun;	/* "event": "no such event" */
	const char *tag;	/* its cursors' tag (page_cursor_encode_serial) */
	const char *table, *columns;
	const char *id, *kind, *status, *created_at;
	page_row_fn row_json;	/* a row of `columns` as the API shows it */
};

/* A filter's `value` is NULL, "" (any) or one of `names` (NULL-terminated):
 * how a history checks f->kind and f->status before listing. */
bool history_filter_valid(const char *value, const char *const *names);

/* One page of `h` matching `f`: {items[], next_cursor}. Returns 0, or -1:
 * INFRA_EINVAL naming the cursor or since that is not valid, or a
 * control-database error. The caller has checked kind and status. */
int history_list(struct db *db, const struct history *h, const struct history_filter *f,
		 json_object **out, struct infra_error *err);

/* Row `id` of `h` (digits only, else not found). 0, or -1: INFRA_ENOTFOUND. */
int history_get(struct db *db, const struct history *h, const char *id, json_object **out,
		struct infra_error *err);

/* Make row `id` due again with `set` (an UPDATE's SET list) when its
 * status is one of `statuses` (a SQL list: "'dead'"). Returns 0 with the
 * row in *out, or -1: INFRA_ENOTFOUND, or INFRA_ECONFLICT ("<noun> <id> is
 * <status>, <why_not>") for any other status. */
int history_retry(struct db *db, const struct history *h, const char *id, const char *set,
		  const char *statuses, const char *why_not, json_object **out, struct infra_error *err);

#endif
