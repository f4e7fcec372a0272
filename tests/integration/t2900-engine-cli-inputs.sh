#!/usr/bin/env bash
# t2900-engine-cli-inputs.sh — infractl's inputs that must be refused or
# kept secret: an option given twice (a second --locations replaced the
# first, running part of what was asked), --url with --targets-from, a
# password inside a dbname that is itself a connection string (libpq
# expands it; it was printed as the database's name), and a migration whose
# file name is not UTF-8 (refused before anything runs).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engine-lib.sh"

# --- each option once
run plan --url "$ENGINE_URL" --schemas a --locations "$TENANT_SET" --locations "$T_TMP"
expect_rc 2 "--locations twice is bad usage"
check "… saying so" grep -q -- "--locations is given twice" <<<"$ERR"
run plan --url "$ENGINE_URL" --url "$ENGINE_URL" --schemas a --locations "$TENANT_SET"
expect_rc 2 "--url twice is bad usage"
run plan --url "$ENGINE_URL" --schemas a --schemas b --locations "$TENANT_SET"
expect_rc 2 "--schemas twice is bad usage"
echo "$ENGINE_URL a" >"$T_TMP/targets"
run plan --url "$ENGINE_URL" --targets-from "$T_TMP/targets" --locations "$TENANT_SET"
expect_rc 2 "--url with --targets-from is bad usage"
check "… they are alternatives" grep -q "alternatives" <<<"$ERR"
run plan --url "$ENGINE_URL" --schemas a --locations "$TENANT_SET" --placeholder x=1 --placeholder y=2 --json
expect_rc 0 "--placeholder may be given more than once"

# --- a dbname that is a whole connection string: libpq would send it as a
# database's name (the server's "does not exist" repeating it, password and
# all), and infractl printed it as the target's name. Refused, unprinted.
pw=$(sed -E 's|^[a-z]+://[^:]*:([^@]*)@.*|\1|' <<<"$INFRA_TARGET_PGURL")
[ -n "$pw" ] && [ "$pw" != "$INFRA_TARGET_PGURL" ] || { not_ok "the stack's target URL has a password"; done_testing; }
kv=$(sed -E "s|^[a-z]+://([^:]*):([^@]*)@([^:/]+):([0-9]+)/([^?]*).*|host=\\3 port=\\4 dbname=\\5 user=\\1 password=\\2|" <<<"$ENGINE_URL")
for url in "dbname=$ENGINE_URL" "dbname='$kv'"; do
	run plan --url "$url" --schemas a --locations "$TENANT_SET" --json
	expect_rc 2 "a dbname that is a connection string is refused (${url:0:9}…)"
	check "… saying why" grep -q "dbname is itself a connection string" <<<"$ERR"
	check "… and prints the password nowhere" test "$(grep -c -F -- "$pw" <<<"$OUT$ERR")" = 0
done
echo "dbname=$ENGINE_URL a" >"$T_TMP/nested"
run plan --targets-from "$T_TMP/nested" --locations "$TENANT_SET"
expect_rc 2 "… in --targets-from too"
check "… printing the password nowhere" test "$(grep -c -F -- "$pw" <<<"$OUT$ERR")" = 0

# --- a file name that is not UTF-8
mkdir -p "$T_TMP/latin1"
printf 'CREATE TABLE t (x int);\n' >"$T_TMP/latin1/V1__caf"$'\xe9'".sql"
eng migrate latin1 "$T_TMP/latin1"
expect_rc 1 "a migration whose file name is not UTF-8 is refused"
check "… named with '?' for the stray byte" grep -q "the name of 'V1__caf?.sql' is not valid UTF-8" <<<"$ERR$OUT"
expect_q "SELECT count(*) FROM pg_namespace WHERE nspname = 'latin1'" 0 "… before anything ran"

done_testing
