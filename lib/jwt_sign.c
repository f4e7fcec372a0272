/* jwt_sign.c — compact JWS signing with OpenSSL EVP for RS256 and ES256
 * (see jwt_sign.h). */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "jwk.h"
#include "jwt_sign.h"
#include "strbuf.h"

int jwt_ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char out[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int rc = -1;

	if (sig == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32)
		rc = 0;
	ECDSA_SIG_free(sig);
	return rc;
}

/* Append "." and the base64url of `len` bytes to `sb`. */
static void add_part(struct strbuf *sb, const void *data, size_t len, int dot)
{
	char *enc = base64url_encode_alloc(data, len);

	if (dot)
		strbuf_addch(sb, '.');
	strbuf_addstr(sb, enc ? enc : "");
	free(enc);
}

char *jwt_sign_with_header(EVP_PKEY *key, json_object *header, json_object *claims,
			   struct infra_error *err)
{
	json_object *alg_obj;
	enum jwk_alg alg = JWK_ALG_NONE;
	const char *h, *c;
	struct strbuf sb = STRBUF_INIT;
	EVP_MD_CTX *md = NULL;
	unsigned char *sig = NULL, raw[64];
	size_t siglen = 0;

	if (json_object_object_get_ex(header, "alg", &alg_obj))
		alg = jwk_alg_parse(json_object_get_string(alg_obj));
	if (alg == JWK_ALG_NONE || alg != jwk_alg_of_key(key)) {
		infra_fail(err, INFRA_EINVAL, "the key signs neither RS256 nor ES256 as the header says");
		return NULL;
	}
	h = json_object_to_json_string_ext(header, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	add_part(&sb, h, strlen(h), 0);
	c = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	add_part(&sb, c, strlen(c), 1);

	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)sb.buf, sb.len) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)sb.buf, sb.len) != 1)
		goto fail;
	if (alg == JWK_ALG_ES256) {
		if (jwt_ecdsa_der_to_raw(sig, siglen, raw) != 0)
			goto fail;
		add_part(&sb, raw, sizeof(raw), 1);
	} else {
		add_part(&sb, sig, siglen, 1);
	}
	free(sig);
	EVP_MD_CTX_free(md);
	return strbuf_detach(&sb, NULL);
fail:
	free(sig);
	EVP_MD_CTX_free(md);
	strbuf_release(&sb);
	infra_fail(err, INFRA_EINTERNAL, "signing failed (is it a private key?)");
	return NULL;
}

char *jwt_sign(EVP_PKEY *key, const char *kid, json_object *claims, struct infra_error *err)
{
	enum jwk_alg alg = jwk_alg_of_key(key);
	json_object *header;
	char *token;

	if (alg == JWK_ALG_NONE) {
		infra_fail(err, INFRA_EINVAL, "key is neither RSA of at least %d bits nor EC P-256",
			   JWK_RSA_MIN_BITS);
		return NULL;
	}
	header = json_object_new_object();
	json_object_object_add(header, "alg", json_object_new_string(jwk_alg_name(alg)));
	json_object_object_add(header, "typ", json_object_new_string("JWT"));
	json_object_object_add(header, "kid", json_object_new_string(kid));
	token = jwt_sign_with_header(key, header, claims, err);
	json_object_put(header);
	return token;
}
