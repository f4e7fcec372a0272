/* audit.c — recording what a request did in the audit trail (lib/audit.h),
 * filled from the request: actor, client address, user agent, request id. */
#include <string.h>

#include "app.h"
#include "audit.h"
#include "http.h"
#include "log.h"

static enum audit_outcome outcome_parse(const char *outcome)
{
	if (strcmp(outcome, "success") == 0)
		return AUDIT_SUCCESS;
	if (strcmp(outcome, "denied") == 0)
		return AUDIT_DENIED;
	return AUDIT_FAILURE;
}

void http_audit(struct request *r, const char *action, const char *resource,
		const char *resource_id, const char *outcome, json_object *details)
{
	const struct principal *p = r->principal;
	struct audit_entry e = {
		.actor = p ? (p->username ? p->username : p->sub) : NULL,
		.action = action,
		.resource = resource,
		.resource_id = resource_id,
		.outcome = outcome_parse(outcome),
		.client_ip = r->client_ip,
		.user_agent = r->user_agent,
		.request_id = r->request_id,
		.details = details,
	};
	struct infra_error err;

	if (audit_record(&r->app->db, &e, &err) != 0)
		log_error("audit record of '%s' failed: %s", action, err.message);
	json_object_put(details);
}
