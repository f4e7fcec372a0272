#!/usr/bin/env bash
# t1600-worker-kill.sh — a worker killed with SIGKILL is replaced by the
# master, and requests keep succeeding meanwhile.
. "$(dirname "$0")/lib.sh"

workers=$(infrad_pids worker)
n=$(wc -w <<<"$workers")
check "infrad has request workers ($n)" test "$n" -ge 2
victim=$(head -n 1 <<<"$workers")

api GET /metrics
restarts_before=$(awk '$1 == "infra_worker_restarts_total" { print $2 }' <<<"$BODY")

kill -KILL "$victim"
codes=$(statuses 127.0.0.1 100 /health | sort | uniq -c | tr -s ' ')
check "100 requests right after the kill all succeed ($codes)" test "$codes" = " 100 200"

replaced=0
for _ in $(seq 1 100); do
	now=$(infrad_pids worker)
	if [ "$(wc -w <<<"$now")" -eq "$n" ] && ! grep -qx "$victim" <<<"$now"; then
		replaced=1
		break
	fi
	sleep 0.1
done
check "the killed worker is replaced ($n workers again)" test $replaced = 1

api GET /metrics
restarts_after=$(awk '$1 == "infra_worker_restarts_total" { print $2 }' <<<"$BODY")
check "infra_worker_restarts_total counts it ($restarts_before -> $restarts_after)" \
	test "${restarts_after:-0}" -gt "${restarts_before:-0}"

done_testing
