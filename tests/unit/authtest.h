/* authtest.h — helpers the auth tests share: keys generated in-process,
 * Keycloak-shaped claims, tokens signed (or deliberately mis-signed) by
 * hand, and private memcached servers on free loopback ports. */
#ifndef INFRA_AUTHTEST_H
#define INFRA_AUTHTEST_H

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <sys/types.h>

#define AUTHTEST_ISSUER "https://sso.test.internal/realms/platform"
#define AUTHTEST_AUDIENCE "infra-api"

/* A new 2048-bit RSA or P-256 key; aborts when OpenSSL cannot make one. */
EVP_PKEY *authtest_rsa_key(void);
EVP_PKEY *authtest_ec_key(void);

/* Claims as a Keycloak realm issues them: exp = now + ttl, iat = now, jti,
 * iss AUTHTEST_ISSUER, aud AUTHTEST_AUDIENCE, azp, sub, typ, realm_access
 * with `realm_role` (if not NULL), preferred_username, email. */
json_object *authtest_claims(int64_t now, int ttl, const char *realm_role);

/* A token with the header `header_json` and the claims, signed with `key`
 * by the header's alg — whatever that is: "RS256"/"ES256" with an EVP key,
 * "HS256" with `hmac_secret` as the HMAC key, anything else unsigned (an
 * empty signature part). The caller frees the result. */
char *authtest_token_raw(const char *header_json, json_object *claims, EVP_PKEY *key,
			 const void *hmac_secret, size_t secret_len);

/* A properly signed token: header {alg of the key, typ JWT, kid}. */
char *authtest_token(EVP_PKEY *key, const char *kid, json_object *claims);

/* A JWKS document (malloc'ed string) with the public halves of `n` keys
 * named by `kids`. */
char *authtest_jwks(EVP_PKEY *const *keys, const char *const *kids, int n);

/* Write `len` bytes to `path`. Returns 0 or -1. */
int authtest_write_file(const char *path, const char *data, size_t len);

/* A private memcached on a free loopback port: its "127.0.0.1:PORT" is
 * written to `servers`. Returns its pid, or -1. */
pid_t authtest_memcached_start(char servers[32]);

/* A fresh memcached on the port of `servers` (after the old one stopped:
 * a restart that lost every key). Returns its pid, or -1. */
pid_t authtest_memcached_restart(const char *servers);

/* A loopback TCP port nobody listens on right now, or -1. */
int authtest_free_port(void);

/* A private PostgreSQL cluster (initdb and pg_ctl as the postgres user
 * when run as root) with the control schema `infra` holding
 * migrations/admin V1 and V2, for tests that need the database. */
struct authtest_pg {
	char dir[64];
	char url[128];		/* postgresql://postgres@127.0.0.1:PORT/postgres */
};

/* Start it. Returns 0, or -1 (reasons on stderr). */
int authtest_postgres_start(struct authtest_pg *pg);

/* Stop it and remove its files. */
void authtest_postgres_stop(struct authtest_pg *pg);

/* Stop a server started above and wait for it. */
void authtest_stop(pid_t pid);

/* SIGSTOP / SIGCONT a server: it keeps its keys but answers nothing. */
void authtest_pause(pid_t pid);
void authtest_resume(pid_t pid);

#endif
