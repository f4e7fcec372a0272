# tests/integration/registry-lib.sh — what the registry's tests (t4*.sh)
# share, sourced after lib.sh: tokens, a managed database of their own on
# the stack's cluster, request bodies, restarting infrad with settings.

# The cluster of INFRA_TARGET_PGURL (postgresql://postgres:PW@HOST:PORT/…).
TARGET_HOST=$(sed -E 's|^[a-z]+://[^@]*@([^:/]+).*|\1|' <<<"$INFRA_TARGET_PGURL")
TARGET_PORT=$(sed -E 's|^[a-z]+://[^@]*@[^:/]+:([0-9]+).*|\1|' <<<"$INFRA_TARGET_PGURL")

MANAGE=$(token --sub reg-admin --perm databases:manage --perm databases:read)
READ=$(token --sub reg-reader --perm databases:read)

# The schema comes from infrad's own migration engine; without it there is
# nothing to test.
registry_schema_or_skip() {
	if [ "$(psql_control -c "SELECT to_regclass('infra.databases') IS NOT NULL")" != t ]; then
		skip "the control schema has no registry tables (migrations/admin not applied)"
		done_testing
	fi
}

# make_role NAME PASSWORD: a login role owning a database of the same name
# on the stack's cluster (dropped first if left by an earlier run).
make_role() {
	psql_target -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\"" -c "DROP ROLE IF EXISTS \"$1\"" \
		-c "CREATE ROLE \"$1\" LOGIN PASSWORD '$2'" -c "CREATE DATABASE \"$1\" OWNER \"$1\"" >/dev/null
}

# db_body NAME USER PASSWORD [PORT [jq assignments]]: a create body for the
# database USER on the stack's cluster.
db_body() {
	jq -cn --arg name "$1" --arg user "$2" --arg pw "$3" --arg host "$TARGET_HOST" \
		--argjson port "${4:-$TARGET_PORT}" \
		"{name: \$name, host: \$host, port: \$port, database_name: \$user, username: \$user,
		  password: \$pw, database_type: \"tenant\", sslmode: \"disable\"} ${5:+| $5}"
}

# as TOKEN METHOD PATH [BODY] [curl args…]: api with a bearer token.
as() {
	local tok=$1
	shift
	if [ $# -ge 3 ] && [[ "$3" != -* ]]; then
		api "$1" "$2" "$3" -H "Authorization: Bearer $tok" "${@:4}"
	else
		api "$1" "$2" -H "Authorization: Bearer $tok" "${@:3}"
	fi
}

# restart_infrad [NAME=VALUE…]: stop infrad and start it again through
# scripts/stack with these INFRA_* settings in its environment.
restart_infrad() {
	local pid
	pid=$(cat "$INFRA_PIDFILE" 2>/dev/null) || pid=''
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	env "$@" INFRA_VAR="$INFRA_VAR" "$INFRA_REPO/scripts/stack" up >"$T_TMP/restart.log" 2>&1 ||
		{ cat "$T_TMP/restart.log"; return 1; }
}

# wait_for SECONDS COMMAND…: retry COMMAND every 0.2 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}
