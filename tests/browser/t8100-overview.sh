#!/usr/bin/env bash
# t8100-overview.sh — the Overview view renders every service of
# /health/detailed and the host's /system/info, in UTC (t8100-overview.mjs).
. "$(dirname "$0")/lib.sh"
run_browser_test t8100-overview.mjs
