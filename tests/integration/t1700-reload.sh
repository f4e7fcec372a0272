#!/usr/bin/env bash
# t1700-reload.sh — SIGHUP under load: the master rolls its workers and not
# one request fails.
. "$(dirname "$0")/lib.sh"

master=$(infrad_pids master)
old=$(infrad_pids worker | sort)

# Four clients, 400 requests each on a kept connection; the reload lands
# while they run.
for i in 1 2 3 4; do
	statuses 127.0.0.1 400 /health >"$T_TMP/load.$i" &
done
sleep 0.3
kill -HUP "$master"
wait

cat "$T_TMP"/load.* | sort | uniq -c | tr -s ' ' >"$T_TMP/summary"
check "1600 requests across the reload, all 200 ($(tr '\n' ' ' <"$T_TMP/summary"))" \
	test "$(cat "$T_TMP/summary")" = " 1600 200"

rolled=0
for _ in $(seq 1 100); do
	new=$(infrad_pids worker | sort)
	if [ -n "$new" ] && [ -z "$(comm -12 <(echo "$old") <(echo "$new"))" ]; then
		rolled=1
		break
	fi
	sleep 0.1
done
check "every worker was replaced by the reload" test $rolled = 1
check "the master stayed the same process" test "$(infrad_pids master)" = "$master"
api GET /metrics
check "infra_reloads_total counts the reload" grep -q '^infra_reloads_total [1-9]' <<<"$BODY"

done_testing
