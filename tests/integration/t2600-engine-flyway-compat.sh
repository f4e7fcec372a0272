#!/usr/bin/env bash
# t2600-engine-flyway-compat.sh — a schema Flyway migrated (its history
# table created with Flyway's own DDL, its rows as Flyway writes them) is
# taken over without re-baselining, and the table the engine creates is
# column for column the one Flyway creates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

# Flyway's createMetaDataTable.sql for PostgreSQL, verbatim.
flyway_table() {
	cat <<SQL
CREATE TABLE "$1"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "$1"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "$1"."flyway_schema_history" ("success");
SQL
}

# A schema "Flyway" migrated to V6: its objects, its table, its rows.
q -c "CREATE SCHEMA byflyway"
{
	echo "SET search_path TO byflyway;"
	for v in 1 2 3 4 5 6; do cat "$TENANT_SET"/V${v}__*.sql; done
	flyway_table byflyway
	for v in 1 2 3 4 5 6; do
		f=$(ls "$TENANT_SET"/V${v}__*.sql)
		name=${f##*/}
		desc=${name#V${v}__}
		desc=${desc%.sql}
		sum=$("$INFRACTL" checksum "$f" | cut -f1)
		echo "INSERT INTO byflyway.flyway_schema_history VALUES ($v, '$v', '${desc//_/ }', 'SQL', '$name', $sum, 'flyway', now() - interval '1 day', 12, true);"
	done
} | q -f - >/dev/null
expect_q "SELECT count(*) FROM byflyway.flyway_schema_history" 6 "a schema Flyway brought to V6"

eng info byflyway "$TENANT_SET"
expect_out '[.targets[0].migrations[] | select(.state == "success")] | length' 6 "info reads Flyway's rows: V1-V6 applied"
expect_out '.targets[0].version_after' 6 "at version 6"
eng migrate byflyway "$TENANT_SET"
expect_rc 0 "migrate takes it over, no baseline needed"
expect_out '[.targets[0].applied[].version] | join(",")' "7,8,9,10,11,12" "only V7-V12 applied"
expect_q "SELECT string_agg(installed_rank::text, ',' ORDER BY installed_rank) FROM byflyway.flyway_schema_history WHERE installed_by <> 'flyway'" \
	"7,8,9,10,11,12" "ranks continue after Flyway's"
eng validate byflyway "$TENANT_SET"
expect_rc 0 "the whole history validates"

# --- the engine's table is Flyway's
q -c "CREATE SCHEMA reference" -c "$(flyway_table reference)"
eng migrate mine "$(newset empty)"
expect_rc 0 "the engine creates its history table (an empty set)"
shape() {
	q -c "SELECT string_agg(column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable || ' ' || coalesce(column_default, '-'), '; ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '$1' AND table_name = 'flyway_schema_history'"
	q -c "SELECT string_agg(c.relname || ' ' || regexp_replace(pg_get_indexdef(i.indexrelid), '\"?$1\"?\\.', ''), '; ' ORDER BY c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = '\"$1\".flyway_schema_history'::regclass"
	q -c "SELECT string_agg(conname || ' ' || contype::text, '; ') FROM pg_constraint WHERE conrelid = '\"$1\".flyway_schema_history'::regclass"
}
mine=$(shape mine 2>&1)
if [ "$(wc -l <<<"$mine")" = 3 ] && [ "$mine" = "$(shape reference 2>&1)" ]; then
	ok "columns, types, defaults, key and index are Flyway's"
else
	not_ok "columns, types, defaults, key and index are Flyway's (engine: $mine / flyway: $(shape reference))"
fi

done_testing
