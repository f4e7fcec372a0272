/* page.h — one page of a keyset-paginated list as the API shows it,
 * {items[], next_cursor}, built from a result that holds up to one row more
 * than the page (that row only says another page follows), for the lists of
 * tenants, schedules, events, alerts and the audit log. */
#ifndef INFRA_PAGE_H
#define INFRA_PAGE_H

#include <json-c/json.h>
#include <libpq-fe.h>

/* Row `row` of `res` as JSON (a new object). */
typedef json_object *(*page_row_fn)(const PGresult *res, int row);

/* The cursor continuing after row `row` of `res` (a new string value). */
typedef json_object *(*page_cursor_fn)(const PGresult *res, int row);

/* {items: [row_fn of the first min(rows, limit) rows], next_cursor:
 * cursor_fn of the last of them when `res` has more than `limit` rows,
 * else null}. A new object the caller owns; `res` is not freed. */
json_object *page_json(const PGresult *res, int limit, page_row_fn row_fn, page_cursor_fn cursor_fn);

/* As page_json for a list paged by the bigint identity in column 0: the
 * cursor is page_cursor_encode_serial's with `tag`. */
json_object *page_json_serial(const PGresult *res, int limit, page_row_fn row_fn, const char *tag);

/* The cursor of lists paged by (created_at, uuid id): page_cursor_encode
 * of the microseconds in column `micros_col` and the id in `id_col` of row
 * `row`, as a new string value. */
json_object *page_cursor_of_row(const PGresult *res, int row, int micros_col, int id_col);

#endif
