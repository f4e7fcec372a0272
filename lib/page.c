/* page.c — a page of a keyset-paginated list (see page.h). */
#include "page.h"
#include "page_cursor.h"

/* {items: [row_fn of the first min(rows, limit) rows]}; *shown: how many. */
static json_object *page_items(const PGresult *res, int limit, page_row_fn row_fn, int *shown)
{
	int rows = PQntuples(res), n = rows > limit ? limit : rows;
	json_object *page = json_object_new_object(), *items = json_object_new_array_ext(n);

	for (int i = 0; i < n; i++)
		json_object_array_add(items, row_fn(res, i));
	json_object_object_add(page, "items", items);
	*shown = n;
	return page;
}

json_object *page_json(const PGresult *res, int limit, page_row_fn row_fn, page_cursor_fn cursor_fn)
{
	int n;
	json_object *page = page_items(res, limit, row_fn, &n);

	json_object_object_add(page, "next_cursor", PQntuples(res) > n && n > 0 ? cursor_fn(res, n - 1) : NULL);
	return page;
}

json_object *page_json_serial(const PGresult *res, int limit, page_row_fn row_fn, const char *tag)
{
	char cursor[PAGE_CURSOR_MAX];
	int n;
	json_object *page = page_items(res, limit, row_fn, &n), *next = NULL;

	if (PQntuples(res) > n && n > 0) {
		page_cursor_encode_serial(cursor, sizeof(cursor), tag, PQgetvalue(res, n - 1, 0));
		next = json_object_new_string(cursor);
	}
	json_object_object_add(page, "next_cursor", next);
	return page;
}

json_object *page_cursor_of_row(const PGresult *res, int row, int micros_col, int id_col)
{
	char cursor[PAGE_CURSOR_MAX];

	page_cursor_encode(cursor, sizeof(cursor), PQgetvalue(res, row, micros_col),
			   PQgetvalue(res, row, id_col));
	return json_object_new_string(cursor);
}
