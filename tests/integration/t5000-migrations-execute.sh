#!/usr/bin/env bash
# t5000-migrations-execute.sh — POST /migrations/execute and the reads
# around it: every bad field of a body reported together; each scope
# (all, admin, regional, tenant, single, narrowed by database_type)
# resolves to the right targets, seen through dry runs that change
# nothing; an execution runs to completion; Idempotency-Key returns the
# same execution and refuses a different body (a dry run included) or an
# empty key; list (filters, cursor), get,
# targets, plan, validate, history, repair and baseline; a tenant-bound
# token sees and acts on its tenant only; an open circuit breaker skips its
# target with the reason; audit and metrics.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
migrations_schema_or_skip

region_a=eu_$RUN
region_b=us_$RUN
tenant_a=acme_$RUN
tenant_b=beta_$RUN
new_db mx_exec
a=$(register mx_exec app tenant "$region_a" "$tenant_a")
b=$(register mx_exec other tenant "$region_b" "$tenant_b")
c=$(register mx_exec events analytics "$region_a")
d=$(register mx_exec flags shared "$region_b")
e=$(register mx_exec ctl admin "$region_b")
check "five databases are registered" test -n "$a" -a -n "$b" -a -n "$c" -a -n "$d" -a -n "$e"

# ------------------------------------------------------------ validation
as "$MIG" POST /migrations/execute '{}'
expect_error 422 VAL_001 "a body without scope is refused"
expect_json '.details.fields.scope' "is required"
as "$MIG" POST /migrations/execute \
	'{"scope":"regional","database_type":"mainframe","target_version":"v1","dry_run":"yes","colour":1}'
expect_error 422 VAL_001 "bad fields are refused"
expect_json '.details.fields | keys | join(",")' colour,database_type,dry_run,region,target_version \
	"every bad field is named, and regional's missing region"
as "$MIG" POST /migrations/execute '{"scope":"everything"}'
expect_json '.details.fields.scope | test("all, admin")' true "an unknown scope lists the scopes"
as "$MIG" POST /migrations/execute '{"scope":"single","database_id":"42"}'
expect_json '.details.fields.database_id | test("UUID")' true "single needs a database id"
as "$MIG" POST /migrations/execute '{"scope":"tenant"}'
expect_json '.details.fields.tenant' "is required for scope tenant"
as "$MIG" POST /migrations/execute '{"scope":"all"}' -H 'Idempotency-Key: has space'
expect_error 422 VAL_001 "a bad Idempotency-Key is refused"
# curl sends a header with an empty value for "Name;" ("Name:" would drop it).
as "$MIG" POST /migrations/execute '{"scope":"regional","region":"nowhere"}' -H 'Idempotency-Key;'
expect_error 422 VAL_001 "an empty Idempotency-Key is refused, not taken for none"
expect_json '.details.fields["Idempotency-Key"]' "Idempotency-Key must be 1 to 200 characters" \
	"… naming the header"
as "$MIG" POST /migrations/execute '{"scope":"regional","region":"nowhere","dry_run":true}' \
	-H 'Idempotency-Key;'
expect_error 422 VAL_001 "… for a dry run too"
as "$MIG_READ" POST /migrations/execute '{"scope":"all"}'
expect_error 403 AUTH_002 "execute needs migrations:execute"

# ------------------------------------------------- scopes, through dry runs
count=$(executions_count)
# plan_targets BODY: the targets of a dry run, sorted, one line.
plan_targets() {
	as "$MIG" POST /migrations/execute "$1"
	[ "$STATUS" = 200 ] || { echo "# dry run: $STATUS $BODY"; return; }
	jq -r '[.plan[].target] | sort | join(",")' <<<"$BODY"
}
n() { echo "mx_exec-$1-$RUN/$1"; }
check "regional resolves to the region's databases" test \
	"$(plan_targets "{\"scope\":\"regional\",\"region\":\"$region_a\",\"dry_run\":true}")" = "$(n app),$(n events)"
check "tenant resolves to the tenant's databases" test \
	"$(plan_targets "{\"scope\":\"tenant\",\"tenant\":\"$tenant_b\",\"dry_run\":true}")" = "$(n other)"
check "single resolves to one database" test \
	"$(plan_targets "{\"scope\":\"single\",\"database_id\":\"$d\",\"dry_run\":true}")" = "$(n flags)"
check "database_type narrows a scope" test \
	"$(plan_targets "{\"scope\":\"regional\",\"region\":\"$region_b\",\"database_type\":\"shared\",\"dry_run\":true}")" = "$(n flags)"
admin=$(plan_targets '{"scope":"admin","dry_run":true}')
check "admin resolves to admin databases only" bash -c "grep -q -F '$(n ctl)' <<<'$admin' && ! grep -q -F '$(n app)' <<<'$admin'"
all=$(plan_targets '{"scope":"all","dry_run":true}')
check "all resolves to every active database" bash -c \
	"for t in $(n app) $(n other) $(n events) $(n flags) $(n ctl); do grep -q -F \"\$t\" <<<'$all' || exit 1; done"
as "$MIG" POST /migrations/execute "{\"scope\":\"single\",\"database_id\":\"$a\",\"dry_run\":true}"
expect_status 200 "a dry run answers 200"
expect_json '[.plan[0].pending[].version] | join(",")' 1,2,3,4,5,6,7,8,9,10,11,12 "the plan lists the 12 pending versions"
expect_json '.plan[0].pending[0] | [.version, .description, .script] | join("|")' "1|create users|V1__create_users.sql"
as "$MIG" POST /migrations/execute \
	"{\"scope\":\"single\",\"database_id\":\"$a\",\"dry_run\":true,\"target_version\":\"3\"}"
expect_json '[.plan[0].pending[].version] | join(",")' 1,2,3 "a dry run honours target_version"
as "$MIG" GET "/migrations/plan?scope=single&database_id=$a&target_version=2"
expect_status 200 "GET /migrations/plan answers the same plan"
expect_json '[.plan[0].pending[].version] | join(",")' 1,2
as "$MIG" GET "/migrations/plan?scope=single"
expect_error 422 VAL_001 "the plan's query is validated as the body"
as "$MIG" POST /migrations/execute '{"scope":"regional","region":"nowhere","dry_run":true}'
expect_error 422 MIG_001 "a scope that matches nothing is 422 MIG_001"
check "dry runs created no execution" test "$(executions_count)" = "$count"
check "dry runs changed no target (no history table)" test \
	"$(target_psql mx_exec -c "SELECT count(*) FROM pg_namespace WHERE nspname IN ('app','other','events','flags','ctl')")" = 0
as "$MIG" POST /migrations/execute '{"scope":"regional","region":"nowhere"}'
expect_error 422 MIG_001 "an execution that matches nothing is refused"
check "and creates nothing" test "$(executions_count)" = "$count"

# ------------------------------------------------ execute, idempotency
key="k-$RUN"
as "$MIG" POST /migrations/execute "{\"scope\":\"tenant\",\"tenant\":\"$tenant_a\"}" -H "Idempotency-Key: $key"
expect_status 202 "an execution is accepted"
expect_header Location "^/migrations/[0-9a-f-]{36}$"
expect_json .status pending "it starts pending"
expect_json .progress.total_targets 1
expect_json .executed_by mig-operator
expect_json .filters.tenant "$tenant_a"
first=$(jq -r .id <<<"$BODY")
as "$MIG" POST /migrations/execute "{\"scope\":\"tenant\",\"tenant\":\"$tenant_a\"}" -H "Idempotency-Key: $key"
expect_status 202 "the same request with the same key is accepted again"
expect_json .id "$first" "… as the same execution"
expect_header Idempotent-Replayed true
as "$MIG" POST /migrations/execute "{\"scope\":\"tenant\",\"tenant\":\"$tenant_b\"}" -H "Idempotency-Key: $key"
expect_error 409 RES_002 "another request under the same key is refused"
check "one execution was created for the key" test "$(psql_control -c \
	"SELECT count(*) FROM infra.executions WHERE idempotency_key = '$key'")" = 1
# dry_run is part of the request a key names: a dry run is never a replay.
as "$MIG" POST /migrations/execute "{\"scope\":\"tenant\",\"tenant\":\"$tenant_a\",\"dry_run\":true}" \
	-H "Idempotency-Key: $key"
expect_error 409 RES_002 "a dry run under a real run's key is refused: a different request"
as "$MIG" POST /migrations/execute "{\"scope\":\"tenant\",\"tenant\":\"$tenant_a\",\"dry_run\":true}" \
	-H "Idempotency-Key: dry-$key"
expect_status 200 "a dry run under an unused key is a plan"
check "… that records nothing, the key included" test "$(psql_control -c \
	"SELECT count(*) FROM infra.executions WHERE idempotency_key = 'dry-$key'")" = 0
check "the execution completes" wait_status 60 "$first" completed
check "the target has the 12 versions" test "$(versions mx_exec app)" = 1,2,3,4,5,6,7,8,9,10,11,12
check "and their tables" test "$(tables mx_exec app)" = \
	audit_events,comments,designs,project_summary,project_tags,projects,settings,tags,users
as "$MIG" POST /migrations/execute "{\"scope\":\"tenant\",\"tenant\":\"$tenant_a\"}" -H "Idempotency-Key: $key"
expect_json .status completed "a replay after the end shows the execution as it is now"

# ------------------------------------------------------ get, targets, list
as "$MIG_READ" GET "/migrations/$first"
expect_status 200 "GET /migrations/{id}"
expect_json .progress.completed_targets 1
expect_json .progress.percent 100
expect_json '.started_at | test("Z$")' true "timestamps are UTC with Z"
expect_json '.completed_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' true
as "$MIG_READ" GET "/migrations/$first/targets"
expect_status 200 "GET /migrations/{id}/targets"
expect_json '.items[0] | [.database_id, .schema, .status, .attempts] | join(",")' "$a,app,completed,1"
expect_json '.items[0].applied | length' 12 "the target lists what it applied"
expect_json '.items[0].applied[0] | has("execution_ms")' true
expect_json '.items[0].current_version' 12
as "$MIG_READ" GET /migrations/00000000-0000-4000-8000-000000000000
expect_error 404 RES_001 "an unknown execution is 404"
as "$MIG_READ" GET /migrations/not-an-id/targets
expect_error 404 RES_001 "a malformed id is 404"
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$c\"}"
second=$EXEC
wait_status 60 "$second" completed || true
as "$MIG_READ" GET '/migrations?limit=1'
expect_status 200 "GET /migrations"
expect_json .items[0].id "$second" "newest first"
cursor=$(jq -r .next_cursor <<<"$BODY")
as "$MIG_READ" GET "/migrations?limit=1&cursor=$cursor"
expect_json .items[0].id "$first" "the cursor continues after the first page"
as "$MIG_READ" GET '/migrations?status=completed&limit=100'
expect_json '[.items[].status] | unique | join(",")' completed "status filters"
as "$MIG_READ" GET '/migrations?status=done'
expect_error 422 VAL_001 "an unknown status is refused"
as "$MIG_READ" GET '/migrations?cursor=bogus'
expect_error 422 VAL_001 "a foreign cursor is refused"

# ------------------------------------------- validate, history, repair, baseline
as "$MIG_READ" POST /migrations/validate "{\"scope\":\"single\",\"database_id\":\"$a\"}"
expect_status 200 "POST /migrations/validate"
expect_json '.items[0] | [.target, .ok, (.problems | length)] | join(",")' "$(n app),true,0" "a migrated target validates"
as "$MIG_READ" POST /migrations/validate "{\"scope\":\"single\",\"database_id\":\"$b\"}"
expect_json '.items[0].ok' false "an unmigrated target does not"
expect_json '.items[0].problems[0].code | test("^[A-Z_]+$")' true "with Flyway's problem codes"
as "$MIG_READ" GET "/migrations/history?database_id=$a"
expect_status 200 "GET /migrations/history"
expect_json '[.items[] | select(.type == "SQL") | .version] | join(",")' 1,2,3,4,5,6,7,8,9,10,11,12
expect_json '.items[1] | [.installed_rank, .success, (.installed_on | test("Z$"))] | join(",")' 1,true,true
as "$MIG_READ" GET "/migrations/history?schema=app"
expect_error 422 VAL_001 "history needs database_id"
as "$MIG_READ" POST /migrations/repair "{\"database_id\":\"$a\"}"
expect_error 403 AUTH_002 "repair needs migrations:manage"
as "$MIG" POST /migrations/repair "{\"database_id\":\"$a\",\"schema\":\"app\"}"
expect_status 200 "repair of a clean target"
expect_json .repair.removed_failed 0
as "$MIG" POST /migrations/baseline "{\"database_id\":\"$d\",\"schema\":\"based\",\"version\":\"3\"}"
expect_status 200 "baseline of a fresh schema"
expect_json .baselined true
check "the baseline row is in the target" test "$(target_psql mx_exec -c \
	"SELECT version || ',' || type FROM based.flyway_schema_history WHERE type = 'BASELINE'")" = 3,BASELINE
as "$MIG" POST /migrations/baseline "{\"database_id\":\"$d\",\"schema\":\"$(printf 'x%.0s' $(seq 64))\"}"
expect_error 422 VAL_001 "a bad baseline body is refused"
expect_json '.details.fields | keys | join(",")' schema,version
check "repair and baseline are audited" test "$(psql_control -c "SELECT count(*) FROM infra.audit_log
	WHERE action IN ('migration.repair', 'migration.baseline') AND outcome = 'success'
	AND actor = 'mig-operator' AND resource_id IN ('$a', '$d')")" -ge 2

# ------------------------------------------------------- tenant isolation
TENANT=$(token --sub acme-op --tenant "$tenant_a" --perm migrations:execute --perm migrations:read)
as "$TENANT" POST /migrations/execute "{\"scope\":\"tenant\",\"tenant\":\"$tenant_b\",\"dry_run\":true}"
expect_error 403 AUTH_002 "a tenant-bound token cannot name another tenant"
as "$TENANT" POST /migrations/execute '{"scope":"all","dry_run":true}'
expect_json '[.plan[].target] | join(",")' "$(n app)" "scope all reaches only its tenant's databases"
as "$TENANT" POST /migrations/execute "{\"scope\":\"single\",\"database_id\":\"$b\",\"dry_run\":true}"
expect_error 422 MIG_001 "another tenant's database is no target"
as "$TENANT" POST /migrations/execute '{"scope":"all"}'
expect_status 202 "it starts an execution on its tenant"
own=$(jq -r .id <<<"$BODY")
wait_status 60 "$own" completed || true
as "$TENANT" GET '/migrations?limit=100'
expect_json "[.items[].id] | join(\",\")" "$own" "it lists its own executions only"
as "$TENANT" GET "/migrations/$first"
expect_error 404 RES_001 "another principal's platform execution is not found"
as "$TENANT" POST "/migrations/$first/cancel"
expect_error 404 RES_001 "nor can it be cancelled"

# ------------------------------------------------------- open circuit
# The breaker of `flags` is opened by hand (and its next probe put off),
# as three failed probes would: the runner skips the target with the reason.
psql_control -c "UPDATE infra.database_circuits SET state = 'open', consecutive_failures = 3,
	opened_at = now(), last_error = 'connection refused', next_probe_at = now() + interval '1 hour'
	WHERE database_id = '$d'" >/dev/null
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$d\"}"
expect_status 202 "an execution on a database whose circuit is open is accepted"
check "it ends failed" wait_status 60 "$EXEC" failed
check "its target is skipped" test "$(target_field "$EXEC" "$d" flags .status)" = skipped
check "… saying the circuit is open, and why" bash -c \
	"grep -q 'circuit open.*connection refused' <<<'$(target_field "$EXEC" "$d" flags .error)'"
as "$MIG" GET "/migrations/$EXEC"
expect_json .progress.skipped_targets 1
check "nothing was applied" test "$(target_psql mx_exec -c "SELECT to_regclass('flags.flyway_schema_history') IS NULL")" = t
psql_control -c "UPDATE infra.database_circuits SET state = 'closed', consecutive_failures = 0,
	opened_at = NULL WHERE database_id = '$d'" >/dev/null

# ------------------------------------------------------- audit, metrics
check "executions are audited with their scope" test "$(psql_control -c "SELECT count(*) FROM infra.audit_log
	WHERE action = 'migration.execute' AND outcome = 'success' AND resource_id = '$first'
	AND details->>'scope' = 'tenant'")" = 1
check "refused executions are audited" test "$(psql_control -c "SELECT count(*) FROM infra.audit_log
	WHERE action = 'migration.execute' AND outcome = 'failure' AND actor = 'mig-operator'")" -ge 1
metrics=$(curl -s --cacert "$INFRA_CA" "$INFRA_URL/metrics")
check "executions by status in /metrics" grep -q '^infra_migration_executions_total{status="completed"} [1-9]' <<<"$metrics"
check "targets by outcome in /metrics" grep -q '^infra_migration_targets_total{status="completed"} [1-9]' <<<"$metrics"
check "open streams in /metrics" grep -q '^infra_sse_streams [0-9]' <<<"$metrics"

done_testing
