#!/usr/bin/env bash
# t4400-databases-tenants.sh — tenant isolation: a tenant-bound token sees
# and touches only its tenant's databases; another tenant's are "not found"
# (404, so their existence does not leak); platform tokens see every one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
registry_schema_or_skip

run=$(openssl rand -hex 3)
ACME=$(token --sub acme-ops --tenant acme --perm databases:manage --perm databases:read)
GLOBEX=$(token --sub globex-ops --tenant globex --perm databases:manage --perm databases:read)

as "$ACME" POST '/databases?verify=false' "$(db_body "acme-$run" nobody x 1)"
expect_status 201 "a tenant-bound token registers a database"
expect_json .tenant acme "bound to the token's tenant"
acme_id=$(jq -r .id <<<"$BODY")

as "$ACME" POST '/databases?verify=false' "$(db_body "acme2-$run" nobody x 1 '.tenant = "globex"')"
expect_error 403 AUTH_002 "it cannot register one for another tenant"

as "$MANAGE" POST '/databases?verify=false' "$(db_body "globex-$run" nobody x 1 '.tenant = "globex"')"
expect_status 201 "a platform token registers one for globex"
globex_id=$(jq -r .id <<<"$BODY")
as "$MANAGE" POST '/databases?verify=false' "$(db_body "platform-$run" nobody x 1)"
expect_json .tenant null "a platform database has no tenant"
platform_id=$(jq -r .id <<<"$BODY")

as "$GLOBEX" GET "/databases?q=$run"
expect_json '[.items[].name] | join(",")' "globex-$run" "globex lists only its own"
expect_json .total 1 "and counts only its own"
as "$MANAGE" GET "/databases?q=$run"
expect_json .total 3 "a platform token lists all three"

for path in "/databases/$acme_id" "/databases/$platform_id" "/databases/$acme_id/health"; do
	as "$GLOBEX" GET "$path"
	expect_error 404 RES_001 "globex: GET $path is 404"
done
as "$GLOBEX" PATCH "/databases/$acme_id" '{"port": 5433}'
expect_error 404 RES_001 "globex cannot PATCH acme's database"
as "$GLOBEX" POST "/databases/$acme_id/test"
expect_error 404 RES_001 "globex cannot test acme's database"
as "$GLOBEX" DELETE "/databases/$acme_id"
expect_error 404 RES_001 "globex cannot delete acme's database"
as "$ACME" PATCH "/databases/$acme_id" '{"tenant": "globex"}'
expect_error 403 AUTH_002 "acme cannot hand its database to globex"

as "$ACME" GET "/databases/$acme_id"
expect_json '[.port, .version] | join(" ")' "1 1" "acme's database is untouched"
as "$GLOBEX" GET "/databases/$globex_id"
expect_status 200 "globex reads its own"
as "$MANAGE" PATCH "/databases/$globex_id" '{"tenant": "acme"}'
expect_status 200 "a platform token moves a database to acme"
as "$GLOBEX" GET "/databases/$globex_id"
expect_error 404 RES_001 "globex no longer sees it"
as "$ACME" GET "/databases/$globex_id"
expect_status 200 "acme does"
as "$ACME" DELETE "/databases/$acme_id"
expect_status 204 "acme deletes its own"

done_testing
