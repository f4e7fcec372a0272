/* request.c — reading a request: parameters, the body (size, type and JSON
 * checks) and query accessors (see http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "json_strict.h"

#define JSON_MAX_DEPTH 32

const char *request_query(const struct request *r, const char *name)
{
	for (int i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].name, name) == 0)
			return r->query[i].value;
	return NULL;
}

const char *request_path_param(const struct request *r, const char *name)
{
	for (int i = 0; i < r->npath_params; i++)
		if (strcmp(r->path_params[i].name, name) == 0)
			return r->path_params[i].value;
	return NULL;
}

void request_drain_body(struct request *r)
{
	char buf[4096];

	if (r->body_read)
		return;
	while (FCGX_GetStr(buf, sizeof(buf), r->fcgi->in) > 0)
		;
	r->body_read = true;
}

/* Read at most `max` bytes of the body into arena memory. Returns the
 * length, or -1 when the body is longer than `max` (the rest is drained). */
static long long read_body(struct request *r, char **out, long long max)
{
	long long cap = r->content_length >= 0 && r->content_length <= max
		? r->content_length : max;
	char *buf = arena_alloc(r->arena, (size_t)cap + 2);
	long long len = 0;
	int n;

	while (len <= cap &&
	       (n = FCGX_GetStr(buf + len, (int)(cap + 1 - len), r->fcgi->in)) > 0)
		len += n;
	request_drain_body(r);
	if (len > max)
		return -1;
	buf[len] = '\0';
	*out = buf;
	return len;
}

/* Find a string value of `v` holding a NUL (json-c keeps it; C sees the
 * string end there) and write where it is ("a.b[2]") into `path`. */
static bool find_nul(json_object *v, char *path, size_t size, size_t at)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v);
	case json_type_object: {
		json_object_object_foreach(v, key, member) {
			snprintf(path + at, size - at, "%s%s", at > 0 ? "." : "", key);
			if (find_nul(member, path, size, strlen(path)))
				return true;
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			snprintf(path + at, size - at, "[%zu]", i);
			if (find_nul(json_object_array_get_idx(v, i), path, size, strlen(path)))
				return true;
		}
		break;
	default:
		break;
	}
	path[at] = '\0';
	return false;
}

int request_json_body_or_respond(struct request *r, json_object **out)
{
	long long max = r->app->cfg->max_body_bytes, len;
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	json_object *obj, *details;
	char *body = NULL, field[256] = "";

	*out = NULL;
	if (!http_content_type_is_json(r->content_type))
		return respond_error(r, 415, "REQ_001",
				     "Content-Type must be application/json", NULL);
	if (r->content_length > max)
		return respond_error(r, 413, "REQ_001", "request body too large", NULL);
	len = read_body(r, &body, max);
	if (len < 0)
		return respond_error(r, 413, "REQ_001", "request body too large", NULL);
	if (len == 0)
		return respond_error(r, 400, "VAL_001", "a JSON body is required", NULL);
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL)
		return respond_error(r, 500, "INT_001", "internal error", NULL);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	/* A number or literal at the very end is complete only once the
	 * tokener is told there is no more: the body's terminating NUL. */
	if (obj == NULL && jerr == json_tokener_continue && memchr(body, '\0', (size_t)len) == NULL) {
		obj = json_tokener_parse_ex(tok, body + len, 1);
		jerr = json_tokener_get_error(tok);
	} else if (jerr == json_tokener_success &&
		   json_tokener_get_parse_end(tok) < (size_t)len) {
		/* Trailing bytes after the document: only whitespace is fine. */
		for (size_t i = json_tokener_get_parse_end(tok); i < (size_t)len; i++)
			if (strchr(" \t\r\n", body[i]) == NULL) {
				jerr = json_tokener_error_parse_unexpected;
				break;
			}
	}
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		details = json_object_new_object();
		json_object_object_add(details, "reason",
				       json_object_new_string(jerr == json_tokener_continue
							      ? "unexpected end of input"
							      : json_tokener_error_desc(jerr)));
		json_object_put(obj);
		return respond_error(r, 400, "VAL_001", "malformed JSON", details);
	}
	if (!json_object_is_type(obj, json_type_object)) {	/* JSON null is NULL */
		json_object_put(obj);
		return respond_error(r, 422, "VAL_001", "the body must be a JSON object", NULL);
	}
	/* No string the handlers read may end early at a NUL of its own. */
	if (json_escapes_nul(body, (size_t)len)) {
		details = json_object_new_object();
		if (find_nul(obj, field, sizeof(field), 0)) {
			json_object *fields = json_object_new_object();

			json_object_object_add(fields, field, json_object_new_string(
				"contains a NUL character (\\u0000)"));
			json_object_object_add(details, "fields", fields);
		} else {
			json_object_object_add(details, "reason", json_object_new_string(
				"a member name contains a NUL character (\\u0000)"));
		}
		json_object_put(obj);
		return respond_error(r, 422, "VAL_001", "a NUL character is not accepted", details);
	}
	*out = obj;
	return 0;
}

int request_query_int_or_respond(struct request *r, const char *name, long def,
				 long min, long max, long *out)
{
	const char *v = request_query(r, name);
	char *end;
	long n;

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < min || n > max) {
		json_object *fields = json_object_new_object();
		char why[96];

		snprintf(why, sizeof(why), "must be an integer in %ld..%ld", min, max);
		json_object_object_add(fields, name, json_object_new_string(why));
		return respond_invalid_fields(r, fields);
	}
	*out = n;
	return 0;
}
