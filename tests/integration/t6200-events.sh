#!/usr/bin/env bash
# t6200-events.sh — the outbox's consumer in the job runners: an event
# delivered twice yields one execution (a done tenant.created put back to
# pending, then one whose holder died with its lease run out); a tenant
# whose request died before delivering its event is provisioned and
# migrated by the runners under the event's execution id; a database
# registered with auto_migrate gets migrated; a handler that keeps failing
# goes dead after EVENT_RETRY_ATTEMPTS with an event.dead alert, and is
# revived; the history's filters and pages. infrad runs with 3 attempts per
# event here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
. "$(dirname "$0")/tenants-lib.sh"
tenants_schema_or_skip

check "infrad restarts with 3 attempts per event" restart_infrad INFRA_EVENT_RETRY_ATTEMPTS=3
trap 't6_cleanup; restart_infrad >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT

new_db ev_main
db=$(register ev_main public tenant)
# event_is ID STATUS ATTEMPTS
event_is() { [ "$(psql_control -c "SELECT status || ' ' || attempts FROM infra.outbox WHERE id = $1")" = "$2 $3" ]; }
tenant_executions() { psql_control -c "SELECT count(*) FROM infra.executions WHERE filters->>'tenant' = '$1'"; }

# ------------------------------------------------------- delivered twice
create_tenant "$TEN" "twice_$RUN" "$db"
expect_status 201 "a tenant"
check "its migration completes" wait_status 60 "$TEXEC" completed
ev=$(psql_control -c "SELECT id FROM infra.outbox WHERE event_type = 'tenant.created' AND resource_id = '$TENANT'")
check "its event was delivered once, inline" event_is "$ev" done 1
psql_control -c "UPDATE infra.outbox SET status = 'pending', next_attempt_at = now() WHERE id = $ev"
check "put back to pending, the runners deliver it again" wait_for 20 event_is "$ev" done 2
check "… finding the execution it started: still one" test "$(tenant_executions "twice_$RUN")" = 1
check "… and saying which" test "$(psql_control -c "SELECT result->>'execution_id' FROM infra.outbox
	WHERE id = $ev")" = "$TEXEC"
psql_control -c "UPDATE infra.outbox SET status = 'processing', lease_owner = 'gone:1',
	lease_expires_at = now() - interval '1 second' WHERE id = $ev"
check "an event whose holder died is taken over when its lease runs out" wait_for 20 event_is "$ev" done 3
check "… and yields no second execution" test "$(tenant_executions "twice_$RUN")" = 1

# ------------------------------------- a request that died before delivering
tid=$(cat /proc/sys/kernel/random/uuid)
xid=$(cat /proc/sys/kernel/random/uuid)
psql_control -c "INSERT INTO infra.tenants (id, slug, name, database_id, schema_name, migration_execution_id,
	created_by) VALUES ('$tid', 'crash_$RUN', 'Crash', '$db', 'tenant_crash_$RUN', '$xid', 'ten-operator');
	INSERT INTO infra.outbox (event_type, resource_id, payload, status, attempts, lease_owner,
	lease_expires_at, execution_id) VALUES ('tenant.created', '$tid', jsonb_build_object('tenant_id', '$tid',
	'slug', 'crash_$RUN', 'execution_id', '$xid'), 'processing', 1, 'crashed:1', now(), '$xid')"
check "the runners create its schema: active" wait_for 30 tenant_status_is "$tid" active
check "its migration runs under the id the event carried" wait_status 60 "$xid" completed
check "the schema has the whole tenant set" migrated ev_main "tenant_crash_$RUN"
as "$TEN" GET "/migrations/$xid"
expect_json '[.source, .executed_by] | join(" ")' "event ten-operator" \
	"started by the event, in the name of the tenant's creator"

# ------------------------------------------------- database.registered
new_db ev_auto
as "$MIG" POST /databases "$(db_body "auto-$RUN" ev_auto pw-ev_auto "" '.auto_migrate = true | .schema = "app"')"
expect_status 201 "a database registered with auto_migrate"
auto=$(jq -r .id <<<"$BODY")
auto_exec() {
	AUTO_EXEC=$(psql_control -c "SELECT execution_id FROM infra.outbox
		WHERE event_type = 'database.registered' AND resource_id = '$auto' AND status = 'done'")
	[ -n "$AUTO_EXEC" ]
}
check "its event starts a migration" wait_for 30 auto_exec
check "which completes" wait_status 60 "$AUTO_EXEC" completed
as "$MIG" GET "/migrations/$AUTO_EXEC"
expect_json '[.scope, .source, .filters.database_id] | join(" ")' "single event $auto" \
	"of scope single, for that database, from the event"
check "the database's schema has its type's whole set" migrated ev_auto app

# ------------------------------------------------------ dead, then revived
dead=$(psql_control -c "INSERT INTO infra.outbox (event_type, resource_id, payload)
	VALUES ('test.unknown_$RUN', 'x', '{}') RETURNING id" | head -n 1)
check "an event no handler knows is retried, then dead after 3 attempts" wait_for 60 event_is "$dead" dead 3
as "$ADMIN" GET "/system/events/$dead"
expect_status 200 "GET /system/events/{id}"
expect_json '[.status, .attempts, .next_attempt_at] | join(" ")' "dead 3 " "dead, 3 attempts, not due"
expect_json '.last_error | test("no handler for event type")' true "with its error"
check "an event.dead alert was raised with it" test "$(psql_control -c "SELECT count(*) FROM infra.alerts
	WHERE kind = 'event.dead' AND payload->'details'->>'event_id' = '$dead'")" = 1
as "$ADMIN" POST "/system/events/$dead/retry"
expect_status 202 "POST /system/events/{id}/retry revives it"
expect_json '[.status, .attempts] | join(" ")' "pending 0"
check "it runs its attempts again, and is dead again" wait_for 60 event_is "$dead" dead 3
check "the revival is audited" test "$(psql_control -c "SELECT count(*) FROM infra.audit_log
	WHERE action = 'event.retry' AND resource_id = '$dead' AND outcome = 'success'")" = 1
as "$ADMIN" POST "/system/events/$ev/retry"
expect_error 409 RES_002 "only a dead event is revived"
as "$ADMIN" GET /system/events/abc
expect_error 404 RES_001 "an id that is not a number is 404"

# ------------------------------------------------------------- the history
# Enough done tenant.created events for two pages, whatever ran before.
for page in 1 2; do
	create_tenant "$TEN" "page${page}_$RUN" "$db"
	expect_status 201 "tenant page${page} is created (its event is delivered inline)"
done
as "$ADMIN" GET "/system/events?type=tenant.created&status=done&limit=2"
expect_json '[.items[] | .type + "/" + .status] | unique | join(",")' "tenant.created/done" \
	"filtered by type and status"
expect_json '.items | length' 2 "two a page"
first_ids=$(jq -r '[.items[].id] | join(",")' <<<"$BODY")
cursor=$(jq -r .next_cursor <<<"$BODY")
third=$(psql_control -c "SELECT id FROM infra.outbox WHERE event_type = 'tenant.created'
	AND status = 'done' ORDER BY id DESC OFFSET 2 LIMIT 1")
as "$ADMIN" GET "/system/events?type=tenant.created&status=done&limit=2&cursor=$cursor"
expect_json "[.items[].id] | all(. < (\"$first_ids\" | split(\",\") | map(tonumber) | min))" true \
	"the next page goes on with older events"
expect_json '.items[0].id | tostring' "$third" "… from the one right after the first page's last"
as "$ADMIN" GET "/system/events?since=2000-01-01T00:00:00Z&type=test.unknown_$RUN"
expect_json '[.items[].id] | join(",")' "$dead" "since and type"
as "$ADMIN" GET "/system/events?status=zombie&since=yesterday&cursor=nope"
expect_error 422 VAL_001 "bad filters are 422"
check "naming the bad field" test "$(jq -r '.details.fields | keys | join(",")' <<<"$BODY")" = status
check "events are counted in /metrics" bash -c "curl -sS --cacert '$INFRA_CA' '$INFRA_URL/metrics' |
	grep -q '^infra_events_total{type=\"other\",result=\"dead\"} '"

done_testing
