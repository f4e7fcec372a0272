/* authz.c — the check every non-public route passes through: a valid
 * bearer token (401 AUTH_001 otherwise, 429 for a locked-out address, 503
 * when no keys can be had) whose principal holds the route's permission
 * (403 AUTH_002, audited). */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "http.h"

static int refuse(struct request *r, const struct auth_failure *why)
{
	char retry[16];

	switch (why->reason) {
	case AUTH_R_LOCKED_OUT:
		snprintf(retry, sizeof(retry), "%d", why->retry_after_s > 0 ? why->retry_after_s : 1);
		respond_header(r, "Retry-After", retry);
		return respond_error(r, 429, "RATE_001",
				     "too many failed authentications from this address", NULL);
	case AUTH_R_UNAVAILABLE:
		respond_header(r, "Retry-After", "5");
		return respond_error(r, 503, "SVC_001", "authentication is unavailable", NULL);
	case AUTH_R_MISSING:
		return respond_error(r, 401, "AUTH_001", "a bearer token is required", NULL);
	case AUTH_R_EXPIRED:
		/* Telling a client its token expired lets it refresh (RFC 6750);
		 * every other reason stays in the audit trail. */
		return respond_error(r, 401, "AUTH_001", "token expired", NULL);
	default:
		return respond_error(r, 401, "AUTH_001", "invalid token", NULL);
	}
}

int http_authorize_or_respond(struct request *r, const struct route *rt)
{
	struct auth_request ar = {
		.authorization = r->authorization,
		.client_ip = r->client_ip,
		.user_agent = r->user_agent,
		.request_id = r->request_id,
	};
	struct auth_failure why;

	if (auth_authenticate(r->app->auth, &ar, &r->principal_storage, &why) != 0)
		return refuse(r, &why);
	r->principal = &r->principal_storage;
	if (strcmp(rt->permission, PERM_ANY_TOKEN) != 0 &&
	    !principal_has(r->principal, rt->permission)) {
		json_object *details = json_object_new_object();

		json_object_object_add(details, "required_permission",
				       json_object_new_string(rt->permission));
		http_audit(r, "auth.forbidden", "route", rt->pattern, "denied",
			   json_object_get(details));
		return respond_error(r, 403, "AUTH_002", "missing permission", details);
	}
	return 0;
}
