/* jwt_sign.h — minting compact JWS tokens (RS256, ES256) with OpenSSL:
 * what `infractl token` (the development issuer and break-glass tokens)
 * and the tests use. The daemon never signs. */
#ifndef INFRA_JWT_SIGN_H
#define INFRA_JWT_SIGN_H

#include <json-c/json.h>
#include <openssl/evp.h>

#include "error.h"

/* Sign `claims` with the private `key` under the header {"alg", "typ":
 * "JWT", "kid"}; the algorithm follows the key (RS256 for RSA, ES256 for
 * P-256). Returns the token (malloc'ed; the caller frees), or NULL with err
 * filled. */
char *jwt_sign(EVP_PKEY *key, const char *kid, json_object *claims, struct infra_error *err);

/* As jwt_sign with the header given whole, signed as its "alg" member
 * says; the tests use it to build tokens a verifier must refuse. Returns
 * NULL when the header's alg is not RS256 or ES256 or does not fit the
 * key. */
char *jwt_sign_with_header(EVP_PKEY *key, json_object *header, json_object *claims,
			   struct infra_error *err);

/* The base64url of the raw 64-byte r||s form of a DER ECDSA-P256
 * signature, as JWS ES256 carries it (RFC 7518 §3.4). Writes 64 bytes to
 * `out` and returns 0, or -1 when `der` is not such a signature. */
int jwt_ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char out[64]);

#endif
