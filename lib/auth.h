/* auth.h — the one entry point a request worker calls to turn an
 * Authorization header into a principal, and the operations around it
 * (/auth/validate, /auth/logout, /auth/roles, lock-outs, readiness).
 *
 * auth_authenticate: cached principal (this process, then memcached, under
 * the token's hash and the current generations) or, on a miss: lock-out
 * check, JWT verification (jwt_verify.h; break-glass tokens against the
 * emergency key), revocation check, principal and permissions, cached for
 * min(token lifetime, AUTH_CACHE_TTL). A change of role bindings or a
 * logout is seen everywhere within a second (auth_gen.h). Every refusal
 * is counted in infra_auth_failures_total{reason=…}, counted against the
 * client address (lockout.h) and audited within a per-process budget;
 * every break-glass use is audited and counted in
 * infra_auth_emergency_total; where each principal came from is counted in
 * infra_auth_principal_cache_total{result="local"|"memcached"|"miss"}.
 *
 * One struct auth per process, created after fork, used by one thread. */
#ifndef INFRA_AUTH_H
#define INFRA_AUTH_H

#include <json-c/json.h>

#include "auth_reason.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "jwks.h"
#include "principal.h"

struct auth;

/* What auth_authenticate needs of a request. */
struct auth_request {
	const char *authorization;	/* the Authorization header's value; NULL or "": none */
	const char *client_ip;		/* counted for lock-outs and audited; may be NULL */
	const char *user_agent;		/* audited; may be NULL */
	const char *request_id;		/* audited; may be NULL */
};

/* Why a request was refused. The client is told only this:
 *   AUTH_R_LOCKED_OUT   → 429 RATE_001 with Retry-After: retry_after_s
 *   AUTH_R_UNAVAILABLE  → 503 SVC_001 (no keys yet, control database down)
 *   anything else       → 401 AUTH_001 "invalid token" — never the reason. */
struct auth_failure {
	enum auth_reason reason;
	int retry_after_s;
};

/* Build the authenticator of this process from `cfg` (copied): audiences,
 * keys (JWKS_FILE/JWKS_URL — a key source that cannot load yet is not an
 * error, requests get AUTH_R_UNAVAILABLE until it can), the break-glass
 * key when EMERGENCY_ENABLED, the ROLE_BINDINGS seed (applied to the
 * database at the first authentication). `db` and `cache` are borrowed
 * and must outlive it. Returns NULL with err filled (INFRA_EINVAL: a bad
 * ROLE_BINDINGS or emergency key) or when out of memory. */
struct auth *auth_new(const struct config *cfg, struct db *db, struct cache *cache,
		      struct infra_error *err);

/* Free everything `a` owns. NULL is allowed. */
void auth_free(struct auth *a);

/* Authenticate a request. Returns 0 with the principal in `out` (the
 * caller releases it with principal_release), or -1 with `why` filled and
 * `out` empty. */
int auth_authenticate(struct auth *a, const struct auth_request *req, struct principal *out,
		      struct auth_failure *why);

/* Verify a bare token as auth_authenticate would, for POST /auth/validate:
 * nothing is counted against an address, audited or counted as a failure.
 * Returns 0 with `out` (released by the caller), or -1 with `why`. */
int auth_check_token(struct auth *a, const char *token, struct principal *out,
		     struct auth_failure *why);

/* Refuse the token `p` was authenticated with from now on, on every host
 * (POST /auth/logout; the handler audits it). Returns once the revocation
 * is in effect in every process (it waits about AUTH_GEN_REFRESH_MS for
 * them to re-read the generations), so a request sent after the answer is
 * refused wherever it lands. Returns 0, or -1 with err. */
int auth_revoke(struct auth *a, const struct principal *p, struct infra_error *err);

/* Seconds `ip` stays locked out, or 0. */
int auth_lockout_remaining(struct auth *a, const char *ip);

/* GET /auth/roles: {items: [{role, permissions[]}]} in *out (the caller
 * puts it). Returns 0 or -1. */
int auth_roles_list(struct auth *a, json_object **out, struct infra_error *err);

/* PUT /auth/roles/{role}: `permissions` is the body's array (validated
 * against the catalog: INFRA_EINVAL naming "permissions" or "role"),
 * `actor` the administrator. Returns once the change is in effect in every
 * process, as auth_revoke does. Returns 0 or -1. */
int auth_roles_put(struct auth *a, const char *role, json_object *permissions,
		   const char *actor, struct infra_error *err);

/* For /health/ready's jwks check. */
void auth_jwks_status(struct auth *a, struct jwks_status *out);

#endif
