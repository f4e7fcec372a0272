#!/usr/bin/env bash
# t1100-headers.sh — what every response carries through nginx: the security
# headers on each status, X-Request-ID (generated, echoed when sane, replaced
# when not), Cache-Control: no-store on the API, TLS 1.2/1.3 only; the JSON
# error (and those headers) on requests nginx rejects before it has a URI;
# nginx's cap on connection tests in flight (503 SVC_001 past it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"

host=${INFRA_URL#https://}

api GET /health
expect_security_headers "200 (infrad)"
expect_header Strict-Transport-Security 'max-age=[0-9]+' "HSTS has a max-age"
expect_header X-Content-Type-Options '^nosniff$'
expect_header X-Frame-Options '^DENY$'
expect_header Content-Security-Policy "frame-ancestors 'none'"
expect_header Referrer-Policy '^no-referrer$'
check "no header is sent twice" bash -c "! grep -i -o '^[a-z-]*:' '$HEADERS' | tr A-Z a-z | sort | uniq -d | grep -q ."
check "nginx does not tell its version" bash -c "! grep -i '^server:' '$HEADERS' | grep -q '[0-9]'"

api GET /no/such/route
expect_status 404 "an unknown route is 404"
expect_security_headers "404 (infrad)"
expect_header Cache-Control 'no-store' "the API's 404 has Cache-Control: no-store"

api GET /admin/no-such-page
expect_status 404 "a missing admin page is 404"
expect_security_headers "404 (nginx)"

api POST /health
expect_status 405 "POST /health is 405"
expect_security_headers "405"

api GET /admin/
expect_status 200 "the admin page is served"
expect_security_headers "200 (static admin page)"

# X-Request-ID: nginx's own id when the client sends none.
api GET /health
expect_header X-Request-ID '^[0-9a-f]{32}$' "a generated X-Request-ID"
first=$(header X-Request-ID)
api GET /health
check "each request gets its own id" test "$(header X-Request-ID)" != "$first"

api GET /health -H 'X-Request-ID: client-id_1.2'
expect_header X-Request-ID '^client-id_1\.2$' "a sane X-Request-ID is echoed"
api GET /no/such/route -H 'X-Request-ID: client-id_1.2'
expect_json .request_id client-id_1.2 "the echoed id is the error body's request_id"
check "infrad logged the client's id" grep -q '"request_id":"client-id_1.2"' "$INFRA_LOG_DIR/infrad.log"

for bad in 'has space' 'semi;colon' "$(printf 'a%.0s' $(seq 65))" '"quote'; do
	api GET /health -H "X-Request-ID: $bad"
	expect_header X-Request-ID '^[0-9a-f]{32}$' "an insane X-Request-ID (${bad:0:12}…) is replaced"
done

# TLS versions: the server refuses 1.0 and 1.1 (the client is allowed to
# offer them with SECLEVEL=0, so the refusal is the server's), accepts 1.2/1.3.
tls() {
	openssl s_client -connect "$host" -CAfile "$INFRA_CA" -servername localhost \
		-cipher 'DEFAULT:@SECLEVEL=0' "$@" </dev/null >"$T_TMP/tls.out" 2>&1
}
for v in tls1 tls1_1; do
	if tls "-$v"; then
		not_ok "TLS ${v#tls} is refused (handshake succeeded)"
	else
		check "TLS ${v#tls} is refused by the server" grep -q -E 'alert protocol version|unsupported protocol|no protocols available|wrong version number' "$T_TMP/tls.out"
	fi
done
check "TLS 1.2 is accepted" tls -tls1_2 -verify_return_error
check "TLS 1.3 is accepted" tls -tls1_3 -verify_return_error
check "curl with --tls-max 1.1 fails" bash -c "! curl -sS -o /dev/null --cacert '$INFRA_CA' --tls-max 1.1 '$INFRA_URL/health' 2>/dev/null"
check "curl with --tlsv1.2 --tls-max 1.2 succeeds" curl -sS -o /dev/null --cacert "$INFRA_CA" --tlsv1.2 --tls-max 1.2 "$INFRA_URL/health"
check "the certificate is valid for localhost" curl -sS -o /dev/null --cacert "$INFRA_CA" \
	--resolve "localhost:${host##*:}:127.0.0.1" "https://localhost:${host##*:}/health"

# ------------------------------------ requests nginx rejects before a URI
# A bad request line or path escape is answered by nginx before it has a
# URI: the error_page must send it to a plain URI (a named location would
# give nginx's HTML 500), and the answer is the API's JSON error with every
# header.

# raw REQUEST: REQUEST sent over TLS exactly as it is (for what curl will
# not send); the response becomes the current one (STATUS, BODY, $HEADERS).
# Only for requests nginx answers with an error: it closes the connection.
raw() {
	printf '%s' "$1" | timeout 20 openssl s_client -quiet -connect "$host" -CAfile "$INFRA_CA" \
		-servername localhost 2>/dev/null >"$T_TMP/raw" || true
	sed -n '1,/^\r\{0,1\}$/p' "$T_TMP/raw" | tr -d '\r' >"$HEADERS"
	BODY=$(sed '1,/^\r\{0,1\}$/d' "$T_TMP/raw")
	STATUS=$(head -n 1 "$HEADERS" | cut -d' ' -f2)
}

# rejected WHAT STATUS CODE: the current response is nginx's JSON error
# with the security headers and Cache-Control: no-store.
rejected() {
	expect_error "$2" "$3" "$1: $2 $3"
	expect_security_headers "$1"
	expect_header Cache-Control '^no-store$' "$1: Cache-Control: no-store"
	expect_header Content-Type '^application/json' "$1: the body is JSON"
}

for path in '/databases/%zz' '/databases/%00' '/databases/%' '/databases/abc%' \
	'/admin/%2e%2e/%2e%2e/etc/passwd' '/%2e%2e/health'; do
	for proto in --http2 --http1.1; do
		api GET "$path" --path-as-is "$proto"
		rejected "GET $path ($proto)" 400 VAL_001
	done
done

raw $'get /health HTTP/1.1\r\nHost: localhost\r\n\r\n'
rejected "a lowercase method (HTTP/1.1)" 400 VAL_001
api GET /health -X get
rejected "a lowercase method (HTTP/2)" 400 VAL_001
raw $'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n'
rejected "OPTIONS * (HTTP/1.1)" 400 VAL_001
api OPTIONS '' --request-target '*'
rejected "OPTIONS * (HTTP/2)" 400 VAL_001
raw $'GET /health HTTP/9.9\r\nHost: localhost\r\n\r\n'
rejected "HTTP/9.9" 505 REQ_001
raw $'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: '"$(head -c 9000 /dev/zero | tr '\0' a)"$'\r\n\r\n'
rejected "a header over large_client_header_buffers (494)" 400 REQ_001
expect_json .message "request header too large" "494 says what it was"
raw "GET /$(head -c 9000 /dev/zero | tr '\0' a) HTTP/1.1"$'\r\nHost: localhost\r\n\r\n'
rejected "a request line over large_client_header_buffers" 414 REQ_001
STATUS=$(curl -sS -D "$HEADERS" -o "$T_TMP/body" -w '%{http_code}' "http://$host/health") || STATUS=000
BODY=$(cat "$T_TMP/body")
rejected "plain HTTP to the HTTPS port (497)" 400 REQ_001

api GET /_infra_errors/400
expect_error 404 RES_001 "the internal error location is not reachable from outside"
api GET /health
expect_status 200 "the service answers after the malformed requests"
check "nginx never fell back to a named location without a URI" \
	bash -c "! grep -q 'empty URI in redirect to named location' '$INFRA_LOG_DIR/nginx-error.log'"

# ------------------------------------------- connection tests in flight
# A target that accepts TCP and never answers holds a worker for
# PROBE_TIMEOUT per connection test: nginx lets at most $cap run at once
# (limit_conn, rendered from WORKERS) and answers the rest 503 SVC_001 with
# Retry-After; every other route, and any other method on these, is not
# counted. No timing is asserted: the tests in flight are known to hold
# their slots because the silent listener has accepted their connections.
registry_schema_or_skip
cap=$(sed -n 's/^[[:space:]]*limit_conn infra_conn_tests \([0-9][0-9]*\);.*/\1/p' "$INFRA_VAR/nginx/infra.conf")
check "the rendered nginx caps connection tests (cap ${cap:-none})" test -n "$cap"
cap=${cap:-2}

silent_pids=()
trap 'kill "${silent_pids[@]}" 2>/dev/null; rm -rf "$T_TMP"' EXIT
# silent NAME: a TCP listener on a free 127.0.0.1 port that accepts every
# connection and never answers; its port in $T_TMP/NAME.port, a line per
# accepted connection in $T_TMP/NAME.accepted.
silent() {
	: >"$T_TMP/$1.accepted"
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
			Listen => 128, ReuseAddr => 1) or die "listen: $!";
		open(my $p, ">", "$ARGV[0].tmp") or die; print $p $s->sockport, "\n"; close $p;
		rename("$ARGV[0].tmp", $ARGV[0]) or die;
		my @held;
		while (my $c = $s->accept) {
			push @held, $c;
			open(my $l, ">>", $ARGV[1]) or die; print $l "accepted\n"; close $l;
		}' "$T_TMP/$1.port" "$T_TMP/$1.accepted" &
	silent_pids+=($!)
	for _ in $(seq 1 100); do [ -s "$T_TMP/$1.port" ] && return 0; sleep 0.1; done
	return 1
}
check "a silent listener for the tests in flight" silent held
check "a silent listener for the registered database" silent registered
held_port=$(cat "$T_TMP/held.port" 2>/dev/null || echo 1)
reg_port=$(cat "$T_TMP/registered.port" 2>/dev/null || echo 1)

as "$MANAGE" POST '/databases?verify=false' \
	"$(db_body "t1100-silent-$$-$RANDOM" silent silent-pw "$reg_port" '.host = "127.0.0.1"')"
expect_status 201 "a database on the silent port registers with verify=false"
id=$(jq -r .id <<<"$BODY")

# $cap unsaved tests against the silent port, each in the background.
held_pids=()
for ((i = 1; i <= cap; i++)); do
	curl -sS --cacert "$INFRA_CA" -H "Authorization: Bearer $MANAGE" -H 'Content-Type: application/json' \
		--data-binary "$(db_body "held-$i" silent silent-pw "$held_port" '.host = "127.0.0.1"')" \
		-o "$T_TMP/held-$i.body" -w '%{http_code}' "$INFRA_URL/databases/test" >"$T_TMP/held-$i.status" 2>&1 &
	held_pids+=($!)
done
for _ in $(seq 1 300); do
	[ "$(wc -l <"$T_TMP/held.accepted")" -ge "$cap" ] && break
	sleep 0.1
done
check "$cap connection tests are in flight (the listener accepted them)" \
	test "$(wc -l <"$T_TMP/held.accepted")" -ge "$cap"

# Past the cap, both routes, whoever asks: 503 at once.
as "$READ" POST "/databases/$id/test"
rejected "POST /databases/{id}/test past the cap" 503 SVC_001
expect_header Retry-After '^[0-9]+$' "the 503 carries Retry-After"
expect_json .message "too many connection tests in progress" "the 503 says why"
as "$MANAGE" POST /databases/test "$(db_body extra silent silent-pw "$reg_port" '.host = "127.0.0.1"')"
rejected "POST /databases/test past the cap" 503 SVC_001
expect_header Retry-After '^[0-9]+$' "that 503 carries Retry-After too"
as "$READ" POST "/databases/$(tr a-f A-F <<<"$id")/test"
expect_error 503 SVC_001 "an upper-case id is the same route: 503"
as "$READ" POST "/databases/$id/%74est" --path-as-is
expect_error 503 SVC_001 "an escaped spelling of the route is counted too"
# HTTP/2: three streams on one connection are three tests.
codes=$(curl -sS --cacert "$INFRA_CA" --http2 --parallel --parallel-max 3 -X POST \
	-H "Authorization: Bearer $READ" -w '%{http_code} %{http_version}\n' \
	-o /dev/null -o /dev/null -o /dev/null \
	"$INFRA_URL/databases/$id/test" "$INFRA_URL/databases/$id/test" "$INFRA_URL/databases/$id/test" 2>/dev/null)
check "3 HTTP/2 streams past the cap all get 503 (got: $(tr '\n' ' ' <<<"$codes"))" \
	test "$(grep -c '^503 2$' <<<"$codes")" -eq 3

# Not counted: other routes, and other methods on these paths.
api GET /health
expect_status 200 "GET /health answers while the tests hold their slots"
as "$READ" GET "/databases/$id"
expect_status 200 "GET /databases/{id} is not limited"
as "$READ" GET /databases/test
expect_error 404 RES_001 "GET /databases/test reaches infrad (only POST counts)"
as "$READ" GET "/databases/$id/test"
expect_error 405 REQ_001 "GET /databases/{id}/test reaches infrad (405, not 503)"

# The tests within the cap get their normal answer.
for ((i = 1; i <= cap; i++)); do
	wait "${held_pids[$((i - 1))]}"
	STATUS=$(cat "$T_TMP/held-$i.status")
	BODY=$(cat "$T_TMP/held-$i.body" 2>/dev/null)
	expect_status 200 "connection test $i within the cap: 200"
	expect_json .ok false "connection test $i within the cap: ok false (the target never answered)"
done
# Slots free again: the registered database's own test runs.
as "$READ" POST "/databases/$id/test"
expect_status 200 "with the slots free, POST /databases/{id}/test runs"
expect_json .ok false "… and reports the silent target as failed"
check "… having connected to the registered database's port" \
	test "$(wc -l <"$T_TMP/registered.accepted")" -ge 1
as "$MANAGE" DELETE "/databases/$id"
expect_status 204 "the silent database is removed"

done_testing
