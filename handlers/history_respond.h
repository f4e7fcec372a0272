/* history_respond.h — the answers of the /system history routes (events,
 * alerts, on lib/history.h), shared by their handlers (events.c,
 * alerts.c). Each answers exactly once, success or not (see http.h). */
#ifndef INFRA_HISTORY_RESPOND_H
#define INFRA_HISTORY_RESPOND_H

#include "history.h"
#include "http.h"

/* 200 with one page of the history `list` reads: query parameters
 * `kind_param` (its kind filter), status, since, limit (1..HISTORY_LIST_MAX,
 * default 50) and cursor. */
int history_respond_page(struct request *r, const char *kind_param,
			 int (*list)(struct db *, const struct history_filter *, json_object **,
				     struct infra_error *));

/* 200 with the row `get` reads for path parameter id. */
int history_respond_one(struct request *r,
			int (*get)(struct db *, const char *, json_object **, struct infra_error *));

/* 202 with the row `again` makes due for path parameter id, audited as
 * `action` on `resource` with the row's `what` (type, kind) — or its
 * failure, audited too unless the row is not there (404). */
int history_respond_retried(struct request *r, const char *action, const char *resource,
			    const char *what,
			    int (*again)(struct db *, const char *, json_object **, struct infra_error *));

#endif
