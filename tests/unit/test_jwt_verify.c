/* test_jwt_verify.c — the JWT attack table: every forged, stale or
 * misdirected token jwt_parse/jwt_verify must refuse, with its reason, and
 * the libjwt 1.10.2 traps shown to exist before they are shown closed. */
#include <jwt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authtest.h"
#include "base64url.h"
#include "jwk.h"
#include "jwt_verify.h"
#include "unit.h"

#define NOW 1800000000LL

static EVP_PKEY *rsa, *rsa_other, *ec;
static struct jwk_set keys;
static const char *const audiences[] = { AUTHTEST_AUDIENCE, "infra-cli" };
static const struct jwt_policy policy = {
	.issuer = AUTHTEST_ISSUER,
	.audiences = audiences,
	.naudiences = 2,
	.leeway_s = 30,
	.max_lifetime_s = 0,
};

static int suite_init(void)
{
	struct infra_error err;
	EVP_PKEY *ks[3];
	const char *kids[] = { "rsa1", "ec1" };
	char *doc, *withenc;
	size_t len;

	rsa = authtest_rsa_key();
	rsa_other = authtest_rsa_key();
	ec = authtest_ec_key();
	ks[0] = rsa;
	ks[1] = ec;
	doc = authtest_jwks(ks, kids, 2);
	/* Add an encryption key, as Keycloak publishes one beside its
	 * signing key: same key material, use "enc". */
	len = strlen(doc);
	withenc = malloc(len + 600);
	{
		json_object *d = json_tokener_parse(doc), *arr, *enc = jwk_to_json(rsa_other, "enc1");

		json_object_object_add(enc, "use", json_object_new_string("enc"));
		json_object_object_add(enc, "alg", json_object_new_string("RSA-OAEP"));
		json_object_object_get_ex(d, "keys", &arr);
		json_object_array_add(arr, enc);
		snprintf(withenc, len + 600, "%s", json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
		json_object_put(d);
	}
	free(doc);
	if (jwk_set_parse(&keys, withenc, strlen(withenc), &err) != 0 || keys.n != 2) {
		free(withenc);
		return -1;
	}
	free(withenc);
	return 0;
}

/* Parse, pick the key by kid, verify: the verifier's path in auth.c.
 * Returns the reason (AUTH_OK when accepted). */
static enum auth_reason check_with(const char *token, const struct jwt_policy *pol, int64_t now)
{
	struct jwt t;
	enum auth_reason why;
	const struct jwk *k;

	if (jwt_parse(&t, token, &why) != 0) {
		jwt_release(&t);
		return why;
	}
	k = jwk_set_find(&keys, t.kid);
	if (k == NULL) {
		jwt_release(&t);
		return AUTH_R_UNKNOWN_KID;
	}
	if (jwt_verify(&t, k, pol, now, &why) == 0)
		CU_ASSERT_PTR_NOT_NULL(jwt_claims(&t));
	jwt_release(&t);
	return why;
}

static enum auth_reason check(const char *token)
{
	return check_with(token, &policy, NOW);
}

/* Sign `claims` (taken) with `key` as `kid` and check the result. */
static enum auth_reason check_claims(EVP_PKEY *key, const char *kid, json_object *claims)
{
	char *token = authtest_token(key, kid, claims);
	enum auth_reason r = check(token);

	free(token);
	json_object_put(claims);
	return r;
}

static void test_valid_tokens(void)
{
	CU_ASSERT_EQUAL(check_claims(rsa, "rsa1", authtest_claims(NOW, 300, NULL)), AUTH_OK);
	CU_ASSERT_EQUAL(check_claims(ec, "ec1", authtest_claims(NOW, 300, NULL)), AUTH_OK);
}

/* The standard claims, with `set` applied: pairs of a claim name and its
 * JSON value (NULL: the claim removed), signed by rsa1; the reason. */
static enum auth_reason check_claim_set(const char *const *set)
{
	json_object *c = authtest_claims(NOW, 300, NULL);

	for (; set[0] != NULL; set += 2) {
		if (set[1] == NULL)
			json_object_object_del(c, set[0]);
		else
			json_object_object_add(c, set[0], json_tokener_parse(set[1]));
	}
	return check_claims(rsa, "rsa1", c);
}

/* The standard claims under `header`, signed by `key` as the header says
 * (even when they do not belong together); the reason. */
static enum auth_reason check_header(const char *header, EVP_PKEY *key)
{
	json_object *c = authtest_claims(NOW, 300, NULL);
	char *token = authtest_token_raw(header, c, key, NULL, 0);
	enum auth_reason r = check(token);

	free(token);
	json_object_put(c);
	return r;
}

/* The claims table. NOW is 1800000000; the token's exp is NOW + 300, the
 * leeway 30 s. */
static void test_claims(void)
{
	static const struct {
		const char *what;
		const char *set[5];
		enum auth_reason want;
	} cases[] = {
		{ "exp 10 s ago, inside the leeway", { "exp", "1799999990" }, AUTH_OK },
		{ "exp 31 s ago", { "exp", "1799999969" }, AUTH_R_EXPIRED },
		{ "exp two hours ago", { "exp", "1799992800" }, AUTH_R_EXPIRED },
		{ "nbf in a minute", { "nbf", "1800000060" }, AUTH_R_NOT_YET_VALID },
		{ "nbf inside the leeway", { "nbf", "1800000020" }, AUTH_OK },
		{ "issued an hour from now", { "iat", "1800003600" }, AUTH_R_NOT_YET_VALID },
		{ "another issuer", { "iss", "\"https://evil.example/realms/platform\"" }, AUTH_R_BAD_ISSUER },
		{ "issuer with a trailing slash", { "iss", "\"" AUTHTEST_ISSUER "/\"" }, AUTH_R_BAD_ISSUER },
		{ "no issuer", { "iss", NULL }, AUTH_R_BAD_ISSUER },
		{ "another audience", { "aud", "\"other-api\"" }, AUTH_R_BAD_AUDIENCE },
		{ "aud array holding one of ours", { "aud", "[\"account\",\"infra-cli\"]" }, AUTH_OK },
		/* No aud (no audience mapper in the realm): azp decides. */
		{ "no aud, azp ours", { "aud", NULL, "azp", "\"" AUTHTEST_AUDIENCE "\"" }, AUTH_OK },
		{ "no aud, azp another", { "aud", NULL }, AUTH_R_BAD_AUDIENCE },
		{ "Keycloak's default aud, azp ours",
		  { "aud", "\"account\"", "azp", "\"" AUTHTEST_AUDIENCE "\"" }, AUTH_OK },
		{ "aud of the wrong type", { "aud", "7" }, AUTH_R_MALFORMED },
		{ "no exp", { "exp", NULL }, AUTH_R_MISSING_CLAIM },
		{ "no sub", { "sub", NULL }, AUTH_R_MISSING_CLAIM },
		{ "no jti", { "jti", NULL }, AUTH_R_MISSING_CLAIM },
		{ "exp a string", { "exp", "\"tomorrow\"" }, AUTH_R_MALFORMED },
		/* Past any calendar, or negative: malformed, never an overflow. */
		{ "exp INT64_MAX", { "exp", "9223372036854775807" }, AUTH_R_MALFORMED },
		{ "exp 1e300", { "exp", "1e300" }, AUTH_R_MALFORMED },
		{ "nbf negative", { "nbf", "-5" }, AUTH_R_MALFORMED },
		{ "exp with a fraction", { "exp", "1800000300.5" }, AUTH_OK },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum auth_reason got = check_claim_set(cases[i].set);

		if (got != cases[i].want)
			fprintf(stderr, "claims case '%s': got %s\n", cases[i].what, auth_reason_name(got));
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
}

/* The standard claims with a jti of `len` copies of 'j'; the reason. */
static enum auth_reason check_jti_len(size_t len)
{
	json_object *c = authtest_claims(NOW, 300, NULL);
	char *jti = malloc(len + 1);

	memset(jti, 'j', len);
	jti[len] = '\0';
	json_object_object_add(c, "jti", json_object_new_string(jti));
	free(jti);
	return check_claims(rsa, "rsa1", c);
}

/* Every token accepted can be logged out: a jti the revocation store
 * cannot hold (over JWT_JTI_MAX bytes, or cut short by a NUL) is refused,
 * as a malformed claim, before the token is ever accepted. */
static void test_jti_revocable(void)
{
	CU_ASSERT_EQUAL(check_jti_len(1), AUTH_OK);
	CU_ASSERT_EQUAL(check_jti_len(JWT_JTI_MAX), AUTH_OK);
	CU_ASSERT_EQUAL(check_jti_len(JWT_JTI_MAX + 1), AUTH_R_MALFORMED);
	CU_ASSERT_EQUAL(check_jti_len(5000), AUTH_R_MALFORMED);
	CU_ASSERT_EQUAL(check_jti_len(0), AUTH_R_MISSING_CLAIM);
	/* A NUL inside the jti: libjwt's JSON parser (jansson) already fails
	 * the decode, so it is refused before jwt_verify's own check. */
	CU_ASSERT_NOT_EQUAL(check_claim_set((const char *const[]){ "jti", "\"abc\\u0000def\"", NULL }),
			    AUTH_OK);
	CU_ASSERT_EQUAL(check_claim_set((const char *const[]){ "jti", "42", NULL }), AUTH_R_MALFORMED);
}

/* Replace part `which` (0..2) of a token with `replacement`. */
static char *replace_part(const char *token, int which, const char *replacement)
{
	const char *d1 = strchr(token, '.'), *d2 = strchr(d1 + 1, '.');
	size_t n = strlen(token) + strlen(replacement) + 3;
	char *out = malloc(n);

	if (which == 0)
		snprintf(out, n, "%s%s", replacement, d1);
	else if (which == 1)
		snprintf(out, n, "%.*s.%s%s", (int)(d1 - token), token, replacement, d2);
	else
		snprintf(out, n, "%.*s.%s", (int)(d2 - token), token, replacement);
	return out;
}

static void test_tampered_payload(void)
{
	json_object *c = authtest_claims(NOW, 300, "migrations:read");
	char *token = authtest_token(rsa, "rsa1", c), *forged, *enc;
	const char *escalated;

	/* Same signature, claims granting admin instead. */
	json_object_object_add(json_object_object_get(c, "realm_access"), "roles",
			       json_tokener_parse("[\"infrastructure:admin\"]"));
	escalated = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN);
	enc = base64url_encode_alloc(escalated, strlen(escalated));
	forged = replace_part(token, 1, enc);
	CU_ASSERT_EQUAL(check(token), AUTH_OK);
	CU_ASSERT_EQUAL(check(forged), AUTH_R_BAD_SIGNATURE);
	free(enc);
	free(forged);
	free(token);
	json_object_put(c);
}

static void test_tampered_signature(void)
{
	json_object *c = authtest_claims(NOW, 300, NULL);
	char *token = authtest_token(rsa, "rsa1", c), *sig = strrchr(token, '.') + 1;
	char *ectoken = authtest_token(ec, "ec1", c);

	/* Flip a bit in the middle of the signature (keeping base64url). */
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(check(token), AUTH_R_BAD_SIGNATURE);
	sig = strrchr(ectoken, '.') + 1;
	sig[5] = sig[5] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(check(ectoken), AUTH_R_BAD_SIGNATURE);
	free(token);
	free(ectoken);
	/* Signed by another key claiming our kid. */
	CU_ASSERT_EQUAL(check_claims(rsa_other, "rsa1", authtest_claims(NOW, 300, NULL)),
			AUTH_R_BAD_SIGNATURE);
	json_object_put(c);
}

static void test_alg_none(void)
{
	json_object *c = authtest_claims(NOW, 300, NULL);
	char *unsigned_token = authtest_token_raw("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"rsa1\"}",
						  c, NULL, NULL, 0);
	char *signed_token = authtest_token(rsa, "rsa1", c);
	char *none_with_sig = replace_part(signed_token, 0,
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoicnNhMSJ9");
	jwt_t *j = NULL;

	/* The trap: libjwt with no key takes alg none at its word. */
	CU_ASSERT_EQUAL(jwt_decode(&j, unsigned_token, NULL, 0), 0);
	jwt_free(j);
	CU_ASSERT_EQUAL(check(unsigned_token), AUTH_R_ALG_NOT_ALLOWED);
	CU_ASSERT_EQUAL(check(none_with_sig), AUTH_R_ALG_NOT_ALLOWED);
	free(unsigned_token);
	free(signed_token);
	free(none_with_sig);
	json_object_put(c);
	/* No alg at all, and algorithms outside the allow-list. */
	CU_ASSERT_EQUAL(check_header("{\"typ\":\"JWT\",\"kid\":\"rsa1\"}", rsa), AUTH_R_ALG_NOT_ALLOWED);
	CU_ASSERT_EQUAL(check_header("{\"alg\":\"RS512\",\"typ\":\"JWT\",\"kid\":\"rsa1\"}", rsa),
			AUTH_R_ALG_NOT_ALLOWED);
}

static void test_hs256_with_public_key(void)
{
	const struct jwk *k = jwk_set_find(&keys, "rsa1");
	json_object *c = authtest_claims(NOW, 300, "infrastructure:admin");
	char *forged = authtest_token_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"rsa1\"}", c,
					  NULL, k->pem, k->pem_len);
	jwt_t *j = NULL;
	struct jwt t;
	enum auth_reason why;

	/* The trap: libjwt accepts an HMAC keyed with the public PEM. */
	CU_ASSERT_EQUAL(jwt_decode(&j, forged, (const unsigned char *)k->pem, (int)k->pem_len), 0);
	CU_ASSERT_EQUAL(jwt_get_alg(j), JWT_ALG_HS256);
	jwt_free(j);
	/* Closed before verification: HS256 is not on the allow-list. */
	CU_ASSERT_EQUAL(check(forged), AUTH_R_ALG_NOT_ALLOWED);
	/* And closed after verification: even if our header parse were fooled
	 * into RS256 (a parser differential), libjwt's verdict is rechecked. */
	CU_ASSERT_EQUAL(jwt_parse(&t, forged, &why), -1);
	jwt_release(&t);
	memset(&t, 0, sizeof(t));
	t.token = forged;
	t.len = strlen(forged);
	t.alg = JWK_ALG_RS256;
	strcpy(t.kid, "rsa1");
	t.claims = json_object_get(c);
	CU_ASSERT_EQUAL(jwt_verify(&t, k, &policy, NOW, &why), -1);
	CU_ASSERT_EQUAL(why, AUTH_R_ALG_NOT_ALLOWED);
	CU_ASSERT_PTR_NULL(jwt_claims(&t));
	jwt_release(&t);
	free(forged);
	json_object_put(c);
}

static void test_kid(void)
{
	CU_ASSERT_EQUAL(check_claims(rsa, "no-such-kid", authtest_claims(NOW, 300, NULL)),
			AUTH_R_UNKNOWN_KID);
	/* enc1 is in the document, as an encryption key: never used to verify. */
	CU_ASSERT_EQUAL(check_claims(rsa_other, "enc1", authtest_claims(NOW, 300, NULL)),
			AUTH_R_UNKNOWN_KID);
	CU_ASSERT_EQUAL(check_header("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", rsa), AUTH_R_MISSING_KID);
	CU_ASSERT_EQUAL(check_header("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":42}", rsa),
			AUTH_R_MALFORMED);
}

static void test_alg_key_mismatch(void)
{
	/* RS256 (really signed by an RSA key) under the EC key's kid, and
	 * ES256 under the RSA key's. */
	CU_ASSERT_EQUAL(check_header("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"ec1\"}", rsa),
			AUTH_R_ALG_NOT_ALLOWED);
	CU_ASSERT_EQUAL(check_header("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"rsa1\"}", ec),
			AUTH_R_ALG_NOT_ALLOWED);
}

static void test_typ(void)
{
	static const struct {
		const char *header;
		enum auth_reason want;
	} cases[] = {
		{ "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa1\"}", AUTH_R_BAD_TYP },
		{ "{\"alg\":\"RS256\",\"typ\":7,\"kid\":\"rsa1\"}", AUTH_R_BAD_TYP },
		/* typ is optional, and compared without case (RFC 7519 §5.1). */
		{ "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", AUTH_OK },
		{ "{\"alg\":\"RS256\",\"typ\":\"jwt\",\"kid\":\"rsa1\"}", AUTH_OK },
		/* A critical extension we cannot honour. */
		{ "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"]}", AUTH_R_MALFORMED },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CU_ASSERT_EQUAL(check_header(cases[i].header, rsa), cases[i].want);
}

static void test_malformed(void)
{
	json_object *c = authtest_claims(NOW, 300, NULL);
	char *good = authtest_token(rsa, "rsa1", c), *bad;
	static const char *const shapes[] = {
		"", ".", "..", "abc", "a.b", "a.b.c.d", "!!!.e30.c2ln",
		"eyJhbGciOiJSUzI1NiJ9..c2ln",
	};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		CU_ASSERT_EQUAL(check(shapes[i]), AUTH_R_MALFORMED);
	/* Padding, and a character outside the alphabet, in the header. */
	bad = replace_part(good, 0, "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEifQ==");
	CU_ASSERT_EQUAL(check(bad), AUTH_R_MALFORMED);
	free(bad);
	bad = replace_part(good, 0, "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEif+");
	CU_ASSERT_EQUAL(check(bad), AUTH_R_MALFORMED);
	free(bad);
	/* Header not JSON ("not json"), a JSON array, trailing garbage. */
	bad = replace_part(good, 0, "bm90IGpzb24");
	CU_ASSERT_EQUAL(check(bad), AUTH_R_MALFORMED);
	free(bad);
	bad = replace_part(good, 0, "WyJSUzI1NiJd");
	CU_ASSERT_EQUAL(check(bad), AUTH_R_MALFORMED);
	free(bad);
	bad = replace_part(good, 0, "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEifXg");	/* {...}x */
	CU_ASSERT_EQUAL(check(bad), AUTH_R_MALFORMED);
	free(bad);
	/* Payload not JSON; signature not base64url; no signature. */
	bad = replace_part(good, 1, "bm90IGpzb24");
	CU_ASSERT_EQUAL(check(bad), AUTH_R_MALFORMED);
	free(bad);
	bad = replace_part(good, 2, "c2ln*");
	CU_ASSERT_EQUAL(check(bad), AUTH_R_MALFORMED);
	free(bad);
	bad = replace_part(good, 2, "");
	CU_ASSERT_EQUAL(check(bad), AUTH_R_MALFORMED);
	free(bad);
	free(good);
	json_object_put(c);
}

static void test_huge_token(void)
{
	json_object *c = authtest_claims(NOW, 300, NULL);
	char *pad = malloc(JWT_MAX_TOKEN), *token;

	memset(pad, 'x', JWT_MAX_TOKEN - 1);
	pad[JWT_MAX_TOKEN - 1] = '\0';
	json_object_object_add(c, "padding", json_object_new_string(pad));
	token = authtest_token(rsa, "rsa1", c);
	CU_ASSERT(strlen(token) > JWT_MAX_TOKEN);
	CU_ASSERT_EQUAL(check(token), AUTH_R_TOO_LARGE);
	/* Refused by length alone: a huge string of garbage too. */
	free(token);
	token = malloc(2 * JWT_MAX_TOKEN);
	memset(token, 'A', 2 * JWT_MAX_TOKEN - 1);
	token[2 * JWT_MAX_TOKEN - 1] = '\0';
	CU_ASSERT_EQUAL(check(token), AUTH_R_TOO_LARGE);
	free(token);
	free(pad);
	json_object_put(c);
}

static void test_max_lifetime(void)
{
	struct jwt_policy glass = policy;
	json_object *c;
	char *token;

	glass.max_lifetime_s = 900;
	c = authtest_claims(NOW, 900, NULL);
	token = authtest_token(rsa, "rsa1", c);
	CU_ASSERT_EQUAL(check_with(token, &glass, NOW), AUTH_OK);
	free(token);
	json_object_put(c);
	c = authtest_claims(NOW, 901, NULL);
	token = authtest_token(rsa, "rsa1", c);
	CU_ASSERT_EQUAL(check_with(token, &glass, NOW), AUTH_R_LIFETIME_TOO_LONG);
	free(token);
	json_object_object_del(c, "iat");
	token = authtest_token(rsa, "rsa1", c);
	CU_ASSERT_EQUAL(check_with(token, &glass, NOW), AUTH_R_MISSING_CLAIM);
	free(token);
	json_object_put(c);
}

static void test_unverified_issuer(void)
{
	json_object *c = authtest_claims(NOW, 300, NULL);
	char *token = authtest_token(rsa, "rsa1", c);
	struct jwt t;
	enum auth_reason why;

	CU_ASSERT_EQUAL(jwt_parse(&t, token, &why), 0);
	CU_ASSERT_STRING_EQUAL(jwt_unverified_issuer(&t), AUTHTEST_ISSUER);
	CU_ASSERT_PTR_NULL(jwt_claims(&t));	/* nothing trusted yet */
	jwt_release(&t);
	free(token);
	json_object_put(c);
}

static void test_reason_names(void)
{
	CU_ASSERT_STRING_EQUAL(auth_reason_name(AUTH_R_EXPIRED), "expired");
	CU_ASSERT_STRING_EQUAL(auth_reason_name(AUTH_R_ALG_NOT_ALLOWED), "alg_not_allowed");
	CU_ASSERT_STRING_EQUAL(auth_reason_name((enum auth_reason)999), "unknown");
	for (int r = 0; r < AUTH_REASON_COUNT; r++)
		CU_ASSERT_STRING_NOT_EQUAL(auth_reason_name((enum auth_reason)r), "unknown");
}

static CU_TestInfo tests[] = {
	{ "a valid RS256 and ES256 token", test_valid_tokens },
	{ "claims: exp, nbf, iat, iss, aud/azp, sub, jti", test_claims },
	{ "a jti that cannot be revoked is refused", test_jti_revocable },
	{ "tampered payload", test_tampered_payload },
	{ "tampered signature, foreign key", test_tampered_signature },
	{ "alg none, absent, outside the list", test_alg_none },
	{ "HS256 keyed with the public PEM", test_hs256_with_public_key },
	{ "unknown kid, enc key, missing kid", test_kid },
	{ "RS256 for an EC key and the reverse", test_alg_key_mismatch },
	{ "typ and crit", test_typ },
	{ "malformed shapes and encodings", test_malformed },
	{ "huge token", test_huge_token },
	{ "break-glass lifetime", test_max_lifetime },
	{ "unverified issuer is only a hint", test_unverified_issuer },
	{ "reason names", test_reason_names },
	CU_TEST_INFO_NULL,
};

static int run(void)
{
	int rc;

	if (suite_init() != 0) {
		fprintf(stderr, "test_jwt_verify: cannot build the key set\n");
		return 2;
	}
	rc = unit_run("jwt_verify", tests);
	jwk_set_release(&keys);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_other);
	EVP_PKEY_free(ec);
	return rc;
}

int main(void)
{
	return run();
}
