# tests/integration/tenants-lib.sh — what the tenants', events', schedules'
# and alerts' tests (t6*.sh) share, sourced after lib.sh, registry-lib.sh and
# migrations-lib.sh: tokens, tenants created through the API, waiting for
# their migration, a local webhook receiver, a second infrad.

TEN=$(token --sub ten-operator --perm tenants:manage --perm tenants:read \
	--perm migrations:execute --perm migrations:read --perm migrations:manage \
	--perm databases:manage --perm databases:read)
TEN_READ=$(token --sub ten-reader --perm tenants:read)
TENANT_SET_VERSIONS=$(cd "$INFRA_REPO/migrations/tenant" && ls V*__*.sql |
	sed -E 's/^V([0-9_.]+)__.*/\1/; s/_/./g' | sort -n | paste -sd, -)

tenants_schema_or_skip() {
	if [ "$(psql_control -c "SELECT to_regclass('infra.tenants') IS NOT NULL")" != t ]; then
		skip "the control schema has no tenants table (migrations/admin not applied)"
		done_testing
	fi
}

# tenant_body SLUG DATABASE_ID [jq assignments]: a POST /tenants body.
tenant_body() {
	jq -cn --arg slug "$1" --arg db "$2" "{slug: \$slug, name: (\$slug | ascii_upcase), database_id: \$db} ${3:+| $3}"
}

# create_tenant TOKEN SLUG DATABASE_ID [jq assignments]: POST /tenants;
# TENANT is the new tenant's id, TEXEC its migration_execution_id.
create_tenant() {
	as "$1" POST /tenants "$(tenant_body "$2" "$3" "${4:-}")"
	TENANT=$(jq -r '.id // empty' <<<"$BODY" 2>/dev/null)
	TEXEC=$(jq -r '.migration_execution_id // empty' <<<"$BODY" 2>/dev/null)
}

# tenant_field ID COLUMN: a column of infra.tenants.
tenant_field() { psql_control -c "SELECT $2 FROM infra.tenants WHERE id = '$1'"; }

# tenant_status_is ID STATUS: the tenant's status (for wait_for).
tenant_status_is() { [ "$(tenant_field "$1" status)" = "$2" ]; }

# migrated DB SCHEMA: the schema has the whole tenant set, in order.
migrated() { [ "$(versions "$1" "$2")" = "$TENANT_SET_VERSIONS" ]; }

# webhook_start NAME [FAIL_FIRST]: a receiver (webhook-receiver.pl) whose
# lines go to $T_TMP/NAME.out; HOOK_URL is its URL, HOOK_OUT its file.
webhook_start() {
	perl "$INFRA_REPO/tests/integration/webhook-receiver.pl" "$T_TMP/$1.port" "$T_TMP/$1.out" \
		"${2:-0}" 2>>"$T_TMP/$1.err" &
	HOOK_PIDS+=("$!")
	wait_for 10 test -s "$T_TMP/$1.port" || return 1
	HOOK_URL="http://127.0.0.1:$(cat "$T_TMP/$1.port")/hooks/$1"
	HOOK_OUT=$T_TMP/$1.out
	touch "$HOOK_OUT"
}
HOOK_PIDS=()

# hook_lines FILE STATUS KIND: the bodies FILE received with STATUS for
# alerts of KIND, one a line.
hook_lines() {
	awk -F'\t' -v s="$2" 'index($1, s " ") == 1 { print $2 }' "$1" |
		jq -c --arg k "$3" 'select(.kind == $k)'
}

hook_count() { hook_lines "$@" | wc -l; }

# free_port: a loopback port nobody listens on (for a webhook that is down).
free_port() {
	perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		LocalPort => 0, Listen => 1) or die; print $s->sockport, "\n"'
}

# second_infrad_start NAME [NAME=VALUE…]: another infrad with its own socket
# and pid file against the same control database (the settings passed win);
# SECOND_PIDFILE names its master's pid file.
second_infrad_start() {
	local name=$1 conf=$T_TMP/$1.conf
	shift
	SECOND_PIDFILE=$T_TMP/$name.pid
	sed -e "s|^LISTEN = .*|LISTEN = $T_TMP/$name.sock|" \
		-e "s|^PID_FILE = .*|PID_FILE = $SECOND_PIDFILE|" "$INFRA_CONFIG" >"$conf"
	env "$@" INFRA_HOST_NAME="$name" setsid "$INFRA_BUILD/infrad" -c "$conf" </dev/null \
		>>"$T_TMP/$name.log" 2>&1 &
	wait_for 30 test -S "$T_TMP/$name.sock" -a -s "$SECOND_PIDFILE"
}

second_infrad_stop() {
	local pid
	pid=$(cat "$SECOND_PIDFILE" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}

# t6_cleanup: stop what the test started (receivers, a second infrad).
t6_cleanup() {
	local p
	for p in "${HOOK_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "${SECOND_PIDFILE:-}" ] && second_infrad_stop
	return 0
}
