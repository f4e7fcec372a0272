#!/usr/bin/env bash
# t2200-engine-baseline-undo.sh — baseline (and baseline-on-migrate) of a
# schema that already holds objects, migrate refusing such a schema
# otherwise, and undo: U scripts newest first down to a version, refused up
# front when one is missing, then migrated again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

# --- a schema created by hand, before the engine knew it
q -c "CREATE SCHEMA legacy" -c "CREATE TABLE legacy.users (id bigserial PRIMARY KEY, email text NOT NULL)"
eng migrate legacy "$TENANT_SET"
expect_rc 1 "migrate refuses a non-empty schema without history"
[[ "$(jq_out '.targets[0].error.message')" == *"not empty"*baseline* ]] && ok "and says to baseline it" ||
	not_ok "and says to baseline it (got $(jq_out '.targets[0].error.message'))"
expect_q "SELECT to_regclass('legacy.flyway_schema_history') IS NULL" t "no history table was created"

# Any object makes a schema non-empty, not only a table; an empty one
# that exists is taken over.
q -c "CREATE SCHEMA only_fn" -c "CREATE FUNCTION only_fn.f() RETURNS int LANGUAGE sql AS 'SELECT 1'" \
	-c "CREATE SCHEMA only_enum" -c "CREATE TYPE only_enum.mood AS ENUM ('ok')" \
	-c "CREATE SCHEMA only_seq" -c "CREATE SEQUENCE only_seq.n" -c "CREATE SCHEMA bare"
for s in only_fn only_enum only_seq; do
	eng migrate "$s" "$TENANT_SET"
	expect_rc 1 "migrate refuses schema $s (it holds one object)"
done
eng migrate bare "$TENANT_SET"
expect_rc 0 "migrate takes over an existing empty schema"
expect_q "SELECT count(*) FROM bare.flyway_schema_history WHERE success" "$(ls "$TENANT_SET"/V*.sql | wc -l)" \
	"every migration is applied to it"

eng baseline legacy "$TENANT_SET" --baseline-version 3
expect_rc 0 "baseline at version 3"
expect_out '.targets[0].baselined' true "a baseline row was written"
expect_q "SELECT installed_rank || '|' || version || '|' || description || '|' || type || '|' || script || '|' || (checksum IS NULL) || '|' || execution_time || '|' || success FROM legacy.flyway_schema_history" \
	"1|3|<< Flyway Baseline >>|BASELINE|<< Flyway Baseline >>|true|0|true" "the BASELINE row, as Flyway writes it"
eng baseline legacy "$TENANT_SET" --baseline-version 3
expect_rc 0 "baselining again at the same version is a no-op"
expect_out '.targets[0].baselined' false "nothing written the second time"
eng baseline legacy "$TENANT_SET" --baseline-version 4
expect_rc 1 "baselining at another version is refused"

# The real V1-V3 are below the baseline; drop what they would clash with.
q -c "DROP TABLE legacy.users" -c "$(cat "$TENANT_SET/V1__create_users.sql" "$TENANT_SET/V2__create_projects.sql" "$TENANT_SET/V3__create_designs.sql" | sed 's/^CREATE TABLE /CREATE TABLE legacy./; s/ ON \([a-z]*\) (/ ON legacy.\1 (/; s/REFERENCES \([a-z]*\)(/REFERENCES legacy.\1(/')"
eng info legacy "$TENANT_SET"
expect_out '[.targets[0].migrations[] | select(.state == "below_baseline") | .version] | join(",")' "1,2,3" \
	"info: V1-V3 are below the baseline"
eng migrate legacy "$TENANT_SET"
expect_rc 0 "migrate from the baseline"
expect_out '[.targets[0].applied[].version] | join(",")' "4,5,6,7,8,9,10,11,12" "V4-V12 applied"

# --- baseline-on-migrate
q -c "CREATE SCHEMA legacy2" -c "CREATE TABLE legacy2.keep (x int)"
eng migrate legacy2 "$(tenant_copy early 2)" --baseline-on-migrate --baseline-version 2
expect_rc 0 "migrate --baseline-on-migrate"
expect_out '.targets[0].baselined' true "it baselined first"
expect_out '.targets[0].applied | length' 0 "and had nothing to apply above 2"
expect_q "SELECT string_agg(type, ',' ORDER BY installed_rank) FROM legacy2.flyway_schema_history" BASELINE "only the BASELINE row"

# --- undo
eng migrate u "$TENANT_SET"
expect_rc 0 "migrate a schema to 12"
eng undo u "$TENANT_SET"
expect_rc 0 "undo without a target"
expect_out '[.targets[0].undone[].version] | join(",")' 12 "undoes the newest version only"
expect_q "SELECT to_regclass('u.project_summary') IS NULL" t "V12's view is gone"
eng undo u "$TENANT_SET" --target 8
expect_rc 0 "undo down to 8"
expect_out '[.targets[0].undone[].version] | join(",")' "11,10,9" "U11, U10, U9, newest first"
expect_out '.targets[0].version_after' 8 "now at 8"
expect_q "SELECT string_agg(version || ':' || description, ',' ORDER BY installed_rank) FROM u.flyway_schema_history WHERE type = 'UNDO_SQL'" \
	"12:settings view,11:comments,10:project archive,9:touch trigger" "an UNDO_SQL row per undo, with the U script's description"
expect_q "SELECT to_regclass('u.comments') IS NULL AND NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'touch_updated_at' AND pronamespace = 'u'::regnamespace)" t \
	"their objects are gone"

partial=$(tenant_copy partial)
rm "$partial/U6__audit_table.sql"
eng undo u "$partial" --target 4
expect_rc 1 "undo is refused when a U script is missing"
[[ "$(jq_out '.targets[0].error.message')" == *"version 6"* ]] && ok "the error names the version without one" ||
	not_ok "the error names the version without one (got $(jq_out '.targets[0].error.message'))"
expect_q "SELECT to_regclass('u.project_tags') IS NOT NULL AND (SELECT count(*) FROM u.flyway_schema_history WHERE type = 'UNDO_SQL') = 4" t \
	"nothing was undone (V8's tables are still there)"

eng info u "$TENANT_SET"
expect_out '[.targets[0].migrations[] | select(.state == "undone") | .version] | join(",")' "9,10,11,12" \
	"info shows the undone versions"
eng migrate u "$TENANT_SET"
expect_rc 0 "migrate again after undo"
expect_out '[.targets[0].applied[].version] | join(",")' "9,10,11,12" "the undone versions are applied again"
eng validate u "$TENANT_SET"
expect_rc 0 "and the schema validates"

done_testing
