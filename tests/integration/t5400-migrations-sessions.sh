#!/usr/bin/env bash
# t5400-migrations-sessions.sh — a runner keeps its sessions to targets
# between engine runs (lib/mig_pool.h): a second execution on the same
# database runs on the backend the first one left idle instead of opening
# another; a kept backend the server ended meanwhile is noticed before use
# and replaced, its target neither failed nor retried; where a target
# started is recorded before its first migration commits — the engine
# holds that commit, not its whole loop, until the runner's recorder has
# written it; and a new
# execution's targets are announced on infra_exec_work when it commits, the
# channel idle runners sleep on; a free session does not leave its database
# for another's target that a session there will take next (for 2 s at
# most); a fleet-wide run whose targets were registered database by
# database works in every database from the start (targets are claimed by
# turn). infrad runs with one runner here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
migrations_schema_or_skip

check "infrad restarts with one runner" restart_infrad INFRA_RUNNERS=1 INFRA_MIGRATION_BATCH_SIZE=2
trap 'release_lock 2>/dev/null; drop_slow_record 2>/dev/null; restart_infrad >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT

new_db ms_pool
s1=$(register ms_pool s1 tenant)
s2=$(register ms_pool s2 tenant)
s3=$(register ms_pool s3 tenant)

# The engine's backends on ms_pool: "pid backend_start" lines, sorted.
engine_backends() {
	psql_target -c "SELECT pid || ' ' || backend_start FROM pg_stat_activity
		WHERE datname = 'ms_pool' AND application_name = 'infra-migrate' ORDER BY pid"
}
attempts_of() {
	psql_control -c "SELECT attempts FROM infra.execution_targets WHERE execution_id = '$1'"
}

# ---------------------------------------------------- a session kept
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$s1\"}"
check "the first execution completes" wait_status 60 "$EXEC" completed
first=$(engine_backends)
check "the runner keeps one idle session to the database" test "$(wc -l <<<"$first")" = 1 -a -n "$first"
check "… idle, outside any transaction" test "$(psql_target -c "SELECT state FROM pg_stat_activity
	WHERE pid = ${first%% *}")" = idle

execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$s2\"}"
check "the second execution completes" wait_status 60 "$EXEC" completed
check "it ran on the same backend: no session was opened" test "$(engine_backends)" = "$first"
check "its schema has every migration" test "$(versions ms_pool s2)" = "$(versions ms_pool s1)"
check "… the search path and locks left by the first did not follow it" test "$(psql_target -c \
	"SELECT count(*) FROM pg_locks WHERE pid = ${first%% *} AND locktype = 'advisory'")" = 0

# ------------------------------------- a kept session the server ended
psql_target -c "SELECT pg_terminate_backend(${first%% *})" >/dev/null
check "the kept backend is gone" wait_for 10 bash -c "[ -z \"\$(psql '$INFRA_TARGET_PGURL' -XAtc \
	\"SELECT 1 FROM pg_stat_activity WHERE pid = ${first%% *}\")\" ]"
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$s3\"}"
check "an execution after that completes" wait_status 60 "$EXEC" completed
check "… at its first attempt (the dead session was noticed before use)" test "$(attempts_of "$EXEC")" = 1
check "… on a new backend" bash -c "[ -n \"\$(psql '$INFRA_TARGET_PGURL' -XAtc \"SELECT 1 FROM pg_stat_activity
	WHERE datname = 'ms_pool' AND application_name = 'infra-migrate'\")\" ] && [ \"\$(psql '$INFRA_TARGET_PGURL' -XAtc \
	\"SELECT count(*) FROM pg_stat_activity WHERE pid = ${first%% *}\")\" = 0 ]"

# --------------------------------------------- where a target started
# is on record before its first migration commits (a runner dying right
# after that commit leaves nothing of this execution unaccounted for).
s4=$(register ms_pool s4 tenant)
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$s4\",\"target_version\":\"5\"}"
check "s4 is at version 5" wait_status 60 "$EXEC" completed
hold_lock ms_pool "LOCK TABLE s4.users IN ACCESS EXCLUSIVE MODE;"
check "a session holds s4.users" wait_for 10 lock_granted ms_pool
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$s4\"}"
held=$EXEC
check "the runner waits in V6 (it references users)" wait_for 30 waiting_on_lock ms_pool
check "nothing of this execution has committed" test "$(versions ms_pool s4)" = 1,2,3,4,5
check "… and where the target started is on record already" test "$(psql_control -c "SELECT
	before_known || ' ' || coalesce(version_before, '-') FROM infra.execution_targets
	WHERE execution_id = '$held'")" = "true 5"
release_lock
check "then it completes" wait_status 60 "$held" completed

# ------------------------------------ the first commit waits for that
# record, and only that commit: the recorder writes where a target starts
# while its first migration runs. A trigger slows the write down by 3 s;
# meanwhile the migration has run and waits, uncommitted, in its
# transaction.
psql_control -c "CREATE FUNCTION infra.t5400_slow() RETURNS trigger LANGUAGE plpgsql
	AS \$\$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END \$\$" \
	-c "CREATE TRIGGER t5400_slow BEFORE UPDATE ON infra.execution_targets FOR EACH ROW
	WHEN (NEW.before_known AND NOT OLD.before_known AND NEW.status = 'in_progress')
	EXECUTE FUNCTION infra.t5400_slow()" >/dev/null
drop_slow_record() {
	psql_control -c "DROP TRIGGER IF EXISTS t5400_slow ON infra.execution_targets" \
		-c "DROP FUNCTION IF EXISTS infra.t5400_slow()" >/dev/null
}
in_first_transaction() {
	[ "$(psql_target -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'ms_pool'
		AND application_name = 'infra-migrate' AND state = 'idle in transaction'")" = 1 ]
}
s5=$(register ms_pool s5 tenant)
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$s5\"}"
slow=$EXEC
check "the target's first migration ran and waits in its transaction" wait_for 10 in_first_transaction
check "… uncommitted: the history has no version yet" test "$(versions ms_pool s5)" = ""
check "… while where the target starts is being written" test "$(psql_control -c "SELECT before_known
	FROM infra.execution_targets WHERE execution_id = '$slow'")" = f
check "then it completes" wait_status 60 "$slow" completed
check "… with every migration, and where it started (no version) on record" test "$(versions ms_pool s5) $(psql_control \
	-c "SELECT before_known || coalesce(version_before, '-') FROM infra.execution_targets
	WHERE execution_id = '$slow'")" = "$(versions ms_pool s1) true-"
drop_slow_record

# -------------------------------------- a session stays with its database
# A free session connected to one database does not leave it for another
# database's target while a session there is working and will take that
# target next — for 2 s at most (lib/mig_fleet.c, move_cost): the
# target waits rather than cost a new backend, but a long migration does
# not hold up the next. On ms_hop_b, h1 is held in V6 by a lock and h2
# comes after it; a1, on ms_hop_a, runs meanwhile on the other session.
new_db ms_hop_a
new_db ms_hop_b
a1=$(register ms_hop_a a1 tenant)
h1=$(register ms_hop_b h1 tenant)
h2=$(register ms_hop_b h2 tenant)
hop_backends() {
	psql_target -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'ms_hop_b'
		AND application_name = 'infra-migrate'"
}
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$h1\",\"target_version\":\"5\"}"
check "h1 is at version 5" wait_status 60 "$EXEC" completed
hold_lock ms_hop_b "LOCK TABLE h1.users IN ACCESS EXCLUSIVE MODE;"
check "a session holds h1.users" wait_for 10 lock_granted ms_hop_b
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$h1\"}"
held=$EXEC
check "the runner waits in h1's V6" wait_for 30 waiting_on_lock ms_hop_b
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$a1\"}"
check "a1 completes on the other session" wait_status 60 "$EXEC" completed
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$h2\"}"
after=$EXEC
claimed() {
	[ "$(psql_control -c "SELECT status FROM infra.execution_targets WHERE execution_id = '$after'")" = in_progress ]
}
check "h2 is claimed into the running engine" wait_for 10 claimed
sleep 1
check "… and waits for ms_hop_b's session: not completed a second later" \
	test "$(psql_control -c "SELECT status FROM infra.executions WHERE id = '$after'")" != completed
check "… with no second backend opened to ms_hop_b" test "$(hop_backends)" = 1
check "after 2 s of waiting it moves anyway, and completes while h1 is held" wait_status 30 "$after" completed
check "… on a second backend" test "$(hop_backends)" = 2
check "… h1 still held meanwhile" test "$(psql_control -c "SELECT status FROM infra.executions
	WHERE id = '$held'")" != completed
release_lock
check "then h1 completes" wait_status 60 "$held" completed
check "h2 has every migration" test "$(versions ms_hop_b h2)" = "$(versions ms_pool s1)"

# --------------------------- a fleet-wide run spreads over its databases
# 33 schemas of ms_turn_a registered, then 3 of ms_turn_b, all in one
# region. Claimed in registration order, the runner's first claim (32
# targets: its share, capped at 16 × MIGRATION_BATCH_SIZE) would hold only
# ms_turn_a's, and ms_turn_b's first schema would start after about thirty
# of them; claimed by turn (migrations/admin/V6), the claim holds both
# databases and ms_turn_b starts in the first wave, before ms_turn_a's
# tenth.
new_db ms_turn_a
new_db ms_turn_b
for i in $(seq -w 1 33); do register ms_turn_a "a$i" tenant "turn-$RUN" >/dev/null; done
for i in 1 2 3; do register ms_turn_b "b$i" tenant "turn-$RUN" >/dev/null; done
execute "$MIG" "{\"scope\":\"regional\",\"region\":\"turn-$RUN\"}"
check "the run over both databases completes" wait_status 120 "$EXEC" completed
check "… every target in it" test "$(psql_control -c "SELECT count(*) FROM infra.execution_targets
	WHERE execution_id = '$EXEC' AND status = 'completed'")" = 36
check "… taken in turns: 1-33 in ms_turn_a, 1-3 in ms_turn_b, each once" test "$(psql_control -c "SELECT
	string_agg(db || ':' || lo || '-' || hi || '/' || n, ' ' ORDER BY db) FROM (SELECT d.database_name AS db,
	min(t.turn) AS lo, max(t.turn) AS hi, count(DISTINCT t.turn) AS n FROM infra.execution_targets t
	JOIN infra.databases d ON d.id = t.database_id WHERE t.execution_id = '$EXEC' GROUP BY 1) x")" \
	= "ms_turn_a:1-33/33 ms_turn_b:1-3/3"
# started DB SCHEMA: when the schema's first migration ran.
started() { target_psql "$1" -c "SELECT min(installed_on) FROM \"$2\".flyway_schema_history"; }
b_first=$(started ms_turn_b b1)
a_tenth=$(started ms_turn_a a10)
check "ms_turn_b's first schema started before ms_turn_a's tenth ($b_first, $a_tenth)" \
	test "$(psql_control -c "SELECT '$b_first'::timestamp < '$a_tenth'::timestamp")" = t

# ---------------------------------------------- new work is announced
# A session listening on the control database hears of the next
# execution when it commits (psql prints notifications after a command).
psql_control -c "LISTEN infra_exec_work" -c "SELECT pg_sleep(4)" -c "SELECT 1" >"$T_TMP/notified" 2>&1 &
listener=$!
sleep 1
execute "$MIG" "{\"scope\":\"single\",\"database_id\":\"$s1\"}"
wait "$listener"
check "a new execution with targets is announced on infra_exec_work" \
	grep -q 'notification "infra_exec_work"' "$T_TMP/notified"

done_testing
