#!/usr/bin/env bash
# t2500-engine-faults.sh — a target that is down fails alone, after its
# retries, and no password leaks; a connection string libpq refuses fails
# at once, with libpq's message; a server that never answers fails after
# --connect-timeout; a transient error is retried, an error in the SQL is
# not; a statement timeout; SIGKILL in the middle of a fleet run leaves
# every schema at a version it recorded, and a re-run completes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

# --- one target down among others
down_url=$(sed -E 's|@([^:/]+):[0-9]+/|@\1:1/|' <<<"$ENGINE_URL")	# nothing listens on port 1
printf '%s a\n%s a\n# a comment\n%s b\n' "$ENGINE_URL" "$down_url" "$ENGINE_URL" >"$T_TMP/targets"
run migrate --targets-from "$T_TMP/targets" --locations "$TENANT_SET" --json --retries 2
expect_rc 1 "the run fails when one target is down"
expect_out '[.targets[].status] | join(",")' "ok,failed,ok" "the others are migrated"
expect_out '.targets[1].attempts' 3 "the down target was tried 1 + 2 times"
expect_out '.targets[1].database' "127.0.0.1:1/$ENGINE_DB" "it is named by host:port/database"
[[ "$(jq_out '.targets[1].error.message')" == *"connection"* ]] && ok "its error says the connection failed" ||
	not_ok "its error says the connection failed (got $(jq_out '.targets[1].error.message'))"
pw=$(sed -E 's|^[a-z]+://[^:]*:([^@]*)@.*|\1|' <<<"$INFRA_TARGET_PGURL")
if ! grep -qF -- "$pw" <<<"$OUT$ERR"; then ok "no password in the output or the log"; else not_ok "no password in the output or the log"; fi
grep -q '"retry_in_ms"' <<<"$ERR" && ok "each retry is logged with its backoff" || not_ok "each retry is logged with its backoff ($ERR)"

# --- a connection string libpq refuses: its message, and no retry
run plan --url "host=127.0.0.1 port=5432 dbname=x user=u password=pw2500 sslmode=bogus" \
	--locations "$TENANT_SET" --json --retries 3
expect_rc 1 "an invalid sslmode fails the target"
[[ "$(jq_out '.targets[0].error.message')" == *"invalid sslmode value"* ]] && ok "its error is libpq's, naming sslmode" ||
	not_ok "its error is libpq's, naming sslmode (got $(jq_out '.targets[0].error.message'))"
expect_out '.targets[0].attempts' 1 "it is not retried"
grep -q 'retrying' <<<"$ERR" && not_ok "no retry is logged ($ERR)" || ok "no retry is logged"
[[ "$ENGINE_URL" == *\?* ]] && badopt_url="$ENGINE_URL&badopt=1" || badopt_url="$ENGINE_URL?badopt=1"
run info --url "$badopt_url" --locations "$TENANT_SET" --json --retries 3
expect_rc 1 "an unknown URI parameter fails the target"
[[ "$(jq_out '.targets[0].error.message')" == *"invalid URI query parameter"* ]] && ok "its error says so" ||
	not_ok "its error says so (got $(jq_out '.targets[0].error.message'))"
expect_out '.targets[0].attempts' 1 "it is not retried either"
if ! grep -qF -- "$pw" <<<"$OUT$ERR"; then ok "no password in its output or log"; else not_ok "no password in its output or log"; fi

# --- a server that accepts and never answers: --connect-timeout
python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); c = []
while True: c.append(s.accept())' >"$T_TMP/mute.port" &
mute=$!
trap 'kill "$mute" 2>/dev/null; engine_cleanup' EXIT
for _ in $(seq 50); do [ -s "$T_TMP/mute.port" ] && break; sleep 0.1; done
mute_url="postgresql://u:pw2500@127.0.0.1:$(cat "$T_TMP/mute.port")/x"
# mute_run RETRIES: info on the mute server, bounded so a regression fails
# rather than hangs; sets OUT, ERR and RC as run does.
mute_run() {
	OUT=$(timeout 20 "$INFRACTL" info --url "$mute_url" --locations "$TENANT_SET" --json --retries "$1" \
		--connect-timeout 1 --timeout 30 2>"$T_TMP/stderr")
	RC=$?
	ERR=$(cat "$T_TMP/stderr")
}
mute_run 0
expect_rc 1 "a server that never answers fails the target"
expect_out '.targets[0].status + ":" + (.targets[0].attempts | tostring)' "failed:1" "once, with --retries 0"
[[ "$(jq_out '.targets[0].error.message')" == *"connection timed out after 1 s"* ]] &&
	ok "after --connect-timeout, not the target's --timeout" ||
	not_ok "after --connect-timeout, not the target's --timeout (got $(jq_out '.targets[0].error.message'))"
expect_out '.targets[0].error.sqlstate' 08006 "as a lost connection (08006)"
mute_run 1
expect_out '.targets[0].status + ":" + (.targets[0].attempts | tostring)' "failed:2" "which is retried"
kill "$mute" 2>/dev/null

# --- transient errors are retried, SQL errors are not
q -c "CREATE SEQUENCE public.tries"
flaky=$(newset flaky)
cat >"$flaky/V1__flaky.sql" <<'SQL'
CREATE TABLE done (x int);
DO $$ BEGIN
  IF nextval('public.tries') < 3 THEN
    RAISE EXCEPTION 'simulated conflict' USING ERRCODE = 'serialization_failure';
  END IF;
END $$;
SQL
eng migrate flaky "$flaky" --retries 3
expect_rc 0 "a serialization failure is retried until it passes"
expect_out '.targets[0].attempts' 3 "on the third attempt"
expect_q "SELECT count(*) FROM flaky.flyway_schema_history WHERE version = '1' AND success" 1 "recorded once"
bad=$(newset bad)
printf 'CREATE TABLE t (x int);\nSELEC 1;\n' >"$bad/V1__typo.sql"
eng migrate bad "$bad" --retries 3
expect_rc 1 "a syntax error fails the target"
expect_out '.targets[0].attempts' 1 "without a retry"
expect_out '.targets[0].error.sqlstate' 42601 "SQLSTATE 42601"
[[ "$(jq_out '.targets[0].error.message')" == *"line 2"* ]] && ok "the error points at line 2" ||
	not_ok "the error points at line 2 (got $(jq_out '.targets[0].error.message'))"

# --- a statement timeout
sleepy=$(newset sleepy)
printf 'SELECT pg_sleep(5);\n' >"$sleepy/V1__sleep.sql"
eng migrate sleepy "$sleepy" --statement-timeout 1
expect_rc 1 "a statement past --statement-timeout fails"
expect_out '.targets[0].error.sqlstate + ":" + (.targets[0].attempts | tostring)' "57014:1" \
	"canceled by the server (57014), not retried"
expect_q "SELECT count(*) FROM sleepy.flyway_schema_history WHERE version = '1'" 0 "and not recorded"

# --- SIGKILL in the middle of a fleet run, then a re-run
slow=$(tenant_copy slow)
printf 'CREATE TABLE marker13 (x int);\nSELECT pg_sleep(1);\n' >"$slow/V13__slow.sql"
printf 'CREATE TABLE marker14 (x int);\nSELECT pg_sleep(1);\n' >"$slow/V14__slower.sql"
seq -f 'k%02g' 1 12 >"$T_TMP/killed"
"$INFRACTL" migrate --url "$ENGINE_URL" --schemas-from "$T_TMP/killed" --locations "$slow" --parallel 4 \
	>/dev/null 2>&1 &
victim=$!
for _ in $(seq 100); do
	[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1)%' AND pid <> pg_backend_pid()")" -ge 2 ] && break
	sleep 0.1
done
kill -9 "$victim"
wait "$victim" 2>/dev/null
consistent=0
for s in $(cat "$T_TMP/killed"); do
	q -c "SELECT 1 FROM pg_namespace WHERE nspname = '$s'" | grep -q 1 || { consistent=$((consistent + 1)); continue; }
	# every recorded version's objects exist, and no migration left objects without its row
	r=$(q -c "SELECT (to_regclass('$s.marker13') IS NOT NULL) = EXISTS (SELECT 1 FROM $s.flyway_schema_history WHERE version = '13')
	            AND (to_regclass('$s.marker14') IS NOT NULL) = EXISTS (SELECT 1 FROM $s.flyway_schema_history WHERE version = '14')
	            AND (to_regclass('$s.comments') IS NOT NULL) = EXISTS (SELECT 1 FROM $s.flyway_schema_history WHERE version = '11')" 2>/dev/null)
	[ "$r" = t ] && consistent=$((consistent + 1))
done
at14=$(for s in $(cat "$T_TMP/killed"); do q -c "SELECT 1 FROM $s.flyway_schema_history WHERE version = '14'" 2>/dev/null; done | wc -l)
[ "$at14" -lt 12 ] && ok "the kill interrupted the run ($at14 of 12 schemas done)" ||
	not_ok "the kill interrupted the run (all 12 were done)"
[ "$consistent" = 12 ] && ok "after SIGKILL every schema is at a version it recorded" ||
	not_ok "after SIGKILL every schema is at a version it recorded ($consistent of 12)"
run migrate --url "$ENGINE_URL" --schemas-from "$T_TMP/killed" --locations "$slow" --parallel 4 --json
expect_rc 0 "a re-run completes the fleet"
expect_out '[.targets[].version_after] | unique | join(",")' 14 "every schema at version 14"
expect_q "SELECT count(*) FROM pg_namespace n WHERE nspname LIKE 'k__' AND (SELECT count(*) FROM pg_class WHERE relname = 'flyway_schema_history' AND relnamespace = n.oid) = 1" 12 \
	"each schema has its history table"

done_testing
