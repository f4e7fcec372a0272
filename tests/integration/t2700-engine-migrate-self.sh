#!/usr/bin/env bash
# t2700-engine-migrate-self.sh — infractl migrate-self applies
# migrations/admin to schema "infra" of DATABASE_URL (here a database of
# the test's own), as infrad does at start, and a second run changes
# nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

n=$(ls "$INFRA_REPO"/migrations/admin/V*.sql 2>/dev/null | wc -l)
OUT=$(INFRA_DATABASE_URL=$ENGINE_URL INFRA_MIGRATIONS_ROOT=$INFRA_REPO/migrations "$INFRACTL" migrate-self 2>&1)
RC=$?
expect_rc 0 "migrate-self"
expect_q "SELECT count(*) FROM infra.flyway_schema_history WHERE type = 'SQL' AND success" "$n" \
	"every admin migration recorded in infra.flyway_schema_history ($n)"
grep -q '"control schema migration applied"' <<<"$OUT" && ok "each applied migration is logged" ||
	not_ok "each applied migration is logged ($OUT)"
pw=$(sed -E 's|^[a-z]+://[^:]*:([^@]*)@.*|\1|' <<<"$INFRA_TARGET_PGURL")
grep -qF -- "$pw" <<<"$OUT" && not_ok "no password in its log" || ok "no password in its log"
OUT=$(INFRA_DATABASE_URL=$ENGINE_URL INFRA_MIGRATIONS_ROOT=$INFRA_REPO/migrations "$INFRACTL" migrate-self 2>&1)
RC=$?
expect_rc 0 "a second run"
grep -q '"control schema migration applied"' <<<"$OUT" && not_ok "applies nothing ($OUT)" || ok "applies nothing"
OUT=$(INFRA_DATABASE_URL=$ENGINE_URL INFRA_MIGRATIONS_ROOT=$T_TMP/nowhere "$INFRACTL" migrate-self 2>&1)
RC=$?
expect_rc 1 "a missing migrations folder fails"
grep -q "nowhere/admin" <<<"$OUT" && ok "naming the folder" || not_ok "naming the folder ($OUT)"

done_testing
