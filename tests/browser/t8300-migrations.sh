#!/usr/bin/env bash
# t8300-migrations.sh — starting an execution from the admin pages after a
# dry-run plan, and watching its progress live to done, the event stream
# resumed with Last-Event-ID on the way; then rolling it back
# (t8300-migrations.mjs). infrad runs with SSE_MAX_SECONDS=5 here, so a
# stream ends before the execution does and the page must resume it.
. "$(dirname "$0")/lib.sh"
. "$INFRA_REPO/tests/integration/lib.sh"
. "$INFRA_REPO/tests/integration/registry-lib.sh"

if ! restart_infrad INFRA_SSE_MAX_SECONDS=5; then
	echo "not ok 1 - infrad restarts with SSE_MAX_SECONDS=5"
	exit 1
fi
trap 'restart_infrad >/dev/null 2>&1; rm -rf "$T_TMP"' EXIT
run_browser_test t8300-migrations.mjs
