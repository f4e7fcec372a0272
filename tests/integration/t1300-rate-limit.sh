#!/usr/bin/env bash
# t1300-rate-limit.sh — nginx's per-address limits: 429 with the JSON error
# body and Retry-After; a stricter limit on /auth/. tests/run exempts
# 127.0.0.1, so these requests come from other loopback addresses (each its
# own bucket) and the rest of the suite is never limited.
. "$(dirname "$0")/lib.sh"

# /admin/ is served by nginx itself: 300 requests on one connection go far
# past the general limit (50 r/s, burst 100).
statuses 127.0.0.3 300 /admin/ >"$T_TMP/api"
check "the general limit answers 429 past its burst" grep -q '^429$' "$T_TMP/api"
check "the general limit lets the burst through" test "$(grep -c '^200$' "$T_TMP/api")" -ge 100

last_response
expect_error 429 RATE_001 "the last of them gets 429 RATE_001"
expect_header Retry-After '^[0-9]+$' "429 carries Retry-After"
expect_security_headers "429"
expect_header Content-Type '^application/json' "the 429 body is JSON"

# /auth/ is stricter (5 r/s, burst 10): 40 requests from a fresh address
# are limited, while 40 from another fresh address to the API are not.
statuses 127.0.0.4 40 /auth/me >"$T_TMP/auth"
statuses 127.0.0.5 40 /admin/ >"$T_TMP/api2"
check "/auth/ answers 429 within 40 requests" grep -q '^429$' "$T_TMP/auth"
check "the general limit lets the same 40 through" test "$(grep -c '^429$' "$T_TMP/api2")" -eq 0

statuses 127.0.0.1 150 /admin/ >"$T_TMP/exempt"
check "150 requests from the exempt address all pass" test "$(grep -c '^200$' "$T_TMP/exempt")" -eq 150

done_testing
