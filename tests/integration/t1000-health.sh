#!/usr/bin/env bash
# t1000-health.sh — the health endpoints through nginx: /health and
# /health/ready answer 200 with their documented shape.
. "$(dirname "$0")/lib.sh"

api GET /health
expect_status 200 "GET /health answers 200"
expect_json .status healthy "/health says healthy"
check "/health carries version and uptime" jq -e '(.version | type == "string") and (.uptime_s | type == "number")' <<<"$BODY"
expect_json '.timestamp | test("Z$")' true "/health timestamp is UTC with Z"
expect_header Content-Type '^application/json' "/health is JSON"
expect_header Cache-Control 'no-store' "/health has Cache-Control: no-store"

api HEAD /health
expect_status 200 "HEAD /health answers 200"

api GET /health/ready
expect_status 200 "GET /health/ready answers 200"
expect_json .status ready "/health/ready says ready"
expect_json .checks.database ok "the database check passes"
expect_json .checks.cache ok "the cache check passes"

done_testing
