#!/usr/bin/env bash
# t4300-databases-probes.sh — health probes run by the job runners and the
# circuit breaker: a healthy database, one with a wrong password, one that
# is down (the circuit opens, a half-open trial fails, then after a fix one
# closes it), one that accepts TCP and never answers (the timeout is
# honoured), the health answer from memcached, the events, the metrics,
# and the history pruned by age. infrad runs with short intervals here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
registry_schema_or_skip

check "infrad restarts with short probe settings" restart_infrad \
	INFRA_PROBE_INTERVAL=1 INFRA_PROBE_TIMEOUT=2 INFRA_CIRCUIT_COOLDOWN=3 \
	INFRA_CIRCUIT_FAILURE_THRESHOLD=3 INFRA_PROBE_RETENTION_HOURS=1

# A listener that accepts connections and never answers (perl is essential
# on Debian), on a port of its choosing.
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 64,
		ReuseAddr => 1) or die "listen: $!";
	open(my $f, ">", $ARGV[0]) or die; print $f $s->sockport, "\n"; close $f;
	my @held; while (my $c = $s->accept) { push @held, $c }' "$T_TMP/hang.port" &
hang_pid=$!
trap 'kill $hang_pid 2>/dev/null; rm -rf "$T_TMP"' EXIT
wait_for 10 test -s "$T_TMP/hang.port"
hang_port=$(cat "$T_TMP/hang.port")

run=$(openssl rand -hex 3)
PW="Probe-Pw-$(openssl rand -hex 10)"
make_role reg_probe "$PW"
# health_is ID JQ VALUE: the health answer (left in BODY) has JQ = VALUE.
health_is() {
	as "$READ" GET "/databases/$1/health"
	[ "$(jq -r "$2" <<<"$BODY")" = "$3" ]
}
events() {
	psql_control -c "SELECT count(*) FROM infra.outbox WHERE event_type = 'database.health_changed'
		AND resource_id = '$1' AND payload->>'circuit' = '$2' AND payload->>'previous_circuit' = '$3'"
}
has_event() { [ "$(events "$@")" -ge 1 ]; }

# ------------------------------------------------------------- healthy
as "$MANAGE" POST /databases "$(db_body "ok-$run" reg_probe "$PW")"
ok_id=$(jq -r .id <<<"$BODY")
check "a healthy database is probed" wait_for 20 health_is "$ok_id" .current.is_healthy true
expect_json .current.circuit closed "its circuit is closed"
expect_json '.current.server_version | test("^[0-9]")' true "the probe saw the server's version"
expect_json '.history | length > 0' true "the history is in the answer"
wait_for 10 health_is "$ok_id" '.history | length >= 2' true
check "each probe is stored" test "$(psql_control -c \
	"SELECT count(*) >= 2 FROM infra.database_probes WHERE database_id = '$ok_id'")" = t
as "$READ" GET "/databases/$ok_id/health"
expect_header X-Cache '^hit$' "the health answer comes from memcached"

# ------------------------------------------------------ wrong password
as "$MANAGE" POST '/databases?verify=false' "$(db_body "badpw-$run" reg_probe "not-$PW")"
bad_id=$(jq -r .id <<<"$BODY")
check "a wrong password is unhealthy" wait_for 20 health_is "$bad_id" .current.is_healthy false
expect_json '.current.error | test("password authentication failed")' true "with the server's reason"
check "the error does not hold the password" bash -c "! grep -q -F -- '$PW' <<<'$BODY'"

# ---------------------------------------------------------- hanging
hang_body=$(db_body "hang-$run" nobody x "$hang_port")
api POST /databases/test "$hang_body" -H "Authorization: Bearer $MANAGE" --max-time 30
expect_status 200 "a host that never answers: the test returns"
expect_json .ok false
expect_json '.error | test("timed out after 2 s")' true "the connect timeout is honoured"
api POST /databases "$hang_body" -H "Authorization: Bearer $MANAGE" --max-time 30
expect_error 422 VAL_001 "registering it with a connection test is 422"

# --------------------------------------------- down: the circuit breaker
as "$MANAGE" POST '/databases?verify=false' "$(db_body "down-$run" reg_probe "$PW" 1)"
down_id=$(jq -r .id <<<"$BODY")
check "three failures open the circuit" wait_for 30 health_is "$down_id" .current.circuit open
expect_json '.current.consecutive_failures >= 3' true "after three consecutive failures"
check "a health_changed event says closed → open" has_event "$down_id" open closed
check "after the cool-down a half-open trial fails and re-opens it" \
	wait_for 30 has_event "$down_id" open half_open
check "the circuit is open in /metrics" wait_for 20 bash -c \
	"curl -s --cacert '$INFRA_CA' '$INFRA_URL/metrics' | grep -q '^infra_database_circuits{state=\"open\"} [1-9]'"
api GET /metrics
check "transitions are counted in /metrics" grep -q '^infra_circuit_transitions_total{to="open"} [1-9]' <<<"$BODY"

as "$MANAGE" PATCH "/databases/$down_id" "{\"port\": $TARGET_PORT}"
expect_status 200 "the database is fixed"
check "the next trial closes the circuit" wait_for 30 health_is "$down_id" .current.circuit closed
expect_json .current.is_healthy true
check "a health_changed event says half_open → closed" has_event "$down_id" closed half_open

# ---------------------------------------------------------- retention
psql_control -c "INSERT INTO infra.database_probes (database_id, checked_at, is_healthy,
	response_time_ms, circuit) VALUES ('$ok_id', now() - interval '2 hours', true, 1, 'closed')" >/dev/null
pruned() { [ "$(psql_control -c "SELECT count(*) FROM infra.database_probes
	WHERE checked_at < now() - interval '1 hour'")" = 0 ]; }
check "a probe older than PROBE_RETENTION_HOURS is pruned" wait_for 30 pruned

# ------------------------------------------------------------ deleted
as "$MANAGE" DELETE "/databases/$bad_id"
sleep 3
check "a deleted database is no longer probed" test "$(psql_control -c "SELECT count(*)
	FROM infra.database_probes p JOIN infra.databases d ON d.id = p.database_id
	WHERE d.id = '$bad_id' AND p.checked_at > d.deleted_at + interval '2 seconds'")" = 0

check "infrad restarts with the default settings" restart_infrad
done_testing
