#!/usr/bin/env bash
# t6500-shared-runs.sh — one runner runs the targets of several executions
# in one engine run (what makes a burst of one-target tenant migrations run
# in parallel), and a cancel of one of them touches only its own: with one
# runner kept busy, two executions wait, are claimed together and run at
# once; one is cancelled, and the other's target, stopped with the shared
# run, is released, claimed again and completes. infrad runs with one
# runner here. The busy execution names its target version, so the two
# are not of its run's group: a running engine is fed only targets of
# its own kind, type and target version (exec_task.c's on_feed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
. "$(dirname "$0")/tenants-lib.sh"
migrations_schema_or_skip

check "infrad restarts with one runner" restart_infrad INFRA_RUNNERS=1 INFRA_MIGRATION_BATCH_SIZE=4

# hold NAME DB SQL: SQL in a transaction on DB kept open (its backend
# sleeping) until release NAME ends that backend.
hold() {
	PGAPPNAME=holder_$1 target_psql "$2" -c "BEGIN; $3 SELECT pg_sleep(600);" >/dev/null 2>&1 &
}
holding() {
	[ "$(psql_target -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder_$1'
		AND wait_event = 'PgSleep'")" = 1 ]
}
release() {
	psql_target -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'holder_$1'" >/dev/null
}
trap 'release one; release two; restart_infrad >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT
waiting() { [ "$(target_psql mg_shared -c "SELECT count(*) FROM pg_stat_activity
	WHERE datname = 'mg_shared' AND wait_event_type = 'Lock'")" -ge "$1" ]; }

tenant=mg_$RUN
new_db mg_shared
c=$(register mg_shared m1 tenant "" "$tenant")
a=$(register mg_shared m2 tenant "" "$tenant")
b=$(register mg_shared m3 tenant "" "$tenant")
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"$tenant\",\"target_version\":\"1\"}"
check "three schemas at version 1" wait_status 60 "$EXEC" completed

hold one mg_shared "LOCK TABLE m1.users IN ACCESS EXCLUSIVE MODE;"
wait_for 10 holding one
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$c\",\"target_version\":\"12\"}"
busy=$EXEC
check "the runner is kept busy by an execution waiting on a lock" wait_for 30 waiting 1
hold two mg_shared "LOCK TABLE m2.users, m3.users IN ACCESS EXCLUSIVE MODE;"
wait_for 10 holding two
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$a\"}"
first=$EXEC
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$b\"}"
second=$EXEC
both_pending() { status_is "$first" pending && status_is "$second" pending; }
sleep 1		# five times the running engine's poll for more (EXEC_FLUSH_MS)
check "two more executions wait for the runner" both_pending
release one
check "the busy one completes" wait_status 60 "$busy" completed
check "the two are claimed together: both run at once, on one runner" wait_for 30 waiting 2
both_running() { status_is "$first" in_progress && status_is "$second" in_progress; }
check "both marked in progress" wait_for 5 both_running

as "$MIG" POST "/migrations/$first/cancel"
expect_status 202 "one of them is cancelled"
release two
check "it ends cancelled" wait_status 60 "$first" cancelled
check "the other one completes" wait_status 60 "$second" completed
check "its target was released by the shared run's stop and claimed again" test \
	"$(psql_control -c "SELECT claims FROM infra.execution_targets WHERE execution_id = '$second'")" = 2
check "its schema has the whole set" migrated mg_shared m3
check "the cancelled one stopped after its current migration" test "$(versions mg_shared m2)" = "1,2"

done_testing
