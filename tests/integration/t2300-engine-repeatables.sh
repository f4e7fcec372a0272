#!/usr/bin/env bash
# t2300-engine-repeatables.sh — repeatable migrations (R__) run after the
# versioned ones, in description order, again only when their file
# changes; versions older than the newest applied one wait for
# --out-of-order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

set=$(newset rep)
printf 'CREATE TABLE items (id int PRIMARY KEY, name text);\n' >"$set/V1__items.sql"
printf 'ALTER TABLE items ADD COLUMN price numeric;\n' >"$set/V2__price.sql"
printf 'CREATE OR REPLACE VIEW item_names AS SELECT name FROM items;\n' >"$set/R__b_names.sql"
printf 'CREATE OR REPLACE FUNCTION item_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM items $$;\n' \
	>"$set/R__a_count.sql"

eng migrate r "$set"
expect_rc 0 "migrate versioned and repeatable migrations"
expect_out '[.targets[0].applied[] | (.version // ("R:" + .description))] | join(",")' \
	"1,2,R:a count,R:b names" "versions first, then repeatables by description"
expect_q "SELECT string_agg(coalesce(version, 'null') || ':' || type, ',' ORDER BY installed_rank) FROM r.flyway_schema_history WHERE installed_rank > 0" \
	"1:SQL,2:SQL,null:SQL,null:SQL" "repeatables have a NULL version and type SQL"

eng migrate r "$set"
expect_out '.targets[0].applied | length' 0 "unchanged repeatables do not run again"

printf 'CREATE OR REPLACE VIEW item_names AS SELECT name, price FROM items;\n' >"$set/R__b_names.sql"
eng validate r "$set"
expect_rc 1 "validate reports a changed repeatable"
expect_out '.targets[0].problems[0].code' OUTDATED_REPEATABLE_MIGRATION "OUTDATED_REPEATABLE_MIGRATION"
eng plan r "$set"
expect_out '[.targets[0].pending[] | .description + ":" + .state] | join(",")' "b names:outdated" \
	"plan: the changed repeatable, as outdated"
eng migrate r "$set"
expect_rc 0 "migrate re-runs it"
expect_out '[.targets[0].applied[].description] | join(",")' "b names" "only the changed one"
expect_q "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'r' AND table_name = 'item_names'" 2 \
	"the view has its new column"
eng info r "$set"
expect_out '[.targets[0].migrations[] | select(.description == "b names") | .state] | join(",")' "superseded,success" \
	"info: the older run is superseded"
eng validate r "$set"
expect_rc 0 "validate passes"

# --- out of order
ooo=$(newset ooo)
printf 'CREATE TABLE a (x int);\n' >"$ooo/V1__a.sql"
printf 'CREATE TABLE c (x int);\n' >"$ooo/V3__c.sql"
eng migrate o "$ooo"
expect_rc 0 "migrate V1 and V3"
printf 'CREATE TABLE b (x int);\n' >"$ooo/V2__b.sql"
eng migrate o "$ooo"
expect_rc 1 "a version older than the newest applied one is refused"
expect_out '.targets[0].problems[0].code + ":" + .targets[0].problems[0].version' \
	"RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED:2" "as Flyway does: RESOLVED_VERSIONED_MIGRATION_NOT_APPLIED"
eng info o "$ooo"
expect_out '[.targets[0].migrations[] | select(.version == "2") | .state] | join(",")' ignored "info: it is ignored"
eng migrate o "$ooo" --out-of-order
expect_rc 0 "--out-of-order applies it"
expect_out '[.targets[0].applied[].version] | join(",")' 2 "V2 applied"
eng info o "$ooo"
expect_out '[.targets[0].migrations[] | select(.version == "2") | .state] | join(",")' out_of_order "info: out_of_order"
expect_out '.targets[0].version_after' 3 "the current version stays 3"

done_testing
