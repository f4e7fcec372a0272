/* test_jwks.c — JWK/JWKS parsing (RSA n/e and EC x/y through OpenSSL 3,
 * enc keys skipped, malformed sets refused), base64url, and the live key
 * source: a JWKS file re-read on an unknown kid, a JWKS URL fetched over
 * verified TLS from a real local HTTPS server (openssl s_server), shared
 * through a private memcached, refreshed on rotation, rate-limited against
 * forged kids, the last good set kept when the issuer is down. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authtest.h"
#include "base64url.h"
#include "cache.h"
#include "jwk.h"
#include "jwks.h"
#include "timeutil.h"
#include "unit.h"

static char dir[] = "/tmp/test_jwks.XXXXXX";
static EVP_PKEY *rsa1, *rsa2, *ec1;
static pid_t mc_pid = -1, https_pid = -1;
static char mc_servers[32];
static int https_port;

static char *path_of(const char *name)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void serve(const char *name, EVP_PKEY *const *keys, const char *const *kids, int n)
{
	char *doc = authtest_jwks(keys, kids, n);

	CU_ASSERT_EQUAL(authtest_write_file(path_of(name), doc, strlen(doc)), 0);
	free(doc);
}

/* ---------------------------------------------------------------- parsing */

static void test_base64url(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	static const char *const invalid[] = { "Zg==", "Zh", "Z", "Zm9v\n", "Zm9+", "Zm9/", "Zm 9v" };
	unsigned char out[16], bytes[] = { 0xfb, 0xff };
	char enc[16];

	for (int i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(base64url_encode(enc, plain[i], strlen(plain[i])), strlen(coded[i]));
		CU_ASSERT_STRING_EQUAL(enc, coded[i]);
		CU_ASSERT_EQUAL(base64url_decode(out, coded[i], strlen(coded[i])), (long)strlen(plain[i]));
		CU_ASSERT_EQUAL(memcmp(out, plain[i], strlen(plain[i])), 0);
	}
	base64url_encode(enc, bytes, 2);
	CU_ASSERT_STRING_EQUAL(enc, "-_8");
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		CU_ASSERT_EQUAL(base64url_decode(out, invalid[i], strlen(invalid[i])), -1);
}

static int parse(const char *doc, struct jwk_set *s)
{
	struct infra_error err;

	return jwk_set_parse(s, doc, strlen(doc), &err);
}

static void test_jwk_roundtrip(void)
{
	EVP_PKEY *keys[] = { rsa1, ec1 };
	const char *kids[] = { "r", "e" };
	char *doc = authtest_jwks(keys, kids, 2);
	struct jwk_set s;
	struct jwk fromfile;
	struct infra_error err;
	const struct jwk *r, *e;

	CU_ASSERT_EQUAL_FATAL(parse(doc, &s), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	r = jwk_set_find(&s, "r");
	e = jwk_set_find(&s, "e");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(r->alg, JWK_ALG_RS256);
	CU_ASSERT_EQUAL(e->alg, JWK_ALG_ES256);
	CU_ASSERT_EQUAL(EVP_PKEY_eq(r->pkey, rsa1), 1);
	CU_ASSERT_EQUAL(EVP_PKEY_eq(e->pkey, ec1), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->pem, "-----BEGIN PUBLIC KEY-----"));
	/* The same key from its PEM file gives the same PEM. */
	{
		FILE *f = fopen(path_of("ec1.pem"), "w");

		PEM_write_PUBKEY(f, ec1);
		fclose(f);
	}
	CU_ASSERT_EQUAL_FATAL(jwk_from_pem_file(&fromfile, "x", path_of("ec1.pem"), &err), 0);
	CU_ASSERT_STRING_EQUAL(fromfile.pem, e->pem);
	CU_ASSERT_EQUAL(fromfile.alg, JWK_ALG_ES256);
	jwk_release(&fromfile);
	CU_ASSERT_EQUAL(jwk_from_pem_file(&fromfile, "x", path_of("missing.pem"), &err), -1);
	jwk_set_release(&s);
	free(doc);
}

static void test_jwks_parse_refusals(void)
{
	struct jwk_set s;
	json_object *good = jwk_to_json(rsa1, "k"), *v;
	char n_value[1024], doc[8192];
	EVP_PKEY *small = EVP_RSA_gen(1024), *p384 = EVP_EC_gen("P-384");

	snprintf(n_value, sizeof(n_value), "%s", json_object_get_string(json_object_object_get(good, "n")));
	/* Skipped, not fatal: enc keys, key_ops without verify, other algs,
	 * short RSA, other curves, other key types. A Keycloak-like set. */
	snprintf(doc, sizeof(doc), "{\"keys\":["
		 "{\"kid\":\"enc\",\"kty\":\"RSA\",\"alg\":\"RSA-OAEP\",\"use\":\"enc\",\"n\":\"%s\",\"e\":\"AQAB\"},"
		 "{\"kid\":\"ops\",\"kty\":\"RSA\",\"key_ops\":[\"encrypt\"],\"n\":\"%s\",\"e\":\"AQAB\"},"
		 "{\"kid\":\"rs384\",\"kty\":\"RSA\",\"alg\":\"RS384\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"AQAB\"},"
		 "{\"kid\":\"oct\",\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},"
		 "{\"kid\":\"sig\",\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"AQAB\","
		 "\"x5c\":[\"MIIC\"],\"x5t\":\"abc\",\"key_ops\":[\"verify\"]}]}",
		 n_value, n_value, n_value, n_value);
	CU_ASSERT_EQUAL(parse(doc, &s), 0);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_PTR_NOT_NULL(jwk_set_find(&s, "sig"));
	CU_ASSERT_PTR_NULL(jwk_set_find(&s, "enc"));
	jwk_set_release(&s);
	v = jwk_to_json(small, "small");
	CU_ASSERT_PTR_NULL(v);	/* not a key we sign or verify with */
	{
		/* A 1024-bit key presented as a JWK is skipped. */
		BIGNUM *n = NULL;
		char *enc;
		unsigned char bin[256];
		int len;

		EVP_PKEY_get_bn_param(small, "n", &n);
		len = BN_bn2bin(n, bin);
		enc = base64url_encode_alloc(bin, (size_t)len);
		snprintf(doc, sizeof(doc), "{\"keys\":[{\"kid\":\"s\",\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", enc);
		CU_ASSERT_EQUAL(parse(doc, &s), 0);
		CU_ASSERT_EQUAL(s.n, 0);
		jwk_set_release(&s);
		free(enc);
		BN_free(n);
	}
	CU_ASSERT_PTR_NULL(jwk_to_json(p384, "p384"));
	CU_ASSERT_EQUAL(parse("{\"keys\":[{\"kid\":\"c\",\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}]}", &s), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	jwk_set_release(&s);

	/* Fatal: the whole document is refused. */
	CU_ASSERT_EQUAL(parse("not json", &s), -1);
	CU_ASSERT_EQUAL(parse("{\"keys\":{}}", &s), -1);
	CU_ASSERT_EQUAL(parse("{}", &s), -1);
	CU_ASSERT_EQUAL(parse("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", &s), -1); /* no kid */
	CU_ASSERT_EQUAL(parse("{\"keys\":[{\"kid\":\"b\",\"kty\":\"RSA\",\"n\":\"not base64!\",\"e\":\"AQAB\"}]}", &s), -1);
	snprintf(doc, sizeof(doc), "{\"keys\":[{\"kid\":\"d\",\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"},"
		 "{\"kid\":\"d\",\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", n_value, n_value);
	CU_ASSERT_EQUAL(parse(doc, &s), -1);	/* two keys, one kid */
	/* A point that is not on P-256. */
	CU_ASSERT_EQUAL(parse("{\"keys\":[{\"kid\":\"p\",\"kty\":\"EC\",\"crv\":\"P-256\","
			      "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\","
			      "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}", &s), -1);
	CU_ASSERT_EQUAL(s.n, 0);
	json_object_put(good);
	EVP_PKEY_free(small);
	EVP_PKEY_free(p384);
}

/* ------------------------------------------------------------ live source */

static struct jwks *source(const char *file, const char *url, const char *ca, int interval,
			   struct cache *mc)
{
	struct jwks_options o = {
		.file = file, .url = url, .ca_file = ca, .refresh_min_interval_s = interval,
	};

	return jwks_new(&o, mc);
}

static uint64_t fetches(struct jwks *j)
{
	struct jwks_status st;

	jwks_status(j, &st);
	return st.fetches;
}

/* Past JWKS_RECHECK_MS, so an unknown kid may look again. */
static void after_recheck_interval(void)
{
	time_sleep_ms(1100);
}

static void test_file_source(void)
{
	EVP_PKEY *one[] = { rsa1 }, *two[] = { rsa1, rsa2 };
	const char *kids[] = { "rsa1", "rsa2" };
	struct infra_error err;
	struct jwks_status st;
	struct jwks *j;

	serve("file.json", one, kids, 1);
	j = source(path_of("file.json"), NULL, NULL, 30, NULL);
	CU_ASSERT_EQUAL_FATAL(jwks_load(j, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(jwks_find(j, "rsa1"));
	CU_ASSERT_PTR_NULL(jwks_find(j, "rsa2"));
	/* The issuer rotates: the file gains rsa2, found at the next
	 * unknown kid. */
	serve("file.json", two, kids, 2);
	after_recheck_interval();
	CU_ASSERT_PTR_NOT_NULL(jwks_find(j, "rsa2"));
	/* A broken file leaves the keys it gave. */
	CU_ASSERT_EQUAL(authtest_write_file(path_of("file.json"), "{\"keys\":[", 9), 0);
	after_recheck_interval();
	CU_ASSERT_PTR_NULL(jwks_find(j, "rsa3"));
	CU_ASSERT_PTR_NOT_NULL(jwks_find(j, "rsa2"));
	jwks_status(j, &st);
	CU_ASSERT(st.ready);
	CU_ASSERT_EQUAL(st.nkeys, 2);
	CU_ASSERT(!st.has_url);
	CU_ASSERT(st.last_fetch_ok);
	CU_ASSERT_EQUAL(st.fetches, 0);
	jwks_free(j);
	/* No file, no keys: not ready, and said so. */
	j = source(path_of("absent.json"), NULL, NULL, 30, NULL);
	CU_ASSERT_EQUAL(jwks_load(j, &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EUNAVAIL);
	jwks_status(j, &st);
	CU_ASSERT(!st.ready);
	jwks_free(j);
}

static void test_url_source(void)
{
	EVP_PKEY *one[] = { rsa1 }, *two[] = { rsa1, rsa2 };
	const char *kids[] = { "rsa1", "rsa2" };
	char url[128];
	struct cache *mc = cache_new(mc_servers, 200);
	struct infra_error err;
	struct jwks_status st;
	struct jwks *a, *b, *c;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/jwks.json", https_port);
	serve("jwks.json", one, kids, 1);

	/* Process A fetches at start and shares the document. */
	a = source(NULL, url, path_of("ca.pem"), 60, mc);
	CU_ASSERT_EQUAL_FATAL(jwks_load(a, &err), 0);
	CU_ASSERT_EQUAL(fetches(a), 1);
	CU_ASSERT_PTR_NOT_NULL(jwks_find(a, "rsa1"));
	jwks_status(a, &st);
	CU_ASSERT(st.has_url && st.last_fetch_ok && st.ready && st.last_ok_at > 0);

	/* Process B (another worker or host) takes it from memcached. */
	b = source(NULL, url, path_of("ca.pem"), 60, mc);
	CU_ASSERT_EQUAL_FATAL(jwks_load(b, &err), 0);
	CU_ASSERT_EQUAL(fetches(b), 0);
	CU_ASSERT_PTR_NOT_NULL(jwks_find(b, "rsa1"));

	/* Rotation: rsa2 appears. B, which has not fetched yet, fetches at
	 * its first unknown kid (and takes the fleet's lock); A, which
	 * fetched at start, may not fetch again within its interval but
	 * adopts B's document from memcached. */
	serve("jwks.json", two, kids, 2);
	after_recheck_interval();
	CU_ASSERT_PTR_NOT_NULL(jwks_find(b, "rsa2"));
	CU_ASSERT_EQUAL(fetches(b), 1);
	CU_ASSERT_PTR_NOT_NULL(jwks_find(a, "rsa2"));
	CU_ASSERT_EQUAL(fetches(a), 1);

	/* A flood of forged kids: A and B may not fetch again within their
	 * interval, and C, a fresh process, may not while B holds the
	 * fleet's lock. */
	c = source(NULL, url, path_of("ca.pem"), 60, mc);
	CU_ASSERT_EQUAL_FATAL(jwks_load(c, &err), 0);
	after_recheck_interval();
	for (int i = 0; i < 50; i++) {
		char kid[32];

		snprintf(kid, sizeof(kid), "forged-%d", i);
		CU_ASSERT_PTR_NULL(jwks_find(a, kid));
		CU_ASSERT_PTR_NULL(jwks_find(b, kid));
		CU_ASSERT_PTR_NULL(jwks_find(c, kid));
	}
	CU_ASSERT_EQUAL(fetches(a), 1);
	CU_ASSERT_EQUAL(fetches(b), 1);
	CU_ASSERT_EQUAL(fetches(c), 0);
	CU_ASSERT_PTR_NOT_NULL(jwks_find(c, "rsa2"));
	jwks_free(c);
	jwks_free(a);
	jwks_free(b);
	cache_free(mc);
}

static void test_url_failures(void)
{
	EVP_PKEY *one[] = { rsa1 };
	const char *kids[] = { "rsa1" };
	char url[128], missing[128];
	struct cache *none = cache_new("", 50);
	struct infra_error err;
	struct jwks_status st;
	struct jwks *j;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/jwks.json", https_port);
	snprintf(missing, sizeof(missing), "https://127.0.0.1:%d/missing.json", https_port);
	serve("jwks.json", one, kids, 1);

	/* TLS is verified: a server our CA did not sign is refused, and so
	 * is one the system's CAs do not know. */
	j = source(NULL, url, path_of("other-ca.pem"), 1, none);
	CU_ASSERT_EQUAL(jwks_load(j, &err), -1);
	jwks_status(j, &st);
	CU_ASSERT(!st.ready && !st.last_fetch_ok && st.fetches == 1);
	jwks_free(j);
	j = source(NULL, url, NULL, 1, none);
	CU_ASSERT_EQUAL(jwks_load(j, &err), -1);
	jwks_free(j);
	j = source(NULL, missing, path_of("ca.pem"), 1, none);
	CU_ASSERT_EQUAL(jwks_load(j, &err), -1);
	jwks_free(j);

	/* The issuer goes away: the last good set stays. */
	j = source(NULL, url, path_of("ca.pem"), 1, none);
	CU_ASSERT_EQUAL_FATAL(jwks_load(j, &err), 0);
	authtest_stop(https_pid);
	https_pid = -1;
	after_recheck_interval();
	CU_ASSERT_PTR_NULL(jwks_find(j, "rsa-new"));
	jwks_status(j, &st);
	CU_ASSERT_EQUAL(st.fetches, 2);
	CU_ASSERT(!st.last_fetch_ok);
	CU_ASSERT(st.ready);
	CU_ASSERT_PTR_NOT_NULL(jwks_find(j, "rsa1"));
	jwks_free(j);
	cache_free(none);
}

/* ------------------------------------------------------------ the servers */

static int run_quiet(const char *cmd)
{
	char line[2048];

	snprintf(line, sizeof(line), "cd %s && (%s) >/dev/null 2>&1", dir, cmd);
	return system(line);
}

/* A CA, a server certificate for 127.0.0.1 signed by it, and an
 * unrelated CA, with the openssl tool. */
static int make_tls(void)
{
	return run_quiet("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 -keyout ca.key "
			 "-out ca.pem -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE "
			 "-addext keyUsage=critical,keyCertSign") ||
	       run_quiet("openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key "
			 "-out server.csr -subj /CN=127.0.0.1") ||
	       run_quiet("printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' >ext && "
			 "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
			 "-days 2 -sha256 -extfile ext -out server.pem") ||
	       run_quiet("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 -keyout other.key "
			 "-out other-ca.pem -subj /CN=other-ca");
}

/* openssl s_server -WWW: serves the files of `dir` over HTTPS. */
static pid_t https_start(int *port)
{
	char accept[32];
	pid_t pid;

	*port = authtest_free_port();
	snprintf(accept, sizeof(accept), "127.0.0.1:%d", *port);
	pid = fork();
	if (pid == 0) {
		if (chdir(dir) != 0)
			_exit(127);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("openssl", "openssl", "s_server", "-quiet", "-accept", accept, "-cert",
		       "server.pem", "-key", "server.key", "-WWW", (char *)NULL);
		_exit(127);
	}
	/* Wait until it serves. */
	for (int i = 0; i < 300; i++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null --cacert ca.pem https://%s/", accept);
		if (run_quiet(cmd) == 0)
			break;
		time_sleep_ms(20);
	}
	return pid;
}

static CU_TestInfo tests[] = {
	{ "base64url", test_base64url },
	{ "JWK round trip through OpenSSL", test_jwk_roundtrip },
	{ "JWKS: skipped keys and refused sets", test_jwks_parse_refusals },
	{ "JWKS_FILE re-read on an unknown kid", test_file_source },
	{ "JWKS_URL over TLS, shared, rotated, rate-limited", test_url_source },
	{ "JWKS_URL: TLS refusals, issuer down", test_url_failures },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	int rc = 2;

	if (mkdtemp(dir) == NULL)
		return 2;
	rsa1 = authtest_rsa_key();
	rsa2 = authtest_rsa_key();
	ec1 = authtest_ec_key();
	mc_pid = authtest_memcached_start(mc_servers);
	if (make_tls() != 0) {
		fprintf(stderr, "test_jwks: cannot make TLS files with the openssl tool\n");
		goto out;
	}
	https_pid = https_start(&https_port);
	if (mc_pid < 0 || https_pid < 0) {
		fprintf(stderr, "test_jwks: cannot start memcached or openssl s_server\n");
		goto out;
	}
	rc = unit_run("jwks", tests);
out:
	authtest_stop(https_pid);
	authtest_stop(mc_pid);
	run_quiet("rm -f ca.* server.* other* ext *.json *.pem");
	rmdir(dir);
	EVP_PKEY_free(rsa1);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec1);
	return rc;
}
