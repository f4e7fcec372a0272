#!/usr/bin/env bash
# t8400-readonly.sh — a read-only token sees the lists and pages but none of
# the actions it lacks the permission for; the API refuses them anyway
# (t8400-readonly.mjs).
. "$(dirname "$0")/lib.sh"
run_browser_test t8400-readonly.mjs
