#!/usr/bin/env bash
# t8200-databases.sh — registering a database from the admin pages (field
# errors from the API shown next to their fields, a failed connection test,
# then a valid one), finding it in the list, testing, editing with If-Match
# (412 explained), deleting (t8200-databases.mjs).
. "$(dirname "$0")/lib.sh"
run_browser_test t8200-databases.mjs
