/* json_strict.c — one strict JSON value from untrusted bytes (see
 * json_strict.h). */
#include <string.h>

#include "json_strict.h"

bool json_escapes_nul(const char *s, size_t len)
{
	/* Every backslash of valid JSON starts an escape in a string. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
			return true;
		i++;	/* the escaped character, a backslash maybe */
	}
	return false;
}

json_object *json_strict_parse(const char *s, size_t len)
{
	json_tokener *tok;
	json_object *v;

	if (len > (size_t)0x7fffffff || memchr(s, '\0', len) != NULL)
		return NULL;
	tok = json_tokener_new_ex(JSON_STRICT_MAX_DEPTH);
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	v = json_tokener_parse_ex(tok, s, (int)len);
	if (v != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
			  json_tokener_get_parse_end(tok) != len || json_escapes_nul(s, len))) {
		json_object_put(v);
		v = NULL;
	}
	json_tokener_free(tok);
	return v;
}

json_object *json_strict_parse_object(const char *s, size_t len)
{
	json_object *v = json_strict_parse(s, len);

	if (v != NULL && !json_object_is_type(v, json_type_object)) {
		json_object_put(v);
		v = NULL;
	}
	return v;
}
