/* events.c — /system/events: the history of the outbox's domain events for
 * operators (infrastructure:admin), newest first, and reviving a dead one.
 * Thin: lib/event.h does the work, history_respond.h answers. */
#include "event.h"
#include "history_respond.h"
#include "routes.h"

/* GET /system/events?type=&status=&since=&limit=&cursor= */
int handle_system_events_list(struct request *r)
{
	return history_respond_page(r, "type", event_list);
}

/* GET /system/events/{id} */
int handle_system_events_get(struct request *r)
{
	return history_respond_one(r, event_get);
}

/* POST /system/events/{id}/retry: a dead event is pending again. */
int handle_system_events_retry(struct request *r)
{
	return history_respond_retried(r, "event.retry", "event", "type", event_revive);
}
