/* authz.c — the permission check every non-public route passes through.
 *
 * Until token verification is wired in, every protected route is refused:
 * a route can never be reached without a valid token. */
#include "http.h"

int http_authorize_or_respond(struct request *r, const struct route *rt)
{
	(void)rt;
	return respond_error(r, 401, "AUTH_001", "missing or invalid bearer token", NULL);
}
