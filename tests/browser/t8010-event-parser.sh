#!/usr/bin/env bash
# t8010-event-parser.sh — the admin pages' Server-Sent Events parser
# (nginx/admin/js/sse.js) on a stream cut at every possible place, in Node
# (t8010-event-parser.mjs).
. "$(dirname "$0")/lib.sh"
run_browser_test t8010-event-parser.mjs
