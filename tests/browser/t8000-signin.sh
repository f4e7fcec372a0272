#!/usr/bin/env bash
# t8000-signin.sh — signing in to the admin pages with a good and a bad
# token, where the token is kept and sent, a revoked token returning to the
# sign-in view, and signing out revoking the token (t8000-signin.mjs).
. "$(dirname "$0")/lib.sh"
run_browser_test t8000-signin.mjs
