/* jwt_verify.h — verifying a bearer JWT without trusting libjwt 1.10.2
 * alone (DESIGN.md "Auth"): the header is checked before any verification
 * (alg allow-listed, typ, kid), the signature is checked by libjwt with
 * the PEM of the one key the kid names, the algorithm is checked again
 * after libjwt (which accepts HS256 keyed with an RSA public key PEM), and
 * then the claims libjwt never looks at: exp/nbf/iat with a leeway, iss,
 * aud/azp, sub, jti (at most JWT_JTI_MAX bytes, so that every token
 * accepted can be revoked). Every refusal carries an auth_reason. */
#ifndef INFRA_JWT_VERIFY_H
#define INFRA_JWT_VERIFY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth_reason.h"
#include "jwk.h"

/* Longest token accepted; anything longer is refused before decoding. */
#define JWT_MAX_TOKEN 8192

/* Longest jti accepted, in bytes. A token is only accepted if it can be
 * logged out, so this must stay below REVOCATION_JTI_MAX (revocation.c
 * asserts it): a longer jti, or one holding a NUL, is malformed. */
#define JWT_JTI_MAX 255

/* A token taken apart. Nothing in it is trusted until jwt_verify() has
 * returned 0 for it. */
struct jwt {
	const char *token;		/* borrowed: the caller's string */
	size_t len;
	enum jwk_alg alg;		/* the header's, allow-listed */
	char kid[JWK_KID_MAX];
	json_object *claims;		/* owned: the decoded payload */
	bool verified;
};

/* What a verified token must satisfy. */
struct jwt_policy {
	const char *issuer;			/* iss must equal it exactly */
	const char *const *audiences;		/* aud (any of them) or azp among these */
	size_t naudiences;
	int leeway_s;				/* clock skew allowed on exp, nbf, iat */
	int max_lifetime_s;			/* > 0: iat required, exp - iat <= this */
};

/* Take `token` (NUL-terminated) apart and check what can be checked
 * before verification: length, three base64url parts, header and payload
 * JSON objects, alg RS256 or ES256, typ absent or "JWT", no crit, kid
 * present. Returns 0, or -1 with *why set; either way release `t` with
 * jwt_release. `token` must outlive `t`. */
int jwt_parse(struct jwt *t, const char *token, enum auth_reason *why);

/* The iss claim as presented, before verification: use it only to choose
 * which issuer's keys to verify with (jwt_verify then requires that
 * issuer exactly). NULL when absent or not a string. */
const char *jwt_unverified_issuer(const struct jwt *t);

/* Verify `t` with `key` and check its claims against `pol` at time `now`
 * (seconds since the epoch). Returns 0 and sets t->verified, or -1 with
 * *why set: alg_not_allowed (the header's alg is not the key's, or libjwt
 * saw another one), bad_signature, expired, not_yet_valid, bad_issuer,
 * bad_audience, missing_claim (exp, sub or jti absent or empty),
 * lifetime_too_long or malformed (a claim of the wrong type, a time out of
 * range, a jti longer than JWT_JTI_MAX or holding a NUL). */
int jwt_verify(struct jwt *t, const struct jwk *key, const struct jwt_policy *pol,
	       int64_t now, enum auth_reason *why);

/* The claims of a verified token (borrowed from `t`), or NULL when it has
 * not been verified. */
json_object *jwt_claims(const struct jwt *t);

/* Free what `t` owns. */
void jwt_release(struct jwt *t);

#endif
