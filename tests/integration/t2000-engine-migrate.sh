#!/usr/bin/env bash
# t2000-engine-migrate.sh — infractl migrate on fresh and partially migrated
# schemas: the objects, the history rows exactly as Flyway writes them, a
# no-op re-run, targets, plan/info, placeholders, and refused sets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

# --- a fresh schema
eng plan fresh "$TENANT_SET"
expect_rc 0 "plan on a schema that does not exist"
expect_out '.targets[0].pending | length' 12 "plan lists the 12 tenant migrations"
expect_q "SELECT count(*) FROM pg_namespace WHERE nspname = 'fresh'" 0 "plan changed nothing"

eng migrate fresh "$TENANT_SET"
expect_rc 0 "migrate a fresh schema"
expect_out '.targets[0].status' ok "its status is ok"
expect_out '[.targets[0].applied[].version] | join(",")' "1,2,3,4,5,6,7,8,9,10,11,12" "applied in version order"
expect_out '.targets[0].version_after' 12 "now at version 12"
expect_q "SELECT count(*) FROM pg_tables WHERE schemaname = 'fresh' AND tablename <> 'flyway_schema_history'" 8 \
	"the tenant tables exist in the schema"
expect_q "SELECT to_regclass('fresh.project_summary') IS NOT NULL" t "the view of V12 exists"

# Rows as Flyway writes them: the schema marker at rank 0, then one SQL row
# per script with its Flyway checksum.
expect_q "SELECT installed_rank || '|' || version || '|' || description || '|' || type || '|' || script || '|' || (checksum IS NULL) || '|' || success FROM fresh.flyway_schema_history WHERE installed_rank = 0" \
	'0|0|<< Flyway Schema Creation >>|SCHEMA|"fresh"|true|true' "the SCHEMA marker row, as Flyway writes it"
expected=''
for v in $(seq 1 12); do
	f=$(ls "$TENANT_SET"/V${v}__*.sql)
	name=${f##*/}
	desc=${name#V${v}__}
	desc=${desc%.sql}
	sum=$("$INFRACTL" checksum "$f" | cut -f1)
	expected+="$v|$v|${desc//_/ }|SQL|$name|$sum|true"$'\n'
done
got=$(q -c "SELECT installed_rank || '|' || version || '|' || description || '|' || type || '|' || script || '|' || checksum || '|' || success FROM fresh.flyway_schema_history WHERE installed_rank > 0 ORDER BY installed_rank")
if [ "$got" = "${expected%$'\n'}" ]; then
	ok "one SQL row per script: rank, version, description, script, checksum"
else
	not_ok "one SQL row per script (got: $got)"
fi
expect_q "SELECT count(*) FROM fresh.flyway_schema_history WHERE installed_by = current_user AND execution_time >= 0 AND installed_on <= now()" 13 \
	"installed_by is the database user, execution_time and installed_on are set"

eng migrate fresh "$TENANT_SET"
expect_rc 0 "migrate again"
expect_out '.targets[0].applied | length' 0 "nothing applied the second time"
expect_q "SELECT count(*) FROM fresh.flyway_schema_history" 13 "no new history rows"

# --- a partially migrated schema, and targets
part5=$(tenant_copy part5 5)
eng migrate part "$part5"
expect_rc 0 "migrate a schema up to V5 (the set has only V1-V5)"
eng migrate part "$TENANT_SET" --target 8
expect_rc 0 "migrate on to target 8"
expect_out '[.targets[0].applied[].version] | join(",")' "6,7,8" "V6-V8 applied, nothing above the target"
eng plan part "$TENANT_SET"
expect_out '[.targets[0].pending[].version] | join(",")' "9,10,11,12" "plan lists what is left"
eng info part "$TENANT_SET"
expect_rc 0 "info"
expect_out '[.targets[0].migrations[] | select(.state == "success")] | length' 9 \
	"info: the marker and 8 applied migrations are success"
expect_out '[.targets[0].migrations[] | select(.state == "pending")] | length' 4 "info: 4 pending"
eng migrate part "$TENANT_SET"
expect_out '[.targets[0].applied[].version] | join(",")' "9,10,11,12" "the rest applied"

# --- placeholders
ph=$(newset placeholders)
printf 'CREATE TABLE ${flyway:defaultSchema}.owners (name text DEFAULT %s);\n' "'\${owner}'" >"$ph/V1__owners.sql"
printf 'COMMENT ON TABLE owners IS %s;\n' "'by \${flyway:user} from \${flyway:filename}'" >"$ph/V2__comment.sql"
eng migrate phs "$ph"
expect_rc 1 "an undefined placeholder fails"
if grep -q "owner" <<<"$(jq_out '.targets[0].error.message')" && grep -q "V1__owners.sql" <<<"$(jq_out '.targets[0].error.message')"; then
	ok "the error names the placeholder and the script"
else
	not_ok "the error names the placeholder and the script (got $(jq_out '.targets[0].error.message'))"
fi
expect_q "SELECT count(*) FROM pg_namespace WHERE nspname = 'phs'" 0 "nothing ran before the error"
eng migrate phs "$ph" --placeholder owner=alice
expect_rc 0 "with the placeholder defined"
expect_q "SELECT column_default FROM information_schema.columns WHERE table_schema = 'phs' AND table_name = 'owners'" \
	"'alice'::text" "\${owner} and \${flyway:defaultSchema} replaced"
expect_q "SELECT obj_description('phs.owners'::regclass)" "by $(q -c 'SELECT current_user') from V2__comment.sql" \
	"\${flyway:user} and \${flyway:filename} replaced"

# --- refused sets and usage
bad=$(newset badname)
printf 'SELECT 1;\n' >"$bad/V1__ok.sql"
printf 'SELECT 1;\n' >"$bad/create_tables.sql"
eng migrate badset "$bad"
expect_rc 1 "a badly named .sql file fails the run"
grep -q "'create_tables.sql' is not a migration name" <<<"$ERR" && ok "the error names the file" ||
	not_ok "the error names the file (got $ERR)"
dup=$(newset dup)
printf 'SELECT 1;\n' >"$dup/V1__a.sql"
printf 'SELECT 1;\n' >"$dup/V1_0__b.sql"
eng migrate badset "$dup"
expect_rc 1 "duplicate versions fail the run"
expect_q "SELECT count(*) FROM pg_namespace WHERE nspname = 'badset'" 0 "nothing ran for a refused set"
run migrate --url "$ENGINE_URL" --schemas x
expect_rc 2 "--locations is required (usage error)"
run migrate --url "$ENGINE_URL" --locations "$TENANT_SET" --parallel 0
expect_rc 2 "--parallel 0 is a usage error"

# --- no secret in output or logs
run migrate --url "$(engine_url nosuchdb)" --schemas "fresh,missing_db_check" --locations "$TENANT_SET" --json --retries 0
expect_rc 1 "a database that does not exist fails"
pw=$(sed -E 's|^[a-z]+://[^:]*:([^@]*)@.*|\1|' <<<"$INFRA_TARGET_PGURL")
if [ -n "$pw" ] && ! grep -qF "$pw" <<<"$OUT$ERR"; then
	ok "the password appears in neither the output nor the log"
else
	not_ok "the password appears in neither the output nor the log"
fi

done_testing
