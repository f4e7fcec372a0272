/* respond.c — writing responses: JSON, errors in the API's format, and the
 * one mapping from libinfra's error kinds to HTTP status and error code. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "timeutil.h"

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default:  return "Unknown";
	}
}

void respond_header(struct request *r, const char *name, const char *value)
{
	if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n:") != NULL)
		return;
	strbuf_addf(&r->headers, "%s: %s\r\n", name, value);
}

static int respond_raw(struct request *r, int status, const char *content_type,
		       const char *body, size_t len)
{
	struct strbuf head = STRBUF_INIT;

	if (r->responded)
		return 0;
	request_drain_body(r);
	strbuf_addf(&head, "Status: %d %s\r\n", status, reason_phrase(status));
	if (content_type != NULL)
		strbuf_addf(&head, "Content-Type: %s\r\n", content_type);
	strbuf_addf(&head, "Content-Length: %zu\r\nCache-Control: no-store\r\nX-Request-ID: %s\r\n",
		    len, r->request_id);
	strbuf_add(&head, r->headers.buf, r->headers.len);
	strbuf_addstr(&head, "\r\n");
	FCGX_PutStr(head.buf, (int)head.len, r->fcgi->out);
	if (len > 0)
		FCGX_PutStr(body, (int)len, r->fcgi->out);
	strbuf_release(&head);
	r->status = status;
	r->responded = true;
	return 0;
}

int respond_json(struct request *r, int status, json_object *body)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
		body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	respond_raw(r, status, "application/json; charset=utf-8", text, len);
	json_object_put(body);
	return 0;
}

int respond_text(struct request *r, int status, const char *content_type,
		 const char *body, size_t len)
{
	return respond_raw(r, status, content_type, body, len);
}

int respond_no_content(struct request *r)
{
	return respond_raw(r, 204, NULL, "", 0);
}

int respond_error(struct request *r, int status, const char *error_code,
		  const char *message, json_object *details)
{
	json_object *o = json_object_new_object();
	char ts[ISO8601_MAX];

	if (status == 401)
		respond_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	json_object_object_add(o, "error_code", json_object_new_string(error_code));
	json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "details", details ? details : json_object_new_object());
	json_object_object_add(o, "request_id", json_object_new_string(r->request_id));
	json_object_object_add(o, "timestamp",
			       json_object_new_string(time_iso8601(ts, time_wall_s())));
	respond_json(r, status, o);
	return -1;
}

void http_status_for(enum infra_errkind kind, int *status, const char **code)
{
	switch (kind) {
	case INFRA_EINVAL:     *status = 422; *code = "VAL_001"; return;
	case INFRA_EMALFORMED: *status = 400; *code = "VAL_001"; return;
	case INFRA_ENOTFOUND:  *status = 404; *code = "RES_001"; return;
	case INFRA_ECONFLICT:  *status = 409; *code = "RES_002"; return;
	case INFRA_EPRECOND:   *status = 412; *code = "RES_003"; return;
	case INFRA_EMIGRATION: *status = 422; *code = "MIG_001"; return;
	case INFRA_EAUTH:      *status = 401; *code = "AUTH_001"; return;
	case INFRA_EFORBIDDEN: *status = 403; *code = "AUTH_002"; return;
	case INFRA_EUNAVAIL:   *status = 503; *code = "SVC_001"; return;
	case INFRA_OK:
	case INFRA_EINTERNAL:  *status = 500; *code = "INT_001"; return;
	}
	*status = 500;
	*code = "INT_001";
}

int respond_infra_error(struct request *r, const struct infra_error *err)
{
	json_object *details = NULL;
	const char *code;
	int status;

	http_status_for(err->kind, &status, &code);
	if (err->kind == INFRA_EINVAL && err->field[0] != '\0') {
		json_object *fields = json_object_new_object();

		json_object_object_add(fields, err->field, json_object_new_string(err->message));
		details = json_object_new_object();
		json_object_object_add(details, "fields", fields);
	}
	if (status == 503)
		respond_header(r, "Retry-After", "5");
	return respond_error(r, status, code,
			     status == 500 ? "internal error" : err->message, details);
}

int respond_invalid_fields(struct request *r, json_object *fields)
{
	json_object *details = json_object_new_object();

	json_object_object_add(details, "fields", fields);
	return respond_error(r, 422, "VAL_001", "validation failed", details);
}
