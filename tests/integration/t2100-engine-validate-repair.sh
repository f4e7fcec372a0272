#!/usr/bin/env bash
# t2100-engine-validate-repair.sh — validate's Flyway problem codes (checksum
# and description drift, failed and missing migrations), migrate refusing
# what does not validate, a failed transactional migration leaving nothing,
# a failed non-transactional one leaving a success=false row that blocks
# until repair, repair realigning, removing and marking deleted (versions
# and repeatables), and installed_rank at its maximum (INT_MAX): read-only
# commands work, commands that would write a row refuse, writing nothing.
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

# --- a missing repeatable: marked deleted by repair too
setr=$(newset repeatable)
echo 'CREATE TABLE t (a int);' >"$setr/V1__t.sql"
echo 'CREATE OR REPLACE VIEW v AS SELECT 1 AS x;' >"$setr/R__v.sql"
eng migrate r "$setr"
expect_rc 0 "migrate a versioned and a repeatable migration"
mv "$setr/R__v.sql" "$T_TMP/R__v.sql"
eng validate r "$setr"
expect_out '.targets[0].problems[0].code' APPLIED_REPEATABLE_MIGRATION_NOT_RESOLVED \
	"APPLIED_REPEATABLE_MIGRATION_NOT_RESOLVED once its file is gone"
eng repair r "$setr"
expect_rc 0 "repair"
expect_out '.targets[0].repair.marked_deleted' 1 "repair marks the repeatable deleted"
expect_q "SELECT coalesce(version, '-') || ':' || description || ':' || type || ':' || script || ':' || success
	FROM r.flyway_schema_history ORDER BY installed_rank DESC LIMIT 1" \
	"-:v:DELETE:R__v.sql:true" "with a DELETE row of no version, as Flyway does"
expect_q "SELECT count(DISTINCT checksum) FROM r.flyway_schema_history WHERE description = 'v'" 1 \
	"carrying the applied checksum"
eng validate r "$setr"
expect_rc 0 "validate passes afterwards"
eng info r "$setr"
expect_out '[.targets[0].migrations[] | select(.description == "v") | .state] | join(",")' \
	deleted,deleted "info shows the run and its DELETE row as deleted"
eng migrate r "$setr"
expect_rc 0 "migrate passes afterwards"
eng repair r "$setr"
expect_out '.targets[0].repair.marked_deleted' 0 "a second repair marks nothing"
mv "$T_TMP/R__v.sql" "$setr/"
eng migrate r "$setr"
expect_rc 0 "the repeatable's file is back: migrate"
expect_out '[.targets[0].applied[].script] | join(",")' R__v.sql "it runs again"
eng validate r "$setr"
expect_rc 0 "and validates"

# --- installed_rank at its maximum (an INT column)
# expect_clean DESC: the last run exited 0 and no sanitizer spoke (build-san).
expect_clean() {
	if [ "$RC" = 0 ] && [[ "$ERR" != *"runtime error"* ]]; then ok "$1"; else
		not_ok "$1 (exit $RC; ${ERR:0:300})"
	fi
}
max=2147483647
empty=$(newset empty)
eng migrate b "$empty"
expect_rc 0 "a schema with its history table"
setb=$(newset bigrank)
echo 'CREATE TABLE x (a int);' >"$setb/V0.1__x.sql"
echo 'CREATE TABLE o (a int);' >"$setb/V1__o.sql"
q -c "CREATE TABLE b.x (a int)" -c "INSERT INTO b.flyway_schema_history VALUES
	($max, '0.1', 'x', 'SQL', 'V0.1__x.sql', $("$INFRACTL" checksum "$setb/V0.1__x.sql" | cut -f1), 'x', now(), 1, true)"
history_b() { q -c "SELECT string_agg(installed_rank || ':' || type, ',' ORDER BY installed_rank) FROM b.flyway_schema_history"; }
before=$(history_b)
eng info b "$setb"
expect_clean "info works at the maximum rank"
expect_out '[.targets[0].migrations[] | .state] | join(",")' success,success,pending "and shows V1 pending"
eng plan b "$setb"
expect_clean "plan works"
expect_out '[.targets[0].pending[].version] | join(",")' 1 "and lists V1"
eng validate b "$setb"
expect_out '[.targets[0].problems[].code] | join(",")' RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED \
	"validate reports only V1 pending"
eng migrate b "$setb"
expect_rc 1 "migrate refuses a row past the maximum rank"
msg=$(jq_out '.targets[0].error.message')
[[ "$msg" == *"installed_rank is at its maximum ($max)"* ]] && ok "the error says installed_rank is at its maximum" ||
	not_ok "the error says installed_rank is at its maximum (got $msg; ${ERR:0:300})"
expect_q "SELECT to_regclass('b.o') IS NULL" t "V1 did not run"
check "the history is unchanged" [ "$(history_b)" = "$before" ]
mv "$setb/V1__o.sql" "$T_TMP/"
eng migrate b "$setb"
expect_clean "migrate with nothing to apply still succeeds"
mv "$setb/V0.1__x.sql" "$T_TMP/"
mv "$T_TMP/V1__o.sql" "$setb/"
eng repair b "$setb"
expect_rc 1 "repair refuses to mark a missing version deleted past the maximum rank"
expect_out '.targets[0].error.message | contains("installed_rank is at its maximum")' true "with the same error"
check "the history is unchanged" [ "$(history_b)" = "$before" ]
eng migrate c "$empty"
q -c "UPDATE c.flyway_schema_history SET installed_rank = $max"
eng baseline c "$empty"
expect_rc 1 "baseline refuses a row past the maximum rank"
expect_out '.targets[0].error.message | contains("installed_rank is at its maximum")' true "with the same error"
expect_q "SELECT string_agg(installed_rank || ':' || type, ',') FROM c.flyway_schema_history" "$max:SCHEMA" \
	"and writes no BASELINE row"

done_testing
