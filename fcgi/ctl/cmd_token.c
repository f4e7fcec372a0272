/* cmd_token.c — `infractl token`: mint a Keycloak-shaped access token
 * (RS256 for an RSA key, ES256 for a P-256 key) for development issuers,
 * tests and break-glass access. The token is printed on stdout only. */
#include <errno.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "jwk.h"
#include "jwt_sign.h"
#include "timeutil.h"

static const char token_usage[] =
	"usage: infractl token --key PRIVATE_KEY_PEM --kid KID --iss ISSUER\n"
	"                      [--aud A]... [--azp AZP] [--sub S] [--username U] [--email E]\n"
	"                      [--perm P]... [--role R]... [--client-role CLIENT:ROLE]...\n"
	"                      [--tenant T] [--group G]... [--ttl SECONDS] [--nbf-offset S]\n"
	"                      [--jti J] [--count N]\n"
	"\n"
	"print a signed access token shaped like Keycloak's: typ JWT and kid in the\n"
	"header; exp, iat, jti, iss, aud, azp, sub, typ \"Bearer\", realm_access,\n"
	"resource_access, preferred_username, email, scope, groups, tenant claims.\n"
	"--perm and --role both become realm roles (a role named like a permission\n"
	"grants it). --ttl defaults to 3600 and may be negative (an expired token);\n"
	"--nbf-offset adds nbf = now + S. azp defaults to the first --aud.\n"
	"--count prints N tokens, one per line, each with its own jti (for load\n"
	"tests that need every request to bring a new token).\n";

#define TOKEN_MAX_LIST 64

struct token_options {
	const char *key_path, *kid, *iss, *azp, *sub, *username, *email, *tenant, *jti;
	const char *aud[TOKEN_MAX_LIST], *realm_roles[TOKEN_MAX_LIST];
	const char *client_roles[TOKEN_MAX_LIST], *groups[TOKEN_MAX_LIST];
	int naud, nrealm_roles, nclient_roles, ngroups;
	long ttl;
	long nbf_offset;
	long count;
	int has_nbf;
};

static int push(const char **list, int *n, const char *v)
{
	if (*n >= TOKEN_MAX_LIST)
		return -1;
	list[(*n)++] = v;
	return 0;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_options(struct token_options *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->ttl = 3600;
	o->count = 1;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (v == NULL)
			return -1;
		i++;
		if (strcmp(opt, "--key") == 0)
			o->key_path = v;
		else if (strcmp(opt, "--kid") == 0)
			o->kid = v;
		else if (strcmp(opt, "--iss") == 0)
			o->iss = v;
		else if (strcmp(opt, "--azp") == 0)
			o->azp = v;
		else if (strcmp(opt, "--sub") == 0)
			o->sub = v;
		else if (strcmp(opt, "--username") == 0)
			o->username = v;
		else if (strcmp(opt, "--email") == 0)
			o->email = v;
		else if (strcmp(opt, "--tenant") == 0)
			o->tenant = v;
		else if (strcmp(opt, "--jti") == 0)
			o->jti = v;
		else if (strcmp(opt, "--aud") == 0)
			rc = push(o->aud, &o->naud, v);
		else if (strcmp(opt, "--perm") == 0 || strcmp(opt, "--role") == 0)
			rc = push(o->realm_roles, &o->nrealm_roles, v);
		else if (strcmp(opt, "--client-role") == 0)
			rc = strchr(v, ':') == NULL || v[0] == ':' ? -1
				: push(o->client_roles, &o->nclient_roles, v);
		else if (strcmp(opt, "--group") == 0)
			rc = push(o->groups, &o->ngroups, v);
		else if (strcmp(opt, "--ttl") == 0)
			rc = parse_long(v, -315360000L, 315360000L, &o->ttl);
		else if (strcmp(opt, "--count") == 0)
			rc = parse_long(v, 1, 1000000L, &o->count);
		else if (strcmp(opt, "--nbf-offset") == 0) {
			rc = parse_long(v, -315360000L, 315360000L, &o->nbf_offset);
			o->has_nbf = 1;
		} else
			return -1;
		if (rc != 0)
			return -1;
	}
	if (o->key_path == NULL || o->kid == NULL || o->iss == NULL || o->kid[0] == '\0' ||
	    strlen(o->kid) >= JWK_KID_MAX)
		return -1;
	return 0;
}

/* A random version-4 UUID, as Keycloak's jti, sub and sid are. */
static void random_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		abort();	/* no randomness: never mint a predictable jti */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

static json_object *string_array(const char *const *list, int n)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(list[i]));
	return a;
}

/* resource_access: {client: {roles: [...]}} from "client:role" pairs. */
static json_object *resource_access(const struct token_options *o)
{
	json_object *ra = json_object_new_object();

	for (int i = 0; i < o->nclient_roles; i++) {
		const char *cr = o->client_roles[i], *colon = strchr(cr, ':');
		char client[256];
		json_object *entry, *roles;

		snprintf(client, sizeof(client), "%.*s", (int)(colon - cr), cr);
		if (!json_object_object_get_ex(ra, client, &entry)) {
			entry = json_object_new_object();
			json_object_object_add(entry, "roles", json_object_new_array());
			json_object_object_add(ra, client, entry);
		}
		json_object_object_get_ex(entry, "roles", &roles);
		json_object_array_add(roles, json_object_new_string(colon + 1));
	}
	return ra;
}

static json_object *build_claims(const struct token_options *o, int64_t now)
{
	json_object *c = json_object_new_object(), *realm = json_object_new_object();
	char jti[37], sid[37];
	const char *sub = o->sub ? o->sub : "dev-user";

	random_uuid(jti);
	random_uuid(sid);
	json_object_object_add(c, "exp", json_object_new_int64(now + o->ttl));
	json_object_object_add(c, "iat", json_object_new_int64(now));
	json_object_object_add(c, "auth_time", json_object_new_int64(now));
	if (o->has_nbf)
		json_object_object_add(c, "nbf", json_object_new_int64(now + o->nbf_offset));
	json_object_object_add(c, "jti", json_object_new_string(o->jti ? o->jti : jti));
	json_object_object_add(c, "iss", json_object_new_string(o->iss));
	if (o->naud == 1)
		json_object_object_add(c, "aud", json_object_new_string(o->aud[0]));
	else if (o->naud > 1)
		json_object_object_add(c, "aud", string_array(o->aud, o->naud));
	json_object_object_add(c, "sub", json_object_new_string(sub));
	json_object_object_add(c, "typ", json_object_new_string("Bearer"));
	json_object_object_add(c, "azp", json_object_new_string(
		o->azp ? o->azp : o->naud > 0 ? o->aud[0] : "infractl"));
	json_object_object_add(c, "sid", json_object_new_string(sid));
	json_object_object_add(realm, "roles", string_array(o->realm_roles, o->nrealm_roles));
	json_object_object_add(c, "realm_access", realm);
	json_object_object_add(c, "resource_access", resource_access(o));
	json_object_object_add(c, "scope", json_object_new_string("openid profile email"));
	json_object_object_add(c, "preferred_username",
			       json_object_new_string(o->username ? o->username : sub));
	if (o->email != NULL) {
		json_object_object_add(c, "email", json_object_new_string(o->email));
		json_object_object_add(c, "email_verified", json_object_new_boolean(1));
	}
	if (o->ngroups > 0)
		json_object_object_add(c, "groups", string_array(o->groups, o->ngroups));
	if (o->tenant != NULL)
		json_object_object_add(c, "tenant", json_object_new_string(o->tenant));
	return c;
}

int cmd_token(int argc, char **argv)
{
	struct token_options o;
	struct infra_error err;
	EVP_PKEY *key;
	json_object *claims;
	char *token;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(token_usage, stdout);
		return CTL_OK;
	}
	if (parse_options(&o, argc, argv) != 0) {
		fputs(token_usage, stderr);
		return CTL_USAGE;
	}
	key = jwk_read_pem_file(o.key_path, true, &err);
	if (key == NULL) {
		fprintf(stderr, "infractl token: %s\n", err.message);
		return CTL_FAILED;
	}
	if (o.count > 1 && o.jti != NULL) {
		fputs("infractl token: --jti and --count exclude each other\n", stderr);
		EVP_PKEY_free(key);
		return CTL_USAGE;
	}
	for (long i = 0; i < o.count; i++) {
		claims = build_claims(&o, time_wall_s());
		token = jwt_sign(key, o.kid, claims, &err);
		json_object_put(claims);
		if (token == NULL) {
			fprintf(stderr, "infractl token: %s\n", err.message);
			EVP_PKEY_free(key);
			return CTL_FAILED;
		}
		puts(token);
		free(token);
	}
	EVP_PKEY_free(key);
	return CTL_OK;
}
