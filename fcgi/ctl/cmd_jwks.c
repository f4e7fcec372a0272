/* cmd_jwks.c — `infractl jwks --key PEM --kid KID`: print the JWKS (one
 * public signature key) that trusts tokens signed by that key, as the local
 * stack's development issuer and break-glass setups need. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "jwk.h"

static const char jwks_usage[] =
	"usage: infractl jwks --key KEY_PEM --kid KID\n"
	"\n"
	"print {\"keys\":[…]} with the public JWK (use sig, alg, kid, n/e or crv/x/y)\n"
	"of KEY_PEM, a private or public RSA (>= 2048 bits, RS256) or P-256 (ES256) key\n";

int cmd_jwks(int argc, char **argv)
{
	const char *key_path = NULL, *kid = NULL;
	struct infra_error err;
	EVP_PKEY *pkey;
	json_object *doc, *keys, *jwk;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(jwks_usage, stdout);
			return CTL_OK;
		} else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			key_path = argv[++i];
		} else if (strcmp(argv[i], "--kid") == 0 && i + 1 < argc) {
			kid = argv[++i];
		} else {
			fputs(jwks_usage, stderr);
			return CTL_USAGE;
		}
	}
	if (key_path == NULL || kid == NULL || kid[0] == '\0' || strlen(kid) >= JWK_KID_MAX) {
		fputs(jwks_usage, stderr);
		return CTL_USAGE;
	}
	pkey = jwk_read_pem_file(key_path, false, &err);
	if (pkey == NULL) {
		fprintf(stderr, "infractl jwks: %s\n", err.message);
		return CTL_FAILED;
	}
	jwk = jwk_to_json(pkey, kid);
	EVP_PKEY_free(pkey);
	if (jwk == NULL) {
		fprintf(stderr, "infractl jwks: key '%s' is neither RSA of at least %d bits nor EC P-256\n",
			key_path, JWK_RSA_MIN_BITS);
		return CTL_FAILED;
	}
	doc = json_object_new_object();
	keys = json_object_new_array();
	json_object_array_add(keys, jwk);
	json_object_object_add(doc, "keys", keys);
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	return CTL_OK;
}
