#!/usr/bin/env bash
# t1200-errors.sh — the error bodies of API.md for bad requests of every kind:
# 404, 405 with Allow, 413, 415, malformed JSON; none of them disturbs a worker.
. "$(dirname "$0")/lib.sh"

workers_before=$(infrad_pids worker | sort | tr '\n' ' ')

api GET /no/such/route
expect_error 404 RES_001 "unknown route: 404 RES_001"

api DELETE /health
expect_error 405 REQ_001 "wrong method: 405 REQ_001"
expect_header Allow 'GET' "405 names the allowed methods"

# A body over client_max_body_size (1 MiB): nginx answers 413 itself.
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'x' >"$T_TMP/big"
api POST /health "" --data-binary @"$T_TMP/big" -H 'Content-Type: application/json'
expect_error 413 REQ_001 "body too large: 413 REQ_001"
expect_security_headers "413"

api GET /admin/ -X POST
expect_error 405 REQ_001 "POST to a static page: 405 REQ_001 (nginx)"
expect_header Allow 'GET' "nginx's 405 names the allowed methods"

# 415 and 400 need a route that takes a JSON body: the first one that exists.
auth=()
if tok=$(token --perm infrastructure:admin 2>/dev/null); then
	auth=(-H "Authorization: Bearer $tok")
fi
route=''
for candidate in /auth/validate /databases/test /databases; do
	api POST "$candidate" '{"token":' "${auth[@]}"
	if [ "$STATUS" != 404 ] && [ "$STATUS" != 405 ]; then
		route=$candidate
		break
	fi
done
if [ -z "$route" ]; then
	skip "415 and malformed JSON: no JSON POST route yet"
else
	diag "JSON body route: POST $route"
	expect_error 400 VAL_001 "malformed JSON to $route: 400 VAL_001"
	api POST "$route" '[1,2' "${auth[@]}"
	expect_error 400 VAL_001 "truncated JSON to $route: 400 VAL_001"
	api POST "$route" 'token=x' -H 'Content-Type: text/plain' "${auth[@]}"
	expect_error 415 REQ_001 "not JSON to $route: 415 REQ_001"
fi

api GET '/health?%zz=1'
check "a bad query string is not a 5xx (got $STATUS)" test "${STATUS:0:1}" != 5

api GET /health
expect_status 200 "the service answers after all that"
check "no worker was replaced by the bad requests" test "$(infrad_pids worker | sort | tr '\n' ' ')" = "$workers_before"

done_testing
