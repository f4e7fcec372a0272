/* db_columns.c — a result's columns as json-c values (see db.h): the one
 * place that turns SQL NULL into JSON null for the handlers' renderings. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "json_strict.h"

json_object *db_json_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : json_object_new_string(PQgetvalue(res, row, col));
}

json_object *db_json_bool(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL
		: json_object_new_boolean(PQgetvalue(res, row, col)[0] == 't');
}

json_object *db_json_number(const PGresult *res, int row, int col)
{
	const char *v;

	if (PQgetisnull(res, row, col))
		return NULL;
	v = PQgetvalue(res, row, col);
	return json_object_new_double_s(strtod(v, NULL), v);
}

json_object *db_json_parsed(const PGresult *res, int row, int col)
{
	const char *s = PQgetvalue(res, row, col);

	return PQgetisnull(res, row, col) ? NULL : json_strict_parse(s, strlen(s));
}
