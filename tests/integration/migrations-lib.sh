# tests/integration/migrations-lib.sh — what the executions' tests (t5*.sh)
# share, sourced after lib.sh and registry-lib.sh: tokens, managed
# databases registered through the API, waiting for an execution, and
# looking into a target's schema.

MIG=$(token --sub mig-operator --perm migrations:execute --perm migrations:read \
	--perm migrations:manage --perm databases:manage --perm databases:read)
MIG_READ=$(token --sub mig-reader --perm migrations:read)
ADMIN=$(token --sub mig-admin --perm infrastructure:admin)
RUN=$(openssl rand -hex 3)

migrations_schema_or_skip() {
	if [ "$(psql_control -c "SELECT to_regclass('infra.executions') IS NOT NULL")" != t ]; then
		skip "the control schema has no executions tables (migrations/admin not applied)"
		done_testing
	fi
}

# register DB SCHEMA TYPE [REGION [TENANT]]: register database DB (a role
# and database made by make_role with password "pw-DB") with SCHEMA;
# prints its id.
register() {
	local body
	body=$(db_body "$1-$2-$RUN" "$1" "pw-$1" "" \
		".schema = \"$2\" | .database_type = \"$3\" | .region = $(json_or_null "${4:-}") | .tenant = $(json_or_null "${5:-}")")
	as "$MIG" POST '/databases?verify=false' "$body"
	[ "$STATUS" = 201 ] || { echo "# register $1/$2: $STATUS $BODY" >&2; return 1; }
	jq -r .id <<<"$BODY"
}

# json_or_null VALUE: VALUE as a JSON string, or null when empty.
json_or_null() {
	if [ -n "$1" ]; then jq -n --arg v "$1" '$v'; else echo null; fi
}

# new_db NAME: a fresh role and database NAME (password pw-NAME).
new_db() { make_role "$1" "pw-$1"; }

# execute TOKEN BODY [curl args…]: POST /migrations/execute; EXEC is the id.
execute() {
	local tok=$1 body=$2
	shift 2
	as "$tok" POST /migrations/execute "$body" "$@"
	EXEC=$(jq -r '.id // empty' <<<"$BODY" 2>/dev/null)
}

# status_is ID STATUS…: the execution's status is one of them.
status_is() {
	local id=$1 got
	shift
	got=$(psql_control -c "SELECT status FROM infra.executions WHERE id = '$id'")
	for s in "$@"; do [ "$got" = "$s" ] && return 0; done
	return 1
}

# wait_status SECONDS ID STATUS…
wait_status() {
	local secs=$1
	shift
	wait_for "$secs" status_is "$@"
}

# target_psql DB [psql args…]: on database DB of the stack's cluster.
target_psql() {
	local db=$1
	shift
	psql "$(sed -E "s|/[^/?]*(\\?.*)?\$|/$db\\1|" <<<"$INFRA_TARGET_PGURL")" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# tables DB SCHEMA: the schema's tables other than the history, sorted, one line.
tables() {
	target_psql "$1" -c "SELECT coalesce(string_agg(table_name, ',' ORDER BY table_name), '')
		FROM information_schema.tables WHERE table_schema = '$2'
		AND table_name <> 'flyway_schema_history'"
}

# versions DB SCHEMA: the successful SQL rows of the history, in order, one line.
versions() {
	target_psql "$1" -c "SELECT coalesce(string_agg(version, ',' ORDER BY installed_rank), '')
		FROM \"$2\".flyway_schema_history WHERE type = 'SQL' AND success"
}

# executions_count: rows in infra.executions.
executions_count() { psql_control -c "SELECT count(*) FROM infra.executions"; }

# hold_lock DB SQL: run SQL in a transaction on DB in the background and
# keep it open until release_lock (LOCKER is its pid).
hold_lock() {
	mkfifo "$T_TMP/lock.fifo" 2>/dev/null || true
	(
		printf 'BEGIN;\n%s\nSELECT 1;\n' "$2"
		cat "$T_TMP/lock.fifo"
	) | target_psql "$1" >/dev/null 2>&1 &
	LOCKER=$!
	exec 7>"$T_TMP/lock.fifo"
}

release_lock() {
	# In a subshell: should the locker be gone (a server restart), the
	# broken pipe ends the subshell, not the test.
	(echo 'COMMIT;' >&7) 2>/dev/null || true
	exec 7>&-
	# A process started meanwhile may have inherited the fifo (start
	# servers with 7>&-): do not wait for it forever.
	wait_for 10 bash -c "! kill -0 $LOCKER 2>/dev/null" || kill "$LOCKER" 2>/dev/null
	wait "$LOCKER" 2>/dev/null || true
}

# waiting_on_lock DB: a session of DB waits for a lock (the runner is blocked).
waiting_on_lock() {
	[ "$(target_psql "$1" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1'
		AND wait_event_type = 'Lock'")" -ge 1 ]
}

# lock_granted DB: a relation lock of another session is held in DB.
lock_granted() {
	[ "$(target_psql "$1" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.datname = '$1' AND l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
		AND l.granted AND a.pid <> pg_backend_pid()")" -ge 1 ]
}

# target_field ID DATABASE_ID SCHEMA JQ: a field of one target of an execution.
target_field() {
	as "$MIG" GET "/migrations/$1/targets"
	jq -r --arg d "$2" --arg s "$3" ".items[] | select(.database_id == \$d and .schema == \$s) | $4" <<<"$BODY"
}

# lease_pid ID DATABASE_ID SCHEMA: the pid of the runner holding the target.
lease_pid() {
	psql_control -c "SELECT split_part(lease_owner, ':', 2) FROM infra.execution_targets
		WHERE execution_id = '$1' AND database_id = '$2' AND schema_name = '$3'"
}

# each_once DB SCHEMA: no version appears twice among the history's SQL rows.
each_once() {
	[ "$(target_psql "$1" -c "SELECT count(*) FROM (SELECT version FROM \"$2\".flyway_schema_history
		WHERE type = 'SQL' GROUP BY version HAVING count(*) > 1) d")" = 0 ]
}
