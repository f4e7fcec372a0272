/* utf8.c — well-formed UTF-8 (see utf8.h), after the table of RFC 3629
 * section 4: the first byte fixes the length and the range of the second,
 * which is what rules out overlong forms, surrogates and code points above
 * U+10FFFF; the other continuation bytes are 80..BF. */
#include "utf8.h"

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p++, lo = 0x80, hi = 0xBF;
		int more;

		if (c < 0x80)
			continue;
		if (c >= 0xC2 && c <= 0xDF)
			more = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			more = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			more = 3;
		else
			return false;	/* a continuation byte, C0, C1 or F5..FF */
		if (c == 0xE0)
			lo = 0xA0;	/* overlong below U+0800 */
		else if (c == 0xED)
			hi = 0x9F;	/* surrogates D800..DFFF */
		else if (c == 0xF0)
			lo = 0x90;	/* overlong below U+10000 */
		else if (c == 0xF4)
			hi = 0x8F;	/* above U+10FFFF */
		if (end - p < more || *p < lo || *p > hi)
			return false;
		for (p++; --more > 0; p++)
			if (*p < 0x80 || *p > 0xBF)
				return false;
	}
	return true;
}
