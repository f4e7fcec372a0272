/* auth.c — bearer token → principal for one process: caches, lock-outs,
 * verification (normal and break-glass), revocation, role bindings,
 * counting and auditing (see auth.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "auth.h"
#include "auth_cache.h"
#include "auth_gen.h"
#include "jwt_verify.h"
#include "lockout.h"
#include "log.h"
#include "metrics.h"
#include "revocation.h"
#include "role_bindings.h"
#include "timeutil.h"

#define AUTH_MAX_AUDIENCES 16
#define AUTH_LOCAL_CACHE_SLOTS 1024

struct auth {
	struct db *db;				/* borrowed */
	struct cache *cache;			/* borrowed */
	struct jwks *jwks;
	struct auth_cache *principals;
	struct auth_gen gen;

	char *issuer;
	char *audiences[AUTH_MAX_AUDIENCES];
	size_t naudiences;
	struct jwt_policy policy;
	int cache_ttl_s;

	bool emergency_enabled;
	char *emergency_issuer;			/* NULL when not configured */
	struct jwk emergency_key;		/* loaded when enabled */
	struct jwt_policy emergency_policy;

	struct role_bindings seed;		/* ROLE_BINDINGS, parsed */
	bool seeded;
	struct role_bindings bindings;
	bool bindings_loaded;
	uint64_t bindings_gen;
	bool bindings_from_db;

	struct lockout_policy lockout;
	struct audit_limiter audit_failures;
};

static char *dup_opt(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

/* Split "a, b,c" into a->audiences. */
static int split_audiences(struct auth *a, const char *list, struct infra_error *err)
{
	const char *s = list ? list : "";

	while (*s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);

		while (len > 0 && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		if (len > 0) {
			if (a->naudiences == AUTH_MAX_AUDIENCES)
				return infra_fail(err, INFRA_EINVAL, "JWT_AUDIENCES: more than %d audiences",
						  AUTH_MAX_AUDIENCES);
			if ((a->audiences[a->naudiences] = strndup(s, len)) == NULL)
				return infra_fail(err, INFRA_EINTERNAL, "out of memory");
			a->naudiences++;
		}
		s = end ? end + 1 : s + strlen(s);
	}
	return 0;
}

struct auth *auth_new(const struct config *cfg, struct db *db, struct cache *cache,
		      struct infra_error *err)
{
	struct auth *a = calloc(1, sizeof(*a));
	struct jwks_options jo = {
		.file = cfg->jwks_file,
		.url = cfg->jwks_url,
		.ca_file = cfg->jwks_ca_file,
		.refresh_min_interval_s = cfg->jwks_refresh_min_interval_s,
	};
	struct infra_error ignored;
	int workers = cfg->workers > 0 ? cfg->workers : 1;

	if (a == NULL) {
		infra_fail(err, INFRA_EINTERNAL, "out of memory");
		return NULL;
	}
	a->db = db;
	a->cache = cache;
	auth_gen_init(&a->gen, cache, db);
	role_bindings_init(&a->seed);
	role_bindings_init(&a->bindings);
	if (split_audiences(a, cfg->jwt_audiences, err) != 0)
		goto fail;
	a->issuer = dup_opt(cfg->jwt_issuer);
	a->policy.issuer = a->issuer;
	a->policy.audiences = (const char *const *)a->audiences;
	a->policy.naudiences = a->naudiences;
	a->policy.leeway_s = cfg->jwt_leeway_s;
	a->cache_ttl_s = cfg->auth_cache_ttl_s;

	a->emergency_enabled = cfg->emergency_enabled;
	a->emergency_issuer = dup_opt(cfg->emergency_issuer);
	a->emergency_policy = a->policy;
	a->emergency_policy.issuer = a->emergency_issuer;
	a->emergency_policy.max_lifetime_s = cfg->emergency_max_ttl_s;
	if (a->emergency_enabled) {
		if (a->emergency_issuer == NULL ||
		    (a->issuer != NULL && strcmp(a->issuer, a->emergency_issuer) == 0)) {
			infra_fail(err, INFRA_EINVAL, "EMERGENCY_ENABLED needs an EMERGENCY_ISSUER "
				   "other than JWT_ISSUER");
			goto fail;
		}
		if (jwk_from_pem_file(&a->emergency_key, "emergency",
				      cfg->emergency_public_key_file ? cfg->emergency_public_key_file : "",
				      err) != 0)
			goto fail;
	}

	/* A bad seed is a configuration error now, not at the first request. */
	if (role_bindings_parse(&a->seed, cfg->role_bindings, err) != 0)
		goto fail;

	a->lockout.threshold = cfg->auth_fail_threshold;
	a->lockout.window_s = cfg->auth_fail_window_s;
	a->lockout.lockout_s = cfg->auth_lockout_s;
	/* AUDIT_AUTH_FAILURES_PER_MIN is per host: share it among workers. */
	audit_limiter_init(&a->audit_failures,
			   (cfg->audit_auth_failures_per_min + workers - 1) / workers);

	a->principals = auth_cache_new(cache, AUTH_LOCAL_CACHE_SLOTS);
	a->jwks = jwks_new(&jo, cache);
	if (a->principals == NULL || a->jwks == NULL) {
		infra_fail(err, INFRA_EINTERNAL, "out of memory");
		goto fail;
	}
	if (jwks_load(a->jwks, &ignored) != 0)
		log_warn("no signature keys yet; tokens are refused with 503 until keys load");
	return a;
fail:
	auth_free(a);
	return NULL;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	jwks_free(a->jwks);
	auth_cache_free(a->principals);
	free(a->issuer);
	for (size_t i = 0; i < a->naudiences; i++)
		free(a->audiences[i]);
	free(a->emergency_issuer);
	jwk_release(&a->emergency_key);
	role_bindings_release(&a->seed);
	role_bindings_release(&a->bindings);
	free(a);
}

/* Seed once, then keep the bindings as new as the generation. */
static int ensure_bindings(struct auth *a, struct infra_error *err)
{
	if (!a->seeded) {
		uint64_t generation;

		if (role_bindings_seed(a->db, &a->seed, &generation, err) != 0)
			return -1;
		a->seeded = true;
		if (generation != 0)
			auth_gen_publish(&a->gen, AUTH_GEN_ROLES, generation);
	}
	if (a->bindings_loaded && a->bindings_gen == a->gen.value[AUTH_GEN_ROLES] &&
	    a->bindings_from_db == a->gen.from_db)
		return 0;
	a->bindings_loaded = false;
	if (role_bindings_load(a->db, &a->bindings, err) != 0)
		return -1;
	a->bindings_loaded = true;
	a->bindings_gen = a->gen.value[AUTH_GEN_ROLES];
	a->bindings_from_db = a->gen.from_db;
	return 0;
}

static int refuse(struct auth_failure *why, enum auth_reason reason)
{
	why->reason = reason;
	return -1;
}

/* Verify `token` and build its principal (permissions not yet resolved). */
static int verify(struct auth *a, const char *token, int64_t now, struct principal *out,
		  struct auth_failure *why)
{
	const struct jwt_policy *policy = &a->policy;
	const struct jwk *key;
	const char *iss;
	bool emergency = false;
	struct jwt t;
	int rc = -1;

	if (jwt_parse(&t, token, &why->reason) != 0)
		goto out;
	iss = jwt_unverified_issuer(&t);
	if (a->emergency_issuer != NULL && iss != NULL && strcmp(iss, a->emergency_issuer) == 0) {
		/* Break-glass: only this key, only this issuer (checked again
		 * after verification), only a short lifetime. The kid is not
		 * used to choose: there is one emergency key. */
		if (!a->emergency_enabled) {
			why->reason = AUTH_R_EMERGENCY_DISABLED;
			goto out;
		}
		key = &a->emergency_key;
		policy = &a->emergency_policy;
		emergency = true;
	} else {
		key = jwks_find(a->jwks, t.kid);
		if (key == NULL) {
			struct jwks_status st;

			jwks_status(a->jwks, &st);
			why->reason = st.ready ? AUTH_R_UNKNOWN_KID : AUTH_R_UNAVAILABLE;
			goto out;
		}
	}
	if (jwt_verify(&t, key, policy, now, &why->reason) != 0)
		goto out;
	if (principal_from_claims(out, jwt_claims(&t), (const char *const *)a->audiences,
				  a->naudiences, &why->reason) != 0)
		goto out;
	out->emergency = emergency;
	rc = 0;
out:
	jwt_release(&t);
	return rc;
}

/* Whether a cached principal's issuer is still one this process trusts:
 * the cache is shared by every process and host, whose configuration
 * (a reload that disables break-glass access, a new issuer) may differ. */
static bool still_trusted(const struct auth *a, const struct principal *p)
{
	const char *trusted = p->emergency ? (a->emergency_enabled ? a->emergency_issuer : NULL)
					   : a->issuer;

	return trusted != NULL && p->issuer != NULL && strcmp(trusted, p->issuer) == 0;
}

static const char *const cache_labels[] = {
	[AUTH_CACHE_MISS] = "result=\"miss\"",
	[AUTH_CACHE_LOCAL] = "result=\"local\"",
	[AUTH_CACHE_SHARED] = "result=\"memcached\"",
};

/* The common path of auth_authenticate and auth_check_token. `ip` (may be
 * NULL) is checked for a lock-out before any verification work. */
static int authenticate_token(struct auth *a, const char *token, const char *ip,
			      struct principal *out, struct auth_failure *why)
{
	unsigned char hash[AUTH_TOKEN_HASH_LEN];
	char tag[AUTH_GEN_TAG_MAX];
	struct infra_error err;
	int64_t now = time_wall_s(), until;
	size_t len = strnlen(token, JWT_MAX_TOKEN + 1);
	enum auth_cache_result cached;
	int revoked;

	principal_init(out);
	why->reason = AUTH_OK;
	why->retry_after_s = 0;
	if (len > JWT_MAX_TOKEN)
		return refuse(why, AUTH_R_TOO_LARGE);
	/* Without current generations no cached principal can be trusted,
	 * and without the database no revocation can be checked. */
	if (auth_gen_refresh(&a->gen, false, &err) != 0)
		return refuse(why, AUTH_R_UNAVAILABLE);
	auth_cache_hash(token, len, hash);
	auth_gen_tag(&a->gen, tag);
	cached = auth_cache_get(a->principals, hash, tag, now, out);
	if (cached != AUTH_CACHE_MISS && !still_trusted(a, out)) {
		principal_release(out);	/* configuration changed: verify again */
		cached = AUTH_CACHE_MISS;
	}
	metrics_count("infra_auth_principal_cache_total", cache_labels[cached], 1);
	if (cached != AUTH_CACHE_MISS)
		return 0;
	if (ip != NULL && (why->retry_after_s = lockout_remaining(a->cache, ip)) > 0)
		return refuse(why, AUTH_R_LOCKED_OUT);
	if (verify(a, token, now, out, why) != 0)
		goto fail;
	if (ensure_bindings(a, &err) != 0) {
		why->reason = AUTH_R_UNAVAILABLE;
		goto fail;
	}
	revoked = revocation_check(a->db, a->cache, out->jti, &err);
	if (revoked != 0) {
		why->reason = revoked > 0 ? AUTH_R_REVOKED : AUTH_R_UNAVAILABLE;
		goto fail;
	}
	principal_resolve(out, &a->bindings);
	until = out->expires_at < now + a->cache_ttl_s ? out->expires_at : now + a->cache_ttl_s;
	auth_cache_put(a->principals, hash, tag, out, until, now);
	return 0;
fail:
	principal_release(out);
	return -1;
}

/* The token of "Bearer <token>" (scheme in any case, surrounding blanks
 * ignored) copied into `buf`; NULL when absent or not that scheme. A token
 * too long for `buf` is truncated to one byte over JWT_MAX_TOKEN, which
 * the verifier then refuses as too large. */
static const char *bearer_token(const char *header, char buf[JWT_MAX_TOKEN + 2])
{
	const char *s = header, *end;
	size_t len;

	if (s == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "Bearer", 6) != 0 || (s[6] != ' ' && s[6] != '\t'))
		return NULL;
	s += 6;
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strnlen(s, JWT_MAX_TOKEN + 64);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	len = (size_t)(end - s);
	if (len == 0)
		return NULL;
	if (len > JWT_MAX_TOKEN + 1)
		len = JWT_MAX_TOKEN + 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

static void count_failure(enum auth_reason reason)
{
	char labels[64];

	snprintf(labels, sizeof(labels), "reason=\"%s\"", auth_reason_name(reason));
	metrics_count("infra_auth_failures_total", labels, 1);
}

static void audit_failure(struct auth *a, const struct auth_request *req, enum auth_reason reason)
{
	json_object *details = json_object_new_object();
	struct audit_entry e = {
		.actor = NULL,
		.action = "auth.failure",
		.resource = "token",
		.outcome = AUDIT_DENIED,
		.client_ip = req->client_ip,
		.user_agent = req->user_agent,
		.request_id = req->request_id,
		.details = details,
	};
	struct infra_error err;

	json_object_object_add(details, "reason", json_object_new_string(auth_reason_name(reason)));
	audit_record_limited(a->db, &a->audit_failures, &e, &err);
	json_object_put(details);
}

static void audit_emergency(struct auth *a, const struct auth_request *req,
			    const struct principal *p)
{
	json_object *details = json_object_new_object();
	char when[ISO8601_MAX];
	struct audit_entry e = {
		.actor = p->username,
		.action = "auth.emergency",
		.resource = "token",
		.resource_id = p->jti,
		.outcome = AUDIT_SUCCESS,
		.client_ip = req->client_ip,
		.user_agent = req->user_agent,
		.request_id = req->request_id,
		.details = details,
	};
	struct infra_error err;

	json_object_object_add(details, "sub", json_object_new_string(p->sub));
	json_object_object_add(details, "issuer", json_object_new_string(p->issuer ? p->issuer : ""));
	json_object_object_add(details, "expires_at",
			       json_object_new_string(time_iso8601(when, p->expires_at)));
	metrics_count("infra_auth_emergency_total", "", 1);
	log_warn("break-glass token of '%s' used", p->username);
	if (audit_record(a->db, &e, &err) != 0)
		log_error("break-glass use of '%s' could not be audited", p->username);
	json_object_put(details);
}

int auth_authenticate(struct auth *a, const struct auth_request *req, struct principal *out,
		      struct auth_failure *why)
{
	char buf[JWT_MAX_TOKEN + 2];
	const char *token = bearer_token(req->authorization, buf);

	if (token == NULL) {
		/* No credentials is not an attempt: counted, neither audited
		 * nor held against the address. */
		principal_init(out);
		why->reason = AUTH_R_MISSING;
		why->retry_after_s = 0;
		count_failure(AUTH_R_MISSING);
		return -1;
	}
	if (authenticate_token(a, token, req->client_ip, out, why) == 0) {
		if (out->emergency)
			audit_emergency(a, req, out);
		return 0;
	}
	count_failure(why->reason);
	if (why->reason != AUTH_R_UNAVAILABLE) {
		if (why->reason != AUTH_R_LOCKED_OUT)
			lockout_record_failure(a->cache, &a->lockout, req->client_ip);
		audit_failure(a, req, why->reason);
	}
	return -1;
}

int auth_check_token(struct auth *a, const char *token, struct principal *out,
		     struct auth_failure *why)
{
	return authenticate_token(a, token ? token : "", NULL, out, why);
}

/* Publish a change and wait until every process has seen it: each one
 * re-reads the generations before serving a request when its copy is
 * AUTH_GEN_REFRESH_MS old, so once that long has passed after the
 * publication, no request anywhere is served under the old generation.
 * The caller's answer then means "in effect everywhere", not "soon". */
static void publish_and_settle(struct auth *a, enum auth_gen_kind kind, uint64_t generation)
{
	auth_gen_publish(&a->gen, kind, generation);
	time_sleep_ms(AUTH_GEN_REFRESH_MS + 50);
}

int auth_revoke(struct auth *a, const struct principal *p, struct infra_error *err)
{
	uint64_t generation;

	if (revocation_add(a->db, a->cache, p->jti, p->sub, p->expires_at, a->policy.leeway_s,
			   &generation, err) != 0)
		return -1;
	publish_and_settle(a, AUTH_GEN_REVOCATIONS, generation);
	return 0;
}

int auth_lockout_remaining(struct auth *a, const char *ip)
{
	return lockout_remaining(a->cache, ip);
}

int auth_roles_list(struct auth *a, json_object **out, struct infra_error *err)
{
	struct role_bindings rb;

	*out = NULL;
	role_bindings_init(&rb);
	if (!a->seeded && ensure_bindings(a, err) != 0)
		return -1;
	if (role_bindings_load(a->db, &rb, err) != 0)
		return -1;
	*out = role_bindings_to_json(&rb);
	role_bindings_release(&rb);
	return 0;
}

int auth_roles_put(struct auth *a, const char *role, json_object *permissions,
		   const char *actor, struct infra_error *err)
{
	uint32_t set;
	uint64_t generation;

	if (role_bindings_permissions_from_json(permissions, &set, err) != 0)
		return -1;
	if (!a->seeded && ensure_bindings(a, err) != 0)
		return -1;
	if (role_bindings_put(a->db, role, set, actor, &generation, err) != 0)
		return -1;
	publish_and_settle(a, AUTH_GEN_ROLES, generation);
	return 0;
}

void auth_jwks_status(struct auth *a, struct jwks_status *out)
{
	jwks_status(a->jwks, out);
}
