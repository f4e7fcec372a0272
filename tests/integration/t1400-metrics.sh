#!/usr/bin/env bash
# t1400-metrics.sh — /metrics: Prometheus text from allowed addresses only
# (tests/run allows 127.0.0.1), counting the requests it serves.
. "$(dirname "$0")/lib.sh"

# health_count: the /health 200 counter summed over the metric's series.
health_count() {
	api GET /metrics
	awk '/^infra_http_requests_total\{/ && /route="\/health"/ && /status="200"/ { n += $NF } END { print n + 0 }' <<<"$BODY"
}

api GET /metrics
expect_status 200 "/metrics answers 200 from loopback"
expect_header Content-Type '^text/plain' "/metrics is Prometheus text"
check "/metrics has HELP and TYPE lines" grep -q '^# TYPE infra_' <<<"$BODY"
check "/metrics has the uptime" grep -q '^infra_uptime_seconds ' <<<"$BODY"
check "/metrics has a latency histogram" grep -q '^infra_http_request_duration_seconds_bucket{' <<<"$BODY"
check "/metrics has worker restarts" grep -q '^infra_worker_restarts_total ' <<<"$BODY"

before=$(health_count)
for _ in $(seq 1 25); do api GET /health; done
after=$(health_count)
check "25 requests to /health are counted ($before -> $after)" test "$after" -ge $((before + 25))

api GET /metrics --interface 127.0.0.3
expect_error 403 AUTH_002 "/metrics from an address not allowed: 403"
expect_security_headers "403"

done_testing
