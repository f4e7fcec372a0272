# tests/integration/engine-lib.sh — what the migration engine's tests
# (t2*.sh) share, sourced after lib.sh: a database of their own on the
# stack's cluster (dropped at exit), migration folders, and infractl runs
# whose output, JSON and exit status are kept for assertions.

# A database named after the test and this process, so runs never collide.
ENGINE_DB=eng_$(basename "$0" .sh | tr -c 'a-z0-9\n' '_')_$$
ENGINE_DB=${ENGINE_DB//-/_}
# INFRA_TARGET_PGURL with its database replaced (postgresql://…/postgres).
engine_url() { sed -E "s|/[^/?]*(\\?.*)?\$|/$1\\1|" <<<"$INFRA_TARGET_PGURL"; }
ENGINE_URL=$(engine_url "$ENGINE_DB")
INFRACTL=$INFRA_BUILD/infractl
TENANT_SET=$INFRA_REPO/migrations/tenant
OUT=''	# stdout of the last run
ERR=''	# its stderr
RC=''	# its exit status

engine_cleanup() {
	psql_target -c "DROP DATABASE IF EXISTS \"$ENGINE_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$T_TMP"
}
trap engine_cleanup EXIT

psql_target -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$ENGINE_DB\" WITH (FORCE)" -c "CREATE DATABASE \"$ENGINE_DB\"" >/dev/null ||
	{ not_ok "create database $ENGINE_DB"; done_testing; }

# q SQL...: unaligned, tuples only, on the test's database.
q() { psql "$ENGINE_URL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# run ARGS...: infractl ARGS; sets OUT, ERR and RC.
run() {
	OUT=$("$INFRACTL" "$@" 2>"$T_TMP/stderr")
	RC=$?
	ERR=$(cat "$T_TMP/stderr")
}

# eng COMMAND SCHEMAS DIR [ARGS...]: an engine command on the test's
# database with --json; sets OUT (the JSON), ERR and RC.
eng() {
	local cmd=$1 schemas=$2 dir=$3
	shift 3
	run "$cmd" --url "$ENGINE_URL" --schemas "$schemas" --locations "$dir" --json "$@"
}

# jq_out EXPR: jq -r over the last OUT.
jq_out() { jq -r "$1" <<<"$OUT" 2>/dev/null; }

# expect_rc CODE DESC: the last run exited with CODE.
expect_rc() {
	if [ "$RC" = "$1" ]; then
		ok "$2"
	else
		not_ok "$2 (exit $RC; ${ERR:0:300}; ${OUT:0:300})"
	fi
}

# expect_out EXPR VALUE DESC: jq -r EXPR over the last OUT is VALUE.
expect_out() {
	local got
	got=$(jq_out "$1")
	if [ "$got" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$got')"; fi
}

# expect_q SQL VALUE DESC: the query's answer is VALUE.
expect_q() {
	local got
	got=$(q -c "$1" 2>&1)
	if [ "$got" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$got')"; fi
}

# newset NAME: an empty migration folder; prints its path.
newset() { mkdir -p "$T_TMP/$1" && echo "$T_TMP/$1"; }

# tenant_copy NAME [LAST]: a copy of the tenant set's V files up to V<LAST>
# (default all) with their U files; prints its path.
tenant_copy() {
	local dir f v
	dir=$(newset "$1")
	for f in "$TENANT_SET"/[VU]*.sql; do
		v=${f##*/}
		v=${v:1}
		v=${v%%__*}
		[ -n "${2:-}" ] && [ "$v" -gt "$2" ] && continue
		cp "$f" "$dir/"
	done
	echo "$dir"
}
