/* auth_reason.h — why a bearer token was refused: one code per cause, for
 * the audit trail, the logs and infra_auth_failures_total{reason=…}. A
 * client is never told the reason: it sees AUTH_001 "invalid token" (or 429
 * / 503 for the two reasons so marked). */
#ifndef INFRA_AUTH_REASON_H
#define INFRA_AUTH_REASON_H

enum auth_reason {
	AUTH_OK = 0,
	AUTH_R_MISSING,			/* no Authorization: Bearer <token> */
	AUTH_R_TOO_LARGE,		/* longer than JWT_MAX_TOKEN: refused unread */
	AUTH_R_MALFORMED,		/* not three base64url parts of JSON objects, a claim of the wrong type */
	AUTH_R_ALG_NOT_ALLOWED,		/* alg not RS256/ES256, or not the key's */
	AUTH_R_BAD_TYP,			/* typ present and not JWT */
	AUTH_R_MISSING_KID,
	AUTH_R_UNKNOWN_KID,		/* no signature key with that kid (also an "enc" key's) */
	AUTH_R_BAD_SIGNATURE,
	AUTH_R_EXPIRED,
	AUTH_R_NOT_YET_VALID,		/* nbf (or iat) in the future beyond the leeway */
	AUTH_R_BAD_ISSUER,
	AUTH_R_BAD_AUDIENCE,		/* neither aud nor azp among JWT_AUDIENCES */
	AUTH_R_MISSING_CLAIM,		/* exp, sub or jti absent (iat for break-glass) */
	AUTH_R_LIFETIME_TOO_LONG,	/* break-glass token with exp - iat > EMERGENCY_MAX_TTL */
	AUTH_R_EMERGENCY_DISABLED,	/* a break-glass token while EMERGENCY_ENABLED is false */
	AUTH_R_BAD_TENANT,		/* tenant claim/groups invalid or contradictory */
	AUTH_R_REVOKED,			/* its jti was logged out */
	AUTH_R_LOCKED_OUT,		/* too many failures from the address: 429 */
	AUTH_R_UNAVAILABLE,		/* no keys, or the control database is down: 503 */
};

#define AUTH_REASON_COUNT (AUTH_R_UNAVAILABLE + 1)

/* A short stable name: "expired", "bad_signature", … ("ok" for AUTH_OK). */
const char *auth_reason_name(enum auth_reason reason);

#endif
