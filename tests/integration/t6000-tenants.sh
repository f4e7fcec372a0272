#!/usr/bin/env bash
# t6000-tenants.sh — tenants through the API: the body's field table (every
# bad field named), a tenant whose schema is created and migrated by
# itself, 20 tenants created in a burst each ending migrated with the whole
# tenant set, conflicts, pages, tenant-bound tokens (their own tenant only),
# the migrate route, soft delete and drop_schema (infrastructure:admin),
# the audit trail and the event history; the schemas made by the host's
# schema service (no worker session left in a tenant database), and by the
# worker itself while that service is down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
. "$(dirname "$0")/migrations-lib.sh"
. "$(dirname "$0")/tenants-lib.sh"
tenants_schema_or_skip

new_db ten_main
db=$(register ten_main public tenant)
new_db ten_an
analytics=$(register ten_an public analytics)
slug=acme_$RUN

# ------------------------------------------------------------ validation
as "$TEN" POST /tenants '{}'
expect_error 422 VAL_001 "an empty body is 422"
expect_json '.details.fields | keys | join(",")' "database_id,slug" "slug and database_id are required"
as "$TEN" POST /tenants '{"slug": "Bad-Slug", "name": "", "database_id": "nope", "schema": "pg_x", "colour": 1}'
expect_error 422 VAL_001 "every bad field at once"
expect_json '.details.fields | keys | join(",")' "colour,database_id,name,schema,slug" \
	"slug, name, database_id, schema and the unknown field are named"
expect_json '.details.fields.slug | test("a-z")' true "the slug's rule is given"
as "$TEN" POST /tenants "$(tenant_body "$slug" "$analytics" '.schema = "9x"')"
expect_error 422 VAL_001 "a database of the wrong type and a bad schema"
expect_json '.details.fields.database_id' "must be a database of type tenant or shared"
expect_json '.details.fields.schema | test("must match")' true
as "$TEN" POST /tenants "$(tenant_body "$slug" "$(cat /proc/sys/kernel/random/uuid)")"
expect_json '.details.fields.database_id' "no such active database" "an unknown database is named"
as "$TEN_READ" POST /tenants "$(tenant_body "$slug" "$db")"
expect_error 403 AUTH_002 "tenants:read cannot create"

# -------------------------------------------------------------- one tenant
create_tenant "$TEN" "$slug" "$db"
expect_status 201 "POST /tenants is 201"
expect_header Location "^/tenants/$TENANT\$"
expect_json .status active "its schema was created: active"
expect_json .schema "tenant_$slug" "the schema defaults to tenant_<slug>"
expect_json .name "$(tr a-z A-Z <<<"$slug")"
expect_json .created_by ten-operator
check "it carries its migration's id" grep -Eq '^[0-9a-f]{8}-[0-9a-f-]{27}$' <<<"$TEXEC"
first=$TENANT first_exec=$TEXEC
check "the migration completes" wait_status 60 "$first_exec" completed
as "$TEN" GET "/migrations/$first_exec"
expect_json '[.scope, .source, .filters.tenant] | join(" ")' "tenant event $slug" \
	"an execution of scope tenant, started by the event"
check "the schema has the whole tenant set" migrated ten_main "tenant_$slug"

create_tenant "$TEN" "$slug" "$db"
expect_error 409 RES_002 "the same slug again is 409"
create_tenant "$TEN" "other_$RUN" "$db" ".schema = \"tenant_$slug\""
expect_error 409 RES_002 "another tenant in the same schema is 409"
expect_json '.message | test("belongs to tenant")' true "naming the tenant it belongs to"

# --------------------------------------------------------- 20 in a burst
new_db ten_shared
shared=$(register ten_shared public shared)
for i in $(seq 1 20); do
	(
		# api() keeps the response in $T_TMP: one directory each
		T_TMP=$T_TMP/b$i
		HEADERS=$T_TMP/headers
		mkdir -p "$T_TMP"
		as "$TEN" POST /tenants "$(tenant_body "b${i}_$RUN" "$shared")"
		printf '%s %s\n' "$STATUS" "$(jq -r '[.id, .status, .migration_execution_id] | join(" ")' <<<"$BODY")" \
			>"${T_TMP%/*}/burst.$i"
	) &
done
wait
cat "$T_TMP"/burst.* >"$T_TMP/burst"
check "20 tenants created at once: 20 × 201 active" \
	test "$(grep -c '^201 [0-9a-f-]* active [0-9a-f-]*$' "$T_TMP/burst")" = 20
all_completed() {
	[ "$(psql_control -c "SELECT count(*) FROM infra.executions e JOIN infra.tenants t
		ON t.migration_execution_id = e.id WHERE t.database_id = '$shared' AND e.status = 'completed'")" = 20 ]
}
check "each one's migration completes" wait_for 180 all_completed
bad=''
for i in $(seq 1 20); do
	migrated ten_shared "tenant_b${i}_$RUN" || bad+=" b$i"
done
check "each schema has the whole tenant set (${TENANT_SET_VERSIONS##*,} versions)${bad:+; not:$bad}" test -z "$bad"
check "one execution per tenant, no more" test "$(psql_control -c "SELECT count(*) FROM infra.executions
	WHERE scope = 'tenant' AND filters->>'tenant' LIKE 'b%\\_$RUN'")" = 20

# --------------------------------------------------- the schema service
# The schemas were made by the host's schema service, on one session per
# database (lib/schema_service.h): no worker keeps a session to a tenant
# database, only its control connection.
pg_port_hex=$(printf '%04X' "$(sed -E 's|.*:([0-9]+)/[^/]*$|\1|' <<<"$INFRA_PGURL")")
pg_connections_of() {
	local inodes
	inodes=$(ls -l "/proc/$1/fd" 2>/dev/null | grep -o 'socket:\[[0-9]*\]' | grep -o '[0-9]*' | paste -sd'|')
	[ -n "$inodes" ] || { echo 0; return; }
	awk -v p=":$pg_port_hex\$" -v re="^($inodes)\$" '$3 ~ p && $10 ~ re { n++ } END { print n + 0 }' /proc/net/tcp
}
service=$(infrad_pids schemas)
check "infrad runs one schema service" test "$(wc -w <<<"$service")" = 1
check "… which holds the sessions to the tenant databases" test "$(pg_connections_of "$service")" -ge 1
extra=''
for w in $(infrad_pids worker); do
	# A worker that served nothing yet may not have connected at all.
	[ "$(pg_connections_of "$w")" -le 1 ] || extra+=" $w"
done
check "each worker holds its control connection and nothing else${extra:+; not:$extra}" test -z "$extra"

# Without it a worker makes the schema itself; the master starts another.
new_db ten_nosvc
nosvc_db=$(register ten_nosvc public tenant)
kill -KILL "$service"
create_tenant "$TEN" "nosvc_$RUN" "$nosvc_db"
expect_status 201 "with the schema service gone, a tenant is still created"
expect_json .status active
check "… its schema made by the worker, and migrated" wait_for 120 migrated ten_nosvc "tenant_nosvc_$RUN"
respawned() { local s; s=$(infrad_pids schemas); [ -n "$s" ] && [ "$s" != "$service" ]; }
check "the master starts another schema service" wait_for 20 respawned

# ------------------------------------------------------------------ reads
as "$TEN_READ" GET "/tenants/$slug"
expect_status 200 "GET by slug"
expect_json .id "$first"
as "$TEN_READ" GET "/tenants/$first"
expect_json .slug "$slug" "GET by id"
as "$TEN_READ" GET "/tenants/nosuch_$RUN"
expect_error 404 RES_001 "an unknown slug is 404"
seen=''
cursor=''
pages=0
while :; do
	as "$TEN_READ" GET "/tenants?database_id=$shared&limit=7${cursor:+&cursor=$cursor}"
	[ "$STATUS" = 200 ] || break
	seen+=$(jq -r '.items[].slug' <<<"$BODY")$'\n'
	pages=$((pages + 1))
	cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
	[ -n "$cursor" ] || break
done
check "pages of 7 walk the 20 tenants once each" test "$(sort -u <<<"$seen" | grep -c .)/$pages" = 20/3
as "$TEN_READ" GET "/tenants?status=sleeping"
expect_error 422 VAL_001 "an unknown status filter is 422"

# ---------------------------------------------------- tenant-bound tokens
OWN=$(token --sub acme-ops --tenant "$slug" --perm tenants:read --perm tenants:manage \
	--perm migrations:read --perm migrations:execute)
as "$OWN" GET /tenants
expect_json '[.items[].slug] | join(",")' "$slug" "a tenant-bound token lists only its tenant"
as "$OWN" GET "/tenants/b1_$RUN"
expect_error 404 RES_001 "another tenant is not found"
as "$OWN" DELETE "/tenants/b1_$RUN"
expect_error 404 RES_001 "nor can it be deleted"
as "$OWN" POST "/tenants/b1_$RUN/migrate"
expect_error 404 RES_001 "nor migrated"
as "$OWN" POST /tenants "$(tenant_body "$slug" "$shared" '.schema = "mine"')"
expect_error 422 VAL_001 "it cannot put its tenant in a database that is not its own"
expect_json .details.fields.database_id "no such active database" "(which it cannot see)"
as "$OWN" POST /tenants "$(tenant_body "$slug" "$db" '.schema = "mine"')"
expect_error 422 VAL_001 "nor in a platform database"
expect_json .details.fields.database_id "no such active database"
as "$OWN" POST /tenants "$(tenant_body "b99_$RUN" "$db")"
expect_error 403 AUTH_002 "nor can it create another tenant"
as "$OWN" POST /tenants "$(tenant_body "b99_$RUN" "$db" '.name = 7')"
expect_error 422 VAL_001 "a body with a bad field is 422 all the same"
expect_json '.details.fields | keys | join(",")' "database_id,name" "… naming the database it cannot see too"
as "$OWN" GET "/migrations/$first_exec"
expect_status 200 "it sees its own tenant's migration"

# ---------------------------------------------------------------- migrate
as "$OWN" POST "/tenants/$slug/migrate" '{"target_version": "latest"}'
expect_status 202 "POST /tenants/{slug}/migrate is 202"
expect_json '[.scope, .filters.tenant] | join(" ")' "tenant $slug"
again=$(jq -r .id <<<"$BODY")
check "it completes (nothing left to apply)" wait_status 60 "$again" completed
check "it is the tenant's migration now" test "$(tenant_field "$first" migration_execution_id)" = "$again"
as "$TEN" POST "/tenants/$slug/migrate" '{"target_version": "x.y"}'
expect_error 422 VAL_001 "a bad target_version is 422"

# ------------------------------------------------------------------ delete
as "$TEN" DELETE "/tenants/b2_$RUN?drop_schema=true"
expect_error 403 AUTH_002 "drop_schema needs infrastructure:admin"
as "$ADMIN" DELETE "/tenants/b2_$RUN?drop_schema=true"
expect_status 204 "an admin deletes a tenant and its schema"
check "the schema is gone" test "$(target_psql ten_shared -c \
	"SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_b2_$RUN'")" = 0
as "$TEN" DELETE "/tenants/b3_$RUN"
expect_status 204 "a soft delete"
check "the schema stays" test "$(target_psql ten_shared -c \
	"SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_b3_$RUN'")" = 1
as "$TEN_READ" GET "/tenants/b3_$RUN"
expect_error 404 RES_001 "a deleted tenant's slug is not found"
as "$TEN_READ" GET "/tenants?database_id=$shared"
expect_json '.items | length' 18 "nor listed"
as "$TEN_READ" GET "/tenants?database_id=$shared&status=deleted"
expect_json '.items | length' 2 "unless asked for"
as "$TEN" DELETE "/tenants/b3_$RUN"
expect_error 404 RES_001 "deleting twice is 404"
create_tenant "$TEN" "b3_$RUN" "$shared" '.schema = "tenant_b3_again"'
expect_status 201 "the slug is free again"

# -------------------------------------------------------- audit and events
check "creates, deletes and migrations are audited" test "$(psql_control -c "SELECT count(DISTINCT action)
	FROM infra.audit_log WHERE action IN ('tenant.create', 'tenant.delete', 'tenant.migrate')
	AND resource = 'tenant'")" = 3
check "the delete with drop_schema is audited as such" test "$(psql_control -c "SELECT count(*)
	FROM infra.audit_log WHERE action = 'tenant.delete' AND (details->>'drop_schema')::boolean
	AND outcome = 'success'")" -ge 1
as "$ADMIN" GET "/system/events?type=tenant.created&limit=100"
expect_status 200 "GET /system/events"
expect_json "[.items[] | select(.resource_id == \"$first\")][0] | [.status, .execution_id] | join(\" \")" \
	"done $first_exec" "the tenant's event is done, with its execution"
as "$TEN" GET /system/events
expect_error 403 AUTH_002 "the event history needs infrastructure:admin"

done_testing
