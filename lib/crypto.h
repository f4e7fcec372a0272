/* crypto.h — credentials at rest: AES-256-GCM under a key ring.
 *
 * The ring comes from the ENCRYPTION_KEYS setting, "kid:base64(32 bytes)"
 * entries separated by commas: the first key encrypts, every key decrypts,
 * so a new key is put first, `infractl rotate-keys` re-encrypts, and the old
 * key is removed afterwards. A sealed value is nonce(12) || ciphertext ||
 * tag(16) with a random nonce per value, stored beside the kid of its key;
 * the caller's additional data (AAD, e.g. "databases:<id>") binds it to its
 * row, so a ciphertext copied to another row does not open. Key bytes live
 * only in the ring and are wiped (OPENSSL_cleanse) when it is released; no
 * message of this module ever contains key material or a plaintext. */
#ifndef INFRA_CRYPTO_H
#define INFRA_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define CRYPTO_KEY_BYTES 32
#define CRYPTO_NONCE_BYTES 12
#define CRYPTO_TAG_BYTES 16
#define CRYPTO_KID_MAX 32	/* 1..32 of [A-Za-z0-9._-] */
#define CRYPTO_MAX_KEYS 16

struct crypto_key {
	char kid[CRYPTO_KID_MAX + 1];
	unsigned char key[CRYPTO_KEY_BYTES];
};

struct crypto_keyring {
	struct crypto_key *keys;	/* keys[0] encrypts; owned */
	size_t nkeys;
};

/* An empty ring (every seal fails until a ring is parsed into it). */
void crypto_keyring_init(struct crypto_keyring *ring);

/* Parse `spec` (the ENCRYPTION_KEYS syntax) into `ring`, which must be
 * initialised or released. Returns 0, or -1 with INFRA_EINVAL naming the
 * setting and the position of the bad entry — never its key — and `ring`
 * left empty. An empty `spec` is an error too: there is nothing to encrypt
 * with. */
int crypto_keyring_parse(struct crypto_keyring *ring, const char *spec,
			 struct infra_error *err);

/* The kid of the encrypting (first) key, or NULL for an empty ring. The
 * string lives as long as the ring. */
const char *crypto_keyring_primary(const struct crypto_keyring *ring);

/* true when `kid` names a key of the ring. */
bool crypto_keyring_has(const struct crypto_keyring *ring, const char *kid);

/* Wipe and free the keys; the ring is empty and may be parsed again. */
void crypto_keyring_release(struct crypto_keyring *ring);

/* The process's ring for `spec` (the ENCRYPTION_KEYS value), parsed on
 * first use and again whenever `spec` differs from the last call's (after
 * a reload). Returns the ring, valid until a call with another spec, or
 * NULL with crypto_keyring_parse's error. Not thread-safe: one ring per
 * single-threaded process (worker, runner, CLI). */
const struct crypto_keyring *crypto_keyring_shared(const char *spec, struct infra_error *err);

/* A sealed value: the kid of its key and nonce || ciphertext || tag. */
struct crypto_sealed {
	char kid[CRYPTO_KID_MAX + 1];
	unsigned char *data;		/* owned */
	size_t len;
};

/* Encrypt `len` bytes of `plain` under the ring's first key, binding `aad`
 * (a NUL-terminated string, e.g. "databases:<id>"). Returns 0 with `out`
 * filled (release it with crypto_sealed_release), or -1: INFRA_EINTERNAL
 * for an empty ring or an OpenSSL failure. */
int crypto_seal(const struct crypto_keyring *ring, const char *aad,
		const void *plain, size_t len, struct crypto_sealed *out,
		struct infra_error *err);

/* Free what `s` owns; it may be reused. */
void crypto_sealed_release(struct crypto_sealed *s);

/* Decrypt `len` bytes of `sealed` made by key `kid` with additional data
 * `aad`. Returns 0 and a NUL-terminated plaintext in *plain (length in
 * *plain_len when not NULL; free it with crypto_secret_free), or -1 with
 * INFRA_EINTERNAL and a message saying which: the kid is not in the ring,
 * the value is truncated, or authentication failed (a wrong key, a tampered
 * ciphertext or one moved from another row). Never returns garbage. */
int crypto_open(const struct crypto_keyring *ring, const char *kid,
		const char *aad, const unsigned char *sealed, size_t len,
		char **plain, size_t *plain_len, struct infra_error *err);

/* Wipe `len` bytes of `s` (strlen when len is 0) and free it. NULL is
 * allowed. */
void crypto_secret_free(char *s, size_t len);

#endif
