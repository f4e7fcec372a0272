#!/usr/bin/env bash
# t1900-term.sh — SIGTERM drains: requests in flight complete, the master and
# all its children exit; nginx then answers 502 with the JSON error body and
# the security headers; scripts/stack up brings infrad back. Runs last.
. "$(dirname "$0")/lib.sh"

master=$(infrad_pids master)
children=$(pgrep -P "$master" | tr '\n' ' ')

statuses 127.0.0.1 300 /health >"$T_TMP/load" &
sleep 0.2
kill -TERM "$master"
wait

gone=0
for _ in $(seq 1 400); do
	alive "$master" || { gone=1; break; }
	sleep 0.1
done
check "the master exits after SIGTERM" test $gone = 1
left=''
for pid in $children; do alive "$pid" && left+=" $pid"; done
check "no worker or runner is left behind" test -z "$left"
check "every answer during the drain is a 200 or nginx's 502 (no reset)" \
	test -z "$(grep -v -x -e 200 -e 502 "$T_TMP/load")"
check "requests were served before the drain" grep -q -x 200 "$T_TMP/load"

api GET /health
expect_error 502 SVC_001 "infrad down: nginx answers 502 SVC_001"
expect_security_headers "502"

INFRA_VAR=$INFRA_VAR "$INFRA_REPO/scripts/stack" up >"$T_TMP/up.log" 2>&1
check "scripts/stack up starts infrad again" test "$(infrad_pids master)" != "$master"
api GET /health
expect_status 200 "and /health answers 200"

done_testing
