#!/usr/bin/env bash
# t5200-migrations-cancel-rollback.sh — an execution held in progress (a
# table its next migration needs is locked in the target): another
# execution on its targets is refused with 409, a cancel skips the targets
# not started and stops the running one after its current migration; then
# rollbacks restore the previous schema (checked in the target), of a whole
# execution and of a cancelled one, and a rollback that needs an undo script
# the set lacks is refused up front with nothing changed. infrad runs with
# one runner migrating one target at a time here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
migrations_schema_or_skip

check "infrad restarts with one runner, one target at a time" restart_infrad \
	INFRA_RUNNERS=1 INFRA_MIGRATION_BATCH_SIZE=1 INFRA_MIGRATION_LEASE=5
trap 'release_lock 2>/dev/null; restart_infrad >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT

tenant=cancel_$RUN
new_db mx_cancel
a=$(register mx_cancel s1 tenant "" "$tenant")
b=$(register mx_cancel s2 tenant "" "$tenant")
c=$(register mx_cancel s3 tenant "" "$tenant")

# ------------------------------------------------------ target_version
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$a\",\"target_version\":\"1\"}"
expect_status 202 "an execution to version 1 is accepted"
expect_json .target_version 1
check "it completes" wait_status 30 "$EXEC" completed
check "only version 1 was applied" test "$(versions mx_cancel s1)" = 1

# ------------------------------------------- held in progress, 409, cancel
hold_lock mx_cancel "LOCK TABLE s1.users IN ACCESS EXCLUSIVE MODE;"
check "a session holds s1.users" wait_for 10 lock_granted mx_cancel
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"$tenant\"}"
expect_status 202 "an execution of scope tenant is accepted"
expect_json .progress.total_targets 3 "it has the tenant's three targets"
held=$EXEC
check "it runs and waits for the lock (V2 references users)" wait_for 30 waiting_on_lock mx_cancel
check "it is marked in progress (within a flush period of its first target starting)" wait_for 5 status_is "$held" in_progress

execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$b\"}"
expect_error 409 RES_002 "an execution overlapping a running one is refused"
expect_json .details.execution_id "$held" "the refusal names the running execution"
as "$MIG" POST /migrations/rollback "{\"execution_id\":\"$held\"}"
expect_error 409 RES_002 "a running execution cannot be rolled back"

as "$MIG_READ" POST "/migrations/$held/cancel"
expect_error 403 AUTH_002 "cancel needs migrations:execute"
as "$MIG" POST "/migrations/$held/cancel"
expect_status 202 "cancel is accepted"
expect_json .cancel_requested true
release_lock
check "the execution ends cancelled" wait_status 30 "$held" cancelled
check "the running target stopped after its current migration" \
	test "$(target_field "$held" "$a" s1 .status)" = cancelled
check "… which it recorded as applied" test "$(target_field "$held" "$a" s1 '[.applied[].version] | join(",")')" = 2
check "s1's history shows versions 1 and 2 only" test "$(versions mx_cancel s1)" = 1,2
check "the targets not started are cancelled" \
	test "$(target_field "$held" "$b" s2 .status),$(target_field "$held" "$c" s3 .status)" = cancelled,cancelled
check "… and nothing was applied to them" test "$(tables mx_cancel s2)$(tables mx_cancel s3)" = ""
as "$MIG" GET "/migrations/$held"
expect_json .progress.skipped_targets 3 "all three count as skipped"
expect_json '.error_message | test("cancelled")' true "error_message says cancelled"
as "$MIG" POST "/migrations/$held/cancel"
expect_error 409 RES_002 "an ended execution cannot be cancelled again"
check "its targets are free again" test "$(psql_control -c \
	"SELECT count(*) FROM infra.active_targets WHERE execution_id = '$held'")" = 0

# ------------------------------------------------------------ rollback
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"$tenant\"}"
expect_status 202 "after the cancel the same targets are accepted"
full=$EXEC
check "the execution completes" wait_status 60 "$full" completed
before_s1=$(tables mx_cancel s1)
check "every target is at version 12" test "$(versions mx_cancel s2)" = 1,2,3,4,5,6,7,8,9,10,11,12
as "$MIG_READ" POST "/migrations/$full/rollback"
expect_error 403 AUTH_002 "rollback needs migrations:manage"
as "$MIG" POST "/migrations/$full/rollback"
expect_status 202 "its rollback is accepted"
expect_json .rollback_of "$full"
expect_json .kind undo
undo=$(jq -r .id <<<"$BODY")
check "the rollback completes" wait_status 60 "$undo" completed
check "the original is rolled_back" status_is "$full" rolled_back
check "s2 and s3 hold no table any more" test "$(tables mx_cancel s2)$(tables mx_cancel s3)" = ""
check "s1 is back to what versions 1 and 2 made" test "$(tables mx_cancel s1)" = projects,users
check "s1 changed during the run (the rollback had work)" test "$before_s1" != projects,users
check "the undo scripts ran newest first" test "$(target_psql mx_cancel -c \
	"SELECT string_agg(version, ',' ORDER BY installed_rank) FROM s1.flyway_schema_history
	 WHERE type = 'UNDO_SQL'")" = 12,11,10,9,8,7,6,5,4,3
as "$MIG" POST "/migrations/$full/rollback"
expect_error 409 RES_002 "an execution is rolled back once"

as "$MIG" POST /migrations/rollback "{\"execution_id\":\"$held\"}"
expect_status 202 "POST /migrations/rollback rolls back the cancelled execution"
check "… which completes" wait_status 60 "$(jq -r .id <<<"$BODY")" completed
check "s1 is back to version 1" test "$(tables mx_cancel s1)" = users
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"$tenant\"}"
check "migrated again" wait_status 60 "$EXEC" completed
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"$tenant\"}"
noop=$EXEC
check "… and once more, which finds every target up to date" wait_status 60 "$noop" completed
as "$MIG" POST "/migrations/$noop/rollback"
expect_error 422 MIG_001 "an execution that applied nothing has nothing to roll back"
expect_json '.message | test("applied nothing")' true "… and says so"
as "$MIG" POST /migrations/rollback '{"execution_id":"nope","extra":1}'
expect_error 422 VAL_001 "a bad rollback body is refused"
expect_json '.details.fields | keys | join(",")' execution_id,extra "every bad field is named"

# ------------------------------------------- no undo script: refused up front
new_db mx_noundo
n=$(register mx_noundo an1 analytics)
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$n\"}"
check "an analytics execution completes" wait_status 30 "$EXEC" completed
count=$(executions_count)
as "$MIG" POST "/migrations/$EXEC/rollback"
expect_error 422 MIG_001 "a rollback without the undo scripts is refused"
expect_json '.message | test("version 1 of target mx_noundo-an1-")' true "the message names the target and version"
expect_json '.details.missing[0].version' 1
check "no execution was created" test "$(executions_count)" = "$count"
check "the target is untouched" test "$(tables mx_noundo an1)" = events
check "the refused rollback is audited" test "$(psql_control -c \
	"SELECT count(*) FROM infra.audit_log WHERE action = 'migration.rollback' AND outcome = 'failure'
	 AND details->>'rollback_of' = '$EXEC'")" -ge 1

done_testing
