#!/usr/bin/env bash
# t2400-engine-concurrency.sh — two runners racing on one schema apply each
# migration once; the lock is Flyway's advisory lock for that schema only
# (a session holding Flyway's key for "public" holds the engine off it, and
# only it); 100 schemas of one database migrate in parallel; targets listed
# database by database are spread over the databases.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

# --- two runners on one schema
slow=$(tenant_copy slow)
printf 'SELECT pg_sleep(1);\n' >"$slow/V13__pause.sql"
for i in 1 2; do
	"$INFRACTL" migrate --url "$ENGINE_URL" --schemas raced --locations "$slow" --json \
		>"$T_TMP/race$i.json" 2>"$T_TMP/race$i.err" &
	pids[$i]=$!
done
wait "${pids[1]}"; rc1=$?
wait "${pids[2]}"; rc2=$?
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] && ok "both runners succeed" || not_ok "both runners succeed ($rc1, $rc2: $(cat "$T_TMP"/race*.err))"
n1=$(jq '.targets[0].applied | length' "$T_TMP/race1.json")
n2=$(jq '.targets[0].applied | length' "$T_TMP/race2.json")
[ "$((n1 + n2))" = 13 ] && ok "13 migrations applied between them ($n1 + $n2)" || not_ok "13 migrations applied between them ($n1 + $n2)"
expect_q "SELECT count(*) = count(DISTINCT version) AND count(*) = 13 FROM raced.flyway_schema_history WHERE type = 'SQL'" t \
	"each version recorded exactly once"

# --- Flyway's lock key: 0x466C79776179 + hashCode("\"public\".\"flyway_schema_history\"")
# held by another session until the test ends it.
psql "$ENGINE_URL" -X -q -c "SELECT pg_advisory_lock(77433833903597)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 100); do
	[ "$(q -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] && break
	sleep 0.1
done
eng migrate public,beside "$TENANT_SET" --timeout 5 --parallel 2 --retries 0
expect_rc 1 "a schema whose Flyway lock is held is not migrated"
expect_out '.targets[0].status + ":" + .targets[0].error.message' "failed:timed out after 5000 ms" \
	"public waited for the lock until its timeout"
expect_out '.targets[1].status + ":" + (.targets[1].applied | length | tostring)' "ok:12" \
	"another schema of the same database was migrated meanwhile"
expect_q "SELECT to_regclass('public.users') IS NULL" t "nothing ran in public"
q -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (77433833903597 & 4294967295)" >/dev/null
wait "$holder" 2>/dev/null
eng migrate public "$TENANT_SET"
expect_rc 0 "public is migrated once the lock is free"

# --- 100 schemas in parallel
seq -f 'tenant_%03g' 1 100 >"$T_TMP/schemas"
run migrate --url "$ENGINE_URL" --schemas-from "$T_TMP/schemas" --locations "$TENANT_SET" --parallel 8 --json
expect_rc 0 "migrate 100 schemas with 8 in parallel"
expect_out '.summary.ok' 100 "all 100 succeeded"
expect_q "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'" 100 "100 schemas exist"
total=$(for s in $(cat "$T_TMP/schemas"); do echo "SELECT count(*) FROM $s.flyway_schema_history WHERE success UNION ALL"; done)
expect_q "SELECT sum(count) FROM (${total% UNION ALL}) c" 1300 "each has its 13 history rows"
run migrate --url "$ENGINE_URL" --schemas-from "$T_TMP/schemas" --locations "$TENANT_SET" --parallel 8 --json
expect_out '[.targets[].applied | length] | add' 0 "a re-run applies nothing"

# --- targets listed database by database run in both databases at once
# (lib/mig_fleet.c, take_ready): 20 schemas of this database, then 20 of
# another, on 4 sessions. Taken in list order, the other database's first
# schema would start after this one's twentieth; spread, it starts in the
# first wave, before this one's tenth.
SPREAD_DB=${ENGINE_DB}_b
SPREAD_URL=$(engine_url "$SPREAD_DB")
trap 'engine_cleanup; psql_target -c "DROP DATABASE IF EXISTS \"$SPREAD_DB\" WITH (FORCE)" >/dev/null 2>&1' EXIT
psql_target -c "DROP DATABASE IF EXISTS \"$SPREAD_DB\" WITH (FORCE)" -c "CREATE DATABASE \"$SPREAD_DB\"" >/dev/null
for url in "$ENGINE_URL" "$SPREAD_URL"; do
	for i in $(seq -w 1 20); do
		printf '%s spread_%s\n' "$url" "$i"
	done
done >"$T_TMP/spread"
run migrate --targets-from "$T_TMP/spread" --locations "$TENANT_SET" --parallel 4 --json
expect_rc 0 "40 schemas listed database by database migrate"
expect_out '.summary.ok' 40 "all 40 succeeded"
# started URL SCHEMA: when the schema's first migration ran.
started() { psql "$1" -X -q -A -t -c "SELECT min(installed_on) FROM $2.flyway_schema_history"; }
other_first=$(started "$SPREAD_URL" spread_01)
this_tenth=$(started "$ENGINE_URL" spread_10)
expect_q "SELECT '$other_first'::timestamp < '$this_tenth'::timestamp" t \
	"the other database's first schema started before this one's tenth ($other_first, $this_tenth)"
expect_q "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'spread\\_%'" 20 "… and this database has its 20"

done_testing
