/* auth_reason.c — the names of the token refusal codes (see auth_reason.h). */
#include <stddef.h>

#include "auth_reason.h"

static const char *const names[AUTH_REASON_COUNT] = {
	[AUTH_OK] = "ok",
	[AUTH_R_MISSING] = "missing",
	[AUTH_R_TOO_LARGE] = "too_large",
	[AUTH_R_MALFORMED] = "malformed",
	[AUTH_R_ALG_NOT_ALLOWED] = "alg_not_allowed",
	[AUTH_R_BAD_TYP] = "bad_typ",
	[AUTH_R_MISSING_KID] = "missing_kid",
	[AUTH_R_UNKNOWN_KID] = "unknown_kid",
	[AUTH_R_BAD_SIGNATURE] = "bad_signature",
	[AUTH_R_EXPIRED] = "expired",
	[AUTH_R_NOT_YET_VALID] = "not_yet_valid",
	[AUTH_R_BAD_ISSUER] = "bad_issuer",
	[AUTH_R_BAD_AUDIENCE] = "bad_audience",
	[AUTH_R_MISSING_CLAIM] = "missing_claim",
	[AUTH_R_LIFETIME_TOO_LONG] = "lifetime_too_long",
	[AUTH_R_EMERGENCY_DISABLED] = "emergency_disabled",
	[AUTH_R_BAD_TENANT] = "bad_tenant",
	[AUTH_R_REVOKED] = "revoked",
	[AUTH_R_LOCKED_OUT] = "locked_out",
	[AUTH_R_UNAVAILABLE] = "unavailable",
};

const char *auth_reason_name(enum auth_reason reason)
{
	if ((int)reason < 0 || reason >= AUTH_REASON_COUNT || names[reason] == NULL)
		return "unknown";
	return names[reason];
}
