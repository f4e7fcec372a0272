#!/usr/bin/env bash
# t4100-databases-list.sh — GET /databases: keyset pagination that stays
# correct while rows are inserted (no row twice, none of the existing ones
# skipped, `total` counted), the filters (region, database_type, active,
# q with LIKE's metacharacters taken literally) and their validation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
registry_schema_or_skip

run=$(openssl rand -hex 3)
# Registered without a connection test (verify=false): the list is the subject.
register() {
	as "$MANAGE" POST '/databases?verify=false' \
		"$(db_body "$1" nobody x 1 ".region = \"$2\" | .database_type = \"$3\"")"
	[ "$STATUS" = 201 ] || echo "register $1: $STATUS $BODY" >&2
	jq -r .id <<<"$BODY"
}

for i in $(seq -w 1 30); do
	register "page-$run-$i" "eu-$run" shared >>"$T_TMP/existing"
done
check "30 databases registered" test "$(grep -c . "$T_TMP/existing")" = 30

# Page through region eu-$run, 7 at a time, while another client registers
# 15 more in the same region.
(
	# Its own response files: api() writes to $T_TMP.
	T_TMP=$T_TMP/inserter
	HEADERS=$T_TMP/headers
	mkdir -p "$T_TMP"
	for i in $(seq -w 1 15); do
		register "late-$run-$i" "eu-$run" shared >/dev/null
	done
) &
inserter=$!
cursor=''
pages=0
while :; do
	as "$READ" GET "/databases?region=eu-$run&limit=7${cursor:+&cursor=$cursor}"
	[ "$STATUS" = 200 ] || { not_ok "a page failed: $STATUS $BODY"; break; }
	jq -r '.items[].id' <<<"$BODY" >>"$T_TMP/seen"
	jq -r .total <<<"$BODY" >>"$T_TMP/totals"
	pages=$((pages + 1))
	cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
	[ -n "$cursor" ] && [ $pages -lt 50 ] || break
	sleep 0.05
done
wait "$inserter"
check "no database appears twice across pages" test -z "$(sort "$T_TMP/seen" | uniq -d)"
check "every database that existed before paging was seen" \
	test -z "$(comm -23 <(sort "$T_TMP/existing") <(sort "$T_TMP/seen"))"
check "the last page has no next_cursor (after $pages pages)" test -z "$cursor"
check "total counts at least the 30 that existed" test "$(sort -n "$T_TMP/totals" | head -n 1)" -ge 30

as "$READ" GET "/databases?region=eu-$run&limit=100"
expect_json .total 45 "all 45 once the inserts are done"
expect_json '.items | length' 45
expect_json '[.items[].created_at] == ([.items[].created_at] | sort)' true "in creation order"
expect_json 'all(.items[]; has("password") | not)' true "no item carries a password"

# ------------------------------------------------------------- filters
register "type-$run" "us-$run" analytics >/dev/null
register "under_score-$run" "us-$run" shared >/dev/null
register "pct%ent-$run" "us-$run" shared >/dev/null 2>&1	# '%' is not a valid name
as "$READ" GET "/databases?region=us-$run&database_type=analytics"
expect_json '[.total, .items[0].name] | join(" ")' "1 type-$run" "database_type filters"
as "$READ" GET "/databases?region=us-$run&q=_"
expect_json '[.total, .items[0].name] | join(" ")' "1 under_score-$run" "q treats _ literally"
as "$READ" GET "/databases?region=us-$run&q=TYPE"
expect_json .total 1 "q matches the name in any case"
as "$READ" GET "/databases?region=us-$run&q=%25"
expect_json .total 0 "q treats % literally"

# ---------------------------------------------------------- validation
as "$READ" GET "/databases?limit=0"
expect_error 422 VAL_001 "limit=0 is 422"
expect_json '.details.fields.limit | type' string "naming limit"
as "$READ" GET "/databases?limit=101"
expect_error 422 VAL_001 "limit=101 is 422"
as "$READ" GET "/databases?cursor=bm90LWEtY3Vyc29y"
expect_error 422 VAL_001 "a cursor we did not make is 422"
expect_json '.details.fields.cursor | type' string "naming cursor"
as "$READ" GET "/databases?database_type=oltp&active=maybe&region=EU"
expect_error 422 VAL_001 "bad filters are 422"
expect_json '.details.fields | keys | join(",")' active,database_type,region "each bad filter named"

done_testing
