#!/usr/bin/env bash
# t1500-ready-cache.sh — /health/ready names the failing check: with
# memcached stopped it answers 503 naming the cache, and recovers once
# memcached is back (scripts/stack up restarts it on the same port).
. "$(dirname "$0")/lib.sh"

api GET /health/ready
expect_status 200 "ready before"

mc=$(cat "$INFRA_MEMCACHED_PID")
kill -TERM "$mc"
for _ in $(seq 1 100); do alive "$mc" || break; sleep 0.1; done
check "memcached stopped" eval '! alive "$mc"'

api GET /health/ready
expect_status 503 "/health/ready is 503 without memcached"
check "the answer names the cache check" grep -q 'cache' <<<"$BODY"
expect_json '.details.checks.database // .checks.database' ok "the database check still passes"
api GET /health
expect_status 200 "/health (no I/O) still answers 200"

INFRA_VAR=$INFRA_VAR "$INFRA_REPO/scripts/stack" up >"$T_TMP/up.log" 2>&1
check "scripts/stack up restarts memcached" test "$(cat "$INFRA_MEMCACHED_PID")" != "$mc"

# The workers reconnect on their own (libmemcached retries a dead server
# after a few seconds): wait, boundedly, until 12 answers in a row are 200.
ready=0
for _ in $(seq 1 150); do
	api GET /health/ready
	if [ "$STATUS" = 200 ]; then ready=$((ready + 1)); else ready=0; fi
	[ $ready -ge 12 ] && break
	sleep 0.2
done
check "/health/ready is 200 again on every worker" test $ready -ge 12

done_testing
