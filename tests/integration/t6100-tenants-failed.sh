#!/usr/bin/env bash
# t6100-tenants-failed.sh — a tenant whose schema cannot be created: its
# database's user lacks CREATE on the database. The tenant is created
# `failed` with the server's reason (nothing half-done: no schema, no
# execution, its event done), /migrate refuses while the cause stays, and
# after a GRANT the same route creates the schema and migrates it; a
# schema its owner made beforehand is taken as it is without the GRANT. A
# database that does not answer fails the tenant the same way, promptly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
. "$(dirname "$0")/tenants-lib.sh"
tenants_schema_or_skip

# A database owned by postgres that ten_nocreate may connect to, not create in.
psql_target -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ten_nocreate" \
	-c "DROP ROLE IF EXISTS ten_nocreate" -c "CREATE ROLE ten_nocreate LOGIN PASSWORD 'pw-ten_nocreate'" \
	-c "CREATE DATABASE ten_nocreate OWNER postgres" -c "REVOKE CREATE ON DATABASE ten_nocreate FROM PUBLIC" >/dev/null
db=$(register ten_nocreate public tenant)
slug=nocreate_$RUN
executions_before=$(executions_count)

create_tenant "$TEN" "$slug" "$db"
expect_status 201 "the tenant is created, visibly failed"
expect_json .status failed
expect_json '.error | test("permission denied for database")' true "with the server's reason"
expect_json .migration_execution_id null "and no migration"
failed_id=$TENANT
check "no execution was started" test "$(executions_count)" = "$executions_before"
check "no schema was created" test "$(target_psql ten_nocreate -c \
	"SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_$slug'")" = 0
check "its event is done, saying why" test "$(psql_control -c "SELECT status || ' ' || (result ? 'error')
	FROM infra.outbox WHERE event_type = 'tenant.created' AND resource_id = '$failed_id'")" = "done true"
as "$TEN_READ" GET "/tenants/$slug"
expect_json '[.status, (.error | test("permission denied"))] | join(" ")' "failed true" \
	"GET shows the failed state and its reason"

as "$TEN" POST "/tenants/$slug/migrate"
expect_error 422 MIG_001 "migrate refuses while the schema cannot be created"
expect_json '.message | test("permission denied")' true "saying why"
check "still failed, still no execution" test \
	"$(tenant_field "$failed_id" status) $(executions_count)" = "failed $executions_before"

psql_target -c "GRANT CREATE ON DATABASE ten_nocreate TO ten_nocreate" >/dev/null
as "$TEN" POST "/tenants/$slug/migrate"
expect_status 202 "after the GRANT, migrate is accepted"
expect_json '[.scope, .filters.tenant] | join(" ")' "tenant $slug"
retry=$(jq -r .id <<<"$BODY")
check "the tenant is active" test "$(tenant_field "$failed_id" "status || coalesce(error, '')")" = active
check "its migration completes" wait_status 60 "$retry" completed
check "the schema has the whole tenant set" migrated ten_nocreate "tenant_$slug"
as "$TEN_READ" GET "/tenants/$failed_id"
expect_json '[.status, .error, .migration_execution_id] | join(" ")' "active  $retry" \
	"the tenant shows its new migration and no error"
check "the retry is audited" test "$(psql_control -c "SELECT count(*) FROM infra.audit_log
	WHERE action = 'tenant.migrate' AND resource_id = '$slug' AND outcome = 'success'")" = 1
check "the refusal is audited too" test "$(psql_control -c "SELECT count(*) FROM infra.audit_log
	WHERE action = 'tenant.migrate' AND resource_id = '$slug' AND outcome = 'failure'")" = 1

# ------------------------------- a schema made beforehand by its owner
# The user may not create schemas in the database, but the tenant's schema
# is there already, its own: it is taken as it is (CREATE SCHEMA IF NOT
# EXISTS is refused even then; the existing one is looked up after).
psql_target -c "REVOKE CREATE ON DATABASE ten_nocreate FROM ten_nocreate" >/dev/null
target_psql ten_nocreate -c "CREATE SCHEMA tenant_pre_$RUN AUTHORIZATION ten_nocreate" >/dev/null
create_tenant "$TEN" "pre_$RUN" "$db"
expect_status 201 "a tenant whose schema exists already is created"
expect_json '[.status, .error] | join(" ")' "active " "active, without an error"
check "its migration completes" wait_status 60 "$TEXEC" completed
check "in the schema made beforehand" migrated ten_nocreate "tenant_pre_$RUN"

# ------------------------------------------------------ an absent database
as "$MIG" POST '/databases?verify=false' "$(db_body "down-$RUN" nobody x 1)"
down=$(jq -r .id <<<"$BODY")
start=$SECONDS
create_tenant "$TEN" "down_$RUN" "$down"
expect_status 201 "a tenant on a database that is down is created"
expect_json '[.status, (.error | test("connect|refused"))] | join(" ")' "failed true" \
	"failed, with the connection's reason"
check "within the probe timeout" test $((SECONDS - start)) -le 10

done_testing
