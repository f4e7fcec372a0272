/* page_cursor.c — keyset pagination cursors (see page_cursor.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "page_cursor.h"

void page_cursor_encode(char *out, size_t outlen, const char *micros, const char *id)
{
	char raw[80];
	int n = snprintf(raw, sizeof(raw), "%s.%s", micros, id);

	if (n > 0 && (size_t)n < sizeof(raw) && BASE64URL_ENCODED_SIZE((size_t)n) <= outlen)
		base64url_encode(out, raw, (size_t)n);
	else if (outlen > 0)
		out[0] = '\0';
}

int page_cursor_decode(const char *cursor, char micros[PAGE_CURSOR_MICROS_MAX],
		       char id[UUID_STR_LEN])
{
	unsigned char raw[80];
	size_t len = strlen(cursor), mlen;
	const char *dot;
	long n;

	if (len == 0 || len > 100)
		return -1;
	n = base64url_decode(raw, cursor, len);
	if (n <= 0 || (size_t)n >= sizeof(raw))
		return -1;
	raw[n] = '\0';
	dot = strchr((const char *)raw, '.');
	if (dot == NULL)
		return -1;
	mlen = (size_t)(dot - (const char *)raw);
	if (mlen == 0 || mlen >= PAGE_CURSOR_MICROS_MAX ||
	    strspn((const char *)raw, "0123456789") != mlen || !uuid_is_valid(dot + 1))
		return -1;
	memcpy(micros, raw, mlen);
	micros[mlen] = '\0';
	memcpy(id, dot + 1, UUID_STR_LEN);
	return 0;
}

void page_cursor_encode_serial(char *out, size_t outlen, const char *tag, const char *id)
{
	char raw[48];
	int n = snprintf(raw, sizeof(raw), "%s:%s", tag, id);

	if (n > 0 && (size_t)n < sizeof(raw) && BASE64URL_ENCODED_SIZE((size_t)n) <= outlen)
		base64url_encode(out, raw, (size_t)n);
	else if (outlen > 0)
		out[0] = '\0';
}

int64_t page_cursor_decode_serial(const char *cursor, const char *tag)
{
	unsigned char raw[48];
	size_t len = strlen(cursor), tlen = strlen(tag);
	const char *digits;
	char *end;
	long n;
	long long id;

	if (len == 0 || len > 60)
		return 0;
	n = base64url_decode(raw, cursor, len);
	if (n <= 0 || (size_t)n >= sizeof(raw))
		return 0;
	raw[n] = '\0';
	if (strlen((const char *)raw) != (size_t)n || (size_t)n <= tlen + 1 ||
	    memcmp(raw, tag, tlen) != 0 || raw[tlen] != ':')
		return 0;
	digits = (const char *)raw + tlen + 1;
	if (strspn(digits, "0123456789") != strlen(digits))
		return 0;
	errno = 0;
	id = strtoll(digits, &end, 10);
	return errno == 0 && *end == '\0' && id > 0 ? (int64_t)id : 0;
}
