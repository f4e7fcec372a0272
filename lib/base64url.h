/* base64url.h — the unpadded base64url encoding of RFC 4648 §5, as JOSE
 * (JWT, JWK) uses it. Decoding is strict: no padding, no whitespace, no
 * characters outside the alphabet, no non-zero trailing bits. */
#ifndef INFRA_BASE64URL_H
#define INFRA_BASE64URL_H

#include <stddef.h>

/* Bytes needed to encode `len` bytes, including the terminating NUL. */
#define BASE64URL_ENCODED_SIZE(len) (((len) + 2) / 3 * 4 + 1)

/* Largest number of bytes `len` characters can decode to. */
#define BASE64URL_DECODED_MAX(len) ((len) / 4 * 3 + 3)

/* Encode `len` bytes of `in` into `out`, which must hold
 * BASE64URL_ENCODED_SIZE(len) bytes; NUL-terminates. Returns the length
 * written, without the NUL. */
size_t base64url_encode(char *out, const void *in, size_t len);

/* As base64url_encode into a malloc'ed string the caller frees. Returns
 * NULL when out of memory. */
char *base64url_encode_alloc(const void *in, size_t len);

/* Decode the `len` characters of `in` into `out` (room for
 * BASE64URL_DECODED_MAX(len) bytes). Returns the number of bytes decoded,
 * or -1 when `in` is not strict unpadded base64url. */
long base64url_decode(unsigned char *out, const char *in, size_t len);

/* As base64url_decode into a malloc'ed buffer the caller frees, with a NUL
 * after the data (so decoded JSON can be parsed as a string). Returns NULL
 * when `in` is invalid or memory is exhausted; *outlen gets the length. */
unsigned char *base64url_decode_alloc(const char *in, size_t len, size_t *outlen);

#endif
