#!/usr/bin/env bash
# t1100-headers.sh — what every response carries through nginx: the security
# headers on each status, X-Request-ID (generated, echoed when sane, replaced
# when not), Cache-Control: no-store on the API, and TLS 1.2/1.3 only.
. "$(dirname "$0")/lib.sh"

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
host=${INFRA_URL#https://}
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

done_testing
