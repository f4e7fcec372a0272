#!/usr/bin/env bash
# t1200-errors.sh — the error bodies of API.md for bad requests of every kind:
# 404, 405 with Allow, 413, 415, malformed JSON, bytes that are not UTF-8 in
# a path or query, NUL escaped in a JSON string; none of them disturbs a
# worker, and a refused body changes nothing.
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

# Bytes that are not UTF-8, escaped or raw, in a query or a path: 400
# (they reached PostgreSQL before, which refused them: a 500).
if [ ${#auth[@]} -gt 0 ]; then
	for q in '%ff' '%c0%80' '%ed%a0%80' '%f4%90%80%80' $'\xff'; do
		api GET "/databases?q=$q" "${auth[@]}"
		expect_error 400 VAL_001 "a query value of ${q@Q}: 400 VAL_001"
	done
	api GET "/system/audit?actor=%ff" "${auth[@]}"
	expect_error 400 VAL_001 "an audit filter that is not UTF-8: 400 VAL_001"
	api GET "/databases/%ff" "${auth[@]}"
	expect_error 400 VAL_001 "a path parameter that is not UTF-8: 400 VAL_001"
	api GET "/databases?q=caf%c3%a9" "${auth[@]}"
	expect_status 200 "a query value in UTF-8 is fine"

	# A NUL escaped in a JSON string (json-c keeps it; C would cut the
	# string there): 422 naming where, and nothing created.
	dbs=$(psql_control -c "SELECT count(*) FROM infra.databases")
	api POST /databases '{"name":"nul\u0000x","host":"127.0.0.1","port":5432,"database_name":"d","username":"u","password":"p","database_type":"tenant"}' "${auth[@]}"
	expect_error 422 VAL_001 "a NUL in a string: 422 VAL_001"
	expect_json '.details.fields.name | test("NUL")' true "… naming the field"
	api POST /databases '{"name":"n","labels":{"team":["a","b\u0000"]},"host":"127.0.0.1"}' "${auth[@]}"
	expect_json '.details.fields | keys | join(",")' 'labels.team[1]' "… a nested one by its path"
	api POST /databases '{"na\u0000me":"x"}' "${auth[@]}"
	expect_error 422 VAL_001 "a NUL in a member name: 422 VAL_001"
	check "none of them created anything" test "$(psql_control -c "SELECT count(*) FROM infra.databases")" = "$dbs"
	api PUT /auth/roles/t1200_role '{"permissions":["migrations:manage\u0000junk"]}' "${auth[@]}"
	expect_error 422 VAL_001 "a NUL in a permission: 422, not a grant of the part before it"
	check "… and no role binding was made" test "$(psql_control -c \
		"SELECT count(*) FROM infra.role_bindings WHERE role = 't1200_role'")" = 0
	api POST /auth/validate '{"token":"\\u0000"}' "${auth[@]}"
	check "an escaped backslash before u0000 is no NUL (got $STATUS)" test "$STATUS" != 422
	# A user agent that is not UTF-8 is kept, as '?', with the change's
	# audit record (PostgreSQL refused it, and the record with it).
	api PUT /auth/roles/t1200_ua '{"permissions":["migrations:read"]}' "${auth[@]}" -H $'User-Agent: probe\xff'
	expect_status 200 "a change sent with a user agent that is not UTF-8"
	check "… is audited, the agent's stray byte as '?'" test "$(psql_control -c "SELECT user_agent FROM
		infra.audit_log WHERE resource_id = 't1200_ua'")" = 'probe?'
	for body in 1 null '"x"' '[]' 'true'; do
		api POST /auth/validate "$body" "${auth[@]}"
		expect_error 422 VAL_001 "a body of $body: 422, it must be a JSON object"
	done
fi

api GET /health
expect_status 200 "the service answers after all that"
check "no worker was replaced by the bad requests" test "$(infrad_pids worker | sort | tr '\n' ' ')" = "$workers_before"

done_testing
