/* jwk.c — JWK ⇄ EVP_PKEY for RS256 and ES256 with OpenSSL 3's
 * OSSL_PARAM/EVP_PKEY_fromdata, PEM for libjwt, and key sets (see jwk.h). */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64url.h"
#include "jwk.h"
#include "json_strict.h"

#define P256_COORD 32		/* bytes of one P-256 coordinate */

const char *jwk_alg_name(enum jwk_alg alg)
{
	switch (alg) {
	case JWK_ALG_RS256: return "RS256";
	case JWK_ALG_ES256: return "ES256";
	case JWK_ALG_NONE:  break;
	}
	return "none";
}

enum jwk_alg jwk_alg_parse(const char *name)
{
	if (name == NULL)
		return JWK_ALG_NONE;
	if (strcmp(name, "RS256") == 0)
		return JWK_ALG_RS256;
	if (strcmp(name, "ES256") == 0)
		return JWK_ALG_ES256;
	return JWK_ALG_NONE;
}

enum jwk_alg jwk_alg_of_key(const EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;

	if (pkey == NULL)
		return JWK_ALG_NONE;
	if (EVP_PKEY_is_a(pkey, "RSA"))
		return EVP_PKEY_get_bits(pkey) >= JWK_RSA_MIN_BITS ? JWK_ALG_RS256 : JWK_ALG_NONE;
	if (EVP_PKEY_is_a(pkey, "EC") &&
	    EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0))
		return JWK_ALG_ES256;
	return JWK_ALG_NONE;
}

/* The SubjectPublicKeyInfo PEM of `pkey`, malloc'ed, or NULL. */
static char *public_pem(const EVP_PKEY *pkey, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long n;

	if (bio == NULL)
		return NULL;
	if (PEM_write_bio_PUBKEY(bio, pkey) == 1) {
		n = BIO_get_mem_data(bio, &data);
		pem = n > 0 ? malloc((size_t)n + 1) : NULL;
		if (pem != NULL) {
			memcpy(pem, data, (size_t)n);
			pem[n] = '\0';
			*len = (size_t)n;
		}
	}
	BIO_free(bio);
	return pem;
}

/* Take ownership of `pkey` into `k` and derive its PEM. */
static int jwk_adopt(struct jwk *k, const char *kid, EVP_PKEY *pkey, struct infra_error *err)
{
	memset(k, 0, sizeof(*k));
	k->alg = jwk_alg_of_key(pkey);
	if (k->alg == JWK_ALG_NONE) {
		EVP_PKEY_free(pkey);
		return infra_fail(err, INFRA_EINVAL,
				  "key is neither RSA of at least %d bits nor EC P-256",
				  JWK_RSA_MIN_BITS);
	}
	k->pkey = pkey;
	k->pem = public_pem(pkey, &k->pem_len);
	if (k->pem == NULL) {
		jwk_release(k);
		return infra_fail(err, INFRA_EINTERNAL, "cannot encode the public key as PEM");
	}
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	return 0;
}

void jwk_release(struct jwk *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->pem);
	memset(k, 0, sizeof(*k));
}

/* The string member `name` of `obj`, or NULL when absent or not a string. */
static const char *member_string(json_object *obj, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Decode the base64url member `name` into a malloc'ed buffer. */
static unsigned char *member_bytes(json_object *obj, const char *name, size_t *len)
{
	const char *s = member_string(obj, name);

	if (s == NULL || s[0] == '\0')
		return NULL;
	return base64url_decode_alloc(s, strlen(s), len);
}

/* Build a public key of `type` ("RSA" or "EC") from `params`. */
static EVP_PKEY *key_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY_CTX *check = NULL;
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	/* fromdata does not promise to validate: check the point is on the
	 * curve, the RSA modulus and exponent are sane. */
	check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (check == NULL || EVP_PKEY_public_check(check) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_from_json(json_object *obj, struct infra_error *err)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	n = member_bytes(obj, "n", &nlen);
	e = member_bytes(obj, "e", &elen);
	if (n == NULL || e == NULL) {
		infra_fail(err, INFRA_EMALFORMED, "RSA key without valid base64url n and e");
		goto out;
	}
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn_n == NULL || bn_e == NULL || bld == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1) {
		infra_fail(err, INFRA_EINTERNAL, "out of memory building an RSA key");
		goto out;
	}
	pkey = key_from_params("RSA", bld);
	if (pkey == NULL)
		infra_fail(err, INFRA_EMALFORMED, "RSA key with an invalid modulus or exponent");
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(n);
	free(e);
	return pkey;
}

static EVP_PKEY *ec_from_json(json_object *obj, struct infra_error *err)
{
	unsigned char *x = NULL, *y = NULL, point[1 + 2 * P256_COORD];
	size_t xlen = 0, ylen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	x = member_bytes(obj, "x", &xlen);
	y = member_bytes(obj, "y", &ylen);
	if (x == NULL || y == NULL || xlen != P256_COORD || ylen != P256_COORD) {
		infra_fail(err, INFRA_EMALFORMED, "P-256 key without 32-byte base64url x and y");
		goto out;
	}
	point[0] = 0x04;	/* uncompressed */
	memcpy(point + 1, x, P256_COORD);
	memcpy(point + 1 + P256_COORD, y, P256_COORD);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1) {
		infra_fail(err, INFRA_EINTERNAL, "out of memory building an EC key");
		goto out;
	}
	pkey = key_from_params("EC", bld);
	if (pkey == NULL)
		infra_fail(err, INFRA_EMALFORMED, "P-256 key whose point is not on the curve");
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

/* Whether a key_ops member, if present, allows verification. */
static bool key_ops_allow_verify(json_object *obj)
{
	json_object *ops;

	if (!json_object_object_get_ex(obj, "key_ops", &ops))
		return true;
	if (!json_object_is_type(ops, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(ops); i++) {
		const char *op = json_object_get_string(json_object_array_get_idx(ops, i));

		if (op != NULL && strcmp(op, "verify") == 0)
			return true;
	}
	return false;
}

int jwk_from_json(struct jwk *k, json_object *obj, struct infra_error *err)
{
	const char *kty, *kid, *use, *alg, *crv;
	enum jwk_alg want;
	EVP_PKEY *pkey;

	memset(k, 0, sizeof(*k));
	if (!json_object_is_type(obj, json_type_object))
		return infra_fail(err, INFRA_EMALFORMED, "a key is not a JSON object");
	kty = member_string(obj, "kty");
	kid = member_string(obj, "kid");
	use = member_string(obj, "use");
	alg = member_string(obj, "alg");
	crv = member_string(obj, "crv");
	if (kty == NULL)
		return infra_fail(err, INFRA_EMALFORMED, "a key has no kty");
	if (kid == NULL || kid[0] == '\0' || strlen(kid) >= JWK_KID_MAX)
		return infra_fail(err, INFRA_EMALFORMED, "a key has no kid, or one too long");
	/* Encryption keys (Keycloak publishes an RSA-OAEP one beside the
	 * signing key) must never verify a signature. */
	if ((use != NULL && strcmp(use, "sig") != 0) || !key_ops_allow_verify(obj))
		return 1;
	if (strcmp(kty, "RSA") == 0)
		want = JWK_ALG_RS256;
	else if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0)
		want = JWK_ALG_ES256;
	else
		return 1;
	if (alg != NULL && jwk_alg_parse(alg) != want)
		return 1;
	pkey = want == JWK_ALG_RS256 ? rsa_from_json(obj, err) : ec_from_json(obj, err);
	if (pkey == NULL)
		return -1;
	if (jwk_alg_of_key(pkey) != want) {	/* e.g. a 1024-bit RSA key */
		EVP_PKEY_free(pkey);
		return 1;
	}
	return jwk_adopt(k, kid, pkey, err);
}

/* A passphrase callback that refuses: an encrypted key is an error, never
 * a prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *pkey_from_pem(const char *pem, size_t len, bool want_private)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = NULL;

	if (bio == NULL)
		return NULL;
	if (!want_private)
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL) {
		BIO_free(bio);
		bio = BIO_new_mem_buf(pem, (int)len);
		if (bio != NULL)
			pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	}
	BIO_free(bio);
	return pkey;
}

int jwk_from_pem(struct jwk *k, const char *kid, const char *pem, size_t len,
		 struct infra_error *err)
{
	EVP_PKEY *pkey = pkey_from_pem(pem, len, false);

	memset(k, 0, sizeof(*k));
	if (pkey == NULL)
		return infra_fail(err, INFRA_EINVAL, "no PEM public or private key found");
	if (strlen(kid) >= JWK_KID_MAX) {
		EVP_PKEY_free(pkey);
		return infra_fail(err, INFRA_EINVAL, "kid too long");
	}
	return jwk_adopt(k, kid, pkey, err);
}

/* Read the PEM file at `path` into `buf` (of `size` bytes). Returns the
 * length, or 0 with err filled. */
static size_t read_pem(const char *path, char *buf, size_t size, struct infra_error *err)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		infra_fail(err, INFRA_EINVAL, "key file '%s' cannot be read: %s", path, strerror(errno));
		return 0;
	}
	n = fread(buf, 1, size, f);
	fclose(f);
	if (n == 0 || n == size) {
		OPENSSL_cleanse(buf, size);
		infra_fail(err, INFRA_EINVAL, "key file '%s' is empty or too large", path);
		return 0;
	}
	return n;
}

EVP_PKEY *jwk_read_pem_file(const char *path, bool want_private, struct infra_error *err)
{
	char buf[16384];
	size_t n = read_pem(path, buf, sizeof(buf), err);
	EVP_PKEY *pkey;

	if (n == 0)
		return NULL;
	pkey = pkey_from_pem(buf, n, want_private);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (pkey == NULL)
		infra_fail(err, INFRA_EINVAL, "key file '%s' holds no %s PEM key", path,
			   want_private ? "unencrypted private" : "public");
	return pkey;
}

int jwk_from_pem_file(struct jwk *k, const char *kid, const char *path, struct infra_error *err)
{
	char buf[16384];
	size_t n = read_pem(path, buf, sizeof(buf), err);
	int rc;

	memset(k, 0, sizeof(*k));
	if (n == 0)
		return -1;
	rc = jwk_from_pem(k, kid, buf, n, err);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != 0)
		infra_fail(err, INFRA_EINVAL, "key file '%s' holds no RSA (>= %d bits) or P-256 key",
			   path, JWK_RSA_MIN_BITS);
	return rc;
}

/* Add member `name` = base64url of `bn`, left-padded to `width` bytes
 * (0: minimal). Returns 0 or -1. */
static int add_bn(json_object *o, const char *name, const BIGNUM *bn, int width)
{
	int len = width > 0 ? width : BN_num_bytes(bn);
	unsigned char *bytes = malloc((size_t)len > 0 ? (size_t)len : 1);
	char *enc;

	if (bytes == NULL || BN_bn2binpad(bn, bytes, len) != len) {
		free(bytes);
		return -1;
	}
	enc = base64url_encode_alloc(bytes, (size_t)len);
	free(bytes);
	if (enc == NULL)
		return -1;
	json_object_object_add(o, name, json_object_new_string(enc));
	free(enc);
	return 0;
}

json_object *jwk_to_json(const EVP_PKEY *pkey, const char *kid)
{
	enum jwk_alg alg = jwk_alg_of_key(pkey);
	BIGNUM *a = NULL, *b = NULL;
	json_object *o;
	int rc = -1;

	if (alg == JWK_ALG_NONE)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "kty", json_object_new_string(alg == JWK_ALG_RS256 ? "RSA" : "EC"));
	json_object_object_add(o, "use", json_object_new_string("sig"));
	json_object_object_add(o, "alg", json_object_new_string(jwk_alg_name(alg)));
	json_object_object_add(o, "kid", json_object_new_string(kid));
	if (alg == JWK_ALG_RS256) {
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) == 1 &&
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b) == 1)
			rc = add_bn(o, "n", a, 0) | add_bn(o, "e", b, 0);
	} else {
		json_object_object_add(o, "crv", json_object_new_string("P-256"));
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) == 1 &&
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) == 1)
			rc = add_bn(o, "x", a, P256_COORD) | add_bn(o, "y", b, P256_COORD);
	}
	BN_free(a);
	BN_free(b);
	if (rc != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

void jwk_set_init(struct jwk_set *s)
{
	s->keys = NULL;
	s->n = 0;
}

void jwk_set_release(struct jwk_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		jwk_release(&s->keys[i]);
	free(s->keys);
	jwk_set_init(s);
}

void jwk_set_move(struct jwk_set *to, struct jwk_set *from)
{
	jwk_set_release(to);
	*to = *from;
	jwk_set_init(from);
}

const struct jwk *jwk_set_find(const struct jwk_set *s, const char *kid)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->keys[i].kid, kid) == 0)
			return &s->keys[i];
	return NULL;
}

int jwk_set_parse(struct jwk_set *s, const char *json, size_t len, struct infra_error *err)
{
	json_object *doc = json_strict_parse_object(json, len), *keys;
	size_t count;
	int rc = -1;

	jwk_set_init(s);
	if (doc == NULL)
		return infra_fail(err, INFRA_EMALFORMED, "JWKS is not a JSON object");
	if (!json_object_object_get_ex(doc, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		infra_fail(err, INFRA_EMALFORMED, "JWKS has no \"keys\" array");
		goto out;
	}
	count = json_object_array_length(keys);
	s->keys = calloc(count ? count : 1, sizeof(*s->keys));
	if (s->keys == NULL) {
		infra_fail(err, INFRA_EINTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		struct jwk k;
		int r = jwk_from_json(&k, json_object_array_get_idx(keys, i), err);

		if (r < 0)
			goto out;
		if (r > 0)
			continue;
		if (jwk_set_find(s, k.kid) != NULL) {
			jwk_release(&k);
			infra_fail(err, INFRA_EMALFORMED, "JWKS has two keys with one kid");
			goto out;
		}
		s->keys[s->n++] = k;
	}
	rc = 0;
out:
	if (rc != 0)
		jwk_set_release(s);
	json_object_put(doc);
	return rc;
}
