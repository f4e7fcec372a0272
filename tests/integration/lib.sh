# tests/integration/lib.sh — what every integration test sources: HTTPS calls
# to the stack tests/run started ($INFRA_URL …, from its stack.env), assertions
# that print TAP lines ("ok N - …" / "not ok N - …"), and a few shortcuts.
set -u

: "${INFRA_URL:?run through tests/run, or export the variables of var/stack.env}"
INFRA_REPO=${INFRA_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
INFRA_BUILD=${INFRA_BUILD:-$INFRA_REPO/build}

T_COUNT=0
T_FAILED=0
T_TMP=$(mktemp -d)
trap 'rm -rf "$T_TMP"' EXIT
HEADERS=$T_TMP/headers	# the last api call's response headers
STATUS=''		# … its status code
BODY=''			# … its body

ok() { T_COUNT=$((T_COUNT + 1)); echo "ok $T_COUNT - $*"; }
not_ok() { T_COUNT=$((T_COUNT + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_COUNT - $*"; }
skip() { T_COUNT=$((T_COUNT + 1)); echo "ok $T_COUNT # skip $*"; }
diag() { printf '# %s\n' "$@"; }

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# Ends the test file: the plan line, and the exit status.
done_testing() {
	echo "1..$T_COUNT"
	if [ "$T_FAILED" -gt 0 ]; then
		echo "# $T_FAILED of $T_COUNT failed"
		exit 1
	fi
	exit 0
}

# api METHOD PATH [BODY] [extra curl args…]: one HTTPS request; sets STATUS,
# BODY and $HEADERS. A BODY is sent as application/json unless the extra
# arguments set another Content-Type.
api() {
	local method=$1 path=$2 args=() a json=1
	shift 2
	if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
		args+=(--data-binary "$1")
		shift
		for a in "$@"; do
			[[ "${a,,}" == content-type:* ]] && json=0
		done
		[ $json = 1 ] && args+=(-H 'Content-Type: application/json')
	fi
	case "$method" in
	HEAD) args+=(--head) ;;
	*) args+=(-X "$method") ;;
	esac
	STATUS=$(curl -sS --cacert "$INFRA_CA" -D "$HEADERS" -o "$T_TMP/body" \
		-w '%{http_code}' "${args[@]}" "$@" "$INFRA_URL$path") || STATUS=000
	BODY=$(cat "$T_TMP/body" 2>/dev/null || true)
}

# header NAME: the value of a header of the last response (empty if absent).
header() {
	grep -i "^$1:" "$HEADERS" 2>/dev/null | head -n 1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'
}

expect_status() {
	local want=$1 desc=${2:-status $1}
	if [ "$STATUS" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc (got $STATUS: ${BODY:0:200})"
	fi
}

# expect_json JQ_EXPR VALUE [DESC]: jq -r of the last body equals VALUE.
expect_json() {
	local got
	got=$(jq -r "$1" <<<"$BODY" 2>/dev/null) || got="(not JSON: ${BODY:0:100})"
	if [ "$got" = "$2" ]; then
		ok "${3:-$1 is $2}"
	else
		not_ok "${3:-$1 is $2} (got '$got')"
	fi
}

# expect_header NAME REGEX [DESC]
expect_header() {
	local got
	got=$(header "$1")
	if grep -i -q "^$1:" "$HEADERS" 2>/dev/null && [[ "$got" =~ $2 ]]; then
		ok "${3:-$1 matches $2}"
	else
		not_ok "${3:-$1 matches $2} (got '$got')"
	fi
}

# expect_error STATUS CODE [DESC]: the status, and the API's error shape:
# error_code, a message, details an object, request_id equal to X-Request-ID,
# a UTC timestamp ending in Z.
expect_error() {
	local desc=${3:-error $1 $2} rid problems=''
	rid=$(header X-Request-ID)
	[ "$STATUS" = "$1" ] || problems+=" status $STATUS;"
	jq -e --arg code "$2" --arg rid "$rid" '
		.error_code == $code and (.message | type == "string" and length > 0)
		and (.details | type == "object") and .request_id == $rid
		and (.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"))
	' <<<"$BODY" >/dev/null 2>&1 || problems+=" body ${BODY:0:200};"
	if [ -z "$problems" ]; then ok "$desc"; else not_ok "$desc (got$problems)"; fi
}

# The security headers every response carries, whatever its status.
expect_security_headers() {
	local what=$1 name missing=''
	for name in Strict-Transport-Security X-Content-Type-Options X-Frame-Options \
		Content-Security-Policy Referrer-Policy X-Request-ID; do
		grep -i -q "^$name:" "$HEADERS" || missing+=" $name"
	done
	if [ -z "$missing" ]; then
		ok "security headers on $what"
	else
		not_ok "security headers on $what (missing:$missing)"
	fi
}

# token [scripts/token args…]: a development JWT.
token() { "$INFRA_REPO/scripts/token" "$@"; }

# psql_control / psql_target [psql args…]: unaligned, tuples only.
psql_control() { psql "$INFRA_PGURL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
psql_target() { psql "$INFRA_TARGET_PGURL" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# statuses FROM_ADDR N PATH: N requests on one connection from a loopback
# source address; prints one status code per line. The last response is
# kept: last_response makes it the current one (STATUS, BODY, $HEADERS).
statuses() {
	local i
	: >"$T_TMP/last.headers"
	for ((i = 0; i < $2; i++)); do
		printf 'url = "%s%s"\noutput = "%s"\n' "$INFRA_URL" "$3" "$T_TMP/last.body"
	done | curl -sS --cacert "$INFRA_CA" --interface "$1" -D "$T_TMP/last.headers" \
		-w '%{http_code}\n' -K - | tee "$T_TMP/last.statuses" || true
}

last_response() {
	STATUS=$(tail -n 1 "$T_TMP/last.statuses")
	BODY=$(cat "$T_TMP/last.body")
	# -D appended every response's headers: keep the last block.
	awk '/^HTTP\// { block = "" } { block = block $0 "\n" } END { printf "%s", block }' \
		"$T_TMP/last.headers" >"$HEADERS"
}

# alive PID: running, and not a zombie waiting to be reaped.
alive() {
	local stat
	stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ "$stat" != Z* ]]
}

# infrad processes by role: master, worker, runner, schemas (their pids,
# one a line).
infrad_pids() {
	local master
	master=$(cat "$INFRA_PIDFILE" 2>/dev/null) || return 0
	if [ "$1" = master ]; then
		echo "$master"
	else
		pgrep -P "$master" -x "infrad: $1" || true
	fi
}
