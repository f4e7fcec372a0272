/* router.c — serving one request: reading its parameters, finding its
 * route (404, or 405 with Allow), checking its permission, calling its
 * handler, and logging and counting the outcome. */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"
#include "utf8.h"

static const char *param(FCGX_Request *fcgi, const char *name)
{
	/* Valid until FCGX_Finish_r; a request never outlives it. */
	const char *v = FCGX_GetParam(name, fcgi->envp);

	return v ? v : "";
}

static const char *new_request_id(struct arena *a)
{
	unsigned char raw[16];
	char *hex = arena_alloc(a, 33);

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		memset(raw, 0, sizeof(raw));
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return hex;
}

/* A header kept as text (the audit trail's user agent): as sent when it
 * is UTF-8, else with every stray byte as '?' — PostgreSQL would refuse
 * it, and the audit record of the request with it. */
static const char *text_header(struct arena *a, const char *v)
{
	char *copy;

	if (utf8_valid(v, strlen(v)))
		return v;
	copy = arena_strdup(a, v);
	utf8_scrub(copy);
	return copy;
}

static void read_params(struct request *r)
{
	FCGX_Request *f = r->fcgi;
	const char *uri = param(f, "REQUEST_URI"), *q, *cl, *rid;

	r->method = param(f, "REQUEST_METHOD");
	if (*uri == '\0')
		uri = param(f, "DOCUMENT_URI");
	q = strchr(uri, '?');
	r->path = q ? arena_strndup(r->arena, uri, (size_t)(q - uri)) : uri;
	r->query_string = q ? q + 1 : param(f, "QUERY_STRING");
	r->content_type = param(f, "CONTENT_TYPE");
	r->authorization = param(f, "HTTP_AUTHORIZATION");
	r->if_match = param(f, "HTTP_IF_MATCH");
	r->idempotency_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", f->envp);	/* "" is refused */
	r->last_event_id = param(f, "HTTP_LAST_EVENT_ID");
	r->client_ip = param(f, "REMOTE_ADDR");
	r->user_agent = text_header(r->arena, param(f, "HTTP_USER_AGENT"));
	cl = param(f, "CONTENT_LENGTH");
	r->content_length = *cl ? strtoll(cl, NULL, 10) : -1;
	/* nginx passes the id it chose (the client's own when sane). */
	rid = param(f, "REQUEST_ID");
	if (!http_request_id_sane(rid))
		rid = param(f, "HTTP_X_REQUEST_ID");
	r->request_id = http_request_id_sane(rid) ? rid : new_request_id(r->arena);
}

/* Find the route for the request. Returns its row, or -1 after answering
 * 404, 405 (with Allow) or 400 (a malformed path). */
static int route_or_respond(struct request *r)
{
	struct strbuf allow = STRBUF_INIT;
	bool head = strcmp(r->method, "HEAD") == 0;

	for (int i = 0; i < http_nroutes; i++) {
		const struct route *rt = &http_routes[i];
		int m = http_match_path(r->arena, rt->pattern, r->path, r->path_params,
					&r->npath_params);

		if (m < 0) {
			strbuf_release(&allow);
			return respond_error(r, 400, "VAL_001", "malformed path", NULL);
		}
		if (m == 0)
			continue;
		if (strcmp(rt->method, r->method) == 0 ||
		    (head && strcmp(rt->method, "GET") == 0)) {
			strbuf_release(&allow);
			return i;
		}
		if (strstr(allow.buf, rt->method) == NULL) {
			if (allow.len)
				strbuf_addstr(&allow, ", ");
			strbuf_addstr(&allow, rt->method);
		}
	}
	r->npath_params = 0;
	if (allow.len > 0) {
		json_object *details = json_object_new_object();

		json_object_object_add(details, "allow", json_object_new_string(allow.buf));
		respond_header(r, "Allow", allow.buf);
		strbuf_release(&allow);
		return respond_error(r, 405, "REQ_001", "method not allowed", details);
	}
	strbuf_release(&allow);
	return respond_error(r, 404, "RES_001", "no such resource", NULL);
}

static void log_request(const struct request *r)
{
	json_object *f = json_object_new_object();
	int64_t us = time_mono_us() - r->started_us;

	json_object_object_add(f, "method", json_object_new_string(r->method));
	json_object_object_add(f, "path", json_object_new_string(r->path));
	if (r->route >= 0)
		json_object_object_add(f, "route",
				       json_object_new_string(http_routes[r->route].pattern));
	json_object_object_add(f, "status", json_object_new_int(r->status));
	json_object_object_add(f, "duration_ms", json_object_new_double((double)us / 1000.0));
	json_object_object_add(f, "client_ip", json_object_new_string(r->client_ip));
	log_emit(r->status >= 500 ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO, "request", f);
}

void http_serve(struct app *app, FCGX_Request *fcgi, struct arena *arena)
{
	struct request r;

	memset(&r, 0, sizeof(r));
	r.started_us = time_mono_us();
	r.app = app;
	r.arena = arena;
	r.fcgi = fcgi;
	r.route = -1;
	principal_init(&r.principal_storage);
	strbuf_init(&r.headers, 0);
	read_params(&r);
	log_set_request_id(r.request_id);

	r.nquery = http_parse_query(arena, r.query_string, r.query, HTTP_MAX_PARAMS);
	if (r.nquery < 0) {
		r.nquery = 0;
		respond_error(&r, 400, "VAL_001", "malformed query string", NULL);
	} else {
		r.route = route_or_respond(&r);
	}
	if (r.route >= 0) {
		const struct route *rt = &http_routes[r.route];

		if (rt->permission == PERM_PUBLIC || http_authorize_or_respond(&r, rt) == 0)
			rt->handler(&r);
		if (!r.responded) {
			log_error("handler for '%s' wrote no response", rt->pattern);
			respond_error(&r, 500, "INT_001", "internal error", NULL);
		}
	}
	request_drain_body(&r);
	log_request(&r);
	metrics_observe_request(r.route >= 0 ? r.route : http_nroutes, r.status,
				time_mono_us() - r.started_us);
	strbuf_release(&r.headers);
	principal_release(&r.principal_storage);
	log_set_request_id(NULL);
}
