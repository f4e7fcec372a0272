#!/usr/bin/env bash
# t2100-engine-validate-repair.sh — validate's Flyway problem codes (checksum
# and description drift, failed and missing migrations), migrate refusing
# what does not validate, a failed transactional migration leaving nothing,
# a failed non-transactional one leaving a success=false row that blocks
# until repair, and repair realigning, removing and marking deleted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

set3=$(tenant_copy three 3)
eng migrate s "$set3"
expect_rc 0 "migrate V1-V3"
eng validate s "$set3"
expect_rc 0 "validate: nothing to report"
expect_out '.targets[0].problems | length' 0 "no problems"

# --- drift
echo "-- an edit after the fact" >>"$set3/V2__create_projects.sql"
mv "$set3/V3__create_designs.sql" "$set3/V3__designs.sql"
eng validate s "$set3"
expect_rc 1 "validate fails on drift"
expect_out '[.targets[0].problems[] | .code + ":" + .version] | join(",")' \
	"CHECKSUM_MISMATCH:2,DESCRIPTION_MISMATCH:3" "CHECKSUM_MISMATCH for V2, DESCRIPTION_MISMATCH for V3"
cp "$TENANT_SET/V4__add_user_roles.sql" "$set3/"
eng migrate s "$set3"
expect_rc 1 "migrate refuses a schema that does not validate"
expect_out '.targets[0].applied | length' 0 "and applies nothing (V4 is pending)"
expect_q "SELECT count(*) FROM s.flyway_schema_history WHERE version = '4'" 0 "no row for V4"

eng repair s "$set3"
expect_rc 0 "repair"
expect_out '.targets[0].repair.aligned' 2 "two rows realigned"
expect_q "SELECT checksum FROM s.flyway_schema_history WHERE version = '2'" \
	"$("$INFRACTL" checksum "$set3/V2__create_projects.sql" | cut -f1)" "V2's checksum is the edited file's"
expect_q "SELECT description FROM s.flyway_schema_history WHERE version = '3'" designs "V3's description follows the new name"
eng migrate s "$set3"
expect_rc 0 "migrate after repair"
expect_out '[.targets[0].applied[].version] | join(",")' 4 "V4 applied"

# --- a failed transactional migration leaves nothing behind
printf 'CREATE TABLE half_done (id int);\nCREATE TABLE broken (id int REFERENCES nosuch (id));\n' >"$set3/V5__broken.sql"
eng migrate s "$set3"
expect_rc 1 "a failing migration fails the target"
msg=$(jq_out '.targets[0].error.message')
[[ "$msg" == *"V5__broken.sql"*"line 2"*"nosuch"* ]] && ok "the error names the script, the line and the server's reason" ||
	not_ok "the error names the script, the line and the server's reason (got $msg)"
expect_out '.targets[0].error.sqlstate' 42P01 "the SQLSTATE is reported"
expect_out '.targets[0].attempts' 1 "an error in the SQL is not retried"
expect_q "SELECT to_regclass('s.half_done') IS NULL" t "its first statement was rolled back"
expect_q "SELECT count(*) FROM s.flyway_schema_history WHERE version = '5'" 0 "no history row for it"
rm "$set3/V5__broken.sql"

# --- a failed non-transactional migration is recorded and blocks
printf 'CREATE INDEX CONCURRENTLY users_name_idx ON users (full_name);\nCREATE INDEX CONCURRENTLY nope_idx ON nosuch (x);\n' >"$set3/V5__concurrent_indexes.sql"
eng migrate s "$set3"
expect_rc 1 "a failing non-transactional migration fails the target"
expect_q "SELECT success FROM s.flyway_schema_history WHERE version = '5'" f "a success=false row records it"
expect_q "SELECT indisvalid FROM pg_index WHERE indexrelid = 's.users_name_idx'::regclass" t \
	"its first statement ran, outside a transaction"
eng migrate s "$set3"
expect_rc 1 "migrate refuses the schema until repaired"
expect_out '.targets[0].problems[0].code' FAILED_VERSIONED_MIGRATION "FAILED_VERSIONED_MIGRATION"
eng validate s "$set3"
expect_out '[.targets[0].problems[].code] | index("FAILED_VERSIONED_MIGRATION") != null' true "validate reports it too"
eng repair s "$set3"
expect_out '.targets[0].repair.removed_failed' 1 "repair removes the failed row"
printf 'CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (full_name);\nCREATE INDEX CONCURRENTLY projects_name_idx ON projects (name);\n' \
	>"$set3/V5__concurrent_indexes.sql"
eng migrate s "$set3"
expect_rc 0 "the fixed migration applies"
expect_q "SELECT success FROM s.flyway_schema_history WHERE version = '5'" t "recorded as a success"
expect_q "SELECT indisvalid FROM pg_index WHERE indexrelid = 's.projects_name_idx'::regclass" t "the index was built concurrently"

# --- a missing file: marked deleted by repair
rm "$set3/V1__create_users.sql"
eng validate s "$set3"
expect_out '.targets[0].problems[0].code + ":" + .targets[0].problems[0].version' \
	"APPLIED_VERSIONED_MIGRATION_NOT_RESOLVED:1" "APPLIED_VERSIONED_MIGRATION_NOT_RESOLVED for V1"
eng repair s "$set3"
expect_out '.targets[0].repair.marked_deleted' 1 "repair marks it deleted"
expect_q "SELECT type || ':' || success FROM s.flyway_schema_history WHERE version = '1' ORDER BY installed_rank DESC LIMIT 1" \
	"DELETE:true" "with a DELETE row, as Flyway does"
eng validate s "$set3"
expect_rc 0 "validate passes afterwards"

done_testing
