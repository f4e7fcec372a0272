#!/usr/bin/env bash
# t4000-databases-crud.sh — /databases through nginx → infrad: every
# validation error named, create with a connection test, 409 on a taken
# name, ETag/If-Match (412), soft delete, permissions, the connection tests,
# the database.registered event, and the password in no response, log line
# or control-database row.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
registry_schema_or_skip

run=$(openssl rand -hex 3)
PW="Crud-Pw-$(openssl rand -hex 10)"
PW2="Crud-Pw2-$(openssl rand -hex 10)"
make_role reg_crud "$PW"
bodies=$T_TMP/bodies	# every response body, searched for the password at the end
keep() { printf '%s\n' "$BODY" >>"$bodies"; }

# ------------------------------------------------------------- validation
bad=$(jq -cn '{name: "bad name", host: "-x", port: 70000, database_name: "", username: 7,
	password: "p", database_type: "oltp", region: "EU", schema: "", sslmode: "sometimes",
	labels: {a: {}}, auto_migrate: "yes", tenant: "X", id: "x", colour: "red"}')
as "$MANAGE" POST /databases "$bad"
expect_error 422 VAL_001 "a body with fifteen bad fields is 422 VAL_001"
for f in name host port database_name username database_type region schema sslmode labels \
	auto_migrate tenant id colour; do
	expect_json ".details.fields.\"$f\" | type" string "details.fields names '$f'"
done
expect_json '.details.fields.id' 'is read-only' "id is read-only"

as "$MANAGE" POST /databases '{}'
expect_error 422 VAL_001 "an empty body is 422"
expect_json '[.details.fields | to_entries[] | select(.value == "is required") | .key] | sort | join(",")' \
	database_name,database_type,host,name,password,username "every required field is named"

as "$MANAGE" POST /databases '{"name":'
expect_error 400 VAL_001 "malformed JSON is 400"
as "$MANAGE" POST /databases --data-binary 'name=x' -H 'Content-Type: application/x-www-form-urlencoded'
expect_error 415 REQ_001 "a form body is 415"
as "$MANAGE" POST '/databases?verify=maybe' "$(db_body crud1-$run reg_crud "$PW")"
expect_error 422 VAL_001 "verify must be true or false"

# --------------------------------------------------------------- create
as "$MANAGE" POST /databases "$(db_body crud1-$run reg_crud wrong-password)"
expect_error 422 VAL_001 "a failing connection test refuses the create"
expect_json '.details.fields.connection | test("password authentication failed")' true \
	"the reason is the server's"
expect_json '.details.test.ok' false "details.test carries the test result"
keep

as "$MANAGE" POST /databases "$(db_body crud1-$run reg_crud "$PW" "$TARGET_PORT" '.labels = {team: "payments"} | .region = "eu-west-1" | .auto_migrate = true')"
expect_status 201 "create with a passing connection test"
keep
id=$(jq -r .id <<<"$BODY")
check "the id is a UUID" grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' <<<"$id"
expect_header Location "^/databases/$id\$" "Location names the new database"
expect_header ETag '^"1"$' 'ETag "1"'
expect_json '.version' 1
expect_json 'has("password")' false "no password in the answer"
expect_json '.labels.team' payments
expect_json '.schema' public "schema defaults to public"
expect_json '.is_active' true
expect_json '.created_by' reg-admin "created_by is the caller"
expect_json '.created_at | test("^[0-9-]{10}T[0-9:]{8}Z$")' true "created_at is UTC ISO 8601"
check "a database.registered event in the outbox" test \
	"$(psql_control -c "SELECT count(*) FROM infra.outbox WHERE event_type = 'database.registered' AND resource_id = '$id'")" = 1

as "$MANAGE" POST /databases "$(db_body crud1-$run reg_crud "$PW")"
expect_error 409 RES_002 "the same name again is 409 RES_002"

as "$MANAGE" POST '/databases?verify=false' "$(db_body crud2-$run reg_crud "$PW" 1)"
expect_status 201 "verify=false skips the connection test"
id2=$(jq -r .id <<<"$BODY")
# (Only database.registered: a runner probing the new database may record
# its first health, database.health_changed, at any moment.)
check "no event without auto_migrate" test \
	"$(psql_control -c "SELECT count(*) FROM infra.outbox WHERE resource_id = '$id2'
		AND event_type = 'database.registered'")" = 0

# ---------------------------------------------------------------- read
as "$READ" GET "/databases/$id"
expect_status 200 "GET by id"
expect_header ETag '^"1"$'
expect_json .name "crud1-$run"
keep
as "$READ" GET /databases/not-a-uuid
expect_error 404 RES_001 "a malformed id is 404"
as "$READ" GET /databases/00000000-0000-4000-8000-000000000000
expect_error 404 RES_001 "an unknown id is 404"
as "$READ" GET /databases/test
expect_error 404 RES_001 "GET /databases/test is not a database"

# -------------------------------------------------------------- update
as "$MANAGE" PATCH "/databases/$id" '{"port": 5433}' -H 'If-Match: "1"'
expect_status 200 "PATCH with the current ETag"
expect_header ETag '^"2"$' 'the ETag moves to "2"'
expect_json .port 5433
as "$MANAGE" PATCH "/databases/$id" '{"port": 5434}' -H 'If-Match: "1"'
expect_error 412 RES_003 "PATCH with a stale ETag is 412 RES_003"
as "$MANAGE" PATCH "/databases/$id" '{"port": 5434}' -H 'If-Match: W/"2"'
expect_error 412 RES_003 "a weak ETag never matches (strong comparison)"
as "$MANAGE" PATCH "/databases/$id" '{"port": 5434}' -H 'If-Match: "2"garbage'
expect_error 412 RES_003 'a malformed ETag never matches ("2"garbage is not "2")'
as "$MANAGE" PATCH "/databases/$id" '{"port": 5434}' -H 'If-Match: "02"'
expect_error 412 RES_003 'nor does another spelling of the version ("02")'
as "$MANAGE" DELETE "/databases/$id" -H 'If-Match: "2"x, W/"2"'
expect_error 412 RES_003 "a list of tags that cannot match is 412 for DELETE too"
as "$MANAGE" PATCH "/databases/$id" '{"port": 5434}' -H 'If-Match: "7", "2"'
expect_status 200 "a list of ETags holding the current one matches"
as "$MANAGE" PATCH "/databases/$id" "{\"port\": $TARGET_PORT}"
expect_status 200 "PATCH without If-Match is allowed"
expect_json .version 4
as "$MANAGE" PATCH "/databases/$id" '{"port": 5432}' -H 'If-Match: *'
expect_status 200 "If-Match: * matches any version"
as "$MANAGE" PATCH "/databases/$id" "{\"port\": $TARGET_PORT, \"labels\": {\"team\": \"core\"}, \"region\": null}"
expect_json '.labels.team + " " + (.region | tostring)' "core null" "labels replaced, region cleared"
as "$MANAGE" PATCH "/databases/$id" '{}'
expect_error 422 VAL_001 "an empty PATCH is 422"
as "$MANAGE" PATCH "/databases/$id" '{"port": "5432", "id": "x", "created_by": "me"}'
expect_error 422 VAL_001 "PATCH validates each field"
expect_json '.details.fields | keys | join(",")' created_by,id,port
as "$MANAGE" PATCH "/databases/$id" "{\"name\": \"crud2-$run\"}"
expect_error 409 RES_002 "renaming onto an active name is 409"

psql_target -c "ALTER ROLE reg_crud PASSWORD '$PW2'" >/dev/null
as "$MANAGE" POST "/databases/$id/test"
expect_json .ok false "after the role's password changed the stored one fails"
keep
as "$MANAGE" PATCH "/databases/$id" "{\"password\": \"$PW2\"}"
expect_status 200 "PATCH the password"
keep

# ----------------------------------------------------------- test routes
as "$READ" POST "/databases/$id/test"
expect_status 200 "POST /databases/{id}/test with databases:read"
expect_json .ok true "the new password connects"
expect_json '.server_version | test("^[0-9]+")' true "the server's version is reported"
expect_json '.latency_ms | type' number
keep
as "$MANAGE" POST /databases/test "$(db_body unsaved reg_crud "$PW2")"
expect_status 200 "POST /databases/test for an unsaved body"
expect_json .ok true
keep
as "$MANAGE" POST /databases/test "$(db_body unsaved reg_crud "not-$PW2")"
expect_json .ok false "a wrong password fails the test"
expect_json '.error | test("password authentication failed")' true "with the server's reason"
keep
as "$READ" POST /databases/test "$(db_body unsaved reg_crud "$PW2")"
expect_error 403 AUTH_002 "POST /databases/test needs databases:manage"

# --------------------------------------------------------- permissions
as "$READ" POST /databases "$(db_body crud3-$run reg_crud "$PW2")"
expect_error 403 AUTH_002 "databases:read cannot create"
api GET /databases
expect_error 401 AUTH_001 "no token is 401"

# -------------------------------------------------------------- delete
as "$MANAGE" DELETE "/databases/$id2" -H 'If-Match: "9"'
expect_error 412 RES_003 "DELETE with a stale ETag is 412"
as "$MANAGE" DELETE "/databases/$id2"
expect_status 204 "DELETE is 204"
as "$READ" GET "/databases/$id2"
expect_json .is_active false "a deleted database is kept, inactive"
as "$MANAGE" DELETE "/databases/$id2"
expect_error 404 RES_001 "deleting it again is 404"
as "$READ" GET "/databases?q=crud2-$run"
expect_json .total 0 "the list shows active databases by default"
as "$READ" GET "/databases?q=crud2-$run&active=false"
expect_json '.items[0].id' "$id2" "active=false lists deleted ones"
as "$MANAGE" POST '/databases?verify=false' "$(db_body crud2-$run reg_crud "$PW2")"
expect_status 201 "a deleted database's name can be used again"

# ------------------------------------------------- the password nowhere
check "no response body holds a password" bash -c "! grep -q -e '$PW' -e '$PW2' '$bodies'"
check "no log line holds a password" bash -c "! grep -r -q -e '$PW' -e '$PW2' '$INFRA_LOG_DIR'"
pg_dump "$INFRA_PGURL" -n infra --data-only >"$T_TMP/dump.sql" 2>/dev/null
check "the control database (audit, outbox, registry) holds no password" \
	bash -c "test -s '$T_TMP/dump.sql' && ! grep -q -e '$PW' -e '$PW2' '$T_TMP/dump.sql'"

done_testing
