/* utf8.h — whether bytes from outside are well-formed UTF-8: what every
 * string the service passes on (to PostgreSQL, to a log line, into a JSON
 * answer) must be. */
#ifndef INFRA_UTF8_H
#define INFRA_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The `len` bytes of `s` are well-formed UTF-8 (RFC 3629): no overlong
 * form, no surrogate, nothing above U+10FFFF, no sequence cut short. */
bool utf8_valid(const char *s, size_t len);

#endif
