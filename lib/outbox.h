/* outbox.h — domain events recorded in the control database in the same
 * transaction as the change they describe (the transactional outbox), so
 * an event exists exactly when its change committed. The event runner
 * reads unpublished rows in id order and marks them published.
 *
 * Event types so far: "database.registered" (a database registered with
 * auto_migrate true), "database.health_changed" (a probe changed a
 * database's health or circuit state). */
#ifndef INFRA_OUTBOX_H
#define INFRA_OUTBOX_H

#include <json-c/json.h>

#include "db.h"
#include "error.h"

/* Insert one event of `event_type` about `resource_id` (may be NULL) with
 * `payload` (a JSON object, borrowed; NULL for {}). Call it inside the
 * caller's transaction. Returns 0, or -1 with `err` filled by db_exec. */
int outbox_record(struct db *db, const char *event_type, const char *resource_id,
		  json_object *payload, struct infra_error *err);

#endif
