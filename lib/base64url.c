/* base64url.c — strict unpadded base64url (RFC 4648 §5) for JOSE; see
 * base64url.h. */
#include <stdlib.h>

#include "base64url.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t base64url_encode(char *out, const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t o = 0, i = 0;

	for (; i + 3 <= len; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		unsigned long v = (unsigned long)p[i] << 16;

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
	} else if (len - i == 2) {
		unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

char *base64url_encode_alloc(const void *in, size_t len)
{
	char *out = malloc(BASE64URL_ENCODED_SIZE(len));

	if (out != NULL)
		base64url_encode(out, in, len);
	return out;
}

static int value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long base64url_decode(unsigned char *out, const char *in, size_t len)
{
	unsigned long acc = 0;
	size_t o = 0;
	int bits = 0;

	/* One character left over encodes only 6 bits: never valid. */
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = value_of((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* The unused low bits of the last character must be zero, so that
	 * every byte string has exactly one encoding. */
	if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

unsigned char *base64url_decode_alloc(const char *in, size_t len, size_t *outlen)
{
	unsigned char *out = malloc(BASE64URL_DECODED_MAX(len) + 1);
	long n;

	if (out == NULL)
		return NULL;
	n = base64url_decode(out, in, len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	if (outlen)
		*outlen = (size_t)n;
	return out;
}
