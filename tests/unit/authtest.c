/* authtest.c — shared helpers of the auth tests (see authtest.h). */
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authtest.h"
#include "base64url.h"
#include "jwk.h"
#include "jwt_sign.h"
#include "strbuf.h"
#include "timeutil.h"

EVP_PKEY *authtest_rsa_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);

	if (k == NULL)
		abort();
	return k;
}

EVP_PKEY *authtest_ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		abort();
	return k;
}

json_object *authtest_claims(int64_t now, int ttl, const char *realm_role)
{
	json_object *c = json_object_new_object(), *realm = json_object_new_object();
	json_object *roles = json_object_new_array();
	static int serial;
	char jti[64];

	snprintf(jti, sizeof(jti), "jti-%d-%d-%lld", (int)getpid(), ++serial, (long long)now);
	json_object_object_add(c, "exp", json_object_new_int64(now + ttl));
	json_object_object_add(c, "iat", json_object_new_int64(now));
	json_object_object_add(c, "jti", json_object_new_string(jti));
	json_object_object_add(c, "iss", json_object_new_string(AUTHTEST_ISSUER));
	json_object_object_add(c, "aud", json_object_new_string(AUTHTEST_AUDIENCE));
	json_object_object_add(c, "azp", json_object_new_string("infra-admin-ui"));
	json_object_object_add(c, "sub", json_object_new_string("7f0b6e3a-2d4c-4b1e-9a77-0c5e2f1d8b90"));
	json_object_object_add(c, "typ", json_object_new_string("Bearer"));
	if (realm_role != NULL)
		json_object_array_add(roles, json_object_new_string(realm_role));
	json_object_object_add(realm, "roles", roles);
	json_object_object_add(c, "realm_access", realm);
	json_object_object_add(c, "preferred_username", json_object_new_string("dana"));
	json_object_object_add(c, "email", json_object_new_string("dana@example.internal"));
	return c;
}

static void add_b64(struct strbuf *sb, const void *data, size_t len)
{
	char *enc = base64url_encode_alloc(data, len);

	strbuf_addstr(sb, enc);
	free(enc);
}

char *authtest_token_raw(const char *header_json, json_object *claims, EVP_PKEY *key,
			 const void *hmac_secret, size_t secret_len)
{
	struct strbuf sb = STRBUF_INIT;
	const char *payload = json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN);
	json_object *header = json_tokener_parse(header_json), *alg = NULL;
	const char *algname = "";

	add_b64(&sb, header_json, strlen(header_json));
	strbuf_addch(&sb, '.');
	add_b64(&sb, payload, strlen(payload));
	if (header != NULL && json_object_object_get_ex(header, "alg", &alg))
		algname = json_object_get_string(alg);
	if (strcmp(algname, "HS256") == 0 && hmac_secret != NULL) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;

		HMAC(EVP_sha256(), hmac_secret, (int)secret_len, (const unsigned char *)sb.buf,
		     sb.len, mac, &maclen);
		strbuf_addch(&sb, '.');
		add_b64(&sb, mac, maclen);
	} else if ((strcmp(algname, "RS256") == 0 || strcmp(algname, "ES256") == 0) && key != NULL) {
		/* Sign what the header says with the key given, even when they do
		 * not belong together: jwt_sign_with_header refuses that, so sign
		 * by hand. */
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned char sig[1024], raw[64];
		size_t siglen = sizeof(sig);

		EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
		EVP_DigestSign(md, sig, &siglen, (const unsigned char *)sb.buf, sb.len);
		EVP_MD_CTX_free(md);
		strbuf_addch(&sb, '.');
		if (EVP_PKEY_is_a(key, "EC") && jwt_ecdsa_der_to_raw(sig, siglen, raw) == 0)
			add_b64(&sb, raw, sizeof(raw));
		else
			add_b64(&sb, sig, siglen);
	} else {
		strbuf_addch(&sb, '.');
	}
	json_object_put(header);
	return strbuf_detach(&sb, NULL);
}

char *authtest_token(EVP_PKEY *key, const char *kid, json_object *claims)
{
	struct infra_error err;

	return jwt_sign(key, kid, claims, &err);
}

char *authtest_jwks(EVP_PKEY *const *keys, const char *const *kids, int n)
{
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	char *s;

	for (int i = 0; i < n; i++)
		json_object_array_add(arr, jwk_to_json(keys[i], kids[i]));
	json_object_object_add(doc, "keys", arr);
	s = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return s;
}

int authtest_write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

int authtest_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static pid_t memcached_on(int port)
{
	char portstr[16];
	pid_t pid;

	snprintf(portstr, sizeof(portstr), "%d", port);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* memcached refuses to run as root unless told which user. */
		if (geteuid() == 0)
			execlp("memcached", "memcached", "-l", "127.0.0.1", "-p", portstr,
			       "-U", "0", "-u", "root", (char *)NULL);
		else
			execlp("memcached", "memcached", "-l", "127.0.0.1", "-p", portstr,
			       "-U", "0", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !port_open(port); i++)
		time_sleep_ms(10);
	return pid;
}

pid_t authtest_memcached_start(char servers[32])
{
	int port = authtest_free_port();

	if (port < 0)
		return -1;
	snprintf(servers, 32, "127.0.0.1:%d", port);
	return memcached_on(port);
}

pid_t authtest_memcached_restart(const char *servers)
{
	const char *colon = strrchr(servers, ':');

	return colon ? memcached_on(atoi(colon + 1)) : -1;
}

void authtest_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGCONT);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

void authtest_pause(pid_t pid)
{
	kill(pid, SIGSTOP);
}

void authtest_resume(pid_t pid)
{
	kill(pid, SIGCONT);
}

/* Run a shell command (as the postgres user when we are root). */
static int run_as_postgres(const char *cmd)
{
	char line[1024];

	if (geteuid() == 0)
		snprintf(line, sizeof(line), "runuser -u postgres -- sh -c '%s' >/dev/null 2>&1", cmd);
	else
		snprintf(line, sizeof(line), "sh -c '%s' >/dev/null 2>&1", cmd);
	return system(line);
}

static int apply_file(PGconn *c, const char *path)
{
	FILE *f = fopen(path, "r");
	struct strbuf sql = STRBUF_INIT;
	char buf[4096];
	size_t n;
	PGresult *res;
	int rc;

	if (f == NULL) {
		fprintf(stderr, "authtest: cannot read %s (run from the repository)\n", path);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sql, buf, n);
	fclose(f);
	res = PQexec(c, sql.buf);
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "authtest: %s: %s", path, PQresultErrorMessage(res));
	PQclear(res);
	strbuf_release(&sql);
	return rc;
}

int authtest_postgres_start(struct authtest_pg *pg)
{
	char bindir[256] = "", cmd[768];
	FILE *p = popen("pg_config --bindir", "r");
	int port = authtest_free_port();
	PGconn *c;
	PGresult *res;
	int rc;

	memset(pg, 0, sizeof(*pg));
	if (p == NULL || fgets(bindir, sizeof(bindir), p) == NULL) {
		if (p)
			pclose(p);
		fprintf(stderr, "authtest: pg_config --bindir failed\n");
		return -1;
	}
	pclose(p);
	bindir[strcspn(bindir, "\n")] = '\0';
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/authtest-pg.XXXXXX");
	if (mkdtemp(pg->dir) == NULL)
		return -1;
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");

		if (pw == NULL || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
			fprintf(stderr, "authtest: no postgres user to run PostgreSQL as\n");
			return -1;
		}
	}
	snprintf(cmd, sizeof(cmd), "%s/initdb -D %s/data -A trust -U postgres -E UTF8 --no-sync",
		 bindir, pg->dir);
	if (run_as_postgres(cmd) != 0) {
		fprintf(stderr, "authtest: initdb failed\n");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "%s/pg_ctl -D %s/data -w -l %s/log -o \"-p %d -k %s "
		 "-c listen_addresses=127.0.0.1 -c fsync=off\" start", bindir, pg->dir, pg->dir,
		 port, pg->dir);
	if (run_as_postgres(cmd) != 0) {
		fprintf(stderr, "authtest: PostgreSQL did not start (see %s/log)\n", pg->dir);
		return -1;
	}
	snprintf(pg->url, sizeof(pg->url), "postgresql://postgres@127.0.0.1:%d/postgres", port);
	c = PQconnectdb(pg->url);
	res = PQexec(c, "CREATE SCHEMA infra; SET search_path = infra");
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
	PQclear(res);
	if (rc == 0)
		rc = apply_file(c, "migrations/admin/V1__audit_log.sql");
	if (rc == 0)
		rc = apply_file(c, "migrations/admin/V2__auth.sql");
	PQfinish(c);
	return rc;
}

void authtest_postgres_stop(struct authtest_pg *pg)
{
	char cmd[512];
	FILE *p;
	char bindir[256] = "";

	if (pg->dir[0] == '\0')
		return;
	p = popen("pg_config --bindir", "r");
	if (p != NULL) {
		if (fgets(bindir, sizeof(bindir), p) != NULL)
			bindir[strcspn(bindir, "\n")] = '\0';
		pclose(p);
	}
	snprintf(cmd, sizeof(cmd), "%s/pg_ctl -D %s/data -m immediate stop", bindir, pg->dir);
	run_as_postgres(cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pg->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "authtest: cannot remove %s\n", pg->dir);
	pg->dir[0] = '\0';
}
