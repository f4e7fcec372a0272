#!/usr/bin/env bash
# t3100-auth-sessions.sh — what changes a token's fate after it was
# accepted, on every worker: a logout refuses it at once, a role-binding
# change applies at once (cached principals included), both still hold with
# memcached stopped mid-test and after it comes back empty; failed
# authentications lock an address out (429 with Retry-After); /auth/validate.
. "$(dirname "$0")/lib.sh"

CTL=$INFRA_BUILD/infractl
mint() { "$CTL" token --key "$INFRA_DEV_KEY" --kid "$INFRA_DEV_KID" --iss "$INFRA_ISSUER" \
	--aud "$INFRA_AUDIENCE" "$@"; }
# Requests of this test that may be refused come from their own loopback
# addresses, fresh at each run (lock-out and rate-limit buckets).
net=127.0.$((RANDOM % 200 + 40))
FROM=$net.1

admin=$(mint --sub t3100-admin --perm infrastructure:admin)
ROLE=t3100-role-$RANDOM

# statuses_of TOKEN N PATH: N requests (enough to reach every worker).
statuses_of() {
	local i out=''
	for ((i = 0; i < $2; i++)); do
		out+=$(curl -sS --cacert "$INFRA_CA" --interface "$FROM" -o /dev/null -w '%{http_code} ' \
			-H "Authorization: Bearer $1" "$INFRA_URL$3")
	done
	echo "$out"
}
# perms_of TOKEN N: the distinct permission lists /auth/permissions gives.
perms_of() {
	local i
	for ((i = 0; i < $2; i++)); do
		curl -sS --cacert "$INFRA_CA" -H "Authorization: Bearer $1" "$INFRA_URL/auth/permissions" |
			jq -c '.permissions'
	done | sort -u | tr '\n' ' '
}

# --- logout: refused at once on every worker
t=$(mint --sub t3100-user --perm infrastructure:read)
check "accepted by every worker (warm caches)" test "$(statuses_of "$t" 8 /system/info)" = "$(printf '200 %.0s' 1 2 3 4 5 6 7 8)"
api POST /auth/logout -H "Authorization: Bearer $t"
expect_status 204 "logout answers 204"
check "refused by every worker right after" test "$(statuses_of "$t" 8 /system/info)" = "$(printf '401 %.0s' 1 2 3 4 5 6 7 8)"
api GET "/system/audit?action=auth.logout&actor=t3100-user" -H "Authorization: Bearer $admin"
expect_json '.items | length' 1 "the logout is audited"
# The audit log pages by its identity: two logouts more, two a page.
for i in 1 2; do
	api POST /auth/logout -H "Authorization: Bearer $(mint --sub t3100-user --perm infrastructure:read)"
done
api GET "/system/audit?action=auth.logout&actor=t3100-user&limit=2" -H "Authorization: Bearer $admin"
expect_json '[(.items | length), (.next_cursor | type)] | map(tostring) | join(" ")' "2 string" \
	"the audit log's first page of two, and a cursor"
first_page=$(jq -c '[.items[].request_id]' <<<"$BODY")
api GET "/system/audit?action=auth.logout&actor=t3100-user&limit=2&cursor=$(jq -r .next_cursor <<<"$BODY")" \
	-H "Authorization: Bearer $admin"
expect_json "[(.items | length), (.next_cursor | type), (.items[0].request_id | IN($first_page[]))] |
	map(tostring) | join(\" \")" "1 null false" "the next page: the first logout, and the last page"
api GET "/system/audit?cursor=bm9wZQ" -H "Authorization: Bearer $admin"
expect_error 422 VAL_001 "a cursor it did not write is 422"

# --- role bindings: in effect on every worker when the PUT answers
api PUT "/auth/roles/$ROLE" '{"permissions":[]}' -H "Authorization: Bearer $admin"
expect_status 200 "bind the role to nothing"
u=$(mint --sub t3100-operator --role "$ROLE")
check "no permission from the role yet (every worker)" test "$(perms_of "$u" 8)" = "[] "
api PUT "/auth/roles/$ROLE" '{"permissions":["databases:read","tenants:read"]}' -H "Authorization: Bearer $admin"
expect_status 200 "rebind the role"
check "the new permissions on every worker at once" \
	test "$(perms_of "$u" 8)" = '["databases:read","tenants:read"] '
api GET /auth/roles -H "Authorization: Bearer $admin"
expect_json ".items[] | select(.role == \"$ROLE\") | .permissions | join(\",\")" \
	"databases:read,tenants:read" "GET /auth/roles lists it"
api PUT "/auth/roles/$ROLE" '{"permissions":["databases:write"]}' -H "Authorization: Bearer $admin"
expect_error 422 VAL_001 "a permission outside the catalog: 422"

# --- memcached stopped mid-test: slower, never wrong, never an error
v=$(mint --sub t3100-during --perm infrastructure:read)
check "accepted before the outage" test "$(statuses_of "$v" 4 /system/info)" = "200 200 200 200 "
mc=$(cat "$INFRA_MEMCACHED_PID")
kill -TERM "$mc"
for _ in $(seq 1 100); do kill -0 "$mc" 2>/dev/null || break; sleep 0.1; done
check "memcached stopped" bash -c "! kill -0 $mc 2>/dev/null"
w=$(mint --sub t3100-fresh --perm infrastructure:read)
check "a new token is accepted without memcached" test "$(statuses_of "$w" 4 /system/info)" = "200 200 200 200 "
api POST /auth/logout -H "Authorization: Bearer $v"
expect_status 204 "logout without memcached"
check "the logged-out token is refused everywhere" test "$(statuses_of "$v" 8 /system/info)" = "$(printf '401 %.0s' 1 2 3 4 5 6 7 8)"
api PUT "/auth/roles/$ROLE" '{"permissions":["migrations:read"]}' -H "Authorization: Bearer $admin"
expect_status 200 "role change without memcached"
check "the role change applies everywhere" test "$(perms_of "$u" 8)" = '["migrations:read"] '

INFRA_VAR=$INFRA_VAR "$INFRA_REPO/scripts/stack" up >"$T_TMP/up.log" 2>&1
check "memcached is back (empty)" test "$(cat "$INFRA_MEMCACHED_PID")" != "$mc"
sleep 2.2	# libmemcached tries a server it marked dead again after 2 s
check "still refused after memcached lost its keys" \
	test "$(statuses_of "$v" 8 /system/info)" = "$(printf '401 %.0s' 1 2 3 4 5 6 7 8)"
check "the role change still applies" test "$(perms_of "$u" 8)" = '["migrations:read"] '
check "other tokens still accepted" test "$(statuses_of "$w" 4 /system/info)" = "200 200 200 200 "

# --- lock-out: AUTH_FAIL_THRESHOLD (20) failures, then 429 with Retry-After
FROM=$net.2
expired=$(mint --ttl -3600)
codes=$(statuses_of "$expired" 20 /system/info)
check "20 failed authentications: 401 each" test "$codes" = "$(printf '401 %.0s' $(seq 1 20))"
fresh=$(mint --sub t3100-locked --perm infrastructure:read)
api GET /system/info --interface "$FROM" -H "Authorization: Bearer $fresh"
expect_error 429 RATE_001 "then even a valid new token gets 429"
expect_header Retry-After '^[0-9]+$' "with Retry-After"
check "the 429 is infrad's lock-out, not nginx's limit" grep -q 'failed authentications' <<<"$BODY"
api GET /system/info --interface "$net.3" -H "Authorization: Bearer $fresh"
expect_status 200 "another address is not locked out"

# --- /auth/validate: active or not, never an error for a bad token
api POST /auth/validate "{\"token\":\"$w\"}" -H "Authorization: Bearer $admin"
expect_json '.active' true "validate: a good token is active"
expect_json '.sub' t3100-fresh "validate: its subject"
api POST /auth/validate "{\"token\":\"$v\"}" -H "Authorization: Bearer $admin"
expect_json '.active' false "validate: a logged-out token is not"
api POST /auth/validate '{"token":"not.a.token"}' -H "Authorization: Bearer $admin"
expect_status 200 "validate: a malformed token is an answer, not an error"
expect_json '.active' false "validate: … and not active"

done_testing
