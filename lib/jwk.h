/* jwk.h — JSON Web Keys (RFC 7517) for the two signature algorithms we
 * accept, RS256 and ES256: a JWK (n/e or crv/x/y) to an OpenSSL 3 EVP_PKEY
 * and its PEM (what libjwt verifies with), a key back to its public JWK, and
 * key sets. Only signature keys are kept: `use` absent or "sig". */
#ifndef INFRA_JWK_H
#define INFRA_JWK_H

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define JWK_KID_MAX 128		/* longest kid plus its NUL */
#define JWK_RSA_MIN_BITS 2048

/* The signature algorithms we accept; JWK_ALG_NONE is "not one of them". */
enum jwk_alg {
	JWK_ALG_NONE = 0,
	JWK_ALG_RS256,		/* RSASSA-PKCS1-v1_5 with SHA-256 */
	JWK_ALG_ES256,		/* ECDSA on P-256 with SHA-256 */
};

/* "RS256" / "ES256" / "none". */
const char *jwk_alg_name(enum jwk_alg alg);

/* The allowed algorithm named exactly `name`, or JWK_ALG_NONE. */
enum jwk_alg jwk_alg_parse(const char *name);

/* The algorithm a key is used with: RS256 for RSA of at least
 * JWK_RSA_MIN_BITS, ES256 for P-256, JWK_ALG_NONE for anything else. */
enum jwk_alg jwk_alg_of_key(const EVP_PKEY *pkey);

/* One verification key. */
struct jwk {
	char kid[JWK_KID_MAX];
	enum jwk_alg alg;
	EVP_PKEY *pkey;		/* owned */
	char *pem;		/* owned: SubjectPublicKeyInfo PEM of pkey */
	size_t pem_len;
};

/* Fill `k` from the JWK object `obj`. Returns 0 when `k` now holds a key
 * (release it with jwk_release), 1 when the JWK is well formed but not a
 * key we verify with (use "enc", key_ops without "verify", another kty, alg
 * or curve, an RSA key too short) and was skipped, -1 when it is malformed
 * (err says why). */
int jwk_from_json(struct jwk *k, json_object *obj, struct infra_error *err);

/* Fill `k` from a PEM public key (or a private key, whose public half is
 * kept) with the given kid; the algorithm follows the key type. Returns 0,
 * or -1 when the PEM holds no usable key. */
int jwk_from_pem(struct jwk *k, const char *kid, const char *pem, size_t len,
		 struct infra_error *err);

/* As jwk_from_pem, reading the PEM file at `path`. Returns 0 or -1. */
int jwk_from_pem_file(struct jwk *k, const char *kid, const char *path, struct infra_error *err);

/* Free what `k` owns; it is zeroed and may be filled again. */
void jwk_release(struct jwk *k);

/* Read a PEM key from `path`: a private key when `want_private`, else a
 * public key (or the public half of a private key). Returns a key the
 * caller frees with EVP_PKEY_free, or NULL with err filled. */
EVP_PKEY *jwk_read_pem_file(const char *path, bool want_private, struct infra_error *err);

/* The public JWK of `pkey` ({kty, use:"sig", alg, kid, n, e} or {kty, use,
 * alg, kid, crv, x, y}). Returns a new object the caller owns (put), or
 * NULL when the key is not RS256/ES256-capable. */
json_object *jwk_to_json(const EVP_PKEY *pkey, const char *kid);

/* A set of verification keys, as parsed from a JWKS document. */
struct jwk_set {
	struct jwk *keys;
	size_t n;
};

void jwk_set_init(struct jwk_set *s);

/* Parse a JWKS document ({"keys": [...]}) into `s` (initialised, empty).
 * Keys we do not verify with are skipped; a malformed key or two keys with
 * one kid make the whole document invalid. Returns 0, or -1 with err filled
 * and `s` left empty. */
int jwk_set_parse(struct jwk_set *s, const char *json, size_t len, struct infra_error *err);

/* The key named `kid`, or NULL. The pointer is valid until `s` changes. */
const struct jwk *jwk_set_find(const struct jwk_set *s, const char *kid);

/* Free every key; `s` is empty and reusable afterwards. */
void jwk_set_release(struct jwk_set *s);

/* Move the keys of `from` into `to` (whose own keys are released first);
 * `from` is left empty. */
void jwk_set_move(struct jwk_set *to, struct jwk_set *from);

#endif
