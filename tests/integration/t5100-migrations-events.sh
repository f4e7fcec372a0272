#!/usr/bin/env bash
# t5100-migrations-events.sh — GET /migrations/{id}/events read by a real
# client (curl -N) through nginx: events arrive while the execution runs
# (unbuffered), numbered without gaps, from the first progress to `done`,
# with heartbeats while nothing happens; a reconnection with Last-Event-ID
# gets exactly the events after it; a stream ends after SSE_MAX_SECONDS
# saying so; streams beyond SSE_MAX_STREAMS get 503 with Retry-After, and a
# worker killed mid-stream gives its place back. infrad runs with a 1 s
# heartbeat, 6 s streams and one stream per host here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
migrations_schema_or_skip

check "infrad restarts with short streams" restart_infrad \
	INFRA_SSE_HEARTBEAT=1 INFRA_SSE_MAX_SECONDS=6 INFRA_SSE_MAX_STREAMS=1 INFRA_RUNNERS=1
streams=()
trap 'release_lock 2>/dev/null; for p in "${streams[@]}"; do kill "$p" 2>/dev/null; done;
	restart_infrad >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT

tenant=events_$RUN
new_db mx_events
x=$(register mx_events first tenant "" "$tenant")
y=$(register mx_events second tenant "" "$tenant")
z=$(register mx_events third tenant "" "$tenant")

# stream ID FILE [curl args…]: read the events of ID into FILE in the
# background (STREAM is curl's pid); the headers go to FILE.headers.
stream() {
	local id=$1 file=$2
	shift 2
	curl -sSN --cacert "$INFRA_CA" -H "Authorization: Bearer $MIG_READ" -D "$file.headers" \
		"$@" "$INFRA_URL/migrations/$id/events" >"$file" 2>"$file.err" &
	STREAM=$!
	streams+=("$STREAM")
}
has() { grep -q -e "$2" "$1" 2>/dev/null; }
ended() { ! kill -0 "$1" 2>/dev/null; }
# ids FILE: the event ids in order, comma-separated.
ids() { awk '/^id: / { printf "%s%s", sep, $2; sep = "," }' "$1"; }
# types FILE: the event types in order.
types() { awk '/^event: / { printf "%s%s", sep, $2; sep = "," }' "$1"; }

# owned_users SCHEMA: SCHEMA with a users table, owned by the database's role.
owned_users() {
	target_psql mx_events -c "CREATE SCHEMA $1 AUTHORIZATION mx_events" -c "SET ROLE mx_events" \
		-c "CREATE TABLE $1.users (id bigint PRIMARY KEY, email text)" >/dev/null
}

# ---------------------------------------- from the start to `done`, live
# The first target is baselined at version 1 with a users table that the
# test locks: its V2 (a foreign key to users) waits, so the stream is read
# while the execution runs.
owned_users first
as "$MIG" POST /migrations/baseline "{\"database_id\":\"$x\",\"version\":\"1\"}"
expect_status 200 "the first target is baselined at version 1"
hold_lock mx_events "LOCK TABLE first.users IN ACCESS EXCLUSIVE MODE;"
check "a session holds first.users" wait_for 10 lock_granted mx_events
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"$tenant\"}"
expect_status 202 "an execution of three targets is accepted"
live=$EXEC
stream "$live" "$T_TMP/live"
live_pid=$STREAM
check "the stream delivers events while the execution runs" wait_for 20 has "$T_TMP/live" '^event: progress'
check "it is in progress meanwhile" status_is "$live" pending in_progress
check "heartbeats come while nothing happens" wait_for 10 has "$T_TMP/live" '^: ping'
check "the stream is text/event-stream" grep -qi '^content-type: text/event-stream' "$T_TMP/live.headers"
check "… and not cached" grep -qi '^cache-control: no-store' "$T_TMP/live.headers"
release_lock
check "the stream ends by itself after done" wait_for 60 ended "$live_pid"
check "the execution completed" status_is "$live" completed
check "the last event is done" test "$(types "$T_TMP/live" | awk -F, '{ print $NF }')" = done
check "done says completed" bash -c "grep -A1 '^event: done' '$T_TMP/live' | grep -q '\"status\": \"completed\"'"
check "every target has its event" test "$(types "$T_TMP/live" | tr , '\n' | grep -c '^target$')" = 3
last=$(psql_control -c "SELECT event_seq FROM infra.executions WHERE id = '$live'")
check "ids run 1..$last without a gap" test "$(ids "$T_TMP/live")" = "$(seq -s, 1 "$last")"
check "the first event is the progress of the new execution" \
	bash -c "grep -A1 '^id: 1$' '$T_TMP/live' | grep -q '^event: progress'"

# ------------------------------------------------------- Last-Event-ID
stream "$live" "$T_TMP/resumed" -H 'Last-Event-ID: 3'
check "a resumed stream of an ended execution ends at done" wait_for 20 ended "$STREAM"
check "it replays exactly the events after 3" test "$(ids "$T_TMP/resumed")" = "$(seq -s, 4 "$last")"
# events FILE: the events from id 4 on, without comments (heartbeats).
events_from_4() { awk '/^id: 4$/,0' "$1" | grep -v -e '^:' -e '^$'; }
check "… the same events as the first time" test "$(events_from_4 "$T_TMP/live")" = "$(events_from_4 "$T_TMP/resumed")"
stream "$live" "$T_TMP/nothing" -H "Last-Event-ID: $last"
check "after the last event, the stream ends at once" wait_for 20 ended "$STREAM"
check "… saying the execution has ended" has "$T_TMP/nothing" '^: the execution has ended'
as "$MIG_READ" GET "/migrations/$live/events" -H 'Last-Event-ID: soon'
expect_error 422 VAL_001 "a malformed Last-Event-ID is refused"
as "$MIG_READ" GET /migrations/00000000-0000-4000-8000-000000000000/events
expect_error 404 RES_001 "the events of an unknown execution are 404"

# ----------------------------------------- lifetime, limit, killed worker
h=$(register mx_events held tenant "" "${tenant}_held")
owned_users held
as "$MIG" POST /migrations/baseline "{\"database_id\":\"$h\",\"version\":\"1\"}"
hold_lock mx_events "LOCK TABLE held.users IN ACCESS EXCLUSIVE MODE;"
check "a session holds held.users" wait_for 10 lock_granted mx_events
execute "$MIG" "{\"scope\":\"tenant\",\"tenant\":\"${tenant}_held\"}"
expect_status 202 "an execution that stays in progress is accepted"
held=$EXEC
stream "$held" "$T_TMP/long"
long_pid=$STREAM
check "its stream is open" wait_for 20 has "$T_TMP/long" '^event: progress'
as "$MIG_READ" GET "/migrations/$held/events" --max-time 5
expect_error 503 SVC_001 "a stream beyond SSE_MAX_STREAMS is refused"
expect_header Retry-After '^[0-9]+$' "… with Retry-After"
check "the stream ends after SSE_MAX_SECONDS" wait_for 30 ended "$long_pid"
check "… saying so, for the client to reconnect" has "$T_TMP/long" '^: stream lifetime reached'
check "its place is free again" wait_for 10 bash -c \
	"curl -s --cacert '$INFRA_CA' '$INFRA_URL/metrics' | grep -q '^infra_sse_streams 0$'"
stream "$held" "$T_TMP/killed"
check "a new stream opens" wait_for 20 has "$T_TMP/killed" '^event: progress'
check "the host counts one open stream" bash -c \
	"curl -s --cacert '$INFRA_CA' '$INFRA_URL/metrics' | grep -q '^infra_sse_streams 1$'"
for w in $(infrad_pids worker); do kill -KILL "$w"; done
check "killing the workers ends the stream" wait_for 20 ended "$STREAM"
check "the master gives the killed worker's place back" wait_for 20 bash -c \
	"curl -s --cacert '$INFRA_CA' '$INFRA_URL/metrics' | grep -q '^infra_sse_streams 0$'"
stream "$held" "$T_TMP/again"
check "so a stream can open again" wait_for 20 has "$T_TMP/again" '^event: progress'
kill "$STREAM" 2>/dev/null
release_lock
check "the held execution completes" wait_status 60 "$held" completed

done_testing
