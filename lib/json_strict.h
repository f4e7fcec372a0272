/* json_strict.h — parsing untrusted bytes (token parts, JWKS documents,
 * cache values) into json-c values: exactly one JSON value, strict syntax,
 * valid UTF-8, no NUL (escaped or not), bounded depth, nothing after it. */
#ifndef INFRA_JSON_STRICT_H
#define INFRA_JSON_STRICT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define JSON_STRICT_MAX_DEPTH 32

/* Parse the `len` bytes of `s`. Returns a new value the caller puts, or
 * NULL when the bytes are not exactly one strict JSON value. */
json_object *json_strict_parse(const char *s, size_t len);

/* Whether valid JSON text `s` escapes a NUL (\u0000) anywhere, in a
 * member name too. json-c keeps such a NUL inside a string, where C code
 * reading it would see the string end early. */
bool json_escapes_nul(const char *s, size_t len);

/* As json_strict_parse, and NULL unless the value is an object. */
json_object *json_strict_parse_object(const char *s, size_t len);

#endif
