/* crypto.c — AES-256-GCM sealing of stored credentials under a key ring
 * (see crypto.h), with OpenSSL's EVP interface. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"

#define SETTING "ENCRYPTION_KEYS"

void crypto_keyring_init(struct crypto_keyring *ring)
{
	ring->keys = NULL;
	ring->nkeys = 0;
}

void crypto_keyring_release(struct crypto_keyring *ring)
{
	if (ring->keys != NULL) {
		OPENSSL_cleanse(ring->keys, ring->nkeys * sizeof(*ring->keys));
		free(ring->keys);
	}
	crypto_keyring_init(ring);
}

static bool kid_valid(const char *s, size_t len)
{
	if (len == 0 || len > CRYPTO_KID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Decode the standard (padded) base64 of exactly CRYPTO_KEY_BYTES bytes.
 * Returns 0, or -1 when `b64` is anything else. */
static int decode_key(unsigned char out[CRYPTO_KEY_BYTES], const char *b64, size_t len)
{
	/* 32 bytes are 44 characters, the last one a single '=' of padding. */
	unsigned char buf[48];
	int n;

	if (len != 44 || b64[43] != '=' || b64[42] == '=')
		return -1;
	for (size_t i = 0; i < 43; i++) {
		char c = b64[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return -1;
	}
	n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
	/* EVP_DecodeBlock counts the padding as a zero byte: 33 here. */
	if (n != CRYPTO_KEY_BYTES + 1) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	memcpy(out, buf, CRYPTO_KEY_BYTES);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int crypto_keyring_parse(struct crypto_keyring *ring, const char *spec,
			 struct infra_error *err)
{
	const char *p = spec ? spec : "";
	size_t n = 0;

	crypto_keyring_release(ring);
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return infra_fail(err, INFRA_EINVAL, "setting '%s' is empty: credentials cannot "
				  "be encrypted (expected kid:base64 of 32 bytes, …)", SETTING);
	ring->keys = calloc(CRYPTO_MAX_KEYS, sizeof(*ring->keys));
	if (ring->keys == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "out of memory");
	for (;;) {
		const char *end = strchr(p, ','), *colon;
		size_t len, kidlen;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && *p == ' ')
			p++;
		len = (size_t)(end - p);
		while (len > 0 && p[len - 1] == ' ')
			len--;
		n++;
		colon = memchr(p, ':', len);
		kidlen = colon ? (size_t)(colon - p) : 0;
		if (n > CRYPTO_MAX_KEYS) {
			crypto_keyring_release(ring);
			return infra_fail(err, INFRA_EINVAL, "setting '%s' has more than %d keys",
					  SETTING, CRYPTO_MAX_KEYS);
		}
		if (colon == NULL || !kid_valid(p, kidlen)) {
			crypto_keyring_release(ring);
			return infra_fail(err, INFRA_EINVAL, "setting '%s': entry %zu is invalid: "
					  "expected kid:base64 with a kid of 1-%d of [A-Za-z0-9._-]",
					  SETTING, n, CRYPTO_KID_MAX);
		}
		memcpy(ring->keys[n - 1].kid, p, kidlen);
		ring->keys[n - 1].kid[kidlen] = '\0';
		if (decode_key(ring->keys[n - 1].key, colon + 1, len - kidlen - 1) != 0) {
			char kid[CRYPTO_KID_MAX + 1];

			memcpy(kid, p, kidlen + 1);
			kid[kidlen] = '\0';
			crypto_keyring_release(ring);
			return infra_fail(err, INFRA_EINVAL, "setting '%s': the key of '%s' is "
					  "invalid: expected the base64 of exactly %d bytes",
					  SETTING, kid, CRYPTO_KEY_BYTES);
		}
		for (size_t i = 0; i + 1 < n; i++)
			if (strcmp(ring->keys[i].kid, ring->keys[n - 1].kid) == 0) {
				char kid[CRYPTO_KID_MAX + 1];

				memcpy(kid, ring->keys[i].kid, sizeof(kid));
				crypto_keyring_release(ring);
				return infra_fail(err, INFRA_EINVAL, "setting '%s': kid '%s' appears "
						  "twice", SETTING, kid);
			}
		ring->nkeys = n;
		if (*end == '\0')
			return 0;
		p = end + 1;	/* an empty entry after a comma fails above */
	}
}

const struct crypto_keyring *crypto_keyring_shared(const char *spec, struct infra_error *err)
{
	static struct crypto_keyring ring;
	static char *parsed_spec;	/* a copy, wiped when replaced */

	if (spec == NULL)
		spec = "";
	if (parsed_spec != NULL && strcmp(parsed_spec, spec) == 0 && ring.nkeys > 0)
		return &ring;
	if (parsed_spec != NULL) {
		OPENSSL_cleanse(parsed_spec, strlen(parsed_spec));
		free(parsed_spec);
		parsed_spec = NULL;
	}
	if (crypto_keyring_parse(&ring, spec, err) != 0)
		return NULL;
	parsed_spec = strdup(spec);
	if (parsed_spec == NULL) {
		crypto_keyring_release(&ring);
		infra_fail(err, INFRA_EINTERNAL, "out of memory");
		return NULL;
	}
	return &ring;
}

const char *crypto_keyring_primary(const struct crypto_keyring *ring)
{
	return ring->nkeys > 0 ? ring->keys[0].kid : NULL;
}

static const struct crypto_key *find_key(const struct crypto_keyring *ring, const char *kid)
{
	for (size_t i = 0; i < ring->nkeys; i++)
		if (kid != NULL && strcmp(ring->keys[i].kid, kid) == 0)
			return &ring->keys[i];
	return NULL;
}

bool crypto_keyring_has(const struct crypto_keyring *ring, const char *kid)
{
	return find_key(ring, kid) != NULL;
}

void crypto_sealed_release(struct crypto_sealed *s)
{
	free(s->data);
	s->data = NULL;
	s->len = 0;
	s->kid[0] = '\0';
}

int crypto_seal(const struct crypto_keyring *ring, const char *aad,
		const void *plain, size_t len, struct crypto_sealed *out,
		struct infra_error *err)
{
	const struct crypto_key *k = ring->nkeys > 0 ? &ring->keys[0] : NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *buf;
	int n, total;

	out->data = NULL;
	out->len = 0;
	if (k == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "no encryption key configured");
	if (len > (size_t)INT32_MAX - CRYPTO_NONCE_BYTES - CRYPTO_TAG_BYTES)
		return infra_fail(err, INFRA_EINTERNAL, "value too large to encrypt");
	buf = malloc(CRYPTO_NONCE_BYTES + len + CRYPTO_TAG_BYTES);
	if (buf == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "out of memory");
	if (RAND_bytes(buf, CRYPTO_NONCE_BYTES) != 1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_NONCE_BYTES, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, k->key, buf) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + CRYPTO_NONCE_BYTES, &n, plain, (int)len) != 1)
		goto fail;
	total = n;
	if (EVP_EncryptFinal_ex(ctx, buf + CRYPTO_NONCE_BYTES + total, &n) != 1)
		goto fail;
	total += n;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_BYTES,
				buf + CRYPTO_NONCE_BYTES + total) != 1)
		goto fail;
	EVP_CIPHER_CTX_free(ctx);
	memcpy(out->kid, k->kid, sizeof(out->kid));
	out->data = buf;
	out->len = CRYPTO_NONCE_BYTES + (size_t)total + CRYPTO_TAG_BYTES;
	return 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	free(buf);
	return infra_fail(err, INFRA_EINTERNAL, "encryption failed");
}

int crypto_open(const struct crypto_keyring *ring, const char *kid,
		const char *aad, const unsigned char *sealed, size_t len,
		char **plain, size_t *plain_len, struct infra_error *err)
{
	const struct crypto_key *k = find_key(ring, kid);
	EVP_CIPHER_CTX *ctx;
	size_t ctlen;
	char *buf;
	int n, total, ok;

	*plain = NULL;
	if (k == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "encrypted with key '%s', which is not "
				  "in the key ring", kid ? kid : "");
	if (len < CRYPTO_NONCE_BYTES + CRYPTO_TAG_BYTES || len > (size_t)INT32_MAX)
		return infra_fail(err, INFRA_EINTERNAL, "the encrypted value is truncated");
	ctlen = len - CRYPTO_NONCE_BYTES - CRYPTO_TAG_BYTES;
	buf = malloc(ctlen + 1);
	if (buf == NULL)
		return infra_fail(err, INFRA_EINTERNAL, "out of memory");
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL &&
	     EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_NONCE_BYTES, NULL) == 1 &&
	     EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, sealed) == 1 &&
	     EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	     EVP_DecryptUpdate(ctx, (unsigned char *)buf, &n, sealed + CRYPTO_NONCE_BYTES,
			       (int)ctlen) == 1;
	total = ok ? n : 0;
	ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_BYTES,
				       (void *)(sealed + len - CRYPTO_TAG_BYTES)) == 1 &&
	     EVP_DecryptFinal_ex(ctx, (unsigned char *)buf + total, &n) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(buf, ctlen + 1);
		free(buf);
		return infra_fail(err, INFRA_EINTERNAL, "the encrypted value does not authenticate "
				  "under key '%s' (wrong key, or tampered with)", k->kid);
	}
	total += n;
	buf[total] = '\0';
	*plain = buf;
	if (plain_len != NULL)
		*plain_len = (size_t)total;
	return 0;
}

void crypto_secret_free(char *s, size_t len)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, len ? len : strlen(s));
	free(s);
}
