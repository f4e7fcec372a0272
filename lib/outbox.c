/* outbox.c — recording domain events in the outbox table (see outbox.h). */
#include "outbox.h"

int outbox_record(struct db *db, const char *event_type, const char *resource_id,
		  json_object *payload, struct infra_error *err)
{
	const char *params[3] = {
		event_type, resource_id,
		payload ? json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN) : "{}",
	};

	return db_exec_command(db, err,
			       "INSERT INTO outbox (event_type, resource_id, payload) "
			       "VALUES ($1, $2, $3::jsonb)", 3, params);
}
