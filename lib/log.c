/* log.c — JSON-lines logging on stderr (see log.h).
 *
 * A line is formatted into one buffer and written with a single write(2), so
 * lines from many processes sharing one stderr never interleave. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

static char log_role[16] = "infra";
static enum log_level log_min = LOG_LEVEL_INFO;
static char log_request_id[72];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_init(const char *role, enum log_level min_level)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
	log_min = min_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_set_request_id(const char *request_id)
{
	snprintf(log_request_id, sizeof(log_request_id), "%s",
		 request_id ? request_id : "");
}

void log_emit(enum log_level level, const char *msg, json_object *fields)
{
	char ts[ISO8601_MAX];
	json_object *line;
	const char *text;
	size_t len;
	int saved_errno = errno;

	if (level < log_min) {
		json_object_put(fields);
		return;
	}
	line = json_object_new_object();
	json_object_object_add(line, "ts", json_object_new_string(time_iso8601_now_ms(ts)));
	json_object_object_add(line, "level", json_object_new_string(level_names[level]));
	json_object_object_add(line, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(line, "role", json_object_new_string(log_role));
	json_object_object_add(line, "msg", json_object_new_string(msg));
	if (log_request_id[0] != '\0')
		json_object_object_add(line, "request_id",
				       json_object_new_string(log_request_id));
	if (fields != NULL) {
		json_object_object_foreach(fields, key, val)
			json_object_object_add(line, key, json_object_get(val));
		json_object_put(fields);
	}
	text = json_object_to_json_string_ext(line, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	{
		char buf[len + 1];

		memcpy(buf, text, len);
		buf[len] = '\n';
		if (write(STDERR_FILENO, buf, len + 1) < 0) {
			/* Nowhere left to report it. */
		}
	}
	json_object_put(line);
	errno = saved_errno;
}

static void log_va(enum log_level level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level < log_min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_emit(level, msg, NULL);
}

#define LOG_SHORTHAND(name, level)                 \
	void name(const char *fmt, ...)            \
	{                                          \
		va_list ap;                        \
		va_start(ap, fmt);                 \
		log_va(level, fmt, ap);            \
		va_end(ap);                        \
	}

LOG_SHORTHAND(log_debug, LOG_LEVEL_DEBUG)
LOG_SHORTHAND(log_info, LOG_LEVEL_INFO)
LOG_SHORTHAND(log_warn, LOG_LEVEL_WARN)
LOG_SHORTHAND(log_error, LOG_LEVEL_ERROR)

int log_errno(const char *call, const char *subject)
{
	json_object *f = json_object_new_object();
	char msg[256];

	json_object_object_add(f, "error", json_object_new_string(strerror(errno)));
	snprintf(msg, sizeof(msg), "%s failed for '%s'", call, subject ? subject : "");
	log_emit(LOG_LEVEL_ERROR, msg, f);
	return -1;
}

void log_redact_conninfo(const char *conninfo, char *out, size_t outlen)
{
	const char *at, *scheme, *colon, *pw;
	size_t n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (conninfo == NULL)
		return;
	scheme = strstr(conninfo, "://");
	if (scheme != NULL) {
		/* URL form: scheme://user:password@host/… */
		at = strchr(scheme + 3, '@');
		colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
		if (colon == NULL) {
			snprintf(out, outlen, "%s", conninfo);
		} else {
			n = (size_t)(colon - conninfo) + 1;
			snprintf(out, outlen, "%.*s***%s", (int)n, conninfo, at);
		}
	} else {
		/* keyword form: … password=secret … */
		pw = strstr(conninfo, "password");
		if (pw == NULL) {
			snprintf(out, outlen, "%s", conninfo);
		} else {
			const char *end = pw + 8;

			while (*end == ' ' || *end == '=')
				end++;
			if (*end == '\'') {
				end++;
				while (*end && *end != '\'')
					end += (*end == '\\' && end[1]) ? 2 : 1;
				if (*end)
					end++;
			} else {
				while (*end && *end != ' ')
					end++;
			}
			snprintf(out, outlen, "%.*spassword=***%s",
				 (int)(pw - conninfo), conninfo, end);
		}
	}
	/* A "?password=" query parameter in a URL. */
	pw = strstr(out, "password=");
	if (scheme != NULL && pw != NULL && strncmp(pw + 9, "***", 3) != 0) {
		char *p = (char *)pw + 9, *e = p;
		size_t len = strlen(out);

		while (*e && *e != '&')
			e++;
		if (len - (size_t)(e - p) + 3 < outlen) {
			memmove(p + 3, e, strlen(e) + 1);
			memcpy(p, "***", 3);
		} else {
			*p = '\0';	/* no room: cut the secret off */
		}
	}
}
