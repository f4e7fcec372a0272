#!/usr/bin/env bash
# t8500-tenants.sh — creating a tenant from the admin pages (its slug
# checked as typed, the API's field errors shown), following the link to
# its migration, and finding the creation in the audit trail
# (t8500-tenants.mjs).
. "$(dirname "$0")/lib.sh"
run_browser_test t8500-tenants.mjs
