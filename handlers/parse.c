/* parse.c — pure parsers of the HTTP layer: percent-decoding, query
 * strings, path patterns, request ids and content types (see http.h). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "utf8.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *http_percent_decode(struct arena *a, const char *s, size_t len, bool plus_is_space)
{
	char *out = arena_alloc(a, len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return NULL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return utf8_valid(out, (size_t)(o - out)) ? out : NULL;
}

int http_parse_query(struct arena *a, const char *qs, struct http_param *out, int max)
{
	int n = 0;

	while (qs != NULL && *qs) {
		const char *amp = strchr(qs, '&');
		size_t len = amp ? (size_t)(amp - qs) : strlen(qs);
		const char *eq = memchr(qs, '=', len);

		if (len > 0) {
			size_t nlen = eq ? (size_t)(eq - qs) : len;

			if (n >= max || nlen == 0)
				return -1;
			out[n].name = http_percent_decode(a, qs, nlen, true);
			out[n].value = eq ? http_percent_decode(a, eq + 1, len - nlen - 1, true)
					  : arena_strdup(a, "");
			if (out[n].name == NULL || out[n].value == NULL)
				return -1;
			n++;
		}
		qs += len;
		if (*qs == '&')
			qs++;
	}
	return n;
}

int http_match_path(struct arena *a, const char *pattern, const char *path,
		    struct http_param *params, int *nparams)
{
	const char *p = pattern, *s = path;
	int n = 0;

	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			size_t seglen = strcspn(s, "/");
			char *value;

			if (pend == NULL || seglen == 0 || n >= HTTP_MAX_PATH_PARAMS)
				return 0;
			value = http_percent_decode(a, s, seglen, false);
			if (value == NULL)
				return -1;
			params[n].name = arena_strndup(a, p + 1, (size_t)(pend - p - 1));
			params[n].value = value;
			n++;
			p = pend + 1;
			s += seglen;
		} else {
			size_t plen = strcspn(p, "/");
			size_t slen = strcspn(s, "/");

			if (plen != slen || memcmp(p, s, plen) != 0)
				return 0;
			p += plen;
			s += slen;
		}
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	*nparams = n;
	return 1;
}

bool http_request_id_sane(const char *id)
{
	size_t len;

	if (id == NULL)
		return false;
	len = strlen(id);
	if (len < 1 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '.' && id[i] != '_' && id[i] != '-')
			return false;
	return true;
}

bool http_content_type_is_json(const char *ct)
{
	const char *semi;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
		return false;
	ct += 16;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (*ct == '\0')
		return true;
	if (*ct != ';')
		return false;
	/* Only a charset parameter, and only UTF-8, is accepted. */
	ct++;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "charset=", 8) != 0)
		return false;
	ct += 8;
	if (*ct == '"')
		ct++;
	if (strncasecmp(ct, "utf-8", 5) != 0)
		return false;
	ct += 5;
	if (*ct == '"')
		ct++;
	semi = ct;
	while (*semi == ' ' || *semi == '\t')
		semi++;
	return *semi == '\0';
}
