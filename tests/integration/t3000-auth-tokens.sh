#!/usr/bin/env bash
# t3000-auth-tokens.sh — the JWT attack table over HTTP: every expired,
# premature, misdirected, tampered, unsigned, HS256-with-the-public-key,
# unknown-kid, enc-key, malformed, huge or revoked token gets 401 AUTH_001
# with WWW-Authenticate, says nothing of why, and is in the audit trail with
# its reason. The JWKS file is re-read when a new kid appears (rotation).
# Refused requests come from an address of 127.0.31.0/24 (its own lock-out
# and rate-limit buckets, fresh at each run) to /system/info
# (infrastructure:read).
. "$(dirname "$0")/lib.sh"

FROM=127.0.31.$((RANDOM % 250 + 1))
CTL=$INFRA_BUILD/infractl
AUD=$INFRA_AUDIENCE

mint() { "$CTL" token --key "$INFRA_DEV_KEY" --kid "$INFRA_DEV_KID" --iss "$INFRA_ISSUER" "$@"; }
b64url() { basenc --base64url -w0 | tr -d '='; }
b64dec() {
	local s=$1
	case $((${#s} % 4)) in 2) s+='==' ;; 3) s+='=' ;; esac
	basenc --base64url -d <<<"$s"
}
part() { cut -d. -f"$2" <<<"$1"; }
# rs256 HEADER_JSON PAYLOAD_B64 KEY: a token signed by hand, whatever the header says.
rs256() {
	local h
	h=$(printf '%s' "$1" | b64url)
	printf '%s.%s.%s' "$h" "$2" "$(printf '%s.%s' "$h" "$2" |
		openssl dgst -sha256 -sign "$3" -binary | b64url)"
}

# The JWKS file is the stack's trust: restore it whatever happens.
cp "$INFRA_JWKS" "$T_TMP/jwks.orig"
trap 'cat "$T_TMP/jwks.orig" >"$INFRA_JWKS"; rm -rf "$T_TMP"' EXIT

admin=$(mint --aud "$AUD" --sub t3000-admin --perm infrastructure:admin)
reader=$(mint --aud "$AUD" --sub t3000-reader --perm infrastructure:read)
payload=$(part "$reader" 2)
signature=$(part "$reader" 3)

api GET /system/info --interface "$FROM" -H "Authorization: Bearer $reader"
expect_status 200 "a valid token is accepted"
api GET /system/info --interface "$FROM" -H "Authorization: Bearer $(mint --azp "$AUD" --perm infrastructure:read)"
expect_status 200 "no aud, azp among the audiences: accepted"

declare -A expected	# request id -> reason the audit trail must give
refused() {	# DESCRIPTION REASON TOKEN
	api GET /system/info --interface "$FROM" -H "Authorization: Bearer $3"
	expect_error 401 AUTH_001 "$1: 401 AUTH_001"
	expect_header WWW-Authenticate '^Bearer error="invalid_token"' "$1: WWW-Authenticate"
	if [ "$2" != expired ]; then
		expect_json .message "invalid token" "$1: the answer does not say why"
	fi
	expected[$(header X-Request-ID)]=$2
}

refused "expired" expired "$(mint --aud "$AUD" --ttl -3600)"
refused "not yet valid" not_yet_valid "$(mint --aud "$AUD" --nbf-offset 3600)"
refused "wrong issuer" bad_issuer \
	"$("$CTL" token --key "$INFRA_DEV_KEY" --kid "$INFRA_DEV_KID" --iss https://evil.example/realms/x --aud "$AUD")"
refused "wrong audience" bad_audience "$(mint --aud other-api --azp other-ui)"

escalated=$(b64dec "$payload" | jq -c '.realm_access.roles = ["infrastructure:admin"]' | b64url)
refused "tampered payload" bad_signature "$(part "$reader" 1).$escalated.$signature"
flipped=${signature:0:20}$([ "${signature:20:1}" = A ] && echo B || echo A)${signature:21}
refused "tampered signature" bad_signature "$(part "$reader" 1).$payload.$flipped"

none=$(printf '{"alg":"none","typ":"JWT","kid":"%s"}' "$INFRA_DEV_KID" | b64url)
refused "alg none, unsigned" alg_not_allowed "$none.$payload."
refused "alg none, with a signature" alg_not_allowed "$none.$payload.$signature"

# HS256 keyed with the issuer's public key PEM (which libjwt 1.10 accepts).
hs=$(printf '{"alg":"HS256","typ":"JWT","kid":"%s"}' "$INFRA_DEV_KID" | b64url)
pemhex=$(openssl pkey -in "$INFRA_DEV_KEY" -pubout | xxd -p | tr -d '\n')
mac=$(printf '%s.%s' "$hs" "$escalated" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$pemhex" -binary | b64url)
refused "HS256 signed with the public key PEM" alg_not_allowed "$hs.$escalated.$mac"

refused "unknown kid" unknown_kid \
	"$("$CTL" token --key "$INFRA_DEV_KEY" --kid t3000-no-such-kid --iss "$INFRA_ISSUER" --aud "$AUD")"

# An encryption key in the trusted JWKS (as Keycloak publishes one).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T_TMP/enc.pem" 2>/dev/null
enc=$("$CTL" jwks --key "$T_TMP/enc.pem" --kid t3000-enc | jq -c '.keys[0] | .use = "enc" | .alg = "RSA-OAEP"')
jq --argjson k "$enc" '.keys += [$k]' "$T_TMP/jwks.orig" >"$T_TMP/jwks.enc" && cat "$T_TMP/jwks.enc" >"$INFRA_JWKS"
sleep 1.1	# past the 1 s between two re-reads of the file by a worker
refused "kid of an enc key" unknown_kid \
	"$("$CTL" token --key "$T_TMP/enc.pem" --kid t3000-enc --iss "$INFRA_ISSUER" --aud "$AUD")"

refused "malformed base64" malformed "eyJ!!!.$payload.$signature"
refused "header not JSON" malformed "$(printf 'not json' | b64url).$payload.$signature"
refused "typ not JWT" bad_typ \
	"$(rs256 "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"$INFRA_DEV_KID\"}" "$payload" "$INFRA_DEV_KEY")"
refused "no kid" missing_kid "$(rs256 '{"alg":"RS256","typ":"JWT"}' "$payload" "$INFRA_DEV_KEY")"

revoked=$(mint --aud "$AUD" --sub t3000-leaver --perm infrastructure:read)
api POST /auth/logout -H "Authorization: Bearer $revoked"
expect_status 204 "logout"
refused "revoked (logged out)" revoked "$revoked"

# Over 8 KiB: refused before any decoding.
refused "huge token" too_large "$(head -c 9000 /dev/zero | tr '\0' A).$payload.$signature"

# Rotation: the issuer adds a key; its first token is accepted once a
# worker re-reads the file (an unknown kid makes it look).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T_TMP/new.pem" 2>/dev/null
new=$("$CTL" jwks --key "$T_TMP/new.pem" --kid t3000-rotated | jq -c '.keys[0]')
jq --argjson k "$new" '.keys += [$k]' "$T_TMP/jwks.orig" >"$T_TMP/jwks.new" && cat "$T_TMP/jwks.new" >"$INFRA_JWKS"
sleep 1.1
rotated=$("$CTL" token --key "$T_TMP/new.pem" --kid t3000-rotated --iss "$INFRA_ISSUER" --aud "$AUD" \
	--perm infrastructure:read)
api GET /system/info -H "Authorization: Bearer $rotated"
expect_status 200 "a token of a key added to the JWKS (ES256) is accepted"

# Every refusal is in the audit trail, with its reason (no token text).
api GET "/system/audit?action=auth.failure&limit=100" -H "Authorization: Bearer $admin"
expect_status 200 "the audit trail answers"
missing=''
for id in "${!expected[@]}"; do
	got=$(jq -r --arg id "$id" '.items[] | select(.request_id == $id) | .details.reason' <<<"$BODY")
	[ "$got" = "${expected[$id]}" ] || missing+=" ${expected[$id]}(got '$got')"
done
if [ -z "$missing" ]; then ok "each refusal is audited with its reason"; else not_ok "audit:$missing"; fi
check "no token text in the audit trail" bash -c "! grep -q 'eyJ' <<<\"\$1\"" _ "$BODY"

done_testing
