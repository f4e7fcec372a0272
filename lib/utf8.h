/* utf8.h — whether bytes from outside are well-formed UTF-8: what every
 * string the service passes on (to PostgreSQL, to a log line, into a JSON
 * answer) must be. NUL counts as not well-formed: C would end the string
 * there. */
#ifndef INFRA_UTF8_H
#define INFRA_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the longest well-formed prefix of the `len` bytes of `s`
 * (RFC 3629: no overlong form, no surrogate, nothing above U+10FFFF, no
 * sequence cut short; and no NUL). */
size_t utf8_valid_prefix(const char *s, size_t len);

/* The `len` bytes of `s` are well-formed UTF-8 without NUL. */
bool utf8_valid(const char *s, size_t len);

/* Make C string `s` well-formed in place: every byte that does not start
 * a well-formed sequence becomes '?'. */
void utf8_scrub(char *s);

#endif
