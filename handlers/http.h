/* http.h — the HTTP layer's request, response and route types.
 *
 * A request worker turns each FastCGI request into a `struct request`
 * (strings copied into the request's arena, valid until the worker resets
 * the arena after FCGX_Finish_r), the router finds the route, checks the
 * permission and calls the handler, and the handler answers through the
 * respond_* functions below. Every handler writes exactly one response.
 *
 * Helpers named `…_or_respond` have already written the error response
 * when they fail (return -1): the handler just returns. */
#ifndef INFRA_HTTP_H
#define INFRA_HTTP_H

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "error.h"
#include "principal.h"
#include "strbuf.h"

struct app;

#define HTTP_MAX_PARAMS 64	/* query parameters kept; more is a 400 */
#define HTTP_MAX_PATH_PARAMS 4

struct http_param {
	const char *name;
	const char *value;	/* percent-decoded */
};

struct request {
	struct app *app;
	struct arena *arena;
	FCGX_Request *fcgi;

	/* From the FastCGI parameters; never NULL (empty when absent). */
	const char *method;
	const char *path;		/* raw path, without the query string */
	const char *query_string;
	const char *content_type;
	const char *authorization;
	const char *if_match;
	const char *idempotency_key;	/* NULL when absent, "" when sent empty */
	const char *last_event_id;
	const char *client_ip;
	const char *user_agent;
	const char *request_id;		/* sane: 1–64 of [A-Za-z0-9._-] */
	long long content_length;	/* -1 when absent */

	struct http_param query[HTTP_MAX_PARAMS];
	int nquery;
	struct http_param path_params[HTTP_MAX_PATH_PARAMS];
	int npath_params;

	int route;			/* routing-table row, or -1 */
	const struct principal *principal;	/* set for authenticated routes */
	struct principal principal_storage;	/* what `principal` points at */
	bool body_read;			/* stdin drained */

	/* The response, for the access log and metrics. */
	int status;
	bool responded;
	struct strbuf headers;		/* extra response header lines */
	int64_t started_us;
};

/* The route table's permission column: public routes need no token,
 * PERM_ANY_TOKEN needs a valid one, anything else names a permission. */
#define PERM_PUBLIC NULL
#define PERM_ANY_TOKEN "*"

/* Flags of a route. */
#define ROUTE_STREAM 0x01	/* long-lived response (SSE): counted apart */

typedef int (*route_handler)(struct request *r);

struct route {
	const char *method;
	const char *pattern;		/* "/databases/{id}/test" */
	const char *permission;
	route_handler handler;
	unsigned flags;
};

/* The routing table (handlers/routes.c) and its size. */
extern const struct route http_routes[];
extern const int http_nroutes;

/* --- parsing (handlers/parse.c; pure functions, unit-tested) --- */

/* Decode %XX escapes (and '+' as space when `plus_is_space`) of `len`
 * bytes of `s` into arena memory. Returns NULL when an escape is malformed
 * or decodes to a NUL byte, or the result is not well-formed UTF-8. */
char *http_percent_decode(struct arena *a, const char *s, size_t len, bool plus_is_space);

/* Split `qs` ("a=1&b=x%20y") into at most `max` decoded name/value pairs.
 * Returns the count, or -1 when the string is malformed or has more than
 * `max` parameters. A name without '=' gets the value "". */
int http_parse_query(struct arena *a, const char *qs, struct http_param *out, int max);

/* Match `path` against `pattern`; on success fill `params` (at most
 * HTTP_MAX_PATH_PARAMS, decoded into the arena) and return 1; return 0 when
 * it does not match, -1 when a segment is malformed (bad escape). */
int http_match_path(struct arena *a, const char *pattern, const char *path,
		    struct http_param *params, int *nparams);

/* 1 when `id` is a sane request id: 1–64 chars of [A-Za-z0-9._-]. */
bool http_request_id_sane(const char *id);

/* 1 when `content_type` is application/json (optionally with a
 * charset=utf-8 parameter, any case). */
bool http_content_type_is_json(const char *content_type);

/* --- request accessors (handlers/request.c) --- */

/* The value of query parameter `name`, or NULL. */
const char *request_query(const struct request *r, const char *name);

/* The value of path parameter `name`, or NULL. */
const char *request_path_param(const struct request *r, const char *name);

/* Read and parse the JSON body. Checks Content-Type (415), the size limit
 * (413), JSON syntax and UTF-8 (400), and that the top level is an object
 * (422). On success *out is a new reference the caller puts. */
int request_json_body_or_respond(struct request *r, json_object **out);

/* Read the rest of stdin and discard it (always before answering, or
 * libfcgi tears down a kept connection). */
void request_drain_body(struct request *r);

/* Integer query parameter in [min, max], `def` when absent. Returns -1
 * after answering 422 naming the parameter. */
int request_query_int_or_respond(struct request *r, const char *name, long def,
				 long min, long max, long *out);

/* --- responses (handlers/respond.c) --- */

/* Add a response header line ("Name: value"); `value` must not contain
 * CR or LF (dropped if it does). */
void respond_header(struct request *r, const char *name, const char *value);

/* Answer `status` with `body` as JSON. Takes ownership of `body`. */
int respond_json(struct request *r, int status, json_object *body);

/* Answer `status` with a non-JSON body of `content_type`. */
int respond_text(struct request *r, int status, const char *content_type,
		 const char *body, size_t len);

/* 204 No Content. */
int respond_no_content(struct request *r);

/* Answer an error in the API's format: error_code, message, details
 * (taken; may be NULL), request_id, timestamp. Adds WWW-Authenticate for
 * 401. Returns -1 so a handler may `return respond_error(...)`. */
int respond_error(struct request *r, int status, const char *error_code,
		  const char *message, json_object *details);

/* Map a libinfra error to its status and code (the one place this is
 * decided) and answer it. Returns -1. */
int respond_infra_error(struct request *r, const struct infra_error *err);

/* Answer 422 VAL_001 with details.fields = `fields` (a JSON object of
 * field → reason; taken). Returns -1. */
int respond_invalid_fields(struct request *r, json_object *fields);

/* The status and error code for an error kind (exposed for tests). */
void http_status_for(enum infra_errkind kind, int *status, const char **code);

/* --- authorization (handlers/authz.c) --- */

/* Authenticate the request's bearer token and check that its principal
 * holds `rt->permission` (PERM_ANY_TOKEN: any valid token). Sets
 * r->principal. Returns 0, or -1 after answering 401, 403 or 429. */
int http_authorize_or_respond(struct request *r, const struct route *rt);

/* --- audit (handlers/audit.c) --- */

/* Record what this request did in the audit trail: the actor from
 * r->principal ("anonymous" when none), the client address, user agent and
 * request id from the request; `action` like "database.create", `outcome`
 * "success", "failure" or "denied"; `details` is taken (may be NULL) and
 * must never hold a secret. A failure to write is logged, never fatal to
 * the request. */
void http_audit(struct request *r, const char *action, const char *resource,
		const char *resource_id, const char *outcome, json_object *details);

/* --- serving (handlers/router.c) --- */

/* Serve one accepted FastCGI request: parse, route, authorize, dispatch,
 * answer, log and count it. Never fails: every outcome is a response. */
void http_serve(struct app *app, FCGX_Request *fcgi, struct arena *arena);

#endif
