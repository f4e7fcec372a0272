/* test_auth.c — auth_authenticate and its neighbours against a real
 * PostgreSQL (a private cluster with the control schema) and a real
 * memcached (private, so it can be paused and restarted): two struct auth
 * play two workers (or hosts). Role-binding changes and logouts are in
 * effect in the other worker when the call returns, cached principals
 * included;
 * memcached paused or restarted mid-test changes nothing but speed; lock
 * out, break-glass tokens, failure auditing and counting, the audit trail's
 * paging and scrubbing. */
#include <libpq-fe.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "auth_gen.h"
#include "authtest.h"
#include "cache.h"
#include "db.h"
#include "jwk.h"
#include "metrics.h"
#include "strbuf.h"
#include "timeutil.h"
#include "unit.h"

#define EMERGENCY_ISSUER "https://break-glass.test.internal"

static struct authtest_pg pg;
static pid_t mc_pid = -1;
static char mc_servers[32];
static char dir[] = "/tmp/test_auth.XXXXXX";
static char jwks_path[128], emergency_path[128];
static EVP_PKEY *issuer_key, *emergency_key;

/* One "worker": its own database connection, memcached client and auth. */
struct worker {
	struct db db;
	struct cache *mc;
	struct auth *auth;
};

static void config_for(struct config *cfg, bool emergency)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 1;
	cfg->jwt_issuer = AUTHTEST_ISSUER;
	cfg->jwt_audiences = AUTHTEST_AUDIENCE ", infra-cli";
	cfg->jwks_file = jwks_path;
	cfg->jwks_url = "";
	cfg->jwks_ca_file = "";
	cfg->jwt_leeway_s = 30;
	cfg->jwks_refresh_min_interval_s = 30;
	cfg->auth_cache_ttl_s = 300;
	cfg->role_bindings = "platform-operator=databases:read tenants:read;auditor=infrastructure:read";
	cfg->emergency_enabled = emergency;
	cfg->emergency_issuer = EMERGENCY_ISSUER;
	cfg->emergency_public_key_file = emergency_path;
	cfg->emergency_max_ttl_s = 900;
	cfg->auth_fail_threshold = 3;
	cfg->auth_fail_window_s = 60;
	cfg->auth_lockout_s = 30;
	cfg->audit_auth_failures_per_min = 1000;
}

static void worker_start(struct worker *w, bool emergency)
{
	struct config cfg;
	struct infra_error err;

	config_for(&cfg, emergency);
	db_init(&w->db, pg.url, 5, 10000, "test_auth");
	w->mc = cache_new(mc_servers, 50);
	w->auth = auth_new(&cfg, &w->db, w->mc, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->auth);
}

static void worker_stop(struct worker *w)
{
	auth_free(w->auth);
	cache_free(w->mc);
	db_release(&w->db);
}

/* A token from the issuer with `role` (and an optional jti); freed by
 * the caller. */
static char *token_with(const char *role, const char *jti, int ttl)
{
	json_object *c = authtest_claims(time_wall_s(), ttl, role);
	char *t;

	if (jti != NULL)
		json_object_object_add(c, "jti", json_object_new_string(jti));
	t = authtest_token(issuer_key, "issuer-1", c);
	json_object_put(c);
	return t;
}

/* Authenticate "Bearer <token>" from `ip`; the reason (AUTH_OK when
 * accepted, `p` then filled). */
static enum auth_reason authenticate(struct worker *w, const char *token, const char *ip,
				     struct principal *p, struct auth_failure *why)
{
	char header[9000];
	struct auth_request req = {
		.authorization = header, .client_ip = ip, .user_agent = "test_auth/1",
		.request_id = "req-test-auth",
	};
	struct auth_failure local;

	if (why == NULL)
		why = &local;
	snprintf(header, sizeof(header), "Bearer %s", token);
	if (auth_authenticate(w->auth, &req, p, why) == 0)
		return AUTH_OK;
	return why->reason;
}

/* Run SQL directly on the control database. */
static void sql(const char *statement)
{
	PGconn *c = PQconnectdb(pg.url);
	PGresult *res = PQexec(c, statement);

	CU_ASSERT(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
	PQfinish(c);
}

static long sql_count(const char *query)
{
	PGconn *c = PQconnectdb(pg.url);
	PGresult *res = PQexec(c, query);
	long n = PQresultStatus(res) == PGRES_TUPLES_OK ? atol(PQgetvalue(res, 0, 0)) : -1;

	PQclear(res);
	PQfinish(c);
	return n;
}

/* Past the generation refresh period: every worker has re-read the
 * generations since. */
static void after_refresh_period(void)
{
	time_sleep_ms(AUTH_GEN_REFRESH_MS + 100);
}

static bool metrics_show(const char *line)
{
	struct strbuf sb = STRBUF_INIT;
	bool found;

	metrics_render(&sb, NULL, 0);
	found = strstr(sb.buf, line) != NULL;
	strbuf_release(&sb);
	return found;
}

/* ------------------------------------------------------------------ tests */

static void test_authenticate(void)
{
	struct worker w;
	struct principal p;
	char *token = token_with("platform-operator", NULL, 300);
	json_object *me;

	worker_start(&w, false);
	principal_init(&p);
	/* The seed bound platform-operator to databases:read tenants:read. */
	CU_ASSERT_EQUAL_FATAL(authenticate(&w, token, "10.0.0.1", &p, NULL), AUTH_OK);
	CU_ASSERT_STRING_EQUAL(p.username, "dana");
	CU_ASSERT(principal_has(&p, "databases:read"));
	CU_ASSERT(principal_has(&p, "tenants:read"));
	CU_ASSERT(!principal_has(&p, "databases:manage"));
	CU_ASSERT(!p.emergency);
	me = principal_to_json(&p);
	CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(me, "permissions")), 2);
	json_object_put(me);
	principal_release(&p);
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.role_bindings "
				  "WHERE role IN ('platform-operator', 'auditor')"), 2);
	/* (Seeding bumped the generation after that first answer was cached:
	 * this one is cached under the current generation.) */
	CU_ASSERT_EQUAL(authenticate(&w, token, "10.0.0.1", &p, NULL), AUTH_OK);
	principal_release(&p);
	/* The principal is cached: a change behind the API's back (no
	 * generation bump) is not seen... */
	sql("UPDATE infra.role_bindings SET permissions = '{}' WHERE role = 'platform-operator'");
	CU_ASSERT_EQUAL(authenticate(&w, token, "10.0.0.1", &p, NULL), AUTH_OK);
	CU_ASSERT(principal_has(&p, "databases:read"));
	principal_release(&p);
	CU_ASSERT(metrics_show("infra_auth_principal_cache_total{result=\"local\"}"));
	/* Another worker finds it in memcached. */
	{
		struct worker other;

		worker_start(&other, false);
		CU_ASSERT_EQUAL(authenticate(&other, token, "10.0.0.1", &p, NULL), AUTH_OK);
		CU_ASSERT(principal_has(&p, "databases:read"));
		principal_release(&p);
		CU_ASSERT(metrics_show("infra_auth_principal_cache_total{result=\"memcached\"} 1"));
		worker_stop(&other);
	}
	/* ...while the same change through the API is. */
	{
		json_object *perms = json_tokener_parse("[\"databases:read\",\"tenants:read\"]");
		struct infra_error err;

		CU_ASSERT_EQUAL(auth_roles_put(w.auth, "platform-operator", perms, "test", &err), 0);
		json_object_put(perms);
	}
	CU_ASSERT_EQUAL(authenticate(&w, token, "10.0.0.1", &p, NULL), AUTH_OK);
	CU_ASSERT(principal_has(&p, "tenants:read"));
	principal_release(&p);
	free(token);
	worker_stop(&w);
}

static void test_refusals_counted_and_audited(void)
{
	struct worker w;
	struct principal p;
	struct auth_failure why;
	char *expired = token_with(NULL, NULL, -3600), *forged;
	struct auth_request none = { .authorization = NULL, .client_ip = "10.0.0.2" };
	struct auth_request basic = { .authorization = "Basic dXNlcjpwYXNz", .client_ip = "10.0.0.2" };
	json_object *c;

	worker_start(&w, false);
	CU_ASSERT_EQUAL(auth_authenticate(w.auth, &none, &p, &why), -1);
	CU_ASSERT_EQUAL(why.reason, AUTH_R_MISSING);
	CU_ASSERT_EQUAL(auth_authenticate(w.auth, &basic, &p, &why), -1);
	CU_ASSERT_EQUAL(why.reason, AUTH_R_MISSING);
	CU_ASSERT_EQUAL(authenticate(&w, expired, "10.0.0.2", &p, NULL), AUTH_R_EXPIRED);
	c = authtest_claims(time_wall_s(), 300, "infrastructure:admin");
	forged = authtest_token(issuer_key, "no-such-kid", c);
	CU_ASSERT_EQUAL(authenticate(&w, forged, "10.0.0.3", &p, NULL), AUTH_R_UNKNOWN_KID);
	free(forged);
	forged = authtest_token_raw("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"issuer-1\"}", c,
				    NULL, NULL, 0);
	CU_ASSERT_EQUAL(authenticate(&w, forged, "10.0.0.3", &p, NULL), AUTH_R_ALG_NOT_ALLOWED);
	CU_ASSERT_PTR_NULL(p.sub);
	/* Counted by reason... */
	CU_ASSERT(metrics_show("infra_auth_failures_total{reason=\"expired\"}"));
	CU_ASSERT(metrics_show("infra_auth_failures_total{reason=\"alg_not_allowed\"}"));
	CU_ASSERT(metrics_show("infra_auth_failures_total{reason=\"missing\"}"));
	/* ...and audited, except a missing token (no attempt). */
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.audit_log WHERE action = 'auth.failure' "
				  "AND outcome = 'denied' AND request_id = 'req-test-auth' "
				  "AND details->>'reason' IN ('expired', 'unknown_kid', 'alg_not_allowed') "
				  "AND user_agent = 'test_auth/1'"), 3);
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.audit_log "
				  "WHERE details->>'reason' = 'missing'"), 0);
	/* No token text ever reaches the trail. */
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.audit_log WHERE details::text LIKE '%eyJ%'"), 0);
	json_object_put(c);
	free(forged);
	free(expired);
	worker_stop(&w);
}

static void test_role_change_reaches_other_worker(void)
{
	struct worker a, b;
	struct principal p;
	char *token = token_with("release-manager", NULL, 300);
	json_object *perms = json_tokener_parse("[\"migrations:execute\"]"), *list;
	struct infra_error err;
	bool listed = false;

	worker_start(&a, false);
	worker_start(&b, false);
	CU_ASSERT_EQUAL_FATAL(authenticate(&b, token, "10.0.1.1", &p, NULL), AUTH_OK);
	CU_ASSERT(!principal_has(&p, "migrations:execute"));
	principal_release(&p);
	/* Worker A binds the role; B's cached principal must not survive. */
	CU_ASSERT_EQUAL(auth_roles_put(a.auth, "release-manager", perms, "admin", &err), 0);
	/* In effect when the call returns, not merely soon after. */
	CU_ASSERT_EQUAL(authenticate(&b, token, "10.0.1.1", &p, NULL), AUTH_OK);
	CU_ASSERT(principal_has(&p, "migrations:execute"));
	principal_release(&p);
	CU_ASSERT_EQUAL(auth_roles_list(b.auth, &list, &err), 0);
	for (size_t i = 0; i < json_object_array_length(json_object_object_get(list, "items")); i++) {
		json_object *item = json_object_array_get_idx(json_object_object_get(list, "items"), i);

		if (strcmp(json_object_get_string(json_object_object_get(item, "role")), "release-manager") == 0)
			listed = json_object_array_length(json_object_object_get(item, "permissions")) == 1;
	}
	CU_ASSERT(listed);
	json_object_put(list);
	/* The catalog guards the PUT. */
	json_object_put(perms);
	perms = json_tokener_parse("[\"migrations:execute\",\"root\"]");
	CU_ASSERT_EQUAL(auth_roles_put(a.auth, "release-manager", perms, "admin", &err), -1);
	CU_ASSERT_EQUAL(err.kind, INFRA_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.field, "permissions");
	json_object_put(perms);
	perms = json_tokener_parse("[]");
	CU_ASSERT_EQUAL(auth_roles_put(a.auth, "two words", perms, "admin", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.field, "role");
	json_object_put(perms);
	free(token);
	worker_stop(&a);
	worker_stop(&b);
}

static void test_seed_never_overwrites(void)
{
	struct worker w;
	json_object *perms = json_tokener_parse("[]");
	struct infra_error err;

	worker_start(&w, false);
	CU_ASSERT_EQUAL(auth_roles_put(w.auth, "auditor", perms, "admin", &err), 0);
	worker_stop(&w);
	/* A new worker seeds again: auditor keeps its empty binding. */
	worker_start(&w, false);
	{
		char *token = token_with("auditor", NULL, 300);
		struct principal p;

		CU_ASSERT_EQUAL(authenticate(&w, token, "10.0.1.2", &p, NULL), AUTH_OK);
		CU_ASSERT(!principal_has(&p, "infrastructure:read"));
		principal_release(&p);
		free(token);
	}
	CU_ASSERT_EQUAL(sql_count("SELECT cardinality(permissions) FROM infra.role_bindings "
				  "WHERE role = 'auditor'"), 0);
	json_object_put(perms);
	worker_stop(&w);
}

static void test_logout_reaches_other_worker(void)
{
	struct worker a, b;
	struct principal p, q;
	char *token = token_with("platform-operator", "jti-logout-1", 300);
	struct infra_error err;

	worker_start(&a, false);
	worker_start(&b, false);
	CU_ASSERT_EQUAL_FATAL(authenticate(&a, token, "10.0.2.1", &p, NULL), AUTH_OK);
	CU_ASSERT_EQUAL_FATAL(authenticate(&b, token, "10.0.2.1", &q, NULL), AUTH_OK);
	principal_release(&q);
	CU_ASSERT_EQUAL(auth_revoke(a.auth, &p, &err), 0);
	CU_ASSERT_EQUAL(auth_revoke(a.auth, &p, &err), 0);	/* twice is fine */
	CU_ASSERT_EQUAL(authenticate(&a, token, "10.0.2.1", &q, NULL), AUTH_R_REVOKED);
	/* Refused by the other worker as soon as the logout answered. */
	CU_ASSERT_EQUAL(authenticate(&b, token, "10.0.2.1", &q, NULL), AUTH_R_REVOKED);
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.revoked_tokens WHERE jti = 'jti-logout-1' "
				  "AND expires_at > now()"), 1);
	principal_release(&p);
	free(token);
	worker_stop(&a);
	worker_stop(&b);
}

static void test_memcached_paused(void)
{
	struct worker a, b;
	struct principal p;
	char *before = token_with("platform-operator", "jti-paused-1", 300);
	char *during = token_with("platform-operator", "jti-paused-2", 300);
	json_object *perms = json_tokener_parse("[\"databases:manage\"]");
	struct infra_error err;

	worker_start(&a, false);
	worker_start(&b, false);
	/* Cached in memcached (and locally) before the outage. */
	CU_ASSERT_EQUAL_FATAL(authenticate(&b, before, "10.0.3.1", &p, NULL), AUTH_OK);
	principal_release(&p);

	authtest_pause(mc_pid);
	/* memcached answers nothing: slower, never an error, never wrong.
	 * (Each refusal below comes from its own address, so that lock-out
	 * counting, queued while memcached is paused, plays no part.) */
	CU_ASSERT_EQUAL(authenticate(&a, during, "10.0.3.2", &p, NULL), AUTH_OK);
	CU_ASSERT_EQUAL(auth_revoke(a.auth, &p, &err), 0);
	principal_release(&p);
	CU_ASSERT_EQUAL(authenticate(&a, before, "10.0.3.3", &p, NULL), AUTH_OK);
	CU_ASSERT_EQUAL(auth_revoke(a.auth, &p, &err), 0);
	principal_release(&p);
	CU_ASSERT_EQUAL(auth_roles_put(a.auth, "platform-operator", perms, "admin", &err), 0);
	after_refresh_period();
	CU_ASSERT_EQUAL(authenticate(&b, during, "10.0.3.4", &p, NULL), AUTH_R_REVOKED);
	CU_ASSERT_EQUAL(authenticate(&b, before, "10.0.3.5", &p, NULL), AUTH_R_REVOKED);

	/* memcached comes back with its old generations and its old entry
	 * for `before`: the changes made meanwhile must still hold. */
	authtest_resume(mc_pid);
	time_sleep_ms(2100);	/* libmemcached retries a dead server after 2 s */
	after_refresh_period();
	CU_ASSERT_EQUAL(authenticate(&b, before, "10.0.3.6", &p, NULL), AUTH_R_REVOKED);
	{
		char *fresh = token_with("platform-operator", NULL, 300);

		CU_ASSERT_EQUAL(authenticate(&b, fresh, "10.0.3.7", &p, NULL), AUTH_OK);
		CU_ASSERT(principal_has(&p, "databases:manage"));
		principal_release(&p);
		free(fresh);
	}
	json_object_put(perms);
	free(before);
	free(during);
	worker_stop(&a);
	worker_stop(&b);
}

static void test_memcached_restarted(void)
{
	struct worker a, b;
	struct principal p;
	char *token = token_with("platform-operator", "jti-restart-1", 300);
	struct infra_error err;

	worker_start(&a, false);
	worker_start(&b, false);
	CU_ASSERT_EQUAL_FATAL(authenticate(&a, token, "10.0.4.1", &p, NULL), AUTH_OK);
	CU_ASSERT_EQUAL(auth_revoke(a.auth, &p, &err), 0);
	principal_release(&p);
	/* memcached restarts and forgets everything, the revoked jti too. */
	authtest_stop(mc_pid);
	mc_pid = authtest_memcached_restart(mc_servers);
	CU_ASSERT_FATAL(mc_pid > 0);
	time_sleep_ms(2100);
	after_refresh_period();
	CU_ASSERT_EQUAL(authenticate(&b, token, "10.0.4.1", &p, NULL), AUTH_R_REVOKED);
	CU_ASSERT_EQUAL(authenticate(&a, token, "10.0.4.1", &p, NULL), AUTH_R_REVOKED);
	free(token);
	worker_stop(&a);
	worker_stop(&b);
}

static void test_lockout(void)
{
	struct worker a, b;
	struct principal p;
	struct auth_failure why;
	char *good = token_with("platform-operator", NULL, 300), *cached = token_with(NULL, NULL, 300);
	char *expired = token_with(NULL, NULL, -3600);

	worker_start(&a, false);
	worker_start(&b, false);
	CU_ASSERT_EQUAL(authenticate(&a, cached, "10.9.9.9", &p, NULL), AUTH_OK);
	principal_release(&p);
	/* Three failures (the threshold), spread over two workers. */
	CU_ASSERT_EQUAL(authenticate(&a, expired, "10.9.9.9", &p, NULL), AUTH_R_EXPIRED);
	CU_ASSERT_EQUAL(authenticate(&b, expired, "10.9.9.9", &p, NULL), AUTH_R_EXPIRED);
	CU_ASSERT_EQUAL(auth_lockout_remaining(a.auth, "10.9.9.9"), 0);
	CU_ASSERT_EQUAL(authenticate(&a, "garbage", "10.9.9.9", &p, NULL), AUTH_R_MALFORMED);
	CU_ASSERT(auth_lockout_remaining(b.auth, "10.9.9.9") > 0);
	CU_ASSERT(auth_lockout_remaining(b.auth, "10.9.9.9") <= 30);
	/* Locked: even a valid new token gets 429 (no verification work). */
	CU_ASSERT_EQUAL(authenticate(&b, good, "10.9.9.9", &p, &why), AUTH_R_LOCKED_OUT);
	CU_ASSERT(why.retry_after_s > 0 && why.retry_after_s <= 30);
	/* A token verified before the lock-out was no guess: it stays valid. */
	CU_ASSERT_EQUAL(authenticate(&b, cached, "10.9.9.9", &p, NULL), AUTH_OK);
	principal_release(&p);
	/* Other addresses are not affected. */
	CU_ASSERT_EQUAL(authenticate(&b, good, "10.9.9.10", &p, NULL), AUTH_OK);
	principal_release(&p);
	CU_ASSERT_EQUAL(auth_lockout_remaining(a.auth, "10.9.9.10"), 0);
	free(good);
	free(cached);
	free(expired);
	worker_stop(&a);
	worker_stop(&b);
}

static char *emergency_token(EVP_PKEY *key, const char *iss, int ttl)
{
	json_object *c = authtest_claims(time_wall_s(), ttl, "infrastructure:admin");
	char *t;

	json_object_object_add(c, "iss", json_object_new_string(iss));
	json_object_object_add(c, "preferred_username", json_object_new_string("oncall"));
	t = authtest_token(key, "break-glass", c);
	json_object_put(c);
	return t;
}

static void test_emergency(void)
{
	struct worker on, off;
	struct principal p;
	char *glass = emergency_token(emergency_key, EMERGENCY_ISSUER, 600);
	char *too_long = emergency_token(emergency_key, EMERGENCY_ISSUER, 3600);
	char *wrong_alg = emergency_token(issuer_key, EMERGENCY_ISSUER, 600);
	EVP_PKEY *rogue = authtest_ec_key();
	char *wrong_key = emergency_token(rogue, EMERGENCY_ISSUER, 600);
	char *wrong_iss = emergency_token(emergency_key, AUTHTEST_ISSUER, 600);

	worker_start(&on, true);
	worker_start(&off, false);
	CU_ASSERT_EQUAL_FATAL(authenticate(&on, glass, "10.0.5.1", &p, NULL), AUTH_OK);
	CU_ASSERT(p.emergency);
	CU_ASSERT(principal_has(&p, "infrastructure:admin"));
	principal_release(&p);
	/* Every use, cached or not, is audited and counted. */
	CU_ASSERT_EQUAL(authenticate(&on, glass, "10.0.5.1", &p, NULL), AUTH_OK);
	principal_release(&p);
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.audit_log WHERE action = 'auth.emergency' "
				  "AND actor = 'oncall' AND outcome = 'success'"), 2);
	CU_ASSERT(metrics_show("infra_auth_emergency_total 2"));
	CU_ASSERT_EQUAL(authenticate(&on, too_long, "10.0.5.1", &p, NULL), AUTH_R_LIFETIME_TOO_LONG);
	CU_ASSERT_EQUAL(authenticate(&on, wrong_key, "10.0.5.1", &p, NULL), AUTH_R_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(authenticate(&on, wrong_alg, "10.0.5.3", &p, NULL), AUTH_R_ALG_NOT_ALLOWED);
	/* The emergency key is no key of the normal issuer. */
	CU_ASSERT_EQUAL(authenticate(&on, wrong_iss, "10.0.5.1", &p, NULL), AUTH_R_UNKNOWN_KID);
	/* Disabled (another worker, or after a reload): refused, even though
	 * the first worker's principal for it is in memcached. */
	CU_ASSERT_EQUAL(authenticate(&off, glass, "10.0.5.2", &p, NULL), AUTH_R_EMERGENCY_DISABLED);
	free(glass);
	free(too_long);
	free(wrong_key);
	free(wrong_alg);
	free(wrong_iss);
	EVP_PKEY_free(rogue);
	worker_stop(&on);
	worker_stop(&off);
}

static void test_check_token(void)
{
	struct worker w;
	struct principal p;
	struct auth_failure why;
	char *token = token_with("auditor", NULL, 300), *expired = token_with(NULL, NULL, -3600);

	worker_start(&w, false);
	CU_ASSERT_EQUAL(auth_check_token(w.auth, token, &p, &why), 0);
	CU_ASSERT_STRING_EQUAL(p.username, "dana");
	principal_release(&p);
	CU_ASSERT_EQUAL(auth_check_token(w.auth, expired, &p, &why), -1);
	CU_ASSERT_EQUAL(why.reason, AUTH_R_EXPIRED);
	CU_ASSERT_EQUAL(auth_check_token(w.auth, NULL, &p, &why), -1);
	CU_ASSERT_EQUAL(why.reason, AUTH_R_MALFORMED);
	free(token);
	free(expired);
	worker_stop(&w);
}

static void test_no_keys_is_unavailable(void)
{
	struct config cfg;
	struct infra_error err;
	struct db db;
	struct cache *mc = cache_new(mc_servers, 50);
	struct auth *a;
	struct principal p;
	struct auth_failure why;
	struct jwks_status st;
	struct auth_request req = { .client_ip = "10.0.6.1" };
	char *token = token_with(NULL, NULL, 300), header[9000];

	config_for(&cfg, false);
	cfg.jwks_file = "/nonexistent/jwks.json";
	db_init(&db, pg.url, 5, 10000, "test_auth");
	a = auth_new(&cfg, &db, mc, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	auth_jwks_status(a, &st);
	CU_ASSERT(!st.ready);
	snprintf(header, sizeof(header), "Bearer %s", token);
	req.authorization = header;
	CU_ASSERT_EQUAL(auth_authenticate(a, &req, &p, &why), -1);
	CU_ASSERT_EQUAL(why.reason, AUTH_R_UNAVAILABLE);
	/* A bad seed or emergency key is a configuration error. */
	cfg.role_bindings = "ops=databases:write";
	CU_ASSERT_PTR_NULL(auth_new(&cfg, &db, mc, &err));
	CU_ASSERT_EQUAL(err.kind, INFRA_EINVAL);
	config_for(&cfg, true);
	cfg.emergency_public_key_file = "/nonexistent/key.pem";
	CU_ASSERT_PTR_NULL(auth_new(&cfg, &db, mc, &err));
	config_for(&cfg, true);
	cfg.emergency_issuer = AUTHTEST_ISSUER;	/* break-glass must be told apart */
	CU_ASSERT_PTR_NULL(auth_new(&cfg, &db, mc, &err));
	auth_free(a);
	cache_free(mc);
	db_release(&db);
	free(token);
}

static void test_audit_trail(void)
{
	struct db db;
	struct infra_error err;
	json_object *details = json_tokener_parse(
		"{\"name\":\"orders\",\"password\":\"hunter2\",\"nested\":{\"api_key\":\"k\","
		"\"list\":[{\"db_password\":\"x\"}]},\"auth_token\":\"t\"}");
	struct audit_entry e = {
		.actor = "audit-tester", .action = "database.create", .resource = "database",
		.resource_id = "11111111-2222-3333-4444-555555555555", .outcome = AUDIT_SUCCESS,
		.client_ip = "10.0.7.1", .user_agent = "curl/8", .request_id = "req-1", .details = details,
	};
	struct audit_filter f = { .actor = "audit-tester" };
	struct audit_limiter lim;
	json_object *page, *items, *first;
	const char *cursor;
	int seen = 0;

	db_init(&db, pg.url, 5, 10000, "test_auth");
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(audit_record(&db, &e, &err), 0);
	e.action = "database.delete";
	e.outcome = AUDIT_DENIED;
	CU_ASSERT_EQUAL(audit_record(&db, &e, &err), 0);
	/* Secrets are masked at any depth; the rest kept. */
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.audit_log WHERE actor = 'audit-tester' "
				  "AND details->>'password' = '***' AND details->'nested'->>'api_key' = '***' "
				  "AND details->'nested'->'list'->0->>'db_password' = '***' "
				  "AND details->>'auth_token' = '***' AND details->>'name' = 'orders'"), 6);
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.audit_log WHERE details::text LIKE '%hunter2%'"), 0);

	/* Newest first, in pages of 2, with an opaque cursor. */
	f.limit = 2;
	CU_ASSERT_EQUAL_FATAL(audit_query(&db, &f, &page, &err), 0);
	items = json_object_object_get(page, "items");
	CU_ASSERT_EQUAL(json_object_array_length(items), 2);
	first = json_object_array_get_idx(items, 0);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(first, "action")), "database.delete");
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(first, "outcome")), "denied");
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(first, "client_ip")), "10.0.7.1");
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(
		json_object_object_get(first, "details"), "password")), "***");
	CU_ASSERT_PTR_NOT_NULL(strchr(json_object_get_string(json_object_object_get(first, "at")), 'Z'));
	while (page != NULL) {
		seen += (int)json_object_array_length(json_object_object_get(page, "items"));
		cursor = json_object_get_string(json_object_object_get(page, "next_cursor"));
		if (cursor == NULL) {
			json_object_put(page);
			break;
		}
		f.cursor = strdupa(cursor);
		json_object_put(page);
		CU_ASSERT_EQUAL_FATAL(audit_query(&db, &f, &page, &err), 0);
	}
	CU_ASSERT_EQUAL(seen, 6);
	/* Filters. */
	f.cursor = NULL;
	f.limit = 0;
	f.action = "database.delete";
	CU_ASSERT_EQUAL(audit_query(&db, &f, &page, &err), 0);
	CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(page, "items")), 1);
	CU_ASSERT_PTR_NULL(json_object_object_get(page, "next_cursor"));
	json_object_put(page);
	f.action = NULL;
	f.since = time_wall_s() + 3600;
	CU_ASSERT_EQUAL(audit_query(&db, &f, &page, &err), 0);
	CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(page, "items")), 0);
	json_object_put(page);
	/* Bad parameters name themselves. */
	f.since = 0;
	f.limit = 101;
	CU_ASSERT_EQUAL(audit_query(&db, &f, &page, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.field, "limit");
	f.limit = 10;
	f.cursor = "bm90LWEtY3Vyc29y";
	CU_ASSERT_EQUAL(audit_query(&db, &f, &page, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.field, "cursor");
	CU_ASSERT_PTR_NULL(page);

	/* The failure budget: 2 a minute, the rest counted and reported by
	 * the next entry written. */
	audit_limiter_init(&lim, 2);
	e.action = "auth.failure";
	e.actor = "limiter-tester";
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(audit_record_limited(&db, &lim, &e, &err), i < 2 ? 0 : 1);
	CU_ASSERT(metrics_show("infra_audit_suppressed_total{action=\"auth.failure\"} 3"));
	lim.window_start_ms -= 60000;	/* a minute later */
	CU_ASSERT_EQUAL(audit_record_limited(&db, &lim, &e, &err), 0);
	CU_ASSERT_EQUAL(sql_count("SELECT count(*) FROM infra.audit_log WHERE actor = 'limiter-tester'"), 3);
	CU_ASSERT_EQUAL(sql_count("SELECT (details->>'suppressed_before')::int FROM infra.audit_log "
				  "WHERE actor = 'limiter-tester' ORDER BY id DESC LIMIT 1"), 3);
	e.actor = "";
	CU_ASSERT_EQUAL(audit_record(&db, &e, &err), -1);
	json_object_put(details);
	db_release(&db);
}

static void test_generations(void)
{
	struct db db;
	struct cache *mc = cache_new(mc_servers, 50), *off = cache_new("", 50);
	struct auth_gen g, h;
	struct infra_error err;
	char before[AUTH_GEN_TAG_MAX], after[AUTH_GEN_TAG_MAX];
	uint64_t db_value;

	db_init(&db, pg.url, 5, 10000, "test_auth");
	auth_gen_init(&g, mc, &db);
	CU_ASSERT_EQUAL_FATAL(auth_gen_refresh(&g, true, &err), 0);
	CU_ASSERT(g.valid && !g.from_db);
	auth_gen_tag(&g, before);
	CU_ASSERT_EQUAL(before[0], 'm');
	/* Refreshed at most every AUTH_GEN_REFRESH_MS: a change published
	 * now is seen after that, not before. */
	CU_ASSERT_EQUAL(db_begin(&db, &err), 0);
	CU_ASSERT_EQUAL(auth_gen_bump_db(&db, AUTH_GEN_ROLES, &db_value, &err), 0);
	CU_ASSERT_EQUAL(db_commit(&db, &err), 0);
	auth_gen_init(&h, mc, &db);
	auth_gen_publish(&h, AUTH_GEN_ROLES, db_value);
	CU_ASSERT_EQUAL(auth_gen_refresh(&g, false, &err), 0);
	auth_gen_tag(&g, after);
	CU_ASSERT_STRING_EQUAL(after, before);
	after_refresh_period();
	CU_ASSERT_EQUAL(auth_gen_refresh(&g, false, &err), 0);
	auth_gen_tag(&g, after);
	CU_ASSERT_STRING_NOT_EQUAL(after, before);
	CU_ASSERT_EQUAL(g.value[AUTH_GEN_ROLES] >> 32, db_value);

	/* A change whose publication was lost (its writer could not reach
	 * memcached, which others still could): found by the periodic
	 * comparison with the database, and memcached pushed forward. */
	sql("UPDATE infra.auth_generations SET generation = generation + 1 WHERE name = 'revocations'");
	snprintf(before, sizeof(before), "%s", after);
	g.checked_ms -= AUTH_GEN_RECHECK_MS;	/* as if that long had passed */
	CU_ASSERT_EQUAL(auth_gen_refresh(&g, true, &err), 0);
	auth_gen_tag(&g, after);
	CU_ASSERT_STRING_NOT_EQUAL(after, before);
	CU_ASSERT_EQUAL(auth_gen_refresh(&h, true, &err), 0);
	CU_ASSERT_EQUAL(h.value[AUTH_GEN_REVOCATIONS], g.value[AUTH_GEN_REVOCATIONS]);
	CU_ASSERT_EQUAL((long)(g.value[AUTH_GEN_REVOCATIONS] >> 32),
			sql_count("SELECT generation FROM infra.auth_generations WHERE name = 'revocations'"));

	/* Without memcached: the database's counters, under another tag. */
	auth_gen_init(&h, off, &db);
	CU_ASSERT_EQUAL(auth_gen_refresh(&h, true, &err), 0);
	CU_ASSERT(h.from_db);
	auth_gen_tag(&h, after);
	CU_ASSERT_EQUAL(after[0], 'd');
	CU_ASSERT_EQUAL((long)h.value[AUTH_GEN_REVOCATIONS],
			sql_count("SELECT generation FROM infra.auth_generations WHERE name = 'revocations'"));
	/* Neither memcached nor the database: nothing cached is trusted. */
	db_release(&db);
	db_init(&db, "postgresql://postgres@127.0.0.1:1/postgres", 1, 1000, "test_auth");
	auth_gen_init(&h, off, &db);
	CU_ASSERT_EQUAL(auth_gen_refresh(&h, true, &err), -1);
	CU_ASSERT(!h.valid);
	CU_ASSERT_EQUAL(err.kind, INFRA_EUNAVAIL);
	db_release(&db);
	cache_free(mc);
	cache_free(off);
}

static CU_TestInfo tests[] = {
	{ "generations: refresh, lost publication, fallback", test_generations },
	{ "authenticate, cache, seed bindings", test_authenticate },
	{ "refusals counted and audited", test_refusals_counted_and_audited },
	{ "role change reaches another worker", test_role_change_reaches_other_worker },
	{ "seed never overwrites a binding", test_seed_never_overwrites },
	{ "logout reaches another worker", test_logout_reaches_other_worker },
	{ "memcached paused mid-test", test_memcached_paused },
	{ "memcached restarted (keys lost)", test_memcached_restarted },
	{ "lock-out after failures", test_lockout },
	{ "break-glass tokens", test_emergency },
	{ "validate a bare token", test_check_token },
	{ "no keys, bad configuration", test_no_keys_is_unavailable },
	{ "audit trail: scrub, page, filter, budget", test_audit_trail },
	CU_TEST_INFO_NULL,
};

static int setup(void)
{
	EVP_PKEY *keys[1];
	const char *kids[] = { "issuer-1" };
	char *doc;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return -1;
	issuer_key = authtest_rsa_key();
	emergency_key = authtest_ec_key();
	keys[0] = issuer_key;
	doc = authtest_jwks(keys, kids, 1);
	snprintf(jwks_path, sizeof(jwks_path), "%s/jwks.json", dir);
	snprintf(emergency_path, sizeof(emergency_path), "%s/emergency.pem", dir);
	authtest_write_file(jwks_path, doc, strlen(doc));
	free(doc);
	f = fopen(emergency_path, "w");
	if (f == NULL)
		return -1;
	PEM_write_PUBKEY(f, emergency_key);
	fclose(f);
	if (metrics_init() != 0)
		return -1;
	mc_pid = authtest_memcached_start(mc_servers);
	if (mc_pid < 0)
		return -1;
	return authtest_postgres_start(&pg);
}

int main(void)
{
	int rc = 2;

	if (setup() == 0)
		rc = unit_run("auth", tests);
	else
		fprintf(stderr, "test_auth: cannot start memcached and PostgreSQL\n");
	authtest_postgres_stop(&pg);
	authtest_stop(mc_pid);
	unlink(jwks_path);
	unlink(emergency_path);
	rmdir(dir);
	EVP_PKEY_free(issuer_key);
	EVP_PKEY_free(emergency_key);
	return rc;
}
