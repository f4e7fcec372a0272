/* utf8.c — well-formed UTF-8 (see utf8.h), after the table of RFC 3629
 * section 4: the first byte fixes the length and the range of the second,
 * which is what rules out overlong forms, surrogates and code points above
 * U+10FFFF; the other continuation bytes are 80..BF. */
#include <string.h>

#include "utf8.h"

/* Bytes of the well-formed sequence at `p` (before `end`), or 0. */
static size_t sequence_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = *p, lo = 0x80, hi = 0xBF;
	size_t n;

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;	/* NUL, a continuation byte, C0, C1 or F5..FF */
	if (c == 0xE0)
		lo = 0xA0;	/* overlong below U+0800 */
	else if (c == 0xED)
		hi = 0x9F;	/* surrogates D800..DFFF */
	else if (c == 0xF0)
		lo = 0x90;	/* overlong below U+10000 */
	else if (c == 0xF4)
		hi = 0x8F;	/* above U+10FFFF */
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if (p[k] < 0x80 || p[k] > 0xBF)
			return 0;
	return n;
}

size_t utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n;

	while (p < end && (n = sequence_len(p, end)) > 0)
		p += n;
	return (size_t)(p - (const unsigned char *)s);
}

bool utf8_valid(const char *s, size_t len)
{
	return utf8_valid_prefix(s, len) == len;
}

void utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s, *end = p + strlen(s);
	size_t n;

	while (p < end) {
		n = sequence_len(p, end);
		if (n == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}
