#!/usr/bin/env bash
# t5300-migrations-resume.sh — executions survive failures: a runner
# SIGKILLed in the middle of a target (after one migration, waiting on a
# lock for the next) leaves its lease to expire, another runner resumes the
# target and the execution completes with every version applied once (the
# one the dead runner applied is recovered into the target's record); and
# the control database restarted mid-execution (pg_ctl restart) is survived:
# the outcome is written once it is back, and the execution completes.
# infrad runs with a 5 s lease here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
migrations_schema_or_skip

check "infrad restarts with a short lease" restart_infrad \
	INFRA_RUNNERS=2 INFRA_MIGRATION_LEASE=5 INFRA_MIGRATION_RETRY_ATTEMPTS=8
trap 'release_lock 2>/dev/null; restart_infrad >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT

tenant=resume_$RUN
new_db mx_resume
k=$(register mx_resume killed tenant "" "$tenant")
r=$(register mx_resume restarted tenant "" "${tenant}_pg")

# Both targets first go to version 5; the next run then applies V6 and
# waits for V7, which alters `designs`, locked by the test.
for id in "$k" "$r"; do
	execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$id\",\"target_version\":\"5\"}"
	wait_status 30 "$EXEC" completed || not_ok "migrating $id to version 5"
done
check "both targets are at version 5" test "$(versions mx_resume killed)/$(versions mx_resume restarted)" = 1,2,3,4,5/1,2,3,4,5

# ------------------------------------------------------- runner killed
hold_lock mx_resume "LOCK TABLE killed.designs IN ACCESS EXCLUSIVE MODE;"
check "a session holds killed.designs" wait_for 10 lock_granted mx_resume
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"$tenant\"}"
expect_status 202 "the execution is accepted"
killed_exec=$EXEC
check "V6 is applied and the runner waits for V7" wait_for 30 waiting_on_lock mx_resume
check "version 6 is in the history" test "$(versions mx_resume killed)" = 1,2,3,4,5,6
pid=$(lease_pid "$killed_exec" "$k" killed)
check "a runner holds the target's lease ($pid)" test -n "$pid"
check "it is an infrad runner" bash -c "ps -o comm= -p '$pid' | grep -q 'infrad: runner'"
kill -KILL "$pid"
check "the runner is gone" wait_for 10 bash -c "! kill -0 $pid 2>/dev/null || ps -o stat= -p $pid | grep -q Z"
release_lock
check "another runner resumes it when the lease expires; the execution completes" \
	wait_status 90 "$killed_exec" completed
check "every version is applied, each once" test "$(versions mx_resume killed)" = 1,2,3,4,5,6,7,8,9,10,11,12
check "no version twice in the history" each_once mx_resume killed
check "the target was claimed twice" test "$(psql_control -c "SELECT claims FROM infra.execution_targets
	WHERE execution_id = '$killed_exec' AND schema_name = 'killed'")" = 2
check "its record lists versions 6 to 12" \
	test "$(target_field "$killed_exec" "$k" killed '[.applied[].version] | join(",")')" = 6,7,8,9,10,11,12
check "… the dead runner's one marked recovered" \
	test "$(target_field "$killed_exec" "$k" killed '.applied[0].recovered')" = true
check "… and the version before is the one before the execution" \
	test "$(target_field "$killed_exec" "$k" killed .version_before)" = 5
check "the master replaced the runner" wait_for 20 bash -c \
	"[ \$(pgrep -P \$(cat '$INFRA_PIDFILE') -x 'infrad: runner' | wc -l) = 2 ]"

# -------------------------------------------- control database restarted
hold_lock mx_resume "LOCK TABLE restarted.designs IN ACCESS EXCLUSIVE MODE;"
check "a session holds restarted.designs" wait_for 10 lock_granted mx_resume
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"${tenant}_pg\"}"
expect_status 202 "an execution is accepted"
pg_exec=$EXEC
has_v6() { [ "$(target_psql mx_resume -c "SELECT count(*) FROM restarted.flyway_schema_history
	WHERE version = '6'")" = 1 ]; }
check "it applies V6 and waits for V7" wait_for 30 has_v6
pg_restart() {
	runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$INFRA_PG_DATA" -m fast -w -t 60 \
		-l "$INFRA_LOG_DIR/postgresql.log" restart >/dev/null 7>&-	# not the lock's fifo
}
check "PostgreSQL restarts (the control database and the target's)" pg_restart
release_lock
check "the execution completes after the restart" wait_status 120 "$pg_exec" completed
check "every version is applied, each once" test "$(versions mx_resume restarted)" = 1,2,3,4,5,6,7,8,9,10,11,12
check "no version twice in the history" each_once mx_resume restarted
as "$MIG" GET "/migrations/$pg_exec"
expect_status 200 "the API answers after the restart"
expect_json .progress.completed_targets 1
check "infrad logged the outage and carried on" grep -q 'cannot record a migration outcome; retrying\|cannot claim migration targets\|control database' "$INFRA_LOG_DIR/infrad.log"

done_testing
