/* history.c — the histories /system shows operators (see history.h). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "history.h"
#include "page_cursor.h"
#include "strbuf.h"
#include "timeutil.h"

static bool given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

bool history_filter_valid(const char *value, const char *const *names)
{
	if (!given(value))
		return true;
	for (; *names != NULL; names++)
		if (strcmp(value, *names) == 0)
			return true;
	return false;
}

int history_list(struct db *db, const struct history *h, const struct history_filter *f,
		 json_object **out, struct infra_error *err)
{
	struct strbuf sql = STRBUF_INIT;
	char since[24], below[24], fetch[16];
	const char *params[5];
	int64_t after = 0, since_s = 0;
	PGresult *res;

	*out = NULL;
	if (given(f->cursor) && (after = page_cursor_decode_serial(f->cursor, h->tag)) == 0)
		return infra_fail_field(err, "cursor", "is not a cursor this endpoint returned");
	if (given(f->since) && time_parse_iso8601(f->since, &since_s) != 0)
		return infra_fail_field(err, "since", "must be an ISO 8601 time such as 2026-11-22T10:00:00Z");
	snprintf(since, sizeof(since), "%" PRId64, since_s);
	snprintf(below, sizeof(below), "%" PRId64, after);
	snprintf(fetch, sizeof(fetch), "%d", f->limit + 1);
	params[0] = given(f->kind) ? f->kind : NULL;
	params[1] = given(f->status) ? f->status : NULL;
	params[2] = given(f->since) ? since : NULL;
	params[3] = after > 0 ? below : NULL;
	params[4] = fetch;
	strbuf_addf(&sql, "SELECT %s FROM %s WHERE ($1::text IS NULL OR %s = $1) "
		    "AND ($2::text IS NULL OR %s = $2) AND ($3::bigint IS NULL OR %s >= "
		    "to_timestamp($3::bigint)) AND ($4::bigint IS NULL OR %s < $4::bigint) "
		    "ORDER BY %s DESC LIMIT $5::int", h->columns, h->table, h->kind, h->status,
		    h->created_at, h->id, h->id);
	res = db_exec(db, err, sql.buf, 5, params);
	strbuf_release(&sql);
	if (res == NULL)
		return -1;
	*out = page_json_serial(res, f->limit, h->row_json, h->tag);
	PQclear(res);
	return 0;
}

/* Row `id` of `h` as JSON, selected by `sql` ($1 the id). */
static int history_one(struct db *db, const struct history *h, const char *sql, const char *id,
		       json_object **out, struct infra_error *err)
{
	const char *params[1] = { id };
	PGresult *res;

	*out = NULL;
	if (!given(id) || strlen(id) > 18 || strspn(id, "0123456789") != strlen(id))
		return infra_fail(err, INFRA_ENOTFOUND, "no such %s", h->noun);
	res = db_exec(db, err, sql, 1, params);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return infra_fail(err, INFRA_ENOTFOUND, "no such %s", h->noun);
	}
	*out = h->row_json(res, 0);
	PQclear(res);
	return 0;
}

int history_get(struct db *db, const struct history *h, const char *id, json_object **out,
		struct infra_error *err)
{
	struct strbuf sql = STRBUF_INIT;
	int rc;

	strbuf_addf(&sql, "SELECT %s FROM %s WHERE %s = $1::bigint", h->columns, h->table, h->id);
	rc = history_one(db, h, sql.buf, id, out, err);
	strbuf_release(&sql);
	return rc;
}

int history_retry(struct db *db, const struct history *h, const char *id, const char *set,
		  const char *statuses, const char *why_not, json_object **out, struct infra_error *err)
{
	struct strbuf sql = STRBUF_INIT;
	json_object *status;
	int rc;

	strbuf_addf(&sql, "UPDATE %s SET %s WHERE %s = $1::bigint AND %s IN (%s) RETURNING %s",
		    h->table, set, h->id, h->status, statuses, h->columns);
	rc = history_one(db, h, sql.buf, id, out, err);
	strbuf_release(&sql);
	if (rc == 0)
		return 0;
	if (err->kind != INFRA_ENOTFOUND || history_get(db, h, id, out, err) != 0)
		return -1;
	json_object_object_get_ex(*out, "status", &status);
	infra_fail(err, INFRA_ECONFLICT, "%s %s is %s, %s", h->noun, id, json_object_get_string(status),
		   why_not);
	json_object_put(*out);
	*out = NULL;
	return -1;
}
