/* alerts.c — /system/alerts: the alerts raised and what became of them,
 * for operators (infrastructure:admin), newest first, and sending a failed
 * one again. Thin: lib/alert.h does the work, history_respond.h answers. */
#include "alert.h"
#include "history_respond.h"
#include "routes.h"

/* GET /system/alerts?kind=&status=&since=&limit=&cursor= */
int handle_system_alerts_list(struct request *r)
{
	return history_respond_page(r, "kind", alert_list);
}

/* GET /system/alerts/{id} */
int handle_system_alerts_get(struct request *r)
{
	return history_respond_one(r, alert_get);
}

/* POST /system/alerts/{id}/retry: a failed (or skipped) alert is pending
 * again; the webhooks that accepted it are not called again. */
int handle_system_alerts_retry(struct request *r)
{
	return history_respond_retried(r, "alert.retry", "alert", "kind", alert_resend);
}
