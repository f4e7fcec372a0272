/* jwt_verify.c — header checks, libjwt signature verification and claim
 * checks for bearer JWTs (see jwt_verify.h and docs/SECURITY.md).
 *
 * libjwt verifies the signature because it is the verifier the design
 * names; everything libjwt 1.10.2 gets wrong or skips is done here, around
 * it, and each step is exercised by tests/unit/test_jwt_verify.c. */
#include <jwt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64url.h"
#include "json_strict.h"
#include "jwt_verify.h"

static int refuse(enum auth_reason *why, enum auth_reason reason)
{
	*why = reason;
	return -1;
}

/* Decode one base64url part into a JSON object, or NULL. */
static json_object *decode_object(const char *part, size_t len)
{
	size_t n;
	unsigned char *bytes = base64url_decode_alloc(part, len, &n);
	json_object *o;

	if (bytes == NULL)
		return NULL;
	o = json_strict_parse_object((const char *)bytes, n);
	free(bytes);
	return o;
}

static const char *member_string(json_object *o, const char *name, bool *present)
{
	json_object *v;

	*present = json_object_object_get_ex(o, name, &v);
	if (!*present || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Check the header before anything is verified. */
static int check_header(struct jwt *t, json_object *h, enum auth_reason *why)
{
	const char *alg, *typ, *kid;
	bool present;

	alg = member_string(h, "alg", &present);
	t->alg = jwk_alg_parse(alg);
	if (t->alg == JWK_ALG_NONE)	/* absent, "none", HS256, RS512, … */
		return refuse(why, AUTH_R_ALG_NOT_ALLOWED);
	typ = member_string(h, "typ", &present);
	if (present && (typ == NULL || strcasecmp(typ, "JWT") != 0))
		return refuse(why, AUTH_R_BAD_TYP);
	/* An extension we would have to understand: we understand none. */
	if (json_object_object_get_ex(h, "crit", NULL))
		return refuse(why, AUTH_R_MALFORMED);
	kid = member_string(h, "kid", &present);
	if (!present)
		return refuse(why, AUTH_R_MISSING_KID);
	if (kid == NULL || kid[0] == '\0' || strlen(kid) >= sizeof(t->kid))
		return refuse(why, AUTH_R_MALFORMED);
	strcpy(t->kid, kid);
	/* jku, x5u, jwk, x5c: keys named or carried by the token itself are
	 * never used; only our JWKS decides. */
	return 0;
}

int jwt_parse(struct jwt *t, const char *token, enum auth_reason *why)
{
	const char *dot1, *dot2;
	unsigned char sig[1024];
	size_t siglen;
	json_object *header;
	int rc;

	memset(t, 0, sizeof(*t));
	*why = AUTH_OK;
	t->token = token;
	t->len = strnlen(token, JWT_MAX_TOKEN + 1);
	if (t->len > JWT_MAX_TOKEN)
		return refuse(why, AUTH_R_TOO_LARGE);
	dot1 = memchr(token, '.', t->len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(token + t->len - dot1 - 1)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(token + t->len - dot2 - 1)) != NULL ||
	    dot1 == token || dot2 == dot1 + 1)
		return refuse(why, AUTH_R_MALFORMED);
	header = decode_object(token, (size_t)(dot1 - token));
	if (header == NULL)
		return refuse(why, AUTH_R_MALFORMED);
	rc = check_header(t, header, why);
	json_object_put(header);
	if (rc != 0)
		return rc;
	siglen = (size_t)(token + t->len - dot2 - 1);
	if (siglen == 0 || siglen > BASE64URL_ENCODED_SIZE(512) - 1 ||
	    base64url_decode(sig, dot2 + 1, siglen) < 0)
		return refuse(why, AUTH_R_MALFORMED);
	t->claims = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (t->claims == NULL)
		return refuse(why, AUTH_R_MALFORMED);
	return 0;
}

const char *jwt_unverified_issuer(const struct jwt *t)
{
	bool present;

	return t->claims ? member_string(t->claims, "iss", &present) : NULL;
}

/* Latest NumericDate accepted (9999-12-31T23:59:59Z): anything beyond is
 * malformed, and time arithmetic can never overflow. */
#define JWT_MAX_TIME INT64_C(253402300799)

/* The time claim `name`: 1 and *out when present, 0 when absent, -1 when
 * present but not a number of seconds in 0..JWT_MAX_TIME. */
static int time_claim(json_object *claims, const char *name, int64_t *out)
{
	json_object *v;
	double d;

	if (!json_object_object_get_ex(claims, name, &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		if (!(d >= 0 && d <= (double)JWT_MAX_TIME))
			return -1;
		*out = (int64_t)d;
	} else {
		return -1;
	}
	return *out >= 0 && *out <= JWT_MAX_TIME ? 1 : -1;
}

static bool audience_ok(const struct jwt_policy *pol, const char *aud)
{
	for (size_t i = 0; aud != NULL && i < pol->naudiences; i++)
		if (strcmp(pol->audiences[i], aud) == 0)
			return true;
	return false;
}

/* aud (a string or an array of strings) or azp among the audiences.
 * Keycloak adds aud only through an audience mapper, so azp (the client
 * the token was issued to) is accepted as well. */
static int check_audience(json_object *claims, const struct jwt_policy *pol, enum auth_reason *why)
{
	json_object *aud;
	const char *azp;
	bool present;

	if (json_object_object_get_ex(claims, "aud", &aud)) {
		if (json_object_is_type(aud, json_type_string)) {
			if (audience_ok(pol, json_object_get_string(aud)))
				return 0;
		} else if (json_object_is_type(aud, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(aud); i++) {
				json_object *a = json_object_array_get_idx(aud, i);

				if (!json_object_is_type(a, json_type_string))
					return refuse(why, AUTH_R_MALFORMED);
				if (audience_ok(pol, json_object_get_string(a)))
					return 0;
			}
		} else {
			return refuse(why, AUTH_R_MALFORMED);
		}
	}
	azp = member_string(claims, "azp", &present);
	if (present && azp == NULL)
		return refuse(why, AUTH_R_MALFORMED);
	return audience_ok(pol, azp) ? 0 : refuse(why, AUTH_R_BAD_AUDIENCE);
}

static int check_times(json_object *claims, const struct jwt_policy *pol, int64_t now,
		       enum auth_reason *why)
{
	int64_t exp = 0, nbf = 0, iat = 0;
	int has_exp = time_claim(claims, "exp", &exp);
	int has_nbf = time_claim(claims, "nbf", &nbf);
	int has_iat = time_claim(claims, "iat", &iat);

	if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
		return refuse(why, AUTH_R_MALFORMED);
	if (has_exp == 0)
		return refuse(why, AUTH_R_MISSING_CLAIM);
	if (now >= exp + pol->leeway_s)
		return refuse(why, AUTH_R_EXPIRED);
	if ((has_nbf && nbf > now + pol->leeway_s) || (has_iat && iat > now + pol->leeway_s))
		return refuse(why, AUTH_R_NOT_YET_VALID);
	if (pol->max_lifetime_s > 0) {
		if (!has_iat)
			return refuse(why, AUTH_R_MISSING_CLAIM);
		if (exp - iat > pol->max_lifetime_s)
			return refuse(why, AUTH_R_LIFETIME_TOO_LONG);
	}
	return 0;
}

/* The jti as *jti (NULL when absent). A jti the revocation store could
 * not hold (longer than JWT_JTI_MAX, or cut short by a NUL, so that two
 * tokens would share one revocation) is malformed: a token that could
 * not be logged out is never accepted. (libjwt 1.10.2's parser refuses a
 * NUL already; the check does not rely on it.) */
static int check_jti(json_object *claims, const char **jti, enum auth_reason *why)
{
	json_object *v;
	int len;

	*jti = NULL;
	if (!json_object_object_get_ex(claims, "jti", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return refuse(why, AUTH_R_MALFORMED);
	len = json_object_get_string_len(v);
	*jti = json_object_get_string(v);
	if (len > JWT_JTI_MAX || strlen(*jti) != (size_t)len)
		return refuse(why, AUTH_R_MALFORMED);
	return 0;
}

static int check_claims(json_object *claims, const struct jwt_policy *pol, int64_t now,
			enum auth_reason *why)
{
	const char *iss, *sub, *jti;
	bool present;

	if (check_times(claims, pol, now, why) != 0)
		return -1;
	iss = member_string(claims, "iss", &present);
	if (iss == NULL || pol->issuer == NULL || strcmp(iss, pol->issuer) != 0)
		return refuse(why, AUTH_R_BAD_ISSUER);
	if (check_audience(claims, pol, why) != 0)
		return -1;
	sub = member_string(claims, "sub", &present);
	if (present && sub == NULL)
		return refuse(why, AUTH_R_MALFORMED);
	if (check_jti(claims, &jti, why) != 0)
		return -1;
	if (sub == NULL || sub[0] == '\0' || jti == NULL || jti[0] == '\0')
		return refuse(why, AUTH_R_MISSING_CLAIM);
	return 0;
}

static jwt_alg_t libjwt_alg(enum jwk_alg alg)
{
	return alg == JWK_ALG_RS256 ? JWT_ALG_RS256 : JWT_ALG_ES256;
}

int jwt_verify(struct jwt *t, const struct jwk *key, const struct jwt_policy *pol,
	       int64_t now, enum auth_reason *why)
{
	jwt_t *decoded = NULL;
	jwt_alg_t seen;

	*why = AUTH_OK;
	t->verified = false;
	if (t->claims == NULL || t->alg == JWK_ALG_NONE)
		return refuse(why, AUTH_R_MALFORMED);
	/* The key decides the algorithm, never the token: an RS256 token for
	 * an EC key (or the reverse) is refused before libjwt sees it. */
	if (key == NULL || key->alg != t->alg)
		return refuse(why, AUTH_R_ALG_NOT_ALLOWED);
	if (jwt_decode(&decoded, t->token, (const unsigned char *)key->pem, (int)key->pem_len) != 0)
		return refuse(why, AUTH_R_BAD_SIGNATURE);
	/* libjwt 1.10.2 verifies with whatever alg its own parse of the
	 * header says, HS256 keyed with our public PEM included: insist that
	 * it verified with the key's algorithm. */
	seen = jwt_get_alg(decoded);
	jwt_free(decoded);
	if (seen != libjwt_alg(key->alg))
		return refuse(why, AUTH_R_ALG_NOT_ALLOWED);
	if (check_claims(t->claims, pol, now, why) != 0)
		return -1;
	t->verified = true;
	return 0;
}

json_object *jwt_claims(const struct jwt *t)
{
	return t->verified ? t->claims : NULL;
}

void jwt_release(struct jwt *t)
{
	json_object_put(t->claims);
	t->claims = NULL;
	t->verified = false;
}
