#!/usr/bin/env bash
# t6300-schedules.sh — /migrations/schedules: the body's field table (a bad
# cron expression names which of its fields is wrong); a run_at schedule
# fires once; occurrences missed while nothing ran fire once; a paused
# schedule does not fire and, resumed, does not replay; an occurrence
# blocked by a running execution is recorded and tried again; a cron
# schedule ("* * * * *") fires each minute in that minute, once, with a
# second infrad running against the same control database; tenant-bound
# tokens; delete and audit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
. "$(dirname "$0")/tenants-lib.sh"
tenants_schema_or_skip
trap 'release_lock 2>/dev/null; t6_cleanup; rm -rf "$T_TMP"' EXIT

new_db sc_main
a=$(register sc_main s1 tenant)
b=$(register sc_main s2 tenant)
c=$(register sc_main s3 tenant)
d=$(register sc_main s4 tenant)
# schedule_body NAME DATABASE_ID [jq assignments]
schedule_body() {
	jq -cn --arg n "$1" --arg d "$2" "{name: \$n, scope: \"single\", database_id: \$d} ${3:+| $3}"
}
in_seconds() { date -u -d "+$1 seconds" +%Y-%m-%dT%H:%M:%SZ; }
# schedule_field ID JQ: a field of GET /migrations/schedules/{id} (in a
# subshell when used as $(…): BODY is not kept).
schedule_field() { as "$TEN" GET "/migrations/schedules/$1"; jq -r "$2" <<<"$BODY"; }
runs_at_least() { [ "$(schedule_field "$1" .runs)" -ge "$2" ]; }
# schedule_executions DATABASE_ID: executions the schedules started on it.
schedule_executions() {
	psql_control -c "SELECT count(*) FROM infra.executions WHERE source = 'schedule'
		AND filters->>'database_id' = '$1'"
}

# ------------------------------------------------------------ validation
as "$TEN" POST /migrations/schedules "$(schedule_body "bad-$RUN" "$a" '.cron = "61 * * * *"')"
expect_error 422 VAL_001 "a minute of 61 is 422"
expect_json '.details.fields.cron | startswith("minute: 61")' true "details.fields.cron names the minute"
as "$TEN" POST /migrations/schedules "$(schedule_body "bad-$RUN" "$a" '.cron = "0 0 * * 8"')"
expect_json '.details.fields.cron | startswith("day-of-week")' true "… and the day of the week"
as "$TEN" POST /migrations/schedules "$(schedule_body "bad-$RUN" "$a" '.cron = "0 0 * *"')"
expect_json '.details.fields.cron | test("5 fields")' true "… and a missing field"
as "$TEN" POST /migrations/schedules "$(schedule_body "bad-$RUN" "$a" '.cron = "0 0 30 2 *"')"
expect_json '.details.fields.cron | test("never fires")' true "February 30th never fires"
as "$TEN" POST /migrations/schedules "$(schedule_body "bad-$RUN" "$a" \
	".cron = \"@daily\" | .run_at = \"$(in_seconds 60)\"")"
expect_json '.details.fields | keys | join(",")' run_at "cron and run_at together are refused"
as "$TEN" POST /migrations/schedules "$(schedule_body "bad-$RUN" "$a")"
expect_json '.details.fields.cron | test("one of cron")' true "one of them is required"
as "$TEN" POST /migrations/schedules '{"scope": "everything", "dry_run": true, "run_at": "2000-01-01T00:00:00Z"}'
expect_json '.details.fields | keys | join(",")' "dry_run,name,run_at,scope" \
	"every bad field at once (name, scope, dry_run, a run_at in the past)"
as "$MIG_READ" POST /migrations/schedules "$(schedule_body "bad-$RUN" "$a" '.cron = "@daily"')"
expect_error 403 AUTH_002 "migrations:read cannot create a schedule"

# ------------------------------------------------------- run_at, once
at=$(in_seconds 2)
as "$TEN" POST /migrations/schedules "$(schedule_body "once-$RUN" "$a" ".run_at = \"$at\"")"
expect_status 201 "a one-off schedule"
once=$(jq -r .id <<<"$BODY")
expect_header Location "^/migrations/schedules/$once\$"
expect_json '[.run_at, .next_run_at, .enabled, .runs] | join(" ")' "$at $at true 0"
check "it fires" wait_for 30 runs_at_least "$once" 1
as "$TEN" GET "/migrations/schedules/$once"
expect_json '[.enabled, .next_run_at, .runs, .last_run_at] | join(" ")' "false  1 $at" \
	"then it is disabled, with nothing next"
once_exec=$(jq -r .last_execution_id <<<"$BODY")
check "its execution completes" wait_status 60 "$once_exec" completed
as "$TEN" GET "/migrations/$once_exec"
expect_json '[.source, .scope, .filters.database_id, .executed_by] | join(" ")' "schedule single $a ten-operator"
sleep 2
check "it fired once" test "$(schedule_executions "$a")" = 1

# ---------------------------------------- missed occurrences fire once
# Three occurrences 5, 10 and 15 minutes ago and the next one 30 minutes
# ahead: no occurrence falls due while the test runs (with "*/5" one
# could be seconds away and fire, rightly, a second time).
minute=$((10#$(date -u +%M)))
minutes=$(for m in 45 50 55 30; do printf '%d,' $(((minute + m) % 60)); done)
as "$TEN" POST /migrations/schedules "$(schedule_body "missed-$RUN" "$b" ".cron = \"${minutes%,} * * * *\"")"
expect_status 201 "a schedule at minutes ${minutes%,} of each hour"
missed=$(jq -r .id <<<"$BODY")
psql_control -c "UPDATE infra.schedules SET next_run_at = now() - interval '17 minutes' WHERE id = '$missed'"
check "a schedule that missed three occurrences fires" wait_for 30 runs_at_least "$missed" 1
as "$TEN" GET "/migrations/schedules/$missed"
expect_json '.next_run_at > (now + 1500 | todate)' true "its next run is the occurrence ahead, not a missed one"
sleep 2
check "it fired once, not once per missed occurrence" test "$(schedule_executions "$b")" = 1

# ---------------------------------------------------- pause and resume
as "$TEN" PATCH "/migrations/schedules/$missed" '{"enabled": false}'
expect_status 200 "PATCH {enabled: false} pauses it"
expect_json .enabled false
psql_control -c "UPDATE infra.schedules SET next_run_at = now() - interval '1 minute' WHERE id = '$missed'"
sleep 3
check "a paused schedule does not fire, even when due" test "$(schedule_executions "$b")" = 1
as "$TEN" PATCH "/migrations/schedules/$missed" '{"enabled": true}'
expect_status 200 "PATCH {enabled: true} resumes it"
expect_json '[.enabled, .next_run_at > (now | todate)] | join(" ")' "true true" \
	"resumed, its next run is ahead (what it missed is not replayed)"
sleep 2
check "… and it did not fire for the occurrence it missed" test "$(schedule_executions "$b")" = 1
as "$TEN" PATCH "/migrations/schedules/$missed" '{"enabled": "no", "cron": "* * * * *"}'
expect_error 422 VAL_001 "PATCH with a non-boolean enabled and another field"
expect_json '.details.fields | keys | join(",")' "cron,enabled" "both are named"
as "$TEN" PATCH "/migrations/schedules/$once" '{"enabled": true}'
expect_error 422 VAL_001 "a one-off that has fired cannot be resumed"
expect_json '.details.fields.enabled | test("fired")' true "it says why"
as "$MIG_READ" PATCH "/migrations/schedules/$missed" '{"enabled": false}'
expect_error 403 AUTH_002 "migrations:read cannot pause a schedule"
as "$TEN" PATCH /migrations/schedules/00000000-0000-4000-8000-000000000000 '{"enabled": false}'
expect_error 404 RES_001 "PATCH of an unknown schedule"
check "pausing and resuming are audited" test "$(psql_control -c "SELECT count(*) FROM infra.audit_log
	WHERE action = 'schedule.update' AND resource_id = '$missed' AND outcome = 'success'")" = 2
as "$TEN" DELETE "/migrations/schedules/$missed"
expect_status 204 "DELETE /migrations/schedules/{id}"
as "$TEN" GET "/migrations/schedules/$missed"
expect_error 404 RES_001 "it is gone"

# --------------------------------------- blocked by a running execution
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$c\",\"target_version\":\"1\"}"
check "s3 at version 1" wait_status 60 "$EXEC" completed
hold_lock sc_main "LOCK TABLE s3.users IN ACCESS EXCLUSIVE MODE;"
check "a session holds s3.users" wait_for 10 lock_granted sc_main
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$c\"}"
held=$EXEC
check "an execution waits on it" wait_for 30 waiting_on_lock sc_main
as "$TEN" POST /migrations/schedules "$(schedule_body "blocked-$RUN" "$c" ".run_at = \"$(in_seconds 1)\"")"
blocked=$(jq -r .id <<<"$BODY")
last_error_set() { [ "$(schedule_field "$1" '.last_error // empty')" != "" ]; }
check "its occurrence cannot start" wait_for 30 last_error_set "$blocked"
as "$TEN" GET "/migrations/schedules/$blocked"
expect_json '.last_error | test("still running")' true "last_error says why"
expect_json '[.enabled, .runs, (.next_run_at != null)] | join(" ")' "true 0 true" \
	"a one-off stays enabled, to try again"
release_lock
check "the running execution completes" wait_status 60 "$held" completed
psql_control -c "UPDATE infra.schedules SET next_run_at = now() WHERE id = '$blocked'"
check "tried again, it fires" wait_for 30 runs_at_least "$blocked" 1
as "$TEN" GET "/migrations/schedules/$blocked"
expect_json '[.enabled, .last_error] | join(" ")' "false " "and the error is cleared"

# ------------------------------- cron, on time, once, with two infrads
check "a second infrad runs against the same control database" second_infrad_start second
second_runners() { pgrep -P "$(cat "$SECOND_PIDFILE")" -x "infrad: runner" >/dev/null; }
check "… with its runners" wait_for 10 second_runners
as "$TEN" POST /migrations/schedules "$(schedule_body "minutely-$RUN" "$d" '.cron = "* * * * *"')"
expect_status 201 "a schedule for every minute"
minutely=$(jq -r .id <<<"$BODY")
expect_json '.next_run_at | endswith(":00Z")' true "due at the start of the next minute"
check "it fires at two minutes" wait_for 150 runs_at_least "$minutely" 2
as "$TEN" GET "/migrations/schedules/$minutely"
last_run=$(jq -r .last_run_at <<<"$BODY")
last_exec=$(jq -r .last_execution_id <<<"$BODY")
as "$TEN" DELETE "/migrations/schedules/$minutely"
runs=$(schedule_executions "$d")
check "one execution per firing ($runs)" test "$runs" -ge 2
check "never two in one minute" test "$(psql_control -c "SELECT count(DISTINCT date_trunc('minute', created_at))
	FROM infra.executions WHERE source = 'schedule' AND filters->>'database_id' = '$d'")" = "$runs"
check "the last one started in the minute it was due ($last_run)" test "$(psql_control -c "SELECT
	date_trunc('minute', created_at) = '$last_run'::timestamptz FROM infra.executions WHERE id = '$last_exec'")" = t
fired_lines=$(cat "$INFRA_LOG_DIR/infrad.log" "$T_TMP/second.log" 2>/dev/null |
	grep -c "\"msg\":\"schedule fired\".*\"schedule_id\":\"$minutely\"")
check "the two hosts' runners fired $runs times in all ($fired_lines)" test "$fired_lines" = "$runs"

# ---------------------------------------------------- tenant-bound tokens
OWN=$(token --sub sc-ops --tenant "sc_$RUN" --perm migrations:read --perm migrations:manage)
as "$OWN" POST /migrations/schedules "{\"name\":\"own-$RUN\",\"scope\":\"tenant\",\"tenant\":\"other_$RUN\",\"cron\":\"@daily\"}"
expect_error 403 AUTH_002 "a tenant-bound token cannot schedule another tenant"
as "$OWN" POST /migrations/schedules "{\"name\":\"own-$RUN\",\"scope\":\"tenant\",\"tenant\":\"sc_$RUN\",\"cron\":\"@daily\"}"
expect_status 201 "it schedules its own"
own=$(jq -r .id <<<"$BODY")
as "$OWN" GET /migrations/schedules
expect_json '[.items[].name] | join(",")' "own-$RUN" "and lists only its own"
as "$OWN" GET "/migrations/schedules/$once"
expect_error 404 RES_001 "a platform schedule is not found"
as "$TEN" GET "/migrations/schedules?limit=100"
expect_json "[.items[].id] | index(\"$own\") != null" true "a platform token sees every schedule"
as "$TEN" POST /migrations/schedules "$(schedule_body "once-$RUN" "$a" '.cron = "@daily"')"
expect_error 409 RES_002 "a name is unique"

check "creates and deletes are audited" test "$(psql_control -c "SELECT count(DISTINCT action)
	FROM infra.audit_log WHERE action IN ('schedule.create', 'schedule.delete') AND resource = 'schedule'")" = 2

done_testing
